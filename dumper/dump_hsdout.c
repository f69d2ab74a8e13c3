/* dump_hsdout.c - raw heap dump + symbols + metadata -> .hsd. */
#include "dump_hsdout.h"

#include "redact.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bincheck.h"
#include "cjson/cJSON.h"
#include "dump_clock.h"
#include "gohd.h"
#include "hs_version.h"
#include "hsd.h"


#define OUT_CHUNK ((uint32_t)1 << 20) /* hsd chunk size: HSD.md default */
#define OUT_STALL_NS (30ll * 1000000000)
#define OUT_MAX_SECS 8

/* ---- the file sink: writes, and follows the chunk headers going by so that the stored size
 * of every section is known once its chunks are out (HSD.md: header, chunks, then "HSDI"). */

typedef struct out_sink {
    int fd;
    int sys_errno;         /* first write failure */
    uint64_t off;          /* bytes written */
    /* parser of our own output */
    uint8_t hdr[32];
    size_t hdr_fill;
    uint64_t skip;         /* stored bytes of the current chunk still to pass */
    int in_index;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t stored[OUT_MAX_SECS];
    uint64_t chunks[OUT_MAX_SECS];
} out_sink;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void sink_follow(out_sink *s, const uint8_t *p, size_t n)
{
    uint64_t pos = s->off; /* file offset of p */
    while (n > 0 && !s->in_index) {
        if (pos < 24) { /* file header */
            size_t k = 24 - pos < n ? (size_t)(24 - pos) : n;
            p += k, n -= k, pos += k;
            continue;
        }
        if (s->skip) {
            size_t k = s->skip < n ? (size_t)s->skip : n;
            p += k, n -= k, pos += k, s->skip -= k;
            continue;
        }
        size_t k = sizeof s->hdr - s->hdr_fill < n ? sizeof s->hdr - s->hdr_fill : n;
        memcpy(s->hdr + s->hdr_fill, p, k);
        s->hdr_fill += k;
        p += k, n -= k, pos += k;
        if (s->hdr_fill >= 4 && memcmp(s->hdr, "HSDI", 4) == 0) {
            s->in_index = 1;
            break;
        }
        if (s->hdr_fill < sizeof s->hdr)
            continue;
        uint32_t sec = le32(s->hdr + 4), stored = le32(s->hdr + 12);
        s->hdr_fill = 0;
        s->skip = stored;
        pthread_mutex_lock(&s->mu);
        if (sec < OUT_MAX_SECS) {
            s->stored[sec] += stored;
            s->chunks[sec]++;
        }
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

static int sink_write(void *ctx, const void *buf, size_t n)
{
    out_sink *s = ctx;
    const uint8_t *p = buf;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(s->fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            pthread_mutex_lock(&s->mu);
            if (!s->sys_errno)
                s->sys_errno = e;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            errno = e;
            return HS_ERR_IO;
        }
        p += w;
        left -= (size_t)w;
    }
    sink_follow(s, buf, n);
    s->off += n;
    return HS_OK;
}

/* Waits until `want` chunks of section sec are in the file; returns their stored size, or
 * UINT64_MAX when the writer failed or stalled (the next writer call reports why). */
static uint64_t sink_wait(out_sink *s, uint32_t sec, uint64_t want)
{
    uint64_t res = UINT64_MAX;
    pthread_mutex_lock(&s->mu);
    uint64_t seen = s->chunks[sec];
    int64_t last = dump_clock_ns();
    while (!s->sys_errno) {
        if (s->chunks[sec] >= want) {
            res = s->stored[sec];
            break;
        }
        if (s->chunks[sec] != seen) {
            seen = s->chunks[sec];
            last = dump_clock_ns();
        } else if (dump_clock_ns() - last > OUT_STALL_NS) {
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return res;
}

/* ---- the heap dump passes through gohd on its way into the writer ---- */

typedef struct raw_tee {
    int fd;
    uint64_t pos, len;
    hsd_writer *w;
    hs_error werr;
    int wfailed;
    int read_errno;
    dump_hsdout_progress_fn progress;
    void *progress_ctx;
} raw_tee;

static int64_t tee_read(void *ctx, void *buf, size_t n)
{
    raw_tee *t = ctx;
    if (t->pos >= t->len)
        return 0;
    if (n > t->len - t->pos)
        n = (size_t)(t->len - t->pos);
    ssize_t r;
    do
        r = pread(t->fd, buf, n, (off_t)t->pos);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        t->read_errno = errno;
        return HS_ERR_IO;
    }
    if (r == 0) { /* the spool is shorter than we were told */
        t->len = t->pos;
        return 0;
    }
    int rc = t->w ? hsd_writer_write(t->w, buf, (size_t)r, &t->werr) : HS_OK;
    if (rc < 0) {
        t->wfailed = 1;
        return rc;
    }
    t->pos += (uint64_t)r;
    if (t->progress)
        t->progress(t->progress_ctx, t->pos, t->len);
    return r;
}

static int section_writer(void *ctx, const void *buf, size_t n)
{
    void **a = ctx;
    return hsd_writer_write(a[0], buf, n, a[1]);
}

void dump_hsdout_iso8601(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;
    time_t sec = ts->tv_sec;
    gmtime_r(&sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03ldZ", base, ts->tv_nsec / 1000000);
}

static cJSON *meta_json(const dump_hsdout_in *in, const dump_hsdout_out *res)
{
    const dump_hsdout_meta *m = &in->meta;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    char when[64];
    cJSON_AddStringToObject(j, "schema", "heapsift-meta/1");
    cJSON_AddStringToObject(j, "heapsift_version", HEAPSIFT_VERSION);
    if (m->pid > 0)
        cJSON_AddNumberToObject(j, "pid", m->pid);
    if (m->uid >= 0)
        cJSON_AddNumberToObject(j, "uid", m->uid);
    if (m->exe)
        cJSON_AddStringToObject(j, "exe", m->exe);
    if (m->cmdline) {
        cJSON *args = cJSON_AddArrayToObject(j, "cmdline");
        for (size_t i = 0; i < m->cmdline_len;) {
            size_t alen = strnlen(m->cmdline + i, m->cmdline_len - i);
            char *a = strndup(m->cmdline + i, alen);
            if (a)
                cJSON_AddItemToArray(args, cJSON_CreateString(a));
            free(a);
            i += alen + 1;
        }
    }
    dump_hsdout_iso8601(&m->captured_at, when, sizeof when);
    cJSON_AddStringToObject(j, "captured_at", when);
    if (m->start_unix_ns) {
        struct timespec st = {(time_t)(m->start_unix_ns / 1000000000),
                              (long)(m->start_unix_ns % 1000000000)};
        dump_hsdout_iso8601(&st, when, sizeof when);
        cJSON_AddStringToObject(j, "started_at", when);
    }
    if (m->rss_bytes)
        cJSON_AddNumberToObject(j, "rss_bytes", (double)m->rss_bytes);
    cJSON_AddStringToObject(j, "go_version", m->go_version && *m->go_version ? m->go_version
                                                                               : res->go_version);
    cJSON_AddStringToObject(j, "goarch", res->goarch);
    const symtab_info *si = in->syms ? symtab_get_info(in->syms) : NULL;
    cJSON_AddStringToObject(j, "build_id", si ? si->build_id : "");
    if (m->symbols_from)
        cJSON_AddStringToObject(j, "symbols_from", m->symbols_from);
    if (m->trigger)
        cJSON_AddStringToObject(j, "trigger", m->trigger);
    if (m->imported_from)
        cJSON_AddStringToObject(j, "imported_from", m->imported_from);
    if (m->source)
        cJSON_AddStringToObject(j, "source", m->source);
    if (m->source && (!strcmp(m->source, "core") || !strcmp(m->source, "snapshot"))) {
        cJSON *u = cJSON_AddArrayToObject(j, "unrecovered");
        for (size_t i = 0; u && i < m->nunrecovered; i++)
            cJSON_AddItemToArray(u, cJSON_CreateString(m->unrecovered[i]));
    }
    if (m->snapshot_pause_ns)
        cJSON_AddNumberToObject(j, "pause_ns", (double)m->snapshot_pause_ns);
    if (m->has_timings) {
        cJSON_AddBoolToObject(j, "nogc", m->nogc);
        if (m->redacted)
            cJSON_AddBoolToObject(j, "redacted", 1);
        cJSON_AddNumberToObject(j, "pause_ns", (double)m->timings.pause_ns);
        cJSON_AddNumberToObject(j, "gc_ns", (double)m->timings.gc_ns);
        cJSON_AddNumberToObject(j, "drain_ns", (double)m->timings.drain_ns);
        cJSON_AddNumberToObject(j, "dump_seq", (double)m->timings.dump_seq);
    }
    cJSON_AddNumberToObject(j, "compress_ns", (double)res->compress_ns);
    cJSON_AddNumberToObject(j, "raw_bytes", (double)res->raw_bytes);
    cJSON_AddNumberToObject(j, "stored_bytes", (double)res->stored_bytes);
    return j;
}

static void copy_bytes(gohd_bytes b, char *dst, size_t size)
{
    size_t n = b.len < size - 1 ? b.len : size - 1;
    memcpy(dst, b.ptr, n);
    dst[n] = '\0';
}

/* Maps a writer failure to a dumper error. */
static int writer_fail(const out_sink *s, const char *path, const hs_error *e, dump_err *err)
{
    if (s->sys_errno)
        return dump_err_sys(err, s->sys_errno, "writing", path);
    char buf[400];
    return dump_err_set(err, DUMP_ERR_IO, e->sys_errno, "writing %s: %s", path,
                        hs_error_format(e, buf, sizeof buf));
}

/* A failure of the check pass (gohd reading the raw dump through the tee): the output (the
 * tee stores what it reads), the raw file, a dump that ends early or a malformed one. */
static int check_fail(const out_sink *s, const char *path, const raw_tee *t, const hs_error *he,
                      dump_err *err)
{
    if (t->wfailed)
        return writer_fail(s, path, &t->werr, err);
    if (t->read_errno)
        return dump_err_set(err, DUMP_ERR_IO, t->read_errno, "reading the raw dump: %s",
                            strerror(t->read_errno));
    if (he->status == HS_ERR_TRUNCATED)
        return dump_err_set(err, DUMP_ERR_DROPPED, 0,
                            "the heap dump ends after %llu bytes without its EOF record",
                            (unsigned long long)t->pos);
    char buf[600];
    return dump_err_set(err, DUMP_ERR_FORMAT, 0, "%s: %s",
                        he->status == HS_ERR_MISMATCH ? "wrong binary" : "the heap dump is malformed",
                        hs_error_format(he, buf, sizeof buf));
}

int dump_hsdout_write(int out_fd, const char *path, const dump_hsdout_in *in,
                      dump_hsdout_out *res, dump_err *err)
{
    memset(res, 0, sizeof *res);
    out_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.fd = out_fd;
    pthread_mutex_init(&sink.mu, NULL);
    pthread_cond_init(&sink.cv, NULL);
    hsd_writer *w = NULL;
    gohd_reader *g = NULL;
    hs_error he;
    hs_error_clear(&he);
    int rc = -1;
    int64_t t0 = dump_clock_ns();
    posix_fadvise(in->raw_fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    hsd_writer_options wo = {.chunk_size = OUT_CHUNK, .level = 1,
                             .threads = in->threads > 0 ? in->threads : 2};
    if (hsd_writer_new((hs_writer){sink_write, &sink}, &wo, &w, &he) < 0) {
        writer_fail(&sink, path, &he, err);
        goto out;
    }

    /* HEAPDUMP first: section 0. */
    /* The check pass also stores the bytes, unless they are stored redacted after it. */
    raw_tee t = {.fd = in->raw_fd, .len = in->raw_len, .w = in->redact ? NULL : w,
                 .progress = in->progress, .progress_ctx = in->progress_ctx};
    if (hsd_writer_begin(w, HSD_SEC_HEAPDUMP, "heapdump", &he) < 0) {
        writer_fail(&sink, path, &he, err);
        goto out;
    }
    if (gohd_reader_new((hs_reader){tee_read, &t}, NULL, &g, &he) < 0) {
        check_fail(&sink, path, &t, &he, err);
        goto out;
    }
    gohd_record rec;
    int nr;
    while ((nr = gohd_next(g, &rec, &he)) > 0) {
        if (rec.tag == GOHD_PARAMS) {
            copy_bytes(rec.u.params.goversion, res->go_version, sizeof res->go_version);
            copy_bytes(rec.u.params.goarch, res->goarch, sizeof res->goarch);
        }
        if (in->syms && bincheck_record(in->syms, &rec, &he) < 0) {
            nr = he.status;
            break;
        }
    }
    if (nr < 0) {
        check_fail(&sink, path, &t, &he, err);
        goto out;
    }
    {
        /* Nothing may follow the EOF record (gohd may have buffered some of it already). */
        uint8_t extra[4096];
        int64_t x;
        while ((x = tee_read(&t, extra, sizeof extra)) > 0)
            ;
        if (x < 0) {
            check_fail(&sink, path, &t, &he, err);
            goto out;
        }
        if (gohd_position(g) != t.pos) {
            dump_err_set(err, DUMP_ERR_FORMAT, 0,
                         "the heap dump has %llu bytes after its EOF record (at byte %llu)",
                         (unsigned long long)(t.pos - gohd_position(g)),
                         (unsigned long long)gohd_position(g));
            goto out;
        }
    }
    res->raw_bytes = t.pos;
    if (in->redact) {
        /* Zero every non-pointer byte but keep type and code words the analysis needs. */
        raw_tee r2 = {.fd = in->raw_fd, .len = t.pos};
        redact_options ro = {.syms = in->syms};
        redact_stats rs;
        if (redact_to_hsd((hs_reader){tee_read, &r2}, w, &ro, &rs, &he) < 0) {
            writer_fail(&sink, path, &he, err);
            goto out;
        }
    }
    if (hsd_writer_end(w, &he) < 0) {
        writer_fail(&sink, path, &he, err);
        goto out;
    }
    uint64_t want = (t.pos + OUT_CHUNK - 1) / OUT_CHUNK;
    uint64_t stored = sink_wait(&sink, 0, want);
    res->stored_bytes = stored == UINT64_MAX ? 0 : stored;
    res->compress_ns = dump_clock_ns() - t0;

    if (in->syms) {
        void *ctx[2] = {w, &he};
        if (hsd_writer_begin(w, HSD_SEC_SYMTAB, in->syms_name, &he) < 0 ||
            symtab_encode(in->syms, (hs_writer){section_writer, ctx}, &he) < 0 ||
            hsd_writer_end(w, &he) < 0) {
            writer_fail(&sink, path, &he, err);
            goto out;
        }
    }
    if (in->types) {
        void *ctx[2] = {w, &he};
        if (hsd_writer_begin(w, HSD_SEC_TYPES, "types", &he) < 0 ||
            typetab_encode(in->types, (hs_writer){section_writer, ctx}, &he) < 0 ||
            hsd_writer_end(w, &he) < 0) {
            writer_fail(&sink, path, &he, err);
            goto out;
        }
    }
    if (in->maps && hsd_writer_section(w, HSD_SEC_MAPS, "maps", in->maps, in->maps_len, &he) < 0) {
        writer_fail(&sink, path, &he, err);
        goto out;
    }
    if (in->manifest && !in->redact &&
        hsd_writer_section(w, HSD_SEC_MANIFEST, "manifest", in->manifest,
                                           in->manifest_len, &he) < 0) {
        writer_fail(&sink, path, &he, err);
        goto out;
    }
    cJSON *mj = meta_json(in, res);
    char *meta = mj ? cJSON_PrintUnformatted(mj) : NULL;
    cJSON_Delete(mj);
    if (!meta) {
        dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory for META");
        goto out;
    }
    int mrc = hsd_writer_section(w, HSD_SEC_META, "meta", meta, strlen(meta), &he);
    free(meta);
    if (mrc < 0 || hsd_writer_finish(w, &he) < 0) {
        writer_fail(&sink, path, &he, err);
        goto out;
    }
    res->file_bytes = sink.off;
    rc = 0;
out:
    gohd_reader_free(g);
    hsd_writer_free(w);
    pthread_mutex_destroy(&sink.mu);
    pthread_cond_destroy(&sink.cv);
    return rc;
}
