/* hsd_write.c - the .hsd container writer (formats/HSD.md): sections cut into chunks that
 * worker threads compress, chunks written to the sink in order, then the index and the end
 * marker. */
#include "hsd_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_WRITER_THREADS 64
#define DEFAULT_CHUNK (1u << 20)

static void put32(uint32_t v, uint8_t *p)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint64_t v, uint8_t *p)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

enum { WSLOT_FREE, WSLOT_FILLING, WSLOT_QUEUED, WSLOT_DONE };

typedef struct wslot {
    int state;
    uint64_t seq;
    uint32_t section;
    uint32_t raw_len;
    uint8_t *raw;   /* chunk_size bytes */
    uint8_t *out;   /* chunk header + zlib stream */
    size_t out_len; /* valid bytes in out after compression */
} wslot;

typedef struct wchunk {
    uint64_t off;
    uint32_t section, raw, stored, raw_crc, stored_crc;
} wchunk;

typedef struct wsec {
    uint32_t type;
    uint32_t name_len;
    char name[MAX_NAME + 1];
    uint64_t raw_size;
} wsec;

struct hsd_writer {
    hs_writer sink;
    uint32_t chunk_size;
    int level;
    size_t out_cap;

    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* workers: a chunk was queued, or stop */
    pthread_cond_t free_cv; /* caller: a slot was freed */
    pthread_t *threads;
    int nthreads;
    int stop;
    wslot *slots;
    size_t nslots;
    uint64_t submitted;     /* chunks queued so far; also the next chunk's sequence number */
    uint64_t next_compress; /* next chunk a worker takes */
    uint64_t next_write;    /* next chunk to go to the sink */
    int writing;            /* a worker holds the write turn */

    /* Owned by whoever holds the write turn (and by the caller once workers are idle). */
    uint64_t file_off;
    wchunk *chunks;
    size_t nchunks, cap_chunks;

    /* First failure, set once under mu. */
    int failed;
    int fail_status;
    int fail_errno;
    uint64_t fail_off;
    char fail_msg[200];

    /* Caller side. */
    wslot *cur;
    int open;
    int finished;
    wsec *secs;
    size_t nsecs, cap_secs;
};

/* Records the first failure; call with mu held. */
static void wfail_locked(hsd_writer *w, int status, int sys_errno, uint64_t off, const char *msg)
{
    if (w->failed)
        return;
    w->fail_status = status;
    w->fail_errno = sys_errno;
    w->fail_off = off;
    snprintf(w->fail_msg, sizeof w->fail_msg, "%s", msg);
    w->failed = 1;
}

/* Copies the recorded failure into err and returns its status; call with mu held or after
 * the workers are joined. */
static int wreport(const hsd_writer *w, hs_error *err)
{
    hs_error_set(err, w->fail_status, w->fail_off, "%s", w->fail_msg);
    if (err)
        err->sys_errno = w->fail_errno;
    return w->fail_status;
}

/* Writes to the sink, keeping the sink's status (HS_ERR_IO when it gave none) and errno. */
static int sink_write(hsd_writer *w, const void *buf, size_t n, int *sys_errno)
{
    errno = 0;
    int rc = w->sink.write(w->sink.ctx, buf, n);
    *sys_errno = errno;
    if (rc < 0)
        return rc;
    if (rc != HS_OK)
        return HS_ERR_IO;
    return HS_OK;
}

static void fmt_sink_error(const char *what, int e, char *msg, size_t size)
{
    if (e)
        snprintf(msg, size, "%s: sink write failed: %s", what, strerror(e));
    else
        snprintf(msg, size, "%s: sink write failed", what);
}

