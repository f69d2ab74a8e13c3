/* gocore_stack.c - the goroutines of a core (docs/capture-core.md "Stacks"): each goroutine of
 * runtime.allgs that is not dead, its stack walked frame by frame with the function table of
 * runtime.firstmoduledata (pcsp tables give each frame's size; the stack maps of
 * FUNCDATA_LocalsPointerMaps and FUNCDATA_ArgsPointerMaps its pointer slots), as
 * runtime/heapdump.go's dumpframe writes them; then its defer and panic records. */
#include "gocore_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_codec.h"

#define MAX_FRAMES 100000

int gocore_stack_init(gc *c)
{
    const gc_layout *L = &c->L;
    uint64_t md = L->md, v[8];
    gc_fld f[] = {{L->md_ftab.off, 8},      {L->md_ftab.off + 8, 8}, {L->md_pctab.off, 8},
                  {L->md_pctab.off + 8, 8}, {L->md_pcln.off, 8},     {L->md_pcln.off + 8, 8},
                  {L->md_names.off, 8},     {L->md_names.off + 8, 8}};
    int rc;
    for (size_t i = 0; i < 8; i++)
        if ((rc = gc_uint(c, md, f[i], &v[i], "runtime.firstmoduledata")) < 0)
            return rc;
    if ((rc = gc_uint(c, md, L->md_gofunc, &c->gofunc, "runtime.firstmoduledata")) < 0 ||
        (rc = gc_uint(c, md, L->md_text, &c->text, "runtime.firstmoduledata")) < 0)
        return rc;
    c->nftab = v[1];
    c->npctab = v[3];
    c->npcln = v[5];
    c->nnames = v[7];
    if (c->nftab < 2 || c->nftab > (1u << 26) || !(c->ftab = gc_ptr(c, v[0], c->nftab * 8)) ||
        !(c->pctab = gc_ptr(c, v[2], c->npctab)) || !(c->pcln = gc_ptr(c, v[4], c->npcln)) ||
        !(c->names = gc_ptr(c, v[6], c->nnames)))
        return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "the function table of runtime.firstmoduledata (ftab 0x%llx, %llu "
                            "entries) is in neither the memory nor the binary",
                            (unsigned long long)v[0], (unsigned long long)c->nftab);
    /* file names (for the memory profile's stacks) */
    uint64_t cu[2], ft[2];
    if (L->md_cutab.size && L->md_filetab.size &&
        gc_header(c, md + L->md_cutab.off, &cu[0], &cu[1], "cutab") == HS_OK &&
        gc_header(c, md + L->md_filetab.off, &ft[0], &ft[1], "filetab") == HS_OK &&
        cu[1] < (1u << 28) && ft[1] < (1u << 30) && (c->cutab = gc_ptr(c, cu[0], 4 * cu[1])) &&
        (c->filetab = gc_ptr(c, ft[0], ft[1]))) {
        c->ncutab = cu[1];
        c->nfiletab = ft[1];
    }
    hs_error_clear(c->err);
    return HS_OK;
}

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A function of the table: its _func bytes (with its pcdata and funcdata offsets). */
typedef struct gfunc {
    const uint8_t *f;
    uint64_t entry;
    uint32_t npcdata, nfuncdata;
} gfunc;

/* The function containing pc; 0 with *out, -1 when none. */
static int findfunc(const gc *c, uint64_t pc, gfunc *out)
{
    if (pc < c->text)
        return -1;
    uint64_t off = pc - c->text;
    size_t lo = 0, hi = c->nftab - 1; /* the last entry only marks the end of the text */
    if (off >= u32(c->ftab + 8 * hi))
        return -1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (u32(c->ftab + 8 * mid) <= off)
            lo = mid;
        else
            hi = mid;
    }
    if (u32(c->ftab + 8 * lo) > off)
        return -1;
    uint64_t at = u32(c->ftab + 8 * lo + 4);
    const gc_layout *L = &c->L;
    if (at > c->npcln || c->npcln - at < L->func_size)
        return -1;
    const uint8_t *f = c->pcln + at;
    out->f = f;
    out->entry = c->text + gc_get(f, L->f_entry);
    out->npcdata = (uint32_t)gc_get(f, L->f_npcdata);
    out->nfuncdata = (uint32_t)gc_get(f, L->f_nfuncdata);
    if ((uint64_t)4 * (out->npcdata + out->nfuncdata) > c->npcln - at - L->func_size)
        return -1;
    return 0;
}

