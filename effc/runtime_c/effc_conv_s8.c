/*
 * effc_conv_s8.c - int8 2-D convolution (NHWC input, OHWI filter, per-channel
 * requantization), bit-exact with TFLM's ConvPerChannel: the entry point, its
 * argument checks and scratch sizes, and the 1x1 path.
 *
 * Three paths share effc_mm_run() (effc_mm_s8.c, effc_mm_dsp.c), which holds
 * the portable and DSP bodies; they differ in how a pixel's patch is gathered:
 *   1x1     pointwise, no padding: the input pixel itself is the patch (here);
 *   3x3     3x3, dilation 1 (effc_conv_im2col.c);
 *   generic any kernel, stride, dilation and padding (effc_conv_im2col.c).
 * The filter is int8 OHWI, EFFC_FILTER_WIDE2 or PAIR8 (params->filter_layout).
 * The 1x1 path has no patch buffers: its scratch is effc_mm_run's.
 */
#include "effc_internal.h"

/* Pointwise without any padding (leading or implied trailing). */
int effc_conv_s8_use_1x1(const effc_conv_params *params, const effc_dims *input_dims,
                         const effc_dims *filter_dims, const effc_dims *output_dims)
{
    return filter_dims->h == 1 && filter_dims->w == 1 && params->pad_top == 0 &&
           params->pad_left == 0 && params->stride_h > 0 && params->stride_w > 0 &&
           (output_dims->h - 1) * params->stride_h < input_dims->h &&
           (output_dims->w - 1) * params->stride_w < input_dims->w;
}

int effc_conv_s8_use_3x3(const effc_conv_params *params, const effc_dims *input_dims,
                         const effc_dims *filter_dims, const effc_dims *output_dims)
{
    (void)input_dims;
    (void)output_dims;
    return filter_dims->h == 3 && filter_dims->w == 3 && params->dilation_h == 1 &&
           params->dilation_w == 1;
}

size_t effc_conv_1x1_s8_scratch_size(const effc_dims *filter_dims)
{
    return effc_mm_scratch_size(filter_dims->c, filter_dims->n);
}

size_t effc_conv_3x3_s8_scratch_size(const effc_dims *filter_dims)
{
    return effc_conv_generic_s8_scratch_size(filter_dims);
}

size_t effc_conv_generic_s8_scratch_size(const effc_dims *filter_dims)
{
    const int32_t k = filter_dims->h * filter_dims->w * filter_dims->c;
    return effc_mm_scratch_size(k, filter_dims->n) +
           (size_t)EFFC_MM_COLS * (size_t)effc_conv_patch_slot(k);
}

size_t effc_conv_s8_scratch_size(const effc_conv_params *params, const effc_dims *input_dims,
                                 const effc_dims *filter_dims, const effc_dims *output_dims)
{
    if (effc_conv_s8_use_1x1(params, input_dims, filter_dims, output_dims)) {
        return effc_conv_1x1_s8_scratch_size(filter_dims);
    }
    if (effc_conv_s8_use_3x3(params, input_dims, filter_dims, output_dims)) {
        return effc_conv_3x3_s8_scratch_size(filter_dims);
    }
    return effc_conv_generic_s8_scratch_size(filter_dims);
}

int effc_conv_args_ok(const effc_conv_params *p, const effc_dims *in,
                      const effc_dims *f, const effc_dims *out)
{
    return p != NULL && effc_dims_ok(in) && effc_dims_ok(f) && effc_dims_ok(out) &&
           out->n == in->n && f->c == in->c && out->c == f->n && p->stride_h > 0 &&
           p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0 && p->pad_top >= 0 &&
           p->pad_left >= 0 &&
           /* S8, WIDE2 or PAIR8 */
           (uint32_t)p->filter_layout <= 3u && p->filter_layout != EFFC_FILTER_WIDE4;
}

