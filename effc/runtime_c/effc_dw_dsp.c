/*
 * effc_dw_dsp.c - int8 depthwise convolution, Cortex-M DSP body.
 *
 * Two input channels at a time are copied into zero-padded int16 planes
 * (x - zp; two pixels per step: two 16-bit loads, ORR and SXTAB16 give one
 * word per plane; rows of at most 8 pixels in straight-line code, an odd last
 * pixel after the pairs), band by band (two planes rather than four: twice the band
 * height in the same scratch, so fewer column walks and plane slides); the
 * rows a band shares with the next one slide to the top of the planes
 * instead of being read again, and
 * since a band's input rows are all in the planes before its outputs are
 * written, the layer can run in place.
 *
 * A 3x3 kernel with dilation 1 and stride 1 or 2 (both ways), a prepared
 * fast record and the full int8 output range walks down each output column
 * in assembly (effc_dw_dsp_asm.c): every plane row is loaded once (a word
 * for taps 0-1, one for tap 2) and feeds the outputs it belongs to, and each
 * output is requantized where it completes (effc_rq_fast) and stored: 16
 * instructions per output in the loop at stride 1, 14.5 over planes of at
 * most EFFC_DW_NARROW_PW columns (16-byte rows: the row step is the load's
 * post-index, and the output pointer steps once per two outputs; KWS's
 * 5-column layers), 13.5 there at -O2 (EFFC_DW_SPEED: a row is one LDRD of
 * an aligned column pair, the even output columns first, then the odd ones
 * by a second copy of the column code; KWS's walk is 14.0 an output with its
 * column starts and counts: passes of eight steps of three rows, the first
 * entered at a computed address; one pass needs no count; a last output
 * whose third row is padding is stored without that row's loads, MACs and
 * row step). A channel pair's
 * two walks are one call. Every other channel takes a C loop over the planes
 * with TFLite's general requantization. At -O2 a layer of one band (KWS's)
 * runs a lean loop over its channel pairs (effc_dw_one_band: the taps, the
 * fill and one call a pair; about 95 instructions a pair besides them), and
 * when its first plane row is padding a stride-1 column starts a row down,
 * without that row's loads and MACs (4 instructions a column fewer).
 */
#include "effc_dw_internal.h"

#if defined(EFFC_USE_DSP)

#include "effc_dw_taps.h"

/* Plane rows [r0, r1) of the planes set to 0 over n columns from row (two
 * values a store, then an odd last one). */
static void effc_dw_zero_planes(int16_t *row, const effc_dw_geo *g, int32_t n,
                                int32_t r0, int32_t r1)
{
    int32_t r, x, j;
    for (r = r0; r < r1; r++) {
        for (j = 0; j < EFFC_DW_PLANES; j++) {
            int16_t *d = row + (size_t)j * g->words + (size_t)r * (size_t)g->pw;
            for (x = 0; x + 2 <= n; x += 2) {
                effc_write_u32(d + x, 0);
            }
            if (x < n) {
                d[x] = 0;
            }
        }
    }
}

/* Input rows [r0, r1) of the band (plane row r <- input row iy0 + r) of
 * channels ic..ic+1 into the two planes (plane j at plane + j * words): rows
 * outside the input are zeros (set here unless `zeroed`: in a layer of one
 * band nothing else writes them after the first clear); the job of the
 * others for effc_dw_fill2_rows (every field but src, which is the input
 * plus *src_at plus ic), and whether there are any. */
