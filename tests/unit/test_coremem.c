/* Unit tests for coremem: ELF cores made here in memory (an ELF header, a PT_NOTE with the
 * CORE notes, PT_LOADs, some adjacent and some holding fewer bytes than they span), the
 * producer API a live snapshot uses, and the broken cores of tests/broken/coremem (EXPECTED
 * gives each one's status and offset). Runs from tests/unit (meson workdir).
 */
#include <elf.h>
#include <stdlib.h>

#include "check.h"
#include "coremem.h"
#include "hs_io.h"

/* ---- a core writer ---- */

typedef struct buf {
    uint8_t *d;
    size_t n, cap;
} buf;

static void put(buf *b, size_t off, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        b->d[off + i] = (uint8_t)(v >> (8 * i));
}

/* Appends len bytes (zeros when p is NULL); returns their offset. */
static size_t append(buf *b, const void *p, size_t len)
{
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2 + 256;
        b->d = realloc(b->d, b->cap);
        if (!b->d)
            abort();
    }
    size_t at = b->n;
    if (p)
        memcpy(b->d + at, p, len);
    else
        memset(b->d + at, 0, len);
    b->n += len;
    return at;
}

static void align(buf *b, size_t a)
{
    while (b->n % a)
        append(b, NULL, 1);
}

/* A note named name with payload desc (4-byte alignment, as Linux writes them). */
static size_t add_note(buf *b, const char *name, uint32_t type, const void *desc, size_t len)
{
    size_t at = append(b, NULL, 12);
    put(b, at, strlen(name) + 1, 4);
    put(b, at + 4, len, 4);
    put(b, at + 8, type, 4);
    append(b, name, strlen(name) + 1);
    align(b, 4);
    append(b, desc, len);
    align(b, 4);
    return at;
}

static void add_prstatus(buf *b, int32_t tid, int16_t sig, uint64_t rip, uint64_t rsp,
                         uint64_t rbp, uint64_t fs_base)
{
    buf p = {0};
    append(&p, NULL, 336);
    put(&p, 12, (uint16_t)sig, 2);
    put(&p, 32, (uint32_t)tid, 4);
    put(&p, 112 + 8 * 4, rbp, 8);
    put(&p, 112 + 8 * 16, rip, 8);
    put(&p, 112 + 8 * 19, rsp, 8);
    put(&p, 112 + 8 * 21, fs_base, 8);
    put(&p, 112 + 8 * 10, 0xdead, 8); /* rax: read by nobody */
    add_note(b, "CORE", NT_PRSTATUS, p.d, p.n);
    free(p.d);
}

/* The test process: pid 100 "synthprog", threads 101 (SIGSEGV) and 102, auxv, two files. */
static size_t write_notes(buf *b, size_t *file_note)
{
    size_t start = b->n;
    add_prstatus(b, 101, 11, 0x401234, 0x7ffd0000ff00, 0x7ffd0000ff80, 0x7f0000001000);
    buf ps = {0};
    append(&ps, NULL, 136);
    put(&ps, 24, 100, 4);
    memcpy(ps.d + 40, "synthprog-name16", 16); /* 16 bytes, no NUL: comm keeps all 16 */
    add_note(b, "CORE", NT_PRPSINFO, ps.d, ps.n);
    free(ps.d);
    uint64_t aux[] = {AT_PAGESZ, 4096, AT_PHDR, 0x400040, AT_ENTRY, 0x401000, AT_NULL, 0};
    add_note(b, "CORE", NT_AUXV, aux, sizeof aux);
    add_note(b, "LINUX", 0x202, "xstate-ignored", 14);
    add_prstatus(b, 102, 0, 0x402000, 0x7ffd00008000, 0, 0x7f0000002000);
    /* NT_FILE: the library first, so exe must come from AT_PHDR */
    buf f = {0};
    uint64_t head[] = {2, 4096, 0x7f0000000000, 0x7f0000001000, 3, 0x400000, 0x402000, 0};
    append(&f, head, sizeof head);
    append(&f, "/lib/libx.so", 13);
    append(&f, "/bin/synth", 11);
    *file_note = add_note(b, "CORE", NT_FILE, f.d, f.n);
    free(f.d);
    return b->n - start;
}

typedef struct tload {
    uint64_t vaddr, memsz, filesz;
    uint32_t pflags;
} tload;

