/* snap_bench - the pause of a live snapshot (dumper/dump_snap.c): forks a target that touches
 * MIB MiB of heap (and reserves as much again untouched) and runs THREADS threads, snapshots
 * it RUNS times and prints each run's stop, copy and pause times and the copy rate.
 *
 * Usage: snap_bench [MIB [RUNS [THREADS]]]     (defaults: 500 5 4)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coremem.h"
#include "dump_snap.h"

static volatile int *ready;

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void target(size_t mib, int threads)
{
    size_t len = mib << 20;
    uint8_t *p = malloc(len), *spare = malloc(len); /* spare: mapped, never touched */
    if (!p || !spare)
        _exit(2);
    for (size_t i = 0; i < len; i += 64)
        p[i] = (uint8_t)i;
    pthread_t t;
    for (int i = 0; i < threads; i++)
        pthread_create(&t, NULL, idle, NULL);
    *ready = 1;
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 500;
    int runs = argc > 2 ? atoi(argv[2]) : 5, threads = argc > 3 ? atoi(argv[3]) : 4;
    ready = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ready == MAP_FAILED)
        return 1;
    int pid = fork();
    if (pid == 0)
        target(mib, threads);
    while (!*ready)
        usleep(1000);
    int rc = 0;
    for (int r = 0; r < runs; r++) {
        coremem *m;
        dump_snap_stats st;
        dump_err err = {0};
        if (dump_snap_take(pid, &m, &st, &err) < 0) {
            fprintf(stderr, "snap_bench: %s\n", err.msg);
            rc = 1;
            break;
        }
        double mib_copied = (double)(st.bytes_copied - st.bytes_untouched) / (1 << 20);
        printf("run %d: %zu threads, %zu segments, %.1f MiB read (%.1f MiB untouched), stop %.2f ms, copy %.1f ms "
               "(%.0f MiB/s), pause %.1f ms\n",
               r + 1, st.threads, st.segments, mib_copied, st.bytes_untouched / 1048576.0, st.stop_ns / 1e6, st.copy_ns / 1e6,
               mib_copied / (st.copy_ns / 1e9), st.pause_ns / 1e6);
        coremem_free(m);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return rc;
}
