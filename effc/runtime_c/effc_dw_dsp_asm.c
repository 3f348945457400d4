/*
 * effc_dw_dsp_asm.c - the depthwise 3x3 column walks of the DSP body, in
 * assembly (naked functions; the plane fill is effc_dw_fill_asm.c). The C side
 * is effc_dw_dsp.c; the job and its offsets are in effc_dw_internal.h.
 *
 * Registers during a walk: r0 the plane (advanced a row at a time), r1 the
 * packed strides (plane row bytes << 16 | output row bytes; the narrow walks'
 * output row bytes alone, or with EFFC_DW_OUT_STRIDE the multiplier), r2-r4 the
 * accumulators (rotating roles; r4 counts the steps at stride 2), r5-r7 taps
 * (0, 1) of kernel rows 0-2, r8 tap 2 of rows 0 and 1, r9 tap 2 of row 2
 * (high half), s - 1 (low byte, what ASR reads; unused with EFFC_DW_RQ_SHIFT)
 * and the columns left (byte 1, counted down), r10 2 * bias, r11 the
 * output pointer, r12/lr loaded plane words and the requantization
 * temporaries. A column runs `groups` steps (3 outputs at stride 1, 2 at
 * stride 2) in a counted loop (stride 1: passes of EFFC_DW_TRIPLES steps, the
 * first one entered part way), then `tail` single outputs;
 * the plane and output pointers then move to the next column by the job's
 * constant deltas. The stack frame (EFFC_DW_SETUP) holds:
 *   [sp]      the multiplier and round (one LDRD per output; with EFFC_DW_OUT_STRIDE
 *             the narrow walks read the round alone, the multiplier is in r1)
 *   [sp, 8]   the job being walked (its next one follows, EFFC_DW_END)
 *   [sp, 12]  the passes left (stride 1) or steps left
 *   [sp, 16]  next_plane, next_out (one LDRD per column)
 *   [sp, 24]  tail (stride 2); the tail's code address (stride 1)
 *   [sp, 28]  groups (stride 2); passes - 1 (stride 1)
 *   [sp, 32]  where a column's loop starts (stride 1 at -O2, code address)
 *   [sp, 36]  where a pass ends (stride 1 at -O2: the pass count, or the tail)
 *   [sp, 40]  the first pass's entry, or the tail's (stride 1)
 *   [sp, 44]  a column's code: its top or the padded top's copy (stride 1 at -O2)
 *   [sp, 48]  the narrow walk's: the six words again for its odd columns' copy
 *             of the column code (EFFC_DW_NARROW_ODD_FRAME)
 * Stride 1's six words at [sp, 24] are the job's frame[] (EFFC_DW_S1_FRAME):
 * at -O2 the first call with a band's counts works them out and leaves them
 * in the job, the other channels' calls copy them.
 */
#include "effc_dw_internal.h"

#if defined(EFFC_USE_DSP)

#include "effc_dw_asm.h"

/* Stride 1: plane row r is kernel row 0 of output r (NEW), row 1 of output
 * r - 1 (MID) and row 2 of output r - 2 (OLD), which then completes: the
 * row's two words (r12: tap 2, lr: taps 0-1; LOAD, which steps r0 down a
 * row), its six MACs (H: r12's half for the three single taps, "b" or "t"),
 * and OLD's store (STORE). 16 instructions per output, every one 32-bit (64
 * bytes a row: the first pass is entered at a computed address). */
#define EFFC_DW_MACS_H(H, NEW, MID, OLD)                                                       \
    "smlad  " NEW ", lr, r5, r10\n\t"                                                          \
    "smlad  " MID ", lr, r6, " MID "\n\t"                                                      \
    "smlad  " OLD ", lr, r7, " OLD "\n\t"                                                      \
    "smla" H "b " NEW ", r12, r8, " NEW "\n\t"                                                 \
    "smla" H "t " MID ", r12, r8, " MID "\n\t"                                                 \
    "smla" H "t " OLD ", r12, r9, " OLD "\n\t"

