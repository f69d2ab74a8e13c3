/* hsd.c - the .hsd container (formats/HSD.md): a streaming writer whose compression runs on
 * worker threads, a random-access reader over a mapped file, and a stream that inflates chunks
 * ahead of its consumer on worker threads. */
#include "hsd.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Layout constants, HSD.md. */
#define HDR_SIZE 24u
#define CHUNK_HDR 32u
#define TRAILER_SIZE 32u
#define INDEX_HDR 16u
#define SEC_ENTRY 32u
#define CHUNK_ENTRY 24u
#define MAX_CHUNK_RAW (64u << 20)
#define MAX_SECTIONS 65536u
#define MAX_NAME 63u
#define MAX_WRITER_THREADS 64
#define MAX_STREAM_THREADS 16
#define DEFAULT_CHUNK (1u << 20)
#define END_MAGIC "HSD-END\n"
#define CHUNK_MAGIC "HSDC"
#define INDEX_MAGIC "HSDI"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* CRC32 as zlib computes it, over lengths beyond uInt. */
static uint32_t crc_buf(const uint8_t *p, uint64_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* Largest stored_len a reader accepts for raw_len bytes (above zlib's deflateBound). */
static uint64_t stored_bound(uint32_t raw)
{
    return (uint64_t)raw + raw / 256 + 64;
}

const char *hsd_section_type_name(uint32_t type)
{
    switch (type) {
    case HSD_SEC_META: return "meta";
    case HSD_SEC_SYMTAB: return "symtab";
    case HSD_SEC_MAPS: return "maps";
    case HSD_SEC_HEAPDUMP: return "heapdump";
    case HSD_SEC_MANIFEST: return "manifest";
    case HSD_SEC_SEGMENT: return "segment";
    case HSD_SEC_REGS: return "regs";
    default: return "unknown";
    }
}

/* ======================================================================== writer */

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

static void fmt_sink_error(char *msg, size_t size, const char *what, int e)
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
    if (zr != Z_STREAM_END || zs->total_out > stored_bound(s->raw_len)) {
        snprintf(msg, msgsize, "compressing chunk %llu: deflate returned %d (%s)",
                 (unsigned long long)s->seq, zr, zs->msg ? zs->msg : "no message");
        return HS_ERR_ZLIB;
    }
    uint32_t stored = (uint32_t)zs->total_out;
    uint8_t *h = s->out;
    memcpy(h, CHUNK_MAGIC, 4);
    put32(h + 4, s->section);
    put32(h + 8, s->raw_len);
    put32(h + 12, stored);
    put32(h + 16, crc_buf(s->raw, s->raw_len));
    put32(h + 20, crc_buf(s->out + CHUNK_HDR, stored));
    put32(h + 24, 0);
    put32(h + 28, crc_buf(h, 28));
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
        fmt_sink_error(msg, msgsize, what, *sys_errno);
        return rc;
    }
    const uint8_t *h = s->out;
    wchunk *c = &w->chunks[w->nchunks++];
    c->off = w->file_off;
    c->section = s->section;
    c->raw = get32(h + 8);
    c->stored = get32(h + 12);
    c->raw_crc = get32(h + 16);
    c->stored_crc = get32(h + 20);
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

int hsd_writer_new(hsd_writer **out, hs_writer sink, const hsd_writer_options *opts,
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

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, w->level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        hsd_writer_free(w);
        return hs_error_set(err, HS_ERR_ZLIB, HS_NO_OFFSET, "deflateInit failed");
    }
    uint64_t bound = deflateBound(&zs, w->chunk_size);
    deflateEnd(&zs);
    if (bound < stored_bound(w->chunk_size))
        bound = stored_bound(w->chunk_size);
    w->out_cap = CHUNK_HDR + (size_t)bound;

    /* A bounded queue of buffers: the caller blocks only when all are in flight. */
    w->nslots = 2 * (size_t)o.threads + 2;
    w->slots = calloc(w->nslots, sizeof *w->slots);
    if (!w->slots) {
        hsd_writer_free(w);
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating chunk buffers");
    }
    for (size_t i = 0; i < w->nslots; i++) {
        w->slots[i].raw = malloc(w->chunk_size);
        w->slots[i].out = malloc(w->out_cap);
        if (!w->slots[i].raw || !w->slots[i].out) {
            hsd_writer_free(w);
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating chunk buffers");
        }
    }

    uint8_t h[HDR_SIZE];
    memcpy(h, HSD_MAGIC, 8);
    put32(h + 8, HSD_VERSION);
    put32(h + 12, HDR_SIZE);
    put32(h + 16, 0);
    put32(h + 20, crc_buf(h, 20));
    int e = 0;
    int rc = sink_write(w, h, sizeof h, &e);
    if (rc != HS_OK) {
        char msg[200];
        fmt_sink_error(msg, sizeof msg, "writing the header", e);
        hsd_writer_free(w);
        hs_error_set(err, rc, 0, "%s", msg);
        if (err)
            err->sys_errno = e;
        return rc;
    }
    w->file_off = HDR_SIZE;

    w->threads = calloc((size_t)o.threads, sizeof *w->threads);
    if (!w->threads) {
        hsd_writer_free(w);
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating threads");
    }
    for (int i = 0; i < o.threads; i++) {
        int terr = pthread_create(&w->threads[i], NULL, writer_worker, w);
        if (terr) {
            hsd_writer_free(w);
            hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "starting a compression thread: %s",
                         strerror(terr));
            return HS_ERR_NOMEM;
        }
        w->nthreads = i + 1;
    }
    *out = w;
    return HS_OK;
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

