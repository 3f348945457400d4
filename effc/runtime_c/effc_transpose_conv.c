/*
 * effc_transpose_conv.c - transposed convolution (int8 as TFLite Micro's
 * per-channel TRANSPOSE_CONV, extended to dilation and groups; float32).
 *
 * Input [N,H,W,C_in], filter OHWI [C_out][KH][KW][C_in / groups] with
 * filter_dims = {C_out, KH, KW, C_in / groups}, output [N,OH,OW,C_out]. Input
 * pixel (y, x) tap (i, j) adds to output (y * stride_h - pad_top + i * dilation_h,
 * x * stride_w - pad_left + j * dilation_w) when that lies inside the output.
 * int8 adds the dot products of each input pixel's channels (minus the zero
 * point, widened once) with the filter rows into int32 scratch (one per output
 * value; SMLAD on cores with the DSP extension), then adds the bias and
 * requantizes per channel.
 */
#include "effc_internal.h"

static int effc_tconv_ok(const effc_dims *in, const effc_dims *f, const effc_dims *out,
                         int32_t sh, int32_t sw, int32_t dh, int32_t dw, int32_t groups)
{
    return effc_dims_ok(in) && effc_dims_ok(f) && effc_dims_ok(out) && in->n == out->n &&
           sh > 0 && sw > 0 && dh > 0 && dw > 0 && groups > 0 && in->c % groups == 0 &&
           out->c % groups == 0 && f->n == out->c && f->c * groups == in->c;
}

/* Calls BODY(dst, src) for every (output value index dst, input value index src,
 * filter index fi) that a transposed convolution multiplies. */
