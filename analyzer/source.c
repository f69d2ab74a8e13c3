/* source.c - opening a .hsd or a raw heap dump, with symbols from the container or a binary. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bincheck.h"
#include "elfimg.h"
#include "godwarf.h"

/* Metadata sections larger than this are refused rather than inflated. */
#define SOURCE_MAX_META (256u << 20)

struct source_reader {
    hsd_stream *stream;   /* NULL for a raw dump */
    hs_mem_source mem;    /* raw dump bytes held in memory */
    int fd;               /* raw dump file */
    uint64_t pos;
    gohd_reader *gohd;
};

/* Streams a raw dump file with pread, so a pass never maps (and keeps resident) the file. */
static int64_t fd_pread(void *ctx, void *buf, size_t n)
{
    source_reader *sr = ctx;
    for (;;) {
        ssize_t r = pread(sr->fd, buf, n, (off_t)sr->pos);
        if (r >= 0) {
            sr->pos += (uint64_t)r;
            return r;
        }
        if (errno != EINTR)
            return HS_ERR_IO;
    }
}

/* Inflates the first metadata section of a type (at most SOURCE_MAX_META bytes) into *buf
 * (the caller frees it); *buf stays NULL when the file has no such section. */
static int read_meta(source *s, uint32_t type, uint8_t **buf, size_t *len, hs_error *err)
{
    long i = hsd_find_section(s->hsd, type);
    *buf = NULL;
    *len = 0;
    return i < 0 ? HS_OK : hsd_read_section(s->hsd, (size_t)i, SOURCE_MAX_META, buf, len, err);
}

static int load_json_section(source *s, uint32_t type, char **out, hs_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc = read_meta(s, type, &buf, &len, err);
    if (rc < 0 || !buf)
        return rc;
    char *text = realloc(buf, len + 1);
    if (!text) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "section %s", hsd_section_type_name(type));
        goto out;
    }
    text[len] = '\0';
    *out = text;
    buf = NULL; /* now text */
out:
    free(buf);
    return rc;
}

static int load_binary(source *s, const char *binary, hs_error *err)
{
    int rc = hs_map_file(binary, &s->bin, &s->bin_size, err);
    if (rc < 0)
        return rc;
    elfimg *img;
    rc = elfimg_open(s->bin, s->bin_size, &img, err);
    if (rc < 0) {
        hs_error_prefix(err, "%s", binary);
        return rc;
    }
    symtab *t;
    rc = elfimg_symtab(img, &t, err);
    elfimg_free(img);
    if (rc >= 0 && s->syms && (rc = bincheck_build_id(s->syms, t, err)) < 0)
        symtab_free(t);
    if (rc < 0) {
        hs_error_prefix(err, "%s", binary);
        return rc;
    }
    symtab_free(s->syms);
    s->syms = t;
    /* Its DWARF replaces the .hsd's types; a binary without DWARF leaves none. */
    typetab *types = NULL;
    rc = godwarf_read(s->bin, s->bin_size, &types, err);
    if (rc == HS_ERR_NOTFOUND) {
        hs_error_clear(err);
        rc = HS_OK;
    }
    if (rc < 0) {
        hs_error_prefix(err, "%s: DWARF", binary);
        return rc;
    }
    typetab_free(s->types);
    s->types = types;
    return HS_OK;
}

static int load_hsd(source *s, hs_error *err)
{
    int rc = hsd_reader_open(s->data, s->size, &s->hsd, err);
    if (rc < 0)
        return rc;
    s->dump_section = hsd_find_section(s->hsd, HSD_SEC_HEAPDUMP);
    if (s->dump_section < 0)
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET, "%s: no heap-dump section", s->path);
    s->dump_bytes = hsd_section(s->hsd, (size_t)s->dump_section)->raw_size;
    if ((rc = load_json_section(s, HSD_SEC_META, &s->meta_json, err)) < 0 ||
        (rc = load_json_section(s, HSD_SEC_MANIFEST, &s->manifest_json, err)) < 0)
        return rc;
    uint8_t *buf;
    size_t len;
    if ((rc = read_meta(s, HSD_SEC_SYMTAB, &buf, &len, err)) < 0 || !buf)
        return rc;
    rc = symtab_decode(buf, len, &s->syms, err);
    free(buf);
    if (rc < 0) {
        hs_error_prefix(err, "symbol section");
        return rc;
    }
    if ((rc = read_meta(s, HSD_SEC_TYPES, &buf, &len, err)) < 0 || !buf)
        return rc;
    rc = typetab_decode(buf, len, &s->types, err);
    free(buf);
    if (rc < 0)
        hs_error_prefix(err, "types section");
    return rc;
}

