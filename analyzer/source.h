/* source.h - opens a dump for analysis: a .hsd container (heap-dump section plus the symbol
 * table it carries) or a raw runtime heap dump (plus, optionally, the binary for symbols).
 * Loads files by path: it is the one place in the library that touches the file system.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "gohd.h"
#include "hs_error.h"
#include "hsd.h"
#include "symtab.h"
#include "typetab.h"

typedef struct source {
    char *path;
    const uint8_t *data; /* a mapped .hsd file (or a raw dump held in memory by the caller) */
    size_t size;
    int mapped;          /* data is a mapping of the file (hs_map_file) */
    int fd;              /* a raw dump file, streamed with pread (-1 when not used) */
    hsd_reader *hsd;     /* NULL for a raw heap dump */
    long dump_section;   /* index of the heap-dump section in hsd */
    symtab *syms;        /* NULL when neither the .hsd nor --binary gave symbols */
    typetab *types;      /* DWARF types from the .hsd or --binary; NULL without */
    char *meta_json;     /* the .hsd META section, NUL-terminated, or NULL */
    char *manifest_json; /* the .hsd MANIFEST section, or NULL */
    uint64_t dump_bytes; /* size of the raw heap-dump stream */
    const uint8_t *bin;  /* the mapped --binary, or NULL */
    size_t bin_size;
    uint64_t max_record; /* largest dump record accepted (0 = the reader's default, 4 GiB):
                            the memory budget for one record */
} source;

/* Opens path (a .hsd or a raw dump). binary (may be NULL) supplies symbols for a raw dump, or
 * replaces the .hsd's. Returns HS_OK and a new source in *out (close it with source_close),
 * or a negative status with err set. */
int source_open(const char *path, const char *binary, source **out, hs_error *err);

/* Starts a new pass over the heap-dump records into *out; free the reader with
 * source_reader_free (NULL is accepted). threads: inflate workers for a .hsd (<= 1 inline).
 * Returns HS_OK, or a negative status with err set. */
typedef struct source_reader source_reader;
int source_reader_open(source *s, int threads, source_reader **out, hs_error *err);
void source_reader_free(source_reader *sr);

/* The record decoder of the pass (owned by sr): read records with gohd_next. */
gohd_reader *source_reader_gohd(source_reader *sr);

/* When a read from a .hsd stream failed (gohd reports HS_ERR_IO or the stream's status), the
 * underlying CRC/inflate error with its file offset; NULL for raw dumps. */
const hs_error *source_reader_stream_error(const source_reader *sr);

/* Closes everything (NULL is accepted). */
void source_close(source *s);

#endif
