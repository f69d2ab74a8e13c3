/* analysis.c - the pipeline: heap model -> liveness -> dominators -> containers -> detectors
 * -> report. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "describe.h"
#include "detectors/detectors.h"
#include "findings.h"
#include "tables.h"
#include "vec.h"

static int add_note(report *r, size_t *cap, char *note)
{
    if (!note || VEC_PUSH(r->notes, r->nnotes, *cap, note) < 0) {
        free(note);
        return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* Finalizer specials whose object is in the heap, and all roots for dominators. */
static int build_roots(analysis *a, hs_error *err)
{
    const heap *h = a->h;
    a->specials = malloc(((size_t)h->nfins + 1) * sizeof *a->specials);
    a->special_fin = malloc(((size_t)h->nfins + 1) * sizeof *a->special_fin);
    a->all_roots = malloc(((size_t)h->nroots + 2 * (size_t)h->nfins + 1) * sizeof *a->all_roots);
    a->root_special = malloc((2 * (size_t)h->nfins + 1) * sizeof *a->root_special);
    if (!a->specials || !a->special_fin || !a->all_roots || !a->root_special)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "roots");
    for (uint32_t f = 0; f < h->nfins; f++) {
        if (h->fins[f].obj == HEAP_NONE)
            continue;
        a->specials[a->nspecials] = (live_special){h->fins[f].obj,
                                                   h->fins[f].fn == HEAP_NONE ? GRAPH_NONE : h->fins[f].fn};
        a->special_fin[a->nspecials++] = f;
    }
    memcpy(a->all_roots, h->roots, h->nroots * sizeof *h->roots);
    size_t n = live_special_roots(a->specials, a->nspecials, HEAP_ROOT_FINALIZER,
                                  HEAP_ROOT_FINALIZER, a->all_roots + h->nroots);
    /* live_special_roots writes, per special, its funcval (when known) then the scan of X. */
    size_t k = 0;
    for (size_t i = 0; i < a->nspecials; i++) {
        if (a->specials[i].fn != GRAPH_NONE)
            a->root_special[k++] = (uint32_t)i;
        a->root_special[k++] = (uint32_t)i;
    }
    a->nall_roots = h->nroots + n;
    return k == n ? HS_OK : hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "special roots");
}

static int fill_summary(analysis *a)
{
    report *r = a->rep;
    const heap *h = a->h;
    const source *s = a->src;
    r->dump_path = report_strdup(s->path);
    r->go_version = report_strdup(h->go_version);
    r->goarch = report_strdup(h->syms ? symtab_get_info(h->syms)->goarch : "");
    r->binary = s->bin ? report_strdup("--binary") : s->syms ? report_strdup(".hsd") : NULL;
    r->dump_bytes = s->dump_bytes;
    r->objects = h->nobj;
    r->object_bytes = h->total_bytes;
    r->in_use_objects = live_count(a->live, LIVE_IN_USE);
    r->in_use_bytes = live_bytes(a->live, LIVE_IN_USE);
    r->garbage_objects = live_count(a->live, LIVE_GARBAGE);
    r->garbage_bytes = live_bytes(a->live, LIVE_GARBAGE);
    r->pending_objects = live_count(a->live, LIVE_PENDING);
    r->pinned_objects = live_count(a->live, LIVE_PINNED);
    r->fin_reachable_objects = live_count(a->live, LIVE_FIN_REACHABLE);
    r->goroutines = h->ngors;
    r->finalizers = h->nfins;
    r->roots = h->nroots;
    r->pointer_edges = graph_edge_count(h->g);
    r->containers = calloc(a->ncontainers + 1, sizeof *r->containers);
    if (!r->dump_path || !r->go_version || !r->goarch || !r->containers)
        return HS_ERR_NOMEM;
    for (size_t i = 0; i < a->ncontainers; i++) {
        const analysis_container *c = &a->containers[i];
        r->containers[i] = report_strfmt("%s (%s, %zu values)", c->name,
                                         c->is_sync_map ? "sync.Map" : "named", c->nvalues);
        if (!r->containers[i])
            return HS_ERR_NOMEM;
        r->ncontainers++;
    }
    size_t cap = 0;
    int rc = HS_OK;
    if (!h->syms)
        rc = add_note(r, &cap, report_strdup("no symbols: closures, globals and types are unnamed "
                                             "(capture with heapsift-dump or pass --binary)"));
    if (rc >= 0 && (h->go_minor == 0 || h->go_minor >= 24) && !a->opts.no_auto_containers)
        rc = add_note(r, &cap, report_strfmt("sync.Map layouts of %s are not decoded: name "
                                             "containers with --container",
                                             h->go_version[0] ? h->go_version : "this Go version"));
    if (rc >= 0 && !live_reasons_exact(a->live))
        rc = add_note(r, &cap, report_strdup("some pin reasons were decided by a bounded search "
                                             "and may say 'cycle' where 'other_finalizer' is true"));
    if (rc >= 0 && !a->ncontainers)
        rc = add_note(r, &cap, report_strdup("no containers found: ghost references need a "
                                             "sync.Map global or --container SYMBOL"));
    return rc;
}