/* Compresses one slot in place: fills out with the chunk header and the zlib stream. */
static int compress_slot(hsd_writer *w, z_stream *zs, wslot *s, char *msg, size_t msgsize)
{
    if (deflateReset(zs) != Z_OK) {
        snprintf(msg, msgsize, "deflateReset failed");
        return HS_ERR_ZLIB;
    }
    zs->next_in = s->raw;
    zs->avail_in = s->raw_len;
    zs->next_out = s->out + CHUNK_HDR;
    zs->avail_out = (uInt)(w->out_cap - CHUNK_HDR);
    int zr = deflate(zs, Z_FINISH);
    if (zr != Z_STREAM_END || zs->total_out > hsd_stored_bound(s->raw_len)) {
        snprintf(msg, msgsize, "compressing chunk %llu: deflate returned %d (%s)",
                 (unsigned long long)s->seq, zr, zs->msg ? zs->msg : "no message");
        return HS_ERR_ZLIB;
    }
    uint32_t stored = (uint32_t)zs->total_out;
    uint8_t *h = s->out;
    memcpy(h, CHUNK_MAGIC, 4);
    put32(s->section, h + 4);
    put32(s->raw_len, h + 8);
    put32(stored, h + 12);
    put32(hsd_crc_buf(s->raw, s->raw_len), h + 16);
    put32(hsd_crc_buf(s->out + CHUNK_HDR, stored), h + 20);
    put32(0, h + 24);
    put32(hsd_crc_buf(h, 28), h + 28);
    s->out_len = CHUNK_HDR + stored;
    return HS_OK;
}

/* Sends a compressed slot to the sink and records its index entry (write turn held). */
static int write_slot(hsd_writer *w, wslot *s, int *sys_errno, char *msg, size_t msgsize)
{
    *sys_errno = 0;
    if (w->nchunks == w->cap_chunks) {
        size_t cap = w->cap_chunks ? w->cap_chunks * 2 : 256;
        wchunk *c = realloc(w->chunks, cap * sizeof *c);
        if (!c) {
            snprintf(msg, msgsize, "growing the chunk index");
            return HS_ERR_NOMEM;
        }
        w->chunks = c;
        w->cap_chunks = cap;
    }
    int rc = sink_write(w, s->out, s->out_len, sys_errno);
    if (rc != HS_OK) {
        char what[96];
        snprintf(what, sizeof what, "writing chunk %llu (section %u)",
                 (unsigned long long)s->seq, s->section);
        fmt_sink_error(what, *sys_errno, msg, msgsize);
        return rc;
    }
    const uint8_t *h = s->out;
    wchunk *c = &w->chunks[w->nchunks++];
    c->off = w->file_off;
    c->section = s->section;
    c->raw = hsd_get32(h + 8);
    c->stored = hsd_get32(h + 12);
    c->raw_crc = hsd_get32(h + 16);
    c->stored_crc = hsd_get32(h + 20);
    w->file_off += s->out_len;
    return HS_OK;
}

static void *writer_worker(void *arg)
{
    hsd_writer *w = arg;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zok = deflateInit2(&zs, w->level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    char msg[200];

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->next_compress >= w->submitted)
            pthread_cond_wait(&w->work_cv, &w->mu);
        if (w->next_compress >= w->submitted)
            break; /* stop requested and nothing queued */
        uint64_t seq = w->next_compress++;
        wslot *s = &w->slots[seq % w->nslots];
        int skip = w->failed;
        pthread_mutex_unlock(&w->mu);

        int rc = HS_OK;
        if (!skip) {
            if (!zok) {
                snprintf(msg, sizeof msg, "deflateInit failed");
                rc = HS_ERR_ZLIB;
            } else {
                rc = compress_slot(w, &zs, s, msg, sizeof msg);
            }
        }

        pthread_mutex_lock(&w->mu);
        if (rc != HS_OK)
            wfail_locked(w, rc, 0, HS_NO_OFFSET, msg);
        s->state = WSLOT_DONE;
        if (w->writing)
            continue; /* the turn holder will write this one */
        /* Take the write turn: send every finished chunk that is next in order. */
        w->writing = 1;
        while (w->next_write < w->submitted) {
            wslot *n = &w->slots[w->next_write % w->nslots];
            if (n->state != WSLOT_DONE || n->seq != w->next_write)
                break;
            int wskip = w->failed;
            pthread_mutex_unlock(&w->mu);
            int e = 0;
            uint64_t off = w->file_off;
            int wrc = wskip ? HS_OK : write_slot(w, n, &e, msg, sizeof msg);
            pthread_mutex_lock(&w->mu);
            if (wrc != HS_OK)
                wfail_locked(w, wrc, e, off, msg);
            n->state = WSLOT_FREE;
            w->next_write++;
            pthread_cond_broadcast(&w->free_cv);
        }
        w->writing = 0;
    }
    pthread_mutex_unlock(&w->mu);
    if (zok)
        deflateEnd(&zs);
    return NULL;
}

