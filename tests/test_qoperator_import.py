"""QLinearConv / QLinearMatMul (onnxruntime QOperator format) and ConvInteger /
MatMulInteger import as the QDQ pattern with exactly the given parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

from effc.compiler import CompileOptions, compile_model
from effc.frontend.importer import load
from effc.reference import run_samples


def _float_convnet(path: Path) -> None:
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 0.4, (8, 1, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.normal(0, 0.1, 8).astype(np.float32), "b1"),
             numpy_helper.from_array(rng.normal(0, 0.2, (8, 8, 3, 3)).astype(np.float32), "w2"),
             numpy_helper.from_array(rng.normal(0, 0.1, (8 * 8 * 8, 5)).astype(np.float32), "w3"),
             numpy_helper.from_array(np.array([1, -1], np.int64), "shape")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("Reshape", ["r2", "shape"], ["f"]),
             helper.make_node("MatMul", ["f", "w3"], ["y"])]
    graph = helper.make_graph(nodes, "convnet",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


class _Reader(CalibrationDataReader):
    def __init__(self, x: np.ndarray) -> None:
        self.items = iter([{"x": x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


@pytest.mark.parametrize("fmt,expected_ops,max_lsb", [
    (QuantFormat.QOperator, {"QLinearConv", "QLinearMatMul"}, 4),
    (QuantFormat.QDQ, {"QuantizeLinear", "DequantizeLinear", "Conv", "MatMul"}, 1),
])
def test_onnxruntime_quantized_model_imports_and_agrees(tmp_path: Path, fmt: QuantFormat,
                                                         expected_ops: set[str],
                                                         max_lsb: int) -> None:
    _float_convnet(tmp_path / "float.onnx")
    rng = np.random.default_rng(1)
    calib = rng.uniform(0, 1, (32, 1, 8, 8)).astype(np.float32)
    quantize_static(str(tmp_path / "float.onnx"), str(tmp_path / "qop.onnx"), _Reader(calib),
                    quant_format=fmt, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=True,
                    op_types_to_quantize=["Conv", "MatMul"])
    ops = {n.op_type for n in onnx.load(tmp_path / "qop.onnx").graph.node}
    assert expected_ops <= ops
    compiled = compile_model(tmp_path / "qop.onnx", tmp_path / "out")
    assert compiled.manifest["quantize"] == "int8"
    x = rng.uniform(0, 1, (16, 1, 8, 8)).astype(np.float32)
    ours = run_samples(compiled.graph, x)
    # Plain ONNX semantics (no fused integer kernels): QDQ math in float.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(tmp_path / "qop.onnx"), options)
    theirs = np.concatenate([session.run(None, {"x": x[i:i + 1]})[0] for i in range(16)])
    last = compiled.graph.nodes[-1]
    assert last.op_type == "DequantizeLinear"  # the float output is dequantized on exit
    lsb = float(compiled.graph.tensors[last.inputs[0]].quant.scale)
    # onnxruntime requantizes in float (QLinearConv kernels: a few LSB apart).
    assert float(np.abs(ours - theirs).max()) <= max_lsb * lsb * 1.001


def _integer_model(path: Path, op: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    if op == "ConvInteger":
        w = rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8)
        x_shape, y_shape = [1, 2, 6, 6], [1, 4, 4, 4]
    else:
        w = rng.integers(-127, 128, (12, 3)).astype(np.int8)
        x_shape, y_shape = [1, 12], [1, 3]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.int8(3), "x_zp"),
             numpy_helper.from_array(np.int8(0), "w_zp"),
             numpy_helper.from_array(np.float32(0.01), "scale")]
    nodes = [helper.make_node(op, ["x", "w", "x_zp", "w_zp"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["acc_f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["acc_f", "scale"], ["y"])]
    graph = helper.make_graph(nodes, "integer", [helper.make_tensor_value_info(
        "x", TensorProto.INT8, x_shape)], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, y_shape)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return {"x": rng.integers(-128, 128, x_shape).astype(np.int8)}


def test_conv_integer_and_matmul_integer_are_exact(tmp_path: Path) -> None:
    for op in ("ConvInteger", "MatMulInteger"):
        feeds = _integer_model(tmp_path / f"{op}.onnx", op)
        expected = ReferenceEvaluator(str(tmp_path / f"{op}.onnx")).run(None, feeds)[0]
        got = run_samples(load(tmp_path / f"{op}.onnx"), feeds["x"])
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        compiled = compile_model(tmp_path / f"{op}.onnx", tmp_path / f"{op}_out",
                                 CompileOptions(quantize="none"))
        np.testing.assert_allclose(run_samples(compiled.graph, feeds["x"]), expected, rtol=1e-6)
