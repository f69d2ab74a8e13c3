/* Unit tests for elfimg and gotype on real Go binaries and on hand-made ELF images.
 *
 * Usage: test_elfimg [SYMPROG SYMPROG_STRIPPED [SYMPROG_PIE SYMPROG_PIE_STRIPPED]]
 * The arguments are tests/go/symprog built normally and with -ldflags='-s -w' (then the same
 * with -buildmode=pie, whose loader fixups elfimg applies from the relocations). Each one is
 * run to get its ground truth (function entries, closures, globals, type descriptors, Go
 * version, whether it calls runtime.AddCleanup, stack objects), then read with elfimg and
 * compared. Without
 * arguments (no Go toolchain) only the synthetic images and tests/broken/elfimg are checked
 * and the test reports a skip (77).
 * Runs from tests/unit (meson workdir).
 */
#include <dirent.h>
#include <gelf.h>
#include <stdlib.h>

#include "check.h"
#include "elfimg.h"
#include "gotype.h"
#include "symtab.h"

/* ---- ground truth printed by symprog ---- */

typedef struct truth_item {
    char kind[16];
    char name[128];
    uint64_t addr, size;
    int type_kind;
} truth_item;

/* A stkobj or nostkobj line of symprog (stkobj.go). */
typedef struct truth_stkobj {
    char func[128];
    int on_stack;         /* 0 for nostkobj */
    unsigned count, size, words, ones;
    uint8_t mask[8];      /* the first min(8, (words + 7) / 8) mask bytes */
} truth_stkobj;

typedef struct truth {
    char go_version[64], goarch[16];
    int addcleanup; /* -1 when the line is missing */
    truth_item items[64];
    int n;
    truth_stkobj stk[8];
    int nstk;
} truth;

static int run_truth(const char *prog, truth *t)
{
    memset(t, 0, sizeof *t);
    t->addcleanup = -1;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s'", prog);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (t->n == 64)
            break;
        truth_item *it = &t->items[t->n];
        unsigned long long a = 0, s = 0;
        int k = 0, pos = 0;
        if (sscanf(line, "goarch %15s", t->goarch) == 1 ||
            sscanf(line, "go %63s", t->go_version) == 1 ||
            sscanf(line, "addcleanup %d", &t->addcleanup) == 1)
            continue;
        truth_stkobj *so = &t->stk[t->nstk];
        char hex[40];
        if (t->nstk < 8 && sscanf(line, "stkobj %127s %u %u %u %u %39s", so->func, &so->count,
                                  &so->size, &so->words, &so->ones, hex) == 6) {
            so->on_stack = 1;
            for (size_t i = 0; i < 8 && hex[2 * i] && hex[2 * i + 1]; i++) {
                unsigned b = 0;
                sscanf(hex + 2 * i, "%2x", &b);
                so->mask[i] = (uint8_t)b;
            }
            t->nstk++;
            continue;
        }
        if (t->nstk < 8 && sscanf(line, "nostkobj %127s", so->func) == 1) {
            so->on_stack = 0;
            t->nstk++;
            continue;
        }
        if (sscanf(line, "type %llx %llu %d %n", &a, &s, &k, &pos) == 3 && pos > 0) {
            snprintf(it->kind, sizeof it->kind, "type");
            snprintf(it->name, sizeof it->name, "%s", line + pos);
        } else if (sscanf(line, "anon %llx %llu", &a, &s) == 2) {
            snprintf(it->kind, sizeof it->kind, "anon");
        } else if (sscanf(line, "%15s %127s %llx", it->kind, it->name, &a) != 3) {
            continue;
        }
        it->addr = a;
        it->size = s;
        it->type_kind = k;
        t->n++;
    }
    int st = pclose(f);
    return st == 0 && t->go_version[0] ? 0 : -1;
}

static int load(const char *path, const uint8_t **data, size_t *size, elfimg **img, symtab **t)
{
    hs_error e;
    char buf[400];
    *img = NULL;
    *t = NULL;
    if (hs_map_file(path, data, size, &e) < 0 || elfimg_open(*data, *size, img, &e) < 0 ||
        elfimg_symtab(*img, t, &e) < 0) {
        fprintf(stderr, "%s: %s\n", path, hs_error_format(&e, buf, sizeof buf));
        return -1;
    }
    return 0;
}

/* Address of the function named name, 0 when absent (linear: tests only). */
static uint64_t func_named(const symtab *t, const char *name)
{
    for (size_t i = 0; i < symtab_count(t, SYMTAB_FUNC); i++)
        if (!strcmp(symtab_get(t, SYMTAB_FUNC, i)->name, name))
            return symtab_get(t, SYMTAB_FUNC, i)->addr;
    return 0;
}

static unsigned popcount_mask(const symtab_stkobj *o)
{
    unsigned n = 0;
    for (uint32_t w = 0; w < o->ptr_words; w++)
        n += o->mask[w / 8] >> (w % 8) & 1;
    return n;
}

/* 1 when both tables have the same stack objects, entries compared as offsets from their
 * .text (a PIE and a non-PIE build of one program differ by a constant). */
static int same_stack_objects(const symtab *a, const symtab *b)
{
    size_t nf = symtab_stack_object_funcs(a);
    if (nf != symtab_stack_object_funcs(b))
        return 0;
    uint64_t ta = symtab_get_info(a)->text.start, tb = symtab_get_info(b)->text.start;
    for (size_t i = 0; i < nf; i++) {
        uint64_t ea, eb;
        size_t na, nb;
        const symtab_stkobj *x = symtab_stack_objects_at(a, i, &ea, &na);
        const symtab_stkobj *y = symtab_stack_objects_at(b, i, &eb, &nb);
        if (!x || !y || ea - ta != eb - tb || na != nb)
            return 0;
        for (size_t j = 0; j < na; j++)
            if (x[j].off != y[j].off || x[j].size != y[j].size ||
                x[j].ptr_words != y[j].ptr_words ||
                memcmp(x[j].mask, y[j].mask, (x[j].ptr_words + 7) / 8) != 0)
                return 0;
    }
    return 1;
}

/* symprog's stack objects (stkobj.go) against symtab_stack_objects, and every record's
 * sanity. Go 1.19 keeps main.stackBig's 20000 pointer words on the stack (a GC program in the
 * binary); Go 1.26+ gives main.stackAppend's backing array a stack slot. */
