/* typing.c - DWARF types carried over the heap graph (typing.h). */
#include "typing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotype.h"
#include "prefetch.h"
#include "u64map.h"
#include "vec.h"

/* What a pointer word points to, by the static type of the word. */
typedef struct pointee {
    uint32_t type;  /* typetab id of the target value, HEAP_NONE for string bytes */
    uint8_t backing; /* the target holds as many values as fit (a slice's array) */
    uint8_t bytes;   /* the target is a string's bytes */
} pointee;

typedef struct typer {
    heap *h;
    const typetab *tt;
    typing_stats *st;
    uint32_t *heap_of;  /* typetab id * 2 + backing -> heap type index, HEAP_NONE */
    uint32_t str_bytes; /* heap type index of "string bytes", HEAP_NONE until used */
    u64map fits;        /* (shape, type, backing, header) -> 1 fits, 2 does not */
    u64map walk;        /* (type, offset) -> encoded pointee, for struct walks */
    u64map renamed;     /* (type, instantiation named after) -> heap type (outer_fit) */
    u64map outer;       /* (shape, type, header) -> heap type or HEAP_NONE (outer_fit) */
    uint32_t *group_of; /* per type: a Go 1.24+ map header's group type, else TYPETAB_NONE */
    uint32_t *emb_at;   /* structs embedding type T first: emb[emb_at[T] .. emb_at[T + 1]) */
    uint32_t *emb;
    uint32_t *queue;    /* nodes typed, to carry their types on from */
    size_t ntypes;
    size_t nqueue, cap_queue;
    int nomem;
} typer;

/* Word `off` of a struct: the field that holds it, or NULL. Go lays fields out in
 * increasing offsets; zero-size fields hold nothing. */
const typetab_field *typing_field_at(const typetab *tt, const typetab_type *t, uint64_t off)
{
    for (uint32_t i = 0; i < t->nfields; i++) {
        const typetab_field *f = typetab_field_get(tt, t->first_field + i);
        const typetab_type *ft = typetab_type_get(tt, f->type);
        if (ft && off >= f->offset && off - f->offset < ft->size)
            return f;
    }
    return NULL;
}

/* sync/atomic.Pointer[T] keeps its T in an unsafe.Pointer beside a `_ [0]*T` field: the
 * pointee type of struct t's unsafe.Pointer, else TYPETAB_NONE. */
static uint32_t atomic_pointer_elem(const typetab *tt, const typetab_type *t)
{
    for (uint32_t i = 0; i < t->nfields; i++) {
        const typetab_type *a = typetab_type_get(tt, typetab_field_get(tt, t->first_field + i)->type);
        const typetab_type *e = a && a->kind == TYPETAB_ARRAY && a->len == 0
                                    ? typetab_type_get(tt, a->elem) : NULL;
        if (e && e->kind == TYPETAB_POINTER)
            return e->elem;
    }
    return TYPETAB_NONE;
}

/* The unsafe.Pointer fields whose targets are known: the pointee type of field f of struct t,
 * with *backing when the target holds an array of them, else TYPETAB_NONE.
 * sync/atomic.Pointer[T]'s holds a T; a channel's buffer holds its elements (hchan<T>.buf, a
 * separate object only when T has pointers: otherwise it lies inside the hchan itself, which
 * is typed already); a sync.Pool's per-P arrays hold poolLocals; sync.Map's entry (Go
 * 1.19-1.23) keeps its value's *interface{}. */
static uint32_t unsafe_pointee(const typetab *tt, const typetab_type *t, const typetab_field *f,
                               uint8_t *backing)
{
    const typetab_type *ft = typetab_type_get(tt, f->type), *target = NULL;
    if (!ft || ft->kind != TYPETAB_UNSAFE_POINTER)
        return TYPETAB_NONE;
    uint32_t atomic = atomic_pointer_elem(tt, t);
    if (atomic != TYPETAB_NONE)
        return atomic;
    size_t n = strlen(t->name);
    if (!strncmp(t->name, "hchan<", 6) && n > 7 && t->name[n - 1] == '>' &&
        !strcmp(f->name, "buf")) {
        char elem[512];
        if (n - 7 < sizeof elem) {
            memcpy(elem, t->name + 6, n - 7);
            elem[n - 7] = 0;
            target = typetab_type_by_name(tt, elem);
        }
        *backing = 1;
    } else if (!strcmp(t->name, "sync.Pool") &&
               (!strcmp(f->name, "local") || !strcmp(f->name, "victim"))) {
        target = typetab_type_by_name(tt, "sync.poolLocal");
        *backing = 1;
    } else if (!strcmp(t->name, "sync.entry") && !strcmp(f->name, "p")) {
        target = typetab_type_by_name(tt, "interface {}");
    }
    return target && target->size ? target->id : TYPETAB_NONE;
}

/* The target of the pointer word at `off` of a value of type id: 1 with *p, or 0 when that
 * word is no pointer whose target's type the word's type tells (interfaces, unsafe.Pointer,
 * funcs: their targets are typed by other evidence). */
