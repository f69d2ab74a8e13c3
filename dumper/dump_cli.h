/* dump_cli.h - heapsift-dump's command line: dispatch to the subcommands capture, import and
 * list (here) and run and watch (dump_trigger.h). */
#ifndef DUMP_CLI_H
#define DUMP_CLI_H

/* Runs heapsift-dump with its arguments (argv[1] is the subcommand); returns the exit status
 * (dump_exit.h's DUMP_EXIT_*, or run's program status). */
int dump_cli_main(int argc, char **argv);

#endif
