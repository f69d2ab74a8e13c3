/* mkcorpus - makes small seed files for the fuzz corpora from real dumps and binaries
 * (tests/fuzz/README.md says which commands made the checked-in seeds).
 *
 *   mkcorpus shrink IN.dump OUT.dump [BUDGET [MANIFEST]]
 *       a smaller dump of the same process: every record but objects is kept (data/bss
 *       records cut down to the pointer slots that point into the arena, stack frames to
 *       their first 1 KiB), then, until the file would pass BUDGET bytes (default 60000),
 *       the objects MANIFEST (a workload manifest) names and what they reach, then other
 *       objects of at most 512 bytes.
 *   mkcorpus symtab BINARY DUMP OUT [BUDGET]
 *       symtab_encode output for BINARY cut down to the symbols DUMP refers to (plus main.*;
 *       DUMP "-": main.* only) and those functions' stack objects, then as much of the type
 *       area as fits in BUDGET (default 60000).
 *   mkcorpus synthsym OUT
 *       symtab_encode output of the made-up table in fuzz_synth_symtab.h.
 *   mkcorpus hsd DUMP SYMTAB OUT.hsd
 *       a .hsd with META, SYMTAB (the file made by `mkcorpus symtab`, may be "-" for none)
 *       and HEAPDUMP sections, in 4 KiB chunks so the container has many.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfimg.h"
#include "fuzz_synth_symtab.h"
#include "gohd.h"
#include "gohd_synth.h"
#include "hsd.h"
#include "symtab.h"

static int die(const char *what, const hs_error *err)
{
    char buf[512];
    fprintf(stderr, "mkcorpus: %s: %s\n", what, err ? hs_error_format(err, buf, sizeof buf) : "failed");
    return 1;
}

static int load(const char *path, uint8_t **data, size_t *size)
{
    const uint8_t *m;
    hs_error err;
    if (hs_map_file(path, &m, size, &err) < 0)
        return die(path, &err);
    *data = malloc(*size ? *size : 1);
    if (!*data)
        return 1;
    if (*size)
        memcpy(*data, m, *size);
    hs_unmap(m, *size);
    return 0;
}

static int save(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "mkcorpus: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* ---- shrink ---- */

typedef struct shrinker {
    uint64_t arena_start, arena_end, ptr_size;
    int big_endian;
} shrinker;

/* Writes rec cut down as described above; objects are handled by the caller. */
static void emit_small(gohd_synth *s, const shrinker *k, const gohd_record *rec)
{
    if (rec->tag == GOHD_DATA || rec->tag == GOHD_BSS) {
        const gohd_memrec *m = &rec->u.object;
        for (size_t i = 0; i < m->nptrs; i++) {
            uint64_t off = m->ptr_offsets[i];
            if (off > m->contents.len || m->contents.len - off < k->ptr_size)
                continue;
            uint64_t v = gohd_word(m->contents.ptr + off, k->ptr_size, k->big_endian);
            if (v < k->arena_start || v >= k->arena_end)
                continue;
            uint64_t zero = 0;
            gohd_synth_memrec(s, rec->tag, m->addr + off, m->contents.ptr + off, k->ptr_size,
                              &zero, 1);
        }
        return;
    }
    gohd_record r = *rec;
    if (r.tag == GOHD_FRAME && r.u.frame.contents.len > 1024) {
        r.u.frame.contents.len = 1024;
        uint64_t *offs = malloc((r.u.frame.nptrs ? r.u.frame.nptrs : 1) * sizeof *offs);
        size_t n = 0;
        for (size_t i = 0; offs && i < r.u.frame.nptrs; i++)
            if (r.u.frame.ptr_offsets[i] + 8 <= 1024)
                offs[n++] = r.u.frame.ptr_offsets[i];
        r.u.frame.ptr_offsets = offs;
        r.u.frame.nptrs = n;
        gohd_synth_record(s, &r);
        free(offs);
        return;
    }
    if (r.tag == GOHD_MEMPROF && r.u.memprof.nstk > 16)
        r.u.memprof.nstk = 16;
    gohd_synth_record(s, &r);
}

