/* dstats.c - record counts and top globals for `heapsift info`. */
#include "dstats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-global accumulator: a small open-addressing table keyed by symbol address. */
typedef struct gslot {
    uint64_t key; /* symbol address + 1, 0 = empty */
    dstats_global g;
} gslot;

typedef struct gtable {
    gslot *slots;
    size_t cap, used;
} gtable;

static int gtable_grow(gtable *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 256;
    gslot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return HS_ERR_NOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key)
            continue;
        size_t j = (t->slots[i].key * 0x9E3779B97F4A7C15ull) >> 20 & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return HS_OK;
}

static dstats_global *gtable_get(gtable *t, const symtab_sym *sym)
{
    if ((t->used + 1) * 2 > t->cap && gtable_grow(t) < 0)
        return NULL;
    uint64_t key = sym->addr + 1;
    size_t j = (key * 0x9E3779B97F4A7C15ull) >> 20 & (t->cap - 1);
    while (t->slots[j].key && t->slots[j].key != key)
        j = (j + 1) & (t->cap - 1);
    if (!t->slots[j].key) {
        t->slots[j].key = key;
        dstats_global *g = &t->slots[j].g;
        snprintf(g->name, sizeof g->name, "%s", sym->name);
        g->addr = sym->addr;
        g->size = sym->size;
        g->anonymous = sym->anonymous;
        t->used++;
    }
    return &t->slots[j].g;
}

static int account_globals(gtable *t, const symtab *syms, const gohd_memrec *m,
                           uint64_t ptr_size, int big_endian)
{
    for (size_t i = 0; i < m->nptrs; i++) {
        uint64_t off = m->ptr_offsets[i];
        symtab_sym anon;
        const symtab_sym *sym = symtab_data_at(syms, m->addr + off, &anon);
        if (!sym)
            continue;
        dstats_global *g = gtable_get(t, sym);
        if (!g)
            return HS_ERR_NOMEM;
        g->ptr_slots++;
        if (off <= m->contents.len && m->contents.len - off >= ptr_size &&
            gohd_word(m->contents.ptr + off, ptr_size, big_endian) != 0)
            g->nonnil_slots++;
    }
    return HS_OK;
}

static int by_slots_desc(const void *a, const void *b)
{
    const dstats_global *x = a, *y = b;
    if (x->ptr_slots != y->ptr_slots)
        return x->ptr_slots < y->ptr_slots ? 1 : -1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void copy_str(gohd_bytes b, char *dst, size_t cap)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    memcpy(dst, b.ptr, n);
    dst[n] = '\0';
}

static void count_record(dstats *st, const gohd_record *rec)
{
    switch (rec->tag) {
    case GOHD_PARAMS:
        copy_str(rec->u.params.goversion, st->go_version, sizeof st->go_version);
        copy_str(rec->u.params.goarch, st->goarch, sizeof st->goarch);
        st->ptr_size = rec->u.params.ptr_size;
        st->big_endian = rec->u.params.big_endian;
        st->ncpu = rec->u.params.ncpu;
        break;
    case GOHD_OBJECT:
        st->objects++;
        if (rec->u.object.contents.len <= DSTATS_SMALL_MAX) {
            st->small_sizes[rec->u.object.contents.len]++;
        } else {
            st->large_objects++;
            st->large_bytes += rec->u.object.contents.len;
        }
        st->object_bytes += rec->u.object.contents.len;
        st->object_ptr_slots += rec->u.object.nptrs;
        break;
    case GOHD_GOROUTINE:
        st->goroutines++;
        st->system_goroutines += rec->u.goroutine.is_system != 0;
        break;
    case GOHD_FRAME: st->frames++; break;
    case GOHD_FINALIZER: st->finalizers++; break;
    case GOHD_QFINALIZER: st->queued_finalizers++; break;
    case GOHD_DATA:
        st->data_bytes += rec->u.object.contents.len;
        st->data_ptr_slots += rec->u.object.nptrs;
        break;
    case GOHD_BSS:
        st->bss_bytes += rec->u.object.contents.len;
        st->bss_ptr_slots += rec->u.object.nptrs;
        break;
    case GOHD_MEMSTATS:
        /* runtime.MemStats field order: Alloc, TotalAlloc, Sys, Lookups, Mallocs, Frees,
         * HeapAlloc, HeapSys, HeapIdle, HeapInuse, HeapReleased, HeapObjects, ... */
        st->heap_alloc = rec->u.memstats.stats[6];
        st->heap_objects = rec->u.memstats.stats[11];
        st->num_gc = rec->u.memstats.numgc;
        break;
    default:
        break;
    }
}

