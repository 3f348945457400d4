/*
 * effc_requant.h - the one C home of effc's fixed-point requantization.
 *
 * Bit-exact with TensorFlow Lite Micro (default build, i.e. double rounding,
 * without TFLITE_SINGLE_ROUNDING) and with gemmlowp's fixedpoint.h, and with
 * effc/quant/fixedpoint.py on the Python side.
 *
 * Conventions (docs/conventions.md):
 *   multiplier  Q31 value in [2^30, 2^31) or 0,
 *   shift       TFLite sign: shift > 0 shifts left before the high multiply,
 *               shift < 0 rounds right after it;
 *               real_multiplier ~= multiplier * 2^(shift - 31).
 *
 * Everything is static inline; C99, no libc.
 */
#ifndef EFFC_REQUANT_H
#define EFFC_REQUANT_H

#include <stdint.h>

/* Two's-complement wrapping helpers: C signed overflow is undefined, the
 * TFLite code relies on int32 wrap-around at the same places. */
static inline int32_t effc_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t effc_wrap_shl(int32_t x, int32_t shift)
{
    return (int32_t)((uint32_t)x << shift);
}

/* gemmlowp::SaturatingRoundingDoublingHighMul<int32_t>:
 * round(a * b / 2^31), ties away from zero, with INT32_MIN * INT32_MIN
 * saturating to INT32_MAX. */
static inline int32_t effc_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int32_t nudge;
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* C99 division truncates toward zero, as the C++ original. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* Same value as effc_srdhm() for every b != INT32_MIN (a TFLite multiplier
 * never is INT32_MIN): floor((a*b + 2^30) / 2^31) equals the truncating
 * division with a sign-dependent nudge. Compiles to SMLAL + 2 ALU ops. */
static inline int32_t effc_srdhm_fast(int32_t a, int32_t b)
{
    int64_t acc = (int64_t)1 << 30;
    acc += (int64_t)a * (int64_t)b;
    return (int32_t)(uint32_t)((uint64_t)acc >> 31);
}

/* gemmlowp::RoundingDivideByPOT: x / 2^exponent rounded to nearest,
 * ties away from zero. exponent in [0, 31]. */
static inline int32_t effc_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* tflite::MultiplyByQuantizedMultiplier(int32_t x, int32_t m, int shift). */
static inline int32_t effc_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                                            int32_t shift)
{
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    return effc_rounding_divide_by_pot(effc_srdhm(effc_wrap_shl(x, left_shift), multiplier),
                                       right_shift);
}

/* A multiplier/shift pair decoded once for a loop of effc_requant_apply().
 * Valid for multiplier != INT32_MIN (always true for TFLite multipliers). */
typedef struct {
    int32_t multiplier;
    int32_t left_shift;  /* max(shift, 0) */
    int32_t right_shift; /* max(-shift, 0) */
    int32_t mask;        /* 2^right_shift - 1 */
} effc_requant;

static inline effc_requant effc_requant_make(int32_t multiplier, int32_t shift)
{
    effc_requant r;
    r.multiplier = multiplier;
    r.left_shift = shift > 0 ? shift : 0;
    r.right_shift = shift > 0 ? 0 : -shift;
    r.mask = (int32_t)(((uint32_t)1 << r.right_shift) - 1u);
    return r;
}

/* effc_multiply_by_quantized_multiplier() with a pre-decoded multiplier. */
static inline int32_t effc_requant_apply(int32_t x, effc_requant r)
{
    const int32_t v = effc_srdhm_fast(effc_wrap_shl(x, r.left_shift), r.multiplier);
    const int32_t threshold = (r.mask >> 1) + (int32_t)((uint32_t)v >> 31);
    return (v >> r.right_shift) + ((v & r.mask) > threshold ? 1 : 0);
}

static inline int32_t effc_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* Requantize an int32 accumulator to an int8 output value:
 * MultiplyByQuantizedMultiplier + zero point, then the activation clamp.
 * The clamp is applied before the zero point is added (same result, and the
 * addition cannot overflow). */
static inline int8_t effc_requant_to_s8(int32_t acc, effc_requant r, int32_t output_zero_point,
                                        int32_t act_min, int32_t act_max)
{
    const int32_t v = effc_requant_apply(acc, r);
    return (int8_t)(effc_clamp_i32(v, act_min - output_zero_point,
                                   act_max - output_zero_point) + output_zero_point);
}

#endif /* EFFC_REQUANT_H */