/* One object of the input dump: where it is and what it points to. */
typedef struct sobj {
    uint64_t addr, len;
    uint64_t first_ptr; /* index into the ptrs array */
    uint32_t nptrs;
    uint32_t enc;       /* encoded record size */
    int chosen;
} sobj;

static int sobj_cmp(const void *x, const void *y)
{
    const sobj *a = x, *b = y;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* The object containing addr, or -1. */
static long sobj_find(const sobj *o, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || addr - o[lo - 1].addr >= (o[lo - 1].len ? o[lo - 1].len : 1))
        return -1;
    return (long)(lo - 1);
}

/* Every "0x..." string in a manifest (planted and control objects). */
static size_t manifest_addrs(const char *path, uint64_t **out)
{
    uint8_t *m;
    size_t n, k = 0, cap = 0;
    *out = NULL;
    if (!path || load(path, &m, &n))
        return 0;
    for (size_t i = 0; i + 3 < n; i++) {
        if (m[i] != '"' || m[i + 1] != '0' || m[i + 2] != 'x')
            continue;
        char *end;
        char tmp[32];
        size_t j = 0;
        while (j < sizeof tmp - 1 && i + 1 + j < n && m[i + 1 + j] != '"') {
            tmp[j] = (char)m[i + 1 + j];
            j++;
        }
        tmp[j] = '\0';
        uint64_t v = strtoull(tmp, &end, 16);
        if (*end)
            continue;
        if (k == cap) {
            cap = cap ? 2 * cap : 256;
            uint64_t *na = realloc(*out, cap * sizeof *na);
            if (!na)
                break;
            *out = na;
        }
        (*out)[k++] = v;
    }
    free(m);
    return k;
}

/* Chooses objects within budget: first those the manifest names and what they reach
 * (breadth-first, up to 2048 bytes each), then other objects of at most 512 bytes. */
static void choose(sobj *o, size_t n, const uint64_t *ptrs, const uint64_t *want, size_t nwant,
                   size_t budget)
{
    size_t *queue = malloc((n ? n : 1) * sizeof *queue), qh = 0, qt = 0;
    if (!queue)
        return;
    for (size_t i = 0; i < nwant; i++) {
        long k = sobj_find(o, n, want[i]);
        if (k >= 0 && !o[k].chosen && o[k].enc <= budget && o[k].len <= 2048) {
            o[k].chosen = 1;
            budget -= o[k].enc;
            queue[qt++] = (size_t)k;
        }
    }
    while (qh < qt) {
        const sobj *c = &o[queue[qh++]];
        for (uint32_t j = 0; j < c->nptrs; j++) {
            long k = sobj_find(o, n, ptrs[c->first_ptr + j]);
            if (k >= 0 && !o[k].chosen && o[k].enc <= budget && o[k].len <= 2048) {
                o[k].chosen = 1;
                budget -= o[k].enc;
                queue[qt++] = (size_t)k;
            }
        }
    }
    free(queue);
    for (size_t i = 0; i < n; i++)
        if (!o[i].chosen && o[i].len <= 512 && o[i].enc <= budget) {
            o[i].chosen = 1;
            budget -= o[i].enc;
        }
}

