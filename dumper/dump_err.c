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

/* Records that the action what_path ("creating /x/y") failed with errno e. Returns -1. */
static int sys_fail(dump_err *err, int e, const char *what_path)
{
    if (e == ENOSPC || e == EDQUOT)
        return dump_err_set(err, DUMP_ERR_NOSPACE, e, "disk full: %s: %s", what_path,
                            strerror(e));
    if (e == EACCES || e == EPERM)
        return dump_err_set(err, DUMP_ERR_PERM, e, "permission denied: %s", what_path);
    return dump_err_set(err, DUMP_ERR_IO, e, "%s: %s", what_path, strerror(e));
}

int dump_err_sys(dump_err *err, int sys_errno, const char *what, const char *path)
{
    char what_path[sizeof err->msg];
    snprintf(what_path, sizeof what_path, "%s %s", what, path);
    return sys_fail(err, sys_errno, what_path);
}

int dump_err_from_hs(const hs_error *he, dump_err *err)
{
    int e = he->sys_errno;
    if (he->status != HS_ERR_IO || !e)
        return dump_err_set(err, DUMP_ERR_IO, e, "%s", he->msg);
    /* "WHAT PATH: strerror" -> "WHAT PATH", worded again by sys_fail */
    char what_path[sizeof he->msg];
    snprintf(what_path, sizeof what_path, "%s", he->msg);
    size_t n = strlen(what_path), tail = strlen(strerror(e)) + 2;
    if (n > tail && strcmp(what_path + n - tail + 2, strerror(e)) == 0 &&
        memcmp(what_path + n - tail, ": ", 2) == 0)
        what_path[n - tail] = '\0';
    return sys_fail(err, e, what_path);
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
