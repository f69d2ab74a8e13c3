/* heapsift analyze / heapsift check - the full report, and the CI gate built on it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "analysis.h"
#include "baseline.h"
#include "cli.h"
#include "diff.h"
#include "emit.h"
#include "profile.h"
#include "views.h"

static const char analyze_usage[] =
    "usage: heapsift analyze DUMP [--binary BIN] [--container EXPR]... [--container-type T]...\n"
    "                        [--value-type T]... [--min-instances N]\n"
    "                        [--json FILE] [--html FILE] [--pprof FILE] [--dot FILE]\n"
    "                        [--folded FILE] [--top N] [--objects N] [--width N] [--no-auto]\n"
    "\n"
    "Builds the pointer graph of a .hsd or raw heap dump and reports ghost references,\n"
    "finalizer-pinned objects, closure-captured reference cycles and sync.Map tombstones,\n"
    "each with the root and the path that holds it; then top retainers and a histogram.\n"
    "\n"
    "  --binary BIN      the program that wrote a raw dump (symbols, closures, types)\n"
    "  --container EXPR  a container, by global or Go expression through fields\n"
    "                    (main.srv.sessions.items; repeatable). sync.Maps, and Go maps of\n"
    "                    the program's types that globals reach, are found without it\n"
    "  --container-type T  every Go map of type T is a container (map[string]cache.Item)\n"
    "  --value-type T    the containers' value type, e.g. main.Session (repeatable; needs\n"
    "                    a container)\n"
    "  --no-auto         do not look for sync.Map globals\n"
    "  --min-instances N a rooted closure cycle is a leak from N instances of its\n"
    "                    signature (default 2: one instance is a singleton)\n"
    "  --json FILE       also write the report as JSON (heapsift-report/1); - for stdout\n"
    "  --dot FILE        also write the findings' paths as Graphviz DOT\n"
    "  --html FILE       also write the report as one self-contained interactive HTML page\n"
    "  --pprof FILE      also write the in-use heap by reference chain as a gzipped pprof\n"
    "                    profile (go tool pprof FILE)\n"
    "  --folded FILE     also write live memory as folded stacks along the dominator tree\n"
    "                    (for flamegraph.pl or speedscope)\n"
    "  --top N           rows in the retainer and histogram tables (default 20)\n"
    "  --objects N       object addresses listed per finding in the text (default 5)\n"
    "  --width N         wrap the text at N columns (default: the terminal's width when\n"
    "                    stdout is one, else 0: no wrapping)\n"
    "  --timings         print the time of each phase on stderr\n";

static const char check_usage[] =
    "usage: heapsift check DUMP --fail-on KINDS [--min-bytes N] [--min-count N]\n"
    "                      [--baseline OLD.json] [--binary BIN] [--container SYM]...\n"
    "                      [--value-type T]... [--min-instances N] [--json FILE] [--width N]\n"
    "\n"
    "Exits 1 when a finding of one of KINDS (comma-separated: ghost, finalizer_pinned,\n"
    "closure_cycle, tombstone, or all; any spelling a report prints) retains at least\n"
    "--min-bytes bytes and counts at least --min-count objects, 0 when none does, and 2 on\n"
    "bad input. Prints the matching findings.\n"
    "\n"
    "  --baseline OLD.json  ignore findings whose kind and signature OLD.json (a JSON report\n"
    "                       of analyze or check) lists: accepted, known findings\n";

static const char diff_usage[] =
    "usage: heapsift diff BEFORE AFTER [--binary BIN] [--container SYM]... [--json FILE]\n"
    "                     [--html FILE] [--pprof FILE [--pprof-base FILE]] [--top N]\n"
    "\n"
    "Compares two dumps of one process: objects freed and created, growth by type, closure\n"
    "and shape, and exact ghosts: objects a container held in BEFORE and no longer holds in\n"
    "AFTER that are still alive there, at the same address with the same size and layout.\n"
    "\n"
    "  --html FILE        the report of AFTER with the changes, as an interactive page\n"
    "  --pprof FILE       AFTER's in-use heap as a pprof profile, and with --pprof-base\n"
    "  --pprof-base FILE  BEFORE's: go tool pprof -diff_base BASE FILE shows the growth\n";

typedef struct analyze_args {
    const char *before;
    const char *dump, *binary, *json, *dot, *folded, *html, *pprof, *pprof_base, *fail_on;
    const char *baseline;
    const char **containers, **value_types, **container_types;
    size_t ncontainers, nvalue_types, ncontainer_types;
    long top, objects, width, min_instances, min_count;
    uint64_t min_bytes;
    int no_auto, timings;
} analyze_args;

static int push_arg(const char ***arr, size_t *n, const char *v)
{
    const char **p = realloc(*arr, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    p[(*n)++] = v;
    *arr = p;
    return 0;
}

/* Parses the options analyze and check share; returns -1 on a usage error, 1 for --help. */
static int parse_args(const char *cmd, int argc, char **argv, const char *usage, int two_dumps,
                      analyze_args *a)
{
    static const struct option opts[] = {
        {"binary", required_argument, 0, 'b'},  {"container", required_argument, 0, 'c'},
        {"value-type", required_argument, 0, 'V'}, {"json", required_argument, 0, 'j'},
        {"dot", required_argument, 0, 'd'},     {"top", required_argument, 0, 'n'},
        {"objects", required_argument, 0, 'o'}, {"no-auto", no_argument, 0, 'A'},
        {"fail-on", required_argument, 0, 'f'}, {"min-bytes", required_argument, 0, 'm'},
        {"timings", no_argument, 0, 'T'},       {"folded", required_argument, 0, 'F'},
        {"html", required_argument, 0, 'H'},    {"pprof", required_argument, 0, 'P'},
        {"pprof-base", required_argument, 0, 'B'}, {"width", required_argument, 0, 'w'},
        {"min-instances", required_argument, 0, 'I'}, {"baseline", required_argument, 0, 'L'},
        {"min-count", required_argument, 0, 'C'}, {"container-type", required_argument, 0, 'K'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->top = 20;
    a->objects = 5;
    a->width = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:c:j:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': a->binary = optarg; break;
        case 'c':
            if (push_arg(&a->containers, &a->ncontainers, optarg) < 0)
                return -1;
            break;
        case 'V':
            if (push_arg(&a->value_types, &a->nvalue_types, optarg) < 0)
                return -1;
            break;
        case 'K':
            if (push_arg(&a->container_types, &a->ncontainer_types, optarg) < 0)
                return -1;
            break;
        case 'j': a->json = optarg; break;
        case 'd': a->dot = optarg; break;
        case 'F': a->folded = optarg; break;
        case 'H': a->html = optarg; break;
        case 'P': a->pprof = optarg; break;
        case 'B': a->pprof_base = optarg; break;
        case 'w':
            if (cli_parse_count(cmd, "--width", optarg, 0, &a->width) < 0)
                return -1;
            break;
        case 'n':
            if (cli_parse_count(cmd, "--top", optarg, 1, &a->top) < 0)
                return -1;
            break;
        case 'o':
            if (cli_parse_count(cmd, "--objects", optarg, 0, &a->objects) < 0)
                return -1;
            break;
        case 'I':
            if (cli_parse_count(cmd, "--min-instances", optarg, 1, &a->min_instances) < 0)
                return -1;
            break;
        case 'C':
            if (cli_parse_count(cmd, "--min-count", optarg, 0, &a->min_count) < 0)
                return -1;
            break;
        case 'L': a->baseline = optarg; break;
        case 'A': a->no_auto = 1; break;
        case 'T': a->timings = 1; break;
        case 'f': a->fail_on = optarg; break;
        case 'm':
            if (cli_parse_size(optarg, &a->min_bytes) < 0) {
                cli_fail(cmd, "--min-bytes: not a size: %s", optarg);
                return -1;
            }
            break;
        case 'h': fputs(usage, stdout); return 1;
        default: fputs(usage, stderr); return -1;
        }
    }
    if (optind + 1 + two_dumps != argc || (a->pprof_base && !two_dumps) ||
        ((a->baseline || a->fail_on || a->min_count) && strcmp(cmd, "check") != 0)) {
        fputs(usage, stderr);
        return -1;
    }
    if (two_dumps)
        a->before = argv[optind++];
    a->dump = argv[optind];
    return 0;
}

