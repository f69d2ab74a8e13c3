/* Unit tests for gohd: every record kind reads back with the values written, streaming with
 * tiny reads gives identical records, record offsets/lengths are exact, and broken streams
 * (the .bin files of tests/broken/gohd plus in-memory cases) fail cleanly with an offset and
 * a message. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gohd.h"
#include "gohd_synth.h"

/* ---- sources ---- */

/* Delivers at most `step` bytes per read call. */
typedef struct step_source {
    const uint8_t *data;
    size_t size, pos, step;
    size_t calls;
} step_source;

static int64_t step_read(void *ctx, void *buf, size_t n)
{
    step_source *s = ctx;
    s->calls++;
    size_t k = s->size - s->pos;
    if (k > s->step)
        k = s->step;
    if (k > n)
        k = n;
    if (k) /* data is NULL for an empty file */
        memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (int64_t)k;
}

/* Delivers `ok` bytes, then fails with HS_ERR_IO. */
typedef struct fail_source {
    const uint8_t *data;
    size_t ok, pos;
} fail_source;

static int64_t fail_read(void *ctx, void *buf, size_t n)
{
    fail_source *s = ctx;
    if (s->pos >= s->ok)
        return HS_ERR_IO;
    size_t k = s->ok - s->pos;
    if (k > n)
        k = n;
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (int64_t)k;
}

static int bytes_eq(gohd_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || (b.ptr && memcmp(b.ptr, s, n) == 0));
}

static int bytes_eq_mem(gohd_bytes b, const void *p, size_t n)
{
    return b.len == n && (n == 0 || (b.ptr && memcmp(b.ptr, p, n) == 0));
}

/* ---- the reference dump: one or more records of every kind ---- */

enum { NREF = 24 };

typedef struct ref_dump {
    gohd_synth s;
    gohd_record recs[NREF]; /* what was written, in order (EOF last) */
    uint64_t off[NREF];     /* offset of each record's tag */
    uint64_t len[NREF];     /* encoded length */
    int n;
    uint8_t objbuf[64];
    uint8_t frame_mem[48];
    uint8_t data_mem[40];
    uint8_t bss_mem[24];
    uint8_t big_mem[200];
    gohd_stackloc stk[3];
} ref_dump;

static const uint64_t obj_ptrs[] = {0, 8, 40};
static const uint64_t frame_ptrs[] = {8, 16, 300, 1ull << 35};
static const uint64_t data_ptrs[] = {16, 32};
static const uint64_t big_ptrs[] = {128, 136, 192};

static void ref_add(ref_dump *d, const gohd_record *rec)
{
    d->off[d->n] = d->s.len;
    gohd_synth_record(&d->s, rec);
    d->len[d->n] = d->s.len - d->off[d->n];
    d->recs[d->n++] = *rec;
}

