"""Every HLS layer template in C simulation against effc's integer reference.

Each case is a small float ONNX model around one layer kind (named edge cases:
stride-2 convolution with asymmetric padding, 1x1, depthwise with a
multiplier, dilation, 1-D, grouped, a one-channel first layer folded over its
taps, every pool flag, residual branches, broadcast gates, concat on every
axis, softmax, tables, transpose and pad modes, batch 2, saturation),
quantized to int8 on seeded samples and compiled for pynq-z2 with the HLS
target under two foldings (every layer at its fastest and at its slowest), so
each template runs fully parallel and fully folded. The C simulation must give
the integer reference's outputs bit for bit, and each layer's loop iterations,
counted in the C simulation, must equal the estimator's cycles
(tests/hls_support.py). Cases with branches that meet again also run with one
thread per process and bounded FIFOs: effc's FIFO depths must not deadlock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from tests.hls_support import check_threaded, check_vectors, compile_hls
from tests.small_models import make_model, tensor, weights

Case = tuple[str, Callable[[], tuple[list, dict, list]], bool]


def conv(x: str, y: str, wshape: tuple[int, ...], seed: int, **attrs) -> tuple[list, list]:
    w, b = f"{y}_w", f"{y}_b"
    return ([helper.make_node("Conv", [x, w, b], [y], **attrs)],
            [tensor(w, weights(seed, *wshape)), tensor(b, weights(seed + 1, wshape[0]))])


def single(op: str, shape: list[int], **attrs) -> Callable[[], tuple[list, dict, list]]:
    return lambda: ([helper.make_node(op, ["x"], ["y"], **attrs)], {"x": shape}, [])


def conv_case(shape: list[int], wshape: tuple[int, ...], **attrs):
    def build():
        nodes, inits = conv("x", "c", wshape, 1, **attrs)
        return [*nodes, helper.make_node("Relu", ["c"], ["y"])], {"x": shape}, inits
    return build


def residual():
    nodes, inits = conv("x", "c", (4, 4, 3, 3), 5, pads=[1, 1, 1, 1])
    nodes2, inits2 = conv("r", "d", (4, 4, 3, 3), 7, pads=[1, 1, 1, 1])
    return ([*nodes, helper.make_node("Relu", ["c"], ["r"]), *nodes2,
             helper.make_node("Add", ["x", "d"], ["y"])], {"x": [1, 4, 6, 5]}, inits + inits2)


def downsample_block():
    """ResNet's stride-2 block: two convolutions against a strided 1x1 shortcut."""
    a, ia = conv("x", "a", (6, 3, 3, 3), 3, strides=[2, 2], pads=[0, 0, 1, 1])
    b, ib = conv("a", "b", (6, 6, 3, 3), 4, pads=[1, 1, 1, 1])
    s, is_ = conv("x", "s", (6, 3, 1, 1), 5, strides=[2, 2])
    return a + b + s + [helper.make_node("Add", ["b", "s"], ["y"])], {"x": [1, 3, 8, 8]}, \
        ia + ib + is_


def gate():
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
             helper.make_node("Sigmoid", ["p"], ["g"]),
             helper.make_node("Mul", ["x", "g"], ["y"])]
    return nodes, {"x": [1, 5, 4, 3]}, []


def binary_const(op: str, const_first: bool):
    def build():
        c = tensor("k", weights(9, 1, 4, 1, 1))
        ins = ["k", "x"] if const_first else ["x", "k"]
        return [helper.make_node(op, ins, ["y"])], {"x": [1, 4, 3, 5]}, [c]
    return build


def prelu():
    return ([helper.make_node("PRelu", ["x", "a"], ["y"])], {"x": [1, 3, 4, 4]},
            [tensor("a", np.abs(weights(11, 3, 1, 1)))])


def concat(axis: int, same: bool):
    def build():
        nodes, inits = ([], []) if same else conv("x", "c", (3, 3, 3, 3), 2, pads=[1, 1, 1, 1])
        other = "x" if same else "c"
        return [*nodes, helper.make_node("Concat", ["x", other], ["y"], axis=axis)], \
            {"x": [1, 3, 4, 5]}, inits
    return build


