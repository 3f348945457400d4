/*
 * effc_pool_s8.c - int8 max / average / global average pooling, bit-exact
 * with TFLM's reference_integer_ops::MaxPool / AveragePool. Input and output
 * share scale and zero point; padded taps are skipped (the average divides
 * by the number of in-bounds taps), or, for ONNX's count_include_pad, count
 * as the zero point. Dilation and ceil_mode windows (ONNX) are supported too.
 */
#include "effc_internal.h"

#if defined(EFFC_USE_MVE)
#include <arm_mve.h>
#endif

size_t effc_max_pool_s8_scratch_size(void)
{
    return 0;
}

size_t effc_avg_pool_s8_scratch_size(void)
{
    return 0;
}

size_t effc_global_avg_pool_s8_scratch_size(void)
{
    return 0;
}

static int effc_pool_args_ok(const effc_pool_params *p, const effc_dims *in,
                             const effc_dims *out)
{
    return p != NULL && effc_dims_ok(in) && effc_dims_ok(out) && in->n == out->n &&
           in->c == out->c && p->filter_h > 0 && p->filter_w > 0 && p->stride_h > 0 &&
           p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0 && p->pad_top >= 0 &&
           p->pad_left >= 0 && p->pad_bottom >= 0 && p->pad_right >= 0 &&
           (p->count_include_pad == 0 || p->count_include_pad == 1);
}

/* Channels effc_pool_sums may do at once (its sum[] holds as many). */
#if defined(EFFC_USE_MVE)
enum { EFFC_POOL_LANES = 16 };
#elif defined(EFFC_USE_DSP) && !EFFC_SMALL_UNIT
enum { EFFC_POOL_LANES = 8 }; /* speed builds: 8 channels a pass (effc_pool_sums8) */
#else
enum { EFFC_POOL_LANES = 4 };
#endif

