/*
 * effc_mm_column_asm.c - the matrix kernel's one-column loops for the
 * Cortex-M DSP body, in assembly (EFFC_FILTER_WIDE2 weights, PAIR8's under
 * EFFC_WIDE2_PACKED: EFFC_PAIR_GROUP_WORDS): the one or two
 * columns a block of pixels leaves over the four-column loop
 * (effc_mm_s8_asm.c), two channels or two channel pairs per pass. The C side
 * is effc_mm_dsp.c; the job struct and its offsets are in effc_mm_internal.h.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
#include "effc_mm_asm.h"

/* The column's output bytes (STORES: EFFC_COLUMN_STRB each) through job->out[0]
 * (advanced in the job, offset 12), then the next pair (label 1) until the
 * weight stream lr reaches w_end (job offset 48); r11 = job, r4 free. */
#define EFFC_COLUMN_STRB(R) "strb   " R ", [r4], #1\n\t"
#define EFFC_COLUMN_STORE_NEXT(STORES)                                                         \
    "ldr    r4, [r11, #12]\n\t"                                                                \
    STORES                                                                                     \
    "str    r4, [r11, #12]\n\t"                                                                \
    "ldr    r4, [r11, #48]\n\t"                                                                \
    "cmp    lr, r4\n\t"                                                                        \
    "bne    1b\n\t"

/* ------------------------------------------------- two channels x 1 column */

/* One group of 4 values of a channel pair for one column, EFFC_FILTER_WIDE2
 * weights: lr the weight stream (advanced: the pair's four words into
 * r4-r7), r12 the column's (x0, x2) word, its (x1, x3) word 16 bytes on
 * (advanced to the next group), r0/r1 the accumulators of channels 0/1:
 * 7 instructions for 8 MACs. */
#define EFFC_2X1_GROUP                                                                         \
    EFFC_PAIR_GROUP_WORDS("lr", "r4", "r5", "r6", "r7")                                        \
    "ldr    r8, [r12], #16\n\t"                                                                \
    "ldr    r9, [r12], #16\n\t"                                                                \
    "smlad  r0, r8, r4, r0\n\t"                                                                \
    "smlad  r1, r8, r5, r1\n\t"                                                                \
    "smlad  r0, r9, r6, r0\n\t"                                                                \
    "smlad  r1, r9, r7, r1\n\t"

/* r11 = job. */
#define EFFC_2X1_CLAMP                                                                         \
    "ldrd   r4, r5, [r11, #40]\n\t"                                                            \
    EFFC_CLAMP("r0", "r4", "r5")                                                               \
    EFFC_CLAMP("r1", "r4", "r5")

/* r11 = job; job->q points at the column's first word (the widened layout
 * of effc_mm_widen, column j at word j) and job->out[0] at its output. Per
 * pair: the bias words, two groups per iteration (their count is even), the
 * two records, two requantizations, CLAMP, two byte stores, until the weight
 * stream reaches w_end (job offset 48). */
#define EFFC_MM_2X1(CLAMP)                                                                     \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "mov    r11, r0\n\t"                                                                       \
    "ldr    lr, [r11, #4]\n\t"                                                                 \
    "1:\n\t"                                                                                   \
    "ldrd   r0, r1, [lr], #8\n\t"                                                              \
    "ldr    r12, [r11]\n\t"                                                                    \
    "ldr    r10, [r11, #36]\n\t"                                                               \
    "2:\n\t"                                                                                   \
    EFFC_2X1_GROUP                                                                             \
    EFFC_2X1_GROUP                                                                             \
    "subs   r10, r10, #2\n\t"                                                                  \
    "bne    2b\n\t"                                                                            \
    EFFC_WIDE_RECORD("lr", "r4", "r5", "r6")                                                   \
    EFFC_RQ_WIDE2("r0", "r4", "r5", "r6", "r7")                                                \
    EFFC_WIDE_RECORD("lr", "r4", "r5", "r6")                                                   \
    EFFC_RQ_WIDE2("r1", "r4", "r5", "r6", "r7")                                                \
    CLAMP                                                                                      \
    EFFC_COLUMN_STORE_NEXT(EFFC_COLUMN_STRB("r0") EFFC_COLUMN_STRB("r1"))                      \
    "pop    {r4-r11, pc}\n\t"

__attribute__((naked, noinline)) void effc_mm_2x1_wide(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_2X1(""));
}

__attribute__((naked, noinline)) void effc_mm_2x1_wide_clamp(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_2X1(EFFC_2X1_CLAMP));
}

/* ------------------------------------- two channel pairs x 1 column */

/* One group of 4 values of two channel pairs for one column, EFFC_FILTER_WIDE2
 * weights: lr / r10 the two pairs' weight streams (advanced: four words each
 * into r4-r7), r12 the column's (x0, x2) word, its (x1, x3) word 16 bytes on
 * (advanced to the next group), r0/r1 the accumulators of the first pair's
 * channels, r2/r3 the second's: 12 instructions for 16 MACs. */
