/* Unit tests for the report model (report.c) and the emitters (emit_text, emit_json,
 * emit_dot): exact text for a small report, JSON parsed back field by field, every address
 * present, untrusted strings cleaned, failing writers reported.
 *
 * With an argument DIR it also writes DIR/full.json, DIR/full-compact.json and
 * DIR/empty.json for tests/integration/test_schema.py to validate against the schema.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "emit.h"
#include "report.h"

#define NGHOSTS 12

static char *xdup(const char *s)
{
    char *p = report_strdup(s);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static report_step step(int kind, const char *name, const char *shape, uint64_t addr,
                        uint64_t size, uint32_t field)
{
    report_step s = {kind, name ? xdup(name) : NULL, shape ? xdup(shape) : NULL, addr, size, field};
    return s;
}

static void set_path(report_path *p, const char *root_kind, const char *root_name,
                     const report_step *steps, size_t n)
{
    p->root_kind = xdup(root_kind);
    p->root_name = xdup(root_name);
    p->steps = zalloc(n, sizeof *p->steps);
    for (size_t i = 0; i < n; i++)
        p->steps[i] = steps[i];
    p->nsteps = n;
}

static void set_objects(report_finding *f, uint64_t first, size_t n, uint64_t stride)
{
    f->objects = zalloc(n, sizeof *f->objects);
    for (size_t i = 0; i < n; i++)
        f->objects[i] = first + i * stride;
    f->nobjects = n;
}

static char **strv(const char *a, const char *b)
{
    char **v = zalloc(2, sizeof *v);
    v[0] = xdup(a);
    v[1] = xdup(b);
    return v;
}

static report_row row(const char *label, const char *group, uint64_t addr, uint64_t count,
                      uint64_t bytes, uint64_t retained)
{
    report_row r = {xdup(label), xdup(group), addr, count, bytes, retained};
    return r;
}

/* A closure cycle: closure 0xc000200000 -> main.Payload 0xc000200010 -> the closure. */
static void fill_cycle(report_finding *f, const char *reason, int with_path)
{
    f->kind = REPORT_CLOSURE_CYCLE;
    f->title = xdup("retained reference cycle through closure main.(*Payload).close-fm");
    f->signature = xdup("rooted|2|main.(*Payload).close-fm");
    set_objects(f, 0xc000200000, 2, 0x10);
    f->bytes = 64;
    f->retained_bytes = 4160;
    f->instances = 1;
    f->evidence = xdup("scc");
    f->reason = xdup(reason);
    f->type = xdup("cycle of 2 objects through main.(*Payload).close-fm");
    if (with_path) {
        f->holder = xdup("stack frame goroutine 7 main.worker");
        report_step p[] = {
            step(REPORT_NODE_FRAME, "goroutine 7 main.worker", NULL, 0xc000050f00, 96,
                 REPORT_NO_FIELD),
            step(REPORT_NODE_CLOSURE, "main.(*Payload).close-fm", NULL, 0xc000200000, 16, 0x20),
        };
        set_path(&f->path, "stack frame", "goroutine 7 main.worker", p, 2);
    }
    f->cycle = zalloc(3, sizeof *f->cycle);
    f->cycle[0] = step(REPORT_NODE_CLOSURE, "main.(*Payload).close-fm", NULL, 0xc000200000, 16,
                       REPORT_NO_FIELD);
    f->cycle[1] = step(REPORT_NODE_OBJECT, "main.Payload", NULL, 0xc000200010, 48, 0x8);
    f->cycle[2] = step(REPORT_NODE_CLOSURE, "main.(*Payload).close-fm", NULL, 0xc000200000, 16,
                       0x28);
    f->ncycle = 3;
    f->closures = zalloc(1, sizeof *f->closures);
    f->closures[0].addr = 0xc000200000;
    f->closures[0].func = xdup("main.(*Payload).close-fm");
    f->nclosures = 1;
}

