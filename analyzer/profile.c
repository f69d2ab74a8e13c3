/* profile.c - the pprof profile's samples (profile.h).
 *
 * The chains form a trie: a trie node is a chain prefix (its parent's frames, then one frame),
 * interned by (parent, frame), so each distinct chain is built once. Every graph node gets the
 * trie node of its own chain from its BFS parent's, memoised (each node is computed once: the
 * work is linear in the nodes, not in nodes times depth). */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "strpool.h"
#include "u64map.h"
#include "vec.h"

#define NONE UINT32_MAX
#define TRIE_ROOT 0

typedef struct trie_node {
    uint32_t parent, frame, depth;
    uint32_t ellipsis;           /* the "…" node this one is at or below, else NONE */
    uint32_t last_field, last_node; /* the hop that ends here (collapsing repeats) */
} trie_node;

/* Direct-mapped caches in front of the hash maps: object after object asks about the same few
 * types, fields and chains. */
#define MEMO_SLOTS 1024
typedef struct memo_node {
    uint64_t key; /* label_key + 1; 0: empty */
    uint32_t frame;
} memo_node;
typedef struct memo_field {
    uint32_t holder, raw, frame;
    int kind; /* field_key's, or -1: empty */
} memo_field;
typedef struct memo_hop {
    uint32_t base, field, node, out; /* out NONE: empty */
} memo_hop;

typedef struct pctx {
    analysis *a;
    const paths_tree *t;
    strpool names;
    uint32_t *frame_off;  /* frame id -> offset in names */
    size_t nframes, cap_frames;
    u64map frame_of;      /* offset in names -> frame id */
    u64map node_frame;    /* label key (label_key) -> frame id */
    u64map field_frame[3]; /* by holder (field_key): id << 32 | offset -> frame id + 1, or
                              0: no name */
    trie_node *trie;
    size_t ntrie, cap_trie;
    u64map trie_at;       /* parent << 32 | frame -> trie node */
    uint32_t ellipsis;    /* the frame id of "…" */
    uint32_t *field_of;   /* per node: the raw field of its BFS parent pointing to it */
    uint32_t *tid;        /* per node: its chain's trie node, NONE until computed */
    uint32_t *stack;
    size_t cap_stack;
    memo_node memo_nodes[MEMO_SLOTS];
    memo_field memo_fields[MEMO_SLOTS];
    memo_hop memo_hops[MEMO_SLOTS];
    hs_error *err;
} pctx;

static size_t memo_slot(uint64_t a, uint64_t b, uint64_t c)
{
    return (size_t)(((a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ c) >> 20) %
           MEMO_SLOTS;
}

static int nomem(pctx *c)
{
    return hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET,
                        "profile: out of memory for the reference chains");
}

/* The id of frame s[0..n), or NONE when out of memory. */
static uint32_t frame_id(pctx *c, const char *s, size_t n)
{
    uint32_t off = strpool_intern(&c->names, s, n);
    uint32_t *id = off == UINT32_MAX ? NULL : u64map_upsert(&c->frame_of, off, NONE);
    if (!id)
        return NONE;
    if (*id == NONE) {
        if (VEC_PUSH(c->frame_off, c->nframes, c->cap_frames, off) < 0)
            return NONE;
        *id = (uint32_t)(c->nframes - 1);
    }
    return *id;
}

/* What a node's frame depends on: its closure function, type or shape; a non-object node's
 * kind and name (a frame's goroutine is left out, so that goroutines of one function merge). */
static uint64_t label_key(const heap *h, uint32_t v)
{
    if (v < h->nobj) {
        if (h->obj_func[v] != HEAP_NONE)
            return 1ull << 32 | h->obj_func[v];
        if (h->obj_type[v] != HEAP_NONE)
            return 2ull << 32 | h->obj_type[v];
        return 3ull << 32 | h->obj_shape[v];
    }
    const heap_aux *x = &h->aux[v - h->nobj];
    return (uint64_t)(4 + x->kind) << 32 | x->name;
}

static uint32_t node_frame(pctx *c, uint32_t v)
{
    const heap *h = c->a->h;
    uint64_t key = label_key(h, v);
    memo_node *m = &c->memo_nodes[memo_slot(key, 0, 0)];
    if (m->key == key + 1)
        return m->frame;
    uint32_t *id = u64map_upsert(&c->node_frame, key, NONE);
    if (id && *id != NONE)
        *m = (memo_node){key + 1, *id};
    if (!id || *id != NONE)
        return id ? *id : NONE;
    char *label;
    if (v >= h->nobj && h->aux[v - h->nobj].kind == HEAP_NODE_FRAME)
        label = report_strfmt("frame %s", strpool_get(&h->names, h->aux[v - h->nobj].name));
    else
        label = describe_label(c->a, v);
    uint32_t f = label ? frame_id(c, label, strlen(label)) : NONE;
    free(label);
    return *id = f;
}

/* What names the fields of node p: its type (0), its closure function (1) or, for a global or
 * a frame, the node itself (2), as *id; -1 for an object no type describes. */
