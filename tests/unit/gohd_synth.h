/* gohd_synth.h - writes synthetic Go heap dumps ("go1.7 heap dump\n" streams) into memory,
 * for tests and benchmarks. Header-only; link with the formats library (gohd_put_uvarint).
 *
 *   gohd_synth s;
 *   gohd_synth_init(&s);
 *   gohd_synth_header(&s);
 *   gohd_synth_params(&s, 8, 0xc000000000, 0xc004000000, "amd64", "go1.19.8", 2);
 *   uint64_t offs[] = {0, 8};
 *   gohd_synth_object(&s, 0xc000010000, contents, 16, offs, 2);
 *   gohd_synth_eof(&s);
 *   ... s.data / s.len hold the dump; s.failed is set if memory ran out ...
 *   gohd_synth_release(&s);
 *
 * gohd_synth_record() writes any gohd_record as the runtime would (heapdump.go field order),
 * so a test can write the very records it expects to read back. Primitive writers
 * (gohd_synth_uv, _bytes, ...) let tests build malformed streams.
 */
#ifndef GOHD_SYNTH_H
#define GOHD_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gohd.h"

typedef struct gohd_synth {
    uint8_t *data; /* the dump so far (owned; gohd_synth_release frees it) */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed; data is incomplete */
} gohd_synth;

static inline void gohd_synth_init(gohd_synth *s)
{
    memset(s, 0, sizeof *s);
}

static inline void gohd_synth_release(gohd_synth *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* Makes room for n more bytes; returns a pointer to them or NULL (and sets failed). */
static inline uint8_t *gohd_synth_reserve(gohd_synth *s, size_t n)
{
    if (s->failed)
        return NULL;
    if (n > SIZE_MAX - s->len) {
        s->failed = 1;
        return NULL;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap = cap > SIZE_MAX / 2 ? s->len + n : cap * 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d) {
            s->failed = 1;
            return NULL;
        }
        s->data = d;
        s->cap = cap;
    }
    return s->data + s->len;
}

static inline void gohd_synth_raw(gohd_synth *s, const void *p, size_t n)
{
    uint8_t *d = gohd_synth_reserve(s, n);
    if (!d)
        return;
    if (n)
        memcpy(d, p, n);
    s->len += n;
}

static inline void gohd_synth_uv(gohd_synth *s, uint64_t v)
{
    uint8_t *d = gohd_synth_reserve(s, 10);
    if (d)
        s->len += gohd_put_uvarint(d, v);
}

static inline void gohd_synth_bool(gohd_synth *s, int b)
{
    gohd_synth_uv(s, b ? 1 : 0);
}

/* A length-prefixed byte string (dumpstr / dumpmemrange). */
static inline void gohd_synth_bytes(gohd_synth *s, const void *p, size_t n)
{
    gohd_synth_uv(s, n);
    gohd_synth_raw(s, p, n);
}

static inline void gohd_synth_str(gohd_synth *s, const char *str)
{
    gohd_synth_bytes(s, str, strlen(str));
}

/* A fieldlist of kind-1 (pointer) fields ended by kind 0 (dumpfields). */
static inline void gohd_synth_fields(gohd_synth *s, const uint64_t *offs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        gohd_synth_uv(s, 1);
        gohd_synth_uv(s, offs[i]);
    }
    gohd_synth_uv(s, 0);
}

static inline void gohd_synth_header(gohd_synth *s)
{
    gohd_synth_raw(s, GOHD_MAGIC, GOHD_MAGIC_LEN);
}

static inline void gohd_synth_eof(gohd_synth *s)
{
    gohd_synth_uv(s, GOHD_EOF);
}

/* Params record (little-endian). */
static inline void gohd_synth_params(gohd_synth *s, uint64_t ptr_size, uint64_t arena_start,
                                     uint64_t arena_end, const char *goarch,
                                     const char *goversion, uint64_t ncpu)
{
    gohd_synth_uv(s, GOHD_PARAMS);
    gohd_synth_bool(s, 0);
    gohd_synth_uv(s, ptr_size);
    gohd_synth_uv(s, arena_start);
    gohd_synth_uv(s, arena_end);
    gohd_synth_str(s, goarch);
    gohd_synth_str(s, goversion);
    gohd_synth_uv(s, ncpu);
}

/* Object (GOHD_OBJECT), data (GOHD_DATA) or bss (GOHD_BSS) record. */
static inline void gohd_synth_memrec(gohd_synth *s, gohd_tag tag, uint64_t addr,
                                     const void *contents, size_t len, const uint64_t *offs,
                                     size_t nptrs)
{
    gohd_synth_uv(s, tag);
    gohd_synth_uv(s, addr);
    gohd_synth_bytes(s, contents, len);
    gohd_synth_fields(s, offs, nptrs);
}

static inline void gohd_synth_object(gohd_synth *s, uint64_t addr, const void *contents,
                                     size_t len, const uint64_t *offs, size_t nptrs)
{
    gohd_synth_memrec(s, GOHD_OBJECT, addr, contents, len, offs, nptrs);
}

/* Writes rec (any tag) in the runtime's field order; rec->offset and rec->length are
 * ignored. Pointer offsets are written as kind-1 fields. */
