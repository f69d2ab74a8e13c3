/* emit_html.c - the report as one self-contained interactive HTML page (docs/report.md "The
 * HTML page"): the report's data as JSON in a <script type="application/json"> element, then
 * the page's style and script (analyzer/page/page.css and page.js, embedded at build time by
 * analyzer/page/embed.py) that render it. Nothing is fetched, and the page's
 * Content-Security-Policy forbids fetching anything: it opens from file:// and can be attached
 * to a ticket as it is.
 *
 * The data is the JSON report (heapsift-report/1) with each finding's object list cut to the
 * objects the page lists, plus "page" (heapsift-page/1), "classes" (the memory classes) and,
 * when the report has them, "views" (report_views: sites, the dominator tree, node details).
 * The views' steps, thousands of them, are arrays [kind, name, shape, addr, size, field,
 * field_name] whose strings are indexes into views.strings (each distinct string once): a
 * third of the size of the report's step objects, and the page is ready sooner.
 */
#include "emit.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "emit_html_assets.h"
#include "strpool.h"

#define PAGE_SCHEMA "heapsift-page/1"
#define LISTED_WITHOUT_VIEWS 50

/* Appends s[0..n) with &, <, > and " escaped. */
static void put_escaped(emit_buf *b, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
                        : s[i] == '"' ? "&quot;" : NULL;
        if (!rep)
            continue;
        emit_buf_put(b, s + from, i - from);
        emit_buf_puts(b, rep);
        from = i + 1;
    }
    emit_buf_put(b, s + from, n - from);
}

/* JSON text with <, > and & as \u escapes. They occur only inside JSON strings, where the
 * escapes mean the same; escaped, no string from the dump can end the script element. */
static void put_script_json(emit_buf *b, const char *s)
{
    const char *from = s;
    for (; *s; s++) {
        const char *rep = *s == '<' ? "\\u003c" : *s == '>' ? "\\u003e" : *s == '&' ? "\\u0026"
                                                                                    : NULL;
        if (!rep)
            continue;
        emit_buf_put(b, from, (size_t)(s - from));
        emit_buf_puts(b, rep);
        from = s + 1;
    }
    emit_buf_puts(b, from);
}

/* Heap objects by memory class (the summary's classes): the header's bar. */
static void j_classes(emit_json_ctx *j, cJSON *root, const report *r)
{
    static const char *const ids[REPORT_NCLASSES] = {"in-use", "pinned", "pending", "garbage"};
    cJSON *arr = emit_json_add(j, root, "classes", cJSON_CreateArray());
    for (int k = 0; k < REPORT_NCLASSES && arr; k++) {
        cJSON *o = emit_json_add(j, arr, NULL, cJSON_CreateObject());
        emit_json_str(j, o, "id", ids[k]);
        emit_json_str(j, o, "label", report_class_label(k));
        emit_json_u64(j, o, "objects", r->class_objects[k]);
        emit_json_u64(j, o, "bytes", r->class_bytes[k]);
    }
}

/* The views' string table: each distinct string once, steps name them by index. */
typedef struct vstrings {
    strpool pool;
    u64map index; /* offset in pool -> index in arr */
    cJSON *arr;
    uint32_t n;
} vstrings;

/* The index of s in the table (null for NULL). */
static void j_vstring(emit_json_ctx *j, vstrings *t, cJSON *parent, const char *s)
{
    if (!s) {
        emit_json_add(j, parent, NULL, cJSON_CreateNull());
        return;
    }
    uint32_t off = strpool_intern(&t->pool, s, strlen(s));
    uint32_t *at = off == UINT32_MAX ? NULL : u64map_upsert(&t->index, off, UINT32_MAX);
    if (!at) {
        j->status = HS_ERR_NOMEM;
        return;
    }
    if (*at == UINT32_MAX && emit_json_str(j, t->arr, NULL, s))
        *at = t->n++;
    emit_json_u64(j, parent, NULL, *at);
}

/* [kind, name, shape, addr, size, field, field_name] (see the file's comment). */
static void j_vstep(emit_json_ctx *j, vstrings *t, cJSON *parent, const char *key,
                    const report_step *s)
{
    cJSON *a = emit_json_add(j, parent, key, cJSON_CreateArray());
    if (!a)
        return;
    j_vstring(j, t, a, report_node_kind_name(s->kind));
    j_vstring(j, t, a, s->name);
    j_vstring(j, t, a, s->shape);
    emit_json_addr(j, a, NULL, s->addr);
    emit_json_u64(j, a, NULL, s->size);
    if (s->field == REPORT_NO_FIELD)
        emit_json_add(j, a, NULL, cJSON_CreateNull());
    else
        emit_json_u64(j, a, NULL, s->field);
    j_vstring(j, t, a, s->field_name);
}

static void j_vsteps(emit_json_ctx *j, vstrings *t, cJSON *parent, const char *key,
                     const report_step *s, size_t n)
{
    cJSON *a = emit_json_add(j, parent, key, cJSON_CreateArray());
    for (size_t i = 0; i < n && a; i++)
        j_vstep(j, t, a, NULL, &s[i]);
}

