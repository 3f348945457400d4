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
 *    no reordering. The inner loop computes 2 channels x 2 columns (8 SMLAD
 *    for 16 MACs), or 4 channels x 1 column for a single column.
 *
 * Integer sums are exact, so both bodies give identical results.
 */
#include "effc_internal.h"

typedef struct {
    effc_requant rq;
    int32_t bias;
} effc_channel;

static inline effc_channel effc_channel_get(const effc_mm *mm, int32_t c)
{
    effc_channel ch;
    const int32_t q = c * mm->quant_stride;
    ch.rq = effc_requant_make(mm->multiplier[q], mm->shift[q]);
    ch.bias = mm->bias != NULL ? mm->bias[c] : 0;
    return ch;
}

static inline int8_t effc_mm_out(const effc_mm *mm, int32_t acc, effc_requant rq)
{
    return effc_requant_to_s8(acc, rq, mm->output_zero_point, mm->activation_min,
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
        const effc_channel ch = effc_channel_get(mm, c);
        int32_t acc0 = ch.bias;
        int32_t acc1 = ch.bias;
        int32_t i;
        if (col1 != NULL) {
            for (i = 0; i < k; i++) {
                acc0 += (col0[i] - zp) * w[i];
                acc1 += (col1[i] - zp) * w[i];
            }
            out1[c] = effc_mm_out(mm, acc1, ch.rq);
        } else {
            for (i = 0; i < k; i++) {
                acc0 += (col0[i] - zp) * w[i];
            }
        }
        out0[c] = effc_mm_out(mm, acc0, ch.rq);
    }
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

/* One column: per group of 4, words (a0,a2) (a1,a3); then the tail. */
static void effc_widen1(const int8_t *a, int32_t k, int32_t zp, int32_t *dst)
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

/* Parameters of naked functions are only read by the assembly. */
#define EFFC_ARG __attribute__((unused))

/* Inner loops in assembly (naked functions: the register allocation is
 * fixed, 14 registers, whatever the compiler flags). Each group of 4 k
 * values costs 17 instructions for 16 MACs (2x2), 22 for 16 (4x1). */

/* 2 channels x 2 columns over `groups` (> 0) groups of 4:
 * r0 = widened columns, r1 = groups, r2 = weights row 0, r3 = row stride k,
 * [sp] = acc[4] = (col0,ch0) (col1,ch0) (col0,ch1) (col1,ch1), in/out. */
__attribute__((naked, noinline))
static void effc_dot_2x2_groups(EFFC_ARG const int32_t *q, EFFC_ARG int32_t groups,
                         EFFC_ARG const int8_t *w0, EFFC_ARG int32_t k,
                         EFFC_ARG int32_t *acc)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "ldr    r12, [sp, #36]\n\t"
        "push   {r12}\n\t"
        "ldm    r12, {r4-r7}\n\t"
        "1:\n\t"
        "ldm    r0!, {r8-r11}\n\t"
        "ldr    r12, [r2, r3]\n\t"
        "sxtb16 lr, r12, ror #8\n\t"
        "sxtb16 r12, r12\n\t"
        "smlad  r6, r8, r12, r6\n\t"
        "smlad  r6, r9, lr, r6\n\t"
        "smlad  r7, r10, r12, r7\n\t"
        "smlad  r7, r11, lr, r7\n\t"
        "ldr    r12, [r2], #4\n\t"
        "sxtb16 lr, r12, ror #8\n\t"
        "sxtb16 r12, r12\n\t"
        "smlad  r4, r8, r12, r4\n\t"
        "smlad  r4, r9, lr, r4\n\t"
        "smlad  r5, r10, r12, r5\n\t"
        "smlad  r5, r11, lr, r5\n\t"
        "subs   r1, r1, #1\n\t"
        "bne    1b\n\t"
        "pop    {r12}\n\t"
        "stm    r12, {r4-r7}\n\t"
        "pop    {r4-r11, pc}\n\t");
}

/* 4 channels x 1 column over `groups` (> 0) groups of 4:
 * r0 = widened column, r1 = groups, r2 = weights row 0, r3 = row stride k,
 * [sp] = acc[4] (channels 0..3), in/out. */
