/* fuzz_analyze - the whole analysis (analyzer/analysis.h) and every emitter on hostile input.
 *
 * Input forms:
 *   - a .hsd container: opened as source_open would (heap-dump section, META, MANIFEST and
 *     SYMTAB sections), the dump streamed with inflate threads;
 *   - a raw dump "go1.7 heap dump\n"...: used as is; if the bytes "HSSYMTAB" occur after the
 *     header, the dump ends there and the rest is a SYMTAB section (symtab_encode output) for
 *     names, closures and types; without one a small made-up symtab (fuzz_synth_symtab.h) is
 *     used;
 *   - anything else: records without a header: the magic and a params record (go1.19 or go1.22
 *     layout by the input's length parity) are prepended, with the made-up symtab.
 * An EOF record is always appended, so a stream cut short still reaches the graph algorithms.
 * The source struct is filled here (source.h is public) instead of going through the file
 * system. The report goes through emit_text (also wrapped), emit_json and emit_dot, then gets
 * the HTML page's views and the pprof profile, which emit_html and emit_pprof write, all into a
 * discarding writer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "emit.h"
#include "fuzz_synth_symtab.h"
#include "fuzz_util.h"
#include "gohd.h"
#include "hsd.h"
#include "profile.h"
#include "symtab.h"
#include "views.h"

volatile unsigned fuzz_sink;

/* Heap dumps (and sections) larger than this are skipped: keeps each run short. */
#define FUZZ_MAX_DUMP (8u << 20)

static symtab *synth_syms;

static void run_analysis(source *s, int with_containers)
{
    static const char *containers[] = {"main.store", "main.registry", "main.table"};
    static const char *value_types[] = {"main.Payload", "*main.Payload"};
    analysis_options o;
    memset(&o, 0, sizeof o);
    if (with_containers) {
        o.containers = containers;
        o.ncontainers = 3;
        o.value_types = value_types;
        o.nvalue_types = 2;
    }
    o.top_n = 5;
    o.hist_n = 5;
    analysis *a;
    hs_error err;
    int verbose = getenv("FUZZ_VERBOSE") != NULL; /* replay aid: say what each input did */
    int rc = analysis_run(s, &o, &a, &err);
    if (rc == HS_ERR_NOTFOUND && with_containers) {
        /* a named container is not in this dump: analyze without */
        memset(&o, 0, sizeof o);
        rc = analysis_run(s, &o, &a, &err);
    }
    if (rc < 0) {
        if (verbose) {
            char buf[512];
            fprintf(stderr, "  analysis failed: %s\n", hs_error_format(&err, buf, sizeof buf));
        }
        fuzz_sink += (unsigned)err.status;
        return;
    }
    if (verbose)
        fprintf(stderr, "  analysis: %u objects, %zu findings\n", a->h->nobj, a->rep->nfindings);
    hs_writer w = {fuzz_discard, NULL};
    emit_text_options to;
    emit_text_options_init(&to);
    to.max_objects = 3;
    rc = emit_text(a->rep, w, &to);
    if (rc == HS_OK)
        rc = emit_json(a->rep, w, 1);
    if (rc == HS_OK)
        rc = emit_dot(a->rep, w);
    to.width = 40;
    if (rc == HS_OK)
        rc = emit_text(a->rep, w, &to);
    if (rc == HS_OK && (rc = views_build(a, NULL, &err)) == HS_OK)
        rc = emit_html(a->rep, w);
    if (rc == HS_OK && (rc = profile_build(a, &err)) == HS_OK)
        rc = emit_pprof(a->rep, w);
    if (rc != HS_OK && rc != HS_ERR_NOMEM)
        abort(); /* an analysis must produce a report its emitters accept */
    analysis_free(a);
}

