/* gohd.c - streaming reader of the Go runtime heap dump (runtime/heapdump.go).
 *
 * Bytes flow from the hs_reader into one growable buffer. A record is decoded in place with
 * a cursor; when the cursor needs bytes that have not arrived yet, the buffer is refilled in
 * large reads, first sliding the unfinished record to the front and growing only when that
 * record fills most of the buffer. The buffer therefore holds at most about twice the bytes
 * of the largest record actually delivered, and a length field is never used to size an
 * allocation. Byte strings are recorded as offsets from the record start while decoding and
 * turned into pointers once the record is complete, because a refill may move the buffer.
 */
#include "gohd.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOHD_READ_CHUNK ((size_t)1 << 20)       /* initial buffer and read size */
#define GOHD_DEFAULT_MAX ((uint64_t)4 << 30)     /* default max_record_bytes */
#define GOHD_MIN_STACKLOC 3                      /* func len + file len + line: >= 3 bytes */

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* heapdump.go: fieldKindEol, fieldKindPtr, fieldKindIface, fieldKindEface. */
enum { FIELD_EOL = 0, FIELD_PTR = 1, FIELD_IFACE = 2, FIELD_EFACE = 3 };

#define GOHD_MAX_FIX 4 /* byte strings per record outside memprof stacks */

struct gohd_reader {
    hs_reader src;
    uint8_t *buf;
    size_t cap;       /* allocated bytes of buf */
    size_t fill;      /* valid bytes are buf[0, fill) */
    size_t pos;       /* end of the last record returned */
    size_t rec;       /* start of the record being decoded */
    uint64_t base;    /* stream offset of buf[0] */
    uint64_t max_rec; /* max_record_bytes */
    int src_end;      /* the source reported end of stream */
    int done;         /* the EOF record was read */
    int failed;       /* sticky status after an error */
    uint64_t fail_off;
    uint64_t ptr_size; /* from the params record; 8 until seen */
    int tag;           /* tag of the record being decoded, -1 before it is known */
    int in_header;     /* reading the header (no record context in messages) */
    hs_error *err;     /* error context of the current call */

    uint64_t *ptrs; /* pointer offsets of the current record */
    size_t ptrs_cap;
    gohd_stackloc *stk; /* memprof stack of the current record */
    size_t *stk_rel;    /* 2 per stack entry: func and file offsets from the record start */
    size_t stk_cap;

    gohd_bytes *fix[GOHD_MAX_FIX]; /* byte strings to rebase when the record is complete */
    size_t fix_rel[GOHD_MAX_FIX];
    int nfix;
};

typedef struct cursor {
    const uint8_t *p, *e;
} cursor;

static const char *const tag_names[GOHD_NTAGS] = {
    "eof",    "object",   "other root", "type",      "goroutine", "stack frame",
    "params", "finalizer", "itab",      "os thread", "memstats",  "queued finalizer",
    "data",   "bss",      "defer",      "panic",     "memprof bucket", "alloc sample",
};

const char *gohd_tag_name(int tag)
{
    if (tag < 0 || tag >= GOHD_NTAGS)
        return "unknown";
    return tag_names[tag];
}

size_t gohd_put_uvarint(uint64_t v, uint8_t *buf)
{
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    return n;
}

/* ---- errors ---- */

/* Records a failure at stream offset `at`, prefixed with the record kind and start. */
__attribute__((format(printf, 4, 5), noinline, cold)) static int
fail(gohd_reader *r, int status, uint64_t at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint64_t start = r->base + r->rec;
    if (r->in_header)
        hs_error_set(r->err, status, at, "heap dump header: %s", msg);
    else if (r->tag >= 0)
        hs_error_set(r->err, status, at, "%s record at byte %llu: %s", gohd_tag_name(r->tag),
                     (unsigned long long)start, msg);
    else
        hs_error_set(r->err, status, at, "record at byte %llu: %s", (unsigned long long)start,
                     msg);
    r->failed = status;
    r->fail_off = at;
    return status;
}

static inline uint64_t stream_off(const gohd_reader *r, const uint8_t *p)
{
    return r->base + (uint64_t)(p - r->buf);
}

/* ---- buffering ---- */