/* One finding of each kind, one info item, both tables. */
static report *full_report(void)
{
    report *r = zalloc(1, sizeof *r);
    r->dump_path = xdup("/tmp/after.hsd");
    r->go_version = xdup("go1.22.3");
    r->goarch = xdup("amd64");
    r->dump_bytes = 12897484;
    r->binary = xdup(".hsd");
    r->objects = 52000, r->object_bytes = 6291456;
    r->in_use_objects = 50000, r->in_use_bytes = 6000000;
    r->garbage_objects = 1990, r->garbage_bytes = 290000;
    r->pending_objects = 3, r->pinned_objects = 7, r->fin_reachable_objects = 30;
    const uint64_t cobj[REPORT_NCLASSES] = {50000, 37, 3, 1960};
    const uint64_t cbytes[REPORT_NCLASSES] = {6000000, 4096, 256, 287104};
    for (int k = 0; k < REPORT_NCLASSES; k++)
        r->class_objects[k] = cobj[k], r->class_bytes[k] = cbytes[k];
    r->goroutines = 9, r->finalizers = 11, r->roots = 412, r->pointer_edges = 98765;
    r->containers = strv("main.registry", "main.cache");
    r->ncontainers = 2;
    r->notes = strv("types inferred from interface words",
                    "Go 1.22 dumps carry no allocation sites");
    r->nnotes = 2;

    r->nfindings = 4;
    r->findings = zalloc(r->nfindings, sizeof *r->findings);
    report_finding *g = &r->findings[0];
    g->kind = REPORT_GHOST;
    g->title = xdup("12 main.Item deleted from main.registry, held by global main.audit");
    g->signature = xdup("ghost|global main.audit|main.Item");
    set_objects(g, 0xc000123000, NGHOSTS, 0x240);
    g->bytes = NGHOSTS * 576;
    g->retained_bytes = 13824;
    g->evidence = xdup("type");
    g->type = xdup("main.Item");
    g->container = xdup("main.registry");
    g->holder = xdup("global main.audit");
    report_step gp[] = {
        step(REPORT_NODE_GLOBAL, "main.audit", NULL, 0x5a1b20, 24, REPORT_NO_FIELD),
        step(REPORT_NODE_OBJECT, "[]*main.Item", NULL, 0xc000100000, 192, 0x0),
        step(REPORT_NODE_OBJECT, "main.Item", NULL, 0xc000123000, 576, 0x18),
    };
    set_path(&g->path, "global", "main.audit", gp, 3);

    report_finding *p = &r->findings[1];
    p->kind = REPORT_FINALIZER_PINNED;
    p->title = xdup("main.Conn pinned by its own finalizer closure");
    p->signature = xdup("finalizer_pinned|own_closure|main.Conn");
    set_objects(p, 0xc000300000, 1, 0);
    p->bytes = 1152;
    p->retained_bytes = 1152;
    p->evidence = xdup("liveness");
    p->reason = xdup("own_closure");
    p->holder = xdup("finalizer main.(*Conn).Close-fm of 0xc000300000");
    report_step pp[] = {
        step(REPORT_NODE_FINALIZER, "finalizer of 0xc000300000", NULL, 0, 0, REPORT_NO_FIELD),
        step(REPORT_NODE_CLOSURE, "main.(*Conn).Close-fm", NULL, 0xc000310000, 16, 0),
        step(REPORT_NODE_OBJECT, NULL, "1152 B, ptrs @8", 0xc000300000, 1152, 0x8),
    };
    set_path(&p->path, "finalizer", "finalizer main.(*Conn).Close-fm of 0xc000300000", pp, 3);

    fill_cycle(&r->findings[2], "rooted", 1);

    report_finding *t = &r->findings[3];
    t->kind = REPORT_TOMBSTONE;
    t->title = xdup("sync.Map main.cache keeps 40 deleted keys in its read map");
    t->signature = xdup("tombstone|main.cache");
    set_objects(t, 0xc000400000, 1, 0);
    t->bytes = 4096;
    t->retained_bytes = 4096;
    t->evidence = xdup("sync.Map layout");
    t->container = xdup("main.cache");
    t->holder = xdup("global main.cache");
    t->keys = 40;
    report_step tp[] = {
        /* named as the analysis names globals: the kind word repeated in the name */
        step(REPORT_NODE_GLOBAL, "global main.cache", NULL, 0x5a1c00, 8, REPORT_NO_FIELD),
        step(REPORT_NODE_OBJECT, "sync.Map", NULL, 0xc000400000, 4096, 0),
    };
    set_path(&t->path, "global", "main.cache", tp, 2);

    r->ninfo = 1;
    r->info = zalloc(1, sizeof *r->info);
    fill_cycle(&r->info[0], "unreachable", 0);
    free(r->info[0].title);
    r->info[0].title = xdup("collectable reference cycle through closure main.(*Payload).close-fm");

    r->nretainers = 2;
    r->retainers = zalloc(2, sizeof *r->retainers);
    r->retainers[0] = row("main.audit", "global", 0x5a1b20, 1, 24, 13848);
    r->retainers[1] = row("goroutine 7 main.worker", "frame", 0xc000050f00, 1, 96, 4256);
    r->nhistogram = 2;
    r->histogram = zalloc(2, sizeof *r->histogram);
    r->histogram[0] = row("main.Item", "type", 0, 2000, 1152000, 1200000);
    r->histogram[1] = row("closure main.(*Payload).close-fm", "closure", 0, 3, 48, 0);
    return r;
}

static report *empty_report(void)
{
    report *r = zalloc(1, sizeof *r);
    r->dump_path = xdup("empty.dump");
    r->go_version = xdup("go1.19.8");
    r->goarch = xdup("amd64");
    r->dump_bytes = 1000;
    return r;
}

typedef int (*emit_fn)(const report *r, hs_writer w, const void *opts);

/* A writer that succeeds *ctx times, then fails. */
static int fail_write(void *ctx, const void *buf, size_t n)
{
    (void)buf, (void)n;
    int *calls = ctx;
    return (*calls)-- > 0 ? HS_OK : HS_ERR_IO;
}

static int run_text(const report *r, hs_writer w, const void *o) { return emit_text(r, w, o); }
static int run_json(const report *r, hs_writer w, const void *o)
{
    return emit_json(r, w, o != NULL);
}
static int run_dot(const report *r, hs_writer w, const void *o)
{
    (void)o;
    return emit_dot(r, w);
}

/* Runs an emitter into memory; returns a malloc'd NUL-terminated string (NULL on failure). */
static char *render(emit_fn fn, const report *r, const void *opts)
{
    hs_mem_sink sink = {0};
    int rc = fn(r, (hs_writer){hs_mem_write, &sink}, opts);
    CHECK(rc == HS_OK);
    if (rc != HS_OK || hs_mem_write(&sink, "", 1) != HS_OK) {
        hs_mem_sink_release(&sink);
        return NULL;
    }
    return (char *)sink.data;
}

