/* describe.h - turns heap nodes and graph paths into the report's resolved form (names,
 * program-visible addresses, sizes, field offsets) and names roots for people.
 *
 * What these functions fill (steps, paths, strings) is malloc'd and owned by the caller or by
 * the report it goes into (report_path_release, free). The int functions return HS_OK or
 * HS_ERR_NOMEM, their only failure; the char * ones return NULL when out of memory. */
#ifndef DESCRIBE_H
#define DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "report.h"

/* Fills *out for node reached through field (REPORT_NO_FIELD for a first step). */
int describe_step(const analysis *a, uint32_t node, uint32_t field, report_step *out);

/* Sets step->field_name from the type of node `from` (the step before) when it is known. */
int describe_field(const analysis *a, uint32_t from, uint32_t field, report_step *step);

/* Fills *out from graph steps (the first step's node is what the root seeds). root_kind and
 * root_name are copied. */
int describe_path(const analysis *a, const graph_step *steps, size_t n, const char *root_kind,
                  const char *root_name, report_path *out);

/* Short label for a node: type name, "closure F", "global S", "goroutine 7 frame F", shape. */
char *describe_label(const analysis *a, uint32_t node);

/* "1152 B, ptrs @0,@8" for an object's shape. */
char *describe_shape(const analysis *a, uint32_t obj);

/* Kind and name of the program root at index i of a->all_roots (caller frees both). */
int describe_root(const analysis *a, uint32_t root_index, char **kind, char **name);

/* A readable name for the place `offset` bytes into node holder: "main.store" for a global;
 * "*main.registry" for an anonymous static, named by the named global pointing at or nearest
 * below that place; "*main.svc" for a heap object a global points to; "+0x10" added when the
 * place is not where that name points. NULL when out of memory. */
char *describe_place(const analysis *a, uint32_t holder, uint64_t offset);

/* A name for the root holding in-use node v that stays the same across captures of one
 * binary, for signatures: its kind and name ("global *main.bus" for an anonymous static), a
 * frame by its function alone (goroutine ids and addresses change). NULL when out of
 * memory. */
char *describe_root_key(const analysis *a, uint32_t node);

/* The path from the roots of BFS tree t (over the program roots: live_program_tree,
 * lasting_tree) to node as a report path; an empty path when t does not reach it. */
int describe_tree_path(const analysis *a, const paths_tree *t, uint32_t node, report_path *out);

/* The program-tree path from the roots to node as a report path (finalizer roots excluded
 * when possible). Returns 0 and an empty path when node is not in use. */
int describe_program_path(const analysis *a, uint32_t node, report_path *out);

#endif
