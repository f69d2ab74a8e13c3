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

#include "hs_grow.h"

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

/* The type area of t with its base, pointer size P, descriptor header bytes and Go minor
 * version; NULL without one. */
typedef struct area_view {
    const uint8_t *area;
    uint64_t base;
    size_t len;
    unsigned P;
    uint64_t hdr;
    int minor;
} area_view;

static int view_of(const symtab *t, area_view *v)
{
    if (!t || !(v->area = symtab_types(t, &v->base, &v->len)))
        return 0;
    const symtab_info *info = symtab_get_info(t);
    v->P = info->ptr_size == 4 ? 4 : 8;
    v->hdr = 4 * (uint64_t)v->P + 16;
    v->minor = symtab_go_minor(info->go_version);
    return 1;
}

/* Field i of the struct descriptor at type_addr (runtime/type.go structtype: pkgPath, then
 * the fields slice; structfield {name, typ, offset}), with *nfields its field count. */
static int struct_field(const area_view *v, uint64_t type_addr, uint64_t i, uint64_t *nfields,
                        gotype_field *out, hs_error *err)
{
    uint64_t toff = type_addr - v->base, P = v->P;
    if (type_addr < v->base || toff >= v->len || v->len - toff < v->hdr + 3 * P)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET,
                            "type 0x%llx: struct descriptor outside the type area",
                            (unsigned long long)type_addr);
    uint64_t fields = hs_load_le(v->area + toff + v->hdr + P, P);
    uint64_t n = hs_load_le(v->area + toff + v->hdr + 2 * P, P);
    if (fields < v->base || fields - v->base >= v->len ||
        n > (v->len - (fields - v->base)) / (3 * P))
        return hs_error_set(err, HS_ERR_FORMAT, toff + v->hdr + P,
                            "type 0x%llx: fields outside the type area",
                            (unsigned long long)type_addr);
    *nfields = n;
    if (i >= n)
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET, "type 0x%llx: no field %llu",
                            (unsigned long long)type_addr, (unsigned long long)i);
    const uint8_t *fp = v->area + (fields - v->base) + i * 3 * P;
    uint64_t name = hs_load_le(fp, P);
    out->type = hs_load_le(fp + P, P);
    out->offset = hs_load_le(fp + 2 * P, P);
    if (name < v->base)
        return hs_error_set(err, HS_ERR_FORMAT, fields - v->base + i * 3 * P,
                            "type 0x%llx: field %llu's name outside the type area",
                            (unsigned long long)type_addr, (unsigned long long)i);
    const uint8_t *s;
    int rc = read_name(v->area, v->len, name - v->base, v->minor, type_addr, &s,
                       &out->name_len, err);
    out->name = (const char *)s;
    return rc;
}

int gotype_struct_field(const symtab *t, uint64_t addr, uint64_t i, uint64_t *nfields,
                        gotype_field *out, hs_error *err)
{
    area_view v;
    *nfields = 0;
    if (!view_of(t, &v))
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET, "no type area");
    return struct_field(&v, addr, i, nfields, out, err);
}

/* Descends from the type at *type_addr through structs and arrays to the leaf holding byte
 * *offset, leaving that leaf's type and the offset inside it; appends the field path to buf
 * (cap > 1) as it goes. Returns the bytes of path written. */
static size_t descend(const symtab *t, const area_view *v, uint64_t *type_addr_io,
                      uint64_t *offset_io, char *buf, size_t cap)
{
    uint64_t type_addr = *type_addr_io, offset = *offset_io;
    size_t used = 0;
    buf[0] = '\0';
    for (int depth = 0; depth < 8; depth++) {
        gotype ty;
        if (gotype_read(t, type_addr, &ty, NULL) < 0 || offset >= ty.size)
            break;
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
        if (ty.kind != GOTYPE_KIND_STRUCT)
            break;
        /* the last field starting at or before the offset */
        uint64_t n = 0, best = UINT64_MAX;
        gotype_field f;
        for (uint64_t i = 0; i == 0 || i < n; i++) {
            if (struct_field(v, type_addr, i, &n, &f, NULL) < 0 && n == 0)
                break;
            if (i < n && f.offset <= offset)
                best = i;
        }
        if (best == UINT64_MAX || struct_field(v, type_addr, best, &n, &f, NULL) < 0 ||
            used + 1 + f.name_len + 1 > cap)
            break;
        buf[used++] = '.';
        memcpy(buf + used, f.name, f.name_len);
        used += f.name_len;
        buf[used] = '\0';
        offset -= f.offset;
        type_addr = f.type;
    }
    *type_addr_io = type_addr;
    *offset_io = offset;
    return used;
}

