/* test_godwarf - godwarf_read (formats/godwarf.h) on the little Go-like DWARF images of
 * tests/fuzz/gen_dwarf_seeds.py (corpus/fuzz_godwarf/seed-*.elf), whose contents it knows:
 * types with folded typedefs, kinds the linker leaves out, map and chan internals of Go 1.19
 * and 1.24+, types never in the heap, globals, functions with parameters in registers and
 * spill slots, pieces, lexical blocks, inlined calls, closures (Go 1.19's placed by their
 * closure struct's descriptor, found by name in the type area); in each DWARF form (plain,
 * .zdebug, SHF_COMPRESSED; DWARF 4 location lists for Go 1.19, DWARF 5 ones for 1.26) read
 * from a read-only mapping; then an image without DWARF and broken images, each refused with
 * its status and the file offset of the section or DIE at fault.
 * The real Go binaries of three toolchains are checked by integration/test_typetab.
 * Runs from tests/unit (meson workdir).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "godwarf.h"
#include "typetab.h"

#define SEEDS "../fuzz/corpus/fuzz_godwarf/"

static const typetab_type *named(const typetab *t, const char *name)
{
    const typetab_type *x = typetab_type_by_name(t, name);
    if (!x)
        fprintf(stderr, "no type %s\n", name);
    return x;
}

static const char *name_of(const typetab *t, uint32_t id)
{
    const typetab_type *x = typetab_type_get(t, id);
    return x ? x->name : "(none)";
}

static const typetab_var *var(const typetab *t, const char *func, const char *name, size_t k)
{
    const typetab_func *f = NULL;
    for (size_t i = 0; i < typetab_func_count(t); i++)
        if (!strcmp(typetab_func_get(t, i)->name, func))
            f = typetab_func_get(t, i);
    size_t n;
    const typetab_var *v = typetab_func_vars(t, f, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name) && k-- == 0)
            return &v[i];
    return NULL;
}

static void check_common(const typetab *t, int go119)
{
    const typetab_info *in = typetab_get_info(t);
    CHECK_EQ_U64(in->ptr_size, 8);
    CHECK_EQ_U64(in->types_base, 0x480000);
    CHECK_STR(in->go_version, go119 ? "go1.19.8" : "go1.26.8");
    CHECK(in->regabi);
    CHECK(typetab_type_by_name(t, "<unspecified>") == NULL);

    /* a named struct: its typedef folded in, fields with the embedded flag, runtime type */
    const typetab_type *s = named(t, "main.Session");
    if (s) {
        CHECK_EQ_U64(s->kind, TYPETAB_STRUCT);
        CHECK_EQ_U64(s->size, 112);
        CHECK_EQ_U64(s->nfields, 8);
        CHECK(typetab_type_by_rtype(t, s->rtype) == s && s->rtype > 0x480000);
        const typetab_field *f = typetab_field_get(t, s->first_field);
        CHECK(f && !strcmp(f->name, "Inner") && f->flags == TYPETAB_F_EMBEDDED);
        CHECK_STR(name_of(t, typetab_field_get(t, s->first_field + 3)->type),
                  "map[string]*main.Session");
        CHECK_STR(name_of(t, typetab_field_get(t, s->first_field + 5)->type), "interface {}");
        /* Inner{A, B.data, B.len} ID Tags{.array, len, cap} Attrs Ch Any{type, data} P Err */
        CHECK_EQ_U64(s->ptr_words, 14);
        const uint8_t *m = typetab_ptr_mask(t, s->id);
        CHECK(m && m[0] == 0x92 && m[1] == 0x2d);
    }
    const typetab_type *e = named(t, "interface {}"), *er = named(t, "error");
    CHECK(e && e->kind == TYPETAB_EFACE && e->size == 16 && e->ptr_words == 2);
    CHECK(er && er->kind == TYPETAB_IFACE && er->size == 16);
    const typetab_type *u = named(t, "unsafe.Pointer");
    CHECK(u && u->kind == TYPETAB_UNSAFE_POINTER && u->ptr_words == 1);
    const typetab_type *sl = named(t, "[]string");
    CHECK(sl && sl->kind == TYPETAB_SLICE && sl->size == 24 && sl->nfields == 0);
    CHECK(sl && !strcmp(name_of(t, sl->elem), "string"));
    const typetab_type *a = named(t, "[3]*main.Inner");
    CHECK(a && a->kind == TYPETAB_ARRAY && a->len == 3 && a->ptr_words == 3);
    const typetab_type *fn = named(t, "func(int) int");
    CHECK(fn && fn->kind == TYPETAB_FUNC && fn->size == 8);
    /* a chan: its hchan<T>, made up by the linker (kind 0 in DWARF) */
    const typetab_type *c = named(t, "chan int");
    CHECK(c && c->kind == TYPETAB_CHAN && c->size == 8 && !strcmp(name_of(t, c->elem), "int"));
    CHECK(c && !strcmp(name_of(t, c->hdr), "hchan<int>"));
    const typetab_type *h = named(t, "hchan<int>");
    CHECK(h && h->kind == TYPETAB_STRUCT && h->flags == TYPETAB_T_INTERNAL && h->rtype == 0);
    /* never in the heap: a pointer to it is no GC pointer */
    const typetab_type *sp = named(t, "runtime.mspan"), *psp = named(t, "*runtime.mspan");
    CHECK(sp && (sp->flags & TYPETAB_T_NOTINHEAP));
    CHECK(psp && psp->ptr_words == 0 && !(psp->flags & TYPETAB_T_NOTINHEAP));
    CHECK(named(t, "main.Inner") && !(named(t, "main.Inner")->flags & TYPETAB_T_NOTINHEAP));

    /* globals */
    CHECK_EQ_U64(typetab_global_count(t), 4);
    const typetab_global *g = typetab_global_at(t, 0x5017);
    CHECK(g && !strcmp(g->name, "main.gArr") && !strcmp(name_of(t, g->type), "[3]*main.Inner"));
    CHECK(typetab_global_at(t, 0x5030) == NULL);

    /* functions: the abstract main.helper has no code and is left out */
    CHECK_EQ_U64(typetab_func_count(t), 4);
    const typetab_func *w = typetab_func_at(t, 0x40107f);
    CHECK(w && !strcmp(w->name, "main.work") && w->low == 0x401000 && w->high == 0x401080);
    const typetab_var *v;
    /* a register parameter spilled to CFA+0 after 0x401010 */
    v = var(t, "main.work", "n", 0);
    CHECK(v && v->cfa_off == 0 && v->lo == 0x401010 && v->hi == 0x401080 &&
          v->flags == (TYPETAB_V_PARAM | TYPETAB_V_SLOT));
    /* two list entries for one slot merge */
    v = var(t, "main.work", "s", 0);
    CHECK(v && v->cfa_off == 8 && v->lo == 0x401014 && v->hi == 0x401080);
    CHECK(var(t, "main.work", "s", 1) == NULL);
    CHECK(var(t, "main.work", "~r0", 0) == NULL); /* empty location */
    v = var(t, "main.work", "local", 0);
    CHECK(v && v->cfa_off == -24 && v->lo == 0x401000 && v->hi == 0x401080 &&
          v->flags == TYPETAB_V_SLOT && !strcmp(name_of(t, v->type), "*main.Session"));
    v = var(t, "main.work", "str", 0); /* two pieces, one after the other */
    CHECK(v && v->cfa_off == -40 && !strcmp(name_of(t, v->type), "string"));
    /* a piece in a register, then one on the stack: the stack piece alone, at its offset */
    v = var(t, "main.work", "mixed", 0);
    CHECK(v && v->cfa_off == -48 && v->piece_off == 8 && v->piece_len == 8 &&
          v->flags == (TYPETAB_V_SLOT | TYPETAB_V_PIECE));
    CHECK(var(t, "main.work", "mixed", 1) == NULL);
    v = var(t, "main.work", "i", 0); /* in a lexical block */
    CHECK(v && v->cfa_off == -56);
    v = var(t, "main.work", "h", 0); /* a parameter of an inlined call */
    CHECK(v && v->cfa_off == -64 && v->lo == 0x401030 && v->hi == 0x401038 &&
          v->flags == (TYPETAB_V_PARAM | TYPETAB_V_INLINED | TYPETAB_V_SLOT));
    v = var(t, "main.work.func1", "&x", 0); /* captured: known by its closure offset */
    CHECK(v && v->closure_off == 8 && v->flags == 0 && v->lo == 0x401080 &&
          !strcmp(name_of(t, v->type), "*int"));
    /* Go 1.19: captured variables in registers, placed by the closure struct's descriptor
     * whose fields they all are (by name and runtime type); Go 1.26's DWARF would have said,
     * so none is looked for. Register-only variables are no records of their own. */
    v = var(t, "main.work.func2", "&y", 0);
    CHECK(go119 ? v && v->closure_off == 8 && v->flags == 0 && v->lo == 0x4010a0 &&
                      v->hi == 0x4010c0 && !strcmp(name_of(t, v->type), "*int")
                : v == NULL);
    v = var(t, "main.work.func2", "s", 0);
    CHECK(go119 ? v && v->closure_off == 16 && !strcmp(name_of(t, v->type), "*main.Session")
                : v == NULL);
    CHECK(var(t, "main.work.func2", "&y", 1) == NULL);
    /* func3's y is an int where the field is a *int: no context, and nothing else */
    CHECK(var(t, "main.work.func3", "y", 0) == NULL);
    CHECK(var(t, "main.work.func3", "s", 0) == NULL);
}

