/* algo_bench - micro-benchmark of the graph algorithms (not a test).
 * Usage: algo_bench [nodes] [avg-out-degree] [local%] [reps] [seed] [uniform|heap]
 * uniform (default): edges go to uniformly random nodes, except local% of them which go to a
 * node within +-1024 ids (objects allocated together point to each other and node ids follow
 * addresses); local% = 0 is the cache-hostile worst case. heap: the shape of the soak
 * workload's heap (see heap_shape; degree and local% are ignored). Each phase runs reps times
 * (default 3); the best time is printed (the machine is shared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dom.h"
#include "graph.h"
#include "live.h"
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

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Writes the edges of a heap-shaped graph, by source, into src/dst (room for 4n/3) and
 * returns their count: three arrays (nodes 0-2) hold the heads of n/3 chains of three objects
 * (head -> middle -> tail, like map buckets -> entries -> values) and as many references to
 * random objects; object ids are shuffled, as heap addresses are. */
static size_t heap_shape(uint32_t n, uint32_t *src, uint32_t *dst)
{
    uint32_t *perm = malloc((size_t)n * sizeof *perm), *next = malloc((size_t)n * sizeof *next);
    for (uint32_t v = 0; v < n; v++) {
        perm[v] = v;
        next[v] = UINT32_MAX;
    }
    for (uint32_t v = n - 1; v > 3; v--) { /* shuffle the objects 3..n-1 */
        uint32_t j = 3 + rnd(v - 2), x = perm[v];
        perm[v] = perm[j];
        perm[j] = x;
    }
    uint32_t chains = (n - 3) / 3;
    for (uint32_t c = 0; c < chains; c++) {
        next[perm[3 + 3 * c]] = perm[4 + 3 * c];
        next[perm[4 + 3 * c]] = perm[5 + 3 * c];
    }
    size_t m = 0;
    for (uint32_t a = 0; a < 3; a++)
        for (uint32_t c = a; c < chains; c += 3) {
            src[m] = a;
            dst[m++] = perm[3 + 3 * c];
            src[m] = a;
            dst[m++] = 3 + rnd(n - 3);
        }
    for (uint32_t v = 3; v < n; v++)
        if (next[v] != UINT32_MAX) {
            src[m] = v;
            dst[m++] = next[v];
        }
    free(perm);
    free(next);
    return m;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000;
    uint32_t deg = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 3;
    uint32_t local = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
    int reps = argc > 4 ? atoi(argv[4]) : 3;
    if (argc > 5)
        rs = strtoull(argv[5], NULL, 0) | 1;
    int heap = argc > 6 && !strcmp(argv[6], "heap");
    if (n < 16 || deg == 0 || reps < 1 || (argc > 6 && !heap && strcmp(argv[6], "uniform"))) {
        fprintf(stderr, "usage: algo_bench [nodes>=16] [avg-degree>=1] [local%%] [reps] [seed] "
                        "[uniform|heap]\n");
        return 2;
    }

    /* Edges as the heap-model builder produces them: object after object. */
    size_t cap = (size_t)n * (2 * deg + 1), m = 0;
    uint32_t *src = malloc(cap * sizeof *src), *dst = malloc(cap * sizeof *dst);
    uint64_t *size = malloc((size_t)n * sizeof *size);
    for (uint32_t v = 0; v < n; v++) {
        size[v] = 16u << rnd(5);
        if (heap)
            continue;
        uint32_t d = rnd(2 * deg + 1);
        for (uint32_t i = 0; i < d; i++) {
            uint32_t w = rnd(n);
            if (rnd(100) < local)
                w = (uint32_t)(((uint64_t)v + n + rnd(2049) - 1024) % n);
            src[m] = v;
            dst[m++] = w;
        }
    }
    if (heap) {
        m = heap_shape(n, src, dst);
        printf("graph: %u nodes, %zu edges, heap-shaped, best of %d\n", n, m, reps);
    } else {
        printf("graph: %u nodes, %zu edges, %u%% local, best of %d\n", n, m, local, reps);
    }

    double t_add = 1e9, t_build = 1e9, t_bfs = 1e9, t_scc = 1e9, t_dom = 1e9, t_live = 1e9;
    graph *g = NULL;
    for (int r = 0; r < reps; r++) {
        graph_free(g);
        double t0 = now();
        graph_builder *b = graph_builder_new(n, m);
        for (uint32_t v = 0; v < n; v++)
            graph_builder_set_size(b, v, size[v]);
        for (size_t e = 0; e < m; e++)
            die("add_edge", graph_builder_add_edge(b, src[e], dst[e], (uint32_t)e & 0xff));
        double t1 = now();
        die("graph_build", graph_build(b, &g, NULL));
        double t2 = now();
        t_add = MIN(t_add, t1 - t0);
        t_build = MIN(t_build, t2 - t1);
    }

    /* Unsorted insertion: the counting-sort path. */
    double t_unsorted = 1e9;
    for (int r = 0; r < reps; r++) {
        graph_builder *b2 = graph_builder_new(n, m);
        for (size_t i = 0; i < m; i++) {
            size_t e = (i * 2654435761u) % m;
            graph_builder_add_edge(b2, src[e], dst[e], 0);
        }
        double t0 = now();
        graph *g2 = NULL;
        die("graph_build", graph_build(b2, &g2, NULL));
        t_unsorted = MIN(t_unsorted, now() - t0);
        graph_free(g2);
    }
    free(src);
    free(dst);
    free(size);

    /* Roots: 2000 random nodes ("globals" and frames; with heap, the arrays first), 1000
     * finalizer specials. */
    size_t nroots = 2000, nsp = 1000;
    graph_root *roots = malloc((nroots + 2 * nsp) * sizeof *roots);
    live_special *sp = malloc(nsp * sizeof *sp);
    for (size_t i = 0; i < nroots; i++)
        roots[i] = (graph_root){heap && i < 3 ? (uint32_t)i : rnd(n), 0, 0}; /* the arrays */
    for (size_t i = 0; i < nsp; i++)
        sp[i] = (live_special){rnd(n), rnd(4) ? rnd(n) : GRAPH_NONE};
    size_t nall = nroots + live_special_roots(sp, nsp, 1, 2, roots + nroots);

    uint32_t reached = 0, ncomp = 0, biggest = 0, nreach = 0;
    uint32_t counts[LIVE_NSTATES];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        paths_tree *pt = NULL;
        paths_opts po = {PATHS_EXCLUDE_FINALIZER, NULL, GRAPH_NONE};
        die("paths_bfs", paths_bfs(g, roots, nall, &po, &pt, NULL));
        double t1 = now();
        reached = paths_reached_count(pt);
        paths_free(pt);

        double t2 = now();
        scc_result *sc = NULL;
        die("scc_compute", scc_compute(g, NULL, &sc, NULL));
        double t3 = now();
        ncomp = scc_count(sc);
        for (uint32_t c = 0; c < ncomp; c++)
            if (scc_size(sc, c) > biggest)
                biggest = scc_size(sc, c);
        scc_free(sc);

        double t4 = now();
        dom_tree *d = NULL;
        die("dom_compute", dom_compute(g, roots, nall, 0, &d, NULL));
        uint32_t top[10];
        dom_top(d, 10, 0, top);
        double t5 = now();
        nreach = dom_reachable_count(d);
        dom_free(d);

        double t6 = now();
        live_result *lr = NULL;
        die("live_compute", live_compute(g, roots, nroots, sp, nsp, &lr, NULL));
        double t7 = now();
        for (int s = 0; s < LIVE_NSTATES; s++)
            counts[s] = live_count(lr, (live_state)s);
        live_free(lr);

        t_bfs = MIN(t_bfs, t1 - t0);
        t_scc = MIN(t_scc, t3 - t2);
        t_dom = MIN(t_dom, t5 - t4);
        t_live = MIN(t_live, t7 - t6);
    }

    printf("builder add (set_size + add_edge): %7.1f ms  (not in total)\n", t_add * 1e3);
    printf("graph_build (CSR fwd+rev):         %7.1f ms  (%.1f MiB)\n", t_build * 1e3,
           graph_memory(g) / 1048576.0);
    printf("graph_build, unsorted edges:       %7.1f ms  (not in total)\n", t_unsorted * 1e3);
    printf("paths_bfs (all roots):             %7.1f ms  (%u reached)\n", t_bfs * 1e3, reached);
    printf("scc_compute:                       %7.1f ms  (%u components, largest %u)\n",
           t_scc * 1e3, ncomp, biggest);
    printf("dom_compute + dom_top(10):         %7.1f ms  (%u reachable)\n", t_dom * 1e3, nreach);
    printf("live_compute:                      %7.1f ms  (in use %u, pinned %u, pending %u, "
           "fin-reachable %u, garbage %u)\n",
           t_live * 1e3, counts[LIVE_IN_USE], counts[LIVE_PINNED], counts[LIVE_PENDING],
           counts[LIVE_FIN_REACHABLE], counts[LIVE_GARBAGE]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("total (build + bfs + scc + dom + live): %.1f ms; peak RSS %.1f MiB\n",
           (t_build + t_bfs + t_scc + t_dom + t_live) * 1e3, ru.ru_maxrss / 1024.0);
    free(roots);
    free(sp);
    graph_free(g);
    return 0;
}