static int field_key(const heap *h, uint32_t p, uint32_t *id)
{
    if (p >= h->nobj)
        return *id = p - h->nobj, 2;
    if (h->obj_func[p] != HEAP_NONE)
        return *id = h->obj_func[p], 1;
    if (h->obj_type[p] != HEAP_NONE)
        return *id = h->obj_type[p], 0;
    return -1;
}

/* The frame of the field of p that points to v, or NONE when no type names it:
 * ".items[3].next" reads "items[].next". Sets *failed when out of memory. */
static uint32_t field_frame(pctx *c, uint32_t p, uint32_t v, int *failed)
{
    const heap *h = c->a->h;
    uint32_t raw = c->field_of[v], holder;
    int k = field_key(h, p, &holder);
    if (k < 0 || raw == NONE)
        return NONE;
    memo_field *m = &c->memo_fields[memo_slot(holder, raw, (uint64_t)k)];
    if (m->kind == k && m->holder == holder && m->raw == raw)
        return m->frame;
    uint32_t *id = u64map_upsert(&c->field_frame[k], (uint64_t)holder << 32 | raw, NONE);
    if (id && *id != NONE)
        *m = (memo_field){holder, raw, *id ? *id - 1 : NONE, k};
    if (!id) {
        *failed = 1;
        return NONE;
    }
    if (*id != NONE)
        return *id ? *id - 1 : NONE;
    report_step s = {0};
    if (describe_field(c->a, p, raw, &s) < 0) {
        *failed = 1;
        return NONE;
    }
    uint32_t f = NONE;
    if (s.field_name) {
        char *w = s.field_name, *r = w + (*w == '.');
        for (; *r; r++) { /* drop the leading dot and the digits of indexes */
            *w++ = *r;
            if (*r == '[')
                while (r[1] >= '0' && r[1] <= '9')
                    r++;
        }
        *w = '\0';
        if (s.field_name[0] && (f = frame_id(c, s.field_name, strlen(s.field_name))) == NONE)
            *failed = 1; /* (an empty name: the pointer is the holder's whole value) */
    }
    report_step_release(&s);
    *id = f == NONE ? 0 : f + 1;
    return f;
}

/* The trie node for chain `parent` + frame; NONE when out of memory. */
static uint32_t intern(pctx *c, uint32_t parent, uint32_t frame)
{
    uint32_t *id = u64map_upsert(&c->trie_at, (uint64_t)parent << 32 | frame, NONE);
    if (!id || *id != NONE)
        return id ? *id : NONE;
    const trie_node *p = &c->trie[parent];
    trie_node n = {parent, frame, p->depth + 1, p->ellipsis, NONE, NONE};
    if (frame == c->ellipsis && p->ellipsis == NONE)
        n.ellipsis = (uint32_t)c->ntrie;
    if (VEC_PUSH(c->trie, c->ntrie, c->cap_trie, n) < 0)
        return NONE;
    return *id = (uint32_t)(c->ntrie - 1);
}

/* base's chain extended by the hop (field frame f or NONE, node frame nf), as profile.h says. */
static uint32_t extend(pctx *c, uint32_t base, uint32_t f, uint32_t nf)
{
    const trie_node *b = &c->trie[base];
    if (base != TRIE_ROOT && b->last_field == f && b->last_node == nf)
        return base;
    memo_hop *m = &c->memo_hops[memo_slot(base, f, nf)];
    if (m->out != NONE && m->base == base && m->field == f && m->node == nf)
        return m->out;
    uint32_t anchor = base;
    if (b->ellipsis != NONE)
        anchor = b->ellipsis;
    else if (b->depth >= PROFILE_DEPTH)
        anchor = intern(c, base, c->ellipsis);
    uint32_t x = anchor == NONE || f == NONE ? anchor : intern(c, anchor, f);
    if (x == NONE || (x = intern(c, x, nf)) == NONE)
        return NONE;
    c->trie[x].last_field = f;
    c->trie[x].last_node = nf;
    *m = (memo_hop){base, f, nf, x};
    return x;
}

/* For every node whose BFS parent something describes (field_key): the raw field of the first
 * edge from the parent to it (one pass over those parents' edges). */
static void find_fields(pctx *c)
{
    const heap *h = c->a->h;
    const graph *g = h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    for (uint32_t p = 0; p < h->nnodes; p++) {
        uint32_t id;
        if (field_key(h, p, &id) < 0 || live_state_of(c->a->live, p) != LIVE_IN_USE)
            continue;
        for (uint32_t e = off[p]; e < off[p + 1]; e++)
            if (c->field_of[dst[e]] == NONE && paths_parent(c->t, dst[e]) == p)
                c->field_of[dst[e]] = fld[e];
    }
}

