/*
 * effc_dw_internal.h - the depthwise bodies' shared declarations (portable,
 * DSP and Helium: effc_dw_conv_s8.c, effc_dw_dsp.c, effc_dw_dsp_asm.c,
 * effc_dw_mve.c, effc_dw_mve_asm.c). Not part of the public API.
 */
#ifndef EFFC_DW_INTERNAL_H
#define EFFC_DW_INTERNAL_H

#include "effc_internal.h"

/* ------------------------------------------------------------------------
 * Depthwise convolution (effc_dw_conv_s8.c, effc_dw_dsp.c).
 * ------------------------------------------------------------------------ */

/* Planes filled at once (one 16-bit load gives two channels of a pixel), and
 * the bands' scratch budget (at least EFFC_DW_MIN_ROWS output rows a band);
 * the Helium body's planes (one 32-bit load: four channels) and the bands its
 * scratch is sized for (effc_dw_conv_s8_scratch_size). */
/* EFFC_DW_NARROW_PW: a 3x3 stride-1 plane (dilation 1) narrower than this is
 * laid out this wide, 16-byte rows (effc_dw_walk_s1_narrow steps down them
 * by an immediate). */
enum {
    EFFC_DW_PLANES = 2,
    EFFC_DW_NARROW_PW = 8,
    EFFC_DW_SCRATCH_BUDGET = 1024,
    EFFC_DW_MIN_ROWS = 16,
    EFFC_DW_MVE_PLANES = 4,
    EFFC_DW_MVE_MIN_ROWS = 8
};

typedef struct {
    int32_t rows; /* output rows per band */
    int32_t ph;   /* plane rows per band (a spare row follows) */
    int32_t pw;   /* plane width */
    size_t words; /* int16 per plane, (ph + 1) * pw rounded up to even */
} effc_dw_geo;

effc_dw_geo effc_dw_geometry(const effc_dw_conv_params *p, const effc_dims *f,
                             const effc_dims *out);
void effc_dw_slide(int16_t *plane, const effc_dw_geo *g, int32_t stride_h, int32_t planes);
effc_mm_channel effc_dw_channel_of(const effc_per_channel_quant *quant, const int32_t *bias,
                                   int32_t oc);
/* The body (portable or DSP): every output, the planes at `plane`. */
int effc_dw_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                 const effc_dims *in, const int8_t *input, const effc_dims *f,
                 const int8_t *filter, const int32_t *bias, const effc_dims *out,
                 int8_t *output, int16_t *plane);

#if defined(EFFC_USE_MVE)
/* The Helium body (effc_dw_mve.c): depth multiplier 1, 3x3 kernels, in the
 * same scratch (bytes of it); the DSP body takes what it does not apply to. */
int effc_dw_mve_applies(const effc_dw_conv_params *p, const effc_dims *in, const effc_dims *f,
                        const effc_dims *out, size_t scratch_bytes);
int effc_dw_mve_body(const effc_dw_conv_params *p, const effc_per_channel_quant *quant,
                     const effc_dims *in, const int8_t *input, const effc_dims *f,
                     const int8_t *filter, const int32_t *bias, const effc_dims *out,
                     int8_t *output, int8_t *planes, size_t scratch_bytes);

/* Bytes between plane columns on the assembly walk (every tap an immediate). */
enum { EFFC_DW_MVE_COL = 32 };

/* One channel of a walk job: its plane, outputs and taps (offsets as listed). */
typedef struct {
    const int8_t *plane;  /* 0: the band's plane, column 0 row 0 */
    int8_t *out;          /* 4: the band's first output of the channel */
    const int8_t *w;      /* 8: the nine taps, row-major */
    int32_t bias;         /* 12: bias - zp * sum w */
    int32_t multiplier;   /* 16 */
    int32_t neg_right;    /* 20: minus the right shift */
} effc_dw_mve_chan;

/* A band's channels of one plane group, 3x3, stride and dilation 1, each with
 * a right shift (effc_dw_mve_asm.c): one call walks them all. Offsets as
 * listed. */
typedef struct {
    int32_t rows;         /* 0: output rows, > 0 */
    int32_t cols;         /* 4: output columns, > 0 */
    int32_t col_out;      /* 8: output bytes between columns */
    int32_t group_out;    /* 12: output bytes from a row group's last column to the next group */
    int32_t lo, hi;       /* 16, 20: act_min - ozp, act_max - ozp */
    int32_t ozp;          /* 24 */
    int32_t chans;        /* 28: channels in chan, 1..EFFC_DW_MVE_PLANES */
    uint32_t out_rows[4]; /* 32: the lanes' output offsets (rows) */
    effc_dw_mve_chan chan[EFFC_DW_MVE_PLANES]; /* 48 */
} effc_dw_mve_job;
void effc_dw_mve_s1(const effc_dw_mve_job *job);
#endif