static const char golden_text[] =
    "heapsift report for /tmp/after.hsd\n"
    "  12.3 MiB dump, go1.22.3 amd64, symbols from .hsd\n"
    "\n"
    "4 findings: 12 ghosts, 1 finalizer-pinned object, 1 closure cycle, 1 container "
    "with tombstoned keys\n"
    "(2 notes below on what this analysis could not see)\n"
    "\n"
    "#1 ghost: 12 objects, 6.8 KiB, retains 13.5 KiB\n"
    "   12 main.Item deleted from main.registry, held by global main.audit\n"
    "   evidence:  type\n"
    "   type:      main.Item\n"
    "   container: main.registry\n"
    "   holder:    global main.audit\n"
    "   path:      global main.audit 0x5a1b20 (24 B)\n"
    "               +0x0 -> []*main.Item 0xc000100000 (192 B)\n"
    "              +0x18 -> main.Item 0xc000123000 (576 B)\n"
    "   objects:   0xc000123000 0xc000123240 0xc000123480 0xc0001236c0\n"
    "              0xc000123900 ... and 7 more\n"
    "\n"
    "#2 finalizer-pinned: 1 object, 1.1 KiB, retains 1.1 KiB\n"
    "   main.Conn pinned by its own finalizer closure\n"
    "   evidence:  liveness\n"
    "   reason:    own_closure\n"
    "   holder:    finalizer main.(*Conn).Close-fm of 0xc000300000\n"
    "   path:      finalizer main.(*Conn).Close-fm of 0xc000300000\n"
    "                      finalizer of 0xc000300000\n"
    "              +0x0 -> closure main.(*Conn).Close-fm 0xc000310000 (16 B)\n"
    "              +0x8 -> object [1152 B, ptrs @8] 0xc000300000 (1.1 KiB)\n"
    "   objects:   0xc000300000\n"
    "\n"
    "#3 closure cycle: 2 objects, 64 B, retains 4.1 KiB\n"
    "   retained reference cycle through closure main.(*Payload).close-fm\n"
    "   evidence:  scc\n"
    "   reason:    rooted\n"
    "   type:      cycle of 2 objects through main.(*Payload).close-fm\n"
    "   instances: 1\n"
    "   holder:    stack frame goroutine 7 main.worker\n"
    "   path:      stack frame goroutine 7 main.worker 0xc000050f00 (96 B)\n"
    "              +0x20 -> closure main.(*Payload).close-fm 0xc000200000 (16 B)\n"
    "   cycle:              closure main.(*Payload).close-fm 0xc000200000 (16 B)\n"
    "               +0x8 -> main.Payload 0xc000200010 (48 B)\n"
    "              +0x28 -> closure main.(*Payload).close-fm 0xc000200000 (16 B)\n"
    "   closures:  0xc000200000 main.(*Payload).close-fm\n"
    "   objects:   0xc000200000 0xc000200010\n"
    "\n"
    "#4 tombstone: 1 object, 4.0 KiB, retains 4.0 KiB\n"
    "   sync.Map main.cache keeps 40 deleted keys in its read map\n"
    "   evidence:  sync.Map layout\n"
    "   container: main.cache\n"
    "   keys:      40 deleted, still in the read map\n"
    "   holder:    global main.cache\n"
    "   path:      global main.cache 0x5a1c00 (8 B)\n"
    "              +0x0 -> sync.Map 0xc000400000 (4.0 KiB)\n"
    "   objects:   0xc000400000\n"
    "\n"
    "Not leaks: 1 item (collectable, in flight or singletons)\n"
    "  closure cycle: 2 objects, 64 B, retains 4.1 KiB: collectable reference cycle "
    "through closure main.(*Payload).close-fm\n"
    "\n"
    "Summary\n"
    "  objects              52000  6.0 MiB\n"
    "  in use               50000  5.7 MiB\n"
    "  finalizer-held          37  4.0 KiB\n"
    "  pending finalization     3  256 B\n"
    "  garbage               1960  280.4 KiB\n"
    "    finalizer-pinned       7\n"
    "  goroutines               9\n"
    "  finalizers              11\n"
    "  roots                  412\n"
    "  pointer edges        98765\n"
    "  containers           main.registry\n"
    "                       main.cache\n"
    "  note: types inferred from interface words\n"
    "  note: Go 1.22 dumps carry no allocation sites\n"
    "\n"
    "Top retainers\n"
    "  RETAINED  BYTES  COUNT  GROUP   NAME\n"
    "  13.5 KiB   24 B      1  global  main.audit 0x5a1b20\n"
    "   4.2 KiB   96 B      1  frame   goroutine 7 main.worker 0xc000050f00\n"
    "\n"
    "Histogram\n"
    "    BYTES  COUNT  GROUP    NAME\n"
    "  1.1 MiB   2000  type     main.Item\n"
    "     48 B      3  closure  closure main.(*Payload).close-fm\n";

