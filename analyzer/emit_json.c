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

/* Adds item under key (a string literal: cJSON keeps the pointer) or appends it to an array
 * when key is NULL. Takes ownership of item; returns it, or NULL after a failure. */
cJSON *emit_json_add(emit_json_ctx *j, cJSON *parent, const char *key, cJSON *item)
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
cJSON *emit_json_str(emit_json_ctx *j, cJSON *parent, const char *key, const char *s)
{
    if (!s)
        return emit_json_add(j, parent, key, cJSON_CreateNull());
    if (emit_utf8_valid(s))
        return emit_json_add(j, parent, key, cJSON_CreateString(s));
    emit_buf b;
    emit_buf_init(&b, (hs_writer){0});
    emit_buf_clean(&b, s, EMIT_CLEAN_UTF8);
    const char *clean = emit_buf_cstr(&b);
    cJSON *item = emit_json_add(j, parent, key, clean ? cJSON_CreateString(clean) : NULL);
    emit_buf_finish(&b);
    return item;
}

/* An unsigned integer, exact at any size. */
cJSON *emit_json_u64(emit_json_ctx *j, cJSON *parent, const char *key, uint64_t v)
{
    if (v <= (1ull << 53))
        return emit_json_add(j, parent, key, cJSON_CreateNumber((double)v));
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, v);
    return emit_json_add(j, parent, key, cJSON_CreateRaw(digits));
}

cJSON *emit_json_addr(emit_json_ctx *j, cJSON *parent, const char *key, uint64_t addr)
{
    char buf[EMIT_ADDR_MAX];
    return emit_json_add(j, parent, key, cJSON_CreateString(emit_addr(buf, addr)));
}

/* ["0x..", ...] as one raw item. */
static cJSON *j_addr_list(emit_json_ctx *j, cJSON *parent, const char *key, const uint64_t *a,
                          size_t n)
{
    emit_buf b;
    emit_buf_init(&b, (hs_writer){0});
    emit_buf_put(&b, "[", 1);
    for (size_t i = 0; i < n; i++)
        emit_buf_printf(&b, i ? ",\"0x%" PRIx64 "\"" : "\"0x%" PRIx64 "\"", a[i]);
    emit_buf_put(&b, "]", 1);
    const char *raw = emit_buf_cstr(&b);
    cJSON *item = emit_json_add(j, parent, key, raw ? cJSON_CreateRaw(raw) : NULL);
    emit_buf_finish(&b);
    return item;
}

static void j_strv(emit_json_ctx *j, cJSON *parent, const char *key, char *const *v, size_t n)
{
    cJSON *arr = emit_json_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && arr; i++)
        emit_json_str(j, arr, NULL, v[i]);
}

/* {kind, name, shape, addr, size, field, [field_name]}; field is null on the first step of a
 * path. */
static cJSON *j_step(emit_json_ctx *j, cJSON *parent, const char *key, const report_step *s)
{
    cJSON *o = emit_json_add(j, parent, key, cJSON_CreateObject());
    emit_json_str(j, o, "kind", report_node_kind_name(s->kind));
    emit_json_str(j, o, "name", s->name);
    emit_json_str(j, o, "shape", s->shape);
    emit_json_addr(j, o, "addr", s->addr);
    emit_json_u64(j, o, "size", s->size);
    if (s->field == REPORT_NO_FIELD)
        emit_json_add(j, o, "field", cJSON_CreateNull());
    else
        emit_json_u64(j, o, "field", s->field);
    if (s->field_name)
        emit_json_str(j, o, "field_name", s->field_name);
    return o;
}

static void j_steps(emit_json_ctx *j, cJSON *parent, const char *key, const report_step *s,
                    size_t n)
{
    cJSON *arr = emit_json_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && arr; i++)
        j_step(j, arr, NULL, &s[i]);
}

