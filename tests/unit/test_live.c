/* Unit tests for liveness: states and pin reasons against a naive fixed-point marker written
 * straight from Go's rules (mgcmark.go: program roots; for each finalizer special on X mark
 * what X points to but not X, and the funcval; self-pointers never mark), on thousands of
 * random graphs; pinning paths are real paths matching their reason; the cases docs/heap-model.md
 * "Roots and liveness" names; big inputs; the search budget. */
#include "algo_util.h"
#include "live.h"

#define MAXSP 6

typedef struct lcase {
    graph_root roots[6];
    size_t nroots;
    live_special sp[MAXSP];
    size_t nsp;
} lcase;

/* Naive marker: fixed point over Go's rules. fin != 0 adds the finalizer roots. */
static uint32_t naive_mark(const small_graph *s, const lcase *c, int fin)
{
    uint32_t m = 0, prev;
    for (size_t i = 0; i < c->nroots; i++)
        m |= 1u << c->roots[i].node;
    do {
        prev = m;
        if (fin)
            for (size_t i = 0; i < c->nsp; i++) {
                if (c->sp[i].fn != GRAPH_NONE)
                    m |= 1u << c->sp[i].fn;
                for (uint32_t e = 0; e < s->m; e++) /* scan X: not X itself */
                    if (s->src[e] == c->sp[i].obj && s->dst[e] != c->sp[i].obj)
                        m |= 1u << s->dst[e];
            }
        for (uint32_t e = 0; e < s->m; e++) /* scanobject skips self-pointers */
            if ((m >> s->src[e] & 1) && s->dst[e] != s->src[e])
                m |= 1u << s->dst[e];
    } while (m != prev);
    return m;
}

/* Shortest path length in edges from the set `from` to x (SMALL_INF if none). */
static uint32_t dist_from(const small_graph *s, uint32_t from, uint32_t x)
{
    uint32_t seen = from, frontier = from, d = 0;
    while (!(seen >> x & 1)) {
        uint32_t next = 0;
        for (uint32_t e = 0; e < s->m; e++)
            if ((frontier >> s->src[e] & 1) && !(seen >> s->dst[e] & 1))
                next |= 1u << s->dst[e];
        if (!next)
            return SMALL_INF;
        seen |= next;
        frontier = next;
        d++;
    }
    return d;
}

static uint32_t seen_state[LIVE_NSTATES], seen_reason[4];

