/* test_hs_crc32.c - hs_crc32_update against zlib's crc32() over every length up to 1 KiB at
 * every alignment of a 16-byte lane, large buffers, chained calls and known values. */
#include <stdlib.h>
#include <zlib.h>

#include "check.h"
#include "hs_crc32.h"

static uint32_t zcrc(uint32_t crc, const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(crc, p, (uInt)n);
}

int main(void)
{
    size_t cap = (size_t)3 << 20;
    uint8_t *buf = malloc(cap + 64);
    CHECK(buf != NULL);
    if (!buf)
        return check_report();
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < cap + 64; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    /* the check value of the CRC catalogue, and the empty string */
    CHECK_EQ_U64(hs_crc32_update(0, (const uint8_t *)"123456789", 9), 0xcbf43926);
    CHECK_EQ_U64(hs_crc32_update(0, buf, 0), 0);
    int bad = 0;
    for (size_t align = 0; align < 16; align++)
        for (size_t n = 0; n <= 1024; n++)
            bad += hs_crc32_update(0, buf + align, n) != zcrc(0, buf + align, n);
    CHECK_EQ_U64(bad, 0);
    /* all zeros and all ones, where a wrong constant still often shows */
    uint8_t z[256] = {0}, o[256];
    memset(o, 0xff, sizeof o);
    CHECK_EQ_U64(hs_crc32_update(0, z, sizeof z), zcrc(0, z, sizeof z));
    CHECK_EQ_U64(hs_crc32_update(0, o, sizeof o), zcrc(0, o, sizeof o));
    /* large, odd lengths, and continued from a CRC */
    size_t sizes[] = {cap, cap - 1, cap - 17, 65536 + 5, 1000003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t want = zcrc(0, buf + 3, sizes[i]);
        CHECK_EQ_U64(hs_crc32_update(0, buf + 3, sizes[i]), want);
        uint32_t c = hs_crc32_update(0, buf + 3, 1000);
        CHECK_EQ_U64(hs_crc32_update(c, buf + 1003, sizes[i] - 1000), want);
    }
    free(buf);
    return check_report();
}
