/* dump_binary.c - a Go binary's symbols, DWARF types and runtime constants (dump_binary.h). */
#include "dump_binary.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "elfimg.h"

int dump_binary_load(int fd, const char *name, int flags, dump_binary *b)
{
    memset(b, 0, sizeof *b);
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        snprintf(b->why, sizeof b->why, "%s: cannot read the binary", name);
        return -1;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        snprintf(b->why, sizeof b->why, "%s: mmap: %s", name, strerror(errno));
        return -1;
    }
    b->map = map;
    b->size = (size_t)st.st_size;
    hs_error he;
    hs_error_clear(&he);
    elfimg *img = NULL;
    char buf[300];
    if (elfimg_open(map, b->size, &img, &he) < 0 || elfimg_symtab(img, &b->syms, &he) < 0) {
        snprintf(b->why, sizeof b->why, "%s: %s", name, hs_error_format(&he, buf, sizeof buf));
        b->syms = NULL;
    } else if (godwarf_read_consts(map, b->size, &b->types,
                                   (flags & DUMP_BINARY_KEEP) ? &b->consts : NULL, &he) < 0) {
        b->types = NULL; /* no DWARF, or unreadable: symbols alone still name the heap */
        b->consts = NULL;
    }
    elfimg_free(img);
    if (!(flags & DUMP_BINARY_KEEP)) {
        munmap(map, b->size);
        b->map = NULL;
    }
    return b->syms ? 0 : -1;
}

void dump_binary_release(dump_binary *b)
{
    if (b->map)
        munmap((void *)b->map, b->size);
    symtab_free(b->syms);
    typetab_free(b->types);
    godwarf_consts_free(b->consts);
    memset(b, 0, sizeof *b);
}
