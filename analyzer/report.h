/* report.h - the report model: everything an emitter prints, already resolved to names,
 * addresses and sizes, so emitters (text, JSON, DOT, ...) only format and never look into the
 * heap. The analysis fills it; emitters read it. Schema of the JSON form:
 * formats/report.schema.json ("heapsift-report/1").
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_SCHEMA "heapsift-report/1"

typedef enum report_kind {
    REPORT_GHOST = 0,
    REPORT_FINALIZER_PINNED,
    REPORT_CLOSURE_CYCLE,
    REPORT_TOMBSTONE, /* sync.Map read-map bloat: keys kept after Delete */
    REPORT_NKINDS
} report_kind;

/* "ghost", "finalizer_pinned", "closure_cycle", "tombstone". */
const char *report_kind_name(int kind);

/* Parses a kind name; returns the kind or -1. */
int report_kind_parse(const char *name);

/* The memory class of a heap object (memclass.h says how each is decided). */
typedef enum report_class {
    REPORT_CLASS_IN_USE = 0,
    REPORT_CLASS_FIN_HELD,   /* held only through finalizers that never run */
    REPORT_CLASS_PENDING,    /* pending finalization, and what only it keeps */
    REPORT_CLASS_GARBAGE,
    REPORT_NCLASSES
} report_class;

/* "in use", "finalizer-held", "pending finalization", "garbage". */
const char *report_class_label(int c);

/* "in_use", "finalizer_held", "pending_finalization", "garbage": the JSON keys. */
const char *report_class_key(int c);

/* What a step of a path is. */
typedef enum report_node_kind {
    REPORT_NODE_OBJECT = 0,
    REPORT_NODE_CLOSURE,  /* a heap closure (funcval) */
    REPORT_NODE_GLOBAL,
    REPORT_NODE_FRAME,
    REPORT_NODE_ROOT,     /* queued finalizer, defer, panic, goroutine context, other */
    REPORT_NODE_FINALIZER /* a finalizer special (the holder of a pinning path) */
} report_node_kind;

/* "object", "closure", "global", "frame", "root", "finalizer". */
const char *report_node_kind_name(int kind);

/* One step of a path from a root: the node reached and the field of the previous step that
 * points to it (REPORT_NO_FIELD for the first step). */
#define REPORT_NO_FIELD UINT32_MAX
typedef struct report_step {
    int kind;          /* report_node_kind */
    char *name;        /* type name, closure function, symbol, "goroutine 7 main.worker", ... ;
                          NULL for an untyped object */
    char *shape;       /* for untyped objects: "1152 B, ptrs @8" (may be NULL) */
    uint64_t addr;     /* program-visible address (objects), symbol address, frame sp */
    uint64_t size;     /* bytes (objects), symbol size */
    uint32_t field;    /* byte offset in the previous step's node, or REPORT_NO_FIELD */
    char *field_name;  /* that field's Go name (".onEvict", ".items[3]") when the previous
                          node's type is known, else NULL */
} report_step;

typedef struct report_path {
    char *root_kind;   /* "global", "stack frame", "finalizer", "queued finalizer", ... */
    char *root_name;   /* "main.store", "goroutine 7 main.worker", "finalizer of 0xc000...", ... */
    report_step *steps;
    size_t nsteps;
} report_path;

typedef struct report_closure {
    uint64_t addr;
    char *func;        /* "main.(*Payload).close-fm" */
} report_closure;

