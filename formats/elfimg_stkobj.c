/* elfimg_stkobj.c - stack objects of a Go binary (docs/go-binary.md "Stack objects"): the
 * records each function's funcdata points to under moduledata.gofunc, with their pointer masks
 * under moduledata.rodata (GC programs run). */
#include "elfimg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hs_codec.h"

#define FUNCDATA_STACK_OBJECTS 2 /* 1.19 runtime/symtab.go:308; 1.26 internal/abi/symtab.go:116 */
#define STKOBJ_RECORD 16         /* {off, size, ptrdata, gcdataoff}: 4 x 32 bits */
#define STKOBJ_MAX_SIZE (1u << 30) /* the compiler refuses frames over 1 GB */

/* File offset of addr inside section s. */
static uint64_t file_off(const section *s, uint64_t addr)
{
    return s->offset + (addr - s->addr);
}

/* A uvarint of a GC program at p[*i] (before len); -1 when it runs past len or 63 bits (9
 * bytes). */
static int prog_uvarint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    size_t at = *i;
    if (hs_codec_uvarint(p, len, &at, v) < 0 || at - *i > 9)
        return -1;
    *i = at;
    return 0;
}

/* Runs a GC program (Go 1.19 runtime/mbitmap.go:1613 runGCProg, one bit per word; the
 * instructions are cmd/internal/gcprog's): 0x00 ends; 0x01-0x7f: that many literal bits in
 * the next bytes; 0x80|n (n 0: a uvarint n follows) then a uvarint count: repeat the last n
 * bits count times. Writes at most nbits bits into out (zeroed by the caller). Returns the
 * bits written, or -1 with *bad the index of the offending instruction. */
static int64_t run_gcprog(const uint8_t *p, size_t len, uint8_t *out, uint64_t nbits,
                          size_t *bad)
{
    uint64_t w = 0;
    size_t i = 0;
    for (;;) {
        *bad = i;
        if (i >= len)
            return -1; /* no end instruction */
        uint8_t inst = p[i++];
        uint64_t n = inst & 0x7f;
        if (!(inst & 0x80)) {
            if (n == 0)
                return (int64_t)w;
            size_t nb = (size_t)(n + 7) / 8;
            if (n > nbits - w || nb > len - i)
                return -1;
            for (uint64_t k = 0; k < n; k++)
                if (p[i + k / 8] >> (k % 8) & 1)
                    out[(w + k) / 8] |= (uint8_t)(1u << ((w + k) % 8));
            i += nb;
            w += n;
            continue;
        }
        uint64_t c;
        if ((n == 0 && prog_uvarint(p, len, &i, &n) < 0) || prog_uvarint(p, len, &i, &c) < 0)
            return -1;
        if (n == 0 || n > w || (c && n > (nbits - w) / c))
            return -1; /* repeats nothing, more than written, or past nbits */
        for (uint64_t k = 0, total = n * c; k < total; k++) {
            uint64_t from = w + k - n;
            if (out[from / 8] >> (from % 8) & 1)
                out[(w + k) / 8] |= (uint8_t)(1u << ((w + k) % 8));
        }
        w += n * c;
    }
}

/* Scratch space for one function's records and the masks expanded from GC programs. */
typedef struct stk_scratch {
    symtab_stkobj *objs;
    size_t cap;
    size_t *xoff; /* per record: offset of its expanded mask in x, SIZE_MAX for none */
    uint8_t *x;
    size_t xlen, xcap;
    uint64_t mask_total; /* mask bytes of all functions so far */
} stk_scratch;

/* Reads record j of the function at `entry` from address rec (in section fs) into
 * sc->objs[j]; its mask lies in section rs, which holds moduledata.rodata. */
