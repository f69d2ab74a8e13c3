/* cli_util.c - error printing, sizes, output files and the progress bar. */
#include "cli.h"

#include "analysis.h"
#include "hs_units.h"
#include "source.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_report(const char *cmd, const hs_error *err)
{
    char buf[512];
    fprintf(stderr, "heapsift %s: %s\n", cmd, hs_error_format(err, buf, sizeof buf));
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "heapsift %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_BAD;
}

const char *cli_size(uint64_t n, char *buf, size_t cap)
{
    return hs_units_format_bytes(n, HS_UNITS_SHORT, buf, cap);
}

int cli_parse_size(const char *s, uint64_t *out)
{
    return hs_units_parse_size(s, out, NULL) < 0 ? -1 : 0;
}

int cli_parse_count(const char *cmd, const char *opt, const char *s, long min, long *out)
{
    hs_error e;
    uint64_t v;
    hs_error_clear(&e);
    if (hs_units_parse_count(s, (uint64_t)min, LONG_MAX, &v, &e) < 0) {
        cli_fail(cmd, "%s '%s': %s", opt, s, e.msg);
        return -1;
    }
    *out = (long)v;
    return 0;
}

int cli_write_text(const char *cmd, const char *path, const char *text)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        fputc('\n', stdout);
        return 0;
    }
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0) {
        if (f)
            fclose(f);
        cli_fail(cmd, "cannot write %s", path);
        return -1;
    }
    if (fclose(f) != 0) {
        cli_fail(cmd, "cannot write %s", path);
        return -1;
    }
    return 0;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, const char *label, uint64_t total)
{
    p->active = isatty(STDERR_FILENO);
    p->label = label;
    p->total = total;
    p->started = cli_now();
    p->last_draw = 0;
}

void cli_progress_update(void *ctx, uint64_t done)
{
    cli_progress *p = ctx;
    if (!p->active)
        return;
    double now = cli_now();
    if (now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    int width = 30;
    double frac = p->total ? (double)done / (double)p->total : 0;
    if (frac > 1)
        frac = 1;
    int fill = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char sz[32];
    fprintf(stderr, "\r%-10s [%s] %3d%% %s", p->label, bar, (int)(frac * 100),
            cli_size(done, sz, sizeof sz));
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->active && p->last_draw > 0)
        fprintf(stderr, "\r\033[K");
    p->active = 0;
}

source *cli_open(const char *cmd, const char *path, const char *binary)
{
    hs_error err;
    hs_error_clear(&err);
    source *s;
    if (source_open(path, binary, &s, &err) < 0) {
        cli_report(cmd, &err);
        return NULL;
    }
    const char *budget = getenv("HEAPSIFT_MAX_RECORD");
    if (budget && *budget && hs_units_parse_size(budget, &s->max_record, &err) < 0) {
        cli_fail(cmd, "HEAPSIFT_MAX_RECORD: not a size: %s: %s", budget, err.msg);
        source_close(s);
        return NULL;
    }
    return s;
}

analysis *cli_analyze(const char *cmd, const char *path, const char *binary,
                      analysis_options *opts, source **src)
{
    if (!(*src = cli_open(cmd, path, binary)))
        return NULL;
    cli_progress bar;
    cli_progress_start(&bar, "reading", (*src)->dump_bytes);
    opts->progress = cli_progress_update;
    opts->progress_ctx = &bar;
    hs_error err;
    hs_error_clear(&err);
    analysis *an;
    int rc = analysis_run(*src, opts, &an, &err);
    cli_progress_done(&bar);
    opts->progress = NULL;
    opts->progress_ctx = NULL;
    if (rc < 0) {
        cli_report(cmd, &err);
        source_close(*src);
        *src = NULL;
        return NULL;
    }
    return an;
}