#define EFFC_DW_WORDS                                                                          \
    "ldr.w  r12, [r0, #4]\n\t"                                                                 \
    "ldr.w  lr, [r0]\n\t"

/* The plane row step: r1's high half. */
#define EFFC_DW_DOWN "add.w  r0, r0, r1, lsr #16\n\t"

#define EFFC_DW_LOAD EFFC_DW_WORDS EFFC_DW_DOWN

/* Over planes EFFC_DW_NARROW_PW columns wide (16-byte rows, 4-byte aligned) a
 * row's two words are one LDRD of an aligned pair of columns, whose post-index
 * is the row step: the even output columns' (effc_dw_walk_s1_narrow: lr taps
 * 0-1, r12's low half tap 2, as above) or the odd ones' (effc_dw_walk_s1_narrow_odd,
 * its plane pointer a column left: r12's high half is tap 0 and lr taps 1-2;
 * the job's taps are (1, 2) of each kernel row and tap 0 in r8 / r9's high half).
 * With EFFC_DW_STORE_EVEN / _ODD, 13.5 instructions per output (52 and 56
 * bytes a row; 12.5 and 4 bytes less with EFFC_DW_RELU, 11.5 and 8 bytes less with
 * EFFC_DW_RQ_SHIFT too). */
#define EFFC_DW_LOAD_EVEN "ldrd   lr, r12, [r0], #16\n\t"
#define EFFC_DW_LOAD_ODD "ldrd   r12, lr, [r0], #16\n\t"

/* Without EFFC_DW_SPEED every output column, a row two LDRs (the second's
 * post-index the row step): 14.5 instructions per output (56 and 60 bytes a row). */
#define EFFC_DW_LOAD_NARROW                                                                    \
    "ldr.w  r12, [r0, #4]\n\t"                                                                 \
    "ldr.w  lr, [r0], #16\n\t"

/* Steps of three rows a pass of the stride-1 loop (a power of two): a column
 * of q steps makes ceil(q / EFFC_DW_TRIPLES) passes (4 instructions each),
 * the first entered (-q) mod EFFC_DW_TRIPLES steps in. Size builds (-Os)
 * keep the loop short. */
#if defined(__OPTIMIZE_SIZE__)
#define EFFC_DW_TRIPLES 2
#define EFFC_DW_TRIPLES_LOG2 1
#else
#define EFFC_DW_TRIPLES 8
#define EFFC_DW_TRIPLES_LOG2 3
#endif

/* The passes (- 1) and the code addresses (odd: Thumb) of a column's loop,
 * into the frame (r0 the job; r1-r4, r12 and lr free): its first pass's
 * entry ((-q) mod EFFC_DW_TRIPLES steps in), the tail's (also the entry of a
 * column of fewer than three outputs; at -O2 a tail of one over a padding
 * row, job->last_pad, enters at its row step), and at -O2 where a
 * column starts and a pass ends. EVEN_BYTES, ODD_BYTES: the size of the code
 * of an even and an odd row of a pass; D the direction of the walk's labels
 * ("f": this code is before them, "b": after). */
