/*
 * effc_resize.c - interpolating resize over height and width of NHWC data.
 * Nearest-neighbour resize picks values and lives in effc_select.c.
 *
 * int8 bilinear is TFLite's ResizeBilinearInteger: for each output row the
 * compiler gives the two source rows and the 10-bit source coordinate (and
 * the same for columns); the four products carry 20 fractional bits, summed
 * in 64 bits and rounded half away from zero (input and output share scale
 * and zero point).
 *
 * float32 resize takes, per output row and column, `taps` source indices and
 * weights (linear: 2, cubic: 4, antialiased: more; every ONNX coordinate mode
 * and rule is decided by the compiler); an index of -1 marks an output that
 * takes `extrapolation_value` (tf_crop_and_resize outside the input).
 */
#include "effc_internal.h"

static int effc_resize_dims_ok(const effc_dims *in, const effc_dims *out)
{
    return effc_dims_ok(in) && effc_dims_ok(out) && in->n == out->n && in->c == out->c;
}

int effc_resize_bilinear_s8(const effc_dims *input_dims, const effc_dims *output_dims,
                            const effc_bilinear_axis *rows, const effc_bilinear_axis *cols,
                            const int8_t *input, int8_t *output)
{
    int32_t b, y, x, c;
    const size_t in_row = (size_t)input_dims->w * (size_t)input_dims->c;
    if (!effc_resize_dims_ok(input_dims, output_dims) || rows == NULL || cols == NULL) {
        return EFFC_ERR_ARG;
    }
    for (y = 0; y < output_dims->h; y++) {
        if (rows->lo[y] < 0 || rows->hi[y] >= input_dims->h) {
            return EFFC_ERR_ARG;
        }
    }
    for (x = 0; x < output_dims->w; x++) {
        if (cols->lo[x] < 0 || cols->hi[x] >= input_dims->w) {
            return EFFC_ERR_ARG;
        }
    }
    for (b = 0; b < output_dims->n; b++) {
        const int8_t *image = input + (size_t)b * (size_t)input_dims->h * in_row;
        for (y = 0; y < output_dims->h; y++) {
            const int64_t fy = (int64_t)rows->coord[y] - 1024 * (int64_t)rows->lo[y];
            const int8_t *r0 = image + (size_t)rows->lo[y] * in_row;
            const int8_t *r1 = image + (size_t)rows->hi[y] * in_row;
            for (x = 0; x < output_dims->w; x++) {
                const int64_t fx = (int64_t)cols->coord[x] - 1024 * (int64_t)cols->lo[x];
                const size_t c0 = (size_t)cols->lo[x] * (size_t)input_dims->c;
                const size_t c1 = (size_t)cols->hi[x] * (size_t)input_dims->c;
                for (c = 0; c < input_dims->c; c++) {
                    const int64_t sum = (int64_t)r0[c0 + (size_t)c] * (1024 - fy) * (1024 - fx) +
                                        (int64_t)r1[c0 + (size_t)c] * fy * (1024 - fx) +
                                        (int64_t)r0[c1 + (size_t)c] * (1024 - fy) * fx +
                                        (int64_t)r1[c1 + (size_t)c] * fy * fx;
                    const int64_t rounded = sum > 0 ? sum + (1 << 19) : sum - (1 << 19);
                    *output++ = (int8_t)(rounded / (1 << 20));
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_resize_f32(const effc_dims *input_dims, const effc_dims *output_dims,
                    const effc_resize_axis *rows, const effc_resize_axis *cols,
                    float extrapolation_value, const float *input, float *output)
{
    int32_t b, y, x, c, i, j;
    const size_t in_row = (size_t)input_dims->w * (size_t)input_dims->c;
    if (!effc_resize_dims_ok(input_dims, output_dims) || rows == NULL || cols == NULL ||
        rows->taps <= 0 || cols->taps <= 0) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < output_dims->h * rows->taps; i++) {
        if (rows->index[i] < -1 || rows->index[i] >= input_dims->h) {
            return EFFC_ERR_ARG;
        }
    }
    for (i = 0; i < output_dims->w * cols->taps; i++) {
        if (cols->index[i] < -1 || cols->index[i] >= input_dims->w) {
            return EFFC_ERR_ARG;
        }
    }
    for (b = 0; b < output_dims->n; b++) {
        const float *image = input + (size_t)b * (size_t)input_dims->h * in_row;
        for (y = 0; y < output_dims->h; y++) {
            const int32_t *ry = rows->index + (size_t)y * (size_t)rows->taps;
            const float *wy = rows->weight + (size_t)y * (size_t)rows->taps;
            for (x = 0; x < output_dims->w; x++) {
                const int32_t *rx = cols->index + (size_t)x * (size_t)cols->taps;
                const float *wx = cols->weight + (size_t)x * (size_t)cols->taps;
                if (ry[0] < 0 || rx[0] < 0) {
                    for (c = 0; c < input_dims->c; c++) {
                        *output++ = extrapolation_value;
                    }
                    continue;
                }
                for (c = 0; c < input_dims->c; c++) {
                    float acc = 0.0f;
                    for (i = 0; i < rows->taps; i++) {
                        const float *src = image + (size_t)ry[i] * in_row + (size_t)c;
                        float row = 0.0f;
                        for (j = 0; j < cols->taps; j++) {
                            row += wx[j] * src[(size_t)rx[j] * (size_t)input_dims->c];
                        }
                        acc += wy[i] * row;
                    }
                    *output++ = acc;
                }
            }
        }
    }
    return EFFC_OK;
}
