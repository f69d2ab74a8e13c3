/* gocore.c - the core walker's entry (gocore.h): memory access over the process's memory and
 * the binary's read-only segments, the runtime's layout from DWARF, the checks that memory
 * and binary belong together, and the records that are neither heap nor stacks: params,
 * itabs, OS threads, data and bss, queued finalizers and memstats, in the order
 * runtime/heapdump.go writes them (docs/capture-core.md). */
#include "gocore_internal.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotype.h"

/* The Go versions whose runtime structures the walker has been checked against. */
#define MINOR_FIRST 19
#define MINOR_LAST 27

/* ---- memory ---- */

/* The binary's bytes at [addr, addr + len): read-only segments only, or with writable also
 * the initial contents of data (what the process may since have changed); NULL if none. */
static const uint8_t *binary_at(const gc *c, uint64_t addr, uint64_t len, int writable)
{
    for (size_t i = 0; i < c->nro; i++) {
        const gc_rseg *s = &c->ro[i];
        if ((writable || !s->writable) && addr >= s->vaddr && addr - s->vaddr <= s->filesz &&
            len <= s->filesz - (addr - s->vaddr))
            return s->bytes + (addr - s->vaddr);
    }
    return NULL;
}

const uint8_t *gc_ptr(const gc *c, uint64_t addr, uint64_t len)
{
    const uint8_t *p = coremem_ptr(c->mem, addr, len);
    if (p)
        return p;
    return binary_at(c, addr, len, 0);
}

int gc_read(gc *c, uint64_t addr, void *buf, size_t len, const char *what)
{
    const uint8_t *p = gc_ptr(c, addr, len);
    if (p) {
        memcpy(buf, p, len);
        return HS_OK;
    }
    int rc = coremem_read(c->mem, addr, buf, len, c->err);
    if (rc < 0)
        hs_error_prefix(c->err, "reading %s", what);
    return rc;
}

uint64_t gc_get(const uint8_t *p, gc_fld f)
{
    const uint8_t *q = p + f.off;
    switch (f.size) {
    case 1: return q[0];
    case 2: return (uint64_t)q[0] | (uint64_t)q[1] << 8;
    case 4: return (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16 |
                   (uint64_t)q[3] << 24;
    case 8: return hs_load_le64(q);
    default: return 0;
    }
}

int gc_uint(gc *c, uint64_t base, gc_fld f, uint64_t *v, const char *what)
{
    uint8_t b[8] = {0};
    gc_fld at = {0, f.size};
    int rc = gc_read(c, base + f.off, b, f.size <= 8 ? f.size : 8, what);
    *v = rc < 0 ? 0 : gc_get(b, at);
    return rc;
}

int gc_room_offs(gc *c, size_t n)
{
    if (n <= c->offs_cap)
        return HS_OK;
    uint64_t *p = realloc(c->offs, n * sizeof *p);
    if (!p)
        return hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET, "pointer offsets");
    c->offs = p;
    c->offs_cap = n;
    return HS_OK;
}

int gc_room_buf(gc *c, size_t n)
{
    if (n <= c->buf_cap)
        return HS_OK;
    uint8_t *p = realloc(c->buf, n);
    if (!p)
        return hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET, "record bytes");
    c->buf = p;
    c->buf_cap = n;
    return HS_OK;
}

