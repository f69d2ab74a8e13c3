/* heap.h - the heap model: every object of the dump, globals and stack frames as nodes, the
 * root table, finalizer specials, recovered types and shapes, and the pointer graph over all
 * nodes (docs/heap-model.md). Built in one streaming pass over the dump
 * (heap.c runs the build's steps, heap_build.h lists them); the questions about a built model
 * are in heap_query.c.
 *
 * Node ids: objects are 0..nobj-1 in address order; non-object nodes (globals, frames, other
 * roots) follow from nobj. All per-node arrays are flat and indexed by node id.
 */
#ifndef HEAP_H
#define HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "golayout.h"
#include "graph.h"
#include "hs_error.h"
#include "source.h"
#include "spare.h"
#include "strpool.h"
#include "symtab.h"
#include "u64map.h"

#define HEAP_NONE UINT32_MAX

typedef enum heap_node_kind {
    HEAP_NODE_OBJECT = 0,
    HEAP_NODE_GLOBAL,   /* a data/bss symbol (or anonymous static) */
    HEAP_NODE_FRAME,    /* a goroutine stack frame */
    HEAP_NODE_ROOT,     /* any other root: queued finalizer, defer, panic, ctxt, other */
} heap_node_kind;

/* Root kinds, as labelled in reports. */
typedef enum heap_root_kind {
    HEAP_ROOT_NONE = 0,
    HEAP_ROOT_GLOBAL,      /* data/bss pointer slots */
    HEAP_ROOT_FRAME,       /* stack frame locals/args */
    HEAP_ROOT_OTHER,       /* tag-2 "other root" */
    HEAP_ROOT_CTXT,        /* goroutine sched.ctxt */
    HEAP_ROOT_DEFER,       /* defer record */
    HEAP_ROOT_PANIC,       /* panic record */
    HEAP_ROOT_QFINALIZER,  /* queued finalizer (object + closure) */
    HEAP_ROOT_FINALIZER,   /* finalizer special: handled by liveness, not a program root */
    HEAP_ROOT_NKINDS
} heap_root_kind;

/* Returns "global", "stack frame", "finalizer", ... for a root kind. */
const char *heap_root_kind_name(int kind);

/* Where an object's type came from. */
typedef enum heap_type_src {
    HEAP_TSRC_NONE = 0,
    HEAP_TSRC_IFACE,     /* an interface word pointing at it (eface type / iface itab) */
    HEAP_TSRC_FINALIZER, /* the finalizer record's object type (ot) */
    HEAP_TSRC_HEADER,    /* Go 1.22+ malloc header */
    HEAP_TSRC_LAYOUT,    /* its place in a decoded container (sync.Map internals) */
    HEAP_TSRC_GLOBAL,    /* DWARF: a typed pointer of a global (or of a static it points to) */
    HEAP_TSRC_FRAME,     /* DWARF: a typed pointer of a stack variable live at the frame's pc */
    HEAP_TSRC_FIELD,     /* DWARF: a typed pointer field of a typed object or closure */
    HEAP_TSRC_NKINDS
} heap_type_src;

/* Returns "interface", "finalizer", "malloc header", "container layout", "global",
 * "stack variable", "field" or "none". */
const char *heap_type_src_name(int src);

typedef struct heap_aux {
    uint8_t kind;      /* heap_node_kind */
    uint8_t root_kind; /* heap_root_kind, NONE for globals without pointer slots */
    uint8_t anonymous; /* globals: anonymous static */
    uint32_t name;     /* strpool offset: symbol, frame function, root description */
    uint64_t addr;     /* global: symbol address; frame: sp; root: record address */
    uint64_t size;     /* global: symbol size; frame: frame bytes */
    uint64_t goid;     /* frames and goroutine roots */
    uint64_t pc;       /* frames: the pc the frame is at (a return address for callers) */
    uint32_t depth;    /* frames: depth on the stack (0 = innermost) */
} heap_aux;

typedef struct heap_finalizer {
    uint32_t obj;      /* object node with the finalizer, HEAP_NONE if outside the heap */
    uint32_t fn;       /* node of the finalizer's funcval (heap closure or global), or NONE */
    uint64_t obj_addr; /* as recorded */
    uint64_t fn_addr;
    uint64_t fnpc;     /* the finalizer function's code address */
    uint32_t fn_name;  /* strpool offset of the function name, or HEAP_NONE */
} heap_finalizer;

typedef struct heap_type {
    uint64_t addr;    /* descriptor address, 0 when unknown */
    uint32_t name;    /* strpool offset */
    uint64_t size;    /* value size, 0 when unknown */
    uint32_t ttype;   /* the DWARF type (h->tt), HEAP_NONE when none names it */
    uint8_t backing;  /* 1: as many ttype values as fit the object ("[]T backing") */
} heap_type;

