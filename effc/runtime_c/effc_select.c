/*
 * effc_select.c - kernels that pick input elements by index: strided slice,
 * gather, tile (and broadcast), nearest-neighbour resize. Like the layout
 * kernels they move elements of any size (1 byte for int8, 4 for float), so
 * int8 and float share one body; none of them computes on values.
 */
#include "effc_internal.h"

static int effc_select_elem_ok(size_t elem_bytes)
{
    return elem_bytes == 1 || elem_bytes == 2 || elem_bytes == 4 || elem_bytes == 8;
}

static inline void effc_put(uint8_t *dst, const uint8_t *src, size_t elem_bytes)
{
    if (elem_bytes == 1) {
        *dst = *src;
    } else {
        __builtin_memcpy(dst, src, elem_bytes);
    }
}

/* Input strides (in elements) of a rank-`rank` shape, outermost first. */
static void effc_strides(int32_t rank, const int32_t *dims, size_t *stride)
{
    int32_t i;
    for (i = rank - 1; i >= 0; i--) {
        stride[i] = i == rank - 1 ? 1u : stride[i + 1] * (size_t)dims[i + 1];
    }
}

int effc_slice(const effc_slice_params *params, size_t elem_bytes, const void *input,
               void *output)
{
    size_t stride[EFFC_MAX_RANK], total = 1, k;
    int32_t index[EFFC_MAX_RANK], i;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    ptrdiff_t offset = 0;
    if (params == NULL || !effc_select_elem_ok(elem_bytes) || params->rank < 1 ||
        params->rank > EFFC_MAX_RANK) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < params->rank; i++) {
        const int32_t last = params->starts[i] + (params->out_dims[i] - 1) * params->steps[i];
        if (params->dims[i] <= 0 || params->out_dims[i] <= 0 || params->steps[i] == 0 ||
            params->starts[i] < 0 || params->starts[i] >= params->dims[i] || last < 0 ||
            last >= params->dims[i]) {
            return EFFC_ERR_ARG;
        }
        index[i] = 0;
        total *= (size_t)params->out_dims[i];
    }
    effc_strides(params->rank, params->dims, stride);
    for (i = 0; i < params->rank; i++) {
        offset += (ptrdiff_t)params->starts[i] * (ptrdiff_t)stride[i];
    }
    /* Walk the output in order; offset follows the strided position in the input. */
    for (k = 0; k < total; k++) {
        effc_put(dst + k * elem_bytes, src + (size_t)offset * elem_bytes, elem_bytes);
        for (i = params->rank - 1; i >= 0; i--) {
            offset += (ptrdiff_t)params->steps[i] * (ptrdiff_t)stride[i];
            if (++index[i] < params->out_dims[i]) {
                break;
            }
            offset -= (ptrdiff_t)params->steps[i] * (ptrdiff_t)stride[i] *
                      (ptrdiff_t)params->out_dims[i];
            index[i] = 0;
        }
    }
    return EFFC_OK;
}

int effc_gather(int32_t outer, int32_t axis_dim, int32_t inner, const int32_t *indices,
                int32_t count, size_t elem_bytes, const void *input, void *output)
{
    int32_t o, j;
    const size_t row = (size_t)inner * elem_bytes;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    if (outer <= 0 || axis_dim <= 0 || inner <= 0 || count <= 0 || indices == NULL ||
        !effc_select_elem_ok(elem_bytes)) {
        return EFFC_ERR_ARG;
    }
    for (j = 0; j < count; j++) {
        if (indices[j] < 0 || indices[j] >= axis_dim) {
            return EFFC_ERR_ARG;
        }
    }
    for (o = 0; o < outer; o++) {
        const uint8_t *base = src + (size_t)o * (size_t)axis_dim * row;
        for (j = 0; j < count; j++, dst += row) {
            __builtin_memcpy(dst, base + (size_t)indices[j] * row, row);
        }
    }
    return EFFC_OK;
}

