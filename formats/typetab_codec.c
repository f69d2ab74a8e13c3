/* typetab_codec.c - the TYPETAB payload (formats/TYPETAB.md): typetab_encode writes a
 * finished table, typetab_decode reads it back into a new one, naming the byte offset of
 * every field it rejects (typetab_finish's checks too, through the records' offsets). */
#include "typetab_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hs_codec.h"

#define TYPETAB_MAGIC "HSTYPTAB"
#define TYPETAB_FORMAT_VERSION 1u
#define TYPETAB_FLAG_REGABI 1u
/* Fewest bytes a record takes (every field a one-byte varint): bounds counts by the input. */
#define MIN_TYPE 11u
#define MIN_FIELD 4u
#define MIN_GLOBAL 3u
#define MIN_FUNC 4u
#define MIN_VAR 7u

typedef hs_codec_enc encoder;

static void enc_ref(encoder *e, uint32_t id)
{
    hs_codec_put_uvarint(e, id == TYPETAB_NONE ? 0 : (uint64_t)id + 1);
}

static uint64_t zigzag(int64_t v)
{
    return v < 0 ? ((uint64_t)-(v + 1)) * 2 + 1 : (uint64_t)v * 2;
}

static void encode_body(const typetab *t, encoder *e)
{
    const typetab_info *in = &t->info;
    hs_codec_put(e, TYPETAB_MAGIC, 8);
    hs_codec_put_uvarint(e, TYPETAB_FORMAT_VERSION);
    hs_codec_put_uvarint(e, in->regabi ? TYPETAB_FLAG_REGABI : 0);
    hs_codec_put_uvarint(e, in->ptr_size);
    hs_codec_put_uvarint(e, in->types_base);
    size_t vlen = strnlen(in->go_version, sizeof in->go_version - 1);
    hs_codec_put_uvarint(e, vlen);
    hs_codec_put(e, in->go_version, vlen);
    hs_codec_put_uvarint(e, t->pool_len);
    hs_codec_put(e, t->pool, t->pool_len);
    hs_codec_put_uvarint(e, t->ntypes);
    for (size_t i = 0; i < t->ntypes; i++) {
        const typetab_type *ty = &t->types[i];
        hs_codec_put_uvarint(e, ty->kind);
        hs_codec_put_uvarint(e, ty->flags);
        hs_codec_put_uvarint(e, typetab_name_off(t, ty->name));
        hs_codec_put_uvarint(e, ty->size);
        hs_codec_put_uvarint(e, ty->rtype);
        hs_codec_put_uvarint(e, ty->len);
        enc_ref(e, ty->elem);
        enc_ref(e, ty->key);
        enc_ref(e, ty->hdr);
        enc_ref(e, ty->bucket);
        hs_codec_put_uvarint(e, ty->nfields);
        for (uint32_t j = 0; j < ty->nfields; j++) {
            const typetab_field *f = &t->fields[ty->first_field + j];
            hs_codec_put_uvarint(e, typetab_name_off(t, f->name));
            hs_codec_put_uvarint(e, f->offset);
            hs_codec_put_uvarint(e, f->type);
            hs_codec_put_uvarint(e, f->flags);
        }
    }
    hs_codec_put_uvarint(e, t->nglobals);
    uint64_t prev = 0;
    for (size_t i = 0; i < t->nglobals; i++) {
        const typetab_global *g = &t->globals[i];
        hs_codec_put_uvarint(e, g->addr - prev);
        prev = g->addr;
        hs_codec_put_uvarint(e, typetab_name_off(t, g->name));
        hs_codec_put_uvarint(e, g->type);
    }
    hs_codec_put_uvarint(e, t->nfuncs);
    prev = 0;
    for (size_t i = 0; i < t->nfuncs; i++) {
        const typetab_func *f = &t->funcs[i];
        hs_codec_put_uvarint(e, f->low - prev);
        prev = f->low;
        hs_codec_put_uvarint(e, f->high - f->low);
        hs_codec_put_uvarint(e, typetab_name_off(t, f->name));
        hs_codec_put_uvarint(e, f->nvars);
        for (uint32_t j = 0; j < f->nvars; j++) {
            const typetab_var *v = &t->vars[f->first_var + j];
            hs_codec_put_uvarint(e, typetab_name_off(t, v->name));
            hs_codec_put_uvarint(e, v->type);
            hs_codec_put_uvarint(e, v->flags);
            hs_codec_put_uvarint(e, zigzag(v->cfa_off));
            hs_codec_put_uvarint(e, v->lo - f->low);
            hs_codec_put_uvarint(e, v->hi - v->lo);
            hs_codec_put_uvarint(e, v->closure_off);
            if (v->flags & TYPETAB_V_PIECE) {
                hs_codec_put_uvarint(e, v->piece_off);
                hs_codec_put_uvarint(e, v->piece_len);
            }
        }
    }
    hs_codec_put(e, "END!", 4);
    hs_codec_flush(e);
}

