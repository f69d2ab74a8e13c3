/* dump_hook.h - the client side of the hook protocol (dumper/go/PROTOCOL.md): finding the
 * socket of a pid, INFO, and DUMP with the data fd passed by SCM_RIGHTS. */
#ifndef DUMP_HOOK_H
#define DUMP_HOOK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "dump_err.h"
#include "dump_proc.h"

#define DUMP_HOOK_IMPORT "import _ \"heapsift.dev/go/heapsift\""

typedef struct dump_hook_info {
    int proto;
    int pid;
    char go_version[64];
    char exe[PATH_MAX];
    int64_t start_unix_ns;
    int uid;
    char goarch[16];
    int manifest; /* a manifest callback is set */
} dump_hook_info;

typedef struct dump_hook_reply {
    int ok;
    char error[512];      /* the hook's message when !ok */
    int64_t pause_ns;     /* wall time of WriteHeapDump: the stop-the-world pause */
    int64_t gc_ns;        /* runtime.GC before the dump, 0 with nogc */
    uint64_t dump_seq;
    uint8_t *manifest;    /* malloc'd manifest bytes, NULL when none */
    size_t manifest_len;
} dump_hook_reply;

/* Writes the socket path of the process into path: $TMPDIR/heapsift-<uid>/<pid>.sock with the
 * target's TMPDIR, then /tmp (and our own TMPDIR). A socket made before the process started
 * is an earlier process's (pids are reused) and does not count. Fails with DUMP_ERR_NOHOOK
 * when no socket of the process exists, DUMP_ERR_PERM when the directory is not ours to look
 * into. */
int dump_hook_find(const dump_proc_info *p, char *path, size_t size, dump_err *err);

/* Asks the hook at sock for INFO (waiting at most timeout_ms). */
int dump_hook_info_get(const char *sock, int timeout_ms, dump_hook_info *out, dump_err *err);

/* Connects to sock and sends "DUMP[ nogc]\n" with datafd attached. Returns the control
 * connection in *ctl (the caller closes it; the caller also closes its copy of datafd). */
int dump_hook_dump_send(const char *sock, int datafd, int nogc, int *ctl, dump_err *err);

/* Called about every 200 ms while waiting for the reply; a nonzero return gives up. */
typedef int (*dump_hook_tick_fn)(void *ctx);

/* Reads the DUMP reply and its manifest from ctl. A connection that ends before the reply
 * line or inside the manifest is DUMP_ERR_DROPPED; an error reply is DUMP_ERR_BUSY or
 * DUMP_ERR_HOOK. On success *rep owns the manifest (release with dump_hook_reply_release). */
int dump_hook_dump_reply(int ctl, dump_hook_tick_fn tick, void *ctx, dump_hook_reply *rep,
                         dump_err *err);

/* Frees the manifest of a reply. */
void dump_hook_reply_release(dump_hook_reply *rep);

#endif
