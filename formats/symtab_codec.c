/* symtab_codec.c - the SYMTAB section of an .hsd file (formats/SYMTAB.md): symtab_encode writes a
 * finished table, symtab_decode reads versions 1 to 3 back into a new table. */
#include "symtab_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hs_codec.h"

#define SYMTAB_MAGIC "HSSYMTAB"
#define SYMTAB_FORMAT_VERSION 3u /* the version written; 1 and 2 are read too */
#define SYMTAB_FLAG_STRIPPED 1u
#define SYMTAB_FLAG_ADDCLEANUP 2u /* version 2 and later */
#define SYMTAB_FLAG_STKOBJ 4u     /* version 3 and later: stack objects known */

typedef hs_codec_enc encoder;

static void enc_str(encoder *e, const char *s)
{
    size_t n = strlen(s);
    hs_codec_put_uvarint(e, n);
    hs_codec_put(e, s, n);
}

static void enc_range(encoder *e, symtab_range r)
{
    uint64_t len = r.end >= r.start ? r.end - r.start : 0;
    hs_codec_put_uvarint(e, r.start);
    hs_codec_put_uvarint(e, len);
}

int symtab_encode(const symtab *t, hs_writer out, hs_error *err)
{
    if (!t || !out.write)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_encode: bad argument");
    if (!t->finished)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "symtab_encode: call symtab_finish first");
    encoder *e = malloc(sizeof *e);
    if (!e)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symtab encoder");
    e->out = out;
    e->len = 0;
    e->rc = HS_OK;
    const symtab_info *in = &t->info;
    hs_codec_put(e, SYMTAB_MAGIC, 8);
    hs_codec_put_uvarint(e, SYMTAB_FORMAT_VERSION);
    hs_codec_put_uvarint(e, (in->stripped ? SYMTAB_FLAG_STRIPPED : 0) |
                       (in->addcleanup ? SYMTAB_FLAG_ADDCLEANUP : 0) |
                       (in->stack_objects ? SYMTAB_FLAG_STKOBJ : 0));
    enc_str(e, in->go_version);
    enc_str(e, in->build_id);
    enc_str(e, in->goarch);
    hs_codec_put_uvarint(e, in->ptr_size);
    enc_range(e, in->text);
    enc_range(e, in->rodata);
    enc_range(e, in->data);
    enc_range(e, in->noptrdata);
    enc_range(e, in->bss);
    enc_range(e, in->noptrbss);
    enc_range(e, in->types);
    for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
        hs_codec_put_uvarint(e, t->kcount[k]);
        uint64_t prev = 0;
        for (size_t i = 0; i < t->kcount[k]; i++) {
            const symtab_sym *s = &t->syms[t->kstart[k] + i];
            hs_codec_put_uvarint(e, s->addr - prev);
            prev = s->addr;
            hs_codec_put_uvarint(e, s->size);
            enc_str(e, s->name);
        }
    }
    hs_codec_put_uvarint(e, t->types ? t->types_base : 0);
    hs_codec_put_uvarint(e, t->types ? t->types_len : 0);
    if (t->types)
        hs_codec_put(e, t->types, t->types_len);
    /* version 3: stack objects per function, by increasing entry */
    hs_codec_put_uvarint(e, t->nstkfuncs);
    uint64_t prev = 0;
    for (size_t i = 0; i < t->nstkfuncs; i++) {
        const stk_func *f = &t->stkfuncs[i];
        hs_codec_put_uvarint(e, f->entry - prev);
        prev = f->entry;
        hs_codec_put_uvarint(e, f->count);
        for (size_t j = 0; j < f->count; j++) {
            const symtab_stkobj *o = &t->stkobjs[f->first + j];
            /* zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ... */
            uint64_t z = o->off < 0 ? (uint64_t)(-(int64_t)o->off) * 2 - 1 : (uint64_t)o->off * 2;
            hs_codec_put_uvarint(e, z);
            hs_codec_put_uvarint(e, o->size);
            hs_codec_put_uvarint(e, o->ptr_words);
            hs_codec_put(e, o->mask, symtab_mask_bytes(o->ptr_words));
        }
    }
    hs_codec_put(e, "END!", 4);
    hs_codec_flush(e);
    int rc = e->rc;
    free(e);
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "writing the symbol table: %s",
                            hs_strerror(rc));
    return HS_OK;
}

