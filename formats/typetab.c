/* typetab.c - the type table: flat record arrays (types, fields, globals, functions,
 * variables) with one deduplicated name pool, the checks of typetab_finish, and the lookups
 * (by id, name, runtime type address, global address, pc). Pointer masks are in
 * typetab_mask.c, the TYPETAB encoding (formats/TYPETAB.md) in typetab_codec.c. */
#include "typetab_internal.h"

#include <stdlib.h>
#include <string.h>

typetab *typetab_new(void)
{
    typetab *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->info.ptr_size = 8;
    t->pool = malloc(4096);
    if (!t->pool) {
        free(t);
        return NULL;
    }
    t->pool[0] = '\0'; /* offset 0 is the empty name */
    t->pool_len = 1;
    t->pool_cap = 4096;
    return t;
}

void typetab_free(typetab *t)
{
    if (!t)
        return;
    free(t->pool);
    free(t->strhash);
    free(t->types);
    free(t->fields);
    free(t->globals);
    free(t->funcs);
    free(t->vars);
    for (int k = 0; k < NM_KINDS; k++)
        free(t->names[k]);
    free(t->masks);
    free(t->mask_at);
    free(t->by_name);
    free(t->by_rtype);
    free(t);
}

const typetab_info *typetab_get_info(const typetab *t)
{
    return &t->info;
}

typetab_info *typetab_info_mut(typetab *t)
{
    return &t->info;
}

int typetab_set_pool(typetab *t, const char *pool, size_t len, hs_error *err)
{
    if (len == 0 || len > UINT32_MAX || pool[len - 1] != '\0')
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: name pool of %zu "
                            "bytes does not end with a NUL", len);
    char *p = malloc(len);
    if (!p)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: name pool");
    memcpy(p, pool, len);
    free(t->pool);
    free(t->strhash);
    t->strhash = NULL;
    t->strhash_cap = t->strhash_n = 0;
    t->pool = p;
    t->pool_len = t->pool_cap = len;
    return HS_OK;
}

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int rehash(typetab *t)
{
    size_t cap = t->strhash_cap ? t->strhash_cap * 2 : 4096;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < t->strhash_cap; i++) {
        uint32_t v = t->strhash[i];
        if (!v)
            continue;
        const char *s = t->pool + v - 1;
        size_t j = hash_str(s, strlen(s)) & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = v;
    }
    free(t->strhash);
    t->strhash = h;
    t->strhash_cap = cap;
    return 0;
}

/* The pool offset of name (cut at a NUL), added once; -1 when out of memory or too long. */
static int64_t intern(typetab *t, const char *name, hs_error *err)
{
    if (!name || !*name)
        return 0;
    size_t n = strlen(name);
    if (n > TYPETAB_NAME_MAX)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "typetab: a name of %zu bytes "
                            "(more than %u)", n, TYPETAB_NAME_MAX);
    if (2 * (t->strhash_n + 1) > t->strhash_cap && rehash(t) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: names");
    size_t j = hash_str(name, n) & (t->strhash_cap - 1);
    for (; t->strhash[j]; j = (j + 1) & (t->strhash_cap - 1)) {
        const char *s = t->pool + t->strhash[j] - 1;
        if (strncmp(s, name, n) == 0 && s[n] == '\0')
            return t->strhash[j] - 1;
    }
    if (t->pool_len + n + 1 > UINT32_MAX - 1)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "typetab: names exceed 4 GiB");
    int fail = 0;
    t->pool = hs_grow(t->pool, &t->pool_cap, t->pool_len + n + 1, 1, 4096, &fail);
    if (fail)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: names");
    size_t off = t->pool_len;
    memcpy(t->pool + off, name, n + 1);
    t->pool_len += n + 1;
    t->strhash[j] = (uint32_t)off + 1;
    t->strhash_n++;
    return (int64_t)off;
}

/* Room for `more` names of kind k (parallel to the records of that kind). */
static int names_room(typetab *t, int k, size_t have, size_t more)
{
    int fail = 0;
    t->names[k] = hs_grow(t->names[k], &t->names_cap[k], have + more, sizeof(uint32_t), 64, &fail);
    return fail ? -1 : 0;
}

static int check_open(const typetab *t, const char *what, hs_error *err)
{
    if (!t)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "%s: no table", what);
    if (t->finished)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "%s after typetab_finish", what);
    return HS_OK;
}

