/* placeexpr.h - the place a Go expression names in the heap: "main.srv.sessions.items" is the
 * global main.srv, then its fields through pointers (Go dereferences them) and embedded
 * structs (promoted fields: .items of a go-cache Cache is .cache.items), down to a value with
 * its node, offset and type. It lets a user name a container the way the code does.
 */
#ifndef PLACEEXPR_H
#define PLACEEXPR_H

#include <stdint.h>

#include "heap.h"
#include "hs_error.h"

/* A value in the heap: `offset` bytes (as the program sees them) into node (a global or a heap
 * object), of DWARF type `type` (a typetab id). */
typedef struct placeexpr_place {
    uint32_t node;
    uint64_t offset;
    uint32_t type;
} placeexpr_place;

/* Resolves expr. HS_ERR_NOTFOUND with a message naming the part that does not resolve (no such
 * global, no such field, a nil pointer on the way), HS_ERR_UNSUPPORTED without DWARF types. */
int placeexpr_resolve(const heap *h, const char *expr, placeexpr_place *out, hs_error *err);

/* The node a pointer-shaped value at place p points to (a map header, a slice's backing
 * array, a pointee), or GRAPH_NONE. */
uint32_t placeexpr_target(const heap *h, const placeexpr_place *p);

#endif
