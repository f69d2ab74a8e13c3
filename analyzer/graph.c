/* graph.c - edge builder and CSR heap graph (forward + reverse adjacency). */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "par.h"
#include "vec.h"

/* Below this many nodes one thread builds the reverse graph. */
#define PAR_MIN_NODES 100000

struct graph_builder {
    uint32_t n, node_cap;
    uint64_t *size;
    size_t m, edge_cap;
    uint32_t *src, *dst, *field;
    int sorted; /* edges so far came in nondecreasing src order */
};

struct graph {
    uint32_t n, m;
    uint32_t *out_off, *out_dst, *out_field;
    uint32_t *in_off, *in_src;
    uint64_t *size;
};

graph_builder *graph_builder_new(uint32_t nodes, size_t edge_hint)
{
    if (nodes > GRAPH_MAX_NODES)
        return NULL;
    graph_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->n = nodes;
    b->node_cap = nodes ? nodes : 16;
    b->size = calloc(b->node_cap, sizeof *b->size);
    if (edge_hint > GRAPH_MAX_EDGES)
        edge_hint = GRAPH_MAX_EDGES;
    b->edge_cap = edge_hint ? edge_hint : 64;
    b->src = malloc(b->edge_cap * sizeof *b->src);
    b->dst = malloc(b->edge_cap * sizeof *b->dst);
    b->field = malloc(b->edge_cap * sizeof *b->field);
    b->sorted = 1;
    if (!b->size || !b->src || !b->dst || !b->field) {
        graph_builder_free(b);
        return NULL;
    }
    return b;
}

void graph_builder_free(graph_builder *b)
{
    if (!b)
        return;
    free(b->size);
    free(b->src);
    free(b->dst);
    free(b->field);
    free(b);
}

int graph_builder_add_nodes(graph_builder *b, uint32_t count, uint32_t *first, hs_error *err)
{
    if (!b)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "graph: no builder");
    if ((uint64_t)b->n + count > GRAPH_MAX_NODES)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "graph: more than %u nodes",
                            (unsigned)GRAPH_MAX_NODES);
    uint32_t need = b->n + count;
    if (need > b->node_cap) {
        uint64_t cap = (uint64_t)b->node_cap * 2;
        if (cap < need)
            cap = need;
        if (cap > GRAPH_MAX_NODES)
            cap = GRAPH_MAX_NODES;
        uint64_t *s = realloc(b->size, cap * sizeof *s);
        if (!s)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "graph: out of memory");
        b->size = s;
        b->node_cap = (uint32_t)cap;
    }
    memset(b->size + b->n, 0, (size_t)count * sizeof *b->size);
    if (first)
        *first = b->n;
    b->n = need;
    return HS_OK;
}

int graph_builder_set_size(graph_builder *b, uint32_t node, uint64_t size)
{
    if (!b || node >= b->n)
        return HS_ERR_ARG;
    b->size[node] = size;
    return HS_OK;
}

static int grow_edges(graph_builder *b)
{
    if (b->edge_cap >= GRAPH_MAX_EDGES)
        return HS_ERR_LIMIT;
    size_t cap = b->edge_cap * 2;
    if (cap > GRAPH_MAX_EDGES)
        cap = GRAPH_MAX_EDGES;
    void **const arrays[] = {(void **)&b->src, (void **)&b->dst, (void **)&b->field};
    const size_t elem[] = {sizeof *b->src, sizeof *b->dst, sizeof *b->field};
    if (vec_resize_parallel(arrays, elem, 3, cap) < 0)
        return HS_ERR_NOMEM;
    b->edge_cap = cap;
    return HS_OK;
}

int graph_builder_add_edge(graph_builder *b, uint32_t src, uint32_t dst, uint32_t field)
{
    if (!b || src >= b->n || dst >= b->n)
        return HS_ERR_ARG;
    if (b->m == b->edge_cap) {
        int rc = grow_edges(b);
        if (rc)
            return rc;
    }
    if (b->m && src < b->src[b->m - 1])
        b->sorted = 0;
    b->src[b->m] = src;
    b->dst[b->m] = dst;
    b->field[b->m] = field;
    b->m++;
    return HS_OK;
}

