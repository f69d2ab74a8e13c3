/* heapsift info - what a dump holds, from one streaming pass. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dstats.h"
#include "source.h"

static const char info_usage[] =
    "usage: heapsift info DUMP [--binary BIN] [--json] [--top N]\n"
    "\n"
    "Reads a .hsd file or a raw runtime heap dump (debug.WriteHeapDump) and prints the Go\n"
    "version, records per kind, objects, goroutines, finalizers, data/bss sizes and, with\n"
    "symbols (in the .hsd or from --binary), the globals holding the most pointer slots.\n"
    "\n"
    "  --binary BIN  the program that wrote a raw dump (for symbol names)\n"
    "  --json        print the same as JSON (schema heapsift-info/1)\n"
    "  --top N       how many globals to list (default 10)\n";

static void print_meta(const source *s)
{
    if (!s->meta_json)
        return;
    cJSON *m = cJSON_Parse(s->meta_json);
    if (!m)
        return;
    const cJSON *pid = cJSON_GetObjectItem(m, "pid");
    const cJSON *exe = cJSON_GetObjectItem(m, "exe");
    const cJSON *at = cJSON_GetObjectItem(m, "captured_at");
    if (cJSON_IsNumber(pid) || cJSON_IsString(exe))
        printf("%-12s pid %d %s%s%s\n", "captured", cJSON_IsNumber(pid) ? pid->valueint : 0,
               cJSON_IsString(exe) ? exe->valuestring : "?",
               cJSON_IsString(at) ? " at " : "", cJSON_IsString(at) ? at->valuestring : "");
    const cJSON *src = cJSON_GetObjectItem(m, "source");
    const cJSON *from = cJSON_GetObjectItem(m, "imported_from");
    if (cJSON_IsString(src))
        printf("%-12s %s%s%s\n", "source", src->valuestring, cJSON_IsString(from) ? " " : "",
               cJSON_IsString(from) ? from->valuestring : "");
    const cJSON *lost;
    cJSON_ArrayForEach(lost, cJSON_GetObjectItem(m, "unrecovered"))
        if (cJSON_IsString(lost))
            printf("%-12s %s\n", "unrecovered", lost->valuestring);
    cJSON_Delete(m);
}

/* The slot sizes holding the most bytes, largest first. */
static void print_sizes(const dstats *st)
{
    enum { N = 8 };
    size_t best[N];
    size_t nbest = 0;
    for (size_t sz = 1; sz <= DSTATS_SMALL_MAX; sz++) {
        uint64_t bytes = st->small_sizes[sz] * sz;
        if (!bytes)
            continue;
        size_t pos = nbest;
        while (pos > 0 && st->small_sizes[best[pos - 1]] * best[pos - 1] < bytes)
            pos--;
        if (pos >= N)
            continue;
        if (nbest < N)
            nbest++;
        memmove(best + pos + 1, best + pos, (nbest - 1 - pos) * sizeof best[0]);
        best[pos] = sz;
    }
    char a[32], b[32];
    printf("\n%-20s %12s %12s\n", "object slot size", "count", "bytes");
    for (size_t i = 0; i < nbest; i++) {
        snprintf(a, sizeof a, "%zu B", best[i]);
        printf("%-20s %12llu %12s\n", a, (unsigned long long)st->small_sizes[best[i]],
               cli_size(st->small_sizes[best[i]] * best[i], b, sizeof b));
    }
    if (st->large_objects)
        printf("%-20s %12llu %12s\n", "> 32 KiB", (unsigned long long)st->large_objects,
               cli_size(st->large_bytes, b, sizeof b));
}

