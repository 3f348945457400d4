/*
 * effc_mm_internal.h - the matrix kernel shared by conv (all paths) and dense:
 * its job (effc_mm), channel records, the conv helpers around it and the
 * assembly loops' jobs (not public API). Included by effc_internal.h, after
 * the prepared records' helpers it uses; include effc_internal.h instead.
 */
#ifndef EFFC_MM_INTERNAL_H
#define EFFC_MM_INTERNAL_H

/* The requantization switches of the matrix loops' families (effc/codegen/c/kernel_set.py,
 * relu_defines; 1 only where every layer reaching the family has activation_min >= its
 * output zero point): EFFC_WIDE2_RELU for the WIDE2 loops, EFFC_S8_RELU for the
 * int8-row loops (effc_mm_1x4_s8*, effc_mm_1x4_mve). They leave out the - [acc < 0]
 * of the ties (effc_requant.h, effc_rq_fast). */
#ifndef EFFC_WIDE2_RELU
#define EFFC_WIDE2_RELU 0
#endif
#ifndef EFFC_S8_RELU
#define EFFC_S8_RELU 0
#endif
/* EFFC_WIDE2_RQ_SHIFT=K (kernel_set.py, rq_shift_defines; with EFFC_WIDE2_RELU): the
 * WIDE2 loops requantize EFFC_WIDE_SHIFTED records of that K with SMMLA and SSAT asr #K
 * (effc_mm_asm.h); a WIDE2 record of any other form, or a layer that does not floor at
 * its zero point, takes the C path (effc_wide_asm_form). 0: today's records. */
#ifndef EFFC_WIDE2_RQ_SHIFT
#define EFFC_WIDE2_RQ_SHIFT 0
#endif

#ifndef EFFC_INTERNAL_H
#error "include effc_internal.h, which includes effc_mm_internal.h"
#endif

/* ------------------------------------------------------------------------
 * Matrix kernel shared by conv (all paths) and dense: for up to EFFC_MM_COLS
 * input columns of k int8 values, compute all n_out outputs
 *   out[c] = requant(bias[c] + sum_k (col[k] - input_zp) * weights[c][k]).
 * ------------------------------------------------------------------------ */
typedef struct {
    const void *weights;             /* [n_out][k] int8, or a wide layout */
    int32_t layout;                  /* EFFC_FILTER_* (WIDE4: effc_mm_row only) */
    const effc_channel_rq *channels; /* prepared records (S8), or NULL */
    const int32_t *bias;             /* [n_out] or NULL (when channels is NULL) */
    const int32_t *multiplier;       /* indexed c * quant_stride (channels NULL) */
    const int32_t *shift;
    int32_t quant_stride; /* 1: per channel, 0: per tensor */
    int32_t n_out;
    int32_t k;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min;
    int32_t activation_max;
    int32_t general; /* channels needing the general form (effc_mm_general_channels) */
} effc_mm;

/* Columns per call of effc_mm_run. */
enum { EFFC_MM_COLS = 4 };

/* Groups of 4 values in the widened columns: k / 4 rounded up, then to even
 * (the wide layout's padding). */
static inline int32_t effc_mm_groups(int32_t k)
{
    const int32_t g = (k + 3) >> 2;
    return g + (g & 1);
}

/* Scratch of effc_mm_run: EFFC_MM_COLS widened columns (8 bytes per column
 * and group), a sentinel word, and one row of n_out outputs for unused
 * columns (at least 8 bytes: the last channel pair of an odd count).
 * Both bodies use this size. */
static inline size_t effc_mm_scratch_size(int32_t k, int32_t n_out)
{
    return (size_t)EFFC_MM_COLS * 8u * (size_t)effc_mm_groups(k) + 4u +
           effc_align4((size_t)EFFC_MAX(n_out, 2 * EFFC_MM_COLS));
}

/* A wide layout's geometry: channels per block, groups per channel, words
 * per block, and where the weights and the records start in a block
 * (EFFC_FILTER_WIDE2 and PAIR8: two channels, even groups; PAIR8 two weight
 * words a group where WIDE2 has four). */
typedef struct {
    int32_t per, groups, block_words, weights_at, records_at;
} effc_wide_geo;

