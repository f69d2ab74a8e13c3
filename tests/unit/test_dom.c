/* Unit tests for dominators: idoms and retained sizes against the definition (d dominates v
 * iff removing d makes v unreachable from the virtual root) on thousands of random graphs with
 * scan and finalizer roots; against an independent algorithm on medium random and heap-shaped
 * graphs; top retainers; big chain / cycle / star and a graph that makes naive idom walks
 * quadratic. */
#include "algo_util.h"
#include "dom.h"

/* Nodes reachable from the virtual root when `removed` nodes are deleted. */
static uint32_t vreach(const small_graph *s, const graph_root *roots, size_t nroots,
                       uint32_t flags, uint32_t removed)
{
    uint32_t seeds = 0;
    for (size_t i = 0; i < nroots; i++) {
        if ((flags & DOM_EXCLUDE_FINALIZER) && (roots[i].flags & GRAPH_ROOT_FINALIZER))
            continue;
        if (roots[i].flags & GRAPH_ROOT_SCAN) {
            /* The virtual root points straight at X's referents: X is not on those paths. */
            seeds |= small_referents(s, roots[i].node);
        } else {
            seeds |= 1u << roots[i].node;
        }
    }
    return small_closure(s, seeds, removed);
}

static void test_random(void)
{
    for (int iter = 0; iter < 4000; iter++) {
        small_graph s;
        small_random(&s, 12, iter & 1);
        graph_root roots[6];
        size_t nroots = rnd(5);
        for (size_t i = 0; i < nroots; i++) {
            roots[i].node = rnd(s.n);
            roots[i].kind = 0;
            roots[i].flags = rnd(3) == 0 ? GRAPH_ROOT_FINALIZER : 0;
            if (rnd(4) == 0)
                roots[i].flags |= GRAPH_ROOT_SCAN;
        }
        uint32_t flags = rnd(2) ? DOM_EXCLUDE_FINALIZER : 0;
        dom_tree *d = NULL;
        CHECK(dom_compute(s.g, roots, nroots, flags, &d, NULL) == HS_OK);
        if (!d) {
            graph_free(s.g);
            continue;
        }
        uint32_t all = vreach(&s, roots, nroots, flags, 0);
        uint32_t without[SMALL_MAX_N];
        for (uint32_t v = 0; v < s.n; v++)
            without[v] = vreach(&s, roots, nroots, flags, 1u << v);
        /* ndom[v] = number of strict dominators of v (the virtual root included). */
        uint32_t ndom[SMALL_MAX_N] = {0};
        uint64_t total = 0;
        for (uint32_t v = 0; v < s.n; v++) {
            if (!(all >> v & 1))
                continue;
            total += s.size[v];
            ndom[v] = 1;
            for (uint32_t u = 0; u < s.n; u++)
                if (u != v && !(without[u] >> v & 1))
                    ndom[v]++;
        }
        uint32_t reachable = 0;
        for (uint32_t v = 0; v < s.n; v++) {
            if (!(all >> v & 1)) {
                CHECK_EQ_U64(dom_idom(d, v), GRAPH_NONE);
                CHECK_EQ_U64(dom_retained(d, v), 0);
                CHECK(!dom_dominates(d, v, v));
                continue;
            }
            reachable++;
            /* idom: the strict dominator with the most dominators of its own. */
            uint32_t want = DOM_VROOT, best = 0;
            for (uint32_t u = 0; u < s.n; u++)
                if (u != v && !(without[u] >> v & 1) && ndom[u] > best) {
                    best = ndom[u];
                    want = u;
                }
            CHECK_EQ_U64(dom_idom(d, v), want);
            CHECK_EQ_U64(dom_idoms(d)[v], want);
            /* retained: v plus everything that dies with v. */
            uint64_t ret = s.size[v];
            for (uint32_t u = 0; u < s.n; u++)
                if (u != v && (all >> u & 1) && !(without[v] >> u & 1))
                    ret += s.size[u];
            CHECK_EQ_U64(dom_retained(d, v), ret);
            CHECK_EQ_U64(dom_retained_sizes(d)[v], ret);
            for (uint32_t u = 0; u < s.n; u++)
                CHECK_EQ_U64(dom_dominates(d, u, v), u == v || !(without[u] >> v & 1));
        }
        CHECK_EQ_U64(dom_reachable_count(d), reachable);
        CHECK_EQ_U64(dom_reachable_bytes(d), total);

        /* Top retainers: sorted by (retained desc, id asc), the right prefix. */
        uint32_t top[SMALL_MAX_N];
        for (int tl = 0; tl < 2; tl++) {
            size_t k = 1 + rnd(s.n);
            uint32_t tflags = tl ? DOM_TOP_TOPLEVEL : 0;
            size_t got = dom_top(d, k, tflags, top);
            uint32_t cand[SMALL_MAX_N], nc = 0;
            for (uint32_t v = 0; v < s.n; v++)
                if ((all >> v & 1) && (!tl || dom_idom(d, v) == DOM_VROOT))
                    cand[nc++] = v;
            for (uint32_t i = 1; i < nc; i++) /* insertion sort by rank */
                for (uint32_t j = i; j > 0; j--) {
                    uint64_t a = dom_retained(d, cand[j - 1]), b = dom_retained(d, cand[j]);
                    if (a > b || (a == b && cand[j - 1] < cand[j]))
                        break;
                    uint32_t t = cand[j];
                    cand[j] = cand[j - 1];
                    cand[j - 1] = t;
                }
            CHECK_EQ_U64(got, k < nc ? k : nc);
            for (size_t i = 0; i < got; i++)
                CHECK_EQ_U64(top[i], cand[i]);
        }
        dom_free(d);
        graph_free(s.g);
    }
}

