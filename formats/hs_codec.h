/* hs_codec.h - the pieces every binary payload of heapsift shares (SYMTAB.md, TYPETAB.md): a
 * buffered encoder of bytes and unsigned LEB128 varints into an hs_writer, and the varint
 * reader of their decoders.
 */
#ifndef HS_CODEC_H
#define HS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "hs_io.h"

#define HS_CODEC_BUF 65536

/* An encoder: bytes collect in buf and go to out when it fills (hs_codec_flush at the end).
 * The first failure sticks in rc and later writes do nothing. Large: allocate it. */
typedef struct hs_codec_enc {
    hs_writer out;
    uint8_t buf[HS_CODEC_BUF];
    size_t len;
    int rc;
} hs_codec_enc;

/* Appends n bytes. */
void hs_codec_put(hs_codec_enc *e, const void *p, size_t n);

/* Appends v as an unsigned LEB128 varint (at most 10 bytes). */
void hs_codec_put_uvarint(hs_codec_enc *e, uint64_t v);

/* Hands the buffered bytes to the writer; e->rc says whether everything went out. */
void hs_codec_flush(hs_codec_enc *e);

/* Reads an unsigned LEB128 varint at *pos of p[0, size) into *v, advancing *pos. Returns
 * HS_OK, HS_ERR_TRUNCATED when the input ends inside it, or HS_ERR_FORMAT when it does not fit
 * 64 bits (the caller names the field and the offset where it started). */
int hs_codec_uvarint(const uint8_t *p, size_t size, size_t *pos, uint64_t *v);

#endif
