/* hs_outfile.c - complete-or-nothing output files. */
#include "hs_outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Temporary names to remove if we are killed by a catchable signal. Written before the file
 * gets the name, cleared after it loses it; read by the signal handler. */
#define OUT_SLOTS 8
static char reg_path[OUT_SLOTS][PATH_MAX];
static volatile sig_atomic_t reg_used[OUT_SLOTS];

static int reg_add(const char *path)
{
    for (int i = 0; i < OUT_SLOTS; i++) {
        if (!reg_used[i]) {
            snprintf(reg_path[i], PATH_MAX, "%s", path);
            reg_used[i] = 1;
            return i;
        }
    }
    return -1;
}

static void reg_del(int slot)
{
    if (slot >= 0)
        reg_used[slot] = 0;
}

void hs_outfile_cleanup(void)
{
    for (int i = 0; i < OUT_SLOTS; i++)
        if (reg_used[i]) {
            unlink(reg_path[i]);
            reg_used[i] = 0;
        }
}

/* Records that "WHAT PATH" failed with errno e; returns HS_ERR_IO. */
static int sys_fail(hs_error *err, int e, const char *what, const char *path)
{
    hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "%s %s: %s", what, path, strerror(e));
    if (err)
        err->sys_errno = e;
    return HS_ERR_IO;
}

void hs_outfile_dir(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* A temporary name beside path: ".NAME.tmp-XXXXXX" in path's directory. */
static void temp_name(const char *path, char *out, size_t size)
{
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned r = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16) ^ (++counter * 2654435761u);
    int n = snprintf(out, size, "%.*s.%s.tmp-%06x", (int)(base - path), path, base,
                     r & 0xffffff);
    /* A name too long for out drops path's base name: still beside path, and created
     * exclusively (O_EXCL) by the callers. */
    if (n < 0 || (size_t)n >= size)
        snprintf(out, size, "%.*s.tmp-%06x", (int)(base - path), path, r & 0xffffff);
}

/* Creates f->tmp exclusively (a fresh temporary name per try), registered for cleanup. */
static int open_named(hs_outfile *f, hs_error *err)
{
    int rc = HS_OK;
    for (int tries = 0; tries < 100; tries++) {
        temp_name(f->path, f->tmp, sizeof f->tmp);
        f->slot = reg_add(f->tmp);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (f->fd >= 0) {
            fchmod(f->fd, 0600);
            goto out;
        }
        int e = errno;
        reg_del(f->slot);
        f->slot = -1;
        if (e != EEXIST) {
            rc = sys_fail(err, e, "creating", f->tmp);
            goto out;
        }
    }
    rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "could not create a temporary file beside %s",
                      f->path);
out:
    if (rc < 0)
        f->tmp[0] = '\0';
    return rc;
}

int hs_outfile_open(const char *path, int flags, hs_outfile *f, hs_error *err)
{
    int rc = HS_OK;
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->slot = -1;
    f->flags = flags;
    size_t plen = strlen(path);
    if (plen >= sizeof f->path - 16) {
        rc = hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "output path too long: %s", path);
        goto out;
    }
    memcpy(f->path, path, plen + 1);
    hs_outfile_dir(path, f->dir, sizeof f->dir);
    /* O_TMPFILE files are named through /proc/self/fd at commit. */
    int nameless = !(flags & HS_OUTFILE_NAMED) && access("/proc/self/fd", X_OK) == 0;
    f->fd = nameless ? open(f->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600) : -1;
    if (f->fd >= 0)
        fchmod(f->fd, 0600); /* the umask may only have removed bits; make it exact */
    else if (nameless && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        rc = sys_fail(err, errno, "creating a file in", f->dir);
    else
        rc = open_named(f, err); /* no O_TMPFILE here */
out:
    return rc;
}

/* "dir/NAME.EXT" -> "dir/NAME-N.EXT" (EXT: everything from the last dot of the base name). */
static void numbered(const char *path, int n, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base);
    snprintf(out, size, "%.*s-%d%s", (int)(dot - path), path, n, dot);
}

/* Gives a nameless (O_TMPFILE) file the name `name` through /proc/self/fd. */
static int link_fd(int fd, const char *name)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

/* Names a temporarily named file `final` without replacing anything there. */
static int rename_noreplace(const char *tmp, const char *final)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(tmp, final) < 0) /* no RENAME_NOREPLACE here: link + unlink */
        return -1;
    unlink(tmp);
    return 0;
}

/* Links a nameless file in: at a temporary name when it is to replace the target, else at
 * final (or the first free numbered name, written back into final). */