static int writer_usable(hsd_writer *w, hs_error *err, const char *fn)
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
    int rc = writer_usable(w, err, "hsd_writer_begin");
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
    int rc = writer_usable(w, err, "hsd_writer_write");
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
    int rc = writer_usable(w, err, "hsd_writer_end");
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
    int rc = hsd_writer_begin(w, type, name, err);
    if (rc == HS_OK)
        rc = hsd_writer_write(w, data, len, err);
    if (rc == HS_OK)
        rc = hsd_writer_end(w, err);
    return rc;
}

int hsd_writer_finish(hsd_writer *w, hs_error *err)
{
    hs_error_clear(err);
    int rc = writer_usable(w, err, "hsd_writer_finish");
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
    put32(ix + 4, (uint32_t)w->nsecs);
    put64(ix + 8, w->nchunks);
    size_t pos = INDEX_HDR, ci = 0;
    for (size_t i = 0; i < w->nsecs; i++) {
        uint64_t n = 0, stored = 0;
        for (size_t j = ci; j < w->nchunks && w->chunks[j].section == i; j++) {
            n++;
            stored += w->chunks[j].stored;
        }
        ci += (size_t)n;
        if (n > UINT32_MAX) {
            free(ix);
            return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET,
                                "section %zu has more than 2^32-1 chunks", i);
        }
        const wsec *s = &w->secs[i];
        put32(ix + pos, s->type);
        put32(ix + pos + 4, (uint32_t)n);
        put64(ix + pos + 8, s->raw_size);
        put64(ix + pos + 16, stored);
        put32(ix + pos + 24, s->name_len);
        put32(ix + pos + 28, 0);
        memcpy(ix + pos + SEC_ENTRY, s->name, s->name_len);
        pos += SEC_ENTRY + s->name_len;
    }
    for (size_t j = 0; j < w->nchunks; j++) {
        const wchunk *c = &w->chunks[j];
        put64(ix + pos, c->off);
        put32(ix + pos + 8, c->raw);
        put32(ix + pos + 12, c->stored);
        put32(ix + pos + 16, c->raw_crc);
        put32(ix + pos + 20, c->stored_crc);
        pos += CHUNK_ENTRY;
    }
    uint8_t *t = ix + pos;
    put64(t, w->file_off);
    put64(t + 8, index_len);
    put32(t + 16, crc_buf(ix, index_len));
    put32(t + 20, crc_buf(t, 20));
    memcpy(t + 24, END_MAGIC, 8);
    int e = 0;
    rc = sink_write(w, ix, pos + TRAILER_SIZE, &e);
    free(ix);
    if (rc != HS_OK) {
        char msg[200];
        fmt_sink_error(msg, sizeof msg, "writing the index", e);
        hs_error_set(err, rc, w->file_off, "%s", msg);
        if (err)
            err->sys_errno = e;
        return rc;
    }
    w->file_off += pos + TRAILER_SIZE;
    return HS_OK;
}

/* ======================================================================== reader */

typedef struct rchunk {
    uint64_t off; /* chunk header */
    uint32_t raw, stored, raw_crc, stored_crc;
} rchunk;

struct hsd_reader {
    const uint8_t *data;
    size_t size;
    uint32_t version;
    hsd_section_info *secs;
    size_t nsecs;
    size_t *sec_chunk0; /* first chunk of each section in chunks[] */
    rchunk *chunks;
    size_t nchunks;
    uint32_t max_raw; /* largest chunk raw_len in the file */
};

