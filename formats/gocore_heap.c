/* gocore_heap.c - the heap of a core (docs/capture-core.md "Heap"): every in-use span of
 * mheap_.allspans, its allocated objects (allocation bits, or the last GC's marks for a span
 * not swept since) and each object's pointer words, as runtime/heapdump.go's makeheapobjbv
 * finds them: Go 1.19's two-bit arena bitmap, or from Go 1.22 the span's own heap bits for
 * small objects, the malloc header's type for the others and the span's largeType for large
 * ones; then the finalizer specials. */
#include "gocore_internal.h"

#include <stdlib.h>
#include <string.h>

/* A type's pointer mask, as the GC reads it. */
typedef struct tmask {
    uint64_t addr, size, ptr_words;
    const uint8_t *bits;  /* ptr_words bits, or NULL: ask the DWARF type (dw) */
    uint32_t dw;          /* typetab id when bits is NULL */
    int ok;
} tmask;

#define TCACHE 256

typedef struct heapwalk {
    gc *c;
    tmask cache[TCACHE];
    uint64_t arena_idx;      /* Go 1.19: the arena whose bitmap `bitmap` is */
    const uint8_t *bitmap;
    int greentea;
} heapwalk;

static int mask_bit(const gc *c, const tmask *m, uint64_t w)
{
    if (m->bits)
        return m->bits[w / 8] >> (w % 8) & 1;
    return typetab_ptr_word(c->in->types, m->dw, w) == 1;
}

/* The pointer mask of the type descriptor at addr (cached); m->ok 0 when unreadable. */
static const tmask *type_mask(heapwalk *h, uint64_t addr)
{
    gc *c = h->c;
    tmask *m = &h->cache[(addr >> 4) % TCACHE];
    if (m->addr == addr)
        return m;
    *m = (tmask){.addr = addr};
    const gc_layout *L = &c->L;
    const uint8_t *t = gc_ptr(c, addr, L->t_gcdata.off + 8);
    if (!t)
        return m;
    m->size = gc_get(t, L->t_size);
    m->ptr_words = gc_get(t, L->t_ptrdata) / 8;
    uint64_t gcdata = gc_get(t, L->t_gcdata);
    uint64_t nbytes = (m->ptr_words + 7) / 8;
    if (L->gcmask_on_demand && (gc_get(t, L->t_tflag) & (uint64_t)L->gcmask_on_demand)) {
        /* GCData points to a slot the runtime fills with the mask on first use */
        const uint8_t *slot = gc_ptr(c, gcdata, 8);
        gcdata = slot ? hs_load_le64(slot) : 0;
    }
    m->bits = gcdata && m->ptr_words ? gc_ptr(c, gcdata, nbytes) : NULL;
    if (!m->bits && m->ptr_words) {
        const typetab_type *dt = typetab_type_by_rtype(c->in->types, addr);
        if (!dt || dt->size != m->size)
            return m;
        m->dw = dt->id;
    }
    m->ok = m->size > 0;
    return m;
}

/* Pointer words of count consecutive values of the type at typ from `start` (offsets from
 * slot), up to limit: the runtime's tiling of a type over an allocation. */
static size_t tile(heapwalk *h, uint64_t typ, uint64_t slot, uint64_t start, uint64_t limit,
                   uint64_t *offs)
{
    const tmask *m = type_mask(h, typ);
    if (!m->ok) {
        h->c->rep->untyped++;
        return 0;
    }
    size_t n = 0;
    for (uint64_t elem = start; elem < limit; elem += m->size)
        for (uint64_t w = 0; w < m->ptr_words && elem + 8 * w < limit; w++)
            if (mask_bit(h->c, m, w))
                offs[n++] = elem + 8 * w - slot;
    return n;
}

/* Go 1.19: the two-bit entry of the word at addr in its arena's bitmap; -1 when absent. */
static int arena_bits(heapwalk *h, uint64_t addr)
{
    gc *c = h->c;
    const gc_layout *L = &c->L;
    uint64_t idx = (addr - (uint64_t)L->arena_base) / (uint64_t)L->arena_bytes;
    uint64_t nbytes = L->ha_bitmap.size;
    if (!h->bitmap || idx != h->arena_idx) {
        uint64_t l1 = idx >> L->l2_bits, l2 = idx & ((1ull << L->l2_bits) - 1), l2arr, ha;
        h->bitmap = NULL;
        h->arena_idx = idx;
        if (gc_uint(c, L->mheap + L->mh_arenas.off + 8 * l1, (gc_fld){0, 8}, &l2arr,
                    "mheap_.arenas") < 0 || !l2arr ||
            gc_uint(c, l2arr + 8 * l2, (gc_fld){0, 8}, &ha, "an arena") < 0 || !ha) {
            hs_error_clear(c->err);
            return -1;
        }
        h->bitmap = gc_ptr(c, ha + L->ha_bitmap.off, nbytes);
        if (!h->bitmap)
            return -1;
    }
    uint8_t b = h->bitmap[(addr / 32) % nbytes];
    unsigned shift = (addr / 8) & 3;
    return (b >> shift & 1) | (b >> (shift + 4) & 1) << 1;
}