void gc_lost(gc *c, const char *fmt, ...)
{
    char line[sizeof c->rep->lost[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < c->rep->nlost; i++)
        if (!strcmp(c->rep->lost[i], line))
            return;
    if (c->rep->nlost < GOCORE_LOST_MAX)
        memcpy(c->rep->lost[c->rep->nlost++], line, sizeof line);
}

int gc_emit(gc *c, const gohd_record *r)
{
    return gohdw_record(c->w, r, c->err);
}

int gc_finalizer(gc *c, int tag, uint64_t obj, uint64_t rec, gc_fld fn, gc_fld fint, gc_fld ot)
{
    gohd_record r = {.tag = (gohd_tag)tag};
    r.u.finalizer.obj = obj;
    int rc;
    if ((rc = gc_uint(c, rec, fn, &r.u.finalizer.fn, "a finalizer")) < 0 ||
        (rc = gc_uint(c, rec, fint, &r.u.finalizer.fint, "a finalizer")) < 0 ||
        (rc = gc_uint(c, rec, ot, &r.u.finalizer.ot, "a finalizer")) < 0)
        return rc;
    if (r.u.finalizer.fn && (rc = gc_uint(c, r.u.finalizer.fn, (gc_fld){0, 8},
                                          &r.u.finalizer.fnpc, "a finalizer's funcval")) < 0)
        return rc;
    return gc_emit(c, &r);
}

/* ---- layout from DWARF ---- */

/* The next of the alternatives "a|b|c" at *p into one (cap bytes); 0 after the last. */
static int next_alt(const char **p, char *one, size_t cap)
{
    if (!**p)
        return 0;
    size_t n = strcspn(*p, "|");
    snprintf(one, cap, "%.*s", (int)n, *p);
    *p += n + ((*p)[n] == '|');
    return 1;
}

static const typetab_type *type_named(const gc *c, const char *names)
{
    char one[128];
    const typetab_type *t = NULL;
    for (const char *p = names; !t && next_alt(&p, one, sizeof one);)
        t = typetab_type_by_name(c->in->types, one);
    return t;
}

/* The field at a dotted path ("sched.sp"; each part may list alternatives "a|b") of a
 * struct type; 0 with *f set, -1 when absent. */
static int field_of(const gc *c, const typetab_type *t, const char *path, gc_fld *f)
{
    uint64_t off = 0;
    const typetab *tt = c->in->types;
    while (*path) {
        size_t n = strcspn(path, ".");
        const typetab_field *hit = NULL;
        for (const char *alt = path; alt < path + n && !hit;) {
            size_t k = strcspn(alt, "|.");
            for (uint32_t i = 0; t && t->kind == TYPETAB_STRUCT && i < t->nfields && !hit; i++) {
                const typetab_field *fd = typetab_field_get(tt, t->first_field + i);
                if (strlen(fd->name) == k && !strncmp(fd->name, alt, k))
                    hit = fd;
            }
            alt += k + (alt[k] == '|');
        }
        if (!hit)
            return -1;
        off += hit->offset;
        t = typetab_type_get(tt, hit->type);
        path += n + (path[n] == '.');
    }
    if (!t || t->size > UINT32_MAX || off > UINT32_MAX)
        return -1;
    *f = (gc_fld){(uint32_t)off, (uint32_t)t->size};
    return 0;
}

/* A field the walk cannot do without: HS_ERR_UNSUPPORTED naming the version and structure. */
static int need(gc *c, gc_fld *f, const char *type, const char *path)
{
    const typetab_type *t = type_named(c, type);
    if (t && field_of(c, t, path, f) == 0)
        return HS_OK;
    return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                        "%s: the core reader cannot decode %s: %s%s", c->rep->go_version, type,
                        t ? "it has no field " : "the binary's DWARF has no such type",
                        t ? path : "");
}

static void want(gc *c, gc_fld *f, const char *type, const char *path)
{
    const typetab_type *t = type_named(c, type);
    if (!t || field_of(c, t, path, f) < 0)
        *f = (gc_fld){0, 0};
}

static int type_size(gc *c, const char *type, uint64_t *size, int required)
{
    const typetab_type *t = type_named(c, type);
    *size = t ? t->size : 0;
    if (t || !required)
        return HS_OK;
    return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                        "%s: the core reader cannot decode %s: the binary's DWARF has no such "
                        "type", c->rep->go_version, type);
}

static int cnst(gc *c, const char *names, int64_t *v, int64_t dflt, int required)
{
    char one[128];
    for (const char *p = names; next_alt(&p, one, sizeof one);)
        if (godwarf_const(c->in->consts, one, v) == HS_OK)
            return HS_OK;
    *v = dflt;
    if (!required)
        return HS_OK;
    return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                        "%s: the core reader cannot decode the runtime: its DWARF has no "
                        "constant %s", c->rep->go_version, names);
}

static int globals(gc *c)
{
    static const struct {
        const char *name;
        size_t at;
        int required;
    } g[] = {
        {"runtime.mheap_", offsetof(gc_layout, mheap), 1},
        {"runtime.allgs", offsetof(gc_layout, allgs), 1},
        {"runtime.allm", offsetof(gc_layout, allm), 1},
        {"runtime.firstmoduledata", offsetof(gc_layout, md), 1},
        {"runtime.itabTable", offsetof(gc_layout, itab_table), 0},
        {"runtime.allfin", offsetof(gc_layout, allfin), 0},
        {"runtime.ncpu", offsetof(gc_layout, ncpu), 0},
        {"runtime.numCPUStartup", offsetof(gc_layout, ncpu_startup), 0},
        {"runtime.memstats", offsetof(gc_layout, memstats), 0},
        {"runtime.waitReasonStrings", offsetof(gc_layout, wait_reasons), 0},
        {"runtime.mbuckets", offsetof(gc_layout, mbuckets), 0},
    };
    const typetab *tt = c->in->types;
    for (size_t i = 0, n = typetab_global_count(tt); i < n; i++) {
        const typetab_global *v = typetab_global_get(tt, i);
        if (strncmp(v->name, "runtime.", 8) != 0)
            continue;
        for (size_t k = 0; k < sizeof g / sizeof *g; k++)
            if (!strcmp(v->name, g[k].name))
                *(uint64_t *)((char *)&c->L + g[k].at) = v->addr;
    }
    for (size_t k = 0; k < sizeof g / sizeof *g; k++)
        if (g[k].required && !*(uint64_t *)((char *)&c->L + g[k].at))
            return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                                "%s: the core reader cannot find the runtime global %s in the "
                                "binary's DWARF", c->rep->go_version, g[k].name);
    return HS_OK;
}