/* Load k's byte i. */
static uint8_t seg_byte(size_t k, uint64_t i)
{
    return (uint8_t)(k * 37 + i * 7 + (i >> 8));
}

/* Segments out of address order: 1 and 0 are adjacent, 2 holds half, 3 nothing. */
static const tload loads[] = {
    {0x401000, 0x1000, 0x1000, PF_R | PF_W},
    {0x400000, 0x1000, 0x1000, PF_R | PF_X},
    {0x600000, 0x2000, 0x800, PF_R | PF_W},
    {0x7f0000000000, 0x1000, 0, PF_R},
};
#define NLOADS (sizeof loads / sizeof loads[0])

typedef struct layout {
    size_t phoff, note_off, note_size, file_note, load_off[NLOADS];
} layout;

/* A whole core: header, program headers (PT_NOTE, then the loads), notes, segment bytes. */
static buf make_core(layout *L, uint16_t e_type)
{
    buf b = {0};
    append(&b, NULL, sizeof(Elf64_Ehdr));
    memcpy(b.d, ELFMAG, SELFMAG);
    b.d[EI_CLASS] = ELFCLASS64;
    b.d[EI_DATA] = ELFDATA2LSB;
    b.d[EI_VERSION] = EV_CURRENT;
    put(&b, offsetof(Elf64_Ehdr, e_type), e_type, 2);
    put(&b, offsetof(Elf64_Ehdr, e_machine), EM_X86_64, 2);
    put(&b, offsetof(Elf64_Ehdr, e_version), EV_CURRENT, 4);
    put(&b, offsetof(Elf64_Ehdr, e_phoff), 64, 8);
    put(&b, offsetof(Elf64_Ehdr, e_ehsize), 64, 2);
    put(&b, offsetof(Elf64_Ehdr, e_phentsize), sizeof(Elf64_Phdr), 2);
    put(&b, offsetof(Elf64_Ehdr, e_phnum), 1 + NLOADS, 2);
    L->phoff = append(&b, NULL, (1 + NLOADS) * sizeof(Elf64_Phdr));
    L->note_off = b.n;
    L->note_size = write_notes(&b, &L->file_note);
    size_t ph = L->phoff;
    put(&b, ph + offsetof(Elf64_Phdr, p_type), PT_NOTE, 4);
    put(&b, ph + offsetof(Elf64_Phdr, p_offset), L->note_off, 8);
    put(&b, ph + offsetof(Elf64_Phdr, p_filesz), L->note_size, 8);
    put(&b, ph + offsetof(Elf64_Phdr, p_align), 4, 8);
    for (size_t k = 0; k < NLOADS; k++) {
        align(&b, 64);
        L->load_off[k] = append(&b, NULL, loads[k].filesz);
        for (uint64_t i = 0; i < loads[k].filesz; i++)
            b.d[L->load_off[k] + i] = seg_byte(k, i);
        ph = L->phoff + (1 + k) * sizeof(Elf64_Phdr);
        put(&b, ph + offsetof(Elf64_Phdr, p_type), PT_LOAD, 4);
        put(&b, ph + offsetof(Elf64_Phdr, p_flags), loads[k].pflags, 4);
        put(&b, ph + offsetof(Elf64_Phdr, p_offset), L->load_off[k], 8);
        put(&b, ph + offsetof(Elf64_Phdr, p_vaddr), loads[k].vaddr, 8);
        put(&b, ph + offsetof(Elf64_Phdr, p_filesz), loads[k].filesz, 8);
        put(&b, ph + offsetof(Elf64_Phdr, p_memsz), loads[k].memsz, 8);
        put(&b, ph + offsetof(Elf64_Phdr, p_align), 4096, 8);
    }
    return b;
}

static size_t load_ph(const layout *L, size_t k)
{
    return L->phoff + (1 + k) * sizeof(Elf64_Phdr);
}

/* Parses a copy of exactly size bytes (so ASan sees any overread); returns the status. */
static int parse(const uint8_t *d, size_t size, coremem **out, hs_error *e)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (size)
        memcpy(copy, d, size);
    hs_error_clear(e);
    coremem *m = NULL;
    int rc = coremem_from_core(copy, size, &m, e);
    if (out && rc == HS_OK) {
        /* the caller reads the image: give it bytes that stay valid */
        coremem_free(m);
        rc = coremem_from_core(d, size, out, e);
    } else {
        CHECK((rc == HS_OK) == (m != NULL));
        coremem_free(m);
    }
    free(copy);
    return rc;
}

