/* elfimg.c - a Go ELF binary read through libelf (elf_memory): .symtab symbols, or function
 * names from .gopclntab when the binary is stripped, section ranges, the type area, stack
 * objects (.gopclntab funcdata, runtime.firstmoduledata), the Go version (.go.buildinfo) and
 * the build id (.note.go.buildid). The .gopclntab reader is in elfimg_pclntab.c, the stack
 * objects in elfimg_stkobj.c.
 *
 * Addresses are link addresses as written in the file. For PIE binaries the words that the
 * dynamic loader fixes up hold 0 in the file and a R_*_RELATIVE relocation with the link-time
 * target as addend: every word read here goes through those relocations, so PIE images give
 * the same (link-address) view as non-PIE ones. A running PIE process adds its load bias. */
#include "elfimg_internal.h"

#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_search.h"

static int elf_fail(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_ELF, HS_NO_OFFSET, "%s: %s", what, elf_errmsg(-1));
}

const section *elfimg_find_section(const elfimg *img, const char *name)
{
    for (size_t i = 0; i < img->nsecs; i++)
        if (img->secs[i].name && strcmp(img->secs[i].name, name) == 0)
            return &img->secs[i];
    return NULL;
}

static const section *section_by_index(const elfimg *img, size_t index)
{
    for (size_t i = 0; i < img->nsecs; i++)
        if (img->secs[i].index == index)
            return &img->secs[i];
    return NULL;
}

/* File bytes for [addr, addr+len) of an allocated section that has them, or NULL. */
static const uint8_t *va_bytes(const elfimg *img, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < img->nsecs; i++) {
        const section *s = &img->secs[i];
        if (!s->has_data || !(s->flags & SHF_ALLOC) || addr < s->addr)
            continue;
        uint64_t off = addr - s->addr;
        if (off < s->size && len <= s->size - off)
            return img->data + s->offset + off;
    }
    return NULL;
}

static const relative *find_rel(const elfimg *img, uint64_t where)
{
    size_t lo = hs_lower_bound64(img->rels, img->nrels, sizeof *img->rels,
                                 offsetof(relative, where), where);
    return lo < img->nrels && img->rels[lo].where == where ? &img->rels[lo] : NULL;
}

/* A pointer-sized word at a virtual address, with RELATIVE relocations applied. */
int elfimg_va_word(const elfimg *img, uint64_t addr, uint64_t *v)
{
    const uint8_t *p = va_bytes(img, addr, img->ptr_size);
    if (!p)
        return -1;
    const relative *r = img->nrels ? find_rel(img, addr) : NULL;
    *v = r ? r->value : hs_load_le(p, img->ptr_size);
    return 0;
}

static int rel_cmp(const void *a, const void *b)
{
    const relative *x = a, *y = b;
    return x->where < y->where ? -1 : x->where > y->where ? 1 : 0;
}

static int is_relative(unsigned machine, uint64_t type)
{
    switch (machine) {
    case EM_X86_64: return type == R_X86_64_RELATIVE;
    case EM_AARCH64: return type == R_AARCH64_RELATIVE;
    case EM_386: return type == R_386_RELATIVE;
    case EM_ARM: return type == R_ARM_RELATIVE;
    default: return 0;
    }
}

static int load_relocs(elfimg *img, Elf_Scn *scn, hs_error *err)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d)
        return HS_OK; /* unreadable relocations only cost PIE fixups */
    size_t entsize = gelf_fsize(img->elf, ELF_T_RELA, 1, EV_CURRENT);
    if (!entsize)
        return HS_OK;
    size_t n = d->d_size / entsize;
    if (n > INT_MAX || n > SIZE_MAX / sizeof(relative) - img->nrels)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "too many relocations");
    relative *r = realloc(img->rels, (img->nrels + n) * sizeof *r);
    if (!r && img->nrels + n)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "relocations");
    img->rels = r;
    for (size_t i = 0; i < n; i++) {
        GElf_Rela rela;
        if (!gelf_getrela(d, (int)i, &rela))
            break;
        uint64_t type = img->ptr_size == 8 ? GELF_R_TYPE(rela.r_info)
                                           : ELF32_R_TYPE((uint32_t)rela.r_info);
        if (is_relative(img->machine, type)) {
            img->rels[img->nrels].where = rela.r_offset;
            img->rels[img->nrels].value = (uint64_t)rela.r_addend;
            img->nrels++;
        }
    }
    return HS_OK;
}