static int pointee_of(const typetab *tt, uint32_t id, uint64_t off, pointee *p)
{
    *p = (pointee){.type = HEAP_NONE};
    for (int depth = 0; depth < 64; depth++) {
        const typetab_type *t = typetab_type_get(tt, id);
        if (!t)
            return 0;
        switch (t->kind) {
        case TYPETAB_STRUCT: {
            const typetab_field *f = typing_field_at(tt, t, off);
            if (!f)
                return 0;
            uint8_t backing = 0;
            uint32_t elem = unsafe_pointee(tt, t, f, &backing);
            if (elem != TYPETAB_NONE && off == f->offset) {
                p->type = elem;
                p->backing = backing;
                return 1;
            }
            id = f->type;
            off -= f->offset;
            continue;
        }
        case TYPETAB_ARRAY: {
            const typetab_type *e = typetab_type_get(tt, t->elem);
            if (!e || !e->size || off >= t->size)
                return 0;
            id = t->elem;
            off %= e->size;
            continue;
        }
        case TYPETAB_POINTER: p->type = t->elem; break;
        case TYPETAB_SLICE: p->type = t->elem, p->backing = 1; break;
        case TYPETAB_MAP:
        case TYPETAB_CHAN: p->type = t->hdr; break;
        case TYPETAB_STRING: p->bytes = 1; return off == 0;
        default: return 0;
        }
        return off == 0 && p->type != TYPETAB_NONE;
    }
    return 0;
}

/* pointee_of, remembered per (type, offset): objects of one type share their walks. */
static int pointee_cached(typer *ty, uint32_t id, uint64_t off, pointee *p)
{
    if (off > UINT32_MAX)
        return pointee_of(ty->tt, id, off, p);
    uint64_t key = (uint64_t)id << 32 | off;
    uint32_t v;
    if (u64map_get(&ty->walk, key, &v)) {
        *p = (pointee){.type = v >> 2, .backing = v & 1, .bytes = (v >> 1) & 1};
        if (v == UINT32_MAX)
            return 0;
        if (p->bytes)
            p->type = HEAP_NONE;
        return 1;
    }
    int ok = pointee_of(ty->tt, id, off, p) && (p->bytes || p->type < (1u << 29));
    v = !ok ? UINT32_MAX : (p->bytes ? 0 : p->type << 2) | (uint32_t)p->bytes << 1 | p->backing;
    if (u64map_put(&ty->walk, key, v) < 0)
        ty->nomem = 1;
    return ok;
}

/* pointee_of for a value DWARF does not describe, from the runtime's type descriptor at rtype
 * in the binary (a type only the runtime allocates, such as runtime.mPadded): the leaf at
 * `off`, and its target's type when DWARF knows that one. */
static int pointee_by_rtype(const typer *ty, uint64_t rtype, uint64_t off, pointee *p)
{
    const symtab *syms = ty->h->syms;
    uint64_t leaf, at;
    gotype g;
    *p = (pointee){.type = HEAP_NONE};
    if (!syms || gotype_leaf_at(syms, rtype, off, &leaf, &at) < 0 || at ||
        gotype_read(syms, leaf, &g, NULL) < 0)
        return 0;
    if (g.kind == GOTYPE_KIND_STRING)
        return p->bytes = 1;
    const typetab_type *t = g.kind == GOTYPE_KIND_PTR || g.kind == GOTYPE_KIND_SLICE
                                ? typetab_type_by_rtype(ty->tt, g.elem)
                            : g.kind == GOTYPE_KIND_MAP || g.kind == GOTYPE_KIND_CHAN
                                ? typetab_type_by_rtype(ty->tt, leaf) : NULL;
    if (!t)
        return 0;
    if (g.kind == GOTYPE_KIND_MAP || g.kind == GOTYPE_KIND_CHAN)
        p->type = t->hdr;
    else
        p->type = t->id, p->backing = g.kind == GOTYPE_KIND_SLICE;
    return p->type != TYPETAB_NONE;
}

/* Bytes the object holds for the program, and its pointer offsets as the program sees them
 * (slot offsets past the malloc header): the shape's kept ones. */
static const uint32_t *object_ptrs(const heap *h, uint32_t obj, size_t *n, int *complete)
{
    const heap_shape *s = &h->shapes[h->obj_shape[obj]];
    *n = s->nkept;
    *complete = s->nkept == s->nptrs;
    return h->shape_ptrs + s->kept_at;
}

/* A struct of the runtime's own (runtime.g, hchan<T>, hash<K,V>). */
static int runtime_struct(const typetab_type *t)
{
    return (t->flags & TYPETAB_T_INTERNAL) || !strncmp(t->name, "runtime.", 8) ||
           !strncmp(t->name, "internal/runtime/", 17);
}