static void test_text(void)
{
    report *r = full_report();
    char *s = render(run_text, r, NULL);
    CHECK_STR(s, golden_text);
    if (s && strcmp(s, golden_text) != 0)
        fprintf(stderr, "--- got:\n%s--- end\n", s);
    free(s);

    /* all addresses, no tables */
    emit_text_options o;
    emit_text_options_init(&o);
    CHECK(o.max_objects == 5 && o.tables == 1 && o.color == 0);
    o.max_objects = SIZE_MAX;
    o.tables = 0;
    s = render(run_text, r, &o);
    CHECK(s && strstr(s, "0xc0001248c0\n") && !strstr(s, "more\n")); /* the 12th ghost */
    CHECK(s && !strstr(s, "Top retainers") && !strstr(s, "Histogram"));
    free(s);

    /* colour wraps headers in ANSI bold */
    o.color = 1;
    s = render(run_text, r, &o);
    CHECK(s && strstr(s, "\033[1m#1 ghost: 12 objects, 6.8 KiB, retains 13.5 KiB\033[0m\n"));
    free(s);

    /* no addresses listed at all */
    o.max_objects = 0;
    o.color = 0;
    s = render(run_text, r, &o);
    CHECK(s && strstr(s, "   objects:   ... and 12 more\n"));
    free(s);
    report_free(r);

    r = empty_report();
    s = render(run_text, r, NULL);
    CHECK_STR(s, "heapsift report for empty.dump\n"
                 "  1000 B dump, go1.19.8 amd64, no symbols\n"
                 "\n"
                 "no leaks found: 0 ghosts, 0 finalizer-pinned objects, 0 closure cycles\n"
                 "\n"
                 "Summary\n"
                 "  objects              0  0 B\n"
                 "  in use               0  0 B\n"
                 "  finalizer-held       0  0 B\n"
                 "  pending finalization 0  0 B\n"
                 "  garbage              0  0 B\n"
                 "    finalizer-pinned   0\n"
                 "  goroutines           0\n"
                 "  finalizers           0\n"
                 "  roots                0\n"
                 "  pointer edges        0\n");
    free(s);
    report_free(r);
}

/* The pieces `heapsift path` and `heapsift top` print on their own. */
static void test_text_parts(void)
{
    report *r = full_report();
    hs_mem_sink sink = {0};
    hs_writer w = {hs_mem_write, &sink};
    CHECK(emit_text_path(&r->findings[0].path, w) == HS_OK);
    CHECK(emit_text_path(&r->findings[1].path, w) == HS_OK);
    report_path none = {0};
    CHECK(emit_text_path(&none, w) == HS_OK); /* writes nothing */
    CHECK(hs_mem_write(&sink, "", 1) == HS_OK);
    CHECK_STR((const char *)sink.data,
              "global main.audit 0x5a1b20 (24 B)\n"
              " +0x0 -> []*main.Item 0xc000100000 (192 B)\n"
              "+0x18 -> main.Item 0xc000123000 (576 B)\n"
              "finalizer main.(*Conn).Close-fm of 0xc000300000\n"
              "        finalizer of 0xc000300000\n"
              "+0x0 -> closure main.(*Conn).Close-fm 0xc000310000 (16 B)\n"
              "+0x8 -> object [1152 B, ptrs @8] 0xc000300000 (1.1 KiB)\n");
    hs_mem_sink_release(&sink);

    memset(&sink, 0, sizeof sink);
    CHECK(emit_text_rows(r->retainers, r->nretainers, 1, w) == HS_OK);
    CHECK(emit_text_rows(r->histogram, 1, 0, w) == HS_OK);
    CHECK(emit_text_rows(NULL, 0, 0, w) == HS_OK); /* writes nothing */
    CHECK(hs_mem_write(&sink, "", 1) == HS_OK);
    CHECK_STR((const char *)sink.data,
              "  RETAINED  BYTES  COUNT  GROUP   NAME\n"
              "  13.5 KiB   24 B      1  global  main.audit 0x5a1b20\n"
              "   4.2 KiB   96 B      1  frame   goroutine 7 main.worker 0xc000050f00\n"
              "    BYTES  COUNT  GROUP  NAME\n"
              "  1.1 MiB   2000  type   main.Item\n");
    hs_mem_sink_release(&sink);

    CHECK(emit_text_rows(NULL, 1, 0, w) == HS_ERR_ARG);
    r->findings[0].path.steps[0].kind = -1;
    CHECK(emit_text_path(&r->findings[0].path, w) == HS_ERR_ARG);
    r->findings[0].path.steps[0].kind = REPORT_NODE_GLOBAL;
    int calls = 0;
    CHECK(emit_text_path(&r->findings[0].path, (hs_writer){fail_write, &calls}) == HS_ERR_IO);
    report_free(r);
}

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fprintf(stderr, "missing key \"%s\"\n", key);
    return v;
}

