/* heap_resolve.c - edge resolution and the types of objects: pointer values turned into
 * target nodes through the address index (in parallel), the interface hints that ride on
 * that resolution, the malloc-header and finalizer hints, and the weak handles.
 */
#include "heap_build.h"

#include <stdlib.h>
#include <string.h>

#include "addrindex.h"
#include "gotype.h"
#include "par.h"
#include "vec.h"

uint32_t heap_resolve_global_at(const heap *h, const u64map *global_of, uint64_t addr)
{
    uint32_t aux;
    if (h->syms) {
        symtab_sym anon;
        const symtab_sym *sym = symtab_data_at(h->syms, addr, &anon);
        if (sym && u64map_get(global_of, sym->addr, &aux))
            return h->nobj + aux;
        return HEAP_NONE;
    }
    return u64map_get(global_of, addr, &aux) ? h->nobj + aux : HEAP_NONE;
}

int heap_resolve_global_targets(builder *b, hs_error *err)
{
    for (size_t i = 0; i < b->noutside; i++) {
        uint64_t v = b->outside[i];
        if (!heap_ingest_in_data_range(b, v))
            continue;
        uint32_t aux;
        uint64_t field;
        if (heap_ingest_global_node(b, v, &aux, &field) < 0)
            return heap_build_oom(err, "globals");
    }
    return HS_OK;
}

/* Interns a type descriptor; returns its index or HEAP_NONE when it cannot be named (or,
 * with b->nomem set, when out of memory). */
static uint32_t intern_type(builder *b, uint64_t addr)
{
    heap *h = b->h;
    uint32_t *slot = u64map_upsert(&b->type_idx, addr, HEAP_NONE - 1);
    if (!slot) {
        b->nomem = 1;
        return HEAP_NONE;
    }
    if (*slot != HEAP_NONE - 1)
        return *slot;
    heap_type t = {.addr = addr, .name = HEAP_NONE, .ttype = HEAP_NONE};
    uint32_t nm;
    gotype info;
    if (h->syms && gotype_read(h->syms, addr, &info, NULL) == HS_OK) {
        t.name = strpool_intern(&h->names, info.name, strlen(info.name));
        t.size = info.size;
        b->nomem |= t.name == HEAP_NONE;
    } else if (u64map_get(&b->type_rec, addr, &nm)) {
        t.name = nm;
    }
    if (t.name == HEAP_NONE) {
        *slot = HEAP_NONE;
        return HEAP_NONE;
    }
    size_t len = h->ntypes;
    if (VEC_PUSH(h->types, len, h->cap_types, t) < 0) {
        b->nomem = 1;
        return HEAP_NONE;
    }
    *slot = h->ntypes++;
    return *slot;
}

/* The type a hint gives its object, cached per (descriptor, source); HEAP_NONE when none
 * (b->nomem set when out of memory). */
static uint32_t resolve_hint_type(builder *b, const type_hint *t)
{
    heap *h = b->h;
    int header = t->src == HEAP_TSRC_HEADER;
    uint32_t *slot = u64map_upsert(&b->hint_cache, t->typeaddr * 2 + (uint64_t)header, HEAP_NONE - 1);
    if (!slot) {
        b->nomem = 1;
        return HEAP_NONE;
    }
    if (*slot != HEAP_NONE - 1)
        return *slot;
    uint64_t taddr = t->typeaddr;
    gotype info;
    if (h->syms && gotype_read(h->syms, taddr, &info, NULL) == HS_OK) {
        /* An interface holding *T and a finalizer's ot (*T) both describe a T; a malloc
         * header names the object's own type. */
        if (!header && info.kind == GOTYPE_KIND_PTR && info.elem)
            taddr = info.elem;
    } else if (t->src == HEAP_TSRC_FINALIZER) {
        taddr = 0; /* ot is *T: without descriptors T cannot be found */
    }
    uint32_t ti = taddr ? intern_type(b, taddr) : HEAP_NONE;
    /* intern_type may have grown the cache's table: look the slot up again. */
    if (u64map_put(&b->hint_cache, t->typeaddr * 2 + (uint64_t)header, ti) < 0) {
        b->nomem = 1;
        return HEAP_NONE;
    }
    return ti;
}

/* A type larger than the object is no evidence of it (a stale word): typing.c also checks
 * the pointer layout, when DWARF is there. */
static int fits_size(const heap *h, uint32_t obj, uint32_t ti)
{
    return h->types[ti].size <= heap_obj_bytes(h, obj);
}

