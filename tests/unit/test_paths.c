/* Unit tests for paths: BFS trees from roots against brute-force shortest distances on
 * thousands of random graphs (scan roots, finalizer roots excluded or not, blocked nodes,
 * early stop at a target), every extracted path is a real root-to-node path; big inputs.
 * paths_reach against brute force on small graphs and against paths_bfs on graphs big enough
 * for its sweeps, hubs and long chains. */
#include "algo_util.h"
#include "bitset.h"
#include "paths.h"

typedef struct rcase {
    graph_root roots[8];
    size_t nroots;
    uint8_t blocked[SMALL_MAX_N];
    uint32_t flags;
} rcase;

/* Brute force: dist[v] (SMALL_INF when unreached) and the first root seeding v. */
static void brute(const small_graph *s, const rcase *c, uint32_t *dist, uint32_t *seed_root)
{
    for (uint32_t v = 0; v < s->n; v++) {
        dist[v] = SMALL_INF;
        seed_root[v] = GRAPH_NONE;
    }
    for (size_t i = 0; i < c->nroots; i++) {
        const graph_root *r = &c->roots[i];
        if ((c->flags & PATHS_EXCLUDE_FINALIZER) && (r->flags & GRAPH_ROOT_FINALIZER))
            continue;
        if (c->blocked[r->node])
            continue;
        uint32_t seeds = (r->flags & GRAPH_ROOT_SCAN) ? small_referents(s, r->node)
                                                      : 1u << r->node;
        for (uint32_t v = 0; v < s->n; v++)
            if ((seeds >> v & 1) && !c->blocked[v] && dist[v]) {
                dist[v] = 0;
                seed_root[v] = (uint32_t)i;
            }
    }
    for (uint32_t round = 0; round < s->n; round++)
        for (uint32_t e = 0; e < s->m; e++) {
            uint32_t a = s->src[e], b = s->dst[e];
            if (dist[a] != SMALL_INF && !c->blocked[b] && dist[a] + 1 < dist[b])
                dist[b] = dist[a] + 1;
        }
}

/* The path to v is a real path: a seeded first step consistent with its root, then edges. */
static void check_path(const small_graph *s, const rcase *c, const paths_tree *t, uint32_t v,
                       uint32_t want_len)
{
    graph_step steps[SMALL_MAX_N + 2];
    size_t len = paths_extract(t, v, NULL, 0);
    CHECK_EQ_U64(len, want_len);
    if (len == 0 || len > SMALL_MAX_N)
        return;
    CHECK_EQ_U64(paths_extract(t, v, steps, len), len);
    CHECK_EQ_U64(steps[len - 1].node, v);
    uint32_t ri = paths_root_of(t, v);
    CHECK(ri < c->nroots);
    if (ri >= c->nroots)
        return;
    const graph_root *r = &c->roots[ri];
    CHECK(!((c->flags & PATHS_EXCLUDE_FINALIZER) && (r->flags & GRAPH_ROOT_FINALIZER)));
    CHECK(!c->blocked[r->node]);
    if (r->flags & GRAPH_ROOT_SCAN) {
        CHECK(steps[0].node != r->node);
        CHECK(small_has_edge(s, r->node, steps[0].node, steps[0].field));
    } else {
        CHECK_EQ_U64(steps[0].node, r->node);
        CHECK_EQ_U64(steps[0].field, GRAPH_NONE);
    }
    CHECK_EQ_U64(paths_parent(t, steps[0].node), GRAPH_NONE);
    for (size_t i = 0; i < len; i++) {
        CHECK(!c->blocked[steps[i].node]);
        CHECK_EQ_U64(paths_root_of(t, steps[i].node), ri);
        if (i == 0)
            continue;
        CHECK(small_has_edge(s, steps[i - 1].node, steps[i].node, steps[i].field));
        CHECK_EQ_U64(paths_parent(t, steps[i].node), steps[i - 1].node);
        CHECK_EQ_U64(paths_field(t, steps[i].node), steps[i].field);
    }
    /* A too-small buffer is left alone and the length still reported. */
    if (len > 1) {
        graph_step probe[1] = {{777, 777}};
        CHECK_EQ_U64(paths_extract(t, v, probe, len - 1), len);
        CHECK(probe[0].node == 777);
    }
}