static int read_stkobj(const elfimg *img, const md_info *md, const section *rs,
                       const section *fs, uint64_t rec, uint64_t entry, size_t j,
                       stk_scratch *sc, hs_error *err)
{
    const uint8_t *b = img->data + file_off(fs, rec);
    const unsigned P = img->ptr_size;
    int32_t off = (int32_t)(uint32_t)hs_load_le(b, 4);
    int32_t size = (int32_t)(uint32_t)hs_load_le(b + 4, 4);
    int32_t ptrdata = (int32_t)(uint32_t)hs_load_le(b + 8, 4);
    uint32_t gcdataoff = (uint32_t)hs_load_le(b + 12, 4);
    /* Go 1.19 writes -ptrdata when the mask is a GC program (runtime/stack.go:1399) */
    int prog = ptrdata < 0;
    uint64_t ptrbytes = prog ? (uint64_t)(-(int64_t)ptrdata) : (uint64_t)ptrdata;
    if (size <= 0 || (uint32_t)size > STKOBJ_MAX_SIZE || ptrbytes > (uint64_t)size ||
        ptrbytes % P)
        return hs_error_set(err, HS_ERR_FORMAT, file_off(fs, rec), "function at 0x%llx: "
                            "stack object %zu: size %d, %lld pointer bytes",
                            (unsigned long long)entry, j, size, (long long)ptrdata);
    uint32_t words = (uint32_t)(ptrbytes / P);
    size_t nb = ((size_t)words + 7) / 8;
    uint64_t at = md->rodata + gcdataoff; /* stackObjectRecord.gcdata() */
    uint64_t field = file_off(fs, rec + 12);
    uint64_t rend = rs->addr + rs->size;
    symtab_stkobj *o = &sc->objs[j];
    o->off = off;
    o->size = (uint32_t)size;
    o->ptr_words = words;
    o->mask = NULL;
    sc->xoff[j] = SIZE_MAX;
    if (sc->mask_total + nb > SYMTAB_STKOBJ_MAX_MASK_BYTES)
        return hs_error_set(err, HS_ERR_LIMIT, field, "more than %u bytes of stack object "
                            "masks", SYMTAB_STKOBJ_MAX_MASK_BYTES);
    sc->mask_total += nb;
    if (!prog) {
        if (at < md->rodata || at > rend || nb > rend - at)
            return hs_error_set(err, HS_ERR_FORMAT, field, "function at 0x%llx: stack object "
                                "%zu: gcdata offset 0x%x (%zu mask bytes) outside %s",
                                (unsigned long long)entry, j, gcdataoff, nb, rs->name);
        o->mask = img->data + file_off(rs, at);
        return HS_OK;
    }
    /* a GC program: a 4-byte length, then the program (1.19 mbitmap.go:1901) */
    if (at < md->rodata || at > rend || rend - at < 4)
        return hs_error_set(err, HS_ERR_FORMAT, field, "function at 0x%llx: stack object %zu: "
                            "GC program offset 0x%x outside %s", (unsigned long long)entry, j,
                            gcdataoff, rs->name);
    const uint8_t *pp = img->data + file_off(rs, at);
    uint64_t plen = hs_load_le(pp, 4);
    if (plen > rend - at - 4)
        return hs_error_set(err, HS_ERR_FORMAT, file_off(rs, at), "function at 0x%llx: stack "
                            "object %zu: GC program of %llu bytes runs past %s",
                            (unsigned long long)entry, j, (unsigned long long)plen, rs->name);
    if (sc->xlen + nb > sc->xcap) {
        size_t cap = sc->xcap ? sc->xcap : 256;
        while (cap < sc->xlen + nb)
            cap *= 2;
        uint8_t *x = realloc(sc->x, cap);
        if (!x)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "stack object masks");
        sc->x = x;
        sc->xcap = cap;
    }
    memset(sc->x + sc->xlen, 0, nb);
    size_t bad;
    if (run_gcprog(pp + 4, (size_t)plen, sc->x + sc->xlen, words, &bad) < 0)
        return hs_error_set(err, HS_ERR_FORMAT, file_off(rs, at) + 4 + bad, "function at "
                            "0x%llx: stack object %zu: bad GC program for %u words",
                            (unsigned long long)entry, j, words);
    sc->xoff[j] = sc->xlen;
    sc->xlen += nb;
    return HS_OK;
}

/* The stack objects of every function of a Go 1.18+ .gopclntab: _func.funcdata[2] is an
 * offset from moduledata.gofunc (^0: none; 1.19 runtime/symtab.go:1099 funcdata) to a
 * pointer-sized count and that many 16-byte records (runtime/stack.go stackObjectRecord),
 * whose masks lie at moduledata.rodata + gcdataoff. Returns 1 (nothing read) when gofunc or
 * rodata lie in no section with file bytes. */
