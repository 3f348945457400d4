/*
 * effc_layout.c - data movement: concatenation, transpose, pad, copy.
 * The kernels move elements of any size (1 byte for int8, 4 for float), so
 * one body serves both types; none of them computes on values.
 */
#include "effc_internal.h"

static int effc_concat_bytes(int32_t outer, int32_t num_inputs, const int8_t *const *inputs,
                             const int32_t *inner_sizes, size_t elem_bytes, int8_t *output)
{
    int32_t o, i;
    if (outer < 0 || num_inputs < 0 || inputs == NULL || inner_sizes == NULL) {
        return EFFC_ERR_ARG;
    }
    for (o = 0; o < outer; o++) {
        for (i = 0; i < num_inputs; i++) {
            const size_t n = (size_t)inner_sizes[i] * elem_bytes;
            if (n > 0) {
                __builtin_memcpy(output, inputs[i] + (size_t)o * n, n);
            }
            output += n;
        }
    }
    return EFFC_OK;
}

int effc_concat_f32(int32_t outer, int32_t num_inputs, const float *const *inputs,
                    const int32_t *inner_sizes, float *output)
{
    return effc_concat_bytes(outer, num_inputs, (const int8_t *const *)(const void *)inputs,
                             inner_sizes, sizeof(float), (int8_t *)(void *)output);
}

int effc_concat_s8(int32_t outer, int32_t num_inputs, const int8_t *const *inputs,
                   const int32_t *inner_sizes, int8_t *output)
{
    return effc_concat_bytes(outer, num_inputs, inputs, inner_sizes, 1, output);
}

int effc_copy(void *output, const void *input, size_t bytes)
{
    if (bytes > 0) {
        __builtin_memcpy(output, input, bytes);
    }
    return EFFC_OK;
}

/* Shapes of rank 1..EFFC_MAX_RANK with positive dims. */
static int effc_shape_ok(int32_t rank, const int32_t *dims)
{
    int32_t i;
    if (rank < 1 || rank > EFFC_MAX_RANK) {
        return 0;
    }
    for (i = 0; i < rank; i++) {
        if (dims[i] <= 0) {
            return 0;
        }
    }
    return 1;
}

static int effc_elem_ok(size_t elem_bytes)
{
    return elem_bytes == 1 || elem_bytes == 2 || elem_bytes == 4;
}

/* Copies one element (1, 2 or 4 bytes). */
static inline void effc_copy_elem(uint8_t *dst, const uint8_t *src, size_t elem_bytes)
{
    if (elem_bytes == 1) {
        *dst = *src;
    } else {
        __builtin_memcpy(dst, src, elem_bytes);
    }
}

int effc_transpose(const effc_transpose_params *params, size_t elem_bytes, const void *input,
                   void *output)
{
    int32_t in_stride[EFFC_MAX_RANK], out_dims[EFFC_MAX_RANK], step[EFFC_MAX_RANK];
    int32_t index[EFFC_MAX_RANK];
    int32_t i, rank, seen = 0;
    size_t total = 1, k, offset = 0;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    if (params == NULL || !effc_elem_ok(elem_bytes) ||
        !effc_shape_ok(params->rank, params->dims)) {
        return EFFC_ERR_ARG;
    }
    rank = params->rank;
    for (i = rank - 1; i >= 0; i--) {
        in_stride[i] = i == rank - 1 ? 1 : in_stride[i + 1] * params->dims[i + 1];
    }
    for (i = 0; i < rank; i++) {
        const int32_t axis = params->perm[i];
        if (axis < 0 || axis >= rank || (seen & (1 << axis))) {
            return EFFC_ERR_ARG; /* not a permutation */
        }
        seen |= 1 << axis;
        out_dims[i] = params->dims[axis];
        step[i] = in_stride[axis];
        index[i] = 0;
        total *= (size_t)out_dims[i];
    }
    /* Walk the output in order; offset follows in the input (in elements). */
    for (k = 0; k < total; k++) {
        effc_copy_elem(dst + k * elem_bytes, src + offset * elem_bytes, elem_bytes);
        for (i = rank - 1; i >= 0; i--) {
            offset += (size_t)step[i];
            if (++index[i] < out_dims[i]) {
                break;
            }
            offset -= (size_t)step[i] * (size_t)out_dims[i];
            index[i] = 0;
        }
    }
    return EFFC_OK;
}

/* The input index read by output index `i` along an axis of `n` elements
 * padded by `begin`; -1 for the constant value. */
static int32_t effc_pad_source(int32_t i, int32_t begin, int32_t n, int32_t mode)
{
    int32_t j = i - begin;
    if (j >= 0 && j < n) {
        return j;
    }
    if (mode == EFFC_PAD_EDGE) {
        return j < 0 ? 0 : n - 1;
    }
    if (mode == EFFC_PAD_REFLECT) {
        const int32_t period = 2 * (n - 1);
        j %= period;
        if (j < 0) {
            j += period;
        }
        return j < n ? j : period - j;
    }
    return -1;
}

int effc_pad(const effc_pad_params *params, size_t elem_bytes, const void *value,
             const void *input, void *output)
{
    int32_t out_dims[EFFC_MAX_RANK], index[EFFC_MAX_RANK], in_stride[EFFC_MAX_RANK];
    int32_t i, rank;
    size_t total = 1, k;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    if (params == NULL || !effc_elem_ok(elem_bytes) ||
        !effc_shape_ok(params->rank, params->dims) || params->mode < EFFC_PAD_CONSTANT ||
        params->mode > EFFC_PAD_EDGE || (params->mode == EFFC_PAD_CONSTANT && value == NULL)) {
        return EFFC_ERR_ARG;
    }
    rank = params->rank;
    for (i = rank - 1; i >= 0; i--) {
        if (params->pads_begin[i] < 0 || params->pads_end[i] < 0 ||
            (params->mode == EFFC_PAD_REFLECT && params->dims[i] < 2 &&
             params->pads_begin[i] + params->pads_end[i] > 0)) {
            return EFFC_ERR_ARG;
        }
        out_dims[i] = params->dims[i] + params->pads_begin[i] + params->pads_end[i];
        in_stride[i] = i == rank - 1 ? 1 : in_stride[i + 1] * params->dims[i + 1];
        index[i] = 0;
        total *= (size_t)out_dims[i];
    }
    for (k = 0; k < total; k++) {
        size_t offset = 0;
        int inside = 1;
        for (i = 0; i < rank && inside; i++) {
            const int32_t j = effc_pad_source(index[i], params->pads_begin[i], params->dims[i],
                                              params->mode);
            inside = j >= 0;
            offset += (size_t)(j >= 0 ? j : 0) * (size_t)in_stride[i];
        }
        effc_copy_elem(dst + k * elem_bytes, inside ? src + offset * elem_bytes
                                                    : (const uint8_t *)value, elem_bytes);
        for (i = rank - 1; i >= 0; i--) {
            if (++index[i] < out_dims[i]) {
                break;
            }
            index[i] = 0;
        }
    }
    return EFFC_OK;
}
