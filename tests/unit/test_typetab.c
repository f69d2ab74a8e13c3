/* test_typetab - the type table (formats/typetab.h): a hand-built table's lookups (by id,
 * name, runtime type, global address, pc), pointer masks kept and walked, typetab_mask_fits;
 * typetab_encode/typetab_decode round trips; what typetab_finish refuses; and a payload
 * written by hand from formats/TYPETAB.md, which decodes and re-encodes to the same bytes,
 * then corrupted field by field: each corruption is refused with the offset of the field or
 * record, and every cut-short prefix is refused inside the input. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "typetab.h"

enum { T_INT, T_STRING, T_PT, T_T, T_EFACE, T_ARR3, T_SLICE, T_MAP, T_HASH, T_BUCKET, T_PBUCKET,
       T_CHAN, T_ERROR, T_FUNC, T_UNSAFE, T_BIG, T_NIH, T_PNIH, T_UINT8, T_ARR0, T_COUNT };

static typetab_type ty(const char *name, int kind, uint64_t size)
{
    typetab_type t = {0};
    t.name = name;
    t.kind = (uint8_t)kind;
    t.size = size;
    t.elem = t.key = t.hdr = t.bucket = TYPETAB_NONE;
    return t;
}

static int add(typetab *t, typetab_type x, const typetab_field *f, size_t nf, uint32_t want)
{
    uint32_t id = TYPETAB_NONE;
    hs_error err;
    int rc = typetab_add_type(t, &x, f, nf, &id, &err);
    CHECK(rc == HS_OK);
    CHECK_EQ_U64(id, want);
    return rc;
}

/* The table of the enum above, plus globals and functions (added out of order). */
static typetab *build(void)
{
    typetab *t = typetab_new();
    hs_error err;
    typetab_type x;
    x = ty("int", TYPETAB_INT, 8), x.rtype = 0x2000, add(t, x, NULL, 0, T_INT);
    x = ty("string", TYPETAB_STRING, 16), x.rtype = 0x2040, add(t, x, NULL, 0, T_STRING);
    x = ty("*main.T", TYPETAB_POINTER, 8), x.elem = T_T, x.rtype = 0x1040,
    add(t, x, NULL, 0, T_PT);
    typetab_field tf[] = {{"a", 0, T_INT, 0}, {"s", 8, T_STRING, 0}, {"p", 24, T_PT, 0},
                          {"e", 32, T_EFACE, TYPETAB_F_EMBEDDED}};
    x = ty("main.T", TYPETAB_STRUCT, 48), x.rtype = 0x1000, add(t, x, tf, 4, T_T);
    add(t, ty("interface {}", TYPETAB_EFACE, 16), NULL, 0, T_EFACE);
    x = ty("[3]*main.T", TYPETAB_ARRAY, 24), x.elem = T_PT, x.len = 3, add(t, x, NULL, 0, T_ARR3);
    x = ty("[]int", TYPETAB_SLICE, 24), x.elem = T_INT, add(t, x, NULL, 0, T_SLICE);
    x = ty("map[string]*main.T", TYPETAB_MAP, 8), x.key = T_STRING, x.elem = T_PT,
    x.hdr = T_HASH, x.bucket = T_BUCKET, add(t, x, NULL, 0, T_MAP);
    typetab_field hf[] = {{"count", 0, T_INT, 0}, {"buckets", 8, T_PBUCKET, 0}};
    x = ty("hash<string,*main.T>", TYPETAB_STRUCT, 16), x.flags = TYPETAB_T_INTERNAL,
    add(t, x, hf, 2, T_HASH);
    typetab_field bf[] = {{"overflow", 0, T_PBUCKET, 0}};
    x = ty("bucket<string,*main.T>", TYPETAB_STRUCT, 8), x.flags = TYPETAB_T_INTERNAL,
    add(t, x, bf, 1, T_BUCKET);
    x = ty("*bucket<string,*main.T>", TYPETAB_POINTER, 8), x.elem = T_BUCKET,
    x.flags = TYPETAB_T_INTERNAL, add(t, x, NULL, 0, T_PBUCKET);
    x = ty("chan int", TYPETAB_CHAN, 8), x.elem = T_INT, add(t, x, NULL, 0, T_CHAN);
    add(t, ty("error", TYPETAB_IFACE, 16), NULL, 0, T_ERROR);
    add(t, ty("func()", TYPETAB_FUNC, 8), NULL, 0, T_FUNC);
    add(t, ty("unsafe.Pointer", TYPETAB_UNSAFE_POINTER, 8), NULL, 0, T_UNSAFE);
    x = ty("[100000]*main.T", TYPETAB_ARRAY, 800000), x.elem = T_PT, x.len = 100000,
    add(t, x, NULL, 0, T_BIG);
    typetab_field nf[] = {{"x", 0, T_INT, 0}};
    x = ty("runtime.nih", TYPETAB_STRUCT, 8), x.flags = TYPETAB_T_NOTINHEAP,
    add(t, x, nf, 1, T_NIH);
    x = ty("*runtime.nih", TYPETAB_POINTER, 8), x.elem = T_NIH, add(t, x, NULL, 0, T_PNIH);
    add(t, ty("uint8", TYPETAB_UINT8, 1), NULL, 0, T_UINT8);
    x = ty("[0]*main.T", TYPETAB_ARRAY, 0), x.elem = T_PT, add(t, x, NULL, 0, T_ARR0);

    CHECK(typetab_add_global(t, "main.gBig", 0x6000, T_BIG, &err) == HS_OK);
    CHECK(typetab_add_global(t, "main.gT", 0x5000, T_T, &err) == HS_OK);
    CHECK(typetab_add_global(t, "main.gInt", 0x5030, T_INT, &err) == HS_OK);
    CHECK(typetab_add_global(t, "main.gZero", 0x5038, T_ARR0, &err) == HS_OK);
    typetab_var va[] = {
        {"x", -8, 0x401010, 0x401080, 0, T_INT, TYPETAB_V_PARAM | TYPETAB_V_SLOT},
        {"y", 0, 0x401000, 0x401100, 0, T_PT, TYPETAB_V_SLOT},
        {"&c", 0, 0x401000, 0x401100, 8, T_PT, 0},
        {"x", -16, 0x401090, 0x4010a0, 0, T_INT, TYPETAB_V_PARAM | TYPETAB_V_SLOT |
                                                   TYPETAB_V_INLINED}};
    CHECK(typetab_add_func(t, "main.a", 0x401000, 0x401100, va, 4, &err) == HS_OK);
    CHECK(typetab_add_func(t, "main.b", 0x401100, 0x401200, NULL, 0, &err) == HS_OK);
    CHECK(typetab_add_func(t, "main.c", 0x400000, 0x400010, NULL, 0, &err) == HS_OK);
    typetab_info_mut(t)->types_base = 0x1000;
    strcpy(typetab_info_mut(t)->go_version, "go1.26.8");
    typetab_info_mut(t)->regabi = 1;
    CHECK(typetab_finish(t, &err) == HS_OK);
    return t;
}