static void check_stack_objects(const symtab *t, const truth *tr, int minor)
{
    const symtab_info *in = symtab_get_info(t);
    CHECK(in->stack_objects == 1);
    CHECK(symtab_stack_object_funcs(t) > 50); /* the runtime and library have many */
    for (size_t i = 0; i < symtab_stack_object_funcs(t); i++) {
        uint64_t entry;
        size_t n;
        const symtab_stkobj *o = symtab_stack_objects_at(t, i, &entry, &n);
        CHECK(o && n > 0 && symtab_func_entry(t, entry) != NULL);
        for (size_t j = 0; o && j < n; j++)
            CHECK(o[j].size > 0 && (uint64_t)o[j].ptr_words * in->ptr_size <= o[j].size &&
                  popcount_mask(&o[j]) > 0);
    }
    CHECK(tr->nstk == 4);
    int big = 0, append = 0;
    for (int i = 0; i < tr->nstk; i++) {
        const truth_stkobj *so = &tr->stk[i];
        uint64_t entry = func_named(t, so->func);
        CHECK(entry != 0);
        size_t n = 99;
        const symtab_stkobj *o = symtab_stack_objects(t, entry, &n);
        if (!so->on_stack) {
            CHECK(o == NULL && n == 0);
            continue;
        }
        if (!strcmp(so->func, "main.stackBig"))
            big = 1;
        if (!strcmp(so->func, "main.stackAppend"))
            append = 1;
        CHECK_EQ_U64(n, so->count);
        const symtab_stkobj *hit = NULL;
        for (size_t j = 0; o && j < n; j++)
            if (o[j].size == so->size)
                hit = &o[j];
        if (!hit) {
            fprintf(stderr, "%s: no stack object of %u bytes (%zu objects)\n", so->func,
                    so->size, n);
            CHECK(0);
            continue;
        }
        CHECK(hit->off < 0); /* a local: below varp */
        CHECK_EQ_U64(hit->ptr_words, so->words);
        CHECK_EQ_U64(popcount_mask(hit), so->ones);
        size_t nb = (hit->ptr_words + 7) / 8;
        CHECK(memcmp(hit->mask, so->mask, nb < 8 ? nb : 8) == 0);
    }
    if (minor <= 19)
        CHECK(big == 1);
    if (minor >= 26)
        CHECK(append == 1);
}

/* Checks one binary against its own truth. A PIE runs at a load bias: the truth is moved back
 * to link addresses, which is what elfimg reports. */
static void check_binary(const char *path, int expect_stripped, int pie, symtab **keep)
{
    truth tr;
    int rc = run_truth(path, &tr);
    CHECK(rc == 0);
    if (rc < 0) {
        fprintf(stderr, "could not run %s\n", path);
        return;
    }
    const uint8_t *data;
    size_t size;
    elfimg *img;
    symtab *t;
    CHECK(load(path, &data, &size, &img, &t) == 0);
    if (!t)
        return;
    if (pie) {
        uint64_t link = func_named(t, "main.namedFunc"), run = 0;
        for (int i = 0; i < tr.n; i++)
            if (!strcmp(tr.items[i].name, "main.namedFunc"))
                run = tr.items[i].addr;
        CHECK(link != 0 && run != 0 && run > link);
        for (int i = 0; i < tr.n; i++)
            tr.items[i].addr -= run - link;
    }
    const symtab_info *in = symtab_get_info(t);
    CHECK_STR(in->go_version, tr.go_version);
    symtab_go_version gv;
    CHECK(symtab_go_version_parse(in->go_version, &gv, NULL) == HS_OK && gv.major == 1 &&
          gv.minor >= 19 && symtab_go_minor(in->go_version) == gv.minor);
    CHECK_STR(in->goarch, tr.goarch);
    CHECK(in->build_id[0] != '\0' && strchr(in->build_id, '/') != NULL);
    CHECK(in->stripped == expect_stripped);
    /* from a function runtime.AddCleanup[...] in .symtab or .gopclntab; Go 1.24+ only */
    CHECK(tr.addcleanup == (gv.minor >= 24));
    CHECK(in->addcleanup == tr.addcleanup);
    CHECK(in->ptr_size == 8 || in->ptr_size == 4);
    CHECK(in->text.end > in->text.start && in->bss.end > in->bss.start);
    CHECK(in->types.end > in->types.start);
    CHECK(symtab_count(t, SYMTAB_FUNC) > 1000);
    if (!expect_stripped)
        CHECK(symtab_count(t, SYMTAB_DATA) > 10 && symtab_count(t, SYMTAB_BSS) > 10);

    int nfunc = 0, nclosure = 0, nglobal = 0, nanon = 0, ntype = 0;
    for (int i = 0; i < tr.n; i++) {
        const truth_item *it = &tr.items[i];
        if (!strcmp(it->kind, "func") || !strcmp(it->kind, "closure")) {
            /* a closure's code word is exactly a function entry */
            const symtab_sym *s = symtab_func_entry(t, it->addr);
            CHECK_STR(s ? s->name : NULL, it->name);
            const symtab_sym *inside = symtab_func_at(t, it->addr + 1);
            CHECK(inside == s);
            CHECK(symtab_func_entry(t, it->addr + 1) == NULL);
            if (it->kind[0] == 'f')
                nfunc++;
            else
                nclosure++;
        } else if (!strcmp(it->kind, "global")) {
            symtab_sym anon;
            const symtab_sym *s = symtab_data_at(t, it->addr, &anon);
            CHECK(s != NULL);
            if (!s)
                continue;
            if (expect_stripped) {
                /* -s drops data symbols: the global is only known as part of a section */
                CHECK(s->anonymous == 1);
                CHECK(it->addr >= s->addr && it->addr - s->addr < s->size);
            } else {
                CHECK_STR(s->name, it->name);
                CHECK(s->anonymous == 0 && s->addr == it->addr);
                CHECK(s->kind == SYMTAB_DATA || s->kind == SYMTAB_BSS);
            }
            nglobal++;
        } else if (!strcmp(it->kind, "anon")) {
            /* the sync.Map behind `var registry = &sync.Map{}`: a bss static with no symbol */
            symtab_sym anon;
            const symtab_sym *s = symtab_data_at(t, it->addr, &anon);
            CHECK(s == &anon);
            if (s != &anon)
                continue;
            CHECK(anon.anonymous == 1 && anon.kind == SYMTAB_BSS);
            CHECK(it->addr >= anon.addr && it->addr + it->size <= anon.addr + anon.size);
            CHECK(strstr(anon.name, ".anon+0x") != NULL);
            if (!expect_stripped) /* bounded by its neighbouring symbols, not the section */
                CHECK(anon.size < 4096);
            nanon++;
        } else if (!strcmp(it->kind, "type")) {
            CHECK(gotype_is_type_addr(t, it->addr) == 1);
            gotype g;
            hs_error e;
            rc = gotype_read(t, it->addr, &g, &e);
            CHECK(rc == HS_OK);
            if (rc != HS_OK) {
                fprintf(stderr, "type %s: %s\n", it->name, e.msg);
                continue;
            }
            CHECK_STR(g.name, it->name);
            CHECK_EQ_U64(g.size, it->size);
            CHECK_EQ_U64(g.kind, it->type_kind);
            if (g.kind == GOTYPE_KIND_PTR || g.kind == GOTYPE_KIND_SLICE ||
                g.kind == GOTYPE_KIND_ARRAY || g.kind == GOTYPE_KIND_CHAN) {
                /* the element's name is the type name minus its prefix */
                const char *want = it->name;
                if (g.kind == GOTYPE_KIND_PTR)
                    want += 1;
                else if (g.kind == GOTYPE_KIND_SLICE)
                    want += 2;
                else if (g.kind == GOTYPE_KIND_CHAN)
                    want += 5;
                else
                    want = strchr(want, ']') + 1;
                gotype el;
                CHECK(gotype_read(t, g.elem, &el, &e) == HS_OK);
                CHECK_STR(el.name, want);
            } else {
                CHECK(g.elem == 0);
            }
            ntype++;
        }
    }
    CHECK(nfunc >= 3 && nclosure >= 2 && nglobal >= 4 && nanon == 1 && ntype >= 11);
    check_stack_objects(t, &tr, gv.minor);

    /* the table survives the .hsd SYMTAB encoding with identical answers */
    hs_mem_sink sink = {0};
    hs_writer w = {hs_mem_write, &sink};
    CHECK(symtab_encode(t, w, NULL) == HS_OK);
    symtab *d = NULL;
    CHECK(symtab_decode(sink.data, sink.len, &d, NULL) == HS_OK);
    if (d) {
        for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++)
            CHECK_EQ_U64(symtab_count(d, k), symtab_count(t, k));
        for (int i = 0; i < tr.n; i++) {
            const truth_item *it = &tr.items[i];
            if (!strcmp(it->kind, "closure"))
                CHECK_STR(symtab_func_entry(d, it->addr)->name, it->name);
            if (!strcmp(it->kind, "type")) {
                gotype g;
                CHECK(gotype_read(d, it->addr, &g, NULL) == HS_OK);
                CHECK_STR(g.name, it->name);
            }
            if (!strcmp(it->kind, "anon")) {
                symtab_sym a1, a2;
                const symtab_sym *s1 = symtab_data_at(t, it->addr, &a1);
                const symtab_sym *s2 = symtab_data_at(d, it->addr, &a2);
                CHECK(s1 && s2 && s2->anonymous && s1->addr == s2->addr);
                CHECK_STR(s1 ? s1->name : NULL, s2 ? s2->name : NULL);
            }
        }
        CHECK_STR(symtab_get_info(d)->build_id, in->build_id);
        CHECK(symtab_get_info(d)->addcleanup == in->addcleanup);
        CHECK(symtab_get_info(d)->stack_objects == 1);
        CHECK(same_stack_objects(t, d));
    }
    symtab_free(d);
    hs_mem_sink_release(&sink);
    *keep = t;
    elfimg_free(img);
    hs_unmap(data, size);
}

