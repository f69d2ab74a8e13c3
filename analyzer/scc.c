/* scc.c - iterative Tarjan SCC, component members, shortest cycle inside a component. */
#include "scc.h"

#include <stdlib.h>
#include <string.h>

#include "hugemem.h"

struct scc_result {
    const graph *g;
    uint32_t n, count;
    uint32_t *rindex;  /* per node: n - component, 0 = masked out (zeroed pages stay free) */
    uint32_t *moff;    /* count + 1 offsets into mem */
    uint32_t *mem;     /* members grouped by component, ascending node id */
    uint64_t *bytes;   /* per component */
    /* scc_cycle scratch, allocated on first use; stamp == epoch marks "visited". */
    uint32_t *stamp, *par, *fld, *queue, epoch;
};

typedef struct frame {
    uint32_t node, cur; /* node and its next out-edge */
    uint32_t root;      /* still a candidate component root */
} frame;

/* Pearce's space-efficient variant of Tarjan ("A space-efficient algorithm for finding
 * strongly connected components", 2016), with an explicit call stack. One array rindex holds
 * the DFS index, then the low-link, then (once the node's component is complete) a component
 * value c counting down from n: completed values always exceed live indices, so no on-stack
 * flag is needed and each edge costs one random access. */
int scc_compute(const graph *g, const uint8_t *mask, scc_result **out, hs_error *err)
{
    *out = NULL;
    uint32_t n = graph_node_count(g);
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    const uint64_t *size = graph_sizes(g);
    scc_result *s = calloc(1, sizeof *s);
    uint32_t *stk = hugemem_alloc((size_t)n * sizeof *stk + 1); /* non-root nodes awaiting a root */
    frame *fr = hugemem_alloc((size_t)n * sizeof *fr + 1);
    uint32_t *cur = NULL;
    int rc = HS_OK;
    if (!s || !stk || !fr) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "scc: out of memory");
        goto out;
    }
    s->g = g;
    s->n = n;
    if (!(s->rindex = hugemem_zalloc((size_t)n + 1, sizeof *s->rindex))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "scc: out of memory");
        goto out;
    }
    uint32_t *ri = s->rindex;
    uint32_t index = 1, c = n, sp = 0, ncomp = 0;

    for (uint32_t root = 0; root < n; root++) {
        if (ri[root] || (mask && !mask[root]))
            continue;
        uint32_t fsp = 0;
        ri[root] = index++;
        fr[fsp++] = (frame){root, off[root], 1};
        while (fsp) {
            frame *f = &fr[fsp - 1];
            uint32_t v = f->node, e = f->cur, end = off[v + 1];
            int descended = 0;
            while (e < end) {
                uint32_t w = dst[e++];
                if (mask && !mask[w])
                    continue;
                if (!ri[w]) {
                    f->cur = e;
                    ri[w] = index++;
                    uint32_t b = off[w], bend = off[w + 1];
                    /* Entering w: fetch its children's slots and offsets in parallel. */
                    for (uint32_t k = b; k < bend && k < b + 8; k++) {
                        __builtin_prefetch(&ri[dst[k]]);
                        __builtin_prefetch(&off[dst[k]]);
                    }
                    fr[fsp++] = (frame){w, b, 1};
                    descended = 1;
                    break;
                }
                if (ri[w] < ri[v]) {
                    ri[v] = ri[w];
                    f->root = 0;
                }
            }
            if (descended)
                continue;
            fsp--;
            if (f->root) {
                index--;
                while (sp && ri[v] <= ri[stk[sp - 1]]) {
                    ri[stk[--sp]] = c;
                    index--;
                }
                ri[v] = c--;
                ncomp++;
            } else {
                stk[sp++] = v;
            }
            if (fsp && ri[v] < ri[fr[fsp - 1].node]) {
                ri[fr[fsp - 1].node] = ri[v];
                fr[fsp - 1].root = 0;
            }
        }
    }
    free(stk);
    free(fr);
    stk = NULL;
    fr = NULL;

    /* Members grouped by component (counting sort), sizes and bytes. */
    s->count = ncomp;
    s->moff = calloc((size_t)ncomp + 2, sizeof *s->moff);
    s->bytes = calloc((size_t)ncomp + 1, sizeof *s->bytes);
    if (!s->moff || !s->bytes) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "scc: out of memory");
        goto out;
    }
    uint32_t members = 0;
    for (uint32_t v = 0; v < n; v++)
        if (ri[v]) {
            uint32_t k = n - ri[v];
            s->moff[k + 1]++;
            s->bytes[k] += size[v];
            members++;
        }
    for (uint32_t k = 0; k < ncomp; k++)
        s->moff[k + 1] += s->moff[k];
    if (!(s->mem = malloc((size_t)members * sizeof *s->mem + 1)) ||
        !(cur = malloc((size_t)ncomp * sizeof *cur + 1))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "scc: out of memory");
        goto out;
    }
    memcpy(cur, s->moff, (size_t)ncomp * sizeof *cur);
    for (uint32_t v = 0; v < n; v++)
        if (ri[v])
            s->mem[cur[n - ri[v]]++] = v;
    *out = s;
    s = NULL;
