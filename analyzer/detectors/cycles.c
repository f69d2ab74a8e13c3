/* cycles.c - closure-captured reference cycles: strongly connected components of heap objects
 * that contain at least one closure (funcval). How a cycle is held decides where it goes:
 * rooted or finalizer-pinned cycles are leaks; unreachable ones are collectable garbage in Go
 * and are listed as information (docs/heap-model.md "Closure cycles"). */
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

/* What describes a new cycle finding: the component, how it is held, and where its SCC was
 * computed. */
typedef struct cycle_ctx {
    analysis *a;
    const subgraph *sub;
    scc_result *s;
    const uint32_t *m; /* members: node ids, ascending */
    uint32_t k;
    held how;
    uint32_t witness;  /* the member whose holder is reported */
} cycle_ctx;

/* The root (or finalizer) holding a member, as a path; fills f->holder and f->path. Returns
 * HS_OK or HS_ERR_NOMEM. */
static int describe_holder(const cycle_ctx *c, report_finding *f)
{
    analysis *a = c->a;
    if (c->how == HELD_ROOTED) {
        int rc = describe_program_path(a, c->witness, &f->path);
        if (rc < 0)
            return rc;
        f->holder = report_strfmt("%s %s", f->path.root_kind ? f->path.root_kind : "root",
                                  f->path.root_name ? f->path.root_name : "?");
        return f->holder ? HS_OK : HS_ERR_NOMEM;
    }
    if (c->how == HELD_PINNED) {
        size_t n = live_pin_path(a->live, c->witness, NULL, 0, NULL);
        graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
        if (!steps)
            return HS_ERR_NOMEM;
        uint32_t sp = GRAPH_NONE;
        live_pin_path(a->live, c->witness, steps, n, &sp);
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

/* The cycle through the first closure member, as path steps, and the component's closures.
 * Returns HS_OK or HS_ERR_NOMEM. */
static int describe_cycle(const cycle_ctx *c, report_finding *f)
{
    analysis *a = c->a;
    const uint32_t *m = c->m;
    uint32_t k = c->k;
    uint32_t start = m[0];
    for (uint32_t i = 0; i < k; i++)
        if (a->h->obj_func[m[i]] != HEAP_NONE) {
            start = m[i];
            break;
        }
    start = subgraph_local(c->sub, start);
    /* The component is a cycle: no cycle through start means scc_cycle ran out of memory. */
    size_t n = scc_cycle(c->s, start, NULL, 0);
    int rc = HS_OK;
    graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
    f->cycle = calloc(n ? n : 1, sizeof *f->cycle);
    f->closures = calloc(k, sizeof *f->closures);
    if (!n || !steps || !f->cycle || !f->closures) {
        rc = HS_ERR_NOMEM;
        goto out;
    }
    scc_cycle(c->s, start, steps, n);
    for (size_t i = 0; i < n; i++)
        steps[i].node = c->sub->node[steps[i].node];
    for (size_t i = 0; i < n; i++) {
        rc = describe_step(a, steps[i].node, i ? steps[i].field : REPORT_NO_FIELD, &f->cycle[i]);
        f->ncycle = i + 1;
        if (rc >= 0 && i)
            rc = describe_field(a, steps[i - 1].node, steps[i].field, &f->cycle[i]);
        if (rc < 0)
            goto out;
    }
    for (uint32_t i = 0; i < k; i++) {
        const char *fn = heap_closure_name(a->h, m[i]);
        if (!fn)
            continue;
        report_closure *cl = &f->closures[f->nclosures++];
        cl->addr = heap_obj_ptr(a->h, m[i]);
        if (!(cl->func = report_strdup(fn))) {
            rc = HS_ERR_NOMEM;
            goto out;
        }
    }
out:
    free(steps);
    return rc;
}

/* findings_spec's describe for a new cycle finding: holder, path, cycle and closures. */
static int describe_component(void *ctx, report_finding *f, hs_error *err)
{
    const cycle_ctx *c = ctx;
    int rc = describe_holder(c, f);
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "cycles: describing the holder of %s",
                            f->type);
    rc = describe_cycle(c, f);
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "cycles: describing the %s", f->type);
    return HS_OK;
}

/* Adds the component whose members are the nodes m[0..k-1] (ascending): a leak when
 * something holds it, information when it is garbage. */
