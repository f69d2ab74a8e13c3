/* heap_query.c - questions about a built heap model: names of kinds, steps and type sources,
 * the object or node at an address, weak referrers, type, site and closure names, labels
 * for people, and the contents of objects (one more pass over the dump).
 */
#include "heap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrindex.h"
#include "hs_search.h"
#include "vec.h"

const char *heap_root_kind_name(int kind)
{
    static const char *names[HEAP_ROOT_NKINDS] = {
        "none", "global", "stack frame", "other root", "goroutine context",
        "defer", "panic", "queued finalizer", "finalizer",
    };
    return kind >= 0 && kind < HEAP_ROOT_NKINDS ? names[kind] : "unknown";
}

const char *heap_type_src_name(int src)
{
    switch (src) {
    case HEAP_TSRC_IFACE: return "interface";
    case HEAP_TSRC_FINALIZER: return "finalizer";
    case HEAP_TSRC_HEADER: return "malloc header";
    case HEAP_TSRC_LAYOUT: return "container layout";
    case HEAP_TSRC_GLOBAL: return "global";
    case HEAP_TSRC_FRAME: return "stack variable";
    case HEAP_TSRC_FIELD: return "field";
    default: return "none";
    }
}

const char *heap_step_name(int step)
{
    static const char *const names[HEAP_NSTEPS] = {"stream", "sort", "resolve", "graph",
                                                    "reverse"};
    return step >= 0 && step < HEAP_NSTEPS ? names[step] : "?";
}

uint32_t heap_object_at(const heap *h, uint64_t addr)
{
    if (h->aix)
        return addrindex_find(h->aix, addr);
    /* the last object whose address is <= addr */
    size_t above = hs_upper_bound64(h->obj_addr, h->nobj, sizeof *h->obj_addr, 0, addr);
    if (above == 0 || addr - h->obj_addr[above - 1] >= h->obj_size[above - 1])
        return HEAP_NONE;
    return (uint32_t)(above - 1);
}

uint32_t heap_node_at(const heap *h, uint64_t addr)
{
    uint32_t o = heap_object_at(h, addr);
    if (o != HEAP_NONE || !h->syms)
        return o;
    symtab_sym anon;
    const symtab_sym *sym = symtab_data_at(h->syms, addr, &anon);
    if (!sym)
        return HEAP_NONE;
    for (uint32_t i = 0; i < h->naux; i++) /* globals are few; callers are not hot paths */
        if (h->aux[i].kind == HEAP_NODE_GLOBAL && h->aux[i].addr == sym->addr)
            return h->nobj + i;
    return HEAP_NONE;
}

const heap_weak *heap_weak_referrers(const heap *h, uint32_t obj, size_t *n)
{
    size_t lo = hs_lower_bound32(h->weak, h->nweak, sizeof *h->weak, offsetof(heap_weak, target),
                                 obj);
    size_t k = lo;
    while (k < h->nweak && h->weak[k].target == obj)
        k++;
    *n = k - lo;
    return h->weak + lo;
}

int heap_label(heap *h, uint32_t obj, const char *name)
{
    if (obj >= h->nobj || h->obj_type[obj] != HEAP_NONE)
        return HS_OK;
    /* Labels are few and called millions of times with the same string literals: a small
     * cache keyed by the name pointer, then a search over the synthetic types (addr 0). */
    uint32_t t = HEAP_NONE;
    size_t slot = ((uintptr_t)name >> 4) % HEAP_LABEL_CACHE;
    if (h->label_name[slot] == name)
        t = h->label_type[slot];
    for (uint32_t i = h->ntypes; t == HEAP_NONE && i-- > 0;)
        if (h->types[i].addr == 0 && !strcmp(strpool_get(&h->names, h->types[i].name), name))
            t = i;
    if (t == HEAP_NONE) {
        heap_type ty = {.addr = 0, .name = strpool_intern(&h->names, name, strlen(name)),
                        .ttype = HEAP_NONE};
        size_t len = h->ntypes;
        if (ty.name == UINT32_MAX || VEC_PUSH(h->types, len, h->cap_types, ty) < 0)
            return HS_ERR_NOMEM;
        t = h->ntypes++;
    }
    h->label_name[slot] = name;
    h->label_type[slot] = t;
    h->obj_type[obj] = t;
    h->obj_tsrc[obj] = HEAP_TSRC_LAYOUT;
    return HS_OK;
}

