/*
 * effc_mm_s8.c - the int8 matrix kernel under conv (all paths) and dense:
 * the portable body. The Cortex-M bodies are in effc_mm_dsp.c (DSP) and
 * effc_mm_mve.c (Helium); all give identical results.
 *
 * effc_mm_run() takes up to EFFC_MM_COLS "columns" (an input pixel, an
 * im2col patch or a dense input row, k int8 values each) and produces every
 * output channel for them. It copies the columns (minus the zero point)
 * into scratch before it writes an output, so outputs may overwrite columns
 * (in-place pointwise convolutions). effc_mm_row() is the one-row dense
 * product without scratch.
 */
#include "effc_internal.h"

effc_wide_geo effc_wide_geometry_once(int32_t layout, int32_t k)
{
    return effc_wide_geometry_of(layout, k);
}

int32_t effc_mm_any_weight(const effc_mm *mm, int32_t c, int32_t i)
{
    return effc_mm_weight_of(mm, c, i);
}

/* Channels whose records ask for the general form (counted once per layer
 * call: the DSP bodies recompute those outputs after their fast loops). */
int32_t effc_mm_general_channels(const effc_mm *mm)
{
    int32_t c, count = 0;
    if (mm->layout != EFFC_FILTER_S8) { /* the shift words, block by block */
        const effc_wide_geo g = effc_wide_geometry(mm->layout, mm->k);
        const int32_t *shift = (const int32_t *)mm->weights + g.records_at + 2;
        const int32_t *const end = shift + (size_t)((mm->n_out + g.per - 1) / g.per) *
                                               (size_t)g.block_words;
        const uint32_t form = effc_wide_form(mm->layout);
        const int32_t *at;
        uint32_t any = 0u;
        if (!effc_mm_wide_floors(mm)) {
            return mm->n_out;
        }
        /* first whether any record (a padding channel's too) is not in the loop's form
         * (per is 2 or 4; the shifted form is WIDE2's, per 2) */
        if (form == 0u) {
            for (at = shift; at < end; at += g.block_words) {
                any |= (uint32_t)(at[0] | at[3]);
                if (g.per == 4) {
                    any |= (uint32_t)(at[6] | at[9]);
                }
            }
        } else {
            for (at = shift; at < end; at += g.block_words) {
                any |= ((uint32_t)at[0] ^ form) | ((uint32_t)at[3] ^ form);
            }
        }
        if ((any & effc_wide_form_mask(mm->layout)) == 0u) {
            return 0;
        }
        for (c = 0; c < mm->n_out; c += g.per, shift += g.block_words) {
            const int32_t n = EFFC_MIN(g.per, mm->n_out - c);
            int32_t j;
            for (j = 0; j < n; j++) {
                count += !effc_wide_asm_form(mm->layout, shift[3 * j]);
            }
        }
        return count;
    }
    if (mm->channels == NULL) {
        return mm->n_out;
    }
    for (c = 0; c < mm->n_out; c++) {
        count += effc_rq_is_general(&mm->channels[c]);
    }
    return count;
}

#if !defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)

/* Channel c's sums over the n widened columns of q into acc[0..n) (from the
 * bias): an int8 row walked by pointer, each weight loaded once for up to
 * four columns; the wide layouts through effc_mm_weight. */
static void effc_mm_sums(const effc_mm *mm, int32_t c, const int16_t *q, int32_t n,
                         int32_t bias, int32_t acc[EFFC_MM_COLS])
{
    const int32_t k = mm->k;
    int32_t i, j;
    for (j = 0; j < n; j++) {
        acc[j] = bias;
    }
    if (mm->layout != EFFC_FILTER_S8) {
        for (j = 0; j < n; j++) {
            for (i = 0; i < k; i++) {
                acc[j] = effc_wrap_add(acc[j], q[(size_t)j * (size_t)k + (size_t)i] *
                                                   effc_mm_weight(mm, c, i));
            }
        }
        return;
    }
    {
        const int8_t *w = (const int8_t *)mm->weights + (size_t)c * (size_t)k;
        if (n == EFFC_MM_COLS) {
            const int16_t *x0 = q, *x1 = q + k, *x2 = x1 + k, *x3 = x2 + k;
            int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            for (i = 0; i < k; i++) {
                const int32_t wv = w[i];
                a0 = effc_wrap_add(a0, x0[i] * wv);
                a1 = effc_wrap_add(a1, x1[i] * wv);
                a2 = effc_wrap_add(a2, x2[i] * wv);
                a3 = effc_wrap_add(a3, x3[i] * wv);
            }
            acc[0] = a0;
            acc[1] = a1;
            acc[2] = a2;
            acc[3] = a3;
            return;
        }
        for (j = 0; j < n; j++) {
            const int16_t *x = q + (size_t)j * (size_t)k;
            int32_t a = bias;
            for (i = 0; i < k; i++) {
                a = effc_wrap_add(a, x[i] * w[i]);
            }
            acc[j] = a;
        }
    }
}

void effc_mm_run(const effc_mm *mm, int32_t n, const int8_t *const col[], int8_t *const out[],
                 void *scratch)
{
    const int32_t k = mm->k;
    const int32_t zp = mm->input_zero_point;
    int16_t *q = (int16_t *)scratch; /* [n][k] values x - zp */
    int32_t acc[EFFC_MM_COLS];
    int32_t c, i, j;
    for (j = 0; j < n; j++) {
        const int8_t *x = col[j];
        int16_t *t = q + (size_t)j * (size_t)k;
        for (i = 0; i < k; i++) {
            t[i] = (int16_t)(x[i] - zp);
        }
    }
    for (c = 0; c < mm->n_out; c++) {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        effc_mm_sums(mm, c, q, n, ch.bias, acc);
        for (j = 0; j < n; j++) {
            out[j][c] = effc_requant_to_s8(acc[j], ch.rq, mm->output_zero_point,
                                           mm->activation_min, mm->activation_max);
        }
    }
}

void effc_mm_row(const effc_mm *mm, const int8_t *row, int8_t *out)
{
    const int32_t k = mm->k;
    const int32_t zp = mm->input_zero_point;
    int32_t c, i;
    for (c = 0; c < mm->n_out; c++) {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        int32_t acc = ch.bias;
        if (mm->layout == EFFC_FILTER_S8) {
            const int8_t *w = (const int8_t *)mm->weights + (size_t)c * (size_t)k;
            for (i = 0; i < k; i++) {
                acc = effc_wrap_add(acc, (row[i] - zp) * w[i]);
            }
        } else {
            for (i = 0; i < k; i++) {
                acc = effc_wrap_add(acc, (row[i] - zp) * effc_mm_weight(mm, c, i));
            }
        }
        out[c] = effc_requant_to_s8(acc, ch.rq, mm->output_zero_point, mm->activation_min,
                                    mm->activation_max);
    }
}

#endif