static int effc_dw_fill2_job(const effc_dw_conv_params *p, const effc_dims *in, int16_t *plane,
                             const effc_dw_geo *g, int32_t iy0, int32_t r0, int32_t r1,
                             int zeroed, effc_dw_fill_job *job, size_t *src_at)
{
    const int32_t n = EFFC_MIN(in->w, g->pw - p->pad_left);
    const int32_t first = EFFC_MAX(r0, -iy0), last = EFFC_MIN(r1, in->h - iy0);
    int16_t *row = plane + (size_t)p->pad_left;
    if (first >= last) {
        if (!zeroed) {
            effc_dw_zero_planes(row, g, n, r0, r1);
        }
        return 0;
    }
    if (!zeroed && r0 < first) { /* padding rows above the input (the first band) */
        effc_dw_zero_planes(row, g, n, r0, first);
    }
    if (!zeroed && last < r1) { /* and below it (the last band) */
        effc_dw_zero_planes(row, g, n, last, r1);
    }
    *src_at = ((size_t)(iy0 + first) * (size_t)in->w) * (size_t)in->c;
    job->dst = row + (size_t)first * (size_t)g->pw;
    job->rows = last - first;
    job->pairs = n >> 1;
    job->odd = n & 1;
    job->cs = in->c;
    job->src_row = in->w * in->c;
    job->dst_row = g->pw * 2;
    job->plane = (int32_t)(g->words * 2u);
    job->off = (int32_t)(((uint32_t)(uint16_t)(-p->input_zero_point)) * 0x10001u);
#if EFFC_DW_SPEED
    job->regs[5] = 0; /* effc_dw_fill2_rows works its registers out anew */
#endif
    return n > 0;
}

/* The same, filled (a band of a layer of several). */
static void effc_dw_fill2(const effc_dw_conv_params *p, const effc_dims *in,
                          const int8_t *input, int32_t ic, int16_t *plane,
                          const effc_dw_geo *g, int32_t iy0, int32_t r0, int32_t r1)
{
    effc_dw_fill_job job;
    size_t src_at;
    if (effc_dw_fill2_job(p, in, plane, g, iy0, r0, r1, 0, &job, &src_at)) {
        job.src = input + src_at + (size_t)ic;
        effc_dw_fill2_rows(&job);
    }
}

/* The same for one channel into one plane. */
static void effc_dw_fill1(const effc_dw_conv_params *p, const effc_dims *in,
                          const int8_t *input, int32_t ic, int16_t *plane,
                          const effc_dw_geo *g, int32_t iy0, int32_t r0, int32_t r1)
{
    const size_t cs = (size_t)in->c;
    const int32_t n = EFFC_MIN(in->w, g->pw - p->pad_left);
    int32_t r, x;
    for (r = r0; r < r1; r++) {
        const int32_t iy = iy0 + r;
        int16_t *d = plane + (size_t)r * (size_t)g->pw + (size_t)p->pad_left;
        const int8_t *src = input + (size_t)iy * (size_t)in->w * cs + (size_t)ic;
        for (x = 0; x < n; x++) {
            d[x] = iy < 0 || iy >= in->h ? 0 : (int16_t)(src[(size_t)x * cs] - p->input_zero_point);
        }
    }
}

typedef void (*effc_dw_walk_fn)(effc_dw_walk_job *job);

/* Whether a 3x3 geometry at dilation 1 and equal strides walks with
 * effc_dw_walk_s1_narrow (its stores step the output pointer once per two
 * outputs, r1 the output row bytes alone, or the firmware's EFFC_DW_OUT_STRIDE:
 * effc_dw_walks; with EFFC_DW_SPEED the even output columns, then the odd ones),
 * unless the firmware left it out. */
static int effc_dw_narrow(const effc_dw_conv_params *p, const effc_dw_geo *g)
{
    return !EFFC_OMIT_DW_NARROW && p->stride_h == 1 && g->pw == EFFC_DW_NARROW_PW;
}

/* The assembly walk of a 3x3 geometry at dilation 1 and equal strides:
 * stride 2's, the narrow planes' (16-byte rows) or stride 1's; NULL when the
 * firmware left it out (effc_internal.h, EFFC_OMIT_*). */
static effc_dw_walk_fn effc_dw_walk_of(const effc_dw_conv_params *p, const effc_dw_geo *g)
{
    if (p->stride_h == 2) {
        return EFFC_OMIT_DW_S2 ? NULL : effc_dw_walk_s2;
    }
    if (p->stride_h != 1) {
        return NULL;
    }
    if (effc_dw_narrow(p, g)) {
        return effc_dw_walk_s1_narrow;
    }
    return EFFC_OMIT_DW_S1 ? NULL : effc_dw_walk_s1;
}

/* Whether the assembly walk applies to this geometry (any channel); the narrow walk of a
 * firmware built with EFFC_DW_OUT_STRIDE, only to layers of that many output row bytes
 * (kernel_set.py passes it when every layer it can reach has them: any other takes the
 * C loop). */
