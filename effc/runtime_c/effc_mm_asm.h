/*
 * effc_mm_asm.h - the assembly macros the matrix kernel's loops share
 * (effc_mm_s8_asm.c, effc_mm_quads_asm.c, effc_mm_column_asm.c): requantization
 * of a doubled accumulator, clamping, a wide layout's record, a quad's widened
 * group, the two-channel loops' bounds; and the two-channel loop's build
 * options, which its dispatch (effc_mm_dsp.c) tests too.
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

/* EFFC_RQ without the SUB, for layers whose activation range starts at or
 * above their output zero point (ReLU's, with or without an upper clamp): a
 * negative accumulator's output is then act_min whichever way its rounding
 * goes, so the - [acc < 0] of the ties (effc_requant.h, effc_rq_fast) can
 * go. Three instructions per output; T, EFFC_RQ's temporary, goes unused. */
#define EFFC_RQ_RELU(A, M, R, S, T)                                                           \
    "smmlar " A ", " A ", " M ", " R "\n\t"                                                    \
    "asr    " A ", " A ", " S "\n\t"                                                           \
    "ssat   " A ", #8, " A ", asr #1\n\t"

/* The requantization of each loop family: EFFC_RQ_RELU where its switch
 * (effc_mm_internal.h, effc_dw_internal.h) is 1, else EFFC_RQ. EFFC_RQ_WIDE2: the
 * WIDE2 loops (effc_mm_2x4_wide*, effc_mm_2x1_wide*, effc_mm_4x1_pairs*); EFFC_RQ_S8:
 * the int8-row loop effc_mm_1x4_s8*; EFFC_RQ_DW: the depthwise walks
 * (effc_dw_dsp_asm.c). */
#define EFFC_ASM_STR_(X) #X
#define EFFC_ASM_STR(X) EFFC_ASM_STR_(X)

/* The shifted records' requantization (EFFC_WIDE2_RQ_SHIFT = K, EFFC_WIDE_SHIFTED
 * records of effc_widen_filter_s8): the accumulator A = 2^(1+d) * acc (weights and
 * bias scaled by 2^d on top of their doubling, d = K - s >= 1) and R' = 2^(d-1) +
 * R * 2^d give floor((A * M + R' * 2^32) / 2^(32+K)) = floor((acc * M + 2^30 +
 * R * 2^31) / 2^(31+s)), EFFC_RQ_RELU's value (SMMLA truncates: SMMLAR's + 2^31 would
 * not scale), so the one SSAT shifts by K for every channel. Two instructions per
 * output; S and T go unused. */
#define EFFC_RQ_SHIFTED(A, M, R, S, T) EFFC_RQ_ONE_SHIFT(A, M, R, EFFC_ASM_STR(EFFC_WIDE2_RQ_SHIFT))

/* The one-shift requantization with the firmware's shift K (a string): the WIDE2 loops'
 * (EFFC_RQ_SHIFTED) and the depthwise walks' (effc_dw_asm.h, EFFC_DW_RQ_SHIFT), whose
 * scaled records and taps follow the same derivation (effc_dw_internal.h). */
#define EFFC_RQ_ONE_SHIFT(A, M, R, K)                                                         \
    "smmla  " A ", " A ", " M ", " R "\n\t"                                                    \
    "ssat   " A ", #8, " A ", asr #" K "\n\t"

#if EFFC_WIDE2_RQ_SHIFT
#define EFFC_RQ_WIDE2 EFFC_RQ_SHIFTED
#elif EFFC_WIDE2_RELU
#define EFFC_RQ_WIDE2 EFFC_RQ_RELU
#else
#define EFFC_RQ_WIDE2 EFFC_RQ
#endif
#if EFFC_S8_RELU
#define EFFC_RQ_S8 EFFC_RQ_RELU
#else
#define EFFC_RQ_S8 EFFC_RQ
#endif
#if EFFC_DW_RELU
#define EFFC_RQ_DW EFFC_RQ_RELU
#else
#define EFFC_RQ_DW EFFC_RQ
#endif