static int fits_now(const heap *h, uint32_t obj, const typetab_type *t, int backing)
{
    const typetab *tt = h->tt;
    uint64_t bytes = heap_obj_bytes(h, obj), hdr = h->obj_hdr[obj], ps = h->ptr_size;
    if (!t->size || t->size > bytes)
        return 0;
    /* more than a size class's slack; the runtime allocates some of its structs with a longer
     * trailing array than DWARF declares (runtime.itabTableType's entries) */
    if (!backing && bytes > t->size + t->size / 4 + 16 && !runtime_struct(t))
        return 0;
    size_t n;
    int complete;
    const uint32_t *ptrs = object_ptrs(h, obj, &n, &complete);
    /* Every pointer word of the object is a pointer word of the type, repeated. */
    uint64_t first_words = 0; /* the object's pointer words inside the first value */
    for (size_t i = 0; i < n; i++) {
        if (ptrs[i] < hdr)
            return 0;
        uint64_t po = ptrs[i] - hdr;
        if (po % ps || !typetab_ptr_word(tt, t->id, (po % t->size) / ps))
            return 0;
        first_words += po < t->size;
    }
    /* The first value's pointer words are all there (where the shape kept them). The
     * runtime's own structs are exempt: pointers to its not-in-heap types (mspan, mcache)
     * are no pointers to the collector, and a channel of pointer-free elements is
     * allocated without any, which DWARF cannot tell. */
    if (runtime_struct(t))
        return 1;
    uint64_t want = 0, limit = t->ptr_words * ps;
    if (!complete && n && ptrs[n - 1] - hdr < limit)
        limit = ptrs[n - 1] - hdr + 1;
    for (uint64_t w = 0; w * ps < limit; w++)
        want += (uint64_t)typetab_ptr_word(tt, t->id, w);
    return want == first_words;
}

int typing_fits(const heap *h, uint32_t obj, uint32_t id, uint64_t count)
{
    const typetab_type *t = h->tt ? typetab_type_get(h->tt, id) : NULL;
    return t && obj < h->nobj && fits_now(h, obj, t, count > 1);
}

/* typing_fits, remembered per shape: objects of one shape get the same answer. */
static int fits(typer *ty, uint32_t obj, const typetab_type *t, int backing)
{
    const heap *h = ty->h;
    if (t->id >= (1u << 29))
        return fits_now(h, obj, t, backing);
    uint64_t key = (uint64_t)h->obj_shape[obj] << 32 | (uint64_t)t->id << 2 |
                   (uint64_t)backing << 1 | (h->obj_hdr[obj] != 0);
    uint32_t *v = u64map_upsert(&ty->fits, key, 0);
    if (!v) {
        ty->nomem = 1;
        return 0;
    }
    if (!*v)
        *v = fits_now(h, obj, t, backing) ? 1 : 2;
    return *v == 1;
}

/* A new heap type for DWARF type id under `name` (HEAP_NONE: a type DWARF lacks, string bytes). */
static uint32_t add_heap_type(typer *ty, uint32_t id, int backing, const char *name)
{
    const typetab_type *t = id != HEAP_NONE ? typetab_type_get(ty->tt, id) : NULL;
    heap *h = ty->h;
    heap_type ht = {.addr = t ? t->rtype : 0, .size = t ? t->size : 0, .ttype = id,
                    .name = strpool_intern(&h->names, name, strlen(name)),
                    .backing = (uint8_t)(backing != 0)};
    size_t len = h->ntypes;
    if (ht.name == HEAP_NONE || VEC_PUSH(h->types, len, h->cap_types, ht) < 0) {
        ty->nomem = 1;
        return HEAP_NONE;
    }
    return h->ntypes++;
}

/* The heap type for `backing ? "[]T backing" : T`, made on first use. */
static uint32_t heap_type_of(typer *ty, uint32_t id, int backing)
{
    uint32_t *slot = &ty->heap_of[(size_t)id * 2 + (backing != 0)];
    if (*slot != HEAP_NONE)
        return *slot;
    char name[512];
    snprintf(name, sizeof name, backing ? "[]%s backing" : "%s", typetab_type_get(ty->tt, id)->name);
    return *slot = add_heap_type(ty, id, backing, name);
}

/* The heap type for DWARF type id shown as `name`, made once per (id, the type `as` whose
 * type arguments the name has). */
static uint32_t heap_type_named(typer *ty, uint32_t id, uint32_t as, const char *name)
{
    uint32_t *slot = u64map_upsert(&ty->renamed, (uint64_t)id << 32 | as, HEAP_NONE);
    if (!slot) {
        ty->nomem = 1;
        return HEAP_NONE;
    }
    if (*slot == HEAP_NONE)
        *slot = add_heap_type(ty, id, 0, name);
    return *slot;
}

static uint32_t string_bytes_type(typer *ty)
{
    if (ty->str_bytes == HEAP_NONE)
        ty->str_bytes = add_heap_type(ty, HEAP_NONE, 0, "string bytes");
    return ty->str_bytes;
}

