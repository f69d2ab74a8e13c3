/* dump_snap.c - live snapshots (dump_snap.h): prepare the buffers, stop every thread with
 * PTRACE_SEIZE and PTRACE_INTERRUPT, copy the registers and the memory (dump_snapmem.c),
 * detach. The protocol and why it is safe when heapsift-dump dies are in
 * docs/memory-image.md. */
#include "dump_snap.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dump_clock.h"
#include "dump_proc.h"
#include "dump_snapmem.h"

#define MAX_ROUNDS 1000 /* task scans before threads that keep appearing win */

enum { T_SEIZED, T_STOPPED, T_GONE };

typedef struct thr {
    int tid;
    int state;
    int sig; /* a signal its stop intercepted, delivered again on detach */
} thr;

typedef struct snap {
    int pid;
    thr *t;
    size_t n, cap;
    int64_t t_first; /* the first PTRACE_INTERRUPT; 0 before */
    coremem *m;
    dump_snap_stats *st;
} snap;

/* The value of "Key:" in a /proc status file, or NULL. */
static const char *status_field(const char *status, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && p[klen] == ':')
            return p + klen + 1 + strspn(p + klen + 1, " \t");
    return NULL;
}

static char *read_status(int pid)
{
    char path[64], *s;
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    return dump_proc_slurp(path, 1 << 20, &s, &len) < 0 ? NULL : s;
}

/* Why attaching to pid is refused: a tracer already there, or the uids and Yama's
 * ptrace_scope. what: "attach to"; how: the call that failed. */
static int perm_error(int pid, const char *what, const char *how, int e, dump_err *err)
{
    static const char *const scopes[] = {
        "0 (classic: same uid)", "1 (restricted: only an ancestor process may attach)",
        "2 (admin-only: needs CAP_SYS_PTRACE)", "3 (no attach: ptrace is disabled until reboot)"};
    char *status = read_status(pid), *scope = NULL, owner[32] = "unknown", yama[128] = "";
    const char *uid = status ? status_field(status, "Uid") : NULL;
    const char *tp = status ? status_field(status, "TracerPid") : NULL;
    size_t len;
    if (tp && atoi(tp) > 0) {
        dump_err_set(err, DUMP_ERR_PERM, e,
                     "permission denied: cannot %s process %d (%s: %s): it is already traced "
                     "by process %d (a debugger?), and a process has one tracer at a time",
                     what, pid, how, strerror(e), atoi(tp));
        free(status);
        return -1;
    }
    if (uid)
        snprintf(owner, sizeof owner, "%lu", strtoul(uid, NULL, 10));
    if (dump_proc_slurp("/proc/sys/kernel/yama/ptrace_scope", 64, &scope, &len) == 0) {
        scope[strcspn(scope, "\n")] = '\0';
        int v = atoi(scope);
        snprintf(yama, sizeof yama, "; /proc/sys/kernel/yama/ptrace_scope is %s",
                 v >= 0 && v <= 3 && scope[0] ? scopes[v] : scope);
    }
    dump_err_set(err, DUMP_ERR_PERM, e,
                 "permission denied: cannot %s process %d (%s: %s): this needs the target's "
                 "uid (%s; heapsift-dump runs as uid %u) and a dumpable target, or root "
                 "(CAP_SYS_PTRACE)%s",
                 what, pid, how, strerror(e), owner, (unsigned)getuid(), yama);
    free(status);
    free(scope);
    return -1;
}

/* The process exists, is no zombie and pid is its thread group id. */
static int check_target(int pid, dump_err *err)
{
    char *status = read_status(pid);
    if (!status) {
        if (errno == EACCES)
            return perm_error(pid, "read", "/proc/PID/status", errno, err);
        return dump_err_set(err, DUMP_ERR_NOPROC, ESRCH, "no such process: %d", pid);
    }
    const char *state = status_field(status, "State"), *tgid = status_field(status, "Tgid");
    int rc = 0;
    if (state && (*state == 'Z' || *state == 'X'))
        rc = dump_err_set(err, DUMP_ERR_NOPROC, ESRCH, "no such process: %d (a zombie)", pid);
    else if (tgid && atoi(tgid) != pid)
        rc = dump_err_set(err, DUMP_ERR_NOPROC, ESRCH,
                          "%d is a thread of process %d: snapshot the process", pid, atoi(tgid));
    free(status);
    return rc;
}

