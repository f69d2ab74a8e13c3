/* cycles.c - closure-captured reference cycles: strongly connected components of heap objects
 * that contain at least one closure (funcval). How a cycle is held decides where it goes:
 * rooted or finalizer-pinned cycles are leaks; unreachable ones are collectable garbage in Go
 * and are listed as information (DESIGN.md "Detectors"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "describe.h"
#include "detectors.h"
#include "scc.h"
#include "subgraph.h"
#include "vec.h"

typedef enum held { HELD_ROOTED, HELD_PINNED, HELD_GARBAGE } held;

static held how_held(const analysis *a, const uint32_t *m, uint32_t k, uint32_t *witness)
{
    held best = HELD_GARBAGE;
    *witness = m[0];
    for (uint32_t i = 0; i < k; i++) {
        live_state st = live_state_of(a->live, m[i]);
        if (st == LIVE_IN_USE) {
            *witness = m[i];
            return HELD_ROOTED;
        }
        if ((st == LIVE_PINNED || st == LIVE_FIN_REACHABLE || st == LIVE_PENDING) &&
            best == HELD_GARBAGE) {
            best = HELD_PINNED;
            *witness = m[i];
        }
    }
    return best;
}

/* Sorted, de-duplicated closure function names of a component joined by ", ". */
static char *closure_funcs(const analysis *a, const uint32_t *m, uint32_t k)
{
    const char **names = malloc((k ? k : 1) * sizeof *names);
    if (!names)
        return NULL;
    size_t n = 0, len = 1;
    for (uint32_t i = 0; i < k; i++) {
        const char *fn = heap_closure_name(a->h, m[i]);
        if (!fn)
            continue;
        size_t j = 0;
        while (j < n && strcmp(names[j], fn) < 0)
            j++;
        if (j < n && strcmp(names[j], fn) == 0)
            continue;
        memmove(names + j + 1, names + j, (n - j) * sizeof *names);
        names[j] = fn;
        n++;
        len += strlen(fn) + 2;
    }
    char *s = malloc(len);
    if (s) {
        s[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(s, ", ");
            strcat(s, names[i]);
        }
    }
    free(names);
    return s;
}

/* The root (or finalizer) holding a member, as a path; fills f->holder and f->path. */
static int describe_holder(analysis *a, report_finding *f, held how, uint32_t witness)
{
    if (how == HELD_ROOTED) {
        int rc = describe_program_path(a, witness, &f->path);
        if (rc < 0)
            return rc;
        f->holder = report_strfmt("%s %s", f->path.root_kind ? f->path.root_kind : "root",
                                  f->path.root_name ? f->path.root_name : "?");
        return f->holder ? HS_OK : HS_ERR_NOMEM;
    }
    if (how == HELD_PINNED) {
        size_t n = live_pin_path(a->live, witness, NULL, 0, NULL);
        graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
        if (!steps)
            return HS_ERR_NOMEM;
        uint32_t sp = GRAPH_NONE;
        live_pin_path(a->live, witness, steps, n, &sp);
        char buf[256] = "a finalizer object";
        if (sp < a->nspecials)
            heap_describe(a->h, a->specials[sp].obj, buf, sizeof buf);
        f->holder = report_strfmt("the finalizer of %s", buf);
        int rc = f->holder ? describe_path(a, steps, n, "finalizer", f->holder, &f->path)
                           : HS_ERR_NOMEM;
        free(steps);
        return rc;
    }
    f->holder = report_strdup("nothing (unreachable: collected at the next GC)");
    return f->holder ? HS_OK : HS_ERR_NOMEM;
}

/* The cycle through the first closure member, as path steps; m are node ids (ascending),
 * sub the subgraph s was computed on. */
static int describe_cycle(analysis *a, const subgraph *sub, scc_result *s, report_finding *f,
                          const uint32_t *m, uint32_t k)
{
    uint32_t start = m[0];
    for (uint32_t i = 0; i < k; i++)
        if (a->h->obj_func[m[i]] != HEAP_NONE) {
            start = m[i];
            break;
        }
    start = subgraph_local(sub, start);
    size_t n = scc_cycle(s, start, NULL, 0);
    graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
    f->cycle = calloc(n ? n : 1, sizeof *f->cycle);
    f->closures = calloc(k, sizeof *f->closures);
    if (!steps || !f->cycle || !f->closures) {
        free(steps);
        return HS_ERR_NOMEM;
    }
    scc_cycle(s, start, steps, n);
    for (size_t i = 0; i < n; i++)
        steps[i].node = sub->node[steps[i].node];
    int rc = HS_OK;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        rc = describe_step(a, steps[i].node, i ? steps[i].field : REPORT_NO_FIELD, &f->cycle[i]);
        if (rc >= 0 && i)
            rc = describe_field(a, steps[i - 1].node, steps[i].field, &f->cycle[i]);
        f->ncycle = i + 1;
    }
    free(steps);
    for (uint32_t i = 0; i < k && rc >= 0; i++) {
        const char *fn = heap_closure_name(a->h, m[i]);
        if (!fn)
            continue;
        report_closure *c = &f->closures[f->nclosures++];
        c->addr = heap_obj_ptr(a->h, m[i]);
        if (!(c->func = report_strdup(fn)))
            rc = HS_ERR_NOMEM;
    }
    return rc;
}

