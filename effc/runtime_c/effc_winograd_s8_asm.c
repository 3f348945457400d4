/*
 * effc_winograd_s8_asm.c - the Cortex-M DSP loops of effc_winograd_s8.c in
 * assembly: naked functions with a fixed allocation of the 14 usable
 * registers, so the instruction counts do not depend on compiler flags.
 * Compiled only where the DSP extension is available (empty otherwise).
 *
 * Layouts (effc_winograd_s8.c): V is [position][channel pair][tile] int16
 * pairs, channel pair 2k = channels (4k, 4k + 2), 2k + 1 = (4k + 1, 4k + 3),
 * the SXTB16 order; M is [position][tile] int32; 4 tiles per group.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_DSP)

#define EFFC_ARG __attribute__((unused))
#define EFFC_S(x) #x
#define EFFC_STR(x) EFFC_S(x)

/* M[p][0..3] for every position p: r0 = U (int16 pairs, [P][c4 / 2] words),
 * r1 = V ([P][c4 / 2][4] words), r2 = quads = c4 / 4 (> 0), r3 = P (> 0),
 * [sp] = M ([P][4] int32). Per quad of channels: LDRD of two weight words,
 * two LDM of four V words, 8 SMLAD (16 MACs in 13 instructions with the
 * loop; the first quad of each position SMUAD, without the loop). SMLAD
 * wraps modulo 2^32, as the portable body's sums do. */
__attribute__((naked, noinline)) void effc_wino_products_asm(EFFC_ARG const int32_t *u,
                                                            EFFC_ARG const int32_t *v,
                                                            EFFC_ARG int32_t quads,
                                                            EFFC_ARG int32_t positions,
                                                            EFFC_ARG int32_t *m)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "ldr    r12, [sp, #36]\n\t"
        "subs   r2, r2, #1\n\t"
        "push   {r2, r3}\n\t"
        "mov    r3, r12\n\t"
        "1:\n\t" /* the first quad starts the sums (SMUAD) */
        "ldrd   r12, lr, [r0], #8\n\t"
        "ldm    r1!, {r8-r11}\n\t"
        "smuad  r4, r12, r8\n\t"
        "smuad  r5, r12, r9\n\t"
        "smuad  r6, r12, r10\n\t"
        "smuad  r7, r12, r11\n\t"
        "ldm    r1!, {r8-r11}\n\t"
        "smlad  r4, lr, r8, r4\n\t"
        "smlad  r5, lr, r9, r5\n\t"
        "smlad  r6, lr, r10, r6\n\t"
        "smlad  r7, lr, r11, r7\n\t"
        "ldr    r2, [sp]\n\t"
        "cbz    r2, 3f\n\t"
        "2:\n\t"
        "ldrd   r12, lr, [r0], #8\n\t"
        "ldm    r1!, {r8-r11}\n\t"
        "smlad  r4, r12, r8, r4\n\t"
        "smlad  r5, r12, r9, r5\n\t"
        "smlad  r6, r12, r10, r6\n\t"
        "smlad  r7, r12, r11, r7\n\t"
        "ldm    r1!, {r8-r11}\n\t"
        "smlad  r4, lr, r8, r4\n\t"
        "smlad  r5, lr, r9, r5\n\t"
        "smlad  r6, lr, r10, r6\n\t"
        "smlad  r7, lr, r11, r7\n\t"
        "subs   r2, r2, #1\n\t"
        "bne    2b\n\t"
        "3:\n\t"
        "stm    r3!, {r4-r7}\n\t"
        "ldr    r2, [sp, #4]\n\t"
        "subs   r2, r2, #1\n\t"
        "str    r2, [sp, #4]\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #8\n\t"
        "pop    {r4-r11, pc}\n\t");
}

/* ------------------------------------------------------ input transform */

/* Column j of the 4x4 tile for 4 channels: the pixel words (pointers in the
 * table at r0, byte offset r1, zero-point pair r2), widened, B^T d over the
 * rows; stored to the buffer at sp as [row i][lane k][column j] words. */
