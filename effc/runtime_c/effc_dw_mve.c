/*
 * effc_dw_mve.c - int8 depthwise convolution, Helium (MVE) body (Cortex-M55).
 *
 * Takes depth multiplier 1 with a 3x3 kernel (any stride and dilation); the
 * DSP body (effc_dw_dsp.c) takes the rest, behind the same effc_dw_conv_s8.
 *
 * Four channels at a time are copied (raw int8, no zero point subtracted)
 * into four column-major planes, band by band: one VLDRB.U32 reads the four
 * channels of a pixel and one VSTRB.32 scatters them to the planes. Padded
 * taps hold the input zero point, so that with the bias corrected once per
 * channel, bias - zp * sum w, every tap contributes (x - zp) * w exactly as
 * TFLite's (which skips padded taps: (zp - zp) * w = 0; int32 wrap-around).
 * A plane column holds the band's input rows of one input column.
 *
 * Vector lanes are four output rows of one channel and one output column: a
 * tap is one VLDRB.S32 (stride 1: four consecutive plane rows; else a gather)
 * and one VMLA by the tap's weight (a scalar). The four lanes are then
 * requantized as one vector, TFLite-exact, with the steps of the Helium
 * matrix body (effc_mm_mve.c documents why they are exact): VSHL by the left
 * shift (when there is no right shift), VQRDMULH, then with a right shift
 * minus 1 on negative lanes and VRSHL by it, the clamp, + zp, and one
 * VSTRB.32 scatter to the four output rows (predicated: a band's last row
 * group may have 1-3 rows).
 *
 * At stride 1 and dilation 1 both ways (KWS's layers) the planes' columns
 * are EFFC_DW_MVE_COL bytes apart and channels with a right shift take the
 * assembly walk (effc_dw_mve_asm.c): output columns in pairs, each plane
 * column loaded once for both (12 loads for 18 VMLAs), one call for the
 * walk's channels of a plane group. Everything else takes
 * the same steps in intrinsics, one output column at a time.
 *
 * The band's input rows of its four channels are all in the planes before
 * any of its outputs are written, and the rows the next band shares are moved
 * to the top of each column: so the layer runs in place like the DSP body.
 * The planes live in the same scratch (effc_dw_conv_s8_scratch_size): int8
 * planes take half of the DSP body's int16 ones, so bands are never lower.
 */
#include "effc_dw_internal.h"

#if defined(EFFC_USE_MVE)
#include <arm_mve.h>

/* Bytes past the last plane that the last row group's unused lanes may read;
 * the most bytes a plane takes (the copy's 16-bit scatter offsets reach the
 * fourth plane's second row: 3 * plane + 1 <= 0xffff). */
enum { EFFC_DW_MVE_SLACK = 16, EFFC_DW_MVE_PLANE_MAX = (0xffff - 1) / 3 };

/* Band geometry of the int8 column-major planes. */
typedef struct {
    int32_t rows;  /* output rows per band */
    int32_t ph;    /* plane rows */
    int32_t cs;    /* bytes between plane columns: ph, or EFFC_DW_MVE_COL on the walk */
    int32_t pw;    /* plane columns */
    int32_t plane; /* bytes per plane, pw * cs */
    int32_t keep;  /* rows the next band shares (moved to the top), <= 16 */
    int32_t walk;  /* 1: stride and dilation 1 (the assembly walk's layout) */
} effc_dw_mve_geo;

/* The bands for `bytes` of scratch; rows == 0 when they do not fit. On the
 * walk's layout a band has at most 28 rows (ph <= 30: the last row group's
 * unused lanes stay inside their 32-byte column); elsewhere a slack past the
 * planes takes them. */
