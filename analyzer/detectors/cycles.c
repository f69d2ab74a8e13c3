/* cycles.c - closure-captured reference cycles: strongly connected components of heap objects
 * that contain at least one closure (funcval). How a cycle is held decides where it goes:
 * rooted or finalizer-pinned cycles are leaks; unreachable ones are collectable garbage in Go
 * and are listed as information (docs/heap-model.md "Closure cycles"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "describe.h"
#include "lasting.h"
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

/* Inserts s into the sorted names[0..*n-1] (room for one more) unless it is there; 1 when
 * inserted. */
static int add_sorted(const char **names, size_t *n, const char *s)
{
    size_t j = 0;
    while (j < *n && strcmp(names[j], s) < 0)
        j++;
    if (j < *n && strcmp(names[j], s) == 0)
        return 0;
    memmove(names + j + 1, names + j, (*n - j) * sizeof *names);
    names[j] = s;
    (*n)++;
    return 1;
}

/* names[0..n-1] joined by ", " (a new string), or NULL when out of memory. */
static char *join(const char *const *names, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(names[i]) + 2;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, ", ");
        strcat(s, names[i]);
    }
    return s;
}

/* Sorted, de-duplicated closure function names of a component joined by ", ". */
static char *closure_funcs(const analysis *a, const uint32_t *m, uint32_t k)
{
    const char **names = malloc((k ? k : 1) * sizeof *names);
    if (!names)
        return NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < k; i++) {
        const char *fn = heap_closure_name(a->h, m[i]);
        if (fn)
            add_sorted(names, &n, fn);
    }
    char *s = join(names, n);
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

/* Sorted, de-duplicated labels of the component's members that are not closures (their
 * types, or shapes) joined by ", "; "" when every member is a closure. NULL when out of
 * memory. Members of one type are labelled once. */
static char *member_types(const analysis *a, const uint32_t *m, uint32_t k)
{
    const heap *h = a->h;
    const char **names = malloc((k ? k : 1) * sizeof *names);
    uint64_t *keys = NULL;
    size_t n = 0, nk = 0, kcap = 0;
    char *s = NULL;
    for (uint32_t i = 0; names && i < k; i++) {
        if (h->obj_func[m[i]] != HEAP_NONE)
            continue;
        uint64_t key = h->obj_type[m[i]] != HEAP_NONE ? h->obj_type[m[i]]
                                                      : 1ull << 32 | h->obj_shape[m[i]];
        size_t j = 0;
        while (j < nk && keys[j] != key)
            j++;
        if (j < nk)
            continue; /* a type seen: a cycle has few distinct types */
        char *name = VEC_PUSH(keys, nk, kcap, key) < 0 ? NULL : describe_label(a, m[i]);
        if (!name)
            goto out;
        if (!add_sorted(names, &n, name))
            free(name); /* two shapes with one label */
    }
    s = names ? join(names, n) : NULL;
out:
    for (size_t i = 0; i < n; i++)
        free((char *)names[i]);
    free(names);
    free(keys);
    return s;
}

/* Where a component's finding goes. */
typedef enum cycle_dest {
    DEST_LEAK,         /* rooted with enough instances, or pinned by a finalizer */
    DEST_IN_FLIGHT,    /* info: held only by goroutine stacks (work in progress) */
    DEST_FEW,          /* info: rooted, fewer instances than --min-instances (a singleton) */
    DEST_COLLECTABLE,  /* info: unreachable, freed at the next GC */
} cycle_dest;

/* One cyclic component with a closure, as the first pass classifies it. */
typedef struct comp {
    uint32_t c;        /* SCC id */
    held how;
    uint32_t witness;
    int in_flight;
    char *funcs, *types, *sig;
} comp;

/* The cycle detector's state across its two passes. */
typedef struct cyc {
    analysis *a;
    const subgraph *sub;
    scc_result *s;
    comp *comps;
    size_t n, cap;
    u64map counts;      /* hash of a rooted signature -> its instances */
} cyc;

/* Is the rooted component m[0..k-1] held only by work in flight: out of reach of the roots
 * that outlive it? A member whose shortest path starts at such a root answers at once; only
 * a component whose every path starts at a goroutine needs the lasting roots' BFS. */