/* A pc table's uvarint (runtime readvarint: 32 bits, at most 5 bytes) at p[*i]; -1 when it
 * runs past n, is longer or does not fit. */
static int uvarint(const uint8_t *p, uint64_t n, uint64_t *i, uint32_t *v)
{
    size_t at = (size_t)*i, start = at;
    uint64_t x;
    if (hs_codec_uvarint(p, (size_t)n, &at, &x) < 0 || at - start > 5 || x > UINT32_MAX)
        return -1;
    *i = at;
    *v = (uint32_t)x;
    return 0;
}

/* The value of the pc-value table at pctab offset `off` for target (runtime pcvalue); 0 with
 * *val, -1 when the table does not cover target or is broken. */
static int pcvalue(const gc *c, const gfunc *fn, uint32_t off, uint64_t target, int32_t *val)
{
    uint64_t i = off, pc = fn->entry;
    int32_t v = -1;
    for (int first = 1;; first = 0) {
        uint32_t uvdelta, pcdelta;
        if (uvarint(c->pctab, c->npctab, &i, &uvdelta) < 0)
            return -1;
        if (uvdelta == 0 && !first)
            return -1;
        v += (int32_t)(-(uvdelta & 1) ^ (uvdelta >> 1));
        if (uvarint(c->pctab, c->npctab, &i, &pcdelta) < 0)
            return -1;
        pc += pcdelta; /* amd64's pc quantum is 1 */
        if (target < pc) {
            *val = v;
            return 0;
        }
    }
}

static int pcdata(const gc *c, const gfunc *fn, int64_t table, uint64_t pc, int32_t *val)
{
    if (table < 0 || table >= fn->npcdata)
        return -1;
    uint32_t off = u32(fn->f + c->L.func_size + 4 * table);
    return off ? pcvalue(c, fn, off, pc, val) : -1;
}

/* The address of funcdata i of a function, 0 when it has none. */
static uint64_t funcdata(const gc *c, const gfunc *fn, int64_t i)
{
    if (i < 0 || i >= fn->nfuncdata)
        return 0;
    uint32_t off = u32(fn->f + c->L.func_size + 4 * ((uint64_t)fn->npcdata + (uint64_t)i));
    return off == UINT32_MAX ? 0 : c->gofunc + off;
}

static const char *funcname(const gc *c, const gfunc *fn)
{
    uint64_t off = gc_get(fn->f, c->L.f_name);
    if (off >= c->nnames || !memchr(c->names + off, 0, c->nnames - off))
        return "unknown function";
    return (const char *)c->names + off;
}

/* A stack map's bit vector for index n (runtime stackmapdata); nbit -1 when there is none. */
typedef struct bitvec {
    int64_t nbit;
    const uint8_t *bits;
} bitvec;

static bitvec stackmap(gc *c, uint64_t at, int32_t n, int64_t *count)
{
    bitvec bv = {-1, NULL};
    const uint8_t *h = at ? gc_ptr(c, at, 8) : NULL;
    *count = 0;
    if (!h)
        return bv;
    int32_t cnt = (int32_t)u32(h), nbit = (int32_t)u32(h + 4);
    *count = cnt;
    if (cnt <= 0 || nbit < 0 || n < 0 || n >= cnt)
        return bv;
    uint64_t row = ((uint64_t)nbit + 7) / 8;
    const uint8_t *bits = gc_ptr(c, at + 8 + (uint64_t)n * row, row);
    if (bits)
        bv = (bitvec){nbit, bits};
    return bv;
}

typedef struct child {
    uint64_t argoff, arglen, sp, depth;
    bitvec args;
} child;

