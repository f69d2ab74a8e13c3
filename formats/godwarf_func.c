/* godwarf_func.c - functions for the DWARF reader: a subprogram with code (DW_AT_low_pc) and
 * the stack slots of its parameters and locals, including those of calls inlined into it
 * (docs/go-binary.md, "DWARF"). A location is kept when it is a stack slot holding the whole
 * variable: DW_OP_call_frame_cfa or DW_OP_fbreg N (Go's frame base is the CFA), alone or as
 * contiguous DW_OP_piece parts; of a composite location, each piece in a stack slot is kept
 * (TYPETAB_V_PIECE) and those in registers are skipped. */
#include "godwarf_internal.h"

#include <dwarf.h>
#include <string.h>

#define MAX_SCOPE_DEPTH 64 /* lexical blocks and inlined calls nested deeper are not read */
#define MAX_BLOCK_OPS 16    /* a longer single expression is no stack slot of Go's */

typedef struct func_ctx {
    uint64_t low, high;
    int fb_cfa;  /* the frame base is DW_OP_call_frame_cfa, so DW_OP_fbreg is from the CFA */
    int closure; /* a closure's function ("pkg.f.func1"): its top-level variables in
                  * registers only are kept too (raw_var.declared) */
} func_ctx;

static int frame_base_is_cfa(gw *g, gw_attrs *a)
{
    Dwarf_Block blk;
    Dwarf_Op op;
    size_t n;
    return a->has_frame_base && dwarf_formblock(&a->frame_base, &blk) == 0 &&
           godwarf_block_ops(&blk, g->ptr_size, 1, &op, &n) == 0 && n == 1 &&
           op.atom == DW_OP_call_frame_cfa;
}

/* One place of a location expression: 1 with *off when it is a stack slot. */
static int place(const Dwarf_Op *op, int fb_cfa, int64_t *off)
{
    if (op->atom == DW_OP_call_frame_cfa) {
        *off = 0;
        return 1;
    }
    if (op->atom == DW_OP_fbreg && fb_cfa) {
        *off = (int64_t)op->number;
        return 1;
    }
    return 0;
}

/* Whether ops put the whole variable in one run of stack bytes: a single place, or places
 * each followed by DW_OP_piece, one after the other. *off is where the run starts. */
static int slot_of(const Dwarf_Op *ops, size_t n, int fb_cfa, int64_t *off)
{
    int64_t start = 0, next = 0;
    for (size_t i = 0; i < n;) {
        int64_t at;
        if (!place(&ops[i++], fb_cfa, &at))
            return 0;
        if (i == n) { /* a place without a piece must be the whole expression */
            *off = at;
            return n == 1;
        }
        if (ops[i].atom != DW_OP_piece || (i > 1 && at != next))
            return 0;
        if (i == 1)
            start = at;
        next = at + (int64_t)ops[i++].number;
    }
    *off = start;
    return n > 0;
}

/* Appends (or extends the previous record of the same variable with) a slot for [lo, hi):
 * the whole variable, or the piece [poff, poff + plen) of it when plen > 0. */
static int add_slot(gw *g, size_t first, const raw_var *proto, int64_t off, uint32_t poff,
                    uint32_t plen, uint64_t lo, uint64_t hi)
{
    if (g->nvars > first) {
        typetab_var *last = &g->vars[g->nvars - 1].v;
        if (last->cfa_off == off && last->piece_off == poff && last->piece_len == plen &&
            lo <= last->hi && hi >= last->lo) {
            last->lo = lo < last->lo ? lo : last->lo;
            last->hi = hi > last->hi ? hi : last->hi;
            return HS_OK;
        }
    }
    int rc = godwarf_room(g, &g->vars, g->nvars, &g->vars_cap, 1, sizeof *g->vars);
    if (rc < 0)
        return rc;
    raw_var *r = &g->vars[g->nvars++];
    *r = *proto;
    r->v.cfa_off = off;
    r->v.lo = lo;
    r->v.hi = hi;
    r->v.flags |= TYPETAB_V_SLOT | (plen ? TYPETAB_V_PIECE : 0);
    r->v.piece_off = poff;
    r->v.piece_len = plen;
    return HS_OK;
}

