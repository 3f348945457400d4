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

/* A bound on |acc| of a channel: |bias| + sum |w[i]| * the largest |x - izp|. */
static int64_t effc_acc_bound(const int8_t *w, int32_t k, int32_t bias, int32_t izp)
{
    int64_t sum = 0;
    int32_t i;
    for (i = 0; i < k; i++) {
        sum += w[i] < 0 ? -(int64_t)w[i] : (int64_t)w[i];
    }
    return (bias < 0 ? -(int64_t)bias : (int64_t)bias) + sum * effc_max_deviation(izp);
}

/* The fast form's s - 1 for channel c, EFFC_FAST_NONE when it takes the
 * general form, or EFFC_FAST_ZERO when every output is provably zp. */
enum { EFFC_FAST_NONE = -1, EFFC_FAST_ZERO = -2 };

static int32_t effc_fast_s1(const int8_t *w, int32_t k, int32_t bias, int32_t multiplier,
                            int32_t shift, int32_t izp, int32_t ozp)
{
    int64_t bound, high, round;
    const int32_t s = -shift;
    if (multiplier < 0 || shift > -1 || shift < -31 || izp < -128 || izp > 127 ||
        ozp < -128 || ozp > 127) {
        return EFFC_FAST_NONE;
    }
    bound = effc_acc_bound(w, k, bias, izp);
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

size_t effc_filter_words(int32_t layout, int32_t n_out, int32_t k)
{
    effc_wide_geo g;
    if (n_out <= 0 || k <= 0 ||
        (layout != EFFC_FILTER_WIDE2 && layout != EFFC_FILTER_WIDE4 &&
         layout != EFFC_FILTER_PAIR8)) {
        return 0;
    }
    g = effc_wide_geometry(layout, k);
    return (size_t)((n_out + g.per - 1) / g.per) * (size_t)g.block_words;
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

/* Channel c's record, or the zero channel's (bias 0, multiplier 0: every
 * output the zero point) past the last. */
static const effc_channel_rq *effc_wide_channel(const effc_channel_rq *channels, int32_t n_out,
                                                int32_t c)
{
    static const effc_channel_rq pad = {0, 0};
    return c < n_out ? &channels[c] : &pad;
}

/* A shifted channel's d = K - s (K = rq_shift) for its int8 row w (NULL: the
 * zero channel), 0 for a general record (kept as it is: the C path computes
 * it), -1 when it cannot take K (effc_widen_filter_s8's bounds). A multiplier 0
 * channel is stored with zero weights and bias, so only its R' is bounded. */
static int32_t effc_wide_shift_d(const int8_t *w, int32_t k, const effc_channel_rq *r,
                                 int32_t izp, int32_t ozp, int32_t rq_shift)
{
    int64_t a = 0, round;
    int32_t i, d;
    if (effc_rq_is_general(r)) {
        return 0;
    }
    d = rq_shift - 1 - effc_rq_s1(r);
    if (d < 1) {
        return -1;
    }
    if (effc_rq_multiplier(r) != 0 && w != NULL) {
        for (i = 0; i < k; i++) {
            const int64_t v = (int64_t)w[i] * ((int64_t)1 << (1 + d));
            if (v < INT16_MIN || v > INT16_MAX) {
                return -1;
            }
        }
        a = effc_acc_bound(w, k, effc_rq_bias(r), izp) * ((int64_t)1 << (1 + d));
        if (a > INT32_MAX) {
            return -1;
        }
    }
    /* R' = 2^(d-1) + (2 * ozp + 1) * 2^(s-1) * 2^d; SMMLA adds floor(A * M / 2^32) */
    round = ((int64_t)1 << (d - 1)) + (int64_t)(2 * ozp + 1) * ((int64_t)1 << (rq_shift - 1));
    if ((round < 0 ? -round : round) + ((a * (int64_t)effc_rq_multiplier(r)) >> 32) + 1 >
        INT32_MAX) {
        return -1;
    }
    return d;
}

/* The bias word and the three record words of channel record r, shifted by d
 * (> 0, the firmware shift K = rq_shift) or as doubled (d == 0). */
static void effc_wide_record(const effc_channel_rq *r, int32_t ozp, int32_t rq_shift, int32_t d,
                             int32_t *bias_word, int32_t *rec)
{
    const int fast = !effc_rq_is_general(r);
    const int32_t shift = effc_rq_shift(r);
    /* the TFLite shift, and the weights' and bias word's scale 2^(1+d) (d = 0: doubled) */
    const uint32_t high = ((uint32_t)(uint16_t)(int16_t)shift << 16) |
                          ((uint32_t)(1 + d) << EFFC_WIDE_SCALE_AT);
    rec[0] = effc_rq_multiplier(r);
    if (d > 0) {
        *bias_word = effc_rq_multiplier(r) != 0 ? (int32_t)((uint32_t)effc_rq_bias(r) << (1 + d))
                                                : 0;
        rec[1] = (int32_t)(((uint32_t)1 << (d - 1)) +
                           ((uint32_t)(2 * ozp + 1) << (rq_shift - 1)));
        rec[2] = (int32_t)(high | EFFC_WIDE_SHIFTED | (uint32_t)rq_shift);
        return;
    }
    *bias_word = fast ? effc_rq_bias2(r) : effc_rq_bias(r);
    rec[1] = fast ? (int32_t)((uint32_t)(2 * ozp + 1) << effc_rq_s1(r)) : 0;
    rec[2] = (int32_t)(high | (fast ? (uint32_t)effc_rq_s1(r) : (uint32_t)EFFC_WIDE_GENERAL));
}

int effc_widen_filter_s8(int32_t layout, const int8_t *weights, int32_t n_out, int32_t k,
                         const effc_channel_rq *channels, int32_t input_zero_point,
                         int32_t output_zero_point, int32_t rq_shift, int32_t *wide)
{
    const effc_wide_geo geo = effc_wide_geometry(layout, k);
    const int32_t per = geo.per;
    int32_t b, g, parity, r;
    if (weights == NULL || channels == NULL || wide == NULL ||
        effc_filter_words(layout, n_out, k) == 0 ||
        (rq_shift != 0 && (layout != EFFC_FILTER_WIDE2 || rq_shift < 2 || rq_shift > 31))) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < (n_out + per - 1) / per; b++) {
        int32_t *bias = wide;
        int32_t *rec = wide + geo.records_at;
        int32_t scale[4], d[4];
        for (r = 0; r < per; r++) { /* each channel's weights times scale */
            const int32_t c = b * per + r;
            const effc_channel_rq *ch = effc_wide_channel(channels, n_out, c);
            d[r] = rq_shift == 0 ? 0
                                 : effc_wide_shift_d(c < n_out ? weights + (size_t)c * (size_t)k
                                                               : NULL,
                                                     k, ch, input_zero_point,
                                                     output_zero_point, rq_shift);
            if (d[r] < 0) {
                return EFFC_ERR_ARG;
            }
            scale[r] = d[r] > 0 && effc_rq_multiplier(ch) == 0 ? 0 : 2 << d[r];
        }
        wide += per;
        for (g = 0; g < geo.groups; g++) {
            for (parity = 0; parity < 2 && layout == EFFC_FILTER_PAIR8; parity++) {
                const int32_t c = b * per, i = 4 * g + parity; /* bytes c0, c1 of i, i + 2 */
                *wide++ = (int32_t)(
                    (uint32_t)(uint8_t)effc_w_or_0(weights, n_out, k, c, i) |
                    ((uint32_t)(uint8_t)effc_w_or_0(weights, n_out, k, c + 1, i) << 8) |
                    ((uint32_t)(uint8_t)effc_w_or_0(weights, n_out, k, c, i + 2) << 16) |
                    ((uint32_t)(uint8_t)effc_w_or_0(weights, n_out, k, c + 1, i + 2) << 24));
            }
            for (parity = 0; parity < 2 && layout != EFFC_FILTER_PAIR8; parity++) {
                for (r = 0; r < per; r++) {
                    const int32_t c = b * per + r, i = 4 * g + parity;
                    *wide++ = effc_pack16(scale[r] * effc_w_or_0(weights, n_out, k, c, i),
                                          scale[r] * effc_w_or_0(weights, n_out, k, c, i + 2));
                }
            }
        }
        for (r = 0; r < per; r++) {
            effc_wide_record(effc_wide_channel(channels, n_out, b * per + r), output_zero_point,
                             rq_shift, d[r], &bias[r], &rec[3 * r]);
        }
        wide = rec + 3 * per;
    }
    return EFFC_OK;
}