static void ref_build(ref_dump *d)
{
    memset(d, 0, sizeof *d);
    gohd_synth_init(&d->s);
    gohd_synth_header(&d->s);
    for (size_t i = 0; i < sizeof d->objbuf; i++)
        d->objbuf[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof d->frame_mem; i++)
        d->frame_mem[i] = (uint8_t)(0xA0 + i);
    for (size_t i = 0; i < sizeof d->data_mem; i++)
        d->data_mem[i] = (uint8_t)(0x30 + i);
    for (size_t i = 0; i < sizeof d->bss_mem; i++)
        d->bss_mem[i] = (uint8_t)(0xF0 - i);
    for (size_t i = 0; i < sizeof d->big_mem; i++)
        d->big_mem[i] = (uint8_t)(i ^ 0x5A);

    gohd_record r;
    memset(&r, 0, sizeof r);
    r.tag = GOHD_PARAMS;
    r.u.params.big_endian = 0;
    r.u.params.ptr_size = 8;
    r.u.params.arena_start = 0xc000000000ull;
    r.u.params.arena_end = 0xc004000000ull;
    r.u.params.goarch = gohd_synth_cstr("amd64");
    r.u.params.goversion = gohd_synth_cstr("go1.19.8");
    r.u.params.ncpu = 2;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_TYPE;
    r.u.type.addr = 0x4a3b20;
    r.u.type.size = 24;
    r.u.type.name = gohd_synth_cstr("main.Session");
    r.u.type.indirect = 1;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_ITAB;
    r.u.itab.itab = 0x4e1f00;
    r.u.itab.type = 0x4a3b20;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_OBJECT;
    r.u.object.addr = 0xc000012340ull;
    r.u.object.contents = (gohd_bytes){d->objbuf, 48};
    r.u.object.ptr_offsets = obj_ptrs;
    r.u.object.nptrs = 3;
    ref_add(d, &r);

    memset(&r, 0, sizeof r); /* pointer-free, empty-fieldlist object */
    r.tag = GOHD_OBJECT;
    r.u.object.addr = 0xc000012370ull;
    r.u.object.contents = (gohd_bytes){d->objbuf + 48, 16};
    ref_add(d, &r);

    memset(&r, 0, sizeof r); /* large object: 2-byte length and field offsets */
    r.tag = GOHD_OBJECT;
    r.u.object.addr = 0xc000100000ull;
    r.u.object.contents = (gohd_bytes){d->big_mem, sizeof d->big_mem};
    r.u.object.ptr_offsets = big_ptrs;
    r.u.object.nptrs = 3;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_OTHER_ROOT;
    r.u.other_root.description = gohd_synth_cstr("runtime.allp");
    r.u.other_root.addr = 0xc000044000ull;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_GOROUTINE;
    r.u.goroutine.g = 0xc0000061a0ull;
    r.u.goroutine.sp = 0xc00004ff10ull;
    r.u.goroutine.goid = 17;
    r.u.goroutine.gopc = 0x45d2e1;
    r.u.goroutine.status = 4;
    r.u.goroutine.is_system = 1;
    r.u.goroutine.is_background = 0;
    r.u.goroutine.waitsince = 123456789;
    r.u.goroutine.waitreason = gohd_synth_cstr("chan receive");
    r.u.goroutine.ctxt = 0xc000100020ull;
    r.u.goroutine.m = 0xc000038000ull;
    r.u.goroutine.defer = 0xc000050000ull;
    r.u.goroutine.panic = 0xc000050100ull;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_FRAME;
    r.u.frame.sp = 0xc00004ff10ull;
    r.u.frame.depth = 3;
    r.u.frame.child_sp = 0xc00004fe80ull;
    r.u.frame.contents = (gohd_bytes){d->frame_mem, sizeof d->frame_mem};
    r.u.frame.entry = 0x48a000;
    r.u.frame.pc = 0x48a0f3;
    r.u.frame.continpc = 0x48a0f3;
    r.u.frame.name = gohd_synth_cstr("main.(*server).serve.func2");
    r.u.frame.ptr_offsets = frame_ptrs;
    r.u.frame.nptrs = 4;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_DEFER;
    r.u.defer.d = 0xc000050000ull;
    r.u.defer.g = 0xc0000061a0ull;
    r.u.defer.sp = 0xc00004ff10ull;
    r.u.defer.pc = 0x48a100;
    r.u.defer.fn = 0xc000100040ull;
    r.u.defer.fnpc = 0x48b000;
    r.u.defer.link = 0;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_PANIC;
    r.u.panic.p = 0xc000050100ull;
    r.u.panic.g = 0xc0000061a0ull;
    r.u.panic.argtype = 0x4a0000;
    r.u.panic.argdata = 0xc000100060ull;
    r.u.panic.unused = 0;
    r.u.panic.link = 0xc000050200ull;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_OSTHREAD;
    r.u.osthread.m = 0xc000038000ull;
    r.u.osthread.id = 5;
    r.u.osthread.procid = 31337;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_DATA;
    r.u.object.addr = 0x5a0000;
    r.u.object.contents = (gohd_bytes){d->data_mem, sizeof d->data_mem};
    r.u.object.ptr_offsets = data_ptrs;
    r.u.object.nptrs = 2;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_BSS;
    r.u.object.addr = 0x5b0000;
    r.u.object.contents = (gohd_bytes){d->bss_mem, sizeof d->bss_mem};
    r.u.object.ptr_offsets = data_ptrs;
    r.u.object.nptrs = 1;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_FINALIZER;
    r.u.finalizer.obj = 0xc000012340ull;
    r.u.finalizer.fn = 0x4c0010;
    r.u.finalizer.fnpc = 0x48c000;
    r.u.finalizer.fint = 0x4a3b20;
    r.u.finalizer.ot = 0x4a3c00;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_QFINALIZER;
    r.u.finalizer.obj = 0xc000012370ull;
    r.u.finalizer.fn = 0xc000100080ull;
    r.u.finalizer.fnpc = 0x48d000;
    r.u.finalizer.fint = 0x4a3d00;
    r.u.finalizer.ot = 0x4a3e00;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_MEMSTATS;
    for (int i = 0; i < 24; i++)
        r.u.memstats.stats[i] = 1000ull * (uint64_t)(i + 1) + (i == 23 ? (1ull << 62) : 0);
    for (int i = 0; i < 256; i++)
        r.u.memstats.pause_ns[i] = (uint64_t)i * 31 + 7;
    r.u.memstats.numgc = 42;
    ref_add(d, &r);

    d->stk[0] = (gohd_stackloc){gohd_synth_cstr("main.newSession"),
                                gohd_synth_cstr("/src/app/session.go"), 88};
    d->stk[1] = (gohd_stackloc){gohd_synth_cstr("main.main"), gohd_synth_cstr("/src/app/main.go"),
                                1234567};
    d->stk[2] = (gohd_stackloc){gohd_synth_cstr("(0x48e000)"), gohd_synth_cstr("?"), 0};
    memset(&r, 0, sizeof r);
    r.tag = GOHD_MEMPROF;
    r.u.memprof.bucket = 0xc000200000ull;
    r.u.memprof.size = 48;
    r.u.memprof.nstk = 3;
    r.u.memprof.stack = d->stk;
    r.u.memprof.allocs = 1000;
    r.u.memprof.frees = 998;
    ref_add(d, &r);

    memset(&r, 0, sizeof r); /* a bucket with an empty stack */
    r.tag = GOHD_MEMPROF;
    r.u.memprof.bucket = 0xc000200100ull;
    r.u.memprof.size = 16;
    r.u.memprof.allocs = 1;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_ALLOC_SAMPLE;
    r.u.alloc_sample.obj = 0xc000012340ull;
    r.u.alloc_sample.bucket = 0xc000200000ull;
    ref_add(d, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_EOF;
    ref_add(d, &r);
}

/* Compares every field of two records of the same kind. */
static int rec_equal(const gohd_record *a, const gohd_record *b)
{
#define EQ(x) if (a->x != b->x) return 0
#define EQB(x)                                                                                \
    if (a->x.len != b->x.len || (a->x.len && memcmp(a->x.ptr, b->x.ptr, a->x.len)))           \
    return 0
#define EQP(p, n) if (a->n != b->n || (a->n && memcmp(a->p, b->p, a->n * sizeof *a->p))) return 0
    EQ(tag);
    switch (a->tag) {
    case GOHD_EOF:
        return 1;
    case GOHD_OBJECT:
    case GOHD_DATA:
    case GOHD_BSS:
        EQ(u.object.addr);
        EQB(u.object.contents);
        EQP(u.object.ptr_offsets, u.object.nptrs);
        return 1;
    case GOHD_OTHER_ROOT:
        EQB(u.other_root.description);
        EQ(u.other_root.addr);
        return 1;
    case GOHD_TYPE:
        EQ(u.type.addr);
        EQ(u.type.size);
        EQB(u.type.name);
        EQ(u.type.indirect);
        return 1;
    case GOHD_GOROUTINE:
        EQ(u.goroutine.g);
        EQ(u.goroutine.sp);
        EQ(u.goroutine.goid);
        EQ(u.goroutine.gopc);
        EQ(u.goroutine.status);
        EQ(u.goroutine.is_system);
        EQ(u.goroutine.is_background);
        EQ(u.goroutine.waitsince);
        EQB(u.goroutine.waitreason);
        EQ(u.goroutine.ctxt);
        EQ(u.goroutine.m);
        EQ(u.goroutine.defer);
        EQ(u.goroutine.panic);
        return 1;
    case GOHD_FRAME:
        EQ(u.frame.sp);
        EQ(u.frame.depth);
        EQ(u.frame.child_sp);
        EQB(u.frame.contents);
        EQ(u.frame.entry);
        EQ(u.frame.pc);
        EQ(u.frame.continpc);
        EQB(u.frame.name);
        EQP(u.frame.ptr_offsets, u.frame.nptrs);
        return 1;
    case GOHD_PARAMS:
        EQ(u.params.big_endian);
        EQ(u.params.ptr_size);
        EQ(u.params.arena_start);
        EQ(u.params.arena_end);
        EQB(u.params.goarch);
        EQB(u.params.goversion);
        EQ(u.params.ncpu);
        return 1;
    case GOHD_FINALIZER:
    case GOHD_QFINALIZER:
        EQ(u.finalizer.obj);
        EQ(u.finalizer.fn);
        EQ(u.finalizer.fnpc);
        EQ(u.finalizer.fint);
        EQ(u.finalizer.ot);
        return 1;
    case GOHD_ITAB:
        EQ(u.itab.itab);
        EQ(u.itab.type);
        return 1;
    case GOHD_OSTHREAD:
        EQ(u.osthread.m);
        EQ(u.osthread.id);
        EQ(u.osthread.procid);
        return 1;
    case GOHD_MEMSTATS:
        return memcmp(&a->u.memstats, &b->u.memstats, sizeof a->u.memstats) == 0;
    case GOHD_DEFER:
        return memcmp(&a->u.defer, &b->u.defer, sizeof a->u.defer) == 0;
    case GOHD_PANIC:
        return memcmp(&a->u.panic, &b->u.panic, sizeof a->u.panic) == 0;
    case GOHD_MEMPROF:
        EQ(u.memprof.bucket);
        EQ(u.memprof.size);
        EQ(u.memprof.nstk);
        EQ(u.memprof.allocs);
        EQ(u.memprof.frees);
        for (uint64_t i = 0; i < a->u.memprof.nstk; i++) {
            EQB(u.memprof.stack[i].func);
            EQB(u.memprof.stack[i].file);
            EQ(u.memprof.stack[i].line);
        }
        return 1;
    case GOHD_ALLOC_SAMPLE:
        EQ(u.alloc_sample.obj);
        EQ(u.alloc_sample.bucket);
        return 1;
    default:
        return 0;
    }
#undef EQ
#undef EQB
#undef EQP
}

/* Every field of every kind, checked against literal values (not just round-trip). */
static void test_all_kinds_literal(void)
{
    ref_dump d;
    ref_build(&d);
    CHECK(!d.s.failed);
    hs_mem_source ms = {d.s.data, d.s.len, 0};
    gohd_reader *r = NULL;
    hs_error e;
    hs_error_clear(&e);
    CHECK(gohd_reader_new((hs_reader){hs_mem_read, &ms}, NULL, &r, &e) == HS_OK);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_EQ_U64(gohd_position(r), GOHD_MAGIC_LEN);
    gohd_record rec;
    int seen[GOHD_NTAGS] = {0};
    int i = 0, st;
    while ((st = gohd_next(r, &rec, &e)) == 1) {
        CHECK(i < d.n);
        if (i >= d.n)
            break;
        CHECK_EQ_U64(rec.tag, d.recs[i].tag);
        CHECK_EQ_U64(rec.offset, d.off[i]);
        CHECK_EQ_U64(rec.length, d.len[i]);
        CHECK_EQ_U64(gohd_position(r), d.off[i] + d.len[i]);
        CHECK(rec_equal(&rec, &d.recs[i]));
        seen[rec.tag]++;
        switch (rec.tag) {
        case GOHD_PARAMS:
            CHECK(rec.u.params.big_endian == 0);
            CHECK_EQ_U64(rec.u.params.ptr_size, 8);
            CHECK_EQ_U64(rec.u.params.arena_start, 0xc000000000ull);
            CHECK_EQ_U64(rec.u.params.arena_end, 0xc004000000ull);
            CHECK(bytes_eq(rec.u.params.goarch, "amd64"));
            CHECK(bytes_eq(rec.u.params.goversion, "go1.19.8"));
            CHECK_EQ_U64(rec.u.params.ncpu, 2);
            CHECK_EQ_U64(rec.offset, 16);
            break;
        case GOHD_TYPE:
            CHECK_EQ_U64(rec.u.type.addr, 0x4a3b20);
            CHECK_EQ_U64(rec.u.type.size, 24);
            CHECK(bytes_eq(rec.u.type.name, "main.Session"));
            CHECK(rec.u.type.indirect == 1);
            break;
        case GOHD_ITAB:
            CHECK_EQ_U64(rec.u.itab.itab, 0x4e1f00);
            CHECK_EQ_U64(rec.u.itab.type, 0x4a3b20);
            break;
        case GOHD_OBJECT:
            if (rec.u.object.addr == 0xc000012340ull) {
                CHECK(bytes_eq_mem(rec.u.object.contents, d.objbuf, 48));
                CHECK_EQ_U64(rec.u.object.nptrs, 3);
                CHECK_EQ_U64(rec.u.object.ptr_offsets[0], 0);
                CHECK_EQ_U64(rec.u.object.ptr_offsets[1], 8);
                CHECK_EQ_U64(rec.u.object.ptr_offsets[2], 40);
                /* tag, 5-byte addr, length 48, 48 bytes, 3 x (1, off), 0 */
                CHECK_EQ_U64(rec.length, 1 + 6 + 1 + 48 + 6 + 1);
            } else if (rec.u.object.addr == 0xc000012370ull) {
                CHECK_EQ_U64(rec.u.object.contents.len, 16);
                CHECK_EQ_U64(rec.u.object.contents.ptr[0], d.objbuf[48]);
                CHECK_EQ_U64(rec.u.object.nptrs, 0);
            } else {
                CHECK_EQ_U64(rec.u.object.addr, 0xc000100000ull);
                CHECK(bytes_eq_mem(rec.u.object.contents, d.big_mem, 200));
                CHECK_EQ_U64(rec.u.object.nptrs, 3);
                CHECK_EQ_U64(rec.u.object.ptr_offsets[0], 128);
                CHECK_EQ_U64(rec.u.object.ptr_offsets[2], 192);
            }
            break;
        case GOHD_OTHER_ROOT:
            CHECK(bytes_eq(rec.u.other_root.description, "runtime.allp"));
            CHECK_EQ_U64(rec.u.other_root.addr, 0xc000044000ull);
            break;
        case GOHD_GOROUTINE:
            CHECK_EQ_U64(rec.u.goroutine.g, 0xc0000061a0ull);
            CHECK_EQ_U64(rec.u.goroutine.sp, 0xc00004ff10ull);
            CHECK_EQ_U64(rec.u.goroutine.goid, 17);
            CHECK_EQ_U64(rec.u.goroutine.gopc, 0x45d2e1);
            CHECK_EQ_U64(rec.u.goroutine.status, 4);
            CHECK(rec.u.goroutine.is_system == 1);
            CHECK(rec.u.goroutine.is_background == 0);
            CHECK_EQ_U64(rec.u.goroutine.waitsince, 123456789);
            CHECK(bytes_eq(rec.u.goroutine.waitreason, "chan receive"));
            CHECK_EQ_U64(rec.u.goroutine.ctxt, 0xc000100020ull);
            CHECK_EQ_U64(rec.u.goroutine.m, 0xc000038000ull);
            CHECK_EQ_U64(rec.u.goroutine.defer, 0xc000050000ull);
            CHECK_EQ_U64(rec.u.goroutine.panic, 0xc000050100ull);
            break;
        case GOHD_FRAME:
            CHECK_EQ_U64(rec.u.frame.sp, 0xc00004ff10ull);
            CHECK_EQ_U64(rec.u.frame.depth, 3);
            CHECK_EQ_U64(rec.u.frame.child_sp, 0xc00004fe80ull);
            CHECK(bytes_eq_mem(rec.u.frame.contents, d.frame_mem, 48));
            CHECK_EQ_U64(rec.u.frame.entry, 0x48a000);
            CHECK_EQ_U64(rec.u.frame.pc, 0x48a0f3);
            CHECK_EQ_U64(rec.u.frame.continpc, 0x48a0f3);
            CHECK(bytes_eq(rec.u.frame.name, "main.(*server).serve.func2"));
            CHECK_EQ_U64(rec.u.frame.nptrs, 4);
            CHECK_EQ_U64(rec.u.frame.ptr_offsets[0], 8);
            CHECK_EQ_U64(rec.u.frame.ptr_offsets[1], 16);
            CHECK_EQ_U64(rec.u.frame.ptr_offsets[2], 300);
            CHECK_EQ_U64(rec.u.frame.ptr_offsets[3], 1ull << 35);
            break;
        case GOHD_DEFER:
            CHECK_EQ_U64(rec.u.defer.d, 0xc000050000ull);
            CHECK_EQ_U64(rec.u.defer.g, 0xc0000061a0ull);
            CHECK_EQ_U64(rec.u.defer.sp, 0xc00004ff10ull);
            CHECK_EQ_U64(rec.u.defer.pc, 0x48a100);
            CHECK_EQ_U64(rec.u.defer.fn, 0xc000100040ull);
            CHECK_EQ_U64(rec.u.defer.fnpc, 0x48b000);
            CHECK_EQ_U64(rec.u.defer.link, 0);
            break;
        case GOHD_PANIC:
            CHECK_EQ_U64(rec.u.panic.p, 0xc000050100ull);
            CHECK_EQ_U64(rec.u.panic.g, 0xc0000061a0ull);
            CHECK_EQ_U64(rec.u.panic.argtype, 0x4a0000);
            CHECK_EQ_U64(rec.u.panic.argdata, 0xc000100060ull);
            CHECK_EQ_U64(rec.u.panic.unused, 0);
            CHECK_EQ_U64(rec.u.panic.link, 0xc000050200ull);
            break;
        case GOHD_OSTHREAD:
            CHECK_EQ_U64(rec.u.osthread.m, 0xc000038000ull);
            CHECK_EQ_U64(rec.u.osthread.id, 5);
            CHECK_EQ_U64(rec.u.osthread.procid, 31337);
            break;
        case GOHD_DATA:
            CHECK_EQ_U64(rec.u.object.addr, 0x5a0000);
            CHECK(bytes_eq_mem(rec.u.object.contents, d.data_mem, 40));
            CHECK_EQ_U64(rec.u.object.nptrs, 2);
            CHECK_EQ_U64(rec.u.object.ptr_offsets[0], 16);
            CHECK_EQ_U64(rec.u.object.ptr_offsets[1], 32);
            break;
        case GOHD_BSS:
            CHECK_EQ_U64(rec.u.object.addr, 0x5b0000);
            CHECK(bytes_eq_mem(rec.u.object.contents, d.bss_mem, 24));
            CHECK_EQ_U64(rec.u.object.nptrs, 1);
            CHECK_EQ_U64(rec.u.object.ptr_offsets[0], 16);
            break;
        case GOHD_FINALIZER:
            CHECK_EQ_U64(rec.u.finalizer.obj, 0xc000012340ull);
            CHECK_EQ_U64(rec.u.finalizer.fn, 0x4c0010);
            CHECK_EQ_U64(rec.u.finalizer.fnpc, 0x48c000);
            CHECK_EQ_U64(rec.u.finalizer.fint, 0x4a3b20);
            CHECK_EQ_U64(rec.u.finalizer.ot, 0x4a3c00);
            break;
        case GOHD_QFINALIZER:
            CHECK_EQ_U64(rec.u.finalizer.obj, 0xc000012370ull);
            CHECK_EQ_U64(rec.u.finalizer.fn, 0xc000100080ull);
            CHECK_EQ_U64(rec.u.finalizer.fnpc, 0x48d000);
            CHECK_EQ_U64(rec.u.finalizer.fint, 0x4a3d00);
            CHECK_EQ_U64(rec.u.finalizer.ot, 0x4a3e00);
            break;
        case GOHD_MEMSTATS: {
            int ok = 1;
            for (int k = 0; k < 24; k++)
                ok &= rec.u.memstats.stats[k] ==
                      1000ull * (uint64_t)(k + 1) + (k == 23 ? (1ull << 62) : 0);
            for (int k = 0; k < 256; k++)
                ok &= rec.u.memstats.pause_ns[k] == (uint64_t)k * 31 + 7;
            CHECK(ok);
            CHECK_EQ_U64(rec.u.memstats.stats[0], 1000);
            CHECK_EQ_U64(rec.u.memstats.stats[23], 24000 + (1ull << 62));
            CHECK_EQ_U64(rec.u.memstats.pause_ns[255], 255 * 31 + 7);
            CHECK_EQ_U64(rec.u.memstats.numgc, 42);
            break;
        }
        case GOHD_MEMPROF:
            if (rec.u.memprof.bucket == 0xc000200000ull) {
                CHECK_EQ_U64(rec.u.memprof.size, 48);
                CHECK_EQ_U64(rec.u.memprof.nstk, 3);
                CHECK(bytes_eq(rec.u.memprof.stack[0].func, "main.newSession"));
                CHECK(bytes_eq(rec.u.memprof.stack[0].file, "/src/app/session.go"));
                CHECK_EQ_U64(rec.u.memprof.stack[0].line, 88);
                CHECK(bytes_eq(rec.u.memprof.stack[1].func, "main.main"));
                CHECK(bytes_eq(rec.u.memprof.stack[1].file, "/src/app/main.go"));
                CHECK_EQ_U64(rec.u.memprof.stack[1].line, 1234567);
                CHECK(bytes_eq(rec.u.memprof.stack[2].func, "(0x48e000)"));
                CHECK(bytes_eq(rec.u.memprof.stack[2].file, "?"));
                CHECK_EQ_U64(rec.u.memprof.stack[2].line, 0);
                CHECK_EQ_U64(rec.u.memprof.allocs, 1000);
                CHECK_EQ_U64(rec.u.memprof.frees, 998);
            } else {
                CHECK_EQ_U64(rec.u.memprof.bucket, 0xc000200100ull);
                CHECK_EQ_U64(rec.u.memprof.size, 16);
                CHECK_EQ_U64(rec.u.memprof.nstk, 0);
                CHECK_EQ_U64(rec.u.memprof.allocs, 1);
                CHECK_EQ_U64(rec.u.memprof.frees, 0);
            }
            break;
        case GOHD_ALLOC_SAMPLE:
            CHECK_EQ_U64(rec.u.alloc_sample.obj, 0xc000012340ull);
            CHECK_EQ_U64(rec.u.alloc_sample.bucket, 0xc000200000ull);
            break;
        default:
            CHECK(!"unexpected tag");
        }
        i++;
    }
    CHECK(st == 0);
    CHECK_EQ_U64(i, d.n - 1); /* everything but EOF returned 1 */
    CHECK_EQ_U64(gohd_position(r), d.s.len);
    for (int t = 1; t < GOHD_NTAGS; t++)
        CHECK(seen[t] >= 1);
    CHECK(gohd_next(r, &rec, &e) == 0); /* stays at EOF */
    gohd_reader_free(r);
    gohd_synth_release(&d.s);
}

/* ---- streaming: tiny reads and buffer boundaries give identical records ---- */

/* Runs two readers over the same bytes in lockstep and checks every record matches. */
static void lockstep(const uint8_t *data, size_t size, size_t step, int expect_records)
{
    hs_mem_source ms = {data, size, 0};
    step_source ss = {data, size, 0, step, 0};
    gohd_reader *a = NULL, *b = NULL;
    hs_error ea, eb;
    CHECK(gohd_reader_new((hs_reader){hs_mem_read, &ms}, NULL, &a, &ea) == HS_OK);
    CHECK(gohd_reader_new((hs_reader){step_read, &ss}, NULL, &b, &eb) == HS_OK);
    if (!a || !b) {
        gohd_reader_free(a);
        gohd_reader_free(b);
        return;
    }
    gohd_record ra, rb;
    int sa, sb, n = 0, mismatches = 0;
    do {
        sa = gohd_next(a, &ra, &ea);
        sb = gohd_next(b, &rb, &eb);
        if (sa != sb)
            break;
        if (sa == 1) {
            n++;
            if (!rec_equal(&ra, &rb) || ra.offset != rb.offset || ra.length != rb.length)
                mismatches++;
        }
    } while (sa == 1);
    CHECK(sa == sb);
    CHECK(sa == 0);
    CHECK_EQ_U64(mismatches, 0);
    CHECK_EQ_U64(n, expect_records);
    CHECK_EQ_U64(gohd_position(a), size);
    CHECK_EQ_U64(gohd_position(b), size);
    if (step == 1)
        CHECK(ss.calls >= size); /* the step reader really delivered byte by byte */
    gohd_reader_free(a);
    gohd_reader_free(b);
}

static void test_streaming_ref(void)
{
    ref_dump d;
    ref_build(&d);
    for (size_t step = 1; step <= 17; step += 2)
        lockstep(d.s.data, d.s.len, step, d.n - 1);
    gohd_synth_release(&d.s);
}

/* Deterministic content for object i of the mixed dump. */
static size_t mixed_size(size_t i)
{
    return 8 + (i * 37) % 1500;
}

static void build_mixed(gohd_synth *s, size_t nobj, uint8_t *scratch, uint64_t *offs)
{
    gohd_synth_header(s);
    gohd_synth_params(s, 8, 0xc000000000ull, 0xc100000000ull, "amd64", "go1.22.1", 4);
    for (size_t i = 0; i < nobj; i++) {
        size_t len = mixed_size(i);
        for (size_t k = 0; k < len; k++)
            scratch[k] = (uint8_t)(i + k);
        size_t np = (len / 8) % 40;
        for (size_t k = 0; k < np; k++)
            offs[k] = k * 8;
        gohd_synth_object(s, 0xc000000000ull + i * 4096, scratch, len, offs, np);
        if (i == nobj / 3) { /* a 3 MiB object with 100000 pointer fields */
            size_t big = (size_t)3 << 20;
            uint8_t *m = malloc(big);
            uint64_t *bo = malloc(100000 * sizeof *bo);
            if (!m || !bo) {
                s->failed = 1;
            } else {
                for (size_t k = 0; k < big; k++)
                    m[k] = (uint8_t)(k >> 9);
                for (size_t k = 0; k < 100000; k++)
                    bo[k] = k * 16;
                gohd_synth_object(s, 0xc0f0000000ull, m, big, bo, 100000);
            }
            free(m);
            free(bo);
        }
    }
    gohd_synth_eof(s);
}

static void test_streaming_big(void)
{
    enum { NOBJ = 6000 };
    gohd_synth s;
    gohd_synth_init(&s);
    uint8_t *scratch = malloc(2048);
    uint64_t *offs = malloc(64 * sizeof *offs);
    CHECK(scratch && offs);
    if (!scratch || !offs)
        return;
    build_mixed(&s, NOBJ, scratch, offs);
    CHECK(!s.failed);
    CHECK(s.len > (size_t)6 << 20); /* several refills and a grown buffer */

    /* Bulk read checked against the generator. */
    hs_mem_source ms = {s.data, s.len, 0};
    gohd_reader *r = NULL;
    hs_error e;
    CHECK(gohd_reader_new((hs_reader){hs_mem_read, &ms}, NULL, &r, &e) == HS_OK);
    gohd_record rec;
    size_t i = 0, bad = 0;
    int st, saw_big = 0;
    CHECK(gohd_next(r, &rec, &e) == 1 && rec.tag == GOHD_PARAMS);
    while ((st = gohd_next(r, &rec, &e)) == 1) {
        if (rec.tag != GOHD_OBJECT) {
            bad++;
            continue;
        }
        if (rec.u.object.addr == 0xc0f0000000ull) {
            saw_big = 1;
            CHECK_EQ_U64(rec.u.object.contents.len, (size_t)3 << 20);
            CHECK_EQ_U64(rec.u.object.contents.ptr[(3 << 20) - 1], (((3 << 20) - 1) >> 9) & 0xff);
            CHECK_EQ_U64(rec.u.object.nptrs, 100000);
            CHECK_EQ_U64(rec.u.object.ptr_offsets[99999], 99999 * 16);
            continue;
        }
        size_t len = mixed_size(i);
        int ok = rec.u.object.addr == 0xc000000000ull + i * 4096 &&
                 rec.u.object.contents.len == len &&
                 rec.u.object.contents.ptr[0] == (uint8_t)i &&
                 rec.u.object.contents.ptr[len - 1] == (uint8_t)(i + len - 1) &&
                 rec.u.object.nptrs == (len / 8) % 40;
        for (size_t k = 0; ok && k < rec.u.object.nptrs; k++)
            ok = rec.u.object.ptr_offsets[k] == k * 8;
        bad += !ok;
        i++;
    }
    CHECK(st == 0);
    CHECK_EQ_U64(i, NOBJ);
    CHECK_EQ_U64(bad, 0);
    CHECK(saw_big);
    gohd_reader_free(r);

    lockstep(s.data, s.len, 1, NOBJ + 2);
    lockstep(s.data, s.len, 4093, NOBJ + 2);
    lockstep(s.data, s.len, 700001, NOBJ + 2);
    gohd_synth_release(&s);
    free(scratch);
    free(offs);
}

/* ---- fieldlist kinds ---- */

static int read_one(const uint8_t *data, size_t size, const gohd_options *o, gohd_record *rec,
                    hs_error *e, gohd_reader **keep)
{
    static hs_mem_source ms;
    ms = (hs_mem_source){data, size, 0};
    gohd_reader *r = NULL;
    int st = gohd_reader_new((hs_reader){hs_mem_read, &ms}, o, &r, e);
    if (st < 0)
        return st;
    st = gohd_next(r, rec, e);
    if (keep)
        *keep = r;
    else
        gohd_reader_free(r);
    return st;
}

static void test_iface_fields(void)
{
    for (int ps = 4; ps <= 8; ps += 4) {
        gohd_synth s;
        gohd_synth_init(&s);
        gohd_synth_header(&s);
        gohd_synth_params(&s, (uint64_t)ps, 0, 0, ps == 4 ? "386" : "amd64", "go1.4", 1);
        gohd_synth_uv(&s, GOHD_OBJECT);
        gohd_synth_uv(&s, 0x1000);
        gohd_synth_bytes(&s, "0123456789abcdef0123456789abcdef", 32);
        uint64_t pairs[][2] = {{1, 0}, {2, 8}, {3, 16}, {1, 24}};
        for (int k = 0; k < 4; k++) {
            gohd_synth_uv(&s, pairs[k][0]);
            gohd_synth_uv(&s, pairs[k][1]);
        }
        gohd_synth_uv(&s, 0);
        gohd_synth_eof(&s);
        hs_mem_source ms = {s.data, s.len, 0};
        gohd_reader *r = NULL;
        hs_error e;
        CHECK(gohd_reader_new((hs_reader){hs_mem_read, &ms}, NULL, &r, &e) == HS_OK);
        gohd_record rec;
        CHECK(gohd_next(r, &rec, &e) == 1 && rec.tag == GOHD_PARAMS);
        CHECK(gohd_next(r, &rec, &e) == 1 && rec.tag == GOHD_OBJECT);
        CHECK_EQ_U64(rec.u.object.nptrs, 4);
        /* iface/eface fields name the interface; the data word one pointer later is kept */
        CHECK_EQ_U64(rec.u.object.ptr_offsets[0], 0);
        CHECK_EQ_U64(rec.u.object.ptr_offsets[1], 8 + (uint64_t)ps);
        CHECK_EQ_U64(rec.u.object.ptr_offsets[2], 16 + (uint64_t)ps);
        CHECK_EQ_U64(rec.u.object.ptr_offsets[3], 24);
        CHECK(gohd_next(r, &rec, &e) == 0);
        gohd_reader_free(r);
        gohd_synth_release(&s);
    }
}

/* ---- limits ---- */

static void test_limits(void)
{
    uint8_t body[100] = {0};
    gohd_synth s;
    gohd_record rec;
    hs_error e;

    /* A 100-byte contents claim against a 64-byte limit, even though it is all buffered. */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_object(&s, 0xc000001000ull, body, 100, NULL, 0);
    gohd_synth_eof(&s);
    gohd_options o = {64};
    hs_error_clear(&e);
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == HS_ERR_LIMIT);
    CHECK_EQ_U64(e.offset, 16 + 1 + 6); /* the length field, after tag and 6-byte address */
    CHECK(strstr(e.msg, "object record at byte 16") != NULL);
    CHECK(strstr(e.msg, "max_record_bytes 64") != NULL);

    /* The same record passes at exactly its length and fails one byte below. */
    uint64_t len = s.len - 16 - 1;
    o.max_record_bytes = len;
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == 1);
    CHECK_EQ_U64(rec.length, len);
    o.max_record_bytes = len - 1;
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == HS_ERR_LIMIT);
    gohd_synth_release(&s);

    /* Many small fields push a record past the limit (no single length is too big). */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    uint64_t offs[200];
    for (int k = 0; k < 200; k++)
        offs[k] = (uint64_t)k * 8;
    gohd_synth_object(&s, 0xc000001000ull, body, 16, offs, 200);
    gohd_synth_eof(&s);
    o.max_record_bytes = 256;
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == HS_ERR_LIMIT);
    CHECK(e.offset < s.len);
    o.max_record_bytes = 0; /* default: 4 GiB */
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == 1);
    CHECK_EQ_U64(rec.u.object.nptrs, 200);
    gohd_synth_release(&s);

    /* An unterminated, ever-growing field list stops at the limit, not at memory. */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_uv(&s, GOHD_OBJECT);
    gohd_synth_uv(&s, 0x1000);
    gohd_synth_bytes(&s, body, 8);
    for (int k = 0; k < 100000; k++) {
        gohd_synth_uv(&s, 1);
        gohd_synth_uv(&s, 8);
    }
    o.max_record_bytes = 4096;
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == HS_ERR_LIMIT);
    o.max_record_bytes = 0;
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == HS_ERR_TRUNCATED);
    gohd_synth_release(&s);

    /* A huge memprof depth is refused against the limit before any stack is stored. */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_uv(&s, GOHD_MEMPROF);
    gohd_synth_uv(&s, 0xc000200000ull);
    gohd_synth_uv(&s, 64);
    gohd_synth_uv(&s, 1000);
    gohd_synth_eof(&s);
    o.max_record_bytes = 2000; /* 1000 entries need >= 3000 bytes */
    CHECK(read_one(s.data, s.len, &o, &rec, &e, NULL) == HS_ERR_LIMIT);
    CHECK_EQ_U64(e.offset, 16 + 1 + 6 + 1);
    gohd_synth_release(&s);
}

