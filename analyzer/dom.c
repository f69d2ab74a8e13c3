/* dom.c - Lengauer-Tarjan dominators (iterative DFS, iterative path compression),
 * retained sizes, top retainers. Internally vertices are DFS preorder numbers; 0 is the
 * virtual root. The work is dominated by random memory accesses (node data all over a graph
 * far larger than the caches), hence the compact per-vertex data, the bitmap of visited nodes
 * and the staged prefetching. */
#include "dom.h"

#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "prefetch.h"

struct dom_tree {
    const graph *g;
    uint32_t n, reachable;
    uint32_t *idom;     /* per node: node id, DOM_VROOT or GRAPH_NONE */
    uint64_t *retained; /* per node */
    uint64_t total;
};

#define NIL UINT32_MAX

/* The algorithm is Lengauer-Tarjan with simple path compression (T. Lengauer, R. E. Tarjan,
 * "A fast algorithm for finding dominators in a flowgraph", TOPLAS 1979):
 *   1. number the vertices in DFS preorder from the virtual root (0);
 *   2. in decreasing preorder, the semidominator of w is the smallest of: its predecessors
 *      numbered below w, and semi(u) for u = eval(v) of each predecessor v numbered above w
 *      (the vertex of smallest semidominator on v's path in the link-eval forest, v included,
 *      the tree root excluded); then w is linked to its DFS parent;
 *   3. for each vertex v whose semidominator is w, once every vertex above w is linked:
 *      u = eval(v); idom(v) = w when semi(u) == semi(v), else idom(u) (resolved in step 4);
 *      when w is v's DFS parent, u = v: idom(v) = w without the bucket;
 *   4. in increasing preorder, idom(v) = idom(idom(v)) where step 3 deferred it.
 * Step 2 links each vertex when it is done, so while it processes vertex `now` the linked
 * vertices are exactly those numbered above `now`: a vertex x is a root of the link-eval
 * forest iff x <= now, and linking needs no write when the forest parent starts as the DFS
 * parent. Step 3 runs for w at the start of w's own step 2 (all of w's subtree is linked then,
 * w is not). */

/* Per vertex, 16 bytes so that eval touches one cache line per vertex. Before the loop of
 * step 2 reaches a vertex, some fields hold something else:
 *   ancestor  DFS parent, then link-eval forest parent (shortened by path compression);
 *   label     before: head of the bucket of vertices whose semidominator it is (NIL: empty);
 *             after: the vertex of smallest semidominator on its compressed path;
 *   semi      before: 0 when the virtual root points to it, else its DFS parent;
 *             after: its semidominator;
 *   idom      while in a bucket: the next vertex of that bucket; then the idom.
 * Once the idoms are final, the 8 bytes of ancestor and label hold the retained size. */
typedef struct dom_v {
    union {
        struct {
            uint32_t ancestor, label;
        };
        uint64_t retained;
    };
    uint32_t semi, idom;
} dom_v;

/* Path compression without recursion for a linked v whose forest parent is linked too: walks
 * up to the last vertex below a root, then relinks top-down, carrying the smallest labels. */
static void compress(uint32_t v, uint32_t now, dom_v *t, uint32_t *stack)
{
    uint32_t sp = 0, u = v;
    while (t[u].ancestor > now) {
        stack[sp++] = u;
        u = t[u].ancestor;
    }
    while (sp) {
        uint32_t x = stack[--sp], a = t[x].ancestor;
        if (t[t[a].label].semi < t[t[x].label].semi)
            t[x].label = t[a].label;
        t[x].ancestor = t[a].ancestor;
    }
}

/* For a linked v (v > now): the vertex with the smallest semidominator on v's forest path
 * (the root excluded). */
static inline uint32_t eval(uint32_t v, uint32_t now, dom_v *t, uint32_t *stack)
{
    if (t[v].ancestor > now)
        compress(v, now, t, stack);
    return t[v].label;
}

/* Step 3 for the bucket of w (see above), then w gets its own label. */
static void dom_bucket(uint32_t w, dom_v *t, uint32_t *stack)
{
    uint32_t next;
    for (uint32_t v = t[w].label; v != NIL; v = next) {
        next = t[v].idom;
        uint32_t u = eval(v, w, t, stack);
        t[v].idom = t[u].semi < t[v].semi ? u : w;
    }
    t[w].label = w;
}