/* {node, state, site, retained_bytes, fields, fields_total, referrers, referrers_total} */
static void j_object(emit_json_ctx *j, vstrings *t, cJSON *arr, const report_object *x)
{
    cJSON *o = emit_json_add(j, arr, NULL, cJSON_CreateObject());
    j_vstep(j, t, o, "node", &x->node);
    emit_json_str(j, o, "state", x->state);
    emit_json_str(j, o, "site", x->site);
    emit_json_u64(j, o, "retained_bytes", x->retained_bytes);
    j_vsteps(j, t, o, "fields", x->fields, x->nfields);
    emit_json_u64(j, o, "fields_total", x->fields_total);
    j_vsteps(j, t, o, "referrers", x->referrers, x->nreferrers);
    emit_json_u64(j, o, "referrers_total", x->referrers_total);
}

static void j_views(emit_json_ctx *j, cJSON *root, const report_views *v)
{
    vstrings t = {0};
    cJSON *o = emit_json_add(j, root, "views", cJSON_CreateObject());
    emit_json_u64(j, o, "listed", v->listed);
    emit_json_u64(j, o, "objects_left_out", v->objects_left_out);
    emit_json_rows(j, o, "sites", v->sites, v->nsites, 0);
    t.arr = emit_json_add(j, o, "strings", cJSON_CreateArray());
    cJSON *tree = emit_json_add(j, o, "tree", cJSON_CreateArray());
    for (size_t i = 0; i < v->ntree && tree; i++) {
        const report_tree_node *n = &v->tree[i];
        cJSON *x = emit_json_add(j, tree, NULL, cJSON_CreateObject());
        if (n->parent == REPORT_NO_PARENT)
            emit_json_add(j, x, "parent", cJSON_CreateNull());
        else
            emit_json_u64(j, x, "parent", n->parent);
        j_vstep(j, &t, x, "node", &n->node);
        emit_json_u64(j, x, "retained_bytes", n->retained_bytes);
        emit_json_u64(j, x, "children", n->children);
        emit_json_u64(j, x, "rest_bytes", n->rest_bytes);
    }
    cJSON *objs = emit_json_add(j, o, "objects", cJSON_CreateArray());
    for (size_t i = 0; i < v->nobjects && objs; i++)
        j_object(j, &t, objs, &v->objects[i]);
    strpool_release(&t.pool);
    u64map_release(&t.index);
}

/* Whether the views are as report.h says (steps of known kinds, parents before children). */
static int views_valid(const report_views *v)
{
    if (!v)
        return 1;
    if ((v->nsites && !v->sites) || (v->ntree && !v->tree) || (v->nobjects && !v->objects))
        return 0;
    for (size_t i = 0; i < v->ntree; i++)
        if ((v->tree[i].parent != REPORT_NO_PARENT && v->tree[i].parent >= i) ||
            !emit_steps_valid(&v->tree[i].node, 1))
            return 0;
    for (size_t i = 0; i < v->nobjects; i++) {
        const report_object *o = &v->objects[i];
        if (!emit_steps_valid(&o->node, 1) || !emit_steps_valid(o->fields, o->nfields) ||
            !emit_steps_valid(o->referrers, o->nreferrers))
            return 0;
    }
    return 1;
}

/* The page's data as JSON text (cJSON_free it), or NULL with *status set. */
static char *page_data(const report *r, int *status)
{
    emit_json_ctx j = {HS_OK};
    cJSON *root = emit_json_tree(&j, r, r->views ? r->views->listed : LISTED_WITHOUT_VIEWS);
    emit_json_str(&j, root, "page", PAGE_SCHEMA);
    j_classes(&j, root, r);
    if (r->views)
        j_views(&j, root, r->views);
    char *text = j.status ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    *status = j.status ? j.status : text ? HS_OK : HS_ERR_NOMEM;
    return text;
}

int emit_html(const report *r, hs_writer out)
{
    if (!emit_report_valid(r) || !views_valid(r->views) || !out.write)
        return HS_ERR_ARG;
    int st;
    char *data = page_data(r, &st);
    if (!data)
        return st;
    emit_buf title;
    emit_buf_init(&title, (hs_writer){0});
    emit_buf_puts(&title, "heapsift: ");
    emit_buf_clean(&title, r->dump_path ? r->dump_path : "(unnamed dump)", EMIT_CLEAN_TERMINAL);
    const char *t = emit_buf_cstr(&title);
    emit_buf b;
    emit_buf_init(&b, out);
    emit_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
                      "base-uri 'none'; form-action 'none'\">\n<title>");
    put_escaped(&b, t ? t : "heapsift", t ? strlen(t) : 8);
    emit_buf_puts(&b, "</title>\n<style>\n");
    emit_buf_puts(&b, page_css);
    emit_buf_puts(&b, "</style>\n</head>\n<body>\n<noscript><p>This report is drawn by its "
                      "script: allow JavaScript for this file, or read the same report with "
                      "<code>heapsift analyze</code> in a terminal.</p></noscript>\n"
                      "<main id=\"app\" aria-busy=\"true\"></main>\n"
                      "<script type=\"application/json\" id=\"heapsift-data\">");
    put_script_json(&b, data);
    emit_buf_puts(&b, "</script>\n<script>\n");
    emit_buf_puts(&b, page_js);
    emit_buf_puts(&b, "</script>\n</body>\n</html>\n");
    cJSON_free(data);
    st = emit_buf_finish(&title);
    int rc = emit_buf_finish(&b);
    return rc < 0 ? rc : st;
}
