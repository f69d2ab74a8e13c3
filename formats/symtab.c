/* symtab.c - symbols of a Go binary as flat sorted arrays with one string pool, binary-search
 * lookups, anonymous data statics between symbols, the type-area copy, stack objects per
 * function (one record array, one mask pool, a sorted function index), and the SYMTAB section
 * encoding (formats/SYMTAB.md). */
#include "symtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKINDS 5 /* kinds are 1..4; index 0 unused */
#define NAME_MAX_LEN 65535 /* longer names are cut (SYMTAB.md); Go generic names can be long */

/* A symbol while the table is being built: the name is an offset into the pool, because the
 * pool may move until symtab_finish. */
typedef struct pending_sym {
    uint64_t addr, size;
    size_t name_off;
    int kind;
} pending_sym;

/* A gap in a data/bss section that no symbol covers (an anonymous static). */
typedef struct anon_gap {
    uint64_t addr, size;
    size_t name_off;
    int kind;
} anon_gap;

/* The stack objects of one function: stkobjs[first .. first + count). */
typedef struct stk_func {
    uint64_t entry;
    size_t first, count;
} stk_func;

struct symtab {
    symtab_info info;
    char *pool;
    size_t pool_len, pool_cap;
    pending_sym *pending;
    size_t npending, pending_cap;
    /* After finish: all symbols sorted by (kind, addr); kind k occupies
     * syms[kstart[k] .. kstart[k] + kcount[k]). */
    symtab_sym *syms;
    size_t nsyms;
    size_t kstart[NKINDS], kcount[NKINDS];
    anon_gap *gaps; /* sorted by addr, disjoint */
    size_t ngaps;
    uint8_t *types;
    uint64_t types_base;
    size_t types_len;
    /* Stack objects: records in the order added; their masks in one pool (stkmask_off[i] is
     * record i's mask offset until symtab_finish points .mask into the pool); stkfuncs sorted
     * by entry after finish. */
    symtab_stkobj *stkobjs;
    size_t nstkobjs, stkobjs_cap;
    size_t *stkmask_off, stkmask_off_cap;
    uint8_t *stkmasks;
    size_t stkmasks_len, stkmasks_cap;
    stk_func *stkfuncs;
    size_t nstkfuncs, stkfuncs_cap;
    int finished;
};

symtab *symtab_new(void)
{
    symtab *t = calloc(1, sizeof *t);
    if (t)
        t->info.ptr_size = 8;
    return t;
}

void symtab_free(symtab *t)
{
    if (!t)
        return;
    free(t->pool);
    free(t->pending);
    free(t->syms);
    free(t->gaps);
    free(t->types);
    free(t->stkobjs);
    free(t->stkmask_off);
    free(t->stkmasks);
    free(t->stkfuncs);
    free(t);
}

const symtab_info *symtab_get_info(const symtab *t)
{
    return &t->info;
}

symtab_info *symtab_info_mut(symtab *t)
{
    return &t->info;
}

/* Appends len bytes plus a NUL to the pool; returns the offset or (size_t)-1 when out of
 * memory. */
static size_t pool_put(symtab *t, const char *s, size_t len)
{
    if (len > SIZE_MAX / 2 - t->pool_len - 1)
        return (size_t)-1;
    size_t need = t->pool_len + len + 1;
    if (need > t->pool_cap) {
        size_t cap = t->pool_cap ? t->pool_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *p = realloc(t->pool, cap);
        if (!p)
            return (size_t)-1;
        t->pool = p;
        t->pool_cap = cap;
    }
    size_t off = t->pool_len;
    if (len)
        memcpy(t->pool + off, s, len);
    t->pool[off + len] = '\0';
    t->pool_len = need;
    return off;
}

int symtab_add(symtab *t, int kind, uint64_t addr, uint64_t size, const char *name,
               size_t namelen, hs_error *err)
{
    if (!t || kind < SYMTAB_FUNC || kind > SYMTAB_RODATA || (!name && namelen))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_add: bad argument");
    if (t->finished)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_add after symtab_finish");
    if (t->npending == t->pending_cap) {
        size_t cap = t->pending_cap ? t->pending_cap * 2 : 1024;
        if (cap > SIZE_MAX / sizeof(pending_sym))
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "too many symbols");
        pending_sym *p = realloc(t->pending, cap * sizeof *p);
        if (!p)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symbol table");
        t->pending = p;
        t->pending_cap = cap;
    }
    /* Names stop at an embedded NUL: that is what every reader will see. */
    const char *nul = namelen ? memchr(name, '\0', namelen) : NULL;
    if (nul)
        namelen = (size_t)(nul - name);
    if (namelen > NAME_MAX_LEN)
        namelen = NAME_MAX_LEN;
    size_t off = pool_put(t, name, namelen);
    if (off == (size_t)-1)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symbol names");
    pending_sym *s = &t->pending[t->npending++];
    s->addr = addr;
    s->size = size;
    s->name_off = off;
    s->kind = kind;
    return HS_OK;
}

