/* gocore.h - the heap and root set of a stopped Go process rebuilt from its memory (a core
 * file or a live snapshot, coremem.h), written as the Go runtime heap dump that
 * runtime/debug.WriteHeapDump would have written (gohd.h): the same records in the same
 * order, so a core becomes the same .hsd and the same analysis as a hook capture.
 *
 * Every runtime structure is located and laid out through the binary's DWARF: globals
 * (runtime.mheap_, runtime.allgs, runtime.firstmoduledata, ...), struct fields and the
 * runtime's constants (godwarf_read_consts). What DWARF cannot tell, and the formats that
 * differ by version (the heap bitmap of Go 1.19, span heap bits and malloc headers from Go
 * 1.22, Green Tea's inline mark bits from 1.25), are chosen by the Go version and described
 * in docs/capture-core.md. Read-only memory a kernel core leaves out (text, rodata,
 * .gopclntab) is read from the binary.
 */
#ifndef GOCORE_H
#define GOCORE_H

#include <stddef.h>
#include <stdint.h>

#include "coremem.h"
#include "godwarf.h"
#include "hs_error.h"
#include "hs_io.h"
#include "symtab.h"
#include "typetab.h"

typedef struct gocore_input {
    const coremem *mem;           /* the process's memory */
    const uint8_t *binary;        /* the executable it ran (an ELF file in memory) */
    size_t binary_size;
    const symtab *syms;           /* the binary's symbols (elfimg_symtab) */
    const typetab *types;         /* its DWARF types and globals (required) */
    const godwarf_consts *consts; /* its runtime constants (required) */
} gocore_input;

#define GOCORE_LOST_MAX 12

/* What the walk found, and what it could not recover (one line each in lost[]). */
typedef struct gocore_report {
    char go_version[64];
    uint64_t spans, objects, object_bytes, goroutines, frames, finalizers, queued_finalizers;
    uint64_t itabs, threads;
    uint64_t unswept_spans;  /* in-use spans not swept since the last GC: their objects are
                              * the ones that GC marked */
    uint64_t running;        /* goroutines running at the stop: walked from their thread's
                              * registers (pointers held only in registers are not seen) */
    uint64_t cut_stacks;     /* stacks whose walk stopped early (a pc in no function) */
    uint64_t untyped;        /* objects whose type word could not be read: no pointers */
    char lost[GOCORE_LOST_MAX][200];
    size_t nlost;
} gocore_report;

/* Checks that the memory is of a process running this binary, walks its runtime structures
 * and writes a complete Go heap dump (header to EOF record) to sink. Returns HS_OK with *rep
 * filled, or fails with HS_ERR_MISMATCH naming the fact where memory and binary disagree (a
 * core of another program, or of a process that is not Go), HS_ERR_UNSUPPORTED naming the
 * Go version and the runtime structure it cannot decode, HS_ERR_NOTFOUND naming an address
 * the memory does not hold, or the sink's error. */
int gocore_write(const gocore_input *in, hs_writer sink, gocore_report *rep, hs_error *err);

#endif