#define EFFC_4X1_PAIRS_GROUP                                                                   \
    "ldr    r8, [r12], #16\n\t"                                                                \
    "ldr    r9, [r12], #16\n\t"                                                                \
    EFFC_PAIR_GROUP_WORDS("lr", "r4", "r5", "r6", "r7")                                        \
    "smlad  r0, r8, r4, r0\n\t"                                                                \
    "smlad  r1, r8, r5, r1\n\t"                                                                \
    "smlad  r0, r9, r6, r0\n\t"                                                                \
    "smlad  r1, r9, r7, r1\n\t"                                                                \
    EFFC_PAIR_GROUP_WORDS("r10", "r4", "r5", "r6", "r7")                                       \
    "smlad  r2, r8, r4, r2\n\t"                                                                \
    "smlad  r3, r8, r5, r3\n\t"                                                                \
    "smlad  r2, r9, r6, r2\n\t"                                                                \
    "smlad  r3, r9, r7, r3\n\t"

/* r11 = job. */
#define EFFC_4X1_PAIRS_CLAMP                                                                   \
    "ldrd   r4, r5, [r11, #40]\n\t"                                                            \
    EFFC_CLAMP("r0", "r4", "r5")                                                               \
    EFFC_CLAMP("r1", "r4", "r5")                                                               \
    EFFC_CLAMP("r2", "r4", "r5")                                                               \
    EFFC_CLAMP("r3", "r4", "r5")

/* r11 = job (at [sp] too); job->q points at the column's first word and
 * job->out[0] at its output, like EFFC_MM_2X1. Per two pairs (their blocks
 * 16 * groups + 32 bytes apart): the four bias words, two groups per
 * iteration (their count is even), the four records, four
 * requantizations, CLAMP, four byte stores, until the first pair's stream
 * reaches w_end (job offset 48; the pairs come in twos). */
#define EFFC_MM_4X1_PAIRS(CLAMP)                                                               \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "push   {r0}\n\t"                                                                          \
    "mov    r11, r0\n\t"                                                                       \
    "ldr    lr, [r11, #4]\n\t"                                                                 \
    "1:\n\t"                                                                                   \
    "ldr    r12, [r11]\n\t"                                                                    \
    "ldr    r11, [r11, #36]\n\t"                                                               \
    "add    r10, lr, r11, lsl #" EFFC_PAIR_GROUP_BYTES_LOG2 "\n\t"                              \
    "add    r10, r10, #32\n\t"                                                                 \
    "ldrd   r0, r1, [lr], #8\n\t"                                                              \
    "ldrd   r2, r3, [r10], #8\n\t"                                                             \
    "2:\n\t"                                                                                   \
    EFFC_4X1_PAIRS_GROUP                                                                       \
    EFFC_4X1_PAIRS_GROUP                                                                       \
    "subs   r11, r11, #2\n\t"                                                                  \
    "bne    2b\n\t"                                                                            \
    EFFC_WIDE_RECORD("lr", "r4", "r5", "r6")                                                   \
    EFFC_RQ_WIDE2("r0", "r4", "r5", "r6", "r7")                                                \
    EFFC_WIDE_RECORD("lr", "r4", "r5", "r6")                                                   \
    EFFC_RQ_WIDE2("r1", "r4", "r5", "r6", "r7")                                                \
    EFFC_WIDE_RECORD("r10", "r4", "r5", "r6")                                                  \
    EFFC_RQ_WIDE2("r2", "r4", "r5", "r6", "r7")                                                \
    EFFC_WIDE_RECORD("r10", "r4", "r5", "r6")                                                  \
    EFFC_RQ_WIDE2("r3", "r4", "r5", "r6", "r7")                                                \
    "mov    lr, r10\n\t"                                                                       \
    "ldr    r11, [sp]\n\t"                                                                     \
    CLAMP                                                                                      \
    EFFC_COLUMN_STORE_NEXT(EFFC_COLUMN_STRB("r0") EFFC_COLUMN_STRB("r1")                       \
                           EFFC_COLUMN_STRB("r2") EFFC_COLUMN_STRB("r3"))                      \
    "add    sp, sp, #4\n\t"                                                                    \
    "pop    {r4-r11, pc}\n\t"

__attribute__((naked, noinline)) void effc_mm_4x1_pairs(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_4X1_PAIRS(""));
}

__attribute__((naked, noinline)) void effc_mm_4x1_pairs_clamp(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_4X1_PAIRS(EFFC_4X1_PAIRS_CLAMP));
}

#else

typedef int effc_mm_column_asm_unused; /* ISO C wants a declaration in every file */

#endif