static void test_random(void)
{
    for (int iter = 0; iter < 4000; iter++) {
        small_graph s;
        small_random(&s, 12, iter & 1);
        rcase c;
        memset(&c, 0, sizeof c);
        c.nroots = rnd(5);
        for (size_t i = 0; i < c.nroots; i++) {
            c.roots[i].node = rnd(s.n);
            c.roots[i].kind = (uint32_t)i + 100;
            c.roots[i].flags = rnd(3) == 0 ? GRAPH_ROOT_FINALIZER : 0;
            if (rnd(4) == 0)
                c.roots[i].flags |= GRAPH_ROOT_SCAN;
        }
        if (iter % 3 == 0)
            for (uint32_t v = 0; v < s.n; v++)
                c.blocked[v] = rnd(5) == 0;
        c.flags = rnd(2) ? PATHS_EXCLUDE_FINALIZER : 0;
        if (rnd(2))
            c.flags |= PATHS_RECORD_ROOT;
        uint32_t dist[SMALL_MAX_N], seed[SMALL_MAX_N];
        brute(&s, &c, dist, seed);

        paths_opts o = {c.flags, (iter % 3 == 0) ? c.blocked : NULL, GRAPH_NONE};
        paths_tree *t = NULL;
        CHECK(paths_bfs(s.g, c.roots, c.nroots, &o, &t, NULL) == HS_OK);
        uint32_t reached = 0;
        for (uint32_t v = 0; v < s.n; v++) {
            int want = dist[v] != SMALL_INF;
            reached += (uint32_t)want;
            CHECK_EQ_U64(paths_reached(t, v), want);
            check_path(&s, &c, t, v, want ? dist[v] + 1 : 0);
            if (want && dist[v] == 0)
                CHECK_EQ_U64(paths_root_of(t, v), seed[v]); /* earlier root wins */
            if (!want) {
                CHECK_EQ_U64(paths_root_of(t, v), GRAPH_NONE);
                CHECK_EQ_U64(paths_field(t, v), GRAPH_NONE);
            }
        }
        CHECK_EQ_U64(paths_reached_count(t), reached);
        paths_free(t);

        /* Early stop at a target: same reachability and distance for the target. */
        uint32_t target = rnd(s.n);
        o.target = target;
        CHECK(paths_bfs(s.g, c.roots, c.nroots, &o, &t, NULL) == HS_OK);
        CHECK_EQ_U64(paths_reached(t, target), dist[target] != SMALL_INF);
        check_path(&s, &c, t, target, dist[target] != SMALL_INF ? dist[target] + 1 : 0);
        for (uint32_t v = 0; v < s.n; v++) /* whatever was reached has a shortest path */
            if (paths_reached(t, v))
                CHECK_EQ_U64(paths_extract(t, v, NULL, 0), dist[v] + 1);
        paths_free(t);
        graph_free(s.g);
    }
}

static void test_errors(void)
{
    small_graph s;
    small_random(&s, 4, 0);
    graph_root bad = {s.n, 0, 0};
    paths_tree *t = (paths_tree *)&s;
    hs_error err;
    CHECK(paths_bfs(s.g, &bad, 1, NULL, &t, &err) == HS_ERR_ARG);
    CHECK(t == NULL);
    CHECK(paths_bfs(s.g, NULL, 0, NULL, &t, &err) == HS_OK);
    CHECK_EQ_U64(paths_reached_count(t), 0);
    CHECK_EQ_U64(paths_extract(t, 0, NULL, 0), 0);
    CHECK_EQ_U64(paths_root_of(t, s.n + 5), GRAPH_NONE);
    paths_free(t);
    paths_free(NULL);
    graph_free(s.g);
}

