/* Unit tests for subgraph: on random graphs and random node sets, the induced subgraph has the
 * set's nodes in ascending order, exactly the edges between them in their original order with
 * their fields, the nodes' sizes, and local ids that map back; empty sets and the full set. */
#include "algo_util.h"
#include "bitset.h"
#include "subgraph.h"

static void check_sub(const small_graph *s, uint32_t set)
{
    uint64_t bits[1] = {set};
    subgraph sub;
    CHECK(subgraph_build(s->g, bits, &sub, NULL) == HS_OK);
    CHECK_EQ_U64(sub.n, (uint32_t)__builtin_popcount(set));
    CHECK_EQ_U64(graph_node_count(sub.g), sub.n);
    uint32_t l = 0;
    for (uint32_t v = 0; v < s->n; v++) {
        if (!(set >> v & 1))
            continue;
        CHECK_EQ_U64(sub.node[l], v);
        CHECK_EQ_U64(subgraph_local(&sub, v), l);
        CHECK_EQ_U64(graph_size(sub.g, l), s->size[v]);
        /* v's out-edges into the set, in the order the whole graph lists them */
        const uint32_t *off = graph_out_offsets(s->g), *dst = graph_out_dst(s->g),
                       *fld = graph_out_field(s->g);
        const uint32_t *soff = graph_out_offsets(sub.g), *sdst = graph_out_dst(sub.g),
                       *sfld = graph_out_field(sub.g);
        uint32_t k = soff[l];
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            if (!(set >> dst[e] & 1))
                continue;
            CHECK(k < soff[l + 1]);
            if (k >= soff[l + 1])
                break;
            CHECK_EQ_U64(sub.node[sdst[k]], dst[e]);
            CHECK_EQ_U64(sfld[k], fld[e]);
            k++;
        }
        CHECK_EQ_U64(k, soff[l + 1]);
        l++;
    }
    subgraph_release(&sub);
    CHECK(sub.g == NULL && sub.node == NULL && sub.n == 0);
}

int main(void)
{
    for (int iter = 0; iter < 3000; iter++) {
        small_graph s;
        small_random(&s, 16, iter & 1);
        uint32_t all = s.n == 32 ? UINT32_MAX : (1u << s.n) - 1;
        check_sub(&s, iter % 10 == 0 ? 0 : iter % 10 == 1 ? all : rnd(all + 1u) & all);
        graph_free(s.g);
    }
    subgraph zero = {0};
    subgraph_release(&zero);
    return check_report();
}
