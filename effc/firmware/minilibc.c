/*
 * minilibc.c - the four functions GCC may call even in freestanding code
 * (memcpy, memmove, memset, memcmp). Word-at-a-time where aligned.
 * Compiled without loop-to-libcall conversion, so they cannot call themselves.
 */
#include <stddef.h>
#include <stdint.h>

#define EFFC_LIBC __attribute__((optimize("no-tree-loop-distribute-patterns"), used))

EFFC_LIBC void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) {
            *(uint32_t *)(void *)d = *(const uint32_t *)(const void *)s;
        }
    }
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

EFFC_LIBC void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (d < s || d >= s + n) {
        return memcpy(dst, src, n);
    }
    while (n--) {
        d[n] = s[n];
    }
    return dst;
}

EFFC_LIBC void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const uint32_t w = (uint32_t)(unsigned char)c * 0x01010101u;
    while (n > 0 && ((uintptr_t)d & 3u) != 0) {
        *d++ = (unsigned char)c;
        n--;
    }
    for (; n >= 4; n -= 4, d += 4) {
        *(uint32_t *)(void *)d = w;
    }
    while (n--) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

EFFC_LIBC int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n > 0; n--, x++, y++) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}
