/* live.c - Go-faithful liveness and finalizer pinning (rules: mgcmark.go markrootSpans,
 * scanobject; see live.h). */
#include "live.h"

#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "hugemem.h"
#include "scc.h"
#include "subgraph.h"

/* The finalizer half of the analysis runs on the subgraph induced by the nodes that are not in
 * use (garbage, pending, pinned, finalizer-reachable: usually a few thousand in a heap of
 * millions), so its trees, SCC and searches cost memory and time in that set, not in the heap.
 * Subgraph ids are called local. */
struct live_result {
    const graph *g;
    uint32_t n;
    uint8_t *st;            /* state in bits 0-3, pin reason in bits 4-7 */
    paths_tree *prog;       /* BFS tree from the program roots (global ids) */
    subgraph sub;           /* induced by the not-in-use nodes */
    paths_tree *fin;        /* BFS tree over sub from the finalizer roots */
    graph_root *froots;     /* finalizer roots, global node ids; kind = special index */
    size_t nfroots;
    live_special *sp;
    size_t nsp;
    uint32_t *by_obj; /* special indices sorted by (obj, index) */
    int exact;
    uint32_t count[LIVE_NSTATES];
    uint64_t bytes[LIVE_NSTATES];
    /* BFS scratch over sub (local ids); stamp == epoch marks "visited". */
    uint32_t *stamp, *par, *fld, *queue, epoch;
};

#define ST(r, v) ((r)->st[v] & 0x0f)
#define IN_FIN(s) ((s) == LIVE_PINNED || (s) == LIVE_FIN_REACHABLE)

size_t live_special_roots(const live_special *specials, size_t nspecials, uint32_t kind_fn,
                          uint32_t kind_obj, graph_root *out)
{
    size_t k = 0;
    for (size_t i = 0; i < nspecials; i++) {
        if (specials[i].fn != GRAPH_NONE)
            out[k++] = (graph_root){specials[i].fn, kind_fn, GRAPH_ROOT_FINALIZER};
        out[k++] = (graph_root){specials[i].obj, kind_obj,
                                GRAPH_ROOT_FINALIZER | GRAPH_ROOT_SCAN};
    }
    return k;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* First position in by_obj of the specials on x, or nsp when x has none. */
static size_t first_special(const live_result *r, uint32_t x)
{
    size_t lo = 0, hi = r->nsp;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->sp[r->by_obj[mid]].obj < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int scratch(live_result *r)
{
    if (r->stamp)
        return 0;
    size_t n = r->sub.n;
    r->stamp = hugemem_zalloc(n + 1, sizeof *r->stamp);
    r->par = hugemem_alloc(n * sizeof *r->par + 1);
    r->fld = hugemem_alloc(n * sizeof *r->fld + 1);
    r->queue = hugemem_alloc(n * sizeof *r->queue + 1);
    if (!r->stamp || !r->par || !r->fld || !r->queue) {
        free(r->stamp);
        free(r->par);
        free(r->fld);
        free(r->queue);
        r->stamp = r->par = r->fld = r->queue = NULL;
        return -1;
    }
    r->epoch = 0;
    return 0;
}

/* BFS from src over finalizer-marked nodes until an edge u -> target with u != target is
 * found (src == target: a cycle of length >= 2 through target). Runs on sub: src, target,
 * *last and r->par are local ids. Returns 1 and sets *last (u) and *lastf (the edge's field),
 * 0 when target is not reachable, -1 when *budget edge visits ran out (budget NULL =
 * unlimited; each node costs its out-degree in the whole graph, plus one). Parents of visited
 * nodes are left in r->par / r->fld. */
static int search(live_result *r, uint32_t src, uint32_t target, uint64_t *budget,
                  uint32_t *last, uint32_t *lastf)
{
    if (++r->epoch == 0) {
        memset(r->stamp, 0, (size_t)r->sub.n * sizeof *r->stamp);
        r->epoch = 1;
    }
    const uint32_t *goff = graph_out_offsets(r->g);
    const uint32_t *off = graph_out_offsets(r->sub.g), *dst = graph_out_dst(r->sub.g),
                   *fld = graph_out_field(r->sub.g);
    uint32_t ep = r->epoch, head = 0, tail = 0;
    r->stamp[src] = ep;
    r->queue[tail++] = src;
    while (head < tail) {
        uint32_t v = r->queue[head++];
        if (budget) {
            uint32_t gv = r->sub.node[v];
            uint64_t cost = (uint64_t)(goff[gv + 1] - goff[gv]) + 1;
            if (*budget < cost) {
                *budget = 0;
                return -1;
            }
            *budget -= cost;
        }
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            uint32_t w = dst[e];
            if (w == target && v != target) {
                *last = v;
                *lastf = fld[e];
                return 1;
            }
            if (r->stamp[w] == ep || !IN_FIN(ST(r, r->sub.node[w])))
                continue;
            r->stamp[w] = ep;
            r->par[w] = v;
            r->fld[w] = fld[e];
            r->queue[tail++] = w;
        }
    }
    return 0;
}

static int nomem(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "liveness: out of memory for %s", what);
}

