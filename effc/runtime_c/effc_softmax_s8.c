/*
 * effc_softmax_s8.c - TFLite's integer softmax (int8 in, int8 out with scale
 * 1/256 and zero point -128), bit-exact with TFLM's reference_ops::Softmax
 * and gemmlowp's fixed-point exp / reciprocal.
 *
 * Fixed-point formats (gemmlowp FixedPoint<int32_t, IntegerBits>): scaled
 * diffs are Q5.26, exponentials Q0.31, the sum Q12.19.
 */
#include "effc_internal.h"

size_t effc_softmax_s8_scratch_size(void)
{
    return 0;
}

/* gemmlowp::SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0. */
static int32_t effc_sat_shl(int32_t x, int32_t exponent)
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
static int32_t effc_exp_quarter(int32_t a)
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
static int32_t effc_exp_on_negative_values(int32_t a)
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
static int32_t effc_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* gemmlowp::one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out). */
static int32_t effc_one_over_one_plus_x(int32_t a)
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

static int32_t effc_clz32(uint32_t x)
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

int effc_softmax_s8(const effc_softmax_params *params, int32_t rows, int32_t depth,
                    const int8_t *input, int8_t *output)
{
    int32_t r, c;
    if (params == NULL || rows < 0 || depth <= 0 || depth > 2048 ||
        params->input_beta_left_shift < 0 || params->diff_min > 0) {
        return EFFC_ERR_ARG;
    }
    for (r = 0; r < rows; r++) {
        const int8_t *in = input + (size_t)r * (size_t)depth;
        int8_t *out = output + (size_t)r * (size_t)depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0; /* Q12.19 */
        int32_t headroom_plus_one, num_bits_over_unit, shifted_scale;
        for (c = 0; c < depth; c++) {
            max_in_row = EFFC_MAX(max_in_row, (int32_t)in[c]);
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t scaled = effc_srdhm(
                    effc_wrap_shl(diff, params->input_beta_left_shift),
                    params->input_beta_multiplier);
                sum_of_exps = effc_wrap_add(
                    sum_of_exps,
                    effc_rounding_divide_by_pot(effc_exp_on_negative_values(scaled), 12));
            }
        }
        /* tflite::GetReciprocal(sum, 12, &num_bits_over_unit) */
        headroom_plus_one = effc_clz32((uint32_t)sum_of_exps);
        num_bits_over_unit = 12 - headroom_plus_one;
        shifted_scale = effc_one_over_one_plus_x(
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1u << 31)));
        for (c = 0; c < depth; c++) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t scaled = effc_srdhm(
                    effc_wrap_shl(diff, params->input_beta_left_shift),
                    params->input_beta_multiplier);
                const int32_t e = effc_exp_on_negative_values(scaled);
                const int32_t unsat = effc_rounding_divide_by_pot(
                    effc_srdhm(shifted_scale, e), num_bits_over_unit + 31 - 8);
                out[c] = (int8_t)effc_clamp_i32(unsat - 128, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
    return EFFC_OK;
}