/* The array p (capacity *cap elements of `elem` bytes) with room for `need` elements, the
 * capacity doubling from `first`. When out of memory or the size overflows, returns p
 * unchanged and sets *fail. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem, size_t first, int *fail)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : first;
    while (c < need && c <= SIZE_MAX / 2)
        c *= 2;
    void *q = c >= need && c <= SIZE_MAX / elem ? realloc(p, c * elem) : NULL;
    if (!q) {
        *fail = 1;
        return p;
    }
    *cap = c;
    return q;
}

static size_t mask_bytes(uint32_t ptr_words)
{
    return ((size_t)ptr_words + 7) / 8;
}

int symtab_add_stack_objects(symtab *t, uint64_t entry, const symtab_stkobj *objs, size_t n,
                             hs_error *err)
{
    if (!t || (!objs && n))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_add_stack_objects: bad "
                            "argument");
    if (t->finished)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "symtab_add_stack_objects after symtab_finish");
    if (n == 0)
        return HS_OK;
    if (n > SYMTAB_STKOBJ_MAX_PER_FUNC)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "function at 0x%llx: %zu stack "
                            "objects (limit %u)", (unsigned long long)entry, n,
                            SYMTAB_STKOBJ_MAX_PER_FUNC);
    if (n > SYMTAB_STKOBJ_MAX - t->nstkobjs)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "more than %u stack objects",
                            SYMTAB_STKOBJ_MAX);
    size_t masks = 0;
    for (size_t i = 0; i < n; i++) {
        const symtab_stkobj *o = &objs[i];
        if (o->ptr_words && !o->mask)
            return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "stack object %zu: no mask", i);
        if ((uint64_t)o->ptr_words * t->info.ptr_size > o->size)
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "function at 0x%llx: stack "
                                "object %zu: %u pointer words in %u bytes",
                                (unsigned long long)entry, i, o->ptr_words, o->size);
        masks += mask_bytes(o->ptr_words);
    }
    if (masks > SYMTAB_STKOBJ_MAX_MASK_BYTES - t->stkmasks_len)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "more than %u bytes of stack "
                            "object masks", SYMTAB_STKOBJ_MAX_MASK_BYTES);
    int fail = 0;
    t->stkobjs = grow(t->stkobjs, &t->stkobjs_cap, t->nstkobjs + n, sizeof *t->stkobjs, 64,
                      &fail);
    t->stkmask_off = grow(t->stkmask_off, &t->stkmask_off_cap, t->nstkobjs + n,
                          sizeof *t->stkmask_off, 64, &fail);
    t->stkmasks = grow(t->stkmasks, &t->stkmasks_cap, t->stkmasks_len + masks, 1, 256, &fail);
    t->stkfuncs = grow(t->stkfuncs, &t->stkfuncs_cap, t->nstkfuncs + 1, sizeof *t->stkfuncs,
                       64, &fail);
    if (fail)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "stack objects");
    stk_func *f = &t->stkfuncs[t->nstkfuncs++];
    f->entry = entry;
    f->first = t->nstkobjs;
    f->count = n;
    for (size_t i = 0; i < n; i++) {
        symtab_stkobj *o = &t->stkobjs[t->nstkobjs];
        *o = objs[i];
        o->mask = NULL;
        t->stkmask_off[t->nstkobjs++] = t->stkmasks_len;
        size_t nb = mask_bytes(objs[i].ptr_words);
        if (nb) {
            uint8_t *m = t->stkmasks + t->stkmasks_len;
            memcpy(m, objs[i].mask, nb);
            if (objs[i].ptr_words % 8)
                m[nb - 1] &= (uint8_t)((1u << (objs[i].ptr_words % 8)) - 1);
            t->stkmasks_len += nb;
        }
    }
    return HS_OK;
}

static int stkfunc_cmp(const void *a, const void *b)
{
    const stk_func *x = a, *y = b;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Sorts the function index (the first one added wins for an entry) and points the records'
 * masks into the pool, which no longer moves. */
static void finish_stack_objects(symtab *t)
{
    static const uint8_t no_mask[1];
    if (t->nstkfuncs > 1)
        qsort(t->stkfuncs, t->nstkfuncs, sizeof *t->stkfuncs, stkfunc_cmp);
    size_t n = 0;
    for (size_t i = 0; i < t->nstkfuncs; i++) {
        if (n > 0 && t->stkfuncs[n - 1].entry == t->stkfuncs[i].entry)
            continue;
        t->stkfuncs[n++] = t->stkfuncs[i];
    }
    t->nstkfuncs = n;
    for (size_t i = 0; i < t->nstkobjs; i++)
        t->stkobjs[i].mask = t->stkobjs[i].ptr_words ? t->stkmasks + t->stkmask_off[i] : no_mask;
    free(t->stkmask_off);
    t->stkmask_off = NULL;
    if (n)
        t->info.stack_objects = 1;
}