static void check_case(const small_graph *s, const lcase *c)
{
    live_result *r = NULL;
    CHECK(live_compute(s->g, c->roots, c->nroots, c->sp, c->nsp, &r, NULL) == HS_OK);
    if (!r)
        return;
    uint32_t inuse = naive_mark(s, c, 0), marked = naive_mark(s, c, 1);
    uint32_t isfin = 0;
    for (size_t i = 0; i < c->nsp; i++)
        isfin |= 1u << c->sp[i].obj;
    uint32_t count[LIVE_NSTATES] = {0};
    uint64_t bytes[LIVE_NSTATES] = {0};
    for (uint32_t v = 0; v < s->n; v++) {
        live_state want;
        if (inuse >> v & 1)
            want = LIVE_IN_USE;
        else if (isfin >> v & 1)
            want = (marked >> v & 1) ? LIVE_PINNED : LIVE_PENDING;
        else
            want = (marked >> v & 1) ? LIVE_FIN_REACHABLE : LIVE_GARBAGE;
        CHECK_EQ_U64(live_state_of(r, v), want);
        count[want]++;
        bytes[want] += s->size[v];
        CHECK_EQ_U64(paths_reached(live_program_tree(r), v), want == LIVE_IN_USE);

        live_pin_reason why = LIVE_PIN_NONE;
        uint32_t own_dist = SMALL_INF, cyc_dist = SMALL_INF;
        if (want == LIVE_PINNED) {
            for (size_t i = 0; i < c->nsp; i++)
                if (c->sp[i].obj == v && c->sp[i].fn != GRAPH_NONE) {
                    uint32_t d = dist_from(s, 1u << c->sp[i].fn, v);
                    if (d < own_dist)
                        own_dist = d;
                }
            uint32_t refs = small_referents(s, v);
            if (refs) {
                cyc_dist = dist_from(s, refs, v);
                if (cyc_dist != SMALL_INF)
                    cyc_dist++;
            }
            why = own_dist != SMALL_INF   ? LIVE_PIN_OWN_CLOSURE
                  : cyc_dist != SMALL_INF ? LIVE_PIN_CYCLE
                                          : LIVE_PIN_OTHER_FINALIZER;
        }
        CHECK_EQ_U64(live_pin_reason_of(r, v), why);
        seen_state[want]++;
        seen_reason[why]++;

        /* Keeper and pinning path. */
        uint32_t keeper = live_keeper(r, v);
        graph_step st[2 * SMALL_MAX_N + 2];
        uint32_t spec = 7777;
        size_t len = live_pin_path(r, v, st, 2 * SMALL_MAX_N + 2, &spec);
        if (want != LIVE_PINNED && want != LIVE_FIN_REACHABLE) {
            CHECK_EQ_U64(keeper, GRAPH_NONE);
            CHECK_EQ_U64(len, 0);
            continue;
        }
        CHECK(keeper < c->nsp);
        CHECK(spec < c->nsp);
        CHECK(len >= 1);
        if (keeper >= c->nsp || spec >= c->nsp || len < 1)
            continue;
        CHECK_EQ_U64(st[len - 1].node, v);
        CHECK_EQ_U64(st[0].field, GRAPH_NONE);
        for (size_t i = 1; i < len; i++) {
            CHECK(small_has_edge(s, st[i - 1].node, st[i].node, st[i].field));
            CHECK(st[i].node != st[i - 1].node);
            CHECK(!(inuse >> st[i].node & 1));
        }
        const live_special *k = &c->sp[spec];
        if (why == LIVE_PIN_OWN_CLOSURE) {
            CHECK_EQ_U64(k->obj, v);
            CHECK_EQ_U64(st[0].node, k->fn);
            /* Shortest from the chosen funcval (several specials on one X are possible). */
            CHECK_EQ_U64(len, dist_from(s, 1u << k->fn, v) + 1);
        } else if (why == LIVE_PIN_CYCLE) {
            CHECK_EQ_U64(c->sp[keeper].obj, v);
            CHECK_EQ_U64(st[0].node, v);
            CHECK_EQ_U64(len, cyc_dist + 1);
        } else {
            CHECK_EQ_U64(spec, keeper);
            /* Starts at the keeper's funcval, or at its X followed by a referent. */
            if (st[0].node == k->fn && k->fn != GRAPH_NONE)
                CHECK(1);
            else {
                CHECK_EQ_U64(st[0].node, k->obj);
                CHECK(len >= 2);
            }
            if (why == LIVE_PIN_OTHER_FINALIZER) /* the keeper is another finalizer */
                CHECK(k->obj != v);
        }
    }
    for (int st = 0; st < LIVE_NSTATES; st++) {
        CHECK_EQ_U64(live_count(r, (live_state)st), count[st]);
        CHECK_EQ_U64(live_bytes(r, (live_state)st), bytes[st]);
    }
    CHECK(live_reasons_exact(r));
    live_free(r);
}

static void test_random(void)
{
    for (int iter = 0; iter < 6000; iter++) {
        small_graph s;
        small_random(&s, 12, iter & 1);
        lcase c;
        memset(&c, 0, sizeof c);
        c.nroots = rnd(3);
        for (size_t i = 0; i < c.nroots; i++)
            c.roots[i] = (graph_root){rnd(s.n), 1, rnd(4) == 0 ? GRAPH_ROOT_FINALIZER : 0};
        c.nsp = rnd(MAXSP + 1);
        for (size_t i = 0; i < c.nsp; i++) {
            c.sp[i].obj = rnd(s.n);
            c.sp[i].fn = rnd(3) == 0 ? GRAPH_NONE : rnd(s.n);
        }
        check_case(&s, &c);
        graph_free(s.g);
    }
    /* The random cases exercise every state and every pin reason. */
    for (int i = 0; i < LIVE_NSTATES; i++)
        CHECK(seen_state[i] > 100);
    for (int i = 1; i < 4; i++)
        CHECK(seen_reason[i] > 100);
}