static void test_big(void)
{
    /* 2M chain: the path to the last node has 2M steps. */
    uint32_t n = 2000000;
    graph *g = big_graph(n, n, edges_chain, NULL);
    graph_root root = {0, 1, 0};
    paths_tree *t = NULL;
    CHECK(paths_bfs(g, &root, 1, NULL, &t, NULL) == HS_OK);
    size_t len = paths_extract(t, n - 1, NULL, 0);
    CHECK_EQ_U64(len, n);
    graph_step *steps = malloc(len * sizeof *steps);
    CHECK_EQ_U64(paths_extract(t, n - 1, steps, len), n);
    CHECK_EQ_U64(steps[0].node, 0);
    CHECK_EQ_U64(steps[n / 2].node, n / 2);
    CHECK_EQ_U64(paths_root_of(t, n - 1), 0);
    free(steps);
    paths_free(t);
    /* Blocking node 1000 cuts the chain. */
    uint8_t *blocked = calloc(n, 1);
    blocked[1000] = 1;
    paths_opts o = {0, blocked, GRAPH_NONE};
    CHECK(paths_bfs(g, &root, 1, &o, &t, NULL) == HS_OK);
    CHECK_EQ_U64(paths_reached_count(t), 1000);
    paths_free(t);
    free(blocked);
    graph_free(g);

    /* 1M cycle seeded by a scan of node 0: node 0 is reached last, through the cycle. */
    n = 1000000;
    g = big_graph(n, n, edges_chain, (void *)1);
    root.flags = GRAPH_ROOT_SCAN;
    CHECK(paths_bfs(g, &root, 1, NULL, &t, NULL) == HS_OK);
    CHECK_EQ_U64(paths_reached_count(t), n);
    CHECK_EQ_U64(paths_extract(t, 0, NULL, 0), n);
    CHECK_EQ_U64(paths_field(t, 1), 0);
    CHECK_EQ_U64(paths_field(t, 0), 8);
    paths_free(t);
    graph_free(g);

    /* Star with 1M fan-in: all leaves are roots; the center hangs from the first leaf. */
    g = big_graph(n, n, edges_star_in, NULL);
    graph_root *roots = malloc((n - 1) * sizeof *roots);
    for (uint32_t v = 1; v < n; v++)
        roots[v - 1] = (graph_root){v, 2, 0};
    paths_opts rec = {PATHS_RECORD_ROOT, NULL, GRAPH_NONE};
    CHECK(paths_bfs(g, roots, n - 1, &rec, &t, NULL) == HS_OK);
    CHECK_EQ_U64(paths_parent(t, 0), 1);
    CHECK_EQ_U64(paths_root_of(t, 0), 0);
    CHECK_EQ_U64(paths_field(t, 0), 24);
    paths_free(t);
    free(roots);
    graph_free(g);
}

/* Brute force for paths_reach: the seeds, then whatever an edge (reversed with reverse) leads
 * to from the set, below limit. */
static uint32_t reach_brute(const small_graph *s, uint32_t from, int reverse, uint32_t limit)
{
    uint32_t r = from, prev;
    do {
        prev = r;
        for (uint32_t e = 0; e < s->m; e++) {
            uint32_t a = reverse ? s->dst[e] : s->src[e], b = reverse ? s->src[e] : s->dst[e];
            if ((r >> a & 1) && b < limit)
                r |= 1u << b;
        }
    } while (r != prev);
    return r;
}

/* paths_reach's set equals the brute-force closure of the seeds on small graphs, forward and
 * backward, with and without a node limit. */
static void test_reach_small(void)
{
    for (int iter = 0; iter < 4000; iter++) {
        small_graph s;
        small_random(&s, 16, iter & 1);
        uint32_t seeds[4], from = 0;
        size_t ns = rnd(5);
        for (size_t i = 0; i < ns; i++) {
            seeds[i] = rnd(s.n);
            from |= 1u << seeds[i];
        }
        paths_reach_opts o = {iter % 3 == 1, iter % 3 && iter % 4 == 2 ? rnd(s.n + 1) : 0};
        uint32_t want = reach_brute(&s, from, o.reverse, o.limit ? o.limit : s.n);
        uint32_t count = 12345;
        uint64_t *bits = NULL;
        CHECK(paths_reach(s.g, seeds, ns, iter % 3 ? &o : NULL, &bits, &count, NULL) == HS_OK);
        uint32_t got = 0;
        for (uint32_t v = 0; v < s.n; v++)
            got |= (uint32_t)bitset_get(bits, v) << v;
        CHECK_EQ_U64(got, want);
        CHECK_EQ_U64(count, (uint32_t)__builtin_popcount(want));
        free(bits);
        graph_free(s.g);
    }
}

