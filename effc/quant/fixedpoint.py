"""TFLite / gemmlowp fixed-point primitives, vectorised over numpy int64 arrays.

This is the single Python home of effc's integer arithmetic. Every function is
bit-exact with the TensorFlow Lite Micro build (double rounding, i.e. without
``TFLITE_SINGLE_ROUNDING``) and with gemmlowp's ``fixedpoint.h``:

* values are held in ``int64`` arrays but represent C ``int32_t`` values;
  wherever the C code relies on two's-complement ``int32`` wrap-around
  (``x * (1 << shift)``, fixed-point adds) the result is wrapped to 32 bits;
* C integer division truncates toward zero; that is reproduced explicitly;
* ``shift`` follows the TFLite convention: ``shift > 0`` shifts left before the
  high multiply, ``shift < 0`` rounds right after it,
  ``real ~= multiplier * 2**(shift - 31)``.

Scalars give 0-d arrays back; all array arguments broadcast.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT16_MIN = -(2**15)
INT16_MAX = 2**15 - 1

I64 = NDArray[np.int64]


def _i64(x: ArrayLike) -> I64:
    return np.asarray(x, dtype=np.int64)


def wrap_int32(x: ArrayLike) -> I64:
    """Two's-complement wrap of int64 values to the int32 range (C cast)."""
    a = _i64(x)
    return ((a + 2**31) & 0xFFFFFFFF) - 2**31


def _trunc_div_pot(x: I64, exponent: int) -> I64:
    """C-style ``x / 2**exponent`` (truncation toward zero)."""
    q = np.abs(x) >> exponent
    return np.where(x < 0, -q, q)


def tflite_round(x: ArrayLike) -> np.ndarray:
    """Mirrors TfLiteRound (std::round): half away from zero, in the input's float type."""
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    t = np.trunc(a)
    frac = a - t  # exact in binary floating point
    return t + np.where(np.abs(frac) >= 0.5, np.sign(a), 0).astype(a.dtype)


# --------------------------------------------------------------------------
# Prepare-time multiplier computation (quantization_util.cc)
# --------------------------------------------------------------------------


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Mirrors tflite::QuantizeMultiplier (double -> Q31 multiplier, exponent)."""
    real = float(real)
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    scaled = q * float(1 << 31)  # exact: power-of-two scaling
    q_fixed = int(tflite_round(scaled))
    if q_fixed > (1 << 31):
        raise ValueError(f"QuantizeMultiplier: q_fixed overflow for {real!r}")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if q_fixed > INT32_MAX:
        raise ValueError(f"QuantizeMultiplier: multiplier out of range for {real!r}")
    if shift < -31:
        shift = 0
        q_fixed = 0
    return q_fixed, shift


def quantize_multiplier_array(reals: ArrayLike) -> tuple[I64, I64]:
    """Mirrors tflite::QuantizeMultiplierArray (element-wise QuantizeMultiplier)."""
    flat = np.asarray(reals, dtype=np.float64).reshape(-1)
    pairs = [quantize_multiplier(float(r)) for r in flat]
    shape = np.shape(reals)
    mult = np.array([p[0] for p in pairs], dtype=np.int64).reshape(shape)
    shift = np.array([p[1] for p in pairs], dtype=np.int64).reshape(shape)
    return mult, shift


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """Mirrors tflite::QuantizeMultiplierSmallerThanOneExp (0 < real < 1, shift <= 0)."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"multiplier must be in (0, 1), got {real!r}")
    mult, shift = quantize_multiplier(real)
    if shift > 0:
        raise ValueError(f"unexpected positive shift {shift} for {real!r}")
    return mult, shift


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """Mirrors tflite::QuantizeMultiplierGreaterThanOne (real > 1, shift >= 0)."""
    if not real > 1.0:
        raise ValueError(f"multiplier must be > 1, got {real!r}")
    mult, shift = quantize_multiplier(real)
    if shift < 0:
        raise ValueError(f"unexpected negative shift {shift} for {real!r}")
    return mult, shift


def calculate_input_radius(
    input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31
) -> int:
    """Mirrors tflite::CalculateInputRadius (floor of the largest safe |input|)."""
    max_input_rescaled = (
        1.0
        * ((1 << input_integer_bits) - 1)
        * float(1 << (total_signed_bits - input_integer_bits))
        / float(1 << input_left_shift)
    )
    return math.floor(max_input_rescaled)


def preprocess_softmax_scaling(
    beta: float, input_scale: float, input_integer_bits: int
) -> tuple[int, int]:
    """Mirrors tflite::PreprocessSoftmaxScaling (non-single-rounding build)."""
    max_real_multiplier = float((1 << 31) - 1)
    real = min(
        float(beta) * float(input_scale) * float(1 << (31 - input_integer_bits)),
        max_real_multiplier,
    )
    return quantize_multiplier_greater_than_one(real)


def downscale_int32_to_int16_multiplier(multiplier: int) -> int:
    """Mirrors tflite::DownScaleInt32ToInt16Multiplier (rounded Q15 multiplier)."""
    if multiplier < 0:
        raise ValueError("multiplier must be non-negative")
    if multiplier >= INT32_MAX - (1 << 15):
        return INT16_MAX
    return (multiplier + (1 << 15)) >> 16


