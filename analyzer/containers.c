/* containers.c - container discovery and decoding over the pointer graph.
 *
 * sync.Maps are found wherever they are (a global, an anonymous static, a field of a heap
 * object) by their internal root, whose layout is distinctive for each Go version: the
 * readOnly typed by its interface word (1.19), the readOnly/hmap pair (1.20-1.23), the
 * HashTrieMap root node (1.24+). The holder is whatever points at that root. Go maps are
 * decoded when a --container global holds one: hmap buckets up to 1.23 (old buckets too,
 * during growth), swiss directories, tables and groups from 1.24. Only the graph's edges,
 * field offsets and the objects' pointer layouts are used (docs/go-runtime.md has the
 * layouts). */
#include "containers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "describe.h"
#include "goexpr.h"
#include "typing.h"
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
static uint32_t hdr_of(const heap *h, uint32_t v)
{
    return v < h->nobj ? h->obj_hdr[v] : 0;
}

uint32_t containers_edge_at(const graph *g, uint32_t src, uint32_t field)
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
    return containers_edge_at(h->g, v, (uint32_t)(field + hdr_of(h, v)));
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
        uint32_t p = containers_edge_at(g, e, 0);
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
        x[k] = (uint64_t)i << 32 | containers_edge_at(g, p, 8);
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
    uint32_t b[2] = {containers_edge_at(h->g, hm, HMAP_BUCKETS),
                     containers_edge_at(h->g, hm, HMAP_OLDBUCKETS)};
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
static int is_trie_node(const heap *h, uint32_t v)
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
    if (!is_trie_node(h, v) || containers_edge_at(h->g, v, TRIE_PARENT) != GRAPH_NONE)
        return 0;
    const uint32_t *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g);
    for (uint32_t e = off[v]; e < off[v + 1]; e++)
        if (!is_trie_node(h, dst[e]) && !is_trie_entry(h, dst[e]))
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
        if (is_trie_node(h, v)) {
            label(d, v, "internal/sync.indirect (sync.Map trie node)");
            for (uint32_t e = off[v]; e < off[v + 1]; e++)
                if (fld[e] >= TRIE_CHILDREN && VEC_PUSH(d->queue, d->nq, d->capq, dst[e]) < 0)
                    return -1;
        } else if (is_trie_entry(h, v)) {
            label(d, v, "internal/sync.entry (sync.Map entry)");
            uint32_t next = containers_edge_at(g, v, TRIE_OVERFLOW);
            uint32_t val = containers_edge_at(g, v, TRIE_VALUE);
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
    uint32_t dir = containers_edge_at(h->g, m, SWISS_DIR);
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
        uint32_t groups = containers_edge_at(h->g, t, SWISS_TABLE_GROUPS);
        if (groups < h->nobj && seen_once(d, groups) && add_group_values(d, groups) < 0)
            return -1;
    }
    return 0;
}

/* Is v a map header of this version's layout? */
static int is_map_header(const analysis *a, uint32_t v)
{
    const heap *h = a->h;
    if (h->layout.maps == GOLAYOUT_MAP_SWISS) {
        static const uint32_t p[] = {SWISS_DIR};
        return has_layout(h, v, HMAP_SIZE, 1, p, 1);
    }
    static const uint32_t p[] = {HMAP_BUCKETS, HMAP_OLDBUCKETS, 40};
    return has_layout(h, v, HMAP_SIZE, 3, p, 3);
}

/* ---- containers ---- */

static uint32_t find_global(const heap *h, const char *name)
{
    for (uint32_t i = 0; i < h->naux; i++)
        if (h->aux[i].kind == HEAP_NODE_GLOBAL && strcmp(strpool_get(&h->names, h->aux[i].name), name) == 0)
            return h->nobj + i;
    return GRAPH_NONE;
}