int typetab_add_type_at(typetab *t, const typetab_type *ty, uint32_t name,
                        const typetab_field *fields, const uint32_t *field_names,
                        size_t nfields, uint32_t *id, hs_error *err)
{
    int rc = check_open(t, "typetab_add_type", err);
    if (rc < 0)
        return rc;
    if (!ty || (nfields && (!fields || !field_names)) || name >= t->pool_len)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_add_type: bad argument");
    if (ty->kind < 1 || ty->kind > TYPETAB_KIND_MAX)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: type %zu: kind %u",
                            t->ntypes, ty->kind);
    if (ty->flags & ~TYPETAB_T_ALL)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: type %zu: unknown "
                            "flags 0x%x", t->ntypes, ty->flags);
    if (nfields && ty->kind != TYPETAB_STRUCT)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: type %zu: fields on "
                            "a type of kind %u", t->ntypes, ty->kind);
    if (ty->kind != TYPETAB_ARRAY && ty->len)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: type %zu: a length "
                            "on a type of kind %u", t->ntypes, ty->kind);
    if (t->ntypes >= TYPETAB_NONE || nfields > UINT32_MAX - t->nfields)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "typetab: too many types");
    for (size_t i = 0; i < nfields; i++)
        if (fields[i].flags & ~TYPETAB_F_EMBEDDED || field_names[i] >= t->pool_len)
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: type %zu: field "
                                "%zu: unknown flags 0x%x or bad name", t->ntypes, i,
                                fields[i].flags);
    int fail = 0;
    t->types = hs_grow(t->types, &t->types_cap, t->ntypes + 1, sizeof *t->types, 256, &fail);
    t->fields = hs_grow(t->fields, &t->fields_cap, t->nfields + nfields,
                        sizeof *t->fields, 256, &fail);
    if (fail || names_room(t, NM_TYPE, t->ntypes, 1) < 0 ||
        names_room(t, NM_FIELD, t->nfields, nfields) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: types");
    typetab_type *n = &t->types[t->ntypes];
    *n = *ty;
    n->name = NULL;
    n->id = (uint32_t)t->ntypes;
    n->ptr_words = 0;
    n->first_field = (uint32_t)t->nfields;
    n->nfields = (uint32_t)nfields;
    t->names[NM_TYPE][t->ntypes++] = name;
    for (size_t i = 0; i < nfields; i++) {
        t->fields[t->nfields] = fields[i];
        t->fields[t->nfields].name = NULL;
        t->names[NM_FIELD][t->nfields++] = field_names[i];
    }
    if (id)
        *id = n->id;
    return HS_OK;
}

int typetab_add_type(typetab *t, const typetab_type *ty, const typetab_field *fields,
                     size_t nfields, uint32_t *id, hs_error *err)
{
    int rc = check_open(t, "typetab_add_type", err);
    if (rc < 0)
        return rc;
    if (!ty || (nfields && !fields))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_add_type: bad argument");
    uint32_t small[16], *fn = nfields <= 16 ? small : malloc(nfields * sizeof *fn);
    if (!fn)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: fields");
    int64_t name = intern(t, ty->name, err);
    rc = name < 0 ? (int)name : HS_OK;
    for (size_t i = 0; i < nfields && rc == HS_OK; i++) {
        int64_t o = intern(t, fields[i].name, err);
        if (o < 0)
            rc = (int)o;
        else
            fn[i] = (uint32_t)o;
    }
    if (rc == HS_OK)
        rc = typetab_add_type_at(t, ty, (uint32_t)name, fields, fn, nfields, id, err);
    if (fn != small)
        free(fn);
    return rc;
}