int hsd_is_hsd(const uint8_t *data, size_t size)
{
    return data && size >= 8 && memcmp(data, HSD_MAGIC, 8) == 0;
}

/* A file without its end marker: walk the chunk headers to say where complete data stops. */
static int report_truncated(const uint8_t *d, size_t size, hs_error *err)
{
    if (size < HDR_SIZE)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "file ends inside the %u-byte header (no end marker)", HDR_SIZE);
    uint64_t off = HDR_SIZE, n = 0;
    while (off + CHUNK_HDR <= size && memcmp(d + off, CHUNK_MAGIC, 4) == 0 &&
           get32(d + off + 28) == crc_buf(d + off, 28)) {
        uint64_t end = off + CHUNK_HDR + get32(d + off + 12);
        if (end > size)
            return hs_error_set(err, HS_ERR_TRUNCATED, size,
                                "no end marker: file ends inside the file's chunk %llu (of "
                                "section %u) that starts at byte %llu and ends at byte %llu",
                                (unsigned long long)n, get32(d + off + 4),
                                (unsigned long long)off, (unsigned long long)end);
        off = end;
        n++;
    }
    if (off + 4 <= size && memcmp(d + off, INDEX_MAGIC, 4) == 0)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "no end marker: file ends inside the index or trailer that start "
                            "at byte %llu, after %llu complete chunks",
                            (unsigned long long)off, (unsigned long long)n);
    if (off >= size)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "no end marker: file ends after %llu complete chunks, before the "
                            "index", (unsigned long long)n);
    return hs_error_set(err, HS_ERR_TRUNCATED, size,
                        "no end marker: %llu complete chunks end at byte %llu, then %llu bytes "
                        "that are neither a chunk nor the index",
                        (unsigned long long)n, (unsigned long long)off,
                        (unsigned long long)(size - off));
}

