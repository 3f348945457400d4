/*
 * effc_winograd_s8.c - int8 3x3 (and 1-D 3-tap) stride-1 convolution through
 * Winograd F(2x2, 3x3) (F(2, 3)), bit-identical with effc_conv_s8.
 *
 * With d = x - input_zero_point (zero in the padding), every tile of 2x2
 * outputs reads a 4x4 input tile d and computes
 *   V = B^T d B               int16 (|V| <= 1020; B^T holds 0 and +-1)
 *   M = sum_c U'[c] . V[c]    int32, U' = (2G) g (2G)^T precomputed (int16)
 *   Y' = A^T M A = 4 * acc    int32 (A^T holds 0 and +-1)
 * and then acc = Y' >> 2 goes through the direct kernel's bias add,
 * requantization and clamp. Sums wrap modulo 2^32 (the transforms are ring
 * operations), so Y' is exact while 4 * |acc| fits int32; the code generator
 * only emits this kernel for layers where it provably does
 * (effc/quant/winograd.py). 1-D: 1x4 tiles, F(2, 3) along W, Y' = 2 * acc.
 *
 * Tiles are taken EFFC_WINO_TILES at a time (flat over N, tile rows, tile
 * columns). For each group the input transform fills V, laid out
 * [position][channel pair][tile] as int16 pairs: channel pair 2k holds the
 * channels (4k, 4k + 2), pair 2k + 1 the channels (4k + 1, 4k + 3) (the
 * SXTB16 order; the transformed weights use the same lane order). Then, per
 * output channel, the products give M [position][tile] and the output
 * transform writes the 2x2 outputs of each tile.
 *
 * Two bodies share this layout: portable C, and the Cortex-M DSP body, whose
 * input transform (SXTAB16, SADD16/SSUB16 on two channels per word), products
 * (LDRD/LDM and SMLAD, 16 MACs in 13 instructions) and output transform with
 * requantization run in assembly (effc_winograd_s8_asm.c) where they apply.
 * Integer sums are exact, so both bodies give the same bytes.
 *
 * Scratch: [requantization records: 16 * C_out][V: P * align4(C_in) * 8]
 * [M: P * 16][align4(C_in) bytes of the input zero point, read for a padded
 * pixel][align4(C_out) bytes where the DSP output loop writes the outputs a
 * partial tile does not have] with P = 16 (2-D) or 4 (1-D).
 */
#include "effc_internal.h"

#define EFFC_WINO_TILES 4 /* tiles per group (the LDM width of the DSP loop) */

typedef struct {
    const effc_conv_params *p;
    const effc_dims *in;
    const effc_dims *out;
    const int8_t *input;
    const int8_t *zp_row; /* align4(C_in) bytes of the input zero point: a padded pixel */
    int32_t two_d;        /* 1: 3x3, F(2x2, 3x3); 0: 1-D, F(2, 3) */
    int32_t positions;    /* P: 16 or 4 */
    int32_t c4;           /* align4(C_in): the channels of a transformed weight row */
    int32_t tiles_h, tiles_w;
} effc_wino_ctx;

/* One tile of a group: its input pixels. */
typedef struct {
    const int8_t *px[16]; /* the input tile's pixels, row-major (zp_row in the padding) */
} effc_wino_tile;

/* The outputs of a group's tiles, 4 per tile, row-major, channel 0; those
 * outside the output (and the second row in 1-D) point at a discard row. */
typedef int8_t *effc_wino_outs[EFFC_WINO_TILES][4];

static int32_t effc_wino_positions(const effc_dims *f)
{
    return f->h == 1 ? 4 : 16;
}

size_t effc_winograd_s8_scratch_size(const effc_dims *filter_dims)
{
    const size_t p = (size_t)effc_wino_positions(filter_dims);
    const size_t c4 = effc_align4((size_t)filter_dims->c);
    return (size_t)filter_dims->n * sizeof(effc_requant) + p * c4 * EFFC_WINO_TILES * 2u +
           p * EFFC_WINO_TILES * 4u + c4 + effc_align4((size_t)filter_dims->n);
}

