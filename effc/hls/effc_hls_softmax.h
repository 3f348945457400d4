/*
 * effc_hls_softmax.h - TFLite's int8 softmax over rows of DEPTH values (output
 * scale 1/256, zero point -128), bit-exact with TFLM's reference_ops::Softmax.
 *
 * An int8 row's differences to its maximum lie in [-255, 0], so the Q0.31
 * exponentials gemmlowp's exp_on_negative_values gives for them (after the
 * input-beta scaling to Q5.26) are a 256-entry table, exp_table[diff + 255],
 * which effc's emitter computes with effc's bit-exact fixed-point module. The
 * Q12.19 sum, its reciprocal (gemmlowp one_over_one_plus_x, shared C in
 * effc_fixedpoint.h) and the rounding of every output are computed here.
 * Differences below DIFF_MIN give -128.
 *
 * Config: ROWS, DEPTH, LANES, DIFF_MIN. Per row: DEPTH / LANES beats in, one
 * pass for the sum, DEPTH / LANES beats out (3 * DEPTH / LANES cycles).
 */
#ifndef EFFC_HLS_SOFTMAX_H
#define EFFC_HLS_SOFTMAX_H

#include "effc_fixedpoint.h"
#include "effc_hls_stream.h"

namespace effc_hls {

template <class C>
void softmax(stream<vec<int8_t, C::LANES> > &in, stream<vec<int8_t, C::LANES> > &out,
             const int32_t exp_table[256])
{
    int8_t row[C::DEPTH];
    for (int r = 0; r < C::ROWS; r++) {
        int32_t max_in_row = -128;
        for (int i = 0; i < C::DEPTH / C::LANES; i++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            const vec<int8_t, C::LANES> x = in.read();
            for (int l = 0; l < C::LANES; l++) {
                row[i * C::LANES + l] = x.v[l];
                max_in_row = x.v[l] > max_in_row ? x.v[l] : max_in_row;
            }
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int c = 0; c < C::DEPTH; c++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            const int32_t diff = row[c] - max_in_row;
            if (diff >= C::DIFF_MIN) {
                sum_of_exps = effc_wrap_add(
                    sum_of_exps, effc_rounding_divide_by_pot(exp_table[diff + 255], 12));
            }
        }
        /* tflite::GetReciprocal(sum_of_exps, 12, &num_bits_over_unit) */
        const int32_t headroom_plus_one = effc_clz32((uint32_t)sum_of_exps);
        const int32_t num_bits_over_unit = 12 - headroom_plus_one;
        const int32_t shifted_scale = effc_one_over_one_plus_x(
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1u << 31)));
        for (int i = 0; i < C::DEPTH / C::LANES; i++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            vec<int8_t, C::LANES> y;
            for (int l = 0; l < C::LANES; l++) {
                const int32_t diff = row[i * C::LANES + l] - max_in_row;
                int32_t value = -128;
                if (diff >= C::DIFF_MIN) {
                    const int32_t unsat = effc_rounding_divide_by_pot(
                        effc_srdhm(shifted_scale, exp_table[diff + 255]),
                        num_bits_over_unit + 31 - 8);
                    value = effc_clamp_i32(unsat - 128, -128, 127);
                }
                y.v[l] = (int8_t)value;
            }
            out.write(y);
        }
    }
}

}  // namespace effc_hls

#endif /* EFFC_HLS_SOFTMAX_H */
