/* paths.h - shortest paths from roots: one multi-source BFS gives, for every node it reaches,
 * a parent, the field of the parent that points to it, and (by walking up) the root it hangs
 * from. The BFS is iterative over the CSR graph (queue of 32-bit ids, no recursion).
 *
 * Uses:
 *  - "path" / report paths: paths_bfs(g, all_roots, n, &(paths_opts){.flags =
 *    PATHS_EXCLUDE_FINALIZER, .target = GRAPH_NONE}, &t, &err), then paths_extract per object.
 *    Excluding finalizer roots mirrors Eclipse MAT's "exclude weak/soft/finalizer" paths.
 *  - ghosts: a retention path that avoids the container: opts.blocked marks the container's
 *    nodes; the BFS never starts at, enters or scans a blocked node. One BFS serves every
 *    ghost; opts.target stops early when only one node matters.
 *
 * Roots are seeded in array order, so on ties the earlier root wins; a GRAPH_ROOT_SCAN root
 * seeds the nodes its node points to (not the node itself, and not through a self-edge).
 * Self-edges never matter for BFS.
 *
 * paths_reach answers plain reachability (no tree) several times faster.
 *
 * Memory: 4 bytes per node kept (the parent; plus 4 with PATHS_RECORD_ROOT), allocated zeroed
 * so that pages of nodes the BFS never touches cost nothing; temporaries of 4 bytes (queue)
 * and 1 bit (visited) per node. Fields are found again on demand, in the parent's out-edges.
 */
#ifndef PATHS_H
#define PATHS_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "hs_error.h"

#define PATHS_EXCLUDE_FINALIZER 0x1u /* skip roots flagged GRAPH_ROOT_FINALIZER */
#define PATHS_RECORD_ROOT 0x2u       /* keep the root index per node: paths_root_of is O(1) */

typedef struct paths_opts {
    uint32_t flags;         /* PATHS_* */
    const uint8_t *blocked; /* NULL, or n bytes: nonzero = never start at, enter or scan */
    uint32_t target;        /* stop as soon as this node is reached; GRAPH_NONE = full BFS */
} paths_opts;

typedef struct paths_tree paths_tree;

/* Runs the BFS from roots (copied; g is borrowed and must outlive the tree). opts may be NULL
 * (all roots, nothing blocked, no target). Every node the tree reports as reached has a
 * shortest path, also when the BFS stopped early at opts->target. Returns HS_ERR_ARG for a root
 * node out of range. Free with paths_free. */
int paths_bfs(const graph *g, const graph_root *roots, size_t nroots, const paths_opts *opts,
              paths_tree **out, hs_error *err);

/* Frees a tree (NULL is accepted). */
void paths_free(paths_tree *t);

/* 1 when the BFS reached v, else 0. */
int paths_reached(const paths_tree *t, uint32_t v);

/* BFS parent of v; GRAPH_NONE when v is seeded by a root or was not reached. */
uint32_t paths_parent(const paths_tree *t, uint32_t v);

/* Field offset in the parent pointing to v (for a root-seeded node: GRAPH_NONE, or the offset
 * inside the scanned node of a GRAPH_ROOT_SCAN root); GRAPH_NONE when v was not reached.
 * O(out-degree of the parent). */
uint32_t paths_field(const paths_tree *t, uint32_t v);

/* Index in the roots array of the root v hangs from, or GRAPH_NONE if not reached.
 * O(1) with PATHS_RECORD_ROOT, else O(path length). */
uint32_t paths_root_of(const paths_tree *t, uint32_t v);

/* The shortest path root -> v as steps (see graph_step): first step is the root-seeded node,
 * last is v. Returns the number of steps (0 when v was not reached) and fills steps only when
 * that number is <= cap (call with cap 0 to size the buffer). O(path length + out-degrees of
 * the nodes on it). */
size_t paths_extract(const paths_tree *t, uint32_t v, graph_step *steps, size_t cap);

/* Number of nodes reached. */
uint32_t paths_reached_count(const paths_tree *t);

/* Sets mark[v] = value for every node v the BFS reached (mark has a byte per node). */
void paths_mark_reached(const paths_tree *t, uint8_t *mark, uint8_t value);

/* Options of paths_reach (NULL: forward edges, every node). */
typedef struct paths_reach_opts {
    int reverse;    /* follow edges backwards: mark what reaches the seeds */
    uint32_t limit; /* enter no node >= limit (0: no limit); seeds are marked regardless */
} paths_reach_opts;

/* Plain reachability, when no path is needed: sets in *out (a new bitset of
 * graph_node_count(g) bits, see bitset.h; free with free()) every node reachable from the
 * seed nodes, seeds included. *reached (may be NULL) receives their count. Keeping no tree
 * frees it to visit nodes in any order: mostly in ascending id order, which reads the CSR
 * arrays nearly sequentially instead of at random (see paths.c). Memory: 2 bits per node plus
 * a stack of n / 32 ids. HS_ERR_ARG for a seed out of range. */
int paths_reach(const graph *g, const uint32_t *seeds, size_t nseeds,
                const paths_reach_opts *opts, uint64_t **out, uint32_t *reached, hs_error *err);

#endif