uint32_t graph_builder_node_count(const graph_builder *b)
{
    return b ? b->n : 0;
}

size_t graph_builder_edge_count(const graph_builder *b)
{
    return b ? b->m : 0;
}

/* In-degree counts of the targets in [lo, hi): each part of the reverse build owns a range
 * of targets and scans every edge, so parts never write the same counter. */
static void count_in_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    graph *g = ctx;
    const uint32_t *od = g->out_dst;
    uint32_t *ioff = g->in_off;
    (void)part;
    for (uint32_t e = 0; e < g->m; e++)
        if (od[e] >= lo && od[e] < hi)
            ioff[od[e] + 1]++;
}

/* Writes the sources of the edges into targets in [lo, hi), in ascending source order, with
 * in_off[t] as t's cursor (it ends at t's end). The writes are random: prefetch the cursors
 * 32 edges ahead and the slots 16 ahead (the slot address read early is right unless the same
 * target repeats within 16 edges). */
static void scatter_in_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    const graph *g = ctx;
    const uint32_t *off = g->out_off, *od = g->out_dst;
    uint32_t *is = g->in_src, *cur = g->in_off, m = g->m;
    (void)part;
    for (uint32_t v = 0; v < g->n; v++)
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            if (e + 32 < m && od[e + 32] >= lo && od[e + 32] < hi)
                __builtin_prefetch(&cur[od[e + 32]], 1);
            if (e + 16 < m && od[e + 16] >= lo && od[e + 16] < hi)
                __builtin_prefetch(&is[cur[od[e + 16]]], 1);
            if (od[e] >= lo && od[e] < hi)
                is[cur[od[e]]++] = v;
        }
}

int graph_build_reverse(graph *g, int parallel, uint32_t *spare_off, uint32_t *spare_src,
                        hs_error *err)
{
    size_t min_split = parallel ? PAR_MIN_NODES : SIZE_MAX;
    if (g->in_off) {
        free(spare_off);
        free(spare_src);
        return HS_OK;
    }
    uint32_t n = g->n;
    uint32_t *ioff = spare_off ? memset(spare_off, 0, ((size_t)n + 1) * sizeof *ioff)
                               : hugemem_zalloc((size_t)n + 1, sizeof *ioff);
    uint32_t *isrc = spare_src ? spare_src : hugemem_alloc((size_t)g->m * sizeof *isrc + 1);
    int rc = HS_OK;
    if (!ioff || !isrc) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "graph: out of memory building the reverse adjacency");
        goto out;
    }
    g->in_off = ioff;
    g->in_src = isrc;
    /* In-degrees at in_off[t + 1], prefix sums: in_off[t] is where t's list starts, and serves
     * as its cursor; after the scatter it holds where t's list ends, i.e. where t + 1's
     * starts: one shift puts the offsets in place. */
    par_for(n, min_split, count_in_part, g);
    for (uint32_t v = 0; v < n; v++)
        ioff[v + 1] += ioff[v];
    par_for(n, min_split, scatter_in_part, g);
    memmove(ioff + 1, ioff, (size_t)n * sizeof *ioff);
    ioff[0] = 0;
    ioff = isrc = NULL; /* g owns them */
out:
    free(ioff);
    free(isrc);
    return rc;
}

int graph_adopt(uint32_t n, uint32_t m, uint32_t *out_off, uint32_t *out_dst, uint32_t *out_field,
                uint64_t *size, graph **out, hs_error *err)
{
    *out = NULL;
    graph *g = calloc(1, sizeof *g);
    int rc = HS_OK;
    if (!g) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "graph: out of memory");
        goto out;
    }
    *g = (graph){.n = n, .m = m, .out_off = out_off, .out_dst = out_dst, .out_field = out_field,
                 .size = size};
    *out = g;
    out_off = out_dst = out_field = NULL; /* g owns them */
    size = NULL;