static int effc_wino_args_ok(const effc_conv_params *p, const effc_dims *in,
                             const effc_dims *f, const effc_dims *out)
{
    if (p == NULL || !effc_dims_ok(in) || !effc_dims_ok(f) || !effc_dims_ok(out) ||
        out->n != in->n || f->c != in->c || out->c != f->n || f->w != 3 ||
        p->stride_h != 1 || p->stride_w != 1 || p->dilation_h != 1 || p->dilation_w != 1 ||
        p->pad_top < 0 || p->pad_left < 0) {
        return 0;
    }
    return f->h == 3 || (f->h == 1 && in->h == 1 && out->h == 1 && p->pad_top == 0);
}

/* Tile t (flat over N, tile rows, tile columns): pixels and outputs. */
static void effc_wino_tile_at(const effc_wino_ctx *cx, int32_t t, int8_t *output,
                              int8_t *discard, effc_wino_tile *tile, int8_t **outs)
{
    const effc_dims *in = cx->in, *out = cx->out;
    const int32_t tx = t % cx->tiles_w;
    const int32_t ty = (t / cx->tiles_w) % cx->tiles_h;
    const int32_t b = t / (cx->tiles_w * cx->tiles_h);
    const int32_t oy = cx->two_d ? 2 * ty : 0, ox = 2 * tx;
    const int32_t iy = oy - cx->p->pad_top, ix = ox - cx->p->pad_left;
    int32_t i, j;
    for (i = 0; i < (cx->two_d ? 4 : 1); i++) {
        for (j = 0; j < 4; j++) {
            const int32_t y = iy + i, x = ix + j;
            tile->px[4 * i + j] =
                (y < 0 || y >= in->h || x < 0 || x >= in->w)
                    ? cx->zp_row
                    : cx->input + (((size_t)b * (size_t)in->h + (size_t)y) * (size_t)in->w +
                                   (size_t)x) * (size_t)in->c;
        }
    }
    for (i = 0; i < 2; i++) {
        for (j = 0; j < 2; j++) {
            const int32_t y = oy + i, x = ox + j;
            outs[2 * i + j] =
                (y >= out->h || x >= out->w || (i == 1 && !cx->two_d))
                    ? discard
                    : output + (((size_t)b * (size_t)out->h + (size_t)y) * (size_t)out->w +
                                (size_t)x) * (size_t)out->c;
        }
    }
}

/* ----------------------------------------------------- output transform */

/* Loop invariants of the output stage (locals of the kernel: the int8 stores
 * cannot alias them). */
typedef struct {
    const int32_t *bias;
    const effc_requant *channels;
    const effc_requant_rs *channels_rs;
    int32_t zero_point, lo, hi; /* lo, hi: the activation bounds */
    int32_t two_d;
} effc_wino_stage;

#define EFFC_U32(x) ((uint32_t)(x))

/* Y' = A^T M A of one tile (M [position][tile], this tile's column at m),
 * then acc = Y' / 4 + bias (Y' / 2 in 1-D; y[2], y[3] unused). Wrapping
 * arithmetic: exact while Y' fits int32. */
static inline __attribute__((always_inline)) void
effc_wino_acc(const int32_t *m, int32_t two_d, uint32_t bias, int32_t *y)
{
    if (two_d) {
        uint32_t t0[4], t1[4];
        int32_t j;
        for (j = 0; j < 4; j++) {
            const uint32_t m0 = EFFC_U32(m[(0 + j) * EFFC_WINO_TILES]);
            const uint32_t m1 = EFFC_U32(m[(4 + j) * EFFC_WINO_TILES]);
            const uint32_t m2 = EFFC_U32(m[(8 + j) * EFFC_WINO_TILES]);
            const uint32_t m3 = EFFC_U32(m[(12 + j) * EFFC_WINO_TILES]);
            t0[j] = m0 + m1 + m2;
            t1[j] = m1 - m2 - m3;
        }
        y[0] = (int32_t)(EFFC_U32((int32_t)(t0[0] + t0[1] + t0[2]) >> 2) + bias);
        y[1] = (int32_t)(EFFC_U32((int32_t)(t0[1] - t0[2] - t0[3]) >> 2) + bias);
        y[2] = (int32_t)(EFFC_U32((int32_t)(t1[0] + t1[1] + t1[2]) >> 2) + bias);
        y[3] = (int32_t)(EFFC_U32((int32_t)(t1[1] - t1[2] - t1[3]) >> 2) + bias);
    } else {
        const uint32_t m0 = EFFC_U32(m[0]), m1 = EFFC_U32(m[EFFC_WINO_TILES]);
        const uint32_t m2 = EFFC_U32(m[2 * EFFC_WINO_TILES]);
        const uint32_t m3 = EFFC_U32(m[3 * EFFC_WINO_TILES]);
        y[0] = (int32_t)(EFFC_U32((int32_t)(m0 + m1 + m2) >> 1) + bias);
        y[1] = (int32_t)(EFFC_U32((int32_t)(m1 - m2 - m3) >> 1) + bias);
        y[2] = y[3] = 0;
    }
}