/* ---- a well-formed core ---- */

static void test_valid(void)
{
    layout L;
    buf b = make_core(&L, ET_CORE);
    coremem *m = NULL;
    hs_error e;
    CHECK_EQ_U64(parse(b.d, b.n, &m, &e), HS_OK);
    if (!m) {
        fprintf(stderr, "valid core: %s\n", e.msg);
        free(b.d);
        return;
    }
    const coremem_info *in = coremem_get_info(m);
    CHECK_EQ_U64(in->pid, 100);
    CHECK_STR(in->comm, "synthprog-name16");
    CHECK_STR(in->exe, "/bin/synth");
    CHECK_EQ_U64(in->signal, 11);
    CHECK_EQ_U64(in->at_phdr, 0x400040);
    CHECK_EQ_U64(in->at_entry, 0x401000);
    CHECK_EQ_U64(in->machine, EM_X86_64);
    CHECK(in->from_core == 1);

    CHECK_EQ_U64(coremem_thread_count(m), 2);
    const coremem_thread *t = coremem_thread_get(m, 0);
    CHECK(t && t->tid == 101 && t->pc == 0x401234 && t->sp == 0x7ffd0000ff00 &&
          t->bp == 0x7ffd0000ff80 && t->fs_base == 0x7f0000001000);
    t = coremem_thread_get(m, 1);
    CHECK(t && t->tid == 102 && t->pc == 0x402000 && t->sp == 0x7ffd00008000 &&
          t->fs_base == 0x7f0000002000);
    CHECK(coremem_thread_get(m, 2) == NULL);

    CHECK_EQ_U64(coremem_file_count(m), 2);
    const coremem_file *f = coremem_file_get(m, 0);
    CHECK(f && f->start == 0x7f0000000000 && f->end == 0x7f0000001000 &&
          f->file_off == 3 * 4096);
    CHECK_STR(f ? f->path : NULL, "/lib/libx.so");
    f = coremem_file_get(m, 1);
    CHECK_STR(f ? f->path : NULL, "/bin/synth");

    /* segments sorted by address, with their file offsets and flags */
    static const size_t order[] = {1, 0, 2, 3};
    CHECK_EQ_U64(coremem_segment_count(m), NLOADS);
    for (size_t i = 0; i < NLOADS; i++) {
        const coremem_segment *s = coremem_segment_get(m, i);
        const tload *l = &loads[order[i]];
        CHECK(s && s->vaddr == l->vaddr && s->memsz == l->memsz && s->filesz == l->filesz);
        if (s && l->filesz) {
            CHECK(s->file_off == L.load_off[order[i]]);
            CHECK(s->bytes == b.d + L.load_off[order[i]]);
        }
    }
    CHECK(coremem_segment_get(m, 0)->flags == (COREMEM_R | COREMEM_X));
    CHECK(coremem_segment_get(m, 1)->flags == (COREMEM_R | COREMEM_W));
    CHECK(coremem_segment_get(m, 3)->flags == COREMEM_R);
    CHECK(coremem_segment_get(m, NLOADS) == NULL);

    /* a read across the adjacent segments [0x400000, 0x401000) and [0x401000, 0x402000) */
    uint8_t got[64];
    CHECK_EQ_U64(coremem_read(m, 0x400fe0, got, sizeof got, &e), HS_OK);
    int same = 1;
    for (size_t i = 0; i < sizeof got; i++)
        same &= got[i] == (i < 32 ? seg_byte(1, 0xfe0 + i) : seg_byte(0, i - 32));
    CHECK(same);
    uint64_t w;
    CHECK_EQ_U64(coremem_u64(m, 0x400ffc, &w, &e), HS_OK);
    CHECK_EQ_U64(w, hs_load_le64(got + 28));
    CHECK(coremem_ptr(m, 0x400ffc, 8) == NULL); /* no one segment holds it */
    CHECK(coremem_ptr(m, 0x400ff8, 8) == b.d + L.load_off[1] + 0xff8);
    CHECK(coremem_ptr(m, 0x401000, 0x1000) == b.d + L.load_off[0]);
    CHECK(coremem_ptr(m, 0x401000, 0x1001) == NULL);
    /* the whole of both at once */
    uint8_t *big = malloc(0x2000);
    CHECK_EQ_U64(coremem_read(m, 0x400000, big, 0x2000, &e), HS_OK);
    CHECK(big[0] == seg_byte(1, 0) && big[0x1fff] == seg_byte(0, 0xfff));
    free(big);
    CHECK_EQ_U64(coremem_read(m, 0x400000, NULL, 0, &e), HS_OK);

    /* not mapped: below, between and above the segments */
    static const uint64_t unmapped[] = {0, 0x3fffff, 0x402000, 0x5fffff, 0x602000,
                                        0x7f0000001000, UINT64_MAX - 8};
    for (size_t i = 0; i < sizeof unmapped / sizeof unmapped[0]; i++) {
        CHECK_EQ_U64(coremem_read(m, unmapped[i], got, 8, &e), HS_ERR_NOTFOUND);
        CHECK(strstr(e.msg, "not mapped") != NULL);
        CHECK(coremem_ptr(m, unmapped[i], 1) == NULL);
        CHECK(coremem_u64(m, unmapped[i], &w, &e) == HS_ERR_NOTFOUND);
    }
    /* a read running off the end of the mapping names the first missing address */
    CHECK_EQ_U64(coremem_read(m, 0x401ff8, got, 16, &e), HS_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "0x402000 is not mapped") != NULL);
    CHECK_EQ_U64(coremem_read(m, UINT64_MAX - 3, got, 8, &e), HS_ERR_NOTFOUND);
    /* mapped without bytes: past filesz, and a segment with none */
    CHECK_EQ_U64(coremem_read(m, 0x6007fc, got, 8, &e), HS_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "0x600800") && strstr(e.msg, "holds no bytes"));
    CHECK_EQ_U64(e.offset, HS_NO_OFFSET);
    CHECK(coremem_ptr(m, 0x6007f8, 8) != NULL);
    CHECK(coremem_ptr(m, 0x6007fc, 8) == NULL);
    CHECK(coremem_ptr(m, 0x601000, 1) == NULL);
    CHECK_EQ_U64(coremem_read(m, 0x7f0000000000, got, 1, &e), HS_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "holds no bytes") != NULL);
    CHECK(coremem_ptr(m, 0x7f0000000000, 0) == NULL);
    coremem_free(m);
    free(b.d);
}

