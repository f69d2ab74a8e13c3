/* fuzz_symtab - symtab_decode (formats/SYMTAB.md) over arbitrary bytes, then lookups on the
 * decoded table: every symbol, symtab_func_at / symtab_func_entry / symtab_data_at at symbol
 * edges, section edges and 8-byte words taken from the input, gotype_read at words from the
 * input and at every 8th address of the type area (capped), the struct descriptors
 * gotype_structs_named finds by name with their fields, and every function's stack objects
 * (symtab_stack_objects_at and symtab_stack_objects by entry agree; masks are read whole). A
 * decoded table must re-encode to bytes that decode and re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "gotype.h"
#include "symtab.h"

volatile unsigned fuzz_sink;

static unsigned touch_sym(const symtab_sym *s)
{
    return s ? (unsigned)strlen(s->name) + (unsigned)s->addr + (unsigned)s->kind : 0;
}

static void probe(const symtab *t, uint64_t a)
{
    symtab_sym anon;
    const symtab_sym *f = symtab_func_at(t, a);
    if (f && (a < f->addr || (f->size && a - f->addr >= f->size)))
        abort(); /* a function that does not contain pc */
    const symtab_sym *e = symtab_func_entry(t, a);
    if (e && e->addr != a)
        abort();
    const symtab_sym *d = symtab_data_at(t, a, &anon);
    if (d && (a < d->addr || a - d->addr >= (d->size ? d->size : 1)))
        abort(); /* a data symbol that does not cover addr */
    fuzz_sink += touch_sym(f) + touch_sym(e) + touch_sym(d);
    gotype ty;
    hs_error err;
    if (gotype_read(t, a, &ty, &err) == HS_OK) {
        if (memchr(ty.name, 0, sizeof ty.name) == NULL)
            abort(); /* the name must be terminated */
        fuzz_sink += (unsigned)strlen(ty.name) + ty.kind;
    }
    fuzz_sink += (unsigned)gotype_is_type_addr(t, a);
}

static void probe_around(const symtab *t, uint64_t a)
{
    probe(t, a - 1);
    probe(t, a);
    probe(t, a + 1);
}

typedef struct found_ctx {
    const symtab *t;
    size_t n;
} found_ctx;

/* gotype_structs_named's callback: a struct descriptor whose fields all read inside the type
 * area, names included, or fail. */
static int on_struct(void *ctx, const gotype *g)
{
    found_ctx *c = ctx;
    uint64_t base;
    size_t len;
    const uint8_t *area = symtab_types(c->t, &base, &len);
    if (g->kind != GOTYPE_KIND_STRUCT || !area || g->addr < base || g->addr - base >= len)
        abort();
    uint64_t n = 0;
    gotype_field f;
    for (uint64_t i = 0; i == 0 || (i < n && i < 64); i++) {
        if (gotype_struct_field(c->t, g->addr, i, &n, &f, NULL) < 0)
            break;
        if ((const uint8_t *)f.name < area || f.name_len > len ||
            (const uint8_t *)f.name + f.name_len > area + len)
            abort(); /* a field name outside the type area */
        fuzz_sink += fuzz_touch((const uint8_t *)f.name, (size_t)f.name_len) + (unsigned)f.offset;
    }
    return ++c->n < 256 ? HS_OK : HS_ERR_LIMIT;
}

/* Encodes t into a new buffer; returns 0 on success. */
static int encode(const symtab *t, hs_mem_sink *sink)
{
    memset(sink, 0, sizeof *sink);
    hs_error err;
    if (symtab_encode(t, (hs_writer){hs_mem_write, sink}, &err) < 0) {
        hs_mem_sink_release(sink);
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    symtab *t;
    hs_error err;
    if (symtab_decode(data, size, &t, &err) < 0) {
        if (err.offset != HS_NO_OFFSET && err.offset > size)
            abort();
        return 0;
    }
    const symtab_info *info = symtab_get_info(t);
    if (memchr(info->go_version, 0, sizeof info->go_version) == NULL ||
        memchr(info->build_id, 0, sizeof info->build_id) == NULL ||
        memchr(info->goarch, 0, sizeof info->goarch) == NULL)
        abort();
    size_t nprobe = 0;
    for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
        size_t n = symtab_count(t, k);
        for (size_t i = 0; i < n; i++) {
            const symtab_sym *s = symtab_get(t, k, i);
            if (!s || s->kind != k)
                abort();
            fuzz_sink += touch_sym(s);
            if (nprobe++ < 256) {
                probe_around(t, s->addr);
                probe_around(t, s->addr + s->size);
            }
        }
        if (symtab_get(t, k, n) != NULL)
            abort();
    }
    const symtab_range *rs[] = {&info->text, &info->rodata, &info->data, &info->noptrdata,
                                &info->bss, &info->noptrbss, &info->types};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        probe_around(t, rs[i]->start);
        probe_around(t, rs[i]->end);
    }
    for (size_t i = 0; i + 8 <= size && i < 8 * 64; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        probe(t, w);
    }
    uint64_t base;
    size_t len;
    const uint8_t *types = symtab_types(t, &base, &len);
    if (types) {
        fuzz_sink += fuzz_touch(types, len);
        for (size_t off = 0; off < len && off < 8 * 512; off += 8)
            probe(t, base + off);
        /* unnamed structs found by their names (a closure's, as godwarf looks them up) */
        static const char *const prefixes[] = {"struct { F uintptr; ", "struct {", "main."};
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
            found_ctx fc = {t, 0};
            int rc = gotype_structs_named(t, prefixes[i], on_struct, &fc, &err);
            if (rc < 0 && rc != HS_ERR_LIMIT && rc != HS_ERR_NOMEM)
                abort();
        }
    }

    uint64_t prev = 0;
    for (size_t i = 0; i < symtab_stack_object_funcs(t); i++) {
        uint64_t entry;
        size_t n, m;
        const symtab_stkobj *o = symtab_stack_objects_at(t, i, &entry, &n);
        if (!o || n == 0 || (i > 0 && entry <= prev) || !info->stack_objects)
            abort(); /* functions with records, by increasing entry, only when known */
        prev = entry;
        if (symtab_stack_objects(t, entry, &m) != o || m != n)
            abort();
        for (size_t j = 0; j < n; j++) {
            if ((uint64_t)o[j].ptr_words * info->ptr_size > o[j].size || !o[j].mask)
                abort();
            fuzz_sink += fuzz_touch(o[j].mask, ((size_t)o[j].ptr_words + 7) / 8) +
                         (unsigned)o[j].off;
        }
        if (i < 64)
            probe(t, entry);
    }
    if (symtab_stack_objects_at(t, symtab_stack_object_funcs(t), NULL, NULL) != NULL)
        abort();

    hs_mem_sink a, b;
    if (encode(t, &a) == 0) {
        symtab *t2;
        if (symtab_decode(a.data, a.len, &t2, &err) < 0)
            abort(); /* what we encode we must be able to read back */
        if (encode(t2, &b) == 0) {
            if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
                abort(); /* decode/encode is not stable */
            hs_mem_sink_release(&b);
        }
        symtab_free(t2);
        hs_mem_sink_release(&a);
    }
    symtab_free(t);
    return 0;
}
