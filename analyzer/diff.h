/* diff.h - compares two analyses of dumps of one process (docs/heap-model.md "Containers and
 * ghosts"): which objects were freed or created, how each type/closure/shape grew, and exact
 * ghosts — objects a container reached before and no longer reaches, still live after, at the
 * same address with the same size and pointer layout (Go's heap does not move objects). */
#ifndef DIFF_H
#define DIFF_H

#include "analysis.h"

/* Fills after->rep->diff and adds "diff" ghosts to after->rep->findings (the report owns
 * them). Containers are matched by name. top bounds the growth table. Returns HS_OK, or a
 * negative status with err set. */
int diff_run(const analysis *before, analysis *after, size_t top, hs_error *err);

#endif
