/*
 * effc_recurrent_f32.c - float32 LSTM, GRU and RNN, one direction, batch-major
 * (x [N][T][I], y [N][T][H], states [N][H]; weights per gate [G][H][I] and
 * [G][H][H], gates LSTM input, forget, cell, output; GRU update, reset,
 * hidden). ONNX semantics: gate pre-activations clipped to [-clip, clip] when
 * clip > 0, optional LSTM peepholes [3][H] (input, forget, output) and
 * coupled input/forget gates, GRU's linear_before_reset, per-row sequence
 * lengths (later steps write 0 and keep the state). Activations: LSTM and
 * GRU the default sigmoid / tanh, RNN tanh, relu or sigmoid.
 */
#include "effc_internal.h"
#include "effc_mathf.h"

static float effc_sigmoidf(float x)
{
    return 0.5f * (1.0f + effc_tanhf(0.5f * x));
}

static float effc_clipf(float x, float clip)
{
    return clip > 0.0f ? (x < -clip ? -clip : (x > clip ? clip : x)) : x;
}

/* dot(w_row, v) over n values */
static float effc_dotf(const float *w, const float *v, int32_t n)
{
    float acc = 0.0f;
    int32_t k;
    for (k = 0; k < n; k++) {
        acc += w[k] * v[k];
    }
    return acc;
}

static int effc_rnn_f32_ok(const effc_rnn_dims *d, const effc_rnn_f32_params *p)
{
    return d != NULL && p != NULL && d->batches > 0 && d->steps > 0 && d->input_size > 0 &&
           d->hidden > 0;
}

/* Which step of row b the loop counter s is, and whether the row still runs then. */
static int32_t effc_step(const effc_rnn_dims *d, const effc_rnn_f32_params *p, int32_t b,
                         int32_t s, int *alive)
{
    const int32_t t = p->reverse ? d->steps - 1 - s : s;
    *alive = p->seq_lens == NULL || t < p->seq_lens[b];
    return t;
}

size_t effc_rnn_f32_scratch_size(const effc_rnn_dims *dims, int32_t gates)
{
    return dims != NULL && dims->hidden > 0 ? (size_t)dims->hidden * (size_t)gates * 4u : 0u;
}

int effc_lstm_f32(const effc_scratch *scratch, const effc_rnn_dims *dims,
                  const effc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                  const float *bias, const float *peephole, const float *h0, const float *c0,
                  float *y, float *h_out, float *c_out)
{
    float *gate;
    int32_t b, s, g, j;
    if (!effc_rnn_f32_ok(dims, p)) {
        return EFFC_ERR_ARG;
    }
    gate = (float *)effc_scratch_get(scratch, effc_rnn_f32_scratch_size(dims, 4));
    if (gate == NULL) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < dims->batches; b++) {
        const int32_t n_h = dims->hidden, n_i = dims->input_size;
        float *h = h_out + (size_t)b * (size_t)n_h, *c = c_out + (size_t)b * (size_t)n_h;
        __builtin_memcpy(h, h0 + (size_t)b * (size_t)n_h, (size_t)n_h * sizeof(float));
        __builtin_memcpy(c, c0 + (size_t)b * (size_t)n_h, (size_t)n_h * sizeof(float));
        for (s = 0; s < dims->steps; s++) {
            int alive;
            const int32_t t = effc_step(dims, p, b, s, &alive);
            const float *xt = x + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_i;
            float *yt = y + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_h;
            if (!alive) {
                for (j = 0; j < n_h; j++) {
                    yt[j] = 0.0f;
                }
                continue;
            }
            for (g = 0; g < 4; g++) {
                for (j = 0; j < n_h; j++) {
                    const size_t row = (size_t)g * (size_t)n_h + (size_t)j;
                    gate[row] = effc_dotf(w + row * (size_t)n_i, xt, n_i) +
                                effc_dotf(r + row * (size_t)n_h, h, n_h) + bias[row];
                }
            }
            for (j = 0; j < n_h; j++) {
                const float pi = peephole != NULL ? peephole[j] * c[j] : 0.0f;
                const float pf = peephole != NULL ? peephole[n_h + j] * c[j] : 0.0f;
                const float i_ = effc_sigmoidf(effc_clipf(gate[j] + pi, p->clip));
                const float f_ = p->input_forget
                                     ? 1.0f - i_
                                     : effc_sigmoidf(effc_clipf(gate[n_h + j] + pf, p->clip));
                const float cell = f_ * c[j] +
                                   i_ * effc_tanhf(effc_clipf(gate[2 * n_h + j], p->clip));
                const float po = peephole != NULL ? peephole[2 * n_h + j] * cell : 0.0f;
                const float o_ = effc_sigmoidf(effc_clipf(gate[3 * n_h + j] + po, p->clip));
                c[j] = cell;
                gate[j] = o_ * effc_tanhf(cell); /* the new hidden value, written below */
            }
            for (j = 0; j < n_h; j++) {
                h[j] = gate[j];
                yt[j] = gate[j];
            }
        }
    }
    return EFFC_OK;
}