int typetab_encode(const typetab *t, hs_writer sink, hs_error *err)
{
    if (!t || !sink.write)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_encode: bad argument");
    if (t->finished != 1)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "typetab_encode: the table is not finished");
    encoder *e = malloc(sizeof *e);
    if (!e)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab encoder");
    e->out = sink;
    e->len = 0;
    e->rc = HS_OK;
    encode_body(t, e);
    int rc = e->rc;
    free(e);
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "writing the type table: %s",
                            hs_strerror(rc));
    return HS_OK;
}

typedef struct decoder {
    const uint8_t *p;
    size_t size, pos;
    size_t pool_len;
    hs_error *err;
} decoder;

static int dec_uvarint(decoder *d, uint64_t *v, const char *what)
{
    size_t start = d->pos;
    int rc = hs_codec_uvarint(d->p, d->size, &d->pos, v);
    if (rc == HS_ERR_TRUNCATED)
        return hs_error_set(d->err, rc, start, "typetab: %s: varint cut short", what);
    if (rc < 0)
        return hs_error_set(d->err, rc, start, "typetab: %s: varint overflows 64 bits", what);
    return HS_OK;
}

/* A varint no larger than max. */
static int dec_max(decoder *d, uint64_t *v, uint64_t max, const char *what)
{
    size_t at = d->pos;
    int rc = dec_uvarint(d, v, what);
    if (rc == HS_OK && *v > max)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "typetab: %s %llu (at most %llu)",
                            what, (unsigned long long)*v, (unsigned long long)max);
    return rc;
}

/* A count of records of at least `min` bytes each, which must fit in the bytes left. */
static int dec_count(decoder *d, uint64_t *n, unsigned min, const char *what)
{
    size_t at = d->pos;
    int rc = dec_uvarint(d, n, what);
    if (rc == HS_OK && *n > (d->size - d->pos) / min)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "typetab: %llu %s cannot fit in %zu "
                            "bytes", (unsigned long long)*n, what, d->size - d->pos);
    return rc;
}

static int dec_name(decoder *d, uint32_t *off, const char *what)
{
    uint64_t v;
    int rc = dec_max(d, &v, d->pool_len - 1, what);
    *off = (uint32_t)v;
    return rc;
}

static int dec_ref(decoder *d, uint32_t *id, const char *what)
{
    uint64_t v;
    int rc = dec_max(d, &v, TYPETAB_NONE, what); /* id + 1; ids are < TYPETAB_NONE */
    *id = v == 0 ? TYPETAB_NONE : (uint32_t)(v - 1);
    return rc;
}

/* The decoder's record buffers and their input offsets. */
typedef struct dec_bufs {
    typetab_field *fields;
    uint32_t *names;
    typetab_var *vars;
    size_t fields_cap, names_cap, vars_cap;
    uint64_t *at[4]; /* types, globals, funcs, vars */
    size_t at_cap[4];
} dec_bufs;

