/* symtab_internal.h - what the symbol table (symtab.c) and its SYMTAB section codec
 * (symtab_codec.c) share: the table's layout (struct symtab and its build-time records) and
 * the stack-object mask size; their arrays grow with hs_grow.h. Not part of the public API
 * (symtab.h). */
#ifndef SYMTAB_INTERNAL_H
#define SYMTAB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hs_grow.h"
#include "symtab.h"

#define NKINDS 5 /* kinds are 1..4; index 0 unused */
#define NAME_MAX_LEN 65535 /* longer names are cut (SYMTAB.md); Go generic names can be long */

/* A symbol while the table is being built: the name is an offset into the pool, because the
 * pool may move until symtab_finish. */
typedef struct pending_sym {
    uint64_t addr, size;
    size_t name_off;
    int kind;
} pending_sym;

/* A gap in a data/bss section that no symbol covers (an anonymous static). */
typedef struct anon_gap {
    uint64_t addr, size;
    size_t name_off;
    int kind;
} anon_gap;

/* The stack objects of one function: stkobjs[first .. first + count). */
typedef struct stk_func {
    uint64_t entry;
    size_t first, count;
} stk_func;

struct symtab {
    symtab_info info;
    char *pool;
    size_t pool_len, pool_cap;
    pending_sym *pending;
    size_t npending, pending_cap;
    /* After finish: all symbols sorted by (kind, addr); kind k occupies
     * syms[kstart[k] .. kstart[k] + kcount[k]). */
    symtab_sym *syms;
    size_t nsyms;
    size_t kstart[NKINDS], kcount[NKINDS];
    anon_gap *gaps; /* sorted by addr, disjoint */
    size_t ngaps;
    uint8_t *types;
    uint64_t types_base;
    size_t types_len;
    /* Stack objects: records in the order added; their masks in one pool (stkmask_off[i] is
     * record i's mask offset until symtab_finish points .mask into the pool); stkfuncs sorted
     * by entry after finish. */
    symtab_stkobj *stkobjs;
    size_t nstkobjs, stkobjs_cap;
    size_t *stkmask_off, stkmask_off_cap;
    uint8_t *stkmasks;
    size_t stkmasks_len, stkmasks_cap;
    stk_func *stkfuncs;
    size_t nstkfuncs, stkfuncs_cap;
    int finished;
};

/* Bytes of a stack object's pointer mask of ptr_words bits. */
static inline size_t symtab_mask_bytes(uint32_t ptr_words)
{
    return ((size_t)ptr_words + 7) / 8;
}

#endif
