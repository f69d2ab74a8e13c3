/* godwarf.c - the DWARF of a Go ELF binary into a typetab: finds the debug sections and
 * runtime.types with libelf, has libdw read the units and dispatches their DIEs (types to
 * godwarf_types.c, functions to godwarf_func.c, globals here; location lists are read by
 * godwarf_loc.c).
 *
 * libdw is never given the caller's bytes: opening them would make libelf decompress the
 * sections in place and write the section headers, which a read-only mapping does not allow
 * (a crash, not an error). The debug sections are copied, still compressed, into a small
 * ELF image of our own (an ELF header, the sections, their names, the section headers), and
 * libelf decompresses them there: elf_compress for SHF_COMPRESSED sections (what the Go
 * linker writes, 1.19 to 1.27), elf_compress_gnu for the older ".zdebug_*" form (renamed
 * ".debug_*" in the copy). Only the sections the reader needs are copied; .debug_line and
 * .debug_frame are not. */
#include "godwarf_internal.h"

#include <dwarf.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfimg.h"

/* The debug sections libdw reads for us (names after ".debug_"). */
static const char *const wanted[] = {"info", "abbrev", "loc", "loclists", "ranges", "rnglists",
                                     "addr", "str", "line_str", "str_offsets"};
#define NWANTED (sizeof wanted / sizeof wanted[0])
/* zlib expands by at most 1032:1; a section that claims more is broken. */
#define MAX_RATIO 1100u

typedef struct dsec {
    const char *name; /* wanted[] entry */
    uint64_t off, size, flags;
    int gnu;          /* ".zdebug_" form */
} dsec;

static int elf_fail(hs_error *err, int status, uint64_t off, const char *what)
{
    return hs_error_set(err, status, off, "DWARF: %s: %s", what, elf_errmsg(-1));
}


/* The uncompressed size a compressed section claims, checked against zlib's best ratio. */
static int claimed_size(const uint8_t *data, const dsec *s, int cls, hs_error *err)
{
    const uint8_t *p = data + s->off;
    uint64_t n;
    if (s->flags & SHF_COMPRESSED) {
        size_t hdr = cls == ELFCLASS64 ? sizeof(Elf64_Chdr) : sizeof(Elf32_Chdr);
        if (s->size < hdr)
            return hs_error_set(err, HS_ERR_TRUNCATED, s->off, "DWARF: .debug_%s: compression "
                                "header cut short", s->name);
        if (hs_load_le(p, 4) != ELFCOMPRESS_ZLIB)
            return hs_error_set(err, HS_ERR_UNSUPPORTED, s->off, "DWARF: .debug_%s: "
                                "compression type %llu (only zlib is read)", s->name,
                                (unsigned long long)hs_load_le(p, 4));
        n = cls == ELFCLASS64 ? hs_load_le(p + 8, 8) : hs_load_le(p + 4, 4);
    } else if (s->gnu) {
        if (s->size < 12 || memcmp(p, "ZLIB", 4) != 0)
            return hs_error_set(err, HS_ERR_FORMAT, s->off, "DWARF: .zdebug_%s: no ZLIB "
                                "header", s->name);
        n = 0;
        for (int i = 4; i < 12; i++)
            n = n << 8 | p[i];
    } else {
        return HS_OK;
    }
    if (n / MAX_RATIO > s->size)
        return hs_error_set(err, HS_ERR_FORMAT, s->off, "DWARF: .debug_%s: %llu bytes "
                            "compressed into %llu", s->name, (unsigned long long)n,
                            (unsigned long long)s->size);
    return HS_OK;
}

/* Reads the section table: the wanted debug sections into secs (*n of them), the allocated
 * sections with file bytes into g->segs, and [runtime.types, runtime.etypes) (from .symtab,
 * else Go 1.27's type section). */
