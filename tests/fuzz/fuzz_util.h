/* fuzz_util.h - small helpers shared by the fuzz targets (header-only). */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hs_io.h"

/* Touches the first and last byte of a span the library handed out, so ASan catches a span
 * that points outside its buffer; returns a value the caller folds into fuzz_sink. */
static inline unsigned fuzz_touch(const uint8_t *p, size_t n)
{
    if (!n)
        return 0;
    return (unsigned)p[0] + (unsigned)p[n - 1];
}

/* Keeps touched values alive so the compiler cannot drop the reads. */
extern volatile unsigned fuzz_sink;

/* A writer that discards everything (emitters write into it). */
static inline int fuzz_discard(void *ctx, const void *buf, size_t n)
{
    (void)ctx;
    fuzz_sink += n ? ((const uint8_t *)buf)[n - 1] : 0;
    return HS_OK;
}

/* A reader over memory that returns at most `step` bytes per call (short reads). */
typedef struct fuzz_chunked {
    const uint8_t *data;
    size_t size, pos, step;
} fuzz_chunked;

static inline int64_t fuzz_chunked_read(void *ctx, void *buf, size_t n)
{
    fuzz_chunked *c = ctx;
    size_t left = c->size - c->pos;
    if (n > left)
        n = left;
    if (c->step && n > c->step)
        n = c->step;
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)buf)[i] = c->data[c->pos + i];
    c->pos += n;
    return (int64_t)n;
}

#endif
