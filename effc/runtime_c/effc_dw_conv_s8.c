/*
 * effc_dw_conv_s8.c - int8 depthwise convolution, bit-exact with TFLM's
 * DepthwiseConvPerChannel.
 *
 * Filter layout: [C_out][KH][KW] (the IR's OHWI with I = 1); output channel
 * o = i * depth_multiplier + m reads input channel i.
 *
 *  - portable body: direct loops over the NHWC input, padded taps skipped;
 *  - DSP body: four input channels at a time are copied into zero-padded
 *    int16 planes in scratch with the zero point subtracted (padding is then
 *    exactly 0). Phase 1 computes a channel's accumulators: a 3x3 kernel
 *    with stride 1 and dilation 1 walks down each output column in assembly,
 *    each plane row loaded once and used by the three outputs it belongs to
 *    (SMLAD for taps 0 and 1, SMLABB / SMLABT for tap 2); other geometries
 *    take a scalar loop over the plane. Phase 2 requantizes them with the
 *    channel's parameters held in registers (effc_requant_rs when the
 *    channel allows it).
 *
 * The DSP body works on bands of R output rows, R chosen so the scratch stays
 * near EFFC_DW_SCRATCH_BUDGET bytes (all rows when they fit). Scratch (both
 * bodies, same size): four padded planes (four input channels are copied in
 * one pass), each PH * PW + 2 int16 rounded to 4 bytes, with
 * PH = (R-1)*stride_h + (KH-1)*dilation_h + 1 and
 * PW = (OW-1)*stride_w + (KW-1)*dilation_w + 1; then R * OW int32.
 */
#include "effc_internal.h"

/* The DSP body works on bands of output rows so that its scratch stays near
 * this many bytes (one band for small feature maps such as KWS). */
#define EFFC_DW_SCRATCH_BUDGET 8192

typedef struct {
    int32_t rows;  /* output rows per band */
    int32_t ph;    /* plane rows per band */
    int32_t pw;    /* plane width */
    size_t words;  /* int16 per plane, rounded up to keep 4-byte alignment */
} effc_dw_geo;

static effc_dw_geo effc_dw_geometry(const effc_dw_conv_params *p, const effc_dims *f,
                                    const effc_dims *out)
{
    effc_dw_geo g;
    const int32_t per_row = 8 * ((out->w - 1) * p->stride_w + (f->w - 1) * p->dilation_w + 1) *
                                p->stride_h +
                            4 * out->w;
    g.pw = (out->w - 1) * p->stride_w + (f->w - 1) * p->dilation_w + 1;
    g.rows = EFFC_MIN(out->h, EFFC_MAX(1, EFFC_DW_SCRATCH_BUDGET / per_row));
    g.ph = (g.rows - 1) * p->stride_h + (f->h - 1) * p->dilation_h + 1;
    g.words = ((size_t)g.ph * (size_t)g.pw + 2u + 1u) & ~(size_t)1u;
    return g;
}

/* Channels handled per step when the output is written over the input. */
#define EFFC_DW_IN_PLACE_CHANNELS 4

/* In place (output == input) is possible when every output channel has the
 * shape of its own input channel: multiplier 1 and the same H and W. */
int effc_dw_conv_s8_can_run_in_place(const effc_dw_conv_params *params,
                                     const effc_dims *input_dims,
                                     const effc_dims *output_dims)
{
    return params->depth_multiplier == 1 && input_dims->h == output_dims->h &&
           input_dims->w == output_dims->w && input_dims->n == output_dims->n;
}

static size_t effc_dw_body_scratch(const effc_dw_conv_params *params,
                                   const effc_dims *filter_dims, const effc_dims *output_dims)
{
    const effc_dw_geo g = effc_dw_geometry(params, filter_dims, output_dims);
    return g.words * 2u * 4u + (size_t)g.rows * (size_t)output_dims->w * 4u;
}

/* Bytes of one in-place chunk: EFFC_DW_IN_PLACE_CHANNELS channels, all pixels. */
static size_t effc_dw_chunk_bytes(const effc_dims *d)
{
    return effc_align4((size_t)d->n * (size_t)d->h * (size_t)d->w * EFFC_DW_IN_PLACE_CHANNELS);
}

