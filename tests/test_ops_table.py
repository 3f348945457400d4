"""docs/ops.md's cells are what the stages do: for a sample of ONNX ops in each column,
a small model holding the op runs through the stage (its self-check against the
reference passes) where the table says yes, and is refused in one line where it says —.

Each case pins the cell too, so a change of the table is a change of this file. The
FPGA columns put a convolution before the op (the accelerators need a layer; Relu and
Clip fuse into it), the QOperator and ConvInteger cases are quantized models.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.frontend.importer import load
from effc.opsupport import stages
from effc.reference import run_samples
from tests.conftest_c import require_tool

X = [1, 4, 5, 5]
Build = Callable[[str], tuple[list[onnx.NodeProto], dict[str, np.ndarray], dict[str, list[int]]]]


def _w(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).normal(0, 0.5, shape).astype(np.float32)


def _model(nodes: list[onnx.NodeProto], inputs: dict[str, tuple[int, list[int]]],
           outputs: dict[str, tuple[int, list[int]]], inits: dict[str, np.ndarray],
           opset: int = 18) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "op", [helper.make_tensor_value_info(n, t, s) for n, (t, s) in inputs.items()],
        [helper.make_tensor_value_info(n, t, s) for n, (t, s) in outputs.items()],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _float(build: Build, conv: bool = False) -> onnx.ModelProto:
    """x -> [Conv ->] the op's nodes -> y, all float."""
    nodes, inits, outs = build("c" if conv else "x")
    if conv:
        nodes = [helper.make_node("Conv", ["x", "cw"], ["c"], pads=[1, 1, 1, 1]), *nodes]
        inits = {"cw": _w(4, 4, 3, 3), **inits}
    return _model(nodes, {"x": (TensorProto.FLOAT, X)},
                  {k: (TensorProto.FLOAT, s) for k, s in outs.items()}, inits)


def _unary(op: str, out: list[int] = X, **attrs: object) -> Build:
    return lambda src: ([helper.make_node(op, [src], ["y"], **attrs)], {}, {"y": out})


def _reduce(op: str) -> Build:
    return lambda src: ([helper.make_node(op, [src, "axes"], ["y"], keepdims=1)],
                        {"axes": np.array([1], np.int64)}, {"y": [1, 1, 5, 5]})


def _flat(op: str, **attrs: object) -> Build:
    return lambda src: ([helper.make_node("Flatten", [src], ["f"]),
                         helper.make_node(op, ["f"], ["y"], **attrs)], {}, {"y": [1, 100]})


def _div(src: str):
    return [helper.make_node("Div", [src, "d"], ["y"])], {"d": np.float32([2.5])}, {"y": X}


def _batchnorm(src: str):
    inits = {"s": _w(4) + 1, "b": _w(4), "m": _w(4), "v": np.abs(_w(4)) + 0.5}
    return [helper.make_node("BatchNormalization", [src, *inits], ["y"])], inits, {"y": X}


def _residual(op: str) -> onnx.ModelProto:
    """x -> Conv a -> Conv b; y = op(a, b): a residual the accelerator can add."""
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["a", "w2"], ["b"], pads=[1, 1, 1, 1]),
             helper.make_node(op, ["a", "b"], ["y"])]
    return _model(nodes, {"x": (TensorProto.FLOAT, X)}, {"y": (TensorProto.FLOAT, X)},
                  {"w1": _w(4, 4, 3, 3), "w2": _w(4, 4, 3, 3)})


def _quantize_linear() -> onnx.ModelProto:
    """float in, int8 out: the model's output is quantized."""
    return _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])],
                  {"x": (TensorProto.FLOAT, X)}, {"y": (TensorProto.INT8, X)},
                  {"s": np.float32(0.05), "z": np.int8(3)})


def _qlinear_matmul() -> onnx.ModelProto:
    """Quantize, Flatten of the int8 value, QLinearMatMul, Dequantize (QOperator)."""
    w = np.random.default_rng(3).integers(-127, 128, (100, 3)).astype(np.int8)
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["q"]),
             helper.make_node("Flatten", ["q"], ["f"]),
             helper.make_node("QLinearMatMul", ["f", "xs", "xz", "w", "ws", "wz", "ys", "yz"],
                              ["m"]),
             helper.make_node("DequantizeLinear", ["m", "ys", "yz"], ["y"])]
    inits = {"xs": np.float32(0.03), "xz": np.int8(0), "w": w, "ws": np.float32(0.01),
             "wz": np.int8(0), "ys": np.float32(0.2), "yz": np.int8(-3)}
    return _model(nodes, {"x": (TensorProto.FLOAT, X)}, {"y": (TensorProto.FLOAT, [1, 3])},
                  inits, opset=21)


