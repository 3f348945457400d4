/*
 * effc_mm_dsp.c - the int8 matrix kernel, Cortex-M DSP body (SXTB16 + SMLAD).
 *
 * effc_mm_run widens up to four columns once into scratch as int16
 * x - zp (EFFC_FILTER_WIDE2, whose weights are doubled) or 2 * (x - zp)
 * (int8 rows, PAIR8), in SXTB16 order: per group of 4 values the words (x0, x2) of
 * the four columns, then their (x1, x3) words, then a sentinel word
 * (EFFC_MM_SENTINEL, which no widened pair can equal). Missing columns
 * repeat the last one and write into a dummy row. The loops run in assembly
 * (effc_mm_s8_asm.c, effc_mm_column_asm.c), with the four-instruction
 * requantization of prepared records (effc_requant.h, effc_rq_fast; three
 * under the RELU switches, two for WIDE2 under EFFC_WIDE2_RQ_SHIFT):
 *  - EFFC_FILTER_WIDE2 filters: two channels x four columns, the int16
 *    weights read with LDRD: 22 instructions per 32 MACs, eight groups of 4
 *    values per loop test (one or two columns: two channels x one column);
 *    built with EFFC_WIDE2_PACKED the same loops read EFFC_FILTER_PAIR8's
 *    int8 pair words instead (one LDR and two SXTB16 for the pair's two
 *    weight words: 26 instructions per 32 MACs, 28 in the one-pass stack
 *    loop, where the loads pipeline: 34 cycles, as WIDE2's), from columns
 *    widened 2 * (x - zp);
 *  - int8 rows (k a multiple of 4) with prepared records: one channel x four
 *    columns, each weight word widened with SXTB16 / SXTB16 ror 8 for the four
 *    columns: 13 instructions per 16 MACs.
 * An odd last channel runs with the layout's zero channel into the dummy row.
 * Channels whose record asks for the general form and everything without
 * records are computed in C from the same
 * widened columns (halved back where doubled: exact), with TFLite's general
 * requantization.
 * effc_mm_row (dense, one row, no scratch) widens the row on the fly: four
 * channels of EFFC_FILTER_WIDE4 weights in assembly, four channels of int8
 * rows in C (each row word widened once for the four).
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)

#include "effc_mm_asm.h"

static int32_t effc_mm_offset(int32_t zp)
{
    return (int32_t)(((uint32_t)(uint16_t)(-zp)) * 0x10001u);
}

/* The whole groups of columns 0..n-1 alone (x - zp): one or two columns of
 * a WIDE2 layer, whose one-column loops read no other (8 instructions a group
 * and column instead of effc_mm_widen_groups_x1's 17 for all four; a speed
 * extra the flash-budget builds leave out with the two-pair loop,
 * EFFC_OMIT_PAIRS2). */
static void effc_mm_widen_few(const int8_t *const col[4], int32_t n, int32_t full, int32_t off,
                              int32_t *dst)
{
    int32_t g, j;
    for (j = 0; j < n; j++) {
        const int8_t *x = col[j];
        int32_t *d = dst + j;
        for (g = 0; g < full; g++, x += 4, d += 8) {
            const uint32_t v = effc_read_u32(x);
            d[0] = __sxtab16(off, v);
            d[4] = effc_sxtab16_ror8(off, v);
        }
    }
}

/* n (1..4) columns into the widened layout of four (groups words of 8),
 * scale * (x - zp) (scale 1 or 2), then the sentinel: with scale 1 and n <= 2
 * the whole groups of the missing columns are left as they were. */
static void effc_mm_widen(const int8_t *const col[4], int32_t n, int32_t k, int32_t zp,
                          int32_t groups, int32_t scale, int32_t *dst)
{
    const int32_t full = k >> 2;
    int32_t g, j;
    if (!EFFC_OMIT_PAIRS2 && full > 0 && scale == 1 && n <= 2) {
        effc_mm_widen_few(col, n, full, effc_mm_offset(zp), dst);
        dst += 8 * full;
    } else if (full > 0) { /* the whole groups in assembly */
        (scale == 2 ? effc_mm_widen_groups : effc_mm_widen_groups_x1)(col, full,
                                                                       effc_mm_offset(zp), dst);
        dst += 8 * full;
    }
    for (g = full; g < groups; g++) {
        for (j = 0; j < 4; j++) {
            int32_t t[4], i;
            for (i = 0; i < 4; i++) {
                t[i] = 4 * g + i < k ? scale * (col[j][4 * g + i] - zp) : 0;
            }
            dst[j] = (int32_t)(((uint32_t)(uint16_t)t[0]) | ((uint32_t)(uint16_t)t[2] << 16));
            dst[4 + j] =
                (int32_t)(((uint32_t)(uint16_t)t[1]) | ((uint32_t)(uint16_t)t[3] << 16));
        }
        dst += 8;
    }
    *dst = (int32_t)EFFC_MM_SENTINEL;
}

