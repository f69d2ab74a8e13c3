/* heapsift path / show / top - focused questions about one dump. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cli.h"
#include "describe.h"
#include "emit.h"
#include "fields.h"
#include "tables.h"
#include "goexpr.h"

static const char path_usage[] =
    "usage: heapsift path DUMP ADDR [--binary BIN] [--include-finalizers]\n"
    "\n"
    "Prints the shortest path from a root to the object containing ADDR (hex), and its\n"
    "liveness. Finalizer roots are ignored unless --include-finalizers (as Eclipse MAT).\n";

static const char show_usage[] =
    "usage: heapsift show DUMP ADDR [--binary BIN] [--bytes]\n"
    "\n"
    "Describes the object containing ADDR: type (and where it came from), closure function,\n"
    "shape, liveness, retained size, its pointer fields and the objects that point to it.\n"
    "--bytes also prints its contents (dumps hold secrets: contents are never shown otherwise).\n";

static const char top_usage[] =
    "usage: heapsift top DUMP [-n N] [--by type|closure|shape|site|retained] [--binary BIN]\n"
    "\n"
    "The largest groups of live objects, or with --by retained the objects and roots that\n"
    "retain the most memory (dominator tree).\n";

typedef struct inspect_args {
    const char *dump, *binary, *addr, *by;
    long n;
    int include_fin, bytes;
} inspect_args;

static int parse(const char *cmd, const char *usage, int argc, char **argv, int want_addr,
                 inspect_args *a)
{
    static const struct option opts[] = {
        {"binary", required_argument, 0, 'b'}, {"include-finalizers", no_argument, 0, 'F'},
        {"bytes", no_argument, 0, 'B'},        {"by", required_argument, 0, 'y'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->n = 20;
    a->by = "type";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "b:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': a->binary = optarg; break;
        case 'F': a->include_fin = 1; break;
        case 'B': a->bytes = 1; break;
        case 'y': a->by = optarg; break;
        case 'n':
            if (cli_parse_count(cmd, "-n", optarg, 1, &a->n) < 0)
                return -1;
            break;
        case 'h': fputs(usage, stdout); return 1;
        default: fputs(usage, stderr); return -1;
        }
    }
    if (optind + 1 + want_addr != argc) {
        fputs(usage, stderr);
        return -1;
    }
    a->dump = argv[optind];
    a->addr = want_addr ? argv[optind + 1] : NULL;
    return 0;
}

static analysis *load(const char *cmd, const inspect_args *a, source **src)
{
    analysis_options o = {.model_only = 1};
    return cli_analyze(cmd, a->dump, a->binary, &o, src);
}

/* Resolves ADDR to an object; prints why not and returns GRAPH_NONE. */
static uint32_t find_object(const char *cmd, const analysis *an, const char *text)
{
    char *end;
    uint64_t addr = strtoull(text, &end, 16);
    if (*text == '\0' || *end != '\0') {
        cli_fail(cmd, "not a hex address: %s", text);
        return GRAPH_NONE;
    }
    uint32_t v = heap_object_at(an->h, addr);
    if (v == HEAP_NONE)
        cli_fail(cmd, "no object in the dump contains 0x%" PRIx64, addr);
    return v;
}

static const char *state_name(live_state s)
{
    static const char *names[LIVE_NSTATES] = {"garbage (unreachable, freed at the next GC)",
                                              "in use (reachable from the program's roots)",
                                              "pending finalization (finalized at the next GC)",
                                              "finalizer-pinned (never collected)",
                                              "kept alive only for a finalizer"};
    return (unsigned)s < LIVE_NSTATES ? names[s] : "?";
}

static int file_write(void *ctx, const void *buf, size_t n)
{
    return fwrite(buf, 1, n, ctx) == n ? HS_OK : HS_ERR_IO;
}

static int print_path(const analysis *an, const paths_tree *t, uint32_t v)
{
    size_t n = paths_extract(t, v, NULL, 0);
    graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
    if (!steps)
        return -1;
    paths_extract(t, v, steps, n);
    char *kind, *name;
    report_path p;
    int rc;
    if ((rc = describe_root(an, paths_root_of(t, v), &kind, &name)) < 0 ||
        (rc = describe_path(an, steps, n, kind, name, &p)) < 0)
        goto out;
    rc = emit_text_path(&p, (hs_writer){file_write, stdout});
    report_path_release(&p);
    if (rc >= 0)
        rc = 0;
out:
    free(kind);
    free(name);
    free(steps);
    return rc;
}

