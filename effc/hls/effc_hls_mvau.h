/*
 * effc_hls_mvau.h - the compute units: matrix-vector (convolution, grouped
 * convolution, dense) and vector-vector (depthwise convolution), folded by PE
 * and SIMD, and the requantization stage behind both.
 *
 * Exact int8 arithmetic with TFLite Micro semantics: the units multiply raw
 * int8 activations by int8 weights (two multiplies per DSP) and accumulate
 * modulo 2^32; the input zero point enters through the bias, which effc's
 * emitter precomputes as bias - zp_in * sum(weights) (mod 2^32, so the result
 * equals TFLM's sum((x - zp_in) * w) + bias bit for bit). Padded taps hold the
 * input zero point, so they contribute nothing, as TFLM skips them.
 */
#ifndef EFFC_HLS_MVAU_H
#define EFFC_HLS_MVAU_H

#include "effc_hls_stream.h"
#include "effc_requant.h"

namespace effc_hls {

static inline int32_t wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/*
 * Matrix-vector unit. For each of ROWS input vectors, for each group g, the
 * group's vector of SF * SIMD values arrives once (SF beats of SIMD) and is
 * kept in a buffer while NF neuron folds of PE output channels each take SF
 * cycles: ROWS * GROUPS * NF * SF cycles at II = 1, PE * SIMD multipliers.
 * Writes one beat of PE int32 accumulators (bias added) per neuron fold, in
 * output-channel order o = (g * NF + nf) * PE + p.
 *
 * Config: ROWS, GROUPS, NF, SF, PE, SIMD, TILES (= GROUPS * NF * SF).
 * weights[p][(g * NF + nf) * SF + sf][s] is weight (o, sf * SIMD + s) of the
 * group's vector; bias[p][g * NF + nf] the folded bias of o.
 */
template <class C>
void mvau(stream<vec<int8_t, C::SIMD> > &in, stream<vec<int32_t, C::PE> > &out,
          const int8_t weights[C::PE][C::TILES][C::SIMD], const int32_t bias[C::PE][C::GROUPS * C::NF])
{
    vec<int8_t, C::SIMD> buffer[C::SF];
    uint32_t acc[C::PE] = {};
#pragma HLS ARRAY_PARTITION variable=acc complete
    for (int r = 0; r < C::ROWS; r++) {
        for (int g = 0; g < C::GROUPS; g++) {
            for (int nf = 0; nf < C::NF; nf++) {
                for (int sf = 0; sf < C::SF; sf++) {
#pragma HLS PIPELINE II=1
                    EFFC_HLS_TICK(1);
                    vec<int8_t, C::SIMD> x;
                    if (nf == 0) {
                        x = in.read();
                        buffer[sf] = x;
                    } else {
                        x = buffer[sf];
                    }
                    const int tile = (g * C::NF + nf) * C::SF + sf;
                    for (int p = 0; p < C::PE; p++) {
                        uint32_t dot = 0;
                        for (int s = 0; s < C::SIMD; s++) {
                            dot += (uint32_t)((int32_t)weights[p][tile][s] * (int32_t)x.v[s]);
                        }
                        acc[p] = (sf == 0 ? 0u : acc[p]) + dot;
                    }
                    if (sf == C::SF - 1) {
                        vec<int32_t, C::PE> y;
                        for (int p = 0; p < C::PE; p++) {
                            y.v[p] = wrap_add((int32_t)acc[p], bias[p][g * C::NF + nf]);
                        }
                        out.write(y);
                    }
                }
            }
        }
    }
}

/*
 * Vector-vector unit (depthwise convolution, depth multiplier M). For each of
 * ROWS windows (ORDER_DEPTHWISE beats of TAPS x PE from the window
 * generator), PE channels in parallel: for each block cf of PE channels the
 * block's KF beats arrive once and are kept while the M multipliers take KF
 * cycles each: ROWS * CF * M * KF cycles (plus ROWS * CF * M when M > 1),
 * PE * TAPS multipliers. Output channel o = c * M + m (TFLM's order); the
 * block's PE * M accumulators leave as M beats of PE in that order (with M = 1
 * each beat leaves as soon as it is complete).
 *
 * Config: ROWS, CF (= CH / PE), M, KF (= K / TAPS), PE, TAPS, TILES (= CF * M * KF).
 * weights[p][(cf * M + m) * KF + kf][t] is tap kf * TAPS + t of channel
 * c = cf * PE + p, multiplier m; bias[p][cf * M + m] the folded bias.
 */
template <class C>
void vvau(stream<vec<int8_t, C::TAPS * C::PE> > &in, stream<vec<int32_t, C::PE> > &out,
          const int8_t weights[C::PE][C::TILES][C::TAPS], const int32_t bias[C::PE][C::CF * C::M])
{
    vec<int8_t, C::TAPS * C::PE> buffer[C::KF];
    uint32_t acc[C::PE] = {};
    int32_t block[C::M][C::PE] = {};
#pragma HLS ARRAY_PARTITION variable=acc complete
#pragma HLS ARRAY_PARTITION variable=block complete dim=2
    for (int r = 0; r < C::ROWS; r++) {
        for (int cf = 0; cf < C::CF; cf++) {
            for (int m = 0; m < C::M; m++) {
                for (int kf = 0; kf < C::KF; kf++) {
#pragma HLS PIPELINE II=1
                    EFFC_HLS_TICK(1);
                    vec<int8_t, C::TAPS * C::PE> x;
                    if (m == 0) {
                        x = in.read();
                        buffer[kf] = x;
                    } else {
                        x = buffer[kf];
                    }
                    const int tile = (cf * C::M + m) * C::KF + kf;
                    for (int p = 0; p < C::PE; p++) {
                        uint32_t dot = 0;
                        for (int t = 0; t < C::TAPS; t++) {
                            dot += (uint32_t)((int32_t)weights[p][tile][t] *
                                              (int32_t)x.v[t * C::PE + p]);
                        }
                        acc[p] = (kf == 0 ? 0u : acc[p]) + dot;
                        if (kf == C::KF - 1) {
                            block[m][p] = wrap_add((int32_t)acc[p], bias[p][cf * C::M + m]);
                        }
                    }
                    if (C::M == 1 && kf == C::KF - 1) {
                        vec<int32_t, C::PE> y;
                        for (int p = 0; p < C::PE; p++) {
                            y.v[p] = block[0][p];
                        }
                        out.write(y);
                    }
                }
            }
            for (int j = 0; j < C::M && C::M > 1; j++) {
#pragma HLS PIPELINE II=1
                EFFC_HLS_TICK(1);
                vec<int32_t, C::PE> y;
                for (int q = 0; q < C::PE; q++) {
                    const int o = j * C::PE + q; /* within the block: channel o / M, multiplier o % M */
                    y.v[q] = block[o % C::M][o / C::M];
                }
                out.write(y);
            }
        }
    }
}

/*
 * Requantization of accumulators to int8 (TFLM MultiplyByQuantizedMultiplier,
 * double rounding, then the output zero point and the activation clamp),
 * per output channel. For each of ROWS pixels CH / PE beats of PE accumulators
 * arrive; UNITS requantizers serve them, II = PE / UNITS cycles per beat
 * (effc's folding gives the unit in front PE / UNITS cycles or more per beat).
 *
 * Config: ROWS, CH, PE, UNITS, II, OUTPUT_ZERO_POINT, ACTIVATION_MIN, ACTIVATION_MAX.
 */
template <class C>
void requantize_acc(stream<vec<int32_t, C::PE> > &in, stream<vec<int8_t, C::PE> > &out,
                    const int32_t multiplier[C::CH], const int32_t shift[C::CH])
{
    for (int r = 0; r < C::ROWS; r++) {
        for (int cb = 0; cb < C::CH / C::PE; cb++) {
#pragma HLS PIPELINE II=C::II
            EFFC_HLS_TICK(C::II);
            const vec<int32_t, C::PE> x = in.read();
            vec<int8_t, C::PE> y;
            for (int p = 0; p < C::PE; p++) {
                const int ch = cb * C::PE + p;
                y.v[p] = effc_requant_to_s8(x.v[p], effc_requant_make(multiplier[ch], shift[ch]),
                                            C::OUTPUT_ZERO_POINT, C::ACTIVATION_MIN,
                                            C::ACTIVATION_MAX);
            }
            out.write(y);
        }
    }
}

}  // namespace effc_hls

#endif /* EFFC_HLS_MVAU_H */