static int chunk_error(const hsd_reader *r, hs_error *err, int status, size_t sec, uint32_t k,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int parse_index(hsd_reader *r, uint64_t ix_off, uint64_t ix_len, hs_error *err)
{
    const uint8_t *ix = r->data + ix_off;
    if (ix_len < INDEX_HDR)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off, "index of %llu bytes is too short",
                            (unsigned long long)ix_len);
    if (memcmp(ix, INDEX_MAGIC, 4) != 0)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off, "bad index magic");
    uint32_t nsecs = get32(ix + 4);
    uint64_t nchunks = get64(ix + 8);
    if (nsecs > MAX_SECTIONS)
        return hs_error_set(err, HS_ERR_LIMIT, ix_off + 4, "%u sections (limit %u)", nsecs,
                            MAX_SECTIONS);
    if (nchunks > (ix_len - INDEX_HDR) / CHUNK_ENTRY)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off + 8,
                            "%llu chunks do not fit in an index of %llu bytes",
                            (unsigned long long)nchunks, (unsigned long long)ix_len);
    r->nsecs = nsecs;
    r->nchunks = (size_t)nchunks;
    r->secs = calloc(nsecs ? nsecs : 1, sizeof *r->secs);
    r->sec_chunk0 = calloc(nsecs ? nsecs : 1, sizeof *r->sec_chunk0);
    r->chunks = calloc(nchunks ? (size_t)nchunks : 1, sizeof *r->chunks);
    if (!r->secs || !r->sec_chunk0 || !r->chunks)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating the index");

    /* Section entries. */
    uint64_t pos = INDEX_HDR, chunk_sum = 0;
    for (uint32_t i = 0; i < nsecs; i++) {
        if (ix_len - pos < SEC_ENTRY)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos,
                                "section entry %u runs past the index", i);
        const uint8_t *e = ix + pos;
        hsd_section_info *s = &r->secs[i];
        s->type = get32(e);
        s->nchunks = get32(e + 4);
        s->raw_size = get64(e + 8);
        s->stored_size = get64(e + 16);
        uint32_t nlen = get32(e + 24);
        if (s->type == 0)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos, "section %u has type 0", i);
        if (nlen > MAX_NAME)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos + 24,
                                "section %u name length %u exceeds %u", i, nlen, MAX_NAME);
        if (ix_len - pos - SEC_ENTRY < nlen)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos,
                                "section %u name runs past the index", i);
        if (memchr(e + SEC_ENTRY, 0, nlen))
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos + SEC_ENTRY,
                                "section %u name contains a NUL byte", i);
        memcpy(s->name, e + SEC_ENTRY, nlen);
        s->name[nlen] = '\0';
        r->sec_chunk0[i] = (size_t)chunk_sum;
        chunk_sum += s->nchunks; /* nsecs * 2^32 cannot overflow */
        if (chunk_sum > nchunks)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos + 4,
                                "section %u: chunk counts exceed the total of %llu", i,
                                (unsigned long long)nchunks);
        pos += SEC_ENTRY + nlen;
    }
    if (chunk_sum != nchunks)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off + 8,
                            "sections hold %llu chunks, the index lists %llu",
                            (unsigned long long)chunk_sum, (unsigned long long)nchunks);
    if ((ix_len - pos) / CHUNK_ENTRY != nchunks || (ix_len - pos) % CHUNK_ENTRY != 0)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos,
                            "index is %llu bytes, its entries need %llu",
                            (unsigned long long)ix_len,
                            (unsigned long long)(pos + nchunks * CHUNK_ENTRY));

    /* Chunk entries, checked against the file and against each chunk's own header. */
    uint64_t prev_end = HDR_SIZE;
    size_t ci = 0;
    for (uint32_t i = 0; i < nsecs; i++) {
        hsd_section_info *s = &r->secs[i];
        uint64_t raw_sum = 0, stored_sum = 0;
        for (uint32_t k = 0; k < s->nchunks; k++, ci++, pos += CHUNK_ENTRY) {
            const uint8_t *e = ix + pos;
            uint64_t eoff = ix_off + pos;
            rchunk *c = &r->chunks[ci];
            c->off = get64(e);
            c->raw = get32(e + 8);
            c->stored = get32(e + 12);
            c->raw_crc = get32(e + 16);
            c->stored_crc = get32(e + 20);
            if (c->raw == 0 || c->raw > MAX_CHUNK_RAW)
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u: raw length %u not in 1..%u", i, k,
                                    c->raw, MAX_CHUNK_RAW);
            if (c->stored == 0 || c->stored > stored_bound(c->raw))
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u: stored length %u impossible for %u "
                                    "raw bytes", i, k, c->stored, c->raw);
            uint64_t end;
            if (c->off < prev_end)
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u at byte %llu overlaps what precedes it "
                                    "(up to byte %llu)", i, k, (unsigned long long)c->off,
                                    (unsigned long long)prev_end);
            if (hs_add_ovf(c->off, CHUNK_HDR + (uint64_t)c->stored, &end) || end > ix_off)
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u at byte %llu (+%u) runs past the "
                                    "index at byte %llu", i, k, (unsigned long long)c->off,
                                    CHUNK_HDR + c->stored, (unsigned long long)ix_off);
            const uint8_t *h = r->data + c->off;
            if (memcmp(h, CHUNK_MAGIC, 4) != 0)
                return chunk_error(r, err, HS_ERR_FORMAT, i, k, "bad chunk magic");
            if (get32(h + 28) != crc_buf(h, 28))
                return chunk_error(r, err, HS_ERR_CRC, i, k, "chunk header checksum mismatch");
            if (get32(h + 4) != i || get32(h + 8) != c->raw || get32(h + 12) != c->stored ||
                get32(h + 16) != c->raw_crc || get32(h + 20) != c->stored_crc)
                return chunk_error(r, err, HS_ERR_FORMAT, i, k,
                                   "chunk header disagrees with the index");
            if (k == 0)
                s->first_chunk_off = c->off;
            if (c->raw > r->max_raw)
                r->max_raw = c->raw;
            raw_sum += c->raw; /* <= 2^32 * 2^26, no overflow */
            stored_sum += c->stored;
            prev_end = end;
        }
        if (raw_sum != s->raw_size || stored_sum != s->stored_size)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off,
                                "section %u: sizes %llu/%llu disagree with its chunks "
                                "(%llu/%llu)", i, (unsigned long long)s->raw_size,
                                (unsigned long long)s->stored_size,
                                (unsigned long long)raw_sum, (unsigned long long)stored_sum);
    }
    return HS_OK;
}