static int layout(gc *c)
{
    gc_layout *L = &c->L;
    int rc;
    if ((rc = globals(c)) < 0)
        return rc;
    static const char mh[] = "runtime.mheap", sp[] = "runtime.mspan", g[] = "runtime.g";
    static const char md[] = "runtime.moduledata", ty[] = "runtime._type|internal/abi.Type";
    static const char fn[] = "runtime._func";
    struct {
        gc_fld *f;
        const char *type, *path;
    } req[] = {
        {&L->mh_sweepgen, mh, "sweepgen"}, {&L->mh_allspans, mh, "allspans"},
        {&L->mh_arenas, mh, "arenas"}, {&L->mh_arena_list, mh, "heapArenas|allArenas"},
        {&L->sp_start, sp, "startAddr"}, {&L->sp_npages, sp, "npages"},
        {&L->sp_freeindex, sp, "freeindex"}, {&L->sp_nelems, sp, "nelems"},
        {&L->sp_alloc, sp, "allocBits"}, {&L->sp_mark, sp, "gcmarkBits"},
        {&L->sp_sweepgen, sp, "sweepgen"}, {&L->sp_class, sp, "spanclass"},
        {&L->sp_state, sp, "state"}, {&L->sp_elemsize, sp, "elemsize"},
        {&L->sp_specials, sp, "specials"},
        {&L->spc_next, "runtime.special", "next"}, {&L->spc_offset, "runtime.special", "offset"},
        {&L->spc_kind, "runtime.special", "kind"},
        {&L->spf_fn, "runtime.specialfinalizer", "fn"},
        {&L->spf_fint, "runtime.specialfinalizer", "fint"},
        {&L->spf_ot, "runtime.specialfinalizer", "ot"},
        {&L->g_lo, g, "stack.lo"}, {&L->g_hi, g, "stack.hi"}, {&L->g_sp, g, "sched.sp"},
        {&L->g_pc, g, "sched.pc"}, {&L->g_lr, g, "sched.lr"}, {&L->g_ctxt, g, "sched.ctxt"},
        {&L->g_syssp, g, "syscallsp"}, {&L->g_syspc, g, "syscallpc"},
        {&L->g_status, g, "atomicstatus"}, {&L->g_goid, g, "goid"},
        {&L->g_waitsince, g, "waitsince"}, {&L->g_waitreason, g, "waitreason"},
        {&L->g_gopc, g, "gopc"}, {&L->g_startpc, g, "startpc"}, {&L->g_m, g, "m"},
        {&L->g_defer, g, "_defer"}, {&L->g_panic, g, "_panic"},
        {&L->m_id, "runtime.m", "id"}, {&L->m_procid, "runtime.m", "procid"},
        {&L->m_alllink, "runtime.m", "alllink"},
        {&L->md_data, md, "data"}, {&L->md_edata, md, "edata"}, {&L->md_bss, md, "bss"},
        {&L->md_ebss, md, "ebss"}, {&L->md_datamask, md, "gcdatamask"},
        {&L->md_bssmask, md, "gcbssmask"}, {&L->md_text, md, "text"},
        {&L->md_etext, md, "etext"}, {&L->md_types, md, "types"},
        {&L->md_etypes, md, "etypes"}, {&L->md_ftab, md, "ftab"}, {&L->md_pctab, md, "pctab"},
        {&L->md_pcln, md, "pclntable"}, {&L->md_names, md, "funcnametab"},
        {&L->md_gofunc, md, "gofunc"},
        {&L->t_size, ty, "Size_|size"}, {&L->t_ptrdata, ty, "PtrBytes|ptrdata"},
        {&L->t_tflag, ty, "TFlag|tflag"}, {&L->t_gcdata, ty, "GCData|gcdata"},
        {&L->f_entry, fn, "entryOff|entryoff"}, {&L->f_name, fn, "nameOff|nameoff"},
        {&L->f_args, fn, "args"}, {&L->f_pcsp, fn, "pcsp"}, {&L->f_npcdata, fn, "npcdata"},
        {&L->f_flag, fn, "flag"}, {&L->f_nfuncdata, fn, "nfuncdata"},
    };
    for (size_t i = 0; i < sizeof req / sizeof *req; i++)
        if ((rc = need(c, req[i].f, req[i].type, req[i].path)) < 0)
            return rc;
    want(c, &L->sp_large, sp, "largeType");
    want(c, &L->ha_bitmap, "runtime.heapArena", "bitmap");
    want(c, &L->inl_marks, "runtime.spanInlineMarkBits", "marks");
    want(c, &L->d_sp, "runtime._defer", "sp");
    want(c, &L->d_pc, "runtime._defer", "pc");
    want(c, &L->d_fn, "runtime._defer", "fn");
    want(c, &L->d_link, "runtime._defer", "link");
    want(c, &L->p_arg, "runtime._panic", "arg");
    want(c, &L->p_link, "runtime._panic", "link");
    want(c, &L->itab_type, "runtime.itab|internal/abi.ITab", "_type|Type");
    want(c, &L->itt_size, "runtime.itabTableType", "size");
    want(c, &L->itt_entries, "runtime.itabTableType", "entries");
    want(c, &L->fb_alllink, "runtime.finblock|runtime.finBlock", "alllink");
    want(c, &L->fb_cnt, "runtime.finblock|runtime.finBlock", "cnt");
    want(c, &L->fb_fin, "runtime.finblock|runtime.finBlock", "fin");
    want(c, &L->fin_fn, "runtime.finalizer", "fn");
    want(c, &L->fin_arg, "runtime.finalizer", "arg");
    want(c, &L->fin_fint, "runtime.finalizer", "fint");
    want(c, &L->fin_ot, "runtime.finalizer", "ot");
    want(c, &L->spp_b, "runtime.specialprofile", "b");
    want(c, &L->bk_allnext, "runtime.bucket", "allnext");
    want(c, &L->bk_size, "runtime.bucket", "size");
    want(c, &L->bk_nstk, "runtime.bucket", "nstk");
    want(c, &L->mr_allocs, "runtime.memRecord", "active.allocs");
    want(c, &L->mr_frees, "runtime.memRecord", "active.frees");
    want(c, &L->md_cutab, md, "cutab");
    want(c, &L->md_filetab, md, "filetab");
    want(c, &L->f_pcfile, fn, "pcfile");
    want(c, &L->f_pcln, fn, "pcln");
    want(c, &L->f_cuoff, fn, "cuOffset");
    want(c, &L->ms_numgc, "runtime.mstats", "numgc");
    want(c, &L->ms_last_gc, "runtime.mstats", "last_gc_unix");
    want(c, &L->ms_pause_total, "runtime.mstats", "pause_total_ns");
    want(c, &L->ms_pause_ns, "runtime.mstats", "pause_ns");
    if ((rc = type_size(c, sp, &L->span_size, 1)) < 0 ||
        (rc = type_size(c, fn, &L->func_size, 1)) < 0 ||
        (rc = type_size(c, "runtime.finalizer", &L->fin_size, 0)) < 0 ||
        (rc = type_size(c, "runtime.bucket", &L->bucket_size, 0)) < 0 ||
        (rc = type_size(c, "runtime.spanInlineMarkBits", &L->inline_size, 0)) < 0)
        return rc;
    if ((rc = cnst(c, "runtime.mSpanInUse", &L->span_in_use, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime._KindSpecialFinalizer", &L->kind_finalizer, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime._KindSpecialProfile", &L->kind_profile, -1, 0)) < 0 ||
        (rc = cnst(c, "internal/runtime/gc.PageShift|runtime._PageShift|runtime.pageShift",
                   &L->page_shift, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime.heapArenaBytes", &L->arena_bytes, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime.arenaBaseOffsetUintptr", &L->arena_base, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime.arenaL2Bits", &L->l2_bits, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime._Gdead", &L->gdead, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime._Gdeadextra", &L->gdeadextra, -1, 0)) < 0 ||
        (rc = cnst(c, "runtime._Grunning", &L->grunning, 0, 1)) < 0 ||
        (rc = cnst(c, "runtime._Gscan", &L->gscan, 0, 1)) < 0 ||
        (rc = cnst(c, "internal/runtime/gc.MallocHeaderSize|runtime.mallocHeaderSize",
                   &L->header_size, 8, 0)) < 0 ||
        (rc = cnst(c, "internal/runtime/gc.MinSizeForMallocHeader|"
                      "runtime.minSizeForMallocHeader", &L->header_min, 512, 0)) < 0 ||
        (rc = cnst(c, "internal/abi.TFlagGCMaskOnDemand", &L->gcmask_on_demand, 0, 0)) < 0 ||
        (rc = cnst(c, "internal/abi.ArgsSizeUnknown|runtime._ArgsSizeUnknown",
                   &L->args_unknown, -0x80000000LL, 0)) < 0 ||
        (rc = cnst(c, "internal/abi.PCDATA_StackMapIndex|runtime._PCDATA_StackMapIndex",
                   &L->pcdata_stackmap, 0, 1)) < 0 ||
        (rc = cnst(c, "internal/abi.FUNCDATA_ArgsPointerMaps|runtime._FUNCDATA_ArgsPointerMaps",
                   &L->funcdata_args, 0, 1)) < 0 ||
        (rc = cnst(c, "internal/abi.FUNCDATA_LocalsPointerMaps|"
                      "runtime._FUNCDATA_LocalsPointerMaps", &L->funcdata_locals, 1, 1)) < 0 ||
        /* Go 1.19's DWARF lacks the flag; its value has been 1 since Go 1.16 */
        (rc = cnst(c, "internal/abi.FuncFlagTopFrame", &L->topframe, 1, 0)) < 0)
        return rc;
    L->headers = L->minor >= 22;
    if (!L->headers && !L->ha_bitmap.size)
        return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                            "%s: the core reader cannot decode the heap bitmap: "
                            "runtime.heapArena has no field bitmap", c->rep->go_version);
    if (L->headers && !L->sp_large.size)
        return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                            "%s: the core reader cannot decode large objects' types: "
                            "runtime.mspan has no field largeType", c->rep->go_version);
    if (L->page_shift < 12 || L->page_shift > 20 || L->arena_bytes <= 0 || L->l2_bits <= 0 ||
        L->l2_bits > 32)
        return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                            "%s: unexpected runtime constants (page shift %lld, arena bytes "
                            "%lld, arena L2 bits %lld)", c->rep->go_version,
                            (long long)L->page_shift, (long long)L->arena_bytes,
                            (long long)L->l2_bits);
    return HS_OK;
}