static int shrink(const char *in, const char *out, size_t budget, const char *manifest)
{
    uint8_t *data;
    size_t size;
    if (load(in, &data, &size))
        return 1;
    shrinker k = {0, UINT64_MAX, 8, 0};
    gohd_synth s;
    sobj *objs = NULL;
    uint64_t *ptrs = NULL;
    size_t nobj = 0, cobj = 0, nptr = 0, cptr = 0;
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        hs_mem_source src = {data, size, 0};
        gohd_reader *r;
        hs_error err;
        if (gohd_reader_new((hs_reader){hs_mem_read, &src}, NULL, &r, &err) < 0)
            return die(in, &err);
        gohd_synth_init(&s);
        gohd_synth_header(&s);
        gohd_record rec;
        int n;
        while ((n = gohd_next(r, &rec, &err)) > 0) {
            if (rec.tag == GOHD_PARAMS) {
                k.arena_start = rec.u.params.arena_start;
                k.arena_end = rec.u.params.arena_end;
                k.ptr_size = rec.u.params.ptr_size;
                k.big_endian = rec.u.params.big_endian;
            }
            if (rec.tag != GOHD_OBJECT) {
                emit_small(&s, &k, &rec);
                continue;
            }
            const gohd_memrec *m = &rec.u.object;
            if (pass == 1) {
                sobj key = {.addr = m->addr};
                sobj *f = bsearch(&key, objs, nobj, sizeof *objs, sobj_cmp);
                if (f && f->chosen && f->len == m->contents.len) {
                    gohd_synth_record(&s, &rec);
                    f->chosen = 0; /* a duplicate address is written once */
                }
                continue;
            }
            gohd_synth tmp;
            gohd_synth_init(&tmp);
            gohd_synth_record(&tmp, &rec);
            if (nobj == cobj) {
                cobj = cobj ? 2 * cobj : 4096;
                objs = realloc(objs, cobj * sizeof *objs);
            }
            if (nptr + m->nptrs > cptr) {
                cptr = 2 * (nptr + m->nptrs) + 4096;
                ptrs = realloc(ptrs, cptr * sizeof *ptrs);
            }
            if (!objs || !ptrs)
                return 1;
            objs[nobj] = (sobj){m->addr, m->contents.len, nptr, 0, (uint32_t)tmp.len, 0};
            for (size_t i = 0; i < m->nptrs; i++) {
                uint64_t off = m->ptr_offsets[i];
                if (off <= m->contents.len && m->contents.len - off >= k.ptr_size) {
                    ptrs[nptr++] = gohd_word(m->contents.ptr + off, k.ptr_size, k.big_endian);
                    objs[nobj].nptrs++;
                }
            }
            nobj++;
            gohd_synth_release(&tmp);
        }
        gohd_synth_eof(&s);
        gohd_reader_free(r);
        if (n < 0)
            rc = die(in, &err);
        else if (pass == 0) {
            if (s.len >= budget) {
                fprintf(stderr, "mkcorpus: %s: %zu bytes without objects, above the budget\n",
                        in, s.len);
                rc = 1;
            } else {
                qsort(objs, nobj, sizeof *objs, sobj_cmp);
                uint64_t *want;
                size_t nwant = manifest_addrs(manifest, &want);
                choose(objs, nobj, ptrs, want, nwant, budget - s.len);
                free(want);
            }
            gohd_synth_release(&s);
        }
    }
    if (rc == 0)
        rc = s.failed ? 1 : save(out, s.data, s.len);
    if (rc == 0)
        fprintf(stderr, "%s: %zu bytes (from %zu)\n", out, s.len, size);
    gohd_synth_release(&s);
    free(objs);
    free(ptrs);
    free(data);
    return rc;
}

/* ---- symtab ---- */

typedef struct addrset {
    uint64_t *a;
    size_t n, cap;
} addrset;

static void addr_put(addrset *as, uint64_t v)
{
    if (as->n == as->cap) {
        as->cap = as->cap ? 2 * as->cap : 1024;
        uint64_t *na = realloc(as->a, as->cap * sizeof *na);
        if (!na)
            exit(1);
        as->a = na;
    }
    as->a[as->n++] = v;
}

static void words_of(addrset *as, gohd_bytes b)
{
    for (size_t i = 0; i + 8 <= b.len; i += 8)
        addr_put(as, gohd_word(b.ptr + i, 8, 0));
}

static int cmp_sym(const void *x, const void *y)
{
    const symtab_sym *a = *(const symtab_sym *const *)x, *b = *(const symtab_sym *const *)y;
    return a < b ? -1 : a > b;
}