static inline void gohd_synth_record(gohd_synth *s, const gohd_record *rec)
{
    const __typeof__(rec->u) *u = &rec->u;
    switch (rec->tag) {
    case GOHD_EOF:
        gohd_synth_eof(s);
        return;
    case GOHD_OBJECT:
    case GOHD_DATA:
    case GOHD_BSS:
        gohd_synth_memrec(s, rec->tag, u->object.addr, u->object.contents.ptr,
                          u->object.contents.len, u->object.ptr_offsets, u->object.nptrs);
        return;
    default:
        break;
    }
    gohd_synth_uv(s, rec->tag);
    switch (rec->tag) {
    case GOHD_OTHER_ROOT:
        gohd_synth_bytes(s, u->other_root.description.ptr, u->other_root.description.len);
        gohd_synth_uv(s, u->other_root.addr);
        break;
    case GOHD_TYPE:
        gohd_synth_uv(s, u->type.addr);
        gohd_synth_uv(s, u->type.size);
        gohd_synth_bytes(s, u->type.name.ptr, u->type.name.len);
        gohd_synth_bool(s, u->type.indirect);
        break;
    case GOHD_GOROUTINE:
        gohd_synth_uv(s, u->goroutine.g);
        gohd_synth_uv(s, u->goroutine.sp);
        gohd_synth_uv(s, u->goroutine.goid);
        gohd_synth_uv(s, u->goroutine.gopc);
        gohd_synth_uv(s, u->goroutine.status);
        gohd_synth_bool(s, u->goroutine.is_system);
        gohd_synth_bool(s, u->goroutine.is_background);
        gohd_synth_uv(s, u->goroutine.waitsince);
        gohd_synth_bytes(s, u->goroutine.waitreason.ptr, u->goroutine.waitreason.len);
        gohd_synth_uv(s, u->goroutine.ctxt);
        gohd_synth_uv(s, u->goroutine.m);
        gohd_synth_uv(s, u->goroutine.defer);
        gohd_synth_uv(s, u->goroutine.panic);
        break;
    case GOHD_FRAME:
        gohd_synth_uv(s, u->frame.sp);
        gohd_synth_uv(s, u->frame.depth);
        gohd_synth_uv(s, u->frame.child_sp);
        gohd_synth_bytes(s, u->frame.contents.ptr, u->frame.contents.len);
        gohd_synth_uv(s, u->frame.entry);
        gohd_synth_uv(s, u->frame.pc);
        gohd_synth_uv(s, u->frame.continpc);
        gohd_synth_bytes(s, u->frame.name.ptr, u->frame.name.len);
        gohd_synth_fields(s, u->frame.ptr_offsets, u->frame.nptrs);
        break;
    case GOHD_PARAMS:
        gohd_synth_bool(s, u->params.big_endian);
        gohd_synth_uv(s, u->params.ptr_size);
        gohd_synth_uv(s, u->params.arena_start);
        gohd_synth_uv(s, u->params.arena_end);
        gohd_synth_bytes(s, u->params.goarch.ptr, u->params.goarch.len);
        gohd_synth_bytes(s, u->params.goversion.ptr, u->params.goversion.len);
        gohd_synth_uv(s, u->params.ncpu);
        break;
    case GOHD_FINALIZER:
    case GOHD_QFINALIZER:
        gohd_synth_uv(s, u->finalizer.obj);
        gohd_synth_uv(s, u->finalizer.fn);
        gohd_synth_uv(s, u->finalizer.fnpc);
        gohd_synth_uv(s, u->finalizer.fint);
        gohd_synth_uv(s, u->finalizer.ot);
        break;
    case GOHD_ITAB:
        gohd_synth_uv(s, u->itab.itab);
        gohd_synth_uv(s, u->itab.type);
        break;
    case GOHD_OSTHREAD:
        gohd_synth_uv(s, u->osthread.m);
        gohd_synth_uv(s, u->osthread.id);
        gohd_synth_uv(s, u->osthread.procid);
        break;
    case GOHD_MEMSTATS:
        for (int i = 0; i < 24; i++)
            gohd_synth_uv(s, u->memstats.stats[i]);
        for (int i = 0; i < 256; i++)
            gohd_synth_uv(s, u->memstats.pause_ns[i]);
        gohd_synth_uv(s, u->memstats.numgc);
        break;
    case GOHD_DEFER:
        gohd_synth_uv(s, u->defer.d);
        gohd_synth_uv(s, u->defer.g);
        gohd_synth_uv(s, u->defer.sp);
        gohd_synth_uv(s, u->defer.pc);
        gohd_synth_uv(s, u->defer.fn);
        gohd_synth_uv(s, u->defer.fnpc);
        gohd_synth_uv(s, u->defer.link);
        break;
    case GOHD_PANIC:
        gohd_synth_uv(s, u->panic.p);
        gohd_synth_uv(s, u->panic.g);
        gohd_synth_uv(s, u->panic.argtype);
        gohd_synth_uv(s, u->panic.argdata);
        gohd_synth_uv(s, u->panic.unused);
        gohd_synth_uv(s, u->panic.link);
        break;
    case GOHD_MEMPROF:
        gohd_synth_uv(s, u->memprof.bucket);
        gohd_synth_uv(s, u->memprof.size);
        gohd_synth_uv(s, u->memprof.nstk);
        for (uint64_t i = 0; i < u->memprof.nstk; i++) {
            const gohd_stackloc *l = &u->memprof.stack[i];
            gohd_synth_bytes(s, l->func.ptr, l->func.len);
            gohd_synth_bytes(s, l->file.ptr, l->file.len);
            gohd_synth_uv(s, l->line);
        }
        gohd_synth_uv(s, u->memprof.allocs);
        gohd_synth_uv(s, u->memprof.frees);
        break;
    case GOHD_ALLOC_SAMPLE:
        gohd_synth_uv(s, u->alloc_sample.obj);
        gohd_synth_uv(s, u->alloc_sample.bucket);
        break;
    default:
        break;
    }
}

/* A gohd_bytes over a C string, for building records to write. */
static inline gohd_bytes gohd_synth_cstr(const char *str)
{
    gohd_bytes b = {(const uint8_t *)str, strlen(str)};
    return b;
}

#endif
