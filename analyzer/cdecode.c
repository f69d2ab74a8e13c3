/* cdecode.c - decoding containers from the pointer graph: sync.Maps (the hmap of entries of
 * Go 1.19-1.23 with its read-map tombstones, the HashTrieMap of 1.24+) and Go maps (hmap
 * buckets up to 1.23, old buckets too during growth; swiss directories, tables and groups from
 * 1.24). Only the graph's edges, field offsets and the objects' pointer layouts are used
 * (docs/go-runtime.md has the layouts). */
#include "cdecode.h"

#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "vec.h"

/* 1.19-1.23 sync.Map: map[any]*entry buckets are 8 tophash bytes, 8 keys of 16 bytes,
 * 8 values of 8 bytes and an overflow pointer: 208 bytes. */
#define BUCKET_SIZE 208
#define BUCKET_VALUES 136
#define BUCKET_OVERFLOW 200
#define HMAP_BUCKETS 16
#define HMAP_OLDBUCKETS 24
#define HMAP_SIZE 48
/* 1.24+ swiss map: Map{used, seed, dirPtr @16, dirLen, ...} 48 bytes; a table's groups
 * reference (data pointer) at 16, tables are 32 bytes. */
#define SWISS_DIR 16
#define SWISS_TABLE_SIZE 32
#define SWISS_TABLE_GROUPS 16
/* 1.24+ sync.Map = HashTrieMap[any, any]: root *indirect at 16; indirect nodes (152 bytes,
 * slot 160) hold parent at 16 and children[16] from 24; entries (48 bytes) hold overflow at
 * 8, the key any at 16 and the value any at 32 (data word at 40). */
#define TRIE_ROOT 16
#define TRIE_NODE_SLOT 160
#define TRIE_PARENT 16
#define TRIE_CHILDREN 24
#define TRIE_NCHILDREN 16
#define TRIE_ENTRY_SLOT 48
#define TRIE_OVERFLOW 8
#define TRIE_VALUE 40

/* Program-visible offset of an object's field -> the graph's slot offset. */


uint32_t cdecode_edge_at(const graph *g, uint32_t src, uint32_t field)
{
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    for (uint32_t e = off[src]; e < off[src + 1]; e++)
        if (fld[e] == field)
            return dst[e];
    return GRAPH_NONE;
}

/* The target of v's pointer at program offset `field`, or GRAPH_NONE. */
static uint32_t field_at(const heap *h, uint32_t v, uint64_t field)
{
    return cdecode_edge_at(h->g, v, (uint32_t)(field + heap_node_hdr(h, v)));
}

static int is_object(const heap *h, uint32_t v, uint64_t slot)
{
    return v < h->nobj && (!slot || h->obj_size[v] == slot);
}

/* Does object v (no malloc header) have this slot size and pointer layout? nptrs 0: any
 * count; the first min(nptrs, 4) pointer offsets must equal p. */
static int has_layout(const heap *h, uint32_t v, uint64_t slot, uint32_t nptrs, const uint32_t *p,
                      size_t np)
{
    if (!is_object(h, v, slot) || h->obj_hdr[v])
        return 0;
    const heap_shape *s = &h->shapes[h->obj_shape[v]];
    if (nptrs && s->nptrs != nptrs)
        return 0;
    for (size_t i = 0; i < np && i < 4; i++)
        if (i >= s->nptrs || s->ptrs[i] != p[i])
            return 0;
    return 1;
}

/* ---- sync.Map 1.19-1.23: hmap of entries ---- */

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
    int nomem;         /* a role label could not be added: the decoding fails */
    uint32_t *touched; /* with a caller's scratch bitset: the bits set, to clear them after */
    size_t ntouched, captouched;
    int track;
} decoder;

/* Names object obj by its role in the structure being decoded (heap_label). */
static void label(decoder *d, uint32_t obj, const char *name)
{
    if (heap_label(d->a->h, obj, name) < 0)
        d->nomem = 1;
}

