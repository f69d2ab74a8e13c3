/* bincheck.c - a binary's facts against a dump's (bincheck.h). */
#include "bincheck.h"

#include <string.h>

#include "gotype.h"

static int check_segment(const symtab *bin, int bss, uint64_t lo, uint64_t hi, uint64_t offset,
                         hs_error *err)
{
    const symtab_info *in = symtab_get_info(bin);
    const symtab_range *r = bss ? &in->bss : &in->data;
    const char *what = bss ? "bss" : "data";
    if ((!r->start && !r->end) || (r->start == lo && r->end == hi))
        return HS_OK;
    int rc = hs_error_set(err, HS_ERR_MISMATCH, offset,
                          "the binary is not the program that wrote this dump: its .%s is "
                          "[0x%llx, 0x%llx), the dump's %s segment is [0x%llx, 0x%llx)%s",
                          what, (unsigned long long)r->start, (unsigned long long)r->end, what,
                          (unsigned long long)lo, (unsigned long long)hi,
                          r->end - r->start == hi - lo
                              ? " (the same size elsewhere: a PIE binary, which heapsift does "
                                "not read, or another build)"
                              : "");
    return rc;
}

/* The type's own name: what follows the last '.' outside brackets ("Error" of
 * "internal/strconv.Error", "" of "flag." (an unnamed type of package flag)). */
static const char *own_name(const char *s, size_t len, size_t *n)
{
    size_t dot = len;
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '[')
            depth++;
        else if (s[i] == ']')
            depth--;
        else if (s[i] == '.' && depth == 0)
            dot = i;
    }
    if (dot == len) {
        *n = len;
        return s;
    }
    *n = len - dot - 1;
    return s + dot + 1;
}

static int check_type(const symtab *bin, uint64_t addr, const char *name, size_t len,
                      uint64_t offset, hs_error *err)
{
    if (!gotype_is_type_addr(bin, addr))
        return HS_OK;
    gotype t;
    if (gotype_read(bin, addr, &t, NULL) < 0)
        return hs_error_set(err, HS_ERR_MISMATCH, offset,
                            "the binary is not the program that wrote this dump: the dump names "
                            "type %.*s at 0x%llx, where the binary has no type descriptor",
                            (int)len, name, (unsigned long long)addr);
    size_t nd, nb;
    const char *d = own_name(name, len, &nd), *bn = own_name(t.name, strlen(t.name), &nb);
    if (nd == 0 || (nd == nb && memcmp(d, bn, nd) == 0)) /* "pkg." names no type to compare */
        return HS_OK;
    return hs_error_set(err, HS_ERR_MISMATCH, offset,
                        "the binary is not the program that wrote this dump: the dump names "
                        "type %.*s at 0x%llx, the binary has %s there",
                        (int)len, name, (unsigned long long)addr, t.name);
}

int bincheck_record(const symtab *bin, const gohd_record *rec, hs_error *err)
{
    switch (rec->tag) {
    case GOHD_DATA:
    case GOHD_BSS: {
        const gohd_memrec *m = &rec->u.object;
        uint64_t hi = m->addr + m->contents.len; /* a wrapping segment fails the comparison */
        return check_segment(bin, rec->tag == GOHD_BSS, m->addr, hi, rec->offset, err);
    }
    case GOHD_TYPE:
        return check_type(bin, rec->u.type.addr, (const char *)rec->u.type.name.ptr,
                          rec->u.type.name.len, rec->offset, err);
    default: return HS_OK;
    }
}

int bincheck_build_id(const symtab *dump, const symtab *bin, hs_error *err)
{
    const char *d = symtab_get_info(dump)->build_id, *b = symtab_get_info(bin)->build_id;
    if (!d[0] || !b[0] || strcmp(d, b) == 0)
        return HS_OK;
    return hs_error_set(err, HS_ERR_MISMATCH, HS_NO_OFFSET,
                        "not the program that wrote this dump: Go build id %s, the dump's %s", b,
                        d);
}
