/*
 * effc_dw_asm.h - what the depthwise walks (effc_dw_dsp_asm.c) share: their stack
 * frame's size, their rows' sizes, the requantization and stores of an output,
 * a job's setup, the moves to the next column and the next job. The registers and
 * the frame's words are listed in effc_dw_dsp_asm.c.
 */
#ifndef EFFC_DW_ASM_H
#define EFFC_DW_ASM_H

#include "effc_dw_internal.h"
#include "effc_mm_asm.h"

#define EFFC_DW_ARG __attribute__((unused))

/* The walks' stack frame (below): EFFC_DW_SPEED's narrow walk has a second set of
 * stride-1 words. */
#if EFFC_DW_SPEED
#define EFFC_DW_FRAME_BYTES "72"
#else
#define EFFC_DW_FRAME_BYTES "48"
#endif

/* EFFC_DW_RELU (effc_dw_internal.h): the walks requantize without the SUB
 * (EFFC_RQ_DW, effc_mm_asm.h), so every row of their code is 4 bytes shorter
 * (EFFC_DW_ROW_BYTES: the computed entries' row sizes); with EFFC_DW_RQ_SHIFT also
 * without the ASR, 8 bytes. */
#if EFFC_DW_RQ_SHIFT
#define EFFC_DW_ROW_BYTES(B) "(" B " - 8)"
#elif EFFC_DW_RELU
#define EFFC_DW_ROW_BYTES(B) "(" B " - 4)"
#else
#define EFFC_DW_ROW_BYTES(B) B
#endif
/* The stride-1 walks' row sizes: effc_dw_walk_s1's rows; the narrow walk's even and
 * odd rows with EFFC_DW_SPEED (one LDRD a row), and without it (two LDRs). */
#define EFFC_DW_S1_ROW EFFC_DW_ROW_BYTES("64")
#define EFFC_DW_NARROW_EVEN_ROW EFFC_DW_ROW_BYTES("52")
#define EFFC_DW_NARROW_ODD_ROW EFFC_DW_ROW_BYTES("56")
#define EFFC_DW_COMPACT_EVEN_ROW EFFC_DW_ROW_BYTES("56")
#define EFFC_DW_COMPACT_ODD_ROW EFFC_DW_ROW_BYTES("60")

/* ACC (doubled accumulator) to int8 with multiplier M and round R (R also the
 * temporary): effc_rq_fast (EFFC_RQ_DW, s - 1 in r9's low byte), or with
 * EFFC_DW_RQ_SHIFT its one-shift form (effc_dw_internal.h; R the scaled round R'). */
#if EFFC_DW_RQ_SHIFT
#define EFFC_DW_RQ_MR(ACC, M, R) EFFC_RQ_ONE_SHIFT(ACC, M, R, EFFC_ASM_STR(EFFC_DW_RQ_SHIFT))
#else
#define EFFC_DW_RQ_MR(ACC, M, R) EFFC_RQ_DW(ACC, M, R, "r9", R)
#endif

/* Requantize ACC: the multiplier and round from the frame (r12, lr). */
#define EFFC_DW_RQ(ACC)                                                                        \
    "ldrd   r12, lr, [sp]\n\t"                                                                 \
    EFFC_DW_RQ_MR(ACC, "r12", "lr")

/* Requantize ACC and store it; the output pointer moves down a row (the
 * output row bytes: r1's low half). */
#define EFFC_DW_STORE(ACC)                                                                     \
    EFFC_DW_RQ(ACC)                                                                            \
    "strb   " ACC ", [r11]\n\t"                                                                \
    "uxtah  r11, r11, r1\n\t"

/* The narrow walk's stores, r1 the output row bytes alone: an output at an
 * even row of the loop's code goes to r11, the next (odd) one to r11 + r1,
 * and then r11 moves down two rows: one pointer step per two outputs. The
 * job's out and next_out take the parity in (effc_dw_walk_counts): a column
 * entered at an odd row starts one output row up, and one ending in a tail of
 * one output ends at that output's row. */
#if EFFC_DW_OUT_STRIDE
/* EFFC_DW_OUT_STRIDE (effc_dw_internal.h): the output row bytes are an immediate, and r1
 * holds the channel's multiplier for the whole job (EFFC_DW_NARROW_R1, EFFC_DW_NARROW_M):
 * an output reloads the round alone (LDR, 2 cycles, instead of LDRD's 3). Every
 * instruction keeps its 32-bit size, so the rows do too. */
#define EFFC_DW_NARROW_RQ(ACC)                                                                 \
    "ldr.w  lr, [sp, #4]\n\t"                                                                  \
    EFFC_DW_RQ_MR(ACC, "r1", "lr")
#define EFFC_DW_STORE_EVEN(ACC)                                                                \
    EFFC_DW_NARROW_RQ(ACC)                                                                     \
    "strb.w " ACC ", [r11]\n\t"