/* The body's planes and accumulators; when the layer can run in place, also
 * an input and an output chunk of EFFC_DW_IN_PLACE_CHANNELS channels. */
size_t effc_dw_conv_s8_scratch_size(const effc_dw_conv_params *params,
                                    const effc_dims *input_dims, const effc_dims *filter_dims,
                                    const effc_dims *output_dims)
{
    size_t bytes = effc_dw_body_scratch(params, filter_dims, output_dims);
    if (effc_dw_conv_s8_can_run_in_place(params, input_dims, output_dims)) {
        bytes += 2u * effc_dw_chunk_bytes(output_dims);
    }
    return bytes;
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
                            acc = effc_wrap_add(
                                acc, (input[((size_t)(b * in->h + iy) * (size_t)in->w +
                                             (size_t)ix) * (size_t)in->c + (size_t)ic] - zp) *
                                         w[ky * f->w + kx]);
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

/* The portable body keeps no state in scratch. */
static void effc_dw_prepare(const effc_dw_conv_params *p, const effc_dims *f,
                            const effc_dims *out, int16_t *plane)
{
    (void)p;
    (void)f;
    (void)out;
    (void)plane;
}

#else

/* ---------------------------------------------------------------- DSP body */

/* Plane row r of the band starting at output row oy0 holds input row
 * oy0 * stride_h - pad_top + r; rows outside the input are zero. Columns
 * outside the input are never written (zeroed once). */
typedef struct {
    int32_t iy0;   /* input row of plane row 0 */
    int32_t x_end; /* input columns copied */
} effc_dw_band;

static effc_dw_band effc_dw_band_at(const effc_dw_conv_params *p, const effc_dims *in,
                                    const effc_dw_geo *g, int32_t oy0)
{
    effc_dw_band band;
    band.iy0 = oy0 * p->stride_h - p->pad_top;
    band.x_end = EFFC_MIN(in->w, g->pw - p->pad_left);
    return band;
}

/* Copy input channel ic into the plane (x - zp). */
static void effc_dw_fill(const effc_dw_conv_params *p, const effc_dims *in, const int8_t *input,
                         int32_t ic, int16_t *plane, const effc_dw_geo *g,
                         const effc_dw_band *band)
{
    const int32_t zp = p->input_zero_point;
    const size_t cstride = (size_t)in->c;
    int32_t r, ix;
    for (r = 0; r < g->ph; r++) {
        const int32_t iy = band->iy0 + r;
        int16_t *dst = plane + (size_t)r * (size_t)g->pw + (size_t)p->pad_left;
        const int8_t *src = input + ((size_t)iy * (size_t)in->w) * cstride + (size_t)ic;
        if (iy < 0 || iy >= in->h) {
            for (ix = 0; ix < band->x_end; ix++) {
                dst[ix] = 0;
            }
            continue;
        }
        for (ix = 0; ix < band->x_end; ix++) {
            dst[ix] = (int16_t)(*src - zp);
            src += cstride;
        }
    }
}

/* Copy input channels ic..ic+3 into four planes at once (one 32-bit load
 * per pixel, widened with SXTAB16). */
static __attribute__((noinline)) void effc_dw_fill4(const effc_dw_conv_params *p,
                                                    const effc_dims *in, const int8_t *input,
                                                    int32_t ic, int16_t *plane,
                                                    const effc_dw_geo *g,
                                                    const effc_dw_band *band)
{
    const int32_t off = (int32_t)(((uint32_t)(uint16_t)(-p->input_zero_point)) * 0x10001u);
    const size_t cstride = (size_t)in->c;
    const int32_t x_end = band->x_end;
    int32_t r, ix;
    for (r = 0; r < g->ph; r++) {
        const int32_t iy = band->iy0 + r;
        int16_t *d0 = plane + (size_t)r * (size_t)g->pw + (size_t)p->pad_left;
        int16_t *d1 = d0 + g->words;
        int16_t *d2 = d1 + g->words;
        int16_t *d3 = d2 + g->words;
        const int8_t *src = input + ((size_t)iy * (size_t)in->w) * cstride + (size_t)ic;
        if (iy < 0 || iy >= in->h) {
            for (ix = 0; ix < x_end; ix++) {
                d0[ix] = 0;
                d1[ix] = 0;
                d2[ix] = 0;
                d3[ix] = 0;
            }
            continue;
        }
        for (ix = 0; ix < x_end; ix++) {
            const uint32_t v = effc_read_u32(src);
            const int32_t e = __sxtab16(off, v);
            const int32_t o = effc_sxtab16_ror8(off, v);
            src += cstride;
            d0[ix] = (int16_t)e;
            d1[ix] = (int16_t)o;
            d2[ix] = (int16_t)(e >> 16);
            d3[ix] = (int16_t)(o >> 16);
        }
    }
}

/* Phase 1, 3x3 / stride 1 / dilation 1: accumulators of one output channel,
 * one output column at a time, walking down the plane. Each plane row is
 * loaded once (a 32-bit load of taps 0-1, then one of tap 2) and feeds the
 * three outputs it belongs to: kernel row 0 of output r, row 1 of output
 * r - 1 and row 2 of output r - 2 (which is then complete and stored).
 * 12 instructions per output. The accumulators come out column-major:
 * acc[ox * rows + oy]. */
/* Parameters of naked functions are only read by the assembly. */
#define EFFC_DW_ARG __attribute__((unused))

typedef struct {
    int32_t w01[3];  /* taps (0, 1) of kernel rows 0..2 as int16 pairs */
    int32_t w2ab;    /* tap 2 of kernel rows 0 (bottom) and 1 (top) */
    int32_t w2c;     /* tap 2 of kernel row 2 */
    int32_t bias;
    int32_t *acc;    /* the column's accumulators */
} effc_dw_col_job;

/* r0 = plane column start (int16 *), r1 = plane row stride in bytes,
 * r2 = rows (> 0), r3 = job. Registers: r2-r4 accumulators (rotating roles),
 * r5-r7 taps (0, 1), r8-r9 tap 2, r10 bias, r11 output, r12 rows left,
 * lr the loaded plane word. */
#define EFFC_DW_ROW(NEW, MID, OLD)                                                            \
    "ldr    lr, [r0]\n\t"                                                                      \
    "smlad  " NEW ", lr, r5, r10\n\t"                                                          \
    "smlad  " MID ", lr, r6, " MID "\n\t"                                                      \
    "smlad  " OLD ", lr, r7, " OLD "\n\t"                                                      \
    "ldr    lr, [r0, #4]\n\t"                                                                  \
    "add    r0, r0, r1\n\t"                                                                    \
    "smlabb " NEW ", lr, r8, " NEW "\n\t"                                                      \
    "smlabt " MID ", lr, r8, " MID "\n\t"                                                      \
    "smlabb " OLD ", lr, r9, " OLD "\n\t"                                                      \
    "str    " OLD ", [r11], #4\n\t"                                                            \
    "subs   r12, r12, #1\n\t"

static __attribute__((naked, noinline)) void effc_dw_3x3_col(EFFC_DW_ARG const int16_t *p,
                                                             EFFC_DW_ARG int32_t row_bytes,
                                                             EFFC_DW_ARG int32_t rows,
                                                             EFFC_DW_ARG const effc_dw_col_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "mov    r12, r2\n\t"
        "ldm    r3, {r5-r11}\n\t"
        /* plane row 0: kernel row 0 of output 0 */
        "ldr    lr, [r0]\n\t"
        "smlad  r2, lr, r5, r10\n\t"
        "ldr    lr, [r0, #4]\n\t"
        "add    r0, r0, r1\n\t"
        "smlabb r2, lr, r8, r2\n\t"
        /* plane row 1: kernel row 0 of output 1, row 1 of output 0 */
        "ldr    lr, [r0]\n\t"
        "smlad  r3, lr, r5, r10\n\t"
        "smlad  r2, lr, r6, r2\n\t"
        "ldr    lr, [r0, #4]\n\t"
        "add    r0, r0, r1\n\t"
        "smlabb r3, lr, r8, r3\n\t"
        "smlabt r2, lr, r8, r2\n\t"
        "1:\n\t"
        EFFC_DW_ROW("r4", "r3", "r2")
        "beq    2f\n\t"
        EFFC_DW_ROW("r2", "r4", "r3")
        "beq    2f\n\t"
        EFFC_DW_ROW("r3", "r2", "r4")
        "bne    1b\n\t"
        "2:\n\t"
        "pop    {r4-r11, pc}\n\t");
}

