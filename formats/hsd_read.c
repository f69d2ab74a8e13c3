/* hsd_read.c - the .hsd container reader (formats/HSD.md): random access over a file held in
 * memory (header, end marker and index checked on open), chunk inflation with CRC checks, whole
 * sections and verification. */
#include "hsd_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *hsd_section_type_name(uint32_t type)
{
    switch (type) {
    case HSD_SEC_META: return "meta";
    case HSD_SEC_SYMTAB: return "symtab";
    case HSD_SEC_MAPS: return "maps";
    case HSD_SEC_HEAPDUMP: return "heapdump";
    case HSD_SEC_MANIFEST: return "manifest";
    case HSD_SEC_SEGMENT: return "segment";
    case HSD_SEC_REGS: return "regs";
    case HSD_SEC_TYPES: return "types";
    default: return "unknown";
    }
}

int hsd_is_hsd(const uint8_t *data, size_t size)
{
    return data && size >= 8 && memcmp(data, HSD_MAGIC, 8) == 0;
}

/* A file without its end marker: walk the chunk headers to say where complete data stops. */
static int report_truncated(const uint8_t *d, size_t size, hs_error *err)
{
    if (size < HDR_SIZE)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "file ends inside the %u-byte header (no end marker)", HDR_SIZE);
    uint64_t off = HDR_SIZE, n = 0;
    while (off + CHUNK_HDR <= size && memcmp(d + off, CHUNK_MAGIC, 4) == 0 &&
           hsd_get32(d + off + 28) == hsd_crc_buf(d + off, 28)) {
        uint64_t end = off + CHUNK_HDR + hsd_get32(d + off + 12);
        if (end > size)
            return hs_error_set(err, HS_ERR_TRUNCATED, size,
                                "no end marker: file ends inside the file's chunk %llu (of "
                                "section %u) that starts at byte %llu and ends at byte %llu",
                                (unsigned long long)n, hsd_get32(d + off + 4),
                                (unsigned long long)off, (unsigned long long)end);
        off = end;
        n++;
    }
    if (off + 4 <= size && memcmp(d + off, INDEX_MAGIC, 4) == 0)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "no end marker: file ends inside the index or trailer that start "
                            "at byte %llu, after %llu complete chunks",
                            (unsigned long long)off, (unsigned long long)n);
    if (off >= size)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "no end marker: file ends after %llu complete chunks, before the "
                            "index", (unsigned long long)n);
    return hs_error_set(err, HS_ERR_TRUNCATED, size,
                        "no end marker: %llu complete chunks end at byte %llu, then %llu bytes "
                        "that are neither a chunk nor the index",
                        (unsigned long long)n, (unsigned long long)off,
                        (unsigned long long)(size - off));
}

