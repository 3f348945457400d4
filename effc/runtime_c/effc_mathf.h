/*
 * effc_mathf.h - float32 exp, tanh, log, log1p, sqrt, erf, floor and pow without
 * libm (Cephes-style polynomials and series, Newton steps; about 1-2 ulp, erf within
 * 2e-7). Internal to the runtime.
 */
#ifndef EFFC_MATHF_H
#define EFFC_MATHF_H

#include <stdint.h>

/* x * 2^n for any int n (two steps keep subnormal results right). */
static inline float effc_ldexpf(float x, int32_t n)
{
    union {
        uint32_t u;
        float f;
    } s;
    while (n > 127) {
        x *= 1.70141183e38f; /* 2^127 */
        n -= 127;
    }
    while (n < -126) {
        x *= 1.17549435e-38f; /* 2^-126 */
        n += 126;
    }
    s.u = (uint32_t)(n + 127) << 23;
    return x * s.f;
}

static inline float effc_expf(float x)
{
    float r, p, fn;
    int32_t n;
    if (x != x) {
        return x;
    }
    if (x > 88.7228394f) {
        return __builtin_inff();
    }
    if (x < -103.972084f) {
        return 0.0f;
    }
    /* x = n ln2 + r, |r| <= ln2 / 2 */
    fn = x * 1.44269504f;
    n = (int32_t)(fn + (fn >= 0.0f ? 0.5f : -0.5f));
    fn = (float)n;
    r = x - fn * 0.693359375f;
    r = r + fn * 2.12194440e-4f;
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return effc_ldexpf(p, n);
}

static inline float effc_tanhf(float x)
{
    const float ax = x < 0.0f ? -x : x;
    float z;
    if (x != x) {
        return x;
    }
    if (ax < 0.625f) {
        const float s = x * x;
        z = -5.70498872745e-3f;
        z = z * s + 2.06390887954e-2f;
        z = z * s - 5.37397155531e-2f;
        z = z * s + 1.33314422036e-1f;
        z = z * s - 3.33332819422e-1f;
        return z * s * x + x;
    }
    if (ax > 9.0f) {
        return x < 0.0f ? -1.0f : 1.0f;
    }
    z = effc_expf(2.0f * ax);
    z = 1.0f - 2.0f / (z + 1.0f);
    return x < 0.0f ? -z : z;
}

/* x = m * 2^e with m in [0.5, 1), for finite x > 0 (subnormals scaled first). */
static inline float effc_frexpf(float x, int32_t *e)
{
    union {
        float f;
        uint32_t u;
    } v;
    int32_t bias = 0;
    v.f = x;
    if ((v.u & 0x7f800000u) == 0) {
        v.f = x * 16777216.0f; /* 2^24 */
        bias = -24;
    }
    *e = (int32_t)((v.u >> 23) & 0xffu) - 126 + bias;
    v.u = (v.u & 0x807fffffu) | 0x3f000000u;
    return v.f;
}

static inline float effc_logf(float x)
{
    float m, z, y;
    int32_t e;
    if (x != x || x < 0.0f) {
        return __builtin_nanf("");
    }
    if (x == 0.0f) {
        return -__builtin_inff();
    }
    if (x > 3.40282347e38f) {
        return x;
    }
    m = effc_frexpf(x, &e);
    if (m < 0.707106781f) {
        e -= 1;
        m = m + m - 1.0f;
    } else {
        m = m - 1.0f;
    }
    z = m * m;
    y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * (float)e;
    y += -0.5f * z;
    return m + y + 0.693359375f * (float)e;
}

/* Square root by Newton's method from an exponent-halving first guess. */
static inline float effc_sqrtf(float x)
{
    union {
        float f;
        uint32_t u;
    } v;
    float y;
    int i;
    if (x != x || x < 0.0f) {
        return __builtin_nanf("");
    }
    if (x == 0.0f || x > 3.40282347e38f) {
        return x;
    }
    v.f = x;
    v.u = (v.u >> 1) + 0x1fc00000u;
    y = v.f;
    for (i = 0; i < 4; i++) {
        y = 0.5f * (y + x / y);
    }
    return y;
}

/* floor for any float (beyond 2^23 every float is an integer). */
static inline float effc_floorf(float x)
{
    float t;
    if (x != x || x >= 8388608.0f || x <= -8388608.0f) {
        return x;
    }
    t = (float)(int32_t)x;
    return t > x ? t - 1.0f : t;
}

static inline float effc_erff(float x)
{
    const float ax = x < 0.0f ? -x : x;
    float t, p;
    if (x != x) {
        return x;
    }
    if (ax < 0.5f) { /* Taylor series: 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216) */
        const float s = x * x;
        p = 1.0f / 216.0f;
        p = p * s - 1.0f / 42.0f;
        p = p * s + 0.1f;
        p = p * s - 1.0f / 3.0f;
        p = p * s + 1.0f;
        return 1.12837917f * x * p;
    }
    if (ax > 6.0f) {
        return x < 0.0f ? -1.0f : 1.0f;
    }
    /* Abramowitz & Stegun 7.1.26 */
    t = 1.0f / (1.0f + 0.3275911f * ax);
    p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    p = 1.0f - p * t * effc_expf(-ax * ax);
    return x < 0.0f ? -p : p;
}

/* x^y as numpy's power: exact repeated squaring for integer y, else exp(y log x). */
static inline float effc_powf(float x, float y)
{
    if (x != x || y != y) {
        return __builtin_nanf("");
    }
    if (y == effc_floorf(y) && y <= 1024.0f && y >= -1024.0f) {
        int32_t n = (int32_t)(y < 0.0f ? -y : y);
        float base = x, r = 1.0f;
        while (n > 0) {
            if (n & 1) {
                r *= base;
            }
            base *= base;
            n >>= 1;
        }
        return y < 0.0f ? 1.0f / r : r;
    }
    if (x < 0.0f) {
        return __builtin_nanf("");
    }
    if (x == 0.0f) {
        return y > 0.0f ? 0.0f : __builtin_inff();
    }
    return effc_expf(y * effc_logf(x));
}

/* log(1 + t) for t >= 0: 1 + t = m * 2^e with m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716 (five terms of
 * the odd series, error below 1e-9). */
static inline float effc_log1pf(float t)
{
    float y = 1.0f + t, s, s2;
    int32_t e = 0;
    if (t != t || t > 3.0e38f) {
        return t;
    }
    while (y > 1.41421356f) {
        y *= 0.5f;
        e++;
    }
    s = e == 0 ? t / (2.0f + t) : (y - 1.0f) / (y + 1.0f);
    s2 = s * s;
    return 2.0f * s * (1.0f + s2 * (1.0f / 3.0f + s2 * (0.2f + s2 * (1.0f / 7.0f + s2 / 9.0f))))
           + (float)e * 0.693147181f;
}

#endif /* EFFC_MATHF_H */