static __attribute__((noinline)) void effc_dw_3x3_s1_acc(const int16_t *plane, int32_t pw,
                                                         int32_t oh, int32_t ow,
                                                         const int8_t *w, int32_t bias,
                                                         int32_t *acc)
{
    effc_dw_col_job job;
    int32_t ox;
    job.w01[0] = (int32_t)((uint16_t)w[0] | ((uint32_t)(uint16_t)w[1] << 16));
    job.w01[1] = (int32_t)((uint16_t)w[3] | ((uint32_t)(uint16_t)w[4] << 16));
    job.w01[2] = (int32_t)((uint16_t)w[6] | ((uint32_t)(uint16_t)w[7] << 16));
    job.w2ab = (int32_t)((uint16_t)w[2] | ((uint32_t)(uint16_t)w[5] << 16));
    job.w2c = w[8];
    job.bias = bias;
    for (ox = 0; ox < ow; ox++) {
        job.acc = acc + (size_t)ox * (size_t)oh;
        effc_dw_3x3_col(plane + ox, 2 * pw, oh, &job);
    }
}

/* Phase 1, any kernel, stride and dilation. */
static __attribute__((noinline)) void effc_dw_generic_acc(const effc_dw_conv_params *p,
                                                          const int16_t *plane, int32_t pw,
                                                          const effc_dims *f, int32_t rows,
                                                          int32_t ow, const int8_t *w,
                                                          int32_t bias, int32_t *acc)
{
    int32_t oy, ox, ky, kx;
    for (oy = 0; oy < rows; oy++) {
        for (ox = 0; ox < ow; ox++) {
            const int16_t *base =
                plane + (size_t)(oy * p->stride_h) * (size_t)pw + (size_t)(ox * p->stride_w);
            int32_t a = bias;
            for (ky = 0; ky < f->h; ky++) {
                const int16_t *row = base + (size_t)(ky * p->dilation_h) * (size_t)pw;
                for (kx = 0; kx < f->w; kx++) {
                    a = effc_wrap_add(a, row[kx * p->dilation_w] * w[ky * f->w + kx]);
                }
            }
            *acc++ = a;
        }
    }
}

