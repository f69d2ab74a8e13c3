/* tables.c - top retainers and the live-object histogram. */
#include "tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "strpool.h"
#include "u64map.h"
#include "vec.h"

static int nomem(hs_error *err, const char *table)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "tables: out of memory for the %s",
                        table);
}

int tables_retainers(analysis *a, size_t n, hs_error *err)
{
    report *r = a->rep;
    int rc = HS_OK;
    uint32_t *top = malloc((n ? n : 1) * sizeof *top);
    if (!top) {
        rc = nomem(err, "top retainers");
        goto out;
    }
    size_t k = dom_top(a->dom, n, DOM_TOP_TOPLEVEL, top);
    if (!(r->retainers = calloc(k ? k : 1, sizeof *r->retainers))) {
        rc = nomem(err, "top retainers");
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        uint32_t v = top[i];
        report_step st;
        if (describe_step(a, v, REPORT_NO_FIELD, &st) < 0) {
            rc = nomem(err, "top retainers");
            goto out;
        }
        report_row *row = &r->retainers[r->nretainers++];
        row->label = describe_label(a, v);
        row->group = report_strdup(report_node_kind_name(st.kind));
        row->addr = st.addr;
        row->count = 1;
        row->bytes = st.size; /* object bytes, or a global's symbol size, or a frame's size */
        row->retained_bytes = dom_retained(a->dom, v);
        free(st.name);
        free(st.shape);
        if (!row->label || !row->group) {
            rc = nomem(err, "top retainers");
            goto out;
        }
    }
out:
    free(top);
    return rc;
}

typedef struct hist_acc {
    uint32_t node;  /* a representative object */
    int group;      /* 0 type, 1 closure, 2 shape, 3 site */
    int cls;        /* report_class + 1 */
    uint64_t count, bytes;
} hist_acc;

static int by_bytes_desc(const void *x, const void *y)
{
    const hist_acc *p = x, *q = y;
    if (p->bytes != q->bytes)
        return p->bytes < q->bytes ? 1 : -1;
    return p->node < q->node ? -1 : p->node > q->node;
}

int tables_histogram(analysis *a, size_t n, unsigned by, hs_error *err)
{
    return tables_histogram_rows(a, n, by, &a->rep->histogram, &a->rep->nhistogram, err);
}

int tables_histogram_rows(const analysis *a, size_t n, unsigned by, report_row **rows,
                          size_t *nrows, hs_error *err)
{
    const heap *h = a->h;
    int rc = HS_OK;
    u64map idx = {0}; /* closures and sites: (group << 32 | id) -> accumulator */
    hist_acc *acc = NULL;
    size_t nacc = 0, cap = 0;
    /* Types and shapes, the groups nearly every object falls in, index flat arrays: one
     * entry per (type or shape, class). */
    const size_t nc = REPORT_NCLASSES;
    uint32_t *by_type = malloc(((size_t)h->ntypes + 1) * nc * sizeof *by_type);
    uint32_t *by_shape = malloc(((size_t)h->nshapes + 1) * nc * sizeof *by_shape);
    if (!by_type || !by_shape) {
        rc = nomem(err, "histogram");
        goto out;
    }
    for (size_t t = 0; t < (size_t)h->ntypes * nc; t++)
        by_type[t] = UINT32_MAX;
    for (size_t sh = 0; sh < (size_t)h->nshapes * nc; sh++)
        by_shape[sh] = UINT32_MAX;
    for (uint32_t v = 0; v < h->nobj; v++) {
        report_class k = memclass_of(a->classes, v);
        int group;
        uint32_t *slot;
        uint32_t site;
        if (by & TABLES_BY_SITE) {
            if (!u64map_get(&h->obj_site, v, &site))
                continue;
            group = 3;
            slot = u64map_upsert(&idx, (uint64_t)(group << 4 | k) << 32 | site, UINT32_MAX);
        } else if ((by & TABLES_BY_CLOSURE) && h->obj_func[v] != HEAP_NONE) {
            group = 1;
            slot = u64map_upsert(&idx, (uint64_t)(group << 4 | k) << 32 | h->obj_func[v],
                                 UINT32_MAX);
        } else if ((by & TABLES_BY_TYPE) && h->obj_type[v] != HEAP_NONE) {
            group = 0;
            slot = &by_type[h->obj_type[v] * nc + k];
        } else if (by & TABLES_BY_SHAPE) {
            group = 2;
            slot = &by_shape[h->obj_shape[v] * nc + k];
        } else {
            continue;
        }
        if (!slot) {
            rc = nomem(err, "histogram");
            goto out;
        }
        if (*slot == UINT32_MAX) {
            hist_acc x = {v, group, (int)k + 1, 0, 0};
            if (VEC_PUSH(acc, nacc, cap, x) < 0) {
                rc = nomem(err, "histogram");
                goto out;
            }
            *slot = (uint32_t)(nacc - 1);
        }
        acc[*slot].count++;
        acc[*slot].bytes += heap_obj_cost(h, v);
    }
    if (nacc)
        qsort(acc, nacc, sizeof *acc, by_bytes_desc);
    size_t k = nacc < n ? nacc : n;
    if (!(*rows = calloc(k ? k : 1, sizeof **rows))) {
        rc = nomem(err, "histogram");
        goto out;
    }
    static const char *groups[] = {"type", "closure", "shape", "site"};
    for (size_t i = 0; i < k; i++) {
        report_row *row = &(*rows)[(*nrows)++];
        row->label = acc[i].group == 3 ? report_strdup(heap_site_name(h, acc[i].node))
                                       : describe_label(a, acc[i].node);
        row->group = report_strdup(groups[acc[i].group]);
        row->count = acc[i].count;
        row->bytes = acc[i].bytes;
        row->cls = acc[i].cls;
        if (!row->label || !row->group) {
            rc = nomem(err, "histogram");
            goto out;
        }
    }
out:
    free(by_type);
    free(by_shape);
    u64map_release(&idx);
    free(acc);
    return rc;
}

