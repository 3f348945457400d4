/*
 * effc_dw_dsp_asm.c - the depthwise 3x3 column walks of the DSP body, in
 * assembly (naked functions). The C side is effc_dw_dsp.c; the job and its
 * offsets are in effc_internal.h.
 *
 * Registers during a walk: r0 the plane (advanced a row at a time), r1 the
 * packed strides (plane row bytes << 16 | output row bytes), r2-r4 the
 * accumulators (rotating roles; r4 counts the steps at stride 2), r5-r7 taps
 * (0, 1) of kernel rows 0-2, r8 tap 2 of rows 0 and 1, r9 tap 2 of row 2
 * (high half) and s - 1 (low byte, what ASR reads), r10 2 * bias, r11 the
 * output pointer, r12/lr loaded plane words and the requantization
 * temporaries. A column runs `groups` unrolled steps (3 outputs at stride 1,
 * 2 at stride 2) in a counted loop, then `tail` single outputs; the plane
 * and output pointers then move to the next column by the job's constant
 * deltas. The stack frame (EFFC_DW_SETUP) holds:
 *   [sp]      the multiplier and round (one LDRD per output)
 *   [sp, 8]   the columns left
 *   [sp, 12]  the steps left (stride 1)
 *   [sp, 16]  next_plane, next_out (one LDRD per column)
 *   [sp, 24]  tail
 *   [sp, 28]  groups
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP)

#define EFFC_DW_ARG __attribute__((unused))

/* Requantize ACC (doubled accumulator) and store it; the output pointer
 * moves down a row. */
#define EFFC_DW_STORE(ACC)                                                                    \
    "ldrd   r12, lr, [sp]\n\t"                                                                 \
    "sub    lr, lr, " ACC ", lsr #31\n\t"                                                      \
    "smmlar " ACC ", " ACC ", r12, lr\n\t"                                                     \
    "asr    " ACC ", " ACC ", r9\n\t"                                                          \
    "ssat   " ACC ", #8, " ACC ", asr #1\n\t"                                                  \
    "strb   " ACC ", [r11]\n\t"                                                                \
    "uxtah  r11, r11, r1\n\t"

/* The setup of both walks: the stack frame, the strides, the weights, the
 * doubled bias and the first column's plane and output pointers; then the
 * next column (label 1) moves both pointers by the deltas. */
#define EFFC_DW_SETUP                                                                         \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "sub    sp, sp, #32\n\t"                                                                   \
    "ldrd   r12, lr, [r0, #48]\n\t"                                                            \
    "strd   r12, lr, [sp]\n\t"                                                                 \
    "ldr    r12, [r0, #12]\n\t"                                                                \
    "str    r12, [sp, #8]\n\t"                                                                 \
    "ldrd   r12, lr, [r0, #64]\n\t"                                                            \
    "strd   r12, lr, [sp, #16]\n\t"                                                            \
    "ldrd   r12, lr, [r0, #56]\n\t"                                                            \
    "str    r12, [sp, #28]\n\t"                                                                \
    "str    lr, [sp, #24]\n\t"                                                                 \
    "ldr    r1, [r0, #8]\n\t"                                                                  \
    "add    r12, r0, #24\n\t"                                                                  \
    "ldm    r12, {r5-r10}\n\t"                                                                 \
    "ldr    r11, [r0, #4]\n\t"                                                                 \
    "ldr    r0, [r0]\n\t"                                                                      \
    "b      7f\n\t"                                                                            \
    "1:\n\t"                                                                                   \
    "ldrd   r12, lr, [sp, #16]\n\t"                                                            \
    "add    r0, r0, r12\n\t"                                                                   \
    "add    r11, r11, lr\n\t"                                                                  \
    "7:\n\t"

#define EFFC_DW_END                                                                           \
    "3:\n\t"                                                                                   \
    "ldr    r12, [sp, #8]\n\t"                                                                 \
    "subs   r12, r12, #1\n\t"                                                                  \
    "str    r12, [sp, #8]\n\t"                                                                 \
    "bne    1b\n\t"                                                                            \
    "add    sp, sp, #32\n\t"                                                                   \
    "pop    {r4-r11, pc}\n\t"

