/*
 * effc_elementwise_s8.c - int8 ADD / SUB / MUL (with broadcasting), LUT,
 * requantize, and the float <-> int8 boundaries. Bit-exact with TFLM's
 * reference kernels (AddElementwise, SubElementwise, MulElementwise,
 * Requantize, AffineQuantize, Dequantize).
 */
#include "effc_internal.h"

size_t effc_add_s8_scratch_size(void)
{
    return 0;
}

size_t effc_sub_s8_scratch_size(void)
{
    return 0;
}

size_t effc_prelu_s8_scratch_size(void)
{
    return 0;
}

size_t effc_mul_s8_scratch_size(void)
{
    return 0;
}

size_t effc_lut_s8_scratch_size(void)
{
    return 0;
}

size_t effc_requantize_s8_scratch_size(void)
{
    return 0;
}

size_t effc_quantize_s8_scratch_size(void)
{
    return 0;
}

size_t effc_dequantize_s8_scratch_size(void)
{
    return 0;
}

static int effc_bcast_ok(const effc_broadcast *b)
{
    int i;
    if (b == NULL) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        if (b->dims[i] <= 0 || b->in1_strides[i] < 0 || b->in2_strides[i] < 0) {
            return 0;
        }
    }
    return 1;
}

/* The two int8 values of every output element, in output order. */
#define EFFC_FOR_EACH_BROADCAST(b, in1, in2, BODY)                                            \
    do {                                                                                      \
        int32_t i0_, i1_, i2_, i3_;                                                           \
        size_t o_ = 0;                                                                        \
        for (i0_ = 0; i0_ < (b)->dims[0]; i0_++) {                                            \
            for (i1_ = 0; i1_ < (b)->dims[1]; i1_++) {                                        \
                for (i2_ = 0; i2_ < (b)->dims[2]; i2_++) {                                    \
                    const size_t a_ = (size_t)i0_ * (size_t)(b)->in1_strides[0] +             \
                                      (size_t)i1_ * (size_t)(b)->in1_strides[1] +             \
                                      (size_t)i2_ * (size_t)(b)->in1_strides[2];              \
                    const size_t c_ = (size_t)i0_ * (size_t)(b)->in2_strides[0] +             \
                                      (size_t)i1_ * (size_t)(b)->in2_strides[1] +             \
                                      (size_t)i2_ * (size_t)(b)->in2_strides[2];              \
                    for (i3_ = 0; i3_ < (b)->dims[3]; i3_++, o_++) {                          \
                        const int32_t x1 =                                                    \
                            (in1)[a_ + (size_t)i3_ * (size_t)(b)->in1_strides[3]];            \
                        const int32_t x2 =                                                    \
                            (in2)[c_ + (size_t)i3_ * (size_t)(b)->in2_strides[3]];            \
                        BODY;                                                                 \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    } while (0)

/* (q - zp) << left_shift, scaled by the input's multiplier (TFLite's
 * MultiplyByQuantizedMultiplierSmallerThanOneExp for shift <= 0). */
static inline int32_t effc_add_input(int32_t q, int32_t zp, int32_t left_shift,
                                     effc_requant r)
{
    return effc_requant_apply(effc_wrap_shl(q - zp, left_shift), r);
}

/* Elements of a broadcast that broadcasts nothing (both inputs contiguous
 * with the output's shape), else 0. */
static size_t effc_bcast_flat(const effc_broadcast *b)
{
    size_t stride = 1;
    int i;
    for (i = 3; i >= 0; i--) {
        if (b->dims[i] > 1 && ((size_t)b->in1_strides[i] != stride ||
                               (size_t)b->in2_strides[i] != stride)) {
            return 0; /* (the stride of a dimension of 1 is never used) */
        }
        stride *= (size_t)b->dims[i];
    }
    return stride;
}

/* An ADD input's scaling in one multiply: shift 0 is the high multiply alone
 * (effc_srdhm_fast), a right shift the effc_requant_rs form. */
typedef struct {
    effc_requant_rs rs;
    int32_t multiplier;
    int32_t high_only; /* shift 0 */
} effc_add_scale;

static int effc_add_scale_make(int32_t multiplier, int32_t shift, effc_add_scale *s)
{
    s->multiplier = multiplier;
    s->high_only = shift == 0;
    s->rs = effc_requant_rs_make(0, -1, 0); /* unused for shift 0 */
    if (shift == 0) {
        return multiplier >= 0;
    }
    if (!effc_requant_rs_ok(multiplier, shift, 0)) {
        return 0;
    }
    s->rs = effc_requant_rs_make(multiplier, shift, 0);
    return 1;
}

/* high_only: a constant at every call site (effc_add_flat_loop's instances). */
static inline __attribute__((always_inline)) int32_t
effc_add_scale_apply(int32_t x, const effc_add_scale *s, const int high_only)
{
    return high_only ? effc_srdhm_fast(x, s->multiplier) : effc_requant_rs_apply(x, &s->rs);
}

typedef struct {
    const int8_t *in1, *in2;
    int8_t *out;
    size_t n;
    int32_t zp1, zp2, left, lo, hi;
    effc_add_scale s1, s2;
    effc_requant_rs ro;
} effc_add_flat;

/* The loop, one instance per (subtract, input 1 / input 2 scaling form). */
static inline __attribute__((always_inline)) void
effc_add_flat_loop(const effc_add_flat *f, const int subtract, const int h1, const int h2)
{
    const effc_add_flat c = *f; /* locals: the int8 stores cannot alias them */
    size_t i;
    for (i = 0; i < c.n; i++) {
        const int32_t a = effc_add_scale_apply((c.in1[i] - c.zp1) * (1 << c.left), &c.s1, h1);
        const int32_t b = effc_add_scale_apply((c.in2[i] - c.zp2) * (1 << c.left), &c.s2, h2);
        c.out[i] = (int8_t)effc_clamp_i32(effc_requant_rs_apply(subtract ? a - b : a + b,
                                                                &c.ro), c.lo, c.hi);
    }
}

static void effc_add_flat_add(const effc_add_flat *f)
{
    if (f->s1.high_only && f->s2.high_only) {
        effc_add_flat_loop(f, 0, 1, 1);
    } else if (f->s1.high_only) {
        effc_add_flat_loop(f, 0, 1, 0);
    } else if (f->s2.high_only) {
        effc_add_flat_loop(f, 0, 0, 1);
    } else {
        effc_add_flat_loop(f, 0, 0, 0);
    }
}

static void effc_add_flat_sub(const effc_add_flat *f)
{
    effc_add_flat_loop(f, 1, 0, 0); /* both scalings in the effc_requant_rs form */
}

/* ADD / SUB without broadcasting where every requantization takes a
 * single-multiply form (the same values as the general form within their
 * bounds, which these operands keep: |(q - zp) << left_shift| <= 255 * 2^20).
 * One loop over the elements. Returns 0 when it does not apply. */
static int effc_add_sub_flat(const effc_add_params *p, const effc_broadcast *b,
                             const int8_t *in1, const int8_t *in2, int8_t *out, int subtract)
{
    effc_add_flat f;
    f.n = effc_bcast_flat(b);
    f.zp1 = p->input1_zero_point;
    f.zp2 = p->input2_zero_point;
    f.left = p->left_shift;
    if (f.n == 0 || f.left < 0 || f.left > 20 || f.zp1 < -128 || f.zp1 > 127 ||
        f.zp2 < -128 || f.zp2 > 127 ||
        !effc_add_scale_make(p->input1_multiplier, p->input1_shift, &f.s1) ||
        !effc_add_scale_make(p->input2_multiplier, p->input2_shift, &f.s2) ||
        !effc_requant_rs_ok(p->output_multiplier, p->output_shift, p->output_zero_point) ||
        (subtract && (f.s1.high_only || f.s2.high_only))) {
        return 0;
    }
    f.in1 = in1;
    f.in2 = in2;
    f.out = out;
    f.lo = p->activation_min;
    f.hi = p->activation_max;
    f.ro = effc_requant_rs_make(p->output_multiplier, p->output_shift, p->output_zero_point);
    (subtract ? effc_add_flat_sub : effc_add_flat_add)(&f);
    return 1;
}

static int effc_add_sub_s8(const effc_add_params *p, const effc_broadcast *b,
                           const int8_t *in1, const int8_t *in2, int8_t *out, int subtract)
{
    effc_requant r1, r2, ro;
    if (p == NULL || !effc_bcast_ok(b)) {
        return EFFC_ERR_ARG;
    }
    if (effc_add_sub_flat(p, b, in1, in2, out, subtract)) {
        return EFFC_OK;
    }
    r1 = effc_requant_make(p->input1_multiplier, p->input1_shift);
    r2 = effc_requant_make(p->input2_multiplier, p->input2_shift);
    ro = effc_requant_make(p->output_multiplier, p->output_shift);
    EFFC_FOR_EACH_BROADCAST(b, in1, in2, {
        const int32_t s1 = effc_add_input(x1, p->input1_zero_point, p->left_shift, r1);
        const int32_t s2 = effc_add_input(x2, p->input2_zero_point, p->left_shift, r2);
        const int32_t raw = subtract ? (int32_t)((uint32_t)s1 - (uint32_t)s2)
                                     : effc_wrap_add(s1, s2);
        out[o_] = effc_requant_to_s8(raw, ro, p->output_zero_point, p->activation_min,
                                     p->activation_max);
    });
    return EFFC_OK;
}

int effc_add_s8(const effc_add_params *params, const effc_broadcast *bcast,
                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    return effc_add_sub_s8(params, bcast, input1, input2, output, 0);
}

int effc_sub_s8(const effc_add_params *params, const effc_broadcast *bcast,
                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    return effc_add_sub_s8(params, bcast, input1, input2, output, 1);
}

int effc_mul_s8(const effc_mul_params *params, const effc_broadcast *bcast,
                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const effc_mul_params *p = params;
    effc_requant ro;
    if (p == NULL || !effc_bcast_ok(bcast)) {
        return EFFC_ERR_ARG;
    }
    ro = effc_requant_make(p->output_multiplier, p->output_shift);
    EFFC_FOR_EACH_BROADCAST(bcast, input1, input2, {
        const int32_t prod = (x1 - p->input1_zero_point) * (x2 - p->input2_zero_point);
        output[o_] = effc_requant_to_s8(prod, ro, p->output_zero_point, p->activation_min,
                                        p->activation_max);
    });
    return EFFC_OK;
}

/* TFLite's MAXIMUM / MINIMUM: the raw values compare (both inputs are at the output's
 * scale and zero point; the compiler requantizes them first). */
int effc_min_s8(const effc_broadcast *bcast, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    if (!effc_bcast_ok(bcast)) {
        return EFFC_ERR_ARG;
    }
    EFFC_FOR_EACH_BROADCAST(bcast, input1, input2, {
        output[o_] = (int8_t)(x1 < x2 ? x1 : x2);
    });
    return EFFC_OK;
}

int effc_max_s8(const effc_broadcast *bcast, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    if (!effc_bcast_ok(bcast)) {
        return EFFC_ERR_ARG;
    }
    EFFC_FOR_EACH_BROADCAST(bcast, input1, input2, {
        output[o_] = (int8_t)(x1 > x2 ? x1 : x2);
    });
    return EFFC_OK;
}

int effc_prelu_s8(const effc_prelu_params *params, const effc_broadcast *bcast,
                  const int8_t *input, const int8_t *alpha, int8_t *output)
{
    const effc_prelu_params *p = params;
    effc_requant r1, r2;
    if (p == NULL || !effc_bcast_ok(bcast)) {
        return EFFC_ERR_ARG;
    }
    r1 = effc_requant_make(p->multiplier_1, p->shift_1);
    r2 = effc_requant_make(p->multiplier_2, p->shift_2);
    EFFC_FOR_EACH_BROADCAST(bcast, input, alpha, {
        const int32_t v = x1 - p->input_zero_point;
        const int32_t y = v >= 0 ? effc_requant_apply(v, r1)
                                 : effc_requant_apply(v * (x2 - p->alpha_zero_point), r2);
        output[o_] = (int8_t)effc_clamp_i32(y + p->output_zero_point, -128, 127);
    });
    return EFFC_OK;
}

int effc_lut_s8(const int8_t *table, int32_t count, const int8_t *input, int8_t *output)
{
    int32_t i;
    if (table == NULL || count < 0) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < count; i++) {
        output[i] = table[input[i] + 128];
    }
    return EFFC_OK;
}

int effc_requantize_s8(const effc_requantize_params *params, int32_t count,
                       const int8_t *input, int8_t *output)
{
    effc_requant r;
    int32_t i;
    if (params == NULL || count < 0) {
        return EFFC_ERR_ARG;
    }
    r = effc_requant_make(params->multiplier, params->shift);
    for (i = 0; i < count; i++) {
        output[i] = effc_requant_to_s8(input[i] - params->input_zero_point, r,
                                       params->output_zero_point, -128, 127);
    }
    return EFFC_OK;
}

/* std::round for |x| <= 2^24 without libm: half away from zero. */
static float effc_round_half_away(float x)
{
    const float t = (float)(int32_t)x; /* truncation toward zero */
    const float d = x - t;             /* exact */
    if (d >= 0.5f) {
        return t + 1.0f;
    }
    if (d <= -0.5f) {
        return t - 1.0f;
    }
    return t;
}

int effc_quantize_s8(float scale, int32_t zero_point, int32_t count, const float *input,
                     int8_t *output)
{
    int32_t i;
    if (count < 0 || !(scale > 0.0f)) {
        return EFFC_ERR_ARG;
    }
    for (i = 0; i < count; i++) {
        float q = input[i] / scale;
        int32_t v;
        if (q != q) {
            q = 0.0f; /* NaN */
        }
        /* Beyond +-2^20 the int8 result saturates anyway. */
        q = q > 1048576.0f ? 1048576.0f : (q < -1048576.0f ? -1048576.0f : q);
        v = (int32_t)effc_round_half_away(q) + zero_point;
        output[i] = (int8_t)effc_clamp_i32(v, -128, 127);
    }
    return EFFC_OK;
}

int effc_dequantize_s8(float scale, int32_t zero_point, int32_t count, const int8_t *input,
                       float *output)
{
    int32_t i;
    if (count < 0) {
        return EFFC_ERR_ARG;
    }
    /* float(scale) * float(q - zp) is the correctly rounded exact product,
     * the same value as TFLite's float(double(scale) * (q - zp)). */
    for (i = 0; i < count; i++) {
        output[i] = scale * (float)(input[i] - zero_point);
    }
    return EFFC_OK;
}
