/* heap.c - builds the heap model: runs the build's steps (heap_build.h) over a builder, then
 * the roots and allocation sites; the reverse adjacency (heap_build_reverse); frees the model.
 */
#include "heap_build.h"

#include <stdlib.h>
#include <string.h>

#include "addrindex.h"

/* Adds the time since *t to the step and restarts *t. */
static void step_done(heap *h, heap_step step, struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    h->step_seconds[step] += (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
    *t = now;
}

/* Program roots: every aux node with a root kind. Finalizer specials are not program roots;
 * liveness derives their roots from h->fins (mgcmark.go treats them apart). */
static int collect_roots(builder *b, hs_error *err)
{
    heap *h = b->h;
    h->roots = malloc(((size_t)h->naux + 1) * sizeof *h->roots);
    if (!h->roots)
        return heap_build_oom(err, "roots");
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->naux; i++) {
        int k = h->aux[i].root_kind;
        if (k == HEAP_ROOT_NONE)
            continue;
        h->roots[n++] = (graph_root){h->nobj + i, (uint32_t)k,
                                     k == HEAP_ROOT_QFINALIZER ? GRAPH_ROOT_FINALIZER : 0};
    }
    h->nroots = n;
    for (uint32_t f = 0; f < h->nfins; f++) {
        heap_finalizer *fin = &h->fins[f];
        /* The special's offset may point inside a tiny block or past a malloc header: the
         * containing slot is the object (docs/go-runtime.md "Finalizers"). */
        fin->obj = heap_object_at(h, fin->obj_addr);
        fin->fn = heap_object_at(h, fin->fn_addr);
        if (fin->fn == HEAP_NONE)
            fin->fn = heap_resolve_global_at(h, &b->global_of, fin->fn_addr);
    }
    return HS_OK;
}

/* Allocation sites of the sampled objects (h->obj_site; a later sample of an object wins). */
static int collect_sites(builder *b, hs_error *err)
{
    heap *h = b->h;
    for (size_t i = 0; i < b->nsamples; i++) {
        uint32_t o = heap_object_at(h, b->sample_obj[i]);
        if (o != HEAP_NONE && u64map_put(&h->obj_site, o, b->sample_site[i]) < 0)
            return heap_build_oom(err, "allocation sites");
    }
    return HS_OK;
}

static void builder_release(builder *b)
{
    free(b->addr);
    free(b->func);
    free(b->shape);
    free(b->hdr);
    free(b->estart);
    heap_graph_free_edges(b);
    free(b->hints);
    free(b->descs);
    u64map_release(&b->desc_idx);
    free(b->outside);
    free(b->ohints);
    free(b->itab_types);
    u64map_release(&b->global_of);
    u64map_release(&b->itab_idx);
    u64map_release(&b->type_rec);
    u64map_release(&b->type_idx);
    u64map_release(&b->shape_idx);
    u64map_release(&b->hint_cache);
    u64map_release(&b->bucket_site);
    free(b->sample_obj);
    free(b->sample_site);
    free(b->weak);
    stackobj_free(b->stk);
}

/* The steps after the pass (heap_build.h), timed as HEAP_STEP_SORT, _RESOLVE and (by the
 * caller) _GRAPH. */
static int finish(builder *b, hs_error *err)
{
    heap *h = b->h;
    uint32_t *sorted_of = NULL, *arrival_of = NULL;
    uint32_t narrival = h->nobj;
    int rc;
    if ((rc = heap_resolve_global_targets(b, err)) < 0 ||
        (rc = heap_order_objects(b, &sorted_of, &arrival_of, err)) < 0 ||
        (rc = heap_order_index(b, err)) < 0)
        goto out;
    memset(h->obj_type, 0xff, (size_t)h->nobj * sizeof *h->obj_type); /* HEAP_NONE */
    memset(h->obj_tsrc, 0, (size_t)h->nobj + 1);
    step_done(h, HEAP_STEP_SORT, &b->clock);
    heap_resolve_mark_hints(b);
    if ((rc = heap_resolve_edges(b, err)) < 0 || (rc = heap_resolve_iface_hints(b, err)) < 0)
        goto out;
    step_done(h, HEAP_STEP_RESOLVE, &b->clock);
    if ((rc = heap_graph_build(b, arrival_of, narrival, err)) < 0 ||
        (rc = heap_resolve_other_hints(b, sorted_of, narrival, err)) < 0 ||
        (rc = heap_resolve_weak(b, sorted_of, narrival, err)) < 0)
        goto out;
    /* The permutations are dead: spare memory from now on (spare.h). */
    size_t room = ((size_t)narrival + h->naux + 1) * sizeof *arrival_of;
    spare_add(&h->spare, arrival_of, room);
    spare_add(&h->spare, sorted_of, room);
    arrival_of = sorted_of = NULL;
    if ((rc = collect_roots(b, err)) < 0 || (rc = collect_sites(b, err)) < 0)
        goto out;
out:
    free(sorted_of);
    free(arrival_of);
    return rc;
}

