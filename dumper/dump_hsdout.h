/* dump_hsdout.h - composing a .hsd from a raw heap dump: HEAPDUMP (the raw bytes, checked
 * with the gohd reader on the way through: a stream without its EOF record is refused),
 * SYMTAB, MAPS, MANIFEST and, last, META (JSON) with the capture's facts and timings. */
#ifndef DUMP_HSDOUT_H
#define DUMP_HSDOUT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dump_err.h"
#include "symtab.h"
#include "typetab.h"

/* A capture's timings: the hook's DUMP reply and the drain of the stream. */
typedef struct dump_hsdout_timings {
    int64_t pause_ns;  /* wall time of WriteHeapDump: the stop-the-world pause */
    int64_t gc_ns;     /* runtime.GC before the dump, 0 with nogc */
    int64_t drain_ns;  /* first byte to end of stream */
    uint64_t dump_seq; /* the hook's count of dumps */
} dump_hsdout_timings;

typedef struct dump_hsdout_meta {
    int pid;                 /* 0: no process (import) */
    int uid;                 /* -1: unknown */
    const char *exe;         /* NULL: omitted */
    const char *cmdline;     /* NUL-separated arguments, NULL: omitted */
    size_t cmdline_len;
    struct timespec captured_at;
    uint64_t start_unix_ns;  /* 0: omitted */
    uint64_t rss_bytes;      /* 0: omitted */
    const char *go_version;  /* NULL: the dump's params record */
    const char *trigger;     /* "manual", "at 2s", "rss >= 512 MiB", "import" */
    const char *imported_from;
    const char *symbols_from; /* the binary the symbols were read from */
    int nogc;
    int redacted;            /* non-pointer bytes zeroed (formats/redact.h) */
    int has_timings;         /* timings (and nogc) are known: a capture, not an import */
    const char *source;      /* how the heap was read: "hook", "import" (a runtime heap
                              * dump), "core" or "snapshot" (rebuilt from memory) */
    const char *const *unrecovered; /* what a core or snapshot could not recover, one line
                                     * each (nunrecovered of them) */
    size_t nunrecovered;
    int64_t snapshot_pause_ns;  /* snapshot: how long the process was stopped */
    dump_hsdout_timings timings;
} dump_hsdout_meta;

/* Called while compressing with the raw bytes consumed so far. */
typedef void (*dump_hsdout_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct dump_hsdout_in {
    dump_hsdout_meta meta;
    const symtab *syms;       /* NULL: no SYMTAB section */
    const char *syms_name;    /* section label */
    const typetab *types;     /* NULL: no TYPES section (no DWARF) */
    const char *maps;         /* /proc/PID/maps text, NULL: no MAPS section */
    size_t maps_len;
    int raw_fd;               /* the raw heap dump, read with pread from offset 0 */
    uint64_t raw_len;
    const uint8_t *manifest;  /* NULL: no MANIFEST section */
    size_t manifest_len;
    int threads;              /* compression threads (0: 2) */
    int redact;               /* store the dump redacted (formats/redact.h); drops MANIFEST */
    dump_hsdout_progress_fn progress;
    void *progress_ctx;
} dump_hsdout_in;

typedef struct dump_hsdout_out {
    uint64_t raw_bytes;      /* heap-dump bytes stored */
    uint64_t stored_bytes;   /* their compressed size */
    uint64_t file_bytes;     /* size of the .hsd */
    int64_t compress_ns;     /* time to check and compress the heap dump */
    char go_version[64];     /* from the params record */
    char goarch[16];
} dump_hsdout_out;

/* Writes a complete .hsd to out_fd (path names it in messages). A stream that ends without its
 * EOF record fails with DUMP_ERR_DROPPED, a malformed one with DUMP_ERR_FORMAT, a full disk
 * with DUMP_ERR_NOSPACE. */
int dump_hsdout_write(int out_fd, const char *path, const dump_hsdout_in *in,
                      dump_hsdout_out *res, dump_err *err);

/* Formats a realtime timestamp as ISO-8601 UTC with milliseconds ("2024-05-01T12:00:00.123Z"). */
void dump_hsdout_iso8601(const struct timespec *ts, char *buf, size_t size);

#endif