typedef struct decoder {
    const uint8_t *p;
    size_t size, pos;
    hs_error *err;
} decoder;

static int dec_uvarint(decoder *d, const char *what, uint64_t *v)
{
    size_t start = d->pos;
    int rc = hs_codec_uvarint(d->p, d->size, &d->pos, v);
    if (rc == HS_ERR_TRUNCATED)
        return hs_error_set(d->err, rc, start, "symtab: %s: varint cut short", what);
    if (rc < 0)
        return hs_error_set(d->err, rc, start, "symtab: %s: varint overflows 64 bits", what);
    return HS_OK;
}

/* A length-prefixed string: *s points into the input, *len <= max. */
static int dec_str(decoder *d, size_t max, const char *what, const char **s, size_t *len)
{
    size_t start = d->pos;
    uint64_t n;
    int rc = dec_uvarint(d, what, &n);
    if (rc < 0)
        return rc;
    if (n > max)
        return hs_error_set(d->err, HS_ERR_FORMAT, start,
                            "symtab: %s: length %llu exceeds %zu", what,
                            (unsigned long long)n, max);
    if (n > d->size - d->pos)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos,
                            "symtab: %s: %llu bytes announced, %zu left", what,
                            (unsigned long long)n, d->size - d->pos);
    *s = (const char *)d->p + d->pos;
    *len = (size_t)n;
    if (memchr(*s, '\0', *len))
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "symtab: %s: NUL inside string",
                            what);
    d->pos += (size_t)n;
    return HS_OK;
}

static int dec_fixed_str(decoder *d, const char *what, char *dst, size_t cap)
{
    const char *s = NULL;
    size_t n = 0;
    int rc = dec_str(d, cap - 1, what, &s, &n);
    if (rc < 0)
        return rc;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return HS_OK;
}

static int dec_range(decoder *d, const char *what, symtab_range *r)
{
    size_t start = d->pos;
    uint64_t a, n;
    int rc;
    if ((rc = dec_uvarint(d, what, &a)) < 0 || (rc = dec_uvarint(d, what, &n)) < 0)
        return rc;
    if (a + n < a)
        return hs_error_set(d->err, HS_ERR_FORMAT, start, "symtab: %s: range wraps", what);
    r->start = a;
    r->end = a + n;
    return HS_OK;
}

/* Version 3's stack objects (SYMTAB.md): functions by increasing entry, each with its records.
 * Every function takes at least 5 bytes and every record 3, which bounds the counts by the
 * input; masks are copied from the input. */
