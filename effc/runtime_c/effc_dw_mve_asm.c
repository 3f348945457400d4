/*
 * effc_dw_mve_asm.c - the Helium depthwise body's column walk in assembly (a
 * naked function: the instruction counts do not depend on the compiler's
 * flags). The C side, and why the steps are TFLite-exact, is effc_dw_mve.c.
 *
 * A band's channels of a plane group (one call; a channel's plane, outputs,
 * taps and constants from its record), 3x3, stride 1 and dilation 1 both
 * ways, a right shift > 0: per row group of four output rows, the output columns in pairs:
 * the plane's columns x..x+3 (EFFC_DW_MVE_COL bytes apart, so every tap is an
 * immediate offset) loaded once each (12 VLDRB.S32) for the pair's 18 VMLAs,
 * then per column VQRDMULH, minus 1 on negative lanes, VRSHL, the clamp, + zp
 * and a VSTRB.32 scatter to the four output rows: 53 instructions per eight
 * outputs with the loop's LE (an odd last column: 28 for four). The band's
 * last row group, with 1-3 rows, stores under VCTP; a single last row with
 * four columns or more (KWS: 25 rows) takes lanes over four columns instead
 * (EFFC_DW_MVE_LAST: two vectors for KWS's five columns, not five).
 */
#include "effc_dw_internal.h"

#if defined(EFFC_USE_MVE)

/* Parameters of naked functions are only read by the assembly. */
#define EFFC_ARG __attribute__((unused))

/* Registers: r0 output bytes between columns, r1 minus the right shift (the
 * output zero point for a moment in EFFC_DW_MVE_RQ2), r2-r6, r8-r11 the taps
 * w0..w8 (w5 in r11), r7 the plane column (a low register: widening loads
 * need one), r12 the output, lr the loop; q0/q1 the sums, q2 the loaded rows,
 * q3 the lanes' output offsets, q4/q5 act_min/act_max - zp, q6 the bias, q7
 * the multiplier. Stack: 0 rows left, 4 column pairs, 8 output bytes to the
 * next row group, 12 64 * pairs - 4 (r7 from the pairs' end back to the next
 * row group's plane: r7 holds the row group's plane), 16 an odd last column, 20 the
 * output zero point, 24 minus the right shift, 28 the columns (left, in
 * EFFC_DW_MVE_LAST), 32 the channel's record, 36 past the last record,
 * 40 rows, 44 columns, 48 the job's out_rows (reloaded a channel:
 * EFFC_DW_MVE_LAST takes q3). */

/* The four plane rows at r7 + OFF into q2. */
#define EFFC_DW_MVE_LD(OFF) "vldrb.s32 q2, [r7, #" OFF "]\n\t"
#define EFFC_DW_MVE_MLA(ACC, W) "vmla.s32 " ACC ", q2, " W "\n\t"

/* Q minus 1 on its negative lanes (T a temporary), unless EFFC_DW_RELU. */
#if EFFC_DW_RELU
#define EFFC_DW_MVE_TIES(Q, T) ""
#else
#define EFFC_DW_MVE_TIES(Q, T) EFFC_MVE_MINUS_NEGATIVE(Q, T)
#endif

/* Requantize q0 (and q1 when BOTH): VQRDMULH, minus 1 on negative lanes,
 * VRSHL, the clamp, + zp (effc_dw_mve.c). */
#define EFFC_DW_MVE_RQ1(Q)                                                                    \
    "vqrdmulh.s32 " Q ", " Q ", q7\n\t"                                                        \
    EFFC_DW_MVE_TIES(Q, "q2")                                                                  \
    "vrshl.s32 " Q ", r1\n\t"                                                                  \
    "vmax.s32 " Q ", " Q ", q4\n\t"                                                            \
    "vmin.s32 " Q ", " Q ", q5\n\t"

