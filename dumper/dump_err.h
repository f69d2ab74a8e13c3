/* dump_err.h - the dumper's error context: a kind the CLI maps to hints and exit codes, the
 * errno when one applies, and a specific message (what failed, with which path or pid). */
#ifndef DUMP_ERR_H
#define DUMP_ERR_H

#include "hs_error.h"

typedef enum dump_err_kind {
    DUMP_ERR_NONE = 0,
    DUMP_ERR_NOPROC,  /* no such process */
    DUMP_ERR_NOHOOK,  /* the process does not serve the heapsift hook */
    DUMP_ERR_PERM,    /* permission denied (socket or /proc entry of another user) */
    DUMP_ERR_BUSY,    /* the hook is serving another capture */
    DUMP_ERR_DROPPED, /* the target exited or the connection dropped mid-dump */
    DUMP_ERR_NOSPACE, /* disk full while writing */
    DUMP_ERR_HOOK,    /* the hook answered with an error */
    DUMP_ERR_FORMAT,  /* input is not what it should be (import, corrupt stream) */
    DUMP_ERR_IO,      /* any other system failure */
} dump_err_kind;

typedef struct dump_err {
    int kind;      /* dump_err_kind */
    int sys_errno; /* errno of the failing call, 0 when none */
    char msg[1024];
} dump_err;

/* Records a failure (err may be NULL) and returns -1. */
int dump_err_set(dump_err *err, int kind, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records a failure of a system call on path: ENOSPC/EDQUOT become DUMP_ERR_NOSPACE ("disk
 * full"), EACCES/EPERM DUMP_ERR_PERM, everything else DUMP_ERR_IO. Returns -1. */
int dump_err_sys(dump_err *err, int sys_errno, const char *what, const char *path);

/* Records a failure reported by the format library (he): a failed system call (HS_ERR_IO with
 * sys_errno, message "WHAT PATH: strerror") gets the kind and wording of dump_err_sys, any
 * other error is DUMP_ERR_IO with he's message. Returns -1. */
int dump_err_from_hs(const hs_error *he, dump_err *err);

/* Prefixes err->msg with context; keeps the kind. */
void dump_err_prefix(dump_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
