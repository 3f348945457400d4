/*
 * effc_mm_mve_asm.c - the Helium matrix kernel's channel loop in assembly
 * (a naked function: the instruction counts do not depend on the compiler's
 * flags). The C side is effc_mm_mve.c, which also holds the same computation
 * in intrinsics for the cases this loop does not take; the job struct and its
 * offsets are in effc_internal.h.
 *
 * Per output channel: the first 16-value chunk with VADDV / VMLADAV (which
 * start the sums), the other full chunks in a WLS/LE loop of 11 instructions
 * per 64 MACs, a predicated tail chunk when k % 16 != 0, then the vector
 * requantization of the four columns (19 instructions with the loop's own):
 * the same steps as effc_mm_mve.c's C, which documents why they are exact.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_MVE)

/* Parameters of naked functions are only read by the assembly. */
#define EFFC_ARG __attribute__((unused))

/* One 16-value chunk: q0 the weights (r3, advanced by 16), q1-q4 the four
 * columns' chunk (r1, advanced by 64), sums into r8 (weights) and r0, r2,
 * r4, r6 (columns 0-3). OP is "" to start the sums, "a" to add to them. */
#define EFFC_MVE_CHUNK(OP)                                                                    \
    "vldrb.u8 q0, [r3], #16\n\t"                                                               \
    "vldrb.u8 q1, [r1], #64\n\t"                                                               \
    "vldrb.u8 q2, [r1, #-48]\n\t"                                                              \
    "vldrb.u8 q3, [r1, #-32]\n\t"                                                              \
    "vldrb.u8 q4, [r1, #-16]\n\t"                                                              \
    "vaddv" OP ".s8 r8, q0\n\t"                                                                \
    "vmladav" OP ".s8 r0, q1, q0\n\t"                                                          \
    "vmladav" OP ".s8 r2, q2, q0\n\t"                                                          \
    "vmladav" OP ".s8 r4, q3, q0\n\t"                                                          \
    "vmladav" OP ".s8 r6, q4, q0\n\t"

/* The tail chunk (VPR.P0 holds VCTP of k % 16; the columns are zero there). */
#define EFFC_MVE_TAIL                                                                         \
    "vpst\n\t"                                                                                 \
    "vldrbt.u8 q0, [r3]\n\t"                                                                   \
    "ldr    lr, [sp, #4]\n\t"                                                                  \
    "add    r3, r3, lr\n\t"                                                                    \
    "vldrb.u8 q1, [r1]\n\t"                                                                    \
    "vldrb.u8 q2, [r1, #16]\n\t"                                                               \
    "vldrb.u8 q3, [r1, #32]\n\t"                                                               \
    "vldrb.u8 q4, [r1, #48]\n\t"                                                               \
    "vaddva.s8 r8, q0\n\t"                                                                     \
    "vmladava.s8 r0, q1, q0\n\t"                                                               \
    "vmladava.s8 r2, q2, q0\n\t"                                                               \
    "vmladava.s8 r4, q3, q0\n\t"                                                               \
    "vmladava.s8 r6, q4, q0\n\t"

/* Requantize the four sums of the channel whose record is at r5 (advanced)
 * and store them (r7 + offsets q5; r7 advanced): r10 input zero point, r11
 * output zero point, q6 / q7 act_min / act_max minus the output zero point.
 * Every record is a fast one (effc_mm_run calls this loop only then): the
 * TFLite shift is -s = -1 - (s - 1), a right shift of at least 1, so no left
 * shift and always the minus 1 on negative lanes (EFFC_MVE_TIES). EFFC_RQ_MULT follows
 * EFFC_RQ_WORD (the LDRD). */
/* 1 on negative lanes, subtracted (ties away from zero), unless EFFC_S8_RELU. */
#if EFFC_S8_RELU
#define EFFC_MVE_TIES ""
#else
#define EFFC_MVE_TIES EFFC_MVE_MINUS_NEGATIVE("q1", "q2")
#endif

