/* Unit tests for graph: the CSR forward/reverse adjacency equals the edges given, in any
 * insertion order; sizes, growth, bad arguments, and a 2M-node build. */
#include "algo_util.h"

static void check_small(const small_graph *s)
{
    const graph *g = s->g;
    CHECK_EQ_U64(graph_node_count(g), s->n);
    CHECK_EQ_U64(graph_edge_count(g), s->m);
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    const uint32_t *ioff = graph_in_offsets(g), *isrc = graph_in_src(g);
    CHECK_EQ_U64(off[0], 0);
    CHECK_EQ_U64(off[s->n], s->m);
    CHECK_EQ_U64(ioff[s->n], s->m);
    for (uint32_t v = 0; v < s->n; v++) {
        CHECK_EQ_U64(graph_size(g, v), s->size[v]);
        CHECK_EQ_U64(graph_sizes(g)[v], s->size[v]);
        /* Out-edges: exactly the edges with src v, in insertion order. */
        uint32_t k = off[v];
        uint32_t first_field = GRAPH_NONE;
        for (uint32_t e = 0; e < s->m; e++) {
            if (s->src[e] != v)
                continue;
            CHECK(k < off[v + 1]);
            if (k < off[v + 1]) {
                CHECK_EQ_U64(dst[k], s->dst[e]);
                CHECK_EQ_U64(fld[k], s->field[e]);
            }
            k++;
        }
        CHECK_EQ_U64(k, off[v + 1]);
        /* In-edges: one source per edge into v, ascending. */
        uint32_t cnt[SMALL_MAX_N] = {0};
        for (uint32_t e = 0; e < s->m; e++)
            if (s->dst[e] == v)
                cnt[s->src[e]]++;
        for (uint32_t e = ioff[v]; e < ioff[v + 1]; e++) {
            CHECK(isrc[e] < s->n);
            if (isrc[e] < s->n)
                cnt[isrc[e]]--;
            if (e > ioff[v])
                CHECK(isrc[e - 1] <= isrc[e]);
        }
        for (uint32_t u = 0; u < s->n; u++)
            CHECK_EQ_U64(cnt[u], 0);
        /* graph_edge_field: first edge v -> u. */
        for (uint32_t u = 0; u < s->n; u++) {
            first_field = GRAPH_NONE;
            for (uint32_t e = 0; e < s->m; e++)
                if (s->src[e] == v && s->dst[e] == u) {
                    first_field = s->field[e];
                    break;
                }
            CHECK_EQ_U64(graph_edge_field(g, v, u), first_field);
        }
    }
}

static void test_random(void)
{
    for (int iter = 0; iter < 3000; iter++) {
        small_graph s;
        small_random(&s, 12, iter & 1);
        check_small(&s);
        graph_free(s.g);
    }
}

static void test_builder_api(void)
{
    hs_error err;
    graph_builder *b = graph_builder_new(3, 0);
    CHECK(b != NULL);
    CHECK(graph_builder_add_edge(b, 0, 3, 0) == HS_ERR_ARG); /* node 3 not yet there */
    CHECK(graph_builder_add_edge(b, 3, 0, 0) == HS_ERR_ARG);
    CHECK(graph_builder_set_size(b, 3, 1) == HS_ERR_ARG);
    CHECK_EQ_U64(graph_builder_edge_count(b), 0);
    uint32_t first = 0;
    CHECK(graph_builder_add_nodes(b, 100, &first, &err) == HS_OK);
    CHECK_EQ_U64(first, 3);
    CHECK_EQ_U64(graph_builder_node_count(b), 103);
    CHECK(graph_builder_set_size(b, 102, 4096) == HS_OK);
    /* Reverse source order (slow path) with growth past the initial capacity. */
    for (uint32_t v = 102; v > 0; v--)
        CHECK(graph_builder_add_edge(b, v, v - 1, v * 8) == HS_OK);
    CHECK(graph_builder_add_edge(b, 5, 5, 0) == HS_OK);
    CHECK(graph_builder_add_nodes(b, GRAPH_MAX_NODES, &first, &err) == HS_ERR_LIMIT);
    CHECK(err.status == HS_ERR_LIMIT);
    graph *g = NULL;
    CHECK(graph_build(b, &g, &err) == HS_OK);
    CHECK_EQ_U64(graph_node_count(g), 103);
    CHECK_EQ_U64(graph_edge_count(g), 103);
    CHECK_EQ_U64(graph_size(g, 102), 4096);
    CHECK_EQ_U64(graph_size(g, 7), 0);
    CHECK_EQ_U64(graph_edge_field(g, 50, 49), 400);
    CHECK_EQ_U64(graph_edge_field(g, 49, 50), GRAPH_NONE);
    CHECK_EQ_U64(graph_edge_field(g, 5, 5), 0);
    CHECK(graph_memory(g) > 0);
    graph_free(g);

    /* Empty graph. */
    b = graph_builder_new(0, 0);
    CHECK(graph_build(b, &g, NULL) == HS_OK);
    CHECK_EQ_U64(graph_node_count(g), 0);
    CHECK_EQ_U64(graph_out_offsets(g)[0], 0);
    graph_free(g);
    graph_free(NULL);
    graph_builder_free(NULL);
    CHECK(graph_builder_new(GRAPH_MAX_NODES + 1u, 0) == NULL);
    CHECK(graph_build(NULL, &g, &err) == HS_ERR_ARG);
}

static void test_big(void)
{
    uint32_t n = 2000000;
    graph *g = big_graph(n, n, edges_chain, (void *)1);
    CHECK_EQ_U64(graph_edge_count(g), n);
    const uint32_t *ioff = graph_in_offsets(g), *isrc = graph_in_src(g);
    int ok = 1;
    for (uint32_t v = 0; v < n; v++)
        if (ioff[v + 1] - ioff[v] != 1 || isrc[ioff[v]] != (v ? v - 1 : n - 1))
            ok = 0;
    CHECK(ok);
    graph_free(g);
}

/* Random edges (repeats and self-edges included) over a graph large enough that the reverse
 * adjacency is built by several threads. */
static void edges_random(graph_builder *b, uint32_t n, void *arg)
{
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t e = 0; e < (size_t)arg; e++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        graph_builder_add_edge(b, (uint32_t)(x % n), (uint32_t)((x >> 32) % n), (uint32_t)e);
    }
}

/* The reverse adjacency of a big random graph against a one-thread counting sort. */
static void test_big_reverse(void)
{
    uint32_t n = 300000;
    size_t m = 1200000;
    graph *g = big_graph(n, m, edges_random, (void *)m);
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    const uint32_t *ioff = graph_in_offsets(g), *isrc = graph_in_src(g);
    uint32_t *want_off = calloc((size_t)n + 1, sizeof *want_off);
    uint32_t *want_src = malloc(m * sizeof *want_src), *cur = malloc((size_t)n * sizeof *cur);
    for (uint32_t e = 0; e < off[n]; e++)
        want_off[dst[e] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        want_off[v + 1] += want_off[v];
    memcpy(cur, want_off, (size_t)n * sizeof *cur);
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t e = off[v]; e < off[v + 1]; e++)
            want_src[cur[dst[e]]++] = v;
    CHECK_EQ_U64(graph_edge_count(g), m);
    CHECK(memcmp(ioff, want_off, ((size_t)n + 1) * sizeof *ioff) == 0);
    CHECK(memcmp(isrc, want_src, m * sizeof *isrc) == 0);
    free(want_off);
    free(want_src);
    free(cur);
    graph_free(g);
}

int main(void)
{
    test_random();
    test_builder_api();
    test_big();
    test_big_reverse();
    return check_report();
}
