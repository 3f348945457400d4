/*
 * effc_mm_quads_asm.c - the two-channel x four-column loop (effc_mm_2x4_wide,
 * EFFC_FILTER_WIDE2 weights) of the builds where it runs in one pass and
 * widens its own quads (EFFC_MM_2X4_STACK, effc_mm_asm.h: the speed builds of
 * models whose WIDE2 layers all have k <= 68, effc/codegen/c/kernel_set.py);
 * the other builds take effc_mm_s8_asm.c's. Same job, same results. Under
 * EFFC_WIDE2_PACKED its groups read EFFC_FILTER_PAIR8 weights (EFFC_2X4S_HALF).
 *
 * The widened columns of a quad live on the loop's stack at fixed places, so
 * every group reads them with immediate offsets: no column pointer, and no
 * reload of it per channel pair. Group 0 goes to the slot F, groups 1..G-1 to
 * the end of the 16 body slots (positions e = 17 - G to 15), so a shorter k
 * enters the body at position e and every slot stays where its group's code
 * reads it; the pair's first group (EFFC_2X4S_FIRST, from the bias words)
 * reads F. r12, free, is column 0's next output (a pair's two bytes, one
 * STRH that advances it): the end test against column 0's end, and the base
 * of the other columns' STRHs at their offsets from column 0 (immediate ones
 * in the full form with EFFC_MM_2X4_FULL_STEP), so no pointer is stored back.
 * Two forms of the pair loop: the short one (G < 16 or G = 17) enters the
 * body computed (LDR into PC) after the first group; the full one (G = 16,
 * KWS's pointwise k = 64) is straight: head, first group, positions 1..15, the
 * requantization and stores, and a conditional branch back to the head.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)

#include "effc_mm_asm.h"

#if EFFC_MM_2X4_STACK

/* The frame: 0 the end of column 0's outputs (out[0] + 2 * pairs), 4, 8, 12
 * columns 1-3's offsets from column 0 (out[j] - out[0]), 20 -2 * pairs, 24 w,
 * 28 the short form's entry, 32 act_min,
 * 36 act_max, 40 quads, 48 4 * in_step, 52 the quad's out base + 2 * pairs,
 * 56 out_step, then what the widening loads at once: 60 gap (32 e), 64 off,
 * 68 dst (F), 72 in, 76 step, 80 three steps; 84 the widening's entry, 88 the
 * pair loop's head (a form's); 96 the slot F, 128 + 32 p body position p's
 * slot (p = 0..15), 640 the end. */
#define EFFC_2X4S_FRAME "640"
#define EFFC_2X4S_F "96"
#define EFFC_2X4S_AT(P) "128 + 32 * " #P

/* The pair's first group after its loads (r8/r9 the pair's weight words, r10/r11
 * columns 0, 1 of slot F): the rest of the group from the bias words (r0, r4), both
 * layouts' (EFFC_2X4S_FIRST below). */
#define EFFC_2X4S_FIRST_REST                                                                  \
    EFFC_2X4_FIRST_MACS("ldrd   r2, r3, [sp, #" EFFC_2X4S_F " + 8]\n\t")                      \
    EFFC_2X4S_HALF2(EFFC_2X4S_F)

#if EFFC_WIDE2_PACKED
/* Half a group at slot O (the words of one parity: columns 0, 1 at O, 2, 3 at
 * O + 8), EFFC_FILTER_PAIR8 weights: the pair's word splits by SXTB16 into
 * channel 0's (r8) and channel 1's (r9); its load and two LDRs of columns run
 * back to back (pipelined, 4 cycles for 3 words), then LDRD for columns 2, 3:
 * 14 instructions and 17 cycles for 16 MACs. */
#define EFFC_2X4S_HALF(O)                                                                     \
    "ldr    r9, [lr], #4\n\t"                                                                 \
    "ldr    r10, [sp, #" O "]\n\t"                                                            \
    "ldr    r11, [sp, #" O " + 4]\n\t"                                                        \
    "sxtb16 r8, r9\n\t"                                                                       \
    "sxtb16 r9, r9, ror #8\n\t"                                                               \
    "smlad  r0, r10, r8, r0\n\t"                                                              \
    "smlad  r4, r10, r9, r4\n\t"                                                              \
    "smlad  r1, r11, r8, r1\n\t"                                                              \
    "smlad  r5, r11, r9, r5\n\t"                                                              \
    "ldrd   r10, r11, [sp, #" O " + 8]\n\t"                                                   \
    "smlad  r2, r10, r8, r2\n\t"                                                              \
    "smlad  r6, r10, r9, r6\n\t"                                                              \
    "smlad  r3, r11, r8, r3\n\t"                                                              \
    "smlad  r7, r11, r9, r7\n\t"
