/* Unit tests for the .hsd container (formats/HSD.md): round trips with 1 and 3 writer threads
 * and 1 and 2 stream threads, every corrupted byte and every truncation detected with an
 * offset, decompression bombs rejected, sink errors propagated, the caller never blocked by a
 * slow sink while a buffer is free, and the broken-input corpus in tests/broken/hsd. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include "check.h"
#include "hsd.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* Heap-dump-like, compressible: small varints, repeated addresses, zero runs. */
static void fill_compressible(uint8_t *p, size_t n)
{
    uint64_t addr = 0xc000010000ull;
    for (size_t i = 0; i < n;) {
        uint8_t rec[24];
        size_t k = 0;
        rec[k++] = 1;
        addr += 16 * (1 + rnd() % 8);
        for (uint64_t a = addr; a; a >>= 7)
            rec[k++] = (uint8_t)((a & 0x7f) | (a >> 7 ? 0x80 : 0));
        rec[k++] = (uint8_t)(rnd() % 4 * 8);
        for (; k < sizeof rec; k++)
            rec[k] = 0;
        for (size_t j = 0; j < k && i < n; j++)
            p[i++] = rec[j];
    }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

typedef struct sec_spec {
    uint32_t type;
    const char *name;
    const uint8_t *data;
    size_t len;
} sec_spec;

/* Writes sections into a new memory sink, feeding data in pieces of varying size. */
static int build(hs_mem_sink *out, const sec_spec *secs, size_t n, uint32_t chunk, int threads,
                 hs_error *err)
{
    memset(out, 0, sizeof *out);
    hsd_writer_options o = {.chunk_size = chunk, .threads = threads};
    hsd_writer *w;
    int rc = hsd_writer_new((hs_writer){hs_mem_write, out}, &o, &w, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == HS_OK; i++) {
        rc = hsd_writer_begin(w, secs[i].type, secs[i].name, err);
        size_t pos = 0;
        while (rc == HS_OK && pos < secs[i].len) {
            size_t k = 1 + rnd() % 3000;
            if (rnd() % 8 == 0)
                k = 70000;
            if (k > secs[i].len - pos)
                k = secs[i].len - pos;
            rc = hsd_writer_write(w, secs[i].data + pos, k, err);
            pos += k;
        }
        if (rc == HS_OK)
            rc = hsd_writer_end(w, err);
    }
    if (rc == HS_OK)
        rc = hsd_writer_finish(w, err);
    hsd_writer_free(w);
    return rc;
}

/* Reads a whole section through hsd_stream with the given read sizes (0 = random sizes). */
static int stream_all(const hsd_reader *r, size_t sec, int threads, size_t step, uint8_t *out,
                      size_t cap, size_t *got, hs_error *err)
{
    hsd_stream *s;
    int rc = hsd_stream_open(r, sec, threads, &s, err);
    if (rc)
        return rc;
    size_t pos = 0;
    for (;;) {
        size_t want = step ? step : 1 + rnd() % 200000;
        if (want > cap - pos)
            want = cap - pos;
        if (want == 0)
            want = 1; /* probe for the end */
        uint8_t probe;
        int64_t k = hsd_stream_read(s, pos < cap ? out + pos : &probe, want);
        if (k < 0) {
            *err = *hsd_stream_error(s);
            rc = (int)k;
            break;
        }
        if (k == 0)
            break;
        if (pos >= cap) { /* more bytes than the section holds */
            rc = HS_ERR_FORMAT;
            break;
        }
        pos += (size_t)k;
    }
    hsd_stream_free(s);
    *got = pos;
    return rc;
}

/* ---- round trips ---- */

static void test_roundtrip(void)
{
    size_t nrand = 200000, ncomp = 300000;
    uint8_t *rnd_data = malloc(nrand), *comp = malloc(ncomp);
    fill_random(rnd_data, nrand);
    fill_compressible(comp, ncomp);
    const char *meta = "{\"pid\": 1234, \"exe\": \"/usr/bin/prog\"}";
    uint8_t small[300];
    fill_random(small, sizeof small);
    sec_spec secs[] = {
        {HSD_SEC_META, "meta", (const uint8_t *)meta, strlen(meta)},
        {HSD_SEC_MAPS, NULL, (const uint8_t *)"", 0}, /* empty section */
        {HSD_SEC_SYMTAB, "prog", small, sizeof small},  /* smaller than a chunk */
        {HSD_SEC_HEAPDUMP, "heapdump", rnd_data, nrand}, /* many chunks, random */
        {HSD_SEC_MANIFEST, "", comp, ncomp},             /* many chunks, compressible */
        {99, "future-type", small, 1},                   /* unknown type kept */
    };
    size_t nsecs = sizeof secs / sizeof secs[0];
    const uint32_t chunk = 16384;
    hs_mem_sink files[2];
    int threads[2] = {1, 3};
    for (int t = 0; t < 2; t++) {
        hs_error err;
        CHECK(build(&files[t], secs, nsecs, chunk, threads[t], &err) == HS_OK);
        CHECK(hsd_is_hsd(files[t].data, files[t].len));

        hsd_reader *r;
        CHECK(hsd_reader_open(files[t].data, files[t].len, &r, &err) == HS_OK);
        if (!r)
            continue;
        CHECK_EQ_U64(hsd_version(r), HSD_VERSION);
        CHECK_EQ_U64(hsd_section_count(r), nsecs);
        CHECK(hsd_verify(r, &err) == HS_OK);
        CHECK_EQ_U64(hsd_find_section(r, HSD_SEC_HEAPDUMP), 3);
        CHECK(hsd_find_section(r, HSD_SEC_REGS) == -1);
        CHECK_EQ_U64(hsd_section(r, 0)->first_chunk_off, 24);
        CHECK(hsd_section(r, nsecs) == NULL);
        uint8_t *big = malloc(ncomp + 1);
        for (size_t i = 0; i < nsecs; i++) {
            const hsd_section_info *si = hsd_section(r, i);
            CHECK_EQ_U64(si->type, secs[i].type);
            CHECK_STR(si->name, secs[i].name ? secs[i].name : "");
            CHECK_EQ_U64(si->raw_size, secs[i].len);
            CHECK_EQ_U64(si->nchunks, (secs[i].len + chunk - 1) / chunk);
            uint8_t *d = NULL;
            size_t len = 99;
            CHECK(hsd_read_section(r, i, 0, &d, &len, &err) == HS_OK);
            CHECK_EQ_U64(len, secs[i].len);
            CHECK(d && memcmp(d, secs[i].data, len) == 0);
            free(d);
            /* Stream: inline and 2 threads, byte by byte, big reads, random sizes. */
            size_t steps[3] = {1, 1 << 20, 0};
            for (int th = 1; th <= 2; th++)
                for (int st = 0; st < 3; st++) {
                    if (steps[st] == 1 && secs[i].len > 50000 && th == 1 && i == 4)
                        continue; /* byte by byte over one big section per mode is enough */
                    size_t got = 0;
                    memset(big, 0xee, ncomp + 1);
                    CHECK(stream_all(r, i, th, steps[st], big, ncomp + 1, &got, &err) == HS_OK);
                    CHECK_EQ_U64(got, secs[i].len);
                    CHECK(memcmp(big, secs[i].data, secs[i].len) == 0);
                }
        }
        /* The compressible section really compressed; the random one did not grow much. */
        CHECK(hsd_section(r, 4)->stored_size < ncomp / 3);
        CHECK(hsd_section(r, 3)->stored_size < nrand + nrand / 50);
        /* A budget below the raw size fails before allocating. */
        uint8_t *d = NULL;
        size_t len = 0;
        CHECK(hsd_read_section(r, 3, nrand - 1, &d, &len, &err) == HS_ERR_LIMIT);
        CHECK(d == NULL);
        CHECK(hsd_read_section(r, 3, nrand, &d, &len, &err) == HS_OK);
        free(d);
        free(big);
        hsd_reader_free(r);
    }
    /* The layout does not depend on the number of compression threads. */
    CHECK(files[0].len == files[1].len && memcmp(files[0].data, files[1].data, files[0].len) == 0);
    hs_mem_sink_release(&files[0]);
    hs_mem_sink_release(&files[1]);

    /* Defaults: 1 MiB chunks, level 1, one worker. */
    size_t nbig = (5u << 20) / 2;
    uint8_t *bigdata = malloc(nbig);
    fill_compressible(bigdata, nbig);
    hs_mem_sink m = {0};
    hs_error err;
    hsd_writer *w;
    CHECK(hsd_writer_new((hs_writer){hs_mem_write, &m}, NULL, &w, &err) == HS_OK);
    CHECK(hsd_writer_section(w, HSD_SEC_HEAPDUMP, NULL, bigdata, nbig, &err) == HS_OK);
    CHECK(hsd_writer_finish(w, &err) == HS_OK);
    hsd_writer_free(w);
    hsd_reader *r;
    CHECK(hsd_reader_open(m.data, m.len, &r, &err) == HS_OK);
    CHECK_EQ_U64(hsd_section(r, 0)->nchunks, 3);
    uint8_t *back = malloc(nbig);
    size_t got = 0;
    CHECK(stream_all(r, 0, 2, 0, back, nbig, &got, &err) == HS_OK);
    CHECK(got == nbig && memcmp(back, bigdata, nbig) == 0);
    hsd_reader_free(r);
    hs_mem_sink_release(&m);
    free(back);
    free(bigdata);
    free(rnd_data);
    free(comp);
}

/* An empty container (no sections) is valid. */
static void test_empty_container(void)
{
    hs_mem_sink m;
    hs_error err;
    CHECK(build(&m, NULL, 0, 0, 1, &err) == HS_OK);
    CHECK_EQ_U64(m.len, 24 + 16 + 32);
    hsd_reader *r;
    CHECK(hsd_reader_open(m.data, m.len, &r, &err) == HS_OK);
    CHECK_EQ_U64(hsd_section_count(r), 0);
    CHECK(hsd_verify(r, &err) == HS_OK);
    hsd_reader_free(r);
    hs_mem_sink_release(&m);
}

static void test_api_misuse(void)
{
    hs_mem_sink m = {0};
    hs_error err;
    hsd_writer *w;
    hsd_writer_options bad = {.chunk_size = (64u << 20) + 1};
    CHECK(hsd_writer_new((hs_writer){hs_mem_write, &m}, &bad, &w, &err) == HS_ERR_ARG);
    bad = (hsd_writer_options){.threads = -1};
    CHECK(hsd_writer_new((hs_writer){hs_mem_write, &m}, &bad, &w, &err) == HS_ERR_ARG);
    CHECK(hsd_writer_new((hs_writer){hs_mem_write, &m}, NULL, &w, &err) == HS_OK);
    CHECK(hsd_writer_write(w, "x", 1, &err) == HS_ERR_ARG);
    CHECK(hsd_writer_begin(w, 0, NULL, &err) == HS_ERR_ARG);
    CHECK(hsd_writer_begin(w, HSD_SEC_META,
                           "a-name-that-is-far-too-long-for-the-sixty-three-byte-limit-of-hsd",
                           &err) == HS_ERR_ARG);
    CHECK(hsd_writer_begin(w, HSD_SEC_META, "m", &err) == HS_OK);
    CHECK(hsd_writer_begin(w, HSD_SEC_META, "m", &err) == HS_ERR_ARG);
    CHECK(hsd_writer_finish(w, &err) == HS_ERR_ARG);
    CHECK(hsd_writer_end(w, &err) == HS_OK);
    CHECK(hsd_writer_end(w, &err) == HS_ERR_ARG);
    CHECK(hsd_writer_finish(w, &err) == HS_OK);
    CHECK(hsd_writer_begin(w, HSD_SEC_META, "m", &err) == HS_ERR_ARG);
    hsd_writer_free(w);
    hsd_writer_free(NULL);
    hsd_reader_free(NULL);
    hsd_stream_free(NULL);
    CHECK_STR(hsd_section_type_name(HSD_SEC_HEAPDUMP), "heapdump");
    CHECK_STR(hsd_section_type_name(HSD_SEC_SYMTAB), "symtab");
    CHECK_STR(hsd_section_type_name(1234), "unknown");
    CHECK(!hsd_is_hsd((const uint8_t *)"HEAPSIF", 7));
    hs_mem_sink_release(&m);
}

/* ---- corruption ---- */

/* A small container: two sections, three chunks of 1 KiB in the second. */
static void small_container(hs_mem_sink *m)
{
    static uint8_t a[200], b[2900];
    fill_compressible(a, sizeof a);
    fill_random(b, sizeof b / 2);
    fill_compressible(b + sizeof b / 2, sizeof b - sizeof b / 2);
    sec_spec secs[] = {{HSD_SEC_META, "m", a, sizeof a}, {HSD_SEC_HEAPDUMP, "hd", b, sizeof b}};
    hs_error err;
    CHECK(build(m, secs, 2, 1024, 2, &err) == HS_OK);
}

static void test_flipped_stored_bytes(void)
{
    hs_mem_sink m;
    small_container(&m);
    uint8_t *copy = malloc(m.len);
    hs_error err;
    hsd_reader *r;
    CHECK(hsd_reader_open(m.data, m.len, &r, &err) == HS_OK);
    size_t tested = 0, named = 0;
    for (size_t sec = 0; sec < hsd_section_count(r); sec++) {
        const hsd_section_info *si = hsd_section(r, sec);
        uint64_t off = si->first_chunk_off;
        for (uint32_t k = 0; k < si->nchunks; k++) {
            uint32_t stored = le32(m.data + off + 12);
            for (uint32_t i = 0; i < stored; i++) {
                memcpy(copy, m.data, m.len);
                copy[off + 32 + i] ^= (uint8_t)(1u << (i % 8));
                hsd_reader *cr;
                /* The open checks headers and index only; the chunk fails when read. */
                if (hsd_reader_open(copy, m.len, &cr, &err) != HS_OK) {
                    CHECK(0);
                    continue;
                }
                uint8_t *d = NULL;
                size_t len;
                int rc = hsd_read_section(cr, sec, 0, &d, &len, &err);
                CHECK(rc == HS_ERR_CRC || rc == HS_ERR_ZLIB);
                CHECK(d == NULL);
                CHECK_EQ_U64(err.offset, off);
                char want[64];
                snprintf(want, sizeof want, "section %zu (%s) chunk %u at byte %llu", sec,
                         hsd_section_type_name(si->type), k, (unsigned long long)off);
                named += strstr(err.msg, want) != NULL;
                CHECK(hsd_verify(cr, &err) == rc && err.offset == off);
                tested++;
                hsd_reader_free(cr);
            }
            off += 32 + stored;
        }
    }
    CHECK(tested > 1000);
    CHECK_EQ_U64(named, tested);

    /* A stream delivers every byte before the bad chunk, then fails naming it. */
    const hsd_section_info *si = hsd_section(r, 1);
    uint64_t off2 = si->first_chunk_off;
    off2 += 32 + le32(m.data + off2 + 12); /* chunk 1 */
    memcpy(copy, m.data, m.len);
    copy[off2 + 40] ^= 0x10;
    for (int th = 1; th <= 2; th++) {
        hsd_reader *cr;
        CHECK(hsd_reader_open(copy, m.len, &cr, &err) == HS_OK);
        uint8_t buf[4096];
        size_t got = 0;
        CHECK(stream_all(cr, 1, th, 100, buf, sizeof buf, &got, &err) == HS_ERR_CRC);
        CHECK_EQ_U64(got, 1024);
        CHECK_EQ_U64(err.offset, off2);
        CHECK(strstr(err.msg, "chunk 1") != NULL);
        hsd_reader_free(cr);
    }
    hsd_reader_free(r);
    free(copy);
    hs_mem_sink_release(&m);
}

/* Every flipped byte anywhere in the file is caught at open or by hsd_verify. */
static void test_flipped_any_byte(void)
{
    hs_mem_sink m;
    small_container(&m);
    uint8_t *copy = malloc(m.len);
    size_t failures = 0;
    for (size_t i = 0; i < m.len; i++) {
        memcpy(copy, m.data, m.len);
        copy[i] ^= 0x80;
        hs_error err;
        hsd_reader *r;
        int rc = hsd_reader_open(copy, m.len, &r, &err);
        if (rc == HS_OK) {
            rc = hsd_verify(r, &err);
            hsd_reader_free(r);
        }
        if (rc != HS_OK && err.offset != HS_NO_OFFSET && err.msg[0])
            failures++;
        else
            fprintf(stderr, "flip at %zu: rc %d\n", i, rc);
    }
    CHECK_EQ_U64(failures, m.len);
    free(copy);
    hs_mem_sink_release(&m);
}

static void test_truncation(void)
{
    hs_mem_sink m;
    small_container(&m);
    size_t ok = 0;
    for (size_t len = 0; len < m.len; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size so ASan sees overreads */
        memcpy(copy, m.data, len);
        hs_error err;
        hsd_reader *r = (hsd_reader *)1;
        int rc = hsd_reader_open(copy, len, &r, &err);
        if (rc == HS_ERR_TRUNCATED && err.offset == len && r == NULL)
            ok++;
        else
            fprintf(stderr, "truncated to %zu: rc %d offset %llu\n", len, rc,
                    (unsigned long long)err.offset);
        free(copy);
    }
    CHECK_EQ_U64(ok, m.len);
    /* The message says where complete data stops. */
    hs_error err;
    hsd_reader *r;
    CHECK(hsd_reader_open(m.data, 24 + 40, &r, &err) == HS_ERR_TRUNCATED);
    CHECK(strstr(err.msg, "inside the file's chunk 0") != NULL);
    CHECK(hsd_reader_open(m.data, m.len - 40, &r, &err) == HS_ERR_TRUNCATED);
    CHECK(strstr(err.msg, "inside the index") != NULL);
    hs_mem_sink_release(&m);
}

/* Builds a one-section, one-chunk container by hand with a forged chunk. */
static void forge(hs_mem_sink *m, const uint8_t *stored, uint32_t stored_len, uint32_t raw_len,
                  uint32_t raw_crc)
{
    memset(m, 0, sizeof *m);
    uint8_t b[64];
    memcpy(b, "HEAPSIFT", 8);
    uint32_t h[3] = {1, 24, 0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            b[8 + 4 * i + j] = (uint8_t)(h[i] >> (8 * j));
#define PUT32(p, v) for (int j_ = 0; j_ < 4; j_++) (p)[j_] = (uint8_t)((uint32_t)(v) >> (8 * j_))
#define PUT64(p, v) for (int j_ = 0; j_ < 8; j_++) (p)[j_] = (uint8_t)((uint64_t)(v) >> (8 * j_))
    PUT32(b + 20, crc32(0, b, 20));
    hs_mem_write(m, b, 24);
    uint32_t scrc = (uint32_t)crc32(0, stored, stored_len);
    memcpy(b, "HSDC", 4);
    PUT32(b + 4, 0);
    PUT32(b + 8, raw_len);
    PUT32(b + 12, stored_len);
    PUT32(b + 16, raw_crc);
    PUT32(b + 20, scrc);
    PUT32(b + 24, 0);
    PUT32(b + 28, crc32(0, b, 28));
    hs_mem_write(m, b, 32);
    hs_mem_write(m, stored, stored_len);
    uint64_t ix_off = m->len;
    uint8_t ix[16 + 32 + 24];
    memcpy(ix, "HSDI", 4);
    PUT32(ix + 4, 1);
    PUT64(ix + 8, 1);
    PUT32(ix + 16, HSD_SEC_HEAPDUMP);
    PUT32(ix + 20, 1);
    PUT64(ix + 24, raw_len);
    PUT64(ix + 32, stored_len);
    PUT32(ix + 40, 0);
    PUT32(ix + 44, 0);
    PUT64(ix + 48, 24);
    PUT32(ix + 56, raw_len);
    PUT32(ix + 60, stored_len);
    PUT32(ix + 64, raw_crc);
    PUT32(ix + 68, scrc);
    hs_mem_write(m, ix, sizeof ix);
    PUT64(b, ix_off);
    PUT64(b + 8, sizeof ix);
    PUT32(b + 16, crc32(0, ix, sizeof ix));
    PUT32(b + 20, crc32(0, b, 20));
    memcpy(b + 24, "HSD-END\n", 8);
    hs_mem_write(m, b, 32);
#undef PUT32
#undef PUT64
}

static int read_forged(const hs_mem_sink *m, hs_error *err)
{
    hsd_reader *r;
    int rc = hsd_reader_open(m->data, m->len, &r, err);
    if (rc)
        return rc;
    uint8_t *d = NULL;
    size_t len;
    rc = hsd_read_section(r, 0, 0, &d, &len, err);
    free(d);
    if (rc == HS_OK) {
        uint8_t buf[8192];
        size_t got;
        rc = stream_all(r, 0, 1, 8192, buf, sizeof buf, &got, err);
    }
    hsd_reader_free(r);
    return rc;
}

static void test_forged_sizes(void)
{
    uint8_t raw[6000], z[7000];
    fill_compressible(raw, sizeof raw);
    uLongf zl = sizeof z;
    CHECK(compress2(z, &zl, raw, sizeof raw, 6) == Z_OK);
    hs_mem_sink m;
    hs_error err;

    /* Control: the honest chunk reads back. */
    forge(&m, z, (uint32_t)zl, sizeof raw, (uint32_t)crc32(0, raw, sizeof raw));
    CHECK(read_forged(&m, &err) == HS_OK);
    hs_mem_sink_release(&m);

    /* Declared smaller than it inflates to (CRC of the declared prefix, to get past it). */
    int inflate_caught = 0;
    for (uint32_t decl = 1; decl < sizeof raw; decl += 997) {
        forge(&m, z, (uint32_t)zl, decl, (uint32_t)crc32(0, raw, decl));
        CHECK(read_forged(&m, &err) == HS_ERR_FORMAT);
        if (zl > decl + decl / 256 + 64) { /* impossible ratio: rejected by the index check */
            CHECK(strstr(err.msg, "impossible for") != NULL);
        } else { /* caught while inflating into exactly decl bytes */
            CHECK(strstr(err.msg, "inflates to more than the declared") != NULL);
            CHECK_EQ_U64(err.offset, 24);
            inflate_caught++;
        }
        hs_mem_sink_release(&m);
    }
    CHECK(inflate_caught >= 3);
    /* Declared larger than it inflates to. */
    forge(&m, z, (uint32_t)zl, sizeof raw + 1, 0);
    CHECK(read_forged(&m, &err) == HS_ERR_FORMAT);
    hs_mem_sink_release(&m);
    /* Honest sizes, wrong raw CRC. */
    forge(&m, z, (uint32_t)zl, sizeof raw, 12345);
    CHECK(read_forged(&m, &err) == HS_ERR_CRC);
    CHECK(strstr(err.msg, "raw data checksum") != NULL);
    hs_mem_sink_release(&m);
    /* Bytes after the end of the zlib stream. */
    z[zl] = 0;
    forge(&m, z, (uint32_t)zl + 1, sizeof raw, (uint32_t)crc32(0, raw, sizeof raw));
    CHECK(read_forged(&m, &err) == HS_ERR_FORMAT);
    hs_mem_sink_release(&m);
    /* Cut zlib stream (consistent CRCs). */
    forge(&m, z, (uint32_t)zl - 5, sizeof raw, (uint32_t)crc32(0, raw, sizeof raw));
    CHECK(read_forged(&m, &err) == HS_ERR_ZLIB);
    hs_mem_sink_release(&m);
    /* A 16 MiB bomb declared as 4 KiB. */
    size_t nb = 16u << 20;
    uint8_t *zeros = calloc(1, nb);
    uLongf bl = compressBound(nb);
    uint8_t *bz = malloc(bl);
    CHECK(compress2(bz, &bl, zeros, nb, 9) == Z_OK);
    forge(&m, bz, (uint32_t)bl, 1u << 20, (uint32_t)crc32(0, zeros, 1u << 20));
    CHECK(read_forged(&m, &err) == HS_ERR_FORMAT);
    CHECK(strstr(err.msg, "inflates to more than the declared 1048576 bytes") != NULL);
    hs_mem_sink_release(&m);
    free(zeros);
    free(bz);
}

/* ---- sink errors and blocking ---- */

typedef struct failing_sink {
    hs_mem_sink mem;
    size_t budget; /* bytes accepted before failing */
} failing_sink;

static int failing_write(void *ctx, const void *buf, size_t n)
{
    failing_sink *f = ctx;
    if (n > f->budget) {
        f->budget = 0;
        errno = ENOSPC;
        return HS_ERR_IO;
    }
    f->budget -= n;
    return hs_mem_write(&f->mem, buf, n);
}

static void test_sink_failure(void)
{
    size_t n = 100000;
    uint8_t *data = malloc(n);
    fill_random(data, n);
    size_t budgets[] = {0, 10, 24, 30, 100, 4000, 20000, 50000, 90000, 100500};
    for (int threads = 1; threads <= 3; threads += 2)
        for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
            failing_sink f = {.budget = budgets[b]};
            hsd_writer_options o = {.chunk_size = 4096, .threads = threads};
            hs_error err;
            hsd_writer *w = NULL;
            int rc = hsd_writer_new((hs_writer){failing_write, &f}, &o, &w, &err);
            if (rc == HS_OK)
                rc = hsd_writer_begin(w, HSD_SEC_HEAPDUMP, NULL, &err);
            for (size_t pos = 0; rc == HS_OK && pos < n; pos += 1000)
                rc = hsd_writer_write(w, data + pos, 1000, &err);
            if (rc == HS_OK)
                rc = hsd_writer_end(w, &err);
            if (rc == HS_OK)
                rc = hsd_writer_finish(w, &err);
            CHECK(rc == HS_ERR_IO);
            CHECK(err.status == HS_ERR_IO && err.sys_errno == ENOSPC);
            CHECK(strstr(err.msg, "No space left on device") != NULL);
            if (budgets[b] >= 24)
                CHECK(err.offset != HS_NO_OFFSET && err.offset >= 24);
            /* Once failed, the writer keeps failing. */
            if (w)
                CHECK(hsd_writer_finish(w, &err) != HS_OK);
            hsd_writer_free(w);
            hs_mem_sink_release(&f.mem);
        }
    free(data);
}

typedef struct slow_sink {
    hs_mem_sink mem;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int writes;
    int caller_done;
    int timed_out;
} slow_sink;

/* Blocks the first chunk write until the caller says it is done (or 10 s pass). */
static int slow_write(void *ctx, const void *buf, size_t n)
{
    slow_sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->writes++ == 1) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 10;
        while (!s->caller_done)
            if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
                s->timed_out = 1;
                break;
            }
    }
    pthread_mutex_unlock(&s->mu);
    return hs_mem_write(&s->mem, buf, n);
}

