/* analysis.h - runs the whole analysis of one dump: heap model, Go-faithful liveness,
 * dominators, shortest paths, containers, then the detectors, and fills a report.
 *
 * The analysis context is what every detector reads; detectors add findings to the report
 * and never parse bytes or print.
 */
#ifndef ANALYSIS_H
#define ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "dom.h"
#include "graph.h"
#include "heap.h"
#include "hs_error.h"
#include "live.h"
#include "memclass.h"
#include "paths.h"
#include "report.h"
#include "source.h"
#include "typeinfo.h"
#include "typing.h"

typedef struct analysis_options {
    const char **containers;   /* --container SYMBOL, in addition to recognised sync.Maps */
    size_t ncontainers;
    const char **value_types;  /* --value-type NAME: the containers' value types */
    size_t nvalue_types;
    const char **container_types; /* --container-type T: every Go map of type T
                                     ("map[string]cache.Item") is a container */
    size_t ncontainer_types;
    int no_auto_containers;    /* do not look for sync.Map globals */
    uint32_t min_instances;    /* --min-instances: a rooted closure cycle signature is a leak
                                  from this many instances (0 = ANALYSIS_MIN_INSTANCES) */
    unsigned folded_depth;     /* > 0: also fill the report's flame-graph rows, that deep */
    int model_only;            /* stop after liveness and dominators: no containers, detectors
                                  or tables (for path, show and top) */
    size_t top_n;              /* rows of the retainer table (0 = 20) */
    size_t hist_n;             /* rows of the histogram (0 = 30) */
    void (*progress)(void *ctx, uint64_t done); /* bytes read while building the model */
    void *progress_ctx;
} analysis_options;

/* Default --min-instances: one instance of a rooted cycle is a singleton (a router and its
 * method-value handlers), so a leak needs a second (docs/report.md "Closure cycles"). */
#define ANALYSIS_MIN_INSTANCES 2

/* What kind of structure a container is. */
typedef enum analysis_container_kind {
    ANALYSIS_CONTAINER_NAMED = 0, /* a global named with --container: everything it reaches */
    ANALYSIS_CONTAINER_SYNC_MAP,  /* a recognised sync.Map (global, static or struct field) */
    ANALYSIS_CONTAINER_MAP,       /* a Go map named with --container, decoded */
} analysis_container_kind;

#define ANALYSIS_CONTAINER_SEEDS 2

/* A container: a structure whose reachable objects are "inside". */
typedef struct analysis_container {
    uint32_t node;        /* the holder: a global, an anonymous static or a heap object */
    uint64_t offset;      /* where the container lies in the holder, as the program sees it */
    uint64_t addr;        /* the container's own address */
    char *name;
    int kind;             /* analysis_container_kind */
    uint32_t seeds[ANALYSIS_CONTAINER_SEEDS]; /* its internal nodes; "inside" is what they
                                                 reach (none: what the holder reaches) */
    size_t nseeds;
    uint32_t *values;     /* value objects found by decoding */
    size_t nvalues;
    uint32_t *tombstones; /* sync.Map read-map entries whose value was deleted (1.19-1.23) */
    size_t ntombstones;
    uint64_t tombstone_bytes;
} analysis_container;

/* Wall time of each phase, for --timings and the benchmarks. */
enum { ANALYSIS_T_MODEL, ANALYSIS_T_TYPING, ANALYSIS_T_LIVENESS, ANALYSIS_T_DOMINATORS,
       ANALYSIS_T_CONTAINERS, ANALYSIS_T_DETECTORS, ANALYSIS_T_TABLES, ANALYSIS_NPHASES };

/* The phase's name ("model", "liveness", ...). */
const char *analysis_phase_name(int phase);

typedef struct analysis {
    source *src;              /* borrowed */
    heap *h;
    live_special *specials;   /* finalizer specials with an object in the heap */
    uint32_t *special_fin;    /* special index -> index in h->fins */
    size_t nspecials;
    graph_root *all_roots;    /* program roots, then the finalizer-special roots */
    size_t nall_roots;
    uint32_t *root_special;   /* all_roots[h->nroots + i] belongs to special root_special[i] */
    live_result *live;
    memclass *classes;        /* memory class of every node (memclass.h) */
    paths_tree *lasting;      /* lasting_tree's, once asked for (lasting.h) */
    dom_tree *dom;            /* over all roots */
    analysis_container *containers;
    size_t ncontainers;
    analysis_options opts;
    typeinfo *types;          /* type guesses by shape (typeinfo.h), built after the containers */
    typing_stats typing;      /* what DWARF typing did (typing.h); zero without DWARF */
    report *rep;              /* being filled */
    double seconds[ANALYSIS_NPHASES];
    uint64_t peak_rss[ANALYSIS_NPHASES]; /* process peak RSS at the end of each phase */
    double dom_wait;                      /* time the caller waited for the dominators */
    double wall;                          /* analysis_run, start to end */
} analysis;


/* Builds the model and runs every analysis and detector; *out receives the context with its
 * report in (*out)->rep (free it with analysis_free). s must stay open while the analysis
 * lives. Returns HS_OK, or a negative status with err saying which step failed and why (then
 * *out is NULL). */
int analysis_run(source *s, const analysis_options *opts, analysis **out, hs_error *err);

/* Frees the context and its report (NULL is accepted). */
void analysis_free(analysis *a);

/* Detach the report from the context (the caller then owns it). */
report *analysis_take_report(analysis *a);

#endif