static void check_maps(const typetab *t, int go119)
{
    const typetab_type *m = named(t, "map[string]*main.Session");
    if (!m)
        return;
    CHECK(m->kind == TYPETAB_MAP && m->size == 8 && m->ptr_words == 1);
    CHECK_STR(name_of(t, m->key), "string");
    CHECK_STR(name_of(t, m->elem), "*main.Session");
    const typetab_type *b = typetab_type_get(t, m->bucket);
    if (go119) {
        CHECK_STR(name_of(t, m->hdr), "hash<string,*main.Session>");
        CHECK(b && !strcmp(b->name, "bucket<string,*main.Session>") && b->size == 208);
        /* tophash, 8 keys (data, len), 8 values, overflow */
        CHECK(b && b->ptr_words == 26);
        CHECK(b && typetab_ptr_word(t, b->id, 25) && typetab_ptr_word(t, b->id, 1) &&
              !typetab_ptr_word(t, b->id, 2));
        /* keys and values without pointers: the overflow word is a uintptr */
        const typetab_type *mi = named(t, "map[int]int");
        const typetab_type *bi = mi ? typetab_type_get(t, mi->bucket) : NULL;
        CHECK(bi && !strcmp(bi->name, "bucket<int,int>") && bi->ptr_words == 0);
        CHECK(bi && !strcmp(name_of(t, typetab_field_get(t, bi->first_field + 3)->type),
                            "uintptr"));
    } else {
        CHECK_STR(name_of(t, m->hdr), "map<string,*main.Session>");
        CHECK(b && !strcmp(b->name, "noalg.map.group[string]*main.Session") && b->rtype);
        CHECK(b && b->ptr_words == 25); /* ctrl, 8 x {key.data, key.len, elem} */
    }
}

