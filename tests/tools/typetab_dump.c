/* typetab-dump - test tool: reads a Go binary's DWARF (godwarf_read) and prints the typetab as
 * JSON on stdout, for the integration tests to compare with what the Go program says of
 * itself. Not part of the heapsift CLI.
 *
 * usage: typetab-dump [--roundtrip] [--check] [--time] [--summary] [--encode FILE] BINARY
 *   --roundtrip  encode and decode the table and print the decoded one (the re-encoding must
 *                be byte-identical)
 *   --check      check every lookup against the records (by id, name, runtime type, global
 *                address, function pc) and every kept pointer mask against typetab_ptr_word
 *   --time       print the time godwarf_read took on stderr ("godwarf_read: N.N ms")
 *   --summary    print only the counts
 *   --encode F   also write the encoded table (typetab_encode) to F (fuzz seeds)
 * Exit status: 0 done, 1 a --roundtrip or --check mismatch, 2 error, 3 no DWARF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "godwarf.h"
#include "typetab.h"

static int fail(const char *what, const hs_error *err)
{
    char buf[512];
    fprintf(stderr, "typetab-dump: %s: %s\n", what, hs_error_format(err, buf, sizeof buf));
    return 2;
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_ref(FILE *f, const char *key, uint32_t id)
{
    if (id == TYPETAB_NONE)
        fprintf(f, ",\"%s\":null", key);
    else
        fprintf(f, ",\"%s\":%u", key, id);
}

static void dump(const typetab *t, FILE *f)
{
    const typetab_info *in = typetab_get_info(t);
    fprintf(f, "{\"info\":{\"ptr_size\":%u,\"types_base\":%llu,\"go_version\":", in->ptr_size,
            (unsigned long long)in->types_base);
    put_str(f, in->go_version);
    fprintf(f, ",\"regabi\":%s},\n\"types\":[", in->regabi ? "true" : "false");
    for (uint32_t id = 0; id < typetab_type_count(t); id++) {
        const typetab_type *ty = typetab_type_get(t, id);
        fprintf(f, "%s\n{\"id\":%u,\"name\":", id ? "," : "", id);
        put_str(f, ty->name);
        fprintf(f, ",\"kind\":%u,\"flags\":%u,\"size\":%llu,\"rtype\":%llu,\"len\":%llu,"
                "\"ptr_words\":%llu", ty->kind, ty->flags, (unsigned long long)ty->size,
                (unsigned long long)ty->rtype, (unsigned long long)ty->len,
                (unsigned long long)ty->ptr_words);
        put_ref(f, "elem", ty->elem);
        put_ref(f, "key", ty->key);
        put_ref(f, "hdr", ty->hdr);
        put_ref(f, "bucket", ty->bucket);
        if (ty->ptr_words <= 1024) {
            fputs(",\"mask\":\"", f);
            for (uint64_t w = 0; w < ty->ptr_words; w++)
                fputc(typetab_ptr_word(t, id, w) ? '1' : '0', f);
            fputc('"', f);
        }
        fputs(",\"fields\":[", f);
        for (uint32_t j = 0; j < ty->nfields; j++) {
            const typetab_field *fl = typetab_field_get(t, ty->first_field + j);
            fputs(j ? ",[" : "[", f);
            put_str(f, fl->name);
            fprintf(f, ",%llu,%u,%u]", (unsigned long long)fl->offset, fl->type, fl->flags);
        }
        fputs("]}", f);
    }
    fputs("],\n\"globals\":[", f);
    for (size_t i = 0; i < typetab_global_count(t); i++) {
        const typetab_global *g = typetab_global_get(t, i);
        fprintf(f, "%s\n{\"name\":", i ? "," : "");
        put_str(f, g->name);
        fprintf(f, ",\"addr\":%llu,\"type\":%u}", (unsigned long long)g->addr, g->type);
    }
    fputs("],\n\"funcs\":[", f);
    for (size_t i = 0; i < typetab_func_count(t); i++) {
        const typetab_func *fn = typetab_func_get(t, i);
        fprintf(f, "%s\n{\"name\":", i ? "," : "");
        put_str(f, fn->name);
        fprintf(f, ",\"low\":%llu,\"high\":%llu,\"vars\":[", (unsigned long long)fn->low,
                (unsigned long long)fn->high);
        size_t n;
        const typetab_var *v = typetab_func_vars(t, fn, &n);
        for (size_t j = 0; j < n; j++) {
            fputs(j ? ",{\"name\":" : "{\"name\":", f);
            put_str(f, v[j].name);
            fprintf(f, ",\"type\":%u,\"flags\":%u,\"cfa_off\":%lld,\"lo\":%llu,\"hi\":%llu,"
                    "\"closure_off\":%llu}", v[j].type, v[j].flags, (long long)v[j].cfa_off,
                    (unsigned long long)v[j].lo, (unsigned long long)v[j].hi,
                    (unsigned long long)v[j].closure_off);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
}

/* Every lookup agrees with the records; returns the number of mismatches. */
static int check(const typetab *t)
{
    int bad = 0;
    for (uint32_t id = 0; id < typetab_type_count(t); id++) {
        const typetab_type *ty = typetab_type_get(t, id), *r = typetab_type_by_rtype(t, ty->rtype);
        const typetab_type *n = typetab_type_by_name(t, ty->name);
        if (ty->id != id || (ty->rtype && (!r || r->rtype != ty->rtype || r->id > id)) ||
            !n || strcmp(n->name, ty->name) != 0 || n->id > id) {
            fprintf(stderr, "typetab-dump: lookups of type %u (%s) disagree\n", id, ty->name);
            bad++;
        }
        const uint8_t *m = typetab_ptr_mask(t, id);
        for (uint64_t w = 0; m && w < ty->ptr_words; w++)
            if ((m[w / 8] >> (w % 8) & 1) != typetab_ptr_word(t, id, w)) {
                fprintf(stderr, "typetab-dump: mask of type %u (%s) word %llu\n", id, ty->name,
                        (unsigned long long)w);
                bad++;
            }
        if (ty->ptr_words && (!typetab_ptr_word(t, id, ty->ptr_words - 1) ||
                              typetab_ptr_word(t, id, ty->ptr_words))) {
            fprintf(stderr, "typetab-dump: type %u (%s): last pointer word is not %llu\n", id,
                    ty->name, (unsigned long long)ty->ptr_words - 1);
            bad++;
        }
    }
    for (size_t i = 0; i < typetab_global_count(t); i++) {
        const typetab_global *g = typetab_global_get(t, i), *at = typetab_global_at(t, g->addr);
        if (!at || at->addr != g->addr) {
            fprintf(stderr, "typetab-dump: global %s at 0x%llx not found by address\n", g->name,
                    (unsigned long long)g->addr);
            bad++;
        }
    }
    for (size_t i = 0; i < typetab_func_count(t); i++) {
        const typetab_func *f = typetab_func_get(t, i);
        if (f->high > f->low && (typetab_func_at(t, f->low) != f ||
                                 typetab_func_at(t, f->high - 1) != f)) {
            fprintf(stderr, "typetab-dump: function %s not found by pc\n", f->name);
            bad++;
        }
    }
    return bad;
}