/* Makes at least n bytes available at c->p (c is rebased if the buffer moves). Returns 0,
 * HS_ERR_TRUNCATED (no message: the caller knows what was being read), or HS_ERR_IO /
 * HS_ERR_NOMEM with the error set. */
static __attribute__((noinline)) int fill_more(gohd_reader *r, cursor *c, size_t n)
{
    size_t idx = (size_t)(c->p - r->buf);
    while (r->fill - idx < n) {
        if (r->src_end)
            return HS_ERR_TRUNCATED;
        size_t want = idx + n - r->fill;
        size_t low = want < GOHD_READ_CHUNK ? want : GOHD_READ_CHUNK;
        if (r->rec > 0 && (r->cap - r->fill < low || r->cap - r->fill < r->cap / 2)) {
            /* Slide the unfinished record to the front (earlier records are done with), so
             * reads stay large; this moves at most the bytes of one record. */
            size_t keep = r->fill - r->rec;
            memmove(r->buf, r->buf + r->rec, keep);
            r->base += r->rec;
            idx -= r->rec;
            r->pos = r->pos >= r->rec ? r->pos - r->rec : 0;
            r->rec = 0;
            r->fill = keep;
            /* A buffer grown for one huge record goes back to the usual size once records
             * are small again, so it does not add to the caller's peak memory for the rest
             * of the stream. */
            if (r->cap > 8 * GOHD_READ_CHUNK && keep + low <= GOHD_READ_CHUNK) {
                uint8_t *nb = realloc(r->buf, 2 * GOHD_READ_CHUNK);
                if (nb) {
                    r->buf = nb;
                    r->cap = 2 * GOHD_READ_CHUNK;
                }
            }
        }
        if (r->cap - r->fill < low) {
            /* The buffer is (nearly) full of bytes of this one record: grow by doubling,
             * which keeps allocation within twice what the source really delivered, but
             * not past what the record asked for plus one read. */
            size_t ncap = r->cap > SIZE_MAX / 2 ? SIZE_MAX : r->cap * 2;
            if (idx + n < SIZE_MAX - 2 * GOHD_READ_CHUNK &&
                ncap > idx + n + GOHD_READ_CHUNK && r->fill + low <= idx + n + GOHD_READ_CHUNK)
                ncap = idx + n + GOHD_READ_CHUNK;
            if (ncap - r->fill < low)
                return fail(r, HS_ERR_NOMEM, stream_off(r, r->buf + idx),
                            "record does not fit in memory");
            uint8_t *nb = realloc(r->buf, ncap);
            if (!nb)
                return fail(r, HS_ERR_NOMEM, stream_off(r, r->buf + idx),
                            "out of memory growing the read buffer to %zu bytes", ncap);
            r->buf = nb;
            r->cap = ncap;
        }
        int64_t got = r->src.read(r->src.ctx, r->buf + r->fill, r->cap - r->fill);
        if (got < 0) {
            int s = got >= HS_ERR_ZLIB ? (int)got : HS_ERR_IO;
            return fail(r, s, r->base + r->fill, "reading the source failed: %s",
                        hs_strerror(s));
        }
        if (got == 0)
            r->src_end = 1;
        else
            r->fill += (size_t)got;
    }
    c->p = r->buf + idx;
    c->e = r->buf + r->fill;
    return 0;
}

/* fill_more plus the record-size limit and a message for truncation. `at` is the stream
 * offset of the item being read, `what` names it. */
static __attribute__((noinline)) int need(gohd_reader *r, cursor *c, size_t n, uint64_t at,
                                          const char *what)
{
    uint64_t used = (uint64_t)(c->p - (r->buf + r->rec));
    if (used + n > r->max_rec)
        return fail(r, HS_ERR_LIMIT, at, "%s makes the record longer than max_record_bytes %llu",
                    what, (unsigned long long)r->max_rec);
    int st = fill_more(r, c, n);
    if (st == HS_ERR_TRUNCATED)
        return fail(r, st, at, "%s runs past end of stream (stream ends at byte %llu)", what,
                    (unsigned long long)(r->base + r->fill));
    return st;
}

/* ---- primitives ---- */

