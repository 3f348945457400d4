/*
 * effc_prepare_s8.c - what the code generator computes once per layer (on
 * the host, through the same functions the kernels are tested with): the
 * channels' requantization records and the wide weight layouts.
 */
#include "effc_internal.h"

/* The largest |x - zp| over int8 x. */
static int64_t effc_max_deviation(int32_t zp)
{
    return (int64_t)EFFC_MAX(127 - zp, zp + 128);
}

/* The fast form's s - 1 for channel c, EFFC_FAST_NONE when it takes the
 * general form, or EFFC_FAST_ZERO when every output is provably zp. */
enum { EFFC_FAST_NONE = -1, EFFC_FAST_ZERO = -2 };

static int32_t effc_fast_s1(const int8_t *w, int32_t k, int32_t bias, int32_t multiplier,
                            int32_t shift, int32_t izp, int32_t ozp)
{
    int64_t sum = 0, bound, high, round;
    int32_t i;
    const int32_t s = -shift;
    if (multiplier < 0 || shift > -1 || shift < -31 || izp < -128 || izp > 127 ||
        ozp < -128 || ozp > 127) {
        return EFFC_FAST_NONE;
    }
    for (i = 0; i < k; i++) {
        sum += w[i] < 0 ? -(int64_t)w[i] : (int64_t)w[i];
    }
    bound = (bias < 0 ? -(int64_t)bias : (int64_t)bias) + sum * effc_max_deviation(izp);
    if (bound >= ((int64_t)1 << 31)) {
        return EFFC_FAST_NONE;
    }
    /* |v| <= high, v = floor((acc * m + 2^30) / 2^31) */
    high = ((bound * (int64_t)multiplier) >> 31) + 1;
    round = (int64_t)(2 * ozp + 1) * ((int64_t)1 << (s - 1));
    if (high < ((int64_t)1 << (s - 1))) { /* |v| < 2^(s-1): every output is zp */
        return EFFC_FAST_ZERO;
    }
    if (bound < ((int64_t)1 << 30) && bias >= -(1 << 23) && bias < (1 << 23) &&
        (round < 0 ? -round : round) + high + 1 <= INT32_MAX) {
        return s - 1;
    }
    return EFFC_FAST_NONE;
}

int effc_prepare_channels_s8(const int8_t *weights, int32_t n_out, int32_t k,
                             const int32_t *bias, const int32_t *multiplier,
                             const int32_t *shift, int32_t quant_stride,
                             int32_t input_zero_point, int32_t output_zero_point,
                             effc_channel_rq *channels)
{
    int32_t c, used;
    if (weights == NULL || multiplier == NULL || shift == NULL || channels == NULL ||
        n_out <= 0 || k <= 0 || n_out > (1 << 22) || (quant_stride != 0 && quant_stride != 1)) {
        return EFFC_ERR_ARG;
    }
    used = n_out;
    for (c = 0; c < n_out; c++) {
        const int32_t i = c * quant_stride;
        const int32_t b = bias != NULL ? bias[c] : 0;
        const int32_t s1 = effc_fast_s1(weights + (size_t)c * (size_t)k, k, b, multiplier[i],
                                        shift[i], input_zero_point, output_zero_point);
        effc_channel_rq *r = &channels[c];
        if (s1 == EFFC_FAST_ZERO) {
            r->word = 0; /* bias 0, s - 1 = 0: SMMLAR's sum is 2 * zp + 1 - [a < 0] */
            r->multiplier = 0;
        } else if (s1 >= 0) {
            r->word = (int32_t)((uint32_t)b << 8) | s1;
            r->multiplier = multiplier[i];
        } else { /* the general record and its extension at `used` */
            r->word = (int32_t)((uint32_t)(used - c) << 8) | EFFC_RQ_GENERAL;
            r->multiplier = multiplier[i];
            channels[used].word = b;
            channels[used].multiplier = shift[i];
            used++;
        }
    }
    return used;
}

/* Channels per block and groups of 4 values per channel in a wide layout. */
static int32_t effc_wide_block(int32_t layout)
{
    return layout == EFFC_FILTER_WIDE2 ? 2 : 4;
}

static int32_t effc_wide_groups(int32_t layout, int32_t k)
{
    return layout == EFFC_FILTER_WIDE2 ? effc_mm_groups(k) : (k + 3) / 4;
}

size_t effc_filter_words(int32_t layout, int32_t n_out, int32_t k)
{
    int32_t per;
    if (n_out <= 0 || k <= 0 || (layout != EFFC_FILTER_WIDE2 && layout != EFFC_FILTER_WIDE4)) {
        return 0;
    }
    per = effc_wide_block(layout);
    return (size_t)((n_out + per - 1) / per) *
           (size_t)(per * 4 + effc_wide_groups(layout, k) * 2 * per);
}

/* Weight (c, i) of the int8 rows, 0 outside them. */
static int32_t effc_w_or_0(const int8_t *w, int32_t n_out, int32_t k, int32_t c, int32_t i)
{
    return c < n_out && i < k ? w[(size_t)c * (size_t)k + (size_t)i] : 0;
}

static int32_t effc_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)(uint16_t)(int16_t)lo) | ((uint32_t)(uint16_t)(int16_t)hi << 16));
}

/* The bias word and the three record words of channel c (a padding channel:
 * bias 0, multiplier 0, every output the zero point). */
static void effc_wide_record(const effc_channel_rq *channels, int32_t n_out, int32_t c,
                             int32_t ozp, int32_t *bias_word, int32_t *rec)
{
    const effc_channel_rq pad = {0, 0};
    const effc_channel_rq *r = c < n_out ? &channels[c] : &pad;
    const int fast = !effc_rq_is_general(r);
    const int32_t shift = effc_rq_shift(r);
    *bias_word = fast ? effc_rq_bias2(r) : effc_rq_bias(r);
    rec[0] = effc_rq_multiplier(r);
    rec[1] = fast ? (int32_t)((uint32_t)(2 * ozp + 1) << effc_rq_s1(r)) : 0;
    rec[2] = (int32_t)((uint32_t)(uint16_t)(int16_t)shift << 16) |
             (fast ? effc_rq_s1(r) : EFFC_WIDE_GENERAL);
}

int effc_widen_filter_s8(int32_t layout, const int8_t *weights, int32_t n_out, int32_t k,
                         const effc_channel_rq *channels, int32_t output_zero_point,
                         int32_t *wide)
{
    const int32_t per = effc_wide_block(layout);
    const int32_t groups = effc_wide_groups(layout, k);
    int32_t b, g, parity, r;
    if (weights == NULL || channels == NULL || wide == NULL ||
        effc_filter_words(layout, n_out, k) == 0) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < (n_out + per - 1) / per; b++) {
        int32_t *bias = wide;
        int32_t *rec = wide + per + groups * 2 * per;
        wide += per;
        for (g = 0; g < groups; g++) {
            for (parity = 0; parity < 2; parity++) {
                for (r = 0; r < per; r++) {
                    const int32_t c = b * per + r, i = 4 * g + parity;
                    *wide++ = effc_pack16(2 * effc_w_or_0(weights, n_out, k, c, i),
                                          2 * effc_w_or_0(weights, n_out, k, c, i + 2));
                }
            }
        }
        for (r = 0; r < per; r++) {
            effc_wide_record(channels, n_out, b * per + r, output_zero_point, &bias[r],
                             &rec[3 * r]);
        }
        wide = rec + 3 * per;
    }
    return EFFC_OK;
}