/* EFFC_DW_RELU=1 (kernel_set.relu_defines: every depthwise layer of the firmware has
 * activation_min >= its output zero point): the DSP walks and the Helium body
 * requantize without the ties' - [acc < 0] (effc_requant.h, effc_rq_fast). */
#ifndef EFFC_DW_RELU
#define EFFC_DW_RELU 0
#endif

/* EFFC_DW_RQ_SHIFT=K (kernel_set.dw_shift_defines; only with EFFC_DW_RELU): the DSP walks
 * requantize with one shift for every channel, SMMLA (truncating) and SSAT asr #K, with
 * no ASR by the channel's own s. A channel's taps and bias are scaled by 2^d, d = K - s,
 * and its round is R' = 2^(d-1) + R * 2^d (R = (2 * zp + 1) * 2^(s-1), the fast form's):
 * floor((acc * m + 2^30 + R * 2^31) / 2^(31+s)) equals
 * floor((2^(1+d) * acc * m + R' * 2^32) / 2^(32+K)) (numerator and denominator times
 * 2^(1+d); nested floors of an integer sum merge). Exact for 1 <= d <= EFFC_DW_D_MAX
 * and 2 <= K <= EFFC_DW_K_MAX: a fast record has |bias| < 2^23, so
 * |2^(1+d) * acc| <= 2^7 * (2^23 + 9 * 128 * 255) < 2^31, the taps 2^(1+d) * |w| <= 2^14
 * fit int16, and |SMMLA's sum| < 2^29.05 + 255 * 2^(K-1) + 2^5 < 2^31. A channel of
 * multiplier 0 (every output zp) takes any d >= 1 unscaled (its products are 0). Any
 * other channel takes the C loop (effc_dw_record_of). The ties' - [acc < 0] would not
 * scale: hence EFFC_DW_RELU. 0: each channel's ASR. */
enum { EFFC_DW_D_MAX = 6, EFFC_DW_K_MAX = 23 };
#ifndef EFFC_DW_RQ_SHIFT
#define EFFC_DW_RQ_SHIFT 0
#endif
#if EFFC_DW_RQ_SHIFT && (EFFC_DW_RQ_SHIFT < 2 || EFFC_DW_RQ_SHIFT > 23 || !EFFC_DW_RELU)
#error "EFFC_DW_RQ_SHIFT: 2 <= K <= 23 (EFFC_DW_K_MAX), and only with EFFC_DW_RELU"
#endif

/* EFFC_DW_OUT_STRIDE=N (kernel_set.dw_stride_defines: every depthwise layer the narrow
 * walk can take has N output row bytes, 0 < N <= 2047): effc_dw_walk_s1_narrow stores
 * with immediate offsets (STRB.W imm12: N; ADDW imm12: 2 * N) and keeps the multiplier in
 * r1 instead of the row bytes; a layer whose row bytes are not N takes the C loop
 * (effc_dw_walks). 0: the row bytes from the job. */
#ifndef EFFC_DW_OUT_STRIDE
#define EFFC_DW_OUT_STRIDE 0
#endif
#if EFFC_DW_OUT_STRIDE < 0 || EFFC_DW_OUT_STRIDE > 2047
#error "EFFC_DW_OUT_STRIDE: the narrow walk's immediates take 0 < N <= 2047"
#endif

#if defined(EFFC_USE_DSP)
/* EFFC_DW_SPEED: the DSP body's speed-only extras (about 2.2 KB), built at -O2 unless the
 * build defines EFFC_DW_COMPACT=1 (--flash-budget builds, effc/codegen/c/kernel_set.py:
 * their bytes go to widened layers) or has the Helium body (the DSP one only its
 * fallback): the narrow walk takes the even output columns, then the odd ones (two copies
 * of its column code), effc_dw_walk_prepare is inlined, the plane fill keeps its short
 * rows' registers in the job, the planes are cleared four words a step. */
#ifndef EFFC_DW_COMPACT
#define EFFC_DW_COMPACT 0
#endif
#if defined(__OPTIMIZE_SIZE__) || EFFC_DW_COMPACT || defined(EFFC_USE_MVE)
#define EFFC_DW_SPEED 0
#else
#define EFFC_DW_SPEED 1
#endif

/* One output channel's column walks over a band (effc_dw_dsp_asm.c): every
 * output column, `rows` outputs down the planes (a counted loop of `groups`
 * unrolled steps, then `tail` single ones). Offsets: 0 plane, 4 out,
 * 8 strides, 12 cols (C side: w2c_s has them), 16 col_plane, 20 col_out, 24..32 w01, 36 w2ab,
 * 40 w2c_s, 44 bias2, 48 m, 52 round, 56 groups, 60 tail, 64 next_plane,
 * 68 next_out, 72 next (76 lead: C only), 80 last_pad, 84 frame, 108 first_pad
 * (112 counted: C only), 116 odd_cols.
 * Weights are doubled (the accumulator is 2 * acc, effc_rq_fast). */