/* The output of one accumulator. rs and clamp are constants at each call
 * site (one instance per record kind and clamp): the effc_requant_rs records
 * (DSP body) fold the zero point in and, without a fused activation, the
 * int8 range is one SSAT. */
static inline __attribute__((always_inline)) int8_t
effc_wino_rq(int32_t acc, const effc_requant_rs *rs_record, const effc_requant *record,
             int32_t zero_point, int32_t lo, int32_t hi, const int rs, const int clamp)
{
    (void)clamp;
    if (rs) {
        const int32_t v = effc_requant_rs_apply(acc, rs_record);
#if defined(EFFC_USE_DSP)
        if (!clamp) {
            return (int8_t)__ssat(v, 8);
        }
#endif
        return (int8_t)effc_clamp_i32(v, lo, hi);
    }
    return effc_requant_to_s8(acc, *record, zero_point, lo, hi);
}

static inline __attribute__((always_inline)) void
effc_wino_store(const effc_wino_stage *o, const int32_t *m, effc_wino_outs outs, int32_t n,
                int32_t oc, const int rs, const int clamp)
{
    /* locals: the int8 stores below cannot alias them */
    const effc_requant_rs rs_record = rs ? o->channels_rs[oc] : (effc_requant_rs){0, 0, 0, 0};
    const effc_requant record = rs ? (effc_requant){0, 0, 0, 0} : o->channels[oc];
    const int32_t zp = o->zero_point, lo = o->lo, hi = o->hi, two_d = o->two_d;
    const uint32_t bias = o->bias != NULL ? EFFC_U32(o->bias[oc]) : 0u;
    int32_t g, k;
    for (g = 0; g < n; g++) {
        int32_t y[4];
        effc_wino_acc(m + g, two_d, bias, y);
        for (k = 0; k < (two_d ? 4 : 2); k++) {
            outs[g][k][oc] = effc_wino_rq(y[k], &rs_record, &record, zp, lo, hi, rs, clamp);
        }
    }
}

/* The outputs of channel oc of the group's n tiles, from M [position][tile]. */
static void effc_wino_output_c(const effc_wino_stage *o, const int32_t *m, effc_wino_outs outs,
                               int32_t n, int32_t oc)
{
    if (o->channels_rs == NULL) {
        effc_wino_store(o, m, outs, n, oc, 0, 1);
    } else if (o->lo > -128 || o->hi < 127) {
        effc_wino_store(o, m, outs, n, oc, 1, 1);
    } else {
        effc_wino_store(o, m, outs, n, oc, 1, 0);
    }
}

#if !defined(EFFC_USE_DSP)

/* ----------------------------------------------------------- portable body */

/* V = B^T d B of one tile into slot g of V (int16 [position][pair][tile][lane]). */
static void effc_wino_input(const effc_wino_ctx *cx, const effc_wino_tile *tile, int32_t g,
                            int16_t *v)
{
    const size_t row = (size_t)cx->c4 * EFFC_WINO_TILES; /* int16 per position */
    const int32_t zp = cx->p->input_zero_point;
    int32_t c, i, j;
    for (c = 0; c < cx->c4; c++) {
        const size_t at = ((size_t)((c >> 2) * 2 + (c & 1)) * EFFC_WINO_TILES + (size_t)g) * 2u +
                          (size_t)((c >> 1) & 1);
        int32_t d[4][4], r[4][4];
        for (i = 0; i < (cx->two_d ? 4 : 1); i++) {
            for (j = 0; j < 4; j++) {
                d[i][j] = c < cx->in->c ? tile->px[4 * i + j][c] - zp : 0;
            }
        }
        if (!cx->two_d) {
            v[0 * row + at] = (int16_t)(d[0][0] - d[0][2]);
            v[1 * row + at] = (int16_t)(d[0][1] + d[0][2]);
            v[2 * row + at] = (int16_t)(d[0][2] - d[0][1]);
            v[3 * row + at] = (int16_t)(d[0][1] - d[0][3]);
            continue;
        }
        for (j = 0; j < 4; j++) { /* rows: B^T d */
            r[0][j] = d[0][j] - d[2][j];
            r[1][j] = d[1][j] + d[2][j];
            r[2][j] = d[2][j] - d[1][j];
            r[3][j] = d[1][j] - d[3][j];
        }
        for (i = 0; i < 4; i++) { /* columns: (B^T d) B */
            v[(size_t)(4 * i + 0) * row + at] = (int16_t)(r[i][0] - r[i][2]);
            v[(size_t)(4 * i + 1) * row + at] = (int16_t)(r[i][1] + r[i][2]);
            v[(size_t)(4 * i + 2) * row + at] = (int16_t)(r[i][2] - r[i][1]);
            v[(size_t)(4 * i + 3) * row + at] = (int16_t)(r[i][1] - r[i][3]);
        }
    }
}

