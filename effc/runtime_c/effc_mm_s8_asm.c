/*
 * effc_mm_s8_asm.c - the matrix kernel's inner loops for the Cortex-M DSP
 * body, in assembly (naked functions: the instruction counts do not depend
 * on the compiler's flags). The C side is effc_mm_dsp.c; the job structs and
 * their offsets are in effc_mm_internal.h; the one-column loops are in
 * effc_mm_column_asm.c, the one-row (dense) ones in effc_mm_row_asm.c, the
 * two-channel loop of the one-pass quad builds (EFFC_MM_2X4_STACK) in
 * effc_mm_quads_asm.c, the shared macros in effc_mm_asm.h.
 *
 * Every loop keeps its accumulators doubled (the widened columns are
 * 2 * (x - zp), or the weights are doubled) and requantizes with the
 * prepared fast form (effc_requant.h, effc_rq_fast): SUB, SMMLAR, ASR, SSAT
 * (without the SUB when EFFC_WIDE2_RELU / EFFC_S8_RELU, effc_mm_asm.h).
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)

#include "effc_mm_asm.h"

/* EFFC_MM_2X4_UNROLL (effc_mm_asm.h) as assembler text. */
#if EFFC_MM_2X4_UNROLL == 16
#define EFFC_2X4_UNROLL_STR "16"
#define EFFC_2X4_UNROLL_LOG2 "4"
#elif EFFC_MM_2X4_UNROLL == 8
#define EFFC_2X4_UNROLL_STR "8"
#define EFFC_2X4_UNROLL_LOG2 "3"
#else
#error "EFFC_MM_2X4_UNROLL must be 8 or 16"
#endif

/* ------------------------------------------------------- widened columns */

/* Column j's word (x0..x3 as bytes) in X: its (x0, x2) pair into E (x - zp
 * a half, r2 the -zp offset) and its (x1, x3) pair over X; EFFC_WIDEN_WORD
 * doubles both: 2 * (x - zp). */
#define EFFC_WIDEN_WORD_X1(X, E)                                                               \
    "sxtab16 " E ", r2, " X "\n\t"                                                             \
    "sxtab16 " X ", r2, " X ", ror #8\n\t"

#define EFFC_WIDEN_WORD(X, E)                                                                  \
    EFFC_WIDEN_WORD_X1(X, E)                                                                   \
    "sadd16  " E ", " E ", " E "\n\t"                                                          \
    "sadd16  " X ", " X ", " X "\n\t"

/* r4-r7 the column pointers, r1 the groups left, r2 the offset, r3 dst: per
 * group the four column words into r8-r11, the (x0, x2) words of columns
 * 2, 3 then 0, 1 stored by pairs (r0, r12), the (x1, x3) words (in place in
 * r8-r11) with one STM. */
#define EFFC_WIDEN_GROUPS(WORD)                                                                \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "ldm    r0, {r4-r7}\n\t"                                                                   \
    "1:\n\t"                                                                                   \
    "ldr    r8, [r4], #4\n\t"                                                                  \
    "ldr    r9, [r5], #4\n\t"                                                                  \
    "ldr    r10, [r6], #4\n\t"                                                                 \
    "ldr    r11, [r7], #4\n\t"                                                                 \
    WORD("r10", "r0")                                                                          \
    WORD("r11", "r12")                                                                         \
    "strd   r0, r12, [r3, #8]\n\t"                                                             \
    WORD("r8", "r0")                                                                           \
    WORD("r9", "r12")                                                                          \
    "strd   r0, r12, [r3], #16\n\t"                                                            \
    "stm    r3!, {r8-r11}\n\t"                                                                 \
    "subs   r1, r1, #1\n\t"                                                                    \
    "bne    1b\n\t"                                                                            \
    "pop    {r4-r11, pc}\n\t"

__attribute__((naked, noinline)) void effc_mm_widen_groups(
    EFFC_ARG const int8_t *const col[4], EFFC_ARG int32_t groups, EFFC_ARG int32_t off,
    EFFC_ARG int32_t *dst)
{
    __asm__ volatile(EFFC_WIDEN_GROUPS(EFFC_WIDEN_WORD));
}

