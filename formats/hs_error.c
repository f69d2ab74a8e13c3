/* hs_error.c - status strings and error-context helpers. */
#include "hs_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hs_strerror(int status)
{
    switch (status) {
    case HS_OK: return "success";
    case HS_ERR_IO: return "i/o error";
    case HS_ERR_NOMEM: return "out of memory";
    case HS_ERR_FORMAT: return "malformed input";
    case HS_ERR_TRUNCATED: return "truncated input";
    case HS_ERR_CRC: return "checksum mismatch";
    case HS_ERR_UNSUPPORTED: return "unsupported format or version";
    case HS_ERR_LIMIT: return "limit exceeded";
    case HS_ERR_ARG: return "invalid argument";
    case HS_ERR_NOTFOUND: return "not found";
    case HS_ERR_ELF: return "ELF error";
    case HS_ERR_ZLIB: return "compression error";
    case HS_ERR_MISMATCH: return "inputs disagree";
    default: return "unknown error";
    }
}

void hs_error_clear(hs_error *err)
{
    if (!err)
        return;
    err->status = HS_OK;
    err->offset = HS_NO_OFFSET;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

int hs_error_set(hs_error *err, int status, uint64_t offset, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    err->offset = offset;
    err->sys_errno = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return status;
}

void hs_error_prefix(hs_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char joined[2 * sizeof err->msg + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, sizeof err->msg, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
    memcpy(joined + len, ": ", 2);
    memcpy(joined + len + 2, err->msg, sizeof err->msg);
    joined[sizeof joined - 1] = '\0';
    memcpy(err->msg, joined, sizeof err->msg - 1);
    err->msg[sizeof err->msg - 1] = '\0';
}

const char *hs_error_format(const hs_error *err, char *buf, size_t bufsize)
{
    if (!err || err->status == HS_OK) {
        snprintf(buf, bufsize, "no error");
        return buf;
    }
    if (err->offset != HS_NO_OFFSET)
        snprintf(buf, bufsize, "%s at byte %llu: %s", hs_strerror(err->status),
                 (unsigned long long)err->offset, err->msg);
    else
        snprintf(buf, bufsize, "%s: %s", hs_strerror(err->status), err->msg);
    return buf;
}