#define EFFC_2X4S_HALF2(O) EFFC_2X4S_HALF(O " + 16")
#define EFFC_2X4S_GROUP(O) EFFC_2X4S_HALF(O) EFFC_2X4S_HALF2(O)
#define EFFC_2X4S_GROUP_BYTES "112"

/* The pair's first group (slot F) from the bias words (r0 channel 0, r4
 * channel 1), as the WIDE2 form below. */
#define EFFC_2X4S_FIRST                                                                       \
    "ldr    r9, [lr], #4\n\t"                                                                 \
    "ldr    r10, [sp, #" EFFC_2X4S_F "]\n\t"                                                  \
    "ldr    r11, [sp, #" EFFC_2X4S_F " + 4]\n\t"                                              \
    "sxtb16 r8, r9\n\t"                                                                       \
    "sxtb16 r9, r9, ror #8\n\t"                                                               \
    EFFC_2X4S_FIRST_REST

#else
/* The second half of a group at slot O: the (x1, x3) words, 2 LDRD and 8 SMLAD. */
#define EFFC_2X4S_GROUP_BYTES "88"
#define EFFC_2X4S_HALF2(O)                                                                    \
    "ldrd   r8, r9, [lr], #8\n\t"                                                             \
    "ldrd   r10, r11, [sp, #" O " + 16]\n\t"                                                  \
    "smlad  r0, r10, r8, r0\n\t"                                                              \
    "smlad  r4, r10, r9, r4\n\t"                                                              \
    "smlad  r1, r11, r8, r1\n\t"                                                              \
    "smlad  r5, r11, r9, r5\n\t"                                                              \
    "ldrd   r10, r11, [sp, #" O " + 24]\n\t"                                                  \
    "smlad  r2, r10, r8, r2\n\t"                                                              \
    "smlad  r6, r10, r9, r6\n\t"                                                              \
    "smlad  r3, r11, r8, r3\n\t"                                                              \
    "smlad  r7, r11, r9, r7\n\t"

/* One group of a channel pair from slot O: lr the weight stream (advanced),
 * r0-r3 channel 0's accumulators of columns 0-3, r4-r7 channel 1's, r8/r9 the
 * pair's weight words, r10/r11 two column words. 6 LDRD and 16 SMLAD for 32
 * MACs, 88 bytes (the computed entry). */
#define EFFC_2X4S_GROUP(O)                                                                    \
    "ldrd   r8, r9, [lr], #8\n\t"                                                             \
    "ldrd   r10, r11, [sp, #" O "]\n\t"                                                       \
    "smlad  r0, r10, r8, r0\n\t"                                                              \
    "smlad  r4, r10, r9, r4\n\t"                                                              \
    "smlad  r1, r11, r8, r1\n\t"                                                              \
    "smlad  r5, r11, r9, r5\n\t"                                                              \
    "ldrd   r10, r11, [sp, #" O " + 8]\n\t"                                                   \
    "smlad  r2, r10, r8, r2\n\t"                                                              \
    "smlad  r6, r10, r9, r6\n\t"                                                              \
    "smlad  r3, r11, r8, r3\n\t"                                                              \
    "smlad  r7, r11, r9, r7\n\t"                                                              \
    EFFC_2X4S_HALF2(O)

/* The pair's first group (slot F) with the bias words (r0 channel 0, r4
 * channel 1) as the accumulators' start: columns 2 and 3 go through r2/r3,
 * their own channel-0 accumulators. 22 instructions, as a group. */
#define EFFC_2X4S_FIRST                                                                       \
    "ldrd   r8, r9, [lr], #8\n\t"                                                             \
    "ldrd   r10, r11, [sp, #" EFFC_2X4S_F "]\n\t"                                             \
    EFFC_2X4S_FIRST_REST

#endif

