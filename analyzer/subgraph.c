/* subgraph.c - induced subgraphs with local ids in node order. */
#include "subgraph.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "hs_search.h"

uint32_t subgraph_local(const subgraph *s, uint32_t node)
{
    return (uint32_t)hs_lower_bound32(s->node, s->n, sizeof *s->node, 0, node);
}

int subgraph_build(const graph *g, const uint64_t *set, subgraph *out, hs_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t n = graph_node_count(g), k = 0;
    size_t nwords = bitset_words(n);
    for (size_t w = 0; w < nwords; w++)
        k += (uint32_t)__builtin_popcountll(set[w]);
    out->node = malloc((size_t)k * sizeof *out->node + 1);
    graph_builder *b = out->node ? graph_builder_new(k, 0) : NULL;
    int rc = HS_OK;
    if (!b) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "subgraph: out of memory");
        goto out;
    }
    for (size_t w = 0; w < nwords; w++)
        for (uint64_t bits = set[w]; bits; bits &= bits - 1)
            out->node[out->n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g),
                   *fld = graph_out_field(g);
    for (uint32_t l = 0; l < k; l++) {
        uint32_t v = out->node[l];
        graph_builder_set_size(b, l, graph_size(g, v));
        for (uint32_t e = off[v]; e < off[v + 1]; e++)
            if (bitset_get(set, dst[e]) &&
                graph_builder_add_edge(b, l, subgraph_local(out, dst[e]), fld[e]) < 0) {
                rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "subgraph: out of memory");
                goto out;
            }
    }
    rc = graph_build(b, &out->g, err);
    b = NULL; /* graph_build frees it */
out:
    graph_builder_free(b);
    if (rc < 0)
        subgraph_release(out);
    return rc;
}

void subgraph_release(subgraph *s)
{
    graph_free(s->g);
    free(s->node);
    memset(s, 0, sizeof *s);
}
