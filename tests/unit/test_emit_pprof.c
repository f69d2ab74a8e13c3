/* Unit tests for the pprof emitter (emit_pprof.c): a small profile written, gunzipped with zlib
 * and read back with the tests' own decoder (pb_read.h): its sample types and default, every
 * sample's values and its stack leaf first, one location and one function per frame, the one
 * mapping; equal reports give equal bytes; a report without a profile, a frame out of range
 * and a failing writer are refused. */
#include <stdlib.h>

#include <zlib.h>

#include "check.h"
#include "emit.h"
#include "pb_read.h"
#include "report.h"

static char *xdup(const char *s)
{
    char *p = report_strdup(s);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Frames main.store, handlers, main.Payload, "bad \xff utf-8"; two samples. */
static report *profile_report(void)
{
    report *r = calloc(1, sizeof *r);
    report_profile *p = calloc(1, sizeof *p);
    if (!r || !p)
        exit(2);
    r->dump_path = xdup("/tmp/a.hsd");
    r->profile = p;
    static const char *const frames[] = {"main.store", "handlers", "main.Payload",
                                         "bad \xff utf-8"};
    p->nframes = 4;
    p->frames = calloc(4, sizeof *p->frames);
    for (size_t i = 0; i < 4; i++)
        p->frames[i] = xdup(frames[i]);
    p->nsamples = 2;
    p->samples = calloc(2, sizeof *p->samples);
    static const uint32_t s0[] = {0, 1, 2}, s1[] = {0, 3};
    p->samples[0] = (report_sample){calloc(3, sizeof(uint32_t)), 3, 7, 8064, 9000};
    p->samples[1] = (report_sample){calloc(2, sizeof(uint32_t)), 2, 1, 16, 0};
    if (!p->frames || !p->samples || !p->samples[0].frames || !p->samples[1].frames)
        exit(2);
    memcpy(p->samples[0].frames, s0, sizeof s0);
    memcpy(p->samples[1].frames, s1, sizeof s1);
    return r;
}

static int gunzip(const hs_mem_sink *in, uint8_t **out, size_t *n)
{
    z_stream z = {0};
    size_t cap = 1 << 16;
    *out = malloc(cap);
    *n = 0;
    if (!*out || inflateInit2(&z, 15 + 16) != Z_OK)
        return -1;
    z.next_in = in->data;
    z.avail_in = (uInt)in->len;
    int zr;
    do {
        if (*n == cap && !(*out = realloc(*out, cap *= 2)))
            return -1;
        z.next_out = *out + *n;
        z.avail_out = (uInt)(cap - *n);
        zr = inflate(&z, Z_NO_FLUSH);
        *n = cap - z.avail_out;
    } while (zr == Z_OK);
    inflateEnd(&z);
    return zr == Z_STREAM_END && z.avail_in == 0 ? 0 : -1;
}

/* The decoded profile, what the checks need of it. */
typedef struct decoded {
    char strings[32][64];
    size_t nstrings;
    int64_t types[4][2];
    size_t ntypes;
    uint64_t locs[2][8];  /* per sample: location ids, leaf first */
    size_t nlocs[2];
    int64_t values[2][4];
    size_t nsamples;
    uint64_t loc_fn[8];   /* location id -> function id */
    int64_t fn_name[8];   /* function id -> name's string index */
    uint64_t loc_mapping[8];
    int mappings, bad;
    int64_t default_type, comment;
} decoded;

/* Sample {repeated location_id = 1 [packed], repeated value = 2 [packed]} */
static void decode_sample(decoded *d, pb_rd m)
{
    size_t k = d->nsamples++, nvalues = 0;
    int w;
    for (uint32_t f; k < 2 && (f = pb_rd_tag(&m, &w)) != 0 && !m.bad;) {
        pb_rd packed = pb_rd_len(&m);
        while (packed.p < packed.end && !packed.bad) {
            uint64_t v = pb_rd_varint(&packed);
            if (f == 1 && d->nlocs[k] < 8)
                d->locs[k][d->nlocs[k]++] = v;
            else if (f == 2 && nvalues < 4)
                d->values[k][nvalues++] = (int64_t)v;
        }
    }
}

static void decode(decoded *d, const uint8_t *msg, size_t n)
{
    memset(d, 0, sizeof *d);
    pb_rd r = {msg, msg + n, 0};
    int w;
    for (uint32_t f; (f = pb_rd_tag(&r, &w)) != 0 && !r.bad;) {
        if (w == 0) {
            uint64_t v = pb_rd_varint(&r);
            if (f == 13)
                d->comment = (int64_t)v;
            else if (f == 14)
                d->default_type = (int64_t)v;
            continue;
        }
        pb_rd m = pb_rd_len(&r);
        int mw;
        if (f == 1 && d->ntypes < 4) { /* ValueType {type = 1, unit = 2} */
            for (uint32_t g; (g = pb_rd_tag(&m, &mw)) != 0 && !m.bad;)
                d->types[d->ntypes][g == 2] = (int64_t)pb_rd_varint(&m);
            d->ntypes++;
        } else if (f == 2) {
            decode_sample(d, m);
        } else if (f == 3) {
            d->mappings++;
        } else if (f == 4) { /* Location {id = 1, mapping_id = 2, line = 4 {function_id = 1}} */
            uint64_t id = 0, fn = 0, mapping = 0;
            for (uint32_t g; (g = pb_rd_tag(&m, &mw)) != 0 && !m.bad;) {
                if (g == 4) {
                    pb_rd line = pb_rd_len(&m);
                    if (pb_rd_tag(&line, &mw) == 1)
                        fn = pb_rd_varint(&line);
                } else {
                    uint64_t v = pb_rd_varint(&m);
                    id = g == 1 ? v : id;
                    mapping = g == 2 ? v : mapping;
                }
            }
            if (id < 8) {
                d->loc_fn[id] = fn;
                d->loc_mapping[id] = mapping;
            }
        } else if (f == 5) { /* Function {id = 1, name = 2} */
            uint64_t id = 0, name = 0;
            for (uint32_t g; (g = pb_rd_tag(&m, &mw)) != 0 && !m.bad;) {
                uint64_t v = pb_rd_varint(&m);
                id = g == 1 ? v : id;
                name = g == 2 ? v : name;
            }
            if (id < 8)
                d->fn_name[id] = (int64_t)name;
        } else if (f == 6 && d->nstrings < 32) {
            size_t len = (size_t)(m.end - m.p);
            snprintf(d->strings[d->nstrings++], 64, "%.*s", (int)len, (const char *)m.p);
        }
    }
    d->bad = r.bad;
}

/* The name of location id `loc`. */
static const char *loc_name(const decoded *d, uint64_t loc)
{
    if (loc >= 8 || d->loc_fn[loc] >= 8 || d->fn_name[d->loc_fn[loc]] >= (int64_t)d->nstrings)
        return "?";
    return d->strings[d->fn_name[d->loc_fn[loc]]];
}

static void test_profile(void)
{
    report *r = profile_report();
    hs_mem_sink out = {0}, again = {0};
    CHECK(emit_pprof(r, (hs_writer){hs_mem_write, &out}) == HS_OK);
    CHECK(emit_pprof(r, (hs_writer){hs_mem_write, &again}) == HS_OK);
    CHECK(out.len == again.len && memcmp(out.data, again.data, out.len) == 0);
    uint8_t *msg = NULL;
    size_t n = 0;
    CHECK(out.len > 18 && out.data[0] == 0x1f && out.data[1] == 0x8b); /* gzip */
    CHECK(gunzip(&out, &msg, &n) == 0);
    decoded d;
    decode(&d, msg, n);
    CHECK(!d.bad);
    CHECK_STR(d.strings[0], "");
    CHECK(d.ntypes == 3);
    CHECK_STR(d.strings[d.types[0][0]], "inuse_objects");
    CHECK_STR(d.strings[d.types[0][1]], "count");
    CHECK_STR(d.strings[d.types[1][0]], "inuse_space");
    CHECK_STR(d.strings[d.types[1][1]], "bytes");
    CHECK_STR(d.strings[d.types[2][0]], "retained_space");
    CHECK_STR(d.strings[d.default_type], "inuse_space");
    CHECK(strstr(d.strings[d.comment], "/tmp/a.hsd") != NULL);
    CHECK(d.mappings == 1);
    CHECK(d.nsamples == 2);
    CHECK_EQ_U64(d.nlocs[0], 3);
    CHECK_STR(loc_name(&d, d.locs[0][0]), "main.Payload"); /* leaf first */
    CHECK_STR(loc_name(&d, d.locs[0][1]), "handlers");
    CHECK_STR(loc_name(&d, d.locs[0][2]), "main.store");
    CHECK(d.values[0][0] == 7 && d.values[0][1] == 8064 && d.values[0][2] == 9000);
    CHECK_EQ_U64(d.nlocs[1], 2);
    CHECK_STR(loc_name(&d, d.locs[1][0]), "bad \xef\xbf\xbd utf-8"); /* cleaned to UTF-8 */
    CHECK(d.values[1][0] == 1 && d.values[1][1] == 16 && d.values[1][2] == 0);
    CHECK(d.loc_mapping[1] == 1 && d.loc_mapping[4] == 1);
    free(msg);
    hs_mem_sink_release(&out);
    hs_mem_sink_release(&again);
    report_free(r);
}

static int fail_write(void *ctx, const void *buf, size_t n)
{
    (void)ctx, (void)buf, (void)n;
    return HS_ERR_IO;
}

static void test_refused(void)
{
    report *r = profile_report();
    hs_mem_sink out = {0};
    CHECK(emit_pprof(r, (hs_writer){fail_write, NULL}) == HS_ERR_IO);
    CHECK(emit_pprof(r, (hs_writer){NULL, NULL}) == HS_ERR_ARG);
    r->profile->samples[1].frames[1] = 4; /* no such frame */
    CHECK(emit_pprof(r, (hs_writer){hs_mem_write, &out}) == HS_ERR_ARG);
    report_profile_free(r->profile);
    r->profile = NULL;
    CHECK(emit_pprof(r, (hs_writer){hs_mem_write, &out}) == HS_ERR_ARG);
    CHECK(out.len == 0);
    report_free(r);
    report_profile_free(NULL);
}

int main(void)
{
    test_profile();
    test_refused();
    return check_report();
}