static void free_args(analyze_args *a)
{
    free(a->containers);
    free(a->value_types);
    free(a->container_types);
}

/* parse_args for a command: 0 to go on; else 1, with the exit status the command stops with in
 * *status (CLI_OK after --help, CLI_BAD after a usage error). */
static int parse_cmd(const char *cmd, int argc, char **argv, const char *usage, int two_dumps,
                     analyze_args *a, int *status)
{
    int p = parse_args(cmd, argc, argv, usage, two_dumps, a);
    if (p)
        *status = p > 0 ? CLI_OK : CLI_BAD;
    return p != 0;
}

/* Frees a command's arguments, an analysis and its source (both may be NULL); returns status. */
static int finish_cmd(analyze_args *a, analysis *an, source *src, int status)
{
    analysis_free(an);
    source_close(src);
    free_args(a);
    return status;
}

typedef struct file_sink {
    FILE *f;
} file_sink;

static int file_write(void *ctx, const void *buf, size_t n)
{
    return fwrite(buf, 1, n, ((file_sink *)ctx)->f) == n ? HS_OK : HS_ERR_IO;
}

/* Runs an emitter into path ("-" = stdout); 0 on success. */
static int emit_to(const char *cmd, const char *path, const report *r,
                   int (*emit)(const report *, hs_writer, const void *), const void *opts)
{
    file_sink fs = {strcmp(path, "-") ? fopen(path, "w") : stdout};
    if (!fs.f) {
        cli_fail(cmd, "cannot write %s", path);
        return -1;
    }
    int rc = emit(r, (hs_writer){file_write, &fs}, opts);
    if (fflush(fs.f) != 0)
        rc = HS_ERR_IO;
    if (fs.f != stdout && fclose(fs.f) != 0)
        rc = HS_ERR_IO;
    if (rc < 0) {
        cli_fail(cmd, "writing %s failed: %s", path, hs_strerror(rc));
        return -1;
    }
    return 0;
}

