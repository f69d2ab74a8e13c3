/* placeexpr.c - Go expressions to heap places (placeexpr.h). */
#include "placeexpr.h"

#include <string.h>

#include "typetab.h"

/* The graph's edge field of program offset `at` in node: past a malloc header for objects,
 * from the symbol's start for globals (a typetab global may start before the symbol). */
static int64_t edge_field(const heap *h, uint32_t node, uint64_t at)
{
    if (node < h->nobj)
        return (int64_t)(at + h->obj_hdr[node]);
    const heap_aux *x = &h->aux[node - h->nobj];
    const typetab_global *gv = typetab_global_at(h->tt, x->addr);
    return (int64_t)at - (gv ? (int64_t)(x->addr - gv->addr) : 0);
}

uint32_t placeexpr_target(const heap *h, const placeexpr_place *p)
{
    int64_t f = edge_field(h, p->node, p->offset);
    const graph *g = h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    for (uint32_t e = off[p->node]; f >= 0 && e < off[p->node + 1]; e++)
        if (fld[e] == (uint32_t)f)
            return dst[e];
    return GRAPH_NONE;
}

/* Follows pointers from p until it is at a value that is not one. 0 on a nil pointer. */
static int deref(const heap *h, placeexpr_place *p)
{
    for (int depth = 0; depth < 16; depth++) {
        const typetab_type *t = typetab_type_get(h->tt, p->type);
        if (!t || t->kind != TYPETAB_POINTER)
            return 1;
        uint32_t to = placeexpr_target(h, p);
        if (to >= h->nobj)
            return 0;
        *p = (placeexpr_place){to, 0, t->elem};
    }
    return 0;
}

/* Moves p to its field `name` (len bytes), or to the promoted field of that name through
 * embedded structs and pointers (breadth first, as Go's shallowest depth wins). 0 when none. */
static int field(const heap *h, placeexpr_place *p, const char *name, size_t len, int depth)
{
    if (depth > 8 || !deref(h, p))
        return 0;
    const typetab_type *t = typetab_type_get(h->tt, p->type);
    if (!t || t->kind != TYPETAB_STRUCT)
        return 0;
    for (uint32_t i = 0; i < t->nfields; i++) {
        const typetab_field *f = typetab_field_get(h->tt, t->first_field + i);
        if (strlen(f->name) == len && !strncmp(f->name, name, len)) {
            *p = (placeexpr_place){p->node, p->offset + f->offset, f->type};
            return 1;
        }
    }
    for (uint32_t i = 0; i < t->nfields; i++) {
        const typetab_field *f = typetab_field_get(h->tt, t->first_field + i);
        placeexpr_place q = {p->node, p->offset + f->offset, f->type};
        if ((f->flags & TYPETAB_F_EMBEDDED) && field(h, &q, name, len, depth + 1)) {
            *p = q;
            return 1;
        }
    }
    return 0;
}

/* The global whose name is the longest prefix of expr ending at a '.' or its end; *len
 * receives that length. GRAPH_NONE when none. */
static uint32_t global_prefix(const heap *h, const char *expr, size_t *len)
{
    uint32_t best = GRAPH_NONE;
    *len = 0;
    for (uint32_t i = 0; i < h->naux; i++) {
        const heap_aux *x = &h->aux[i];
        if (x->kind != HEAP_NODE_GLOBAL || x->anonymous)
            continue;
        const char *n = strpool_get(&h->names, x->name);
        size_t k = strlen(n);
        if (k > *len && !strncmp(expr, n, k) && (expr[k] == '\0' || expr[k] == '.')) {
            best = h->nobj + i;
            *len = k;
        }
    }
    return best;
}

int placeexpr_resolve(const heap *h, const char *expr, placeexpr_place *out, hs_error *err)
{
    if (!h->tt)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                            "%s: naming a field needs DWARF types (a .hsd with a types section, "
                            "or --binary with DWARF)", expr);
    size_t k;
    uint32_t g = global_prefix(h, expr, &k);
    const typetab_global *gv = g != GRAPH_NONE ? typetab_global_at(h->tt, h->aux[g - h->nobj].addr)
                                               : NULL;
    if (!gv)
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "%s: no global of the program starts it", expr);
    placeexpr_place p = {g, h->aux[g - h->nobj].addr - gv->addr, gv->type};
    for (const char *s = expr + k; *s == '.';) {
        const char *name = s + 1, *end = strchr(name, '.');
        size_t len = end ? (size_t)(end - name) : strlen(name);
        if (!len || !field(h, &p, name, len, 0))
            return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                                "%s: no field %.*s at %.*s (or a nil pointer on the way)", expr,
                                (int)len, name, (int)(s - expr), expr);
        s = name + len;
    }
    *out = p;
    return HS_OK;
}