/* exe, comm and the auxiliary vector: fixed since exec, read before the process stops. */
static int read_facts(snap *s, dump_err *err)
{
    coremem_info *in = coremem_info_mut(s->m);
    char path[64], *buf = NULL;
    size_t len;
    in->pid = s->pid;
    in->machine = EM_X86_64;
    snprintf(path, sizeof path, "/proc/%d/auxv", s->pid);
    if (dump_proc_slurp(path, 1 << 20, &buf, &len) < 0) {
        if (errno == EACCES || errno == EPERM)
            return perm_error(s->pid, "read the memory of", "/proc/PID/auxv", errno, err);
        if (errno == ENOENT || errno == ESRCH)
            return dump_err_set(err, DUMP_ERR_NOPROC, ESRCH, "no such process: %d", s->pid);
        return dump_err_sys(err, errno, "reading", path);
    }
    for (size_t i = 0; i + 16 <= len; i += 16) {
        uint64_t type, val;
        memcpy(&type, buf + i, 8);
        memcpy(&val, buf + i + 8, 8);
        if (type == AT_ENTRY)
            in->at_entry = val;
        else if (type == AT_PHDR)
            in->at_phdr = val;
    }
    free(buf);
    snprintf(path, sizeof path, "/proc/%d/exe", s->pid);
    ssize_t n = readlink(path, in->exe, sizeof in->exe - 1);
    in->exe[n > 0 ? n : 0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/comm", s->pid);
    if (dump_proc_slurp(path, 64, &buf, &len) == 0) {
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(in->comm, sizeof in->comm, "%s", buf);
        free(buf);
    }
    return 0;
}

static int known(const snap *s, int tid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i].tid == tid)
            return 1;
    return 0;
}

/* Seizes and interrupts tid. Returns 1 when it is ours now, 0 when it is gone, -1 on error. */
static int seize(snap *s, int tid, dump_err *err)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        thr *t = realloc(s->t, cap * sizeof *t);
        if (!t)
            return dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory listing threads");
        s->t = t;
        s->cap = cap;
    }
    /* no options: PTRACE_O_EXITKILL would kill the target with us */
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
        int e = errno;
        if (tid != s->pid && (e == ESRCH || e == EPERM) && s->n > 0) {
            char *status = read_status(tid);
            const char *st = status ? status_field(status, "State") : NULL;
            int gone = !st || *st == 'Z' || *st == 'X';
            free(status);
            if (gone || e == ESRCH)
                return 0; /* a thread that exited meanwhile */
        }
        if (e == ESRCH)
            return dump_err_set(err, DUMP_ERR_NOPROC, e, "no such process: %d", s->pid);
        if (e == EPERM || e == EACCES)
            return perm_error(s->pid, "attach to", "PTRACE_SEIZE", e, err);
        return dump_err_set(err, DUMP_ERR_IO, e, "ptrace(PTRACE_SEIZE) of thread %d of process "
                            "%d: %s", tid, s->pid, strerror(e));
    }
    s->t[s->n++] = (thr){.tid = tid, .state = T_SEIZED};
    if (!s->t_first)
        s->t_first = dump_clock_ns();
    /* ESRCH: it is exiting; waitpid reports that */
    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
    return 1;
}

/* The state letter of /proc/PID/task/TID/stat ('?' when unreadable). */
static char thread_state(int pid, int tid)
{
    char path[64], *stat = NULL, c = '?';
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    if (dump_proc_slurp(path, 4096, &stat, &len) == 0) {
        const char *p = strrchr(stat, ')'); /* comm may hold ')' */
        if (p && p[1] == ' ' && p[2])
            c = p[2];
    }
    free(stat);
    return c;
}

