/* typetab_mask.c - pointer masks of the type table (formats/TYPETAB.md, "Pointer masks"):
 * typetab_masks checks that no struct or array contains itself and that every pointer lies on
 * a word boundary, computes ptr_words for every type in one post-order walk of the
 * containment graph, and keeps the masks of up to TYPETAB_MASK_MAX_WORDS words in one bit
 * pool; typetab_ptr_word answers for any type, kept mask or not. */
#include "typetab_internal.h"

#include <stdlib.h>
#include <string.h>

/* The pointer words of a type that is neither struct nor array, as bits (LSB = word 0), the
 * way Go's compiler marks them in its GC masks (cmd/compile/internal/typebits). */
static unsigned own_mask(const typetab *t, const typetab_type *ty)
{
    switch (ty->kind) {
    case TYPETAB_POINTER:
        /* a pointer to a type that is never in the heap is not followed by the GC */
        return ty->elem != TYPETAB_NONE && t->types[ty->elem].flags & TYPETAB_T_NOTINHEAP
                   ? 0 : 1;
    case TYPETAB_UNSAFE_POINTER: case TYPETAB_MAP: case TYPETAB_CHAN: case TYPETAB_FUNC:
    case TYPETAB_STRING: case TYPETAB_SLICE:
        return 1; /* the pointer; a string's data; a slice's array */
    case TYPETAB_IFACE: case TYPETAB_EFACE:
        return 2; /* the data word: the itab or type word points to no heap object */
    default:
        return 0;
    }
}

/* Words up to and including the last pointer word of own_mask. */
static uint64_t own_ptr_words(const typetab *t, const typetab_type *ty)
{
    unsigned m = own_mask(t, ty);
    return m == 2 ? 2 : m;
}

/* The n-th type a struct or array contains by value, or TYPETAB_NONE past the last. */
static uint32_t child(const typetab *t, const typetab_type *ty, uint32_t n)
{
    if (ty->kind == TYPETAB_ARRAY)
        return n == 0 && ty->len ? ty->elem : TYPETAB_NONE;
    if (ty->kind == TYPETAB_STRUCT && n < ty->nfields)
        return t->fields[ty->first_field + n].type;
    return TYPETAB_NONE;
}

static int has_more(const typetab_type *ty, uint32_t n)
{
    return ty->kind == TYPETAB_ARRAY ? n == 0 && ty->len : ty->kind == TYPETAB_STRUCT &&
                                                            n < ty->nfields;
}

/* ptr_words of one type whose contained types are done. */
static int type_ptr_words(typetab *t, uint32_t id, const typetab_where *w, hs_error *err)
{
    typetab_type *ty = &t->types[id];
    const unsigned P = t->info.ptr_size;
    uint64_t at = w && w->type ? w->type[id] : HS_NO_OFFSET;
    uint64_t pw = own_ptr_words(t, ty);
    if (ty->kind == TYPETAB_ARRAY && ty->len) {
        const typetab_type *e = &t->types[ty->elem];
        if (e->ptr_words) {
            if (e->size % P)
                return hs_error_set(err, HS_ERR_FORMAT, at, "typetab: array type %u (%s): "
                                    "elements with pointers every %llu bytes, not a multiple "
                                    "of %u", id, ty->name, (unsigned long long)e->size, P);
            pw = (ty->len - 1) * (e->size / P) + e->ptr_words;
        }
    } else if (ty->kind == TYPETAB_STRUCT) {
        for (uint32_t j = 0; j < ty->nfields; j++) {
            const typetab_field *f = &t->fields[ty->first_field + j];
            const typetab_type *ft = &t->types[f->type];
            if (!ft->ptr_words)
                continue;
            if (f->offset % P)
                return hs_error_set(err, HS_ERR_FORMAT, at, "typetab: struct type %u (%s): "
                                    "field %s holds pointers at offset %llu, off a word "
                                    "boundary", id, ty->name, f->name,
                                    (unsigned long long)f->offset);
            if (f->offset / P + ft->ptr_words > pw)
                pw = f->offset / P + ft->ptr_words;
        }
    }
    if (pw && ty->size % P)
        return hs_error_set(err, HS_ERR_FORMAT, at, "typetab: type %u (%s) holds pointers "
                            "but its %llu bytes are not whole words", id, ty->name,
                            (unsigned long long)ty->size);
    ty->ptr_words = pw;
    return HS_OK;
}

/* Post-order of the containment graph into order[] (every type once), failing on a cycle. */
static int post_order(typetab *t, uint32_t *order, const typetab_where *w, hs_error *err)
{
    const size_t n = t->ntypes;
    uint8_t *state = calloc(n ? n : 1, 1); /* 0 new, 1 on the stack, 2 done */
    struct frame { uint32_t id, next; } *stack = malloc((n ? n : 1) * sizeof *stack);
    size_t norder = 0;
    int rc = HS_OK;
    if (!state || !stack) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: pointer masks");
        goto out;
    }
    for (uint32_t root = 0; root < n; root++) {
        if (state[root])
            continue;
        size_t sp = 0;
        stack[sp++] = (struct frame){root, 0};
        state[root] = 1;
        while (sp) {
            struct frame *fr = &stack[sp - 1];
            const typetab_type *ty = &t->types[fr->id];
            if (has_more(ty, fr->next)) {
                uint32_t c = child(t, ty, fr->next++);
                if (state[c] == 1) {
                    rc = hs_error_set(err, HS_ERR_FORMAT, w && w->type ? w->type[c] :
                                      HS_NO_OFFSET, "typetab: type %u (%s) contains itself",
                                      c, t->types[c].name);
                    goto out;
                }
                if (state[c] == 0) {
                    state[c] = 1;
                    stack[sp++] = (struct frame){c, 0}; /* sp <= n: each type once */
                }
                continue;
            }
            if ((rc = type_ptr_words(t, fr->id, w, err)) < 0)
                goto out;
            state[fr->id] = 2;
            order[norder++] = fr->id;
            sp--;
        }
    }