/* Decodes a varint from at least 10 buffered bytes: returns its length, -1 if the 10th byte
 * overflows 64 bits, -2 if it is longer than 10 bytes (encoding/binary rules). */
static inline int uv_decode10(const uint8_t *p, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        uint64_t b = p[i];
        if (b < 0x80) {
            if (i == 9 && b > 1)
                return -1;
            *v = x | b << (7 * i);
            return i + 1;
        }
        x |= (b & 0x7f) << (7 * i);
    }
    return -2;
}

static __attribute__((noinline)) int uv_slow(gohd_reader *r, cursor *c, const char *what,
                                             uint64_t *v)
{
    uint64_t at = stream_off(r, c->p);
    uint64_t x = 0;
    for (size_t i = 0;; i++) {
        if ((size_t)(c->e - c->p) < i + 1) {
            int st = need(r, c, i + 1, at, what);
            if (st < 0)
                return st;
        }
        uint64_t b = c->p[i];
        if (i == 9 && b >= 0x80)
            return fail(r, HS_ERR_FORMAT, at, "%s: varint longer than 10 bytes", what);
        if (i == 9 && b > 1)
            return fail(r, HS_ERR_FORMAT, at, "%s: varint overflows 64 bits", what);
        if (b < 0x80) {
            *v = x | b << (7 * i);
            c->p += i + 1;
            return 0;
        }
        x |= (b & 0x7f) << (7 * i);
    }
}

/* Reads one varint. */
static inline __attribute__((always_inline)) int rd_uv(gohd_reader *r, cursor *c, const char *what,
                                                       uint64_t *v)
{
    if (LIKELY(c->e - c->p >= 10)) {
        if (LIKELY(c->p[0] < 0x80)) {
            *v = c->p[0];
            c->p++;
            return 0;
        }
        int n = uv_decode10(c->p, v);
        if (LIKELY(n > 0)) {
            c->p += n;
            return 0;
        }
    }
    return uv_slow(r, c, what, v);
}

/* Reads a bool (dumpbool writes 0 or 1). */
static inline int rd_bool(gohd_reader *r, cursor *c, const char *what, int *b)
{
    uint64_t at = stream_off(r, c->p), v;
    int st = rd_uv(r, c, what, &v);
    if (st < 0)
        return st;
    if (v > 1)
        return fail(r, HS_ERR_FORMAT, at, "%s: bool value %llu is not 0 or 1", what,
                    (unsigned long long)v);
    *b = (int)v;
    return 0;
}

/* Reads a length-prefixed byte string (dumpstr, dumpslice, dumpmemrange): len is set and
 * *rel receives the offset of the bytes from the record start. */
static inline __attribute__((always_inline)) int rd_range(gohd_reader *r, cursor *c,
                                                          const char *what, size_t *rel,
                                                          size_t *len)
{
    uint64_t at = stream_off(r, c->p), n;
    int st = rd_uv(r, c, what, &n);
    if (st < 0)
        return st;
    size_t used = (size_t)(c->p - (r->buf + r->rec));
    if (LIKELY((uint64_t)(c->e - c->p) >= n && used + n <= r->max_rec)) {
        *rel = used;
        *len = (size_t)n;
        c->p += n;
        return 0;
    }
    if (n > r->max_rec || used + n > r->max_rec)
        return fail(r, HS_ERR_LIMIT, at, "%s length %llu exceeds max_record_bytes %llu", what,
                    (unsigned long long)n, (unsigned long long)r->max_rec);
#if SIZE_MAX < UINT64_MAX
    if (n > SIZE_MAX)
        return fail(r, HS_ERR_LIMIT, at, "%s length %llu does not fit in memory", what,
                    (unsigned long long)n);
#endif
    char w[96];
    snprintf(w, sizeof w, "%s length %llu", what, (unsigned long long)n);
    st = need(r, c, (size_t)n, at, w);
    if (st < 0)
        return st;
    *rel = (size_t)(c->p - (r->buf + r->rec));
    *len = (size_t)n;
    c->p += n;
    return 0;
}

