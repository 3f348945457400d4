/*
 * effc_conv_im2col.c - the int8 convolution's im2col paths (effc_conv_s8.c
 * holds the entry point, the 1x1 path and the checks): the patch of each
 * output pixel gathered in kernel order (ky, kx, c) = the OHWI weight order,
 * EFFC_MM_COLS pixels at a time, for effc_mm_run / effc_mm_run_quads:
 *   3x3     3x3, dilation 1: three row copies of 3*C_in bytes per patch
 *           (four pixels inside the image at once);
 *   generic any kernel, stride, dilation and padding: per row run or per tap;
 *           4-byte kernel rows (KWS's first conv) with the DSP body read their
 *           patches in place from column images instead.
 * Padded taps are filled with the input zero point, so they contribute
 * exactly 0, as TFLM's bounds checks do.
 *
 * Scratch layout: [effc_mm_scratch_size(K, C_out)][EFFC_MM_COLS patch slots of
 * effc_conv_patch_slot(K) bytes] (K = KH*KW*C_in). A slot holds the matrix
 * kernel's whole groups of 4 values (an even count): with an EFFC_FILTER_WIDE2
 * filter, whose weights past K are 0, the kernel runs on the slot's length
 * (whatever the bytes past K hold, scratch left as it was, adds 0), so a K
 * that is not a multiple of 8 (3x3 on 3 channels: 27 -> 32) still takes the
 * four-column loop, and no partial group is widened in C.
 */
#include "effc_internal.h"

typedef struct {
    const effc_conv_params *p;
    const effc_dims *in;
    const effc_dims *f;
    const effc_dims *out;
    const int8_t *input;
    int32_t b, oy, ox; /* the output pixel to gather (effc_conv_im2col counts it on) */
    size_t row_stride; /* bytes per image row */
    uint32_t zp4;      /* the input zero point in every byte */
} effc_conv_ctx;

/* (b, oy, ox) on to the next output pixel (flat order N, OH, OW): no divisions. */
static inline void effc_pixel_next(const effc_dims *out, int32_t *b, int32_t *oy, int32_t *ox)
{
    if (++*ox == out->w) {
        *ox = 0;
        if (++*oy == out->h) {
            *oy = 0;
            ++*b;
        }
    }
}

static int32_t effc_patch_size(const effc_dims *f)
{
    return f->h * f->w * f->c;
}

static void effc_copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4) {
        const uint32_t v = effc_read_u32(src);
        __builtin_memcpy(dst, &v, 4);
        dst += 4;
        src += 4;
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
}

static __attribute__((noinline)) void effc_fill_s8(int8_t *dst, int8_t value, int32_t n)
{
#if !EFFC_SMALL_UNIT
    const uint32_t v4 = (uint32_t)(uint8_t)value * 0x01010101u;
    for (; n >= 4; n -= 4) { /* whole words (a patch's padded taps of C_in % 4 == 0) */
        effc_write_u32(dst, v4);
        dst += 4;
    }
#endif
    for (; n > 0; n--) {
        *dst++ = value;
    }
}

/* Kernel rows [0, kh) of 4 bytes into col, image rows iy0 + ky: those in
 * [0, in_h) the word at at + (iy0 + ky) * stride shifted left by shl or right
 * by shr bits (8, 16 or 24; the other 0), the bytes shifted in from zp4; the
 * other rows zp4. */
