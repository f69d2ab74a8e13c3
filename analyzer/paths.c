/* paths.c - multi-source BFS trees from roots, path extraction. */
#include "paths.h"

#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "hugemem.h"
#include "vec.h"

/* up[v]: 0 = not reached, 1 = seeded by a root, p + 2 = BFS parent p; zeroed memory means "not
 * reached", so pages of nodes the BFS never touches cost nothing. 4 bytes per node, and the BFS
 * writes only this word per node it reaches (visited tests go to a bitset that stays in cache).
 * Fields are not stored: the BFS reaches v through the first edge parent -> v (an earlier one
 * would have reached it earlier), so graph_edge_field(parent, v) finds that edge again. Seeds
 * keep their root index in a table sorted by node. */
struct paths_tree {
    const graph *g;
    uint32_t n, reached;
    uint32_t *up;
    uint32_t *root;      /* PATHS_RECORD_ROOT: root index per reached node */
    uint64_t *seeds;     /* node << 32 | root index, ascending */
    size_t nseeds;
    graph_root *roots;
    size_t nroots;
};

#define UP_SEED 1u

/* The tree being seeded, and its BFS queue. */
typedef struct seeding {
    paths_tree *t;
    uint64_t *vis;
    uint32_t *q, tail;
    const uint8_t *blocked;
    size_t capseeds;
} seeding;

/* Seeds w from root i unless it is blocked or seeded already. -1 when out of memory. */
static int seed(seeding *s, uint32_t w, uint32_t i)
{
    paths_tree *t = s->t;
    if (bitset_get(s->vis, w) || (s->blocked && s->blocked[w]))
        return 0;
    if (VEC_PUSH(t->seeds, t->nseeds, s->capseeds, (uint64_t)w << 32 | i) < 0)
        return -1;
    bitset_set(s->vis, w);
    t->up[w] = UP_SEED;
    if (t->root)
        t->root[w] = i;
    s->q[s->tail++] = w;
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

int paths_bfs(const graph *g, const graph_root *roots, size_t nroots, const paths_opts *opts,
              paths_tree **out, hs_error *err)
{
    *out = NULL;
    uint32_t n = graph_node_count(g);
    uint32_t flags = opts ? opts->flags : 0;
    const uint8_t *blocked = opts ? opts->blocked : NULL;
    uint32_t target = opts ? opts->target : GRAPH_NONE;
    if (nroots >= GRAPH_NONE)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "paths: too many roots");
    for (size_t i = 0; i < nroots; i++)
        if (roots[i].node >= n)
            return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                                "paths: root %zu names node %u of %u", i, roots[i].node, n);

    paths_tree *t = calloc(1, sizeof *t);
    uint32_t *q = hugemem_alloc((size_t)n * sizeof *q + 1);
    uint64_t *vis = bitset_new(n);
    int rc = HS_OK;
    if (!t || !q || !vis) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "paths: out of memory");
        goto out;
    }
    t->g = g;
    t->n = n;
    t->up = hugemem_zalloc((size_t)n + 1, sizeof *t->up);
    t->roots = malloc(nroots * sizeof *t->roots + 1);
    if (!t->up || !t->roots ||
        ((flags & PATHS_RECORD_ROOT) && !(t->root = calloc((size_t)n + 1, sizeof *t->root)))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "paths: out of memory");
        goto out;
    }
    if (nroots)
        memcpy(t->roots, roots, nroots * sizeof *roots);
    t->nroots = nroots;

    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    uint32_t *up = t->up, *rt = t->root;
    uint32_t head = 0, tail = 0;
    int done = 0;

    /* Seeds, in root order: the root's node, or for a scan root what its node points to. */
    seeding sd = {t, vis, q, 0, blocked, 0};
    for (size_t i = 0; i < nroots && !done; i++) {
        const graph_root *r = &roots[i];
        uint32_t v = r->node;
        if ((flags & PATHS_EXCLUDE_FINALIZER) && (r->flags & GRAPH_ROOT_FINALIZER))
            continue;
        if (blocked && blocked[v])
            continue;
        if (!(r->flags & GRAPH_ROOT_SCAN)) {
            if (seed(&sd, v, (uint32_t)i) < 0) {
                rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "paths: out of memory");
                goto out;
            }
            done = v == target && bitset_get(vis, v);
            continue;
        }
        for (uint32_t e = off[v]; e < off[v + 1] && !done; e++) {
            if (dst[e] == v)
                continue;
            if (seed(&sd, dst[e], (uint32_t)i) < 0) {
                rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "paths: out of memory");
                goto out;
            }
            done = dst[e] == target && bitset_get(vis, dst[e]);
        }
    }
    tail = sd.tail;
    if (t->nseeds)
        qsort(t->seeds, t->nseeds, sizeof *t->seeds, cmp_u64);

    /* BFS. The queue holds the nodes to scan next, so their data is prefetched ahead: the
     * offsets 16 nodes ahead, the edge lists 8 ahead, the unvisited targets' tree words 4 ahead
     * (each stage needs the previous one's data). Random heaps are latency-bound; this
     * overlaps the cache misses. */
    while (head < tail && !done) {
        if (head + 16 < tail)
            __builtin_prefetch(&off[q[head + 16]]);
        if (head + 8 < tail)
            __builtin_prefetch(&dst[off[q[head + 8]]]);
        if (head + 4 < tail) {
            uint32_t u = q[head + 4];
            for (uint32_t e = off[u], k = 0; e < off[u + 1] && k < 8; e++, k++)
                if (!bitset_get(vis, dst[e]))
                    __builtin_prefetch(&up[dst[e]], 1);
        }
        uint32_t v = q[head++];
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            uint32_t w = dst[e];
            if (bitset_get(vis, w) || (blocked && blocked[w]))
                continue;
            bitset_set(vis, w);
            up[w] = v + 2;
            if (rt)
                rt[w] = rt[v];
            q[tail++] = w;
            if (w == target) {
                done = 1;
                break;
            }
        }
    }
    t->reached = tail;
    *out = t;
    t = NULL;
