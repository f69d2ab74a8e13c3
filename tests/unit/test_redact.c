/* Unit tests for gohdw (the heap-dump writer) and redact (zeroing non-pointer bytes).
 *
 * - gohdw: a real dump (tests/go/knownheap, built by meson and passed as argv[1], run here)
 *   read record by record and written back is byte-identical; big strings, bad arguments and
 *   sink failures behave as documented.
 * - redact: a synthetic dump with a record of every kind: contents keep only pointer slots,
 *   plus, with a symbol table, type-area words, function entries and itab/type-record
 *   addresses; every other record, field list, length and offset is unchanged; stats are
 *   exact; corrupt input and sink failures fail with offsets; redact_to_hsd writes the same
 *   bytes into a .hsd section. The real dumps are redacted too and checked byte by byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "elfimg.h"
#include "gohd.h"
#include "gohd_synth.h"
#include "gohdw.h"
#include "gotype.h"
#include "hsd.h"
#include "redact.h"
#include "symtab.h"

#define PS 8
#define ARENA 0xc000000000ull
#define FUNC_A 0x401000ull /* entry of main.a, 0x100 bytes */
#define FUNC_B 0x401100ull /* entry of main.b */
#define TYPES 0x500000ull  /* type area, 0x1000 bytes */
#define ITAB 0x600100ull   /* a dynamic itab (not in the type area) */
#define TYPEREC 0x700000ull /* a type announced by a type record, outside the type area */

static const char secret[] = "SECRETSS";

/* ---- helpers ---- */