void elfimg_free(elfimg *img)
{
    if (!img)
        return;
    if (img->elf)
        elf_end(img->elf);
    free(img->secs);
    free(img->rels);
    free(img);
}

int elfimg_check_ident(const uint8_t *data, size_t size, hs_error *err)
{
    if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
        return hs_error_set(err, HS_ERR_FORMAT, 0, "not an ELF file (no \\177ELF magic)");
    if (size < EI_NIDENT)
        return hs_error_set(err, HS_ERR_TRUNCATED, size, "ELF identification cut short");
    unsigned cls = data[EI_CLASS];
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return hs_error_set(err, HS_ERR_FORMAT, EI_CLASS, "ELF class %u", cls);
    size_t ehsize = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (size < ehsize)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "ELF header cut short (%zu of %zu bytes)", size, ehsize);
    /* libelf converts foreign byte orders in place; the image may be read-only */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (data[EI_DATA] != ELFDATA2LSB)
#else
    if (data[EI_DATA] != ELFDATA2MSB)
#endif
        return hs_error_set(err, HS_ERR_UNSUPPORTED, EI_DATA,
                            "ELF byte order %u differs from this machine's", data[EI_DATA]);
    return HS_OK;
}

int elfimg_open(const uint8_t *data, size_t size, elfimg **out, hs_error *err)
{
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "elfimg_open: bad argument");
    *out = NULL;
    int rc = elfimg_check_ident(data, size, err);
    if (rc < 0)
        return rc;
    unsigned cls = data[EI_CLASS];
    if (elf_version(EV_CURRENT) == EV_NONE)
        return elf_fail(err, "libelf initialisation");
    elfimg *img = calloc(1, sizeof *img);
    if (!img)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "elfimg");
    img->data = data;
    img->size = size;
    img->ptr_size = cls == ELFCLASS64 ? 8 : 4;
    img->elf = elf_memory((char *)data, size);
    if (!img->elf || elf_kind(img->elf) != ELF_K_ELF) {
        rc = elf_fail(err, "elf_memory");
        goto out;
    }
    GElf_Ehdr eh;
    if (!gelf_getehdr(img->elf, &eh)) {
        rc = elf_fail(err, "ELF header");
        goto out;
    }
    img->machine = eh.e_machine;
    if (eh.e_shoff && (eh.e_shoff > size || (uint64_t)eh.e_shnum * eh.e_shentsize >
                                                size - eh.e_shoff)) {
        rc = hs_error_set(err, HS_ERR_TRUNCATED, eh.e_shoff,
                          "section header table (%u entries) runs past the end of the "
                          "%zu-byte file", eh.e_shnum, size);
        goto out;
    }
    size_t nsec, shstrndx;
    if (elf_getshdrnum(img->elf, &nsec) != 0) {
        rc = hs_error_set(err, HS_ERR_ELF, eh.e_shoff, "section header table: %s",
                          elf_errmsg(-1));
        goto out;
    }
    if (nsec > size / sizeof(Elf32_Shdr)) { /* every header takes file bytes */
        rc = hs_error_set(err, HS_ERR_FORMAT, eh.e_shoff, "%zu sections in a %zu-byte file",
                          nsec, size);
        goto out;
    }
    if (nsec && elf_getshdrstrndx(img->elf, &shstrndx) != 0) {
        rc = hs_error_set(err, HS_ERR_ELF, eh.e_shoff, "section name table: %s",
                          elf_errmsg(-1));
        goto out;
    }
    img->secs = calloc(nsec ? nsec : 1, sizeof *img->secs);
    if (!img->secs) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "section table");
        goto out;
    }
    for (Elf_Scn *scn = elf_nextscn(img->elf, NULL); scn && img->nsecs < nsec;
         scn = elf_nextscn(img->elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        section *s = &img->secs[img->nsecs++];
        s->name = elf_strptr(img->elf, shstrndx, sh.sh_name);
        s->addr = sh.sh_addr;
        s->size = sh.sh_size;
        s->offset = sh.sh_offset;
        s->flags = sh.sh_flags;
        s->type = sh.sh_type;
        s->index = elf_ndxscn(scn);
        s->has_data = sh.sh_type != SHT_NOBITS && !(sh.sh_flags & SHF_COMPRESSED) &&
                      sh.sh_offset <= size && sh.sh_size <= size - sh.sh_offset &&
                      sh.sh_addr + sh.sh_size >= sh.sh_addr;
        if (sh.sh_type == SHT_RELA && (rc = load_relocs(img, scn, err)) < 0)
            goto out;
    }
    if (img->nrels > 1)
        qsort(img->rels, img->nrels, sizeof *img->rels, rel_cmp);
    *out = img;
    img = NULL;
out:
    elfimg_free(img);
    return rc;
}

