/*
 * effc_nn.h - effc's hand-written C99 inference kernels (public API).
 *
 * int8 kernels are bit-exact with TensorFlow Lite Micro's reference kernels.
 * Every int8 MAC kernel (conv, depthwise conv, dense, Winograd) has a portable
 * body and a Cortex-M DSP body (SXTB16 + SMLAD) behind the same signature,
 * chosen at compile time by __ARM_FEATURE_DSP (define EFFC_NO_DSP to force the
 * portable body); both give identical results. See README.md for weight layouts and
 * scratch rules.
 *
 * Conventions (docs/conventions.md):
 *  - activations are channels-last (NHWC; 1-D data has h == 1);
 *  - zero points are passed as stored (real = scale * (q - zero_point)) and
 *    kernels subtract them;
 *  - requantization multipliers are Q31 in [2^30, 2^31) (or 0) with a TFLite
 *    shift: shift > 0 shifts left, shift < 0 rounds right (effc_requant.h);
 *  - activation_min/max clamp in the output's int8 (or float) domain.
 *
 * Kernels never allocate. Those that need scratch memory take an
 * effc_scratch of at least <kernel>_scratch_size() bytes; the size depends
 * only on the shapes, never on the CPU, so a host-side planner can size it.
 * Functions return EFFC_OK or EFFC_ERR_ARG (bad shape or too little scratch).
 * Element-wise kernels accept output == input (in place).
 */
#ifndef EFFC_NN_H
#define EFFC_NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EFFC_OK 0
#define EFFC_ERR_ARG (-1)

/* effc-api-begin (the text up to effc-api-end is plain declarations, read
 * by the tests' cffi binding: no macros or inline code in here) */

/* ------------------------------------------------------------- shared types */

/* A 4-D NHWC shape. 1-D data (N, W, C) uses h = 1. */
typedef struct {
    int32_t n; /* batch */
    int32_t h; /* height */
    int32_t w; /* width */
    int32_t c; /* channels */
} effc_dims;

/* Caller-supplied scratch memory (4-byte aligned). */
typedef struct {
    void *buf;   /* may be NULL when size 0 is needed */
    size_t size; /* bytes available at buf */
} effc_scratch;

/* One output channel's requantization, prepared once per layer by
 * effc_prepare_channels_s8 (the code generator calls it on the host and
 * emits the records as constants), 8 bytes. The DSP bodies run the fast form
 * (effc_requant.h, effc_rq_fast) on every channel whose word has no
 * EFFC_RQ_GENERAL bit, the general form on the others. Encoding:
 *   fast     word = bias * 256 + (s - 1), s - 1 in [0, 30] and |bias| < 2^23
 *            (so word ASR 7 is 2 * bias, and the low byte, all an ASR or LSL
 *            by register reads, is s - 1); multiplier in [0, 2^31), 0 when
 *            every output is provably the zero point (then bias is 0);
 *   general  word = d * 256 + EFFC_RQ_GENERAL, multiplier the Q31 multiplier;
 *            the record d places further on (after the layer's last channel)
 *            is the channel's extension: word the bias, multiplier the
 *            TFLite shift.
 * Only the accessors in effc_internal.h (effc_rq_*) and, in assembly, the
 * EFFC_RQ_* offsets read the words. */
typedef struct {
    int32_t word;
    int32_t multiplier;
} effc_channel_rq;

enum { EFFC_RQ_GENERAL = 0x80 };

/* Per-output-channel requantization. */
typedef struct {
    const int32_t *multiplier;       /* [C_out] Q31 multipliers */
    const int32_t *shift;            /* [C_out] TFLite shifts */
    const effc_channel_rq *channels; /* NULL, or the records made by
                                        effc_prepare_channels_s8: then multiplier,
                                        shift and the kernel's bias are not read */
} effc_per_channel_quant;

/* One requantization for the whole tensor. */
typedef struct {
    int32_t multiplier; /* Q31 multiplier */
    int32_t shift;      /* TFLite shift */
} effc_per_tensor_quant;

