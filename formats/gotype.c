/* gotype.c - decodes Go runtime type descriptors (_type / abi.Type) out of a symtab's stored
 * type area. Layout (docs/go-binary.md "Types"; runtime/type.go in Go 1.19, internal/abi/type.go
 * in 1.26 and 1.27, the same bytes): with P the pointer size, size @0, ptrdata @P, hash @2P
 * (u32), tflag @2P+4, align, fieldAlign, kind @2P+7 (kind & 31: 1.19 keeps flags in the high
 * bits, 1.26 does not), equal @2P+8, gcdata @3P+8, str nameOff @4P+8 (i32), ptrToThis @4P+12;
 * 4P+16 bytes in all (48 on amd64). ptrtype/slicetype/arraytype/chantype put elem right after
 * the _type. */
#include "gotype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TFLAG_EXTRA_STAR 2
#define MAX_NAME_LEN 65536



/* Reads the runtime `name` at offset off of the type area: a flag byte, then the length (a
 * uvarint from Go 1.17, two big-endian bytes before), then the bytes. *s and *n describe
 * the bytes; `who` names the type in errors. */
static int read_name(const uint8_t *area, size_t len, uint64_t off, int minor,
                     uint64_t who, const uint8_t **s, uint64_t *n, hs_error *err)
{
    if (off >= len)
        return hs_error_set(err, HS_ERR_FORMAT, off, "type 0x%llx: name outside the type area",
                            (unsigned long long)who);
    const uint8_t *p = area + off;
    size_t avail = len - (size_t)off;
    uint64_t nlen;
    size_t hlen;
    if (minor >= 0 && minor < 17) {
        if (avail < 3)
            return hs_error_set(err, HS_ERR_FORMAT, off, "type 0x%llx: name header cut short",
                                (unsigned long long)who);
        nlen = ((uint64_t)p[1] << 8) | p[2];
        hlen = 3;
    } else {
        nlen = 0;
        hlen = 1;
        for (unsigned shift = 0;; shift += 7) {
            if (hlen >= avail || shift > 28)
                return hs_error_set(err, HS_ERR_FORMAT, off + hlen,
                                    "type 0x%llx: bad name length varint",
                                    (unsigned long long)who);
            uint8_t b = p[hlen++];
            nlen |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
    }
    if (nlen == 0 || nlen > MAX_NAME_LEN || nlen > avail - hlen)
        return hs_error_set(err, HS_ERR_FORMAT, off, "type 0x%llx: name length %llu not plausible",
                            (unsigned long long)who, (unsigned long long)nlen);
    for (uint64_t i = 0; i < nlen; i++)
        if (p[hlen + i] < 0x20 || p[hlen + i] == 0x7f)
            return hs_error_set(err, HS_ERR_FORMAT, off + hlen + i,
                                "type 0x%llx: control byte in name", (unsigned long long)who);
    *s = p + hlen;
    *n = nlen;
    return HS_OK;
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
    out->size = hs_load_le(d, P);
    out->ptrdata = hs_load_le(d + P, P);
    out->tflag = d[2 * P + 4];
    uint8_t align = d[2 * P + 5], falign = d[2 * P + 6];
    out->kind = d[2 * P + 7] & 31;
    int32_t str = (int32_t)(uint32_t)hs_load_le(d + 4 * P + 8, 4);
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
    const uint8_t *s;
    uint64_t nlen;
    int rc = read_name(area, len, (uint64_t)str, symtab_go_minor(info->go_version), addr, &s,
                       &nlen, err);
    if (rc < 0)
        return rc;
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
        out->elem = hs_load_le(d + hdr, P);
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

/* Descends from the type at *type_addr through structs and arrays to the leaf holding byte
 * *offset, leaving that leaf's type and the offset inside it; appends the field path to buf
 * (cap > 1) as it goes. Returns the bytes of path written. */
static size_t descend(const symtab *t, uint64_t *type_addr_io, uint64_t *offset_io, char *buf,
                      size_t cap)
{
    uint64_t base, type_addr = *type_addr_io, offset = *offset_io;
    size_t len;
    const uint8_t *area = symtab_types(t, &base, &len);
    const symtab_info *info = symtab_get_info(t);
    unsigned P = info->ptr_size == 4 ? 4 : 8;
    uint64_t hdr = 4 * (uint64_t)P + 16;
    int minor = symtab_go_minor(info->go_version);
    size_t used = 0;
    buf[0] = '\0';
    /* Descend through structs (runtime/type.go structtype: pkgPath, then the fields slice;
     * structfield {name, typ, offset}) and arrays until the offset lands on a leaf. */
    for (int depth = 0; depth < 8; depth++) {
        gotype ty;
        if (gotype_read(t, type_addr, &ty, NULL) < 0 || offset >= ty.size)
            break;
        uint64_t toff = type_addr - base;
        if (ty.kind == GOTYPE_KIND_ARRAY) {
            gotype el;
            if (gotype_read(t, ty.elem, &el, NULL) < 0 || el.size == 0)
                break;
            int n = snprintf(buf + used, cap - used, "[%llu]",
                             (unsigned long long)(offset / el.size));
            if (n < 0 || (size_t)n >= cap - used)
                break;
            used += (size_t)n;
            offset %= el.size;
            type_addr = ty.elem;
            continue;
        }
        if (ty.kind != GOTYPE_KIND_STRUCT || len - toff < hdr + 3 * (uint64_t)P)
            break;
        uint64_t fields = hs_load_le(area + toff + hdr + P, P);
        uint64_t nfields = hs_load_le(area + toff + hdr + 2 * P, P);
        if (fields < base || fields - base >= len || nfields > (len - (fields - base)) / (3 * P))
            break;
        const uint8_t *f = area + (fields - base);
        uint64_t best = UINT64_MAX;
        for (uint64_t i = 0; i < nfields; i++) {
            uint64_t foff = hs_load_le(f + i * 3 * P + 2 * P, P);
            if (foff <= offset)
                best = i;
        }
        if (best == UINT64_MAX)
            break;
        const uint8_t *fp = f + best * 3 * P;
        uint64_t name = hs_load_le(fp, P), ftyp = hs_load_le(fp + P, P);
        uint64_t foff = hs_load_le(fp + 2 * P, P);
        const uint8_t *s;
        uint64_t nlen;
        if (name < base || read_name(area, len, name - base, minor, type_addr, &s, &nlen, NULL) < 0)
            break;
        if (used + 1 + nlen + 1 > cap)
            break;
        buf[used++] = '.';
        memcpy(buf + used, s, nlen);
        used += nlen;
        buf[used] = '\0';
        offset -= foff;
        type_addr = ftyp;
    }
    *type_addr_io = type_addr;
    *offset_io = offset;
    return used;
}

int gotype_field_name(const symtab *t, uint64_t type_addr, uint64_t offset, char *buf, size_t cap)
{
    uint64_t base;
    size_t len;
    if (!t || !symtab_types(t, &base, &len) || !buf || cap < 2)
        return HS_ERR_NOTFOUND;
    return descend(t, &type_addr, &offset, buf, cap) ? HS_OK : HS_ERR_NOTFOUND;
}

int gotype_leaf_at(const symtab *t, uint64_t type_addr, uint64_t offset, uint64_t *leaf,
                   uint64_t *leaf_offset)
{
    uint64_t base;
    size_t len;
    char path[256];
    if (!t || !symtab_types(t, &base, &len))
        return HS_ERR_NOTFOUND;
    descend(t, &type_addr, &offset, path, sizeof path);
    *leaf = type_addr;
    *leaf_offset = offset;
    return HS_OK;
}