static void enqueue(typer *ty, uint32_t node)
{
    if (VEC_PUSH(ty->queue, ty->nqueue, ty->cap_queue, node) < 0)
        ty->nomem = 1;
}

/* The one struct embedding t first (or embedding the one struct that does) that fits the
 * object: NULL with *several set when more than one does. */
static const typetab_type *embedder_fit(typer *ty, uint32_t obj, const typetab_type *t,
                                        int *several)
{
    const typetab_type *found = NULL;
    *several = 0;
    for (int depth = 0; depth < 2 && t; depth++) {
        const typetab_type *next = NULL;
        uint32_t n = ty->emb_at[t->id + 1] - ty->emb_at[t->id];
        for (uint32_t i = ty->emb_at[t->id]; i < ty->emb_at[t->id + 1]; i++) {
            const typetab_type *o = typetab_type_get(ty->tt, ty->emb[i]);
            /* a generic's shape ("go.shape.struct { ... }") is the compiler's stand-in for
             * the instantiations sharing its layout, never a program's type */
            if (!strncmp(o->name, "go.shape.", 9))
                continue;
            if (fits(ty, obj, o, 0)) {
                if (found && found != o) {
                    *several = 1;
                    return NULL;
                }
                found = o;
            }
            next = n == 1 ? o : NULL; /* one level further only through a single embedder */
        }
        if (found)
            return found;
        t = next;
    }
    return NULL;
}

/* The type arguments of a generic type's name ("K,V" of "pkg.T[K,V]"), and their length. */
static const char *type_args(const char *name, size_t *len)
{
    const char *open = strchr(name, '['), *close = strrchr(name, ']');
    if (!open || !close || close < open)
        return NULL;
    *len = (size_t)(close - open - 1);
    return open + 1;
}

/* Whether a and b are instantiations of one generic type with one layout (its concrete and
 * its shape instantiation: "node[interface {},int]", "node[go.shape.interface {},go.shape.int]"). */
static int same_generic(const typetab_type *a, const typetab_type *b)
{
    size_t la, lb;
    const char *xa = type_args(a->name, &la), *xb = type_args(b->name, &lb);
    return xa && xb && a != b && a->kind == b->kind && a->size == b->size &&
           a->ptr_words == b->ptr_words && xa - a->name == xb - b->name &&
           !memcmp(a->name, b->name, (size_t)(xa - a->name));
}

/* A pointer to a struct T that the object does not fit may point to a struct embedding T
 * first (a header: a hash trie's node starts its indirect and entry nodes). DWARF may
 * describe that struct only for another instantiation of T's generic type (the shape one
 * that the compiled code uses): then the struct is named with T's type arguments. Returns the
 * heap type of the one struct that fits, or HEAP_NONE when none or several do. */
static uint32_t outer_fit_now(typer *ty, uint32_t obj, const typetab_type *t)
{
    int several;
    const typetab_type *o = embedder_fit(ty, obj, t, &several);
    if (o || several || !strchr(t->name, '['))
        return o ? heap_type_of(ty, o->id, 0) : HEAP_NONE;
    const typetab_type *found = NULL, *via = NULL;
    size_t n = typetab_type_count(ty->tt);
    for (uint32_t id = 0; id < n; id++) {
        const typetab_type *m = typetab_type_get(ty->tt, id);
        if (!same_generic(t, m))
            continue;
        if ((o = embedder_fit(ty, obj, m, &several)) == NULL) {
            if (several)
                return HEAP_NONE;
            continue;
        }
        if (found && found != o)
            return HEAP_NONE;
        found = o, via = m;
    }
    if (!found)
        return HEAP_NONE;
    /* found's name with via's type arguments replaced by t's */
    size_t lv = 0, lt = 0;
    const char *av = type_args(via->name, &lv), *at = type_args(t->name, &lt);
    const char *hit = strstr(found->name, "[");
    char name[512];
    if (hit && !strncmp(hit + 1, av, lv) && hit[1 + lv] == ']')
        snprintf(name, sizeof name, "%.*s[%.*s]%s", (int)(hit - found->name), found->name,
                 (int)lt, at, hit + 2 + lv);
    else
        snprintf(name, sizeof name, "%s", found->name);
    return heap_type_named(ty, found->id, t->id, name);
}

/* outer_fit_now, remembered per shape: its answer depends on the object's shape and header
 * only, and the search over a generic's instantiations scans every type. */
static uint32_t outer_fit(typer *ty, uint32_t obj, const typetab_type *t)
{
    const heap *h = ty->h;
    if (t->id >= (1u << 30))
        return outer_fit_now(ty, obj, t);
    uint64_t key = (uint64_t)h->obj_shape[obj] << 32 | (uint64_t)t->id << 1 | (h->obj_hdr[obj] != 0);
    uint32_t v;
    if (u64map_get(&ty->outer, key, &v))
        return v;
    v = outer_fit_now(ty, obj, t);
    if (u64map_put(&ty->outer, key, v) < 0)
        ty->nomem = 1;
    return v;
}

