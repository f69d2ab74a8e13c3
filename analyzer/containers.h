/* containers.h - finds the containers of an analysis (globals named with --container, and
 * recognised sync.Map globals) and decodes sync.Map layouts from the pointer graph: values,
 * and read-map entries whose value was deleted (tombstones). Layouts per Go version are in
 * docs/go-runtime.md "sync.Map" and "Maps"; only the graph's edges and field offsets are used. */
#ifndef CONTAINERS_H
#define CONTAINERS_H

#include "analysis.h"

/* Fills a->containers (a owns them; containers_release frees them) and labels the decoded
 * structures' objects (heap_label). Returns HS_OK; HS_ERR_NOTFOUND with a message saying so
 * for a --container name that matches no global; HS_ERR_NOMEM with err set. */
int containers_find(analysis *a, hs_error *err);

/* Frees a->containers. */
void containers_release(analysis *a);

/* The target of src's pointer at byte offset field, or GRAPH_NONE. */
uint32_t containers_edge_at(const graph *g, uint32_t src, uint32_t field);

#endif