static unsigned mask_bits(const typetab *t, uint32_t id)
{
    unsigned m = 0;
    const typetab_type *x = typetab_type_get(t, id);
    for (uint64_t w = 0; x && w < x->ptr_words && w < 32; w++)
        m |= (unsigned)typetab_ptr_word(t, id, w) << w;
    return m;
}

static void check_lookups(const typetab *t)
{
    CHECK_EQ_U64(typetab_type_count(t), T_COUNT);
    CHECK(typetab_type_get(t, T_COUNT) == NULL);
    const typetab_type *x = typetab_type_get(t, T_T);
    CHECK_STR(x->name, "main.T");
    CHECK_EQ_U64(x->nfields, 4);
    const typetab_field *f = typetab_field_get(t, x->first_field + 3);
    CHECK_STR(f->name, "e");
    CHECK_EQ_U64(f->offset, 32);
    CHECK_EQ_U64(f->type, T_EFACE);
    CHECK_EQ_U64(f->flags, TYPETAB_F_EMBEDDED);
    CHECK(typetab_type_by_name(t, "map[string]*main.T") == typetab_type_get(t, T_MAP));
    CHECK(typetab_type_by_name(t, "uint8") == typetab_type_get(t, T_UINT8));
    CHECK(typetab_type_by_name(t, "main.U") == NULL);
    CHECK(typetab_type_by_rtype(t, 0x1000) == x);
    CHECK(typetab_type_by_rtype(t, 0x1040) == typetab_type_get(t, T_PT));
    CHECK(typetab_type_by_rtype(t, 0x1008) == NULL);
    CHECK(typetab_type_by_rtype(t, 0) == NULL);
    const typetab_type *m = typetab_type_get(t, T_MAP);
    CHECK(m->key == T_STRING && m->elem == T_PT && m->hdr == T_HASH && m->bucket == T_BUCKET);
    CHECK_EQ_U64(typetab_type_get(t, T_HASH)->flags, TYPETAB_T_INTERNAL);

    /* pointer masks: words a, s.data, s.len, p, e.type, e.data */
    CHECK_EQ_U64(x->ptr_words, 6);
    CHECK_EQ_U64(mask_bits(t, T_T), 0x2a);
    CHECK(typetab_ptr_mask(t, T_T) && typetab_ptr_mask(t, T_T)[0] == 0x2a);
    CHECK_EQ_U64(mask_bits(t, T_EFACE), 2);
    CHECK_EQ_U64(typetab_type_get(t, T_ERROR)->ptr_words, 2);
    CHECK_EQ_U64(mask_bits(t, T_ERROR), 2);
    CHECK_EQ_U64(mask_bits(t, T_ARR3), 7);
    CHECK_EQ_U64(mask_bits(t, T_STRING), 1);
    CHECK_EQ_U64(mask_bits(t, T_SLICE), 1);
    CHECK_EQ_U64(mask_bits(t, T_MAP) & mask_bits(t, T_CHAN) & mask_bits(t, T_FUNC) &
                     mask_bits(t, T_UNSAFE), 1);
    CHECK_EQ_U64(typetab_type_get(t, T_PNIH)->ptr_words, 0);   /* not a GC pointer */
    CHECK(typetab_ptr_mask(t, T_PNIH) == NULL);
    CHECK_EQ_U64(typetab_type_get(t, T_INT)->ptr_words, 0);
    CHECK_EQ_U64(typetab_type_get(t, T_ARR0)->ptr_words, 0);
    CHECK_EQ_U64(typetab_type_get(t, T_HASH)->ptr_words, 2);
    CHECK_EQ_U64(mask_bits(t, T_HASH), 2);
    /* a mask longer than TYPETAB_MASK_MAX_WORDS is not kept, but answered */
    const typetab_type *big = typetab_type_get(t, T_BIG);
    CHECK_EQ_U64(big->ptr_words, 100000);
    CHECK(typetab_ptr_mask(t, T_BIG) == NULL);
    CHECK(typetab_ptr_word(t, T_BIG, 0) && typetab_ptr_word(t, T_BIG, 99999));
    CHECK(!typetab_ptr_word(t, T_BIG, 100000));
    CHECK(!typetab_ptr_word(t, T_COUNT, 0));

    /* mask fits: one T, two Ts, a T then a pointer, a short object */
    uint8_t one[2] = {0x2a, 0}, two[2] = {0xaa, 0x0a}, bad[2] = {0x2a, 0x01};
    CHECK(typetab_mask_fits(t, T_T, 1, one, 6));
    CHECK(typetab_mask_fits(t, T_T, 1, one, 12));
    CHECK(typetab_mask_fits(t, T_T, 2, two, 12));
    CHECK(!typetab_mask_fits(t, T_T, 1, two, 12));
    CHECK(!typetab_mask_fits(t, T_T, 1, bad, 12));
    CHECK(!typetab_mask_fits(t, T_T, 1, one, 5));
    CHECK(!typetab_mask_fits(t, T_T, 3, two, 12));
    CHECK(typetab_mask_fits(t, T_INT, 4, one + 1, 4));
    uint8_t bigmask[100000 / 8];
    memset(bigmask, 0xff, sizeof bigmask);
    CHECK(typetab_mask_fits(t, T_BIG, 1, bigmask, 100000));
    bigmask[5000] = 0xfe;
    CHECK(!typetab_mask_fits(t, T_BIG, 1, bigmask, 100000));

    /* globals by address: inside, at the edges, the zero-size one, outside */
    CHECK_EQ_U64(typetab_global_count(t), 4);
    CHECK_STR(typetab_global_get(t, 0)->name, "main.gT");
    CHECK_STR(typetab_global_at(t, 0x5000)->name, "main.gT");
    CHECK_STR(typetab_global_at(t, 0x502f)->name, "main.gT");
    CHECK_STR(typetab_global_at(t, 0x5030)->name, "main.gInt");
    CHECK_STR(typetab_global_at(t, 0x5037)->name, "main.gInt");
    CHECK_STR(typetab_global_at(t, 0x5038)->name, "main.gZero");
    CHECK(typetab_global_at(t, 0x5039) == NULL);
    CHECK(typetab_global_at(t, 0x4fff) == NULL);
    CHECK_STR(typetab_global_at(t, 0x6000 + 799999)->name, "main.gBig");
    CHECK(typetab_global_at(t, 0x6000 + 800000) == NULL);
    CHECK_EQ_U64(typetab_global_at(t, 0x5030)->type, T_INT);

    /* functions by pc, in pc order */
    CHECK_EQ_U64(typetab_func_count(t), 3);
    CHECK_STR(typetab_func_get(t, 0)->name, "main.c");
    CHECK_STR(typetab_func_at(t, 0x400000)->name, "main.c");
    CHECK_STR(typetab_func_at(t, 0x40000f)->name, "main.c");
    CHECK(typetab_func_at(t, 0x400010) == NULL);
    CHECK(typetab_func_at(t, 0x3fffff) == NULL);
    CHECK_STR(typetab_func_at(t, 0x401000)->name, "main.a");
    CHECK_STR(typetab_func_at(t, 0x4010ff)->name, "main.a");
    CHECK_STR(typetab_func_at(t, 0x401100)->name, "main.b");
    CHECK(typetab_func_at(t, 0x401200) == NULL);
    size_t n;
    const typetab_var *v = typetab_func_vars(t, typetab_func_at(t, 0x401000), &n);
    CHECK_EQ_U64(n, 4);
    CHECK(v && !strcmp(v[0].name, "x") && v[0].cfa_off == -8 && v[0].lo == 0x401010 &&
          v[0].hi == 0x401080 && v[0].flags == (TYPETAB_V_PARAM | TYPETAB_V_SLOT));
    CHECK(v && !strcmp(v[2].name, "&c") && v[2].closure_off == 8 && v[2].flags == 0);
    CHECK(v && v[3].cfa_off == -16 && (v[3].flags & TYPETAB_V_INLINED));
    CHECK(typetab_func_vars(t, typetab_func_at(t, 0x401100), &n) == NULL && n == 0);
    const typetab_info *in = typetab_get_info(t);
    CHECK(in->ptr_size == 8 && in->types_base == 0x1000 && in->regabi == 1);
    CHECK_STR(in->go_version, "go1.26.8");
}

