/* cli.h - shared pieces of the heapsift command line: subcommand table, error printing,
 * human-readable sizes, and a progress bar that shows only when stderr is a terminal. */
#ifndef CLI_H
#define CLI_H

#include <stdint.h>
#include <stdio.h>

#include "hs_error.h"

/* Exit statuses: 0 success, 1 a `check` matched, 2 bad input or usage. */
enum { CLI_OK = 0, CLI_FOUND = 1, CLI_BAD = 2 };

/* Prints "heapsift CMD: <error>" on stderr. */
void cli_report(const char *cmd, const hs_error *err);

/* Prints "heapsift CMD: <message>" on stderr and returns CLI_BAD. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats n bytes the way heapsift's CLI prints sizes ("512 B", "1.5 KiB", "32 MiB":
 * hs_units_format_bytes with HS_UNITS_SHORT) into buf (cap bytes); returns buf. */
const char *cli_size(uint64_t n, char *buf, size_t cap);

/* Parses a size ("512", "64K", "1.5MiB", "2G": hs_units.h's grammar, K = 1024) into *out;
 * returns 0, or -1 when s is not a size (hs_units_parse_size tells why). */
int cli_parse_size(const char *s, uint64_t *out);

/* Parses the value s of option opt of cmd as a whole number >= min (hs_units_parse_count) into
 * *out; returns 0, or prints why and returns -1. */
int cli_parse_count(const char *cmd, const char *opt, const char *s, long min, long *out);

/* Writes a cJSON-produced string to path ("-" = stdout); returns 0 or prints and returns -1. */
int cli_write_text(const char *cmd, const char *path, const char *text);

/* A progress bar on stderr, active only when stderr is a terminal. */
typedef struct cli_progress {
    int active;
    const char *label;
    uint64_t total;
    double started;
    double last_draw;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *label, uint64_t total);
void cli_progress_update(void *p, uint64_t done); /* matches the library's callbacks */
void cli_progress_done(cli_progress *p);

struct source;
/* Opens a dump for a command (source_open), applying HEAPSIFT_MAX_RECORD (bytes: the memory
 * budget of one dump record, default 4 GiB). Prints the error and returns NULL on failure. */
struct source *cli_open(const char *cmd, const char *path, const char *binary);

struct analysis;
struct analysis_options;
/* Opens a dump (cli_open) and runs the analysis with a progress bar; *src receives the open
 * source (close it after freeing the analysis). Prints the error and returns NULL on failure. */
struct analysis *cli_analyze(const char *cmd, const char *path, const char *binary,
                             struct analysis_options *opts, struct source **src);

/* Monotonic seconds. */
double cli_now(void);

/* Subcommands: argc/argv start at the subcommand name. */
int cmd_info(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_path(int argc, char **argv);
int cmd_redact(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
