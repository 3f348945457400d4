"""Tiny hand-built ONNX models and one check that runs them through every engine.

``check_engines`` compiles a float model (float, and int8 with per-tensor and
per-channel weights), compares the float reference with onnxruntime and the
int8 reference with the generated C on the host (and under QEMU when asked):
the integer engines must agree bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.frontend.importer import load
from effc.reference import run_samples

#: float reference vs onnxruntime: both compute in float (effc in float64), so
#: they differ by float32 rounding of the sums only.
FLOAT_RTOL, FLOAT_ATOL = 1e-5, 1e-5


def tensor(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def weights(seed: int, *shape: int, scale: float = 0.5) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, shape).astype(np.float32)


def make_model(path: Path, nodes: list[onnx.NodeProto], inputs: dict[str, list[int]],
               outputs: dict[str, list[int | None] | None],
               initializers: list[onnx.TensorProto] = (), opset: int = 13) -> Path:
    graph = helper.make_graph(
        nodes, "small",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
        list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)  # fills output shapes
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def onnxruntime_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options)
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def check_float(path: Path, x: np.ndarray) -> np.ndarray:
    """The float reference against onnxruntime; returns the reference's outputs."""
    ours = run_samples(load(path), x)
    theirs = onnxruntime_outputs(path, x)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=FLOAT_RTOL, atol=FLOAT_ATOL)
    return ours


def check_int8(path: Path, out: Path, x: np.ndarray, engines: tuple[str, ...] = ("host",),
               weight_quant: str = "per-channel") -> CompiledModel:
    """Calibrate on ``x``, compile for the default board; every engine equals the reference."""
    compiled = compile_model(path, out, CompileOptions(calib=x, weight_quant=weight_quant,
                                                       board="mps2-an386"))
    ref = compiled.run("reference", x).outputs
    for engine in engines:
        got = compiled.run(engine, x).outputs
        assert got.shape == ref.shape, (engine, got.shape, ref.shape)
        differing = int(np.count_nonzero(got != ref))
        assert differing == 0, f"{engine}: {differing} of {ref.size} values differ"
    return compiled


def check_engines(path: Path, tmp: Path, x: np.ndarray, engines: tuple[str, ...] = ("host",)
                  ) -> None:
    """Float against onnxruntime; int8 (both weight granularities) on ``engines``."""
    check_float(path, x)
    for granularity in ("per-tensor", "per-channel"):
        check_int8(path, tmp / granularity, x, engines, granularity)
