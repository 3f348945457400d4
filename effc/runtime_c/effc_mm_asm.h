/*
 * effc_mm_asm.h - the assembly macros the matrix kernel's loops share
 * (effc_mm_s8_asm.c, effc_mm_column_asm.c): requantization of a doubled
 * accumulator, clamping, a wide layout's record; and the two-channel loop's
 * build options, which its dispatch (effc_mm_dsp.c) tests too.
 */
#ifndef EFFC_MM_ASM_H
#define EFFC_MM_ASM_H

#include <stdint.h>

/* effc_mm_2x4_wide*: groups per loop test, EFFC_MM_2X4_UNROLL, 8 or 16
 * (effc/codegen/c/kernel_set.py passes 16 to speed builds); EFFC_MM_2X4_ONE_PASS=1
 * (every WIDE2 layer of the model has at most UNROLL + 1 groups) leaves the
 * test out, and the dispatch sends a longer k to the C path (effc_mm_2x4_fits);
 * EFFC_MM_2X4_QUADS=1 (speed builds): effc_mm_run_quads hands the loop all its
 * quads at once and the loop widens each (14 instructions a group of four
 * columns); 0 keeps that code out (flash budgets, the exported library). */
#ifndef EFFC_MM_2X4_UNROLL
#define EFFC_MM_2X4_UNROLL 8
#endif
#ifndef EFFC_MM_2X4_ONE_PASS
#define EFFC_MM_2X4_ONE_PASS 0
#endif
#ifndef EFFC_MM_2X4_QUADS
#define EFFC_MM_2X4_QUADS 0
#endif

/* The two-channel loop runs `groups` widened groups (effc_mm_groups). */
static inline int effc_mm_2x4_fits(int32_t groups)
{
    return !EFFC_MM_2X4_ONE_PASS || groups - 1 <= EFFC_MM_2X4_UNROLL;
}

/* Parameters of naked functions are only read by the assembly. */
#define EFFC_ARG __attribute__((unused))

/* acc (doubled) -> int8 in place: M multiplier, R round, S shift word (its
 * low byte is s - 1), T a temporary. */
#define EFFC_RQ(A, M, R, S, T)                                                                \
    "sub    " T ", " R ", " A ", lsr #31\n\t"                                                  \
    "smmlar " A ", " A ", " M ", " T "\n\t"                                                    \
    "asr    " A ", " A ", " S "\n\t"                                                           \
    "ssat   " A ", #8, " A ", asr #1\n\t"

/* A = min(max(A, LO), HI) */
#define EFFC_CLAMP(A, LO, HI)                                                                 \
    "cmp    " A ", " LO "\n\t"                                                                 \
    "it     lt\n\t"                                                                            \
    "movlt  " A ", " LO "\n\t"                                                                 \
    "cmp    " A ", " HI "\n\t"                                                                 \
    "it     gt\n\t"                                                                            \
    "movgt  " A ", " HI "\n\t"

/* One requantization record of a wide layout from the weight stream lr
 * (advanced): multiplier, round, shift word into REGS (three ascending). */
#define EFFC_WIDE_RECORD(REGS) "ldm    lr!, {" REGS "}\n\t"

#endif