static int chunk_error(const hsd_reader *r, hs_error *err, int status, size_t sec, uint32_t k,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int parse_index(hsd_reader *r, uint64_t ix_off, uint64_t ix_len, hs_error *err)
{
    const uint8_t *ix = r->data + ix_off;
    if (ix_len < INDEX_HDR)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off, "index of %llu bytes is too short",
                            (unsigned long long)ix_len);
    if (memcmp(ix, INDEX_MAGIC, 4) != 0)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off, "bad index magic");
    uint32_t nsecs = hsd_get32(ix + 4);
    uint64_t nchunks = hsd_get64(ix + 8);
    if (nsecs > MAX_SECTIONS)
        return hs_error_set(err, HS_ERR_LIMIT, ix_off + 4, "%u sections (limit %u)", nsecs,
                            MAX_SECTIONS);
    if (nchunks > (ix_len - INDEX_HDR) / CHUNK_ENTRY)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off + 8,
                            "%llu chunks do not fit in an index of %llu bytes",
                            (unsigned long long)nchunks, (unsigned long long)ix_len);
    r->nsecs = nsecs;
    r->nchunks = (size_t)nchunks;
    r->secs = calloc(nsecs ? nsecs : 1, sizeof *r->secs);
    r->sec_chunk0 = calloc(nsecs ? nsecs : 1, sizeof *r->sec_chunk0);
    r->chunks = calloc(nchunks ? (size_t)nchunks : 1, sizeof *r->chunks);
    if (!r->secs || !r->sec_chunk0 || !r->chunks)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating the index");

    /* Section entries. */
    uint64_t pos = INDEX_HDR, chunk_sum = 0;
    for (uint32_t i = 0; i < nsecs; i++) {
        if (ix_len - pos < SEC_ENTRY)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos,
                                "section entry %u runs past the index", i);
        const uint8_t *e = ix + pos;
        hsd_section_info *s = &r->secs[i];
        s->type = hsd_get32(e);
        s->nchunks = hsd_get32(e + 4);
        s->raw_size = hsd_get64(e + 8);
        s->stored_size = hsd_get64(e + 16);
        uint32_t nlen = hsd_get32(e + 24);
        if (s->type == 0)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos, "section %u has type 0", i);
        if (nlen > MAX_NAME)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos + 24,
                                "section %u name length %u exceeds %u", i, nlen, MAX_NAME);
        if (ix_len - pos - SEC_ENTRY < nlen)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos,
                                "section %u name runs past the index", i);
        if (memchr(e + SEC_ENTRY, 0, nlen))
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos + SEC_ENTRY,
                                "section %u name contains a NUL byte", i);
        memcpy(s->name, e + SEC_ENTRY, nlen);
        s->name[nlen] = '\0';
        r->sec_chunk0[i] = (size_t)chunk_sum;
        chunk_sum += s->nchunks; /* nsecs * 2^32 cannot overflow */
        if (chunk_sum > nchunks)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos + 4,
                                "section %u: chunk counts exceed the total of %llu", i,
                                (unsigned long long)nchunks);
        pos += SEC_ENTRY + nlen;
    }
    if (chunk_sum != nchunks)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off + 8,
                            "sections hold %llu chunks, the index lists %llu",
                            (unsigned long long)chunk_sum, (unsigned long long)nchunks);
    if ((ix_len - pos) / CHUNK_ENTRY != nchunks || (ix_len - pos) % CHUNK_ENTRY != 0)
        return hs_error_set(err, HS_ERR_FORMAT, ix_off + pos,
                            "index is %llu bytes, its entries need %llu",
                            (unsigned long long)ix_len,
                            (unsigned long long)(pos + nchunks * CHUNK_ENTRY));

    /* Chunk entries, checked against the file and against each chunk's own header. */
    uint64_t prev_end = HDR_SIZE;
    size_t ci = 0;
    for (uint32_t i = 0; i < nsecs; i++) {
        hsd_section_info *s = &r->secs[i];
        uint64_t raw_sum = 0, stored_sum = 0;
        for (uint32_t k = 0; k < s->nchunks; k++, ci++, pos += CHUNK_ENTRY) {
            const uint8_t *e = ix + pos;
            uint64_t eoff = ix_off + pos;
            hsd_rchunk *c = &r->chunks[ci];
            c->off = hsd_get64(e);
            c->raw = hsd_get32(e + 8);
            c->stored = hsd_get32(e + 12);
            c->raw_crc = hsd_get32(e + 16);
            c->stored_crc = hsd_get32(e + 20);
            if (c->raw == 0 || c->raw > MAX_CHUNK_RAW)
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u: raw length %u not in 1..%u", i, k,
                                    c->raw, MAX_CHUNK_RAW);
            if (c->stored == 0 || c->stored > hsd_stored_bound(c->raw))
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u: stored length %u impossible for %u "
                                    "raw bytes", i, k, c->stored, c->raw);
            uint64_t end;
            if (c->off < prev_end)
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u at byte %llu overlaps what precedes it "
                                    "(up to byte %llu)", i, k, (unsigned long long)c->off,
                                    (unsigned long long)prev_end);
            if (hs_add_ovf(c->off, CHUNK_HDR + (uint64_t)c->stored, &end) || end > ix_off)
                return hs_error_set(err, HS_ERR_FORMAT, eoff,
                                    "section %u chunk %u at byte %llu (+%u) runs past the "
                                    "index at byte %llu", i, k, (unsigned long long)c->off,
                                    CHUNK_HDR + c->stored, (unsigned long long)ix_off);
            const uint8_t *h = r->data + c->off;
            if (memcmp(h, CHUNK_MAGIC, 4) != 0)
                return chunk_error(r, err, HS_ERR_FORMAT, i, k, "bad chunk magic");
            if (hsd_get32(h + 28) != hsd_crc_buf(h, 28))
                return chunk_error(r, err, HS_ERR_CRC, i, k, "chunk header checksum mismatch");
            if (hsd_get32(h + 4) != i || hsd_get32(h + 8) != c->raw ||
                hsd_get32(h + 12) != c->stored || hsd_get32(h + 16) != c->raw_crc ||
                hsd_get32(h + 20) != c->stored_crc)
                return chunk_error(r, err, HS_ERR_FORMAT, i, k,
                                   "chunk header disagrees with the index");
            if (k == 0)
                s->first_chunk_off = c->off;
            if (c->raw > r->max_raw)
                r->max_raw = c->raw;
            raw_sum += c->raw; /* <= 2^32 * 2^26, no overflow */
            stored_sum += c->stored;
            prev_end = end;
        }
        if (raw_sum != s->raw_size || stored_sum != s->stored_size)
            return hs_error_set(err, HS_ERR_FORMAT, ix_off,
                                "section %u: sizes %llu/%llu disagree with its chunks "
                                "(%llu/%llu)", i, (unsigned long long)s->raw_size,
                                (unsigned long long)s->stored_size,
                                (unsigned long long)raw_sum, (unsigned long long)stored_sum);
    }
    return HS_OK;
}