#define EFFC_DW_MVE_ZP_ON "ldr    r1, [sp, #20]\n\t"
#define EFFC_DW_MVE_ZP_OFF "ldr    r1, [sp, #24]\n\t"

/* Store q (STORE is "vstrb" or "vpst; vstrbt") and step to the next column. */
#define EFFC_DW_MVE_ST(STORE, Q)                                                              \
    STORE ".32 " Q ", [r12, q3]\n\t"                                                           \
    "add    r12, r12, r0\n\t"

/* One row group's column pairs (plane columns x..x+3, loaded once, r7
 * stepping two columns). L: a label prefix. */
#define EFFC_DW_MVE_PAIRS(L, STORE)                                                           \
    "ldr    lr, [sp, #4]\n\t"                                                                  \
    "wls    lr, lr, " L "_pairs_end\n\t"                                                       \
    L "_pair:\n\t"                                                                             \
    "vmov   q0, q6\n\t"                                                                        \
    "vmov   q1, q6\n\t"                                                                        \
    "vldrb.s32 q2, [r7], #64\n\t"                                                              \
    EFFC_DW_MVE_MLA("q0", "r2")                                                                \
    EFFC_DW_MVE_LD("-63") EFFC_DW_MVE_MLA("q0", "r5")                                          \
    EFFC_DW_MVE_LD("-62") EFFC_DW_MVE_MLA("q0", "r8")                                          \
    EFFC_DW_MVE_LD("-32") EFFC_DW_MVE_MLA("q0", "r3") EFFC_DW_MVE_MLA("q1", "r2")              \
    EFFC_DW_MVE_LD("-31") EFFC_DW_MVE_MLA("q0", "r6") EFFC_DW_MVE_MLA("q1", "r5")              \
    EFFC_DW_MVE_LD("-30") EFFC_DW_MVE_MLA("q0", "r9") EFFC_DW_MVE_MLA("q1", "r8")              \
    EFFC_DW_MVE_LD("0") EFFC_DW_MVE_MLA("q0", "r4") EFFC_DW_MVE_MLA("q1", "r3")                \
    EFFC_DW_MVE_LD("1") EFFC_DW_MVE_MLA("q0", "r11") EFFC_DW_MVE_MLA("q1", "r6")               \
    EFFC_DW_MVE_LD("2") EFFC_DW_MVE_MLA("q0", "r10") EFFC_DW_MVE_MLA("q1", "r9")               \
    EFFC_DW_MVE_LD("32") EFFC_DW_MVE_MLA("q1", "r4")                                           \
    EFFC_DW_MVE_LD("33") EFFC_DW_MVE_MLA("q1", "r11")                                          \
    EFFC_DW_MVE_LD("34") EFFC_DW_MVE_MLA("q1", "r10")                                          \
    EFFC_DW_MVE_RQ1("q0")                                                                      \
    EFFC_DW_MVE_RQ1("q1")                                                                      \
    EFFC_DW_MVE_ZP_ON                                                                          \
    "vadd.i32 q0, q0, r1\n\t"                                                                  \
    "vadd.i32 q1, q1, r1\n\t"                                                                  \
    EFFC_DW_MVE_ZP_OFF                                                                         \
    EFFC_DW_MVE_ST(STORE, "q0")                                                                \
    EFFC_DW_MVE_ST(STORE, "q1")                                                                \
    "le     lr, " L "_pair\n\t"                                                                \
    L "_pairs_end:\n\t"

