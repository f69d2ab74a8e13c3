/* heap_order.c - after the pass, the objects in address order: a linear sort of the arrival
 * addresses, the per-object arrays gathered into sorted positions (overlapping objects of a
 * hostile dump dropped), and the address index.
 */
#include "heap_build.h"

#include <stdlib.h>
#include <string.h>

#include "addrindex.h"
#include "hugemem.h"
#include "par.h"
#include "vec.h"

/* An ascending run of objects in dump order within one 8 KiB page. The runtime writes the
 * heap span by span, each in address order, and spans are disjoint sets of pages: runs cut at
 * page boundaries never interleave, though whole spans come in any order. */
typedef struct addr_run {
    uint64_t first, last; /* addresses of its first and last object */
    uint32_t start, len;  /* arrival indices */
} addr_run;

#define RUN_PAGE_SHIFT 13

static int run_ends(const uint64_t *addr, uint32_t n, uint32_t i)
{
    return i + 1 == n || addr[i + 1] < addr[i] ||
           (addr[i + 1] >> RUN_PAGE_SHIFT) != (addr[i] >> RUN_PAGE_SHIFT);
}

static int run_cmp(const void *x, const void *y)
{
    const addr_run *a = x, *b = y;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* Fills perm by putting the dump's runs in order. Returns 1 on success, 0 when the runs
 * interleave (not a dump the runtime wrote) or are too many to be worth it, -1 when out of
 * memory. */
static int sort_by_runs(const uint64_t *addr, uint32_t n, uint32_t *perm)
{
    size_t nruns = 0;
    for (uint32_t i = 0; i < n; i++)
        if (run_ends(addr, n, i) && ++nruns > n / 4 + 1)
            return 0;
    addr_run *runs = malloc(nruns * sizeof *runs + 1);
    if (!runs)
        return -1;
    size_t r = 0;
    for (uint32_t i = 0, start = 0; i < n; i++)
        if (run_ends(addr, n, i)) {
            runs[r++] = (addr_run){addr[start], addr[i], start, i + 1 - start};
            start = i + 1;
        }
    qsort(runs, nruns, sizeof *runs, run_cmp);
    int ok = 1;
    for (size_t k = 1; k < nruns && ok; k++)
        ok = runs[k - 1].last < runs[k].first;
    for (size_t k = 0, j = 0; k < nruns && ok; k++)
        for (uint32_t i = 0; i < runs[k].len; i++)
            perm[j++] = runs[k].start + i;
    free(runs);
    return ok;
}

typedef struct sort_pair {
    uint64_t key;
    uint32_t idx;
} sort_pair;

/* Sorts objects by address and returns the permutation perm[sorted index] = arrival index
 * in a malloc'd array of room >= n entries (the caller owns it; NULL when out of memory).
 * Linear: the dump's ascending runs put in order when they do not interleave, else an LSD
 * radix sort on 11-bit digits of the offset from the lowest address (in 8-byte words when
 * every address is aligned: a heap under 16 GiB takes 3 passes). */
static uint32_t *sort_objects(const uint64_t *addr, uint32_t n, size_t room)
{
    sort_pair *a = NULL, *t = NULL;
    uint32_t *count = NULL;
    uint32_t *perm = hugemem_alloc(room * sizeof *perm + 1);
    if (!perm)
        goto out;
    int rc = sort_by_runs(addr, n, perm);
    if (rc > 0)
        goto out;
    if (rc < 0) {
        free(perm);
        perm = NULL;
        goto out;
    }
    uint64_t lo = UINT64_MAX, hi = 0, misaligned = 0;
    for (uint32_t i = 0; i < n; i++) {
        lo = addr[i] < lo ? addr[i] : lo;
        hi = addr[i] > hi ? addr[i] : hi;
        misaligned |= addr[i] & 7;
    }
    unsigned scale = misaligned ? 0 : 3, passes = 0;
    for (uint64_t span = (hi - lo) >> scale; span; span >>= 11)
        passes++;
    a = hugemem_alloc((size_t)n * sizeof *a);
    t = hugemem_alloc((size_t)n * sizeof *t);
    count = malloc(2048 * sizeof *count);
    if (!a || !t || !count) {
        free(perm);
        perm = NULL;
        goto out;
    }
    for (uint32_t i = 0; i < n; i++)
        a[i] = (sort_pair){(addr[i] - lo) >> scale, i};
    for (unsigned p = 0; p < passes; p++) {
        unsigned shift = 11 * p;
        memset(count, 0, 2048 * sizeof *count);
        for (uint32_t i = 0; i < n; i++)
            count[(a[i].key >> shift) & 2047]++;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < 2048; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++)
            t[count[(a[i].key >> shift) & 2047]++] = a[i];
        sort_pair *x = a;
        a = t;
        t = x;
    }
    for (uint32_t i = 0; i < n; i++)
        perm[i] = a[i].idx;
out:
    free(a);
    free(t);
    free(count);
    return perm;
}

typedef struct gather_ctx {
    builder *b;
    const uint32_t *perm;
    uint32_t *inv;
    uint64_t *size;
    uint32_t *shape;
    uint8_t *hdr;
    int pass;
    uint8_t overlap[PAR_MAX_PARTS]; /* pass 1, per part: an object overlaps the next */
} gather_ctx;

