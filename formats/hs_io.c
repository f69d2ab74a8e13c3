/* hs_io.c - fd, memory and mmap adapters for hs_reader / hs_writer. */
#include "hs_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs_grow.h"

int64_t hs_fd_read(void *ctx, void *buf, size_t n)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return HS_ERR_IO;
    }
}

int hs_fd_write(void *ctx, const void *buf, size_t n)
{
    int fd = *(int *)ctx;
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return HS_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return HS_OK;
}

int64_t hs_mem_read(void *ctx, void *buf, size_t n)
{
    hs_mem_source *m = ctx;
    size_t left = m->size - m->pos;
    if (n > left)
        n = left;
    if (n)
        memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (int64_t)n;
}

int hs_mem_write(void *ctx, const void *buf, size_t n)
{
    hs_mem_sink *s = ctx;
    if (n > SIZE_MAX - s->len)
        return HS_ERR_NOMEM;
    int fail = 0;
    s->data = hs_grow(s->data, &s->cap, s->len + n, 1, 4096, &fail);
    if (fail)
        return HS_ERR_NOMEM;
    if (n)
        memcpy(s->data + s->len, buf, n);
    s->len += n;
    return HS_OK;
}

void hs_mem_sink_release(hs_mem_sink *s)
{
    if (!s)
        return;
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
}

int hs_map_file(const char *path, const uint8_t **data, size_t *size, hs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "%s: %s", path, strerror(e));
        if (err)
            err->sys_errno = e;
        return HS_ERR_IO;
    }
    int rc = HS_OK;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "%s: not a regular file", path);
        goto out;
    }
    *size = (size_t)st.st_size;
    *data = NULL;
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            rc = hs_error_set(err, HS_ERR_IO, HS_NO_OFFSET, "%s: mmap: %s", path, strerror(e));
            goto out;
        }
        *data = p;
    }
out:
    close(fd);
    return rc;
}

void hs_unmap(const uint8_t *data, size_t size)
{
    if (data && size)
        munmap((void *)data, size);
}

void hs_map_drop_pages(const uint8_t *data, size_t size)
{
    /* The whole pages inside the range; a private read-only file mapping is never written,
     * so dropping them loses nothing. */
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096, a = (uintptr_t)data, e = a + size;
    a = (a + page - 1) & ~(page - 1);
    e &= ~(page - 1);
    if (data && e > a)
        madvise((void *)a, e - a, MADV_DONTNEED);
}