/* The path, or null when the finding has none (an unreachable cycle). */
static void j_path(emit_json_ctx *j, cJSON *parent, const report_path *p)
{
    if (!p->root_kind && !p->root_name && p->nsteps == 0) {
        emit_json_add(j, parent, "path", cJSON_CreateNull());
        return;
    }
    cJSON *o = emit_json_add(j, parent, "path", cJSON_CreateObject());
    emit_json_str(j, o, "root_kind", p->root_kind);
    emit_json_str(j, o, "root_name", p->root_name);
    j_steps(j, o, "steps", p->steps, p->nsteps);
}

/* Key order: kind, title, signature, count, bytes, retained_bytes, evidence, [reason],
 * [type], [container], holder, [keys], path, [cycle], [closures], objects. */
static void j_finding(emit_json_ctx *j, cJSON *arr, const report_finding *f, size_t max_objects)
{
    cJSON *o = emit_json_add(j, arr, NULL, cJSON_CreateObject());
    emit_json_str(j, o, "kind", report_kind_name(f->kind));
    emit_json_str(j, o, "title", f->title);
    emit_json_str(j, o, "signature", f->signature);
    emit_json_u64(j, o, "count", f->nobjects);
    emit_json_u64(j, o, "bytes", f->bytes);
    emit_json_u64(j, o, "retained_bytes", f->retained_bytes);
    emit_json_str(j, o, "evidence", f->evidence);
    if (f->reason)
        emit_json_str(j, o, "reason", f->reason);
    if (f->type)
        emit_json_str(j, o, "type", f->type);
    if (f->kind == REPORT_GHOST || f->kind == REPORT_TOMBSTONE)
        emit_json_str(j, o, "container", f->container);
    emit_json_str(j, o, "holder", f->holder);
    if (f->kind == REPORT_TOMBSTONE)
        emit_json_u64(j, o, "keys", f->keys);
    j_path(j, o, &f->path);
    if (f->kind == REPORT_CLOSURE_CYCLE) {
        j_steps(j, o, "cycle", f->cycle, f->ncycle);
        cJSON *cl = emit_json_add(j, o, "closures", cJSON_CreateArray());
        for (size_t i = 0; i < f->nclosures && cl; i++) {
            cJSON *c = emit_json_add(j, cl, NULL, cJSON_CreateObject());
            emit_json_addr(j, c, "addr", f->closures[i].addr);
            emit_json_str(j, c, "func", f->closures[i].func);
        }
    }
    j_addr_list(j, o, "objects", f->objects, f->nobjects < max_objects ? f->nobjects : max_objects);
}

/* Rows: {label, group, [addr], count, bytes, retained_bytes}; addr only for retainers. */
void emit_json_rows(emit_json_ctx *j, cJSON *parent, const char *key, const report_row *rows,
                    size_t n, int with_addr)
{
    cJSON *arr = emit_json_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && arr; i++) {
        cJSON *o = emit_json_add(j, arr, NULL, cJSON_CreateObject());
        emit_json_str(j, o, "label", rows[i].label);
        emit_json_str(j, o, "group", rows[i].group);
        if (with_addr)
            emit_json_addr(j, o, "addr", rows[i].addr);
        emit_json_u64(j, o, "count", rows[i].count);
        emit_json_u64(j, o, "bytes", rows[i].bytes);
        if (with_addr) /* retained sizes of histogram groups are not computed */
            emit_json_u64(j, o, "retained_bytes", rows[i].retained_bytes);
    }
}