static void put_word(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < PS; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_word(const uint8_t *p)
{
    return gohd_word(p, PS, 0);
}

/* Encodes one record on its own, for comparing records that carry no contents. */
static int encode(const gohd_record *rec, hs_mem_sink *out)
{
    gohdw *w;
    if (gohdw_new((hs_writer){hs_mem_write, out}, &w, NULL) < 0)
        return -1;
    int rc = gohdw_record(w, rec, NULL);
    if (rc >= 0)
        rc = gohdw_flush(w, NULL);
    gohdw_free(w);
    return rc;
}

static int same_encoding(const gohd_record *a, const gohd_record *b)
{
    hs_mem_sink x = {0}, y = {0};
    int eq = encode(a, &x) >= 0 && encode(b, &y) >= 0 && x.len == y.len &&
             memcmp(x.data, y.data, x.len) == 0;
    hs_mem_sink_release(&x);
    hs_mem_sink_release(&y);
    return eq;
}

/* Reads data, writes every record back through gohdw; returns the rewritten stream. */
static int rewrite(const uint8_t *data, size_t size, hs_mem_sink *out, size_t *nrec)
{
    hs_mem_source src = {data, size, 0};
    gohd_reader *r;
    gohdw *w;
    *nrec = 0;
    if (gohd_reader_new((hs_reader){hs_mem_read, &src}, NULL, &r, NULL) < 0)
        return -1;
    if (gohdw_new((hs_writer){hs_mem_write, out}, &w, NULL) < 0) {
        gohd_reader_free(r);
        return -1;
    }
    int rc = gohdw_header(w, NULL);
    gohd_record rec;
    while (rc >= 0) {
        int more = gohd_next(r, &rec, NULL);
        if (more < 0) {
            rc = more;
            break;
        }
        CHECK_EQ_U64(gohdw_position(w), rec.offset); /* offsets line up as we go */
        if (!more)
            rec.tag = GOHD_EOF;
        if ((rc = gohdw_record(w, &rec, NULL)) < 0)
            break;
        if (!more)
            break;
        (*nrec)++;
    }
    if (rc >= 0)
        rc = gohdw_flush(w, NULL);
    gohdw_free(w);
    gohd_reader_free(r);
    return rc;
}

/* The rule of redact.h for one non-pointer word. */
static int metadata_word(const symtab *t, uint64_t v, const uint64_t *meta, size_t nmeta)
{
    if (!t || !v)
        return 0;
    if (gotype_is_type_addr(t, v) || symtab_func_entry(t, v))
        return 1;
    for (size_t i = 0; i < nmeta; i++)
        if (meta[i] == v)
            return 1;
    return 0;
}

typedef struct cmp_result {
    size_t records, mem_records;
    uint64_t ptr_slots, kept_words, nonzero_in, nonzero_out, content_bytes;
    int bad_struct, bad_slot, bad_byte, bad_other;
} cmp_result;

/* The heap arena of the dump being compared (its params record): stack frames and 16-byte
 * pointer-free objects keep the words that are addresses in it (redact.h). */
static uint64_t arena_lo, arena_hi;

/* An address in the arena or, with symbols, in data/bss (redact.h). */
static int is_address(const symtab *t, uint64_t w)
{
    if (w >= arena_lo && w < arena_hi)
        return 1;
    if (!t)
        return 0;
    const symtab_info *in = symtab_get_info(t);
    const symtab_range *rs[] = {&in->data, &in->noptrdata, &in->bss, &in->noptrbss};
    for (size_t i = 0; i < 4; i++)
        if (w >= rs[i]->start && w < rs[i]->end)
            return 1;
    return 0;
}

/* Compares memory orig with its redaction red: pointer slots equal, every other byte 0 unless
 * its word is metadata, or (keep_addrs) an arena address: then equal. */
static void cmp_mem(cmp_result *cr, const symtab *t, const uint64_t *meta, size_t nmeta,
                    gohd_bytes orig, gohd_bytes red, const uint64_t *offs, size_t n,
                    int keep_addrs)
{
    size_t len = orig.len;
    uint8_t *slot = calloc(len ? len : 1, 1);
    if (!slot) {
        cr->bad_byte++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (offs[i] > len || len - offs[i] < PS)
            continue;
        memset(slot + offs[i], 1, PS);
        cr->ptr_slots++;
        if (memcmp(orig.ptr + offs[i], red.ptr + offs[i], PS) != 0)
            cr->bad_slot++;
    }
    for (size_t k = 0; k < len; k += PS) {
        size_t wl = len - k < PS ? len - k : PS;
        int all_slot = 1;
        for (size_t j = 0; j < wl; j++)
            all_slot &= slot[k + j];
        uint64_t w = wl == PS ? get_word(orig.ptr + k) : 0;
        int meta_w = wl == PS && !all_slot &&
                     (metadata_word(t, w, meta, nmeta) || (keep_addrs && is_address(t, w)));
        if (meta_w && get_word(orig.ptr + k) != 0) {
            if (memcmp(orig.ptr + k, red.ptr + k, PS) != 0)
                cr->bad_byte++;
            else
                cr->kept_words++;
            continue;
        }
        for (size_t j = 0; j < wl; j++)
            if (!slot[k + j] && red.ptr[k + j] != 0)
                cr->bad_byte++;
    }
    for (size_t i = 0; i < len; i++) {
        cr->nonzero_in += orig.ptr[i] != 0;
        cr->nonzero_out += red.ptr[i] != 0;
    }
    cr->content_bytes += len;
    free(slot);
}

static int same_list(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

/* Reads the original and the redacted stream in lockstep and checks redact.h's promise. */
static cmp_result compare(const uint8_t *orig, size_t osize, const uint8_t *red, size_t rsize,
                          const symtab *t)
{
    cmp_result cr = {0};
    hs_mem_source sa = {orig, osize, 0}, sb = {red, rsize, 0};
    gohd_reader *ra = NULL, *rb = NULL;
    static uint64_t meta[1 << 16];
    size_t nmeta = 0;
    if (gohd_reader_new((hs_reader){hs_mem_read, &sa}, NULL, &ra, NULL) < 0 ||
        gohd_reader_new((hs_reader){hs_mem_read, &sb}, NULL, &rb, NULL) < 0) {
        cr.bad_struct++;
        goto out;
    }
    for (;;) {
        gohd_record a, b;
        int ma = gohd_next(ra, &a, NULL), mb = gohd_next(rb, &b, NULL);
        if (ma != mb || ma < 0) {
            cr.bad_struct++;
            break;
        }
        if (!ma)
            break;
        cr.records++;
        if (a.tag != b.tag || a.offset != b.offset || a.length != b.length) {
            cr.bad_struct++;
            break;
        }
        if (a.tag == GOHD_PARAMS) {
            arena_lo = a.u.params.arena_start;
            arena_hi = a.u.params.arena_end;
        }
        if ((a.tag == GOHD_ITAB || a.tag == GOHD_TYPE) && nmeta < sizeof meta / sizeof meta[0])
            meta[nmeta++] = a.tag == GOHD_ITAB ? a.u.itab.itab : a.u.type.addr;
        switch (a.tag) {
        case GOHD_OBJECT:
        case GOHD_DATA:
        case GOHD_BSS:
            cr.mem_records++;
            if (a.u.object.addr != b.u.object.addr ||
                a.u.object.contents.len != b.u.object.contents.len ||
                !same_list(a.u.object.ptr_offsets, a.u.object.nptrs, b.u.object.ptr_offsets,
                           b.u.object.nptrs)) {
                cr.bad_struct++;
                break;
            }
            cmp_mem(&cr, t, meta, nmeta, a.u.object.contents, b.u.object.contents,
                    a.u.object.ptr_offsets, a.u.object.nptrs,
                    a.tag == GOHD_OBJECT && !a.u.object.nptrs && a.u.object.contents.len == 16);
            break;
        case GOHD_FRAME: {
            cr.mem_records++;
            gohd_record a2 = a, b2 = b;
            a2.u.frame.contents = b2.u.frame.contents = (gohd_bytes){NULL, 0};
            if (a.u.frame.contents.len != b.u.frame.contents.len || !same_encoding(&a2, &b2)) {
                cr.bad_struct++;
                break;
            }
            cmp_mem(&cr, t, meta, nmeta, a.u.frame.contents, b.u.frame.contents,
                    a.u.frame.ptr_offsets, a.u.frame.nptrs, 1);
            break;
        }
        default:
            if (!same_encoding(&a, &b))
                cr.bad_other++;
            break;
        }
    }
out:
    gohd_reader_free(ra);
    gohd_reader_free(rb);
    return cr;
}

/* ---- the synthetic dump ---- */

typedef struct synth_dump {
    gohd_synth s;
    uint8_t obj[77];
    uint8_t data[32];
    uint8_t frame[32];
    gohd_stackloc stk[2];
} synth_dump;

static const uint64_t obj_ptrs[] = {8, 24, 40, 200}; /* 200 lies outside the object */
static const uint64_t data_ptrs[] = {0, 24};
static const uint64_t frame_ptrs[] = {16};

static void build(synth_dump *d)
{
    gohd_synth *s = &d->s;
    gohd_synth_init(s);
    gohd_synth_header(s);
    gohd_synth_params(s, PS, ARENA, ARENA + 0x4000000, "amd64", "go1.19.8", 2);

    gohd_record r;
    memset(&r, 0, sizeof r);
    r.tag = GOHD_TYPE;
    r.u.type.addr = TYPEREC;
    r.u.type.size = 16;
    r.u.type.name = gohd_synth_cstr("main.secretHolder");
    gohd_synth_record(s, &r);
    memset(&r, 0, sizeof r);
    r.tag = GOHD_ITAB;
    r.u.itab.itab = ITAB;
    r.u.itab.type = TYPES + 0x80;
    gohd_synth_record(s, &r);

    /* An object: code word, pointer, eface type word, pointer, itab word, pointer, secret,
     * a pc inside a function (not an entry), a type-record address, then 5 odd bytes. */
    uint64_t ow[9] = {FUNC_A, ARENA + 0x10000, TYPES + 0x40, ARENA + 0x20000, ITAB,
                      ARENA + 0x30000, 0, FUNC_A + 4, TYPEREC};
    for (int i = 0; i < 9; i++)
        put_word(d->obj + 8 * i, ow[i]);
    memcpy(d->obj + 48, secret, 8);
    memcpy(d->obj + 72, "xyzzy", 5);
    gohd_synth_object(s, ARENA + 0x1000, d->obj, sizeof d->obj, obj_ptrs, 4);

    /* data: a pointer slot holding a non-pointer value (kept: it is a slot), secret, a type
     * word, a pointer. */
    put_word(d->data, 0x4142434445464748ull);
    memcpy(d->data + 8, secret, 8);
    put_word(d->data + 16, TYPES + 0x100);
    put_word(d->data + 24, ARENA + 0x1000);
    gohd_synth_memrec(s, GOHD_DATA, 0x560000, d->data, sizeof d->data, data_ptrs, 2);
    gohd_synth_memrec(s, GOHD_BSS, 0x570000, secret, 8, NULL, 0);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_GOROUTINE;
    r.u.goroutine.g = ARENA + 0x5000;
    r.u.goroutine.goid = 7;
    r.u.goroutine.waitreason = gohd_synth_cstr("chan receive");
    gohd_synth_record(s, &r);

    /* A frame: secret, the entry of main.b (a funcval's code word), a pointer, secret. */
    memcpy(d->frame, secret, 8);
    put_word(d->frame + 8, FUNC_B);
    put_word(d->frame + 16, ARENA + 0x1000);
    memcpy(d->frame + 24, secret, 8);
    memset(&r, 0, sizeof r);
    r.tag = GOHD_FRAME;
    r.u.frame.sp = ARENA + 0x8000;
    r.u.frame.contents = (gohd_bytes){d->frame, sizeof d->frame};
    r.u.frame.entry = FUNC_A;
    r.u.frame.pc = FUNC_A + 0x20;
    r.u.frame.name = gohd_synth_cstr("main.a");
    r.u.frame.ptr_offsets = frame_ptrs;
    r.u.frame.nptrs = 1;
    gohd_synth_record(s, &r);

    memset(&r, 0, sizeof r);
    r.tag = GOHD_OTHER_ROOT;
    r.u.other_root.description = gohd_synth_cstr("finalizer");
    r.u.other_root.addr = ARENA + 0x1000;
    gohd_synth_record(s, &r);
    memset(&r, 0, sizeof r);
    r.tag = GOHD_FINALIZER;
    r.u.finalizer.obj = ARENA + 0x1000;
    r.u.finalizer.fn = 0x5a0000;
    r.u.finalizer.fnpc = FUNC_B;
    r.u.finalizer.fint = TYPES;
    r.u.finalizer.ot = TYPES + 8;
    gohd_synth_record(s, &r);
    memset(&r, 0, sizeof r);
    r.tag = GOHD_MEMSTATS;
    for (int i = 0; i < 24; i++)
        r.u.memstats.stats[i] = 1000u + (unsigned)i;
    r.u.memstats.pause_ns[3] = 12345;
    r.u.memstats.numgc = 4;
    gohd_synth_record(s, &r);
    memset(&r, 0, sizeof r);
    d->stk[0] = (gohd_stackloc){gohd_synth_cstr("main.a"), gohd_synth_cstr("/src/main.go"), 12};
    d->stk[1] = (gohd_stackloc){gohd_synth_cstr("main.main"), gohd_synth_cstr("/src/main.go"), 40};
    r.tag = GOHD_MEMPROF;
    r.u.memprof.bucket = 0x9000;
    r.u.memprof.size = 77;
    r.u.memprof.nstk = 2;
    r.u.memprof.stack = d->stk;
    r.u.memprof.allocs = 3;
    gohd_synth_record(s, &r);
    memset(&r, 0, sizeof r);
    r.tag = GOHD_ALLOC_SAMPLE;
    r.u.alloc_sample.obj = ARENA + 0x1000;
    r.u.alloc_sample.bucket = 0x9000;
    gohd_synth_record(s, &r);
    gohd_synth_eof(s);
}

static symtab *make_symtab(void)
{
    symtab *t = symtab_new();
    static uint8_t area[0x1000];
    if (!t)
        return NULL;
    if (symtab_add(t, SYMTAB_FUNC, FUNC_A, 0x100, "main.a", 6, NULL) < 0 ||
        symtab_add(t, SYMTAB_FUNC, FUNC_B, 0x100, "main.b", 6, NULL) < 0 ||
        symtab_set_types(t, TYPES, area, sizeof area, NULL) < 0 || symtab_finish(t, NULL) < 0) {
        symtab_free(t);
        return NULL;
    }
    return t;
}

static int redact_mem_dump(const uint8_t *data, size_t size, const symtab *t, hs_mem_sink *out,
                           redact_stats *st, hs_error *err)
{
    hs_mem_source src = {data, size, 0};
    redact_options o = {.syms = t};
    return redact_stream((hs_reader){hs_mem_read, &src}, (hs_writer){hs_mem_write, out}, &o, st,
                         err);
}

/* Finds the record of a tag in a stream and copies its contents (first one). */
static size_t contents_of(const uint8_t *data, size_t size, gohd_tag tag, uint8_t *buf,
                          size_t cap)
{
    hs_mem_source src = {data, size, 0};
    gohd_reader *r;
    size_t n = 0;
    if (gohd_reader_new((hs_reader){hs_mem_read, &src}, NULL, &r, NULL) < 0)
        return 0;
    gohd_record rec;
    while (gohd_next(r, &rec, NULL) > 0) {
        if (rec.tag != tag)
            continue;
        gohd_bytes b = tag == GOHD_FRAME ? rec.u.frame.contents : rec.u.object.contents;
        n = b.len < cap ? b.len : cap;
        memcpy(buf, b.ptr, n);
        break;
    }
    gohd_reader_free(r);
    return n;
}

static int contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static void test_synthetic(void)
{
    synth_dump d;
    build(&d);
    CHECK(!d.s.failed);
    CHECK(contains(d.s.data, d.s.len, secret, 8)); /* the test can fail */
    symtab *t = make_symtab();
    CHECK(t != NULL);

    for (int with = 0; with < 2; with++) {
        const symtab *syms = with ? t : NULL;
        hs_mem_sink out = {0};
        redact_stats st;
        hs_error err;
        hs_error_clear(&err);
        CHECK(redact_mem_dump(d.s.data, d.s.len, syms, &out, &st, &err) == HS_OK);
        CHECK_EQ_U64(out.len, d.s.len);
        CHECK_EQ_U64(st.bytes_out, d.s.len);
        CHECK(!contains(out.data, out.len, secret, 8));
        CHECK(!contains(out.data, out.len, "xyzzy", 5));
        CHECK(contains(out.data, out.len, "chan receive", 12));
        CHECK(contains(out.data, out.len, "/src/main.go", 12));
        CHECK(contains(out.data, out.len, "main.secretHolder", 17));

        cmp_result cr = compare(d.s.data, d.s.len, out.data, out.len, syms);
        CHECK_EQ_U64(cr.records, 13);
        CHECK_EQ_U64(cr.mem_records, 4);
        CHECK_EQ_U64(cr.bad_struct, 0);
        CHECK_EQ_U64(cr.bad_slot, 0);
        CHECK_EQ_U64(cr.bad_byte, 0);
        CHECK_EQ_U64(cr.bad_other, 0);
        CHECK_EQ_U64(st.records, 13);
        CHECK_EQ_U64(st.ptr_words, 3 + 2 + 1);
        CHECK_EQ_U64(st.content_bytes, sizeof d.obj + sizeof d.data + 8 + sizeof d.frame);
        CHECK_EQ_U64(st.bytes_zeroed, cr.nonzero_in - cr.nonzero_out);

        /* Exact words: the object's code, type, itab and type-record words; the data's type
         * word; the frame's code word: all kept with a symtab, all zero without. */
        uint8_t obj[128], data[64], frame[64];
        CHECK_EQ_U64(contents_of(out.data, out.len, GOHD_OBJECT, obj, sizeof obj), sizeof d.obj);
        CHECK_EQ_U64(contents_of(out.data, out.len, GOHD_DATA, data, sizeof data), 32);
        CHECK_EQ_U64(contents_of(out.data, out.len, GOHD_FRAME, frame, sizeof frame), 32);
        CHECK_EQ_U64(get_word(obj + 0), with ? FUNC_A : 0);
        CHECK_EQ_U64(get_word(obj + 8), ARENA + 0x10000);
        CHECK_EQ_U64(get_word(obj + 16), with ? TYPES + 0x40 : 0);
        CHECK_EQ_U64(get_word(obj + 24), ARENA + 0x20000);
        CHECK_EQ_U64(get_word(obj + 32), with ? ITAB : 0);
        CHECK_EQ_U64(get_word(obj + 40), ARENA + 0x30000);
        CHECK_EQ_U64(get_word(obj + 48), 0);
        CHECK_EQ_U64(get_word(obj + 56), 0); /* inside main.a, not its entry */
        CHECK_EQ_U64(get_word(obj + 64), with ? TYPEREC : 0);
        CHECK(memcmp(obj + 72, "\0\0\0\0\0", 5) == 0);
        CHECK_EQ_U64(get_word(data + 0), 0x4142434445464748ull);
        CHECK_EQ_U64(get_word(data + 8), 0);
        CHECK_EQ_U64(get_word(data + 16), with ? TYPES + 0x100 : 0);
        CHECK_EQ_U64(get_word(frame + 0), 0);
        CHECK_EQ_U64(get_word(frame + 8), with ? FUNC_B : 0);
        CHECK_EQ_U64(get_word(frame + 16), ARENA + 0x1000);
        CHECK_EQ_U64(get_word(frame + 24), 0);
        CHECK_EQ_U64(st.words_kept, with ? 6 : 0);
        CHECK_EQ_U64(cr.kept_words, with ? 6 : 0);

        /* Redacting a redacted dump changes nothing more. */
        hs_mem_sink again = {0};
        redact_stats st2;
        CHECK(redact_mem_dump(out.data, out.len, syms, &again, &st2, NULL) == HS_OK);
        CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
        CHECK_EQ_U64(st2.bytes_zeroed, 0);
        hs_mem_sink_release(&again);
        hs_mem_sink_release(&out);
    }

    /* Round trip without redaction: the writer reproduces the synthetic stream. */
    hs_mem_sink rt = {0};
    size_t nrec;
    CHECK(rewrite(d.s.data, d.s.len, &rt, &nrec) == HS_OK);
    CHECK_EQ_U64(nrec, 13);
    CHECK(rt.len == d.s.len && memcmp(rt.data, d.s.data, rt.len) == 0);
    hs_mem_sink_release(&rt);

    /* Corrupt input: every truncation fails with the input offset, never crashes. */
    int trunc_ok = 1;
    for (size_t cut = 0; cut < d.s.len; cut += 7) {
        hs_mem_sink out = {0};
        hs_error err;
        hs_error_clear(&err);
        int rc = redact_mem_dump(d.s.data, cut, t, &out, NULL, &err);
        if (rc != HS_ERR_TRUNCATED || err.offset > cut || !err.msg[0])
            trunc_ok = 0;
        hs_mem_sink_release(&out);
    }
    CHECK(trunc_ok);
    {
        uint8_t bad[64];
        memcpy(bad, d.s.data, sizeof bad);
        memcpy(bad, "go1.7 heap dumP\n", 16);
        hs_mem_sink out = {0};
        hs_error err;
        CHECK(redact_mem_dump(bad, sizeof bad, NULL, &out, NULL, &err) == HS_ERR_FORMAT);
        CHECK_EQ_U64(out.len, 0);
        hs_mem_sink_release(&out);
    }

    /* redact_to_hsd writes the same bytes into a HEAPDUMP section. */
    {
        hs_mem_sink ref = {0}, file = {0};
        CHECK(redact_mem_dump(d.s.data, d.s.len, t, &ref, NULL, NULL) == HS_OK);
        hsd_writer *w;
        CHECK(hsd_writer_new((hs_writer){hs_mem_write, &file}, NULL, &w, NULL) == HS_OK);
        CHECK(hsd_writer_begin(w, HSD_SEC_HEAPDUMP, "heapdump", NULL) == HS_OK);
        hs_mem_source src = {d.s.data, d.s.len, 0};
        redact_options o = {.syms = t};
        redact_stats st;
        CHECK(redact_to_hsd((hs_reader){hs_mem_read, &src}, w, &o, &st, NULL) == HS_OK);
        CHECK(hsd_writer_end(w, NULL) == HS_OK);
        CHECK(hsd_writer_finish(w, NULL) == HS_OK);
        hsd_writer_free(w);
        hsd_reader *r;
        uint8_t *sec = NULL;
        size_t len = 0;
        CHECK(hsd_reader_open(file.data, file.len, &r, NULL) == HS_OK);
        CHECK(hsd_read_section(r, 0, 0, &sec, &len, NULL) == HS_OK);
        CHECK(sec && len == ref.len && memcmp(sec, ref.data, len) == 0);
        CHECK_EQ_U64(st.words_kept, 6);
        free(sec);
        hsd_reader_free(r);
        hs_mem_sink_release(&ref);
        hs_mem_sink_release(&file);
    }
    symtab_free(t);
    gohd_synth_release(&d.s);
}

/* ---- the writer on its own ---- */

typedef struct limit_sink {
    size_t left, calls;
} limit_sink;

static int limit_write(void *ctx, const void *buf, size_t n)
{
    (void)buf;
    limit_sink *s = ctx;
    s->calls++;
    if (n > s->left) {
        errno = ENOSPC;
        return HS_ERR_IO;
    }
    s->left -= n;
    return HS_OK;
}

static void test_writer(void)
{
    /* A 100 KiB object (bypasses the buffer) and a small one read back exactly. */
    size_t big = 100 << 10;
    uint8_t *mem = malloc(big);
    CHECK(mem != NULL);
    if (!mem)
        return;
    for (size_t i = 0; i < big; i++)
        mem[i] = (uint8_t)(i * 31 + 7);
    uint64_t offs[] = {0, 8, big - 8};
    hs_mem_sink out = {0};
    gohdw *w;
    CHECK(gohdw_new((hs_writer){hs_mem_write, &out}, &w, NULL) == HS_OK);
    CHECK(gohdw_header(w, NULL) == HS_OK);
    gohd_record r = {.tag = GOHD_OBJECT};
    r.u.object = (gohd_memrec){ARENA, {mem, big}, offs, 3};
    CHECK(gohdw_record(w, &r, NULL) == HS_OK);
    r.u.object = (gohd_memrec){ARENA + big, {mem, 16}, offs, 1};
    CHECK(gohdw_record(w, &r, NULL) == HS_OK);
    uint64_t before = gohdw_position(w);
    hs_error err;
    gohd_record bad = {.tag = (gohd_tag)GOHD_NTAGS};
    CHECK(gohdw_record(w, &bad, &err) == HS_ERR_ARG); /* nothing written, writer usable */
    CHECK_EQ_U64(gohdw_position(w), before);
    gohd_record eof = {.tag = GOHD_EOF};
    CHECK(gohdw_record(w, &eof, NULL) == HS_OK);
    CHECK(gohdw_flush(w, NULL) == HS_OK);
    CHECK_EQ_U64(gohdw_position(w), out.len);
    gohdw_free(w);

    hs_mem_source src = {out.data, out.len, 0};
    gohd_reader *rd;
    CHECK(gohd_reader_new((hs_reader){hs_mem_read, &src}, NULL, &rd, NULL) == HS_OK);
    gohd_record got;
    CHECK(gohd_next(rd, &got, NULL) == 1);
    CHECK(got.tag == GOHD_OBJECT && got.u.object.addr == ARENA);
    CHECK(got.u.object.contents.len == big && memcmp(got.u.object.contents.ptr, mem, big) == 0);
    CHECK(same_list(got.u.object.ptr_offsets, got.u.object.nptrs, offs, 3));
    CHECK(gohd_next(rd, &got, NULL) == 1);
    CHECK(got.u.object.contents.len == 16 && got.u.object.nptrs == 1);
    CHECK(gohd_next(rd, &got, NULL) == 0);
    gohd_reader_free(rd);
    hs_mem_sink_release(&out);

    /* NULL bytes with a length: HS_ERR_ARG, and the writer refuses from then on. */
    CHECK(gohdw_new((hs_writer){hs_mem_write, &out}, &w, NULL) == HS_OK);
    r.u.object = (gohd_memrec){ARENA, {NULL, 8}, NULL, 0};
    CHECK(gohdw_record(w, &r, &err) == HS_ERR_ARG);
    CHECK(strstr(err.msg, "object record") != NULL);
    CHECK(gohdw_record(w, &eof, &err) == HS_ERR_ARG);
    gohdw_free(w);
    hs_mem_sink_release(&out);

    /* A failing sink: the status and errno come back, at the output offset, and stick. */
    limit_sink ls = {1000, 0};
    CHECK(gohdw_new((hs_writer){limit_write, &ls}, &w, NULL) == HS_OK);
    CHECK(gohdw_header(w, NULL) == HS_OK);
    r.u.object = (gohd_memrec){ARENA, {mem, big}, offs, 3};
    hs_error_clear(&err);
    CHECK(gohdw_record(w, &r, &err) == HS_ERR_IO);
    CHECK_EQ_U64(err.sys_errno, ENOSPC);
    CHECK(err.offset == 0 || err.offset <= 1000);
    size_t calls = ls.calls;
    CHECK(gohdw_record(w, &eof, &err) == HS_ERR_IO);
    CHECK(gohdw_flush(w, &err) == HS_ERR_IO);
    CHECK_EQ_U64(ls.calls, calls); /* nothing more reached the sink */
    gohdw_free(w);
    gohdw_free(NULL);

    /* redact_stream over a failing sink reports the sink's failure. */
    synth_dump d;
    build(&d);
    hs_mem_source s2 = {d.s.data, d.s.len, 0};
    ls = (limit_sink){100, 0};
    hs_error_clear(&err);
    CHECK(redact_stream((hs_reader){hs_mem_read, &s2}, (hs_writer){limit_write, &ls}, NULL, NULL,
                        &err) == HS_ERR_IO);
    CHECK(strstr(err.msg, "writing the heap dump failed") != NULL);
    gohd_synth_release(&d.s);
    free(mem);
}

/* ---- real dumps ---- */

static int run_knownheap(const char *exe, const char *a, const char *b)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 1);
        execl(exe, exe, a, b, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void test_real(const char *exe)
{
    char dir[] = "/tmp/heapsift-redact-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    char a[64], b[64];
    snprintf(a, sizeof a, "%s/before.dump", dir);
    snprintf(b, sizeof b, "%s/after.dump", dir);
    CHECK(run_knownheap(exe, a, b) == 0);

    symtab *t = NULL;
    const uint8_t *bin;
    size_t binsize;
    elfimg *img;
    CHECK(hs_map_file(exe, &bin, &binsize, NULL) == HS_OK);
    CHECK(elfimg_open(bin, binsize, &img, NULL) == HS_OK);
    CHECK(elfimg_symtab(img, &t, NULL) == HS_OK);
    elfimg_free(img);

    const char *paths[] = {a, b};
    for (int i = 0; i < 2; i++) {
        const uint8_t *data;
        size_t size;
        if (hs_map_file(paths[i], &data, &size, NULL) < 0) {
            CHECK(!"dump written");
            continue;
        }
        /* Read record by record and write each back: byte-identical. */
        hs_mem_sink out = {0};
        size_t nrec = 0;
        CHECK(rewrite(data, size, &out, &nrec) == HS_OK);
        CHECK(nrec > 100);
        CHECK_EQ_U64(out.len, size);
        CHECK(out.len == size && memcmp(out.data, data, size) == 0);
        hs_mem_sink_release(&out);

        for (int with = 0; with < 2; with++) {
            hs_mem_sink red = {0};
            redact_stats st;
            hs_error err;
            hs_error_clear(&err);
            CHECK(redact_mem_dump(data, size, with ? t : NULL, &red, &st, &err) == HS_OK);
            CHECK_EQ_U64(red.len, size);
            cmp_result cr = compare(data, size, red.data, red.len, with ? t : NULL);
            CHECK_EQ_U64(cr.records, nrec);
            CHECK_EQ_U64(st.records, nrec);
            CHECK_EQ_U64(cr.bad_struct + cr.bad_slot + cr.bad_byte + cr.bad_other, 0);
            CHECK_EQ_U64(st.ptr_words, cr.ptr_slots);
            CHECK_EQ_U64(st.bytes_zeroed, cr.nonzero_in - cr.nonzero_out);
            CHECK(st.bytes_zeroed > 0);
            CHECK_EQ_U64(st.words_kept, cr.kept_words);
            CHECK(st.words_kept > 0); /* interfaces, closures; stack frames' addresses */
            hs_mem_sink_release(&red);
        }
        hs_unmap(data, size);
        unlink(paths[i]);
    }
    symtab_free(t);
    hs_unmap(bin, binsize);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    test_writer();
    test_synthetic();
    if (argc > 1)
        test_real(argv[1]);
    else
        check_skip("no knownheap binary (no Go toolchain): the real dumps");
    return check_report();
}
