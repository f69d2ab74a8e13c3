/* Unit tests for memory classes and finalizer-retained bytes, against definitions written
 * straight from Go's rules on thousands of random graphs: a node is finalizer-held when it is
 * not in use and a pinned finalizer object, its referents or its funcval reach it through
 * objects the finalizers keep; what a pinned object's finalizer retains is what Go would stop
 * marking if that finalizer were removed (the other finalizers' objects excepted: they stay to
 * be finalized). Also the service sample's case: a buffer a pinned object alone holds. */
#include "algo_util.h"
#include "memclass.h"

#define MAXSP 5

static int checked_retained, seen_class[REPORT_NCLASSES];

/* Go's marking: program roots, then (fin) for each special but `skip` its object's referents
 * and funcval; scanobject skips self-pointers. */
static uint32_t mark(const small_graph *s, const graph_root *roots, size_t nroots,
                     const live_special *sp, size_t nsp, int fin, size_t skip)
{
    uint32_t m = 0;
    for (size_t i = 0; i < nroots; i++)
        m |= 1u << roots[i].node;
    if (fin)
        for (size_t i = 0; i < nsp; i++)
            if (i != skip)
                m |= small_referents(s, sp[i].obj) | (sp[i].fn != GRAPH_NONE ? 1u << sp[i].fn : 0);
    return small_closure(s, m, 0);
}

static void check_case(const small_graph *s, const graph_root *roots, size_t nroots,
                       const live_special *sp, size_t nsp)
{
    live_result *lr = NULL;
    memclass *mc = NULL;
    CHECK(live_compute(s->g, roots, nroots, sp, nsp, &lr, NULL) == HS_OK);
    CHECK(memclass_compute(s->g, lr, sp, nsp, &mc, NULL) == HS_OK);
    uint32_t prog = mark(s, roots, nroots, sp, nsp, 0, SIZE_MAX);
    uint32_t all = mark(s, roots, nroots, sp, nsp, 1, SIZE_MAX);
    uint32_t kept = all & ~prog; /* what only the finalizers keep */
    for (size_t i = 0; i < nsp; i++)
        if (live_state_of(lr, sp[i].obj) == LIVE_PENDING)
            kept |= 1u << sp[i].obj;
    uint32_t seeds = 0;
    for (size_t i = 0; i < nsp; i++)
        if (live_state_of(lr, sp[i].obj) == LIVE_PINNED)
            seeds |= 1u << sp[i].obj | small_referents(s, sp[i].obj) |
                     (sp[i].fn != GRAPH_NONE ? 1u << sp[i].fn : 0);
    uint32_t held = small_closure(s, seeds & kept, ~kept);
    for (uint32_t v = 0; v < s->n; v++) {
        live_state st = live_state_of(lr, v);
        report_class want = st == LIVE_IN_USE    ? REPORT_CLASS_IN_USE
                            : st == LIVE_GARBAGE ? REPORT_CLASS_GARBAGE
                            : held >> v & 1      ? REPORT_CLASS_FIN_HELD
                                                 : REPORT_CLASS_PENDING;
        CHECK_EQ_U64(memclass_of(mc, v), want);
        seen_class[want]++;
    }
    for (size_t i = 0; i < nsp; i++) {
        if (live_state_of(lr, sp[i].obj) != LIVE_PINNED)
            continue;
        uint32_t others = 0;
        for (size_t j = 0; j < nsp; j++)
            if (j != i)
                others |= 1u << sp[j].obj;
        uint32_t freed = all & ~mark(s, roots, nroots, sp, nsp, 1, i) & ~others;
        uint64_t want = 0, got = 0;
        for (uint32_t v = 0; v < s->n; v++)
            if (freed >> v & 1)
                want += s->size[v];
        uint32_t one = (uint32_t)i;
        CHECK(memclass_retained(mc, &one, 1, s->n, &got, NULL) == HS_OK);
        CHECK_EQ_U64(got, want);
        checked_retained++;
    }
    memclass_free(mc);
    live_free(lr);
}

static void test_random(void)
{
    for (int iter = 0; iter < 6000; iter++) {
        small_graph s;
        small_random(&s, 12, iter & 1);
        graph_root roots[3];
        size_t nroots = rnd(3);
        for (size_t i = 0; i < nroots; i++)
            roots[i] = (graph_root){rnd(s.n), 1, 0};
        live_special sp[MAXSP];
        size_t nsp = 0;
        for (size_t k = rnd(MAXSP + 1); k > 0; k--) { /* one finalizer per object, as in Go */
            uint32_t x = rnd(s.n), dup = 0;
            for (size_t j = 0; j < nsp; j++)
                dup |= sp[j].obj == x;
            if (!dup)
                sp[nsp++] = (live_special){x, rnd(3) == 0 ? GRAPH_NONE : rnd(s.n)};
        }
        check_case(&s, roots, nroots, sp, nsp);
        graph_free(s.g);
    }
    /* The random cases exercise every class and many pinned objects. */
    for (int k = 0; k < REPORT_NCLASSES; k++)
        CHECK(seen_class[k] > 100);
    CHECK(checked_retained > 100);
}

/* The service sample's finalizer closure: X (48 B) with a 64 KiB buffer B, finalizer closure
 * F capturing X. X retains itself, B and F; the dominator tree would give X only itself. */
static void test_own_closure_buffer(void)
{
    graph_builder *b = graph_builder_new(3, 2);
    enum { X, B, F };
    graph_builder_set_size(b, X, 48);
    graph_builder_set_size(b, B, 65536);
    graph_builder_set_size(b, F, 16);
    graph_builder_add_edge(b, X, B, 8);
    graph_builder_add_edge(b, F, X, 8);
    graph *g = NULL;
    CHECK(graph_build(b, &g, NULL) == HS_OK);
    live_special sp = {X, F};
    live_result *lr = NULL;
    memclass *mc = NULL;
    CHECK(live_compute(g, NULL, 0, &sp, 1, &lr, NULL) == HS_OK);
    CHECK(memclass_compute(g, lr, &sp, 1, &mc, NULL) == HS_OK);
    CHECK_EQ_U64(live_state_of(lr, X), LIVE_PINNED);
    for (uint32_t v = 0; v < 3; v++)
        CHECK_EQ_U64(memclass_of(mc, v), REPORT_CLASS_FIN_HELD);
    uint32_t i = 0;
    uint64_t got = 0;
    CHECK(memclass_retained(mc, &i, 1, 3, &got, NULL) == HS_OK);
    CHECK_EQ_U64(got, 48 + 65536 + 16);
    memclass_free(mc);
    live_free(lr);
    graph_free(g);
}

int main(void)
{
    test_random();
    test_own_closure_buffer();
    return check_report();
}