#define EFFC_2X4S_G(P) EFFC_2X4S_GROUP(EFFC_2X4S_AT(P))
#define EFFC_2X4S_BODY_1_15                                                                   \
    EFFC_2X4S_G(1) EFFC_2X4S_G(2) EFFC_2X4S_G(3) EFFC_2X4S_G(4) EFFC_2X4S_G(5)                \
    EFFC_2X4S_G(6) EFFC_2X4S_G(7) EFFC_2X4S_G(8) EFFC_2X4S_G(9) EFFC_2X4S_G(10)               \
    EFFC_2X4S_G(11) EFFC_2X4S_G(12) EFFC_2X4S_G(13) EFFC_2X4S_G(14) EFFC_2X4S_G(15)

/* A pair's head: the bias words, then the first group. */
#define EFFC_2X4S_HEAD                                                                        \
    "ldrd   r0, r4, [lr], #8\n\t"                                                             \
    EFFC_2X4S_FIRST

/* After the groups: the two records (multiplier, round, shift word), eight
 * requantizations, CLAMP, then STORES: each column's two bytes as one STRH
 * (BFI puts channel 1 over byte 1; Cortex-M4 and later store unaligned
 * halfwords, as effc_write_u32 does words), column 0's last, advancing r12
 * by 2; flags EQ after the last pair (r12 at column 0's end). */
#define EFFC_2X4S_END(CLAMP, STORES)                                                          \
    EFFC_2X4_REQUANT                                                                          \
    CLAMP                                                                                     \
    STORES

/* Columns 1-3 at their offsets from column 0 (one LDM with column 0's end):
 * 10 instructions, 17 cycles. */
#define EFFC_2X4S_STORES                                                                      \
    "ldm    sp, {r8-r11}\n\t"                                                                 \
    "bfi    r1, r5, #8, #8\n\t"                                                               \
    "strh   r1, [r12, r9]\n\t"                                                                \
    "bfi    r2, r6, #8, #8\n\t"                                                               \
    "strh   r2, [r12, r10]\n\t"                                                               \
    "bfi    r3, r7, #8, #8\n\t"                                                               \
    "strh   r3, [r12, r11]\n\t"                                                               \
    "bfi    r0, r4, #8, #8\n\t"                                                               \
    "strh   r0, [r12], #2\n\t"                                                                \
    "cmp    r12, r8\n\t"

/* The full form's with EFFC_MM_2X4_FULL_STEP = S: columns 1-3 at S, 2 S, 3 S
 * (EFFC_2X4_STEP_STORES), 10 instructions, 11 cycles; without it EFFC_2X4S_STORES. */
#if EFFC_MM_2X4_FULL_STEP
#define EFFC_2X4S_FULL_STORES                                                                 \
    EFFC_2X4_STEP_STORES("r12")                                                               \
    "ldr    r8, [sp]\n\t"                                                                     \
    "cmp    r12, r8\n\t"
#else
#define EFFC_2X4S_FULL_STORES EFFC_2X4S_STORES
#endif

/* Setup (r0 = job; G = groups, 2..17 by effc_mm_2x4_fits, e = 17 - G): the
 * frame, the short form's entry (body position e), the widening's entry (its
 * position e: groups 1..G-1), the head of the form G takes, the quad state.
 * Without quads (effc_mm_run: the caller widened the columns at job->q) the
 * groups are copied to their slots and the pairs run once. Per quad (6:) its
 * group 0 widened into F, groups 1..G-1 into the body's last slots (7:, entered
 * computed), its column 0's end (the other columns' offsets are the job's:
 * j * out_step, effc_mm_quads), then the pairs from the form's head; after
 * them (5:) the next quad. */