static int effc_dw_walks(const effc_dw_conv_params *p, const effc_dims *f, const effc_dims *out,
                         const effc_dw_geo *g)
{
    return f->h == 3 && f->w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
           p->stride_h == p->stride_w && effc_dw_walk_of(p, g) != NULL &&
           (EFFC_DW_OUT_STRIDE == 0 || !effc_dw_narrow(p, g) ||
            out->w * out->c == EFFC_DW_OUT_STRIDE) &&
           p->activation_min <= -128 && p->activation_max >= 127 &&
           (size_t)out->w * (size_t)out->c < 65536u && g->pw * 2 < 65536 && out->w < 256;
}

/* What a walk job holds for every channel of the layer (EFFC_DW_SPEED's narrow
 * walk: the even columns, then the odd ones, each every other column). */
static void effc_dw_walk_init(effc_dw_walk_job *job, const effc_dw_conv_params *p,
                              const effc_dw_geo *g, const effc_dims *out)
{
    const int32_t narrow = effc_dw_narrow(p, g), split = narrow && EFFC_DW_SPEED;
    job->strides = (narrow ? 0 : (g->pw * 2) << 16) | (out->w * out->c);
    job->cols = split ? (out->w + 1) >> 1 : out->w;
    job->col_plane = 2 * p->stride_w << split;
    job->col_out = out->c << split;
#if EFFC_DW_SPEED
    job->odd_cols = split ? (out->w >> 1) << 8 : 0;
#endif
    job->counted = 0; /* no band's counts yet */
}

/* The band's outputs a column as the walk's count (steps of 3 outputs at
 * stride 1, of 2 at stride 2, then the rest one at a time), and the moves
 * from a column's end to the next column: a column reads rows + 2 plane rows
 * at stride 1, 2 * rows + 1 at stride 2 (pads bit 0, last_pad: the band's
 * last plane row is padding, so a stride-1 tail of one skips its loads,
 * MACs and row step at -O2; bit 1, first_pad: its first one is, and a stride-1 column
 * starts a row down, reading one row fewer); the walk's frame words are then
 * worked out anew. The narrow walk's output pointer
 * (effc_dw_dsp_asm.c, EFFC_DW_STORE_EVEN / _ODD) starts a row up (the lead)
 * when a column is entered at an odd row of its code (an odd count: the
 * passes are of an even count of steps) and ends at its last output's row
 * after a tail of one, past it otherwise. */
static void effc_dw_walk_counts(effc_dw_walk_job *job, const effc_dw_conv_params *p,
                                const effc_dw_geo *g, int32_t rows, int32_t pads)
{
#if defined(__OPTIMIZE_SIZE__)
    const int32_t first_pad = 0; /* only -O2's one-band loop sets it */
#else
    const int32_t first_pad = pads >> 1;
#endif
    const int32_t step = p->stride_h == 1 ? 3 : 2;
#if defined(__OPTIMIZE_SIZE__)
    const int32_t skip = 0; /* -Os runs a last padding row like the others */
#else
    /* a stride-1 tail of one over the padding row leaves the plane pointer there */
    const int32_t skip = p->stride_h == 1 && rows % 3 == 1 && (pads & 1);
#endif
    const int32_t read = p->stride_h == 1 ? rows + 2 - first_pad - skip : 2 * rows + 1;
    const int32_t out_row = job->strides & 0xFFFF;
    job->groups = rows / step;
    job->tail = rows % step;
    job->next_plane = job->col_plane - read * g->pw * 2;
    job->next_out = job->col_out - rows * out_row;
    job->lead = 0;
    if (effc_dw_narrow(p, g)) {
        job->lead = (job->groups & 1) ? out_row : 0;
        job->next_out += (job->tail == 1 ? out_row : 0) - job->lead;
    }
    job->last_pad = pads & 1;
#if !defined(__OPTIMIZE_SIZE__)
    job->first_pad = first_pad; /* -Os walks have no padded top and never read it */
#endif
    job->frame[4] = 0;
    job->counted = rows << 2 | pads;
}

/* The same unless the job has this band's counts already. */
static void effc_dw_walk_rows(effc_dw_walk_job *job, const effc_dw_conv_params *p,
                              const effc_dw_geo *g, int32_t rows, int32_t pads)
{
    if (job->counted != (rows << 2 | pads)) {
        effc_dw_walk_counts(job, p, g, rows, pads);
    }
}