typedef struct dfs_frame {
    uint32_t i, cur, end; /* preorder number, next edge, end of its edges */
} dfs_frame;

/* The DFS marks visited nodes in a bitmap: at n / 8 bytes it mostly stays in cache, while
 * the node -> preorder map (pre) would cost a memory access for every edge. */
static inline int seen_test(const uint64_t *seen, uint32_t x)
{
    return seen[x >> 6] >> (x & 63) & 1;
}

static inline void seen_set(uint64_t *seen, uint32_t x)
{
    seen[x >> 6] |= (uint64_t)1 << (x & 63);
}

/* Prefetches what the DFS will touch after entering a node whose edges are dst[b..e): for
 * its first unvisited children, their preorder slots (to be written) and offsets. */
PREFETCH_FN dfs_prefetch(const uint32_t *dst, uint32_t b, uint32_t e, const uint64_t *seen,
                         const uint32_t *pre, const uint32_t *off)
{
    for (uint32_t k = 0; b < e && k < 8; b++, k++) {
        if (!seen_test(seen, dst[b])) {
            __builtin_prefetch(&pre[dst[b]], 1);
            __builtin_prefetch(&off[dst[b]]);
        }
    }
}

/* While the DFS walks the edges list[cur..end) of one vertex (a heap array can have millions
 * of them, each to a small object that points to one or two more), prefetches in stages what
 * visiting the edges ahead will touch, following each unvisited target x down its unvisited
 * first children x_0 = x, x_1, x_2: stage 2k, AHEAD[2k] edges ahead, the preorder slot and
 * offsets of x_k; stage 2k + 1, the edges of x_k. Each stage reads what the previous one
 * fetched. */
static const uint32_t AHEAD[] = {32, 26, 20, 14, 8, 4};

PREFETCH_FN dfs_prefetch_ahead(const uint32_t *list, uint32_t cur, uint32_t end,
                               const uint64_t *seen, const uint32_t *pre, const uint32_t *off,
                               const uint32_t *dst)
{
    /* Unrolled, each stage is straight-line code (as a loop: a fifth more DFS time). */
#pragma GCC unroll 6
    for (uint32_t s = 0; s < sizeof AHEAD / sizeof *AHEAD; s++) {
        if (AHEAD[s] >= end - cur)
            continue;
        uint32_t x = list[cur + AHEAD[s]], k = 0;
        while (k < s / 2 && !seen_test(seen, x) && off[x] < off[x + 1]) {
            x = dst[off[x]];
            k++;
        }
        if (k < s / 2 || seen_test(seen, x))
            continue;
        if (s % 2 == 0) {
            __builtin_prefetch(&pre[x], 1);
            __builtin_prefetch(&off[x]);
        } else {
            __builtin_prefetch(&dst[off[x]]);
        }
    }
}

/* The predecessor edges of node u that step 2 must scan: none when u has only one, which is
 * then its DFS parent (the initial semi). */
static inline void pred_range(const uint32_t *ioff, uint32_t u, uint32_t *b, uint32_t *e)
{
    *b = ioff[u];
    *e = ioff[u + 1];
    if (*e - *b == 1)
        *b = *e;
}

/* Prefetches, stage by stage, what the turns of the next vertices in step 2 read: their
 * predecessor offsets (8 * SEMI_AHEAD turns ahead), lists (4 *), preorder numbers (2 *),
 * vertex data (1 *). Each stage reads what the previous one fetched. */
#define SEMI_AHEAD 4

PREFETCH_FN semi_prefetch(uint32_t w, const uint32_t *vertex, const uint32_t *ioff,
                          const uint32_t *isrc, const uint32_t *pre, const dom_v *t)
{
    const uint32_t a = SEMI_AHEAD;
    uint32_t b, e;
    if (w > 8 * a)
        __builtin_prefetch(&ioff[vertex[w - 8 * a]]);
    if (w > 4 * a) {
        pred_range(ioff, vertex[w - 4 * a], &b, &e);
        if (b < e)
            __builtin_prefetch(&isrc[b]);
    }
    if (w > 2 * a) {
        pred_range(ioff, vertex[w - 2 * a], &b, &e);
        for (uint32_t k = 0; b < e && k < 8; b++, k++)
            __builtin_prefetch(&pre[isrc[b]]);
    }
    if (w > a) {
        pred_range(ioff, vertex[w - a], &b, &e);
        for (uint32_t k = 0; b < e && k < 8; b++, k++) {
            uint32_t pv = pre[isrc[b]];
            if (pv != NIL && pv > w - a) /* numbered above its turn: eval reads it */
                __builtin_prefetch(&t[pv]);
        }
    }
}