/* (always inlined: at -Os effc_wide_geometry_once holds the one copy) */
static EFFC_ALWAYS_INLINE effc_wide_geo effc_wide_geometry_of(int32_t layout, int32_t k)
{
    effc_wide_geo g;
    g.per = layout == EFFC_FILTER_WIDE4 ? 4 : 2;
    g.groups = layout == EFFC_FILTER_WIDE4 ? (k + 3) >> 2 : effc_mm_groups(k);
    g.weights_at = g.per;
    g.records_at = g.per + g.groups * (layout == EFFC_FILTER_PAIR8 ? 2 : 2 * g.per);
    g.block_words = g.records_at + 3 * g.per;
    return g;
}

/* effc_wide_geometry(layout, k): inline, but one copy at -Os (effc_mm_s8.c). */
effc_wide_geo effc_wide_geometry_once(int32_t layout, int32_t k);
#if defined(__OPTIMIZE_SIZE__)
#define effc_wide_geometry effc_wide_geometry_once
#else
#define effc_wide_geometry effc_wide_geometry_of
#endif

/* EFFC_WIDE2_PACKED=1 (effc/codegen/c/kernel_set.py: a firmware whose two-channel
 * layers are EFFC_FILTER_PAIR8): the WIDE2 loops read PAIR8 weights (SXTB16 splits
 * each word into the two channels' pair words) from columns widened doubled; 0 (the
 * default) they read WIDE2's int16 ones. A layer in the other layout takes the C path. */
#ifndef EFFC_WIDE2_PACKED
#define EFFC_WIDE2_PACKED 0
#endif
#define EFFC_WIDE2_LOOPS_LAYOUT (EFFC_WIDE2_PACKED ? EFFC_FILTER_PAIR8 : EFFC_FILTER_WIDE2)

/* The two-channel layouts (a pair's block: bias words, weights, records). */
static inline int effc_is_pair_layout(int32_t layout)
{
    return layout == EFFC_FILTER_WIDE2 || layout == EFFC_FILTER_PAIR8;
}

/* The low ten bits of a wide record's shift word when the layout's assembly loop
 * takes it (effc_wide_asm_form): EFFC_WIDE_SHIFTED | K for WIDE2 under
 * EFFC_WIDE2_RQ_SHIFT, else a fast record's s - 1 (no flag). */
static inline uint32_t effc_wide_form_mask(int32_t layout)
{
    return layout == EFFC_FILTER_WIDE2 && EFFC_WIDE2_RQ_SHIFT ? 0x3FFu
                                                              : (uint32_t)(EFFC_WIDE_GENERAL |
                                                                           EFFC_WIDE_SHIFTED);
}

static inline uint32_t effc_wide_form(int32_t layout)
{
    return layout == EFFC_FILTER_WIDE2 && EFFC_WIDE2_RQ_SHIFT
               ? (uint32_t)(EFFC_WIDE_SHIFTED | EFFC_WIDE2_RQ_SHIFT)
               : 0u;
}

static inline int effc_wide_asm_form(int32_t layout, int32_t word)
{
    return ((uint32_t)word & effc_wide_form_mask(layout)) == effc_wide_form(layout);
}

/* The left shift of a wide record's weights and bias word (its shift word's bits
 * 11-15): 1 (doubled), or 1 + d, d = K - s, for an EFFC_WIDE_SHIFTED one. */
static inline int32_t effc_wide_scale_bits(int32_t word)
{
    return (int32_t)(((uint32_t)word >> EFFC_WIDE_SCALE_AT) & 0x1Fu);
}

/* One channel's bias and requantization, from the records, the wide
 * filter's records, or the arrays. */
typedef struct {
    int32_t bias;
    effc_requant rq;
} effc_mm_channel;

static inline effc_mm_channel effc_channel_of(const effc_channel_rq *r)
{
    effc_mm_channel ch;
    ch.bias = effc_rq_bias(r);
    ch.rq = effc_requant_make(effc_rq_multiplier(r), effc_rq_shift(r));
    return ch;
}

static inline effc_mm_channel effc_mm_channel_at(const effc_mm *mm, int32_t c)
{
    effc_mm_channel ch;
    if (mm->layout != EFFC_FILTER_S8) {
        const effc_wide_geo g = effc_wide_geometry(mm->layout, mm->k);
        const int32_t *block = (const int32_t *)mm->weights + (size_t)(c / g.per) *
                                                                 (size_t)g.block_words;
        const int32_t *rec = block + g.records_at + 3 * (c % g.per);
        const int general = (rec[2] & EFFC_WIDE_GENERAL) != 0;
        /* the bias word is 2 * bias for a fast channel (|bias| < 2^23), 2^(1+d) * bias
         * for a shifted one (0 with multiplier 0: its outputs are all the zero point) */
        ch.bias = general ? block[c % g.per] : block[c % g.per] >> effc_wide_scale_bits(rec[2]);
        ch.rq = effc_requant_make(rec[0], (int32_t)(int16_t)((uint32_t)rec[2] >> 16));
        return ch;
    }
    if (mm->channels != NULL) {
        return effc_channel_of(&mm->channels[c]);
    }
    ch.bias = mm->bias != NULL ? mm->bias[c] : 0;
    ch.rq = effc_requant_make(mm->multiplier[c * mm->quant_stride],
                              mm->shift[c * mm->quant_stride]);
    return ch;
}