/* Phase 2: requantize `cols` runs of n accumulators of one channel (acc is
 * contiguous) into strided outputs: element i of run j goes to
 * dst[j * col_step + i * step]. QADD + SSAT give + zero point and the int8
 * range; narrower activation ranges are clamped after. */
typedef struct {
    int32_t n, cols;
    size_t step, col_step;
    int32_t zp, act_min, act_max;
} effc_dw_rq_shape;

static __attribute__((noinline)) void effc_dw_requant(const int32_t *acc,
                                                      const effc_dw_rq_shape *sh,
                                                      effc_requant rq, int8_t *dst)
{
    const int32_t zp = sh->zp, lo = sh->act_min, hi = sh->act_max;
    const size_t step = sh->step;
    int32_t j;
    for (j = 0; j < sh->cols; j++) {
        const int32_t *end = acc + sh->n;
        int8_t *d = dst + (size_t)j * sh->col_step;
        while (acc < end) {
            const int32_t v = __ssat(__qadd(effc_requant_apply(*acc++, rq), zp), 8);
            *d = (int8_t)effc_clamp_i32(v, lo, hi);
            d += step;
        }
    }
}

/* Phase 2 with effc_requant_rs (right shift in [1, 23], multiplier >= 0,
 * the zero point folded in): one SMLAL and one shift per output instead of
 * the mask-and-compare rounding, then SSAT. */
