"""Hand-computed cases for effc.quant.fixedpoint (TFLite / gemmlowp primitives)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from effc.quant import fixedpoint as fp

INT32_MIN, INT32_MAX = fp.INT32_MIN, fp.INT32_MAX
int32s = st.integers(INT32_MIN, INT32_MAX)


# ------------------------------------------------------------- QuantizeMultiplier


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (1610612736, 0)),
        (3.0, (1610612736, 2)),
        (-0.5, (-(1 << 30), 0)),
        (0.1, (1717986918, -3)),  # 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4
        (2.0**-32, (1 << 30, -31)),  # smallest exponent that survives
    ],
)
def test_quantize_multiplier_values(real: float, expected: tuple[int, int]) -> None:
    assert fp.quantize_multiplier(real) == expected


def test_quantize_multiplier_rounds_up_to_2_pow_31() -> None:
    # frexp gives q = 1 - 2^-40; q * 2^31 rounds to 2^31 -> halved, shift + 1.
    assert fp.quantize_multiplier(1.0 - 2.0**-40) == (1 << 30, 1)
    assert fp.quantize_multiplier(0.5 - 2.0**-41) == (1 << 30, 0)


def test_quantize_multiplier_flushes_tiny_to_zero() -> None:
    assert fp.quantize_multiplier(2.0**-33) == (0, 0)  # shift would be -32
    assert fp.quantize_multiplier(1e-12) == (0, 0)


def test_quantize_multiplier_round_half_away() -> None:
    # q * 2^31 = 2^30 + 0.5 exactly -> rounds away from zero to 2^30 + 1.
    real = (2**30 + 0.5) / 2**31
    assert fp.quantize_multiplier(real) == (2**30 + 1, 0)
    assert fp.quantize_multiplier(-real) == (-(2**30 + 1), 0)


def test_quantize_multiplier_array_and_variants() -> None:
    m, s = fp.quantize_multiplier_array([[0.5, 0.25], [2.0, 0.0]])
    assert m.tolist() == [[1 << 30, 1 << 30], [1 << 30, 0]]
    assert s.tolist() == [[0, -1], [2, 0]]
    assert fp.quantize_multiplier_smaller_than_one_exp(0.25) == (1 << 30, -1)
    assert fp.quantize_multiplier_greater_than_one(6.0) == (1610612736, 3)
    with pytest.raises(ValueError):
        fp.quantize_multiplier_smaller_than_one_exp(1.5)
    with pytest.raises(ValueError):
        fp.quantize_multiplier_greater_than_one(0.5)


def test_softmax_prepare_helpers() -> None:
    # 0.1 * 2^26 = 6710886.4 = 0.8 * 2^23
    assert fp.preprocess_softmax_scaling(1.0, 0.1, 5) == (1717986918, 23)
    # multiplier capped at 2^31 - 1 for huge beta * scale
    assert fp.preprocess_softmax_scaling(1.0, 1e6, 5) == (INT32_MAX, 31)
    assert fp.calculate_input_radius(5, 26) == 31
    assert fp.calculate_input_radius(5, 20) == 31 * 64
    assert fp.calculate_input_radius(4, 24) == 120  # 15 * 2^27 / 2^24
    assert fp.downscale_int32_to_int16_multiplier(1 << 30) == 1 << 14
    assert fp.downscale_int32_to_int16_multiplier(INT32_MAX) == fp.INT16_MAX


# ------------------------------------------------------------- SRDHM / RDBPOT


def test_srdhm_saturation_and_rounding() -> None:
    srdhm = fp.saturating_rounding_doubling_high_mul
    assert srdhm(INT32_MIN, INT32_MIN) == INT32_MAX  # the only overflow
    assert srdhm(INT32_MIN, INT32_MAX) == -INT32_MAX
    assert srdhm(INT32_MAX, INT32_MAX) == INT32_MAX - 1
    assert srdhm(1 << 30, 1 << 30) == 1 << 29
    # ties: +0.5 -> 1, -0.5 -> 0, -1.5 -> -1 (nudge then truncate = half up)
    assert srdhm(1, 1 << 30) == 1
    assert srdhm(-1, 1 << 30) == 0
    assert srdhm(-3, 1 << 30) == -1
    assert srdhm(0, INT32_MIN) == 0


@given(int32s, int32s)
@settings(max_examples=300, deadline=None)
def test_srdhm_matches_exact_definition(a: int, b: int) -> None:
    if a == b == INT32_MIN:
        expected = INT32_MAX
    else:
        ab = a * b
        num = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
        expected = int(Fraction(num, 1 << 31))  # C truncation toward zero
    assert fp.saturating_rounding_doubling_high_mul(a, b) == expected


def test_rdbpot_negative_ties_round_away() -> None:
    got = fp.rounding_divide_by_pot([-3, -2, -1, 1, 3, -5, -6, 5, 6, 7], 1)
    assert got.tolist() == [-2, -1, -1, 1, 2, -3, -3, 3, 3, 4]
    got = fp.rounding_divide_by_pot([-5, -6, -7, 5, 6, 7], 2)  # -1.25 -1.5 -1.75 ...
    assert got.tolist() == [-1, -2, -2, 1, 2, 2]
    assert fp.rounding_divide_by_pot(INT32_MIN, 31) == -1
    assert fp.rounding_divide_by_pot(INT32_MAX, 31) == 1
    assert fp.rounding_divide_by_pot(-12345, 0) == -12345
    with pytest.raises(ValueError):
        fp.rounding_divide_by_pot(1, 32)


@given(int32s, st.integers(0, 31))
@settings(max_examples=300, deadline=None)
def test_rdbpot_is_round_half_away_from_zero(x: int, e: int) -> None:
    q = Fraction(x, 1 << e)
    expected = math.floor(abs(q) + Fraction(1, 2)) * (1 if q >= 0 else -1)
    assert fp.rounding_divide_by_pot(x, e) == expected


def test_rdbpot_broadcasts_per_channel_exponents() -> None:
    got = fp.rounding_divide_by_pot([[10, 10, 10]], [0, 1, 2])
    assert got.tolist() == [[10, 5, 3]]


def test_saturating_rounding_multiply_by_pot() -> None:
    f = fp.saturating_rounding_multiply_by_pot
    assert f(3, 2) == 12
    assert f(1 << 29, 2) == INT32_MAX  # saturates upwards
    assert f(-(1 << 29), 2) == INT32_MIN
    assert f(-(1 << 29) + 1, 2) == -(1 << 31) + 4
    assert f(-6, -2) == -2


# ------------------------------------------------------------- MultiplyByQuantizedMultiplier


def test_mbqm_shift_zero_positive_negative() -> None:
    mbqm = fp.multiply_by_quantized_multiplier
    assert mbqm(100, 1 << 30, 0) == 50  # x * 0.5
    assert mbqm(3, 1 << 30, 2) == 6  # shift > 0: left shift first: 3 * 4 * 0.5
    assert mbqm(5, 1 << 30, -1) == 2  # 1.25, double rounding: 2.5 -> 3, 1.5 -> 2
    assert mbqm(-5, 1 << 30, -1) == -1  # -2.5 -> -2 (SRDHM), -1 -> -1
    assert mbqm(7, 0, 0) == 0
    assert mbqm(1 << 20, 1 << 30, -31) == 0


def test_mbqm_double_vs_single_rounding() -> None:
    # The desktop-vs-Micro difference in one line: 5 * 0.25 = 1.25.
    assert fp.multiply_by_quantized_multiplier(5, 1 << 30, -1) == 2
    assert fp.multiply_by_quantized_multiplier_single_rounding(5, 1 << 30, -1) == 1


def test_mbqm_wraps_left_shift_like_int32() -> None:
    # x * (1 << 2) overflows int32 in C; TFLite relies on two's complement.
    x = (1 << 30) + 1
    expected = fp.saturating_rounding_doubling_high_mul(fp.wrap_int32(x * 4), 1 << 30)
    assert fp.multiply_by_quantized_multiplier(x, 1 << 30, 2) == expected


def test_mbqm_per_channel_broadcast() -> None:
    got = fp.multiply_by_quantized_multiplier(
        [[10, 10], [-10, -10]], [1 << 30, 1610612736], [0, 1])
    assert got.tolist() == [[5, 15], [-5, -15]]


def test_mbqm_smaller_and_greater_than_one() -> None:
    assert fp.multiply_by_quantized_multiplier_smaller_than_one_exp(12, 1 << 30, -2) == 2  # 1.5->2
    assert fp.multiply_by_quantized_multiplier_greater_than_one(3, 1 << 30, 4) == 24


def test_wrap_and_clz_and_round() -> None:
    assert fp.wrap_int32([2**31, -(2**31) - 1, 5]).tolist() == [INT32_MIN, INT32_MAX, 5]
    assert fp.count_leading_zeros_u32([0, 1, 1 << 19, INT32_MAX, -1]).tolist() == [32, 31, 12, 1, 0]
    assert fp.tflite_round([0.5, -0.5, 1.5, -2.5, 0.49999997]).tolist() == [1, -1, 2, -3, 0]
    assert fp.tflite_round(np.float32(2.5)).dtype == np.float32


# ------------------------------------------------------------- gemmlowp functions


def test_rounding_half_sum() -> None:
    assert fp.rounding_half_sum([1, -1, 2, INT32_MAX], [0, 0, 3, INT32_MAX]).tolist() == [
        1, -1, 3, INT32_MAX]


def test_exp_on_negative_values() -> None:
    f = fp.exp_on_negative_values
    assert f(0, 5) == INT32_MAX  # exp(0) = 1
    vals = f(np.array([-(1 << 26), -(3 << 25), -(1 << 24)]), 5)  # -1, -1.5, -0.25 in Q5.26
    expected = [math.exp(-1), math.exp(-1.5), math.exp(-0.25)]
    assert np.all(np.abs(vals / 2**31 - expected) < 5e-7)  # gemmlowp accuracy ~2e-7
    assert f(-(33 << 25), 6) == 0  # below -32 clamps to 0 (Q6.25)
    q4 = f(np.arange(0, -(16 << 27), -(1 << 23)), 4)  # monotone decreasing on [-16, 0]
    assert np.all(np.diff(q4) <= 0)


def test_exp_on_small_interval_constant_term() -> None:
    # exp(-1/8) is evaluated exactly at the Taylor expansion point.
    assert abs(fp.exp_on_interval_between_negative_one_quarter_and_0_excl(-(1 << 28))
               - round(math.exp(-1 / 8) * 2**31)) <= 1


def test_one_over_one_plus_x() -> None:
    got = fp.one_over_one_plus_x_for_x_in_0_1([0, 1 << 30, INT32_MAX])
    assert got.tolist() == [INT32_MAX, 1431655762, 1073741820]  # 1, 2/3, 1/2
    got = fp.one_minus_x_over_one_plus_x_for_x_in_0_1([0, 1 << 30])
    assert got.tolist() == [INT32_MAX, 715827876]  # 1, 1/3


def test_get_reciprocal() -> None:
    recip, bits = fp.get_reciprocal([1 << 19, 3 << 19], 12)  # 1.0 and 3.0 in Q12.19
    assert recip.tolist() == [INT32_MAX, 1431655762]
    assert bits.tolist() == [0, 1]  # 1/3 = (2/3) * 2^-1


def test_fixedpoint_logistic_and_tanh() -> None:
    x = np.array([0, 1 << 27, -(1 << 27), 15 << 27])  # 0, 1, -1, 15 in Q4.27
    lg = fp.fixedpoint_logistic(x, 4) / 2**31
    assert lg[0] == 0.5
    assert np.allclose(lg[1:], 1 / (1 + np.exp(-np.array([1, -1, 15]))), atol=1e-8)
    th = fp.fixedpoint_tanh(x, 4) / 2**31
    assert th[0] == 0
    assert np.allclose(th[1:], np.tanh([1, -1, 15]), atol=1e-8)


def test_int16_helpers() -> None:
    i16_min, i16_max = fp.INT16_MIN, fp.INT16_MAX
    assert fp.saturating_rounding_doubling_high_mul_int16(i16_min, i16_min) == i16_max
    assert fp.saturating_rounding_doubling_high_mul_int16(1, 1 << 14) == 1  # 0.5 -> 1
    assert fp.saturating_doubling_high_mul_int16(1, 1 << 14) == 0  # truncates
    assert fp.saturating_doubling_high_mul_int16(-3, 1 << 14) == -1  # -1.5 -> -1
    assert fp.saturating_left_shift_int16([20000, -20000, 3], 1).tolist() == [
        fp.INT16_MAX, fp.INT16_MIN, 6]
