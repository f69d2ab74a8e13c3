/* dump_outfile.h - output files that never exist half-written: created 0600 without a name
 * (O_TMPFILE) or under a temporary name (O_EXCL) in the destination directory and given their
 * final name only when complete; removed on failure and on SIGINT/SIGTERM/SIGHUP. Also the
 * raw spool (an unnamed 0600 file in the output directory). */
#ifndef DUMP_OUTFILE_H
#define DUMP_OUTFILE_H

#include <limits.h>
#include <stddef.h>

#include "dump_err.h"

typedef struct dump_outfile {
    int fd;                /* write here; -1 when closed */
    char path[PATH_MAX];   /* the final name (after commit: the name it got) */
    char dir[PATH_MAX];    /* its directory */
    char tmp[PATH_MAX];    /* the temporary name, "" while the file is nameless */
    int replace;           /* commit replaces an existing file at path */
    int slot;              /* cleanup registry slot, -1 when none */
} dump_outfile;

/* Creates an unnamed (or temporarily named) 0600 file that will become path. With replace 0
 * an existing path is kept and commit picks "NAME-2.EXT", "NAME-3.EXT", ... instead. */
int dump_outfile_open(dump_outfile *f, const char *path, int replace, dump_err *err);

/* Gives the complete file its final name (f->path is updated) and closes it. */
int dump_outfile_commit(dump_outfile *f, dump_err *err);

/* Closes and removes an unfinished file (safe to call after commit or twice). */
void dump_outfile_abort(dump_outfile *f);

/* Writes a whole small file atomically (0600, temp + rename). */
int dump_outfile_write_all(const char *path, const void *data, size_t len, dump_err *err);

/* Opens an unnamed 0600 read-write spool file in dir (O_TMPFILE, or a temp file unlinked at
 * once). Returns the fd or -1. */
int dump_outfile_spool(const char *dir, dump_err *err);

/* Installs handlers for SIGINT, SIGTERM and SIGHUP that remove every temporary file still
 * registered and then die by the same signal. */
void dump_outfile_install_signals(void);

/* Removes registered temporary files (async-signal-safe). */
void dump_outfile_cleanup(void);

/* The directory part of path ("." when there is none) into dir. */
void dump_outfile_dir(const char *path, char *dir, size_t size);

#endif
