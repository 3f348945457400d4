/*
 * effc_dw_fill_asm.c - the DSP depthwise body's plane fill in assembly (a naked
 * function, effc_dw_fill2_rows): two input channels' rows into their int16
 * planes, x - zp. The C side is effc_dw_dsp.c; the job and its offsets are in
 * effc_dw_internal.h.
 */
#include "effc_dw_internal.h"

#if defined(EFFC_USE_DSP)

#define EFFC_DW_ARG __attribute__((unused))

/* One pixel pair of the plane fill: two 16-bit loads (channels ic, ic + 1
 * of pixels x, x + 1), ORR makes one word of both, SXTAB16 (x - zp; bytes 0
 * and 2, then 1 and 3) gives one word per plane. */
#define EFFC_DW_FILL_PAIR(A, B)                                                                \
    "ldrh   " A ", [r0]\n\t"                                                                   \
    "ldrh   " B ", [r0, r1]\n\t"                                                               \
    "add    r0, r0, r1, lsl #1\n\t"                                                            \
    "orr    " A ", " A ", " B ", lsl #16\n\t"                                                  \
    "sxtab16 " B ", r5, " A "\n\t"                                                             \
    "sxtab16 " A ", r5, " A ", ror #8\n\t"                                                     \
    "str    " B ", [r2], #4\n\t"                                                               \
    "str    " A ", [r3], #4\n\t"

/* The same, every instruction 32-bit (32 bytes a pair: the short rows' code
 * is entered at a computed address). */
#define EFFC_DW_FILL_PAIR_W                                                                    \
    "ldrh.w r7, [r0]\n\t"                                                                      \
    "ldrh.w r8, [r0, r1]\n\t"                                                                  \
    "add.w  r0, r0, r1, lsl #1\n\t"                                                            \
    "orr.w  r7, r7, r8, lsl #16\n\t"                                                           \
    "sxtab16 r8, r5, r7\n\t"                                                                   \
    "sxtab16 r7, r5, r7, ror #8\n\t"                                                           \
    "str.w  r8, [r2], #4\n\t"                                                                  \
    "str.w  r7, [r3], #4\n\t"

/* The short rows' planes are the narrow walk's, EFFC_DW_NARROW_PW columns:
 * the row below is this many bytes on (an immediate offset: 1 cycle a store on
 * the Cortex-M4, a register offset 2). */
#define EFFC_DW_FILL_NARROW_ROW "16"
typedef char effc_dw_fill_narrow_row_is_16[2 * EFFC_DW_NARROW_PW == 16 ? 1 : -1];

/* The same pixel pair of the row below (row B: source r0 + r9 and r0 + r10,
 * planes r2 and r3 + EFFC_DW_FILL_NARROW_ROW), pointers not stepped; then row
 * A's. Every instruction 32-bit: 60 bytes the two. */
#define EFFC_DW_FILL_PAIR2                                                                     \
    "ldrh.w r7, [r0, r9]\n\t"                                                                  \
    "ldrh.w r8, [r0, r10]\n\t"                                                                 \
    "orr.w  r7, r7, r8, lsl #16\n\t"                                                           \
    "sxtab16 r8, r5, r7\n\t"                                                                   \
    "sxtab16 r7, r5, r7, ror #8\n\t"                                                           \
    "str.w  r8, [r2, #" EFFC_DW_FILL_NARROW_ROW "]\n\t"                                        \
    "str.w  r7, [r3, #" EFFC_DW_FILL_NARROW_ROW "]\n\t"                                        \
    EFFC_DW_FILL_PAIR_W

/* Two short rows' end: the pointers two rows down, the count (r4: rows left -
 * 1, two a pass), and the next pair's entry by a conditional BX (one taken
 * branch for two rows); one row left (r4 = 0): 28:, which makes row B row A. */
#define EFFC_DW_FILL_ROWS_END                                                                  \
    "add    r0, r0, r11\n\t"                                                                   \
    "add    r2, r2, r12\n\t"                                                                   \
    "add    r3, r3, r12\n\t"                                                                   \
    "subs   r4, r4, #2\n\t"                                                                    \
    "it     gt\n\t"                                                                            \
    "bxgt   r6\n\t"                                                                            \
    "beq    28f\n\t"                                                                           \
    "pop    {r4-r11, pc}\n\t"                                                                  \

