/* redact.c - heap-dump redaction: gohd reader -> zero non-pointer bytes -> gohdw writer. */
#include "redact.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gohd.h"
#include "gohdw.h"
#include "gotype.h"
#include "hs_search.h"

typedef struct redactor {
    const symtab *syms;
    uint64_t ptr_size;
    int big_endian;
    uint8_t *scratch; /* redacted contents of the current record */
    size_t cap;
    /* Type and itab addresses announced by earlier type/itab records (heapdump.go writes
     * itabs before objects), sorted on demand for binary search. */
    uint64_t *meta;
    size_t nmeta, cap_meta, nsorted;
    uint64_t meta_lo, meta_hi;
    /* Quick range filters in front of the symbol lookups. */
    uint64_t types_lo, types_len;
    uint64_t func_lo, func_hi;
    uint64_t arena_lo, arena_hi; /* the heap arena (params): addresses kept where asked */
    redact_stats st;
} redactor;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int add_meta(redactor *r, uint64_t addr, hs_error *err)
{
    if (!r->syms || !addr)
        return HS_OK;
    if (r->nmeta == r->cap_meta) {
        size_t ncap = r->cap_meta ? r->cap_meta * 2 : 256;
        uint64_t *m = ncap <= SIZE_MAX / sizeof *m ? realloc(r->meta, ncap * sizeof *m) : NULL;
        if (!m)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                                "out of memory for %zu type and itab addresses", ncap);
        r->meta = m;
        r->cap_meta = ncap;
    }
    r->meta[r->nmeta++] = addr;
    if (r->nmeta == 1 || addr < r->meta_lo)
        r->meta_lo = addr;
    if (addr > r->meta_hi)
        r->meta_hi = addr;
    return HS_OK;
}

static int in_meta(redactor *r, uint64_t v)
{
    if (!r->nmeta || v < r->meta_lo || v > r->meta_hi)
        return 0;
    if (r->nsorted != r->nmeta) {
        qsort(r->meta, r->nmeta, sizeof *r->meta, cmp_u64);
        r->nsorted = r->nmeta;
    }
    size_t lo = hs_lower_bound64(r->meta, r->nmeta, sizeof *r->meta, 0, v);
    return lo < r->nmeta && r->meta[lo] == v;
}

/* A non-pointer word worth keeping: an address of program metadata (redact.h). */
static int is_metadata_word(redactor *r, uint64_t v)
{
    if (v - r->types_lo < r->types_len) /* the binary's type area */
        return 1;
    if (v >= r->func_lo && v <= r->func_hi && symtab_func_entry(r->syms, v))
        return 1;
    return in_meta(r, v);
}

static size_t count_nonzero(const uint8_t *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] != 0;
    return c;
}

/* An address in the heap arena or, with symbols, in the binary's data and bss: a pointer's
 * value, whether or not a pointer map lists the word. */
static int is_address(const redactor *r, uint64_t v)
{
    if (v >= r->arena_lo && v < r->arena_hi)
        return 1;
    if (!r->syms)
        return 0;
    const symtab_info *in = symtab_get_info(r->syms);
    const symtab_range *rs[] = {&in->data, &in->noptrdata, &in->bss, &in->noptrbss};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
        if (v >= rs[i]->start && v < rs[i]->end)
            return 1;
    return 0;
}

/* Redacts len bytes of memory with pointer slots at offs into the scratch buffer, which
 * *out then points to. */
static int redact_mem(redactor *r, const uint8_t *src, size_t len, const uint64_t *offs,
                      size_t n, int keep_addrs, uint64_t at, const uint8_t **out, hs_error *err)
{
    if (len > r->cap) {
        size_t ncap = r->cap ? r->cap : 4096;
        while (ncap < len)
            ncap = ncap > SIZE_MAX / 2 ? len : ncap * 2;
        uint8_t *b = realloc(r->scratch, ncap);
        if (!b)
            return hs_error_set(err, HS_ERR_NOMEM, at, "out of memory for %zu bytes of contents",
                                len);
        r->scratch = b;
        r->cap = ncap;
    }
    uint8_t *dst = r->scratch;
    size_t ps = (size_t)r->ptr_size;
    *out = dst;
    if (!len)
        return HS_OK;
    memset(dst, 0, len);
    for (size_t i = 0; i < n; i++) {
        uint64_t off = offs[i];
        if (off > len || len - off < ps)
            continue; /* a slot outside the record: nothing of it is written */
        memcpy(dst + off, src + off, ps);
        r->st.ptr_words++;
    }
    if (r->syms || keep_addrs) {
        for (size_t k = 0; len - k >= ps; k += ps) {
            uint64_t v = gohd_word(src + k, ps, r->big_endian);
            int keep = (r->syms && is_metadata_word(r, v)) || (keep_addrs && is_address(r, v));
            if (v && keep && memcmp(dst + k, src + k, ps) != 0) {
                memcpy(dst + k, src + k, ps);
                r->st.words_kept++;
            }
        }
    }
    r->st.content_bytes += len;
    r->st.bytes_zeroed += count_nonzero(src, len) - count_nonzero(dst, len);
    return HS_OK;
}