/* Gives object obj the type a hint names, unless it has stronger evidence already (header >
 * finalizer > interface). An interface holding *T types the T it points to; one holding a
 * non-pointer T types the box it points to. */
static void give_type(builder *b, uint32_t obj, const type_hint *t)
{
    heap *h = b->h;
    if (obj >= h->nobj || h->obj_tsrc[obj] >= t->src)
        return;
    uint32_t ti = resolve_hint_type(b, t);
    if (ti == HEAP_NONE)
        return;
    if (!fits_size(h, obj, ti))
        return;
    h->obj_type[obj] = ti;
    h->obj_tsrc[obj] = t->src;
}

/* Does pointer value v (inside object obj) point at the object itself, as the program sees
 * it? With the address index and no malloc headers this reads no object array. */
static int points_at_start(const builder *b, uint32_t obj, uint64_t v)
{
    const heap *h = b->h;
    if (h->aix && !b->headers)
        return addrindex_is_start(h->aix, v);
    return v == heap_obj_ptr(h, obj);
}

/* The node a pointer value lands in: an object, else a global, else HEAP_NONE. */
static uint32_t resolve_value(const builder *b, uint64_t v)
{
    uint32_t dst = heap_object_at(b->h, v);
    return dst != HEAP_NONE ? dst : heap_resolve_global_at(b->h, &b->global_of, v);
}

/* Interface hints ride on the resolution of their edges: before it, the raw value of each
 * hinted edge gets HINT_MARK (no pointer kept as an edge has bit 63 set: they lie in the
 * arena or the data sections); resolving such a value also tells whether it points at the
 * start of its object (AT_START beside the node id), which is all a hint needs. */
#define HINT_MARK ((uint64_t)1 << 63)

#define AT_START ((uint64_t)1 << 32)

/* The value of an interface hint's edge. */
static uint64_t *hint_val(const builder *b, const iface_hint *t)
{
    return t->desc & AUX_BIT ? &b->aux_edges[t->edge].val : heap_build_edge_val(b, t->edge);
}

void heap_resolve_mark_hints(builder *b)
{
    for (size_t k = 0; k < b->nhints; k++)
        *hint_val(b, &b->hints[k]) |= HINT_MARK;
}

/* Types the objects interface words point at (their edges are resolved: see HINT_MARK): names
 * each distinct descriptor once, then gives the types with the objects prefetched. */
int heap_resolve_iface_hints(builder *b, hs_error *err)
{
    heap *h = b->h;
    const iface_hint *hs = b->hints;
    enum { AHEAD = 16 };
    uint32_t *desc_type = malloc(b->ndescs * sizeof *desc_type + 1);
    if (!desc_type)
        return heap_build_oom(err, "the types of interface values");
    int rc = HS_OK;
    for (size_t d = 0; d < b->ndescs; d++)
        desc_type[d] = resolve_hint_type(b, &(type_hint){0, b->descs[d], HEAP_TSRC_IFACE});
    if (b->nomem) {
        rc = heap_build_oom(err, "the types of interface values");
        goto out;
    }
    for (size_t k = 0; k < b->nhints; k++) {
        if (k + AHEAD < b->nhints) {
            uint64_t ahead = *hint_val(b, &hs[k + AHEAD]);
            if (ahead & AT_START) {
                __builtin_prefetch(&h->obj_tsrc[(uint32_t)ahead]);
                __builtin_prefetch(&h->obj_type[(uint32_t)ahead], 1);
            }
        }
        uint64_t v = *hint_val(b, &hs[k]);
        uint32_t obj = (uint32_t)v, ti = desc_type[hs[k].desc & ~AUX_BIT];
        if ((v & AT_START) && ti != HEAP_NONE && h->obj_tsrc[obj] < HEAP_TSRC_IFACE &&
            fits_size(h, obj, ti)) {
            h->obj_type[obj] = ti;
            h->obj_tsrc[obj] = HEAP_TSRC_IFACE;
        }
    }
out:
    free(desc_type);
    return rc;
}

/* The node an edge value points into (HEAP_NONE: none), with AT_START when the value carries
 * HINT_MARK and points at the start of an object. */
static uint64_t resolve_edge_value(const builder *b, uint64_t v)
{
    uint64_t hinted = v & HINT_MARK;
    v &= ~HINT_MARK;
    uint32_t dst = resolve_value(b, v);
    if (hinted && dst < b->h->nobj && points_at_start(b, dst, v))
        return dst | AT_START;
    return dst;
}

