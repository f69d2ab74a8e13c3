/* Unit tests for the HTML page (emit_html.c): the data element holds the report as JSON
 * (findings' object lists cut to the listed ones, the memory classes, the views with their
 * string table) and nothing from the dump can end it or the title; the page fetches nothing;
 * views that break report.h's rules and a failing writer are refused. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "emit.h"
#include "report.h"

#define HOSTILE "</script><script>alert(1)</script> <!-- & \xe2\x80\xa8"

static char *xdup(const char *s)
{
    char *p = report_strdup(s);
    if (!p)
        exit(2);
    return p;
}

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        exit(2);
    return p;
}

static report_step step(int kind, const char *name, uint64_t addr, uint64_t size, uint32_t field,
                        const char *field_name)
{
    report_step s = {kind, xdup(name), NULL, addr, size, field,
                     field_name ? xdup(field_name) : NULL};
    return s;
}

/* One ghost with 120 objects and a path; views (a tree of two, one node's details) when asked. */
static report *page_report(int views)
{
    report *r = zalloc(1, sizeof *r);
    r->dump_path = xdup("a<x>.hsd");
    r->in_use_objects = 10, r->in_use_bytes = 4096, r->garbage_bytes = 64, r->pinned_bytes = 288;
    r->class_objects[REPORT_CLASS_IN_USE] = 10, r->class_bytes[REPORT_CLASS_IN_USE] = 4096;
    r->class_objects[REPORT_CLASS_FIN_HELD] = 1, r->class_bytes[REPORT_CLASS_FIN_HELD] = 288;
    r->class_bytes[REPORT_CLASS_GARBAGE] = 64;
    r->nfindings = 1;
    r->findings = zalloc(1, sizeof *r->findings);
    report_finding *f = &r->findings[0];
    f->kind = REPORT_GHOST;
    f->title = xdup("title " HOSTILE);
    f->holder = xdup("global main.audit");
    f->nobjects = 120;
    f->objects = zalloc(120, sizeof *f->objects);
    for (size_t i = 0; i < 120; i++)
        f->objects[i] = 0xc000100000 + 0x40 * i;
    f->path.root_kind = xdup("global");
    f->path.root_name = xdup("main.audit");
    f->path.nsteps = 2;
    f->path.steps = zalloc(2, sizeof *f->path.steps);
    f->path.steps[0] = step(REPORT_NODE_GLOBAL, "main.audit", 0x5a1b20, 24, REPORT_NO_FIELD, NULL);
    f->path.steps[1] = step(REPORT_NODE_OBJECT, "main.Item", 0xc000100000, 64, 8, ".items[0]");
    if (!views)
        return r;
    report_views *v = r->views = zalloc(1, sizeof *r->views);
    v->listed = 3;
    v->ntree = 2;
    v->tree = zalloc(2, sizeof *v->tree);
    v->tree[0] = (report_tree_node){REPORT_NO_PARENT, step(REPORT_NODE_GLOBAL, "main.audit",
                                    0x5a1b20, 24, REPORT_NO_FIELD, NULL), 4096, 1, 0};
    v->tree[1] = (report_tree_node){0, step(REPORT_NODE_OBJECT, "main.Item " HOSTILE,
                                    0xc000100000, 64, REPORT_NO_FIELD, NULL), 4000, 3, 100};
    v->nobjects = 1;
    v->objects = zalloc(1, sizeof *v->objects);
    report_object *o = &v->objects[0];
    o->node = step(REPORT_NODE_OBJECT, "main.Item", 0xc000100000, 64, REPORT_NO_FIELD, NULL);
    o->state = xdup("in use");
    o->retained_bytes = 4000;
    o->nfields = o->fields_total = 1;
    o->fields = zalloc(1, sizeof *o->fields);
    o->fields[0] = step(REPORT_NODE_OBJECT, "main.Item", 0xc000100040, 64, 8, ".next");
    o->nreferrers = 1;
    o->referrers_total = 5;
    o->referrers = zalloc(1, sizeof *o->referrers);
    o->referrers[0] = step(REPORT_NODE_GLOBAL, "main.audit", 0x5a1b20, 24, 0, NULL);
    return r;
}

/* The page, NUL-terminated (the caller frees it), or NULL when emit_html failed. */
static char *page(const report *r)
{
    hs_mem_sink out = {0};
    int rc = emit_html(r, (hs_writer){hs_mem_write, &out});
    CHECK(rc == HS_OK);
    if (rc < 0 || hs_mem_write(&out, "", 1) < 0) {
        hs_mem_sink_release(&out);
        return NULL;
    }
    return (char *)out.data;
}

/* The data element's JSON, parsed (cJSON_Delete it). */
static cJSON *data_of(const char *html)
{
    static const char open[] = "<script type=\"application/json\" id=\"heapsift-data\">";
    const char *p = strstr(html, open);
    const char *end = p ? strstr(p, "</script>") : NULL;
    CHECK(p && end);
    if (!p || !end)
        return NULL;
    p += strlen(open);
    CHECK(memchr(p, '<', (size_t)(end - p)) == NULL); /* nothing can close the element */
    char *json = strndup(p, (size_t)(end - p));
    cJSON *d = json ? cJSON_Parse(json) : NULL;
    free(json);
    CHECK(d != NULL);
    return d;
}