/* ---- build facts ---- */

static const char *goarch_of(unsigned machine, unsigned ptr_size)
{
    switch (machine) {
    case EM_X86_64: return "amd64";
    case EM_386: return "386";
    case EM_AARCH64: return "arm64";
    case EM_ARM: return "arm";
    case EM_RISCV: return "riscv64";
    case EM_PPC64: return "ppc64le";
    case EM_S390: return "s390x";
    case EM_MIPS: return ptr_size == 8 ? "mips64le" : "mipsle";
#ifdef EM_LOONGARCH
    case EM_LOONGARCH: return "loong64";
#endif
    default: return "";
    }
}

/* Go version from .go.buildinfo (debug/buildinfo): 16-byte header "\xff Go buildinf:", ptr
 * size, flags; flags&2: varint-length strings inline at 32; otherwise two pointers to Go
 * string headers (version, modinfo). Leaves "" when absent or unreadable. */
static void read_buildinfo(const elfimg *img, symtab_info *info)
{
    static const char magic[] = "\xff Go buildinf:";
    const section *s = elfimg_find_section(img, ".go.buildinfo");
    if (!s || !s->has_data)
        return;
    const uint8_t *p = img->data + s->offset;
    size_t n = (size_t)s->size;
    size_t at = 0;
    for (; at + 32 <= n; at += 16)
        if (memcmp(p + at, magic, 14) == 0)
            break;
    if (at + 32 > n)
        return;
    p += at;
    n -= at;
    unsigned psz = p[14], flags = p[15];
    const uint8_t *str = NULL;
    uint64_t len = 0;
    if (flags & 2) {
        size_t i = 32;
        for (unsigned shift = 0;; shift += 7) {
            if (i >= n || shift > 28)
                return;
            uint8_t b = p[i++];
            len |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
        if (len > n - i)
            return;
        str = p + i;
    } else {
        if ((psz != 4 && psz != 8) || psz != img->ptr_size || (flags & 1))
            return; /* big-endian or mismatched pointers: unknown */
        uint64_t hdr, data_addr;
        if (elfimg_va_word(img, s->addr + at + 16, &hdr) < 0 ||
            elfimg_va_word(img, hdr, &data_addr) < 0 || elfimg_va_word(img, hdr + psz, &len) < 0)
            return;
        if (len >= sizeof info->go_version)
            return;
        str = va_bytes(img, data_addr, len);
    }
    if (!str || len == 0 || len >= sizeof info->go_version || memchr(str, '\0', len))
        return;
    memcpy(info->go_version, str, (size_t)len);
    info->go_version[len] = '\0';
}

/* Build id from the ELF note in .note.go.buildid: name "Go", type 4 (cmd/link elf.go). */
static void read_buildid(const elfimg *img, symtab_info *info)
{
    const section *s = elfimg_find_section(img, ".note.go.buildid");
    if (!s || !s->has_data)
        return;
    const uint8_t *p = img->data + s->offset;
    uint64_t n = s->size, at = 0;
    while (at <= n && n - at >= 12) {
        uint64_t namesz = hs_load_le(p + at, 4), descsz = hs_load_le(p + at + 4, 4);
        uint64_t type = hs_load_le(p + at + 8, 4);
        uint64_t name_at = at + 12;
        uint64_t desc_at = name_at + ((namesz + 3) & ~3ull);
        if (desc_at > n || descsz > n - desc_at)
            return;
        if (type == 4 && namesz >= 2 && memcmp(p + name_at, "Go", 2) == 0 &&
            (namesz == 2 || p[name_at + 2] == '\0')) {
            size_t len = (size_t)descsz;
            const void *nul = memchr(p + desc_at, '\0', len);
            if (nul)
                len = (size_t)((const uint8_t *)nul - (p + desc_at));
            if (len >= sizeof info->build_id)
                return;
            memcpy(info->build_id, p + desc_at, len);
            info->build_id[len] = '\0';
            return;
        }
        at = desc_at + ((descsz + 3) & ~3ull);
    }
}

static symtab_range range_of(const section *s)
{
    symtab_range r = {0, 0};
    if (s && s->addr + s->size >= s->addr) {
        r.start = s->addr;
        r.end = s->addr + s->size;
    }
    return r;
}

/* ---- .symtab ---- */

static int kind_of_section(const section *s)
{
    if (!s || !s->name || !(s->flags & SHF_ALLOC) || (s->flags & SHF_EXECINSTR))
        return 0;
    if (!strcmp(s->name, ".data") || !strcmp(s->name, ".noptrdata"))
        return SYMTAB_DATA;
    if (!strcmp(s->name, ".bss") || !strcmp(s->name, ".noptrbss"))
        return SYMTAB_BSS;
    if (s->flags & SHF_TLS)
        return 0;
    return SYMTAB_RODATA; /* rodata, typelink, itablink, gopclntab, data.rel.ro, ... */
}

/* Loads .symtab; *nfunc gets the number of functions, *types_* the runtime.types/etypes
 * markers (0 when absent). */
static int load_symtab(const elfimg *img, symtab *t, size_t *nfunc, uint64_t *types_start,
                       uint64_t *types_end, hs_error *err)
{
    *nfunc = 0;
    *types_start = *types_end = 0;
    Elf_Scn *scn = NULL;
    GElf_Shdr sh;
    while ((scn = elf_nextscn(img->elf, scn)) != NULL) {
        if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
            break;
    }
    if (!scn)
        return HS_OK;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d)
        return hs_error_set(err, HS_ERR_ELF, sh.sh_offset, ".symtab: %s", elf_errmsg(-1));
    size_t entsize = gelf_fsize(img->elf, ELF_T_SYM, 1, EV_CURRENT);
    size_t n = entsize ? d->d_size / entsize : 0;
    if (n > INT_MAX)
        return hs_error_set(err, HS_ERR_LIMIT, sh.sh_offset, ".symtab: %zu entries", n);
    for (size_t i = 1; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym))
            return hs_error_set(err, HS_ERR_ELF, sh.sh_offset + i * entsize,
                                ".symtab entry %zu: %s", i, elf_errmsg(-1));
        const char *name = elf_strptr(img->elf, sh.sh_link, sym.st_name);
        if (!name || !*name)
            continue;
        int type = GELF_ST_TYPE(sym.st_info);
        if (type == STT_OBJECT && sym.st_size == 0) {
            if (!strcmp(name, "runtime.types"))
                *types_start = sym.st_value;
            else if (!strcmp(name, "runtime.etypes"))
                *types_end = sym.st_value;
            continue;
        }
        if (sym.st_size == 0 || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
            continue; /* markers (runtime.text, runtime.etext, ...) and absolute symbols */
        int kind = 0;
        if (type == STT_FUNC)
            kind = SYMTAB_FUNC;
        else if (type == STT_OBJECT)
            kind = kind_of_section(section_by_index(img, sym.st_shndx));
        if (!kind)
            continue;
        int rc = symtab_add(t, kind, sym.st_value, sym.st_size, name, strlen(name), err);
        if (rc < 0)
            return rc;
        if (kind == SYMTAB_FUNC)
            (*nfunc)++;
    }
    return HS_OK;
}