/* TFLite's rounded division of a sum by a count: ties away from zero. */
static int32_t effc_rounded_div(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

typedef struct {
    int32_t y0, ny, dy; /* in-bounds rows y0 + i * dy, i < ny */
    int32_t x0, nx, dx; /* in-bounds columns x0 + j * dx, j < nx */
} effc_window;

/* The in-bounds taps of output (oy, ox); *counted: the taps an average with
 * count_include_pad divides by. */
static effc_window effc_pool_window(const effc_pool_params *p, const effc_dims *in, int32_t oy,
                                    int32_t ox, int32_t *counted)
{
    effc_window w;
    const effc_pool_axis ya = effc_pool_axis_taps(oy * p->stride_h - p->pad_top, p->filter_h,
                                                  p->dilation_h, in->h, p->pad_top,
                                                  p->pad_bottom);
    const effc_pool_axis xa = effc_pool_axis_taps(ox * p->stride_w - p->pad_left, p->filter_w,
                                                  p->dilation_w, in->w, p->pad_left,
                                                  p->pad_right);
    w.y0 = ya.first;
    w.ny = ya.valid;
    w.dy = p->dilation_h;
    w.x0 = xa.first;
    w.nx = xa.valid;
    w.dx = p->dilation_w;
    *counted = ya.counted * xa.counted;
    return w;
}

/* The first tap of window row i (of `w`) for channel c0. */
static inline const int8_t *effc_window_row(const int8_t *img, size_t row_stride, size_t cn,
                                            int32_t c0, const effc_window *w, int32_t i)
{
    return img + (size_t)(w->y0 + i * w->dy) * row_stride + (size_t)w->x0 * cn + (size_t)c0;
}

/* Sum of channel c0 (and c0 + 1 .. c0 + 3 with the DSP body) over the taps
 * of `w` in the image at `img` (row stride row_stride bytes, cn channels).
 * Integer sums are exact, so the summation order does not change the result. */
#if defined(EFFC_USE_MVE)
/* Adds one lane of 16-bit sums into int32 even and odd channel sums. */
static inline __attribute__((always_inline)) void
effc_pool_flush(int16x8_t a, int32x4_t *even, int32x4_t *odd)
{
    *even = vaddq_s32(*even, vmovlbq_s16(a));
    *odd = vaddq_s32(*odd, vmovltq_s16(a));
}

/* Channels c0..c0+15 at once (fewer under predicates when nc < 16): two
 * VLDRB.S16 and two VADD.I16 per tap, flushed into int32 (even and odd
 * channels widened) at least every 256 taps (|lane| <= 128 * 256 fits).
 * Returns the channels done. */
static int32_t effc_pool_sums(const int8_t *img, size_t row_stride, size_t cn, int32_t c0,
                              int32_t nc, const effc_window *w, int32_t *sum)
{
    const size_t col_step = (size_t)w->dx * cn;
    const int32_t lanes = EFFC_MIN(nc, EFFC_POOL_LANES);
    const mve_pred16_t p0 = vctp16q((uint32_t)lanes);
    const mve_pred16_t p1 = vctp16q((uint32_t)EFFC_MAX(lanes - 8, 0));
    const int16x8_t zero = vdupq_n_s16(0);
    int16x8_t a0 = zero, a1 = zero;
    int32x4_t e0 = vdupq_n_s32(0), o0 = e0, e1 = e0, o1 = e0;
    int32_t i, j, left = 256, part[16];
    for (i = 0; i < w->ny; i++) {
        const int8_t *src = effc_window_row(img, row_stride, cn, c0, w, i);
        int32_t todo = w->nx;
        while (todo > 0) {
            int32_t n = EFFC_MIN(todo, left);
            todo -= n;
            left -= n;
            if (lanes == EFFC_POOL_LANES) {
                for (; n > 0; n--, src += col_step) {
                    a0 = vaddq_s16(a0, vldrbq_s16(src));
                    a1 = vaddq_s16(a1, vldrbq_s16(src + 8));
                }
            } else {
                for (; n > 0; n--, src += col_step) {
                    a0 = vaddq_s16(a0, vldrbq_z_s16(src, p0));
                    a1 = vaddq_s16(a1, vldrbq_z_s16(src + 8, p1));
                }
            }
            if (left == 0) {
                effc_pool_flush(a0, &e0, &o0);
                effc_pool_flush(a1, &e1, &o1);
                a0 = a1 = zero;
                left = 256;
            }
        }
    }
    effc_pool_flush(a0, &e0, &o0);
    effc_pool_flush(a1, &e1, &o1);
    vstrwq_s32(part, e0); /* channels 0 2 4 6 | 1 3 5 7 | 8 10 12 14 | 9 11 13 15 */
    vstrwq_s32(part + 4, o0);
    vstrwq_s32(part + 8, e1);
    vstrwq_s32(part + 12, o1);
    for (j = 0; j < lanes; j++) {
        sum[j] = part[(j & 8) + (j & 1) * 4 + ((j & 7) >> 1)];
    }
    return lanes;
}
#elif defined(EFFC_USE_DSP)
/* One tap of 4 * words channels (words: 1 or 2 words at src) into the 16-bit
 * lanes of acc: [0] channels 0 and 2, [1] 1 and 3, [2] 4 and 6, [3] 5 and 7. */
static inline __attribute__((always_inline)) void effc_pool_tap(const int8_t *src,
                                                                int32_t words, int32_t acc[4])
{
    const uint32_t v0 = effc_read_u32(src);
    acc[0] = __sxtab16(acc[0], v0);
    acc[1] = effc_sxtab16_ror8(acc[1], v0);
    if (words == 2) {
        const uint32_t v1 = effc_read_u32(src + 4);
        acc[2] = __sxtab16(acc[2], v1);
        acc[3] = effc_sxtab16_ror8(acc[3], v1);
    }
}

/* acc's 16-bit lanes added into sum[0 .. 4 * words), then cleared. */
static inline __attribute__((always_inline)) void effc_pool_flush_words(int32_t acc[4],
                                                                        int32_t words,
                                                                        int32_t *sum)
{
    sum[0] += (int16_t)acc[0];
    sum[1] += (int16_t)acc[1];
    sum[2] += acc[0] >> 16;
    sum[3] += acc[1] >> 16;
    acc[0] = acc[1] = 0;
    if (words == 2) {
        sum[4] += (int16_t)acc[2];
        sum[5] += (int16_t)acc[3];
        sum[6] += acc[2] >> 16;
        sum[7] += acc[3] >> 16;
        acc[2] = acc[3] = 0;
    }
}

/* The four-tap steps in inline asm (-O0 has too few registers for the
 * eight-channel step's twelve operands: the C taps there), but not in a size build
 * (-Os: its bytes; the --flash-budget size units leave __OPTIMIZE_SIZE__ undefined and
 * keep the four-channel step). */
#if defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#define EFFC_POOL_QUADS_ASM 1
#else
#define EFFC_POOL_QUADS_ASM 0
#endif

#if EFFC_POOL_QUADS_ASM
/* Four taps of 4 channels (a word each, taps col_step bytes apart) into acc[0..1]:
 * the four loads back to back (pipelined: 5 cycles on a Cortex-M4; two pointers a
 * tap apart, as Thumb has no register post-index), then the eight SXTAB16s. The
 * --flash-budget size units' step (at -Os the C taps' loop took 3.9 cycles a value on
 * KWS's pooling). */
static inline __attribute__((always_inline)) const int8_t *
effc_pool_quads4(const int8_t *src, size_t col_step, int32_t quads, int32_t acc[4])
{
    const int8_t *next = src + col_step;
    const size_t two = 2 * col_step;
    uint32_t t0, t1, t2, t3;
    __asm__ volatile("1:\n\t"
                     "ldr     %[t0], [%[s]]\n\t"
                     "ldr     %[t1], [%[s1]]\n\t"
                     "ldr     %[t2], [%[s], %[two]]\n\t"
                     "ldr     %[t3], [%[s1], %[two]]\n\t"
                     "add     %[s], %[s], %[two], lsl #1\n\t"
                     "add     %[s1], %[s1], %[two], lsl #1\n\t"
                     "sxtab16 %[a0], %[a0], %[t0]\n\t"
                     "sxtab16 %[a1], %[a1], %[t0], ror #8\n\t"
                     "sxtab16 %[a0], %[a0], %[t1]\n\t"
                     "sxtab16 %[a1], %[a1], %[t1], ror #8\n\t"
                     "sxtab16 %[a0], %[a0], %[t2]\n\t"
                     "sxtab16 %[a1], %[a1], %[t2], ror #8\n\t"
                     "sxtab16 %[a0], %[a0], %[t3]\n\t"
                     "sxtab16 %[a1], %[a1], %[t3], ror #8\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [s] "+r"(src), [s1] "+r"(next), [n] "+r"(quads), [a0] "+r"(acc[0]),
                       [a1] "+r"(acc[1]), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),
                       [t3] "=&r"(t3)
                     : [two] "r"(two)
                     : "cc", "memory");
    return src;
}

