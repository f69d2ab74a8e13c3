/* test_addrindex - the rank bitmap against a linear scan, on random heaps of aligned objects
 * (gaps, neighbours, objects spanning blocks, huge objects), plus the heaps it must refuse. */
#include <stdio.h>
#include <stdlib.h>

#include "addrindex.h"
#include "check.h"

static uint32_t brute_find(const uint64_t *addr, const uint64_t *size, uint32_t n, uint64_t a)
{
    for (uint32_t i = 0; i < n; i++)
        if (a >= addr[i] && a - addr[i] < size[i])
            return i;
    return ADDRINDEX_NONE;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int main(void)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    enum { MAXN = 300 };
    uint64_t addr[MAXN], size[MAXN];
    for (int round = 0; round < 400; round++) {
        uint32_t n = 1 + (uint32_t)(rnd(&seed) % MAXN);
        uint64_t at = 0xc000000000ull + 8 * (rnd(&seed) % 4096);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t kind = rnd(&seed) % 16;
            size[i] = kind == 0 ? 8 * (1 + rnd(&seed) % 20000) : 8 * (1 + rnd(&seed) % 64);
            at += rnd(&seed) % 3 == 0 ? 8 * (rnd(&seed) % 600) : 0; /* a gap, or a neighbour */
            addr[i] = at;
            at += size[i];
        }
        addrindex *x;
        CHECK(addrindex_build(addr, size, n, (size_t)1 << 30, &x) == 0 && x);
        if (!x)
            continue;
        uint64_t lo = addr[0] >= 4096 ? addr[0] - 4096 : 0, hi = at + 4096;
        for (int q = 0; q < 2000; q++) {
            uint64_t a = lo + rnd(&seed) % (hi - lo);
            if (q % 3 == 0) /* exact starts, last bytes and one past the end */
                a = addr[rnd(&seed) % n] + (q % 2 ? 0 : size[rnd(&seed) % n] - 1);
            uint32_t want = brute_find(addr, size, n, a);
            CHECK_EQ_U64(addrindex_find(x, a), want);
            CHECK_EQ_U64(addrindex_is_start(x, a), want != ADDRINDEX_NONE && addr[want] == a);
        }
        addrindex_free(x);
    }
    /* Heaps the index refuses (the caller then searches): misaligned, odd size, empty object,
     * a span too sparse for the budget. */
    uint64_t a1[2] = {0x1000, 0x2004}, s1[2] = {16, 16};
    uint64_t a2[2] = {0x1000, 0x2000}, s2[2] = {16, 12};
    uint64_t a3[2] = {0x1000, 0x2000}, s3[2] = {0, 16};
    uint64_t a4[2] = {0x1000, 0x100000000000ull}, s4[2] = {16, 16};
    addrindex *x = (addrindex *)1;
    CHECK(addrindex_build(a1, s1, 2, 1 << 20, &x) == 0 && !x);
    CHECK(addrindex_build(a2, s2, 2, 1 << 20, &x) == 0 && !x);
    CHECK(addrindex_build(a3, s3, 2, 1 << 20, &x) == 0 && !x);
    CHECK(addrindex_build(a4, s4, 2, 1 << 20, &x) == 0 && !x);
    return check_report();
}