static int scan_sections(gw *g, Elf *elf, const uint8_t *data, size_t size, dsec *secs,
                         size_t *n, uint64_t types[2], hs_error *err)
{
    GElf_Ehdr eh;
    size_t nsec, shstrndx;
    if (!gelf_getehdr(elf, &eh))
        return elf_fail(err, HS_ERR_ELF, 0, "ELF header");
    if (eh.e_shoff && (eh.e_shoff > size ||
                       (uint64_t)eh.e_shnum * eh.e_shentsize > size - eh.e_shoff))
        return hs_error_set(err, HS_ERR_TRUNCATED, eh.e_shoff, "section header table (%u "
                            "entries) runs past the end of the %zu-byte file", eh.e_shnum, size);
    if (elf_getshdrnum(elf, &nsec) != 0 || (nsec && elf_getshdrstrndx(elf, &shstrndx) != 0))
        return elf_fail(err, HS_ERR_ELF, eh.e_shoff, "section header table");
    if (nsec > size / sizeof(Elf32_Shdr))
        return hs_error_set(err, HS_ERR_FORMAT, eh.e_shoff, "%zu sections in a %zu-byte file",
                            nsec, size);
    Elf_Scn *symscn = NULL;
    types[0] = types[1] = 0;
    *n = 0;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        const char *name;
        if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            symscn = scn;
        if ((sh.sh_flags & SHF_ALLOC) && !(sh.sh_flags & SHF_COMPRESSED) &&
            sh.sh_type != SHT_NOBITS && sh.sh_offset <= size &&
            sh.sh_size <= size - sh.sh_offset && sh.sh_addr + sh.sh_size >= sh.sh_addr) {
            int rc = godwarf_room(g, &g->segs, g->nsegs, &g->segs_cap, 1,
                                  sizeof *g->segs);
            if (rc < 0)
                return rc;
            g->segs[g->nsegs++] = (gw_seg){sh.sh_addr, sh.sh_size, sh.sh_offset};
        }
        if (strcmp(name, ".go.type") == 0 || strcmp(name, ".data.rel.ro.go.type") == 0) {
            types[0] = sh.sh_addr;
            types[1] = sh.sh_addr + sh.sh_size;
        }
        int gnu = strncmp(name, ".zdebug_", 8) == 0;
        if (sh.sh_type == SHT_NOBITS || (!gnu && strncmp(name, ".debug_", 7) != 0))
            continue;
        const char *base = name + (gnu ? 8 : 7);
        for (size_t w = 0; w < NWANTED; w++) {
            if (strcmp(base, wanted[w]) != 0)
                continue;
            if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
                return hs_error_set(err, HS_ERR_TRUNCATED, sh.sh_offset, "DWARF: %s: %llu "
                                    "bytes at %llu run past the end of the %zu-byte file",
                                    name, (unsigned long long)sh.sh_size,
                                    (unsigned long long)sh.sh_offset, size);
            size_t i = 0;
            while (i < *n && secs[i].name != wanted[w])
                i++;
            if (i == *n) /* a second section of one name is ignored */
                secs[(*n)++] = (dsec){wanted[w], sh.sh_offset, sh.sh_size, sh.sh_flags, gnu};
            int rc = claimed_size(data, &secs[i], data[EI_CLASS], err);
            if (rc < 0)
                return rc;
        }
    }
    Elf_Data *d = symscn ? elf_getdata(symscn, NULL) : NULL;
    GElf_Shdr ssh;
    if (d && gelf_getshdr(symscn, &ssh)) {
        uint64_t found[2] = {0, 0};
        GElf_Sym sym;
        for (int i = 0; gelf_getsym(d, i, &sym) && !(found[0] && found[1]); i++) {
            const char *s = elf_strptr(elf, ssh.sh_link, sym.st_name);
            if (s && strncmp(s, "runtime.", 8) == 0 && strcmp(s + 8, "types") == 0)
                found[0] = sym.st_value;
            else if (s && strncmp(s, "runtime.", 8) == 0 && strcmp(s + 8, "etypes") == 0)
                found[1] = sym.st_value;
        }
        if (found[0] && found[1] > found[0]) {
            types[0] = found[0];
            types[1] = found[1];
        }
    }
    return HS_OK;
}