/* Writes the frame at pc/sp (fp its frame pointer, varp its locals' top) as dumpframe does. */
static int frame(gc *c, const gfunc *fn, uint64_t pc, uint64_t sp, uint64_t fp, uint64_t varp,
                 child *ch)
{
    const gc_layout *L = &c->L;
    int32_t idx = -1;
    if (pc != fn->entry && pcdata(c, fn, L->pcdata_stackmap, pc - 1, &idx) < 0)
        idx = -1;
    if (idx == -1)
        idx = 0; /* the prologue: the entry map */
    int64_t nloc;
    uint64_t locals = funcdata(c, fn, L->funcdata_locals);
    bitvec bv = stackmap(c, locals, idx, &nloc);
    const uint8_t *bytes = gc_ptr(c, sp, fp - sp);
    if (!bytes)
        return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "the stack frame of %s at 0x%llx is not in the memory",
                            funcname(c, fn), (unsigned long long)sp);
    int rc = gc_room_offs(c, (fp - sp) / 8 + (ch->arglen + 64 * 8) / 8 + 1);
    if (rc < 0)
        return rc;
    size_t n = 0, cap = c->offs_cap;
    if (ch->args.nbit >= 0) {
        for (int64_t i = 0; i < ch->args.nbit && n < cap; i++)
            if (ch->args.bits[i / 8] >> (i % 8) & 1)
                c->offs[n++] = ch->argoff + 8 * (uint64_t)i;
    } else {
        for (uint64_t off = ch->argoff; off < ch->argoff + ch->arglen && n < cap; off += 8)
            c->offs[n++] = off;
    }
    if (!locals) {
        for (uint64_t off = ch->arglen; off < varp - sp && n < cap; off += 8)
            c->offs[n++] = off;
    } else if (nloc < 0) {
        uint64_t size = (uint64_t)-nloc;
        for (uint64_t off = varp - size - sp; off < varp - sp && n < cap; off += 8)
            c->offs[n++] = off;
    } else if (bv.nbit > 0) {
        uint64_t base = varp - (uint64_t)bv.nbit * 8 - sp;
        for (int64_t i = 0; i < bv.nbit && n < cap; i++)
            if (bv.bits[i / 8] >> (i % 8) & 1)
                c->offs[n++] = base + 8 * (uint64_t)i;
    }
    const char *name = funcname(c, fn);
    gohd_record r = {.tag = GOHD_FRAME};
    r.u.frame.sp = sp;
    r.u.frame.depth = ch->depth;
    r.u.frame.child_sp = ch->sp;
    r.u.frame.contents = (gohd_bytes){bytes, fp - sp};
    r.u.frame.entry = fn->entry;
    r.u.frame.pc = pc;
    r.u.frame.continpc = pc;
    r.u.frame.name = (gohd_bytes){(const uint8_t *)name, strlen(name)};
    r.u.frame.ptr_offsets = c->offs;
    r.u.frame.nptrs = n;
    if ((rc = gc_emit(c, &r)) < 0)
        return rc;
    c->rep->frames++;
    int64_t args = (int32_t)gc_get(fn->f, L->f_args);
    int64_t nargs;
    ch->argoff = 0; /* argp - fp: amd64 has no fixed frame area */
    ch->arglen = args == L->args_unknown || args < 0 ? 0 : (uint64_t)args;
    ch->sp = sp;
    ch->depth++;
    uint64_t amap = funcdata(c, fn, L->funcdata_args);
    ch->args = amap ? stackmap(c, amap, idx, &nargs) : (bitvec){-1, NULL};
    return HS_OK;
}