/* The diff block of `heapsift diff` reports. */
static void j_diff(emit_json_ctx *j, cJSON *root, const report_diff *d)
{
    cJSON *o = emit_json_add(j, root, "diff", cJSON_CreateObject());
    emit_json_str(j, o, "before", d->before_path);
    emit_json_u64(j, o, "gone_objects", d->gone_objects);
    emit_json_u64(j, o, "gone_bytes", d->gone_bytes);
    emit_json_u64(j, o, "new_objects", d->new_objects);
    emit_json_u64(j, o, "new_bytes", d->new_bytes);
    emit_json_u64(j, o, "kept_objects", d->kept_objects);
    emit_json_u64(j, o, "kept_bytes", d->kept_bytes);
    cJSON *arr = emit_json_add(j, o, "growth", cJSON_CreateArray());
    for (size_t i = 0; i < d->ngrowth && arr; i++) {
        const report_delta *g = &d->growth[i];
        cJSON *row = emit_json_add(j, arr, NULL, cJSON_CreateObject());
        emit_json_str(j, row, "label", g->label);
        emit_json_str(j, row, "group", g->group);
        emit_json_u64(j, row, "count_before", g->count_before);
        emit_json_u64(j, row, "bytes_before", g->bytes_before);
        emit_json_u64(j, row, "count_after", g->count_after);
        emit_json_u64(j, row, "bytes_after", g->bytes_after);
    }
}

cJSON *emit_json_tree(emit_json_ctx *j, const report *r, size_t max_objects)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        j->status = HS_ERR_NOMEM;
        return NULL;
    }
    emit_json_str(j, root, "schema", REPORT_SCHEMA);

    cJSON *d = emit_json_add(j, root, "dump", cJSON_CreateObject());
    emit_json_str(j, d, "path", r->dump_path);
    emit_json_str(j, d, "go_version", r->go_version);
    emit_json_str(j, d, "goarch", r->goarch);
    emit_json_u64(j, d, "dump_bytes", r->dump_bytes);
    emit_json_str(j, d, "symbols", r->binary);

    cJSON *s = emit_json_add(j, root, "summary", cJSON_CreateObject());
    emit_json_u64(j, s, "objects", r->objects);
    emit_json_u64(j, s, "object_bytes", r->object_bytes);
    emit_json_u64(j, s, "in_use_objects", r->in_use_objects);
    emit_json_u64(j, s, "in_use_bytes", r->in_use_bytes);
    emit_json_u64(j, s, "garbage_objects", r->garbage_objects);
    emit_json_u64(j, s, "garbage_bytes", r->garbage_bytes);
    emit_json_u64(j, s, "pending_objects", r->pending_objects);
    emit_json_u64(j, s, "pinned_objects", r->pinned_objects);
    emit_json_u64(j, s, "fin_reachable_objects", r->fin_reachable_objects);
    emit_json_u64(j, s, "goroutines", r->goroutines);
    emit_json_u64(j, s, "finalizers", r->finalizers);
    emit_json_u64(j, s, "roots", r->roots);
    emit_json_u64(j, s, "pointer_edges", r->pointer_edges);
    emit_json_u64(j, s, "findings", r->nfindings);
    emit_json_u64(j, s, "info", r->ninfo);
    j_strv(j, s, "containers", r->containers, r->ncontainers);
    j_strv(j, s, "notes", r->notes, r->nnotes);

    cJSON *fs = emit_json_add(j, root, "findings", cJSON_CreateArray());
    for (size_t i = 0; i < r->nfindings && fs; i++)
        j_finding(j, fs, &r->findings[i], max_objects);
    cJSON *in = emit_json_add(j, root, "info", cJSON_CreateArray());
    for (size_t i = 0; i < r->ninfo && in; i++)
        j_finding(j, in, &r->info[i], max_objects);
    emit_json_rows(j, root, "top_retainers", r->retainers, r->nretainers, 1);
    emit_json_rows(j, root, "histogram", r->histogram, r->nhistogram, 0);
    if (r->diff)
        j_diff(j, root, r->diff);
    return root;
}

int emit_json(const report *r, hs_writer out, int pretty)
{
    if (!emit_report_valid(r) || !out.write)
        return HS_ERR_ARG;
    emit_json_ctx j = {HS_OK};
    cJSON *root = emit_json_tree(&j, r, SIZE_MAX);
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
