/* coremem.c - the memory image of a stopped process (coremem.h): an ELF core parsed from
 * memory, or the segments, threads and files a live snapshot adds (dumper/dump_snap.c).
 * docs/memory-image.md describes the model and what a core holds.
 *
 * Layouts: the ELF structures of <elf.h>; the Linux x86_64 note payloads struct elf_prstatus
 * and struct elf_prpsinfo (<sys/procfs.h>, linux/include/linux/elfcore.h) and the register
 * block struct user_regs_struct (<sys/user.h>); NT_FILE as fs/binfmt_elf.c fill_files_note
 * writes it. Every field is read little-endian from checked offsets; nothing is cast in place.
 *
 * Lookups are a binary search over the segments sorted by address; the image is not changed
 * after coremem_finish, so any number of threads may read it at once. */
#include "coremem.h"

#include <elf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_grow.h"
#include "hs_io.h"
#include "hs_search.h"

/* struct elf_prstatus (x86_64): pr_cursig, pr_pid, pr_reg (27 words of user_regs_struct). */
#define PRSTATUS_CURSIG 12
#define PRSTATUS_PID 32
#define PRSTATUS_REG 112
#define PRSTATUS_MIN (PRSTATUS_REG + 27 * 8)
/* user_regs_struct word indexes */
#define REG_RBP 4
#define REG_RIP 16
#define REG_RSP 19
#define REG_FS_BASE 21
/* struct elf_prpsinfo (x86_64): pr_pid, pr_fname[16]. */
#define PRPSINFO_PID 24
#define PRPSINFO_FNAME 40
#define PRPSINFO_MIN (PRPSINFO_FNAME + 16)

#define ULL(x) ((unsigned long long)(x))

typedef struct seg_rec {
    coremem_segment s;
    uint8_t *owned; /* bytes to free (a snapshot's); NULL when borrowed from the core */
    uint64_t where; /* core: byte offset of the PT_LOAD header; HS_NO_OFFSET otherwise */
    size_t index;   /* core: the program header's index */
} seg_rec;

struct coremem {
    seg_rec *segs;
    size_t nsegs, segcap;
    coremem_thread *threads;
    size_t nthreads, thrcap;
    coremem_file *files;
    size_t nfiles, filecap;
    coremem_info info;
    int finished;
};

coremem *coremem_new(void)
{
    return calloc(1, sizeof(coremem));
}

void coremem_free(coremem *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nsegs; i++)
        free(m->segs[i].owned);
    for (size_t i = 0; i < m->nfiles; i++)
        free((char *)m->files[i].path);
    free(m->segs);
    free(m->threads);
    free(m->files);
    free(m);
}

static int not_open(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "%s after coremem_finish", what);
}

/* Appends a segment record; bytes are owned (freed on failure too) when own is set. */
static int push_seg(coremem *m, const seg_rec *r, hs_error *err)
{
    int fail = 0;
    m->segs = hs_grow(m->segs, &m->segcap, m->nsegs + 1, sizeof *m->segs, 64, &fail);
    if (fail) {
        free(r->owned);
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "segment table");
    }
    m->segs[m->nsegs++] = *r;
    return HS_OK;
}

int coremem_add_segment(coremem *m, uint64_t vaddr, uint64_t memsz, uint8_t *bytes,
                        uint64_t filesz, uint32_t flags, hs_error *err)
{
    uint64_t end;
    if (m->finished) {
        free(bytes);
        return not_open(err, "coremem_add_segment");
    }
    if (filesz > memsz || memsz == 0 || hs_add_ovf(vaddr, memsz, &end) || (filesz && !bytes)) {
        free(bytes);
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "segment at 0x%llx: %llu bytes held of %llu spanned", ULL(vaddr),
                            ULL(filesz), ULL(memsz));
    }
    seg_rec r = {.s = {.vaddr = vaddr, .memsz = memsz, .filesz = filesz, .bytes = bytes,
                       .flags = flags & (COREMEM_R | COREMEM_W | COREMEM_X)},
                 .owned = bytes, .where = HS_NO_OFFSET, .index = m->nsegs};
    return push_seg(m, &r, err);
}

