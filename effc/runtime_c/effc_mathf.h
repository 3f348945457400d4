/*
 * effc_mathf.h - float32 exp, tanh and log1p without libm (Cephes-style
 * polynomials and series, about 1-2 ulp). Internal to the runtime.
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
