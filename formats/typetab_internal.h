/* typetab_internal.h - what the type table (typetab.c, typetab_mask.c) and its codec
 * (typetab_codec.c) share: the table's layout (its arrays grow with hs_grow.h), adding records
 * by pool offset, and finishing with the input offsets of the records so that the decoder's errors
 * name them. Not part of the public API (typetab.h). */
#ifndef TYPETAB_INTERNAL_H
#define TYPETAB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hs_grow.h"
#include "typetab.h"

/* Name offsets into the pool, one array per record kind, while the table is built (the pool
 * moves until typetab_finish points the names into it). */
enum { NM_TYPE, NM_FIELD, NM_GLOBAL, NM_FUNC, NM_VAR, NM_KINDS };

struct typetab {
    typetab_info info;
    char *pool; /* NUL-terminated names back to back; offset 0 is "" */
    size_t pool_len, pool_cap;
    uint32_t *strhash; /* build only: open-addressing set of pool offsets + 1 */
    size_t strhash_cap, strhash_n;
    typetab_type *types;
    size_t ntypes, types_cap;
    typetab_field *fields;
    size_t nfields, fields_cap;
    typetab_global *globals;
    size_t nglobals, globals_cap;
    typetab_func *funcs;
    size_t nfuncs, funcs_cap;
    typetab_var *vars;
    size_t nvars, vars_cap;
    uint32_t *names[NM_KINDS];
    size_t names_cap[NM_KINDS];
    /* After finish: pointer masks (mask_at[id] = bit pool offset + 1, 0 when not kept), ids
     * sorted by name, (rtype, id) sorted by rtype. */
    uint8_t *masks;
    size_t masks_len;
    uint64_t *mask_at;
    uint32_t *by_name;
    struct typetab_rt { uint64_t rtype; uint32_t id; } *by_rtype;
    size_t nby_rtype;
    int finished;
};

/* Input offsets of the records of a decoded table (each array optional), for errors. */
typedef struct typetab_where {
    const uint64_t *type, *global, *func, *var;
} typetab_where;

/* Replaces the pool with a copy of a decoded one (len bytes, the last a NUL). */
int typetab_set_pool(typetab *t, const char *pool, size_t len, hs_error *err);

/* The add functions with names given as pool offsets (< pool_len), for the decoder; the
 * public ones intern the name and call these. vars[i].name is ignored: var_names[i] is used. */
int typetab_add_type_at(typetab *t, const typetab_type *ty, uint32_t name,
                        const typetab_field *fields, const uint32_t *field_names,
                        size_t nfields, uint32_t *id, hs_error *err);
int typetab_add_global_at(typetab *t, uint32_t name, uint64_t addr, uint32_t type,
                          hs_error *err);
int typetab_add_func_at(typetab *t, uint32_t name, uint64_t low, uint64_t high,
                        const typetab_var *vars, const uint32_t *var_names, size_t nvars,
                        hs_error *err);

/* typetab_finish, naming the input offset of a bad record when `where` has it. */
int typetab_finish_at(typetab *t, const typetab_where *where, hs_error *err);

/* typetab_mask.c: checks that no struct or array contains itself and that pointers lie on
 * word boundaries, then sets ptr_words of every type and keeps the masks. */
int typetab_masks(typetab *t, const typetab_where *where, hs_error *err);

/* The pool offset of a name of a finished table. */
static inline uint32_t typetab_name_off(const typetab *t, const char *name)
{
    return (uint32_t)(name - t->pool);
}

#endif