/* ---- broken cores, each wrong in one way ---- */

/* Expects status and, when off is not HS_NO_OFFSET, that offset; and a message with want. */
static void expect_fail(const char *what, const buf *b, int status, uint64_t off, const char *want)
{
    hs_error e;
    int rc = parse(b->d, b->n, NULL, &e);
    char line[700];
    fprintf(stderr, "%s: %s\n", what, hs_error_format(&e, line, sizeof line));
    CHECK(rc == status && e.status == status);
    if (off != HS_NO_OFFSET)
        CHECK_EQ_U64(e.offset, off);
    if (want && !strstr(e.msg, want)) {
        fprintf(stderr, "%s: message lacks \"%s\"\n", what, want);
        CHECK(!"the message names the problem");
    }
}

static void test_broken(void)
{
    layout L;
    buf b = make_core(&L, ET_EXEC);
    expect_fail("ET_EXEC", &b, HS_ERR_FORMAT, 16, "not a core file: e_type 2 (ET_EXEC)");
    free(b.d);

    b = make_core(&L, ET_CORE);
    buf c = {0};
#define COPY() (c.n = 0, append(&c, b.d, b.n))
    COPY();
    put(&c, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64, 2);
    expect_fail("AArch64", &c, HS_ERR_UNSUPPORTED, 18, "AArch64");
    COPY();
    c.d[EI_CLASS] = ELFCLASS32;
    expect_fail("ELF32", &c, HS_ERR_UNSUPPORTED, EI_CLASS, "64-bit");
    COPY();
    c.d[0] = 'X';
    expect_fail("not ELF", &c, HS_ERR_FORMAT, 0, "not an ELF file");
    expect_fail("empty", &(buf){.d = b.d, .n = 0}, HS_ERR_TRUNCATED, 0, NULL);
    expect_fail("half a header", &(buf){.d = b.d, .n = 40}, HS_ERR_TRUNCATED, 40, "ELF header");
    COPY();
    put(&c, offsetof(Elf64_Ehdr, e_phentsize), 32, 2);
    expect_fail("phentsize", &c, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_phentsize), "e_phentsize");

    /* the program header table past the end */
    expect_fail("phdrs cut", &(buf){.d = b.d, .n = L.phoff + 100}, HS_ERR_TRUNCATED,
                L.phoff + 100, "program headers [0x40, 0x158) run past the end");
    COPY();
    put(&c, offsetof(Elf64_Ehdr, e_phoff), c.n - 8, 8);
    expect_fail("phoff at the end", &c, HS_ERR_TRUNCATED, c.n, "program headers");
    COPY();
    put(&c, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 16, 8);
    expect_fail("phoff overflow", &c, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_phoff), "overflows");
    COPY();
    put(&c, offsetof(Elf64_Ehdr, e_phnum), 0, 2);
    expect_fail("no phdrs", &c, HS_ERR_FORMAT, offsetof(Elf64_Ehdr, e_phnum), "no program headers");
    COPY();
    put(&c, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM, 2);
    put(&c, offsetof(Elf64_Ehdr, e_shoff), c.n + 1, 8);
    expect_fail("PN_XNUM without section 0", &c, HS_ERR_TRUNCATED, c.n, "PN_XNUM");

    /* the note segment past the end, a note past its segment, short payloads */
    COPY();
    put(&c, L.phoff + offsetof(Elf64_Phdr, p_filesz), c.n, 8);
    char want[200];
    snprintf(want, sizeof want, "PT_NOTE 0 at byte 0x40: file bytes [0x%zx, 0x%zx) run past the "
             "end of the core (size 0x%zx)", L.note_off, L.note_off + c.n, c.n);
    expect_fail("note segment past the end", &c, HS_ERR_TRUNCATED, c.n, want);
    COPY();
    put(&c, L.note_off + 4, 0x10000, 4); /* the first note's descsz */
    expect_fail("note past its segment", &c, HS_ERR_FORMAT, L.note_off, "runs past the end");
    COPY();
    put(&c, L.phoff + offsetof(Elf64_Phdr, p_filesz), L.note_size + 5, 8);
    expect_fail("note header cut", &c, HS_ERR_FORMAT, L.note_off + L.note_size, "12 bytes");
    COPY();
    put(&c, L.note_off + 4, 200, 4); /* a PRSTATUS of 200 bytes (its padding stays) */
    put(&c, L.phoff + offsetof(Elf64_Phdr, p_filesz), 12 + 8 + 200, 8);
    expect_fail("short NT_PRSTATUS", &c, HS_ERR_FORMAT, L.note_off, "NT_PRSTATUS");
    COPY();
    put(&c, L.file_note + 20, 1u << 20, 8); /* NT_FILE count */
    expect_fail("NT_FILE count", &c, HS_ERR_FORMAT, L.file_note + 20, "NT_FILE");
    COPY();
    c.d[L.file_note + 20 + 16 + 2 * 24 + 13 + 10] = 'x'; /* the last path's NUL */
    expect_fail("NT_FILE path without NUL", &c, HS_ERR_FORMAT, L.file_note + 20 + 16 + 48 + 13,
                "no terminating NUL");

    /* segment bytes past the end: every cut inside the last held segment */
    size_t last = L.load_off[2] + loads[2].filesz;
    snprintf(want, sizeof want, "PT_LOAD 3 at byte 0x%zx: file bytes [0x%zx, 0x%zx) run past "
             "the end of the core (size 0x%zx)", load_ph(&L, 2), L.load_off[2], last,
             last - 1);
    expect_fail("last byte cut", &(buf){.d = b.d, .n = last - 1}, HS_ERR_TRUNCATED, last - 1, want);
    COPY();
    put(&c, load_ph(&L, 1) + offsetof(Elf64_Phdr, p_offset), UINT64_MAX - 4, 8);
    expect_fail("p_offset overflow", &c, HS_ERR_FORMAT,
                load_ph(&L, 1) + offsetof(Elf64_Phdr, p_offset), "overflows");
    COPY();
    put(&c, load_ph(&L, 2) + offsetof(Elf64_Phdr, p_memsz), 0x400, 8);
    expect_fail("filesz > memsz", &c, HS_ERR_FORMAT,
                load_ph(&L, 2) + offsetof(Elf64_Phdr, p_filesz), "exceeds p_memsz");
    COPY();
    put(&c, load_ph(&L, 3) + offsetof(Elf64_Phdr, p_vaddr), UINT64_MAX - 0xfff, 8);
    put(&c, load_ph(&L, 3) + offsetof(Elf64_Phdr, p_memsz), 0x2000, 8);
    expect_fail("wraps", &c, HS_ERR_FORMAT, load_ph(&L, 3) + offsetof(Elf64_Phdr, p_vaddr), "wraps");
    COPY();
    put(&c, load_ph(&L, 2) + offsetof(Elf64_Phdr, p_vaddr), 0x401800, 8);
    expect_fail("overlap", &c, HS_ERR_FORMAT, load_ph(&L, 2), "overlaps PT_LOAD 1");

    /* every prefix of the core that cuts held bytes fails cleanly, with an offset inside it
     * or at its end; a prefix that keeps them reads (the last segment holds no bytes) */
    int clean = 1;
    for (size_t n = 0; n <= b.n; n++) {
        hs_error e;
        int rc = parse(b.d, n, NULL, &e);
        if (n < last)
            clean &= rc < 0 && e.status == rc && e.msg[0] && (e.offset <= n);
        else
            clean &= rc == HS_OK;
    }
    CHECK(clean);
    free(c.d);
    free(b.d);