/* ---- the binary and the memory belong together ---- */

/* The binary's PT_LOAD segments into c->ro (with their file bytes; writable ones marked), and
 * *entry its entry point. */
static int binary_segments(gc *c, uint64_t *entry)
{
    const uint8_t *b = c->in->binary;
    size_t n = c->in->binary_size;
    Elf64_Ehdr eh;
    if (n < sizeof eh || memcmp(b, ELFMAG, SELFMAG) != 0 || b[EI_CLASS] != ELFCLASS64)
        return hs_error_set(c->err, HS_ERR_FORMAT, 0, "the binary is not a 64-bit ELF file");
    memcpy(&eh, b, sizeof eh);
    *entry = eh.e_entry;
    if (eh.e_type != ET_EXEC)
        return hs_error_set(c->err, HS_ERR_UNSUPPORTED, 16,
                            "the binary is not a fixed-address executable (e_type %u): the "
                            "core reader does not relocate position-independent binaries",
                            (unsigned)eh.e_type);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > n ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > n - eh.e_phoff)
        return hs_error_set(c->err, HS_ERR_FORMAT, 32, "the binary's program headers run "
                            "past its end");
    if (!(c->ro = calloc(eh.e_phnum ? eh.e_phnum : 1, sizeof *c->ro)))
        return hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET, "binary segments");
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD || ph.p_offset > n || ph.p_filesz > n - ph.p_offset)
            continue;
        c->ro[c->nro++] = (gc_rseg){ph.p_vaddr, ph.p_filesz, b + ph.p_offset,
                                    (ph.p_flags & PF_W) != 0};
    }
    return HS_OK;
}