def _integer(op: str) -> onnx.ModelProto:
    """int8 in: ConvInteger / MatMulInteger, then the float scale (dynamic quantization)."""
    rng = np.random.default_rng(2)
    conv = op == "ConvInteger"
    w = rng.integers(-127, 128, (4, 2, 3, 3) if conv else (12, 3)).astype(np.int8)
    x, y = ([1, 2, 5, 5], [1, 4, 3, 3]) if conv else ([1, 12], [1, 3])
    nodes = [helper.make_node(op, ["x", "w", "xz", "wz"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["accf", "s"], ["y"])]
    return _model(nodes, {"x": (TensorProto.INT8, x)}, {"y": (TensorProto.FLOAT, y)},
                  {"w": w, "xz": np.int8(3), "wz": np.int8(0), "s": np.float32(0.01)}, opset=13)


#: (ONNX op, stage, True for a yes or the words of the one-line refusal for a —, the
#: model): every column has a yes, most a —.
CASES: list[tuple[str, str, bool | str, Callable[[], onnx.ModelProto]]] = [
    ("LogSoftmax", "float ref", True, lambda: _float(_flat("LogSoftmax", axis=1))),
    ("ReduceLogSumExp", "float ref", True, lambda: _float(_reduce("ReduceLogSumExp"))),
    ("ConvInteger", "float ref", True, lambda: _integer("ConvInteger")),
    ("Div", "int8 ref", True, lambda: _float(_div)),
    ("BatchNormalization", "int8 ref", True, lambda: _float(_batchnorm)),
    ("ReduceL1", "int8 ref", "(ReduceL1) has no int8 form", lambda: _float(_reduce("ReduceL1"))),
    ("LogSoftmax", "int8 ref", "(LogSoftmax) has no int8 form", lambda: _float(_flat("LogSoftmax", axis=1))),
    ("MatMulInteger", "int8 ref", "keeps its int32 accumulator as the float value 'acc'",
      lambda: _integer("MatMulInteger")),
    ("QuantizeLinear", "C float", True, _quantize_linear),
    ("ReduceLogSum", "C float", True, lambda: _float(_reduce("ReduceLogSum"))),
    ("QLinearMatMul", "C float", True, _qlinear_matmul),
    ("MatMulInteger", "C float", True, lambda: _integer("MatMulInteger")),
    ("ReduceLogSumExp", "C float", "(ReduceLogSumExp) has no C kernel",
      lambda: _float(_reduce("ReduceLogSumExp"))),
    ("LogSoftmax", "C float", "(LogSoftmax) has no C kernel",
      lambda: _float(_flat("LogSoftmax", axis=1))),
    ("Div", "C int8", True, lambda: _float(_div)),
    ("QLinearMatMul", "C int8", True, _qlinear_matmul),
    ("ReduceProd", "C int8", "(ReduceProd) has no int8 form", lambda: _float(_reduce("ReduceProd"))),
    ("ConvInteger", "C int8", "(ConvInteger/MatMulInteger with a float rescale",
      lambda: _integer("ConvInteger")),
    ("Sigmoid", "HLS", True, lambda: _float(_unary("Sigmoid"), conv=True)),
    ("Div", "HLS", True, lambda: _float(_div, conv=True)),
    ("BatchNormalization", "HLS", True, lambda: _float(_batchnorm, conv=True)),
    ("ReduceMean", "HLS", "(ReduceMean) has no HLS template",
      lambda: _float(_reduce("ReduceMean"), conv=True)),
    ("Relu", "RTL", True, lambda: _float(_unary("Relu"), conv=True)),
    ("BatchNormalization", "RTL", True, lambda: _float(_batchnorm, conv=True)),
    ("Add", "RTL", True, lambda: _residual("Add")),
    ("Mean", "RTL", "(Mul) cannot run on the RTL accelerator", lambda: _residual("Mean")),
    ("Sigmoid", "RTL", "(Sigmoid) cannot run on the RTL accelerator",
      lambda: _float(_unary("Sigmoid"), conv=True)),
]

#: The compile options of each stage past the float reference (a float model is
#: calibrated on random samples; a quantized one keeps its own scales).
OPTIONS = {"int8 ref": {}, "C float": {"board": "mps2-an386", "quantize": "none"},
           "C int8": {"board": "mps2-an386"},
           "HLS": {"board": "arty-a7-35t", "target": "hls"},
           "RTL": {"board": "icebreaker", "target": "rtl"}}


def _samples(graph) -> np.ndarray:
    x = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(0)
    if x.dtype == "int8":
        return rng.integers(-128, 128, (2, *x.shape[1:])).astype(np.int8)
    return rng.standard_normal((2, *x.shape[1:])).astype(np.float32)


def _run_stage(path: Path, stage: str) -> None:
    """Run the model through ``stage``: raises the stage's EffcError when it refuses."""
    if stage == "float ref":
        graph = load(path)
        run_samples(graph, _samples(graph))
        return
    options = dict(OPTIONS[stage])
    if stage != "C float":
        model = onnx.load(path)
        quantized = any(n.op_type.startswith(("Quantize", "QLinear")) or n.op_type.endswith(
            "Integer") for n in model.graph.node)
        options["quantize"] = "int8"
        if not quantized:
            options["calib"] = "random"
    compiled = compile_model(path, path.with_suffix(""), CompileOptions(**options))
    if stage == "int8 ref":  # no board: the integer reference runs the compiled graph
        run_samples(compiled.graph, _samples(compiled.graph))


@pytest.mark.parametrize("op,stage,cell,build", CASES,
                         ids=[f"{op}-{stage.replace(' ', '_')}" for op, stage, _, _ in CASES])
def test_the_table_cell_is_what_the_stage_does(tmp_path: Path, op: str, stage: str,
                                               cell: bool | str,
                                               build: Callable[[], onnx.ModelProto]) -> None:
    assert stages(op)[stage] is (cell is True), f"docs/ops.md's {op} / {stage} cell changed"
    if stage == "RTL":
        require_tool("verilator")
    path = tmp_path / f"{op}.onnx"
    onnx.save(build(), path)
    if cell is True:
        _run_stage(path, stage)  # a compile with a board ends with its self-check
        return
    with pytest.raises(EffcError) as info:
        _run_stage(path, stage)
    assert "\n" not in str(info.value) and cell in str(info.value), str(info.value)


def test_every_column_has_a_case_that_runs() -> None:
    from effc.opsupport import STAGES

    assert {stage for _, stage, cell, _ in CASES if cell is True} == set(STAGES)
