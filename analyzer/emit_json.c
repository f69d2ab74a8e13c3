/* emit_json.c - the report as JSON, schema "heapsift-report/1" (formats/report.schema.json).
 *
 * Keys come out in a fixed order. Addresses are "0x..." lowercase hex strings. Counts and
 * sizes are JSON numbers written exactly (integers above 2^53 are written digit by digit, not
 * through a double). Address lists are written as one preformatted array each, so a finding
 * with a million objects costs one string, not a million cJSON nodes. Strings from the dump
 * or binary that are not valid UTF-8 get U+FFFD for the bad bytes (cJSON escapes controls).
 */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Building state (emit.h): the first failure sticks, so the builders below need no error
 * plumbing. */
typedef emit_json_ctx jctx;

/* Adds item under key (a string literal: cJSON keeps the pointer) or appends it to an array
 * when key is NULL. Takes ownership of item; returns it, or NULL after a failure. */
static cJSON *j_add(jctx *j, cJSON *parent, const char *key, cJSON *item)
{
    if (!item || !parent || j->status) {
        cJSON_Delete(item);
        if (!j->status)
            j->status = HS_ERR_NOMEM;
        return NULL;
    }
    cJSON_bool ok = key ? cJSON_AddItemToObjectCS(parent, key, item)
                        : cJSON_AddItemToArray(parent, item);
    if (!ok) {
        cJSON_Delete(item);
        j->status = HS_ERR_NOMEM;
        return NULL;
    }
    return item;
}

/* A string value, or null for NULL. */
static cJSON *j_str(jctx *j, cJSON *parent, const char *key, const char *s)
{
    if (!s)
        return j_add(j, parent, key, cJSON_CreateNull());
    if (emit_utf8_valid(s))
        return j_add(j, parent, key, cJSON_CreateString(s));
    emit_buf b;
    emit_buf_init(&b, (hs_writer){0});
    emit_buf_clean(&b, s, EMIT_CLEAN_UTF8);
    const char *clean = emit_buf_cstr(&b);
    cJSON *item = j_add(j, parent, key, clean ? cJSON_CreateString(clean) : NULL);
    emit_buf_finish(&b);
    return item;
}

/* An unsigned integer, exact at any size. */
static cJSON *j_u64(jctx *j, cJSON *parent, const char *key, uint64_t v)
{
    if (v <= (1ull << 53))
        return j_add(j, parent, key, cJSON_CreateNumber((double)v));
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, v);
    return j_add(j, parent, key, cJSON_CreateRaw(digits));
}

static cJSON *j_addr(jctx *j, cJSON *parent, const char *key, uint64_t addr)
{
    char buf[EMIT_ADDR_MAX];
    return j_add(j, parent, key, cJSON_CreateString(emit_addr(addr, buf)));
}

/* ["0x..", ...] as one raw item. */
static cJSON *j_addr_list(jctx *j, cJSON *parent, const char *key, const uint64_t *a, size_t n)
{
    emit_buf b;
    emit_buf_init(&b, (hs_writer){0});
    emit_buf_put(&b, "[", 1);
    for (size_t i = 0; i < n; i++)
        emit_buf_printf(&b, i ? ",\"0x%" PRIx64 "\"" : "\"0x%" PRIx64 "\"", a[i]);
    emit_buf_put(&b, "]", 1);
    const char *raw = emit_buf_cstr(&b);
    cJSON *item = j_add(j, parent, key, raw ? cJSON_CreateRaw(raw) : NULL);
    emit_buf_finish(&b);
    return item;
}

static void j_strv(jctx *j, cJSON *parent, const char *key, char *const *v, size_t n)
{
    cJSON *arr = j_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && arr; i++)
        j_str(j, arr, NULL, v[i]);
}

/* {kind, name, shape, addr, size, field}; field is null on the first step of a path. */
static void j_steps(jctx *j, cJSON *parent, const char *key, const report_step *s, size_t n)
{
    cJSON *arr = j_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && arr; i++) {
        cJSON *o = j_add(j, arr, NULL, cJSON_CreateObject());
        j_str(j, o, "kind", report_node_kind_name(s[i].kind));
        j_str(j, o, "name", s[i].name);
        j_str(j, o, "shape", s[i].shape);
        j_addr(j, o, "addr", s[i].addr);
        j_u64(j, o, "size", s[i].size);
        if (s[i].field == REPORT_NO_FIELD)
            j_add(j, o, "field", cJSON_CreateNull());
        else
            j_u64(j, o, "field", s[i].field);
        if (s[i].field_name)
            j_str(j, o, "field_name", s[i].field_name);
    }
}

/* The path, or null when the finding has none (an unreachable cycle). */
static void j_path(jctx *j, cJSON *parent, const report_path *p)
{
    if (!p->root_kind && !p->root_name && p->nsteps == 0) {
        j_add(j, parent, "path", cJSON_CreateNull());
        return;
    }
    cJSON *o = j_add(j, parent, "path", cJSON_CreateObject());
    j_str(j, o, "root_kind", p->root_kind);
    j_str(j, o, "root_name", p->root_name);
    j_steps(j, o, "steps", p->steps, p->nsteps);
}

