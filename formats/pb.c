/* pb.c - the protocol buffers wire-format encoder (see pb.h). */
#include "pb.h"

#include <stdlib.h>
#include <string.h>

#include "hs_error.h"

void pb_init(pb_buf *b)
{
    memset(b, 0, sizeof *b);
}

void pb_release(pb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Makes room for n more bytes; 0, or -1 with the status set. */
static int reserve(pb_buf *b, size_t n)
{
    if (b->status)
        return -1;
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len) {
        b->status = HS_ERR_NOMEM;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->status = HS_ERR_NOMEM;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Writes v as a varint into out (room for 10); returns its length. */
static size_t varint_put(uint8_t out[10], uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static void put(pb_buf *b, const void *p, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void pb_varint(pb_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    put(b, tmp, varint_put(tmp, v));
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
    size_t mark = b->len;
    put(b, "", 1);
    return mark;
}

void pb_end(pb_buf *b, size_t mark)
{
    if (b->status || mark >= b->len)
        return;
    size_t body = b->len - mark - 1;
    uint8_t tmp[10];
    size_t k = varint_put(tmp, body);
    if (k > 1) {
        if (reserve(b, k - 1) < 0)
            return;
        memmove(b->data + mark + k, b->data + mark + 1, body);
        b->len += k - 1;
    }
    memcpy(b->data + mark, tmp, k);
}
