/*
 * effc_mm_s8.c - the int8 matrix kernel under conv (all paths) and dense.
 *
 * effc_mm_cols_s8() takes one or two "columns" (an input pixel, an im2col
 * patch or a dense input row, k int8 values each) and produces every output
 * channel for them. Two bodies share the signature:
 *
 *  - portable: plain C, one output channel and both columns per loop;
 *  - Cortex-M DSP: the columns are first widened once into scratch as int16
 *    with the zero point subtracted, in SXTB16 order (per group of 4 values:
 *    (x0,x2) then (x1,x3)); each group of 4 weight bytes is widened with
 *    SXTB16 / SXTB16 ror 8, which yields the same pairing, so the weights need
 *    no reordering. effc_mm_cols4_s8 computes 1 channel x 4 columns (one
 *    widened weight word feeds 8 SMLAD); effc_mm_cols_s8 2 channels x 2
 *    columns (8 SMLAD for 16 MACs), or 4 channels x 1 column for a single
 *    column; for k a multiple of 4 the whole channel loop with its
 *    requantization runs in assembly (effc_mm_s8_asm.c). The decoded
 *    requantization of every channel is prepared once per layer call
 *    (effc_mm_init), as effc_requant_rs records when they apply.
 *
 * Integer sums are exact, so both bodies give identical results.
 */
#include "effc_internal.h"

void *effc_mm_init(effc_mm *mm, void *scratch)
{
    effc_requant *ch = (effc_requant *)scratch;
    int32_t c;
    mm->channels_rs = NULL;
#if defined(EFFC_USE_DSP)
    {
        /* effc_requant_rs records if every channel allows them (else the
         * loop below overwrites the ones made) */
        effc_requant_rs *rs = (effc_requant_rs *)scratch;
        const int32_t zp = mm->output_zero_point;
        for (c = 0; c < mm->n_out && mm->columns >= 2; c++) {
            const int32_t i = c * mm->quant_stride;
            if (!effc_requant_rs_ok(mm->multiplier[i], mm->shift[i], zp)) {
                break;
            }
            rs[c] = effc_requant_rs_make(mm->multiplier[i], mm->shift[i], zp);
        }
        if (c == mm->n_out && mm->columns >= 2) {
            mm->channels = NULL;
            mm->channels_rs = rs;
            return rs + mm->n_out;
        }
    }
#endif
    for (c = 0; c < mm->n_out; c++) {
        const int32_t i = c * mm->quant_stride;
        ch[c] = effc_requant_make(mm->multiplier[i], mm->shift[i]);
    }
    mm->channels = ch;
    return ch + mm->n_out;
}

/* Output stage: MultiplyByQuantizedMultiplier, clamp, + zero point. */
static inline int8_t effc_mm_out(const effc_mm *mm, int32_t acc, int32_t c)
{
    return effc_requant_to_s8(acc, mm->channels[c], mm->output_zero_point, mm->activation_min,
                              mm->activation_max);
}

#if !defined(EFFC_USE_DSP)

/* ----------------------------------------------------------- portable body */

void effc_mm_cols_s8(const effc_mm *mm, const int8_t *col0, const int8_t *col1, int8_t *out0,
                     int8_t *out1, void *scratch)
{
    const int32_t k = mm->k;
    const int32_t zp = mm->input_zero_point;
    int32_t c;
    (void)scratch;
    for (c = 0; c < mm->n_out; c++) {
        const int8_t *w = mm->weights + (size_t)c * (size_t)k;
        int32_t acc0 = mm->bias != NULL ? mm->bias[c] : 0;
        int32_t acc1 = acc0;
        int32_t i;
        if (col1 != NULL) {
            for (i = 0; i < k; i++) {
                acc0 = effc_wrap_add(acc0, (col0[i] - zp) * w[i]);
                acc1 = effc_wrap_add(acc1, (col1[i] - zp) * w[i]);
            }
            out1[c] = effc_mm_out(mm, acc1, c);
        } else {
            for (i = 0; i < k; i++) {
                acc0 = effc_wrap_add(acc0, (col0[i] - zp) * w[i]);
            }
        }
        out0[c] = effc_mm_out(mm, acc0, c);
    }
}

int effc_mm_cols4_reads_first(const effc_mm *mm)
{
    (void)mm;
    return 0;
}