static int emit_text_cb(const report *r, hs_writer w, const void *o)
{
    return emit_text(r, w, o);
}
static int emit_json_cb(const report *r, hs_writer w, const void *o)
{
    (void)o;
    return emit_json(r, w, 1);
}
static int emit_html_cb(const report *r, hs_writer w, const void *o)
{
    (void)o;
    return emit_html(r, w);
}
static int emit_folded_cb(const report *r, hs_writer w, const void *o)
{
    (void)o;
    return emit_folded(r, w);
}
static int emit_dot_cb(const report *r, hs_writer w, const void *o)
{
    (void)o;
    return emit_dot(r, w);
}
static int emit_pprof_cb(const report *r, hs_writer w, const void *o)
{
    (void)o;
    return emit_pprof(r, w);
}

/* emit_to, and with --timings the time it took on stderr, as LABEL. */
static int emit_timed(const char *cmd, const analyze_args *a, const char *label, const char *path,
                      const report *r, int (*emit)(const report *, hs_writer, const void *))
{
    double t = cli_now();
    int rc = emit_to(cmd, path, r, emit, NULL);
    if (a->timings)
        fprintf(stderr, "%-11s %7.3f s\n", label, cli_now() - t);
    return rc;
}

/* Fills what --html (views) and --pprof (profile) need into an's report, and with base the
 * profile of base (diff's BEFORE) for --pprof-base. Prints the error; returns 0 or -1. */
static int prepare_views(const char *cmd, const analyze_args *a, analysis *an, analysis *base)
{
    hs_error err;
    hs_error_clear(&err);
    int rc = HS_OK;
    double t = cli_now();
    if (a->html)
        rc = views_build(an, NULL, &err);
    if (a->timings && a->html)
        fprintf(stderr, "%-11s %7.3f s\n", "views", cli_now() - t);
    t = cli_now();
    if (rc >= 0 && a->pprof)
        rc = profile_build(an, &err);
    if (rc >= 0 && base && a->pprof_base)
        rc = profile_build(base, &err);
    if (a->timings && (a->pprof || (base && a->pprof_base)))
        fprintf(stderr, "%-11s %7.3f s\n", "profile", cli_now() - t);
    if (rc < 0) {
        cli_report(cmd, &err);
        return -1;
    }
    return 0;
}