int source_open(const char *path, const char *binary, source **out, hs_error *err)
{
    *out = NULL;
    source *s = calloc(1, sizeof *s);
    if (!s)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "opening %s", path);
    s->dump_section = -1;
    s->fd = -1;
    int rc = HS_OK;
    if (!(s->path = strdup(path))) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "opening %s", path);
        goto out;
    }
    rc = hs_map_file(path, &s->data, &s->size, err);
    s->mapped = rc >= 0;
    if (rc < 0)
        goto out;
    if (hsd_is_hsd(s->data, s->size)) {
        rc = load_hsd(s, err);
    } else if (s->size >= GOHD_MAGIC_LEN && memcmp(s->data, GOHD_MAGIC, GOHD_MAGIC_LEN) == 0) {
        /* A raw dump is read sequentially: stream it instead of keeping it mapped. */
        s->dump_bytes = s->size;
        hs_unmap(s->data, s->size);
        s->data = NULL;
        s->size = 0;
        s->mapped = 0;
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "%s: %s", path, strerror(errno));
    } else {
        rc = hs_error_set(err, HS_ERR_FORMAT, 0,
                          "%s is neither a .hsd file nor a Go heap dump (no \"HEAPSIFT\" "
                          "or \"go1.7 heap dump\" magic)", path);
    }
    if (rc < 0 || (binary && (rc = load_binary(s, binary, err)) < 0))
        goto out;
    *out = s;
    s = NULL;
out:
    source_close(s);
    return rc;
}

int source_reader_open(source *s, int threads, source_reader **out, hs_error *err)
{
    *out = NULL;
    source_reader *sr = calloc(1, sizeof *sr);
    if (!sr)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "dump reader");
    hs_reader src;
    int rc = HS_OK;
    if (s->hsd) {
        if ((rc = hsd_stream_open(s->hsd, (size_t)s->dump_section, threads, &sr->stream,
                                  err)) < 0)
            goto out;
        /* The mapped file's pages leave the resident set as the pass moves on. */
        if (s->mapped)
            hsd_stream_drop_behind(sr->stream, hs_map_drop_pages);
        src = (hs_reader){hsd_stream_read, sr->stream};
    } else if (s->fd >= 0) {
        sr->fd = s->fd;
        src = (hs_reader){fd_pread, sr};
    } else {
        sr->mem = (hs_mem_source){s->data, s->size, 0};
        src = (hs_reader){hs_mem_read, &sr->mem};
    }
    gohd_options o = {.max_record_bytes = s->max_record};
    if ((rc = gohd_reader_new(src, &o, &sr->gohd, err)) < 0)
        goto out;
    *out = sr;
    sr = NULL;
out:
    source_reader_free(sr);
    return rc;
}

gohd_reader *source_reader_gohd(source_reader *sr)
{
    return sr->gohd;
}

const hs_error *source_reader_stream_error(const source_reader *sr)
{
    return sr->stream ? hsd_stream_error(sr->stream) : NULL;
}

void source_reader_free(source_reader *sr)
{
    if (!sr)
        return;
    gohd_reader_free(sr->gohd);
    hsd_stream_free(sr->stream);
    free(sr);
}

void source_close(source *s)
{
    if (!s)
        return;
    symtab_free(s->syms);
    typetab_free(s->types);
    hsd_reader_free(s->hsd);
    hs_unmap(s->data, s->size);
    hs_unmap(s->bin, s->bin_size);
    if (s->fd >= 0)
        close(s->fd);
    free(s->meta_json);
    free(s->manifest_json);
    free(s->path);
    free(s);
}
