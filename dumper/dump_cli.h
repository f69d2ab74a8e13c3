/* dump_cli.h - heapsift-dump's command line: subcommand dispatch, capture/import/list, and
 * the helpers the trigger commands share (durations, sizes, reporting). */
#ifndef DUMP_CLI_H
#define DUMP_CLI_H

#include <stdint.h>

#include "dump_capture.h"
#include "dump_err.h"

enum { DUMP_EXIT_OK = 0, DUMP_EXIT_FAIL = 1, DUMP_EXIT_USAGE = 2 };

/* Runs heapsift-dump with its arguments; returns the exit status. */
int dump_cli_main(int argc, char **argv);

/* Parses "200ms", "2s", "1.5m", "1h", "500us", "10ns" (a bare number is seconds) into
 * nanoseconds. Returns 0, or -1 when malformed or not positive. */
int dump_cli_duration(const char *s, int64_t *ns);

/* Parses "512M", "1G", "64KiB", "100MB", "4096" (K/M/G/T are powers of 1024) into bytes. */
int dump_cli_size(const char *s, uint64_t *bytes);

/* Prints a failed command's error with the hint that goes with its kind. */
void dump_cli_error(const char *cmd, const dump_err *err);

/* Prints what a capture wrote: the path on stdout (when to_stdout) or a line on stderr. */
void dump_cli_report(const dump_capture_result *r, const char *trigger, int to_stdout);

/* Formats a byte count ("1.5 GiB"). */
const char *dump_cli_bytes(uint64_t b, char *buf, size_t size);

#endif
