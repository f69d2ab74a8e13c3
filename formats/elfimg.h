/* elfimg.h - a Go ELF binary read through libelf: function symbols from .symtab or, when the
 * binary is stripped, from .gopclntab (every header version, docs/go-binary.md); data/bss
 * symbols with sizes; section ranges; the type-descriptor area; the compiler's stack object
 * records of every function (Go 1.18+, from .gopclntab funcdata and runtime.firstmoduledata);
 * Go version (.go.buildinfo) and build id (.note.go.buildid). The result is a symtab
 * (symtab.h).
 */
#ifndef ELFIMG_H
#define ELFIMG_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "symtab.h"

typedef struct elfimg elfimg;

/* Opens an ELF image held in memory (data must outlive the elfimg). Fails with HS_ERR_ELF /
 * HS_ERR_FORMAT for non-ELF input, naming the offset where possible. */
int elfimg_open(const uint8_t *data, size_t size, elfimg **out, hs_error *err);

/* Checks that data starts with an ELF header this machine can read in place: the magic, a
 * 32- or 64-bit class, the whole header, and the machine's byte order. Returns HS_OK, or
 * HS_ERR_FORMAT / HS_ERR_TRUNCATED / HS_ERR_UNSUPPORTED with the offending byte's offset. */
int elfimg_check_ident(const uint8_t *data, size_t size, hs_error *err);

/* Frees the image (NULL is accepted). */
void elfimg_free(elfimg *img);

/* Builds a finished symtab from the image; the caller owns *out. Fails when the image has
 * neither .symtab nor .gopclntab (an ELF with no symbols), and with the file offset of the
 * field when a stack object record points outside its section (SYMTAB.md). */
int elfimg_symtab(const elfimg *img, symtab **out, hs_error *err);

#endif
