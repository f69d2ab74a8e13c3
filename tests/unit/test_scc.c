/* Unit tests for scc: components against pairwise reachability on thousands of random graphs
 * (with and without a node mask), reverse topological numbering, members/sizes/bytes, real
 * cycles, shortest concrete cycles; big chain / cycle / star without stack overflow. */
#include "algo_util.h"
#include "scc.h"

static void check_case(const small_graph *s, const uint8_t *mask)
{
    uint32_t in = 0; /* nodes kept by the mask */
    for (uint32_t v = 0; v < s->n; v++)
        if (!mask || mask[v])
            in |= 1u << v;
    uint32_t out = ((s->n == 32) ? 0 : (1u << s->n)) - 1u;
    out &= ~in;
    /* Reachability inside the induced subgraph: closure avoiding masked-out nodes. */
    uint32_t reach[SMALL_MAX_N];
    for (uint32_t v = 0; v < s->n; v++)
        reach[v] = small_closure(s, 1u << v, out);
    scc_result *c = NULL;
    CHECK(scc_compute(s->g, mask, &c, NULL) == HS_OK);
    uint32_t total = 0;
    for (uint32_t u = 0; u < s->n; u++) {
        if (!(in >> u & 1)) {
            CHECK_EQ_U64(scc_of(c, u), GRAPH_NONE);
            continue;
        }
        CHECK(scc_of(c, u) < scc_count(c));
        for (uint32_t v = 0; v < s->n; v++) {
            if (!(in >> v & 1))
                continue;
            int same = (reach[u] >> v & 1) && (reach[v] >> u & 1);
            CHECK_EQ_U64(scc_of(c, u) == scc_of(c, v), same);
        }
    }
    /* Reverse topological ids: an edge between components goes to a smaller id. */
    for (uint32_t e = 0; e < s->m; e++) {
        uint32_t a = scc_of(c, s->src[e]), b = scc_of(c, s->dst[e]);
        if (a != GRAPH_NONE && b != GRAPH_NONE && a != b)
            CHECK(a > b);
    }
    for (uint32_t k = 0; k < scc_count(c); k++) {
        uint32_t cnt = 0;
        const uint32_t *mem = scc_members(c, k, &cnt);
        CHECK(cnt >= 1);
        CHECK_EQ_U64(scc_size(c, k), cnt);
        uint64_t bytes = 0;
        int self = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            CHECK_EQ_U64(scc_of(c, mem[i]), k);
            if (i)
                CHECK(mem[i - 1] < mem[i]);
            bytes += s->size[mem[i]];
            for (uint32_t e = 0; e < s->m; e++)
                if (s->src[e] == mem[i] && s->dst[e] == mem[i])
                    self = 1;
        }
        total += cnt;
        CHECK_EQ_U64(scc_bytes(c, k), bytes);
        CHECK_EQ_U64(scc_is_cycle(c, k), cnt >= 2 || self);
    }
    CHECK_EQ_U64(total, (uint32_t)__builtin_popcount(in));

    /* Concrete cycles through each node. */
    for (uint32_t v = 0; v < s->n; v++) {
        graph_step st[SMALL_MAX_N + 2];
        size_t len = scc_cycle(c, v, st, SMALL_MAX_N + 2);
        uint32_t k = scc_of(c, v);
        int self = 0;
        for (uint32_t e = 0; e < s->m; e++)
            if (s->src[e] == v && s->dst[e] == v)
                self = 1;
        if (k == GRAPH_NONE || (scc_size(c, k) < 2 && !self)) {
            CHECK_EQ_U64(len, 0);
            continue;
        }
        /* Expected: shortest cycle of length >= 2 through v inside the component (all its
         * nodes are in the component), or the self-edge. */
        uint32_t want = 2;
        if (scc_size(c, k) >= 2) {
            uint32_t best = SMALL_INF;
            for (uint32_t e = 0; e < s->m; e++) {
                uint32_t w = s->dst[e];
                if (s->src[e] != v || w == v || scc_of(c, w) != k)
                    continue;
                /* BFS distance w -> v inside the component. */
                uint32_t seen = 1u << w, frontier = 1u << w, d = 0;
                while (!(seen >> v & 1) && frontier) {
                    uint32_t next = 0;
                    for (uint32_t f = 0; f < s->m; f++)
                        if ((frontier >> s->src[f] & 1) && scc_of(c, s->dst[f]) == k &&
                            !(seen >> s->dst[f] & 1))
                            next |= 1u << s->dst[f];
                    seen |= next;
                    frontier = next;
                    d++;
                }
                if ((seen >> v & 1) && d + 1 < best)
                    best = d + 1;
            }
            want = best + 1;
        }
        CHECK_EQ_U64(len, want);
        if (len != want || len > SMALL_MAX_N + 2)
            continue;
        CHECK_EQ_U64(st[0].node, v);
        CHECK_EQ_U64(st[0].field, GRAPH_NONE);
        CHECK_EQ_U64(st[len - 1].node, v);
        for (size_t i = 1; i < len; i++) {
            CHECK_EQ_U64(scc_of(c, st[i].node), k);
            CHECK(small_has_edge(s, st[i - 1].node, st[i].node, st[i].field));
            if (i < len - 1)
                CHECK(st[i].node != v);
        }
        CHECK_EQ_U64(scc_cycle(c, v, st, len - 1), len); /* too small: length only */
    }
    scc_free(c);
}