/* Two taps of 8 channels (words at s and s + 4, then s + step and s + step + 4)
 * into acc[0..3]: the four loads back to back (pipelined: 5 cycles on a
 * Cortex-M4, where GCC interleaves them with the SXTAB16s at 2 cycles each)
 * and both pointers stepped before the adds use the loaded words (no address
 * stall on the next pair). */
#define EFFC_POOL_TWO_TAPS                                                                     \
    "ldr     %[t0], [%[s]]\n\t"                                                                \
    "ldr     %[t1], [%[s], #4]\n\t"                                                            \
    "ldr     %[t2], [%[s], %[step]]\n\t"                                                       \
    "ldr     %[t3], [%[s4], %[step]]\n\t"                                                      \
    "add     %[s], %[s], %[step], lsl #1\n\t"                                                  \
    "add     %[s4], %[s4], %[step], lsl #1\n\t"                                                \
    "sxtab16 %[a0], %[a0], %[t0]\n\t"                                                          \
    "sxtab16 %[a1], %[a1], %[t0], ror #8\n\t"                                                  \
    "sxtab16 %[a2], %[a2], %[t1]\n\t"                                                          \
    "sxtab16 %[a3], %[a3], %[t1], ror #8\n\t"                                                  \
    "sxtab16 %[a0], %[a0], %[t2]\n\t"                                                          \
    "sxtab16 %[a1], %[a1], %[t2], ror #8\n\t"                                                  \
    "sxtab16 %[a2], %[a2], %[t3]\n\t"                                                          \
    "sxtab16 %[a3], %[a3], %[t3], ror #8\n\t"

/* quads (>= 1) steps of four taps of 8 channels from src (taps col_step bytes
 * apart) into the 16-bit lanes of acc (effc_pool_tap's order). Returns the
 * source after them. */
