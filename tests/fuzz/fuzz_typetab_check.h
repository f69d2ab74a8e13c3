/* fuzz_typetab_check.h - what fuzz_typetab and fuzz_godwarf check on every table they get
 * (header-only): each type, field, global, function and variable is readable and lies where
 * its lookups say; kept masks agree with typetab_ptr_word and a type fits its own mask; and
 * encode(decode(encode(t))) is byte-identical to encode(t). Calls abort() on a mismatch.
 */
#ifndef FUZZ_TYPETAB_CHECK_H
#define FUZZ_TYPETAB_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "typetab.h"

static int fuzz_typetab_encode(const typetab *t, hs_mem_sink *s)
{
    memset(s, 0, sizeof *s);
    hs_error err;
    if (typetab_encode(t, (hs_writer){hs_mem_write, s}, &err) < 0) {
        hs_mem_sink_release(s);
        return -1;
    }
    return 0;
}

static void fuzz_typetab_check(const typetab *t)
{
    size_t n = typetab_type_count(t);
    for (uint32_t id = 0; id < n; id++) {
        const typetab_type *ty = typetab_type_get(t, id);
        if (!ty || ty->id != id || !ty->name)
            abort();
        fuzz_sink += (unsigned)strlen(ty->name);
        const typetab_type *by = typetab_type_by_name(t, ty->name);
        if (!by || strcmp(by->name, ty->name) != 0 || by->id > id)
            abort();
        if (ty->rtype && (!(by = typetab_type_by_rtype(t, ty->rtype)) || by->rtype != ty->rtype))
            abort();
        for (uint32_t j = 0; j < ty->nfields; j++) {
            const typetab_field *f = typetab_field_get(t, ty->first_field + j);
            if (!f || f->type >= n || !typetab_type_get(t, f->type))
                abort();
            fuzz_sink += (unsigned)strlen(f->name) + (unsigned)f->offset;
        }
        if (ty->ptr_words * typetab_get_info(t)->ptr_size > ty->size)
            abort();
        const uint8_t *m = typetab_ptr_mask(t, id);
        uint64_t words = ty->ptr_words < 512 ? ty->ptr_words : 512;
        for (uint64_t w = 0; m && w < words; w++)
            if ((m[w / 8] >> (w % 8) & 1) != typetab_ptr_word(t, id, w))
                abort();
        if (ty->ptr_words && ty->ptr_words < 512 &&
            (!typetab_ptr_word(t, id, ty->ptr_words - 1) || typetab_ptr_word(t, id,
                                                                              ty->ptr_words)))
            abort(); /* ptr_words ends at the last pointer word */
        /* a value fits its own mask, in an object of its size */
        unsigned P = typetab_get_info(t)->ptr_size;
        uint64_t objw = (ty->size + P - 1) / P;
        if (m && objw <= 4096) {
            uint8_t obj[512] = {0};
            memcpy(obj, m, (size_t)(ty->ptr_words + 7) / 8);
            if (!typetab_mask_fits(t, id, 1, obj, objw))
                abort();
        }
    }
    for (size_t i = 0; i < typetab_global_count(t); i++) {
        const typetab_global *g = typetab_global_get(t, i), *at = typetab_global_at(t, g->addr);
        if (!at || at->addr != g->addr || g->type >= n)
            abort();
        fuzz_sink += (unsigned)strlen(g->name);
    }
    for (size_t i = 0; i < typetab_func_count(t); i++) {
        const typetab_func *f = typetab_func_get(t, i);
        if (f->high > f->low && typetab_func_at(t, f->low) != f)
            abort();
        size_t nv;
        const typetab_var *v = typetab_func_vars(t, f, &nv);
        for (size_t j = 0; j < nv; j++) {
            if (v[j].lo < f->low || v[j].hi > f->high || v[j].lo > v[j].hi || v[j].type >= n)
                abort();
            fuzz_sink += (unsigned)strlen(v[j].name) + (unsigned)v[j].cfa_off;
        }
    }
    hs_mem_sink a, b;
    if (fuzz_typetab_encode(t, &a) == 0) {
        typetab *d;
        hs_error err;
        if (typetab_decode(a.data, a.len, &d, &err) < 0)
            abort(); /* what we encode we must be able to read back */
        if (fuzz_typetab_encode(d, &b) == 0) {
            if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
                abort(); /* decode/encode is not stable */
            hs_mem_sink_release(&b);
        }
        typetab_free(d);
        hs_mem_sink_release(&a);
    }
}

#endif