/* Stride 1: plane row r is kernel row 0 of output r (NEW), row 1 of output
 * r - 1 (MID) and row 2 of output r - 2 (OLD), which then completes. 16
 * instructions per output, and 4 a step of three for the count. */
#define EFFC_DW_ROW(NEW, MID, OLD)                                                            \
    "ldr    lr, [r0]\n\t"                                                                      \
    "smlad  " NEW ", lr, r5, r10\n\t"                                                          \
    "smlad  " MID ", lr, r6, " MID "\n\t"                                                      \
    "smlad  " OLD ", lr, r7, " OLD "\n\t"                                                      \
    "ldr    lr, [r0, #4]\n\t"                                                                  \
    "add    r0, r0, r1, lsr #16\n\t"                                                           \
    "smlabb " NEW ", lr, r8, " NEW "\n\t"                                                      \
    "smlabt " MID ", lr, r8, " MID "\n\t"                                                      \
    "smlabt " OLD ", lr, r9, " OLD "\n\t"                                                      \
    EFFC_DW_STORE(OLD)

__attribute__((naked, noinline)) void effc_dw_walk_s1(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(
        EFFC_DW_SETUP
        "ldr    lr, [sp, #28]\n\t"
        "str    lr, [sp, #12]\n\t"
        /* plane row 0: kernel row 0 of output 0 */
        "ldr    lr, [r0]\n\t"
        "smlad  r2, lr, r5, r10\n\t"
        "ldr    lr, [r0, #4]\n\t"
        "add    r0, r0, r1, lsr #16\n\t"
        "smlabb r2, lr, r8, r2\n\t"
        /* plane row 1: kernel row 0 of output 1, row 1 of output 0 */
        "ldr    lr, [r0]\n\t"
        "smlad  r3, lr, r5, r10\n\t"
        "smlad  r2, lr, r6, r2\n\t"
        "ldr    lr, [r0, #4]\n\t"
        "add    r0, r0, r1, lsr #16\n\t"
        "smlabb r3, lr, r8, r3\n\t"
        "smlabt r2, lr, r8, r2\n\t"
        "b      5f\n\t"
        "2:\n\t"
        EFFC_DW_ROW("r4", "r3", "r2")
        EFFC_DW_ROW("r2", "r4", "r3")
        EFFC_DW_ROW("r3", "r2", "r4")
        "5:\n\t"
        "ldr    r12, [sp, #12]\n\t"
        "subs   r12, r12, #1\n\t"
        "str    r12, [sp, #12]\n\t"
        "bpl    2b\n\t"
        /* the tail; ROW leaves the flags of this CMP alone */
        "ldr    r12, [sp, #24]\n\t"
        "cmp    r12, #1\n\t"
        "blt    3f\n\t"
        EFFC_DW_ROW("r4", "r3", "r2")
        "beq    3f\n\t"
        EFFC_DW_ROW("r2", "r4", "r3")
        EFFC_DW_END);
}

/* Stride 2: output y reads plane rows 2y, 2y+1 and 2y+2; row 2y+2 is also
 * kernel row 0 of output y + 1. A row's two words come with one LDRD (the
 * plane width is even at stride 2, so every output column starts 4-byte
 * aligned). 17 instructions per output, and 2 a step of two for the count
 * (r4). */
#define EFFC_DW_PAIR(CUR, NXT)                                                                \
    "ldrd   r12, lr, [r0]\n\t"                                                                 \
    "add    r0, r0, r1, lsr #16\n\t"                                                           \
    "smlad  " CUR ", r12, r6, " CUR "\n\t"                                                     \
    "smlabt " CUR ", lr, r8, " CUR "\n\t"                                                      \
    "ldrd   r12, lr, [r0]\n\t"                                                                 \
    "add    r0, r0, r1, lsr #16\n\t"                                                           \
    "smlad  " NXT ", r12, r5, r10\n\t"                                                         \
    "smlad  " CUR ", r12, r7, " CUR "\n\t"                                                     \
    "smlabb " NXT ", lr, r8, " NXT "\n\t"                                                      \
    "smlabt " CUR ", lr, r9, " CUR "\n\t"                                                      \
    EFFC_DW_STORE(CUR)