/* ---- the type area ---- */

/* A section with file bytes covering [start, end), or NULL. */
const section *elfimg_section_covering(const elfimg *img, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < img->nsecs; i++) {
        const section *s = &img->secs[i];
        if (s->has_data && (s->flags & SHF_ALLOC) && start >= s->addr && end >= start &&
            end - s->addr <= s->size)
            return s;
    }
    return NULL;
}

/* 1 when [lo, hi) lies inside section s (a missing section constrains nothing). */
static int within(const section *s, uint64_t lo, uint64_t hi)
{
    return !s || (lo <= hi && lo >= s->addr && hi - s->addr <= s->size);
}

/* runtime.firstmoduledata, as the linker writes it (cmd/link/internal/ld/symtab.go, after
 * "moduledata := ldr.MakeSymbolUpdater"; read by runtime/symtab.go `type moduledata`), in
 * P-byte words: pcHeader @0 (Go 1.16+), six slices and findfunctab, minpc, maxpc (1-21);
 * text/etext @22, noptrdata @24, data @26, bss @28, noptrbss @30, each with its end. Then the
 * layouts differ:
 *   1.16-1.19  end @32, gcdata @33, gcbss @34, types @35, etypes @36, (1.18+) rodata @37,
 *              gofunc @38
 *   1.20-1.26  covctrs/ecovctrs @32/33, end @34, gcdata @35, gcbss @36, types @37, etypes @38,
 *              rodata @39, gofunc @40, epclntab @41
 *   1.27-      as 1.20, then typedesclen @38, etypes @39, itaboffset @40, itabsize @41,
 *              rodata @42, gofunc @43, epclntab @44
 * Each layout is checked against the binary, so a wrong one does not pass: covctrs lie in
 * noptrbss (NOBITS), where 1.16-1.19 has gcdata (file bytes), and typedesclen is a length
 * where 1.20-1.26 has an address. rodata and gofunc are not part of that check (1.16-1.17
 * have other words there); they are read only for Go 1.18+ pclntabs (elfimg_load_stack_objects). */