/* x - zp of column j, value i, from the columns widened with `scale`. */
static inline int32_t effc_mm_widened(const int32_t *q, int32_t j, int32_t i, int32_t scale)
{
    const uint32_t word = (uint32_t)q[(size_t)(i >> 2) * 8u + (size_t)((i & 1) * 4 + j)];
    return (int16_t)((i & 2) != 0 ? word >> 16 : word & 0xFFFFu) / scale;
}

/* The widened columns' scale: the WIDE2 loops' doubled weights take x - zp
 * (without them linked, EFFC_OMIT_WIDE2, or when they read PAIR8's undoubled
 * ones, EFFC_WIDE2_PACKED, 2 * (x - zp) like everything else). */
static inline int32_t effc_mm_scale(const effc_mm *mm)
{
    return !EFFC_OMIT_WIDE2 && !EFFC_WIDE2_PACKED && mm->layout == EFFC_FILTER_WIDE2 ? 1 : 2;
}

/* Channel c of n columns in C (general requantization). */
static void effc_mm_channel_c(const effc_mm *mm, int32_t c, const int32_t *q, int32_t n,
                              int8_t *const out[])
{
    const effc_mm_channel ch = effc_mm_channel_at(mm, c);
    int32_t i, j;
    for (j = 0; j < n; j++) {
        int32_t acc = ch.bias;
        for (i = 0; i < mm->k; i++) {
            acc = effc_wrap_add(acc, effc_mm_widened(q, j, i, effc_mm_scale(mm)) *
                                         effc_mm_weight(mm, c, i));
        }
        out[j][c] = effc_requant_to_s8(acc, ch.rq, mm->output_zero_point, mm->activation_min,
                                       mm->activation_max);
    }
}

/* The job's fields but the outputs (effc_mm_run sets them). */
static void effc_mm_job_init(effc_mm_job *job, const effc_mm *mm, const int32_t *q)
{
    job->q = q;
    job->w = mm->weights;
    job->channel = mm->channels;
    job->k2 = 2 * mm->output_zero_point + 1;
    /* int8 rows: k / 4; EFFC_FILTER_WIDE2 and PAIR8: the widened groups, even */
    job->groups = !EFFC_OMIT_WIDE2 && effc_is_pair_layout(mm->layout) ? effc_mm_groups(mm->k)
                                                                       : mm->k >> 2;
    job->act_min = mm->activation_min;
    job->act_max = mm->activation_max;
    if (EFFC_MM_2X4_QUADS) {
        job->quads = 0; /* q widened already (effc_mm_run_quads sets its quads) */
    }
}

static int effc_mm_clamps(const effc_mm *mm)
{
    return mm->activation_min > -128 || mm->activation_max < 127;
}

/* This layer's assembly variant is linked: EFFC_OMIT_CLAMP leaves the clamping ones out. */
static int effc_mm_variant_linked(const effc_mm *mm)
{
    return !EFFC_OMIT_CLAMP || !effc_mm_clamps(mm);
}

/* An EFFC_FILTER_WIDE2 kernel (2x4 or 2x1) over the channel pairs from pair
 * `from` on into the job's cols outputs, then an odd last channel with the
 * layout's zero channel into the dummy row, copied to where the outputs got
 * to (two bytes a pair on: the 2x4 loop leaves job->out as it was). */
static void effc_mm_wide2(const effc_mm *mm, effc_mm_job *job, void (*pairs)(effc_mm_job *),
                          int32_t cols, int8_t *dummy, int32_t from)
{
    const int32_t block = effc_wide_geometry(mm->layout, mm->k).block_words;
    const int32_t half = mm->n_out >> 1;
    const int32_t *w = (const int32_t *)mm->weights + (size_t)half * (size_t)block;
    const int odd = (mm->n_out & 1) != 0;
    int8_t *at[4];
    int32_t j;
    for (j = 0; odd && j < cols; j++) {
        at[j] = job->out[j] + 2 * (half - from);
    }
    if (half > from) {
        job->w = (const int32_t *)mm->weights + (size_t)from * (size_t)block;
        job->w_end = w;
        pairs(job);
    }
    if (odd) {
        for (j = 0; j < cols; j++) {
            job->out[j] = dummy + 2 * j;
        }
        job->w = w;
        job->w_end = w + block;
        pairs(job);
        for (j = 0; j < cols; j++) {
            *at[j] = dummy[2 * j];
        }
    }
}

