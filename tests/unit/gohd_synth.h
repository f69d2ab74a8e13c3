/* gohd_synth.h - writes synthetic Go heap dumps ("go1.7 heap dump\n" streams) into memory,
 * for tests and benchmarks. Header-only; link with the formats library (gohdw, gohd_put_uvarint).
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
 * gohd_synth_record() writes any gohd_record as the runtime would, through the library's
 * encoder (formats/gohdw.h), so a test can write the very records it expects to read back.
 * Primitive writers (gohd_synth_uv, _bytes, ...) let tests build malformed streams.
 */
#ifndef GOHD_SYNTH_H
#define GOHD_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gohd.h"
#include "gohdw.h"
#include "hs_grow.h"

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
    s->data = hs_grow(s->data, &s->cap, s->len + n, 1, 4096, &s->failed);
    return s->failed ? NULL : s->data + s->len;
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
        s->len += gohd_put_uvarint(v, d);
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

/* Appends to a gohd_synth (an hs_write_fn for gohdw). */
static inline int gohd_synth_sink(void *ctx, const void *buf, size_t n)
{
    gohd_synth *s = ctx;
    gohd_synth_raw(s, buf, n);
    return s->failed ? HS_ERR_NOMEM : HS_OK;
}

/* Writes rec (any tag) with the library's encoder (gohdw_record, heapdump.go field order);
 * rec->offset and rec->length are ignored. Pointer offsets are written as kind-1 fields. */
static inline void gohd_synth_record(gohd_synth *s, const gohd_record *rec)
{
    gohdw *w;
    if (s->failed || gohdw_new((hs_writer){gohd_synth_sink, s}, &w, NULL) < 0) {
        s->failed = 1;
        return;
    }
    if (gohdw_record(w, rec, NULL) < 0 || gohdw_flush(w, NULL) < 0)
        s->failed = 1;
    gohdw_free(w);
}

/* Params record (little-endian). */
static inline void gohd_synth_params(gohd_synth *s, uint64_t ptr_size, uint64_t arena_start,
                                     uint64_t arena_end, const char *goarch,
                                     const char *goversion, uint64_t ncpu)
{
    gohd_record r = {.tag = GOHD_PARAMS};
    r.u.params.ptr_size = ptr_size;
    r.u.params.arena_start = arena_start;
    r.u.params.arena_end = arena_end;
    r.u.params.goarch = (gohd_bytes){(const uint8_t *)goarch, strlen(goarch)};
    r.u.params.goversion = (gohd_bytes){(const uint8_t *)goversion, strlen(goversion)};
    r.u.params.ncpu = ncpu;
    gohd_synth_record(s, &r);
}

/* Object (GOHD_OBJECT), data (GOHD_DATA) or bss (GOHD_BSS) record. */
static inline void gohd_synth_memrec(gohd_synth *s, gohd_tag tag, uint64_t addr,
                                     const void *contents, size_t len, const uint64_t *offs,
                                     size_t nptrs)
{
    gohd_record r = {.tag = tag};
    r.u.object.addr = addr;
    r.u.object.contents = (gohd_bytes){contents, len};
    r.u.object.ptr_offsets = offs;
    r.u.object.nptrs = nptrs;
    gohd_synth_record(s, &r);
}

static inline void gohd_synth_object(gohd_synth *s, uint64_t addr, const void *contents,
                                     size_t len, const uint64_t *offs, size_t nptrs)
{
    gohd_synth_memrec(s, GOHD_OBJECT, addr, contents, len, offs, nptrs);
}

/* A gohd_bytes over a C string, for building records to write. */
static inline gohd_bytes gohd_synth_cstr(const char *str)
{
    gohd_bytes b = {(const uint8_t *)str, strlen(str)};
    return b;
}

#endif
