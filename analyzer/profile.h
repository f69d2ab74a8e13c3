/* profile.h - the in-use heap as a pprof profile's samples (report.h, report_profile): every
 * in-use object is charged to its reference chain from a root, along the shortest paths the
 * report's paths follow (live_program_tree). docs/report.md "The pprof profile" has the frames:
 *
 *   - the root: a global's name, "frame F" for a stack frame, the name of any other root;
 *   - per hop, the field's Go name when the holder's type says it (array indexes collapsed:
 *     "items[]"), then the node reached: its type, "closure F" or its shape;
 *   - a hop that repeats the one before it (a list's next pointers) adds nothing, and a chain
 *     deeper than PROFILE_DEPTH frames keeps its first frames, "…" and its last hop,
 *
 * so that the chains of like objects are one sample. Retained bytes go to the objects that no
 * other object dominates (each retained byte is counted once).
 */
#ifndef PROFILE_H
#define PROFILE_H

#include "analysis.h"
#include "hs_error.h"

#define PROFILE_DEPTH 40

/* Fills a->rep->profile (which must be NULL; the report owns it) from a finished analysis
 * (liveness and dominators). Returns HS_OK, or HS_ERR_NOMEM with err set. */
int profile_build(analysis *a, hs_error *err);

#endif