#define EFFC_DW_S1_ENTRIES(EVEN_BYTES, ODD_BYTES, D)                                           \
    "ldrd   r2, r1, [r0, #56]\n\t" /* groups, tail */                                          \
    "rsb    lr, r2, #0\n\t"                                                                    \
    "and    lr, lr, #" EFFC_ASM_STR(EFFC_DW_TRIPLES) " - 1\n\t"                                 \
    "add    lr, lr, lr, lsl #1\n\t"                                                            \
    "adr.w  r12, 8" D "\n\t"                                                                   \
    ".if " EVEN_BYTES " - " ODD_BYTES "\n\t" /* rows of two sizes, even ones first */          \
    "lsr    r3, lr, #1\n\t"                                                                    \
    "and    lr, lr, #1\n\t"                                                                    \
    "mov    r4, #" EVEN_BYTES "\n\t"                                                           \
    "mla    r12, lr, r4, r12\n\t"                                                              \
    "mov    r4, #" EVEN_BYTES " + " ODD_BYTES "\n\t"                                           \
    "mla    r12, r3, r4, r12\n\t"                                                              \
    ".else\n\t"                                                                                \
    "mov    r4, #" EVEN_BYTES "\n\t"                                                           \
    "mla    r12, lr, r4, r12\n\t"                                                              \
    ".endif\n\t"                                                                               \
    "orr    r12, r12, #1\n\t"                                                                  \
    "adr.w  r4, 3" D "\n\t"                                                                    \
    "cmp    r1, #1\n\t"                                                                        \
    "blt    10f\n\t"                                                                           \
    "adr.w  r4, 11" D "\n\t"                                                                   \
    EFFC_DW_S1_TAIL1(D)                                                                        \
    "adr.w  r4, 12" D "\n\t"                                                                   \
    "10:\n\t"                                                                                  \
    EFFC_DW_S1_FIRST_PAD(D)                                                                    \
    "orr    r4, r4, #1\n\t"                                                                    \
    "str    r4, [sp, #24]\n\t"                                                                 \
    "add    r3, r2, #" EFFC_ASM_STR(EFFC_DW_TRIPLES) " - 1\n\t"                                 \
    "lsr    r3, r3, #" EFFC_ASM_STR(EFFC_DW_TRIPLES_LOG2) "\n\t"                                \
    "subs   r3, r3, #1\n\t"                                                                    \
    "str    r3, [sp, #28]\n\t"                                                                 \
    "it     lt\n\t" /* no pass: the tail alone */                                              \
    "movlt  r12, r4\n\t"                                                                       \
    "str    r12, [sp, #40]\n\t"                                                                \
    EFFC_DW_S1_ONE_PASS_ENTRIES(D)

/* -O2: a column of one pass (KWS's) runs entry -> tail with no count; the
 * column start and the pass end are code addresses in the frame (one more
 * LDR PC a pass when there are several). -Os: every column starts at the
 * count (14:) and its passes end there (9:), as short as before, and a tail
 * of one runs its row's loads and MACs even over a padding row.
 * EFFC_DW_S1_FRAME: the frame's six stride-1 words, copied from the job when
 * they are there (frame[4], the entry, is never 0 once set), else worked out
 * out of line (EFFC_DW_S1_FRAME_NEW, after the walk) and left in the job. */
#if defined(__OPTIMIZE_SIZE__)
#define EFFC_DW_S1_TAIL1(D) "beq    10f\n\t"
#define EFFC_DW_S1_FIRST_PAD(D) ""
#define EFFC_DW_S1_ENTER_FIRST "b      7f\n\t"
#define EFFC_DW_S1_ENTER_NEXT "b      7b\n\t"
#define EFFC_DW_S1_PADDED_TOP(LOAD, H, SE, F) ""
#define EFFC_DW_S1_ONE_PASS_ENTRIES(D) ""
#define EFFC_DW_S1_START(F) ""
#define EFFC_DW_S1_PASS_END(F) ""
#define EFFC_DW_S1_FRAME(EB, OB, ODD) EFFC_DW_S1_ENTRIES(EB, OB, "f")
#define EFFC_DW_S1_FRAME_NEW(EB, OB) ""
#else
#define EFFC_DW_S1_TAIL1(D)                                                                    \
    "bgt    20f\n\t"                                                                           \
    "ldr    r3, [r0, #80]\n\t" /* last_pad: the tail's row is padding */                       \
    "cbz    r3, 10f\n\t"                                                                       \
    "adr.w  r4, 29" D "\n\t"                                                                   \
    "b      10f\n\t"                                                                           \
    "20:\n\t"