static int seen_once(decoder *d, uint32_t v)
{
    if (bitset_get(d->seen, v))
        return 0;
    bitset_set(d->seen, v);
    if (d->track && VEC_PUSH(d->touched, d->ntouched, d->captouched, v) < 0)
        d->nomem = 1;
    return 1;
}

static int add_value(decoder *d, uint32_t v)
{
    return VEC_PUSH(d->c->values, d->c->nvalues, d->capv, v);
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
static void sort_by_node(uint64_t *in, size_t n, unsigned shift, uint64_t *out)
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
    int rc = 0;
    if (!x || !y || !res) {
        rc = -1;
        goto out;
    }
    unsigned shift = sort_shift(h->nnodes), pair_shift = sort_shift(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = (uint64_t)d->pend[2 * i] << 32 | i;
        res[i] = PAIR_SKIP;
    }
    sort_by_node(x, n, shift, y);
    /* Entries in id order: label, follow entry.p; boxes go to x as (box, pair). */
    size_t nbox = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t e = (uint32_t)(y[k] >> 32), i = (uint32_t)y[k];
        if (!seen_once(d, e))
            continue;
        label(d, e, "sync.entry");
        uint32_t p = cdecode_edge_at(g, e, 0);
        if (p == GRAPH_NONE || p == d->expunged) {
            if (in_read)
                res[i] = PAIR_TOMB;
        } else {
            x[nbox++] = (uint64_t)p << 32 | i;
        }
    }
    sort_by_node(x, nbox, shift, y);
    /* Boxes in id order: label, read the value; (pair, value) go to x. */
    for (size_t k = 0; k < nbox; k++) {
        uint32_t p = (uint32_t)(y[k] >> 32), i = (uint32_t)y[k];
        label(d, p, "any (sync.entry value box)");
        x[k] = (uint64_t)i << 32 | cdecode_edge_at(g, p, 8);
    }
    /* Values back to their pairs (sorted by pair first, so the stores stay local). */
    sort_by_node(x, nbox, pair_shift, y);
    for (size_t k = 0; k < nbox; k++) {
        uint32_t i = (uint32_t)(y[k] >> 32), v = (uint32_t)y[k];
        res[i] = v < h->nobj ? v : PAIR_SKIP;
    }
    /* Outcomes in bucket order. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint32_t e = d->pend[2 * i], key = d->pend[2 * i + 1];
        if (res[i] == PAIR_TOMB) {
            if (VEC_PUSH(d->c->tombstones, d->c->ntombstones, d->capt, e) < 0)
                rc = -1;
            d->c->tombstone_bytes += h->obj_size[e];
            if (key < h->nobj)
                d->c->tombstone_bytes += h->obj_size[key];
        } else if (res[i] != PAIR_SKIP && add_value(d, res[i]) < 0) {
            rc = -1;
        }
    }
    d->npend = 0;
out:
    free(x);
    free(y);
    free(res);
    return rc;
}

/* Starts a walk of hmap hm: its bucket array and, during growth, its old buckets go on the
 * queue; *first is the first of them (GRAPH_NONE: none). Returns -1 when out of memory. */
static int queue_buckets(decoder *d, uint32_t hm, uint32_t *first)
{
    const heap *h = d->a->h;
    uint32_t b[2] = {cdecode_edge_at(h->g, hm, HMAP_BUCKETS),
                     cdecode_edge_at(h->g, hm, HMAP_OLDBUCKETS)};
    d->nq = 0;
    for (int i = 0; i < 2; i++)
        if (b[i] < h->nobj && VEC_PUSH(d->queue, d->nq, d->capq, b[i]) < 0)
            return -1;
    *first = d->nq ? d->queue[0] : GRAPH_NONE;
    return 0;
}