/* 1 when the .symtab name `elf` and the .gopclntab name `pcln` name the same function. The
 * linker writes both from one name: .symtab with "·" rewritten to "." (cmd/link/internal/ld/
 * symtab.go putelfsym, "for ASCII-only tools") and ".abi0" appended to an assembly function
 * that has an ABIInternal twin (mangleABIName); the Go 1.19 linker also wrote everything from
 * the first '[' to the last ']' of a pclntab name as "[...]" (pcln.go generateFuncnametab,
 * nameParts), which Go 1.26's no longer does. */
static int same_function_name(const char *elf, const char *pcln)
{
    char want[1024], got[1024];
    size_t n = 0;
    for (size_t i = 0; pcln[i] && n + 1 < sizeof got; i++) {
        if ((unsigned char)pcln[i] == 0xc2 && (unsigned char)pcln[i + 1] == 0xb7) {
            got[n++] = '.';
            i++;
        } else {
            got[n++] = pcln[i];
        }
    }
    got[n] = '\0';
    snprintf(want, sizeof want, "%s", elf);
    size_t len = strlen(want);
    if (len > 5 && !strcmp(want + len - 5, ".abi0"))
        want[len -= 5] = '\0';
    const char *open = strchr(want, '['), *close = strrchr(want, ']');
    if (strstr(got, "[...]") && open && close > open) {
        char elided[1024];
        snprintf(elided, sizeof elided, "%.*s[...]%s", (int)(open - want), want, close + 1);
        return strcmp(elided, got) == 0;
    }
    return strcmp(want, got) == 0;
}

/* .symtab functions (unstripped) and .gopclntab functions (stripped) describe the same code:
 * the same names (same_function_name) in the same order at the same offsets from the start
 * of .text; a pclntab size runs to the next entry, so it covers the symbol size. */
static void check_symtab_vs_pclntab(const symtab *full, const symtab *stripped)
{
    size_t n = symtab_count(full, SYMTAB_FUNC);
    CHECK_EQ_U64(n, symtab_count(stripped, SYMTAB_FUNC));
    uint64_t t0 = symtab_get_info(full)->text.start, t1 = symtab_get_info(stripped)->text.start;
    size_t bad = 0;
    for (size_t i = 0; i < n && i < symtab_count(stripped, SYMTAB_FUNC); i++) {
        const symtab_sym *a = symtab_get(full, SYMTAB_FUNC, i);
        const symtab_sym *b = symtab_get(stripped, SYMTAB_FUNC, i);
        if (!same_function_name(a->name, b->name) || a->addr - t0 != b->addr - t1 ||
            b->size < a->size) {
            if (bad++ < 5)
                fprintf(stderr, "function %zu: %s@%#llx+%llu vs %s@%#llx+%llu\n", i, a->name,
                        (unsigned long long)a->addr, (unsigned long long)a->size, b->name,
                        (unsigned long long)b->addr, (unsigned long long)b->size);
        }
    }
    CHECK_EQ_U64(bad, 0);
    /* the stack objects come from .gopclntab in both */
    CHECK(same_stack_objects(full, stripped));
}

/* Damaged copies of a real binary: truncations and a corrupt .gopclntab fail cleanly. */
static void check_damaged(const char *path)
{
    const uint8_t *data;
    size_t size;
    hs_error e;
    if (hs_map_file(path, &data, &size, &e) < 0) {
        CHECK(0);
        return;
    }
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    /* locate .gopclntab through libelf */
    uint64_t pcln_off = 0;
    Elf *elf = elf_memory((char *)copy, size);
    size_t shstrndx = 0;
    if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
        for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
            GElf_Shdr sh;
            const char *nm;
            if (gelf_getshdr(s, &sh) && (nm = elf_strptr(elf, shstrndx, sh.sh_name)) &&
                !strcmp(nm, ".gopclntab"))
                pcln_off = sh.sh_offset;
        }
    }
    if (elf)
        elf_end(elf);
    CHECK(pcln_off != 0);
    elfimg *img;
    symtab *t;
    int failed = 0;
    for (int k = 1; k < 48; k++) {
        size_t n = size / 48 * (size_t)k;
        int rc = elfimg_open(copy, n, &img, &e);
        if (rc == HS_OK) {
            rc = elfimg_symtab(img, &t, &e);
            if (rc == HS_OK)
                symtab_free(t);
            elfimg_free(img);
        }
        if (rc < 0) {
            failed++;
            CHECK(e.msg[0] != '\0');
        }
    }
    CHECK(failed > 0);
    if (pcln_off) {
        /* unknown magic */
        copy[pcln_off] ^= 0x0f;
        CHECK(elfimg_open(copy, size, &img, &e) == HS_OK);
        CHECK(elfimg_symtab(img, &t, &e) == HS_ERR_UNSUPPORTED);
        CHECK_EQ_U64(e.offset, pcln_off);
        elfimg_free(img);
        copy[pcln_off] ^= 0x0f;
        /* nfunc far beyond the table */
        copy[pcln_off + 8 + 5] = 0x7f;
        CHECK(elfimg_open(copy, size, &img, &e) == HS_OK);
        CHECK(elfimg_symtab(img, &t, &e) == HS_ERR_FORMAT);
        elfimg_free(img);
    }
    free(copy);
    hs_unmap(data, size);
}