static void test_caller_not_blocked(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        slow_sink s = {.writes = 0};
        pthread_mutex_init(&s.mu, NULL);
        pthread_cond_init(&s.cv, NULL);
        const uint32_t chunk = 65536;
        /* 2*threads+2 buffers: one stuck in the sink, the others take the caller's data. */
        size_t n = (size_t)chunk * (2 * (size_t)threads + 2);
        uint8_t *data = malloc(n + 1);
        fill_compressible(data, n + 1);
        hsd_writer_options o = {.chunk_size = chunk, .threads = threads};
        hs_error err;
        hsd_writer *w;
        CHECK(hsd_writer_new((hs_writer){slow_write, &s}, &o, &w, &err) == HS_OK);
        CHECK(hsd_writer_begin(w, HSD_SEC_HEAPDUMP, NULL, &err) == HS_OK);
        CHECK(hsd_writer_write(w, data, n, &err) == HS_OK);
        pthread_mutex_lock(&s.mu);
        int stuck = !s.timed_out;
        s.caller_done = 1;
        pthread_cond_broadcast(&s.cv);
        pthread_mutex_unlock(&s.mu);
        CHECK(stuck); /* the caller got here while the sink was still blocked */
        CHECK(hsd_writer_write(w, data + n, 1, &err) == HS_OK);
        CHECK(hsd_writer_end(w, &err) == HS_OK);
        CHECK(hsd_writer_finish(w, &err) == HS_OK);
        hsd_writer_free(w);
        hsd_reader *r;
        CHECK(hsd_reader_open(s.mem.data, s.mem.len, &r, &err) == HS_OK);
        uint8_t *d = NULL;
        size_t len = 0;
        CHECK(hsd_read_section(r, 0, 0, &d, &len, &err) == HS_OK);
        CHECK(len == n + 1 && memcmp(d, data, len) == 0);
        free(d);
        hsd_reader_free(r);
        hs_mem_sink_release(&s.mem);
        free(data);
        pthread_mutex_destroy(&s.mu);
        pthread_cond_destroy(&s.cv);
    }
}