def concat_constant():
    return ([helper.make_node("Concat", ["x", "k"], ["y"], axis=1)], {"x": [1, 6]},
            [tensor("k", weights(3, 1, 4))])


def dense(shape: list[int], out: int, matmul: bool):
    def build():
        if matmul:
            return ([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": shape},
                    [tensor("w", weights(4, shape[-1], out))])
        return ([helper.make_node("Gemm", ["x", "w", "b"], ["h"], transB=1),
                 helper.make_node("Relu", ["h"], ["y"])], {"x": shape},
                [tensor("w", weights(4, out, shape[-1])), tensor("b", weights(5, out))])
    return build


def flatten_channels_first():
    nodes, inits = conv("x", "c", (4, 2, 3, 3), 6)
    return [*nodes, helper.make_node("Flatten", ["c"], ["f"]),
            helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1)], \
        {"x": [1, 2, 5, 4]}, [*inits, tensor("w", weights(7, 5, 24)), tensor("b", weights(8, 5))]


def activations():
    nodes = [helper.make_node("Sigmoid", ["x"], ["a"]), helper.make_node("Tanh", ["x"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["c"]),
             helper.make_node("LeakyRelu", ["c"], ["d"], alpha=0.2),
             helper.make_node("HardSwish", ["d"], ["y"])]
    return nodes, {"x": [1, 6, 2, 3]}, []


def pad(mode: str):
    def build():
        pads = np.array([0, 1 if mode == "constant" else 0, 1, 2, 0, 0, 2, 1], np.int64)
        ins = ["x", "p"] + (["v"] if mode == "constant" else [])
        inits = [tensor("p", pads)] + ([tensor("v", np.array(0.5, np.float32))]
                                       if mode == "constant" else [])
        return [helper.make_node("Pad", ins, ["y"], mode=mode)], {"x": [1, 2, 4, 3]}, inits
    return build


def saturating():
    """Large weights and a ReLU6 clamp: most outputs hit the int8 or the clamp limits."""
    w = tensor("w", weights(3, 4, 3, 3, 3, scale=4.0))
    return ([helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c", "lo", "hi"], ["y"])], {"x": [1, 3, 5, 5]},
            [w, tensor("lo", np.array(0.0, np.float32)), tensor("hi", np.array(6.0, np.float32))])


def two_inputs_two_outputs():
    nodes, inits = conv("s", "c", (3, 3, 1, 1), 2)
    return ([helper.make_node("Add", ["x", "z"], ["s"]), *nodes,
             helper.make_node("Relu", ["c"], ["y"])], {"x": [1, 3, 4, 4], "z": [1, 3, 4, 4]},
            inits)


CASES: list[Case] = [
    ("conv_stride2_asymmetric_pads", conv_case([1, 3, 9, 8], (6, 3, 3, 3), strides=[2, 2],
                                               pads=[1, 0, 2, 1]), False),
    ("conv_1x1", conv_case([1, 8, 5, 5], (12, 8, 1, 1)), False),
    ("conv_1x1_stride2", conv_case([1, 4, 6, 6], (8, 4, 1, 1), strides=[2, 2]), False),
    ("conv_dilated", conv_case([1, 2, 9, 9], (4, 2, 3, 3), dilations=[2, 2], pads=[2, 2, 2, 2]),
     False),
    ("conv_1d", conv_case([1, 5, 12], (4, 5, 4), strides=[2], pads=[1, 2]), False),
    ("conv_one_channel_first_layer", conv_case([1, 1, 10, 8], (8, 1, 4, 3), strides=[2, 1]),
     False),
    ("conv_grouped", conv_case([1, 6, 7, 6], (4, 3, 3, 3), group=2, pads=[1, 1, 1, 1]), False),
    ("depthwise_multiplier_3", conv_case([1, 3, 6, 5], (9, 1, 3, 3), group=3,
                                         pads=[0, 1, 2, 1]), False),
    ("depthwise_1d_strided", conv_case([1, 5, 11], (5, 1, 4), group=5, strides=[2],
                                       pads=[1, 2]), False),
    ("depthwise_1x1", conv_case([1, 6, 4, 4], (6, 1, 1, 1), group=6), False),
    ("conv_batch2", conv_case([2, 3, 5, 4], (4, 3, 3, 3), pads=[1, 1, 1, 1]), False),
    ("saturating_relu6", saturating, False),
    ("dense", dense([1, 24], 10, False), False),
    ("dense_rows", dense([1, 5, 8], 6, True), False),
    ("maxpool_pad_ceil_dilation", single("MaxPool", [1, 4, 9, 9], kernel_shape=[3, 3],
                                         strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
                                         dilations=[2, 1]), False),
    ("avgpool_count_include_pad", single("AveragePool", [1, 3, 7, 6], kernel_shape=[3, 3],
                                         strides=[2, 2], pads=[1, 1, 1, 1],
                                         count_include_pad=1), False),
    ("avgpool_ceil", single("AveragePool", [1, 3, 7, 7], kernel_shape=[2, 2], strides=[2, 2],
                            ceil_mode=1), False),
    ("avgpool_window_in_padding", single("AveragePool", [1, 2, 3, 3], kernel_shape=[2, 2],
                                         strides=[1, 1], pads=[3, 3, 3, 3],
                                         dilations=[3, 3]), False),
    ("maxpool_1d", single("MaxPool", [1, 3, 10], kernel_shape=[3], strides=[2], pads=[1, 1]),
     False),
    ("global_average_pool", single("GlobalAveragePool", [1, 6, 5, 4]), False),
    ("global_max_pool", single("GlobalMaxPool", [1, 6, 5, 4]), False),
    ("residual_add", residual, True),
    ("downsample_block", downsample_block, True),
    ("squeeze_excite_gate", gate, True),
    ("add_constant", binary_const("Add", False), False),
    ("sub_constant_first", binary_const("Sub", True), False),
    ("mul_constant", binary_const("Mul", False), False),
    ("prelu", prelu, False),
    ("concat_channels_requantized", concat(1, False), True),
    ("concat_spatial_same_input", concat(2, True), True),
    ("concat_batch", concat(0, False), True),
    ("concat_constant", concat_constant, False),
    ("softmax", single("Softmax", [1, 10], axis=-1), False),
    ("softmax_channels", single("Softmax", [1, 4, 3, 2], axis=1), False),
    ("activation_tables", activations, True),
    ("transpose_flatten_channels_first", flatten_channels_first, False),
    ("pad_constant", pad("constant"), False),
    ("pad_reflect", pad("reflect"), False),
    ("pad_edge", pad("edge"), False),
    ("two_inputs_two_outputs", two_inputs_two_outputs, True),
]


def _compile(tmp: Path, case: Case, pick: str):
    name, build, _ = case
    nodes, inputs, inits = build()
    outputs = {"y": None} if name != "two_inputs_two_outputs" else {"y": None, "s": None}
    path = make_model(tmp / f"{name}.onnx", nodes, inputs, outputs, inits, opset=19)
    rng = np.random.default_rng(0)
    calib = {k: rng.normal(0, 1, (8 * s[0], *s[1:])).astype(np.float32)
             for k, s in inputs.items()}
    return compile_hls(path, tmp / pick, calib if len(calib) > 1 else next(iter(calib.values())),
                       pick=pick)


@pytest.mark.parametrize("pick", ["fastest", "slowest"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_in_c_simulation(tmp_path: Path, case: Case, pick: str) -> None:
    compiled = _compile(tmp_path, case, pick)
    assert compiled.manifest["hls"]["processes"], "no process"
    check_vectors(compiled)
    if case[2] and pick == "slowest":
        check_threaded(compiled, samples=2)


def test_foldings_in_between(tmp_path: Path) -> None:
    """A folding neither fully parallel nor fully folded, on the cases with the most
    folding loops (grouped and depthwise units, pools over taps, the residual join)."""
    for case in CASES:
        if case[0] in ("conv_grouped", "depthwise_multiplier_3", "maxpool_pad_ceil_dilation",
                       "downsample_block", "conv_one_channel_first_layer"):
            (tmp_path / case[0]).mkdir()
            compiled = _compile(tmp_path / case[0], case, "middle")
            check_vectors(compiled)
