/* dominators.c - Lengauer-Tarjan dominators (iterative DFS, iterative path compression),
 * retained sizes, top retainers. Internally vertices are DFS preorder numbers; 0 is the
 * virtual root. */
#include "dominators.h"

#include <stdlib.h>
#include <string.h>

struct dom_tree {
    const graph *g;
    uint32_t n, reachable;
    uint32_t *idom;     /* per node: node id, DOM_VROOT or GRAPH_NONE */
    uint64_t *retained; /* per node */
    uint64_t total;
};

#define NIL UINT32_MAX

/* Per DFS vertex, kept together so that eval/compress touch one cache line per vertex. */
typedef struct ltv {
    uint32_t ancestor, label, semi, parent;
} ltv;

/* Path compression without recursion: walks up the ancestor chain, then relinks top-down. */
static void compress(uint32_t v, ltv *t, uint32_t *stack)
{
    uint32_t sp = 0, u = v;
    while (t[t[u].ancestor].ancestor != NIL) {
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

/* The vertex with the smallest semidominator on v's path in the link forest. */
static inline uint32_t eval(uint32_t v, ltv *t, uint32_t *stack)
{
    uint32_t a = t[v].ancestor;
    if (a == NIL)
        return v;
    if (t[a].ancestor != NIL)
        compress(v, t, stack);
    return t[v].label;
}

typedef struct dfs_frame {
    uint32_t i, cur, end; /* preorder number, next edge, end of its edges */
} dfs_frame;

/* Prefetches what the DFS will read after entering node w: its children's preorder slots and
 * offsets (random accesses that would otherwise be taken one at a time). */
static inline void dfs_prefetch(const uint32_t *dst, uint32_t b, uint32_t e, const uint32_t *pre,
                                const uint32_t *off)
{
    for (uint32_t k = 0; b < e && k < 8; b++, k++) {
        __builtin_prefetch(&pre[dst[b]]);
        __builtin_prefetch(&off[dst[b]]);
    }
}

int dom_compute(const graph *g, const graph_root *roots, size_t nroots, uint32_t flags,
                dom_tree **out, hs_error *err)
{
    *out = NULL;
    uint32_t n = graph_node_count(g);
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    const uint32_t *ioff = graph_in_offsets(g), *isrc = graph_in_src(g);
    const uint64_t *size = graph_sizes(g);

    size_t nvs = 0;
    for (size_t i = 0; i < nroots; i++) {
        uint32_t v = roots[i].node;
        if (v >= n)
            return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                                "dominators: root %zu names node %u of %u", i, v, n);
        if ((flags & DOM_EXCLUDE_FINALIZER) && (roots[i].flags & GRAPH_ROOT_FINALIZER))
            continue;
        nvs += (roots[i].flags & GRAPH_ROOT_SCAN) ? off[v + 1] - off[v] : 1;
    }

    dom_tree *d = calloc(1, sizeof *d);
    size_t N1 = (size_t)n + 1;
    uint32_t *vsucc = malloc(nvs * sizeof *vsucc + 1);
    uint32_t *pre = malloc(N1 * sizeof *pre);       /* node -> preorder number */
    uint32_t *vertex = malloc(N1 * sizeof *vertex); /* preorder number -> node */
    ltv *t = malloc(N1 * sizeof *t);
    uint32_t *idom = malloc(N1 * sizeof *idom);
    uint32_t *bhead = malloc(N1 * sizeof *bhead);
    uint32_t *bnext = malloc(N1 * sizeof *bnext);
    uint32_t *cstack = malloc(N1 * sizeof *cstack);
    uint8_t *vflag = NULL;
    dfs_frame *fr = malloc(N1 * sizeof *fr);
    if (!d || !vsucc || !pre || !vertex || !t || !idom || !bhead || !bnext || !cstack || !fr)
        goto nomem;
    d->g = g;
    d->n = n;
    d->idom = malloc(N1 * sizeof *d->idom);
    d->retained = malloc(N1 * sizeof *d->retained);
    if (!d->idom || !d->retained)
        goto nomem;

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

    /* Iterative DFS from the virtual root (vertex 0, whose edges are vsucc). */
    memset(pre, 0xff, (size_t)n * sizeof *pre);
    uint32_t N = 1, sp = 0;
    vertex[0] = n;
    t[0].parent = NIL;
    fr[sp++] = (dfs_frame){0, 0, (uint32_t)nvs};
    while (sp) {
        dfs_frame *f = &fr[sp - 1];
        if (f->cur >= f->end) {
            sp--;
            continue;
        }
        uint32_t w = f->i ? dst[f->cur++] : vsucc[f->cur++];
        if (pre[w] != NIL)
            continue;
        pre[w] = N;
        vertex[N] = w;
        t[N].parent = f->i;
        uint32_t b = off[w], e = off[w + 1];
        dfs_prefetch(dst, b, e, pre, off);
        fr[sp++] = (dfs_frame){N, b, e};
        N++;
    }
    free(fr);
    fr = NULL;

    /* vflag[w]: the virtual root is a predecessor of w (so semi(w) = 0). */
    if (!(vflag = calloc(N, 1)))
        goto nomem;
    for (size_t i = 0; i < nvs; i++)
        vflag[pre[vsucc[i]]] = 1;
    free(vsucc);
    vsucc = NULL;

    for (uint32_t i = 0; i < N; i++) {
        t[i].semi = i;
        t[i].label = i;
        t[i].ancestor = NIL;
        bhead[i] = NIL;
    }
    /* Semidominators in reverse preorder, with buckets for the implicit idoms. The
     * predecessor lists of the next vertices are prefetched stage by stage (offsets, lists,
     * preorder numbers, vertex data). */
    for (uint32_t w = N - 1; w >= 1; w--) {
        if (w > 16)
            __builtin_prefetch(&ioff[vertex[w - 16]]);
        if (w > 8)
            __builtin_prefetch(&isrc[ioff[vertex[w - 8]]]);
        if (w > 4) {
            uint32_t u = vertex[w - 4];
            for (uint32_t e = ioff[u], k = 0; e < ioff[u + 1] && k < 8; e++, k++)
                __builtin_prefetch(&pre[isrc[e]]);
        }
        if (w > 2) {
            uint32_t u = vertex[w - 2];
            for (uint32_t e = ioff[u], k = 0; e < ioff[u + 1] && k < 8; e++, k++) {
                uint32_t pv = pre[isrc[e]];
                if (pv != NIL)
                    __builtin_prefetch(&t[pv]);
            }
        }
        uint32_t node = vertex[w], s = vflag[w] ? 0 : t[w].semi;
        for (uint32_t e = ioff[node]; e < ioff[node + 1] && s; e++) {
            uint32_t pv = pre[isrc[e]];
            if (pv == NIL || pv == w)
                continue;
            uint32_t u = eval(pv, t, cstack);
            if (t[u].semi < s)
                s = t[u].semi;
        }
        t[w].semi = s;
        bnext[w] = bhead[s];
        bhead[s] = w;
        uint32_t p = t[w].parent;
        t[w].ancestor = p; /* link(p, w) */
        for (uint32_t v = bhead[p]; v != NIL; v = bnext[v]) {
            uint32_t u = eval(v, t, cstack);
            idom[v] = t[u].semi < t[v].semi ? u : p;
        }
        bhead[p] = NIL;
    }
    idom[0] = NIL;
    for (uint32_t w = 1; w < N; w++)
        if (idom[w] != t[w].semi)
            idom[w] = idom[idom[w]];

    /* Back to node ids; retained sizes bottom-up (an idom precedes its children in preorder),
     * accumulated in preorder space (in the memory of t) to keep the writes local. */
    memset(d->idom, 0xff, (size_t)n * sizeof *d->idom);
    memset(d->retained, 0, (size_t)n * sizeof *d->retained);
    uint64_t *ret = d->retained;
    uint64_t *rp = (uint64_t *)t; /* t is no longer needed: 16 bytes per vertex >= 8 */
    for (uint32_t w = 1; w < N; w++) {
        uint32_t node = vertex[w];
        d->idom[node] = idom[w] == 0 ? DOM_VROOT : vertex[idom[w]];
        rp[w] = size[node];
    }
    rp[0] = 0;
    for (uint32_t w = N - 1; w >= 1; w--)
        rp[idom[w]] += rp[w];
    for (uint32_t w = 1; w < N; w++)
        ret[vertex[w]] = rp[w];
    d->total = rp[0];
    d->reachable = N - 1;

    *out = d;
    d = NULL;
    int rc = HS_OK;
    goto done;
nomem:
    rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "dominators: out of memory");
done:
    /* One release path for success and failure (vsucc and fr are NULL once consumed). */
    free(vsucc);
    free(vflag);
    free(fr);
    free(pre);
    free(vertex);
    free(t);
    free(idom);
    free(bhead);
    free(bnext);
    free(cstack);
    dom_free(d);
    return rc;
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