static int decode_stack_objects(symtab *t, decoder *d)
{
    int rc;
    size_t at = d->pos;
    uint64_t nf;
    if ((rc = dec_uvarint(d, "stack object functions", &nf)) < 0)
        return rc;
    if (nf > (d->size - d->pos) / 5)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: %llu functions with stack "
                            "objects cannot fit in %zu bytes", (unsigned long long)nf,
                            d->size - d->pos);
    if (nf && !t->info.stack_objects)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: stack objects without the "
                            "flag that says they are known");
    symtab_stkobj *objs = NULL;
    size_t cap = 0;
    uint64_t entry = 0;
    unsigned P = t->info.ptr_size;
    for (uint64_t i = 0; i < nf; i++) {
        uint64_t delta, count;
        size_t fat = d->pos;
        if ((rc = dec_uvarint(d, "stack object function entry", &delta)) < 0)
            goto out;
        if (entry + delta < entry || (i > 0 && delta == 0)) {
            rc = hs_error_set(d->err, HS_ERR_FORMAT, fat, "symtab: stack object function "
                              "entry 0x%llx + %llu: %s", (unsigned long long)entry,
                              (unsigned long long)delta, delta ? "wraps" : "repeated");
            goto out;
        }
        entry += delta;
        at = d->pos;
        if ((rc = dec_uvarint(d, "stack object count", &count)) < 0)
            goto out;
        if (count == 0 || count > (d->size - d->pos) / 3) {
            rc = hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: function 0x%llx: %llu stack "
                              "objects in %zu bytes", (unsigned long long)entry,
                              (unsigned long long)count, d->size - d->pos);
            goto out;
        }
        int fail = 0;
        objs = hs_grow(objs, &cap, (size_t)count, sizeof *objs, 16, &fail);
        if (fail) {
            rc = hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "stack objects");
            goto out;
        }
        for (uint64_t j = 0; j < count; j++) {
            uint64_t z, size, words;
            at = d->pos;
            if ((rc = dec_uvarint(d, "stack object offset", &z)) < 0 ||
                (rc = dec_uvarint(d, "stack object size", &size)) < 0 ||
                (rc = dec_uvarint(d, "stack object pointer words", &words)) < 0)
                goto out;
            if (z > UINT32_MAX || size > UINT32_MAX || words > UINT32_MAX ||
                words * P > size) {
                rc = hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: function 0x%llx: stack "
                                  "object %llu: offset %llu (zigzag), size %llu, %llu pointer "
                                  "words", (unsigned long long)entry, (unsigned long long)j,
                                  (unsigned long long)z, (unsigned long long)size,
                                  (unsigned long long)words);
                goto out;
            }
            size_t nb = symtab_mask_bytes((uint32_t)words);
            if (nb > d->size - d->pos) {
                rc = hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos, "symtab: stack object mask "
                                  "of %zu bytes, %zu left", nb, d->size - d->pos);
                goto out;
            }
            const uint8_t *m = d->p + d->pos;
            if (words % 8 && (m[nb - 1] >> (words % 8))) {
                rc = hs_error_set(d->err, HS_ERR_FORMAT, d->pos + nb - 1, "symtab: stack object "
                                  "mask has bits past its %llu words", (unsigned long long)words);
                goto out;
            }
            d->pos += nb;
            symtab_stkobj *o = &objs[j];
            o->off = (int32_t)(z & 1 ? -(int64_t)((z + 1) / 2) : (int64_t)(z / 2));
            o->size = (uint32_t)size;
            o->ptr_words = (uint32_t)words;
            o->mask = m;
        }
        if ((rc = symtab_add_stack_objects(t, entry, objs, (size_t)count, d->err)) < 0) {
            if (d->err && d->err->offset == HS_NO_OFFSET)
                d->err->offset = fat;
            goto out;
        }
    }
    rc = HS_OK;
out:
    free(objs);
    return rc;
}