static int check_match(gc *c, uint64_t entry)
{
    const coremem_info *mi = coremem_get_info(c->mem);
    if (mi->at_entry && mi->at_entry != entry)
        return hs_error_set(c->err, HS_ERR_MISMATCH, HS_NO_OFFSET,
                            "the process started at 0x%llx (its AT_ENTRY) but the binary's "
                            "entry point is 0x%llx: the memory is of another program%s%s",
                            (unsigned long long)mi->at_entry, (unsigned long long)entry,
                            mi->exe[0] ? ", " : "", mi->exe);
    /* runtime.firstmoduledata is written by the linker and never changed: the process's copy
     * must equal the binary's */
    gc_fld f[] = {c->L.md_text, c->L.md_etext, c->L.md_types, c->L.md_etypes, c->L.md_data,
                  c->L.md_bss};
    static const char *const names[] = {"text", "etext", "types", "etypes", "data", "bss"};
    uint64_t md = c->L.md;
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        const uint8_t *want = binary_at(c, md + f[i].off, f[i].size, 1);
        const uint8_t *have = coremem_ptr(c->mem, md + f[i].off, f[i].size);
        if (!have)
            return hs_error_set(c->err, HS_ERR_MISMATCH, HS_NO_OFFSET,
                                "the memory does not hold runtime.firstmoduledata (0x%llx): "
                                "not a Go process, or not one running this binary",
                                (unsigned long long)md);
        if (want && memcmp(want, have, f[i].size) != 0) {
            gc_fld at = {0, f[i].size};
            return hs_error_set(c->err, HS_ERR_MISMATCH, HS_NO_OFFSET,
                                "runtime.firstmoduledata.%s is 0x%llx in the memory but 0x%llx "
                                "in the binary: the memory is of another program", names[i],
                                (unsigned long long)gc_get(have, at),
                                (unsigned long long)gc_get(want, at));
        }
    }
    return HS_OK;
}