void effc_mm_cols4_s8(const effc_mm *mm, const int8_t *const col[4], int8_t *const out[4],
                      void *scratch)
{
    effc_mm_cols_s8(mm, col[0], col[1], out[0], out[1], scratch);
    effc_mm_cols_s8(mm, col[2], col[3], out[2], out[3], scratch);
}

#else

/* ---------------------------------------------------------------- DSP body */

/* Widen two columns: per group of 4, words (a0,a2) (a1,a3) (b0,b2) (b1,b3);
 * then the k % 4 tail values of column 0, then those of column 1. */
static void effc_widen2(const int8_t *a, const int8_t *b, int32_t k, int32_t zp, int32_t *dst)
{
    const int32_t off = (int32_t)(((uint32_t)(uint16_t)(-zp)) * 0x10001u);
    const int32_t groups = k >> 2;
    const int32_t tail = k & 3;
    int16_t *t;
    int32_t g;
    for (g = 0; g < groups; g++) {
        const uint32_t va = effc_read_u32(a);
        const uint32_t vb = effc_read_u32(b);
        a += 4;
        b += 4;
        dst[0] = __sxtab16(off, va);
        dst[1] = effc_sxtab16_ror8(off, va);
        dst[2] = __sxtab16(off, vb);
        dst[3] = effc_sxtab16_ror8(off, vb);
        dst += 4;
    }
    t = (int16_t *)dst;
    for (g = 0; g < tail; g++) {
        t[g] = (int16_t)(a[g] - zp);
        t[tail + g] = (int16_t)(b[g] - zp);
    }
}

/* 2 channels x 2 columns. acc[0..3] = (col0,ch0) (col1,ch0) (col0,ch1) (col1,ch1). */
static void effc_dot_2x2(const int32_t *q, int32_t k, const int8_t *w0, const int8_t *w1,
                         int32_t *acc)
{
    const int32_t groups = k >> 2;
    const int32_t tail = k & 3;
    const int16_t *t = (const int16_t *)(q + 4 * groups);
    int32_t i;
    if (groups > 0) {
        effc_dot_2x2_groups(q, groups, w0, k, acc);
    }
    w0 += 4 * groups;
    w1 += 4 * groups;
    for (i = 0; i < tail; i++) {
        acc[0] = effc_wrap_add(acc[0], t[i] * w0[i]);
        acc[1] = effc_wrap_add(acc[1], t[tail + i] * w0[i]);
        acc[2] = effc_wrap_add(acc[2], t[i] * w1[i]);
        acc[3] = effc_wrap_add(acc[3], t[tail + i] * w1[i]);
    }
}