static inline __attribute__((always_inline)) const int8_t *
effc_pool_quads8(const int8_t *src, size_t col_step, int32_t quads, int32_t acc[4])
{
    const int8_t *src4 = src + 4;
    uint32_t t0, t1, t2, t3;
    __asm__ volatile("1:\n\t" EFFC_POOL_TWO_TAPS EFFC_POOL_TWO_TAPS
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [s] "+r"(src), [s4] "+r"(src4), [n] "+r"(quads), [a0] "+r"(acc[0]),
                       [a1] "+r"(acc[1]), [a2] "+r"(acc[2]), [a3] "+r"(acc[3]),
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
                     : [step] "r"(col_step)
                     : "cc", "memory");
    return src;
}
#endif

/* Sums of channels c0 .. c0 + 4 * words - 1 over the window: one 32-bit load
 * per tap and word, widened into 16-bit lanes with SXTAB16 (even and odd
 * channels), flushed into int32 at least every 256 taps (|lane| <= 128 * 256
 * fits). Two words (speed builds) run four taps a step. */
static inline __attribute__((always_inline)) void
effc_pool_sums_words(const int8_t *img, size_t row_stride, size_t cn, int32_t c0,
                     const effc_window *w, int32_t words, int32_t *sum)
{
    const size_t col_step = (size_t)w->dx * cn;
    int32_t i, left = 256, acc[4] = {0, 0, 0, 0};
    sum[0] = sum[1] = sum[2] = sum[3] = 0;
    if (words == 2) {
        sum[4] = sum[5] = sum[6] = sum[7] = 0;
    }
    for (i = 0; i < w->ny; i++) {
        const int8_t *src = effc_window_row(img, row_stride, cn, c0, w, i);
        int32_t todo = w->nx;
        while (todo > 0) {
            int32_t n = EFFC_MIN(todo, left);
            todo -= n;
            left -= n;
#if EFFC_POOL_QUADS_ASM
            if (n >= 4) { /* four taps a step */
                src = (words == 2 ? effc_pool_quads8 : effc_pool_quads4)(src, col_step, n >> 2,
                                                                         acc);
                n &= 3;
            }
#endif
            for (; n > 0; n--) {
                effc_pool_tap(src, words, acc);
                src += col_step;
            }
            if (left == 0) {
                effc_pool_flush_words(acc, words, sum);
                left = 256;
            }
        }
    }
    effc_pool_flush_words(acc, words, sum);
}

/* Channels c0..c0+7 (nc >= 8, speed builds) or c0..c0+3 at once
 * (effc_pool_sums_words), or c0 alone. Returns the channels done (8, 4 or 1). */
static int32_t effc_pool_sums(const int8_t *img, size_t row_stride, size_t cn, int32_t c0,
                              int32_t nc, const effc_window *w, int32_t *sum)
{
    const size_t col_step = (size_t)w->dx * cn;
    int32_t i, j, acc = 0;
#if !EFFC_SMALL_UNIT
    if (nc >= 8) {
        effc_pool_sums_words(img, row_stride, cn, c0, w, 2, sum);
        return 8;
    }
#endif
    if (nc >= 4) {
        effc_pool_sums_words(img, row_stride, cn, c0, w, 1, sum);
        return 4;
    }
    for (i = 0; i < w->ny; i++) {
        const int8_t *src = effc_window_row(img, row_stride, cn, c0, w, i);
        for (j = 0; j < w->nx; j++) {
            acc += *src;
            src += col_step;
        }
    }
    sum[0] = acc;
    return 1;
}

#else
static int32_t effc_pool_sums(const int8_t *img, size_t row_stride, size_t cn, int32_t c0,
                              int32_t nc, const effc_window *w, int32_t *sum)
{
    const size_t col_step = (size_t)w->dx * cn;
    int32_t acc = 0, i, j;
    (void)nc;
    for (i = 0; i < w->ny; i++) {
        const int8_t *src = effc_window_row(img, row_stride, cn, c0, w, i);
        for (j = 0; j < w->nx; j++) {
            acc += *src;
            src += col_step;
        }
    }
    sum[0] = acc;
    return 1;
}
#endif