/* Records for n_out channels of k weights each (rows of `weights`, [n_out][k]):
 * conv filters OHWI (k = KH*KW*C_in), depthwise [C_out][KH*KW], dense [out][in].
 * bias may be NULL; multiplier/shift are indexed c * quant_stride (0: one
 * value for every channel). A channel takes the fast form when its right
 * shift s is in [1, 31], its multiplier >= 0, |bias| < 2^23, the largest
 * possible |accumulator| (|bias| + sum |w| * max |x - input_zero_point|) is
 * below 2^30 and (2 * output_zero_point + 1) * 2^(s-1) plus the largest high
 * product fits int32; a channel whose every output is provably the zero point
 * gets multiplier 0. channels holds 2 * n_out records: the n_out channels',
 * then one extension per general channel. Returns the records written (n_out
 * plus the general channels) or EFFC_ERR_ARG. */
int effc_prepare_channels_s8(const int8_t *weights, int32_t n_out, int32_t k,
                             const int32_t *bias, const int32_t *multiplier,
                             const int32_t *shift, int32_t quant_stride,
                             int32_t input_zero_point, int32_t output_zero_point,
                             effc_channel_rq *channels);

/* Weight layouts of conv and dense filters ([n_out][k] int8 rows):
 *  EFFC_FILTER_S8     the rows as they are (int8);
 *  EFFC_FILTER_WIDE2  for the DSP bodies' two-channel kernel, per pair of
 *                     channels (an odd last one padded with a zero channel): the
 *                     two bias words, then per group of 4 k values (k padded to
 *                     4 * G, G rounded up to even) the int16 words (c0: 2 w0,
 *                     2 w2) (c1: 2 w0, 2 w2) (c0: 2 w1, 2 w3) (c1: 2 w1, 2 w3),
 *                     then per channel the words multiplier, round, shift (a
 *                     wide shift word: bits 0-7 s - 1, bit 8 EFFC_WIDE_GENERAL,
 *                     bits 11-15 the weights' scale bits (1: doubled), bits 16-31
 *                     the TFLite shift); with a firmware shift K
 *                     (rq_shift > 0, EFFC_WIDE2_RQ_SHIFT) each fast channel is
 *                     EFFC_WIDE_SHIFTED instead: its weights and bias word
 *                     scaled by a further 2^d, d = K - s >= 1, round R' =
 *                     2^(d-1) + round * 2^d, shift word bits 0-7 K, bit 9
 *                     EFFC_WIDE_SHIFTED, scale bits 1 + d (the loops: SMMLA,
 *                     SSAT asr #K); a multiplier 0 channel's weights and bias 0;
 *  EFFC_FILTER_PAIR8  WIDE2's blocks with int8 weights: per group the words
 *                     (c0 w0, c1 w0, c0 w2, c1 w2) (c0 w1, c1 w1, c0 w3, c1 w3)
 *                     as bytes, undoubled (SXTB16 gives channel 0's WIDE2 word,
 *                     SXTB16 ror 8 channel 1's; the loops double the columns
 *                     instead), never shifted (rq_shift 0): the flash of the
 *                     int8 rows, read by the WIDE2 loops of a firmware built with
 *                     EFFC_WIDE2_PACKED=1;
 *  EFFC_FILTER_WIDE4  for the one-row dense kernel, per quad of channels
 *                     (padded): four bias words, per group of 4 (k padded) the
 *                     int16 words (ci: 2 w0, 2 w2) for i = 0..3 then (ci: 2 w1,
 *                     2 w3), then per channel multiplier, round, shift.
 * Each int16 word holds the first value in its low half. The records come
 * from effc_prepare_channels_s8: a bias word is 2 * bias (bias for an
 * EFFC_RQ_GENERAL channel), round = (2 * output_zero_point + 1) << (s - 1)
 * (0 for a general channel), multiplier the record's. Kernels
 * given a wide filter read neither the quant arrays nor the bias argument. */
enum { EFFC_FILTER_S8 = 0, EFFC_FILTER_WIDE2 = 1, EFFC_FILTER_WIDE4 = 2, EFFC_FILTER_PAIR8 = 3 };
enum { EFFC_WIDE_GENERAL = 0x100, EFFC_WIDE_SHIFTED = 0x200, EFFC_WIDE_SCALE_AT = 11 };

