/*
 * effc_internal.h - helpers shared by the runtime's .c files (not public API).
 */
#ifndef EFFC_INTERNAL_H
#define EFFC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "effc_nn.h"
#include "effc_requant.h"

/* EFFC_SMALL_UNIT: this unit's own code takes its smaller variants: in a size build
 * (-Os), and in the units a --flash-budget image compiles for size (-Os
 * -U__OPTIMIZE_SIZE__ -DEFFC_SIZE_UNIT=1, effc/codegen/c/kernel_set.py SIZE_SOURCES).
 * Only a unit's own static code may test it: what units share (structures, the
 * split of work between C and assembly: effc_dw_internal.h) tests __OPTIMIZE_SIZE__,
 * which such a unit leaves undefined, so it agrees with the -O2 units. */
#ifndef EFFC_SIZE_UNIT
#define EFFC_SIZE_UNIT 0
#endif
#if defined(__OPTIMIZE_SIZE__) || EFFC_SIZE_UNIT
#define EFFC_SMALL_UNIT 1
#else
#define EFFC_SMALL_UNIT 0
#endif

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

/* A helper inlined even at -Os, where one outlined caller holds its one copy. */
#if defined(__GNUC__)
#define EFFC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EFFC_ALWAYS_INLINE inline
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

/* Helium: Q minus 1 on its negative lanes (T a temporary), so that a following
 * VRSHL's ties round away from zero, as RoundingDivideByPOT's do. Left out where the
 * family's RELU switch is 1 (effc_mm_mve_asm.c, effc_dw_mve_asm.c). */
#define EFFC_MVE_MINUS_NEGATIVE(Q, T)                                                         \
    "vshr.u32 " T ", " Q ", #31\n\t"                                                           \
    "vqsub.s32 " Q ", " Q ", " T "\n\t"

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

/* The matrix kernel (effc_mm) and the assembly loops' jobs. */
#include "effc_mm_internal.h"

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