/* Reads a byte string into *b, rebased to a pointer when the record is complete. */
static inline __attribute__((always_inline)) int rd_bytes(gohd_reader *r, cursor *c,
                                                          const char *what, gohd_bytes *b)
{
    size_t rel = 0, len = 0;
    int st = rd_range(r, c, what, &rel, &len);
    if (st < 0)
        return st;
    b->ptr = NULL;
    b->len = len;
    r->fix[r->nfix] = b;
    r->fix_rel[r->nfix] = rel;
    r->nfix++;
    return 0;
}

static __attribute__((noinline)) int grow_ptrs(gohd_reader *r, uint64_t at)
{
    size_t ncap = r->ptrs_cap ? r->ptrs_cap * 2 : 256;
    if (ncap > SIZE_MAX / sizeof *r->ptrs)
        return fail(r, HS_ERR_NOMEM, at, "too many fields");
    uint64_t *np = realloc(r->ptrs, ncap * sizeof *np);
    if (!np)
        return fail(r, HS_ERR_NOMEM, at, "out of memory for %zu field offsets", ncap);
    r->ptrs = np;
    r->ptrs_cap = ncap;
    return 0;
}

/* Reads a fieldlist (heapdump.go dumpfields/dumpbv): (kind, offset) pairs ended by kind 0.
 * Kind 1 offsets are kept as written. Kinds 2 and 3 (iface/eface, written only by the
 * go1.3/go1.4 runtimes) name the interface's first word; its data word, one pointer later,
 * is the pointer slot, so that offset is kept. Larger kinds are format errors. The list grows
 * only as pairs arrive, so an unterminated list ends as truncated (or at the record limit). */
static int rd_fields(gohd_reader *r, cursor *c, const uint64_t **out, size_t *nout)
{
    size_t n = 0;
    for (;;) {
        uint64_t kind, off;
        int st;
        if (LIKELY(c->e - c->p >= 11 && c->p[0] == FIELD_PTR)) {
            /* Fast path: a pointer field with at least 10 bytes after its kind buffered. */
            if (LIKELY(c->p[1] < 0x80)) {
                off = c->p[1];
                c->p += 2;
            } else {
                int k = uv_decode10(c->p + 1, &off);
                if (UNLIKELY(k < 0))
                    goto slow;
                c->p += 1 + k;
            }
        } else {
        slow:;
            uint64_t at = stream_off(r, c->p);
            if ((st = rd_uv(r, c, "field kind", &kind)) < 0)
                return st;
            if (kind == FIELD_EOL)
                break;
            if (kind > FIELD_EFACE)
                return fail(r, HS_ERR_FORMAT, at, "unknown field kind %llu in field list",
                            (unsigned long long)kind);
            at = stream_off(r, c->p);
            if ((st = rd_uv(r, c, "field offset", &off)) < 0)
                return st;
            if (kind != FIELD_PTR) {
                if (off > UINT64_MAX - r->ptr_size)
                    return fail(r, HS_ERR_FORMAT, at, "interface field offset %llu overflows",
                                (unsigned long long)off);
                off += r->ptr_size;
            }
        }
        if (UNLIKELY(n == r->ptrs_cap)) {
            if ((st = grow_ptrs(r, stream_off(r, c->p))) < 0)
                return st;
        }
        r->ptrs[n++] = off;
    }
    *out = r->ptrs;
    *nout = n;
    return 0;
}

/* ---- records ---- */

#define U(dst, what)                                                                          \
    do {                                                                                      \
        if ((st = rd_uv(r, c, (what), (dst))) < 0)                                            \
            return st;                                                                        \
    } while (0)
#define B(dst, what)                                                                          \
    do {                                                                                      \
        if ((st = rd_bool(r, c, (what), (dst))) < 0)                                          \
            return st;                                                                        \
    } while (0)
#define S(dst, what)                                                                          \
    do {                                                                                      \
        if ((st = rd_bytes(r, c, (what), (dst))) < 0)                                         \
            return st;                                                                        \
    } while (0)

/* heapdump.go dumpobj / dumproots: addr, contents, fieldlist. */
static int rd_memrec(gohd_reader *r, cursor *c, gohd_memrec *m)
{
    int st;
    U(&m->addr, "address");
    S(&m->contents, "contents");
    return rd_fields(r, c, &m->ptr_offsets, &m->nptrs);
}

