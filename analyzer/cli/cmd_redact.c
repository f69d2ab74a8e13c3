/* heapsift redact - writes a copy of a dump with every non-pointer byte zeroed (redact.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cjson/cJSON.h"
#include "cli.h"
#include "hs_outfile.h"
#include "redact.h"
#include "source.h"

static const char redact_usage[] =
    "usage: heapsift redact IN OUT [--binary BIN] [--keep-manifest]\n"
    "\n"
    "Copies a dump (a .hsd file or a raw runtime heap dump; OUT is written as the same kind)\n"
    "keeping the pointer graph, sizes, types, function names and addresses, but zeroing every\n"
    "byte of object, global and stack memory that is not a pointer slot. With symbols (the\n"
    ".hsd's, or --binary for a raw dump) words holding type-descriptor, itab and function\n"
    "entry addresses are kept too, so the analysis of OUT equals that of IN. See SECURITY.md.\n"
    "\n"
    "A .hsd keeps its meta (marked \"redacted\": true), symbol and maps sections; the manifest\n"
    "section (written by the target) is dropped unless --keep-manifest; sections that may hold\n"
    "raw memory (segment, regs, unknown types) are dropped. OUT is created mode 0600 under a\n"
    "temporary name and renamed only when complete.\n"
    "\n"
    "  --binary BIN      the program that wrote the dump (symbols; replaces the .hsd's)\n"
    "  --keep-manifest   copy a .hsd's manifest section\n";

#define META_MAX (16u << 20)
#define COPY_BUF ((size_t)1 << 20)

/* After a failed read from a .hsd stream, the stream's own error is the precise one. */
static void stream_detail(const hsd_stream *st, hs_error *err)
{
    const hs_error *se = st ? hsd_stream_error(st) : NULL;
    if (se && se->status < 0)
        *err = *se;
}

/* Copies section i as it is, streaming (no whole-section buffer). */
static int copy_section(const hsd_reader *r, size_t i, hsd_writer *w, hs_error *err)
{
    const hsd_section_info *info = hsd_section(r, i);
    hsd_stream *st = NULL;
    uint8_t *buf = NULL;
    int rc = hsd_stream_open(r, i, 1, &st, err);
    if (rc < 0)
        goto out;
    if (!(buf = malloc(COPY_BUF))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "copy buffer");
        goto out;
    }
    if ((rc = hsd_writer_begin(w, info->type, info->name, err)) < 0)
        goto out;
    for (;;) {
        int64_t n = hsd_stream_read(st, buf, COPY_BUF);
        if (n < 0) {
            rc = (int)n;
            hs_error_set(err, rc, HS_NO_OFFSET, "reading section %zu", i);
            stream_detail(st, err);
            goto out;
        }
        if (n == 0) {
            rc = hsd_writer_end(w, err);
            break;
        }
        if ((rc = hsd_writer_write(w, buf, (size_t)n, err)) < 0)
            goto out;
    }
out:
    free(buf);
    hsd_stream_free(st);
    return rc;
}

/* Writes a META section: the input's JSON object (or {} when there is none) plus
 * "redacted": true. */
static int write_meta(const hsd_reader *r, long i, hsd_writer *w, hs_error *err)
{
    cJSON *m = NULL;
    char *text = NULL;
    const char *name = "meta";
    int rc = HS_OK;
    if (i >= 0) {
        uint8_t *buf;
        size_t len;
        if ((rc = hsd_read_section(r, (size_t)i, META_MAX, &buf, &len, err)) < 0)
            goto out;
        m = cJSON_ParseWithLength((const char *)buf, len);
        free(buf);
        if (!cJSON_IsObject(m)) {
            rc = hs_error_set(err, HS_ERR_FORMAT, hsd_section(r, (size_t)i)->first_chunk_off,
                              "the meta section is not a JSON object");
            goto out;
        }
        name = hsd_section(r, (size_t)i)->name;
    } else {
        m = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(m, "redacted");
    if (!m || !cJSON_AddBoolToObject(m, "redacted", 1) || !(text = cJSON_PrintUnformatted(m))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "meta section");
        goto out;
    }
    rc = hsd_writer_section(w, HSD_SEC_META, name, text, strlen(text), err);
out:
    cJSON_free(text);
    cJSON_Delete(m);
    return rc;
}

/* Redacts heap-dump section i into a new section. */
static int redact_section(const hsd_reader *r, size_t i, hsd_writer *w,
                          const redact_options *o, redact_stats *st, hs_error *err)
{
    hsd_stream *s = NULL;
    int rc;
    if ((rc = hsd_stream_open(r, i, 2, &s, err)) < 0 ||
        (rc = hsd_writer_begin(w, HSD_SEC_HEAPDUMP, hsd_section(r, i)->name, err)) < 0)
        goto out;
    if ((rc = redact_to_hsd((hs_reader){hsd_stream_read, s}, w, o, st, err)) < 0) {
        if (rc != HS_ERR_NOMEM)
            stream_detail(s, err);
        goto out;
    }
    rc = hsd_writer_end(w, err);
out:
    hsd_stream_free(s);
    return rc;
}