__attribute__((naked, noinline)) void effc_dw_walk_s2(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(
        EFFC_DW_SETUP
        "ldr    r4, [sp, #28]\n\t"
        /* plane row 0: kernel row 0 of output 0 */
        "ldrd   r12, lr, [r0]\n\t"
        "add    r0, r0, r1, lsr #16\n\t"
        "smlad  r2, r12, r5, r10\n\t"
        "smlabb r2, lr, r8, r2\n\t"
        "b      5f\n\t"
        "2:\n\t"
        EFFC_DW_PAIR("r2", "r3")
        EFFC_DW_PAIR("r3", "r2")
        "5:\n\t"
        "subs   r4, r4, #1\n\t"
        "bpl    2b\n\t"
        "ldr    r4, [sp, #24]\n\t"
        "cbz    r4, 3f\n\t"
        EFFC_DW_PAIR("r2", "r3")
        EFFC_DW_END);
}

/* The plane fill: per pixel pair two loads, SXTAB16 (x - zp, even and odd
 * channels) and PKHBT/PKHTB give one word per plane, 17 instructions; r0
 * source, r1 pixel bytes, r2/r3 planes 0/2, r4 plane bytes, r5 -zp, r6
 * count, lr the job (its src/dst/rows advance row by row). */
__attribute__((naked, noinline)) void effc_dw_fill4_rows(EFFC_DW_ARG effc_dw_fill_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "mov    lr, r0\n\t"
        "ldr    r1, [lr, #20]\n\t"
        "ldr    r4, [lr, #32]\n\t"
        "ldr    r5, [lr, #36]\n\t"
        "1:\n\t"
        "ldrd   r0, r2, [lr]\n\t"
        "ldr    r6, [lr, #24]\n\t"
        "add    r6, r0, r6\n\t"
        "str    r6, [lr]\n\t"
        "ldr    r6, [lr, #28]\n\t"
        "add    r6, r2, r6\n\t"
        "str    r6, [lr, #4]\n\t"
        "add    r3, r2, r4, lsl #1\n\t"
        "ldr    r6, [lr, #12]\n\t"
        "cbz    r6, 3f\n\t"
        "2:\n\t"
        "ldr    r7, [r0]\n\t"
        "ldr    r8, [r0, r1]\n\t"
        "add    r0, r0, r1, lsl #1\n\t"
        "sxtab16 r9, r5, r7\n\t"
        "sxtab16 r10, r5, r7, ror #8\n\t"
        "sxtab16 r11, r5, r8\n\t"
        "sxtab16 r12, r5, r8, ror #8\n\t"
        "pkhbt  r7, r9, r11, lsl #16\n\t"
        "pkhtb  r11, r11, r9, asr #16\n\t"
        "pkhbt  r8, r10, r12, lsl #16\n\t"
        "pkhtb  r12, r12, r10, asr #16\n\t"
        "str    r8, [r2, r4]\n\t"
        "str    r12, [r3, r4]\n\t"
        "str    r7, [r2], #4\n\t"
        "str    r11, [r3], #4\n\t"
        "subs   r6, r6, #1\n\t"
        "bne    2b\n\t"
        "3:\n\t"
        "ldr    r6, [lr, #16]\n\t"
        "cbz    r6, 4f\n\t"
        "ldr    r7, [r0]\n\t"
        "sxtab16 r9, r5, r7\n\t"
        "sxtab16 r10, r5, r7, ror #8\n\t"
        "strh   r9, [r2]\n\t"
        "strh   r10, [r2, r4]\n\t"
        "lsr    r9, r9, #16\n\t"
        "lsr    r10, r10, #16\n\t"
        "strh   r9, [r3]\n\t"
        "strh   r10, [r3, r4]\n\t"
        "4:\n\t"
        "ldr    r6, [lr, #8]\n\t"
        "subs   r6, r6, #1\n\t"
        "str    r6, [lr, #8]\n\t"
        "bne    1b\n\t"
        "pop    {r4-r11, pc}\n\t");
}

#else

typedef int effc_dw_dsp_asm_unused; /* ISO C wants a declaration in every file */

#endif
