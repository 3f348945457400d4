/*
 * effc_winograd_f32.c - float32 3x3 (and 1-D 3-tap) stride-1 convolution
 * through Winograd F(m x m, 3 x 3) (F(m, 3)), m = 2 or 4 (Lavin & Gray,
 * CVPR 2016; F(4, 3) with the points 0, +-1, +-2 and infinity).
 *
 * Each tile of m x m outputs reads an a x a input tile d (a = m + 2, zero in
 * the padding) and computes V = B^T d B, M = sum_c U[c] . V[c] with the
 * precomputed U = G g G^T, and Y = A^T M A (+ bias, clamp). 1-D: 1 x a
 * tiles, transformed along W only. Tiles are taken EFFC_WINOF_TILES at a
 * time: V is laid out [position][channel][tile] and M [position][tile], so
 * the product loop reads one weight and four consecutive V values per MAC
 * group. The same results as effc_conv_f32 up to float rounding (the
 * transforms add and scale by at most 8).
 *
 * Scratch: [V: P * C_in * 4 floats][M: P * 4 floats], P = a * a (2-D) or a.
 */
#include "effc_internal.h"

#define EFFC_WINOF_TILES 4

typedef struct {
    const effc_conv_f32_params *p;
    const effc_dims *in;
    const effc_dims *out;
    const float *input;
    int32_t m;   /* outputs per tile side */
    int32_t a;   /* inputs per tile side: m + 2 */
    int32_t two_d;
    int32_t positions;
    int32_t tiles_h, tiles_w;
} effc_winof_ctx;

static int32_t effc_winof_positions(int32_t tile, const effc_dims *f)
{
    return f->h == 1 ? tile + 2 : (tile + 2) * (tile + 2);
}

size_t effc_winograd_f32_scratch_size(int32_t tile, const effc_dims *filter_dims)
{
    size_t p;
    if ((tile != 2 && tile != 4) || filter_dims == NULL) {
        return 0;
    }
    p = (size_t)effc_winof_positions(tile, filter_dims);
    return (p * (size_t)filter_dims->c + p) * EFFC_WINOF_TILES * sizeof(float);
}

