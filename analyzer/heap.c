/* heap.c - builds the heap model in one streaming pass over the dump.
 *
 * The pass appends objects in dump order and records every pointer slot worth keeping as a
 * raw edge (field offset and value; an object's edges are contiguous, so the source is
 * implied) plus, where an interface word sits before a pointer, a type hint for the pointee.
 * Edges of other nodes (globals, frames, roots) are few and kept apart with their source.
 * After the pass, objects are put in address order, an address index resolves edge values to
 * nodes, and the edges are laid out as CSR adjacency in address order, which the graph module
 * adopts without a copy. The reverse adjacency is left to the caller (heap_build_reverse), so
 * that work needing only forward edges can start first. Fresh pages cost a fault each: the
 * build's dead arrays are reused for the next ones (sorted sizes in the arrival addresses,
 * edge fields in the applied hints, ...) or kept for the caller (heap_take_spare).
 */
#include "heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addrindex.h"
#include "gotype.h"
#include "par.h"
#include "stackobj.h"
#include "vec.h"

#define AUX_BIT 0x80000000u    /* edge source: aux node index instead of object index */
#define MAX_OBJECTS 0x7ffffff0u
#define PAR_MIN_EDGES 100000   /* below this, passes over edges or objects use one thread */

/* A pointer-free 16-byte object whose word may be a weak handle's target. */
typedef struct weak_cand {
    uint32_t at;     /* arrival index */
    uint64_t target; /* the address it holds */
} weak_cand;

/* An edge of a non-object node. */
typedef struct aux_edge {
    uint32_t src;   /* aux index */
    uint32_t field; /* byte offset of the slot in its source */
    uint64_t val;   /* the pointer value, then the target node */
} aux_edge;

/* Evidence of an object's type, applied once objects are sorted. `at` is, by source:
 * HEAP_TSRC_IFACE the object it types,
 * HEAP_TSRC_HEADER the arrival index of the object, HEAP_TSRC_FINALIZER its address. */
typedef struct type_hint {
    uint64_t at;
    uint64_t typeaddr; /* descriptor of the dynamic type */
    uint8_t src;       /* heap_type_src */
} type_hint;

/* An interface word seen before a kept pointer: its edge, and the dynamic type's descriptor
 * (an index into builder.descs; with AUX_BIT, the edge is an aux edge). 8 bytes, as a heap
 * can hold millions of interfaces. */
typedef struct iface_hint {
    uint32_t edge;
    uint32_t desc;
} iface_hint;

typedef struct builder {
    heap *h;
    source *s;
    int big_endian;
    /* objects in arrival order */
    size_t ncap_obj;
    uint64_t *addr;       /* sizes are in the shapes */
    uint32_t *func, *shape;
    uint8_t *hdr;
    /* edges: object edges by index; edges of other nodes (src has AUX_BIT) apart */
    uint64_t *eval;      /* object edges in arrival order: the pointer value, then the target */
    uint32_t *efield;    /* byte offset of the slot in its object (12 bytes per edge in all) */
    size_t nedges, cap_edges;
    uint32_t *estart;    /* per arrival object: index of its first edge */
    aux_edge *aux_edges; /* edges of other nodes */
    size_t naux_edges, cap_aux_edges;
    uint64_t *outside;   /* edge values outside the arena: globals they may need */
    size_t noutside, cap_outside;
    int headers;         /* some object has a Go 1.22+ malloc header */
    uint64_t scan_page;  /* 1 + the last 8 KiB page with a small object with pointers */
    stackobj_goroutine *stk; /* the current goroutine's frames, for its stack objects */
    int stk_pending;     /* frames added since the last stackobj_finish */
    weak_cand *weak;     /* possible weak handles: (arrival index, the address they hold) */
    size_t nweak, cap_weak;
    iface_hint *hints;   /* interface hints, in stream order */
    size_t nhints, cap_hints;
    uint64_t *descs;     /* type descriptors the interface hints name */
    size_t ndescs, cap_descs;
    u64map desc_idx;     /* descriptor -> index in descs */
    uint32_t last_desc;
    type_hint *ohints;   /* malloc-header and finalizer hints */
    size_t nohints, cap_ohints;
    /* aux nodes */
    size_t cap_aux;
    u64map global_of;  /* symbol address (or slot address without symbols) -> aux index */
    u64map itab_idx;   /* itab address -> index in itab_types (tag 8) */
    uint64_t *itab_types;
    size_t nitabs, cap_itabs;
    u64map type_rec;   /* tag-3 type address -> strpool name offset */
    u64map type_idx;   /* descriptor address -> index in h->types */
    u64map shape_idx;  /* shape hash -> index in h->shapes */
    uint32_t last_shape;
    u64map hint_cache; /* (descriptor, header?) -> resolved type index */
    size_t cap_shapes, cap_fins, cap_gors, cap_roots;
    uint64_t cur_goid;
    /* data/bss extents seen in the dump */
    uint64_t data_lo, data_hi, bss_lo, bss_hi;
    /* allocation samples: memprof bucket -> site, then (object, site) pairs */
    u64map bucket_site;
    uint64_t *sample_obj;
    uint32_t *sample_site;
    size_t nsamples, cap_sample_obj, cap_sample_site;
    struct timespec clock; /* start of the current build step */
} builder;

const char *heap_root_kind_name(int kind)
{
    static const char *names[HEAP_ROOT_NKINDS] = {
        "none", "global", "stack frame", "other root", "goroutine context",
        "defer", "panic", "queued finalizer", "finalizer",
    };
    return kind >= 0 && kind < HEAP_ROOT_NKINDS ? names[kind] : "unknown";
}