__attribute__((naked, noinline)) void effc_mm_widen_groups_x1(
    EFFC_ARG const int8_t *const col[4], EFFC_ARG int32_t groups, EFFC_ARG int32_t off,
    EFFC_ARG int32_t *dst)
{
    __asm__ volatile(EFFC_WIDEN_GROUPS(EFFC_WIDEN_WORD_X1));
}

#if EFFC_MM_2X4_QUADS
#define EFFC_WIDEN_QUAD_GROUPS8                                                               \
    EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP   \
    EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP
#if EFFC_MM_2X4_UNROLL == 16
#define EFFC_WIDEN_QUAD_GROUPS EFFC_WIDEN_QUAD_GROUPS8 EFFC_WIDEN_QUAD_GROUPS8
#else
#define EFFC_WIDEN_QUAD_GROUPS EFFC_WIDEN_QUAD_GROUPS8
#endif
#endif

/* ------------------------------------------------- one channel x 4 columns */

/* One group of 4 values: r1 weights (int8 row, advanced), r0 widened columns
 * (advanced), r2-r5 accumulators of columns 0-3, r6-r9 column words,
 * r10/r11 the weight word widened (w0, w2) / (w1, w3). 13 instructions for
 * 16 MACs. */
#define EFFC_1X4_GROUP                                                                        \
    "ldr    r10, [r1], #4\n\t"                                                                 \
    "sxtb16 r11, r10, ror #8\n\t"                                                              \
    "sxtb16 r10, r10\n\t"                                                                      \
    "ldm    r0!, {r6-r9}\n\t"                                                                  \
    "smlad  r2, r6, r10, r2\n\t"                                                               \
    "smlad  r3, r7, r10, r3\n\t"                                                               \
    "smlad  r4, r8, r10, r4\n\t"                                                               \
    "smlad  r5, r9, r10, r5\n\t"                                                               \
    "ldm    r0!, {r6-r9}\n\t"                                                                  \
    "smlad  r2, r6, r11, r2\n\t"                                                               \
    "smlad  r3, r7, r11, r3\n\t"                                                               \
    "smlad  r4, r8, r11, r4\n\t"                                                               \
    "smlad  r5, r9, r11, r5\n\t"

#define EFFC_1X4_CLAMP                                                                        \
    "ldrd   r6, r7, [lr, #40]\n\t"                                                             \
    EFFC_CLAMP("r2", "r6", "r7")                                                              \
    EFFC_CLAMP("r3", "r6", "r7")                                                              \
    EFFC_CLAMP("r4", "r6", "r7")                                                              \
    EFFC_CLAMP("r5", "r6", "r7")

/* lr = job. Per channel: the doubled bias into the four accumulators, the
 * groups (one first when their count is odd, then two per iteration), the
 * record (word, multiplier; EFFC_RQ_MULT follows EFFC_RQ_WORD for the LDRD)
 * and round = k2 << (s - 1) (LSL and ASR by the word read its low byte), four
 * requantizations, CLAMP, and four byte stores through the job's pointers. */
