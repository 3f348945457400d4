/*
 * effc_hls_layout.h - layers that move values without arithmetic: beat-width
 * conversion, stream fan-out, concatenation, and gather (Transpose and Pad).
 */
#ifndef EFFC_HLS_LAYOUT_H
#define EFFC_HLS_LAYOUT_H

#include "effc_hls_stream.h"

namespace effc_hls {

/* COUNT values from beats of IN_LANES to beats of OUT_LANES, where one width is
 * RATIO times the other (FINN's StreamingDataWidthConverter; effc's emitter goes
 * through the least common multiple for other pairs). One beat of the narrow
 * side per cycle: COUNT / min(IN_LANES, OUT_LANES) cycles.
 * Config: COUNT, IN_LANES, OUT_LANES, RATIO. */
template <class C>
void convert_width(stream<vec<int8_t, C::IN_LANES> > &in, stream<vec<int8_t, C::OUT_LANES> > &out)
{
    if (C::OUT_LANES >= C::IN_LANES) {
        vec<int8_t, C::OUT_LANES> y;
        for (int i = 0; i < C::COUNT / C::IN_LANES; i++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            const vec<int8_t, C::IN_LANES> x = in.read();
            const int k = i % C::RATIO;
            for (int l = 0; l < C::IN_LANES; l++) {
                y.v[k * C::IN_LANES + l] = x.v[l];
            }
            if (k == C::RATIO - 1) {
                out.write(y);
            }
        }
    } else {
        vec<int8_t, C::IN_LANES> x = vec<int8_t, C::IN_LANES>();
        for (int i = 0; i < C::COUNT / C::OUT_LANES; i++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            const int k = i % C::RATIO;
            if (k == 0) {
                x = in.read();
            }
            vec<int8_t, C::OUT_LANES> y;
            for (int l = 0; l < C::OUT_LANES; l++) {
                y.v[l] = x.v[k * C::OUT_LANES + l];
            }
            out.write(y);
        }
    }
}

/* A constant operand (of a concatenation) streamed out once per inference.
 * Config: COUNT, LANES. COUNT / LANES cycles. */
template <class C>
void constant(stream<vec<int8_t, C::LANES> > &out, const int8_t values[C::COUNT])
{
    for (int i = 0; i < C::COUNT / C::LANES; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        vec<int8_t, C::LANES> y;
        for (int l = 0; l < C::LANES; l++) {
            y.v[l] = values[i * C::LANES + l];
        }
        out.write(y);
    }
}

/* One stream to two (a value read by two layers, or a layer and an output
 * port). Config: BEATS, LANES. BEATS cycles. */
template <class C>
void duplicate(stream<vec<int8_t, C::LANES> > &in, stream<vec<int8_t, C::LANES> > &out1,
               stream<vec<int8_t, C::LANES> > &out2)
{
    for (int i = 0; i < C::BEATS; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        const vec<int8_t, C::LANES> x = in.read();
        out1.write(x);
        out2.write(x);
    }
}

/* Concatenation of two tensors along one axis: for each of OUTER positions in
 * front of the axis, INNER_A values of a then INNER_B values of b (the rest of
 * each tensor from the axis on). Config: OUTER, INNER_A, INNER_B, LANES
 * (dividing both). OUTER * (INNER_A + INNER_B) / LANES cycles. */
template <class C>
void concat(stream<vec<int8_t, C::LANES> > &a, stream<vec<int8_t, C::LANES> > &b,
            stream<vec<int8_t, C::LANES> > &out)
{
    for (int o = 0; o < C::OUTER; o++) {
        for (int i = 0; i < C::INNER_A / C::LANES; i++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            out.write(a.read());
        }
        for (int i = 0; i < C::INNER_B / C::LANES; i++) {
#pragma HLS PIPELINE II=1
            EFFC_HLS_TICK(1);
            out.write(b.read());
        }
    }
}

/* Gather: the whole input is read into a buffer, then every output value is
 * the input value at sum over axes a of offsets[BASE_a + i_a] (i_a the
 * output's index on axis a, 6 axes outermost first, sizes D0..D5), or VALUE
 * where an axis's entry is negative (Pad's constant). Transpose and Pad (any
 * mode) are such gathers; effc's emitter computes the offset tables.
 * Config: IN_SIZE, IN_LANES, OUT_SIZE, OUT_LANES, D0..D5, BASE0..BASE5,
 * TABLE (entries), VALUE. IN_SIZE / IN_LANES + OUT_SIZE / OUT_LANES cycles. */
template <class C>
void gather(stream<vec<int8_t, C::IN_LANES> > &in, stream<vec<int8_t, C::OUT_LANES> > &out,
            const int32_t offsets[C::TABLE])
{
    static int8_t buffer[C::IN_SIZE];
    for (int i = 0; i < C::IN_SIZE / C::IN_LANES; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        const vec<int8_t, C::IN_LANES> x = in.read();
        for (int l = 0; l < C::IN_LANES; l++) {
            buffer[i * C::IN_LANES + l] = x.v[l];
        }
    }
    const int dims[6] = {C::D0, C::D1, C::D2, C::D3, C::D4, C::D5};
    const int base[6] = {C::BASE0, C::BASE1, C::BASE2, C::BASE3, C::BASE4, C::BASE5};
    int at[6] = {0, 0, 0, 0, 0, 0};
    vec<int8_t, C::OUT_LANES> y;
    for (int o = 0; o < C::OUT_SIZE; o++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        int source = 0;
        bool constant = false;
        for (int a = 0; a < 6; a++) {
            const int32_t step = offsets[base[a] + at[a]];
            constant = constant || step < 0;
            source += step;
        }
        y.v[o % C::OUT_LANES] = constant ? (int8_t)C::VALUE : buffer[source];
        if (o % C::OUT_LANES == C::OUT_LANES - 1) {
            out.write(y);
        }
        for (int a = 5; a >= 0; a--) {
            if (++at[a] < dims[a]) {
                break;
            }
            at[a] = 0;
        }
    }
}

}  // namespace effc_hls

#endif /* EFFC_HLS_LAYOUT_H */