const char *heap_type_src_name(int src)
{
    switch (src) {
    case HEAP_TSRC_IFACE: return "interface";
    case HEAP_TSRC_FINALIZER: return "finalizer";
    case HEAP_TSRC_HEADER: return "malloc header";
    case HEAP_TSRC_LAYOUT: return "container layout";
    default: return "none";
    }
}

const char *heap_step_name(int step)
{
    static const char *const names[HEAP_NSTEPS] = {"stream", "sort", "resolve", "graph",
                                                    "reverse"};
    return step >= 0 && step < HEAP_NSTEPS ? names[step] : "?";
}

/* Adds the time since *t to the step and restarts *t. */
static void step_done(heap *h, heap_step step, struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    h->step_seconds[step] += (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
    *t = now;
}

static int oom(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "out of memory building %s", what);
}

static uint64_t word_at(const builder *b, const uint8_t *p)
{
    return gohd_word(p, b->h->ptr_size, b->big_endian);
}

static int in_data_range(const builder *b, uint64_t v)
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
    return in_data_range(b, v);
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

static uint64_t *edge_val(const builder *b, size_t i)
{
    return &b->eval[i];
}

static uint32_t edge_field(const builder *b, size_t i)
{
    return b->efield[i];
}

/* The value of an interface hint's edge. */
static uint64_t *hint_val(const builder *b, const iface_hint *t)
{
    return t->desc & AUX_BIT ? &b->aux_edges[t->edge].val : edge_val(b, t->edge);
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
    if (b->nedges == b->cap_edges) {
        /* Doubling: past the allocator's mmap threshold a realloc moves pages, not bytes. */
        size_t cap = b->cap_edges ? 2 * b->cap_edges : 65536;
        void **const arrays[] = {(void **)&b->eval, (void **)&b->efield};
        const size_t elem[] = {sizeof *b->eval, sizeof *b->efield};
        if (vec_resize_parallel(arrays, elem, 2, cap) < 0)
            return HS_ERR_NOMEM;
        b->cap_edges = cap;
    }
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
 * word (not itself a pointer slot: GO-RUNTIME.md "Traps") precedes a data word. */
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
        if (is_type_addr(b, w))
            t = w; /* eface: the type word */
        else if (u64map_get(&b->itab_idx, w, &k))
            t = b->itab_types[k]; /* iface: the itab names the dynamic type */
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
        heap_shape sh = {.size = size, .nptrs = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n, .hash = hash};
        for (size_t i = 0; i < n && i < 4; i++)
            sh.ptrs[i] = (uint32_t)offs[i];
        size_t len = h->nshapes;
        if (VEC_PUSH(h->shapes, len, b->cap_shapes, sh) < 0)
            return HS_ERR_NOMEM;
        *slot = h->nshapes++;
    }
    *out = b->last_shape = *slot;
    return HS_OK;
}

/* Doubles the capacity of the arrival-order object arrays together. */
static int grow_objects(builder *b)
{
    size_t cap = b->ncap_obj ? b->ncap_obj * 2 : 4096;
    void **const arrays[] = {(void **)&b->addr, (void **)&b->func,
                             (void **)&b->shape, (void **)&b->hdr, (void **)&b->estart};
    const size_t elem[] = {sizeof *b->addr, sizeof *b->func,
                           sizeof *b->shape, sizeof *b->hdr, sizeof *b->estart};
    if (vec_resize_parallel(arrays, elem, sizeof elem / sizeof elem[0], cap) < 0)
        return -1;
    b->ncap_obj = cap;
    return 0;
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
    if (h->nobj == b->ncap_obj && grow_objects(b) < 0)
        return oom(err, "objects");

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
        return oom(err, "shapes");
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
            return oom(err, "type hints");
        w0 = len >= 2 * ps ? word_at(b, m->contents.ptr + ps) : 0;
    }
    /* A funcval's first word is its code pointer, never a pointer slot (GO-RUNTIME.md
     * "Closures"); a code word at a function entry marks a heap closure. */
    if (w0 && h->syms && in_text(b, w0) && (m->nptrs == 0 || m->ptr_offsets[0] != b->hdr[i])) {
        const symtab_sym *f = symtab_func_entry(h->syms, w0);
        if (f)
            b->func[i] = (uint32_t)(f - symtab_get(h->syms, SYMTAB_FUNC, 0));
    }
    /* Go 1.24+ weak.Pointer: a pointer-free handle holds the target's address as an integer
     * (1.26+: a 16-byte box of its own; 1.24-1.25: 8 bytes, maybe inside a tiny block). */
    if (h->layout.weak_handles && m->nptrs == 0 && len == 16) {
        for (uint64_t o = 0; o < (h->go_minor >= 26 ? 8u : 16u); o += ps) {
            uint64_t w = word_at(b, m->contents.ptr + o);
            weak_cand c = {i, w};
            if (w >= h->arena_start && w < h->arena_end &&
                VEC_PUSH(b->weak, b->nweak, b->cap_weak, c) < 0)
                return oom(err, "weak handles");
        }
    }
    if (add_slots(b, i, 0, m->contents.ptr, len, m->ptr_offsets, m->nptrs) < 0)
        return oom(err, "edges");
    return HS_OK;
}

/* The global node for a data/bss slot address, created on first use. */
static int global_node(builder *b, uint64_t slot, uint32_t *aux, uint64_t *field)
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
        if (global_node(b, m->addr + off, &aux, &field) < 0)
            return oom(err, "globals");
        b->h->aux[aux].root_kind = HEAP_ROOT_GLOBAL;
        /* The edge's field is relative to the symbol, not to the data record. */
        if (add_slots(b, AUX_BIT | aux, field - off, m->contents.ptr, m->contents.len,
                      &m->ptr_offsets[i], 1) < 0)
            return oom(err, "edges");
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
                  .goid = b->cur_goid,
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
static int finish_goroutine(builder *b)
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