/* The matrix kernel of a convolution with n_out = C_out and k = KH*KW*C_in. */
effc_mm effc_conv_mm(const effc_conv_params *p,
                                   const effc_per_channel_quant *quant, const effc_dims *f,
                                   const void *filter, const int32_t *bias)
{
    return effc_mm_conv(p, quant, f->n, f->h * f->w * f->c, filter, bias);
}

int effc_conv_1x1_s8(const effc_scratch *scratch, const effc_conv_params *params,
                     const effc_per_channel_quant *quant, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *filter_dims, const void *filter,
                     const int32_t *bias, const effc_dims *output_dims, int8_t *output)
{
    effc_mm mm;
    const size_t cin = (size_t)filter_dims->c;
    const size_t cout = (size_t)output_dims->c;
    const int32_t npix = output_dims->n * output_dims->h * output_dims->w;
    const size_t step = (size_t)params->stride_w * cin;
    const size_t row_step = (size_t)params->stride_h * (size_t)input_dims->w * cin;
    const size_t image_step = (size_t)input_dims->h * (size_t)input_dims->w * cin;
    size_t at = 0, row_at = 0, image_at = 0;
    int32_t pix, nb, j, oy = 0, ox = 0;
    const int8_t *px[EFFC_MM_COLS];
    int8_t *outs[EFFC_MM_COLS];
    void *buf;
    if (!effc_conv_args_ok(params, input_dims, filter_dims, output_dims) ||
        !effc_conv_quant_ok(params, quant) ||
        !effc_conv_s8_use_1x1(params, input_dims, filter_dims, output_dims)) {
        return EFFC_ERR_ARG;
    }
    buf = effc_scratch_get(scratch, effc_conv_1x1_s8_scratch_size(filter_dims));
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
    if ((const void *)output == (const void *)input &&
        !(cout <= cin && params->stride_h == 1 && params->stride_w == 1 &&
          input_dims->h == output_dims->h && input_dims->w == output_dims->w)) {
        return EFFC_ERR_ARG; /* in place needs pixel i's output to fit over its input */
    }
    mm = effc_conv_mm(params, quant, filter_dims, filter, bias);
    /* In place: effc_mm_run reads a block's pixels before it writes their
     * outputs, and the outputs of pixels <= q only cover inputs of pixels <= q. */
    if (!EFFC_OMIT_WIDE2 && params->stride_h == 1 && params->stride_w == 1 &&
        output_dims->w == input_dims->w && output_dims->h == input_dims->h) {
        /* every pixel follows the last: no stepping (left out with the WIDE2
         * loops: size builds keep the flash) */
        const int8_t *x = input;
        int8_t *y = output;
#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
        pix = effc_mm_run_quads(&mm, npix >> 2, input, cin, output, cout, buf);
        x += (size_t)pix * cin;
        y += (size_t)pix * cout;
#else
        pix = 0;
#endif
        for (; pix < npix; pix += nb) {
            nb = EFFC_MIN(EFFC_MM_COLS, npix - pix);
            for (j = 0; j < nb; j++, x += cin, y += cout) {
                px[j] = x;
                outs[j] = y;
            }
            effc_mm_run(&mm, nb, px, outs, buf);
        }
        return EFFC_OK;
    }
    for (pix = 0; pix < npix; pix += nb) {
        nb = EFFC_MIN(EFFC_MM_COLS, npix - pix);
        for (j = 0; j < nb; j++) { /* pixel (oy, ox) of an image: input offset `at` */
            px[j] = input + at;
            outs[j] = output + (size_t)(pix + j) * cout;
            at += step;
            if (++ox == output_dims->w) {
                ox = 0;
                row_at += row_step;
                if (++oy == output_dims->h) {
                    oy = 0;
                    image_at += image_step;
                    row_at = image_at;
                }
                at = row_at;
            }
        }
        effc_mm_run(&mm, nb, px, outs, buf);
    }
    return EFFC_OK;
}
