/* dump_drain.h - a thread that drains the dump pipe into a raw spool file as fast as it can
 * (splice, or 1 MiB reads), so the pipe is never what keeps the target's world stopped. When
 * the spool cannot be written (disk full) it keeps reading and discarding until end of stream:
 * the target must be able to finish its dump whatever happens here. */
#ifndef DUMP_DRAIN_H
#define DUMP_DRAIN_H

#include <stdint.h>

#include "dump_err.h"

typedef struct dump_drain dump_drain;

/* Starts draining pipe_rfd into spool_fd (at its current offset). spool_path names the spool
 * in messages. The drain owns neither fd. */
int dump_drain_start(int pipe_rfd, int spool_fd, const char *spool_path, dump_drain **out,
                     dump_err *err);

/* Bytes read from the pipe so far (any thread). */
uint64_t dump_drain_bytes(const dump_drain *d);

/* 1 once the pipe reached end of stream (any thread). */
int dump_drain_finished(const dump_drain *d);

/* Makes the drain stop waiting for more of the stream (the writer stalled); dump_drain_join
 * then returns promptly and reports the capture as incomplete. Any thread. */
void dump_drain_cancel(dump_drain *d);

/* Waits for end of stream, frees the drain, and reports the bytes stored and the time from
 * the first byte to end of stream. Fails when the spool could not be written. */
int dump_drain_join(dump_drain *d, uint64_t *bytes, int64_t *drain_ns, dump_err *err);

#endif