static int effc_pool_s8(const effc_pool_params *p, const effc_dims *in, const int8_t *input,
                        const effc_dims *out, int8_t *output, int is_max)
{
    int32_t b, oy, ox, c, i, j;
    const size_t cn = (size_t)in->c;
    const size_t row_stride = (size_t)in->w * cn;
    int32_t lo, hi; /* the activation range, read once (the stores could alias p) */
    if (!effc_pool_args_ok(p, in, out)) {
        return EFFC_ERR_ARG;
    }
    lo = p->activation_min;
    hi = p->activation_max;
    for (b = 0; b < out->n; b++) {
        const int8_t *img = input + (size_t)b * (size_t)in->h * row_stride;
        for (oy = 0; oy < out->h; oy++) {
            for (ox = 0; ox < out->w; ox++) {
                int32_t counted;
                const effc_window w = effc_pool_window(p, in, oy, ox, &counted);
                const int32_t valid = w.ny * w.nx;
                int8_t *dst = output + ((size_t)(b * out->h + oy) * (size_t)out->w +
                                        (size_t)ox) * cn;
                if (!is_max) {
                    /* padded taps worth pad_value each, when they count */
                    const int32_t count = p->count_include_pad ? counted : valid;
                    const int32_t padded = p->count_include_pad
                                               ? (counted - valid) * p->pad_value : 0;
                    effc_window span = w;
                    int32_t sum[EFFC_POOL_LANES], done;
                    if (count <= 0) {
                        /* a dilated window over padding only: real 0 (onnxruntime) */
                        for (c = 0; c < in->c; c++) {
                            dst[c] = (int8_t)effc_clamp_i32(p->pad_value, lo, hi);
                        }
                        continue;
                    }
                    if (w.dx == 1 && w.dy == 1 && w.x0 == 0 && w.nx == in->w) {
                        /* full-width rows are contiguous: one run of taps */
                        span.x0 = w.y0 * in->w;
                        span.nx = w.ny * in->w;
                        span.y0 = 0;
                        span.ny = 1;
                    }
                    for (c = 0; c < in->c; c += done) {
                        done = effc_pool_sums(img, row_stride, cn, c, in->c - c, &span, sum);
                        for (j = 0; j < done; j++) {
                            dst[c + j] = (int8_t)effc_clamp_i32(
                                effc_rounded_div(sum[j] + padded, count), lo, hi);
                        }
                    }
                    continue;
                }
                /* (a window over padding only keeps -128, the lowest value) */
                for (c = 0; c < in->c; c++) {
                    int32_t acc = -128;
                    for (i = 0; i < w.ny; i++) {
                        const int8_t *src = effc_window_row(img, row_stride, cn, c, &w, i);
                        for (j = 0; j < w.nx; j++) {
                            acc = EFFC_MAX(acc, (int32_t)*src);
                            src += (size_t)w.dx * cn;
                        }
                    }
                    dst[c] = (int8_t)effc_clamp_i32(acc, lo, hi);
                }
            }
        }
    }
    return EFFC_OK;
}

int effc_max_pool_s8(const effc_pool_params *params, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *output_dims, int8_t *output)
{
    return effc_pool_s8(params, input_dims, input, output_dims, output, 1);
}

int effc_avg_pool_s8(const effc_pool_params *params, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *output_dims, int8_t *output)
{
    return effc_pool_s8(params, input_dims, input, output_dims, output, 0);
}

int effc_global_avg_pool_s8(const effc_dims *input_dims, const int8_t *input,
                            int32_t activation_min, int32_t activation_max, int8_t *output)
{
    const size_t cn = (size_t)input_dims->c;
    const int32_t count = input_dims->h * input_dims->w;
    effc_window w;
    int32_t b, c;
    if (!effc_dims_ok(input_dims)) {
        return EFFC_ERR_ARG;
    }
    /* The whole image as one window of count taps in a single row. */
    w.y0 = 0;
    w.ny = 1;
    w.dy = 1;
    w.x0 = 0;
    w.nx = count;
    w.dx = 1;
    for (b = 0; b < input_dims->n; b++) {
        const int8_t *src = input + (size_t)b * (size_t)count * cn;
        int32_t sum[EFFC_POOL_LANES], done, j;
        for (c = 0; c < input_dims->c; c += done) {
            done = effc_pool_sums(src, 0, cn, c, input_dims->c - c, &w, sum);
            for (j = 0; j < done; j++) {
                output[(size_t)b * cn + (size_t)(c + j)] = (int8_t)effc_clamp_i32(
                    effc_rounded_div(sum[j], count), activation_min, activation_max);
            }
        }
    }
    return EFFC_OK;
}