size_t symtab_stack_object_funcs(const symtab *t)
{
    return t && t->finished ? t->nstkfuncs : 0;
}

const symtab_stkobj *symtab_stack_objects_at(const symtab *t, size_t i, uint64_t *entry,
                                             size_t *n)
{
    if (n)
        *n = 0;
    if (i >= symtab_stack_object_funcs(t))
        return NULL;
    const stk_func *f = &t->stkfuncs[i];
    if (entry)
        *entry = f->entry;
    if (n)
        *n = f->count;
    return &t->stkobjs[f->first];
}

const symtab_stkobj *symtab_stack_objects(const symtab *t, uint64_t entry, size_t *n)
{
    if (n)
        *n = 0;
    if (!t || !t->finished)
        return NULL;
    size_t lo = 0, hi = t->nstkfuncs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->stkfuncs[mid].entry < entry)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->nstkfuncs || t->stkfuncs[lo].entry != entry)
        return NULL;
    return symtab_stack_objects_at(t, lo, NULL, n);
}

/* Order: kind, address, larger size first (so a sized symbol wins over a marker), name. */
static int pending_cmp(const void *a, const void *b, void *pool)
{
    const pending_sym *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp((const char *)pool + x->name_off, (const char *)pool + y->name_off);
}

static int gap_cmp(const void *a, const void *b)
{
    const anon_gap *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr ? 1 : 0;
}

/* Index of the first symbol of kind k with addr > a (within the kind's slice). */
static size_t upper_bound(const symtab *t, int k, uint64_t a)
{
    const symtab_sym *s = t->syms + t->kstart[k];
    size_t lo = 0, hi = t->kcount[k];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds the gaps of one section [start, end) not covered by symbols of kind k. */
static int add_gaps(symtab *t, const char *secname, symtab_range r, int k, size_t *cap,
                    hs_error *err)
{
    if (r.end <= r.start)
        return HS_OK;
    const symtab_sym *s = t->syms + t->kstart[k];
    size_t n = t->kcount[k];
    /* first symbol that may end after r.start: start from the last one beginning <= start */
    size_t i = upper_bound(t, k, r.start);
    if (i > 0)
        i--;
    uint64_t cur = r.start;
    for (;; i++) {
        uint64_t next = r.end;
        if (i < n && s[i].addr < r.end)
            next = s[i].addr > cur ? s[i].addr : cur;
        if (next > cur) {
            if (t->ngaps == *cap) {
                size_t nc = *cap ? *cap * 2 : 256;
                anon_gap *g = realloc(t->gaps, nc * sizeof *g);
                if (!g)
                    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "anonymous statics");
                t->gaps = g;
                *cap = nc;
            }
            char name[64];
            int len = snprintf(name, sizeof name, "%s.anon+0x%llx", secname,
                               (unsigned long long)(cur - r.start));
            size_t off = pool_put(t, name, (size_t)len);
            if (off == (size_t)-1)
                return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "anonymous statics");
            anon_gap *g = &t->gaps[t->ngaps++];
            g->addr = cur;
            g->size = next - cur;
            g->name_off = off;
            g->kind = k;
        }
        if (i >= n || s[i].addr >= r.end)
            break;
        uint64_t e = s[i].addr + s[i].size;
        if (e < s[i].addr || e > r.end)
            e = r.end; /* clamp overflowing or section-crossing symbols */
        if (e > cur)
            cur = e;
    }
    return HS_OK;
}

/* 1 for "runtime.AddCleanup" and its instantiations "runtime.AddCleanup[...]" (the compiler
 * names them after the shapes, "runtime.AddCleanup[go.shape.struct {...},go.shape.int]"), not
 * for the closures inside them ("...].func1"). */
static int is_addcleanup(const char *name)
{
    static const char fn[] = "runtime.AddCleanup";
    if (strncmp(name, fn, sizeof fn - 1) != 0)
        return 0;
    const char *p = name + sizeof fn - 1;
    if (*p == '\0')
        return 1;
    if (*p != '[')
        return 0;
    size_t depth = 0;
    for (; *p; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']' && --depth == 0)
            return p[1] == '\0';
    }
    return 0;
}

