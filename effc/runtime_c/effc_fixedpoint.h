/*
 * effc_fixedpoint.h - gemmlowp fixed-point helpers of TFLite's integer softmax:
 * saturating shifts, exp on negative values, 1 / (1 + x), count of leading zeros.
 *
 * Bit-exact with gemmlowp's fixedpoint.h and effc/quant/fixedpoint.py. Shared by
 * the C kernel (effc_softmax_s8.c) and the HLS softmax (effc/hls/effc_hls_softmax.h).
 * Fixed-point formats (gemmlowp FixedPoint<int32_t, IntegerBits>): scaled diffs
 * are Q5.26, exponentials Q0.31, the sum Q12.19.
 *
 * Everything is static inline; C99 (and C++), no libc.
 */
#ifndef EFFC_FIXEDPOINT_H
#define EFFC_FIXEDPOINT_H

#include <stdint.h>

#include "effc_requant.h"

/* gemmlowp::SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0. */
static inline int32_t effc_sat_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return effc_wrap_shl(x, exponent);
}

/* gemmlowp::exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31). */
static inline int32_t effc_exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;   /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = effc_wrap_add(a, 1 << 28); /* a + 1/8 */
    const int32_t x2 = effc_srdhm(x, x);
    const int32_t x3 = effc_srdhm(x2, x);
    const int32_t x4 = effc_srdhm(x2, x2);
    const int32_t x4_over_4 = effc_rounding_divide_by_pot(x4, 2);
    const int32_t poly = effc_rounding_divide_by_pot(
        effc_wrap_add(effc_srdhm(effc_wrap_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return effc_wrap_add(constant_term, effc_srdhm(constant_term, effc_wrap_add(x, poly)));
}

/* gemmlowp::exp_on_negative_values for a Q5.26 input <= 0; Q0.31 result. */
static inline int32_t effc_exp_on_negative_values(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
    const int32_t frac_bits = 26;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_quarter =
        (int32_t)((uint32_t)(a & (one_quarter - 1)) - (uint32_t)one_quarter);
    int32_t result = effc_exp_quarter(effc_sat_shl(a_mod_quarter_minus_quarter, 5));
    const int32_t remainder = (int32_t)((uint32_t)a_mod_quarter_minus_quarter - (uint32_t)a);
    int32_t i;
    for (i = 0; i < 7; i++) {
        /* exponents -2 .. +4: bit frac_bits + exponent of the remainder */
        if (remainder & (1 << (frac_bits - 2 + i))) {
            result = effc_srdhm(result, barrel[i]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp::RoundingHalfSum<int32_t>. */
static inline int32_t effc_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* gemmlowp::one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out). */
static inline int32_t effc_one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = effc_rounding_half_sum(a, INT32_MAX);
    const int32_t f2_one = 1 << 29;
    int32_t x = effc_wrap_add(1515870810, effc_srdhm(half_denominator, -1010580540));
    int32_t i;
    for (i = 0; i < 3; i++) {
        const int32_t one_minus =
            (int32_t)((uint32_t)f2_one - (uint32_t)effc_srdhm(half_denominator, x));
        x = effc_wrap_add(x, effc_sat_shl(effc_srdhm(x, one_minus), 2));
    }
    return effc_sat_shl(x, 1);
}

static inline int32_t effc_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

#endif /* EFFC_FIXEDPOINT_H */