/* The odd last column of a row group (r7 at it). */
#define EFFC_DW_MVE_ODD(STORE)                                                                \
    "vmov   q0, q6\n\t"                                                                        \
    EFFC_DW_MVE_LD("0") EFFC_DW_MVE_MLA("q0", "r2")                                            \
    EFFC_DW_MVE_LD("1") EFFC_DW_MVE_MLA("q0", "r5")                                            \
    EFFC_DW_MVE_LD("2") EFFC_DW_MVE_MLA("q0", "r8")                                            \
    EFFC_DW_MVE_LD("32") EFFC_DW_MVE_MLA("q0", "r3")                                           \
    EFFC_DW_MVE_LD("33") EFFC_DW_MVE_MLA("q0", "r6")                                           \
    EFFC_DW_MVE_LD("34") EFFC_DW_MVE_MLA("q0", "r9")                                           \
    EFFC_DW_MVE_LD("64") EFFC_DW_MVE_MLA("q0", "r4")                                           \
    EFFC_DW_MVE_LD("65") EFFC_DW_MVE_MLA("q0", "r11")                                          \
    EFFC_DW_MVE_LD("66") EFFC_DW_MVE_MLA("q0", "r10")                                          \
    EFFC_DW_MVE_RQ1("q0")                                                                      \
    EFFC_DW_MVE_ZP_ON                                                                          \
    "vadd.i32 q0, q0, r1\n\t"                                                                  \
    EFFC_DW_MVE_ZP_OFF                                                                         \
    EFFC_DW_MVE_ST(STORE, "q0")

/* A row group: its pairs, then the odd last column if there is one. */
#define EFFC_DW_MVE_ROW(L, STORE)                                                             \
    EFFC_DW_MVE_PAIRS(L, STORE)                                                               \
    "ldr    lr, [sp, #16]\n\t"                                                                 \
    "cmp    lr, #0\n\t"                                                                        \
    "beq.w  " L "_done\n\t"                                                                    \
    EFFC_DW_MVE_ODD(STORE)                                                                    \
    L "_done:\n\t"

/* To the next row group: full ones loop to LOOP, 1-3 rows left fall through,
 * none left end. */
#define EFFC_DW_MVE_NEXT(LOOP)                                                                \
    "ldr    lr, [sp, #8]\n\t"                                                                  \
    "add    r12, r12, lr\n\t"                                                                  \
    "ldr    lr, [sp, #12]\n\t"                                                                 \
    "sub    r7, r7, lr\n\t"                                                                    \
    "ldr    lr, [sp, #0]\n\t"                                                                  \
    "subs   lr, lr, #4\n\t"                                                                    \
    "str    lr, [sp, #0]\n\t"                                                                  \
    "beq.w  .Ldw_mve_end\n\t"                                                                  \
    "cmp    lr, #4\n\t"                                                                        \
    "bge.w  " LOOP "\n\t"

/* A band's single last row (4n + 1 rows), cols >= 4: lanes are four output
 * columns, not four rows (three of them idle). q2 the lanes' plane columns
 * (0, 32, 64, 96), q3 their output offsets (0, 1, 2, 3 columns); a tap is
 * one VLDRB.S32 gather from the tap's row and column (lr) and one VMLA.
 * Columns four at a time, the last four overlapping the ones before when
 * cols % 4 != 0 (written twice, the same values). sp + 28: columns left. */
#define EFFC_DW_MVE_GTAP(OFF, W)                                                              \
    "add    lr, r7, #" OFF "\n\t"                                                             \
    "vldrb.s32 q1, [lr, q2]\n\t"                                                              \
    "vmla.s32 q0, q1, " W "\n\t"

