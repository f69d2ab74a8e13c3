/* gohdw.c - encodes gohd_records in the runtime heap-dump format (runtime/heapdump.go).
 *
 * Records are encoded straight into one output buffer; a byte string larger than a quarter of
 * the buffer is passed to the sink in place after flushing, so no record is ever copied whole
 * and memory stays at the buffer size whatever the record sizes.
 */
#include "gohdw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GOHDW_BUF ((size_t)64 << 10)
#define GOHDW_DIRECT (GOHDW_BUF / 4) /* byte strings at least this long bypass the buffer */
#define UV_MAX 10

/* heapdump.go fieldKindEol, fieldKindPtr. */
enum { FIELD_EOL = 0, FIELD_PTR = 1 };

struct gohdw {
    hs_writer sink;
    uint8_t *buf;
    size_t len;
    uint64_t flushed; /* bytes handed to the sink */
    int failed;       /* sticky sink status */
    int fail_errno;
    hs_error *err;    /* error context of the current call */
};

int gohdw_new(hs_writer sink, gohdw **out, hs_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !sink.write)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gohdw_new: no output or sink");
    gohdw *w = calloc(1, sizeof *w);
    int rc = HS_OK;
    if (!w || !(w->buf = malloc(GOHDW_BUF))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "out of memory for the dump writer");
        goto out;
    }
    w->sink = sink;
    *out = w;
    w = NULL;
out:
    gohdw_free(w);
    return rc;
}

void gohdw_free(gohdw *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}

uint64_t gohdw_position(const gohdw *w)
{
    return w ? w->flushed + w->len : 0;
}

static int sticky(gohdw *w)
{
    hs_error_set(w->err, w->failed, w->flushed, "heap dump writer stopped at an earlier error: %s",
                 hs_strerror(w->failed));
    if (w->err)
        w->err->sys_errno = w->fail_errno;
    return w->failed;
}

/* Passes n bytes to the sink; a failure becomes sticky. */
static int sink_put(gohdw *w, const void *p, size_t n)
{
    if (!n)
        return HS_OK;
    errno = 0;
    int st = w->sink.write(w->sink.ctx, p, n);
    if (st < 0) {
        w->failed = st;
        w->fail_errno = st == HS_ERR_IO ? errno : 0;
        hs_error_set(w->err, st, w->flushed, "writing the heap dump failed at output byte %llu: %s",
                     (unsigned long long)w->flushed, hs_strerror(st));
        if (w->err)
            w->err->sys_errno = w->fail_errno;
        return st;
    }
    w->flushed += n;
    return HS_OK;
}

static int flush_buf(gohdw *w)
{
    size_t n = w->len;
    w->len = 0;
    return sink_put(w, w->buf, n);
}

/* Makes room for n (<= GOHDW_BUF) more bytes in the buffer. */
static inline int room(gohdw *w, size_t n)
{
    if (GOHDW_BUF - w->len >= n)
        return HS_OK;
    return flush_buf(w);
}

static inline int put_uv(gohdw *w, uint64_t v)
{
    int st = room(w, UV_MAX);
    if (st < 0)
        return st;
    w->len += gohd_put_uvarint(v, w->buf + w->len);
    return HS_OK;
}

/* A length-prefixed byte string (heapdump.go dumpmemrange / dumpstr). */
static int put_bytes(gohdw *w, gohd_bytes b, const char *what)
{
    if (!b.ptr && b.len)
        return hs_error_set(w->err, HS_ERR_ARG, HS_NO_OFFSET, "%s: NULL bytes of length %zu",
                            what, b.len);
    int st = put_uv(w, b.len);
    if (st < 0)
        return st;
    if (b.len >= GOHDW_DIRECT) {
        if ((st = flush_buf(w)) < 0)
            return st;
        return sink_put(w, b.ptr, b.len);
    }
    if ((st = room(w, b.len)) < 0)
        return st;
    if (b.len)
        memcpy(w->buf + w->len, b.ptr, b.len);
    w->len += b.len;
    return HS_OK;
}

/* A field list of pointer fields ended by fieldKindEol (heapdump.go dumpfields / dumpbv). */
static int put_fields(gohdw *w, const uint64_t *offs, size_t n)
{
    if (!offs && n)
        return hs_error_set(w->err, HS_ERR_ARG, HS_NO_OFFSET, "field list: NULL offsets");
    for (size_t i = 0; i < n; i++) {
        int st = room(w, 1 + UV_MAX);
        if (st < 0)
            return st;
        w->buf[w->len++] = FIELD_PTR;
        w->len += gohd_put_uvarint(offs[i], w->buf + w->len);
    }
    return put_uv(w, FIELD_EOL);
}

#define U(v)                                                                                  \
    do {                                                                                      \
        if ((st = put_uv(w, (v))) < 0)                                                        \
            return st;                                                                        \
    } while (0)
#define B(v) U((v) ? 1 : 0)
#define S(b, what)                                                                            \
    do {                                                                                      \
        if ((st = put_bytes(w, (b), (what))) < 0)                                             \
            return st;                                                                        \
    } while (0)