#define EFFC_DW_S1_ONE_PASS_ENTRIES(D)                                                         \
    "blt    16f\n\t"                                                                           \
    "bgt    15f\n\t"                                                                           \
    "str    r12, [sp, #32]\n\t" /* one pass */                                                 \
    "str    r4, [sp, #36]\n\t"                                                                 \
    "b      17f\n\t"                                                                           \
    "15:\n\t" /* several */                                                                    \
    "adr.w  lr, 14" D "\n\t"                                                                   \
    "orr    lr, lr, #1\n\t"                                                                    \
    "str    lr, [sp, #32]\n\t"                                                                 \
    "adr.w  lr, 9" D "\n\t"                                                                    \
    "orr    lr, lr, #1\n\t"                                                                    \
    "str    lr, [sp, #36]\n\t"                                                                 \
    "b      17f\n\t"                                                                           \
    "16:\n\t" /* none */                                                                       \
    "str    r4, [sp, #32]\n\t"                                                                 \
    "17:\n\t"
/* A column's code address (the frame's [sp, 44], odd: Thumb): its top (7:), or
 * with job->first_pad (the band's first plane row is padding, and the column
 * starts a row down) the padded top's copy (41: on, EFFC_DW_S1_PADDED_TOP),
 * whose tails and column end are as far from their originals (11:, 29:, 3:) as
 * that. Its first column and the next job's are entered there. */
#define EFFC_DW_S1_FIRST_PAD(D)                                                                \
    "adr.w  lr, 7" D "\n\t"                                                                     \
    "ldr    r3, [r0, #108]\n\t"                                                                \
    "cbz    r3, 19f\n\t"                                                                       \
    "addw   r4, r4, #(41" D " - 11" D ")\n\t"                                                   \
    "addw   lr, lr, #(41" D " - 11" D ")\n\t"                                                   \
    "19:\n\t"                                                                                  \
    "orr    lr, lr, #1\n\t"                                                                    \
    "str    lr, [sp, #44]\n\t"
#define EFFC_DW_S1_ENTER_FIRST "ldr    pc, [sp, #44]\n\t"
#define EFFC_DW_S1_ENTER_NEXT "ldr    pc, [sp, #44]\n\t"
/* The copy of a column's tail of one (41:, 42: over a padding row), its end
 * (43:) and the next column's top, which over a padding first plane row is
 * its second row alone (47:; the column starts there); a tail of two has no
 * copy (effc_dw_walk_counts: no first_pad then). After the walk's 7:, before its 30:. */
#define EFFC_DW_S1_PADDED_TOP(LOAD, H, SE, F)                                                  \
    "41:\n\t"                                                                                  \
    LOAD                                                                                       \
    EFFC_DW_MACS_H(H, "r4", "r3", "r2")                                                        \
    "42:\n\t"                                                                                  \
    SE("r2")                                                                                   \
    "43:\n\t"                                                                                  \
    "sub    r9, r9, #256\n\t"                                                                  \
    "tst    r9, #0xFF00\n\t"                                                                   \
    "beq.w  30f\n\t"                                                                           \
    "ldrd   r12, lr, [sp, #16]\n\t"                                                            \
    "add    r0, r0, r12\n\t"                                                                   \
    "add    r11, r11, lr\n\t"                                                                  \
    "47:\n\t"                                                                                  \
    LOAD /* plane row 1: kernel row 0 of output 1, row 1 of output 0 */                        \
    "smlad  r3, lr, r5, r10\n\t"                                                               \
    "smlad  r2, lr, r6, r10\n\t"                                                               \
    "smla" H "b r3, r12, r8, r3\n\t"                                                           \
    "smla" H "t r2, r12, r8, r2\n\t"                                                           \
    EFFC_DW_S1_START(F)                                                                        \
    ".if (47b - 41b) - (7b - 11b) || (42b - 41b) - (29b - 11b) || (43b - 41b) - (3b - 11b)\n\t" \
    ".error \"effc_dw_walk_s1: the padded top's copy is not the original's size\"\n\t"         \
    ".endif\n\t"