#define EFFC_MM_1X4(CLAMP)                                                                    \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "mov    lr, r0\n\t"                                                                        \
    "ldr    r1, [lr, #4]\n\t"                                                                  \
    "1:\n\t"                                                                                   \
    "ldr    r12, [lr, #8]\n\t"                                                                 \
    "ldr    r2, [r12, #" EFFC_RQ_WORD "]\n\t"                                                   \
    "asr    r2, r2, #" EFFC_RQ_BIAS2_ASR "\n\t"                                                 \
    "mov    r3, r2\n\t"                                                                        \
    "mov    r4, r2\n\t"                                                                        \
    "mov    r5, r2\n\t"                                                                        \
    "ldr    r0, [lr]\n\t"                                                                      \
    "ldr    r12, [lr, #36]\n\t"                                                                \
    "lsrs   r12, r12, #1\n\t"                                                                  \
    "bcc    3f\n\t"                                                                            \
    EFFC_1X4_GROUP                                                                            \
    "beq    5f\n\t" /* Z still from LSRS: no group left */                                   \
    "3:\n\t"                                                                                   \
    EFFC_1X4_GROUP                                                                            \
    EFFC_1X4_GROUP                                                                            \
    "subs   r12, r12, #1\n\t"                                                                  \
    "bne    3b\n\t"                                                                            \
    "5:\n\t"                                                                                   \
    "ldr    r12, [lr, #8]\n\t"                                                                 \
    "ldrd   r7, r6, [r12, #" EFFC_RQ_WORD "]\n\t" /* word, multiplier */                        \
    "add    r12, r12, #" EFFC_RQ_BYTES "\n\t"                                                   \
    "str    r12, [lr, #8]\n\t"                                                                 \
    "ldr    r8, [lr, #32]\n\t"                                                                 \
    "lsl    r8, r8, r7\n\t"                                                                    \
    EFFC_RQ_S8("r2", "r6", "r8", "r7", "r9")                                                  \
    EFFC_RQ_S8("r3", "r6", "r8", "r7", "r9")                                                  \
    EFFC_RQ_S8("r4", "r6", "r8", "r7", "r9")                                                  \
    EFFC_RQ_S8("r5", "r6", "r8", "r7", "r9")                                                  \
    CLAMP                                                                                     \
    "add    r12, lr, #12\n\t"                                                                  \
    "ldm    r12, {r6-r9}\n\t"                                                                  \
    "strb   r2, [r6], #1\n\t"                                                                  \
    "strb   r3, [r7], #1\n\t"                                                                  \
    "strb   r4, [r8], #1\n\t"                                                                  \
    "strb   r5, [r9], #1\n\t"                                                                  \
    "stm    r12, {r6-r9}\n\t"                                                                  \
    "ldr    r12, [lr, #28]\n\t"                                                                \
    "subs   r12, r12, #1\n\t"                                                                  \
    "str    r12, [lr, #28]\n\t"                                                                \
    "bne    1b\n\t"                                                                            \
    "pop    {r4-r11, pc}\n\t"

__attribute__((naked, noinline)) void effc_mm_1x4_s8(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_1X4(""));
}

__attribute__((naked, noinline)) void effc_mm_1x4_s8_clamp(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_1X4(EFFC_1X4_CLAMP));
}

/* ------------------------------------------------ two channels x 4 columns */

#if !EFFC_MM_2X4_STACK /* else effc_mm_quads_asm.c */

/* Half a group (one parity) of either layout: r8/r9 channel 0's and channel 1's weight
 * pairs, r10/r11 columns 0, 1 (loaded), then columns 2, 3 by LDRD from r12 (advanced);
 * r0-r3 channel 0's accumulators of columns 0-3, r4-r7 channel 1's. */
#define EFFC_2X4_HALF_MACS                                                                    \
    "smlad  r0, r10, r8, r0\n\t"                                                              \
    "smlad  r4, r10, r9, r4\n\t"                                                              \
    "smlad  r1, r11, r8, r1\n\t"                                                              \
    "smlad  r5, r11, r9, r5\n\t"                                                              \
    "ldrd   r10, r11, [r12], #8\n\t"                                                          \
    "smlad  r2, r10, r8, r2\n\t"                                                              \
    "smlad  r6, r10, r9, r6\n\t"                                                              \
    "smlad  r3, r11, r8, r3\n\t"                                                              \
    "smlad  r7, r11, r9, r7\n\t"

#if EFFC_WIDE2_PACKED
/* EFFC_FILTER_PAIR8 weights: a parity's pair word splits by SXTB16 into channel 0's
 * (r8) and channel 1's (r9) int16 pairs. Half a group (one parity) enters with the
 * raw pair word in r9 and columns 0, 1 in r10/r11; its loads for the next half (the
 * pair word, then two column words: three LDRs back to back, pipelined, 4 cycles for
 * 3 words) end it, so a group is 2 x (2 SXTB16, 8 SMLAD, LDRD, 3 LDR): 28
 * instructions and 34 cycles for 32 MACs, 112 bytes. After the last group of a pair
 * the next word is the pair's first record, already read: EFFC_2X4_REWIND steps the
 * stream back to it. */