int coremem_add_thread(coremem *m, const coremem_thread *t, hs_error *err)
{
    if (m->finished)
        return not_open(err, "coremem_add_thread");
    int fail = 0;
    m->threads = hs_grow(m->threads, &m->thrcap, m->nthreads + 1, sizeof *m->threads, 16, &fail);
    if (fail)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "thread table");
    m->threads[m->nthreads++] = *t;
    return HS_OK;
}

int coremem_add_file(coremem *m, uint64_t start, uint64_t end, uint64_t file_off,
                     const char *path, hs_error *err)
{
    if (m->finished)
        return not_open(err, "coremem_add_file");
    int fail = 0;
    m->files = hs_grow(m->files, &m->filecap, m->nfiles + 1, sizeof *m->files, 32, &fail);
    char *p = fail ? NULL : strdup(path ? path : "");
    if (!p)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "file table");
    m->files[m->nfiles++] = (coremem_file){.start = start, .end = end, .file_off = file_off,
                                           .path = p};
    return HS_OK;
}

const coremem_info *coremem_get_info(const coremem *m)
{
    return &m->info;
}

coremem_info *coremem_info_mut(coremem *m)
{
    return &m->info;
}

static int by_vaddr(const void *a, const void *b)
{
    const seg_rec *x = a, *y = b;
    if (x->s.vaddr != y->s.vaddr)
        return x->s.vaddr < y->s.vaddr ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* "PT_LOAD 3 at byte 0x1c8: [0x.., 0x..)" or "segment [0x.., 0x..)" */
static const char *seg_name(const seg_rec *r, char *buf, size_t cap)
{
    if (r->where != HS_NO_OFFSET)
        snprintf(buf, cap, "PT_LOAD %zu at byte 0x%llx: [0x%llx, 0x%llx)", r->index,
                 ULL(r->where), ULL(r->s.vaddr), ULL(r->s.vaddr + r->s.memsz));
    else
        snprintf(buf, cap, "segment [0x%llx, 0x%llx)", ULL(r->s.vaddr),
                 ULL(r->s.vaddr + r->s.memsz));
    return buf;
}

int coremem_finish(coremem *m, hs_error *err)
{
    if (m->finished)
        return not_open(err, "coremem_finish");
    if (m->nsegs > 1)
        qsort(m->segs, m->nsegs, sizeof *m->segs, by_vaddr);
    for (size_t i = 1; i < m->nsegs; i++) {
        const seg_rec *a = &m->segs[i - 1], *b = &m->segs[i];
        if (b->s.vaddr - a->s.vaddr < a->s.memsz) {
            char x[128], y[128];
            const seg_rec *later = a->where != HS_NO_OFFSET && a->where > b->where ? a : b;
            return hs_error_set(err, HS_ERR_FORMAT, later->where, "%s overlaps %s",
                                seg_name(later, x, sizeof x),
                                seg_name(later == a ? b : a, y, sizeof y));
        }
    }
    m->finished = 1;
    return HS_OK;
}

/* The segment whose span holds addr, or NULL. */
static const seg_rec *find_seg(const coremem *m, uint64_t addr)
{
    if (!m->finished)
        return NULL;
    size_t i = hs_upper_bound64(m->segs, m->nsegs, sizeof *m->segs,
                                offsetof(seg_rec, s) + offsetof(coremem_segment, vaddr), addr);
    if (i == 0)
        return NULL;
    const seg_rec *r = &m->segs[i - 1];
    return addr - r->s.vaddr < r->s.memsz ? r : NULL;
}

const uint8_t *coremem_ptr(const coremem *m, uint64_t addr, uint64_t len)
{
    const seg_rec *r = find_seg(m, addr);
    if (!r)
        return NULL;
    uint64_t off = addr - r->s.vaddr;
    if (!r->s.bytes || off > r->s.filesz || len > r->s.filesz - off)
        return NULL;
    return r->s.bytes + off;
}

int coremem_read(const coremem *m, uint64_t addr, void *buf, size_t len, hs_error *err)
{
    uint8_t *out = buf;
    uint64_t a = addr, end;
    if (hs_add_ovf(addr, len, &end) && end != 0)
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "%zu bytes at 0x%llx wrap around the address space", len, ULL(addr));
    const char *image = m->info.from_core ? "core" : "snapshot";
    while (len) {
        const seg_rec *r = find_seg(m, a);
        if (!r)
            return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                                "address 0x%llx is not mapped in the %s", ULL(a), image);
        uint64_t off = a - r->s.vaddr;
        if (off >= r->s.filesz) {
            char name[128];
            return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                                "address 0x%llx is mapped (%s) but the %s holds no bytes for "
                                "it (held: the first 0x%llx bytes)",
                                ULL(a), seg_name(r, name, sizeof name), image, ULL(r->s.filesz));
        }
        uint64_t n = r->s.filesz - off;
        if (n > len)
            n = len;
        memcpy(out, r->s.bytes + off, n);
        out += n;
        a += n;
        len -= n;
    }
    return HS_OK;
}