/* ---- records other than heap and stacks ---- */

int gc_header(gc *c, uint64_t addr, uint64_t *ptr, uint64_t *len, const char *what)
{
    int rc = gc_uint(c, addr, (gc_fld){0, 8}, ptr, what);
    return rc < 0 ? rc : gc_uint(c, addr, (gc_fld){8, 8}, len, what);
}

int gc_string(gc *c, uint64_t addr, char *out, size_t cap)
{
    uint64_t p, n;
    out[0] = '\0';
    int rc;
    if ((rc = gc_header(c, addr, &p, &n, "a string header")) < 0)
        return rc;
    if (n >= cap)
        n = cap - 1;
    if (n && (rc = gc_read(c, p, out, n, "a string")) < 0)
        return rc;
    out[n] = '\0';
    return HS_OK;
}

static int write_params(gc *c)
{
    const gc_layout *L = &c->L;
    uint64_t list, n, start = 0, end = 0, ncpu = 0;
    int rc;
    if ((rc = gc_header(c, L->mheap + L->mh_arena_list.off, &list, &n,
                        "mheap_.heapArenas")) < 0)
        return rc;
    for (uint64_t i = 0; i < n && i < (1u << 24); i++) {
        uint64_t idx;
        if ((rc = gc_uint(c, list + 8 * i, (gc_fld){0, 8}, &idx, "an arena index")) < 0)
            return rc;
        uint64_t base = idx * (uint64_t)L->arena_bytes + (uint64_t)L->arena_base;
        if (!start || base < start)
            start = base;
        if (base + (uint64_t)L->arena_bytes > end)
            end = base + (uint64_t)L->arena_bytes;
    }
    /* what heapdump.go writes: numCPUStartup from Go 1.25, ncpu before */
    uint64_t at = L->ncpu_startup ? L->ncpu_startup : L->ncpu;
    if (at)
        gc_uint(c, at, (gc_fld){0, 4}, &ncpu, "the CPU count");
    hs_error_clear(c->err);
    gohd_record r = {.tag = GOHD_PARAMS};
    r.u.params.ptr_size = 8;
    r.u.params.arena_start = start;
    r.u.params.arena_end = end;
    r.u.params.goarch = (gohd_bytes){(const uint8_t *)"amd64", 5};
    r.u.params.goversion = (gohd_bytes){(const uint8_t *)c->rep->go_version,
                                        strlen(c->rep->go_version)};
    r.u.params.ncpu = ncpu;
    return gc_emit(c, &r);
}

static int write_itabs(gc *c)
{
    const gc_layout *L = &c->L;
    uint64_t tab, size;
    int rc;
    if (!L->itab_table || !L->itt_size.size || !L->itt_entries.size || !L->itab_type.size) {
        gc_lost(c, "itabs: the runtime's itab table is not described by DWARF");
        return HS_OK;
    }
    if ((rc = gc_uint(c, L->itab_table, (gc_fld){0, 8}, &tab, "runtime.itabTable")) < 0 ||
        (rc = gc_uint(c, tab, L->itt_size, &size, "the itab table")) < 0)
        return rc;
    for (uint64_t i = 0; i < size && i < (1u << 24); i++) {
        uint64_t itab, type;
        if ((rc = gc_uint(c, tab + L->itt_entries.off + 8 * i, (gc_fld){0, 8}, &itab,
                          "an itab table entry")) < 0)
            return rc;
        if (!itab)
            continue;
        if ((rc = gc_uint(c, itab, L->itab_type, &type, "an itab")) < 0)
            return rc;
        gotype t;
        if (type && gotype_read(c->in->syms, type, &t, NULL) == HS_OK) {
            gohd_record tr = {.tag = GOHD_TYPE};
            tr.u.type.addr = type;
            tr.u.type.size = t.size;
            tr.u.type.name = (gohd_bytes){(const uint8_t *)t.name, strlen(t.name)};
            /* a pointer-shaped type is stored directly in the interface word */
            tr.u.type.indirect = !(t.kind == GOTYPE_KIND_PTR || t.kind == GOTYPE_KIND_UNSAFEPTR ||
                                   t.kind == GOTYPE_KIND_CHAN || t.kind == GOTYPE_KIND_MAP ||
                                   t.kind == GOTYPE_KIND_FUNC) || t.ptrdata != 0;
            if ((rc = gc_emit(c, &tr)) < 0)
                return rc;
        }
        gohd_record r = {.tag = GOHD_ITAB};
        r.u.itab.itab = itab;
        r.u.itab.type = type;
        if ((rc = gc_emit(c, &r)) < 0)
            return rc;
        c->rep->itabs++;
    }
    return HS_OK;
}