/* EFFC_DW_SPEED: the short rows' registers into the job (r7), for its next calls (the job's
 * regs, loaded at entry instead of the setup). */
#if EFFC_DW_SPEED
#define EFFC_DW_FILL_KEEP                                                                      \
    "add    r8, r7, #40\n\t"                                                                   \
    "stm    r8, {r1-r6, r9-r12, lr}\n\t"
#else
#define EFFC_DW_FILL_KEEP ""
#endif

/* Two or more rows of at most 8 pixels (KWS: 5) into the narrow walk's planes
 * (16-byte rows), two at a time in straight-line code: a pair of rows enters
 * at its first pixel pair's code in one of two chains, even widths' (22:) or
 * odd ones' (23:, the last pixel after the pairs, its source step in r11), and
 * runs to the rows' end: 6 instructions for two rows besides the pixels' (12 a
 * row in the general loop); an odd last row runs as the pair's row B, its row
 * A the row above filled again (28:). r6: the entry (odd: Thumb); r9/r10 row
 * B's source offsets; r11/r12 the steps two rows down. Other rows take the
 * general loop (1:). */
#define EFFC_DW_FILL_SHORT                                                                     \
    "cmp    lr, #8\n\t"                                                                        \
    "bgt    1f\n\t"                                                                            \
    "add    r8, r12, lr, lsl #1\n\t" /* plane row bytes: the narrow walk's only */             \
    "cmp    r8, #" EFFC_DW_FILL_NARROW_ROW "\n\t"                                              \
    "bne    1f\n\t"                                                                            \
    "cmp    r4, #2\n\t" /* and two rows or more (an odd last row pairs with the one above) */  \
    "blt    1f\n\t"                                                                            \
    "mla    r9, lr, r1, r11\n\t" /* input row bytes */                                         \
    "add    r11, r11, r9\n\t"                                                                  \
    "add    r12, r12, r8\n\t"                                                                  \
    "add    r10, r9, r1\n\t"                                                                   \
    "tst    lr, #1\n\t"                                                                        \
    "adr.w  r8, 21f\n\t"                                                                       \
    "itt    ne\n\t"                                                                            \
    "adrne.w r8, 24f\n\t"                                                                      \
    "addne  r11, r11, r1\n\t" /* the odd pixel does not step the source */                     \
    "sub    r8, r8, r6, lsl #6\n\t"                                                            \
    "add    r8, r8, r6, lsl #2\n\t"                                                            \
    "orr    r6, r8, #1\n\t"                                                                    \
    EFFC_DW_FILL_KEEP                                                                          \
    "27:\n\t"                                                                                  \
    "subs   r4, r4, #1\n\t"                                                                    \
    "beq    28f\n\t"                                                                           \
    "bx     r6\n\t" /* the first rows' entry (the others: EFFC_DW_FILL_ROWS_END) */            \
    "22:\n\t"                                                                                  \
    EFFC_DW_FILL_PAIR2 EFFC_DW_FILL_PAIR2 EFFC_DW_FILL_PAIR2 EFFC_DW_FILL_PAIR2                \
    "21:\n\t"                                                                                  \
    EFFC_DW_FILL_ROWS_END                                                                      \
    "23:\n\t"                                                                                  \
    EFFC_DW_FILL_PAIR2 EFFC_DW_FILL_PAIR2 EFFC_DW_FILL_PAIR2 EFFC_DW_FILL_PAIR2                \
    "24:\n\t" /* the odd pixel (the rows' last) */                                             \
    ".if (21b - 22b) - 240 || (24b - 23b) - 240\n\t"                                           \
    ".error \"effc_dw_fill2_rows: two rows' pixel pair is not 60 bytes\"\n\t"                  \
    ".endif\n\t"                                                                               \
    "ldrh.w r7, [r0, r9]\n\t"                                                                  \
    "sxtab16 r8, r5, r7\n\t"                                                                   \
    "sxtab16 r7, r5, r7, ror #8\n\t"                                                           \
    "strh.w r8, [r2, #" EFFC_DW_FILL_NARROW_ROW "]\n\t"                                        \
    "strh.w r7, [r3, #" EFFC_DW_FILL_NARROW_ROW "]\n\t"                                        \
    "ldrh   r7, [r0]\n\t"                                                                      \
    "sxtab16 r8, r5, r7\n\t"                                                                   \
    "sxtab16 r7, r5, r7, ror #8\n\t"                                                           \
    "strh   r8, [r2], #2\n\t"                                                                  \
    "strh   r7, [r3], #2\n\t"                                                                  \
    EFFC_DW_FILL_ROWS_END                                                                      \
    "28:\n\t" /* one row left: the pair ends there, its row A the one above (filled again) */ \
    "sub    r0, r0, r9\n\t"                                                                    \
    "sub    r2, r2, #" EFFC_DW_FILL_NARROW_ROW "\n\t"                                          \
    "sub    r3, r3, #" EFFC_DW_FILL_NARROW_ROW "\n\t"                                          \
    "mov    r4, #1\n\t"                                                                        \
    "bx     r6\n\t"