/* ---- hand-made ELF images with a .gopclntab of every header version ---- */

static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A section of a hand-made image (type 8 = SHT_NOBITS keeps no bytes). */
typedef struct msec {
    const char *name;
    uint32_t type;
    uint64_t flags, addr;
    const uint8_t *data;
    size_t len;
} msec;

/* An ELF64 x86-64 image with the given sections (plus the null section and .shstrtab);
 * returns its size, 0 when cap is too small. */
static size_t make_elf_sections(uint8_t *out, size_t cap, const msec *secs, int nsecs)
{
    char names[512];
    size_t nlen = 1, name_at[16], data_at[16];
    names[0] = '\0';
    size_t off = 64;
    for (int i = 0; i <= nsecs && i < 15; i++) {
        const char *nm = i < nsecs ? secs[i].name : ".shstrtab";
        name_at[i] = nlen;
        memcpy(names + nlen, nm, strlen(nm) + 1);
        nlen += strlen(nm) + 1;
        if (i < nsecs) {
            off = (off + 7) & ~(size_t)7;
            data_at[i] = off;
            if (secs[i].type != 8)
                off += secs[i].len;
        }
    }
    size_t str_off = off, sh_off = (str_off + nlen + 7) & ~(size_t)7;
    size_t total = sh_off + (size_t)(nsecs + 2) * 64;
    if (total > cap || nsecs > 14)
        return 0;
    memset(out, 0, total);
    memcpy(out, "\x7f" "ELF\x02\x01\x01", 7);
    put(out + 16, 2, 2);         /* ET_EXEC */
    put(out + 18, 62, 2);        /* EM_X86_64 */
    put(out + 20, 1, 4);
    put(out + 40, sh_off, 8);    /* e_shoff */
    put(out + 52, 64, 2);        /* e_ehsize */
    put(out + 58, 64, 2);        /* e_shentsize */
    put(out + 60, (uint64_t)nsecs + 2, 2);
    put(out + 62, (uint64_t)nsecs + 1, 2); /* e_shstrndx */
    for (int i = 0; i < nsecs; i++) {
        if (secs[i].type != 8 && secs[i].len)
            memcpy(out + data_at[i], secs[i].data, secs[i].len);
        uint8_t *sh = out + sh_off + 64 * (size_t)(i + 1);
        put(sh, name_at[i], 4);
        put(sh + 4, secs[i].type, 4);
        put(sh + 8, secs[i].flags, 8);
        put(sh + 16, secs[i].addr, 8);
        put(sh + 24, data_at[i], 8);
        put(sh + 32, secs[i].len, 8);
        put(sh + 48, 8, 8);
    }
    memcpy(out + str_off, names, nlen);
    uint8_t *sh = out + sh_off + 64 * (size_t)(nsecs + 1);
    put(sh, name_at[nsecs], 4);
    put(sh + 4, 3, 4);
    put(sh + 24, str_off, 8);
    put(sh + 32, nlen, 8);
    put(sh + 48, 1, 8);
    return total;
}

static const uint8_t text_bytes[0x100] = {0xc3};

/* .text at 0x401000 (0x100 bytes) and .gopclntab at 0x402000 holding pcln. */
static size_t make_elf(uint8_t *out, size_t cap, const uint8_t *pcln, size_t pclen)
{
    const msec secs[] = {
        {".text", 1, 6, 0x401000, text_bytes, sizeof text_bytes},
        {".gopclntab", 1, 2, 0x402000, pcln, pclen},
    };
    return make_elf_sections(out, cap, secs, 2);
}

/* A .gopclntab with main.alpha [0x401000, 0x401020) and main.beta [0x401020, 0x401050) in
 * the layout of `magic` (docs/go-binary.md table; debug/gosym parsePclnTab). */
static size_t make_pclntab(uint8_t *p, uint32_t magic, uint64_t text_start)
{
    static const char names[] = "main.alpha\0main.beta";
    const uint64_t entries[3] = {0x401000, 0x401020, 0x401050};
    memset(p, 0, 512);
    put(p, magic, 4);
    p[6] = 1;
    p[7] = 8;
    put(p + 8, 2, 8); /* nfunc */
    if (magic == 0xFFFFFFFBu) {
        /* functab right after nfunc: {entry, funcoff} pairs; names relative to the table */
        size_t ft = 16, funcs = ft + 5 * 8, nm = funcs + 2 * 16;
        for (int i = 0; i < 2; i++) {
            put(p + ft + 16 * i, entries[i], 8);
            put(p + ft + 16 * i + 8, funcs + 16 * i, 8);
            put(p + funcs + 16 * i, entries[i], 8);
            put(p + funcs + 16 * i + 8, nm + (i ? 11 : 0), 4);
        }
        put(p + ft + 32, entries[2], 8);
        memcpy(p + nm, names, sizeof names);
        return nm + sizeof names;
    }
    int v118 = magic != 0xFFFFFFFAu;
    size_t hdr = 8 + (v118 ? 8 : 7) * 8, nm = hdr, pcln = (nm + sizeof names + 7) & ~7u;
    size_t field = v118 ? 4 : 8, funcs = 5 * field;
    memcpy(p + nm, names, sizeof names);
    if (v118) {
        put(p + 8 + 2 * 8, text_start, 8);
        put(p + 8 + 3 * 8, nm, 8);
        put(p + 8 + 7 * 8, pcln, 8);
    } else {
        put(p + 8 + 2 * 8, nm, 8);
        put(p + 8 + 6 * 8, pcln, 8);
    }
    for (int i = 0; i < 3; i++) {
        uint64_t e = v118 ? entries[i] - 0x401000 : entries[i];
        put(p + pcln + 2 * field * i, e, (int)field);
        if (i == 2)
            break;
        size_t fo = funcs + 16 * (size_t)i; /* _func offset from pcln */
        put(p + pcln + 2 * field * i + field, fo, (int)field);
        put(p + pcln + fo, e, (int)(v118 ? 4 : 8));
        put(p + pcln + fo + (v118 ? 4 : 8), i ? 11 : 0, 4);
    }
    return pcln + funcs + 32;
}

