/* heap_graph.c - the CSR layout of the heap graph: the resolved edges in node order (objects
 * by address, each with its edges in slot order, then the other nodes), adopted by the graph
 * module without a copy.
 */
#include "heap_build.h"

#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "par.h"
#include "vec.h"

void heap_graph_free_edges(builder *b)
{
    free(b->eval);
    free(b->efield);
    b->eval = NULL;
    b->efield = NULL;
    b->nedges = b->cap_edges = 0;
    free(b->aux_edges);
    b->aux_edges = NULL;
    b->naux_edges = 0;
}

static uint32_t edge_field(const builder *b, size_t i)
{
    return b->efield[i];
}

/* The CSR layout of object edges, filled in parallel over ranges of objects. */
typedef struct layout_ctx {
    const builder *b;
    const uint32_t *arrival_of;
    uint32_t narrival;
    uint32_t *off, *dst, *fld;
    int copy; /* 0: count each object's kept edges into off[k + 1]; 1: copy them */
} layout_ctx;

static void layout_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    const layout_ctx *c = ctx;
    const builder *b = c->b;
    (void)part;
    for (size_t k = lo; k < hi; k++) {
        uint32_t a = c->arrival_of[k], m = c->copy ? c->off[k] : 0;
        size_t end = a + 1 < c->narrival ? b->estart[a + 1] : b->nedges;
        for (size_t i = b->estart[a]; i < end; i++) {
            uint64_t d = *heap_build_edge_val(b, i);
            if (d == HEAP_NONE)
                continue;
            if (c->copy) {
                c->dst[m] = (uint32_t)d;
                c->fld[m] = edge_field(b, i);
            }
            m++;
        }
        if (!c->copy)
            c->off[k + 1] = m;
    }
}

/* Lays the resolved edges out as CSR adjacency in node order (objects by address, each with
 * its edges in slot order, then the other nodes, each with its edges in dump order) and hands
 * the arrays to the graph, which adopts them without a copy. */
int heap_graph_build(builder *b, const uint32_t *arrival_of, uint32_t narrival, hs_error *err)
{
    heap *h = b->h;
    uint32_t n = h->nnodes = h->nobj + h->naux, nobj = h->nobj;
    size_t cap = b->nedges + b->naux_edges;
    if (cap > GRAPH_MAX_EDGES)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "more than %u pointers",
                            (unsigned)GRAPH_MAX_EDGES);
    uint32_t *off = hugemem_alloc(((size_t)n + 1) * sizeof *off);
    uint32_t *dst = hugemem_alloc(cap * sizeof *dst + 1), *fld;
    /* The interface hints are applied: their array's memory, touched already, takes the
     * fields when it is large enough (fresh pages cost a fault each). */
    if (b->cap_hints * sizeof *b->hints >= cap * sizeof *fld + 1) {
        fld = vec_shrink(b->hints, cap * sizeof *fld + 1);
    } else {
        free(b->hints);
        fld = hugemem_alloc(cap * sizeof *fld + 1);
    }
    b->hints = NULL;
    b->nhints = b->cap_hints = 0;
    uint32_t *cursor = calloc((size_t)h->naux + 1, sizeof *cursor);
    int rc = HS_OK;
    if (!off || !dst || !fld || !cursor) {
        rc = heap_build_oom(err, "the graph");
        goto out;
    }
    off[0] = 0;
    layout_ctx lc = {b, arrival_of, narrival, off, dst, fld, 0};
    par_for(nobj, PAR_MIN_EDGES, layout_part, &lc);
    for (uint32_t k = 0; k < nobj; k++)
        off[k + 1] += off[k];
    lc.copy = 1;
    par_for(nobj, PAR_MIN_EDGES, layout_part, &lc);
    /* Other nodes' edges: a stable counting sort by source. */
    for (size_t j = 0; j < b->naux_edges; j++)
        if (b->aux_edges[j].val != HEAP_NONE)
            cursor[b->aux_edges[j].src]++;
    for (uint32_t x = 0; x < h->naux; x++) {
        off[nobj + x + 1] = off[nobj + x] + cursor[x];
        cursor[x] = off[nobj + x];
    }
    for (size_t j = 0; j < b->naux_edges; j++) {
        const aux_edge *e = &b->aux_edges[j];
        if (e->val != HEAP_NONE) {
            uint32_t pos = cursor[e->src]++;
            dst[pos] = (uint32_t)e->val;
            fld[pos] = e->field;
        }
    }
    free(cursor);
    cursor = NULL;
    uint32_t m = off[n];
    /* The graph's memory peak: drop the raw edges first, but keep their arrays' memory
     * (touched already) for later big arrays: see spare_take. */
    spare_add(&h->spare, b->eval, b->cap_edges * sizeof *b->eval);
    spare_add(&h->spare, b->efield, b->cap_edges * sizeof *b->efield);
    spare_add(&h->spare, b->estart, b->ncap_obj * sizeof *b->estart);
    b->eval = NULL;
    b->efield = NULL;
    b->estart = NULL;
    heap_graph_free_edges(b);
    dst = vec_shrink(dst, (size_t)m * sizeof *dst + 1);
    fld = vec_shrink(fld, (size_t)m * sizeof *fld + 1);
    /* The graph holds the node sizes (objects' slot sizes, 0 for the rest): keep one copy. */
    uint64_t *size = realloc((void *)h->obj_size, (size_t)n * sizeof *size + 1);
    if (!size) {
        rc = heap_build_oom(err, "the graph");
        goto out;
    }
    memset(size + nobj, 0, (size_t)h->naux * sizeof *size);
    h->obj_size = NULL;
    rc = graph_adopt(n, m, off, dst, fld, size, &h->g, err);
    off = dst = fld = NULL; /* graph_adopt took them */
    h->obj_size = h->g ? graph_sizes(h->g) : NULL;
out:
    free(off);
    free(dst);
    free(fld);
    free(cursor);
    return rc;
}