/* An ELF image of the class of the input holding copies of the debug sections: header,
 * section bytes (8-aligned), names, section headers. *img is malloc'd. */
static int make_image(const uint8_t *data, const dsec *secs, size_t n, uint8_t **img,
                      size_t *len, hs_error *err)
{
    const int is64 = data[EI_CLASS] == ELFCLASS64;
    const size_t ehsz = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    const size_t shsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    char names[NWANTED * 24 + 16] = "\0.shstrtab";
    size_t names_len = 11, name_at[NWANTED];
    uint64_t at = ehsz, data_at[NWANTED];
    for (size_t i = 0; i < n; i++) {
        name_at[i] = names_len;
        names_len += (size_t)sprintf(names + names_len, ".debug_%s", secs[i].name) + 1;
        at = (at + 7) & ~7ull;
        data_at[i] = at;
        at += secs[i].size;
    }
    uint64_t strtab_at = at, shoff = (at + names_len + 7) & ~7ull;
    uint64_t total = shoff + (n + 2) * shsz;
    if (total > SIZE_MAX || !(*img = calloc(1, (size_t)total)))
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "DWARF: a copy of the %llu "
                            "bytes of debug sections", (unsigned long long)total);
    uint8_t *p = *img;
    *len = (size_t)total;
    for (size_t i = 0; i < n; i++)
        memcpy(p + data_at[i], data + secs[i].off, (size_t)secs[i].size);
    memcpy(p + strtab_at, names, names_len);
    uint16_t machine = (uint16_t)hs_load_le(data + EI_NIDENT + 2, 2);
    for (size_t i = 0; i <= n + 1; i++) { /* null section, the debug ones, .shstrtab */
        int strtab = i == n + 1;
        const dsec *s = i && !strtab ? &secs[i - 1] : NULL;
        uint32_t nm = strtab ? 1 : s ? (uint32_t)name_at[i - 1] : 0;
        uint32_t type = strtab ? SHT_STRTAB : s ? SHT_PROGBITS : SHT_NULL;
        uint64_t fl = s ? s->flags & SHF_COMPRESSED : 0;
        uint64_t off = strtab ? strtab_at : s ? data_at[i - 1] : 0;
        uint64_t sz = strtab ? names_len : s ? s->size : 0;
        uint64_t align = fl ? (is64 ? 8 : 4) : 1;
        if (is64) {
            Elf64_Shdr sh = {nm, type, fl, 0, off, sz, 0, 0, align, 0};
            memcpy(p + shoff + i * shsz, &sh, shsz);
        } else {
            Elf32_Shdr sh = {nm, type, (Elf32_Word)fl, 0, (Elf32_Off)off, (Elf32_Word)sz, 0,
                             0, (Elf32_Word)align, 0};
            memcpy(p + shoff + i * shsz, &sh, shsz);
        }
    }
    if (!is64 && total > UINT32_MAX)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "DWARF: 32-bit ELF with %llu "
                            "bytes of debug sections", (unsigned long long)total);
    if (is64) {
        Elf64_Ehdr eh = {{0}, ET_EXEC, machine, EV_CURRENT, 0, 0, shoff, 0, (uint16_t)ehsz,
                         0, 0, (uint16_t)shsz, (uint16_t)(n + 2), (uint16_t)(n + 1)};
        memcpy(eh.e_ident, data, EI_NIDENT);
        memcpy(p, &eh, ehsz);
    } else {
        Elf32_Ehdr eh = {{0}, ET_EXEC, machine, EV_CURRENT, 0, 0, (Elf32_Off)shoff, 0,
                         (uint16_t)ehsz, 0, 0, (uint16_t)shsz, (uint16_t)(n + 2),
                         (uint16_t)(n + 1)};
        memcpy(eh.e_ident, data, EI_NIDENT);
        memcpy(p, &eh, ehsz);
    }
    return HS_OK;
}