/* The text's width: --width, else the terminal's when stdout is one, else 0 (no wrapping). */
static size_t text_width(const analyze_args *a)
{
    struct winsize ws;
    if (a->width >= 0)
        return (size_t)a->width;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        return ws.ws_col;
    return 0;
}

/* Opens the dump and runs the analysis; prints errors. Returns the analysis or NULL. */
static analysis *run(const char *cmd, const analyze_args *a, const char *path, source **src)
{
    analysis_options o = {
        .containers = a->containers, .ncontainers = a->ncontainers,
        .value_types = a->value_types, .nvalue_types = a->nvalue_types,
        .container_types = a->container_types, .ncontainer_types = a->ncontainer_types,
        .no_auto_containers = a->no_auto, .top_n = (size_t)a->top, .hist_n = (size_t)a->top,
        .folded_depth = a->folded ? 24 : 0, .min_instances = (uint32_t)a->min_instances,
    };
    analysis *an = cli_analyze(cmd, path, a->binary, &o, src);
    if (an && a->timings) {
        for (int p = 0; p < ANALYSIS_NPHASES; p++) {
            if (p == ANALYSIS_T_DOMINATORS) { /* ran on a second thread */
                fprintf(stderr, "%-11s %7.3f s  (in parallel with reverse to detectors; "
                        "then waited %.3f s)\n", analysis_phase_name(p), an->seconds[p],
                        an->dom_wait);
                continue;
            }
            fprintf(stderr, "%-11s %7.3f s  peak RSS %6.1f MiB\n", analysis_phase_name(p),
                    an->seconds[p], (double)an->peak_rss[p] / (1 << 20));
            for (int st = 0; p == ANALYSIS_T_MODEL && st < HEAP_NSTEPS; st++)
                fprintf(stderr, "  %-9s %7.3f s\n", heap_step_name(st), an->h->step_seconds[st]);
        }
        fprintf(stderr, "%-11s %7.3f s\n", "total", an->wall);
    }
    return an;
}

/* Prints the text report (or the JSON with --json -) and writes the --json / --dot files.
 * Returns the exit status. */
static int write_reports(const char *cmd, const analyze_args *a, const report *r)
{
    emit_text_options to;
    emit_text_options_init(&to);
    to.max_objects = (size_t)a->objects;
    to.color = isatty(STDOUT_FILENO);
    to.width = text_width(a);
    int ok;
    if (a->json && strcmp(a->json, "-") == 0)
        ok = emit_to(cmd, "-", r, emit_json_cb, NULL) == 0;
    else
        ok = emit_to(cmd, "-", r, emit_text_cb, &to) == 0 &&
             (!a->json || emit_to(cmd, a->json, r, emit_json_cb, NULL) == 0);
    if (ok && a->dot)
        ok = emit_to(cmd, a->dot, r, emit_dot_cb, NULL) == 0;
    if (ok && a->html)
        ok = emit_timed(cmd, a, "write html", a->html, r, emit_html_cb) == 0;
    if (ok && a->folded)
        ok = emit_to(cmd, a->folded, r, emit_folded_cb, NULL) == 0;
    if (ok && a->pprof)
        ok = emit_timed(cmd, a, "write pprof", a->pprof, r, emit_pprof_cb) == 0;
    return ok ? CLI_OK : CLI_BAD;
}

int cmd_analyze(int argc, char **argv)
{
    analyze_args a;
    source *src = NULL;
    analysis *an = NULL;
    int status = CLI_BAD;
    if (parse_cmd("analyze", argc, argv, analyze_usage, 0, &a, &status))
        goto out;
    if ((an = run("analyze", &a, a.dump, &src)) && prepare_views("analyze", &a, an, NULL) == 0)
        status = write_reports("analyze", &a, an->rep);
out:
    return finish_cmd(&a, an, src, status);
}

