/* dump_err.c - error context for heapsift-dump. */
#include "dump_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dump_err_set(dump_err *err, int kind, int sys_errno, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->kind = kind;
    err->sys_errno = sys_errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int dump_err_sys(dump_err *err, int sys_errno, const char *what, const char *path)
{
    if (sys_errno == ENOSPC || sys_errno == EDQUOT)
        return dump_err_set(err, DUMP_ERR_NOSPACE, sys_errno, "disk full: %s %s: %s", what,
                            path, strerror(sys_errno));
    if (sys_errno == EACCES || sys_errno == EPERM)
        return dump_err_set(err, DUMP_ERR_PERM, sys_errno, "permission denied: %s %s", what,
                            path);
    return dump_err_set(err, DUMP_ERR_IO, sys_errno, "%s %s: %s", what, path,
                        strerror(sys_errno));
}

void dump_err_prefix(dump_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4); /* keep the start, mark the cut */
}
