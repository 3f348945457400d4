/*
 * effc_dw_conv_s8.c - int8 depthwise convolution, bit-exact with TFLM's
 * DepthwiseConvPerChannel.
 *
 * Filter layout: [C_out][KH][KW] (the IR's OHWI with I = 1); output channel
 * o = i * depth_multiplier + m reads input channel i.
 *
 *  - portable body: direct loops over the NHWC input, padded taps skipped;
 *  - DSP body: one input channel at a time is copied into a zero-padded
 *    int16 plane in scratch with the zero point subtracted (padding is then
 *    exactly 0). A 3x3 kernel with stride 1 and dilation 1 runs two outputs
 *    per step: each kernel row is one SMLAD (taps 0 and 1) plus one SMLABB /
 *    SMLATB (tap 2). Other geometries take a scalar loop over the plane.
 *
 * Scratch (both bodies, same size): the padded plane,
 * (PH * PW + 2) int16 with PH = (OH-1)*stride_h + (KH-1)*dilation_h + 1 and
 * PW = (OW-1)*stride_w + (KW-1)*dilation_w + 1.
 */
#include "effc_internal.h"

static int32_t effc_dw_plane_h(const effc_dw_conv_params *p, const effc_dims *f,
                               const effc_dims *out)
{
    return (out->h - 1) * p->stride_h + (f->h - 1) * p->dilation_h + 1;
}

static int32_t effc_dw_plane_w(const effc_dw_conv_params *p, const effc_dims *f,
                               const effc_dims *out)
{
    return (out->w - 1) * p->stride_w + (f->w - 1) * p->dilation_w + 1;
}

size_t effc_dw_conv_s8_scratch_size(const effc_dw_conv_params *params,
                                    const effc_dims *input_dims, const effc_dims *filter_dims,
                                    const effc_dims *output_dims)
{
    const size_t ph = (size_t)effc_dw_plane_h(params, filter_dims, output_dims);
    const size_t pw = (size_t)effc_dw_plane_w(params, filter_dims, output_dims);
    (void)input_dims;
    return ((ph * pw + 2u) * 2u + 3u) & ~(size_t)3u;
}

static int effc_dw_args_ok(const effc_dw_conv_params *p, const effc_dims *in,
                           const effc_dims *f, const effc_dims *out)
{
    return p != NULL && effc_dims_ok(in) && effc_dims_ok(f) && effc_dims_ok(out) &&
           out->n == in->n && f->c == 1 && p->depth_multiplier > 0 &&
           out->c == in->c * p->depth_multiplier && f->n == out->c && p->stride_h > 0 &&
           p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0 && p->pad_top >= 0 &&
           p->pad_left >= 0;
}

#if !defined(EFFC_USE_DSP)

/* ----------------------------------------------------------- portable body */

static void effc_dw_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                         const effc_dims *in, const int8_t *input, const effc_dims *f,
                         const int8_t *filter, const int32_t *bias, const effc_dims *out,
                         int8_t *output, int16_t *plane)
{
    const int32_t zp = p->input_zero_point;
    int32_t b, oy, ox, oc;
    (void)plane;
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < out->w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *dst = output + ((size_t)(b * out->h + oy) * (size_t)out->w +
                                        (size_t)ox) * (size_t)out->c;
                for (oc = 0; oc < out->c; oc++) {
                    const int32_t ic = oc / p->depth_multiplier;
                    const int8_t *w = filter + (size_t)oc * (size_t)(f->h * f->w);
                    int32_t acc = bias != NULL ? bias[oc] : 0;
                    int32_t ky, kx;
                    for (ky = 0; ky < f->h; ky++) {
                        const int32_t iy = iy0 + ky * p->dilation_h;
                        if (iy < 0 || iy >= in->h) {
                            continue;
                        }
                        for (kx = 0; kx < f->w; kx++) {
                            const int32_t ix = ix0 + kx * p->dilation_w;
                            if (ix < 0 || ix >= in->w) {
                                continue;
                            }
                            acc += (input[((size_t)(b * in->h + iy) * (size_t)in->w +
                                           (size_t)ix) * (size_t)in->c + (size_t)ic] - zp) *
                                   w[ky * f->w + kx];
                        }
                    }
                    dst[oc] = effc_requant_to_s8(
                        acc, effc_requant_make(quant->multiplier[oc], quant->shift[oc]),
                        p->output_zero_point, p->activation_min, p->activation_max);
                }
            }
        }
    }
}