static inline void effc_im2col_rows4(int8_t *col, const int8_t *at, size_t stride,
                                     int32_t kh, int32_t iy0, int32_t in_h, uint32_t zp4,
                                     int32_t shl, int32_t shr)
{
    const uint32_t fill = shl > 0 ? zp4 >> (32 - shl) : shr > 0 ? zp4 << (32 - shr) : 0u;
    const int32_t ky0 = EFFC_MIN(EFFC_MAX(-iy0, 0), kh);
    const int32_t ky1 = EFFC_MAX(EFFC_MIN(kh, in_h - iy0), ky0);
    int8_t *const top = col + 4 * ky0, *const in_end = col + 4 * ky1;
    int8_t *const end = col + 4 * kh;
    for (; col < top; col += 4) {
        effc_write_u32(col, zp4);
    }
    if (ky1 > ky0) {
        at += (size_t)(iy0 + ky0) * stride;
    }
    /* one loop per shift (at most one of shl, shr is nonzero) */
    if (shl > 0) {
        for (; col < in_end; col += 4, at += stride) {
            effc_write_u32(col, (effc_read_u32(at) << shl) | fill);
        }
    } else if (shr > 0) {
        for (; col < in_end; col += 4, at += stride) {
            effc_write_u32(col, (effc_read_u32(at) >> shr) | fill);
        }
    } else { /* with the column images: two rows a pass (KWS: 3 of 5 columns) */
        for (; !EFFC_OMIT_CONV_COLUMNS && col + 4 < in_end; col += 8, at += 2 * stride) {
            effc_write_u32(col, effc_read_u32(at));
            effc_write_u32(col + 4, effc_read_u32(at + stride));
        }
        for (; col < in_end; col += 4, at += stride) {
            effc_write_u32(col, effc_read_u32(at));
        }
    }
    for (; col < end; col += 4) {
        effc_write_u32(col, zp4);
    }
}

/* Patch of output pixel `pix` (flat over N, OH, OW) in kernel order
 * (ky, kx, c) = the OHWI weight order. The geometry is copied into locals
 * first (the int8 stores could alias it), and with dilation_w 1 the in-bounds
 * run [kx0, kx1) is the same for every kernel row. */
static void effc_im2col_generic(const effc_conv_ctx *cx, int8_t *col)
{
    const effc_conv_params *p = cx->p;
    const int32_t cin = cx->in->c;
    const int32_t in_h = cx->in->h, in_w = cx->in->w;
    const int32_t kh = cx->f->h, kw = cx->f->w;
    const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
    const int32_t iy0 = cx->oy * p->stride_h - p->pad_top;
    const int32_t ix0 = cx->ox * p->stride_w - p->pad_left;
    const int8_t zp = (int8_t)p->input_zero_point;
    const uint32_t zp4 = (uint32_t)(uint8_t)zp * 0x01010101u;
    const int32_t row_len = kw * cin;
    const size_t row_stride = (size_t)in_w * (size_t)cin;
    const int8_t *image = cx->input + (size_t)cx->b * (size_t)in_h * row_stride;
    int32_t ky, kx;
    if (dil_w == 1) {
        /* per kernel row: zero-point prefix, the in-bounds taps, zero-point suffix */
        const int32_t kx0 = EFFC_MIN(EFFC_MAX(-ix0, 0), kw);
        const int32_t kx1 = EFFC_MAX(EFFC_MIN(kw, in_w - ix0), kx0);
        const int32_t pre = kx0 * cin, run = (kx1 - kx0) * cin;
        const int32_t post = row_len - pre - run;
        const int8_t *src = image + (size_t)(ix0 + kx0) * (size_t)cin;
        if (run == row_len && (row_len & 3) == 0) { /* inside horizontally: whole words */
            int32_t i;
            for (ky = 0; ky < kh; ky++, col += row_len) {
                const int32_t iy = iy0 + ky * dil_h;
                if (iy < 0 || iy >= in_h) {
                    for (i = 0; i < row_len; i += 4) {
                        effc_write_u32(col + i, zp4);
                    }
                    continue;
                }
                if (row_len == 4) { /* e.g. KWS's 10x4 first conv on one channel */
                    effc_write_u32(col, effc_read_u32(src + (size_t)iy * row_stride));
                    continue;
                }
                for (i = 0; i < row_len; i += 4) {
                    effc_write_u32(col + i, effc_read_u32(src + (size_t)iy * row_stride +
                                                          (size_t)i));
                }
            }
            return;
        }
        for (ky = 0; ky < kh; ky++) {
            const int32_t iy = iy0 + ky * dil_h;
            if (iy < 0 || iy >= in_h) {
                effc_fill_s8(col, zp, row_len);
            } else {
                effc_fill_s8(col, zp, pre);
                effc_copy_s8(col + pre, src + (size_t)iy * row_stride, run);
                effc_fill_s8(col + pre + run, zp, post);
            }
            col += row_len;
        }
        return;
    }
    for (ky = 0; ky < kh; ky++) {
        const int32_t iy = iy0 + ky * dil_h;
        const int8_t *row;
        if (iy < 0 || iy >= in_h) {
            effc_fill_s8(col, zp, row_len);
            col += row_len;
            continue;
        }
        row = image + (size_t)iy * row_stride;
        for (kx = 0; kx < kw; kx++) {
            const int32_t ix = ix0 + kx * dil_w;
            if (ix < 0 || ix >= in_w) {
                effc_fill_s8(col, zp, cin);
            } else {
                effc_copy_s8(col, row + (size_t)ix * (size_t)cin, cin);
            }
            col += cin;
        }
    }
}

