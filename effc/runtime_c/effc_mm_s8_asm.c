/*
 * effc_mm_s8_asm.c - the Cortex-M DSP inner loops of effc_mm_s8.c, in
 * assembly: naked functions with a fixed allocation of all 14 usable
 * registers, so the result does not depend on compiler flags. Compiled only
 * where the DSP extension is available (empty otherwise).
 *
 * Widened-column layout (effc_mm_s8.c): per group of 4 k values the int16
 * words (a0,a2) (a1,a3) [(b0,b2) (b1,b3)], zero point already subtracted.
 * Weight words are widened with SXTB16 and SXTB16 ror #8, which pairs the
 * same elements, so one SMLAD does 2 MACs.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP)

/* Parameters of naked functions are only read by the assembly. */
#define EFFC_ARG __attribute__((unused))

/* Inner loops in assembly (naked functions: the register allocation is
 * fixed, 14 registers, whatever the compiler flags). Each group of 4 k
 * values costs 17 instructions for 16 MACs (2x2), 23 for 16 (4x1). */

/* 2 channels x 2 columns over `groups` (> 0) groups of 4:
 * r0 = widened columns, r1 = groups, r2 = weights row 0, r3 = row stride k,
 * [sp] = acc[4] = (col0,ch0) (col1,ch0) (col0,ch1) (col1,ch1), in/out. */