int hsd_reader_open(hsd_reader **out, const uint8_t *data, size_t size, hs_error *err)
{
    hs_error_clear(err);
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_reader_open: no input");
    *out = NULL;
    size_t m = size < 8 ? size : 8;
    if (m && memcmp(data, HSD_MAGIC, m) != 0)
        return hs_error_set(err, HS_ERR_FORMAT, 0, "not a .hsd file (bad magic)");
    if (size < 12)
        return report_truncated(data, size, err);
    uint32_t version = get32(data + 8);
    if (version != HSD_VERSION)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, 8,
                            ".hsd version %u (this reader knows version %u)", version,
                            HSD_VERSION);
    if (size < HDR_SIZE)
        return report_truncated(data, size, err);
    if (get32(data + 20) != crc_buf(data, 20))
        return hs_error_set(err, HS_ERR_CRC, 20, "header checksum mismatch");
    if (get32(data + 12) != HDR_SIZE)
        return hs_error_set(err, HS_ERR_FORMAT, 12, "header size %u (version 1 has %u)",
                            get32(data + 12), HDR_SIZE);
    if (get32(data + 16) != 0)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, 16, "unknown header flags 0x%x",
                            get32(data + 16));
    if (size < HDR_SIZE + TRAILER_SIZE ||
        memcmp(data + size - 8, END_MAGIC, 8) != 0)
        return report_truncated(data, size, err);

    uint64_t t = size - TRAILER_SIZE;
    const uint8_t *tr = data + t;
    if (get32(tr + 20) != crc_buf(tr, 20))
        return hs_error_set(err, HS_ERR_CRC, t + 20, "trailer checksum mismatch");
    uint64_t ix_off = get64(tr), ix_len = get64(tr + 8);
    if (ix_off < HDR_SIZE || ix_off > t || ix_len != t - ix_off)
        return hs_error_set(err, HS_ERR_FORMAT, t,
                            "index at byte %llu of %llu bytes does not end at the trailer "
                            "(byte %llu)", (unsigned long long)ix_off,
                            (unsigned long long)ix_len, (unsigned long long)t);
    if (get32(tr + 16) != crc_buf(data + ix_off, ix_len))
        return hs_error_set(err, HS_ERR_CRC, ix_off, "index checksum mismatch");

    hsd_reader *r = calloc(1, sizeof *r);
    if (!r)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating the reader");
    r->data = data;
    r->size = size;
    r->version = version;
    int rc = parse_index(r, ix_off, ix_len, err);
    if (rc != HS_OK) {
        hsd_reader_free(r);
        return rc;
    }
    *out = r;
    return HS_OK;
}

void hsd_reader_free(hsd_reader *r)
{
    if (!r)
        return;
    free(r->secs);
    free(r->sec_chunk0);
    free(r->chunks);
    free(r);
}

uint32_t hsd_version(const hsd_reader *r)
{
    return r ? r->version : 0;
}

size_t hsd_section_count(const hsd_reader *r)
{
    return r ? r->nsecs : 0;
}

const hsd_section_info *hsd_section(const hsd_reader *r, size_t i)
{
    return r && i < r->nsecs ? &r->secs[i] : NULL;
}

long hsd_find_section(const hsd_reader *r, uint32_t type)
{
    for (size_t i = 0; r && i < r->nsecs; i++)
        if (r->secs[i].type == type)
            return (long)i;
    return -1;
}

/* Fills err for a failure in chunk k of section sec; the offset is the chunk's file offset. */
static int chunk_error(const hsd_reader *r, hs_error *err, int status, size_t sec, uint32_t k,
                       const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const rchunk *c = &r->chunks[r->sec_chunk0[sec] + k];
    return hs_error_set(err, status, c->off, "section %zu (%s) chunk %u at byte %llu: %s", sec,
                        hsd_section_type_name(r->secs[sec].type), k,
                        (unsigned long long)c->off, what);
}