int typetab_add_global_at(typetab *t, uint32_t name, uint64_t addr, uint32_t type,
                          hs_error *err)
{
    int rc = check_open(t, "typetab_add_global", err);
    if (rc < 0)
        return rc;
    if (name >= t->pool_len)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_add_global: bad name");
    int fail = 0;
    t->globals = hs_grow(t->globals, &t->globals_cap, t->nglobals + 1,
                         sizeof *t->globals, 256, &fail);
    if (fail || names_room(t, NM_GLOBAL, t->nglobals, 1) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: globals");
    t->globals[t->nglobals] = (typetab_global){NULL, addr, type};
    t->names[NM_GLOBAL][t->nglobals++] = name;
    return HS_OK;
}

int typetab_add_global(typetab *t, const char *name, uint64_t addr, uint32_t type,
                       hs_error *err)
{
    int rc = check_open(t, "typetab_add_global", err);
    if (rc < 0)
        return rc;
    int64_t off = intern(t, name, err);
    if (off < 0)
        return (int)off;
    return typetab_add_global_at(t, (uint32_t)off, addr, type, err);
}

int typetab_add_func_at(typetab *t, uint32_t name, uint64_t low, uint64_t high,
                        const typetab_var *vars, const uint32_t *var_names, size_t nvars,
                        hs_error *err)
{
    int rc = check_open(t, "typetab_add_func", err);
    if (rc < 0)
        return rc;
    if ((nvars && (!vars || !var_names)) || name >= t->pool_len)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_add_func: bad argument");
    if (low > high)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: function at 0x%llx "
                            "ends before it starts (0x%llx)", (unsigned long long)low,
                            (unsigned long long)high);
    if (nvars > UINT32_MAX - t->nvars || t->nfuncs >= UINT32_MAX)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "typetab: too many variables");
    const uint32_t known = TYPETAB_V_PARAM | TYPETAB_V_RESULT | TYPETAB_V_INLINED |
                           TYPETAB_V_SLOT | TYPETAB_V_PIECE;
    for (size_t i = 0; i < nvars; i++) {
        const typetab_var *v = &vars[i];
        if (v->flags & ~known || var_names[i] >= t->pool_len)
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: function at "
                                "0x%llx: variable %zu: unknown flags 0x%x or bad name",
                                (unsigned long long)low, i, v->flags);
        if (v->lo > v->hi || v->lo < low || v->hi > high)
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: function "
                                "[0x%llx, 0x%llx): variable %zu at pcs [0x%llx, 0x%llx)",
                                (unsigned long long)low, (unsigned long long)high, i,
                                (unsigned long long)v->lo, (unsigned long long)v->hi);
        if ((v->flags & TYPETAB_V_PIECE) && (!(v->flags & TYPETAB_V_SLOT) || !v->piece_len))
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: function at "
                                "0x%llx: variable %zu: a piece of no stack slot, or of no "
                                "bytes", (unsigned long long)low, i);
        if (!(v->flags & TYPETAB_V_SLOT) && (v->cfa_off || !v->closure_off))
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: function at "
                                "0x%llx: variable %zu has neither a stack slot nor a closure "
                                "offset", (unsigned long long)low, i);
    }
    int fail = 0;
    t->funcs = hs_grow(t->funcs, &t->funcs_cap, t->nfuncs + 1, sizeof *t->funcs, 256, &fail);
    t->vars = hs_grow(t->vars, &t->vars_cap, t->nvars + nvars, sizeof *t->vars, 256, &fail);
    if (fail || names_room(t, NM_FUNC, t->nfuncs, 1) < 0 ||
        names_room(t, NM_VAR, t->nvars, nvars) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: functions");
    t->funcs[t->nfuncs] = (typetab_func){NULL, low, high, (uint32_t)t->nvars, (uint32_t)nvars};
    t->names[NM_FUNC][t->nfuncs++] = name;
    for (size_t i = 0; i < nvars; i++) {
        t->vars[t->nvars] = vars[i];
        t->vars[t->nvars].name = NULL;
        t->names[NM_VAR][t->nvars++] = var_names[i];
    }
    return HS_OK;
}

int typetab_add_func(typetab *t, const char *name, uint64_t low, uint64_t high,
                     const typetab_var *vars, size_t nvars, hs_error *err)
{
    int rc = check_open(t, "typetab_add_func", err);
    if (rc < 0)
        return rc;
    if (nvars && !vars)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "typetab_add_func: bad argument");
    uint32_t small[16], *vn = nvars <= 16 ? small : malloc(nvars * sizeof *vn);
    if (!vn)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: variables");
    int64_t off = intern(t, name, err);
    rc = off < 0 ? (int)off : HS_OK;
    for (size_t i = 0; i < nvars && rc == HS_OK; i++) {
        int64_t o = intern(t, vars[i].name, err);
        if (o < 0)
            rc = (int)o;
        else
            vn[i] = (uint32_t)o;
    }
    if (rc == HS_OK)
        rc = typetab_add_func_at(t, (uint32_t)off, low, high, vars, vn, nvars, err);
    if (vn != small)
        free(vn);
    return rc;
}

static uint64_t at_of(const uint64_t *where, size_t i)
{
    return where ? where[i] : HS_NO_OFFSET;
}