typedef struct heap_shape {
    uint64_t size;      /* slot size */
    uint32_t nptrs;     /* pointer slots */
    uint32_t ptrs[4];   /* the first pointer offsets, for display */
    uint32_t kept_at;   /* its first pointer offsets are shape_ptrs[kept_at, kept_at + nkept) */
    uint32_t nkept;     /* min(nptrs, HEAP_SHAPE_KEPT) */
    uint64_t hash;
} heap_shape;

/* Pointer offsets kept per shape, to check a type against an object's layout (typing.c). */
#define HEAP_SHAPE_KEPT 4096u

/* A pointer from a named global into an anonymous static, with its value: names the static
 * ("*main.registry") and the fields behind it. */
typedef struct heap_static_ptr {
    uint32_t from;  /* the named global's node */
    uint32_t to;    /* the anonymous static's node */
    uint64_t value; /* the address it holds */
} heap_static_ptr;

/* A part of an anonymous static that a typed pointer of a named global names: a value of a
 * DWARF type at an offset in the static's node. */
typedef struct heap_static_type {
    uint32_t node;   /* the anonymous static's node */
    uint32_t type;   /* typetab id */
    uint64_t offset; /* where the value starts in the node */
} heap_static_type;

/* A Go 1.24+ weak.Pointer's handle and the object it names: a weak edge, which retains
 * nothing (it is not in the graph). */
typedef struct heap_weak {
    uint32_t handle; /* the pointer-free handle object */
    uint32_t target; /* the object it names */
} heap_weak;

typedef struct heap_goroutine {
    uint64_t goid, addr;
    uint32_t status;
    uint8_t system;
    uint32_t waitreason; /* strpool offset */
} heap_goroutine;

/* Steps of heap_build, timed for --timings and the benchmarks. */
typedef enum heap_step {
    HEAP_STEP_STREAM = 0, /* the pass over the dump: records decoded, objects and edges kept */
    HEAP_STEP_SORT,       /* objects put in address order, the address index built */
    HEAP_STEP_RESOLVE,    /* pointer values turned into target nodes, interface types given */
    HEAP_STEP_GRAPH,      /* CSR adjacency */
    HEAP_STEP_REVERSE,    /* reverse adjacency (heap_build_reverse) */
    HEAP_NSTEPS
} heap_step;

/* The step's name ("stream", "sort", ...). */
const char *heap_step_name(int step);

typedef struct heap {
    char go_version[64];
    char goarch[16];       /* from the params record */
    int go_minor;          /* 19 for go1.19.x, -1 (or 0 before the params record) when unknown */
    golayout layout;       /* the runtime layouts of that version */
    uint32_t ptr_size;
    uint64_t arena_start, arena_end;

    uint32_t nobj;
    uint64_t *obj_addr;    /* slot address, ascending */
    const uint64_t *obj_size; /* slot bytes (once built, the graph's node sizes: one copy) */
    uint8_t *obj_hdr;      /* malloc-header bytes before the program's pointer (0 or 8) */
    uint32_t *obj_func;    /* closure: symtab FUNC index of its code word, else HEAP_NONE */
    uint32_t *obj_type;    /* index into types, else HEAP_NONE */
    uint8_t *obj_tsrc;     /* heap_type_src */
    u64map obj_site;       /* sampled object -> its allocation site (strpool offset), from
                              the alloc samples: a few objects, not an array over all */
    uint32_t *obj_shape;   /* index into shapes */

    uint32_t naux;
    heap_aux *aux;         /* node nobj + i */
    uint32_t nnodes;       /* nobj + naux */

    graph_root *roots;     /* program roots: aux nodes with a root kind (kind = heap_root_kind;
                              queued finalizers flagged GRAPH_ROOT_FINALIZER). Finalizer
                              specials are in fins, not here. */
    uint32_t nroots;
    heap_finalizer *fins;  /* finalizer specials (tag 7) */
    uint32_t nfins;
    heap_type *types;
    uint32_t ntypes;
    size_t cap_types;
#define HEAP_LABEL_CACHE 8
    const char *label_name[HEAP_LABEL_CACHE]; /* heap_label's cache */
    uint32_t label_type[HEAP_LABEL_CACHE];
    heap_shape *shapes;
    uint32_t nshapes;
    uint32_t *shape_ptrs;  /* the shapes' kept pointer offsets (slot offsets) */
    heap_goroutine *gors;
    uint32_t ngors;
    heap_static_ptr *static_ptrs; /* in the order of their globals' edges */
    uint32_t nstatic_ptrs;
    heap_weak *weak;       /* weak handles by target (from heap_build_reverse on) */
    size_t nweak;

    uint64_t total_bytes;  /* sum of object slot sizes */
    uint64_t header_mismatches; /* objects whose layout contradicts the version's malloc
                                   headers (a pointer in the header word) */
    struct addrindex *aix; /* address -> object (addrindex.h), NULL: binary search */
    graph *g;              /* pointer graph over all nodes, field offsets on edges */
    double step_seconds[HEAP_NSTEPS]; /* wall time of each build step */
    spare_pool spare;      /* the build's dead arrays, for the analysis's next big ones
                              (spare.h): spare_take them, then spare_release the rest */
    strpool names;
    const symtab *syms;    /* borrowed from the source; may be NULL */
    const struct typetab *tt; /* DWARF types (typing.c), borrowed; NULL without */
    struct heap_static_type *static_types; /* DWARF types of parts of anonymous statics, by
                                              node then offset (typing.c) */
    size_t nstatic_types;
} heap;