static int add_component(analysis *a, const subgraph *sub, scc_result *s, const uint32_t *m,
                         uint32_t k, findings *leaks, findings *info, hs_error *err)
{
    static const char *held_names[] = {"rooted", "finalizer_pinned", "unreachable"};
    cycle_ctx c = {a, sub, s, m, k, HELD_GARBAGE, 0};
    c.how = how_held(a, m, k, &c.witness);
    int rc = HS_OK;
    char *sig = NULL, *type = NULL, *title = NULL;
    char *funcs = closure_funcs(a, m, k);
    if (funcs) {
        /* Group cycles of the same size, functions and holder (the root, for rooted ones). */
        if (c.how == HELD_ROOTED)
            sig = report_strfmt("%s|%u|%s|root%u", held_names[c.how], k, funcs,
                                paths_root_of(live_program_tree(a->live), c.witness));
        else
            sig = report_strfmt("%s|%u|%s|%s", held_names[c.how], k, funcs,
                                c.how == HELD_PINNED ? "pinned" : "garbage");
        type = report_strfmt("cycle of %u objects through %s", k, funcs);
        title = report_strfmt("%s reference cycle through closure %s (%u objects per cycle)",
                              c.how == HELD_GARBAGE ? "collectable" : "retained", funcs, k);
    }
    if (!funcs || !sig || !type || !title) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "cycles: out of memory naming a cycle of %u objects", k);
        goto out;
    }
    findings_spec spec = {.kind = REPORT_CLOSURE_CYCLE, .signature = sig, .evidence = "scc",
                          .type = type, .reason = held_names[c.how], .title = title,
                          .describe = describe_component, .ctx = &c};
    rc = findings_note(c.how == HELD_GARBAGE ? info : leaks, &spec, m, k, err);
out:
    free(funcs);
    free(sig);
    free(type);
    free(title);
    return rc;
}

/* The objects that lie on a path from a closure to a closure: reachable from the closures
 * (forward) and reaching them (backward), through heap objects only (globals and frames are
 * roots, not cycle members; ids >= nobj are never entered). *out receives a bitset of
 * h->nnodes bits (the caller frees it). */
static int between_closures(const heap *h, uint64_t **out, hs_error *err)
{
    *out = NULL;
    uint32_t *seeds = NULL;
    uint64_t *fwd = NULL, *bwd = NULL;
    size_t nseeds = 0, cap = 0;
    int rc = HS_OK;
    for (uint32_t v = 0; v < h->nobj; v++)
        if (h->obj_func[v] != HEAP_NONE && VEC_PUSH(seeds, nseeds, cap, v) < 0) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                              "cycles: out of memory listing the closures");
            goto out;
        }
    paths_reach_opts fo = {0, h->nobj}, bo = {1, h->nobj};
    if ((rc = paths_reach(h->g, seeds, nseeds, &fo, &fwd, NULL, err)) < 0 ||
        (rc = paths_reach(h->g, seeds, nseeds, &bo, &bwd, NULL, err)) < 0) {
        hs_error_prefix(err, "cycles: what lies between %zu closures", nseeds);
        goto out;
    }
    for (size_t w = 0; w < bitset_words(h->nnodes); w++)
        fwd[w] &= bwd[w];
    *out = fwd;
    fwd = NULL;
out:
    free(seeds);
    free(fwd);
    free(bwd);
    return rc;
}

int cycles_detect(analysis *a, findings *leaks, findings *info, hs_error *err)
{
    const heap *h = a->h;
    subgraph sub = {0};
    scc_result *s = NULL;
    uint32_t *m = NULL;
    /* A cycle through a closure lies in what the closures reach and what reaches them.
     * Running the SCC on the subgraph of those nodes keeps it small on big heaps. */
    uint64_t *between = NULL;
    int rc = between_closures(h, &between, err);
    if (rc < 0)
        goto out;
    rc = subgraph_build(h->g, between, &sub, err);
    free(between); /* before the SCC: the memory peak */
    between = NULL;
    if (rc < 0) {
        hs_error_prefix(err, "cycles");
        goto out;
    }
    if (!(m = malloc((size_t)sub.n * sizeof *m + 1))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "cycles: out of memory for the members of %u nodes", sub.n);
        goto out;
    }
    if ((rc = scc_compute(sub.g, NULL, &s, err)) < 0) {
        hs_error_prefix(err, "cycles");
        goto out;
    }
    uint32_t nc = scc_count(s);
    for (uint32_t c = 0; c < nc; c++) {
        if (!scc_is_cycle(s, c))
            continue;
        uint32_t k;
        const uint32_t *local = scc_members(s, c, &k);
        int has_closure = 0;
        for (uint32_t i = 0; i < k; i++) {
            m[i] = sub.node[local[i]];
            has_closure |= h->obj_func[m[i]] != HEAP_NONE;
        }
        if (has_closure && (rc = add_component(a, &sub, s, m, k, leaks, info, err)) < 0)
            goto out;
    }
out:
    free(between);
    free(m);
    scc_free(s);
    subgraph_release(&sub);
    return rc;
}
