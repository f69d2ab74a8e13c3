/* dom.h - dominator tree and retained sizes over the heap graph.
 *
 * A virtual root is connected to every root node (a GRAPH_ROOT_SCAN root connects to what its
 * node points to, not to the node itself). d dominates v when every path from the virtual
 * root to v passes through d; the retained size of v is the sum of the sizes of the nodes it
 * dominates (itself included): the memory freed if v became unreachable. Algorithm:
 * Lengauer-Tarjan with path compression (O(m log n)), iterative DFS and iterative compression
 * (no recursion); retained sizes bottom-up in reverse DFS preorder.
 *
 * The heap-model builder passes its full root list (data/bss, frames, other roots, queued
 * finalizers, finalizer specials from live_special_roots). DOM_EXCLUDE_FINALIZER drops roots
 * flagged GRAPH_ROOT_FINALIZER. Retained bytes of finalizer-pinned objects: compute with the
 * finalizer roots included; an object reachable only through finalizers is then dominated by
 * the virtual root or by the pinned object that holds it.
 *
 * Memory kept: idom (4 bytes per node) + retained (8 per node), which also serve as scratch
 * space; during the computation 16 bytes per node of temporaries, n / 8 bytes of bitmap, and
 * the DFS and compression stacks (12 and 4 bytes per level, touched only as deep as they go).
 */
#ifndef DOM_H
#define DOM_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "hs_error.h"

/* idom value of a node immediately dominated by the virtual root. Unreachable: GRAPH_NONE. */
#define DOM_VROOT (GRAPH_NONE - 1)

#define DOM_EXCLUDE_FINALIZER 0x1u /* ignore roots flagged GRAPH_ROOT_FINALIZER */

/* dom_top flags */
#define DOM_TOP_TOPLEVEL 0x1u /* only nodes immediately dominated by the virtual root */

typedef struct dom_tree dom_tree;

/* Computes the dominator tree of g from a virtual root over roots (flags: DOM_*). g is
 * borrowed and must outlive the result. HS_ERR_ARG for a root node out of range. */
int dom_compute(const graph *g, const graph_root *roots, size_t nroots, uint32_t flags,
                dom_tree **out, hs_error *err);

/* dom_compute in two halves, for a caller that builds the reverse adjacency meanwhile:
 * dom_start numbers the vertices (a DFS over g's forward edges only), dom_finish computes
 * the tree and needs the reverse adjacency. dom_finish frees w in every case; dom_work_free
 * drops a started computation (NULL is accepted). retained and idom: NULL, or malloc'd
 * arrays of node count + 1 entries that become the tree's (taken in every case). */
typedef struct dom_work dom_work;
int dom_start(const graph *g, const graph_root *roots, size_t nroots, uint32_t flags,
              uint64_t *retained, uint32_t *idom, dom_work **w, hs_error *err);
int dom_finish(dom_work *w, dom_tree **out, hs_error *err);
void dom_work_free(dom_work *w);

/* Frees a tree (NULL is accepted). */
void dom_free(dom_tree *d);

/* Immediate dominator of v: a node id, DOM_VROOT, or GRAPH_NONE when v is unreachable. */
uint32_t dom_idom(const dom_tree *d, uint32_t v);

/* The idom array (n entries, owned by d). */
const uint32_t *dom_idoms(const dom_tree *d);

/* Retained size of v in bytes (0 when unreachable), and the array (n entries, owned by d). */
uint64_t dom_retained(const dom_tree *d, uint32_t v);
const uint64_t *dom_retained_sizes(const dom_tree *d);

/* Total bytes reachable from the roots (the virtual root's retained size) and node count. */
uint64_t dom_reachable_bytes(const dom_tree *d);
uint32_t dom_reachable_count(const dom_tree *d);

/* 1 when a dominates b (a == b counts), 0 otherwise (also when b is unreachable).
 * O(depth of b in the dominator tree). */
int dom_dominates(const dom_tree *d, uint32_t a, uint32_t b);

/* Writes into out (room for k) the reachable nodes with the largest retained sizes, largest
 * first, ties by ascending node id; with DOM_TOP_TOPLEVEL only nodes whose idom is the virtual
 * root (their retained sizes never overlap). Returns how many were written. O(n log k). */
size_t dom_top(const dom_tree *d, size_t k, uint32_t flags, uint32_t *out);

#endif
