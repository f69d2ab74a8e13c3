/* Unit tests for hs_search: lower and upper bounds on keys at an offset inside records, for
 * 32- and 64-bit keys, checked against a linear scan over every key around the stored ones. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "hs_search.h"

typedef struct rec {
    uint32_t pad;
    uint32_t k32;
    uint64_t k64;
} rec;

/* The answers by scanning: first index with key >= k (or > k when upper). */
static size_t scan(const rec *r, size_t n, int wide, uint64_t k, int upper)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = wide ? r[i].k64 : r[i].k32;
        if (upper ? v > k : v >= k)
            return i;
    }
    return n;
}

int main(void)
{
    /* duplicates, a gap, and keys at the ends of the ranges */
    static const uint64_t keys[] = {0, 3, 3, 3, 7, 10, 10, 4000000000u, UINT32_MAX};
    enum { N = sizeof keys / sizeof keys[0] };
    rec r[N];
    for (size_t i = 0; i < N; i++)
        r[i] = (rec){.pad = 0xdead, .k32 = (uint32_t)keys[i], .k64 = keys[i] << 8};

    for (size_t n = 0; n <= N; n++) { /* every prefix, the empty array included */
        for (uint64_t i = 0; i < N; i++) {
            uint64_t probes[] = {keys[i] ? keys[i] - 1 : 0, keys[i], keys[i] + 1};
            for (size_t p = 0; p < 3; p++) {
                uint64_t k = probes[p];
                CHECK_EQ_U64(hs_lower_bound32(r, n, sizeof *r, offsetof(rec, k32), (uint32_t)k),
                             scan(r, n, 0, (uint32_t)k, 0));
                CHECK_EQ_U64(hs_lower_bound64(r, n, sizeof *r, offsetof(rec, k64), k << 8),
                             scan(r, n, 1, k << 8, 0));
                CHECK_EQ_U64(hs_upper_bound64(r, n, sizeof *r, offsetof(rec, k64), k << 8),
                             scan(r, n, 1, k << 8, 1));
            }
        }
    }
    /* a plain array (offset 0), and a NULL array of length 0 */
    uint64_t plain[] = {1, 2, 4, 8};
    CHECK_EQ_U64(hs_lower_bound64(plain, 4, sizeof *plain, 0, 4), 2);
    CHECK_EQ_U64(hs_upper_bound64(plain, 4, sizeof *plain, 0, 4), 3);
    CHECK_EQ_U64(hs_upper_bound64(plain, 4, sizeof *plain, 0, 9), 4);
    CHECK_EQ_U64(hs_lower_bound64(NULL, 0, 8, 0, 5), 0);
    return check_report();
}
