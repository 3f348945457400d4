/*
 * effc_hls_pool.h - max and average pooling over windows (from the window
 * generator in ORDER_DEPTHWISE), and global pooling over a whole image.
 *
 * TFLM semantics: MaxPool takes the largest value (padding holds -128 and
 * never wins; a window over padding only gives -128). AveragePool sums raw int8
 * values and divides with TFLite's rounding, (s + c/2) / c for s > 0, else
 * (s - c/2) / c, C truncating division; c counts the window's taps that count
 * (in-bounds taps, or with ONNX count_include_pad the taps inside the padded
 * input, which hold the zero point); a window with nothing to count gives the
 * zero point. Both clamp to [ACTIVATION_MIN, ACTIVATION_MAX].
 */
#ifndef EFFC_HLS_POOL_H
#define EFFC_HLS_POOL_H

#include "effc_hls_stream.h"

namespace effc_hls {

enum { POOL_MAX = 0, POOL_AVERAGE = 1 };

static inline int32_t pool_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* TFLite's rounded average of a sum of `count` values (count > 0). */
static inline int32_t rounded_average(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/*
 * Config: N, OH, OW, CF (= CH / PE), KF (= KH * KW / TAPS), PE, TAPS, MODE,
 * ZERO_POINT, ACTIVATION_MIN, ACTIVATION_MAX. count_h[oh] * count_w[ow] is
 * the number of counted taps of window (oh, ow) (average pooling).
 * N * OH * OW * CF * KF cycles.
 */
template <class C>
void pool(stream<vec<int8_t, C::TAPS * C::PE> > &in, stream<vec<int8_t, C::PE> > &out,
          const int16_t count_h[C::OH], const int16_t count_w[C::OW])
{
    int32_t acc[C::PE] = {};
#pragma HLS ARRAY_PARTITION variable=acc complete
    for (int n = 0; n < C::N; n++) {
        for (int oh = 0; oh < C::OH; oh++) {
            for (int ow = 0; ow < C::OW; ow++) {
                const int32_t count = (int32_t)count_h[oh] * (int32_t)count_w[ow];
                for (int cf = 0; cf < C::CF; cf++) {
                    for (int kf = 0; kf < C::KF; kf++) {
#pragma HLS PIPELINE II=1
                        EFFC_HLS_TICK(1);
                        const vec<int8_t, C::TAPS * C::PE> x = in.read();
                        for (int p = 0; p < C::PE; p++) {
                            int32_t a = kf == 0 ? (C::MODE == POOL_MAX ? -128 : 0) : acc[p];
                            for (int t = 0; t < C::TAPS; t++) {
                                const int32_t v = x.v[t * C::PE + p];
                                a = C::MODE == POOL_MAX ? (v > a ? v : a) : a + v;
                            }
                            acc[p] = a;
                        }
                        if (kf == C::KF - 1) {
                            vec<int8_t, C::PE> y;
                            for (int p = 0; p < C::PE; p++) {
                                int32_t v = acc[p];
                                if (C::MODE == POOL_AVERAGE) {
                                    v = count > 0 ? rounded_average(v, count) : C::ZERO_POINT;
                                }
                                y.v[p] = (int8_t)pool_clamp(v, C::ACTIVATION_MIN, C::ACTIVATION_MAX);
                            }
                            out.write(y);
                        }
                    }
                }
            }
        }
    }
}

/*
 * Global pooling: the max or rounded average of each channel over the
 * PIXELS pixels of each of N images, read in raster order, LANES channels per
 * beat; the CH results leave as beats of LANES. N * (PIXELS + 1) * CH / LANES cycles.
 * Config: N, PIXELS, CH, LANES, MODE, ACTIVATION_MIN, ACTIVATION_MAX.
 */
template <class C>
void global_pool(stream<vec<int8_t, C::LANES> > &in, stream<vec<int8_t, C::LANES> > &out)
{
    int32_t acc[C::CH];
#pragma HLS ARRAY_PARTITION variable=acc cyclic factor=C::LANES
    for (int n = 0; n < C::N; n++) {
        for (int px = 0; px < C::PIXELS; px++) {
            for (int cb = 0; cb < C::CH / C::LANES; cb++) {
#pragma HLS PIPELINE II=1
                EFFC_HLS_TICK(1);
                const vec<int8_t, C::LANES> x = in.read();
                for (int l = 0; l < C::LANES; l++) {
                    const int ch = cb * C::LANES + l;
                    const int32_t v = x.v[l];
                    if (px == 0) {
                        acc[ch] = v;
                    } else if (C::MODE == POOL_MAX) {
                        acc[ch] = v > acc[ch] ? v : acc[ch];
                    } else {
                        acc[ch] += v;
                    }
                }
            }
        }
        for (int cb = 0; cb < C::CH / C::LANES; cb++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            vec<int8_t, C::LANES> y;
            for (int l = 0; l < C::LANES; l++) {
                int32_t v = acc[cb * C::LANES + l];
                if (C::MODE == POOL_AVERAGE) {
                    v = rounded_average(v, C::PIXELS);
                }
                y.v[l] = (int8_t)pool_clamp(v, C::ACTIVATION_MIN, C::ACTIVATION_MAX);
            }
            out.write(y);
        }
    }
}

}  // namespace effc_hls

#endif /* EFFC_HLS_POOL_H */