typedef struct md_layout {
    int min_minor, max_minor; /* Go 1.N releases that write it */
    unsigned covctrs;         /* word index, 0 when absent */
    unsigned gcdata;          /* gcdata; gcbss follows */
    unsigned types, etypes;
    unsigned typedesclen;     /* 0 when absent; itaboffset and itabsize follow etypes */
    unsigned rodata;          /* rodata (Go 1.18+); gofunc follows */
} md_layout;

static const md_layout md_layouts[] = {
    {16, 19, 0, 33, 35, 36, 0, 37},
    {20, 26, 32, 35, 37, 38, 0, 39},
    {27, INT_MAX, 32, 35, 37, 39, 38, 42},
};

#define MD_WORDS 45 /* words read: up to 1.27's epclntab */

/* 1 when addr lies in an allocated section that has file bytes (not NOBITS). */
static int has_file_bytes(const elfimg *img, uint64_t addr)
{
    return addr + 1 > addr && elfimg_section_covering(img, addr, addr + 1) != NULL;
}

/* 1 when the moduledata words w (n of them readable) fit layout L in this binary. */
static int md_layout_fits(const elfimg *img, const uint64_t *w, unsigned n, const md_layout *L)
{
    unsigned last = L->typedesclen ? L->etypes + 2 : L->etypes;
    if (last >= n)
        return 0;
    if (L->covctrs && !(w[30] <= w[L->covctrs] && w[L->covctrs] <= w[L->covctrs + 1] &&
                        w[L->covctrs + 1] <= w[31]))
        return 0;
    if (!has_file_bytes(img, w[L->gcdata]) || !has_file_bytes(img, w[L->gcdata + 1]))
        return 0;
    uint64_t types = w[L->types], etypes = w[L->etypes];
    if (types >= etypes || !elfimg_section_covering(img, types, etypes))
        return 0;
    if (L->typedesclen) {
        uint64_t span = etypes - types, desc = w[L->typedesclen];
        uint64_t itaboff = w[L->etypes + 1], itabsize = w[L->etypes + 2];
        if (desc > itaboff || itaboff > span || itabsize > span - itaboff)
            return 0;
    }
    return 1;
}