/* Walks the stack [lo, hi) from pc/sp and writes its frames. */
static int walk(gc *c, uint64_t pc, uint64_t sp, uint64_t lo, uint64_t hi)
{
    const gc_layout *L = &c->L;
    child ch = {.args = {-1, NULL}};
    for (unsigned depth = 0; depth < MAX_FRAMES; depth++) {
        gfunc fn;
        int32_t delta;
        uint32_t pcsp = 0;
        if (findfunc(c, pc, &fn) < 0 || !(pcsp = (uint32_t)gc_get(fn.f, L->f_pcsp)) ||
            pcvalue(c, &fn, pcsp, pc, &delta) < 0 || delta < 0) {
            c->rep->cut_stacks++;
            return HS_OK;
        }
        uint64_t fp = sp + (uint64_t)delta + 8, lr = 0;
        if (sp < lo || fp > hi) {
            c->rep->cut_stacks++;
            return HS_OK;
        }
        if (!(gc_get(fn.f, L->f_flag) & (uint64_t)L->topframe)) {
            const uint8_t *p = gc_ptr(c, fp - 8, 8);
            lr = p ? hs_load_le64(p) : 0;
        }
        uint64_t varp = fp - 8;
        if (varp > sp)
            varp -= 8; /* the saved frame pointer */
        int rc = frame(c, &fn, pc, sp, fp, varp, &ch);
        if (rc < 0)
            return rc;
        if (!lr)
            return HS_OK;
        pc = lr;
        sp = fp;
    }
    c->rep->cut_stacks++;
    return HS_OK;
}

/* The thread of the M a running goroutine is on, when its registers are in the memory. */
static const coremem_thread *thread_of(gc *c, uint64_t m)
{
    uint64_t procid;
    if (!m || gc_uint(c, m, c->L.m_procid, &procid, "an m") < 0) {
        hs_error_clear(c->err);
        return NULL;
    }
    for (size_t i = 0, n = coremem_thread_count(c->mem); i < n; i++) {
        const coremem_thread *t = coremem_thread_get(c->mem, i);
        if ((uint64_t)t->tid == procid)
            return t;
    }
    return NULL;
}

static int defers_and_panics(gc *c, uint64_t g, uint64_t d, uint64_t p)
{
    const gc_layout *L = &c->L;
    int rc = HS_OK;
    for (unsigned k = 0; d && L->d_link.size && k < MAX_FRAMES; k++) {
        gohd_record r = {.tag = GOHD_DEFER};
        r.u.defer.d = d;
        r.u.defer.g = g;
        if ((rc = gc_uint(c, d, L->d_sp, &r.u.defer.sp, "a defer")) < 0 ||
            (rc = gc_uint(c, d, L->d_pc, &r.u.defer.pc, "a defer")) < 0 ||
            (rc = gc_uint(c, d, L->d_fn, &r.u.defer.fn, "a defer")) < 0 ||
            (rc = gc_uint(c, d, L->d_link, &r.u.defer.link, "a defer")) < 0)
            return rc;
        if (r.u.defer.fn && (rc = gc_uint(c, r.u.defer.fn, (gc_fld){0, 8}, &r.u.defer.fnpc,
                                          "a deferred funcval")) < 0)
            return rc;
        if ((rc = gc_emit(c, &r)) < 0)
            return rc;
        d = r.u.defer.link;
    }
    for (unsigned k = 0; p && L->p_link.size && k < MAX_FRAMES; k++) {
        gohd_record r = {.tag = GOHD_PANIC};
        r.u.panic.p = p;
        r.u.panic.g = g;
        if ((rc = gc_uint(c, p + L->p_arg.off, (gc_fld){0, 8}, &r.u.panic.argtype, "a panic")) < 0 ||
            (rc = gc_uint(c, p + L->p_arg.off, (gc_fld){8, 8}, &r.u.panic.argdata, "a panic")) < 0 ||
            (rc = gc_uint(c, p, L->p_link, &r.u.panic.link, "a panic")) < 0 ||
            (rc = gc_emit(c, &r)) < 0)
            return rc;
        p = r.u.panic.link;
    }
    return rc;
}