static void check_file(const char *file, int go119)
{
    char path[256];
    snprintf(path, sizeof path, SEEDS "%s", file);
    const uint8_t *data; /* a read-only mapping: godwarf must not write to it */
    size_t size;
    hs_error err;
    if (hs_map_file(path, &data, &size, &err) < 0) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        CHECK(0);
        return;
    }
    typetab *t = NULL;
    int rc = godwarf_read(data, size, &t, &err);
    if (rc != HS_OK)
        fprintf(stderr, "%s: %s\n", file, err.msg);
    CHECK(rc == HS_OK);
    if (t) {
        check_common(t, go119);
        check_maps(t, go119);
    }
    typetab_free(t);
    hs_unmap(data, size);
}

/* ---- broken images, made from a seed in memory ---- */

typedef struct image {
    uint8_t *data;
    size_t size;
} image;

static image load(const char *file)
{
    image im = {NULL, 0};
    char path[256];
    snprintf(path, sizeof path, SEEDS "%s", file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return im;
    im.data = malloc(1 << 16);
    im.size = fread(im.data, 1, 1 << 16, f);
    fclose(f);
    return im;
}

/* The offset of the section header of `name` (ELF64), or 0. */
static size_t shdr_of(const image *im, const char *name)
{
    uint64_t shoff;
    uint16_t shnum, shstrndx;
    memcpy(&shoff, im->data + 0x28, 8);
    memcpy(&shnum, im->data + 0x3c, 2);
    memcpy(&shstrndx, im->data + 0x3e, 2);
    uint64_t stroff;
    memcpy(&stroff, im->data + shoff + 64 * shstrndx + 24, 8);
    for (unsigned i = 0; i < shnum; i++) {
        uint32_t nm;
        memcpy(&nm, im->data + shoff + 64 * i, 4);
        if (!strcmp((const char *)im->data + stroff + nm, name))
            return (size_t)(shoff + 64 * i);
    }
    return 0;
}

static uint64_t sec_off(const image *im, size_t shdr)
{
    uint64_t off;
    memcpy(&off, im->data + shdr + 24, 8);
    return off;
}

static void expect(const char *what, const image *im, int status, uint64_t offset)
{
    typetab *t = NULL;
    hs_error err;
    hs_error_clear(&err);
    int rc = godwarf_read(im->data, im->size, &t, &err);
    if (rc != status || err.offset != offset)
        fprintf(stderr, "%s: got %d at %llu (%s), want %d at %llu\n", what, rc,
                (unsigned long long)err.offset, err.msg, status, (unsigned long long)offset);
    CHECK(rc == status);
    CHECK_EQ_U64(err.offset, offset);
    CHECK(t == NULL);
    typetab_free(t);
}

static void test_broken(void)
{
    image im = load("seed-nodwarf.elf");
    CHECK(im.data != NULL);
    if (im.data)
        expect("no DWARF", &im, HS_ERR_NOTFOUND, HS_NO_OFFSET);
    free(im.data);
    uint8_t junk[64] = "not an ELF file";
    image j = {junk, sizeof junk};
    expect("not ELF", &j, HS_ERR_FORMAT, 0);
    j.size = 10;
    memcpy(junk, "\177ELF\2\1\1", 7);
    expect("cut-short identification", &j, HS_ERR_TRUNCATED, 10);
    j.size = 40;
    expect("cut-short header", &j, HS_ERR_TRUNCATED, 40);

    im = load("seed-go126-gabi.elf");
    size_t sh = shdr_of(&im, ".debug_info");
    CHECK(sh != 0);
    uint64_t off = sh ? sec_off(&im, sh) : 0;
    if (sh) {
        image c = {malloc(im.size), im.size};
        memcpy(c.data, im.data, im.size);
        uint64_t huge = 1ull << 40; /* Elf64_Chdr.ch_size */
        memcpy(c.data + off + 8, &huge, 8);
        expect("compressed size past zlib's ratio", &c, HS_ERR_FORMAT, off);
        memcpy(c.data, im.data, im.size);
        c.data[off] = 2; /* ELFCOMPRESS_ZSTD */
        expect("zstd", &c, HS_ERR_UNSUPPORTED, off);
        memcpy(c.data, im.data, im.size);
        memset(c.data + off + 24, 0x55, 16); /* the zlib stream */
        expect("broken zlib stream", &c, HS_ERR_ELF, off);
        memcpy(c.data, im.data, im.size);
        uint64_t past = im.size + 100;
        memcpy(c.data + sh + 24, &past, 8);
        expect("section past the end", &c, HS_ERR_TRUNCATED, past);
        free(c.data);
    }
    free(im.data);

    im = load("seed-go119-zdebug.elf");
    sh = shdr_of(&im, ".zdebug_info");
    CHECK(sh != 0);
    if (sh) {
        off = sec_off(&im, sh);
        im.data[off + 3] = 'X'; /* "ZLIX" */
        expect("no ZLIB header", &im, HS_ERR_FORMAT, off);
    }
    free(im.data);

    /* location lists: an unknown DWARF 5 entry kind, a base address index past .debug_addr,
     * a DWARF 4 list cut short by its section's end; each names the DIE (in .debug_info,
     * stored uncompressed here: its file offset) */
    static const struct {
        const char *file, *sec, *what;
        size_t at; /* byte of the section to change, or (size_t)-1: shrink the section */
        uint8_t value;
    } lists[] = {
        {"seed-go126-plain.elf", ".debug_loclists", "unknown entry kind", 12, 0x20},
        {"seed-go126-plain.elf", ".debug_loclists", "index past .debug_addr", 13, 9},
        {"seed-go119-plain.elf", ".debug_loc", "list cut short", (size_t)-1, 0},
    };
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        im = load(lists[k].file);
        size_t ls = shdr_of(&im, lists[k].sec), is = shdr_of(&im, ".debug_info");
        CHECK(ls && is);
        if (ls && is) {
            uint64_t size, ioff = sec_off(&im, is), isize;
            memcpy(&isize, im.data + is + 32, 8);
            if (lists[k].at == (size_t)-1) {
                size = 20;
                memcpy(im.data + ls + 32, &size, 8);
            } else {
                im.data[sec_off(&im, ls) + lists[k].at] = lists[k].value;
            }
            typetab *t = NULL;
            hs_error err;
            int rc = godwarf_read(im.data, im.size, &t, &err);
            if (rc != HS_ERR_FORMAT)
                fprintf(stderr, "%s: %d %s\n", lists[k].what, rc, err.msg);
            CHECK(rc == HS_ERR_FORMAT && t == NULL);
            CHECK(err.offset > ioff && err.offset < ioff + isize);
            CHECK(strstr(err.msg, "location list") != NULL);
            typetab_free(t);
        }
        free(im.data);
    }

    im = load("seed-go119-plain.elf");
    sh = shdr_of(&im, ".debug_info");
    CHECK(sh != 0);
    if (sh) {
        off = sec_off(&im, sh);
        im.data[off + 4] = 9; /* unit version 9: libdw refuses the unit at offset 0 */
        typetab *t = NULL;
        hs_error err;
        int rc = godwarf_read(im.data, im.size, &t, &err);
        CHECK(rc == HS_ERR_FORMAT && t == NULL);
        CHECK(err.offset == off); /* uncompressed: .debug_info's file offset + DIE 0 */
        typetab_free(t);
    }
    free(im.data);
}

int main(void)
{
    static const char *forms[] = {"plain", "zdebug", "gabi"};
    for (int i = 0; i < 3; i++) {
        char file[64];
        snprintf(file, sizeof file, "seed-go119-%s.elf", forms[i]);
        check_file(file, 1);
        snprintf(file, sizeof file, "seed-go126-%s.elf", forms[i]);
        check_file(file, 0);
    }
    test_broken();
    return check_report();
}
