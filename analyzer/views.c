/* views.c - the HTML page's views (views.h): sites, the dominator tree top-down, and node
 * details. Everything here is bounded by the options, not by the heap: the only passes over
 * every node are dom_top's and one over the immediate dominators (children counts). */
#include "views.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "describe.h"
#include "hs_search.h"
#include "tables.h"
#include "u64map.h"
#include "vec.h"

#define LEFT_OUT UINT32_MAX

/* A referrer whose field offset is found later, once per referring node (referrers_fields). */
typedef struct pending_ref {
    uint64_t key;    /* src << 32 | dst: the order referrers_fields takes them in */
    size_t obj, ref; /* v->objects[obj].referrers[ref] */
} pending_ref;

typedef struct vctx {
    analysis *a;
    views_options o;
    report_views *v;
    size_t cap_objects;
    size_t refs_left; /* fields and referrers all nodes may still list together */
    u64map detailed;  /* node -> index in v->objects, or LEFT_OUT */
    u64map tree_at;   /* node -> index in build_tree's array */
    uint64_t *in_tree; /* a bit per node: in tree_at */
    u64map aux_at;    /* a non-object node's address << 2 | heap_node_kind -> node */
    int aux_indexed;
    pending_ref *pend;
    size_t npend, cap_pend;
    hs_error *err;
} vctx;

static int nomem(vctx *c, const char *what)
{
    return hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET, "views: out of memory for %s",
                        what);
}

static const char *state_name(live_state s)
{
    static const char *const names[LIVE_NSTATES] = {
        [LIVE_GARBAGE] = "garbage",
        [LIVE_IN_USE] = "in use",
        [LIVE_PENDING] = "pending finalization",
        [LIVE_PINNED] = "finalizer-pinned",
        [LIVE_FIN_REACHABLE] = "kept alive for a finalizer",
    };
    return (unsigned)s < LIVE_NSTATES ? names[s] : "unknown";
}

/* The program's offset of a raw field of node v (past a malloc header). */
static uint32_t program_field(const heap *h, uint32_t v, uint32_t raw)
{
    uint32_t hdr = v < h->nobj ? h->obj_hdr[v] : 0;
    return raw >= hdr ? raw - hdr : raw;
}

/* Fills o->fields with v's first pointer fields, in the graph's (slot) order. */
static int fill_fields(vctx *c, report_object *o, uint32_t v)
{
    const analysis *a = c->a;
    const graph *g = a->h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    o->fields_total = off[v + 1] - off[v];
    size_t n = o->fields_total < c->o.max_refs ? (size_t)o->fields_total : c->o.max_refs;
    if (n > c->refs_left)
        n = c->refs_left;
    c->refs_left -= n;
    if (!n)
        return HS_OK;
    if (!(o->fields = calloc(n, sizeof *o->fields)))
        return HS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t e = off[v] + (uint32_t)i;
        int rc = describe_step(a, dst[e], program_field(a->h, v, fld[e]), &o->fields[i]);
        o->nfields = i + 1;
        if (rc < 0 || (rc = describe_field(a, v, fld[e], &o->fields[i])) < 0)
            return rc;
    }
    return HS_OK;
}