int live_compute(const graph *g, const graph_root *roots, size_t nroots,
                 const live_special *specials, size_t nspecials, live_result **out,
                 hs_error *err)
{
    *out = NULL;
    uint32_t n = graph_node_count(g);
    if (nspecials >= GRAPH_NONE / 2)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "liveness: too many finalizers");
    for (size_t i = 0; i < nspecials; i++)
        if (specials[i].obj >= n || (specials[i].fn >= n && specials[i].fn != GRAPH_NONE))
            return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                                "liveness: finalizer %zu names a node out of range", i);

    int rc = HS_OK;
    uint8_t *mask = NULL;
    scc_result *scc = NULL;
    live_result *r = calloc(1, sizeof *r);
    if (!r) {
        rc = nomem(err, "the result");
        goto out;
    }
    r->g = g;
    r->n = n;
    r->exact = 1;
    r->nsp = nspecials;
    r->st = hugemem_zalloc((size_t)n + 1, 1);
    r->sp = malloc(nspecials * sizeof *r->sp + 1);
    r->by_obj = malloc(nspecials * sizeof *r->by_obj + 1);
    r->froots = malloc(2 * nspecials * sizeof *r->froots + 1);
    if (!r->st || !r->sp || !r->by_obj || !r->froots) {
        rc = nomem(err, "the node states");
        goto out;
    }
    if (nspecials)
        memcpy(r->sp, specials, nspecials * sizeof *specials);
    if (nspecials) { /* by_obj: sort (obj << 32 | index) keys */
        uint64_t *keys = malloc(nspecials * sizeof *keys);
        if (!keys) {
            rc = nomem(err, "the finalizer order");
            goto out;
        }
        for (size_t i = 0; i < nspecials; i++)
            keys[i] = (uint64_t)specials[i].obj << 32 | i;
        qsort(keys, nspecials, sizeof *keys, cmp_u64);
        for (size_t i = 0; i < nspecials; i++)
            r->by_obj[i] = (uint32_t)keys[i];
        free(keys);
    }

    /* 1. In use: plain reachability from the program roots (st is zeroed: LIVE_GARBAGE). */
    rc = paths_bfs(g, roots, nroots, NULL, &r->prog, err);
    if (rc)
        goto out;
    uint8_t *st = r->st;
    paths_mark_reached(r->prog, st, LIVE_IN_USE);

    /* 2. Marked through finalizer roots (funcvals and scans of X), over the not-in-use nodes:
     * a BFS over sub. A root on an in-use node marks nothing new; it keeps its index in froots
     * (indices name specials) but is flagged for the BFS to skip. */
    size_t nf = 0;
    for (size_t i = 0; i < nspecials; i++) {
        if (specials[i].fn != GRAPH_NONE)
            r->froots[nf++] = (graph_root){specials[i].fn, (uint32_t)i, GRAPH_ROOT_FINALIZER};
        r->froots[nf++] = (graph_root){specials[i].obj, (uint32_t)i,
                                       GRAPH_ROOT_FINALIZER | GRAPH_ROOT_SCAN};
    }
    r->nfroots = nf;
    uint64_t *out_of_use = bitset_new(n);
    if (!out_of_use) {
        rc = nomem(err, "the not-in-use nodes");
        goto out;
    }
    for (uint32_t v = 0; v < n; v++)
        if (st[v] != LIVE_IN_USE)
            bitset_set(out_of_use, v);
    rc = subgraph_build(g, out_of_use, &r->sub, err);
    free(out_of_use);
    if (rc < 0)
        goto out;
    graph_root *lroots = malloc(nf * sizeof *lroots + 1);
    if (!lroots) {
        rc = nomem(err, "the finalizer roots");
        goto out;
    }
    for (size_t i = 0; i < nf; i++) {
        const graph_root *fr = &r->froots[i];
        if (st[fr->node] == LIVE_IN_USE)
            lroots[i] = (graph_root){0, fr->kind, GRAPH_ROOT_FINALIZER};
        else
            lroots[i] = (graph_root){subgraph_local(&r->sub, fr->node), fr->kind,
                                     fr->flags & GRAPH_ROOT_SCAN};
    }
    paths_opts fo = {PATHS_RECORD_ROOT | PATHS_EXCLUDE_FINALIZER, NULL, GRAPH_NONE};
    rc = paths_bfs(r->sub.g, lroots, r->sub.n ? nf : 0, &fo, &r->fin, err);
    free(lroots);
    if (rc)
        goto out;
    for (uint32_t l = 0; l < r->sub.n; l++)
        if (paths_reached(r->fin, l))
            st[r->sub.node[l]] = LIVE_FIN_REACHABLE;
    size_t npinned = 0;
    for (size_t i = 0; i < nspecials; i++) {
        uint32_t x = specials[i].obj;
        if (st[x] == LIVE_FIN_REACHABLE) {
            st[x] = LIVE_PINNED;
            npinned++;
        } else if (st[x] == LIVE_GARBAGE) {
            st[x] = LIVE_PENDING;
        }
    }

    /* 3. Why each pinned X is pinned (on sub: x, f, cx are local). */
    if (npinned) {
        if (!(mask = calloc((size_t)r->sub.n + 1, 1))) {
            rc = nomem(err, "the pinned mask");
            goto out;
        }
        for (uint32_t l = 0; l < r->sub.n; l++)
            mask[l] = IN_FIN(st[r->sub.node[l]]);
        rc = scc_compute(r->sub.g, mask, &scc, err);
        if (rc)
            goto out;
        free(mask);
        mask = NULL;
        if (scratch(r)) {
            rc = nomem(err, "the pin searches");
            goto out;
        }
        uint64_t budget = 4 * ((uint64_t)n + graph_edge_count(g)) + (1u << 20);
        for (size_t p = 0; p < nspecials; p++) {
            uint32_t gx = r->sp[r->by_obj[p]].obj;
            if (ST(r, gx) != LIVE_PINNED || (p && r->sp[r->by_obj[p - 1]].obj == gx))
                continue; /* not pinned, or already decided for an earlier special of x */
            int own = 0;
            uint32_t x = subgraph_local(&r->sub, gx), cx = scc_of(scc, x);
            uint32_t tr = paths_root_of(r->fin, x);
            for (size_t q = p; q < nspecials && r->sp[r->by_obj[q]].obj == gx && !own; q++) {
                uint32_t i = r->by_obj[q], gf = r->sp[i].fn;
                if (gf == GRAPH_NONE || !IN_FIN(ST(r, gf)))
                    continue; /* an in-use funcval cannot reach a not-in-use x */
                uint32_t f = subgraph_local(&r->sub, gf);
                if (f == x || scc_of(scc, f) == cx ||
                    (r->froots[tr].kind == i && !(r->froots[tr].flags & GRAPH_ROOT_SCAN))) {
                    own = 1;
                    break;
                }
                uint32_t last, lastf;
                int s = budget ? search(r, f, x, &budget, &last, &lastf) : -1;
                if (s < 0)
                    r->exact = 0;
                own = s > 0;
            }
            live_pin_reason why = own ? LIVE_PIN_OWN_CLOSURE
                                  : scc_size(scc, cx) >= 2 ? LIVE_PIN_CYCLE
                                                           : LIVE_PIN_OTHER_FINALIZER;
            st[gx] = (uint8_t)(LIVE_PINNED | (why << 4));
        }
        scc_free(scc);
        scc = NULL;
    }

    /* 4. Totals. */
    const uint64_t *size = graph_sizes(g);
    for (uint32_t v = 0; v < n; v++) {
        r->count[st[v] & 0x0f]++;
        r->bytes[st[v] & 0x0f] += size[v];
    }
    *out = r;
    r = NULL;