static int link_nameless(hs_outfile *f, char *final, size_t size, hs_error *err)
{
    int replace = f->flags & HS_OUTFILE_REPLACE;
    for (int n = 2;; n++) {
        int rc;
        if (replace) {
            temp_name(f->path, f->tmp, sizeof f->tmp);
            f->slot = reg_add(f->tmp);
            rc = link_fd(f->fd, f->tmp);
        } else {
            rc = link_fd(f->fd, final);
        }
        if (rc == 0)
            return HS_OK;
        int e = errno;
        if (replace) {
            reg_del(f->slot);
            f->slot = -1;
            f->tmp[0] = '\0';
        }
        if (e == EEXIST && n < 1000) {
            if (!replace)
                numbered(f->path, n, final, size);
            continue;
        }
        return sys_fail(err, e, "naming the finished file", final);
    }
}

/* Renames the closed temporary file to final (or, without HS_OUTFILE_REPLACE, the first
 * free numbered name, written back into final). */
static int rename_named(hs_outfile *f, char *final, size_t size, hs_error *err)
{
    int replace = f->flags & HS_OUTFILE_REPLACE;
    for (int n = 2;; n++) {
        int rc = replace ? rename(f->tmp, final) : rename_noreplace(f->tmp, final);
        if (rc == 0)
            break;
        int e = errno;
        if (e == EEXIST && !replace && n < 1000) {
            numbered(f->path, n, final, size);
            continue;
        }
        return sys_fail(err, e, "renaming the finished file to", final);
    }
    reg_del(f->slot);
    f->slot = -1;
    f->tmp[0] = '\0';
    return HS_OK;
}

int hs_outfile_commit(hs_outfile *f, hs_error *err)
{
    if (f->fd < 0)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET, "%s: file already closed", f->path);
    char final[PATH_MAX];
    snprintf(final, sizeof final, "%s", f->path);
    int rc = HS_OK, linked_final = 0, e;
    if ((f->flags & HS_OUTFILE_SYNC) && fsync(f->fd) < 0) {
        rc = sys_fail(err, errno, "syncing", f->tmp[0] ? f->tmp : final);
        goto out;
    }
    if (!f->tmp[0]) {
        if ((rc = link_nameless(f, final, sizeof final, err)) < 0)
            goto out;
        linked_final = !(f->flags & HS_OUTFILE_REPLACE);
    }
    e = close(f->fd) < 0 ? errno : 0;
    f->fd = -1;
    if (e) {
        if (linked_final)
            unlink(final);
        rc = sys_fail(err, e, "closing", final);
        goto out;
    }
    if (f->tmp[0] && (rc = rename_named(f, final, sizeof final, err)) < 0)
        goto out;
    snprintf(f->path, sizeof f->path, "%s", final);
out:
    if (rc < 0)
        hs_outfile_abort(f);
    return rc;
}

int hs_outfile_write_all(const char *path, const void *data, size_t len, int flags,
                         hs_error *err)
{
    hs_outfile f = HS_OUTFILE_INIT;
    const char *p = data;
    int rc = hs_outfile_open(path, flags, &f, err);
    if (rc < 0)
        goto out;
    while (len > 0) {
        ssize_t w = write(f.fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = sys_fail(err, errno, "writing", path);
            goto out;
        }
        p += w;
        len -= (size_t)w;
    }
    rc = hs_outfile_commit(&f, err);
out:
    if (rc < 0)
        hs_outfile_abort(&f);
    return rc;
}

int hs_outfile_spool(const char *dir, int *fd, hs_error *err)
{
    int rc = HS_OK;
    int got = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (got >= 0)
        goto out;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        rc = sys_fail(err, errno, "creating the raw spool in", dir);
        goto out;
    }
    char base[PATH_MAX], tmp[PATH_MAX];
    snprintf(base, sizeof base, "%s/heapsift-spool", dir);
    for (int tries = 0; tries < 100; tries++) {
        temp_name(base, tmp, sizeof tmp);
        int slot = reg_add(tmp);
        got = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int e = errno;
        if (got >= 0)
            unlink(tmp);
        reg_del(slot);
        if (got >= 0 || e != EEXIST) {
            if (got < 0)
                rc = sys_fail(err, e, "creating the raw spool", tmp);
            goto out;
        }
    }
    rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "could not create a spool file in %s", dir);
out:
    if (rc >= 0)
        *fd = got;
    return rc;
}

void hs_outfile_abort(hs_outfile *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->tmp[0]) {
        unlink(f->tmp);
        f->tmp[0] = '\0';
    }
    reg_del(f->slot);
    f->slot = -1;
}