static int roundtrip(typetab **t, hs_error *err)
{
    hs_mem_sink a = {0}, b = {0};
    typetab *d = NULL;
    int rc = typetab_encode(*t, (hs_writer){hs_mem_write, &a}, err);
    if (rc == HS_OK)
        rc = typetab_decode(a.data, a.len, &d, err);
    if (rc == HS_OK)
        rc = typetab_encode(d, (hs_writer){hs_mem_write, &b}, err);
    if (rc == HS_OK && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)) {
        fprintf(stderr, "typetab-dump: re-encoding differs (%zu and %zu bytes)\n", a.len, b.len);
        rc = 1;
    }
    if (rc == HS_OK)
        fprintf(stderr, "typetab-dump: encoded %zu bytes\n", a.len);
    hs_mem_sink_release(&a);
    hs_mem_sink_release(&b);
    if (d) {
        typetab_free(*t);
        *t = d;
    }
    return rc;
}

static int write_encoded(const typetab *t, const char *path, hs_error *err)
{
    hs_mem_sink s = {0};
    int rc = typetab_encode(t, (hs_writer){hs_mem_write, &s}, err);
    FILE *f = rc == HS_OK ? fopen(path, "wb") : NULL;
    if (rc == HS_OK && (!f || fwrite(s.data, 1, s.len, f) != s.len))
        rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "writing %s", path);
    if (f && fclose(f) != 0 && rc == HS_OK)
        rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "writing %s", path);
    hs_mem_sink_release(&s);
    return rc;
}

int main(int argc, char **argv)
{
    int do_rt = 0, do_check = 0, do_time = 0, summary = 0;
    const char *path = NULL, *encode_to = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--encode") && i + 1 < argc)
            encode_to = argv[++i];
        else if (!strcmp(argv[i], "--roundtrip"))
            do_rt = 1;
        else if (!strcmp(argv[i], "--check"))
            do_check = 1;
        else if (!strcmp(argv[i], "--time"))
            do_time = 1;
        else if (!strcmp(argv[i], "--summary"))
            summary = 1;
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: typetab-dump [--roundtrip] [--check] [--time] [--summary] "
                "[--encode FILE] BINARY\n");
        return 2;
    }
    hs_error err;
    hs_error_clear(&err);
    const uint8_t *data;
    size_t size;
    if (hs_map_file(path, &data, &size, &err) < 0)
        return fail(path, &err);
    typetab *t = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = godwarf_read(data, size, &t, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (do_time)
        fprintf(stderr, "godwarf_read: %.1f ms\n",
                (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    hs_unmap(data, size);
    if (rc == HS_ERR_NOTFOUND) {
        fail(path, &err);
        return 3;
    }
    if (rc < 0)
        return fail(path, &err);
    int status = 0;
    if (do_rt && (rc = roundtrip(&t, &err)) != HS_OK)
        status = rc < 0 ? fail("round trip", &err) : 1;
    if (status == 0 && do_check && check(t))
        status = 1;
    if (status == 0 && encode_to && (rc = write_encoded(t, encode_to, &err)) < 0)
        status = fail(encode_to, &err);
    if (status == 0 && summary) {
        size_t nvars = 0;
        for (size_t i = 0; i < typetab_func_count(t); i++)
            nvars += typetab_func_get(t, i)->nvars;
        printf("types %zu globals %zu funcs %zu vars %zu go %s\n", typetab_type_count(t),
               typetab_global_count(t), typetab_func_count(t), nvars,
               typetab_get_info(t)->go_version);
    } else if (status == 0) {
        dump(t, stdout);
    }
    typetab_free(t);
    return status;
}
