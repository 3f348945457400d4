/*
 * effc_elementwise_f32.c - float32 pools, broadcast binary ops, activations,
 * softmax (exp and tanh from effc_mathf.h, no libm).
 */
#include "effc_internal.h"
#include "effc_mathf.h"

static float effc_clampf(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* ------------------------------------------------------------------- pools */

static int effc_pool_f32(const effc_pool_f32_params *p, const effc_dims *in,
                         const float *input, const effc_dims *out, float *output, int is_max)
{
    int32_t b, oy, ox, c, i, j;
    const size_t cn = (size_t)in->c;
    if (p == NULL || !effc_dims_ok(in) || !effc_dims_ok(out) || in->n != out->n ||
        in->c != out->c || p->filter_h <= 0 || p->filter_w <= 0 || p->stride_h <= 0 ||
        p->stride_w <= 0 || p->dilation_h <= 0 || p->dilation_w <= 0 || p->pad_top < 0 ||
        p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            const effc_pool_axis ya = effc_pool_axis_taps(
                oy * p->stride_h - p->pad_top, p->filter_h, p->dilation_h, in->h, p->pad_top,
                p->pad_bottom);
            for (ox = 0; ox < out->w; ox++) {
                const effc_pool_axis xa = effc_pool_axis_taps(
                    ox * p->stride_w - p->pad_left, p->filter_w, p->dilation_w, in->w,
                    p->pad_left, p->pad_right);
                const int32_t count = p->count_include_pad ? ya.counted * xa.counted
                                                           : ya.valid * xa.valid;
                float *dst = output + ((size_t)(b * out->h + oy) * (size_t)out->w +
                                       (size_t)ox) * cn;

                for (c = 0; c < in->c; c++) {
                    float acc = is_max ? -__builtin_inff() : 0.0f;
                    for (i = 0; i < ya.valid; i++) {
                        const int32_t y = ya.first + i * p->dilation_h;
                        for (j = 0; j < xa.valid; j++) {
                            const int32_t x = xa.first + j * p->dilation_w;
                            const float v = input[((size_t)(b * in->h + y) * (size_t)in->w +
                                                   (size_t)x) * cn + (size_t)c];
                            if (is_max) {
                                acc = v > acc ? v : acc;
                            } else {
                                acc += v;
                            }
                        }
                    }
                    /* a window over padding only: the lowest float, or 0 (onnxruntime) */
                    if (is_max && ya.valid * xa.valid == 0) {
                        acc = -3.40282347e+38f;
                    }
                    dst[c] = effc_clampf(is_max ? acc : count > 0 ? acc / (float)count : 0.0f,
                                         p->activation_min, p->activation_max);
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_max_pool_f32(const effc_pool_f32_params *params, const effc_dims *input_dims,
                      const float *input, const effc_dims *output_dims, float *output)
{
    return effc_pool_f32(params, input_dims, input, output_dims, output, 1);
}

int effc_avg_pool_f32(const effc_pool_f32_params *params, const effc_dims *input_dims,
                      const float *input, const effc_dims *output_dims, float *output)
{
    return effc_pool_f32(params, input_dims, input, output_dims, output, 0);
}

int effc_global_avg_pool_f32(const effc_dims *input_dims, const float *input, float *output)
{
    const size_t cn = (size_t)input_dims->c;
    const int32_t count = input_dims->h * input_dims->w;
    int32_t b, c, i;
    if (!effc_dims_ok(input_dims)) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < input_dims->n; b++) {
        const float *src = input + (size_t)b * (size_t)count * cn;
        for (c = 0; c < input_dims->c; c++) {
            float acc = 0.0f;
            for (i = 0; i < count; i++) {
                acc += src[(size_t)i * cn + (size_t)c];
            }
            output[(size_t)b * cn + (size_t)c] = acc / (float)count;
        }
    }
    return EFFC_OK;
}

/* ------------------------------------------------------- broadcast binary */

enum { EFFC_OP_ADD, EFFC_OP_SUB, EFFC_OP_MUL, EFFC_OP_DIV, EFFC_OP_PRELU };

static int effc_binary_f32(const effc_broadcast *bc, const float *in1, const float *in2,
                           float *out, int op)
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
                const size_t sa = (size_t)bc->in1_strides[3], sb = (size_t)bc->in2_strides[3];
                for (i3 = 0; i3 < bc->dims[3]; i3++, o++) {
                    const float x = a[(size_t)i3 * sa], y = b[(size_t)i3 * sb];
                    switch (op) {
                    case EFFC_OP_ADD: out[o] = x + y; break;
                    case EFFC_OP_SUB: out[o] = x - y; break;
                    case EFFC_OP_MUL: out[o] = x * y; break;
                    case EFFC_OP_PRELU: out[o] = x >= 0.0f ? x : x * y; break;
                    default: out[o] = x / y; break;
                    }
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_add_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_binary_f32(bcast, input1, input2, output, EFFC_OP_ADD);
}

int effc_sub_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_binary_f32(bcast, input1, input2, output, EFFC_OP_SUB);
}

int effc_mul_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_binary_f32(bcast, input1, input2, output, EFFC_OP_MUL);
}

int effc_div_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output)
{
    return effc_binary_f32(bcast, input1, input2, output, EFFC_OP_DIV);
}

int effc_prelu_f32(const effc_broadcast *bcast, const float *input, const float *slope,
                   float *output)
{
    return effc_binary_f32(bcast, input, slope, output, EFFC_OP_PRELU);
}

/* ------------------------------------------------------------- activations */

int effc_softmax_f32(int32_t rows, int32_t depth, const float *input, float *output)
{
    int32_t r, c;
    if (rows < 0 || depth <= 0) {
        return EFFC_ERR_ARG;
    }
    for (r = 0; r < rows; r++) {
        const float *in = input + (size_t)r * (size_t)depth;
        float *out = output + (size_t)r * (size_t)depth;
        float mx = in[0], sum = 0.0f;
        for (c = 1; c < depth; c++) {
            mx = in[c] > mx ? in[c] : mx;
        }
        for (c = 0; c < depth; c++) {
            out[c] = effc_expf(in[c] - mx);
            sum += out[c];
        }
        for (c = 0; c < depth; c++) {
            out[c] = out[c] / sum;
        }
    }
    return EFFC_OK;
}

#define EFFC_UNARY(count, input, output, EXPR)                                                \
    do {                                                                                      \
        int32_t i_;                                                                           \
        if ((count) < 0) {                                                                    \
            return EFFC_ERR_ARG;                                                              \
        }                                                                                     \
        for (i_ = 0; i_ < (count); i_++) {                                                    \
            const float x = (input)[i_];                                                      \
            (output)[i_] = (EXPR);                                                            \
        }                                                                                     \
        return EFFC_OK;                                                                       \
    } while (0)

int effc_relu_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, x > 0.0f ? x : 0.0f);
}