static int redact_hsd(const source *s, int fd, int keep_manifest, const redact_options *o,
                      redact_stats *total, hs_error *err)
{
    hsd_writer *w = NULL;
    int rc = hsd_writer_new((hs_writer){hs_fd_write, &fd}, NULL, &w, err);
    if (rc < 0)
        goto out;
    const hsd_reader *r = s->hsd;
    long meta = hsd_find_section(r, HSD_SEC_META);
    if (meta < 0 && (rc = write_meta(r, -1, w, err)) < 0)
        goto out;
    for (size_t i = 0; i < hsd_section_count(r); i++) {
        const hsd_section_info *info = hsd_section(r, i);
        redact_stats st;
        switch (info->type) {
        case HSD_SEC_HEAPDUMP:
            rc = redact_section(r, i, w, o, &st, err);
            total->records += st.records;
            total->content_bytes += st.content_bytes;
            total->bytes_zeroed += st.bytes_zeroed;
            total->ptr_words += st.ptr_words;
            total->words_kept += st.words_kept;
            total->bytes_out += st.bytes_out;
            break;
        case HSD_SEC_META:
            rc = write_meta(r, (long)i, w, err);
            break;
        case HSD_SEC_SYMTAB:
        case HSD_SEC_MAPS:
            rc = copy_section(r, i, w, err);
            break;
        case HSD_SEC_MANIFEST:
            if (keep_manifest) {
                rc = copy_section(r, i, w, err);
                break;
            }
            fprintf(stderr, "heapsift redact: dropped the manifest section (--keep-manifest "
                            "keeps it)\n");
            break;
        default:
            fprintf(stderr, "heapsift redact: dropped section %zu (%s): it may hold memory "
                            "contents\n", i, hsd_section_type_name(info->type));
            break;
        }
        if (rc < 0) {
            hs_error_prefix(err, "section %zu (%s)", i, hsd_section_type_name(info->type));
            goto out;
        }
    }
    rc = hsd_writer_finish(w, err);
out:
    hsd_writer_free(w);
    return rc;
}

/* Writes the redacted copy of s (opened from in) to fd; totals in *st. */
static int redact_to_fd(const source *s, const char *in, int fd, int keep_manifest,
                        redact_stats *st, hs_error *err)
{
    redact_options o = {.syms = s->syms};
    memset(st, 0, sizeof *st);
    if (s->hsd)
        return redact_hsd(s, fd, keep_manifest, &o, st, err);
    /* A raw dump is streamed from its descriptor (source.h), from the start. */
    int in_fd = s->fd;
    if (lseek(in_fd, 0, SEEK_SET) < 0)
        return hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "%s: cannot seek", in);
    return redact_stream((hs_reader){hs_fd_read, &in_fd}, (hs_writer){hs_fd_write, &fd}, &o, st,
                         err);
}

/* A signal ends the command: no temporary output is left behind. */
static void on_signal(int sig)
{
    hs_outfile_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

int cmd_redact(int argc, char **argv)
{
    static const struct option opts[] = {
        {"binary", required_argument, 0, 'b'},
        {"keep-manifest", no_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *binary = NULL;
    int keep_manifest = 0, c, code = CLI_BAD, rc;
    source *s = NULL;
    hs_outfile out_file = HS_OUTFILE_INIT;
    void (*old_int)(int) = NULL, (*old_term)(int) = NULL, (*old_hup)(int) = NULL;
    int handlers = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': binary = optarg; break;
        case 'm': keep_manifest = 1; break;
        case 'h': fputs(redact_usage, stdout); code = CLI_OK; goto out;
        default: fputs(redact_usage, stderr); goto out;
        }
    }
    if (optind + 2 != argc) {
        fputs(redact_usage, stderr);
        goto out;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    hs_error err;
    hs_error_clear(&err);
    if (!(s = cli_open("redact", in, binary)))
        goto out;
    if (!s->hsd && keep_manifest)
        fprintf(stderr, "heapsift redact: --keep-manifest: a raw dump has no manifest\n");

    /* OUT appears, 0600, only once complete and on disk (hs_outfile.h). */
    if (hs_outfile_open(out, HS_OUTFILE_REPLACE | HS_OUTFILE_SYNC, &out_file, &err) < 0) {
        cli_fail("redact", "cannot create a temporary file next to %s: %s", out,
                 err.sys_errno ? strerror(err.sys_errno) : err.msg);
        goto out;
    }
    old_int = signal(SIGINT, on_signal);
    old_term = signal(SIGTERM, on_signal);
    old_hup = signal(SIGHUP, on_signal);
    handlers = 1;

    redact_stats st;
    if ((rc = redact_to_fd(s, in, out_file.fd, keep_manifest, &st, &err)) < 0 ||
        (rc = hs_outfile_commit(&out_file, &err)) < 0) {
        if (err.status == HS_OK)
            hs_error_set(&err, rc, HS_NO_OFFSET, "%s", hs_strerror(rc));
        hs_error_prefix(&err, "%s", in);
        cli_report("redact", &err);
        goto out;
    }
    char a[32], b[32];
    printf("redacted %s -> %s: %llu records, %s of memory, %s zeroed; kept %llu pointer "
           "slots and %llu type/code words%s\n",
           in, out, (unsigned long long)st.records, cli_size(st.content_bytes, a, sizeof a),
           cli_size(st.bytes_zeroed, b, sizeof b), (unsigned long long)st.ptr_words,
           (unsigned long long)st.words_kept, s->syms ? "" : " (no symbols: pointer slots only)");
    code = CLI_OK;
out:
    hs_outfile_abort(&out_file);
    if (handlers) {
        signal(SIGINT, old_int);
        signal(SIGTERM, old_term);
        signal(SIGHUP, old_hup);
    }
    source_close(s);
    return code;
}