int symtab_finish(symtab *t, hs_error *err)
{
    if (!t)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_finish: NULL table");
    if (t->finished)
        return HS_OK;
    if (t->npending > 1)
        qsort_r(t->pending, t->npending, sizeof *t->pending, pending_cmp, t->pool);
    /* drop exact duplicates of (kind, addr): the first (largest) one stays */
    size_t n = 0;
    for (size_t i = 0; i < t->npending; i++) {
        if (n > 0 && t->pending[n - 1].kind == t->pending[i].kind &&
            t->pending[n - 1].addr == t->pending[i].addr)
            continue;
        t->pending[n++] = t->pending[i];
    }
    t->syms = calloc(n ? n : 1, sizeof *t->syms);
    if (!t->syms)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symbol table");
    memset(t->kstart, 0, sizeof t->kstart);
    memset(t->kcount, 0, sizeof t->kcount);
    for (size_t i = 0; i < n; i++) {
        const pending_sym *p = &t->pending[i];
        if (t->kcount[p->kind] == 0)
            t->kstart[p->kind] = i;
        t->kcount[p->kind]++;
        t->syms[i].addr = p->addr;
        t->syms[i].size = p->size;
        t->syms[i].kind = p->kind;
        t->syms[i].anonymous = 0;
    }
    t->nsyms = n;
    /* anonymous statics: every stretch of a data/bss section no symbol covers */
    size_t cap = 0;
    int rc;
    if ((rc = add_gaps(t, "noptrdata", t->info.noptrdata, SYMTAB_DATA, &cap, err)) < 0 ||
        (rc = add_gaps(t, "data", t->info.data, SYMTAB_DATA, &cap, err)) < 0 ||
        (rc = add_gaps(t, "bss", t->info.bss, SYMTAB_BSS, &cap, err)) < 0 ||
        (rc = add_gaps(t, "noptrbss", t->info.noptrbss, SYMTAB_BSS, &cap, err)) < 0)
        return rc;
    if (t->ngaps > 1)
        qsort(t->gaps, t->ngaps, sizeof *t->gaps, gap_cmp);
    /* the pool no longer moves: resolve names */
    for (size_t i = 0; i < n; i++) {
        t->syms[i].name = t->pool + t->pending[i].name_off;
        if (t->syms[i].kind == SYMTAB_FUNC && is_addcleanup(t->syms[i].name))
            t->info.addcleanup = 1;
    }
    free(t->pending);
    t->pending = NULL;
    t->npending = t->pending_cap = 0;
    finish_stack_objects(t);
    t->finished = 1;
    return HS_OK;
}

size_t symtab_count(const symtab *t, int kind)
{
    if (!t || !t->finished || kind < SYMTAB_FUNC || kind > SYMTAB_RODATA)
        return 0;
    return t->kcount[kind];
}

const symtab_sym *symtab_get(const symtab *t, int kind, size_t i)
{
    if (i >= symtab_count(t, kind))
        return NULL;
    return &t->syms[t->kstart[kind] + i];
}

const symtab_sym *symtab_func_at(const symtab *t, uint64_t pc)
{
    if (!t || !t->finished)
        return NULL;
    size_t i = upper_bound(t, SYMTAB_FUNC, pc);
    if (i == 0)
        return NULL;
    const symtab_sym *base = t->syms + t->kstart[SYMTAB_FUNC];
    const symtab_sym *s = &base[i - 1];
    if (s->size > 0)
        return pc - s->addr < s->size ? s : NULL;
    /* size unknown: up to the next function, or to the end of .text for the last one */
    if (i < t->kcount[SYMTAB_FUNC])
        return s;
    if (t->info.text.end > s->addr)
        return pc < t->info.text.end ? s : NULL;
    return pc == s->addr ? s : NULL;
}

const symtab_sym *symtab_func_entry(const symtab *t, uint64_t pc)
{
    if (!t || !t->finished)
        return NULL;
    size_t i = upper_bound(t, SYMTAB_FUNC, pc);
    if (i == 0)
        return NULL;
    const symtab_sym *s = &t->syms[t->kstart[SYMTAB_FUNC] + i - 1];
    return s->addr == pc ? s : NULL;
}

static const symtab_sym *covering(const symtab *t, int k, uint64_t addr)
{
    size_t i = upper_bound(t, k, addr);
    if (i == 0)
        return NULL;
    const symtab_sym *s = &t->syms[t->kstart[k] + i - 1];
    return addr - s->addr < s->size ? s : NULL;
}

const symtab_sym *symtab_data_at(const symtab *t, uint64_t addr, symtab_sym *anon)
{
    if (!t || !t->finished)
        return NULL;
    const symtab_sym *s;
    if ((s = covering(t, SYMTAB_DATA, addr)) || (s = covering(t, SYMTAB_BSS, addr)) ||
        (s = covering(t, SYMTAB_RODATA, addr)))
        return s;
    if (!anon)
        return NULL;
    size_t lo = 0, hi = t->ngaps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->gaps[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const anon_gap *g = &t->gaps[lo - 1];
    if (addr - g->addr >= g->size)
        return NULL;
    anon->addr = g->addr;
    anon->size = g->size;
    anon->name = t->pool + g->name_off;
    anon->kind = g->kind;
    anon->anonymous = 1;
    return anon;
}

int symtab_set_types(symtab *t, uint64_t base, const uint8_t *bytes, size_t len, hs_error *err)
{
    if (!t || (!bytes && len))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_set_types: bad argument");
    if (len && base + len < base)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "type area wraps the address space");
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "type area (%zu bytes)", len);
        memcpy(copy, bytes, len);
    }
    free(t->types);
    t->types = copy;
    t->types_base = len ? base : 0;
    t->types_len = len;
    return HS_OK;
}

