/* emit.h - emitters: turn a report (report.h) into text for people, JSON for programs
 * (formats/report.schema.json, "heapsift-report/1") or Graphviz DOT. Emitters only format:
 * they never look into the heap and never print; everything goes through the caller's
 * hs_writer. Each returns HS_OK or a negative hs_status (the writer's own status when a write
 * failed, HS_ERR_NOMEM, or HS_ERR_ARG for a report that breaks report.h's rules, such as an
 * unknown kind).
 */
#ifndef EMIT_H
#define EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "hs_io.h"
#include "report.h"

typedef struct emit_text_options {
    size_t max_objects; /* object addresses listed per finding (the JSON always has all) */
    int tables;         /* print the top-retainers and histogram tables */
    int color;          /* ANSI colour for headers (for a terminal) */
    size_t width;       /* wrap lines longer than this many columns (0: never) */
} emit_text_options;

/* Fills *opts with the defaults: 5 addresses per finding, tables on, colour off, no
 * wrapping. */
void emit_text_options_init(emit_text_options *opts);

/* Writes the report for people to out. opts may be NULL (defaults). */
int emit_text(const report *r, hs_writer out, const emit_text_options *opts);

/* Writes one path as the report draws it: the root line, then one node per line with the
 * field offset of each hop (no indentation). An empty path writes nothing. */
int emit_text_path(const report_path *p, hs_writer out);

/* Writes rows as the report's table (RETAINED BYTES COUNT GROUP NAME, a header line first);
 * with_addr appends each row's address to its name (for retainers). n == 0 writes nothing. */
int emit_text_rows(const report_row *rows, size_t n, int with_addr, hs_writer out);

/* Writes the report as one JSON document ("heapsift-report/1") followed by a newline; pretty
 * indents it (address lists stay on one line each). */
int emit_json(const report *r, hs_writer out, int pretty);

/* Writes a Graphviz digraph: one cluster per finding (and info item) with its path from the
 * root and, for closure cycles, the cycle; edges are labelled with the field offset. */
int emit_dot(const report *r, hs_writer out);

/* Writes the report as one self-contained interactive HTML page: inline styles and script,
 * no network access (docs/report.md "The HTML page"). Uses the report's views (views.h) when
 * it has them; without them the page has no dominator tree, sites or object details. */
int emit_html(const report *r, hs_writer out);

/* Writes the flame-graph rows (report.folded) as folded stacks, one "A;B;C bytes" line each. */
int emit_folded(const report *r, hs_writer out);

/* Writes the report's profile (report.profile, profile.h) as a gzipped pprof profile.proto
 * for `go tool pprof`; HS_ERR_ARG when the report has no profile. */
int emit_pprof(const report *r, hs_writer out);

/* ---- Shared by the emitters (emit.c); not for other modules. ---- */

/* A buffered output: appends go to memory and are written to out in large chunks. The first
 * failure (allocation or write) sticks in status and later appends are ignored. With
 * out.write == NULL nothing is ever written: the buffer is a string builder. */
typedef struct emit_buf {
    hs_writer out;
    char *data;
    size_t len, cap;
    int status;
} emit_buf;