#define EFFC_DW_MVE_LAST                                                                      \
    "movs   lr, #0\n\t"                                                                       \
    "vidup.u32 q2, lr, #1\n\t"                                                                \
    "vmul.i32 q3, q2, r0\n\t"                                                                 \
    "vshl.i32 q2, q2, #5\n\t"                                                                 \
    ".Ldw_mve_last_cols:\n\t"                                                                 \
    "vmov   q0, q6\n\t"                                                                       \
    "vldrb.s32 q1, [r7, q2]\n\t"                                                              \
    "vmla.s32 q0, q1, r2\n\t"                                                                 \
    EFFC_DW_MVE_GTAP("32", "r3") EFFC_DW_MVE_GTAP("64", "r4")                                  \
    EFFC_DW_MVE_GTAP("1", "r5") EFFC_DW_MVE_GTAP("33", "r6") EFFC_DW_MVE_GTAP("65", "r11")    \
    EFFC_DW_MVE_GTAP("2", "r8") EFFC_DW_MVE_GTAP("34", "r9") EFFC_DW_MVE_GTAP("66", "r10")    \
    "vqrdmulh.s32 q0, q0, q7\n\t"                                                             \
    EFFC_DW_MVE_TIES("q0", "q1")                                                               \
    "vrshl.s32 q0, r1\n\t"                                                                    \
    "vmax.s32 q0, q0, q4\n\t"                                                                 \
    "vmin.s32 q0, q0, q5\n\t"                                                                 \
    EFFC_DW_MVE_ZP_ON                                                                          \
    "vadd.i32 q0, q0, r1\n\t"                                                                 \
    EFFC_DW_MVE_ZP_OFF                                                                         \
    "vstrb.32 q0, [r12, q3]\n\t"                                                              \
    "ldr    lr, [sp, #28]\n\t"                                                                \
    "subs   lr, lr, #4\n\t"                                                                   \
    "beq.w  .Ldw_mve_end\n\t"                                                                 \
    "cmp    lr, #4\n\t"                                                                       \
    "it     gt\n\t"                                                                           \
    "movgt  lr, #4\n\t"                                                                       \
    "add    r7, r7, lr, lsl #5\n\t"                                                           \
    "mla    r12, lr, r0, r12\n\t"                                                             \
    "ldr    lr, [sp, #28]\n\t"                                                                \
    "subs   lr, lr, #4\n\t"                                                                   \
    "cmp    lr, #4\n\t"                                                                       \
    "it     lt\n\t"                                                                           \
    "movlt  lr, #4\n\t"                                                                       \
    "str    lr, [sp, #28]\n\t"                                                                \
    "b.w    .Ldw_mve_last_cols\n\t"

