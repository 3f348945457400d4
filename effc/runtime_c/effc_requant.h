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

/* Single-multiply form of effc_requant_apply() plus an output zero point zp,
 * for a right shift s >= 1 and a multiplier m >= 0 (every TFLite multiplier
 * below 0.5). With v = floor((x*m + 2^30) / 2^31) (the high multiply) and the
 * final rounding floor((v + 2^(s-1) - [v < 0]) / 2^s) (ties away from zero),
 * the two floors merge into one: floor((x*m + C) / 2^(31+s)) with
 * C = 2^30 + 2^(s+30) - [x < 0] * 2^31. ([x < 0] differs from [v < 0] only
 * where v == 0, and then both give 0.) Adding zp * 2^(31+s) to C adds exactly
 * zp to the result. The result is the high word of a 64-bit SMLAL shifted
 * right by s - 1: no mask, no compare, no separate zero-point add.
 * effc_requant_rs_apply(x) == effc_requant_apply(x) + zp for every x when
 * effc_requant_rs_ok(): |x*m| < 2^62 and |zp| * 2^(31+s) <= 2^61 (s <= 23)
 * keep the 64-bit sum's high word within int32, and |result - zp| < 2^30 so
 * the sum needs no saturation (TFLite's own + zp cannot saturate either). */
typedef struct {
    int32_t multiplier;
    int32_t shift1; /* s - 1, in [0, 22] */
    int32_t c_lo;   /* C + zp * 2^(31+s) for x >= 0: low word (bits) */
    int32_t c_hi;   /* high word */
} effc_requant_rs;

/* Whether effc_requant_rs_make() applies: multiplier >= 0, shift in
 * [-23, -1], zero point in [-128, 127]. */
static inline int effc_requant_rs_ok(int32_t multiplier, int32_t shift, int32_t zp)
{
    return multiplier >= 0 && shift <= -1 && shift >= -23 && zp >= -128 && zp <= 127;
}

static inline effc_requant_rs effc_requant_rs_make(int32_t multiplier, int32_t shift,
                                                   int32_t zp)
{
    /* C = 2^30 + 2^(s+30) + zp * 2^(31+s), in 32-bit halves: 2^(s+30) is
     * 2^31 in the low word for s == 1, else 2^(s-2) in the high word, and
     * zp * 2^(31+s) is zp * 2^(s-1) in the high word (|zp| * 2^22 fits). */
    effc_requant_rs r;
    const int32_t s = -shift;
    r.multiplier = multiplier;
    r.shift1 = s - 1;
    r.c_lo = (int32_t)(s == 1 ? 0xC0000000u : 0x40000000u);
    r.c_hi = (s >= 2 ? (int32_t)1 << (s - 2) : 0) + zp * ((int32_t)1 << (s - 1));
    return r;
}

/* effc_requant_apply(x) + zp (the zero point given to effc_requant_rs_make). */
static inline int32_t effc_requant_rs_apply(int32_t x, const effc_requant_rs *r)
{
    const uint64_t c = (((uint64_t)(uint32_t)r->c_hi << 32) | (uint32_t)r->c_lo) -
                       ((uint64_t)((uint32_t)x >> 31) << 31);
    /* |x*m| < 2^62 and |C| < 2^62: the int64 sum cannot overflow */
    const int64_t p = (int64_t)x * (int64_t)r->multiplier + (int64_t)c;
    return (int32_t)(p >> 32) >> r->shift1;
}

/* The fast form of the DSP bodies (effc_channel_rq records without
 * EFFC_RQ_GENERAL, made by effc_prepare_channels_s8). The accumulator comes
 * doubled, a = 2 * acc (the kernels widen activations to 2 * (x - zp) and start
 * from 2 * bias); the prepared bound |acc| < 2^30 keeps it exact. With
 * s = s1 + 1 and r = (2 * zp + 1) * 2^s1 = 2^(s-1) + zp * 2^s:
 *   SMMLAR(a, m, r - [a < 0]) = r - [a < 0] + floor((acc * m + 2^30) / 2^31)
 *                             = r - [acc < 0] + v,
 * v being TFLite's SaturatingRoundingDoublingHighMul (effc_srdhm_fast), and
 *   floor((v + 2^(s-1) - [acc < 0]) / 2^s) + zp
 * is RoundingDivideByPOT(v, s) + zp ([acc < 0] differs from [v < 0] only
 * where v == 0, and then both give 0). So: SUB, SMMLAR, ASR s1, SSAT #8 with
 * ASR #1, four instructions per output. The preparation checks that r - 1 + v
 * cannot leave int32. Multiplier 0 gives floor((2 * zp + 1 - [a < 0]) / 2) =
 * zp for every a (the records of channels whose output is provably zp).
 * Where the activation range starts at or above zp (a ReLU's) the SUB can go
 * (EFFC_RQ_RELU, effc_mm_asm.h): for acc < 0, v <= 0, so both
 * floor((v + 2^(s-1) - 1) / 2^s) and floor((v + 2^(s-1)) / 2^s) are <= 0 and
 * the output clamps to act_min either way; for acc >= 0 nothing changes. */
static inline int32_t effc_rq_fast(int32_t a, int32_t m, int32_t r, int32_t s1)
{
    const int64_t t = (int64_t)r - (int64_t)((uint32_t)a >> 31) +
                      (((int64_t)a * (int64_t)m + ((int64_t)1 << 31)) >> 32);
    const int32_t y = ((int32_t)t >> s1) >> 1;
    return y < -128 ? -128 : (y > 127 ? 127 : y);
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