out:
    free(q);
    free(vis);
    paths_free(t);
    return rc;
}

void paths_free(paths_tree *t)
{
    if (!t)
        return;
    free(t->up);
    free(t->root);
    free(t->seeds);
    free(t->roots);
    free(t);
}

int paths_reached(const paths_tree *t, uint32_t v)
{
    return v < t->n && t->up[v] != 0;
}

uint32_t paths_parent(const paths_tree *t, uint32_t v)
{
    if (v >= t->n || t->up[v] <= UP_SEED)
        return GRAPH_NONE;
    return t->up[v] - 2;
}

/* Root index of a seeded node (binary search in the seed table). */
static uint32_t seed_root(const paths_tree *t, uint32_t v)
{
    size_t lo = 0, hi = t->nseeds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->seeds[mid] >> 32 < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->nseeds && t->seeds[lo] >> 32 == v ? (uint32_t)t->seeds[lo] : GRAPH_NONE;
}

/* Field of the tree edge into reached node v: for a seed, the offset inside the scanned node
 * of a SCAN root (else GRAPH_NONE); otherwise the first edge from the parent. */
static uint32_t tree_field(const paths_tree *t, uint32_t v)
{
    if (t->up[v] != UP_SEED)
        return graph_edge_field(t->g, t->up[v] - 2, v);
    const graph_root *r = &t->roots[seed_root(t, v)];
    if (!(r->flags & GRAPH_ROOT_SCAN))
        return GRAPH_NONE;
    return graph_edge_field(t->g, r->node, v);
}

uint32_t paths_field(const paths_tree *t, uint32_t v)
{
    if (v >= t->n || !t->up[v])
        return GRAPH_NONE;
    return tree_field(t, v);
}

uint32_t paths_root_of(const paths_tree *t, uint32_t v)
{
    if (v >= t->n || !t->up[v])
        return GRAPH_NONE;
    if (t->root)
        return t->root[v];
    while (t->up[v] != UP_SEED)
        v = t->up[v] - 2;
    return seed_root(t, v);
}

size_t paths_extract(const paths_tree *t, uint32_t v, graph_step *steps, size_t cap)
{
    if (v >= t->n || !t->up[v])
        return 0;
    size_t len = 1;
    for (uint32_t u = v; t->up[u] != UP_SEED; u = t->up[u] - 2)
        len++;
    if (len > cap)
        return len;
    size_t i = len;
    for (uint32_t u = v;; u = t->up[u] - 2) {
        steps[--i] = (graph_step){u, tree_field(t, u)};
        if (t->up[u] == UP_SEED)
            break;
    }
    return len;
}

uint32_t paths_reached_count(const paths_tree *t)
{
    return t->reached;
}

void paths_mark_reached(const paths_tree *t, uint8_t *mark, uint8_t value)
{
    for (uint32_t v = 0; v < t->n; v++)
        if (t->up[v])
            mark[v] = value;
}

/* Reachability state: seen = discovered; pending nodes wait either on a small stack or, when
 * that is full, as bits in pend. */
