/* fuzz_synth_symtab.h - a small made-up symbol table for synthetic dumps (the fuzz_analyze
 * target and the hostile-graph generator): section ranges, a few functions (closures, a method
 * value, a finalizer) and globals with gaps between them (anonymous statics). Header-only. */
#ifndef FUZZ_SYNTH_SYMTAB_H
#define FUZZ_SYNTH_SYMTAB_H

#include <stdio.h>
#include <string.h>

#include "symtab.h"

#define FSYM_TEXT 0x401000u
#define FSYM_RODATA 0x480000u
#define FSYM_DATA 0x560000u
#define FSYM_NOPTRDATA 0x561000u
#define FSYM_BSS 0x562000u
#define FSYM_NOPTRBSS 0x570000u
#define FSYM_END 0x572000u

/* Function entries a generator can use as closure code words / finalizer pcs. */
#define FSYM_FN_MAIN (FSYM_TEXT + 0x000)
#define FSYM_FN_FUNC1 (FSYM_TEXT + 0x100)   /* main.main.func1: a func literal */
#define FSYM_FN_CLOSEFM (FSYM_TEXT + 0x140) /* main.(*Payload).close-fm: a method value */
#define FSYM_FN_FINAL (FSYM_TEXT + 0x180)   /* main.finalizePayload */
#define FSYM_FN_NESTED (FSYM_TEXT + 0x1c0)  /* main.worker.func2.1 */

/* Globals. */
#define FSYM_G_STORE (FSYM_BSS + 0x000)    /* main.store, 40 bytes (a sync.Map's size) */
#define FSYM_G_REGISTRY (FSYM_BSS + 0x040) /* main.registry, 8 */
#define FSYM_G_SLICE (FSYM_BSS + 0x048)    /* main.ghostSlice, 24 */
#define FSYM_G_TABLE (FSYM_BSS + 0x100)    /* main.table, 0x8000 (4096 pointers) */
#define FSYM_G_ANON (FSYM_BSS + 0x9000)    /* no symbol: an anonymous static */
#define FSYM_G_DATA (FSYM_DATA + 0x10)     /* main.config, 16 */

/* Builds the table; returns NULL when out of memory. The caller frees it. */
static inline symtab *fuzz_synth_symtab(void)
{
    symtab *t = symtab_new();
    if (!t)
        return NULL;
    symtab_info *in = symtab_info_mut(t);
    snprintf(in->go_version, sizeof in->go_version, "go1.19.8");
    snprintf(in->goarch, sizeof in->goarch, "amd64");
    snprintf(in->build_id, sizeof in->build_id, "fuzz/synthetic");
    in->ptr_size = 8;
    in->text = (symtab_range){FSYM_TEXT, FSYM_RODATA};
    in->rodata = (symtab_range){FSYM_RODATA, FSYM_DATA};
    in->types = (symtab_range){FSYM_RODATA, FSYM_RODATA + 0x10000};
    in->data = (symtab_range){FSYM_DATA, FSYM_NOPTRDATA};
    in->noptrdata = (symtab_range){FSYM_NOPTRDATA, FSYM_BSS};
    in->bss = (symtab_range){FSYM_BSS, FSYM_NOPTRBSS};
    in->noptrbss = (symtab_range){FSYM_NOPTRBSS, FSYM_END};
    static const struct {
        int kind;
        uint64_t addr, size;
        const char *name;
    } syms[] = {
        {SYMTAB_FUNC, FSYM_FN_MAIN, 0x100, "main.main"},
        {SYMTAB_FUNC, FSYM_FN_FUNC1, 0x40, "main.main.func1"},
        {SYMTAB_FUNC, FSYM_FN_CLOSEFM, 0x40, "main.(*Payload).close-fm"},
        {SYMTAB_FUNC, FSYM_FN_FINAL, 0x40, "main.finalizePayload"},
        {SYMTAB_FUNC, FSYM_FN_NESTED, 0x40, "main.worker.func2.1"},
        {SYMTAB_FUNC, FSYM_TEXT + 0x1000, 0, "runtime.gopark"},
        {SYMTAB_DATA, FSYM_G_DATA, 16, "main.config"},
        {SYMTAB_BSS, FSYM_G_STORE, 40, "main.store"},
        {SYMTAB_BSS, FSYM_G_REGISTRY, 8, "main.registry"},
        {SYMTAB_BSS, FSYM_G_SLICE, 24, "main.ghostSlice"},
        {SYMTAB_BSS, FSYM_G_TABLE, 0x8000, "main.table"},
        {SYMTAB_BSS, FSYM_G_ANON + 0x1000, 8, "main.after"},
        {SYMTAB_RODATA, FSYM_RODATA + 0x20000, 32, "go.itab.*main.Payload,main.Closer"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (symtab_add(t, syms[i].kind, syms[i].addr, syms[i].size, syms[i].name,
                       strlen(syms[i].name), NULL) < 0) {
            symtab_free(t);
            return NULL;
        }
    if (symtab_finish(t, NULL) < 0) {
        symtab_free(t);
        return NULL;
    }
    return t;
}

#endif
