/* golayout.c - runtime layouts per Go version. */
#include "golayout.h"

golayout golayout_of(int minor)
{
    int m = minor > 0 ? minor : GOLAYOUT_NEWEST_TESTED;
    golayout l = {
        .minor = minor > 0 ? minor : 0,
        .tested = minor >= GOLAYOUT_OLDEST_TESTED && minor <= GOLAYOUT_NEWEST_TESTED,
        .syncmap = m >= 24 ? GOLAYOUT_SYNCMAP_TRIE
                 : m >= 20 ? GOLAYOUT_SYNCMAP_POINTER
                           : GOLAYOUT_SYNCMAP_VALUE,
        .maps = m >= 24 ? GOLAYOUT_MAP_SWISS : GOLAYOUT_MAP_HMAP,
        .malloc_headers = m >= 22,
        .weak_handles = m >= 24,
        .weak_box = m >= 26,
        .cleanups = m >= 24,
    };
    return l;
}