/* Decompresses the copied sections in place (libelf keeps the results until elf_end). */
static int decompress(Elf *elf, const dsec *secs, size_t n, hs_error *err)
{
    size_t i = 0;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && i < n; scn = elf_nextscn(elf, scn), i++) {
        const dsec *s = &secs[i];
        int r = 1;
        if (s->flags & SHF_COMPRESSED)
            r = elf_compress(scn, 0, 0);
        else if (s->gnu)
            r = elf_compress_gnu(scn, 0, 0);
        if (r < 0)
            return hs_error_set(err, HS_ERR_ELF, s->off, "DWARF: decompressing %s_%s: %s",
                                s->gnu ? ".zdebug" : ".debug", s->name, elf_errmsg(-1));
    }
    return HS_OK;
}

static int global_die(gw *g, Dwarf_Die *die)
{
    gw_attrs a;
    Dwarf_Block blk;
    Dwarf_Op ops[1];
    size_t n;
    int rc = godwarf_attrs(g, die, &a);
    if (rc < 0 || !a.name || !a.type || !a.has_location ||
        dwarf_formblock(&a.location, &blk) != 0 ||
        godwarf_block_ops(&blk, g->ptr_size, 1, ops, &n) != 0 || n != 1 ||
        ops[0].atom != DW_OP_addr)
        return rc; /* no address of its own */
    if ((rc = godwarf_room(g, &g->globals, g->nglobals, &g->globals_cap, 1,
                           sizeof *g->globals)) < 0)
        return rc;
    g->globals[g->nglobals++] = (raw_global){a.name, ops[0].number, a.type};
    return HS_OK;
}

/* The packages whose constants godwarf_read_consts keeps. */
static const char *const const_pkgs[] = {"runtime.", "internal/abi.", "internal/runtime/gc.",
                                         "internal/goarch."};

static int const_die(gw *g, Dwarf_Die *die)
{
    Dwarf_Attribute at;
    Dwarf_Sword v;
    const char *name = dwarf_diename(die);
    if (!name || !dwarf_attr(die, DW_AT_const_value, &at) || dwarf_formsdata(&at, &v) != 0)
        return HS_OK;
    size_t k = 0;
    while (k < sizeof const_pkgs / sizeof *const_pkgs &&
           strncmp(name, const_pkgs[k], strlen(const_pkgs[k])) != 0)
        k++;
    if (k == sizeof const_pkgs / sizeof *const_pkgs)
        return HS_OK;
    int rc = godwarf_room(g, &g->consts, g->nconsts, &g->consts_cap, 1, sizeof *g->consts);
    if (rc < 0)
        return rc;
    g->consts[g->nconsts++] = (raw_const){name, (int64_t)v};
    return HS_OK;
}

struct godwarf_consts {
    raw_const *e; /* sorted by name; names point into `names` */
    size_t n;
    char *names;
};

static int const_cmp(const void *a, const void *b)
{
    return strcmp(((const raw_const *)a)->name, ((const raw_const *)b)->name);
}

/* Copies the constants read into a table of their own (the names outlive libdw). */
static int build_consts(gw *g, godwarf_consts **out)
{
    size_t bytes = 0;
    for (size_t i = 0; i < g->nconsts; i++)
        bytes += strlen(g->consts[i].name) + 1;
    godwarf_consts *c = calloc(1, sizeof *c);
    if (!c || !(c->e = malloc((g->nconsts ? g->nconsts : 1) * sizeof *c->e)) ||
        !(c->names = malloc(bytes ? bytes : 1))) {
        godwarf_consts_free(c);
        return hs_error_set(g->err, HS_ERR_NOMEM, HS_NO_OFFSET, "DWARF constants");
    }
    char *p = c->names;
    for (size_t i = 0; i < g->nconsts; i++) {
        size_t n = strlen(g->consts[i].name) + 1;
        memcpy(p, g->consts[i].name, n);
        c->e[i] = (raw_const){p, g->consts[i].value};
        p += n;
    }
    c->n = g->nconsts;
    qsort(c->e, c->n, sizeof *c->e, const_cmp);
    *out = c;
    return HS_OK;
}

