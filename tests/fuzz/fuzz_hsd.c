/* fuzz_hsd - the .hsd container reader (formats/hsd.h) over arbitrary bytes.
 *
 * Every input is read twice: as given, and as a copy whose CRCs (header, chunk headers, stored
 * and raw chunk CRCs, index, trailer) the harness recomputes first, so mutations get past the
 * checksums into the index, chunk and inflate logic. For each readable container: section
 * descriptions and lookups, hsd_verify, hsd_read_section with no budget and with a budget one
 * byte too small, and hsd_stream over each section with 1 and 2 threads, read in odd-sized
 * pieces. Bytes from a stream must equal hsd_read_section's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "hsd.h"

volatile unsigned fuzz_sink;

/* Sections larger than this are only read with a budget (keeps each run fast). */
#define FUZZ_MAX_SECTION (4u << 20)

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t crc(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* CRC32 of the inflated chunk (at most raw_len bytes kept), or the old value if it does not
 * inflate. */
static uint32_t raw_crc_of(const uint8_t *stored, uint32_t stored_len, uint32_t raw_len,
                           uint32_t old)
{
    if (raw_len == 0 || raw_len > (1u << 20))
        return old;
    uint8_t *buf = malloc(raw_len);
    if (!buf)
        return old;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    uint32_t v = old;
    if (inflateInit(&zs) == Z_OK) {
        zs.next_in = (Bytef *)stored;
        zs.avail_in = stored_len;
        zs.next_out = buf;
        zs.avail_out = raw_len;
        int zr = inflate(&zs, Z_FINISH);
        if (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK)
            v = crc(buf, raw_len - zs.avail_out);
        inflateEnd(&zs);
    }
    free(buf);
    return v;
}

/* Recomputes every CRC the layout lets us find, in place; trusts nothing. */
static void fix_crcs(uint8_t *d, size_t size)
{
    if (size < 24 + 32)
        return;
    wr32(d + 20, crc(d, 20));
    uint8_t *tr = d + size - 32;
    uint64_t ix_off = rd64(tr), ix_len = rd64(tr + 8);
    if (ix_off <= size - 32 && ix_len <= size - 32 - ix_off && ix_len >= 16) {
        uint8_t *ix = d + ix_off;
        uint32_t nsecs = rd32(ix + 4);
        uint64_t nchunks = rd64(ix + 8);
        /* Walk section entries to find the chunk entries. */
        uint64_t p = 16;
        for (uint32_t i = 0; i < nsecs && p + 32 <= ix_len; i++)
            p += 32 + (rd32(ix + p + 24) & 0xffffu);
        for (uint64_t k = 0; k < nchunks && p + 24 <= ix_len; k++, p += 24) {
            uint8_t *e = ix + p;
            uint64_t off = rd64(e);
            if (off > size || size - off < 32)
                continue;
            uint8_t *ch = d + off;
            uint32_t raw_len = rd32(ch + 8), stored_len = rd32(ch + 12);
            if (stored_len <= size - off - 32) {
                uint32_t sc = crc(ch + 32, stored_len);
                uint32_t rc = raw_crc_of(ch + 32, stored_len, raw_len, rd32(ch + 16));
                wr32(ch + 16, rc);
                wr32(ch + 20, sc);
                wr32(e + 16, rc);
                wr32(e + 20, sc);
            }
            wr32(ch + 28, crc(ch, 28));
        }
        wr32(tr + 16, crc(ix, (size_t)ix_len));
    }
    wr32(tr + 20, crc(tr, 20));
}

static void stream_section(const hsd_reader *r, size_t i, int threads, const uint8_t *want,
                           size_t want_len)
{
    hsd_stream *s;
    hs_error err;
    if (hsd_stream_open(r, i, threads, &s, &err) < 0)
        return;
    static uint8_t buf[7919];
    size_t pos = 0, piece = 1;
    int64_t got;
    while ((got = hsd_stream_read(s, buf, piece)) > 0) {
        if (want && ((size_t)got > want_len - pos || memcmp(buf, want + pos, (size_t)got) != 0))
            abort(); /* the stream and hsd_read_section disagree */
        pos += (size_t)got;
        piece = piece * 3 % sizeof buf + 1;
    }
    if (got < 0)
        fuzz_sink += (unsigned)hsd_stream_error(s)->status;
    else if (want && pos != want_len)
        abort(); /* the stream ended early without an error */
    hsd_stream_free(s);
}

static void read_container(const uint8_t *data, size_t size)
{
    hsd_reader *r;
    hs_error err;
    if (hsd_reader_open(data, size, &r, &err) < 0) {
        if (err.offset != HS_NO_OFFSET && err.offset > size)
            abort();
        return;
    }
    fuzz_sink += hsd_version(r);
    size_t n = hsd_section_count(r);
    for (uint32_t t = 0; t <= 8; t++) {
        long k = hsd_find_section(r, t);
        if (k >= 0 && ((size_t)k >= n || hsd_section(r, (size_t)k)->type != t))
            abort();
    }
    int verified = hsd_verify(r, &err) == HS_OK;
    for (size_t i = 0; i < n; i++) {
        const hsd_section_info *si = hsd_section(r, i);
        fuzz_sink += (unsigned)strlen(si->name) + si->type + si->nchunks;
        uint8_t *out = NULL;
        size_t len = 0;
        if (si->raw_size > 1 &&
            hsd_read_section(r, i, si->raw_size - 1, &out, &len, &err) != HS_ERR_LIMIT)
            abort(); /* the budget is checked before anything else */
        if (si->raw_size > FUZZ_MAX_SECTION)
            continue;
        int rc = hsd_read_section(r, i, 0, &out, &len, &err);
        if (rc == HS_OK) {
            if (len != si->raw_size)
                abort();
            fuzz_sink += fuzz_touch(out, len);
        } else if (verified) {
            abort(); /* hsd_verify passed, so every section must read */
        }
        stream_section(r, i, 1, rc == HS_OK ? out : NULL, len);
        if (i == 0 || si->type == HSD_SEC_HEAPDUMP)
            stream_section(r, i, 2, rc == HS_OK ? out : NULL, len);
        free(out);
    }
    hsd_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_container(data, size);
    if (size < 56)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    fix_crcs(copy, size);
    if (memcmp(copy, data, size) != 0)
        read_container(copy, size);
    free(copy);
    return 0;
}
