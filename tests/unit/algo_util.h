/* algo_util.h - helpers for the graph-algorithm unit tests: a seeded RNG, small random graphs
 * kept both as an edge list (for brute force) and as a built graph, and brute-force
 * reachability over bitmasks (n <= 32). */
#ifndef ALGO_UTIL_H
#define ALGO_UTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "graph.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static inline uint32_t rnd(uint32_t bound) /* uniform-ish in [0, bound) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return bound ? (uint32_t)((rng_state >> 11) % bound) : 0;
}

#define SMALL_MAX_N 16
#define SMALL_MAX_M 64

typedef struct small_graph {
    uint32_t n, m;
    uint32_t src[SMALL_MAX_M], dst[SMALL_MAX_M], field[SMALL_MAX_M];
    uint64_t size[SMALL_MAX_N];
    graph *g;
} small_graph;

/* Random graph: 1..max_n nodes, up to 3n edges with random endpoints (self-edges and parallel
 * edges happen), fields distinct per edge, sizes 1..100. sorted != 0 adds edges by source. */
static inline void small_random(small_graph *s, uint32_t max_n, int sorted)
{
    s->n = 1 + rnd(max_n);
    s->m = rnd(3 * s->n + 1);
    if (s->m > SMALL_MAX_M)
        s->m = SMALL_MAX_M;
    for (uint32_t e = 0; e < s->m; e++) {
        s->src[e] = rnd(s->n);
        s->dst[e] = rnd(4) == 0 ? s->src[e] : rnd(s->n);
        s->field[e] = 8 * e + 16;
    }
    if (sorted) { /* insertion sort by src, stable */
        for (uint32_t i = 1; i < s->m; i++)
            for (uint32_t j = i; j > 0 && s->src[j - 1] > s->src[j]; j--) {
                uint32_t t;
                t = s->src[j], s->src[j] = s->src[j - 1], s->src[j - 1] = t;
                t = s->dst[j], s->dst[j] = s->dst[j - 1], s->dst[j - 1] = t;
                t = s->field[j], s->field[j] = s->field[j - 1], s->field[j - 1] = t;
            }
    }
    for (uint32_t v = 0; v < s->n; v++)
        s->size[v] = 1 + rnd(100);
    graph_builder *b = graph_builder_new(s->n, rnd(2) ? 0 : s->m);
    for (uint32_t v = 0; v < s->n; v++)
        graph_builder_set_size(b, v, s->size[v]);
    for (uint32_t e = 0; e < s->m; e++)
        graph_builder_add_edge(b, s->src[e], s->dst[e], s->field[e]);
    s->g = NULL;
    if (graph_build(b, &s->g, NULL) != HS_OK) {
        fprintf(stderr, "graph_build failed\n");
        exit(2);
    }
}

/* Nodes reachable from the set `from` (included), never entering `removed`, following edges
 * except self-edges. */
static inline uint32_t small_closure(const small_graph *s, uint32_t from, uint32_t removed)
{
    uint32_t r = from & ~removed, prev;
    do {
        prev = r;
        for (uint32_t e = 0; e < s->m; e++)
            if ((r >> s->src[e] & 1) && s->src[e] != s->dst[e] && !(removed >> s->dst[e] & 1))
                r |= 1u << s->dst[e];
    } while (r != prev);
    return r;
}

/* Out-neighbours of v other than v itself. */
static inline uint32_t small_referents(const small_graph *s, uint32_t v)
{
    uint32_t r = 0;
    for (uint32_t e = 0; e < s->m; e++)
        if (s->src[e] == v && s->dst[e] != v)
            r |= 1u << s->dst[e];
    return r;
}

/* 1 when some edge a -> b has field f. */
static inline int small_has_edge(const small_graph *s, uint32_t a, uint32_t b, uint32_t f)
{
    for (uint32_t e = 0; e < s->m; e++)
        if (s->src[e] == a && s->dst[e] == b && s->field[e] == f)
            return 1;
    return 0;
}

/* All-pairs shortest path lengths in edges (self-edges ignored; d[v][v] = 0). */
#define SMALL_INF 1000u
static inline void small_apsp(const small_graph *s, uint32_t d[SMALL_MAX_N][SMALL_MAX_N])
{
    for (uint32_t i = 0; i < s->n; i++)
        for (uint32_t j = 0; j < s->n; j++)
            d[i][j] = i == j ? 0 : SMALL_INF;
    for (uint32_t e = 0; e < s->m; e++)
        if (s->src[e] != s->dst[e])
            d[s->src[e]][s->dst[e]] = 1;
    for (uint32_t k = 0; k < s->n; k++)
        for (uint32_t i = 0; i < s->n; i++)
            for (uint32_t j = 0; j < s->n; j++)
                if (d[i][k] + d[k][j] < d[i][j])
                    d[i][j] = d[i][k] + d[k][j];
}

/* A graph of n nodes (size 8 each) from a callback that lists edges in source order. */
typedef void (*edge_fn)(graph_builder *b, uint32_t n, void *arg);
static inline graph *big_graph(uint32_t n, size_t mhint, edge_fn fn, void *arg)
{
    graph_builder *b = graph_builder_new(n, mhint);
    for (uint32_t v = 0; v < n; v++)
        graph_builder_set_size(b, v, 8);
    fn(b, n, arg);
    graph *g = NULL;
    if (graph_build(b, &g, NULL) != HS_OK) {
        fprintf(stderr, "graph_build failed\n");
        exit(2);
    }
    return g;
}

/* i -> i+1 (field 0); with arg != NULL also n-1 -> 0 (a cycle). */
static inline void edges_chain(graph_builder *b, uint32_t n, void *arg)
{
    for (uint32_t v = 0; v + 1 < n; v++)
        graph_builder_add_edge(b, v, v + 1, 0);
    if (arg && n)
        graph_builder_add_edge(b, n - 1, 0, 8);
}

/* Star with fan-in: every node 1..n-1 points at node 0 (field 24). */
static inline void edges_star_in(graph_builder *b, uint32_t n, void *arg)
{
    (void)arg;
    for (uint32_t v = 1; v < n; v++)
        graph_builder_add_edge(b, v, 0, 24);
}

#endif