/* Is name (a global, "*global" or "global+0x10") in the standard library? Its caches
 * (encoding/json's, reflect's, unique's) only grow and are not the program's containers:
 * they are decoded for their objects' role labels, and not searched for ghosts.
 * Standard packages have no dot in their first path element; "main" is the program's. */
static int is_std_name(const char *name)
{
    if (*name == '*')
        name++;
    const char *slash = strchr(name, '/'), *dot = strchr(name, '.');
    if (!dot)
        return 0; /* not a Go symbol: an unnamed object */
    if (slash)
        return slash < dot; /* "encoding/json.x" is, "example.com/p.x" is not */
    return strncmp(name, "main.", 5) != 0;
}

/* The Go expression of heap object m by its path from a global of the program
 * ("main.srv.sessions.cache.items"); NULL when it has none (what only stacks hold is work in
 * flight, what the standard library's globals hold is its cache: neither is a container) or
 * out of memory (*nomem). */
static char *node_expr(analysis *a, uint32_t m, int *nomem)
{
    report_path p;
    const paths_tree *t;
    *nomem = 0;
    if (analysis_lasting_tree(a, &t, NULL) < 0 || describe_tree_path(a, t, m, &p) < 0) {
        *nomem = 1;
        return NULL;
    }
    char *s = NULL;
    if (p.nsteps && p.root_kind && !strcmp(p.root_kind, "global") && !is_std_name(p.root_name)) {
        s = report_strdup(p.root_name);
        for (size_t i = 1; s && i < p.nsteps; i++) {
            const char *f = p.steps[i].field_name;
            char *next = f ? report_strfmt("%s%s", s, f)
                           : report_strfmt("%s[+0x%x]", s, p.steps[i].field);
            free(s);
            s = next;
        }
        *nomem = !s;
    }
    report_path_release(&p);
    return s;
}

/* A container's name: the Go expression of the value of type `type` at `offset` in holder
 * ("main.srv.uploads", "main.svc.sessions", "main.store"), else describe_place's
 * ("*main.registry"). NULL when out of memory. */
static char *container_name(analysis *a, uint32_t holder, uint64_t offset, const char *type)
{
    const heap *h = a->h;
    char field[256];
    uint32_t hdr = holder < h->nobj ? h->obj_hdr[holder] : 0;
    const char *f = type ? goexpr_node_value(h, holder, offset + hdr, type, field, sizeof field)
                         : NULL;
    int nomem = 0;
    char *base = NULL;
    if (f && holder < h->nobj) {
        base = node_expr(a, holder, &nomem);
    } else if (f && !h->aux[holder - h->nobj].anonymous) {
        base = report_strdup(strpool_get(&h->names, h->aux[holder - h->nobj].name));
        nomem = !base;
    } else if (f && *f) { /* an anonymous static: its part a global points to */
        uint64_t start;
        char *place = typing_static_part(h, holder, offset, &start) != HEAP_NONE
                          ? describe_place(a, holder, start) : NULL;
        nomem = !place;
        if (place && *place == '*' && !strchr(place, '+'))
            base = report_strdup(place + 1); /* main.svc.sessions: Go dereferences */
        free(place);
    }
    if (base) {
        char *name = report_strfmt("%s%s", base, f);
        free(base);
        return name;
    }
    return nomem ? NULL : describe_place(a, holder, offset);
}

/* The container at (holder, offset), added when new; *out points at it. */
static int add_container(analysis *a, size_t *cap, uint32_t holder, uint64_t offset,
                         const char *type, analysis_container **out)
{
    const heap *h = a->h;
    for (size_t i = 0; i < a->ncontainers; i++)
        if (a->containers[i].node == holder && a->containers[i].offset == offset) {
            *out = &a->containers[i];
            return HS_OK;
        }
    uint64_t base = holder < h->nobj ? heap_obj_ptr(h, holder) : h->aux[holder - h->nobj].addr;
    analysis_container c = {.node = holder, .offset = offset, .addr = base + offset};
    if (!(c.name = container_name(a, holder, offset, type)))
        return HS_ERR_NOMEM;
    if (VEC_PUSH(a->containers, a->ncontainers, *cap, c) < 0) {
        free(c.name);
        return HS_ERR_NOMEM;
    }
    *out = &a->containers[a->ncontainers - 1];
    return HS_OK;
}

