/* heapsift - offline analysis of Go heap dumps. Dispatches git-style subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hs_version.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"analyze", cmd_analyze, "the full report: ghosts, finalizer pins, closure cycles, tables"},
    {"check", cmd_check, "exit 1 when a finding of the given kinds exists (for CI gates)"},
    {"diff", cmd_diff, "compare two dumps of one process: growth and exact ghosts"},
    {"info", cmd_info, "what a dump holds: records, objects, goroutines, finalizers, globals"},
    {"path", cmd_path, "the shortest path from a root to an object"},
    {"redact", cmd_redact, "copy a dump keeping the pointer graph, zeroing all other bytes"},
    {"show", cmd_show, "one object: type, closure, liveness, fields, referrers"},
    {"top", cmd_top, "largest groups of live objects, or top retainers"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: heapsift COMMAND [ARGS]   (heapsift COMMAND --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_BAD;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("heapsift %s\n", HEAPSIFT_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "heapsift: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_BAD;
}
