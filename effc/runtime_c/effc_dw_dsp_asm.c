/*
 * effc_dw_dsp_asm.c - the depthwise 3x3 column walks of the DSP body, in
 * assembly (naked functions). The C side is effc_dw_dsp.c; the job and its
 * offsets are in effc_internal.h.
 *
 * Registers during a walk: r0 the plane (advanced a row at a time), r1 the
 * packed strides (plane row bytes << 16 | output row bytes), r2-r4 the
 * accumulators (rotating roles; r4 counts the steps at stride 2), r5-r7 taps
 * (0, 1) of kernel rows 0-2, r8 tap 2 of rows 0 and 1, r9 tap 2 of row 2
 * (high half), s - 1 (low byte, what ASR reads) and the columns left (byte
 * 1, counted down), r10 2 * bias, r11 the
 * output pointer, r12/lr loaded plane words and the requantization
 * temporaries. A column runs `groups` steps (3 outputs at stride 1, 2 at
 * stride 2) in a counted loop (stride 1: passes of EFFC_DW_TRIPLES steps, the
 * first one entered part way), then `tail` single outputs;
 * the plane and output pointers then move to the next column by the job's
 * constant deltas. The stack frame (EFFC_DW_SETUP) holds:
 *   [sp]      the multiplier and round (one LDRD per output)
 *   [sp, 8]   the job being walked (its next one follows, EFFC_DW_END)
 *   [sp, 12]  the passes left (stride 1) or steps left
 *   [sp, 16]  next_plane, next_out (one LDRD per column)
 *   [sp, 24]  tail (stride 2); the tail's code address (stride 1)
 *   [sp, 28]  groups (stride 2); passes - 1 (stride 1)
 *   [sp, 32]  where a column's loop starts (stride 1 at -O2, code address)
 *   [sp, 36]  where a pass ends (stride 1 at -O2: the pass count, or the tail)
 *   [sp, 40]  the first pass's entry, or the tail's (stride 1)
 *   [sp, 44]  a column's code: its top or the padded top's copy (stride 1 at -O2)
 * Stride 1's six words at [sp, 24] are the job's frame[] (EFFC_DW_S1_FRAME):
 * at -O2 the first call with a band's counts works them out and leaves them
 * in the job, the other channels' calls copy them.
 */
#include "effc_dw_internal.h"

#if defined(EFFC_USE_DSP)

#define EFFC_DW_ARG __attribute__((unused))

/* Requantize ACC (doubled accumulator) to int8 (effc_rq_fast). */
#define EFFC_DW_RQ(ACC)                                                                        \
    "ldrd   r12, lr, [sp]\n\t"                                                                 \
    "sub    lr, lr, " ACC ", lsr #31\n\t"                                                      \
    "smmlar " ACC ", " ACC ", r12, lr\n\t"                                                     \
    "asr    " ACC ", " ACC ", r9\n\t"                                                          \
    "ssat   " ACC ", #8, " ACC ", asr #1\n\t"

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
#define EFFC_DW_STORE_EVEN(ACC)                                                                \
    EFFC_DW_RQ(ACC)                                                                            \
    "strb.w " ACC ", [r11]\n\t"

#define EFFC_DW_STORE_ODD(ACC)                                                                 \
    EFFC_DW_RQ(ACC)                                                                            \
    "strb.w " ACC ", [r11, r1]\n\t"                                                            \
    "add.w  r11, r11, r1, lsl #1\n\t"

/* The setup of both walks: the stack frame (the walk's own words: EXTRA, with
 * r0 the job and r1-r4, r12, lr free), the strides, the weights, the doubled
 * bias and the first column's plane and output pointers (the first column
 * starts at label 7). */