/* The shifted WIDE2 loops are exact only for a layer that floors at its zero point
 * (their SMMLA drops the ties' - [acc < 0], as EFFC_RQ_RELU): elsewhere every channel
 * takes the C path. */
static inline int effc_mm_wide_floors(const effc_mm *mm)
{
    return effc_wide_form(mm->layout) == 0u || mm->activation_min >= mm->output_zero_point;
}

/* Whether channel c needs the general requantization (no prepared fast form,
 * or a wide record the layout's assembly loop does not take). */
static inline int effc_mm_channel_is_general(const effc_mm *mm, int32_t c)
{
    if (mm->layout != EFFC_FILTER_S8) {
        const effc_wide_geo g = effc_wide_geometry(mm->layout, mm->k);
        return !effc_mm_wide_floors(mm) || !effc_wide_asm_form(
            mm->layout, ((const int32_t *)mm->weights)[(size_t)(c / g.per) *
                                                           (size_t)g.block_words +
                                                       (size_t)(g.records_at +
                                                                3 * (c % g.per) + 2)]);
    }
    return mm->channels == NULL || effc_rq_is_general(&mm->channels[c]);
}

int32_t effc_mm_general_channels(const effc_mm *mm);

/* The effc_mm of a convolution (effc_conv_s8's paths): n_out rows of k
 * weights in `layout`, the prepared records of quant (or its arrays), the
 * conv's zero points and clamp. */
static inline effc_mm effc_mm_conv(const effc_conv_params *p,
                                   const effc_per_channel_quant *quant, int32_t n_out,
                                   int32_t k, const void *weights, const int32_t *bias)
{
    effc_mm mm;
    mm.weights = weights;
    mm.layout = p->filter_layout;
    mm.channels = quant != NULL ? quant->channels : NULL;
    mm.bias = bias;
    mm.multiplier = quant != NULL ? quant->multiplier : NULL;
    mm.shift = quant != NULL ? quant->shift : NULL;
    mm.quant_stride = 1;
    mm.n_out = n_out;
    mm.k = k;
    mm.input_zero_point = p->input_zero_point;
    mm.output_zero_point = p->output_zero_point;
    mm.activation_min = p->activation_min;
    mm.activation_max = p->activation_max;
    mm.general = effc_mm_general_channels(&mm);
    return mm;
}

/* Weight (c, i) in any layout (the portable body and the C fallbacks). */
static inline int32_t effc_mm_weight_of(const effc_mm *mm, int32_t c, int32_t i)
{
    effc_wide_geo g;
    const int32_t *block;
    uint32_t word;
    int32_t v;
    if (mm->layout == EFFC_FILTER_S8) {
        return ((const int8_t *)mm->weights)[(size_t)c * (size_t)mm->k + (size_t)i];
    }
    g = effc_wide_geometry(mm->layout, mm->k);
    block = (const int32_t *)mm->weights + (size_t)(c / g.per) * (size_t)g.block_words;
    if (mm->layout == EFFC_FILTER_PAIR8) { /* byte c % 2 (+ 2 for i & 2) of the parity's word */
        word = (uint32_t)block[(size_t)g.weights_at + (size_t)(i >> 2) * 2u + (size_t)(i & 1)];
        return (int8_t)(word >> (8 * (c % 2 + (i & 2))));
    }
    word = (uint32_t)block[(size_t)g.weights_at + (size_t)(i >> 2) * (size_t)(2 * g.per) +
                           (size_t)((i & 1) * g.per + c % g.per)];
    v = (int16_t)((i & 2) != 0 ? word >> 16 : word & 0xFFFFu);
    /* the wide layouts' weights are doubled (exact: arithmetic shift), shifted ones
     * scaled by 2^(1+d) */
    return v >> effc_wide_scale_bits(block[g.records_at + 3 * (c % g.per) + 2]);
}

