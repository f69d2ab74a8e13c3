/* scc.h - strongly connected components (iterative Tarjan in Pearce's one-array form, explicit
 * call stack, no recursion) and concrete cycles inside a component.
 *
 * Component ids are 0..count-1 in the order Tarjan completes them, i.e. reverse topological:
 * an edge from component a to a different component b implies a > b. A component is a real
 * cycle when it has >= 2 members or its single member has a self-edge (scc_is_cycle). The
 * closure-cycle detector runs scc_compute over the whole graph (or the nodes it cares about,
 * via mask), keeps the real cycles that contain a closure, and prints scc_cycle through a
 * closure member.
 *
 * Memory: 4 bytes per node kept (component id) + members (4 per node) + per-component size and
 * bytes; 16 bytes per node of temporaries (stacks) during the computation.
 */
#ifndef SCC_H
#define SCC_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "hs_error.h"

typedef struct scc_result scc_result;

/* Computes the SCCs of g restricted to the nodes with mask[v] != 0 (mask NULL = all nodes);
 * edges to masked-out nodes are ignored and masked-out nodes get no component. g is borrowed
 * and must outlive the result. Free with scc_free. */
int scc_compute(const graph *g, const uint8_t *mask, scc_result **out, hs_error *err);

/* Frees a result (NULL is accepted). */
void scc_free(scc_result *s);

/* Number of components. */
uint32_t scc_count(const scc_result *s);

/* Component of v, or GRAPH_NONE when v is masked out or out of range. */
uint32_t scc_of(const scc_result *s, uint32_t v);

/* Members of component c (ascending node ids, owned by s); *count receives their number. */
const uint32_t *scc_members(const scc_result *s, uint32_t c, uint32_t *count);

/* Member count and total node size in bytes of component c. */
uint32_t scc_size(const scc_result *s, uint32_t c);
uint64_t scc_bytes(const scc_result *s, uint32_t c);

/* 1 when component c is a real cycle: >= 2 members, or one member with a self-edge. */
int scc_is_cycle(const scc_result *s, uint32_t c);

/* One concrete cycle through start inside its component, as steps: (start, GRAPH_NONE),
 * (v1, field in start), ..., (start, field in the last node). It is a shortest cycle of length
 * >= 2 through start when the component has >= 2 members, else the self-edge (start, start).
 * Returns the number of steps (0 when start is on no cycle) and fills steps only when that is
 * <= cap. O(size of the component) per call, using scratch memory kept in s (hence not
 * const; not thread-safe on one s). */
size_t scc_cycle(scc_result *s, uint32_t start, graph_step *steps, size_t cap);

#endif