static const char *gets(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double getn(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int is_null(const cJSON *o, const char *key)
{
    return cJSON_IsNull(get(o, key));
}

/* The keys of o, in order, joined by ','. */
static void keys_of(const cJSON *o, char *buf, size_t n)
{
    buf[0] = '\0';
    size_t len = 0;
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? "," : "",
                                c->string);
}

static void check_keys(const cJSON *o, const char *want)
{
    char buf[512];
    keys_of(o, buf, sizeof buf);
    CHECK_STR(buf, want);
}

static void check_steps(const cJSON *arr, const report_step *s, size_t n)
{
    CHECK(cJSON_IsArray(arr) && (size_t)cJSON_GetArraySize(arr) == n);
    char a[EMIT_ADDR_MAX];
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(arr, (int)i);
        check_keys(o, "kind,name,shape,addr,size,field");
        CHECK_STR(gets(o, "kind"), report_node_kind_name(s[i].kind));
        if (s[i].name)
            CHECK_STR(gets(o, "name"), s[i].name);
        else
            CHECK(is_null(o, "name"));
        if (s[i].shape)
            CHECK_STR(gets(o, "shape"), s[i].shape);
        else
            CHECK(is_null(o, "shape"));
        CHECK_STR(gets(o, "addr"), emit_addr(s[i].addr, a));
        CHECK(getn(o, "size") == (double)s[i].size);
        if (s[i].field == REPORT_NO_FIELD)
            CHECK(is_null(o, "field"));
        else
            CHECK(getn(o, "field") == (double)s[i].field);
    }
}

static void check_finding(const cJSON *o, const report_finding *f)
{
    static const char *const tail[REPORT_NKINDS] = {
        [REPORT_GHOST] = "container,holder,path,objects",
        [REPORT_FINALIZER_PINNED] = "holder,path,objects",
        [REPORT_CLOSURE_CYCLE] = "holder,path,instances,cycle,closures,objects",
        [REPORT_TOMBSTONE] = "container,holder,keys,path,objects",
    };
    char want[512], a[EMIT_ADDR_MAX];
    snprintf(want, sizeof want, "kind,title,signature,count,bytes,retained_bytes,evidence,%s%s%s",
             f->reason ? "reason," : "", f->type ? "type," : "", tail[f->kind]);
    check_keys(o, want);
    CHECK_STR(gets(o, "kind"), report_kind_name(f->kind));
    CHECK_STR(gets(o, "title"), f->title);
    CHECK_STR(gets(o, "signature"), f->signature);
    CHECK(getn(o, "count") == (double)f->nobjects);
    CHECK(getn(o, "bytes") == (double)f->bytes);
    CHECK(getn(o, "retained_bytes") == (double)f->retained_bytes);
    CHECK_STR(gets(o, "evidence"), f->evidence);
    if (f->reason)
        CHECK_STR(gets(o, "reason"), f->reason);
    if (f->type)
        CHECK_STR(gets(o, "type"), f->type);
    if (f->container)
        CHECK_STR(gets(o, "container"), f->container);
    if (f->holder)
        CHECK_STR(gets(o, "holder"), f->holder);
    else
        CHECK(is_null(o, "holder"));
    if (f->kind == REPORT_TOMBSTONE)
        CHECK(getn(o, "keys") == (double)f->keys);

    const cJSON *objs = get(o, "objects");
    CHECK(cJSON_IsArray(objs) && (size_t)cJSON_GetArraySize(objs) == f->nobjects);
    size_t i = 0;
    for (const cJSON *c = objs ? objs->child : NULL; c; c = c->next, i++)
        CHECK(i < f->nobjects && cJSON_IsString(c) &&
              strcmp(c->valuestring, emit_addr(f->objects[i], a)) == 0);

    const cJSON *path = get(o, "path");
    if (f->path.root_kind) {
        check_keys(path, "root_kind,root_name,steps");
        CHECK_STR(gets(path, "root_kind"), f->path.root_kind);
        CHECK_STR(gets(path, "root_name"), f->path.root_name);
        check_steps(get(path, "steps"), f->path.steps, f->path.nsteps);
    } else {
        CHECK(cJSON_IsNull(path));
    }
    if (f->kind == REPORT_CLOSURE_CYCLE) {
        check_steps(get(o, "cycle"), f->cycle, f->ncycle);
        const cJSON *cl = get(o, "closures");
        CHECK(cJSON_IsArray(cl) && (size_t)cJSON_GetArraySize(cl) == f->nclosures);
        for (i = 0; i < f->nclosures; i++) {
            const cJSON *c = cJSON_GetArrayItem(cl, (int)i);
            check_keys(c, "addr,func");
            CHECK_STR(gets(c, "addr"), emit_addr(f->closures[i].addr, a));
            CHECK_STR(gets(c, "func"), f->closures[i].func);
        }
    }
}

static void check_rows(const cJSON *arr, const report_row *rows, size_t n, int with_addr)
{
    CHECK(cJSON_IsArray(arr) && (size_t)cJSON_GetArraySize(arr) == n);
    char a[EMIT_ADDR_MAX];
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(arr, (int)i);
        check_keys(o, with_addr ? "label,group,addr,count,bytes,retained_bytes"
                                : "label,group,count,bytes");
        CHECK_STR(gets(o, "label"), rows[i].label);
        CHECK_STR(gets(o, "group"), rows[i].group);
        if (with_addr)
            CHECK_STR(gets(o, "addr"), emit_addr(rows[i].addr, a));
        CHECK(getn(o, "count") == (double)rows[i].count);
        CHECK(getn(o, "bytes") == (double)rows[i].bytes);
        if (with_addr)
            CHECK(getn(o, "retained_bytes") == (double)rows[i].retained_bytes);
    }
}