/* Checks a runtime.firstmoduledata candidate at address m (its first word is the pclntab
 * address): the section bounds it records, then the layouts. Fills *md from the one layout
 * that fits (the one for `minor` when several do). */
static int md_read(const elfimg *img, uint64_t m, int minor, md_info *md)
{
    const unsigned P = img->ptr_size;
    uint64_t w[MD_WORDS];
    unsigned n = 0;
    while (n < MD_WORDS && elfimg_va_word(img, m + (uint64_t)n * P, &w[n]) == 0)
        n++;
    if (n <= 31)
        return -1;
    const section *text = elfimg_find_section(img, ".text");
    if ((text && (w[22] < text->addr || w[22] >= text->addr + text->size)) ||
        !within(text, w[22], w[23]) ||
        !within(elfimg_find_section(img, ".noptrdata"), w[24], w[25]) ||
        !within(elfimg_find_section(img, ".data"), w[26], w[27]) ||
        !within(elfimg_find_section(img, ".bss"), w[28], w[29]) ||
        !within(elfimg_find_section(img, ".noptrbss"), w[30], w[31]))
        return -1;
    const md_layout *pick = NULL;
    int fits = 0;
    for (size_t i = 0; i < sizeof md_layouts / sizeof md_layouts[0]; i++) {
        const md_layout *L = &md_layouts[i];
        if (!md_layout_fits(img, w, n, L))
            continue;
        fits++;
        if (!pick || (minor >= L->min_minor && minor <= L->max_minor))
            pick = L;
    }
    if (!pick || (fits > 1 && !(minor >= pick->min_minor && minor <= pick->max_minor)))
        return -1; /* ambiguous and the version does not decide */
    md->types = w[pick->types];
    md->etypes = w[pick->etypes];
    md->rodata = md->gofunc = 0;
    if (pick->rodata + 1 < n) {
        md->rodata = w[pick->rodata];
        md->gofunc = w[pick->rodata + 1];
    }
    return 0;
}

/* runtime.firstmoduledata (for the type area of stripped binaries, and for stack objects),
 * found as a word equal to the pclntab address (pcHeader, Go 1.16+) in a writable section
 * (.go.module from Go 1.26, .noptrdata before; in PIEs a RELATIVE relocation holds the
 * address) and checked by md_read. The recorded bounds may be narrower than the ELF sections
 * (external linking adds C data), so they are checked to lie inside them rather than to equal
 * them. */
static int find_moduledata(const elfimg *img, const section *pcln, int minor, md_info *md)
{
    if (!pcln || (minor >= 0 && minor < 16))
        return -1;
    const unsigned P = img->ptr_size;
    for (size_t k = 0; k < img->nsecs; k++) {
        const section *s = &img->secs[k];
        if (!s->has_data || (s->flags & (SHF_ALLOC | SHF_WRITE)) != (SHF_ALLOC | SHF_WRITE) ||
            (s->flags & SHF_EXECINSTR))
            continue;
        const uint8_t *bytes = img->data + s->offset;
        for (uint64_t off = 0; off + P <= s->size; off += P)
            if (hs_load_le(bytes + off, P) == pcln->addr &&
                md_read(img, s->addr + off, minor, md) == 0)
                return 0;
    }
    for (size_t i = 0; i < img->nrels; i++)
        if (img->rels[i].value == pcln->addr &&
            md_read(img, img->rels[i].where, minor, md) == 0)
            return 0;
    return -1;
}

