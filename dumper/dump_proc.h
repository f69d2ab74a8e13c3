/* dump_proc.h - what /proc/PID says about a target: executable, command line, owner, RSS,
 * start time, TMPDIR (where its hook socket lives) and the memory map. */
#ifndef DUMP_PROC_H
#define DUMP_PROC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dump_err.h"

typedef struct dump_proc_info {
    int pid;
    uid_t uid;               /* real uid (Uid: in /proc/PID/status), what the hook uses */
    char exe[PATH_MAX];      /* readlink /proc/PID/exe, "" when not readable */
    char *cmdline;           /* NUL-separated arguments (malloc'd, may be NULL) */
    size_t cmdline_len;
    uint64_t rss_bytes;      /* VmRSS */
    uint64_t start_unix_ns;  /* process start, from /proc/PID/stat and btime; 0 unknown */
    char tmpdir[PATH_MAX];   /* TMPDIR from /proc/PID/environ, "" unset or unreadable */
} dump_proc_info;

/* Reads what /proc says about pid. Fails with DUMP_ERR_NOPROC when there is no such process
 * (or it is a zombie). Release with dump_proc_release. */
int dump_proc_read(int pid, dump_proc_info *out, dump_err *err);

/* Frees what dump_proc_read allocated (NULL is accepted). */
void dump_proc_release(dump_proc_info *p);

/* Returns 1 when pid exists and is not a zombie, 0 otherwise. */
int dump_proc_alive(int pid);

/* Reads VmRSS of pid in bytes. Returns 0, or -1 when the process is gone. */
int dump_proc_rss(int pid, uint64_t *bytes);

/* Reads a whole (proc) file, at most max bytes, into a malloc'd NUL-terminated buffer.
 * Returns 0 or -1 with errno set. */
int dump_proc_slurp(const char *path, size_t max, char **out, size_t *len);

/* Reads /proc/PID/maps (caller frees *out). */
int dump_proc_maps(int pid, char **out, size_t *len, dump_err *err);

#endif
