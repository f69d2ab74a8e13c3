/* lasting.c - the roots that outlive work in flight, and the paths from them (lasting.h). */
#include "lasting.h"

#include <stdlib.h>
#include <string.h>

int lasting_root(const analysis *a, uint32_t root_index)
{
    const heap *h = a->h;
    if (root_index >= h->nroots)
        return 0;
    uint32_t k = h->roots[root_index].kind, v = h->roots[root_index].node;
    /* the runtime's own globals hold work in flight too: timers (a context's deadline),
     * channels' waiting goroutines, the scheduler's queues */
    int runtime = k == HEAP_ROOT_GLOBAL && v >= h->nobj &&
                  !strncmp(strpool_get(&h->names, h->aux[v - h->nobj].name), "runtime.", 8);
    return !(k == HEAP_ROOT_FRAME || k == HEAP_ROOT_CTXT || k == HEAP_ROOT_DEFER ||
             k == HEAP_ROOT_PANIC || runtime);
}

int lasting_tree(analysis *a, const paths_tree **out, hs_error *err)
{
    const heap *h = a->h;
    *out = a->lasting;
    if (a->lasting)
        return HS_OK;
    uint8_t *blocked = calloc((size_t)h->nnodes + 1, 1);
    if (!blocked)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "lasting: out of memory for the roots that outlive goroutines");
    for (size_t i = 0; i < h->nroots; i++)
        if (!lasting_root(a, (uint32_t)i))
            blocked[h->roots[i].node] = 1;
    paths_opts o = {0, blocked, GRAPH_NONE};
    int rc = paths_bfs(h->g, h->roots, h->nroots, &o, &a->lasting, err);
    free(blocked);
    if (rc < 0)
        hs_error_prefix(err, "the paths from the roots that outlive goroutines");
    *out = a->lasting;
    return rc;
}