#else

/* ---------------------------------------------------------------- DSP body */

typedef struct {
    int32_t bias;
    effc_requant rq;
    int32_t out_zp, lo, hi; /* clamp bounds relative to the zero point */
} effc_dw_out;

static inline int8_t effc_dw_store(int32_t acc, const effc_dw_out *o)
{
    const int32_t v = effc_requant_apply(acc, o->rq);
    return (int8_t)(effc_clamp_i32(v, o->lo, o->hi) + o->out_zp);
}

/* Copy input channel ic of batch b into the plane's interior (x - zp). */
static void effc_dw_fill(const effc_dw_conv_params *p, const effc_dims *in, const int8_t *input,
                         int32_t b, int32_t ic, int16_t *plane, int32_t ph, int32_t pw)
{
    const int32_t y_end = EFFC_MIN(in->h, ph - p->pad_top);
    const int32_t x_end = EFFC_MIN(in->w, pw - p->pad_left);
    const int32_t zp = p->input_zero_point;
    const size_t cstride = (size_t)in->c;
    int32_t iy, ix;
    for (iy = 0; iy < y_end; iy++) {
        const int8_t *src = input + ((size_t)(b * in->h + iy) * (size_t)in->w) * cstride +
                            (size_t)ic;
        int16_t *dst = plane + (size_t)(iy + p->pad_top) * (size_t)pw + (size_t)p->pad_left;
        for (ix = 0; ix < x_end; ix++) {
            dst[ix] = (int16_t)(*src - zp);
            src += cstride;
        }
    }
}

/* One output channel, 3x3, stride 1, dilation 1. */
static void effc_dw_3x3_s1(const int16_t *plane, int32_t pw, const effc_dims *out,
                           const int8_t *w, const effc_dw_out *o, int8_t *dst)
{
    const size_t step = (size_t)out->c;
    int32_t wq[6];
    int32_t oy, ox, r;
    for (r = 0; r < 3; r++) {
        wq[2 * r] = (int32_t)(((uint32_t)(uint16_t)w[3 * r]) |
                              ((uint32_t)(uint16_t)w[3 * r + 1] << 16));
        wq[2 * r + 1] = w[3 * r + 2];
    }
    for (oy = 0; oy < out->h; oy++) {
        const int16_t *r0 = plane + (size_t)oy * (size_t)pw;
        const int16_t *r1 = r0 + pw;
        const int16_t *r2 = r1 + pw;
        for (ox = 0; ox + 2 <= out->w; ox += 2) {
            int32_t a0 = o->bias, a1 = o->bias;
            uint32_t b;
            a0 = __smlad((int32_t)effc_read_u32(r0), wq[0], a0);
            a1 = __smlad((int32_t)effc_read_u32(r0 + 1), wq[0], a1);
            b = effc_read_u32(r0 + 2);
            a0 = __smlabb((int32_t)b, wq[1], a0);
            a1 = __smlatb((int32_t)b, wq[1], a1);
            a0 = __smlad((int32_t)effc_read_u32(r1), wq[2], a0);
            a1 = __smlad((int32_t)effc_read_u32(r1 + 1), wq[2], a1);
            b = effc_read_u32(r1 + 2);
            a0 = __smlabb((int32_t)b, wq[3], a0);
            a1 = __smlatb((int32_t)b, wq[3], a1);
            a0 = __smlad((int32_t)effc_read_u32(r2), wq[4], a0);
            a1 = __smlad((int32_t)effc_read_u32(r2 + 1), wq[4], a1);
            b = effc_read_u32(r2 + 2);
            a0 = __smlabb((int32_t)b, wq[5], a0);
            a1 = __smlatb((int32_t)b, wq[5], a1);
            dst[0] = effc_dw_store(a0, o);
            dst[step] = effc_dw_store(a1, o);
            dst += 2 * step;
            r0 += 2;
            r1 += 2;
            r2 += 2;
        }
        if (ox < out->w) {
            int32_t a0 = o->bias;
            a0 = __smlad((int32_t)effc_read_u32(r0), wq[0], a0);
            a0 = __smlabb((int32_t)r0[2], wq[1], a0);
            a0 = __smlad((int32_t)effc_read_u32(r1), wq[2], a0);
            a0 = __smlabb((int32_t)r1[2], wq[3], a0);
            a0 = __smlad((int32_t)effc_read_u32(r2), wq[4], a0);
            a0 = __smlabb((int32_t)r2[2], wq[5], a0);
            dst[0] = effc_dw_store(a0, o);
            dst += step;
        }
    }
}