int godwarf_const(const godwarf_consts *c, const char *name, int64_t *value)
{
    raw_const key = {name, 0};
    const raw_const *e = c ? bsearch(&key, c->e, c->n, sizeof *c->e, const_cmp) : NULL;
    if (!e)
        return HS_ERR_NOTFOUND;
    *value = e->value;
    return HS_OK;
}

void godwarf_consts_free(godwarf_consts *c)
{
    if (!c)
        return;
    free(c->e);
    free(c->names);
    free(c);
}

/* "Go cmd/compile go1.26.8; regabi" */
static void read_producer(gw *g, Dwarf_Die *cu)
{
    static const char go[] = "Go cmd/compile ";
    Dwarf_Attribute at;
    const char *p = dwarf_attr(cu, DW_AT_producer, &at) ? dwarf_formstring(&at) : NULL;
    if (!p || strncmp(p, go, sizeof go - 1) != 0)
        return;
    p += sizeof go - 1;
    size_t n = strcspn(p, "; ");
    if (n >= sizeof g->go_version)
        n = sizeof g->go_version - 1;
    memcpy(g->go_version, p, n);
    g->go_version[n] = '\0';
    g->regabi = strstr(p, "regabi") != NULL;
}

static int walk_units(gw *g)
{
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie, sub;
    Dwarf_Half version;
    uint8_t unit_type;
    int r;
    while ((r = dwarf_get_units(g->dbg, cu, &cu, &version, &unit_type, &cudie, &sub)) == 0) {
        if (dwarf_tag(&cudie) != DW_TAG_compile_unit)
            continue;
        if (!g->go_version[0])
            read_producer(g, &cudie);
        /* what location lists of the unit are read with (godwarf_loc.c) */
        Dwarf_Addr low;
        Dwarf_Word base;
        Dwarf_Attribute at;
        uint8_t asize = 0;
        g->cu_version = version;
        g->cu_addr_size = dwarf_diecu(&cudie, &sub, &asize, NULL) && (asize == 4 || asize == 8)
                              ? asize : 0;
        g->cu_base = dwarf_lowpc(&cudie, &low) == 0 ? low : 0;
        g->cu_has_addr_base = dwarf_attr(&cudie, DW_AT_addr_base, &at) &&
                              dwarf_formudata(&at, &base) == 0;
        g->cu_addr_base = g->cu_has_addr_base ? base : 0;
        Dwarf_Die die;
        int k = dwarf_child(&cudie, &die);
        if (k < 0)
            return godwarf_fail(g, dwarf_dieoffset(&cudie), "its children");
        while (k == 0) {
            int rc = HS_OK, tag = dwarf_tag(&die);
            switch (tag) {
            case DW_TAG_base_type: case DW_TAG_pointer_type: case DW_TAG_structure_type:
            case DW_TAG_array_type: case DW_TAG_subroutine_type: case DW_TAG_typedef:
            case DW_TAG_unspecified_type:
                rc = godwarf_type_die(g, &die, tag);
                break;
            case DW_TAG_variable:
                rc = global_die(g, &die);
                break;
            case DW_TAG_constant:
                rc = g->want_consts ? const_die(g, &die) : HS_OK;
                break;
            case DW_TAG_subprogram:
                rc = godwarf_func_die(g, &die);
                break;
            default:
                break;
            }
            if (rc < 0)
                return rc;
            if ((k = dwarf_siblingof(&die, &die)) < 0)
                return godwarf_fail(g, dwarf_dieoffset(&die), "its next sibling");
        }
    }
    if (r < 0)
        return godwarf_fail(g, 0, "the next unit");
    return HS_OK;
}