/* Key order: kind, title, signature, count, bytes, retained_bytes, evidence, [reason],
 * [type], [container], holder, [keys], path, [instances, cycle, closures], objects. */
static void j_finding(jctx *j, cJSON *arr, const report_finding *f, size_t max_objects)
{
    cJSON *o = j_add(j, arr, NULL, cJSON_CreateObject());
    j_str(j, o, "kind", report_kind_name(f->kind));
    j_str(j, o, "title", f->title);
    j_str(j, o, "signature", f->signature);
    j_u64(j, o, "count", f->nobjects);
    j_u64(j, o, "bytes", f->bytes);
    j_u64(j, o, "retained_bytes", f->retained_bytes);
    j_str(j, o, "evidence", f->evidence);
    if (f->reason)
        j_str(j, o, "reason", f->reason);
    if (f->type)
        j_str(j, o, "type", f->type);
    if (f->kind == REPORT_GHOST || f->kind == REPORT_TOMBSTONE)
        j_str(j, o, "container", f->container);
    j_str(j, o, "holder", f->holder);
    if (f->kind == REPORT_TOMBSTONE)
        j_u64(j, o, "keys", f->keys);
    j_path(j, o, &f->path);
    if (f->kind == REPORT_CLOSURE_CYCLE) {
        j_u64(j, o, "instances", f->instances);
        if (f->has_before) {
            j_u64(j, o, "instances_before", f->instances_before);
            j_u64(j, o, "bytes_before", f->bytes_before);
        }
        j_steps(j, o, "cycle", f->cycle, f->ncycle);
        cJSON *cl = j_add(j, o, "closures", cJSON_CreateArray());
        for (size_t i = 0; i < f->nclosures && cl; i++) {
            cJSON *c = j_add(j, cl, NULL, cJSON_CreateObject());
            j_addr(j, c, "addr", f->closures[i].addr);
            j_str(j, c, "func", f->closures[i].func);
        }
    }
    j_addr_list(j, o, "objects", f->objects, f->nobjects < max_objects ? f->nobjects : max_objects);
}

/* Rows: {label, group, [class], [addr], count, bytes, retained_bytes}; addr only for
 * retainers, class for histogram rows. */
static void j_rows(jctx *j, cJSON *parent, const char *key, const report_row *rows, size_t n,
                   int with_addr)
{
    cJSON *arr = j_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && arr; i++) {
        cJSON *o = j_add(j, arr, NULL, cJSON_CreateObject());
        j_str(j, o, "label", rows[i].label);
        j_str(j, o, "group", rows[i].group);
        if (rows[i].cls)
            j_str(j, o, "class", report_class_key(rows[i].cls - 1));
        if (with_addr)
            j_addr(j, o, "addr", rows[i].addr);
        j_u64(j, o, "count", rows[i].count);
        j_u64(j, o, "bytes", rows[i].bytes);
        if (with_addr) /* retained sizes of histogram groups are not computed */
            j_u64(j, o, "retained_bytes", rows[i].retained_bytes);
    }
}

/* The diff block of `heapsift diff` reports. */
static void j_diff(jctx *j, cJSON *root, const report_diff *d)
{
    cJSON *o = j_add(j, root, "diff", cJSON_CreateObject());
    j_str(j, o, "before", d->before_path);
    j_u64(j, o, "gone_objects", d->gone_objects);
    j_u64(j, o, "gone_bytes", d->gone_bytes);
    j_u64(j, o, "new_objects", d->new_objects);
    j_u64(j, o, "new_bytes", d->new_bytes);
    j_u64(j, o, "kept_objects", d->kept_objects);
    j_u64(j, o, "kept_bytes", d->kept_bytes);
    cJSON *arr = j_add(j, o, "growth", cJSON_CreateArray());
    for (size_t i = 0; i < d->ngrowth && arr; i++) {
        const report_delta *g = &d->growth[i];
        cJSON *row = j_add(j, arr, NULL, cJSON_CreateObject());
        j_str(j, row, "label", g->label);
        j_str(j, row, "group", g->group);
        j_str(j, row, "class", report_class_key(g->cls));
        j_u64(j, row, "count_before", g->count_before);
        j_u64(j, row, "bytes_before", g->bytes_before);
        j_u64(j, row, "count_after", g->count_after);
        j_u64(j, row, "bytes_after", g->bytes_after);
    }
}

/* summary.typing: the in-use objects with a Go type, by evidence. */
static void put_typing(jctx *j, cJSON *s, const report_typing *ty)
{
    cJSON *o = j_add(j, s, "typing", cJSON_CreateObject());
    j_str(j, o, "from", ty->from);
    j_u64(j, o, "objects", ty->objects);
    j_u64(j, o, "bytes", ty->bytes);
    j_u64(j, o, "refused", ty->refused);
    cJSON *by = j_add(j, o, "by_evidence", cJSON_CreateArray());
    for (size_t i = 0; i < ty->nby; i++) {
        cJSON *row = j_add(j, by, NULL, cJSON_CreateObject());
        j_str(j, row, "evidence", ty->by[i].evidence);
        j_u64(j, row, "objects", ty->by[i].objects);
        j_u64(j, row, "bytes", ty->by[i].bytes);
    }
}