static int set_types(const elfimg *img, symtab *t, uint64_t start, uint64_t end,
                     hs_error *err)
{
    const section *s = elfimg_section_covering(img, start, end);
    if (!s)
        return HS_OK;
    size_t len = (size_t)(end - start);
    const uint8_t *bytes = img->data + s->offset + (start - s->addr);
    int rc;
    if (img->nrels == 0)
        return symtab_set_types(t, start, bytes, len, err);
    /* PIE: apply RELATIVE fixups inside the area so descriptor pointers are link addresses */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "type area (%zu bytes)", len);
    memcpy(copy, bytes, len);
    size_t lo = hs_lower_bound64(img->rels, img->nrels, sizeof *img->rels,
                                 offsetof(relative, where), start);
    unsigned P = img->ptr_size;
    for (size_t i = lo; i < img->nrels && img->rels[i].where < end; i++) {
        uint64_t off = img->rels[i].where - start;
        if (off > len || len - off < P)
            continue;
        for (unsigned b = 0; b < P; b++)
            copy[off + b] = (uint8_t)(img->rels[i].value >> (8 * b));
    }
    rc = symtab_set_types(t, start, copy, len, err);
    free(copy);
    return rc;
}

int elfimg_symtab(const elfimg *img, symtab **out, hs_error *err)
{
    if (!img || !out)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "elfimg_symtab: bad argument");
    *out = NULL;
    symtab *t = symtab_new();
    if (!t)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symbol table");
    symtab_info *info = symtab_info_mut(t);
    snprintf(info->goarch, sizeof info->goarch, "%s", goarch_of(img->machine, img->ptr_size));
    info->ptr_size = img->ptr_size;
    info->text = range_of(elfimg_find_section(img, ".text"));
    info->rodata = range_of(elfimg_find_section(img, ".rodata"));
    info->data = range_of(elfimg_find_section(img, ".data"));
    info->noptrdata = range_of(elfimg_find_section(img, ".noptrdata"));
    info->bss = range_of(elfimg_find_section(img, ".bss"));
    info->noptrbss = range_of(elfimg_find_section(img, ".noptrbss"));
    read_buildinfo(img, info);
    read_buildid(img, info);

    size_t nfunc = 0;
    uint64_t tstart = 0, tend = 0;
    int rc = load_symtab(img, t, &nfunc, &tstart, &tend, err);
    if (rc < 0)
        goto out;
    const section *pcln = elfimg_find_section(img, ".gopclntab");
    if (!pcln)
        pcln = elfimg_find_section(img, ".data.rel.ro.gopclntab");
    pcln_view pv;
    int have_pv = 0;
    if (nfunc == 0) {
        if (!pcln) {
            rc = hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                              "no function symbols: the ELF has neither .symtab functions "
                              "nor .gopclntab (not a Go binary?)");
            goto out;
        }
        if ((rc = elfimg_pcln_parse(img, pcln, &pv, err)) < 0 ||
            (rc = elfimg_load_pclntab(&pv, t, &nfunc, err)) < 0)
            goto out;
        have_pv = 1;
        info->stripped = 1;
    } else if (pcln) {
        /* functions from .symtab: the pclntab only for stack objects, when it is one we know */
        hs_error ignored;
        have_pv = elfimg_pcln_parse(img, pcln, &pv, &ignored) == HS_OK;
    }
    md_info md;
    int have_md = pcln && find_moduledata(img, pcln, symtab_go_minor(info->go_version), &md) == 0;
    if (!(tstart && tend > tstart) && have_md) {
        tstart = md.types;
        tend = md.etypes;
    }
    if (have_pv && have_md) {
        if ((rc = elfimg_load_stack_objects(img, &pv, &md, t, err)) < 0)
            goto out;
        info->stack_objects = rc == HS_OK;
    }
    if (tstart && tend > tstart) {
        if ((rc = set_types(img, t, tstart, tend, err)) < 0)
            goto out;
        uint64_t b;
        size_t l;
        if (symtab_types(t, &b, &l)) {
            info->types.start = b;
            info->types.end = b + l;
        }
    }
    if ((rc = symtab_finish(t, err)) < 0)
        goto out;
    *out = t;
    t = NULL;
out:
    symtab_free(t);
    return rc;
}