/* heapdump.go dumpmemprof_callback: bucket, size, nstk, nstk x (func, file, line), allocs,
 * frees. The stack array grows as entries arrive; nstk itself is checked against the limit
 * (every entry takes at least 3 bytes). */
static int rd_memprof(gohd_reader *r, cursor *c, gohd_record *rec)
{
    int st;
    U(&rec->u.memprof.bucket, "bucket");
    U(&rec->u.memprof.size, "size");
    uint64_t at = stream_off(r, c->p), nstk;
    U(&nstk, "stack depth");
    if (nstk > r->max_rec / GOHD_MIN_STACKLOC || nstk > SIZE_MAX / (2 * sizeof(size_t)))
        return fail(r, HS_ERR_LIMIT, at, "stack depth %llu cannot fit in max_record_bytes %llu",
                    (unsigned long long)nstk, (unsigned long long)r->max_rec);
    rec->u.memprof.nstk = nstk;
    for (size_t i = 0; i < nstk; i++) {
        if (i == r->stk_cap) {
            size_t ncap = r->stk_cap ? r->stk_cap * 2 : 64;
            gohd_stackloc *ns = realloc(r->stk, ncap * sizeof *ns);
            if (!ns)
                return fail(r, HS_ERR_NOMEM, stream_off(r, c->p), "out of memory for stack");
            r->stk = ns;
            size_t *nr = realloc(r->stk_rel, 2 * ncap * sizeof *nr);
            if (!nr)
                return fail(r, HS_ERR_NOMEM, stream_off(r, c->p), "out of memory for stack");
            r->stk_rel = nr;
            r->stk_cap = ncap;
        }
        gohd_stackloc *l = &r->stk[i];
        if ((st = rd_range(r, c, "stack function", &r->stk_rel[2 * i], &l->func.len)) < 0)
            return st;
        if ((st = rd_range(r, c, "stack file", &r->stk_rel[2 * i + 1], &l->file.len)) < 0)
            return st;
        U(&l->line, "stack line");
    }
    U(&rec->u.memprof.allocs, "allocs");
    U(&rec->u.memprof.frees, "frees");
    rec->u.memprof.stack = r->stk;
    return 0;
}