int coremem_u64(const coremem *m, uint64_t addr, uint64_t *v, hs_error *err)
{
    const uint8_t *p = coremem_ptr(m, addr, 8);
    uint8_t b[8];
    if (!p) {
        int rc = coremem_read(m, addr, b, sizeof b, err);
        if (rc < 0)
            return rc;
        p = b;
    }
    *v = hs_load_le64(p);
    return HS_OK;
}

size_t coremem_segment_count(const coremem *m)
{
    return m->nsegs;
}

const coremem_segment *coremem_segment_get(const coremem *m, size_t i)
{
    return i < m->nsegs ? &m->segs[i].s : NULL;
}

size_t coremem_thread_count(const coremem *m)
{
    return m->nthreads;
}

const coremem_thread *coremem_thread_get(const coremem *m, size_t i)
{
    return i < m->nthreads ? &m->threads[i] : NULL;
}

size_t coremem_file_count(const coremem *m)
{
    return m->nfiles;
}

const coremem_file *coremem_file_get(const coremem *m, size_t i)
{
    return i < m->nfiles ? &m->files[i] : NULL;
}

/* ---- ELF core files ---- */

typedef struct core_in {
    const uint8_t *d;
    size_t size;
    coremem *m;
    int have_psinfo;
} core_in;

static uint64_t le16(const uint8_t *p)
{
    return hs_load_le(p, 2);
}

static uint64_t le32(const uint8_t *p)
{
    return hs_load_le(p, 4);
}

static const char *etype_name(uint64_t t)
{
    switch (t) {
    case ET_NONE: return "ET_NONE";
    case ET_REL: return "ET_REL";
    case ET_EXEC: return "ET_EXEC";
    case ET_DYN: return "ET_DYN";
    default: return "unknown";
    }
}

static const char *machine_name(uint64_t m)
{
    switch (m) {
    case EM_386: return "i386";
    case EM_ARM: return "ARM";
    case EM_AARCH64: return "AArch64";
    case EM_PPC64: return "PowerPC 64";
    case EM_S390: return "s390";
    case EM_RISCV: return "RISC-V";
    default: return "unknown";
    }
}