/* int32 words of a filter in a wide layout (0 for EFFC_FILTER_S8 or bad sizes). */
size_t effc_filter_words(int32_t layout, int32_t n_out, int32_t k);
/* Writes a wide layout (`wide` holds effc_filter_words words) from the int8
 * rows and their prepared records. rq_shift: 0, or K in [2, 31] for
 * EFFC_FILTER_WIDE2's EFFC_WIDE_SHIFTED records (exact only for a layer whose
 * activation range starts at or above its output zero point); EFFC_ERR_ARG
 * when a fast channel cannot take K: d = K - s < 1, a weight * 2^(1+d) outside
 * int16, the largest |accumulator| (|bias| + sum |w| * max |x - input_zero_point|)
 * * 2^(1+d) or |R'| plus the largest high product outside int32. */
int effc_widen_filter_s8(int32_t layout, const int8_t *weights, int32_t n_out, int32_t k,
                         const effc_channel_rq *channels, int32_t input_zero_point,
                         int32_t output_zero_point, int32_t rq_shift, int32_t *wide);

/* ------------------------------------------------------------ int8 conv 2-D */

/* Convolution geometry and quantization of input/output. */
typedef struct {
    int32_t stride_h, stride_w;     /* >= 1 */
    int32_t pad_top, pad_left;      /* leading zero padding (trailing padding follows from
                                       the output dims) */
    int32_t dilation_h, dilation_w; /* >= 1 */
    int32_t input_zero_point;       /* input's zero point, as stored */
    int32_t output_zero_point;      /* output's zero point, as stored */
    int32_t activation_min;         /* output clamp, int8 domain */
    int32_t activation_max;
    int32_t filter_layout;          /* EFFC_FILTER_S8 (0), EFFC_FILTER_WIDE2 or PAIR8 */
} effc_conv_params;

/* Conv: input [N,H,W,C_in], filter OHWI [C_out,KH,KW,C_in] with
 * filter_dims = {C_out, KH, KW, C_in} (int8, or the wide layout of
 * params->filter_layout), bias int32 [C_out] or NULL, output [N,OH,OW,C_out].
 * Dispatches on the predicates below. */
size_t effc_conv_s8_scratch_size(const effc_conv_params *params, const effc_dims *input_dims,
                                 const effc_dims *filter_dims, const effc_dims *output_dims);
int effc_conv_s8(const effc_scratch *scratch, const effc_conv_params *params,
                 const effc_per_channel_quant *quant, const effc_dims *input_dims,
                 const int8_t *input, const effc_dims *filter_dims, const void *filter,
                 const int32_t *bias, const effc_dims *output_dims, int8_t *output);

/* Named predicates used by both effc_conv_s8 and its scratch-size function. */
/* 1x1: a 1x1 kernel with no padding at all (stride and dilation free).
 * It may run in place (output == input) when stride is 1 and C_out <= C_in. */
int effc_conv_s8_use_1x1(const effc_conv_params *params, const effc_dims *input_dims,
                         const effc_dims *filter_dims, const effc_dims *output_dims);
/* 3x3: a 3x3 kernel with dilation 1 (any stride and padding). */
int effc_conv_s8_use_3x3(const effc_conv_params *params, const effc_dims *input_dims,
                         const effc_dims *filter_dims, const effc_dims *output_dims);

/* The three paths, callable directly (same arguments as effc_conv_s8). */
size_t effc_conv_1x1_s8_scratch_size(const effc_dims *filter_dims);
int effc_conv_1x1_s8(const effc_scratch *scratch, const effc_conv_params *params,
                     const effc_per_channel_quant *quant, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *filter_dims, const void *filter,
                     const int32_t *bias, const effc_dims *output_dims, int8_t *output);
size_t effc_conv_3x3_s8_scratch_size(const effc_dims *filter_dims);
int effc_conv_3x3_s8(const effc_scratch *scratch, const effc_conv_params *params,
                     const effc_per_channel_quant *quant, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *filter_dims, const void *filter,
                     const int32_t *bias, const effc_dims *output_dims, int8_t *output);