/* Size in bytes a kind must have (0: any), for pointer size P. */
static uint64_t kind_size(unsigned kind, unsigned P)
{
    static const uint8_t fixed[TYPETAB_KIND_MAX + 1] = {
        [TYPETAB_BOOL] = 1, [TYPETAB_INT8] = 1, [TYPETAB_UINT8] = 1, [TYPETAB_INT16] = 2,
        [TYPETAB_UINT16] = 2, [TYPETAB_INT32] = 4, [TYPETAB_UINT32] = 4, [TYPETAB_FLOAT32] = 4,
        [TYPETAB_INT64] = 8, [TYPETAB_UINT64] = 8, [TYPETAB_FLOAT64] = 8,
        [TYPETAB_COMPLEX64] = 8, [TYPETAB_COMPLEX128] = 16};
    switch (kind) {
    case TYPETAB_INT: case TYPETAB_UINT: case TYPETAB_UINTPTR: case TYPETAB_CHAN:
    case TYPETAB_FUNC: case TYPETAB_MAP: case TYPETAB_POINTER: case TYPETAB_UNSAFE_POINTER:
        return P;
    case TYPETAB_STRING: case TYPETAB_IFACE: case TYPETAB_EFACE:
        return 2ull * P;
    case TYPETAB_SLICE:
        return 3ull * P;
    default:
        return kind <= TYPETAB_KIND_MAX ? fixed[kind] : 0;
    }
}

static int bad_ref(uint32_t ref, size_t n)
{
    return ref != TYPETAB_NONE && ref >= n;
}

/* References, kind sizes, arrays and fields of every type. */
static int check_types(const typetab *t, const typetab_where *w, hs_error *err)
{
    const unsigned P = t->info.ptr_size;
    const size_t n = t->ntypes;
    const uint64_t *at = w ? w->type : NULL;
    for (size_t i = 0; i < n; i++) {
        const typetab_type *ty = &t->types[i];
        if (bad_ref(ty->elem, n) || bad_ref(ty->key, n) || bad_ref(ty->hdr, n) ||
            bad_ref(ty->bucket, n))
            return hs_error_set(err, HS_ERR_FORMAT, at_of(at, i), "typetab: type %zu (%s) "
                                "refers to a type past the last (%zu)", i, ty->name, n);
        uint64_t want = kind_size(ty->kind, P);
        if (want && ty->size != want)
            return hs_error_set(err, HS_ERR_FORMAT, at_of(at, i), "typetab: type %zu (%s) of "
                                "kind %u has %llu bytes, not %llu", i, ty->name, ty->kind,
                                (unsigned long long)ty->size, (unsigned long long)want);
        if (ty->kind == TYPETAB_ARRAY) {
            uint64_t total = 0;
            if (ty->len && ty->elem == TYPETAB_NONE)
                return hs_error_set(err, HS_ERR_FORMAT, at_of(at, i), "typetab: array type "
                                    "%zu (%s) has no element type", i, ty->name);
            if (ty->len && hs_mul_ovf(ty->len, t->types[ty->elem].size, &total) < 0)
                total = UINT64_MAX;
            if (total != ty->size)
                return hs_error_set(err, HS_ERR_FORMAT, at_of(at, i), "typetab: array type "
                                    "%zu (%s): %llu elements do not make %llu bytes", i,
                                    ty->name, (unsigned long long)ty->len,
                                    (unsigned long long)ty->size);
        }
        for (uint32_t j = 0; j < ty->nfields; j++) {
            const typetab_field *f = &t->fields[ty->first_field + j];
            uint64_t end;
            if (f->type >= n || hs_add_ovf(f->offset, t->types[f->type].size, &end) < 0 ||
                end > ty->size)
                return hs_error_set(err, HS_ERR_FORMAT, at_of(at, i), "typetab: struct type "
                                    "%zu (%s): field %u (%s) at %llu is past the end or of no "
                                    "type", i, ty->name, j, f->name,
                                    (unsigned long long)f->offset);
        }
    }
    return HS_OK;
}

/* Globals by address, then name and type: a total order, so that a decoded table sorts
 * as the encoded one did (names point into one pool). */
static int global_cmp(const void *a, const void *b)
{
    const typetab_global *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->name != y->name)
        return x->name < y->name ? -1 : 1;
    return x->type < y->type ? -1 : x->type > y->type;
}

/* Functions by low pc, then high pc, then input order, through an index so that errors can
 * name the input record. */
