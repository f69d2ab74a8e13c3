/* tables.h - the report's tables: top retainers (dominator tree) and the histogram of live
 * objects by type, closure function or shape. */
#ifndef TABLES_H
#define TABLES_H

#include "analysis.h"

/* Fills a->rep->retainers with the top n nodes by retained size (top-level dominators). */
int tables_retainers(analysis *a, size_t n);

/* Fills a->rep->histogram with the n largest groups of in-use objects by bytes. */
int tables_histogram(analysis *a, size_t n);

#endif
