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
#include "dump_clock.h"
#include "dump_exit.h"
#include "dump_hook.h"
#include "dump_proc.h"
#include "hs_units.h"

#define TRIG_MAX_AT 64
#define TRIG_TICK_NS (20ll * 1000000) /* how often run checks the child and the clock */
#define TRIG_HOOK_POLL_NS (20ll * 1000000)
#define TRIG_INTERVAL_NS (200ll * 1000000)    /* default --interval */
#define TRIG_WAIT_HOOK_NS (10ll * 1000000000) /* default --wait-hook */

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

static void sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL); /* a signal may cut it short: callers loop */
}

/* ---- options ---- */

static int parse_count(const char *s, long *out)
{
    uint64_t v;
    if (hs_units_parse_count(s, 1, LONG_MAX, &v, NULL) < 0)
        return -1;
    *out = (long)v;
    return 0;
}

/* Parses the value s of option `what` of cmd as a positive duration (hs_units.h) into *ns;
 * prints why and returns -1 when it is not one. */
static int opt_duration(const char *cmd, const char *what, const char *s, int64_t *ns)
{
    hs_error he;
    hs_error_clear(&he);
    int64_t v = 0;
    if (hs_units_parse_duration(s, &v, &he) == HS_OK && v <= 0)
        hs_error_set(&he, HS_ERR_ARG, 0, "must be more than 0");
    if (he.status != HS_OK) {
        fprintf(stderr, "heapsift-dump %s: bad %s '%s': %s\n", cmd, what, s, he.msg);
        return -1;
    }
    *ns = v;
    return 0;
}

/* Parses --on-rss of cmd as a positive size (hs_units.h) into *bytes; prints why and returns
 * -1 when it is not one. */
static int opt_size(const char *cmd, const char *s, uint64_t *bytes)
{
    hs_error he;
    hs_error_clear(&he);
    uint64_t v = 0;
    if (hs_units_parse_size(s, &v, &he) == HS_OK && v == 0)
        hs_error_set(&he, HS_ERR_ARG, 0, "must be more than 0");
    if (he.status != HS_OK) {
        fprintf(stderr, "heapsift-dump %s: bad --on-rss size '%s': %s\n", cmd, s, he.msg);
        return -1;
    }
    *bytes = v;
    return 0;
}

/* Parses the comma-separated --at list into at[*nat...]; prints why and returns -1 when an
 * item is not a positive duration or there are more than TRIG_MAX_AT. */
static int opt_at_list(const char *list, int64_t *at, size_t *nat)
{
    int rc = 0;
    char *copy = strdup(list), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        if (*nat == TRIG_MAX_AT) {
            fprintf(stderr, "heapsift-dump run: bad --at time '%s': more than %d times\n", t,
                    TRIG_MAX_AT);
            rc = -1;
            break;
        }
        if ((rc = opt_duration("run", "--at time", t, &at[*nat])) < 0)
            break;
        (*nat)++;
    }
    free(copy);
    return rc;
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

/* ---- captures ---- */

/* The trigger label of an RSS crossing: "rss 81.2 MiB >= 80.0 MiB". */
static const char *rss_label(uint64_t cur, uint64_t limit, char *buf, size_t size)
{
    char a[HS_UNITS_BYTES_MAX], b[HS_UNITS_BYTES_MAX];
    snprintf(buf, size, "rss %s >= %s", hs_units_format_bytes(cur, HS_UNITS_FIXED1, a, sizeof a),
             hs_units_format_bytes(limit, HS_UNITS_FIXED1, b, sizeof b));
    return buf;
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
        dump_exit_error(cmd, &err);
        return -1;
    }
    dump_exit_wrote(&r, trigger, 0);
    return 0;
}

/* ---- run ---- */

/* The options run and watch share. */
typedef struct trig_common {
    uint64_t rss;     /* --on-rss, 0 without */
    long count;       /* --count */
    int64_t interval; /* --interval */
    const char *dir;  /* --output */
    int nogc;         /* --nogc */
} trig_common;

/* getopt_long entries of the shared options, handled by common_opt. */
#define TRIG_COMMON_OPTIONS                                                                   \
    {"on-rss", required_argument, 0, 'r'}, {"count", required_argument, 0, 'c'},            \
        {"interval", required_argument, 0, 'i'}, {"output", required_argument, 0, 'o'},     \
        {"nogc", no_argument, 0, 'n'}