static void test_random(void)
{
    for (int iter = 0; iter < 4000; iter++) {
        small_graph s;
        small_random(&s, 12, iter & 1);
        check_case(&s, NULL);
        uint8_t mask[SMALL_MAX_N];
        for (uint32_t v = 0; v < s.n; v++)
            mask[v] = rnd(4) != 0;
        check_case(&s, mask);
        graph_free(s.g);
    }
}

static void test_big(void)
{
    /* 2M chain: 2M singleton components, none a cycle, ids reverse topological. */
    uint32_t n = 2000000;
    graph *g = big_graph(n, n, edges_chain, NULL);
    scc_result *c = NULL;
    CHECK(scc_compute(g, NULL, &c, NULL) == HS_OK);
    CHECK_EQ_U64(scc_count(c), n);
    CHECK(scc_of(c, 0) > scc_of(c, 1));
    CHECK_EQ_U64(scc_of(c, n - 1), 0);
    CHECK(!scc_is_cycle(c, scc_of(c, 77)));
    CHECK_EQ_U64(scc_cycle(c, 77, NULL, 0), 0);
    scc_free(c);
    graph_free(g);

    /* 1M cycle: one component; the cycle through node 5 has every node. */
    n = 1000000;
    g = big_graph(n, n, edges_chain, (void *)1);
    CHECK(scc_compute(g, NULL, &c, NULL) == HS_OK);
    CHECK_EQ_U64(scc_count(c), 1);
    CHECK_EQ_U64(scc_size(c, 0), n);
    CHECK_EQ_U64(scc_bytes(c, 0), 8ull * n);
    CHECK(scc_is_cycle(c, 0));
    size_t len = scc_cycle(c, 5, NULL, 0);
    CHECK_EQ_U64(len, n + 1);
    graph_step *st = malloc(len * sizeof *st);
    CHECK_EQ_U64(scc_cycle(c, 5, st, len), len);
    CHECK_EQ_U64(st[1].node, 6);
    CHECK_EQ_U64(st[len - 1].node, 5);
    free(st);
    scc_free(c);
    graph_free(g);

    /* Star with 1M fan-in: all singletons. */
    g = big_graph(n, n, edges_star_in, NULL);
    CHECK(scc_compute(g, NULL, &c, NULL) == HS_OK);
    CHECK_EQ_U64(scc_count(c), n);
    CHECK_EQ_U64(scc_of(c, 0), 0); /* the sink completes first */
    scc_free(c);
    graph_free(g);
}

int main(void)
{
    test_random();
    test_big();
    return check_report();
}
