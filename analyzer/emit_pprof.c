/* emit_pprof.c - the report's profile (report.profile) as a gzipped profile.proto, the format
 * of `go tool pprof` (github.com/google/pprof proto/profile.proto), encoded with formats/pb.h.
 *
 * Sample types: inuse_objects/count, inuse_space/bytes (the default) and retained_space/bytes.
 * Each frame is one function, named by the frame (no system name: pprof would take the
 * parentheses of "runtime.hmap (map[any]*sync.entry)" for a C++ argument list and cut them),
 * and one location with a line of it; location and function ids are the frame's index + 1.
 * One mapping, named after the dump, says the functions are resolved (pprof then looks for no
 * binary); nothing is a program address. The output has no time stamp, so equal reports give
 * equal files.
 */
#include "emit.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "pb.h"

/* profile.proto's field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5,
    PROFILE_STRING_TABLE = 6, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
    PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2,
    MAPPING_ID = 1, MAPPING_FILENAME = 5, MAPPING_HAS_FUNCTIONS = 7,
    LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1,
    FUNCTION_ID = 1, FUNCTION_NAME = 2,
};

/* The fixed strings, at these indexes of the string table; the frames follow them. */
static const char *const fixed[] = {"", "inuse_objects", "count", "inuse_space", "bytes",
                                    "retained_space", "comment", "dump"};
enum { S_INUSE_OBJECTS = 1, S_COUNT, S_INUSE_SPACE, S_BYTES, S_RETAINED_SPACE, S_COMMENT,
       S_DUMP, S_FRAMES };

static void value_type(pb_buf *b, uint32_t field, int64_t type, int64_t unit)
{
    size_t m = pb_begin(b, field);
    pb_int(b, VALUE_TYPE_TYPE, type);
    pb_int(b, VALUE_TYPE_UNIT, unit);
    pb_end(b, m);
}

/* One sample: its locations leaf first, as pprof wants them. */
static void sample(pb_buf *b, const report_sample *s, uint64_t *ids)
{
    for (size_t i = 0; i < s->nframes; i++)
        ids[i] = (uint64_t)s->frames[s->nframes - 1 - i] + 1;
    uint64_t values[3] = {s->objects, s->bytes, s->retained_bytes};
    size_t m = pb_begin(b, PROFILE_SAMPLE);
    pb_packed(b, SAMPLE_LOCATION_ID, ids, s->nframes);
    pb_packed(b, SAMPLE_VALUE, values, 3);
    pb_end(b, m);
}