#define EFFC_FOR_EACH_TAP(in, f, out, p, BODY)                                                \
    do {                                                                                      \
        const int32_t cin_g_ = (f)->c, cout_g_ = (out)->c / (p)->groups;                      \
        int32_t b_, y_, x_, i_, j_, g_, ci_, co_;                                             \
        for (b_ = 0; b_ < (in)->n; b_++) {                                                    \
            for (y_ = 0; y_ < (in)->h; y_++) {                                                \
                for (x_ = 0; x_ < (in)->w; x_++) {                                            \
                    for (i_ = 0; i_ < (f)->h; i_++) {                                         \
                        const int32_t oy_ = y_ * (p)->stride_h - (p)->pad_top +               \
                                            i_ * (p)->dilation_h;                             \
                        if (oy_ < 0 || oy_ >= (out)->h) {                                     \
                            continue;                                                         \
                        }                                                                     \
                        for (j_ = 0; j_ < (f)->w; j_++) {                                     \
                            const int32_t ox_ = x_ * (p)->stride_w - (p)->pad_left +          \
                                                j_ * (p)->dilation_w;                         \
                            size_t dst0_, src0_;                                              \
                            if (ox_ < 0 || ox_ >= (out)->w) {                                 \
                                continue;                                                     \
                            }                                                                 \
                            dst0_ = (((size_t)b_ * (size_t)(out)->h + (size_t)oy_) *          \
                                         (size_t)(out)->w + (size_t)ox_) * (size_t)(out)->c;  \
                            src0_ = (((size_t)b_ * (size_t)(in)->h + (size_t)y_) *            \
                                         (size_t)(in)->w + (size_t)x_) * (size_t)(in)->c;     \
                            for (g_ = 0; g_ < (p)->groups; g_++) {                            \
                                for (co_ = g_ * cout_g_; co_ < (g_ + 1) * cout_g_; co_++) {   \
                                    const size_t fi0_ =                                       \
                                        (((size_t)co_ * (size_t)(f)->h + (size_t)i_) *        \
                                             (size_t)(f)->w + (size_t)j_) * (size_t)cin_g_;   \
                                    for (ci_ = 0; ci_ < cin_g_; ci_++) {                      \
                                        const size_t dst = dst0_ + (size_t)co_;               \
                                        const size_t src = src0_ + (size_t)(g_ * cin_g_ + ci_); \
                                        const size_t fi = fi0_ + (size_t)ci_;                 \
                                        BODY;                                                 \
                                    }                                                         \
                                }                                                             \
                            }                                                                 \
                        }                                                                     \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    } while (0)

/* An int32 per output value, then one input pixel's group of channels widened. */
size_t effc_transpose_conv_s8_scratch_size(const effc_dims *filter_dims,
                                           const effc_dims *output_dims)
{
    if (!effc_dims_ok(filter_dims) || !effc_dims_ok(output_dims)) {
        return 0;
    }
    return (size_t)output_dims->n * (size_t)output_dims->h * (size_t)output_dims->w *
           (size_t)output_dims->c * sizeof(int32_t) + effc_widened_bytes(filter_dims->c);
}

int effc_transpose_conv_s8(const effc_scratch *scratch,
                           const effc_transpose_conv_params *params,
                           const effc_per_channel_quant *quant, const effc_dims *input_dims,
                           const int8_t *input, const effc_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias,
                           const effc_dims *output_dims, int8_t *output)
{
    const effc_transpose_conv_params *p = params;
    const effc_dims *in = input_dims, *f = filter_dims, *out = output_dims;
    size_t total, k;
    int32_t *acc, *q;
    int32_t b, y, x, g, i, j, co, cout_g;
    if (p == NULL || quant == NULL ||
        !effc_tconv_ok(in, f, out, p->stride_h, p->stride_w, p->dilation_h, p->dilation_w,
                       p->groups)) {
        return EFFC_ERR_ARG;
    }
    acc = (int32_t *)effc_scratch_get(scratch, effc_transpose_conv_s8_scratch_size(f, out));
    if (acc == NULL) {
        return EFFC_ERR_ARG;
    }
    total = (size_t)out->n * (size_t)out->h * (size_t)out->w * (size_t)out->c;
    q = acc + total;
    for (k = 0; k < total; k++) {
        acc[k] = 0;
    }
    cout_g = out->c / p->groups;
    /* Each input pixel's channels of a group, widened once, meet every filter row
     * (output channel, tap) of the group: dot products over the input channels. */
    for (b = 0; b < in->n; b++) {
        for (y = 0; y < in->h; y++) {
            for (x = 0; x < in->w; x++) {
                const size_t src = (((size_t)b * (size_t)in->h + (size_t)y) * (size_t)in->w +
                                    (size_t)x) * (size_t)in->c;
                for (g = 0; g < p->groups; g++) {
                    effc_widen_row(input + src + (size_t)g * (size_t)f->c, f->c,
                                   p->input_zero_point, q);
                    for (i = 0; i < f->h; i++) {
                        const int32_t oy = y * p->stride_h - p->pad_top + i * p->dilation_h;
                        if (oy < 0 || oy >= out->h) {
                            continue;
                        }
                        for (j = 0; j < f->w; j++) {
                            const int32_t ox = x * p->stride_w - p->pad_left +
                                               j * p->dilation_w;
                            int32_t *dst;
                            if (ox < 0 || ox >= out->w) {
                                continue;
                            }
                            dst = acc + (((size_t)b * (size_t)out->h + (size_t)oy) *
                                             (size_t)out->w + (size_t)ox) * (size_t)out->c;
                            for (co = g * cout_g; co < (g + 1) * cout_g; co++) {
                                const int8_t *row = filter + (((size_t)co * (size_t)f->h +
                                                               (size_t)i) * (size_t)f->w +
                                                              (size_t)j) * (size_t)f->c;
                                dst[co] = effc_wrap_add(dst[co], effc_dot_row(q, row, f->c));
                            }
                        }
                    }
                }
            }
        }
    }
    for (k = 0; k < total; k++) {
        const int32_t c = (int32_t)(k % (size_t)out->c);
        const int32_t a = bias != NULL ? effc_wrap_add(acc[k], bias[c]) : acc[k];
        output[k] = effc_requant_to_s8(a, effc_requant_make(quant->multiplier[c],
                                                            quant->shift[c]),
                                       p->output_zero_point, p->activation_min,
                                       p->activation_max);
    }
    return EFFC_OK;
}

int effc_transpose_conv_f32(const effc_transpose_conv_f32_params *params,
                            const effc_dims *input_dims, const float *input,
                            const effc_dims *filter_dims, const float *filter,
                            const float *bias, const effc_dims *output_dims, float *output)
{
    const effc_transpose_conv_f32_params *p = params;
    size_t total, k;
    if (p == NULL || !effc_tconv_ok(input_dims, filter_dims, output_dims, p->stride_h,
                                    p->stride_w, p->dilation_h, p->dilation_w, p->groups)) {
        return EFFC_ERR_ARG;
    }
    total = (size_t)output_dims->n * (size_t)output_dims->h * (size_t)output_dims->w *
            (size_t)output_dims->c;
    for (k = 0; k < total; k++) {
        output[k] = bias != NULL ? bias[k % (size_t)output_dims->c] : 0.0f;
    }
    EFFC_FOR_EACH_TAP(input_dims, filter_dims, output_dims, p, {
        output[dst] += input[src] * filter[fi];
    });
    for (k = 0; k < total; k++) {
        const float v = output[k];
        output[k] = v < p->activation_min ? p->activation_min
                                          : (v > p->activation_max ? p->activation_max : v);
    }
    return EFFC_OK;
}