int hsd_reader_open(const uint8_t *data, size_t size, hsd_reader **out, hs_error *err)
{
    hs_error_clear(err);
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_reader_open: no input");
    *out = NULL;
    size_t m = size < 8 ? size : 8;
    if (m && memcmp(data, HSD_MAGIC, m) != 0)
        return hs_error_set(err, HS_ERR_FORMAT, 0, "not a .hsd file (bad magic)");
    if (size < 12)
        return report_truncated(data, size, err);
    uint32_t version = hsd_get32(data + 8);
    if (version < HSD_VERSION_OLDEST || version > HSD_VERSION)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, 8,
                            ".hsd version %u (this reader knows versions %u to %u)", version,
                            HSD_VERSION_OLDEST, HSD_VERSION);
    if (size < HDR_SIZE)
        return report_truncated(data, size, err);
    if (hsd_get32(data + 20) != hsd_crc_buf(data, 20))
        return hs_error_set(err, HS_ERR_CRC, 20, "header checksum mismatch");
    if (hsd_get32(data + 12) != HDR_SIZE)
        return hs_error_set(err, HS_ERR_FORMAT, 12, "header size %u (versions 1 and 2 have %u)",
                            hsd_get32(data + 12), HDR_SIZE);
    if (hsd_get32(data + 16) != 0)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, 16, "unknown header flags 0x%x",
                            hsd_get32(data + 16));
    if (size < HDR_SIZE + TRAILER_SIZE ||
        memcmp(data + size - 8, END_MAGIC, 8) != 0)
        return report_truncated(data, size, err);

    uint64_t t = size - TRAILER_SIZE;
    const uint8_t *tr = data + t;
    if (hsd_get32(tr + 20) != hsd_crc_buf(tr, 20))
        return hs_error_set(err, HS_ERR_CRC, t + 20, "trailer checksum mismatch");
    uint64_t ix_off = hsd_get64(tr), ix_len = hsd_get64(tr + 8);
    if (ix_off < HDR_SIZE || ix_off > t || ix_len != t - ix_off)
        return hs_error_set(err, HS_ERR_FORMAT, t,
                            "index at byte %llu of %llu bytes does not end at the trailer "
                            "(byte %llu)", (unsigned long long)ix_off,
                            (unsigned long long)ix_len, (unsigned long long)t);
    if (hsd_get32(tr + 16) != hsd_crc_buf(data + ix_off, ix_len))
        return hs_error_set(err, HS_ERR_CRC, ix_off, "index checksum mismatch");

    hsd_reader *r = calloc(1, sizeof *r);
    if (!r)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating the reader");
    r->data = data;
    r->size = size;
    r->version = version;
    int rc = parse_index(r, ix_off, ix_len, err);
    if (rc != HS_OK)
        goto out;
    *out = r;
    r = NULL;