int effc_clip_f32(int32_t count, float min_value, float max_value, const float *input,
                  float *output)
{
    EFFC_UNARY(count, input, output, effc_clampf(x, min_value, max_value));
}

int effc_sigmoid_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, 1.0f / (1.0f + effc_expf(-x)));
}

int effc_tanh_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, effc_tanhf(x));
}

int effc_leaky_relu_f32(int32_t count, float alpha, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, x >= 0.0f ? x : alpha * x);
}

int effc_hard_sigmoid_f32(int32_t count, float alpha, float beta, const float *input,
                          float *output)
{
    EFFC_UNARY(count, input, output, effc_clampf(alpha * x + beta, 0.0f, 1.0f));
}

int effc_hard_swish_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, x * effc_clampf(x / 6.0f + 0.5f, 0.0f, 1.0f));
}

int effc_selu_f32(int32_t count, float alpha, float gamma, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, gamma * (x > 0.0f ? x : alpha * (effc_expf(x) - 1.0f)));
}

int effc_elu_f32(int32_t count, float alpha, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, x >= 0.0f ? x : alpha * (effc_expf(x) - 1.0f));
}

/* log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): no overflow for large x. */
int effc_softplus_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output,
               (x > 0.0f ? x : 0.0f) + effc_log1pf(effc_expf(x > 0.0f ? -x : x)));
}

int effc_softsign_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, x / (1.0f + (x < 0.0f ? -x : x)));
}

int effc_neg_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, -x);
}

int effc_abs_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, x < 0.0f ? -x : x);
}

int effc_exp_f32(int32_t count, const float *input, float *output)
{
    EFFC_UNARY(count, input, output, effc_expf(x));
}