static int encode(const typetab *t, hs_mem_sink *s)
{
    memset(s, 0, sizeof *s);
    hs_error err;
    return typetab_encode(t, (hs_writer){hs_mem_write, s}, &err);
}

static void test_roundtrip(void)
{
    typetab *t = build();
    check_lookups(t);
    hs_mem_sink a, b;
    CHECK(encode(t, &a) == HS_OK);
    typetab *d = NULL;
    hs_error err;
    CHECK(typetab_decode(a.data, a.len, &d, &err) == HS_OK);
    if (d) {
        check_lookups(d);
        CHECK(encode(d, &b) == HS_OK);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        hs_mem_sink_release(&b);
    }
    CHECK(typetab_add_global(t, "late", 1, 0, &err) == HS_ERR_ARG);
    CHECK(typetab_finish(t, &err) == HS_ERR_ARG);
    typetab_free(d);
    typetab_free(t);
    hs_mem_sink_release(&a);
    typetab_free(NULL);
}

/* A table of one bad kind finishes with HS_ERR_FORMAT. */
static void expect_bad_finish(const char *what, typetab *t)
{
    hs_error err;
    hs_error_clear(&err);
    int rc = typetab_finish(t, &err);
    if (rc != HS_ERR_FORMAT)
        fprintf(stderr, "%s: finish gave %d (%s)\n", what, rc, err.msg);
    CHECK(rc == HS_ERR_FORMAT);
    CHECK(typetab_type_count(t) == 0 && typetab_func_at(t, 0x1000) == NULL);
    typetab_free(t);
}