static effc_dw_mve_geo effc_dw_mve_geometry(const effc_dw_conv_params *p, const effc_dims *f,
                                            const effc_dims *out, size_t bytes)
{
    effc_dw_mve_geo g;
    const int32_t kspan = (f->h - 1) * p->dilation_h + 1;
    int32_t bands;
    size_t col_budget;
    bytes = EFFC_MIN(bytes, (size_t)EFFC_DW_MVE_PLANES * EFFC_DW_MVE_PLANE_MAX);
    g.pw = (out->w - 1) * p->stride_w + (f->w - 1) * p->dilation_w + 1;
    g.walk = p->stride_h == 1 && p->stride_w == 1 && p->dilation_h == 1 &&
             p->dilation_w == 1 &&
             (size_t)EFFC_DW_MVE_PLANES * (size_t)g.pw * EFFC_DW_MVE_COL <= bytes;
    g.rows = 0;
    if (g.walk) {
        g.rows = EFFC_MIN(out->h, EFFC_DW_MVE_COL - 4);
    } else {
        col_budget = bytes > (size_t)EFFC_DW_MVE_SLACK * (size_t)p->stride_h ?
                         (bytes - (size_t)EFFC_DW_MVE_SLACK * (size_t)p->stride_h) /
                             ((size_t)EFFC_DW_MVE_PLANES * (size_t)g.pw) : 0u;
        if (col_budget < (size_t)kspan) {
            return g;
        }
        g.rows = EFFC_MIN(out->h, (int32_t)(col_budget - (size_t)kspan) / p->stride_h + 1);
    }
    bands = (out->h + g.rows - 1) / g.rows;
    g.rows = (out->h + bands - 1) / bands;
    g.ph = (g.rows - 1) * p->stride_h + kspan;
    g.cs = g.walk ? EFFC_DW_MVE_COL : g.ph;
    g.plane = g.pw * g.cs;
    g.keep = EFFC_MAX(g.ph - g.rows * p->stride_h, 0);
    return g;
}

int effc_dw_mve_applies(const effc_dw_conv_params *p, const effc_dims *in, const effc_dims *f,
                        const effc_dims *out, size_t scratch_bytes)
{
    return p->depth_multiplier == 1 && f->h == 3 && f->w == 3 &&
           in->w * in->c <= 0xffff - 3 && /* two input rows: the copy's 16-bit offsets */
           effc_dw_mve_geometry(p, f, out, scratch_bytes).rows > 0 &&
           effc_dw_mve_geometry(p, f, out, scratch_bytes).keep <= 16 && p->stride_h <= 4;
}

/* n bytes of zp at dst (16 a store, the last one predicated). */
static void effc_dw_mve_fill(int8_t *dst, int32_t n, int32_t zp)
{
    const int8x16_t v = vdupq_n_s8((int8_t)zp);
    int32_t i;
    for (i = 0; i < n; i += 16) {
        vstrbq_p_s8(dst + i, v, vctp8q((uint32_t)(n - i)));
    }
}

/* Input rows [r0, r1) of the band (plane row r <- input row iy0 + r) of
 * channels ic..ic+3 (`lanes` of them) into the planes at pl: two input rows
 * of a pixel a step, the eight bytes (four channels, two rows) one VLDRB.U16
 * gather and one VSTRB.16 scatter to the four planes (16-bit offsets: the
 * scratch and two input rows stay far below 64 KiB); an odd last row under a
 * predicate on the first four lanes. effc_dw_mve_applies keeps two input
 * rows within 16-bit offsets, effc_dw_mve_geometry the four planes. */
static void effc_dw_mve_copy(const effc_dims *in, const int8_t *src, int32_t ic, int32_t lanes,
                             int8_t *pl, const effc_dw_mve_geo *g, int32_t pad_left,
                             int32_t iy0, int32_t r0, int32_t r1)
{
    const uint16x8_t idx = vidupq_n_u16(0u, 1);
    const uint16x8_t chan = vandq_u16(idx, vdupq_n_u16(3u)), row = vshrq_n_u16(idx, 2);
    const int32_t cs = in->c, w = in->w, step = g->cs, row_in = w * cs;
    const uint16x8_t from = vmlaq_n_u16(chan, row, (uint16_t)row_in);
    const uint16x8_t to = vmlaq_n_u16(row, chan, (uint16_t)g->plane);
    const mve_pred16_t both = vcmphiq_u16(vdupq_n_u16((uint16_t)lanes), chan);
    const mve_pred16_t one = both & vcmpeqq_n_u16(row, 0u);
    int32_t r, x;
    for (r = r0; r < r1; r += 2) {
        const uint8_t *s = (const uint8_t *)src + (size_t)(iy0 + r) * (size_t)row_in +
                           (size_t)ic;
        uint8_t *d = (uint8_t *)pl + (size_t)pad_left * (size_t)step + (size_t)r;
        if (lanes == 4 && r + 1 < r1) {
            for (x = 0; x < w; x++, s += cs, d += step) {
                vstrbq_scatter_offset_u16(d, to, vldrbq_gather_offset_u16(s, from));
            }
        } else {
            const mve_pred16_t pr = r + 1 < r1 ? both : one;
            for (x = 0; x < w; x++, s += cs, d += step) {
                vstrbq_scatter_offset_p_u16(d, to, vldrbq_gather_offset_z_u16(s, from, pr), pr);
            }
        }
    }
}