#if defined(__SANITIZE_ADDRESS__)
#define GOHD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOHD_TEST_ASAN 1
#endif
#endif

#ifndef GOHD_TEST_ASAN
/* A prefix followed by `zeros` zero bytes, delivered in reads of at most 1 MiB. */
typedef struct zero_source {
    const uint8_t *prefix;
    size_t plen, zeros, pos;
} zero_source;

static int64_t zero_read(void *ctx, void *buf, size_t n)
{
    zero_source *z = ctx;
    size_t total = z->plen + z->zeros;
    if (n > ((size_t)1 << 20))
        n = (size_t)1 << 20;
    if (n > total - z->pos)
        n = total - z->pos;
    for (size_t k = 0; k < n; k++, z->pos++)
        ((uint8_t *)buf)[k] = z->pos < z->plen ? z->prefix[z->pos] : 0;
    return (int64_t)n;
}
#endif

/* A false 3 GiB length followed by 48 MiB of real bytes must end as "truncated" with the
 * buffer grown only as bytes arrived: run in a child under a 1 GiB address-space limit, where
 * trusting the length (one 3 GiB allocation) would fail with HS_ERR_NOMEM instead. */
static void test_no_trust_in_lengths(void)
{
#ifdef GOHD_TEST_ASAN
    check_skip("the address-space test under ASan (its shadow memory needs the address space)");
#else
    gohd_synth s;
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_uv(&s, GOHD_OBJECT);
    gohd_synth_uv(&s, 0xc000010000ull);
    gohd_synth_uv(&s, (uint64_t)3 << 30);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(10);
        zero_source z = {s.data, s.len, (size_t)48 << 20, 0};
        gohd_reader *r = NULL;
        hs_error e;
        if (gohd_reader_new((hs_reader){zero_read, &z}, NULL, &r, &e) != HS_OK)
            _exit(11);
        gohd_record rec;
        int st = gohd_next(r, &rec, &e);
        gohd_reader_free(r);
        if (st == HS_ERR_TRUNCATED && e.offset == 23)
            _exit(0);
        _exit(st == HS_ERR_NOMEM ? 12 : 13);
    }
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK(WIFEXITED(ws));
    CHECK_EQ_U64(WEXITSTATUS(ws), 0);
    gohd_synth_release(&s);
