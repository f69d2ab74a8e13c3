/* ghost.c - ghost references in one dump (DESIGN.md "Detectors"): live objects of a
 * container's value type (evidence "type") or, for objects of unknown type, of a value shape
 * (evidence "shape") that no container reaches. Each is reported with the retention path that
 * holds it, which by construction avoids every container. Also sync.Map tombstones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "detectors.h"
#include "u64map.h"


typedef struct value_sets {
    u64map types;  /* type index -> mask of containers holding values of it */
    u64map shapes; /* shape index -> mask of containers */
} value_sets;

/* Bit of container c in a mask (containers past 31 share the last bit). */
static uint32_t cbit(size_t c)
{
    return 1u << (c < 31 ? c : 31);
}

static int add_mask(u64map *m, uint64_t key, uint32_t bit)
{
    uint32_t *v = u64map_upsert(m, key, 0);
    if (!v)
        return -1;
    *v |= bit;
    return 0;
}


/* Value types come from the decoded values (named program types only); a value shape counts
 * only when that type is the shape's sole owner, so untyped objects of the shape are very
 * likely values that lost their interface word when they were deleted. */
static int collect_values(analysis *a, value_sets *vs, const uint32_t *own)
{
    const heap *h = a->h;
    for (size_t c = 0; c < a->ncontainers; c++) {
        const analysis_container *ct = &a->containers[c];
        for (size_t i = 0; i < ct->nvalues; i++) {
            uint32_t v = ct->values[i];
            const char *t = heap_type_name(h, v);
            if (!t || !analysis_distinctive_type(t))
                continue;
            if (add_mask(&vs->types, h->obj_type[v], cbit(c)) < 0 ||
                (own[h->obj_shape[v]] == h->obj_type[v] &&
                 add_mask(&vs->shapes, h->obj_shape[v], cbit(c)) < 0))
                return HS_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < a->opts.nvalue_types; i++)
        for (uint32_t t = 0; t < h->ntypes; t++)
            if (!strcmp(strpool_get(&h->names, h->types[t].name), a->opts.value_types[i]) &&
                add_mask(&vs->types, t, a->ncontainers ? (1u << a->ncontainers) - 1 : 1) < 0)
                return HS_ERR_NOMEM;
    return HS_OK;
}

uint8_t *ghost_inside(const analysis *a, size_t first, size_t count)
{
    const heap *h = a->h;
    graph_root *roots = malloc((count + 1) * sizeof *roots);
    if (!roots)
        return NULL;
    for (size_t i = 0; i < count; i++)
        roots[i] = (graph_root){a->containers[first + i].node, 0, 0};
    paths_tree *t;
    hs_error err;
    int rc = paths_bfs(h->g, roots, count, NULL, &t, &err);
    free(roots);
    if (rc < 0)
        return NULL;
    uint8_t *in = calloc((size_t)h->nnodes + 1, 1);
    if (in)
        for (uint32_t v = 0; v < h->nnodes; v++)
            in[v] = (uint8_t)paths_reached(t, v);
    paths_free(t);
    return in;
}

/* The first closure on a path, or NULL. */
static const char *closure_on_path(const report_path *p)
{
    for (size_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].kind == REPORT_NODE_CLOSURE)
            return p->steps[i].name;
    return NULL;
}

/* "main.store" or "main.store, *main.registry" for a mask of containers. */
static char *container_names(const analysis *a, uint32_t mask)
{
    char *out = report_strdup("");
    for (size_t c = 0; out && c < a->ncontainers; c++) {
        if (!(mask & cbit(c)))
            continue;
        char *next = report_strfmt("%s%s%s", out, *out ? ", " : "", a->containers[c].name);
        free(out);
        out = next;
    }
    return out;
}

