/*
 * effc_nn_ext.h - the rest of effc's public kernel API: layout, selection,
 * resize, reductions, batched matmul, transposed conv, recurrent cells and
 * more element-wise functions (the operators beyond the CNN kernels, for
 * ONNX models at large). Include effc_nn.h, which includes this file; the
 * conventions and shared types (effc_dims, effc_broadcast, ...) are there.
 */
#ifndef EFFC_NN_EXT_H
#define EFFC_NN_EXT_H

#include "effc_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* effc-api-begin (plain declarations up to effc-api-end, as in effc_nn.h) */

/* ----------------------------------------------------- layout (any type) */

/* Shapes of up to EFFC_MAX_RANK (6) dims, outermost first. Layout kernels move
 * elements of elem_bytes (1 for int8, 4 for float) and never overlap in place. */
enum { EFFC_MAX_RANK = 6 };

/* Output axis i is input axis perm[i]; dims are the input's. */
typedef struct {
    int32_t rank;
    int32_t dims[EFFC_MAX_RANK];
    int32_t perm[EFFC_MAX_RANK];
} effc_transpose_params;

int effc_transpose(const effc_transpose_params *params, size_t elem_bytes, const void *input,
                   void *output);

/* ONNX Pad: constant (value), reflect (mirror without repeating the edge) or
 * edge (repeat the edge); dims are the input's, pads non-negative. */
enum { EFFC_PAD_CONSTANT = 0, EFFC_PAD_REFLECT = 1, EFFC_PAD_EDGE = 2 };

typedef struct {
    int32_t rank;
    int32_t dims[EFFC_MAX_RANK];
    int32_t pads_begin[EFFC_MAX_RANK];
    int32_t pads_end[EFFC_MAX_RANK];
    int32_t mode; /* EFFC_PAD_* */
} effc_pad_params;

/* value: one element (ignored unless mode is EFFC_PAD_CONSTANT). */
int effc_pad(const effc_pad_params *params, size_t elem_bytes, const void *value,
             const void *input, void *output);

/* ---------------------------------------- selection (any element type) */

/* Strided slice: output index j on axis i reads input index
 * starts[i] + j * steps[i] (steps may be negative; every read lies inside). */
typedef struct {
    int32_t rank;
    int32_t dims[EFFC_MAX_RANK];     /* input dims */
    int32_t starts[EFFC_MAX_RANK];
    int32_t steps[EFFC_MAX_RANK];    /* nonzero */
    int32_t out_dims[EFFC_MAX_RANK];
} effc_slice_params;

int effc_slice(const effc_slice_params *params, size_t elem_bytes, const void *input,
               void *output);

/* Gather along one axis: input [outer][axis_dim][inner] -> output
 * [outer][count][inner] with output row j reading indices[j] (0 <= index < axis_dim). */
int effc_gather(int32_t outer, int32_t axis_dim, int32_t inner, const int32_t *indices,
                int32_t count, size_t elem_bytes, const void *input, void *output);

/* Gather of a constant table by indices the model computes or reads (an embedding
 * lookup): table [outer][axis_dim][inner] -> output [outer][count][inner], index j an
 * int32 or int64 (index_bytes 4 or 8) in [-axis_dim, axis_dim) (negative counts from
 * the end); any index outside returns EFFC_ERR_ARG before anything is written. */
int effc_gather_indexed(int32_t outer, int32_t axis_dim, int32_t inner, const void *indices,
                        size_t index_bytes, int32_t count, size_t elem_bytes, const void *table,
                        void *output);

/* Tile and Expand: output index j on axis i reads input index j % dims[i]
 * (Expand's broadcast axes have dims[i] == 1; pad the input's rank with 1s). */
typedef struct {
    int32_t rank;
    int32_t dims[EFFC_MAX_RANK];     /* input dims */
    int32_t out_dims[EFFC_MAX_RANK];
} effc_tile_params;

int effc_tile(const effc_tile_params *params, size_t elem_bytes, const void *input,
              void *output);

