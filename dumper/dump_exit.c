/* dump_exit.c - exit statuses, outcome messages and cleanup on fatal signals. */
#include "dump_exit.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dump_hook.h"
#include "hs_outfile.h"
#include "hs_units.h"

void dump_exit_error(const char *cmd, const dump_err *err)
{
    fprintf(stderr, "heapsift-dump %s: %s\n", cmd, err->msg);
    switch (err->kind) {
    case DUMP_ERR_NOHOOK:
        fprintf(stderr,
                "hint: add the hook to the program's main package and rebuild:\n"
                "          " DUMP_HOOK_IMPORT "\n"
                "      (it is not started when the program runs with HEAPSIFT_HOOK=0)\n");
        break;
    case DUMP_ERR_BUSY:
        fprintf(stderr, "hint: another heapsift-dump is capturing this process; retry when it "
                        "is done\n");
        break;
    case DUMP_ERR_NOSPACE:
        fprintf(stderr, "hint: free some space or write elsewhere with -o\n");
        break;
    default:
        break;
    }
}

int dump_exit_code(const dump_err *err)
{
    switch (err->kind) {
    case DUMP_ERR_FORMAT: case DUMP_ERR_NOPROC: case DUMP_ERR_PERM: return DUMP_EXIT_USAGE;
    default: return DUMP_EXIT_FAIL;
    }
}

void dump_exit_wrote(const dump_capture_result *r, const char *trigger, int to_stdout)
{
    char a[HS_UNITS_BYTES_MAX], b[HS_UNITS_BYTES_MAX];
    if (r->warning[0])
        fprintf(stderr, "heapsift-dump: warning: %s\n", r->warning);
    hs_units_format_bytes(r->out.raw_bytes, HS_UNITS_FIXED1, a, sizeof a);
    if (trigger) {
        fprintf(stderr, "heapsift-dump: wrote %s [%s] (heap dump %s, pause %.1f ms)\n", r->path,
                trigger, a, (double)r->timings.pause_ns / 1e6);
        return;
    }
    if (to_stdout) {
        printf("%s\n", r->path);
        fflush(stdout);
        if (!isatty(STDERR_FILENO))
            return;
    }
    fprintf(stderr, "heapsift-dump: wrote %s (heap dump %s, stored %s, pause %.1f ms)\n", r->path,
            a, hs_units_format_bytes(r->out.file_bytes, HS_UNITS_FIXED1, b, sizeof b),
            (double)r->timings.pause_ns / 1e6);
}

static void on_fatal_signal(int sig)
{
    hs_outfile_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

void dump_exit_install_cleanup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}
