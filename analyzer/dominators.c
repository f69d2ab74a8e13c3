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

/* Path compression without recursion: walks up the ancestor chain, then relinks top-down. */
static void compress(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi,
                     uint32_t *stack)
{
    uint32_t sp = 0, u = v;
    while (ancestor[ancestor[u]] != NIL) {
        stack[sp++] = u;
        u = ancestor[u];
    }
    while (sp) {
        uint32_t x = stack[--sp], a = ancestor[x];
        if (semi[label[a]] < semi[label[x]])
            label[x] = label[a];
        ancestor[x] = ancestor[a];
    }
}

static inline uint32_t eval(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi,
                            uint32_t *stack)
{
    if (ancestor[v] == NIL)
        return v;
    if (ancestor[ancestor[v]] != NIL)
        compress(v, ancestor, label, semi, stack);
    return label[v];
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
    uint8_t *is_vsucc = calloc(N1, 1);
    uint32_t *pre = malloc(N1 * sizeof *pre);
    uint32_t *vertex = malloc(N1 * sizeof *vertex);
    uint32_t *parent = malloc(N1 * sizeof *parent);
    uint32_t *semi = malloc(N1 * sizeof *semi);
    uint32_t *label = malloc(N1 * sizeof *label);
    uint32_t *ancestor = malloc(N1 * sizeof *ancestor);
    uint32_t *idom = malloc(N1 * sizeof *idom);
    uint32_t *bhead = malloc(N1 * sizeof *bhead);
    uint32_t *bnext = malloc(N1 * sizeof *bnext);
    uint32_t *cstack = malloc(N1 * sizeof *cstack);
    if (!d || !vsucc || !is_vsucc || !pre || !vertex || !parent || !semi || !label ||
        !ancestor || !idom || !bhead || !bnext || !cstack)
        goto nomem;
    d->g = g;
    d->n = n;
    d->idom = malloc(N1 * sizeof *d->idom);
    d->retained = calloc(N1, sizeof *d->retained);
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
                if (dst[e] != v) {
                    vsucc[nvs++] = dst[e];
                    is_vsucc[dst[e]] = 1;
                }
        } else {
            vsucc[nvs++] = v;
            is_vsucc[v] = 1;
        }
    }

    /* Iterative DFS from the virtual root; label/ancestor serve as the stack (vertex, next
     * edge) until the DFS is done. */
    memset(pre, 0xff, (size_t)n * sizeof *pre);
    uint32_t N = 1, sp = 0;
    uint32_t *sv = label, *se = ancestor;
    vertex[0] = n;
    parent[0] = NIL;
    sv[sp] = 0;
    se[sp++] = 0;
    while (sp) {
        uint32_t i = sv[sp - 1], w;
        if (i == 0) {
            if (se[sp - 1] >= nvs) {
                sp--;
                continue;
            }
            w = vsucc[se[sp - 1]++];
        } else {
            if (se[sp - 1] >= off[vertex[i] + 1]) {
                sp--;
                continue;
            }
            w = dst[se[sp - 1]++];
        }
        if (pre[w] != NIL)
            continue;
        pre[w] = N;
        vertex[N] = w;
        parent[N] = i;
        sv[sp] = N;
        se[sp++] = off[w];
        N++;
    }
    free(vsucc);
    vsucc = NULL;

    for (uint32_t i = 0; i < N; i++) {
        semi[i] = i;
        label[i] = i;
        ancestor[i] = NIL;
        bhead[i] = NIL;
    }
    /* Semidominators in reverse preorder, with buckets for the implicit idoms. */
    for (uint32_t w = N - 1; w >= 1; w--) {
        uint32_t node = vertex[w], s = semi[w];
        if (is_vsucc[node])
            s = 0;
        for (uint32_t e = ioff[node]; e < ioff[node + 1] && s; e++) {
            uint32_t pv = pre[isrc[e]];
            if (pv == NIL || pv == w)
                continue;
            uint32_t u = eval(pv, ancestor, label, semi, cstack);
            if (semi[u] < s)
                s = semi[u];
        }
        semi[w] = s;
        bnext[w] = bhead[s];
        bhead[s] = w;
        uint32_t p = parent[w];
        ancestor[w] = p; /* link(p, w) */
        for (uint32_t v = bhead[p]; v != NIL; v = bnext[v]) {
            uint32_t u = eval(v, ancestor, label, semi, cstack);
            idom[v] = semi[u] < semi[v] ? u : p;
        }
        bhead[p] = NIL;
    }
    idom[0] = NIL;
    for (uint32_t w = 1; w < N; w++)
        if (idom[w] != semi[w])
            idom[w] = idom[idom[w]];

    /* Back to node ids; retained sizes bottom-up (an idom precedes its children in preorder). */
    memset(d->idom, 0xff, (size_t)n * sizeof *d->idom);
    uint64_t *ret = d->retained;
    for (uint32_t w = 1; w < N; w++) {
        uint32_t node = vertex[w];
        d->idom[node] = idom[w] == 0 ? DOM_VROOT : vertex[idom[w]];
        ret[node] = size[node];
    }
    uint64_t total = 0;
    for (uint32_t w = N - 1; w >= 1; w--) {
        uint32_t node = vertex[w];
        if (idom[w] == 0)
            total += ret[node];
        else
            ret[vertex[idom[w]]] += ret[node];
    }
    d->total = total;
    d->reachable = N - 1;

    free(is_vsucc);
    free(pre);
    free(vertex);
    free(parent);
    free(semi);
    free(label);
    free(ancestor);
    free(idom);
    free(bhead);
    free(bnext);
    free(cstack);
    *out = d;
    return HS_OK;

nomem:
    free(vsucc);
    free(is_vsucc);
    free(pre);
    free(vertex);
    free(parent);
    free(semi);
    free(label);
    free(ancestor);
    free(idom);
    free(bhead);
    free(bnext);
    free(cstack);
    dom_free(d);
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "dominators: out of memory");
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
        if (!ranks_below(ret, out[0], v))
            continue;
        i = 0; /* replace the minimum, sift down */
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= h)
                break;
            if (c + 1 < h && ranks_below(ret, out[c + 1], out[c]))
                c++;
            if (!ranks_below(ret, out[c], v))
                break;
            out[i] = out[c];
            i = c;
        }
        out[i] = v;
    }
    /* Heap sort in place: repeatedly move the minimum to the end -> descending order. */
    for (size_t end = h; end > 1; end--) {
        uint32_t min = out[0], last = out[end - 1];
        size_t i = 0, hh = end - 1;
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= hh)
                break;
            if (c + 1 < hh && ranks_below(ret, out[c + 1], out[c]))
                c++;
            if (!ranks_below(ret, out[c], last))
                break;
            out[i] = out[c];
            i = c;
        }
        out[i] = last;
        out[end - 1] = min;
    }
    return h;
}