/* Decodes a sync.Map whose internal root (readOnly, or trie root) is r, into c. */
static int decode_syncmap(analysis *a, analysis_container *c, uint32_t r)
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
        uint32_t ex = find_global(h, "sync.expunged");
        if (ex != GRAPH_NONE)
            d.expunged = containers_edge_at(h->g, ex, 0);
        /* dirty sits right after read in both layouts: 1.19 read is an any (data word at
         * +8 of the field), 1.20+ an atomic.Pointer */
        uint64_t dirty_off = c->offset + (h->layout.syncmap == GOLAYOUT_SYNCMAP_VALUE ? 24 : 16);
        uint32_t dirty = field_at(h, c->node, dirty_off);
        if (dirty < h->nobj)
            c->seeds[c->nseeds++] = dirty;
        if ((rc = walk_entry_hmap(&d, containers_edge_at(h->g, r, 0), 1)) < 0)
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
static int syncmap_root(const analysis *a, uint32_t r, uint64_t *field)
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
        return has_layout(h, r, 16, 1, p, 1) && is_map_header(a, containers_edge_at(h->g, r, 0));
    }
    case GOLAYOUT_SYNCMAP_TRIE:
        *field = TRIE_ROOT;
        return is_trie_root(h, r);
    }
    return 0;
}

/* Finds every sync.Map by its internal root and decodes it; its holder is each global or
 * object that points at the root from the field where a sync.Map keeps it. */
static int find_syncmaps(analysis *a, size_t *cap)
{
    const heap *h = a->h;
    const uint32_t *in = graph_in_offsets(h->g), *src = graph_in_src(h->g);
    for (uint32_t r = 0; r < h->nobj; r++) {
        uint64_t field;
        if (!syncmap_root(a, r, &field))
            continue;
        for (uint32_t e = in[r]; e < in[r + 1]; e++) {
            uint32_t x = src[e];
            if (x >= h->nobj && h->aux[x - h->nobj].kind != HEAP_NODE_GLOBAL)
                continue;
            if (is_trie_node(h, x)) /* a child's parent pointer */
                continue;
            const uint32_t *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g),
                           *fld = graph_out_field(h->g);
            for (uint32_t k = off[x]; k < off[x + 1]; k++) {
                if (dst[k] != r || fld[k] < hdr_of(h, x) + field)
                    continue;
                uint64_t at = fld[k] - hdr_of(h, x) - field;
                char *name = container_name(a, x, at, "sync.Map");
                if (!name)
                    return HS_ERR_NOMEM;
                int std = is_std_name(name);
                free(name);
                if (std) { /* decoded for its role labels only */
                    analysis_container scratch = {.node = x, .offset = at};
                    int rc = decode_syncmap(a, &scratch, r);
                    free(scratch.values);
                    free(scratch.tombstones);
                    if (rc < 0)
                        return rc;
                    continue;
                }
                analysis_container *c;
                int rc = add_container(a, cap, x, at, "sync.Map", &c);
                if (rc < 0 || (!c->nseeds && (rc = decode_syncmap(a, c, r)) < 0))
                    return rc;
            }
        }
    }
    return HS_OK;
}

/* A --container global: a sync.Map found already, a Go map it points at (decoded), or any
 * other structure (everything it reaches is inside). */
