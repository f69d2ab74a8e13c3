/* hsd_stream.c - a sequential stream over one section of an .hsd container (an hs_reader):
 * chunks inflated ahead of the consumer on worker threads, or inline. */
#include "hsd_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hugemem.h"

#define MAX_STREAM_THREADS 16

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
    uint8_t *slab;          /* the slots' buffers, one block (hugemem_map) */
    size_t slab_bytes;
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
    int zok = hsd_zinit(&zs, &zerr) == HS_OK;
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
            rc = hsd_inflate_chunk(s->r, &zs, s->sec, (uint32_t)seq, sl->buf, &sl->err);
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
    hugemem_unmap(s->slab, s->slab_bytes);
    free(s->slots);
    if (s->zok)
        inflateEnd(&s->zs);
    free(s->buf);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->done_cv);
    free(s);
}

int hsd_stream_open(const hsd_reader *r, size_t section, int threads, hsd_stream **out,
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
    int rc = hsd_zinit(&s->zs, err);
    if (rc != HS_OK)
        goto out;
    s->zok = 1;
    if (threads <= 1) {
        s->buf = malloc(s->max_raw ? s->max_raw : 1);
        if (!s->buf) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating a chunk buffer");
            goto out;
        }
    } else {
        /* Bounded read-ahead: 8 chunks per inflating thread (fewer left the cores idle while
         * the consumer spent longer on some chunks than on others). */
        s->nslots = 8 * (size_t)threads;
        s->slots = calloc(s->nslots, sizeof *s->slots);
        s->th = calloc((size_t)threads - 1, sizeof *s->th);
        /* One block in huge pages (16 MiB of 1 MiB chunks on two threads): every chunk
         * inflated writes a slot whole, so their pages are all touched. */
        s->slab_bytes = s->nslots * (size_t)s->max_raw;
        s->slab = hugemem_map(s->slab_bytes);
        if (!s->slots || !s->th || !s->slab) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating stream buffers");
            goto out;
        }
        for (size_t i = 0; i < s->nslots; i++)
            s->slots[i].buf = s->slab + i * (size_t)s->max_raw;
        if ((rc = hsd_start_threads(s->th, threads - 1, stream_worker, s, "an inflate",
                                    &s->nthreads, err)) < 0)
            goto out;
    }
    *out = s;
    s = NULL;
out:
    hsd_stream_free(s);
    return rc;
}

/* Hands the stored bytes of the chunks inflated and consumed so far (below chunk cur) to the
 * drop callback, in batches. */
static void drop_behind(hsd_stream *s)
{
    const hsd_rchunk *c = &s->r->chunks[s->r->sec_chunk0[s->sec] + s->cur - 1];
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
    const hsd_rchunk *c = &s->r->chunks[s->r->sec_chunk0[s->sec] + k];
    if (!s->th) {
        int direct = room >= c->raw;
        int rc = hsd_inflate_chunk(s->r, &s->zs, s->sec, k, direct ? dst : s->buf, &s->err);
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
            int rc = hsd_inflate_chunk(s->r, &s->zs, s->sec, (uint32_t)seq, x->buf, &x->err);
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