# --------------------------------------------------------------------------
# Run-time primitives (gemmlowp fixedpoint.h, tflite common.h/common.cc)
# --------------------------------------------------------------------------


def saturating_rounding_doubling_high_mul(a: ArrayLike, b: ArrayLike) -> I64:
    """Mirrors gemmlowp::SaturatingRoundingDoublingHighMul<int32_t> (ARM VQRDMULH)."""
    a64, b64 = np.broadcast_arrays(_i64(a), _i64(b))
    overflow = (a64 == b64) & (a64 == INT32_MIN)
    ab = a64 * b64
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = _trunc_div_pot(ab + nudge, 31)
    return np.where(overflow, INT32_MAX, res)


def rounding_divide_by_pot(x: ArrayLike, exponent: ArrayLike) -> I64:
    """Mirrors gemmlowp::RoundingDivideByPOT (rounding arithmetic right shift, ties away)."""
    x64, e64 = np.broadcast_arrays(_i64(x), _i64(exponent))
    if np.any((e64 < 0) | (e64 > 31)):
        raise ValueError("RoundingDivideByPOT exponent must be in [0, 31]")
    mask = (np.int64(1) << e64) - 1
    remainder = x64 & mask
    threshold = (mask >> 1) + (x64 < 0)
    return (x64 >> e64) + (remainder > threshold)


def saturating_rounding_multiply_by_pot(x: ArrayLike, exponent: int) -> I64:
    """Mirrors gemmlowp::SaturatingRoundingMultiplyByPOT<Exponent> for int32 raws."""
    x64 = _i64(x)
    if exponent == 0:
        return x64
    if exponent < 0:
        return rounding_divide_by_pot(x64, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    res = wrap_int32(x64 << exponent)
    res = np.where(x64 > threshold, INT32_MAX, res)
    return np.where(x64 < -threshold, INT32_MIN, res)


def multiply_by_quantized_multiplier(
    x: ArrayLike, multiplier: ArrayLike, shift: ArrayLike
) -> I64:
    """Mirrors tflite::MultiplyByQuantizedMultiplier(int32_t x, ...) (double rounding)."""
    x64, m64, s64 = np.broadcast_arrays(_i64(x), _i64(multiplier), _i64(shift))
    left = np.maximum(s64, 0)
    right = np.maximum(-s64, 0)
    shifted = wrap_int32(x64 * (np.int64(1) << left))
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m64), right)


def multiply_by_quantized_multiplier_single_rounding(
    x: ArrayLike, multiplier: ArrayLike, shift: ArrayLike
) -> I64:
    """Mirrors tflite::MultiplyByQuantizedMultiplier built with TFLITE_SINGLE_ROUNDING=1."""
    x64, m64, s64 = np.broadcast_arrays(_i64(x), _i64(multiplier), _i64(shift))
    total_shift = 31 - s64
    rnd = np.int64(1) << (total_shift - 1)
    return wrap_int32((x64 * m64 + rnd) >> total_shift)


def multiply_by_quantized_multiplier_smaller_than_one_exp(
    x: ArrayLike, multiplier: ArrayLike, left_shift: ArrayLike
) -> I64:
    """Mirrors tflite::MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0)."""
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x, multiplier), -_i64(left_shift)
    )


def multiply_by_quantized_multiplier_greater_than_one(
    x: ArrayLike, multiplier: ArrayLike, left_shift: ArrayLike
) -> I64:
    """Mirrors tflite::MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0)."""
    shifted = wrap_int32(_i64(x) * (np.int64(1) << _i64(left_shift)))
    return saturating_rounding_doubling_high_mul(shifted, multiplier)


def rounding_half_sum(a: ArrayLike, b: ArrayLike) -> I64:
    """Mirrors gemmlowp::RoundingHalfSum<int32_t> ((a + b) / 2, ties away from zero)."""
    s = _i64(a) + _i64(b)
    return _trunc_div_pot(s + np.where(s >= 0, 1, -1), 1)


def count_leading_zeros_u32(x: ArrayLike) -> I64:
    """Mirrors tflite::CountLeadingZeros<uint32_t> (32 for zero)."""
    u = _i64(x) & 0xFFFFFFFF
    _, bit_length = np.frexp(u.astype(np.float64))  # exact for 32-bit values
    return 32 - bit_length.astype(np.int64)


# --------------------------------------------------------------------------
# gemmlowp transcendental functions on raw int32 fixed-point values
# --------------------------------------------------------------------------

