/* containers.c - container discovery and sync.Map decoding over the pointer graph. */
#include "containers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "describe.h"
#include "vec.h"

/* Go 1.19-1.23 sync.Map: map[any]*entry buckets are 8 tophash bytes, 8 keys of 16 bytes,
 * 8 values of 8 bytes and an overflow pointer: 208 bytes. */
#define BUCKET_SIZE 208
#define BUCKET_VALUES 136
#define BUCKET_OVERFLOW 200
#define HMAP_BUCKETS 16
#define HMAP_OLDBUCKETS 24
#define HMAP_SIZE 48

/* Where a version's sync.Map keeps read and dirty. */
typedef struct syncmap_layout {
    uint32_t read;     /* offset of the read pointer (1.19: atomic.Value data word) */
    uint32_t dirty;    /* offset of dirty *hmap */
    int read_is_typed; /* 1.19: read's interface type word names sync.readOnly */
} syncmap_layout;

static int layout_for(int go_minor, syncmap_layout *l)
{
    if (go_minor >= 1 && go_minor <= 19) {
        *l = (syncmap_layout){16, 24, 1};
        return 1;
    }
    if (go_minor >= 20 && go_minor <= 23) {
        *l = (syncmap_layout){8, 16, 0};
        return 1;
    }
    return 0; /* 1.24+: HashTrieMap, not decoded */
}

uint32_t containers_edge_at(const graph *g, uint32_t src, uint32_t field)
{
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    for (uint32_t e = off[src]; e < off[src + 1]; e++)
        if (fld[e] == field)
            return dst[e];
    return GRAPH_NONE;
}

static int is_object(const heap *h, uint32_t v, uint64_t slot)
{
    return v < h->nobj && (!slot || h->obj_size[v] == slot);
}

/* Is r (the target of a sync.Map's read field) a readOnly of this layout? */
static int is_readonly(const analysis *a, uint32_t r, const syncmap_layout *l)
{
    const heap *h = a->h;
    if (!is_object(h, r, 16))
        return 0;
    if (l->read_is_typed) {
        const char *t = heap_type_name(h, r);
        return t && strcmp(t, "sync.readOnly") == 0;
    }
    return is_object(h, containers_edge_at(h->g, r, 0), HMAP_SIZE);
}

typedef struct decoder {
    const analysis *a;
    analysis_container *c;
    uint64_t *seen;    /* bitset: entry or bucket already visited */
    uint32_t expunged; /* the box sync.expunged points to */
    uint32_t *queue;
    size_t nq, capq;
    uint32_t *pend;    /* (entry, key) pairs found in the buckets, decoded afterwards */
    size_t npend, cappend;
    size_t capv, capt;
} decoder;

static int seen_once(decoder *d, uint32_t v)
{
    if (bitset_get(d->seen, v))
        return 0;
    bitset_set(d->seen, v);
    return 1;
}

/* Outcome of one (entry, key) pair, besides a value node. */
#define PAIR_SKIP UINT32_MAX        /* entry seen before, or nothing to report */
#define PAIR_TOMB (UINT32_MAX - 1)  /* a read-map entry whose value was deleted */
#define SORT_BITS 12

/* The shift that leaves ids below n at most SORT_BITS bits. */
static unsigned sort_shift(uint64_t n)
{
    unsigned shift = 0;
    while (n >> shift >> SORT_BITS)
        shift++;
    return shift;
}

/* Counting sort of (id << 32 | payload) keys by id >> shift into out: stable, so equal ids
 * keep their order. Ids that share a high part lie within 2^shift of each other, which is all
 * the locality the decoding passes need. */
static void sort_by_node(uint64_t *in, uint64_t *out, size_t n, unsigned shift)
{
    size_t count[(1u << SORT_BITS) + 1] = {0};
    for (size_t i = 0; i < n; i++)
        count[(in[i] >> 32 >> shift) + 1]++;
    for (size_t k = 1; k <= 1u << SORT_BITS; k++)
        count[k] += count[k - 1];
    for (size_t i = 0; i < n; i++)
        out[count[in[i] >> 32 >> shift]++] = in[i];
}

