/* typetab.h - the Go types, globals and function frames of one binary as its DWARF describes
 * them (godwarf.c fills one), in a compact read-only table: types with their fields, element,
 * key and runtime-internal links and a pointer mask per type; globals by address; functions
 * by pc with their parameters' and locals' stack slots. typetab_encode / typetab_decode store
 * it (formats/TYPETAB.md).
 *
 * Build: typetab_new, typetab_add_* (names are copied; ids are dense, in the order types are
 * added, and may name types added later), then typetab_finish, which checks every reference
 * and size, sorts, indexes and computes the pointer masks. Lookups only after finish.
 */
#ifndef TYPETAB_H
#define TYPETAB_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "hs_io.h"

#define TYPETAB_NONE UINT32_MAX /* no type */

/* Kinds: Go's reflect.Kind numbers (internal/abi.Kind, DW_AT_go_kind), plus TYPETAB_EFACE for
 * the empty interface, which Go gives the same kind as any other interface. */
typedef enum typetab_kind {
    TYPETAB_BOOL = 1,
    TYPETAB_INT = 2,
    TYPETAB_INT8 = 3,
    TYPETAB_INT16 = 4,
    TYPETAB_INT32 = 5,
    TYPETAB_INT64 = 6,
    TYPETAB_UINT = 7,
    TYPETAB_UINT8 = 8,
    TYPETAB_UINT16 = 9,
    TYPETAB_UINT32 = 10,
    TYPETAB_UINT64 = 11,
    TYPETAB_UINTPTR = 12,
    TYPETAB_FLOAT32 = 13,
    TYPETAB_FLOAT64 = 14,
    TYPETAB_COMPLEX64 = 15,
    TYPETAB_COMPLEX128 = 16,
    TYPETAB_ARRAY = 17,
    TYPETAB_CHAN = 18,
    TYPETAB_FUNC = 19,
    TYPETAB_IFACE = 20, /* non-empty interface: itab word, data word */
    TYPETAB_MAP = 21,
    TYPETAB_POINTER = 22,
    TYPETAB_SLICE = 23,
    TYPETAB_STRING = 24,
    TYPETAB_STRUCT = 25,
    TYPETAB_UNSAFE_POINTER = 26,
    TYPETAB_EFACE = 27, /* interface{} / any: type word, data word */
} typetab_kind;
#define TYPETAB_KIND_MAX 27

/* Type flags. */
#define TYPETAB_T_INTERNAL 1u /* made up by the linker for the runtime's side of a map or
                               * chan (hash<K,V>, bucket<K,V>, map<K,V>, table<K,V>,
                               * groupReference<K,V>, hchan<T>, waitq<T>, sudog<T>, []key<K>,
                               * []val<V>) or a pointer to one; such a type has no runtime type */
#define TYPETAB_T_NOTINHEAP 2u /* its values never live in the Go heap (runtime types that
                                * contain internal/runtime/sys.NotInHeap, or Go 1.19's
                                * //go:notinheap ones): a pointer to one is no GC pointer */
#define TYPETAB_T_ALL 3u

/* Field flags. */
#define TYPETAB_F_EMBEDDED 1u /* an embedded field (DW_AT_go_embedded_field) */

/* Variable flags. */
#define TYPETAB_V_PARAM 1u   /* a parameter (DW_TAG_formal_parameter) */
#define TYPETAB_V_RESULT 2u  /* a named or unnamed result (~r0), with TYPETAB_V_PARAM */
#define TYPETAB_V_INLINED 4u /* belongs to a call inlined into the function */
#define TYPETAB_V_SLOT 8u    /* cfa_off is a stack slot holding the whole variable at
                              * pcs [lo, hi); without it the record only gives closure_off */