/* v = B^T d along one axis (a = tile + 2 values, strides in floats). */
static void effc_winof_bt(int32_t tile, const float *d, size_t ds, float *v, size_t vs)
{
    if (tile == 2) {
        const float d0 = d[0], d1 = d[ds], d2 = d[2 * ds], d3 = d[3 * ds];
        v[0] = d0 - d2;
        v[vs] = d1 + d2;
        v[2 * vs] = d2 - d1;
        v[3 * vs] = d1 - d3;
    } else {
        const float d0 = d[0], d1 = d[ds], d2 = d[2 * ds], d3 = d[3 * ds], d4 = d[4 * ds],
                    d5 = d[5 * ds];
        v[0] = 4.0f * d0 - 5.0f * d2 + d4;
        v[vs] = d3 + d4 - 4.0f * (d1 + d2);
        v[2 * vs] = d4 - d3 + 4.0f * (d1 - d2);
        v[3 * vs] = d4 - d2 + 2.0f * (d3 - d1);
        v[4 * vs] = d4 - d2 + 2.0f * (d1 - d3);
        v[5 * vs] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/* y = A^T x along one axis (tile outputs from tile + 2 values). */
static void effc_winof_at(int32_t tile, const float *x, size_t xs, float *y, size_t ys)
{
    if (tile == 2) {
        y[0] = x[0] + x[xs] + x[2 * xs];
        y[ys] = x[xs] - x[2 * xs] - x[3 * xs];
    } else {
        const float x1 = x[xs], x2 = x[2 * xs], x3 = x[3 * xs], x4 = x[4 * xs];
        const float s12 = x1 + x2, d12 = x1 - x2, s34 = x3 + x4, d34 = x3 - x4;
        y[0] = x[0] + s12 + s34;
        y[ys] = d12 + 2.0f * d34;
        y[2 * ys] = s12 + 4.0f * s34;
        y[3 * ys] = d12 + 8.0f * d34 + x[5 * xs];
    }
}

static void effc_winof_origin(const effc_winof_ctx *cx, int32_t t, int32_t *b, int32_t *iy,
                              int32_t *ix)
{
    const int32_t tx = t % cx->tiles_w;
    const int32_t ty = (t / cx->tiles_w) % cx->tiles_h;
    *b = t / (cx->tiles_w * cx->tiles_h);
    *iy = (cx->two_d ? cx->m * ty : 0) - cx->p->pad_top;
    *ix = cx->m * tx - cx->p->pad_left;
}

/* V of tile t into slot g, every channel. */
static void effc_winof_input(const effc_winof_ctx *cx, int32_t t, int32_t g, float *v)
{
    const effc_dims *in = cx->in;
    const int32_t a = cx->a, rows = cx->two_d ? a : 1;
    const size_t cin = (size_t)in->c;
    const size_t stride = cin * EFFC_WINOF_TILES; /* floats per position */
    float d[36], r[36];
    int32_t b, iy, ix, i, j;
    size_t c;
    effc_winof_origin(cx, t, &b, &iy, &ix);
    for (c = 0; c < cin; c++) {
        float *vc = v + c * EFFC_WINOF_TILES + (size_t)g;
        for (i = 0; i < rows; i++) {
            const int32_t y = iy + i;
            for (j = 0; j < a; j++) {
                const int32_t x = ix + j;
                d[i * a + j] = (y < 0 || y >= in->h || x < 0 || x >= in->w)
                                   ? 0.0f
                                   : cx->input[(((size_t)b * (size_t)in->h + (size_t)y) *
                                                    (size_t)in->w + (size_t)x) * cin + c];
            }
        }
        if (!cx->two_d) {
            effc_winof_bt(cx->m, d, 1, vc, stride);
            continue;
        }
        for (j = 0; j < a; j++) { /* columns of d: r = B^T d */
            effc_winof_bt(cx->m, d + j, (size_t)a, r + j, (size_t)a);
        }
        for (i = 0; i < a; i++) { /* rows of r: V = r B */
            effc_winof_bt(cx->m, r + i * a, 1, vc + (size_t)(i * a) * stride, stride);
        }
    }
}

/* M[p][0..3] = sum_c U[p][c] V[p][c][0..3]. */
static void effc_winof_products(const float *u, const float *v, int32_t cin, int32_t positions,
                                float *m)
{
    int32_t p, c;
    for (p = 0; p < positions; p++) {
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (c = 0; c < cin; c++) {
            const float w = u[c];
            a0 += w * v[0];
            a1 += w * v[1];
            a2 += w * v[2];
            a3 += w * v[3];
            v += EFFC_WINOF_TILES;
        }
        m[0] = a0;
        m[1] = a1;
        m[2] = a2;
        m[3] = a3;
        m += EFFC_WINOF_TILES;
        u += cin;
    }
}

static float effc_winof_clamp(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* Y = A^T M A of tile t (slot g) + bias, clamped, into the output. */
static void effc_winof_output(const effc_winof_ctx *cx, const float *m, int32_t t, int32_t g,
                              int32_t oc, float bias, float *output)
{
    const effc_dims *out = cx->out;
    const int32_t a = cx->a, mt = cx->m, rows = cx->two_d ? mt : 1;
    float x[36], r[24], y[16];
    int32_t b, iy, ix, i, j;
    effc_winof_origin(cx, t, &b, &iy, &ix);
    iy += cx->p->pad_top;
    ix += cx->p->pad_left;
    for (i = 0; i < cx->positions; i++) {
        x[i] = m[i * EFFC_WINOF_TILES + g];
    }
    if (cx->two_d) {
        for (j = 0; j < a; j++) { /* columns: r = A^T M, mt x a */
            effc_winof_at(mt, x + j, (size_t)a, r + j, (size_t)a);
        }
        for (i = 0; i < mt; i++) { /* rows: Y = r A */
            effc_winof_at(mt, r + i * a, 1, y + i * mt, 1);
        }
    } else {
        effc_winof_at(mt, x, 1, y, 1);
    }
    for (i = 0; i < rows && iy + i < out->h; i++) {
        float *dst = output + (((size_t)b * (size_t)out->h + (size_t)(iy + i)) *
                                   (size_t)out->w + (size_t)ix) * (size_t)out->c + (size_t)oc;
        for (j = 0; j < mt && ix + j < out->w; j++) {
            dst[(size_t)j * (size_t)out->c] = effc_winof_clamp(
                y[i * mt + j] + bias, cx->p->activation_min, cx->p->activation_max);
        }
    }
}

int effc_winograd_f32(const effc_scratch *scratch, const effc_conv_f32_params *params,
                      int32_t tile, const effc_dims *input_dims, const float *input,
                      const effc_dims *filter_dims, const float *transformed,
                      const float *bias, const effc_dims *output_dims, float *output)
{
    const effc_conv_f32_params *p = params;
    const effc_dims *in = input_dims, *f = filter_dims, *out = output_dims;
    effc_winof_ctx cx;
    float *v, *m;
    int32_t t0, tiles, oc;
    size_t row;
    if (p == NULL || (tile != 2 && tile != 4) || !effc_dims_ok(in) || !effc_dims_ok(f) ||
        !effc_dims_ok(out) || out->n != in->n || f->c != in->c || out->c != f->n ||
        f->w != 3 || p->stride_h != 1 || p->stride_w != 1 || p->dilation_h != 1 ||
        p->dilation_w != 1 || p->pad_top < 0 || p->pad_left < 0 ||
        !(f->h == 3 || (f->h == 1 && in->h == 1 && out->h == 1 && p->pad_top == 0)) ||
        input == NULL || transformed == NULL || output == NULL ||
        (const void *)input == (const void *)output) {
        return EFFC_ERR_ARG;
    }
    v = (float *)effc_scratch_get(scratch, effc_winograd_f32_scratch_size(tile, f));
    if (v == NULL) {
        return EFFC_ERR_ARG;
    }
    cx.p = p;
    cx.in = in;
    cx.out = out;
    cx.input = input;
    cx.m = tile;
    cx.a = tile + 2;
    cx.two_d = f->h == 3;
    cx.positions = effc_winof_positions(tile, f);
    cx.tiles_h = cx.two_d ? (out->h + tile - 1) / tile : 1;
    cx.tiles_w = (out->w + tile - 1) / tile;
    tiles = out->n * cx.tiles_h * cx.tiles_w;
    row = (size_t)cx.positions * (size_t)in->c;
    m = v + row * EFFC_WINOF_TILES;
    for (t0 = 0; t0 < tiles; t0 += EFFC_WINOF_TILES) {
        const int32_t count = EFFC_MIN(EFFC_WINOF_TILES, tiles - t0);
        int32_t g;
        for (g = 0; g < EFFC_WINOF_TILES; g++) {
            /* a missing tile of the last group repeats the first (its outputs are dropped) */
            effc_winof_input(&cx, t0 + (g < count ? g : 0), g, v);
        }
        for (oc = 0; oc < out->c; oc++) {
            effc_winof_products(transformed + (size_t)oc * row, v, in->c, cx.positions, m);
            for (g = 0; g < count; g++) {
                effc_winof_output(&cx, m, t0 + g, g, oc, bias != NULL ? bias[oc] : 0.0f,
                                  output);
            }
        }
    }
    return EFFC_OK;
}
