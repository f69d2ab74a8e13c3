/* diff.c - object identity across dumps, growth, and exact ghosts. */
#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "detectors/detectors.h"
#include "findings.h"
#include "strpool.h"
#include "u64map.h"
#include "vec.h"

/* The object of `to` that is the same allocation as object v of `from`: same slot address,
 * slot size and pointer layout; else HEAP_NONE. */
static uint32_t same_object(const heap *from, uint32_t v, const heap *to)
{
    uint32_t w = heap_object_at(to, from->obj_addr[v]);
    if (w == HEAP_NONE || to->obj_addr[w] != from->obj_addr[v] ||
        to->obj_size[w] != from->obj_size[v] ||
        to->shapes[to->obj_shape[w]].hash != from->shapes[from->obj_shape[v]].hash)
        return HEAP_NONE;
    return w;
}

/* Growth accumulation keyed by label text and memory class. */
typedef struct growth {
    strpool labels;
    u64map index;      /* label offset << 2 | class -> row */
    report_delta *rows;
    size_t n, cap;
} growth;

static int grow_add(growth *g, const analysis *a, uint32_t v, int after)
{
    static const char *groups[] = {"type", "closure", "shape"};
    const heap *h = a->h;
    int group = h->obj_func[v] != HEAP_NONE ? 1 : h->obj_type[v] != HEAP_NONE ? 0 : 2;
    char *label = describe_label(a, v);
    if (!label)
        return HS_ERR_NOMEM;
    int rc = HS_OK;
    report_class cls = memclass_of(a->classes, v);
    uint32_t off = strpool_intern(&g->labels, label, strlen(label));
    uint32_t *row = off == UINT32_MAX ? NULL
                                      : u64map_upsert(&g->index, (uint64_t)off << 2 | cls,
                                                      UINT32_MAX);
    if (!row) {
        rc = HS_ERR_NOMEM;
        goto out;
    }
    if (*row == UINT32_MAX) {
        report_delta d = {.label = label, .group = report_strdup(groups[group]), .cls = cls};
        if (!d.group || VEC_PUSH(g->rows, g->n, g->cap, d) < 0) {
            free(d.group);
            rc = HS_ERR_NOMEM;
            goto out;
        }
        label = NULL; /* the row owns it */
        *row = (uint32_t)(g->n - 1);
    }
    report_delta *d = &g->rows[*row];
    uint64_t bytes = heap_obj_cost(h, v);
    if (after) {
        d->count_after++;
        d->bytes_after += bytes;
    } else {
        d->count_before++;
        d->bytes_before += bytes;
    }
out:
    free(label);
    return rc;
}

static uint64_t absdiff(uint64_t x, uint64_t y)
{
    return x > y ? x - y : y - x;
}

static int by_change(const void *p, const void *q)
{
    const report_delta *a = p, *b = q;
    uint64_t da = absdiff(a->bytes_after, a->bytes_before), db = absdiff(b->bytes_after, b->bytes_before);
    if (da != db)
        return da < db ? 1 : -1;
    int c = strcmp(a->label, b->label);
    return c ? c : a->cls - b->cls;
}

/* Exact ghosts of the containers both dumps have. */
/* The same allocation, not a freed slot reused: sizes and layouts match (same_object), and
 * where both dumps know a type it is the same type. */
static int same_type(const analysis *before, uint32_t v, const analysis *after, uint32_t w)
{
    const char *tb = heap_type_name(before->h, v), *ta = heap_type_name(after->h, w);
    return !tb || !ta || strcmp(tb, ta) == 0;
}

/* Marks object v of `before` (inside container ca of `after` there) in exact[] when it is an
 * exact ghost after: the same allocation, still in use, outside the container (exact holds
 * the container's index + 1). */
static void diff_candidate(const analysis *before, const analysis *after, uint32_t v,
                           const uint8_t *in_after, size_t ca, uint32_t *exact)
{
    uint32_t w = same_object(before->h, v, after->h);
    if (w == HEAP_NONE || in_after[w] || live_state_of(after->live, w) != LIVE_IN_USE ||
        !same_type(before, v, after, w))
        return;
    const char *t = heap_type_name(after->h, w);
    if (t && (!strncmp(t, "sync.", 5) || !strncmp(t, "runtime.", 8) || !strncmp(t, "any ", 4)))
        return; /* the container's own machinery, not a value */
    if (!exact[w])
        exact[w] = (uint32_t)ca + 1;
}

/* Marks in exact[] (one entry per object of after) the exact ghosts of the containers both
 * dumps have. For a decoded container (sync.Map, Go map) the candidates are its values in
 * `before` (its keys, entries and buckets are freed or cleared with Delete, and their slots are
 * reused by unrelated objects of the same shape); for a named container, everything it
 * reached. */
static int mark_exact(const analysis *before, analysis *after, uint32_t *exact, hs_error *err)
{
    int rc = HS_OK;
    uint8_t *in_after = NULL, *in_before = NULL;
    for (size_t ca = 0; ca < after->ncontainers; ca++) {
        size_t cb = 0;
        while (cb < before->ncontainers &&
               strcmp(before->containers[cb].name, after->containers[ca].name) != 0)
            cb++;
        if (cb == before->ncontainers)
            continue;
        const analysis_container *c = &before->containers[cb];
        int decoded = c->kind != ANALYSIS_CONTAINER_NAMED;
        if ((rc = ghost_inside(after, ca, 1, &in_after, err)) < 0 ||
            (!decoded && (rc = ghost_inside(before, cb, 1, &in_before, err)) < 0))
            goto out;
        if (decoded) {
            for (size_t i = 0; i < c->nvalues; i++)
                diff_candidate(before, after, c->values[i], in_after, ca, exact);
        } else {
            for (uint32_t v = 0; v < before->h->nobj; v++)
                if (in_before[v])
                    diff_candidate(before, after, v, in_after, ca, exact);
        }
        free(in_before);
        free(in_after);
        in_before = in_after = NULL;
    }
out:
    free(in_before);
    free(in_after);
    return rc;
}