/* Parses `CMD DUMP ADDR ...`, builds the model, finds the object and runs body on it;
 * returns the exit status. */
static int with_object(const char *cmd, const char *usage, int argc, char **argv,
                       int (*body)(const inspect_args *a, source *src, analysis *an, uint32_t v))
{
    inspect_args a;
    int p = parse(cmd, usage, argc, argv, 1, &a);
    if (p)
        return p > 0 ? CLI_OK : CLI_BAD;
    source *src;
    analysis *an = load(cmd, &a, &src);
    if (!an)
        return CLI_BAD;
    uint32_t v = find_object(cmd, an, a.addr);
    int status = v == GRAPH_NONE ? CLI_BAD : body(&a, src, an, v);
    analysis_free(an);
    source_close(src);
    return status;
}

static int path_body(const inspect_args *a, source *src, analysis *an, uint32_t v)
{
    (void)src;
    char buf[256];
    printf("%s: %s\n", heap_describe(an->h, v, buf, sizeof buf),
           state_name(live_state_of(an->live, v)));
    paths_tree *t = NULL;
    hs_error err;
    int status = CLI_BAD;
    paths_opts po = {.flags = a->include_fin ? 0 : PATHS_EXCLUDE_FINALIZER, .target = v};
    if (paths_bfs(an->h->g, an->all_roots, an->nall_roots, &po, &t, &err) < 0) {
        cli_report("path", &err);
    } else if (!paths_reached(t, v)) {
        printf("no path from %s roots reaches it%s\n", a->include_fin ? "any" : "program",
               a->include_fin ? "" : " (try --include-finalizers)");
        status = CLI_OK;
    } else {
        status = print_path(an, t, v) == 0 ? CLI_OK : CLI_BAD;
    }
    paths_free(t);
    return status;
}

int cmd_path(int argc, char **argv)
{
    return with_object("path", path_usage, argc, argv, path_body);
}

/* Prints the fields of v (pointer slots and their targets) and who points to v. */
static void print_edges(const analysis *an, uint32_t v)
{
    const graph *g = an->h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    char buf[256];
    printf("\npointer fields (%u):\n", off[v + 1] - off[v]);
    /* field offsets as the program sees them (past a Go 1.22+ malloc header) */
    uint32_t hdr = v < an->h->nobj ? an->h->obj_hdr[v] : 0;
    char expr[256];
    for (uint32_t e = off[v]; e < off[v + 1]; e++) {
        const char *x = goexpr_node_field(an->h, v, fld[e], expr, sizeof expr);
        printf("  +0x%-6x %s%s-> %s\n", fld[e] - hdr, x ? x : "", x && *x ? " " : "",
               heap_describe(an->h, dst[e], buf, sizeof buf));
    }
    const uint32_t *in = graph_in_offsets(g), *src = graph_in_src(g);
    printf("\nreferred to by (%u):\n", in[v + 1] - in[v]);
    for (uint32_t e = in[v]; e < in[v + 1] && e < in[v] + 50; e++) {
        uint32_t f = graph_edge_field(g, src[e], v);
        const char *x = goexpr_node_field(an->h, src[e], f, expr, sizeof expr);
        printf("  +0x%-6x %s%sin %s\n", f - (src[e] < an->h->nobj ? an->h->obj_hdr[src[e]] : 0),
               x ? x : "", x && *x ? " " : "", heap_describe(an->h, src[e], buf, sizeof buf));
    }
    if (in[v + 1] - in[v] > 50)
        printf("  ... and %u more\n", in[v + 1] - in[v] - 50);
    size_t nweak;
    const heap_weak *w = heap_weak_referrers(an->h, v, &nweak);
    if (nweak)
        printf("\nweakly referred to by (%zu, retaining nothing):\n", nweak);
    for (size_t i = 0; i < nweak; i++)
        printf("  %s\n", heap_describe(an->h, w[i].handle, buf, sizeof buf));
}

/* Object bytes fetched for `show` (heap_fetch callbacks). */
typedef struct fetched {
    uint32_t obj;
    uint8_t *bytes;
    size_t len;
} fetched;

typedef struct fetch_set {
    fetched *f;
    size_t n;
} fetch_set;

static int keep_bytes(void *ctx, uint32_t obj, const uint8_t *bytes, size_t len,
                      const uint64_t *ptrs, size_t nptrs)
{
    fetch_set *s = ctx;
    (void)ptrs;
    (void)nptrs;
    for (size_t i = 0; i < s->n; i++)
        if (s->f[i].obj == obj && !s->f[i].bytes) {
            if (!(s->f[i].bytes = malloc(len ? len : 1)))
                return HS_ERR_NOMEM;
            memcpy(s->f[i].bytes, bytes, len);
            s->f[i].len = len;
        }
    return HS_OK;
}

