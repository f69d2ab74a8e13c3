/* analysis.c - the pipeline: heap model -> liveness -> dominators -> containers -> detectors
 * -> report. */
#include "analysis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "containers.h"
#include "detectors/detectors.h"
#include "findings.h"
#include "tables.h"

/* A note for a heap rebuilt from a core or a snapshot (META source, docs/capture-core.md):
 * what that memory could not give; NULL for any other capture. */
static char *unrecovered_note(const source *s)
{
    cJSON *m = s->meta_json ? cJSON_Parse(s->meta_json) : NULL;
    const cJSON *src = cJSON_GetObjectItem(m, "source");
    const cJSON *lost = cJSON_GetObjectItem(m, "unrecovered");
    char buf[1600];
    size_t k = 0;
    buf[0] = '\0';
    if (cJSON_IsString(src) && cJSON_IsArray(lost)) {
        k = (size_t)snprintf(buf, sizeof buf, "rebuilt from %s without the hook:",
                             strcmp(src->valuestring, "snapshot") ? "a core file"
                                                                  : "a live snapshot");
        const cJSON *e;
        cJSON_ArrayForEach(e, lost)
            if (cJSON_IsString(e) && k < sizeof buf)
                k += (size_t)snprintf(buf + k, sizeof buf - k, " %s;", e->valuestring);
    }
    cJSON_Delete(m);
    if (!k || buf[strlen(buf) - 1] == ':')
        return NULL;
    buf[strlen(buf) - 1] = '\0';
    return report_strdup(buf);
}

static int nomem(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "analysis: out of memory for %s", what);
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
        return nomem(err, "the roots");
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
    return k == n ? HS_OK
                  : hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                                 "analysis: %zu finalizer-special roots where %zu were expected",
                                 n, k);
}

/* The report's summary, container list and notes. */
/* In-use objects and bytes by the evidence that typed them (heap_type_src; HEAP_TSRC_NKINDS:
 * a closure, named by its code). */
typedef struct typed_tally {
    uint64_t objs[HEAP_TSRC_NKINDS + 1], bytes[HEAP_TSRC_NKINDS + 1];
} typed_tally;

/* Counts in-use object v (of `bytes` bytes) in the tally. */
static void tally_typed(const heap *h, uint32_t v, uint64_t bytes, typed_tally *t)
{
    int k = h->obj_func[v] != HEAP_NONE ? HEAP_TSRC_NKINDS
            : h->obj_type[v] != HEAP_NONE ? h->obj_tsrc[v] : HEAP_TSRC_NONE;
    t->objs[k]++;
    t->bytes[k] += bytes;
}

/* Typed coverage of the in-use objects, by evidence, from the tally. */
static void fill_typing(analysis *a, const typed_tally *t)
{
    report_typing *ty = &a->rep->typing;
    const uint64_t *objs = t->objs, *bytes = t->bytes;
    ty->from = a->src->types ? "DWARF" : "runtime evidence only";
    ty->refused = a->typing.refused;
    for (int k = 1; k <= HEAP_TSRC_NKINDS && ty->nby < REPORT_EVIDENCE_MAX; k++) {
        if (!objs[k])
            continue;
        ty->by[ty->nby].evidence = k == HEAP_TSRC_NKINDS ? "closure code" : heap_type_src_name(k);
        ty->by[ty->nby].objects = objs[k];
        ty->by[ty->nby++].bytes = bytes[k];
        ty->objects += objs[k];
        ty->bytes += bytes[k];
    }
}

