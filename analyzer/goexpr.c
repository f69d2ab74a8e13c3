/* goexpr.c - Go expressions for places in the heap (goexpr.h). */
#include "goexpr.h"

#include <stdio.h>
#include <string.h>

#include "typing.h"

/* A variable's name followed by the expression of byte `at` inside it ("sessions[3].id"). */
static const char *var_expr(const typetab *tt, const typetab_var *v, uint64_t at, char *buf,
                            size_t cap)
{
    int n = snprintf(buf, cap, "%s", v->name);
    if (n < 0 || (size_t)n >= cap || !goexpr_field(tt, v->type, 1, at, buf + n, cap - (size_t)n))
        return n >= 0 && (size_t)n < cap ? buf : NULL;
    return buf;
}

/* goexpr_field, stopping at a value of type `stop` (NULL: descends to the word). */
static const char *field_expr(const typetab *tt, uint32_t id, uint64_t count, uint64_t offset,
                              const char *stop, char *buf, size_t cap)
{
    size_t len = 0;
    const typetab_type *t = typetab_type_get(tt, id);
    if (!t || !cap)
        return NULL;
    buf[0] = '\0';
    if (count > 1 && t->size) {
        len += (size_t)snprintf(buf + len, cap - len, "[%llu]",
                                (unsigned long long)(offset / t->size));
        offset %= t->size;
    }
    for (int depth = 0; depth < 64 && len < cap; depth++) {
        if (stop && !offset && t->name && !strcmp(t->name, stop))
            return buf;
        if (t->kind == TYPETAB_STRUCT) {
            const typetab_field *f = typing_field_at(tt, t, offset);
            if (!f)
                return NULL;
            len += (size_t)snprintf(buf + len, cap - len, ".%s", f->name);
            offset -= f->offset;
            t = typetab_type_get(tt, f->type);
        } else if (t->kind == TYPETAB_ARRAY) {
            const typetab_type *e = typetab_type_get(tt, t->elem);
            if (!e || !e->size)
                return NULL;
            len += (size_t)snprintf(buf + len, cap - len, "[%llu]",
                                    (unsigned long long)(offset / e->size));
            offset %= e->size;
            t = e;
        } else {
            return buf; /* a word of a scalar, pointer, string, slice or interface */
        }
        if (!t)
            return NULL;
    }
    return len < cap ? buf : NULL;
}

const char *goexpr_field(const typetab *tt, uint32_t id, uint64_t count, uint64_t offset,
                         char *buf, size_t cap)
{
    return field_expr(tt, id, count, offset, NULL, buf, cap);
}

/* goexpr_node_field, stopping at a value of type `stop` (NULL: descends to the word). */
static const char *node_expr(const heap *h, uint32_t node, uint64_t field, const char *stop,
                             char *buf, size_t cap)
{
    const typetab *tt = h->tt;
    if (!tt || node >= h->nnodes || !cap)
        return NULL;
    if (node < h->nobj) {
        if (field < h->obj_hdr[node])
            return NULL;
        field -= h->obj_hdr[node];
        if (h->obj_type[node] == HEAP_NONE) { /* a closure: the captured variable's name */
            const typetab_var *cv = typing_closure_var(h, node, field);
            if (!cv && field == h->ptr_size && typing_method_receiver(h, node) != TYPETAB_NONE) {
                snprintf(buf, cap, "receiver"); /* a method value's bound receiver */
                return buf;
            }
            return cv ? var_expr(tt, cv, field - cv->closure_off, buf, cap) : NULL;
        }
        const heap_type *ht = &h->types[h->obj_type[node]];
        const typetab_type *t = typetab_type_get(tt, ht->ttype);
        if (!t || !t->size)
            return NULL;
        /* a backing array's element is indexed even when it holds one */
        uint64_t count = ht->backing ? heap_obj_bytes(h, node) / t->size : 1;
        return field_expr(tt, t->id, ht->backing && count < 2 ? 2 : count, field, stop, buf, cap);
    }
    const heap_aux *x = &h->aux[node - h->nobj];
    if (x->kind == HEAP_NODE_FRAME) {
        uint64_t start;
        const typetab_var *fv = typing_frame_var(tt, x, field, &start);
        return fv ? var_expr(tt, fv, field - start, buf, cap) : NULL;
    }
    const typetab_global *gv = x->kind == HEAP_NODE_GLOBAL && !x->anonymous
                                   ? typetab_global_at(tt, x->addr) : NULL;
    if (gv)
        return field_expr(tt, gv->type, 1, x->addr - gv->addr + field, stop, buf, cap);
    uint64_t start;
    uint32_t part = typing_static_part(h, node, field, &start);
    return part != HEAP_NONE ? field_expr(tt, part, 1, field - start, stop, buf, cap) : NULL;
}

const char *goexpr_node_field(const heap *h, uint32_t node, uint64_t field, char *buf, size_t cap)
{
    return node_expr(h, node, field, NULL, buf, cap);
}

const char *goexpr_node_value(const heap *h, uint32_t node, uint64_t field, const char *type,
                              char *buf, size_t cap)
{
    return node_expr(h, node, field, type, buf, cap);
}