typedef struct effc_dw_walk_job {
    const int16_t *plane; /* plane row 0 (row 1 with first_pad), the first output column's
                             first tap */
    int8_t *out;          /* the band's first output of this channel */
    int32_t strides;      /* plane row bytes << 16 | output row bytes (both < 2^16); the
                             output row bytes alone for the narrow walk */
    int32_t cols;         /* output columns, > 0 (the narrow walk: the even ones) */
    int32_t col_plane;    /* plane bytes from one walked output column to the next (the
                             narrow walk: every other column) */
    int32_t col_out;      /* output bytes from one walked output column to the next */
    int32_t w01[3];       /* taps (0, 1) of kernel rows 0..2 */
    int32_t w2ab;         /* tap 2 of kernel rows 0 (low) and 1 (high) */
    int32_t w2c_s;        /* s - 1 (low byte), cols (byte 1: the walk counts it down),
                             tap 2 of kernel row 2 (high) */
    int32_t bias2;        /* 2 * bias */
    int32_t m, round;     /* the fast form's multiplier and round */
    int32_t groups;       /* outputs a column / the step's outputs (3 at stride 1, 2 at 2) */
    int32_t tail;         /* the outputs left after the groups, < the step's */
    int32_t next_plane;   /* plane bytes from a column's last row read to the next column */
    int32_t next_out;     /* output bytes from a column's end to the next column */
    const struct effc_dw_walk_job *next; /* NULL, or a job walked next in the same call:
                                            the same plane geometry and rows, so only its
                                            plane, out, taps, bias, m and round are read */
    int32_t lead;         /* the narrow walk's: output bytes out is above the band's first
                             output (C side; effc_dw_walk_counts) */
    int32_t last_pad;     /* 1: the band's last plane row is padding (zeros): a stride-1
                             column's tail of one output skips its loads and MACs (-O2) */
    int32_t frame[6];     /* the stride-1 walks' frame words for these counts, written by the
                             walk at -O2 (its tail's code address, passes - 1, where a column's
                             loop starts, where a pass ends, the first pass's entry, the
                             column's code); frame[4] == 0 (set by effc_dw_walk_counts): not yet */
    int32_t first_pad;    /* 1: the band's first plane row is padding and the plane pointers
                             start a row down (plane: row 1), so a stride-1 column's top skips
                             that row's loads and MACs (-O2; never with a tail of two) */
    int32_t counted;      /* C side: rows << 2 | first_pad << 1 | last_pad of the band the
                             counts (groups..next_out, lead, pads) were made for; 0: none */
    int32_t odd_cols;     /* the narrow walk's odd output columns << 8 (walked after the
                             even ones, from the plane's first column: taps (1, 2) of
                             each kernel row and tap 0 in the even ones' tap 2's place) */
} effc_dw_walk_job;

/* Rows of the EFFC_DW_PLANES planes from an int8 NHWC input (effc_dw_dsp_asm.c):
 * value x - zp of channel ic + j of each pixel into plane j. Offsets as listed. */
typedef struct {
    const int8_t *src; /* 0: the first row's first pixel, channel ic */
    int16_t *dst;      /* 4: plane 0's first row at that pixel's column */
    int32_t rows;      /* 8: rows to fill, > 0 */
    int32_t pairs;     /* 12: pixel pairs a row */
    int32_t odd;       /* 16: 1 when a single pixel follows the pairs */
    int32_t cs;        /* 20: bytes from one pixel to the next */
    int32_t src_row;   /* 24: input row bytes */
    int32_t dst_row;   /* 28: plane row bytes */
    int32_t plane;     /* 32: bytes from one plane to the next */
    int32_t off;       /* 36: -zp in both halves */
#if EFFC_DW_SPEED
    int32_t regs[11];  /* 40: EFFC_DW_SPEED: the short rows r1-r6, r9-r12, lr after the setup, left by
                          the first call (regs[5], the rows' entry, 0 until then: set by
                          the C side with the fields), so a job's next calls (other
                          channels, only src changed) load them instead */
#endif
} effc_dw_fill_job;

void effc_dw_fill2_rows(effc_dw_fill_job *job);
void effc_dw_walk_s1(effc_dw_walk_job *job); /* 3x3, stride 1 */
/* The same over EFFC_DW_NARROW_PW columns (16-byte rows): with EFFC_DW_SPEED a job's
 * even output columns, then its odd ones, a row of either one LDRD of an aligned column
 * pair; without, every column, a row two LDRs. */
void effc_dw_walk_s1_narrow(effc_dw_walk_job *job);
void effc_dw_walk_s2(effc_dw_walk_job *job); /* 3x3, stride 2 */
#endif

#endif /* EFFC_DW_INTERNAL_H */