/* The pointer offsets of the object in the slot at `slot` (elemsize bytes) of a span. */
static size_t object_ptrs(heapwalk *h, const uint8_t *span, uint64_t base, uint64_t span_bytes,
                          uint64_t slot, uint64_t elemsize, const uint8_t *slot_bytes)
{
    gc *c = h->c;
    const gc_layout *L = &c->L;
    uint64_t *offs = c->offs;
    size_t n = 0;
    if (!L->headers) {
        for (uint64_t i = 0; i < elemsize / 8; i++) {
            int e = arena_bits(h, slot + 8 * i);
            if (e < 0) {
                c->rep->untyped++;
                return 0;
            }
            if (!(e & 2))
                break; /* no more pointers in the object */
            if (e & 1)
                offs[n++] = 8 * i;
        }
        return n;
    }
    uint64_t spc = gc_get(span, L->sp_class);
    if (spc & 1)
        return 0; /* noscan */
    if (elemsize <= (uint64_t)L->header_min) {
        uint64_t hb = base + span_bytes - span_bytes / 64;
        if (h->greentea && elemsize >= 16)
            hb -= L->inline_size;
        uint64_t w0 = (slot - base) / 8, nw = elemsize / 8;
        const uint8_t *bits = gc_ptr(c, hb + w0 / 8, (w0 % 8 + nw + 7) / 8);
        if (!bits) {
            c->rep->untyped++;
            return 0;
        }
        for (uint64_t i = 0; i < nw; i++)
            if (bits[(w0 % 8 + i) / 8] >> ((w0 % 8 + i) % 8) & 1)
                offs[n++] = 8 * i;
        return n;
    }
    if (spc >> 1) { /* a small size class: the malloc header holds the type */
        uint64_t typ = hs_load_le64(slot_bytes);
        return typ ? tile(h, typ, slot, slot + (uint64_t)L->header_size, slot + elemsize, offs)
                   : 0;
    }
    uint64_t typ = gc_get(span, L->sp_large);
    return typ ? tile(h, typ, slot, slot, slot + elemsize, offs) : 0;
}

static int bit(const uint8_t *b, uint64_t i)
{
    return b[i / 8] >> (i % 8) & 1;
}

static int span_objects(heapwalk *h, const uint8_t *span)
{
    gc *c = h->c;
    const gc_layout *L = &c->L;
    uint64_t base = gc_get(span, L->sp_start), npages = gc_get(span, L->sp_npages);
    uint64_t elemsize = gc_get(span, L->sp_elemsize), nelems = gc_get(span, L->sp_nelems);
    uint64_t freeindex = gc_get(span, L->sp_freeindex);
    uint64_t span_bytes = npages << L->page_shift;
    if (!elemsize || !npages || npages > (1ull << 40) >> L->page_shift)
        return hs_error_set(c->err, HS_ERR_FORMAT, HS_NO_OFFSET,
                            "the span at 0x%llx has elemsize %llu and %llu pages",
                            (unsigned long long)base, (unsigned long long)elemsize,
                            (unsigned long long)npages);
    if (nelems > span_bytes / elemsize)
        nelems = span_bytes / elemsize;
    const uint8_t *bytes = coremem_ptr(c->mem, base, span_bytes);
    if (!bytes) {
        gc_lost(c, "spans whose memory the core does not hold were left out (first at 0x%llx)",
                (unsigned long long)base);
        return HS_OK;
    }
    /* a span not swept since the last GC: its live objects are the ones that GC marked */
    int unswept = (uint32_t)gc_get(span, L->sp_sweepgen) == (uint32_t)(c->sweepgen - 2);
    uint64_t bits_at = gc_get(span, unswept ? L->sp_mark : L->sp_alloc);
    const uint8_t *bits = bits_at ? gc_ptr(c, bits_at, (nelems + 7) / 8) : NULL;
    const uint8_t *inl = NULL;
    if (unswept) {
        c->rep->unswept_spans++;
        freeindex = 0;
        if (h->greentea && elemsize <= (uint64_t)L->header_min && elemsize >= 16)
            inl = bytes + span_bytes - L->inline_size + L->inl_marks.off;
    }
    if (!bits && nelems > freeindex)
        return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "the %s bits of the span at 0x%llx (at 0x%llx) are not in the memory",
                            unswept ? "mark" : "allocation", (unsigned long long)base,
                            (unsigned long long)bits_at);
    int rc = gc_room_offs(c, elemsize / 8 + 1);
    if (rc < 0)
        return rc;
    for (uint64_t j = 0; j < nelems; j++) {
        int live = j < freeindex || (bits && bit(bits, j)) || (inl && j < 8 * 63 && bit(inl, j));
        if (!live)
            continue;
        uint64_t slot = base + j * elemsize;
        const uint8_t *sb = bytes + j * elemsize;
        size_t np = object_ptrs(h, span, base, span_bytes, slot, elemsize, sb);
        gohd_record r = {.tag = GOHD_OBJECT};
        r.u.object = (gohd_memrec){slot, {sb, elemsize}, c->offs, np};
        if ((rc = gc_emit(c, &r)) < 0)
            return rc;
        c->rep->objects++;
        c->rep->object_bytes += elemsize;
    }
    return HS_OK;
}