/* Where output column ox of a 4-byte-row conv (kernel width * C_in == 4, no
 * dilation: KWS's 10x4 first conv on one channel) reads its kernel-row words:
 * the word's byte offset in an image row, and effc_im2col_rows4's shifts (a
 * kernel row leaving the image does so on one side: the row holds a word). */
typedef struct {
    int32_t at, shl, shr;
} effc_rows4_column;

/* Fills *c; returns 0 where no word can be read (rows wholly in the padding,
 * or an image row narrower than a word): the generic gather's case. */
static inline int effc_rows4_column_of(const effc_conv_ctx *cx, int32_t ox,
                                       effc_rows4_column *c)
{
    const int32_t cin = cx->in->c, in_w = cx->in->w, kw = cx->f->w;
    const int32_t ix0 = ox * cx->p->stride_w - cx->p->pad_left;
    const int32_t kx0 = EFFC_MIN(EFFC_MAX(-ix0, 0), kw);
    const int32_t kx1 = EFFC_MAX(EFFC_MIN(kw, in_w - ix0), kx0);
    const int32_t pre = kx0 * cin, run = (kx1 - kx0) * cin, sh = 8 * (4 - run);
    /* run < 4 on the left edge: the word ends where the row's run ends */
    c->at = (ix0 + kx0) * cin - (pre > 0 || run == 4 ? 0 : 4 - run);
    c->shl = pre > 0 ? sh : 0;
    c->shr = pre == 0 && run < 4 ? sh : 0;
    return run > 0 && (run == 4 || in_w * cin >= 4);
}

/* The patch of a 4-byte-row conv: per kernel row one word read inside the
 * image row (effc_rows4_column_of), from the layer's geometry in cx
 * (row_stride, zp4) with little per-pixel work; else effc_im2col_generic. */
static void effc_im2col_rows4_fast(const effc_conv_ctx *cx, int8_t *col)
{
    effc_rows4_column c;
    if (!effc_rows4_column_of(cx, cx->ox, &c)) {
        effc_im2col_generic(cx, col);
        return;
    }
    effc_im2col_rows4(col,
                      cx->input + (size_t)cx->b * (size_t)cx->in->h * cx->row_stride +
                          (size_t)c.at,
                      cx->row_stride, cx->f->h, cx->oy * cx->p->stride_h - cx->p->pad_top,
                      cx->in->h, cx->zp4, c.shl, c.shr);
}

/* n bytes (n >= 4) from src to dst as words, the last one ending at the end
 * (overlapping the one before where n is not a multiple of 4); rows of at
 * most 12 bytes (3x3 on up to 4 channels: first layers) without a loop. */
