/* gohdw.h - writer of the Go runtime heap dump ("go1.7 heap dump\n"): the inverse of gohd.h.
 *
 * gohdw_record() encodes any gohd_record in the runtime's byte format, fields in the order
 * src/runtime/heapdump.go writes them, varints in their shortest form (as the runtime writes
 * them), pointer offsets as kind-1 fields. Reading a dump written by Go 1.7+ with gohd_next and
 * writing every record back with gohdw_record reproduces it byte for byte.
 *
 * Output is buffered; big byte strings go to the sink directly. Nothing reaches the sink
 * after its first error: that status is returned by every later call.
 */
#ifndef GOHDW_H
#define GOHDW_H

#include <stdint.h>

#include "gohd.h"
#include "hs_error.h"
#include "hs_io.h"

typedef struct gohdw gohdw;

/* Creates a writer over sink (writes nothing yet). Returns HS_OK and the writer in *out, or
 * HS_ERR_NOMEM / HS_ERR_ARG with *out set to NULL. The caller keeps owning the sink. */
int gohdw_new(hs_writer sink, gohdw **out, hs_error *err);

/* Writes the 16-byte "go1.7 heap dump\n" header. */
int gohdw_header(gohdw *w, hs_error *err);

/* Encodes one record (any tag, GOHD_EOF included); rec->offset and rec->length are ignored.
 * HS_ERR_ARG for an unknown tag (nothing written) or a byte string / list that is NULL with a
 * non-zero length (then, as after a sink error, the writer refuses every later call). */
int gohdw_record(gohdw *w, const gohd_record *rec, hs_error *err);

/* Hands everything buffered to the sink. Call after the last record (the EOF record is an
 * ordinary record: write it with gohdw_record). */
int gohdw_flush(gohdw *w, hs_error *err);

/* Bytes written so far (buffered ones included): the stream offset of the next record. */
uint64_t gohdw_position(const gohdw *w);

/* Frees the writer (NULL is accepted) without flushing. */
void gohdw_free(gohdw *w);

#endif