const char *heap_type_name(const heap *h, uint32_t obj)
{
    if (obj >= h->nobj || h->obj_type[obj] == HEAP_NONE)
        return NULL;
    return strpool_get(&h->names, h->types[h->obj_type[obj]].name);
}

const char *heap_site_name(const heap *h, uint32_t obj)
{
    uint32_t site;
    return u64map_get(&h->obj_site, obj, &site) ? strpool_get(&h->names, site) : NULL;
}

const char *heap_closure_name(const heap *h, uint32_t obj)
{
    if (obj >= h->nobj || h->obj_func[obj] == HEAP_NONE || !h->syms)
        return NULL;
    const symtab_sym *f = symtab_get(h->syms, SYMTAB_FUNC, h->obj_func[obj]);
    return f ? f->name : NULL;
}

const char *heap_describe(const heap *h, uint32_t node, char *buf, size_t cap)
{
    if (node < h->nobj) {
        const char *fn = heap_closure_name(h, node);
        const char *ty = heap_type_name(h, node);
        unsigned long long addr = heap_obj_ptr(h, node), size = heap_obj_bytes(h, node);
        if (fn)
            snprintf(buf, cap, "closure %s 0x%llx (%llu B)", fn, addr, size);
        else if (ty)
            snprintf(buf, cap, "%s 0x%llx (%llu B)", ty, addr, size);
        else
            snprintf(buf, cap, "object 0x%llx (%llu B)", addr, size);
        return buf;
    }
    if (node >= h->nnodes) {
        snprintf(buf, cap, "?");
        return buf;
    }
    const heap_aux *a = &h->aux[node - h->nobj];
    const char *name = strpool_get(&h->names, a->name);
    switch (a->kind) {
    case HEAP_NODE_GLOBAL:
        snprintf(buf, cap, "global %s", name);
        break;
    case HEAP_NODE_FRAME:
        snprintf(buf, cap, "goroutine %llu frame %s", (unsigned long long)a->goid, name);
        break;
    default:
        snprintf(buf, cap, "%s", name);
        break;
    }
    return buf;
}

int heap_fetch(source *s, const heap *h, const uint32_t *objs, size_t n,
               int (*fn)(void *ctx, uint32_t obj, const uint8_t *bytes, size_t len,
                         const uint64_t *ptr_offsets, size_t nptrs),
               void *ctx, hs_error *err)
{
    if (!n)
        return HS_OK;
    u64map want = {0};
    source_reader *sr = NULL;
    int rc = HS_OK;
    for (size_t i = 0; i < n; i++)
        if (objs[i] < h->nobj && u64map_put(&want, h->obj_addr[objs[i]], objs[i]) < 0) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                              "heap model: out of memory for the set of %zu objects to read", n);
            goto out;
        }
    if ((rc = source_reader_open(s, 2, &sr, err)) < 0)
        goto out;
    gohd_record rec;
    size_t left = want.used;
    while (left && (rc = gohd_next(source_reader_gohd(sr), &rec, err)) > 0) {
        uint32_t obj;
        if (rec.tag != GOHD_OBJECT || !u64map_get(&want, rec.u.object.addr, &obj))
            continue;
        left--;
        rc = fn(ctx, obj, rec.u.object.contents.ptr, rec.u.object.contents.len,
                rec.u.object.ptr_offsets, rec.u.object.nptrs);
        if (rc < 0)
            goto out;
    }
out:
    source_reader_free(sr);
    u64map_release(&want);
    return rc < 0 ? rc : HS_OK;
}

uint32_t heap_global(const heap *h, const char *name)
{
    for (uint32_t i = 0; i < h->naux; i++)
        if (h->aux[i].kind == HEAP_NODE_GLOBAL &&
            strcmp(strpool_get(&h->names, h->aux[i].name), name) == 0)
            return h->nobj + i;
    return GRAPH_NONE;
}
