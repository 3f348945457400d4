/*
 * effc_reduce.c - reductions over any set of axes (int8 as TFLite Micro's MEAN,
 * SUM and REDUCE_MAX; float32 mean, sum, max, min, product, L1, L2, sum of
 * squares, log of the sum) and ArgMax / ArgMin.
 *
 * The shape struct says, for every input axis, the output stride (0 on a
 * reduced axis): each input element adds into output element
 * sum(index[i] * out_strides[i]). int8 MEAN/SUM sum the raw values in int32
 * scratch, then requantize sum - zero_point * count once (the multiplier comes
 * with MEAN's 1/count folded in by the compiler, effc/quant/reduce.py).
 */
#include "effc_internal.h"
#include "effc_mathf.h"

static int effc_reduce_shape_ok(const effc_reduce_shape *s)
{
    int32_t i;
    if (s == NULL || s->rank < 1 || s->rank > EFFC_MAX_RANK || s->out_count <= 0 ||
        s->reduce_count <= 0) {
        return 0;
    }
    for (i = 0; i < s->rank; i++) {
        if (s->dims[i] <= 0 || s->out_strides[i] < 0) {
            return 0;
        }
    }
    return 1;
}

/* Calls BODY(k, o) for input element k and its output element o, in input order. */
#define EFFC_FOR_EACH_REDUCED(s, BODY)                                                        \
    do {                                                                                      \
        int32_t index_[EFFC_MAX_RANK], a_;                                                    \
        size_t total_ = 1, k;                                                                 \
        size_t o = 0;                                                                         \
        for (a_ = 0; a_ < (s)->rank; a_++) {                                                  \
            index_[a_] = 0;                                                                   \
            total_ *= (size_t)(s)->dims[a_];                                                  \
        }                                                                                     \
        for (k = 0; k < total_; k++) {                                                        \
            BODY;                                                                             \
            for (a_ = (s)->rank - 1; a_ >= 0; a_--) {                                         \
                o += (size_t)(s)->out_strides[a_];                                            \
                if (++index_[a_] < (s)->dims[a_]) {                                           \
                    break;                                                                    \
                }                                                                             \
                o -= (size_t)(s)->out_strides[a_] * (size_t)(s)->dims[a_];                    \
                index_[a_] = 0;                                                               \
            }                                                                                 \
        }                                                                                     \
    } while (0)

size_t effc_reduce_s8_scratch_size(const effc_reduce_shape *shape, int32_t kind)
{
    if (shape == NULL || (kind != EFFC_REDUCE_SUM && kind != EFFC_REDUCE_MEAN)) {
        return 0;
    }
    return (size_t)shape->out_count * sizeof(int32_t);
}

int effc_reduce_s8(const effc_scratch *scratch, const effc_reduce_shape *shape, int32_t kind,
                   const effc_reduce_quant *quant, const int8_t *input, int8_t *output)
{
    int32_t j;
    if (!effc_reduce_shape_ok(shape)) {
        return EFFC_ERR_ARG;
    }
    if (kind == EFFC_REDUCE_MAX || kind == EFFC_REDUCE_MIN) {
        const int is_max = kind == EFFC_REDUCE_MAX;
        for (j = 0; j < shape->out_count; j++) {
            output[j] = (int8_t)(is_max ? -128 : 127);
        }
        EFFC_FOR_EACH_REDUCED(shape, {
            const int8_t v = input[k];
            if (is_max ? v > output[o] : v < output[o]) {
                output[o] = v;
            }
        });
        return EFFC_OK;
    }
    if ((kind == EFFC_REDUCE_SUM || kind == EFFC_REDUCE_MEAN) && quant != NULL) {
        int32_t *sum = (int32_t *)effc_scratch_get(
            scratch, effc_reduce_s8_scratch_size(shape, kind));
        const effc_requant r = effc_requant_make(quant->multiplier, quant->shift);
        if (sum == NULL) {
            return EFFC_ERR_ARG;
        }
        for (j = 0; j < shape->out_count; j++) {
            sum[j] = 0;
        }
        EFFC_FOR_EACH_REDUCED(shape, { sum[o] = effc_wrap_add(sum[o], input[k]); });
        for (j = 0; j < shape->out_count; j++) {
            const int32_t centred = effc_wrap_add(sum[j],
                                                  -quant->input_zero_point * shape->reduce_count);
            const int32_t v = effc_requant_apply(centred, r) + quant->output_zero_point;
            output[j] = (int8_t)effc_clamp_i32(v, -128, 127);
        }
        return EFFC_OK;
    }
    return EFFC_ERR_ARG;
}