int godwarf_read(const uint8_t *data, size_t size, typetab **out, hs_error *err)
{
    return godwarf_read_consts(data, size, out, NULL, err);
}

int godwarf_read_consts(const uint8_t *data, size_t size, typetab **out,
                        godwarf_consts **consts, hs_error *err)
{
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "godwarf_read: bad argument");
    *out = NULL;
    if (consts)
        *consts = NULL;
    int rc = elfimg_check_ident(data, size, err);
    if (rc < 0)
        return rc;
    if (elf_version(EV_CURRENT) == EV_NONE)
        return elf_fail(err, HS_ERR_ELF, HS_NO_OFFSET, "libelf initialisation");
    gw g = {0};
    g.err = err;
    g.data = data;
    g.ptr_size = data[EI_CLASS] == ELFCLASS64 ? 8 : 4;
    g.info_at = HS_NO_OFFSET;
    g.want_consts = consts != NULL;
    Elf *src = NULL, *copy = NULL;
    uint8_t *img = NULL;
    size_t img_len = 0, nsecs = 0;
    dsec secs[NWANTED];
    /* only read: no call below writes to the caller's bytes */
    if (!(src = elf_memory((char *)data, size)) || elf_kind(src) != ELF_K_ELF) {
        rc = elf_fail(err, HS_ERR_ELF, HS_NO_OFFSET, "elf_memory");
        goto out;
    }
    uint64_t types[2] = {0, 0};
    if ((rc = scan_sections(&g, src, data, size, secs, &nsecs, types, err)) < 0)
        goto out;
    g.types_base = types[0];
    g.types_end = types[1];
    const dsec *info = NULL;
    for (size_t i = 0; i < nsecs; i++)
        if (secs[i].name == wanted[0] && secs[i].size)
            info = &secs[i];
    if (!info) {
        rc = hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET, "no DWARF (no .debug_info): "
                          "built with -ldflags=-w or -s, or stripped");
        goto out;
    }
    if (!info->gnu && !(info->flags & SHF_COMPRESSED))
        g.info_at = info->off;
    if ((rc = make_image(data, secs, nsecs, &img, &img_len, err)) < 0)
        goto out;
    if (!(copy = elf_memory((char *)img, img_len))) {
        rc = elf_fail(err, HS_ERR_ELF, HS_NO_OFFSET, "opening the debug sections");
        goto out;
    }
    if ((rc = decompress(copy, secs, nsecs, err)) < 0)
        goto out;
    if (!(g.dbg = dwarf_begin_elf(copy, DWARF_C_READ, NULL))) {
        rc = hs_error_set(err, HS_ERR_FORMAT, info->off, "DWARF: libdw: %s", dwarf_errmsg(-1));
        goto out;
    }
    for (size_t i = 0; i < nsecs; i++) { /* sections are 1..n of the copy, in secs' order */
        Elf_Data *d = elf_getdata(elf_getscn(copy, i + 1), NULL);
        const uint8_t *p = d ? d->d_buf : NULL;
        size_t n = p ? d->d_size : 0;
        if (!strcmp(secs[i].name, "loc"))
            g.loc = p, g.loc_len = n;
        else if (!strcmp(secs[i].name, "loclists"))
            g.loclists = p, g.loclists_len = n;
        else if (!strcmp(secs[i].name, "addr"))
            g.addr = p, g.addr_len = n;
    }
    if ((rc = walk_units(&g)) < 0 || (rc = godwarf_build(&g, out)) < 0)
        goto out;
    if (consts && (rc = build_consts(&g, consts)) < 0) {
        typetab_free(*out);
        *out = NULL;
    }
out:
    if (g.dbg)
        dwarf_end(g.dbg);
    if (copy)
        elf_end(copy);
    if (src)
        elf_end(src);
    free(img);
    free(g.segs);
    free(g.types);
    free(g.fields);
    free(g.globals);
    free(g.funcs);
    free(g.vars);
    free(g.consts);
    return rc;
}
