/* heap_ingest.c - the streaming pass of the heap build: each record of the dump becomes
 * objects (appended in dump order), aux nodes (globals, frames, other roots), raw edges and
 * type hints in the builder (heap_build.h).
 *
 * Every pointer slot worth keeping becomes a raw edge (field offset and value; an object's
 * edges are contiguous, so the source is implied) plus, where an interface word sits before
 * a pointer, a type hint for the pointee. Edges of other nodes are few and kept apart with
 * their source.
 */
#include "heap_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bincheck.h"
#include "gotype.h"
#include "vec.h"

static uint64_t word_at(const builder *b, const uint8_t *p)
{
    return gohd_word(p, b->h->ptr_size, b->big_endian);
}

int heap_ingest_in_data_range(const builder *b, uint64_t v)
{
    if ((v >= b->data_lo && v < b->data_hi) || (v >= b->bss_lo && v < b->bss_hi))
        return 1;
    if (!b->h->syms)
        return 0;
    const symtab_info *in = symtab_get_info(b->h->syms);
    const symtab_range *r[] = {&in->data, &in->noptrdata, &in->bss, &in->noptrbss};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (v >= r[i]->start && v < r[i]->end)
            return 1;
    return 0;
}

/* A value worth keeping as an edge: inside the heap arena or the data/bss sections. */
static int maybe_pointer(const builder *b, uint64_t v)
{
    if (v == 0)
        return 0;
    if (v >= b->h->arena_start && v < b->h->arena_end)
        return 1;
    return heap_ingest_in_data_range(b, v);
}

static int is_type_addr(const builder *b, uint64_t w)
{
    uint32_t dummy;
    return (b->h->syms && gotype_is_type_addr(b->h->syms, w)) || u64map_get(&b->type_rec, w, &dummy);
}

static int add_aux(builder *b, heap_aux a, uint32_t *idx)
{
    heap *h = b->h;
    if (h->naux >= MAX_OBJECTS ||
        vec_reserve((void **)&h->aux, &b->cap_aux, (size_t)h->naux + 1, sizeof *h->aux) < 0)
        return HS_ERR_NOMEM;
    h->aux[h->naux] = a;
    *idx = h->naux++;
    return HS_OK;
}

static uint32_t intern(builder *b, const char *s, size_t n)
{
    return strpool_intern(&b->h->names, s, n);
}

/* Resizes the object edges' arrays to cap edges together. */
static int resize_edges(builder *b, size_t cap)
{
    void **const arrays[] = {(void **)&b->eval, (void **)&b->efield};
    const size_t elem[] = {sizeof *b->eval, sizeof *b->efield};
    if (vec_resize_parallel(arrays, elem, 2, cap) < 0)
        return -1;
    b->cap_edges = cap;
    return 0;
}

/* Records the edge when val may be a pointer: 1 (and its index among object edges, or among
 * aux edges when src has AUX_BIT) when kept, 0 when not. */
static int add_edge(builder *b, uint32_t src, uint64_t field, uint64_t val, uint32_t *index)
{
    if (!maybe_pointer(b, val) || field > UINT32_MAX)
        return 0;
    if ((val < b->h->arena_start || val >= b->h->arena_end) &&
        VEC_PUSH(b->outside, b->noutside, b->cap_outside, val) < 0)
        return HS_ERR_NOMEM;
    if (src & AUX_BIT) {
        aux_edge e = {src & ~AUX_BIT, (uint32_t)field, val};
        if (b->naux_edges >= GRAPH_MAX_EDGES || VEC_PUSH(b->aux_edges, b->naux_edges, b->cap_aux_edges, e) < 0)
            return HS_ERR_NOMEM;
        *index = (uint32_t)(b->naux_edges - 1);
        return 1;
    }
    /* Doubling: past the allocator's mmap threshold a realloc moves pages, not bytes. */
    if (b->nedges == b->cap_edges && resize_edges(b, b->cap_edges ? 2 * b->cap_edges : 65536) < 0)
        return HS_ERR_NOMEM;
    b->eval[b->nedges] = val;
    b->efield[b->nedges] = (uint32_t)field;
    *index = (uint32_t)b->nedges++;
    return 1;
}

/* Records that the target of edge `index` (of node src, see add_edge) holds a value of the
 * type at descriptor t. */