/* The plane fill of two channels: 8 instructions per pixel pair (four pairs a
 * loop step, 8.5 with the count) and about 12 a row; r0 source, r1 pixel bytes, r2/r3 planes 0/1, r4
 * rows left, r5 -zp in both halves, r6 steps, r11/r12 the source/plane bytes
 * from a row's last pixel to the next row's first, lr pixels a row. */
__attribute__((naked, noinline, aligned(4))) void effc_dw_fill2_rows(EFFC_DW_ARG effc_dw_fill_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
#if EFFC_DW_SPEED
        "ldr    r1, [r0, #60]\n\t" /* the cached entry: this job's short rows ran before */
        "cbz    r1, 25f\n\t"
        "add    r12, r0, #40\n\t"
        "ldr    r0, [r0]\n\t"
        "ldm    r12, {r1-r6, r9-r12, lr}\n\t"
        "b      27f\n\t"
        "25:\n\t"
        "mov    r7, r0\n\t"
#endif
        "ldr    r1, [r0, #20]\n\t"
        "ldr    r5, [r0, #36]\n\t"
        "ldr    r4, [r0, #8]\n\t"
        "ldrd   r6, lr, [r0, #12]\n\t" /* pairs, odd */
        "add    lr, lr, r6, lsl #1\n\t"
        "ldrd   r11, r12, [r0, #24]\n\t" /* source and plane row bytes */
        "mls    r11, lr, r1, r11\n\t"
        "sub    r12, r12, lr, lsl #1\n\t"
        "ldr    r3, [r0, #32]\n\t"
        "ldrd   r0, r2, [r0]\n\t"
        "add    r3, r2, r3\n\t"
#if !defined(__OPTIMIZE_SIZE__)
        EFFC_DW_FILL_SHORT
#endif
        "1:\n\t"
        "lsrs   r6, lr, #2\n\t" /* C: one pair (bit 1 of the pixels) */
        "bcc    5f\n\t"
        EFFC_DW_FILL_PAIR("r7", "r8")
        "5:\n\t"
        "lsrs   r6, r6, #1\n\t" /* C: two pairs (bit 2); r6 steps of four pairs */
        "bcc    6f\n\t"
        EFFC_DW_FILL_PAIR("r7", "r8")
        EFFC_DW_FILL_PAIR("r9", "r10")
        "6:\n\t"
        "cbz    r6, 3f\n\t"
        "2:\n\t"
        EFFC_DW_FILL_PAIR("r7", "r8")
        EFFC_DW_FILL_PAIR("r9", "r10")
        EFFC_DW_FILL_PAIR("r7", "r8")
        EFFC_DW_FILL_PAIR("r9", "r10")
        "subs   r6, r6, #1\n\t"
        "bne    2b\n\t"
        "3:\n\t"
        "tst    lr, #1\n\t"
        "beq    4f\n\t"
        "ldrh   r7, [r0]\n\t"
        "add    r0, r0, r1\n\t"
        "sxtab16 r8, r5, r7\n\t"
        "sxtab16 r7, r5, r7, ror #8\n\t"
        "strh   r8, [r2], #2\n\t"
        "strh   r7, [r3], #2\n\t"
        "4:\n\t"
        "add    r0, r0, r11\n\t"
        "add    r2, r2, r12\n\t"
        "add    r3, r3, r12\n\t"
        "subs   r4, r4, #1\n\t"
        "bne    1b\n\t"
        "pop    {r4-r11, pc}\n\t");
}

#else

typedef int effc_dw_fill_asm_unused; /* ISO C wants a declaration in every file */

#endif