/* Handles option c if it is a shared one: returns 1 (with *bad < 0 and a message printed for a
 * bad value), or 0 when c is not shared. */
static int common_opt(const char *cmd, int c, const char *arg, trig_common *tc, int *bad)
{
    switch (c) {
    case 'r': *bad = opt_size(cmd, arg, &tc->rss); return 1;
    case 'i': *bad = opt_duration(cmd, "--interval", arg, &tc->interval); return 1;
    case 'o': tc->dir = arg; return 1;
    case 'n': tc->nogc = 1; return 1;
    case 'c':
        if ((*bad = parse_count(arg, &tc->count)) < 0)
            fprintf(stderr, "heapsift-dump %s: bad --count '%s'\n", cmd, arg);
        return 1;
    default: return 0;
    }
}

typedef struct run_opts {
    trig_common common;
    int64_t at[TRIG_MAX_AT]; /* --at, sorted */
    size_t nat;
    int64_t every, wait_hook;
    int stop_after;
    char **prog;             /* PROG ARGS..., NULL-terminated */
} run_opts;

typedef struct run_state {
    pid_t child;
    int exited;
    int status;            /* wait status once exited */
    int64_t t0;            /* when the child was started */
    int failures;          /* failed captures (and a hook that never answered) */
    char sock[PATH_MAX];   /* the child's hook socket */
    size_t next_at;        /* index of the next --at time */
    long every_done, rss_done;
    int64_t next_every, next_rss;
    int armed;             /* the RSS trigger fires when the RSS next reaches --on-rss */
} run_state;

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

/* Step 1: the options into *ro. Returns 0 to go on, or -1 with the exit status in *code
 * (usage printed, or 0 after --help). */