/* The full-int8-range case in assembly: per run of n (> 0) accumulators,
 * two outputs per step (an odd one first). r0 = acc, r1 = job
 * {n, step, col_step, cols, record (multiplier, s - 1, C low, C high)},
 * r2 = dst. Registers: r4 n, r5 step, r6 col_step, r7-r10 record, r11 steps
 * left, lr output pointer, r1/r3/r12 temporaries, cols at [sp]. */
typedef struct {
    int32_t n, step, col_step, cols;
    effc_requant_rs rq;
} effc_dw_rq_job;

#define EFFC_DW_RQ1(X)                                                                        \
    "and    r3, " X ", #0x80000000\n\t"                                                       \
    "adds   r3, r3, r9\n\t"                                                                    \
    "adc    r1, r10, " X ", asr #31\n\t"                                                       \
    "smlal  r3, r1, " X ", r7\n\t"                                                             \
    "asr    " X ", r1, r8\n\t"                                                                 \
    "ssat   " X ", #8, " X "\n\t"                                                              \
    "strb   " X ", [lr]\n\t"                                                                   \
    "add    lr, lr, r5\n\t"

static __attribute__((naked, noinline)) void effc_dw_requant_rs_full(
    EFFC_DW_ARG const int32_t *acc, EFFC_DW_ARG const effc_dw_rq_job *job,
    EFFC_DW_ARG int8_t *dst)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "ldr    r12, [r1, #12]\n\t"
        "push   {r12}\n\t" /* cols */
        "ldm    r1, {r4-r6}\n\t"
        "add    r1, r1, #16\n\t"
        "ldm    r1, {r7-r10}\n\t"
        "1:\n\t"
        "mov    lr, r2\n\t"
        "add    r2, r2, r6\n\t"
        "lsrs   r11, r4, #1\n\t"
        "bcc    2f\n\t"
        "ldr    r12, [r0], #4\n\t"
        EFFC_DW_RQ1("r12")
        "cmp    r11, #0\n\t"
        "beq    3f\n\t"
        "2:\n\t"
        "ldr    r12, [r0], #4\n\t"
        EFFC_DW_RQ1("r12")
        "ldr    r12, [r0], #4\n\t"
        EFFC_DW_RQ1("r12")
        "subs   r11, r11, #1\n\t"
        "bne    2b\n\t"
        "3:\n\t"
        "ldr    r12, [sp]\n\t"
        "subs   r12, r12, #1\n\t"
        "str    r12, [sp]\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #4\n\t"
        "pop    {r4-r11, pc}\n\t");
}

static __attribute__((noinline)) void effc_dw_requant_rs(const int32_t *acc,
                                                         const effc_dw_rq_shape *sh,
                                                         effc_requant_rs rq, int8_t *dst)
{
    const int32_t lo = sh->act_min, hi = sh->act_max;
    const size_t step = sh->step;
    int32_t j;
    if (lo <= -128 && hi >= 127) {
        effc_dw_rq_job job;
        if (sh->n <= 0 || sh->cols <= 0) {
            return;
        }
        job.n = sh->n;
        job.step = (int32_t)sh->step;
        job.col_step = (int32_t)sh->col_step;
        job.cols = sh->cols;
        job.rq = rq;
        effc_dw_requant_rs_full(acc, &job, dst);
        return;
    }
    for (j = 0; j < sh->cols; j++) {
        const int32_t *end = acc + sh->n;
        int8_t *d = dst + (size_t)j * sh->col_step;
        while (acc < end) {
            const int32_t v = __ssat(effc_requant_rs_apply(*acc++, &rq), 8);
            *d = (int8_t)effc_clamp_i32(v, lo, hi);
            d += step;
        }
    }
}

