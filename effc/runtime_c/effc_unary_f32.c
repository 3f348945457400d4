/*
 * effc_unary_f32.c - float32 element-wise functions beyond the eight classic
 * activations (effc_elementwise_f32.c): sqrt, reciprocal, erf, GELU (exact and
 * tanh), log, floor, ceil, round (half to even), sign, Mish, Swish, CELU,
 * ThresholdedRelu, ELU, Softplus, Softsign, Neg, Abs, Exp, a constant power;
 * and the broadcast Min, Max and Pow of two values. No libm (effc_mathf.h).
 */
#include "effc_internal.h"
#include "effc_mathf.h"

static float effc_round_half_even(float x)
{
    const float f = effc_floorf(x), d = x - f;
    if (d > 0.5f || (d == 0.5f && effc_floorf(f * 0.5f) * 2.0f != f)) {
        return f + 1.0f;
    }
    return f;
}

static float effc_softplus(float x)
{
    /* log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)) */
    const float ax = x < 0.0f ? -x : x;
    return (x > 0.0f ? x : 0.0f) + effc_logf(1.0f + effc_expf(-ax));
}

static float effc_unary_one(int32_t kind, float x, float a)
{
    switch (kind) {
    case EFFC_UNARY_SQRT: return effc_sqrtf(x);
    case EFFC_UNARY_RECIPROCAL: return 1.0f / x;
    case EFFC_UNARY_ERF: return effc_erff(x);
    case EFFC_UNARY_GELU: return 0.5f * x * (1.0f + effc_erff(x * 0.707106781f));
    case EFFC_UNARY_GELU_TANH:
        return 0.5f * x * (1.0f + effc_tanhf(0.797884561f * (x + 0.044715f * x * x * x)));
    case EFFC_UNARY_LOG: return effc_logf(x);
    case EFFC_UNARY_FLOOR: return effc_floorf(x);
    case EFFC_UNARY_CEIL: return -effc_floorf(-x);
    case EFFC_UNARY_ROUND: return effc_round_half_even(x);
    case EFFC_UNARY_SIGN: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
    case EFFC_UNARY_MISH: return x * effc_tanhf(effc_softplus(x));
    case EFFC_UNARY_SWISH: return x / (1.0f + effc_expf(-a * x));
    case EFFC_UNARY_CELU:
        return (x > 0.0f ? x : 0.0f) +
               (x < 0.0f ? a * (effc_expf(x / a) - 1.0f) : 0.0f);
    case EFFC_UNARY_THRESHOLDED_RELU: return x > a ? x : 0.0f;
    case EFFC_UNARY_ELU: return x >= 0.0f ? x : a * (effc_expf(x) - 1.0f);
    case EFFC_UNARY_SOFTPLUS: return effc_softplus(x);
    case EFFC_UNARY_SOFTSIGN: return x / (1.0f + (x < 0.0f ? -x : x));
    case EFFC_UNARY_NEG: return -x;
    case EFFC_UNARY_ABS: return x < 0.0f ? -x : x;
    case EFFC_UNARY_EXP: return effc_expf(x);
    default: return effc_powf(x, a); /* EFFC_UNARY_POW: x^a */
    }
}

int effc_unary_f32(int32_t kind, float alpha, int32_t count, const float *input, float *output)
{
    int32_t i;
    if (count < 0 || kind < EFFC_UNARY_SQRT || kind > EFFC_UNARY_POW) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < count; i++) {
        output[i] = effc_unary_one(kind, input[i], alpha);
    }
    return EFFC_OK;
}

/* ------------------------------------------------------- broadcast binary */

static int effc_select_binary_f32(const effc_broadcast *bc, const float *in1, const float *in2,
                                  float *out, int kind)
{
    int32_t i0, i1, i2, i3, i;
    size_t o = 0;
    if (bc == NULL) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < 4; i++) {
        if (bc->dims[i] <= 0 || bc->in1_strides[i] < 0 || bc->in2_strides[i] < 0) {
            return EFFC_ERR_ARG;
        }
    }
    for (i0 = 0; i0 < bc->dims[0]; i0++) {
        for (i1 = 0; i1 < bc->dims[1]; i1++) {
            for (i2 = 0; i2 < bc->dims[2]; i2++) {
                const float *a = in1 + (size_t)i0 * (size_t)bc->in1_strides[0] +
                                 (size_t)i1 * (size_t)bc->in1_strides[1] +
                                 (size_t)i2 * (size_t)bc->in1_strides[2];
                const float *b = in2 + (size_t)i0 * (size_t)bc->in2_strides[0] +
                                 (size_t)i1 * (size_t)bc->in2_strides[1] +
                                 (size_t)i2 * (size_t)bc->in2_strides[2];
                for (i3 = 0; i3 < bc->dims[3]; i3++, o++) {
                    const float x = a[(size_t)i3 * (size_t)bc->in1_strides[3]];
                    const float y = b[(size_t)i3 * (size_t)bc->in2_strides[3]];
                    if (kind == 0) {
                        out[o] = x < y ? x : y;
                    } else if (kind == 1) {
                        out[o] = x > y ? x : y;
                    } else {
                        out[o] = effc_powf(x, y);
                    }
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_min_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_select_binary_f32(bcast, input1, input2, output, 0);
}

int effc_max_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_select_binary_f32(bcast, input1, input2, output, 1);
}

int effc_pow_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_select_binary_f32(bcast, input1, input2, output, 2);
}
