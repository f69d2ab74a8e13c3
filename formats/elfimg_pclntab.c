/* elfimg_pclntab.c - the .gopclntab of a Go binary (docs/go-binary.md; runtime/symtab.go
 * pcHeader, debug/gosym): its header checked, its function table walked, and function names
 * loaded from it when the binary is stripped. */
#include "elfimg_internal.h"

#include <string.h>

int elfimg_pcln_parse(const elfimg *img, const section *s, pcln_view *v, hs_error *err)
{
    memset(v, 0, sizeof *v);
    v->s = s;
    if (!s->has_data)
        return hs_error_set(err, HS_ERR_FORMAT, s->offset, "%s: no file data", s->name);
    const uint8_t *p = img->data + s->offset;
    uint64_t n = s->size, fo = s->offset; /* fo: file offset for messages */
    if (n < 16)
        return hs_error_set(err, HS_ERR_TRUNCATED, fo, "%s: header cut short", s->name);
    uint32_t magic = (uint32_t)hs_load_le(p, 4);
    unsigned P = p[7];
    if (p[4] != 0 || p[5] != 0 || (P != 4 && P != 8) || (p[6] != 1 && p[6] != 2 && p[6] != 4))
        return hs_error_set(err, HS_ERR_FORMAT, fo, "%s: bad header (pad %u %u, quantum %u, "
                            "pointer size %u)", s->name, p[4], p[5], p[6], P);
    int nwords;
    switch (magic) {
    case 0xFFFFFFFBu: nwords = 1; break; /* Go 1.2-1.15 */
    case 0xFFFFFFFAu: nwords = 7; break; /* Go 1.16-1.17 */
    case 0xFFFFFFF0u:                    /* Go 1.18-1.19 */
    case 0xFFFFFFF1u: nwords = 8; break; /* Go 1.20+ */
    default:
        return hs_error_set(err, HS_ERR_UNSUPPORTED, fo, "%s: unknown magic 0x%08x", s->name,
                            magic);
    }
    if (n < 8 + (uint64_t)nwords * P)
        return hs_error_set(err, HS_ERR_TRUNCATED, fo, "%s: header cut short", s->name);
    uint64_t w[8] = {0};
    for (int i = 0; i < nwords; i++)
        w[i] = hs_load_le(p + 8 + (size_t)i * P, P);
    uint64_t nf = w[0], names_off, functab_off, funcdata_off, field, text_start = 0;
    unsigned func_size = 0;
    if (magic == 0xFFFFFFFBu) {
        names_off = 0;
        functab_off = 8 + P;
        funcdata_off = 0;
        field = P;
    } else if (magic == 0xFFFFFFFAu) {
        names_off = w[2];
        functab_off = funcdata_off = w[6];
        field = P;
    } else {
        text_start = w[2];
        /* PIE: textStart is fixed up by the loader (debug/gosym uses .text instead) */
        const section *text = elfimg_find_section(img, ".text");
        uint64_t fixed;
        if (P == img->ptr_size && elfimg_va_word(img, s->addr + 8 + 2 * (uint64_t)P, &fixed) == 0)
            text_start = fixed;
        if (text_start == 0 && text)
            text_start = text->addr;
        names_off = w[3];
        functab_off = funcdata_off = w[7];
        field = 4;
        /* _func: runtime/runtime2.go (1.19: line 876; 1.26: 1072), cmd/link pcln.go funcSize */
        func_size = magic == 0xFFFFFFF0u ? 40 : 44;
    }
    if (names_off >= n || functab_off >= n)
        return hs_error_set(err, HS_ERR_FORMAT, fo, "%s: table offsets past the end",
                            s->name);
    /* functab: nfunc pairs {entry, funcoff} and a final entry (end of text) */
    if (nf == 0 || n - functab_off < field || nf > (n - functab_off - field) / (2 * field))
        return hs_error_set(err, HS_ERR_FORMAT, fo + 8, "%s: %llu functions cannot fit",
                            s->name, (unsigned long long)nf);
    *v = (pcln_view){.s = v->s, .p = p, .n = n, .fo = fo, .magic = magic, .P = P, .nf = nf,
                     .names_off = names_off, .functab_off = functab_off,
                     .funcdata_off = funcdata_off, .field = field, .text_start = text_start,
                     .func_size = func_size};
    return HS_OK;
}

/* Function i of the table: its entry, the next function's entry, and the offset of its _func
 * in the section (checked to leave room for entry and nameoff). */
int elfimg_pcln_func(const pcln_view *v, uint64_t i, uint64_t *entry, uint64_t *next,
                     uint64_t *func_at, hs_error *err)
{
    const uint64_t field = v->field;
    const uint8_t *ft = v->p + v->functab_off;
    uint64_t e = hs_load_le(ft + 2 * i * field, (unsigned)field);
    uint64_t foff = hs_load_le(ft + (2 * i + 1) * field, (unsigned)field);
    uint64_t enext = hs_load_le(ft + 2 * (i + 1) * field, (unsigned)field);
    if (field == 4) {
        e += v->text_start;
        enext += v->text_start;
    }
    uint64_t entry0_size = field; /* _func.entry: uintptr before 1.18, u32 offset after */
    if (foff > v->n - v->funcdata_off || v->n - v->funcdata_off - foff < entry0_size + 4)
        return hs_error_set(err, HS_ERR_FORMAT, v->fo + v->functab_off + 2 * i * field,
                            "%s: function %llu: _func offset %llu past the end", v->s->name,
                            (unsigned long long)i, (unsigned long long)foff);
    *entry = e;
    *next = enext;
    *func_at = v->funcdata_off + foff;
    return HS_OK;
}

int elfimg_load_pclntab(const pcln_view *v, symtab *t, size_t *nfunc, hs_error *err)
{
    *nfunc = 0;
    const uint8_t *p = v->p;
    for (uint64_t i = 0; i < v->nf; i++) {
        uint64_t e, enext, fat;
        int rc = elfimg_pcln_func(v, i, &e, &enext, &fat, err);
        if (rc < 0)
            return rc;
        uint64_t name_field = fat + v->field;
        int64_t nameoff = (int32_t)(uint32_t)hs_load_le(p + name_field, 4);
        if (nameoff < 0 || (uint64_t)nameoff >= v->n - v->names_off)
            return hs_error_set(err, HS_ERR_FORMAT, v->fo + name_field,
                                "%s: function %llu: name offset %lld past the end", v->s->name,
                                (unsigned long long)i, (long long)nameoff);
        const char *name = (const char *)p + v->names_off + nameoff;
        size_t maxlen = (size_t)(v->n - v->names_off - (uint64_t)nameoff);
        const char *nul = memchr(name, '\0', maxlen);
        if (!nul)
            return hs_error_set(err, HS_ERR_FORMAT, v->fo + v->names_off + nameoff,
                                "%s: function %llu: unterminated name", v->s->name,
                                (unsigned long long)i);
        uint64_t size = enext > e ? enext - e : 0;
        rc = symtab_add(t, SYMTAB_FUNC, e, size, name, (size_t)(nul - name), err);
        if (rc < 0)
            return rc;
        (*nfunc)++;
    }
    return HS_OK;
}