out:
    free(out_off);
    free(out_dst);
    free(out_field);
    free(size);
    return rc;
}

int graph_build(graph_builder *b, graph **out, hs_error *err)
{
    uint32_t *off = NULL, *dst = NULL, *field = NULL, *cur = NULL;
    graph *g = NULL;
    int rc = HS_OK;
    if (out)
        *out = NULL;
    if (!b || !out) {
        rc = hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "graph: no builder");
        goto out;
    }
    uint32_t n = b->n, m = (uint32_t)b->m;
    if (!(off = hugemem_zalloc((size_t)n + 1, sizeof *off))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "graph: out of memory building CSR");
        goto out;
    }
    /* Forward CSR: count out-degrees, prefix sums. */
    for (uint32_t e = 0; e < m; e++)
        off[b->src[e] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        off[v + 1] += off[v];
    if (b->sorted) {
        /* Edges already grouped by source: the builder's arrays are the CSR arrays. */
        dst = vec_shrink(b->dst, (size_t)m * sizeof(uint32_t));
        field = vec_shrink(b->field, (size_t)m * sizeof(uint32_t));
        b->dst = b->field = NULL;
    } else {
        /* Stable counting sort by source; keeps insertion order within a node. */
        cur = hugemem_alloc((size_t)n * sizeof *cur + 1);
        dst = hugemem_alloc((size_t)m * sizeof(uint32_t) + 1);
        field = hugemem_alloc((size_t)m * sizeof(uint32_t) + 1);
        if (!cur || !dst || !field) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                              "graph: out of memory building CSR");
            goto out;
        }
        memcpy(cur, off, (size_t)n * sizeof *cur);
        for (uint32_t e = 0; e < m; e++) {
            uint32_t pos = cur[b->src[e]]++;
            dst[pos] = b->dst[e];
            field[pos] = b->field[e];
        }
        free(cur);
        cur = NULL;
    }
    uint64_t *size = vec_shrink(b->size, (size_t)n * sizeof(uint64_t));
    b->size = NULL;
    graph_builder_free(b);
    b = NULL;
    rc = graph_adopt(n, m, off, dst, field, size, &g, err);
    off = dst = field = NULL; /* graph_adopt took them */
    if (rc < 0 || (rc = graph_build_reverse(g, 1, NULL, NULL, err)) < 0)
        goto out;
    *out = g;
    g = NULL;
out:
    graph_free(g);
    graph_builder_free(b);
    free(cur);
    free(off);
    free(dst);
    free(field);
    return rc;
}

void graph_free(graph *g)
{
    if (!g)
        return;
    free(g->out_off);
    free(g->out_dst);
    free(g->out_field);
    free(g->in_off);
    free(g->in_src);
    free(g->size);
    free(g);
}

uint32_t graph_node_count(const graph *g) { return g->n; }
uint32_t graph_edge_count(const graph *g) { return g->m; }
const uint32_t *graph_out_offsets(const graph *g) { return g->out_off; }
const uint32_t *graph_out_dst(const graph *g) { return g->out_dst; }
const uint32_t *graph_out_field(const graph *g) { return g->out_field; }
const uint32_t *graph_in_offsets(const graph *g) { return g->in_off; }
const uint32_t *graph_in_src(const graph *g) { return g->in_src; }
const uint64_t *graph_sizes(const graph *g) { return g->size; }

uint64_t graph_size(const graph *g, uint32_t v)
{
    return v < g->n ? g->size[v] : 0;
}

uint32_t graph_edge_field(const graph *g, uint32_t src, uint32_t dst)
{
    if (src >= g->n)
        return GRAPH_NONE;
    for (uint32_t e = g->out_off[src]; e < g->out_off[src + 1]; e++)
        if (g->out_dst[e] == dst)
            return g->out_field[e];
    return GRAPH_NONE;
}

size_t graph_memory(const graph *g)
{
    return ((size_t)g->n + 1) * 8 + (size_t)g->m * 12 + (size_t)g->n * 8;
}
