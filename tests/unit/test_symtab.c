/* Unit tests for symtab (lookups, anonymous statics, encode/decode, hostile encodings) and
 * gotype (descriptor decoding from a hand-built type area). */
#include <stdlib.h>

#include "check.h"
#include "gotype.h"
#include "symtab.h"

static int add(symtab *t, int kind, uint64_t addr, uint64_t size, const char *name)
{
    return symtab_add(t, kind, addr, size, name, strlen(name), NULL);
}

/* A small table: text 0x1000-0x2000, noptrdata 0x5000-0x5100, data 0x6000-0x6100,
 * bss 0x7000-0x7200, noptrbss 0x8000-0x8080, rodata 0x3000-0x4000. */
static symtab *make_table(void)
{
    symtab *t = symtab_new();
    CHECK(t != NULL);
    symtab_info *in = symtab_info_mut(t);
    snprintf(in->go_version, sizeof in->go_version, "go1.19.8");
    snprintf(in->build_id, sizeof in->build_id, "abc/def");
    snprintf(in->goarch, sizeof in->goarch, "amd64");
    in->ptr_size = 8;
    in->text = (symtab_range){0x1000, 0x2000};
    in->rodata = (symtab_range){0x3000, 0x4000};
    in->noptrdata = (symtab_range){0x5000, 0x5100};
    in->data = (symtab_range){0x6000, 0x6100};
    in->bss = (symtab_range){0x7000, 0x7200};
    in->noptrbss = (symtab_range){0x8000, 0x8080};
    in->types = (symtab_range){0x3000, 0x3100};
    /* added out of order on purpose */
    CHECK(add(t, SYMTAB_FUNC, 0x1100, 0x40, "main.b") == HS_OK);
    CHECK(add(t, SYMTAB_FUNC, 0x1000, 0x80, "main.a") == HS_OK);
    CHECK(add(t, SYMTAB_FUNC, 0x1200, 0, "main.c") == HS_OK);     /* size unknown */
    CHECK(add(t, SYMTAB_FUNC, 0x1300, 0, "main.last") == HS_OK);  /* last, size unknown */
    CHECK(add(t, SYMTAB_FUNC, 0x1000, 0, "runtime.text") == HS_OK); /* marker duplicate */
    CHECK(add(t, SYMTAB_DATA, 0x6010, 8, "main.registry") == HS_OK);
    CHECK(add(t, SYMTAB_DATA, 0x6040, 16, "main.greeting") == HS_OK);
    CHECK(add(t, SYMTAB_DATA, 0x5000, 0x100, "main.table") == HS_OK);
    CHECK(add(t, SYMTAB_BSS, 0x7000, 0x20, "main.keep") == HS_OK);
    CHECK(add(t, SYMTAB_BSS, 0x7100, 0x10, "main.sink") == HS_OK);
    CHECK(add(t, SYMTAB_RODATA, 0x3800, 0x20, "go.itab.*main.T,main.I") == HS_OK);
    /* names need not be NUL-terminated: only namelen bytes are copied */
    CHECK(symtab_add(t, SYMTAB_BSS, 0x8000, 8, "main.counterXYZ", 12, NULL) == HS_OK);
    static const uint8_t area[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CHECK(symtab_set_types(t, 0x3000, area, sizeof area, NULL) == HS_OK);
    hs_error e;
    CHECK(symtab_finish(t, &e) == HS_OK);
    return t;
}

static void test_lookups(void)
{
    symtab *t = make_table();
    CHECK_EQ_U64(symtab_count(t, SYMTAB_FUNC), 4); /* the marker duplicate is dropped */
    CHECK_EQ_U64(symtab_count(t, SYMTAB_DATA), 3);
    CHECK_EQ_U64(symtab_count(t, SYMTAB_BSS), 3);
    CHECK_EQ_U64(symtab_count(t, SYMTAB_RODATA), 1);
    CHECK_EQ_U64(symtab_count(t, 0), 0);
    CHECK_STR(symtab_get(t, SYMTAB_FUNC, 0)->name, "main.a");
    CHECK_EQ_U64(symtab_get(t, SYMTAB_FUNC, 0)->size, 0x80);
    CHECK_STR(symtab_get(t, SYMTAB_FUNC, 3)->name, "main.last");
    CHECK(symtab_get(t, SYMTAB_FUNC, 4) == NULL);
    CHECK_STR(symtab_get(t, SYMTAB_BSS, 2)->name, "main.counter");

    /* symtab_func_at */
    CHECK(symtab_func_at(t, 0xfff) == NULL);
    CHECK_STR(symtab_func_at(t, 0x1000)->name, "main.a");
    CHECK_STR(symtab_func_at(t, 0x107f)->name, "main.a");
    CHECK(symtab_func_at(t, 0x1080) == NULL); /* past main.a's size, before main.b */
    CHECK_STR(symtab_func_at(t, 0x1100)->name, "main.b");
    CHECK(symtab_func_at(t, 0x1140) == NULL);
    CHECK_STR(symtab_func_at(t, 0x1200)->name, "main.c");
    CHECK_STR(symtab_func_at(t, 0x12ff)->name, "main.c"); /* size 0: up to main.last */
    CHECK_STR(symtab_func_at(t, 0x1fff)->name, "main.last"); /* up to the end of text */
    CHECK(symtab_func_at(t, 0x2000) == NULL);
    /* symtab_func_entry: exact entries only */
    CHECK_STR(symtab_func_entry(t, 0x1100)->name, "main.b");
    CHECK(symtab_func_entry(t, 0x1101) == NULL);
    CHECK(symtab_func_entry(t, 0x0) == NULL);
    CHECK_STR(symtab_func_entry(t, 0x1300)->name, "main.last");

    /* symtab_data_at: symbols first */
    symtab_sym anon;
    const symtab_sym *s = symtab_data_at(t, 0x6014, &anon);
    CHECK(s && s != &anon && !s->anonymous);
    CHECK_STR(s ? s->name : NULL, "main.registry");
    CHECK(s && s->kind == SYMTAB_DATA);
    s = symtab_data_at(t, 0x3810, &anon);
    CHECK_STR(s ? s->name : NULL, "go.itab.*main.T,main.I");
    CHECK(s && s->kind == SYMTAB_RODATA);
    /* a gap inside bss between main.keep and main.sink: an anonymous static */
    s = symtab_data_at(t, 0x70a0, &anon);
    CHECK(s == &anon);
    CHECK(anon.anonymous == 1);
    CHECK_EQ_U64(anon.addr, 0x7020);
    CHECK_EQ_U64(anon.size, 0xe0);
    CHECK(anon.kind == SYMTAB_BSS);
    CHECK_STR(anon.name, "bss.anon+0x20");
    /* gaps at the start and end of data */
    s = symtab_data_at(t, 0x6000, &anon);
    CHECK(s == &anon && anon.addr == 0x6000 && anon.size == 0x10 && anon.kind == SYMTAB_DATA);
    CHECK_STR(anon.name, "data.anon+0x0");
    s = symtab_data_at(t, 0x60ff, &anon);
    CHECK(s == &anon && anon.addr == 0x6050 && anon.size == 0xb0);
    CHECK_STR(anon.name, "data.anon+0x50");
    s = symtab_data_at(t, 0x8050, &anon);
    CHECK(s == &anon && anon.addr == 0x8008 && anon.size == 0x78);
    CHECK_STR(anon.name, "noptrbss.anon+0x8");
    /* outside every data section, and no anon buffer */
    CHECK(symtab_data_at(t, 0x9000, &anon) == NULL);
    CHECK(symtab_data_at(t, 0x1000, &anon) == NULL);
    CHECK(symtab_data_at(t, 0x70a0, NULL) == NULL);
    /* noptrdata is fully covered by main.table: no anonymous statics there */
    CHECK_STR(symtab_data_at(t, 0x50ff, &anon)->name, "main.table");

    uint64_t base;
    size_t len;
    const uint8_t *types = symtab_types(t, &base, &len);
    CHECK(types && base == 0x3000 && len == 16 && types[15] == 16);
    CHECK(symtab_add(t, SYMTAB_FUNC, 0x1, 1, "late", 4, NULL) == HS_ERR_ARG);
    symtab_free(t);
    symtab_free(NULL);
}

static int encode(const symtab *t, hs_mem_sink *sink)
{
    hs_writer w = {hs_mem_write, sink};
    return symtab_encode(t, w, NULL);
}

static void check_same(const symtab *a, const symtab *b)
{
    const symtab_info *x = symtab_get_info(a), *y = symtab_get_info(b);
    CHECK_STR(x->go_version, y->go_version);
    CHECK_STR(x->build_id, y->build_id);
    CHECK_STR(x->goarch, y->goarch);
    CHECK(x->ptr_size == y->ptr_size && x->stripped == y->stripped);
    CHECK(x->addcleanup == y->addcleanup);
    CHECK(memcmp(&x->text, &y->text, sizeof x->text) == 0);
    CHECK(memcmp(&x->bss, &y->bss, sizeof x->bss) == 0);
    CHECK(memcmp(&x->noptrbss, &y->noptrbss, sizeof x->bss) == 0);
    CHECK(memcmp(&x->types, &y->types, sizeof x->types) == 0);
    for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
        CHECK_EQ_U64(symtab_count(a, k), symtab_count(b, k));
        for (size_t i = 0; i < symtab_count(a, k) && i < symtab_count(b, k); i++) {
            const symtab_sym *p = symtab_get(a, k, i), *q = symtab_get(b, k, i);
            CHECK(p->addr == q->addr && p->size == q->size && p->kind == q->kind);
            CHECK_STR(p->name, q->name);
        }
    }
    uint64_t ba, bb;
    size_t la, lb;
    const uint8_t *ta = symtab_types(a, &ba, &la), *tb = symtab_types(b, &bb, &lb);
    CHECK(ba == bb && la == lb && (la == 0 || memcmp(ta, tb, la) == 0));
}