/* Small fixed graph from an edge list. */
static graph *mk(uint32_t n, const uint32_t (*e)[2], size_t m)
{
    graph_builder *b = graph_builder_new(n, m);
    for (uint32_t v = 0; v < n; v++)
        graph_builder_set_size(b, v, 16);
    for (size_t i = 0; i < m; i++)
        graph_builder_add_edge(b, e[i][0], e[i][1], 8 * (uint32_t)i);
    graph *g = NULL;
    graph_build(b, &g, NULL);
    return g;
}

static void test_design_cases(void)
{
    live_result *r;
    /* X (0) with a self-pointer and a child (1), its finalizer funcval F (2) captures nothing:
     * pending; the child is kept for the finalizer. */
    {
        const uint32_t e[][2] = {{0, 0}, {0, 1}};
        graph *g = mk(3, e, 2);
        live_special sp = {0, 2};
        CHECK(live_compute(g, NULL, 0, &sp, 1, &r, NULL) == HS_OK);
        CHECK_EQ_U64(live_state_of(r, 0), LIVE_PENDING);
        CHECK_EQ_U64(live_state_of(r, 1), LIVE_FIN_REACHABLE);
        CHECK_EQ_U64(live_state_of(r, 2), LIVE_FIN_REACHABLE);
        CHECK_EQ_U64(live_keeper(r, 1), 0);
        CHECK_EQ_U64(live_count(r, LIVE_PENDING), 1);
        live_free(r);
        graph_free(g);
    }
    /* Own closure: F (1) captures X (0). The path is F -> X. */
    {
        const uint32_t e[][2] = {{1, 0}};
        graph *g = mk(2, e, 1);
        live_special sp = {0, 1};
        CHECK(live_compute(g, NULL, 0, &sp, 1, &r, NULL) == HS_OK);
        CHECK_EQ_U64(live_state_of(r, 0), LIVE_PINNED);
        CHECK_EQ_U64(live_pin_reason_of(r, 0), LIVE_PIN_OWN_CLOSURE);
        graph_step st[4];
        CHECK_EQ_U64(live_pin_path(r, 0, st, 4, NULL), 2);
        CHECK(st[0].node == 1 && st[1].node == 0 && st[1].field == 0);
        live_free(r);
        /* ...but in use when a global (2 as a root) holds X. */
        graph_root root = {0, 5, 0};
        CHECK(live_compute(g, &root, 1, &sp, 1, &r, NULL) == HS_OK);
        CHECK_EQ_U64(live_state_of(r, 0), LIVE_IN_USE);
        CHECK_EQ_U64(live_pin_reason_of(r, 0), LIVE_PIN_NONE);
        CHECK_EQ_U64(paths_root_of(live_program_tree(r), 0), 0);
        live_free(r);
        graph_free(g);
    }
    /* Cycle of length 2 through X: X (0) -> A (1) -> X. */
    {
        const uint32_t e[][2] = {{0, 1}, {1, 0}};
        graph *g = mk(2, e, 2);
        live_special sp = {0, GRAPH_NONE};
        CHECK(live_compute(g, NULL, 0, &sp, 1, &r, NULL) == HS_OK);
        CHECK_EQ_U64(live_state_of(r, 0), LIVE_PINNED);
        CHECK_EQ_U64(live_pin_reason_of(r, 0), LIVE_PIN_CYCLE);
        graph_step st[4];
        CHECK_EQ_U64(live_pin_path(r, 0, st, 4, NULL), 3);
        CHECK(st[0].node == 0 && st[1].node == 1 && st[2].node == 0 && st[2].field == 8);
        live_free(r);
        graph_free(g);
    }
    /* Two finalizer objects pointing at each other: both pinned forever. A chain that ends in
     * a pinned object: Z (2, finalizer) is reached from X's referents -> pinned by another. */
    {
        const uint32_t e[][2] = {{0, 1}, {1, 0}, {1, 2}};
        graph *g = mk(3, e, 3);
        live_special sp[3] = {{0, GRAPH_NONE}, {1, GRAPH_NONE}, {2, GRAPH_NONE}};
        CHECK(live_compute(g, NULL, 0, sp, 3, &r, NULL) == HS_OK);
        CHECK_EQ_U64(live_state_of(r, 0), LIVE_PINNED);
        CHECK_EQ_U64(live_state_of(r, 1), LIVE_PINNED);
        CHECK_EQ_U64(live_state_of(r, 2), LIVE_PINNED);
        CHECK_EQ_U64(live_pin_reason_of(r, 2), LIVE_PIN_OTHER_FINALIZER);
        CHECK_EQ_U64(live_keeper(r, 2), 1);
        graph_step st[4];
        uint32_t who = 99;
        CHECK_EQ_U64(live_pin_path(r, 2, st, 4, &who), 2); /* X'=1 scanned -> 2 */
        CHECK(who == 1 && st[0].node == 1 && st[1].node == 2 && st[1].field == 16);
        live_free(r);
        graph_free(g);
    }
    /* Bad input. */
    {
        const uint32_t e[][2] = {{0, 1}};
        graph *g = mk(2, e, 1);
        live_special sp = {2, GRAPH_NONE};
        hs_error err;
        r = (live_result *)g;
        CHECK(live_compute(g, NULL, 0, &sp, 1, &r, &err) == HS_ERR_ARG);
        CHECK(r == NULL);
        graph_root root = {9, 0, 0};
        CHECK(live_compute(g, &root, 1, NULL, 0, &r, &err) == HS_ERR_ARG);
        live_free(NULL);
        graph_free(g);
    }
    /* live_special_roots. */
    {
        live_special sp[2] = {{3, 4}, {5, GRAPH_NONE}};
        graph_root out[4];
        CHECK_EQ_U64(live_special_roots(sp, 2, 10, 11, out), 3);
        CHECK(out[0].node == 4 && out[0].kind == 10 && out[0].flags == GRAPH_ROOT_FINALIZER);
        CHECK(out[1].node == 3 && out[1].kind == 11 &&
              out[1].flags == (GRAPH_ROOT_FINALIZER | GRAPH_ROOT_SCAN));
        CHECK(out[2].node == 5 && out[2].kind == 11);
    }
}