/* Decodes the (entry, key) pairs collected from the buckets: each entry's box (entry.p), each
 * box's value (the any's data word). Entries, boxes and values are scattered over the heap in
 * hash order, so each step runs over its nodes sorted by id (the per-node arrays then stream
 * instead of missing the cache per entry), and the outcomes are put back in bucket order.
 * Rules: an entry seen before (in this map's read half, or twice) is skipped; entry.p nil or
 * expunged means the key stays and the value was deleted: a tombstone in the read map. Role
 * labels go to all entries, then to all boxes (an object that is both stays "sync.entry"). */
static int decode_entries(decoder *d, int in_read)
{
    heap *h = d->a->h;
    const graph *g = h->g;
    size_t n = d->npend / 2;
    uint64_t *x = malloc(n * sizeof *x + 1), *y = malloc(n * sizeof *y + 1);
    uint32_t *res = malloc(n * sizeof *res + 1);
    if (!x || !y || !res) {
        free(x);
        free(y);
        free(res);
        return -1;
    }
    unsigned shift = sort_shift(h->nnodes), pair_shift = sort_shift(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = (uint64_t)d->pend[2 * i] << 32 | i;
        res[i] = PAIR_SKIP;
    }
    sort_by_node(x, y, n, shift);
    /* Entries in id order: label, follow entry.p; boxes go to x as (box, pair). */
    size_t nbox = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t e = (uint32_t)(y[k] >> 32), i = (uint32_t)y[k];
        if (!seen_once(d, e))
            continue;
        heap_label(h, e, "sync.entry");
        uint32_t p = containers_edge_at(g, e, 0);
        if (p == GRAPH_NONE || p == d->expunged) {
            if (in_read)
                res[i] = PAIR_TOMB;
        } else {
            x[nbox++] = (uint64_t)p << 32 | i;
        }
    }
    sort_by_node(x, y, nbox, shift);
    /* Boxes in id order: label, read the value; (pair, value) go to x. */
    for (size_t k = 0; k < nbox; k++) {
        uint32_t p = (uint32_t)(y[k] >> 32), i = (uint32_t)y[k];
        heap_label(h, p, "any (sync.entry value box)");
        x[k] = (uint64_t)i << 32 | containers_edge_at(g, p, 8);
    }
    /* Values back to their pairs (sorted by pair first, so the stores stay local). */
    sort_by_node(x, y, nbox, pair_shift);
    for (size_t k = 0; k < nbox; k++) {
        uint32_t i = (uint32_t)(y[k] >> 32), v = (uint32_t)y[k];
        res[i] = v < h->nobj ? v : PAIR_SKIP;
    }
    /* Outcomes in bucket order. */
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint32_t e = d->pend[2 * i], key = d->pend[2 * i + 1];
        if (res[i] == PAIR_TOMB) {
            if (VEC_PUSH(d->c->tombstones, d->c->ntombstones, d->capt, e) < 0)
                rc = -1;
            d->c->tombstone_bytes += h->obj_size[e];
            if (key < h->nobj)
                d->c->tombstone_bytes += h->obj_size[key];
        } else if (res[i] != PAIR_SKIP &&
                   VEC_PUSH(d->c->values, d->c->nvalues, d->capv, res[i]) < 0) {
            rc = -1;
        }
    }
    free(x);
    free(y);
    free(res);
    d->npend = 0;
    return rc;
}