/* Checks and inflates chunk k of section sec into dst, which holds exactly its raw_len. */
static int inflate_chunk(const hsd_reader *r, z_stream *zs, size_t sec, uint32_t k,
                         uint8_t *dst, hs_error *err)
{
    const rchunk *c = &r->chunks[r->sec_chunk0[sec] + k];
    const uint8_t *src = r->data + c->off + CHUNK_HDR;
    uint32_t crc = crc_buf(src, c->stored);
    if (crc != c->stored_crc)
        return chunk_error(r, err, HS_ERR_CRC, sec, k,
                           "stored data checksum mismatch (0x%08x, expected 0x%08x)", crc,
                           c->stored_crc);
    if (inflateReset(zs) != Z_OK)
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "inflateReset failed");
    zs->next_in = (Bytef *)src;
    zs->avail_in = c->stored;
    zs->next_out = dst;
    zs->avail_out = c->raw; /* exactly the declared size: no decompression bombs */
    int zr = inflate(zs, Z_FINISH);
    if (zr == Z_STREAM_END) {
        if (zs->avail_out != 0)
            return chunk_error(r, err, HS_ERR_FORMAT, sec, k,
                               "inflates to %u bytes, the index declares %u",
                               c->raw - zs->avail_out, c->raw);
        if (zs->avail_in != 0)
            return chunk_error(r, err, HS_ERR_FORMAT, sec, k,
                               "%u stray bytes after the end of the zlib stream", zs->avail_in);
    } else if (zr == Z_MEM_ERROR) {
        return chunk_error(r, err, HS_ERR_NOMEM, sec, k, "inflate out of memory");
    } else if (zr == Z_BUF_ERROR || zr == Z_OK) {
        if (zs->avail_out == 0) {
            /* Output is full but the stream has not ended: does it want to produce more? */
            uint8_t probe;
            zs->next_out = &probe;
            zs->avail_out = 1;
            zr = inflate(zs, Z_FINISH);
            if (zs->avail_out == 0)
                return chunk_error(r, err, HS_ERR_FORMAT, sec, k,
                                   "inflates to more than the declared %u bytes", c->raw);
        }
        if (zr != Z_STREAM_END)
            return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "zlib stream %s",
                               zr == Z_DATA_ERROR && zs->msg ? zs->msg : "ends early");
    } else {
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "inflate: %s",
                           zs->msg ? zs->msg : "error");
    }
    crc = crc_buf(dst, c->raw);
    if (crc != c->raw_crc)
        return chunk_error(r, err, HS_ERR_CRC, sec, k,
                           "raw data checksum mismatch (0x%08x, expected 0x%08x)", crc,
                           c->raw_crc);
    return HS_OK;
}

static int zinit(z_stream *zs, hs_error *err)
{
    memset(zs, 0, sizeof *zs);
    if (inflateInit(zs) != Z_OK)
        return hs_error_set(err, HS_ERR_ZLIB, HS_NO_OFFSET, "inflateInit failed");
    return HS_OK;
}

int hsd_read_section(const hsd_reader *r, size_t i, uint64_t max_bytes, uint8_t **out,
                     size_t *len, hs_error *err)
{
    hs_error_clear(err);
    if (!r || !out || !len || i >= r->nsecs)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_read_section: no section %zu",
                            i);
    *out = NULL;
    *len = 0;
    const hsd_section_info *s = &r->secs[i];
    if ((max_bytes && s->raw_size > max_bytes) || s->raw_size > SIZE_MAX - 1)
        return hs_error_set(err, HS_ERR_LIMIT, s->first_chunk_off,
                            "section %zu (%s) is %llu bytes, above the %llu-byte budget", i,
                            hsd_section_type_name(s->type), (unsigned long long)s->raw_size,
                            (unsigned long long)(max_bytes ? max_bytes : SIZE_MAX - 1));
    uint8_t *buf = malloc(s->raw_size ? (size_t)s->raw_size : 1);
    if (!buf)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "allocating %llu bytes for section %zu",
                            (unsigned long long)s->raw_size, i);
    z_stream zs;
    int rc = zinit(&zs, err);
    size_t pos = 0;
    for (uint32_t k = 0; rc == HS_OK && k < s->nchunks; k++) {
        rc = inflate_chunk(r, &zs, i, k, buf + pos, err);
        pos += r->chunks[r->sec_chunk0[i] + k].raw;
    }
    if (zs.state)
        inflateEnd(&zs);
    if (rc != HS_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = (size_t)s->raw_size;
    return HS_OK;
}

int hsd_verify(const hsd_reader *r, hs_error *err)
{
    hs_error_clear(err);
    if (!r)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_verify: no reader");
    uint8_t *buf = malloc(r->max_raw ? r->max_raw : 1);
    if (!buf)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating a chunk buffer");
    z_stream zs;
    int rc = zinit(&zs, err);
    for (size_t i = 0; rc == HS_OK && i < r->nsecs; i++)
        for (uint32_t k = 0; rc == HS_OK && k < r->secs[i].nchunks; k++)
            rc = inflate_chunk(r, &zs, i, k, buf, err);
    if (zs.state)
        inflateEnd(&zs);
    free(buf);
    return rc;
}

/* ======================================================================== stream */

enum { SSLOT_FREE, SSLOT_DONE };

typedef struct sslot {
    int state;
    uint64_t seq;
    int status;
    hs_error err;
    uint8_t *buf;
} sslot;

struct hsd_stream {
    const hsd_reader *r;
    size_t sec;
    uint32_t nchunks;
    uint32_t max_raw;
    hs_error err;
    int failed;