size_t effc_conv_generic_s8_scratch_size(const effc_dims *filter_dims);
int effc_conv_generic_s8(const effc_scratch *scratch, const effc_conv_params *params,
                         const effc_per_channel_quant *quant, const effc_dims *input_dims,
                         const int8_t *input, const effc_dims *filter_dims,
                         const void *filter, const int32_t *bias,
                         const effc_dims *output_dims, int8_t *output);

/* Grouped conv (ResNeXt, ShuffleNet): groups > 1 splits C_in and C_out in
 * equal parts; filter [C_out, KH, KW, C_in / groups]; output channel o reads
 * the input channels of group o / (C_out / groups). Each group runs through
 * effc_conv_s8 on channel slices copied into scratch. */
size_t effc_grouped_conv_s8_scratch_size(const effc_conv_params *params, int32_t groups,
                                         const effc_dims *input_dims,
                                         const effc_dims *filter_dims,
                                         const effc_dims *output_dims);
int effc_grouped_conv_s8(const effc_scratch *scratch, const effc_conv_params *params,
                         int32_t groups, const effc_per_channel_quant *quant,
                         const effc_dims *input_dims, const int8_t *input,
                         const effc_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const effc_dims *output_dims, int8_t *output);

/* ------------------------------------------------------ int8 Winograd conv */

/* Winograd F(2x2, 3x3) (Lavin & Gray, CVPR 2016), exact in integers: the
 * same bytes as effc_conv_s8 for a 3x3 convolution (filter_dims
 * {C_out, 3, 3, C_in}), or a 1-D 3-tap one as F(2, 3) (filter_dims
 * {C_out, 1, 3, C_in}, input and output h == 1, pad_top 0), with stride 1,
 * dilation 1 and any padding (trailing padding follows from the output dims).
 * transformed: int16 U' = (2G) g (2G)^T, laid out [C_out][P][align4(C_in)]
 * with P = 16 (2-D) or 4 (1-D) positions (row-major over the 4x4 / 1x4
 * tile) and, within each group of 4 channels, the lane order c0, c2, c1, c3
 * (padded channels 0). The sums wrap modulo 2^32 and the result is exact
 * while 4 * |acc| (2 * |acc| in 1-D) fits int32, acc = the direct
 * convolution's accumulator: effc/quant/winograd.py proves it and the code
 * generator checks it per layer. quant: the multiplier and shift arrays
 * (prepared records and params->filter_layout are not read). */
size_t effc_winograd_s8_scratch_size(const effc_dims *filter_dims);
int effc_winograd_s8(const effc_scratch *scratch, const effc_conv_params *params,
                     const effc_per_channel_quant *quant, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *filter_dims,
                     const int16_t *transformed, const int32_t *bias,
                     const effc_dims *output_dims, int8_t *output);

/* ------------------------------------------------------- int8 depthwise conv */

typedef struct {
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t depth_multiplier; /* C_out = C_in * depth_multiplier */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min;
    int32_t activation_max;
} effc_dw_conv_params;

/* Depthwise conv: input [N,H,W,C_in]; filter [C_out,KH,KW] (the IR's OHWI
 * with I = 1) with filter_dims = {C_out, KH, KW, 1}; output channel
 * o = i * depth_multiplier + m reads input channel i. */
size_t effc_dw_conv_s8_scratch_size(const effc_dw_conv_params *params,
                                    const effc_dims *input_dims, const effc_dims *filter_dims,
                                    const effc_dims *output_dims);
/* In place (output == input) needs depth_multiplier 1 and the same N, H, W;
 * the scratch size then includes room for the in-place chunks. */
int effc_dw_conv_s8_can_run_in_place(const effc_dw_conv_params *params,
                                     const effc_dims *input_dims, const effc_dims *output_dims);
int effc_dw_conv_s8(const effc_scratch *scratch, const effc_dw_conv_params *params,
                    const effc_per_channel_quant *quant, const effc_dims *input_dims,
                    const int8_t *input, const effc_dims *filter_dims, const int8_t *filter,
                    const int32_t *bias, const effc_dims *output_dims, int8_t *output);

/* ---------------------------------------------------------------- int8 dense */