static int finding_order(const void *x, const void *y)
{
    const report_finding *p = x, *q = y;
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    if (p->retained_bytes != q->retained_bytes)
        return p->retained_bytes < q->retained_bytes ? 1 : -1;
    if (p->bytes != q->bytes)
        return p->bytes < q->bytes ? 1 : -1;
    return strcmp(p->signature, q->signature);
}

static int run_detectors(analysis *a)
{
    findings leaks = {0}, info = {0};
    int rc = finpin_detect(a, &leaks);
    if (rc >= 0)
        rc = cycles_detect(a, &leaks, &info);
    if (rc >= 0)
        rc = ghost_detect(a, &leaks);
    if (rc >= 0)
        rc = tombstone_detect(a, &leaks);
    if (rc >= 0)
        rc = findings_finish(&leaks, a, &a->rep->findings, &a->rep->nfindings);
    if (rc >= 0)
        rc = findings_finish(&info, a, &a->rep->info, &a->rep->ninfo);
    findings_release(&leaks);
    findings_release(&info);
    /* (qsort's array must not be NULL even when empty: C11 7.22.5) */
    if (rc >= 0 && a->rep->nfindings)
        qsort(a->rep->findings, a->rep->nfindings, sizeof *a->rep->findings, finding_order);
    if (rc >= 0 && a->rep->ninfo)
        qsort(a->rep->info, a->rep->ninfo, sizeof *a->rep->info, finding_order);
    return rc;
}

int analysis_run(source *s, const analysis_options *opts, analysis **out, hs_error *err)
{
    *out = NULL;
    analysis *a = calloc(1, sizeof *a);
    if (!a)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "analysis");
    a->src = s;
    if (opts)
        a->opts = *opts;
    if (!a->opts.top_n)
        a->opts.top_n = 20;
    if (!a->opts.hist_n)
        a->opts.hist_n = 30;
    int rc = heap_build(s, a->opts.progress, a->opts.progress_ctx, &a->h, err);
    if (rc >= 0)
        rc = build_roots(a, err);
    if (rc >= 0)
        rc = live_compute(a->h->g, a->h->roots, a->h->nroots, a->specials, a->nspecials,
                          &a->live, err);
    if (rc >= 0)
        rc = dom_compute(a->h->g, a->all_roots, a->nall_roots, 0, &a->dom, err);
    if (rc >= 0 && a->opts.model_only) {
        *out = a;
        return HS_OK;
    }
    if (rc >= 0)
        rc = containers_find(a, err);
    if (rc >= 0 && !(a->rep = calloc(1, sizeof *a->rep)))
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "report");
    if (rc >= 0 && fill_summary(a) < 0)
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "report summary");
    if (rc >= 0 && run_detectors(a) < 0)
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "detectors");
    if (rc >= 0 && (tables_retainers(a, a->opts.top_n) < 0 ||
                    tables_histogram(a, a->opts.hist_n,
                                     TABLES_BY_TYPE | TABLES_BY_CLOSURE | TABLES_BY_SHAPE) < 0))
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "report tables");
    if (rc < 0) {
        analysis_free(a);
        return rc;
    }
    *out = a;
    return HS_OK;
}

report *analysis_take_report(analysis *a)
{
    report *r = a->rep;
    a->rep = NULL;
    return r;
}

void analysis_free(analysis *a)
{
    if (!a)
        return;
    report_free(a->rep);
    containers_release(a);
    dom_free(a->dom);
    live_free(a->live);
    free(a->specials);
    free(a->special_fin);
    free(a->all_roots);
    free(a->root_special);
    heap_free(a->h);
    free(a);
}
