/* fuzz_gohd - the Go heap-dump reader (formats/gohd.h) over arbitrary bytes.
 *
 * Pass 1 reads the whole input as a dump with default options. Pass 2 reads data[1..] with
 * options chosen by data[0]: the low 3 bits give the source's short-read size (0 = whole
 * reads), the high 5 bits a tiny max_record_bytes (16..496, 0 = default) to hit the limit paths.
 * Every byte span in every record is touched so ASan sees spans outside the buffer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "gohd.h"

volatile unsigned fuzz_sink;

static unsigned touch_bytes(gohd_bytes b)
{
    return fuzz_touch(b.ptr, b.len);
}

static unsigned touch_record(const gohd_record *rec)
{
    const __typeof__(rec->u) *u = &rec->u;
    unsigned v = (unsigned)rec->offset;
    switch (rec->tag) {
    case GOHD_OBJECT:
    case GOHD_DATA:
    case GOHD_BSS:
        v += touch_bytes(u->object.contents);
        for (size_t i = 0; i < u->object.nptrs; i++)
            v += (unsigned)u->object.ptr_offsets[i];
        break;
    case GOHD_OTHER_ROOT: v += touch_bytes(u->other_root.description); break;
    case GOHD_TYPE: v += touch_bytes(u->type.name); break;
    case GOHD_GOROUTINE: v += touch_bytes(u->goroutine.waitreason); break;
    case GOHD_FRAME:
        v += touch_bytes(u->frame.contents) + touch_bytes(u->frame.name);
        for (size_t i = 0; i < u->frame.nptrs; i++)
            v += (unsigned)u->frame.ptr_offsets[i];
        break;
    case GOHD_PARAMS: v += touch_bytes(u->params.goarch) + touch_bytes(u->params.goversion); break;
    case GOHD_MEMPROF:
        for (uint64_t i = 0; i < u->memprof.nstk; i++)
            v += touch_bytes(u->memprof.stack[i].func) + touch_bytes(u->memprof.stack[i].file) +
                 (unsigned)u->memprof.stack[i].line;
        break;
    default:
        break;
    }
    return v;
}

static void read_all(const uint8_t *data, size_t size, size_t step, uint64_t max_rec)
{
    fuzz_chunked src = {data, size, 0, step};
    gohd_options opts = {max_rec};
    gohd_reader *r;
    hs_error err;
    if (gohd_reader_new((hs_reader){fuzz_chunked_read, &src}, &opts, &r, &err) < 0) {
        if (err.offset != HS_NO_OFFSET && err.offset > size)
            abort(); /* an error must name a byte inside the input (or its end) */
        return;
    }
    gohd_record rec;
    int rc;
    uint64_t last = 0;
    while ((rc = gohd_next(r, &rec, &err)) > 0) {
        if (rec.offset < last || rec.offset >= size)
            abort(); /* records come in stream order, inside the input */
        last = rec.offset;
        fuzz_sink += touch_record(&rec);
    }
    if (rc < 0 && err.offset != HS_NO_OFFSET && err.offset > size)
        abort();
    if (gohd_position(r) > size)
        abort();
    gohd_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_all(data, size, 0, 0);
    if (size == 0)
        return 0;
    size_t step = data[0] & 7;
    uint64_t max_rec = (uint64_t)(data[0] >> 3) * 16;
    read_all(data + 1, size - 1, step, max_rec);
    return 0;
}