/* A channel's constants for the column walks. */
typedef struct {
    int32_t w[9];           /* the taps, row-major */
    int32_t bias;           /* bias - zp * sum w (int32 wrap) */
    int32_t multiplier;
    int32_t left, right;    /* the shifts (one of them 0) */
    int32_t ozp;
    int32x4_t lo, hi;       /* act_min - ozp, act_max - ozp */
    uint32x4_t out_rows;    /* output bytes of the four lanes' rows from the first */
    int32_t sh;             /* stride_h */
    uint32x4_t in_rows;     /* plane bytes of the four lanes' rows (gathers, stride_h > 1) */
} effc_dw_mve_ch;

/* Requantize the four lanes v and store them under pr at dst + out_rows.
 * LEFT: no right shift (a left shift, maybe 0); else a right shift > 0 (the
 * minus 1 on negative lanes only goes before a rounding right shift). */
#define EFFC_DW_MVE_STORE(v, dst, LEFT)                                                       \
    do {                                                                                      \
        int32x4_t q_ = (v);                                                                   \
        if (LEFT) {                                                                           \
            q_ = vqrdmulhq_n_s32(vshlq_r_s32(q_, left), m);                                   \
        } else {                                                                              \
            q_ = vqrdmulhq_n_s32(q_, m);                                                      \
            if (!EFFC_DW_RELU) {                                                              \
                q_ = vqsubq_s32(q_, vreinterpretq_s32_u32(                                    \
                                        vshrq_n_u32(vreinterpretq_u32_s32(q_), 31)));         \
            }                                                                                 \
            q_ = vrshlq_n_s32(q_, nright);                                                    \
        }                                                                                     \
        q_ = vaddq_n_s32(vminq_s32(vmaxq_s32(q_, lo), hi), ozp);                              \
        vstrbq_scatter_offset_p_s32((dst), out_rows, q_, pr);                                 \
    } while (0)

/* One channel over a band, any stride and dilation (gathers down at
 * stride_h > 1), one output column at a time; the column stride cs. */
static inline __attribute__((always_inline)) void
effc_dw_mve_columns(const effc_dw_mve_ch *k, const int8_t *pl, int8_t *dst, int32_t rows,
                    int32_t cs, const effc_dims *out, const effc_dw_conv_params *p, int LEFT)
{
    const int32_t bias = k->bias, m = k->multiplier, left = k->left, nright = -k->right;
    const int32_t ozp = k->ozp, sh = p->stride_h, dh = p->dilation_h;
    const int32_t cstep = p->dilation_w * cs, xstep = p->stride_w * cs;
    const int32_t cols = out->w, col_out = out->c, row_out = out->w * out->c;
    const int32x4_t lo = k->lo, hi = k->hi;
    const uint32x4_t out_rows = k->out_rows, in_rows = k->in_rows;
    int32_t r, x, kx, ky;
    for (r = 0; r < rows; r += 4, pl += 4 * sh, dst += 4 * row_out) {
        const mve_pred16_t pr = vctp32q((uint32_t)(rows - r));
        for (x = 0; x < cols; x++) {
            const int8_t *c = pl + x * xstep;
            int32x4_t acc = vdupq_n_s32(bias);
            for (kx = 0; kx < 3; kx++) {
                for (ky = 0; ky < 3; ky++) {
                    const int8_t *t = c + kx * cstep + ky * dh;
                    acc = vmlaq_n_s32(acc, sh == 1 ? vldrbq_s32(t) :
                                               vldrbq_gather_offset_s32(t, in_rows),
                                      k->w[ky * 3 + kx]);
                }
            }
            EFFC_DW_MVE_STORE(acc, dst + x * col_out, LEFT);
        }
    }
}