/* Stops and joins the workers (queued chunks are still processed, or skipped after a
 * failure). */
static void writer_join(hsd_writer *w)
{
    if (!w->threads)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    free(w->threads);
    w->threads = NULL;
    w->nthreads = 0;
}

void hsd_writer_free(hsd_writer *w)
{
    if (!w)
        return;
    if (w->threads) {
        /* Abandoned: make the workers skip whatever is still queued. */
        pthread_mutex_lock(&w->mu);
        wfail_locked(w, HS_ERR_ARG, 0, HS_NO_OFFSET, "writer abandoned");
        pthread_mutex_unlock(&w->mu);
        writer_join(w);
    }
    for (size_t i = 0; w->slots && i < w->nslots; i++) {
        free(w->slots[i].raw);
        free(w->slots[i].out);
    }
    free(w->slots);
    free(w->chunks);
    free(w->secs);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->free_cv);
    free(w);
}

int hsd_writer_new(hs_writer sink, const hsd_writer_options *opts, hsd_writer **out,
                   hs_error *err)
{
    hs_error_clear(err);
    if (!out || !sink.write)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_writer_new: no output");
    *out = NULL;
    hsd_writer_options o = {0};
    if (opts)
        o = *opts;
    if (o.chunk_size == 0)
        o.chunk_size = DEFAULT_CHUNK;
    if (o.level == 0)
        o.level = 1;
    if (o.threads == 0)
        o.threads = 1;
    if (o.chunk_size > MAX_CHUNK_RAW)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "chunk size %u above the %u limit",
                            o.chunk_size, MAX_CHUNK_RAW);
    if (o.level < 1 || o.level > 9)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "zlib level %d not in 1..9", o.level);
    if (o.threads < 1 || o.threads > MAX_WRITER_THREADS)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "thread count %d not in 1..%d",
                            o.threads, MAX_WRITER_THREADS);

    hsd_writer *w = calloc(1, sizeof *w);
    if (!w)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating the writer");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work_cv, NULL);
    pthread_cond_init(&w->free_cv, NULL);
    w->sink = sink;
    w->chunk_size = o.chunk_size;
    w->level = o.level;

    int rc = HS_OK;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, w->level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        rc = hs_error_set(err, HS_ERR_ZLIB, HS_NO_OFFSET, "deflateInit failed");
        goto out;
    }
    uint64_t bound = deflateBound(&zs, w->chunk_size);
    deflateEnd(&zs);
    if (bound < hsd_stored_bound(w->chunk_size))
        bound = hsd_stored_bound(w->chunk_size);
    w->out_cap = CHUNK_HDR + (size_t)bound;

    /* A bounded queue of buffers: the caller blocks only when all are in flight. */
    w->nslots = 2 * (size_t)o.threads + 2;
    w->slots = calloc(w->nslots, sizeof *w->slots);
    if (!w->slots) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating chunk buffers");
        goto out;
    }
    for (size_t i = 0; i < w->nslots; i++) {
        w->slots[i].raw = malloc(w->chunk_size);
        w->slots[i].out = malloc(w->out_cap);
        if (!w->slots[i].raw || !w->slots[i].out) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating chunk buffers");
            goto out;
        }
    }

    uint8_t h[HDR_SIZE];
    memcpy(h, HSD_MAGIC, 8);
    put32(HSD_VERSION, h + 8);
    put32(HDR_SIZE, h + 12);
    put32(0, h + 16);
    put32(hsd_crc_buf(h, 20), h + 20);
    int e = 0;
    rc = sink_write(w, h, sizeof h, &e);
    if (rc != HS_OK) {
        char msg[200];
        fmt_sink_error("writing the header", e, msg, sizeof msg);
        hs_error_set(err, rc, 0, "%s", msg);
        if (err)
            err->sys_errno = e;
        goto out;
    }
    w->file_off = HDR_SIZE;

    w->threads = calloc((size_t)o.threads, sizeof *w->threads);
    if (!w->threads) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating threads");
        goto out;
    }
    if ((rc = hsd_start_threads(w->threads, o.threads, writer_worker, w, "a compression",
                                &w->nthreads, err)) < 0)
        goto out;
    *out = w;
    w = NULL;
