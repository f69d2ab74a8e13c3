/* typeinfo.h - type guesses over the heap model: which type names say something about a
 * program's values, and which shapes (size and pointer layout) belong to a single type, so
 * that an untyped object of such a shape very likely is one.
 *
 * Depends on the heap model only: the analysis builds it once the containers have named
 * their internal objects (role labels are types too), and the detectors and describe.c read
 * it.
 */
#ifndef TYPEINFO_H
#define TYPEINFO_H

#include <stdint.h>

#include "heap.h"
#include "hs_error.h"

/* typeinfo_shape_owner's answer for a shape that typed objects of several types have. */
#define TYPEINFO_SHAPE_MIXED (HEAP_NONE - 1)

typedef struct typeinfo typeinfo;

/* Records, per shape of h, the one type its typed objects have (closures count as a type of
 * their own). h is borrowed and must outlive *out; the caller frees *out with typeinfo_free.
 * Fails only with HS_ERR_NOMEM. */
int typeinfo_build(const heap *h, typeinfo **out, hs_error *err);

/* Frees ti (NULL is accepted). */
void typeinfo_free(typeinfo *ti);

/* The one type (index into h->types) the typed objects of `shape` have; HEAP_NONE when no
 * typed object has it, TYPEINFO_SHAPE_MIXED when several types do (then the shape says
 * nothing). */
uint32_t typeinfo_shape_owner(const typeinfo *ti, uint32_t shape);

/* For an untyped object whose size and pointer layout only objects of one distinctive type
 * have: that type's name (borrowed from the heap's string pool); else NULL (also when ti is
 * NULL). */
const char *typeinfo_shape_type(const typeinfo *ti, uint32_t obj);

/* 1 for a named program type worth matching values by (not a builtin such as string or int,
 * nor runtime, sync, reflect or internal types that match unrelated objects everywhere);
 * else 0 (also for NULL). */
int typeinfo_distinctive(const char *type_name);

#endif