static int mksymtab(const char *bin, const char *dump, const char *out, size_t budget)
{
    uint8_t *bdata, *ddata = NULL;
    size_t bsize, dsize = 0;
    int nodump = !strcmp(dump, "-");
    if (load(bin, &bdata, &bsize) || (!nodump && load(dump, &ddata, &dsize)))
        return 1;
    hs_error err;
    elfimg *img;
    symtab *full, *t;
    if (elfimg_open(bdata, bsize, &img, &err) < 0 || elfimg_symtab(img, &full, &err) < 0)
        return die(bin, &err);
    elfimg_free(img);
    /* Every address the dump mentions. */
    addrset as = {0};
    hs_mem_source src = {ddata, dsize, 0};
    gohd_reader *r = NULL;
    if (!nodump && gohd_reader_new((hs_reader){hs_mem_read, &src}, NULL, &r, &err) < 0)
        return die(dump, &err);
    gohd_record rec;
    while (r && gohd_next(r, &rec, &err) > 0) {
        switch (rec.tag) {
        case GOHD_OBJECT: words_of(&as, rec.u.object.contents); break;
        case GOHD_DATA:
        case GOHD_BSS:
            addr_put(&as, rec.u.object.addr);
            words_of(&as, rec.u.object.contents);
            break;
        case GOHD_FRAME:
            addr_put(&as, rec.u.frame.entry);
            addr_put(&as, rec.u.frame.pc);
            words_of(&as, rec.u.frame.contents);
            break;
        case GOHD_FINALIZER:
        case GOHD_QFINALIZER:
            addr_put(&as, rec.u.finalizer.fn);
            addr_put(&as, rec.u.finalizer.fnpc);
            addr_put(&as, rec.u.finalizer.ot);
            break;
        case GOHD_TYPE: addr_put(&as, rec.u.type.addr); break;
        case GOHD_ITAB: addr_put(&as, rec.u.itab.itab); addr_put(&as, rec.u.itab.type); break;
        default: break;
        }
    }
    gohd_reader_free(r);
    /* The symbols covering them, plus main.*. */
    const symtab_sym **keep = NULL;
    size_t nkeep = 0, cap = 0;
    for (size_t i = 0; i < as.n + 4096; i++) {
        const symtab_sym *sy = NULL;
        if (i < as.n) {
            symtab_sym anon;
            sy = symtab_func_at(full, as.a[i]);
            if (!sy) {
                sy = symtab_data_at(full, as.a[i], &anon);
                if (sy == &anon)
                    sy = NULL;
            }
        } else {
            /* main.* symbols of every kind */
            size_t j = i - as.n;
            for (int kind = SYMTAB_FUNC; kind <= SYMTAB_RODATA && !sy; kind++) {
                size_t c = symtab_count(full, kind);
                if (j < c) {
                    sy = symtab_get(full, kind, j);
                    if (strncmp(sy->name, "main.", 5) != 0)
                        sy = NULL;
                    break;
                }
                j -= c;
            }
        }
        if (!sy)
            continue;
        if (nkeep == cap) {
            cap = cap ? 2 * cap : 256;
            keep = realloc(keep, cap * sizeof *keep);
            if (!keep)
                return 1;
        }
        keep[nkeep++] = sy;
    }
    qsort(keep, nkeep, sizeof *keep, cmp_sym);
    t = symtab_new();
    *symtab_info_mut(t) = *symtab_get_info(full);
    size_t used = 200;
    for (size_t i = 0; i < nkeep; i++) {
        if (i && keep[i] == keep[i - 1])
            continue;
        used += strlen(keep[i]->name) + 8;
        if (used > budget)
            break;
        if (symtab_add(t, keep[i]->kind, keep[i]->addr, keep[i]->size, keep[i]->name,
                       strlen(keep[i]->name), &err) < 0)
            return die("symtab_add", &err);
    }
    uint64_t base;
    size_t tlen;
    const uint8_t *types = symtab_types(full, &base, &tlen);
    if (types && used < budget) {
        size_t n = budget - used < tlen ? budget - used : tlen;
        if (symtab_set_types(t, base, types, n, &err) < 0)
            return die("symtab_set_types", &err);
    }
    /* the stack objects of the kept functions */
    for (size_t i = 0; i < nkeep; i++) {
        size_t n;
        const symtab_stkobj *o;
        if ((i && keep[i] == keep[i - 1]) || keep[i]->kind != SYMTAB_FUNC ||
            !(o = symtab_stack_objects(full, keep[i]->addr, &n)))
            continue;
        if (symtab_add_stack_objects(t, keep[i]->addr, o, n, &err) < 0)
            return die("symtab_add_stack_objects", &err);
    }
    if (symtab_finish(t, &err) < 0)
        return die("symtab_finish", &err);
    hs_mem_sink sink = {0};
    if (symtab_encode(t, (hs_writer){hs_mem_write, &sink}, &err) < 0)
        return die("symtab_encode", &err);
    int rc = save(out, sink.data, sink.len);
    fprintf(stderr, "%s: %zu bytes, %zu symbols kept, %zu with stack objects\n", out, sink.len,
            nkeep, symtab_stack_object_funcs(t));
    hs_mem_sink_release(&sink);
    symtab_free(t);
    symtab_free(full);
    free(keep);
    free(as.a);
    free(bdata);
    free(ddata);
    return rc;
}