/* F: where the walk's frame words start past [sp, 24] ("0"; the narrow walk's odd
 * columns "24", EFFC_DW_NARROW_ODD_FRAME). */
#define EFFC_DW_S1_START(F) "ldr    pc, [sp, #(32 + " F ")]\n\t"
#define EFFC_DW_S1_PASS_END(F) "ldr    pc, [sp, #(36 + " F ")]\n\t"
/* ODD: what follows the frame's words in r1-r4, r12, lr (the narrow walk's odd copy of
 * them). */
#define EFFC_DW_S1_FRAME(EB, OB, ODD)                                                          \
    "add    r5, r0, #84\n\t"                                                                   \
    "ldm    r5, {r1-r4, r12, lr}\n\t"                                                          \
    "cmp    r12, #0\n\t"                                                                       \
    "beq.w  25f\n\t"                                                                           \
    "add    r5, sp, #24\n\t"                                                                   \
    "stm    r5, {r1-r4, r12, lr}\n\t"                                                          \
    "26:\n\t"                                                                                  \
    ODD
#define EFFC_DW_S1_FRAME_NEW(EB, OB)                                                           \
    "25:\n\t"                                                                                  \
    EFFC_DW_S1_ENTRIES(EB, OB, "b")                                                            \
    "add    r5, sp, #24\n\t"                                                                   \
    "ldm    r5, {r1-r4, r12, lr}\n\t"                                                          \
    "add    r5, r0, #84\n\t"                                                                   \
    "stm    r5, {r1-r4, r12, lr}\n\t"                                                          \
    "b      26b\n\t"
#endif

/* A column's first two plane rows (LOAD: the walk's row loads). */
#define EFFC_DW_S1_TOP(LOAD, H)                                                                \
    LOAD /* plane row 0: kernel row 0 of output 0 */                                           \
    "smlad  r2, lr, r5, r10\n\t"                                                               \
    "smla" H "b r2, r12, r8, r2\n\t"                                                           \
    LOAD /* plane row 1: kernel row 0 of output 1, row 1 of output 0 */                        \
    "smlad  r3, lr, r5, r10\n\t"                                                               \
    "smlad  r2, lr, r6, r2\n\t"                                                                \
    "smla" H "b r3, r12, r8, r3\n\t"                                                           \
    "smla" H "t r2, r12, r8, r2\n\t"

/* A row of the loop: NEW, MID, OLD as in EFFC_DW_MACS_H (H: r12's half), OLD
 * stored by STORE. */
#define EFFC_DW_ROW(LOAD, H, NEW, MID, OLD, STORE)                                              \
    LOAD EFFC_DW_MACS_H(H, NEW, MID, OLD) STORE(OLD)

/* A stride-1 walk's column code, with row loads LOAD (and the row step; H: the
 * half of r12 the singles read, as in EFFC_DW_MACS_H), its stores SE at the even
 * rows of a pass and SO at the odd ones (EB and OB bytes a row; every
 * instruction 32-bit) and its frame words from [sp, 24 + F]: the first two rows,
 * a column's passes and its tail, then the padded top's copy. A tail of one over
 * a padding row (job->last_pad) enters at its store (29:): no loads, MACs or row
 * step. A job's last column goes on at the 30: that follows. */