/* Nearest-neighbour resize of NHWC data: output row y reads input row rows[y],
 * output column x input column cols[x] (every ONNX rounding rule decided by
 * the compiler). */
int effc_resize_nearest(const effc_dims *input_dims, const effc_dims *output_dims,
                        const int32_t *rows, const int32_t *cols, size_t elem_bytes,
                        const void *input, void *output);

/* ---------------------------------------------------------------- resize */

/* One axis of TFLite's integer bilinear resize: per output index, the two
 * source indices and the source coordinate in 1/1024 units. */
typedef struct {
    const int32_t *lo;
    const int32_t *hi;
    const int32_t *coord;
} effc_bilinear_axis;

/* int8 bilinear resize of NHWC data (input and output share scale and zero point). */
int effc_resize_bilinear_s8(const effc_dims *input_dims, const effc_dims *output_dims,
                            const effc_bilinear_axis *rows, const effc_bilinear_axis *cols,
                            const int8_t *input, int8_t *output);

/* One axis of a float resize: `taps` source indices and weights per output index
 * (index [o * taps + t]); an index of -1 marks an extrapolated output. */
typedef struct {
    int32_t taps;
    const int32_t *index;
    const float *weight;
} effc_resize_axis;

int effc_resize_f32(const effc_dims *input_dims, const effc_dims *output_dims,
                    const effc_resize_axis *rows, const effc_resize_axis *cols,
                    float extrapolation_value, const float *input, float *output);

/* ------------------------------------------------------------ reductions */

enum {
    EFFC_REDUCE_SUM = 0, EFFC_REDUCE_MEAN = 1, EFFC_REDUCE_MAX = 2, EFFC_REDUCE_MIN = 3,
    EFFC_REDUCE_PROD = 4, EFFC_REDUCE_L1 = 5, EFFC_REDUCE_L2 = 6, EFFC_REDUCE_SUM_SQUARE = 7,
    EFFC_REDUCE_LOG_SUM = 8
};

/* Input element (i0..) adds into output element sum(i * out_strides[axis]);
 * out_strides is 0 on every reduced axis. */
typedef struct {
    int32_t rank;
    int32_t dims[EFFC_MAX_RANK];
    int32_t out_strides[EFFC_MAX_RANK];
    int32_t out_count;    /* output elements */
    int32_t reduce_count; /* input elements per output element */
} effc_reduce_shape;

/* int8 MEAN / SUM: output = MultiplyByQuantizedMultiplier(sum - input_zero_point *
 * reduce_count) + output_zero_point (MEAN's 1 / count is in the multiplier). */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} effc_reduce_quant;

/* int8: SUM, MEAN (quant required, int32 scratch per output), MAX, MIN (raw values). */
size_t effc_reduce_s8_scratch_size(const effc_reduce_shape *shape, int32_t kind);
int effc_reduce_s8(const effc_scratch *scratch, const effc_reduce_shape *shape, int32_t kind,
                   const effc_reduce_quant *quant, const int8_t *input, int8_t *output);
/* float32: every EFFC_REDUCE_* kind. */
int effc_reduce_f32(const effc_reduce_shape *shape, int32_t kind, const float *input,
                    float *output);

/* ArgMax (is_min 0) / ArgMin (1) over the middle axis of [outer][axis_dim][inner]:
 * output [outer][inner] int64 indices; ties give the first index, or the last
 * with select_last. */
int effc_arg_s8(int32_t outer, int32_t axis_dim, int32_t inner, int32_t is_min,
                int32_t select_last, const int8_t *input, int64_t *output);
int effc_arg_f32(int32_t outer, int32_t axis_dim, int32_t inner, int32_t is_min,
                 int32_t select_last, const float *input, int64_t *output);

/* -------------------------------------------------------- batched matmul */

typedef struct {
    int32_t batch_dims[4];  /* output matrices, outermost first (pad with 1) */
    int32_t a_strides[4];   /* element stride of A per batch axis (0: broadcast) */
    int32_t b_strides[4];
    int32_t m, k, n;        /* A [m][k], B [k][n], output [m][n] */
} effc_matmul_dims;