/* Waits until every seized thread has stopped or is gone, until deadline (CLOCK_MONOTONIC
 * ns). Returns 0, or -1 when the process exited or a thread did not stop in time. */
static int wait_stops(snap *s, int64_t deadline, dump_err *err)
{
    for (unsigned spins = 0;; spins++) {
        size_t pending = 0;
        int late = -1;
        for (size_t i = 0; i < s->n; i++) {
            thr *t = &s->t[i];
            if (t->state != T_SEIZED)
                continue;
            int status;
            pid_t r = waitpid(t->tid, &status, WNOHANG | __WALL);
            if (r == 0 || (r < 0 && errno == EINTR)) {
                pending++;
                late = t->tid;
            } else if (r < 0) {
                t->state = T_GONE; /* ECHILD: not ours any more */
            } else if (WIFSTOPPED(status)) {
                t->state = T_STOPPED;
                /* status >> 16 is the ptrace event: 0 for a signal-delivery-stop, whose
                 * signal must not be lost; PTRACE_EVENT_STOP for the interrupt or a
                 * group-stop, which the kernel restores itself on detach */
                if ((status >> 16) == 0)
                    t->sig = WSTOPSIG(status);
            } else {
                t->state = T_GONE;
                if (t->tid == s->pid)
                    return dump_err_set(err, DUMP_ERR_DROPPED, ESRCH,
                                        "process %d exited during the snapshot", s->pid);
            }
        }
        if (!pending)
            return 0;
        int64_t now = dump_clock_ns();
        if (now > deadline) {
            char state = thread_state(s->pid, late);
            return dump_err_set(err, DUMP_ERR_IO, ETIMEDOUT,
                                "thread %d of process %d did not stop within %d ms (state %c%s)",
                                late, s->pid, DUMP_SNAP_STOP_TIMEOUT_MS, state,
                                state == 'D' ? ": an uninterruptible sleep" : "");
        }
        /* stops take microseconds: yield first, then sleep 10 us doubling to 1 ms */
        if (spins < 50) {
            sched_yield();
        } else {
            unsigned shift = (spins - 50) / 4;
            long ns = 10000L << (shift > 7 ? 7 : shift);
            struct timespec ts = {0, ns > 1000000 ? 1000000 : ns};
            nanosleep(&ts, NULL);
        }
    }
}

/* Stops every thread: seizes those /proc/PID/task lists, waits for their stops, and scans
 * again until a scan finds no new thread (stopped threads create none). */
static int attach_all(snap *s, dump_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", s->pid);
    if (seize(s, s->pid, err) < 0)
        return -1;
    int64_t deadline = s->t_first + (int64_t)DUMP_SNAP_STOP_TIMEOUT_MS * 1000000;
    for (;;) {
        if (wait_stops(s, deadline, err) < 0)
            return -1;
        if (++s->st->rounds > MAX_ROUNDS)
            return dump_err_set(err, DUMP_ERR_IO, 0, "process %d: new threads kept appearing "
                                "after %d scans of %s", s->pid, MAX_ROUNDS, path);
        DIR *d = opendir(path);
        if (!d)
            return dump_err_set(err, DUMP_ERR_DROPPED, errno, "process %d exited during the "
                                "snapshot (%s: %s)", s->pid, path, strerror(errno));
        size_t added = 0;
        struct dirent *e;
        int rc = 0;
        while (rc >= 0 && (e = readdir(d))) {
            int tid = atoi(e->d_name);
            if (tid > 0 && !known(s, tid) && (rc = seize(s, tid, err)) > 0)
                added++;
        }
        closedir(d);
        if (rc < 0)
            return -1;
        if (!added)
            return 0;
    }
}

/* Releases every thread: waits (briefly) for the stops still due, detaches the stopped ones
 * with the signals they had, and ends the pause. */