#define EFFC_DW_S1_BODY(LOAD, H, SE, SO, EB, OB, F)                                            \
    "12:\n\t" /* tail 2 (a pass ends at an even row) */                                        \
    EFFC_DW_ROW(LOAD, H, "r4", "r3", "r2", SE)                                                 \
    EFFC_DW_ROW(LOAD, H, "r2", "r4", "r3", SO)                                                 \
    "b.w    3f\n\t" /* every branch of the column code has its size: the narrow walk's \
                        copies are the same size (EFFC_DW_NARROW_D) */                         \
    "11:\n\t" /* tail 1: the row (and its step), the MACs; over padding (29:) the store alone, \
                  the plane pointer left at that row (effc_dw_walk_counts) */                  \
    LOAD                                                                                       \
    EFFC_DW_MACS_H(H, "r4", "r3", "r2")                                                        \
    "29:\n\t"                                                                                  \
    SE("r2")                                                                                   \
    EFFC_DW_COLUMN_END /* the next column follows: no branch back */                           \
    "beq.w  30f\n\t"                                                                           \
    EFFC_DW_NEXT_COLUMN                                                                        \
    EFFC_DW_S1_TOP(LOAD, H)                                                                    \
    EFFC_DW_S1_START(F)                                                                        \
    "14:\n\t" /* several passes: the count */                                                  \
    "ldr    r12, [sp, #28]\n\t"                                                                \
    "str    r12, [sp, #12]\n\t"                                                                \
    "ldr    pc, [sp, #(40 + " F ")]\n\t"                                                       \
    "8:\n\t" /* three rows turn the accumulators once; six, the store parity too */            \
    ".rept " EFFC_ASM_STR(EFFC_DW_TRIPLES) " / 2\n\t"                                           \
    EFFC_DW_ROW(LOAD, H, "r4", "r3", "r2", SE)                                                 \
    EFFC_DW_ROW(LOAD, H, "r2", "r4", "r3", SO)                                                 \
    EFFC_DW_ROW(LOAD, H, "r3", "r2", "r4", SE)                                                 \
    EFFC_DW_ROW(LOAD, H, "r4", "r3", "r2", SO)                                                 \
    EFFC_DW_ROW(LOAD, H, "r2", "r4", "r3", SE)                                                 \
    EFFC_DW_ROW(LOAD, H, "r3", "r2", "r4", SO)                                                 \
    ".endr\n\t"                                                                                \
    "18:\n\t"                                                                                  \
    ".if (18b - 8b) - 3 * (" EB " + " OB ") * " EFFC_ASM_STR(EFFC_DW_TRIPLES) " / 2\n\t"        \
    ".error \"effc_dw_walk_s1: a row is not " EB " / " OB " bytes\"\n\t"                       \
    ".endif\n\t"                                                                               \
    EFFC_DW_S1_PASS_END(F)                                                                     \
    "9:\n\t"                                                                                   \
    "ldr    r12, [sp, #12]\n\t"                                                                \
    "subs   r12, r12, #1\n\t"                                                                  \
    "str    r12, [sp, #12]\n\t"                                                                \
    "bpl.w  8b\n\t"                                                                            \
    "ldr    pc, [sp, #(24 + " F ")]\n\t"                                                       \
    EFFC_DW_S1_PADDED_TOP(LOAD, H, SE, F)

/* A stride-1 walk (EFFC_DW_S1_BODY's arguments): every column of each job; r1 from
 * the job's word at R1, a next job's multiplier into M (EFFC_DW_NEXT_JOB_M). */
#define EFFC_DW_WALK_S1(LOAD, H, SE, SO, EB, OB, R1, M)                                        \
    EFFC_DW_PROLOGUE_R1(EFFC_DW_S1_FRAME(EB, OB, ""), R1)                                      \
    EFFC_DW_S1_ENTER_FIRST                                                                     \
    EFFC_DW_S1_BODY(LOAD, H, SE, SO, EB, OB, "0")                                              \
    "30:\n\t"                                                                                  \
    EFFC_DW_NEXT_JOB_M(EFFC_DW_S1_ENTER_NEXT, M)                                               \
    EFFC_DW_S1_FRAME_NEW(EB, OB)