typedef struct report_finding {
    int kind;            /* report_kind */
    char *title;         /* one line for people */
    char *signature;     /* grouping key (kind + holder + type/function) */
    uint64_t *objects;   /* every object the finding is about (program-visible addresses) */
    size_t nobjects;
    uint64_t bytes;      /* sum of the objects' sizes */
    uint64_t retained_bytes;
    char *evidence;      /* ghost: "diff" | "type" | "shape"; pinned: "liveness";
                            cycle: "scc"; tombstone: "sync.Map layout" */
    char *reason;        /* pinned: "own_closure" | "cycle" | "other_finalizer";
                            cycle: "rooted" | "finalizer_pinned"; else NULL */
    char *type;          /* type or shape of the objects, NULL when mixed/unknown */
    char *container;     /* ghost, tombstone: the container's name */
    char *holder;        /* who holds it: the root (or finalizer) of the path */
    report_path path;    /* representative path from a root to the first object */
    report_step *cycle;  /* closure_cycle: one concrete cycle (first step repeated at the end) */
    size_t ncycle;
    report_closure *closures; /* closure_cycle: every closure member */
    size_t nclosures;
    uint64_t keys;       /* tombstone: keys lingering after Delete */
    uint64_t instances;  /* how many times a detector noted this signature (closure_cycle:
                            the cycles grouped in it) */
    int has_before;      /* diff, closure_cycle: the earlier dump's instances and bytes of
                            this signature (0 when it had none) */
    uint64_t instances_before, bytes_before;
} report_finding;

/* A row of the histogram or of the top-retainers table. */
typedef struct report_row {
    char *label;         /* type name, "closure main.f.func1", "shape 1152 B ptrs @8", symbol */
    char *group;         /* "type" | "closure" | "shape" | "site" | node kind for retainers */
    uint64_t addr;       /* retainers: the node's address; histogram: 0 */
    uint64_t count;
    uint64_t bytes;
    uint64_t retained_bytes;
    int cls;             /* histogram and sites: report_class + 1; 0: the row has no class
                            (retainers, folded) */
} report_row;

/* One row of a diff's growth table: a group of in-use objects before and after. */
typedef struct report_delta {
    char *label;         /* type name, "closure F", "shape ..." */
    char *group;         /* "type" | "closure" | "shape" */
    int cls;             /* report_class of the objects (a group has a row per class) */
    uint64_t count_before, bytes_before;
    uint64_t count_after, bytes_after;
} report_delta;

/* An object (or global, frame, root) the HTML page shows, with its pointers both ways. Each
 * pointer is a report_step for the node at its other end: for a field, field is the offset in
 * this object and field_name its name here; for a referrer, field is the offset in the
 * referrer and field_name its name there. */
typedef struct report_object {
    report_step node;          /* this node (field is REPORT_NO_FIELD) */
    char *state;               /* liveness ("in use", "garbage", ...); NULL for non-objects */
    char *site;                /* allocation site, or NULL */
    uint64_t retained_bytes;
    report_step *fields;       /* its pointer fields in offset order, at most a bound of them */
    size_t nfields;
    uint64_t fields_total;     /* how many it has */
    report_step *referrers;    /* nodes that point to it, at most a bound of them */
    size_t nreferrers;
    uint64_t referrers_total;
} report_object;

/* A node of the dominator tree as the page draws it, top-down. */
#define REPORT_NO_PARENT SIZE_MAX
typedef struct report_tree_node {
    size_t parent;             /* index in report_views.tree, REPORT_NO_PARENT at the top */
    report_step node;          /* field is REPORT_NO_FIELD */
    uint64_t retained_bytes;
    uint64_t children;         /* nodes it immediately dominates, also those left out */
    uint64_t rest_bytes;       /* retained bytes of the children left out */
} report_tree_node;

/* What the HTML page shows beyond the report (only when asked for: views.h). */
typedef struct report_views {
    report_row *sites;         /* in-use objects by allocation site (none without samples) */
    size_t nsites;
    report_tree_node *tree;    /* the dominator tree's biggest nodes: parents before their
                                  children, siblings by retained bytes, largest first */
    size_t ntree;
    size_t listed;             /* how many of each finding's objects the page lists */
    report_object *objects;    /* details of the nodes the page shows, by address */
    size_t nobjects;
    uint64_t objects_left_out; /* nodes it shows without details (over the bound) */
} report_views;

/* A sample of the pprof profile: the in-use objects whose reference chain from a root reads
 * frames (root first), and what they hold. */