int ghost_add(analysis *a, findings *out, uint32_t v, uint32_t containers, const char *evidence,
              const char *shape_of)
{
    const paths_tree *t = live_program_tree(a->live);
    uint32_t root = paths_root_of(t, v);
    char *label = shape_of ? report_strfmt("%s (matched by size and pointer layout)", shape_of)
                           : describe_label(a, v);
    int created = 0;
    report_finding *f = label ? findings_groupf(out, REPORT_GHOST, &created, "%x|%u|%s|%s",
                                                containers, root, evidence, label)
                              : NULL;
    if (!f) {
        free(label);
        return HS_ERR_NOMEM;
    }
    int rc = HS_OK;
    if (created) {
        f->evidence = report_strdup(evidence);
        f->container = container_names(a, containers);
        const char *cname = f->container ? f->container : "?";
        f->type = label;
        label = NULL;
        rc = describe_program_path(a, v, &f->path);
        if (rc >= 0) {
            const char *via = closure_on_path(&f->path);
            f->holder = via ? report_strfmt("%s %s via closure %s", f->path.root_kind,
                                            f->path.root_name, via)
                            : report_strfmt("%s %s", f->path.root_kind, f->path.root_name);
            f->title = report_strfmt("%s not in container %s but still held by %s", f->type,
                                     cname, f->holder ? f->holder : "?");
            if (!f->evidence || !f->container || !f->holder || !f->title)
                rc = HS_ERR_NOMEM;
        }
    }
    free(label);
    return rc < 0 ? rc : findings_add(out, f, v);
}

int ghost_detect(analysis *a, findings *out)
{
    const heap *h = a->h;
    if (!a->ncontainers)
        return HS_OK;
    value_sets vs = {0};
    const uint32_t *own = a->shape_owner;
    int rc = own ? collect_values(a, &vs, own) : HS_ERR_NOMEM;
    uint8_t *in = rc >= 0 ? ghost_inside(a, 0, a->ncontainers) : NULL;
    if (!in)
        rc = HS_ERR_NOMEM;
    for (uint32_t v = 0; v < h->nobj && rc >= 0; v++) {
        if (in[v] || live_state_of(a->live, v) != LIVE_IN_USE)
            continue;
        uint32_t c;
        if (h->obj_type[v] != HEAP_NONE) {
            if (u64map_get(&vs.types, h->obj_type[v], &c))
                rc = ghost_add(a, out, v, c, "type", NULL);
        } else if (h->obj_func[v] == HEAP_NONE && u64map_get(&vs.shapes, h->obj_shape[v], &c)) {
            rc = ghost_add(a, out, v, c, "shape", analysis_shape_type(a, v));
        }
    }
    free(in);
    u64map_release(&vs.types);
    u64map_release(&vs.shapes);
    return rc;
}

int tombstone_detect(analysis *a, findings *out)
{
    for (size_t c = 0; c < a->ncontainers; c++) {
        analysis_container *ct = &a->containers[c];
        if (!ct->ntombstones)
            continue;
        int created;
        report_finding *f = findings_groupf(out, REPORT_TOMBSTONE, &created, "tombstone|%s",
                                            ct->name);
        if (!f)
            return HS_ERR_NOMEM;
        f->evidence = report_strdup("sync.Map layout");
        f->container = report_strdup(ct->name);
        f->keys = ct->ntombstones;
        f->holder = report_strfmt("the read map of %s", ct->name);
        f->title = report_strfmt("%zu deleted keys still held in the read map of %s (%llu B): "
                                 "sync.Map keeps them until new keys promote the dirty map",
                                 ct->ntombstones, ct->name,
                                 (unsigned long long)ct->tombstone_bytes);
        f->type = report_strdup("sync.entry");
        int rc = f->evidence && f->container && f->holder && f->title && f->type
                     ? describe_program_path(a, ct->tombstones[0], &f->path)
                     : HS_ERR_NOMEM;
        for (size_t i = 0; i < ct->ntombstones && rc >= 0; i++)
            rc = findings_add(out, f, ct->tombstones[i]);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}