/* Walks an hmap's buckets (and overflow chains, and old buckets during growth). */
static int walk_hmap(decoder *d, uint32_t hm, int in_read)
{
    const heap *h = d->a->h;
    const graph *g = h->g;
    if (!is_object(h, hm, HMAP_SIZE))
        return 0;
    heap_label(d->a->h, hm, "runtime.hmap (map[any]*sync.entry)");
    d->nq = 0;
    uint32_t b0 = containers_edge_at(g, hm, HMAP_BUCKETS);
    uint32_t b1 = containers_edge_at(g, hm, HMAP_OLDBUCKETS);
    if (b0 < h->nobj && VEC_PUSH(d->queue, d->nq, d->capq, b0) < 0)
        return -1;
    if (b1 < h->nobj && VEC_PUSH(d->queue, d->nq, d->capq, b1) < 0)
        return -1;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    while (d->nq) {
        uint32_t b = d->queue[--d->nq];
        int fresh = seen_once(d, b);
        if (fresh < 0)
            return -1;
        if (!fresh)
            continue;
        heap_label(d->a->h, b, "runtime.bmap (map[any]*sync.entry buckets)");
        /* Edges come in field order, so a bucket's key data words (at 16 + 16j) are seen
         * before its values (at 136 + 8j): remember them per bucket. */
        uint32_t keys[8], cur_base = UINT32_MAX;
        for (uint32_t e = off[b]; e < off[b + 1]; e++) {
            uint32_t slot = fld[e] % BUCKET_SIZE, base = fld[e] - slot;
            if (base != cur_base) {
                cur_base = base;
                for (int j = 0; j < 8; j++)
                    keys[j] = GRAPH_NONE;
            }
            if (slot == BUCKET_OVERFLOW) {
                if (dst[e] < h->nobj && VEC_PUSH(d->queue, d->nq, d->capq, dst[e]) < 0)
                    return -1;
            } else if (slot >= 16 && slot < BUCKET_VALUES && (slot - 16) % 16 == 0) {
                keys[(slot - 16) / 16] = dst[e];
            } else if (slot >= BUCKET_VALUES && slot < BUCKET_OVERFLOW && dst[e] < h->nobj &&
                       !bitset_get(d->seen, dst[e])) { /* seen: decoded from the read map */
                if (VEC_PUSH(d->pend, d->npend, d->cappend, dst[e]) < 0 ||
                    VEC_PUSH(d->pend, d->npend, d->cappend, keys[(slot - BUCKET_VALUES) / 8]) < 0)
                    return -1;
            }
        }
    }
    return decode_entries(d, in_read);
}

static uint32_t find_global(const heap *h, const char *name)
{
    for (uint32_t i = 0; i < h->naux; i++)
        if (h->aux[i].kind == HEAP_NODE_GLOBAL && strcmp(strpool_get(&h->names, h->aux[i].name), name) == 0)
            return h->nobj + i;
    return GRAPH_NONE;
}

static int decode_syncmap(analysis *a, analysis_container *c, uint32_t base, uint32_t r,
                          const syncmap_layout *l)
{
    const heap *h = a->h;
    decoder d = {.a = a, .c = c, .expunged = GRAPH_NONE, .seen = bitset_new(h->nnodes)};
    if (!d.seen)
        return HS_ERR_NOMEM;
    uint32_t ex = find_global(h, "sync.expunged");
    if (ex != GRAPH_NONE)
        d.expunged = containers_edge_at(h->g, ex, 0);
    int rc = walk_hmap(&d, containers_edge_at(h->g, r, 0), 1);
    if (rc >= 0)
        rc = walk_hmap(&d, containers_edge_at(h->g, c->node, base + l->dirty), 0);
    free(d.seen);
    free(d.queue);
    free(d.pend);
    c->is_sync_map = 1;
    return rc < 0 ? HS_ERR_NOMEM : HS_OK;
}