/* Indexes the structs whose first field is an embedded struct, by that struct (emb_at, emb). */
static int index_embedders(typer *ty, size_t ntypes)
{
    const typetab *tt = ty->tt;
    if (!(ty->emb_at = calloc(ntypes + 2, sizeof *ty->emb_at)))
        return HS_ERR_NOMEM;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t id = 0; id < ntypes; id++) {
            const typetab_type *s = typetab_type_get(tt, id);
            const typetab_field *f0 = s && s->kind == TYPETAB_STRUCT && s->nfields
                                          ? typetab_field_get(tt, s->first_field) : NULL;
            if (!f0 || f0->offset || !(f0->flags & TYPETAB_F_EMBEDDED) || f0->type >= ntypes)
                continue;
            if (pass == 0)
                ty->emb_at[f0->type + 2]++;
            else
                ty->emb[ty->emb_at[f0->type + 1]++] = id;
        }
        if (pass == 0) {
            for (size_t i = 2; i < ntypes + 2; i++)
                ty->emb_at[i] += ty->emb_at[i - 1];
            if (!(ty->emb = malloc(((size_t)ty->emb_at[ntypes + 1] + 1) * sizeof *ty->emb)))
                return HS_ERR_NOMEM;
        }
    }
    return HS_OK;
}

/* dst read as type alt (a map's group, or a table's array of groups): its heap type, or
 * HEAP_NONE when alt is TYPETAB_NONE or does not fit. */
static uint32_t alt_type(typer *ty, uint32_t dst, uint32_t alt)
{
    const typetab_type *a = typetab_type_get(ty->tt, alt);
    int backing = a && heap_obj_bytes(ty->h, dst) >= 2 * a->size;
    return a && fits(ty, dst, a, backing) ? heap_type_of(ty, alt, backing) : HEAP_NONE;
}

/* Gives node dst the type p by evidence src, if it has none yet and the type fits; else
 * the type alt (TYPETAB_NONE: none), a second reading of the same word. */
static void assign(typer *ty, uint32_t dst, const pointee *p, uint32_t alt, int src)
{
    heap *h = ty->h;
    if (dst >= h->nobj)
        return; /* globals are typed by DWARF, anonymous statics by static_parts */
    if (h->obj_type[dst] != HEAP_NONE || h->obj_func[dst] != HEAP_NONE)
        return;
    if (p->bytes) {
        if (h->shapes[h->obj_shape[dst]].nptrs == 0) {
            h->obj_type[dst] = string_bytes_type(ty);
            h->obj_tsrc[dst] = (uint8_t)src;
        }
        return;
    }
    const typetab_type *t = typetab_type_get(ty->tt, p->type);
    if (!t)
        return;
    /* A swiss map's dirPtr names a directory of tables, or its one group while the map is
     * small; a group starts with its control word, never a pointer, and a directory with one:
     * without a pointer at 0 the group reading goes first (a directory's all-pointer mask
     * would fit a group's objects too). */
    const heap_shape *sh = &h->shapes[h->obj_shape[dst]];
    int alt_first = alt != TYPETAB_NONE &&
                    (!sh->nptrs || h->shape_ptrs[sh->kept_at] != h->obj_hdr[dst]);
    uint32_t hti = alt_first ? alt_type(ty, dst, alt) : HEAP_NONE;
    if (hti == HEAP_NONE) {
        /* A pointer to one of the runtime's own structs may name the first of an array of
         * them (a map's buckets). */
        int backing = p->backing || ((t->flags & TYPETAB_T_INTERNAL) && t->size &&
                                     heap_obj_bytes(h, dst) >= 2 * t->size);
        hti = fits(ty, dst, t, backing) ? heap_type_of(ty, p->type, backing)
              : backing                 ? HEAP_NONE
                                        : outer_fit(ty, dst, t);
    }
    if (hti == HEAP_NONE && !alt_first)
        hti = alt_type(ty, dst, alt);
    if (hti == HEAP_NONE) {
        ty->st->refused++;
        return;
    }
    h->obj_type[dst] = hti;
    h->obj_tsrc[dst] = (uint8_t)src;
    enqueue(ty, dst);
}

/* The variable of frame f (at its pc) whose stack slot holds byte `at` (from sp), with *start
 * where the variable would begin (from sp; for a piece in a slot, where the slot is minus the
 * piece's offset: `at - *start` is then the offset inside the variable); NULL when none. */
