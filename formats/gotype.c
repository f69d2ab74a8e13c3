/* gotype.c - decodes Go runtime type descriptors (_type / abi.Type) out of a symtab's stored
 * type area. Layout (GO-RUNTIME.md "Types", runtime/type.go): with P the pointer size,
 * size @0, ptrdata @P, hash @2P (u32), tflag @2P+4, align, fieldAlign, kind @2P+7,
 * equal @2P+8, gcdata @3P+8, str nameOff @4P+8 (i32), ptrToThis @4P+12; 4P+16 bytes in all
 * (48 on amd64). ptrtype/slicetype/arraytype/chantype put elem right after the _type. */
#include "gotype.h"

#include <stdlib.h>
#include <string.h>

#define TFLAG_EXTRA_STAR 2
#define MAX_NAME_LEN 65536

/* Minor version of "go1.N[.M]" (also inside "devel go1.N-..."), -1 when unknown. */
static int go_minor(const char *v)
{
    const char *p = strstr(v, "go1.");
    if (!p)
        return -1;
    p += 4;
    if (*p < '0' || *p > '9')
        return -1;
    int n = 0;
    while (*p >= '0' && *p <= '9' && n < 1000)
        n = n * 10 + (*p++ - '0');
    return n;
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int gotype_is_type_addr(const symtab *t, uint64_t addr)
{
    uint64_t base;
    size_t len;
    if (!t || !symtab_types(t, &base, &len))
        return 0;
    return addr >= base && addr - base < len;
}

int gotype_read(const symtab *t, uint64_t addr, gotype *out, hs_error *err)
{
    uint64_t base;
    size_t len;
    if (!t || !out)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "gotype_read: bad argument");
    memset(out, 0, sizeof *out);
    const uint8_t *area = symtab_types(t, &base, &len);
    if (!area || addr < base || addr - base >= len)
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "0x%llx is outside the type area", (unsigned long long)addr);
    const symtab_info *info = symtab_get_info(t);
    unsigned P = info->ptr_size == 4 ? 4 : 8;
    uint64_t off = addr - base;
    uint64_t hdr = 4 * (uint64_t)P + 16;
    if (off % P != 0)
        return hs_error_set(err, HS_ERR_FORMAT, off,
                            "type 0x%llx: descriptor is not pointer-aligned",
                            (unsigned long long)addr);
    if (len - off < hdr)
        return hs_error_set(err, HS_ERR_FORMAT, off,
                            "type 0x%llx: descriptor runs past the type area",
                            (unsigned long long)addr);
    const uint8_t *d = area + off;
    out->addr = addr;
    out->size = rd(d, P);
    out->ptrdata = rd(d + P, P);
    out->tflag = d[2 * P + 4];
    uint8_t align = d[2 * P + 5], falign = d[2 * P + 6];
    out->kind = d[2 * P + 7] & 31;
    int32_t str = (int32_t)(uint32_t)rd(d + 4 * P + 8, 4);
    if (out->kind == 0 || out->kind > GOTYPE_KIND_UNSAFEPTR)
        return hs_error_set(err, HS_ERR_FORMAT, off + 2 * P + 7, "type 0x%llx: kind %u",
                            (unsigned long long)addr, out->kind);
    if (out->ptrdata > out->size)
        return hs_error_set(err, HS_ERR_FORMAT, off + P,
                            "type 0x%llx: ptrdata %llu exceeds size %llu",
                            (unsigned long long)addr, (unsigned long long)out->ptrdata,
                            (unsigned long long)out->size);
    /* alignments are powers of two no larger than a page */
    if (align == 0 || (align & (align - 1)) || falign == 0 || (falign & (falign - 1)))
        return hs_error_set(err, HS_ERR_FORMAT, off + 2 * P + 5,
                            "type 0x%llx: alignment %u/%u", (unsigned long long)addr, align,
                            falign);
    /* name: nameOff from the type area base (runtime resolveNameOff) */
    if (str < 0 || (uint64_t)str >= len)
        return hs_error_set(err, HS_ERR_FORMAT, off + 4 * P + 8,
                            "type 0x%llx: name offset %d outside the type area",
                            (unsigned long long)addr, str);
    const uint8_t *n = area + str;
    size_t avail = len - (size_t)str;
    uint64_t nlen;
    size_t hlen;
    int minor = go_minor(info->go_version);
    if (minor >= 0 && minor < 17) {
        /* runtime/type.go before 1.17: flag byte, 2-byte big-endian length */
        if (avail < 3)
            return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)str,
                                "type 0x%llx: name header cut short", (unsigned long long)addr);
        nlen = ((uint64_t)n[1] << 8) | n[2];
        hlen = 3;
    } else {
        /* Go 1.17+: flag byte, uvarint length (runtime/type.go name.readVarint) */
        nlen = 0;
        hlen = 1;
        for (unsigned shift = 0;; shift += 7) {
            if (hlen >= avail || shift > 28)
                return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)str + hlen,
                                    "type 0x%llx: bad name length varint",
                                    (unsigned long long)addr);
            uint8_t b = n[hlen++];
            nlen |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
    }
    if (nlen == 0 || nlen > MAX_NAME_LEN || nlen > avail - hlen)
        return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)str,
                            "type 0x%llx: name length %llu not plausible",
                            (unsigned long long)addr, (unsigned long long)nlen);
    const uint8_t *s = n + hlen;
    for (uint64_t i = 0; i < nlen; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)str + hlen + i,
                                "type 0x%llx: control byte in name",
                                (unsigned long long)addr);
    if ((out->tflag & TFLAG_EXTRA_STAR) && s[0] == '*') {
        s++;
        nlen--;
    }
    size_t cp = nlen < sizeof out->name ? (size_t)nlen : sizeof out->name - 1;
    memcpy(out->name, s, cp);
    out->name[cp] = '\0';
    if (cp < nlen) /* mark a truncated name */
        memcpy(out->name + sizeof out->name - 4, "...", 4);
    switch (out->kind) {
    case GOTYPE_KIND_PTR:
    case GOTYPE_KIND_SLICE:
    case GOTYPE_KIND_ARRAY:
    case GOTYPE_KIND_CHAN:
        if (len - off < hdr + P)
            return hs_error_set(err, HS_ERR_FORMAT, off + hdr,
                                "type 0x%llx: element pointer runs past the type area",
                                (unsigned long long)addr);
        out->elem = rd(d + hdr, P);
        if (out->elem < base || out->elem - base >= len)
            return hs_error_set(err, HS_ERR_FORMAT, off + hdr,
                                "type 0x%llx: element type 0x%llx outside the type area",
                                (unsigned long long)addr, (unsigned long long)out->elem);
        break;
    default:
        break;
    }
    return HS_OK;
}