/* Resolves object edges [lo, hi) in place, prefetching the address index ahead: one random
 * access per edge. */
static void resolve_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    const builder *b = ctx;
    enum { AHEAD = 16 };
    (void)part;
    for (size_t i = lo; i < hi; i++) {
        if (b->h->aix && i + AHEAD < hi)
            addrindex_prefetch(b->h->aix, *heap_build_edge_val(b, i + AHEAD) & ~HINT_MARK);
        uint64_t *v = heap_build_edge_val(b, i);
        *v = resolve_edge_value(b, *v);
    }
}

/* Resolves every edge in place: the value becomes the target node, or HEAP_NONE. Pointers
 * from named globals into anonymous statics keep their value (heap_static_ptr). */
int heap_resolve_edges(builder *b, hs_error *err)
{
    heap *h = b->h;
    par_for(b->nedges, PAR_MIN_EDGES, resolve_part, b);
    size_t cap = 0;
    for (size_t j = 0; j < b->naux_edges; j++) {
        aux_edge *e = &b->aux_edges[j];
        uint64_t raw = e->val & ~HINT_MARK;
        e->val = resolve_edge_value(b, e->val);
        uint32_t t = (uint32_t)e->val;
        if (t == HEAP_NONE || t < h->nobj || h->aux[t - h->nobj].kind != HEAP_NODE_GLOBAL ||
            !h->aux[t - h->nobj].anonymous || h->aux[e->src].kind != HEAP_NODE_GLOBAL ||
            h->aux[e->src].anonymous)
            continue;
        heap_static_ptr p = {h->nobj + e->src, t, raw};
        if (VEC_PUSH(h->static_ptrs, h->nstatic_ptrs, cap, p) < 0)
            return heap_build_oom(err, "pointers into anonymous statics");
    }
    return HS_OK;
}

/* Applies the header and finalizer hints (interface hints are applied while edges are
 * resolved, where their targets are known). */
int heap_resolve_other_hints(builder *b, const uint32_t *sorted_of, uint32_t narrival,
                             hs_error *err)
{
    heap *h = b->h;
    for (int pass = 0; pass < 2; pass++) /* finalizer evidence first, then headers */
        for (size_t i = 0; i < b->nohints; i++) {
            const type_hint *t = &b->ohints[i];
            if (t->src != (pass ? HEAP_TSRC_HEADER : HEAP_TSRC_FINALIZER))
                continue;
            uint32_t obj;
            if (t->src == HEAP_TSRC_HEADER) {
                obj = t->at < narrival ? sorted_of[t->at] : HEAP_NONE;
            } else {
                obj = heap_object_at(h, t->at);
                if (obj != HEAP_NONE && t->at != heap_obj_ptr(h, obj))
                    obj = HEAP_NONE;
            }
            give_type(b, obj, t);
        }
    return b->nomem ? heap_build_oom(err, "types from malloc headers and finalizers") : HS_OK;
}

static int weak_cmp(const void *x, const void *y)
{
    const heap_weak *p = x, *q = y;
    return p->target != q->target ? (p->target < q->target ? -1 : 1)
                                  : (p->handle < q->handle ? -1 : p->handle > q->handle);
}

/* Keeps the weak handles: candidates whose address is where an object starts (as the program
 * sees it), sorted by target for heap_weak_referrers. Handles nothing points to are dropped
 * with the reverse adjacency (heap_build_reverse). */
int heap_resolve_weak(builder *b, const uint32_t *sorted_of, uint32_t narrival,
                      hs_error *err)
{
    heap *h = b->h;
    size_t cap = 0;
    for (size_t i = 0; i < b->nweak; i++) {
        uint32_t hd = b->weak[i].at < narrival ? sorted_of[b->weak[i].at] : HEAP_NONE;
        uint32_t t = heap_object_at(h, b->weak[i].target);
        if (hd == HEAP_NONE || t == HEAP_NONE || t == hd ||
            (b->weak[i].target != heap_obj_ptr(h, t) && b->weak[i].target != h->obj_addr[t]))
            continue;
        heap_weak w = {hd, t};
        if (VEC_PUSH(h->weak, h->nweak, cap, w) < 0)
            return heap_build_oom(err, "weak handles");
    }
    if (h->nweak)
        qsort(h->weak, h->nweak, sizeof *h->weak, weak_cmp);
    return HS_OK;
}