static int on_record(builder *b, const gohd_record *rec, hs_error *err)
{
    heap *h = b->h;
    int rc = HS_OK;
    char nm[64];
    if (rec->tag != GOHD_FRAME && finish_goroutine(b) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, rec->offset, "out of memory for stack objects");
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
        else
            b->nitabs++;
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

/* ---- after the pass: sort, index, resolve ---- */

/* An ascending run of objects in dump order within one 8 KiB page. The runtime writes the
 * heap span by span, each in address order, and spans are disjoint sets of pages: runs cut at
 * page boundaries never interleave, though whole spans come in any order. */
typedef struct addr_run {
    uint64_t first, last; /* addresses of its first and last object */
    uint32_t start, len;  /* arrival indices */
} addr_run;

#define RUN_PAGE_SHIFT 13

static int run_ends(const uint64_t *addr, uint32_t n, uint32_t i)
{
    return i + 1 == n || addr[i + 1] < addr[i] ||
           (addr[i + 1] >> RUN_PAGE_SHIFT) != (addr[i] >> RUN_PAGE_SHIFT);
}

static int run_cmp(const void *x, const void *y)
{
    const addr_run *a = x, *b = y;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* Fills perm by putting the dump's runs in order. Returns 1 on success, 0 when the runs
 * interleave (not a dump the runtime wrote) or are too many to be worth it, -1 when out of
 * memory. */
static int sort_by_runs(const uint64_t *addr, uint32_t n, uint32_t *perm)
{
    size_t nruns = 0;
    for (uint32_t i = 0; i < n; i++)
        if (run_ends(addr, n, i) && ++nruns > n / 4 + 1)
            return 0;
    addr_run *runs = malloc(nruns * sizeof *runs + 1);
    if (!runs)
        return -1;
    size_t r = 0;
    for (uint32_t i = 0, start = 0; i < n; i++)
        if (run_ends(addr, n, i)) {
            runs[r++] = (addr_run){addr[start], addr[i], start, i + 1 - start};
            start = i + 1;
        }
    qsort(runs, nruns, sizeof *runs, run_cmp);
    int ok = 1;
    for (size_t k = 1; k < nruns && ok; k++)
        ok = runs[k - 1].last < runs[k].first;
    for (size_t k = 0, j = 0; k < nruns && ok; k++)
        for (uint32_t i = 0; i < runs[k].len; i++)
            perm[j++] = runs[k].start + i;
    free(runs);
    return ok;
}

/* Sorts objects by address and returns the permutation perm[sorted index] = arrival index
 * in an array of room >= n entries (NULL when out of memory). Linear: the dump's ascending runs put in order when they do not
 * interleave, else an LSD radix sort on 11-bit digits of the offset from the lowest address
 * (in 8-byte words when every address is aligned: a heap under 16 GiB takes 3 passes). */
static uint32_t *sort_objects(const uint64_t *addr, uint32_t n, size_t room)
{
    uint32_t *perm = malloc(room * sizeof *perm + 1);
    if (!perm)
        return NULL;
    int rc = sort_by_runs(addr, n, perm);
    if (rc != 0) {
        if (rc < 0) {
            free(perm);
            perm = NULL;
        }
        return perm;
    }
    uint64_t lo = UINT64_MAX, hi = 0, misaligned = 0;
    for (uint32_t i = 0; i < n; i++) {
        lo = addr[i] < lo ? addr[i] : lo;
        hi = addr[i] > hi ? addr[i] : hi;
        misaligned |= addr[i] & 7;
    }
    unsigned scale = misaligned ? 0 : 3, passes = 0;
    for (uint64_t span = (hi - lo) >> scale; span; span >>= 11)
        passes++;
    typedef struct pair { uint64_t key; uint32_t idx; } pair;
    pair *a = malloc((size_t)n * sizeof *a), *t = malloc((size_t)n * sizeof *t);
    uint32_t *count = malloc(2048 * sizeof *count);
    if (!a || !t || !count) {
        free(a);
        free(t);
        free(count);
        free(perm);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        a[i] = (pair){(addr[i] - lo) >> scale, i};
    for (unsigned p = 0; p < passes; p++) {
        unsigned shift = 11 * p;
        memset(count, 0, 2048 * sizeof *count);
        for (uint32_t i = 0; i < n; i++)
            count[(a[i].key >> shift) & 2047]++;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < 2048; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++)
            t[count[(a[i].key >> shift) & 2047]++] = a[i];
        pair *x = a;
        a = t;
        t = x;
    }
    for (uint32_t i = 0; i < n; i++)
        perm[i] = a[i].idx;
    free(a);
    free(t);
    free(count);
    return perm;
}

/* Keeps a dead array of `bytes` for heap_take_spare (frees it when every slot is taken). */
static void add_spare(heap *h, void *p, size_t bytes)
{
    for (int i = 0; i < HEAP_NSPARE; i++)
        if (!h->spare[i]) {
            h->spare[i] = p;
            h->spare_bytes[i] = bytes;
            return;
        }
    free(p);
}

typedef struct gather_ctx {
    builder *b;
    const uint32_t *perm;
    uint32_t *inv;
    uint64_t *size;
    uint32_t *shape;
    uint8_t *hdr;
    int pass;
    uint8_t overlap[PAR_MAX_PARTS]; /* pass 1, per part: an object overlaps the next */
} gather_ctx;

/* Copies the objects perm[lo, hi) names into sorted positions lo..hi-1: in pass 0 addresses
 * and closure functions, in pass 1 sizes, shapes and headers (and whether any object
 * overlaps the next). */
static void gather_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    gather_ctx *c = ctx;
    const builder *b = c->b;
    heap *h = b->h;
    for (size_t k = lo; k < hi; k++) {
        uint32_t a = c->perm[k];
        if (c->pass == 0) {
            c->inv[a] = (uint32_t)k;
            h->obj_addr[k] = b->addr[a];
            h->obj_func[k] = b->func[a];
        } else {
            c->size[k] = h->shapes[b->shape[a]].size;
            c->shape[k] = b->shape[a];
            c->hdr[k] = b->hdr[a];
            if (k + 1 < h->nobj && h->obj_addr[k + 1] - h->obj_addr[k] < c->size[k])
                c->overlap[part] = 1;
        }
    }
}

/* Reorders the per-object arrays into address order (in parallel), then drops objects that
 * overlap their predecessor (a hostile or inconsistent dump); fills arrival -> sorted (or
 * HEAP_NONE). The second pass writes into the memory the first one freed of its sources:
 * touched pages are cheaper than fresh ones. */
static int order_objects(builder *b, uint32_t **sorted_of, uint32_t **arrival_of)
{
    heap *h = b->h;
    uint32_t n = h->nobj;
    /* Room for every node: once dead, these two serve as spare memory (heap_take_spare). */
    size_t room = (size_t)n + h->naux + 1;
    uint32_t *perm = sort_objects(b->addr, n, room);
    uint32_t *inv = malloc(room * sizeof *inv + 1);
    h->obj_addr = malloc((size_t)n * sizeof *h->obj_addr + 1);
    h->obj_func = malloc((size_t)n * sizeof *h->obj_func + 1);
    uint8_t *hdr = malloc((size_t)n + 1);
    if (!perm || !inv || !h->obj_addr || !h->obj_func || !hdr) {
        free(perm);
        free(inv);
        free(hdr);
        return HS_ERR_NOMEM;
    }
    gather_ctx gc = {b, perm, inv, NULL, NULL, hdr, 0, {0}};
    par_for(n, PAR_MIN_EDGES, gather_part, &gc);
    /* Arrival addresses and functions are dead: sizes (8 bytes) and shapes (4) go there. */
    gc.size = vec_shrink(b->addr, (size_t)n * sizeof *gc.size + 1);
    gc.shape = vec_shrink(b->func, (size_t)n * sizeof *gc.shape + 1);
    b->addr = NULL;
    b->func = NULL;
    gc.pass = 1;
    par_for(n, PAR_MIN_EDGES, gather_part, &gc);
    uint64_t *size = gc.size;
    h->obj_size = size;
    h->obj_shape = gc.shape;
    h->obj_hdr = hdr;
    int overlap = 0;
    for (unsigned p = 0; p < PAR_MAX_PARTS; p++)
        overlap |= gc.overlap[p];
    uint32_t k = overlap ? 0 : n;
    for (uint32_t i = k; i < n; i++) {
        if (k && h->obj_addr[i] < h->obj_addr[k - 1] + size[k - 1]) {
            inv[perm[i]] = HEAP_NONE;
            continue;
        }
        if (k != i) {
            inv[perm[i]] = k;
            perm[k] = perm[i]; /* perm becomes sorted -> arrival for the kept objects */
            h->obj_addr[k] = h->obj_addr[i];
            size[k] = size[i];
            h->obj_hdr[k] = h->obj_hdr[i];
            h->obj_func[k] = h->obj_func[i];
            h->obj_shape[k] = h->obj_shape[i];
        }
        k++;
    }
    h->nobj = k;
    *arrival_of = perm;
    *sorted_of = inv;
    /* Arrival shapes and headers are dead too: types (4 bytes) and their sources (1) go
     * there (finish sets them). */
    h->obj_type = vec_shrink(b->shape, (size_t)n * sizeof *h->obj_type + 1);
    h->obj_tsrc = vec_shrink(b->hdr, (size_t)n + 1);
    b->hdr = NULL;
    b->shape = NULL;
    return HS_OK;
}

/* Address index: the rank bitmap when the heap qualifies (every real Go heap does), else
 * binary search over all objects. The bitmap may cost up to 32 bytes per object (or 32 MiB):
 * more means a span of addresses so sparse that searching is the better deal. */
static int build_address_index(builder *b)
{
    heap *h = b->h;
    size_t max_bytes = (size_t)h->nobj * 32;
    return addrindex_build(h->obj_addr, h->obj_size, h->nobj,
                           max_bytes > ((size_t)32 << 20) ? max_bytes : (size_t)32 << 20, &h->aix);
}

uint32_t heap_object_at(const heap *h, uint64_t addr)
{
    if (h->aix)
        return addrindex_find(h->aix, addr);
    uint32_t lo = 0, hi = h->nobj, found = HEAP_NONE;
    while (lo < hi) { /* last object whose address is <= addr */
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->obj_addr[mid] <= addr) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (found == HEAP_NONE || addr - h->obj_addr[found] >= h->obj_size[found])
        return HEAP_NONE;
    return found;
}

static uint32_t global_at(const heap *h, const u64map *global_of, uint64_t addr)
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

uint32_t heap_node_at(const heap *h, uint64_t addr)
{
    uint32_t o = heap_object_at(h, addr);
    if (o != HEAP_NONE || !h->syms)
        return o;
    symtab_sym anon;
    const symtab_sym *sym = symtab_data_at(h->syms, addr, &anon);
    if (!sym)
        return HEAP_NONE;
    for (uint32_t i = 0; i < h->naux; i++) /* globals are few; callers are not hot paths */
        if (h->aux[i].kind == HEAP_NODE_GLOBAL && h->aux[i].addr == sym->addr)
            return h->nobj + i;
    return HEAP_NONE;
}

/* Makes sure every pointer into data/bss has a global node to land on. */
static int ensure_global_targets(builder *b)
{
    for (size_t i = 0; i < b->noutside; i++) {
        uint64_t v = b->outside[i];
        if (!in_data_range(b, v))
            continue;
        uint32_t aux;
        uint64_t field;
        if (global_node(b, v, &aux, &field) < 0)
            return HS_ERR_NOMEM;
    }
    return HS_OK;
}

static void free_edges(builder *b)
{
    free(b->eval);
    free(b->efield);
    b->eval = NULL;
    b->efield = NULL;
    b->nedges = b->cap_edges = 0;
    free(b->aux_edges);
    b->aux_edges = NULL;
    b->naux_edges = 0;
}

static uint32_t resolve_hint_type(builder *b, const type_hint *t);

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
    return dst != HEAP_NONE ? dst : global_at(b->h, &b->global_of, v);
}