static const cJSON *at(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        o = k[0] >= '0' && k[0] <= '9' ? cJSON_GetArrayItem(o, atoi(k))
                                        : cJSON_GetObjectItemCaseSensitive(o, k);
    return o;
}

static void test_page(void)
{
    report *r = page_report(1);
    char *html = page(r);
    cJSON *d = html ? data_of(html) : NULL;
    if (!d) {
        free(html);
        report_free(r);
        return;
    }
    CHECK(strstr(html, "<title>heapsift: a&lt;x&gt;.hsd</title>") != NULL);
    CHECK(strstr(html, "default-src 'none'") != NULL);
    CHECK(strstr(html, "http:") == NULL && strstr(html, "https:") == NULL);
    CHECK(strstr(html, "alert(1)</script>") == NULL);
    CHECK_STR(cJSON_GetStringValue(at(d, "schema")), REPORT_SCHEMA);
    CHECK_STR(cJSON_GetStringValue(at(d, "page")), "heapsift-page/1");
    CHECK_STR(cJSON_GetStringValue(at(d, "findings.0.title")), "title " HOSTILE);
    CHECK(cJSON_GetNumberValue(at(d, "findings.0.count")) == 120);
    CHECK(cJSON_GetArraySize(at(d, "findings.0.objects")) == 3); /* listed */
    CHECK_STR(cJSON_GetStringValue(at(d, "findings.0.objects.2")), "0xc000100080");
    CHECK_STR(cJSON_GetStringValue(at(d, "findings.0.path.steps.1.field_name")), ".items[0]");
    CHECK(cJSON_GetArraySize(at(d, "classes")) == REPORT_NCLASSES);
    CHECK_STR(cJSON_GetStringValue(at(d, "classes.1.id")), "pinned");
    CHECK_STR(cJSON_GetStringValue(at(d, "classes.1.label")), "finalizer-held");
    CHECK(cJSON_GetNumberValue(at(d, "classes.1.bytes")) == 288);
    /* views: steps are [kind, name, shape, addr, size, field, field_name], strings indexes */
    const cJSON *strs = at(d, "views.strings");
    const cJSON *n1 = at(d, "views.tree.1.node");
    CHECK(cJSON_IsNull(at(d, "views.tree.0.parent")));
    CHECK(cJSON_GetNumberValue(at(d, "views.tree.1.parent")) == 0);
    CHECK(cJSON_GetNumberValue(at(d, "views.tree.1.children")) == 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(strs, (int)cJSON_GetNumberValue(
                  cJSON_GetArrayItem(n1, 0)))), "object");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(strs, (int)cJSON_GetNumberValue(
                  cJSON_GetArrayItem(n1, 1)))), "main.Item " HOSTILE);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(n1, 2)) && cJSON_IsNull(cJSON_GetArrayItem(n1, 5)));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(n1, 3)), "0xc000100000");
    const cJSON *f0 = at(d, "views.objects.0.fields.0");
    CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(f0, 5)) == 8);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(strs, (int)cJSON_GetNumberValue(
                  cJSON_GetArrayItem(f0, 6)))), ".next");
    CHECK(cJSON_GetNumberValue(at(d, "views.objects.0.referrers_total")) == 5);
    /* each distinct string once */
    int n = cJSON_GetArraySize(strs);
    for (int i = 0; i < n; i++)
        for (int k = i + 1; k < n; k++)
            CHECK(strcmp(cJSON_GetArrayItem(strs, i)->valuestring,
                         cJSON_GetArrayItem(strs, k)->valuestring) != 0);
    cJSON_Delete(d);
    free(html);
    report_free(r);
}

static void test_without_views(void)
{
    report *r = page_report(0);
    char *html = page(r);
    cJSON *d = html ? data_of(html) : NULL;
    CHECK(d && cJSON_GetArraySize(at(d, "findings.0.objects")) == 50);
    CHECK(d && !at(d, "views"));
    cJSON_Delete(d);
    free(html);
    report_free(r);
}

static int fail_write(void *ctx, const void *buf, size_t n)
{
    (void)ctx, (void)buf, (void)n;
    return HS_ERR_IO;
}

static void test_refused(void)
{
    report *r = page_report(1);
    hs_mem_sink out = {0};
    CHECK(emit_html(r, (hs_writer){fail_write, NULL}) == HS_ERR_IO);
    r->views->tree[0].parent = 1; /* a parent after its child */
    CHECK(emit_html(r, (hs_writer){hs_mem_write, &out}) == HS_ERR_ARG);
    r->views->tree[0].parent = REPORT_NO_PARENT;
    r->views->objects[0].fields[0].kind = 99;
    CHECK(emit_html(r, (hs_writer){hs_mem_write, &out}) == HS_ERR_ARG);
    CHECK(out.len == 0);
    report_free(r);
}

int main(void)
{
    test_page();
    test_without_views();
    test_refused();
    return check_report();
}
