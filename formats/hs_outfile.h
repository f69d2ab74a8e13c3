/* hs_outfile.h - output files that never exist half-written: created 0600 without a name
 * (O_TMPFILE) or under a temporary name (".NAME.tmp-XXXXXX", O_EXCL) in the destination
 * directory, and given their final name only when complete; an aborted file leaves nothing.
 * Also unnamed 0600 scratch (spool) files.
 *
 * Temporary names live in a small process-wide registry so that a signal handler can remove
 * them (hs_outfile_cleanup); the library installs no handler itself. Not thread-safe: open,
 * commit and abort files from one thread.
 *
 * Errors: HS_ERR_IO for a failed system call, with sys_errno set and the message "WHAT PATH:
 * strerror" (e.g. "creating a file in /out: No space left on device"); HS_ERR_ARG for a path
 * that is too long or a file already closed.
 */
#ifndef HS_OUTFILE_H
#define HS_OUTFILE_H

#include <limits.h>
#include <stddef.h>

#include "hs_error.h"

/* hs_outfile_open flags. */
enum {
    HS_OUTFILE_REPLACE = 1, /* commit replaces a file at path; without it an existing file is
                               kept and the new one named "NAME-2.EXT", "NAME-3.EXT", ... */
    HS_OUTFILE_SYNC = 2,    /* fsync before naming: the named file is on disk */
    HS_OUTFILE_NAMED = 4,   /* a named temporary file even where O_TMPFILE works (tests) */
};

typedef struct hs_outfile {
    int fd;              /* write here; -1 when closed */
    char path[PATH_MAX]; /* the final name (after commit: the name it got) */
    char dir[PATH_MAX];  /* its directory */
    char tmp[PATH_MAX];  /* the temporary name, "" while the file is nameless */
    int flags;           /* HS_OUTFILE_* */
    int slot;            /* cleanup registry slot, -1 when none */
} hs_outfile;

/* A closed file: hs_outfile_abort on it does nothing (for `goto out` cleanups). */
#define HS_OUTFILE_INIT {.fd = -1, .slot = -1}

/* Creates the 0600 file that will become path (flags: HS_OUTFILE_*) and fills *f; write to
 * f->fd. The caller owns *f and ends it with hs_outfile_commit or hs_outfile_abort. Returns
 * HS_OK, or an error with *f closed (abort is then harmless). */
int hs_outfile_open(const char *path, int flags, hs_outfile *f, hs_error *err);

/* Gives the complete file its final name (f->path becomes the name it got) and closes it.
 * Returns HS_OK, or an error after which nothing of the file is left. */
int hs_outfile_commit(hs_outfile *f, hs_error *err);

/* Closes and removes an unfinished file (harmless after commit, on HS_OUTFILE_INIT and twice). */
void hs_outfile_abort(hs_outfile *f);

/* Writes a whole small file at path the same way (0600, complete or absent; flags as for
 * hs_outfile_open). Returns HS_OK or an error. */
int hs_outfile_write_all(const char *path, const void *data, size_t len, int flags,
                         hs_error *err);

/* Opens an unnamed 0600 read-write scratch file in dir (O_TMPFILE, or a temporary file
 * unlinked at once) into *fd, which the caller closes. Returns HS_OK or an error. */
int hs_outfile_spool(const char *dir, int *fd, hs_error *err);

/* Removes every registered temporary name. Async-signal-safe: for signal handlers. */
void hs_outfile_cleanup(void);

/* Writes the directory part of path ("." when there is none, "/" for "/x") into dir. */
void hs_outfile_dir(const char *path, char *dir, size_t size);

#endif