static int held_by_stacks(cyc *y, const uint32_t *m, uint32_t k, hs_error *err, int *out)
{
    const paths_tree *t = live_program_tree(y->a->live), *lasting;
    *out = 0;
    for (uint32_t i = 0; i < k; i++)
        if (paths_reached(t, m[i]) && lasting_root(y->a, paths_root_of(t, m[i])))
            return HS_OK;
    int rc = lasting_tree(y->a, &lasting, err);
    *out = rc >= 0 && !paths_reached(lasting, m[0]);
    return rc;
}

/* First pass: classifies component c (members m[0..k-1]), names it and counts its rooted
 * signature's instances. */
static int classify(cyc *y, uint32_t c, const uint32_t *m, uint32_t k, hs_error *err)
{
    static const char *held_names[] = {"rooted", "finalizer_pinned", "unreachable"};
    comp x = {c, HELD_GARBAGE, 0, 0, NULL, NULL, NULL};
    x.how = how_held(y->a, m, k, &x.witness);
    int rc = HS_OK;
    if (x.how == HELD_ROOTED && (rc = held_by_stacks(y, m, k, err, &x.in_flight)) < 0)
        return rc;
    x.funcs = closure_funcs(y->a, m, k);
    x.types = member_types(y->a, m, k);
    if (x.funcs && x.types)
        x.sig = report_strfmt("%s|%s|%s", x.in_flight ? "in_flight" : held_names[x.how],
                              x.funcs, x.types);
    if (!x.sig || VEC_PUSH(y->comps, y->n, y->cap, x) < 0) {
        free(x.funcs);
        free(x.types);
        free(x.sig);
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "cycles: out of memory naming a cycle of %u objects", k);
    }
    uint32_t *count = x.how == HELD_ROOTED && !x.in_flight
                          ? u64map_upsert(&y->counts, findings_hash(REPORT_CLOSURE_CYCLE, x.sig), 0)
                          : NULL;
    if (x.how == HELD_ROOTED && !x.in_flight && !count)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "cycles: out of memory counting cycles");
    if (count)
        ++*count;
    return HS_OK;
}

/* Second pass: adds component x (members m[0..k-1], ascending) to leaks or info. */
static int add_component(cyc *y, const comp *x, const uint32_t *m, uint32_t k, findings *leaks,
                         findings *info, hs_error *err)
{
    analysis *a = y->a;
    cycle_ctx c = {a, y->sub, y->s, m, k, x->how, x->witness};
    uint32_t instances = 0;
    if (x->how == HELD_ROOTED && !x->in_flight)
        u64map_get(&y->counts, findings_hash(REPORT_CLOSURE_CYCLE, x->sig), &instances);
    uint32_t min = a->opts.min_instances ? a->opts.min_instances : ANALYSIS_MIN_INSTANCES;
    cycle_dest dest = x->how == HELD_GARBAGE ? DEST_COLLECTABLE
                      : x->in_flight         ? DEST_IN_FLIGHT
                      : x->how == HELD_ROOTED && instances < min ? DEST_FEW
                                                                 : DEST_LEAK;
    static const char *reasons[] = {"", "in_flight", "few_instances", "unreachable"};
    const char *reason = dest == DEST_LEAK ? (x->how == HELD_ROOTED ? "rooted" : "finalizer_pinned")
                                           : reasons[dest];
    const char *what = *x->types ? x->types : "closures only";
    char *type = report_strfmt("cycle through %s (%s)", x->funcs, what);
    char *title = NULL;
    switch (dest) {
    case DEST_LEAK:
        title = x->how == HELD_ROOTED
                    ? report_strfmt("%u retained reference cycles through closure %s (%s)",
                                    instances, x->funcs, what)
                    : report_strfmt("reference cycle through closure %s pinned by a finalizer",
                                    x->funcs);
        break;
    case DEST_IN_FLIGHT:
        title = report_strfmt("reference cycle through closure %s held only by goroutine "
                              "stacks: work in flight, freed when it ends", x->funcs);
        break;
    case DEST_FEW:
        title = report_strfmt("%u rooted reference %s through closure %s: fewer than "
                              "--min-instances %u, a singleton rather than a leak",
                              instances, instances == 1 ? "cycle" : "cycles", x->funcs, min);
        break;
    case DEST_COLLECTABLE:
        title = report_strfmt("collectable reference cycle through closure %s", x->funcs);
        break;
    }
    int rc;
    if (!type || !title) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "cycles: out of memory naming a cycle of %u objects", k);
    } else {
        findings_spec spec = {.kind = REPORT_CLOSURE_CYCLE, .signature = x->sig,
                              .evidence = "scc", .type = type, .reason = reason,
                              .title = title, .describe = describe_component, .ctx = &c};
        rc = findings_note(dest == DEST_LEAK ? leaks : info, &spec, m, k, err);
    }
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