#define EFFC_MM_2X4S(CLAMP, BOUNDS)                                                           \
    "push   {r4-r11, lr}\n\t"                                                                 \
    "sub    sp, sp, #" EFFC_2X4S_FRAME "\n\t"                                                 \
    "ldr    lr, [r0, #4]\n\t"                                                                 \
    "ldr    r9, [r0]\n\t"                                                                     \
    "ldr    r2, [r0, #36]\n\t"                                                                \
    "ldr    r8, [r0, #48]\n\t"                                                                \
    "lsl    r1, r2, #" EFFC_PAIR_GROUP_BYTES_LOG2 "\n\t"                                      \
    "add    r1, r1, #32\n\t" /* a pair's block: 16 G (PAIR8: 8 G) + 32 bytes */                \
    "sub    r3, r8, lr\n\t"                                                                   \
    "udiv   r1, r3, r1\n\t" /* pairs */                                                       \
    "lsl    r1, r1, #1\n\t"                                                                   \
    "add    r11, r0, #12\n\t"                                                                 \
    "ldm    r11, {r4-r7}\n\t"                                                                 \
    "sub    r5, r5, r4\n\t"                                                                   \
    "sub    r6, r6, r4\n\t"                                                                   \
    "sub    r7, r7, r4\n\t"                                                                   \
    "add    r4, r4, r1\n\t"                                                                   \
    "stm    sp, {r4-r7}\n\t"                                                                  \
    "rsb    r1, r1, #0\n\t"                                                                   \
    "strd   r1, lr, [sp, #20]\n\t"                                                            \
    "rsb    r3, r2, #17\n\t" /* e */                                                          \
    "mov    r1, #" EFFC_2X4S_GROUP_BYTES "\n\t"                                               \
    "adr.w  r10, 2f\n\t"                                                                      \
    "mla    r10, r3, r1, r10\n\t"                                                             \
    "orr    r10, r10, #1\n\t"                                                                 \
    "str    r10, [sp, #28]\n\t"                                                               \
    "mov    r1, #" EFFC_WIDEN_QUAD_BYTES "\n\t"                                               \
    "adr.w  r10, 7f\n\t"                                                                      \
    "mla    r10, r3, r1, r10\n\t"                                                             \
    "orr    r10, r10, #1\n\t"                                                                 \
    "adr.w  r11, 1f\n\t"                                                                      \
    "adr.w  r1, 3f\n\t"                                                                       \
    "cmp    r2, #16\n\t"                                                                      \
    "it     eq\n\t"                                                                           \
    "moveq  r11, r1\n\t"                                                                      \
    "orr    r11, r11, #1\n\t"                                                                 \
    "strd   r10, r11, [sp, #84]\n\t"                                                          \
    "lsl    r3, r3, #5\n\t"                                                                   \
    "add    r1, sp, #" EFFC_2X4S_F "\n\t"                                                     \
    "str    r3, [sp, #60]\n\t"                                                                \
    "str    r1, [sp, #68]\n\t"                                                                \
    "ldr    r1, [r0, #52]\n\t" /* quads */                                                    \
    "ldr    r2, [r0, #56]\n\t" /* in */                                                       \
    "ldr    r3, [r0, #60]\n\t" /* off */                                                      \
    "ldrd   r5, r6, [r0, #64]\n\t" /* out_step, in_step */                                    \
    "str    r1, [sp, #40]\n\t"                                                                \
    "lsl    r7, r6, #2\n\t"                                                                   \
    "str    r7, [sp, #48]\n\t"                                                                \
    "strd   r4, r5, [sp, #52]\n\t" /* r4: out[0]'s end, the first quad's */                   \
    "str    r3, [sp, #64]\n\t"                                                                \
    "str    r2, [sp, #72]\n\t"                                                                \
    "add    r7, r6, r6, lsl #1\n\t"                                                           \
    "strd   r6, r7, [sp, #76]\n\t"                                                            \
    BOUNDS                                                                                    \
    "cmp    r1, #0\n\t"                                                                       \
    "bne    6f\n\t"                                                                           \
    "ldm    r9!, {r0-r7}\n\t" /* no quads: job->q's groups to their slots */                  \
    "add    r10, sp, #" EFFC_2X4S_F "\n\t"                                                    \
    "stm    r10, {r0-r7}\n\t"                                                                 \
    "ldr    r10, [sp, #60]\n\t"                                                               \
    "add    r10, r10, sp\n\t"                                                                 \
    "add    r10, r10, #" EFFC_2X4S_AT(0) "\n\t"                                               \
    "add    r11, sp, #" EFFC_2X4S_FRAME "\n\t"                                                \
    "b      11f\n\t"                                                                          \
    "10:\n\t"                                                                                 \
    "ldm    r9!, {r0-r7}\n\t"                                                                 \
    "stm    r10!, {r0-r7}\n\t"                                                                \
    "11:\n\t"                                                                                 \
    "cmp    r10, r11\n\t"                                                                     \
    "bne    10b\n\t"                                                                          \
    "ldr    r12, [sp, #20]\n\t"                                                               \
    "ldr    r1, [sp]\n\t"                                                                     \
    "add    r12, r12, r1\n\t" /* out[0] */                                                    \
    "ldr    pc, [sp, #88]\n\t"                                                                \
    "6:\n\t"                                                                                  \
    "add    r0, sp, #60\n\t"                                                                  \
    "ldm    r0, {r1-r6}\n\t" /* gap, off, dst, in, step, three steps */                       \
    "ldr    r0, [sp, #48]\n\t"                                                                \
    "add    r0, r0, r4\n\t"                                                                   \
    "str    r0, [sp, #72]\n\t"                                                                \
    EFFC_WIDEN_QUAD_GROUP                                                                     \
    "add    r3, r3, r1\n\t"                                                                   \
    "ldr    pc, [sp, #84]\n\t"                                                                \
    "7:\n\t"                                                                                  \
    EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP   \
    EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP   \
    EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP   \
    EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_GROUP   \
    "8:\n\t"                                                                                  \
    ".ifne (8b - 7b) - 16 * " EFFC_WIDEN_QUAD_BYTES "\n\t"                                    \
    ".error \"EFFC_WIDEN_QUAD_GROUP is not EFFC_WIDEN_QUAD_BYTES bytes\"\n\t"                 \
    ".endif\n\t"                                                                              \
    "ldrd   r8, r12, [sp, #52]\n\t" /* the quad's column 0 end, out_step */                   \
    "str    r8, [sp]\n\t"                                                                     \
    "add    r12, r8, r12, lsl #2\n\t"                                                         \
    "str    r12, [sp, #52]\n\t" /* the next quad's */                                         \
    "ldrd   r12, lr, [sp, #20]\n\t" /* -2 * pairs, w */                                       \
    "add    r12, r12, r8\n\t" /* column 0's first output */                                   \
    "ldr    pc, [sp, #88]\n\t"                                                                \
    /* the short form: the body from position e (2:), after the pair's head (1:) */           \
    "2:\n\t"                                                                                  \
    EFFC_2X4S_G(0) EFFC_2X4S_BODY_1_15                                                        \
    "4:\n\t"                                                                                  \
    ".ifne (4b - 2b) - 16 * " EFFC_2X4S_GROUP_BYTES "\n\t" /* the computed entry */           \
    ".error \"EFFC_2X4S_GROUP is not EFFC_2X4S_GROUP_BYTES bytes\"\n\t"                       \
    ".endif\n\t"                                                                              \
    EFFC_2X4S_END(CLAMP, EFFC_2X4S_STORES)                                                    \
    "beq    5f\n\t"                                                                           \
    "1:\n\t"                                                                                  \
    EFFC_2X4S_HEAD                                                                            \
    "ldr    pc, [sp, #28]\n\t"                                                                \
    /* the full form (G = 16): straight, one taken branch a pair */                           \
    "3:\n\t"                                                                                  \
    EFFC_2X4S_HEAD                                                                            \
    EFFC_2X4S_BODY_1_15                                                                       \
    EFFC_2X4S_END(CLAMP, EFFC_2X4S_FULL_STORES)                                               \
    "bne    3b\n\t"                                                                           \
    "5:\n\t"                                                                                  \
    "ldr    r0, [sp, #40]\n\t"                                                                \
    "subs   r0, r0, #1\n\t"                                                                   \
    "str    r0, [sp, #40]\n\t"                                                                \
    "bgt    6b\n\t" /* quads left (0 without quads: -1) */                                    \
    "add    sp, sp, #" EFFC_2X4S_FRAME "\n\t"                                                 \
    "pop    {r4-r11, pc}\n\t"

/* 4-byte aligned: ADR's offsets are resolved in the assembler, which takes the
 * function's start as 4-byte aligned (tests/test_asm_alignment.py). */
__attribute__((naked, noinline, aligned(4))) void effc_mm_2x4_wide(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_2X4S("", ""));
}

__attribute__((naked, noinline, aligned(4))) void effc_mm_2x4_wide_clamp(EFFC_ARG effc_mm_job *job)
{
    __asm__ volatile(EFFC_MM_2X4S(EFFC_2X4_CLAMP, EFFC_2X4_BOUNDS));
}

#else

typedef int effc_mm_quads_asm_unused; /* ISO C wants a declaration in every file */

#endif

#else

typedef int effc_mm_quads_asm_unused; /* ISO C wants a declaration in every file */

#endif