#define EFFC_2X4_GROUP_BYTES "112"
#define EFFC_2X4_SPLIT                                                                        \
    "sxtb16 r8, r9\n\t"                                                                       \
    "sxtb16 r9, r9, ror #8\n\t"
#define EFFC_2X4_NEXT_HALF                                                                    \
    "ldr    r9, [lr], #4\n\t"                                                                 \
    "ldr    r10, [r12], #4\n\t"                                                               \
    "ldr    r11, [r12], #4\n\t"
#define EFFC_2X4_GROUP                                                                        \
    EFFC_2X4_SPLIT EFFC_2X4_HALF_MACS EFFC_2X4_NEXT_HALF                                       \
    EFFC_2X4_SPLIT EFFC_2X4_HALF_MACS EFFC_2X4_NEXT_HALF
/* The pair's first group from the bias words (r0 channel 0, r4 channel 1). */
#define EFFC_2X4_FIRST                                                                        \
    EFFC_2X4_SPLIT                                                                            \
    EFFC_2X4_FIRST_MACS("ldrd   r2, r3, [r12], #8\n\t")                                    \
    EFFC_2X4_NEXT_HALF                                                                        \
    EFFC_2X4_SPLIT EFFC_2X4_HALF_MACS EFFC_2X4_NEXT_HALF
/* A pair's start: the column pointer, the bias words and the first group's entry
 * state, six LDRs back to back (7 cycles). */
#define EFFC_2X4_PAIR_LOADS                                                                   \
    "ldr    r12, [sp, #20]\n\t"                                                               \
    "ldr    r0, [lr], #4\n\t"                                                                 \
    "ldr    r4, [lr], #4\n\t"                                                                 \
    EFFC_2X4_NEXT_HALF
#define EFFC_2X4_REWIND "sub    lr, lr, #4\n\t"

#else
/* One group of 4 values of a channel pair, EFFC_FILTER_WIDE2 weights: lr the
 * weight stream (advanced), r12 the widened columns (advanced), r0-r3 the
 * accumulators of channel 0 for columns 0-3, r4-r7 channel 1, r8/r9 the pair's
 * weight words, r10/r11 two column words. Enters with the group's first two
 * column words loaded and leaves with the next group's (or the sentinel)
 * loaded: 6 LDRD and 16 SMLAD for 32 MACs. */
#define EFFC_2X4_GROUP_BYTES "88"
#define EFFC_2X4_GROUP                                                                        \
    "ldrd   r8, r9, [lr], #8\n\t"                                                              \
    EFFC_2X4_HALF_MACS                                                                        \
    "ldrd   r8, r9, [lr], #8\n\t"                                                              \
    "ldrd   r10, r11, [r12], #8\n\t"                                                           \
    EFFC_2X4_HALF_MACS                                                                        \
    "ldrd   r10, r11, [r12], #8\n\t"

/* The pair's first group with the bias words (r0 channel 0, r4 channel 1)
 * as the accumulators' start (EFFC_2X4_FIRST_MACS). Same loads, entry and exit
 * as EFFC_2X4_GROUP. */
#define EFFC_2X4_FIRST                                                                        \
    "ldrd   r8, r9, [lr], #8\n\t"                                                             \
    EFFC_2X4_FIRST_MACS("ldrd   r2, r3, [r12], #8\n\t")                                    \
    "ldrd   r8, r9, [lr], #8\n\t"                                                             \
    "ldrd   r10, r11, [r12], #8\n\t"                                                          \
    EFFC_2X4_HALF_MACS                                                                        \
    "ldrd   r10, r11, [r12], #8\n\t"

#define EFFC_2X4_PAIR_LOADS                                                                   \
    "ldrd   r0, r4, [lr], #8\n\t"                                                             \
    "ldr    r12, [sp, #20]\n\t"                                                               \
    "ldrd   r10, r11, [r12], #8\n\t"
#define EFFC_2X4_REWIND ""
#endif

