/*
 * effc_dw_taps.h - a channel's walk job (effc_dw_walk_job, effc_dw_internal.h) from its
 * prepared record and 3x3 taps: what the DSP depthwise body (effc_dw_dsp.c, its only
 * includer) reads of a record, and the doubled taps, 2 * bias and round the walks
 * (effc_dw_dsp_asm.c) take, or with EFFC_DW_RQ_SHIFT the same scaled by 2^(K - s).
 */
#ifndef EFFC_DW_TAPS_H
#define EFFC_DW_TAPS_H

#include "effc_dw_internal.h"

#if defined(EFFC_USE_DSP)

#if !EFFC_DW_RQ_SHIFT
static int32_t effc_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16));
}

/* Taps w[0] and w[1], doubled, as (low half, high half): one halfword load,
 * w[1] copied to byte 2 (ORR), SXTB16 (bytes 0 and 2) and SADD16. */
static int32_t effc_dw_taps2(const int8_t *w)
{
    uint16_t v;
    int32_t t;
    __builtin_memcpy(&v, w, sizeof v);
    t = __sxtb16((uint32_t)v | (uint32_t)v << 8);
    return __sadd16(t, t);
}
#else
/* Taps w[0] and w[1] times c = 2^e (e <= 1 + EFFC_DW_D_MAX: int16; beyond, with
 * multiplier 0, what they wrap to is multiplied by 0), as (low half, high half): the
 * halfword load, ORR, SXTB16 as effc_dw_taps2, then SMULBB, SMULTB and PKHBT (effc_pkhbt16: GCC
 * makes UXTH and ORR of the C). */
static int32_t effc_dw_taps_scaled(const int8_t *w, int32_t c)
{
    uint16_t v;
    int32_t t;
    __builtin_memcpy(&v, w, sizeof v);
    t = __sxtb16((uint32_t)v | (uint32_t)v << 8);
    return effc_pkhbt16(__smlabb(t, c, 0), __smlatb(t, c, 0));
}
#endif

/* What the walks read of a prepared record (effc_requant.h, effc_rq_fast;
 * through the effc_rq_* accessors): the only place this body reads one. bias,
 * multiplier and s1 are the fast form's; a general record's channel takes
 * effc_dw_channel_of instead, and so does one whose shift EFFC_DW_RQ_SHIFT's
 * walks cannot take (effc_dw_internal.h: d = K - s in 1..EFFC_DW_D_MAX, or
 * d >= 1 with multiplier 0). */
typedef struct {
    int32_t bias, multiplier, s1; /* s1: the fast form's right shift - 1 */
    int general;                  /* the record needs the general requantization */
} effc_dw_record;

static effc_dw_record effc_dw_record_of(const effc_channel_rq *r)
{
    effc_dw_record d;
    d.bias = effc_rq_bias2(r) >> 1;
    d.multiplier = effc_rq_multiplier(r);
    d.s1 = effc_rq_s1(r);
    d.general = effc_rq_is_general(r);
#if EFFC_DW_RQ_SHIFT
    {
        const int32_t dk = EFFC_DW_RQ_SHIFT - 1 - d.s1; /* d = K - s */
        d.general |= dk < 1 || (dk > EFFC_DW_D_MAX && d.multiplier != 0);
    }
#endif
    return d;
}

/* EFFC_DW_SPEED: effc_dw_walk_prepare inlined (its calls, twice a channel pair, cost a
 * quarter of it). */
#if EFFC_DW_SPEED
#define EFFC_DW_PREPARE_INLINE __attribute__((always_inline)) inline
#else
#define EFFC_DW_PREPARE_INLINE
#endif

/* The walk job of one output channel (its plane and output are set per band;
 * the rest by effc_dw_walk_init); whether the record is general (the job
 * then does not apply). */
static EFFC_DW_PREPARE_INLINE int
effc_dw_walk_prepare(effc_dw_walk_job *job, const effc_dw_conv_params *p,
                     const effc_channel_rq *r, const int8_t *w)
{
    const effc_dw_record rec = effc_dw_record_of(r);
    const int32_t s1 = rec.s1;
#if EFFC_DW_RQ_SHIFT
    /* the one-shift form (effc_dw_internal.h): taps and bias times 2^(1+d), d = K - s,
     * and R' (K - 1 - s1 is d, s1 + 1 = s) */
    const int32_t d = EFFC_DW_RQ_SHIFT - 1 - s1;
    const int32_t c = 2 << d;
    if (rec.general) {
        return 1;
    }
    job->w01[0] = effc_dw_taps_scaled(w, c);
    job->w01[1] = effc_dw_taps_scaled(w + 3, c);
    job->w01[2] = effc_dw_taps_scaled(w + 6, c);
    job->w2ab = effc_pkhbt16(__smlabb(w[2], c, 0), __smlabb(w[5], c, 0));
    job->w2c_s = effc_pkhbt16(s1 | job->cols << 8, __smlabb(w[8], c, 0)); /* cols < 256 */
    job->bias2 = (int32_t)((uint32_t)rec.bias * (uint32_t)c);
    job->m = rec.multiplier;
    job->round = (int32_t)(((uint32_t)(2 * p->output_zero_point + 1) << (EFFC_DW_RQ_SHIFT - 1)) +
                           ((uint32_t)c >> 2));
#else
    job->w01[0] = effc_dw_taps2(w);
    job->w01[1] = effc_dw_taps2(w + 3);
    job->w01[2] = effc_dw_taps2(w + 6);
    job->w2ab = effc_pack16(2 * w[2], 2 * w[5]);
    job->w2c_s = effc_pack16(s1 | job->cols << 8, 2 * w[8]); /* cols < 256 */
    job->bias2 = (int32_t)((uint32_t)rec.bias << 1);
    job->m = rec.multiplier;
    job->round = (int32_t)((uint32_t)(2 * p->output_zero_point + 1) << s1);
#endif
    return rec.general;
}

#endif

#endif /* EFFC_DW_TAPS_H */
