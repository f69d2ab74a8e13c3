/* ghost.c - ghost references in one dump (docs/heap-model.md "Containers and ghosts"): live
 * objects of a container's value type (evidence "type") or, for objects of unknown type, of a
 * value shape (evidence "shape") that no container reaches. Each is reported with the
 * retention path that holds it, which by construction avoids every container. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "describe.h"
#include "detectors.h"
#include "typeinfo.h"

/* Per type and per shape: the mask of the containers holding values of it (0 = none). */
typedef struct value_sets {
    uint32_t *types;  /* h->ntypes entries */
    uint32_t *shapes; /* h->nshapes entries */
} value_sets;

/* Bit of container c in a mask (containers past 31 share the last bit). */
static uint32_t cbit(size_t c)
{
    return 1u << (c < 31 ? c : 31);
}

/* Smallest untyped value shape that counts: smaller ones (boxes, small structs) are too
 * common to say which objects are values. */
#define UNTYPED_SHAPE_MIN 64

/* Adds value v of container bit `bit` to the sets (named program types only); a value shape
 * counts only when that type is the shape's sole owner, or, for an untyped value, when no
 * typed object has its shape, which is large and holds pointers (Go 1.19 map values have no
 * interface word or malloc header to type them). distinct caches, per type,
 * typeinfo_distinctive (0 unknown, 1 yes, 2 no). */
static void add_value(const analysis *a, uint32_t v, uint32_t bit, value_sets *vs,
                      uint8_t *distinct)
{
    const heap *h = a->h;
    uint32_t t = h->obj_type[v], s = h->obj_shape[v];
    if (t == HEAP_NONE) {
        if (h->obj_func[v] == HEAP_NONE && typeinfo_shape_owner(a->types, s) == HEAP_NONE &&
            h->shapes[s].size >= UNTYPED_SHAPE_MIN && h->shapes[s].nptrs)
            vs->shapes[s] |= bit;
        return;
    }
    if (!h->types[t].addr)
        return; /* a role label (a map's buckets, a weak handle): not a Go type */
    if (!distinct[t])
        distinct[t] = typeinfo_distinctive(heap_type_name(h, v)) ? 1 : 2;
    if (distinct[t] != 1)
        return;
    vs->types[t] |= bit;
    if (typeinfo_shape_owner(a->types, s) == t)
        vs->shapes[s] |= bit;
}

/* Value types come from the decoded values, so untyped objects of a value's shape are very
 * likely values that lost their interface word when they were deleted. A big container's
 * values (scattered over the heap in hash order) are marked in a bitset first and then read
 * in ascending order, so the per-object arrays stream instead of missing the cache per value. */
static int nomem_values(hs_error *err)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                        "ghost: out of memory collecting the containers' value types");
}

static int collect_values(const analysis *a, value_sets *vs, hs_error *err)
{
    const heap *h = a->h;
    int rc = HS_OK;
    uint64_t *mark = NULL;
    uint8_t *distinct = calloc((size_t)h->ntypes + 1, 1);
    if (!distinct) {
        rc = nomem_values(err);
        goto out;
    }
    for (size_t c = 0; c < a->ncontainers; c++) {
        const analysis_container *ct = &a->containers[c];
        if (ct->nvalues < h->nobj / 64) {
            for (size_t i = 0; i < ct->nvalues; i++)
                add_value(a, ct->values[i], cbit(c), vs, distinct);
            continue;
        }
        if (!mark && !(mark = bitset_new(h->nobj))) {
            rc = nomem_values(err);
            goto out;
        }
        for (size_t i = 0; i < ct->nvalues; i++)
            bitset_set(mark, ct->values[i]);
        for (size_t w = 0; w < bitset_words(h->nobj); w++) {
            for (uint64_t bits = mark[w]; bits; bits &= bits - 1)
                add_value(a, (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits)), cbit(c), vs,
                          distinct);
            mark[w] = 0;
        }
    }
    uint32_t all = 0;
    for (size_t c = 0; c < a->ncontainers; c++)
        all |= cbit(c);
    for (size_t i = 0; i < a->opts.nvalue_types; i++)
        for (uint32_t t = 0; t < h->ntypes; t++)
            if (!strcmp(strpool_get(&h->names, h->types[t].name), a->opts.value_types[i]))
                vs->types[t] |= all ? all : 1;
out:
    free(mark);
    free(distinct);
    return rc;
}

/* *out receives a bitset of the nodes reachable from containers [first, first + count) of a
 * (h->nnodes bits; the caller frees it). */
static int inside_bits(const analysis *a, size_t first, size_t count, uint64_t **out,
                       hs_error *err)
{
    *out = NULL;
    uint32_t *seeds = calloc(count * ANALYSIS_CONTAINER_SEEDS + 1, sizeof *seeds);
    if (!seeds)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "ghost: out of memory for the seeds of %zu containers", count);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const analysis_container *c = &a->containers[first + i];
        if (!c->nseeds)
            seeds[n++] = c->node;
        for (size_t k = 0; k < c->nseeds; k++)
            seeds[n++] = c->seeds[k];
    }
    int rc = paths_reach(a->h->g, seeds, n, NULL, out, NULL, err);
    if (rc < 0 && count == 1)
        hs_error_prefix(err, "ghost: what %s reaches", a->containers[first].name);
    else if (rc < 0)
        hs_error_prefix(err, "ghost: what the containers reach");
    free(seeds);
    return rc;
}

