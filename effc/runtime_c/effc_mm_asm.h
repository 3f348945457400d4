/*
 * effc_mm_asm.h - the assembly macros the matrix kernel's loops share
 * (effc_mm_s8_asm.c, effc_mm_column_asm.c): requantization of a doubled
 * accumulator, clamping, a wide layout's record.
 */
#ifndef EFFC_MM_ASM_H
#define EFFC_MM_ASM_H

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
