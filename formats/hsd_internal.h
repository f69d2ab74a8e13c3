/* hsd_internal.h - what the .hsd writer (hsd_write.c), reader (hsd_read.c) and stream
 * (hsd_stream.c) share: the layout constants of formats/HSD.md, little-endian loads, the CRC
 * helpers, the reader's chunk index, the chunk inflater and starting the (de)compression
 * threads. Not part of the public API (hsd.h).
 */
#ifndef HSD_INTERNAL_H
#define HSD_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "hs_crc32.h"
#include "hsd.h"

/* Layout constants, HSD.md. */
#define HDR_SIZE 24u
#define CHUNK_HDR 32u
#define TRAILER_SIZE 32u
#define INDEX_HDR 16u
#define SEC_ENTRY 32u
#define CHUNK_ENTRY 24u
#define MAX_CHUNK_RAW (64u << 20)
#define MAX_SECTIONS 65536u
#define MAX_NAME 63u
#define END_MAGIC "HSD-END\n"
#define CHUNK_MAGIC "HSDC"
#define INDEX_MAGIC "HSDI"

static inline uint32_t hsd_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t hsd_get64(const uint8_t *p)
{
    return (uint64_t)hsd_get32(p) | (uint64_t)hsd_get32(p + 4) << 32;
}

/* CRC32 as zlib computes it (hs_crc32.h), over any length. */
static inline uint32_t hsd_crc_buf(const uint8_t *p, uint64_t n)
{
    return hs_crc32_update(0, p, (size_t)n);
}

/* Largest stored_len a reader accepts for raw_len bytes (above zlib's deflateBound). */
static inline uint64_t hsd_stored_bound(uint32_t raw)
{
    return (uint64_t)raw + raw / 256 + 64;
}

/* ---- the reader's view of a file, shared with the stream ---- */

typedef struct hsd_rchunk {
    uint64_t off; /* chunk header */
    uint32_t raw, stored, raw_crc, stored_crc;
} hsd_rchunk;

struct hsd_reader {
    const uint8_t *data;
    size_t size;
    uint32_t version;
    hsd_section_info *secs;
    size_t nsecs;
    size_t *sec_chunk0; /* first chunk of each section in chunks[] */
    hsd_rchunk *chunks;
    size_t nchunks;
    uint32_t max_raw; /* largest chunk raw_len in the file */
};

/* Checks and inflates chunk k of section sec into dst, which holds exactly its raw_len. */
int hsd_inflate_chunk(const hsd_reader *r, z_stream *zs, size_t sec, uint32_t k, uint8_t *dst,
                      hs_error *err);

/* inflateInit2 for raw deflate on a zeroed zs (hsd_inflate_chunk reads the zlib header and
 * trailer itself). */
int hsd_zinit(z_stream *zs, hs_error *err);

/* Starts n threads running fn(arg) into th[0..n), *started counting those running, so that
 * on failure the caller stops and joins exactly them; `what` names a thread in the error. */
static inline int hsd_start_threads(pthread_t *th, int n, void *(*fn)(void *), void *arg,
                                    const char *what, int *started, hs_error *err)
{
    for (int i = 0; i < n; i++) {
        int terr = pthread_create(&th[i], NULL, fn, arg);
        if (terr)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "starting %s thread: %s", what,
                                strerror(terr));
        *started = i + 1;
    }
    return HS_OK;
}

#endif