/* One column's channel pairs two at a time (effc_mm_4x1_pairs; job->q and
 * job->out[0] set) up to an even count: the pairs done (the rest, and an
 * odd channel, take effc_mm_wide2). */
static int32_t effc_mm_pairs2(const effc_mm *mm, effc_mm_job *job, int clamp)
{
    const int32_t twos = mm->n_out >> 2;
    if (EFFC_OMIT_PAIRS2 || twos == 0) {
        return 0;
    }
    job->w = mm->weights;
    job->w_end = (const int32_t *)mm->weights +
                 (size_t)(2 * twos) *
                     (size_t)effc_wide_geometry(mm->layout, mm->k).block_words;
    (clamp ? effc_mm_4x1_pairs_clamp : effc_mm_4x1_pairs)(job);
    return 2 * twos;
}

/* The two-channel loop can store these n columns' outputs: its form for `groups` groups
 * takes any (effc_mm_2x4_step 0), or four columns its step apart with no odd last channel
 * (whose outputs go to the dummy row, effc_mm_wide2). Else the one-column loops run them. */
static int effc_mm_2x4_stores(const effc_mm *mm, int32_t groups, int32_t n,
                              int8_t *const out[])
{
    const uintptr_t step = (uintptr_t)effc_mm_2x4_step(groups), at = (uintptr_t)out[0];
    return step == 0 || (n == 4 && (mm->n_out & 1) == 0 && (uintptr_t)out[1] - at == step &&
                         (uintptr_t)out[2] - at == 2u * step &&
                         (uintptr_t)out[3] - at == 3u * step);
}

void effc_mm_run(const effc_mm *mm, int32_t n, const int8_t *const col[], int8_t *const out[],
                 void *scratch)
{
    const int32_t groups = effc_mm_groups(mm->k);
    int32_t *q = (int32_t *)scratch;
    int8_t *dummy = (int8_t *)scratch + (size_t)EFFC_MM_COLS * 8u * (size_t)groups + 4u;
    const int32_t last = n - 1;
    const int8_t *c4[4];
    effc_mm_job job;
    int32_t c = 0, j;
    c4[0] = col[0]; /* missing columns repeat the last one, into the dummy row */
    c4[1] = col[EFFC_MIN(1, last)];
    c4[2] = col[EFFC_MIN(2, last)];
    c4[3] = col[EFFC_MIN(3, last)];
    job.out[0] = out[0];
    job.out[1] = last >= 1 ? out[1] : dummy;
    job.out[2] = last >= 2 ? out[2] : dummy;
    job.out[3] = last >= 3 ? out[3] : dummy;
    effc_mm_widen(c4, n, mm->k, mm->input_zero_point, groups, effc_mm_scale(mm), q);
    effc_mm_job_init(&job, mm, q);
    if (!EFFC_OMIT_WIDE2 && mm->layout == EFFC_WIDE2_LOOPS_LAYOUT &&
        EFFC_LIKELY(effc_mm_variant_linked(mm)) && (n <= 2 || effc_mm_2x4_fits(groups))) {
        const int clamp = effc_mm_clamps(mm); /* false when EFFC_OMIT_CLAMP links none */
        void (*one)(effc_mm_job *) = clamp ? effc_mm_2x1_wide_clamp : effc_mm_2x1_wide;
        if (n > 2 && effc_mm_2x4_stores(mm, groups, n, out)) {
            effc_mm_wide2(mm, &job, clamp ? effc_mm_2x4_wide_clamp : effc_mm_2x4_wide, 4,
                          dummy, 0);
        } else {
            for (j = 0; j < n; j++) { /* one column at a time */
                job.q = q + j;
                job.out[0] = out[j];
                effc_mm_wide2(mm, &job, one, 1, dummy, effc_mm_pairs2(mm, &job, clamp));
            }
        }
        c = mm->n_out;
    } else if (mm->layout == EFFC_FILTER_S8 && mm->channels != NULL && (mm->k & 3) == 0 &&
               EFFC_LIKELY(effc_mm_variant_linked(mm))) {
        job.n = mm->n_out;
        (effc_mm_clamps(mm) ? effc_mm_1x4_s8_clamp : effc_mm_1x4_s8)(&job);
        c = mm->n_out;
    }
    for (; c < mm->n_out; c++) {
        effc_mm_channel_c(mm, c, q, n, out);
    }
    if (mm->general > 0 && (mm->layout != EFFC_FILTER_S8 || mm->channels != NULL)) {
        for (c = 0; c < mm->n_out; c++) {
            if (effc_mm_channel_is_general(mm, c)) {
                effc_mm_channel_c(mm, c, q, n, out);
            }
        }
    }
}