static void check_report_json(const char *text, const report *r)
{
    cJSON *j = cJSON_Parse(text);
    CHECK(j != NULL);
    if (!j)
        return;
    check_keys(j, "schema,dump,summary,findings,info,top_retainers,histogram");
    CHECK_STR(gets(j, "schema"), "heapsift-report/1");
    const cJSON *d = get(j, "dump");
    check_keys(d, "path,go_version,goarch,dump_bytes,symbols");
    CHECK_STR(gets(d, "path"), r->dump_path);
    CHECK_STR(gets(d, "go_version"), r->go_version);
    CHECK_STR(gets(d, "goarch"), r->goarch);
    CHECK(getn(d, "dump_bytes") == (double)r->dump_bytes);
    if (r->binary)
        CHECK_STR(gets(d, "symbols"), r->binary);
    else
        CHECK(is_null(d, "symbols"));

    const cJSON *s = get(j, "summary");
    check_keys(s, "objects,object_bytes,in_use_objects,in_use_bytes,garbage_objects,"
                  "garbage_bytes,pending_objects,pinned_objects,fin_reachable_objects,classes,"
                  "goroutines,finalizers,roots,pointer_edges,findings,info,containers,notes");
    CHECK(getn(s, "objects") == (double)r->objects);
    CHECK(getn(s, "object_bytes") == (double)r->object_bytes);
    CHECK(getn(s, "in_use_objects") == (double)r->in_use_objects);
    CHECK(getn(s, "in_use_bytes") == (double)r->in_use_bytes);
    CHECK(getn(s, "garbage_objects") == (double)r->garbage_objects);
    CHECK(getn(s, "garbage_bytes") == (double)r->garbage_bytes);
    CHECK(getn(s, "pending_objects") == (double)r->pending_objects);
    CHECK(getn(s, "pinned_objects") == (double)r->pinned_objects);
    CHECK(getn(s, "fin_reachable_objects") == (double)r->fin_reachable_objects);
    CHECK(getn(s, "goroutines") == (double)r->goroutines);
    CHECK(getn(s, "finalizers") == (double)r->finalizers);
    CHECK(getn(s, "roots") == (double)r->roots);
    CHECK(getn(s, "pointer_edges") == (double)r->pointer_edges);
    CHECK(getn(s, "findings") == (double)r->nfindings);
    CHECK(getn(s, "info") == (double)r->ninfo);
    const cJSON *cs = get(s, "containers"), *ns = get(s, "notes");
    CHECK((size_t)cJSON_GetArraySize(cs) == r->ncontainers);
    for (size_t i = 0; i < r->ncontainers; i++)
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cs, (int)i)), r->containers[i]);
    CHECK((size_t)cJSON_GetArraySize(ns) == r->nnotes);
    for (size_t i = 0; i < r->nnotes; i++)
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(ns, (int)i)), r->notes[i]);

    const cJSON *fs = get(j, "findings"), *in = get(j, "info");
    CHECK(cJSON_IsArray(fs) && (size_t)cJSON_GetArraySize(fs) == r->nfindings);
    for (size_t i = 0; i < r->nfindings; i++)
        check_finding(cJSON_GetArrayItem(fs, (int)i), &r->findings[i]);
    CHECK(cJSON_IsArray(in) && (size_t)cJSON_GetArraySize(in) == r->ninfo);
    for (size_t i = 0; i < r->ninfo; i++)
        check_finding(cJSON_GetArrayItem(in, (int)i), &r->info[i]);
    check_rows(get(j, "top_retainers"), r->retainers, r->nretainers, 1);
    check_rows(get(j, "histogram"), r->histogram, r->nhistogram, 0);
    cJSON_Delete(j);
}

static void test_json(void)
{
    report *r = full_report();
    for (int pretty = 0; pretty <= 1; pretty++) {
        char *s = render(run_json, r, pretty ? "" : NULL);
        if (!s)
            continue;
        check_report_json(s, r);
        size_t n = strlen(s);
        CHECK(n > 0 && s[n - 1] == '\n' && (pretty || !strchr(s, '\t')));
        /* deterministic: the same report gives the same bytes */
        char *again = render(run_json, r, pretty ? "" : NULL);
        CHECK_STR(again, s);
        free(again);
        free(s);
    }
    report_free(r);

    r = empty_report();
    char *s = render(run_json, r, NULL);
    CHECK_STR(s, "{\"schema\":\"heapsift-report/1\",\"dump\":{\"path\":\"empty.dump\","
                 "\"go_version\":\"go1.19.8\",\"goarch\":\"amd64\",\"dump_bytes\":1000,"
                 "\"symbols\":null},\"summary\":{\"objects\":0,\"object_bytes\":0,"
                 "\"in_use_objects\":0,\"in_use_bytes\":0,\"garbage_objects\":0,"
                 "\"garbage_bytes\":0,\"pending_objects\":0,\"pinned_objects\":0,"
                 "\"fin_reachable_objects\":0,\"classes\":{\"in_use\":{\"objects\":0,\"bytes\":0},"
                 "\"finalizer_held\":{\"objects\":0,\"bytes\":0},\"pending_finalization\":{"
                 "\"objects\":0,\"bytes\":0},\"garbage\":{\"objects\":0,\"bytes\":0}},"
                 "\"goroutines\":0,\"finalizers\":0,\"roots\":0,"
                 "\"pointer_edges\":0,\"findings\":0,\"info\":0,\"containers\":[],"
                 "\"notes\":[]},\"findings\":[],\"info\":[],\"top_retainers\":[],"
                 "\"histogram\":[]}\n");
    if (s)
        check_report_json(s, r);
    free(s);

    /* integers above 2^53 are written exactly */
    r->pointer_edges = UINT64_MAX;
    r->objects = (1ull << 53) + 1;
    s = render(run_json, r, NULL);
    CHECK(s && strstr(s, "\"pointer_edges\":18446744073709551615,"));
    CHECK(s && strstr(s, "\"objects\":9007199254740993,"));
    free(s);
    report_free(r);
}