/* The ELF header: identity, type, machine, program header table [*phoff, + *phnum * 56). */
static int read_ehdr(const core_in *c, uint64_t *phoff, uint64_t *phnum, hs_error *err)
{
    static const uint8_t magic[4] = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3};
    const uint8_t *d = c->d;
    size_t size = c->size, nmag = size < 4 ? size : 4;
    if (nmag && memcmp(d, magic, nmag) != 0)
        return hs_error_set(err, HS_ERR_FORMAT, 0, "not an ELF file (no \\177ELF magic)");
    if (size > EI_CLASS && d[EI_CLASS] != ELFCLASS64)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, EI_CLASS,
                            "ELF class %u: only 64-bit cores are read", d[EI_CLASS]);
    if (size > EI_DATA && d[EI_DATA] != ELFDATA2LSB)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, EI_DATA,
                            "ELF data encoding %u: only little-endian cores are read",
                            d[EI_DATA]);
    if (size < sizeof(Elf64_Ehdr))
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "ELF header: the core ends at byte %zu of the header's %zu", size,
                            sizeof(Elf64_Ehdr));
    uint64_t type = le16(d + offsetof(Elf64_Ehdr, e_type));
    if (type != ET_CORE)
        return hs_error_set(err, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_type),
                            "not a core file: e_type %llu (%s)", ULL(type), etype_name(type));
    uint64_t mach = le16(d + offsetof(Elf64_Ehdr, e_machine));
    if (mach != EM_X86_64)
        return hs_error_set(err, HS_ERR_UNSUPPORTED, offsetof(Elf64_Ehdr, e_machine),
                            "e_machine %llu (%s): only x86_64 cores are read", ULL(mach),
                            machine_name(mach));
    uint64_t phentsize = le16(d + offsetof(Elf64_Ehdr, e_phentsize));
    if (phentsize != sizeof(Elf64_Phdr))
        return hs_error_set(err, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_phentsize),
                            "e_phentsize %llu, not %zu", ULL(phentsize), sizeof(Elf64_Phdr));
    *phoff = hs_load_le64(d + offsetof(Elf64_Ehdr, e_phoff));
    *phnum = le16(d + offsetof(Elf64_Ehdr, e_phnum));
    if (*phnum == PN_XNUM) {
        /* More than 65534 segments: the count is section header 0's sh_info. */
        uint64_t shoff = hs_load_le64(d + offsetof(Elf64_Ehdr, e_shoff)), shend;
        if (hs_add_ovf(shoff, sizeof(Elf64_Shdr), &shend))
            return hs_error_set(err, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_shoff),
                                "e_phnum is PN_XNUM and e_shoff 0x%llx is out of range",
                                ULL(shoff));
        if (shend > size)
            return hs_error_set(err, HS_ERR_TRUNCATED, size,
                                "e_phnum is PN_XNUM: section header 0 [0x%llx, 0x%llx), which "
                                "holds the count, runs past the end of the core (size 0x%zx)",
                                ULL(shoff), ULL(shend), size);
        *phnum = le32(d + shoff + offsetof(Elf64_Shdr, sh_info));
    }
    if (*phnum == 0)
        return hs_error_set(err, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_phnum),
                            "no program headers: a core has its memory in PT_LOAD segments");
    uint64_t bytes, end;
    if (hs_mul_ovf(*phnum, sizeof(Elf64_Phdr), &bytes) || hs_add_ovf(*phoff, bytes, &end))
        return hs_error_set(err, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_phoff),
                            "program headers: e_phoff 0x%llx + %llu x 56 bytes overflows",
                            ULL(*phoff), ULL(*phnum));
    if (end > size)
        return hs_error_set(err, HS_ERR_TRUNCATED, size,
                            "program headers [0x%llx, 0x%llx) run past the end of the core "
                            "(size 0x%zx)", ULL(*phoff), ULL(end), size);
    return HS_OK;
}

typedef struct phdr {
    uint64_t type, flags, offset, vaddr, filesz, memsz, align;
    uint64_t where; /* byte offset of the header */
    size_t index;
} phdr;