/* Encodes the profile into b; HS_ERR_ARG for a frame index out of range. */
static int encode(const report *r, pb_buf *b)
{
    const report_profile *p = r->profile;
    size_t depth = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        for (size_t k = 0; k < p->samples[i].nframes; k++)
            if (p->samples[i].frames[k] >= p->nframes)
                return HS_ERR_ARG;
        if (p->samples[i].nframes > depth)
            depth = p->samples[i].nframes;
    }
    uint64_t *ids = malloc((depth ? depth : 1) * sizeof *ids);
    if (!ids)
        return HS_ERR_NOMEM;
    value_type(b, PROFILE_SAMPLE_TYPE, S_INUSE_OBJECTS, S_COUNT);
    value_type(b, PROFILE_SAMPLE_TYPE, S_INUSE_SPACE, S_BYTES);
    value_type(b, PROFILE_SAMPLE_TYPE, S_RETAINED_SPACE, S_BYTES);
    for (size_t i = 0; i < p->nsamples; i++)
        sample(b, &p->samples[i], ids);
    free(ids);
    size_t mapping = pb_begin(b, PROFILE_MAPPING);
    pb_uint(b, MAPPING_ID, 1);
    pb_int(b, MAPPING_FILENAME, S_DUMP);
    pb_uint(b, MAPPING_HAS_FUNCTIONS, 1);
    pb_end(b, mapping);
    for (size_t i = 0; i < p->nframes; i++) {
        size_t m = pb_begin(b, PROFILE_LOCATION);
        pb_uint(b, LOCATION_ID, i + 1);
        pb_uint(b, LOCATION_MAPPING_ID, 1);
        size_t line = pb_begin(b, LOCATION_LINE);
        pb_uint(b, LINE_FUNCTION_ID, i + 1);
        pb_end(b, line);
        pb_end(b, m);
    }
    for (size_t i = 0; i < p->nframes; i++) {
        size_t m = pb_begin(b, PROFILE_FUNCTION);
        pb_uint(b, FUNCTION_ID, i + 1);
        pb_int(b, FUNCTION_NAME, (int64_t)(S_FRAMES + i));
        pb_end(b, m);
    }
    emit_buf comment, dump;
    emit_buf_init(&comment, (hs_writer){0});
    emit_buf_init(&dump, (hs_writer){0});
    emit_buf_clean(&dump, r->dump_path ? r->dump_path : "a dump", EMIT_CLEAN_UTF8);
    emit_buf_puts(&comment, "heapsift: the in-use heap of ");
    emit_buf_clean(&comment, r->dump_path ? r->dump_path : "a dump", EMIT_CLEAN_UTF8);
    emit_buf_puts(&comment, " by reference chain from the roots");
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        pb_string(b, PROFILE_STRING_TABLE, i == S_COMMENT ? emit_buf_cstr(&comment)
                                           : i == S_DUMP  ? emit_buf_cstr(&dump)
                                                          : fixed[i]);
    int st = emit_buf_finish(&comment);
    if (emit_buf_finish(&dump) < 0)
        st = HS_ERR_NOMEM;
    for (size_t i = 0; i < p->nframes; i++) { /* proto3 strings must be UTF-8 */
        emit_buf f;
        emit_buf_init(&f, (hs_writer){0});
        emit_buf_clean(&f, p->frames[i], EMIT_CLEAN_UTF8);
        pb_string(b, PROFILE_STRING_TABLE, emit_buf_cstr(&f));
        if (emit_buf_finish(&f) < 0)
            st = HS_ERR_NOMEM;
    }
    value_type(b, PROFILE_PERIOD_TYPE, S_INUSE_SPACE, S_BYTES);
    pb_int(b, PROFILE_PERIOD, 1);
    pb_int(b, PROFILE_COMMENT, S_COMMENT);
    pb_int(b, PROFILE_DEFAULT_SAMPLE_TYPE, S_INUSE_SPACE);
    return st < 0 ? st : b->status;
}

/* gzip of data[0..n) to out, in pieces. */
static int gzip_to(const uint8_t *data, size_t n, hs_writer out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return HS_ERR_NOMEM;
    uint8_t chunk[65536];
    int rc = HS_OK, zr;
    z.next_in = (Bytef *)(uintptr_t)data;
    do {
        size_t take = n < UINT32_MAX ? n : UINT32_MAX;
        z.avail_in = (uInt)take;
        n -= take;
        do {
            z.next_out = chunk;
            z.avail_out = sizeof chunk;
            zr = deflate(&z, n ? Z_NO_FLUSH : Z_FINISH);
            if (zr == Z_STREAM_ERROR) {
                rc = HS_ERR_ZLIB;
                goto out;
            }
            size_t have = sizeof chunk - z.avail_out;
            if (have && (rc = out.write(out.ctx, chunk, have)) < 0)
                goto out;
        } while (z.avail_out == 0);
    } while (n);
out:
    deflateEnd(&z);
    return rc > 0 ? HS_ERR_IO : rc;
}

int emit_pprof(const report *r, hs_writer out)
{
    const report_profile *p = r ? r->profile : NULL;
    if (!p || !out.write || (p->nsamples && !p->samples) || (p->nframes && !p->frames))
        return HS_ERR_ARG;
    pb_buf b;
    pb_init(&b);
    int rc = encode(r, &b);
    if (rc >= 0)
        rc = gzip_to(b.out.data, b.out.len, out);
    pb_release(&b);
    return rc;
}