/* ---- header fields ---- */

static void test_header_fields(void)
{
    hs_mem_sink m;
    small_container(&m);
    hs_error err;
    hsd_reader *r;
    /* A newer version is unsupported, not corrupt (bytes 0..11 are stable). */
    m.data[8] = HSD_VERSION + 1;
    CHECK(hsd_reader_open(m.data, m.len, &r, &err) == HS_ERR_UNSUPPORTED);
    CHECK_EQ_U64(err.offset, 8);
    m.data[8] = HSD_VERSION;
    m.data[0] = 'h';
    CHECK(hsd_reader_open(m.data, m.len, &r, &err) == HS_ERR_FORMAT);
    CHECK_EQ_U64(err.offset, 0);
    hs_mem_sink_release(&m);
}

/* ---- the broken-input corpus ---- */

static int parse_status(const char *s)
{
    static const struct { const char *name; int status; } map[] = {
        {"ok", HS_OK}, {"format", HS_ERR_FORMAT}, {"truncated", HS_ERR_TRUNCATED},
        {"crc", HS_ERR_CRC}, {"unsupported", HS_ERR_UNSUPPORTED}, {"limit", HS_ERR_LIMIT},
        {"zlib", HS_ERR_ZLIB},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].status;
    return 1;
}

/* Opens, verifies and reads every section (whole and streamed); returns the first failure. */
static int exercise(const uint8_t *data, size_t size, hs_error *err)
{
    hsd_reader *r;
    int rc = hsd_reader_open(data, size, &r, err);
    if (rc)
        return rc;
    for (size_t i = 0; rc == HS_OK && i < hsd_section_count(r); i++) {
        uint8_t *d = NULL;
        size_t len;
        rc = hsd_read_section(r, i, 64u << 20, &d, &len, err);
        free(d);
        for (int th = 1; rc == HS_OK && th <= 2; th++) {
            hsd_stream *s;
            rc = hsd_stream_open(r, i, th, &s, err);
            uint8_t buf[4096];
            int64_t k;
            while (rc == HS_OK && (k = hsd_stream_read(s, buf, sizeof buf)) != 0)
                if (k < 0) {
                    *err = *hsd_stream_error(s);
                    rc = (int)k;
                }
            hsd_stream_free(s);
        }
    }
    if (rc == HS_OK)
        rc = hsd_verify(r, err);
    hsd_reader_free(r);
    return rc;
}