static void init_filters(redactor *r)
{
    r->types_lo = 0;
    r->types_len = 0;
    r->func_lo = 1;
    r->func_hi = 0;
    if (!r->syms)
        return;
    uint64_t base;
    size_t len;
    if (symtab_types(r->syms, &base, &len) && len) {
        r->types_lo = base;
        r->types_len = len;
    }
    size_t nf = symtab_count(r->syms, SYMTAB_FUNC);
    if (nf) {
        r->func_lo = symtab_get(r->syms, SYMTAB_FUNC, 0)->addr;
        r->func_hi = symtab_get(r->syms, SYMTAB_FUNC, nf - 1)->addr;
    }
}

/* Redacts one record in place (its byte strings are re-pointed at the scratch buffer). */
static int redact_record(redactor *r, gohd_record *rec, hs_error *err)
{
    switch (rec->tag) {
    case GOHD_PARAMS:
        r->ptr_size = rec->u.params.ptr_size;
        r->big_endian = rec->u.params.big_endian;
        r->arena_lo = rec->u.params.arena_start;
        r->arena_hi = rec->u.params.arena_end;
        return HS_OK;
    case GOHD_ITAB:
        return add_meta(r, rec->u.itab.itab, err);
    case GOHD_TYPE:
        return add_meta(r, rec->u.type.addr, err);
    case GOHD_OBJECT:
    case GOHD_DATA:
    case GOHD_BSS: {
        gohd_memrec *m = &rec->u.object;
        int handle = rec->tag == GOHD_OBJECT && m->nptrs == 0 && m->contents.len == 16;
        return redact_mem(r, m->contents.ptr, m->contents.len, m->ptr_offsets, m->nptrs, handle,
                          rec->offset, &m->contents.ptr, err);
    }
    case GOHD_FRAME:
        return redact_mem(r, rec->u.frame.contents.ptr, rec->u.frame.contents.len,
                          rec->u.frame.ptr_offsets, rec->u.frame.nptrs, 1,
                          rec->offset, &rec->u.frame.contents.ptr, err);
    default:
        return HS_OK;
    }
}

int redact_stream(hs_reader in, hs_writer out, const redact_options *opts, redact_stats *stats,
                  hs_error *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    redactor r = {.syms = opts ? opts->syms : NULL, .ptr_size = 8};
    init_filters(&r);
    gohd_options go = {.max_record_bytes = opts ? opts->max_record_bytes : 0};
    gohd_reader *rd = NULL;
    gohdw *w = NULL;
    int rc;
    if ((rc = gohd_reader_new(in, &go, &rd, err)) < 0 || (rc = gohdw_new(out, &w, err)) < 0 ||
        (rc = gohdw_header(w, err)) < 0)
        goto out;
    gohd_record rec;
    for (;;) {
        int more = gohd_next(rd, &rec, err);
        if (more < 0) {
            rc = more;
            goto out;
        }
        if (!more) {
            memset(&rec, 0, sizeof rec);
            rec.tag = GOHD_EOF;
        }
        if ((rc = redact_record(&r, &rec, err)) < 0 || (rc = gohdw_record(w, &rec, err)) < 0)
            goto out;
        if (!more) {
            rc = gohdw_flush(w, err);
            break;
        }
        r.st.records++;
    }
out:
    r.st.bytes_out = gohdw_position(w);
    if (stats)
        *stats = r.st;
    gohdw_free(w);
    gohd_reader_free(rd);
    free(r.scratch);
    free(r.meta);
    return rc < 0 ? rc : HS_OK;
}

typedef struct hsd_sink {
    hsd_writer *w;
    hs_error err;
} hsd_sink;

static int hsd_sink_write(void *ctx, const void *buf, size_t n)
{
    hsd_sink *s = ctx;
    return hsd_writer_write(s->w, buf, n, &s->err);
}

int redact_to_hsd(hs_reader in, hsd_writer *w, const redact_options *opts, redact_stats *stats,
                  hs_error *err)
{
    if (!w)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "redact_to_hsd: no container writer");
    hsd_sink s = {.w = w};
    hs_error_clear(&s.err);
    int rc = redact_stream(in, (hs_writer){hsd_sink_write, &s}, opts, stats, err);
    if (rc < 0 && s.err.status < 0 && err) {
        *err = s.err;
        hs_error_prefix(err, "writing the redacted heap dump");
    }
    return rc;
}