int effc_gather_indexed(int32_t outer, int32_t axis_dim, int32_t inner, const void *indices,
                        size_t index_bytes, int32_t count, size_t elem_bytes, const void *table,
                        void *output)
{
    int32_t o, j;
    const size_t row = (size_t)inner * elem_bytes;
    const uint8_t *src = (const uint8_t *)table;
    uint8_t *dst = (uint8_t *)output;
    if (outer <= 0 || axis_dim <= 0 || inner <= 0 || count <= 0 || indices == NULL ||
        (index_bytes != 4u && index_bytes != 8u) || !effc_select_elem_ok(elem_bytes)) {
        return EFFC_ERR_ARG;
    }
    for (j = 0; j < count; j++) { /* every index checked before anything is written */
        const int64_t k = index_bytes == 8u ? ((const int64_t *)indices)[j]
                                            : (int64_t)((const int32_t *)indices)[j];
        if (k < -(int64_t)axis_dim || k >= (int64_t)axis_dim) {
            return EFFC_ERR_ARG;
        }
    }
    for (o = 0; o < outer; o++) {
        const uint8_t *base = src + (size_t)o * (size_t)axis_dim * row;
        for (j = 0; j < count; j++, dst += row) {
            int64_t k = index_bytes == 8u ? ((const int64_t *)indices)[j]
                                          : (int64_t)((const int32_t *)indices)[j];
            if (k < 0) {
                k += axis_dim;
            }
            __builtin_memcpy(dst, base + (size_t)k * row, row);
        }
    }
    return EFFC_OK;
}

int effc_tile(const effc_tile_params *params, size_t elem_bytes, const void *input,
              void *output)
{
    size_t stride[EFFC_MAX_RANK], total = 1, k;
    int32_t index[EFFC_MAX_RANK], source[EFFC_MAX_RANK], i;
    ptrdiff_t offset = 0;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    if (params == NULL || !effc_select_elem_ok(elem_bytes) || params->rank < 1 ||
        params->rank > EFFC_MAX_RANK) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < params->rank; i++) {
        if (params->dims[i] <= 0 || params->out_dims[i] <= 0) {
            return EFFC_ERR_ARG;
        }
        index[i] = 0;
        source[i] = 0;
        total *= (size_t)params->out_dims[i];
    }
    effc_strides(params->rank, params->dims, stride);
    /* Output index j reads input index j % dim on every axis (a broadcast axis has dim 1). */
    for (k = 0; k < total; k++) {
        effc_put(dst + k * elem_bytes, src + (size_t)offset * elem_bytes, elem_bytes);
        for (i = params->rank - 1; i >= 0; i--) {
            const int32_t next = ++index[i] < params->out_dims[i]
                                     ? (source[i] + 1) % params->dims[i] : 0;
            offset += (ptrdiff_t)(next - source[i]) * (ptrdiff_t)stride[i];
            source[i] = next;
            if (index[i] < params->out_dims[i]) {
                break;
            }
            index[i] = 0;
        }
    }
    return EFFC_OK;
}

int effc_resize_nearest(const effc_dims *input_dims, const effc_dims *output_dims,
                        const int32_t *rows, const int32_t *cols, size_t elem_bytes,
                        const void *input, void *output)
{
    int32_t b, y, x;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    size_t pixel;
    if (!effc_dims_ok(input_dims) || !effc_dims_ok(output_dims) || rows == NULL ||
        cols == NULL || input_dims->n != output_dims->n || input_dims->c != output_dims->c ||
        !effc_select_elem_ok(elem_bytes)) {
        return EFFC_ERR_ARG;
    }
    pixel = (size_t)input_dims->c * elem_bytes;
    for (y = 0; y < output_dims->h; y++) {
        if (rows[y] < 0 || rows[y] >= input_dims->h) {
            return EFFC_ERR_ARG;
        }
    }
    for (x = 0; x < output_dims->w; x++) {
        if (cols[x] < 0 || cols[x] >= input_dims->w) {
            return EFFC_ERR_ARG;
        }
    }
    for (b = 0; b < output_dims->n; b++) {
        for (y = 0; y < output_dims->h; y++) {
            const uint8_t *row = src + ((size_t)b * (size_t)input_dims->h + (size_t)rows[y]) *
                                           (size_t)input_dims->w * pixel;
            for (x = 0; x < output_dims->w; x++, dst += pixel) {
                __builtin_memcpy(dst, row + (size_t)cols[x] * pixel, pixel);
            }
        }
    }
    return EFFC_OK;
}
