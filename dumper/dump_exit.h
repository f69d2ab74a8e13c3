/* dump_exit.h - how a heapsift-dump command ends: its exit status, what it prints about the
 * outcome (an error with the hint for its kind, the file a capture wrote), and the removal of
 * unfinished output files when a signal ends the process. Shared by dump_cli.c (capture,
 * import, list) and dump_trigger.c (run, watch). */
#ifndef DUMP_EXIT_H
#define DUMP_EXIT_H

#include "dump_capture.h"
#include "dump_err.h"

enum { DUMP_EXIT_OK = 0, DUMP_EXIT_FAIL = 1, DUMP_EXIT_USAGE = 2 };

/* Prints "heapsift-dump CMD: <message>" on stderr, then the hint that goes with err's kind. */
void dump_exit_error(const char *cmd, const dump_err *err);

/* The exit status of a failed import or snapshot: DUMP_EXIT_USAGE (2) for input that cannot
 * be read (a malformed or mismatched file, no such process, no permission), DUMP_EXIT_FAIL
 * otherwise. */
int dump_exit_code(const dump_err *err);

/* Prints what a capture wrote (and its warning, if any) on stderr. Without a trigger: the path
 * on stdout when to_stdout, and a line with the sizes and pause on stderr unless stdout got the
 * path and stderr is not a terminal. With a trigger (run, watch): one stderr line naming it. */
void dump_exit_wrote(const dump_capture_result *r, const char *trigger, int to_stdout);

/* Installs handlers for SIGINT, SIGTERM and SIGHUP that remove every unfinished output file
 * (hs_outfile_cleanup) and then die by the same signal. */
void dump_exit_install_cleanup(void);

#endif
