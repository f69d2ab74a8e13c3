/* inflate_bench - times inflating a .hsd file's heap-dump section alone, with no decoding:
 * the floor under `heapsift info` (tests/bench/analyze prints both).
 *
 * usage: inflate_bench FILE.hsd [THREADS]   (default 2, as the analyzer uses)
 * Prints the raw bytes and the seconds, best of three passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hs_io.h"
#include "hsd.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: inflate_bench FILE.hsd [THREADS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    hs_error err;
    hs_error_clear(&err);
    const uint8_t *data;
    size_t size;
    hsd_reader *r = NULL;
    char msg[512];
    if (hs_map_file(argv[1], &data, &size, &err) < 0 || hsd_reader_open(data, size, &r, &err) < 0) {
        fprintf(stderr, "inflate_bench: %s\n", hs_error_format(&err, msg, sizeof msg));
        return 1;
    }
    long sec = hsd_find_section(r, HSD_SEC_HEAPDUMP);
    if (sec < 0) {
        fprintf(stderr, "inflate_bench: %s has no heap-dump section\n", argv[1]);
        return 1;
    }
    static uint8_t buf[1 << 16];
    double best = 0;
    uint64_t total = 0;
    for (int pass = 0; pass < 3; pass++) {
        double t = now();
        hsd_stream *s;
        if (hsd_stream_open(r, (size_t)sec, threads, &s, &err) < 0) {
            fprintf(stderr, "inflate_bench: %s\n", hs_error_format(&err, msg, sizeof msg));
            return 1;
        }
        int64_t k;
        total = 0;
        while ((k = hsd_stream_read(s, buf, sizeof buf)) > 0)
            total += (uint64_t)k;
        if (k < 0) {
            fprintf(stderr, "inflate_bench: %s\n",
                    hs_error_format(hsd_stream_error(s), msg, sizeof msg));
            return 1;
        }
        hsd_stream_free(s);
        t = now() - t;
        best = pass == 0 || t < best ? t : best;
    }
    printf("%llu %.3f\n", (unsigned long long)total, best);
    hsd_reader_free(r);
    hs_unmap(data, size);
    return 0;
}