static int goroutine(gc *c, uint64_t g)
{
    const gc_layout *L = &c->L;
    uint64_t size = L->g_panic.off + 8;
    gc_fld all[] = {L->g_lo, L->g_hi, L->g_sp, L->g_pc, L->g_ctxt, L->g_syssp, L->g_syspc,
                    L->g_status, L->g_goid, L->g_waitsince, L->g_waitreason, L->g_gopc,
                    L->g_startpc, L->g_m, L->g_defer};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i].off + all[i].size > size)
            size = all[i].off + all[i].size;
    const uint8_t *gp = gc_ptr(c, g, size);
    if (!gp)
        return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "the goroutine at 0x%llx (runtime.allgs) is not in the memory",
                            (unsigned long long)g);
    uint64_t status = gc_get(gp, L->g_status) & ~(uint64_t)L->gscan;
    if (status == (uint64_t)L->gdead || status == (uint64_t)L->gdeadextra)
        return HS_OK;
    uint64_t lo = gc_get(gp, L->g_lo), hi = gc_get(gp, L->g_hi), m = gc_get(gp, L->g_m);
    uint64_t pc = gc_get(gp, L->g_pc), sp = gc_get(gp, L->g_sp);
    const coremem_thread *t = status == (uint64_t)L->grunning ? thread_of(c, m) : NULL;
    if (t && t->sp >= lo && t->sp < hi) {
        pc = t->pc; /* running on its own stack when the process stopped */
        sp = t->sp;
        c->rep->running++;
    } else if (gc_get(gp, L->g_syssp)) {
        pc = gc_get(gp, L->g_syspc);
        sp = gc_get(gp, L->g_syssp);
    }
    char reason[128] = "";
    uint64_t why = gc_get(gp, L->g_waitreason);
    if (L->wait_reasons && why < 256 &&
        gc_string(c, L->wait_reasons + 16 * why, reason, sizeof reason) < 0) {
        hs_error_clear(c->err);
        reason[0] = '\0';
    }
    int system = 0;
    gfunc start;
    if (findfunc(c, gc_get(gp, L->g_startpc), &start) == 0) {
        const char *name = funcname(c, &start);
        system = !strncmp(name, "runtime.", 8) && strcmp(name, "runtime.main") != 0;
    }
    gohd_record r = {.tag = GOHD_GOROUTINE};
    r.u.goroutine.g = g;
    r.u.goroutine.sp = sp;
    r.u.goroutine.goid = gc_get(gp, L->g_goid);
    r.u.goroutine.gopc = gc_get(gp, L->g_gopc);
    r.u.goroutine.status = status;
    r.u.goroutine.is_system = system;
    r.u.goroutine.waitsince = gc_get(gp, L->g_waitsince);
    r.u.goroutine.waitreason = (gohd_bytes){(const uint8_t *)reason, strlen(reason)};
    r.u.goroutine.ctxt = gc_get(gp, L->g_ctxt);
    r.u.goroutine.m = m;
    r.u.goroutine.defer = gc_get(gp, L->g_defer);
    r.u.goroutine.panic = gc_get(gp, L->g_panic);
    int rc;
    if ((rc = gc_emit(c, &r)) < 0 || (rc = walk(c, pc, sp, lo, hi)) < 0)
        return rc;
    c->rep->goroutines++;
    return defers_and_panics(c, g, r.u.goroutine.defer, r.u.goroutine.panic);
}

/* The file and line of pc in fn (runtime funcline1); "?" and 0 when unknown. */
static const char *fileline(const gc *c, const gfunc *fn, uint64_t pc, uint64_t *line)
{
    const gc_layout *L = &c->L;
    int32_t fileno, ln;
    *line = 0;
    if (!c->cutab || !L->f_pcfile.size || !L->f_pcln.size || !L->f_cuoff.size ||
        pcvalue(c, fn, (uint32_t)gc_get(fn->f, L->f_pcfile), pc, &fileno) < 0 ||
        pcvalue(c, fn, (uint32_t)gc_get(fn->f, L->f_pcln), pc, &ln) < 0 || fileno < 0 || ln < 0)
        return "?";
    uint64_t cu = gc_get(fn->f, L->f_cuoff) + (uint64_t)fileno;
    if (cu >= c->ncutab)
        return "?";
    uint32_t off = u32(c->cutab + 4 * cu);
    if (off >= c->nfiletab || !memchr(c->filetab + off, 0, c->nfiletab - off))
        return "?";
    *line = (uint64_t)ln;
    return (const char *)c->filetab + off;
}

#define MAX_PROF_STACK 1024 /* the runtime's limit (debug.profstackdepth) */