int effc_gru_f32(const effc_scratch *scratch, const effc_rnn_dims *dims,
                 const effc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                 const float *wb, const float *rb, const float *h0, float *y, float *h_out)
{
    float *gate;
    int32_t b, s, j, k;
    if (!effc_rnn_f32_ok(dims, p)) {
        return EFFC_ERR_ARG;
    }
    gate = (float *)effc_scratch_get(scratch, effc_rnn_f32_scratch_size(dims, 3));
    if (gate == NULL) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < dims->batches; b++) {
        const int32_t n_h = dims->hidden, n_i = dims->input_size;
        float *h = h_out + (size_t)b * (size_t)n_h;
        float *upd = gate, *rst = gate + n_h, *cand = gate + 2 * n_h;
        __builtin_memcpy(h, h0 + (size_t)b * (size_t)n_h, (size_t)n_h * sizeof(float));
        for (s = 0; s < dims->steps; s++) {
            int alive;
            const int32_t t = effc_step(dims, p, b, s, &alive);
            const float *xt = x + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_i;
            float *yt = y + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_h;
            if (!alive) {
                for (j = 0; j < n_h; j++) {
                    yt[j] = 0.0f;
                }
                continue;
            }
            for (j = 0; j < n_h; j++) {
                const size_t zr = (size_t)j, rr = (size_t)(n_h + j);
                upd[j] = effc_sigmoidf(effc_clipf(
                    effc_dotf(w + zr * (size_t)n_i, xt, n_i) + wb[zr] +
                    effc_dotf(r + zr * (size_t)n_h, h, n_h) + rb[zr], p->clip));
                rst[j] = effc_sigmoidf(effc_clipf(
                    effc_dotf(w + rr * (size_t)n_i, xt, n_i) + wb[rr] +
                    effc_dotf(r + rr * (size_t)n_h, h, n_h) + rb[rr], p->clip));
            }
            for (j = 0; j < n_h; j++) {
                const size_t hr = (size_t)(2 * n_h + j);
                const float *rrow = r + hr * (size_t)n_h;
                float rec = 0.0f;
                if (p->linear_before_reset) {
                    rec = rst[j] * (effc_dotf(rrow, h, n_h) + rb[hr]);
                } else {
                    for (k = 0; k < n_h; k++) {
                        rec += rrow[k] * (rst[k] * h[k]);
                    }
                    rec += rb[hr];
                }
                cand[j] = effc_tanhf(effc_clipf(effc_dotf(w + hr * (size_t)n_i, xt, n_i) +
                                                 wb[hr] + rec, p->clip));
            }
            for (j = 0; j < n_h; j++) {
                h[j] = (1.0f - upd[j]) * cand[j] + upd[j] * h[j];
                yt[j] = h[j];
            }
        }
    }
    return EFFC_OK;
}

int effc_rnn_f32(const effc_scratch *scratch, const effc_rnn_dims *dims,
                 const effc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                 const float *bias, const float *h0, float *y, float *h_out)
{
    float *next;
    int32_t b, s, j;
    if (!effc_rnn_f32_ok(dims, p)) {
        return EFFC_ERR_ARG;
    }
    next = (float *)effc_scratch_get(scratch, effc_rnn_f32_scratch_size(dims, 1));
    if (next == NULL) {
        return EFFC_ERR_ARG;
    }
    for (b = 0; b < dims->batches; b++) {
        const int32_t n_h = dims->hidden, n_i = dims->input_size;
        float *h = h_out + (size_t)b * (size_t)n_h;
        __builtin_memcpy(h, h0 + (size_t)b * (size_t)n_h, (size_t)n_h * sizeof(float));
        for (s = 0; s < dims->steps; s++) {
            int alive;
            const int32_t t = effc_step(dims, p, b, s, &alive);
            const float *xt = x + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_i;
            float *yt = y + ((size_t)b * (size_t)dims->steps + (size_t)t) * (size_t)n_h;
            for (j = 0; j < n_h && alive; j++) {
                const float v = effc_clipf(effc_dotf(w + (size_t)j * (size_t)n_i, xt, n_i) +
                                           effc_dotf(r + (size_t)j * (size_t)n_h, h, n_h) +
                                           bias[j], p->clip);
                next[j] = p->activation == EFFC_RNN_RELU ? (v > 0.0f ? v : 0.0f)
                          : p->activation == EFFC_RNN_SIGMOID ? effc_sigmoidf(v)
                                                              : effc_tanhf(v);
            }
            for (j = 0; j < n_h; j++) {
                if (alive) {
                    h[j] = next[j];
                }
                yt[j] = alive ? h[j] : 0.0f;
            }
        }
    }
    return EFFC_OK;
}
