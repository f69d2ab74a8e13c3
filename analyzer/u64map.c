/* u64map.c - linear-probing hash map, power-of-two capacity, load factor <= 1/2. */
#include "u64map.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static size_t find(const u64map *m, uint64_t stored)
{
    size_t i = slot_of(stored, m->cap);
    while (m->keys[i] && m->keys[i] != stored)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int grow(u64map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    u64map n = {calloc(ncap, sizeof(uint64_t)), malloc(ncap * sizeof(uint32_t)), ncap, m->used};
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = find(&n, m->keys[i]);
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

int u64map_get(const u64map *m, uint64_t key, uint32_t *val)
{
    if (!m->cap)
        return 0;
    size_t i = find(m, key + 1);
    if (!m->keys[i])
        return 0;
    *val = m->vals[i];
    return 1;
}

uint32_t *u64map_upsert(u64map *m, uint64_t key, uint32_t init)
{
    if ((m->used + 1) * 2 > m->cap && grow(m) < 0)
        return NULL;
    size_t i = find(m, key + 1);
    if (!m->keys[i]) {
        m->keys[i] = key + 1;
        m->vals[i] = init;
        m->used++;
    }
    return &m->vals[i];
}

int u64map_put(u64map *m, uint64_t key, uint32_t val)
{
    uint32_t *v = u64map_upsert(m, key, val);
    if (!v)
        return -1;
    *v = val;
    return 0;
}

void u64map_release(u64map *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->used = 0;
}
