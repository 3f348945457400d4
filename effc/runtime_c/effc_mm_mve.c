/*
 * effc_mm_mve.c - the int8 matrix kernel, Helium (MVE) body (Cortex-M55).
 *
 * effc_mm_run copies its (up to four) columns into scratch, interleaved by
 * chunks of 16 values and padded with zeros (so outputs may overwrite the
 * columns), then per output channel walks the int8 weight row 16 values at
 * a time (in assembly, effc_mm_mve_asm.c, for int8 rows with records, none
 * general, and k >= 16; the same steps in intrinsics below otherwise): one VLDRB of weights, VADDVA of them (the row sum, for the input
 * zero point: sum (x - zp) * w = sum x * w - zp * sum w, exact in int32 wrap
 * arithmetic) and one VMLADAVA.S8 per column. The last chunk of a row whose
 * k is not a multiple of 16 loads its weights with a VCTP predicate (never
 * past the row; the padded columns are zero there).
 * The four accumulators of a channel are requantized as one vector, exactly
 * TFLite's MultiplyByQuantizedMultiplier (effc_requant.h):
 *   VSHL by the left shift (wraps, like effc_wrap_shl),
 *   VQRDMULH by the multiplier (= SaturatingRoundingDoublingHighMul: both are
 *     floor((x * m + 2^30) / 2^31), INT32_MIN * INT32_MIN saturating),
 *   minus 1 on negative lanes when there is a right shift (VSHL.U32 by -31,
 *     or by -32 which gives 0), then VRSHL by minus the right shift: a
 *     rounding shift rounds ties up, and x - 1 turns that into
 *     RoundingDivideByPOT's ties away from zero (a product is never INT32_MIN,
 *     and VQSUB saturates anyway);
 *   the clamp to [act_min - zp, act_max - zp], then + zp (as
 *   effc_requant_to_s8), and one VSTRB.32 scatter to the four output rows.
 * Every channel takes this path (no fast/general split: the vector form is
 * the general one). effc_mm_row (one row, no scratch) uses the same loop for
 * one column with a scalar requantization.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_MVE)
#include <arm_mve.h>

/* Bytes per padded column in scratch: k rounded up to 16. */
static inline int32_t effc_mve_stride(int32_t k)
{
    return (k + 15) & ~15;
}

/* Channel c's bias, multiplier and TFLite shift. */
typedef struct {
    int32_t bias, multiplier, shift;
} effc_mve_rq;

static inline effc_mve_rq effc_mve_channel(const effc_mm *mm, int32_t c)
{
    effc_mve_rq r;
    if (mm->channels != NULL && mm->layout == EFFC_FILTER_S8) {
        const effc_channel_rq *rec = &mm->channels[c];
        r.bias = effc_rq_bias(rec);
        r.multiplier = effc_rq_multiplier(rec);
        r.shift = effc_rq_shift(rec);
    } else {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        r.bias = ch.bias;
        r.multiplier = ch.rq.multiplier;
        r.shift = ch.rq.left_shift - ch.rq.right_shift;
    }
    return r;
}

/* The four columns (k int8 values each) into the interleaved scratch: chunk
 * g of column j at x + 64 g + 16 j, zeros past k (the full chunks without a
 * predicate, the tail chunk under VCTP). */
static void effc_mve_copy_columns(const int8_t *const c4[4], int32_t k, int8_t *x)
{
    const int8_t *c0 = c4[0], *c1 = c4[1], *c2 = c4[2], *c3 = c4[3];
    int32_t i;
    for (i = 0; i + 16 <= k; i += 16, x += 64) {
        vst1q_s8(x, vld1q_s8(c0 + i));
        vst1q_s8(x + 16, vld1q_s8(c1 + i));
        vst1q_s8(x + 32, vld1q_s8(c2 + i));
        vst1q_s8(x + 48, vld1q_s8(c3 + i));
    }
    if (i < k) {
        const mve_pred16_t p = vctp8q((uint32_t)(k - i));
        vst1q_s8(x, vldrbq_z_s8(c0 + i, p));
        vst1q_s8(x + 16, vldrbq_z_s8(c1 + i, p));
        vst1q_s8(x + 32, vldrbq_z_s8(c2 + i, p));
        vst1q_s8(x + 48, vldrbq_z_s8(c3 + i, p));
    }
}