#define EFFC_WINO_COLUMN(J)                                                                   \
    "ldr    r12, [r0, #" EFFC_STR(4 * J) "]\n\t"                                              \
    "ldr    r5, [r12, r1]\n\t"                                                                \
    "ldr    r12, [r0, #" EFFC_STR(16 + 4 * J) "]\n\t"                                         \
    "ldr    r6, [r12, r1]\n\t"                                                                \
    "ldr    r12, [r0, #" EFFC_STR(32 + 4 * J) "]\n\t"                                         \
    "ldr    r7, [r12, r1]\n\t"                                                                \
    "ldr    r12, [r0, #" EFFC_STR(48 + 4 * J) "]\n\t"                                         \
    "ldr    r8, [r12, r1]\n\t"                                                                \
    "sxtab16 r9, r2, r5\n\t"                                                                  \
    "sxtab16 r5, r2, r5, ror #8\n\t"                                                          \
    "sxtab16 r10, r2, r6\n\t"                                                                 \
    "sxtab16 r6, r2, r6, ror #8\n\t"                                                          \
    "sxtab16 r11, r2, r7\n\t"                                                                 \
    "sxtab16 r7, r2, r7, ror #8\n\t"                                                          \
    "sxtab16 lr, r2, r8\n\t"                                                                  \
    "sxtab16 r8, r2, r8, ror #8\n\t"                                                          \
    "ssub16 r9, r9, r11\n\t"                                                                  \
    "ssub16 lr, r10, lr\n\t"                                                                  \
    "sadd16 r12, r10, r11\n\t"                                                                \
    "ssub16 r11, r11, r10\n\t"                                                                \
    "str    r9, [sp, #" EFFC_STR(4 * J) "]\n\t"                                               \
    "str    r12, [sp, #" EFFC_STR(32 + 4 * J) "]\n\t"                                         \
    "str    r11, [sp, #" EFFC_STR(64 + 4 * J) "]\n\t"                                         \
    "str    lr, [sp, #" EFFC_STR(96 + 4 * J) "]\n\t"                                          \
    "ssub16 r9, r5, r7\n\t"                                                                   \
    "sadd16 r12, r6, r7\n\t"                                                                  \
    "ssub16 r7, r7, r6\n\t"                                                                   \
    "ssub16 r8, r6, r8\n\t"                                                                   \
    "str    r9, [sp, #" EFFC_STR(16 + 4 * J) "]\n\t"                                          \
    "str    r12, [sp, #" EFFC_STR(48 + 4 * J) "]\n\t"                                         \
    "str    r7, [sp, #" EFFC_STR(80 + 4 * J) "]\n\t"                                          \
    "str    r8, [sp, #" EFFC_STR(112 + 4 * J) "]\n\t"

/* One row of the buffer (r5, advanced): (B^T d) B, the 4 positions of row i
 * stored at r11 (+ K * 16), r11 + rb (r4), + 2 rb (r3), + 3 rb (lr). */
#define EFFC_WINO_ROW(K)                                                                      \
    "ldm    r5!, {r6-r9}\n\t"                                                                 \
    "ssub16 r10, r6, r8\n\t"                                                                  \
    "sadd16 r6, r7, r8\n\t"                                                                   \
    "ssub16 r8, r8, r7\n\t"                                                                   \
    "ssub16 r9, r7, r9\n\t"                                                                   \
    "add    r12, r11, #" EFFC_STR(16 * K) "\n\t"                                              \
    "str    r10, [r12]\n\t"                                                                   \
    "str    r6, [r12, r4]\n\t"                                                                \
    "str    r8, [r12, r3]\n\t"                                                                \
    "str    r9, [r12, lr]\n\t"

#define EFFC_WINO_ROWS                                                                        \
    EFFC_WINO_ROW(0) EFFC_WINO_ROW(1) "add    r11, r11, r4, lsl #2\n\t"

/* V of the full groups of 4 channels of one 4x4 tile (job: effc_wino_in_job).
 * Per group: 16 pixel words widened with SXTAB16 (the zero point subtracted),
 * B^T d down the columns into a 32-word stack buffer, (B^T d) B along the
 * rows into V: 219 instructions for 64 values. */
__attribute__((naked, noinline)) void effc_wino_input_asm(EFFC_ARG const effc_wino_in_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, sp, #144\n\t"
        "ldr    r1, [r0, #4]\n\t"  /* groups (> 0) */
        "str    r1, [sp, #128]\n\t"
        "ldr    r1, [r0, #12]\n\t" /* vq */
        "str    r1, [sp, #132]\n\t"
        "ldr    r1, [r0, #16]\n\t" /* row bytes */
        "str    r1, [sp, #136]\n\t"
        "ldr    r2, [r0, #8]\n\t"  /* zero-point pair */
        "ldr    r0, [r0, #0]\n\t"  /* pixel pointers */
        "movs   r1, #0\n\t"        /* channel offset */
        "1:\n\t"
        EFFC_WINO_COLUMN(0) EFFC_WINO_COLUMN(1) EFFC_WINO_COLUMN(2) EFFC_WINO_COLUMN(3)
        "ldr    r11, [sp, #132]\n\t"
        "ldr    r4, [sp, #136]\n\t"
        "add    r3, r4, r4\n\t"
        "add    lr, r3, r4\n\t"
        "mov    r5, sp\n\t"
        EFFC_WINO_ROWS EFFC_WINO_ROWS EFFC_WINO_ROWS EFFC_WINO_ROWS
        "ldr    r11, [sp, #132]\n\t"
        "add    r11, r11, #32\n\t"
        "str    r11, [sp, #132]\n\t"
        "adds   r1, r1, #4\n\t"
        "ldr    r12, [sp, #128]\n\t"
        "subs   r12, r12, #1\n\t"
        "str    r12, [sp, #128]\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #144\n\t"
        "pop    {r4-r11, pc}\n\t");
}

