/* detectors.h - the finding detectors, one file each (finpin.c, cycles.c, ghost.c,
 * tombstone.c). Each reads the analysis context (heap model, liveness, type guesses,
 * containers) and adds grouped findings with findings_note; none parses bytes or prints.
 * Each returns HS_OK, or a negative status with err saying what failed; the findings added
 * until then stay in the caller's findings (findings_release frees them).
 */
#ifndef DETECTORS_H
#define DETECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "findings.h"
#include "hs_error.h"
#include "scc.h"
#include "subgraph.h"

/* Finalizer-pinned objects (docs/heap-model.md "Roots and liveness"): one finding per
 * (reason, finalizer function, object type). */
int finpin_detect(analysis *a, findings *out, hs_error *err);

/* The strongly connected components among the objects that lie between closures (what the
 * closures reach and what reaches them), where every closure cycle is. */
typedef struct cycles_sccs {
    subgraph sub;  /* the objects between closures */
    scc_result *s; /* the SCCs of sub.g */
} cycles_sccs;

/* Computes the closure cycles' SCCs into *out (free with cycles_sccs_free). Reads only the
 * graph (with its reverse adjacency) and the objects' closures, which no phase after the model
 * changes: it may run on a thread of its own beside the phases before the detectors. Returns
 * HS_OK or a negative status with err set. */
int cycles_prepare(const heap *h, cycles_sccs **out, hs_error *err);

/* Frees what cycles_prepare made (NULL is accepted). */
void cycles_sccs_free(cycles_sccs *c);

/* Closure-captured reference cycles: SCCs of heap objects that contain a closure. Rooted and
 * finalizer-pinned cycles go to leaks; unreachable (collectable) ones to info. sccs: from
 * cycles_prepare on this heap (borrowed; scc_cycle updates it), or NULL to compute them
 * here. */
int cycles_detect(analysis *a, cycles_sccs *sccs, findings *leaks, findings *info,
                  hs_error *err);

/* Ghost references: value-typed (or value-shaped) live objects not reachable from any
 * container, with a retention path that avoids the containers. Needs a->types. */
int ghost_detect(analysis *a, findings *out, hs_error *err);

/* Adds object v to out as a ghost of the containers in a bit mask (bit c = a->containers[c]),
 * grouped by containers, holder and label, with the given evidence ("type", "shape",
 * "diff"). shape_of, when not NULL, names the type a shape match stands for. */
int ghost_add(analysis *a, uint32_t v, uint32_t containers, const char *evidence,
              const char *shape_of, findings *out, hs_error *err);

/* *out receives a mark (1 byte per node of a's heap; the caller frees it) on every node
 * reachable from containers [first, first + count) of a. */
int ghost_inside(const analysis *a, size_t first, size_t count, uint8_t **out, hs_error *err);

/* sync.Map read-map tombstones (container bloat), from the decoded containers: one finding
 * per container that has any. */
int tombstone_detect(analysis *a, findings *out, hs_error *err);

#endif
