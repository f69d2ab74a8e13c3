/* gohd.h - streaming reader of the Go runtime heap dump ("go1.7 heap dump\n"), the stream
 * written by runtime/debug.WriteHeapDump (src/runtime/heapdump.go), Go 1.7 through 1.26.
 *
 * The reader pulls bytes from an hs_reader (file, pipe, socket, inflating .hsd section) and
 * yields one record at a time. Memory is bounded by the largest single record (itself capped
 * by gohd_options.max_record_bytes): a 10 GiB dump streams through a small buffer.
 *
 * Byte strings and field lists in a gohd_record point into the reader's buffer and stay valid
 * until the next gohd_next() or gohd_reader_free().
 */
#ifndef GOHD_H
#define GOHD_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "hs_io.h"

#define GOHD_MAGIC "go1.7 heap dump\n"
#define GOHD_MAGIC_LEN 16

typedef enum gohd_tag {
    GOHD_EOF = 0,
    GOHD_OBJECT = 1,
    GOHD_OTHER_ROOT = 2,
    GOHD_TYPE = 3,
    GOHD_GOROUTINE = 4,
    GOHD_FRAME = 5,
    GOHD_PARAMS = 6,
    GOHD_FINALIZER = 7,
    GOHD_ITAB = 8,
    GOHD_OSTHREAD = 9,
    GOHD_MEMSTATS = 10,
    GOHD_QFINALIZER = 11,
    GOHD_DATA = 12,
    GOHD_BSS = 13,
    GOHD_DEFER = 14,
    GOHD_PANIC = 15,
    GOHD_MEMPROF = 16,
    GOHD_ALLOC_SAMPLE = 17,
    GOHD_NTAGS = 18
} gohd_tag;

/* Returns a short lowercase name for a tag ("object", "stack frame", ...). */
const char *gohd_tag_name(int tag);

typedef struct gohd_bytes {
    const uint8_t *ptr;
    size_t len;
} gohd_bytes;

/* One frame of a memprof bucket's stack. */
typedef struct gohd_stackloc {
    gohd_bytes func;
    gohd_bytes file;
    uint64_t line;
} gohd_stackloc;

/* Object, data and bss records: the memory and the offsets of its pointer slots. */
typedef struct gohd_memrec {
    uint64_t addr;
    gohd_bytes contents;
    const uint64_t *ptr_offsets; /* offsets of pointer fields (kind 1), as written */
    size_t nptrs;
} gohd_memrec;

typedef struct gohd_record {
    gohd_tag tag;
    uint64_t offset; /* byte offset of the record's tag from the start of the stream */
    uint64_t length; /* encoded length of the record in bytes */
    union {
        gohd_memrec object; /* GOHD_OBJECT, GOHD_DATA, GOHD_BSS */
        struct {
            gohd_bytes description;
            uint64_t addr;
        } other_root;
        struct {
            uint64_t addr, size;
            gohd_bytes name;
            int indirect; /* the interface data word is a pointer */
        } type;
        struct {
            uint64_t g, sp, goid, gopc, status;
            int is_system, is_background;
            uint64_t waitsince;
            gohd_bytes waitreason;
            uint64_t ctxt, m, defer, panic;
        } goroutine;
        struct {
            uint64_t sp, depth, child_sp;
            gohd_bytes contents; /* the frame's memory, from sp */
            uint64_t entry, pc, continpc;
            gohd_bytes name;
            const uint64_t *ptr_offsets; /* offsets from sp */
            size_t nptrs;
        } frame;
        struct {
            int big_endian;
            uint64_t ptr_size, arena_start, arena_end;
            gohd_bytes goarch, goversion;
            uint64_t ncpu;
        } params;
        struct {
            uint64_t obj, fn, fnpc, fint, ot;
        } finalizer; /* GOHD_FINALIZER and GOHD_QFINALIZER */
        struct {
            uint64_t itab, type;
        } itab;
        struct {
            uint64_t m, id, procid;
        } osthread;
        struct {
            uint64_t stats[24]; /* runtime.MemStats Alloc .. PauseTotalNs */
            uint64_t pause_ns[256];
            uint64_t numgc;
        } memstats;
        struct {
            uint64_t d, g, sp, pc, fn, fnpc, link;
        } defer;
        struct {
            uint64_t p, g, argtype, argdata, unused, link;
        } panic;
        struct {
            uint64_t bucket, size, nstk;
            const gohd_stackloc *stack; /* nstk entries */
            uint64_t allocs, frees;
        } memprof;
        struct {
            uint64_t obj, bucket;
        } alloc_sample;
    } u;
} gohd_record;

typedef struct gohd_options {
    uint64_t max_record_bytes; /* largest record accepted (0 = default, 4 GiB) */
} gohd_options;

typedef struct gohd_reader gohd_reader;

/* Creates a reader over src and checks the header. opts may be NULL. On failure returns a
 * negative status, fills err (with the byte offset) and sets *out to NULL. */
int gohd_reader_new(hs_reader src, const gohd_options *opts, gohd_reader **out, hs_error *err);

/* Reads the next record into *rec. Returns 1 when a record was read, 0 after the EOF record
 * (tag 0; a stream ending without it is HS_ERR_TRUNCATED), or a negative status with err
 * naming the byte offset and record kind. */
int gohd_next(gohd_reader *r, gohd_record *rec, hs_error *err);

/* Bytes consumed from the source so far. */
uint64_t gohd_position(const gohd_reader *r);

/* Frees the reader (NULL is accepted). Does not close the source. */
void gohd_reader_free(gohd_reader *r);

/* Reads a pointer-sized word from dump memory (ptr_size 4 or 8, byte order from the params
 * record). The caller checks that ptr_size bytes are available. */
static inline uint64_t gohd_word(const uint8_t *p, uint64_t ptr_size, int big_endian)
{
    if (ptr_size == 8 && !big_endian)
        return hs_load_le64(p); /* the common case: amd64, arm64 */
    uint64_t v = 0;
    for (uint64_t i = 0; i < ptr_size; i++)
        v |= (uint64_t)p[big_endian ? ptr_size - 1 - i : i] << (8 * i);
    return v;
}

/* Appends the varint encoding of v to buf (at least 10 bytes); returns bytes written.
 * Used by writers of synthetic dumps (tests, benchmarks, redaction). */
size_t gohd_put_uvarint(uint64_t v, uint8_t *buf);

#endif