out:
    free(mask);
    scc_free(scc);
    live_free(r);
    return rc;
}

void live_free(live_result *r)
{
    if (!r)
        return;
    free(r->st);
    paths_free(r->prog);
    paths_free(r->fin);
    subgraph_release(&r->sub);
    free(r->froots);
    free(r->sp);
    free(r->by_obj);
    free(r->stamp);
    free(r->par);
    free(r->fld);
    free(r->queue);
    free(r);
}

live_state live_state_of(const live_result *r, uint32_t v)
{
    return v < r->n ? (live_state)ST(r, v) : LIVE_GARBAGE;
}

live_pin_reason live_pin_reason_of(const live_result *r, uint32_t v)
{
    return v < r->n ? (live_pin_reason)(r->st[v] >> 4) : LIVE_PIN_NONE;
}

int live_reasons_exact(const live_result *r)
{
    return r->exact;
}

uint32_t live_count(const live_result *r, live_state s)
{
    return (unsigned)s < LIVE_NSTATES ? r->count[s] : 0;
}

uint64_t live_bytes(const live_result *r, live_state s)
{
    return (unsigned)s < LIVE_NSTATES ? r->bytes[s] : 0;
}

const paths_tree *live_program_tree(const live_result *r)
{
    return r->prog;
}

uint32_t live_keeper(const live_result *r, uint32_t v)
{
    if (v >= r->n || !IN_FIN(ST(r, v)))
        return GRAPH_NONE;
    live_pin_reason why = live_pin_reason_of(r, v);
    if (why == LIVE_PIN_OWN_CLOSURE || why == LIVE_PIN_CYCLE)
        return r->by_obj[first_special(r, v)];
    return r->froots[paths_root_of(r->fin, subgraph_local(&r->sub, v))].kind;
}

