/*
 * effc_softmax_s8.c - TFLite's integer softmax (int8 in, int8 out with scale
 * 1/256 and zero point -128), bit-exact with TFLM's reference_ops::Softmax
 * and gemmlowp's fixed-point exp / reciprocal.
 *
 * Fixed-point formats (gemmlowp FixedPoint<int32_t, IntegerBits>): scaled
 * diffs are Q5.26, exponentials Q0.31, the sum Q12.19.
 */
#include "effc_fixedpoint.h"
#include "effc_internal.h"

/* Rows of at most this many values keep their exponentials on the stack from
 * the sum's pass to the outputs' (computed once, not twice); longer rows
 * compute them again. */
enum { EFFC_SOFTMAX_KEPT = 32 };

/* exp(beta * diff) in Q0.31 for diff >= params->diff_min. */
static int32_t effc_softmax_exp(const effc_softmax_params *params, int32_t diff)
{
    return effc_exp_on_negative_values(effc_srdhm(
        effc_wrap_shl(diff, params->input_beta_left_shift), params->input_beta_multiplier));
}

size_t effc_softmax_s8_scratch_size(void)
{
    return 0;
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
        int32_t kept[EFFC_SOFTMAX_KEPT]; /* the row's exponentials (depth <= EFFC_SOFTMAX_KEPT) */
        const int keep = depth <= EFFC_SOFTMAX_KEPT;
        for (c = 0; c < depth; c++) {
            max_in_row = EFFC_MAX(max_in_row, (int32_t)in[c]);
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t e = effc_softmax_exp(params, diff);
                if (keep) {
                    kept[c] = e;
                }
                sum_of_exps = effc_wrap_add(sum_of_exps, effc_rounding_divide_by_pot(e, 12));
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
                const int32_t e = keep ? kept[c] : effc_softmax_exp(params, diff);
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