static int add_iface_hint(builder *b, uint32_t src, uint32_t index, uint64_t t)
{
    /* Interfaces in one span mostly hold one type: try the previous descriptor first. */
    if (!b->ndescs || b->descs[b->last_desc] != t) {
        uint32_t *idx = u64map_upsert(&b->desc_idx, t, HEAP_NONE);
        if (!idx)
            return HS_ERR_NOMEM;
        if (*idx == HEAP_NONE) {
            if (b->ndescs >= AUX_BIT || VEC_PUSH(b->descs, b->ndescs, b->cap_descs, t) < 0)
                return HS_ERR_NOMEM;
            *idx = (uint32_t)(b->ndescs - 1);
        }
        b->last_desc = *idx;
    }
    iface_hint hnt = {index, b->last_desc | (src & AUX_BIT)};
    return VEC_PUSH(b->hints, b->nhints, b->cap_hints, hnt);
}

/* Adds the edges of a memory record's pointer slots (field = field_base + slot offset, modulo
 * 2^64 so a negative base works), and type hints where an interface type
 * word (not itself a pointer slot: docs/go-runtime.md "The dump stream") precedes a data word. */
static int add_slots(builder *b, uint32_t src, uint64_t field_base, const uint8_t *mem,
                     size_t len, const uint64_t *offs, size_t n)
{
    uint64_t ps = b->h->ptr_size;
    for (size_t i = 0; i < n; i++) {
        uint64_t off = offs[i];
        if (off > len || len - off < ps)
            continue; /* a slot outside the record: the mask is not trusted */
        uint64_t v = word_at(b, mem + off);
        uint32_t index;
        if (!v)
            continue;
        int kept = add_edge(b, src, field_base + off, v, &index);
        if (kept < 0)
            return HS_ERR_NOMEM;
        if (!kept)
            continue; /* not a pointer into the heap or data: no edge, no type to give */
        if (off < ps || (i > 0 && offs[i - 1] == off - ps))
            continue;
        uint64_t w = word_at(b, mem + off - ps);
        /* Type descriptors and itabs live outside the heap arena: most preceding words
         * (zero, small integers, heap pointers) are rejected without a lookup. */
        if (w < 4096 || (w >= b->h->arena_start && w < b->h->arena_end))
            continue;
        uint32_t k;
        uint64_t t = 0;
        /* The itabs first: the linker lays them out inside the type area */
        if (w >= b->itab_lo && w <= b->itab_hi && u64map_get(&b->itab_idx, w, &k))
            t = b->itab_types[k]; /* iface: the itab names the dynamic type */
        else if (is_type_addr(b, w))
            t = w; /* eface: the type word */
        if (t) {
            if (add_iface_hint(b, src, index, t) < 0)
                return HS_ERR_NOMEM;
        }
    }
    return HS_OK;
}

static uint64_t shape_hash(uint64_t size, const uint64_t *offs, size_t n)
{
    uint64_t h = size * 0x9E3779B97F4A7C15ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ offs[i]) * 0x100000001B3ull;
    return h;
}

static int intern_shape(builder *b, uint64_t size, const uint64_t *offs, size_t n, uint32_t *out)
{
    heap *h = b->h;
    uint64_t hash = shape_hash(size, offs, n);
    /* Objects of one span arrive together: most share the previous object's shape. */
    if (h->nshapes && hash == h->shapes[b->last_shape].hash) {
        *out = b->last_shape;
        return HS_OK;
    }
    uint32_t *slot = u64map_upsert(&b->shape_idx, hash, HEAP_NONE);
    if (!slot)
        return HS_ERR_NOMEM;
    if (*slot == HEAP_NONE) {
        heap_shape sh = {.size = size, .nptrs = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n,
                         .kept_at = (uint32_t)b->nshape_ptrs,
                         .nkept = n < HEAP_SHAPE_KEPT ? (uint32_t)n : HEAP_SHAPE_KEPT, .hash = hash};
        for (size_t i = 0; i < n && i < 4; i++)
            sh.ptrs[i] = (uint32_t)offs[i];
        if (b->nshape_ptrs + sh.nkept > UINT32_MAX ||
            vec_reserve((void **)&h->shape_ptrs, &b->cap_shape_ptrs, b->nshape_ptrs + sh.nkept,
                        sizeof *h->shape_ptrs) < 0)
            return HS_ERR_NOMEM;
        for (uint32_t i = 0; i < sh.nkept; i++)
            h->shape_ptrs[b->nshape_ptrs++] = (uint32_t)offs[i];
        size_t len = h->nshapes;
        if (VEC_PUSH(h->shapes, len, b->cap_shapes, sh) < 0)
            return HS_ERR_NOMEM;
        *slot = h->nshapes++;
    }
    *out = b->last_shape = *slot;
    return HS_OK;
}