/* The slots of one location expression for [lo, hi): the whole variable in one run of stack
 * bytes, or else each piece that is on the stack (a composite location whose other pieces
 * are registers or optimized out). */
static int add_slots(gw *g, size_t first, const raw_var *proto, const func_ctx *fc,
                     const Dwarf_Op *ops, size_t n, uint64_t lo, uint64_t hi)
{
    int64_t off;
    if (slot_of(ops, n, fc->fb_cfa, &off))
        return add_slot(g, first, proto, off, 0, 0, lo, hi);
    uint64_t poff = 0;
    for (size_t i = 0; i < n;) {
        if (ops[i].atom == DW_OP_piece) { /* an empty piece: optimized out */
            poff += ops[i++].number;
            continue;
        }
        if (i + 1 >= n || ops[i + 1].atom != DW_OP_piece)
            return HS_OK; /* a computed location: not a slot */
        uint64_t len = ops[i + 1].number;
        int rc;
        if (place(&ops[i], fc->fb_cfa, &off) && len && poff + len <= UINT32_MAX &&
            (rc = add_slot(g, first, proto, off, (uint32_t)poff, (uint32_t)len, lo, hi)) < 0)
            return rc;
        poff += len;
        i += 2;
    }
    return HS_OK;
}

typedef struct list_ctx {
    gw *g;
    const func_ctx *fc;
    const raw_var *proto;
    size_t first;
} list_ctx;

/* A location list entry (godwarf_loclist): a slot record when it is a stack slot. */
static int list_entry(void *ctx, uint64_t start, uint64_t end, const uint8_t *expr, size_t len)
{
    list_ctx *lc = ctx;
    Dwarf_Op ops[MAX_BLOCK_OPS];
    Dwarf_Block blk = {len, (unsigned char *)expr};
    size_t n;
    uint64_t lo = start < lc->fc->low ? lc->fc->low : start;
    uint64_t hi = end > lc->fc->high ? lc->fc->high : end;
    if (lo >= hi || godwarf_block_ops(&blk, lc->g->ptr_size, MAX_BLOCK_OPS, ops, &n) < 0)
        return HS_OK;
    return add_slots(lc->g, lc->first, lc->proto, lc->fc, ops, n, lo, hi);
}

static int add_var(gw *g, Dwarf_Die *die, int tag, const func_ctx *fc, int inlined, int top)
{
    gw_attrs a, o;
    int rc = godwarf_attrs(g, die, &a);
    if (rc < 0)
        return rc;
    if (a.origin && (!a.name || !a.type || !a.closure_off)) {
        Dwarf_Die od;
        if (!dwarf_offdie(g->dbg, a.origin, &od))
            return godwarf_fail(g, dwarf_dieoffset(die), "its abstract origin");
        if ((rc = godwarf_attrs(g, &od, &o)) < 0)
            return rc;
        a.name = a.name ? a.name : o.name;
        a.type = a.type ? a.type : o.type;
        a.var_param |= o.var_param;
        a.closure_off = a.closure_off ? a.closure_off : o.closure_off;
    }
    int may_declare = fc->closure && top && tag == DW_TAG_variable;
    if (!a.type || (!a.has_location && !a.closure_off && !may_declare))
        return HS_OK;
    raw_var proto = {{0}, a.type, (uint8_t)top, 0};
    proto.v.name = a.name;
    proto.v.closure_off = a.closure_off;
    proto.v.flags = (tag == DW_TAG_formal_parameter ? TYPETAB_V_PARAM : 0) |
                    (a.var_param ? TYPETAB_V_RESULT : 0) | (inlined ? TYPETAB_V_INLINED : 0);
    size_t first = g->nvars;
    Dwarf_Block blk;
    Dwarf_Op *ops, one[MAX_BLOCK_OPS];
    size_t n;
    if (a.has_location && dwarf_formblock(&a.location, &blk) == 0) {
        /* one expression for every pc; empty for Go's unused results */
        if (godwarf_block_ops(&blk, g->ptr_size, MAX_BLOCK_OPS, one, &n) == 0 &&
            fc->low < fc->high &&
            (rc = add_slots(g, first, &proto, fc, one, n, fc->low, fc->high)) < 0)
            return rc;
    } else if (a.has_location && (dwarf_whatform(&a.location) == DW_FORM_sec_offset ||
                                  dwarf_whatform(&a.location) == DW_FORM_data4 ||
                                  dwarf_whatform(&a.location) == DW_FORM_data8)) {
        list_ctx lc = {g, fc, &proto, first};
        if ((rc = godwarf_loclist(g, die, &a.location, list_entry, &lc)) < 0)
            return rc;
    } else if (a.has_location) { /* DW_FORM_loclistx, which Go does not write: libdw's */
        ptrdiff_t next = 0;
        Dwarf_Addr base, start, end;
        while ((next = dwarf_getlocations(&a.location, next, &base, &start, &end, &ops,
                                          &n)) > 0) {
            uint64_t lo = start < fc->low ? fc->low : start;
            uint64_t hi = end > fc->high ? fc->high : end;
            if (lo < hi && (rc = add_slots(g, first, &proto, fc, ops, n, lo, hi)) < 0)
                return rc;
        }
        if (next < 0)
            return godwarf_fail(g, dwarf_dieoffset(die), "its location list");
    }
    /* known only by its place in the closure, or (a closure function's top-level variable
     * in registers) only by its name and type */
    int declared = !a.closure_off && may_declare;
    if (g->nvars == first && (a.closure_off || declared)) {
        if ((rc = godwarf_room(g, &g->vars, g->nvars, &g->vars_cap, 1,
                               sizeof *g->vars)) < 0)
            return rc;
        raw_var *r = &g->vars[g->nvars++];
        *r = proto;
        r->v.lo = fc->low;
        r->v.hi = fc->high;
        r->declared = (uint8_t)declared;
    }
    return HS_OK;
}

