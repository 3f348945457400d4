"""The ops of issue 17 in the float reference against onnxruntime, inside real-model
shapes: after channels-first convolutions (so the layout pass moves its Transposes
through them), recurrent layers in every configuration onnxruntime runs, and the
ONNX export of each compiled graph (``model.onnx``) back through onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from effc.compiler import CompileOptions, compile_model
from effc.frontend.importer import load
from effc.reference import run_graph

RTOL, ATOL = 1e-4, 1e-5


def _model(nodes, inputs: dict, outputs: list[str], inits: dict, opset: int = 19
           ) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "m", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
                     for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.INT64 if n == "idx" else TensorProto.FLOAT,
                                       None) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    return model


def _ort(model: onnx.ModelProto, feeds: dict) -> dict[str, np.ndarray]:
    if any(a.name == "layout" and a.i == 1 for n in model.graph.node for a in n.attribute):
        # onnxruntime runs no batch-major recurrent layer: onnx's reference does (the
        # configurations with layout=1 use only what it implements)
        names = [o.name for o in model.graph.output]
        return dict(zip(names, ReferenceEvaluator(model).run(None, feeds), strict=True))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in model.graph.output]
    return dict(zip(names, session.run(names, feeds), strict=True))


def _check(model: onnx.ModelProto, tmp: Path, seed: int = 0) -> None:
    path = tmp / "m.onnx"
    onnx.save(model, path)
    rng = np.random.default_rng(seed)
    feeds = {i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim])
             .astype(np.float32) for i in model.graph.input}
    expected = _ort(model, feeds)
    graph = load(path)
    got = run_graph(graph, feeds)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=RTOL, atol=ATOL, err_msg=name)
    # the compiled float graph and its ONNX export agree too
    compiled = compile_model(path, tmp / "out", CompileOptions(quantize="none"))
    exported = onnx.load(str(compiled.folder / "model.onnx"))
    for name, value in _ort(exported, feeds).items():
        np.testing.assert_allclose(value, expected[name], rtol=RTOL, atol=ATOL, err_msg=name)
    return graph


def _conv(x: str, y: str, c_in: int, c_out: int, seed: int) -> tuple[onnx.NodeProto, dict]:
    w = np.random.default_rng(seed).standard_normal((c_out, c_in, 3, 3)).astype(np.float32)
    return helper.make_node("Conv", [x, f"w{seed}"], [y], pads=[1, 1, 1, 1]), {f"w{seed}": w}


HEADS = {
    "reducemean_keepdims": ([helper.make_node("ReduceMean", ["c", "axes"], ["y"], keepdims=1)],
                            {"axes": np.array([2, 3], np.int64)}),
    "reducemean_flat": ([helper.make_node("ReduceMean", ["c", "axes"], ["y"], keepdims=0)],
                        {"axes": np.array([-1, -2], np.int64)}),
    "reducemax_channels": ([helper.make_node("ReduceMax", ["c", "axes"], ["y"], keepdims=0)],
                           {"axes": np.array([1], np.int64)}),
    "reducesum_h": ([helper.make_node("ReduceSum", ["c", "axes"], ["y"], keepdims=1)],
                    {"axes": np.array([2], np.int64)}),
    "argmax_channels": ([helper.make_node("ArgMax", ["c"], ["idx"], axis=1, keepdims=0),
                         helper.make_node("ReduceMax", ["c", "axes"], ["y"], keepdims=0)],
                        {"axes": np.array([1], np.int64)}),
    "slice_hw": ([helper.make_node("Slice", ["c", "s", "e", "a", "st"], ["y"])],
                 {"s": np.array([1, -1], np.int64), "e": np.array([5, -6], np.int64),
                  "a": np.array([2, 3], np.int64), "st": np.array([2, -1], np.int64)}),
    "split_channels": ([helper.make_node("Split", ["c", "sp"], ["p", "q"], axis=1),
                        helper.make_node("Mul", ["p", "q"], ["y"])],
                       {"sp": np.array([3, 3], np.int64)}),
    "gather_channels": ([helper.make_node("Gather", ["c", "idx"], ["y"], axis=1)],
                        {"idx": np.array([[5, 0], [-1, 2]], np.int64)}),
    "resize_nearest": ([helper.make_node("Resize", ["c", "", "sc"], ["y"], mode="nearest")],
                       {"sc": np.array([1, 1, 2, 2], np.float32)}),
    "resize_bilinear": ([helper.make_node("Resize", ["c", "", "", "sz"], ["y"], mode="linear",
                                          coordinate_transformation_mode="half_pixel")],
                        {"sz": np.array([1, 6, 11, 9], np.int64)}),
    "tile_w": ([helper.make_node("Tile", ["c", "rep"], ["y"])],
               {"rep": np.array([1, 1, 1, 2], np.int64)}),
    "expand": ([helper.make_node("ReduceMean", ["c", "axes"], ["m"], keepdims=1),
                helper.make_node("Expand", ["m", "shp"], ["e"]),
                helper.make_node("Max", ["c", "e"], ["y"])],
               {"axes": np.array([2, 3], np.int64), "shp": np.array([1, 6, 7, 6], np.int64)}),
    "conv_transpose": ([helper.make_node("ConvTranspose", ["c", "wt"], ["y"], strides=[2, 2],
                                         pads=[1, 0, 1, 1], output_padding=[1, 0])],
                       {"wt": np.random.default_rng(9).standard_normal((6, 4, 3, 2))
                        .astype(np.float32)}),
}


@pytest.mark.parametrize("head", sorted(HEADS))
def test_after_channels_first_conv(tmp_path: Path, head: str) -> None:
    conv, inits = _conv("x", "c", 3, 6, 1)
    nodes, extra = HEADS[head]
    outputs = ["y", "idx"] if head == "argmax_channels" else ["y"]
    model = _model([conv, *nodes], {"x": [1, 3, 7, 6]}, outputs, {**inits, **extra})
    graph = _check(model, tmp_path)
    # the NCHW input keeps its Transpose; nothing else needs one except a real permute
    assert sum(n.op_type == "Transpose" for n in graph.nodes) <= 2, \
        [n.op_type for n in graph.nodes]


def test_gap_as_reducemean_then_gemm_has_no_transpose(tmp_path: Path) -> None:
    conv, inits = _conv("x", "c", 3, 8, 2)
    fc = np.random.default_rng(3).standard_normal((5, 8)).astype(np.float32)
    nodes = [conv, helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("ReduceMean", ["r", "axes"], ["m"], keepdims=1),
             helper.make_node("Flatten", ["m"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
    model = _model(nodes, {"x": [1, 3, 9, 9]}, ["y"],
                   {**inits, "axes": np.array([2, 3], np.int64), "fc": fc})
    graph = _check(model, tmp_path)
    ops = [n.op_type for n in graph.nodes]
    assert ops.count("Transpose") == 1 and "ReduceMean" in ops, ops  # the input's only


def _recurrent_model(op: str, cfg: dict) -> onnx.ModelProto:
    rng = np.random.default_rng(len(str(cfg)))
    t, n, i, h = cfg.get("t", 5), cfg.get("n", 2), 4, cfg.get("h", 3)
    dirs = 2 if cfg.get("direction") == "bidirectional" else 1
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    layout = cfg.get("layout", 0)
    inits = {"W": rng.standard_normal((dirs, gates * h, i)).astype(np.float32) * 0.5,
             "R": rng.standard_normal((dirs, gates * h, h)).astype(np.float32) * 0.5,
             "B": rng.standard_normal((dirs, 2 * gates * h)).astype(np.float32) * 0.2}
    names = ["x", "W", "R", "B", "", ""]
    if "lens" in cfg:
        inits["lens"] = np.array(cfg["lens"], np.int32)
        names[4] = "lens"
    if cfg.get("initial"):
        shape = (n, dirs, h) if layout else (dirs, n, h)
        inits["h0"] = rng.standard_normal(shape).astype(np.float32)
        names[5] = "h0"
        if op == "LSTM":
            inits["c0"] = rng.standard_normal(shape).astype(np.float32)
            names.append("c0")
    if op == "LSTM" and cfg.get("peepholes"):
        if len(names) == 6:
            names.append("")
        inits["P"] = rng.standard_normal((dirs, 3 * h)).astype(np.float32)
        names.append("P")
    while names[-1] == "":
        names.pop()
    attrs = {k: v for k, v in cfg.items() if k in ("direction", "layout", "clip",
                                                   "activations", "linear_before_reset",
                                                   "activation_alpha", "activation_beta")}
    outs = ["y", "yh", "yc"][:3 if op == "LSTM" else 2]
    node = helper.make_node(op, names, outs, hidden_size=h, **attrs)
    x_shape = [n, t, i] if layout else [t, n, i]
    return _model([node], {"x": x_shape}, outs, inits, opset=22)


RECURRENT = [
    {}, {"direction": "reverse"}, {"direction": "bidirectional"}, {"layout": 1},
    {"layout": 1, "direction": "bidirectional", "initial": True}, {"n": 1, "initial": True},
    {"clip": 0.6}, {"lens": [5, 3]}, {"lens": [2, 5], "direction": "forward", "initial": True},
]


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("cfg", RECURRENT, ids=str)
def test_recurrent(tmp_path: Path, op: str, cfg: dict) -> None:
    _check(_recurrent_model(op, cfg), tmp_path)


@pytest.mark.parametrize(("op", "cfg"), [
    ("LSTM", {"peepholes": True, "initial": True}),
    ("LSTM", {"activations": ["HardSigmoid", "Tanh", "Relu"], "activation_alpha": [0.3],
              "activation_beta": [0.4]}),
    ("GRU", {"linear_before_reset": 1}),
    ("GRU", {"linear_before_reset": 1, "direction": "bidirectional", "initial": True}),
    ("GRU", {"activations": ["Sigmoid", "LeakyRelu"], "activation_alpha": [0.2]}),
    ("RNN", {"activations": ["Relu"]}),
])
def test_recurrent_options(tmp_path: Path, op: str, cfg: dict) -> None:
    _check(_recurrent_model(op, cfg), tmp_path)