/* Members of component c, as node ids of the whole graph, into m (room for all). */
static uint32_t members(const cyc *y, uint32_t c, uint32_t *m)
{
    uint32_t k;
    const uint32_t *local = scc_members(y->s, c, &k);
    for (uint32_t i = 0; i < k; i++)
        m[i] = y->sub->node[local[i]];
    return k;
}

void cycles_sccs_free(cycles_sccs *c)
{
    if (!c)
        return;
    scc_free(c->s);
    subgraph_release(&c->sub);
    free(c);
}

int cycles_prepare(const heap *h, cycles_sccs **out, hs_error *err)
{
    *out = NULL;
    cycles_sccs *c = calloc(1, sizeof *c);
    if (!c)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "cycles: out of memory");
    /* A cycle through a closure lies in what the closures reach and what reaches them.
     * Running the SCC on the subgraph of those nodes keeps it small on big heaps. */
    uint64_t *between = NULL;
    int rc = between_closures(h, &between, err);
    if (rc < 0)
        goto out;
    rc = subgraph_build(h->g, between, &c->sub, err);
    free(between); /* before the SCC: the memory peak */
    if (rc < 0 || (rc = scc_compute(c->sub.g, NULL, &c->s, err)) < 0) {
        hs_error_prefix(err, "cycles");
        goto out;
    }
    *out = c;
    c = NULL;
out:
    cycles_sccs_free(c);
    return rc;
}

int cycles_detect(analysis *a, cycles_sccs *sccs, findings *leaks, findings *info, hs_error *err)
{
    const heap *h = a->h;
    cycles_sccs *own = NULL;
    uint32_t *m = NULL;
    int rc = sccs ? HS_OK : cycles_prepare(h, &own, err);
    if (rc < 0)
        return rc;
    if (!sccs)
        sccs = own;
    cyc y = {a, &sccs->sub, sccs->s, NULL, 0, 0, {0}};
    if (!(m = malloc((size_t)sccs->sub.n * sizeof *m + 1))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "cycles: out of memory for the members of %u nodes", sccs->sub.n);
        goto out;
    }
    /* Two passes: instances of one signature are counted before any is placed, since the
     * count decides between a leak and a singleton. */
    uint32_t nc = scc_count(y.s);
    for (uint32_t c = 0; c < nc; c++) {
        if (!scc_is_cycle(y.s, c))
            continue;
        uint32_t k = members(&y, c, m);
        int has_closure = 0;
        for (uint32_t i = 0; i < k; i++)
            has_closure |= h->obj_func[m[i]] != HEAP_NONE;
        if (has_closure && (rc = classify(&y, c, m, k, err)) < 0)
            goto out;
    }
    for (size_t i = 0; i < y.n; i++) {
        uint32_t k = members(&y, y.comps[i].c, m);
        if ((rc = add_component(&y, &y.comps[i], m, k, leaks, info, err)) < 0)
            goto out;
    }
out:
    for (size_t i = 0; i < y.n; i++) {
        free(y.comps[i].funcs);
        free(y.comps[i].types);
        free(y.comps[i].sig);
    }
    free(y.comps);
    u64map_release(&y.counts);
    free(m);
    cycles_sccs_free(own);
    return rc;
}