out:
    free(state);
    free(stack);
    return rc;
}

static void or_bits(uint8_t *dst, uint64_t at, const uint8_t *src, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (src[i / 8] >> (i % 8) & 1)
            dst[(at + i) / 8] |= (uint8_t)(1u << ((at + i) % 8));
}

/* The mask of a kept type from its contained types' kept masks. */
static void fill_mask(typetab *t, uint32_t id)
{
    const typetab_type *ty = &t->types[id];
    const unsigned P = t->info.ptr_size;
    uint8_t *m = t->masks + t->mask_at[id] - 1;
    m[0] |= (uint8_t)own_mask(t, ty);
    if (ty->kind == TYPETAB_ARRAY) {
        const typetab_type *e = &t->types[ty->elem];
        const uint8_t *em = t->masks + t->mask_at[ty->elem] - 1;
        for (uint64_t k = 0; k < ty->len; k++)
            or_bits(m, k * (e->size / P), em, e->ptr_words);
    } else if (ty->kind == TYPETAB_STRUCT) {
        for (uint32_t j = 0; j < ty->nfields; j++) {
            const typetab_field *f = &t->fields[ty->first_field + j];
            const typetab_type *ft = &t->types[f->type];
            if (ft->ptr_words)
                or_bits(m, f->offset / P, t->masks + t->mask_at[f->type] - 1, ft->ptr_words);
        }
    }
}

int typetab_masks(typetab *t, const typetab_where *where, hs_error *err)
{
    const size_t n = t->ntypes;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    t->mask_at = calloc(n ? n : 1, sizeof *t->mask_at);
    int rc = HS_OK;
    if (!order || !t->mask_at) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: pointer masks");
        goto out;
    }
    if ((rc = post_order(t, order, where, err)) < 0)
        goto out;
    /* Keep masks in post-order until the pool would pass its limit, then none: a kept type's
     * contained types, which come before it and have no more words, are kept too. */
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const typetab_type *ty = &t->types[order[i]];
        if (!ty->ptr_words || ty->ptr_words > TYPETAB_MASK_MAX_WORDS)
            continue;
        size_t nb = (size_t)(ty->ptr_words + 7) / 8;
        if (len + nb > TYPETAB_MASK_POOL_MAX)
            break;
        t->mask_at[order[i]] = len + 1;
        len += nb;
    }
    if (!(t->masks = calloc(len ? len : 1, 1))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typetab: pointer masks");
        goto out;
    }
    t->masks_len = len;
    for (size_t i = 0; i < n; i++)
        if (t->mask_at[order[i]])
            fill_mask(t, order[i]);
out:
    free(order);
    return rc;
}

/* The type of an id of a finished table, or NULL. */
static const typetab_type *type_of(const typetab *t, uint32_t id)
{
    return t && t->finished == 1 && id < t->ntypes ? &t->types[id] : NULL;
}

const uint8_t *typetab_ptr_mask(const typetab *t, uint32_t id)
{
    const typetab_type *ty = type_of(t, id);
    return ty && t->mask_at[id] ? t->masks + t->mask_at[id] - 1 : NULL;
}

int typetab_ptr_word(const typetab *t, uint32_t id, uint64_t word)
{
    const typetab_type *ty = type_of(t, id);
    const unsigned P = ty ? t->info.ptr_size : 8;
    /* down the containment graph, which typetab_finish found acyclic */
    while (ty && word < ty->ptr_words) {
        if (t->mask_at[id])
            return t->masks[t->mask_at[id] - 1 + word / 8] >> (word % 8) & 1;
        if (ty->kind == TYPETAB_ARRAY) {
            id = ty->elem;
            ty = &t->types[id];
            word %= ty->size / P;
            continue;
        }
        if (ty->kind != TYPETAB_STRUCT)
            return word < 8 && (own_mask(t, ty) >> word & 1);
        const typetab_type *next = NULL;
        for (uint32_t j = 0; j < ty->nfields && !next; j++) {
            const typetab_field *f = &t->fields[ty->first_field + j];
            const typetab_type *ft = &t->types[f->type];
            if (ft->ptr_words && f->offset / P <= word && word - f->offset / P < ft->ptr_words) {
                next = ft;
                id = f->type;
                word -= f->offset / P;
            }
        }
        ty = next;
    }
    return 0;
}

int typetab_mask_fits(const typetab *t, uint32_t id, uint64_t count, const uint8_t *mask,
                      uint64_t nwords)
{
    const typetab_type *ty = type_of(t, id);
    uint64_t total;
    if (!ty || (!mask && nwords) || hs_mul_ovf(count, ty->size, &total) < 0)
        return 0;
    const unsigned P = t->info.ptr_size;
    if (nwords > UINT64_MAX / P || total > nwords * P)
        return 0;
    const uint8_t *kept = typetab_ptr_mask(t, id);
    uint64_t stride = ty->ptr_words ? ty->size / P : 0; /* whole words: finish checked */
    for (uint64_t w = 0; w < nwords; w++) {
        int want = 0;
        if (stride && w / stride < count) {
            uint64_t k = w % stride;
            want = k >= ty->ptr_words ? 0 : kept ? kept[k / 8] >> (k % 8) & 1
                                                 : typetab_ptr_word(t, id, k);
        }
        if ((mask[w / 8] >> (w % 8) & 1) != want)
            return 0;
    }
    return 1;
}