/* Reference dominators by the iterative algorithm of K. D. Cooper, T. J. Harvey and
 * K. Kennedy ("A Simple, Fast Dominance Algorithm", 2001): in reverse postorder, idom(b) is
 * the nearest common ancestor, in the current tree, of b's processed predecessors, until
 * nothing changes. Writes dom_idom's values into idom and the retained sizes into ret. */
static void ref_dominators(const graph *g, const graph_root *roots, size_t nroots,
                           uint32_t flags, uint32_t *idom, uint64_t *ret)
{
    uint32_t n = graph_node_count(g), vr = n; /* the virtual root */
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    const uint32_t *ioff = graph_in_offsets(g), *isrc = graph_in_src(g);
    uint32_t *vsucc = malloc((graph_edge_count(g) + nroots + 1) * sizeof *vsucc), nvs = 0;
    uint8_t *from_vr = calloc(n + 1, 1);
    /* The virtual root's edges: to a plain root's node, or from a scan root to each node its
     * node points to (a self edge is not one: the root node itself is not reached). */
    for (const graph_root *r = roots; r < roots + nroots; r++) {
        int dropped = (flags & DOM_EXCLUDE_FINALIZER) && (r->flags & GRAPH_ROOT_FINALIZER);
        int scan = (r->flags & GRAPH_ROOT_SCAN) != 0;
        for (uint32_t k = 0; !dropped && k < (scan ? off[r->node + 1] - off[r->node] : 1); k++) {
            uint32_t w = scan ? dst[off[r->node] + k] : r->node;
            if (!scan || w != r->node)
                from_vr[vsucc[nvs++] = w] = 1;
        }
    }

    /* Postorder by an iterative DFS (frames: node, next edge). */
    uint32_t *post = malloc((n + 1) * sizeof *post), *order = malloc((n + 1) * sizeof *order);
    uint32_t (*st)[2] = malloc((n + 1) * sizeof *st), sp = 0, np = 0;
    for (uint32_t v = 0; v <= n; v++)
        post[v] = GRAPH_NONE;
    post[vr] = 0; /* visited; numbered when done */
    st[sp][0] = vr;
    st[sp++][1] = 0;
    while (sp) {
        uint32_t v = st[sp - 1][0], k = st[sp - 1][1]++;
        uint32_t deg = v == vr ? nvs : off[v + 1] - off[v];
        if (k == deg) {
            post[v] = np;
            order[np++] = v;
            sp--;
            continue;
        }
        uint32_t w = v == vr ? vsucc[k] : dst[off[v] + k];
        if (post[w] == GRAPH_NONE) {
            post[w] = 0;
            st[sp][0] = w;
            st[sp++][1] = 0;
        }
    }

    for (uint32_t v = 0; v <= n; v++)
        idom[v] = GRAPH_NONE;
    idom[vr] = vr;
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t i = np - 1; i-- > 0;) { /* reverse postorder, the root excluded */
            uint32_t b = order[i], nid = from_vr[b] ? vr : GRAPH_NONE;
            for (uint32_t e = ioff[b]; e < ioff[b + 1]; e++) {
                uint32_t p = isrc[e];
                if (p == b || idom[p] == GRAPH_NONE)
                    continue;
                if (nid == GRAPH_NONE) {
                    nid = p;
                    continue;
                }
                uint32_t f1 = p, f2 = nid;
                while (f1 != f2) {
                    while (post[f1] < post[f2])
                        f1 = idom[f1];
                    while (post[f2] < post[f1])
                        f2 = idom[f2];
                }
                nid = f1;
            }
            if (idom[b] != nid) {
                idom[b] = nid;
                changed = 1;
            }
        }
    }
    /* A dominator finishes after what it dominates: retained sizes in postorder. */
    for (uint32_t v = 0; v <= n; v++)
        ret[v] = v < n && idom[v] != GRAPH_NONE ? graph_size(g, v) : 0;
    for (uint32_t i = 0; i + 1 < np; i++)
        ret[idom[order[i]]] += ret[order[i]];
    for (uint32_t v = 0; v < n; v++)
        if (idom[v] == vr)
            idom[v] = DOM_VROOT;
    free(vsucc);
    free(from_vr);
    free(post);
    free(order);
    free(st);
}