#define TYPETAB_V_PIECE 16u  /* with TYPETAB_V_SLOT: the slot holds one piece of the
                              * variable (piece_off, piece_len), its other pieces are in
                              * registers (a slice's array pointer spilled, its length not) */

typedef struct typetab_type {
    const char *name;     /* Go's spelling in DWARF ("*main.Session", "map[string]int");
                           * owned by the table */
    uint64_t size;        /* bytes */
    uint64_t rtype;       /* address of the runtime type descriptor (link address), 0 when
                           * DWARF gives none or typetab_info.types_base is unknown */
    uint64_t len;         /* arrays: number of elements; 0 otherwise */
    uint64_t ptr_words;   /* words up to and including the last pointer word (Go's PtrBytes
                           * / pointer size); set by typetab_finish */
    uint32_t id;          /* index in the table; set by typetab_add_type */
    uint32_t elem;        /* pointer, array, slice, chan: element type; map: value type */
    uint32_t key;         /* map: key type */
    uint32_t hdr;         /* map: the runtime's map header (hash<K,V> up to Go 1.23, map<K,V>
                           * from 1.24); chan: hchan<T> */
    uint32_t bucket;      /* map: a bucket (bucket<K,V>) up to Go 1.23, a group from 1.24
                           * (noalg.map.group[K]V) */
    uint32_t first_field; /* struct: its fields are typetab_field_get(first_field + i) */
    uint32_t nfields;
    uint8_t kind;         /* typetab_kind */
    uint8_t flags;        /* TYPETAB_T_* */
} typetab_type;

typedef struct typetab_field {
    const char *name;  /* owned by the table */
    uint64_t offset;   /* bytes from the start of the struct */
    uint32_t type;
    uint32_t flags;    /* TYPETAB_F_* */
} typetab_field;

typedef struct typetab_global {
    const char *name; /* "main.sessions"; owned by the table */
    uint64_t addr;    /* link address */
    uint32_t type;
} typetab_global;

/* A parameter or local of a function and one place it lives: with TYPETAB_V_SLOT, the stack
 * slot at CFA + cfa_off for pcs [lo, hi) (a variable that moves between slots has one record
 * per slot); without it, a captured variable known only by its offset in the closure. */
typedef struct typetab_var {
    const char *name;     /* owned by the table */
    int64_t cfa_off;      /* slot offset from the canonical frame address (TYPETAB_V_SLOT) */
    uint64_t lo, hi;      /* pcs where the record holds, within the function's [low, high) */
    uint64_t closure_off; /* offset in the closure context (DW_AT_go_closure_offset), 0 if none */
    uint32_t type;
    uint32_t flags;       /* TYPETAB_V_* */
    uint32_t piece_off;   /* TYPETAB_V_PIECE: the slot holds bytes [piece_off, piece_off + */
    uint32_t piece_len;   /* piece_len) of the variable only (the rest is in registers) */
} typetab_var;

typedef struct typetab_func {
    const char *name;     /* owned by the table */
    uint64_t low, high;   /* pcs [low, high) */
    uint32_t first_var;   /* its variables: typetab_func_vars */
    uint32_t nvars;
} typetab_func;

typedef struct typetab_info {
    unsigned ptr_size;    /* 4 or 8 */
    uint64_t types_base;  /* runtime.types: rtype = types_base + DW_AT_go_runtime_type; 0 when
                           * unknown (then every rtype is 0) */
    char go_version[64];  /* from the DWARF producer ("go1.26.8"), "" when unknown */
    int regabi;           /* the producer says "regabi" (parameters come in registers) */
} typetab_info;

typedef struct typetab typetab;

/* Limits (HS_ERR_LIMIT past them): names, and the pointer mask bits kept per type (a longer
 * mask is answered by walking the type: typetab_ptr_word) and in all. */
#define TYPETAB_NAME_MAX 65535u
#define TYPETAB_MASK_MAX_WORDS 65536u
#define TYPETAB_MASK_POOL_MAX (8u << 20)

/* Creates an empty table (pointer size 8); returns NULL when out of memory. */
typetab *typetab_new(void);

/* Frees the table (NULL is accepted). */
void typetab_free(typetab *t);

/* The build facts; the mutable form is for producers before typetab_finish. */
const typetab_info *typetab_get_info(const typetab *t);
typetab_info *typetab_info_mut(typetab *t);

/* Adds a type: ty's name, size, rtype, len, elem, key, hdr, bucket, kind and flags (its id,
 * first_field, nfields and ptr_words are ignored), with nfields fields (fields only for
 * TYPETAB_STRUCT). *id receives its id. */
int typetab_add_type(typetab *t, const typetab_type *ty, const typetab_field *fields,
                     size_t nfields, uint32_t *id, hs_error *err);

/* Adds a global variable of a type. */
int typetab_add_global(typetab *t, const char *name, uint64_t addr, uint32_t type,
                       hs_error *err);

/* Adds a function with its nvars variable records (copied; their names too). */
int typetab_add_func(typetab *t, const char *name, uint64_t low, uint64_t high,
                     const typetab_var *vars, size_t nvars, hs_error *err);

/* Checks, sorts and indexes everything and computes the pointer masks; call once after the
 * last add. Fails with HS_ERR_FORMAT when a reference names no type, a size does not add up
 * (an array not len * elem, a field past its struct, a pointer-shaped kind of the wrong
 * size), a struct or array contains itself, a pointer lies off a word boundary, functions
 * overlap, or a variable's pcs lie outside its function (TYPETAB.md, "Reading rules"). */
int typetab_finish(typetab *t, hs_error *err);

/* Types: the count, the type of an id (NULL past the end), and the fields of a struct. */
size_t typetab_type_count(const typetab *t);
const typetab_type *typetab_type_get(const typetab *t, uint32_t id);
const typetab_field *typetab_field_get(const typetab *t, uint32_t index);

/* The type whose runtime type descriptor is at addr (the lowest id if several), or NULL. */
const typetab_type *typetab_type_by_rtype(const typetab *t, uint64_t addr);

/* The type named name (the lowest id if several), or NULL. */
const typetab_type *typetab_type_by_name(const typetab *t, const char *name);

/* The pointer mask of a type: bit w (LSB first) says whether word w is a pointer, for
 * ptr_words words, as Go's own GC masks have it: pointers, unsafe.Pointer, maps, chans and
 * funcs (their one word, except a pointer to a TYPETAB_T_NOTINHEAP type), a string's data
 * word, a slice's array word and an interface's data word (not its itab or type word)
 * (TYPETAB.md, "Pointer masks"). Returns NULL when the type
 * has no pointer or its mask is not kept (longer than TYPETAB_MASK_MAX_WORDS); borrowed:
 * valid while t lives. */
const uint8_t *typetab_ptr_mask(const typetab *t, uint32_t id);

/* Whether word `word` of a value of type id is a pointer (1) or not (0), kept mask or not. */
int typetab_ptr_word(const typetab *t, uint32_t id, uint64_t word);

/* Whether an object whose pointer words are `mask` (nwords bits, LSB first) holds `count`
 * consecutive values of type id from its start and no pointer after them: 1 when every word
 * agrees, 0 otherwise (also when count values do not fit in nwords words). */
int typetab_mask_fits(const typetab *t, uint32_t id, uint64_t count, const uint8_t *mask,
                      uint64_t nwords);

/* Globals in address order: the count, the i-th, and the one whose value contains addr
 * (addr in [g->addr, g->addr + size), a zero-size global only at its address) or NULL. */
size_t typetab_global_count(const typetab *t);
const typetab_global *typetab_global_get(const typetab *t, size_t i);
const typetab_global *typetab_global_at(const typetab *t, uint64_t addr);

/* Functions in pc order: the count, the i-th, the one containing pc (or NULL), and its
 * variable records (*n of them, in DWARF order). */
size_t typetab_func_count(const typetab *t);
const typetab_func *typetab_func_get(const typetab *t, size_t i);
const typetab_func *typetab_func_at(const typetab *t, uint64_t pc);
const typetab_var *typetab_func_vars(const typetab *t, const typetab_func *f, size_t *n);

/* Serializes a finished table (formats/TYPETAB.md) into sink. */
int typetab_encode(const typetab *t, hs_writer sink, hs_error *err);

/* Parses a TYPETAB payload into a new finished table (*out, the caller frees it with
 * typetab_free); errors name the byte offset of the offending field. */
int typetab_decode(const uint8_t *data, size_t size, typetab **out, hs_error *err);

#endif
