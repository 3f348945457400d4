/*
 * effc_dense_s8.c - int8 dense / fully connected layer, bit-exact with TFLM's
 * FullyConnected (per-tensor) and FullyConnectedPerChannel.
 *
 * One input row runs through effc_mm_row() (no scratch: the DSP body widens
 * the row on the fly); more rows are the columns of effc_mm_run(), four at a
 * time, so the portable/DSP split lives in effc_mm_s8.c / effc_mm_dsp.c.
 */
#include "effc_internal.h"

size_t effc_dense_s8_scratch_size(const effc_dense_params *params,
                                  const effc_dense_dims *dims)
{
    (void)params;
    if (dims->batches <= 1) {
        return 0;
    }
    return effc_mm_scratch_size(dims->in_features, dims->out_features);
}

static int effc_dense_run(const effc_scratch *scratch, const effc_dense_params *params,
                          const effc_dense_dims *dims, const int8_t *input,
                          const void *weights, const int32_t *bias,
                          const effc_per_channel_quant *quant, int32_t quant_stride,
                          int8_t *output)
{
    effc_mm mm;
    void *buf;
    int32_t b, j, nb;
    const size_t in = (size_t)dims->in_features;
    const size_t out = (size_t)dims->out_features;
    const int8_t *rows[EFFC_MM_COLS];
    int8_t *outs[EFFC_MM_COLS];
    if (params == NULL || dims->batches <= 0 || dims->in_features <= 0 ||
        dims->out_features <= 0 || weights == NULL ||
        (uint32_t)params->weights_layout > 3u || /* S8, WIDE2, WIDE4 or PAIR8 */
        (params->weights_layout == EFFC_FILTER_WIDE4 && dims->batches != 1)) {
        return EFFC_ERR_ARG;
    }
    buf = effc_scratch_get(scratch, effc_dense_s8_scratch_size(params, dims));
    if (buf == NULL && dims->batches > 1) {
        return EFFC_ERR_ARG;
    }
    mm.weights = weights;
    mm.layout = params->weights_layout;
    mm.channels = quant->channels;
    mm.bias = bias;
    mm.multiplier = quant->multiplier;
    mm.shift = quant->shift;
    mm.quant_stride = quant_stride;
    mm.n_out = dims->out_features;
    mm.k = dims->in_features;
    mm.input_zero_point = params->input_zero_point;
    mm.output_zero_point = params->output_zero_point;
    mm.activation_min = params->activation_min;
    mm.activation_max = params->activation_max;
    mm.general = effc_mm_general_channels(&mm);
    if (dims->batches == 1) {
        effc_mm_row(&mm, input, output);
        return EFFC_OK;
    }
    for (b = 0; b < dims->batches; b += nb) {
        nb = EFFC_MIN(EFFC_MM_COLS, dims->batches - b);
        for (j = 0; j < nb; j++) {
            rows[j] = input + (size_t)(b + j) * in;
            outs[j] = output + (size_t)(b + j) * out;
        }
        effc_mm_run(&mm, nb, rows, outs, buf);
    }
    return EFFC_OK;
}

int effc_dense_s8(const effc_scratch *scratch, const effc_dense_params *params,
                  const effc_per_tensor_quant *quant, const effc_dense_dims *dims,
                  const int8_t *input, const void *weights, const int32_t *bias,
                  int8_t *output)
{
    effc_per_channel_quant q;
    if (quant == NULL || dims == NULL) {
        return EFFC_ERR_ARG;
    }
    q.multiplier = &quant->multiplier;
    q.shift = &quant->shift;
    q.channels = NULL;
    return effc_dense_run(scratch, params, dims, input, weights, bias, &q, 0, output);
}

int effc_dense_per_channel_s8(const effc_scratch *scratch, const effc_dense_params *params,
                              const effc_per_channel_quant *quant, const effc_dense_dims *dims,
                              const int8_t *input, const void *weights, const int32_t *bias,
                              int8_t *output)
{
    static const effc_per_channel_quant none = {NULL, NULL, NULL};
    if (dims == NULL || (quant == NULL && params != NULL &&
                         params->weights_layout == EFFC_FILTER_S8)) {
        return EFFC_ERR_ARG;
    }
    if (quant != NULL && params != NULL && params->weights_layout == EFFC_FILTER_S8 &&
        quant->channels == NULL && (quant->multiplier == NULL || quant->shift == NULL)) {
        return EFFC_ERR_ARG;
    }
    return effc_dense_run(scratch, params, dims, input, weights, bias,
                          quant != NULL ? quant : &none, 1, output);
}