static inline void effc_copy_row_words(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i;
    if (n <= 12) {
        effc_write_u32(dst, effc_read_u32(src));
        if (n > 8) {
            effc_write_u32(dst + 4, effc_read_u32(src + 4));
        }
    } else {
        for (i = 0; i + 4 < n; i += 4) {
            effc_write_u32(dst + i, effc_read_u32(src + i));
        }
    }
    effc_write_u32(dst + n - 4, effc_read_u32(src + n - 4));
}

/* Three rows of n bytes, row_stride apart, one after another into dst: words
 * (effc_copy_row_words), bytes for rows shorter than a word. */
static inline void effc_copy_rows3(int8_t *dst, const int8_t *src, size_t row_stride,
                                   int32_t n)
{
    int32_t r;
    if (n < 4) {
        for (r = 0; r < 3; r++, src += row_stride, dst += n) {
            effc_copy_s8(dst, src, n);
        }
        return;
    }
    effc_copy_row_words(dst, src, n);
    effc_copy_row_words(dst + n, src + row_stride, n);
    effc_copy_row_words(dst + 2 * n, src + 2 * row_stride, n);
}

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE) && !EFFC_SMALL_UNIT
/* The 3x3 patches of `pixels` (>= 1) pixels (speed builds of the DSP bodies, rows of 3 * C_in
 * bytes with C_in a multiple of 4): per pixel its three kernel rows, `blocks` blocks of
 * 12 bytes each (three LDRs back to back, three STRs), one after another from dst; the
 * next pixel's patch is `slot` bytes on, its source `step`. About 3.7 estimated
 * Cortex-M4 cycles a word, where effc_copy_rows3's C (GCC spilling the pixel loop's
 * state) took 8 (ResNet-8's 48-byte rows). The job: r0-r6 in order. */
typedef struct {
    int8_t *dst;
    const int8_t *src;
    int32_t row_stride, blocks, pixels, slot, step;
} effc_rows3_job;

#define EFFC_ROWS3_ROW                                                                         \
    "mov    r9, r8\n\t"                                                                        \
    "mov    r10, r3\n\t"                                                                       \
    "3:\n\t"                                                                                   \
    "ldr    r11, [r9], #4\n\t"                                                                 \
    "ldr    r12, [r9], #4\n\t"                                                                 \
    "ldr    lr, [r9], #4\n\t"                                                                  \
    "str    r11, [r7], #4\n\t"                                                                 \
    "str    r12, [r7], #4\n\t"                                                                 \
    "str    lr, [r7], #4\n\t"                                                                  \
    "subs   r10, r10, #1\n\t"                                                                  \
    "bne    3b\n\t"                                                                            \
    "add    r8, r8, r2\n\t"

__attribute__((naked, noinline)) static void
effc_copy_rows3_blocks(__attribute__((unused)) const effc_rows3_job *job)
{
    __asm__ volatile("push   {r4-r11, lr}\n\t"
                     "ldm    r0, {r0-r6}\n\t"
                     "1:\n\t"
                     "mov    r7, r0\n\t"
                     "mov    r8, r1\n\t"
                     EFFC_ROWS3_ROW EFFC_ROWS3_ROW EFFC_ROWS3_ROW
                     "add    r0, r0, r5\n\t"
                     "add    r1, r1, r6\n\t"
                     "subs   r4, r4, #1\n\t"
                     "bne    1b\n\t"
                     "pop    {r4-r11, pc}\n\t");
}
#endif

/* 3x3, dilation 1: n (<= EFFC_MM_COLS) pixels from cx's on, in one output row
 * and inside the image, gathered by three row copies of 3*C_in bytes each into
 * slots `slot` bytes apart (one geometry for the n); 0 where they are not. */
