/* views.h - what the HTML page shows beyond the report (report.h, report_views): the table of
 * allocation sites, the biggest part of the dominator tree top-down, and the details of the
 * nodes the page shows (their pointer fields and their referrers). Bounds keep the page small
 * whatever the size of the heap (docs/report.md "The HTML page"). */
#ifndef VIEWS_H
#define VIEWS_H

#include <stddef.h>

#include "analysis.h"
#include "hs_error.h"

typedef struct views_options {
    size_t listed;      /* objects the page lists per finding (0: 50) */
    size_t tree_nodes;  /* nodes of the dominator tree (0: 300) */
    size_t sites;       /* rows of the allocation-site table (0: 30) */
    size_t max_objects; /* nodes with details (0: 1000) */
    size_t max_refs;    /* fields, and referrers, listed per node (0: 12); all nodes
                           together list at most max_objects * max_refs */
} views_options;

/* Fills a->rep->views (the report owns it; replaces none: it must be NULL) from a finished
 * analysis: its findings, liveness and dominator tree. Details go, within max_objects, to the
 * nodes of the findings' paths and cycles, then to the objects listed per finding, then to the
 * tree's nodes. o may be NULL (the defaults). Returns HS_OK, or HS_ERR_NOMEM with err set
 * (what was made until then stays in the report). */
int views_build(analysis *a, const views_options *o, hs_error *err);

#endif