#define EFFC_DW_STORE_ODD(ACC)                                                                 \
    EFFC_DW_NARROW_RQ(ACC)                                                                     \
    "strb.w " ACC ", [r11, #" EFFC_ASM_STR(EFFC_DW_OUT_STRIDE) "]\n\t"                         \
    "addw   r11, r11, #(2 * " EFFC_ASM_STR(EFFC_DW_OUT_STRIDE) ")\n\t"
/* The narrow walks' r1 from the job's word at EFFC_DW_NARROW_R1 (its multiplier), and
 * the register a next job's multiplier comes in (EFFC_DW_NEXT_JOB_M). */
#define EFFC_DW_NARROW_R1 "48"
#define EFFC_DW_NARROW_M "r1"
#else
#define EFFC_DW_STORE_EVEN(ACC)                                                                \
    EFFC_DW_RQ(ACC)                                                                            \
    "strb.w " ACC ", [r11]\n\t"

#define EFFC_DW_STORE_ODD(ACC)                                                                 \
    EFFC_DW_RQ(ACC)                                                                            \
    "strb.w " ACC ", [r11, r1]\n\t"                                                            \
    "add.w  r11, r11, r1, lsl #1\n\t"
#define EFFC_DW_NARROW_R1 "8"
#define EFFC_DW_NARROW_M "r12"
#endif

/* The setup of both walks: the stack frame (the walk's own words: EXTRA, with
 * r0 the job and r1-r4, r12, lr free), the strides, the weights, the doubled
 * bias and the first column's plane and output pointers (the first column
 * starts at label 7). */
#define EFFC_DW_PROLOGUE_R1(EXTRA, R1)                                                         \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "sub    sp, sp, #" EFFC_DW_FRAME_BYTES "\n\t"                                              \
    "str    r0, [sp, #8]\n\t"                                                                  \
    "ldrd   r12, lr, [r0, #48]\n\t"                                                            \
    "strd   r12, lr, [sp]\n\t"                                                                 \
    "ldrd   r12, lr, [r0, #64]\n\t"                                                            \
    "strd   r12, lr, [sp, #16]\n\t"                                                            \
    EXTRA                                                                                      \
    "ldr    r1, [r0, #" R1 "]\n\t"                                                             \
    "add    r12, r0, #24\n\t"                                                                  \
    "ldm    r12, {r5-r10}\n\t"                                                                 \
    "ldr    r11, [r0, #4]\n\t"                                                                 \
    "ldr    r0, [r0]\n\t"

#define EFFC_DW_PROLOGUE(EXTRA) EFFC_DW_PROLOGUE_R1(EXTRA, "8")

/* The next column (label 1) moves both pointers by the deltas; a column's
 * code starts at label 7. */
#define EFFC_DW_NEXT_COLUMN                                                                    \
    "1:\n\t"                                                                                   \
    "ldrd   r12, lr, [sp, #16]\n\t"                                                            \
    "add    r0, r0, r12\n\t"                                                                   \
    "add    r11, r11, lr\n\t"                                                                  \
    "7:\n\t"

#define EFFC_DW_SETUP(EXTRA) EFFC_DW_PROLOGUE(EXTRA) "b      7f\n\t" EFFC_DW_NEXT_COLUMN

/* A column's end (label 3): the columns left (r9's byte 1, counted down). */
#define EFFC_DW_COLUMN_END                                                                     \
    "3:\n\t"                                                                                   \
    "sub    r9, r9, #256\n\t"                                                                  \
    "tst    r9, #0xFF00\n\t"

/* After a job's last column: the next job's (same geometry and rows: the
 * frame's counts and entries stay) from its first column (ENTER: the branch
 * to its code), or the return; its multiplier and round into the frame by way
 * of M and lr (M: r12, or the narrow walks' r1 with EFFC_DW_OUT_STRIDE). */
#define EFFC_DW_NEXT_JOB_M(ENTER, M)                                                           \
    "ldr    r12, [sp, #8]\n\t"                                                                 \
    "ldr    r0, [r12, #72]\n\t"                                                                \
    "cbz    r0, 13f\n\t"                                                                       \
    "str    r0, [sp, #8]\n\t"                                                                  \
    "ldrd   " M ", lr, [r0, #48]\n\t"                                                        \
    "strd   " M ", lr, [sp]\n\t"                                                             \
    "add    r12, r0, #24\n\t"                                                                  \
    "ldm    r12, {r5-r10}\n\t"                                                                 \
    "ldr    r11, [r0, #4]\n\t"                                                                 \
    "ldr    r0, [r0]\n\t"                                                                      \
    ENTER                                                                                      \
    "13:\n\t"                                                                                  \
    "add    sp, sp, #" EFFC_DW_FRAME_BYTES "\n\t"                                              \
    "pop    {r4-r11, pc}\n\t"

#define EFFC_DW_NEXT_JOB(ENTER) EFFC_DW_NEXT_JOB_M(ENTER, "r12")

#define EFFC_DW_END EFFC_DW_COLUMN_END "bne    1b\n\t" EFFC_DW_NEXT_JOB("b      7b\n\t")

#endif /* EFFC_DW_ASM_H */
