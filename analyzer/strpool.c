/* strpool.c - string interning over one growing buffer. */
#include "strpool.h"

#include <string.h>

#include "vec.h"

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

uint32_t strpool_intern(strpool *p, const char *s, size_t n)
{
    uint64_t h = hash_bytes(s, n);
    /* Probe successive hash values on collision of different strings. */
    for (uint64_t k = h;; k++) {
        uint32_t off;
        if (!u64map_get(&p->index, k, &off))
            break;
        if (strlen(p->bytes + off) == n && memcmp(p->bytes + off, s, n) == 0)
            return off;
    }
    if (p->len + n + 1 > UINT32_MAX ||
        vec_reserve((void **)&p->bytes, &p->cap, p->len + n + 1, 1) < 0)
        return UINT32_MAX;
    uint32_t off = (uint32_t)p->len;
    memcpy(p->bytes + off, s, n);
    p->bytes[off + n] = '\0';
    p->len += n + 1;
    uint64_t k = h;
    uint32_t dummy;
    while (u64map_get(&p->index, k, &dummy))
        k++;
    if (u64map_put(&p->index, k, off) < 0)
        return UINT32_MAX;
    return off;
}

void strpool_release(strpool *p)
{
    free(p->bytes);
    p->bytes = NULL;
    p->len = p->cap = 0;
    u64map_release(&p->index);
}
