/* gocore_internal.h - what the core walker's files share: the walk's state (memory, layout of
 * the runtime structures as DWARF gives them, the writer) and the helpers of gocore.c.
 * gocore.c checks the inputs and writes the params, itabs, threads, roots and memstats;
 * gocore_heap.c the spans, objects and finalizer specials; gocore_stack.c the goroutines and
 * their frames. Not part of the public API (gocore.h). */
#ifndef GOCORE_INTERNAL_H
#define GOCORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gocore.h"
#include "gohd.h"
#include "gohdw.h"

/* A field of a runtime struct: its offset and the size of its type (size 0: absent). */
typedef struct gc_fld {
    uint32_t off, size;
} gc_fld;

/* The runtime's structures as the binary's DWARF lays them out, and its constants. */
typedef struct gc_layout {
    uint64_t mheap, allgs, allm, md, itab_table, allfin, ncpu, ncpu_startup, memstats,
        wait_reasons, mbuckets; /* global addresses (0: absent) */
    gc_fld mh_sweepgen, mh_allspans, mh_arenas, mh_arena_list;
    uint64_t span_size;
    gc_fld sp_start, sp_npages, sp_freeindex, sp_nelems, sp_alloc, sp_mark, sp_sweepgen,
        sp_class, sp_state, sp_elemsize, sp_specials, sp_large;
    gc_fld spc_next, spc_offset, spc_kind, spf_fn, spf_fint, spf_ot, spp_b;
    gc_fld bk_allnext, bk_size, bk_nstk, mr_allocs, mr_frees; /* the memory profile */
    uint64_t bucket_size;
    gc_fld ha_bitmap, inl_marks;
    uint64_t inline_size; /* sizeof(runtime.spanInlineMarkBits), 0 without Green Tea */
    gc_fld g_lo, g_hi, g_sp, g_pc, g_lr, g_ctxt, g_syssp, g_syspc, g_status, g_goid,
        g_waitsince, g_waitreason, g_gopc, g_startpc, g_m, g_defer, g_panic;
    gc_fld m_id, m_procid, m_alllink;
    gc_fld d_sp, d_pc, d_fn, d_link, p_arg, p_link;
    gc_fld md_data, md_edata, md_bss, md_ebss, md_datamask, md_bssmask, md_text, md_etext,
        md_types, md_etypes, md_ftab, md_pctab, md_pcln, md_names, md_gofunc, md_cutab,
        md_filetab;
    gc_fld t_size, t_ptrdata, t_tflag, t_gcdata, itab_type;
    gc_fld itt_size, itt_entries;
    gc_fld fb_alllink, fb_cnt, fb_fin, fin_fn, fin_arg, fin_fint, fin_ot;
    uint64_t fin_size;
    gc_fld f_entry, f_name, f_args, f_pcsp, f_npcdata, f_flag, f_nfuncdata, f_pcfile, f_pcln,
        f_cuoff;
    uint64_t func_size;
    gc_fld ms_numgc, ms_last_gc, ms_pause_total, ms_pause_ns;
    /* constants */
    int64_t span_in_use, kind_finalizer, kind_profile, page_shift, arena_bytes, arena_base, l2_bits;
    int64_t gdead, gdeadextra, grunning, gscan, header_size, header_min, gcmask_on_demand;
    int64_t args_unknown, pcdata_stackmap, funcdata_args, funcdata_locals, topframe;
    int minor;    /* Go 1.minor */
    int headers;  /* 1: span heap bits and malloc headers (1.22+); 0: the arena bitmap */
} gc_layout;

/* A loadable segment of the binary: read-only ones stand in for what a kernel core leaves out,
 * writable ones give the linker's initial data (to check the memory against). */
typedef struct gc_rseg {
    uint64_t vaddr, filesz;
    const uint8_t *bytes;
    int writable;
} gc_rseg;

typedef struct gc {
    const gocore_input *in;
    const coremem *mem;
    gc_rseg *ro;                       /* the binary's PT_LOAD segments */
    size_t nro;
    gc_layout L;
    gohdw *w;
    gocore_report *rep;
    hs_error *err;
    uint64_t sweepgen;                 /* mheap_.sweepgen */
    const uint8_t *ftab, *pctab, *pcln, *names; /* the function table (gocore_stack_init) */
    uint64_t nftab, npctab, npcln, nnames, gofunc, text;
    const uint8_t *cutab, *filetab;    /* file names of pcs; NULL when not readable */
    uint64_t ncutab, nfiletab;
    uint64_t *offs;                    /* pointer offsets of the record being written */
    size_t offs_cap;
    uint8_t *buf;                      /* bytes of the record being written */
    size_t buf_cap;
} gc;

/* gocore.c: the bytes at [addr, addr + len) from the memory or, for read-only data, the
 * binary; NULL when neither holds all of them (borrowed). */
const uint8_t *gc_ptr(const gc *c, uint64_t addr, uint64_t len);

/* gocore.c: copies len bytes at addr into buf; HS_ERR_NOTFOUND naming what was read (what). */
int gc_read(gc *c, uint64_t addr, void *buf, size_t len, const char *what);

/* gocore.c: an unsigned integer of f.size bytes (1, 2, 4 or 8) at base + f.off. */
int gc_uint(gc *c, uint64_t base, gc_fld f, uint64_t *v, const char *what);

/* gocore.c: the data pointer and length of the Go string or slice header at addr. */
int gc_header(gc *c, uint64_t addr, uint64_t *ptr, uint64_t *len, const char *what);

/* gocore.c: the same from a struct already read into p. */
uint64_t gc_get(const uint8_t *p, gc_fld f);

/* gocore.c: room for n pointer offsets and for n bytes in c->offs and c->buf. */
int gc_room_offs(gc *c, size_t n);
int gc_room_buf(gc *c, size_t n);

/* gocore.c: notes something that could not be recovered (printf-style, kept once). */
void gc_lost(gc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* gocore.c: the Go string whose header is at addr, truncated to cap - 1 bytes, into out. */
int gc_string(gc *c, uint64_t addr, char *out, size_t cap);

/* gocore.c: writes one record. */
int gc_emit(gc *c, const gohd_record *r);

/* gocore.c: writes a finalizer record (tag GOHD_FINALIZER or GOHD_QFINALIZER) of obj whose
 * fn, fint and ot are fields of the runtime record at rec. */
int gc_finalizer(gc *c, int tag, uint64_t obj, uint64_t rec, gc_fld fn, gc_fld fint, gc_fld ot);

/* gocore_heap.c: the object records of every in-use span; the records of their specials of
 * one kind: GOHD_FINALIZER (finalizers, with the roots) or GOHD_ALLOC_SAMPLE (memory
 * profile samples, after the profile's buckets). */
int gocore_heap_objects(gc *c);
int gocore_heap_specials(gc *c, int tag);

/* gocore_stack.c: reads the function table; then the goroutine records with their frames,
 * defers and panics; and a function's name (or NULL). */
int gocore_stack_init(gc *c);
int gocore_stack_goroutines(gc *c);

/* gocore_stack.c: the memory profile's buckets (runtime.mbuckets) as memprof records, each
 * stack with function, file and line. */
int gocore_stack_memprof(gc *c);

#endif
