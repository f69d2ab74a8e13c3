/* elfimg_internal.h - what elfimg.c shares with its .gopclntab reader (elfimg_pclntab.c) and
 * its stack-object reader (elfimg_stkobj.c): the image (sections, RELATIVE relocations), the
 * checked .gopclntab header, the firstmoduledata facts, and the functions across files. Not
 * part of the public API (elfimg.h). */
#ifndef ELFIMG_INTERNAL_H
#define ELFIMG_INTERNAL_H

#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "elfimg.h"

typedef struct section {
    const char *name;
    uint64_t addr, size, offset, flags;
    uint32_t type;
    size_t index;
    int has_data; /* file bytes [offset, offset+size) lie inside the image */
} section;

typedef struct relative {
    uint64_t where, value;
} relative;

struct elfimg {
    Elf *elf;
    const uint8_t *data;
    size_t size;
    unsigned ptr_size;
    unsigned machine;
    section *secs;
    size_t nsecs;
    relative *rels; /* R_*_RELATIVE fixups sorted by where */
    size_t nrels;
};

/* A .gopclntab header, checked. */
typedef struct pcln_view {
    const section *s;
    const uint8_t *p;    /* the section's bytes */
    uint64_t n, fo;      /* its size and file offset (for messages) */
    uint32_t magic;
    unsigned P;          /* pointer size from the header */
    uint64_t nf;         /* functions */
    uint64_t names_off, functab_off, funcdata_off;
    uint64_t field;      /* functab field size: P before Go 1.18, 4 after */
    uint64_t text_start; /* Go 1.18+: entries are offsets from here */
    unsigned func_size;  /* bytes of _func before its pcdata offsets: 40 for Go 1.18-1.19, 44
                          * for 1.20+ (startLine), 0 before 1.18 (funcdata not read) */
} pcln_view;

/* What elfimg takes from runtime.firstmoduledata. */
typedef struct md_info {
    uint64_t types, etypes;
    uint64_t rodata, gofunc; /* 0 when not readable */
} md_info;

/* elfimg.c: the section of that name, or NULL. */
const section *elfimg_find_section(const elfimg *img, const char *name);
/* elfimg.c: a pointer-sized word at a virtual address, with RELATIVE relocations applied;
 * -1 when no file bytes hold it. */
int elfimg_va_word(const elfimg *img, uint64_t addr, uint64_t *v);
/* elfimg.c: a section with file bytes covering [start, end), or NULL. */
const section *elfimg_section_covering(const elfimg *img, uint64_t start, uint64_t end);

/* elfimg_pclntab.c: checks the .gopclntab header of section s into v. */
int elfimg_pcln_parse(const elfimg *img, const section *s, pcln_view *v, hs_error *err);
/* elfimg_pclntab.c: function i of the table (entry, next entry, offset of its _func). */
int elfimg_pcln_func(const pcln_view *v, uint64_t i, uint64_t *entry, uint64_t *next,
                     uint64_t *func_at, hs_error *err);
/* elfimg_pclntab.c: the function names of the table into t (stripped binaries). */
int elfimg_load_pclntab(const pcln_view *v, symtab *t, size_t *nfunc, hs_error *err);

/* elfimg_stkobj.c: the stack objects of every function into t; 1 when nothing was read. */
int elfimg_load_stack_objects(const elfimg *img, const pcln_view *v, const md_info *md,
                              symtab *t, hs_error *err);

#endif