#undef COPY
}

/* More than 65534 program headers: e_phnum is PN_XNUM and section header 0 has the count. */
static void test_pn_xnum(void)
{
    layout L;
    buf b = make_core(&L, ET_CORE);
    size_t sh = append(&b, NULL, sizeof(Elf64_Shdr));
    put(&b, sh + offsetof(Elf64_Shdr, sh_info), 1 + NLOADS, 4);
    put(&b, offsetof(Elf64_Ehdr, e_shoff), sh, 8);
    put(&b, offsetof(Elf64_Ehdr, e_shnum), 1, 2);
    put(&b, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM, 2);
    coremem *m = NULL;
    hs_error e;
    CHECK_EQ_U64(parse(b.d, b.n, &m, &e), HS_OK);
    CHECK(m && coremem_segment_count(m) == NLOADS && coremem_thread_count(m) == 2);
    coremem_free(m);
    free(b.d);
}

/* ---- the producer API (live snapshots) ---- */

static uint8_t *filled(size_t n, uint8_t v)
{
    uint8_t *p = malloc(n);
    memset(p, v, n);
    return p;
}

static void test_producer(void)
{
    coremem *m = coremem_new();
    hs_error e;
    CHECK(m != NULL);
    coremem_info *in = coremem_info_mut(m);
    in->pid = 42;
    in->machine = EM_X86_64;
    snprintf(in->exe, sizeof in->exe, "/bin/prog");
    CHECK_EQ_U64(coremem_add_segment(m, 0x20000, 0x1000, filled(0x1000, 2), 0x1000,
                                     COREMEM_R | COREMEM_W, &e), HS_OK);
    CHECK_EQ_U64(coremem_add_segment(m, 0x10000, 0x10000, filled(0x100, 1), 0x100, COREMEM_R,
                                     &e), HS_OK);
    CHECK_EQ_U64(coremem_add_segment(m, 0x30000, 0x1000, NULL, 0, 0, &e), HS_OK);
    /* refused: more bytes than span, a span that wraps; the bytes are freed all the same */
    CHECK_EQ_U64(coremem_add_segment(m, 0x40000, 0x10, filled(0x20, 3), 0x20, 0, &e), HS_ERR_ARG);
    CHECK_EQ_U64(coremem_add_segment(m, UINT64_MAX - 4, 0x10, filled(1, 3), 1, 0, &e), HS_ERR_ARG);
    coremem_thread t = {.tid = 42, .pc = 0x10010, .sp = 0x20800};
    CHECK_EQ_U64(coremem_add_thread(m, &t, &e), HS_OK);
    CHECK_EQ_U64(coremem_add_file(m, 0x10000, 0x20000, 0, "/bin/prog", &e), HS_OK);
    CHECK(coremem_ptr(m, 0x20000, 1) == NULL); /* not finished: nothing to look up */
    CHECK_EQ_U64(coremem_finish(m, &e), HS_OK);
    CHECK_EQ_U64(coremem_segment_count(m), 3);
    CHECK_EQ_U64(coremem_segment_get(m, 0)->vaddr, 0x10000);
    CHECK(coremem_segment_get(m, 0)->file_off == 0);
    uint8_t got[4];
    CHECK_EQ_U64(coremem_read(m, 0x100fe, got, 2, &e), HS_OK);
    CHECK(got[0] == 1 && got[1] == 1);
    CHECK_EQ_U64(coremem_read(m, 0x100fe, got, 4, &e), HS_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "snapshot holds no bytes") != NULL);
    const uint8_t *p = coremem_ptr(m, 0x20ffc, 4);
    CHECK(p && p[3] == 2);
    CHECK_STR(coremem_get_info(m)->exe, "/bin/prog");
    CHECK(coremem_get_info(m)->from_core == 0);
    /* after finish: nothing more is added */
    CHECK_EQ_U64(coremem_add_segment(m, 0x50000, 0x10, filled(4, 0), 4, 0, &e), HS_ERR_ARG);
    CHECK_EQ_U64(coremem_add_thread(m, &t, &e), HS_ERR_ARG);
    CHECK_EQ_U64(coremem_finish(m, &e), HS_ERR_ARG);
    coremem_free(m);
    coremem_free(NULL);

    /* overlapping segments are refused by finish, naming both */
    m = coremem_new();
    CHECK_EQ_U64(coremem_add_segment(m, 0x1000, 0x2000, NULL, 0, 0, &e), HS_OK);
    CHECK_EQ_U64(coremem_add_segment(m, 0x2fff, 0x10, NULL, 0, 0, &e), HS_OK);
    CHECK_EQ_U64(coremem_finish(m, &e), HS_ERR_FORMAT);
    CHECK(strstr(e.msg, "[0x2fff, 0x300f) overlaps segment [0x1000, 0x3000)") != NULL);
    coremem_free(m);
}