const typetab_var *typing_frame_var(const typetab *tt, const heap_aux *f, uint64_t at,
                                    uint64_t *start)
{
    const typetab_func *fn = typetab_func_at(tt, f->pc);
    if (!fn && f->depth)
        fn = typetab_func_at(tt, f->pc - 1);
    if (!fn)
        return NULL;
    size_t n;
    const typetab_var *v = typetab_func_vars(tt, fn, &n);
    /* a caller is at its return address: its call instruction is the byte before */
    uint64_t pc = f->depth && f->pc > fn->low ? f->pc - 1 : f->pc;
    for (size_t i = 0; i < n; i++) {
        const typetab_type *t = typetab_type_get(tt, v[i].type);
        int64_t s = (int64_t)f->size + v[i].cfa_off; /* the CFA is the frame's end */
        uint64_t len = v[i].flags & TYPETAB_V_PIECE ? v[i].piece_len : t ? t->size : 0;
        if (!(v[i].flags & TYPETAB_V_SLOT) || !t || pc < v[i].lo || pc >= v[i].hi || s < 0 ||
            at < (uint64_t)s || at - (uint64_t)s >= len)
            continue;
        *start = (uint64_t)s - (v[i].flags & TYPETAB_V_PIECE ? v[i].piece_off : 0);
        return &v[i];
    }
    return NULL;
}

/* The captured variable of closure object obj holding program offset `at`, or NULL. */
const typetab_var *typing_closure_var(const heap *h, uint32_t obj, uint64_t at)
{
    const symtab_sym *fs = h->syms && h->obj_func[obj] != HEAP_NONE
                               ? symtab_get(h->syms, SYMTAB_FUNC, h->obj_func[obj]) : NULL;
    const typetab_func *fn = fs ? typetab_func_at(h->tt, fs->addr) : NULL;
    if (!fn)
        return NULL;
    size_t n;
    const typetab_var *v = typetab_func_vars(h->tt, fn, &n);
    for (size_t i = 0; i < n; i++) {
        const typetab_type *t = typetab_type_get(h->tt, v[i].type);
        if (v[i].closure_off && t && at >= v[i].closure_off && at - v[i].closure_off < t->size)
            return &v[i];
    }
    return NULL;
}

uint32_t typing_method_receiver(const heap *h, uint32_t obj)
{
    const typetab *tt = h->tt;
    const char *fn = heap_closure_name(h, obj);
    size_t n = fn ? strlen(fn) : 0;
    const char *open = n > 3 && !strcmp(fn + n - 3, "-fm") ? strstr(fn, ".(*") : NULL;
    const char *close = open ? strchr(open, ')') : NULL;
    char name[256];
    if (!close || (size_t)(close - fn) + 2 > sizeof name)
        return TYPETAB_NONE;
    int k = snprintf(name, sizeof name, "*%.*s.%.*s", (int)(open - fn), fn,
                     (int)(close - open - 3), open + 3);
    const typetab_type *t = k > 0 && (size_t)k < sizeof name ? typetab_type_by_name(tt, name) : NULL;
    return t ? t->id : TYPETAB_NONE;
}

/* Carries the types of node v to its targets. */
static void carry(typer *ty, uint32_t v)
{
    heap *h = ty->h;
    const graph *g = h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    const heap_aux *x = v >= h->nobj ? &h->aux[v - h->nobj] : NULL;
    uint32_t type = HEAP_NONE;
    uint64_t elem = 0, span = UINT64_MAX;
    int64_t delta = 0; /* edge field + delta = offset in the value */
    int src = !x ? HEAP_TSRC_FIELD : x->kind == HEAP_NODE_FRAME ? HEAP_TSRC_FRAME : HEAP_TSRC_GLOBAL;
    uint64_t rtype = 0; /* a runtime type DWARF does not describe */
    if (!x) {
        delta = -(int64_t)h->obj_hdr[v];
        if (h->obj_type[v] != HEAP_NONE) {
            const heap_type *ht = &h->types[h->obj_type[v]];
            const typetab_type *t = typetab_type_get(ty->tt, ht->ttype);
            if (!t && ht->addr && ht->size) {
                rtype = ht->addr;
                elem = ht->size;
                span = heap_obj_bytes(h, v) / ht->size * ht->size;
            } else if (!t || !t->size) {
                return;
            } else {
                type = ht->ttype;
                elem = t->size;
                span = ht->backing ? heap_obj_bytes(h, v) / t->size * t->size : t->size;
            }
        }
    } else if (x->kind == HEAP_NODE_GLOBAL && !x->anonymous) {
        const typetab_global *gv = typetab_global_at(ty->tt, x->addr);
        if (!gv)
            return;
        type = gv->type;
        delta = (int64_t)(x->addr - gv->addr); /* edges are offsets from the symbol */
    }
    for (uint32_t e = off[v]; e < off[v + 1] && !ty->nomem; e++) {
        if ((int64_t)fld[e] + delta < 0)
            continue;
        uint64_t at = (uint64_t)((int64_t)fld[e] + delta), start;
        pointee p;
        int ok = 0;
        if (x && x->kind == HEAP_NODE_FRAME) {
            const typetab_var *fv = typing_frame_var(ty->tt, x, at, &start);
            ok = fv && pointee_cached(ty, fv->type, at - start, &p);
            /* optimized code splits a slice or string into "s.ptr", "s.len", ...: the
             * pointer word of one is a backing array's, not a single element's */
            size_t nl = ok ? strlen(fv->name) : 0;
            if (nl > 4 && !strcmp(fv->name + nl - 4, ".ptr"))
                p.backing = 1;
        } else if (x && x->anonymous) {
            uint32_t part = typing_static_part(h, v, at, &start);
            ok = part != HEAP_NONE && pointee_cached(ty, part, at - start, &p);
        } else if (rtype) {
            ok = at < span && pointee_by_rtype(ty, rtype, at % elem, &p);
        } else if (type == HEAP_NONE) { /* an untyped closure: its captured variables */
            const typetab_var *cv = typing_closure_var(h, v, at);
            uint32_t recv = !cv && at == h->ptr_size ? typing_method_receiver(h, v)
                                                     : TYPETAB_NONE;
            ok = cv ? pointee_cached(ty, cv->type, at - cv->closure_off, &p)
                    : recv != TYPETAB_NONE && pointee_cached(ty, recv, 0, &p);
        } else if (at < span) {
            ok = pointee_cached(ty, type, elem ? at % elem : at, &p);
        }
        /* a Go 1.24+ map's dirPtr names its one group while the map is small */
        if (ok)
            assign(ty, dst[e], &p, type < ty->ntypes ? ty->group_of[type] : TYPETAB_NONE, src);
    }
}