#define EFFC_DW_PROLOGUE(EXTRA)                                                                \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "sub    sp, sp, #48\n\t"                                                                   \
    "str    r0, [sp, #8]\n\t"                                                                  \
    "ldrd   r12, lr, [r0, #48]\n\t"                                                            \
    "strd   r12, lr, [sp]\n\t"                                                                 \
    "ldrd   r12, lr, [r0, #64]\n\t"                                                            \
    "strd   r12, lr, [sp, #16]\n\t"                                                            \
    EXTRA                                                                                      \
    "ldr    r1, [r0, #8]\n\t"                                                                  \
    "add    r12, r0, #24\n\t"                                                                  \
    "ldm    r12, {r5-r10}\n\t"                                                                 \
    "ldr    r11, [r0, #4]\n\t"                                                                 \
    "ldr    r0, [r0]\n\t"

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
 * to its code), or the return. */
#define EFFC_DW_NEXT_JOB(ENTER)                                                                \
    "ldr    r12, [sp, #8]\n\t"                                                                 \
    "ldr    r0, [r12, #72]\n\t"                                                                \
    "cbz    r0, 13f\n\t"                                                                       \
    "str    r0, [sp, #8]\n\t"                                                                  \
    "ldrd   r12, lr, [r0, #48]\n\t"                                                            \
    "strd   r12, lr, [sp]\n\t"                                                                 \
    "add    r12, r0, #24\n\t"                                                                  \
    "ldm    r12, {r5-r10}\n\t"                                                                 \
    "ldr    r11, [r0, #4]\n\t"                                                                 \
    "ldr    r0, [r0]\n\t"                                                                      \
    ENTER                                                                                      \
    "13:\n\t"                                                                                  \
    "add    sp, sp, #48\n\t"                                                                   \
    "pop    {r4-r11, pc}\n\t"

#define EFFC_DW_END EFFC_DW_COLUMN_END "bne    1b\n\t" EFFC_DW_NEXT_JOB("b      7b\n\t")

/* Stride 1: plane row r is kernel row 0 of output r (NEW), row 1 of output
 * r - 1 (MID) and row 2 of output r - 2 (OLD), which then completes: the
 * row's two words (r12: tap 2, lr: taps 0-1; LOAD, which steps r0 down a
 * row), its six MACs, and OLD's store (STORE). 16 instructions per output,
 * every one 32-bit (64 bytes a row: the first pass is entered at a computed
 * address). */
#define EFFC_DW_MACS(NEW, MID, OLD)                                                            \
    "smlad  " NEW ", lr, r5, r10\n\t"                                                          \
    "smlad  " MID ", lr, r6, " MID "\n\t"                                                      \
    "smlad  " OLD ", lr, r7, " OLD "\n\t"                                                      \
    "smlabb " NEW ", r12, r8, " NEW "\n\t"                                                     \
    "smlabt " MID ", r12, r8, " MID "\n\t"                                                     \
    "smlabt " OLD ", r12, r9, " OLD "\n\t"

#define EFFC_DW_WORDS                                                                          \
    "ldr.w  r12, [r0, #4]\n\t"                                                                 \
    "ldr.w  lr, [r0]\n\t"

/* The plane row step: any planes' (r1's high half) and narrow ones'. */
#define EFFC_DW_DOWN "add.w  r0, r0, r1, lsr #16\n\t"
#define EFFC_DW_DOWN_NARROW "add.w  r0, r0, #16\n\t"

#define EFFC_DW_LOAD EFFC_DW_WORDS EFFC_DW_DOWN

/* The same over planes EFFC_DW_NARROW_PW columns wide (16-byte rows): the
 * plane row step is the second LDR's post-index (no ADD); with
 * EFFC_DW_STORE_EVEN / _ODD, 14.5 instructions per output (56 and 60 bytes a
 * row). */
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
#define EFFC_DW_STR_(X) #X
#define EFFC_DW_STR(X) EFFC_DW_STR_(X)

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
    "and    lr, lr, #" EFFC_DW_STR(EFFC_DW_TRIPLES) " - 1\n\t"                                 \
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
    "add    r3, r2, #" EFFC_DW_STR(EFFC_DW_TRIPLES) " - 1\n\t"                                 \
    "lsr    r3, r3, #" EFFC_DW_STR(EFFC_DW_TRIPLES_LOG2) "\n\t"                                \
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
#define EFFC_DW_S1_PADDED_TOP(LOAD, DOWN, SE) ""
#define EFFC_DW_S1_ONE_PASS_ENTRIES(D) ""
#define EFFC_DW_S1_START ""
#define EFFC_DW_S1_PASS_END ""
#define EFFC_DW_S1_FRAME(EB, OB) EFFC_DW_S1_ENTRIES(EB, OB, "f")
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
 * copy (effc_dw_walk_counts: no first_pad then). After the walk's 7: and 30:. */
