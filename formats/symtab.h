/* symtab.h - what the analyzer needs to know about a Go binary, independent of where it came
 * from: function symbols (names for code addresses and closures), data/bss symbols (names for
 * globals, including anonymous statics between symbols), section ranges, the raw bytes of the
 * type-descriptor area [runtime.types, runtime.etypes), the compiler's stack object records
 * per function and the build facts (Go version, build id, GOARCH).
 *
 * elfimg fills a symtab from an ELF file; hsd stores one in a section (symtab_encode /
 * symtab_decode) so a .hsd is analyzable without the binary. The analyzer reads only this.
 */
#ifndef SYMTAB_H
#define SYMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "hs_io.h"

typedef enum symtab_kind {
    SYMTAB_FUNC = 1,   /* code; size may be 0 when unknown (then: up to the next function) */
    SYMTAB_DATA = 2,   /* .data and .noptrdata objects */
    SYMTAB_BSS = 3,    /* .bss and .noptrbss objects */
    SYMTAB_RODATA = 4, /* read-only data objects (type.*, go.itab.*, static closures) */
} symtab_kind;

typedef struct symtab_sym {
    uint64_t addr;
    uint64_t size;
    const char *name; /* NUL-terminated, owned by the symtab */
    int kind;         /* symtab_kind */
    int anonymous;    /* 1 for a synthesized anonymous static (symtab_data_at) */
} symtab_sym;

typedef struct symtab_range {
    uint64_t start, end; /* [start, end); both 0 when absent */
} symtab_range;

/* Build facts and section ranges, filled by the producer. */
typedef struct symtab_info {
    char go_version[64]; /* "go1.19.8", "" when unknown */
    char build_id[256];  /* Go build id, "" when unknown */
    char goarch[16];     /* "amd64" */
    unsigned ptr_size;   /* 8 */
    int stripped;        /* 1 when functions came from .gopclntab, not .symtab */
    int addcleanup;      /* 1 when the binary has runtime.AddCleanup (Go 1.24+): a function
                          * named so or an instantiation "runtime.AddCleanup[...]";
                          * symtab_finish sets it from the function names */
    int stack_objects;   /* 1 when the producer read the compiler's stack object records
                          * (symtab_stack_objects answers for every function); 0 when they
                          * are unknown (Go before 1.18, no runtime.firstmoduledata found, a
                          * SYMTAB section before format version 3) */
    symtab_range text, rodata, data, noptrdata, bss, noptrbss;
    symtab_range types; /* runtime.types .. runtime.etypes */
} symtab_info;

/* A stack object of a function (the compiler's FUNCDATA_StackObjects record): where it lies
 * in the frame and which of its words are pointers. */
typedef struct symtab_stkobj {
    int32_t off;          /* < 0: from varp; >= 0: from argp (runtime/stack.go) */
    uint32_t size;        /* bytes */
    uint32_t ptr_words;   /* words the mask covers (ptrBytes / pointer size) */
    const uint8_t *mask;  /* 1 bit per word, LSB first, ceil(ptr_words/8) bytes; owned by the symtab */
} symtab_stkobj;

typedef struct symtab symtab;

/* A Go version as runtime.Version() spells it, parsed (symtab_go_version_parse). */
typedef struct symtab_go_version {
    int major, minor, patch; /* go1.26.8: 1, 26, 8; patch 0 when absent (go1.20, go1.21rc2) */
    int prerelease;          /* 1 for a beta or release candidate (go1.24rc1, go1.18beta2) */
    int devel;               /* 1 for a development toolchain ("devel go1.27-abc123 ...") */
} symtab_go_version;

/* Parses a Go version: "go1.N[.P]" with an optional "betaK"/"rcK" after the numbers and any
 * other suffix after them (" X:exp", "-X:exp", BoringCrypto's "b7"), or "devel go1.N-..."
 * (the release it leads to). A leading "go" must start the text or follow a space. Fails
 * with HS_ERR_FORMAT and the byte offset when there is no such version (e.g. the old
 * "devel +abc123" form, or a number over 9 digits). */
int symtab_go_version_parse(const char *text, symtab_go_version *out, hs_error *err);

