"""The ops of issue 17 through post-training int8 quantization: every head of
tests/test_new_ops_float.py compiles to int8, its integer graph keeps its float
interface, and its dequantized outputs follow the float reference closely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.reference import run_graph
from tests.test_new_ops_float import HEADS, _conv, _model

CALIB = 24


def _sqnr(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((ref.astype(np.float64) - got) ** 2))
    return 99.0 if noise == 0 else 10 * np.log10(float(np.sum(ref.astype(np.float64) ** 2))
                                                 / noise)


def compile_int8(model: onnx.ModelProto, tmp: Path, granularity: str = "per-channel"):
    path = tmp / "m.onnx"
    onnx.save(model, path)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(7).standard_normal((CALIB, *shape[1:])).astype(np.float32)
    compiled = compile_model(path, tmp / granularity, CompileOptions(
        calib=x, weight_quant=granularity))
    return compiled, x


@pytest.mark.parametrize("head", sorted(HEADS))
def test_heads_quantize(tmp_path: Path, head: str) -> None:
    conv, inits = _conv("x", "c", 3, 6, 1)
    nodes, extra = HEADS[head]
    outputs = ["y", "idx"] if head == "argmax_channels" else ["y"]
    model = _model([conv, *nodes], {"x": [1, 3, 7, 6]}, outputs, {**inits, **extra})
    compiled, x = compile_int8(model, tmp_path)
    float_graph = compile_model(tmp_path / "m.onnx", tmp_path / "float",
                                CompileOptions(quantize="none")).graph
    name = compiled.graph.inputs[0]
    for i in range(4):
        ref = run_graph(float_graph, {name: x[i:i + 1]})
        got = run_graph(compiled.graph, {name: x[i:i + 1]})
        assert got["y"].dtype == np.float32
        assert _sqnr(ref["y"], got["y"]) > 25, head
        if head == "argmax_channels":
            assert got["idx"].dtype == np.int64
            # argmax of int8 values: the float winner's or a near-tie
            agree = np.mean(got["idx"] == ref["idx"])
            assert agree > 0.8


def test_cubic_resize_is_refused_for_int8(tmp_path: Path) -> None:
    from onnx import helper

    conv, inits = _conv("x", "c", 3, 6, 1)
    node = helper.make_node("Resize", ["c", "", "sc"], ["y"], mode="cubic")
    model = _model([conv, node], {"x": [1, 3, 7, 6]}, ["y"],
                   {**inits, "sc": np.array([1, 1, 2, 2], np.float32)})
    with pytest.raises(EffcError, match=r"\(Resize, cubic\): cubic interpolation has no int8"):
        compile_int8(model, tmp_path)
