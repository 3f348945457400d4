/*
 * effc_conv_f32.c - float32 conv, depthwise conv and dense, with the same
 * layouts as the int8 kernels (NHWC, OHWI, depthwise [C_out][KH][KW],
 * dense [out][in]) and a fused activation clamp. Padded taps are skipped.
 */
#include "effc_internal.h"

static float effc_clampf(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

static int effc_conv_f32_ok(const effc_conv_f32_params *p, const effc_dims *in,
                            const effc_dims *f, const effc_dims *out)
{
    return p != NULL && effc_dims_ok(in) && effc_dims_ok(f) && effc_dims_ok(out) &&
           in->n == out->n && p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 &&
           p->dilation_w > 0 && p->pad_top >= 0 && p->pad_left >= 0;
}

int effc_conv_f32(const effc_conv_f32_params *params, const effc_dims *input_dims,
                  const float *input, const effc_dims *filter_dims, const float *filter,
                  const float *bias, const effc_dims *output_dims, float *output)
{
    const effc_conv_f32_params *p = params;
    const effc_dims *in = input_dims, *f = filter_dims, *out = output_dims;
    int32_t b, oy, ox, oc, ky, kx, c, groups;
    if (!effc_conv_f32_ok(p, in, f, out) || in->c % f->c != 0 || f->n != out->c) {
        return EFFC_ERR_ARG;
    }
    /* Grouped: output channel oc reads the input channels of its group. */
    groups = in->c / f->c;
    if (out->c % groups != 0) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            for (ox = 0; ox < out->w; ox++) {
                float *dst = output + ((size_t)(b * out->h + oy) * (size_t)out->w +
                                       (size_t)ox) * (size_t)out->c;
                for (oc = 0; oc < out->c; oc++) {
                    float acc = bias != NULL ? bias[oc] : 0.0f;
                    for (ky = 0; ky < f->h; ky++) {
                        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                        if (iy < 0 || iy >= in->h) {
                            continue;
                        }
                        for (kx = 0; kx < f->w; kx++) {
                            const int32_t ix =
                                ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                            const float *x, *w;
                            if (ix < 0 || ix >= in->w) {
                                continue;
                            }
                            x = input + ((size_t)(b * in->h + iy) * (size_t)in->w +
                                         (size_t)ix) * (size_t)in->c +
                                (size_t)(oc / (out->c / groups)) * (size_t)f->c;
                            w = filter + (((size_t)oc * (size_t)f->h + (size_t)ky) *
                                              (size_t)f->w + (size_t)kx) * (size_t)f->c;
                            for (c = 0; c < f->c; c++) {
                                acc += x[c] * w[c];
                            }
                        }
                    }
                    dst[oc] = effc_clampf(acc, p->activation_min, p->activation_max);
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_dw_conv_f32(const effc_conv_f32_params *params, int32_t depth_multiplier,
                     const effc_dims *input_dims, const float *input,
                     const effc_dims *filter_dims, const float *filter, const float *bias,
                     const effc_dims *output_dims, float *output)
{
    const effc_conv_f32_params *p = params;
    const effc_dims *in = input_dims, *f = filter_dims, *out = output_dims;
    int32_t b, oy, ox, oc, ky, kx;
    if (!effc_conv_f32_ok(p, in, f, out) || depth_multiplier <= 0 || f->c != 1 ||
        out->c != in->c * depth_multiplier || f->n != out->c) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            for (ox = 0; ox < out->w; ox++) {
                float *dst = output + ((size_t)(b * out->h + oy) * (size_t)out->w +
                                       (size_t)ox) * (size_t)out->c;
                for (oc = 0; oc < out->c; oc++) {
                    const int32_t ic = oc / depth_multiplier;
                    const float *w = filter + (size_t)oc * (size_t)(f->h * f->w);
                    float acc = bias != NULL ? bias[oc] : 0.0f;
                    for (ky = 0; ky < f->h; ky++) {
                        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                        if (iy < 0 || iy >= in->h) {
                            continue;
                        }
                        for (kx = 0; kx < f->w; kx++) {
                            const int32_t ix =
                                ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                            if (ix < 0 || ix >= in->w) {
                                continue;
                            }
                            acc += input[((size_t)(b * in->h + iy) * (size_t)in->w +
                                          (size_t)ix) * (size_t)in->c + (size_t)ic] *
                                   w[ky * f->w + kx];
                        }
                    }
                    dst[oc] = effc_clampf(acc, p->activation_min, p->activation_max);
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_dense_f32(const effc_dense_dims *dims, const float *input, const float *weights,
                   const float *bias, float activation_min, float activation_max,
                   float *output)
{
    int32_t b, o, i;
    if (dims == NULL || dims->batches <= 0 || dims->in_features <= 0 ||
        dims->out_features <= 0) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < dims->batches; b++) {
        const float *x = input + (size_t)b * (size_t)dims->in_features;
        for (o = 0; o < dims->out_features; o++) {
            const float *w = weights + (size_t)o * (size_t)dims->in_features;
            float acc = bias != NULL ? bias[o] : 0.0f;
            for (i = 0; i < dims->in_features; i++) {
                acc += x[i] * w[i];
            }
            output[(size_t)b * (size_t)dims->out_features + (size_t)o] =
                effc_clampf(acc, activation_min, activation_max);
        }
    }
    return EFFC_OK;
}
