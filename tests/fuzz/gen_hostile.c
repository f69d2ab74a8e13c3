/* gen_hostile - writes heap dumps with hostile pointer graphs, for test_hostile.py (heapsift
 * must exit 0 or 2 on each, never crash or hang) and as seeds for fuzz_analyze.
 *
 * Usage: gen_hostile OUTDIR [--small] [--raw]
 *   default: full size (a million-long chain, a 200k fan-in, ...), written as .hsd files that
 *            carry the made-up symbol table of fuzz_synth_symtab.h (so globals, closures and
 *            finalizer functions have names), plus two raw dumps;
 *   --small: every count divided by 1000 (seed-corpus size);
 *   --raw:   raw dumps only (fuzz_analyze pairs raw dumps with the same made-up symtab).
 * Deterministic: the same arguments always write the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_synth_symtab.h"
#include "gohd.h"
#include "gohd_synth.h"
#include "hsd.h"
#include "symtab.h"

#define ARENA 0xc000000000ull

static size_t scale_div = 1;

static size_t N(size_t full)
{
    size_t n = full / scale_div;
    return n < 3 ? 3 : n;
}

/* Deterministic LCG (Knuth's MMIX constants). */
static uint64_t rng_state = 1;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 33;
}

static void put_word(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void start(gohd_synth *s, const char *version, uint64_t arena_start, uint64_t arena_end)
{
    gohd_synth_init(s);
    gohd_synth_header(s);
    gohd_synth_params(s, 8, arena_start, arena_end, "amd64", version, 2);
}

/* An object whose words are given; every nonzero word is declared a pointer slot. */
static void obj_words(gohd_synth *s, uint64_t addr, const uint64_t *w, size_t nw)
{
    uint8_t buf[64 * 8];
    uint64_t offs[64];
    size_t np = 0;
    for (size_t i = 0; i < nw && i < 64; i++) {
        put_word(buf + 8 * i, w[i]);
        if (w[i])
            offs[np++] = 8 * i;
    }
    gohd_synth_object(s, addr, buf, 8 * (nw < 64 ? nw : 64), offs, np);
}

/* A data/bss record holding the given pointer words (all slots declared). */
static void global_words(gohd_synth *s, gohd_tag tag, uint64_t addr, const uint64_t *w, size_t nw)
{
    uint8_t *buf = calloc(nw ? nw : 1, 8);
    uint64_t *offs = calloc(nw ? nw : 1, sizeof *offs);
    if (!buf || !offs) {
        s->failed = 1;
        free(buf);
        free(offs);
        return;
    }
    for (size_t i = 0; i < nw; i++) {
        put_word(buf + 8 * i, w[i]);
        offs[i] = 8 * i;
    }
    gohd_synth_memrec(s, tag, addr, buf, 8 * nw, offs, nw);
    free(buf);
    free(offs);
}

static void root_global(gohd_synth *s, uint64_t target)
{
    global_words(s, GOHD_BSS, FSYM_G_REGISTRY, &target, 1);
}

static void finalizer(gohd_synth *s, gohd_tag tag, uint64_t obj, uint64_t fn, uint64_t fnpc)
{
    gohd_record r = {.tag = tag};
    r.u.finalizer.obj = obj;
    r.u.finalizer.fn = fn;
    r.u.finalizer.fnpc = fnpc;
    r.u.finalizer.ot = FSYM_RODATA + 0x100;
    gohd_synth_record(s, &r);
}

static void goroutine(gohd_synth *s, uint64_t g, uint64_t goid, uint64_t sp)
{
    gohd_record r = {.tag = GOHD_GOROUTINE};
    r.u.goroutine.g = g;
    r.u.goroutine.sp = sp;
    r.u.goroutine.goid = goid;
    r.u.goroutine.status = 4;
    r.u.goroutine.waitreason = gohd_synth_cstr("chan receive");
    gohd_synth_record(s, &r);
}

static void frame(gohd_synth *s, uint64_t sp, uint64_t depth, uint64_t child, uint64_t ptr,
                  const char *name)
{
    uint8_t buf[16];
    put_word(buf, ptr);
    put_word(buf + 8, 0);
    uint64_t off = 0;
    gohd_record r = {.tag = GOHD_FRAME};
    r.u.frame.sp = sp;
    r.u.frame.depth = depth;
    r.u.frame.child_sp = child;
    r.u.frame.contents = (gohd_bytes){buf, sizeof buf};
    r.u.frame.entry = FSYM_FN_MAIN;
    r.u.frame.pc = FSYM_FN_MAIN + 0x10;
    r.u.frame.name = gohd_synth_cstr(name);
    r.u.frame.ptr_offsets = &off;
    r.u.frame.nptrs = 1;
    gohd_synth_record(s, &r);
}

/* ---- the cases ---- */

/* A million-long singly linked chain from one global: deep dominator tree and paths. */
static void gen_chain(gohd_synth *s)
{
    size_t n = N(1000000);
    start(s, "go1.19.8", ARENA, ARENA + 16 * n + 4096);
    for (size_t i = 0; i < n; i++) {
        uint64_t w[2] = {i + 1 < n ? ARENA + 16 * (i + 1) : 0, 0};
        obj_words(s, ARENA + 16 * i, w, 2);
    }
    root_global(s, ARENA);
}

/* One object pointed to by 200k others (that form a chain, so all are live). */
static void gen_fanin(gohd_synth *s)
{
    size_t n = N(200000);
    uint64_t x = ARENA;
    start(s, "go1.19.8", ARENA, ARENA + 16 * (n + 1) + 4096);
    uint64_t w0[2] = {0, 0};
    obj_words(s, x, w0, 2);
    for (size_t i = 1; i <= n; i++) {
        uint64_t w[2] = {x, i < n ? ARENA + 16 * (i + 1) : 0};
        obj_words(s, ARENA + 16 * i, w, 2);
    }
    root_global(s, ARENA + 16);
}

/* One object with 200k pointer slots to 200k leaves; also every leaf in a second parent. */
static void gen_fanout(gohd_synth *s)
{
    size_t n = N(200000);
    uint64_t hub = ARENA, leaves = ARENA + 8 * n + 8192;
    start(s, "go1.19.8", ARENA, leaves + 16 * n + 4096);
    uint8_t *buf = calloc(n, 8);
    uint64_t *offs = calloc(n, sizeof *offs);
    if (!buf || !offs) {
        s->failed = 1;
        free(buf);
        free(offs);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        put_word(buf + 8 * i, leaves + 16 * i);
        offs[i] = 8 * i;
    }
    gohd_synth_object(s, hub, buf, 8 * n, offs, n);
    free(buf);
    free(offs);
    for (size_t i = 0; i < n; i++) {
        uint64_t w[2] = {0, hub + 8 * (rng() % n)}; /* interior pointers back into the hub */
        obj_words(s, leaves + 16 * i, w, 2);
    }
    root_global(s, hub);
}

/* A ring plus random edges and self-pointers; every 8th object is a closure capturing its
 * successor; half the ring hangs off a global, the other half is a separate unrooted ring. */
static void gen_cycles(gohd_synth *s)
{
    size_t n = N(200000);
    start(s, "go1.19.8", ARENA, ARENA + 32 * n + 4096);
    size_t half = n / 2;
    for (size_t i = 0; i < n; i++) {
        size_t lo = i < half ? 0 : half, len = i < half ? half : n - half;
        uint64_t self = ARENA + 32 * i;
        uint64_t next = ARENA + 32 * (lo + (i - lo + 1) % len);
        uint64_t prev = ARENA + 32 * (lo + (i - lo + len - 1) % len);
        uint64_t any = ARENA + 32 * (lo + rng() % len);
        uint64_t w[4] = {i % 8 == 0 ? FSYM_FN_FUNC1 : next, next, prev, i % 3 ? any : self};
        if (i % 16 == 8)
            w[0] = FSYM_FN_CLOSEFM;
        obj_words(s, self, w, 4);
    }
    root_global(s, ARENA);
}

/* Finalizers on everything: own-closure pins, mutual pairs, self-pointers, chains of
 * finalizer objects, queued finalizers, finalizers for objects that do not exist. */
static void gen_finalizers(gohd_synth *s)
{
    size_t n = N(100000) / 3 * 3;
    uint64_t objs = ARENA, clos = ARENA + 32 * n + 4096;
    start(s, "go1.19.8", ARENA, clos + 16 * n + 4096);
    for (size_t i = 0; i < n; i++) {
        uint64_t a = objs + 32 * i;
        uint64_t w[4] = {0, 0, 0, 0};
        switch (i % 3) {
        case 0: w[0] = a; break;                                   /* self only */
        case 1: w[1] = objs + 32 * (i + 1); break;                 /* mutual with i+1 */
        case 2: w[1] = objs + 32 * (i - 1); w[2] = objs + 32 * ((i + 3) % n); break;
        }
        obj_words(s, a, w, 4);
        uint64_t cw[2] = {FSYM_FN_FUNC1, i % 2 ? a : 0};           /* closure; odd ones capture */
        obj_words(s, clos + 16 * i, cw, 2);
    }
    for (size_t i = 0; i < n; i++)
        finalizer(s, GOHD_FINALIZER, objs + 32 * i, clos + 16 * i, FSYM_FN_FUNC1);
    for (size_t i = 0; i < n; i += 7)
        finalizer(s, GOHD_QFINALIZER, objs + 32 * i + 8, clos + 16 * i, FSYM_FN_FINAL);
    finalizer(s, GOHD_FINALIZER, 0xdead0000, 0, 0);                /* outside the heap */
    finalizer(s, GOHD_FINALIZER, objs, objs, FSYM_FN_FINAL);       /* fn is the object */
    finalizer(s, GOHD_FINALIZER, objs, clos, FSYM_FN_FINAL);       /* second special */
    root_global(s, objs + 32 * (n / 2));
}

/* Overlapping and duplicate objects, pointers into their middles. */
static void gen_overlap(gohd_synth *s)
{
    size_t n = N(50000);
    start(s, "go1.19.8", ARENA, ARENA + 8 * n + 4096);
    for (size_t i = 0; i < n; i++) {
        uint64_t w[8] = {0};
        w[i % 8] = ARENA + 8 * (rng() % n) + 3;                     /* unaligned interior */
        obj_words(s, ARENA + 8 * i, w, 8);                          /* 64 bytes every 8 */
        if (i % 100 == 0)
            obj_words(s, ARENA + 8 * i, w, 4);                      /* duplicate address */
    }
    root_global(s, ARENA + 8 * (n / 2) + 5);
}

/* Pointer slots beyond the contents, unaligned offsets, odd lengths, empty objects,
 * one-past-the-end pointers. */
static void gen_interior(gohd_synth *s)
{
    size_t n = N(50000);
    start(s, "go1.19.8", ARENA, ARENA + 64 * n + 4096);
    uint8_t buf[40];
    for (size_t i = 0; i < n; i++) {
        uint64_t a = ARENA + 64 * i;
        memset(buf, 0, sizeof buf);
        put_word(buf, a + 64);                                      /* one past the end */
        put_word(buf + 8, ARENA + 64 * (rng() % n) + 63);           /* last byte */
        put_word(buf + 16, ARENA + 64 * (rng() % n) + 17);
        uint64_t offs[] = {0, 8, 16, 3, 64, 1u << 20, UINT64_MAX - 7, 16};
        size_t len = i % 4 == 0 ? 0 : i % 4 == 1 ? 13 : sizeof buf;
        gohd_synth_object(s, a, buf, len, offs, 8);
    }
    root_global(s, ARENA);
}

/* Objects at absurd addresses: 0, the top of the address space (wrapping), outside an arena
 * whose bounds are inverted; globals overlapping objects; frames with absurd sps. */
static void gen_absurd(gohd_synth *s)
{
    size_t n = N(20000);
    start(s, "go1.19.8", 0xffff000000000000ull, 0x1000);
    uint64_t w[4] = {UINT64_MAX, 0, 8, UINT64_MAX - 64};
    obj_words(s, 0, w, 4);
    obj_words(s, 8, w, 4);
    obj_words(s, UINT64_MAX - 15, w, 4);                            /* wraps past 2^64 */
    obj_words(s, UINT64_MAX - 63, w, 4);
    obj_words(s, FSYM_G_STORE, w, 4);                               /* object inside bss */
    for (size_t i = 0; i < n; i++) {
        uint64_t a = (rng() << 31) ^ rng();
        uint64_t v[3] = {a, (rng() << 31) ^ rng(), UINT64_MAX - 63 + (i % 64)};
        obj_words(s, a & ~7ull, v, 3);
    }
    uint64_t g[4] = {0, UINT64_MAX - 8, FSYM_G_STORE + 8, ARENA};
    global_words(s, GOHD_BSS, FSYM_G_STORE, g, 4);
    global_words(s, GOHD_DATA, 0, g, 4);
    global_words(s, GOHD_BSS, FSYM_G_ANON, g, 4);                   /* anonymous static */
    goroutine(s, 0, 1, UINT64_MAX);
    frame(s, UINT64_MAX - 8, 0, 0, 0, "main.main");
    frame(s, 0, 0, UINT64_MAX, UINT64_MAX - 15, "");
    gohd_record r = {.tag = GOHD_OTHER_ROOT};
    r.u.other_root.description = gohd_synth_cstr("finq\x1b[31m\xff");
    r.u.other_root.addr = UINT64_MAX - 1;
    gohd_synth_record(s, &r);
}

/* A data record that wraps past 2^64 after valid records: heapsift must refuse it (exit 2). */
static void gen_wrap(gohd_synth *s)
{
    start(s, "go1.19.8", ARENA, ARENA + 4096);
    uint64_t w[2] = {ARENA, 0};
    obj_words(s, ARENA, w, 2);
    root_global(s, ARENA);
    global_words(s, GOHD_DATA, UINT64_MAX - 8, w, 2);
}

/* One goroutine with a very deep stack and many goroutines with short ones, each frame
 * holding a pointer to one object, plus defer and panic records. */
static void gen_stacks(gohd_synth *s)
{
    size_t deep = N(100000), many = N(10000);
    start(s, "go1.19.8", ARENA, ARENA + 16 * (deep + many) + 4096);
    for (size_t i = 0; i < deep + many; i++) {
        uint64_t w[2] = {i ? ARENA + 16 * (i - 1) : 0, 0};
        obj_words(s, ARENA + 16 * i, w, 2);
    }
    uint64_t sp = 0xc100000000ull;
    goroutine(s, 0xc200000000ull, 1, sp);
    for (size_t d = 0; d < deep; d++)
        frame(s, sp + 32 * d, d, d ? sp + 32 * (d - 1) : 0, ARENA + 16 * d,
              d % 2 ? "main.recurse" : "main.main.func1");
    for (size_t g = 0; g < many; g++) {
        uint64_t gsp = 0xc300000000ull + 4096 * g;
        goroutine(s, 0xc400000000ull + 512 * g, 2 + g, gsp);
        frame(s, gsp, 0, 0, ARENA + 16 * (deep + g), "main.worker");
        gohd_record d = {.tag = GOHD_DEFER};
        d.u.defer.d = ARENA + 16 * (deep + g);
        d.u.defer.g = 0xc400000000ull + 512 * g;
        d.u.defer.fn = ARENA + 16 * g;
        d.u.defer.fnpc = FSYM_FN_NESTED;
        gohd_synth_record(s, &d);
        gohd_record p = {.tag = GOHD_PANIC};
        p.u.panic.p = ARENA + 16 * g + 8;
        p.u.panic.argdata = ARENA + 16 * (deep + g);
        gohd_synth_record(s, &p);
    }
}

/* Type and itab records en masse, interface words everywhere, memprof buckets and allocation
 * samples for every object (and for objects that do not exist), a Go 1.22 malloc-header
 * layout. */
static void gen_types(gohd_synth *s)
{
    size_t n = N(50000);
    start(s, "go1.22.1", ARENA, ARENA + 1024 * n + 4096);
    for (size_t i = 0; i < 64; i++) {
        char name[64];
        snprintf(name, sizeof name, i % 2 ? "main.T%zu" : "*main.T%zu\x01\xfe", i);
        gohd_record t = {.tag = GOHD_TYPE};
        t.u.type.addr = FSYM_RODATA + 64 * i;
        t.u.type.size = 1024 - 8 * i;
        t.u.type.name = gohd_synth_cstr(name);
        t.u.type.indirect = (int)(i % 2);
        gohd_synth_record(s, &t);
        gohd_record it = {.tag = GOHD_ITAB};
        it.u.itab.itab = FSYM_RODATA + 0x20000 + 32 * i;
        it.u.itab.type = FSYM_RODATA + 64 * i;
        gohd_synth_record(s, &it);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t a = ARENA + 1024 * i;
        uint64_t w[64] = {0};
        w[0] = FSYM_RODATA + 64 * (rng() % 64);                     /* malloc header / eface */
        w[1] = ARENA + 1024 * (rng() % n);
        w[2] = FSYM_RODATA + 0x20000 + 32 * (rng() % 64);           /* itab */
        w[3] = ARENA + 1024 * (rng() % n) + 8;
        obj_words(s, a, w, i % 2 ? 64 : 8 + i % 57);
    }
    gohd_stackloc stk[3] = {
        {gohd_synth_cstr("main.newT"), gohd_synth_cstr("/src/main.go"), 42},
        {gohd_synth_cstr(""), gohd_synth_cstr(""), 0},
        {gohd_synth_cstr("main.main"), gohd_synth_cstr("/src/\x1b]0;x\x07.go"), UINT64_MAX},
    };
    for (size_t b = 0; b < 16; b++) {
        gohd_record m = {.tag = GOHD_MEMPROF};
        m.u.memprof.bucket = 0x1000 + b;
        m.u.memprof.size = 1024;
        m.u.memprof.nstk = b % 4;
        m.u.memprof.stack = stk;
        m.u.memprof.allocs = b;
        gohd_synth_record(s, &m);
    }
    for (size_t i = 0; i < n + 100; i++) {
        gohd_record a = {.tag = GOHD_ALLOC_SAMPLE};
        a.u.alloc_sample.obj = ARENA + 1024 * i + (i % 3);
        a.u.alloc_sample.bucket = 0x1000 + (i % 20);                /* some buckets missing */
        gohd_synth_record(s, &a);
    }
    root_global(s, ARENA);
}

/* A sync.Map-sized global, an anonymous static and a slice global all pointing into one big
 * strongly connected blob, with the user's containers named on the command line. */
static void gen_globals(gohd_synth *s)
{
    size_t n = N(100000);
    start(s, "go1.19.8", ARENA, ARENA + 48 * n + 4096);
    for (size_t i = 0; i < n; i++) {
        uint64_t w[6] = {ARENA + 48 * ((i + 1) % n), ARENA + 48 * (rng() % n), 0,
                         FSYM_G_STORE, FSYM_G_ANON + 8 * (i % 64), 0};
        if (i % 5 == 0)
            w[2] = FSYM_FN_FUNC1;
        obj_words(s, ARENA + 48 * i, w, 6);
    }
    uint64_t store[5] = {ARENA, ARENA + 48, 0, ARENA + 96, 0};
    global_words(s, GOHD_BSS, FSYM_G_STORE, store, 5);
    uint64_t slice[3] = {ARENA + 48 * (n / 2), n, n};
    global_words(s, GOHD_BSS, FSYM_G_SLICE, slice, 3);
    size_t nt = 4096;
    uint64_t *table = calloc(nt, sizeof *table);
    if (!table) {
        s->failed = 1;
        return;
    }
    for (size_t i = 0; i < nt; i++)
        table[i] = ARENA + 48 * (rng() % n);
    global_words(s, GOHD_BSS, FSYM_G_TABLE, table, nt);
    free(table);
    uint64_t anon[64];
    for (size_t i = 0; i < 64; i++)
        anon[i] = i % 2 ? ARENA + 48 * i : FSYM_G_ANON + 8 * ((i + 1) % 64);
    global_words(s, GOHD_BSS, FSYM_G_ANON, anon, 64);
}

typedef struct hcase {
    const char *name;
    void (*gen)(gohd_synth *s);
} hcase;

static const hcase cases[] = {
    {"chain", gen_chain},         {"fanin", gen_fanin},     {"fanout", gen_fanout},
    {"cycles", gen_cycles},       {"finalizers", gen_finalizers}, {"overlap", gen_overlap},
    {"interior", gen_interior},   {"absurd", gen_absurd},   {"stacks", gen_stacks},
    {"types", gen_types},         {"globals", gen_globals}, {"wrap", gen_wrap},
};

static int write_all(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int rc = hs_fd_write(&fd, p, n);
    if (close(fd) < 0)
        rc = -1;
    return rc < 0 ? -1 : 0;
}

/* Wraps the dump and the made-up symtab in a .hsd file. */
static int write_hsd(const char *path, const gohd_synth *s, const symtab *t)
{
    hs_mem_sink sym = {0}, out = {0};
    hs_error err;
    hsd_writer *w = NULL;
    hsd_writer_options o = {.chunk_size = 256 << 10};
    int rc = symtab_encode(t, (hs_writer){hs_mem_write, &sym}, &err);
    if (rc >= 0)
        rc = hsd_writer_new((hs_writer){hs_mem_write, &out}, &o, &w, &err);
    if (rc >= 0)
        rc = hsd_writer_section(w, HSD_SEC_META, "meta", "{\"pid\":1,\"exe\":\"hostile\"}", 25,
                                &err);
    if (rc >= 0)
        rc = hsd_writer_section(w, HSD_SEC_SYMTAB, "hostile", sym.data, sym.len, &err);
    if (rc >= 0)
        rc = hsd_writer_section(w, HSD_SEC_HEAPDUMP, "heapdump", s->data, s->len, &err);
    if (rc >= 0)
        rc = hsd_writer_finish(w, &err);
    if (rc >= 0)
        rc = write_all(path, out.data, out.len);
    else
        fprintf(stderr, "gen_hostile: %s: %s\n", path, err.msg);
    hsd_writer_free(w);
    hs_mem_sink_release(&sym);
    hs_mem_sink_release(&out);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int raw_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            scale_div = 1000;
        else if (!strcmp(argv[i], "--raw"))
            raw_only = 1;
        else if (!dir)
            dir = argv[i];
        else
            dir = NULL, i = argc;
    }
    if (!dir) {
        fprintf(stderr, "usage: gen_hostile OUTDIR [--small] [--raw]\n");
        return 2;
    }
    symtab *t = fuzz_synth_symtab();
    if (!t)
        return 1;
    int rc = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gohd_synth s;
        rng_state = 1 + i;
        cases[i].gen(&s);
        gohd_synth_eof(&s);
        if (s.failed) {
            fprintf(stderr, "gen_hostile: %s: out of memory\n", cases[i].name);
            gohd_synth_release(&s);
            rc = 1;
            continue;
        }
        char path[4096];
        /* Raw dumps: every one with --raw, else two (chain and absurd) next to the .hsd files. */
        if (raw_only || i == 0 || cases[i].gen == gen_absurd) {
            snprintf(path, sizeof path, "%s/hostile-%s.dump", dir, cases[i].name);
            if (write_all(path, s.data, s.len) < 0) {
                fprintf(stderr, "gen_hostile: %s: %s\n", path, strerror(errno));
                rc = 1;
            }
        }
        if (!raw_only) {
            snprintf(path, sizeof path, "%s/hostile-%s.hsd", dir, cases[i].name);
            if (write_hsd(path, &s, t) < 0)
                rc = 1;
        }
        gohd_synth_release(&s);
    }
    symtab_free(t);
    return rc;
}
