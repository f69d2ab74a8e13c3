/* dump_snapmem.c - the memory of a live snapshot (dump_snapmem.h): what is copied of each
 * mapping (dump_snap.h), buffers made before the stop, the copy during it. */
#include "dump_snapmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dump_proc.h"

#define COPY_CHUNK ((size_t)1 << 30) /* bytes per process_vm_readv */
#define PM_WINDOW 65536              /* pagemap entries read at once (512 KiB) */
#define PM_PRESENT (1ull << 63)      /* Documentation/admin-guide/mm/pagemap.rst */
#define PM_SWAPPED (1ull << 62)

/* A buffer made before the stop for the mapping [start, end). */
typedef struct prep {
    uint64_t start, end;
    uint8_t *buf; /* calloc'd; NULL once handed over */
} prep;

struct dump_snapmem {
    int pid;
    char exe[4096];
    uint64_t page;
    uint64_t max_copy; /* the machine's memory and swap: no mapping larger is copied */
    int mem_fd;     /* /proc/PID/mem once process_vm_readv is refused, else -1 */
    int pagemap_fd; /* /proc/PID/pagemap, -1 when unreadable (every page is then read) */
    uint64_t *pm;   /* PM_WINDOW entries */
    prep *p;
    size_t np, next; /* sorted by start; next: the first not yet matched */
};

typedef struct mapping {
    uint64_t start, end, off;
    char perms[5];
    const char *path;
} mapping;

/* One line of /proc/PID/maps: "start-end perms offset dev inode   path". */
static int parse_map(char *line, mapping *mp)
{
    char *p = line, *q;
    mp->start = strtoull(p, &q, 16);
    if (q == p || *q != '-')
        return -1;
    mp->end = strtoull(q + 1, &p, 16);
    if (*p != ' ' || mp->end <= mp->start || strlen(p) < 6)
        return -1;
    memcpy(mp->perms, p + 1, 4);
    mp->perms[4] = '\0';
    p += 5;
    mp->off = strtoull(p, &q, 16);
    for (int field = 0; field < 2 && *q; field++) { /* dev, inode */
        q += strspn(q, " ");
        q += strcspn(q, " ");
    }
    mp->path = q + strspn(q, " ");
    return 0;
}

enum { M_SKIP, M_NOBYTES, M_COPY };

/* What to keep of a mapping (dump_snap.h: what is copied). A readable mapping larger than
 * the machine's memory and swap cannot be all in use (a sanitizer's shadow memory, terabytes
 * reserved with MAP_NORESERVE): it holds no bytes. */
static int classify(const mapping *mp, const char *exe, uint64_t max_copy)
{
    const char *p = mp->path;
    if (!strcmp(p, "[vvar]") || !strcmp(p, "[vvar_vclock]") || !strcmp(p, "[vsyscall]"))
        return M_SKIP;
    if (mp->perms[0] != 'r' || mp->end - mp->start > max_copy)
        return M_NOBYTES;
    if (!*p || *p == '[' || !strncmp(p, "/dev/zero", 9))
        return M_COPY; /* anonymous, or shared anonymous memory */
    if (!strncmp(p, "/dev/", 5) && strncmp(p, "/dev/shm/", 9))
        return M_NOBYTES; /* a device: reading it may have effects */
    if (exe[0] && !strcmp(p, exe))
        return M_COPY;
    if (mp->perms[1] == 'w' && mp->perms[3] == 'p')
        return M_COPY;
    return M_NOBYTES;
}

/* Private anonymous memory: a page never touched reads as zero. */
static int untouched_is_zero(const mapping *mp)
{
    const char *p = mp->path;
    return mp->perms[3] == 'p' && (!*p || (*p == '[' && strcmp(p, "[vdso]") != 0));
}

/* Copies [addr, addr + len) into buf; returns the bytes copied before the first page that
 * cannot be read. */