out:
    hsd_reader_free(r);
    return rc;
}

void hsd_reader_free(hsd_reader *r)
{
    if (!r)
        return;
    free(r->secs);
    free(r->sec_chunk0);
    free(r->chunks);
    free(r);
}

uint32_t hsd_version(const hsd_reader *r)
{
    return r ? r->version : 0;
}

size_t hsd_section_count(const hsd_reader *r)
{
    return r ? r->nsecs : 0;
}

const hsd_section_info *hsd_section(const hsd_reader *r, size_t i)
{
    return r && i < r->nsecs ? &r->secs[i] : NULL;
}

long hsd_find_section(const hsd_reader *r, uint32_t type)
{
    for (size_t i = 0; r && i < r->nsecs; i++)
        if (r->secs[i].type == type)
            return (long)i;
    return -1;
}

/* Fills err for a failure in chunk k of section sec; the offset is the chunk's file offset. */
static int chunk_error(const hsd_reader *r, hs_error *err, int status, size_t sec, uint32_t k,
                       const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const hsd_rchunk *c = &r->chunks[r->sec_chunk0[sec] + k];
    return hs_error_set(err, status, c->off, "section %zu (%s) chunk %u at byte %llu: %s", sec,
                        hsd_section_type_name(r->secs[sec].type), k,
                        (unsigned long long)c->off, what);
}

/* Checks and inflates chunk k of section sec into dst, which holds exactly its raw_len. */
int hsd_inflate_chunk(const hsd_reader *r, z_stream *zs, size_t sec, uint32_t k,
                         uint8_t *dst, hs_error *err)
{
    const hsd_rchunk *c = &r->chunks[r->sec_chunk0[sec] + k];
    const uint8_t *src = r->data + c->off + CHUNK_HDR;
    uint32_t crc = hsd_crc_buf(src, c->stored);
    if (crc != c->stored_crc)
        return chunk_error(r, err, HS_ERR_CRC, sec, k,
                           "stored data checksum mismatch (0x%08x, expected 0x%08x)", crc,
                           c->stored_crc);
    if (inflateReset(zs) != Z_OK)
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "inflateReset failed");
    /* The zlib stream is inflated as raw deflate (hsd_zinit), which skips zlib's Adler-32 of
     * the output (2% of an analysis): raw_crc, checked below, covers the same bytes. The
     * 2-byte header is checked here as zlib would, with zlib's messages; the 4-byte trailer
     * must be there but is not checked. */
    if (c->stored < 2)
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "zlib stream ends early");
    const char *bad = ((unsigned)src[0] << 8 | src[1]) % 31 ? "incorrect header check"
                      : (src[0] & 0x0f) != Z_DEFLATED     ? "unknown compression method"
                      : (src[0] >> 4) + 8 > MAX_WBITS     ? "invalid window size"
                      : src[1] & 0x20                     ? "error" /* a preset dictionary */
                                                          : NULL;
    if (bad)
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "inflate: %s", bad);
    zs->next_in = (Bytef *)src + 2;
    zs->avail_in = c->stored - 2;
    zs->next_out = dst;
    zs->avail_out = c->raw; /* exactly the declared size: no decompression bombs */
    int zr = inflate(zs, Z_FINISH);
    if (zr == Z_STREAM_END && zs->avail_in < 4) /* no room for the trailer */
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "zlib stream ends early");
    if (zr == Z_STREAM_END) {
        zs->avail_in -= 4;
        if (zs->avail_out != 0)
            return chunk_error(r, err, HS_ERR_FORMAT, sec, k,
                               "inflates to %u bytes, the index declares %u",
                               c->raw - zs->avail_out, c->raw);
        if (zs->avail_in != 0)
            return chunk_error(r, err, HS_ERR_FORMAT, sec, k,
                               "%u stray bytes after the end of the zlib stream", zs->avail_in);
    } else if (zr == Z_MEM_ERROR) {
        return chunk_error(r, err, HS_ERR_NOMEM, sec, k, "inflate out of memory");
    } else if (zr == Z_BUF_ERROR || zr == Z_OK) {
        if (zs->avail_out == 0) {
            /* Output is full but the stream has not ended: does it want to produce more? */
            uint8_t probe;
            zs->next_out = &probe;
            zs->avail_out = 1;
            zr = inflate(zs, Z_FINISH);
            if (zs->avail_out == 0)
                return chunk_error(r, err, HS_ERR_FORMAT, sec, k,
                                   "inflates to more than the declared %u bytes", c->raw);
        }
        if (zr != Z_STREAM_END || zs->avail_in < 4)
            return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "zlib stream %s",
                               zr == Z_DATA_ERROR && zs->msg ? zs->msg : "ends early");
    } else {
        return chunk_error(r, err, HS_ERR_ZLIB, sec, k, "inflate: %s",
                           zs->msg ? zs->msg : "error");
    }
    crc = hsd_crc_buf(dst, c->raw);
    if (crc != c->raw_crc)
        return chunk_error(r, err, HS_ERR_CRC, sec, k,
                           "raw data checksum mismatch (0x%08x, expected 0x%08x)", crc,
                           c->raw_crc);
    return HS_OK;
}