/* Resizes the arrival-order object arrays to cap objects together. */
static int resize_objects(builder *b, size_t cap)
{
    void **const arrays[] = {(void **)&b->addr, (void **)&b->func,
                             (void **)&b->shape, (void **)&b->hdr, (void **)&b->estart};
    const size_t elem[] = {sizeof *b->addr, sizeof *b->func,
                           sizeof *b->shape, sizeof *b->hdr, sizeof *b->estart};
    if (vec_resize_parallel(arrays, elem, sizeof elem / sizeof elem[0], cap) < 0)
        return -1;
    b->ncap_obj = cap;
    return 0;
}

void heap_ingest_reserve(builder *b, uint64_t dump_bytes)
{
    /* An object record takes at least 16 bytes of the dump (tag, address, at least 8 bytes of
     * contents, the end of its field list), and each pointer at least its 8 bytes of
     * contents. Failure is harmless: the arrays then grow as they fill. */
    uint64_t objs = dump_bytes / 16 < MAX_OBJECTS ? dump_bytes / 16 : MAX_OBJECTS;
    uint64_t edges = dump_bytes / 8 < GRAPH_MAX_EDGES ? dump_bytes / 8 : GRAPH_MAX_EDGES;
    if (objs > b->ncap_obj)
        (void)resize_objects(b, (size_t)objs);
    if (edges > b->cap_edges)
        (void)resize_edges(b, (size_t)edges);
}

void heap_ingest_trim(builder *b)
{
    size_t n = b->h->nobj, m = b->nedges;
    b->addr = vec_shrink(b->addr, n * sizeof *b->addr);
    b->func = vec_shrink(b->func, n * sizeof *b->func);
    b->shape = vec_shrink(b->shape, n * sizeof *b->shape);
    b->hdr = vec_shrink(b->hdr, n * sizeof *b->hdr);
    b->estart = vec_shrink(b->estart, n * sizeof *b->estart);
    b->eval = vec_shrink(b->eval, m * sizeof *b->eval);
    b->efield = vec_shrink(b->efield, m * sizeof *b->efield);
    b->ncap_obj = n; /* each block holds at least that: vec_shrink keeps it when it fails */
    b->cap_edges = m;
}

/* A candidate code address: inside the text section when the symtab knows it. */
static int in_text(const builder *b, uint64_t w)
{
    const symtab_range *t = &symtab_get_info(b->h->syms)->text;
    return t->end <= t->start || (w >= t->start && w < t->end);
}