/* The quads' columns widened and run by the two-channel loop itself
 * (EFFC_MM_2X4_QUADS), or one quad at a time. */
static void effc_mm_quads(effc_mm_job *job, void (*pairs)(effc_mm_job *), int32_t off,
                          int32_t quads, const int8_t *in, size_t in_step, int8_t *out,
                          size_t out_step)
{
#if EFFC_MM_2X4_QUADS
    job->out[0] = out; /* the first quad's: the loop steps the base, keeps the offsets */
    job->out[1] = out + out_step;
    job->out[2] = out + 2 * out_step;
    job->out[3] = out + 3 * out_step;
    job->quads = quads;
    job->in = in;
    job->off = off;
    job->out_step = (int32_t)out_step;
    job->in_step = (int32_t)in_step;
    pairs(job); /* every quad: widen, then the channel pairs */
#else
    const int8_t *col[4];
    int32_t i;
    for (i = 0; i < quads; i++) {
        col[0] = in;
        col[1] = in + in_step;
        col[2] = in + 2 * in_step;
        col[3] = in + 3 * in_step;
        job->out[0] = out;
        job->out[1] = out + out_step;
        job->out[2] = out + 2 * out_step;
        job->out[3] = out + 3 * out_step;
        (EFFC_WIDE2_PACKED ? effc_mm_widen_groups : effc_mm_widen_groups_x1)(
            col, job->groups, off, (int32_t *)job->q);
        pairs(job);
        in += 4 * in_step;
        out += 4 * out_step;
    }
#endif
}

int32_t effc_mm_run_quads(const effc_mm *mm, int32_t quads, const int8_t *in, size_t in_step,
                          int8_t *out, size_t out_step, void *scratch)
{
    const int32_t groups = effc_mm_groups(mm->k);
    int32_t *q = (int32_t *)scratch;
    void (*pairs)(effc_mm_job *);
    effc_mm_job job;
    if (EFFC_OMIT_WIDE2 || mm->layout != EFFC_WIDE2_LOOPS_LAYOUT ||
        !effc_mm_variant_linked(mm) ||
        (mm->k & 7) != 0 || (mm->n_out & 1) != 0 || mm->general > 0 || quads <= 0 ||
        !effc_mm_2x4_fits(groups) ||
        (effc_mm_2x4_step(groups) != 0 && out_step != (size_t)effc_mm_2x4_step(groups))) {
        return 0; /* (a step other than the loop's: effc_mm_run's one-column loops) */
    }
    /* before the job's stores (which may alias mm): the test above then still tells
     * the compiler that a left-out clamping variant is never named */
    pairs = effc_mm_clamps(mm) ? effc_mm_2x4_wide_clamp : effc_mm_2x4_wide;
    effc_mm_job_init(&job, mm, q); /* job.w stays: the loop reads it, never advances it */
    job.w_end = (const int32_t *)mm->weights +
                (size_t)(mm->n_out >> 1) *
                    (size_t)effc_wide_geometry(mm->layout, mm->k).block_words;
    q[8 * groups] = (int32_t)EFFC_MM_SENTINEL; /* k / 4 even: every group widened */
    effc_mm_quads(&job, pairs, effc_mm_offset(mm->input_zero_point), quads, in, in_step, out,
                  out_step);
    return 4 * quads;
}

/* One row, int8 weights (or the remainder channels of a wide filter): four
 * channels share each widened activation word. */
static void effc_mm_row_c(const effc_mm *mm, const int8_t *row, int8_t *out, int32_t c0,
                          int32_t c1)
{
    int32_t c, i;
    for (c = c0; c < c1; c++) {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        int32_t acc = ch.bias;
        if (mm->layout == EFFC_FILTER_S8) {
            const int8_t *w = (const int8_t *)mm->weights + (size_t)c * (size_t)mm->k;
            const int32_t off = effc_mm_offset(mm->input_zero_point);
            for (i = 0; i + 4 <= mm->k; i += 4) {
                const uint32_t x = effc_read_u32(row + i), wv = effc_read_u32(w + i);
                acc = __smlad(__sxtab16(off, x), __sxtb16(wv), acc);
                acc = __smlad(effc_sxtab16_ror8(off, x), effc_sxtb16_ror8(wv), acc);
            }
            for (; i < mm->k; i++) {
                acc = effc_wrap_add(acc, (row[i] - mm->input_zero_point) * w[i]);
            }
#if !EFFC_SMALL_UNIT /* (-Os: one loop, effc_mm_weight one outlined copy) */
        } else if (mm->layout == EFFC_FILTER_PAIR8) { /* a loop per layout: its test folds */
            for (i = 0; i < mm->k; i++) {
                acc = effc_wrap_add(acc, (row[i] - mm->input_zero_point) *
                                             effc_mm_weight(mm, c, i));
            }
#endif
        } else {
            for (i = 0; i < mm->k; i++) {
                acc = effc_wrap_add(acc, (row[i] - mm->input_zero_point) *
                                             effc_mm_weight(mm, c, i));
            }
        }
        out[c] = effc_requant_to_s8(acc, ch.rq, mm->output_zero_point, mm->activation_min,
                                    mm->activation_max);
    }
}

