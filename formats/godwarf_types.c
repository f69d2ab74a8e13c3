/* godwarf_types.c - types for the DWARF reader, and the typetab it builds. Go's linker writes
 * every type once into the runtime unit (cmd/link/internal/ld/dwarf.go, newtype); named
 * structs, pointers, slices, arrays, funcs and interfaces get a DW_TAG_typedef of the same
 * name that other DIEs refer to, which is folded into its target here. Maps, chans and
 * interfaces are typedefs with DW_AT_go_kind; a map's or chan's DW_AT_type points to the
 * runtime struct behind it, which the linker made up (synthesizemaptypes,
 * synthesizechantypes): that is typetab_type.hdr, and a map's bucket (Go 1.19-1.23) or group
 * (1.24+) is found from it through its fields (docs/go-binary.md, "DWARF"). */
#include "godwarf_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "hs_io.h"

#define UNRESOLVED (TYPETAB_NONE - 1) /* an alias whose target is not known yet */
#define MAX_ALIAS_CHAIN 32

int godwarf_type_die(gw *g, Dwarf_Die *die, int tag)
{
    gw_attrs a;
    int rc = godwarf_attrs(g, die, &a);
    if (rc < 0 || (rc = godwarf_room(g, &g->types, g->ntypes, &g->types_cap, 1,
                                     sizeof *g->types)) < 0)
        return rc;
    raw_type r = {dwarf_dieoffset(die), a.name, a.type, a.go_elem, a.go_key, a.byte_size,
                  0, a.go_rt, (uint32_t)g->nfields, 0, (uint16_t)tag, (int16_t)a.go_kind,
                  (int16_t)a.encoding, a.has_size, TYPETAB_NONE};
    if (tag == DW_TAG_structure_type || tag == DW_TAG_array_type) {
        Dwarf_Die c;
        int k = dwarf_child(die, &c);
        if (k < 0)
            return godwarf_fail(g, r.off, "its members");
        while (k == 0) {
            int ctag = dwarf_tag(&c);
            gw_attrs m;
            if ((ctag == DW_TAG_member || ctag == DW_TAG_subrange_type) &&
                (rc = godwarf_attrs(g, &c, &m)) < 0)
                return rc;
            if (ctag == DW_TAG_subrange_type && m.has_count) {
                r.count = m.count;
            } else if (ctag == DW_TAG_member && m.has_member_loc) {
                if ((rc = godwarf_room(g, &g->fields, g->nfields, &g->fields_cap, 1,
                                       sizeof *g->fields)) < 0)
                    return rc;
                g->fields[g->nfields++] = (raw_field){m.name, m.type, m.member_loc,
                                                      m.embedded ? TYPETAB_F_EMBEDDED : 0};
            }
            if ((k = dwarf_siblingof(&c, &c)) < 0)
                return godwarf_fail(g, dwarf_dieoffset(&c), "its next sibling");
        }
        r.nfields = (uint32_t)(g->nfields - r.first_field);
    }
    g->types[g->ntypes++] = r;
    return HS_OK;
}

