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

/* The local id of node v of the set: the set's bits before it, from rank[w] (the bits in
 * the words before v's word w) and the bits below v in its own word. */
static inline uint32_t rank_of(const uint64_t *set, const uint32_t *rank, uint32_t v)
{
    uint64_t below = set[v >> 6] & ((1ull << (v & 63)) - 1);
    return rank[v >> 6] + (uint32_t)__builtin_popcountll(below);
}

/* The subgraph's CSR is laid out directly (the nodes and each node's edges come in order): a
 * pass counts each node's edges into the set, a second writes them, with each target's local
 * id from a rank per bitset word (n / 16 bytes, beside the n / 8 of the set: both stay in
 * cache) instead of a binary search over the nodes. */
int subgraph_build(const graph *g, const uint64_t *set, subgraph *out, hs_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t n = graph_node_count(g), k = 0;
    size_t nwords = bitset_words(n), m = 0;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g),
                   *fld = graph_out_field(g);
    uint32_t *rank = malloc(nwords * sizeof *rank), *loff = NULL, *ldst = NULL, *lfld = NULL;
    uint64_t *size = NULL;
    int rc = HS_OK;
    if (!rank)
        goto nomem;
    for (size_t w = 0; w < nwords; w++) {
        rank[w] = k;
        k += (uint32_t)__builtin_popcountll(set[w]);
    }
    out->node = malloc((size_t)k * sizeof *out->node + 1);
    loff = malloc(((size_t)k + 1) * sizeof *loff);
    size = malloc((size_t)k * sizeof *size + 1);
    if (!out->node || !loff || !size)
        goto nomem;
    for (size_t w = 0; w < nwords; w++)
        for (uint64_t bits = set[w]; bits; bits &= bits - 1) {
            uint32_t v = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
            out->node[out->n] = v;
            size[out->n] = graph_size(g, v);
            loff[out->n++] = (uint32_t)m;
            for (uint32_t e = off[v]; e < off[v + 1]; e++)
                m += (size_t)bitset_get(set, dst[e]);
        }
    loff[k] = (uint32_t)m; /* at most the graph's edges: m fits */
    ldst = malloc(m * sizeof *ldst + 1);
    lfld = malloc(m * sizeof *lfld + 1);
    if (!ldst || !lfld)
        goto nomem;
    for (uint32_t l = 0, j = 0; l < k; l++)
        for (uint32_t v = out->node[l], e = off[v]; e < off[v + 1]; e++)
            if (bitset_get(set, dst[e])) {
                ldst[j] = rank_of(set, rank, dst[e]);
                lfld[j++] = fld[e];
            }
    rc = graph_adopt(k, (uint32_t)m, loff, ldst, lfld, size, &out->g, err);
    loff = ldst = lfld = NULL; /* graph_adopt took them */
    size = NULL;
    if (rc >= 0)
        rc = graph_build_reverse(out->g, 1, NULL, NULL, err);
    goto out;
nomem:
    rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "subgraph: out of memory");
out:
    free(rank);
    free(loff);
    free(ldst);
    free(lfld);
    free(size);
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
