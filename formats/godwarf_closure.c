/* godwarf_closure.c - closure contexts for the DWARF reader when DWARF gives no closure
 * offsets (Go before 1.23). A closure object is the compiler's struct
 * "struct { F uintptr; x *int; s string }": its code word (".F"; "F" in a method value's),
 * then the captured variables, each by value or, for one the closure assigns, as a pointer
 * (named "&x" in DWARF, of type *T). The binary keeps its descriptor, which neither the symbol
 * table nor the typelinks list: it is found by its name in the type area. The closure
 * function's DWARF lists the captured variables among its top-level variables, in registers
 * or in stack slots; a function gets the descriptor whose every captured field is one of
 * them by name and type, the one with the most fields, and none when two tie. */
#include "godwarf_internal.h"

#include <stdlib.h>
#include <string.h>

#include "gotype.h"
#include "hs_grow.h"

#define CLOSURE_PREFIX "struct { F uintptr; "
#define MAX_CAPTURED 64

typedef struct cdesc {
    uint32_t first, n; /* its captured fields: fields[first .. first + n) */
    const char *key;   /* the first one's name (not NUL-terminated), which they are sorted by */
    size_t key_len;
} cdesc;

struct gw_closures {
    symtab *area; /* the type area, for gotype */
    cdesc *descs;
    size_t ndescs, cap_descs;
    gotype_field *fields; /* names point into area */
    size_t nfields, cap_fields;
};

int godwarf_closure_name(const char *name)
{
    for (const char *p = name ? strstr(name, ".func") : NULL; p; p = strstr(p + 1, ".func"))
        if (p[5] >= '1' && p[5] <= '9')
            return 1;
    return 0;
}

/* gotype_structs_named's callback: keeps a closure struct's captured fields. */
static int add_desc(void *ctx, const gotype *d)
{
    gw_closures *c = ctx;
    uint64_t n = 0;
    gotype_field f;
    if (gotype_struct_field(c->area, d->addr, 0, &n, &f, NULL) < 0 || n < 2 ||
        n > MAX_CAPTURED + 1 || f.offset != 0 ||
        !((f.name_len == 1 && f.name[0] == 'F') || (f.name_len == 2 && !memcmp(f.name, ".F", 2))))
        return HS_OK;
    size_t first = c->nfields;
    for (uint64_t i = 1; i < n; i++) {
        if (gotype_struct_field(c->area, d->addr, i, &n, &f, NULL) < 0) {
            c->nfields = first;
            return HS_OK;
        }
        int fail = 0;
        c->fields = hs_grow(c->fields, &c->cap_fields, c->nfields + 1, sizeof *c->fields, 256,
                            &fail);
        if (fail)
            return HS_ERR_NOMEM;
        c->fields[c->nfields++] = f;
    }
    int fail = 0;
    c->descs = hs_grow(c->descs, &c->cap_descs, c->ndescs + 1, sizeof *c->descs, 64, &fail);
    if (fail)
        return HS_ERR_NOMEM;
    c->descs[c->ndescs++] = (cdesc){(uint32_t)first, (uint32_t)(c->nfields - first),
                                    c->fields[first].name, c->fields[first].name_len};
    return HS_OK;
}

/* Descriptor x's key against a name. */
static int key_cmp(const cdesc *x, const char *name, size_t len)
{
    int r = memcmp(x->key, name, x->key_len < len ? x->key_len : len);
    return r ? r : (x->key_len > len) - (x->key_len < len);
}

static int desc_cmp(const void *a, const void *b)
{
    const cdesc *y = b;
    return key_cmp(a, y->key, y->key_len);
}

/* A variable's name as a captured field has it (without the "&" of one captured by
 * reference). */
static const char *field_name(const raw_var *v)
{
    return v->v.name[0] == '&' ? v->v.name + 1 : v->v.name;
}

int godwarf_closures_open(gw *g, gw_closures **out)
{
    *out = NULL;
    int minor = symtab_go_minor(g->go_version);
    if (minor >= 23)
        return HS_OK; /* DWARF has the closure offsets */
    const gw_seg *seg = NULL;
    for (size_t i = 0; i < g->nsegs && g->types_base < g->types_end; i++)
        if (g->types_base >= g->segs[i].addr &&
            g->types_end - g->segs[i].addr <= g->segs[i].size)
            seg = &g->segs[i];
    if (!seg)
        return HS_OK;
    gw_closures *c = calloc(1, sizeof *c);
    int rc = c && (c->area = symtab_new()) ? HS_OK : HS_ERR_NOMEM;
    if (rc == HS_OK) {
        symtab_info *in = symtab_info_mut(c->area);
        in->ptr_size = g->ptr_size;
        memcpy(in->go_version, g->go_version, sizeof in->go_version);
        rc = symtab_set_types(c->area, g->types_base,
                              g->data + seg->off + (g->types_base - seg->addr),
                              (size_t)(g->types_end - g->types_base), g->err);
    }
    if (rc == HS_OK)
        rc = gotype_structs_named(c->area, CLOSURE_PREFIX, add_desc, c, g->err);
    if (rc < 0) {
        godwarf_closures_free(c);
        return hs_error_set(g->err, HS_ERR_NOMEM, HS_NO_OFFSET, "DWARF: closure contexts");
    }
    /* by their first captured field's name: a function looks up only those its variables
     * name */
    if (c->ndescs > 1)
        qsort(c->descs, c->ndescs, sizeof *c->descs, desc_cmp);
    *out = c;
    return HS_OK;
}