static void effc_wino_output(const effc_wino_stage *o, const int32_t *m, effc_wino_outs outs,
                             int32_t n, int32_t oc)
{
    effc_wino_output_c(o, m, outs, n, oc);
}

/* M[p][g] = sum over channels of U[p][c] V[p][c][g], for every position p. */
static void effc_wino_products(const int16_t *u, const int16_t *v, int32_t c4,
                               int32_t positions, int32_t *m)
{
    int32_t p, g, c;
    for (p = 0; p < positions; p++) {
        for (g = 0; g < EFFC_WINO_TILES; g++) {
            int32_t acc = 0;
            for (c = 0; c < c4; c++) {
                const size_t pair = (size_t)(c >> 1), lane = (size_t)(c & 1);
                acc = effc_wrap_add(acc, u[c] * v[(pair * EFFC_WINO_TILES + (size_t)g) * 2u +
                                                  lane]);
            }
            m[p * EFFC_WINO_TILES + g] = acc;
        }
        u += c4;
        v += (size_t)c4 * EFFC_WINO_TILES;
    }
}

#else

/* ---------------------------------------------------------------- DSP body */

/* Four channels of a pixel as int16 words with the zero point subtracted:
 * d[0] = (c0, c2), d[1] = (c1, c3); channels at or past `n` give 0. */
static void effc_wino_pixel_tail(const int8_t *px, int32_t n, int32_t zp, int32_t *d)
{
    int32_t x[4], k;
    for (k = 0; k < 4; k++) {
        x[k] = k < n ? px[k] - zp : 0;
    }
    d[0] = (int32_t)((uint32_t)(uint16_t)x[0] | ((uint32_t)x[2] << 16));
    d[1] = (int32_t)((uint32_t)(uint16_t)x[1] | ((uint32_t)x[3] << 16));
}

/* Column j of the tile's 4 rows for 4 channels from `at` (n of them real):
 * t = B^T d of the column, both lane words: t[2 * i + lane]. */
static inline __attribute__((always_inline)) void
effc_wino_column(const int8_t *const *px, size_t at, int32_t n, int32_t off, int32_t zp,
                 int32_t *t)
{
    int32_t d[4][2], i, k;
    for (i = 0; i < 4; i++) {
        if (n >= 4) {
            const uint32_t w = effc_read_u32(px[4 * i] + at);
            d[i][0] = __sxtab16(off, w);
            d[i][1] = effc_sxtab16_ror8(off, w);
        } else {
            effc_wino_pixel_tail(px[4 * i] + at, n, zp, d[i]);
        }
    }
    for (k = 0; k < 2; k++) {
        t[0 + k] = __ssub16(d[0][k], d[2][k]);
        t[2 + k] = __sadd16(d[1][k], d[2][k]);
        t[4 + k] = __ssub16(d[2][k], d[1][k]);
        t[6 + k] = __ssub16(d[1][k], d[3][k]);
    }
}

/* V = (B^T d) B of 4 channels into V (position stride `words`, lane words G apart). */
static inline __attribute__((always_inline)) void
effc_wino_rows(const int32_t t[4][8], int32_t *vq, size_t words)
{
    int32_t i, k;
    for (i = 0; i < 4; i++) {
        for (k = 0; k < 2; k++) {
            const int32_t r0 = t[0][2 * i + k], r1 = t[1][2 * i + k];
            const int32_t r2 = t[2][2 * i + k], r3 = t[3][2 * i + k];
            int32_t *dst = vq + (size_t)(4 * i) * words + (size_t)k * EFFC_WINO_TILES;
            dst[0] = __ssub16(r0, r2);
            dst[words] = __sadd16(r1, r2);
            dst[2 * words] = __ssub16(r2, r1);
            dst[3 * words] = __ssub16(r1, r3);
        }
    }
}

