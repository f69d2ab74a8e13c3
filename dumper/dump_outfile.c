/* dump_outfile.c - complete-or-nothing output files. */
#include "dump_outfile.h"

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

void dump_outfile_cleanup(void)
{
    for (int i = 0; i < OUT_SLOTS; i++)
        if (reg_used[i]) {
            unlink(reg_path[i]);
            reg_used[i] = 0;
        }
}

static void on_fatal_signal(int sig)
{
    dump_outfile_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

void dump_outfile_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

void dump_outfile_dir(const char *path, char *dir, size_t size)
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
    snprintf(out, size, "%.*s.%s.tmp-%06x", (int)(base - path), path, base, r & 0xffffff);
}

int dump_outfile_open(dump_outfile *f, const char *path, int replace, dump_err *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->slot = -1;
    f->replace = replace;
    size_t plen = strlen(path);
    if (plen >= sizeof f->path - 16)
        return dump_err_set(err, DUMP_ERR_IO, ENAMETOOLONG, "output path too long: %s", path);
    memcpy(f->path, path, plen + 1);
    dump_outfile_dir(path, f->dir, sizeof f->dir);
    /* O_TMPFILE files are named through /proc/self/fd at commit. */
    int nameless = access("/proc/self/fd", X_OK) == 0;
    f->fd = nameless ? open(f->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600) : -1;
    if (f->fd >= 0) {
        fchmod(f->fd, 0600); /* the umask may only have removed bits; make it exact */
        return 0;
    }
    if (nameless && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return dump_err_sys(err, errno, "creating a file in", f->dir);
    /* No O_TMPFILE here: a named temporary file, created exclusively. */
    for (int tries = 0; tries < 100; tries++) {
        temp_name(path, f->tmp, sizeof f->tmp);
        f->slot = reg_add(f->tmp);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (f->fd >= 0) {
            fchmod(f->fd, 0600);
            return 0;
        }
        int e = errno;
        reg_del(f->slot);
        f->slot = -1;
        if (e != EEXIST) {
            dump_err_sys(err, e, "creating", f->tmp);
            f->tmp[0] = '\0';
            return -1;
        }
    }
    return dump_err_set(err, DUMP_ERR_IO, EEXIST, "could not create a temporary file beside %s",
                        path);
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

int dump_outfile_commit(dump_outfile *f, dump_err *err)
{
    if (f->fd < 0)
        return dump_err_set(err, DUMP_ERR_IO, EBADF, "%s: file already closed", f->path);
    char final[PATH_MAX];
    snprintf(final, sizeof final, "%s", f->path);
    int linked_final = 0;
    if (!f->tmp[0]) {
        /* Nameless: link it in, under a temporary name when it is to replace the target. */
        for (int n = 2;; n++) {
            int rc;
            if (f->replace) {
                temp_name(f->path, f->tmp, sizeof f->tmp);
                f->slot = reg_add(f->tmp);
                rc = link_fd(f->fd, f->tmp);
            } else {
                rc = link_fd(f->fd, final);
            }
            if (rc == 0)
                break;
            int e = errno;
            if (f->replace) {
                reg_del(f->slot);
                f->slot = -1;
                f->tmp[0] = '\0';
            }
            if (e == EEXIST && n < 1000) {
                if (!f->replace)
                    numbered(f->path, n, final, sizeof final);
                continue;
            }
            dump_outfile_abort(f);
            return dump_err_sys(err, e, "naming the finished file", final);
        }
        linked_final = !f->replace;
    }
    int e = close(f->fd) < 0 ? errno : 0;
    f->fd = -1;
    if (e) {
        if (linked_final)
            unlink(final);
        dump_outfile_abort(f);
        return dump_err_sys(err, e, "closing", final);
    }
    if (f->tmp[0]) {
        for (int n = 2;; n++) {
            int rc = f->replace ? rename(f->tmp, final) : rename_noreplace(f->tmp, final);
            if (rc == 0)
                break;
            e = errno;
            if (e == EEXIST && !f->replace && n < 1000) {
                numbered(f->path, n, final, sizeof final);
                continue;
            }
            dump_outfile_abort(f);
            return dump_err_sys(err, e, "renaming the finished file to", final);
        }
        reg_del(f->slot);
        f->slot = -1;
        f->tmp[0] = '\0';
    }
    snprintf(f->path, sizeof f->path, "%s", final);
    return 0;
}

int dump_outfile_write_all(const char *path, const void *data, size_t len, dump_err *err)
{
    dump_outfile f;
    if (dump_outfile_open(&f, path, 1, err) < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(f.fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            dump_outfile_abort(&f);
            return dump_err_sys(err, e, "writing", path);
        }
        p += w;
        len -= (size_t)w;
    }
    return dump_outfile_commit(&f, err);
}

int dump_outfile_spool(const char *dir, dump_err *err)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return dump_err_sys(err, errno, "creating the raw spool in", dir);
    char base[PATH_MAX], tmp[PATH_MAX];
    snprintf(base, sizeof base, "%s/heapsift-spool", dir);
    for (int tries = 0; tries < 100; tries++) {
        temp_name(base, tmp, sizeof tmp);
        int slot = reg_add(tmp);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int e = errno;
        if (fd >= 0)
            unlink(tmp);
        reg_del(slot);
        if (fd >= 0)
            return fd;
        if (e != EEXIST)
            return dump_err_sys(err, e, "creating the raw spool", tmp);
    }
    return dump_err_set(err, DUMP_ERR_IO, EEXIST, "could not create a spool file in %s", dir);
}

void dump_outfile_abort(dump_outfile *f)
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