const uint8_t *symtab_types(const symtab *t, uint64_t *base, size_t *len)
{
    if (base)
        *base = t && t->types ? t->types_base : 0;
    if (len)
        *len = t && t->types ? t->types_len : 0;
    return t ? t->types : NULL;
}

/* ---- SYMTAB section encoding (formats/SYMTAB.md) ---- */

#define SYMTAB_MAGIC "HSSYMTAB"
#define SYMTAB_FORMAT_VERSION 3u /* the version written; 1 and 2 are read too */
#define SYMTAB_FLAG_STRIPPED 1u
#define SYMTAB_FLAG_ADDCLEANUP 2u /* version 2 and later */
#define SYMTAB_FLAG_STKOBJ 4u     /* version 3 and later: stack objects known */
#define ENC_BUF 65536

typedef struct encoder {
    hs_writer out;
    uint8_t buf[ENC_BUF];
    size_t len;
    int rc;
} encoder;

static void enc_flush(encoder *e)
{
    if (e->rc == HS_OK && e->len) {
        e->rc = e->out.write(e->out.ctx, e->buf, e->len);
        if (e->rc > 0)
            e->rc = HS_OK;
    }
    e->len = 0;
}

static void enc_bytes(encoder *e, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0 && e->rc == HS_OK) {
        if (e->len == ENC_BUF)
            enc_flush(e);
        size_t k = ENC_BUF - e->len;
        if (k > n)
            k = n;
        memcpy(e->buf + e->len, b, k);
        e->len += k;
        b += k;
        n -= k;
    }
}

static void enc_uvarint(encoder *e, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    enc_bytes(e, b, n);
}

static void enc_str(encoder *e, const char *s)
{
    size_t n = strlen(s);
    enc_uvarint(e, n);
    enc_bytes(e, s, n);
}

static void enc_range(encoder *e, symtab_range r)
{
    uint64_t len = r.end >= r.start ? r.end - r.start : 0;
    enc_uvarint(e, r.start);
    enc_uvarint(e, len);
}

int symtab_encode(const symtab *t, hs_writer out, hs_error *err)
{
    if (!t || !out.write)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_encode: bad argument");
    if (!t->finished)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "symtab_encode: call symtab_finish first");
    encoder *e = malloc(sizeof *e);
    if (!e)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symtab encoder");
    e->out = out;
    e->len = 0;
    e->rc = HS_OK;
    const symtab_info *in = &t->info;
    enc_bytes(e, SYMTAB_MAGIC, 8);
    enc_uvarint(e, SYMTAB_FORMAT_VERSION);
    enc_uvarint(e, (in->stripped ? SYMTAB_FLAG_STRIPPED : 0) |
                       (in->addcleanup ? SYMTAB_FLAG_ADDCLEANUP : 0) |
                       (in->stack_objects ? SYMTAB_FLAG_STKOBJ : 0));
    enc_str(e, in->go_version);
    enc_str(e, in->build_id);
    enc_str(e, in->goarch);
    enc_uvarint(e, in->ptr_size);
    enc_range(e, in->text);
    enc_range(e, in->rodata);
    enc_range(e, in->data);
    enc_range(e, in->noptrdata);
    enc_range(e, in->bss);
    enc_range(e, in->noptrbss);
    enc_range(e, in->types);
    for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
        enc_uvarint(e, t->kcount[k]);
        uint64_t prev = 0;
        for (size_t i = 0; i < t->kcount[k]; i++) {
            const symtab_sym *s = &t->syms[t->kstart[k] + i];
            enc_uvarint(e, s->addr - prev);
            prev = s->addr;
            enc_uvarint(e, s->size);
            enc_str(e, s->name);
        }
    }
    enc_uvarint(e, t->types ? t->types_base : 0);
    enc_uvarint(e, t->types ? t->types_len : 0);
    if (t->types)
        enc_bytes(e, t->types, t->types_len);
    /* version 3: stack objects per function, by increasing entry */
    enc_uvarint(e, t->nstkfuncs);
    uint64_t prev = 0;
    for (size_t i = 0; i < t->nstkfuncs; i++) {
        const stk_func *f = &t->stkfuncs[i];
        enc_uvarint(e, f->entry - prev);
        prev = f->entry;
        enc_uvarint(e, f->count);
        for (size_t j = 0; j < f->count; j++) {
            const symtab_stkobj *o = &t->stkobjs[f->first + j];
            /* zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ... */
            uint64_t z = o->off < 0 ? (uint64_t)(-(int64_t)o->off) * 2 - 1 : (uint64_t)o->off * 2;
            enc_uvarint(e, z);
            enc_uvarint(e, o->size);
            enc_uvarint(e, o->ptr_words);
            enc_bytes(e, o->mask, mask_bytes(o->ptr_words));
        }
    }
    enc_bytes(e, "END!", 4);
    enc_flush(e);
    int rc = e->rc;
    free(e);
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "writing the symbol table: %s",
                            hs_strerror(rc));
    return HS_OK;
}