/* The DSP input transform, 4 channels (two per word) at a time: the columns'
 * B^T d (SADD16 / SSUB16), then the rows' (B^T d) B into V; the full groups
 * of a 2-D tile in assembly (effc_wino_input_asm), the rest here. */
static void effc_wino_input(const effc_wino_ctx *cx, const effc_wino_tile *tile, int32_t g,
                            int16_t *v)
{
    const int32_t zp = cx->p->input_zero_point;
    const int32_t off = (int32_t)(((uint32_t)(uint16_t)(-zp)) * 0x10001u);
    const size_t words = (size_t)cx->c4 / 2 * EFFC_WINO_TILES; /* per position */
    const int32_t groups = cx->c4 / 4, full = cx->in->c / 4;
    int32_t *vq = (int32_t *)(void *)v + g;
    int32_t q, j, k;
    if (!cx->two_d) {
        for (q = 0; q < groups; q++, vq += 2 * EFFC_WINO_TILES) {
            const int32_t n = cx->in->c - 4 * q;
            int32_t d[4][2];
            for (j = 0; j < 4; j++) {
                if (n >= 4) {
                    const uint32_t w = effc_read_u32(tile->px[j] + 4 * q);
                    d[j][0] = __sxtab16(off, w);
                    d[j][1] = effc_sxtab16_ror8(off, w);
                } else {
                    effc_wino_pixel_tail(tile->px[j] + 4 * q, n, zp, d[j]);
                }
            }
            for (k = 0; k < 2; k++) {
                vq[k * EFFC_WINO_TILES] = __ssub16(d[0][k], d[2][k]);
                vq[words + k * EFFC_WINO_TILES] = __sadd16(d[1][k], d[2][k]);
                vq[2 * words + k * EFFC_WINO_TILES] = __ssub16(d[2][k], d[1][k]);
                vq[3 * words + k * EFFC_WINO_TILES] = __ssub16(d[1][k], d[3][k]);
            }
        }
        return;
    }
    if (full > 0) {
        effc_wino_in_job job;
        job.px = tile->px;
        job.groups = full;
        job.off = off;
        job.v = vq;
        job.row_bytes = (int32_t)(words * 4u);
        effc_wino_input_asm(&job);
        vq += (size_t)full * 2 * EFFC_WINO_TILES;
    }
    if (full < groups) { /* the last channels, padded with zeros */
        int32_t t[4][8];
        for (j = 0; j < 4; j++) {
            effc_wino_column(tile->px + j, (size_t)(4 * full), cx->in->c - 4 * full, off, zp,
                             t[j]);
        }
        effc_wino_rows((const int32_t(*)[8])t, vq, words);
    }
}

/* The assembly loop for 2-D tiles with effc_requant_rs records and no
 * activation clamp (the usual case), else the C stage. */
static void effc_wino_output(const effc_wino_stage *o, const int32_t *m, effc_wino_outs outs,
                             int32_t n, int32_t oc)
{
    effc_wino_out_job job;
    if (!o->two_d || o->channels_rs == NULL || o->lo > -128 || o->hi < 127) {
        effc_wino_output_c(o, m, outs, n, oc);
        return;
    }
    job.m = m;
    job.out = &outs[0][0];
    job.tiles = n;
    job.oc = oc;
    job.bias = o->bias != NULL ? o->bias[oc] : 0;
    job.record = &o->channels_rs[oc];
    effc_wino_output_asm(&job);
}

static void effc_wino_products(const int16_t *u, const int16_t *v, int32_t c4,
                               int32_t positions, int32_t *m)
{
    effc_wino_products_asm((const int32_t *)(const void *)u,
                           (const int32_t *)(const void *)v, c4 / 4, positions, m);
}

#endif

/* effc_requant and effc_requant_rs records share the front of scratch. */
typedef char effc_wino_records_fit[sizeof(effc_requant_rs) == sizeof(effc_requant) ? 1 : -1];

