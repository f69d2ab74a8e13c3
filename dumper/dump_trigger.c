/* dump_trigger.c - `run` and `watch`: captures fired by time and by RSS. */
#include "dump_trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dump_capture.h"
#include "dump_cli.h"
#include "dump_hook.h"
#include "dump_outfile.h"
#include "dump_proc.h"

#define TRIG_MAX_AT 64
#define TRIG_TICK_NS (20ll * 1000000) /* how often run checks the child and the clock */
#define TRIG_HOOK_POLL_NS (20ll * 1000000)

static const char run_usage[] =
    "usage: heapsift-dump run [OPTIONS] -- PROG ARGS...\n"
    "\n"
    "Launches PROG (which imports heapsift.dev/go/heapsift), waits for its hook, and captures\n"
    "it on the triggers below into DIR. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to\n"
    "heapsift-dump are passed on to PROG. Exits with PROG's status (128+N when a signal N\n"
    "killed it; 1 when PROG exited 0 but a capture failed; 127 when PROG cannot be run).\n"
    "\n"
    "  --at T1,T2,...     capture at these times after the start (e.g. 2s,500ms,1m)\n"
    "  --every D          capture every D ...\n"
    "  --count N          ... at most N times (without --every: at most N RSS captures)\n"
    "  --on-rss SIZE      capture when PROG's RSS reaches SIZE (e.g. 512M); re-armed once it\n"
    "                     drops below\n"
    "  --interval D       how often to sample RSS (default 200ms)\n"
    "  -o, --output DIR   where the .hsd files go (default: the current directory)\n"
    "  --wait-hook D      how long to wait for PROG's hook socket (default 10s)\n"
    "  --stop-after       send SIGTERM to PROG once every trigger has fired\n"
    "  --nogc             no GC before each dump\n";

static const char watch_usage[] =
    "usage: heapsift-dump watch PID --on-rss SIZE [--count N] [--interval 200ms] [-o DIR]\n"
    "                           [--nogc] [--binary BIN]\n"
    "\n"
    "Samples PID's RSS (VmRSS) and captures it each time the RSS reaches SIZE; the trigger is\n"
    "re-armed once the RSS drops below SIZE again. Stops after N captures or when PID exits.\n";

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL); /* a signal may cut it short: callers loop */
}

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int ensure_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
    if (errno != ENOENT)
        return -1;
    return mkdir(dir, 0700);
}

static void fmt_duration(int64_t ns, char *buf, size_t size)
{
    if (ns % 1000000000 == 0)
        snprintf(buf, size, "%llds", (long long)(ns / 1000000000));
    else if (ns % 1000000 == 0)
        snprintf(buf, size, "%lldms", (long long)(ns / 1000000));
    else
        snprintf(buf, size, "%.3fs", (double)ns / 1e9);
}

/* One capture for a trigger; reports success or failure on stderr. Returns 0 or -1. */
static int fire(int pid, const char *sock, const char *dir, const char *binary, int nogc,
                const char *trigger)
{
    static int seq;
    dump_capture_opts o = {.pid = pid, .out_dir = dir, .binary = binary, .sock = sock,
                           .trigger = trigger, .seq = ++seq, .nogc = nogc, .progress = 0};
    dump_capture_result r;
    dump_err err = {0};
    if (dump_capture_run(&o, &r, &err) < 0) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "capture [%s]", trigger);
        dump_cli_error(cmd, &err);
        return -1;
    }
    if (r.warning[0])
        fprintf(stderr, "heapsift-dump: warning: %s\n", r.warning);
    char a[32];
    fprintf(stderr, "heapsift-dump: wrote %s [%s] (heap dump %s, pause %.1f ms)\n", r.path,
            trigger, dump_cli_bytes(r.raw_bytes, a, sizeof a), (double)r.pause_ns / 1e6);
    return 0;
}

/* ---- run ---- */

static volatile sig_atomic_t run_child = 0;

/* Passes a signal on to the child. Signals from the terminal (si_code > 0, e.g. Ctrl-C)
 * already reached the child through its process group: not sent twice. */
static void forward_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (run_child > 0 && (!si || si->si_code <= 0))
        kill((pid_t)run_child, sig);
}

static const int run_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void install_forwarding(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof run_signals / sizeof run_signals[0]; i++)
        sigaction(run_signals[i], &sa, NULL);
}