static void test_roundtrip(void)
{
    symtab *t = make_table();
    symtab_info_mut(t)->stripped = 1;
    hs_mem_sink sink = {0};
    CHECK(encode(t, &sink) == HS_OK);
    CHECK(sink.len > 8 && memcmp(sink.data, "HSSYMTAB", 8) == 0);
    symtab *d = NULL;
    hs_error e;
    CHECK(symtab_decode(sink.data, sink.len, &d, &e) == HS_OK);
    if (d) {
        check_same(t, d);
        symtab_sym anon;
        const symtab_sym *s = symtab_data_at(d, 0x70a0, &anon);
        CHECK(s == &anon);
        CHECK_STR(anon.name, "bss.anon+0x20");
        CHECK_STR(symtab_func_at(d, 0x12ff)->name, "main.c");
        /* encoding is deterministic: re-encoding the decoded table gives the same bytes */
        hs_mem_sink again = {0};
        CHECK(encode(d, &again) == HS_OK);
        CHECK(again.len == sink.len && memcmp(again.data, sink.data, sink.len) == 0);
        hs_mem_sink_release(&again);
    }
    symtab_free(d);

    /* an empty table round-trips too */
    symtab *empty = symtab_new();
    CHECK(symtab_finish(empty, NULL) == HS_OK);
    hs_mem_sink es = {0};
    CHECK(encode(empty, &es) == HS_OK);
    CHECK(symtab_decode(es.data, es.len, &d, NULL) == HS_OK);
    CHECK(d && symtab_count(d, SYMTAB_FUNC) == 0 && symtab_types(d, NULL, NULL) == NULL);
    symtab_free(d);
    hs_mem_sink_release(&es);
    symtab_free(empty);

    /* an unfinished table cannot be encoded */
    symtab *raw = symtab_new();
    hs_mem_sink rs = {0};
    CHECK(encode(raw, &rs) == HS_ERR_ARG);
    hs_mem_sink_release(&rs);
    symtab_free(raw);

    /* every truncation fails cleanly, with an offset inside the input */
    for (size_t n = 0; n < sink.len; n++) {
        symtab *bad = (symtab *)1;
        hs_error_clear(&e);
        int rc = symtab_decode(sink.data, n, &bad, &e);
        CHECK(rc < 0);
        CHECK(bad == NULL);
        CHECK(e.status == rc && e.msg[0] != '\0');
        CHECK(e.offset <= n);
    }
    /* every single-byte flip either fails cleanly or decodes to a finished table */
    uint8_t *buf = malloc(sink.len);
    int failures = 0;
    for (size_t i = 0; i < sink.len; i++) {
        static const uint8_t masks[] = {0xff, 0x80, 0x01};
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(buf, sink.data, sink.len);
            buf[i] ^= masks[m];
            symtab *bad = NULL;
            hs_error_clear(&e);
            int rc = symtab_decode(buf, sink.len, &bad, &e);
            if (rc < 0) {
                failures++;
                CHECK(bad == NULL && e.status == rc && e.offset <= sink.len);
            } else {
                CHECK(bad != NULL);
                /* a decoded table answers lookups without trouble */
                symtab_sym anon;
                (void)symtab_func_at(bad, 0x1200);
                (void)symtab_data_at(bad, 0x70a0, &anon);
                symtab_free(bad);
            }
        }
    }
    CHECK(failures > 0);
    /* a flipped magic byte or version is always refused */
    memcpy(buf, sink.data, sink.len);
    buf[0] ^= 0x20;
    CHECK(symtab_decode(buf, sink.len, &d, &e) == HS_ERR_FORMAT && e.offset == 0);
    memcpy(buf, sink.data, sink.len);
    buf[8] = 4; /* format version 4 */
    CHECK(symtab_decode(buf, sink.len, &d, &e) == HS_ERR_UNSUPPORTED && e.offset == 8);
    buf[8] = 0;
    CHECK(symtab_decode(buf, sink.len, &d, &e) == HS_ERR_UNSUPPORTED && e.offset == 8);
    /* trailing garbage is refused */
    uint8_t *longer = malloc(sink.len + 1);
    memcpy(longer, sink.data, sink.len);
    longer[sink.len] = 0;
    CHECK(symtab_decode(longer, sink.len + 1, &d, &e) == HS_ERR_FORMAT);
    CHECK_EQ_U64(e.offset, sink.len);
    free(longer);
    free(buf);
    hs_mem_sink_release(&sink);
    symtab_free(t);
}