static cJSON *build(jctx *j, const report *r, size_t max_objects)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        j->status = HS_ERR_NOMEM;
        return NULL;
    }
    j_str(j, root, "schema", REPORT_SCHEMA);

    cJSON *d = j_add(j, root, "dump", cJSON_CreateObject());
    j_str(j, d, "path", r->dump_path);
    j_str(j, d, "go_version", r->go_version);
    j_str(j, d, "goarch", r->goarch);
    j_u64(j, d, "dump_bytes", r->dump_bytes);
    j_str(j, d, "symbols", r->binary);

    cJSON *s = j_add(j, root, "summary", cJSON_CreateObject());
    j_u64(j, s, "objects", r->objects);
    j_u64(j, s, "object_bytes", r->object_bytes);
    j_u64(j, s, "in_use_objects", r->in_use_objects);
    j_u64(j, s, "in_use_bytes", r->in_use_bytes);
    j_u64(j, s, "garbage_objects", r->garbage_objects);
    j_u64(j, s, "garbage_bytes", r->garbage_bytes);
    j_u64(j, s, "pending_objects", r->pending_objects);
    j_u64(j, s, "pinned_objects", r->pinned_objects);
    j_u64(j, s, "fin_reachable_objects", r->fin_reachable_objects);
    cJSON *cl = j_add(j, s, "classes", cJSON_CreateObject());
    for (int k = 0; k < REPORT_NCLASSES && cl; k++) {
        cJSON *c = j_add(j, cl, report_class_key(k), cJSON_CreateObject());
        j_u64(j, c, "objects", r->class_objects[k]);
        j_u64(j, c, "bytes", r->class_bytes[k]);
    }
    j_u64(j, s, "goroutines", r->goroutines);
    j_u64(j, s, "finalizers", r->finalizers);
    j_u64(j, s, "roots", r->roots);
    j_u64(j, s, "pointer_edges", r->pointer_edges);
    if (r->typing.from) /* absent from reports made without typing (tests, old models) */
        put_typing(j, s, &r->typing);
    j_u64(j, s, "findings", r->nfindings);
    j_u64(j, s, "info", r->ninfo);
    j_strv(j, s, "containers", r->containers, r->ncontainers);
    j_strv(j, s, "notes", r->notes, r->nnotes);

    cJSON *fs = j_add(j, root, "findings", cJSON_CreateArray());
    for (size_t i = 0; i < r->nfindings && fs; i++)
        j_finding(j, fs, &r->findings[i], max_objects);
    cJSON *in = j_add(j, root, "info", cJSON_CreateArray());
    for (size_t i = 0; i < r->ninfo && in; i++)
        j_finding(j, in, &r->info[i], max_objects);
    j_rows(j, root, "top_retainers", r->retainers, r->nretainers, 1);
    j_rows(j, root, "histogram", r->histogram, r->nhistogram, 0);
    if (r->diff)
        j_diff(j, root, r->diff);
    return root;
}

int emit_json(const report *r, hs_writer out, int pretty)
{
    if (!emit_report_valid(r) || !out.write)
        return HS_ERR_ARG;
    jctx j = {HS_OK};
    cJSON *root = build(&j, r, SIZE_MAX);
    char *text = NULL;
    if (!j.status) {
        text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
        if (!text)
            j.status = HS_ERR_NOMEM;
    }
    cJSON_Delete(root);
    if (!j.status) {
        j.status = out.write(out.ctx, text, strlen(text));
        if (!j.status)
            j.status = out.write(out.ctx, "\n", 1);
        if (j.status > 0) /* a writer must return HS_OK or a negative status */
            j.status = HS_ERR_IO;
    }
    cJSON_free(text);
    return j.status;
}

/* ---- the builders, for the HTML page's data (emit.h) ---- */

cJSON *emit_json_add(emit_json_ctx *j, cJSON *parent, const char *key, cJSON *item)
{
    return j_add(j, parent, key, item);
}

cJSON *emit_json_str(emit_json_ctx *j, cJSON *parent, const char *key, const char *s)
{
    return j_str(j, parent, key, s);
}

cJSON *emit_json_u64(emit_json_ctx *j, cJSON *parent, const char *key, uint64_t v)
{
    return j_u64(j, parent, key, v);
}

cJSON *emit_json_addr(emit_json_ctx *j, cJSON *parent, const char *key, uint64_t addr)
{
    return j_addr(j, parent, key, addr);
}

void emit_json_rows(emit_json_ctx *j, cJSON *parent, const char *key, const report_row *rows,
                    size_t n, int with_addr)
{
    j_rows(j, parent, key, rows, n, with_addr);
}

cJSON *emit_json_tree(emit_json_ctx *j, const report *r, size_t max_objects)
{
    return build(j, r, max_objects);
}