typedef struct {
    int32_t batches;      /* rows of input and output */
    int32_t in_features;  /* input row length */
    int32_t out_features; /* output row length */
} effc_dense_dims;

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min;
    int32_t activation_max;
    int32_t weights_layout; /* EFFC_FILTER_S8 (0), WIDE2, PAIR8, or WIDE4 (batches == 1) */
} effc_dense_params;

/* Dense: input [batches, in], weights [out, in] (int8, or the wide layout of
 * params->weights_layout), bias int32 [out] or NULL, output [batches, out].
 * Per-tensor or per-channel requantization. */
size_t effc_dense_s8_scratch_size(const effc_dense_params *params,
                                  const effc_dense_dims *dims);
int effc_dense_s8(const effc_scratch *scratch, const effc_dense_params *params,
                  const effc_per_tensor_quant *quant, const effc_dense_dims *dims,
                  const int8_t *input, const void *weights, const int32_t *bias,
                  int8_t *output);
int effc_dense_per_channel_s8(const effc_scratch *scratch, const effc_dense_params *params,
                              const effc_per_channel_quant *quant, const effc_dense_dims *dims,
                              const int8_t *input, const void *weights, const int32_t *bias,
                              int8_t *output);

/* ---------------------------------------------------------------- int8 pools */

/* Pool geometry (input and output share scale and zero point, as TFLite).
 * Output (oy, ox) reads the taps (oy * stride_h - pad_top + i * dilation_h,
 * ox * stride_w - pad_left + j * dilation_w). Taps outside the input never
 * win a max and add nothing to an average; taps inside the trailing padding
 * (pad_bottom, pad_right) count for an average with count_include_pad, taps
 * beyond it (the ceil_mode overhang, implied by the output dims) never do.
 * A (dilated) window over padding only gives the lowest value (max) or 0
 * (average), as onnxruntime does. */
typedef struct {
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w; /* >= 1 */
    int32_t pad_top, pad_left;
    int32_t pad_bottom, pad_right;
    int32_t count_include_pad; /* average: 0 divides by the in-bounds taps (TFLite),
                                  1 also counts padded taps, each worth pad_value */
    int32_t pad_value;         /* int8 average: a padded tap's value, the zero point
                                  (also the result of a window with nothing to count) */
    int32_t activation_min;
    int32_t activation_max;
} effc_pool_params;

/* Average pool divides with TFLite's rounding (ties away from zero). */
size_t effc_max_pool_s8_scratch_size(void);
int effc_max_pool_s8(const effc_pool_params *params, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *output_dims, int8_t *output);
size_t effc_avg_pool_s8_scratch_size(void);
int effc_avg_pool_s8(const effc_pool_params *params, const effc_dims *input_dims,
                     const int8_t *input, const effc_dims *output_dims, int8_t *output);
/* Average over H and W: output [N, 1, 1, C]. */
size_t effc_global_avg_pool_s8_scratch_size(void);
int effc_global_avg_pool_s8(const effc_dims *input_dims, const int8_t *input,
                            int32_t activation_min, int32_t activation_max, int8_t *output);

/* ------------------------------------------------------ int8 element-wise */

/* Broadcast of two inputs to an output of up to 4 dims (outermost first).
 * Output is dense; input strides are in elements, 0 on broadcast axes.
 * An element-wise op on n values: dims {1,1,1,n}, strides {0,0,0,1}. */
typedef struct {
    int32_t dims[4];
    int32_t in1_strides[4];
    int32_t in2_strides[4];
} effc_broadcast;

/* TFLite integer ADD/SUB: each input gets (q - zp) << left_shift, is scaled
 * by its multiplier, the two are added (subtracted), then scaled by the
 * output multiplier; + output zero point; clamp. */
