/* redact.h - rewrites a Go heap dump without its data: the pointer graph stays, the bytes go.
 *
 * Every record is copied with the same structure, lengths and addresses (the output has
 * exactly the input's size and record offsets). In object, data, bss and stack-frame contents
 * only the pointer slots (the words at ptr_offsets) keep their value; every other byte becomes
 * 0. Type, itab, goroutine, finalizer, memstats, memprof (function, file, line) and the other
 * records are copied as they are: they hold addresses, sizes and names of code, not data.
 *
 * With a symbol table (redact_options.syms) a non-pointer word is also kept when its value is
 * program metadata the analyzer reads (docs/go-runtime.md "Malloc headers" and "Interfaces"): an address in the binary's type
 * area (an interface's type word, a Go 1.22+ malloc header), a function entry (a closure's code
 * word), or the address of a type or itab that the dump itself announced in an earlier type or
 * itab record (an interface's itab word). These are addresses of read-only program text and
 * metadata. Without a symbol table nothing but pointer slots is kept.
 *
 * Two kinds of memory also keep every word that is an address in the heap arena or, with a
 * symbol table, in the binary's data and bss (an address is not data, and the analysis needs
 * these): stack frames, whose stack objects (address-taken
 * locals, stack-allocated slice arrays) hold pointers that the frame's pointer map does not
 * list, and pointer-free 16-byte objects, which is what a Go 1.24+ weak.Pointer's handle is
 * (it holds its target's address as an integer).
 */
#ifndef REDACT_H
#define REDACT_H

#include <stdint.h>

#include "hs_error.h"
#include "hs_io.h"
#include "hsd.h"
#include "symtab.h"

typedef struct redact_options {
    const symtab *syms;        /* NULL: keep pointer slots only */
    uint64_t max_record_bytes; /* largest input record accepted (0 = gohd's default) */
} redact_options;

typedef struct redact_stats {
    uint64_t records;       /* records copied, the final EOF record not counted */
    uint64_t content_bytes; /* bytes of object, data, bss and frame contents */
    uint64_t bytes_zeroed;  /* content bytes that were non-zero and are now 0 */
    uint64_t ptr_words;     /* pointer slots kept (inside their record) */
    uint64_t words_kept;    /* non-pointer words kept as type, itab or code addresses */
    uint64_t bytes_out;     /* bytes written, header included (equals the input's size) */
} redact_stats;

/* Reads a heap dump from in and writes its redacted copy (header to EOF record) to out.
 * opts and stats may be NULL. Returns HS_OK, or a negative status with err naming the input
 * byte offset (corrupt input) or the output offset (sink failure); out then holds a partial
 * stream that must be discarded. */
int redact_stream(hs_reader in, hs_writer out, const redact_options *opts, redact_stats *stats,
                  hs_error *err);

/* redact_stream into a .hsd container: w must have the HEAPDUMP section open
 * (hsd_writer_begin(w, HSD_SEC_HEAPDUMP, ...)); the caller ends the section and finishes the
 * file. For capturing with redaction: in reads the runtime's dump as it arrives. On a writer
 * failure err carries hsd_writer's own error (output offset, errno). */
int redact_to_hsd(hs_reader in, hsd_writer *w, const redact_options *opts, redact_stats *stats,
                  hs_error *err);

#endif
