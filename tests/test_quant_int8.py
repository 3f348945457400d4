"""Hand-computed cases for effc.quant.int8 (TFLM int8 kernels and prepare helpers)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from effc.quant import fixedpoint as fp
from effc.quant import int8 as q8
from effc.quant import int8_pool as q8_pool

ONE = (1 << 30, 1)  # (multiplier, shift) for the real multiplier 1.0


def i8(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.int8)


# ------------------------------------------------------------- prepare helpers


def test_activation_range() -> None:
    assert q8.activation_range(None, 0.1, 5) == (-128, 127)
    assert q8.activation_range("relu", 0.1, -128) == (-128, 127)
    assert q8.activation_range("relu", 0.1, 10) == (10, 127)
    assert q8.activation_range("relu6", 0.05, -128) == (-128, -8)  # 6 / 0.05 = 120
    assert q8.activation_range("relu_n1_to_1", 0.01, 0) == (-100, 100)
    with pytest.raises(ValueError):
        q8.activation_range("gelu", 1.0, 0)


def test_conv_and_dense_multipliers_float32_vs_double_product() -> None:
    # ad01 layer 0: TFLM FC multiplies the float32 scales in float32 first.
    s_in, s_w, s_out = 0.39101523, 0.00037687, 0.04945913
    m_fc, sh_fc = q8.dense_multipliers(s_in, [s_w], s_out)
    m_cv, sh_cv = q8.conv_multipliers(s_in, [s_w], s_out)
    prod32 = float(np.float32(np.float32(s_in) * np.float32(s_w)))
    assert (int(m_fc[0]), int(sh_fc[0])) == fp.quantize_multiplier(
        prod32 / float(np.float32(s_out)))
    assert (int(m_cv[0]), int(sh_cv[0])) == fp.quantize_multiplier(
        float(np.float32(s_in)) * float(np.float32(s_w)) / float(np.float32(s_out)))
    assert int(m_fc[0]) != int(m_cv[0])  # the paths really differ here
    m_pc, _ = q8.dense_multipliers(0.5, [0.25, 0.5], 1.0)  # per-channel: double path
    assert m_pc.tolist() == [1 << 30, 1 << 30]


def test_add_params_unit_scales() -> None:
    p = q8.add_params(1.0, 0, 1.0, 0, 1.0, 0)
    assert (p.left_shift, p.input1_multiplier, p.input1_shift) == (20, 1 << 30, 0)
    assert (p.output_multiplier, p.output_shift) == (1 << 30, -18)  # 2 / 2^20
    assert q8.sub_params(1.0, 0, 1.0, 0, 1.0, 0) == p


def test_softmax_params_uses_float32_scale() -> None:
    p = q8.softmax_params(0.1)  # float32(0.1) = 0.10000000149
    assert (p.input_multiplier, p.input_left_shift) == (1717986944, 23)
    assert p.diff_min == -fp.calculate_input_radius(5, 23) == -248


def test_sigmoid_tanh_params() -> None:
    p = q8.sigmoid_tanh_params(0.1, 3)
    assert (p.input_multiplier, p.input_left_shift, p.input_range_radius) == (
        1717986944, 24, 120)


# ------------------------------------------------------------- conv / dense


def test_conv1d_basic_padding_stride_dilation_zero_point_bias() -> None:
    x = i8([1, 2, 3, 4]).reshape(1, 4, 1)
    w = i8([1, 1]).reshape(1, 2, 1)
    kw = dict(input_zero_point=0, output_zero_point=0, multiplier=[ONE[0]], shift=[ONE[1]])
    conv = q8.conv_int8
    assert conv(x, w, None, strides=[1], **kw).ravel().tolist() == [3, 5, 7]
    assert conv(x, w, None, strides=[1], pads=[1, 0], **kw).ravel().tolist() == [1, 3, 5, 7]
    assert conv(x, w, None, strides=[1], pads=[(0, 1)], **kw).ravel().tolist() == [3, 5, 7, 4]
    assert conv(x, w, None, strides=[2], **kw).ravel().tolist() == [3, 7]
    assert conv(x, w, None, strides=[1], dilations=[2], **kw).ravel().tolist() == [4, 6]
    kw["input_zero_point"] = 1  # x - 1 = [0, 1, 2, 3]; padded taps contribute 0
    got = conv(x, w, i8([10]).astype(np.int32), strides=[1], pads=[1, 0], **kw)
    assert got.ravel().tolist() == [10, 11, 13, 15]


def test_conv2d_output_zero_point_clamp_and_per_channel_shift() -> None:
    x = np.full((1, 2, 2, 1), 10, dtype=np.int8)
    w = np.ones((2, 2, 2, 1), dtype=np.int8)
    got = q8.conv_int8(x, w, None, strides=[1, 1], input_zero_point=0, output_zero_point=-5,
                       multiplier=[1 << 30, 1 << 30], shift=[1, -1],  # x1.0, x0.25
                       activation_min=-128, activation_max=20)
    assert got.shape == (1, 1, 1, 2)
    assert got.ravel().tolist() == [20, 5]  # 40 - 5 clamped to 20; 10 - 5


def test_depthwise_channel_multiplier_ordering() -> None:
    x = i8([5, 7]).reshape(1, 1, 1, 2)
    w = i8([1, 2, 3, 4]).reshape(4, 1, 1, 1)  # [C_in * mult, kh, kw, 1]
    got = q8.conv_int8(x, w, None, strides=[1, 1], group=2, input_zero_point=0,
                       output_zero_point=0, multiplier=ONE[0], shift=ONE[1])
    assert got.ravel().tolist() == [5, 10, 21, 28]  # o // 2 selects the input channel


def test_grouped_conv_matches_per_group_convs() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (1, 6, 5, 4), dtype=np.int8)
    w = rng.integers(-127, 128, (6, 3, 3, 2), dtype=np.int8)
    kw = dict(strides=[1, 2], pads=[1, 1, 1, 1], input_zero_point=3, output_zero_point=-1,
              multiplier=1 << 30, shift=-7)
    got = q8.conv_int8(x, w, None, group=2, **kw)
    a = q8.conv_int8(x[..., :2], w[:3], None, **kw)
    b = q8.conv_int8(x[..., 2:], w[3:], None, **kw)
    assert np.array_equal(got, np.concatenate([a, b], axis=-1))


def test_conv_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        q8.conv_int8(np.zeros((1, 4, 3), np.int8), np.zeros((2, 2, 2), np.int8), None,
                     strides=[1], input_zero_point=0, output_zero_point=0, multiplier=1,
                     shift=0)


def test_conv_speed_kws_first_layer() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (1, 49, 10, 1), dtype=np.int8)
    w = rng.integers(-127, 128, (64, 10, 4, 1), dtype=np.int8)
    x2 = rng.integers(-128, 128, (1, 49, 10, 64), dtype=np.int8)
    w2 = rng.integers(-127, 128, (64, 3, 3, 64), dtype=np.int8)
    kw = dict(input_zero_point=0, output_zero_point=0, multiplier=1 << 30, shift=-10)
    t0 = time.perf_counter()
    q8.conv_int8(x, w, None, strides=[2, 2], pads=[4, 1, 5, 2], **kw)
    q8.conv_int8(x2, w2, None, strides=[1, 1], pads=[1, 1, 1, 1], **kw)
    assert time.perf_counter() - t0 < 1.0


def test_dense() -> None:
    got = q8.dense_int8(i8([[1, 2, 3]]), i8([[1, 0, -1], [2, 2, 2]]), np.array([0, 1], np.int32),
                        input_zero_point=0, output_zero_point=0, multiplier=ONE[0],
                        shift=ONE[1])
    assert got.tolist() == [[-2, 13]]
    # (x - 2) = [-1, 0, 1]; rows: [1, 1, 1] -> 0, [0, 0, 5] -> 5; + 100, clamp at 101
    got = q8.dense_int8(i8([[1, 2, 3]]), i8([[1, 1, 1], [0, 0, 5]]), None,
                        input_zero_point=2, output_zero_point=100, multiplier=ONE[0],
                        shift=ONE[1], activation_max=101)
    assert got.tolist() == [[100, 101]]
    batched = q8.dense_int8(np.ones((2, 3, 3), np.int8), i8([[1, 1, 1]]), None,
                            input_zero_point=0, output_zero_point=0, multiplier=ONE[0],
                            shift=ONE[1])
    assert batched.shape == (2, 3, 1) and np.all(batched == 3)


# ------------------------------------------------------------- add / sub / mul


def test_add_broadcasting_unit_scales_is_integer_add() -> None:
    p = q8.add_params(1.0, 1, 1.0, -2, 1.0, 3)
    a = i8([[0, 10, 20], [-5, 100, 120]])
    b = i8([1, 2, 3])
    expected = np.clip((a.astype(int) - 1) + (b.astype(int) + 2) + 3, -128, 127)
    assert np.array_equal(q8.add_int8(a, b, p), expected)
    col = i8([[1], [2]])
    row = i8([[10, 20, 30]])
    got = q8.add_int8(col, row, p)
    assert got.shape == (2, 3)
    assert got.tolist() == [[15, 25, 35], [16, 26, 36]]
    assert q8.add_int8(i8([100]), i8([100]), p).tolist() == [127]  # saturation
    assert q8.add_int8(i8([1]), i8([1]), p, activation_max=5).tolist() == [5]


def test_add_rescales_with_rounding() -> None:
    # 0.5 * 3 + 1.0 * 0 on an output scale of 1.0: 1.5 -> 2
    p = q8.add_params(0.5, 0, 1.0, 0, 1.0, 0)
    assert q8.add_int8(i8([3, -3]), i8([0, 0]), p).tolist() == [2, -2]


def test_sub_broadcasting() -> None:
    p = q8.sub_params(1.0, 0, 1.0, 0, 1.0, 0)
    assert q8.sub_int8(i8([[5, 6], [7, 8]]), i8([1, -1]), p).tolist() == [[4, 7], [6, 9]]
    assert q8.sub_int8(i8([-100]), i8([100]), p).tolist() == [-128]


def test_mul() -> None:
    m, s = q8.mul_multiplier(1.0, 1.0, 1.0)
    assert (m, s) == ONE
    kw = dict(input1_zero_point=0, input2_zero_point=0, output_zero_point=0, multiplier=m,
              shift=s)
    assert q8.mul_int8(i8([3, -3, 20]), i8([4, 4, 20]), **kw).tolist() == [12, -12, 127]
    m, s = q8.mul_multiplier(0.5, 0.5, 1.0)  # x0.25
    kw.update(multiplier=m, shift=s, input1_zero_point=1)
    assert q8.mul_int8(i8([[3], [7]]), i8([3, 2]), **kw).tolist() == [[2, 1], [5, 3]]


# ------------------------------------------------------------- pooling


def test_avg_pool_rounding_of_negative_sums() -> None:
    def pool(vals: list[int]) -> int:
        x = i8(vals).reshape(1, len(vals), 1)
        return int(q8_pool.avg_pool_int8(x, [len(vals)], [1]).ravel()[0])

    assert pool([-1, -2]) == -2  # -1.5 -> -2 (away from zero)
    assert pool([1, 2]) == 2  # 1.5 -> 2
    assert pool([-1, 0]) == -1  # -0.5 -> -1
    assert pool([-1, 0, 0]) == 0  # -0.33 -> 0
    assert pool([-2, 0, 0]) == -1  # -0.67 -> -1
    assert pool([-2, 0, 0, 0]) == -1  # -0.5 -> -1
    assert pool([-1, 0, 0, 0]) == 0  # -0.25 -> 0
    assert pool([-128] * 4) == -128


def test_avg_pool_count_include_pad_modes() -> None:
    x = i8([4, 8]).reshape(1, 2, 1)
    ex = q8_pool.avg_pool_int8(x, [3], [1], [1, 1])
    assert ex.ravel().tolist() == [6, 6]  # 12 / 2
    inc = q8_pool.avg_pool_int8(x, [3], [1], [1, 1], count_include_pad=True)
    assert inc.ravel().tolist() == [4, 4]  # 12 / 3
    inc = q8_pool.avg_pool_int8(x, [3], [1], [1, 1], count_include_pad=True, zero_point=-3)
    assert inc.ravel().tolist() == [3, 3]  # (12 - 3) / 3


def test_avg_pool_2d_and_global() -> None:
    x = np.arange(16, dtype=np.int8).reshape(1, 4, 4, 1)
    got = q8_pool.avg_pool_int8(x, [2, 2], [2, 2])
    assert got.ravel().tolist() == [3, 5, 11, 13]  # 2.5, 4.5, 10.5, 12.5 rounded up
    g = q8_pool.global_avg_pool_int8(x)
    assert g.shape == (1, 1, 1, 1) and int(g.ravel()[0]) == 8  # 7.5 -> 8
    g1 = q8_pool.global_avg_pool_int8(np.full((2, 5, 3), -3, np.int8))
    assert g1.shape == (2, 1, 3) and np.all(g1 == -3)


def test_max_pool() -> None:
    x = np.array([[-5, 3], [7, -128]], dtype=np.int8).reshape(1, 2, 2, 1)
    assert q8_pool.max_pool_int8(x, [2, 2], [1, 1], [1, 1, 0, 0]).ravel().tolist() == [-5, 3, 7, 7]
    assert q8_pool.max_pool_int8(x, [2, 2], [2, 2], activation_max=5).ravel().tolist() == [5]
    neg = np.full((1, 1, 1), -100, np.int8)
    assert q8_pool.max_pool_int8(neg, [3], [1], [1, 1]).ravel().tolist() == [-100]  # pads never win


# ------------------------------------------------------------- softmax


def test_softmax_all_equal_inputs() -> None:
    p = q8.softmax_params(0.1)
    assert q8.softmax_int8(np.zeros((1, 4), np.int8), p).tolist() == [[-64] * 4]  # 64/256
    assert q8.softmax_int8(np.full((1, 10), 77, np.int8), p).tolist() == [[-102] * 10]  # 25.6
    assert np.all(q8.softmax_int8(np.full((2, 256), -128, np.int8), p) == -127)  # 1/256 -> 1


def test_softmax_one_huge_logit_and_diff_min() -> None:
    p = q8.softmax_params(1.0)
    assert p.diff_min > -255
    got = q8.softmax_int8(i8([[127, -128, -128]]), p)
    assert got.tolist() == [[127, -128, -128]]  # 256/256 saturates at 127
    p = q8.softmax_params(0.1)  # diff_min = -248
    got = q8.softmax_int8(i8([[127, 127 - 248, 127 - 249]]), p)
    assert int(got[0, 2]) == -128  # below diff_min: flushed
    assert int(got[0, 1]) == -128  # exp(-24.8) rounds to 0 anyway


def test_softmax_int8_extremes_close_to_float() -> None:
    p = q8.softmax_params(0.01)
    got = q8.softmax_int8(i8([[-128, 127]]), p)
    assert got.tolist() == [[-109, 109]]
    z = np.exp(np.array([-2.55, 0.0]))
    assert np.all(np.abs(got[0].astype(int) + 128 - z / z.sum() * 256) <= 1)


def test_softmax_axis_is_last() -> None:
    x = np.random.default_rng(5).integers(-128, 128, (2, 3, 7), dtype=np.int8)
    p = q8.softmax_params(0.2)
    got = q8.softmax_int8(x, p)
    assert np.array_equal(got[1, 2], q8.softmax_int8(x[1, 2][None], p)[0])


# ------------------------------------------------------------- activations and LUTs


def test_logistic_and_tanh_int8() -> None:
    p = q8.sigmoid_tanh_params(0.1, 0)
    x = i8([0, -120, 120, -128, 127, 10])
    lg = q8.logistic_int8(x, p)
    assert lg[:5].tolist() == [0, -128, 127, -128, 127]  # 0.5 -> 128 - 128; radius 120
    assert abs((int(lg[5]) + 128) / 256 - 1 / (1 + math.exp(-1.0))) <= 1 / 256
    th = q8.tanh_int8(x, p)
    assert th[:5].tolist() == [0, -128, 127, -128, 127]
    assert abs(int(th[5]) / 128 - math.tanh(1.0)) <= 1 / 128


def test_leaky_relu_int8() -> None:
    p = q8.leaky_relu_params(1.0, 0, 0.5, 1.0, 0)
    got = q8.leaky_relu_int8(i8([5, 0, -3, -4, -128, 127]), p)
    assert got.tolist() == [5, 0, -1, -2, -64, 127]  # -1.5 -> -1 (SRDHM rounds half up)


def test_hard_swish_int8_close_to_float() -> None:
    p = q8.hard_swish_params(0.05, 0, 0.03, 0)
    x = np.arange(-128, 128, dtype=np.int8)
    got = q8.hard_swish_int8(x, p).astype(int)
    v = x * 0.05
    ref = np.clip(np.round(v * np.clip(v + 3, 0, 6) / 6 / 0.03), -128, 127)
    assert np.max(np.abs(got - ref)) <= 1
    assert int(got[128]) == 0  # hard_swish(0) = 0


def test_lut_endpoints_and_identity() -> None:
    lut = q8.build_lut_int8("sigmoid", 0.1, 0, 1 / 256, -128)
    assert lut.shape == (256,) and lut.dtype == np.int8
    assert int(lut[0]) == -128 and int(lut[255]) == 127  # sigmoid(-12.8) ~ 0, (12.7) ~ 1
    assert int(lut[128]) == 0  # 0.5 * 256 - 128
    x = i8([-128, 0, 127])
    assert q8.apply_lut(x, lut).tolist() == [-128, 0, 127]
    elu = q8.build_lut_int8("elu", 0.05, 3, 0.05, 3)
    pos = np.arange(3, 128)
    assert np.array_equal(elu[pos + 128], pos)  # identity for x >= 0
    sel = q8.build_lut_int8("selu", 0.05, 0, 0.05, 0, precision="float64")
    assert int(sel[128 + 20]) == round(20 * 1.0507009873554805)
    assert int(sel[0]) == round(1.0507009873554805 * 1.6732632423543772
                                * (math.exp(-6.4) - 1) / 0.05)


def test_lut_rounds_half_away_from_zero() -> None:
    half = q8.build_lut_int8(lambda v: v, 1.0, 0, 2.0, 0)  # q / 2
    assert half[128 + 1] == 1 and half[128 - 1] == -1 and half[128 + 3] == 2
    assert half[128 - 3] == -2


# ------------------------------------------------------------- (de|re)quantize


def test_quantize_ties_clamp_and_nan() -> None:
    got = q8.quantize([0.25, -0.25, 0.75, -0.75, 0.0, 1000.0, -1000.0], 0.5, -3)
    assert got.tolist() == [-2, -4, -1, -5, -3, 127, -128]
    assert q8.quantize([np.nan, np.inf, -np.inf], 0.5, 0).tolist() == [0, 127, -128]


def test_dequantize() -> None:
    got = q8.dequantize(i8([-128, 0, 5, 127]), 0.5, 5)
    assert got.dtype == np.float32
    assert got.tolist() == [-66.5, -2.5, 0.0, 61.0]


def test_requantize() -> None:
    m, s = q8.requantize_multiplier(1.0, 2.0)  # x0.5
    assert (m, s) == (1 << 30, 0)
    got = q8.requantize_int8(i8([3, -3, 4, 127, -128]), input_zero_point=0,
                             output_zero_point=0, multiplier=m, shift=s)
    assert got.tolist() == [2, -1, 2, 64, -64]  # 1.5 -> 2 but -1.5 -> -1
    m, s = q8.requantize_multiplier(1.0, 0.5)
    got = q8.requantize_int8(i8([100, -3]), input_zero_point=-3, output_zero_point=1,
                             multiplier=m, shift=s)
    assert got.tolist() == [127, 1]


def test_tiny_effective_scale_flushes_to_output_zero_point() -> None:
    m, s = q8.conv_multipliers(1e-6, [1e-6], 1.0)  # 1e-12 < 2^-32: QuantizeMultiplier -> 0
    assert (m.tolist(), s.tolist()) == ([0], [0])
    got = q8.conv_int8(np.full((1, 3, 1), 127, np.int8), np.full((1, 1, 1), 127, np.int8),
                       None, strides=[1], input_zero_point=0, output_zero_point=-7,
                       multiplier=m, shift=s)
    assert np.all(got == -7)