#endif
}

/* ---- errors ---- */

static void test_error_messages(void)
{
    gohd_synth s;
    gohd_record rec;
    hs_error e;
    uint8_t mem[32] = {0};

    /* Stack frame whose contents run past the end: names kind, start and length offset. */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_uv(&s, GOHD_FRAME);
    gohd_synth_uv(&s, 0xc00004ff10ull); /* 6 bytes */
    gohd_synth_uv(&s, 0);
    gohd_synth_uv(&s, 0);
    gohd_synth_uv(&s, 99999); /* length at byte 16+1+6+2 = 25 */
    gohd_synth_raw(&s, mem, sizeof mem);
    gohd_reader *r = NULL;
    hs_error_clear(&e);
    CHECK(read_one(s.data, s.len, NULL, &rec, &e, &r) == HS_ERR_TRUNCATED);
    CHECK_EQ_U64(e.status, HS_ERR_TRUNCATED);
    CHECK_EQ_U64(e.offset, 25);
    CHECK(strstr(e.msg, "stack frame record at byte 16") != NULL);
    CHECK(strstr(e.msg, "length 99999 runs past end") != NULL);
    /* errors are sticky */
    hs_error e2;
    CHECK(gohd_next(r, &rec, &e2) == HS_ERR_TRUNCATED);
    CHECK_EQ_U64(e2.offset, 25);
    gohd_reader_free(r);
    gohd_synth_release(&s);

    /* Unknown tag: offset of the tag byte. */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_params(&s, 8, 0, 0, "amd64", "go1.19", 1);
    size_t tag_at = s.len;
    gohd_synth_uv(&s, 300);
    gohd_synth_eof(&s);
    r = NULL;
    CHECK(read_one(s.data, s.len, NULL, &rec, &e, &r) == 1);
    CHECK(gohd_next(r, &rec, &e) == HS_ERR_FORMAT);
    CHECK_EQ_U64(e.offset, tag_at);
    CHECK(strstr(e.msg, "unknown record tag 300") != NULL);
    gohd_reader_free(r);
    gohd_synth_release(&s);

    /* Maximal and non-canonical 10-byte varints are valid (encoding/binary rules). */
    gohd_synth_init(&s);
    gohd_synth_header(&s);
    gohd_synth_uv(&s, GOHD_ALLOC_SAMPLE);
    gohd_synth_uv(&s, UINT64_MAX);
    gohd_synth_raw(&s, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10);
    gohd_synth_eof(&s);
    CHECK(read_one(s.data, s.len, NULL, &rec, &e, NULL) == 1);
    CHECK_EQ_U64(rec.u.alloc_sample.obj, UINT64_MAX);
    CHECK_EQ_U64(rec.u.alloc_sample.bucket, 0);
    CHECK_EQ_U64(rec.length, 21);
    gohd_synth_release(&s);

    /* A failing source reports its status, in the header and in a record. */
    ref_dump d;
    ref_build(&d);
    fail_source fs = {d.s.data, 8, 0};
    r = NULL;
    CHECK(gohd_reader_new((hs_reader){fail_read, &fs}, NULL, &r, &e) == HS_ERR_IO);
    CHECK(r == NULL);
    CHECK(e.msg[0] != '\0');
    fs = (fail_source){d.s.data, 40, 0};
    CHECK(gohd_reader_new((hs_reader){fail_read, &fs}, NULL, &r, &e) == HS_OK);
    int st;
    while ((st = gohd_next(r, &rec, &e)) == 1)
        ;
    CHECK(st == HS_ERR_IO);
    CHECK_EQ_U64(e.offset, 40);
    gohd_reader_free(r);

    /* Bytes after the EOF record are ignored. */
    gohd_synth_raw(&d.s, "trailing", 8);
    lockstep(d.s.data, d.s.len - 8, 5, d.n - 1);
    hs_mem_source ms = {d.s.data, d.s.len, 0};
    CHECK(gohd_reader_new((hs_reader){hs_mem_read, &ms}, NULL, &r, &e) == HS_OK);
    while ((st = gohd_next(r, &rec, &e)) == 1)
        ;
    CHECK(st == 0);
    CHECK_EQ_U64(gohd_position(r), d.s.len - 8);
    gohd_reader_free(r);
    gohd_synth_release(&d.s);

    /* Arguments. */
    CHECK(gohd_reader_new((hs_reader){hs_mem_read, &ms}, NULL, NULL, &e) == HS_ERR_ARG);
    CHECK(gohd_reader_new((hs_reader){NULL, NULL}, NULL, &r, &e) == HS_ERR_ARG);
    CHECK(r == NULL);
    CHECK(gohd_next(NULL, &rec, &e) == HS_ERR_ARG);
    gohd_reader_free(NULL);
}

