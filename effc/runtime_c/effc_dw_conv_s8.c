/*
 * effc_dw_conv_s8.c - int8 depthwise convolution, bit-exact with TFLM's
 * DepthwiseConvPerChannel: the API, the scratch geometry and the portable
 * body. The Cortex-M DSP body is effc_dw_dsp.c.
 *
 * Filter layout: [C_out][KH][KW] (the IR's OHWI with I = 1); output channel
 * o = i * depth_multiplier + m reads input channel i.
 *
 * Scratch (every body, same size on every build): EFFC_DW_PLANES zero-padded
 * int16 planes, or the room of EFFC_DW_MVE_PLANES such planes of bands of at
 * least EFFC_DW_MVE_MIN_ROWS rows when that is more (the Helium body,
 * effc_dw_mve.c, moves four channels at a time into int8 planes and fits its
 * bands to the bytes it gets: its KWS walk needs 4 * 7 * 32 bytes); the planes:
 * each (PH + 1) * PW int16 rounded to 4 bytes, for a band of R output rows:
 * PH = (R-1)*stride_h + (KH-1)*dilation_h + 1 plane rows plus a spare row,
 * PW = (OW-1)*stride_w + (KW-1)*dilation_w + 1 columns (rounded up to even
 * at stride_w 2, for the DSP walk's LDRD; at least EFFC_DW_NARROW_PW for a
 * 3x3 kernel at stride and dilation 1, the DSP walk's immediate row step:
 * KWS's 7 columns become 8, the scratch of the Helium body's planes
 * still the larger). R is the largest
 * band (at most OH) whose planes fit EFFC_DW_SCRATCH_BUDGET, and at least
 * EFFC_DW_MIN_ROWS. Output channel c only reads input channel c's taps, and
 * the DSP body copies a band's input rows into its planes before it writes
 * the band's outputs, keeping the rows the next band shares in the planes:
 * so output == input works with no extra scratch (depth multiplier 1, same
 * N, H and W).
 */
#include "effc_dw_internal.h"

/* The bands of `planes` int16 planes within the budget, at least `min_rows`
 * output rows each, at least `narrow_pw` columns wide. */
static effc_dw_geo effc_dw_geometry_of(const effc_dw_conv_params *p, const effc_dims *f,
                                       const effc_dims *out, int32_t planes, int32_t min_rows,
                                       int32_t narrow_pw)
{
    effc_dw_geo g;
    const int32_t kspan = (f->h - 1) * p->dilation_h + 1;
    int32_t bands;
    size_t row_bytes;
    g.pw = (out->w - 1) * p->stride_w + (f->w - 1) * p->dilation_w + 1;
    if (p->stride_w == 2) { /* even: each output column's taps start 4-byte aligned */
        g.pw += g.pw & 1;
    }
    if (narrow_pw > g.pw) { /* fixed 16-byte rows for the narrow stride-1 walk */
        g.pw = narrow_pw;
    }
    row_bytes = (size_t)g.pw * 2u * (size_t)planes;
    /* the most rows r with ((r - 1) * stride_h + kspan + 1) * row_bytes <= budget */
    g.rows = ((int32_t)(EFFC_DW_SCRATCH_BUDGET / row_bytes) - kspan - 1) / p->stride_h + 1;
    g.rows = EFFC_MIN(out->h, EFFC_MAX(g.rows, min_rows));
    /* as many bands, of equal height: the same work in less scratch */
    bands = (out->h + g.rows - 1) / g.rows;
    g.rows = (out->h + bands - 1) / bands;
    g.ph = (g.rows - 1) * p->stride_h + kspan;
    g.words = ((size_t)(g.ph + 1) * (size_t)g.pw + 1u) & ~(size_t)1u;
    return g;
}