/* The in-use spans of mheap_.allspans, one callback each with the span's bytes. */
static int each_span(gc *c, int (*fn)(void *ctx, const uint8_t *span), void *ctx)
{
    const gc_layout *L = &c->L;
    uint64_t arr, n;
    int rc;
    if ((rc = gc_header(c, L->mheap + L->mh_allspans.off, &arr, &n, "mheap_.allspans")) < 0)
        return rc;
    const uint8_t *list = n ? gc_ptr(c, arr, n * 8) : NULL;
    if (n && (n > (1ull << 32) || !list))
        return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "mheap_.allspans (%llu spans at 0x%llx) is not in the memory",
                            (unsigned long long)n, (unsigned long long)arr);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = hs_load_le64(list + 8 * i);
        const uint8_t *span = at ? gc_ptr(c, at, L->span_size) : NULL;
        if (!span)
            return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                                "span %llu of mheap_.allspans (at 0x%llx) is not in the memory",
                                (unsigned long long)i, (unsigned long long)at);
        if (gc_get(span, L->sp_state) != (uint64_t)L->span_in_use)
            continue;
        if ((rc = fn(ctx, span)) < 0)
            return rc;
    }
    return HS_OK;
}

static int on_span_objects(void *ctx, const uint8_t *span)
{
    heapwalk *h = ctx;
    h->c->rep->spans++;
    return span_objects(h, span);
}

int gocore_heap_objects(gc *c)
{
    heapwalk *h = calloc(1, sizeof *h);
    if (!h)
        return hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET, "type cache");
    h->c = c;
    h->greentea = c->L.inline_size > 0 && c->L.inl_marks.size > 0;
    int rc = each_span(c, on_span_objects, h);
    free(h);
    if (rc == HS_OK && c->rep->unswept_spans)
        gc_lost(c, "%llu spans were not swept since the last GC: their objects are the ones it "
                   "marked", (unsigned long long)c->rep->unswept_spans);
    if (rc == HS_OK && c->rep->untyped)
        gc_lost(c, "%llu objects have a type word the memory does not describe: written "
                   "without pointers", (unsigned long long)c->rep->untyped);
    return rc;
}

typedef struct specials {
    gc *c;
    int tag; /* GOHD_FINALIZER or GOHD_ALLOC_SAMPLE */
} specials;

static int on_span_specials(void *ctx, const uint8_t *span)
{
    const specials *w = ctx;
    gc *c = w->c;
    const gc_layout *L = &c->L;
    uint64_t want = (uint64_t)(w->tag == GOHD_FINALIZER ? L->kind_finalizer : L->kind_profile);
    uint64_t base = gc_get(span, L->sp_start), sp = gc_get(span, L->sp_specials);
    for (unsigned k = 0; sp && k < (1u << 24); k++) {
        uint64_t kind, off, next;
        int rc;
        if ((rc = gc_uint(c, sp, L->spc_kind, &kind, "a special")) < 0 ||
            (rc = gc_uint(c, sp, L->spc_offset, &off, "a special")) < 0 ||
            (rc = gc_uint(c, sp, L->spc_next, &next, "a special")) < 0)
            return rc;
        if (kind == want && w->tag == GOHD_FINALIZER) {
            if ((rc = gc_finalizer(c, GOHD_FINALIZER, base + off, sp, L->spf_fn, L->spf_fint,
                                   L->spf_ot)) < 0)
                return rc;
            c->rep->finalizers++;
        } else if (kind == want) {
            gohd_record r = {.tag = GOHD_ALLOC_SAMPLE};
            r.u.alloc_sample.obj = base + off;
            if ((rc = gc_uint(c, sp, L->spp_b, &r.u.alloc_sample.bucket, "a profile special")) < 0 ||
                (rc = gc_emit(c, &r)) < 0)
                return rc;
        }
        sp = next;
    }
    return HS_OK;
}

int gocore_heap_specials(gc *c, int tag)
{
    if (tag == GOHD_ALLOC_SAMPLE && (c->L.kind_profile < 0 || !c->L.spp_b.size))
        return HS_OK;
    specials w = {c, tag};
    return each_span(c, on_span_specials, &w);
}