typedef struct {
    int32_t input1_zero_point;
    int32_t input2_zero_point;
    int32_t output_zero_point;
    int32_t left_shift; /* 20 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t activation_min, activation_max;
} effc_add_params;

size_t effc_add_s8_scratch_size(void);
int effc_add_s8(const effc_add_params *params, const effc_broadcast *bcast,
                const int8_t *input1, const int8_t *input2, int8_t *output);
/* SUB is its own kernel (input1 - input2), with the same parameters. */
size_t effc_sub_s8_scratch_size(void);
int effc_sub_s8(const effc_add_params *params, const effc_broadcast *bcast,
                const int8_t *input1, const int8_t *input2, int8_t *output);

/* TFLite integer MUL: (q1 - zp1) * (q2 - zp2) requantized. */
typedef struct {
    int32_t input1_zero_point;
    int32_t input2_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier, output_shift;
    int32_t activation_min, activation_max;
} effc_mul_params;

size_t effc_mul_s8_scratch_size(void);
int effc_mul_s8(const effc_mul_params *params, const effc_broadcast *bcast,
                const int8_t *input1, const int8_t *input2, int8_t *output);

/* TFLite integer softmax over the last axis; output scale 1/256, zp -128.
 * depth <= 2048 (beyond, TFLite's Q12.19 sum can exceed its range). */
typedef struct {
    int32_t input_beta_multiplier; /* Q31, from beta * input_scale * 2^26 */
    int32_t input_beta_left_shift; /* >= 0 */
    int32_t diff_min;              /* diffs below it give -128 (negative) */
} effc_softmax_params;

size_t effc_softmax_s8_scratch_size(void);
int effc_softmax_s8(const effc_softmax_params *params, int32_t rows, int32_t depth,
                    const int8_t *input, int8_t *output);

/* TFLite integer PRELU: x - zp_in >= 0 is scaled by multiplier_1 (s_in / s_out),
 * a negative one times (alpha - zp_alpha) by multiplier_2 (s_in s_alpha / s_out);
 * + output zero point, saturated. alpha broadcasts like input2. */
typedef struct {
    int32_t input_zero_point;
    int32_t alpha_zero_point;
    int32_t output_zero_point;
    int32_t multiplier_1, shift_1;
    int32_t multiplier_2, shift_2;
} effc_prelu_params;

size_t effc_prelu_s8_scratch_size(void);
int effc_prelu_s8(const effc_prelu_params *params, const effc_broadcast *bcast,
                  const int8_t *input, const int8_t *alpha, int8_t *output);

/* 256-entry lookup table: output[i] = table[input[i] + 128]. */
size_t effc_lut_s8_scratch_size(void);
int effc_lut_s8(const int8_t *table, int32_t count, const int8_t *input, int8_t *output);

/* int8 -> int8 requantization (TFLite Requantize): saturates to [-128, 127]. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} effc_requantize_params;

size_t effc_requantize_s8_scratch_size(void);
int effc_requantize_s8(const effc_requantize_params *params, int32_t count,
                       const int8_t *input, int8_t *output);

/* float -> int8: round(x / scale) half away from zero, + zero_point,
 * saturate (NaN gives zero_point). */
size_t effc_quantize_s8_scratch_size(void);
int effc_quantize_s8(float scale, int32_t zero_point, int32_t count, const float *input,
                     int8_t *output);
/* int8 -> float: scale * (q - zero_point). */
size_t effc_dequantize_s8_scratch_size(void);
int effc_dequantize_s8(float scale, int32_t zero_point, int32_t count, const int8_t *input,
                       float *output);

/* ----------------------------------------------------------------- float32 */

typedef struct {
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    float activation_min; /* fused clamp (use -FLT_MAX/FLT_MAX for none) */
    float activation_max;
} effc_conv_f32_params;

/* Same layouts as the int8 kernels; bias may be NULL. A filter with fewer
 * channels than the input (C_in / filter c groups) is a grouped conv. */
int effc_conv_f32(const effc_conv_f32_params *params, const effc_dims *input_dims,
                  const float *input, const effc_dims *filter_dims, const float *filter,
                  const float *bias, const effc_dims *output_dims, float *output);
int effc_dw_conv_f32(const effc_conv_f32_params *params, int32_t depth_multiplier,
                     const effc_dims *input_dims, const float *input,
                     const effc_dims *filter_dims, const float *filter, const float *bias,
                     const effc_dims *output_dims, float *output);
/* Winograd F(m x m, 3 x 3), m = tile 2 or 4 (F(m, 3) for a 1-D 3-tap conv,
 * filter_dims {C_out, 1, 3, C_in}), stride 1, dilation 1: the convolution of
 * effc_conv_f32 from the transformed weights U = G g G^T, float
 * [C_out][P][C_in], P = (tile + 2)^2 (2-D) or tile + 2 (1-D). */
size_t effc_winograd_f32_scratch_size(int32_t tile, const effc_dims *filter_dims);
int effc_winograd_f32(const effc_scratch *scratch, const effc_conv_f32_params *params,
                      int32_t tile, const effc_dims *input_dims, const float *input,
                      const effc_dims *filter_dims, const float *transformed,
                      const float *bias, const effc_dims *output_dims, float *output);
int effc_dense_f32(const effc_dense_dims *dims, const float *input, const float *weights,
                   const float *bias, float activation_min, float activation_max,
                   float *output);

/* The same geometry rules as effc_pool_params; padded taps are worth 0. */
typedef struct {
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t pad_bottom, pad_right;
    int32_t count_include_pad;
    float activation_min;
    float activation_max;
} effc_pool_f32_params;

int effc_max_pool_f32(const effc_pool_f32_params *params, const effc_dims *input_dims,
                      const float *input, const effc_dims *output_dims, float *output);
int effc_avg_pool_f32(const effc_pool_f32_params *params, const effc_dims *input_dims,
                      const float *input, const effc_dims *output_dims, float *output);
int effc_global_avg_pool_f32(const effc_dims *input_dims, const float *input, float *output);

int effc_add_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);
int effc_sub_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);
int effc_mul_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);
int effc_div_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);