out:
    hsd_writer_free(w);
    return rc;
}

/* Makes w->cur the next slot in sequence, waiting until it is free. */
static int writer_get_slot(hsd_writer *w, hs_error *err)
{
    pthread_mutex_lock(&w->mu);
    wslot *s = &w->slots[w->submitted % w->nslots];
    while (s->state != WSLOT_FREE && !w->failed)
        pthread_cond_wait(&w->free_cv, &w->mu);
    if (w->failed) {
        int rc = wreport(w, err);
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    s->state = WSLOT_FILLING;
    pthread_mutex_unlock(&w->mu);
    s->raw_len = 0;
    s->section = (uint32_t)(w->nsecs - 1);
    w->cur = s;
    return HS_OK;
}

/* Queues w->cur for compression. */
static int writer_submit(hsd_writer *w, hs_error *err)
{
    wslot *s = w->cur;
    w->cur = NULL;
    pthread_mutex_lock(&w->mu);
    s->seq = w->submitted++;
    s->state = WSLOT_QUEUED;
    pthread_cond_signal(&w->work_cv);
    int rc = w->failed ? wreport(w, err) : HS_OK;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static int writer_usable(hsd_writer *w, const char *fn, hs_error *err)
{
    if (!w)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "%s: no writer", fn);
    if (w->finished)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "%s: container already finished", fn);
    return HS_OK;
}

int hsd_writer_begin(hsd_writer *w, uint32_t type, const char *name, hs_error *err)
{
    hs_error_clear(err);
    int rc = writer_usable(w, "hsd_writer_begin", err);
    if (rc)
        return rc;
    if (w->open)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "a section is already open");
    if (type == 0)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "section type 0 is invalid");
    size_t nlen = name ? strlen(name) : 0;
    if (nlen > MAX_NAME)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "section name longer than %u bytes",
                            MAX_NAME);
    if (w->nsecs >= MAX_SECTIONS)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "more than %u sections",
                            MAX_SECTIONS);
    if (w->nsecs == w->cap_secs) {
        size_t cap = w->cap_secs ? w->cap_secs * 2 : 8;
        wsec *s = realloc(w->secs, cap * sizeof *s);
        if (!s)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "growing the section list");
        w->secs = s;
        w->cap_secs = cap;
    }
    wsec *s = &w->secs[w->nsecs++];
    memset(s, 0, sizeof *s);
    s->type = type;
    s->name_len = (uint32_t)nlen;
    if (nlen)
        memcpy(s->name, name, nlen);
    w->open = 1;
    return HS_OK;
}

int hsd_writer_write(hsd_writer *w, const void *data, size_t len, hs_error *err)
{
    int rc = writer_usable(w, "hsd_writer_write", err);
    if (rc)
        return rc;
    if (!w->open)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "no open section");
    wsec *sec = &w->secs[w->nsecs - 1];
    uint64_t total;
    if (hs_add_ovf(sec->raw_size, len, &total))
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "section size overflows");
    const uint8_t *p = data;
    while (len > 0) {
        if (!w->cur && (rc = writer_get_slot(w, err)) != HS_OK)
            return rc;
        wslot *s = w->cur;
        size_t room = w->chunk_size - s->raw_len;
        size_t k = len < room ? len : room;
        memcpy(s->raw + s->raw_len, p, k);
        s->raw_len += (uint32_t)k;
        sec->raw_size += k;
        p += k;
        len -= k;
        if (s->raw_len == w->chunk_size && (rc = writer_submit(w, err)) != HS_OK)
            return rc;
    }
    return HS_OK;
}