void effc_mm_run(const effc_mm *mm, int32_t n, const int8_t *const col[], int8_t *const out[],
                 void *scratch)
{
    const int32_t k = mm->k;
    const int32_t full = k >> 4;
    const int32_t tail = k & 15;
    const int32_t zp = mm->input_zero_point;
    const int32_t ozp = mm->output_zero_point;
    int8_t *x = (int8_t *)scratch;
    int8_t *dummy = (int8_t *)scratch + (size_t)EFFC_MM_COLS * 8u * (size_t)effc_mm_groups(k) +
                    4u;
    const int32x4_t lo = vdupq_n_s32(mm->activation_min - ozp);
    const int32x4_t hi = vdupq_n_s32(mm->activation_max - ozp);
    int8_t *o4[EFFC_MM_COLS];
    effc_mm_mve_job job;
    uint32x4_t offsets;
    const int8_t *c4[EFFC_MM_COLS];
    int32_t c, j;
    for (j = 0; j < EFFC_MM_COLS; j++) {
        c4[j] = col[j < n ? j : n - 1];
        o4[j] = j < n ? out[j] : dummy;
        job.offsets[j] = (uint32_t)(o4[j] - o4[0]);
    }
    effc_mve_copy_columns(c4, k, x);
    if (mm->layout == EFFC_FILTER_S8 && mm->channels != NULL && mm->general == 0 &&
        full > 0) {
        job.x = x;
        job.w = (const int8_t *)mm->weights;
        job.rec = mm->channels;
        job.out = o4[0];
        job.n = mm->n_out;
        job.chunks = full - 1;
        job.tail = tail;
        job.zp = zp;
        job.ozp = ozp;
        job.lo = mm->activation_min - ozp;
        job.hi = mm->activation_max - ozp;
        effc_mm_1x4_mve(&job);
        return;
    }
    offsets = vld1q_u32(job.offsets);
    for (c = 0; c < mm->n_out; c++) {
        const effc_mve_rq r = effc_mve_channel(mm, c);
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, sw = 0, i;
        int32x4_t v, neg;
        if (mm->layout == EFFC_FILTER_S8) {
            const int8_t *w = (const int8_t *)mm->weights + (size_t)c * (size_t)k;
            for (i = 0; i < k; i += 16) {
                const int8_t *q = x + 4 * i;
                const int8x16_t wv = vldrbq_z_s8(w + i, vctp8q((uint32_t)(k - i)));
                sw = vaddvaq_s8(sw, wv);
                a0 = vmladavaq_s8(a0, vld1q_s8(q), wv);
                a1 = vmladavaq_s8(a1, vld1q_s8(q + 16), wv);
                a2 = vmladavaq_s8(a2, vld1q_s8(q + 32), wv);
                a3 = vmladavaq_s8(a3, vld1q_s8(q + 48), wv);
            }
        } else { /* a wide layout (made for the DSP bodies): weight by weight */
            for (i = 0; i < k; i++) {
                const int8_t *q = x + 4 * (i & ~15) + (i & 15);
                const int32_t wv = effc_mm_weight(mm, c, i);
                sw = effc_wrap_add(sw, wv);
                a0 = effc_wrap_add(a0, q[0] * wv);
                a1 = effc_wrap_add(a1, q[16] * wv);
                a2 = effc_wrap_add(a2, q[32] * wv);
                a3 = effc_wrap_add(a3, q[48] * wv);
            }
        }
        v = vdupq_n_s32(a0);
        v = vsetq_lane_s32(a1, v, 1);
        v = vsetq_lane_s32(a2, v, 2);
        v = vsetq_lane_s32(a3, v, 3);
        /* bias - zp * sum w, wrapping like the reference's int32 sums */
        v = vaddq_n_s32(v, (int32_t)((uint32_t)r.bias - (uint32_t)zp * (uint32_t)sw));
        v = vshlq_r_s32(v, r.shift > 0 ? r.shift : 0);
        v = vqrdmulhq_n_s32(v, r.multiplier);
        neg = vreinterpretq_s32_u32(vshlq_r_u32(vreinterpretq_u32_s32(v),
                                                r.shift < 0 ? -31 : -32));
        v = vrshlq_n_s32(vqsubq_s32(v, neg), r.shift < 0 ? r.shift : 0);
        v = vaddq_n_s32(vminq_s32(vmaxq_s32(v, lo), hi), ozp);
        vstrbq_scatter_offset_s32(o4[0] + c, offsets, v);
    }
}

/* One row: the columns' loop for a single column, read in place. */
void effc_mm_row(const effc_mm *mm, const int8_t *row, int8_t *out)
{
    const int32_t k = mm->k;
    const int32_t zp = mm->input_zero_point;
    int32_t c, i;
    for (c = 0; c < mm->n_out; c++) {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        int32_t acc = 0, sw = 0;
        if (mm->layout == EFFC_FILTER_S8) {
            const int8_t *w = (const int8_t *)mm->weights + (size_t)c * (size_t)k;
            for (i = 0; i < k; i += 16) {
                const mve_pred16_t p = vctp8q((uint32_t)(k - i));
                const int8x16_t wv = vldrbq_z_s8(w + i, p);
                sw = vaddvaq_s8(sw, wv);
                acc = vmladavaq_s8(acc, vldrbq_z_s8(row + i, p), wv);
            }
        } else {
            for (i = 0; i < k; i++) {
                const int32_t wv = effc_mm_weight(mm, c, i);
                sw = effc_wrap_add(sw, wv);
                acc = effc_wrap_add(acc, row[i] * wv);
            }
        }
        acc = effc_wrap_add(acc, (int32_t)((uint32_t)ch.bias - (uint32_t)zp * (uint32_t)sw));
        out[c] = effc_requant_to_s8(acc, ch.rq, mm->output_zero_point, mm->activation_min,
                                    mm->activation_max);
    }
}

#else

typedef int effc_mm_mve_unused; /* ISO C wants a declaration in every file */

#endif