int gocore_stack_memprof(gc *c)
{
    const gc_layout *L = &c->L;
    if (!L->mbuckets || !L->bucket_size || !L->bk_allnext.size || !L->bk_nstk.size ||
        !L->mr_allocs.size) {
        gc_lost(c, "allocation sites: the memory profile's buckets are not described by DWARF");
        return HS_OK;
    }
    gohd_stackloc *locs = malloc(MAX_PROF_STACK * sizeof *locs);
    char(*unknown)[24] = malloc(MAX_PROF_STACK * sizeof *unknown);
    uint64_t b = 0;
    int rc = locs && unknown ? gc_uint(c, L->mbuckets, (gc_fld){0, 8}, &b, "runtime.mbuckets")
                             : hs_error_set(c->err, HS_ERR_NOMEM, HS_NO_OFFSET, "stacks");
    for (unsigned k = 0; rc == HS_OK && b && k < (1u << 22); k++) {
        const uint8_t *hdr = gc_ptr(c, b, L->bucket_size);
        if (!hdr) {
            rc = hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                              "the memory profile bucket at 0x%llx is not in the memory",
                              (unsigned long long)b);
            break;
        }
        uint64_t nstk = gc_get(hdr, L->bk_nstk);
        const uint8_t *stk = nstk <= MAX_PROF_STACK ? gc_ptr(c, b + L->bucket_size, 8 * nstk) : NULL;
        uint64_t mr = b + L->bucket_size + 8 * nstk;
        gohd_record r = {.tag = GOHD_MEMPROF};
        r.u.memprof.bucket = b;
        r.u.memprof.size = gc_get(hdr, L->bk_size);
        if (!stk) {
            rc = hs_error_set(c->err, HS_ERR_FORMAT, HS_NO_OFFSET,
                              "the memory profile bucket at 0x%llx has a stack of %llu frames "
                              "the memory does not hold", (unsigned long long)b,
                              (unsigned long long)nstk);
            break;
        }
        if ((rc = gc_uint(c, mr, L->mr_allocs, &r.u.memprof.allocs, "a bucket")) < 0 ||
            (rc = gc_uint(c, mr, L->mr_frees, &r.u.memprof.frees, "a bucket")) < 0)
            break;
        for (uint64_t i = 0; i < nstk; i++) {
            uint64_t pc = hs_load_le64(stk + 8 * i), line = 0;
            gfunc fn;
            const char *name, *file;
            if (findfunc(c, pc, &fn) < 0) {
                snprintf(unknown[i], sizeof unknown[i], "(0x%llx)", (unsigned long long)pc);
                name = unknown[i];
                file = "?";
            } else {
                name = funcname(c, &fn);
                file = fileline(c, &fn, i > 0 && pc > fn.entry ? pc - 1 : pc, &line);
            }
            locs[i] = (gohd_stackloc){{(const uint8_t *)name, strlen(name)},
                                      {(const uint8_t *)file, strlen(file)}, line};
        }
        r.u.memprof.nstk = nstk;
        r.u.memprof.stack = locs;
        if ((rc = gc_emit(c, &r)) < 0)
            break;
        rc = gc_uint(c, b, L->bk_allnext, &b, "a bucket");
    }
    free(locs);
    free(unknown);
    return rc;
}

int gocore_stack_goroutines(gc *c)
{
    const gc_layout *L = &c->L;
    uint64_t arr, n;
    int rc;
    if ((rc = gc_header(c, L->allgs, &arr, &n, "runtime.allgs")) < 0)
        return rc;
    const uint8_t *list = n ? gc_ptr(c, arr, n * 8) : NULL;
    if (n && (n > (1u << 28) || !list))
        return hs_error_set(c->err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "runtime.allgs (%llu goroutines at 0x%llx) is not in the memory",
                            (unsigned long long)n, (unsigned long long)arr);
    for (uint64_t i = 0; i < n; i++)
        if ((rc = goroutine(c, hs_load_le64(list + 8 * i))) < 0)
            return rc;
    if (c->rep->running)
        gc_lost(c, "%llu goroutines were running: walked from their thread's registers; "
                   "pointers held only in registers are not seen",
                (unsigned long long)c->rep->running);
    if (c->rep->cut_stacks)
        gc_lost(c, "%llu stacks end early: a frame's pc is in no Go function (assembly or C "
                   "code, or a corrupt stack)", (unsigned long long)c->rep->cut_stacks);
    return HS_OK;
}
