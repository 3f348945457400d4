/*
 * effc_matmul.c - batched matrix products of two values (TFLite Micro's
 * BATCH_MATMUL for int8: both zero points subtracted, an int32 sum, one
 * requantization, no fused activation) and the float32 version.
 *
 * Output matrix b (batch index i0..i3 over batch_dims) reads A at
 * sum(i * a_strides) and B at sum(i * b_strides) (element strides; 0 on an
 * axis the operand broadcasts). A is [m][k], B [k][n], the output [m][n].
 */
#include "effc_internal.h"

static int effc_matmul_dims_ok(const effc_matmul_dims *d)
{
    int32_t i;
    if (d == NULL || d->m <= 0 || d->k <= 0 || d->n <= 0) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        if (d->batch_dims[i] <= 0 || d->a_strides[i] < 0 || d->b_strides[i] < 0) {
            return 0;
        }
    }
    return 1;
}

/* The number of output matrices, and the element offsets of A and B for matrix q. */
static int32_t effc_matrices(const effc_matmul_dims *d)
{
    return d->batch_dims[0] * d->batch_dims[1] * d->batch_dims[2] * d->batch_dims[3];
}

static void effc_matrix_offsets(const effc_matmul_dims *d, int32_t q, size_t *a, size_t *b)
{
    int32_t axis;
    *a = 0;
    *b = 0;
    for (axis = 3; axis >= 0; axis--) {
        const int32_t i = q % d->batch_dims[axis];
        q /= d->batch_dims[axis];
        *a += (size_t)i * (size_t)d->a_strides[axis];
        *b += (size_t)i * (size_t)d->b_strides[axis];
    }
}

int effc_batch_matmul_s8(const effc_matmul_dims *dims, const effc_matmul_quant *quant,
                         const int8_t *a, const int8_t *b, int8_t *output)
{
    effc_requant r;
    int32_t q, i, j, l;
    if (!effc_matmul_dims_ok(dims) || quant == NULL) {
        return EFFC_ERR_ARG;
    }
    r = effc_requant_make(quant->multiplier, quant->shift);
    for (q = 0; q < effc_matrices(dims); q++) {
        size_t a_, b_;
        const int8_t *pa, *pb;
        effc_matrix_offsets(dims, q, &a_, &b_);
        pa = a + a_;
        pb = b + b_;
        for (i = 0; i < dims->m; i++) {
            for (j = 0; j < dims->n; j++) {
                int32_t acc = 0;
                for (l = 0; l < dims->k; l++) {
                    const int32_t x = (int32_t)pa[(size_t)i * (size_t)dims->k + (size_t)l] -
                                      quant->a_zero_point;
                    const int32_t y = (int32_t)pb[(size_t)l * (size_t)dims->n + (size_t)j] -
                                      quant->b_zero_point;
                    acc = effc_wrap_add(acc, x * y);
                }
                *output++ = effc_requant_to_s8(acc, r, quant->output_zero_point, -128, 127);
            }
        }
    }
    return EFFC_OK;
}

int effc_batch_matmul_f32(const effc_matmul_dims *dims, const float *a, const float *b,
                          float *output)
{
    int32_t q, i, j, l;
    if (!effc_matmul_dims_ok(dims)) {
        return EFFC_ERR_ARG;
    }
    for (q = 0; q < effc_matrices(dims); q++) {
        size_t a_, b_;
        const float *pa, *pb;
        effc_matrix_offsets(dims, q, &a_, &b_);
        pa = a + a_;
        pb = b + b_;
        for (i = 0; i < dims->m; i++) {
            for (j = 0; j < dims->n; j++) {
                float acc = 0.0f;
                for (l = 0; l < dims->k; l++) {
                    acc += pa[(size_t)i * (size_t)dims->k + (size_t)l] *
                           pb[(size_t)l * (size_t)dims->n + (size_t)j];
                }
                *output++ = acc;
            }
        }
    }
    return EFFC_OK;
}