#define EFFC_MVE_REQUANT                                                                      \
    "vmov   q1[2], q1[0], r0, r4\n\t"                                                          \
    "vmov   q1[3], q1[1], r2, r6\n\t"                                                          \
    "ldrd   r4, r2, [r5], #" EFFC_RQ_BYTES "\n\t" /* word, multiplier */                      \
    "asr    r0, r4, #8\n\t"               /* the bias */                                      \
    "mls    r0, r10, r8, r0\n\t"          /* bias - zp * sum w */                              \
    "vadd.i32 q1, q1, r0\n\t"                                                                  \
    "vqrdmulh.s32 q1, q1, r2\n\t"                                                              \
    "uxtb   r4, r4\n\t"                   /* s - 1 */                                          \
    "mvn    r4, r4\n\t"                   /* -s */                                             \
    EFFC_MVE_TIES                                                                             \
    "vrshl.s32 q1, r4\n\t"                                                                     \
    "vmax.s32 q1, q1, q6\n\t"                                                                  \
    "vmin.s32 q1, q1, q7\n\t"                                                                  \
    "vadd.i32 q1, q1, r11\n\t"                                                                 \
    "vstrb.32 q1, [r7, q5]\n\t"                                                                \
    "adds   r7, r7, #1\n\t"

/* r1 the columns (reloaded per channel), r3 weights, r5 records, r7 output,
 * r9 channels left, r10/r11 zero points, r12 full chunks - 1, lr the loop. */
#define EFFC_MVE_CHANNELS(L, TAIL)                                                            \
    L "_ch:\n\t"                                                                                 \
    "ldr    r1, [sp, #0]\n\t"                                                                  \
    EFFC_MVE_CHUNK("")                                                                        \
    "wls    lr, r12, " L "_end\n\t"                                                              \
    L "_loop:\n\t"                                                                                 \
    EFFC_MVE_CHUNK("a")                                                                       \
    "le     lr, " L "_loop\n\t"                                                                   \
    L "_end:\n\t"                                                                                 \
    TAIL                                                                                      \
    EFFC_MVE_REQUANT                                                                          \
    "subs   r9, r9, #1\n\t"                                                                    \
    "bne.w  " L "_ch\n\t"

__attribute__((naked, noinline)) void effc_mm_1x4_mve(effc_mm_mve_job *job EFFC_ARG)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "vpush  {d8-d15}\n\t"
        "sub    sp, sp, #8\n\t"
        "ldr    r1, [r0, #0]\n\t"
        "str    r1, [sp, #0]\n\t"
        "ldr    r1, [r0, #24]\n\t"
        "str    r1, [sp, #4]\n\t"
        "ldr    r3, [r0, #4]\n\t"
        "ldr    r5, [r0, #8]\n\t"
        "ldr    r7, [r0, #12]\n\t"
        "ldr    r9, [r0, #16]\n\t"
        "ldr    r10, [r0, #28]\n\t"
        "ldr    r11, [r0, #32]\n\t"
        "ldr    r2, [r0, #36]\n\t"
        "vdup.32 q6, r2\n\t"
        "ldr    r2, [r0, #40]\n\t"
        "vdup.32 q7, r2\n\t"
        /* the offsets into q5 by the same lane moves as the sums into q1,
         * so column j's sum and offset share a lane */
        "mov    r12, r0\n\t"
        "ldr    r0, [r12, #44]\n\t"
        "ldr    r2, [r12, #48]\n\t"
        "ldr    r4, [r12, #52]\n\t"
        "ldr    r6, [r12, #56]\n\t"
        "vmov   q5[2], q5[0], r0, r4\n\t"
        "vmov   q5[3], q5[1], r2, r6\n\t"
        "ldr    r12, [r12, #20]\n\t"
        "cmp    r1, #0\n\t"
        "bne.w  .Lmve_tailed\n\t"
        EFFC_MVE_CHANNELS(".Lmve_a", "")
        "b.w    .Lmve_done\n\t"
        ".Lmve_tailed:\n\t"
        "vctp.8 r1\n\t"
        EFFC_MVE_CHANNELS(".Lmve_b", EFFC_MVE_TAIL)
        ".Lmve_done:\n\t"
        "add    sp, sp, #8\n\t"
        "vpop   {d8-d15}\n\t"
        "pop    {r4-r11, pc}\n\t");
}

#else

typedef int effc_mm_mve_asm_unused; /* ISO C wants a declaration in every file */

#endif