out:
    free(cur);
    free(stk);
    free(fr);
    scc_free(s);
    return rc;
}

/* Frees scc_cycle's scratch arrays. */
static void free_cycle_scratch(scc_result *s)
{
    free(s->stamp);
    free(s->par);
    free(s->fld);
    free(s->queue);
    s->stamp = s->par = s->fld = s->queue = NULL;
}

void scc_free(scc_result *s)
{
    if (!s)
        return;
    free(s->rindex);
    free(s->moff);
    free(s->mem);
    free(s->bytes);
    free_cycle_scratch(s);
    free(s);
}

uint32_t scc_count(const scc_result *s)
{
    return s->count;
}

uint32_t scc_of(const scc_result *s, uint32_t v)
{
    if (v >= s->n || !s->rindex[v])
        return GRAPH_NONE;
    return s->n - s->rindex[v];
}

const uint32_t *scc_members(const scc_result *s, uint32_t c, uint32_t *count)
{
    if (c >= s->count) {
        *count = 0;
        return NULL;
    }
    *count = s->moff[c + 1] - s->moff[c];
    return s->mem + s->moff[c];
}

uint32_t scc_size(const scc_result *s, uint32_t c)
{
    return c < s->count ? s->moff[c + 1] - s->moff[c] : 0;
}

uint64_t scc_bytes(const scc_result *s, uint32_t c)
{
    return c < s->count ? s->bytes[c] : 0;
}

int scc_is_cycle(const scc_result *s, uint32_t c)
{
    uint32_t k = scc_size(s, c);
    if (k >= 2)
        return 1;
    if (k == 0)
        return 0;
    uint32_t v = s->mem[s->moff[c]];
    return graph_edge_field(s->g, v, v) != GRAPH_NONE;
}

size_t scc_cycle(scc_result *s, uint32_t start, graph_step *steps, size_t cap)
{
    uint32_t c = scc_of(s, start);
    if (c == GRAPH_NONE)
        return 0;
    const graph *g = s->g;
    if (scc_size(s, c) == 1) {
        uint32_t f = graph_edge_field(g, start, start);
        if (f == GRAPH_NONE)
            return 0;
        if (cap >= 2) {
            steps[0] = (graph_step){start, GRAPH_NONE};
            steps[1] = (graph_step){start, f};
        }
        return 2;
    }
    if (!s->stamp) {
        s->stamp = hugemem_zalloc((size_t)s->n + 1, sizeof *s->stamp);
        s->par = hugemem_alloc((size_t)s->n * sizeof *s->par + 1);
        s->fld = hugemem_alloc((size_t)s->n * sizeof *s->fld + 1);
        s->queue = hugemem_alloc((size_t)s->n * sizeof *s->queue + 1);
        if (!s->stamp || !s->par || !s->fld || !s->queue) {
            free_cycle_scratch(s);
            return 0;
        }
        s->epoch = 0;
    }
    if (++s->epoch == 0) { /* wrapped: forget every old mark */
        memset(s->stamp, 0, (size_t)s->n * sizeof *s->stamp);
        s->epoch = 1;
    }
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g),
                   *fld = graph_out_field(g);
    uint32_t ep = s->epoch, cval = s->n - c, head = 0, tail = 0;
    uint32_t *stamp = s->stamp, *par = s->par, *pf = s->fld, *q = s->queue;
    /* BFS inside the component from start's successors (self-edges skipped) back to start. */
    stamp[start] = ep;
    q[tail++] = start;
    while (head < tail) {
        uint32_t v = q[head++];
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            uint32_t w = dst[e];
            if (w == start && v != start) {
                /* Found: start -> ... -> v -> start. */
                size_t len = 2;
                for (uint32_t u = v; u != start; u = par[u])
                    len++;
                if (len > cap)
                    return len;
                steps[0] = (graph_step){start, GRAPH_NONE};
                steps[len - 1] = (graph_step){start, fld[e]};
                size_t i = len - 1;
                for (uint32_t u = v; u != start; u = par[u])
                    steps[--i] = (graph_step){u, pf[u]};
                return len;
            }
            if (stamp[w] == ep || s->rindex[w] != cval)
                continue;
            stamp[w] = ep;
            par[w] = v;
            pf[w] = fld[e];
            q[tail++] = w;
        }
    }
    return 0; /* unreachable for a component of >= 2 members */
}