static int write_threads(gc *c)
{
    const gc_layout *L = &c->L;
    uint64_t m;
    int rc = gc_uint(c, L->allm, (gc_fld){0, 8}, &m, "runtime.allm");
    for (unsigned k = 0; rc == HS_OK && m && k < 100000; k++) {
        gohd_record r = {.tag = GOHD_OSTHREAD};
        r.u.osthread.m = m;
        if ((rc = gc_uint(c, m, L->m_id, &r.u.osthread.id, "an m")) < 0 ||
            (rc = gc_uint(c, m, L->m_procid, &r.u.osthread.procid, "an m")) < 0 ||
            (rc = gc_emit(c, &r)) < 0 ||
            (rc = gc_uint(c, m, L->m_alllink, &m, "an m")) < 0)
            return rc;
        c->rep->threads++;
    }
    return rc;
}

/* A data or bss record: the section's bytes and the pointers its GC mask names. */
static int write_section(gc *c, int tag, gc_fld lo, gc_fld hi, gc_fld mask, const char *what)
{
    const gc_layout *L = &c->L;
    uint64_t start, end, n, bits;
    int rc;
    if ((rc = gc_uint(c, L->md, lo, &start, what)) < 0 || (rc = gc_uint(c, L->md, hi, &end, what)) < 0 ||
        (rc = gc_uint(c, L->md + mask.off, (gc_fld){0, 4}, &n, what)) < 0 ||
        (rc = gc_uint(c, L->md + mask.off, (gc_fld){8, 8}, &bits, what)) < 0)
        return rc;
    if (end < start || end - start > (1ull << 34))
        return hs_error_set(c->err, HS_ERR_FORMAT, HS_NO_OFFSET, "%s: bounds 0x%llx..0x%llx",
                            what, (unsigned long long)start, (unsigned long long)end);
    uint64_t words = (end - start) / 8;
    n = (uint32_t)n > words ? words : (uint32_t)n;
    const uint8_t *mbytes = n ? gc_ptr(c, bits, (n + 7) / 8) : NULL;
    const uint8_t *bytes = gc_ptr(c, start, end - start);
    if (!bytes) {
        if ((rc = gc_room_buf(c, end - start)) < 0 ||
            (rc = gc_read(c, start, c->buf, end - start, what)) < 0)
            return rc;
        bytes = c->buf;
    }
    if (n && !mbytes)
        gc_lost(c, "%s: its GC pointer mask is not in the memory", what);
    size_t np = 0;
    if ((rc = gc_room_offs(c, n + 1)) < 0)
        return rc;
    for (uint64_t i = 0; mbytes && i < n; i++)
        if (mbytes[i / 8] >> (i % 8) & 1)
            c->offs[np++] = i * 8;
    gohd_record r = {.tag = (gohd_tag)tag};
    r.u.object = (gohd_memrec){start, {bytes, end - start}, c->offs, np};
    return gc_emit(c, &r);
}

static int write_queued(gc *c)
{
    const gc_layout *L = &c->L;
    if (!L->allfin || !L->fb_alllink.size || !L->fb_cnt.size || !L->fb_fin.size ||
        !L->fin_fn.size || !L->fin_size) {
        gc_lost(c, "queued finalizers: runtime.allfin is not described by DWARF");
        return HS_OK;
    }
    uint64_t fb;
    int rc = gc_uint(c, L->allfin, (gc_fld){0, 8}, &fb, "runtime.allfin");
    for (unsigned k = 0; rc == HS_OK && fb && k < (1u << 20); k++) {
        uint64_t cnt;
        if ((rc = gc_uint(c, fb, L->fb_cnt, &cnt, "a finalizer block")) < 0)
            return rc;
        for (uint64_t i = 0; i < cnt && i < 4096; i++) {
            uint64_t f = fb + L->fb_fin.off + i * L->fin_size, obj;
            if ((rc = gc_uint(c, f, L->fin_arg, &obj, "a queued finalizer")) < 0 ||
                (rc = gc_finalizer(c, GOHD_QFINALIZER, obj, f, L->fin_fn, L->fin_fint,
                                   L->fin_ot)) < 0)
                return rc;
            c->rep->queued_finalizers++;
        }
        rc = gc_uint(c, fb, L->fb_alllink, &fb, "a finalizer block");
    }
    return rc;
}