/* Interface hints ride on the resolution of their edges: before it, the raw value of each
 * hinted edge gets HINT_MARK (no pointer kept as an edge has bit 63 set: they lie in the
 * arena or the data sections); resolving such a value also tells whether it points at the
 * start of its object (AT_START beside the node id), which is all a hint needs. */
#define HINT_MARK ((uint64_t)1 << 63)
#define AT_START ((uint64_t)1 << 32)

static void mark_hinted_edges(builder *b)
{
    for (size_t k = 0; k < b->nhints; k++)
        *hint_val(b, &b->hints[k]) |= HINT_MARK;
}

/* Types the objects interface words point at (their edges are resolved: see HINT_MARK): names
 * each distinct descriptor once, then gives the types with the objects prefetched. */
static int apply_iface_hints(builder *b)
{
    heap *h = b->h;
    const iface_hint *hs = b->hints;
    enum { AHEAD = 16 };
    uint32_t *desc_type = malloc(b->ndescs * sizeof *desc_type + 1);
    if (!desc_type)
        return HS_ERR_NOMEM;
    for (size_t d = 0; d < b->ndescs; d++)
        desc_type[d] = resolve_hint_type(b, &(type_hint){0, b->descs[d], HEAP_TSRC_IFACE});
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
        if ((v & AT_START) && ti != HEAP_NONE && h->obj_tsrc[obj] < HEAP_TSRC_IFACE) {
            h->obj_type[obj] = ti;
            h->obj_tsrc[obj] = HEAP_TSRC_IFACE;
        }
    }
    free(desc_type);
    return HS_OK;
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
            addrindex_prefetch(b->h->aix, *edge_val(b, i + AHEAD) & ~HINT_MARK);
        uint64_t *v = edge_val(b, i);
        *v = resolve_edge_value(b, *v);
    }
}

