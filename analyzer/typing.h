/* typing.h - Go types for the heap from the binary's DWARF (a typetab): typed roots (globals,
 * stack variables at the frame's pc, closure contexts) and the runtime's own evidence (malloc
 * headers, finalizers, interface words) are carried along the pointer graph through struct
 * fields, arrays, slices, strings, maps and channels (docs/heap-model.md "Types").
 *
 * A type is given to an object only when it fits: its size fits the object's slot and its
 * pointer words agree with the object's pointer layout (typing_fits). Evidence that does not
 * fit is refused, so a stale word never types an object. When evidence conflicts, the most
 * specific wins: the runtime's (header, finalizer, interface) over a declared type (global,
 * stack variable) over one carried through a field; the object's heap_type_src says which.
 */
#ifndef TYPING_H
#define TYPING_H

#include <stdint.h>

#include "heap.h"
#include "hs_error.h"
#include "typetab.h"

/* What typing did, for the report. */
typedef struct typing_stats {
    uint64_t refused;   /* evidence refused because the type did not fit the object */
    uint64_t untyped;   /* runtime evidence (heap types) DWARF could not name, kept as is */
} typing_stats;

/* Types the heap's objects and anonymous statics from tt (borrowed: it must outlive h, which
 * keeps it as h->tt). Objects typed before (heap_build's runtime evidence) are checked against
 * the table and lose a type that does not fit. Needs the forward graph only. Returns HS_OK or
 * HS_ERR_NOMEM with err set. */
int typing_run(heap *h, const typetab *tt, typing_stats *st, hs_error *err);

/* Whether count values of type id, from the object's start, fit object obj: 1 or 0. */
int typing_fits(const heap *h, uint32_t obj, uint32_t id, uint64_t count);

/* The Go expression of byte `offset` inside a value of type id (".entries[12].Order", "[3]",
 * "" for offset 0 of a non-struct) into buf; for count > 1 values (a backing array) the
 * element index comes first. Returns buf, or NULL when the offset falls in no named field. */
const char *typing_field_expr(const typetab *tt, uint32_t id, uint64_t count, uint64_t offset,
                              char *buf, size_t cap);

/* The Go expression of the pointer at `field` of a node (the edge field: slot offset of an
 * object, offset from a global's symbol or from a frame's sp) into buf: ".entries[12].Order"
 * for a typed object or global, "sessions[3]" (the variable's name first) for a stack frame or
 * a closure's captured variable. Returns buf, or NULL when no type names it. */
const char *typing_node_field(const heap *h, uint32_t node, uint64_t field, char *buf, size_t cap);

/* The DWARF type of the part of anonymous static `node` holding byte `at` (typed by a named
 * global's pointer to it), with *start where that part begins; HEAP_NONE when none. */
uint32_t typing_static_part(const heap *h, uint32_t node, uint64_t at, uint64_t *start);

#endif