static int on_object(builder *b, const gohd_record *rec, hs_error *err)
{
    heap *h = b->h;
    const gohd_memrec *m = &rec->u.object;
    if (h->nobj >= MAX_OBJECTS)
        return hs_error_set(err, HS_ERR_LIMIT, rec->offset, "more than %u objects", MAX_OBJECTS);
    /* Go 1.22+ dumps also list, in pointer-bearing one-page spans of slots <= 512 B, the
     * slots that overlap the span's in-span heap bitmap (its last 128 bytes): they are not
     * objects (docs/go-runtime.md "Malloc headers"). Such a slot is dropped when it has
     * pointer bits, or when an object before it on the same page has (the span scans). */
    uint64_t len0 = m->contents.len, page = m->addr >> 13;
    if (h->layout.malloc_headers && len0 && len0 <= 512) {
        if (m->nptrs)
            b->scan_page = page + 1;
        if ((m->addr & 8191) / len0 >= (8192 - 128) / len0 && (m->nptrs || b->scan_page == page + 1))
            return HS_OK;
    }
    if (h->nobj == b->ncap_obj && resize_objects(b, b->ncap_obj ? 2 * b->ncap_obj : 4096) < 0)
        return heap_build_oom(err, "objects");

    uint32_t i = h->nobj++;
    uint64_t len = m->contents.len, ps = h->ptr_size;
    if (b->nedges > GRAPH_MAX_EDGES)
        return hs_error_set(err, HS_ERR_LIMIT, rec->offset, "more than %u pointers",
                            (unsigned)GRAPH_MAX_EDGES);
    b->estart[i] = (uint32_t)b->nedges;
    b->addr[i] = m->addr;
    b->func[i] = HEAP_NONE;
    b->hdr[i] = 0;
    if (intern_shape(b, len, m->ptr_offsets, m->nptrs, &b->shape[i]) < 0)
        return heap_build_oom(err, "shapes");
    h->total_bytes += len;

    uint64_t w0 = len >= ps ? word_at(b, m->contents.ptr) : 0;
    /* Go 1.22+ malloc header: an object with pointers in a small size class above 512 B
     * starts with its *_type; the program's pointer is slot + 8. A 32 KiB slot may also be a
     * large object (no header): there the word must name a type. */
    if (h->layout.malloc_headers && m->nptrs && len > 512 && len < 32768 && m->ptr_offsets[0] < ps)
        h->header_mismatches++; /* a pointer where the header should be */
    if (h->layout.malloc_headers && m->nptrs && len > 512 && len <= 32768 &&
        m->ptr_offsets[0] >= ps && (len < 32768 || is_type_addr(b, w0))) {
        b->hdr[i] = (uint8_t)ps;
        b->headers = 1;
        type_hint hnt = {i, w0, HEAP_TSRC_HEADER};
        if (VEC_PUSH(b->ohints, b->nohints, b->cap_ohints, hnt) < 0)
            return heap_build_oom(err, "type hints");
        w0 = len >= 2 * ps ? word_at(b, m->contents.ptr + ps) : 0;
    }
    /* A funcval's first word is its code pointer, never a pointer slot (docs/go-runtime.md
     * "The dump stream"); a code word at a function entry marks a heap closure. */
    if (w0 && h->syms && in_text(b, w0) && (m->nptrs == 0 || m->ptr_offsets[0] != b->hdr[i])) {
        const symtab_sym *f = symtab_func_entry(h->syms, w0);
        if (f)
            b->func[i] = (uint32_t)(f - symtab_get(h->syms, SYMTAB_FUNC, 0));
    }
    /* Go 1.24+ weak.Pointer: a pointer-free handle holds the target's address as an integer
     * (1.26+: a 16-byte box of its own; 1.24-1.25: 8 bytes, maybe inside a tiny block). */
    if (h->layout.weak_handles && m->nptrs == 0 && len == 16) {
        for (uint64_t o = 0; o < (h->layout.weak_box ? 8u : 16u); o += ps) {
            uint64_t w = word_at(b, m->contents.ptr + o);
            weak_cand c = {i, w};
            if (w >= h->arena_start && w < h->arena_end &&
                VEC_PUSH(b->weak, b->nweak, b->cap_weak, c) < 0)
                return heap_build_oom(err, "weak handles");
        }
    }
    if (add_slots(b, i, 0, m->contents.ptr, len, m->ptr_offsets, m->nptrs) < 0)
        return heap_build_oom(err, "edges");
    return HS_OK;
}

/* The global node for a data/bss slot address, created on first use. */
int heap_ingest_global_node(builder *b, uint64_t slot, uint32_t *aux, uint64_t *field)
{
    heap *h = b->h;
    symtab_sym anon;
    const symtab_sym *sym = h->syms ? symtab_data_at(h->syms, slot, &anon) : NULL;
    uint64_t key = sym ? sym->addr : slot;
    uint32_t *idx = u64map_upsert(&b->global_of, key, HEAP_NONE);
    if (!idx)
        return HS_ERR_NOMEM;
    *field = slot - key;
    if (*idx != HEAP_NONE) {
        *aux = *idx;
        return HS_OK;
    }
    heap_aux a = {.kind = HEAP_NODE_GLOBAL, .addr = key, .size = sym ? sym->size : h->ptr_size};
    if (sym) {
        a.name = intern(b, sym->name, strlen(sym->name));
        a.anonymous = (uint8_t)sym->anonymous;
    } else {
        char nm[40];
        int n = snprintf(nm, sizeof nm, "data.0x%llx", (unsigned long long)slot);
        a.name = intern(b, nm, (size_t)n);
        a.anonymous = 1;
    }
    if (a.name == HEAP_NONE || add_aux(b, a, idx) < 0)
        return HS_ERR_NOMEM;
    *aux = *idx;
    return HS_OK;
}

