/*
 * effc_internal.h - helpers shared by the runtime's .c files (not public API).
 */
#ifndef EFFC_INTERNAL_H
#define EFFC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "effc_nn.h"
#include "effc_requant.h"

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
#endif

#define EFFC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EFFC_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Unaligned 32-bit load (a single LDR on Cortex-M4 and later). */
static inline uint32_t effc_read_u32(const void *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

#if defined(EFFC_USE_DSP)
/* The DSP dot products of effc_mm_s8.c, shared with the recurrent kernels. */
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
 * Matrix kernel shared by conv (all paths) and dense: for one or two input
 * columns of k int8 values, compute all n_out outputs
 *   out[c] = requant(bias[c] + sum_k (col[k] - input_zp) * weights[c][k]).
 * ------------------------------------------------------------------------ */
typedef struct {
    const int8_t *weights;     /* [n_out][k] rows */
    const int32_t *bias;       /* [n_out] or NULL */
    const int32_t *multiplier; /* requantization, indexed c * quant_stride */
    const int32_t *shift;
    int32_t quant_stride; /* 1: per channel, 0: per tensor */
    int32_t n_out;
    int32_t k;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min;
    int32_t activation_max;
    int32_t columns;              /* columns the caller will run (a hint) */
    const effc_requant *channels; /* [n_out] decoded requantization, set by effc_mm_init */
    /* DSP body: the same records in effc_requant_rs form, with the output
     * zero point folded in, when every channel allows it and columns >= 2
     * (they cost more to make than they save on a single column; then
     * channels is NULL), else NULL. Set by effc_mm_init. */
    const effc_requant_rs *channels_rs;
} effc_mm;

/* The effc_mm of a convolution: per-channel requantization, the conv's zero
 * points and clamp, n_out rows of k weights (columns: a hint, set by callers). */
static inline effc_mm effc_mm_conv(const effc_conv_params *p,
                                   const effc_per_channel_quant *quant, int32_t n_out,
                                   int32_t k, const int8_t *weights, const int32_t *bias)
{
    effc_mm mm;
    mm.weights = weights;
    mm.bias = bias;
    mm.multiplier = quant->multiplier;
    mm.shift = quant->shift;
    mm.quant_stride = 1;
    mm.n_out = n_out;
    mm.k = k;
    mm.input_zero_point = p->input_zero_point;
    mm.output_zero_point = p->output_zero_point;
    mm.activation_min = p->activation_min;
    mm.activation_max = p->activation_max;
    mm.columns = 2;
    mm.channels = NULL; /* channels and channels_rs: set by effc_mm_init */
    return mm;
}

/* effc_requant and effc_requant_rs records share the front of scratch. */
typedef char effc_requant_rs_fits[sizeof(effc_requant_rs) == sizeof(effc_requant) ? 1 : -1];

/* Scratch bytes for effc_mm_init + effc_mm_cols_s8: the decoded
 * requantization of every channel, then two columns of k int16 values. */
static inline size_t effc_mm_scratch_size(int32_t k, int32_t n_out)
{
    return (size_t)n_out * sizeof(effc_requant) + (size_t)k * 4u;
}

/* Decodes the channels' requantization into the front of scratch (once per
 * layer call); returns the rest of scratch for effc_mm_cols_s8. */
void *effc_mm_init(effc_mm *mm, void *scratch);

/* col1/out1 may be NULL (one column). scratch: what effc_mm_init returned. */
void effc_mm_cols_s8(const effc_mm *mm, const int8_t *col0, const int8_t *col1, int8_t *out0,
                     int8_t *out1, void *scratch);

/* Four columns. Needs 8 * k bytes after effc_mm_init's records, and the
 * columns must not lie in the first 4 * k of them. */
void effc_mm_cols4_s8(const effc_mm *mm, const int8_t *const col[4], int8_t *const out[4],
                      void *scratch);

/* Whether effc_mm_cols4_s8 reads all four columns before it writes any
 * output (then the columns may be overwritten by the outputs). */
int effc_mm_cols4_reads_first(const effc_mm *mm);

#if defined(EFFC_USE_DSP)
/* Assembly inner loops (effc_mm_s8_asm.c). */
typedef struct {
    const int32_t *q;            /* widened columns (two-column layout) */
    int32_t groups;              /* k / 4 */
    const int8_t *w;             /* weights of the next channel pair (advanced) */
    int32_t k;                   /* row length, a multiple of 4 */
    const int32_t *bias;         /* next bias pair (advanced), or NULL */
    const void *channel;         /* next channel record (advanced): effc_requant,
                                    or effc_requant_rs for effc_mm_2x2_run_rs */
    int8_t *out0;                /* next outputs of column 0 (advanced) */
    int8_t *out1;                /* next outputs of column 1 (advanced) */
    int32_t pairs;               /* channel pairs to compute (> 0) */
    int32_t zero_point;          /* output zero point */
    int32_t act_min, act_max;    /* applied when clamp != 0 */
    int32_t clamp;
} effc_mm_job;

/* One channel x four columns (effc_requant_rs records only). */
typedef struct {
    const int32_t *q;               /* widened columns (four-column layout) */
    int32_t groups;                 /* k / 4 (> 0) */
    const int8_t *w;                /* weights of the next channel (advanced) */
    const int32_t *bias;            /* next bias (advanced), or NULL */
    const effc_requant_rs *channel; /* next channel record (advanced) */
    int8_t *out[4];                 /* next outputs of each column (advanced) */
    int32_t n;                      /* channels to compute (> 0) */
    int32_t zero_point;
    int32_t act_min, act_max;
    int32_t clamp;
} effc_mm_job4;

void effc_mm_1x4_run_rs(effc_mm_job4 *job);        /* job->bias != NULL */
void effc_mm_1x4_run_rs_nobias(effc_mm_job4 *job); /* job->bias == NULL */
void effc_mm_2x2_run(effc_mm_job *job);
/* The same with job->channel pointing at effc_requant_rs records. */
void effc_mm_2x2_run_rs(effc_mm_job *job);
void effc_dot_2x2_groups(const int32_t *q, int32_t groups, const int8_t *w0, int32_t k,
                         int32_t *acc);
void effc_dot_4x1_groups(const int32_t *q, int32_t groups, const int8_t *w0, int32_t k,
                         int32_t *acc);

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