static int off_cmp(const void *a, const void *b)
{
    const raw_type *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static raw_type *find(gw *g, Dwarf_Off off)
{
    size_t lo = 0, hi = g->ntypes;
    while (lo < hi && off) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->types[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return off && lo < g->ntypes && g->types[lo].off == off ? &g->types[lo] : NULL;
}

/* The typetab kind of a type DIE; 0 for a typedef that only names another type (an alias)
 * or a DIE that is no Go type. Go's DW_AT_go_kind decides when present; the types the
 * linker makes up have none, or 0, and take theirs from the tag. */
static int kind_of(const raw_type *r, int *alias)
{
    int k = r->go_kind;
    *alias = 0;
    switch (r->tag) {
    case DW_TAG_base_type:
        if (k >= TYPETAB_BOOL && k <= TYPETAB_COMPLEX128)
            return k;
        switch (r->encoding) {
        case DW_ATE_boolean: return TYPETAB_BOOL;
        case DW_ATE_float: return r->size == 4 ? TYPETAB_FLOAT32 : TYPETAB_FLOAT64;
        case DW_ATE_complex_float: return r->size == 8 ? TYPETAB_COMPLEX64 : TYPETAB_COMPLEX128;
        case DW_ATE_signed:
            return r->size == 1 ? TYPETAB_INT8 : r->size == 2 ? TYPETAB_INT16
                 : r->size == 4 ? TYPETAB_INT32 : TYPETAB_INT64;
        case DW_ATE_unsigned:
            return r->size == 1 ? TYPETAB_UINT8 : r->size == 2 ? TYPETAB_UINT16
                 : r->size == 4 ? TYPETAB_UINT32 : TYPETAB_UINT64;
        default: return 0;
        }
    case DW_TAG_pointer_type:
        return k == TYPETAB_UNSAFE_POINTER || !r->type ? TYPETAB_UNSAFE_POINTER
                                                       : TYPETAB_POINTER;
    case DW_TAG_structure_type:
        return k == TYPETAB_SLICE || k == TYPETAB_STRING ? k : TYPETAB_STRUCT;
    case DW_TAG_array_type:
        return TYPETAB_ARRAY;
    case DW_TAG_subroutine_type:
        return TYPETAB_FUNC;
    case DW_TAG_typedef:
        if (k == TYPETAB_CHAN || k == TYPETAB_IFACE || k == TYPETAB_MAP)
            return k;
        *alias = 1;
        return 0;
    default:
        return 0;
    }
}

/* Size a kind must have (0: its DWARF byte size), as typetab_finish checks it. */
static uint64_t kind_size(int kind, unsigned P)
{
    switch (kind) {
    case TYPETAB_BOOL: case TYPETAB_INT8: case TYPETAB_UINT8: return 1;
    case TYPETAB_INT16: case TYPETAB_UINT16: return 2;
    case TYPETAB_INT32: case TYPETAB_UINT32: case TYPETAB_FLOAT32: return 4;
    case TYPETAB_INT64: case TYPETAB_UINT64: case TYPETAB_FLOAT64: case TYPETAB_COMPLEX64:
        return 8;
    case TYPETAB_COMPLEX128: return 16;
    case TYPETAB_INT: case TYPETAB_UINT: case TYPETAB_UINTPTR: case TYPETAB_CHAN:
    case TYPETAB_FUNC: case TYPETAB_MAP: case TYPETAB_POINTER: case TYPETAB_UNSAFE_POINTER:
        return P;
    case TYPETAB_STRING: case TYPETAB_IFACE: case TYPETAB_EFACE: return 2ull * P;
    case TYPETAB_SLICE: return 3ull * P;
    default: return 0;
    }
}

/* Assigns ids: real types in DIE order, aliases the id of what they name (or none). */
static size_t assign_ids(gw *g, uint8_t *kinds)
{
    size_t n = 0;
    for (size_t i = 0; i < g->ntypes; i++) {
        int alias, k = kind_of(&g->types[i], &alias);
        kinds[i] = (uint8_t)k;
        g->types[i].id = k ? (uint32_t)n++ : alias ? UNRESOLVED : TYPETAB_NONE;
    }
    for (size_t i = 0; i < g->ntypes; i++) {
        raw_type *r = &g->types[i], *to = r;
        for (int hop = 0; to && to->id == UNRESOLVED && hop < MAX_ALIAS_CHAIN; hop++)
            to = find(g, to->type);
        r->id = to && to->id != UNRESOLVED ? to->id : TYPETAB_NONE;
    }
    return n;
}

static uint32_t ref(gw *g, Dwarf_Off off)
{
    const raw_type *r = find(g, off);
    return r ? r->id : TYPETAB_NONE;
}

typedef struct build {
    gw *g;
    typetab_type *tt; /* by id */
    typetab_field *tf;
    size_t ntt, ntf;
} build;

static uint32_t deref(const build *b, uint32_t id)
{
    return id != TYPETAB_NONE && b->tt[id].kind == TYPETAB_POINTER ? b->tt[id].elem
                                                                   : TYPETAB_NONE;
}

static uint32_t field_type(const build *b, uint32_t id, const char *name)
{
    if (id == TYPETAB_NONE)
        return TYPETAB_NONE;
    const typetab_type *ty = &b->tt[id];
    for (uint32_t j = 0; j < ty->nfields; j++)
        if (strcmp(b->tf[ty->first_field + j].name, name) == 0)
            return b->tf[ty->first_field + j].type;
    return TYPETAB_NONE;
}

/* The address of a runtime type from DW_AT_go_runtime_type: an offset from runtime.types
 * (cmd/link R_ADDROFF), except Go 1.19's builtin uintptr, whose value is the address itself
 * (DW_CLS_ADDRESS); 0 when it is neither inside [runtime.types, runtime.etypes). Offset 0 is
 * runtime.types itself, an 8-byte placeholder before the first type: no type. */
static uint64_t rtype_of(const gw *g, uint64_t v)
{
    if (!v || !g->types_base || g->types_end <= g->types_base)
        return 0;
    if (v < g->types_end - g->types_base)
        return g->types_base + v;
    return v >= g->types_base && v < g->types_end ? v : 0;
}

/* Whether a name is one the linker makes up for the runtime's side of a map or chan
 * (mkinternaltypename: "hash<K,V>", "[]key<K>"...), or a pointer to one. */
static int is_internal(const char *name)
{
    static const char *const made[] = {"hash<", "bucket<", "[]key<", "[]val<", "map<",
                                        "table<", "groupReference<", "hchan<", "waitq<",
                                        "sudog<"};
    while (*name == '*')
        name++;
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        if (strncmp(name, made[i], strlen(made[i])) == 0)
            return 1;
    return 0;
}

/* The first kept type (kinds[k] != 0) at k >= *i: sets *i to k and *r to its raw record and
 * returns its slot in the table; NULL past the last. Both passes walk the types with it. */
static typetab_type *next_kept(build *b, const uint8_t *kinds, size_t *i, const raw_type **r)
{
    for (; *i < b->g->ntypes; ++*i) {
        if (kinds[*i]) {
            *r = &b->g->types[*i];
            return &b->tt[(*r)->id];
        }
    }
    return NULL;
}

/* Pass 1: kind, name, size, runtime type and direct references of every type. */
static void fill_types(build *b, const uint8_t *kinds)
{
    gw *g = b->g;
    const raw_type *r;
    typetab_type *ty;
    for (size_t i = 0; (ty = next_kept(b, kinds, &i, &r)); i++) {
        memset(ty, 0, sizeof *ty);
        ty->name = r->name ? r->name : "";
        ty->kind = kinds[i];
        ty->flags = is_internal(ty->name) ? TYPETAB_T_INTERNAL : 0;
        ty->rtype = rtype_of(g, r->go_rt);
        uint64_t want = kind_size(ty->kind, g->ptr_size);
        ty->size = want ? want : r->size;
        ty->elem = ty->key = ty->hdr = ty->bucket = TYPETAB_NONE;
        switch (ty->kind) {
        case TYPETAB_POINTER: case TYPETAB_ARRAY:
            ty->elem = ref(g, r->type);
            ty->len = ty->kind == TYPETAB_ARRAY ? r->count : 0;
            break;
        case TYPETAB_SLICE: case TYPETAB_CHAN:
            ty->elem = ref(g, r->go_elem);
            break;
        case TYPETAB_MAP:
            ty->elem = ref(g, r->go_elem);
            ty->key = ref(g, r->go_key);
            break;
        default:
            break;
        }
    }
}

/* Pass 2: struct fields (those of a known type inside the struct), interface kinds, map and
 * chan headers, and arrays whose size does not add up made opaque. */
static void fill_links(build *b, const uint8_t *kinds)
{
    gw *g = b->g;
    const raw_type *r;
    typetab_type *ty;
    for (size_t i = 0; (ty = next_kept(b, kinds, &i, &r)); i++) {
        if (ty->kind == TYPETAB_STRUCT) {
            ty->first_field = (uint32_t)b->ntf;
            for (uint32_t j = 0; j < r->nfields; j++) {
                const raw_field *f = &g->fields[r->first_field + j];
                uint32_t ft = ref(g, f->type);
                if (ft == TYPETAB_NONE || b->tt[ft].size > ty->size ||
                    f->offset > ty->size - b->tt[ft].size)
                    continue;
                b->tf[b->ntf++] = (typetab_field){f->name ? f->name : "", f->offset, ft,
                                                  f->flags};
            }
            ty->nfields = (uint32_t)(b->ntf - ty->first_field);
        } else if (ty->kind == TYPETAB_IFACE) {
            uint32_t s = ref(g, r->type);
            if (s != TYPETAB_NONE && strcmp(b->tt[s].name, "runtime.eface") == 0)
                ty->kind = TYPETAB_EFACE;
        } else if (ty->kind == TYPETAB_MAP || ty->kind == TYPETAB_CHAN) {
            ty->hdr = deref(b, ref(g, r->type));
        } else if (ty->kind == TYPETAB_ARRAY) {
            uint64_t total = 0;
            int bad = ty->len && (ty->elem == TYPETAB_NONE ||
                                  hs_mul_ovf(ty->len, b->tt[ty->elem].size, &total) < 0);
            if (bad || total != ty->size) {
                ty->kind = TYPETAB_STRUCT; /* bytes without a known layout */
                ty->len = 0;
                ty->elem = TYPETAB_NONE;
                ty->first_field = ty->nfields = 0;
            }
        }
    }
}

/* The n-byte (n <= 8) little-endian value of the binary at a link address, or -1. */
static int file_read(const gw *g, uint64_t addr, unsigned n, uint64_t *v)
{
    for (size_t i = 0; i < g->nsegs; i++) {
        const gw_seg *s = &g->segs[i];
        if (addr >= s->addr && addr - s->addr < s->size && s->size - (addr - s->addr) >= n) {
            *v = hs_load_le(g->data + s->off + (addr - s->addr), n);
            return 0;
        }
    }
    return -1;
}

/* Whether the runtime descriptor of a pointer type says it is no GC pointer: a pointer
 * type's descriptor (Size_ = pointer size, Kind_ & 31 = Pointer) with PtrBytes 0. The
 * fields of internal/abi.Type, and of Go 1.19's runtime._type alike: Size_, PtrBytes (a
 * pointer size each), Hash (4 bytes), TFlag, Align_, FieldAlign_, Kind_ (1 byte each). */
static int descriptor_says_notinheap(const gw *g, uint64_t rtype)
{
    const unsigned P = g->ptr_size;
    uint64_t size, ptrbytes, kind;
    return file_read(g, rtype, P, &size) == 0 && size == P &&
           file_read(g, rtype + P, P, &ptrbytes) == 0 && ptrbytes == 0 &&
           file_read(g, rtype + 2ull * P + 7, 1, &kind) == 0 && (kind & 31) == TYPETAB_POINTER;
}

/* Types never in the heap (their pointers are no GC pointers): Go 1.20+'s
 * internal/runtime/sys.NotInHeap (runtime/internal/sys before 1.22) and every struct or array
 * that contains one (cmd/compile/internal/types, NotInHeap); Go 1.19's //go:notinheap types,
 * which DWARF does not show, by their pointer type's runtime descriptor. */
static void mark_notinheap(build *b)
{
    gw *g = b->g;
    for (size_t id = 0; id < b->ntt; id++) {
        typetab_type *ty = &b->tt[id];
        if (strcmp(ty->name, "internal/runtime/sys.NotInHeap") == 0 ||
            strcmp(ty->name, "runtime/internal/sys.NotInHeap") == 0)
            ty->flags |= TYPETAB_T_NOTINHEAP;
        if (ty->kind == TYPETAB_POINTER && ty->elem != TYPETAB_NONE && ty->rtype &&
            descriptor_says_notinheap(g, ty->rtype))
            b->tt[ty->elem].flags |= TYPETAB_T_NOTINHEAP;
    }
    int changed = 1;
    for (int pass = 0; changed && pass < 64; pass++) {
        changed = 0;
        for (size_t id = 0; id < b->ntt; id++) {
            typetab_type *ty = &b->tt[id];
            int nih = ty->kind == TYPETAB_ARRAY && ty->len && ty->elem != TYPETAB_NONE &&
                      b->tt[ty->elem].flags & TYPETAB_T_NOTINHEAP;
            for (uint32_t j = 0; ty->kind == TYPETAB_STRUCT && j < ty->nfields && !nih; j++)
                nih = b->tt[b->tf[ty->first_field + j].type].flags & TYPETAB_T_NOTINHEAP;
            if (nih && !(ty->flags & TYPETAB_T_NOTINHEAP)) {
                ty->flags |= TYPETAB_T_NOTINHEAP;
                changed = 1;
            }
        }
    }
}

/* Whether a value of a type holds a GC pointer (as typetab_mask.c counts them); depth bounds
 * the walk over a broken, cyclic containment. */
static int has_pointers(const build *b, uint32_t id, int depth)
{
    if (id == TYPETAB_NONE || depth > 64)
        return 0;
    const typetab_type *ty = &b->tt[id];
    switch (ty->kind) {
    case TYPETAB_POINTER:
        return ty->elem == TYPETAB_NONE || !(b->tt[ty->elem].flags & TYPETAB_T_NOTINHEAP);
    case TYPETAB_UNSAFE_POINTER: case TYPETAB_MAP: case TYPETAB_CHAN: case TYPETAB_FUNC:
    case TYPETAB_STRING: case TYPETAB_SLICE: case TYPETAB_IFACE: case TYPETAB_EFACE:
        return 1;
    case TYPETAB_ARRAY:
        return ty->len && has_pointers(b, ty->elem, depth + 1);
    case TYPETAB_STRUCT:
        for (uint32_t j = 0; j < ty->nfields; j++)
            if (has_pointers(b, b->tf[ty->first_field + j].type, depth + 1))
                return 1;
        return 0;
    default:
        return 0;
    }
}

/* The id of the type named uintptr, or TYPETAB_NONE. */
static uint32_t uintptr_type(const build *b)
{
    for (size_t id = 0; id < b->ntt; id++)
        if (b->tt[id].kind == TYPETAB_UINTPTR && strcmp(b->tt[id].name, "uintptr") == 0)
            return (uint32_t)id;
    return TYPETAB_NONE;
}

/* Pass 3: a map's bucket: bucket<K,V> from hash<K,V>.buckets (Go 1.19-1.23), or the group
 * from map<K,V>.dirPtr -> table<K,V>.groups -> groupReference<K,V>.data (1.24+). The linker
 * gives every bucket<K,V> an overflow pointer, but when neither keys nor values hold pointers
 * the compiler's bucket type has an overflow uintptr instead, so that buckets hold no
 * pointers (1.19 cmd/compile/internal/reflectdata/reflect.go, MapBucketType): bucket<K,V>
 * gets the compiler's layout. */
static void fill_buckets(build *b)
{
    uint32_t uptr = uintptr_type(b);
    for (size_t id = 0; id < b->ntt; id++) {
        typetab_type *ty = &b->tt[id];
        if (ty->kind != TYPETAB_MAP || ty->hdr == TYPETAB_NONE)
            continue;
        uint32_t bk = deref(b, field_type(b, ty->hdr, "buckets"));
        if (bk != TYPETAB_NONE && uptr != TYPETAB_NONE &&
            !has_pointers(b, field_type(b, bk, "keys"), 0) &&
            !has_pointers(b, field_type(b, bk, "values"), 0)) {
            const typetab_type *bt = &b->tt[bk];
            for (uint32_t j = 0; j < bt->nfields; j++) {
                typetab_field *f = &b->tf[bt->first_field + j];
                if (strcmp(f->name, "overflow") == 0 && b->tt[f->type].kind == TYPETAB_POINTER)
                    f->type = uptr; /* both have the pointer size */
            }
        }
        if (bk == TYPETAB_NONE) {
            uint32_t table = deref(b, deref(b, field_type(b, ty->hdr, "dirPtr")));
            uint32_t groups = field_type(b, table, "groups");
            bk = deref(b, field_type(b, groups, "data"));
        }
        ty->bucket = bk;
    }
}

static int func_cmp(const void *a, const void *b)
{
    const raw_func *x = a, *y = b;
    if (x->low != y->low)
        return x->low < y->low ? -1 : 1;
    return x->high < y->high ? -1 : x->high > y->high;
}

/* Globals and functions (in pc order, one of overlapping ones kept), their types resolved;
 * records of no known type are left out. */
static int add_globals_funcs(gw *g, const build *b, typetab *t)
{
    int rc = HS_OK;
    for (size_t i = 0; i < g->nglobals && rc == HS_OK; i++) {
        uint32_t ty = ref(g, g->globals[i].type);
        if (ty != TYPETAB_NONE)
            rc = typetab_add_global(t, g->globals[i].name, g->globals[i].addr, ty, g->err);
    }
    if (g->nfuncs > 1)
        qsort(g->funcs, g->nfuncs, sizeof *g->funcs, func_cmp);
    uint64_t end = 0;
    typetab_var *vs = NULL;
    size_t cap = 0;
    gw_closures *closures = NULL;
    if (rc == HS_OK)
        rc = godwarf_closures_open(g, &closures);
    for (size_t i = 0; i < g->nfuncs && rc == HS_OK; i++) {
        const raw_func *f = &g->funcs[i];
        if (i > 0 && f->low < end)
            continue;
        end = f->high;
        if ((rc = godwarf_room(g, &vs, 0, &cap, f->nvars, sizeof *vs)) < 0)
            break;
        size_t n = 0;
        for (size_t j = 0; j < f->nvars; j++) {
            raw_var *v = &g->vars[f->first_var + j];
            v->v.type = ref(g, v->type);
            if (v->v.type != TYPETAB_NONE && !v->declared)
                vs[n++] = v->v;
        }
        if ((rc = godwarf_closure_vars(g, closures, b->tt, b->ntt, f, &vs, &n, &cap)) == HS_OK)
            rc = typetab_add_func(t, f->name, f->low, f->high, vs, n, g->err);
    }
    godwarf_closures_free(closures);
    free(vs);
    return rc;
}

int godwarf_build(gw *g, typetab **out)
{
    typetab *t = NULL;
    uint8_t *kinds = NULL;
    build b = {g, NULL, NULL, 0, 0};
    int rc = HS_OK;
    for (size_t i = 1; i < g->ntypes; i++)
        if (g->types[i].off <= g->types[i - 1].off) {
            qsort(g->types, g->ntypes, sizeof *g->types, off_cmp);
            break;
        }
    if (!(t = typetab_new()) || !(kinds = malloc(g->ntypes + 1))) {
        rc = hs_error_set(g->err, HS_ERR_NOMEM, HS_NO_OFFSET, "DWARF: the type table");
        goto out;
    }
    b.ntt = assign_ids(g, kinds);
    b.tt = malloc((b.ntt + 1) * sizeof *b.tt);
    b.tf = malloc((g->nfields + 1) * sizeof *b.tf);
    if (!b.tt || !b.tf) {
        rc = hs_error_set(g->err, HS_ERR_NOMEM, HS_NO_OFFSET, "DWARF: the type table");
        goto out;
    }
    fill_types(&b, kinds);
    fill_links(&b, kinds);
    mark_notinheap(&b);
    fill_buckets(&b);
    typetab_info *in = typetab_info_mut(t);
    in->ptr_size = g->ptr_size;
    in->types_base = g->types_base;
    in->regabi = g->regabi;
    memcpy(in->go_version, g->go_version, sizeof in->go_version);
    for (size_t id = 0; id < b.ntt && rc == HS_OK; id++)
        rc = typetab_add_type(t, &b.tt[id], b.tf + b.tt[id].first_field, b.tt[id].nfields,
                              NULL, g->err);
    if (rc < 0 || (rc = add_globals_funcs(g, &b, t)) < 0)
        goto out;
    if ((rc = typetab_finish(t, g->err)) < 0) {
        hs_error_prefix(g->err, "DWARF: ");
        goto out;
    }
    *out = t;
    t = NULL;
out:
    free(kinds);
    free(b.tt);
    free(b.tf);
    typetab_free(t);
    return rc;
}
