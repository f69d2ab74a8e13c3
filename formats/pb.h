/* pb.h - a protocol buffers wire-format encoder: varints, length-delimited fields and nested
 * messages written into a growable buffer (https://protobuf.dev/programming-guides/encoding/).
 * Only what writing a message needs (the pprof profile of analyzer/emit_pprof.c): no
 * decoding, no descriptors, no generated code; the caller knows its field numbers.
 *
 * Every writer appends to a pb_buf. The first failure (out of memory) sticks in its status and
 * later writes are ignored, so a message is built without error plumbing and checked once.
 */
#ifndef PB_H
#define PB_H

#include <stddef.h>
#include <stdint.h>

#include "hs_io.h"

typedef struct pb_buf {
    hs_mem_sink out; /* the encoded bytes: out.data, out.len */
    int status;      /* HS_OK, or the first failure (HS_ERR_NOMEM, HS_ERR_ARG) */
} pb_buf;

/* Wire types (the low 3 bits of a field's tag). */
enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

/* Largest field number protobuf allows (2^29 - 1). */
#define PB_MAX_FIELD 536870911u

/* An empty buffer. */
void pb_init(pb_buf *b);

/* Frees the buffer's bytes and leaves it empty (status cleared). */
void pb_release(pb_buf *b);

/* Appends v as a base-128 varint (1 to 10 bytes). */
void pb_varint(pb_buf *b, uint64_t v);

/* Appends a field's tag: field << 3 | wire type. A field of 0 or above PB_MAX_FIELD sets
 * the status to HS_ERR_ARG. */
void pb_tag(pb_buf *b, uint32_t field, int wire);

/* A varint field (uint32, uint64, bool, enum). */
void pb_uint(pb_buf *b, uint32_t field, uint64_t v);

/* An int64 field: negative values take ten bytes (two's complement, not zigzag). */
void pb_int(pb_buf *b, uint32_t field, int64_t v);

/* A length-delimited field of n bytes (string, bytes, or an encoded message). */
void pb_bytes(pb_buf *b, uint32_t field, const void *p, size_t n);

/* A string field; NULL writes an empty string. */
void pb_string(pb_buf *b, uint32_t field, const char *s);

/* A packed repeated field of varints (repeated uint64, or int64 values cast). n == 0 writes
 * nothing. */
void pb_packed(pb_buf *b, uint32_t field, const uint64_t *v, size_t n);

/* Nested messages: pb_begin writes the field's tag and returns a mark; the message's fields
 * follow; pb_end(b, mark) puts the message's length in front of them. Marks nest. */
size_t pb_begin(pb_buf *b, uint32_t field);
void pb_end(pb_buf *b, size_t mark);

#endif
