/* strpool.h - interned strings: each distinct string is stored once and named by a uint32
 * offset; lookups of repeated names (frame functions, type names) cost one hash probe. */
#ifndef STRPOOL_H
#define STRPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

typedef struct strpool {
    char *bytes;
    size_t len, cap;
    u64map index; /* hash of string -> offset (collisions are resolved by comparing bytes) */
} strpool;

/* Returns the offset of the interned copy of s[0..n), or UINT32_MAX when out of memory. */
uint32_t strpool_intern(strpool *p, const char *s, size_t n);

/* The NUL-terminated string at an offset returned by strpool_intern. */
static inline const char *strpool_get(const strpool *p, uint32_t off)
{
    return p->bytes + off;
}

/* Frees the pool's memory. */
void strpool_release(strpool *p);

#endif