static int effc_im2col_3x3_inside(const effc_conv_ctx *cx, int8_t *patches, int32_t slot,
                                  int32_t n)
{
    const effc_conv_params *p = cx->p;
    const int32_t cin = cx->in->c;
    const int32_t iy0 = cx->oy * p->stride_h - p->pad_top;
    const int32_t ix0 = cx->ox * p->stride_w - p->pad_left;
    const int32_t ix_last = ix0 + (n - 1) * p->stride_w;
    const size_t step = (size_t)p->stride_w * (size_t)cin;
    const int8_t *src;
    int32_t j;
    if (cx->ox + n > cx->out->w || iy0 < 0 || iy0 + 2 >= cx->in->h || ix0 < 0 ||
        ix_last + 2 >= cx->in->w) {
        return 0;
    }
    src = cx->input + ((size_t)(cx->b * cx->in->h + iy0) * (size_t)cx->in->w + (size_t)ix0) *
                          (size_t)cin;
#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE) && !EFFC_SMALL_UNIT
    if (cin % 4 == 0) {
        const effc_rows3_job job = {patches, src, (int32_t)cx->row_stride, cin / 4, n, slot,
                                    (int32_t)step};
        effc_copy_rows3_blocks(&job);
        return 1;
    }
#endif
    for (j = 0; j < n; j++, src += step) {
        effc_copy_rows3(patches + (size_t)(j * slot), src, cx->row_stride, 3 * cin);
    }
    return 1;
}

/* One 3x3 patch: inside the image three row copies, else the generic gather. */
static void effc_im2col_3x3(const effc_conv_ctx *cx, int8_t *col)
{
    if (!effc_im2col_3x3_inside(cx, col, 0, 1)) {
        effc_im2col_generic(cx, col);
    }
}

typedef void (*effc_im2col_fn)(const effc_conv_ctx *cx, int8_t *col);

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
/* A 4-byte-row conv (effc_im2col_rows4_fast's), one output column at a time:
 * the column's kernel-row words of consecutive image rows (shifted over an
 * edge and zero-point filled as a patch's are) go once into a column image in
 * the patch buffers (4 * KH words), where output row oy's patch is the KH
 * words from word oy * stride_h on. Spans of up to `span` output rows (a
 * multiple of 4) are read there in place, four at a time (effc_mm_run_quads;
 * effc_mm_run where it declines): no patch is copied. Returns the output rows
 * done in each image (OH rounded down to a multiple of 4: the rest, at the
 * images' ends, take the per-pixel gather), 0 where a column needs the
 * per-pixel gather (no word inside the image row) or span < 4. */
static int32_t effc_conv_rows4_columns(const effc_conv_ctx *cx, const effc_mm *mm, void *buf,
                                   int8_t *words, int8_t *output,
                                   const int8_t *cols[EFFC_MM_COLS], int8_t *outs[EFFC_MM_COLS])
{
    const effc_conv_params *p = cx->p;
    const int32_t kh = cx->f->h, oh = cx->out->h, ow = cx->out->w, sh = p->stride_h;
    const int32_t span = ((3 * kh) / sh + 1) & ~3; /* ((4 * kh - kh) / sh + 1) & ~3 */
    const int32_t oh4 = oh & ~3;
    const size_t cout = (size_t)cx->out->c, out_step = (size_t)ow * cout;
    effc_rows4_column c;
    int32_t b, ox, oy0, done, j;
    if (span < 4 || oh4 == 0) {
        return 0;
    }
    for (ox = 0; ox < ow; ox++) { /* every column reads words (else the per-pixel gather) */
        if (!effc_rows4_column_of(cx, ox, &c)) {
            return 0;
        }
    }
    for (b = 0; b < cx->out->n; b++) {
        const int8_t *image = cx->input + (size_t)b * (size_t)cx->in->h * cx->row_stride;
        for (ox = 0; ox < ow; ox++) {
            (void)effc_rows4_column_of(cx, ox, &c); /* checked above */
            for (oy0 = 0; oy0 < oh4; oy0 += span) {
                const int32_t rows = EFFC_MIN(span, oh4 - oy0);
                int8_t *out0 = output + ((size_t)(b * oh + oy0) * (size_t)ow + (size_t)ox) * cout;
                effc_im2col_rows4(words, image + (size_t)c.at, cx->row_stride,
                                  (rows - 1) * sh + kh, oy0 * sh - p->pad_top, cx->in->h,
                                  cx->zp4, c.shl, c.shr);
                done = effc_mm_run_quads(mm, rows >> 2, words, 4u * (size_t)sh, out0, out_step,
                                         buf);
                for (; done < rows; done += EFFC_MM_COLS) {
                    for (j = 0; j < EFFC_MM_COLS; j++) {
                        cols[j] = words + (size_t)(4 * sh * (done + j));
                        outs[j] = out0 + (size_t)(done + j) * out_step;
                    }
                    effc_mm_run(mm, EFFC_MM_COLS, cols, outs, buf);
                }
            }
        }
    }
    return oh4;
}
#endif

