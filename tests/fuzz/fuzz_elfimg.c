/* fuzz_elfimg - elfimg_open + elfimg_symtab (formats/elfimg.h) over arbitrary bytes, then a
 * few lookups on the table it builds: every function's entry and every data symbol's address,
 * gotype_read over the start of the type area, and every function's stack objects.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfimg.h"
#include "fuzz_util.h"
#include "gotype.h"
#include "symtab.h"

volatile unsigned fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    elfimg *img;
    hs_error err;
    /* (An error may name an offset past the end: where a header says a table lies.) */
    if (elfimg_open(data, size, &img, &err) < 0)
        return 0;
    symtab *t;
    if (elfimg_symtab(img, &t, &err) == HS_OK) {
        symtab_sym anon;
        for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
            size_t n = symtab_count(t, k);
            for (size_t i = 0; i < n && i < 4096; i++) {
                const symtab_sym *s = symtab_get(t, k, i);
                fuzz_sink += (unsigned)strlen(s->name);
                const symtab_sym *f = symtab_func_at(t, s->addr);
                const symtab_sym *d = symtab_data_at(t, s->addr, &anon);
                fuzz_sink += (f ? (unsigned)strlen(f->name) : 0) + (d ? (unsigned)strlen(d->name) : 0);
            }
        }
        uint64_t base;
        size_t len;
        const uint8_t *types = symtab_types(t, &base, &len);
        if (types) {
            fuzz_sink += fuzz_touch(types, len);
            gotype ty;
            for (size_t off = 0; off < len && off < 8 * 256; off += 8)
                if (gotype_read(t, base + off, &ty, &err) == HS_OK)
                    fuzz_sink += (unsigned)strlen(ty.name);
        }
        for (size_t i = 0; i < symtab_stack_object_funcs(t) && i < 4096; i++) {
            uint64_t entry;
            size_t n;
            const symtab_stkobj *o = symtab_stack_objects_at(t, i, &entry, &n);
            if (!o || symtab_stack_objects(t, entry, NULL) != o)
                abort();
            for (size_t j = 0; j < n; j++) {
                if ((uint64_t)o[j].ptr_words * symtab_get_info(t)->ptr_size > o[j].size)
                    abort();
                fuzz_sink += fuzz_touch(o[j].mask, ((size_t)o[j].ptr_words + 7) / 8);
            }
        }
        symtab_free(t);
    }
    elfimg_free(img);
    return 0;
}
