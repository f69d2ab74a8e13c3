/* lasting.h - the roots that outlive the work in flight: the program's globals, other roots
 * and queued finalizers; not goroutines' frames, contexts, defers or panics, nor the runtime's
 * own globals (its timers, channel waiters and run queues hold work in flight too). What
 * their paths do not reach is held only by work in flight: a closure cycle that is not a leak,
 * a map that is not a container (docs/heap-model.md "Roots that outlive work in flight").
 */
#ifndef LASTING_H
#define LASTING_H

#include <stdint.h>

#include "analysis.h"

/* The shortest paths from those roots: computed on first use (one BFS over the heap) and kept
 * in a (a->lasting, freed by analysis_free); *out is borrowed. */
int lasting_tree(analysis *a, const paths_tree **out, hs_error *err);

/* Is program root i one of those roots? */
int lasting_root(const analysis *a, uint32_t root_index);

#endif
