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

/* Channels whose records ask for the general form (counted once per layer
 * call: the DSP bodies recompute those outputs after their fast loops). */
int32_t effc_mm_general_channels(const effc_mm *mm)
{
    int32_t c, count = 0;
    if (mm->layout != EFFC_FILTER_S8) { /* the shift words, block by block */
        const effc_wide_geo g = effc_wide_geometry(mm->layout, mm->k);
        const int32_t *shift = (const int32_t *)mm->weights + g.records_at + 2;
        for (c = 0; c < mm->n_out; c += g.per, shift += g.block_words) {
            const int32_t n = EFFC_MIN(g.per, mm->n_out - c);
            int32_t j;
            for (j = 0; j < n; j++) {
                count += (shift[3 * j] & EFFC_RQ_GENERAL) != 0;
            }
        }
        return count;
    }
    if (mm->channels == NULL) {
        return mm->n_out;
    }
    for (c = 0; c < mm->n_out; c++) {
        count += (mm->channels[c].shift & EFFC_RQ_GENERAL) != 0;
    }
    return count;
}

#if !defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)

void effc_mm_run(const effc_mm *mm, int32_t n, const int8_t *const col[], int8_t *const out[],
                 void *scratch)
{
    const int32_t k = mm->k;
    int16_t *q = (int16_t *)scratch; /* [n][k] values x - zp */
    int32_t c, i, j;
    for (j = 0; j < n; j++) {
        for (i = 0; i < k; i++) {
            q[(size_t)j * (size_t)k + (size_t)i] =
                (int16_t)(col[j][i] - mm->input_zero_point);
        }
    }
    for (c = 0; c < mm->n_out; c++) {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        for (j = 0; j < n; j++) {
            const int16_t *x = q + (size_t)j * (size_t)k;
            int32_t acc = ch.bias;
            for (i = 0; i < k; i++) {
                acc = effc_wrap_add(acc, x[i] * effc_mm_weight(mm, c, i));
            }
            out[j][c] = effc_requant_to_s8(acc, ch.rq, mm->output_zero_point,
                                           mm->activation_min, mm->activation_max);
        }
    }
}

void effc_mm_row(const effc_mm *mm, const int8_t *row, int8_t *out)
{
    int32_t c, i;
    for (c = 0; c < mm->n_out; c++) {
        const effc_mm_channel ch = effc_mm_channel_at(mm, c);
        int32_t acc = ch.bias;
        for (i = 0; i < mm->k; i++) {
            acc = effc_wrap_add(acc, (row[i] - mm->input_zero_point) * effc_mm_weight(mm, c, i));
        }
        out[c] = effc_requant_to_s8(acc, ch.rq, mm->output_zero_point, mm->activation_min,
                                    mm->activation_max);
    }
}

#endif