static int func_cmp(const void *a, const void *b, void *ctx)
{
    const typetab_func *f = ctx;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    const typetab_func *x = &f[i], *y = &f[j];
    if (x->low != y->low)
        return x->low < y->low ? -1 : 1;
    if (x->high != y->high)
        return x->high < y->high ? -1 : 1;
    return i < j ? -1 : i > j;
}

static int name_cmp(const void *a, const void *b, void *ctx)
{
    const typetab *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(t->types[x].name, t->types[y].name);
    return c ? c : x < y ? -1 : x > y;
}

static int rtype_cmp(const void *a, const void *b)
{
    const struct typetab_rt *x = a, *y = b;
    if (x->rtype != y->rtype)
        return x->rtype < y->rtype ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int check_globals_funcs(typetab *t, const typetab_where *w, hs_error *err)
{
    for (size_t i = 0; i < t->nglobals; i++) {
        const typetab_global *g = &t->globals[i];
        uint64_t end;
        if (g->type >= t->ntypes || hs_add_ovf(g->addr, t->types[g->type].size, &end) < 0)
            return hs_error_set(err, HS_ERR_FORMAT, at_of(w ? w->global : NULL, i),
                                "typetab: global %zu (%s) at 0x%llx: no such type or wraps",
                                i, g->name, (unsigned long long)g->addr);
    }
    for (size_t i = 0; i < t->nvars; i++)
        if (t->vars[i].type >= t->ntypes)
            return hs_error_set(err, HS_ERR_FORMAT, at_of(w ? w->var : NULL, i), "typetab: "
                                "variable %zu (%s) of no type", i, t->vars[i].name);
    if (t->nglobals > 1)
        qsort(t->globals, t->nglobals, sizeof *t->globals, global_cmp);
    if (t->nfuncs < 2)
        return HS_OK;
    uint32_t *order = malloc(t->nfuncs * sizeof *order);
    typetab_func *sorted = malloc(t->nfuncs * sizeof *sorted);
    int rc = HS_OK;
    if (!order || !sorted) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: sorting functions");
        goto out;
    }
    for (size_t i = 0; i < t->nfuncs; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, t->nfuncs, sizeof *order, func_cmp, t->funcs);
    for (size_t i = 0; i + 1 < t->nfuncs; i++) {
        const typetab_func *a = &t->funcs[order[i]], *b = &t->funcs[order[i + 1]];
        if (a->high > b->low) {
            rc = hs_error_set(err, HS_ERR_FORMAT, at_of(w ? w->func : NULL, order[i + 1]),
                              "typetab: function %s [0x%llx, 0x%llx) overlaps %s "
                              "[0x%llx, 0x%llx)", b->name, (unsigned long long)b->low,
                              (unsigned long long)b->high, a->name,
                              (unsigned long long)a->low, (unsigned long long)a->high);
            goto out;
        }
    }
    for (size_t i = 0; i < t->nfuncs; i++)
        sorted[i] = t->funcs[order[i]];
    memcpy(t->funcs, sorted, t->nfuncs * sizeof *sorted);
out:
    free(order);
    free(sorted);
    return rc;
}

static int build_indexes(typetab *t, hs_error *err)
{
    size_t nrt = 0;
    for (size_t i = 0; i < t->ntypes; i++)
        nrt += t->types[i].rtype != 0;
    t->by_name = malloc((t->ntypes ? t->ntypes : 1) * sizeof *t->by_name);
    t->by_rtype = malloc((nrt ? nrt : 1) * sizeof *t->by_rtype);
    if (!t->by_name || !t->by_rtype)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: indexes");
    for (size_t i = 0; i < t->ntypes; i++) {
        t->by_name[i] = (uint32_t)i;
        if (t->types[i].rtype)
            t->by_rtype[t->nby_rtype++] = (struct typetab_rt){t->types[i].rtype, (uint32_t)i};
    }
    if (t->ntypes > 1)
        qsort_r(t->by_name, t->ntypes, sizeof *t->by_name, name_cmp, t);
    if (t->nby_rtype > 1)
        qsort(t->by_rtype, t->nby_rtype, sizeof *t->by_rtype, rtype_cmp);
    return HS_OK;
}

