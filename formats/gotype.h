/* gotype.h - Go runtime type descriptors (_type / abi.Type) decoded from the type area that a
 * symtab carries. Layouts are keyed on the Go version (docs/go-binary.md "Types").
 */
#ifndef GOTYPE_H
#define GOTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "symtab.h"

/* reflect.Kind values (kind & 31). */
enum {
    GOTYPE_KIND_BOOL = 1, GOTYPE_KIND_INT = 2, GOTYPE_KIND_UINTPTR = 12,
    GOTYPE_KIND_ARRAY = 17, GOTYPE_KIND_CHAN = 18, GOTYPE_KIND_FUNC = 19,
    GOTYPE_KIND_INTERFACE = 20, GOTYPE_KIND_MAP = 21, GOTYPE_KIND_PTR = 22,
    GOTYPE_KIND_SLICE = 23, GOTYPE_KIND_STRING = 24, GOTYPE_KIND_STRUCT = 25,
    GOTYPE_KIND_UNSAFEPTR = 26
};

typedef struct gotype {
    uint64_t addr;    /* descriptor address */
    uint64_t size;    /* size of a value */
    uint64_t ptrdata; /* prefix that can hold pointers */
    uint8_t tflag;
    uint8_t kind;     /* kind & 31 */
    uint64_t elem;    /* element type for ptr/slice/array/chan, 0 otherwise */
    char name[256];   /* "main.Payload", "*main.Payload", "[]*main.Item" */
} gotype;

/* Returns 1 when addr lies in the symtab's type area (a candidate descriptor), else 0. */
int gotype_is_type_addr(const symtab *t, uint64_t addr);

/* Decodes the descriptor at addr. Returns HS_OK, HS_ERR_NOTFOUND when addr is outside the
 * type area, or HS_ERR_FORMAT when the bytes are not a plausible descriptor. */
int gotype_read(const symtab *t, uint64_t addr, gotype *out, hs_error *err);

/* Writes the field path (".next", ".items[3].key") of byte `offset` inside a value of the
 * type at type_addr into buf, descending through structs and arrays. Returns HS_OK, or
 * HS_ERR_NOTFOUND when the type is unknown or not a struct or array. */
int gotype_field_name(const symtab *t, uint64_t type_addr, uint64_t offset, char *buf,
                      size_t cap);

/* The leaf type (not a struct or array) holding byte `offset` of a value of the type at
 * type_addr, from the runtime's descriptors: *leaf its descriptor address, *leaf_offset the
 * offset inside it. Returns HS_OK, or HS_ERR_NOTFOUND without a type area. */
int gotype_leaf_at(const symtab *t, uint64_t type_addr, uint64_t offset, uint64_t *leaf,
                   uint64_t *leaf_offset);

/* A field of a struct descriptor. */
typedef struct gotype_field {
    const char *name;  /* its bytes in the type area: not NUL-terminated */
    uint64_t name_len;
    uint64_t type;     /* descriptor address */
    uint64_t offset;   /* bytes from the struct's start */
} gotype_field;

/* Field i of the struct descriptor at addr into *out, with *nfields the struct's field count.
 * Returns HS_OK, HS_ERR_NOTFOUND past the last field or without a type area, HS_ERR_FORMAT
 * when the bytes are not a plausible struct descriptor. */
int gotype_struct_field(const symtab *t, uint64_t addr, uint64_t i, uint64_t *nfields,
                        gotype_field *out, hs_error *err);

/* Called for each struct descriptor found; a negative return stops the search with it. */
typedef int (*gotype_struct_fn)(void *ctx, const gotype *g);

/* Calls fn with every struct descriptor of the type area whose name starts with prefix,
 * found by its name record: for unnamed types the linker keeps out of the symbol table and of
 * the typelinks (a closure's "struct { F uintptr; ... }"). Returns HS_OK, fn's negative
 * return, or HS_ERR_NOMEM. */
int gotype_structs_named(const symtab *t, const char *prefix, gotype_struct_fn fn, void *ctx,
                         hs_error *err);

#endif
