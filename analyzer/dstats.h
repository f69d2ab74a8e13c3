/* dstats.h - one streaming pass over a dump that counts what it holds: records and bytes
 * per kind, objects, goroutines, finalizers, data/bss, and (with symbols) the globals with
 * the most pointer slots. Backs `heapsift info`.
 */
#ifndef DSTATS_H
#define DSTATS_H

#include <stdint.h>

#include "cjson/cJSON.h"
#include "gohd.h"
#include "hs_error.h"
#include "source.h"

typedef struct dstats_global {
    char name[128];
    uint64_t addr, size;
    uint64_t ptr_slots;     /* pointer slots the dump's masks give for it */
    uint64_t nonnil_slots;  /* of which hold a non-zero value */
    int anonymous;
} dstats_global;

/* Slot sizes up to this are counted exactly (Go's largest small size class is 32 KiB). */
#define DSTATS_SMALL_MAX 32768

typedef struct dstats {
    uint64_t dump_bytes;
    uint64_t records[GOHD_NTAGS];      /* records per tag */
    uint64_t record_bytes[GOHD_NTAGS]; /* encoded bytes per tag */
    char go_version[64];
    char goarch[16];
    uint64_t ptr_size;
    int big_endian;
    uint64_t ncpu;
    uint64_t objects, object_bytes, object_ptr_slots;
    uint64_t goroutines, system_goroutines, frames;
    uint64_t finalizers, queued_finalizers;
    uint64_t data_bytes, bss_bytes, data_ptr_slots, bss_ptr_slots;
    uint64_t heap_alloc, heap_objects, num_gc; /* from the memstats record */
    uint64_t *small_sizes;  /* objects per exact slot size, index 0..DSTATS_SMALL_MAX; owned */
    uint64_t large_objects, large_bytes; /* objects above DSTATS_SMALL_MAX */
    int has_symbols;
    dstats_global *top_globals; /* sorted by ptr_slots, descending; owned */
    size_t ntop;
} dstats;

/* Reads every record of s and fills *out (release with dstats_release). top_n bounds the
 * global list. progress (may be NULL) is called now and then with bytes read so far. */
int dstats_compute(source *s, size_t top_n, void (*progress)(void *ctx, uint64_t done),
                   void *progress_ctx, dstats *out, hs_error *err);

/* Frees what dstats_compute allocated. */
void dstats_release(dstats *st);

/* Builds the JSON form (caller owns the cJSON tree). */
cJSON *dstats_to_json(const dstats *st);

#endif