/* The queue is carried in its order, not the nodes' (address order), so nearly every read of
 * a queued node and of its targets misses the cache: prefetched in stages as in paths_bfs, 16
 * nodes ahead their offsets and type words, 8 their edges, 4 their first targets' words. */
PREFETCH_FN prefetch_ahead(const typer *ty, size_t i)
{
    const heap *h = ty->h;
    const uint32_t *q = ty->queue, *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g);
    if (i + 16 < ty->nqueue && q[i + 16] < h->nobj) {
        __builtin_prefetch(&off[q[i + 16]]);
        __builtin_prefetch(&h->obj_type[q[i + 16]]);
        __builtin_prefetch(&h->obj_hdr[q[i + 16]]);
    }
    if (i + 8 < ty->nqueue) {
        __builtin_prefetch(&dst[off[q[i + 8]]]);
        __builtin_prefetch(&graph_out_field(h->g)[off[q[i + 8]]]);
    }
    uint32_t u = i + 4 < ty->nqueue ? q[i + 4] : 0, end = i + 4 < ty->nqueue ? off[u + 1] : 0;
    for (uint32_t e = off[u], k = 0; e < end && k < 8; e++, k++)
        if (dst[e] < h->nobj) {
            __builtin_prefetch(&h->obj_type[dst[e]]);
            __builtin_prefetch(&h->obj_func[dst[e]]);
            __builtin_prefetch(&h->obj_shape[dst[e]]);
        }
}

/* The parts of anonymous statics that named globals point to, typed by those pointers
 * (`var audit = &auditLog{}`: the static is an auditLog), into h->static_types; each such
 * static is queued once. */
static int static_parts(typer *ty)
{
    heap *h = ty->h;
    size_t cap = 0;
    for (uint32_t i = 0; i < h->nstatic_ptrs; i++) {
        const heap_static_ptr *sp = &h->static_ptrs[i];
        const heap_aux *from = &h->aux[sp->from - h->nobj], *to = &h->aux[sp->to - h->nobj];
        const typetab_global *gv = typetab_global_at(ty->tt, from->addr);
        uint32_t f = graph_edge_field(h->g, sp->from, sp->to);
        pointee p;
        if (!gv || f == GRAPH_NONE || sp->value < to->addr ||
            !pointee_of(ty->tt, gv->type, from->addr - gv->addr + f, &p) || p.bytes || p.backing)
            continue;
        heap_static_type st = {sp->to, p.type, sp->value - to->addr};
        int seen = 0;
        for (size_t k = 0; k < h->nstatic_types; k++)
            seen |= h->static_types[k].node == st.node;
        if (VEC_PUSH(h->static_types, h->nstatic_types, cap, st) < 0)
            return HS_ERR_NOMEM;
        if (!seen)
            enqueue(ty, sp->to);
    }
    return ty->nomem ? HS_ERR_NOMEM : HS_OK;
}

/* Checks the runtime's evidence against the table: a type that fits keeps its object (named
 * from DWARF, a malloc header's element type as the backing array it heads); one that does
 * not is dropped. */
