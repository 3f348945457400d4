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
    int32_t zp1, zp2, zp_out, left, lo, hi;
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

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
/* The DSP bodies' flat ADD where one input's multiplier is exactly 1/2 (2^30, shift 0:
 * TFLite's for the input of the larger scale, CalculateOpDataAdd's 2 * max) and the
 * output range is int8's: an assembly loop, about 18 estimated Cortex-M4 cycles an
 * element where the C loop took 51 (ResNet-8's residual Adds). With left_shift 20 and
 * the other input in the high-multiply (1/2 too) or effc_requant_rs form:
 *  - the half input: SRDHM((x - zp) * 2^20, 2^30) = floor(((x - zp) * 2^20 + 1) / 2)
 *    = (x - zp) * 2^19 (an even numerator): one RSB, x << 19 - zp << 19;
 *  - an effc_requant_rs input (m, right shift s >= 1, no zero point): with
 *    a = 2 * (x - zp) * 2^20 (RSB, x << 21 - zp << 21; |a| < 2^29), SMMULR(a, m) =
 *    floor((a * m + 2^31) / 2^32) is SRDHM((x - zp) * 2^20, m), and
 *    RoundingDivideByPOT(v, s) = (v - [v < 0] + 2^(s-1)) >> s (ADD of v ASR 31, ADD,
 *    ASR): ties away from zero;
 *  - the output (effc_rq_fast's form with the doubled sum 2t, |t| < 2^28):
 *    SMMLAR(2t, m_o, (2 zp_o + 1) 2^(s_o - 1) - [t < 0]) ASR (s_o - 1), SSAT #8 ASR #1
 *    is RoundingDivideByPOT(SRDHM(t, m_o), s_o) + zp_o saturated to int8 ([t < 0]
 *    differs from [SRDHM < 0] only where the latter is 0, and both round that to 0).
 * Each step is the C loop's arithmetic (effc_add_scale_apply, effc_requant_rs_apply)
 * for these operands, so the bytes are the same. The job: r0-r11 in order. */
typedef struct {
    const int8_t *in_a, *in_b; /* a: the rs (or half) input, b: the half one */
    int8_t *out;
    const int8_t *end_a;       /* in_a + n */
    int32_t zp_a;              /* zp_a << 21 (rs) or << 19 (half) */
    int32_t m_a, round_a, shift_a; /* the rs input's m, 2^(s-1), s */
    int32_t zp_b;              /* zp_b << 19 */
    int32_t out_shift1;        /* s_o - 1 */
    int32_t m_out, round_out;  /* m_o, (2 zp_o + 1) 2^(s_o - 1) */
} effc_add_half_job;

/* One element: input b's half (lr), input a's scaling A (r12), their sum t, the output. */
#define EFFC_ADD_HALF_ELEMENT(A)                                                               \
    "ldrsb  r12, [r0], #1\n\t"                                                                 \
    "ldrsb  lr, [r1], #1\n\t"                                                                  \
    "rsb    lr, r8, lr, lsl #19\n\t"                                                           \
    A                                                                                          \
    "add    r12, r12, lr\n\t"                                                                  \
    "add    lr, r12, r12\n\t"                                                                  \
    "add    r12, r11, r12, asr #31\n\t"                                                        \
    "smmlar lr, lr, r10, r12\n\t"                                                              \
    "asr    lr, lr, r9\n\t"                                                                    \
    "ssat   lr, #8, lr, asr #1\n\t"                                                            \
    "strb   lr, [r2], #1\n\t"

#define EFFC_ADD_A_RS                                                                          \
    "rsb    r12, r4, r12, lsl #21\n\t"                                                         \
    "smmulr r12, r12, r5\n\t"                                                                  \
    "add    r12, r12, r12, asr #31\n\t"                                                        \
    "add    r12, r12, r6\n\t"                                                                  \
    "asr    r12, r12, r7\n\t"

#define EFFC_ADD_A_HALF "rsb    r12, r4, r12, lsl #19\n\t"

/* n >= 1 elements, two a pass (an odd count enters at the second). */
#define EFFC_ADD_HALF_LOOP(A)                                                                  \
    "push   {r4-r11, lr}\n\t"                                                                  \
    "ldm    r0, {r0-r11}\n\t"                                                                  \
    "sub    r12, r3, r0\n\t"                                                                   \
    "tst    r12, #1\n\t"                                                                       \
    "bne    2f\n\t"                                                                            \
    "1:\n\t"                                                                                   \
    EFFC_ADD_HALF_ELEMENT(A)                                                                   \
    "2:\n\t"                                                                                   \
    EFFC_ADD_HALF_ELEMENT(A)                                                                   \
    "cmp    r0, r3\n\t"                                                                        \
    "bne    1b\n\t"                                                                            \
    "pop    {r4-r11, pc}\n\t"

__attribute__((naked, noinline)) static void
effc_add_rs_half(__attribute__((unused)) const effc_add_half_job *job)
{
    __asm__ volatile(EFFC_ADD_HALF_LOOP(EFFC_ADD_A_RS));
}

__attribute__((naked, noinline)) static void
effc_add_half_half(__attribute__((unused)) const effc_add_half_job *job)
{
    __asm__ volatile(EFFC_ADD_HALF_LOOP(EFFC_ADD_A_HALF));
}

/* Whether s is the exact half (multiplier 2^30, shift 0). */
static int effc_add_is_half(const effc_add_scale *s)
{
    return s->high_only && s->multiplier == (1 << 30);
}

/* f's loop in assembly when it applies (f made by effc_add_sub_flat for ADD); 0 if not. */
static int effc_add_flat_half(const effc_add_flat *f)
{
    const int half1 = effc_add_is_half(&f->s1), half2 = effc_add_is_half(&f->s2);
    /* a: the input whose scaling is the rs form, or either when both are halves */
    const int swap = half1 && !half2;
    const effc_add_scale *sa = swap ? &f->s2 : &f->s1;
    const int32_t so = f->ro.shift1 + 1;
    effc_add_half_job job;
    if (f->left != 20 || !(half1 || half2) || (!effc_add_is_half(sa) && sa->high_only) ||
        f->lo > -128 || f->hi < 127) {
        return 0;
    }
    job.in_a = swap ? f->in2 : f->in1;
    job.in_b = swap ? f->in1 : f->in2;
    job.out = f->out;
    job.end_a = job.in_a + f->n;
    job.zp_b = (swap ? f->zp1 : f->zp2) * (1 << 19);
    job.zp_a = (swap ? f->zp2 : f->zp1) * (1 << (sa->high_only ? 19 : 21));
    job.m_a = sa->rs.multiplier;
    job.shift_a = sa->rs.shift1 + 1;
    job.round_a = 1 << sa->rs.shift1;
    job.out_shift1 = f->ro.shift1;
    job.m_out = f->ro.multiplier;
    job.round_out = (2 * f->zp_out + 1) * (1 << (so - 1));
    (sa->high_only ? effc_add_half_half : effc_add_rs_half)(&job);
    return 1;
}
#endif

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
    f.zp_out = p->output_zero_point;
    f.ro = effc_requant_rs_make(p->output_multiplier, p->output_shift, p->output_zero_point);
#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
    if (!subtract && effc_add_flat_half(&f)) {
        return 1;
    }
#endif
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