/* Heap-shaped graph: 3 "arrays" with n/3 edges each to random objects, objects pointing to
 * 0 (40%), 1 (50%) or 2-4 (10%) random others, now and then back to an array. Sizes 8..4096. */
static graph *heap_like(uint32_t n)
{
    graph_builder *b = graph_builder_new(n, 2 * (size_t)n);
    for (uint32_t v = 0; v < n; v++)
        graph_builder_set_size(b, v, 8u << rnd(10));
    for (uint32_t h = 0; h < 3; h++)
        for (uint32_t i = 0; i < n / 3; i++)
            graph_builder_add_edge(b, h, 3 + rnd(n - 3), 8 * i);
    for (uint32_t v = 3; v < n; v++) {
        uint32_t r = rnd(10), k = r < 4 ? 0 : r < 9 ? 1 : 2 + rnd(3);
        for (uint32_t i = 0; i < k; i++)
            graph_builder_add_edge(b, v, rnd(50) ? 3 + rnd(n - 3) : rnd(3), 8 * i);
    }
    graph *g = NULL;
    CHECK(graph_build(b, &g, NULL) == HS_OK);
    return g;
}

/* Uniformly random graph with out-degrees 0..6 and random sizes. */
static graph *random_graph(uint32_t n)
{
    graph_builder *b = graph_builder_new(n, 3 * (size_t)n);
    for (uint32_t v = 0; v < n; v++) {
        graph_builder_set_size(b, v, 1 + rnd(1000));
        for (uint32_t i = 0, k = rnd(7); i < k; i++)
            graph_builder_add_edge(b, v, rnd(n), 8 * i);
    }
    graph *g = NULL;
    CHECK(graph_build(b, &g, NULL) == HS_OK);
    return g;
}

static void test_reference(void)
{
    for (int iter = 0; iter < 12; iter++) {
        int heap = iter % 2;
        uint32_t n = heap ? 30000 + rnd(10000) : 2000 + rnd(4000);
        graph *g = heap ? heap_like(n) : random_graph(n);
        graph_root roots[8];
        size_t nroots = heap ? 2 : 0;
        roots[0] = (graph_root){0, 0, 0};
        roots[1] = (graph_root){1, 0, 0};
        for (; nroots < 8; nroots++) {
            uint32_t r = rnd(4);
            roots[nroots] = (graph_root){rnd(n), 0,
                                         r == 0 ? GRAPH_ROOT_FINALIZER
                                         : r == 1 ? GRAPH_ROOT_FINALIZER | GRAPH_ROOT_SCAN
                                                  : 0};
        }
        uint32_t flags = iter % 4 < 2 ? 0 : DOM_EXCLUDE_FINALIZER;
        dom_tree *d = NULL;
        CHECK(dom_compute(g, roots, nroots, flags, &d, NULL) == HS_OK);
        uint32_t *idom = malloc((n + 1) * sizeof *idom);
        uint64_t *ret = malloc((n + 1) * sizeof *ret);
        ref_dominators(g, roots, nroots, flags, idom, ret);
        uint32_t bad_idom = 0, bad_ret = 0, reachable = 0;
        for (uint32_t v = 0; v < n; v++) {
            bad_idom += dom_idom(d, v) != idom[v];
            bad_ret += dom_retained(d, v) != ret[v];
            reachable += idom[v] != GRAPH_NONE;
        }
        CHECK_EQ_U64(bad_idom, 0);
        CHECK_EQ_U64(bad_ret, 0);
        CHECK_EQ_U64(dom_reachable_count(d), reachable);
        CHECK_EQ_U64(dom_reachable_bytes(d), ret[n]);
        free(idom);
        free(ret);
        dom_free(d);
        graph_free(g);
    }
}

