/* fields.h - a typed value's leaf fields with their values decoded (for `heapsift show`):
 * ints, bools, floats, strings' headers, pointers, slices' headers, interfaces' types, walked
 * through structs and arrays in the order Go lays them out.
 */
#ifndef FIELDS_H
#define FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "typetab.h"

/* One leaf (a field that is not a struct or array) of a value. */
typedef struct fields_leaf {
    char expr[160];    /* ".Name", ".items[2].key", "[3]" (the Go expression from the value) */
    const char *type;  /* its Go type's name, borrowed from the typetab */
    uint64_t offset;   /* bytes from the value's start */
    uint8_t kind;      /* typetab_kind */
    char value[128];   /* "42", "true", "0x1f53743e4008", "nil", "len 3 cap 4 0x...", "" */
    uint64_t ptr;      /* the pointer word (pointers, a string's or slice's data), else 0 */
    uint64_t len;      /* a string's length, a slice's */
} fields_leaf;

/* Walks count values of type `type` over bytes [0, len) (little-endian words of ptr_size) and
 * fills up to max leaves into out (an array of max); stops early when the bytes end. Arrays
 * show their first 8 elements. Returns the number of leaves filled. */
size_t fields_walk(const typetab *tt, uint32_t type, uint64_t count, const uint8_t *bytes,
                   size_t len, unsigned ptr_size, fields_leaf *out, size_t max);

#endif