/* Expected outcome of each file in tests/broken/gohd (see its README.md). */
static const struct {
    const char *name;
    int status;
    uint64_t offset; /* HS_NO_OFFSET: only "within the file" is checked */
} broken_expect[] = {
    {"empty.bin", HS_ERR_TRUNCATED, 0},
    {"bad-magic.bin", HS_ERR_FORMAT, 14},
    {"old-header-go1.4.bin", HS_ERR_UNSUPPORTED, 0},
    {"truncated-header.bin", HS_ERR_TRUNCATED, 9},
    {"truncated-varint.bin", HS_ERR_TRUNCATED, 17},
    {"varint-11-bytes.bin", HS_ERR_FORMAT, 17},
    {"varint-overflow.bin", HS_ERR_FORMAT, 17},
    {"length-past-end.bin", HS_ERR_TRUNCATED, 16 + 31 + 1 + 6},
    {"fake-3gib-contents.bin", HS_ERR_TRUNCATED, 16 + 1 + 6},
    {"memrange-2pow40.bin", HS_ERR_LIMIT, 16 + 1 + 6 + 1 + 1},
    {"fieldlist-unterminated.bin", HS_ERR_TRUNCATED, 60},
    {"field-kind-7.bin", HS_ERR_FORMAT, 16 + 1 + 6 + 17},
    {"unknown-tag-99.bin", HS_ERR_FORMAT, 16 + 31},
    {"missing-eof.bin", HS_ERR_TRUNCATED, 74},
    {"memprof-huge-nstk.bin", HS_ERR_LIMIT, 16 + 1 + 6 + 1},
    {"memprof-nstk-past-end.bin", HS_ERR_TRUNCATED, 53},
    {"bool-7.bin", HS_ERR_FORMAT, 17},
    {"ptrsize-3.bin", HS_ERR_FORMAT, 18},
    {"string-past-end.bin", HS_ERR_TRUNCATED, 16 + 1 + 4 + 1},
};

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    hs_mem_sink sink = {0};
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        hs_mem_write(&sink, buf, n);
    fclose(f);
    *data = sink.data;
    *size = sink.len;
    return 0;
}