/* Starts argv[0] with our stdio; returns its pid, or -1 with errno from exec. */
static pid_t spawn(char **argv)
{
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(ep[0]);
        close(ep[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* Dispositions we changed must not leak into the program. */
        signal(SIGPIPE, SIG_DFL);
        for (size_t i = 0; i < sizeof run_signals / sizeof run_signals[0]; i++)
            signal(run_signals[i], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close(ep[0]);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(ep[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(ep[1]);
    int e = 0;
    ssize_t r;
    do
        r = read(ep[0], &e, sizeof e);
    while (r < 0 && errno == EINTR);
    close(ep[0]);
    if (r == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        errno = e;
        return -1;
    }
    return pid;
}

typedef struct run_state {
    pid_t child;
    int exited;
    int status;
} run_state;

static int child_check(run_state *s)
{
    if (s->exited)
        return 1;
    int st;
    pid_t r = waitpid(s->child, &st, WNOHANG);
    if (r == s->child) {
        s->exited = 1;
        s->status = st;
        run_child = 0;
        return 1;
    }
    return 0;
}

static int exit_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return DUMP_EXIT_FAIL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int dump_trigger_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"at", required_argument, 0, 'a'},
        {"every", required_argument, 0, 'e'},
        {"count", required_argument, 0, 'c'},
        {"on-rss", required_argument, 0, 'r'},
        {"interval", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'},
        {"wait-hook", required_argument, 0, 'w'},
        {"stop-after", no_argument, 0, 's'},
        {"nogc", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int64_t at[TRIG_MAX_AT];
    size_t nat = 0;
    int64_t every = 0, interval = 200ll * 1000000, wait_hook = 10ll * 1000000000;
    long count = 0;
    uint64_t rss = 0;
    const char *dir = ".";
    int stop_after = 0, nogc = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': {
            char *list = strdup(optarg), *save = NULL;
            for (char *t = list ? strtok_r(list, ",", &save) : NULL; t;
                 t = strtok_r(NULL, ",", &save)) {
                if (nat == TRIG_MAX_AT || dump_cli_duration(t, &at[nat]) < 0) {
                    fprintf(stderr, "heapsift-dump run: bad --at time '%s' (at most %d, "
                                    "like 2s or 500ms)\n", t, TRIG_MAX_AT);
                    free(list);
                    return DUMP_EXIT_USAGE;
                }
                nat++;
            }
            free(list);
            break;
        }
        case 'e':
            if (dump_cli_duration(optarg, &every) < 0) {
                fprintf(stderr, "heapsift-dump run: bad --every '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'c':
            if (parse_count(optarg, &count) < 0) {
                fprintf(stderr, "heapsift-dump run: bad --count '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'r':
            if (dump_cli_size(optarg, &rss) < 0) {
                fprintf(stderr, "heapsift-dump run: bad --on-rss size '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'i':
            if (dump_cli_duration(optarg, &interval) < 0) {
                fprintf(stderr, "heapsift-dump run: bad --interval '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'o': dir = optarg; break;
        case 'w':
            if (dump_cli_duration(optarg, &wait_hook) < 0) {
                fprintf(stderr, "heapsift-dump run: bad --wait-hook '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 's': stop_after = 1; break;
        case 'n': nogc = 1; break;
        case 'h': fputs(run_usage, stdout); return DUMP_EXIT_OK;
        default: fputs(run_usage, stderr); return DUMP_EXIT_USAGE;
        }
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (optind >= argc) {
        fputs(run_usage, stderr);
        return DUMP_EXIT_USAGE;
    }
    if (count && !every && !rss) {
        fprintf(stderr, "heapsift-dump run: --count needs --every or --on-rss\n");
        return DUMP_EXIT_USAGE;
    }
    qsort(at, nat, sizeof at[0], cmp_i64);
    if (ensure_dir(dir) < 0) {
        fprintf(stderr, "heapsift-dump run: output directory %s: %s\n", dir, strerror(errno));
        return DUMP_EXIT_FAIL;
    }

    install_forwarding();
    int64_t t0 = mono_ns();
    run_state s = {.child = spawn(argv + optind)};
    if (s.child < 0) {
        fprintf(stderr, "heapsift-dump run: cannot run %s: %s\n", argv[optind], strerror(errno));
        return 127;
    }
    run_child = s.child;

    /* Wait for the hook's socket to answer. */
    char sock[PATH_MAX];
    int have_hook = 0, failures = 0;
    dump_err err = {0};
    while (!child_check(&s)) {
        dump_hook_info info;
        if (dump_capture_locate(s.child, sock, sizeof sock, &info, &err) == 0) {
            have_hook = 1;
            break;
        }
        if (err.kind == DUMP_ERR_PERM)
            break;
        if (mono_ns() - t0 > wait_hook)
            break;
        sleep_ns(TRIG_HOOK_POLL_NS);
    }
    if (!have_hook && !s.exited) {
        char d[32];
        fmt_duration(wait_hook, d, sizeof d);
        dump_cli_error("run", &err);
        fprintf(stderr, "heapsift-dump run: no hook answered within %s: no captures\n", d);
        failures++;
        if (stop_after)
            kill(s.child, SIGTERM);
    }

    size_t next_at = 0;
    long every_done = 0, rss_done = 0;
    int armed = 1;
    int64_t next_every = every ? t0 + every : 0, next_rss = t0;
    int stopped = 0;
    while (have_hook && !child_check(&s)) {
        int64_t now = mono_ns();
        char trig[96];
        if (next_at < nat && now - t0 >= at[next_at]) {
            char d[32];
            fmt_duration(at[next_at], d, sizeof d);
            snprintf(trig, sizeof trig, "at %s", d);
            next_at++;
            failures += fire(s.child, sock, dir, NULL, nogc, trig) < 0;
            continue;
        }
        if (every && (!count || every_done < count) && now >= next_every) {
            char d[32];
            fmt_duration(every, d, sizeof d);
            every_done++;
            snprintf(trig, sizeof trig, "every %s #%ld", d, every_done);
            next_every += every;
            if (next_every < mono_ns())
                next_every = mono_ns(); /* a slow capture delays, never bunches, the next */
            failures += fire(s.child, sock, dir, NULL, nogc, trig) < 0;
            continue;
        }
        long rss_limit = every ? 0 : count;
        if (rss && (!rss_limit || rss_done < rss_limit) && now >= next_rss) {
            next_rss = now + interval;
            uint64_t cur;
            if (dump_proc_rss(s.child, &cur) == 0) {
                if (cur >= rss && armed) {
                    char a[32], b[32];
                    snprintf(trig, sizeof trig, "rss %s >= %s",
                             dump_cli_bytes(cur, a, sizeof a), dump_cli_bytes(rss, b, sizeof b));
                    armed = 0;
                    rss_done++;
                    failures += fire(s.child, sock, dir, NULL, nogc, trig) < 0;
                    continue;
                }
                if (cur < rss)
                    armed = 1;
            }
        }
        int done = next_at >= nat && (!every || (count && every_done >= count)) &&
                   (!rss || (!every && count && rss_done >= count));
        if (done && !stopped) {
            if (!stop_after)
                break;
            kill(s.child, SIGTERM);
            stopped = 1;
        }
        sleep_ns(TRIG_TICK_NS);
    }
    /* Triggers done (or no hook): wait for the program. */
    while (!s.exited) {
        int st;
        pid_t r = waitpid(s.child, &st, 0);
        if (r == s.child) {
            s.exited = 1;
            s.status = st;
            run_child = 0;
        } else if (r < 0 && errno != EINTR) {
            break;
        }
    }
    int code = exit_status(s.status);
    if (code == 0 && failures)
        code = DUMP_EXIT_FAIL;
    return code;
}

/* ---- watch ---- */

int dump_trigger_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"on-rss", required_argument, 0, 'r'},
        {"count", required_argument, 0, 'c'},
        {"interval", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'},
        {"nogc", no_argument, 0, 'n'},
        {"binary", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t rss = 0;
    long count = 0;
    int64_t interval = 200ll * 1000000;
    const char *dir = ".", *binary = NULL;
    int nogc = 0, c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (dump_cli_size(optarg, &rss) < 0) {
                fprintf(stderr, "heapsift-dump watch: bad --on-rss size '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'c':
            if (parse_count(optarg, &count) < 0) {
                fprintf(stderr, "heapsift-dump watch: bad --count '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'i':
            if (dump_cli_duration(optarg, &interval) < 0) {
                fprintf(stderr, "heapsift-dump watch: bad --interval '%s'\n", optarg);
                return DUMP_EXIT_USAGE;
            }
            break;
        case 'o': dir = optarg; break;
        case 'n': nogc = 1; break;
        case 'b': binary = optarg; break;
        case 'h': fputs(watch_usage, stdout); return DUMP_EXIT_OK;
        default: fputs(watch_usage, stderr); return DUMP_EXIT_USAGE;
        }
    }
    char *end = NULL;
    long pid = optind + 1 == argc ? strtol(argv[optind], &end, 10) : 0;
    if (pid <= 0 || pid > INT_MAX || !end || *end || !rss) {
        fputs(watch_usage, stderr);
        return DUMP_EXIT_USAGE;
    }
    if (ensure_dir(dir) < 0) {
        fprintf(stderr, "heapsift-dump watch: output directory %s: %s\n", dir, strerror(errno));
        return DUMP_EXIT_FAIL;
    }
    /* Fail now, not at the first crossing, when there is nothing to capture. */
    char sock[PATH_MAX];
    dump_hook_info info;
    dump_err err = {0};
    if (dump_capture_locate((int)pid, sock, sizeof sock, &info, &err) < 0) {
        dump_cli_error("watch", &err);
        return DUMP_EXIT_FAIL;
    }
    dump_outfile_install_signals();
    long done = 0;
    int failures = 0, armed = 1;
    char a[32], b[32];
    for (;;) {
        uint64_t cur;
        if (dump_proc_rss((int)pid, &cur) < 0) {
            fprintf(stderr, "heapsift-dump watch: process %ld exited after %ld capture%s\n", pid,
                    done, done == 1 ? "" : "s");
            break;
        }
        if (cur >= rss && armed) {
            char trig[96];
            snprintf(trig, sizeof trig, "rss %s >= %s", dump_cli_bytes(cur, a, sizeof a),
                     dump_cli_bytes(rss, b, sizeof b));
            armed = 0;
            done++;
            failures += fire((int)pid, NULL, dir, binary, nogc, trig) < 0;
            if (count && done >= count)
                break;
            continue;
        }
        if (cur < rss)
            armed = 1;
        sleep_ns(interval);
    }
    return failures || done == 0 ? DUMP_EXIT_FAIL : DUMP_EXIT_OK;
}