/* 1 channel x 2 columns. acc[0..1] = col0, col1. */
static void effc_dot_1x2(const int32_t *q, int32_t k, const int8_t *w0, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1];
    const int32_t groups = k >> 2;
    const int32_t tail = k & 3;
    const int16_t *t;
    int32_t i;
    for (i = 0; i < groups; i++) {
        const uint32_t wv = effc_read_u32(w0);
        const int32_t we = __sxtb16(wv), wo = effc_sxtb16_ror8(wv);
        w0 += 4;
        a0 = __smlad(q[0], we, a0);
        a0 = __smlad(q[1], wo, a0);
        a1 = __smlad(q[2], we, a1);
        a1 = __smlad(q[3], wo, a1);
        q += 4;
    }
    t = (const int16_t *)q;
    for (i = 0; i < tail; i++) {
        a0 = effc_wrap_add(a0, t[i] * w0[i]);
        a1 = effc_wrap_add(a1, t[tail + i] * w0[i]);
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* 4 channels (rows w, w+k, w+2k, w+3k) x 1 column. */
static inline __attribute__((always_inline)) void effc_dot_4x1(const int32_t *q, int32_t k, const int8_t *w, int32_t *acc)
{
    const int32_t groups = k >> 2;
    const int16_t *t = (const int16_t *)(q + 2 * groups);
    int32_t i, j;
    if (groups > 0) {
        effc_dot_4x1_groups(q, groups, w, k, acc);
    }
    w += 4 * groups;
    for (j = 0; j < 4; j++) {
        for (i = 0; i < (k & 3); i++) {
            acc[j] = effc_wrap_add(acc[j], t[i] * w[j * k + i]);
        }
    }
}

/* Loop invariants of the output stage, copied out of the effc_mm (int8
 * stores may alias it, which would force reloads). */
typedef struct {
    const int32_t *bias;
    const effc_requant *channels;
    const effc_requant_rs *channels_rs;
    int32_t zero_point, lo, hi;
} effc_mm_out_stage;

static inline effc_mm_out_stage effc_mm_stage(const effc_mm *mm)
{
    effc_mm_out_stage o;
    o.bias = mm->bias;
    o.channels = mm->channels;
    o.channels_rs = mm->channels_rs;
    o.zero_point = mm->output_zero_point;
    o.lo = mm->activation_min - mm->output_zero_point;
    o.hi = mm->activation_max - mm->output_zero_point;
    return o;
}

/* rs: a constant at every call site (the callers are instantiated per
 * record kind), so each instance holds one requantization. */
static inline __attribute__((always_inline)) int8_t
effc_stage_out(const effc_mm_out_stage *o, int32_t acc, int32_t c, const int rs)
{
    if (rs) { /* zero point folded into the record */
        return (int8_t)effc_clamp_i32(effc_requant_rs_apply(acc, &o->channels_rs[c]),
                                      o->lo + o->zero_point, o->hi + o->zero_point);
    }
    return (int8_t)(effc_clamp_i32(effc_requant_apply(acc, o->channels[c]), o->lo, o->hi) +
                    o->zero_point);
}

/* Channel pairs in assembly (k a multiple of 4); returns the pairs done. */
static int32_t effc_mm_two_cols_asm(const effc_mm *mm, const int32_t *q, int8_t *out0,
                                    int8_t *out1)
{
    effc_mm_job job;
    if ((mm->k & 3) != 0 || mm->n_out < 2) {
        return 0;
    }
    job.q = q;
    job.groups = mm->k >> 2;
    job.w = mm->weights;
    job.k = mm->k;
    job.bias = mm->bias;
    job.channel = mm->channels;
    job.out0 = out0;
    job.out1 = out1;
    job.pairs = mm->n_out >> 1;
    job.zero_point = mm->output_zero_point;
    job.act_min = mm->activation_min;
    job.act_max = mm->activation_max;
    job.clamp = mm->activation_min > -128 || mm->activation_max < 127;
    if (mm->channels_rs != NULL) {
        job.channel = mm->channels_rs;
        effc_mm_2x2_run_rs(&job);
    } else {
        effc_mm_2x2_run(&job);
    }
    return job.pairs == 0 ? mm->n_out >> 1 : 0;
}

static inline __attribute__((always_inline)) void
effc_mm_two_cols_impl(const effc_mm *mm, const int32_t *q, int8_t *out0, int8_t *out1,
                      const int rs)
{
    const int32_t k = mm->k;
    const int32_t n = mm->n_out;
    const effc_mm_out_stage o = effc_mm_stage(mm);
    int32_t c = 2 * effc_mm_two_cols_asm(mm, q, out0, out1);
    const int8_t *w = mm->weights + (size_t)c * (size_t)k;
    int32_t acc[4];
    for (; c + 2 <= n; c += 2) {
        const int32_t b0 = o.bias != NULL ? o.bias[c] : 0;
        const int32_t b1 = o.bias != NULL ? o.bias[c + 1] : 0;
        acc[0] = b0;
        acc[1] = b0;
        acc[2] = b1;
        acc[3] = b1;
        effc_dot_2x2(q, k, w, w + k, acc);
        w += 2 * k;
        out0[c] = effc_stage_out(&o, acc[0], c, rs);
        out1[c] = effc_stage_out(&o, acc[1], c, rs);
        out0[c + 1] = effc_stage_out(&o, acc[2], c + 1, rs);
        out1[c + 1] = effc_stage_out(&o, acc[3], c + 1, rs);
    }
    if (c < n) {
        acc[0] = o.bias != NULL ? o.bias[c] : 0;
        acc[1] = acc[0];
        effc_dot_1x2(q, k, w, acc);
        out0[c] = effc_stage_out(&o, acc[0], c, rs);
        out1[c] = effc_stage_out(&o, acc[1], c, rs);
    }
}

static inline __attribute__((always_inline)) void
effc_mm_one_col_impl(const effc_mm *mm, const int32_t *q, int8_t *out0, const int rs)
{
    const int32_t k = mm->k;
    const int32_t n = mm->n_out;
    const int8_t *w = mm->weights;
    const effc_mm_out_stage o = effc_mm_stage(mm);
    int32_t c = 0;
    int32_t acc[4];
    int32_t j;
    for (; c + 4 <= n; c += 4) {
        for (j = 0; j < 4; j++) {
            acc[j] = o.bias != NULL ? o.bias[c + j] : 0;
        }
        effc_dot_4x1(q, k, w, acc);
        w += 4 * k;
        for (j = 0; j < 4; j++) {
            out0[c + j] = effc_stage_out(&o, acc[j], c + j, rs);
        }
    }
    for (; c < n; c++) {
        const int32_t a = effc_dot_1x1(q, k, w, o.bias != NULL ? o.bias[c] : 0);
        w += k;
        out0[c] = effc_stage_out(&o, a, c, rs);
    }
}

static void effc_mm_two_cols(const effc_mm *mm, const int32_t *q, int8_t *out0, int8_t *out1)
{
    if (mm->channels_rs != NULL) {
        effc_mm_two_cols_impl(mm, q, out0, out1, 1);
    } else {
        effc_mm_two_cols_impl(mm, q, out0, out1, 0);
    }
}

static void effc_mm_one_col(const effc_mm *mm, const int32_t *q, int8_t *out0)
{
    if (mm->channels_rs != NULL) {
        effc_mm_one_col_impl(mm, q, out0, 1);
    } else {
        effc_mm_one_col_impl(mm, q, out0, 0);
    }
}

void effc_mm_cols_s8(const effc_mm *mm, const int8_t *col0, const int8_t *col1, int8_t *out0,
                     int8_t *out1, void *scratch)
{
    int32_t *q = (int32_t *)scratch;
    if (col1 != NULL) {
        effc_widen2(col0, col1, mm->k, mm->input_zero_point, q);
        effc_mm_two_cols(mm, q, out0, out1);
    } else {
        effc_widen1(col0, mm->k, mm->input_zero_point, q);
        effc_mm_one_col(mm, q, out0);
    }
}


/* Four columns (k a multiple of 4): per group of 4, the words (a0,a2)
 * (a1,a3) (b0,b2) (b1,b3) (c0,c2) (c1,c3) (d0,d2) (d1,d3). */
static void effc_widen4(const int8_t *const col[4], int32_t k, int32_t zp, int32_t *dst)
{
    const int32_t off = (int32_t)(((uint32_t)(uint16_t)(-zp)) * 0x10001u);
    const int8_t *a = col[0], *b = col[1], *c = col[2], *d = col[3];
    int32_t g;
    for (g = k >> 2; g > 0; g--) {
        const uint32_t va = effc_read_u32(a);
        const uint32_t vb = effc_read_u32(b);
        const uint32_t vc = effc_read_u32(c);
        const uint32_t vd = effc_read_u32(d);
        a += 4;
        b += 4;
        c += 4;
        d += 4;
        dst[0] = __sxtab16(off, va);
        dst[1] = effc_sxtab16_ror8(off, va);
        dst[2] = __sxtab16(off, vb);
        dst[3] = effc_sxtab16_ror8(off, vb);
        dst[4] = __sxtab16(off, vc);
        dst[5] = effc_sxtab16_ror8(off, vc);
        dst[6] = __sxtab16(off, vd);
        dst[7] = effc_sxtab16_ror8(off, vd);
        dst += 8;
    }
}

int effc_mm_cols4_reads_first(const effc_mm *mm)
{
    return (mm->k & 3) == 0 && mm->channels_rs != NULL;
}

void effc_mm_cols4_s8(const effc_mm *mm, const int8_t *const col[4], int8_t *const out[4],
                      void *scratch)
{
    effc_mm_job4 job;
    int32_t j;
    if (!effc_mm_cols4_reads_first(mm)) {
        effc_mm_cols_s8(mm, col[0], col[1], out[0], out[1], scratch);
        effc_mm_cols_s8(mm, col[2], col[3], out[2], out[3], scratch);
        return;
    }
    effc_widen4(col, mm->k, mm->input_zero_point, (int32_t *)scratch);
    job.q = (const int32_t *)scratch;
    job.groups = mm->k >> 2;
    job.w = mm->weights;
    job.bias = mm->bias;
    job.channel = mm->channels_rs;
    for (j = 0; j < 4; j++) {
        job.out[j] = out[j];
    }
    job.n = mm->n_out;
    job.zero_point = mm->output_zero_point;
    job.act_min = mm->activation_min;
    job.act_max = mm->activation_max;
    job.clamp = mm->activation_min > -128 || mm->activation_max < 127;
    if (job.bias != NULL) {
        effc_mm_1x4_run_rs(&job);
    } else {
        effc_mm_1x4_run_rs_nobias(&job);
    }
}

#endif