/* Resolves every edge in place: the value becomes the target node, or HEAP_NONE. Pointers
 * from named globals into anonymous statics keep their value (heap_static_ptr). */
static int resolve_edges(builder *b)
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
            return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* The CSR layout of object edges, filled in parallel over ranges of objects. */
typedef struct layout_ctx {
    const builder *b;
    const uint32_t *arrival_of;
    uint32_t narrival;
    uint32_t *off, *dst, *fld;
    int copy; /* 0: count each object's kept edges into off[k + 1]; 1: copy them */
} layout_ctx;

static void layout_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    const layout_ctx *c = ctx;
    const builder *b = c->b;
    (void)part;
    for (size_t k = lo; k < hi; k++) {
        uint32_t a = c->arrival_of[k], m = c->copy ? c->off[k] : 0;
        size_t end = a + 1 < c->narrival ? b->estart[a + 1] : b->nedges;
        for (size_t i = b->estart[a]; i < end; i++) {
            uint64_t d = *edge_val(b, i);
            if (d == HEAP_NONE)
                continue;
            if (c->copy) {
                c->dst[m] = (uint32_t)d;
                c->fld[m] = edge_field(b, i);
            }
            m++;
        }
        if (!c->copy)
            c->off[k + 1] = m;
    }
}

/* Lays the resolved edges out as CSR adjacency in node order (objects by address, each with
 * its edges in slot order, then the other nodes, each with its edges in dump order) and hands
 * the arrays to the graph, which adopts them without a copy. */