/* effc_mm_weight(mm, c, i): inline, but one copy at -Os (effc_mm_s8.c). */
int32_t effc_mm_any_weight(const effc_mm *mm, int32_t c, int32_t i);
#if defined(__OPTIMIZE_SIZE__)
#define effc_mm_weight effc_mm_any_weight
#else
#define effc_mm_weight effc_mm_weight_of
#endif

/* Computes every output of n (1..EFFC_MM_COLS) columns into out[j][0..n_out).
 * Reads every column before it writes any output, so outputs may overwrite
 * columns. scratch: effc_mm_scratch_size bytes, 4-byte aligned. */
void effc_mm_run(const effc_mm *mm, int32_t n, const int8_t *const col[], int8_t *const out[],
                 void *scratch);

/* effc_conv_s8's argument checks and matrix kernel (effc_conv_s8.c), shared
 * with its im2col paths (effc_conv_im2col.c): the shapes and parameters, the
 * quantization a filter layout needs (a wide filter carries its records). */
int effc_conv_args_ok(const effc_conv_params *p, const effc_dims *in, const effc_dims *f,
                      const effc_dims *out);
static inline int effc_conv_quant_ok(const effc_conv_params *p,
                                     const effc_per_channel_quant *quant)
{
    return p->filter_layout != EFFC_FILTER_S8 ||
           (quant != NULL && (quant->channels != NULL ||
                              (quant->multiplier != NULL && quant->shift != NULL)));
}
effc_mm effc_conv_mm(const effc_conv_params *p, const effc_per_channel_quant *quant,
                     const effc_dims *f, const void *filter, const int32_t *bias);

/* Bytes of an im2col patch slot (effc_conv_im2col.c): K rounded up to the
 * matrix kernel's groups of 4 values (an even count). */
static inline int32_t effc_conv_patch_slot(int32_t k)
{
    return 4 * effc_mm_groups(k);
}

#if defined(EFFC_USE_DSP) && !defined(EFFC_USE_MVE)
/* The first 4 * quads of a run of columns spaced evenly (column p at
 * in + p * in_step, its outputs at out + p * out_step: a pointwise
 * convolution's pixels), four at a time through the DSP body's two-channel
 * loop with its constants set up once (no per-call dispatch of effc_mm_run).
 * Returns how many columns it did: 4 * quads, or 0 when the layer needs
 * effc_mm_run (not EFFC_FILTER_WIDE2 or its loop not linked, k not a multiple
 * of 8, an odd channel count or channels in the general form). Reads each
 * four columns before it writes their outputs, as effc_mm_run. */
int32_t effc_mm_run_quads(const effc_mm *mm, int32_t quads, const int8_t *in, size_t in_step,
                          int8_t *out, size_t out_step, void *scratch);
#endif

/* Dense with one input row and no scratch (EFFC_FILTER_S8 or WIDE4). */
void effc_mm_row(const effc_mm *mm, const int8_t *row, int8_t *out);

#if defined(EFFC_USE_DSP)
/* Assembly loops (effc_mm_s8_asm.c). The columns are widened to
 * 2 * (x - zp) in the layout of effc_mm_widen: per group of 4 values the words
 * (x0, x2) of columns 0..3, then (x1, x3) of columns 0..3; a sentinel word
 * EFFC_MM_SENTINEL follows the last group. */
#define EFFC_MM_SENTINEL 0x80008000u

/* The first `groups` (> 0) groups of four columns (each read from col[j], 4
 * bytes a group, any alignment) into that layout at dst: off is -zp in both
 * halves. 25 instructions a group; _x1 (x - zp, for EFFC_FILTER_WIDE2's
 * doubled weights) 17. */
void effc_mm_widen_groups(const int8_t *const col[4], int32_t groups, int32_t off,
                          int32_t *dst);
void effc_mm_widen_groups_x1(const int8_t *const col[4], int32_t groups, int32_t off,
                             int32_t *dst);

/* Job offsets (the assembly reads them): 0 q, 4 w, 8 channel, 12..24 out[0..3],
 * 28 n, 32 k2, 36 groups, 40 act_min, 44 act_max, 48 w_end, 52 quads, 56 in,
 * 60 off, 64 out_step, 68 in_step. */