typedef struct {
    int32_t a_zero_point;
    int32_t b_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} effc_matmul_quant;

int effc_batch_matmul_s8(const effc_matmul_dims *dims, const effc_matmul_quant *quant,
                         const int8_t *a, const int8_t *b, int8_t *output);
int effc_batch_matmul_f32(const effc_matmul_dims *dims, const float *a, const float *b,
                          float *output);

/* ------------------------------------------------- transposed convolution */

typedef struct {
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;  /* leading pads (negative: the output starts earlier) */
    int32_t groups;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min;
    int32_t activation_max;
} effc_transpose_conv_params;

typedef struct {
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t groups;
    float activation_min;
    float activation_max;
} effc_transpose_conv_f32_params;

/* Filter OHWI [C_out][KH][KW][C_in / groups]. int8 needs an int32 per output value and
 * 2 bytes per filter input channel. */
size_t effc_transpose_conv_s8_scratch_size(const effc_dims *filter_dims,
                                           const effc_dims *output_dims);
int effc_transpose_conv_s8(const effc_scratch *scratch,
                           const effc_transpose_conv_params *params,
                           const effc_per_channel_quant *quant, const effc_dims *input_dims,
                           const int8_t *input, const effc_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias,
                           const effc_dims *output_dims, int8_t *output);
int effc_transpose_conv_f32(const effc_transpose_conv_f32_params *params,
                            const effc_dims *input_dims, const float *input,
                            const effc_dims *filter_dims, const float *filter,
                            const float *bias, const effc_dims *output_dims, float *output);

/* ---------------------------------------------------------- recurrent */

typedef struct {
    int32_t batches, steps, input_size, hidden;
} effc_rnn_dims;

/* int8 LSTM (TFLM's integer LSTM): x [N][T][I] int8, w [4][H][I], r [4][H][H]
 * int8 (gates input, forget, cell, output), bias [4][H] int32, h0 [N][H] int8,
 * c0 [N][H] int16; outputs y [N][T][H], h [N][H] int8, c [N][H] int16. */
typedef struct {
    int32_t input_multiplier[4], input_shift[4];         /* FC(x) to Q3.12 */
    int32_t recurrent_multiplier[4], recurrent_shift[4]; /* FC(h) to Q3.12 */
    int32_t forget_multiplier, forget_shift;             /* f * c -> cell scale */
    int32_t input_mul_multiplier, input_mul_shift;       /* i * g -> cell scale */
    int32_t output_multiplier, output_shift;             /* o * tanh(c) -> hidden */
    int32_t cell_tanh_multiplier, cell_tanh_shift;       /* Tanh of the cell state */
    int32_t input_zero_point, hidden_zero_point;
    int32_t reverse;
} effc_lstm_s8_params;

size_t effc_lstm_s8_scratch_size(const effc_rnn_dims *dims);
int effc_lstm_s8(const effc_scratch *scratch, const effc_rnn_dims *dims,
                 const effc_lstm_s8_params *params, const int8_t *x, const int8_t *w,
                 const int8_t *r, const int32_t *bias, const int8_t *h0, const int16_t *c0,
                 int8_t *y, int8_t *h_out, int16_t *c_out);

/* int8 GRU (effc's scheme, effc/quant/gru.py): w [3][H][I], r [3][H][H] int8
 * (update, reset, hidden), wb, rb [3][H] int32, h0 [N][H] the int16 state at 2^power;
 * outputs y [N][T][H] and h [N][H] int8. */
typedef struct {
    int32_t input_multiplier[3], input_shift[3];
    int32_t recurrent_multiplier[3], recurrent_shift[3];
    int32_t gate_multiplier, gate_shift;           /* Q0.15 products: 2^-15 */
    int32_t to_state_multiplier, to_state_shift;   /* Q0.15 to state units */
    int32_t to_hidden_multiplier, to_hidden_shift; /* state units to the int8 output */
    int32_t reset_multiplier, reset_shift;         /* r * state to the int8 output */
    int32_t input_zero_point, hidden_zero_point;
    int32_t linear_before_reset;
    int32_t reverse;
} effc_gru_s8_params;