static int build_graph(builder *b, const uint32_t *arrival_of, uint32_t narrival, hs_error *err)
{
    heap *h = b->h;
    uint32_t n = h->nnodes = h->nobj + h->naux, nobj = h->nobj;
    size_t cap = b->nedges + b->naux_edges;
    if (cap > GRAPH_MAX_EDGES)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "more than %u pointers",
                            (unsigned)GRAPH_MAX_EDGES);
    uint32_t *off = malloc(((size_t)n + 1) * sizeof *off);
    uint32_t *dst = malloc(cap * sizeof *dst + 1), *fld;
    /* The interface hints are applied: their array's memory, touched already, takes the
     * fields when it is large enough (fresh pages cost a fault each). */
    if (b->cap_hints * sizeof *b->hints >= cap * sizeof *fld + 1) {
        fld = vec_shrink(b->hints, cap * sizeof *fld + 1);
    } else {
        free(b->hints);
        fld = malloc(cap * sizeof *fld + 1);
    }
    b->hints = NULL;
    b->nhints = b->cap_hints = 0;
    uint32_t *cursor = calloc((size_t)h->naux + 1, sizeof *cursor);
    if (!off || !dst || !fld || !cursor) {
        free(off);
        free(dst);
        free(fld);
        free(cursor);
        return oom(err, "the graph");
    }
    off[0] = 0;
    layout_ctx lc = {b, arrival_of, narrival, off, dst, fld, 0};
    par_for(nobj, PAR_MIN_EDGES, layout_part, &lc);
    for (uint32_t k = 0; k < nobj; k++)
        off[k + 1] += off[k];
    lc.copy = 1;
    par_for(nobj, PAR_MIN_EDGES, layout_part, &lc);
    /* Other nodes' edges: a stable counting sort by source. */
    for (size_t j = 0; j < b->naux_edges; j++)
        if (b->aux_edges[j].val != HEAP_NONE)
            cursor[b->aux_edges[j].src]++;
    for (uint32_t x = 0; x < h->naux; x++) {
        off[nobj + x + 1] = off[nobj + x] + cursor[x];
        cursor[x] = off[nobj + x];
    }
    for (size_t j = 0; j < b->naux_edges; j++) {
        const aux_edge *e = &b->aux_edges[j];
        if (e->val != HEAP_NONE) {
            uint32_t pos = cursor[e->src]++;
            dst[pos] = (uint32_t)e->val;
            fld[pos] = e->field;
        }
    }
    free(cursor);
    uint32_t m = off[n];
    /* The graph's memory peak: drop the raw edges first, but keep their arrays' memory
     * (touched already) for later big arrays: see heap_take_spare. */
    add_spare(h, b->eval, b->cap_edges * sizeof *b->eval);
    add_spare(h, b->efield, b->cap_edges * sizeof *b->efield);
    add_spare(h, b->estart, b->ncap_obj * sizeof *b->estart);
    b->eval = NULL;
    b->efield = NULL;
    b->estart = NULL;
    free_edges(b);
    dst = vec_shrink(dst, (size_t)m * sizeof *dst + 1);
    fld = vec_shrink(fld, (size_t)m * sizeof *fld + 1);
    /* The graph holds the node sizes (objects' slot sizes, 0 for the rest): keep one copy. */
    uint64_t *size = realloc((void *)h->obj_size, (size_t)n * sizeof *size + 1);
    if (!size) {
        free(off);
        free(dst);
        free(fld);
        return oom(err, "the graph");
    }
    memset(size + nobj, 0, (size_t)h->naux * sizeof *size);
    h->obj_size = NULL;
    int rc = graph_adopt(n, m, off, dst, fld, size, &h->g, err);
    h->obj_size = h->g ? graph_sizes(h->g) : NULL;
    return rc;
}

/* Interns a type descriptor; returns its index or HEAP_NONE when it cannot be named. */
static uint32_t intern_type(builder *b, uint64_t addr)
{
    heap *h = b->h;
    uint32_t *slot = u64map_upsert(&b->type_idx, addr, HEAP_NONE - 1);
    if (!slot)
        return HEAP_NONE;
    if (*slot != HEAP_NONE - 1)
        return *slot;
    heap_type t = {.addr = addr, .name = HEAP_NONE};
    uint32_t nm;
    gotype info;
    if (h->syms && gotype_read(h->syms, addr, &info, NULL) == HS_OK) {
        t.name = intern(b, info.name, strlen(info.name));
        t.size = info.size;
    } else if (u64map_get(&b->type_rec, addr, &nm)) {
        t.name = nm;
    }
    if (t.name == HEAP_NONE) {
        *slot = HEAP_NONE;
        return HEAP_NONE;
    }
    size_t len = h->ntypes;
    if (VEC_PUSH(h->types, len, h->cap_types, t) < 0)
        return HEAP_NONE;
    *slot = h->ntypes++;
    return *slot;
}

/* The type a hint gives its object, cached per (descriptor, source). */
static uint32_t resolve_hint_type(builder *b, const type_hint *t)
{
    heap *h = b->h;
    int header = t->src == HEAP_TSRC_HEADER;
    uint32_t *slot = u64map_upsert(&b->hint_cache, t->typeaddr * 2 + (uint64_t)header, HEAP_NONE - 1);
    if (!slot)
        return HEAP_NONE;
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
    if (u64map_put(&b->hint_cache, t->typeaddr * 2 + (uint64_t)header, ti) < 0)
        return HEAP_NONE;
    return ti;
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
    h->obj_type[obj] = ti;
    h->obj_tsrc[obj] = t->src;
}

/* Applies the header and finalizer hints (interface hints are applied while edges are
 * resolved, where their targets are known). */
/* Keeps the weak handles: candidates whose address is where an object starts (as the program
 * sees it), sorted by target for heap_weak_referrers. Handles nothing points to are dropped
 * with the reverse adjacency (heap_build_reverse). */
static int weak_cmp(const void *x, const void *y)
{
    const heap_weak *p = x, *q = y;
    return p->target != q->target ? (p->target < q->target ? -1 : 1)
                                  : (p->handle < q->handle ? -1 : p->handle > q->handle);
}

static int resolve_weak(builder *b, const uint32_t *sorted_of, uint32_t narrival)
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
            return HS_ERR_NOMEM;
    }
    if (h->nweak)
        qsort(h->weak, h->nweak, sizeof *h->weak, weak_cmp);
    return HS_OK;
}

const heap_weak *heap_weak_referrers(const heap *h, uint32_t obj, size_t *n)
{
    size_t lo = 0, hi = h->nweak;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h->weak[mid].target < obj)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = lo;
    while (k < h->nweak && h->weak[k].target == obj)
        k++;
    *n = k - lo;
    return h->weak + lo;
}