void emit_buf_init(emit_buf *b, hs_writer out);
void emit_buf_put(emit_buf *b, const char *s, size_t n);
void emit_buf_puts(emit_buf *b, const char *s);
void emit_buf_printf(emit_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n spaces. */
void emit_buf_pad(emit_buf *b, size_t n);

/* How emit_buf_clean rewrites a string from the dump or binary (untrusted bytes). */
enum {
    EMIT_CLEAN_UTF8 = 0,     /* invalid UTF-8 becomes U+FFFD; everything else is kept */
    EMIT_CLEAN_TERMINAL = 1, /* also control characters (C0, DEL, C1) become '?' */
};
/* Appends s (NULL appends "?") rewritten as mode says. */
void emit_buf_clean(emit_buf *b, const char *s, int mode);

/* Appends "<kind> <name>" cleaned for a terminal, without repeating the kind when the name
 * already starts with it ("global" + "global main.x" gives "global main.x"). Either may be
 * NULL. */
void emit_buf_kind_name(emit_buf *b, const char *kind, const char *name);

/* Returns the NUL-terminated contents (a string builder's result; still owned by b), or NULL
 * after a failure. */
const char *emit_buf_cstr(emit_buf *b);

/* Writes out what is left (unless out.write is NULL), frees the buffer and returns the
 * sticky status. */
int emit_buf_finish(emit_buf *b);

/* JSON building with cJSON (emit_json.c), shared with the HTML page's data. The first
 * failure sticks in the context's status (HS_ERR_NOMEM), so builders need no error plumbing;
 * keys are string literals (cJSON keeps the pointer), NULL appends to an array. */
typedef struct emit_json_ctx {
    int status;
} emit_json_ctx;
struct cJSON;

/* Adds item (taking ownership) under key of parent; returns it, or NULL after a failure. */
struct cJSON *emit_json_add(emit_json_ctx *j, struct cJSON *parent, const char *key,
                            struct cJSON *item);
/* A string (invalid UTF-8 becomes U+FFFD; NULL gives null), an exact unsigned integer, and an
 * address as "0x..."; each returns the new item or NULL. */
struct cJSON *emit_json_str(emit_json_ctx *j, struct cJSON *parent, const char *key,
                            const char *s);
struct cJSON *emit_json_u64(emit_json_ctx *j, struct cJSON *parent, const char *key, uint64_t v);
struct cJSON *emit_json_addr(emit_json_ctx *j, struct cJSON *parent, const char *key,
                             uint64_t addr);
/* Table rows ({label, group, [addr], count, bytes, [retained_bytes]}, with_addr for both). */
void emit_json_rows(emit_json_ctx *j, struct cJSON *parent, const char *key,
                    const report_row *rows, size_t n, int with_addr);
/* The whole report as heapsift-report/1, each finding listing its first max_objects objects
 * (SIZE_MAX: all; "count" keeps their number). The caller frees it with cJSON_Delete. */
struct cJSON *emit_json_tree(emit_json_ctx *j, const report *r, size_t max_objects);

/* Line wrapping (emit_wrap.c): an emit_wrap is an hs_writer (emit_wrap_write, ctx = the
 * emit_wrap) that passes text on to out line by line, breaking lines wider than width
 * columns at spaces; the continuations start at the column of the line's first
 * EMIT_WRAP_MARK (not printed), else at its indentation. An EMIT_WRAP_GLUE is a space that
 * does not break. */
#define EMIT_WRAP_MARK '\001'
#define EMIT_WRAP_GLUE '\002' /* printed as a space, never broken at */
typedef struct emit_wrap {
    hs_writer out;
    size_t width;
    char *line;     /* the line being received */
    size_t len, cap;
    int status;     /* the first failure: out's status or HS_ERR_NOMEM */
} emit_wrap;

/* An empty wrapper writing to out at width columns (0: lines pass unchanged but for marks). */
void emit_wrap_init(emit_wrap *w, hs_writer out, size_t width);
/* Takes n bytes of text; returns HS_OK or the sticky status. */
int emit_wrap_write(void *ctx, const void *buf, size_t n);
/* Passes on the last, unfinished line, frees what w holds and returns its status. */
int emit_wrap_finish(emit_wrap *w);

/* Returns 1 when s is valid UTF-8 (NULL counts as valid). */
int emit_utf8_valid(const char *s);

/* "0x" + lowercase hex, as the JSON and text print addresses. */
#define EMIT_ADDR_MAX 19
const char *emit_addr(uint64_t addr, char buf[EMIT_ADDR_MAX]);

/* Human size: "576 B", "6.8 KiB", "12.0 MiB", ... (binary units, one decimal, rounded). */
#define EMIT_SIZE_MAX 24
const char *emit_size(uint64_t bytes, char buf[EMIT_SIZE_MAX]);

/* The kind as people read it: "ghost", "finalizer-pinned", "closure cycle", "tombstone". */
const char *emit_kind_label(int kind);

/* Returns 1 when steps is non-NULL (or n == 0) and every step's kind is a report_node_kind. */
int emit_steps_valid(const report_step *s, size_t n);

/* Returns 1 when every kind, node kind and closure-cycle array of r is as report.h says. */
int emit_report_valid(const report *r);

#endif