/* 4-byte aligned: ADR's offsets to the entries are resolved in the assembler,
 * which takes the section's alignment for the address's (-Os aligns functions
 * to 2 bytes only, and then every computed entry was 2 bytes off). */
__attribute__((naked, noinline, aligned(4))) void effc_dw_walk_s1(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(EFFC_DW_WALK_S1(EFFC_DW_LOAD, "b", EFFC_DW_STORE, EFFC_DW_STORE,
                                     EFFC_DW_S1_ROW, EFFC_DW_S1_ROW, "8", "r12"));
}

#if EFFC_DW_SPEED
/* The narrow walk's second copy of a column's code (the odd output columns') is
 * this many bytes after the first (the even ones'). */
#define EFFC_DW_NARROW_D "(.Leffc_dw_narrow_odd - .Leffc_dw_narrow_even)"

/* The odd copy's frame words at [sp, 48] (F "24"): the first copy's, its code
 * addresses moved to the second copy (r1-r4, r12, lr: the words, EFFC_DW_S1_FRAME). */
#define EFFC_DW_NARROW_ODD_FRAME                                                               \
    "addw   r1, r1, #" EFFC_DW_NARROW_D "\n\t"                                                 \
    "addw   r3, r3, #" EFFC_DW_NARROW_D "\n\t"                                                 \
    "addw   r4, r4, #" EFFC_DW_NARROW_D "\n\t"                                                 \
    "addw   r12, r12, #" EFFC_DW_NARROW_D "\n\t"                                               \
    "addw   lr, lr, #" EFFC_DW_NARROW_D "\n\t"                                                 \
    "add    r5, sp, #48\n\t"                                                                   \
    "stm    r5, {r1-r4, r12, lr}\n\t"

/* After a job's even columns: its odd ones (job->odd_cols, none: the next job), the
 * taps turned from the even columns' (r5-r7 taps (0, 1), r8 / r9's high half tap 2)
 * to the odd ones' (taps (1, 2), tap 0), the job's plane (a column left of the first
 * odd one) and its output a column right; entered at the odd copy's column code. */
#define EFFC_DW_NARROW_TO_ODD                                                                  \
    "ldr    r12, [sp, #8]\n\t"                                                                 \
    "ldr    r2, [r12, #116]\n\t"                                                               \
    "cmp    r2, #0\n\t"                                                                        \
    "beq.w  31f\n\t"                                                                           \
    "lsr    r3, r5, #16\n\t"                                                                   \
    "pkhbt  r3, r3, r8, lsl #16\n\t" /* (1, 2) of row 0 */                                      \
    "pkhbt  r4, r5, r6, lsl #16\n\t" /* tap 0 of rows 0, 1 */                                  \
    "pkhtb  r6, r8, r6, asr #16\n\t" /* (1, 2) of row 1 */                                      \
    "pkhtb  lr, r9, r7, asr #16\n\t" /* (1, 2) of row 2 */                                      \
    "pkhbt  r9, r9, r7, lsl #16\n\t" /* tap 0 of row 2, s - 1 */                               \
    "add    r9, r9, r2\n\t"                                                                    \
    "mov    r5, r3\n\t"                                                                        \
    "mov    r7, lr\n\t"                                                                        \
    "mov    r8, r4\n\t"                                                                        \
    "ldrd   r0, r11, [r12]\n\t"                                                                \
    "ldr    r2, [r12, #20]\n\t"                                                                \
    "add    r11, r11, r2, lsr #1\n\t"                                                          \
    "ldr    pc, [sp, #68]\n\t"

/* Over planes EFFC_DW_NARROW_PW columns wide: a job's even output columns
 * (effc_dw_walk_counts: every other one), then its odd ones by a second copy of
 * the column code (EFFC_DW_LOAD_ODD), then the next job's. */
