/*
 * effc_hls_eltwise.h - element-wise layers: lookup-table activations,
 * requantization, and the binary ops Add, Sub, Mul and PRelu with broadcasting.
 *
 * Exact int8 arithmetic mirroring TFLM's reference kernels (and effc's C
 * kernels in effc_elementwise_s8.c) through the shared effc_requant.h:
 *   ADD/SUB  ((q - zp) << LEFT_SHIFT) scaled by each input's multiplier, summed
 *            (or subtracted) with int32 wrap-around, scaled by the output
 *            multiplier, plus the output zero point, clamped;
 *   MUL      (q1 - zp1) * (q2 - zp2) scaled by the output multiplier, clamped;
 *   PRELU    x - zp >= 0 scaled by M1, else (x - zp) * (alpha - zp_alpha) by M2.
 *
 * Every operand that has the output's shape streams in, LANES values per
 * beat. A broadcast operand is smaller: it is read whole into a buffer
 * first (SRC_BUFFER) or is a constant array (binary_const), and indexed with
 * the output's 4-D position times its strides (0 along broadcast axes).
 */
#ifndef EFFC_HLS_ELTWISE_H
#define EFFC_HLS_ELTWISE_H

#include "effc_hls_stream.h"
#include "effc_requant.h"

namespace effc_hls {

/* 256-entry table activation, table[q + 128]. Config: COUNT, LANES. COUNT / LANES cycles. */
template <class C>
void lut(stream<vec<int8_t, C::LANES> > &in, stream<vec<int8_t, C::LANES> > &out,
         const int8_t table[256])
{
    for (int i = 0; i < C::COUNT / C::LANES; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        const vec<int8_t, C::LANES> x = in.read();
        vec<int8_t, C::LANES> y;
        for (int l = 0; l < C::LANES; l++) {
            y.v[l] = table[x.v[l] + 128];
        }
        out.write(y);
    }
}

/* int8 -> int8 at another scale (TFLM Requantize). Config: COUNT, LANES,
 * INPUT_ZERO_POINT, OUTPUT_ZERO_POINT, MULTIPLIER, SHIFT. */
template <class C>
void requantize(stream<vec<int8_t, C::LANES> > &in, stream<vec<int8_t, C::LANES> > &out)
{
    for (int i = 0; i < C::COUNT / C::LANES; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        const vec<int8_t, C::LANES> x = in.read();
        vec<int8_t, C::LANES> y;
        for (int l = 0; l < C::LANES; l++) {
            y.v[l] = effc_requant_to_s8(x.v[l] - C::INPUT_ZERO_POINT,
                                        effc_requant_make(C::MULTIPLIER, C::SHIFT),
                                        C::OUTPUT_ZERO_POINT, -128, 127);
        }
        out.write(y);
    }
}

enum { BINARY_ADD = 0, BINARY_SUB = 1, BINARY_MUL = 2, BINARY_PRELU = 3 };
enum { SRC_STREAM = 0, SRC_BUFFER = 1 };

/* One output value from its two int8 operands. Config: KIND, ZP1, ZP2, ZP_OUT,
 * M1, S1, M2, S2 (input multipliers of ADD/SUB, the two of PRELU), M_OUT, S_OUT,
 * LEFT_SHIFT, ACTIVATION_MIN, ACTIVATION_MAX. */
template <class C>
static inline int8_t binary_value(int32_t x1, int32_t x2)
{
    if (C::KIND == BINARY_MUL) {
        return effc_requant_to_s8((x1 - C::ZP1) * (x2 - C::ZP2),
                                  effc_requant_make(C::M_OUT, C::S_OUT), C::ZP_OUT,
                                  C::ACTIVATION_MIN, C::ACTIVATION_MAX);
    }
    if (C::KIND == BINARY_PRELU) {
        const int32_t v = x1 - C::ZP1;
        const int32_t y = v >= 0 ? effc_requant_apply(v, effc_requant_make(C::M1, C::S1))
                                 : effc_requant_apply(v * (x2 - C::ZP2),
                                                      effc_requant_make(C::M2, C::S2));
        return (int8_t)effc_clamp_i32(y + C::ZP_OUT, -128, 127);
    }
    const int32_t s1 = effc_requant_apply(effc_wrap_shl(x1 - C::ZP1, C::LEFT_SHIFT),
                                          effc_requant_make(C::M1, C::S1));
    const int32_t s2 = effc_requant_apply(effc_wrap_shl(x2 - C::ZP2, C::LEFT_SHIFT),
                                          effc_requant_make(C::M2, C::S2));
    const int32_t raw = C::KIND == BINARY_SUB ? (int32_t)((uint32_t)s1 - (uint32_t)s2)
                                              : effc_wrap_add(s1, s2);
    return effc_requant_to_s8(raw, effc_requant_make(C::M_OUT, C::S_OUT), C::ZP_OUT,
                              C::ACTIVATION_MIN, C::ACTIVATION_MAX);
}

/* The output's 4-D position (D0..D3, outermost first), one element at a time. */
template <class C>
struct position {
    int i[4];
    position() { i[0] = i[1] = i[2] = i[3] = 0; }
    int offset(int s0, int s1, int s2, int s3) const
    {
        return i[0] * s0 + i[1] * s1 + i[2] * s2 + i[3] * s3;
    }
    void next()
    {
        if (++i[3] < C::D3) return;
        i[3] = 0;
        if (++i[2] < C::D2) return;
        i[2] = 0;
        if (++i[1] < C::D1) return;
        i[1] = 0;
        ++i[0];
    }
};

/* Read a broadcast operand whole (SIZE values in beats of L). */
template <int SIZE, int L>
void read_whole(stream<vec<int8_t, L> > &in, int8_t buffer[SIZE])
{
    for (int i = 0; i < SIZE / L; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        const vec<int8_t, L> x = in.read();
        for (int l = 0; l < L; l++) {
            buffer[i * L + l] = x.v[l];
        }
    }
}

/*
 * Two activations. Config: COUNT (output values), LANES, D0..D3, and per operand
 * A_SRC, A_LANES, A_SIZE, A_S0..A_S3 (the same for B): an SRC_STREAM operand has
 * the output's shape and A_LANES == LANES; an SRC_BUFFER operand is read whole
 * first. Plus the binary_value fields. COUNT / LANES cycles (+ buffered reads).
 */
template <class C>
void binary(stream<vec<int8_t, C::A_LANES> > &a, stream<vec<int8_t, C::B_LANES> > &b,
            stream<vec<int8_t, C::LANES> > &out)
{
    static int8_t buffer_a[C::A_SIZE];
    static int8_t buffer_b[C::B_SIZE];
    if (C::A_SRC == SRC_BUFFER) {
        read_whole<C::A_SIZE, C::A_LANES>(a, buffer_a);
    }
    if (C::B_SRC == SRC_BUFFER) {
        read_whole<C::B_SIZE, C::B_LANES>(b, buffer_b);
    }
    position<C> at;
    for (int i = 0; i < C::COUNT / C::LANES; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        vec<int8_t, C::A_LANES> xa;
        vec<int8_t, C::B_LANES> xb;
        if (C::A_SRC == SRC_STREAM) {
            xa = a.read();
        }
        if (C::B_SRC == SRC_STREAM) {
            xb = b.read();
        }
        vec<int8_t, C::LANES> y;
        for (int l = 0; l < C::LANES; l++) {
            const int32_t x1 = C::A_SRC == SRC_STREAM
                                   ? xa.v[l] : buffer_a[at.offset(C::A_S0, C::A_S1, C::A_S2, C::A_S3)];
            const int32_t x2 = C::B_SRC == SRC_STREAM
                                   ? xb.v[l] : buffer_b[at.offset(C::B_S0, C::B_S1, C::B_S2, C::B_S3)];
            y.v[l] = binary_value<C>(x1, x2);
            at.next();
        }
        out.write(y);
    }
}

/*
 * An activation and a constant (operand 1 when CONST_FIRST, else operand 2).
 * Config: COUNT, LANES, D0..D3, A_SRC, A_LANES, A_SIZE, A_S0..A_S3 (the
 * activation), K_SIZE, K_S0..K_S3 (the constant), CONST_FIRST, and the
 * binary_value fields.
 */
template <class C>
void binary_const(stream<vec<int8_t, C::A_LANES> > &a, stream<vec<int8_t, C::LANES> > &out,
                  const int8_t constant[C::K_SIZE])
{
    static int8_t buffer_a[C::A_SIZE];
    if (C::A_SRC == SRC_BUFFER) {
        read_whole<C::A_SIZE, C::A_LANES>(a, buffer_a);
    }
    position<C> at;
    for (int i = 0; i < C::COUNT / C::LANES; i++) {
#pragma HLS PIPELINE II=1
        EFFC_HLS_TICK(1);
        vec<int8_t, C::A_LANES> xa;
        if (C::A_SRC == SRC_STREAM) {
            xa = a.read();
        }
        vec<int8_t, C::LANES> y;
        for (int l = 0; l < C::LANES; l++) {
            const int32_t x = C::A_SRC == SRC_STREAM
                                  ? xa.v[l] : buffer_a[at.offset(C::A_S0, C::A_S1, C::A_S2, C::A_S3)];
            const int32_t k = constant[at.offset(C::K_S0, C::K_S1, C::K_S2, C::K_S3)];
            y.v[l] = C::CONST_FIRST ? binary_value<C>(k, x) : binary_value<C>(x, k);
            at.next();
        }
        out.write(y);
    }
}

}  // namespace effc_hls

#endif /* EFFC_HLS_ELTWISE_H */