/* One channel over a band in C (the channels and geometries the assembly walk
 * does not take): `rows` output rows from dst, its plane at pl. */
static void effc_dw_mve_channel(const effc_dw_conv_params *p, const effc_dw_mve_geo *g,
                                const effc_dims *out, const effc_dw_mve_ch *k,
                                const int8_t *pl, int8_t *dst, int32_t rows)
{
    if (k->right == 0) {
        effc_dw_mve_columns(k, pl, dst, rows, g->cs, out, p, 1);
    } else {
        effc_dw_mve_columns(k, pl, dst, rows, g->cs, out, p, 0);
    }
}

/* The sum of a channel's nine taps (one predicated load, one VADDV). */
static inline int32_t effc_dw_mve_tap_sum(const int8_t *w)
{
    return vaddvq_s8(vldrbq_z_s8(w, vctp8q(9u)));
}

/* Channel oc's constants for the C walks (its record or arrays through
 * effc_dw_channel_of). */
static void effc_dw_mve_prepare(effc_dw_mve_ch *k, const effc_dw_conv_params *p,
                                const effc_mm_channel *ch, const int8_t *w)
{
    int32_t t;
    for (t = 0; t < 9; t++) {
        k->w[t] = w[t];
    }
    k->bias = (int32_t)((uint32_t)ch->bias -
                        (uint32_t)p->input_zero_point * (uint32_t)effc_dw_mve_tap_sum(w));
    k->multiplier = ch->rq.multiplier;
    k->left = ch->rq.left_shift;
    k->right = ch->rq.right_shift;
}

/* Channel oc's bias (before the zero point's correction), multiplier and
 * minus its right shift into c; 0 when it has no right shift (the C walk). A
 * fast record (always a right shift) is read here directly, the one other
 * reader of the records besides effc_dw_channel_of. */
static inline int effc_dw_mve_walk_rq(effc_dw_mve_chan *c, const effc_per_channel_quant *quant,
                                      const int32_t *bias, int32_t oc)
{
    effc_mm_channel ch;
    if (quant->channels != NULL && !effc_rq_is_general(&quant->channels[oc])) {
        const effc_channel_rq *r = &quant->channels[oc];
        c->bias = effc_rq_bias(r);
        c->multiplier = effc_rq_multiplier(r);
        c->neg_right = -1 - effc_rq_s1(r);
        return 1;
    }
    ch = effc_dw_channel_of(quant, bias, oc);
    c->bias = ch.bias;
    c->multiplier = ch.rq.multiplier;
    c->neg_right = -ch.rq.right_shift;
    return ch.rq.right_shift > 0;
}

/* The walk job's fields that hold for every band of `rows` rows. */
static void effc_dw_mve_walk_job(effc_dw_mve_job *job, const effc_dw_conv_params *p,
                                 const effc_dims *out, int32_t rows)
{
    const int32_t row_out = out->w * out->c;
    int32_t t;
    job->rows = rows;
    job->cols = out->w;
    job->col_out = out->c;
    job->group_out = 4 * row_out - out->w * out->c;
    job->lo = p->activation_min - p->output_zero_point;
    job->hi = p->activation_max - p->output_zero_point;
    job->ozp = p->output_zero_point;
    for (t = 0; t < 4; t++) {
        job->out_rows[t] = (uint32_t)(t * row_out);
    }
}