/* The walk's output pointer for a band's first output dst: lead bytes above
 * it (never stored to; integer arithmetic, as it may be outside the output). */
static int8_t *effc_dw_walk_out(const effc_dw_walk_job *job, int8_t *dst)
{
    return (int8_t *)((uintptr_t)dst - (uintptr_t)(uint32_t)job->lead);
}

/* One output channel over a band with the assembly walk. */
static void effc_dw_walk(const effc_dw_conv_params *p, const effc_dw_geo *g,
                         effc_dw_walk_job *job, const int16_t *plane, int8_t *dst, int32_t rows,
                         int32_t last_pad)
{
    job->plane = plane;
    job->next = NULL;
    effc_dw_walk_rows(job, p, g, rows, last_pad);
    job->out = effc_dw_walk_out(job, dst);
    effc_dw_walk_of(p, g)(job);
}

/* One output channel over a band in C (any geometry, general requantization). */
static void effc_dw_channel_c(const effc_dw_conv_params *p, const effc_mm_channel *ch,
                              const int8_t *w, const effc_dims *f, const int16_t *plane,
                              const effc_dw_geo *g, const effc_dims *out, int32_t rows,
                              int8_t *dst)
{
    int32_t oy, ox, ky, kx;
    for (oy = 0; oy < rows; oy++) {
        for (ox = 0; ox < out->w; ox++) {
            int32_t acc = ch->bias;
            for (ky = 0; ky < f->h; ky++) {
                const int16_t *row = plane + (size_t)(oy * p->stride_h + ky * p->dilation_h) *
                                                 (size_t)g->pw +
                                     (size_t)(ox * p->stride_w);
                for (kx = 0; kx < f->w; kx++) {
                    acc = effc_wrap_add(acc, row[kx * p->dilation_w] * w[ky * f->w + kx]);
                }
            }
            dst[((size_t)oy * (size_t)out->w + (size_t)ox) * (size_t)out->c] =
                effc_requant_to_s8(acc, ch->rq, p->output_zero_point, p->activation_min,
                                   p->activation_max);
        }
    }
}

/* A band's rows: the first output row, the rows, whether its last plane row is padding. */
typedef struct {
    int32_t oy0, rows, last_pad;
} effc_dw_band;

/* What every channel of the layer shares (effc_dw_body's arguments). */
typedef struct {
    const effc_dw_conv_params *p;
    const effc_per_channel_quant *quant;
    const effc_dims *f, *out;
    const int8_t *filter;
    const int32_t *bias;
    int walks; /* the assembly walk applies to the geometry */
} effc_dw_layer;

/* The output channels of input channels ic..ic+planes-1 over a band, one at a time: the
 * assembly walk where it applies and the record is fast, the C loop otherwise. */
static void effc_dw_channels(const effc_dw_layer *l, const effc_dw_geo *g,
                             effc_dw_walk_job *jobs, const int16_t *plane, int8_t *out_b,
                             int32_t ic, int32_t planes, const effc_dw_band *bd)
{
    const effc_dw_conv_params *p = l->p;
    int32_t j, m;
    for (j = 0; j < planes; j++) {
        for (m = 0; m < p->depth_multiplier; m++) {
            const int32_t oc = (ic + j) * p->depth_multiplier + m;
            const int8_t *w = l->filter + (size_t)oc * (size_t)(l->f->h * l->f->w);
            const int16_t *pl = plane + (size_t)j * g->words;
            int8_t *dst = out_b + (size_t)bd->oy0 * (size_t)l->out->w * (size_t)l->out->c +
                          (size_t)oc;
            if (l->walks && !effc_dw_record_of(&l->quant->channels[oc]).general) {
                if (p->depth_multiplier != 1) { /* jobs hold multiplier 1's */
                    (void)effc_dw_walk_prepare(&jobs[j], p, &l->quant->channels[oc], w);
                }
                effc_dw_walk(p, g, &jobs[j], pl, dst, bd->rows, bd->last_pad);
            } else {
                const effc_mm_channel ch = effc_dw_channel_of(l->quant, l->bias, oc);
                effc_dw_channel_c(p, &ch, w, l->f, pl, g, l->out, bd->rows, dst);
            }
        }
    }
}