static int on_data(builder *b, const gohd_record *rec, hs_error *err)
{
    const gohd_memrec *m = &rec->u.object;
    uint64_t end;
    if (hs_add_ovf(m->addr, m->contents.len, &end) < 0)
        return hs_error_set(err, HS_ERR_FORMAT, rec->offset, "%s record wraps the address space",
                            gohd_tag_name(rec->tag));
    if (rec->tag == GOHD_DATA) {
        b->data_lo = m->addr;
        b->data_hi = end;
    } else {
        b->bss_lo = m->addr;
        b->bss_hi = end;
    }
    uint64_t ps = b->h->ptr_size;
    for (size_t i = 0; i < m->nptrs; i++) {
        uint64_t off = m->ptr_offsets[i];
        if (off > m->contents.len || m->contents.len - off < ps)
            continue;
        uint64_t v = word_at(b, m->contents.ptr + off);
        if (!maybe_pointer(b, v))
            continue;
        uint32_t aux;
        uint64_t field;
        if (heap_ingest_global_node(b, m->addr + off, &aux, &field) < 0)
            return heap_build_oom(err, "globals");
        b->h->aux[aux].root_kind = HEAP_ROOT_GLOBAL;
        /* The edge's field is relative to the symbol, not to the data record. */
        if (add_slots(b, AUX_BIT | aux, field - off, m->contents.ptr, m->contents.len,
                      &m->ptr_offsets[i], 1) < 0)
            return heap_build_oom(err, "edges");
    }
    return HS_OK;
}

/* A root node with edges to the given values. */
static int add_root(builder *b, int kind, uint64_t addr, uint64_t goid, const char *name,
                    const uint64_t *vals, size_t n)
{
    heap_aux a = {.kind = HEAP_NODE_ROOT, .root_kind = (uint8_t)kind, .addr = addr, .goid = goid};
    a.name = intern(b, name, strlen(name));
    uint32_t aux;
    if (a.name == HEAP_NONE || add_aux(b, a, &aux) < 0)
        return HS_ERR_NOMEM;
    uint32_t index;
    for (size_t i = 0; i < n; i++)
        if (add_edge(b, AUX_BIT | aux, i * b->h->ptr_size, vals[i], &index) < 0)
            return HS_ERR_NOMEM;
    return HS_OK;
}

static int on_frame(builder *b, const gohd_record *rec)
{
    heap_aux a = {.kind = HEAP_NODE_FRAME, .root_kind = HEAP_ROOT_FRAME,
                  .addr = rec->u.frame.sp, .size = rec->u.frame.contents.len,
                  .goid = b->cur_goid, .pc = rec->u.frame.pc,
                  .depth = rec->u.frame.depth > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->u.frame.depth};
    a.name = intern(b, (const char *)rec->u.frame.name.ptr, rec->u.frame.name.len);
    uint32_t aux;
    if (a.name == HEAP_NONE || add_aux(b, a, &aux) < 0)
        return HS_ERR_NOMEM;
    if (!b->stk && b->h->syms && !(b->stk = stackobj_new(b->h->syms, b->h->ptr_size)))
        return HS_ERR_NOMEM;
    if (b->stk) {
        b->stk_pending = 1;
        if (stackobj_add_frame(b->stk, aux, rec->u.frame.sp, rec->u.frame.contents.ptr,
                               rec->u.frame.contents.len, rec->u.frame.entry,
                               rec->u.frame.ptr_offsets, rec->u.frame.nptrs) < 0)
            return HS_ERR_NOMEM;
    }
    return add_slots(b, AUX_BIT | aux, 0, rec->u.frame.contents.ptr, rec->u.frame.contents.len,
                     rec->u.frame.ptr_offsets, rec->u.frame.nptrs);
}

/* A pointer a live stack object holds: one more slot of the frame it lies in. */
static int add_stack_slot(void *ctx, uint32_t aux, uint64_t field, uint64_t value)
{
    uint32_t index;
    return add_edge(ctx, AUX_BIT | aux, field, value, &index) < 0 ? HS_ERR_NOMEM : HS_OK;
}

/* The goroutine's frames are all in: its live stack objects' pointers become frame slots. */
int heap_ingest_finish_goroutine(builder *b)
{
    if (!b->stk_pending)
        return HS_OK;
    b->stk_pending = 0;
    return stackobj_finish(b->stk, add_stack_slot, b);
}

