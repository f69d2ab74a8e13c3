/* dump_drain.c - pipe -> spool reader thread. */
#include "dump_drain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "dump_clock.h"
#include "hs_io.h"

#define DRAIN_CHUNK ((size_t)1 << 20)
/* Batching: a reader blocked on the pipe is woken by every write of the runtime's 4 KiB
 * buffer (heapdump.go dwrite), and those wake-ups cost the stopped target more than the
 * copies do. After a small read the drain naps briefly so the next read takes a batch; a
 * large read (the pipe filling up) means no nap. 100 us is far below the time the runtime
 * needs to fill the 1 MiB pipe (~4 ms at 250 MB/s). Measured in tests/bench/capture. */
#define DRAIN_NAP_BELOW (DRAIN_CHUNK / 4)
#define DRAIN_NAP_NS 100000L

struct dump_drain {
    int rfd, sfd;
    char path[512];
    pthread_t thread;
    _Atomic uint64_t bytes;
    _Atomic int finished;
    _Atomic int cancel;  /* dump_drain_cancel: stop waiting for more of the stream */
    int cancelled;
    int64_t first_ns, end_ns;
    int write_errno; /* first spool write failure */
    int read_errno;  /* pipe read failure */
};

/* Waits until the pipe has data or end of stream (1), or until cancelled (0). A stalled
 * writer therefore never pins this thread: the capture can give up and join it. */
static int wait_readable(dump_drain *d)
{
    while (!d->cancel) {
        struct pollfd p = {.fd = d->rfd, .events = POLLIN};
        int r = poll(&p, 1, 200);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1; /* let the read report the error */
    }
    d->cancelled = 1;
    return 0;
}

/* Reads and throws away the rest of the stream (after a spool failure). */
static void discard(dump_drain *d, char *buf)
{
    for (;;) {
        if (!wait_readable(d))
            return;
        ssize_t r = read(d->rfd, buf, DRAIN_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        if (!d->first_ns)
            d->first_ns = dump_clock_ns();
        d->bytes += (uint64_t)r;
    }
}

static void *drain_main(void *arg)
{
    dump_drain *d = arg;
    char *buf = NULL;
    int use_splice = 1;
    prctl(PR_SET_TIMERSLACK, 10000UL, 0, 0, 0); /* naps of 100 us, not 100 + 50 */
    for (;;) {
        if (!wait_readable(d))
            break;
        if (use_splice) {
            ssize_t n = splice(d->rfd, NULL, d->sfd, NULL, DRAIN_CHUNK,
                               SPLICE_F_MOVE | SPLICE_F_MORE);
            if (n > 0) {
                if (!d->first_ns)
                    d->first_ns = dump_clock_ns();
                d->bytes += (uint64_t)n;
                if ((size_t)n < DRAIN_NAP_BELOW) {
                    struct timespec ts = {0, DRAIN_NAP_NS};
                    nanosleep(&ts, NULL);
                }
                continue;
            }
            if (n == 0)
                break;
            if (errno == EINTR)
                continue;
            if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
                use_splice = 0; /* the spool's file system cannot splice: copy */
                continue;
            }
            /* A failure of the spool (ENOSPC, EIO) or of the pipe: tell them apart by reading
             * on; splice leaves the unconsumed bytes in the pipe. */
            d->write_errno = errno;
            buf = buf ? buf : malloc(DRAIN_CHUNK);
            if (buf)
                discard(d, buf);
            break;
        }
        if (!buf && !(buf = malloc(DRAIN_CHUNK))) {
            d->read_errno = ENOMEM;
            break;
        }
        ssize_t r = read(d->rfd, buf, DRAIN_CHUNK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            d->read_errno = errno;
            break;
        }
        if (r == 0)
            break;
        if (!d->first_ns)
            d->first_ns = dump_clock_ns();
        if (hs_fd_write(&d->sfd, buf, (size_t)r) < 0) { /* errno says why */
            d->write_errno = errno;
            d->bytes += (uint64_t)r;
            discard(d, buf);
            break;
        }
        d->bytes += (uint64_t)r;
    }
    d->end_ns = dump_clock_ns();
    free(buf);
    d->finished = 1;
    return NULL;
}

void dump_drain_cancel(dump_drain *d)
{
    d->cancel = 1;
}

int dump_drain_start(int pipe_rfd, int spool_fd, const char *spool_path, dump_drain **out,
                     dump_err *err)
{
    *out = NULL;
    dump_drain *d = calloc(1, sizeof *d);
    if (!d)
        return dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory");
    d->rfd = pipe_rfd;
    d->sfd = spool_fd;
    snprintf(d->path, sizeof d->path, "%s", spool_path);
    int rc = 0;
    int e = pthread_create(&d->thread, NULL, drain_main, d);
    if (e) {
        rc = dump_err_set(err, DUMP_ERR_IO, e, "starting the drain thread: %s", strerror(e));
        goto out;
    }
    *out = d;
    d = NULL;
out:
    free(d);
    return rc;
}

uint64_t dump_drain_bytes(const dump_drain *d)
{
    return d->bytes;
}

int dump_drain_finished(const dump_drain *d)
{
    return d->finished;
}

int dump_drain_join(dump_drain *d, uint64_t *bytes, int64_t *drain_ns, dump_err *err)
{
    pthread_join(d->thread, NULL);
    *bytes = d->bytes;
    *drain_ns = d->first_ns ? d->end_ns - d->first_ns : 0;
    int rc = 0;
    if (d->write_errno)
        rc = dump_err_sys(err, d->write_errno, "writing the raw spool in", d->path);
    else if (d->read_errno)
        rc = dump_err_set(err, DUMP_ERR_DROPPED, d->read_errno, "reading the dump pipe: %s",
                          strerror(d->read_errno));
    else if (d->cancelled)
        rc = dump_err_set(err, DUMP_ERR_DROPPED, 0, "the dump stream was abandoned");
    free(d);
    return rc;
}