#if !defined(__OPTIMIZE_SIZE__)
/* -O2: a layer of one band (KWS's depthwise layers), depth multiplier 1, channels in pairs,
 * the walk applying to its geometry: per pair the taps, the band's fill (`band`, its source
 * `band_at` into an image; none when `fills` is 0) and one call walking both channels; a pair
 * with a general record goes channel by channel (effc_dw_channels). */
static void effc_dw_one_band(const effc_dw_layer *l, const effc_dw_geo *g,
                             effc_dw_walk_job *jobs, const int16_t *plane, const effc_dims *in,
                             const int8_t *input, int8_t *output, effc_dw_fill_job *band,
                             size_t band_at, int fills)
{
    const effc_dw_conv_params *p = l->p;
    const effc_dims *out = l->out;
    const effc_dw_band bd = {0, out->h, (out->h - 1) * p->stride_h + 3 - p->pad_top > in->h};
    const size_t in_img = (size_t)in->h * (size_t)in->w * (size_t)in->c;
    const size_t out_img = (size_t)out->h * (size_t)out->w * (size_t)out->c;
    const effc_dw_walk_fn walk = effc_dw_walk_of(p, g);
    /* the first plane row is padding: stride-1 columns start a row down (not over a tail
     * of two, effc_dw_walk_s1 has no copy of it) */
    const int32_t first_pad = p->stride_h == 1 && p->pad_top > 0 && bd.rows % 3 != 2;
    const int32_t pads = first_pad << 1 | bd.last_pad;
    int32_t b, ic, j;
    jobs[1].next = NULL;
    for (b = 0; b < in->n; b++) {
        const int8_t *src = input + (size_t)b * in_img + band_at;
        int8_t *out_b = output + (size_t)b * out_img;
        for (ic = 0; ic < in->c; ic += EFFC_DW_PLANES) {
            const int8_t *w = l->filter + (size_t)ic * 9u;
            int general = effc_dw_walk_prepare(&jobs[0], p, &l->quant->channels[ic], w);
            general |= effc_dw_walk_prepare(&jobs[1], p, &l->quant->channels[ic + 1], w + 9);
            if (fills) {
                band->src = src + ic;
                effc_dw_fill2_rows(band);
            }
            if (general) { /* it leaves the jobs' planes and counts at the band's rows */
                effc_dw_channels(l, g, jobs, plane, out_b, ic, EFFC_DW_PLANES, &bd);
                continue;
            }
            if (jobs[0].counted != (bd.rows << 2 | pads)) { /* the first pair, or after those */
                effc_dw_walk_counts(&jobs[0], p, g, bd.rows, pads); /* jobs[1] walks with them */
                for (j = 0; j < EFFC_DW_PLANES; j++) {
                    jobs[j].plane = plane + (size_t)j * g->words + (size_t)(first_pad * g->pw);
                }
            }
            jobs[0].out = effc_dw_walk_out(&jobs[0], out_b + ic);
            jobs[1].out = effc_dw_walk_out(&jobs[0], out_b + ic + 1);
            jobs[0].next = &jobs[1];
            walk(&jobs[0]);
        }
    }
}
#endif

