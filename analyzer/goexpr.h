/* goexpr.h - the Go expressions users read for places in the heap: a field of a typed value
 * (".entries[12].Order"), a stack variable ("sessions[3]"), a closure's captured variable, a
 * part of a global or anonymous static, from the DWARF types typing.c gave the heap.
 */
#ifndef GOEXPR_H
#define GOEXPR_H

#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "typetab.h"

/* The Go expression of byte `offset` inside a value of type id (".entries[12].Order", "[3]",
 * "" for offset 0 of a non-struct) into buf; for count > 1 values (a backing array) the
 * element index comes first. Returns buf, or NULL when the offset falls in no named field. */
const char *goexpr_field(const typetab *tt, uint32_t id, uint64_t count, uint64_t offset,
                         char *buf, size_t cap);

/* The Go expression of the pointer at `field` of a node (the edge field: slot offset of an
 * object, offset from a global's symbol or from a frame's sp) into buf: ".entries[12].Order"
 * for a typed object or global, "sessions[3]" (the variable's name first) for a stack frame or
 * a closure's captured variable. Returns buf, or NULL when no type names it. */
const char *goexpr_node_field(const heap *h, uint32_t node, uint64_t field, char *buf, size_t cap);

/* goexpr_node_field for the value of Go type `type` ("sync.Map") that starts at `field`:
 * ".uploads", not ".uploads.m.inited". Returns buf, or NULL when no type names it. */
const char *goexpr_node_value(const heap *h, uint32_t node, uint64_t field, const char *type,
                              char *buf, size_t cap);

#endif