    /* Consumer. */
    uint64_t cur;       /* next chunk to take */
    const uint8_t *p;   /* unread bytes of the chunk in hand */
    size_t left;
    int holding;        /* a slot is in hand (threaded) */

    /* Inline mode. */
    z_stream zs;
    int zok;
    uint8_t *buf;

    /* Threaded mode. */
    pthread_t *th;
    int nthreads;
    sslot *slots;
    size_t nslots;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* workers: a slot was released, or stop */
    pthread_cond_t done_cv; /* consumer: a chunk is ready */
    int stop;
    uint64_t next_dec;      /* next chunk a worker takes */
    uint64_t released;      /* chunks below this are consumed; their slots are free */

    /* hsd_stream_drop_behind */
    void (*drop)(const uint8_t *p, size_t n);
    uint64_t dropped_to;    /* file offset: stored bytes below it were handed to drop */
};

/* Stored bytes consumed since the last drop, in runs of at least this much. */
#define DROP_BATCH ((uint64_t)4 << 20)

static void *stream_worker(void *arg)
{
    hsd_stream *s = arg;
    z_stream zs;
    hs_error zerr;
    int zok = zinit(&zs, &zerr) == HS_OK;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && !(s->next_dec < s->nchunks && s->next_dec < s->released + s->nslots))
            pthread_cond_wait(&s->work_cv, &s->mu);
        if (s->stop)
            break;
        uint64_t seq = s->next_dec++;
        sslot *sl = &s->slots[seq % s->nslots];
        pthread_mutex_unlock(&s->mu);
        int rc;
        if (zok) {
            rc = inflate_chunk(s->r, &zs, s->sec, (uint32_t)seq, sl->buf, &sl->err);
        } else {
            sl->err = zerr;
            rc = zerr.status;
        }
        pthread_mutex_lock(&s->mu);
        sl->seq = seq;
        sl->status = rc;
        sl->state = SSLOT_DONE;
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (zok)
        inflateEnd(&zs);
    return NULL;
}

void hsd_stream_free(hsd_stream *s)
{
    if (!s)
        return;
    if (s->th) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_broadcast(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->nthreads; i++)
            pthread_join(s->th[i], NULL);
        free(s->th);
    }
    for (size_t i = 0; s->slots && i < s->nslots; i++)
        free(s->slots[i].buf);
    free(s->slots);
    if (s->zok)
        inflateEnd(&s->zs);
    free(s->buf);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->done_cv);
    free(s);
}

int hsd_stream_open(hsd_stream **out, const hsd_reader *r, size_t section, int threads,
                    hs_error *err)
{
    hs_error_clear(err);
    if (!out || !r || section >= r->nsecs)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_stream_open: no section %zu",
                            section);
    *out = NULL;
    hsd_stream *s = calloc(1, sizeof *s);
    if (!s)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating a stream");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    hs_error_clear(&s->err);
    s->r = r;
    s->sec = section;
    s->nchunks = r->secs[section].nchunks;
    for (uint32_t k = 0; k < s->nchunks; k++) {
        uint32_t raw = r->chunks[r->sec_chunk0[section] + k].raw;
        if (raw > s->max_raw)
            s->max_raw = raw;
    }
    if (threads > MAX_STREAM_THREADS)
        threads = MAX_STREAM_THREADS;
    if ((uint64_t)threads > s->nchunks)
        threads = (int)s->nchunks;

    /* The caller inflates too (the chunk it needs next, when no worker took it yet). */
    int rc = zinit(&s->zs, err);
    if (rc != HS_OK) {
        hsd_stream_free(s);
        return rc;
    }
    s->zok = 1;
    if (threads <= 1) {
        s->buf = malloc(s->max_raw ? s->max_raw : 1);
        if (!s->buf) {
            hsd_stream_free(s);
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating a chunk buffer");
        }
        *out = s;
        return HS_OK;
    }

    /* Bounded read-ahead: 8 chunks per inflating thread (fewer left the cores idle while
     * the consumer spent longer on some chunks than on others). */
    s->nslots = 8 * (size_t)threads;
    s->slots = calloc(s->nslots, sizeof *s->slots);
    s->th = calloc((size_t)threads - 1, sizeof *s->th);
    if (!s->slots || !s->th) {
        hsd_stream_free(s);
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating stream buffers");
    }
    for (size_t i = 0; i < s->nslots; i++) {
        s->slots[i].buf = malloc(s->max_raw);
        if (!s->slots[i].buf) {
            hsd_stream_free(s);
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating stream buffers");
        }
    }
    for (int i = 0; i < threads - 1; i++) {
        int terr = pthread_create(&s->th[i], NULL, stream_worker, s);
        if (terr) {
            hsd_stream_free(s);
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                                "starting an inflate thread: %s", strerror(terr));
        }
        s->nthreads = i + 1;
    }
    *out = s;
    return HS_OK;
}