int effc_dw_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                 const effc_dims *in, const int8_t *input, const effc_dims *f,
                 const int8_t *filter, const int32_t *bias, const effc_dims *out,
                 int8_t *output, int16_t *plane)
{
    const effc_dw_geo g = effc_dw_geometry(p, f, out);
    const int walks = quant->channels != NULL && effc_dw_walks(p, f, out, &g);
    const int32_t keep = g.ph - g.rows * p->stride_h;
    const int32_t kspan = (f->h - 1) * p->dilation_h + 1;
    const effc_dw_walk_fn walk = effc_dw_walk_of(p, &g);
    const int one_band = g.rows >= out->h;
    effc_dw_walk_job jobs[EFFC_DW_PLANES]; /* of channels ic.. (depth multiplier 1) */
    effc_dw_fill_job band; /* one band: its fill, the same for every channel pair */
    const effc_dw_layer lay = {p, quant, f, out, filter, bias, walks};
    size_t i, band_at = 0;
    int32_t b, ic, oy0, j, planes, fast, band_rows = 0;
    for (j = 0; j < EFFC_DW_PLANES; j++) {
        effc_dw_walk_init(&jobs[j], p, &g, out);
        jobs[j].plane = plane + (size_t)j * g.words; /* also effc_dw_walk's */
    }
    i = 0;
#if EFFC_DW_SPEED
    for (; i + 8 <= (size_t)EFFC_DW_PLANES * g.words; i += 8) { /* four words a step */
        effc_write_u32(plane + i, 0);
        effc_write_u32(plane + i + 2, 0);
        effc_write_u32(plane + i + 4, 0);
        effc_write_u32(plane + i + 6, 0);
    }
#endif
    for (; i < (size_t)EFFC_DW_PLANES * g.words; i += 2) { /* words: g.words is even */
        effc_write_u32(plane + i, 0);
    }
    if (one_band) { /* its padding rows stay zero from the clear */
        band_rows = effc_dw_fill2_job(p, in, plane, &g, -p->pad_top, 0,
                                      (out->h - 1) * p->stride_h + kspan, 1, &band, &band_at);
    }
#if !defined(__OPTIMIZE_SIZE__)
    if (one_band && walks && p->depth_multiplier == 1 && in->c % EFFC_DW_PLANES == 0) {
        effc_dw_one_band(&lay, &g, jobs, plane, in, input, output, &band, band_at, band_rows);
        return EFFC_OK;
    }
#endif
    for (b = 0; b < in->n; b++) {
        const int8_t *in_b = input + (size_t)b * (size_t)in->h * (size_t)in->w * (size_t)in->c;
        int8_t *out_b = output + (size_t)b * (size_t)out->h * (size_t)out->w * (size_t)out->c;
        for (ic = 0; ic < in->c; ic += planes) {
            planes = in->c - ic >= EFFC_DW_PLANES ? EFFC_DW_PLANES : 1;
            fast = planes == EFFC_DW_PLANES && walks && p->depth_multiplier == 1;
            for (j = 0; j < planes && walks && p->depth_multiplier == 1; j++) {
                fast = !effc_dw_walk_prepare(&jobs[j], p, &quant->channels[ic + j],
                                             filter + (size_t)(ic + j) * 9u) && fast;
            }
            for (oy0 = 0; oy0 < out->h; oy0 += g.rows) {
                const int32_t rows = EFFC_MIN(g.rows, out->h - oy0);
                const int32_t used = (rows - 1) * p->stride_h + kspan;
                const int32_t iy0 = oy0 * p->stride_h - p->pad_top;
                const int32_t first = oy0 > 0 ? keep : 0;
                const int32_t last_pad = iy0 + used > in->h; /* the band's last plane row */
                if (planes == EFFC_DW_PLANES && one_band) {
                    if (band_rows) {
                        band.src = in_b + band_at + (size_t)ic;
                        effc_dw_fill2_rows(&band);
                    }
                } else if (planes == EFFC_DW_PLANES) {
                    effc_dw_fill2(p, in, in_b, ic, plane, &g, iy0, first, used);
                } else {
                    effc_dw_fill1(p, in, in_b, ic, plane, &g, iy0, first, used);
                }
                if (fast) { /* the common case, in short (the planes stay) */
                    int8_t *o = out_b + (size_t)oy0 * (size_t)out->w * (size_t)out->c +
                                (size_t)ic;
                    effc_dw_walk_rows(&jobs[0], p, &g, rows, last_pad);
                    for (j = 0; j < EFFC_DW_PLANES; j++) { /* the next job's counts: jobs[0]'s */
                        jobs[j].out = effc_dw_walk_out(&jobs[0], o + j);
                        jobs[j].next = j + 1 < EFFC_DW_PLANES ? &jobs[j + 1] : NULL; /* one call */
                    }
                    walk(&jobs[0]);
                }
                if (!fast) {
                    const effc_dw_band bd = {oy0, rows, last_pad};
                    effc_dw_channels(&lay, &g, jobs, plane, out_b, ic, planes, &bd);
                }
                if (oy0 + rows < out->h) { /* the next band's shared rows */
                    effc_dw_slide(plane, &g, p->stride_h, planes);
                }
            }
        }
    }
    return EFFC_OK;
}

#else

typedef int effc_dw_dsp_unused; /* ISO C wants a declaration in every file */

#endif