int gotype_field_name(const symtab *t, uint64_t type_addr, uint64_t offset, char *buf, size_t cap)
{
    area_view v;
    if (!view_of(t, &v) || !buf || cap < 2)
        return HS_ERR_NOTFOUND;
    return descend(t, &v, &type_addr, &offset, buf, cap) ? HS_OK : HS_ERR_NOTFOUND;
}

int gotype_leaf_at(const symtab *t, uint64_t type_addr, uint64_t offset, uint64_t *leaf,
                   uint64_t *leaf_offset)
{
    area_view v;
    char path[256];
    if (!view_of(t, &v))
        return HS_ERR_NOTFOUND;
    descend(t, &v, &type_addr, &offset, path, sizeof path);
    *leaf = type_addr;
    *leaf_offset = offset;
    return HS_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The offset of the name record whose bytes start at `at` (its flag byte, then the length:
 * a uvarint from Go 1.17, two big-endian bytes before), or UINT64_MAX when none does. */
static uint64_t name_record_at(const area_view *v, uint64_t at)
{
    for (uint64_t hlen = 1; hlen <= (v->minor >= 0 && v->minor < 17 ? 1 : 3); hlen++) {
        if (at < hlen + 1)
            break;
        uint64_t rec = at - hlen - 1;
        const uint8_t *s;
        uint64_t n;
        if (read_name(v->area, v->len, rec, v->minor, 0, &s, &n, NULL) == HS_OK &&
            s == v->area + at)
            return rec;
    }
    return UINT64_MAX;
}

int gotype_structs_named(const symtab *t, const char *prefix, gotype_struct_fn fn, void *ctx,
                         hs_error *err)
{
    area_view v;
    if (!view_of(t, &v))
        return HS_OK;
    /* The name records: "*struct {...}" (a descriptor with TFLAG_EXTRA_STAR drops the star),
     * or the name itself. */
    size_t plen = strlen(prefix), nrec = 0, cap = 0;
    uint64_t *recs = NULL;
    const uint8_t *at = v.area, *end = v.area + v.len;
    while (plen && (at = memmem(at, (size_t)(end - at), prefix, plen)) != NULL) {
        uint64_t off = (uint64_t)(at - v.area);
        uint64_t rec = off > 0 && at[-1] == '*' ? name_record_at(&v, off - 1) : UINT64_MAX;
        if (rec == UINT64_MAX)
            rec = name_record_at(&v, off);
        if (rec != UINT64_MAX && rec <= INT32_MAX) {
            int fail = 0;
            recs = hs_grow(recs, &cap, nrec + 1, sizeof *recs, 64, &fail);
            if (fail) {
                free(recs);
                return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "type names");
            }
            recs[nrec++] = rec;
        }
        at += plen;
    }
    int rc = HS_OK;
    if (nrec) {
        qsort(recs, nrec, sizeof *recs, cmp_u64);
        /* Every pointer-aligned place of the area whose name offset is one of them, and
         * which reads as a struct descriptor. */
        for (uint64_t off = 0; off + v.hdr <= v.len && rc == HS_OK; off += v.P) {
            int32_t str = (int32_t)(uint32_t)hs_load_le(v.area + off + 4 * (uint64_t)v.P + 8, 4);
            uint64_t key = (uint64_t)str;
            gotype g;
            if (str < 0 || key < recs[0] || key > recs[nrec - 1] ||
                !bsearch(&key, recs, nrec, sizeof *recs, cmp_u64) ||
                gotype_read(t, v.base + off, &g, NULL) < 0 || g.kind != GOTYPE_KIND_STRUCT ||
                strncmp(g.name, prefix, plen))
                continue;
            rc = fn(ctx, &g);
        }
    }
    free(recs);
    return rc;
}