int dstats_compute(source *s, size_t top_n, void (*progress)(void *ctx, uint64_t done),
                   void *progress_ctx, dstats *out, hs_error *err)
{
    memset(out, 0, sizeof *out);
    out->dump_bytes = s->dump_bytes;
    out->has_symbols = s->syms != NULL;
    out->small_sizes = calloc(DSTATS_SMALL_MAX + 1, sizeof *out->small_sizes);
    if (!out->small_sizes)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "size histogram");
    source_reader *sr = NULL;
    gtable globals = {0};
    int rc = source_reader_open(s, 2, &sr, err);
    if (rc < 0)
        goto out;
    gohd_reader *r = source_reader_gohd(sr);
    gohd_record rec;
    uint64_t next_report = 0;
    while ((rc = gohd_next(r, &rec, err)) > 0) {
        out->records[rec.tag]++;
        out->record_bytes[rec.tag] += rec.length;
        count_record(out, &rec);
        if ((rec.tag == GOHD_DATA || rec.tag == GOHD_BSS) && s->syms &&
            (rc = account_globals(&globals, s->syms, &rec.u.object,
                                  out->ptr_size ? out->ptr_size : 8, out->big_endian)) < 0) {
            hs_error_set(err, rc, rec.offset, "accounting globals");
            break;
        }
        if (progress && rec.offset >= next_report) {
            progress(progress_ctx, rec.offset);
            next_report = rec.offset + (16u << 20);
        }
    }
    if (rc == 0)
        out->records[GOHD_EOF] = 1; /* gohd_next consumes the EOF record without yielding it */
    if (rc < 0) {
        const hs_error *se = source_reader_stream_error(sr);
        if (se && se->status != HS_OK && err)
            *err = *se;
        goto out;
    }
    source_reader_free(sr);
    sr = NULL;
    if (globals.used) {
        dstats_global *all = malloc(globals.used * sizeof *all);
        if (!all) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "globals");
            goto out;
        }
        size_t k = 0;
        for (size_t i = 0; i < globals.cap; i++)
            if (globals.slots[i].key)
                all[k++] = globals.slots[i].g;
        qsort(all, k, sizeof *all, by_slots_desc);
        out->top_globals = all;
        out->ntop = k < top_n ? k : top_n;
    }
out:
    source_reader_free(sr);
    free(globals.slots);
    if (rc < 0)
        dstats_release(out);
    return rc;
}

void dstats_release(dstats *st)
{
    if (!st)
        return;
    free(st->top_globals);
    free(st->small_sizes);
    st->top_globals = NULL;
    st->small_sizes = NULL;
    st->ntop = 0;
}

cJSON *dstats_to_json(const dstats *st)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "schema", "heapsift-info/1");
    cJSON_AddStringToObject(root, "go_version", st->go_version);
    cJSON_AddStringToObject(root, "goarch", st->goarch);
    cJSON_AddNumberToObject(root, "ptr_size", (double)st->ptr_size);
    cJSON_AddNumberToObject(root, "dump_bytes", (double)st->dump_bytes);
    cJSON *recs = cJSON_AddObjectToObject(root, "records");
    for (int t = 0; t < GOHD_NTAGS; t++) {
        if (!st->records[t])
            continue;
        cJSON *r = cJSON_AddObjectToObject(recs, gohd_tag_name(t));
        cJSON_AddNumberToObject(r, "count", (double)st->records[t]);
        cJSON_AddNumberToObject(r, "bytes", (double)st->record_bytes[t]);
    }
    cJSON_AddNumberToObject(root, "objects", (double)st->objects);
    cJSON_AddNumberToObject(root, "object_bytes", (double)st->object_bytes);
    cJSON_AddNumberToObject(root, "object_pointer_slots", (double)st->object_ptr_slots);
    cJSON_AddNumberToObject(root, "goroutines", (double)st->goroutines);
    cJSON_AddNumberToObject(root, "system_goroutines", (double)st->system_goroutines);
    cJSON_AddNumberToObject(root, "stack_frames", (double)st->frames);
    cJSON_AddNumberToObject(root, "finalizers", (double)st->finalizers);
    cJSON_AddNumberToObject(root, "queued_finalizers", (double)st->queued_finalizers);
    cJSON_AddNumberToObject(root, "data_bytes", (double)st->data_bytes);
    cJSON_AddNumberToObject(root, "bss_bytes", (double)st->bss_bytes);
    cJSON_AddNumberToObject(root, "data_pointer_slots", (double)st->data_ptr_slots);
    cJSON_AddNumberToObject(root, "bss_pointer_slots", (double)st->bss_ptr_slots);
    cJSON_AddNumberToObject(root, "heap_alloc", (double)st->heap_alloc);
    cJSON_AddNumberToObject(root, "heap_objects", (double)st->heap_objects);
    cJSON_AddNumberToObject(root, "num_gc", (double)st->num_gc);
    cJSON *sizes = cJSON_AddArrayToObject(root, "object_sizes");
    for (size_t sz = 0; st->small_sizes && sz <= DSTATS_SMALL_MAX; sz++) {
        if (!st->small_sizes[sz])
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "size", (double)sz);
        cJSON_AddNumberToObject(o, "count", (double)st->small_sizes[sz]);
        cJSON_AddItemToArray(sizes, o);
    }
    cJSON_AddNumberToObject(root, "large_objects", (double)st->large_objects);
    cJSON_AddNumberToObject(root, "large_object_bytes", (double)st->large_bytes);
    cJSON_AddBoolToObject(root, "symbols", st->has_symbols);
    cJSON *globals = cJSON_AddArrayToObject(root, "top_globals");
    for (size_t i = 0; i < st->ntop; i++) {
        const dstats_global *g = &st->top_globals[i];
        cJSON *o = cJSON_CreateObject();
        char addr[24];
        snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)g->addr);
        cJSON_AddStringToObject(o, "name", g->name);
        cJSON_AddStringToObject(o, "addr", addr);
        cJSON_AddNumberToObject(o, "size", (double)g->size);
        cJSON_AddNumberToObject(o, "pointer_slots", (double)g->ptr_slots);
        cJSON_AddNumberToObject(o, "nonnil_slots", (double)g->nonnil_slots);
        cJSON_AddBoolToObject(o, "anonymous", g->anonymous);
        cJSON_AddItemToArray(globals, o);
    }
    return root;
}
