"""The exported ``OUTDIR/model.onnx`` of an int8 build is a QDQ model that onnxruntime runs.

Its top-1 on the digits test split agrees with effc's integer reference; with
onnxruntime's graph optimizations off (plain ONNX QDQ semantics, float math between
Q and DQ) every output is within 1 LSB of effc's, which pins the exported scales,
zero points, clamps and layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from effc.cli import main
from effc.compiler import CompiledModel
from effc.quant.int8 import quantize
from tests.conftest import EXAMPLES

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"
DIGITS_DATA = EXAMPLES / "digits" / "digits_data.npz"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> CompiledModel:
    out = tmp_path_factory.mktemp("qdq") / "digits_int8"
    assert main(["compile", str(DIGITS), "-o", str(out), "--calib",
                 f"{DIGITS_DATA}:x_calib"]) == 0
    return CompiledModel.open(out)


@pytest.fixture(scope="module")
def x_test() -> np.ndarray:
    return np.load(DIGITS_DATA)["x_test"]


@pytest.fixture(scope="module")
def effc_outputs(build: CompiledModel, x_test: np.ndarray) -> np.ndarray:
    return build.run("reference", x_test).outputs


def _onnxruntime(path: Path, x: np.ndarray, level: ort.GraphOptimizationLevel) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.log_severity_level = 3  # onnxruntime warns about shape merging in QDQ graphs
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def _output_lsb(build: CompiledModel, y: np.ndarray) -> np.ndarray:
    """The int8 value behind a float output (it is the DequantizeLinear of the int8 logits)."""
    graph = build.graph
    last = graph.nodes[-1]
    assert last.op_type == "DequantizeLinear" and last.outputs[0] == graph.outputs[0]
    quant = graph.tensors[last.inputs[0]].quant
    return quantize(y, float(quant.scale), int(quant.zero_point)).astype(np.int64)


def test_exported_model_is_qdq_onnx(build: CompiledModel) -> None:
    model = onnx.load(build.folder / "model.onnx")
    onnx.checker.check_model(model)
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "MaxPool"} <= ops
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == ["logits"]


def test_onnxruntime_top1_agrees_with_effc(build: CompiledModel, x_test: np.ndarray,
                                           effc_outputs: np.ndarray) -> None:
    ours = effc_outputs
    theirs = _onnxruntime(build.folder / "model.onnx", x_test,
                          ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    assert theirs.shape == ours.shape == (len(x_test), 10)
    agreement = float(np.mean(np.argmax(theirs, 1) == np.argmax(ours, 1)))
    max_lsb = int(np.max(np.abs(_output_lsb(build, theirs) - _output_lsb(build, ours))))
    print(f"onnxruntime (default optimizations) vs effc: top-1 agreement {100 * agreement:.2f}%, "
          f"max output difference {max_lsb} LSB")
    assert agreement >= 0.99


def test_plain_qdq_semantics_within_one_lsb(build: CompiledModel, x_test: np.ndarray,
                                            effc_outputs: np.ndarray) -> None:
    theirs = _onnxruntime(build.folder / "model.onnx", x_test,
                          ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    diff = np.abs(_output_lsb(build, theirs) - _output_lsb(build, effc_outputs))
    agreement = float(np.mean(np.argmax(theirs, 1) == np.argmax(effc_outputs, 1)))
    print(f"onnxruntime (no optimizations) vs effc: top-1 agreement {100 * agreement:.2f}%, "
          f"max output difference {int(diff.max())} LSB, {int(np.count_nonzero(diff))} of "
          f"{diff.size} values differ")
    assert diff.max() <= 1
    assert agreement >= 0.99