size_t effc_gru_s8_scratch_size(const effc_rnn_dims *dims);
int effc_gru_s8(const effc_scratch *scratch, const effc_rnn_dims *dims,
                const effc_gru_s8_params *params, const int8_t *x, const int8_t *w,
                const int8_t *r, const int32_t *wb, const int32_t *rb, const int16_t *h0,
                int8_t *y, int8_t *h_out);

enum { EFFC_RNN_TANH = 0, EFFC_RNN_RELU = 1, EFFC_RNN_SIGMOID = 2 };

typedef struct {
    int32_t reverse;
    float clip;                /* gate pre-activation bound, 0 for none */
    int32_t input_forget;      /* LSTM: f = 1 - i */
    int32_t linear_before_reset; /* GRU */
    int32_t activation;        /* RNN: EFFC_RNN_* */
    const int32_t *seq_lens;   /* [N] steps per row, or NULL for all */
} effc_rnn_f32_params;

/* Scratch: gates * H floats (LSTM 4, GRU 3, RNN 1). */
size_t effc_rnn_f32_scratch_size(const effc_rnn_dims *dims, int32_t gates);
int effc_lstm_f32(const effc_scratch *scratch, const effc_rnn_dims *dims,
                  const effc_rnn_f32_params *params, const float *x, const float *w,
                  const float *r, const float *bias, const float *peephole, const float *h0,
                  const float *c0, float *y, float *h_out, float *c_out);
int effc_gru_f32(const effc_scratch *scratch, const effc_rnn_dims *dims,
                 const effc_rnn_f32_params *params, const float *x, const float *w,
                 const float *r, const float *wb, const float *rb, const float *h0, float *y,
                 float *h_out);
int effc_rnn_f32(const effc_scratch *scratch, const effc_rnn_dims *dims,
                 const effc_rnn_f32_params *params, const float *x, const float *w,
                 const float *r, const float *bias, const float *h0, float *y, float *h_out);

/* ------------------------------------------- more element-wise functions */

/* int8 MINIMUM / MAXIMUM of two values at one scale (raw values compare). */
int effc_min_s8(const effc_broadcast *bcast, const int8_t *input1, const int8_t *input2,
                int8_t *output);
int effc_max_s8(const effc_broadcast *bcast, const int8_t *input1, const int8_t *input2,
                int8_t *output);
int effc_min_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);
int effc_max_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);
int effc_pow_f32(const effc_broadcast *bcast, const float *input1, const float *input2,
                 float *output);

enum {
    EFFC_UNARY_SQRT = 0, EFFC_UNARY_RECIPROCAL = 1, EFFC_UNARY_ERF = 2, EFFC_UNARY_GELU = 3,
    EFFC_UNARY_GELU_TANH = 4, EFFC_UNARY_LOG = 5, EFFC_UNARY_FLOOR = 6, EFFC_UNARY_CEIL = 7,
    EFFC_UNARY_ROUND = 8, EFFC_UNARY_SIGN = 9, EFFC_UNARY_MISH = 10, EFFC_UNARY_SWISH = 11,
    EFFC_UNARY_CELU = 12, EFFC_UNARY_THRESHOLDED_RELU = 13, EFFC_UNARY_ELU = 14,
    EFFC_UNARY_SOFTPLUS = 15, EFFC_UNARY_SOFTSIGN = 16, EFFC_UNARY_NEG = 17,
    EFFC_UNARY_ABS = 18, EFFC_UNARY_EXP = 19, EFFC_UNARY_POW = 20
};

/* float32 element-wise function `kind`; alpha: Swish's, CELU's, ThresholdedRelu's,
 * ELU's alpha, or the exponent of POW (ignored otherwise). In place allowed. */
int effc_unary_f32(int32_t kind, float alpha, int32_t count, const float *input, float *output);

/* effc-api-end */

#ifdef __cplusplus
}
#endif

#endif /* EFFC_NN_EXT_H */
