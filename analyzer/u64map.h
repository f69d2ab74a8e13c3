/* u64map.h - an open-addressing hash map from uint64 keys to uint32 values, for the address
 * and id lookups of the heap model (symbol -> node, itab -> type, shape hash -> shape). */
#ifndef U64MAP_H
#define U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct u64map {
    uint64_t *keys; /* key + 1; 0 marks an empty slot */
    uint32_t *vals;
    size_t cap, used;
} u64map;

/* Looks key up; returns 1 and sets *val when present, else 0. */
int u64map_get(const u64map *m, uint64_t key, uint32_t *val);

/* Inserts or replaces; returns 0, or -1 when out of memory. */
int u64map_put(u64map *m, uint64_t key, uint32_t val);

/* Returns a pointer to the value for key, inserting `init` when absent (NULL on OOM). */
uint32_t *u64map_upsert(u64map *m, uint64_t key, uint32_t init);

/* Frees the table's memory (the struct itself is the caller's). */
void u64map_release(u64map *m);

#endif