typedef struct report_sample {
    uint32_t *frames;          /* indexes into report_profile.frames, root first */
    size_t nframes;
    uint64_t objects, bytes;   /* in-use objects at this chain and their bytes */
    uint64_t retained_bytes;   /* retained bytes of those of them no other object dominates */
} report_sample;

/* The pprof profile of the in-use heap (only when asked for: profile.h). */
typedef struct report_profile {
    char **frames;             /* "main.store", "handlers", "main.Payload", ... */
    size_t nframes;
    report_sample *samples;
    size_t nsamples;
} report_profile;

/* What `heapsift diff` adds: the earlier dump and what changed (the findings then include
 * ghosts with evidence "diff"). */
typedef struct report_diff {
    char *before_path;
    uint64_t gone_objects, gone_bytes;   /* in use before, gone (freed or changed) after */
    uint64_t new_objects, new_bytes;     /* in use after, not there before */
    uint64_t kept_objects, kept_bytes;   /* same address, size and layout in both */
    report_delta *growth;                /* largest changes first */
    size_t ngrowth;
} report_diff;

/* How much of the in-use heap has a Go type, and by which evidence. */
#define REPORT_EVIDENCE_MAX 12
typedef struct report_typing {
    const char *from;        /* "DWARF" or "runtime evidence only" (static); NULL: not
                              * computed (then reports leave typing out) */
    uint64_t objects, bytes; /* in-use objects (and their bytes) with a Go type or function */
    size_t nby;
    struct {
        const char *evidence; /* "field", "malloc header", "closure code", ... (static) */
        uint64_t objects, bytes;
    } by[REPORT_EVIDENCE_MAX];
    uint64_t refused;        /* evidence refused: the type did not fit the object */
} report_typing;

typedef struct report {
    /* the dump */
    char *dump_path;
    char *go_version;
    char *goarch;
    uint64_t dump_bytes;
    char *binary;        /* where symbols came from: ".hsd", a path, or NULL */
    /* summary */
    uint64_t objects, object_bytes;
    uint64_t in_use_objects, in_use_bytes;
    uint64_t garbage_objects, garbage_bytes;
    uint64_t pending_objects, pinned_objects, fin_reachable_objects;
    uint64_t pending_bytes, pinned_bytes, fin_reachable_bytes;
    /* per report_class; each sums to objects and object_bytes */
    uint64_t class_objects[REPORT_NCLASSES], class_bytes[REPORT_NCLASSES];
    uint64_t goroutines, finalizers, roots;
    uint64_t pointer_edges;
    report_typing typing;
    char **containers;   /* containers examined */
    size_t ncontainers;
    char **notes;        /* caveats for the reader (version-dependent limits, inexact reasons) */
    size_t nnotes;
    /* findings, grouped; info lists collectable (unreachable) closure cycles */
    report_finding *findings;
    size_t nfindings;
    report_finding *info;
    size_t ninfo;
    /* tables */
    report_row *retainers;
    size_t nretainers;
    report_row *histogram;
    size_t nhistogram;
    report_diff *diff;   /* NULL unless the report compares two dumps */
    report_row *folded;  /* flame graph of live memory: label = "root;A;B" (dominator chain),
                            bytes = memory of the objects at that chain; only when asked */
    size_t nfolded;
    report_views *views;     /* NULL unless the HTML page's views were asked for */
    report_profile *profile; /* NULL unless the pprof profile was asked for */
} report;

/* Frees everything a report owns, including the struct (NULL is accepted). */
void report_free(report *r);

/* Allocation helpers for the code that fills a report (they return NULL on OOM). */
char *report_strdup(const char *s);
char *report_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Releases what one finding / path owns (the structs themselves are the caller's). */
void report_finding_release(report_finding *f);
void report_path_release(report_path *p);

/* Releases what one step / object owns (the structs themselves are the caller's). */
void report_step_release(report_step *s);
void report_object_release(report_object *o);

/* Free the views / profile and everything they own (NULL is accepted). */
void report_views_free(report_views *v);
void report_profile_free(report_profile *p);

#endif