/* Builds the model from every record of s into *out (the caller frees it with heap_free).
 * progress (may be NULL) gets bytes read so far. The heap borrows s->syms: keep s open while
 * the heap lives. The graph comes without its reverse adjacency: the caller builds it with
 * heap_build_reverse, so that work needing only the forward edges can start on another thread
 * meanwhile. Returns HS_OK, or a negative status with err set (offset: the record's). */
int heap_build(source *s, void (*progress)(void *ctx, uint64_t done), void *progress_ctx,
               heap **out, hs_error *err);

/* Builds the graph's reverse adjacency (timed as HEAP_STEP_REVERSE), on every core when
 * parallel (see graph_build_reverse), in spare memory when there is some; then keeps the weak
 * handles that a weak.Pointer points to. Returns HS_OK, or a negative status with err set. */
int heap_build_reverse(heap *h, int parallel, hs_error *err);

/* The weak handles that name obj (*n of them; none before heap_build_reverse). */
const heap_weak *heap_weak_referrers(const heap *h, uint32_t obj, size_t *n);

/* Frees the model (NULL is accepted). */
void heap_free(heap *h);

/* The object containing addr (interior pointers included), or HEAP_NONE. */
uint32_t heap_object_at(const heap *h, uint64_t addr);

/* The node an address points into: an object, else a global node, else HEAP_NONE. */
uint32_t heap_node_at(const heap *h, uint64_t addr);

/* The address the program sees for an object (%p): slot + malloc header. */
static inline uint64_t heap_obj_ptr(const heap *h, uint32_t obj)
{
    return h->obj_addr[obj] + h->obj_hdr[obj];
}

/* The object's size as the program sees it (slot minus header). */
static inline uint64_t heap_obj_bytes(const heap *h, uint32_t obj)
{
    return h->obj_size[obj] - h->obj_hdr[obj];
}

/* Bytes before the program's view of node v: its malloc header (objects), 0 otherwise. */
static inline uint32_t heap_node_hdr(const heap *h, uint32_t v)
{
    return v < h->nobj ? h->obj_hdr[v] : 0;
}

/* The node of the named global called name (data/bss symbol), or GRAPH_NONE. */
uint32_t heap_global(const heap *h, const char *name);

/* What object obj costs the heap: its slot, a malloc header included. Every byte count of a
 * report (summary, findings, histogram, profile, diff) adds these, so that they agree with
 * each other and with retained sizes; heap_obj_bytes is for reading the object's layout. */
static inline uint64_t heap_obj_cost(const heap *h, uint32_t obj)
{
    return h->obj_size[obj];
}

/* Node size in bytes (objects: slot size; other nodes: 0, they hold no heap memory). */
static inline uint64_t heap_node_size(const heap *h, uint32_t node)
{
    return node < h->nobj ? h->obj_size[node] : 0;
}

/* Describes a node for people into buf: "main.Payload 0xc000123000 (1.1 KiB)",
 * "closure main.main.func1 0xc0000a0000", "global main.store", "goroutine 7 frame main.worker".
 * Returns buf. */
const char *heap_describe(const heap *h, uint32_t node, char *buf, size_t cap);

/* Names an untyped object by its role in a structure ("runtime.hmap", "sync.entry"), with
 * evidence HEAP_TSRC_LAYOUT; objects that already have a type keep it. name is borrowed
 * (string literals are cached by address). Returns HS_OK or HS_ERR_NOMEM. */
int heap_label(heap *h, uint32_t obj, const char *name);

/* The type name of an object, or NULL when unknown. */
const char *heap_type_name(const heap *h, uint32_t obj);

/* The allocation site ("main.newPayload main.go:42") of an object, or NULL. */
const char *heap_site_name(const heap *h, uint32_t obj);

/* The closure function name of an object, or NULL when it is not a closure. */
const char *heap_closure_name(const heap *h, uint32_t obj);

/* Reads the contents of the given objects in one more pass over the dump; calls fn for each
 * (objs need not be sorted; each is delivered once, in dump order; the bytes are valid during
 * the call only). Returns HS_OK, the first negative status of fn, or a negative status with
 * err set. */
int heap_fetch(source *s, const heap *h, const uint32_t *objs, size_t n,
               int (*fn)(void *ctx, uint32_t obj, const uint8_t *bytes, size_t len,
                         const uint64_t *ptr_offsets, size_t nptrs),
               void *ctx, hs_error *err);

#endif