static void test_errors(void)
{
    small_graph s;
    small_random(&s, 4, 0);
    graph_root bad = {s.n, 0, 0};
    dom_tree *d = (dom_tree *)&s;
    hs_error err;
    CHECK(dom_compute(s.g, &bad, 1, 0, &d, &err) == HS_ERR_ARG);
    CHECK(d == NULL);
    CHECK(dom_compute(s.g, NULL, 0, 0, &d, &err) == HS_OK);
    CHECK_EQ_U64(dom_reachable_count(d), 0);
    CHECK_EQ_U64(dom_top(d, 3, 0, NULL), 0);
    dom_free(d);
    dom_free(NULL);
    graph_free(s.g);
}

/* a_0 -> a_1 -> ... -> a_{k-1}; a_{k-1} -> b_i and a_0 -> b_i for k nodes b_i (added after
 * the chain edges so the DFS goes deep first). Semi-NCA would walk the chain for every b_i. */
static void edges_trap(graph_builder *b, uint32_t n, void *arg)
{
    (void)arg;
    uint32_t k = n / 2;
    for (uint32_t v = 0; v + 1 < k; v++)
        graph_builder_add_edge(b, v, v + 1, 0);
    for (uint32_t i = 0; i < k; i++)
        graph_builder_add_edge(b, 0, k + i, 8);
    for (uint32_t i = 0; i < k; i++)
        graph_builder_add_edge(b, k - 1, k + i, 16);
}

static void test_big(void)
{
    /* 2M chain from node 0: idom(i) = i-1; node 0 retains everything. */
    uint32_t n = 2000000;
    graph *g = big_graph(n, n, edges_chain, NULL);
    graph_root root = {0, 0, 0};
    dom_tree *d = NULL;
    CHECK(dom_compute(g, &root, 1, 0, &d, NULL) == HS_OK);
    CHECK_EQ_U64(dom_idom(d, 0), DOM_VROOT);
    int ok = 1;
    for (uint32_t v = 1; v < n; v++)
        if (dom_idom(d, v) != v - 1 || dom_retained(d, v) != 8ull * (n - v))
            ok = 0;
    CHECK(ok);
    CHECK_EQ_U64(dom_retained(d, 0), 8ull * n);
    uint32_t top[3];
    CHECK_EQ_U64(dom_top(d, 3, 0, top), 3);
    CHECK(top[0] == 0 && top[1] == 1 && top[2] == 2);
    dom_free(d);
    graph_free(g);

    /* 1M cycle scanned from node 0 (a finalizer-special-like root): node 1 dominates all. */
    n = 1000000;
    g = big_graph(n, n, edges_chain, (void *)1);
    root.flags = GRAPH_ROOT_SCAN;
    CHECK(dom_compute(g, &root, 1, 0, &d, NULL) == HS_OK);
    CHECK_EQ_U64(dom_idom(d, 1), DOM_VROOT);
    CHECK_EQ_U64(dom_idom(d, 0), n - 1);
    CHECK_EQ_U64(dom_retained(d, 1), 8ull * n);
    dom_free(d);
    graph_free(g);

    /* Star with 1M fan-in, every leaf a root: the center is dominated by the virtual root. */
    g = big_graph(n, n, edges_star_in, NULL);
    graph_root *roots = malloc((n - 1) * sizeof *roots);
    for (uint32_t v = 1; v < n; v++)
        roots[v - 1] = (graph_root){v, 0, 0};
    CHECK(dom_compute(g, roots, n - 1, 0, &d, NULL) == HS_OK);
    CHECK_EQ_U64(dom_idom(d, 0), DOM_VROOT);
    CHECK_EQ_U64(dom_retained(d, 0), 8);
    CHECK_EQ_U64(dom_retained(d, 5), 8);
    CHECK_EQ_U64(dom_reachable_bytes(d), 8ull * n);
    dom_free(d);
    free(roots);
    graph_free(g);

    /* The quadratic trap must still be fast (O(m log n)). */
    n = 400000;
    g = big_graph(n, 3 * (size_t)n, edges_trap, NULL);
    root = (graph_root){0, 0, 0};
    CHECK(dom_compute(g, &root, 1, 0, &d, NULL) == HS_OK);
    CHECK_EQ_U64(dom_idom(d, n - 1), 0);
    CHECK_EQ_U64(dom_idom(d, n / 2 - 1), n / 2 - 2);
    CHECK_EQ_U64(dom_retained(d, 0), 8ull * n);
    dom_free(d);
    graph_free(g);
}

int main(void)
{
    test_random();
    test_reference();
    test_errors();
    test_big();
    return check_report();
}