/* The trie node of v's chain (computing those of its ancestors on the way). */
static uint32_t chain_of(pctx *c, uint32_t v)
{
    size_t sp = 0;
    uint32_t u = v;
    while (c->tid[u] == NONE) {
        if (sp == c->cap_stack &&
            vec_reserve((void **)&c->stack, &c->cap_stack, sp + 1, sizeof *c->stack) < 0)
            return NONE;
        c->stack[sp++] = u;
        if ((u = paths_parent(c->t, u)) == GRAPH_NONE)
            break;
    }
    int failed = 0;
    while (sp) {
        uint32_t x = c->stack[--sp], p = paths_parent(c->t, x);
        uint32_t nf = node_frame(c, x);
        uint32_t f = p == GRAPH_NONE ? NONE : field_frame(c, p, x, &failed);
        if (nf == NONE || failed)
            return NONE;
        c->tid[x] = p == GRAPH_NONE ? intern(c, TRIE_ROOT, nf) : extend(c, c->tid[p], f, nf);
        if (c->tid[x] == NONE)
            return NONE;
    }
    return c->tid[v];
}

/* Moves the frames into the report and gives each sample its chain (leaves[i]: sample i's
 * trie node). */
static int finish(pctx *c, const uint32_t *leaves)
{
    report_profile *pr = c->a->rep->profile;
    if (!(pr->frames = calloc(c->nframes + 1, sizeof *pr->frames)))
        return nomem(c);
    for (size_t i = 0; i < c->nframes; i++) {
        if (!(pr->frames[i] = report_strdup(strpool_get(&c->names, c->frame_off[i]))))
            return nomem(c);
        pr->nframes = i + 1;
    }
    for (size_t i = 0; i < pr->nsamples; i++) {
        report_sample *s = &pr->samples[i];
        size_t depth = c->trie[leaves[i]].depth;
        if (!(s->frames = malloc((depth ? depth : 1) * sizeof *s->frames)))
            return nomem(c);
        s->nframes = depth;
        for (uint32_t k = leaves[i]; k != TRIE_ROOT; k = c->trie[k].parent)
            s->frames[--depth] = c->trie[k].frame;
    }
    return HS_OK;
}

int profile_build(analysis *a, hs_error *err)
{
    const heap *h = a->h;
    uint32_t n = h->nnodes;
    pctx c = {.a = a, .t = live_program_tree(a->live), .err = err};
    memset(c.memo_fields, 0xff, sizeof c.memo_fields); /* empty: kind -1 */
    memset(c.memo_hops, 0xff, sizeof c.memo_hops);     /* empty: out NONE */
    uint32_t *sample_of = NULL, *leaves = NULL;
    size_t cap_samples = 0, cap_leaves = 0, nleaves = 0;
    int rc = HS_OK;
    if (a->rep->profile)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "profile: the report has one");
    trie_node root = {NONE, NONE, 0, NONE, NONE, NONE};
    c.field_of = malloc(((size_t)n + 1) * sizeof *c.field_of);
    c.tid = malloc(((size_t)n + 1) * sizeof *c.tid);
    if (!c.field_of || !c.tid || !(a->rep->profile = calloc(1, sizeof *a->rep->profile)) ||
        VEC_PUSH(c.trie, c.ntrie, c.cap_trie, root) < 0 ||
        (c.ellipsis = frame_id(&c, "\xe2\x80\xa6", 3)) == NONE) {
        rc = nomem(&c);
        goto out;
    }
    report_profile *pr = a->rep->profile;
    memset(c.field_of, 0xff, ((size_t)n + 1) * sizeof *c.field_of);
    memset(c.tid, 0xff, ((size_t)n + 1) * sizeof *c.tid);
    find_fields(&c);
    for (uint32_t v = 0; v < h->nobj; v++)
        if (live_state_of(a->live, v) == LIVE_IN_USE && chain_of(&c, v) == NONE) {
            rc = nomem(&c);
            goto out;
        }
    if (!(sample_of = malloc((c.ntrie + 1) * sizeof *sample_of))) {
        rc = nomem(&c);
        goto out;
    }
    memset(sample_of, 0xff, (c.ntrie + 1) * sizeof *sample_of);
    const uint32_t *idom = dom_idoms(a->dom);
    const uint64_t *retained = dom_retained_sizes(a->dom);
    for (uint32_t v = 0; v < h->nobj; v++) {
        if (live_state_of(a->live, v) != LIVE_IN_USE)
            continue;
        uint32_t *si = &sample_of[c.tid[v]];
        if (*si == NONE) {
            report_sample x = {0};
            if (VEC_PUSH(pr->samples, pr->nsamples, cap_samples, x) < 0 ||
                VEC_PUSH(leaves, nleaves, cap_leaves, c.tid[v]) < 0) {
                rc = nomem(&c);
                goto out;
            }
            *si = (uint32_t)(pr->nsamples - 1);
        }
        report_sample *x = &pr->samples[*si];
        x->objects++;
        x->bytes += heap_obj_cost(h, v);
        if (idom[v] == DOM_VROOT || (idom[v] != GRAPH_NONE && idom[v] >= h->nobj))
            x->retained_bytes += retained[v];
    }
    rc = finish(&c, leaves);
out:
    free(c.field_of);
    free(c.tid);
    free(c.stack);
    free(c.frame_off);
    free(c.trie);
    free(sample_of);
    free(leaves);
    strpool_release(&c.names);
    u64map_release(&c.frame_of);
    u64map_release(&c.node_frame);
    for (int k = 0; k < 3; k++)
        u64map_release(&c.field_frame[k]);
    u64map_release(&c.trie_at);
    return rc;
}