static void test_broken_corpus(void)
{
    const char *src = getenv("HEAPSIFT_SRC");
    char dir[3000], path[4096];
    snprintf(dir, sizeof dir, "%s/tests/broken/hsd", src ? src : "../..");
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[512];
    size_t listed = 0, broken = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256], want[64];
        if (line[0] == '#' || sscanf(line, "%255s %63s", name, want) != 2)
            continue;
        listed++;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        const uint8_t *data;
        size_t size;
        hs_error err;
        CHECK(hs_map_file(path, &data, &size, &err) == HS_OK);
        /* Copy to an exact-size heap buffer so ASan catches any overread. */
        uint8_t *copy = malloc(size ? size : 1);
        if (size)
            memcpy(copy, data, size);
        hs_unmap(data, size);
        int rc = exercise(copy, size, &err);
        int expect = parse_status(want);
        if (rc != expect)
            fprintf(stderr, "%s: got %d (%s), want %s\n", name, rc, err.msg, want);
        CHECK(rc == expect);
        if (expect != HS_OK) {
            broken++;
            CHECK(err.offset != HS_NO_OFFSET && err.msg[0]);
        }
        free(copy);
    }
    fclose(f);
    /* Every *.hsd file in the directory is listed. */
    size_t files = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        files += l > 4 && strcmp(e->d_name + l - 4, ".hsd") == 0;
    }
    if (d)
        closedir(d);
    CHECK_EQ_U64(files, listed);
    CHECK(broken >= 15);
}

