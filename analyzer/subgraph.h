/* subgraph.h - the subgraph of a graph induced by a set of nodes, for analyses that touch only
 * a small part of a big heap (the not-in-use nodes for finalizer pinning, the nodes between
 * closures for closure cycles): their arrays, SCCs and searches then cost memory and time in
 * that part, not per node of the heap.
 *
 * Local ids 0..n-1 follow the nodes' order (node[] is ascending), and each node keeps its
 * edges into the set in their original order with their fields, so an algorithm whose result
 * depends on node and edge order (BFS ties, Tarjan's numbering) gives the same result on the
 * subgraph as on the whole graph restricted to the set. Node sizes are copied.
 */
#ifndef SUBGRAPH_H
#define SUBGRAPH_H

#include <stdint.h>

#include "graph.h"
#include "hs_error.h"

typedef struct subgraph {
    graph *g;       /* the induced subgraph, over local ids */
    uint32_t *node; /* local id -> node of the whole graph, ascending */
    uint32_t n;
} subgraph;

/* Builds into *out the subgraph of g induced by the nodes whose bit is set in `set` (a bitset
 * of graph_node_count(g) bits, see bitset.h). Release with subgraph_release. */
int subgraph_build(const graph *g, const uint64_t *set, subgraph *out, hs_error *err);

/* Local id of node, which must be in the set (binary search). */
uint32_t subgraph_local(const subgraph *s, uint32_t node);

/* Frees what s owns (s itself is the caller's; a zeroed s is accepted). */
void subgraph_release(subgraph *s);

#endif
