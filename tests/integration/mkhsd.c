/* mkhsd - test helper: packs a raw heap dump into a .hsd, the way heapsift-dump lays one out
 * (meta, symtab from the binary, maps, heapdump, manifest), plus what heapsift-dump never
 * writes: --segment adds a SEGMENT section with a file's bytes, to check that redaction drops
 * sections that may hold raw memory.
 *
 * usage: mkhsd OUT.hsd RAW.dump BINARY [--manifest FILE] [--segment FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfimg.h"
#include "hsd.h"
#include "symtab.h"

static int fail(const char *what, const hs_error *err)
{
    char buf[512];
    fprintf(stderr, "mkhsd: %s: %s\n", what, err ? hs_error_format(err, buf, sizeof buf) : "");
    return 2;
}

static int add_file(hsd_writer *w, uint32_t type, const char *path, hs_error *err)
{
    const uint8_t *data;
    size_t size;
    int rc = hs_map_file(path, &data, &size, err);
    if (rc < 0)
        return rc;
    rc = hsd_writer_section(w, type, NULL, data, size, err);
    hs_unmap(data, size);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return fail("usage: mkhsd OUT.hsd RAW.dump BINARY [--manifest F] [--segment F]", NULL);
    const char *out = argv[1], *raw = argv[2], *bin = argv[3], *manifest = NULL, *segment = NULL;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--manifest"))
            manifest = argv[i + 1];
        else if (!strcmp(argv[i], "--segment"))
            segment = argv[i + 1];
    }
    hs_error err;
    hs_error_clear(&err);
    const uint8_t *bdata;
    size_t bsize;
    elfimg *img;
    symtab *t;
    if (hs_map_file(bin, &bdata, &bsize, &err) < 0 || elfimg_open(bdata, bsize, &img, &err) < 0)
        return fail(bin, &err);
    if (elfimg_symtab(img, &t, &err) < 0)
        return fail("symbols", &err);
    hs_mem_sink syms = {0};
    if (symtab_encode(t, (hs_writer){hs_mem_write, &syms}, &err) < 0)
        return fail("encoding symbols", &err);

    FILE *f = fopen(out, "wb");
    if (!f)
        return fail(out, NULL);
    int fd = fileno(f);
    hsd_writer *w;
    char meta[512];
    snprintf(meta, sizeof meta, "{\"exe\":\"%s\",\"trigger\":\"mkhsd\"}", bin);
    const char maps[] = "00400000-00500000 r-xp 00000000 00:00 0 /test/binary\n";
    if (hsd_writer_new((hs_writer){hs_fd_write, &fd}, NULL, &w, &err) < 0 ||
        hsd_writer_section(w, HSD_SEC_META, NULL, meta, strlen(meta), &err) < 0 ||
        hsd_writer_section(w, HSD_SEC_SYMTAB, "binary", syms.data, syms.len, &err) < 0 ||
        hsd_writer_section(w, HSD_SEC_MAPS, NULL, maps, sizeof maps - 1, &err) < 0 ||
        add_file(w, HSD_SEC_HEAPDUMP, raw, &err) < 0 ||
        (manifest && add_file(w, HSD_SEC_MANIFEST, manifest, &err) < 0) ||
        (segment && add_file(w, HSD_SEC_SEGMENT, segment, &err) < 0) ||
        hsd_writer_finish(w, &err) < 0)
        return fail(out, &err);
    hsd_writer_free(w);
    fclose(f);
    hs_mem_sink_release(&syms);
    symtab_free(t);
    elfimg_free(img);
    hs_unmap(bdata, bsize);
    return 0;
}
