/* memclass.h - the memory classes every heap byte falls in, and what a finalizer really
 * retains.
 *
 * Liveness (live.h) says how the GC treats each node; a user asks a simpler question: which
 * bytes are in use, which are held only because of finalizers that will never run, which
 * wait for a finalizer that will run, and which are garbage. Each heap object is in exactly
 * one class (report_class):
 *
 *   in use                 reachable from the program roots (LIVE_IN_USE);
 *   finalizer-held         a finalizer-pinned object, or anything marked only through
 *                          finalizer roots that a pinned object or its finalizer's closure
 *                          reaches: kept forever;
 *   pending finalization   an object pending finalization and what only pending finalizers
 *                          keep: freed once they have run;
 *   garbage                marked by nothing.
 *
 * Retained bytes of a set of finalizers (memclass_retained): what would be freed if those
 * finalizers were removed. The GC scans every finalizer object and marks its funcval whether
 * or not anything reaches them, so a not-in-use node survives the removal exactly when the
 * roots of the other finalizers reach it (their objects' referents and funcvals). The answer is
 * every not-in-use node the set's objects and funcvals reach that the others do not. The
 * dominator tree cannot give this: its finalizer roots scan an object's referents, so a pinned
 * object's buffers hang from the virtual root, not from the object.
 *
 * Cost: one BFS over the not-in-use nodes to classify; per memclass_retained call two more,
 * plus a bitset of node-count bits.
 */
#ifndef MEMCLASS_H
#define MEMCLASS_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "hs_error.h"
#include "live.h"
#include "report.h"

typedef struct memclass memclass;

/* Classifies every node of g from its liveness and the finalizer specials (as given to
 * live_compute). g, live and specials are borrowed and must outlive the result. Free with
 * memclass_free. */
int memclass_compute(const graph *g, const live_result *live, const live_special *specials,
                     size_t nspecials, memclass **out, hs_error *err);

/* Frees a result (NULL is accepted). */
void memclass_free(memclass *c);

/* The class of node v (REPORT_CLASS_GARBAGE when out of range). */
report_class memclass_of(const memclass *c, uint32_t v);

/* Bytes that freeing the finalizers of the specials in[0..n-1] (indexes into the specials
 * given to memclass_compute) would free: see the header comment. *out receives the sum of
 * the sizes of those nodes, restricted to nodes below `limit` (the heap objects). */
int memclass_retained(const memclass *c, const uint32_t *in, size_t n, uint32_t limit,
                      uint64_t *out, hs_error *err);

#endif