#define EFFC_2X4_GROUPS8                                                                     \
    EFFC_2X4_GROUP EFFC_2X4_GROUP EFFC_2X4_GROUP EFFC_2X4_GROUP                               \
    EFFC_2X4_GROUP EFFC_2X4_GROUP EFFC_2X4_GROUP EFFC_2X4_GROUP
#if EFFC_MM_2X4_UNROLL == 16
#define EFFC_2X4_GROUPS EFFC_2X4_GROUPS8 EFFC_2X4_GROUPS8
#else
#define EFFC_2X4_GROUPS EFFC_2X4_GROUPS8
#endif
/* The sentinel test after every U groups (none when one pass always
 * suffices: EFFC_MM_2X4_ONE_PASS, the dispatch's effc_mm_2x4_fits). */
#if EFFC_MM_2X4_ONE_PASS
#define EFFC_2X4_LOOP_TEST ""
#else
#define EFFC_2X4_LOOP_TEST                                                                    \
    "cmp    r10, #0x80008000\n\t"                                                             \
    "bne    2b\n\t"
#endif

/* The quads of effc_mm_run_quads (EFFC_MM_2X4_QUADS, the speed builds':
 * effc/codegen/c/kernel_set.py): after the common start the quad state onto
 * the stack (+40: quads, -, in_next, out base, out_step, then the widening's
 * passes, off, dst = q, in, step, three steps, entry); per quad (6:) its
 * columns widened into q (7:, EFFC_MM_2X4_UNROLL groups a pass, entered at
 * the group that leaves a multiple of it) and its four output pointers, then
 * the pairs from the head (1:); after them (5:) the next quad. Without quads
 * (job->quads 0: q widened by the caller, its own out[]) the pairs run once. */
#if EFFC_MM_2X4_QUADS
#define EFFC_2X4_FRAME "92"
#define EFFC_2X4_QUADS_START(BOUNDS)                                                          \
    "str    lr, [sp, #28]\n\t"                                                                \
    "ldr    r1, [r0, #52]\n\t" /* quads */                                                    \
    "ldr    r2, [r0, #56]\n\t" /* in */                                                       \
    "ldr    r3, [r0, #60]\n\t" /* off */                                                      \
    "ldrd   r5, r6, [r0, #64]\n\t" /* out_step, in_step */                                    \
    "str    r1, [sp, #40]\n\t"                                                                \
    "lsl    r7, r6, #2\n\t"                                                                   \
    "str    r7, [sp, #48]\n\t"                                                                \
    "strd   r4, r5, [sp, #52]\n\t" /* r4: out[0], the first quad's base */                   \
    "str    r3, [sp, #64]\n\t"                                                                \
    "str    r9, [sp, #68]\n\t"                                                                \
    "str    r2, [sp, #72]\n\t"                                                                \
    "add    r7, r6, r6, lsl #1\n\t"                                                           \
    "strd   r6, r7, [sp, #76]\n\t"                                                            \
    "ldr    r2, [r0, #36]\n\t"                                                                \
    "rsb    r3, r2, #0\n\t"                                                                   \
    "and    r3, r3, #(" EFFC_2X4_UNROLL_STR " - 1)\n\t" /* the groups skipped */              \
    "add    r2, r2, r3\n\t"                                                                   \
    "lsr    r2, r2, #" EFFC_2X4_UNROLL_LOG2 "\n\t"                                            \
    "str    r2, [sp, #60]\n\t"                                                                \
    "mov    r5, #" EFFC_WIDEN_QUAD_BYTES "\n\t"                                               \
    "adr.w  r6, 7f\n\t"                                                                       \
    "mla    r6, r3, r5, r6\n\t"                                                               \
    "orr    r6, r6, #1\n\t"                                                                   \
    "str    r6, [sp, #84]\n\t"                                                                \
    BOUNDS                                                                                    \
    "cmp    r1, #0\n\t"                                                                       \
    "beq    1f\n\t"                                                                           \
    "6:\n\t"                                                                                  \
    "add    r0, sp, #60\n\t"                                                                  \
    "ldm    r0, {r1-r6}\n\t" /* passes, off, dst, in, step, three steps */                   \
    "ldr    r0, [sp, #48]\n\t"                                                                \
    "add    r0, r0, r4\n\t"                                                                   \
    "str    r0, [sp, #72]\n\t"                                                                \
    "ldr    pc, [sp, #84]\n\t"                                                                \
    "7:\n\t"                                                                                  \
    EFFC_WIDEN_QUAD_GROUPS                                                                    \
    "8:\n\t"                                                                                  \
    ".ifne (8b - 7b) - " EFFC_2X4_UNROLL_STR " * " EFFC_WIDEN_QUAD_BYTES "\n\t"               \
    ".error \"EFFC_WIDEN_QUAD_GROUP is not EFFC_WIDEN_QUAD_BYTES bytes\"\n\t"                 \
    ".endif\n\t"                                                                              \
    "subs   r1, r1, #1\n\t"                                                                   \
    "bne    7b\n\t"                                                                           \
    "ldrd   r8, r12, [sp, #52]\n\t"                                                           \
    "add    r9, r8, r12\n\t"                                                                  \
    "add    r10, r9, r12\n\t"                                                                 \
    "add    r11, r10, r12\n\t"                                                                \
    "stm    sp, {r8-r11}\n\t"                                                                 \
    "add    r11, r11, r12\n\t"                                                                \
    "str    r11, [sp, #52]\n\t"                                                               \
    "ldr    lr, [sp, #28]\n\t"                                                                \
    "b      1f\n\t"
