/* findings.c - grouping by signature, and the sizes of the groups. */
#include "findings.h"

#include <stdlib.h>
#include <string.h>

#include "hs_search.h"
#include "memclass.h"
#include "vec.h"

uint64_t findings_hash(int kind, const char *s)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int nomem(hs_error *err, const char *what, const char *signature)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "findings: out of memory for %s%.160s",
                        what, signature);
}

/* The finding of (kind, signature), created empty but for those two on first use
 * (*created = 1). NULL when out of memory. */
static report_finding *group(findings *fs, int kind, const char *signature, int *created)
{
    *created = 0;
    uint64_t key = findings_hash(kind, signature);
    for (;; key++) { /* probe past hash collisions of different signatures */
        uint32_t i;
        if (!u64map_get(&fs->by_signature, key, &i))
            break;
        if (fs->items[i].kind == kind && strcmp(fs->items[i].signature, signature) == 0)
            return &fs->items[i];
    }
    if (fs->n == fs->cap) {
        size_t ncap = fs->cap ? fs->cap * 2 : 16;
        void **const arrays[] = {(void **)&fs->items, (void **)&fs->members,
                                 (void **)&fs->nmembers, (void **)&fs->capmembers};
        const size_t elem[] = {sizeof *fs->items, sizeof *fs->members, sizeof *fs->nmembers,
                               sizeof *fs->capmembers};
        if (vec_resize_parallel(arrays, elem, 4, ncap) < 0)
            return NULL;
        fs->cap = ncap;
    }
    report_finding *f = &fs->items[fs->n];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    if (!(f->signature = report_strdup(signature)) ||
        u64map_put(&fs->by_signature, key, (uint32_t)fs->n) < 0) {
        free(f->signature);
        return NULL;
    }
    fs->members[fs->n] = NULL;
    fs->nmembers[fs->n] = fs->capmembers[fs->n] = 0;
    fs->n++;
    *created = 1;
    return f;
}

int findings_note(findings *fs, const findings_spec *spec, const uint32_t *nodes, size_t n,
                  hs_error *err)
{
    int created;
    report_finding *f = group(fs, spec->kind, spec->signature, &created);
    if (!f)
        return nomem(err, "the finding ", spec->signature);
    if (created) {
        const char *const from[] = {spec->evidence, spec->type, spec->reason, spec->container,
                                    spec->title};
        char **const to[] = {&f->evidence, &f->type, &f->reason, &f->container, &f->title};
        for (size_t k = 0; k < sizeof from / sizeof from[0]; k++)
            if (from[k] && !(*to[k] = report_strdup(from[k])))
                return nomem(err, "the finding ", spec->signature);
        int rc = spec->describe ? spec->describe(spec->ctx, f, err) : HS_OK;
        if (rc < 0)
            return rc;
    }
    size_t i = (size_t)(f - fs->items);
    for (size_t k = 0; k < n; k++)
        if (VEC_PUSH(fs->members[i], fs->nmembers[i], fs->capmembers[i], nodes[k]) < 0)
            return nomem(err, "the members of ", spec->signature);
    f->instances++;
    return HS_OK;
}

/* Retained bytes of a set: sum over members with no other member among their dominators.
 * Walks each member's idom chain; a walk stops at a member, the virtual root, or a node
 * already known to have no member at or above it (memo), so the work is linear in the nodes
 * touched. mark must be all zero on entry and is zero again on return. HS_ERR_NOMEM when
 * the walk's scratch list cannot grow. */
static int group_retained(const analysis *a, const uint32_t *m, size_t k, uint8_t *mark,
                          uint64_t *out)
{
    const uint32_t *idom = dom_idoms(a->dom);
    uint32_t n = a->h->nnodes;
    enum { MEMBER = 1, CLEAR = 2 };
    uint32_t *touched = NULL;
    size_t nt = 0, cap = 0;
    int rc = HS_OK;
    for (size_t i = 0; i < k; i++)
        mark[m[i]] = MEMBER;
    uint64_t total = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t v = m[i];
        if (idom[v] == GRAPH_NONE)
            continue; /* unreachable from every root: retains nothing */
        size_t first = nt;
        uint32_t u = idom[v];
        while (u < n && mark[u] == 0) {
            if (VEC_PUSH(touched, nt, cap, u) < 0) {
                rc = HS_ERR_NOMEM;
                goto out;
            }
            u = idom[u];
        }
        if (u < n && mark[u] == MEMBER)
            continue; /* dominated by another member: counted there */
        for (size_t j = first; j < nt; j++)
            mark[touched[j]] = CLEAR;
        total += dom_retained(a->dom, v);
    }
out:
    for (size_t j = 0; j < nt; j++)
        mark[touched[j]] = 0;
    for (size_t i = 0; i < k; i++)
        mark[m[i]] = 0;
    free(touched);
    *out = total;
    return rc;
}

static int by_u64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

/* (object << 32 | special index) of every finalizer special, sorted; NULL when out of
 * memory. */
static uint64_t *special_index(const analysis *a)
{
    uint64_t *ix = malloc((a->nspecials + 1) * sizeof *ix);
    for (size_t i = 0; ix && i < a->nspecials; i++)
        ix[i] = (uint64_t)a->specials[i].obj << 32 | i;
    if (ix && a->nspecials)
        qsort(ix, a->nspecials, sizeof *ix, by_u64);
    return ix;
}

