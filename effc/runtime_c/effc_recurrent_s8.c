/*
 * effc_recurrent_s8.c - int8 LSTM (TensorFlow Lite Micro's integer
 * UNIDIRECTIONAL_SEQUENCE_LSTM: int8 activations and weights, int16 cell state)
 * and int8 GRU (effc's own exact scheme from the same pieces; the arithmetic
 * and its reasons are in effc/quant/lstm.py and effc/quant/gru.py, which
 * this file follows step by step).
 *
 * Each gate: two int8 FullyConnected layers to int16 at 2^-12 (the input one
 * with the gate's bias), added with int16 saturation, then TFLite's int16
 * Logistic or Tanh (a table of sigmoid(i / 24) interpolated, output Q0.15).
 * Products of int16 values are requantized with MultiplyByQuantizedMultiplier.
 * Batch rows run one after the other, each over its whole sequence.
 */
#include "effc_internal.h"

/* TFLite's sigmoid_table_uint16: sigmoid(i / 24) in 0.16 fixed point with TFLite's
 * rounding (effc/quant/_sigmoid_table.py; tests check the two agree). */
static const uint16_t effc_sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
};

/* reference_integer_ops::Logistic for int16 (Q0.15 out). */
static int32_t effc_logistic_s16(int32_t input, int32_t multiplier, int32_t left_shift)
{
    int32_t v;
    uint32_t a, uh, result;
    if (multiplier == 0) {
        multiplier = 3 << left_shift;
        left_shift = 0;
    }
    v = (input * multiplier + (left_shift > 0 ? 1 << (left_shift - 1) : 0)) >> left_shift;
    a = (uint32_t)(v < 0 ? -v : v);
    uh = a >> 9;
    if (uh >= 255u) {
        result = 0x7fffu << 10;
    } else {
        const uint32_t ua = effc_sigmoid_table[uh], ub = effc_sigmoid_table[uh + 1u];
        result = (ua << 9) + (a & 0x1ffu) * (ub - ua);
    }
    result = v >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
    return (int32_t)(result >> 10);
}

/* reference_integer_ops::Tanh for int16 (Q0.15 out). */
static int32_t effc_tanh_s16(int32_t input, int32_t multiplier, int32_t left_shift)
{
    int32_t v, result;
    uint32_t a, uh;
    if (multiplier == 0) {
        multiplier = 3 << left_shift;
        left_shift = 0;
    }
    v = (input * multiplier + (left_shift > 0 ? 1 << (left_shift - 1) : 0)) >> left_shift;
    a = (uint32_t)(v < 0 ? -v : v);
    uh = a >> 8;
    if (uh >= 255u) {
        result = 0xffff << 8;
    } else {
        const uint32_t ua = effc_sigmoid_table[uh], ub = effc_sigmoid_table[uh + 1u];
        result = (int32_t)((ua << 8) + (a & 0xffu) * (ub - ua));
    }
    result = v >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
    return result >> 8;
}

static int32_t effc_sat16(int32_t x)
{
    return effc_clamp_i32(x, -32768, 32767);
}

/* int8 FullyConnected of one weight row over a widened input to int16. */
static int32_t effc_fc_row_s16(const int32_t *q, const int8_t *w, int32_t n,
                               const int32_t *bias, effc_requant r)
{
    int32_t acc = effc_dot_row(q, w, n);
    if (bias != NULL) {
        acc = effc_wrap_add(acc, *bias);
    }
    return effc_sat16(effc_requant_apply(acc, r));
}

/* MulElementwise of two int16 values: requantized product + zero point, clamped. */
static int32_t effc_mul_s16(int32_t a, int32_t b, effc_requant r, int32_t lo, int32_t hi,
                            int32_t zero_point)
{
    return effc_clamp_i32(effc_requant_apply(a * b, r) + zero_point, lo, hi);
}

static int effc_rnn_dims_ok(const effc_rnn_dims *d)
{
    return d != NULL && d->batches > 0 && d->steps > 0 && d->input_size > 0 && d->hidden > 0;
}

/* Gates (4 H int16), then x and h widened. */
size_t effc_lstm_s8_scratch_size(const effc_rnn_dims *dims)
{
    if (!effc_rnn_dims_ok(dims)) {
        return 0u;
    }
    return effc_align4((size_t)dims->hidden * 4u * sizeof(int16_t)) +
           effc_widened_bytes(dims->input_size) + effc_widened_bytes(dims->hidden);
}