/* Walks a map[any]*entry's buckets (and overflow chains, and old buckets during growth). */
static int walk_entry_hmap(decoder *d, uint32_t hm, int in_read)
{
    heap *h = d->a->h;
    const graph *g = h->g;
    if (!is_object(h, hm, HMAP_SIZE))
        return 0;
    label(d, hm, "runtime.hmap (map[any]*sync.entry)");
    uint32_t first;
    if (queue_buckets(d, hm, &first) < 0)
        return -1;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    while (d->nq) {
        uint32_t b = d->queue[--d->nq];
        if (!seen_once(d, b))
            continue;
        label(d, b, "runtime.bmap (map[any]*sync.entry buckets)");
        /* Edges come in field order, so a bucket's key data words (at 16 + 16j) are seen
         * before its values (at 136 + 8j): remember them per bucket. Offsets are the
         * program's (a Go 1.22+ bucket array above 512 B has a malloc header). */
        uint32_t keys[8], cur_base = UINT32_MAX, hdr = h->obj_hdr[b];
        for (uint32_t e = off[b]; e < off[b + 1]; e++) {
            if (fld[e] < hdr)
                continue;
            uint32_t f = fld[e] - hdr, slot = f % BUCKET_SIZE, base = f - slot;
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

/* ---- sync.Map 1.24+: HashTrieMap ---- */

/* Is v a HashTrieMap[any, any] indirect node? */
int cdecode_is_trie_node(const heap *h, uint32_t v)
{
    static const uint32_t p[] = {TRIE_PARENT, TRIE_CHILDREN, TRIE_CHILDREN + 8, TRIE_CHILDREN + 16};
    return has_layout(h, v, TRIE_NODE_SLOT, 1 + TRIE_NCHILDREN, p, 4);
}

/* Is v an entry[any, any]: overflow, then the data words of the key and value any (an
 * interface's type word is not a pointer slot)? */
static int is_trie_entry(const heap *h, uint32_t v)
{
    static const uint32_t p[] = {TRIE_OVERFLOW, 24, TRIE_VALUE};
    return has_layout(h, v, TRIE_ENTRY_SLOT, 3, p, 3);
}

/* A trie root: an indirect node without a parent whose children are nodes or entries. */
static int is_trie_root(const heap *h, uint32_t v)
{
    if (!cdecode_is_trie_node(h, v) || cdecode_edge_at(h->g, v, TRIE_PARENT) != GRAPH_NONE)
        return 0;
    const uint32_t *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g);
    for (uint32_t e = off[v]; e < off[v + 1]; e++)
        if (!cdecode_is_trie_node(h, dst[e]) && !is_trie_entry(h, dst[e]))
            return 0;
    return 1;
}

/* Walks the trie below root: entries (and their overflow chains) give the values; a deleted
 * key leaves nothing behind, so there are no tombstones. */
static int walk_trie(decoder *d, uint32_t root)
{
    heap *h = d->a->h;
    const graph *g = h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g), *fld = graph_out_field(g);
    d->nq = 0;
    if (VEC_PUSH(d->queue, d->nq, d->capq, root) < 0)
        return -1;
    while (d->nq) {
        uint32_t v = d->queue[--d->nq];
        if (!seen_once(d, v))
            continue;
        if (cdecode_is_trie_node(h, v)) {
            label(d, v, "internal/sync.indirect (sync.Map trie node)");
            for (uint32_t e = off[v]; e < off[v + 1]; e++)
                if (fld[e] >= TRIE_CHILDREN && VEC_PUSH(d->queue, d->nq, d->capq, dst[e]) < 0)
                    return -1;
        } else if (is_trie_entry(h, v)) {
            label(d, v, "internal/sync.entry (sync.Map entry)");
            uint32_t next = cdecode_edge_at(g, v, TRIE_OVERFLOW);
            uint32_t val = cdecode_edge_at(g, v, TRIE_VALUE);
            if (next < h->nobj && VEC_PUSH(d->queue, d->nq, d->capq, next) < 0)
                return -1;
            if (val < h->nobj && add_value(d, val) < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- Go maps ---- */

/* Do objects x and y start with the same pointer layout (as the program sees them)? */
static int same_leading_layout(const heap *h, uint32_t x, uint32_t y)
{
    const heap_shape *s = &h->shapes[h->obj_shape[x]], *t = &h->shapes[h->obj_shape[y]];
    uint32_t hx = h->obj_hdr[x], hy = h->obj_hdr[y];
    size_t n = s->nptrs < 4 ? s->nptrs : 4;
    if (!n || t->nptrs < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s->ptrs[i] - hx != t->ptrs[i] - hy)
            return 0;
    return 1;
}

/* Values of an hmap (up to 1.23): everything its buckets point at, except overflow buckets
 * (the bucket array itself, where preallocated overflow buckets live, or separate bucket
 * objects of the same layout). Keys that are pointers count as values: without the map's
 * type the two halves of a bucket cannot be told apart. Deleted and evacuated slots are
 * cleared by the runtime, so they hold no edges. */
static int walk_hmap(decoder *d, uint32_t hm)
{
    heap *h = d->a->h;
    const graph *g = h->g;
    const uint32_t *off = graph_out_offsets(g), *dst = graph_out_dst(g);
    label(d, hm, "runtime.hmap");
    uint32_t first;
    if (queue_buckets(d, hm, &first) < 0)
        return -1;
    while (d->nq) {
        uint32_t b = d->queue[--d->nq];
        if (!seen_once(d, b))
            continue;
        label(d, b, "runtime.bmap (map buckets)");
        for (uint32_t e = off[b]; e < off[b + 1]; e++) {
            uint32_t t = dst[e];
            if (t == b || t >= h->nobj || bitset_get(d->seen, t))
                continue;
            if (same_leading_layout(h, first, t)) {
                if (VEC_PUSH(d->queue, d->nq, d->capq, t) < 0)
                    return -1;
            } else if (seen_once(d, t) && add_value(d, t) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Adds every object group memory points at as a value (swiss slots hold keys and values
 * inline; deleted slots are cleared). */
static int add_group_values(decoder *d, uint32_t grp)
{
    heap *h = d->a->h;
    const uint32_t *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g);
    label(d, grp, "internal/runtime/maps.group (map groups)");
    for (uint32_t e = off[grp]; e < off[grp + 1]; e++)
        if (dst[e] < h->nobj && dst[e] != grp && seen_once(d, dst[e]) && add_value(d, dst[e]) < 0)
            return -1;
    return 0;
}

/* Is v a swiss table: 32 bytes whose only pointer is the groups reference? */
static int is_swiss_table(const heap *h, uint32_t v)
{
    static const uint32_t p[] = {SWISS_TABLE_GROUPS};
    return has_layout(h, v, SWISS_TABLE_SIZE, 1, p, 1);
}

/* Values of a swiss map (1.24+): dirPtr is one group (small maps) or a directory of tables
 * (a pointer array, so a pointer at offset 0, which a group never has: its control word
 * comes first), each table with its array of groups. */
static int walk_swiss(decoder *d, uint32_t m)
{
    heap *h = d->a->h;
    const uint32_t *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g);
    label(d, m, "internal/runtime/maps.Map");
    uint32_t dir = cdecode_edge_at(h->g, m, SWISS_DIR);
    if (dir >= h->nobj)
        return 0;
    const heap_shape *s = &h->shapes[h->obj_shape[dir]];
    int is_dir = s->nptrs && s->ptrs[0] == h->obj_hdr[dir];
    for (uint32_t e = off[dir]; is_dir && e < off[dir + 1]; e++)
        is_dir = is_swiss_table(h, dst[e]);
    if (!is_dir)
        return add_group_values(d, dir);
    label(d, dir, "internal/runtime/maps directory");
    for (uint32_t e = off[dir]; e < off[dir + 1]; e++) {
        uint32_t t = dst[e];
        if (!seen_once(d, t))
            continue; /* tables repeat in the directory */
        label(d, t, "internal/runtime/maps.table");
        uint32_t groups = cdecode_edge_at(h->g, t, SWISS_TABLE_GROUPS);
        if (groups < h->nobj && seen_once(d, groups) && add_group_values(d, groups) < 0)
            return -1;
    }
    return 0;
}

/* Is v a map header of this version's layout? */
int cdecode_is_map_header(const analysis *a, uint32_t v)
{
    const heap *h = a->h;
    if (h->layout.maps == GOLAYOUT_MAP_SWISS) {
        static const uint32_t p[] = {SWISS_DIR};
        return has_layout(h, v, HMAP_SIZE, 1, p, 1);
    }
    static const uint32_t p[] = {HMAP_BUCKETS, HMAP_OLDBUCKETS, 40};
    return has_layout(h, v, HMAP_SIZE, 3, p, 3);
}

/* Decodes a sync.Map whose internal root (readOnly, or trie root) is r, into c. */
int cdecode_syncmap(analysis *a, analysis_container *c, uint32_t r)
{
    const heap *h = a->h;
    decoder d = {.a = a, .c = c, .expunged = GRAPH_NONE, .seen = bitset_new(h->nnodes)};
    if (!d.seen)
        return HS_ERR_NOMEM;
    c->kind = ANALYSIS_CONTAINER_SYNC_MAP;
    c->seeds[0] = r;
    c->nseeds = 1;
    int rc;
    if (h->layout.syncmap == GOLAYOUT_SYNCMAP_TRIE) {
        rc = walk_trie(&d, r);
    } else {
        uint32_t ex = heap_global(h, "sync.expunged");
        if (ex != GRAPH_NONE)
            d.expunged = cdecode_edge_at(h->g, ex, 0);
        /* dirty sits right after read in both layouts: 1.19 read is an any (data word at
         * +8 of the field), 1.20+ an atomic.Pointer */
        uint64_t dirty_off = c->offset + (h->layout.syncmap == GOLAYOUT_SYNCMAP_VALUE ? 24 : 16);
        uint32_t dirty = field_at(h, c->node, dirty_off);
        if (dirty < h->nobj)
            c->seeds[c->nseeds++] = dirty;
        if ((rc = walk_entry_hmap(&d, cdecode_edge_at(h->g, r, 0), 1)) < 0)
            goto out;
        rc = walk_entry_hmap(&d, dirty, 0);
    }
out:
    free(d.seen);
    free(d.queue);
    free(d.pend);
    return rc < 0 || d.nomem ? HS_ERR_NOMEM : HS_OK;
}

/* The offset of read (1.19-1.23) or root (1.24+) in a sync.Map, and whether object r is such
 * an internal root in this layout. */
int cdecode_syncmap_root(const analysis *a, uint32_t r, uint64_t *field)
{
    const heap *h = a->h;
    switch (h->layout.syncmap) {
    case GOLAYOUT_SYNCMAP_VALUE: { /* the readOnly box, typed by the atomic.Value's type word */
        const char *t = is_object(h, r, 16) ? heap_type_name(h, r) : NULL;
        *field = 16;
        return t && strcmp(t, "sync.readOnly") == 0;
    }
    case GOLAYOUT_SYNCMAP_POINTER: { /* readOnly{m *hmap; amended bool} -> an hmap */
        static const uint32_t p[] = {0};
        *field = 8;
        return has_layout(h, r, 16, 1, p, 1) && cdecode_is_map_header(a, cdecode_edge_at(h->g, r, 0));
    }
    case GOLAYOUT_SYNCMAP_TRIE:
        *field = TRIE_ROOT;
        return is_trie_root(h, r);
    }
    return 0;
}

/* Decodes Go map header m into c (a new container: kind, seeds and address set here). */
int cdecode_map(analysis *a, analysis_container *c, uint32_t m, uint64_t *scratch)
{
    const heap *h = a->h;
    decoder d = {.a = a, .c = c, .seen = scratch ? scratch : bitset_new(h->nnodes),
                 .track = scratch != NULL};
    int rc = !d.seen                                ? HS_ERR_NOMEM
             : h->layout.maps == GOLAYOUT_MAP_SWISS ? walk_swiss(&d, m)
                                                    : walk_hmap(&d, m);
    for (size_t i = 0; i < d.ntouched; i++) /* the scratch is all zero again */
        d.seen[d.touched[i] >> 6] = 0;
    if (!scratch)
        free(d.seen);
    free(d.touched);
    free(d.queue);
    c->kind = ANALYSIS_CONTAINER_MAP;
    c->seeds[0] = m;
    c->nseeds = 1;
    c->addr = heap_obj_ptr(h, m);
    return rc < 0 || d.nomem ? HS_ERR_NOMEM : HS_OK;
}