/* A = min(max(A, LO), HI) */
#define EFFC_CLAMP(A, LO, HI)                                                                 \
    "cmp    " A ", " LO "\n\t"                                                                 \
    "it     lt\n\t"                                                                            \
    "movlt  " A ", " LO "\n\t"                                                                 \
    "cmp    " A ", " HI "\n\t"                                                                 \
    "it     gt\n\t"                                                                            \
    "movgt  " A ", " HI "\n\t"

/* One requantization record of a wide layout from the weight stream BASE
 * (advanced by its three words): multiplier, round, shift word into M, R, S
 * (ascending) with one LDM, or, the shifted loops reading no shift word, M and R
 * with one LDRD (3 cycles instead of 4). */
#if EFFC_WIDE2_RQ_SHIFT
#define EFFC_WIDE_RECORD(BASE, M, R, S) "ldrd   " M ", " R ", [" BASE "], #12\n\t"
#else
#define EFFC_WIDE_RECORD(BASE, M, R, S) "ldm    " BASE "!, {" M ", " R ", " S "}\n\t"
#endif

/* The two-channel loops' requantization: channel 0's record, its four columns'
 * accumulators r0-r3, channel 1's record, r4-r7 (r8-r11 taken). */
#define EFFC_2X4_REQUANT                                                                      \
    EFFC_WIDE_RECORD("lr", "r8", "r9", "r10")                                                 \
    EFFC_RQ_WIDE2("r0", "r8", "r9", "r10", "r11")                                             \
    EFFC_RQ_WIDE2("r1", "r8", "r9", "r10", "r11")                                             \
    EFFC_RQ_WIDE2("r2", "r8", "r9", "r10", "r11")                                             \
    EFFC_RQ_WIDE2("r3", "r8", "r9", "r10", "r11")                                             \
    EFFC_WIDE_RECORD("lr", "r8", "r9", "r10")                                                 \
    EFFC_RQ_WIDE2("r4", "r8", "r9", "r10", "r11")                                             \
    EFFC_RQ_WIDE2("r5", "r8", "r9", "r10", "r11")                                             \
    EFFC_RQ_WIDE2("r6", "r8", "r9", "r10", "r11")                                             \
    EFFC_RQ_WIDE2("r7", "r8", "r9", "r10", "r11")

/* EFFC_MM_2X4_STACK: the build whose two-channel loop keeps the widened columns on
 * its stack (effc_mm_quads_asm.c; else effc_mm_s8_asm.c's loop): one pass, 16 groups
 * unrolled, the quads widened by the loop. */
#define EFFC_MM_2X4_STACK                                                                     \
    (EFFC_MM_2X4_ONE_PASS && EFFC_MM_2X4_QUADS && EFFC_MM_2X4_UNROLL == 16)

/* EFFC_MM_2X4_FULL_STEP=S (effc/codegen/c/kernel_set.py): column j's two outputs go to
 * column 0's + j * S, immediate offsets, in the full form of the stack loop (with
 * EFFC_MM_2X4_STACK: 16 groups, KWS's pointwise k = 64; effc_mm_quads_asm.c) or in every
 * form of the unrolled loop (without it: the --flash-budget compact form's,
 * effc_mm_s8_asm.c); 0, the default: every form stores at each column's own offset. */
#ifndef EFFC_MM_2X4_FULL_STEP
#define EFFC_MM_2X4_FULL_STEP 0
#endif

#if EFFC_MM_2X4_FULL_STEP
/* A channel pair's four columns' outputs at BASE + j * S (S = EFFC_MM_2X4_FULL_STEP):
 * column j's two bytes as one STRH (BFI puts channel 1's over byte 1; Cortex-M4 and
 * later store unaligned halfwords) at an immediate offset (STRH's 12 bits hold 3 S <=
 * 4095), column 0's last, advancing BASE by 2: 8 instructions, 8 cycles. */