/* A finding with many objects: every address is in the JSON, in order. */
static void test_json_many(void)
{
    report *r = empty_report();
    r->nfindings = 1;
    r->findings = zalloc(1, sizeof *r->findings);
    report_finding *f = &r->findings[0];
    f->kind = REPORT_FINALIZER_PINNED;
    f->title = xdup("many");
    f->signature = xdup("many");
    f->evidence = xdup("liveness");
    set_objects(f, 0xc000000000, 100000, 16);
    char *s = render(run_json, r, "");
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    const cJSON *objs = j ? get(cJSON_GetArrayItem(get(j, "findings"), 0), "objects") : NULL;
    CHECK(cJSON_GetArraySize(objs) == 100000);
    size_t i = 0, bad = 0;
    char a[EMIT_ADDR_MAX];
    for (const cJSON *c = objs ? objs->child : NULL; c; c = c->next, i++)
        bad += !cJSON_IsString(c) || strcmp(c->valuestring, emit_addr(f->objects[i], a)) != 0;
    CHECK(i == 100000 && bad == 0);
    cJSON_Delete(j);
    free(s);
    report_free(r);
}

/* Names from the dump or binary may hold escapes and invalid UTF-8. */
static void test_untrusted_strings(void)
{
    report *r = full_report();
    report_finding *g = &r->findings[0];
    free(g->type);
    g->type = xdup("main.\033[2J\xff" "Evil\xe2\x80\xae" "x\xc3\xa9"); /* ESC, bad byte, RLO */
    char *s = render(run_text, r, NULL);
    CHECK(s && strstr(s, "   type:      main.?[2J\xef\xbf\xbd" "Evil?x\xc3\xa9\n"));
    CHECK(s && !strchr(s, '\033'));
    free(s);
    s = render(run_json, r, NULL);
    CHECK(s && emit_utf8_valid(s));
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK_STR(gets(cJSON_GetArrayItem(get(j, "findings"), 0), "type"),
              "main.\033[2J\xef\xbf\xbd" "Evil\xe2\x80\xae" "x\xc3\xa9");
    cJSON_Delete(j);
    free(s);
    free(g->title);
    g->title = xdup("say \"hi\" \\n there");
    s = render(run_dot, r, NULL);
    CHECK(s && strstr(s, "\\nsay \\\"hi\\\" \\\\n there\";\n"));
    free(s);
    report_free(r);

    CHECK(emit_utf8_valid("plain") && emit_utf8_valid("\xc3\xa9") && emit_utf8_valid(NULL));
    CHECK(!emit_utf8_valid("\xc0\xaf"));         /* overlong '/' */
    CHECK(!emit_utf8_valid("\xed\xa0\x80"));     /* surrogate */
    CHECK(!emit_utf8_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
    CHECK(!emit_utf8_valid("\xe2\x82"));         /* cut short */
}

static void test_dot(void)
{
    report *r = full_report();
    char *s = render(run_dot, r, NULL);
    CHECK(s && strncmp(s, "strict digraph heapsift {\n", 26) == 0);
    CHECK(s && strstr(s, "subgraph cluster_f1 {") && strstr(s, "subgraph cluster_f4 {") &&
          strstr(s, "subgraph cluster_i1 {") && !strstr(s, "cluster_f5"));
    /* the ghost path: global -> slice -> item, edges labelled with the field offsets */
    CHECK(s && strstr(s, "    f1_g5a1b20 -> f1_oc000100000 [label=\"+0x0\"];\n"));
    CHECK(s && strstr(s, "    f1_oc000100000 -> f1_oc000123000 [label=\"+0x18\"];\n"));
    /* the cycle closes on its first node */
    CHECK(s && strstr(s, "    f3_oc000200010 -> f3_cc000200000 [label=\"+0x28\"];\n"));
    CHECK(s && strstr(s, "    f3_cc000200000 [label=\"main.(*Payload).close-fm\\nclosure "
                         "0xc000200000 (16 B)\", shape=octagon];\n"));
    CHECK(s && strstr(s, "    f4_root [shape=plaintext, label=\"global main.cache\"];\n"));
    CHECK(s && strstr(s, "    label=\"ghost: 12 objects, 6.8 KiB, retains 13.5 KiB\\n12 main.Item "
                         "deleted from main.registry, held by global main.audit\";\n"));
    /* a node without an address gets a positional id */
    CHECK(s && strstr(s, "    f2_p0 -> f2_cc000310000 [label=\"+0x0\"];\n"));
    CHECK(s && s[strlen(s) - 2] == '}');
    free(s);
    report_free(r);
}

/* Writers that fail: the emitters return the writer's status. */
static void test_failing_writer(void)
{
    report *r = full_report();
    emit_fn fns[] = {run_text, run_json, run_dot};
    for (size_t i = 0; i < 3; i++) {
        int calls = 0;
        CHECK(fns[i](r, (hs_writer){fail_write, &calls}, NULL) == HS_ERR_IO);
    }
    /* the JSON writes the document, then the newline: a failure on the second write */
    int calls = 1;
    CHECK(emit_json(r, (hs_writer){fail_write, &calls}, 0) == HS_ERR_IO);
    report_free(r);

    /* a failure in the middle of a long text: past the first 64 KiB flush */
    r = empty_report();
    r->nnotes = 4000;
    r->notes = zalloc(r->nnotes, sizeof *r->notes);
    for (size_t i = 0; i < r->nnotes; i++)
        r->notes[i] = xdup("a note that is long enough to fill the buffer soon");
    calls = 1;
    CHECK(emit_text(r, (hs_writer){fail_write, &calls}, NULL) == HS_ERR_IO);
    CHECK(calls == -1); /* one good write, one failing, then no more */
    report_free(r);
}

static void test_bad_reports(void)
{
    report *r = full_report();
    hs_mem_sink sink = {0};
    hs_writer w = {hs_mem_write, &sink};
    r->findings[1].kind = REPORT_NKINDS;
    CHECK(emit_text(r, w, NULL) == HS_ERR_ARG);
    CHECK(emit_json(r, w, 0) == HS_ERR_ARG);
    CHECK(emit_dot(r, w) == HS_ERR_ARG);
    r->findings[1].kind = REPORT_FINALIZER_PINNED;
    r->findings[0].path.steps[1].kind = 99;
    CHECK(emit_json(r, w, 0) == HS_ERR_ARG);
    r->findings[0].path.steps[1].kind = REPORT_NODE_OBJECT;
    CHECK(emit_json(r, (hs_writer){NULL, NULL}, 0) == HS_ERR_ARG);
    CHECK(emit_text(NULL, w, NULL) == HS_ERR_ARG);
    CHECK(sink.len == 0);
    hs_mem_sink_release(&sink);
    report_free(r);
}

static void test_model(void)
{
    for (int k = 0; k < REPORT_NKINDS; k++)
        CHECK(report_kind_parse(report_kind_name(k)) == k);
    CHECK_STR(report_kind_name(REPORT_FINALIZER_PINNED), "finalizer_pinned");
    CHECK_STR(report_kind_name(-1), "unknown");
    CHECK(report_kind_parse("finalizer-pinned") == REPORT_FINALIZER_PINNED &&
          report_kind_parse("Closure Cycles") == REPORT_CLOSURE_CYCLE &&
          report_kind_parse("ghosts") == REPORT_GHOST && report_kind_parse("ghostly") == -1 &&
          report_kind_parse("s") == -1 && report_kind_parse(NULL) == -1);
    CHECK_STR(report_node_kind_name(REPORT_NODE_FINALIZER), "finalizer");
    CHECK_STR(report_node_kind_name(6), "unknown");
    char *s = report_strfmt("%s/%d", "x", 7);
    CHECK_STR(s, "x/7");
    free(s);
    CHECK(report_strdup(NULL) == NULL);

    report_finding f;
    memset(&f, 0, sizeof f);
    fill_cycle(&f, "rooted", 1);
    report_finding_release(&f);
    CHECK(f.title == NULL && f.nobjects == 0 && f.path.steps == NULL && f.ncycle == 0);
    report_finding_release(&f); /* twice is harmless */
    report_path_release(NULL);
    report_finding_release(NULL);
    report_free(NULL);

    char b[EMIT_SIZE_MAX];
    CHECK_STR(emit_size(0, b), "0 B");
    CHECK_STR(emit_size(1023, b), "1023 B");
    CHECK_STR(emit_size(1024, b), "1.0 KiB");
    CHECK_STR(emit_size(1536, b), "1.5 KiB");
    CHECK_STR(emit_size(1048575, b), "1.0 MiB"); /* 1023.999 KiB rounds up a unit */
    CHECK_STR(emit_size(5 * 1048576 + 104858, b), "5.1 MiB");
    CHECK_STR(emit_size(3ull << 30, b), "3.0 GiB");
    CHECK_STR(emit_size(UINT64_MAX, b), "16.0 EiB");
    char a[EMIT_ADDR_MAX];
    CHECK_STR(emit_addr(0xC000ABCDEFull, a), "0xc000abcdef");
    CHECK_STR(emit_addr(UINT64_MAX, a), "0xffffffffffffffff");
}

/* Writes the sample documents for the schema test. */
static int write_file(const char *dir, const char *name, const report *r, int pretty)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    int rc = emit_json(r, (hs_writer){hs_fd_write, &fd}, pretty);
    if (close(fd) != 0 || rc != HS_OK) {
        fprintf(stderr, "%s: writing failed\n", path);
        return 1;
    }
    return 0;
}

static int write_samples(const char *dir)
{
    report *full = full_report(), *empty = empty_report();
    int bad = write_file(dir, "full.json", full, 1);
    bad |= write_file(dir, "full-compact.json", full, 0);
    bad |= write_file(dir, "empty.json", empty, 1);
    report_free(full);
    report_free(empty);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return write_samples(argv[1]);
    test_model();
    test_text();
    test_text_parts();
    test_json();
    test_json_many();
    test_untrusted_strings();
    test_dot();
    test_failing_writer();
    test_bad_reports();
    return check_report();
}