static int decode_body(symtab *t, decoder *d)
{
    int rc;
    uint64_t v;
    if (d->size < 8)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, 0, "symtab: %zu bytes, shorter than the "
                            "magic", d->size);
    if (memcmp(d->p, SYMTAB_MAGIC, 8) != 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, 0, "symtab: bad magic");
    d->pos = 8;
    size_t at = d->pos;
    if ((rc = dec_uvarint(d, "version", &v)) < 0)
        return rc;
    if (v < 1 || v > SYMTAB_FORMAT_VERSION)
        return hs_error_set(d->err, HS_ERR_UNSUPPORTED, at, "symtab: format version %llu "
                            "(this reader knows 1 to %u)", (unsigned long long)v,
                            SYMTAB_FORMAT_VERSION);
    unsigned version = (unsigned)v;
    uint64_t known = SYMTAB_FLAG_STRIPPED | (version >= 2 ? SYMTAB_FLAG_ADDCLEANUP : 0) |
                     (version >= 3 ? SYMTAB_FLAG_STKOBJ : 0);
    at = d->pos;
    if ((rc = dec_uvarint(d, "flags", &v)) < 0)
        return rc;
    if (v & ~known)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: unknown flags 0x%llx",
                            (unsigned long long)v);
    symtab_info *in = &t->info;
    in->stripped = (v & SYMTAB_FLAG_STRIPPED) != 0;
    in->addcleanup = (v & SYMTAB_FLAG_ADDCLEANUP) != 0; /* version 1: from the names */
    in->stack_objects = (v & SYMTAB_FLAG_STKOBJ) != 0;  /* before version 3: unknown */
    if ((rc = dec_fixed_str(d, "go version", in->go_version, sizeof in->go_version)) < 0 ||
        (rc = dec_fixed_str(d, "build id", in->build_id, sizeof in->build_id)) < 0 ||
        (rc = dec_fixed_str(d, "goarch", in->goarch, sizeof in->goarch)) < 0)
        return rc;
    at = d->pos;
    if ((rc = dec_uvarint(d, "pointer size", &v)) < 0)
        return rc;
    if (v != 4 && v != 8)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: pointer size %llu",
                            (unsigned long long)v);
    in->ptr_size = (unsigned)v;
    if ((rc = dec_range(d, "text range", &in->text)) < 0 ||
        (rc = dec_range(d, "rodata range", &in->rodata)) < 0 ||
        (rc = dec_range(d, "data range", &in->data)) < 0 ||
        (rc = dec_range(d, "noptrdata range", &in->noptrdata)) < 0 ||
        (rc = dec_range(d, "bss range", &in->bss)) < 0 ||
        (rc = dec_range(d, "noptrbss range", &in->noptrbss)) < 0 ||
        (rc = dec_range(d, "types range", &in->types)) < 0)
        return rc;
    for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
        at = d->pos;
        uint64_t count;
        if ((rc = dec_uvarint(d, "symbol count", &count)) < 0)
            return rc;
        /* each symbol takes at least 3 bytes: bounds the allocation by the input size */
        if (count > (d->size - d->pos) / 3)
            return hs_error_set(d->err, HS_ERR_FORMAT, at,
                                "symtab: %llu symbols of kind %d cannot fit in %zu bytes",
                                (unsigned long long)count, k, d->size - d->pos);
        uint64_t addr = 0;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t delta, size;
            const char *name = NULL;
            size_t namelen = 0;
            at = d->pos;
            if ((rc = dec_uvarint(d, "symbol address", &delta)) < 0 ||
                (rc = dec_uvarint(d, "symbol size", &size)) < 0 ||
                (rc = dec_str(d, NAME_MAX_LEN, "symbol name", &name, &namelen)) < 0)
                return rc;
            if (addr + delta < addr)
                return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: symbol address wraps");
            if (i > 0 && delta == 0)
                return hs_error_set(d->err, HS_ERR_FORMAT, at,
                                    "symtab: duplicate symbol address 0x%llx",
                                    (unsigned long long)addr);
            addr += delta;
            if ((rc = symtab_add(t, k, addr, size, name, namelen, d->err)) < 0)
                return rc;
        }
    }
    uint64_t tbase, tlen;
    at = d->pos;
    if ((rc = dec_uvarint(d, "type area base", &tbase)) < 0 ||
        (rc = dec_uvarint(d, "type area length", &tlen)) < 0)
        return rc;
    if (tlen > d->size - d->pos)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos,
                            "symtab: type area of %llu bytes, %zu left",
                            (unsigned long long)tlen, d->size - d->pos);
    if (tlen && tbase + tlen < tbase)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: type area wraps");
    if ((rc = symtab_set_types(t, tbase, d->p + d->pos, (size_t)tlen, d->err)) < 0)
        return rc;
    d->pos += (size_t)tlen;
    if (version >= 3 && (rc = decode_stack_objects(t, d)) < 0)
        return rc;
    if (d->size - d->pos < 4)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos, "symtab: end marker missing");
    if (memcmp(d->p + d->pos, "END!", 4) != 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "symtab: bad end marker");
    d->pos += 4;
    if (d->pos != d->size)
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos,
                            "symtab: %zu trailing bytes after the end marker",
                            d->size - d->pos);
    return symtab_finish(t, d->err);
}

int symtab_decode(const uint8_t *data, size_t size, symtab **out, hs_error *err)
{
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_decode: bad argument");
    *out = NULL;
    symtab *t = symtab_new();
    if (!t)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symbol table");
    decoder d = {data, size, 0, err};
    int rc = decode_body(t, &d);
    if (rc < 0)
        goto out;
    *out = t;
    t = NULL;
out:
    symtab_free(t);
    return rc;
}