effc_dw_geo effc_dw_geometry(const effc_dw_conv_params *p, const effc_dims *f,
                             const effc_dims *out)
{
    const int narrow = f->h == 3 && f->w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
                       p->dilation_h == 1 && p->dilation_w == 1;
    return effc_dw_geometry_of(p, f, out, EFFC_DW_PLANES, EFFC_DW_MIN_ROWS,
                               narrow ? EFFC_DW_NARROW_PW : 0);
}

int effc_dw_conv_s8_can_run_in_place(const effc_dw_conv_params *params,
                                     const effc_dims *input_dims,
                                     const effc_dims *output_dims)
{
    return params->depth_multiplier == 1 && params->stride_h == 1 &&
           input_dims->h == output_dims->h && input_dims->w == output_dims->w &&
           input_dims->n == output_dims->n;
}

size_t effc_dw_conv_s8_scratch_size(const effc_dw_conv_params *params,
                                    const effc_dims *input_dims, const effc_dims *filter_dims,
                                    const effc_dims *output_dims)
{
    const size_t planes =
        effc_dw_geometry(params, filter_dims, output_dims).words * 2u * EFFC_DW_PLANES;
    const size_t mve = effc_dw_geometry_of(params, filter_dims, output_dims,
                                           EFFC_DW_MVE_PLANES, EFFC_DW_MVE_MIN_ROWS, 0)
                           .words *
                       2u * EFFC_DW_MVE_PLANES;
    (void)input_dims;
    return EFFC_MAX(planes, mve);
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

effc_mm_channel effc_dw_channel_of(const effc_per_channel_quant *quant, const int32_t *bias,
                                   int32_t oc)
{
    effc_mm_channel ch;
    if (quant->channels != NULL) {
        return effc_channel_of(&quant->channels[oc]);
    }
    ch.bias = bias != NULL ? bias[oc] : 0;
    ch.rq = effc_requant_make(quant->multiplier[oc], quant->shift[oc]);
    return ch;
}

#if !defined(EFFC_USE_DSP)

/* ----------------------------------------------------------- portable body */

/* One input channel at a time, band by band: the band's input rows into the
 * first plane (x - zp, zero padded), then every output of the band. */
int effc_dw_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                 const effc_dims *in, const int8_t *input, const effc_dims *f,
                 const int8_t *filter, const int32_t *bias, const effc_dims *out,
                 int8_t *output, int16_t *plane)
{
    const effc_dw_geo g = effc_dw_geometry(p, f, out);
    const int32_t zp = p->input_zero_point;
    int32_t b, ic, oy0, r, x, oy, ox, m, ky, kx;
    for (b = 0; b < out->n; b++) {
        const int8_t *in_b = input + (size_t)b * (size_t)in->h * (size_t)in->w * (size_t)in->c;
        int8_t *out_b = output + (size_t)b * (size_t)out->h * (size_t)out->w * (size_t)out->c;
        for (ic = 0; ic < in->c; ic++) {
            for (oy0 = 0; oy0 < out->h; oy0 += g.rows) {
                const int32_t rows = EFFC_MIN(g.rows, out->h - oy0);
                const int32_t iy0 = oy0 * p->stride_h - p->pad_top;
                /* the band's input rows of channel ic, zero padded (the last
                 * band's rows taken before any of its outputs are written;
                 * earlier bands' rows are kept below) */
                for (r = 0; r < g.ph; r++) {
                    for (x = 0; x < g.pw; x++) {
                        const int32_t iy = iy0 + r, ix = x - p->pad_left;
                        int16_t v = 0;
                        if (oy0 > 0 && r < g.ph - g.rows * p->stride_h) {
                            continue; /* kept from the previous band (below) */
                        }
                        if (iy >= 0 && iy < in->h && ix >= 0 && ix < in->w) {
                            v = (int16_t)(in_b[((size_t)iy * (size_t)in->w + (size_t)ix) *
                                                   (size_t)in->c + (size_t)ic] - zp);
                        }
                        plane[(size_t)r * (size_t)g.pw + (size_t)x] = v;
                    }
                }
                for (oy = 0; oy < rows; oy++) {
                    for (ox = 0; ox < out->w; ox++) {
                        for (m = 0; m < p->depth_multiplier; m++) {
                            const int32_t oc = ic * p->depth_multiplier + m;
                            const int8_t *w = filter + (size_t)oc * (size_t)(f->h * f->w);
                            const effc_mm_channel ch = effc_dw_channel_of(quant, bias, oc);
                            int32_t acc = ch.bias;
                            for (ky = 0; ky < f->h; ky++) {
                                const int16_t *row =
                                    plane + (size_t)(oy * p->stride_h + ky * p->dilation_h) *
                                                (size_t)g.pw +
                                    (size_t)(ox * p->stride_w);
                                for (kx = 0; kx < f->w; kx++) {
                                    acc = effc_wrap_add(acc, row[kx * p->dilation_w] *
                                                                 w[ky * f->w + kx]);
                                }
                            }
                            out_b[((size_t)(oy0 + oy) * (size_t)out->w + (size_t)ox) *
                                      (size_t)out->c + (size_t)oc] =
                                effc_requant_to_s8(acc, ch.rq, p->output_zero_point,
                                                   p->activation_min, p->activation_max);
                        }
                    }
                }
                /* keep the rows the next band shares at the top of the plane */
                effc_dw_slide(plane, &g, p->stride_h, 1);
            }
        }
    }
    return EFFC_OK;
}