/* Fetches the bytes of n objects (one pass over the dump) into a set the caller frees. */
static int fetch_objects(source *src, const heap *h, const uint32_t *objs, size_t n,
                         fetch_set *out, hs_error *err)
{
    out->n = 0;
    if (!(out->f = calloc(n ? n : 1, sizeof *out->f)))
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "show: %zu objects", n);
    for (size_t i = 0; i < n; i++)
        out->f[out->n++].obj = objs[i];
    return heap_fetch(src, h, objs, n, keep_bytes, out, err);
}

static void fetch_release(fetch_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->f[i].bytes);
    free(s->f);
}

/* The text of a string whose bytes start at ptr, quoted and cut at 60 bytes. */
static void string_text(const heap *h, const fetch_set *s, uint64_t ptr, uint64_t len, char *out,
                        size_t cap)
{
    snprintf(out, cap, "(bytes not in the heap)");
    uint32_t o = heap_object_at(h, ptr);
    for (size_t i = 0; o != HEAP_NONE && i < s->n; i++) {
        if (s->f[i].obj != o || !s->f[i].bytes)
            continue;
        uint64_t at = ptr - h->obj_addr[o];
        size_t k = 0;
        out[k++] = '"';
        for (uint64_t j = 0; j < len && at + j < s->f[i].len && k + 8 < cap; j++) {
            if (j == 60) {
                k += (size_t)snprintf(out + k, cap - k, "\"...(%llu bytes)", (unsigned long long)len);
                return;
            }
            unsigned char ch = s->f[i].bytes[at + j];
            k += (size_t)(ch >= 32 && ch < 127 && ch != '"' && ch != '\\'
                              ? snprintf(out + k, cap - k, "%c", ch)
                              : snprintf(out + k, cap - k, "\\x%02x", ch));
        }
        snprintf(out + k, cap - k, "\"");
        return;
    }
}

/* The object's fields by name with their values, when DWARF types it. */
static int print_fields(source *src, const analysis *an, uint32_t v, hs_error *err)
{
    const heap *h = an->h;
    const heap_type *ht = h->obj_type[v] != HEAP_NONE ? &h->types[h->obj_type[v]] : NULL;
    const typetab_type *t = ht && h->tt ? typetab_type_get(h->tt, ht->ttype) : NULL;
    if (!t || !t->size)
        return HS_OK;
    enum { MAX_LEAVES = 64 };
    fields_leaf *leaves = calloc(MAX_LEAVES, sizeof *leaves);
    uint32_t *strs = calloc(MAX_LEAVES, sizeof *strs);
    fetch_set obj = {0}, text = {0};
    size_t n = 0, ns = 0;
    int rc = leaves && strs ? fetch_objects(src, h, &v, 1, &obj, err)
                            : hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "show: fields");
    if (rc < 0 || !obj.f[0].bytes)
        goto out;
    uint64_t count = ht->backing ? heap_obj_bytes(h, v) / t->size : 1;
    n = fields_walk(h->tt, t->id, count, obj.f[0].bytes + h->obj_hdr[v],
                    obj.f[0].len - h->obj_hdr[v], h->ptr_size, leaves, MAX_LEAVES);
    for (size_t i = 0; i < n; i++) /* the strings' bytes, in one more pass */
        if (leaves[i].kind == TYPETAB_STRING && leaves[i].ptr && leaves[i].len &&
            (strs[ns] = heap_object_at(h, leaves[i].ptr)) != HEAP_NONE)
            ns++;
    if (ns && (rc = fetch_objects(src, h, strs, ns, &text, err)) < 0)
        goto out;
    printf("\nfields (%zu%s):\n", n, n == MAX_LEAVES ? ", the first" : "");
    char buf[256], str[256];
    for (size_t i = 0; i < n; i++) {
        const fields_leaf *l = &leaves[i];
        const char *val = l->value;
        if (l->kind == TYPETAB_STRING && l->len) {
            string_text(h, &text, l->ptr, l->len, str, sizeof str);
            val = str;
        } else if (l->kind == TYPETAB_STRING) {
            val = "\"\"";
        }
        printf("  +0x%-6llx %-24s %-20s %s", (unsigned long long)l->offset, l->expr, l->type, val);
        uint32_t to = l->ptr && l->kind != TYPETAB_STRING ? heap_node_at(h, l->ptr) : HEAP_NONE;
        if (to != HEAP_NONE)
            printf(" (%s)", heap_describe(h, to, buf, sizeof buf));
        putchar('\n');
    }