/* The body of a record after its tag, in heapdump.go's order. */
static int put_body(gohdw *w, const gohd_record *rec)
{
    const __typeof__(rec->u) *u = &rec->u;
    int st;
    switch (rec->tag) {
    case GOHD_EOF:
        return HS_OK;
    case GOHD_OBJECT: /* dumpobj */
    case GOHD_DATA:   /* dumproots: data segment */
    case GOHD_BSS:    /* dumproots: bss segment */
        U(u->object.addr);
        S(u->object.contents, "contents");
        return put_fields(w, u->object.ptr_offsets, u->object.nptrs);
    case GOHD_OTHER_ROOT: /* dumpotherroot */
        S(u->other_root.description, "description");
        U(u->other_root.addr);
        return HS_OK;
    case GOHD_TYPE: /* dumptype */
        U(u->type.addr);
        U(u->type.size);
        S(u->type.name, "type name");
        B(u->type.indirect);
        return HS_OK;
    case GOHD_GOROUTINE: /* dumpgoroutine */
        U(u->goroutine.g);
        U(u->goroutine.sp);
        U(u->goroutine.goid);
        U(u->goroutine.gopc);
        U(u->goroutine.status);
        B(u->goroutine.is_system);
        B(u->goroutine.is_background);
        U(u->goroutine.waitsince);
        S(u->goroutine.waitreason, "wait reason");
        U(u->goroutine.ctxt);
        U(u->goroutine.m);
        U(u->goroutine.defer);
        U(u->goroutine.panic);
        return HS_OK;
    case GOHD_FRAME: /* dumpframe */
        U(u->frame.sp);
        U(u->frame.depth);
        U(u->frame.child_sp);
        S(u->frame.contents, "frame contents");
        U(u->frame.entry);
        U(u->frame.pc);
        U(u->frame.continpc);
        S(u->frame.name, "function name");
        return put_fields(w, u->frame.ptr_offsets, u->frame.nptrs);
    case GOHD_PARAMS: /* dumpparams */
        B(u->params.big_endian);
        U(u->params.ptr_size);
        U(u->params.arena_start);
        U(u->params.arena_end);
        S(u->params.goarch, "GOARCH");
        S(u->params.goversion, "Go version");
        U(u->params.ncpu);
        return HS_OK;
    case GOHD_FINALIZER:  /* dumpfinalizer */
    case GOHD_QFINALIZER: /* finq_callback */
        U(u->finalizer.obj);
        U(u->finalizer.fn);
        U(u->finalizer.fnpc);
        U(u->finalizer.fint);
        U(u->finalizer.ot);
        return HS_OK;
    case GOHD_ITAB: /* itab_callback */
        U(u->itab.itab);
        U(u->itab.type);
        return HS_OK;
    case GOHD_OSTHREAD: /* dumpms */
        U(u->osthread.m);
        U(u->osthread.id);
        U(u->osthread.procid);
        return HS_OK;
    case GOHD_MEMSTATS: /* dumpmemstats */
        for (int i = 0; i < 24; i++)
            U(u->memstats.stats[i]);
        for (int i = 0; i < 256; i++)
            U(u->memstats.pause_ns[i]);
        U(u->memstats.numgc);
        return HS_OK;
    case GOHD_DEFER: /* dumpgoroutine, defer loop */
        U(u->defer.d);
        U(u->defer.g);
        U(u->defer.sp);
        U(u->defer.pc);
        U(u->defer.fn);
        U(u->defer.fnpc);
        U(u->defer.link);
        return HS_OK;
    case GOHD_PANIC: /* dumpgoroutine, panic loop */
        U(u->panic.p);
        U(u->panic.g);
        U(u->panic.argtype);
        U(u->panic.argdata);
        U(u->panic.unused);
        U(u->panic.link);
        return HS_OK;
    case GOHD_MEMPROF: /* dumpmemprof_callback */
        if (!u->memprof.stack && u->memprof.nstk)
            return hs_error_set(w->err, HS_ERR_ARG, HS_NO_OFFSET,
                                "memprof record: NULL stack of depth %llu",
                                (unsigned long long)u->memprof.nstk);
        U(u->memprof.bucket);
        U(u->memprof.size);
        U(u->memprof.nstk);
        for (uint64_t i = 0; i < u->memprof.nstk; i++) {
            const gohd_stackloc *l = &u->memprof.stack[i];
            S(l->func, "stack function");
            S(l->file, "stack file");
            U(l->line);
        }
        U(u->memprof.allocs);
        U(u->memprof.frees);
        return HS_OK;
    case GOHD_ALLOC_SAMPLE: /* dumpmemprof */
        U(u->alloc_sample.obj);
        U(u->alloc_sample.bucket);
        return HS_OK;
    default:
        return hs_error_set(w->err, HS_ERR_ARG, HS_NO_OFFSET, "cannot write record tag %d",
                            (int)rec->tag);
    }
}

int gohdw_record(gohdw *w, const gohd_record *rec, hs_error *err)
{
    if (!w || !rec)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gohdw_record: no writer or record");
    w->err = err;
    if (w->failed)
        return sticky(w);
    if ((unsigned)rec->tag >= GOHD_NTAGS)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "cannot write record tag %d",
                            (int)rec->tag);
    int st = put_uv(w, (uint64_t)rec->tag);
    if (st >= 0)
        st = put_body(w, rec);
    if (st < 0) {
        hs_error_prefix(err, "%s record", gohd_tag_name((int)rec->tag));
        if (!w->failed)
            w->failed = st; /* part of the record may be out: the stream is unusable */
    }
    w->err = NULL;
    return st < 0 ? st : HS_OK;
}

int gohdw_header(gohdw *w, hs_error *err)
{
    if (!w)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gohdw_header: no writer");
    w->err = err;
    if (w->failed)
        return sticky(w);
    int st = room(w, GOHD_MAGIC_LEN);
    if (st >= 0) {
        memcpy(w->buf + w->len, GOHD_MAGIC, GOHD_MAGIC_LEN);
        w->len += GOHD_MAGIC_LEN;
    }
    w->err = NULL;
    return st;
}

int gohdw_flush(gohdw *w, hs_error *err)
{
    if (!w)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gohdw_flush: no writer");
    w->err = err;
    int st = w->failed ? sticky(w) : flush_buf(w);
    w->err = NULL;
    return st;
}