static void check_runtime_types(typer *ty)
{
    heap *h = ty->h;
    for (uint32_t v = 0; v < h->nobj && !ty->nomem; v++) {
        uint32_t ti = h->obj_type[v];
        if (ti == HEAP_NONE || h->obj_tsrc[v] == HEAP_TSRC_LAYOUT)
            continue;
        const heap_type *ht = &h->types[ti];
        const typetab_type *t = ht->addr ? typetab_type_by_rtype(ty->tt, ht->addr) : NULL;
        if (!t) { /* a type only the runtime knows: carried through its descriptor */
            ty->st->untyped++;
            if (ht->addr && ht->size)
                enqueue(ty, v);
            continue;
        }
        /* an interface holding a chan or map points at its hchan or map header */
        if (h->obj_tsrc[v] == HEAP_TSRC_IFACE && (t->kind == TYPETAB_CHAN || t->kind == TYPETAB_MAP))
            t = typetab_type_get(ty->tt, t->hdr);
        if (!t) {
            h->obj_type[v] = HEAP_NONE;
            h->obj_tsrc[v] = HEAP_TSRC_NONE;
            continue;
        }
        int backing = h->obj_tsrc[v] == HEAP_TSRC_HEADER && heap_obj_bytes(h, v) >= 2 * t->size;
        if (!fits(ty, v, t, backing)) {
            ty->st->refused++;
            h->obj_type[v] = HEAP_NONE;
            h->obj_tsrc[v] = HEAP_TSRC_NONE;
            continue;
        }
        h->obj_type[v] = heap_type_of(ty, t->id, backing);
        enqueue(ty, v);
    }
}

int typing_run(heap *h, const typetab *tt, typing_stats *st, hs_error *err)
{
    typer ty = {.h = h, .tt = tt, .st = st, .str_bytes = HEAP_NONE};
    size_t ntypes = typetab_type_count(tt);
    int rc = HS_OK;
    memset(st, 0, sizeof *st);
    h->tt = tt;
    if (!(ty.heap_of = malloc((ntypes * 2 + 1) * sizeof *ty.heap_of))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typing: %zu types", ntypes);
        goto out;
    }
    memset(ty.heap_of, 0xff, (ntypes * 2 + 1) * sizeof *ty.heap_of);
    ty.ntypes = ntypes;
    /* The queue takes each node about once: sized for that at once, it is never moved. */
    if (index_embedders(&ty, ntypes) < 0 ||
        !(ty.group_of = malloc((ntypes + 1) * sizeof *ty.group_of)) ||
        vec_reserve((void **)&ty.queue, &ty.cap_queue, h->nnodes, sizeof *ty.queue) < 0) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typing: %zu types", ntypes);
        goto out;
    }
    memset(ty.group_of, 0xff, (ntypes + 1) * sizeof *ty.group_of);
    for (uint32_t id = 0; id < ntypes; id++) {
        const typetab_type *m = typetab_type_get(tt, id);
        /* a swiss map's header is "map<K,V>" (Go 1.24+); older ones ("hash<K,V>") point to
         * arrays of buckets only */
        const typetab_type *hdr = m->kind == TYPETAB_MAP ? typetab_type_get(tt, m->hdr) : NULL;
        if (!hdr || m->bucket == TYPETAB_NONE || strncmp(hdr->name, "map<", 4))
            continue;
        ty.group_of[m->hdr] = m->bucket;
        /* and its tables' groups.data: an array of groups ("table<K,V>" of "map<K,V>") */
        char tname[512];
        snprintf(tname, sizeof tname, "table%s", hdr->name + 3);
        const typetab_type *tab = typetab_type_by_name(tt, tname);
        if (tab)
            ty.group_of[tab->id] = m->bucket;
    }
    /* Declared types first (globals, the statics they name, frames), so that they win over
     * carried ones. */
    for (uint32_t i = 0; i < h->naux; i++) {
        const heap_aux *x = &h->aux[i];
        if ((x->kind == HEAP_NODE_GLOBAL && !x->anonymous && typetab_global_at(tt, x->addr)) ||
            x->kind == HEAP_NODE_FRAME)
            enqueue(&ty, h->nobj + i);
    }
    if (static_parts(&ty) < 0) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typing: anonymous statics");
        goto out;
    }
    check_runtime_types(&ty);
    for (uint32_t v = 0; v < h->nobj && h->syms; v++)
        if (h->obj_func[v] != HEAP_NONE)
            enqueue(&ty, v);
    for (size_t i = 0; i < ty.nqueue && !ty.nomem; i++) {
        prefetch_ahead(&ty, i);
        carry(&ty, ty.queue[i]);
    }
    if (ty.nomem)
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "typing the heap");
out:
    free(ty.heap_of);
    free(ty.emb_at);
    free(ty.group_of);
    free(ty.emb);
    free(ty.queue);
    u64map_release(&ty.fits);
    u64map_release(&ty.walk);
    u64map_release(&ty.renamed);
    u64map_release(&ty.outer);
    return rc;
}

uint32_t typing_static_part(const heap *h, uint32_t node, uint64_t at, uint64_t *start)
{
    for (size_t i = 0; i < h->nstatic_types; i++) { /* few: one per pointer into a static */
        const heap_static_type *s = &h->static_types[i];
        const typetab_type *t = s->node == node ? typetab_type_get(h->tt, s->type) : NULL;
        if (t && at >= s->offset && at - s->offset < t->size) {
            *start = s->offset;
            return s->type;
        }
    }
    return HEAP_NONE;
}