#endif

/* Moves the last PH - rows * stride_h plane rows of each of `planes` planes
 * to their top (the rows the next band shares with this one). */
void effc_dw_slide(int16_t *plane, const effc_dw_geo *g, int32_t stride_h, int32_t planes)
{
    const int32_t keep = g->ph - g->rows * stride_h;
    int32_t j;
    size_t i;
    if (keep <= 0) {
        return;
    }
    for (j = 0; j < planes; j++) { /* two values a copy, then an odd last one */
        int16_t *d = plane + (size_t)j * g->words;
        const int16_t *s = d + (size_t)(g->rows * stride_h) * (size_t)g->pw;
        const size_t n = (size_t)keep * (size_t)g->pw;
        for (i = 0; i + 2 <= n; i += 2) {
            effc_write_u32(d + i, effc_read_u32(s + i));
        }
        if (i < n) {
            d[i] = s[i];
        }
    }
}

int effc_dw_conv_s8(const effc_scratch *scratch, const effc_dw_conv_params *params,
                    const effc_per_channel_quant *quant, const effc_dims *input_dims,
                    const int8_t *input, const effc_dims *filter_dims, const int8_t *filter,
                    const int32_t *bias, const effc_dims *output_dims, int8_t *output)
{
    void *buf;
    size_t bytes;
    if (!effc_dw_args_ok(params, input_dims, filter_dims, output_dims) || quant == NULL ||
        (quant->channels == NULL && (quant->multiplier == NULL || quant->shift == NULL))) {
        return EFFC_ERR_ARG;
    }
    if ((const void *)output == (const void *)input &&
        !effc_dw_conv_s8_can_run_in_place(params, input_dims, output_dims)) {
        return EFFC_ERR_ARG;
    }
    bytes = effc_dw_conv_s8_scratch_size(params, input_dims, filter_dims, output_dims);
    buf = effc_scratch_get(scratch, bytes);
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
#if defined(EFFC_USE_MVE)
    if (effc_dw_mve_applies(params, input_dims, filter_dims, output_dims, bytes)) {
        return effc_dw_mve_body(params, quant, input_dims, input, filter_dims, filter, bias,
                                output_dims, output, (int8_t *)buf, bytes);
    }
#endif
    return effc_dw_body(params, quant, input_dims, input, filter_dims, filter, bias,
                        output_dims, output, (int16_t *)buf);
}
