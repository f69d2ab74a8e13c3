/* hs_error.h - status codes and the error context shared by every heapsift module.
 *
 * Every fallible function returns an hs_status (0 = success, negative = failure) and takes
 * an optional hs_error* that receives the status, a human-readable message and, for parse
 * errors, the byte offset in the input where the problem was found. The library never
 * prints; the CLIs format hs_error for the user (hs_error_format).
 */
#ifndef HS_ERROR_H
#define HS_ERROR_H

#include <stddef.h>
#include <stdint.h>

typedef enum hs_status {
    HS_OK = 0,
    HS_ERR_IO = -1,          /* read/write failed (errno kept in hs_error.sys_errno) */
    HS_ERR_NOMEM = -2,       /* allocation failed */
    HS_ERR_FORMAT = -3,      /* input is malformed */
    HS_ERR_TRUNCATED = -4,   /* input ended in the middle of something */
    HS_ERR_CRC = -5,         /* checksum mismatch */
    HS_ERR_UNSUPPORTED = -6, /* valid but not a version/variant we read */
    HS_ERR_LIMIT = -7,       /* a size or count exceeds the configured budget */
    HS_ERR_ARG = -8,         /* caller passed a bad argument */
    HS_ERR_NOTFOUND = -9,    /* lookup found nothing */
    HS_ERR_ELF = -10,        /* libelf reported an error */
    HS_ERR_ZLIB = -11,       /* zlib reported an error */
    HS_ERR_MISMATCH = -12,   /* two inputs disagree (a binary that did not write the dump) */
} hs_status;

#define HS_NO_OFFSET UINT64_MAX

typedef struct hs_error {
    int status;         /* hs_status of the failure, HS_OK when clear */
    uint64_t offset;    /* byte offset in the input, HS_NO_OFFSET when not applicable */
    int sys_errno;      /* errno for HS_ERR_IO, 0 otherwise */
    char msg[512];      /* what went wrong, without the offset */
} hs_error;

/* Returns a static, lowercase description of a status code. */
const char *hs_strerror(int status);

/* Clears err (NULL is accepted). */
void hs_error_clear(hs_error *err);

/* Records a failure in err (NULL is accepted) and returns status, so callers can write
 * `return hs_error_set(err, HS_ERR_FORMAT, off, "bad tag %u", tag);`. */
int hs_error_set(hs_error *err, int status, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefixes err->msg with context ("reading section 3: ..."); keeps status and offset. */
void hs_error_prefix(hs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats err as one line ("truncated input at byte 1234: object record: ...") into buf. */
const char *hs_error_format(const hs_error *err, char *buf, size_t bufsize);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
static inline int hs_add_ovf(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}
static inline int hs_mul_ovf(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

#endif