static phdr read_phdr(const core_in *c, uint64_t phoff, size_t i)
{
    const uint8_t *p = c->d + phoff + i * sizeof(Elf64_Phdr);
    return (phdr){
        .type = le32(p + offsetof(Elf64_Phdr, p_type)),
        .flags = le32(p + offsetof(Elf64_Phdr, p_flags)),
        .offset = hs_load_le64(p + offsetof(Elf64_Phdr, p_offset)),
        .vaddr = hs_load_le64(p + offsetof(Elf64_Phdr, p_vaddr)),
        .filesz = hs_load_le64(p + offsetof(Elf64_Phdr, p_filesz)),
        .memsz = hs_load_le64(p + offsetof(Elf64_Phdr, p_memsz)),
        .align = hs_load_le64(p + offsetof(Elf64_Phdr, p_align)),
        .where = phoff + i * sizeof(Elf64_Phdr),
        .index = i,
    };
}

/* Checks that the segment's file bytes lie inside the core. */
static int check_file_bytes(const core_in *c, const phdr *h, const char *kind, hs_error *err)
{
    uint64_t end;
    if (h->filesz == 0)
        return HS_OK; /* no bytes: p_offset means nothing */
    if (hs_add_ovf(h->offset, h->filesz, &end))
        return hs_error_set(err, HS_ERR_FORMAT, h->where + offsetof(Elf64_Phdr, p_offset),
                            "%s %zu at byte 0x%llx: p_offset 0x%llx + p_filesz 0x%llx overflows",
                            kind, h->index, ULL(h->where), ULL(h->offset), ULL(h->filesz));
    if (end > c->size)
        return hs_error_set(err, HS_ERR_TRUNCATED, c->size,
                            "%s %zu at byte 0x%llx: file bytes [0x%llx, 0x%llx) run past the "
                            "end of the core (size 0x%zx)", kind, h->index, ULL(h->where),
                            ULL(h->offset), ULL(end), c->size);
    return HS_OK;
}

static int add_load(core_in *c, const phdr *h, hs_error *err)
{
    uint64_t vend;
    int rc;
    if (h->filesz > h->memsz)
        return hs_error_set(err, HS_ERR_FORMAT, h->where + offsetof(Elf64_Phdr, p_filesz),
                            "PT_LOAD %zu at byte 0x%llx: p_filesz 0x%llx exceeds p_memsz 0x%llx",
                            h->index, ULL(h->where), ULL(h->filesz), ULL(h->memsz));
    if (hs_add_ovf(h->vaddr, h->memsz, &vend))
        return hs_error_set(err, HS_ERR_FORMAT, h->where + offsetof(Elf64_Phdr, p_vaddr),
                            "PT_LOAD %zu at byte 0x%llx: [0x%llx, + 0x%llx) wraps around the "
                            "address space", h->index, ULL(h->where), ULL(h->vaddr),
                            ULL(h->memsz));
    if ((rc = check_file_bytes(c, h, "PT_LOAD", err)) < 0)
        return rc;
    if (h->memsz == 0)
        return HS_OK;
    uint32_t flags = (h->flags & PF_R ? COREMEM_R : 0) | (h->flags & PF_W ? COREMEM_W : 0) |
                     (h->flags & PF_X ? COREMEM_X : 0);
    seg_rec r = {.s = {.vaddr = h->vaddr, .memsz = h->memsz, .filesz = h->filesz,
                       .bytes = h->filesz ? c->d + h->offset : NULL, .file_off = h->offset,
                       .flags = flags},
                 .where = h->where, .index = h->index};
    return push_seg(c->m, &r, err);
}

/* One note: its name (NUL included in namesz), type and payload [desc, desc + descsz). */
typedef struct note {
    const char *name;
    uint64_t namesz, type, desc, descsz;
    uint64_t where; /* byte offset of the note header */
} note;

static int note_short(const note *n, const char *what, uint64_t need, hs_error *err)
{
    return hs_error_set(err, HS_ERR_FORMAT, n->where,
                        "%s note at byte 0x%llx: %llu bytes of payload, at least %llu expected",
                        what, ULL(n->where), ULL(n->descsz), ULL(need));
}

