/* bincheck.h - does this binary belong to this dump? Facts of a dump (its data and bss
 * segments, the type descriptors it names, the build id recorded at capture) checked against
 * the symtab of a binary, so that symbols from another program are refused instead of naming
 * the heap wrongly (docs/go-binary.md "Which binary wrote the dump").
 *
 * Every check returns HS_OK, or HS_ERR_MISMATCH with a message naming the fact that disagrees
 * (and the dump record's byte offset where one is given).
 */
#ifndef BINCHECK_H
#define BINCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "gohd.h"
#include "hs_error.h"
#include "symtab.h"

/* One record of the dump against the binary; records other than these pass:
 * - data and bss: the segment must be the binary's .data or .bss section, exactly (when the
 *   symtab knows the section);
 * - type: the descriptor the dump names must be at that address in the binary, with that name.
 *   Only addresses inside the binary's type area are checked: the runtime also makes types at
 *   run time (reflect), which no binary holds. */
int bincheck_record(const symtab *bin, const gohd_record *rec, hs_error *err);

/* The build id the dump recorded at capture (from its own symtab) against the binary's.
 * Passes when either is unknown. */
int bincheck_build_id(const symtab *dump, const symtab *bin, hs_error *err);

#endif