int heap_build(source *s, void (*progress)(void *ctx, uint64_t done), void *progress_ctx,
               heap **out, hs_error *err)
{
    *out = NULL;
    heap *h = calloc(1, sizeof *h);
    if (!h)
        return heap_build_oom(err, "the heap model");
    h->ptr_size = 8;
    h->layout = golayout_of(0);
    h->syms = s->syms;
    builder b = {.h = h, .s = s};
    source_reader *sr = NULL;
    int rc = source_reader_open(s, 2, &sr, err);
    if (rc < 0)
        goto out;
    heap_ingest_reserve(&b, s->dump_bytes);
    clock_gettime(CLOCK_MONOTONIC, &b.clock);
    gohd_record rec;
    uint64_t next_report = 0;
    int saw_params = 0;
    while ((rc = gohd_next(source_reader_gohd(sr), &rec, err)) > 0) {
        if (rec.tag == GOHD_PARAMS)
            saw_params = 1;
        else if (!saw_params && rec.tag != GOHD_EOF) {
            rc = hs_error_set(err, HS_ERR_FORMAT, rec.offset,
                              "%s record before the params record", gohd_tag_name(rec.tag));
            break;
        }
        if ((rc = heap_ingest_record(&b, &rec, err)) < 0)
            break;
        if (progress && rec.offset >= next_report) {
            progress(progress_ctx, rec.offset);
            next_report = rec.offset + (16u << 20);
        }
    }
    if (rc < 0) {
        const hs_error *se = source_reader_stream_error(sr);
        if (se && se->status != HS_OK && err)
            *err = *se;
        goto out;
    }
    source_reader_free(sr); /* before the steps after the pass: their memory peak */
    sr = NULL;
    heap_ingest_trim(&b);
    if (heap_ingest_finish_goroutine(&b) < 0) {
        rc = heap_build_oom(err, "stack objects");
        goto out;
    }
    step_done(h, HEAP_STEP_STREAM, &b.clock);
    rc = finish(&b, err);
    step_done(h, HEAP_STEP_GRAPH, &b.clock);
out:
    source_reader_free(sr);
    builder_release(&b);
    if (rc < 0) {
        heap_free(h);
        return rc;
    }
    *out = h;
    return HS_OK;
}

int heap_build_reverse(heap *h, int parallel, hs_error *err)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint32_t *src = spare_take(&h->spare, (size_t)graph_edge_count(h->g) * sizeof *src);
    uint32_t *off = spare_take(&h->spare, ((size_t)h->nnodes + 1) * sizeof *off);
    int rc = graph_build_reverse(h->g, parallel, off, src, err);
    if (rc < 0)
        goto out;
    /* a weak handle is a handle only when a weak.Pointer points to it */
    const uint32_t *in = graph_in_offsets(h->g);
    size_t n = 0;
    for (size_t i = 0; i < h->nweak; i++)
        if (in[h->weak[i].handle] != in[h->weak[i].handle + 1])
            h->weak[n++] = h->weak[i];
    h->nweak = n;
    for (size_t i = 0; i < n; i++)
        if ((rc = heap_label(h, h->weak[i].handle, "weak handle (weak.Pointer)")) < 0) {
            rc = heap_build_oom(err, "the labels of weak handles");
            goto out;
        }
out:
    step_done(h, HEAP_STEP_REVERSE, &t);
    return rc;
}

void heap_free(heap *h)
{
    if (!h)
        return;
    spare_release(&h->spare);
    free(h->obj_addr);
    if (!h->g) /* before the graph exists the heap owns the sizes */
        free((void *)h->obj_size);
    free(h->obj_hdr);
    free(h->obj_func);
    free(h->obj_type);
    free(h->obj_tsrc);
    u64map_release(&h->obj_site);
    free(h->obj_shape);
    free(h->aux);
    addrindex_free(h->aix);
    free(h->roots);
    free(h->fins);
    free(h->types);
    free(h->static_types);
    free(h->static_ptrs);
    free(h->weak);
    free(h->shapes);
    free(h->shape_ptrs);
    free(h->gors);
    graph_free(h->g);
    strpool_release(&h->names);
    free(h);
}
