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



/* Word `off` of struct t: the field that holds it, or NULL (zero-size fields hold none). */
const typetab_field *typing_field_at(const typetab *tt, const typetab_type *t, uint64_t off);

/* The variable of frame f (at its pc) whose stack slot holds byte `at` (from sp), with *start
 * where the variable would begin (`at - *start` is the offset inside it); NULL when none. */
const typetab_var *typing_frame_var(const typetab *tt, const heap_aux *f, uint64_t at,
                                    uint64_t *start);

/* The captured variable of closure object obj holding program offset `at`, or NULL. */
/* The pointer type of a method value's receiver: closure object obj runs "pkg.(*T).m-fm",
 * which Go builds as {fn, receiver}, so its pointer word is a *T. TYPETAB_NONE for any other
 * closure, or when the type table has no *T (DWARF describes no context for these
 * wrappers). */
uint32_t typing_method_receiver(const heap *h, uint32_t obj);

const typetab_var *typing_closure_var(const heap *h, uint32_t obj, uint64_t at);

/* The DWARF type of the part of anonymous static `node` holding byte `at` (typed by a named
 * global's pointer to it), with *start where that part begins; HEAP_NONE when none. */
uint32_t typing_static_part(const heap *h, uint32_t node, uint64_t at, uint64_t *start);

#endif