/* Fills o->referrers with the first distinct nodes pointing to v (their fields come later). */
static int fill_referrers(vctx *c, size_t obj, uint32_t v)
{
    const analysis *a = c->a;
    const graph *g = a->h->g;
    const uint32_t *in = graph_in_offsets(g), *src = graph_in_src(g);
    report_object *o = &c->v->objects[obj];
    size_t cap = 0;
    for (uint32_t e = in[v]; e < in[v + 1]; e++) {
        if (e > in[v] && src[e] == src[e - 1])
            continue; /* parallel edges: one referrer */
        o->referrers_total++;
        if (o->nreferrers == c->o.max_refs || !c->refs_left)
            continue;
        c->refs_left--;
        report_step s;
        int rc = describe_step(a, src[e], REPORT_NO_FIELD, &s);
        if (rc < 0)
            return rc;
        if (VEC_PUSH(o->referrers, o->nreferrers, cap, s) < 0) {
            report_step_release(&s);
            return HS_ERR_NOMEM;
        }
        pending_ref p = {(uint64_t)src[e] << 32 | v, obj, o->nreferrers - 1};
        if (VEC_PUSH(c->pend, c->npend, c->cap_pend, p) < 0)
            return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* Gives node v details, unless it has them or the bound is reached. */
static int add_details(vctx *c, uint32_t v)
{
    const analysis *a = c->a;
    const heap *h = a->h;
    uint32_t *slot = u64map_upsert(&c->detailed, v, UINT32_MAX - 1);
    if (!slot)
        return nomem(c, "the page's nodes");
    if (*slot != UINT32_MAX - 1)
        return HS_OK;
    report_views *vw = c->v;
    if (vw->nobjects >= c->o.max_objects) {
        *slot = LEFT_OUT;
        vw->objects_left_out++;
        return HS_OK;
    }
    report_object o = {0};
    if (VEC_PUSH(vw->objects, vw->nobjects, c->cap_objects, o) < 0)
        return nomem(c, "the page's nodes");
    *slot = (uint32_t)(vw->nobjects - 1);
    report_object *p = &vw->objects[vw->nobjects - 1];
    int rc = describe_step(a, v, REPORT_NO_FIELD, &p->node);
    if (rc >= 0 && v < h->nobj) {
        const char *site = heap_site_name(h, v);
        if (!(p->state = report_strdup(state_name(live_state_of(a->live, v)))) ||
            (site && !(p->site = report_strdup(site))))
            rc = HS_ERR_NOMEM;
    }
    p->retained_bytes = dom_retained(a->dom, v);
    if (rc >= 0)
        rc = fill_fields(c, p, v);
    if (rc >= 0)
        rc = fill_referrers(c, vw->nobjects - 1, v);
    return rc < 0 ? nomem(c, "the page's nodes") : HS_OK;
}

/* The node a step of a report path names, or GRAPH_NONE (finalizer holders, unknowns). */
static uint32_t node_of_step(vctx *c, const report_step *s)
{
    const heap *h = c->a->h;
    int kind;
    switch (s->kind) {
    case REPORT_NODE_OBJECT:
    case REPORT_NODE_CLOSURE: return s->addr ? heap_object_at(h, s->addr) : GRAPH_NONE;
    case REPORT_NODE_GLOBAL: kind = HEAP_NODE_GLOBAL; break;
    case REPORT_NODE_FRAME: kind = HEAP_NODE_FRAME; break;
    case REPORT_NODE_ROOT: kind = HEAP_NODE_ROOT; break;
    default: return GRAPH_NONE;
    }
    if (!c->aux_indexed) { /* (a failed put only loses details) */
        for (uint32_t i = 0; i < h->naux; i++)
            u64map_put(&c->aux_at, h->aux[i].addr << 2 | h->aux[i].kind, h->nobj + i);
        c->aux_indexed = 1;
    }
    uint32_t node;
    return u64map_get(&c->aux_at, s->addr << 2 | (uint64_t)kind, &node) ? node : GRAPH_NONE;
}

static int add_steps(vctx *c, const report_step *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v = node_of_step(c, &s[i]);
        int rc = v == GRAPH_NONE ? HS_OK : add_details(c, v);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}

/* Stage 0: the nodes of a finding's path and cycle; stage 1: its listed objects. */
static int add_finding(vctx *c, const report_finding *f, int stage)
{
    const heap *h = c->a->h;
    if (stage == 0) {
        int rc = add_steps(c, f->path.steps, f->path.nsteps);
        return rc < 0 ? rc : add_steps(c, f->cycle, f->ncycle);
    }
    size_t n = f->nobjects < c->v->listed ? f->nobjects : c->v->listed;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = heap_object_at(h, f->objects[i]);
        int rc = v == HEAP_NONE ? HS_OK : add_details(c, v);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}

static int by_key(const void *x, const void *y)
{
    uint64_t p = ((const pending_ref *)x)->key, q = ((const pending_ref *)y)->key;
    return p < q ? -1 : p > q;
}

/* The field of every pending referrer: one scan of each referring node's out-edges (a field
 * looked up per referrer would scan a large array once per object it points to). */
static int referrers_fields(vctx *c)
{
    const analysis *a = c->a;
    const graph *g = a->h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    if (c->npend)
        qsort(c->pend, c->npend, sizeof *c->pend, by_key);
    for (size_t lo = 0, hi; lo < c->npend; lo = hi) {
        uint32_t s = (uint32_t)(c->pend[lo].key >> 32);
        for (hi = lo; hi < c->npend && c->pend[hi].key >> 32 == s; hi++)
            ;
        for (uint32_t e = off[s]; e < off[s + 1]; e++) {
            uint64_t want = (uint64_t)s << 32 | dst[e];
            size_t l = lo + hs_lower_bound64(c->pend + lo, hi - lo, sizeof *c->pend,
                                             offsetof(pending_ref, key), want);
            if (l == hi || c->pend[l].key != want)
                continue;
            report_step *st = &c->v->objects[c->pend[l].obj].referrers[c->pend[l].ref];
            if (st->field != REPORT_NO_FIELD)
                continue; /* the first edge names the field */
            st->field = program_field(a->h, s, fld[e]);
            if (describe_field(a, s, fld[e], st) < 0)
                return nomem(c, "the referrers' fields");
        }
    }
    return HS_OK;
}

static int by_addr(const void *x, const void *y)
{
    const report_object *p = x, *q = y;
    if (p->node.addr != q->node.addr)
        return p->node.addr < q->node.addr ? -1 : 1;
    return p->node.kind - q->node.kind;
}

/* The tree's order: by retained bytes, largest first, then by node id. */
typedef struct tnode {
    uint32_t node, parent; /* parent: index in the tnode array, or LEFT_OUT at the top */
    uint32_t first, next;  /* first child, next sibling (indexes), LEFT_OUT for none */
    uint64_t retained;
} tnode;

/* Whether x comes before y: more retained bytes, then the lower id (dom_top's order). */
static int ranks_before(const tnode *x, const tnode *y)
{
    return x->retained > y->retained || (x->retained == y->retained && x->node < y->node);
}

/* Puts the tree's nodes in c->v->tree in preorder, siblings largest first. */
static int tree_emit(vctx *c, tnode *t, size_t n, const uint32_t *idom)
{
    const analysis *a = c->a;
    report_views *vw = c->v;
    uint32_t *stack = malloc((n ? n : 1) * sizeof *stack);
    size_t *at = malloc((n ? n : 1) * sizeof *at); /* tnode index -> tree index */
    int rc = HS_OK;
    if (!stack || !(vw->tree = calloc(n ? n : 1, sizeof *vw->tree)) || !at) {
        rc = nomem(c, "the dominator tree");
        goto out;
    }
    size_t sp = 0;
    for (size_t i = n; i-- > 0;) /* the tops, largest first on the stack's top */
        if (t[i].parent == LEFT_OUT)
            stack[sp++] = (uint32_t)i;
    while (sp) {
        uint32_t i = stack[--sp];
        report_tree_node *tn = &vw->tree[vw->ntree];
        at[i] = vw->ntree++;
        tn->parent = t[i].parent == LEFT_OUT ? REPORT_NO_PARENT : at[t[i].parent];
        tn->retained_bytes = t[i].retained;
        tn->rest_bytes = t[i].retained - graph_size(a->h->g, t[i].node);
        if (describe_step(a, t[i].node, REPORT_NO_FIELD, &tn->node) < 0) {
            rc = nomem(c, "the dominator tree");
            goto out;
        }
        size_t mark = sp;
        for (uint32_t k = t[i].first; k != LEFT_OUT; k = t[k].next) {
            stack[sp++] = k;
            tn->rest_bytes -= t[k].retained < tn->rest_bytes ? t[k].retained : tn->rest_bytes;
        }
        for (size_t l = mark, r = sp; l + 1 < r; l++, r--) { /* largest child on top */
            uint32_t x = stack[l];
            stack[l] = stack[r - 1];
            stack[r - 1] = x;
        }
    }
    /* How many children each has in the whole tree (one pass over every node's idom). */
    uint32_t nn = graph_node_count(a->h->g);
    for (uint32_t v = 0; v < nn; v++) {
        uint32_t p = idom[v], i;
        if (p < nn && bitset_get(c->in_tree, p) && u64map_get(&c->tree_at, p, &i))
            vw->tree[at[i]].children++;
    }
out:
    free(stack);
    free(at);
    return rc;
}

/* The tree_nodes nodes with the largest retained sizes and their dominators (the set is then
 * closed under parents), as a forest top-down. */
static int build_tree(vctx *c)
{
    const analysis *a = c->a;
    const uint32_t *idom = dom_idoms(a->dom);
    size_t k = c->o.tree_nodes, n = 0, cap = 0;
    tnode *t = NULL;
    int rc = HS_OK;
    uint32_t *top = malloc(k * sizeof *top);
    if (!top || !(c->in_tree = bitset_new(graph_node_count(a->h->g)))) {
        rc = nomem(c, "the dominator tree");
        goto out;
    }
    size_t ntop = dom_top(a->dom, k, 0, top);
    for (size_t i = 0; i < ntop; i++) {
        /* the node, then its dominators until one is in the set (ties may leave one out) */
        for (uint32_t v = top[i]; v != DOM_VROOT && v != GRAPH_NONE; v = idom[v]) {
            if (bitset_get(c->in_tree, v))
                break;
            tnode x = {v, LEFT_OUT, LEFT_OUT, LEFT_OUT, dom_retained(a->dom, v)};
            if (VEC_PUSH(t, n, cap, x) < 0) {
                rc = nomem(c, "the dominator tree");
                goto out;
            }
            bitset_set(c->in_tree, v);
        }
    }
    for (size_t i = 1; i < n; i++) { /* dom_top's order, with the dominators added */
        tnode x = t[i];
        size_t j = i;
        for (; j > 0 && ranks_before(&x, &t[j - 1]); j--)
            t[j] = t[j - 1];
        t[j] = x;
    }
    /* Index the set, then link each node to its parent, in reverse so that the children
     * lists come out largest first. */
    for (size_t i = 0; i < n; i++)
        if (u64map_put(&c->tree_at, t[i].node, (uint32_t)i) < 0) {
            rc = nomem(c, "the dominator tree");
            goto out;
        }
    for (size_t i = n; i-- > 0;) {
        uint32_t p = idom[t[i].node], pi;
        if (p == DOM_VROOT || !u64map_get(&c->tree_at, p, &pi))
            continue;
        t[i].parent = pi;
        t[i].next = t[pi].first;
        t[pi].first = (uint32_t)i;
    }
    if ((rc = tree_emit(c, t, n, idom)) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((rc = add_details(c, t[i].node)) < 0)
            goto out;
out:
    free(top);
    free(t);
    return rc;
}

int views_build(analysis *a, const views_options *o, hs_error *err)
{
    report *r = a->rep;
    vctx c = {.a = a, .err = err};
    if (o)
        c.o = *o;
    if (!c.o.listed)
        c.o.listed = 50;
    if (!c.o.tree_nodes)
        c.o.tree_nodes = 300;
    if (!c.o.sites)
        c.o.sites = 30;
    if (!c.o.max_objects)
        c.o.max_objects = 1000;
    if (!c.o.max_refs)
        c.o.max_refs = 12;
    c.refs_left = c.o.max_objects * c.o.max_refs; /* half of what the nodes could list */
    if (r->views)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "views: the report has views");
    if (!(c.v = r->views = calloc(1, sizeof *r->views)))
        return nomem(&c, "the views");
    c.v->listed = c.o.listed;
    int rc = tables_histogram_rows(a, c.o.sites, TABLES_BY_SITE, &c.v->sites, &c.v->nsites, err);
    for (int stage = 0; stage < 2 && rc >= 0; stage++) {
        for (size_t i = 0; i < r->nfindings && rc >= 0; i++)
            rc = add_finding(&c, &r->findings[i], stage);
        for (size_t i = 0; i < r->ninfo && rc >= 0; i++)
            rc = add_finding(&c, &r->info[i], stage);
    }
    if (rc >= 0)
        rc = build_tree(&c);
    if (rc >= 0)
        rc = referrers_fields(&c);
    if (rc >= 0 && c.v->nobjects)
        qsort(c.v->objects, c.v->nobjects, sizeof *c.v->objects, by_addr);
    u64map_release(&c.detailed);
    u64map_release(&c.tree_at);
    u64map_release(&c.aux_at);
    free(c.in_tree);
    free(c.pend);
    return rc;
}
