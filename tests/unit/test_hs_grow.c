/* Unit tests for hs_grow: capacities double from the first size until they hold what is
 * needed, contents survive a move, and an overflowing request leaves the array, its capacity
 * and the contents as they were and sets the failure flag (which it never clears). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "hs_grow.h"

int main(void)
{
    uint32_t *a = NULL;
    size_t cap = 0;
    int fail = 0;

    a = hs_grow(a, &cap, 0, sizeof *a, 16, &fail); /* nothing needed: nothing allocated */
    CHECK(a == NULL && cap == 0 && !fail);

    a = hs_grow(a, &cap, 1, sizeof *a, 16, &fail);
    CHECK(a != NULL && !fail);
    CHECK_EQ_U64(cap, 16);
    for (uint32_t i = 0; i < 16; i++)
        a[i] = i * 7;

    uint32_t *same = hs_grow(a, &cap, 16, sizeof *a, 16, &fail); /* fits: unchanged */
    CHECK(same == a && !fail);
    CHECK_EQ_U64(cap, 16);

    a = hs_grow(a, &cap, 17, sizeof *a, 16, &fail);
    CHECK(!fail);
    CHECK_EQ_U64(cap, 32);
    a = hs_grow(a, &cap, 100, sizeof *a, 16, &fail); /* doubles as often as it takes */
    CHECK(!fail);
    CHECK_EQ_U64(cap, 128);
    int kept = 1;
    for (uint32_t i = 0; i < 16; i++)
        kept &= a[i] == i * 7;
    CHECK(kept);

    /* Too large for size_t: a fails unchanged, and the flag stays set for a later success. */
    uint32_t *before = a;
    a = hs_grow(a, &cap, SIZE_MAX / 2, sizeof *a, 16, &fail);
    CHECK(a == before && fail);
    CHECK_EQ_U64(cap, 128);
    a = hs_grow(a, &cap, SIZE_MAX, 1, 16, &fail);
    CHECK(a == before);
    CHECK_EQ_U64(cap, 128);
    a = hs_grow(a, &cap, 129, sizeof *a, 16, &fail);
    CHECK(fail);
    CHECK_EQ_U64(cap, 256);
    kept = 1;
    for (uint32_t i = 0; i < 16; i++)
        kept &= a[i] == i * 7;
    CHECK(kept);
    free(a);

    /* A first size of 1 byte-array grows 1, 2, 4, ... */
    char *s = NULL;
    size_t scap = 0;
    fail = 0;
    s = hs_grow(s, &scap, 3, 1, 1, &fail);
    CHECK(s != NULL && !fail);
    CHECK_EQ_U64(scap, 4);
    free(s);
    return check_report();
}