/* Copies the objects perm[lo, hi) names into sorted positions lo..hi-1: in pass 0 addresses
 * and closure functions, in pass 1 sizes, shapes and headers (and whether any object
 * overlaps the next). */
static void gather_part(void *ctx, unsigned part, size_t lo, size_t hi)
{
    gather_ctx *c = ctx;
    const builder *b = c->b;
    heap *h = b->h;
    for (size_t k = lo; k < hi; k++) {
        uint32_t a = c->perm[k];
        if (c->pass == 0) {
            c->inv[a] = (uint32_t)k;
            h->obj_addr[k] = b->addr[a];
            h->obj_func[k] = b->func[a];
        } else {
            c->size[k] = h->shapes[b->shape[a]].size;
            c->shape[k] = b->shape[a];
            c->hdr[k] = b->hdr[a];
            if (k + 1 < h->nobj && h->obj_addr[k + 1] - h->obj_addr[k] < c->size[k])
                c->overlap[part] = 1;
        }
    }
}

/* Reorders the per-object arrays into address order (in parallel), then drops objects that
 * overlap their predecessor (a hostile or inconsistent dump); fills arrival -> sorted (or
 * HEAP_NONE). The second pass writes into the memory the first one freed of its sources:
 * touched pages are cheaper than fresh ones. */
int heap_order_objects(builder *b, uint32_t **sorted_of, uint32_t **arrival_of, hs_error *err)
{
    heap *h = b->h;
    uint32_t n = h->nobj;
    /* Room for every node: once dead, these two serve as spare memory (spare_take). */
    size_t room = (size_t)n + h->naux + 1;
    uint32_t *perm = sort_objects(b->addr, n, room);
    uint32_t *inv = hugemem_alloc(room * sizeof *inv + 1);
    h->obj_addr = hugemem_alloc((size_t)n * sizeof *h->obj_addr + 1);
    h->obj_func = hugemem_alloc((size_t)n * sizeof *h->obj_func + 1);
    uint8_t *hdr = hugemem_alloc((size_t)n + 1);
    if (!perm || !inv || !h->obj_addr || !h->obj_func || !hdr) {
        free(perm);
        free(inv);
        free(hdr);
        return heap_build_oom(err, "the objects in address order");
    }
    gather_ctx gc = {b, perm, inv, NULL, NULL, hdr, 0, {0}};
    par_for(n, PAR_MIN_EDGES, gather_part, &gc);
    /* Arrival addresses and functions are dead: sizes (8 bytes) and shapes (4) go there. */
    gc.size = vec_shrink(b->addr, (size_t)n * sizeof *gc.size + 1);
    gc.shape = vec_shrink(b->func, (size_t)n * sizeof *gc.shape + 1);
    b->addr = NULL;
    b->func = NULL;
    gc.pass = 1;
    par_for(n, PAR_MIN_EDGES, gather_part, &gc);
    uint64_t *size = gc.size;
    h->obj_size = size;
    h->obj_shape = gc.shape;
    h->obj_hdr = hdr;
    int overlap = 0;
    for (unsigned p = 0; p < PAR_MAX_PARTS; p++)
        overlap |= gc.overlap[p];
    uint32_t k = overlap ? 0 : n;
    for (uint32_t i = k; i < n; i++) {
        if (k && h->obj_addr[i] < h->obj_addr[k - 1] + size[k - 1]) {
            inv[perm[i]] = HEAP_NONE;
            continue;
        }
        if (k != i) {
            inv[perm[i]] = k;
            perm[k] = perm[i]; /* perm becomes sorted -> arrival for the kept objects */
            h->obj_addr[k] = h->obj_addr[i];
            size[k] = size[i];
            h->obj_hdr[k] = h->obj_hdr[i];
            h->obj_func[k] = h->obj_func[i];
            h->obj_shape[k] = h->obj_shape[i];
        }
        k++;
    }
    h->nobj = k;
    *arrival_of = perm;
    *sorted_of = inv;
    /* Arrival shapes and headers are dead too: types (4 bytes) and their sources (1) go
     * there (finish sets them). */
    h->obj_type = vec_shrink(b->shape, (size_t)n * sizeof *h->obj_type + 1);
    h->obj_tsrc = vec_shrink(b->hdr, (size_t)n + 1);
    b->hdr = NULL;
    b->shape = NULL;
    return HS_OK;
}

/* Address index: the rank bitmap when the heap qualifies (every real Go heap does), else
 * binary search over all objects. The bitmap may cost up to 32 bytes per object (or 32 MiB):
 * more means a span of addresses so sparse that searching is the better deal. */
int heap_order_index(builder *b, hs_error *err)
{
    heap *h = b->h;
    size_t max_bytes = (size_t)h->nobj * 32;
    if (addrindex_build(h->obj_addr, h->obj_size, h->nobj,
                        max_bytes > ((size_t)32 << 20) ? max_bytes : (size_t)32 << 20,
                        &h->aix) < 0)
        return heap_build_oom(err, "the address index");
    return HS_OK;
}
