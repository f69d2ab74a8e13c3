/* dump_proc.c - reading /proc/PID for heapsift-dump. */
#include "dump_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROC_MAX_FILE (64u << 20) /* cmdline, environ, maps: refuse anything larger */

int dump_proc_slurp(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                close(fd);
                errno = EFBIG;
                return -1;
            }
            size_t ncap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* The value of "Key:" in a status file, or NULL. */
static const char *status_field(const char *status, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
            p += klen + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            return p;
        }
    }
    return NULL;
}

static int read_status(int pid, char **status)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (dump_proc_slurp(path, 1 << 20, status, &len) < 0)
        return -1;
    const char *st = status_field(*status, "State");
    if (st && (*st == 'Z' || *st == 'X')) {
        free(*status);
        *status = NULL;
        errno = ESRCH;
        return -1;
    }
    return 0;
}

int dump_proc_alive(int pid)
{
    char *status;
    if (pid <= 0 || read_status(pid, &status) < 0)
        return 0;
    free(status);
    return 1;
}

static uint64_t status_kib(const char *status, const char *key)
{
    const char *v = status_field(status, key);
    return v ? strtoull(v, NULL, 10) * 1024 : 0;
}

int dump_proc_rss(int pid, uint64_t *bytes)
{
    char *status;
    if (read_status(pid, &status) < 0)
        return -1;
    *bytes = status_kib(status, "VmRSS");
    free(status);
    return 0;
}

/* Start time: field 22 of /proc/PID/stat (clock ticks after boot) plus btime. */
static uint64_t start_time_ns(int pid)
{
    char path[64], *stat = NULL, *boot = NULL;
    size_t len;
    uint64_t ns = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (dump_proc_slurp(path, 1 << 16, &stat, &len) < 0)
        return 0;
    /* comm may contain spaces and parentheses: fields restart after the last ')'. */
    const char *p = strrchr(stat, ')');
    unsigned long long ticks = 0;
    int field = 2;
    for (; p && *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (p && field == 22)
        ticks = strtoull(p, NULL, 10);
    long hz = sysconf(_SC_CLK_TCK);
    if (ticks && hz > 0 && dump_proc_slurp("/proc/stat", 1 << 20, &boot, &len) == 0) {
        const char *b = strstr(boot, "\nbtime ");
        if (b) {
            unsigned long long btime = strtoull(b + 7, NULL, 10);
            ns = btime * 1000000000ull + ticks * (1000000000ull / (unsigned long long)hz);
        }
    }
    free(stat);
    free(boot);
    return ns;
}

static void read_tmpdir(int pid, char *out, size_t size)
{
    char path[64], *env;
    size_t len;
    out[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    if (dump_proc_slurp(path, PROC_MAX_FILE, &env, &len) < 0)
        return;
    for (size_t i = 0; i < len;) {
        const char *e = env + i;
        size_t elen = strnlen(e, len - i);
        if (elen > 7 && strncmp(e, "TMPDIR=", 7) == 0 && elen - 7 < size) {
            memcpy(out, e + 7, elen - 7);
            out[elen - 7] = '\0';
        }
        i += elen + 1;
    }
    free(env);
}

int dump_proc_read(int pid, dump_proc_info *out, dump_err *err)
{
    memset(out, 0, sizeof *out);
    out->pid = pid;
    char *status;
    if (pid <= 0 || read_status(pid, &status) < 0) {
        if (pid > 0 && errno == EACCES)
            return dump_err_set(err, DUMP_ERR_PERM, errno,
                                "permission denied reading /proc/%d/status", pid);
        return dump_err_set(err, DUMP_ERR_NOPROC, ESRCH, "no such process: %d", pid);
    }
    const char *uid = status_field(status, "Uid");
    out->uid = uid ? (uid_t)strtoul(uid, NULL, 10) : (uid_t)-1;
    out->rss_bytes = status_kib(status, "VmRSS");
    free(status);

    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, out->exe, sizeof out->exe - 1);
    out->exe[n > 0 ? n : 0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    if (dump_proc_slurp(path, PROC_MAX_FILE, &out->cmdline, &out->cmdline_len) < 0) {
        out->cmdline = NULL;
        out->cmdline_len = 0;
    }
    out->start_unix_ns = start_time_ns(pid);
    read_tmpdir(pid, out->tmpdir, sizeof out->tmpdir);
    return 0;
}

void dump_proc_release(dump_proc_info *p)
{
    if (!p)
        return;
    free(p->cmdline);
    p->cmdline = NULL;
    p->cmdline_len = 0;
}

int dump_proc_maps(int pid, char **out, size_t *len, dump_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    if (dump_proc_slurp(path, PROC_MAX_FILE, out, len) < 0)
        return dump_err_sys(err, errno, "reading", path);
    return 0;
}