int typetab_finish_at(typetab *t, const typetab_where *where, hs_error *err)
{
    int rc = check_open(t, "typetab_finish", err);
    if (rc < 0)
        return rc;
    if (t->info.ptr_size != 4 && t->info.ptr_size != 8)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "typetab: pointer size %u",
                            t->info.ptr_size);
    /* names point into the pool from now on; it does not move again */
    for (size_t i = 0; i < t->ntypes; i++)
        t->types[i].name = t->pool + t->names[NM_TYPE][i];
    for (size_t i = 0; i < t->nfields; i++)
        t->fields[i].name = t->pool + t->names[NM_FIELD][i];
    for (size_t i = 0; i < t->nglobals; i++)
        t->globals[i].name = t->pool + t->names[NM_GLOBAL][i];
    for (size_t i = 0; i < t->nfuncs; i++)
        t->funcs[i].name = t->pool + t->names[NM_FUNC][i];
    for (size_t i = 0; i < t->nvars; i++)
        t->vars[i].name = t->pool + t->names[NM_VAR][i];
    t->finished = 1; /* no more adds, whatever happens below */
    for (int k = 0; k < NM_KINDS; k++) {
        free(t->names[k]);
        t->names[k] = NULL;
    }
    free(t->strhash);
    t->strhash = NULL;
    if ((rc = check_types(t, where, err)) < 0 || (rc = typetab_masks(t, where, err)) < 0 ||
        (rc = check_globals_funcs(t, where, err)) < 0 || (rc = build_indexes(t, err)) < 0)
        t->finished = 2; /* failed: lookups answer nothing */
    return rc;
}

int typetab_finish(typetab *t, hs_error *err)
{
    return typetab_finish_at(t, NULL, err);
}

static int ready(const typetab *t)
{
    return t && t->finished == 1;
}

size_t typetab_type_count(const typetab *t)
{
    return ready(t) ? t->ntypes : 0;
}

const typetab_type *typetab_type_get(const typetab *t, uint32_t id)
{
    return ready(t) && id < t->ntypes ? &t->types[id] : NULL;
}

const typetab_field *typetab_field_get(const typetab *t, uint32_t index)
{
    return ready(t) && index < t->nfields ? &t->fields[index] : NULL;
}

const typetab_type *typetab_type_by_rtype(const typetab *t, uint64_t addr)
{
    if (!ready(t) || !addr)
        return NULL;
    size_t lo = 0, hi = t->nby_rtype;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->by_rtype[mid].rtype < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->nby_rtype && t->by_rtype[lo].rtype == addr
               ? &t->types[t->by_rtype[lo].id] : NULL;
}

const typetab_type *typetab_type_by_name(const typetab *t, const char *name)
{
    if (!ready(t) || !name)
        return NULL;
    size_t lo = 0, hi = t->ntypes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->types[t->by_name[mid]].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->ntypes && strcmp(t->types[t->by_name[lo]].name, name) == 0
               ? &t->types[t->by_name[lo]] : NULL;
}

size_t typetab_global_count(const typetab *t)
{
    return ready(t) ? t->nglobals : 0;
}

const typetab_global *typetab_global_get(const typetab *t, size_t i)
{
    return ready(t) && i < t->nglobals ? &t->globals[i] : NULL;
}

const typetab_global *typetab_global_at(const typetab *t, uint64_t addr)
{
    if (!ready(t))
        return NULL;
    size_t lo = 0, hi = t->nglobals; /* first global with addr > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->globals[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    uint64_t base = t->globals[lo - 1].addr; /* globals at one address: any that contains */
    for (size_t i = lo; i-- > 0 && t->globals[i].addr == base;) {
        const typetab_global *g = &t->globals[i];
        uint64_t size = t->types[g->type].size;
        if (addr - base < size || (size == 0 && addr == base))
            return g;
    }
    return NULL;
}

size_t typetab_func_count(const typetab *t)
{
    return ready(t) ? t->nfuncs : 0;
}

const typetab_func *typetab_func_get(const typetab *t, size_t i)
{
    return ready(t) && i < t->nfuncs ? &t->funcs[i] : NULL;
}

const typetab_func *typetab_func_at(const typetab *t, uint64_t pc)
{
    if (!ready(t))
        return NULL;
    size_t lo = 0, hi = t->nfuncs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->funcs[mid].low <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && pc < t->funcs[lo - 1].high ? &t->funcs[lo - 1] : NULL;
}

const typetab_var *typetab_func_vars(const typetab *t, const typetab_func *f, size_t *n)
{
    if (n)
        *n = 0;
    if (!ready(t) || !f || !f->nvars)
        return NULL;
    if (n)
        *n = f->nvars;
    return &t->vars[f->first_var];
}