int ghost_inside(const analysis *a, size_t first, size_t count, uint8_t **out, hs_error *err)
{
    const heap *h = a->h;
    *out = NULL;
    uint64_t *bits;
    int rc = inside_bits(a, first, count, &bits, err);
    if (rc < 0)
        return rc;
    uint8_t *in = malloc((size_t)h->nnodes + 1);
    if (!in) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "ghost: out of memory for a mark per node");
        goto out;
    }
    for (uint32_t v = 0; v < h->nnodes; v++)
        in[v] = (uint8_t)bitset_get(bits, v);
    *out = in;
out:
    free(bits);
    return rc;
}

/* The first closure on a path, or NULL. */
static const char *closure_on_path(const report_path *p)
{
    for (size_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].kind == REPORT_NODE_CLOSURE)
            return p->steps[i].name;
    return NULL;
}

/* "main.store" or "main.store, *main.registry" for a mask of containers; NULL when out of
 * memory. */
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

typedef struct ghost_ctx {
    analysis *a;
    uint32_t v;          /* the ghost */
    uint32_t containers; /* the mask of the containers it is not in */
} ghost_ctx;

/* Containers, path, holder and title of a new ghost finding (findings_spec's describe). */
static int describe_ghost(void *ctx, report_finding *f, hs_error *err)
{
    const ghost_ctx *g = ctx;
    int rc = HS_OK;
    if (!(f->container = container_names(g->a, g->containers))) {
        rc = HS_ERR_NOMEM;
        goto out;
    }
    if ((rc = describe_program_path(g->a, g->v, &f->path)) < 0)
        goto out;
    const char *via = closure_on_path(&f->path);
    f->holder = via ? report_strfmt("%s %s via closure %s", f->path.root_kind,
                                    f->path.root_name, via)
                    : report_strfmt("%s %s", f->path.root_kind, f->path.root_name);
    f->title = report_strfmt("%s not in container %s but still held by %s", f->type,
                             f->container, f->holder ? f->holder : "?");
    if (!f->holder || !f->title)
        rc = HS_ERR_NOMEM;
out:
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "ghost: describing the path to %s",
                            f->type);
    return HS_OK;
}

int ghost_add(analysis *a, uint32_t v, uint32_t containers, const char *evidence,
              const char *shape_of, findings *out, hs_error *err)
{
    char *label = shape_of ? report_strfmt("%s (matched by size and pointer layout)", shape_of)
                           : describe_label(a, v);
    /* No addresses or indexes: a signature names the same leak in every capture. */
    char *names = container_names(a, containers), *key = describe_root_key(a, v);
    char *sig = label && names && key
                    ? report_strfmt("%s|%s|%s|%s", names, key, evidence, label)
                    : NULL;
    free(names);
    free(key);
    int rc;
    if (!sig) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "ghost: out of memory naming object %u", v);
    } else {
        ghost_ctx g = {a, v, containers};
        findings_spec spec = {.kind = REPORT_GHOST, .signature = sig, .evidence = evidence,
                              .type = label, .describe = describe_ghost, .ctx = &g};
        rc = findings_note(out, &spec, &v, 1, err);
    }
    free(sig);
    free(label);
    return rc;
}

int ghost_detect(analysis *a, findings *out, hs_error *err)
{
    const heap *h = a->h;
    if (!a->ncontainers)
        return HS_OK;
    uint64_t *in = NULL;
    value_sets vs = {calloc((size_t)h->ntypes + 1, sizeof *vs.types),
                     calloc((size_t)h->nshapes + 1, sizeof *vs.shapes)};
    int rc = HS_OK;
    if (!vs.types || !vs.shapes) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "ghost: out of memory for the value types and shapes");
        goto out;
    }
    if ((rc = collect_values(a, &vs, err)) < 0 ||
        (rc = inside_bits(a, 0, a->ncontainers, &in, err)) < 0)
        goto out;
    /* Candidates: in-use objects outside every container, in ascending order. */
    for (size_t w = 0; w < bitset_words(h->nobj); w++) {
        for (uint64_t bits = ~in[w]; bits; bits &= bits - 1) {
            uint32_t v = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
            if (v >= h->nobj || live_state_of(a->live, v) != LIVE_IN_USE)
                continue;
            uint32_t c;
            if (h->obj_type[v] != HEAP_NONE) {
                if ((c = vs.types[h->obj_type[v]]) != 0)
                    rc = ghost_add(a, v, c, "type", NULL, out, err);
            } else if (h->obj_func[v] == HEAP_NONE && (c = vs.shapes[h->obj_shape[v]]) != 0) {
                rc = ghost_add(a, v, c, "shape", typeinfo_shape_type(a->types, v), out, err);
            }
            if (rc < 0)
                goto out;
        }
    }
out:
    free(in);
    free(vs.types);
    free(vs.shapes);
    return rc;
}