/* The state between the two halves: step 1's numbering and the per-vertex data. */
struct dom_work {
    const graph *g;
    dom_tree *d;   /* idom holds node -> preorder, the first half of retained preorder -> node */
    dom_v *t;      /* 16 bytes per vertex */
    uint32_t N;    /* vertices numbered, the virtual root included */
};

void dom_work_free(dom_work *w)
{
    if (!w)
        return;
    free(w->t);
    dom_free(w->d);
    free(w);
}

int dom_start(const graph *g, const graph_root *roots, size_t nroots, uint32_t flags,
              uint64_t *retained, uint32_t *idom, dom_work **out, hs_error *err)
{
    *out = NULL;
    uint32_t n = graph_node_count(g);
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    dom_work *w = NULL;
    dom_tree *d = NULL;
    uint32_t *vsucc = NULL;
    dom_v *t = NULL;
    dfs_frame *fr = NULL;
    uint64_t *seen = NULL;
    int rc = HS_OK;

    size_t nvs = 0;
    for (size_t i = 0; i < nroots; i++) {
        uint32_t v = roots[i].node;
        if (v >= n) {
            rc = hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                              "dominators: root %zu names node %u of %u", i, v, n);
            goto out;
        }
        if ((flags & DOM_EXCLUDE_FINALIZER) && (roots[i].flags & GRAPH_ROOT_FINALIZER))
            continue;
        nvs += (roots[i].flags & GRAPH_ROOT_SCAN) ? off[v + 1] - off[v] : 1;
    }
    if (nvs > GRAPH_MAX_EDGES) { /* the DFS frame of the virtual root counts in 32 bits */
        rc = hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET,
                          "dominators: %zu edges from the virtual root", nvs);
        goto out;
    }

    /* Temporaries: t (16 bytes per node) and the visited bitmap (n / 8 bytes); the DFS
     * stack only touches as many pages as it grows deep. The result arrays serve as scratch
     * space until the end: idom holds the node -> preorder map, the first half of retained
     * the preorder -> node map. */
    size_t N1 = (size_t)n + 1;
    w = calloc(1, sizeof *w);
    d = calloc(1, sizeof *d);
    vsucc = hugemem_alloc(nvs * sizeof *vsucc + 1);
    t = hugemem_alloc(N1 * sizeof *t);
    fr = hugemem_alloc(N1 * sizeof *fr);
    seen = calloc(n / 64 + 1, sizeof *seen);
    if (d) {
        d->g = g;
        d->n = n;
        d->idom = idom ? idom : hugemem_alloc(N1 * sizeof *d->idom);
        d->retained = retained ? retained : hugemem_alloc(N1 * sizeof *d->retained);
        retained = NULL;
        idom = NULL;
    }
    if (!w || !d || !vsucc || !t || !fr || !seen || !d->idom || !d->retained) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "dominators: out of memory");
        goto out;
    }
    uint32_t *pre = d->idom;                       /* node -> preorder number, NIL: unreached */
    uint32_t *vertex = (uint32_t *)d->retained;    /* preorder number -> node */

    /* Successors of the virtual root. */
    nvs = 0;
    for (size_t i = 0; i < nroots; i++) {
        uint32_t v = roots[i].node;
        if ((flags & DOM_EXCLUDE_FINALIZER) && (roots[i].flags & GRAPH_ROOT_FINALIZER))
            continue;
        if (roots[i].flags & GRAPH_ROOT_SCAN) {
            for (uint32_t e = off[v]; e < off[v + 1]; e++)
                if (dst[e] != v)
                    vsucc[nvs++] = dst[e];
        } else {
            vsucc[nvs++] = v;
        }
    }

    /* Step 1: iterative DFS from the virtual root (vertex 0, whose edges are vsucc). */
    memset(pre, 0xff, (size_t)n * sizeof *pre);
    uint32_t N = 1, sp = 0;
    vertex[0] = n;
    t[0] = (dom_v){.ancestor = NIL, .label = NIL, .semi = 0};
    fr[sp++] = (dfs_frame){0, 0, (uint32_t)nvs};
    while (sp) {
        dfs_frame *f = &fr[sp - 1];
        if (f->cur == f->end) {
            sp--;
            continue;
        }
        const uint32_t *list = f->i ? dst : vsucc;
        dfs_prefetch_ahead(list, f->cur, f->end, seen, pre, off, dst);
        uint32_t parent = f->i, x = list[f->cur++];
        /* Enters x, and goes on down while the node entered has a single edge (most heap
         * objects that point at all): its frame would have nothing left to do. */
        while (!seen_test(seen, x)) {
            seen_set(seen, x);
            pre[x] = N;
            vertex[N] = x;
            t[N] = (dom_v){.ancestor = parent, .label = NIL, .semi = parent};
            parent = N++;
            uint32_t b = off[x], e = off[x + 1];
            if (e - b == 1) {
                x = dst[b];
                continue;
            }
            if (b < e) {
                dfs_prefetch(dst, b, e, seen, pre, off);
                fr[sp++] = (dfs_frame){parent, b, e};
            }
            break;
        }
    }
    for (size_t i = 0; i < nvs; i++) /* the virtual root points to them */
        t[pre[vsucc[i]]].semi = 0;
    *w = (dom_work){g, d, t, N};
    *out = w;
    w = NULL; /* it holds d and t */
    d = NULL;
    t = NULL;
