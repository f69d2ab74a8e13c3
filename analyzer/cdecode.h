/* cdecode.h - decodes the containers the runtime builds, from the pointer graph alone: a
 * sync.Map's values and read-map tombstones, and a Go map's values, for each Go version's
 * layout (docs/go-runtime.md "sync.Map" and "Maps"). Decoding labels the structures' objects
 * by their roles (heap_label) where no type names them. containers.c decides which structures
 * are containers. */
#ifndef CDECODE_H
#define CDECODE_H

#include <stdint.h>

#include "analysis.h"

/* The largest offset of a sync.Map's internal root pointer in any layout. */
#define CDECODE_SYNCMAP_ROOT_MAX 16

/* The target of src's pointer at byte offset field (the graph's edge field), or GRAPH_NONE. */
uint32_t cdecode_edge_at(const graph *g, uint32_t src, uint32_t field);

/* Is object r the internal root of a sync.Map in this dump's layout (readOnly, or trie root)?
 * *field receives the offset in a sync.Map of the pointer to it. */
int cdecode_syncmap_root(const analysis *a, uint32_t r, uint64_t *field);

/* Is v a HashTrieMap indirect node (1.24+)? */
int cdecode_is_trie_node(const heap *h, uint32_t v);

/* Is v a Go map header of this dump's layout? */
int cdecode_is_map_header(const analysis *a, uint32_t v);

/* Decodes the sync.Map whose internal root is r into c (c->node and c->offset say where it
 * lies): its kind, seeds, values and tombstones. HS_ERR_NOMEM when out of memory. */
int cdecode_syncmap(analysis *a, analysis_container *c, uint32_t r);

/* Decodes the Go map with header m into c: its kind, seed, address and values. scratch: NULL,
 * or a zeroed bitset of a node-count bits the decoding uses and leaves zeroed (a caller
 * decoding many maps keeps one). HS_ERR_NOMEM when out of memory. */
int cdecode_map(analysis *a, analysis_container *c, uint32_t m, uint64_t *scratch);

#endif
