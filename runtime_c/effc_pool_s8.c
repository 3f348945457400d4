/*
 * effc_pool_s8.c - int8 max / average / global average pooling, bit-exact
 * with TFLM's reference_integer_ops::MaxPool / AveragePool. Input and output
 * share scale and zero point; padded taps are skipped (the average divides
 * by the number of in-bounds taps).
 */
#include "effc_internal.h"

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
           p->stride_w > 0 && p->pad_top >= 0 && p->pad_left >= 0;
}

/* TFLite's rounded division of a sum by a count: ties away from zero. */
static int32_t effc_rounded_div(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

typedef struct {
    int32_t y0, y1, x0, x1; /* in-bounds window [y0, y1) x [x0, x1) */
} effc_window;

static effc_window effc_pool_window(const effc_pool_params *p, const effc_dims *in, int32_t oy,
                                    int32_t ox)
{
    effc_window w;
    const int32_t iy = oy * p->stride_h - p->pad_top;
    const int32_t ix = ox * p->stride_w - p->pad_left;
    w.y0 = EFFC_MAX(iy, 0);
    w.y1 = EFFC_MIN(iy + p->filter_h, in->h);
    w.x0 = EFFC_MAX(ix, 0);
    w.x1 = EFFC_MIN(ix + p->filter_w, in->w);
    return w;
}

/* Sum of channel c0 (and c0 + 1 .. c0 + 3 with the DSP body) over the taps
 * [y0, y1) x [x0, x1) of the image at `img` (row stride w * cn). Integer sums
 * are exact, so the summation order does not change the result. */
#if defined(EFFC_USE_DSP)
/* Channels c0..c0+3 at once: one 32-bit load per tap, widened into 16-bit
 * lanes with SXTAB16 (even and odd channels), flushed into int32 at least
 * every 256 taps (|lane| <= 128 * 256 fits). Returns 4 (channels done). */
static int32_t effc_pool_sums(const int8_t *img, size_t row_stride, size_t cn, int32_t c0,
                              int32_t nc, const effc_window *w, int32_t *sum)
{
    int32_t y, left = 256, e = 0, o = 0;
    if (nc < 4) {
        int32_t acc = 0, x;
        for (y = w->y0; y < w->y1; y++) {
            const int8_t *src = img + (size_t)y * row_stride + (size_t)w->x0 * cn + (size_t)c0;
            for (x = w->x0; x < w->x1; x++) {
                acc += *src;
                src += cn;
            }
        }
        sum[0] = acc;
        return 1;
    }
    sum[0] = sum[1] = sum[2] = sum[3] = 0;
    for (y = w->y0; y < w->y1; y++) {
        const int8_t *src = img + (size_t)y * row_stride + (size_t)w->x0 * cn + (size_t)c0;
        int32_t x = w->x0;
        while (x < w->x1) {
            int32_t n = EFFC_MIN(w->x1 - x, left);
            x += n;
            left -= n;
            for (; n > 0; n--) {
                const uint32_t v = effc_read_u32(src);
                src += cn;
                e = __sxtab16(e, v);
                o = effc_sxtab16_ror8(o, v);
            }
            if (left == 0) {
                sum[0] += (int16_t)e;
                sum[1] += (int16_t)o;
                sum[2] += e >> 16;
                sum[3] += o >> 16;
                e = o = 0;
                left = 256;
            }
        }
    }
    sum[0] += (int16_t)e;
    sum[1] += (int16_t)o;
    sum[2] += e >> 16;
    sum[3] += o >> 16;
    return 4;
}
#else
static int32_t effc_pool_sums(const int8_t *img, size_t row_stride, size_t cn, int32_t c0,
                              int32_t nc, const effc_window *w, int32_t *sum)
{
    int32_t acc = 0, y, x;
    (void)nc;
    for (y = w->y0; y < w->y1; y++) {
        const int8_t *src = img + (size_t)y * row_stride + (size_t)w->x0 * cn + (size_t)c0;
        for (x = w->x0; x < w->x1; x++) {
            acc += *src;
            src += cn;
        }
    }
    sum[0] = acc;
    return 1;
}
#endif

static int effc_pool_s8(const effc_pool_params *p, const effc_dims *in, const int8_t *input,
                        const effc_dims *out, int8_t *output, int is_max)
{
    int32_t b, oy, ox, c, y, x;
    const size_t cn = (size_t)in->c;
    if (!effc_pool_args_ok(p, in, out)) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            for (ox = 0; ox < out->w; ox++) {
                const effc_window w = effc_pool_window(p, in, oy, ox);
                const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                int8_t *dst = output + ((size_t)(b * out->h + oy) * (size_t)out->w +
                                        (size_t)ox) * cn;
                if (w.y1 <= w.y0 || w.x1 <= w.x0) {
                    return EFFC_ERR_ARG; /* a window with no input element */
                }
                if (!is_max) {
                    const int8_t *img = input + (size_t)b * (size_t)in->h * (size_t)in->w * cn;
                    effc_window span = w;
                    int32_t sum[4], done, j;
                    if (w.x0 == 0 && w.x1 == in->w) {
                        /* full-width rows are contiguous: one run of taps */
                        span.x0 = w.y0 * in->w;
                        span.x1 = w.y1 * in->w;
                        span.y0 = 0;
                        span.y1 = 1;
                    }
                    for (c = 0; c < in->c; c += done) {
                        done = effc_pool_sums(img, (size_t)in->w * cn, cn, c, in->c - c,
                                              &span, sum);
                        for (j = 0; j < done; j++) {
                            dst[c + j] = (int8_t)effc_clamp_i32(effc_rounded_div(sum[j], count),
                                                                p->activation_min,
                                                                p->activation_max);
                        }
                    }
                    continue;
                }
                for (c = 0; c < in->c; c++) {
                    int32_t acc = is_max ? -128 : 0;
                    for (y = w.y0; y < w.y1; y++) {
                        const int8_t *src = input + ((size_t)(b * in->h + y) * (size_t)in->w +
                                                     (size_t)w.x0) * cn + (size_t)c;
                        for (x = w.x0; x < w.x1; x++) {
                            if (is_max) {
                                acc = EFFC_MAX(acc, (int32_t)*src);
                            } else {
                                acc += *src;
                            }
                            src += cn;
                        }
                    }
                    if (!is_max) {
                        acc = effc_rounded_div(acc, count);
                    }
                    dst[c] = (int8_t)effc_clamp_i32(acc, p->activation_min, p->activation_max);
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
    w.y1 = 1;
    w.x0 = 0;
    w.x1 = count;
    for (b = 0; b < input_dims->n; b++) {
        const int8_t *src = input + (size_t)b * (size_t)count * cn;
        int32_t sum[4], done, j;
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