int elfimg_load_stack_objects(const elfimg *img, const pcln_view *v, const md_info *md,
                              symtab *t, hs_error *err)
{
    const unsigned P = img->ptr_size;
    const section *fs = elfimg_section_covering(img, md->gofunc, md->gofunc + 1);
    const section *rs = elfimg_section_covering(img, md->rodata, md->rodata + 1);
    if (!v->func_size || v->P != P || !fs || !rs)
        return 1;
    stk_scratch sc = {0};
    int rc = HS_OK;
    const uint8_t *p = v->p;
    for (uint64_t i = 0; i < v->nf; i++) {
        uint64_t entry, next, fat;
        if ((rc = elfimg_pcln_func(v, i, &entry, &next, &fat, err)) < 0)
            break;
        if (v->n - fat < v->func_size) {
            rc = hs_error_set(err, HS_ERR_FORMAT, v->fo + fat, "%s: function %llu: _func of "
                              "%u bytes runs past the end", v->s->name, (unsigned long long)i,
                              v->func_size);
            break;
        }
        uint64_t npcdata = hs_load_le(p + fat + 28, 4);
        unsigned nfuncdata = p[fat + v->func_size - 1];
        if (nfuncdata <= FUNCDATA_STACK_OBJECTS)
            continue;
        uint64_t at = fat + v->func_size + npcdata * 4 + FUNCDATA_STACK_OBJECTS * 4;
        if (at > v->n - 4) {
            rc = hs_error_set(err, HS_ERR_FORMAT, v->fo + fat + 28, "%s: function %llu: %llu "
                              "pcdata and %u funcdata run past the end", v->s->name,
                              (unsigned long long)i, (unsigned long long)npcdata, nfuncdata);
            break;
        }
        uint32_t off = (uint32_t)hs_load_le(p + at, 4);
        if (off == UINT32_MAX)
            continue; /* no stack objects */
        uint64_t rec = md->gofunc + off;
        if (rec < fs->addr || rec - fs->addr > fs->size || fs->size - (rec - fs->addr) < P) {
            rc = hs_error_set(err, HS_ERR_FORMAT, v->fo + at, "%s: function %llu: stack "
                              "objects at gofunc+0x%x outside %s", v->s->name,
                              (unsigned long long)i, off, fs->name);
            break;
        }
        uint64_t count = hs_load_le(img->data + file_off(fs, rec), P);
        uint64_t room = (fs->size - (rec - fs->addr) - P) / STKOBJ_RECORD;
        if (count > room) {
            rc = hs_error_set(err, HS_ERR_FORMAT, file_off(fs, rec), "function at 0x%llx: %llu "
                              "stack object records run past the end of %s (room for %llu)",
                              (unsigned long long)entry, (unsigned long long)count, fs->name,
                              (unsigned long long)room);
            break;
        }
        if (count == 0)
            continue;
        if (count > SYMTAB_STKOBJ_MAX_PER_FUNC) {
            rc = hs_error_set(err, HS_ERR_LIMIT, file_off(fs, rec), "function at 0x%llx: %llu "
                              "stack objects (limit %u)", (unsigned long long)entry,
                              (unsigned long long)count, SYMTAB_STKOBJ_MAX_PER_FUNC);
            break;
        }
        if (count > sc.cap) {
            symtab_stkobj *o = realloc(sc.objs, (size_t)count * sizeof *o);
            if (o)
                sc.objs = o;
            size_t *x = o ? realloc(sc.xoff, (size_t)count * sizeof *x) : NULL;
            if (x)
                sc.xoff = x;
            if (!o || !x) {
                rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "stack objects");
                break;
            }
            sc.cap = (size_t)count;
        }
        sc.xlen = 0;
        for (size_t j = 0; j < count && rc == HS_OK; j++)
            rc = read_stkobj(img, md, rs, fs, rec + P + j * STKOBJ_RECORD, entry, j, &sc, err);
        if (rc < 0)
            break;
        for (size_t j = 0; j < count; j++)
            if (sc.xoff[j] != SIZE_MAX)
                sc.objs[j].mask = sc.x + sc.xoff[j];
        if ((rc = symtab_add_stack_objects(t, entry, sc.objs, (size_t)count, err)) < 0) {
            if (err && err->offset == HS_NO_OFFSET)
                err->offset = file_off(fs, rec);
            break;
        }
    }
    free(sc.objs);
    free(sc.xoff);
    free(sc.x);
    return rc;
}