/* Is an ancestor of w on its path from the roots an exact ghost too? Then w is one of that
 * ghost's children, not a finding of its own. */
static int under_exact(const analysis *a, uint32_t w, const uint32_t *exact)
{
    const paths_tree *t = live_program_tree(a->live);
    for (uint32_t u = paths_parent(t, w); u != GRAPH_NONE && u < a->h->nnodes;
         u = paths_parent(t, u))
        if (u < a->h->nobj && exact[u])
            return 1;
    return 0;
}

/* Exact ghosts: objects a container held before and no longer holds, still in use. Each is a
 * "diff" finding (its children are not); the single-dump ghosts of after that diff proves
 * lose those objects, and the rest keep their evidence ("type", "shape"). */
static int diff_ghosts(const analysis *before, analysis *after, hs_error *err)
{
    findings fs = {0};
    uint32_t *exact = calloc((size_t)after->h->nobj + 1, sizeof *exact);
    int rc = HS_OK;
    if (!exact) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "diff: out of memory for a mark per object");
        goto out;
    }
    if ((rc = mark_exact(before, after, exact, err)) < 0)
        goto out;
    for (uint32_t w = 0; w < after->h->nobj; w++) {
        if (!exact[w] || under_exact(after, w, exact))
            continue;
        uint32_t ca = exact[w] - 1;
        if ((rc = ghost_add(after, w, ca < 31 ? 1u << ca : 1u << 31, "diff", NULL, &fs, err)) < 0)
            goto out;
    }
    report *r = after->rep;
    if ((rc = findings_drop(after, r->findings, &r->nfindings, REPORT_GHOST, exact, err)) < 0)
        goto out;
    rc = findings_finish(&fs, after, &r->findings, &r->nfindings, err);
out:
    free(exact);
    findings_release(&fs);
    return rc;
}

/* The earlier dump's instances and bytes of each closure-cycle signature of after. */
static void cycle_growth(const report *before, report_finding *fs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        report_finding *f = &fs[i];
        if (f->kind != REPORT_CLOSURE_CYCLE)
            continue;
        f->has_before = 1;
        const report_finding *lists[] = {before->findings, before->info};
        const size_t counts[] = {before->nfindings, before->ninfo};
        for (size_t l = 0; l < 2; l++)
            for (size_t k = 0; k < counts[l]; k++)
                if (lists[l][k].kind == f->kind && !strcmp(lists[l][k].signature, f->signature)) {
                    f->instances_before += lists[l][k].instances;
                    f->bytes_before += lists[l][k].bytes;
                }
    }
}

int diff_run(const analysis *before, analysis *after, size_t top, hs_error *err)
{
    growth g = {0};
    int rc = HS_OK;
    report_diff *d = calloc(1, sizeof *d);
    if (!d || !(d->before_path = report_strdup(before->src->path))) {
        free(d);
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "diff: out of memory");
    }
    after->rep->diff = d;
    for (uint32_t v = 0; v < before->h->nobj; v++) {
        if ((rc = grow_add(&g, before, v, 0)) < 0) {
            rc = hs_error_set(err, rc, HS_NO_OFFSET, "diff: out of memory for the growth table");
            goto out;
        }
        if (live_state_of(before->live, v) != LIVE_IN_USE)
            continue;
        uint32_t w = same_object(before->h, v, after->h);
        if (w == HEAP_NONE || live_state_of(after->live, w) != LIVE_IN_USE) {
            d->gone_objects++;
            d->gone_bytes += heap_obj_cost(before->h, v);
        }
    }
    for (uint32_t w = 0; w < after->h->nobj; w++) {
        if ((rc = grow_add(&g, after, w, 1)) < 0) {
            rc = hs_error_set(err, rc, HS_NO_OFFSET, "diff: out of memory for the growth table");
            goto out;
        }
        if (live_state_of(after->live, w) != LIVE_IN_USE)
            continue;
        uint32_t v = same_object(after->h, w, before->h);
        if (v == HEAP_NONE || live_state_of(before->live, v) != LIVE_IN_USE) {
            d->new_objects++;
            d->new_bytes += heap_obj_cost(after->h, w);
        } else {
            d->kept_objects++;
            d->kept_bytes += heap_obj_cost(after->h, w);
        }
    }
    if (g.n)
        qsort(g.rows, g.n, sizeof *g.rows, by_change);
    size_t k = g.n < top ? g.n : top;
    for (size_t i = k; i < g.n; i++) {
        free(g.rows[i].label);
        free(g.rows[i].group);
    }
    d->growth = g.rows;
    d->ngrowth = k;
    g.rows = NULL;
    cycle_growth(before->rep, after->rep->findings, after->rep->nfindings);
    cycle_growth(before->rep, after->rep->info, after->rep->ninfo);
    rc = diff_ghosts(before, after, err);
out:
    for (size_t i = 0; g.rows && i < g.n; i++) {
        free(g.rows[i].label);
        free(g.rows[i].group);
    }
    free(g.rows);
    strpool_release(&g.labels);
    u64map_release(&g.index);
    return rc;
}