int hsd_zinit(z_stream *zs, hs_error *err)
{
    memset(zs, 0, sizeof *zs);
    if (inflateInit2(zs, -MAX_WBITS) != Z_OK) /* raw deflate: see hsd_inflate_chunk */
        return hs_error_set(err, HS_ERR_ZLIB, HS_NO_OFFSET, "inflateInit failed");
    return HS_OK;
}

int hsd_read_section(const hsd_reader *r, size_t i, uint64_t max_bytes, uint8_t **out,
                     size_t *len, hs_error *err)
{
    hs_error_clear(err);
    if (!r || !out || !len || i >= r->nsecs)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_read_section: no section %zu",
                            i);
    *out = NULL;
    *len = 0;
    const hsd_section_info *s = &r->secs[i];
    if ((max_bytes && s->raw_size > max_bytes) || s->raw_size > SIZE_MAX - 1)
        return hs_error_set(err, HS_ERR_LIMIT, s->first_chunk_off,
                            "section %zu (%s) is %llu bytes, above the %llu-byte budget", i,
                            hsd_section_type_name(s->type), (unsigned long long)s->raw_size,
                            (unsigned long long)(max_bytes ? max_bytes : SIZE_MAX - 1));
    uint8_t *buf = malloc(s->raw_size ? (size_t)s->raw_size : 1);
    if (!buf)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "allocating %llu bytes for section %zu",
                            (unsigned long long)s->raw_size, i);
    z_stream zs;
    int rc = hsd_zinit(&zs, err);
    size_t pos = 0;
    for (uint32_t k = 0; rc == HS_OK && k < s->nchunks; k++) {
        rc = hsd_inflate_chunk(r, &zs, i, k, buf + pos, err);
        pos += r->chunks[r->sec_chunk0[i] + k].raw;
    }
    if (zs.state)
        inflateEnd(&zs);
    if (rc != HS_OK)
        goto out;
    *out = buf;
    *len = (size_t)s->raw_size;
    buf = NULL;
out:
    free(buf);
    return rc;
}

int hsd_verify(const hsd_reader *r, hs_error *err)
{
    hs_error_clear(err);
    if (!r)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "hsd_verify: no reader");
    uint8_t *buf = malloc(r->max_raw ? r->max_raw : 1);
    if (!buf)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "allocating a chunk buffer");
    z_stream zs;
    int rc = hsd_zinit(&zs, err);
    for (size_t i = 0; rc == HS_OK && i < r->nsecs; i++)
        for (uint32_t k = 0; rc == HS_OK && k < r->secs[i].nchunks; k++)
            rc = hsd_inflate_chunk(r, &zs, i, k, buf, err);
    if (zs.state)
        inflateEnd(&zs);
    free(buf);
    return rc;
}