#define EFFC_2X4_STEP_S EFFC_ASM_STR(EFFC_MM_2X4_FULL_STEP)
#define EFFC_2X4_STEP_STORES(BASE)                                                            \
    ".if " EFFC_2X4_STEP_S " < 1 || 3 * " EFFC_2X4_STEP_S " > 4095\n\t"                       \
    ".error \"EFFC_MM_2X4_FULL_STEP is not in 1..1365\"\n\t"                                  \
    ".endif\n\t"                                                                              \
    "bfi    r1, r5, #8, #8\n\t"                                                               \
    "strh   r1, [" BASE ", #" EFFC_2X4_STEP_S "]\n\t"                                         \
    "bfi    r2, r6, #8, #8\n\t"                                                               \
    "strh   r2, [" BASE ", #2 * " EFFC_2X4_STEP_S "]\n\t"                                     \
    "bfi    r3, r7, #8, #8\n\t"                                                               \
    "strh   r3, [" BASE ", #3 * " EFFC_2X4_STEP_S "]\n\t"                                     \
    "bfi    r0, r4, #8, #8\n\t"                                                               \
    "strh   r0, [" BASE "], #2\n\t"
#endif

/* The bytes between the output columns the two-channel loop's form for `groups` groups
 * stores, 0 for any: the dispatch (effc_mm_dsp.c) hands that form only columns so spaced. */
static inline int32_t effc_mm_2x4_step(int32_t groups)
{
    return !EFFC_MM_2X4_STACK || groups == 16 ? EFFC_MM_2X4_FULL_STEP : 0;
}

/* Four evenly spaced columns (r4 the first, advanced; r5 the step, r6 three
 * steps), one group: the words into r8-r11, their (x0, x2) pairs x - zp into
 * r0, r7, r12, lr (r2 the -zp offset) and their (x1, x3) pairs in place, two
 * STMs to r3. 14 instructions, EFFC_WIDEN_QUAD_BYTES (56) bytes (22 and 88
 * under EFFC_WIDE2_PACKED, which doubles the pairs with SADD16): the
 * two-channel loops' quads (effc_mm_s8_asm.c, effc_mm_quads_asm.c) enter them
 * computed. */
#define EFFC_WIDEN_QUAD_WORDS                                                                 \
    "ldr    r9, [r4, r5]\n\t"                                                                 \
    "ldr    r10, [r4, r5, lsl #1]\n\t"                                                        \
    "ldr    r11, [r4, r6]\n\t"                                                                \
    "ldr    r8, [r4], #4\n\t"                                                                 \
    "sxtab16 r0, r2, r8\n\t"                                                                  \
    "sxtab16 r8, r2, r8, ror #8\n\t"                                                          \
    "sxtab16 r7, r2, r9\n\t"                                                                  \
    "sxtab16 r9, r2, r9, ror #8\n\t"                                                          \
    "sxtab16 r12, r2, r10\n\t"                                                                \
    "sxtab16 r10, r2, r10, ror #8\n\t"                                                        \
    "sxtab16 lr, r2, r11\n\t"                                                                 \
    "sxtab16 r11, r2, r11, ror #8\n\t"
#define EFFC_WIDEN_QUAD_STORES                                                                \
    "stm    r3!, {r0, r7, r12, lr}\n\t"                                                       \
    "stm    r3!, {r8-r11}\n\t"
#if EFFC_WIDE2_PACKED /* PAIR8's undoubled weights: the columns doubled, 2 * (x - zp) */
#define EFFC_WIDEN_QUAD_BYTES "88"
#define EFFC_WIDEN_QUAD_GROUP                                                                 \
    EFFC_WIDEN_QUAD_WORDS                                                                     \
    "sadd16 r0, r0, r0\n\t"                                                                   \
    "sadd16 r7, r7, r7\n\t"                                                                   \
    "sadd16 r12, r12, r12\n\t"                                                                \
    "sadd16 lr, lr, lr\n\t"                                                                   \
    "sadd16 r8, r8, r8\n\t"                                                                   \
    "sadd16 r9, r9, r9\n\t"                                                                   \
    "sadd16 r10, r10, r10\n\t"                                                                \
    "sadd16 r11, r11, r11\n\t"                                                                \
    EFFC_WIDEN_QUAD_STORES