/* Four channels of int8 rows at a time (k a multiple of 4): each row word is
 * widened once for the four channels. Channels [0, 4 * quads). */
static void effc_mm_row_s8_quads(const effc_mm *mm, const int8_t *row, int8_t *out,
                                 int32_t quads)
{
    const int32_t k = mm->k;
    effc_mm_row4_job job;
    int32_t q, j;
    job.k = k;
    job.off = effc_mm_offset(mm->input_zero_point);
    for (q = 0; q < quads; q++) {
        const int8_t *w = (const int8_t *)mm->weights + (size_t)(4 * q) * (size_t)k;
        effc_mm_channel ch[4];
        int32_t a0, a1, a2, a3;
        for (j = 0; j < 4; j++) {
            ch[j] = effc_mm_channel_at(mm, 4 * q + j);
        }
        job.x = row;
        job.w = w;
        job.acc[0] = ch[0].bias;
        job.acc[1] = ch[1].bias;
        job.acc[2] = ch[2].bias;
        job.acc[3] = ch[3].bias;
        effc_mm_4x1_s8(&job);
        a0 = job.acc[0];
        a1 = job.acc[1];
        a2 = job.acc[2];
        a3 = job.acc[3];
        out[4 * q] = effc_requant_to_s8(a0, ch[0].rq, mm->output_zero_point,
                                        mm->activation_min, mm->activation_max);
        out[4 * q + 1] = effc_requant_to_s8(a1, ch[1].rq, mm->output_zero_point,
                                            mm->activation_min, mm->activation_max);
        out[4 * q + 2] = effc_requant_to_s8(a2, ch[2].rq, mm->output_zero_point,
                                            mm->activation_min, mm->activation_max);
        out[4 * q + 3] = effc_requant_to_s8(a3, ch[3].rq, mm->output_zero_point,
                                            mm->activation_min, mm->activation_max);
    }
}

void effc_mm_row(const effc_mm *mm, const int8_t *row, int8_t *out)
{
    int32_t c = 0;
    if (mm->layout == EFFC_FILTER_S8 && (mm->k & 3) == 0 && mm->n_out >= 4) {
        effc_mm_row_s8_quads(mm, row, out, mm->n_out >> 2);
        effc_mm_row_c(mm, row, out, 4 * (mm->n_out >> 2), mm->n_out);
        return; /* every channel in the general form: nothing to redo */
    }
    if (!EFFC_OMIT_WIDE4 && mm->layout == EFFC_FILTER_WIDE4 && (mm->k & 3) == 0 &&
        mm->n_out >= 4 && mm->general < mm->n_out) {
        effc_mm_row_job job;
        job.x = row;
        job.w = (const int32_t *)mm->weights;
        job.out = out;
        job.quads = mm->n_out >> 2;
        job.groups = mm->k >> 2;
        job.off = effc_mm_offset(mm->input_zero_point);
        effc_mm_4x1_wide(&job);
        c = 4 * (mm->n_out >> 2);
        if (effc_mm_clamps(mm)) { /* after SSAT to int8: the same as clamping first */
            int32_t i;
            for (i = 0; i < c; i++) {
                out[i] = (int8_t)effc_clamp_i32(out[i], mm->activation_min,
                                                mm->activation_max);
            }
        }
    }
    effc_mm_row_c(mm, row, out, c, mm->n_out);
    if (c > 0 && mm->general > 0) {
        int32_t g;
        for (g = 0; g < c; g++) {
            if (effc_mm_channel_is_general(mm, g)) {
                effc_mm_row_c(mm, row, out, g, g + 1);
            }
        }
    }
}

#else

typedef int effc_mm_dsp_unused; /* ISO C wants a declaration in every file */

#endif