/* ---- hsd ---- */

static int mkhsd(const char *dump, const char *sym, const char *out)
{
    uint8_t *d, *sy = NULL;
    size_t dn, sn = 0;
    if (load(dump, &d, &dn) || (strcmp(sym, "-") && load(sym, &sy, &sn)))
        return 1;
    hs_mem_sink sink = {0};
    hs_error err;
    hsd_writer *w;
    hsd_writer_options o = {.chunk_size = 4096, .level = 6};
    static const char meta[] = "{\"pid\":4242,\"exe\":\"/tmp/knownheap\",\"go_version\":\"go1.19.8\"}";
    int rc = hsd_writer_new((hs_writer){hs_mem_write, &sink}, &o, &w, &err);
    if (rc >= 0)
        rc = hsd_writer_section(w, HSD_SEC_META, "meta", meta, sizeof meta - 1, &err);
    if (rc >= 0 && sy)
        rc = hsd_writer_section(w, HSD_SEC_SYMTAB, "knownheap", sy, sn, &err);
    if (rc >= 0)
        rc = hsd_writer_section(w, HSD_SEC_HEAPDUMP, NULL, d, dn, &err);
    if (rc >= 0)
        rc = hsd_writer_finish(w, &err);
    hsd_writer_free(w);
    if (rc < 0)
        return die(out, &err);
    rc = save(out, sink.data, sink.len);
    fprintf(stderr, "%s: %zu bytes\n", out, sink.len);
    hs_mem_sink_release(&sink);
    free(d);
    free(sy);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "shrink"))
        return shrink(argv[2], argv[3], argc > 4 ? strtoul(argv[4], NULL, 10) : 60000,
                      argc > 5 ? argv[5] : NULL);
    if (argc >= 5 && !strcmp(argv[1], "symtab"))
        return mksymtab(argv[2], argv[3], argv[4], argc > 5 ? strtoul(argv[5], NULL, 10) : 60000);
    if (argc == 3 && !strcmp(argv[1], "synthsym")) {
        symtab *t = fuzz_synth_symtab();
        hs_mem_sink sink = {0};
        hs_error err;
        if (!t || symtab_encode(t, (hs_writer){hs_mem_write, &sink}, &err) < 0)
            return die("synthsym", NULL);
        int rc = save(argv[2], sink.data, sink.len);
        hs_mem_sink_release(&sink);
        symtab_free(t);
        return rc;
    }
    if (argc == 5 && !strcmp(argv[1], "hsd"))
        return mkhsd(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: mkcorpus shrink IN OUT [BUDGET [MANIFEST]] | symtab BIN DUMP OUT [BUDGET] | "
                    "synthsym OUT | hsd DUMP SYMTAB|- OUT\n");
    return 2;
}