static void check_synthetic(void)
{
    static const struct {
        uint32_t magic;
        uint64_t text_start;
    } cases[] = {
        {0xFFFFFFFBu, 0}, {0xFFFFFFFAu, 0}, {0xFFFFFFF0u, 0x401000}, {0xFFFFFFF1u, 0x401000},
        {0xFFFFFFF1u, 0}, /* textStart left 0 (PIE before relocation): .text is used */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t pcln[512], image[2048];
        size_t plen = make_pclntab(pcln, cases[c].magic, cases[c].text_start);
        size_t n = make_elf(image, sizeof image, pcln, plen);
        CHECK(n > 0);
        elfimg *img = NULL;
        symtab *t = NULL;
        hs_error e;
        CHECK(elfimg_open(image, n, &img, &e) == HS_OK);
        int rc = elfimg_symtab(img, &t, &e);
        CHECK(rc == HS_OK);
        if (rc == HS_OK && !symtab_func_entry(t, 0x401000))
            fprintf(stderr, "magic %#x: no main.alpha\n", cases[c].magic);
        if (rc != HS_OK) {
            fprintf(stderr, "magic %#x: %s\n", cases[c].magic, e.msg);
            elfimg_free(img);
            continue;
        }
        CHECK(symtab_get_info(t)->stripped == 1);
        CHECK_EQ_U64(symtab_count(t, SYMTAB_FUNC), 2);
        const symtab_sym *a = symtab_func_entry(t, 0x401000);
        const symtab_sym *b = symtab_func_at(t, 0x40104f);
        CHECK_STR(a ? a->name : NULL, "main.alpha");
        CHECK_STR(b ? b->name : NULL, "main.beta");
        CHECK(a && a->size == 0x20 && b && b->addr == 0x401020 && b->size == 0x30);
        CHECK(symtab_func_at(t, 0x401050) == NULL);
        CHECK(symtab_get_info(t)->go_version[0] == '\0'); /* no .go.buildinfo here */
        symtab_free(t);
        elfimg_free(img);
        /* every truncation of the image fails or succeeds cleanly */
        for (size_t k = 0; k < n; k += 7) {
            img = NULL;
            t = NULL;
            if (elfimg_open(image, k, &img, &e) == HS_OK && elfimg_symtab(img, &t, &e) == HS_OK)
                symtab_free(t);
            elfimg_free(img);
        }
    }
}

/* runtime.firstmoduledata layouts written by make_moduledata (elfimg.c md_layouts). */
enum { MD_GO116, MD_GO120, MD_GO127 };

/* A moduledata in the given layout at md for the image of check_synthetic_facts: pcHeader,
 * section bounds, gcdata/gcbss in .rodata, covctrs in .noptrbss (1.20+), types
 * [0x480000, 0x480200) and, for 1.27, typedesclen/itaboffset/itabsize. */
static void make_moduledata(uint8_t *md, int layout)
{
    memset(md, 0, 48 * 8);
    put(md, 0x402000, 8);                                          /* pcHeader */
    put(md + 22 * 8, 0x401000, 8), put(md + 23 * 8, 0x401100, 8); /* text */
    put(md + 24 * 8, 0x500100, 8), put(md + 25 * 8, 0x500300, 8); /* noptrdata */
    put(md + 26 * 8, 0x510000, 8), put(md + 27 * 8, 0x510010, 8); /* data */
    put(md + 28 * 8, 0x520000, 8), put(md + 29 * 8, 0x520100, 8); /* bss */
    put(md + 30 * 8, 0x530000, 8), put(md + 31 * 8, 0x530100, 8); /* noptrbss */
    if (layout == MD_GO116) {
        put(md + 32 * 8, 0x530100, 8);                                 /* end */
        put(md + 33 * 8, 0x480100, 8), put(md + 34 * 8, 0x480180, 8); /* gcdata, gcbss */
        put(md + 35 * 8, 0x480000, 8), put(md + 36 * 8, 0x480200, 8); /* types, etypes */
        return;
    }
    put(md + 32 * 8, 0x5300f0, 8), put(md + 33 * 8, 0x5300f0, 8); /* covctrs, ecovctrs */
    put(md + 34 * 8, 0x530100, 8);                                 /* end */
    put(md + 35 * 8, 0x480100, 8), put(md + 36 * 8, 0x480180, 8); /* gcdata, gcbss */
    put(md + 37 * 8, 0x480000, 8);                                 /* types */
    if (layout == MD_GO120) {
        put(md + 38 * 8, 0x480200, 8); /* etypes */
        return;
    }
    put(md + 38 * 8, 0x100, 8);    /* typedesclen */
    put(md + 39 * 8, 0x480200, 8); /* etypes */
    put(md + 40 * 8, 0x180, 8);    /* itaboffset */
    put(md + 41 * 8, 0x40, 8);     /* itabsize */
}

/* Build facts and the stripped-binary type area from hand-made images: .go.buildinfo in
 * its inline (Go 1.18+) and pointer (older) layouts, the build-id note, and
 * runtime.firstmoduledata in .noptrdata or .go.module in each layout elfimg knows. */
