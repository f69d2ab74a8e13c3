/* par.c - a loop split over threads (see par.h). */
#include "par.h"

#include <pthread.h>
#include <unistd.h>

typedef struct par_job {
    void (*fn)(void *ctx, unsigned part, size_t lo, size_t hi);
    void *ctx;
    unsigned part;
    size_t lo, hi;
} par_job;

static void *run_job(void *arg)
{
    par_job *j = arg;
    j->fn(j->ctx, j->part, j->lo, j->hi);
    return NULL;
}

/* One part per online CPU, at most PAR_MAX_PARTS. */
static unsigned par_parts(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > PAR_MAX_PARTS ? PAR_MAX_PARTS : (unsigned)cpus;
}

void par_for(size_t n, size_t min_split, void (*fn)(void *ctx, unsigned part, size_t lo, size_t hi),
             void *ctx)
{
    unsigned parts = n >= min_split && n > 1 ? par_parts() : 1;
    par_job jobs[PAR_MAX_PARTS];
    pthread_t tids[PAR_MAX_PARTS];
    int started[PAR_MAX_PARTS] = {0};
    for (unsigned p = 0; p < parts; p++)
        jobs[p] = (par_job){fn, ctx, p, n / parts * p, p + 1 == parts ? n : n / parts * (p + 1)};
    for (unsigned p = 1; p < parts; p++)
        started[p] = pthread_create(&tids[p], NULL, run_job, &jobs[p]) == 0;
    run_job(&jobs[0]);
    for (unsigned p = 1; p < parts; p++) {
        if (started[p])
            pthread_join(tids[p], NULL);
        else
            run_job(&jobs[p]);
    }
}