#define EFFC_2X4_QUADS_NEXT                                                                   \
    "ldr    r0, [sp, #40]\n\t"                                                                \
    "subs   r0, r0, #1\n\t"                                                                   \
    "str    r0, [sp, #40]\n\t"                                                                \
    "bgt    6b\n\t" /* quads left (0 without quads: -1) */
#else
#define EFFC_2X4_FRAME "44" /* up to act_max */
#define EFFC_2X4_QUADS_START(BOUNDS) BOUNDS "b      1f\n\t"
#define EFFC_2X4_QUADS_NEXT ""
#endif

/* A pair's eight outputs, then the test for the stream's end (flags EQ at w_end): the
 * four pointers and w_end in one LDM, eight byte stores, the pointers back (20 cycles);
 * with EFFC_MM_2X4_FULL_STEP = S (effc_mm_asm.h: the dispatch hands this loop only
 * columns S apart) column 0's pointer and w_end, EFFC_2X4_STEP_STORES, the pointer
 * back (13 cycles). */
#if EFFC_MM_2X4_FULL_STEP
#define EFFC_2X4_STORES                                                                       \
    "ldr    r8, [sp]\n\t"                                                                     \
    "ldr    r12, [sp, #16]\n\t"                                                               \
    EFFC_2X4_STEP_STORES("r8")                                                                \
    "str    r8, [sp]\n\t"                                                                     \
    "cmp    lr, r12\n\t"
#else
#define EFFC_2X4_STORES                                                                       \
    "ldm    sp, {r8-r12}\n\t"                                                                 \
    "strb   r0, [r8], #1\n\t"                                                                 \
    "strb   r4, [r8], #1\n\t"                                                                 \
    "strb   r1, [r9], #1\n\t"                                                                 \
    "strb   r5, [r9], #1\n\t"                                                                 \
    "strb   r2, [r10], #1\n\t"                                                                \
    "strb   r6, [r10], #1\n\t"                                                                \
    "strb   r3, [r11], #1\n\t"                                                                \
    "strb   r7, [r11], #1\n\t"                                                                \
    "stm    sp, {r8-r11}\n\t"                                                                 \
    "cmp    lr, r12\n\t"
#endif

