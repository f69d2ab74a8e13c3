/* dump_trigger.h - captures on triggers: `run` (launch a program, capture it at times,
 * periodically or when its RSS crosses a threshold, forward signals, exit with its status)
 * and `watch` (capture a running process when its RSS crosses a threshold). */
#ifndef DUMP_TRIGGER_H
#define DUMP_TRIGGER_H

/* heapsift-dump run ...; returns the exit status. */
int dump_trigger_run(int argc, char **argv);

/* heapsift-dump watch ...; returns the exit status. */
int dump_trigger_watch(int argc, char **argv);

#endif