/* x >= 0 ? x : x * slope, slope broadcast like input2. */
int effc_prelu_f32(const effc_broadcast *bcast, const float *input, const float *slope,
                   float *output);

int effc_softmax_f32(int32_t rows, int32_t depth, const float *input, float *output);
int effc_relu_f32(int32_t count, const float *input, float *output);
int effc_clip_f32(int32_t count, float min_value, float max_value, const float *input,
                  float *output);
int effc_sigmoid_f32(int32_t count, const float *input, float *output);
int effc_tanh_f32(int32_t count, const float *input, float *output);
int effc_leaky_relu_f32(int32_t count, float alpha, const float *input, float *output);
/* max(0, min(1, alpha * x + beta)); ONNX defaults alpha 0.2, beta 0.5. */
int effc_hard_sigmoid_f32(int32_t count, float alpha, float beta, const float *input,
                          float *output);
/* x * max(0, min(1, x / 6 + 1 / 2)) (ONNX HardSwish). */
int effc_hard_swish_f32(int32_t count, const float *input, float *output);
/* gamma * (x > 0 ? x : alpha * (exp(x) - 1)). */
int effc_selu_f32(int32_t count, float alpha, float gamma, const float *input, float *output);
/* x >= 0 ? x : alpha * (exp(x) - 1). */
int effc_elu_f32(int32_t count, float alpha, const float *input, float *output);
/* log(1 + exp(x)). */
int effc_softplus_f32(int32_t count, const float *input, float *output);
/* x / (1 + |x|). */
int effc_softsign_f32(int32_t count, const float *input, float *output);
int effc_neg_f32(int32_t count, const float *input, float *output);
int effc_abs_f32(int32_t count, const float *input, float *output);
int effc_exp_f32(int32_t count, const float *input, float *output);

/* Concatenation along one axis: every input is viewed as [outer, inner_i],
 * the output as [outer, sum(inner_i)] (inner_i counts elements). */
int effc_concat_f32(int32_t outer, int32_t num_inputs, const float *const *inputs,
                    const int32_t *inner_sizes, float *output);
int effc_concat_s8(int32_t outer, int32_t num_inputs, const int8_t *const *inputs,
                   const int32_t *inner_sizes, int8_t *output);
/* Byte copy (reshape, identity); regions must not overlap. */
int effc_copy(void *output, const void *input, size_t bytes);

/* effc-api-end */

#ifdef __cplusplus
}
#endif

/* The rest of the API (layout, selection, resize, reductions, batched matmul,
 * transposed conv, recurrent, more element-wise functions). */
#include "effc_nn_ext.h"

#endif /* EFFC_NN_H */