static int add_named(analysis *a, size_t *cap, const char *name, hs_error *err)
{
    const heap *h = a->h;
    uint32_t node = find_global(h, name);
    if (node == GRAPH_NONE)
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "container %s: no global of that name holds pointers in this "
                            "dump (check the name with `heapsift info --top 1000`)", name);
    for (size_t i = 0; i < a->ncontainers; i++)
        if (a->containers[i].node == node)
            return HS_OK;
    analysis_container *c;
    if (add_container(a, cap, node, 0, NULL, &c) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory adding %s", name);
    uint32_t m = containers_edge_at(h->g, node, 0);
    if (!is_map_header(a, m))
        return HS_OK;
    decoder d = {.a = a, .c = c, .seen = bitset_new(h->nnodes)};
    int rc = !d.seen                                ? HS_ERR_NOMEM
             : h->layout.maps == GOLAYOUT_MAP_SWISS ? walk_swiss(&d, m)
                                                    : walk_hmap(&d, m);
    free(d.seen);
    free(d.queue);
    c->kind = ANALYSIS_CONTAINER_MAP;
    c->seeds[0] = m;
    c->nseeds = 1;
    c->addr = heap_obj_ptr(h, m);
    if (rc < 0 || d.nomem)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory decoding map %s", name);
    return HS_OK;
}

/* Is a value's type the program's own (package main, or a module whose path has a dot in its
 * first element), a named type rather than a backing array or a runtime-made name? */
static int program_type(const char *t)
{
    if (!t || *t == '[' || strchr(t, '<'))
        return 0;
    if (*t == '*')
        t++;
    return !strncmp(t, "main.", 5) || !is_std_name(t);
}

/* Go maps found through their types: every in-use map header ("hash<K,V>" up to Go 1.23,
 * "map<K,V>" from 1.24) that a global reaches and whose values include the program's own
 * types is a container of those types, named by its Go expression. Maps of the standard
 * library's types (its caches, net/http's connection sets) are not. */
static int find_typed_maps(analysis *a, size_t *cap)
{
    const heap *h = a->h;
    int rc = HS_OK;
    for (uint32_t v = 0; v < h->nobj && rc >= 0; v++) {
        const char *t = heap_type_name(h, v);
        if (!t || (strncmp(t, "map<", 4) && strncmp(t, "hash<", 5)) ||
            live_state_of(a->live, v) != LIVE_IN_USE || !is_map_header(a, v))
            continue;
        int known = 0;
        for (size_t i = 0; i < a->ncontainers; i++)
            known |= a->containers[i].seeds[0] == v && a->containers[i].nseeds;
        if (known)
            continue;
        analysis_container c = {.node = v, .addr = heap_obj_ptr(h, v),
                                .kind = ANALYSIS_CONTAINER_MAP, .seeds = {v}, .nseeds = 1};
        decoder d = {.a = a, .c = &c, .seen = bitset_new(h->nnodes)};
        rc = !d.seen ? HS_ERR_NOMEM
             : (h->layout.maps == GOLAYOUT_MAP_SWISS ? walk_swiss(&d, v) : walk_hmap(&d, v)) < 0 ||
                       d.nomem
                 ? HS_ERR_NOMEM
                 : HS_OK;
        free(d.seen);
        free(d.queue);
        int mine = 0, nomem = 0;
        for (size_t i = 0; i < c.nvalues && !mine; i++)
            mine = program_type(heap_type_name(h, c.values[i]));
        if (rc >= 0 && mine && (c.name = node_expr(a, v, &nomem)) != NULL &&
            VEC_PUSH(a->containers, a->ncontainers, *cap, c) == 0)
            continue;
        if (rc >= 0 && (nomem || c.name))
            rc = HS_ERR_NOMEM;
        free(c.name);
        free(c.values);
    }
    return rc;
}

int containers_find(analysis *a, hs_error *err)
{
    size_t cap = 0;
    if (!a->opts.no_auto_containers && find_syncmaps(a, &cap) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory decoding sync.Maps");
    for (size_t i = 0; i < a->opts.ncontainers; i++) {
        int rc = add_named(a, &cap, a->opts.containers[i], err);
        if (rc < 0)
            return rc;
    }
    if (!a->opts.no_auto_containers && find_typed_maps(a, &cap) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory decoding Go maps");
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