static int on_goroutine(builder *b, const gohd_record *rec)
{
    heap *h = b->h;
    b->cur_goid = rec->u.goroutine.goid;
    heap_goroutine g = {.goid = rec->u.goroutine.goid, .addr = rec->u.goroutine.g,
                        .status = (uint32_t)rec->u.goroutine.status,
                        .system = (uint8_t)rec->u.goroutine.is_system};
    g.waitreason = intern(b, (const char *)rec->u.goroutine.waitreason.ptr,
                          rec->u.goroutine.waitreason.len);
    size_t n = h->ngors;
    if (g.waitreason == HEAP_NONE || VEC_PUSH(h->gors, n, b->cap_gors, g) < 0)
        return HS_ERR_NOMEM;
    h->ngors++;
    if (rec->u.goroutine.ctxt) {
        char nm[48];
        snprintf(nm, sizeof nm, "goroutine %llu context", (unsigned long long)g.goid);
        return add_root(b, HEAP_ROOT_CTXT, g.addr, g.goid, nm, &rec->u.goroutine.ctxt, 1);
    }
    return HS_OK;
}

static int on_finalizer(builder *b, const gohd_record *rec)
{
    heap *h = b->h;
    uint64_t obj = rec->u.finalizer.obj, fn = rec->u.finalizer.fn;
    if (rec->tag == GOHD_QFINALIZER) {
        char nm[64];
        snprintf(nm, sizeof nm, "queued finalizer of 0x%llx", (unsigned long long)obj);
        uint64_t vals[2] = {obj, fn};
        return add_root(b, HEAP_ROOT_QFINALIZER, obj, 0, nm, vals, 2);
    }
    heap_finalizer f = {.obj = HEAP_NONE, .fn = HEAP_NONE, .obj_addr = obj, .fn_addr = fn,
                        .fnpc = rec->u.finalizer.fnpc, .fn_name = HEAP_NONE};
    if (h->syms) {
        const symtab_sym *s = symtab_func_at(h->syms, f.fnpc);
        if (s)
            f.fn_name = intern(b, s->name, strlen(s->name));
    }
    size_t n = h->nfins;
    if (VEC_PUSH(h->fins, n, b->cap_fins, f) < 0)
        return HS_ERR_NOMEM;
    h->nfins++;
    /* The object type from the finalizer record: ot is *T, the object is a T. */
    if (rec->u.finalizer.ot) {
        type_hint hnt = {obj, rec->u.finalizer.ot, HEAP_TSRC_FINALIZER};
        if (VEC_PUSH(b->ohints, b->nohints, b->cap_ohints, hnt) < 0)
            return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* The site of a memprof bucket: its first frame outside the runtime (the allocating code). */
static int on_memprof(builder *b, const gohd_record *rec)
{
    const gohd_stackloc *loc = NULL;
    for (uint64_t i = 0; i < rec->u.memprof.nstk; i++) {
        const gohd_stackloc *l = &rec->u.memprof.stack[i];
        loc = l;
        if (l->func.len < 8 || memcmp(l->func.ptr, "runtime.", 8) != 0)
            break;
    }
    if (!loc)
        return HS_OK;
    const char *file = (const char *)loc->file.ptr;
    size_t flen = loc->file.len;
    for (size_t i = flen; i > 0; i--)
        if (file[i - 1] == '/') {
            file += i;
            flen -= i;
            break;
        }
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%.*s %.*s:%llu", (int)(loc->func.len > 300 ? 300 : loc->func.len),
                     (const char *)loc->func.ptr, (int)(flen > 150 ? 150 : flen), file,
                     (unsigned long long)loc->line);
    uint32_t site = intern(b, buf, n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n);
    if (site == HEAP_NONE || u64map_put(&b->bucket_site, rec->u.memprof.bucket, site) < 0)
        return HS_ERR_NOMEM;
    return HS_OK;
}

int heap_ingest_record(builder *b, const gohd_record *rec, hs_error *err)
{
    heap *h = b->h;
    int rc = HS_OK;
    char nm[64];
    if (rec->tag != GOHD_FRAME && heap_ingest_finish_goroutine(b) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, rec->offset,
                            "heap model: out of memory for stack objects");
    if (h->syms && (rc = bincheck_record(h->syms, rec, err)) < 0) /* symbols of another program? */
        return rc;
    switch (rec->tag) {
    case GOHD_PARAMS: {
        size_t n = rec->u.params.goversion.len < sizeof h->go_version - 1
                       ? rec->u.params.goversion.len : sizeof h->go_version - 1;
        memcpy(h->go_version, rec->u.params.goversion.ptr, n);
        h->go_version[n] = '\0';
        h->go_minor = symtab_go_minor(h->go_version);
        h->layout = golayout_of(h->go_minor);
        n = rec->u.params.goarch.len < sizeof h->goarch - 1 ? rec->u.params.goarch.len
                                                             : sizeof h->goarch - 1;
        memcpy(h->goarch, rec->u.params.goarch.ptr, n);
        h->goarch[n] = '\0';
        if (rec->u.params.ptr_size != 4 && rec->u.params.ptr_size != 8)
            return hs_error_set(err, HS_ERR_UNSUPPORTED, rec->offset, "pointer size %llu",
                                (unsigned long long)rec->u.params.ptr_size);
        h->ptr_size = (uint32_t)rec->u.params.ptr_size;
        b->big_endian = rec->u.params.big_endian;
        h->arena_start = rec->u.params.arena_start;
        h->arena_end = rec->u.params.arena_end;
        break;
    }
    case GOHD_OBJECT: return on_object(b, rec, err);
    case GOHD_DATA:
    case GOHD_BSS: return on_data(b, rec, err);
    case GOHD_FRAME: rc = on_frame(b, rec); break;
    case GOHD_GOROUTINE: rc = on_goroutine(b, rec); break;
    case GOHD_FINALIZER:
    case GOHD_QFINALIZER: rc = on_finalizer(b, rec); break;
    case GOHD_ITAB: {
        size_t n = b->nitabs;
        if (VEC_PUSH(b->itab_types, n, b->cap_itabs, rec->u.itab.type) < 0 ||
            u64map_put(&b->itab_idx, rec->u.itab.itab, (uint32_t)b->nitabs) < 0)
            rc = HS_ERR_NOMEM;
        else {
            uint64_t a = rec->u.itab.itab;
            b->itab_lo = !b->nitabs || a < b->itab_lo ? a : b->itab_lo;
            b->itab_hi = a > b->itab_hi ? a : b->itab_hi;
            b->nitabs++;
        }
        break;
    }
    case GOHD_MEMPROF: rc = on_memprof(b, rec); break;
    case GOHD_ALLOC_SAMPLE: {
        uint32_t site;
        if (!u64map_get(&b->bucket_site, rec->u.alloc_sample.bucket, &site))
            break;
        size_t n = b->nsamples;
        if (VEC_PUSH(b->sample_obj, n, b->cap_sample_obj, rec->u.alloc_sample.obj) < 0 ||
            VEC_PUSH(b->sample_site, b->nsamples, b->cap_sample_site, site) < 0)
            rc = HS_ERR_NOMEM;
        break;
    }
    case GOHD_TYPE: {
        uint32_t name = intern(b, (const char *)rec->u.type.name.ptr, rec->u.type.name.len);
        rc = name == HEAP_NONE || u64map_put(&b->type_rec, rec->u.type.addr, name) < 0
                 ? HS_ERR_NOMEM : HS_OK;
        break;
    }
    case GOHD_OTHER_ROOT: {
        size_t n = rec->u.other_root.description.len < sizeof nm - 1
                       ? rec->u.other_root.description.len : sizeof nm - 1;
        memcpy(nm, rec->u.other_root.description.ptr, n);
        nm[n] = '\0';
        rc = add_root(b, HEAP_ROOT_OTHER, rec->u.other_root.addr, 0, nm, &rec->u.other_root.addr, 1);
        break;
    }
    case GOHD_DEFER: {
        snprintf(nm, sizeof nm, "defer in goroutine %llu", (unsigned long long)b->cur_goid);
        uint64_t vals[2] = {rec->u.defer.d, rec->u.defer.fn};
        rc = add_root(b, HEAP_ROOT_DEFER, rec->u.defer.d, b->cur_goid, nm, vals, 2);
        break;
    }
    case GOHD_PANIC: {
        snprintf(nm, sizeof nm, "panic in goroutine %llu", (unsigned long long)b->cur_goid);
        uint64_t vals[2] = {rec->u.panic.p, rec->u.panic.argdata};
        rc = add_root(b, HEAP_ROOT_PANIC, rec->u.panic.p, b->cur_goid, nm, vals, 2);
        break;
    }
    default:
        break;
    }
    if (rc < 0)
        return hs_error_set(err, rc, rec->offset, "building the heap model from a %s record",
                            gohd_tag_name(rec->tag));
    return HS_OK;
}
