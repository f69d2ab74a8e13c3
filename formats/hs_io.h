/* hs_io.h - byte streams for the readers and writers: a read callback and a write callback,
 * plus ready-made adapters for a file descriptor and an in-memory buffer.
 *
 * Parsers never take a path: they take (data, size) or an hs_reader. Callers own the fd or
 * buffer behind an adapter.
 */
#ifndef HS_IO_H
#define HS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "hs_error.h"

/* Reads up to n bytes into buf. Returns the number read (0 = end of stream) or a negative
 * hs_status. May return fewer than n bytes before the end. */
typedef int64_t (*hs_read_fn)(void *ctx, void *buf, size_t n);

/* Writes exactly n bytes. Returns HS_OK or a negative hs_status. */
typedef int (*hs_write_fn)(void *ctx, const void *buf, size_t n);

typedef struct hs_reader {
    hs_read_fn read;
    void *ctx;
} hs_reader;

typedef struct hs_writer {
    hs_write_fn write;
    void *ctx;
} hs_writer;

/* A reader over a file descriptor (retries EINTR). ctx must point to an int fd. */
int64_t hs_fd_read(void *ctx, void *buf, size_t n);

/* A writer over a file descriptor (loops over short writes, retries EINTR). ctx: int *fd. */
int hs_fd_write(void *ctx, const void *buf, size_t n);

/* A reader over memory. */
typedef struct hs_mem_source {
    const uint8_t *data;
    size_t size;
    size_t pos;
} hs_mem_source;
int64_t hs_mem_read(void *ctx, void *buf, size_t n);

/* A growable in-memory sink (hs_mem_sink_release frees data). */
typedef struct hs_mem_sink {
    uint8_t *data;
    size_t len;
    size_t cap;
} hs_mem_sink;
int hs_mem_write(void *ctx, const void *buf, size_t n);
void hs_mem_sink_release(hs_mem_sink *s);

/* Reads an 8-byte little-endian unsigned integer (one load on little-endian hosts). */
static inline uint64_t hs_load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Reads an n-byte (n <= 8) little-endian unsigned integer. */
static inline uint64_t hs_load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Maps a whole file read-only. On success *data and *size describe it (an empty file gives
 * data == NULL, size == 0); release with hs_unmap. Takes a path: for the CLIs only. */
int hs_map_file(const char *path, const uint8_t **data, size_t *size, hs_error *err);
void hs_unmap(const uint8_t *data, size_t size);

/* Takes the whole pages within [data, data + size) of a mapping made by hs_map_file out of
 * the process's resident memory (they are read again from the file when touched): for the
 * bytes a pass over a large file is done with. */
void hs_map_drop_pages(const uint8_t *data, size_t size);

#endif