/* An add_*_at failure without an offset gets the record's. */
static int at_record(decoder *d, int rc, size_t at)
{
    if (rc < 0 && d->err && d->err->offset == HS_NO_OFFSET)
        d->err->offset = at;
    return rc;
}

static int room(decoder *d, dec_bufs *b, size_t fields, size_t vars)
{
    int fail = 0;
    b->fields = hs_grow(b->fields, &b->fields_cap, fields, sizeof *b->fields, 16, &fail);
    b->vars = hs_grow(b->vars, &b->vars_cap, vars, sizeof *b->vars, 16, &fail);
    b->names = hs_grow(b->names, &b->names_cap, fields > vars ? fields : vars,
                       sizeof *b->names, 16, &fail);
    return fail ? hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: decoding") : 0;
}

static int decode_type(typetab *t, decoder *d, dec_bufs *b)
{
    size_t at = d->pos;
    typetab_type ty = {0};
    uint64_t kind, flags, nf;
    uint32_t name;
    int rc;
    if ((rc = dec_max(d, &kind, TYPETAB_KIND_MAX, "type kind")) < 0)
        return rc;
    if (kind == 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "typetab: type kind 0");
    if ((rc = dec_max(d, &flags, TYPETAB_T_ALL, "type flags")) < 0 ||
        (rc = dec_name(d, &name, "type name")) < 0 ||
        (rc = dec_uvarint(d, &ty.size, "type size")) < 0 ||
        (rc = dec_uvarint(d, &ty.rtype, "runtime type")) < 0 ||
        (rc = dec_uvarint(d, &ty.len, "array length")) < 0 ||
        (rc = dec_ref(d, &ty.elem, "element type")) < 0 ||
        (rc = dec_ref(d, &ty.key, "key type")) < 0 ||
        (rc = dec_ref(d, &ty.hdr, "header type")) < 0 ||
        (rc = dec_ref(d, &ty.bucket, "bucket type")) < 0 ||
        (rc = dec_count(d, &nf, MIN_FIELD, "fields")) < 0 || (rc = room(d, b, nf, 0)) < 0)
        return rc;
    ty.kind = (uint8_t)kind;
    ty.flags = (uint8_t)flags;
    for (uint64_t j = 0; j < nf; j++) {
        typetab_field *f = &b->fields[j];
        uint64_t fl;
        if ((rc = dec_name(d, &b->names[j], "field name")) < 0 ||
            (rc = dec_uvarint(d, &f->offset, "field offset")) < 0 ||
            (rc = dec_max(d, &fl, TYPETAB_NONE - 1, "field type")) < 0)
            return rc;
        f->type = (uint32_t)fl;
        if ((rc = dec_max(d, &fl, TYPETAB_F_EMBEDDED, "field flags")) < 0)
            return rc;
        f->flags = (uint32_t)fl;
    }
    return at_record(d, typetab_add_type_at(t, &ty, name, b->fields, b->names, (size_t)nf,
                                            NULL, d->err), at);
}