/* The stack holds [out[0..3], w_end, q, loop entry, w, act_min, act_max]
 * and the quad state (EFFC_2X4_QUADS_START) (BOUNDS copies act_min and
 * act_max for CLAMP; the output pointers advance there, not in the job: the
 * caller knows where they end), lr the weight stream throughout. Per pair
 * (the loop rotated: it enters at its head, 1:, and leaves after a pair's
 * stores, so the only taken branch a pair takes is the computed entry): the
 * bias words, the first group (EFFC_2X4_FIRST), then the other groups, an
 * odd count, EFFC_MM_2X4_UNROLL (U) per iteration until the sentinel,
 * entered (LDR into PC) at the group that leaves a multiple of U (the entry
 * computed once: each group is EFFC_2X4_GROUP_BYTES, 32-bit instructions
 * only); the two records (multiplier, round, shift word), eight requantizations,
 * CLAMP, the stores (EFFC_2X4_STORES), and the next pair until the stream reaches
 * w_end; besides the groups, a two-instruction test per U groups (none with one
 * pass). With
 * job->quads > 0 (effc_mm_run_quads) the loop runs once per quad of evenly
 * spaced columns, each widened first into q (EFFC_2X4_QUADS_START), its
 * outputs out base + j * out_step. */
#define EFFC_MM_2X4(CLAMP, BOUNDS)                                                            \
    "push   {r4-r11, lr}\n\t"                                                                 \
    "sub    sp, sp, #" EFFC_2X4_FRAME "\n\t"                                                 \
    "ldr    lr, [r0, #4]\n\t"                                                                 \
    "ldr    r9, [r0]\n\t"                                                                     \
    "ldr    r2, [r0, #36]\n\t"                                                                \
    "sub    r2, r2, #1\n\t"                                                                   \
    "rsb    r2, r2, #0\n\t"                                                                   \
    "and    r2, r2, #(" EFFC_2X4_UNROLL_STR " - 1)\n\t"                                       \
    "mov    r3, #" EFFC_2X4_GROUP_BYTES "\n\t"                                                \
    "adr.w  r1, 2f\n\t"                                                                       \
    "mla    r10, r2, r3, r1\n\t"                                                              \
    "orr    r10, r10, #1\n\t"                                                                 \
    "ldr    r8, [r0, #48]\n\t"                                                                \
    "add    r11, r0, #12\n\t"                                                                 \
    "ldm    r11, {r4-r7}\n\t"                                                                 \
    "stm    sp, {r4-r10}\n\t"                                                                 \
    EFFC_2X4_QUADS_START(BOUNDS)                                                              \
    "2:\n\t"                                                                                  \
    EFFC_2X4_GROUPS                                                                           \
    "4:\n\t"                                                                                  \
    ".ifne (4b - 2b) - " EFFC_2X4_UNROLL_STR " * " EFFC_2X4_GROUP_BYTES "\n\t"                \
    ".error \"EFFC_2X4_GROUP is not EFFC_2X4_GROUP_BYTES bytes\"\n\t"                       \
    ".endif\n\t"                                                                              \
    EFFC_2X4_LOOP_TEST                                                                        \
    EFFC_2X4_REWIND                                                                           \
    EFFC_2X4_REQUANT                                                                          \
    CLAMP                                                                                     \
    EFFC_2X4_STORES                                                                           \
    "beq    5f\n\t"                                                                           \
    "1:\n\t"                                                                                  \
    EFFC_2X4_PAIR_LOADS                                                                       \
    EFFC_2X4_FIRST                                                                            \
    "ldr    pc, [sp, #24]\n\t"                                                                \
    "5:\n\t"                                                                                  \
    EFFC_2X4_QUADS_NEXT                                                                       \
    "add    sp, sp, #" EFFC_2X4_FRAME "\n\t"                                                 \
    "pop    {r4-r11, pc}\n\t"

/* 4-byte aligned: ADR's offset to the groups is resolved in the assembler,
 * which takes the function's start as 4-byte aligned (at -Os GCC aligns
 * functions to 2 bytes, and the computed entry lands 2 bytes off). */
__attribute__((naked, noinline, aligned(4))) void effc_mm_2x4_wide(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_2X4("", ""));
}

__attribute__((naked, noinline, aligned(4))) void effc_mm_2x4_wide_clamp(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_2X4(EFFC_2X4_CLAMP, EFFC_2X4_BOUNDS));
}

#endif /* !EFFC_MM_2X4_STACK */

#else

typedef int effc_mm_s8_asm_unused; /* ISO C wants a declaration in every file */

#endif