#define EFFC_DW_S1_PADDED_TOP(LOAD, DOWN, SE)                                                  \
    "41:\n\t"                                                                                  \
    EFFC_DW_WORDS                                                                              \
    EFFC_DW_MACS("r4", "r3", "r2")                                                             \
    "42:\n\t"                                                                                  \
    DOWN                                                                                       \
    SE("r2")                                                                                   \
    "43:\n\t"                                                                                  \
    "sub    r9, r9, #256\n\t"                                                                  \
    "tst    r9, #0xFF00\n\t"                                                                   \
    "beq.w  30b\n\t"                                                                           \
    "ldrd   r12, lr, [sp, #16]\n\t"                                                            \
    "add    r0, r0, r12\n\t"                                                                   \
    "add    r11, r11, lr\n\t"                                                                  \
    "47:\n\t"                                                                                  \
    LOAD /* plane row 1: kernel row 0 of output 1, row 1 of output 0 */                        \
    "smlad  r3, lr, r5, r10\n\t"                                                               \
    "smlad  r2, lr, r6, r10\n\t"                                                               \
    "smlabb r3, r12, r8, r3\n\t"                                                               \
    "smlabt r2, r12, r8, r2\n\t"                                                               \
    EFFC_DW_S1_START                                                                           \
    ".if (47b - 41b) - (7b - 11b) || (42b - 41b) - (29b - 11b) || (43b - 41b) - (3b - 11b)\n\t" \
    ".error \"effc_dw_walk_s1: the padded top's copy is not the original's size\"\n\t"         \
    ".endif\n\t"
#define EFFC_DW_S1_START "ldr    pc, [sp, #32]\n\t"
#define EFFC_DW_S1_PASS_END "ldr    pc, [sp, #36]\n\t"
#define EFFC_DW_S1_FRAME(EB, OB)                                                               \
    "add    r5, r0, #84\n\t"                                                                   \
    "ldm    r5, {r1-r4, r12, lr}\n\t"                                                          \
    "cmp    r12, #0\n\t"                                                                       \
    "beq.w  25f\n\t"                                                                           \
    "add    r5, sp, #24\n\t"                                                                   \
    "stm    r5, {r1-r4, r12, lr}\n\t"                                                          \
    "26:\n\t"
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
#define EFFC_DW_S1_TOP(LOAD)                                                                   \
    LOAD /* plane row 0: kernel row 0 of output 0 */                                           \
    "smlad  r2, lr, r5, r10\n\t"                                                               \
    "smlabb r2, r12, r8, r2\n\t"                                                               \
    LOAD /* plane row 1: kernel row 0 of output 1, row 1 of output 0 */                        \
    "smlad  r3, lr, r5, r10\n\t"                                                               \
    "smlad  r2, lr, r6, r2\n\t"                                                                \
    "smlabb r3, r12, r8, r3\n\t"                                                               \
    "smlabt r2, r12, r8, r2\n\t"

/* A row of the loop: NEW, MID, OLD as in EFFC_DW_MACS, OLD stored by STORE. */
#define EFFC_DW_ROW(LOAD, NEW, MID, OLD, STORE) LOAD EFFC_DW_MACS(NEW, MID, OLD) STORE(OLD)

/* A stride-1 walk with row loads LOAD (DOWN: its plane row step alone), its
 * stores SE at the even rows of a pass and SO at the odd ones (EB and OB bytes
 * a row; every instruction 32-bit): the first two rows, a column's passes and
 * its tail. A tail of one over a padding row (job->last_pad) enters at its
 * step (29:): no loads or MACs. */