static int rd_body(gohd_reader *r, cursor *c, uint64_t tag, gohd_record *rec)
{
    int st;
    switch (tag) {
    case GOHD_EOF:
        return 0;
    case GOHD_OBJECT:
    case GOHD_DATA:
    case GOHD_BSS:
        return rd_memrec(r, c, &rec->u.object);
    case GOHD_OTHER_ROOT: /* dumpotherroot */
        S(&rec->u.other_root.description, "description");
        U(&rec->u.other_root.addr, "address");
        return 0;
    case GOHD_TYPE: /* dumptype */
        U(&rec->u.type.addr, "address");
        U(&rec->u.type.size, "size");
        S(&rec->u.type.name, "name");
        B(&rec->u.type.indirect, "indirect flag");
        return 0;
    case GOHD_GOROUTINE: { /* dumpgoroutine */
        __typeof__(rec->u.goroutine) *g = &rec->u.goroutine;
        U(&g->g, "g");
        U(&g->sp, "sp");
        U(&g->goid, "goid");
        U(&g->gopc, "gopc");
        U(&g->status, "status");
        B(&g->is_system, "system flag");
        B(&g->is_background, "background flag");
        U(&g->waitsince, "waitsince");
        S(&g->waitreason, "waitreason");
        U(&g->ctxt, "ctxt");
        U(&g->m, "m");
        U(&g->defer, "defer");
        U(&g->panic, "panic");
        return 0;
    }
    case GOHD_FRAME: { /* dumpframe */
        __typeof__(rec->u.frame) *f = &rec->u.frame;
        U(&f->sp, "sp");
        U(&f->depth, "depth");
        U(&f->child_sp, "child sp");
        S(&f->contents, "frame contents");
        U(&f->entry, "entry pc");
        U(&f->pc, "pc");
        U(&f->continpc, "continpc");
        S(&f->name, "function name");
        return rd_fields(r, c, &f->ptr_offsets, &f->nptrs);
    }
    case GOHD_PARAMS: { /* dumpparams */
        __typeof__(rec->u.params) *p = &rec->u.params;
        B(&p->big_endian, "big-endian flag");
        uint64_t at = stream_off(r, c->p);
        U(&p->ptr_size, "pointer size");
        if (p->ptr_size != 4 && p->ptr_size != 8)
            return fail(r, HS_ERR_FORMAT, at, "pointer size %llu is not 4 or 8",
                        (unsigned long long)p->ptr_size);
        r->ptr_size = p->ptr_size;
        U(&p->arena_start, "arena start");
        U(&p->arena_end, "arena end");
        S(&p->goarch, "GOARCH");
        S(&p->goversion, "Go version");
        U(&p->ncpu, "ncpu");
        return 0;
    }
    case GOHD_FINALIZER:
    case GOHD_QFINALIZER: /* dumpfinalizer, finq_callback */
        U(&rec->u.finalizer.obj, "obj");
        U(&rec->u.finalizer.fn, "fn");
        U(&rec->u.finalizer.fnpc, "fn.fn");
        U(&rec->u.finalizer.fint, "fint");
        U(&rec->u.finalizer.ot, "ot");
        return 0;
    case GOHD_ITAB: /* itab_callback */
        U(&rec->u.itab.itab, "itab");
        U(&rec->u.itab.type, "type");
        return 0;
    case GOHD_OSTHREAD: /* dumpms */
        U(&rec->u.osthread.m, "m");
        U(&rec->u.osthread.id, "id");
        U(&rec->u.osthread.procid, "procid");
        return 0;
    case GOHD_MEMSTATS: /* dumpmemstats */
        for (int i = 0; i < 24; i++)
            U(&rec->u.memstats.stats[i], "stat");
        for (int i = 0; i < 256; i++)
            U(&rec->u.memstats.pause_ns[i], "PauseNs");
        U(&rec->u.memstats.numgc, "NumGC");
        return 0;
    case GOHD_DEFER: /* dumpgoroutine, defer loop */
        U(&rec->u.defer.d, "d");
        U(&rec->u.defer.g, "g");
        U(&rec->u.defer.sp, "sp");
        U(&rec->u.defer.pc, "pc");
        U(&rec->u.defer.fn, "fn");
        U(&rec->u.defer.fnpc, "fn.fn");
        U(&rec->u.defer.link, "link");
        return 0;
    case GOHD_PANIC: /* dumpgoroutine, panic loop */
        U(&rec->u.panic.p, "p");
        U(&rec->u.panic.g, "g");
        U(&rec->u.panic.argtype, "arg type");
        U(&rec->u.panic.argdata, "arg data");
        U(&rec->u.panic.unused, "defer (unused)");
        U(&rec->u.panic.link, "link");
        return 0;
    case GOHD_MEMPROF:
        return rd_memprof(r, c, rec);
    case GOHD_ALLOC_SAMPLE: /* dumpmemprof */
        U(&rec->u.alloc_sample.obj, "obj");
        U(&rec->u.alloc_sample.bucket, "bucket");
        return 0;
    default:
        return fail(r, HS_ERR_FORMAT, r->base + r->rec, "unknown record tag %llu",
                    (unsigned long long)tag);
    }
}

/* ---- public ---- */

