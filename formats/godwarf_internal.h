/* godwarf_internal.h - what the DWARF reader's files share: the reader's state (the DIEs as
 * read, before their references are resolved), the attributes of one DIE, and the helpers
 * of godwarf_attr.c. godwarf.c opens the binary and walks the units; godwarf_func.c reads
 * functions and their variables, godwarf_loc.c their location lists; godwarf_types.c
 * resolves the types and builds the typetab.
 * Not part of the public API (godwarf.h). */
#ifndef GODWARF_INTERNAL_H
#define GODWARF_INTERNAL_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>

#include "godwarf.h"

/* Go's own attributes (cmd/internal/dwarf/dwarf.go, the same numbers from Go 1.19 to 1.27;
 * closure offsets from Go 1.23, DW_AT_go_closure_offset). */
#define GW_AT_go_kind 0x2900
#define GW_AT_go_key 0x2901
#define GW_AT_go_elem 0x2902
#define GW_AT_go_embedded_field 0x2903
#define GW_AT_go_runtime_type 0x2904
#define GW_AT_go_closure_offset 0x2907

/* The attributes of one DIE that the reader uses; references are .debug_info offsets (0 =
 * absent: offset 0 is a unit header, never a DIE). */
typedef struct gw_attrs {
    const char *name;
    Dwarf_Off type, go_elem, go_key, origin;
    uint64_t byte_size, count, member_loc, go_rt, closure_off;
    int go_kind, encoding; /* -1 when absent */
    unsigned has_size : 1, has_count : 1, has_member_loc : 1, has_location : 1,
        has_frame_base : 1, embedded : 1, var_param : 1, has_low_pc : 1;
    Dwarf_Attribute location, frame_base; /* valid while the Dwarf lives */
} gw_attrs;

/* A type DIE as read. Fields are raw_fields[first_field .. + nfields). */
typedef struct raw_type {
    Dwarf_Off off;
    const char *name;
    Dwarf_Off type, go_elem, go_key;
    uint64_t size, count, go_rt;
    uint32_t first_field, nfields;
    uint16_t tag;
    int16_t go_kind, encoding;
    uint8_t has_size;
    uint32_t id; /* typetab id, set by godwarf_build */
} raw_type;

typedef struct raw_field {
    const char *name;
    Dwarf_Off type;
    uint64_t offset;
    uint32_t flags; /* TYPETAB_F_* */
} raw_field;

typedef struct raw_global {
    const char *name;
    uint64_t addr;
    Dwarf_Off type;
} raw_global;

/* A variable record; v.type is set from `type` by godwarf_build. */
typedef struct raw_var {
    typetab_var v; /* v.name is a libdw string */
    Dwarf_Off type;
    uint8_t top;      /* declared at the function's top level (not in a block or an inlined
                       * call): where a closure function's captured variables are */
    uint8_t declared; /* no stack slot and no closure offset (in registers only): not for
                       * the typetab, only to find a closure's context (godwarf_closure.c) */
} raw_var;

/* A runtime constant (godwarf_consts); name is a libdw string. */
typedef struct raw_const {
    const char *name;
    int64_t value;
} raw_const;

typedef struct raw_func {
    const char *name;
    uint64_t low, high;
    size_t first_var, nvars;
    int closure; /* a closure's function (godwarf_closure_name) */
} raw_func;

/* An allocated section with bytes in the file, for reading type descriptors. */
typedef struct gw_seg {
    uint64_t addr, size, off;
} gw_seg;

typedef struct gw {
    Dwarf *dbg;
    hs_error *err;
    const uint8_t *data; /* the ELF file */
    gw_seg *segs;
    size_t nsegs, segs_cap;
    unsigned ptr_size;
    uint64_t types_base;  /* runtime.types, 0 when unknown */
    uint64_t types_end;   /* runtime.etypes */
    uint64_t info_at;     /* file offset of .debug_info when stored uncompressed, else
                           * HS_NO_OFFSET */
    char go_version[64];
    int regabi;
    /* the location list sections (decompressed, owned by libelf) and the unit being read */
    const uint8_t *loc, *loclists, *addr;
    size_t loc_len, loclists_len, addr_len;
    unsigned cu_version, cu_addr_size;
    uint64_t cu_base, cu_addr_base; /* DW_AT_low_pc, DW_AT_addr_base of the unit */
    int cu_has_addr_base;
    raw_type *types;
    size_t ntypes, types_cap;
    raw_field *fields;
    size_t nfields, fields_cap;
    raw_global *globals;
    size_t nglobals, globals_cap;
    raw_func *funcs;
    size_t nfuncs, funcs_cap;
    raw_var *vars;
    size_t nvars, vars_cap;
    raw_const *consts; /* only when the caller asked for them */
    size_t nconsts, consts_cap;
    int want_consts;
} gw;