static int note_prstatus(core_in *c, const note *n, hs_error *err)
{
    if (n->descsz < PRSTATUS_MIN)
        return note_short(n, "NT_PRSTATUS", PRSTATUS_MIN, err);
    const uint8_t *p = c->d + n->desc, *reg = p + PRSTATUS_REG;
    coremem_thread t = {
        .tid = (int32_t)le32(p + PRSTATUS_PID),
        .pc = hs_load_le64(reg + 8 * REG_RIP),
        .sp = hs_load_le64(reg + 8 * REG_RSP),
        .bp = hs_load_le64(reg + 8 * REG_RBP),
        .fs_base = hs_load_le64(reg + 8 * REG_FS_BASE),
    };
    if (c->m->nthreads == 0) /* the kernel writes the thread that got the signal first */
        c->m->info.signal = (int16_t)le16(p + PRSTATUS_CURSIG);
    return coremem_add_thread(c->m, &t, err);
}

static int note_prpsinfo(core_in *c, const note *n, hs_error *err)
{
    if (n->descsz < PRPSINFO_MIN)
        return note_short(n, "NT_PRPSINFO", PRPSINFO_MIN, err);
    const uint8_t *p = c->d + n->desc;
    c->m->info.pid = (int32_t)le32(p + PRPSINFO_PID);
    size_t len = strnlen((const char *)p + PRPSINFO_FNAME, 16);
    memcpy(c->m->info.comm, p + PRPSINFO_FNAME, len);
    c->m->info.comm[len] = '\0';
    c->have_psinfo = 1;
    return HS_OK;
}

static void note_auxv(core_in *c, const note *n)
{
    const uint8_t *p = c->d + n->desc;
    for (uint64_t i = 0; i + 16 <= n->descsz; i += 16) {
        uint64_t type = hs_load_le64(p + i), val = hs_load_le64(p + i + 8);
        if (type == AT_NULL)
            break;
        if (type == AT_ENTRY)
            c->m->info.at_entry = val;
        else if (type == AT_PHDR)
            c->m->info.at_phdr = val;
    }
}

/* NT_FILE: count, page size, count x {start, end, page offset}, then count paths. */
static int note_file(core_in *c, const note *n, hs_error *err)
{
    if (n->descsz < 16)
        return note_short(n, "NT_FILE", 16, err);
    const uint8_t *p = c->d + n->desc;
    uint64_t count = hs_load_le64(p), page = hs_load_le64(p + 8), table;
    if (hs_mul_ovf(count, 24, &table) || hs_add_ovf(table, 16, &table) || table > n->descsz)
        return hs_error_set(err, HS_ERR_FORMAT, n->desc,
                            "NT_FILE note at byte 0x%llx: %llu mappings do not fit in its %llu "
                            "bytes", ULL(n->where), ULL(count), ULL(n->descsz));
    uint64_t s = table;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = p + 16 + i * 24;
        uint64_t start = hs_load_le64(e), end = hs_load_le64(e + 8), off;
        const uint8_t *nul = memchr(p + s, 0, n->descsz - s);
        if (!nul)
            return hs_error_set(err, HS_ERR_FORMAT, n->desc + s,
                                "NT_FILE note at byte 0x%llx: path %llu has no terminating NUL "
                                "before the note ends at byte 0x%llx", ULL(n->where), ULL(i),
                                ULL(n->desc + n->descsz));
        if (start > end || hs_mul_ovf(hs_load_le64(e + 16), page, &off))
            return hs_error_set(err, HS_ERR_FORMAT, n->desc + 16 + i * 24,
                                "NT_FILE note at byte 0x%llx: mapping %llu [0x%llx, 0x%llx) "
                                "page offset %llu x page size %llu is out of range",
                                ULL(n->where), ULL(i), ULL(start), ULL(end),
                                ULL(hs_load_le64(e + 16)), ULL(page));
        int rc = coremem_add_file(c->m, start, end, off, (const char *)p + s, err);
        if (rc < 0)
            return rc;
        s = (uint64_t)(nul - p) + 1;
    }
    return HS_OK;
}