typedef struct reach {
    const uint32_t *off, *dst; /* out- or in-edges */
    uint32_t limit;            /* nodes >= limit are never entered */
    uint64_t *seen, *pend;
    size_t npend;      /* bits set in pend */
    uint32_t *stack;
    size_t sp, cap;
    uint32_t count;    /* nodes discovered */
} reach;

/* Marks w (unless seen) and queues it: on the stack, or in pend when the stack is full. */
static void reach_mark(reach *r, uint32_t w)
{
    if (bitset_get(r->seen, w))
        return;
    bitset_set(r->seen, w);
    r->count++;
    if (r->sp < r->cap) {
        r->stack[r->sp++] = w;
    } else {
        bitset_set(r->pend, w);
        r->npend++;
    }
}

/* One pass over pend in ascending id order. A node found ahead of the pass is scanned in this
 * same pass (its word is re-read after each node); one found behind waits for the next. */
static void reach_sweep(reach *r, size_t nwords)
{
    for (size_t i = 0; i < nwords && r->npend; i++) {
        uint64_t word;
        while ((word = r->pend[i]) != 0) {
            uint32_t v = (uint32_t)(i * 64 + (size_t)__builtin_ctzll(word));
            r->pend[i] = word & (word - 1);
            r->npend--;
            for (uint32_t e = r->off[v]; e < r->off[v + 1]; e++) {
                uint32_t w = r->dst[e];
                if (w >= r->limit || bitset_get(r->seen, w))
                    continue;
                bitset_set(r->seen, w);
                bitset_set(r->pend, w);
                r->count++;
                r->npend++;
            }
        }
    }
}

/* Moves every pending bit onto the stack (the caller checked that they fit). */
static void reach_unpend(reach *r, size_t nwords)
{
    for (size_t i = 0; i < nwords && r->npend; i++)
        for (uint64_t word = r->pend[i]; word; word &= word - 1) {
            r->stack[r->sp++] = (uint32_t)(i * 64 + (size_t)__builtin_ctzll(word));
            r->npend--;
        }
    memset(r->pend, 0, nwords * sizeof *r->pend);
}

/* Random graphs make a DFS or BFS wait on a cache miss per node (its offsets, then its edges).
 * Here the pending nodes are mostly scanned by sweeps in ascending id order, so the CSR arrays
 * stream; the visited bits (n / 8 bytes) stay in cache. A stack of capacity n / 32 takes the
 * nodes found while few are pending (a long chain never pays for sweeps); once more than half
 * a stack's worth waits in pend, the stack is poured into pend and swept. Every sweep or
 * unpend scans n / 64 words and moves at least n / 64 nodes, so they cost O(n) in all. */
int paths_reach(const graph *g, const uint32_t *seeds, size_t nseeds,
                const paths_reach_opts *opts, uint64_t **out, uint32_t *reached, hs_error *err)
{
    *out = NULL;
    uint32_t n = graph_node_count(g);
    for (size_t i = 0; i < nseeds; i++)
        if (seeds[i] >= n)
            return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                                "paths: seed %zu names node %u of %u", i, seeds[i], n);
    size_t nwords = bitset_words(n);
    int reverse = opts && opts->reverse;
    reach r = {.off = reverse ? graph_in_offsets(g) : graph_out_offsets(g),
               .dst = reverse ? graph_in_src(g) : graph_out_dst(g),
               .limit = opts && opts->limit ? opts->limit : n};
    r.cap = n / 32 > 1024 ? n / 32 : 1024;
    r.seen = bitset_new(n);
    r.pend = bitset_new(n);
    r.stack = malloc(r.cap * sizeof *r.stack);
    int rc = HS_OK;
    if (!r.seen || !r.pend || !r.stack) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "paths: out of memory");
        goto out;
    }
    for (size_t i = 0; i < nseeds; i++) /* seeds are marked whatever the limit */
        reach_mark(&r, seeds[i]);
    for (;;) {
        if (r.npend > r.cap / 2) {
            while (r.sp) {
                bitset_set(r.pend, r.stack[--r.sp]);
                r.npend++;
            }
            reach_sweep(&r, nwords);
        } else if (r.sp) {
            uint32_t v = r.stack[--r.sp];
            for (uint32_t e = r.off[v]; e < r.off[v + 1]; e++)
                if (r.dst[e] < r.limit)
                    reach_mark(&r, r.dst[e]);
        } else if (r.npend) {
            reach_unpend(&r, nwords);
        } else {
            break;
        }
    }
    if (reached)
        *reached = r.count;
    *out = r.seen;
    r.seen = NULL;
out:
    free(r.seen);
    free(r.pend);
    free(r.stack);
    return rc;
}
