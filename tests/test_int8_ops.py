"""Hand-computed int8 cases through the IR ops' ``run_int`` (TFLite Micro semantics).

Each test builds a one-node IR graph and runs it with the reference interpreter,
which takes the integer path because the node's first activation input is int8.
Expected values are worked out in the comments; the rules they follow:

* MultiplyByQuantizedMultiplier = RoundingDivideByPOT(SRDHM(x << left, M), right),
  real multiplier M * 2^(shift - 31). SRDHM rounds a tie of a *negative* product
  toward zero (nudge 1 - 2^30), RoundingDivideByPOT rounds ties away from zero.
* Quantize: TfLiteRound (half away from zero), then saturate to [-128, 127].
* AveragePool: (sum +- count/2) / count with C truncation: ties away from zero.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from effc.ir import Graph, Node, QuantParams, Tensor
from effc.passes.lower_int8 import lower_int8
from effc.quant import int8 as q8
from effc.reference import run_graph

HALF = 1 << 30  # Q31 multiplier for 0.5 (with shift 0), 0.25 with shift -1


def _q(scale: float, zero_point: int = 0) -> QuantParams:
    return QuantParams(np.float32(scale), np.int32(zero_point))


def _graph(op: str, inputs: list[Tensor], out: Tensor, attrs: dict) -> Graph:
    graph = Graph("t")
    for t in [*inputs, out]:
        graph.add_tensor(t)
    graph.inputs = [t.name for t in inputs if not t.is_constant]
    graph.outputs = [out.name]
    graph.nodes = [Node(op, "n", [t.name for t in inputs], [out.name], attrs)]
    graph.validate()
    return graph


def _run(graph: Graph, **feeds: np.ndarray) -> np.ndarray:
    return run_graph(graph, feeds)[graph.outputs[0]]


def _i8(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int8)


# ---------------------------------------------------------------- Quantize


def test_quantize_rounds_ties_away_from_zero_and_saturates() -> None:
    x = Tensor("x", (1, 8), "float32")
    y = Tensor("y", (1, 8), "int8", quant=_q(0.5, 3))
    graph = _graph("QuantizeLinear", [x], y, {})
    xs = np.array([[0.25, -0.25, 0.75, -0.75, 0.24, -1.25, 1000.0, -1000.0]], np.float32)
    # x / 0.5:   0.5 -0.5  1.5 -1.5  0.48 -2.5  2000 -2000
    # round:     1   -1    2   -2    0    -3    2000 -2000   (half away from zero)
    # + zp 3:    4    2    5    1    3     0    127  -128    (saturated)
    np.testing.assert_array_equal(_run(graph, x=xs), _i8([[4, 2, 5, 1, 3, 0, 127, -128]]))


# ---------------------------------------------------------------- Dense


def _dense(multiplier: int, shift: int, *, zp_in: int = 0, zp_out: int = 0, bias=None,
           act_min: int = -128, act_max: int = 127) -> Graph:
    """y = requant(x0 + x1 [+ bias]): weights [[1, 1]], so acc = (x0 - zp_in) + (x1 - zp_in)."""
    x = Tensor("x", (1, 2), "int8", quant=_q(1.0, zp_in))
    w = Tensor("w", (1, 2), "int8", data=_i8([[1, 1]]),
               quant=QuantParams(np.ones(1, np.float32), np.zeros(1, np.int32), 0))
    inputs = [x, w]
    if bias is not None:
        inputs.append(Tensor("b", (1,), "int32", data=np.array([bias], np.int32)))
    y = Tensor("y", (1, 1), "int8", quant=_q(1.0, zp_out))
    return _graph("Dense", inputs, y, {"multiplier": [multiplier], "shift": [shift],
                                       "activation_min": act_min, "activation_max": act_max})


def test_dense_half_multiplier_tie_rounding() -> None:
    # multiplier 2^30, shift 0 = x0.5; the only rounding is SRDHM's:
    #  acc  3 -> 1.5  -> 2   (positive tie: away from zero)
    #  acc -3 -> -1.5 -> -1  (negative tie: toward zero, nudge 1 - 2^30)
    #  acc  1 -> 0.5  -> 1
    #  acc -1 -> -0.5 -> 0
    #  acc -5 -> -2.5 -> -2
    #  acc  7 -> 3.5  -> 4
    graph = _dense(HALF, 0)
    x = _i8([[1, 2], [-1, -2], [1, 0], [-1, 0], [-2, -3], [3, 4]])
    np.testing.assert_array_equal(_run(graph, x=x).ravel(), [2, -1, 1, 0, -2, 4])


def test_dense_quarter_multiplier_double_rounding() -> None:
    # multiplier 2^30, shift -1 = x0.25: SRDHM (x0.5) then RoundingDivideByPOT(., 1):
    #  acc -6: SRDHM -3,  RDBP -1.5 -> -2  (tie away from zero)
    #  acc  6: SRDHM  3,  RDBP  1.5 ->  2
    #  acc -2: SRDHM -1,  RDBP -0.5 -> -1  (tie away from zero)
    #  acc  2: SRDHM  1,  RDBP  0.5 ->  1
    #  acc  5: SRDHM 2.5 -> 3, RDBP 1.5 -> 2   (exact 1.25 would give 1: double rounding)
    #  acc -5: SRDHM -2.5 -> -2, RDBP -1 -> -1 (exact -1.25 -> -1)
    graph = _dense(HALF, -1)
    x = _i8([[-3, -3], [3, 3], [-1, -1], [1, 1], [2, 3], [-2, -3]])
    np.testing.assert_array_equal(_run(graph, x=x).ravel(), [-2, 2, -1, 1, 2, -1])


def test_dense_zero_points_bias_and_saturation() -> None:
    # zp_in -10, zp_out 5, bias 20, x0.5: y = round((x0 + 10 + x1 + 10 + 20) / 2) + 5
    #  [0, 0]:       (40) / 2 = 20         -> 25
    #  [127, 127]:   (137 + 137 + 20) / 2 = 147 + 5 = 152 -> 127 (saturated)
    #  [-128, -128]: (-118 - 118 + 20) / 2 = -108 + 5 = -103
    #  [-128, -127]: (-118 - 117 + 20) = -215 -> -107.5 -> -107 (SRDHM tie) + 5 = -102
    graph = _dense(HALF, 0, zp_in=-10, zp_out=5, bias=20)
    x = _i8([[0, 0], [127, 127], [-128, -128], [-128, -127]])
    np.testing.assert_array_equal(_run(graph, x=x).ravel(), [25, 127, -103, -102])


def test_dense_fused_clamp_and_large_accumulator() -> None:
    # ReLU fused as activation_min = zp_out = -20; x2^3 (multiplier 2^30, shift 4):
    #  [100, 100]: 200 * 8 = 1600 -> 127
    #  [-5, 0]:    -5 * 8 = -40 - 20 = -60 -> clamped to -20
    #  [1, 1]:     2 * 8 = 16 - 20 = -4
    graph = _dense(HALF, 4, zp_out=-20, act_min=-20)
    x = _i8([[100, 100], [-5, 0], [1, 1]])
    np.testing.assert_array_equal(_run(graph, x=x).ravel(), [127, -20, -4])


# ---------------------------------------------------------------- Conv (per channel)


def test_conv_per_channel_multipliers() -> None:
    # 1x1 conv, 1 input channel, 2 output channels with weights [2] and [-3],
    # channel 0 x0.5 (2^30, 0), channel 1 x0.25 (2^30, -1); input zp 1, output zp 0.
    #  x = 4 (x - zp = 3): ch0 acc 6 -> 3;  ch1 acc -9 -> SRDHM -4.5 -> -4, RDBP -2
    #  x = 0 (x - zp = -1): ch0 acc -2 -> -1; ch1 acc 3 -> SRDHM 1.5 -> 2, RDBP 1
    x = Tensor("x", (1, 1, 2, 1), "int8", layout="NHWC", quant=_q(1.0, 1))
    w = Tensor("w", (2, 1, 1, 1), "int8", data=_i8([2, -3]).reshape(2, 1, 1, 1))
    y = Tensor("y", (1, 1, 2, 2), "int8", layout="NHWC", quant=_q(1.0, 0))
    graph = _graph("Conv", [x, w], y, {
        "kernel_shape": [1, 1], "strides": [1, 1], "dilations": [1, 1], "pads": [0, 0, 0, 0],
        "group": 1, "multiplier": [HALF, HALF], "shift": [0, -1],
        "activation_min": -128, "activation_max": 127})
    out = _run(graph, x=_i8([4, 0]).reshape(1, 1, 2, 1))
    np.testing.assert_array_equal(out.reshape(2, 2), [[3, -2], [-1, 1]])


# ---------------------------------------------------------------- Add


def _add_graph(act_min: int = -128, act_max: int = 127) -> Graph:
    a = Tensor("a", (1, 4), "int8", quant=_q(0.5, 2))
    b = Tensor("b", (1, 4), "int8", quant=_q(0.25, -1))
    y = Tensor("y", (1, 4), "int8", quant=_q(0.5, 10))
    params = q8.add_params(0.5, 2, 0.25, -1, 0.5, 10)
    return _graph("Add", [a, b], y, {"params": asdict(params), "activation_min": act_min,
                                     "activation_max": act_max})


def test_add_params_for_different_scales() -> None:
    # twice_max = 2 * 0.5 = 1; input1 0.5/1 -> (2^30, 0); input2 0.25/1 -> (2^30, -1);
    # output 1 / (2^20 * 0.5) = 2^-19 -> (2^30, -18); left shift 20.
    p = q8.add_params(0.5, 2, 0.25, -1, 0.5, 10)
    assert (p.left_shift, p.input1_multiplier, p.input1_shift) == (20, HALF, 0)
    assert (p.input2_multiplier, p.input2_shift) == (HALF, -1)
    assert (p.output_multiplier, p.output_shift) == (HALF, -18)


def test_add_with_different_input_scales() -> None:
    # real = 0.5 * (a - 2) + 0.25 * (b + 1); y = real / 0.5 + 10, ties away from zero
    # (a, b) = (5, 0):    1.5 + 0.25  = 1.75  -> 3.5  -> 4 + 10 = 14
    # (a, b) = (5, -2):   1.5 - 0.25  = 1.25  -> 2.5  -> 3 + 10 = 13
    # (a, b) = (-1, 0):  -1.5 + 0.25  = -1.25 -> -2.5 -> -3 + 10 = 7  (RDBP tie away)
    # (a, b) = (127, 127): 62.5 + 32 = 94.5 -> 189 + 10 -> 127 (saturated)
    # Fixed point for (5, 0): (3 << 20) x0.5 = 3 * 2^19; (1 << 20) x0.5, /2 = 2^18;
    # sum 7 * 2^18, x0.5 = 7 * 2^17, RoundingDivideByPOT(., 18) = 3.5 -> 4.
    graph = _add_graph()
    out = _run(graph, a=_i8([[5, 5, -1, 127]]), b=_i8([[0, -2, 0, 127]]))
    np.testing.assert_array_equal(out, [[14, 13, 7, 127]])


def test_add_fused_clamp() -> None:
    graph = _add_graph(act_min=10, act_max=12)  # ReLU-to-1.0 in the output domain
    out = _run(graph, a=_i8([[5, 5, -1, 2]]), b=_i8([[0, -2, 0, -1]]))
    # unclamped 14, 13, 7, 10 (a = zp, b = zp: exactly 0.0 -> zp_out)
    np.testing.assert_array_equal(out, [[12, 12, 10, 10]])


# ---------------------------------------------------------------- Softmax


def _softmax(scale: float, n: int) -> Graph:
    x = Tensor("x", (1, n), "int8", quant=_q(scale, 0))
    y = Tensor("y", (1, n), "int8", quant=_q(1 / 256, -128))
    return _graph("Softmax", [x], y, {"axis": 1, "params": asdict(q8.softmax_params(scale))})


@pytest.mark.parametrize(("n", "value", "expected"), [
    (4, 0, -64),       # 1/4 * 256 = 64   -> 64 - 128 = -64
    (4, 127, -64),     # equal logits at the top of the range: same
    (10, -128, -102),  # 1/10 * 256 = 25.6 -> 26 - 128 = -102
    (1, 5, 127),       # one class: probability 1 -> 256 - 128 saturates at 127
])
def test_softmax_all_equal_logits(n: int, value: int, expected: int) -> None:
    out = _run(_softmax(0.1, n), x=np.full((1, n), value, np.int8))
    np.testing.assert_array_equal(out, np.full((1, n), expected, np.int8))


def test_softmax_one_dominant_logit() -> None:
    # scale 1: differences of -255 (far below diff_min = -15) are flushed to -128;
    # the winner has probability 1 -> 128, saturated to 127.
    out = _run(_softmax(1.0, 4), x=_i8([[-128, 127, -128, -128]]))
    np.testing.assert_array_equal(out, [[-128, 127, -128, -128]])


@pytest.mark.parametrize(("scale", "expected"), [
    # scale 1/16: diff = -255/16 = -15.94, e^-15.94 = 1.2e-7 -> [-128, 127]
    (0.0625, [-128, 127]),
    # scale 1/255: diff = -1 real: p = 1/(1+e) = 0.2689 -> 68.8 -> 69 - 128 = -59,
    # 0.7311 * 256 = 187.2 -> 187 - 128 = 59
    (1 / 255, [-59, 59]),
])
def test_softmax_int8_extremes(scale: float, expected: list[int]) -> None:
    out = _run(_softmax(scale, 2), x=_i8([[-128, 127]]))
    np.testing.assert_array_equal(out, [expected])


# ---------------------------------------------------------------- AveragePool


def test_average_pool_rounds_negative_sums_away_from_zero() -> None:
    # 2x2 windows over a 2x8 single-channel map (zero point 5 plays no part: no padding):
    #  [-1, -2, -2, -1]  sum -6: (-6 - 2) / 4 = -2   (-1.5 -> -2)
    #  [-1, -1, -1,  0]  sum -3: (-3 - 2) / 4 = -1   (-0.75 -> -1)
    #  [-1, -1,  0,  0]  sum -2: (-2 - 2) / 4 = -1   (-0.5 -> -1, tie away from zero)
    #  [ 1,  1,  0,  0]  sum  2: ( 2 + 2) / 4 =  1   (0.5 -> 1)
    x = Tensor("x", (1, 2, 8, 1), "int8", layout="NHWC", quant=_q(0.1, 5))
    y = Tensor("y", (1, 1, 4, 1), "int8", layout="NHWC", quant=_q(0.1, 5))
    graph = _graph("AveragePool", [x], y, {
        "kernel_shape": [2, 2], "strides": [2, 2], "dilations": [1, 1], "pads": [0, 0, 0, 0],
        "ceil_mode": 0, "count_include_pad": 0})
    top = [-1, -2, -1, -1, -1, -1, 1, 1]
    bottom = [-2, -1, -1, 0, 0, 0, 0, 0]
    out = _run(graph, x=_i8([top, bottom]).reshape(1, 2, 8, 1))
    np.testing.assert_array_equal(out.ravel(), [-2, -1, -1, 1])


def test_global_average_pool_negative_tie() -> None:
    # sum of [-3, -2, -1, 0] = -6 over 4: -1.5 -> -2 (away from zero); [3, 2, 1, 0]: 1.5 -> 2
    x = Tensor("x", (1, 2, 2, 2), "int8", layout="NHWC", quant=_q(0.1, 0))
    y = Tensor("y", (1, 1, 1, 2), "int8", layout="NHWC", quant=_q(0.1, 0))
    graph = _graph("GlobalAveragePool", [x], y, {})
    ch0 = np.array([-3, -2, -1, 0])
    out = _run(graph, x=_i8(np.stack([ch0, -ch0], axis=-1)).reshape(1, 2, 2, 2))
    np.testing.assert_array_equal(out.ravel(), [-2, 2])


# ---------------------------------------------------------------- LUT activations


def _lowered_activation(op: str, in_q: QuantParams, out_q: QuantParams) -> Graph:
    """A float graph annotated like the quantizer does, lowered by lower_int8 (builds the LUT)."""
    graph = _graph(op, [Tensor("x", (1, 256), "float32", quant=in_q)],
                   Tensor("y", (1, 256), "float32", quant=out_q), {})
    graph = lower_int8(graph)
    assert graph.tensors["x"].dtype == "int8" and len(graph.nodes[0].attrs["lut"]) == 256
    return graph


ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def test_sigmoid_lut_endpoints() -> None:
    # input scale 0.1, zp 0; output fixed at TFLite's 1/256, zp -128 (TFLM integer kernel):
    #  q = -128: x = -12.8, sigmoid 2.8e-6 -> 0 - 128 = -128
    #  q =  127: x = 12.7, sigmoid 0.999997 -> 256 - 128 -> saturated 127
    #  q =    0: 0.5 -> 128 - 128 = 0
    #  q =   10: x = 1.0, 0.7311 * 256 = 187.2 -> 59
    #  q =   -1: x = -0.1, 0.4750 * 256 = 121.6 -> 122 - 128 = -6
    # |q| >= input_range_radius (120 here) is saturated without evaluating.
    graph = _lowered_activation("Sigmoid", _q(0.1, 0), _q(1 / 256, -128))
    y = _run(graph, x=ALL_INT8).ravel()
    lut = dict(zip(range(-128, 128), y.tolist(), strict=True))
    assert (lut[-128], lut[-121], lut[127], lut[121]) == (-128, -128, 127, 127)
    assert (lut[0], lut[10], lut[-1], lut[1]) == (0, 59, -6, 6)
    assert np.all(np.diff(y.astype(int)) >= 0)  # monotone


def test_sigmoid_lut_with_input_zero_point() -> None:
    # input scale 0.05, zp -128: q = -128 is x = 0 -> 0.5 -> 0; q = -127 is x = 0.05,
    # sigmoid 0.5125 * 256 = 131.2 -> 3; q >= -1 is x >= 6.35, sigmoid > 0.998 -> 127.
    graph = _lowered_activation("Sigmoid", _q(0.05, -128), _q(1 / 256, -128))
    y = _run(graph, x=ALL_INT8).ravel()
    assert (y[0], y[1], y[127], y[255]) == (0, 3, 127, 127)


def test_relu_lut_rescales_and_clamps() -> None:
    # Relu is a table built from the float function: in scale 0.1 zp 0, out scale 0.05 zp -128:
    #  q <= 0 -> 0.0 -> -128;  q = 3 -> 0.3 / 0.05 = 6 -> -122;  q = 100 -> 200 -> 72;
    #  q = 127 -> 12.7 / 0.05 = 254 -> 126
    graph = _lowered_activation("Relu", _q(0.1, 0), _q(0.05, -128))
    y = _run(graph, x=_i8([[-128, -1, 0, 3, 100, 127] + [0] * 250])).ravel()[:6]
    np.testing.assert_array_equal(y, [-128, -128, -128, -122, 72, 126])


def test_new_unary_activations_quantize_to_exact_tables(tmp_path) -> None:
    """Elu/Softplus/Softsign/Neg/Abs/Exp: float reference, then int8 lookup tables."""
    import onnx
    from onnx import TensorProto, helper

    from effc.compiler import CompileOptions, compile_model
    from effc.reference import run_samples

    ops = ["Elu", "Softplus", "Softsign", "Neg", "Abs", "Exp"]
    names = ["x", *[f"y{i}" for i in range(len(ops))]]
    nodes = [helper.make_node(op, [names[i]], [names[i + 1]]) for i, op in enumerate(ops)]
    graph = helper.make_graph(nodes, "acts", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 16])], [helper.make_tensor_value_info(
            names[-1], TensorProto.FLOAT, [1, 16])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              tmp_path / "acts.onnx")
    x = np.linspace(-2, 2, 16 * 8, dtype=np.float32).reshape(8, 16)
    float_model = compile_model(tmp_path / "acts.onnx", tmp_path / "f",
                                CompileOptions(quantize="none"))
    ref = run_samples(float_model.graph, x)
    int8 = compile_model(tmp_path / "acts.onnx", tmp_path / "q", CompileOptions(calib=x))
    assert [n.op_type for n in int8.graph.nodes[1:-1]] == ops
    assert all(len(n.attrs["lut"]) == 256 for n in int8.graph.nodes[1:-1])
    got = run_samples(int8.graph, x)
    assert float(np.abs(got - ref).max()) < 0.05 * float(np.abs(ref).max())