__attribute__((naked, noinline)) void effc_dot_2x2_groups(EFFC_ARG const int32_t *q,
                                                         EFFC_ARG int32_t groups,
                                                         EFFC_ARG const int8_t *w0,
                                                         EFFC_ARG int32_t k,
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
__attribute__((naked, noinline)) void effc_dot_4x1_groups(EFFC_ARG const int32_t *q,
                                                         EFFC_ARG int32_t groups,
                                                         EFFC_ARG const int8_t *w0,
                                                         EFFC_ARG int32_t k,
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


/* Requantize the accumulator in ACC with the channel record in r8-r11
 * (multiplier, left shift, right shift, mask) and the output zero point in
 * r1; result saturated to int8 in ACC. Temporaries r3, r12. Same arithmetic
 * as effc_requant_apply (TFLite's MultiplyByQuantizedMultiplier), then
 * QADD + SSAT for + zero point and the int8 range. */
#define EFFC_RQ(ACC)                                                                          \
    "lsl    " ACC ", " ACC ", r9\n\t"                                                         \
    "mov    r12, #0x40000000\n\t"                                                             \
    "movs   r3, #0\n\t"                                                                       \
    "smlal  r12, r3, " ACC ", r8\n\t"                                                         \
    "lsl    r3, r3, #1\n\t"                                                                   \
    "orr    " ACC ", r3, r12, lsr #31\n\t"                                                    \
    "and    r12, " ACC ", r11\n\t"                                                            \
    "asr    r3, r11, #1\n\t"                                                                  \
    "add    r3, r3, " ACC ", lsr #31\n\t"                                                     \
    "asr    " ACC ", " ACC ", r10\n\t"                                                        \
    "cmp    r12, r3\n\t"                                                                      \
    "it     gt\n\t"                                                                           \
    "addgt  " ACC ", " ACC ", #1\n\t"                                                         \
    "qadd   " ACC ", " ACC ", r1\n\t"                                                         \
    "ssat   " ACC ", #8, " ACC "\n\t"

#define EFFC_CLAMP(ACC)                                                                       \
    "cmp    " ACC ", r2\n\t"                                                                  \
    "it     lt\n\t"                                                                           \
    "movlt  " ACC ", r2\n\t"                                                                  \
    "cmp    " ACC ", r3\n\t"                                                                  \
    "it     gt\n\t"                                                                           \
    "movgt  " ACC ", r3\n\t"

/* All channel pairs of two columns: dot products, requantization, stores.
 * r0 = job (kept at [sp]); job offsets: 0 q, 4 groups, 8 w, 12 k, 16 bias,
 * 20 channel, 24 out0, 28 out1, 32 pairs, 36 zero point, 40 act_min,
 * 44 act_max, 48 clamp. About 93 + 17 * k/4 instructions per pair. */
__attribute__((naked, noinline)) void effc_mm_2x2_run(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(
        "push   {r0, r4-r11, lr}\n\t"
        "1:\n\t"
        "ldr    lr, [sp]\n\t"
        "ldr    r12, [lr, #16]\n\t"
        "movs   r4, #0\n\t"
        "movs   r6, #0\n\t"
        "cmp    r12, #0\n\t"
        "beq    2f\n\t"
        "ldrd   r4, r6, [r12], #8\n\t"
        "str    r12, [lr, #16]\n\t"
        "2:\n\t"
        "mov    r5, r4\n\t"
        "mov    r7, r6\n\t"
        "ldrd   r0, r1, [lr, #0]\n\t"
        "ldrd   r2, r3, [lr, #8]\n\t"
        "3:\n\t"
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
        "bne    3b\n\t"
        "add    r2, r2, r3\n\t" /* skip row 1: next pair */
        "ldr    lr, [sp]\n\t"
        "str    r2, [lr, #8]\n\t"
        "ldr    r0, [lr, #20]\n\t"
        "ldr    r1, [lr, #36]\n\t"
        "ldm    r0!, {r8-r11}\n\t"
        EFFC_RQ("r4")
        EFFC_RQ("r5")
        "ldm    r0!, {r8-r11}\n\t"
        EFFC_RQ("r6")
        EFFC_RQ("r7")
        "str    r0, [lr, #20]\n\t"
        "ldr    r12, [lr, #48]\n\t"
        "cmp    r12, #0\n\t"
        "beq    4f\n\t"
        "ldrd   r2, r3, [lr, #40]\n\t"
        EFFC_CLAMP("r4")
        EFFC_CLAMP("r5")
        EFFC_CLAMP("r6")
        EFFC_CLAMP("r7")
        "4:\n\t"
        "ldrd   r2, r3, [lr, #24]\n\t"
        "strb   r4, [r2], #1\n\t"
        "strb   r6, [r2], #1\n\t"
        "strb   r5, [r3], #1\n\t"
        "strb   r7, [r3], #1\n\t"
        "strd   r2, r3, [lr, #24]\n\t"
        "ldr    r12, [lr, #32]\n\t"
        "subs   r12, r12, #1\n\t"
        "str    r12, [lr, #32]\n\t"
        "bne    1b\n\t"
        "pop    {r0, r4-r11, pc}\n\t");
}

/* effc_mm_2x2_run with effc_requant_rs channel records (effc_requant.h:
 * every channel has a right shift, a multiplier >= 0, and the output zero
 * point is folded in), record in r8-r11 (multiplier, s - 1, C low, C high),
 * temporaries r3, r12: 6 instructions per requantization. */
#define EFFC_RQS(ACC)                                                                         \
    "and    r12, " ACC ", #0x80000000\n\t"                                                    \
    "adds   r12, r12, r10\n\t"                                                               \
    "adc    r3, r11, " ACC ", asr #31\n\t"                                                   \
    "smlal  r12, r3, " ACC ", r8\n\t"                                                         \
    "asr    " ACC ", r3, r9\n\t"                                                              \
    "ssat   " ACC ", #8, " ACC "\n\t"

/* All channel pairs of two columns: dot products, requantization, stores.
 * r0 = job (kept at [sp]); job offsets: 0 q, 4 groups, 8 w, 12 k, 16 bias,
 * 20 channel, 24 out0, 28 out1, 32 pairs, 36 zero point, 40 act_min,
 * 44 act_max, 48 clamp (zero point unused). About 57 + 17 * k/4
 * instructions per pair. */
__attribute__((naked, noinline)) void effc_mm_2x2_run_rs(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(
        "push   {r0, r4-r11, lr}\n\t"
        "1:\n\t"
        "ldr    lr, [sp]\n\t"
        "ldr    r12, [lr, #16]\n\t"
        "movs   r4, #0\n\t"
        "movs   r6, #0\n\t"
        "cmp    r12, #0\n\t"
        "beq    2f\n\t"
        "ldrd   r4, r6, [r12], #8\n\t"
        "str    r12, [lr, #16]\n\t"
        "2:\n\t"
        "mov    r5, r4\n\t"
        "mov    r7, r6\n\t"
        "ldrd   r0, r1, [lr, #0]\n\t"
        "ldrd   r2, r3, [lr, #8]\n\t"
        "3:\n\t"
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
        "bne    3b\n\t"
        "add    r2, r2, r3\n\t" /* skip row 1: next pair */
        "ldr    lr, [sp]\n\t"
        "str    r2, [lr, #8]\n\t"
        "ldr    r0, [lr, #20]\n\t"
        "ldr    r1, [lr, #36]\n\t"
        "ldm    r0!, {r8-r11}\n\t"
        EFFC_RQS("r4")
        EFFC_RQS("r5")
        "ldm    r0!, {r8-r11}\n\t"
        EFFC_RQS("r6")
        EFFC_RQS("r7")
        "str    r0, [lr, #20]\n\t"
        "ldr    r12, [lr, #48]\n\t"
        "cmp    r12, #0\n\t"
        "beq    4f\n\t"
        "ldrd   r2, r3, [lr, #40]\n\t"
        EFFC_CLAMP("r4")
        EFFC_CLAMP("r5")
        EFFC_CLAMP("r6")
        EFFC_CLAMP("r7")
        "4:\n\t"
        "ldrd   r2, r3, [lr, #24]\n\t"
        "strb   r4, [r2], #1\n\t"
        "strb   r6, [r2], #1\n\t"
        "strb   r5, [r3], #1\n\t"
        "strb   r7, [r3], #1\n\t"
        "strd   r2, r3, [lr, #24]\n\t"
        "ldr    r12, [lr, #32]\n\t"
        "subs   r12, r12, #1\n\t"
        "str    r12, [lr, #32]\n\t"
        "bne    1b\n\t"
        "pop    {r0, r4-r11, pc}\n\t");
}

/* One channel x four columns, with effc_requant_rs records. Widened
 * four-column layout: per group of 4 k values the words (a0,a2) (a1,a3)
 * (b0,b2) (b1,b3) (c0,c2) (c1,c3) (d0,d2) (d1,d3). Each weight word is
 * widened once for 4 columns: 13 instructions per group of 16 MACs, plus
 * the loop (unrolled by two). lr = job throughout; job offsets: 0 q,
 * 4 groups, 8 w, 12 bias, 16 channel, 20 out0, 24 out1, 28 out2, 32 out3,
 * 36 n, 40 zero point (unused: folded into the records), 44 act_min,
 * 48 act_max, 52 clamp. About 51 + 14 * k/4 instructions per channel. */
#define EFFC_GROUP4                                                                           \
    "ldr    r12, [r2], #4\n\t"                                                                 \
    "sxtb16 r3, r12, ror #8\n\t"                                                               \
    "sxtb16 r12, r12\n\t"                                                                      \
    "ldm    r0!, {r8-r11}\n\t"                                                                 \
    "smlad  r4, r8, r12, r4\n\t"                                                               \
    "smlad  r4, r9, r3, r4\n\t"                                                                \
    "smlad  r5, r10, r12, r5\n\t"                                                              \
    "smlad  r5, r11, r3, r5\n\t"                                                               \
    "ldm    r0!, {r8-r11}\n\t"                                                                 \
    "smlad  r6, r8, r12, r6\n\t"                                                               \
    "smlad  r6, r9, r3, r6\n\t"                                                                \
    "smlad  r7, r10, r12, r7\n\t"                                                              \
    "smlad  r7, r11, r3, r7\n\t"

/* The whole channel loop; BIAS_INIT sets r4 to the channel's bias. */
#define EFFC_MM_1X4_RUN(BIAS_INIT)                                                            \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "mov    lr, r0\n\t"                                                                        \
    "1:\n\t"                                                                                   \
    "ldm    lr, {r0-r2}\n\t"                                                                   \
    BIAS_INIT                                                                                 \
    "mov    r5, r4\n\t"                                                                        \
    "mov    r6, r4\n\t"                                                                        \
    "mov    r7, r4\n\t"                                                                        \
    "lsrs   r1, r1, #1\n\t" /* pairs of groups; carry: one group first */                    \
    "bcc    3f\n\t"                                                                            \
    EFFC_GROUP4                                                                               \
    "cmp    r1, #0\n\t"                                                                        \
    "beq    5f\n\t"                                                                            \
    "3:\n\t"                                                                                   \
    EFFC_GROUP4                                                                               \
    EFFC_GROUP4                                                                               \
    "subs   r1, r1, #1\n\t"                                                                    \
    "bne    3b\n\t"                                                                            \
    "5:\n\t"                                                                                   \
    "str    r2, [lr, #8]\n\t"                                                                  \
    "ldr    r0, [lr, #16]\n\t"                                                                 \
    "ldm    r0!, {r8-r11}\n\t"                                                                 \
    "str    r0, [lr, #16]\n\t"                                                                 \
    EFFC_RQS("r4")                                                                            \
    EFFC_RQS("r5")                                                                            \
    EFFC_RQS("r6")                                                                            \
    EFFC_RQS("r7")                                                                            \
    "ldr    r12, [lr, #52]\n\t"                                                                \
    "cmp    r12, #0\n\t"                                                                       \
    "beq    4f\n\t"                                                                            \
    "ldrd   r2, r3, [lr, #44]\n\t"                                                             \
    EFFC_CLAMP("r4")                                                                          \
    EFFC_CLAMP("r5")                                                                          \
    EFFC_CLAMP("r6")                                                                          \
    EFFC_CLAMP("r7")                                                                          \
    "4:\n\t"                                                                                   \
    "add    r12, lr, #20\n\t"                                                                  \
    "ldm    r12, {r0-r3}\n\t"                                                                  \
    "strb   r4, [r0], #1\n\t"                                                                  \
    "strb   r5, [r1], #1\n\t"                                                                  \
    "strb   r6, [r2], #1\n\t"                                                                  \
    "strb   r7, [r3], #1\n\t"                                                                  \
    "stm    r12, {r0-r3}\n\t"                                                                  \
    "ldr    r12, [lr, #36]\n\t"                                                                \
    "subs   r12, r12, #1\n\t"                                                                  \
    "str    r12, [lr, #36]\n\t"                                                                \
    "bne    1b\n\t"                                                                            \
    "pop    {r4-r11, pc}\n\t"

/* job->bias != NULL */
__attribute__((naked, noinline)) void effc_mm_1x4_run_rs(EFFC_ARG effc_mm_job4 *job)
{
    __asm__ volatile(EFFC_MM_1X4_RUN("ldr    r12, [lr, #12]\n\t"
                                     "ldr    r4, [r12], #4\n\t"
                                     "str    r12, [lr, #12]\n\t"));
}

/* job->bias == NULL */
__attribute__((naked, noinline)) void effc_mm_1x4_run_rs_nobias(EFFC_ARG effc_mm_job4 *job)
{
    __asm__ volatile(EFFC_MM_1X4_RUN("movs   r4, #0\n\t"));
}

#else

typedef int effc_mm_s8_asm_unused; /* ISO C wants a declaration in every file */

#endif