static int fill_summary(analysis *a, hs_error *err)
{
    report *r = a->rep;
    const heap *h = a->h;
    const source *s = a->src;
    r->dump_path = report_strdup(s->path);
    r->go_version = report_strdup(h->go_version);
    r->goarch = report_strdup(h->goarch);
    r->binary = s->bin ? report_strdup("--binary") : s->syms ? report_strdup(".hsd") : NULL;
    r->dump_bytes = s->dump_bytes;
    r->objects = h->nobj;
    r->object_bytes = h->total_bytes;
    /* Liveness counts every node; the summary speaks of heap objects only, in the bytes
     * their slots take (a malloc header included), so that the classes sum to object_bytes. */
    typed_tally typed = {0};
    for (uint32_t v = 0; v < h->nobj; v++) {
        uint64_t bytes = heap_obj_cost(h, v);
        report_class k = memclass_of(a->classes, v);
        r->class_objects[k]++;
        r->class_bytes[k] += bytes;
        switch (live_state_of(a->live, v)) {
        case LIVE_IN_USE:
            r->in_use_objects++;
            r->in_use_bytes += bytes;
            tally_typed(h, v, bytes, &typed);
            break;
        case LIVE_GARBAGE: r->garbage_objects++; r->garbage_bytes += bytes; break;
        case LIVE_PENDING: r->pending_objects++; r->pending_bytes += bytes; break;
        case LIVE_PINNED: r->pinned_objects++; r->pinned_bytes += bytes; break;
        case LIVE_FIN_REACHABLE:
            r->fin_reachable_objects++;
            r->fin_reachable_bytes += bytes;
            break;
        }
    }
    fill_typing(a, &typed);
    r->goroutines = h->ngors;
    r->finalizers = h->nfins;
    r->roots = h->nroots;
    r->pointer_edges = graph_edge_count(h->g);
    r->containers = calloc(a->ncontainers + 1, sizeof *r->containers);
    if (!r->dump_path || !r->go_version || !r->goarch || !r->containers)
        return nomem(err, "the report's summary");
    static const char *const kinds[] = {"named", "sync.Map", "Go map"};
    for (size_t i = 0; i < a->ncontainers; i++) {
        const analysis_container *c = &a->containers[i];
        r->containers[i] = report_strfmt("%s (%s at 0x%llx, %zu value%s)", c->name, kinds[c->kind],
                                         (unsigned long long)c->addr, c->nvalues,
                                         c->nvalues == 1 ? "" : "s");
        if (!r->containers[i])
            return nomem(err, "the report's containers");
        r->ncontainers++;
    }
    /* What this analysis could not see, for the reader. */
    char *note[10];
    size_t n = 0;
    const golayout *l = &h->layout;
    if (!h->syms)
        note[n++] = report_strdup("no symbols: closures, globals and types are unnamed "
                                  "(capture with heapsift-dump or pass --binary)");
    if (h->syms && !a->src->types)
        note[n++] = report_strfmt(
            "no DWARF types (a binary built with -ldflags=-w or stripped, or a .hsd written "
            "before types were kept): %.1f%% of in-use bytes are typed, from runtime evidence "
            "only; paths show offsets where field names would be",
            r->in_use_bytes ? 100.0 * (double)r->typing.bytes / (double)r->in_use_bytes : 100.0);
    if (!l->tested)
        note[n++] = report_strfmt(
            "%s is %s than any Go version heapsift is tested on (go1.%d to go1.%d): the "
            "analysis assumes the go1.%d runtime layouts and may miss or misread structures",
            h->go_version[0] ? h->go_version : "the dump's Go version",
            l->minor > GOLAYOUT_NEWEST_TESTED || !l->minor ? "newer" : "older",
            GOLAYOUT_OLDEST_TESTED, GOLAYOUT_NEWEST_TESTED,
            l->minor > GOLAYOUT_NEWEST_TESTED || !l->minor ? GOLAYOUT_NEWEST_TESTED
                                                           : GOLAYOUT_OLDEST_TESTED);
    if (h->syms && symtab_get_info(h->syms)->addcleanup)
        note[n++] = report_strdup(
            "the binary uses runtime.AddCleanup: cleanups are not in heap dumps, so an "
            "object kept only by a cleanup's function or argument looks like garbage here");
    if (h->header_mismatches)
        note[n++] = report_strfmt(
            "%llu objects above 512 B have a pointer where the %s runtime keeps its malloc "
            "header: this runtime's heap layout is not the one heapsift decodes for it, so "
            "their addresses and types may be off by 8 bytes",
            (unsigned long long)h->header_mismatches,
            h->go_version[0] ? h->go_version : "Go 1.22+");
    if (l->syncmap == GOLAYOUT_SYNCMAP_TRIE && a->ncontainers)
        note[n++] = report_strfmt(
            "no tombstones in %s: its sync.Map (a hash trie since Go 1.24) removes a deleted "
            "key's entry at once", h->go_version[0] ? h->go_version : "this Go version");
    if (!live_reasons_exact(a->live))
        note[n++] = report_strdup("some pin reasons were decided by a bounded search "
                                  "and may say 'cycle' where 'other_finalizer' is true");
    if (!a->ncontainers)
        note[n++] = report_strdup("no containers found: ghost references need a "
                                  "sync.Map or --container SYMBOL");
    char *lost = unrecovered_note(a->src);
    if (lost)
        note[n++] = lost;
    int rc = HS_OK;
    int ok = !n || (r->notes = malloc(n * sizeof *r->notes)) != NULL;
    for (size_t i = 0; i < n; i++)
        ok &= note[i] != NULL;
    if (!ok) {
        rc = nomem(err, "the report's notes");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        r->notes[r->nnotes++] = note[i];
    n = 0; /* the report owns them */
out:
    for (size_t i = 0; i < n; i++)
        free(note[i]);
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

/* Runs the detectors (they need liveness, not dominators); sccs: the closure cycles' SCCs, or
 * NULL. */
static int detect(analysis *a, cycles_sccs *sccs, findings *leaks, findings *info, hs_error *err)
{
    int rc;
    if ((rc = finpin_detect(a, leaks, err)) < 0 ||
        (rc = cycles_detect(a, sccs, leaks, info, err)) < 0 ||
        (rc = ghost_detect(a, leaks, err)) < 0 || (rc = tombstone_detect(a, leaks, err)) < 0)
        return rc;
    return HS_OK;
}

/* Sizes the findings (retained bytes need the dominators) and moves them into the report. */
static int finish_findings(analysis *a, findings *leaks, findings *info, hs_error *err)
{
    report *r = a->rep;
    int rc;
    if ((rc = findings_finish(leaks, a, &r->findings, &r->nfindings, err)) < 0 ||
        (rc = findings_finish(info, a, &r->info, &r->ninfo, err)) < 0)
        return rc;
    /* (qsort's array must not be NULL even when empty: C11 7.22.5) */
    if (r->nfindings)
        qsort(r->findings, r->nfindings, sizeof *r->findings, finding_order);
    if (r->ninfo)
        qsort(r->info, r->ninfo, sizeof *r->info, finding_order);
    return HS_OK;
}

/* The report's tables: retainers, histogram and, when asked for, flame-graph rows. */
static int fill_tables(analysis *a, hs_error *err)
{
    int rc;
    if ((rc = tables_retainers(a, a->opts.top_n, err)) < 0 ||
        (rc = tables_histogram(a, a->opts.hist_n,
                               TABLES_BY_TYPE | TABLES_BY_CLOSURE | TABLES_BY_SHAPE, err)) < 0 ||
        (a->opts.folded_depth && (rc = tables_folded(a, a->opts.folded_depth, err)) < 0))
        return rc;
    return HS_OK;
}

const char *analysis_phase_name(int phase)
{
    static const char *names[ANALYSIS_NPHASES] = {"model",      "typing",    "liveness",
                                                  "dominators", "containers", "detectors",
                                                  "tables"};
    return phase >= 0 && phase < ANALYSIS_NPHASES ? names[phase] : "?";
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds the time since *t to phase p and restarts *t. */
static void lap(analysis *a, int p, double *t)
{
    double n = now();
    a->seconds[p] += n - *t;
    *t = n;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        a->peak_rss[p] = (uint64_t)ru.ru_maxrss * 1024;
}

/* The dominator tree is the slowest phase and needs only the graph and the roots: it runs on
 * a second thread. Its first half (numbering by DFS) needs only the forward edges, so it
 * starts while the caller's thread builds the reverse adjacency; then liveness, containers
 * and the detectors run on the caller's thread while the second half runs. */
typedef struct dom_job {
    analysis *a;
    uint64_t *retained; /* spare memory for the tree (dom_start) */
    uint32_t *idom;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int reverse;        /* 0: being built, 1: built, -1: never (the model failed) */
    int done;           /* the dominators are done: their temporaries are freed */
    int rc;
    hs_error err;
    double seconds;     /* the dominators' own time, waiting excluded */
} dom_job;

static void *dom_thread(void *arg)
{
    dom_job *j = arg;
    analysis *a = j->a;
    double t = now();
    dom_work *w = NULL;
    hs_error_clear(&j->err);
    j->rc = dom_start(a->h->g, a->all_roots, a->nall_roots, 0, j->retained, j->idom, &w,
                      &j->err);
    j->seconds = now() - t;
    pthread_mutex_lock(&j->mu);
    while (!j->reverse)
        pthread_cond_wait(&j->cv, &j->mu);
    int reverse = j->reverse;
    pthread_mutex_unlock(&j->mu);
    t = now();
    if (j->rc >= 0 && reverse > 0)
        j->rc = dom_finish(w, &a->dom, &j->err);
    else
        dom_work_free(w);
    j->seconds += now() - t;
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* Starts the dominators (their DFS) on a second thread, in the build's spare memory; returns
 * whether the thread runs. */
static int dom_launch(dom_job *j, pthread_t *tid)
{
    size_t n1 = (size_t)graph_node_count(j->a->h->g) + 1;
    j->retained = spare_take(&j->a->h->spare, n1 * sizeof *j->retained);
    j->idom = spare_take(&j->a->h->spare, n1 * sizeof *j->idom);
    return pthread_create(tid, NULL, dom_thread, j) == 0;
}

/* Once the reverse adjacency is built (ok) or never will be: lets the thread go on, or, when
 * there is none, runs the dominators here. */
static void dom_reverse_done(dom_job *j, int threaded, int ok)
{
    if (!threaded) {
        j->reverse = ok ? 1 : -1;
        if (ok) {
            dom_thread(j);
        } else {
            free(j->retained);
            free(j->idom);
        }
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->reverse = ok ? 1 : -1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* The closure cycles' SCCs need only the graph and the closures: they are computed on a
 * thread of their own while the containers are found, and the caller joins it before the
 * detectors. The thread first waits for the dominators to be done (they usually are by then):
 * their temporaries and the SCCs' are never alive together, which keeps the memory peak. */
typedef struct cycles_job {
    const heap *h;
    dom_job *dom;
    cycles_sccs *sccs;
    int rc;
    hs_error err;
} cycles_job;

static void *cycles_thread(void *arg)
{
    cycles_job *j = arg;
    pthread_mutex_lock(&j->dom->mu);
    while (!j->dom->done)
        pthread_cond_wait(&j->dom->cv, &j->dom->mu);
    pthread_mutex_unlock(&j->dom->mu);
    hs_error_clear(&j->err);
    j->rc = cycles_prepare(j->h, &j->sccs, &j->err);
    return NULL;
}

/* Waits for the cycles' thread, if it runs; returns its status (err set on failure). */
static int cycles_join(cycles_job *j, pthread_t tid, int *threaded, hs_error *err)
{
    if (!*threaded)
        return HS_OK;
    pthread_join(tid, NULL);
    *threaded = 0;
    if (j->rc < 0 && err)
        *err = j->err;
    return j->rc;
}

int analysis_run(source *s, const analysis_options *opts, analysis **out, hs_error *err)
{
    *out = NULL;
    analysis *a = calloc(1, sizeof *a);
    if (!a)
        return nomem(err, "the analysis");
    a->src = s;
    if (opts)
        a->opts = *opts;
    if (!a->opts.top_n)
        a->opts.top_n = 20;
    if (!a->opts.hist_n)
        a->opts.hist_n = 30;
    double start = now(), t = start;
    findings leaks = {0}, info = {0};
    dom_job job = {.a = a, .rc = HS_OK};
    pthread_mutex_init(&job.mu, NULL);
    pthread_cond_init(&job.cv, NULL);
    pthread_t tid, cycles_tid;
    int threaded = 0, cycles_threaded = 0;
    cycles_job cycles = {.rc = HS_OK};
    int rc = heap_build(s, a->opts.progress, a->opts.progress_ctx, &a->h, err);
    if (rc < 0 || (rc = build_roots(a, err)) < 0)
        goto out;
    threaded = dom_launch(&job, &tid);
    /* On one thread: the other core runs the dominators' DFS meanwhile. */
    rc = heap_build_reverse(a->h, !threaded, err);
    if (rc >= 0)
        spare_release(&a->h->spare);
    dom_reverse_done(&job, threaded, rc >= 0);
    lap(a, ANALYSIS_T_MODEL, &t);
    if (rc >= 0 && s->types && (rc = typing_run(a->h, s->types, &a->typing, err)) < 0)
        goto out;
    lap(a, ANALYSIS_T_TYPING, &t);
    if (rc < 0 ||
        (rc = live_compute(a->h->g, a->h->roots, a->h->nroots, a->specials, a->nspecials,
                           &a->live, err)) < 0 ||
        (rc = memclass_compute(a->h->g, a->live, a->specials, a->nspecials, &a->classes,
                               err)) < 0)
        goto out;
    lap(a, ANALYSIS_T_LIVENESS, &t);
    if (!a->opts.model_only) {
        cycles.h = a->h;
        cycles.dom = &job;
        cycles_threaded = pthread_create(&cycles_tid, NULL, cycles_thread, &cycles) == 0;
        /* the type guesses after the containers: their role labels are types too */
        if ((rc = containers_find(a, err)) < 0 || (rc = typeinfo_build(a->h, &a->types, err)) < 0)
            goto out;
        lap(a, ANALYSIS_T_CONTAINERS, &t);
        if (!(a->rep = calloc(1, sizeof *a->rep))) {
            rc = nomem(err, "the report");
            goto out;
        }
        if ((rc = fill_summary(a, err)) < 0 ||
            (rc = cycles_join(&cycles, cycles_tid, &cycles_threaded, err)) < 0 ||
            (rc = detect(a, cycles.sccs, &leaks, &info, err)) < 0)
            goto out;
        lap(a, ANALYSIS_T_DETECTORS, &t);
    }
    if (threaded)
        pthread_join(tid, NULL);
    threaded = 0;
    a->dom_wait = now() - t;
    a->seconds[ANALYSIS_T_DOMINATORS] = job.seconds;
    if (job.rc < 0) {
        rc = job.rc;
        if (err)
            *err = job.err;
        goto out;
    }
    t = now();
    if (a->opts.model_only) {
        rc = typeinfo_build(a->h, &a->types, err);
        a->wall = now() - start;
        goto out;
    }
    if ((rc = finish_findings(a, &leaks, &info, err)) < 0)
        goto out;
    findings_release(&leaks);
    findings_release(&info);
    if ((rc = fill_tables(a, err)) < 0)
        goto out;
    lap(a, ANALYSIS_T_TABLES, &t);
    a->wall = t - start;
out:
    if (threaded) /* a phase failed while the dominators ran */
        pthread_join(tid, NULL);
    cycles_join(&cycles, cycles_tid, &cycles_threaded, NULL);
    cycles_sccs_free(cycles.sccs);
    pthread_mutex_destroy(&job.mu);
    pthread_cond_destroy(&job.cv);
    findings_release(&leaks);
    findings_release(&info);
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
    memclass_free(a->classes);
    paths_free(a->lasting);
    live_free(a->live);
    free(a->specials);
    free(a->special_fin);
    free(a->all_roots);
    free(a->root_special);
    typeinfo_free(a->types);
    heap_free(a->h);
    free(a);
}