/* Runs a whole stream; returns the final status (0 = clean EOF). */
static int run_all(const uint8_t *data, size_t size, size_t step, hs_error *e)
{
    step_source ss = {data, size, 0, step, 0};
    gohd_reader *r = NULL;
    hs_error_clear(e);
    int st = gohd_reader_new((hs_reader){step_read, &ss}, NULL, &r, e);
    if (st < 0)
        return st;
    gohd_record rec;
    while ((st = gohd_next(r, &rec, e)) == 1)
        ;
    gohd_reader_free(r);
    return st;
}

static void test_broken_corpus(void)
{
    const char *src = getenv("HEAPSIFT_SRC");
    char dir[1024];
    /* meson runs unit tests in tests/unit; by hand they may run from the source root */
    snprintf(dir, sizeof dir, "%s/tests/broken/gohd", src && *src ? src : "../..");
    DIR *dp = opendir(dir);
    if (!dp && !(src && *src)) {
        snprintf(dir, sizeof dir, "tests/broken/gohd");
        dp = opendir(dir);
    }
    CHECK(dp != NULL);
    if (!dp)
        return;
    int nfiles = 0, nknown = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".bin") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        uint8_t *data = NULL;
        size_t size = 0;
        CHECK(read_file(path, &data, &size) == 0);
        nfiles++;
        hs_error e1, e2;
        int s1 = run_all(data, size, SIZE_MAX, &e1);
        int s2 = run_all(data, size, 1, &e2);
        int ok = s1 < 0 && e1.status == s1 && e1.msg[0] != '\0' && e1.offset != HS_NO_OFFSET &&
                 e1.offset <= size && s2 == s1 && e2.offset == e1.offset;
        for (size_t k = 0; k < sizeof broken_expect / sizeof broken_expect[0]; k++) {
            if (strcmp(broken_expect[k].name, de->d_name) != 0)
                continue;
            nknown++;
            ok = ok && s1 == broken_expect[k].status && e1.offset == broken_expect[k].offset;
        }
        if (!ok)
            fprintf(stderr, "broken %s (%zu bytes): status %d/%d offset %" PRIu64 "/%" PRIu64
                            " msg \"%s\"\n",
                    de->d_name, size, s1, s2, e1.offset, e2.offset, e1.msg);
        CHECK(ok);
        if (getenv("GOHD_SHOW"))
            fprintf(stderr, "%s: %d @%" PRIu64 ": %s\n", de->d_name, s1, e1.offset, e1.msg);
        free(data);
    }
    closedir(dp);
    CHECK(nfiles >= 10);
    CHECK_EQ_U64(nknown, sizeof broken_expect / sizeof broken_expect[0]);
}