static void apply_other_hints(builder *b, const uint32_t *sorted_of, uint32_t narrival)
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
}

/* Program roots: every aux node with a root kind. Finalizer specials are not program roots;
 * liveness derives their roots from h->fins (mgcmark.go treats them apart). */
static int collect_roots(builder *b)
{
    heap *h = b->h;
    h->roots = malloc(((size_t)h->naux + 1) * sizeof *h->roots);
    if (!h->roots)
        return HS_ERR_NOMEM;
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
         * containing slot is the object (GO-RUNTIME.md "Roots and finalizers"). */
        fin->obj = heap_object_at(h, fin->obj_addr);
        fin->fn = heap_object_at(h, fin->fn_addr);
        if (fin->fn == HEAP_NONE)
            fin->fn = global_at(h, &b->global_of, fin->fn_addr);
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
    free_edges(b);
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

static int finish(builder *b, hs_error *err)
{
    heap *h = b->h;
    uint32_t *sorted_of = NULL, *arrival_of = NULL;
    uint32_t narrival = h->nobj;
    if (ensure_global_targets(b) < 0 || order_objects(b, &sorted_of, &arrival_of) < 0 ||
        build_address_index(b) < 0) {
        free(sorted_of);
        free(arrival_of);
        return oom(err, "the address index");
    }
    memset(h->obj_type, 0xff, (size_t)h->nobj * sizeof *h->obj_type); /* HEAP_NONE */
    memset(h->obj_tsrc, 0, (size_t)h->nobj + 1);
    step_done(h, HEAP_STEP_SORT, &b->clock);
    mark_hinted_edges(b);
    if (resolve_edges(b) < 0 || apply_iface_hints(b) < 0) {
        free(sorted_of);
        free(arrival_of);
        return oom(err, "types");
    }
    step_done(h, HEAP_STEP_RESOLVE, &b->clock);
    int rc = build_graph(b, arrival_of, narrival, err);
    if (rc >= 0)
        apply_other_hints(b, sorted_of, narrival);
    if (rc >= 0 && resolve_weak(b, sorted_of, narrival) < 0)
        rc = oom(err, "weak handles");
    /* Spare memory from now on (heap_take_spare). */
    size_t room = ((size_t)narrival + h->naux + 1) * sizeof *arrival_of;
    add_spare(h, arrival_of, room);
    add_spare(h, sorted_of, room);
    if (rc < 0)
        return rc;
    if (collect_roots(b) < 0)
        return oom(err, "roots");
    if (b->nsamples) {
        h->obj_site = malloc((size_t)h->nobj * sizeof *h->obj_site + 1);
        if (!h->obj_site)
            return oom(err, "allocation sites");
        for (uint32_t i = 0; i < h->nobj; i++)
            h->obj_site[i] = HEAP_NONE;
        for (size_t i = 0; i < b->nsamples; i++) {
            uint32_t o = heap_object_at(h, b->sample_obj[i]);
            if (o != HEAP_NONE)
                h->obj_site[o] = b->sample_site[i];
        }
    }
    return HS_OK;
}

int heap_build(source *s, void (*progress)(void *ctx, uint64_t done), void *progress_ctx,
               heap **out, hs_error *err)
{
    *out = NULL;
    heap *h = calloc(1, sizeof *h);
    if (!h)
        return oom(err, "the heap model");
    h->ptr_size = 8;
    h->layout = golayout_of(0);
    h->syms = s->syms;
    builder b = {.h = h, .s = s};
    source_reader *sr;
    int rc = source_reader_open(s, 2, &sr, err);
    if (rc < 0) {
        heap_free(h);
        return rc;
    }
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
        if ((rc = on_record(&b, &rec, err)) < 0)
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
    }
    source_reader_free(sr);
    if (rc >= 0 && finish_goroutine(&b) < 0)
        rc = oom(err, "stack objects");
    step_done(h, HEAP_STEP_STREAM, &b.clock);
    if (rc >= 0)
        rc = finish(&b, err);
    step_done(h, HEAP_STEP_GRAPH, &b.clock);
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
    uint32_t *src = heap_take_spare(h, (size_t)graph_edge_count(h->g) * sizeof *src);
    uint32_t *off = heap_take_spare(h, ((size_t)h->nnodes + 1) * sizeof *off);
    int rc = graph_build_reverse(h->g, parallel, off, src, err);
    if (rc >= 0) { /* a weak handle is a handle only when a weak.Pointer points to it */
        const uint32_t *in = graph_in_offsets(h->g);
        size_t n = 0;
        for (size_t i = 0; i < h->nweak; i++)
            if (in[h->weak[i].handle] != in[h->weak[i].handle + 1])
                h->weak[n++] = h->weak[i];
        h->nweak = n;
        for (size_t i = 0; i < n; i++)
            heap_label(h, h->weak[i].handle, "weak handle (weak.Pointer)");
    }
    step_done(h, HEAP_STEP_REVERSE, &t);
    return rc;
}

void *heap_take_spare(heap *h, size_t bytes)
{
    int best = -1;
    for (int i = 0; i < HEAP_NSPARE; i++)
        if (h->spare[i] && h->spare_bytes[i] >= bytes &&
            (best < 0 || h->spare_bytes[i] < h->spare_bytes[best]))
            best = i;
    if (best < 0)
        return NULL;
    void *p = vec_shrink(h->spare[best], bytes);
    h->spare[best] = NULL;
    return p;
}

void heap_drop_spares(heap *h)
{
    for (int i = 0; i < HEAP_NSPARE; i++) {
        free(h->spare[i]);
        h->spare[i] = NULL;
    }
}