static int run_parse(int argc, char **argv, run_opts *ro, int *code)
{
    static const struct option opts[] = {
        TRIG_COMMON_OPTIONS,
        {"at", required_argument, 0, 'a'},
        {"every", required_argument, 0, 'e'},
        {"wait-hook", required_argument, 0, 'w'},
        {"stop-after", no_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *ro = (run_opts){.common = {.interval = TRIG_INTERVAL_NS, .dir = "."},
                     .wait_hook = TRIG_WAIT_HOOK_NS};
    int rc = -1, c;
    *code = DUMP_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        int bad = 0;
        if (common_opt("run", c, optarg, &ro->common, &bad)) {
            if (bad < 0)
                goto out;
            continue;
        }
        switch (c) {
        case 'a': bad = opt_at_list(optarg, ro->at, &ro->nat); break;
        case 'e': bad = opt_duration("run", "--every", optarg, &ro->every); break;
        case 'w': bad = opt_duration("run", "--wait-hook", optarg, &ro->wait_hook); break;
        case 's': ro->stop_after = 1; break;
        case 'h': fputs(run_usage, stdout); *code = DUMP_EXIT_OK; goto out;
        default: fputs(run_usage, stderr); goto out;
        }
        if (bad < 0)
            goto out;
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (optind >= argc) {
        fputs(run_usage, stderr);
        goto out;
    }
    if (ro->common.count && !ro->every && !ro->common.rss) {
        fprintf(stderr, "heapsift-dump run: --count needs --every or --on-rss\n");
        goto out;
    }
    ro->prog = argv + optind;
    qsort(ro->at, ro->nat, sizeof ro->at[0], cmp_i64);
    rc = 0;
out:
    return rc;
}

/* Step 2: starts PROG with signals forwarded to it. Returns 0, or -1 with the exit status in
 * *code (the output directory is unusable: 1; PROG cannot be run: 127). */
static int run_launch(const run_opts *ro, run_state *s, int *code)
{
    int rc = -1;
    if (ensure_dir(ro->common.dir) < 0) {
        fprintf(stderr, "heapsift-dump run: output directory %s: %s\n", ro->common.dir,
                strerror(errno));
        *code = DUMP_EXIT_FAIL;
        goto out;
    }
    install_forwarding();
    s->t0 = dump_clock_ns();
    s->child = spawn(ro->prog);
    if (s->child < 0) {
        fprintf(stderr, "heapsift-dump run: cannot run %s: %s\n", ro->prog[0], strerror(errno));
        *code = 127;
        goto out;
    }
    run_child = s->child;
    rc = 0;
out:
    return rc;
}

/* Step 3: waits (at most --wait-hook) for the child's hook to answer; s->sock is its socket.
 * Returns 1 when it answered; 0 when the child exited first or it never answered (reported,
 * and counted as a failure). */
static int run_wait_hook(const run_opts *ro, run_state *s)
{
    dump_err err = {0};
    while (!child_check(s)) {
        dump_hook_info info;
        if (dump_capture_locate(s->child, s->sock, sizeof s->sock, &info, &err) == 0)
            return 1;
        if (err.kind == DUMP_ERR_PERM || dump_clock_ns() - s->t0 > ro->wait_hook)
            break;
        sleep_ns(TRIG_HOOK_POLL_NS);
    }
    if (!s->exited) {
        char d[32];
        dump_exit_error("run", &err);
        fprintf(stderr, "heapsift-dump run: no hook answered within %s: no captures\n",
                hs_units_format_duration(ro->wait_hook, d, sizeof d));
        s->failures++;
        if (ro->stop_after)
            kill(s->child, SIGTERM);
    }
    return 0;
}

/* Captures the child for trigger; counts a failure. Returns 1 (a capture was made). */
static int run_fire(const run_opts *ro, run_state *s, const char *trigger)
{
    s->failures += fire(s->child, s->sock, ro->common.dir, NULL, ro->common.nogc, trigger) < 0;
    return 1;
}

/* The next --at time, once due. Returns 1 when it fired. */
static int run_due_at(const run_opts *ro, run_state *s, int64_t now)
{
    if (s->next_at >= ro->nat || now - s->t0 < ro->at[s->next_at])
        return 0;
    char d[32], trig[96];
    snprintf(trig, sizeof trig, "at %s",
             hs_units_format_duration(ro->at[s->next_at++], d, sizeof d));
    return run_fire(ro, s, trig);
}

/* --every, once due (and --count not reached). Returns 1 when it fired. */
static int run_due_every(const run_opts *ro, run_state *s, int64_t now)
{
    long count = ro->common.count;
    if (!ro->every || (count && s->every_done >= count) || now < s->next_every)
        return 0;
    char d[32], trig[96];
    snprintf(trig, sizeof trig, "every %s #%ld",
             hs_units_format_duration(ro->every, d, sizeof d), ++s->every_done);
    s->next_every += ro->every;
    if (s->next_every < dump_clock_ns())
        s->next_every = dump_clock_ns(); /* a slow capture delays, never bunches, the next */
    return run_fire(ro, s, trig);
}

/* --on-rss: samples the RSS every --interval and fires when it reaches the threshold while
 * armed (re-armed once below). --count limits it only without --every. Returns 1 when it
 * fired. */
static int run_due_rss(const run_opts *ro, run_state *s, int64_t now)
{
    long limit = ro->every ? 0 : ro->common.count;
    if (!ro->common.rss || (limit && s->rss_done >= limit) || now < s->next_rss)
        return 0;
    s->next_rss = now + ro->common.interval;
    uint64_t cur;
    if (dump_proc_rss(s->child, &cur) < 0)
        return 0;
    if (cur < ro->common.rss)
        s->armed = 1;
    if (cur < ro->common.rss || !s->armed)
        return 0;
    char trig[96];
    s->armed = 0;
    s->rss_done++;
    return run_fire(ro, s, rss_label(cur, ro->common.rss, trig, sizeof trig));
}

/* 1 once no trigger can fire again. */
static int run_all_fired(const run_opts *ro, const run_state *s)
{
    const trig_common *c = &ro->common;
    return s->next_at >= ro->nat && (!ro->every || (c->count && s->every_done >= c->count)) &&
           (!c->rss || (!ro->every && c->count && s->rss_done >= c->count));
}

/* Step 4: the triggers, one capture at a time, until the child exits or every trigger has
 * fired (then, with --stop-after, the child is sent SIGTERM and awaited here). */
static void run_triggers(const run_opts *ro, run_state *s)
{
    s->next_every = ro->every ? s->t0 + ro->every : 0;
    s->next_rss = s->t0;
    s->armed = 1;
    int stopped = 0;
    while (!child_check(s)) {
        int64_t now = dump_clock_ns();
        if (run_due_at(ro, s, now) || run_due_every(ro, s, now) || run_due_rss(ro, s, now))
            continue;
        if (run_all_fired(ro, s) && !stopped) {
            if (!ro->stop_after)
                break;
            kill(s->child, SIGTERM);
            stopped = 1;
        }
        sleep_ns(TRIG_TICK_NS);
    }
}

/* Step 5: waits for the child to exit (its wait status into s->status). */
static void run_wait_exit(run_state *s)
{
    while (!s->exited) {
        int st;
        pid_t r = waitpid(s->child, &st, 0);
        if (r == s->child) {
            s->exited = 1;
            s->status = st;
            run_child = 0;
        } else if (r < 0 && errno != EINTR) {
            break;
        }
    }
}

int dump_trigger_run(int argc, char **argv)
{
    run_opts ro;
    run_state s = {0};
    int code;
    if (run_parse(argc, argv, &ro, &code) < 0 || run_launch(&ro, &s, &code) < 0)
        goto out;
    if (run_wait_hook(&ro, &s))
        run_triggers(&ro, &s);
    run_wait_exit(&s);
    code = exit_status(s.status);
    if (code == 0 && s.failures)
        code = DUMP_EXIT_FAIL;
out:
    return code;
}

/* ---- watch ---- */

typedef struct watch_opts {
    trig_common common;
    int pid;
    const char *binary;
} watch_opts;

/* The options into *wo. Returns 0 to go on, or -1 with the exit status in *code. */
static int watch_parse(int argc, char **argv, watch_opts *wo, int *code)
{
    static const struct option opts[] = {
        TRIG_COMMON_OPTIONS,
        {"binary", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *wo = (watch_opts){.common = {.interval = TRIG_INTERVAL_NS, .dir = "."}};
    int rc = -1, c;
    *code = DUMP_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int bad = 0;
        if (common_opt("watch", c, optarg, &wo->common, &bad)) {
            if (bad < 0)
                goto out;
            continue;
        }
        switch (c) {
        case 'b': wo->binary = optarg; break;
        case 'h': fputs(watch_usage, stdout); *code = DUMP_EXIT_OK; goto out;
        default: fputs(watch_usage, stderr); goto out;
        }
        if (bad < 0)
            goto out;
    }
    uint64_t pid;
    if (optind + 1 != argc || hs_units_parse_count(argv[optind], 1, INT_MAX, &pid, NULL) < 0 ||
        !wo->common.rss) {
        fputs(watch_usage, stderr);
        goto out;
    }
    wo->pid = (int)pid;
    rc = 0;
out:
    return rc;
}

/* Samples the RSS until the process exits or --count captures are made. Returns the number of
 * failed captures; *done receives the number of crossings. */
static int watch_loop(const watch_opts *wo, long *done)
{
    int failures = 0, armed = 1;
    *done = 0;
    for (;;) {
        uint64_t cur;
        if (dump_proc_rss(wo->pid, &cur) < 0) {
            fprintf(stderr, "heapsift-dump watch: process %d exited after %ld capture%s\n",
                    wo->pid, *done, *done == 1 ? "" : "s");
            break;
        }
        if (cur >= wo->common.rss && armed) {
            char trig[96];
            armed = 0;
            (*done)++;
            failures += fire(wo->pid, NULL, wo->common.dir, wo->binary, wo->common.nogc,
                             rss_label(cur, wo->common.rss, trig, sizeof trig)) < 0;
            if (wo->common.count && *done >= wo->common.count)
                break;
            continue;
        }
        if (cur < wo->common.rss)
            armed = 1;
        sleep_ns(wo->common.interval);
    }
    return failures;
}

int dump_trigger_watch(int argc, char **argv)
{
    watch_opts wo;
    int code;
    if (watch_parse(argc, argv, &wo, &code) < 0)
        goto out;
    code = DUMP_EXIT_FAIL;
    if (ensure_dir(wo.common.dir) < 0) {
        fprintf(stderr, "heapsift-dump watch: output directory %s: %s\n", wo.common.dir,
                strerror(errno));
        goto out;
    }
    /* Fail now, not at the first crossing, when there is nothing to capture. */
    char sock[PATH_MAX];
    dump_hook_info info;
    dump_err err = {0};
    if (dump_capture_locate(wo.pid, sock, sizeof sock, &info, &err) < 0) {
        dump_exit_error("watch", &err);
        goto out;
    }
    dump_exit_install_cleanup();
    long done;
    int failures = watch_loop(&wo, &done);
    code = failures || done == 0 ? DUMP_EXIT_FAIL : DUMP_EXIT_OK;
out:
    return code;
}