static int decode_func(typetab *t, decoder *d, dec_bufs *b, uint64_t *low)
{
    size_t at = d->pos;
    uint64_t delta, len, nv;
    uint32_t name;
    int rc;
    if ((rc = dec_uvarint(d, &delta, "function pc")) < 0 ||
        (rc = dec_uvarint(d, &len, "function length")) < 0 ||
        (rc = dec_name(d, &name, "function name")) < 0 ||
        (rc = dec_count(d, &nv, MIN_VAR, "variables")) < 0 || (rc = room(d, b, 0, nv)) < 0)
        return rc;
    if (*low + delta < *low || *low + delta + len < *low + delta)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "typetab: function pcs wrap");
    *low += delta;
    int fail = 0;
    b->at[3] = hs_grow(b->at[3], &b->at_cap[3], t->nvars + nv, sizeof(uint64_t), 64, &fail);
    if (fail)
        return hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: decoding");
    for (uint64_t j = 0; j < nv; j++) {
        typetab_var *v = &b->vars[j];
        uint64_t type, flags, z, lo, span;
        b->at[3][t->nvars + j] = d->pos;
        size_t vat = d->pos;
        if ((rc = dec_name(d, &b->names[j], "variable name")) < 0 ||
            (rc = dec_max(d, &type, TYPETAB_NONE - 1, "variable type")) < 0 ||
            (rc = dec_max(d, &flags, TYPETAB_V_PARAM | TYPETAB_V_RESULT | TYPETAB_V_INLINED |
                                         TYPETAB_V_SLOT | TYPETAB_V_PIECE,
                          "variable flags")) < 0 ||
            (rc = dec_uvarint(d, &z, "frame offset")) < 0 ||
            (rc = dec_uvarint(d, &lo, "variable pc")) < 0 ||
            (rc = dec_uvarint(d, &span, "variable pc span")) < 0 ||
            (rc = dec_uvarint(d, &v->closure_off, "closure offset")) < 0)
            return rc;
        uint64_t poff = 0, plen = 0;
        if ((flags & TYPETAB_V_PIECE) &&
            ((rc = dec_max(d, &poff, UINT32_MAX, "piece offset")) < 0 ||
             (rc = dec_max(d, &plen, UINT32_MAX, "piece length")) < 0))
            return rc;
        v->piece_off = (uint32_t)poff;
        v->piece_len = (uint32_t)plen;
        if (lo > len || span > len - lo)
            return hs_error_set(d->err, HS_ERR_FORMAT, vat, "typetab: variable pcs "
                                "[+%llu, +%llu) outside the %llu bytes of its function",
                                (unsigned long long)lo, (unsigned long long)(lo + span),
                                (unsigned long long)len);
        v->type = (uint32_t)type;
        v->flags = (uint32_t)flags;
        v->cfa_off = z & 1 ? -(int64_t)(z / 2) - 1 : (int64_t)(z / 2);
        v->lo = *low + lo;
        v->hi = v->lo + span;
    }
    return at_record(d, typetab_add_func_at(t, name, *low, *low + len, b->vars, b->names,
                                            (size_t)nv, d->err), at);
}