int effc_reduce_f32(const effc_reduce_shape *shape, int32_t kind, const float *input,
                    float *output)
{
    int32_t j;
    float init = 0.0f;
    if (!effc_reduce_shape_ok(shape) || kind < EFFC_REDUCE_SUM || kind > EFFC_REDUCE_LOG_SUM) {
        return EFFC_ERR_ARG;
    }
    if (kind == EFFC_REDUCE_MAX) {
        init = -__builtin_inff();
    } else if (kind == EFFC_REDUCE_MIN) {
        init = __builtin_inff();
    } else if (kind == EFFC_REDUCE_PROD) {
        init = 1.0f;
    }
    for (j = 0; j < shape->out_count; j++) {
        output[j] = init;
    }
    EFFC_FOR_EACH_REDUCED(shape, {
        const float v = input[k];
        switch (kind) {
        case EFFC_REDUCE_MAX: output[o] = v > output[o] ? v : output[o]; break;
        case EFFC_REDUCE_MIN: output[o] = v < output[o] ? v : output[o]; break;
        case EFFC_REDUCE_PROD: output[o] *= v; break;
        case EFFC_REDUCE_L1: output[o] += v < 0.0f ? -v : v; break;
        case EFFC_REDUCE_L2:
        case EFFC_REDUCE_SUM_SQUARE: output[o] += v * v; break;
        default: output[o] += v; break;
        }
    });
    for (j = 0; j < shape->out_count; j++) {
        if (kind == EFFC_REDUCE_MEAN) {
            output[j] /= (float)shape->reduce_count;
        } else if (kind == EFFC_REDUCE_L2) {
            output[j] = effc_sqrtf(output[j]);
        } else if (kind == EFFC_REDUCE_LOG_SUM) {
            output[j] = effc_logf(output[j]);
        }
    }
    return EFFC_OK;
}

/* ------------------------------------------------------------ ArgMax/Min */

#define EFFC_ARG_BODY(T)                                                                      \
    int32_t o, i, j;                                                                          \
    if (outer <= 0 || axis_dim <= 0 || inner <= 0) {                                          \
        return EFFC_ERR_ARG;                                                                  \
    }                                                                                         \
    for (o = 0; o < outer; o++) {                                                             \
        for (i = 0; i < inner; i++) {                                                         \
            const T *p = input + (size_t)o * (size_t)axis_dim * (size_t)inner + (size_t)i;    \
            T best = p[0];                                                                    \
            int32_t at = 0;                                                                   \
            for (j = 1; j < axis_dim; j++) {                                                  \
                const T v = p[(size_t)j * (size_t)inner];                                     \
                const int better = is_min ? (select_last ? v <= best : v < best)               \
                                          : (select_last ? v >= best : v > best);              \
                if (better) {                                                                 \
                    best = v;                                                                 \
                    at = j;                                                                   \
                }                                                                             \
            }                                                                                 \
            output[(size_t)o * (size_t)inner + (size_t)i] = at;                               \
        }                                                                                     \
    }                                                                                         \
    return EFFC_OK

int effc_arg_s8(int32_t outer, int32_t axis_dim, int32_t inner, int32_t is_min,
                int32_t select_last, const int8_t *input, int64_t *output)
{
    EFFC_ARG_BODY(int8_t);
}

int effc_arg_f32(int32_t outer, int32_t axis_dim, int32_t inner, int32_t is_min,
                 int32_t select_last, const float *input, int64_t *output)
{
    EFFC_ARG_BODY(float);
}
