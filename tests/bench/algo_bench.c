/* algo_bench - micro-benchmark of the graph algorithms (not a test).
 * Usage: algo_bench [nodes] [avg-out-degree] [local%] [seed]
 * Edges go to uniformly random nodes, except local% of them which go to a node within +-1024
 * ids (heap-like: objects allocated together point to each other and node ids follow
 * addresses). local% = 0 (default) is the cache-hostile worst case. Prints each phase. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "dominators.h"
#include "graph.h"
#include "liveness.h"
#include "paths.h"
#include "scc.h"

static uint64_t rs = 88172645463325252ull;
static uint32_t rnd(uint32_t bound)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % bound);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
    if (rc) {
        fprintf(stderr, "%s failed: %s\n", what, hs_strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000;
    uint32_t deg = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 3;
    uint32_t local = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
    if (argc > 4)
        rs = strtoull(argv[4], NULL, 0) | 1;
    if (n < 16 || deg == 0) {
        fprintf(stderr, "usage: algo_bench [nodes>=16] [avg-degree>=1] [seed]\n");
        return 2;
    }
    double t0 = now(), t;
    double total = 0;

    /* Build as the heap-model builder will: object after object (sources in order). */
    graph_builder *b = graph_builder_new(n, (size_t)n * deg);
    for (uint32_t v = 0; v < n; v++) {
        graph_builder_set_size(b, v, 16u << rnd(5));
        uint32_t d = rnd(2 * deg + 1);
        for (uint32_t i = 0; i < d; i++) {
            uint32_t w = rnd(n);
            if (rnd(100) < local)
                w = (uint32_t)(((uint64_t)v + n + rnd(2049) - 1024) % n);
            die("add_edge", graph_builder_add_edge(b, v, w, 8 * i));
        }
    }
    t = now();
    printf("generate edges (builder add):   %7.1f ms  (%u nodes, %zu edges, %u%% local)\n",
           (t - t0) * 1e3, n, graph_builder_edge_count(b), local);
    t0 = t;
    graph *g = NULL;
    die("graph_build", graph_build(b, &g, NULL));
    t = now();
    printf("graph_build (CSR fwd+rev):      %7.1f ms  (%.1f MiB)\n", (t - t0) * 1e3,
           graph_memory(g) / 1048576.0);
    total += t - t0;

    /* Unsorted insertion: the counting-sort path. */
    t0 = now();
    graph_builder *b2 = graph_builder_new(n, graph_edge_count(g));
    {
        const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)(((uint64_t)i * 2654435761u) % n); /* n not a multiple */
            for (uint32_t e = off[v]; e < off[v + 1]; e++)
                graph_builder_add_edge(b2, v, dst[e], 0);
        }
    }
    double ta = now();
    graph *g2 = NULL;
    die("graph_build", graph_build(b2, &g2, NULL));
    t = now();
    printf("graph_build, unsorted edges:    %7.1f ms  (not in total)\n", (t - ta) * 1e3);
    graph_free(g2);

    /* Roots: 2000 random nodes ("globals" and frames), 1000 finalizer specials. */
    size_t nroots = 2000, nsp = 1000;
    graph_root *roots = malloc((nroots + 2 * nsp) * sizeof *roots);
    live_special *sp = malloc(nsp * sizeof *sp);
    for (size_t i = 0; i < nroots; i++)
        roots[i] = (graph_root){rnd(n), 0, 0};
    for (size_t i = 0; i < nsp; i++)
        sp[i] = (live_special){rnd(n), rnd(4) ? rnd(n) : GRAPH_NONE};
    size_t nall = nroots + live_special_roots(sp, nsp, 1, 2, roots + nroots);

    t0 = now();
    paths_tree *pt = NULL;
    paths_opts po = {PATHS_EXCLUDE_FINALIZER, NULL, GRAPH_NONE};
    die("paths_bfs", paths_bfs(g, roots, nall, &po, &pt, NULL));
    t = now();
    printf("paths_bfs (all roots):          %7.1f ms  (%u reached)\n", (t - t0) * 1e3,
           paths_reached_count(pt));
    total += t - t0;
    paths_free(pt);

    t0 = now();
    scc_result *sc = NULL;
    die("scc_compute", scc_compute(g, NULL, &sc, NULL));
    t = now();
    uint32_t biggest = 0;
    for (uint32_t c = 0; c < scc_count(sc); c++)
        if (scc_size(sc, c) > biggest)
            biggest = scc_size(sc, c);
    printf("scc_compute:                    %7.1f ms  (%u components, largest %u)\n",
           (t - t0) * 1e3, scc_count(sc), biggest);
    total += t - t0;
    scc_free(sc);

    t0 = now();
    dom_tree *d = NULL;
    die("dom_compute", dom_compute(g, roots, nall, 0, &d, NULL));
    t = now();
    uint32_t top[10];
    size_t ntop = dom_top(d, 10, 0, top);
    double t2 = now();
    printf("dom_compute (LT + retained):    %7.1f ms  (%u reachable, %.1f MiB)\n",
           (t - t0) * 1e3, dom_reachable_count(d), dom_reachable_bytes(d) / 1048576.0);
    printf("dom_top(10):                    %7.1f ms  (top retains %llu bytes)\n",
           (t2 - t) * 1e3, ntop ? (unsigned long long)dom_retained(d, top[0]) : 0ull);
    total += t2 - t0;
    dom_free(d);

    t0 = now();
    live_result *lr = NULL;
    die("live_compute", live_compute(g, roots, nroots, sp, nsp, &lr, NULL));
    t = now();
    printf("live_compute:                   %7.1f ms  (in use %u, pinned %u, pending %u, "
           "fin-reachable %u, garbage %u)\n",
           (t - t0) * 1e3, live_count(lr, LIVE_IN_USE), live_count(lr, LIVE_PINNED),
           live_count(lr, LIVE_PENDING), live_count(lr, LIVE_FIN_REACHABLE),
           live_count(lr, LIVE_GARBAGE));
    total += t - t0;
    live_free(lr);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("total (build + bfs + scc + dom + live): %.1f ms; peak RSS %.1f MiB\n", total * 1e3,
           ru.ru_maxrss / 1024.0);
    free(roots);
    free(sp);
    graph_free(g);
    return 0;
}
