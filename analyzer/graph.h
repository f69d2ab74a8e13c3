/* graph.h - the abstract heap graph every analysis runs on.
 *
 * Nodes are 0..n-1 (objects, globals, anonymous statics: the heap-model builder decides what a
 * node is and keeps its own node -> address/name tables). An edge src -> dst carries the byte
 * offset of the pointer field inside src, so paths can be printed as fields. Self-edges and
 * parallel edges are kept as given (they exist in real heaps); each algorithm documents how it
 * treats them. Every node carries a byte size supplied by the builder's user.
 *
 * Storage is CSR in flat arrays of 32-bit indices: forward (offsets n+1, dst m, field m) and
 * reverse (offsets n+1, src m), i.e. ~ (n+1)*8 + m*12 bytes, plus n*8 for sizes. No per-node
 * allocation. Within one node the forward edges keep insertion order; the reverse edges of a
 * node are sorted by source.
 *
 * Typical use by the heap-model builder:
 *     graph_builder *b = graph_builder_new(nobjects + nglobals, nptrfields_estimate);
 *     for each node v: graph_builder_set_size(b, v, bytes);
 *     graph_builder_add_nodes(b, k, &first);       // anonymous statics found later
 *     for each pointer field: graph_builder_add_edge(b, src, dst, offset);
 *     graph_build(b, &g, &err);                     // b is consumed
 * Adding edges grouped by nondecreasing src (object after object) is the fast path: the edge
 * arrays then become the CSR arrays without a copy.
 *
 * Roots (graph_root) and path steps (graph_step) are shared by paths, dominators and
 * liveness.
 */
#ifndef GRAPH_H
#define GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"

/* "No node" / "no field": never a valid node id or field offset. */
#define GRAPH_NONE UINT32_MAX
/* Largest node count; ids above are reserved for sentinels (GRAPH_NONE, DOM_VROOT...). */
#define GRAPH_MAX_NODES 0xFFFFFFF0u
/* Largest edge count (CSR offsets are 32-bit). */
#define GRAPH_MAX_EDGES 0xFFFFFFF0u

/* Root flags. */
#define GRAPH_ROOT_FINALIZER 0x1u /* exists only because of a finalizer (queued finalizer,
                                   * finalizer special's closure or scan); excluded by
                                   * PATHS_EXCLUDE_FINALIZER / DOM_EXCLUDE_FINALIZER, as MAT does */
#define GRAPH_ROOT_SCAN 0x2u      /* marks what node points to, not node itself: the finalizer
                                   * special on an object (mgcmark.go markrootSpans scans the
                                   * object; its self-pointers are skipped by scanobject) */

/* One root: a node the GC marks from outside the heap graph. kind is the caller's root-kind id
 * (data/bss, frame, other, queued finalizer, finalizer special...) and is carried through
 * untouched; results name a root by its index in the caller's array, so the caller keeps its
 * per-root details (symbol, goroutine, slot offset) in a parallel array. */
typedef struct graph_root {
    uint32_t node;
    uint32_t kind;
    uint32_t flags; /* GRAPH_ROOT_* */
} graph_root;

/* One step of a path: the node reached and the offset of the field in the previous step's node
 * that points to it. The first step of a path from a root has field GRAPH_NONE, except for a
 * GRAPH_ROOT_SCAN root where it is the offset inside the scanned root node. */
typedef struct graph_step {
    uint32_t node;
    uint32_t field;
} graph_step;

typedef struct graph_builder graph_builder;
typedef struct graph graph;

/* Returns a builder with nodes 0..nodes-1 (size 0) and room for edge_hint edges, or NULL when
 * out of memory or nodes > GRAPH_MAX_NODES. Free with graph_builder_free (or graph_build). */
graph_builder *graph_builder_new(uint32_t nodes, size_t edge_hint);

/* Appends count nodes (size 0); their ids start at *first. HS_ERR_LIMIT past GRAPH_MAX_NODES. */
int graph_builder_add_nodes(graph_builder *b, uint32_t count, uint32_t *first, hs_error *err);

/* Sets the byte size of node. HS_ERR_ARG when node is out of range. */
int graph_builder_set_size(graph_builder *b, uint32_t node, uint64_t size);

/* Appends the edge src -> dst found at byte offset field of src. Any order is accepted.
 * Returns HS_OK, HS_ERR_ARG (node out of range), HS_ERR_LIMIT (too many edges) or
 * HS_ERR_NOMEM; the edge is not added on failure. */
int graph_builder_add_edge(graph_builder *b, uint32_t src, uint32_t dst, uint32_t field);

/* Number of nodes / edges added so far. */
uint32_t graph_builder_node_count(const graph_builder *b);
size_t graph_builder_edge_count(const graph_builder *b);

/* Frees a builder (NULL is accepted). */
void graph_builder_free(graph_builder *b);

/* Builds the CSR graph into *out and frees b in every case (its arrays move into the graph).
 * Linear time: a counting sort by source (skipped when edges came grouped by source) and a
 * two-pass counting sort for the reverse adjacency. Free the graph with graph_free. */
int graph_build(graph_builder *b, graph **out, hs_error *err);

/* Makes a graph of CSR arrays built elsewhere, taking ownership of them (also on failure):
 * out_off has n + 1 entries, out_dst and out_field m, size n. For callers that can lay edges
 * out grouped by source themselves (the heap model): no edge is copied. The graph has no
 * reverse adjacency until graph_build_reverse: forward-only work can start before it. */
int graph_adopt(uint32_t n, uint32_t m, uint32_t *out_off, uint32_t *out_dst, uint32_t *out_field,
                uint64_t *size, graph **out, hs_error *err);

/* Builds the reverse adjacency of an adopted graph (a no-op when it has one), on every core
 * when parallel, else on the caller's thread only. Only reads the forward arrays, so others
 * may read them meanwhile. spare_off and spare_src: NULL, or malloc'd arrays of node count + 1
 * and edge count entries that become the reverse offsets and edges (taken in every case). */
int graph_build_reverse(graph *g, int parallel, uint32_t *spare_off, uint32_t *spare_src,
                        hs_error *err);

/* Frees a graph (NULL is accepted). */
void graph_free(graph *g);

/* Number of nodes and edges. */
uint32_t graph_node_count(const graph *g);
uint32_t graph_edge_count(const graph *g);

/* Forward CSR, owned by g: out-edges of v are indices out_off[v] .. out_off[v+1]-1 of
 * out_dst / out_field. out_off has n+1 entries. */
const uint32_t *graph_out_offsets(const graph *g);
const uint32_t *graph_out_dst(const graph *g);
const uint32_t *graph_out_field(const graph *g);

/* Reverse CSR, owned by g (NULL before graph_build_reverse): predecessors of v are
 * in_src[in_off[v] .. in_off[v+1]-1], sorted, one entry per edge (parallel edges repeat).
 * in_off has n+1 entries. */
const uint32_t *graph_in_offsets(const graph *g);
const uint32_t *graph_in_src(const graph *g);

/* Per-node sizes in bytes (n entries, owned by g), and one node's size. */
const uint64_t *graph_sizes(const graph *g);
uint64_t graph_size(const graph *g, uint32_t v);

/* Field offset of the first edge src -> dst, or GRAPH_NONE if there is none. O(outdeg(src)). */
uint32_t graph_edge_field(const graph *g, uint32_t src, uint32_t dst);

/* Bytes the graph's arrays occupy. */
size_t graph_memory(const graph *g);

#endif
