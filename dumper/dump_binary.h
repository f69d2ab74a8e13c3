/* dump_binary.h - a Go binary read once for a capture: its symbols (elfimg), its DWARF types
 * and, for the core reader, its runtime constants and its bytes. */
#ifndef DUMP_BINARY_H
#define DUMP_BINARY_H

#include <stddef.h>

#include "godwarf.h"
#include "symtab.h"
#include "typetab.h"

typedef struct dump_binary {
    const unsigned char *map; /* the file's bytes (kept only with DUMP_BINARY_KEEP) */
    size_t size;
    symtab *syms;             /* NULL when the symbols cannot be read (why says why) */
    typetab *types;           /* NULL without DWARF: the analysis then types less */
    godwarf_consts *consts;   /* the runtime's constants (DUMP_BINARY_KEEP only) */
    char why[400];
} dump_binary;

#define DUMP_BINARY_KEEP 1 /* keep the mapping and read the constants: the core reader */

/* Reads the ELF file open on fd (name for messages) into *b, which the caller releases with
 * dump_binary_release in every case. Returns 0 when the symbols were read, -1 with b->why
 * saying why not. */
int dump_binary_load(int fd, const char *name, int flags, dump_binary *b);

/* Releases what dump_binary_load made (accepts a zeroed struct). */
void dump_binary_release(dump_binary *b);

#endif