/* The types of the table being built, which variables' v.type index. */
typedef struct type_list {
    const typetab_type *types;
    size_t n;
} type_list;

/* Does variable v (its type resolved in t) match captured field f by name and type? */
static int var_matches(const gw_closures *c, const type_list *t, const raw_var *v,
                       const gotype_field *f)
{
    const char *name = field_name(v);
    if (strlen(name) != f->name_len || memcmp(name, f->name, f->name_len) != 0)
        return 0;
    if (v->v.type >= t->n)
        return 0;
    const typetab_type *ty = &t->types[v->v.type];
    if (ty->rtype)
        return ty->rtype == f->type;
    gotype d;
    return gotype_read(c->area, f->type, &d, NULL) == HS_OK && !strcmp(d.name, ty->name);
}

/* Can variable v be a captured one? Those are named top-level variables with a type, not
 * parameters (a closure's parameter shadows what it would capture). */
static int candidate(const raw_var *v)
{
    return v->top && v->v.name && !(v->v.flags & TYPETAB_V_PARAM) &&
           v->v.type != TYPETAB_NONE;
}

/* The top-level variable of f matching captured field fd, or NULL. */
static const raw_var *match_field(const gw *g, const gw_closures *c, const type_list *t,
                                  const raw_func *f, const gotype_field *fd)
{
    for (size_t i = 0; i < f->nvars; i++) {
        const raw_var *v = &g->vars[f->first_var + i];
        if (candidate(v) && var_matches(c, t, v, fd))
            return v;
    }
    return NULL;
}

int godwarf_closure_vars(gw *g, const gw_closures *c, const typetab_type *types, size_t ntypes,
                         const raw_func *f, typetab_var **out, size_t *nout, size_t *cap)
{
    const type_list tl = {types, ntypes}, *t = &tl;
    if (!c || !f->closure)
        return HS_OK;
    for (size_t i = 0; i < f->nvars; i++)
        if (g->vars[f->first_var + i].v.closure_off)
            return HS_OK; /* DWARF says where */
    const cdesc *best = NULL;
    int tie = 0;
    for (size_t i = 0; i < f->nvars; i++) {
        const raw_var *v = &g->vars[f->first_var + i];
        if (!candidate(v))
            continue;
        const char *name = field_name(v);
        size_t len = strlen(name), j = 0;
        while (j < i && (!candidate(&g->vars[f->first_var + j]) ||
                         strcmp(field_name(&g->vars[f->first_var + j]), name)))
            j++;
        if (j < i)
            continue; /* a name looked up already */
        /* the descriptors whose first captured field has this name */
        size_t lo = 0, hi = c->ndescs;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (key_cmp(&c->descs[mid], name, len) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < c->ndescs && !key_cmp(&c->descs[lo], name, len); lo++) {
            const cdesc *x = &c->descs[lo];
            uint32_t k = 0;
            while (k < x->n && match_field(g, c, t, f, &c->fields[x->first + k]))
                k++;
            if (k < x->n || (best && x->n < best->n))
                continue;
            tie = best && x->n == best->n;
            best = x;
        }
    }
    if (!best || tie)
        return HS_OK;
    int rc = godwarf_room(g, out, *nout, cap, best->n, sizeof **out);
    if (rc < 0)
        return rc;
    for (uint32_t k = 0; k < best->n; k++) {
        const gotype_field *fd = &c->fields[best->first + k];
        const raw_var *v = match_field(g, c, t, f, fd);
        (*out)[(*nout)++] = (typetab_var){.name = v->v.name, .lo = f->low, .hi = f->high,
                                          .closure_off = fd->offset, .type = v->v.type};
    }
    return HS_OK;
}

void godwarf_closures_free(gw_closures *c)
{
    if (!c)
        return;
    symtab_free(c->area);
    free(c->descs);
    free(c->fields);
    free(c);
}
