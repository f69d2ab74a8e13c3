/* dump_capture.h - the capture pipeline: find the hook, hand it the write end of a pipe, drain
 * the pipe into a raw spool while the world is stopped, and only after the hook's reply (the
 * world runs again) compress the spool into the .hsd. Also import of a raw dump file. */
#ifndef DUMP_CAPTURE_H
#define DUMP_CAPTURE_H

#include <limits.h>
#include <stdint.h>

#include "dump_err.h"
#include "gocore.h"
#include "dump_hook.h"
#include "dump_hsdout.h"

typedef struct dump_capture_opts {
    int pid;
    const char *out_path; /* the .hsd (replaced if it exists); NULL: auto name in out_dir */
    const char *out_dir;  /* directory for the auto name; NULL: "." */
    const char *binary;   /* symbols from this file; NULL: /proc/PID/exe */
    const char *sock;     /* hook socket when already known; NULL: discover */
    const char *trigger;  /* recorded in META ("manual" when NULL) */
    int seq;              /* > 0: appended to the auto name ("-3"), for series of captures */
    int nogc;
    int redact;           /* store the dump redacted (no contents but pointers) */
    int stall_seconds;    /* give up after this long without dump data (0: 60 s) */
    int progress;         /* progress line on stderr */
} dump_capture_opts;

typedef struct dump_capture_result {
    char path[PATH_MAX];          /* the .hsd written */
    char manifest_path[PATH_MAX]; /* FILE.manifest.json, "" when the hook sent none */
    char warning[512];            /* e.g. symbols unavailable; "" when none */
    dump_hsdout_timings timings;  /* pause, GC, drain (capture; zero for an import) */
    dump_hsdout_out out;          /* sizes and compression time of the .hsd */
    gocore_report core;           /* a core import or snapshot: what was found and lost */
} dump_capture_result;

/* Captures one heap dump of o->pid into a .hsd (all of it, or no file at all). Returns 0 with
 * *r filled (plain data, nothing to release), or -1 with err set. */
int dump_capture_run(const dump_capture_opts *o, dump_capture_result *r, dump_err *err);

/* Baseline for benchmarks: the hook's runtime writes the dump straight into path (a regular
 * file, 0600). Returns 0 with *rep filled (the caller releases it with
 * dump_hook_reply_release), or -1 with err set. */
int dump_capture_raw_to_file(int pid, const char *path, int nogc, dump_hook_reply *rep,
                             dump_err *err);

/* Wraps a raw dump written by debug.WriteHeapDump, or the heap rebuilt from an ELF core file
 * of a process that ran binary (formats/gocore.h), and the symbols of binary into out
 * (replaced if it exists; progress on stderr when progress is set). Returns 0 with *r
 * filled, or -1 with err set and no file written. */
int dump_capture_import(const char *raw, const char *binary, const char *out, int progress,
                        dump_capture_result *r, dump_err *err);

/* Snapshots the running process pid (stopped only while its memory is copied, dump_snap.h)
 * and writes the heap rebuilt from that memory, with the symbols of binary (NULL:
 * /proc/PID/exe), into out. Returns 0 with *r filled (r->timings.pause_ns: the stop), or -1
 * with err set, no file written and the process running. */
int dump_capture_snapshot(int pid, const char *binary, const char *out, int progress,
                          dump_capture_result *r, dump_err *err);

/* Writes the default output name, DIR/heapsift-PID-YYYYmmdd-HHMMSS[-SEQ].hsd (local time; SEQ
 * only when seq > 0; DIR "." when dir is NULL), into out (size bytes). */
void dump_capture_default_name(int pid, const char *dir, int seq, char *out, size_t size);

/* Finds the hook socket of pid and checks that it answers INFO. Returns 0 with the socket path
 * in path (size bytes) and the answer in *info, or -1 with err set. */
int dump_capture_locate(int pid, char *path, size_t size, dump_hook_info *info, dump_err *err);

#endif