out:
    free(retained); /* when d could not adopt them */
    free(idom);
    free(w);
    dom_free(d);
    free(vsucc);
    free(t);
    free(fr);
    free(seen);
    return rc;
}

int dom_finish(dom_work *wk, dom_tree **out, hs_error *err)
{
    *out = NULL;
    const graph *g = wk->g;
    dom_tree *d = wk->d;
    dom_v *t = wk->t;
    uint32_t n = d->n, N = wk->N;
    const uint32_t *ioff = graph_in_offsets(g), *isrc = graph_in_src(g);
    const uint64_t *size = graph_sizes(g);
    uint32_t *pre = d->idom, *vertex = (uint32_t *)d->retained;
    uint32_t *cstack = hugemem_alloc(((size_t)N + 1) * sizeof *cstack);
    int rc = HS_OK;
    if (!cstack || !ioff) {
        int nomem = !cstack;
        rc = hs_error_set(err, nomem ? HS_ERR_NOMEM : HS_ERR_ARG, HS_NO_OFFSET,
                          nomem ? "dominators: out of memory"
                                : "dominators: the graph has no reverse adjacency");
        goto out;
    }

    /* Steps 2 and 3. */
    for (uint32_t w = N - 1; w >= 1; w--) {
        semi_prefetch(w, vertex, ioff, isrc, pre, t);
        dom_bucket(w, t, cstack);
        uint32_t node = vertex[w], s = t[w].semi, b, e;
        for (pred_range(ioff, node, &b, &e); b < e && s; b++) {
            uint32_t pv = pre[isrc[b]];
            if (pv == NIL)
                continue;
            uint32_t c = pv <= w ? pv : t[eval(pv, w, t, cstack)].semi;
            if (c < s)
                s = c;
        }
        t[w].semi = s;
        if (s == t[w].ancestor) { /* its DFS parent: no need for step 3 */
            t[w].idom = s;
        } else {
            t[w].idom = t[s].label; /* into the bucket of s */
            t[s].label = w;
        }
    }
    dom_bucket(0, t, cstack);
    free(cstack);
    cstack = NULL;

    /* Step 4 in increasing preorder; the idom, as a node id, goes into the dead semi field.
     * Retained sizes bottom-up (an idom precedes its children in preorder), accumulated in
     * preorder space (in the dead ancestor and label fields) to keep the additions local. */
    for (uint32_t w = 1; w < N; w++) {
        if (w + 32 < N)
            __builtin_prefetch(&size[vertex[w + 32]]);
        if (t[w].idom != t[w].semi)
            t[w].idom = t[t[w].idom].idom;
        t[w].semi = t[w].idom == 0 ? DOM_VROOT : vertex[t[w].idom];
        t[w].retained = size[vertex[w]];
    }
    t[0].retained = 0;
    for (uint32_t w = N - 1; w >= 1; w--)
        t[t[w].idom].retained += t[w].retained;
    /* Back to node ids in node order: sequential writes, and the preorder map (in idom) read
     * before it is overwritten; vertex (in retained) is dead. */
    for (uint32_t v = 0; v < n; v++) {
        if (v + 32 < n && pre[v + 32] != NIL)
            __builtin_prefetch(&t[pre[v + 32]]);
        uint32_t w = pre[v];
        d->retained[v] = w == NIL ? 0 : t[w].retained;
        if (w != NIL)
            d->idom[v] = t[w].semi;
    }
    d->total = t[0].retained;
    d->reachable = N - 1;
    wk->d = NULL;
    *out = d;
out:
    free(cstack);
    dom_work_free(wk);
    return rc;
}

