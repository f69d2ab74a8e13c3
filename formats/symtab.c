/* symtab.c - symbols of a Go binary as flat sorted arrays with one string pool, binary-search
 * lookups, anonymous data statics between symbols, the type-area copy, stack objects per
 * function (one record array, one mask pool, a sorted function index), and Go version parsing.
 * The SYMTAB section encoding (formats/SYMTAB.md) is in symtab_codec.c. */
#include "symtab_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_search.h"

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
    int fail = 0;
    t->pool = hs_grow(t->pool, &t->pool_cap, need, 1, 4096, &fail);
    if (fail)
        return (size_t)-1;
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
        masks += symtab_mask_bytes(o->ptr_words);
    }
    if (masks > SYMTAB_STKOBJ_MAX_MASK_BYTES - t->stkmasks_len)
        return hs_error_set(err, HS_ERR_LIMIT, HS_NO_OFFSET, "more than %u bytes of stack "
                            "object masks", SYMTAB_STKOBJ_MAX_MASK_BYTES);
    int fail = 0;
    t->stkobjs = hs_grow(t->stkobjs, &t->stkobjs_cap, t->nstkobjs + n, sizeof *t->stkobjs,
                         64, &fail);
    t->stkmask_off = hs_grow(t->stkmask_off, &t->stkmask_off_cap, t->nstkobjs + n,
                             sizeof *t->stkmask_off, 64, &fail);
    t->stkmasks = hs_grow(t->stkmasks, &t->stkmasks_cap, t->stkmasks_len + masks, 1, 256, &fail);
    t->stkfuncs = hs_grow(t->stkfuncs, &t->stkfuncs_cap, t->nstkfuncs + 1,
                          sizeof *t->stkfuncs, 64, &fail);
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
        size_t nb = symtab_mask_bytes(objs[i].ptr_words);
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
    size_t lo = hs_lower_bound64(t->stkfuncs, t->nstkfuncs, sizeof *t->stkfuncs,
                                 offsetof(stk_func, entry), entry);
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
    return hs_upper_bound64(t->syms + t->kstart[k], t->kcount[k], sizeof *t->syms,
                            offsetof(symtab_sym, addr), a);
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
            int fail = 0;
            t->gaps = hs_grow(t->gaps, cap, t->ngaps + 1, sizeof *t->gaps, 256, &fail);
            if (fail)
                return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "anonymous statics");
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

/* The last symbol of kind k at or below addr, NULL when there is none; *n is how many of
 * kind k are (its index + 1). */
static const symtab_sym *last_below(const symtab *t, int k, uint64_t addr, size_t *n)
{
    *n = upper_bound(t, k, addr);
    return *n ? &t->syms[t->kstart[k] + *n - 1] : NULL;
}

const symtab_sym *symtab_func_at(const symtab *t, uint64_t pc)
{
    if (!t || !t->finished)
        return NULL;
    size_t i;
    const symtab_sym *s = last_below(t, SYMTAB_FUNC, pc, &i);
    if (!s)
        return NULL;
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
    size_t i;
    const symtab_sym *s = last_below(t, SYMTAB_FUNC, pc, &i);
    return s && s->addr == pc ? s : NULL;
}

static const symtab_sym *covering(const symtab *t, int k, uint64_t addr)
{
    size_t i;
    const symtab_sym *s = last_below(t, k, addr, &i);
    return s && addr - s->addr < s->size ? s : NULL;
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
    size_t lo = hs_upper_bound64(t->gaps, t->ngaps, sizeof *t->gaps, offsetof(anon_gap, addr),
                                 addr);
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
