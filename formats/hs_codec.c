/* hs_codec.c - shared pieces of the binary payloads (hs_codec.h). */
#include "hs_codec.h"

#include <string.h>

#include "hs_error.h"

void hs_codec_flush(hs_codec_enc *e)
{
    if (e->rc == HS_OK && e->len) {
        e->rc = e->out.write(e->out.ctx, e->buf, e->len);
        if (e->rc > 0)
            e->rc = HS_OK;
    }
    e->len = 0;
}

void hs_codec_put(hs_codec_enc *e, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0 && e->rc == HS_OK) {
        if (e->len == HS_CODEC_BUF)
            hs_codec_flush(e);
        size_t k = HS_CODEC_BUF - e->len < n ? HS_CODEC_BUF - e->len : n;
        memcpy(e->buf + e->len, b, k);
        e->len += k;
        b += k;
        n -= k;
    }
}

void hs_codec_put_uvarint(hs_codec_enc *e, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    hs_codec_put(e, b, n);
}

int hs_codec_uvarint(const uint8_t *p, size_t size, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (*pos >= size)
            return HS_ERR_TRUNCATED;
        uint8_t b = p[(*pos)++];
        if (shift == 63 && b > 1)
            return HS_ERR_FORMAT;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *v = x;
    return HS_OK;
}