static void detach_all(snap *s)
{
    size_t seized = 0;
    for (size_t i = 0; i < s->n; i++)
        seized += s->t[i].state == T_SEIZED;
    if (seized)
        wait_stops(s, dump_clock_ns() + 1000000000, NULL);
    for (size_t i = 0; i < s->n; i++) {
        if (s->t[i].state != T_STOPPED)
            continue;
        ptrace(PTRACE_DETACH, s->t[i].tid, NULL, (void *)(long)s->t[i].sig);
        s->t[i].state = T_GONE;
    }
    if (s->t_first && !s->st->pause_ns)
        s->st->pause_ns = dump_clock_ns() - s->t_first;
}

static int read_regs(snap *s, dump_err *err)
{
#if defined(__x86_64__)
    for (size_t i = 0; i < s->n; i++) {
        if (s->t[i].state != T_STOPPED)
            continue;
        struct user_regs_struct r;
        if (ptrace(PTRACE_GETREGS, s->t[i].tid, NULL, &r) < 0) {
            if (errno == ESRCH)
                continue; /* killed while stopped */
            return dump_err_set(err, DUMP_ERR_IO, errno, "ptrace(PTRACE_GETREGS) of thread %d: "
                                "%s", s->t[i].tid, strerror(errno));
        }
        coremem_thread t = {.tid = s->t[i].tid, .pc = r.rip, .sp = r.rsp, .bp = r.rbp,
                            .fs_base = r.fs_base};
        hs_error he;
        if (coremem_add_thread(s->m, &t, &he) < 0)
            return dump_err_from_hs(&he, err);
    }
    return 0;
#else
    (void)s;
    return dump_err_set(err, DUMP_ERR_IO, 0, "live snapshots are implemented for x86_64 only");
#endif
}

int dump_snap_take(int pid, coremem **out, dump_snap_stats *st, dump_err *err)
{
    dump_snap_stats local;
    snap s = {.pid = pid, .st = st ? st : &local};
    dump_snapmem *sm = NULL;
    dump_snapmem_stats ms;
    int rc = -1;
    memset(s.st, 0, sizeof *s.st);
    *out = NULL;
    if (pid <= 0) {
        dump_err_set(err, DUMP_ERR_NOPROC, ESRCH, "no such process: %d", pid);
        goto out;
    }
    if (pid == getpid()) {
        dump_err_set(err, DUMP_ERR_IO, EINVAL, "process %d is heapsift-dump itself", pid);
        goto out;
    }
    if (check_target(pid, err) < 0)
        goto out;
    if (!(s.m = coremem_new())) {
        dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory");
        goto out;
    }
    /* everything that needs no stop first: facts, buffers */
    if (read_facts(&s, err) < 0 ||
        dump_snapmem_prepare(pid, coremem_get_info(s.m)->exe, &sm, err) < 0)
        goto out;
    if (attach_all(&s, err) < 0)
        goto out;
    s.st->stop_ns = dump_clock_ns() - s.t_first;
    if (read_regs(&s, err) < 0)
        goto out;
    int64_t c0 = dump_clock_ns();
    if (dump_snapmem_copy(sm, s.m, &ms, err) < 0)
        goto out;
    s.st->copy_ns = dump_clock_ns() - c0;
    detach_all(&s); /* the pause ends here; the rest works on the copy */
    s.st->bytes_copied = ms.bytes_held;
    s.st->bytes_untouched = ms.bytes_untouched;
    s.st->bytes_missing = ms.bytes_missing;
    hs_error he;
    if (coremem_finish(s.m, &he) < 0) {
        dump_err_from_hs(&he, err);
        goto out;
    }
    s.st->threads = coremem_thread_count(s.m);
    s.st->segments = coremem_segment_count(s.m);
    s.st->files = coremem_file_count(s.m);
    *out = s.m;
    s.m = NULL;
    rc = 0;
out:
    detach_all(&s);
    dump_snapmem_free(sm);
    free(s.t);
    coremem_free(s.m);
    return rc;
}
