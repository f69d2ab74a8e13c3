/* fields.c - leaf fields of a typed value, decoded (fields.h). */
#include "fields.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hs_io.h"

/* Elements of an array shown before the rest is skipped. */
#define FIELDS_ARRAY_SHOWN 8

typedef struct walker {
    const typetab *tt;
    const uint8_t *bytes;
    size_t len;
    unsigned ps;
    fields_leaf *out;
    size_t max, n;
} walker;

/* Sign-extends a size-byte value. */
static int64_t load_signed(const uint8_t *p, unsigned size)
{
    uint64_t v = hs_load_le(p, size);
    if (size < 8 && (v >> (8 * size - 1) & 1))
        v |= ~0ull << (8 * size);
    return (int64_t)v;
}

static void decode(const walker *w, const typetab_type *t, const uint8_t *p, fields_leaf *l)
{
    char *s = l->value;
    size_t cap = sizeof l->value;
    unsigned ps = w->ps;
    switch (t->kind) {
    case TYPETAB_BOOL: snprintf(s, cap, "%s", p[0] ? "true" : "false"); break;
    case TYPETAB_INT: case TYPETAB_INT8: case TYPETAB_INT16: case TYPETAB_INT32:
    case TYPETAB_INT64:
        snprintf(s, cap, "%" PRId64, load_signed(p, (unsigned)t->size));
        break;
    case TYPETAB_UINT: case TYPETAB_UINT8: case TYPETAB_UINT16: case TYPETAB_UINT32:
    case TYPETAB_UINT64:
        snprintf(s, cap, "%" PRIu64, hs_load_le(p, (unsigned)t->size));
        break;
    case TYPETAB_UINTPTR: snprintf(s, cap, "0x%" PRIx64, hs_load_le(p, (unsigned)t->size)); break;
    case TYPETAB_FLOAT32: {
        uint32_t b = (uint32_t)hs_load_le(p, 4);
        float f;
        memcpy(&f, &b, sizeof f);
        snprintf(s, cap, "%g", (double)f);
        break;
    }
    case TYPETAB_FLOAT64: {
        uint64_t b = hs_load_le(p, 8);
        double d;
        memcpy(&d, &b, sizeof d);
        snprintf(s, cap, "%g", d);
        break;
    }
    case TYPETAB_STRING:
        l->ptr = hs_load_le(p, ps);
        l->len = hs_load_le(p + ps, ps);
        snprintf(s, cap, "len %" PRIu64, l->len);
        break;
    case TYPETAB_SLICE:
        l->ptr = hs_load_le(p, ps);
        l->len = hs_load_le(p + ps, ps);
        snprintf(s, cap, "len %" PRIu64 " cap %" PRIu64 " %s0x%" PRIx64, l->len,
                 hs_load_le(p + 2 * ps, ps), l->ptr ? "" : "nil ", l->ptr);
        break;
    case TYPETAB_IFACE: case TYPETAB_EFACE: {
        uint64_t tw = hs_load_le(p, ps), data = hs_load_le(p + ps, ps);
        l->ptr = data;
        if (!tw) {
            snprintf(s, cap, "nil");
            break;
        }
        /* an eface's first word is the type; an iface's is an itab, whose type is inside */
        const typetab_type *dyn = t->kind == TYPETAB_EFACE ? typetab_type_by_rtype(w->tt, tw) : NULL;
        snprintf(s, cap, "%s%s0x%" PRIx64, dyn ? dyn->name : "", dyn ? " " : "", data);
        break;
    }
    case TYPETAB_POINTER: case TYPETAB_UNSAFE_POINTER: case TYPETAB_MAP: case TYPETAB_CHAN:
    case TYPETAB_FUNC:
        l->ptr = hs_load_le(p, ps);
        snprintf(s, cap, l->ptr ? "0x%" PRIx64 : "nil", l->ptr);
        break;
    default: s[0] = '\0'; break;
    }
}

/* The next leaf, for the value of type t at `at` named expr (the caller checked room). */
static fields_leaf *new_leaf(walker *w, const char *expr, const typetab_type *t, uint64_t at)
{
    fields_leaf *l = &w->out[w->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->expr, sizeof l->expr, "%s", expr);
    l->type = t->name;
    l->offset = at;
    l->kind = t->kind;
    return l;
}

/* Walks the value of type id at offset `at` named expr. */
static void walk(walker *w, uint32_t id, uint64_t at, const char *expr, int depth)
{
    const typetab_type *t = typetab_type_get(w->tt, id);
    if (!t || w->n >= w->max || at >= w->len || depth > 32)
        return;
    char sub[160];
    if (t->kind == TYPETAB_STRUCT) {
        for (uint32_t i = 0; i < t->nfields; i++) {
            const typetab_field *f = typetab_field_get(w->tt, t->first_field + i);
            snprintf(sub, sizeof sub, "%s.%s", expr, f->name);
            walk(w, f->type, at + f->offset, sub, depth + 1);
        }
        return;
    }
    if (t->kind == TYPETAB_ARRAY) {
        const typetab_type *e = typetab_type_get(w->tt, t->elem);
        if (e && e->kind == TYPETAB_UINT8 && t->size <= w->len - at) { /* bytes: one leaf */
            fields_leaf *l = new_leaf(w, expr, t, at);
            size_t k = 0;
            for (uint64_t i = 0; i < t->len && i < 16 && k + 4 < sizeof l->value; i++)
                k += (size_t)snprintf(l->value + k, sizeof l->value - k, "%s%02x", i ? " " : "",
                                      w->bytes[at + i]);
            if (t->len > 16)
                snprintf(l->value + k, sizeof l->value - k, " ... (%" PRIu64 " bytes)", t->len);
            return;
        }
        for (uint64_t k = 0; e && e->size && k < t->len && k < FIELDS_ARRAY_SHOWN; k++) {
            snprintf(sub, sizeof sub, "%s[%" PRIu64 "]", expr, k);
            walk(w, t->elem, at + k * e->size, sub, depth + 1);
        }
        return;
    }
    if (t->size > w->len - at)
        return;
    decode(w, t, w->bytes + at, new_leaf(w, expr, t, at));
}

size_t fields_walk(const typetab *tt, uint32_t type, uint64_t count, const uint8_t *bytes,
                   size_t len, unsigned ptr_size, fields_leaf *out, size_t max)
{
    walker w = {.tt = tt, .bytes = bytes, .len = len, .ps = ptr_size, .out = out, .max = max};
    const typetab_type *t = typetab_type_get(tt, type);
    if (!t || !t->size)
        return 0;
    char expr[32] = "";
    for (uint64_t k = 0; k < count && k < FIELDS_ARRAY_SHOWN; k++) {
        if (count > 1)
            snprintf(expr, sizeof expr, "[%" PRIu64 "]", k);
        walk(&w, type, k * t->size, expr, 0);
    }
    return w.n;
}