_EXP_MINUS_ONE_EIGHTH_Q31 = 1895147668
_ONE_THIRD_Q31 = 715827883
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))
_F2_48_OVER_17 = 1515870810
_F2_NEG_32_OVER_17 = -1010580540


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: ArrayLike) -> I64:
    """Mirrors gemmlowp::exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31)."""
    srdhm = saturating_rounding_doubling_high_mul
    x = wrap_int32(_i64(a) + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = srdhm(wrap_int32(x4_over_4 + x3), _ONE_THIRD_Q31)
    poly = rounding_divide_by_pot(wrap_int32(poly + x2), 1)
    c = _EXP_MINUS_ONE_EIGHTH_Q31
    return wrap_int32(c + srdhm(c, wrap_int32(x + poly)))


def exp_on_negative_values(a: ArrayLike, integer_bits: int) -> I64:
    """Mirrors gemmlowp::exp_on_negative_values: Q(integer_bits) input <= 0 -> Q0.31."""
    a64 = _i64(a)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_quarter = wrap_int32((a64 & (one_quarter - 1)) - one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_quarter, integer_bits)
    )
    remainder = wrap_int32(a_mod_quarter_minus_quarter - a64)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = np.int64(1) << (frac_bits + exponent)
            result = np.where(
                (remainder & bit) != 0,
                saturating_rounding_doubling_high_mul(result, multiplier),
                result,
            )
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        result = np.where(a64 < clamp, 0, result)
    return np.where(a64 == 0, INT32_MAX, result)


def _newton_reciprocal_f2(half_denominator: I64) -> I64:
    """Shared Newton-Raphson loop of gemmlowp's 1/(1+x) helpers; returns an F2 raw."""
    srdhm = saturating_rounding_doubling_high_mul
    f2_one = 1 << 29
    x = wrap_int32(_F2_48_OVER_17 + srdhm(half_denominator, _F2_NEG_32_OVER_17))
    for _ in range(3):
        one_minus = wrap_int32(f2_one - srdhm(half_denominator, x))
        x = wrap_int32(x + saturating_rounding_multiply_by_pot(srdhm(x, one_minus), 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: ArrayLike) -> I64:
    """Mirrors gemmlowp::one_over_one_plus_x_for_x_in_0_1 (Q0.31 in, Q0.31 out)."""
    x = _newton_reciprocal_f2(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(x, 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: ArrayLike) -> I64:
    """Mirrors gemmlowp::one_minus_x_over_one_plus_x_for_x_in_0_1 (Q0.31)."""
    x = _newton_reciprocal_f2(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(wrap_int32(x - (1 << 29)), 2)


def fixedpoint_logistic(a: ArrayLike, integer_bits: int) -> I64:
    """Mirrors gemmlowp::logistic: Q(integer_bits) raw -> Q0.31 raw."""
    a64 = _i64(a)
    positive = a64 > 0
    abs_input = np.where(positive, a64, wrap_int32(-a64))
    pos = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap_int32(-abs_input), integer_bits)
    )
    neg = wrap_int32(INT32_MAX - pos)
    return np.where(a64 == 0, 1 << 30, np.where(positive, pos, neg))


def fixedpoint_tanh(a: ArrayLike, integer_bits: int) -> I64:
    """Mirrors gemmlowp::tanh: Q(integer_bits) raw -> Q0.31 raw."""
    a64 = _i64(a)
    negative = a64 < 0
    n = np.where(negative, a64, wrap_int32(-a64))
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a64 == 0, 0, np.where(negative, wrap_int32(-t), t))


def get_reciprocal(x: ArrayLike, x_integer_digits: int) -> tuple[I64, I64]:
    """Mirrors tflite::GetReciprocal: returns (Q0.31 reciprocal, num_bits_over_unit)."""
    x64 = _i64(x)
    headroom_plus_one = count_leading_zeros_u32(x64)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x64 & 0xFFFFFFFF) << headroom_plus_one) & 0xFFFFFFFF
    shifted_sum_minus_one = wrap_int32(shifted - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


# --------------------------------------------------------------------------
# int16 helpers (used by TFLM's int8 HardSwish, which computes in int16)
# --------------------------------------------------------------------------


def _wrap_int16(x: ArrayLike) -> I64:
    return ((_i64(x) + 2**15) & 0xFFFF) - 2**15


def saturating_rounding_doubling_high_mul_int16(a: ArrayLike, b: ArrayLike) -> I64:
    """Mirrors gemmlowp::SaturatingRoundingDoublingHighMul<int16_t>."""
    a64, b64 = np.broadcast_arrays(_i64(a), _i64(b))
    overflow = (a64 == b64) & (a64 == INT16_MIN)
    ab = a64 * b64
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    res = _wrap_int16(_trunc_div_pot(ab + nudge, 15))
    return np.where(overflow, INT16_MAX, res)


def saturating_doubling_high_mul_int16(a: ArrayLike, b: ArrayLike) -> I64:
    """Mirrors tflite::reference_ops::SaturatingDoublingHighMul (int16, truncating)."""
    a64, b64 = np.broadcast_arrays(_i64(a), _i64(b))
    overflow = (a64 == b64) & (a64 == INT16_MIN)
    res = _wrap_int16(_trunc_div_pot(a64 * b64, 15))
    return np.where(overflow, INT16_MAX, res)


def saturating_left_shift_int16(x: ArrayLike, amount: int) -> I64:
    """Mirrors tflite::reference_ops::SaturatingLeftShift (int16)."""
    return np.clip(_i64(x) * (1 << amount), INT16_MIN, INT16_MAX)