/* Steps from r->par (local ids in, node ids out): src ... last, then (target, lastf). */
static size_t search_path(const live_result *r, uint32_t src, uint32_t last, uint32_t target,
                          uint32_t lastf, graph_step *steps, size_t cap)
{
    size_t len = 2;
    for (uint32_t u = last; u != src; u = r->par[u])
        len++;
    if (len > cap)
        return len;
    steps[0] = (graph_step){r->sub.node[src], GRAPH_NONE};
    steps[len - 1] = (graph_step){r->sub.node[target], lastf};
    size_t i = len - 1;
    for (uint32_t u = last; u != src; u = r->par[u])
        steps[--i] = (graph_step){r->sub.node[u], r->fld[u]};
    return len;
}

size_t live_pin_path(live_result *r, uint32_t v, graph_step *steps, size_t cap,
                     uint32_t *special)
{
    uint32_t keeper = live_keeper(r, v);
    if (special)
        *special = keeper;
    if (keeper == GRAPH_NONE)
        return 0;
    uint32_t lv = subgraph_local(&r->sub, v);
    live_pin_reason why = live_pin_reason_of(r, v);
    if (why == LIVE_PIN_OWN_CLOSURE || why == LIVE_PIN_CYCLE) {
        if (scratch(r))
            return 0;
        uint32_t last, lastf;
        if (why == LIVE_PIN_CYCLE) {
            if (search(r, lv, lv, NULL, &last, &lastf) > 0)
                return search_path(r, lv, last, lv, lastf, steps, cap);
            return 0;
        }
        for (size_t q = first_special(r, v); q < r->nsp && r->sp[r->by_obj[q]].obj == v; q++) {
            uint32_t i = r->by_obj[q], f = r->sp[i].fn;
            if (f == GRAPH_NONE || !IN_FIN(ST(r, f)))
                continue;
            if (special)
                *special = i;
            if (f == v) {
                if (cap >= 1)
                    steps[0] = (graph_step){v, GRAPH_NONE};
                return 1;
            }
            if (search(r, subgraph_local(&r->sub, f), lv, NULL, &last, &lastf) > 0)
                return search_path(r, subgraph_local(&r->sub, f), last, lv, lastf, steps, cap);
        }
        return 0;
    }
    /* Finalizer-tree path, prefixed by the scanned X' for a scan root. */
    uint32_t ri = paths_root_of(r->fin, lv);
    int scan = (r->froots[ri].flags & GRAPH_ROOT_SCAN) != 0;
    size_t len = paths_extract(r->fin, lv, NULL, 0) + (size_t)scan;
    if (len > cap)
        return len;
    paths_extract(r->fin, lv, steps + scan, cap - (size_t)scan);
    for (size_t i = (size_t)scan; i < len; i++)
        steps[i].node = r->sub.node[steps[i].node];
    if (scan)
        steps[0] = (graph_step){r->froots[ri].node, GRAPH_NONE};
    return len;
}