/* A label without the characters that separate folded-stack frames and counts. */
static char *frame_label(const analysis *a, uint32_t v)
{
    char *l = describe_label(a, v);
    for (char *c = l; c && *c; c++)
        if (*c == ';' || *c == ' ' || *c == '\n')
            *c = *c == ';' ? ',' : '_';
    return l;
}

int tables_folded(analysis *a, unsigned depth, hs_error *err)
{
    const heap *h = a->h;
    const uint32_t *idom = dom_idoms(a->dom);
    report *r = a->rep;
    if (!depth)
        depth = 16;
    int rc = HS_OK;
    strpool stacks = {0};
    u64map row_of = {0};
    size_t cap = 0, buflen = 4096;
    /* Labels per node are computed once; chains are joined per object and aggregated. */
    char **label = calloc((size_t)h->nnodes + 1, sizeof *label);
    uint32_t *chain = malloc((depth + 1) * sizeof *chain);
    char *buf = malloc(buflen);
    if (!label || !chain || !buf) {
        rc = nomem(err, "flame-graph rows");
        goto out;
    }
    for (uint32_t v = 0; v < h->nobj; v++) {
        unsigned n = 0; /* garbage (no dominators) is its own chain */
        for (uint32_t u = v; u < h->nnodes && n < depth; u = idom[u])
            chain[n++] = u;
        const char *cls = report_class_key(memclass_of(a->classes, v));
        size_t len = strlen(cls); /* buf holds more than the longest class key */
        memcpy(buf, cls, len);
        for (unsigned i = n; i-- > 0;) {
            uint32_t u = chain[i];
            if (!label[u] && !(label[u] = frame_label(a, u))) {
                rc = nomem(err, "flame-graph rows");
                goto out;
            }
            size_t k = strlen(label[u]);
            if (len + k + 2 > buflen) {
                char *nb = realloc(buf, (len + k + 2) * 2);
                if (!nb) {
                    rc = nomem(err, "flame-graph rows");
                    goto out;
                }
                buf = nb;
                buflen = (len + k + 2) * 2;
            }
            buf[len++] = ';';
            memcpy(buf + len, label[u], k);
            len += k;
        }
        uint32_t off = strpool_intern(&stacks, buf, len);
        uint32_t *row = off == UINT32_MAX ? NULL : u64map_upsert(&row_of, off, UINT32_MAX);
        if (!row) {
            rc = nomem(err, "flame-graph rows");
            goto out;
        }
        if (*row == UINT32_MAX) {
            report_row x = {.label = NULL, .group = NULL};
            if (VEC_PUSH(r->folded, r->nfolded, cap, x) < 0) {
                rc = nomem(err, "flame-graph rows");
                goto out;
            }
            *row = (uint32_t)(r->nfolded - 1);
            r->folded[*row].addr = off; /* the label is filled in below */
        }
        r->folded[*row].count++;
        r->folded[*row].bytes += heap_obj_cost(h, v);
    }
    for (size_t i = 0; i < r->nfolded; i++) {
        r->folded[i].label = report_strdup(strpool_get(&stacks, (uint32_t)r->folded[i].addr));
        r->folded[i].group = report_strdup("stack");
        r->folded[i].addr = 0;
        if (!r->folded[i].label || !r->folded[i].group) {
            rc = nomem(err, "flame-graph rows");
            goto out;
        }
    }
out:
    for (uint32_t v = 0; label && v < h->nnodes; v++)
        free(label[v]);
    free(label);
    free(chain);
    free(buf);
    strpool_release(&stacks);
    u64map_release(&row_of);
    return rc;
}