static void check_synthetic_facts(void)
{
    uint8_t pcln[512], image[8192];
    size_t plen = make_pclntab(pcln, 0xFFFFFFF1u, 0x401000);
    /* buildinfo, pointers: word 16 -> string header {data, len} -> bytes */
    uint8_t bi_ptr[96] = "\xff Go buildinf:";
    bi_ptr[14] = 8;
    bi_ptr[15] = 0;
    put(bi_ptr + 16, 0x500040, 8);
    put(bi_ptr + 0x40, 0x500050, 8);
    put(bi_ptr + 0x48, 8, 8);
    memcpy(bi_ptr + 0x50, "go1.15.2", 8);
    /* build-id note: namesz 3 ("Go\0", padded to 4), descsz, type 4 */
    uint8_t note[32] = {0};
    put(note, 3, 4);
    put(note + 4, 7, 4);
    put(note + 8, 4, 4);
    memcpy(note + 12, "Go", 3);
    memcpy(note + 16, "abc/def", 7);
    /* rodata with one struct descriptor main.T at 0x480040 and its name at 0x480100 */
    uint8_t rodata[0x200] = {0};
    put(rodata + 0x40, 24, 8);
    put(rodata + 0x48, 8, 8);
    rodata[0x40 + 20] = 4;
    rodata[0x40 + 21] = rodata[0x40 + 22] = 8;
    rodata[0x40 + 23] = 25;
    put(rodata + 0x40 + 40, 0x100, 4);
    rodata[0x101] = 6;
    memcpy(rodata + 0x102, "main.T", 6);
    static const uint8_t data16[16];
    static const struct {
        const char *version; /* inline buildinfo; NULL: the pointer form (go1.15.2) */
        int layout;
        int in_module;  /* moduledata in .go.module (Go 1.26+) instead of .noptrdata */
        int damage;     /* 1: pcHeader mismatch, 2: typedesclen past etypes */
        int found;      /* the type area is expected */
    } cases[] = {
        {"go1.21.3", MD_GO120, 0, 0, 1},
        {NULL, MD_GO120, 0, 0, 0}, /* go1.15: no pcHeader in moduledata: not looked for */
        {"go1.21.3", MD_GO120, 0, 1, 0},
        {"go1.19.8", MD_GO116, 0, 0, 1},
        {"go1.26.8", MD_GO120, 1, 0, 1},
        {"go1.27.3", MD_GO127, 1, 0, 1},
        {"", MD_GO127, 1, 0, 1},   /* no version: the one layout that fits */
        {"", MD_GO116, 0, 0, 1},
        {"go1.27.3", MD_GO127, 1, 2, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* buildinfo, inline strings: header, then a varint-length version at 32 */
        uint8_t bi_inline[64] = "\xff Go buildinf:";
        const char *v = cases[c].version ? cases[c].version : "";
        bi_inline[14] = 8;
        bi_inline[15] = 2;
        bi_inline[32] = (uint8_t)strlen(v);
        memcpy(bi_inline + 33, v, strlen(v));
        uint8_t noptrdata[0x200] = {0}, module[0x200] = {0};
        uint8_t *md = (cases[c].in_module ? module : noptrdata) + 0x40;
        make_moduledata(md, cases[c].layout);
        if (cases[c].damage == 1)
            put(md, 0x402008, 8); /* no moduledata points at the pclntab */
        if (cases[c].damage == 2)
            put(md + 38 * 8, 0x201, 8);
        msec secs[] = {
            {".text", 1, 6, 0x401000, text_bytes, sizeof text_bytes},
            {".gopclntab", 1, 2, 0x402000, pcln, plen},
            {".note.go.buildid", 7, 2, 0x400f00, note, sizeof note},
            {".rodata", 1, 2, 0x480000, rodata, sizeof rodata},
            {".go.buildinfo", 1, 3, 0x500000, cases[c].version ? bi_inline : bi_ptr,
             cases[c].version ? sizeof bi_inline : sizeof bi_ptr},
            {".noptrdata", 1, 3, 0x500100, noptrdata, sizeof noptrdata},
            {".data", 1, 3, 0x510000, data16, sizeof data16},
            {".bss", 8, 3, 0x520000, NULL, 0x100},
            {".noptrbss", 8, 3, 0x530000, NULL, 0x100},
            {".go.module", 1, 3, 0x540000, module, sizeof module},
        };
        size_t n = make_elf_sections(image, sizeof image, secs, 10);
        CHECK(n > 0);
        elfimg *img = NULL;
        symtab *t = NULL;
        hs_error e;
        CHECK(elfimg_open(image, n, &img, &e) == HS_OK);
        CHECK(elfimg_symtab(img, &t, &e) == HS_OK);
        if (!t) {
            elfimg_free(img);
            continue;
        }
        const symtab_info *in = symtab_get_info(t);
        CHECK_STR(in->go_version, cases[c].version ? cases[c].version : "go1.15.2");
        CHECK_STR(in->build_id, "abc/def");
        CHECK_STR(in->goarch, "amd64");
        CHECK(in->bss.start == 0x520000 && in->bss.end == 0x520100);
        /* moduledata.rodata/gofunc are 0 here: stack objects unknown, not an error */
        CHECK(in->stack_objects == 0 && symtab_stack_object_funcs(t) == 0);
        gotype g;
        if (cases[c].found) {
            CHECK(in->types.start == 0x480000 && in->types.end == 0x480200);
            CHECK(gotype_read(t, 0x480040, &g, &e) == HS_OK);
            CHECK_STR(g.name, "main.T");
        } else {
            /* no match: no type area, and said so */
            CHECK(in->types.start == 0 && in->types.end == 0);
            CHECK(gotype_read(t, 0x480040, &g, &e) == HS_ERR_NOTFOUND);
        }
        if (in->types.start != (cases[c].found ? 0x480000u : 0u))
            fprintf(stderr, "synthetic facts case %zu: types at %#llx\n", c,
                    (unsigned long long)in->types.start);
        symtab_free(t);
        elfimg_free(img);
    }
}

/* ---- hand-made stack objects (elfimg.c load_stack_objects) ---- */

/* Offsets in the .gopclntab of make_stk_pclntab: the func table, the _funcs (64 bytes apart)
 * and go:func.* (inside the table, where Go 1.26 puts it). */
enum { STK_PCLN = 96, STK_FUNCS = 24, STK_GOFUNC = 256 };

/* A .gopclntab at 0x402000 in the Go 1.18-1.19 (magic 0xfffffff0, 40-byte _func) or 1.20+
 * layout (0xfffffff1, 44-byte _func, startLine): main.alpha [0x401000, 0x401020) whose
 * FUNCDATA_StackObjects is go:func.*+0, and main.beta [0x401020, 0x401050) with ^0 (none).
 * go:func.* holds the count and nrec records of 4 words. Returns the length. */
static size_t make_stk_pclntab(uint8_t *p, uint32_t magic, const uint32_t (*recs)[4],
                               size_t nrec, uint64_t count)
{
    static const char names[] = "main.alpha\0main.beta";
    const uint32_t entries[3] = {0, 0x20, 0x50};
    const unsigned fsz = magic == 0xFFFFFFF0u ? 40 : 44;
    memset(p, 0, 512);
    put(p, magic, 4);
    p[6] = 1;
    p[7] = 8;
    put(p + 8, 2, 8);                /* nfunc */
    put(p + 8 + 2 * 8, 0x401000, 8); /* textStart */
    put(p + 8 + 3 * 8, 72, 8);       /* funcnametab */
    put(p + 8 + 7 * 8, STK_PCLN, 8); /* pclntable */
    memcpy(p + 72, names, sizeof names);
    for (int i = 0; i < 3; i++) {
        put(p + STK_PCLN + 8 * i, entries[i], 4);
        if (i == 2)
            break;
        size_t fo = STK_FUNCS + 64 * (size_t)i;
        put(p + STK_PCLN + 8 * i + 4, fo, 4);
        uint8_t *f = p + STK_PCLN + fo;
        put(f, entries[i], 4);
        put(f + 4, i ? 11 : 0, 4);
        f[fsz - 1] = 3;                 /* nfuncdata; npcdata (f + 28) is 0 */
        put(f + fsz, UINT32_MAX, 4);    /* ArgsPointerMaps */
        put(f + fsz + 4, UINT32_MAX, 4); /* LocalsPointerMaps */
        put(f + fsz + 8, i ? UINT32_MAX : 0, 4); /* StackObjects */
    }
    put(p + STK_GOFUNC, count, 8);
    for (size_t j = 0; j < nrec; j++)
        for (int k = 0; k < 4; k++)
            put(p + STK_GOFUNC + 8 + 16 * j + 4 * (size_t)k, recs[j][k], 4);
    return STK_GOFUNC + 8 + 16 * nrec;
}

/* File offset of a section of a hand-made image, 0 when absent. */
static uint64_t section_offset(uint8_t *image, size_t n, const char *name)
{
    uint64_t off = 0;
    Elf *elf = elf_memory((char *)image, n);
    size_t shstrndx;
    if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0)
        for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
            GElf_Shdr sh;
            const char *nm;
            if (gelf_getshdr(s, &sh) && (nm = elf_strptr(elf, shstrndx, sh.sh_name)) &&
                !strcmp(nm, name))
                off = sh.sh_offset;
        }
    if (elf)
        elf_end(elf);
    return off;
}