static int decode_body(typetab *t, decoder *d, dec_bufs *b)
{
    int rc;
    uint64_t v, n;
    if (d->size < 8)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, 0, "typetab: %zu bytes, shorter than "
                            "the magic", d->size);
    if (memcmp(d->p, TYPETAB_MAGIC, 8) != 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, 0, "typetab: bad magic");
    d->pos = 8;
    size_t at = d->pos;
    if ((rc = dec_uvarint(d, &v, "version")) < 0)
        return rc;
    if (v != TYPETAB_FORMAT_VERSION)
        return hs_error_set(d->err, HS_ERR_UNSUPPORTED, at, "typetab: format version %llu "
                            "(this reader knows %u)", (unsigned long long)v,
                            TYPETAB_FORMAT_VERSION);
    typetab_info *in = &t->info;
    if ((rc = dec_max(d, &v, TYPETAB_FLAG_REGABI, "flags")) < 0)
        return rc;
    in->regabi = (v & TYPETAB_FLAG_REGABI) != 0;
    at = d->pos;
    if ((rc = dec_uvarint(d, &v, "pointer size")) < 0)
        return rc;
    if (v != 4 && v != 8)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "typetab: pointer size %llu",
                            (unsigned long long)v);
    in->ptr_size = (unsigned)v;
    if ((rc = dec_uvarint(d, &in->types_base, "types base")) < 0 ||
        (rc = dec_max(d, &n, sizeof in->go_version - 1, "go version length")) < 0)
        return rc;
    if (n > d->size - d->pos)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos, "typetab: go version cut short");
    if (memchr(d->p + d->pos, '\0', (size_t)n))
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "typetab: NUL in the go version");
    memcpy(in->go_version, d->p + d->pos, (size_t)n);
    in->go_version[n] = '\0';
    d->pos += (size_t)n;
    at = d->pos;
    if ((rc = dec_uvarint(d, &n, "name pool length")) < 0)
        return rc;
    if (n == 0 || n > d->size - d->pos || n > UINT32_MAX || d->p[d->pos + n - 1] != '\0')
        return hs_error_set(d->err, n > d->size - d->pos ? HS_ERR_TRUNCATED : HS_ERR_FORMAT,
                            at, "typetab: a name pool of %llu bytes (%zu left) must end with "
                            "a NUL", (unsigned long long)n, d->size - d->pos);
    if ((rc = typetab_set_pool(t, (const char *)d->p + d->pos, (size_t)n, d->err)) < 0)
        return rc;
    d->pool_len = (size_t)n;
    d->pos += (size_t)n;

    int fail = 0;
    if ((rc = dec_count(d, &n, MIN_TYPE, "types")) < 0)
        return rc;
    b->at[0] = hs_grow(b->at[0], &b->at_cap[0], n, sizeof(uint64_t), 16, &fail);
    if (fail)
        return hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: decoding");
    for (uint64_t i = 0; i < n; i++) {
        b->at[0][i] = d->pos;
        if ((rc = decode_type(t, d, b)) < 0)
            return rc;
    }
    if ((rc = dec_count(d, &n, MIN_GLOBAL, "globals")) < 0)
        return rc;
    b->at[1] = hs_grow(b->at[1], &b->at_cap[1], n, sizeof(uint64_t), 16, &fail);
    if (fail)
        return hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: decoding");
    uint64_t addr = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t delta, type;
        uint32_t name;
        at = b->at[1][i] = d->pos;
        if ((rc = dec_uvarint(d, &delta, "global address")) < 0 ||
            (rc = dec_name(d, &name, "global name")) < 0 ||
            (rc = dec_max(d, &type, TYPETAB_NONE - 1, "global type")) < 0)
            return rc;
        if (addr + delta < addr)
            return hs_error_set(d->err, HS_ERR_FORMAT, at, "typetab: global address wraps");
        addr += delta;
        if ((rc = at_record(d, typetab_add_global_at(t, name, addr, (uint32_t)type, d->err),
                            at)) < 0)
            return rc;
    }
    if ((rc = dec_count(d, &n, MIN_FUNC, "functions")) < 0)
        return rc;
    b->at[2] = hs_grow(b->at[2], &b->at_cap[2], n, sizeof(uint64_t), 16, &fail);
    if (fail)
        return hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: decoding");
    uint64_t low = 0;
    for (uint64_t i = 0; i < n; i++) {
        b->at[2][i] = d->pos;
        if ((rc = decode_func(t, d, b, &low)) < 0)
            return rc;
    }
    if (d->size - d->pos < 4)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos, "typetab: end marker missing");
    if (memcmp(d->p + d->pos, "END!", 4) != 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "typetab: bad end marker");
    d->pos += 4;
    if (d->pos != d->size)
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "typetab: %zu trailing bytes after "
                            "the end marker", d->size - d->pos);
    typetab_where where = {b->at[0], b->at[1], b->at[2], b->at[3]};
    return typetab_finish_at(t, &where, d->err);
}

int typetab_decode(const uint8_t *data, size_t size, typetab **out, hs_error *err)
{
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_decode: bad argument");
    *out = NULL;
    typetab *t = typetab_new();
    if (!t)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "type table");
    decoder d = {data, size, 0, 0, err};
    dec_bufs b = {0};
    int rc = decode_body(t, &d, &b);
    free(b.fields);
    free(b.names);
    free(b.vars);
    for (int i = 0; i < 4; i++)
        free(b.at[i]);
    if (rc < 0) {
        typetab_free(t);
        return rc;
    }
    *out = t;
    return HS_OK;
}