out:
    fetch_release(&obj);
    fetch_release(&text);
    free(leaves);
    free(strs);
    return rc;
}

static int hexdump(void *ctx, uint32_t obj, const uint8_t *bytes, size_t len,
                   const uint64_t *ptrs, size_t nptrs)
{
    (void)ctx;
    (void)obj;
    (void)ptrs;
    (void)nptrs;
    printf("\ncontents (%zu bytes):\n", len);
    for (size_t i = 0; i < len; i += 16) {
        printf("  %06zx ", i);
        for (size_t j = i; j < i + 16; j++)
            j < len ? printf(" %02x", bytes[j]) : printf("   ");
        printf("  ");
        for (size_t j = i; j < i + 16 && j < len; j++)
            putchar(bytes[j] >= 32 && bytes[j] < 127 ? bytes[j] : '.');
        putchar('\n');
    }
    return 0;
}

static int show_body(const inspect_args *a, source *src, analysis *an, uint32_t v)
{
    const heap *h = an->h;
    char *shape = describe_shape(an, v);
    char sz[32];
    printf("object      0x%" PRIx64 " (slot 0x%" PRIx64 ", %s)\n", heap_obj_ptr(h, v),
           h->obj_addr[v], cli_size(heap_obj_bytes(h, v), sz, sizeof sz));
    const char *ty = heap_type_name(h, v);
    printf("type        %s%s%s%s\n", ty ? ty : "unknown", ty ? " (from " : "",
           ty ? heap_type_src_name(h->obj_tsrc[v]) : "", ty ? ")" : "");
    const char *fn = heap_closure_name(h, v);
    if (fn)
        printf("closure     %s (the pointer fields below are its captured variables)\n", fn);
    const char *site = heap_site_name(h, v);
    if (site)
        printf("allocated   %s\n", site);
    printf("shape       %s\n", shape ? shape : "?");
    printf("liveness    %s\n", state_name(live_state_of(an->live, v)));
    printf("retained    %s\n", cli_size(dom_retained(an->dom, v), sz, sizeof sz));
    free(shape);
    hs_error err;
    if (print_fields(src, an, v, &err) < 0) {
        cli_report("show", &err);
        return CLI_BAD;
    }
    print_edges(an, v);
    if (a->bytes) {
        if (heap_fetch(src, h, &v, 1, hexdump, NULL, &err) < 0) {
            cli_report("show", &err);
            return CLI_BAD;
        }
    }
    return CLI_OK;
}

int cmd_show(int argc, char **argv)
{
    return with_object("show", show_usage, argc, argv, show_body);
}

int cmd_top(int argc, char **argv)
{
    inspect_args a;
    int p = parse("top", top_usage, argc, argv, 0, &a);
    if (p)
        return p > 0 ? CLI_OK : CLI_BAD;
    unsigned by;
    if (!strcmp(a.by, "type"))
        by = TABLES_BY_TYPE | TABLES_BY_SHAPE;
    else if (!strcmp(a.by, "closure"))
        by = TABLES_BY_CLOSURE;
    else if (!strcmp(a.by, "shape"))
        by = TABLES_BY_SHAPE;
    else if (!strcmp(a.by, "site"))
        by = TABLES_BY_SITE;
    else if (!strcmp(a.by, "retained"))
        by = 0;
    else
        return cli_fail("top", "--by takes type, closure, shape, site or retained");
    source *src;
    analysis *an = load("top", &a, &src);
    if (!an)
        return CLI_BAD;
    int rc = (an->rep = calloc(1, sizeof *an->rep)) ? HS_OK : HS_ERR_NOMEM;
    if (rc < 0 || (rc = by ? tables_histogram(an, (size_t)a.n, by, NULL)
                           : tables_retainers(an, (size_t)a.n, NULL)) < 0)
        goto out;
    const report *r = an->rep;
    const report_row *rows = by ? r->histogram : r->retainers;
    size_t n = by ? r->nhistogram : r->nretainers;
    if (!n && by == TABLES_BY_SITE)
        printf("no allocation samples in this dump (the program did not link runtime/pprof "
               "or sampled nothing; set runtime.MemProfileRate = 1 to sample everything)\n");
    rc = emit_text_rows(rows, n, by ? 0 : 1, (hs_writer){file_write, stdout});
out:
    analysis_free(an);
    source_close(src);
    if (rc < 0)
        return cli_fail("top", "%s", hs_strerror(rc));
    return CLI_OK;
}