int effc_lstm_s8(const effc_scratch *scratch, const effc_rnn_dims *dims,
                 const effc_lstm_s8_params *p, const int8_t *x, const int8_t *w,
                 const int8_t *r, const int32_t *bias, const int8_t *h0, const int16_t *c0,
                 int8_t *y, int8_t *h_out, int16_t *c_out)
{
    int16_t *gate;
    int32_t *qx, *qh;
    effc_requant in_fc[4], rec_fc[4], forget, input_mul, output_mul;
    int32_t b, s, g, j;
    const int32_t n_h = dims != NULL ? dims->hidden : 0, n_i = dims != NULL ? dims->input_size : 0;
    if (!effc_rnn_dims_ok(dims) || p == NULL) {
        return EFFC_ERR_ARG;
    }
    gate = (int16_t *)effc_scratch_get(scratch, effc_lstm_s8_scratch_size(dims));
    if (gate == NULL) {
        return EFFC_ERR_ARG;
    }
    qx = (int32_t *)(void *)((uint8_t *)gate + effc_align4((size_t)n_h * 4u * sizeof(int16_t)));
    qh = (int32_t *)(void *)((uint8_t *)qx + effc_widened_bytes(n_i));
    for (g = 0; g < 4; g++) {
        in_fc[g] = effc_requant_make(p->input_multiplier[g], p->input_shift[g]);
        rec_fc[g] = effc_requant_make(p->recurrent_multiplier[g], p->recurrent_shift[g]);
    }
    forget = effc_requant_make(p->forget_multiplier, p->forget_shift);
    input_mul = effc_requant_make(p->input_mul_multiplier, p->input_mul_shift);
    output_mul = effc_requant_make(p->output_multiplier, p->output_shift);
    for (b = 0; b < dims->batches; b++) {
        int8_t *h = h_out + (size_t)b * (size_t)n_h;
        int16_t *c = c_out + (size_t)b * (size_t)n_h;
        __builtin_memcpy(h, h0 + (size_t)b * (size_t)n_h, (size_t)n_h);
        __builtin_memcpy(c, c0 + (size_t)b * (size_t)n_h, (size_t)n_h * sizeof(int16_t));
        for (s = 0; s < dims->steps; s++) {
            const int32_t t = p->reverse ? dims->steps - 1 - s : s;
            const int8_t *xt = x + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_i;
            int8_t *yt = y + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_h;
            /* gates (input, forget, cell, output) from the previous hidden state */
            effc_widen_row(xt, n_i, p->input_zero_point, qx);
            effc_widen_row(h, n_h, p->hidden_zero_point, qh);
            for (g = 0; g < 4; g++) {
                for (j = 0; j < n_h; j++) {
                    const size_t row = (size_t)g * (size_t)n_h + (size_t)j;
                    const int32_t pre = effc_sat16(
                        effc_fc_row_s16(qx, w + row * (size_t)n_i, n_i, bias + row, in_fc[g]) +
                        effc_fc_row_s16(qh, r + row * (size_t)n_h, n_h, NULL, rec_fc[g]));
                    gate[row] = (int16_t)(g == 2 ? effc_tanh_s16(pre, 0, 0)
                                                 : effc_logistic_s16(pre, 0, 0));
                }
            }
            for (j = 0; j < n_h; j++) {
                const int32_t i_ = gate[j], f_ = gate[n_h + j], g_ = gate[2 * n_h + j];
                const int32_t o_ = gate[3 * n_h + j];
                const int32_t cell = effc_sat16(
                    effc_mul_s16(f_, c[j], forget, -32768, 32767, 0) +
                    effc_mul_s16(i_, g_, input_mul, -32768, 32767, 0));
                c[j] = (int16_t)cell;
                h[j] = (int8_t)effc_mul_s16(
                    effc_tanh_s16(cell, p->cell_tanh_multiplier, p->cell_tanh_shift), o_,
                    output_mul, -128, 127, p->hidden_zero_point);
                yt[j] = h[j];
            }
        }
    }
    return EFFC_OK;
}

/* Candidate in state units (int32), update, reset and the state (int16), r * h (int8),
 * then x and h (or r * h) widened. */
size_t effc_gru_s8_scratch_size(const effc_rnn_dims *dims)
{
    if (!effc_rnn_dims_ok(dims)) {
        return 0u;
    }
    return effc_align4((size_t)dims->hidden * 11u) + effc_widened_bytes(dims->input_size) +
           effc_widened_bytes(dims->hidden);
}