__attribute__((naked, noinline))
static void effc_dot_4x1_groups(EFFC_ARG const int32_t *q, EFFC_ARG int32_t groups,
                         EFFC_ARG const int8_t *w0, EFFC_ARG int32_t k,
                         EFFC_ARG int32_t *acc)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "ldr    r12, [sp, #36]\n\t"
        "push   {r12}\n\t"
        "ldm    r12, {r4-r7}\n\t"
        "add    r8, r3, r3\n\t"
        "add    r9, r8, r3\n\t"
        "1:\n\t"
        "ldm    r0!, {r10, r11}\n\t"
        "ldr    r12, [r2, r3]\n\t"
        "sxtb16 lr, r12, ror #8\n\t"
        "sxtb16 r12, r12\n\t"
        "smlad  r5, r10, r12, r5\n\t"
        "smlad  r5, r11, lr, r5\n\t"
        "ldr    r12, [r2, r8]\n\t"
        "sxtb16 lr, r12, ror #8\n\t"
        "sxtb16 r12, r12\n\t"
        "smlad  r6, r10, r12, r6\n\t"
        "smlad  r6, r11, lr, r6\n\t"
        "ldr    r12, [r2, r9]\n\t"
        "sxtb16 lr, r12, ror #8\n\t"
        "sxtb16 r12, r12\n\t"
        "smlad  r7, r10, r12, r7\n\t"
        "smlad  r7, r11, lr, r7\n\t"
        "ldr    r12, [r2], #4\n\t"
        "sxtb16 lr, r12, ror #8\n\t"
        "sxtb16 r12, r12\n\t"
        "smlad  r4, r10, r12, r4\n\t"
        "smlad  r4, r11, lr, r4\n\t"
        "subs   r1, r1, #1\n\t"
        "bne    1b\n\t"
        "pop    {r12}\n\t"
        "stm    r12, {r4-r7}\n\t"
        "pop    {r4-r11, pc}\n\t");
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
        acc[0] += t[i] * w0[i];
        acc[1] += t[tail + i] * w0[i];
        acc[2] += t[i] * w1[i];
        acc[3] += t[tail + i] * w1[i];
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
        a0 += t[i] * w0[i];
        a1 += t[tail + i] * w0[i];
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* 4 channels (rows w, w+k, w+2k, w+3k) x 1 column. */
static void effc_dot_4x1(const int32_t *q, int32_t k, const int8_t *w, int32_t *acc)
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
            acc[j] += t[i] * w[j * k + i];
        }
    }
}

/* 1 channel x 1 column. */
static int32_t effc_dot_1x1(const int32_t *q, int32_t k, const int8_t *w0, int32_t acc)
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
        acc += t[i] * w0[i];
    }
    return acc;
}

static void effc_mm_two_cols(const effc_mm *mm, const int32_t *q, int8_t *out0, int8_t *out1)
{
    const int32_t k = mm->k;
    int32_t c = 0;
    int32_t acc[4];
    for (; c + 2 <= mm->n_out; c += 2) {
        const int8_t *w = mm->weights + (size_t)c * (size_t)k;
        const effc_channel ch0 = effc_channel_get(mm, c);
        const effc_channel ch1 = effc_channel_get(mm, c + 1);
        acc[0] = ch0.bias;
        acc[1] = ch0.bias;
        acc[2] = ch1.bias;
        acc[3] = ch1.bias;
        effc_dot_2x2(q, k, w, w + k, acc);
        out0[c] = effc_mm_out(mm, acc[0], ch0.rq);
        out1[c] = effc_mm_out(mm, acc[1], ch0.rq);
        out0[c + 1] = effc_mm_out(mm, acc[2], ch1.rq);
        out1[c + 1] = effc_mm_out(mm, acc[3], ch1.rq);
    }
    if (c < mm->n_out) {
        const effc_channel ch = effc_channel_get(mm, c);
        acc[0] = ch.bias;
        acc[1] = ch.bias;
        effc_dot_1x2(q, k, mm->weights + (size_t)c * (size_t)k, acc);
        out0[c] = effc_mm_out(mm, acc[0], ch.rq);
        out1[c] = effc_mm_out(mm, acc[1], ch.rq);
    }
}

static void effc_mm_one_col(const effc_mm *mm, const int32_t *q, int8_t *out0)
{
    const int32_t k = mm->k;
    int32_t c = 0;
    int32_t acc[4];
    int32_t j;
    for (; c + 4 <= mm->n_out; c += 4) {
        for (j = 0; j < 4; j++) {
            acc[j] = mm->bias != NULL ? mm->bias[c + j] : 0;
        }
        effc_dot_4x1(q, k, mm->weights + (size_t)c * (size_t)k, acc);
        for (j = 0; j < 4; j++) {
            const effc_channel ch = effc_channel_get(mm, c + j);
            out0[c + j] = effc_mm_out(mm, acc[j], ch.rq);
        }
    }
    for (; c < mm->n_out; c++) {
        const effc_channel ch = effc_channel_get(mm, c);
        const int32_t a = effc_dot_1x1(q, k, mm->weights + (size_t)c * (size_t)k, ch.bias);
        out0[c] = effc_mm_out(mm, a, ch.rq);
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

#endif