/* The channels' requantization, decoded once per call into the front of
 * scratch: effc_requant_rs records (zero point folded in) on the DSP body
 * when every channel allows them, else effc_requant records. Returns the rest
 * of scratch. */
static void *effc_wino_records(const effc_conv_params *p, const effc_per_channel_quant *quant,
                               int32_t n_out, void *scratch, effc_wino_stage *o)
{
    effc_requant *ch = (effc_requant *)scratch;
    int32_t c;
    (void)p; /* read by the DSP body only */
    o->channels = NULL;
    o->channels_rs = NULL;
#if defined(EFFC_USE_DSP)
    {
        effc_requant_rs *rs = (effc_requant_rs *)scratch;
        for (c = 0; c < n_out; c++) {
            if (!effc_requant_rs_ok(quant->multiplier[c], quant->shift[c],
                                    p->output_zero_point)) {
                break;
            }
            rs[c] = effc_requant_rs_make(quant->multiplier[c], quant->shift[c],
                                         p->output_zero_point);
        }
        if (c == n_out) {
            o->channels_rs = rs;
            return rs + n_out;
        }
    }
#endif
    for (c = 0; c < n_out; c++) {
        ch[c] = effc_requant_make(quant->multiplier[c], quant->shift[c]);
    }
    o->channels = ch;
    return ch + n_out;
}

int effc_winograd_s8(const effc_scratch *scratch, const effc_conv_params *params,
                     const effc_per_channel_quant *quant, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *filter_dims,
                     const int16_t *transformed, const int32_t *bias,
                     const effc_dims *output_dims, int8_t *output)
{
    effc_wino_ctx cx;
    effc_wino_tile tiles[EFFC_WINO_TILES];
    effc_wino_outs outs;
    effc_wino_stage stage;
    int16_t *v;
    int32_t *m;
    int8_t *zp_row, *discard;
    int32_t t0, count, oc, g;
    size_t weights_row;
    void *buf;
    if (!effc_wino_args_ok(params, input_dims, filter_dims, output_dims) || quant == NULL ||
        quant->multiplier == NULL || quant->shift == NULL ||
        input == NULL || transformed == NULL || output == NULL ||
        (const void *)input == (const void *)output) {
        return EFFC_ERR_ARG;
    }
    buf = effc_scratch_get(scratch, effc_winograd_s8_scratch_size(filter_dims));
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
    cx.p = params;
    cx.in = input_dims;
    cx.out = output_dims;
    cx.input = input;
    cx.two_d = filter_dims->h == 3;
    cx.positions = effc_wino_positions(filter_dims);
    cx.c4 = (int32_t)effc_align4((size_t)filter_dims->c);
    cx.tiles_h = cx.two_d ? (output_dims->h + 1) / 2 : 1;
    cx.tiles_w = (output_dims->w + 1) / 2;
    count = output_dims->n * cx.tiles_h * cx.tiles_w;
    v = (int16_t *)effc_wino_records(params, quant, output_dims->c, buf, &stage);
    weights_row = (size_t)cx.positions * (size_t)cx.c4;
    m = (int32_t *)(void *)(v + weights_row * EFFC_WINO_TILES);
    zp_row = (int8_t *)(m + cx.positions * EFFC_WINO_TILES);
    for (g = 0; g < cx.c4; g++) {
        zp_row[g] = (int8_t)params->input_zero_point;
    }
    cx.zp_row = zp_row;
    discard = zp_row + cx.c4;
    stage.bias = bias;
    stage.zero_point = params->output_zero_point;
    stage.lo = params->activation_min;
    stage.hi = params->activation_max;
    stage.two_d = cx.two_d;
    for (t0 = 0; t0 < count; t0 += EFFC_WINO_TILES) {
        const int32_t n = EFFC_MIN(EFFC_WINO_TILES, count - t0);
        for (g = 0; g < EFFC_WINO_TILES; g++) {
            /* a missing tile of the last group repeats the first (its outputs are dropped) */
            effc_wino_tile_at(&cx, t0 + (g < n ? g : 0), output, discard, &tiles[g], outs[g]);
            effc_wino_input(&cx, &tiles[g], g, v);
        }
        for (oc = 0; oc < output_dims->c; oc++) {
            effc_wino_products(transformed + (size_t)oc * weights_row, v, cx.c4, cx.positions,
                               m);
            effc_wino_output(&stage, m, outs, n, oc);
        }
    }
    return EFFC_OK;
}
