/* detectors.h - the finding detectors. Each reads the analysis context (heap model, liveness,
 * dominators, containers) and adds grouped findings; none parses bytes or prints. */
#ifndef DETECTORS_H
#define DETECTORS_H

#include "analysis.h"
#include "findings.h"

/* Finalizer-pinned objects (DESIGN.md "Go-faithful liveness"): one finding per (reason,
 * finalizer function, object type). */
int finpin_detect(analysis *a, findings *out);

/* Closure-captured reference cycles: SCCs of heap objects that contain a closure. Rooted and
 * finalizer-pinned cycles go to leaks; unreachable (collectable) ones to info. */
int cycles_detect(analysis *a, findings *leaks, findings *info);

/* Ghost references: value-typed (or value-shaped) live objects not reachable from any
 * container, with a retention path that avoids the containers. */
int ghost_detect(analysis *a, findings *out);

/* Adds object v as a ghost of the containers in a bit mask (bit c = a->containers[c]),
 * grouped by containers, holder and label, with the given evidence ("type", "shape",
 * "diff"). shape_of, when not NULL, names the type a shape match stands for. */
int ghost_add(analysis *a, findings *out, uint32_t v, uint32_t containers, const char *evidence,
              const char *shape_of);

/* Marks (1 byte per node, caller frees) every node reachable from containers
 * [first, first + count) of a. NULL when out of memory. */
uint8_t *ghost_inside(const analysis *a, size_t first, size_t count);

/* sync.Map read-map tombstones (container bloat), from the decoded containers. */
int tombstone_detect(analysis *a, findings *out);

#endif
