/* godwarf.h - the DWARF of a Go ELF binary read with libdw into a typetab (typetab.h): every
 * type with its fields, element, key and the runtime-internal map and chan structs the linker
 * describes, every global, every function with the stack slots of its parameters and locals
 * (docs/go-binary.md, "DWARF"). Compressed debug sections are read in both forms:
 * SHF_COMPRESSED (what the Go linker writes) and GNU .zdebug_* sections.
 */
#ifndef GODWARF_H
#define GODWARF_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "typetab.h"

/* Reads the DWARF of an ELF image held in memory (data is only read; it may be a read-only
 * mapping) into a new finished typetab (*out; the caller frees it with typetab_free).
 * Returns HS_ERR_NOTFOUND, with *out NULL, when the binary has no DWARF (built with
 * -ldflags=-w or -s, or stripped): the caller falls back to what it knows without DWARF.
 * Other failures: HS_ERR_FORMAT / HS_ERR_TRUNCATED for a broken ELF file (with the file
 * offset), HS_ERR_ELF when libelf cannot decompress a debug section (the section's file
 * offset), HS_ERR_FORMAT naming the DIE (".debug_info" offset in the message, and the file
 * offset when that section is stored uncompressed) when libdw cannot read it. */
int godwarf_read(const uint8_t *data, size_t size, typetab **out, hs_error *err);

/* The constants of the Go runtime the binary's DWARF records (DW_TAG_constant of the packages
 * runtime, internal/abi, internal/runtime/gc and internal/goarch: "runtime.mSpanInUse",
 * "internal/abi.FUNCDATA_LocalsPointerMaps"), by name. */
typedef struct godwarf_consts godwarf_consts;

/* godwarf_read that also returns the runtime's constants in *consts (the caller frees them
 * with godwarf_consts_free); consts may be NULL. *consts is NULL whenever *out is. */
int godwarf_read_consts(const uint8_t *data, size_t size, typetab **out,
                        godwarf_consts **consts, hs_error *err);

/* The value of the constant named name: HS_OK with *value, or HS_ERR_NOTFOUND. */
int godwarf_const(const godwarf_consts *c, const char *name, int64_t *value);

/* Frees the constants (NULL is accepted). */
void godwarf_consts_free(godwarf_consts *c);

#endif
