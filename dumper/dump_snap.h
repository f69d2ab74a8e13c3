/* dump_snap.h - a live snapshot: the threads and memory of a running process, copied into a
 * coremem (formats/coremem.h) while the process is stopped with ptrace, for the Go runtime
 * walker to read afterwards (docs/memory-image.md "Live snapshots").
 *
 * Usage (heapsift-dump snapshot PID):
 *
 *     coremem *m;
 *     dump_snap_stats st;
 *     dump_err err = {0};
 *     if (dump_snap_take(pid, &m, &st, &err) < 0) {
 *         dump_exit_error("snapshot", &err);      // kind NOPROC, PERM, DROPPED or IO
 *         return DUMP_EXIT_FAIL;
 *     }
 *     // the process runs again; m holds what it had: coremem_read, coremem_thread_get ...
 *     coremem_free(m);
 *
 * The process is stopped only while it is attached and its memory copied (st.pause_ns); all
 * analysis happens afterwards, on the copy. Every thread is seized (PTRACE_SEIZE) and
 * interrupted (PTRACE_INTERRUPT), never sent SIGSTOP: if the calling process dies at any
 * point, even by SIGKILL, the kernel detaches it and the target simply continues. Nothing
 * is installed in the target or in the caller (no signal handlers, no options that outlive
 * the call). The buffers are allocated and faulted in before the stop (dump_snapmem.h), and
 * pages of anonymous memory the process never touched are not read: they are zeros.
 *
 * What is copied: every readable anonymous mapping ([heap], [stack], the Go heap arenas,
 * thread stacks), every private writable file mapping (data and bss) and every mapping of the
 * executable itself. Other file mappings (libraries' text, read-only data), device mappings
 * and mappings larger than the machine's memory and swap (a sanitizer's shadow memory) are
 * segments without bytes; [vvar] and [vsyscall] are left out. A page that cannot be read
 * ends the bytes of its segment (filesz < memsz; a mapping too large to allocate holds none):
 * the rest of it reads as HS_ERR_NOTFOUND and counts in st.bytes_missing. Every file mapping
 * is recorded (coremem_add_file), and the pid, exe (/proc/PID/exe), comm, AT_ENTRY and
 * AT_PHDR (/proc/PID/auxv).
 *
 * Permissions: the caller needs the target's uid or CAP_SYS_PTRACE, and Yama's
 * /proc/sys/kernel/yama/ptrace_scope must allow it (1: only ancestors may attach, unless
 * root; 2: root only; 3: nobody). x86_64 only.
 *
 * ptrace requests are answered only to the thread that attached and waitpid reports the
 * stops: call it from one thread, and do not wait for any child (waitpid(-1)) in another
 * thread meanwhile. */
#ifndef DUMP_SNAP_H
#define DUMP_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "coremem.h"
#include "dump_err.h"

/* How long a thread may take to stop before the snapshot gives up. A thread that has not
 * stopped a second later (an uninterruptible sleep) cannot be detached: it stays attached,
 * and stopped once it stops, until the calling process exits, which the CLI does on this
 * error. */
#define DUMP_SNAP_STOP_TIMEOUT_MS 5000

typedef struct dump_snap_stats {
    int64_t pause_ns;         /* first PTRACE_INTERRUPT to last PTRACE_DETACH */
    int64_t stop_ns;          /* first PTRACE_INTERRUPT until every thread had stopped */
    int64_t copy_ns;          /* copying the memory (part of the pause) */
    uint64_t bytes_copied;    /* bytes held by the segments */
    uint64_t bytes_untouched; /* of those, zeros of anonymous pages the process never touched
                               * (/proc/PID/pagemap): not read */
    uint64_t bytes_missing;   /* bytes of mappings meant to be copied that could not be read */
    size_t threads;
    size_t segments;          /* with or without bytes */
    size_t files;             /* file mappings recorded */
    unsigned rounds;          /* scans of /proc/PID/task until no new thread appeared */
} dump_snap_stats;

/* Stops process pid, copies its threads' registers and its memory into *out, and lets it
 * run again, on failure too. Returns 0, or -1 with err: DUMP_ERR_NOPROC (no such process, a
 * zombie), DUMP_ERR_PERM (not allowed to attach: the message says why, with the uids, an
 * existing tracer and the Yama ptrace_scope), DUMP_ERR_DROPPED (the process exited
 * meanwhile), DUMP_ERR_IO (anything else). st (may be NULL) is filled in either case. The
 * caller frees *out with coremem_free. */
int dump_snap_take(int pid, coremem **out, dump_snap_stats *st, dump_err *err);

#endif
