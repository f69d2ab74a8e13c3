/* tables.h - the report's tables: top retainers (dominator tree) and the histogram of live
 * objects by type, closure function or shape. */
#ifndef TABLES_H
#define TABLES_H

#include <stddef.h>

#include "analysis.h"
#include "hs_error.h"

/* Each table is filled into a->rep (which must exist; the report owns the rows) from the
 * liveness and the dominator tree. Each returns HS_OK, or HS_ERR_NOMEM with err set (the rows
 * made until then stay in the report). */

/* Fills a->rep->retainers with the top n nodes by retained size (top-level dominators). */
int tables_retainers(analysis *a, size_t n, hs_error *err);

/* Histogram groups, combinable as a mask. */
enum { TABLES_BY_TYPE = 1, TABLES_BY_CLOSURE = 2, TABLES_BY_SHAPE = 4, TABLES_BY_SITE = 8 };

/* Fills a->rep->histogram with the n largest groups of heap objects by bytes, one row per
 * group and memory class (in use, finalizer-held, pending finalization, garbage: every heap
 * byte is in some row of the full table). Each object falls in the first of closure, type,
 * shape (TABLES_BY_SITE: allocation site) that `by` allows; objects with none of them are
 * left out. */
int tables_histogram(analysis *a, size_t n, unsigned by, hs_error *err);

/* tables_histogram into *rows / *nrows (NULL and 0 on entry) instead of the report's
 * histogram; the caller owns the rows, also those made before a failure. */
int tables_histogram_rows(const analysis *a, size_t n, unsigned by, report_row **rows,
                          size_t *nrows, hs_error *err);

/* Fills a->rep->folded: every object's bytes charged to its memory class ("in_use",
 * "finalizer_held", ...: the first frame) and the chain of its dominators' labels from the
 * root (at most `depth` frames, deeper ones folded into the last; 0 means 16; garbage has no
 * dominators: its chain is its own label), for flame graphs. */
int tables_folded(analysis *a, unsigned depth, hs_error *err);

#endif