static int read_notes(core_in *c, const phdr *h, hs_error *err)
{
    int rc = check_file_bytes(c, h, "PT_NOTE", err);
    if (rc < 0)
        return rc;
    uint64_t a = h->align == 8 ? 8 : 4, pos = h->offset, end = h->offset + h->filesz;
    while (pos < end) {
        note n = {.where = pos};
        if (end - pos < 12)
            return hs_error_set(err, HS_ERR_FORMAT, pos,
                                "PT_NOTE %zu at byte 0x%llx: a note header at byte 0x%llx needs "
                                "12 bytes, the segment ends at byte 0x%llx", h->index,
                                ULL(h->where), ULL(pos), ULL(end));
        n.namesz = le32(c->d + pos);
        n.descsz = le32(c->d + pos + 4);
        n.type = le32(c->d + pos + 8);
        /* 32-bit sizes: the sums below cannot overflow 64 bits */
        uint64_t name = pos + 12;
        n.desc = name + ((n.namesz + a - 1) & ~(a - 1));
        if (n.desc > end || n.descsz > end - n.desc)
            return hs_error_set(err, HS_ERR_FORMAT, pos,
                                "PT_NOTE %zu at byte 0x%llx: note type 0x%llx at byte 0x%llx "
                                "(name %llu bytes, payload %llu) runs past the end of the "
                                "segment at byte 0x%llx", h->index, ULL(h->where), ULL(n.type),
                                ULL(pos), ULL(n.namesz), ULL(n.descsz), ULL(end));
        uint64_t next = n.desc + ((n.descsz + a - 1) & ~(a - 1));
        n.name = (const char *)c->d + name;
        pos = next < end ? next : end;
        if (n.namesz != 5 || memcmp(n.name, "CORE", 5) != 0)
            continue; /* "LINUX" (registers beyond the general ones) and others */
        if (n.type == NT_PRSTATUS)
            rc = note_prstatus(c, &n, err);
        else if (n.type == NT_PRPSINFO)
            rc = note_prpsinfo(c, &n, err);
        else if (n.type == NT_AUXV)
            note_auxv(c, &n);
        else if (n.type == NT_FILE)
            rc = note_file(c, &n, err);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}

/* exe: the file mapped where the program headers are (AT_PHDR), else the first file. */
static void pick_exe(coremem *m)
{
    const char *exe = m->nfiles ? m->files[0].path : "";
    for (size_t i = 0; i < m->nfiles && m->info.at_phdr; i++)
        if (m->files[i].start <= m->info.at_phdr && m->info.at_phdr < m->files[i].end) {
            exe = m->files[i].path;
            break;
        }
    snprintf(m->info.exe, sizeof m->info.exe, "%s", exe);
}

int coremem_from_core(const uint8_t *data, size_t size, coremem **out, hs_error *err)
{
    core_in c = {.d = data, .size = size};
    uint64_t phoff = 0, phnum = 0;
    int rc;
    *out = NULL;
    if ((rc = read_ehdr(&c, &phoff, &phnum, err)) < 0)
        return rc;
    if (!(c.m = coremem_new()))
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "core image");
    c.m->info.machine = EM_X86_64;
    c.m->info.from_core = 1;
    for (size_t i = 0; i < phnum; i++) {
        phdr h = read_phdr(&c, phoff, i);
        if (h.type == PT_LOAD)
            rc = add_load(&c, &h, err);
        else if (h.type == PT_NOTE)
            rc = read_notes(&c, &h, err);
        if (rc < 0)
            goto out;
    }
    if (!c.have_psinfo && c.m->nthreads)
        c.m->info.pid = c.m->threads[0].tid;
    pick_exe(c.m);
    if ((rc = coremem_finish(c.m, err)) < 0)
        goto out;
    *out = c.m;
    c.m = NULL;
out:
    coremem_free(c.m);
    return rc;
}