/* Random edges plus hubs with thousands of children (more pending nodes than the stack holds,
 * so sweeps run and nodes found behind a sweep wait for the next). */
static void edges_hubs(graph_builder *b, uint32_t n, void *arg)
{
    uint32_t deg = (uint32_t)(uintptr_t)arg;
    for (uint32_t v = 0; v < n; v++) {
        uint32_t k = v % 997 == 0 ? 5000 : rnd(deg + 1);
        for (uint32_t j = 0; j < k; j++)
            graph_builder_add_edge(b, v, rnd(n), 8 * j);
    }
}

/* i -> i-1 for i >= 1. */
static void edges_chain_down(graph_builder *b, uint32_t n, void *arg)
{
    (void)arg;
    for (uint32_t v = 1; v < n; v++)
        graph_builder_add_edge(b, v, v - 1, 0);
}

/* Same reachability as paths_bfs from the same seeds. */
static void check_reach_like_bfs(const graph *g, const uint32_t *seeds, size_t ns)
{
    uint32_t n = graph_node_count(g);
    graph_root *roots = malloc((ns + 1) * sizeof *roots);
    for (size_t i = 0; i < ns; i++)
        roots[i] = (graph_root){seeds[i], 0, 0};
    paths_tree *t = NULL;
    uint64_t *bits = NULL;
    uint32_t count = 0;
    CHECK(paths_bfs(g, roots, ns, NULL, &t, NULL) == HS_OK);
    CHECK(paths_reach(g, seeds, ns, NULL, &bits, &count, NULL) == HS_OK);
    uint32_t diff = 0;
    for (uint32_t v = 0; v < n; v++)
        diff += bitset_get(bits, v) != paths_reached(t, v);
    CHECK_EQ_U64(diff, 0);
    CHECK_EQ_U64(count, paths_reached_count(t));
    free(bits);
    paths_free(t);
    free(roots);
}

static void test_reach_big(void)
{
    for (int iter = 0; iter < 12; iter++) {
        uint32_t n = 2000 + rnd(60000);
        graph *g = big_graph(n, 0, edges_hubs, (void *)(uintptr_t)(iter % 4));
        uint32_t seeds[3] = {rnd(n), rnd(n), (uint32_t)(n / 997 * 997)};
        check_reach_like_bfs(g, seeds, 1 + (size_t)(iter % 3));
        graph_free(g);
    }
    /* 1M chains: up from node 0, and down from the last node (each edge points behind). */
    uint32_t n = 1000000;
    graph *g = big_graph(n, n, edges_chain_down, NULL);
    uint32_t seed = n - 1, count = 0;
    uint64_t *bits = NULL;
    CHECK(paths_reach(g, &seed, 1, NULL, &bits, &count, NULL) == HS_OK);
    CHECK_EQ_U64(count, n);
    CHECK(bitset_get(bits, 0));
    free(bits);
    graph_free(g);
    g = big_graph(n, n, edges_chain, NULL);
    seed = n / 2;
    CHECK(paths_reach(g, &seed, 1, NULL, &bits, &count, NULL) == HS_OK);
    CHECK_EQ_U64(count, n - n / 2);
    CHECK(!bitset_get(bits, n / 2 - 1));
    free(bits);
    graph_free(g);
    g = big_graph(n, n, edges_star_in, NULL);
    seed = n - 1;
    CHECK(paths_reach(g, &seed, 1, NULL, &bits, &count, NULL) == HS_OK);
    CHECK_EQ_U64(count, 2);
    free(bits);
    uint32_t bad = n;
    hs_error err;
    bits = (uint64_t *)&err;
    CHECK(paths_reach(g, &bad, 1, NULL, &bits, NULL, &err) == HS_ERR_ARG);
    CHECK(bits == NULL);
    graph_free(g);
}

int main(void)
{
    test_random();
    test_reach_small();
    test_reach_big();
    test_errors();
    test_big();
    return check_report();
}