#else
#define EFFC_WIDEN_QUAD_BYTES "56"
#define EFFC_WIDEN_QUAD_GROUP EFFC_WIDEN_QUAD_WORDS EFFC_WIDEN_QUAD_STORES
#endif

/* The bytes of a pair's weights per group, as a shift: EFFC_FILTER_PAIR8's one word a
 * parity under EFFC_WIDE2_PACKED, else WIDE2's two. */
#if EFFC_WIDE2_PACKED
#define EFFC_PAIR_GROUP_BYTES_LOG2 "3" /* a pair's block: 8 G + 32 bytes */
#else
#define EFFC_PAIR_GROUP_BYTES_LOG2 "4" /* a pair's block: 16 G + 32 bytes */
#endif

/* A channel pair's first group, its SMLADs from the bias words (r0 channel 0, r4
 * channel 1) as the accumulators' start (no copies): r8/r9 the pair's weight words,
 * r10/r11 columns 0, 1; LOAD_COLS23 puts columns 2, 3 into r2/r3, which are their own
 * channel-0 accumulators. The unrolled loop loads them from the column pointer
 * (EFFC_2X4_FIRST), the stack loop from its slot (EFFC_2X4S_FIRST_REST). */
#define EFFC_2X4_FIRST_MACS(LOAD_COLS23)                                                      \
    "smlad  r1, r11, r8, r0\n\t"                                                              \
    "smlad  r5, r11, r9, r4\n\t"                                                              \
    LOAD_COLS23                                                                               \
    "smlad  r6, r2, r9, r4\n\t"                                                               \
    "smlad  r7, r3, r9, r4\n\t"                                                               \
    "smlad  r2, r2, r8, r0\n\t"                                                               \
    "smlad  r3, r3, r8, r0\n\t"                                                               \
    "smlad  r0, r10, r8, r0\n\t"                                                              \
    "smlad  r4, r10, r9, r4\n\t"

/* A pair's four weight words of a group (channel 0, channel 1 of parity 0, then of
 * parity 1) into the ascending registers A < B < C < D from the stream BASE (advanced):
 * WIDE2's with one LDM, PAIR8's two words with one LDRD split by four SXTB16. */
#if EFFC_WIDE2_PACKED
#define EFFC_PAIR_GROUP_WORDS(BASE, A, B, C, D)                                               \
    "ldrd   " A ", " C ", [" BASE "], #8\n\t"                                                \
    "sxtb16 " B ", " A ", ror #8\n\t"                                                         \
    "sxtb16 " A ", " A "\n\t"                                                                 \
    "sxtb16 " D ", " C ", ror #8\n\t"                                                         \
    "sxtb16 " C ", " C "\n\t"
#else
#define EFFC_PAIR_GROUP_WORDS(BASE, A, B, C, D)                                               \
    "ldm    " BASE "!, {" A ", " B ", " C ", " D "}\n\t"
#endif

/* The two-channel loops' bounds: act_min / act_max onto the stack at +32 (r0 = job). */
#define EFFC_2X4_BOUNDS                                                                       \
    "ldrd   r4, r5, [r0, #40]\n\t"                                                            \
    "strd   r4, r5, [sp, #32]\n\t"

/* act_min / act_max on the stack at +32. */
#define EFFC_2X4_CLAMP                                                                        \
    "ldrd   r8, r9, [sp, #32]\n\t"                                                            \
    EFFC_CLAMP("r0", "r8", "r9")                                                              \
    EFFC_CLAMP("r1", "r8", "r9")                                                              \
    EFFC_CLAMP("r2", "r8", "r9")                                                              \
    EFFC_CLAMP("r3", "r8", "r9")                                                              \
    EFFC_CLAMP("r4", "r8", "r9")                                                              \
    EFFC_CLAMP("r5", "r8", "r9")                                                              \
    EFFC_CLAMP("r6", "r8", "r9")                                                              \
    EFFC_CLAMP("r7", "r8", "r9")

#endif
