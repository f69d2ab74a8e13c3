/* hs_crc32.c - CRC-32 by carry-less multiplication, or zlib's (see hs_crc32.h). */
#include "hs_crc32.h"

#include <zlib.h>

/* zlib's crc32() over any length (its length is an uInt). */
static uint32_t crc_zlib(uint32_t crc, const uint8_t *p, size_t n)
{
    uLong c = crc;
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define FOLD_MIN 64 /* below this zlib's table is as fast */

/* The CRC register (pre-inverted, as in the paper) over n bytes, n >= 64 and a multiple of
 * 16: four 128-bit lanes folded 64 bytes at a time, folded into one, then 16 bytes at a time,
 * then reduced to 32 bits (Barrett). The constants are x^k mod P(x) for the bit-reflected
 * polynomial 0xEDB88320, as given at the end of the paper. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t fold(uint32_t crc, const uint8_t *p,
                                                               size_t n)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 0x00));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 0x10));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 0x20));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
        __m128i x5 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        __m128i x6 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        __m128i x7 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        __m128i x8 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i *)(p + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i *)(p + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i *)(p + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i *)(p + 0x30)));
        p += 64;
        n -= 64;
    }
    /* four lanes into one */
    const __m128i lanes[3] = {x2, x3, x4};
    for (int i = 0; i < 3; i++) {
        __m128i x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, lanes[i]), x5);
    }
    while (n >= 16) {
        __m128i x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, _mm_loadu_si128((const __m128i *)p)), x5);
        p += 16;
        n -= 16;
    }
    /* 128 bits to 64 */
    __m128i x2r = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2r);
    x2r = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, low32);
    x1 = _mm_clmulepi64_si128(x1, k5k0, 0x00);
    x1 = _mm_xor_si128(x1, x2r);
    /* Barrett reduction to 32 bits */
    x2r = _mm_and_si128(x1, low32);
    x2r = _mm_clmulepi64_si128(x2r, poly, 0x10);
    x2r = _mm_and_si128(x2r, low32);
    x2r = _mm_clmulepi64_si128(x2r, poly, 0x00);
    x1 = _mm_xor_si128(x1, x2r);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

uint32_t hs_crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    static int have = -1; /* the same answer from every thread: a benign race */
    if (have < 0)
        have = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    if (!have || n < FOLD_MIN)
        return crc_zlib(crc, p, n);
    size_t body = n & ~(size_t)15;
    crc = ~fold(~crc, p, body);
    return crc_zlib(crc, p + body, n - body);
}

#else

uint32_t hs_crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    return crc_zlib(crc, p, n);
}

#endif