/* Retained bytes of finalizer objects m[0..k-1]: what removing their finalizers frees
 * (memclass_retained), not their dominator subtrees, whose referents the finalizer roots
 * scan directly. */
static int pinned_retained(const analysis *a, const uint64_t *ix, const uint32_t *m, size_t k,
                           uint64_t *out, hs_error *err)
{
    uint32_t *sp = malloc((k ? k : 1) * sizeof *sp);
    if (!sp)
        return nomem(err, "the finalizers of a pinned group", "");
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t key = (uint64_t)m[i] << 32;
        for (size_t j = hs_lower_bound64(ix, a->nspecials, sizeof *ix, 0, key);
             j < a->nspecials && ix[j] >> 32 == m[i]; j++)
            sp[n++] = (uint32_t)ix[j];
    }
    int rc = memclass_retained(a->classes, sp, n, a->h->nobj, out, err);
    free(sp);
    return rc;
}

int findings_finish(findings *fs, const analysis *a, report_finding **out, size_t *nout,
                    hs_error *err)
{
    int rc = HS_OK;
    uint64_t *ix = NULL;
    uint8_t *mark = calloc((size_t)a->h->nnodes + 1, 1);
    if (!mark) {
        rc = nomem(err, "a mark per node", "");
        goto out;
    }
    for (size_t i = 0; i < fs->n; i++) {
        report_finding *f = &fs->items[i];
        size_t k = fs->nmembers[i];
        f->objects = malloc((k ? k : 1) * sizeof *f->objects);
        if (!f->objects) {
            rc = nomem(err, "the objects of ", f->signature);
            goto out;
        }
        f->nobjects = k;
        f->bytes = 0;
        for (size_t j = 0; j < k; j++) {
            uint32_t v = fs->members[i][j];
            f->objects[j] = v < a->h->nobj ? heap_obj_ptr(a->h, v) : a->h->aux[v - a->h->nobj].addr;
            f->bytes += v < a->h->nobj ? heap_obj_cost(a->h, v) : 0;
        }
        if (f->kind == REPORT_FINALIZER_PINNED && a->classes) {
            if (!ix && !(ix = special_index(a))) {
                rc = nomem(err, "the index of finalizers", "");
                goto out;
            }
            if ((rc = pinned_retained(a, ix, fs->members[i], k, &f->retained_bytes, err)) < 0)
                goto out;
        } else if (group_retained(a, fs->members[i], k, mark, &f->retained_bytes) < 0) {
            rc = nomem(err, "the retained bytes of ", f->signature);
            goto out;
        }
    }
    if (!fs->n)
        goto out;
    report_finding *all = realloc(*out, (*nout + fs->n) * sizeof *all);
    if (!all) {
        rc = nomem(err, "the report's findings", "");
        goto out;
    }
    memcpy(all + *nout, fs->items, fs->n * sizeof *all);
    *out = all;
    *nout += fs->n;
    for (size_t i = 0; i < fs->n; i++)
        free(fs->members[i]);
    fs->n = 0; /* ownership of the findings moved to *out */
    u64map_release(&fs->by_signature);
out:
    free(ix);
    free(mark);
    return rc;
}

int findings_drop(const analysis *a, report_finding *arr, size_t *n, int kind,
                  const uint32_t *drop, hs_error *err)
{
    const heap *h = a->h;
    int rc = HS_OK;
    uint32_t *m = NULL;
    uint8_t *mark = calloc((size_t)h->nnodes + 1, 1);
    if (!mark)
        return nomem(err, "a mark per node", "");
    for (size_t i = 0; i < *n; i++) {
        report_finding *f = &arr[i];
        size_t k = 0;
        if (f->kind == kind) {
            free(m);
            if (!(m = malloc((f->nobjects + 1) * sizeof *m))) {
                rc = nomem(err, "the objects of ", f->signature);
                goto out;
            }
            f->bytes = 0;
            for (size_t j = 0; j < f->nobjects; j++) {
                uint32_t v = heap_object_at(h, f->objects[j]);
                if (v < h->nobj && drop[v])
                    continue;
                f->objects[k] = f->objects[j];
                f->bytes += v < h->nobj ? heap_obj_cost(h, v) : 0;
                if (v < h->nobj)
                    m[k] = v;
                k++;
            }
            f->nobjects = k;
            if (k && group_retained(a, m, k, mark, &f->retained_bytes) < 0) {
                rc = nomem(err, "the retained bytes of ", f->signature);
                goto out;
            }
        }
    }
    size_t kept = 0; /* then, with nothing left to fail, the emptied ones go */
    for (size_t i = 0; i < *n; i++) {
        if (arr[i].kind == kind && !arr[i].nobjects)
            report_finding_release(&arr[i]);
        else
            arr[kept++] = arr[i];
    }
    *n = kept;
out:
    free(m);
    free(mark);
    return rc;
}

void findings_release(findings *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        report_finding_release(&fs->items[i]);
    for (size_t i = 0; i < fs->n; i++)
        free(fs->members[i]);
    free(fs->items);
    free(fs->members);
    free(fs->nmembers);
    free(fs->capmembers);
    u64map_release(&fs->by_signature);
    memset(fs, 0, sizeof *fs);
}