static void print_text(const source *s, const dstats *st)
{
    char a[32], b[32];
    printf("%-12s %s (%s, %s heap dump)\n", "file", s->path,
           s->hsd ? ".hsd container" : "raw heap dump", cli_size(st->dump_bytes, a, sizeof a));
    print_meta(s);
    printf("%-12s %s %s, %llu-byte pointers, %llu CPUs\n", "go", st->go_version, st->goarch,
           (unsigned long long)st->ptr_size, (unsigned long long)st->ncpu);
    printf("%-12s %llu (%s, %llu pointer slots)\n", "objects", (unsigned long long)st->objects,
           cli_size(st->object_bytes, a, sizeof a), (unsigned long long)st->object_ptr_slots);
    printf("%-12s %llu (%llu system), %llu stack frames\n", "goroutines",
           (unsigned long long)st->goroutines, (unsigned long long)st->system_goroutines,
           (unsigned long long)st->frames);
    printf("%-12s %llu registered, %llu queued\n", "finalizers",
           (unsigned long long)st->finalizers, (unsigned long long)st->queued_finalizers);
    printf("%-12s %s, %llu pointer slots\n", "data", cli_size(st->data_bytes, a, sizeof a),
           (unsigned long long)st->data_ptr_slots);
    printf("%-12s %s, %llu pointer slots\n", "bss", cli_size(st->bss_bytes, a, sizeof a),
           (unsigned long long)st->bss_ptr_slots);
    printf("%-12s heap alloc %s, %llu heap objects, %llu GCs\n", "memstats",
           cli_size(st->heap_alloc, a, sizeof a), (unsigned long long)st->heap_objects,
           (unsigned long long)st->num_gc);
    printf("\n%-20s %12s %12s\n", "record kind", "count", "bytes");
    for (int t = 0; t < GOHD_NTAGS; t++)
        if (st->records[t])
            printf("%-20s %12llu %12s\n", gohd_tag_name(t), (unsigned long long)st->records[t],
                   cli_size(st->record_bytes[t], b, sizeof b));
    print_sizes(st);
    if (!st->has_symbols) {
        printf("\nno symbols: pass --binary to name globals\n");
        return;
    }
    printf("\n%-40s %18s %10s %8s %8s\n", "top globals by pointer slots", "address", "size",
           "slots", "non-nil");
    for (size_t i = 0; i < st->ntop; i++) {
        const dstats_global *g = &st->top_globals[i];
        printf("%-40s %#18llx %10s %8llu %8llu\n", g->name, (unsigned long long)g->addr,
               cli_size(g->size, a, sizeof a), (unsigned long long)g->ptr_slots,
               (unsigned long long)g->nonnil_slots);
    }
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"binary", required_argument, 0, 'b'},
        {"json", no_argument, 0, 'j'},
        {"top", required_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *binary = NULL;
    int json = 0;
    long top = 10;
    int c;
    while ((c = getopt_long(argc, argv, "b:jn:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': binary = optarg; break;
        case 'j': json = 1; break;
        case 'n':
            if (cli_parse_count("info", "--top", optarg, 0, &top) < 0)
                return CLI_BAD;
            break;
        case 'h': fputs(info_usage, stdout); return CLI_OK;
        default: fputs(info_usage, stderr); return CLI_BAD;
        }
    }
    if (optind + 1 != argc) {
        fputs(info_usage, stderr);
        return CLI_BAD;
    }
    hs_error err;
    hs_error_clear(&err);
    source *s = cli_open("info", argv[optind], binary);
    if (!s)
        return CLI_BAD;
    int code = CLI_BAD;
    dstats st;
    cli_progress bar;
    cli_progress_start(&bar, "reading", s->dump_bytes);
    int rc = dstats_compute(s, (size_t)top, cli_progress_update, &bar, &st, &err);
    cli_progress_done(&bar);
    if (rc < 0) {
        cli_report("info", &err);
        goto out;
    }
    if (json) {
        cJSON *j = dstats_to_json(&st);
        char *text = j ? cJSON_Print(j) : NULL;
        if (text)
            cli_write_text("info", "-", text);
        free(text);
        cJSON_Delete(j);
    } else {
        print_text(s, &st);
    }
    dstats_release(&st);
    code = CLI_OK;
out:
    source_close(s);
    return code;
}