/* Chain of k finalizer objects X_i = i, funcvals F_i = k + i, each F_i -> X_0: every X_i is
 * pinned by its own closure, found only by searching the chain (cost ~ k^2/2). */
static void edges_own_chain(graph_builder *b, uint32_t n, void *arg)
{
    (void)arg;
    uint32_t k = n / 2;
    for (uint32_t v = 0; v + 1 < k; v++)
        graph_builder_add_edge(b, v, v + 1, 0);
    for (uint32_t i = 0; i < k; i++)
        graph_builder_add_edge(b, k + i, 0, 8);
}

static void test_budget(void)
{
    for (int big = 0; big < 2; big++) {
        uint32_t k = big ? 6000 : 600;
        graph *g = big_graph(2 * k, 2 * (size_t)k, edges_own_chain, NULL);
        live_special *sp = malloc(k * sizeof *sp);
        for (uint32_t i = 0; i < k; i++)
            sp[i] = (live_special){i, k + i};
        live_result *r = NULL;
        CHECK(live_compute(g, NULL, 0, sp, k, &r, NULL) == HS_OK);
        CHECK_EQ_U64(live_count(r, LIVE_PINNED), k);
        uint32_t own = 0;
        for (uint32_t i = 0; i < k; i++)
            own += live_pin_reason_of(r, i) == LIVE_PIN_OWN_CLOSURE;
        if (!big) {
            CHECK(live_reasons_exact(r));
            CHECK_EQ_U64(own, k);
        } else { /* budget ran out: states still exact, reasons flagged approximate */
            CHECK(!live_reasons_exact(r));
            CHECK(own < k && own > 100);
        }
        graph_step *st = malloc((k + 2) * sizeof *st);
        CHECK_EQ_U64(live_pin_path(r, k - 1, st, k + 2, NULL), big ? 2 : k + 1);
        free(st);
        live_free(r);
        free(sp);
        graph_free(g);
    }
}