int gohd_reader_new(hs_reader src, const gohd_options *opts, gohd_reader **out, hs_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !src.read)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gohd_reader_new: no output or source");
    gohd_reader *r = calloc(1, sizeof *r);
    if (!r)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "out of memory");
    r->src = src;
    r->max_rec = opts && opts->max_record_bytes ? opts->max_record_bytes : GOHD_DEFAULT_MAX;
    r->ptr_size = 8;
    r->tag = -1;
    r->err = err;
    r->cap = GOHD_READ_CHUNK;
    r->buf = malloc(r->cap);
    int st = HS_OK;
    if (!r->buf) {
        st = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "out of memory");
        goto out;
    }

    cursor c = {r->buf, r->buf};
    r->in_header = 1;
    st = fill_more(r, &c, GOHD_MAGIC_LEN);
    r->in_header = 0;
    if (st == 0 || st == HS_ERR_TRUNCATED) {
        /* Compare what arrived; a short stream that already differs is "not a dump". */
        size_t have = r->fill < GOHD_MAGIC_LEN ? r->fill : GOHD_MAGIC_LEN;
        size_t i = 0;
        while (i < have && r->buf[i] == (uint8_t)GOHD_MAGIC[i])
            i++;
        if (i < have) {
            /* "go1.N heap dump\n" with another N: an older, incompatible layout. */
            static const char old_tail[] = " heap dump\n";
            if (have == GOHD_MAGIC_LEN && memcmp(r->buf, "go1.", 4) == 0 &&
                r->buf[4] >= '0' && r->buf[4] <= '9' &&
                memcmp(r->buf + 5, old_tail, sizeof old_tail - 1) == 0)
                st = hs_error_set(err, HS_ERR_UNSUPPORTED, 0,
                                  "heap dump header \"go1.%c heap dump\" is not the go1.7 format",
                                  r->buf[4]);
            else
                st = hs_error_set(err, HS_ERR_FORMAT, i,
                                  "not a Go heap dump: no \"go1.7 heap dump\" header");
        } else if (st == HS_ERR_TRUNCATED) {
            st = hs_error_set(err, HS_ERR_TRUNCATED, have,
                              "stream ends inside the %d-byte heap dump header", GOHD_MAGIC_LEN);
        }
    }
    if (st < 0)
        goto out;
    r->pos = r->rec = GOHD_MAGIC_LEN;
    r->err = NULL;
    *out = r;
    r = NULL;
out:
    gohd_reader_free(r);
    return st;
}

int gohd_next(gohd_reader *r, gohd_record *rec, hs_error *err)
{
    if (!r || !rec)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gohd_next: no reader or record");
    if (r->failed)
        return hs_error_set(err, r->failed, r->fail_off,
                            "heap dump reader stopped at an earlier error");
    if (r->done)
        return 0;
    r->err = err;
    r->rec = r->pos;
    r->tag = -1;
    r->nfix = 0;
    if (r->ptrs_cap > 65536) { /* grown for one huge record: give it back */
        free(r->ptrs);
        r->ptrs = NULL;
        r->ptrs_cap = 0;
    }
    cursor c = {r->buf + r->pos, r->buf + r->fill};
    int st;

    if (UNLIKELY(c.p == c.e)) {
        st = fill_more(r, &c, 1);
        if (st == HS_ERR_TRUNCATED)
            return fail(r, st, r->base + r->fill, "stream ends without an EOF record");
        if (st < 0)
            return st;
    }
    uint64_t tag;
    st = rd_uv(r, &c, "record tag", &tag);
    if (st < 0)
        return st;
    if (tag < GOHD_NTAGS)
        r->tag = (int)tag;
    st = rd_body(r, &c, tag, rec);
    if (st < 0)
        return st;

    const uint8_t *start = r->buf + r->rec;
    if (UNLIKELY((uint64_t)(c.p - start) > r->max_rec))
        return fail(r, HS_ERR_LIMIT, r->base + r->rec,
                    "record length %llu exceeds max_record_bytes %llu",
                    (unsigned long long)(c.p - start), (unsigned long long)r->max_rec);
    rec->tag = (gohd_tag)tag;
    rec->offset = r->base + r->rec;
    rec->length = (uint64_t)(c.p - start);
    for (int i = 0; i < r->nfix; i++)
        r->fix[i]->ptr = start + r->fix_rel[i];
    if (tag == GOHD_MEMPROF) {
        for (size_t i = 0; i < rec->u.memprof.nstk; i++) {
            r->stk[i].func.ptr = start + r->stk_rel[2 * i];
            r->stk[i].file.ptr = start + r->stk_rel[2 * i + 1];
        }
    }
    r->pos = (size_t)(c.p - r->buf);
    r->err = NULL;
    if (tag == GOHD_EOF) {
        r->done = 1;
        return 0;
    }
    return 1;
}

uint64_t gohd_position(const gohd_reader *r)
{
    return r ? r->base + r->pos : 0;
}

void gohd_reader_free(gohd_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->ptrs);
    free(r->stk);
    free(r->stk_rel);
    free(r);
}