/* Output pixels [pix, end) (flat over N, OH, OW; cx at pix's coordinates),
 * EFFC_MM_COLS patches at a time gathered into `patches`. Inlined: no frame
 * of its own under effc_mm_run's (KWS's stack 928 -> 832 B). */
static inline __attribute__((always_inline)) void
effc_conv_pixels(effc_conv_ctx *cx, const effc_mm *mm, void *buf, int8_t *patches,
                 effc_im2col_fn gather, int8_t *output, int32_t pix, int32_t end,
                 const int8_t *cols[EFFC_MM_COLS], int8_t *outs[EFFC_MM_COLS])
{
    const size_t cout = (size_t)cx->out->c;
    const int32_t slot = effc_conv_patch_slot(effc_patch_size(cx->f));
    int32_t j, nb;
    for (; pix < end; pix += nb) {
        /* 3x3 blocks inside the image: the nb patches in one go */
        const int gathered = !EFFC_OMIT_CONV3X3 && gather == effc_im2col_3x3 &&
                             effc_im2col_3x3_inside(cx, patches, slot, end - pix < EFFC_MM_COLS
                                                                       ? end - pix
                                                                       : EFFC_MM_COLS);
        nb = EFFC_MIN(EFFC_MM_COLS, end - pix);
        for (j = 0; j < nb; j++) {
            int8_t *col = patches + (size_t)(j * slot);
            if (!gathered) {
                gather(cx, col);
            }
            cols[j] = col;
            outs[j] = output + (size_t)(pix + j) * cout;
            effc_pixel_next(cx->out, &cx->b, &cx->oy, &cx->ox);
        }
#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
        if (!EFFC_OMIT_WIDE2 && nb == EFFC_MM_COLS &&
            effc_mm_run_quads(mm, 1, patches, (size_t)slot, outs[0], cout, buf) > 0) {
            continue; /* the four patches, without effc_mm_run's dispatch */
        }
#endif
        effc_mm_run(mm, nb, cols, outs, buf);
    }
}