__attribute__((naked, noinline)) void effc_dw_mve_s1(const effc_dw_mve_job *job EFFC_ARG)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "vpush  {d8-d15}\n\t"
        "sub    sp, sp, #56\n\t"
        "ldr    r1, [r0, #0]\n\t"          /* rows */
        "str    r1, [sp, #40]\n\t"
        "ldr    r1, [r0, #4]\n\t"          /* cols */
        "str    r1, [sp, #44]\n\t"
        "lsr    r2, r1, #1\n\t"
        "str    r2, [sp, #4]\n\t"
        "lsl    r2, r2, #6\n\t"           /* back from the pairs' end to the next group */
        "sub    r2, r2, #4\n\t"
        "str    r2, [sp, #12]\n\t"
        "and    r2, r1, #1\n\t"
        "str    r2, [sp, #16]\n\t"
        "ldr    r1, [r0, #12]\n\t"
        "str    r1, [sp, #8]\n\t"
        "ldr    r1, [r0, #24]\n\t"
        "str    r1, [sp, #20]\n\t"
        "ldr    r1, [r0, #16]\n\t"
        "vdup.32 q4, r1\n\t"
        "ldr    r1, [r0, #20]\n\t"
        "vdup.32 q5, r1\n\t"
        "add    r1, r0, #32\n\t"           /* out_rows */
        "str    r1, [sp, #48]\n\t"
        "add    r1, r0, #48\n\t"           /* the first channel */
        "str    r1, [sp, #32]\n\t"
        "ldr    r2, [r0, #28]\n\t"         /* past the last channel: 24 bytes each */
        "add    r2, r2, r2, lsl #1\n\t"
        "add    r1, r1, r2, lsl #3\n\t"
        "str    r1, [sp, #36]\n\t"
        "ldr    r0, [r0, #8]\n\t"
        ".Ldw_mve_chan:\n\t"               /* a channel: its plane, outputs, taps, constants */
        "ldr    r1, [sp, #32]\n\t"
        "ldr    r7, [r1, #0]\n\t"
        "ldr    r12, [r1, #4]\n\t"
        "ldr    r2, [r1, #12]\n\t"
        "vdup.32 q6, r2\n\t"
        "ldr    r2, [r1, #16]\n\t"
        "vdup.32 q7, r2\n\t"
        "ldr    r2, [r1, #20]\n\t"
        "str    r2, [sp, #24]\n\t"
        "ldr    r2, [sp, #48]\n\t"         /* .Ldw_mve_last takes q3 */
        "vldrw.u32 q3, [r2]\n\t"
        "ldr    lr, [sp, #40]\n\t"
        "str    lr, [sp, #0]\n\t"
        "ldr    lr, [sp, #44]\n\t"
        "str    lr, [sp, #28]\n\t"
        "ldr    r1, [r1, #8]\n\t"          /* the int8 taps w0..w8 */
        "ldrsb  r2, [r1, #0]\n\t"
        "ldrsb  r3, [r1, #1]\n\t"
        "ldrsb  r4, [r1, #2]\n\t"
        "ldrsb  r5, [r1, #3]\n\t"
        "ldrsb  r6, [r1, #4]\n\t"
        "ldrsb  r11, [r1, #5]\n\t"
        "ldrsb  r8, [r1, #6]\n\t"
        "ldrsb  r9, [r1, #7]\n\t"
        "ldrsb  r10, [r1, #8]\n\t"
        "ldr    r1, [sp, #24]\n\t"
        ".Ldw_mve_group:\n\t"
        "ldr    lr, [sp, #0]\n\t"
        "cmp    lr, #4\n\t"
        "blt.w  .Ldw_mve_tail\n\t"
        "ldr    lr, [sp, #16]\n\t"         /* full groups: an odd column or not, once */
        "cmp    lr, #0\n\t"
        "beq.w  .Ldw_mve_even\n\t"
        ".Ldw_mve_odd:\n\t"
        EFFC_DW_MVE_PAIRS(".Ldw_mve_fo", "vstrb")
        EFFC_DW_MVE_ODD("vstrb")
        EFFC_DW_MVE_NEXT(".Ldw_mve_odd")
        "b.w    .Ldw_mve_tail\n\t"
        ".Ldw_mve_even:\n\t"
        EFFC_DW_MVE_PAIRS(".Ldw_mve_fe", "vstrb")
        EFFC_DW_MVE_NEXT(".Ldw_mve_even")
        ".Ldw_mve_tail:\n\t"               /* 1-3 rows left: predicated stores */
        "cmp    lr, #1\n\t"                /* one row, four columns or more: .Ldw_mve_last */
        "bne.w  .Ldw_mve_rows\n\t"
        "ldr    lr, [sp, #28]\n\t"
        "cmp    lr, #4\n\t"
        "bge.w  .Ldw_mve_last\n\t"
        "movs   lr, #1\n\t"
        ".Ldw_mve_rows:\n\t"
        "vctp.32 lr\n\t"
        EFFC_DW_MVE_ROW(".Ldw_mve_t", "vpst\n\tvstrbt")
        "b.w    .Ldw_mve_end\n\t"
        ".Ldw_mve_last:\n\t"
        EFFC_DW_MVE_LAST
        ".Ldw_mve_end:\n\t"                /* the next channel, if any */
        "ldr    r1, [sp, #32]\n\t"
        "add    r1, r1, #24\n\t"
        "str    r1, [sp, #32]\n\t"
        "ldr    r2, [sp, #36]\n\t"
        "cmp    r1, r2\n\t"
        "blo.w  .Ldw_mve_chan\n\t"
        "add    sp, sp, #56\n\t"
        "vpop   {d8-d15}\n\t"
        "pop    {r4-r11, pc}\n\t");
}

#else

typedef int effc_dw_mve_asm_unused; /* ISO C wants a declaration in every file */

#endif