/* One output channel, any kernel, stride and dilation. */
static void effc_dw_plane_generic(const effc_dw_conv_params *p, const int16_t *plane,
                                  int32_t pw, const effc_dims *f, const effc_dims *out,
                                  const int8_t *w, const effc_dw_out *o, int8_t *dst)
{
    const size_t step = (size_t)out->c;
    int32_t oy, ox, ky, kx;
    for (oy = 0; oy < out->h; oy++) {
        for (ox = 0; ox < out->w; ox++) {
            const int16_t *base =
                plane + (size_t)(oy * p->stride_h) * (size_t)pw + (size_t)(ox * p->stride_w);
            int32_t acc = o->bias;
            for (ky = 0; ky < f->h; ky++) {
                const int16_t *row = base + (size_t)(ky * p->dilation_h) * (size_t)pw;
                for (kx = 0; kx < f->w; kx++) {
                    acc += row[kx * p->dilation_w] * w[ky * f->w + kx];
                }
            }
            *dst = effc_dw_store(acc, o);
            dst += step;
        }
    }
}

static void effc_dw_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                         const effc_dims *in, const int8_t *input, const effc_dims *f,
                         const int8_t *filter, const int32_t *bias, const effc_dims *out,
                         int8_t *output, int16_t *plane)
{
    const int32_t ph = effc_dw_plane_h(p, f, out);
    const int32_t pw = effc_dw_plane_w(p, f, out);
    const int fast = f->h == 3 && f->w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
                     p->dilation_h == 1 && p->dilation_w == 1;
    const size_t out_batch = (size_t)out->h * (size_t)out->w * (size_t)out->c;
    int32_t b, ic, m, i;
    for (i = 0; i < ph * pw + 2; i++) {
        plane[i] = 0;
    }
    for (b = 0; b < in->n; b++) {
        for (ic = 0; ic < in->c; ic++) {
            effc_dw_fill(p, in, input, b, ic, plane, ph, pw);
            for (m = 0; m < p->depth_multiplier; m++) {
                const int32_t oc = ic * p->depth_multiplier + m;
                const int8_t *w = filter + (size_t)oc * (size_t)(f->h * f->w);
                int8_t *dst = output + (size_t)b * out_batch + (size_t)oc;
                effc_dw_out o;
                o.bias = bias != NULL ? bias[oc] : 0;
                o.rq = effc_requant_make(quant->multiplier[oc], quant->shift[oc]);
                o.out_zp = p->output_zero_point;
                o.lo = p->activation_min - p->output_zero_point;
                o.hi = p->activation_max - p->output_zero_point;
                if (fast) {
                    effc_dw_3x3_s1(plane, pw, out, w, &o, dst);
                } else {
                    effc_dw_plane_generic(p, plane, pw, f, out, w, &o, dst);
                }
            }
        }
    }
}

#endif

int effc_dw_conv_s8(const effc_scratch *scratch, const effc_dw_conv_params *params,
                    const effc_per_channel_quant *quant, const effc_dims *input_dims,
                    const int8_t *input, const effc_dims *filter_dims, const int8_t *filter,
                    const int32_t *bias, const effc_dims *output_dims, int8_t *output)
{
    void *buf;
    if (!effc_dw_args_ok(params, input_dims, filter_dims, output_dims) || quant == NULL) {
        return EFFC_ERR_ARG;
    }
    buf = effc_scratch_get(scratch, effc_dw_conv_s8_scratch_size(params, input_dims,
                                                                 filter_dims, output_dims));
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
    effc_dw_body(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                 output, (int16_t *)buf);
    return EFFC_OK;
}
