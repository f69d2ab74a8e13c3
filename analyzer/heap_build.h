/* heap_build.h - the heap build's internals, shared by the heap_*.c files and by nothing
 * else: the builder that the streaming pass fills, and the steps that turn it into the model.
 *
 * heap_build (heap.c) runs the steps in this order:
 *   1. heap_ingest.c   the streaming pass: every record becomes objects (in arrival order),
 *                      aux nodes, raw edges (field and pointer value) and type hints;
 *   2. heap_resolve.c  heap_resolve_global_targets: a global node for every pointer into
 *                      data/bss;
 *   3. heap_order.c    objects put in address order, the per-object arrays gathered, the
 *                      address index built;
 *   4. heap_resolve.c  edge values turned into target nodes, interface hints applied;
 *   5. heap_graph.c    the resolved edges laid out as CSR adjacency, adopted by the graph;
 *   6. heap_resolve.c  malloc-header and finalizer hints, weak handles;
 *   7. heap.c          roots, allocation sites.
 * Fresh pages cost a fault each: the steps reuse the arrays that earlier steps no longer need
 * (sorted sizes in the arrival addresses, edge fields in the applied hints, ...), and hand the
 * big dead ones to the heap's spare pool (spare.h) for the analysis's next arrays.
 */
#ifndef HEAP_BUILD_H
#define HEAP_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gohd.h"
#include "heap.h"
#include "hs_error.h"
#include "stackobj.h"
#include "u64map.h"

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

/* Everything the pass collects; owned by heap_build, which frees it (heap.c). */
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
    uint64_t itab_lo, itab_hi; /* the lowest and highest itab address (none: 0, 0) */
    u64map type_rec;   /* tag-3 type address -> strpool name offset */
    u64map type_idx;   /* descriptor address -> index in h->types */
    u64map shape_idx;  /* shape hash -> index in h->shapes */
    size_t nshape_ptrs, cap_shape_ptrs; /* h->shape_ptrs */
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
    int nomem;             /* an allocation failed where the failing function returns no
                              status (type interning): the step reports HS_ERR_NOMEM */
} builder;

/* Sets err to an out-of-memory failure while building `what`; returns HS_ERR_NOMEM. */
static inline int heap_build_oom(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "heap model: out of memory building %s",
                        what);
}

/* The value slot of object edge i: the pointer value, then (once resolved) the target. */
static inline uint64_t *heap_build_edge_val(const builder *b, size_t i)
{
    return &b->eval[i];
}

/* ---- heap_ingest.c: the streaming pass ---- */

/* Sizes the arrival-order arrays (objects and their edges) once for a dump of dump_bytes
 * bytes, past what it can hold: pages never touched cost nothing, and arrays that never grow
 * are never moved (a move loses their huge pages' alignment, and growing through the small
 * sizes faults every 4 KiB page). Best effort: on failure they grow as they fill. */
void heap_ingest_reserve(builder *b, uint64_t dump_bytes);

/* Once the pass is over: shrinks the arrival-order arrays to what they hold, so that the
 * reserve's untouched pages (and the huge page their last one ends in) are let go, and the
 * arrays later handed to the spare pool are as large as the pages they touched. */
void heap_ingest_trim(builder *b);

/* Adds one record of the dump to the builder. Returns HS_OK, or a negative status with err
 * set (the offset is the record's). */
int heap_ingest_record(builder *b, const gohd_record *rec, hs_error *err);

/* Once the current goroutine's frames are all in: its live stack objects' pointers become
 * frame slots. Returns HS_OK or HS_ERR_NOMEM (err untouched: the caller says where). */
int heap_ingest_finish_goroutine(builder *b);

/* Whether v lies in the data/bss sections (the dump's records or the symtab's ranges). */
int heap_ingest_in_data_range(const builder *b, uint64_t v);

/* The global node for a data/bss slot address (created on first use): *aux its aux index,
 * *field the slot's offset in it. Returns HS_OK or HS_ERR_NOMEM. */
int heap_ingest_global_node(builder *b, uint64_t slot, uint32_t *aux, uint64_t *field);

/* ---- heap_order.c: address order ---- */

/* Puts the objects in address order (see heap_order.c); *sorted_of maps arrival -> sorted
 * index (HEAP_NONE: dropped), *arrival_of sorted -> arrival. Both are malloc'd with room for
 * every node (nobj + naux + 1 entries) and owned by the caller. HS_OK or HS_ERR_NOMEM. */
int heap_order_objects(builder *b, uint32_t **sorted_of, uint32_t **arrival_of, hs_error *err);

/* Builds h->aix, the address index (addrindex.h). HS_OK or HS_ERR_NOMEM. */
int heap_order_index(builder *b, hs_error *err);

/* ---- heap_resolve.c: edges and types ---- */

/* Makes sure every pointer into data/bss has a global node to land on. HS_OK or
 * HS_ERR_NOMEM. */
int heap_resolve_global_targets(builder *b, hs_error *err);

/* Marks the edges that interface hints ride on (before heap_resolve_edges). */
void heap_resolve_mark_hints(builder *b);

/* Resolves every edge in place: the value becomes the target node, or HEAP_NONE. Pointers
 * from named globals into anonymous statics are kept in h->static_ptrs. HS_OK or
 * HS_ERR_NOMEM. */
int heap_resolve_edges(builder *b, hs_error *err);

/* Types the objects interface words point at (after heap_resolve_edges). HS_OK or
 * HS_ERR_NOMEM. */
int heap_resolve_iface_hints(builder *b, hs_error *err);

/* Applies the malloc-header and finalizer hints (arrival indices through sorted_of). HS_OK
 * or HS_ERR_NOMEM. */
int heap_resolve_other_hints(builder *b, const uint32_t *sorted_of, uint32_t narrival,
                             hs_error *err);

/* Fills h->weak with the weak handles among the candidates. HS_OK or HS_ERR_NOMEM. */
int heap_resolve_weak(builder *b, const uint32_t *sorted_of, uint32_t narrival,
                      hs_error *err);

/* The global node holding addr (through the symtab when there is one), or HEAP_NONE. */
uint32_t heap_resolve_global_at(const heap *h, const u64map *global_of, uint64_t addr);

/* ---- heap_graph.c: CSR layout ---- */

/* Lays the resolved edges out as CSR adjacency and hands them to h->g; the raw edges' arrays
 * go to the spare pool. Returns HS_OK, or a negative status with err set. */
int heap_graph_build(builder *b, const uint32_t *arrival_of, uint32_t narrival, hs_error *err);

/* Frees the builder's raw edges (object and aux edges). */
void heap_graph_free_edges(builder *b);

#endif