/* The minor version N of a Go 1 version (symtab_go_version_parse), or -1 when the text is
 * not one. */
int symtab_go_minor(const char *version);

/* Creates an empty table; returns NULL when out of memory. */
symtab *symtab_new(void);

/* Frees the table (NULL is accepted). */
void symtab_free(symtab *t);

/* Build facts and ranges; the mutable form is for producers before symtab_finish. */
const symtab_info *symtab_get_info(const symtab *t);
symtab_info *symtab_info_mut(symtab *t);

/* Adds a symbol (name is copied, need not be NUL-terminated). */
int symtab_add(symtab *t, int kind, uint64_t addr, uint64_t size, const char *name,
               size_t namelen, hs_error *err);

/* Sorts and indexes the symbols and derives info->addcleanup from the function names (a
 * producer may also set it); call once after the last symtab_add and before lookups. */
int symtab_finish(symtab *t, hs_error *err);

/* Number of symbols of a kind, and the i-th in address order. */
size_t symtab_count(const symtab *t, int kind);
const symtab_sym *symtab_get(const symtab *t, int kind, size_t i);

/* The function containing pc, or NULL. */
const symtab_sym *symtab_func_at(const symtab *t, uint64_t pc);

/* The function whose entry is exactly pc, or NULL (a closure's code word is an entry). */
const symtab_sym *symtab_func_entry(const symtab *t, uint64_t pc);

/* The data/bss/rodata symbol covering addr. When no symbol covers it but addr lies in a
 * data, noptrdata, bss or noptrbss section, fills *anon with the gap between the neighbouring
 * symbols (anonymous = 1, name like "data.anon+0x5a0c0" owned by the symtab) and returns anon.
 * Returns NULL when addr is in no data section. */
const symtab_sym *symtab_data_at(const symtab *t, uint64_t addr, symtab_sym *anon);

/* Limits on stack objects (symtab_add_stack_objects fails with HS_ERR_LIMIT past them): per
 * function, in the whole table, and mask bytes in the whole table. Real binaries stay far
 * below (a few thousand records, a few KiB of masks). */
#define SYMTAB_STKOBJ_MAX_PER_FUNC 65536u
#define SYMTAB_STKOBJ_MAX (1u << 20)
#define SYMTAB_STKOBJ_MAX_MASK_BYTES (64u << 20)

/* Adds the stack objects of the function whose entry pc is `entry` (n > 0 records, in frame
 * order; masks are copied, bits past ptr_words cleared). info->ptr_size must be set first:
 * ptr_words * ptr_size must not exceed size (HS_ERR_FORMAT). A second call for the same entry
 * is ignored by symtab_finish (the first one stays). Before symtab_finish only. */
int symtab_add_stack_objects(symtab *t, uint64_t entry, const symtab_stkobj *objs, size_t n,
                             hs_error *err);

/* The stack objects of the function whose entry pc is `entry` (*n of them; NULL and 0 when it
 * has none or the symtab does not know them). */
const symtab_stkobj *symtab_stack_objects(const symtab *t, uint64_t entry, size_t *n);

/* The i-th function (in entry order) that has stack objects: *entry, *n and its records; NULL
 * (and *n = 0) when i is past the last. */
const symtab_stkobj *symtab_stack_objects_at(const symtab *t, size_t i, uint64_t *entry,
                                             size_t *n);

/* Number of functions that have stack objects. */
size_t symtab_stack_object_funcs(const symtab *t);

/* Stores a copy of the type-descriptor area (bytes at virtual address base). */
int symtab_set_types(symtab *t, uint64_t base, const uint8_t *bytes, size_t len, hs_error *err);

/* The stored type area, or NULL when none; *base and *len describe it. */
const uint8_t *symtab_types(const symtab *t, uint64_t *base, size_t *len);

/* Serializes the whole table (symbols, info, type area, stack objects) in the .hsd SYMTAB
 * section format (formats/SYMTAB.md). */
int symtab_encode(const symtab *t, hs_writer out, hs_error *err);

/* Parses a SYMTAB section; the result is finished and owns copies of everything. */
int symtab_decode(const uint8_t *data, size_t size, symtab **out, hs_error *err);

#endif