#define EFFC_DW_WALK_S1(LOAD, DOWN, SE, SO, EB, OB)                                            \
    EFFC_DW_PROLOGUE(EFFC_DW_S1_FRAME(EB, OB))                                                 \
    EFFC_DW_S1_ENTER_FIRST                                                                     \
    "12:\n\t" /* tail 2 (a pass ends at an even row) */                                        \
    EFFC_DW_ROW(LOAD, "r4", "r3", "r2", SE)                                                    \
    EFFC_DW_ROW(LOAD, "r2", "r4", "r3", SO)                                                    \
    "b      3f\n\t"                                                                            \
    "11:\n\t" /* tail 1: the loads, the MACs, then the row step */                             \
    EFFC_DW_WORDS                                                                              \
    EFFC_DW_MACS("r4", "r3", "r2")                                                             \
    "29:\n\t"                                                                                  \
    DOWN                                                                                       \
    SE("r2")                                                                                   \
    EFFC_DW_COLUMN_END /* the next column follows: no branch back */                           \
    "beq.w  30f\n\t"                                                                           \
    EFFC_DW_NEXT_COLUMN                                                                        \
    EFFC_DW_S1_TOP(LOAD)                                                                       \
    EFFC_DW_S1_START                                                                           \
    "14:\n\t" /* several passes: the count */                                                  \
    "ldr    r12, [sp, #28]\n\t"                                                                \
    "str    r12, [sp, #12]\n\t"                                                                \
    "ldr    pc, [sp, #40]\n\t"                                                                 \
    "8:\n\t" /* three rows turn the accumulators once; six, the store parity too */            \
    ".rept " EFFC_DW_STR(EFFC_DW_TRIPLES) " / 2\n\t"                                           \
    EFFC_DW_ROW(LOAD, "r4", "r3", "r2", SE)                                                    \
    EFFC_DW_ROW(LOAD, "r2", "r4", "r3", SO)                                                    \
    EFFC_DW_ROW(LOAD, "r3", "r2", "r4", SE)                                                    \
    EFFC_DW_ROW(LOAD, "r4", "r3", "r2", SO)                                                    \
    EFFC_DW_ROW(LOAD, "r2", "r4", "r3", SE)                                                    \
    EFFC_DW_ROW(LOAD, "r3", "r2", "r4", SO)                                                    \
    ".endr\n\t"                                                                                \
    "18:\n\t"                                                                                  \
    ".if (18b - 8b) - 3 * (" EB " + " OB ") * " EFFC_DW_STR(EFFC_DW_TRIPLES) " / 2\n\t"        \
    ".error \"effc_dw_walk_s1: a row is not " EB " / " OB " bytes\"\n\t"                       \
    ".endif\n\t"                                                                               \
    EFFC_DW_S1_PASS_END                                                                        \
    "9:\n\t"                                                                                   \
    "ldr    r12, [sp, #12]\n\t"                                                                \
    "subs   r12, r12, #1\n\t"                                                                  \
    "str    r12, [sp, #12]\n\t"                                                                \
    "bpl    8b\n\t"                                                                            \
    "ldr    pc, [sp, #24]\n\t"                                                                 \
    "30:\n\t"                                                                                  \
    EFFC_DW_NEXT_JOB(EFFC_DW_S1_ENTER_NEXT)                                                    \
    EFFC_DW_S1_PADDED_TOP(LOAD, DOWN, SE)                                                      \
    EFFC_DW_S1_FRAME_NEW(EB, OB)


/* 4-byte aligned: ADR's offsets to the entries are resolved in the assembler,
 * which takes the section's alignment for the address's (-Os aligns functions
 * to 2 bytes only, and then every computed entry was 2 bytes off). */
__attribute__((naked, noinline, aligned(4))) void effc_dw_walk_s1(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(EFFC_DW_WALK_S1(EFFC_DW_LOAD, EFFC_DW_DOWN, EFFC_DW_STORE, EFFC_DW_STORE,
                                     "64", "64"));
}

