/*
 * effc_internal.h - helpers shared by the runtime's .c files (not public API).
 */
#ifndef EFFC_INTERNAL_H
#define EFFC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "effc_nn.h"
#include "effc_requant.h"

/* Kernel variants a firmware may leave out when no layer of its model reaches
 * them (effc's firmware build passes -DEFFC_OMIT_<variant>=1, decided by
 * effc/codegen/c/kernel_set.py): the dispatch then takes the general C path
 * (same scratch), so the result is the same either way, and the linker's
 * --gc-sections drops the variants' code. 0 (the default) links them all. */
#ifndef EFFC_OMIT_WIDE2
#define EFFC_OMIT_WIDE2 0 /* EFFC_FILTER_WIDE2's assembly loops (effc_mm_2x4_wide*) */
#endif
#ifndef EFFC_OMIT_WIDE4
#define EFFC_OMIT_WIDE4 0 /* EFFC_FILTER_WIDE4's assembly loop (effc_mm_4x1_wide) */
#endif
#ifndef EFFC_OMIT_PAIRS2
#define EFFC_OMIT_PAIRS2 0 /* the one-column loop over two channel pairs (effc_mm_4x1_pairs*) */
#endif
#ifndef EFFC_OMIT_CLAMP
#define EFFC_OMIT_CLAMP 0 /* the assembly loops' clamping variants */
#endif
#ifndef EFFC_OMIT_CONV3X3
#define EFFC_OMIT_CONV3X3 0 /* effc_conv_3x3_s8's im2col (3x3 convolutions, not depthwise) */
#endif
#ifndef EFFC_OMIT_CONV_COLUMNS
#define EFFC_OMIT_CONV_COLUMNS 0 /* the column images of 4-byte-row convs with WIDE2 filters */
#endif
#ifndef EFFC_OMIT_DW_S2
#define EFFC_OMIT_DW_S2 0 /* the depthwise 3x3 stride-2 walk */
#endif
#ifndef EFFC_OMIT_DW_NARROW
#define EFFC_OMIT_DW_NARROW 0 /* the depthwise 3x3 stride-1 walk over 8-column planes */
#endif
#ifndef EFFC_OMIT_DW_S1
#define EFFC_OMIT_DW_S1 0 /* the depthwise 3x3 stride-1 walk over any planes */
#endif

/* A test that is true on the hot path: keeps the compiler's block order when a
 * left-out variant adds a fallback test (no effect on other compilers). */
#if defined(__GNUC__)
#define EFFC_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define EFFC_LIKELY(x) (x)
#endif

/* DSP bodies are compiled where the core has the DSP extension (Cortex-M4,
 * M7, M33 with DSP, M55) unless EFFC_NO_DSP asks for the portable ones. */
#if defined(__ARM_FEATURE_DSP) && !defined(EFFC_NO_DSP)
#define EFFC_USE_DSP 1
#include <arm_acle.h>

/* SXTB16 of the odd bytes: (sext(x.b1), sext(x.b3)). GCC 12 does not fold a
 * rotate into __sxtb16, hence the inline asm. */
static inline int32_t effc_sxtb16_ror8(uint32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* (off.h0 + sext(x.b1), off.h1 + sext(x.b3)). */
static inline int32_t effc_sxtab16_ror8(int32_t off, uint32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(off), "r"(x));
    return r;
}

/* Halfword packs, as (low half, high half): effc_pkhbt16(a, b) = (a.lo, b.lo),
 * effc_pkhtb16(a, b) = (b.hi, a.hi). */
static inline int32_t effc_pkhbt16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t effc_pkhtb16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#endif

/* Helium (MVE) bodies where the core has the M-profile vector extension
 * (Cortex-M55; -mcpu=cortex-m55 defines __ARM_FEATURE_MVE): the int8 matrix
 * kernel (effc_mm_mve.c). EFFC_NO_DSP (the portable bodies) and EFFC_NO_MVE
 * (the DSP bodies) turn them off. */
#if defined(__ARM_FEATURE_MVE) && !defined(EFFC_NO_DSP) && !defined(EFFC_NO_MVE)
#define EFFC_USE_MVE 1
#endif