/* Both phases for the output channels of input channel ic over one band. */
static void effc_dw_channel(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                            const effc_dims *f, const int8_t *filter, const int32_t *bias,
                            const effc_dims *out, int8_t *dst, const int16_t *plane,
                            const effc_dw_geo *g, int32_t rows, int32_t ic, int32_t *acc)
{
    const int fast = f->h == 3 && f->w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
                     p->dilation_h == 1 && p->dilation_w == 1;
    effc_dw_rq_shape sh;
    int32_t m;
    sh.zp = p->output_zero_point;
    sh.act_min = p->activation_min;
    sh.act_max = p->activation_max;
    if (fast) { /* column-major accumulators */
        sh.n = rows;
        sh.cols = out->w;
        sh.step = (size_t)out->w * (size_t)out->c;
        sh.col_step = (size_t)out->c;
    } else {
        sh.n = rows * out->w;
        sh.cols = 1;
        sh.step = (size_t)out->c;
        sh.col_step = 0;
    }
    for (m = 0; m < p->depth_multiplier; m++) {
        const int32_t oc = ic * p->depth_multiplier + m;
        const int8_t *w = filter + (size_t)oc * (size_t)(f->h * f->w);
        const int32_t bo = bias != NULL ? bias[oc] : 0;
        if (fast) {
            effc_dw_3x3_s1_acc(plane, g->pw, rows, out->w, w, bo, acc);
        } else {
            effc_dw_generic_acc(p, plane, g->pw, f, rows, out->w, w, bo, acc);
        }
        if (effc_requant_rs_ok(quant->multiplier[oc], quant->shift[oc], sh.zp)) {
            effc_dw_requant_rs(acc, &sh,
                               effc_requant_rs_make(quant->multiplier[oc], quant->shift[oc],
                                                    sh.zp),
                               dst + oc);
        } else {
            effc_dw_requant(acc, &sh, effc_requant_make(quant->multiplier[oc], quant->shift[oc]),
                            dst + oc);
        }
    }
}

/* Zero the four planes once: fills write only the input's columns, so the
 * padding columns stay zero for every channel and every in-place chunk. */
static void effc_dw_prepare(const effc_dw_conv_params *p, const effc_dims *f,
                            const effc_dims *out, int16_t *plane)
{
    const effc_dw_geo g = effc_dw_geometry(p, f, out);
    size_t i;
    for (i = 0; i < 4 * g.words; i++) {
        plane[i] = 0;
    }
}

static void effc_dw_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                         const effc_dims *in, const int8_t *input, const effc_dims *f,
                         const int8_t *filter, const int32_t *bias, const effc_dims *out,
                         int8_t *output, int16_t *plane)
{
    const effc_dw_geo g = effc_dw_geometry(p, f, out);
    int32_t *acc = (int32_t *)(void *)(plane + 4 * g.words);
    const size_t row_bytes = (size_t)out->w * (size_t)out->c;
    int32_t b, oy0, ic, j;
    for (b = 0; b < in->n; b++) {
        const int8_t *in_b = input + (size_t)b * (size_t)in->h * (size_t)in->w * (size_t)in->c;
        for (oy0 = 0; oy0 < out->h; oy0 += g.rows) {
            const int32_t rows = EFFC_MIN(g.rows, out->h - oy0);
            const effc_dw_band band = effc_dw_band_at(p, in, &g, oy0);
            int8_t *dst = output + ((size_t)b * (size_t)out->h + (size_t)oy0) * row_bytes;
            for (ic = 0; ic + 4 <= in->c; ic += 4) {
                effc_dw_fill4(p, in, in_b, ic, plane, &g, &band);
                for (j = 0; j < 4; j++) {
                    effc_dw_channel(p, quant, f, filter, bias, out, dst,
                                    plane + (size_t)j * g.words, &g, rows, ic + j, acc);
                }
            }
            for (; ic < in->c; ic++) {
                effc_dw_fill(p, in, in_b, ic, plane, &g, &band);
                effc_dw_channel(p, quant, f, filter, bias, out, dst, plane, &g, rows, ic, acc);
            }
        }
    }
}

#endif

/* k channels of every pixel (stride `stride` bytes) <-> a dense [pixels][k] chunk.
 * Four channels move as one 32-bit word (unaligned access is fine on the
 * targets, and memcpy of 4 bytes compiles to one load or store). */