/* Parses "ghost,closure_cycle" / "all" into a kind mask; -1 on an unknown name. */
static int parse_kinds(const char *s, unsigned *mask)
{
    *mask = 0;
    char *copy = strdup(s);
    if (!copy)
        return -1;
    int rc = 0;
    for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "all")) {
            *mask = (1u << REPORT_NKINDS) - 1;
            continue;
        }
        int k = report_kind_parse(tok);
        if (k < 0) {
            rc = -1;
            break;
        }
        *mask |= 1u << k;
    }
    free(copy);
    return rc < 0 || !*mask ? -1 : 0;
}

/* Reads a --baseline report; prints the error and returns NULL when it cannot. */
static baseline *load_baseline(const char *path)
{
    const uint8_t *data = NULL;
    size_t size = 0;
    baseline *b = NULL;
    hs_error err;
    hs_error_clear(&err);
    if (hs_map_file(path, &data, &size, &err) < 0 ||
        baseline_parse((const char *)data, size, &b, &err) < 0) {
        hs_error_prefix(&err, "--baseline %s", path);
        cli_report("check", &err);
    }
    hs_unmap(data, size);
    return b;
}

int cmd_check(int argc, char **argv)
{
    analyze_args a;
    source *src = NULL;
    analysis *an = NULL;
    baseline *base = NULL;
    unsigned mask;
    int status = CLI_BAD;
    if (parse_cmd("check", argc, argv, check_usage, 0, &a, &status))
        goto out;
    if (!a.fail_on || parse_kinds(a.fail_on, &mask) < 0) {
        status = cli_fail("check", "--fail-on takes kinds: ghost, finalizer_pinned "
                                   "(finalizer-pinned), closure_cycle (closure cycle), "
                                   "tombstone or all");
        goto out;
    }
    if (a.baseline && !(base = load_baseline(a.baseline)))
        goto out;
    if (!(an = run("check", &a, a.dump, &src)))
        goto out;
    report *r = an->rep;
    /* Keep only the matching findings, then print them like analyze does. */
    size_t k = 0, known = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        report_finding *f = &r->findings[i];
        int in_base = base && baseline_has(base, f->kind, f->signature);
        known += in_base;
        if ((mask >> f->kind & 1) && f->retained_bytes >= a.min_bytes &&
            f->nobjects >= (uint64_t)a.min_count && !in_base)
            r->findings[k++] = *f;
        else
            report_finding_release(f);
    }
    r->nfindings = k;
    if (base)
        fprintf(stderr, "check: %zu of the findings are in the baseline %s and ignored\n",
                known, a.baseline);
    emit_text_options to;
    emit_text_options_init(&to);
    to.tables = 0;
    to.width = text_width(&a);
    int ok = emit_to("check", "-", r, emit_text_cb, &to) == 0 &&
             (!a.json || emit_to("check", a.json, r, emit_json_cb, NULL) == 0);
    status = !ok ? CLI_BAD : k ? CLI_FOUND : CLI_OK;
out:
    baseline_free(base);
    return finish_cmd(&a, an, src, status);
}

int cmd_diff(int argc, char **argv)
{
    analyze_args a;
    source *src_before = NULL, *src_after = NULL;
    analysis *before = NULL, *after = NULL;
    int status = CLI_BAD;
    if (parse_cmd("diff", argc, argv, diff_usage, 1, &a, &status))
        goto out;
    before = run("diff", &a, a.before, &src_before);
    after = before ? run("diff", &a, a.dump, &src_after) : NULL;
    if (after) {
        report *r = after->rep;
        hs_error err;
        hs_error_clear(&err);
        if (diff_run(before, after, (size_t)a.top, &err) < 0)
            cli_report("diff", &err);
        else if (prepare_views("diff", &a, after, before) == 0)
            status = write_reports("diff", &a, r);
        if (status == CLI_OK && a.pprof_base &&
            emit_to("diff", a.pprof_base, before->rep, emit_pprof_cb, NULL) < 0)
            status = CLI_BAD;
    }
out:
    analysis_free(before);
    source_close(src_before);
    return finish_cmd(&a, after, src_after, status);
}
