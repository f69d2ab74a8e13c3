/* describe.c - nodes, roots and paths in the report's words. */
#include "describe.h"

#include "gotype.h"
#include "goexpr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *describe_shape(const analysis *a, uint32_t obj)
{
    const heap *h = a->h;
    const heap_shape *s = &h->shapes[h->obj_shape[obj]];
    char ptrs[64] = "";
    size_t len = 0;
    for (uint32_t i = 0; i < s->nptrs && i < 4; i++)
        len += (size_t)snprintf(ptrs + len, sizeof ptrs - len, "%s@%u", i ? "," : "", s->ptrs[i]);
    /* no type name here: a shape alike a type's is no evidence of it (docs/heap-model.md) */
    (void)a;
    return report_strfmt("%llu B, %u ptrs%s%s%s", (unsigned long long)s->size, s->nptrs,
                         s->nptrs ? " " : "", ptrs, s->nptrs > 4 ? ",..." : "");
}

char *describe_label(const analysis *a, uint32_t node)
{
    const heap *h = a->h;
    if (node < h->nobj) {
        const char *fn = heap_closure_name(h, node);
        if (fn)
            return report_strfmt("closure %s", fn);
        const char *ty = heap_type_name(h, node);
        if (ty)
            return report_strdup(ty);
        char *shape = describe_shape(a, node);
        char *s = shape ? report_strfmt("shape %s", shape) : NULL;
        free(shape);
        return s;
    }
    /* Non-object nodes: the bare name, since reports print their kind beside it. */
    const heap_aux *x = &h->aux[node - h->nobj];
    const char *name = strpool_get(&h->names, x->name);
    if (x->kind == HEAP_NODE_FRAME)
        return report_strfmt("goroutine %llu %s", (unsigned long long)x->goid, name);
    return report_strdup(name);
}

int describe_step(const analysis *a, uint32_t node, uint32_t field, report_step *out)
{
    const heap *h = a->h;
    memset(out, 0, sizeof *out);
    out->field = field;
    if (node < h->nobj) {
        out->addr = heap_obj_ptr(h, node);
        out->size = heap_obj_bytes(h, node);
        const char *fn = heap_closure_name(h, node);
        const char *ty = heap_type_name(h, node);
        out->kind = fn ? REPORT_NODE_CLOSURE : REPORT_NODE_OBJECT;
        if (fn || ty) {
            if (!(out->name = report_strdup(fn ? fn : ty)))
                return HS_ERR_NOMEM;
        } else if (!(out->shape = describe_shape(a, node))) {
            return HS_ERR_NOMEM;
        }
        return HS_OK;
    }
    const heap_aux *x = &h->aux[node - h->nobj];
    out->addr = x->addr;
    out->size = x->size;
    switch (x->kind) {
    case HEAP_NODE_GLOBAL: out->kind = REPORT_NODE_GLOBAL; break;
    case HEAP_NODE_FRAME: out->kind = REPORT_NODE_FRAME; break;
    default: out->kind = REPORT_NODE_ROOT; break;
    }
    char buf[256];
    const char *name = strpool_get(&h->names, x->name);
    if (x->kind == HEAP_NODE_FRAME) {
        snprintf(buf, sizeof buf, "goroutine %llu %s", (unsigned long long)x->goid, name);
        name = buf;
    }
    return (out->name = report_strdup(name)) ? HS_OK : HS_ERR_NOMEM;
}

int describe_field(const analysis *a, uint32_t from, uint32_t field, report_step *step)
{
    const heap *h = a->h;
    char name[256];
    if (field == REPORT_NO_FIELD)
        return HS_OK;
    if (goexpr_node_field(h, from, field, name, sizeof name)) /* DWARF: a Go expression */
        return (step->field_name = report_strdup(name)) ? HS_OK : HS_ERR_NOMEM;
    if (from >= h->nobj || h->obj_type[from] == HEAP_NONE || !h->syms)
        return HS_OK;
    const heap_type *t = &h->types[h->obj_type[from]];
    if (!t->addr || field < h->obj_hdr[from])
        return HS_OK; /* a role label, not a descriptor; or inside the malloc header */
    if (gotype_field_name(h->syms, t->addr, field - h->obj_hdr[from], name, sizeof name) != HS_OK)
        return HS_OK;
    return (step->field_name = report_strdup(name)) ? HS_OK : HS_ERR_NOMEM;
}