__attribute__((naked, noinline, aligned(4))) void
effc_dw_walk_s1_narrow(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(
        EFFC_DW_PROLOGUE_R1(EFFC_DW_S1_FRAME(EFFC_DW_NARROW_EVEN_ROW, EFFC_DW_NARROW_ODD_ROW,
                                             EFFC_DW_NARROW_ODD_FRAME), EFFC_DW_NARROW_R1)
        EFFC_DW_S1_ENTER_FIRST
        ".Leffc_dw_narrow_even:\n\t"
        EFFC_DW_S1_BODY(EFFC_DW_LOAD_EVEN, "b", EFFC_DW_STORE_EVEN, EFFC_DW_STORE_ODD,
                        EFFC_DW_NARROW_EVEN_ROW, EFFC_DW_NARROW_ODD_ROW, "0")
        ".Leffc_dw_narrow_even_end:\n\t"
        "30:\n\t"
        EFFC_DW_NARROW_TO_ODD
        EFFC_DW_S1_FRAME_NEW(EFFC_DW_NARROW_EVEN_ROW, EFFC_DW_NARROW_ODD_ROW)
        ".Leffc_dw_narrow_odd:\n\t"
        EFFC_DW_S1_BODY(EFFC_DW_LOAD_ODD, "t", EFFC_DW_STORE_EVEN, EFFC_DW_STORE_ODD,
                        EFFC_DW_NARROW_EVEN_ROW, EFFC_DW_NARROW_ODD_ROW, "24")
        ".Leffc_dw_narrow_odd_end:\n\t"
        ".if (.Leffc_dw_narrow_odd_end - .Leffc_dw_narrow_odd) - "
        "(.Leffc_dw_narrow_even_end - .Leffc_dw_narrow_even)\n\t"
        ".error \"effc_dw_walk_s1_narrow: the odd columns' copy is not the even's size\"\n\t"
        ".endif\n\t"
        "30:\n\t"
        "31:\n\t"
        EFFC_DW_NEXT_JOB_M(EFFC_DW_S1_ENTER_NEXT, EFFC_DW_NARROW_M));
}
#else
__attribute__((naked, noinline, aligned(4))) void
effc_dw_walk_s1_narrow(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(EFFC_DW_WALK_S1(EFFC_DW_LOAD_NARROW, "b", EFFC_DW_STORE_EVEN,
                                     EFFC_DW_STORE_ODD, EFFC_DW_COMPACT_EVEN_ROW,
                                     EFFC_DW_COMPACT_ODD_ROW, EFFC_DW_NARROW_R1,
                                     EFFC_DW_NARROW_M));
}
#endif

/* Stride 2: output y reads plane rows 2y, 2y+1 and 2y+2; row 2y+2 is also
 * kernel row 0 of output y + 1. A row's two words come with one LDRD (the
 * plane width is even at stride 2, so every output column starts 4-byte
 * aligned). 17 instructions per output, and 2 a step of four for the count
 * (r4; an odd step of two enters the second half). */
#define EFFC_DW_PAIR(CUR, NXT)                                                                 \
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
        EFFC_DW_SETUP("ldrd   r12, lr, [r0, #56]\n\t" /* groups, tail */
                      "str    r12, [sp, #28]\n\t"
                      "str    lr, [sp, #24]\n\t")
        "ldr    r4, [sp, #28]\n\t"
        /* plane row 0: kernel row 0 of output 0 */
        "ldrd   r12, lr, [r0]\n\t"
        "add    r0, r0, r1, lsr #16\n\t"
        "smlad  r2, r12, r5, r10\n\t"
        "smlabb r2, lr, r8, r2\n\t"
        "lsrs   r4, r4, #1\n\t" /* steps of four; C: one of two first */
        "bcs    4f\n\t"
        "b      5f\n\t"
        "2:\n\t"
        EFFC_DW_PAIR("r2", "r3")
        EFFC_DW_PAIR("r3", "r2")
        "4:\n\t"
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

#else

typedef int effc_dw_dsp_asm_unused; /* ISO C wants a declaration in every file */

#endif