static void test_finish_refuses(void)
{
    hs_error err;
    typetab_type x;
    typetab *t = typetab_new();
    x = ty("*x", TYPETAB_POINTER, 8), x.elem = 5;
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    expect_bad_finish("reference past the last type", t);

    t = typetab_new();
    x = ty("int", TYPETAB_INT, 8);
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    x = ty("[3]int", TYPETAB_ARRAY, 16), x.elem = 0, x.len = 3;
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    expect_bad_finish("array of the wrong size", t);

    t = typetab_new();
    x = ty("int", TYPETAB_INT, 8);
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    typetab_field f1 = {"a", 4, 0, 0};
    x = ty("S", TYPETAB_STRUCT, 8);
    typetab_add_type(t, &x, &f1, 1, NULL, &err);
    expect_bad_finish("field past the end", t);

    t = typetab_new();
    typetab_field self = {"a", 0, 1, 0};
    x = ty("S", TYPETAB_STRUCT, 8);
    typetab_add_type(t, &x, &self, 1, NULL, &err);
    x = ty("[1]S", TYPETAB_ARRAY, 8), x.elem = 0, x.len = 1;
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    expect_bad_finish("struct containing itself", t);

    t = typetab_new();
    x = ty("*int", TYPETAB_POINTER, 8);
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    typetab_field odd = {"p", 4, 0, 0};
    x = ty("S", TYPETAB_STRUCT, 16);
    typetab_add_type(t, &x, &odd, 1, NULL, &err);
    expect_bad_finish("pointer off a word boundary", t);

    t = typetab_new();
    x = ty("*int", TYPETAB_POINTER, 8);
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    typetab_field p0 = {"p", 0, 0, 0};
    x = ty("S", TYPETAB_STRUCT, 12);
    typetab_add_type(t, &x, &p0, 1, NULL, &err);
    expect_bad_finish("pointers in a size of no whole words", t);

    t = typetab_new();
    x = ty("*int", TYPETAB_POINTER, 4);
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    expect_bad_finish("pointer of 4 bytes with 8-byte pointers", t);

    t = typetab_new();
    typetab_add_func(t, "a", 0x1000, 0x1100, NULL, 0, &err);
    typetab_add_func(t, "b", 0x10ff, 0x1200, NULL, 0, &err);
    expect_bad_finish("overlapping functions", t);

    t = typetab_new();
    x = ty("int", TYPETAB_INT, 8);
    typetab_add_type(t, &x, NULL, 0, NULL, &err);
    typetab_add_global(t, "g", UINT64_MAX - 4, 0, &err);
    expect_bad_finish("global that wraps", t);

    /* refused when added */
    t = typetab_new();
    typetab_var out = {"v", -8, 0x0fff, 0x1010, 0, 0, TYPETAB_V_SLOT};
    CHECK(typetab_add_func(t, "a", 0x1000, 0x1100, &out, 1, &err) == HS_ERR_FORMAT);
    typetab_var none = {"v", 0, 0x1000, 0x1010, 0, 0, 0};
    CHECK(typetab_add_func(t, "a", 0x1000, 0x1100, &none, 1, &err) == HS_ERR_FORMAT);
    CHECK(typetab_add_func(t, "a", 0x1100, 0x1000, NULL, 0, &err) == HS_ERR_FORMAT);
    x = ty("int", TYPETAB_INT, 8);
    CHECK(typetab_add_type(t, &x, &p0, 1, NULL, &err) == HS_ERR_FORMAT);
    x = ty("?", 28, 8);
    CHECK(typetab_add_type(t, &x, NULL, 0, NULL, &err) == HS_ERR_FORMAT);
    x = ty("int", TYPETAB_INT, 8), x.flags = 4;
    CHECK(typetab_add_type(t, &x, NULL, 0, NULL, &err) == HS_ERR_FORMAT);
    char longname[TYPETAB_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(typetab_add_global(t, longname, 0, 0, &err) == HS_ERR_LIMIT);
    typetab_free(t);
}

/* ---- a payload written by hand (formats/TYPETAB.md) ---- */

typedef struct bytes {
    uint8_t b[512];
    size_t n;
} bytes;

static size_t uv(bytes *b, uint64_t v)
{
    size_t at = b->n;
    while (v >= 0x80) {
        b->b[b->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->b[b->n++] = (uint8_t)v;
    return at;
}

static size_t raw(bytes *b, const void *p, size_t n)
{
    size_t at = b->n;
    memcpy(b->b + b->n, p, n);
    b->n += n;
    return at;
}

/* Offsets of the fields the corruptions below change (every value there is one byte). */
typedef struct layout {
    size_t version, flags, ptr_size, pool_len, pool_last, ntypes, type[3], t1_name, t1_ftype,
        t2_len, t0_elem, global, func[2], f1_delta, var, var_flags, var_lo, end;
} layout;

/* types: 0 int, 1 main.T {f int}, 2 [2]int; global main.g (main.T); functions main.f
 * [0x1000, 0x1040) with x (int, slot -8, [0x1010, 0x1020)) and main.h [0x1070, 0x1080) */
static void payload(bytes *b, layout *l)
{
    static const char pool[] = "\0int\0main.T\0f\0[2]int\0main.g\0main.f\0x\0main.h";
    enum { P_INT = 1, P_T = 5, P_F = 12, P_ARR = 14, P_G = 21, P_FN = 28, P_X = 35, P_H = 37 };
    b->n = 0;
    raw(b, "HSTYPTAB", 8);
    l->version = uv(b, 1);
    l->flags = uv(b, 1);
    l->ptr_size = uv(b, 8);
    uv(b, 0x1000);
    uv(b, 8);
    raw(b, "go1.26.8", 8);
    l->pool_len = uv(b, sizeof pool);
    raw(b, pool, sizeof pool);
    l->pool_last = b->n - 1;
    l->ntypes = uv(b, 3);
    /* kind flags name size rtype len elem key hdr bucket nfields */
    l->type[0] = uv(b, TYPETAB_INT);
    uv(b, 0), uv(b, P_INT), uv(b, 8), uv(b, 0x1100), uv(b, 0);
    l->t0_elem = uv(b, 0);
    uv(b, 0), uv(b, 0), uv(b, 0), uv(b, 0);
    l->type[1] = uv(b, TYPETAB_STRUCT);
    uv(b, 0);
    l->t1_name = uv(b, P_T);
    uv(b, 8), uv(b, 0x1200), uv(b, 0), uv(b, 0), uv(b, 0), uv(b, 0), uv(b, 0), uv(b, 1);
    uv(b, P_F), uv(b, 0);
    l->t1_ftype = uv(b, 0);
    uv(b, 0);
    l->type[2] = uv(b, TYPETAB_ARRAY);
    uv(b, 0), uv(b, P_ARR), uv(b, 16), uv(b, 0);
    l->t2_len = uv(b, 2);
    uv(b, 1), uv(b, 0), uv(b, 0), uv(b, 0), uv(b, 0);
    uv(b, 1);
    l->global = uv(b, 0x5000);
    uv(b, P_G), uv(b, 1);
    uv(b, 2);
    l->func[0] = uv(b, 0x1000);
    uv(b, 0x40), uv(b, P_FN), uv(b, 1);
    l->var = uv(b, P_X);
    uv(b, 0);
    l->var_flags = uv(b, TYPETAB_V_SLOT);
    uv(b, 15); /* zigzag(-8) */
    l->var_lo = uv(b, 0x10);
    uv(b, 0x10), uv(b, 0);
    l->func[1] = l->f1_delta = uv(b, 0x70);
    uv(b, 0x10), uv(b, P_H), uv(b, 0);
    l->end = raw(b, "END!", 4);
}

static void expect_refused(const char *what, const bytes *b, int status, uint64_t offset)
{
    typetab *t = NULL;
    hs_error err;
    hs_error_clear(&err);
    int rc = typetab_decode(b->b, b->n, &t, &err);
    if (rc != status || err.offset != offset)
        fprintf(stderr, "%s: got %d at %llu (%s), want %d at %llu\n", what, rc,
                (unsigned long long)err.offset, err.msg, status, (unsigned long long)offset);
    CHECK(rc == status);
    CHECK_EQ_U64(err.offset, offset);
    CHECK(t == NULL);
}

static void test_payload(void)
{
    bytes b, c;
    layout l;
    payload(&b, &l);
    typetab *t = NULL;
    hs_error err;
    CHECK(typetab_decode(b.b, b.n, &t, &err) == HS_OK);
    if (!t)
        return;
    CHECK_STR(typetab_type_get(t, 1)->name, "main.T");
    CHECK_EQ_U64(typetab_type_get(t, 1)->rtype, 0x1200);
    CHECK_EQ_U64(typetab_type_get(t, 2)->len, 2);
    CHECK(typetab_type_by_rtype(t, 0x1100) == typetab_type_get(t, 0));
    CHECK_STR(typetab_global_at(t, 0x5007)->name, "main.g");
    size_t n;
    const typetab_var *v = typetab_func_vars(t, typetab_func_at(t, 0x1015), &n);
    CHECK(n == 1 && v[0].cfa_off == -8 && v[0].lo == 0x1010 && v[0].hi == 0x1020);
    CHECK_STR(typetab_func_at(t, 0x107f)->name, "main.h");
    CHECK(typetab_func_at(t, 0x1040) == NULL);
    CHECK_STR(typetab_get_info(t)->go_version, "go1.26.8");
    hs_mem_sink s;
    CHECK(encode(t, &s) == HS_OK);
    CHECK(s.len == b.n && memcmp(s.data, b.b, b.n) == 0); /* the writer writes the spec */
    hs_mem_sink_release(&s);
    typetab_free(t);

#define CORRUPT(what, at, value, status, off)                                              \
    do {                                                                                   \
        c = b;                                                                             \
        c.b[at] = (uint8_t)(value);                                                        \
        expect_refused(what, &c, status, off);                                             \
    } while (0)
    CORRUPT("magic", 0, 'X', HS_ERR_FORMAT, 0);
    CORRUPT("version 2", l.version, 2, HS_ERR_UNSUPPORTED, l.version);
    CORRUPT("unknown flag", l.flags, 3, HS_ERR_FORMAT, l.flags);
    CORRUPT("pointer size 5", l.ptr_size, 5, HS_ERR_FORMAT, l.ptr_size);
    CORRUPT("pool without a final NUL", l.pool_last, 'h', HS_ERR_FORMAT, l.pool_len);
    c = b;
    c.b[l.pool_len] = 0x7f;
    c.n = l.pool_len + 60;
    expect_refused("pool longer than the input", &c, HS_ERR_TRUNCATED, l.pool_len);
    CORRUPT("too many types", l.ntypes, 0x7f, HS_ERR_FORMAT, l.ntypes);
    CORRUPT("kind 0", l.type[0], 0, HS_ERR_FORMAT, l.type[0]);
    CORRUPT("kind 28", l.type[0], 28, HS_ERR_FORMAT, l.type[0]);
    CORRUPT("name past the pool", l.t1_name, 0x7f, HS_ERR_FORMAT, l.t1_name);
    CORRUPT("element past the last type", l.t0_elem, 9, HS_ERR_FORMAT, l.type[0]);
    CORRUPT("length on an int", l.t0_elem - 1, 3, HS_ERR_FORMAT, l.type[0]);
    CORRUPT("array of the wrong length", l.t2_len, 3, HS_ERR_FORMAT, l.type[2]);
    CORRUPT("field of no type", l.t1_ftype, 7, HS_ERR_FORMAT, l.type[1]);
    CORRUPT("struct containing itself", l.t1_ftype, 1, HS_ERR_FORMAT, l.type[1]);
    CORRUPT("variable flags 32", l.var_flags, 32, HS_ERR_FORMAT, l.var_flags);
    CORRUPT("variable of neither slot nor closure", l.var_flags, 0, HS_ERR_FORMAT,
            l.func[0]);
    CORRUPT("variable outside its function", l.var_lo, 0x7f, HS_ERR_FORMAT, l.var);
    CORRUPT("overlapping functions", l.f1_delta, 0x20, HS_ERR_FORMAT, l.func[1]);
    CORRUPT("bad end marker", l.end, 'X', HS_ERR_FORMAT, l.end);
    c = b;
    c.b[c.n++] = 0;
    expect_refused("a byte after the end marker", &c, HS_ERR_FORMAT, b.n);
    c = b;
    c.b[l.global] = 0x80; /* a varint that never ends within ten bytes */
    for (int i = 1; i < 10; i++)
        c.b[l.global + (size_t)i] = 0xff;
    expect_refused("varint too long", &c, HS_ERR_FORMAT, l.global);
    /* every prefix is refused, inside the input */
    for (size_t len = 0; len < b.n; len++) {
        typetab *p = NULL;
        hs_error_clear(&err);
        int rc = typetab_decode(b.b, len, &p, &err);
        CHECK(rc == HS_ERR_TRUNCATED || rc == HS_ERR_FORMAT);
        CHECK(err.offset <= len);
        typetab_free(p);
    }
}

int main(void)
{
    test_roundtrip();
    test_finish_refuses();
    test_payload();
    return check_report();
}