/* Stack objects from hand-made images in the three moduledata layouts, then damaged ones:
 * each damage fails with HS_ERR_FORMAT at the file offset of the field. */
static void check_synthetic_stkobj(void)
{
    enum {
        OK, COUNT_PAST_END, GCDATA_OUTSIDE, MASK_AT_END, FUNCDATA_OUTSIDE, PTR_OVER_SIZE,
        NEG_SIZE, NPCDATA_HUGE, NO_FUNCDATA, PROG_OVERRUN, PROG_NO_END, PROG_REPEAT_ZERO,
        NO_RODATA,
    };
    static const struct {
        const char *version;
        int layout;
        int damage;
        int status;
        const char *where; /* section of the error offset */
        uint64_t at;       /* error offset inside it */
    } cases[] = {
        {"go1.26.8", MD_GO120, OK, HS_OK, NULL, 0},
        {"go1.27.3", MD_GO127, OK, HS_OK, NULL, 0},
        {"go1.19.8", MD_GO116, OK, HS_OK, NULL, 0},
        {"go1.26.8", MD_GO120, COUNT_PAST_END, HS_ERR_FORMAT, ".gopclntab", STK_GOFUNC},
        {"go1.26.8", MD_GO120, GCDATA_OUTSIDE, HS_ERR_FORMAT, ".gopclntab",
         STK_GOFUNC + 8 + 16 + 12},
        {"go1.27.3", MD_GO127, MASK_AT_END, HS_ERR_FORMAT, ".gopclntab",
         STK_GOFUNC + 8 + 16 + 12},
        {"go1.26.8", MD_GO120, FUNCDATA_OUTSIDE, HS_ERR_FORMAT, ".gopclntab",
         STK_PCLN + STK_FUNCS + 44 + 8},
        {"go1.26.8", MD_GO120, PTR_OVER_SIZE, HS_ERR_FORMAT, ".gopclntab", STK_GOFUNC + 8},
        {"go1.19.8", MD_GO116, NEG_SIZE, HS_ERR_FORMAT, ".gopclntab", STK_GOFUNC + 8},
        {"go1.26.8", MD_GO120, NPCDATA_HUGE, HS_ERR_FORMAT, ".gopclntab",
         STK_PCLN + STK_FUNCS + 28},
        {"go1.26.8", MD_GO120, NO_FUNCDATA, HS_OK, NULL, 0},
        {"go1.19.8", MD_GO116, PROG_OVERRUN, HS_ERR_FORMAT, ".rodata", 0x1d0 + 4 + 2},
        {"go1.19.8", MD_GO116, PROG_NO_END, HS_ERR_FORMAT, ".rodata", 0x1d0 + 4 + 4},
        {"go1.19.8", MD_GO116, PROG_REPEAT_ZERO, HS_ERR_FORMAT, ".rodata", 0x1d0 + 4},
        {"go1.26.8", MD_GO120, NO_RODATA, HS_OK, NULL, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int v118 = cases[c].layout == MD_GO116, damage = cases[c].damage;
        /* alpha: [3]*T, struct {int; *T; int; *T}, then an argument: *T (1.20+) or 100
         * pointer words as a GC program (1.18-1.19), plus 8 words 0x55 by GC program */
        uint32_t recs[4][4] = {
            {(uint32_t)-24, 24, 24, 0x1c0},
            {(uint32_t)-64, 32, 32, 0x1c1},
            {8, 16, 8, 0x1c2},
            {(uint32_t)-128, 64, (uint32_t)-64, 0x1e0},
        };
        size_t nrec = 3;
        if (v118) {
            recs[2][1] = 800;
            recs[2][2] = (uint32_t)-800;
            recs[2][3] = 0x1d0;
            nrec = 4;
        }
        uint8_t rodata[0x200] = {0};
        rodata[0x1c0] = 0x07;
        rodata[0x1c1] = 0x0a;
        rodata[0x1c2] = 0x01;
        /* GC programs (a 4-byte length first): literal 1 bit 1, repeat it 99 times; literal
         * bits 1, 0, repeat the 2 bits 3 times */
        static const uint8_t prog100[] = {5, 0, 0, 0, 0x01, 0x01, 0x81, 0x63, 0x00};
        static const uint8_t prog55[] = {5, 0, 0, 0, 0x02, 0x01, 0x82, 0x03, 0x00};
        memcpy(rodata + 0x1d0, prog100, sizeof prog100);
        memcpy(rodata + 0x1e0, prog55, sizeof prog55);
        uint64_t count = nrec;
        switch (damage) {
        case COUNT_PAST_END: count = 1000; break;
        case GCDATA_OUTSIDE: recs[1][3] = 0x10000; break;
        case MASK_AT_END: recs[1][3] = 0x200; break;
        case PTR_OVER_SIZE: recs[0][2] = 32; break;
        case NEG_SIZE: recs[0][1] = (uint32_t)-24; break;
        case PROG_OVERRUN: rodata[0x1d7] = 0x64; break;   /* 101 bits for 100 words */
        case PROG_NO_END: rodata[0x1d0] = 4; break;       /* length ends before the 0 */
        case PROG_REPEAT_ZERO: rodata[0x1d4] = 0x81; break; /* repeat before any bit */
        }
        uint8_t pcln[512];
        size_t plen = make_stk_pclntab(pcln, v118 ? 0xFFFFFFF0u : 0xFFFFFFF1u,
                                       (const uint32_t(*)[4])recs, nrec, count);
        const unsigned fsz = v118 ? 40 : 44;
        uint8_t *alpha = pcln + STK_PCLN + STK_FUNCS;
        if (damage == FUNCDATA_OUTSIDE)
            put(alpha + fsz + 8, 0x10000, 4);
        if (damage == NPCDATA_HUGE)
            put(alpha + 28, 0x40000000, 4);
        if (damage == NO_FUNCDATA)
            alpha[fsz - 1] = 2;
        uint8_t bi[64] = "\xff Go buildinf:";
        bi[14] = 8;
        bi[15] = 2;
        bi[32] = (uint8_t)strlen(cases[c].version);
        memcpy(bi + 33, cases[c].version, strlen(cases[c].version));
        uint8_t module[0x200] = {0}, noptrdata[0x200] = {0};
        make_moduledata(module + 0x40, cases[c].layout);
        unsigned ro = cases[c].layout == MD_GO116 ? 37 : cases[c].layout == MD_GO120 ? 39 : 42;
        if (damage != NO_RODATA) {
            put(module + 0x40 + ro * 8, 0x480000, 8);                   /* rodata */
            put(module + 0x40 + (ro + 1) * 8, 0x402000 + STK_GOFUNC, 8); /* gofunc */
        }
        static const uint8_t data16[16];
        const msec secs[] = {
            {".text", 1, 6, 0x401000, text_bytes, sizeof text_bytes},
            {".gopclntab", 1, 2, 0x402000, pcln, plen},
            {".rodata", 1, 2, 0x480000, rodata, sizeof rodata},
            {".go.buildinfo", 1, 3, 0x500000, bi, sizeof bi},
            {".noptrdata", 1, 3, 0x500100, noptrdata, sizeof noptrdata},
            {".data", 1, 3, 0x510000, data16, sizeof data16},
            {".bss", 8, 3, 0x520000, NULL, 0x100},
            {".noptrbss", 8, 3, 0x530000, NULL, 0x100},
            {".go.module", 1, 3, 0x540000, module, sizeof module},
        };
        uint8_t image[8192];
        size_t n = make_elf_sections(image, sizeof image, secs, 9);
        CHECK(n > 0);
        elfimg *img = NULL;
        symtab *t = NULL;
        hs_error e;
        hs_error_clear(&e);
        CHECK(elfimg_open(image, n, &img, &e) == HS_OK);
        int rc = elfimg_symtab(img, &t, &e);
        uint64_t want_at = cases[c].where ? section_offset(image, n, cases[c].where) +
                                                cases[c].at : 0;
        if (rc != cases[c].status || (rc < 0 && e.offset != want_at))
            fprintf(stderr, "stack objects case %zu: rc %d at %llu (want %llu): %s\n", c, rc,
                    (unsigned long long)e.offset, (unsigned long long)want_at, e.msg);
        CHECK(rc == cases[c].status);
        if (rc < 0) {
            CHECK(t == NULL && e.msg[0] != '\0');
            CHECK_EQ_U64(e.offset, want_at);
        }
        if (t) {
            size_t no = 99;
            const symtab_stkobj *o = symtab_stack_objects(t, 0x401000, &no);
            CHECK(symtab_get_info(t)->stack_objects == (damage != NO_RODATA));
            CHECK(symtab_stack_objects(t, 0x401020, NULL) == NULL); /* beta: ^0 */
            if (damage == OK) {
                CHECK(o != NULL && no == nrec);
                if (o && no == nrec) {
                    CHECK(o[0].off == -24 && o[0].size == 24 && o[0].ptr_words == 3 &&
                          o[0].mask[0] == 0x07);
                    CHECK(o[1].off == -64 && o[1].size == 32 && o[1].ptr_words == 4 &&
                          o[1].mask[0] == 0x0a);
                    CHECK(o[2].off == 8);
                    if (v118) {
                        CHECK(o[2].size == 800 && o[2].ptr_words == 100);
                        CHECK(popcount_mask(&o[2]) == 100 && o[2].mask[12] == 0x0f);
                        CHECK(o[3].off == -128 && o[3].ptr_words == 8 &&
                              o[3].mask[0] == 0x55);
                    } else {
                        CHECK(o[2].size == 16 && o[2].ptr_words == 1 && o[2].mask[0] == 1);
                    }
                }
                /* every truncation of the image fails or succeeds cleanly */
                for (size_t k = 0; k < n; k += 5) {
                    elfimg *i2 = NULL;
                    symtab *t2 = NULL;
                    if (elfimg_open(image, k, &i2, &e) == HS_OK &&
                        elfimg_symtab(i2, &t2, &e) == HS_OK)
                        symtab_free(t2);
                    elfimg_free(i2);
                }
            } else {
                CHECK(o == NULL && no == 0);
            }
        }
        symtab_free(t);
        elfimg_free(img);
    }
}

/* ---- tests/broken/elfimg ---- */

static const struct {
    const char *file;
    int status;
} broken_expect[] = {
    {"not-elf.bin", HS_ERR_FORMAT},
    {"empty.bin", HS_ERR_FORMAT},
    {"truncated-header.bin", HS_ERR_TRUNCATED},
    {"ident-only.bin", HS_ERR_TRUNCATED},
    {"big-endian.bin", HS_ERR_UNSUPPORTED},
    {"shoff-past-end.bin", HS_ERR_TRUNCATED},
    {"no-symbols.bin", HS_ERR_NOTFOUND},
    {"symtab-past-end.bin", HS_ERR_ELF},
    {"pclntab-bad-magic.bin", HS_ERR_UNSUPPORTED},
    {"pclntab-huge-nfunc.bin", HS_ERR_FORMAT},
    {"pclntab-name-oob.bin", HS_ERR_FORMAT},
    {"pclntab-funcoff-oob.bin", HS_ERR_FORMAT},
    {"pclntab-short.bin", HS_ERR_TRUNCATED},
    {"pclntab-functab-at-end.bin", HS_ERR_FORMAT},
};

static void check_broken(void)
{
    const char *dir = "../broken/elfimg";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 4, ".bin") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        const uint8_t *data;
        size_t size;
        hs_error e;
        hs_error_clear(&e);
        CHECK(hs_map_file(path, &data, &size, &e) == HS_OK);
        CHECK(size < 65536);
        elfimg *img = NULL;
        symtab *t = NULL;
        int rc = elfimg_open(data, size, &img, &e);
        if (rc == HS_OK)
            rc = elfimg_symtab(img, &t, &e);
        char buf[400];
        fprintf(stderr, "%s: %s\n", de->d_name, hs_error_format(&e, buf, sizeof buf));
        /* every broken file fails with a message; known ones with their expected status */
        CHECK(rc < 0 && t == NULL && e.status == rc && e.msg[0] != '\0');
        for (size_t i = 0; i < sizeof broken_expect / sizeof broken_expect[0]; i++)
            if (!strcmp(broken_expect[i].file, de->d_name)) {
                CHECK(rc == broken_expect[i].status);
                seen++;
            }
        elfimg_free(img);
        hs_unmap(data, size);
    }
    closedir(d);
    CHECK_EQ_U64(seen, sizeof broken_expect / sizeof broken_expect[0]);
}

int main(int argc, char **argv)
{
    check_synthetic();
    check_synthetic_facts();
    check_synthetic_stkobj();
    check_broken();
    elfimg_free(NULL);
    if (argc < 3) {
        check_skip("no symprog binaries given (Go toolchain missing?): the real-binary checks");
        return check_report();
    }
    /* argv: symprog, symprog -s -w, and optionally the same two built -buildmode=pie */
    for (int i = 1; i + 1 < argc; i += 2) {
        symtab *full = NULL, *stripped = NULL;
        check_binary(argv[i], 0, i > 1, &full);
        check_binary(argv[i + 1], 1, i > 1, &stripped);
        if (full && stripped)
            check_symtab_vs_pclntab(full, stripped);
        symtab_free(full);
        symtab_free(stripped);
    }
    check_damaged(argv[2]);
    return check_report();
}