/* The memstats record: what the heap walk counted, and the GC history the runtime keeps. */
static int write_memstats(gc *c)
{
    const gc_layout *L = &c->L;
    gohd_record r = {.tag = GOHD_MEMSTATS};
    r.u.memstats.stats[0] = c->rep->object_bytes;  /* Alloc */
    r.u.memstats.stats[6] = c->rep->object_bytes;  /* HeapAlloc */
    r.u.memstats.stats[11] = c->rep->objects;      /* HeapObjects */
    if (L->memstats && L->ms_numgc.size && L->ms_pause_ns.size >= 256 * 8) {
        uint64_t v;
        if (gc_uint(c, L->memstats, L->ms_numgc, &v, "runtime.memstats") == HS_OK)
            r.u.memstats.numgc = v;
        if (L->ms_last_gc.size && gc_uint(c, L->memstats, L->ms_last_gc, &v, "memstats") == HS_OK)
            r.u.memstats.stats[22] = v; /* LastGC */
        if (L->ms_pause_total.size &&
            gc_uint(c, L->memstats, L->ms_pause_total, &v, "memstats") == HS_OK)
            r.u.memstats.stats[23] = v; /* PauseTotalNs */
        for (unsigned i = 0; i < 256; i++)
            if (gc_uint(c, L->memstats + L->ms_pause_ns.off + 8 * i, (gc_fld){0, 8}, &v,
                        "memstats") == HS_OK)
                r.u.memstats.pause_ns[i] = v;
        hs_error_clear(c->err);
    }
    gc_lost(c, "memstats: only Alloc, HeapAlloc and HeapObjects (counted) and the GC history "
               "(NumGC, LastGC, pauses) are known without the hook");
    return gc_emit(c, &r);
}

static int version(gc *c)
{
    const char *v = symtab_get_info(c->in->syms)->go_version;
    if (!v[0])
        v = typetab_get_info(c->in->types)->go_version;
    snprintf(c->rep->go_version, sizeof c->rep->go_version, "%s", v[0] ? v : "go?");
    c->L.minor = symtab_go_minor(v);
    if (c->L.minor < MINOR_FIRST || c->L.minor > MINOR_LAST)
        return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                            "%s: the core reader decodes the runtime structures of Go 1.%d to "
                            "1.%d only", c->rep->go_version, MINOR_FIRST, MINOR_LAST);
    if (c->L.minor == 20 || c->L.minor == 21)
        return hs_error_set(c->err, HS_ERR_UNSUPPORTED, HS_NO_OFFSET,
                            "%s: the core reader cannot decode this version's heap bitmap "
                            "(runtime.heapArena.bitmap, one bit per word, Go 1.20 and 1.21)",
                            c->rep->go_version);
    return HS_OK;
}

int gocore_write(const gocore_input *in, hs_writer sink, gocore_report *rep, hs_error *err)
{
    if (!in || !in->mem || !in->binary || !in->syms || !in->types || !in->consts || !rep)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "gocore_write: the memory, the binary, its symbols, DWARF types "
                            "and constants are all needed");
    memset(rep, 0, sizeof *rep);
    gc c = {.in = in, .mem = in->mem, .rep = rep, .err = err};
    uint64_t entry = 0;
    int rc;
    if ((rc = version(&c)) < 0 || (rc = layout(&c)) < 0 ||
        (rc = binary_segments(&c, &entry)) < 0 || (rc = check_match(&c, entry)) < 0 ||
        (rc = gc_uint(&c, c.L.mheap, c.L.mh_sweepgen, &c.sweepgen, "mheap_.sweepgen")) < 0 ||
        (rc = gocore_stack_init(&c)) < 0 || (rc = gohdw_new(sink, &c.w, err)) < 0)
        goto out;
    const gc_layout *L = &c.L;
    if ((rc = gohdw_header(c.w, err)) < 0 || (rc = write_params(&c)) < 0 ||
        (rc = write_itabs(&c)) < 0 || (rc = gocore_heap_objects(&c)) < 0 ||
        (rc = gocore_stack_goroutines(&c)) < 0 || (rc = write_threads(&c)) < 0 ||
        (rc = write_section(&c, GOHD_DATA, L->md_data, L->md_edata, L->md_datamask,
                            "the data section")) < 0 ||
        (rc = write_section(&c, GOHD_BSS, L->md_bss, L->md_ebss, L->md_bssmask,
                            "the bss section")) < 0 ||
        (rc = gocore_heap_specials(&c, GOHD_FINALIZER)) < 0 || (rc = write_queued(&c)) < 0 ||
        (rc = write_memstats(&c)) < 0 || (rc = gocore_stack_memprof(&c)) < 0 ||
        (rc = gocore_heap_specials(&c, GOHD_ALLOC_SAMPLE)) < 0)
        goto out;
    gohd_record eof = {.tag = GOHD_EOF};
    if ((rc = gc_emit(&c, &eof)) < 0 || (rc = gohdw_flush(c.w, err)) < 0)
        goto out;
out:
    gohdw_free(c.w);
    free(c.ro);
    free(c.offs);
    free(c.buf);
    return rc;
}