/* Adds component c, whose members are the nodes m[0..k-1] (ascending). */
static int add_component(analysis *a, const subgraph *sub, scc_result *s, const uint32_t *m,
                         uint32_t k, findings *leaks, findings *info)
{
    uint32_t witness;
    held how = how_held(a, m, k, &witness);
    char *funcs = closure_funcs(a, m, k);
    if (!funcs)
        return HS_ERR_NOMEM;
    /* Group cycles of the same size, functions and holder (the root, for rooted ones). */
    uint32_t root = how == HELD_ROOTED ? paths_root_of(live_program_tree(a->live), witness) : 0;
    static const char *held_names[] = {"rooted", "finalizer_pinned", "unreachable"};
    int created = 0;
    findings *dst = how == HELD_GARBAGE ? info : leaks;
    report_finding *f =
        how == HELD_ROOTED
            ? findings_groupf(dst, REPORT_CLOSURE_CYCLE, &created, "%s|%u|%s|root%u",
                              held_names[how], k, funcs, root)
            : findings_groupf(dst, REPORT_CLOSURE_CYCLE, &created, "%s|%u|%s|%s",
                              held_names[how], k, funcs, how == HELD_PINNED ? "pinned" : "garbage");
    int rc = f ? HS_OK : HS_ERR_NOMEM;
    if (f && created) {
        f->evidence = report_strdup("scc");
        f->reason = report_strdup(held_names[how]);
        f->type = report_strfmt("cycle of %u objects through %s", k, funcs);
        f->title = report_strfmt("%s reference cycle through closure %s (%u objects per cycle)",
                                 how == HELD_GARBAGE ? "collectable" : "retained", funcs, k);
        rc = f->evidence && f->reason && f->type && f->title ? HS_OK : HS_ERR_NOMEM;
        if (rc >= 0)
            rc = describe_holder(a, f, how, witness);
        if (rc >= 0)
            rc = describe_cycle(a, sub, s, f, m, k);
    }
    free(funcs);
    for (uint32_t i = 0; i < k && rc >= 0; i++)
        rc = findings_add(dst, f, m[i]);
    return rc;
}

/* The objects that lie on a path from a closure to a closure: reachable from the closures
 * (forward) and reaching them (backward), through heap objects only (globals and frames are
 * roots, not cycle members; ids >= nobj are never entered). A bitset, or NULL. */
static uint64_t *between_closures(const heap *h)
{
    uint32_t *seeds = NULL;
    size_t nseeds = 0, cap = 0;
    for (uint32_t v = 0; v < h->nobj; v++)
        if (h->obj_func[v] != HEAP_NONE && VEC_PUSH(seeds, nseeds, cap, v) < 0) {
            free(seeds);
            return NULL;
        }
    uint64_t *fwd = NULL, *bwd = NULL;
    hs_error err;
    paths_reach_opts fo = {0, h->nobj}, bo = {1, h->nobj};
    if (paths_reach(h->g, seeds, nseeds, &fo, &fwd, NULL, &err) >= 0 &&
        paths_reach(h->g, seeds, nseeds, &bo, &bwd, NULL, &err) >= 0)
        for (size_t w = 0; w < bitset_words(h->nnodes); w++)
            fwd[w] &= bwd[w];
    free(seeds);
    free(bwd);
    return fwd;
}

int cycles_detect(analysis *a, findings *leaks, findings *info)
{
    const heap *h = a->h;
    /* A cycle through a closure lies in what the closures reach and what reaches them.
     * Running the SCC on the subgraph of those nodes keeps it small on big heaps. */
    uint64_t *between = between_closures(h);
    if (!between)
        return HS_ERR_NOMEM;
    subgraph sub;
    hs_error err;
    int rc = subgraph_build(h->g, between, &sub, &err);
    free(between);
    if (rc < 0)
        return rc;
    scc_result *s = NULL;
    uint32_t *m = malloc((size_t)sub.n * sizeof *m + 1);
    rc = m ? scc_compute(sub.g, NULL, &s, &err) : HS_ERR_NOMEM;
    uint32_t nc = rc >= 0 ? scc_count(s) : 0;
    for (uint32_t c = 0; c < nc && rc >= 0; c++) {
        if (!scc_is_cycle(s, c))
            continue;
        uint32_t k;
        const uint32_t *local = scc_members(s, c, &k);
        int has_closure = 0;
        for (uint32_t i = 0; i < k; i++) {
            m[i] = sub.node[local[i]];
            has_closure |= h->obj_func[m[i]] != HEAP_NONE;
        }
        if (has_closure)
            rc = add_component(a, &sub, s, m, k, leaks, info);
    }
    free(m);
    scc_free(s);
    subgraph_release(&sub);
    return rc;
}