void heap_free(heap *h)
{
    if (!h)
        return;
    heap_drop_spares(h);
    free(h->obj_addr);
    if (!h->g) /* before the graph exists the heap owns the sizes */
        free((void *)h->obj_size);
    free(h->obj_hdr);
    free(h->obj_func);
    free(h->obj_type);
    free(h->obj_tsrc);
    free(h->obj_site);
    free(h->obj_shape);
    free(h->aux);
    addrindex_free(h->aix);
    free(h->roots);
    free(h->fins);
    free(h->types);
    free(h->static_ptrs);
    free(h->weak);
    free(h->shapes);
    free(h->gors);
    graph_free(h->g);
    strpool_release(&h->names);
    free(h);
}

int heap_label(heap *h, uint32_t obj, const char *name)
{
    if (obj >= h->nobj || h->obj_type[obj] != HEAP_NONE)
        return HS_OK;
    /* Labels are few and called millions of times with the same string literals: a small
     * cache keyed by the name pointer, then a search over the synthetic types (addr 0). */
    uint32_t t = HEAP_NONE;
    size_t slot = ((uintptr_t)name >> 4) % HEAP_LABEL_CACHE;
    if (h->label_name[slot] == name)
        t = h->label_type[slot];
    for (uint32_t i = h->ntypes; t == HEAP_NONE && i-- > 0;)
        if (h->types[i].addr == 0 && !strcmp(strpool_get(&h->names, h->types[i].name), name))
            t = i;
    if (t == HEAP_NONE) {
        heap_type ty = {.addr = 0, .name = strpool_intern(&h->names, name, strlen(name))};
        size_t len = h->ntypes;
        if (ty.name == UINT32_MAX || VEC_PUSH(h->types, len, h->cap_types, ty) < 0)
            return HS_ERR_NOMEM;
        t = h->ntypes++;
    }
    h->label_name[slot] = name;
    h->label_type[slot] = t;
    h->obj_type[obj] = t;
    h->obj_tsrc[obj] = HEAP_TSRC_LAYOUT;
    return HS_OK;
}

const char *heap_type_name(const heap *h, uint32_t obj)
{
    if (obj >= h->nobj || h->obj_type[obj] == HEAP_NONE)
        return NULL;
    return strpool_get(&h->names, h->types[h->obj_type[obj]].name);
}

const char *heap_site_name(const heap *h, uint32_t obj)
{
    if (!h->obj_site || obj >= h->nobj || h->obj_site[obj] == HEAP_NONE)
        return NULL;
    return strpool_get(&h->names, h->obj_site[obj]);
}

const char *heap_closure_name(const heap *h, uint32_t obj)
{
    if (obj >= h->nobj || h->obj_func[obj] == HEAP_NONE || !h->syms)
        return NULL;
    const symtab_sym *f = symtab_get(h->syms, SYMTAB_FUNC, h->obj_func[obj]);
    return f ? f->name : NULL;
}

const char *heap_describe(const heap *h, uint32_t node, char *buf, size_t cap)
{
    if (node < h->nobj) {
        const char *fn = heap_closure_name(h, node);
        const char *ty = heap_type_name(h, node);
        unsigned long long addr = heap_obj_ptr(h, node), size = heap_obj_bytes(h, node);
        if (fn)
            snprintf(buf, cap, "closure %s 0x%llx (%llu B)", fn, addr, size);
        else if (ty)
            snprintf(buf, cap, "%s 0x%llx (%llu B)", ty, addr, size);
        else
            snprintf(buf, cap, "object 0x%llx (%llu B)", addr, size);
        return buf;
    }
    if (node >= h->nnodes) {
        snprintf(buf, cap, "?");
        return buf;
    }
    const heap_aux *a = &h->aux[node - h->nobj];
    const char *name = strpool_get(&h->names, a->name);
    switch (a->kind) {
    case HEAP_NODE_GLOBAL:
        snprintf(buf, cap, "global %s", name);
        break;
    case HEAP_NODE_FRAME:
        snprintf(buf, cap, "goroutine %llu frame %s", (unsigned long long)a->goid, name);
        break;
    default:
        snprintf(buf, cap, "%s", name);
        break;
    }
    return buf;
}

int heap_fetch(source *s, const heap *h, const uint32_t *objs, size_t n,
               int (*fn)(void *ctx, uint32_t obj, const uint8_t *bytes, size_t len,
                         const uint64_t *ptr_offsets, size_t nptrs),
               void *ctx, hs_error *err)
{
    if (!n)
        return HS_OK;
    u64map want = {0};
    for (size_t i = 0; i < n; i++)
        if (objs[i] < h->nobj && u64map_put(&want, h->obj_addr[objs[i]], objs[i]) < 0) {
            u64map_release(&want);
            return oom(err, "fetch set");
        }
    source_reader *sr;
    int rc = source_reader_open(s, 2, &sr, err);
    if (rc < 0) {
        u64map_release(&want);
        return rc;
    }
    gohd_record rec;
    size_t left = want.used;
    while (left && (rc = gohd_next(source_reader_gohd(sr), &rec, err)) > 0) {
        uint32_t obj;
        if (rec.tag != GOHD_OBJECT || !u64map_get(&want, rec.u.object.addr, &obj))
            continue;
        left--;
        rc = fn(ctx, obj, rec.u.object.contents.ptr, rec.u.object.contents.len,
                rec.u.object.ptr_offsets, rec.u.object.nptrs);
        if (rc < 0)
            break;
    }
    source_reader_free(sr);
    u64map_release(&want);
    return rc < 0 ? rc : HS_OK;
}
