/* pb.c - the protocol buffers wire-format encoder (see pb.h). */
#include "pb.h"

#include <string.h>

#include "gohd.h"
#include "hs_error.h"

void pb_init(pb_buf *b)
{
    memset(b, 0, sizeof *b);
}

void pb_release(pb_buf *b)
{
    hs_mem_sink_release(&b->out);
    memset(b, 0, sizeof *b);
}

static void put(pb_buf *b, const void *p, size_t n)
{
    int st;
    if (!b->status && (st = hs_mem_write(&b->out, p, n)) < 0)
        b->status = st;
}

/* Protobuf's varint is Go's uvarint, which the heap dump uses too (gohd.h). */
void pb_varint(pb_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    put(b, tmp, gohd_put_uvarint(v, tmp));
}

void pb_tag(pb_buf *b, uint32_t field, int wire)
{
    if (field == 0 || field > PB_MAX_FIELD) {
        if (!b->status)
            b->status = HS_ERR_ARG;
        return;
    }
    pb_varint(b, (uint64_t)field << 3 | (uint64_t)(wire & 7));
}

void pb_uint(pb_buf *b, uint32_t field, uint64_t v)
{
    pb_tag(b, field, PB_VARINT);
    pb_varint(b, v);
}

void pb_int(pb_buf *b, uint32_t field, int64_t v)
{
    pb_uint(b, field, (uint64_t)v);
}

void pb_bytes(pb_buf *b, uint32_t field, const void *p, size_t n)
{
    pb_tag(b, field, PB_LEN);
    pb_varint(b, n);
    put(b, p, n);
}

void pb_string(pb_buf *b, uint32_t field, const char *s)
{
    pb_bytes(b, field, s ? s : "", s ? strlen(s) : 0);
}

void pb_packed(pb_buf *b, uint32_t field, const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t mark = pb_begin(b, field);
    for (size_t i = 0; i < n; i++)
        pb_varint(b, v[i]);
    pb_end(b, mark);
}

/* The mark is the offset of the one byte kept for the length; pb_end widens it when the
 * message needs a longer varint. */
size_t pb_begin(pb_buf *b, uint32_t field)
{
    pb_tag(b, field, PB_LEN);
    size_t mark = b->out.len;
    put(b, "", 1);
    return mark;
}

void pb_end(pb_buf *b, size_t mark)
{
    if (b->status || mark >= b->out.len)
        return;
    size_t body = b->out.len - mark - 1;
    uint8_t tmp[10];
    size_t k = gohd_put_uvarint(body, tmp);
    if (k > 1) { /* room for the longer length, then the body moves behind it */
        static const uint8_t zeros[9];
        put(b, zeros, k - 1);
        if (b->status)
            return;
        memmove(b->out.data + mark + k, b->out.data + mark + 1, body);
    }
    memcpy(b->out.data + mark, tmp, k);
}