typedef struct decoder {
    const uint8_t *p;
    size_t size, pos;
    hs_error *err;
} decoder;

static int dec_uvarint(decoder *d, uint64_t *v, const char *what)
{
    uint64_t x = 0;
    size_t start = d->pos;
    for (unsigned shift = 0;; shift += 7) {
        if (d->pos >= d->size)
            return hs_error_set(d->err, HS_ERR_TRUNCATED, start, "symtab: %s: varint cut short",
                                what);
        uint8_t b = d->p[d->pos++];
        if (shift == 63 && b > 1)
            return hs_error_set(d->err, HS_ERR_FORMAT, start, "symtab: %s: varint overflows",
                                what);
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        if (shift == 63)
            return hs_error_set(d->err, HS_ERR_FORMAT, start, "symtab: %s: varint too long",
                                what);
    }
    *v = x;
    return HS_OK;
}

/* A length-prefixed string: *s points into the input, *len <= max. */
static int dec_str(decoder *d, const char **s, size_t *len, size_t max, const char *what)
{
    size_t start = d->pos;
    uint64_t n;
    int rc = dec_uvarint(d, &n, what);
    if (rc < 0)
        return rc;
    if (n > max)
        return hs_error_set(d->err, HS_ERR_FORMAT, start,
                            "symtab: %s: length %llu exceeds %zu", what,
                            (unsigned long long)n, max);
    if (n > d->size - d->pos)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos,
                            "symtab: %s: %llu bytes announced, %zu left", what,
                            (unsigned long long)n, d->size - d->pos);
    *s = (const char *)d->p + d->pos;
    *len = (size_t)n;
    if (memchr(*s, '\0', *len))
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "symtab: %s: NUL inside string",
                            what);
    d->pos += (size_t)n;
    return HS_OK;
}

static int dec_fixed_str(decoder *d, char *dst, size_t cap, const char *what)
{
    const char *s;
    size_t n;
    int rc = dec_str(d, &s, &n, cap - 1, what);
    if (rc < 0)
        return rc;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return HS_OK;
}

static int dec_range(decoder *d, symtab_range *r, const char *what)
{
    size_t start = d->pos;
    uint64_t a, n;
    int rc;
    if ((rc = dec_uvarint(d, &a, what)) < 0 || (rc = dec_uvarint(d, &n, what)) < 0)
        return rc;
    if (a + n < a)
        return hs_error_set(d->err, HS_ERR_FORMAT, start, "symtab: %s: range wraps", what);
    r->start = a;
    r->end = a + n;
    return HS_OK;
}

/* Version 3's stack objects (SYMTAB.md): functions by increasing entry, each with its records.
 * Every function takes at least 5 bytes and every record 3, which bounds the counts by the
 * input; masks are copied from the input. */
static int decode_stack_objects(symtab *t, decoder *d)
{
    int rc;
    size_t at = d->pos;
    uint64_t nf;
    if ((rc = dec_uvarint(d, &nf, "stack object functions")) < 0)
        return rc;
    if (nf > (d->size - d->pos) / 5)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: %llu functions with stack "
                            "objects cannot fit in %zu bytes", (unsigned long long)nf,
                            d->size - d->pos);
    if (nf && !t->info.stack_objects)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: stack objects without the "
                            "flag that says they are known");
    symtab_stkobj *objs = NULL;
    size_t cap = 0;
    uint64_t entry = 0;
    unsigned P = t->info.ptr_size;
    for (uint64_t i = 0; i < nf; i++) {
        uint64_t delta, count;
        size_t fat = d->pos;
        if ((rc = dec_uvarint(d, &delta, "stack object function entry")) < 0)
            goto out;
        if (entry + delta < entry || (i > 0 && delta == 0)) {
            rc = hs_error_set(d->err, HS_ERR_FORMAT, fat, "symtab: stack object function "
                              "entry 0x%llx + %llu: %s", (unsigned long long)entry,
                              (unsigned long long)delta, delta ? "wraps" : "repeated");
            goto out;
        }
        entry += delta;
        at = d->pos;
        if ((rc = dec_uvarint(d, &count, "stack object count")) < 0)
            goto out;
        if (count == 0 || count > (d->size - d->pos) / 3) {
            rc = hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: function 0x%llx: %llu stack "
                              "objects in %zu bytes", (unsigned long long)entry,
                              (unsigned long long)count, d->size - d->pos);
            goto out;
        }
        int fail = 0;
        objs = grow(objs, &cap, (size_t)count, sizeof *objs, 16, &fail);
        if (fail) {
            rc = hs_error_set(d->err, HS_ERR_NOMEM, HS_NO_OFFSET, "stack objects");
            goto out;
        }
        for (uint64_t j = 0; j < count; j++) {
            uint64_t z, size, words;
            at = d->pos;
            if ((rc = dec_uvarint(d, &z, "stack object offset")) < 0 ||
                (rc = dec_uvarint(d, &size, "stack object size")) < 0 ||
                (rc = dec_uvarint(d, &words, "stack object pointer words")) < 0)
                goto out;
            if (z > UINT32_MAX || size > UINT32_MAX || words > UINT32_MAX ||
                words * P > size) {
                rc = hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: function 0x%llx: stack "
                                  "object %llu: offset %llu (zigzag), size %llu, %llu pointer "
                                  "words", (unsigned long long)entry, (unsigned long long)j,
                                  (unsigned long long)z, (unsigned long long)size,
                                  (unsigned long long)words);
                goto out;
            }
            size_t nb = mask_bytes((uint32_t)words);
            if (nb > d->size - d->pos) {
                rc = hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos, "symtab: stack object mask "
                                  "of %zu bytes, %zu left", nb, d->size - d->pos);
                goto out;
            }
            const uint8_t *m = d->p + d->pos;
            if (words % 8 && (m[nb - 1] >> (words % 8))) {
                rc = hs_error_set(d->err, HS_ERR_FORMAT, d->pos + nb - 1, "symtab: stack object "
                                  "mask has bits past its %llu words", (unsigned long long)words);
                goto out;
            }
            d->pos += nb;
            symtab_stkobj *o = &objs[j];
            o->off = (int32_t)(z & 1 ? -(int64_t)((z + 1) / 2) : (int64_t)(z / 2));
            o->size = (uint32_t)size;
            o->ptr_words = (uint32_t)words;
            o->mask = m;
        }
        if ((rc = symtab_add_stack_objects(t, entry, objs, (size_t)count, d->err)) < 0) {
            if (d->err && d->err->offset == HS_NO_OFFSET)
                d->err->offset = fat;
            goto out;
        }
    }
    rc = HS_OK;
