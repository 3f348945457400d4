/*
 * effc_mathf.h - float32 exp and tanh without libm (Cephes-style polynomials,
 * about 1-2 ulp). Internal to the runtime.
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

#endif /* EFFC_MATHF_H */
