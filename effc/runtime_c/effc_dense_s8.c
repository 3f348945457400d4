/*
 * effc_dense_s8.c - int8 dense / fully connected layer, bit-exact with TFLM's
 * FullyConnected (per-tensor) and FullyConnectedPerChannel.
 *
 * Input rows are the columns of effc_mm_cols_s8() (two rows at a time when
 * batches > 1), so the portable/DSP split lives in effc_mm_s8.c.
 */
#include "effc_internal.h"

size_t effc_dense_s8_scratch_size(const effc_dense_dims *dims)
{
    return effc_mm_scratch_size(dims->in_features, dims->out_features);
}

static int effc_dense_run(const effc_scratch *scratch, const effc_dense_params *params,
                          const effc_dense_dims *dims, const int8_t *input,
                          const int8_t *weights, const int32_t *bias,
                          const int32_t *multiplier, const int32_t *shift,
                          int32_t quant_stride, int8_t *output)
{
    effc_mm mm;
    void *buf;
    int32_t b;
    const size_t in = (size_t)dims->in_features;
    const size_t out = (size_t)dims->out_features;
    if (params == NULL || dims->batches <= 0 || dims->in_features <= 0 ||
        dims->out_features <= 0) {
        return EFFC_ERR_ARG;
    }
    buf = effc_scratch_get(scratch, effc_dense_s8_scratch_size(dims));
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
    mm.weights = weights;
    mm.bias = bias;
    mm.multiplier = multiplier;
    mm.shift = shift;
    mm.quant_stride = quant_stride;
    mm.n_out = dims->out_features;
    mm.k = dims->in_features;
    mm.input_zero_point = params->input_zero_point;
    mm.output_zero_point = params->output_zero_point;
    mm.activation_min = params->activation_min;
    mm.activation_max = params->activation_max;
    mm.columns = dims->batches;
    buf = effc_mm_init(&mm, buf);
    for (b = 0; b + 2 <= dims->batches; b += 2) {
        effc_mm_cols_s8(&mm, input + (size_t)b * in, input + (size_t)(b + 1) * in,
                        output + (size_t)b * out, output + (size_t)(b + 1) * out, buf);
    }
    if (b < dims->batches) {
        effc_mm_cols_s8(&mm, input + (size_t)b * in, NULL, output + (size_t)b * out, NULL,
                        buf);
    }
    return EFFC_OK;
}

int effc_dense_s8(const effc_scratch *scratch, const effc_dense_params *params,
                  const effc_per_tensor_quant *quant, const effc_dense_dims *dims,
                  const int8_t *input, const int8_t *weights, const int32_t *bias,
                  int8_t *output)
{
    if (quant == NULL || dims == NULL) {
        return EFFC_ERR_ARG;
    }
    return effc_dense_run(scratch, params, dims, input, weights, bias, &quant->multiplier,
                          &quant->shift, 0, output);
}

int effc_dense_per_channel_s8(const effc_scratch *scratch, const effc_dense_params *params,
                              const effc_per_channel_quant *quant, const effc_dense_dims *dims,
                              const int8_t *input, const int8_t *weights, const int32_t *bias,
                              int8_t *output)
{
    if (quant == NULL || dims == NULL) {
        return EFFC_ERR_ARG;
    }
    return effc_dense_run(scratch, params, dims, input, weights, bias, quant->multiplier,
                          quant->shift, 1, output);
}
