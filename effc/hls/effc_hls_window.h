/*
 * effc_hls_window.h - the sliding-window generator (line buffer) of convolutions
 * and pools, 1-D (H = 1) and 2-D, with stride, dilation and padding.
 *
 * It reads an N x H x W x CH image in raster order, IN_LANES channels per beat,
 * into a line buffer of SPAN_H padded rows, and as soon as the bottom-right tap
 * of an output position's window has arrived it writes that window, so a
 * window leaves one padded pixel after its data came in (FINN's
 * ConvolutionInputGenerator). Padded positions hold PAD_VALUE, positions of a
 * pool's ceil-mode overhang (beyond the explicit pads) OVERHANG_VALUE.
 *
 * Window orders (what the consumer reads):
 *   ORDER_CONV       for each group g, the group's window flattened as (kh, kw, c)
 *                    in beats of OUT_LANES: part of one tap's CG channels, or
 *                    whole taps (a matrix-vector unit, effc_hls_mvau.h);
 *   ORDER_DEPTHWISE  for each block of PE channels, for each block of TAPS taps:
 *                    one beat of TAPS x PE values, v[t * PE + p] (the
 *                    vector-vector unit and the pools).
 *
 * Config (every value computed by effc's Python emitter):
 *   N, H, W, CH, OH, OW, KH, KW, STRIDE_H, STRIDE_W, DIL_H, DIL_W,
 *   PAD_T, PAD_L, PAD_B, PAD_R      geometry (explicit pads)
 *   SPAN_H, SPAN_W                  (K - 1) * DIL + 1
 *   FRAME_H, FRAME_W                padded rows/columns visited: every input
 *                                   pixel and every window
 *   IN_LANES, OUT_LANES             beat widths (IN_LANES divides CH)
 *   ORDER, GROUPS, CG               ORDER_CONV: CG = CH / GROUPS; OUT_LANES divides CG,
 *                                   or is a multiple of CG dividing KH * KW * CG
 *   PE, TAPS                        ORDER_DEPTHWISE: OUT_LANES = TAPS * PE
 *   PAD_VALUE, OVERHANG_VALUE
 */
#ifndef EFFC_HLS_WINDOW_H
#define EFFC_HLS_WINDOW_H

#include "effc_hls_stream.h"

namespace effc_hls {

enum { ORDER_CONV = 0, ORDER_DEPTHWISE = 1 };

template <class C>
void window_write(int8_t lines[C::SPAN_H][C::FRAME_W][C::CH], int top, int left,
                  stream<vec<int8_t, C::OUT_LANES> > &out)
{
    if (C::ORDER == ORDER_CONV) {
        for (int g = 0; g < C::GROUPS; g++) {
            for (int b = 0; b < C::KH * C::KW * C::CG / C::OUT_LANES; b++) {
#pragma HLS PIPELINE II=1
                EFFC_HLS_TICK(1);
                vec<int8_t, C::OUT_LANES> beat;
                for (int l = 0; l < C::OUT_LANES; l++) {
                    const int e = b * C::OUT_LANES + l; /* (kh, kw, c) of the group's window */
                    const int tap = e / C::CG;
                    const int8_t *px = lines[(top + (tap / C::KW) * C::DIL_H) % C::SPAN_H]
                                            [left + (tap % C::KW) * C::DIL_W];
                    beat.v[l] = px[g * C::CG + e % C::CG];
                }
                out.write(beat);
            }
        }
    } else {
        for (int cb = 0; cb < C::CH / C::PE; cb++) {
            for (int tb = 0; tb < C::KH * C::KW / C::TAPS; tb++) {
#pragma HLS PIPELINE II=1
                EFFC_HLS_TICK(1);
                vec<int8_t, C::OUT_LANES> beat;
                for (int t = 0; t < C::TAPS; t++) {
                    const int tap = tb * C::TAPS + t;
                    const int8_t *px = lines[(top + (tap / C::KW) * C::DIL_H) % C::SPAN_H]
                                            [left + (tap % C::KW) * C::DIL_W];
                    for (int p = 0; p < C::PE; p++) {
                        beat.v[t * C::PE + p] = px[cb * C::PE + p];
                    }
                }
                out.write(beat);
            }
        }
    }
}

template <class C>
void sliding_window(stream<vec<int8_t, C::IN_LANES> > &in, stream<vec<int8_t, C::OUT_LANES> > &out)
{
    static int8_t lines[C::SPAN_H][C::FRAME_W][C::CH];
#pragma HLS ARRAY_PARTITION variable=lines cyclic factor=C::OUT_LANES dim=3
    for (int n = 0; n < C::N; n++) {
        for (int r = 0; r < C::FRAME_H; r++) {
            for (int c = 0; c < C::FRAME_W; c++) {
                int8_t *px = lines[r % C::SPAN_H][c];
                const int row = r - C::PAD_T;
                const int col = c - C::PAD_L;
                if (row >= 0 && row < C::H && col >= 0 && col < C::W) {
                    for (int b = 0; b < C::CH / C::IN_LANES; b++) {
#pragma HLS PIPELINE II=1
                        EFFC_HLS_TICK(1);
                        const vec<int8_t, C::IN_LANES> beat = in.read();
                        for (int l = 0; l < C::IN_LANES; l++) {
                            px[b * C::IN_LANES + l] = beat.v[l];
                        }
                    }
                } else {
                    EFFC_HLS_TICK(1); /* the whole padded pixel in one cycle */
                    const bool padding = r < C::PAD_T + C::H + C::PAD_B &&
                                         c < C::PAD_L + C::W + C::PAD_R;
                    for (int ch = 0; ch < C::CH; ch++) {
#pragma HLS UNROLL
                        px[ch] = (int8_t)(padding ? C::PAD_VALUE : C::OVERHANG_VALUE);
                    }
                }
                const int top = r - (C::SPAN_H - 1);
                const int left = c - (C::SPAN_W - 1);
                if (top >= 0 && left >= 0 && top % C::STRIDE_H == 0 && left % C::STRIDE_W == 0 &&
                    top / C::STRIDE_H < C::OH && left / C::STRIDE_W < C::OW) {
                    window_write<C>(lines, top, left, out);
                }
            }
        }
    }
}

}  // namespace effc_hls

#endif /* EFFC_HLS_WINDOW_H */