static uint64_t copy_range(dump_snapmem *sm, uint64_t addr, uint8_t *buf, uint64_t len)
{
    uint64_t done = 0;
    size_t chunk = COPY_CHUNK;
    while (done < len) {
        size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
        ssize_t r;
        if (sm->mem_fd < 0) {
            struct iovec local = {buf + done, n}, remote = {(void *)(uintptr_t)(addr + done), n};
            r = process_vm_readv(sm->pid, &local, 1, &remote, 1, 0);
            if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/mem", sm->pid);
                if ((sm->mem_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                    return done;
                continue;
            }
        } else {
            if (addr + done > (uint64_t)INT64_MAX)
                return done;
            r = pread(sm->mem_fd, buf + done, n, (off_t)(addr + done));
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* the failing page is somewhere in the chunk: narrow down to it */
            if (n <= sm->page)
                return done;
            chunk = (n / 2 + sm->page - 1) / sm->page * sm->page;
            continue;
        }
        done += (uint64_t)r;
    }
    return done;
}

/* Reads the pagemap entries of n pages from page first into sm->pm; -1 when unreadable. */
static int read_pagemap(dump_snapmem *sm, uint64_t first, size_t n)
{
    size_t want = n * sizeof *sm->pm, got = 0;
    while (sm->pagemap_fd >= 0 && got < want) {
        ssize_t r = pread(sm->pagemap_fd, (char *)sm->pm + got, want - got,
                          (off_t)(first * sizeof *sm->pm + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return sm->pagemap_fd >= 0 ? 0 : -1;
}

/* What is done with each run of pages to be read: faulting in the buffer before the stop,
 * copying during it. Returns 0 to go on. */
typedef struct run_ctx {
    uint64_t start; /* the mapping's first address */
    uint8_t *buf;
    uint64_t held;      /* copy: bytes before the first page that could not be read */
    uint64_t untouched; /* bytes of pages skipped */
    int (*fn)(dump_snapmem *sm, struct run_ctx *c, uint64_t off, uint64_t len);
} run_ctx;

/* Calls c->fn for every run of pages of the mapping (len bytes) that are to be read: those
 * the process touched when untouched pages read as zero and the pagemap says which, else
 * all of them. */
static int each_run(dump_snapmem *sm, run_ctx *c, uint64_t len, int zero_untouched)
{
    uint64_t npages = len / sm->page;
    if (!zero_untouched || sm->pagemap_fd < 0 || len % sm->page)
        return c->fn(sm, c, 0, len);
    for (uint64_t w = 0; w < npages; w += PM_WINDOW) {
        size_t n = npages - w < PM_WINDOW ? (size_t)(npages - w) : PM_WINDOW;
        if (read_pagemap(sm, c->start / sm->page + w, n) < 0)
            return c->fn(sm, c, w * sm->page, len - w * sm->page);
        for (size_t i = 0, j; i < n; i = j) {
            int touched = (sm->pm[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
            for (j = i + 1; j < n && ((sm->pm[j] & (PM_PRESENT | PM_SWAPPED)) != 0) == touched;)
                j++;
            if (!touched)
                c->untouched += (j - i) * sm->page;
            else if (c->fn(sm, c, (w + i) * sm->page, (j - i) * sm->page))
                return 1;
        }
    }
    return 0;
}

/* Before the stop: fault in the pages the copy will write, by writing to them (a VM may back
 * a page only when it is written, not on MADV_POPULATE_WRITE). */
static int populate(dump_snapmem *sm, run_ctx *c, uint64_t off, uint64_t len)
{
    for (uint64_t i = 0; i < len; i += sm->page)
        ((volatile uint8_t *)c->buf)[off + i] = 0;
    return 0;
}

/* During the stop: copy. */
static int copy_run(dump_snapmem *sm, run_ctx *c, uint64_t off, uint64_t len)
{
    uint64_t got = copy_range(sm, c->start + off, c->buf + off, len);
    if (got == len)
        return 0;
    c->held = off + got;
    return 1;
}

void dump_snapmem_free(dump_snapmem *sm)
{
    if (!sm)
        return;
    for (size_t i = 0; i < sm->np; i++)
        free(sm->p[i].buf);
    if (sm->mem_fd >= 0)
        close(sm->mem_fd);
    if (sm->pagemap_fd >= 0)
        close(sm->pagemap_fd);
    free(sm->pm);
    free(sm->p);
    free(sm);
}

/* Calls fn for every line of the maps text (changed in place); stops at fn's -1. */
static int each_mapping(int pid, char *maps, int (*fn)(dump_snapmem *, const mapping *, int,
                                                       void *, dump_err *),
                        dump_snapmem *sm, void *ctx, dump_err *err)
{
    for (char *line = maps, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        mapping mp;
        if (parse_map(line, &mp) < 0)
            return dump_err_set(err, DUMP_ERR_IO, 0, "/proc/%d/maps: unreadable line \"%.80s\"",
                                pid, line);
        int what = classify(&mp, sm->exe, sm->max_copy);
        if (what != M_SKIP && fn(sm, &mp, what, ctx, err) < 0)
            return -1;
    }
    return 0;
}

static int prepare_one(dump_snapmem *sm, const mapping *mp, int what, void *ctx, dump_err *err)
{
    (void)ctx;
    if (what != M_COPY)
        return 0;
    if (sm->np % 64 == 0) {
        prep *p = realloc(sm->p, (sm->np + 64) * sizeof *p);
        if (!p)
            return dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory");
        sm->p = p;
    }
    uint64_t len = mp->end - mp->start;
    run_ctx c = {.start = mp->start, .buf = calloc(1, len), .fn = populate};
    if (!c.buf)
        return 0; /* the copy tries again, and keeps no bytes if it fails too */
    sm->p[sm->np++] = (prep){.start = mp->start, .end = mp->end, .buf = c.buf};
    each_run(sm, &c, len, untouched_is_zero(mp));
    return 0;
}

int dump_snapmem_prepare(int pid, const char *exe, dump_snapmem **out, dump_err *err)
{
    dump_snapmem *sm = calloc(1, sizeof *sm);
    char path[64], *maps = NULL;
    size_t len;
    int rc = -1;
    *out = NULL;
    if (!sm || !(sm->pm = malloc(PM_WINDOW * sizeof *sm->pm))) {
        dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory");
        goto out;
    }
    sm->pid = pid;
    sm->mem_fd = -1;
    long page = sysconf(_SC_PAGESIZE);
    sm->page = page > 0 ? (uint64_t)page : 4096;
    struct sysinfo si;
    sm->max_copy = sysinfo(&si) == 0 ? ((uint64_t)si.totalram + si.totalswap) * si.mem_unit
                                     : UINT64_MAX;
    snprintf(sm->exe, sizeof sm->exe, "%s", exe ? exe : "");
    snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
    sm->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (dump_proc_maps(pid, &maps, &len, err) < 0 ||
        each_mapping(pid, maps, prepare_one, sm, NULL, err) < 0)
        goto out;
    *out = sm;
    sm = NULL;
    rc = 0;
out:
    free(maps);
    dump_snapmem_free(sm);
    return rc;
}

/* The buffer prepared for exactly [start, end), handed over; NULL when there is none. */
static uint8_t *take_prep(dump_snapmem *sm, uint64_t start, uint64_t end)
{
    while (sm->next < sm->np && sm->p[sm->next].start < start)
        sm->next++;
    if (sm->next == sm->np || sm->p[sm->next].start != start || sm->p[sm->next].end != end)
        return NULL;
    uint8_t *b = sm->p[sm->next].buf;
    sm->p[sm->next++].buf = NULL;
    return b;
}

typedef struct copy_out {
    coremem *m;
    dump_snapmem_stats *st;
} copy_out;

static int copy_one(dump_snapmem *sm, const mapping *mp, int what, void *ctx, dump_err *err)
{
    copy_out *o = ctx;
    hs_error he;
    if (mp->path[0] == '/' &&
        coremem_add_file(o->m, mp->start, mp->end, mp->off, mp->path, &he) < 0)
        return dump_err_from_hs(&he, err);
    uint64_t len = mp->end - mp->start;
    run_ctx c = {.start = mp->start, .held = len, .fn = copy_run};
    if (what == M_COPY) {
        /* a mapping too large to allocate holds no bytes (counted as missing) */
        if (!(c.buf = take_prep(sm, mp->start, mp->end)))
            c.buf = calloc(1, len);
        if (!c.buf)
            c.held = 0;
        else
            each_run(sm, &c, len, untouched_is_zero(mp));
        o->st->bytes_held += c.held;
        o->st->bytes_untouched += c.untouched;
        o->st->bytes_missing += len - c.held;
    } else {
        c.held = 0;
    }
    if (c.buf && c.held == 0) {
        free(c.buf);
        c.buf = NULL;
    } else if (c.buf && c.held < len) {
        uint8_t *shrunk = realloc(c.buf, c.held);
        c.buf = shrunk ? shrunk : c.buf;
    }
    uint32_t flags = (mp->perms[0] == 'r' ? COREMEM_R : 0) |
                     (mp->perms[1] == 'w' ? COREMEM_W : 0) | (mp->perms[2] == 'x' ? COREMEM_X : 0);
    if (coremem_add_segment(o->m, mp->start, len, c.buf, c.held, flags, &he) < 0)
        return dump_err_from_hs(&he, err);
    return 0;
}

int dump_snapmem_copy(dump_snapmem *sm, coremem *m, dump_snapmem_stats *st, dump_err *err)
{
    char *maps = NULL;
    size_t len;
    copy_out o = {.m = m, .st = st};
    memset(st, 0, sizeof *st);
    int rc = dump_proc_maps(sm->pid, &maps, &len, err);
    if (rc == 0)
        rc = each_mapping(sm->pid, maps, copy_one, sm, &o, err);
    free(maps);
    return rc;
}