static void test_big(void)
{
    /* 2M chain rooted at 0: all in use. */
    uint32_t n = 2000000;
    graph *g = big_graph(n, n, edges_chain, NULL);
    graph_root root = {0, 1, 0};
    live_result *r = NULL;
    CHECK(live_compute(g, &root, 1, NULL, 0, &r, NULL) == HS_OK);
    CHECK_EQ_U64(live_count(r, LIVE_IN_USE), n);
    CHECK_EQ_U64(paths_extract(live_program_tree(r), n - 1, NULL, 0), n);
    live_free(r);
    /* Unrooted 2M chain of finalizer objects: the head is pending, each other one is pinned by
     * its predecessor's finalizer. */
    live_special *sp = malloc(n * sizeof *sp);
    for (uint32_t v = 0; v < n; v++)
        sp[v] = (live_special){v, GRAPH_NONE};
    CHECK(live_compute(g, NULL, 0, sp, n, &r, NULL) == HS_OK);
    CHECK_EQ_U64(live_state_of(r, 0), LIVE_PENDING);
    CHECK_EQ_U64(live_count(r, LIVE_PINNED), n - 1);
    CHECK_EQ_U64(live_pin_reason_of(r, n - 1), LIVE_PIN_OTHER_FINALIZER);
    CHECK_EQ_U64(live_keeper(r, n - 1), n - 2); /* seeded by the scan of its predecessor */
    CHECK_EQ_U64(live_pin_path(r, n - 1, NULL, 0, NULL), 2);
    CHECK(live_reasons_exact(r));
    live_free(r);
    graph_free(g);

    /* 1M cycle with one finalizer object: pinned by the cycle, the rest kept for it. */
    n = 1000000;
    g = big_graph(n, n, edges_chain, (void *)1);
    sp[0] = (live_special){500, GRAPH_NONE};
    CHECK(live_compute(g, NULL, 0, sp, 1, &r, NULL) == HS_OK);
    CHECK_EQ_U64(live_state_of(r, 500), LIVE_PINNED);
    CHECK_EQ_U64(live_pin_reason_of(r, 500), LIVE_PIN_CYCLE);
    CHECK_EQ_U64(live_count(r, LIVE_FIN_REACHABLE), n - 1);
    CHECK_EQ_U64(live_pin_path(r, 500, NULL, 0, NULL), n + 1);
    live_free(r);
    graph_free(g);

    /* Star with 1M fan-in onto a finalizer object whose funcval is leaf 1: own closure. */
    g = big_graph(n, n, edges_star_in, NULL);
    sp[0] = (live_special){0, 1};
    CHECK(live_compute(g, NULL, 0, sp, 1, &r, NULL) == HS_OK);
    CHECK_EQ_U64(live_pin_reason_of(r, 0), LIVE_PIN_OWN_CLOSURE);
    CHECK_EQ_U64(live_count(r, LIVE_GARBAGE), n - 2);
    live_free(r);
    graph_free(g);
    free(sp);
}

int main(void)
{
    test_random();
    test_design_cases();
    test_budget();
    test_big();
    return check_report();
}