int dom_compute(const graph *g, const graph_root *roots, size_t nroots, uint32_t flags,
                dom_tree **out, hs_error *err)
{
    dom_work *w;
    *out = NULL;
    int rc = dom_start(g, roots, nroots, flags, NULL, NULL, &w, err);
    return rc < 0 ? rc : dom_finish(w, out, err);
}

void dom_free(dom_tree *d)
{
    if (!d)
        return;
    free(d->idom);
    free(d->retained);
    free(d);
}

uint32_t dom_idom(const dom_tree *d, uint32_t v)
{
    return v < d->n ? d->idom[v] : GRAPH_NONE;
}

const uint32_t *dom_idoms(const dom_tree *d)
{
    return d->idom;
}

uint64_t dom_retained(const dom_tree *d, uint32_t v)
{
    return v < d->n ? d->retained[v] : 0;
}

const uint64_t *dom_retained_sizes(const dom_tree *d)
{
    return d->retained;
}

uint64_t dom_reachable_bytes(const dom_tree *d)
{
    return d->total;
}

uint32_t dom_reachable_count(const dom_tree *d)
{
    return d->reachable;
}

int dom_dominates(const dom_tree *d, uint32_t a, uint32_t b)
{
    if (a >= d->n || b >= d->n || d->idom[b] == GRAPH_NONE)
        return 0;
    for (uint32_t v = b; v != DOM_VROOT; v = d->idom[v])
        if (v == a)
            return 1;
    return 0;
}

/* "x ranks below y": smaller retained size, or equal size and larger node id. */
static int ranks_below(const uint64_t *ret, uint32_t x, uint32_t y)
{
    return ret[x] < ret[y] || (ret[x] == ret[y] && x > y);
}

/* Puts v at position i of the min-heap out[0..n) and sifts it down to its place. */
static void sift_down(const uint64_t *ret, uint32_t *out, size_t n, size_t i, uint32_t v)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ranks_below(ret, out[c + 1], out[c]))
            c++;
        if (!ranks_below(ret, out[c], v))
            break;
        out[i] = out[c];
        i = c;
    }
    out[i] = v;
}

size_t dom_top(const dom_tree *d, size_t k, uint32_t flags, uint32_t *out)
{
    const uint64_t *ret = d->retained;
    size_t h = 0; /* out[0..h) is a min-heap by rank */
    if (!k)
        return 0;
    for (uint32_t v = 0; v < d->n; v++) {
        uint32_t id = d->idom[v];
        if (id == GRAPH_NONE || ((flags & DOM_TOP_TOPLEVEL) && id != DOM_VROOT))
            continue;
        size_t i;
        if (h < k) {
            i = h++;
            while (i && ranks_below(ret, v, out[(i - 1) / 2])) {
                out[i] = out[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            out[i] = v;
            continue;
        }
        if (ranks_below(ret, out[0], v))
            sift_down(ret, out, h, 0, v); /* replace the minimum */
    }
    /* Heap sort in place: repeatedly move the minimum to the end -> descending order. */
    for (size_t end = h; end > 1; end--) {
        uint32_t min = out[0];
        sift_down(ret, out, end - 1, 0, out[end - 1]);
        out[end - 1] = min;
    }
    return h;
}