out:
    free(objs);
    return rc;
}

static int decode_body(symtab *t, decoder *d)
{
    int rc;
    uint64_t v;
    if (d->size < 8)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, 0, "symtab: %zu bytes, shorter than the "
                            "magic", d->size);
    if (memcmp(d->p, SYMTAB_MAGIC, 8) != 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, 0, "symtab: bad magic");
    d->pos = 8;
    size_t at = d->pos;
    if ((rc = dec_uvarint(d, &v, "version")) < 0)
        return rc;
    if (v < 1 || v > SYMTAB_FORMAT_VERSION)
        return hs_error_set(d->err, HS_ERR_UNSUPPORTED, at, "symtab: format version %llu "
                            "(this reader knows 1 to %u)", (unsigned long long)v,
                            SYMTAB_FORMAT_VERSION);
    unsigned version = (unsigned)v;
    uint64_t known = SYMTAB_FLAG_STRIPPED | (version >= 2 ? SYMTAB_FLAG_ADDCLEANUP : 0) |
                     (version >= 3 ? SYMTAB_FLAG_STKOBJ : 0);
    at = d->pos;
    if ((rc = dec_uvarint(d, &v, "flags")) < 0)
        return rc;
    if (v & ~known)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: unknown flags 0x%llx",
                            (unsigned long long)v);
    symtab_info *in = &t->info;
    in->stripped = (v & SYMTAB_FLAG_STRIPPED) != 0;
    in->addcleanup = (v & SYMTAB_FLAG_ADDCLEANUP) != 0; /* version 1: from the names */
    in->stack_objects = (v & SYMTAB_FLAG_STKOBJ) != 0;  /* before version 3: unknown */
    if ((rc = dec_fixed_str(d, in->go_version, sizeof in->go_version, "go version")) < 0 ||
        (rc = dec_fixed_str(d, in->build_id, sizeof in->build_id, "build id")) < 0 ||
        (rc = dec_fixed_str(d, in->goarch, sizeof in->goarch, "goarch")) < 0)
        return rc;
    at = d->pos;
    if ((rc = dec_uvarint(d, &v, "pointer size")) < 0)
        return rc;
    if (v != 4 && v != 8)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: pointer size %llu",
                            (unsigned long long)v);
    in->ptr_size = (unsigned)v;
    if ((rc = dec_range(d, &in->text, "text range")) < 0 ||
        (rc = dec_range(d, &in->rodata, "rodata range")) < 0 ||
        (rc = dec_range(d, &in->data, "data range")) < 0 ||
        (rc = dec_range(d, &in->noptrdata, "noptrdata range")) < 0 ||
        (rc = dec_range(d, &in->bss, "bss range")) < 0 ||
        (rc = dec_range(d, &in->noptrbss, "noptrbss range")) < 0 ||
        (rc = dec_range(d, &in->types, "types range")) < 0)
        return rc;
    for (int k = SYMTAB_FUNC; k <= SYMTAB_RODATA; k++) {
        at = d->pos;
        uint64_t count;
        if ((rc = dec_uvarint(d, &count, "symbol count")) < 0)
            return rc;
        /* each symbol takes at least 3 bytes: bounds the allocation by the input size */
        if (count > (d->size - d->pos) / 3)
            return hs_error_set(d->err, HS_ERR_FORMAT, at,
                                "symtab: %llu symbols of kind %d cannot fit in %zu bytes",
                                (unsigned long long)count, k, d->size - d->pos);
        uint64_t addr = 0;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t delta, size;
            const char *name;
            size_t namelen;
            at = d->pos;
            if ((rc = dec_uvarint(d, &delta, "symbol address")) < 0 ||
                (rc = dec_uvarint(d, &size, "symbol size")) < 0 ||
                (rc = dec_str(d, &name, &namelen, NAME_MAX_LEN, "symbol name")) < 0)
                return rc;
            if (addr + delta < addr)
                return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: symbol address wraps");
            if (i > 0 && delta == 0)
                return hs_error_set(d->err, HS_ERR_FORMAT, at,
                                    "symtab: duplicate symbol address 0x%llx",
                                    (unsigned long long)addr);
            addr += delta;
            if ((rc = symtab_add(t, k, addr, size, name, namelen, d->err)) < 0)
                return rc;
        }
    }
    uint64_t tbase, tlen;
    at = d->pos;
    if ((rc = dec_uvarint(d, &tbase, "type area base")) < 0 ||
        (rc = dec_uvarint(d, &tlen, "type area length")) < 0)
        return rc;
    if (tlen > d->size - d->pos)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos,
                            "symtab: type area of %llu bytes, %zu left",
                            (unsigned long long)tlen, d->size - d->pos);
    if (tlen && tbase + tlen < tbase)
        return hs_error_set(d->err, HS_ERR_FORMAT, at, "symtab: type area wraps");
    if ((rc = symtab_set_types(t, tbase, d->p + d->pos, (size_t)tlen, d->err)) < 0)
        return rc;
    d->pos += (size_t)tlen;
    if (version >= 3 && (rc = decode_stack_objects(t, d)) < 0)
        return rc;
    if (d->size - d->pos < 4)
        return hs_error_set(d->err, HS_ERR_TRUNCATED, d->pos, "symtab: end marker missing");
    if (memcmp(d->p + d->pos, "END!", 4) != 0)
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos, "symtab: bad end marker");
    d->pos += 4;
    if (d->pos != d->size)
        return hs_error_set(d->err, HS_ERR_FORMAT, d->pos,
                            "symtab: %zu trailing bytes after the end marker",
                            d->size - d->pos);
    return symtab_finish(t, d->err);
}