int describe_path(const analysis *a, const graph_step *steps, size_t n, const char *root_kind,
                  const char *root_name, report_path *out)
{
    memset(out, 0, sizeof *out);
    int rc = HS_OK;
    out->root_kind = report_strdup(root_kind);
    out->root_name = report_strdup(root_name);
    out->steps = calloc(n ? n : 1, sizeof *out->steps);
    if (!out->root_kind || !out->root_name || !out->steps) {
        rc = HS_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        /* offsets as the program sees them: past a Go 1.22+ malloc header */
        uint32_t f = i ? steps[i].field : REPORT_NO_FIELD;
        if (f != REPORT_NO_FIELD && steps[i - 1].node < a->h->nobj &&
            f >= a->h->obj_hdr[steps[i - 1].node])
            f -= a->h->obj_hdr[steps[i - 1].node];
        rc = describe_step(a, steps[i].node, f, &out->steps[i]);
        out->nsteps = i + 1;
        if (rc < 0 ||
            (i && (rc = describe_field(a, steps[i - 1].node, steps[i].field,
                                       &out->steps[i])) < 0))
            goto out;
    }
out:
    if (rc < 0)
        report_path_release(out);
    return rc;
}

int describe_root(const analysis *a, uint32_t root_index, char **kind, char **name)
{
    const heap *h = a->h;
    *kind = *name = NULL;
    if (root_index >= a->nall_roots)
        return HS_ERR_ARG;
    const graph_root *r = &a->all_roots[root_index];
    char buf[256];
    if (root_index >= h->nroots) {
        /* A finalizer-special root: name the object whose finalizer it is. */
        uint32_t si = a->root_special[root_index - h->nroots];
        uint32_t x = si < a->nspecials ? a->specials[si].obj : GRAPH_NONE;
        *kind = report_strdup("finalizer");
        *name = x < h->nobj
                    ? report_strfmt("finalizer of %s", heap_describe(h, x, buf, sizeof buf))
                    : report_strdup("finalizer");
    } else {
        /* The bare name: the kind is said separately ("global" + "main.store"). */
        const heap_aux *x = &h->aux[r->node - h->nobj];
        const char *nm = strpool_get(&h->names, x->name);
        *kind = report_strdup(heap_root_kind_name((int)r->kind));
        *name = x->kind == HEAP_NODE_FRAME
                    ? report_strfmt("goroutine %llu %s", (unsigned long long)x->goid, nm)
                    : report_strdup(nm);
    }
    if (!*kind || !*name) {
        free(*kind);
        free(*name);
        *kind = *name = NULL;
        return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* A named global that points at node v, or GRAPH_NONE. */
static uint32_t named_referrer(const heap *h, uint32_t v)
{
    const uint32_t *in = graph_in_offsets(h->g), *src = graph_in_src(h->g);
    for (uint32_t e = in[v]; e < in[v + 1]; e++) {
        uint32_t p = src[e];
        if (p >= h->nobj && h->aux[p - h->nobj].kind == HEAP_NODE_GLOBAL &&
            !h->aux[p - h->nobj].anonymous)
            return p;
    }
    return GRAPH_NONE;
}

/* The name of the place `offset` into holder without its "+0x" part, into base; *at receives
 * the offset from where that name points. */
static void place_base(const analysis *a, uint32_t holder, uint64_t offset, char *base,
                       size_t cap, uint64_t *at_out)
{
    const heap *h = a->h;
    uint64_t at = offset;
    if (holder >= h->nobj && !h->aux[holder - h->nobj].anonymous) {
        snprintf(base, cap, "%s", strpool_get(&h->names, h->aux[holder - h->nobj].name));
    } else if (holder >= h->nobj) {
        uint64_t addr = h->aux[holder - h->nobj].addr + offset, best = 0;
        uint32_t from = GRAPH_NONE;
        for (uint32_t i = 0; i < h->nstatic_ptrs; i++) {
            const heap_static_ptr *p = &h->static_ptrs[i];
            if (p->to == holder && p->value <= addr && (from == GRAPH_NONE || p->value > best))
                from = p->from, best = p->value;
        }
        if (from == GRAPH_NONE)
            snprintf(base, cap, "%s", strpool_get(&h->names, h->aux[holder - h->nobj].name));
        else
            snprintf(base, cap, "*%s", strpool_get(&h->names, h->aux[from - h->nobj].name));
        if (from != GRAPH_NONE)
            at = addr - best;
    } else {
        uint32_t g = named_referrer(h, holder);
        if (g == GRAPH_NONE)
            heap_describe(h, holder, base, cap);
        else
            snprintf(base, cap, "*%s", strpool_get(&h->names, h->aux[g - h->nobj].name));
    }
    *at_out = at;
}

char *describe_place(const analysis *a, uint32_t holder, uint64_t offset)
{
    char base[200];
    uint64_t at;
    place_base(a, holder, offset, base, sizeof base, &at);
    return at ? report_strfmt("%s+0x%llx", base, (unsigned long long)at) : report_strdup(base);
}

/* The field by which v's program path leaves its root (0 when v is the root): the last hop of
 * a walk up the tree, so only for the roots that need it. */
static uint32_t first_field(const paths_tree *t, uint32_t v)
{
    uint32_t u = v, child = v;
    while (paths_parent(t, u) != GRAPH_NONE) {
        child = u;
        u = paths_parent(t, u);
    }
    return child != u ? paths_field(t, child) : 0;
}

/* An anonymous static's root name: the named global that points into it where the path
 * leaves it ("*main.bus"). NULL when root is not an anonymous static or out of memory. */
static char *anon_root_name(const analysis *a, uint32_t root, uint32_t field)
{
    const heap *h = a->h;
    if (root < h->nobj || root >= h->nnodes || !h->aux[root - h->nobj].anonymous)
        return NULL;
    char base[200];
    uint64_t at;
    place_base(a, root, field, base, sizeof base, &at);
    return report_strdup(base);
}

char *describe_root_key(const analysis *a, uint32_t node)
{
    const heap *h = a->h;
    const paths_tree *t = live_program_tree(a->live);
    uint32_t ri = paths_root_of(t, node);
    uint32_t root = ri < h->nroots ? h->roots[ri].node : GRAPH_NONE;
    if (root >= h->nobj && root < h->nnodes) {
        const heap_aux *x = &h->aux[root - h->nobj];
        if (x->kind == HEAP_NODE_FRAME)
            return report_strfmt("frame %s", strpool_get(&h->names, x->name));
        char *anon = x->anonymous ? anon_root_name(a, root, first_field(t, node)) : NULL;
        if (anon) {
            char *key = report_strfmt("global %s", anon);
            free(anon);
            return key;
        }
    }
    char *kind, *name;
    if (describe_root(a, ri, &kind, &name) < 0)
        return NULL;
    char *key = report_strfmt("%s %s", kind, name);
    free(kind);
    free(name);
    return key;
}

int describe_program_path(const analysis *a, uint32_t node, report_path *out)
{
    return describe_tree_path(a, live_program_tree(a->live), node, out);
}

int describe_tree_path(const analysis *a, const paths_tree *t, uint32_t node, report_path *out)
{
    memset(out, 0, sizeof *out);
    size_t n = paths_extract(t, node, NULL, 0);
    if (!n)
        return HS_OK;
    graph_step *steps = malloc(n * sizeof *steps);
    if (!steps)
        return HS_ERR_NOMEM;
    paths_extract(t, node, steps, n);
    char *kind, *name;
    int rc = describe_root(a, paths_root_of(t, node), &kind, &name);
    if (rc < 0)
        goto out;
    char *anon = n > 1 ? anon_root_name(a, steps[0].node, steps[1].field) : NULL;
    if (anon) { /* "*main.bus", not "bss.anon+0x10c0" */
        free(name);
        name = anon;
    }
    rc = describe_path(a, steps, n, kind, name, out);
    if (rc >= 0 && anon && out->nsteps) {
        char *copy = report_strdup(name);
        if (!copy) {
            report_path_release(out);
            rc = HS_ERR_NOMEM;
            goto out;
        }
        free(out->steps[0].name);
        out->steps[0].name = copy;
    }
out:
    free(kind);
    free(name);
    free(steps);
    return rc;
}
