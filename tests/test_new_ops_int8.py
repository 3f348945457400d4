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


def _keyword_model(op: str, lbr: int = 0, direction: str = "forward") -> onnx.ModelProto:
    """A keyword-spotting shape: features [1, T, F] -> recurrent layer -> last step ->
    a dense classifier."""
    from onnx import helper

    rng = np.random.default_rng(11)
    t, f, h = 12, 10, 8
    gates = {"LSTM": 4, "GRU": 3}[op]
    dirs = 2 if direction == "bidirectional" else 1
    inits = {"W": (rng.standard_normal((dirs, gates * h, f)) * 0.4).astype(np.float32),
             "R": (rng.standard_normal((dirs, gates * h, h)) * 0.4).astype(np.float32),
             "B": (rng.standard_normal((dirs, 2 * gates * h)) * 0.2).astype(np.float32),
             "fc": (rng.standard_normal((dirs * h, 5)) * 0.5).astype(np.float32),
             "shape": np.array([1, dirs * h], np.int64)}
    attrs = {"hidden_size": h, "layout": 1, "direction": direction}
    if op == "GRU":
        attrs["linear_before_reset"] = lbr
    nodes = [helper.make_node(op, ["x", "W", "R", "B"], ["y", "yh"], **attrs),
             helper.make_node("Reshape", ["yh", "shape"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["logits"])]
    return _model(nodes, {"x": [1, t, f]}, ["logits"], inits, opset=22)


@pytest.mark.parametrize(("op", "lbr", "direction"), [
    ("LSTM", 0, "forward"), ("LSTM", 0, "bidirectional"), ("GRU", 0, "forward"),
    ("GRU", 1, "forward"), ("GRU", 1, "reverse")])
def test_recurrent_quantize(tmp_path: Path, op: str, lbr: int, direction: str) -> None:
    compiled, x = compile_int8(_keyword_model(op, lbr, direction), tmp_path)
    float_graph = compile_model(tmp_path / "m.onnx", tmp_path / "float",
                                CompileOptions(quantize="none")).graph
    name = compiled.graph.inputs[0]
    ref = np.concatenate([run_graph(float_graph, {name: x[i:i + 1]})["logits"]
                          for i in range(8)])
    got = np.concatenate([run_graph(compiled.graph, {name: x[i:i + 1]})["logits"]
                          for i in range(8)])
    assert _sqnr(ref, got) > 20, _sqnr(ref, got)
    assert any(n.op_type == op and op.lower() in n.attrs for n in compiled.graph.nodes)
    # the QDQ export (float recurrent layers on the dequantized weights, biases and
    # initial states) follows the integer reference
    import onnxruntime as ort

    session = ort.InferenceSession(str(compiled.folder / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    exported = np.concatenate([session.run(None, {session.get_inputs()[0].name:
                                                  x[i:i + 1]})[0] for i in range(8)])
    assert _sqnr(got, exported) > 30, _sqnr(got, exported)
    print(f"{op} {direction} linear_before_reset={lbr}: SQNR {_sqnr(ref, got):.1f} dB")


def test_table_outside_the_function_domain_holds_the_quantized_zero() -> None:
    """Sqrt / Log of negative int8 inputs (NaN in float) map to the output's zero point;
    -inf (Log 0) clamps to -128."""
    from effc.quant import int8 as q8

    table = q8.build_lut_int8(np.sqrt, 0.1, 0, 0.05, -20).astype(np.int64)
    assert np.all(table[:128] == -20)  # q = -128 .. -1: negative inputs
    assert table[128] == -20 and np.all(np.diff(table[128:]) >= 0) and table[-1] == 51
    log = q8.build_lut_int8(np.log, 0.1, 0, 0.05, 0).astype(np.int64)
    assert log[128] == -128 and np.all(log[:128] == 0)