/* godwarf_attr.c: reads the attributes of a DIE into *a; fails naming the DIE. */
int godwarf_attrs(gw *g, Dwarf_Die *die, gw_attrs *a);

/* godwarf_attr.c: records a failure at a DIE (".debug_info" offset die_off) with libdw's
 * message appended, and returns HS_ERR_FORMAT. */
int godwarf_fail(gw *g, Dwarf_Off die_off, const char *what);

/* godwarf_attr.c: room for `more` elements of `elem` bytes in an array of the reader, n used
 * of *cap; arrayp is the address of the array's pointer (T **), which may move. */
int godwarf_room(gw *g, void *arrayp, size_t n, size_t *cap, size_t more, size_t elem);

/* godwarf_attr.c: the operations of a location expression held in a block (Go writes its
 * single expressions as DW_FORM_block1, which libdw's location readers refuse in DWARF 4 and 5
 * units): only those Go's locations use (DW_OP_addr, DW_OP_call_frame_cfa, DW_OP_fbreg,
 * DW_OP_piece, DW_OP_reg0-31, DW_OP_regx). -1 for any other, a truncated one, or more than
 * max. */
int godwarf_block_ops(const Dwarf_Block *b, unsigned addr_size, size_t max, Dwarf_Op *ops,
                      size_t *n);

/* One entry of a location list: the expression's bytes hold for pcs [lo, hi). */
typedef int (*godwarf_loc_fn)(void *ctx, uint64_t lo, uint64_t hi, const uint8_t *expr,
                              size_t len);

/* godwarf_loc.c: calls fn for each entry of the location list that the DW_AT_location loc
 * (DW_FORM_sec_offset or data4/data8) of die points to, in the current unit; stops at fn's
 * first failure and returns it. */
int godwarf_loclist(gw *g, Dwarf_Die *die, Dwarf_Attribute *loc, godwarf_loc_fn fn, void *ctx);

/* godwarf_types.c: records a type DIE (tag is its tag) with its members or subrange. */
int godwarf_type_die(gw *g, Dwarf_Die *die, int tag);

/* godwarf_func.c: records a subprogram DIE with code, and its variables. */
int godwarf_func_die(gw *g, Dwarf_Die *die);

/* godwarf_closure.c: is this the name of a closure's function ("pkg.f.func1", "pkg.f.func2.1",
 * "pkg.F[...].func1")? 1 or 0. */
int godwarf_closure_name(const char *name);

/* godwarf_closure.c: the closure contexts of functions DWARF gives no closure offsets (Go
 * before 1.23), from the compiler's closure struct descriptors in the binary's type area. */
typedef struct gw_closures gw_closures;

/* godwarf_closure.c: finds the closure struct descriptors of the binary into *out (NULL, and
 * HS_OK, when it has no type area); the caller frees it with godwarf_closures_free. */
int godwarf_closures_open(gw *g, gw_closures **out);

/* godwarf_closure.c: the captured variables of closure function f, whose raw variables'
 * types are resolved (v.type indexes types[0..ntypes), the table being built): appends to
 * *out (of *nout, room *cap) one record per captured variable, with its closure offset, when
 * exactly one descriptor matches best (docs/go-binary.md "DWARF"). */
int godwarf_closure_vars(gw *g, const gw_closures *c, const typetab_type *types, size_t ntypes,
                         const raw_func *f, typetab_var **out, size_t *nout, size_t *cap);

/* godwarf_closure.c: frees c (NULL is accepted). */
void godwarf_closures_free(gw_closures *c);

/* godwarf_types.c: resolves the types and builds the finished typetab from everything read. */
int godwarf_build(gw *g, typetab **out);

#endif
