/*
 * effc_mm_row_asm.c - the matrix kernel's one-row loops (dense with one
 * input row, effc_mm_row) for the Cortex-M DSP body, in assembly (naked
 * functions). The C side is effc_mm_dsp.c; the jobs are in
 * effc_mm_internal.h; the four-column loops are in effc_mm_s8_asm.c, the
 * shared macros in effc_mm_asm.h.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)

#include "effc_mm_asm.h"

/* ------------------------------------------------ four channels x one row */

/* One group of 4 row values: r10 the row (advanced), r11 the zero-point
 * offset, r8/r9 the values widened on the fly (x0, x2) / (x1, x3), lr the
 * weight stream (advanced), r4-r7 the quad's weight words, r0-r3 the
 * accumulators. 15 instructions for 16 MACs. */
#define EFFC_4X1_GROUP                                                                        \
    "ldr    r9, [r10], #4\n\t"                                                                 \
    "sxtab16 r8, r11, r9\n\t"                                                                  \
    "sxtab16 r9, r11, r9, ror #8\n\t"                                                          \
    "ldm    lr!, {r4-r7}\n\t"                                                                  \
    "smlad  r0, r8, r4, r0\n\t"                                                                \
    "smlad  r1, r8, r5, r1\n\t"                                                                \
    "smlad  r2, r8, r6, r2\n\t"                                                                \
    "smlad  r3, r8, r7, r3\n\t"                                                                \
    "ldm    lr!, {r4-r7}\n\t"                                                                  \
    "smlad  r0, r9, r4, r0\n\t"                                                                \
    "smlad  r1, r9, r5, r1\n\t"                                                                \
    "smlad  r2, r9, r6, r2\n\t"                                                                \
    "smlad  r3, r9, r7, r3\n\t"

/* Job at [sp]. Per quad: the four bias words (doubled) as accumulators, the
 * groups (one first when odd, then two per iteration), four records,
 * requantization and four byte stores. */
__attribute__((naked, noinline)) void effc_mm_4x1_wide(EFFC_ARG effc_mm_row_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "push   {r0}\n\t"
        "ldr    lr, [r0, #4]\n\t"
        "ldr    r11, [r0, #20]\n\t"
        "1:\n\t"
        "ldm    lr!, {r0-r3}\n\t"
        "ldr    r12, [sp]\n\t"
        "ldr    r10, [r12]\n\t"
        "ldr    r12, [r12, #16]\n\t"
        "lsrs   r12, r12, #1\n\t"
        "bcc    3f\n\t"
        EFFC_4X1_GROUP
        "beq    5f\n\t" /* Z still from LSRS */
        "3:\n\t"
        EFFC_4X1_GROUP
        EFFC_4X1_GROUP
        "subs   r12, r12, #1\n\t"
        "bne    3b\n\t"
        "5:\n\t"
        "ldm    lr!, {r4-r6}\n\t"
        EFFC_RQ("r0", "r4", "r5", "r6", "r7")
        "ldm    lr!, {r4-r6}\n\t"
        EFFC_RQ("r1", "r4", "r5", "r6", "r7")
        "ldm    lr!, {r4-r6}\n\t"
        EFFC_RQ("r2", "r4", "r5", "r6", "r7")
        "ldm    lr!, {r4-r6}\n\t"
        EFFC_RQ("r3", "r4", "r5", "r6", "r7")
        "ldr    r12, [sp]\n\t"
        "ldr    r4, [r12, #8]\n\t"
        "strb   r0, [r4], #1\n\t"
        "strb   r1, [r4], #1\n\t"
        "strb   r2, [r4], #1\n\t"
        "strb   r3, [r4], #1\n\t"
        "str    r4, [r12, #8]\n\t"
        "ldr    r4, [r12, #12]\n\t"
        "subs   r4, r4, #1\n\t"
        "str    r4, [r12, #12]\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #4\n\t"
        "pop    {r4-r11, pc}\n\t");
}

/* One channel of the quad: W the weight address operand (post-indexed for
 * channels 0 and 2), A its accumulator; r8/r9 the row word widened. */
#define EFFC_4X1_S8_CHANNEL(W, A)                                                             \
    "ldr    r10, " W "\n\t"                                                                   \
    "sxtb16 r11, r10, ror #8\n\t"                                                             \
    "sxtb16 r10, r10\n\t"                                                                     \
    "smlad  " A ", r8, r10, " A "\n\t"                                                        \
    "smlad  " A ", r9, r11, " A "\n\t"

/* r4 the row, r5 / lr the weights of channels 0 / 2 (channels 1 / 3 a row
 * further: [r5, r6], [lr, r6]), r6 = k, r7 the zero-point offset, r12 the
 * row's end. 25 instructions per group of 4 values (16 MACs). */
__attribute__((naked, noinline)) void effc_mm_4x1_s8(EFFC_ARG effc_mm_row4_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "push   {r0}\n\t"
        "ldm    r0, {r4-r7}\n\t"
        "add    r12, r4, r6\n\t"
        "add    lr, r5, r6, lsl #1\n\t"
        "ldrd   r0, r1, [r0, #16]\n\t"
        "ldr    r2, [sp]\n\t"
        "ldrd   r2, r3, [r2, #24]\n\t"
        "1:\n\t"
        "ldr    r9, [r4], #4\n\t"
        "sxtab16 r8, r7, r9\n\t"
        "sxtab16 r9, r7, r9, ror #8\n\t"
        EFFC_4X1_S8_CHANNEL("[r5, r6]", "r1")
        EFFC_4X1_S8_CHANNEL("[r5], #4", "r0")
        EFFC_4X1_S8_CHANNEL("[lr, r6]", "r3")
        EFFC_4X1_S8_CHANNEL("[lr], #4", "r2")
        "cmp    r4, r12\n\t"
        "bne    1b\n\t"
        "pop    {r12}\n\t"
        "add    r12, r12, #16\n\t"
        "stm    r12, {r0-r3}\n\t"
        "pop    {r4-r11, pc}\n\t");
}

#else

typedef int effc_mm_row_asm_unused; /* ISO C wants a declaration in every file */

#endif