static void test_primitives(void)
{
    uint8_t b[10];
    CHECK_EQ_U64(gohd_put_uvarint(0, b), 1);
    CHECK(b[0] == 0);
    CHECK_EQ_U64(gohd_put_uvarint(127, b), 1);
    CHECK(b[0] == 127);
    CHECK_EQ_U64(gohd_put_uvarint(300, b), 2);
    CHECK(b[0] == 0xac && b[1] == 0x02);
    CHECK_EQ_U64(gohd_put_uvarint(UINT64_MAX, b), 10);
    CHECK(b[0] == 0xff && b[8] == 0xff && b[9] == 0x01);
    CHECK_STR(gohd_tag_name(GOHD_OBJECT), "object");
    CHECK_STR(gohd_tag_name(GOHD_FRAME), "stack frame");
    CHECK_STR(gohd_tag_name(GOHD_MEMPROF), "memprof bucket");
    CHECK_STR(gohd_tag_name(GOHD_ALLOC_SAMPLE), "alloc sample");
    CHECK_STR(gohd_tag_name(99), "unknown");
    CHECK_STR(gohd_tag_name(-1), "unknown");
    for (int t = 0; t < GOHD_NTAGS; t++)
        CHECK(strcmp(gohd_tag_name(t), "unknown") != 0);
}

int main(void)
{
    test_primitives();
    test_all_kinds_literal();
    test_streaming_ref();
    test_streaming_big();
    test_iface_fields();
    test_limits();
    test_no_trust_in_lengths();
    test_error_messages();
    test_broken_corpus();
    return check_report();
}