static int effc_conv_im2col(const effc_scratch *scratch, const effc_conv_params *params,
                            const effc_per_channel_quant *quant, const effc_dims *input_dims,
                            const int8_t *input, const effc_dims *filter_dims,
                            const void *filter, const int32_t *bias,
                            const effc_dims *output_dims, int8_t *output, effc_im2col_fn gather)
{
    effc_conv_ctx cx;
    effc_mm mm;
    int8_t *patches;
    const int8_t *cols[EFFC_MM_COLS];
    int8_t *outs[EFFC_MM_COLS];
    const int32_t oh = output_dims->h, ow = output_dims->w;
    int32_t rows = 0, b; /* output rows of each image the column images did */
    void *buf;
    if (!effc_conv_args_ok(params, input_dims, filter_dims, output_dims) ||
        !effc_conv_quant_ok(params, quant) || input == output) {
        return EFFC_ERR_ARG;
    }
    buf = effc_scratch_get(scratch, effc_conv_generic_s8_scratch_size(filter_dims));
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
    mm = effc_conv_mm(params, quant, filter_dims, filter, bias);
    if (!EFFC_OMIT_WIDE2 && effc_is_pair_layout(params->filter_layout)) {
        mm.k = effc_conv_patch_slot(mm.k); /* the whole slot: same groups, weights past K 0 */
    }
    patches = (int8_t *)buf + effc_mm_scratch_size(mm.k, mm.n_out);
    cx.p = params;
    cx.in = input_dims;
    cx.f = filter_dims;
    cx.out = output_dims;
    cx.input = input;
    cx.b = cx.oy = cx.ox = 0;
    cx.row_stride = (size_t)input_dims->w * (size_t)input_dims->c;
    cx.zp4 = (uint32_t)(uint8_t)params->input_zero_point * 0x01010101u;
#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
    if (!EFFC_OMIT_WIDE2 && !EFFC_OMIT_CONV_COLUMNS && gather == effc_im2col_rows4_fast) {
        rows = effc_conv_rows4_columns(&cx, &mm, buf, patches, output, cols, outs);
    }
#endif
    if (rows == 0) {
        effc_conv_pixels(&cx, &mm, buf, patches, gather, output, 0,
                         output_dims->n * oh * ow, cols, outs);
        return EFFC_OK;
    }
    for (b = 0; b < output_dims->n; b++) { /* each image's last rows */
        cx.b = b;
        cx.oy = rows;
        cx.ox = 0;
        effc_conv_pixels(&cx, &mm, buf, patches, gather, output, (b * oh + rows) * ow,
                         (b + 1) * oh * ow, cols, outs);
    }
    return EFFC_OK;
}

int effc_conv_generic_s8(const effc_scratch *scratch, const effc_conv_params *params,
                         const effc_per_channel_quant *quant, const effc_dims *input_dims,
                         const int8_t *input, const effc_dims *filter_dims,
                         const void *filter, const int32_t *bias,
                         const effc_dims *output_dims, int8_t *output)
{
    const int rows4 = filter_dims->w * filter_dims->c == 4 && params->dilation_h == 1 &&
                      params->dilation_w == 1;
    return effc_conv_im2col(scratch, params, quant, input_dims, input, filter_dims, filter,
                            bias, output_dims, output,
                            rows4 ? effc_im2col_rows4_fast : effc_im2col_generic);
}

int effc_conv_3x3_s8(const effc_scratch *scratch, const effc_conv_params *params,
                     const effc_per_channel_quant *quant, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *filter_dims, const void *filter,
                     const int32_t *bias, const effc_dims *output_dims, int8_t *output)
{
    if (params == NULL || filter_dims == NULL ||
        !effc_conv_s8_use_3x3(params, input_dims, filter_dims, output_dims)) {
        return EFFC_ERR_ARG;
    }
    return effc_conv_im2col(scratch, params, quant, input_dims, input, filter_dims, filter,
                            bias, output_dims, output, effc_im2col_3x3);
}

int effc_conv_s8(const effc_scratch *scratch, const effc_conv_params *params,
                 const effc_per_channel_quant *quant, const effc_dims *input_dims,
                 const int8_t *input, const effc_dims *filter_dims, const void *filter,
                 const int32_t *bias, const effc_dims *output_dims, int8_t *output)
{
    /* what choosing a path reads; each path checks the arguments in full */
    if (params == NULL || input_dims == NULL || filter_dims == NULL || output_dims == NULL) {
        return EFFC_ERR_ARG;
    }
    if (effc_conv_s8_use_1x1(params, input_dims, filter_dims, output_dims)) {
        return effc_conv_1x1_s8(scratch, params, quant, input_dims, input, filter_dims, filter,
                                bias, output_dims, output);
    }
    if (!EFFC_OMIT_CONV3X3 && effc_conv_s8_use_3x3(params, input_dims, filter_dims, output_dims)) {
        return effc_conv_3x3_s8(scratch, params, quant, input_dims, input, filter_dims, filter,
                                bias, output_dims, output);
    }
    return effc_conv_generic_s8(scratch, params, quant, input_dims, input, filter_dims, filter,
                                bias, output_dims, output);
}