/* Hands the stored bytes of the chunks inflated and consumed so far (below chunk cur) to the
 * drop callback, in batches. */
static void drop_behind(hsd_stream *s)
{
    const rchunk *c = &s->r->chunks[s->r->sec_chunk0[s->sec] + s->cur - 1];
    uint64_t end = c->off + CHUNK_HDR + c->stored;
    if (!s->dropped_to)
        s->dropped_to = s->r->chunks[s->r->sec_chunk0[s->sec]].off;
    if (end == s->dropped_to || (end - s->dropped_to < DROP_BATCH && s->cur < s->nchunks))
        return;
    s->drop(s->r->data + s->dropped_to, end - s->dropped_to);
    s->dropped_to = end;
}

void hsd_stream_drop_behind(hsd_stream *s, void (*drop)(const uint8_t *p, size_t n))
{
    s->drop = drop;
}

/* Puts the next chunk in hand (or, inline, straight into dst when it fits there). Returns
 * bytes placed in dst, 0 when the chunk is in hand, or a negative status. */
static int64_t stream_next(hsd_stream *s, uint8_t *dst, size_t room)
{
    uint32_t k = (uint32_t)s->cur;
    const rchunk *c = &s->r->chunks[s->r->sec_chunk0[s->sec] + k];
    if (!s->th) {
        int direct = room >= c->raw;
        int rc = inflate_chunk(s->r, &s->zs, s->sec, k, direct ? dst : s->buf, &s->err);
        if (rc != HS_OK)
            return rc;
        s->cur++;
        if (direct)
            return c->raw;
        s->p = s->buf;
        s->left = c->raw;
        return 0;
    }
    sslot *sl = &s->slots[s->cur % s->nslots];
    pthread_mutex_lock(&s->mu);
    while (sl->state != SSLOT_DONE || sl->seq != s->cur) {
        if (s->next_dec < s->nchunks && s->next_dec < s->released + s->nslots) {
            /* Rather than wait, inflate the next chunk no worker has taken. */
            uint64_t seq = s->next_dec++;
            sslot *x = &s->slots[seq % s->nslots];
            pthread_mutex_unlock(&s->mu);
            int rc = inflate_chunk(s->r, &s->zs, s->sec, (uint32_t)seq, x->buf, &x->err);
            pthread_mutex_lock(&s->mu);
            x->seq = seq;
            x->status = rc;
            x->state = SSLOT_DONE;
            continue;
        }
        pthread_cond_wait(&s->done_cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    if (sl->status != HS_OK) {
        s->err = sl->err;
        return sl->status;
    }
    s->cur++;
    s->holding = 1;
    s->p = sl->buf;
    s->left = c->raw;
    return 0;
}

int64_t hsd_stream_read(void *stream, void *buf, size_t n)
{
    hsd_stream *s = stream;
    if (!s)
        return HS_ERR_ARG;
    if (s->failed)
        return s->err.status;
    if (n > INT64_MAX)
        n = INT64_MAX;
    uint8_t *dst = buf;
    size_t done = 0;
    while (done < n) {
        if (s->left) {
            size_t k = n - done < s->left ? n - done : s->left;
            memcpy(dst + done, s->p, k);
            s->p += k;
            s->left -= k;
            done += k;
            continue;
        }
        if (s->holding) {
            /* The chunk in hand is used up: give its slot back to the workers. */
            pthread_mutex_lock(&s->mu);
            s->released = s->cur;
            pthread_cond_broadcast(&s->work_cv);
            pthread_mutex_unlock(&s->mu);
            s->holding = 0;
        }
        if (s->drop && s->cur > 0)
            drop_behind(s);
        if (s->cur >= s->nchunks)
            break;
        int64_t got = stream_next(s, dst + done, n - done);
        if (got < 0) {
            s->failed = 1;
            /* Hand out the good bytes first; the error comes with the next read. */
            return done ? (int64_t)done : got;
        }
        done += (size_t)got;
    }
    return (int64_t)done;
}

const hs_error *hsd_stream_error(const hsd_stream *s)
{
    return s ? &s->err : NULL;
}