int symtab_decode(symtab **out, const uint8_t *data, size_t size, hs_error *err)
{
    if (!out || (!data && size))
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_decode: bad argument");
    *out = NULL;
    symtab *t = symtab_new();
    if (!t)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "symbol table");
    decoder d = {data, size, 0, err};
    int rc = decode_body(t, &d);
    if (rc < 0) {
        symtab_free(t);
        return rc;
    }
    *out = t;
    return HS_OK;
}

/* Reads 1-9 decimal digits at *p into *v and advances *p; -1 when there are none or more. */
static int parse_num(const char **p, int *v)
{
    int n = 0, digits = 0;
    while (**p >= '0' && **p <= '9') {
        if (++digits > 9)
            return -1;
        n = n * 10 + (*(*p)++ - '0');
    }
    *v = n;
    return digits ? 0 : -1;
}

int symtab_go_version_parse(const char *text, symtab_go_version *out, hs_error *err)
{
    if (!text || !out)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "symtab_go_version_parse: bad "
                            "argument");
    memset(out, 0, sizeof *out);
    const char *p = text;
    if (!strncmp(p, "devel ", 6)) {
        out->devel = 1;
        p += 6;
    }
    /* the first "go<digit>" that starts a word */
    for (; *p; p++)
        if ((p == text || p[-1] == ' ') && p[0] == 'g' && p[1] == 'o' && p[2] >= '0' &&
            p[2] <= '9')
            break;
    if (!*p)
        return hs_error_set(err, HS_ERR_FORMAT, 0, "Go version \"%.40s\": no goN.N in it",
                            text);
    p += 2;
    if (parse_num(&p, &out->major) < 0)
        return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)(p - text),
                            "Go version \"%.40s\": bad major version", text);
    if (*p == '.') {
        p++;
        if (parse_num(&p, &out->minor) < 0)
            return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)(p - text),
                                "Go version \"%.40s\": bad minor version", text);
        if (*p == '.') {
            p++;
            if (parse_num(&p, &out->patch) < 0)
                return hs_error_set(err, HS_ERR_FORMAT, (uint64_t)(p - text),
                                    "Go version \"%.40s\": bad patch version", text);
        }
    }
    /* go1.21rc2, go1.18beta1, and before Go 1.21 also go1.9.2rc2 */
    out->prerelease = !strncmp(p, "rc", 2) || !strncmp(p, "beta", 4);
    return HS_OK;
}

int symtab_go_minor(const char *version)
{
    symtab_go_version v;
    if (symtab_go_version_parse(version, &v, NULL) < 0 || v.major != 1)
        return -1;
    return v.minor;
}