/* ---- tests/broken/coremem ---- */

static void test_broken_corpus(void)
{
    const char *dir = "../broken/coremem";
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256], status[32], off[32];
        if (line[0] == '#' || sscanf(line, "%255s %31s %31s", name, status, off) != 3)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        const uint8_t *data;
        size_t size;
        hs_error e;
        CHECK(hs_map_file(path, &data, &size, &e) == HS_OK);
        coremem *m = NULL;
        hs_error_clear(&e);
        int rc = coremem_from_core(data, size, &m, &e);
        char msg[700];
        fprintf(stderr, "%s: %s\n", name, hs_error_format(&e, msg, sizeof msg));
        int want = !strcmp(status, "ok") ? HS_OK
                   : !strcmp(status, "format") ? HS_ERR_FORMAT
                   : !strcmp(status, "truncated") ? HS_ERR_TRUNCATED
                   : !strcmp(status, "unsupported") ? HS_ERR_UNSUPPORTED
                                                    : 1;
        if (rc != want)
            fprintf(stderr, "%s: status %d, expected %s\n", name, rc, status);
        CHECK(rc == want);
        if (rc == HS_OK && m) {
            /* gen.py's process: exe from AT_PHDR, a read across two adjacent segments */
            const coremem_info *in = coremem_get_info(m);
            CHECK(in->pid == 4242 && in->signal == 11 && in->at_entry == 0x401000);
            CHECK_STR(in->comm, "victim");
            CHECK_STR(in->exe, "/usr/local/bin/victim");
            CHECK(coremem_thread_count(m) >= 1 && coremem_thread_get(m, 0)->tid == 4242);
            CHECK_EQ_U64(coremem_segment_count(m), 6);
            CHECK_EQ_U64(coremem_file_count(m), 3);
            uint8_t got[10];
            CHECK(coremem_read(m, 0x4020fc, got, sizeof got, &e) == HS_OK &&
                  memcmp(got + 4, "GOHEAP", 6) == 0 && got[0] == (uint8_t)(0xfc * 7));
            CHECK(coremem_read(m, 0x400100, got, 1, &e) == HS_ERR_NOTFOUND);
        } else if (rc < 0) {
            uint64_t o = !strcmp(off, "size") ? size : strtoull(off, NULL, 0);
            CHECK(e.msg[0] != '\0');
            CHECK_EQ_U64(e.offset, o);
        }
        coremem_free(m);
        hs_unmap(data, size);
        n++;
    }
    fclose(f);
    CHECK(n >= 20);
}

int main(void)
{
    test_valid();
    test_broken();
    test_pn_xnum();
    test_producer();
    test_broken_corpus();
    return check_report();
}
