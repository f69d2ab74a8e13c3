/* tables.c - top retainers and the live-object histogram. */
#include "tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "u64map.h"
#include "vec.h"

int tables_retainers(analysis *a, size_t n)
{
    report *r = a->rep;
    uint32_t *top = malloc((n ? n : 1) * sizeof *top);
    if (!top)
        return HS_ERR_NOMEM;
    size_t k = dom_top(a->dom, n, DOM_TOP_TOPLEVEL, top);
    r->retainers = calloc(k ? k : 1, sizeof *r->retainers);
    int rc = r->retainers ? HS_OK : HS_ERR_NOMEM;
    for (size_t i = 0; i < k && rc >= 0; i++) {
        uint32_t v = top[i];
        report_step st;
        rc = describe_step(a, v, REPORT_NO_FIELD, &st);
        if (rc < 0)
            break;
        report_row *row = &r->retainers[r->nretainers++];
        row->label = describe_label(a, v);
        row->group = report_strdup(report_node_kind_name(st.kind));
        row->addr = st.addr;
        row->count = 1;
        row->bytes = st.size; /* object bytes, or a global's symbol size, or a frame's size */
        row->retained_bytes = dom_retained(a->dom, v);
        free(st.name);
        free(st.shape);
        if (!row->label || !row->group)
            rc = HS_ERR_NOMEM;
    }
    free(top);
    return rc;
}

typedef struct hist_acc {
    uint32_t node;  /* a representative object */
    int group;      /* 0 type, 1 closure, 2 shape, 3 site */
    uint64_t count, bytes;
} hist_acc;

static int by_bytes_desc(const void *x, const void *y)
{
    const hist_acc *p = x, *q = y;
    if (p->bytes != q->bytes)
        return p->bytes < q->bytes ? 1 : -1;
    return p->node < q->node ? -1 : p->node > q->node;
}

int tables_histogram(analysis *a, size_t n, unsigned by)
{
    const heap *h = a->h;
    u64map idx = {0};
    hist_acc *acc = NULL;
    size_t nacc = 0, cap = 0;
    int rc = HS_OK;
    for (uint32_t v = 0; v < h->nobj && rc >= 0; v++) {
        if (live_state_of(a->live, v) != LIVE_IN_USE)
            continue;
        int group;
        uint64_t id;
        if (by & TABLES_BY_SITE) {
            if (!heap_site_name(h, v))
                continue;
            group = 3;
            id = h->obj_site[v];
        } else if ((by & TABLES_BY_CLOSURE) && h->obj_func[v] != HEAP_NONE) {
            group = 1;
            id = h->obj_func[v];
        } else if ((by & TABLES_BY_TYPE) && h->obj_type[v] != HEAP_NONE) {
            group = 0;
            id = h->obj_type[v];
        } else if (by & TABLES_BY_SHAPE) {
            group = 2;
            id = h->obj_shape[v];
        } else {
            continue;
        }
        uint32_t *slot = u64map_upsert(&idx, (uint64_t)group << 32 | id, UINT32_MAX);
        if (!slot) {
            rc = HS_ERR_NOMEM;
            break;
        }
        if (*slot == UINT32_MAX) {
            hist_acc x = {v, group, 0, 0};
            if (VEC_PUSH(acc, nacc, cap, x) < 0) {
                rc = HS_ERR_NOMEM;
                break;
            }
            *slot = (uint32_t)(nacc - 1);
        }
        acc[*slot].count++;
        acc[*slot].bytes += heap_obj_bytes(h, v);
    }
    u64map_release(&idx);
    if (rc >= 0 && nacc)
        qsort(acc, nacc, sizeof *acc, by_bytes_desc);
    report *r = a->rep;
    size_t k = nacc < n ? nacc : n;
    if (rc >= 0 && !(r->histogram = calloc(k ? k : 1, sizeof *r->histogram)))
        rc = HS_ERR_NOMEM;
    static const char *groups[] = {"type", "closure", "shape", "site"};
    for (size_t i = 0; i < k && rc >= 0; i++) {
        report_row *row = &r->histogram[r->nhistogram++];
        row->label = acc[i].group == 3 ? report_strdup(heap_site_name(h, acc[i].node))
                                       : describe_label(a, acc[i].node);
        row->group = report_strdup(groups[acc[i].group]);
        row->count = acc[i].count;
        row->bytes = acc[i].bytes;
        if (!row->label || !row->group)
            rc = HS_ERR_NOMEM;
    }
    free(acc);
    return rc;
}
