/* dump_clock.h - the monotonic clock the dumper times its captures, pauses and waits with. */
#ifndef DUMP_CLOCK_H
#define DUMP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC (from an arbitrary start; only differences mean anything). */
static inline int64_t dump_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