typedef struct {
    const int32_t *q;               /* widened columns */
    const void *w;                  /* weights of the next channel (pair) (advanced) */
    const effc_channel_rq *channel; /* next record (int8 rows; advanced) */
    int8_t *out[4];                 /* next output of each column (advanced but by
                                       effc_mm_2x4_wide*) */
    int32_t n;                      /* channels (channel pairs) left, > 0 */
    int32_t k2;                     /* 2 * output_zero_point + 1 */
    int32_t groups;                 /* groups of 4 values (int8 rows: k / 4; WIDE2: the
                                       widened columns' groups, even) */
    int32_t act_min, act_max;       /* the _clamp variants clamp to these */
    const int32_t *w_end;           /* WIDE2: the end of the pairs' weight stream */
    /* EFFC_MM_2X4_QUADS: 0, or the quads of evenly spaced columns from in (in_step
     * bytes apart; outputs out_step apart, out[0..3] the first quad's) to widen into q
     * (off: -zp) and run */
    int32_t quads;
    const int8_t *in;
    int32_t off, out_step, in_step;
} effc_mm_job;

/* One channel x four columns, int8 weight rows with records (k a multiple of 4). */
void effc_mm_1x4_s8(effc_mm_job *job);
void effc_mm_1x4_s8_clamp(effc_mm_job *job);
/* Two channels x four columns, EFFC_FILTER_WIDE2 weights (its build options:
 * effc_mm_asm.h). */
void effc_mm_2x4_wide(effc_mm_job *job);
void effc_mm_2x4_wide_clamp(effc_mm_job *job);
/* Two channels x one column (job->q at the column's first word, job->out[0]
 * its output), EFFC_FILTER_WIDE2 weights: the tails of one or two columns. */
void effc_mm_2x1_wide(effc_mm_job *job);
void effc_mm_2x1_wide_clamp(effc_mm_job *job);
/* Two channel pairs x one column (job->q, job->out[0] as for effc_mm_2x1_wide):
 * the pairs from job->w to job->w_end two at a time (an even count). */
void effc_mm_4x1_pairs(effc_mm_job *job);
void effc_mm_4x1_pairs_clamp(effc_mm_job *job);

/* Four channels x one row, EFFC_FILTER_WIDE4 weights (k a multiple of 4), the
 * row widened on the fly. Offsets: 0 x, 4 w, 8 out, 12 quads, 16 groups, 20 off. */
typedef struct {
    const int8_t *x;  /* the row */
    const int32_t *w; /* the first channel quad */
    int8_t *out;      /* next output (advanced) */
    int32_t quads;    /* channel quads left, > 0 */
    int32_t groups;   /* k / 4 */
    int32_t off;      /* -input_zero_point in both halves */
} effc_mm_row_job;
void effc_mm_4x1_wide(effc_mm_row_job *job);

/* Four channels x one row, int8 weight rows (k a multiple of 4, > 0): adds
 * the row's products with rows w, w + k, w + 2k, w + 3k to acc[0..3].
 * Offsets: 0 x, 4 w, 8 k, 12 off, 16..28 acc. */
typedef struct {
    const int8_t *x; /* the row */
    const int8_t *w; /* the quad's first weight row */
    int32_t k;
    int32_t off;     /* -input_zero_point in both halves */
    int32_t acc[4];  /* in: the biases; out: the sums */
} effc_mm_row4_job;
void effc_mm_4x1_s8(effc_mm_row4_job *job);

#endif

#if defined(EFFC_USE_MVE)
/* The Helium channel loop (effc_mm_mve_asm.c): int8 weight rows with records,
 * k >= 16, the four columns interleaved in scratch (per 16-value chunk, the
 * chunk of columns 0..3, zero past k). Offsets as listed. */
typedef struct {
    const int8_t *x;            /* 0: the interleaved columns */
    const int8_t *w;            /* 4: channel 0's weight row (the rows follow it) */
    const effc_channel_rq *rec; /* 8: channel 0's record */
    int8_t *out;                /* 12: column 0's output of channel 0 */
    int32_t n;                  /* 16: channels, > 0 */
    int32_t chunks;             /* 20: full 16-value chunks - 1 (>= 0) */
    int32_t tail;               /* 24: k % 16 */
    int32_t zp;                 /* 28: input zero point */
    int32_t ozp;                /* 32: output zero point */
    int32_t lo, hi;             /* 36, 40: act_min - ozp, act_max - ozp */
    uint32_t offsets[4];        /* 44: column j's output minus column 0's */
} effc_mm_mve_job;
void effc_mm_1x4_mve(effc_mm_mve_job *job);
#endif

#endif /* EFFC_MM_INTERNAL_H */