/* hsd_stream_drop_behind: the ranges handed over must be exactly the section's stored bytes,
 * in order, each only once the stream is done with it. The callback here destroys what it is
 * handed, so a stream that read dropped bytes again would fail its CRCs. */
static struct {
    uint8_t *file;
    uint64_t next;  /* where the next range must start */
    size_t calls;
} dropped;

static void destroy(const uint8_t *p, size_t n)
{
    CHECK_EQ_U64((uint64_t)(p - dropped.file), dropped.next);
    memset((uint8_t *)p, 0xAA, n);
    dropped.next += n;
    dropped.calls++;
}

static void test_drop_behind(void)
{
    size_t n = 9u << 20, small = 5000;
    uint8_t *data = malloc(n), *out = malloc(n);
    fill_random(data, n);
    sec_spec secs[] = {
        {HSD_SEC_META, "meta", data, small},
        {HSD_SEC_HEAPDUMP, "heapdump", data, n},
        {HSD_SEC_MANIFEST, "after", data + small, small},
    };
    for (int threads = 1; threads <= 3; threads++) {
        hs_mem_sink f;
        hs_error err;
        CHECK(build(&f, secs, 3, 65536, 2, &err) == HS_OK);
        hsd_reader *r;
        CHECK(hsd_reader_open(f.data, f.len, &r, &err) == HS_OK);
        if (!r)
            continue;
        const hsd_section_info *si = hsd_section(r, 1);
        dropped.file = f.data;
        dropped.next = si->first_chunk_off;
        dropped.calls = 0;
        hsd_stream *s;
        CHECK(hsd_stream_open(r, 1, threads, &s, &err) == HS_OK);
        hsd_stream_drop_behind(s, destroy);
        size_t pos = 0;
        int64_t k;
        while ((k = hsd_stream_read(s, out + pos, pos < n ? (size_t)(1 + rnd() % 100000) : 1)) > 0)
            pos += (size_t)k;
        CHECK(k == 0);
        CHECK_EQ_U64(pos, n);
        CHECK(memcmp(out, data, n) == 0);
        hsd_stream_free(s);
        /* Every chunk header plus its stored bytes, nothing past the section. */
        CHECK_EQ_U64(dropped.next, si->first_chunk_off + 32 * (uint64_t)si->nchunks + si->stored_size);
        CHECK(dropped.calls >= 2 && dropped.calls <= 4);
        uint8_t *after = NULL;
        size_t len = 0;
        CHECK(hsd_read_section(r, 2, 0, &after, &len, &err) == HS_OK);
        CHECK(len == small && after && memcmp(after, data + small, small) == 0);
        free(after);
        hsd_reader_free(r);
        hs_mem_sink_release(&f);
    }
    free(data);
    free(out);
}

int main(void)
{
    test_roundtrip();
    test_drop_behind();
    test_empty_container();
    test_api_misuse();
    test_flipped_stored_bytes();
    test_flipped_any_byte();
    test_truncation();
    test_forged_sizes();
    test_sink_failure();
    test_caller_not_blocked();
    test_header_fields();
    test_broken_corpus();
    return check_report();
}
