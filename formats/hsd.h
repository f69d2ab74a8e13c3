/* hsd.h - the .hsd container (formats/HSD.md): a header, typed sections each stored as
 * independent zlib chunks with a CRC32 per chunk, an index of sections and chunks, and an end
 * marker so truncation is detected. Written as a stream (the heap dump flows straight
 * through), read by random access over a mapped file so chunks can be inflated in parallel.
 */
#ifndef HSD_H
#define HSD_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "hs_io.h"

#define HSD_MAGIC "HEAPSIFT"
#define HSD_VERSION 2        /* what this writer writes (HSD.md "Versions") */
#define HSD_VERSION_OLDEST 1 /* the oldest version this reader reads */

typedef enum hsd_section_type {
    HSD_SEC_META = 1,     /* JSON object: pid, exe, cmdline, times, rss, go version, ... */
    HSD_SEC_SYMTAB = 2,   /* symtab_encode() output: symbols, section ranges, type area */
    HSD_SEC_MAPS = 3,     /* /proc/PID/maps text */
    HSD_SEC_HEAPDUMP = 4, /* the runtime heap-dump stream, byte for byte */
    HSD_SEC_MANIFEST = 5, /* optional JSON written by the target (sample workloads) */
    HSD_SEC_SEGMENT = 6,  /* reserved: raw memory segment */
    HSD_SEC_REGS = 7,     /* reserved: thread registers */
    HSD_SEC_TYPES = 8,    /* typetab_encode() output: DWARF types, globals, frames (v2) */
} hsd_section_type;

/* Returns a short name ("meta", "heapdump", ...) for a section type. */
const char *hsd_section_type_name(uint32_t type);

/* ---- writing ---- */

typedef struct hsd_writer_options {
    uint32_t chunk_size; /* uncompressed bytes per chunk (0 = 1 MiB) */
    int level;           /* zlib level (0 = default 1, fast) */
    int threads;         /* compression worker threads (0 = 1; data is compressed off the
                            caller's thread so the caller keeps draining its source) */
} hsd_writer_options;

typedef struct hsd_writer hsd_writer;

/* Starts a container on out and writes the header. opts may be NULL. */
int hsd_writer_new(hs_writer sink, const hsd_writer_options *opts, hsd_writer **out,
                   hs_error *err);

/* Opens a section; at most one is open at a time. name may be NULL. */
int hsd_writer_begin(hsd_writer *w, uint32_t type, const char *name, hs_error *err);

/* Appends bytes to the open section (split into chunks and compressed). */
int hsd_writer_write(hsd_writer *w, const void *data, size_t len, hs_error *err);

/* Closes the open section. */
int hsd_writer_end(hsd_writer *w, hs_error *err);

/* Convenience: begin + write + end. */
int hsd_writer_section(hsd_writer *w, uint32_t type, const char *name, const void *data,
                       size_t len, hs_error *err);

/* Flushes all chunks, writes the index and end marker. The sink then holds a complete file. */
int hsd_writer_finish(hsd_writer *w, hs_error *err);

/* Frees the writer (NULL is accepted); an unfinished container is simply abandoned. */
void hsd_writer_free(hsd_writer *w);

/* ---- reading ---- */

typedef struct hsd_section_info {
    uint32_t type;
    char name[64];
    uint64_t raw_size;        /* uncompressed bytes */
    uint64_t stored_size;     /* compressed bytes */
    uint32_t nchunks;
    uint64_t first_chunk_off; /* file offset of the first chunk */
} hsd_section_info;

typedef struct hsd_reader hsd_reader;

/* Opens a container held in memory (data must outlive the reader): checks the header, the end
 * marker and the index. Truncation, a bad index or a wrong magic fail here with the offset.
 * Chunk CRCs are checked when chunks are read (or all at once with hsd_verify). */
int hsd_reader_open(const uint8_t *data, size_t size, hsd_reader **out, hs_error *err);

/* Returns 1 when data starts with the .hsd magic. */
int hsd_is_hsd(const uint8_t *data, size_t size);

/* Frees the reader (NULL is accepted). */
void hsd_reader_free(hsd_reader *r);

/* Container format version of the file. */
uint32_t hsd_version(const hsd_reader *r);

/* Number of sections and the i-th one's description. */
size_t hsd_section_count(const hsd_reader *r);
const hsd_section_info *hsd_section(const hsd_reader *r, size_t i);

/* Index of the first section of a type, or -1. */
long hsd_find_section(const hsd_reader *r, uint32_t type);

/* Inflates a whole section into a new malloc'd buffer (caller frees *out). The section's
 * raw size is checked against max_bytes (0 = no limit) before allocating. */
int hsd_read_section(const hsd_reader *r, size_t i, uint64_t max_bytes, uint8_t **out,
                     size_t *len, hs_error *err);

/* A sequential stream over a section, usable as an hs_reader. Chunks are inflated by
 * `threads` threads, the caller's included: threads - 1 workers inflate ahead of the caller,
 * who inflates the chunk it needs itself when no worker has taken it yet (threads <= 1: all
 * inline). */
typedef struct hsd_stream hsd_stream;
int hsd_stream_open(const hsd_reader *r, size_t section, int threads, hsd_stream **out,
                    hs_error *err);
int64_t hsd_stream_read(void *stream, void *buf, size_t n); /* hs_read_fn */
const hs_error *hsd_stream_error(const hsd_stream *s);     /* details after a failed read */
void hsd_stream_free(hsd_stream *s);

/* Has the stream call drop on the stored bytes of chunks once they are inflated and read
 * (in runs of a few MiB, not page-aligned): a caller that mapped the file can take those
 * pages out of its resident memory. Call before the first read. */
void hsd_stream_drop_behind(hsd_stream *s, void (*drop)(const uint8_t *p, size_t n));

/* Checks every chunk's CRC and inflated size. */
int hsd_verify(const hsd_reader *r, hs_error *err);

#endif