/* A readable name for an anonymous static: the named global that points to it. */
static char *container_name(const analysis *a, uint32_t node)
{
    const heap *h = a->h;
    const heap_aux *x = &h->aux[node - h->nobj];
    if (!x->anonymous)
        return report_strdup(strpool_get(&h->names, x->name));
    const uint32_t *in = graph_in_offsets(h->g), *src = graph_in_src(h->g);
    for (uint32_t e = in[node]; e < in[node + 1]; e++) {
        uint32_t p = src[e];
        if (p >= h->nobj && h->aux[p - h->nobj].kind == HEAP_NODE_GLOBAL && !h->aux[p - h->nobj].anonymous)
            return report_strfmt("*%s", strpool_get(&h->names, h->aux[p - h->nobj].name));
    }
    return report_strdup(strpool_get(&h->names, x->name));
}

static int add_container(analysis *a, uint32_t node, size_t *cap)
{
    for (size_t i = 0; i < a->ncontainers; i++)
        if (a->containers[i].node == node)
            return HS_OK;
    analysis_container c = {.node = node};
    if (!(c.name = container_name(a, node)))
        return HS_ERR_NOMEM;
    if (VEC_PUSH(a->containers, a->ncontainers, *cap, c) < 0) {
        free(c.name);
        return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* Looks for a sync.Map inside global node c (at offset 0 for a named symbol, at any pointer
 * field for an anonymous static) and decodes it. Returns 1 when one was found. */
static int try_syncmap(analysis *a, analysis_container *c, const syncmap_layout *l)
{
    const heap *h = a->h;
    const heap_aux *x = &h->aux[c->node - h->nobj];
    const uint32_t *off = graph_out_offsets(h->g), *fld = graph_out_field(h->g);
    const uint32_t *dst = graph_out_dst(h->g);
    for (uint32_t e = off[c->node]; e < off[c->node + 1]; e++) {
        if (fld[e] < l->read || (!x->anonymous && fld[e] != l->read))
            continue;
        if (is_readonly(a, dst[e], l))
            return decode_syncmap(a, c, fld[e] - l->read, dst[e], l) < 0 ? -1 : 1;
    }
    return 0;
}

int containers_find(analysis *a, hs_error *err)
{
    heap *h = a->h;
    size_t cap = 0;
    for (size_t i = 0; i < a->opts.ncontainers; i++) {
        uint32_t node = find_global(h, a->opts.containers[i]);
        if (node == GRAPH_NONE)
            return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                                "container %s: no global of that name holds pointers in this "
                                "dump (check the name with `heapsift info --top 1000`)",
                                a->opts.containers[i]);
        if (add_container(a, node, &cap) < 0)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "containers");
    }
    syncmap_layout l;
    int known = layout_for(h->go_minor, &l);
    size_t named = a->ncontainers;
    if (known && !a->opts.no_auto_containers) {
        for (uint32_t i = 0; i < h->naux; i++) {
            if (h->aux[i].kind != HEAP_NODE_GLOBAL)
                continue;
            analysis_container probe = {.node = h->nobj + i};
            int found = try_syncmap(a, &probe, &l);
            if (found < 0)
                return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "decoding sync.Map");
            if (!found)
                continue;
            size_t j = 0;
            while (j < a->ncontainers && a->containers[j].node != probe.node)
                j++;
            if (j == a->ncontainers) {
                if (!(probe.name = container_name(a, probe.node)) ||
                    VEC_PUSH(a->containers, a->ncontainers, cap, probe) < 0)
                    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "containers");
            } else {
                /* a named container that is a sync.Map: keep the decoded values */
                analysis_container *c = &a->containers[j];
                c->is_sync_map = 1;
                c->values = probe.values;
                c->nvalues = probe.nvalues;
                c->tombstones = probe.tombstones;
                c->ntombstones = probe.ntombstones;
                c->tombstone_bytes = probe.tombstone_bytes;
            }
        }
    }
    (void)named;
    return HS_OK;
}

void containers_release(analysis *a)
{
    for (size_t i = 0; i < a->ncontainers; i++) {
        free(a->containers[i].name);
        free(a->containers[i].values);
        free(a->containers[i].tombstones);
    }
    free(a->containers);
    a->containers = NULL;
    a->ncontainers = 0;
}