#define EFFC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EFFC_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Unaligned 32-bit load / store (a single LDR / STR on Cortex-M4 and later). */
static inline uint32_t effc_read_u32(const void *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void effc_write_u32(void *p, uint32_t v)
{
    __builtin_memcpy(p, &v, sizeof v);
}

#if defined(EFFC_USE_DSP)
/* DSP dot products of the recurrent kernels (one row widened once, many weight rows). */
/* One column: per group of 4, words (a0,a2) (a1,a3); then the tail. */
static inline void effc_widen1(const int8_t *a, int32_t k, int32_t zp, int32_t *dst)
{
    const int32_t off = (int32_t)(((uint32_t)(uint16_t)(-zp)) * 0x10001u);
    const int32_t groups = k >> 2;
    int16_t *t;
    int32_t g;
    for (g = 0; g < groups; g++) {
        const uint32_t va = effc_read_u32(a);
        a += 4;
        dst[0] = __sxtab16(off, va);
        dst[1] = effc_sxtab16_ror8(off, va);
        dst += 2;
    }
    t = (int16_t *)dst;
    for (g = 0; g < (k & 3); g++) {
        t[g] = (int16_t)(a[g] - zp);
    }
}

/* 1 channel x 1 column. */
static inline int32_t effc_dot_1x1(const int32_t *q, int32_t k, const int8_t *w0, int32_t acc)
{
    const int32_t groups = k >> 2;
    const int16_t *t;
    int32_t i;
    for (i = 0; i < groups; i++) {
        const uint32_t wv = effc_read_u32(w0);
        w0 += 4;
        acc = __smlad(q[0], __sxtb16(wv), acc);
        acc = __smlad(q[1], effc_sxtb16_ror8(wv), acc);
        q += 2;
    }
    t = (const int16_t *)q;
    for (i = 0; i < (k & 3); i++) {
        acc = effc_wrap_add(acc, t[i] * w0[i]);
    }
    return acc;
}

#endif

/* Scratch check: returns the buffer if at least `need` bytes are there. */
/* n rounded up to a multiple of 4 (scratch sub-buffers stay word aligned). */
static inline size_t effc_align4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

/* One row of int8 values minus a zero point, widened to 16 bits once and then
 * multiplied by many weight rows (effc_dot_row): effc_widen1's interleaved pairs
 * for the DSP dot, plain int16 otherwise; 2 bytes per value either way, dst word
 * aligned. */
static inline size_t effc_widened_bytes(int32_t n)
{
    return effc_align4((size_t)n * 2u);
}

static inline void effc_widen_row(const int8_t *x, int32_t n, int32_t zp, int32_t *dst)
{
#if defined(EFFC_USE_DSP)
    effc_widen1(x, n, zp, dst);
#else
    int16_t *t = (int16_t *)(void *)dst;
    int32_t k;
    for (k = 0; k < n; k++) {
        t[k] = (int16_t)(x[k] - zp);
    }
#endif
}

/* sum(widened[k] * w[k]) over n values, wrapping like an int32 accumulator. */
static inline int32_t effc_dot_row(const int32_t *q, const int8_t *w, int32_t n)
{
#if defined(EFFC_USE_DSP)
    return effc_dot_1x1(q, n, w, 0);
#else
    const int16_t *t = (const int16_t *)(const void *)q;
    int32_t acc = 0, k;
    for (k = 0; k < n; k++) {
        acc = effc_wrap_add(acc, (int32_t)t[k] * (int32_t)w[k]);
    }
    return acc;
#endif
}

static inline void *effc_scratch_get(const effc_scratch *s, size_t need)
{
    if (need == 0) {
        return s != NULL ? s->buf : NULL;
    }
    if (s == NULL || s->buf == NULL || s->size < need) {
        return NULL;
    }
    return s->buf;
}

static inline int effc_dims_ok(const effc_dims *d)
{
    return d != NULL && d->n > 0 && d->h > 0 && d->w > 0 && d->c > 0;
}

/* The taps of a pooling window along one axis: `kernel` taps `dilation`
 * apart from `start` (which may lie in the leading padding). */
typedef struct {
    int32_t first;   /* position of the first tap inside [0, size) */
    int32_t valid;   /* taps inside [0, size) */
    int32_t counted; /* taps inside [-pad_begin, size + pad_end) */
} effc_pool_axis;

/* Number of k in [0, kernel) with lo <= start + k * dilation < hi; *k0 the first. */
static inline int32_t effc_taps_between(int32_t start, int32_t kernel, int32_t dilation,
                                        int32_t lo, int32_t hi, int32_t *k0)
{
    const int32_t first = lo > start ? (lo - start + dilation - 1) / dilation : 0;
    const int32_t last = hi - 1 - start < 0 ? -1
                                            : EFFC_MIN(kernel - 1, (hi - 1 - start) / dilation);
    *k0 = first;
    return last >= first ? last - first + 1 : 0;
}

static inline effc_pool_axis effc_pool_axis_taps(int32_t start, int32_t kernel,
                                                 int32_t dilation, int32_t size,
                                                 int32_t pad_begin, int32_t pad_end)
{
    effc_pool_axis a;
    int32_t k0, unused;
    a.valid = effc_taps_between(start, kernel, dilation, 0, size, &k0);
    a.first = start + k0 * dilation;
    a.counted = effc_taps_between(start, kernel, dilation, -pad_begin, size + pad_end,
                                  &unused);
    return a;
}

/* ------------------------------------------------------------------------
 * The prepared records (effc_channel_rq, encoding in effc_nn.h): the only C
 * that reads their words. Assembly uses the EFFC_RQ_* offsets below.
 * ------------------------------------------------------------------------ */

/* Record bytes, the byte offsets of its two words, and the arithmetic right
 * shift that turns a fast record's word into 2 * bias, as assembly operands. */
#define EFFC_RQ_BYTES "8"
#define EFFC_RQ_WORD "0"
#define EFFC_RQ_MULT "4"
#define EFFC_RQ_BIAS2_ASR "7"

/* Whether the channel needs the general form. */
static inline int effc_rq_is_general(const effc_channel_rq *r)
{
    return (r->word & EFFC_RQ_GENERAL) != 0;
}

/* Fast records: s - 1 of the right shift s (0..30), and 2 * bias. */
static inline int32_t effc_rq_s1(const effc_channel_rq *r)
{
    return r->word & 0xFF;
}

static inline int32_t effc_rq_bias2(const effc_channel_rq *r)
{
    return r->word >> 7; /* arithmetic (gcc, clang: two's complement) */
}

/* Any record: its bias, Q31 multiplier and TFLite shift. */
static inline int32_t effc_rq_bias(const effc_channel_rq *r)
{
    return effc_rq_is_general(r) ? r[r->word >> 8].word : r->word >> 8;
}

static inline int32_t effc_rq_multiplier(const effc_channel_rq *r)
{
    return r->multiplier;
}

static inline int32_t effc_rq_shift(const effc_channel_rq *r)
{
    return effc_rq_is_general(r) ? r[r->word >> 8].multiplier : -1 - effc_rq_s1(r);
}

/* ------------------------------------------------------------------------
 * Matrix kernel shared by conv (all paths) and dense: for up to EFFC_MM_COLS
 * input columns of k int8 values, compute all n_out outputs
 *   out[c] = requant(bias[c] + sum_k (col[k] - input_zp) * weights[c][k]).
 * ------------------------------------------------------------------------ */
typedef struct {
    const void *weights;             /* [n_out][k] int8, or a wide layout */
    int32_t layout;                  /* EFFC_FILTER_* (WIDE4: effc_mm_row only) */
    const effc_channel_rq *channels; /* prepared records (S8), or NULL */
    const int32_t *bias;             /* [n_out] or NULL (when channels is NULL) */
    const int32_t *multiplier;       /* indexed c * quant_stride (channels NULL) */
    const int32_t *shift;
    int32_t quant_stride; /* 1: per channel, 0: per tensor */
    int32_t n_out;
    int32_t k;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min;
    int32_t activation_max;
    int32_t general; /* channels needing the general form (effc_mm_general_channels) */
} effc_mm;

/* Columns per call of effc_mm_run. */
enum { EFFC_MM_COLS = 4 };

/* Groups of 4 values in the widened columns: k / 4 rounded up, then to even
 * (the wide layout's padding). */
static inline int32_t effc_mm_groups(int32_t k)
{
    const int32_t g = (k + 3) >> 2;
    return g + (g & 1);
}

/* Scratch of effc_mm_run: EFFC_MM_COLS widened columns (8 bytes per column
 * and group), a sentinel word, and one row of n_out outputs for unused
 * columns (at least 8 bytes: the last channel pair of an odd count).
 * Both bodies use this size. */
static inline size_t effc_mm_scratch_size(int32_t k, int32_t n_out)
{
    return (size_t)EFFC_MM_COLS * 8u * (size_t)effc_mm_groups(k) + 4u +
           effc_align4((size_t)EFFC_MAX(n_out, 2 * EFFC_MM_COLS));
}

/* A wide layout's geometry: channels per block, groups per channel, words
 * per block, and where the weights and the records start in a block. */
typedef struct {
    int32_t per, groups, block_words, weights_at, records_at;
} effc_wide_geo;

static inline effc_wide_geo effc_wide_geometry(int32_t layout, int32_t k)
{
    effc_wide_geo g;
    g.per = layout == EFFC_FILTER_WIDE2 ? 2 : 4;
    g.groups = layout == EFFC_FILTER_WIDE2 ? effc_mm_groups(k) : (k + 3) >> 2;
    g.weights_at = g.per;
    g.records_at = g.per + g.groups * 2 * g.per;
    g.block_words = g.records_at + 3 * g.per;
    return g;
}

/* One channel's bias and requantization, from the records, the wide
 * filter's records, or the arrays. */
typedef struct {
    int32_t bias;
    effc_requant rq;
} effc_mm_channel;

static inline effc_mm_channel effc_channel_of(const effc_channel_rq *r)
{
    effc_mm_channel ch;
    ch.bias = effc_rq_bias(r);
    ch.rq = effc_requant_make(effc_rq_multiplier(r), effc_rq_shift(r));
    return ch;
}

static inline effc_mm_channel effc_mm_channel_at(const effc_mm *mm, int32_t c)
{
    effc_mm_channel ch;
    if (mm->layout != EFFC_FILTER_S8) {
        const effc_wide_geo g = effc_wide_geometry(mm->layout, mm->k);
        const int32_t *block = (const int32_t *)mm->weights + (size_t)(c / g.per) *
                                                                 (size_t)g.block_words;
        const int32_t *rec = block + g.records_at + 3 * (c % g.per);
        const int general = (rec[2] & EFFC_WIDE_GENERAL) != 0;
        /* the bias word is 2 * bias for a fast channel (|bias| < 2^23) */
        ch.bias = general ? block[c % g.per] : block[c % g.per] >> 1;
        ch.rq = effc_requant_make(rec[0], (int32_t)(int16_t)((uint32_t)rec[2] >> 16));
        return ch;
    }
    if (mm->channels != NULL) {
        return effc_channel_of(&mm->channels[c]);
    }
    ch.bias = mm->bias != NULL ? mm->bias[c] : 0;
    ch.rq = effc_requant_make(mm->multiplier[c * mm->quant_stride],
                              mm->shift[c * mm->quant_stride]);
    return ch;
}

/* Whether channel c needs the general requantization (no prepared fast form). */
static inline int effc_mm_channel_is_general(const effc_mm *mm, int32_t c)
{
    if (mm->layout != EFFC_FILTER_S8) {
        const effc_wide_geo g = effc_wide_geometry(mm->layout, mm->k);
        return (((const int32_t *)mm->weights)[(size_t)(c / g.per) * (size_t)g.block_words +
                                               (size_t)(g.records_at + 3 * (c % g.per) + 2)] &
                EFFC_WIDE_GENERAL) != 0;
    }
    return mm->channels == NULL || effc_rq_is_general(&mm->channels[c]);
}

int32_t effc_mm_general_channels(const effc_mm *mm);

/* The effc_mm of a convolution (effc_conv_s8's paths): n_out rows of k
 * weights in `layout`, the prepared records of quant (or its arrays), the
 * conv's zero points and clamp. */
static inline effc_mm effc_mm_conv(const effc_conv_params *p,
                                   const effc_per_channel_quant *quant, int32_t n_out,
                                   int32_t k, const void *weights, const int32_t *bias)
{
    effc_mm mm;
    mm.weights = weights;
    mm.layout = p->filter_layout;
    mm.channels = quant != NULL ? quant->channels : NULL;
    mm.bias = bias;
    mm.multiplier = quant != NULL ? quant->multiplier : NULL;
    mm.shift = quant != NULL ? quant->shift : NULL;
    mm.quant_stride = 1;
    mm.n_out = n_out;
    mm.k = k;
    mm.input_zero_point = p->input_zero_point;
    mm.output_zero_point = p->output_zero_point;
    mm.activation_min = p->activation_min;
    mm.activation_max = p->activation_max;
    mm.general = effc_mm_general_channels(&mm);
    return mm;
}

/* Weight (c, i) in any layout (the portable body and the C fallbacks). */
static inline int32_t effc_mm_weight(const effc_mm *mm, int32_t c, int32_t i)
{
    effc_wide_geo g;
    uint32_t word;
    int32_t v;
    if (mm->layout == EFFC_FILTER_S8) {
        return ((const int8_t *)mm->weights)[(size_t)c * (size_t)mm->k + (size_t)i];
    }
    g = effc_wide_geometry(mm->layout, mm->k);
    word = (uint32_t)((const int32_t *)mm->weights)[
        (size_t)(c / g.per) * (size_t)g.block_words + (size_t)g.weights_at +
        (size_t)(i >> 2) * (size_t)(2 * g.per) + (size_t)((i & 1) * g.per + c % g.per)];
    v = (int16_t)((i & 2) != 0 ? word >> 16 : word & 0xFFFFu);
    return v / 2; /* the wide layouts' weights are doubled */
}

/* Computes every output of n (1..EFFC_MM_COLS) columns into out[j][0..n_out).
 * Reads every column before it writes any output, so outputs may overwrite
 * columns. scratch: effc_mm_scratch_size bytes, 4-byte aligned. */
void effc_mm_run(const effc_mm *mm, int32_t n, const int8_t *const col[], int8_t *const out[],
                 void *scratch);

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
/* The first 4 * quads of a run of columns spaced evenly (column p at
 * in + p * in_step, its outputs at out + p * out_step: a pointwise
 * convolution's pixels), four at a time through the DSP body's two-channel
 * loop with its constants set up once (no per-call dispatch of effc_mm_run).
 * Returns how many columns it did: 4 * quads, or 0 when the layer needs
 * effc_mm_run (not EFFC_FILTER_WIDE2 or its loop not linked, k not a multiple
 * of 8, an odd channel count or channels in the general form). Reads each
 * four columns before it writes their outputs, as effc_mm_run. */
int32_t effc_mm_run_quads(const effc_mm *mm, int32_t quads, const int8_t *in, size_t in_step,
                          int8_t *out, size_t out_step, void *scratch);
#endif

/* Dense with one input row and no scratch (EFFC_FILTER_S8 or WIDE4). */
void effc_mm_row(const effc_mm *mm, const int8_t *row, int8_t *out);

#if defined(EFFC_USE_DSP)
/* Assembly loops (effc_mm_s8_asm.c). The columns are widened to
 * 2 * (x - zp) in the layout of effc_mm_widen: per group of 4 values the words
 * (x0, x2) of columns 0..3, then (x1, x3) of columns 0..3; a sentinel word
 * EFFC_MM_SENTINEL follows the last group. */
#define EFFC_MM_SENTINEL 0x80008000u

/* The first `groups` (> 0) groups of four columns (each read from col[j], 4
 * bytes a group, any alignment) into that layout at dst: off is -zp in both
 * halves. 25 instructions a group; _x1 (x - zp, for EFFC_FILTER_WIDE2's
 * doubled weights) 17. */
void effc_mm_widen_groups(const int8_t *const col[4], int32_t groups, int32_t off,
                          int32_t *dst);
void effc_mm_widen_groups_x1(const int8_t *const col[4], int32_t groups, int32_t off,
                             int32_t *dst);

/* Job offsets (the assembly reads them): 0 q, 4 w, 8 channel, 12..24 out[0..3],
 * 28 n, 32 k2, 36 groups, 40 act_min, 44 act_max, 48 w_end, 52 quads, 56 in,
 * 60 off, 64 out_step, 68 in_step. */
typedef struct {
    const int32_t *q;               /* widened columns */
    const void *w;                  /* weights of the next channel (pair) (advanced) */
    const effc_channel_rq *channel; /* next record (int8 rows; advanced) */
    int8_t *out[4];                 /* next output of each column (advanced but by
                                       effc_mm_2x4_wide*) */
    int32_t n;                      /* channels (channel pairs) left, > 0 */
    int32_t k2;                     /* 2 * output_zero_point + 1 */
    int32_t groups;                 /* groups of 4 values (int8 rows: k / 4; WIDE2: the
                                       widened columns' groups, even) */
    int32_t act_min, act_max;       /* the _clamp variants clamp to these */
    const int32_t *w_end;           /* WIDE2: the end of the pairs' weight stream */
    /* EFFC_MM_2X4_QUADS: 0, or the quads of evenly spaced columns from in (in_step
     * bytes apart; outputs out_step apart) to widen into q (off: -zp) and run */
    int32_t quads;
    const int8_t *in;
    int32_t off, out_step, in_step;
} effc_mm_job;

/* One channel x four columns, int8 weight rows with records (k a multiple of 4). */
void effc_mm_1x4_s8(effc_mm_job *job);
void effc_mm_1x4_s8_clamp(effc_mm_job *job);
/* Two channels x four columns, EFFC_FILTER_WIDE2 weights (its build options:
 * effc_mm_asm.h). */
void effc_mm_2x4_wide(effc_mm_job *job);
void effc_mm_2x4_wide_clamp(effc_mm_job *job);
/* Two channels x one column (job->q at the column's first word, job->out[0]
 * its output), EFFC_FILTER_WIDE2 weights: the tails of one or two columns. */
void effc_mm_2x1_wide(effc_mm_job *job);
void effc_mm_2x1_wide_clamp(effc_mm_job *job);
/* Two channel pairs x one column (job->q, job->out[0] as for effc_mm_2x1_wide):
 * the pairs from job->w to job->w_end two at a time (an even count). */
void effc_mm_4x1_pairs(effc_mm_job *job);
void effc_mm_4x1_pairs_clamp(effc_mm_job *job);

/* Four channels x one row, EFFC_FILTER_WIDE4 weights (k a multiple of 4), the
 * row widened on the fly. Offsets: 0 x, 4 w, 8 out, 12 quads, 16 groups, 20 off. */
typedef struct {
    const int8_t *x;  /* the row */
    const int32_t *w; /* the first channel quad */
    int8_t *out;      /* next output (advanced) */
    int32_t quads;    /* channel quads left, > 0 */
    int32_t groups;   /* k / 4 */
    int32_t off;      /* -input_zero_point in both halves */
} effc_mm_row_job;
void effc_mm_4x1_wide(effc_mm_row_job *job);

/* Four channels x one row, int8 weight rows (k a multiple of 4, > 0): adds
 * the row's products with rows w, w + k, w + 2k, w + 3k to acc[0..3].
 * Offsets: 0 x, 4 w, 8 k, 12 off, 16..28 acc. */
typedef struct {
    const int8_t *x; /* the row */
    const int8_t *w; /* the quad's first weight row */
    int32_t k;
    int32_t off;     /* -input_zero_point in both halves */
    int32_t acc[4];  /* in: the biases; out: the sums */
} effc_mm_row4_job;
void effc_mm_4x1_s8(effc_mm_row4_job *job);

#endif

#if defined(EFFC_USE_MVE)
/* The Helium channel loop (effc_mm_mve_asm.c): int8 weight rows with records,
 * k >= 16, the four columns interleaved in scratch (per 16-value chunk, the
 * chunk of columns 0..3, zero past k). Offsets as listed. */
typedef struct {
    const int8_t *x;            /* 0: the interleaved columns */
    const int8_t *w;            /* 4: channel 0's weight row (the rows follow it) */
    const effc_channel_rq *rec; /* 8: channel 0's record */
    int8_t *out;                /* 12: column 0's output of channel 0 */
    int32_t n;                  /* 16: channels, > 0 */
    int32_t chunks;             /* 20: full 16-value chunks - 1 (>= 0) */
    int32_t tail;               /* 24: k % 16 */
    int32_t zp;                 /* 28: input zero point */
    int32_t ozp;                /* 32: output zero point */
    int32_t lo, hi;             /* 36, 40: act_min - ozp, act_max - ozp */
    uint32_t offsets[4];        /* 44: column j's output minus column 0's */
} effc_mm_mve_job;
void effc_mm_1x4_mve(effc_mm_mve_job *job);
#endif

#if defined(EFFC_USE_DSP)
/* Winograd F(2x2, 3x3) loops (effc_winograd_s8_asm.c). */
void effc_wino_products_asm(const int32_t *u, const int32_t *v, int32_t quads,
                            int32_t positions, int32_t *m);
typedef struct {
    const int8_t *const *px; /* the tile's 16 pixels, row-major */
    int32_t groups;          /* full groups of 4 channels (> 0) */
    int32_t off;             /* -input_zero_point in both int16 halves */
    int32_t *v;              /* V of the tile's slot, channel pair 0 */
    int32_t row_bytes;       /* bytes from one position of V to the next */
} effc_wino_in_job;
void effc_wino_input_asm(const effc_wino_in_job *job);
typedef struct {
    const int32_t *m;             /* M, at tile 0's column */
    int8_t *const *out;           /* per tile 4 output pointers (channel 0) */
    int32_t tiles;                /* > 0 */
    int32_t oc;                   /* output channel (added to every pointer) */
    int32_t bias;
    const effc_requant_rs *record; /* the channel's requantization */
} effc_wino_out_job;
void effc_wino_output_asm(const effc_wino_out_job *job);
#endif

#endif /* EFFC_INTERNAL_H */