int effc_dw_mve_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                     const effc_dims *in, const int8_t *input, const effc_dims *f,
                     const int8_t *filter, const int32_t *bias, const effc_dims *out,
                     int8_t *output, int8_t *planes, size_t scratch_bytes)
{
    const effc_dw_mve_geo g = effc_dw_mve_geometry(p, f, out, scratch_bytes);
    const int32_t kspan = 2 * p->dilation_h + 1;
    const int32_t out_row = out->w * out->c;
    const int single_band = g.rows >= out->h;
    effc_dw_mve_ch k;
    effc_dw_mve_job job;
    int32_t b, ic, oy0, j, x, lanes;
    job.rows = 0;
    k.ozp = p->output_zero_point;
    k.lo = vdupq_n_s32(p->activation_min - p->output_zero_point);
    k.hi = vdupq_n_s32(p->activation_max - p->output_zero_point);
    k.out_rows = vmulq_n_u32(vidupq_n_u32(0u, 1), (uint32_t)out_row);
    k.sh = p->stride_h;
    k.in_rows = vmulq_n_u32(vidupq_n_u32(0u, 1), (uint32_t)p->stride_h);
    for (b = 0; b < in->n; b++) {
        const int8_t *in_b = input + (size_t)b * (size_t)in->h * (size_t)in->w * (size_t)in->c;
        int8_t *out_b = output + (size_t)b * (size_t)out->h * (size_t)out_row;
        for (ic = 0; ic < in->c; ic += EFFC_DW_MVE_PLANES) {
            lanes = EFFC_MIN(in->c - ic, EFFC_DW_MVE_PLANES);
            /* padding taps hold zp; with one band the copies never write them */
            if (!single_band || (b == 0 && ic == 0)) {
                effc_dw_mve_fill(planes, EFFC_DW_MVE_PLANES * g.plane, p->input_zero_point);
            }
            for (oy0 = 0; oy0 < out->h; oy0 += g.rows) {
                const int32_t rows = EFFC_MIN(g.rows, out->h - oy0);
                const int32_t used = (rows - 1) * p->stride_h + kspan;
                const int32_t iy0 = oy0 * p->stride_h - p->pad_top;
                const int32_t first = EFFC_MAX(oy0 > 0 ? g.keep : 0, -iy0);
                const int32_t last = EFFC_MIN(used, in->h - iy0);
                if (oy0 > 0) { /* the rows shared with the previous band, to the top */
                    for (x = 0; x < EFFC_DW_MVE_PLANES * g.pw && g.keep > 0; x++) {
                        int8_t *col = planes + (size_t)x * (size_t)g.cs;
                        const mve_pred16_t pk = vctp8q((uint32_t)g.keep);
                        vstrbq_p_s8(col, vldrbq_z_s8(col + g.rows * p->stride_h, pk), pk);
                    }
                    for (x = 0; x < in->w && last < used; x++) { /* bottom padding */
                        for (j = 0; j < EFFC_DW_MVE_PLANES; j++) {
                            effc_dw_mve_fill(planes + (size_t)j * (size_t)g.plane +
                                                 (size_t)(x + p->pad_left) * (size_t)g.cs +
                                                 (size_t)EFFC_MAX(last, 0),
                                             used - EFFC_MAX(last, 0), p->input_zero_point);
                        }
                    }
                }
                if (first < last) {
                    effc_dw_mve_copy(in, in_b, ic, lanes, planes, &g, p->pad_left, iy0, first,
                                     last);
                }
                if (job.rows != rows) { /* a band of another height (first, last) */
                    effc_dw_mve_walk_job(&job, p, out, rows);
                }
                job.chans = 0;
                for (j = 0; j < lanes; j++) {
                    const int8_t *w = filter + (size_t)(ic + j) * 9u;
                    const int8_t *pl = planes + (size_t)j * (size_t)g.plane;
                    int8_t *dst = out_b + (size_t)oy0 * (size_t)out_row + (size_t)(ic + j);
                    effc_dw_mve_chan *c = &job.chan[job.chans];
                    if (g.walk && effc_dw_mve_walk_rq(c, quant, bias, ic + j)) {
                        c->plane = pl; /* to the group's one walk call */
                        c->out = dst;
                        c->w = w;
                        c->bias = (int32_t)((uint32_t)c->bias -
                                            (uint32_t)p->input_zero_point *
                                                (uint32_t)effc_dw_mve_tap_sum(w));
                        job.chans++;
                    } else {
                        const effc_mm_channel ch = effc_dw_channel_of(quant, bias, ic + j);
                        effc_dw_mve_prepare(&k, p, &ch, w);
                        effc_dw_mve_channel(p, &g, out, &k, pl, dst, rows);
                    }
                }
                if (job.chans > 0) {
                    effc_dw_mve_s1(&job);
                }
            }
        }
    }
    return EFFC_OK;
}

#else

typedef int effc_dw_mve_unused; /* ISO C wants a declaration in every file */

#endif
