/* pb_read.h - the unit tests' protocol buffers decoder: reads back what formats/pb.c wrote
 * (test_pb.c) and the pprof profile (test_emit_pprof.c), independently of the encoder. */
#ifndef PB_READ_H
#define PB_READ_H

#include <stdint.h>

typedef struct pb_rd {
    const uint8_t *p, *end;
    int bad;
} pb_rd;

static inline uint64_t pb_rd_varint(pb_rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* Reads a tag; returns the field number (0 at the end). */
static inline uint32_t pb_rd_tag(pb_rd *r, int *wire)
{
    if (r->p >= r->end)
        return 0;
    uint64_t t = pb_rd_varint(r);
    *wire = (int)(t & 7);
    return (uint32_t)(t >> 3);
}

/* A length-delimited field's contents as a sub-reader. */
static inline pb_rd pb_rd_len(pb_rd *r)
{
    uint64_t n = pb_rd_varint(r);
    pb_rd sub = {r->p, r->p, 0};
    if (r->bad || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return sub;
    }
    sub.end = r->p + n;
    r->p += n;
    return sub;
}

#endif