static int walk_scope(gw *g, Dwarf_Die *parent, const func_ctx *fc, int inlined, int depth)
{
    Dwarf_Die child;
    int r = dwarf_child(parent, &child);
    if (r != 0)
        return r < 0 ? godwarf_fail(g, dwarf_dieoffset(parent), "its children") : HS_OK;
    do {
        int rc = HS_OK, tag = dwarf_tag(&child);
        if (tag == DW_TAG_formal_parameter || tag == DW_TAG_variable)
            rc = add_var(g, &child, tag, fc, inlined, depth == 0);
        else if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
                 depth < MAX_SCOPE_DEPTH)
            rc = walk_scope(g, &child, fc, inlined || tag == DW_TAG_inlined_subroutine,
                            depth + 1);
        if (rc < 0)
            return rc;
    } while ((r = dwarf_siblingof(&child, &child)) == 0);
    return r < 0 ? godwarf_fail(g, dwarf_dieoffset(&child), "its next sibling") : HS_OK;
}

int godwarf_func_die(gw *g, Dwarf_Die *die)
{
    gw_attrs a;
    int rc = godwarf_attrs(g, die, &a);
    if (rc < 0 || !a.has_low_pc)
        return rc; /* no code: an abstract function, only a model for inlined copies */
    Dwarf_Addr low, high;
    if (dwarf_lowpc(die, &low) != 0 || dwarf_highpc(die, &high) != 0)
        return godwarf_fail(g, dwarf_dieoffset(die), "its pc range");
    if (high < low)
        return HS_OK;
    const char *name = a.name;
    if (!name && a.origin) {
        Dwarf_Die od;
        gw_attrs o;
        if (!dwarf_offdie(g->dbg, a.origin, &od))
            return godwarf_fail(g, dwarf_dieoffset(die), "its abstract origin");
        if ((rc = godwarf_attrs(g, &od, &o)) < 0)
            return rc;
        name = o.name;
    }
    func_ctx fc = {low, high, frame_base_is_cfa(g, &a), godwarf_closure_name(name)};
    size_t first = g->nvars;
    if ((rc = walk_scope(g, die, &fc, 0, 0)) < 0)
        return rc;
    if ((rc = godwarf_room(g, &g->funcs, g->nfuncs, &g->funcs_cap, 1,
                           sizeof *g->funcs)) < 0)
        return rc;
    g->funcs[g->nfuncs++] = (raw_func){name, low, high, first, g->nvars - first, fc.closure};
    return HS_OK;
}