int effc_gru_s8(const effc_scratch *scratch, const effc_rnn_dims *dims,
                const effc_gru_s8_params *p, const int8_t *x, const int8_t *w,
                const int8_t *r, const int32_t *wb, const int32_t *rb, const int16_t *h0,
                int8_t *y, int8_t *h_out)
{
    int32_t *cand, *qx, *qh;
    int16_t *upd, *rst, *hs;
    int8_t *rh;
    effc_requant in_fc[3], rec_fc[3], gate_mul, to_state, to_hidden, reset_mul;
    int32_t b, s, g, j;
    const int32_t n_h = dims != NULL ? dims->hidden : 0, n_i = dims != NULL ? dims->input_size : 0;
    if (!effc_rnn_dims_ok(dims) || p == NULL) {
        return EFFC_ERR_ARG;
    }
    cand = (int32_t *)effc_scratch_get(scratch, effc_gru_s8_scratch_size(dims));
    if (cand == NULL) {
        return EFFC_ERR_ARG;
    }
    upd = (int16_t *)(cand + n_h);
    rst = upd + n_h;
    hs = rst + n_h;
    rh = (int8_t *)(hs + n_h);
    qx = (int32_t *)(void *)((uint8_t *)cand + effc_align4((size_t)n_h * 11u));
    qh = (int32_t *)(void *)((uint8_t *)qx + effc_widened_bytes(n_i));
    for (g = 0; g < 3; g++) {
        in_fc[g] = effc_requant_make(p->input_multiplier[g], p->input_shift[g]);
        rec_fc[g] = effc_requant_make(p->recurrent_multiplier[g], p->recurrent_shift[g]);
    }
    gate_mul = effc_requant_make(p->gate_multiplier, p->gate_shift);
    to_state = effc_requant_make(p->to_state_multiplier, p->to_state_shift);
    to_hidden = effc_requant_make(p->to_hidden_multiplier, p->to_hidden_shift);
    reset_mul = effc_requant_make(p->reset_multiplier, p->reset_shift);
    for (b = 0; b < dims->batches; b++) {
        const int32_t zh = p->hidden_zero_point;
        int8_t *h = h_out + (size_t)b * (size_t)n_h;
        __builtin_memcpy(hs, h0 + (size_t)b * (size_t)n_h, (size_t)n_h * sizeof(int16_t));
        for (j = 0; j < n_h; j++) {
            h[j] = (int8_t)effc_clamp_i32(effc_requant_apply(hs[j], to_hidden) + zh, -128, 127);
        }
        for (s = 0; s < dims->steps; s++) {
            const int32_t t = p->reverse ? dims->steps - 1 - s : s;
            const int8_t *xt = x + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_i;
            int8_t *yt = y + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_h;
            effc_widen_row(xt, n_i, p->input_zero_point, qx);
            effc_widen_row(h, n_h, zh, qh);
            for (g = 0; g < 2; g++) {
                int16_t *dst = g == 0 ? upd : rst;
                for (j = 0; j < n_h; j++) {
                    const size_t row = (size_t)g * (size_t)n_h + (size_t)j;
                    dst[j] = (int16_t)effc_logistic_s16(effc_sat16(
                        effc_fc_row_s16(qx, w + row * (size_t)n_i, n_i, wb + row, in_fc[g]) +
                        effc_fc_row_s16(qh, r + row * (size_t)n_h, n_h, rb + row, rec_fc[g])),
                        0, 0);
                }
            }
            if (!p->linear_before_reset) {
                for (j = 0; j < n_h; j++) {
                    rh[j] = (int8_t)effc_mul_s16(rst[j], hs[j], reset_mul, -128, 127, zh);
                }
                effc_widen_row(rh, n_h, zh, qh); /* the hidden gate reads r * h */
            }
            for (j = 0; j < n_h; j++) {
                const size_t row = 2u * (size_t)n_h + (size_t)j;
                const int32_t fx = effc_fc_row_s16(qx, w + row * (size_t)n_i, n_i, wb + row,
                                                   in_fc[2]);
                const int32_t hid = effc_fc_row_s16(qh, r + row * (size_t)n_h, n_h, rb + row,
                                                    rec_fc[2]);
                int32_t pre;
                if (p->linear_before_reset) {
                    pre = effc_sat16(fx + effc_mul_s16(rst[j], hid, gate_mul, -32768, 32767, 0));
                } else {
                    pre = effc_sat16(fx + hid);
                }
                cand[j] = effc_requant_apply(effc_tanh_s16(pre, 0, 0), to_state);
            }
            /* hs = n + z (hs - n): |z (hs - n)| < 2^15 * 2^16 fits int32 */
            for (j = 0; j < n_h; j++) {
                const int32_t state = effc_sat16(
                    cand[j] + effc_requant_apply((int32_t)upd[j] * ((int32_t)hs[j] - cand[j]),
                                                 gate_mul));
                hs[j] = (int16_t)state;
                h[j] = (int8_t)effc_clamp_i32(effc_requant_apply(state, to_hidden) + zh, -128,
                                              127);
                yt[j] = h[j];
            }
        }
    }
    return EFFC_OK;
}