int hsd_writer_end(hsd_writer *w, hs_error *err)
{
    int rc = writer_usable(w, "hsd_writer_end", err);
    if (rc)
        return rc;
    if (!w->open)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "no open section");
    w->open = 0;
    if (w->cur) {
        if (w->cur->raw_len > 0)
            return writer_submit(w, err);
        pthread_mutex_lock(&w->mu);
        w->cur->state = WSLOT_FREE;
        pthread_mutex_unlock(&w->mu);
        w->cur = NULL;
    }
    return HS_OK;
}

int hsd_writer_section(hsd_writer *w, uint32_t type, const char *name, const void *data,
                       size_t len, hs_error *err)
{
    int rc;
    if ((rc = hsd_writer_begin(w, type, name, err)) != HS_OK ||
        (rc = hsd_writer_write(w, data, len, err)) != HS_OK)
        return rc;
    return hsd_writer_end(w, err);
}

int hsd_writer_finish(hsd_writer *w, hs_error *err)
{
    hs_error_clear(err);
    int rc = writer_usable(w, "hsd_writer_finish", err);
    if (rc)
        return rc;
    if (w->open)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "a section is still open");
    w->finished = 1;

    /* Wait until every queued chunk reached the sink (or was skipped after a failure). */
    pthread_mutex_lock(&w->mu);
    while (w->next_write < w->submitted)
        pthread_cond_wait(&w->free_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    writer_join(w);
    if (w->failed)
        return wreport(w, err);

    /* Per-section chunk counts and stored sizes; chunks are in section order. */
    uint64_t index_len = INDEX_HDR;
    for (size_t i = 0; i < w->nsecs; i++)
        index_len += SEC_ENTRY + w->secs[i].name_len;
    index_len += (uint64_t)w->nchunks * CHUNK_ENTRY;
    uint8_t *ix = malloc((size_t)index_len + TRAILER_SIZE);
    if (!ix)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating the index");
    memcpy(ix, INDEX_MAGIC, 4);
    put32((uint32_t)w->nsecs, ix + 4);
    put64(w->nchunks, ix + 8);
    size_t pos = INDEX_HDR, ci = 0;
    for (size_t i = 0; i < w->nsecs; i++) {
        uint64_t n = 0, stored = 0;
        for (size_t j = ci; j < w->nchunks && w->chunks[j].section == i; j++) {
            n++;
            stored += w->chunks[j].stored;
        }
        ci += (size_t)n;
        if (n > UINT32_MAX) {
            rc = hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET,
                              "section %zu has more than 2^32-1 chunks", i);
            goto out;
        }
        const wsec *s = &w->secs[i];
        put32(s->type, ix + pos);
        put32((uint32_t)n, ix + pos + 4);
        put64(s->raw_size, ix + pos + 8);
        put64(stored, ix + pos + 16);
        put32(s->name_len, ix + pos + 24);
        put32(0, ix + pos + 28);
        memcpy(ix + pos + SEC_ENTRY, s->name, s->name_len);
        pos += SEC_ENTRY + s->name_len;
    }
    for (size_t j = 0; j < w->nchunks; j++) {
        const wchunk *c = &w->chunks[j];
        put64(c->off, ix + pos);
        put32(c->raw, ix + pos + 8);
        put32(c->stored, ix + pos + 12);
        put32(c->raw_crc, ix + pos + 16);
        put32(c->stored_crc, ix + pos + 20);
        pos += CHUNK_ENTRY;
    }
    uint8_t *t = ix + pos;
    put64(w->file_off, t);
    put64(index_len, t + 8);
    put32(hsd_crc_buf(ix, index_len), t + 16);
    put32(hsd_crc_buf(t, 20), t + 20);
    memcpy(t + 24, END_MAGIC, 8);
    int e = 0;
    rc = sink_write(w, ix, pos + TRAILER_SIZE, &e);
    if (rc != HS_OK) {
        char msg[200];
        fmt_sink_error("writing the index", e, msg, sizeof msg);
        hs_error_set(err, rc, w->file_off, "%s", msg);
        if (err)
            err->sys_errno = e;
        goto out;
    }
    w->file_off += pos + TRAILER_SIZE;
out:
    free(ix);
    return rc;
}