/* ----------------------------------------------------- output transform */

/* Column j of M for the tile at r6: t0 = m0 + m1 + m2 into A, t1 = m1 - m2 - m3
 * into C (m_i = M[4i + j]); r12 scratch. */
#define EFFC_WINO_T(J, A, C)                                                                  \
    "ldr    " A ", [r6, #" EFFC_STR(64 + 16 * J) "]\n\t"                                      \
    "ldr    r12, [r6, #" EFFC_STR(128 + 16 * J) "]\n\t"                                       \
    "sub    " C ", " A ", r12\n\t"                                                            \
    "add    " A ", " A ", r12\n\t"                                                            \
    "ldr    r12, [r6, #" EFFC_STR(16 * J) "]\n\t"                                             \
    "add    " A ", " A ", r12\n\t"                                                            \
    "ldr    r12, [r6, #" EFFC_STR(192 + 16 * J) "]\n\t"                                       \
    "sub    " C ", " C ", r12\n\t"

/* acc = Y / 4 + bias (r11), effc_requant_rs with r0 multiplier, r1 shift - 1,
 * r2:r3 the constant (AND, SUBS, SBC, SMLAL, ASR), SSAT to int8, store at the
 * output pointer K of the tile (r5) + channel (r4). */
#define EFFC_WINO_OUT(Y, K)                                                                   \
    "add    " Y ", r11, " Y ", asr #2\n\t"                                                    \
    "and    r12, " Y ", #0x80000000\n\t"                                                      \
    "subs   r12, r2, r12\n\t"                                                                 \
    "sbc    lr, r3, #0\n\t"                                                                   \
    "smlal  r12, lr, " Y ", r0\n\t"                                                           \
    "asr    lr, lr, r1\n\t"                                                                   \
    "ssat   lr, #8, lr\n\t"                                                                   \
    "ldr    r12, [r5, #" EFFC_STR(4 * K) "]\n\t"                                              \
    "strb   lr, [r12, r4]\n\t"

/* The 2x2 outputs of channel `oc` of the group's tiles (job: effc_wino_out_job):
 * Y = A^T M A from 16 loads and 24 adds, then EFFC_WINO_OUT per output; 82
 * instructions per tile. For effc_requant_rs records and the full int8 range. */
__attribute__((naked, noinline)) void effc_wino_output_asm(EFFC_ARG const effc_wino_out_job *job)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, sp, #8\n\t"
        "ldr    r6, [r0, #0]\n\t"  /* M, column of tile 0 */
        "ldr    r5, [r0, #4]\n\t"  /* output pointers, 4 per tile */
        "ldr    r12, [r0, #8]\n\t" /* tiles (> 0) */
        "add    r12, r5, r12, lsl #4\n\t"
        "str    r12, [sp, #4]\n\t"
        "ldr    r12, [r0, #16]\n\t" /* bias */
        "str    r12, [sp]\n\t"
        "ldr    r4, [r0, #12]\n\t"  /* oc */
        "ldr    r12, [r0, #20]\n\t" /* the channel's effc_requant_rs */
        "ldm    r12, {r0-r3}\n\t"
        "1:\n\t"
        EFFC_WINO_T(0, "r7", "r9")
        EFFC_WINO_T(1, "r8", "r10")
        "add    r7, r7, r8\n\t"
        "add    r9, r9, r10\n\t"
        EFFC_WINO_T(2, "r11", "lr")
        "add    r7, r7, r11\n\t"
        "sub    r8, r8, r11\n\t"
        "add    r9, r9, lr\n\t"
        "sub    r10, r10, lr\n\t"
        EFFC_WINO_T(3, "r11", "lr")
        "sub    r8, r8, r11\n\t"
        "sub    r10, r10, lr\n\t"
        "adds   r6, r6, #4\n\t"
        "ldr    r11, [sp]\n\t"
        EFFC_WINO_OUT("r7", 0) EFFC_WINO_OUT("r8", 1) EFFC_WINO_OUT("r9", 2)
        EFFC_WINO_OUT("r10", 3)
        "adds   r5, r5, #16\n\t"
        "ldr    r12, [sp, #4]\n\t"
        "cmp    r5, r12\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #8\n\t"
        "pop    {r4-r11, pc}\n\t");
}

#endif