/* Reads a JSON section NUL-terminated, as source.c does; NULL when absent or unreadable. */
static char *json_section(const hsd_reader *r, uint32_t type)
{
    long i = hsd_find_section(r, type);
    uint8_t *buf;
    size_t len;
    if (i < 0 || hsd_read_section(r, (size_t)i, 1u << 20, &buf, &len, NULL) < 0)
        return NULL;
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

static void run_hsd(const uint8_t *data, size_t size)
{
    source s;
    memset(&s, 0, sizeof s);
    s.path = (char *)"fuzz.hsd";
    s.data = data;
    s.size = size;
    s.fd = -1; /* the dump is in memory, not a file to pread */
    if (hsd_reader_open(data, size, &s.hsd, NULL) < 0)
        return;
    s.dump_section = hsd_find_section(s.hsd, HSD_SEC_HEAPDUMP);
    if (s.dump_section >= 0 &&
        (s.dump_bytes = hsd_section(s.hsd, (size_t)s.dump_section)->raw_size) <= FUZZ_MAX_DUMP) {
        s.meta_json = json_section(s.hsd, HSD_SEC_META);
        s.manifest_json = json_section(s.hsd, HSD_SEC_MANIFEST);
        long si = hsd_find_section(s.hsd, HSD_SEC_SYMTAB);
        uint8_t *buf;
        size_t len;
        if (si >= 0 && hsd_read_section(s.hsd, (size_t)si, FUZZ_MAX_DUMP, &buf, &len, NULL) == 0) {
            if (symtab_decode(buf, len, &s.syms, NULL) < 0)
                s.syms = NULL;
            free(buf);
        }
        run_analysis(&s, 0);
    }
    symtab_free(s.syms);
    free(s.meta_json);
    free(s.manifest_json);
    hsd_reader_free(s.hsd);
}

static void run_raw(const uint8_t *data, size_t size)
{
    if (!synth_syms && !(synth_syms = fuzz_synth_symtab()))
        return;
    int has_magic = size >= GOHD_MAGIC_LEN && memcmp(data, GOHD_MAGIC, GOHD_MAGIC_LEN) == 0;
    size_t dump_len = size;
    symtab *own = NULL;
    if (has_magic) {
        const uint8_t *m = memmem(data + GOHD_MAGIC_LEN, size - GOHD_MAGIC_LEN, "HSSYMTAB", 8);
        if (m) {
            dump_len = (size_t)(m - data);
            if (symtab_decode(m, size - dump_len, &own, NULL) < 0)
                own = NULL;
        }
    }
    /* header + params (at most ~64 bytes) + input + EOF record */
    uint8_t *buf = malloc(dump_len + 128);
    if (!buf) {
        symtab_free(own);
        return;
    }
    size_t n = 0;
    if (!has_magic) {
        static const char *versions[] = {"go1.19.8", "go1.22.1"};
        const char *v = versions[size & 1];
        memcpy(buf, GOHD_MAGIC, GOHD_MAGIC_LEN);
        n = GOHD_MAGIC_LEN;
        n += gohd_put_uvarint(GOHD_PARAMS, buf + n);
        n += gohd_put_uvarint(0, buf + n); /* little-endian */
        n += gohd_put_uvarint(8, buf + n);
        n += gohd_put_uvarint(0xc000000000, buf + n);
        n += gohd_put_uvarint(0xc004000000, buf + n);
        n += gohd_put_uvarint(5, buf + n);
        memcpy(buf + n, "amd64", 5);
        n += 5;
        n += gohd_put_uvarint(strlen(v), buf + n);
        memcpy(buf + n, v, strlen(v));
        n += strlen(v);
        n += gohd_put_uvarint(2, buf + n);
    }
    if (dump_len)
        memcpy(buf + n, data, dump_len);
    n += dump_len;
    buf[n++] = GOHD_EOF;

    source s;
    memset(&s, 0, sizeof s);
    s.path = (char *)"fuzz.dump";
    s.data = buf;
    s.size = n;
    s.dump_bytes = n;
    s.dump_section = -1;
    s.fd = -1; /* the dump is in memory, not a file to pread */
    s.syms = own ? own : synth_syms;
    run_analysis(&s, !own);
    symtab_free(own);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_DUMP)
        return 0;
    if (hsd_is_hsd(data, size))
        run_hsd(data, size);
    else
        run_raw(data, size);
    return 0;
}