__attribute__((naked, noinline, aligned(4))) void
effc_dw_walk_s1_narrow(EFFC_DW_ARG effc_dw_walk_job *job)
{
    __asm__ volatile(EFFC_DW_WALK_S1(EFFC_DW_LOAD_NARROW, EFFC_DW_DOWN_NARROW,
                                     EFFC_DW_STORE_EVEN, EFFC_DW_STORE_ODD, "56", "60"));
}

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

/* The same pixel pair of the row below (row B: source r0 + r9 and r0 + r10,
 * planes r2 + lr and r3 + lr), pointers not stepped; then row A's. Every
 * instruction 32-bit: 60 bytes the two. */
#define EFFC_DW_FILL_PAIR2                                                                     \
    "ldrh.w r7, [r0, r9]\n\t"                                                                  \
    "ldrh.w r8, [r0, r10]\n\t"                                                                 \
    "orr.w  r7, r7, r8, lsl #16\n\t"                                                           \
    "sxtab16 r8, r5, r7\n\t"                                                                   \
    "sxtab16 r7, r5, r7, ror #8\n\t"                                                           \
    "str.w  r8, [r2, lr]\n\t"                                                                  \
    "str.w  r7, [r3, lr]\n\t"                                                                  \
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

/* Rows of at most 8 pixels (KWS: 5), two at a time in straight-line code: a
 * pair of rows enters at its first pixel pair's code in one of two chains,
 * even widths' (22:) or odd ones' (23:, the last pixel after the pairs, its
 * source step in r11), and runs to the rows' end: 6 instructions for two
 * rows besides the pixels' (12 a row in the general loop); an odd last row
 * runs as a pair of rows with row B its own (28:, r9 = 0, r10 = r1, lr = 0:
 * the same values stored twice). r6: the entry (odd: Thumb); r9/r10 row B's
 * source offsets, lr its plane offset; r11/r12 the steps two rows down. */
#define EFFC_DW_FILL_SHORT                                                                     \
    "cmp    lr, #8\n\t"                                                                        \
    "bgt    1f\n\t"                                                                            \
    "mla    r9, lr, r1, r11\n\t" /* input row bytes */                                         \
    "add    r8, r12, lr, lsl #1\n\t" /* plane row bytes */                                     \
    "add    r11, r11, r9\n\t"                                                                  \
    "add    r12, r12, r8\n\t"                                                                  \
    "add    r10, r9, r1\n\t"                                                                   \
    "adr.w  r7, 21f\n\t"                                                                       \
    "tst    lr, #1\n\t"                                                                        \
    "itt    ne\n\t"                                                                            \
    "adrne.w r7, 24f\n\t"                                                                      \
    "addne  r11, r11, r1\n\t" /* the odd pixel does not step the source */                     \
    "mov    lr, r8\n\t"                                                                        \
    "sub    r7, r7, r6, lsl #6\n\t"                                                            \
    "add    r7, r7, r6, lsl #2\n\t"                                                            \
    "orr    r6, r7, #1\n\t"                                                                    \
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
    "strh.w r8, [r2, lr]\n\t"                                                                  \
    "strh.w r7, [r3, lr]\n\t"                                                                  \
    "ldrh   r7, [r0]\n\t"                                                                      \
    "sxtab16 r8, r5, r7\n\t"                                                                   \
    "sxtab16 r7, r5, r7, ror #8\n\t"                                                           \
    "strh   r8, [r2], #2\n\t"                                                                  \
    "strh   r7, [r3], #2\n\t"                                                                  \
    EFFC_DW_FILL_ROWS_END                                                                      \
    "28:\n\t" /* one row left: row B is row A */                                               \
    "mov    r9, #0\n\t"                                                                        \
    "mov    r10, r1\n\t"                                                                       \
    "mov    lr, #0\n\t"                                                                        \
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

typedef int effc_dw_dsp_asm_unused; /* ISO C wants a declaration in every file */

#endif