static void effc_dw_gather(int8_t *chunk, const int8_t *src, size_t pixels, size_t stride,
                           int32_t k)
{
    size_t i;
    int32_t j;
    if (k == 4) {
        for (i = 0; i < pixels; i++) {
            __builtin_memcpy(chunk + 4u * i, src + i * stride, 4u);
        }
        return;
    }
    for (i = 0; i < pixels; i++) {
        for (j = 0; j < k; j++) {
            chunk[i * (size_t)k + (size_t)j] = src[i * stride + (size_t)j];
        }
    }
}

static void effc_dw_scatter(int8_t *dst, const int8_t *chunk, size_t pixels, size_t stride,
                            int32_t k)
{
    size_t i;
    int32_t j;
    if (k == 4) {
        for (i = 0; i < pixels; i++) {
            __builtin_memcpy(dst + i * stride, chunk + 4u * i, 4u);
        }
        return;
    }
    for (i = 0; i < pixels; i++) {
        for (j = 0; j < k; j++) {
            dst[i * stride + (size_t)j] = chunk[i * (size_t)k + (size_t)j];
        }
    }
}

/* output == input: EFFC_DW_IN_PLACE_CHANNELS channels at a time are copied
 * out of the tensor, convolved by the ordinary body into a second chunk, and
 * written back over the channels they came from (channel c only reads c). */
static int effc_dw_in_place(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                            const effc_dims *in, const effc_dims *f, const int8_t *filter,
                            const int32_t *bias, const effc_dims *out, int8_t *data,
                            void *buf)
{
    const size_t pixels = (size_t)in->n * (size_t)in->h * (size_t)in->w;
    const size_t taps = (size_t)f->h * (size_t)f->w;
    int8_t *chunk_in = (int8_t *)buf + effc_dw_body_scratch(p, f, out);
    int8_t *chunk_out = chunk_in + effc_dw_chunk_bytes(out);
    int32_t c0;
    if (!effc_dw_conv_s8_can_run_in_place(p, in, out)) {
        return EFFC_ERR_ARG;
    }
    effc_dw_prepare(p, f, out, (int16_t *)buf);
#if defined(EFFC_USE_DSP)
    if (effc_dw_geometry(p, f, out).rows >= out->h) {
        /* One band: the DSP body copies each group of channels of the whole
         * image into its planes before it writes those channels' outputs,
         * and channel c only reads c, so it can write over its input. */
        effc_dw_body(p, quant, in, data, f, filter, bias, out, data, (int16_t *)buf);
        return EFFC_OK;
    }
#endif
    for (c0 = 0; c0 < in->c; c0 += EFFC_DW_IN_PLACE_CHANNELS) {
        const int32_t k = EFFC_MIN(EFFC_DW_IN_PLACE_CHANNELS, in->c - c0);
        const effc_dims in_k = {in->n, in->h, in->w, k};
        const effc_dims out_k = {out->n, out->h, out->w, k};
        const effc_dims f_k = {k, f->h, f->w, 1};
        effc_per_channel_quant quant_k;
        quant_k.multiplier = quant->multiplier + c0;
        quant_k.shift = quant->shift + c0;
        effc_dw_gather(chunk_in, data + c0, pixels, (size_t)in->c, k);
        effc_dw_body(p, &quant_k, &in_k, chunk_in, &f_k, filter + (size_t)c0 * taps,
                     bias != NULL ? bias + c0 : NULL, &out_k, chunk_out, (int16_t *)buf);
        effc_dw_scatter(data + c0, chunk_out, pixels, (size_t)in->c, k);
    }
    return EFFC_OK;
}

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
    if ((const void *)output == (const void *)input) {
        return effc_dw_in_place(params, quant, input_dims, filter_dims, filter, bias,
                                output_dims, output, buf);
    }
    effc_dw_prepare(params, filter_dims, output_dims, (int16_t *)buf);
    effc_dw_body(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                 output, (int16_t *)buf);
    return EFFC_OK;
}