/* Hand-written hostile encodings: a huge symbol count must not allocate, varints must not
 * overflow. */
static void test_hostile(void)
{
    static const uint8_t head[] = {'H', 'S', 'S', 'Y', 'M', 'T', 'A', 'B', 1, 0,
                                   0, 0, 0, 8,                 /* strings, ptr size */
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* 7 ranges */
    uint8_t buf[64];
    memcpy(buf, head, sizeof head);
    size_t n = sizeof head;
    /* function count 2^56 */
    static const uint8_t huge[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    memcpy(buf + n, huge, sizeof huge);
    symtab *t = NULL;
    hs_error e;
    CHECK(symtab_decode(buf, n + sizeof huge, &t, &e) == HS_ERR_FORMAT);
    CHECK_EQ_U64(e.offset, n);
    /* an 11-byte varint */
    memset(buf + n, 0xff, 10);
    buf[n + 10] = 0x01;
    CHECK(symtab_decode(buf, n + 11, &t, &e) == HS_ERR_FORMAT);
    CHECK_EQ_U64(e.offset, n);
    /* pointer size 3 */
    memcpy(buf, head, sizeof head);
    buf[13] = 3;
    CHECK(symtab_decode(buf, sizeof head, &t, &e) == HS_ERR_FORMAT);
    CHECK_EQ_U64(e.offset, 13);
    /* a go version longer than the field */
    memcpy(buf, head, sizeof head);
    buf[10] = 64;
    CHECK(symtab_decode(buf, sizeof head, &t, &e) == HS_ERR_FORMAT);
    CHECK_EQ_U64(e.offset, 10);
    CHECK(t == NULL);
    CHECK(symtab_decode(NULL, 0, &t, &e) == HS_ERR_TRUNCATED);
}

/* Writes a little-endian value. */
static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A type area at 0x400000 with main.T (struct, 24 bytes) at +0x40, *main.T at +0x80 (its
 * name stored as "**main.T" with the extra-star flag, as the linker writes it) and names at
 * +0x100. */
static symtab *make_types(uint8_t *area, size_t len, const char *version)
{
    memset(area, 0, len);
    const uint64_t base = 0x400000;
    /* names: flag byte, varint length, bytes */
    static const char n1[] = "main.T", n2[] = "**main.T";
    area[0x100] = 1;
    area[0x101] = sizeof n1 - 1;
    memcpy(area + 0x102, n1, sizeof n1 - 1);
    area[0x110] = 1;
    area[0x111] = sizeof n2 - 1;
    memcpy(area + 0x112, n2, sizeof n2 - 1);
    uint8_t *t1 = area + 0x40;
    put(t1, 24, 8);       /* size */
    put(t1 + 8, 16, 8);   /* ptrdata */
    t1[20] = 1 | 4;       /* uncommon, named */
    t1[21] = t1[22] = 8;  /* align, field align */
    t1[23] = 25;          /* struct */
    put(t1 + 40, 0x100, 4);
    uint8_t *t2 = area + 0x80;
    put(t2, 8, 8);
    put(t2 + 8, 8, 8);
    t2[20] = 2; /* extra star */
    t2[21] = t2[22] = 8;
    t2[23] = 22 | 32; /* pointer | direct iface */
    put(t2 + 40, 0x110, 4);
    put(t2 + 48, base + 0x40, 8); /* elem */
    symtab *t = symtab_new();
    snprintf(symtab_info_mut(t)->go_version, 64, "%s", version);
    CHECK(symtab_set_types(t, base, area, len, NULL) == HS_OK);
    CHECK(symtab_finish(t, NULL) == HS_OK);
    return t;
}

static void test_gotype(void)
{
    uint8_t area[0x200];
    symtab *t = make_types(area, sizeof area, "go1.19.8");
    gotype g;
    hs_error e;
    CHECK(gotype_is_type_addr(t, 0x400040) == 1);
    CHECK(gotype_is_type_addr(t, 0x400200) == 0);
    CHECK(gotype_read(t, 0x400040, &g, &e) == HS_OK);
    CHECK_STR(g.name, "main.T");
    CHECK(g.size == 24 && g.ptrdata == 16 && g.kind == GOTYPE_KIND_STRUCT && g.elem == 0);
    CHECK(gotype_read(t, 0x400080, &g, &e) == HS_OK);
    CHECK_STR(g.name, "*main.T"); /* extra star dropped */
    CHECK(g.kind == GOTYPE_KIND_PTR && g.elem == 0x400040 && g.addr == 0x400080);
    CHECK(gotype_read(t, 0x3fffff, &g, &e) == HS_ERR_NOTFOUND);
    CHECK(gotype_read(t, 0x400200, &g, &e) == HS_ERR_NOTFOUND);
    CHECK(gotype_read(t, 0x400044, &g, &e) == HS_ERR_FORMAT); /* misaligned */
    CHECK(gotype_read(t, 0x4001e0, &g, &e) == HS_ERR_FORMAT); /* runs past the end */
    CHECK(gotype_read(t, 0x400000, &g, &e) == HS_ERR_FORMAT); /* zeros: kind 0 */
    symtab_free(t);

    /* corruptions of main.T / *main.T, each refused with HS_ERR_FORMAT */
    struct {
        size_t off;
        uint8_t val;
        uint64_t addr;
    } bad[] = {
        {0x40 + 23, 27, 0x400040},   /* kind 27 */
        {0x40 + 8, 200, 0x400040},   /* ptrdata > size */
        {0x40 + 21, 3, 0x400040},    /* alignment 3 */
        {0x40 + 43, 0x80, 0x400040}, /* negative name offset */
        {0x40 + 41, 0x02, 0x400040}, /* name offset 0x200: past the area */
        {0x101, 0x7f, 0x400040},     /* name length past the area */
        {0x101, 0, 0x400040},        /* empty name */
        {0x103, '\n', 0x400040},     /* control byte in the name */
        {0x80 + 50, 0x50, 0x400080}, /* elem outside the area */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = make_types(area, sizeof area, "go1.19.8");
        uint64_t base;
        size_t len;
        uint8_t *a = (uint8_t *)symtab_types(t, &base, &len);
        a[bad[i].off] = bad[i].val;
        hs_error_clear(&e);
        int rc = gotype_read(t, bad[i].addr, &g, &e);
        if (rc != HS_ERR_FORMAT)
            fprintf(stderr, "corruption %zu: rc %d\n", i, rc);
        CHECK(rc == HS_ERR_FORMAT && e.msg[0] != '\0');
        symtab_free(t);
    }
    /* a name-length varint that never ends */
    t = make_types(area, sizeof area, "go1.19.8");
    uint8_t *a = (uint8_t *)symtab_types(t, NULL, NULL);
    memset(a + 0x101, 0xff, 0xff);
    CHECK(gotype_read(t, 0x400040, &g, &e) == HS_ERR_FORMAT);
    symtab_free(t);
    /* Go < 1.17 names: flag byte and a 2-byte big-endian length */
    t = make_types(area, sizeof area, "go1.16.15");
    a = (uint8_t *)symtab_types(t, NULL, NULL);
    a[0x101] = 0;
    a[0x102] = 6;
    memcpy(a + 0x103, "main.U", 6);
    CHECK(gotype_read(t, 0x400040, &g, &e) == HS_OK);
    CHECK_STR(g.name, "main.U");
    symtab_free(t);
    /* no type area at all */
    t = symtab_new();
    CHECK(symtab_finish(t, NULL) == HS_OK);
    CHECK(gotype_is_type_addr(t, 0x400040) == 0);
    CHECK(gotype_read(t, 0x400040, &g, &e) == HS_ERR_NOTFOUND);
    symtab_free(t);
}

/* A name longer than the format allows is cut on add, and the table still round-trips. */
struct found_list {
    uint64_t *addrs;
    size_t *n;
};

/* gotype_structs_named's callback for the test: collects up to 4 addresses. */
static int collect_struct(void *ctx, const gotype *g)
{
    struct found_list *l = ctx;
    if (*l->n < 4)
        l->addrs[(*l->n)++] = g->addr;
    return HS_OK;
}

/* Puts a name record (flag byte, one-byte length, bytes) at area + off. */
static void put_name(uint8_t *area, size_t off, const char *text)
{
    area[off] = 1;
    area[off + 1] = (uint8_t)strlen(text);
    memcpy(area + off + 2, text, strlen(text));
}

/* A closure's struct type, found by its name only: "struct { F uintptr; x *int; s string }"
 * at +0x40 (name record with the extra star, fields at +0x100), beside a pointer type at +0xc0
 * sharing that name record and a string merely containing the text at +0x300. */
static void test_gotype_closure_struct(void)
{
    uint8_t area[0x400];
    memset(area, 0, sizeof area);
    const uint64_t base = 0x400000;
    static const char closure[] = "*struct { F uintptr; x *int; s string }";
    put_name(area, 0x200, closure);
    put_name(area, 0x240, ".F");
    put_name(area, 0x250, "x");
    put_name(area, 0x260, "s");
    memcpy(area + 0x300, "xx struct { F uintptr; y int }", 30);
    uint8_t *t = area + 0x40;
    put(t, 32, 8);        /* size */
    put(t + 8, 24, 8);    /* ptrdata */
    t[20] = 2;            /* extra star */
    t[21] = t[22] = 8;
    t[23] = 25;           /* struct */
    put(t + 40, 0x200, 4);
    put(t + 56, base + 0x100, 8); /* fields */
    put(t + 64, 3, 8);            /* len */
    put(t + 72, 3, 8);            /* cap */
    uint8_t *p = area + 0xc0;     /* a pointer type named by the same record */
    put(p, 8, 8);
    put(p + 8, 8, 8);
    p[21] = p[22] = 8;
    p[23] = 22;
    put(p + 40, 0x200, 4);
    put(p + 48, base + 0x40, 8);
    static const uint64_t fields[3][3] = {{0x240, 0x80, 0}, {0x250, 0xc0, 8}, {0x260, 0x80, 16}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            put(area + 0x100 + i * 24 + j * 8, fields[i][j] + (j < 2 ? base : 0), 8);
    symtab *st = symtab_new();
    snprintf(symtab_info_mut(st)->go_version, 64, "go1.19.8");
    CHECK(symtab_set_types(st, base, area, sizeof area, NULL) == HS_OK);
    CHECK(symtab_finish(st, NULL) == HS_OK);

    uint64_t found[4];
    size_t nfound = 0;
    CHECK(gotype_structs_named(st, "struct { F uintptr; ", collect_struct,
                               &(struct found_list){found, &nfound}, NULL) == HS_OK);
    CHECK(nfound == 1 && found[0] == base + 0x40);
    uint64_t n = 0;
    gotype_field f;
    CHECK(gotype_struct_field(st, base + 0x40, 1, &n, &f, NULL) == HS_OK);
    CHECK(n == 3 && f.name_len == 1 && f.name[0] == 'x' && f.type == base + 0xc0 &&
          f.offset == 8);
    CHECK(gotype_struct_field(st, base + 0x40, 3, &n, &f, NULL) == HS_ERR_NOTFOUND);
    /* hostile: a field count past the area, a fields pointer outside it */
    put(area + 0x40 + 64, 1u << 30, 8);
    CHECK(symtab_set_types(st, base, area, sizeof area, NULL) == HS_OK);
    CHECK(gotype_struct_field(st, base + 0x40, 0, &n, &f, NULL) == HS_ERR_FORMAT);
    put(area + 0x40 + 64, 3, 8);
    put(area + 0x40 + 56, base + 0x10000, 8);
    CHECK(symtab_set_types(st, base, area, sizeof area, NULL) == HS_OK);
    CHECK(gotype_struct_field(st, base + 0x40, 0, &n, &f, NULL) == HS_ERR_FORMAT);
    symtab_free(st);
}

static void test_long_name(void)
{
    size_t n = 70000;
    char *name = malloc(n);
    memset(name, 'x', n);
    symtab *t = symtab_new();
    CHECK(symtab_add(t, SYMTAB_FUNC, 0x1000, 16, name, n, NULL) == HS_OK);
    CHECK(symtab_finish(t, NULL) == HS_OK);
    CHECK_EQ_U64(strlen(symtab_get(t, SYMTAB_FUNC, 0)->name), 65535);
    hs_mem_sink sink = {0};
    CHECK(encode(t, &sink) == HS_OK);
    symtab *d = NULL;
    CHECK(symtab_decode(sink.data, sink.len, &d, NULL) == HS_OK);
    CHECK(d && strlen(symtab_func_entry(d, 0x1000)->name) == 65535);
    symtab_free(d);
    symtab_free(t);
    hs_mem_sink_release(&sink);
    free(name);
}

/* Go versions as runtime.Version() and .go.buildinfo spell them. */
static void test_go_version(void)
{
    static const struct {
        const char *text;
        int ok, major, minor, patch, prerelease, devel;
    } cases[] = {
        {"go1.19.8", 1, 1, 19, 8, 0, 0},
        {"go1.26.8", 1, 1, 26, 8, 0, 0},
        {"go1.27.3", 1, 1, 27, 3, 0, 0},
        {"go1.20", 1, 1, 20, 0, 0, 0},
        {"go1", 1, 1, 0, 0, 0, 0},
        {"go1.24rc1", 1, 1, 24, 0, 1, 0},
        {"go1.18beta2", 1, 1, 18, 0, 1, 0},
        {"go1.9.2rc2", 1, 1, 9, 2, 1, 0},
        {"go1.21.0 X:loopvar", 1, 1, 21, 0, 0, 0},
        {"go1.22.1-X:nocoverageredesign", 1, 1, 22, 1, 0, 0},
        {"go1.19.5b7", 1, 1, 19, 5, 0, 0}, /* BoringCrypto */
        {"devel go1.27-1a2b3c4d Tue Jan 6 10:00:00 2026 +0000", 1, 1, 27, 0, 0, 1},
        {"devel +abc123 Tue Jan 6 10:00:00 2026 +0000", 0, 0, 0, 0, 0, 0},
        {"", 0, 0, 0, 0, 0, 0},
        {"gox", 0, 0, 0, 0, 0, 0},
        {"cargo1.2", 0, 0, 0, 0, 0, 0},
        {"go1.x", 0, 0, 0, 0, 0, 0},
        {"go1.1234567890", 0, 0, 0, 0, 0, 0},
        {"go1.26.", 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        symtab_go_version v;
        hs_error e;
        hs_error_clear(&e);
        int rc = symtab_go_version_parse(cases[i].text, &v, &e);
        if ((rc == HS_OK) != cases[i].ok)
            fprintf(stderr, "go version \"%s\": rc %d\n", cases[i].text, rc);
        CHECK((rc == HS_OK) == cases[i].ok);
        if (rc != HS_OK) {
            CHECK(rc == HS_ERR_FORMAT && e.msg[0] && e.offset <= strlen(cases[i].text));
            CHECK(symtab_go_minor(cases[i].text) == -1);
            continue;
        }
        CHECK(v.major == cases[i].major && v.minor == cases[i].minor &&
              v.patch == cases[i].patch);
        CHECK(v.prerelease == cases[i].prerelease && v.devel == cases[i].devel);
        CHECK(symtab_go_minor(cases[i].text) == cases[i].minor);
    }
    CHECK(symtab_go_minor("go2.1.0") == -1);
    CHECK(symtab_go_minor(NULL) == -1);
    symtab_go_version v;
    CHECK(symtab_go_version_parse(NULL, &v, NULL) == HS_ERR_ARG);
}

/* Rewrites an encoding of a table without stack objects as format version `version` (1 or
 * 2), as it was written before version 3: no stack-object count before the end marker. */
static void downgrade(hs_mem_sink *s, uint8_t version)
{
    CHECK(s->len > 14 && s->data[8] == 3 && s->data[s->len - 5] == 0);
    CHECK(memcmp(s->data + s->len - 4, "END!", 4) == 0);
    memmove(s->data + s->len - 5, s->data + s->len - 4, 4);
    s->len--;
    s->data[8] = version;
}

/* The AddCleanup fact: derived from function names by symtab_finish, stored as flag bit 1 of
 * format version 2; version 1 sections (no such bit) still decode and derive it. */
static void test_addcleanup(void)
{
    static const struct {
        const char *name;
        int is;
    } names[] = {
        {"runtime.AddCleanup", 1},
        {"runtime.AddCleanup[go.shape.struct { main.b [64]uint8 },go.shape.int]", 1},
        {"runtime.AddCleanup[...]", 1},
        {"runtime.AddCleanup[go.shape.int,go.shape.string].func1", 0},
        {"runtime.addCleanup", 0},
        {"runtime.AddCleanupX", 0},
        {"main.AddCleanup[int]", 0},
        {"runtime.AddCleanup[go.shape.int", 0},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        symtab *t = symtab_new();
        CHECK(add(t, SYMTAB_FUNC, 0x1000, 0x10, "main.main") == HS_OK);
        CHECK(add(t, SYMTAB_FUNC, 0x1010, 0x10, names[i].name) == HS_OK);
        /* the same name as a data symbol says nothing */
        CHECK(add(t, SYMTAB_RODATA, 0x3000, 8, "runtime.AddCleanup") == HS_OK);
        CHECK(symtab_finish(t, NULL) == HS_OK);
        if (symtab_get_info(t)->addcleanup != names[i].is)
            fprintf(stderr, "addcleanup: %s\n", names[i].name);
        CHECK(symtab_get_info(t)->addcleanup == names[i].is);
        symtab_free(t);
    }

    /* version 2 keeps the bit even without the name (a producer may know more) */
    symtab *t = make_table();
    CHECK(symtab_get_info(t)->addcleanup == 0);
    symtab_info_mut(t)->addcleanup = 1;
    hs_mem_sink sink = {0};
    CHECK(encode(t, &sink) == HS_OK);
    CHECK(sink.len > 10 && sink.data[8] == 3 && sink.data[9] == 2);
    symtab *d = NULL;
    hs_error e;
    CHECK(symtab_decode(sink.data, sink.len, &d, &e) == HS_OK);
    CHECK(d && symtab_get_info(d)->addcleanup == 1);
    symtab_free(d);
    /* as version 2 wrote it */
    downgrade(&sink, 2);
    CHECK(symtab_decode(sink.data, sink.len, &d, &e) == HS_OK);
    CHECK(d && symtab_get_info(d)->addcleanup == 1);
    symtab_free(d);
    /* the same bit in a version 1 section is unknown */
    sink.data[8] = 1;
    CHECK(symtab_decode(sink.data, sink.len, &d, &e) == HS_ERR_FORMAT && e.offset == 9);
    /* a version 1 section (as written before version 2) decodes; the fact comes from the
     * names */
    sink.data[9] = 0;
    CHECK(symtab_decode(sink.data, sink.len, &d, &e) == HS_OK);
    CHECK(d && symtab_get_info(d)->addcleanup == 0);
    symtab_info_mut(t)->addcleanup = 0;
    if (d)
        check_same(t, d);
    symtab_free(d);
    hs_mem_sink_release(&sink);
    symtab_free(t);

    t = symtab_new();
    CHECK(add(t, SYMTAB_FUNC, 0x1000, 0x10, "runtime.AddCleanup[go.shape.int,go.shape.int]") ==
          HS_OK);
    CHECK(symtab_finish(t, NULL) == HS_OK);
    hs_mem_sink s1 = {0};
    CHECK(encode(t, &s1) == HS_OK);
    downgrade(&s1, 1); /* version 1: no flag bit, only the name */
    s1.data[9] = 0;
    CHECK(symtab_decode(s1.data, s1.len, &d, &e) == HS_OK);
    CHECK(d && symtab_get_info(d)->addcleanup == 1);
    symtab_free(d);
    hs_mem_sink_release(&s1);
    symtab_free(t);
}

/* Stack objects: added per function, looked up by entry, stored by format version 3. */
static void test_stack_objects(void)
{
    static const uint8_t m3[] = {0x07}, m4[] = {0x0a}, m9[] = {0x01, 0xff}, m0[1] = {0};
    static uint8_t big[2500];
    memset(big, 0xff, sizeof big);
    symtab *t = symtab_new();
    symtab_info_mut(t)->ptr_size = 8;
    CHECK(add(t, SYMTAB_FUNC, 0x1000, 0x80, "main.a") == HS_OK);
    CHECK(add(t, SYMTAB_FUNC, 0x1100, 0x40, "main.b") == HS_OK);
    const symtab_stkobj fa[] = {
        {-48, 24, 3, m3},      /* [3]*T below varp */
        {-16, 32, 4, m4},      /* struct {int; *T; int; *T} */
        {8, 80, 9, m9},        /* an argument: from argp */
        {INT32_MIN, 8, 0, m0}, /* no pointer words (the format allows it) */
    };
    const symtab_stkobj fb[] = {{-160000, 160000, 20000, big}};
    /* added out of entry order on purpose, and a second list for 0x1000 that is ignored */
    CHECK(symtab_add_stack_objects(t, 0x1100, fb, 1, NULL) == HS_OK);
    CHECK(symtab_add_stack_objects(t, 0x1000, fa, 4, NULL) == HS_OK);
    CHECK(symtab_add_stack_objects(t, 0x1000, fb, 1, NULL) == HS_OK);
    CHECK(symtab_add_stack_objects(t, 0x1200, fa, 0, NULL) == HS_OK); /* nothing */
    /* refused: more pointer words than the object has, a missing mask, too many records */
    const symtab_stkobj bad1[] = {{-8, 8, 2, m3}}, bad2[] = {{-8, 8, 1, NULL}};
    hs_error e;
    CHECK(symtab_add_stack_objects(t, 0x1300, bad1, 1, &e) == HS_ERR_FORMAT);
    CHECK(symtab_add_stack_objects(t, 0x1300, bad2, 1, &e) == HS_ERR_ARG);
    CHECK(symtab_add_stack_objects(t, 0x1300, fa, SYMTAB_STKOBJ_MAX_PER_FUNC + 1, &e) ==
          HS_ERR_LIMIT);
    CHECK(symtab_stack_objects(t, 0x1000, NULL) == NULL); /* not finished */
    CHECK(symtab_finish(t, NULL) == HS_OK);
    CHECK(symtab_add_stack_objects(t, 0x1400, fa, 1, &e) == HS_ERR_ARG);
    CHECK(symtab_get_info(t)->stack_objects == 1);
    CHECK_EQ_U64(symtab_stack_object_funcs(t), 2);
    size_t n = 99;
    const symtab_stkobj *o = symtab_stack_objects(t, 0x1000, &n);
    CHECK(o != NULL && n == 4);
    if (o && n == 4) {
        CHECK(o[0].off == -48 && o[0].size == 24 && o[0].ptr_words == 3 && o[0].mask[0] == 7);
        CHECK(o[1].off == -16 && o[1].ptr_words == 4 && o[1].mask[0] == 0x0a);
        /* bits past ptr_words are cleared on add */
        CHECK(o[2].off == 8 && o[2].ptr_words == 9 && o[2].mask[0] == 1 && o[2].mask[1] == 1);
        CHECK(o[3].off == INT32_MIN && o[3].ptr_words == 0 && o[3].mask != NULL);
    }
    o = symtab_stack_objects(t, 0x1100, &n);
    CHECK(o && n == 1 && o->ptr_words == 20000 && o->mask[2499] == 0xff && o->off == -160000);
    CHECK(symtab_stack_objects(t, 0x1001, &n) == NULL && n == 0);
    CHECK(symtab_stack_objects(t, 0x1200, &n) == NULL && n == 0);
    CHECK(symtab_stack_objects(NULL, 0x1000, &n) == NULL && n == 0);
    uint64_t entry = 0;
    CHECK(symtab_stack_objects_at(t, 1, &entry, &n) != NULL && entry == 0x1100 && n == 1);
    CHECK(symtab_stack_objects_at(t, 2, &entry, &n) == NULL && n == 0);

    /* round trip: the same records, and re-encoding gives the same bytes */
    hs_mem_sink sink = {0};
    CHECK(encode(t, &sink) == HS_OK);
    CHECK(sink.len > 10 && sink.data[8] == 3 && sink.data[9] == 4);
    symtab *d = NULL;
    CHECK(symtab_decode(sink.data, sink.len, &d, &e) == HS_OK);
    if (d) {
        CHECK(symtab_get_info(d)->stack_objects == 1);
        CHECK_EQ_U64(symtab_stack_object_funcs(d), 2);
        for (size_t i = 0; i < 2; i++) {
            uint64_t e1 = 0, e2 = 1;
            size_t n1 = 0, n2 = 1;
            const symtab_stkobj *a = symtab_stack_objects_at(t, i, &e1, &n1);
            const symtab_stkobj *b = symtab_stack_objects_at(d, i, &e2, &n2);
            CHECK(a && b && e1 == e2 && n1 == n2);
            for (size_t j = 0; a && b && j < n1 && j < n2; j++) {
                CHECK(a[j].off == b[j].off && a[j].size == b[j].size &&
                      a[j].ptr_words == b[j].ptr_words);
                CHECK(memcmp(a[j].mask, b[j].mask, (a[j].ptr_words + 7) / 8) == 0);
            }
        }
        hs_mem_sink again = {0};
        CHECK(encode(d, &again) == HS_OK);
        CHECK(again.len == sink.len && memcmp(again.data, sink.data, sink.len) == 0);
        hs_mem_sink_release(&again);
    }
    symtab_free(d);
    /* every truncation fails cleanly; every byte flip fails cleanly or decodes */
    for (size_t k = 0; k < sink.len; k++) {
        hs_error_clear(&e);
        int rc = symtab_decode(sink.data, k, &d, &e);
        CHECK(rc < 0 && d == NULL && e.offset <= k);
    }
    uint8_t *buf = malloc(sink.len);
    for (size_t i = 0; i < sink.len; i++) {
        memcpy(buf, sink.data, sink.len);
        buf[i] ^= 0x81;
        if (symtab_decode(buf, sink.len, &d, &e) == HS_OK) {
            for (size_t f = 0; f < symtab_stack_object_funcs(d); f++) {
                size_t m = 0;
                const symtab_stkobj *r = symtab_stack_objects_at(d, f, NULL, &m);
                for (size_t j = 0; j < m; j++)
                    CHECK((uint64_t)r[j].ptr_words * symtab_get_info(d)->ptr_size <=
                          r[j].size);
            }
            symtab_free(d);
        } else {
            CHECK(e.offset <= sink.len);
        }
    }
    /* hand-made block: the encoding of an empty table ends in count 0, "END!" */
    symtab *empty = symtab_new();
    CHECK(symtab_finish(empty, NULL) == HS_OK);
    CHECK(symtab_get_info(empty)->stack_objects == 0);
    hs_mem_sink es = {0};
    CHECK(encode(empty, &es) == HS_OK);
    CHECK(es.len > 13 && es.data[9] == 0 && es.data[es.len - 5] == 0);
    size_t head = es.len - 5;
    struct {
        const char *what;
        uint8_t flags;
        uint8_t block[24];
        size_t len;
        int status;
        size_t at; /* error offset from the start of the block */
    } cases[] = {
        {"one function, one record", 4, {1, 0x80, 0x20, 1, 95, 48, 6, 0x2a}, 8, HS_OK, 0},
        {"stack objects known, none", 4, {0}, 1, HS_OK, 0},
        {"functions without the flag", 0, {1, 0x80, 0x20, 1, 95, 48, 6, 0x2a}, 8,
         HS_ERR_FORMAT, 0},
        {"function count past the end", 4, {9, 0x80, 0x20, 1, 95, 48, 6, 0x2a}, 8,
         HS_ERR_FORMAT, 0},
        {"record count past the end", 4, {1, 0x80, 0x20, 3, 95, 48, 6, 0x2a}, 8, HS_ERR_FORMAT,
         3},
        {"no records", 4, {1, 0x80, 0x20, 0, 0, 0, 0, 0}, 8, HS_ERR_FORMAT, 3},
        {"mask past the end", 4, {1, 0x80, 0x20, 1, 95, 0x80, 0x03, 48}, 8, HS_ERR_TRUNCATED,
         8},
        {"bits past the words", 4, {1, 0x80, 0x20, 1, 95, 48, 6, 0x4a}, 8, HS_ERR_FORMAT, 7},
        {"more pointer words than bytes", 4, {1, 0x80, 0x20, 1, 95, 40, 6, 0x2a}, 8,
         HS_ERR_FORMAT, 4},
        {"offset beyond int32", 4, {1, 0x80, 0x20, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 48, 6, 0x2a},
         12, HS_ERR_FORMAT, 4},
        {"repeated entry", 4, {2, 0x80, 0x20, 1, 95, 48, 6, 0x2a, 0, 1, 95, 48, 6, 0x2a}, 14,
         HS_ERR_FORMAT, 8},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = head + cases[c].len + 4;
        uint8_t *in = malloc(len);
        memcpy(in, es.data, head);
        in[9] = cases[c].flags;
        memcpy(in + head, cases[c].block, cases[c].len);
        memcpy(in + head + cases[c].len, "END!", 4);
        hs_error_clear(&e);
        int rc = symtab_decode(in, len, &d, &e);
        if (rc != cases[c].status || (rc < 0 && e.offset != head + cases[c].at))
            fprintf(stderr, "stack object block \"%s\": rc %d at %llu: %s\n", cases[c].what, rc,
                    (unsigned long long)e.offset, e.msg);
        CHECK(rc == cases[c].status);
        if (rc < 0)
            CHECK_EQ_U64(e.offset, head + cases[c].at);
        if (rc == HS_OK && cases[c].len > 1) {
            o = symtab_stack_objects(d, 0x1000, &n);
            CHECK(o && n == 1 && o->off == -48 && o->size == 48 && o->ptr_words == 6 &&
                  o->mask[0] == 0x2a);
        }
        if (rc == HS_OK)
            CHECK(symtab_get_info(d)->stack_objects == 1);
        symtab_free(d);
        free(in);
    }
    /* versions 1 and 2: no block, stack objects unknown; the flag bit is unknown there */
    memcpy(buf, es.data, es.len);
    hs_mem_sink v2 = {buf, es.len, sink.len};
    downgrade(&v2, 2);
    CHECK(symtab_decode(buf, v2.len, &d, &e) == HS_OK);
    CHECK(d && symtab_get_info(d)->stack_objects == 0 && symtab_stack_object_funcs(d) == 0);
    symtab_free(d);
    buf[9] = 4;
    CHECK(symtab_decode(buf, v2.len, &d, &e) == HS_ERR_FORMAT && e.offset == 9);
    free(buf);
    hs_mem_sink_release(&es);
    symtab_free(empty);
    hs_mem_sink_release(&sink);
    symtab_free(t);
}

int main(void)
{
    test_go_version();
    test_addcleanup();
    test_lookups();
    test_roundtrip();
    test_hostile();
    test_long_name();
    test_gotype();
    test_gotype_closure_struct();
    test_stack_objects();
    return check_report();
}
