/* Unit tests for dump_snap (live snapshots) on real processes forked here, and for coremem on
 * a real kernel core of the same kind of process:
 *   - a child with threads spinning, sleeping, polling and waiting on a condition, with known
 *     patterns in heap buffers and on its stack: every thread is in the snapshot with its
 *     stack pointer in a held segment, the patterns read back, the facts (exe, comm, auxv) are
 *     the child's, and afterwards every thread runs again without having seen EINTR;
 *   - a stopped (SIGSTOP) child stays stopped after a snapshot;
 *   - a dumper SIGKILLed while its target (500 MiB touched) is stopped leaves it running;
 *   - a pid that does not exist fails with DUMP_ERR_NOPROC; attaching as another user or to
 *     a process already traced fails with DUMP_ERR_PERM saying so;
 *   - a core the kernel writes for the same child (abort) reads with coremem_from_core.
 * Needs ptrace (skipped when attaching is not allowed here). Runs from tests/unit.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "coremem.h"
#include "dump_snap.h"
#include "hs_io.h"

#define NTHREADS 4 /* besides the main thread */
#define NBUFS 3

/* What the child tells the test, in memory both share. */
typedef struct shared {
    int ready, pid;
    int tids[NTHREADS + 1];
    uint64_t counter[NTHREADS + 1];
    int eintr; /* a call of the child that failed with EINTR */
    uint64_t buf[NBUFS], buf_len[NBUFS];
    uint64_t stack_pat; /* address of a pattern on the main thread's stack */
    int kind;           /* a helper's dump_snap_take result */
    char msg[1024];
} shared;

static shared *sh;

static uint8_t pat(size_t b, uint64_t i)
{
    return (uint8_t)((i * 131 + b * 17) ^ (i >> 12));
}

static void bump(int i)
{
    __atomic_add_fetch(&sh->counter[i], 1, __ATOMIC_RELAXED);
}

static uint64_t count(int i)
{
    return __atomic_load_n(&sh->counter[i], __ATOMIC_RELAXED);
}

static void note_eintr(int r)
{
    if (r < 0 && errno == EINTR)
        __atomic_add_fetch(&sh->eintr, 1, __ATOMIC_RELAXED);
}

/* Thread i: 1 spins, 2 sleeps in nanosleep, 3 polls a pipe, 4 waits on a condition. */
static void *child_thread(void *arg)
{
    int i = (int)(intptr_t)arg, fds[2] = {-1, -1};
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    __atomic_store_n(&sh->tids[i], (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    if (i == 3 && pipe(fds) < 0)
        _exit(3);
    for (uint64_t n = 0;; n++) {
        if (i == 1) {
            bump(i);
            if ((n & 0xffff) == 0)
                sched_yield();
        } else if (i == 2) {
            struct timespec ts = {0, 1000000};
            note_eintr(nanosleep(&ts, NULL));
            bump(i);
        } else if (i == 3) {
            struct pollfd p = {.fd = fds[0], .events = POLLIN};
            note_eintr(poll(&p, 1, 2));
            bump(i);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 2000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_mutex_lock(&mu);
            pthread_cond_timedwait(&cv, &mu, &ts);
            pthread_mutex_unlock(&mu);
            bump(i);
        }
    }
    return NULL;
}

/* The child: heap buffers with patterns (the last one of big_mib MiB, touched), threads,
 * a stack pattern, then ready; it runs until killed. */
static void child_main(size_t big_mib, int threads)
{
    sh->pid = getpid();
    sh->tids[0] = getpid();
    size_t lens[NBUFS] = {4096, 3 << 20, big_mib ? big_mib << 20 : 1 << 20};
    for (size_t b = 0; b < NBUFS; b++) {
        uint8_t *p = malloc(lens[b]);
        if (!p)
            _exit(2);
        for (size_t i = 0; i < lens[b]; i++)
            p[i] = pat(b, i);
        sh->buf[b] = (uint64_t)(uintptr_t)p;
        sh->buf_len[b] = lens[b];
    }
    pthread_t t;
    for (int i = 1; i <= threads; i++)
        if (pthread_create(&t, NULL, child_thread, (void *)(intptr_t)i) != 0)
            _exit(2);
    for (int i = 1; i <= threads; i++)
        while (!__atomic_load_n(&sh->tids[i], __ATOMIC_ACQUIRE))
            sched_yield();
    volatile uint8_t on_stack[256];
    for (size_t i = 0; i < sizeof on_stack; i++)
        on_stack[i] = (uint8_t)(0xa0 ^ i);
    sh->stack_pat = (uint64_t)(uintptr_t)on_stack;
    __atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
    for (;;) {
        struct timespec ts = {0, 1000000};
        note_eintr(nanosleep(&ts, NULL));
        bump(0);
        if (on_stack[0] != 0xa0)
            _exit(4);
    }
}

/* A child running child_main; it dies with this process when orphan_ok is 0. */
static int spawn(size_t big_mib, int threads, int orphan_ok)
{
    memset(sh, 0, sizeof *sh);
    fflush(NULL);
    int pid = fork();
    if (pid == 0) {
        if (!orphan_ok)
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        child_main(big_mib, threads);
    }
    while (pid > 0 && !__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE)) {
        usleep(1000);
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
    }
    return pid;
}

static void reap(int pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* The state letter of thread tid of pid ('?' when unreadable). */
static char state_of(int pid, int tid)
{
    char path[96], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Every thread i < n of the child counts on within a second. */
static int all_progress(int n)
{
    uint64_t before[NTHREADS + 1];
    for (int i = 0; i < n; i++)
        before[i] = count(i);
    for (int ms = 0; ms < 1000; ms += 5) {
        usleep(5000);
        int all = 1;
        for (int i = 0; i < n; i++)
            all &= count(i) > before[i];
        if (all)
            return 1;
    }
    return 0;
}

static const coremem_segment *segment_of(const coremem *m, uint64_t addr)
{
    for (size_t i = 0; i < coremem_segment_count(m); i++) {
        const coremem_segment *s = coremem_segment_get(m, i);
        if (addr >= s->vaddr && addr - s->vaddr < s->memsz)
            return s;
    }
    return NULL;
}

/* The child's buffers and stack pattern read back from an image (a snapshot or a core). */
static void check_patterns(const coremem *m, const char *what)
{
    hs_error e;
    for (size_t b = 0; b < NBUFS; b++) {
        size_t len = sh->buf_len[b];
        uint8_t *got = malloc(len);
        int rc = coremem_read(m, sh->buf[b], got, len, &e);
        if (rc < 0)
            fprintf(stderr, "%s: buffer %zu: %s\n", what, b, e.msg);
        CHECK(rc == HS_OK);
        size_t bad = 0;
        for (size_t i = 0; rc == HS_OK && i < len; i++)
            bad += got[i] != pat(b, i);
        CHECK_EQ_U64(bad, 0);
        free(got);
    }
    uint8_t st[256];
    CHECK(coremem_read(m, sh->stack_pat, st, sizeof st, &e) == HS_OK);
    int same = 1;
    for (size_t i = 0; i < sizeof st; i++)
        same &= st[i] == (uint8_t)(0xa0 ^ i);
    CHECK(same);
}

/* Threads: every tid of the child once, each sp in a segment with bytes, pc mapped. */
static void check_threads(const coremem *m, int n, const char *what)
{
    CHECK_EQ_U64(coremem_thread_count(m), (uint64_t)n);
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (size_t k = 0; k < coremem_thread_count(m); k++) {
            const coremem_thread *t = coremem_thread_get(m, k);
            if (t->tid != sh->tids[i])
                continue;
            found++;
            CHECK(coremem_ptr(m, t->sp, 8) != NULL);
            CHECK(segment_of(m, t->pc) != NULL);
            CHECK(t->fs_base != 0 && segment_of(m, t->fs_base) != NULL);
        }
        if (found != 1)
            fprintf(stderr, "%s: thread %d found %d times\n", what, sh->tids[i], found);
        CHECK(found == 1);
    }
}

/* pid, exe, comm, auxv, the exe among the files; exe_held: its text is in the image. */
static void check_facts(const coremem *m, int pid, int exe_held)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    const coremem_info *in = coremem_get_info(m);
    CHECK_EQ_U64(in->pid, pid);
    CHECK_STR(in->exe, exe);
    CHECK_STR(in->comm, "test_dump_snap");
    CHECK_EQ_U64(in->at_entry, getauxval(AT_ENTRY));
    CHECK_EQ_U64(in->at_phdr, getauxval(AT_PHDR));
    int exe_file = 0;
    for (size_t i = 0; i < coremem_file_count(m); i++)
        exe_file |= !strcmp(coremem_file_get(m, i)->path, exe);
    CHECK(exe_file);
    /* a snapshot holds the executable's own mappings: its entry point reads (a kernel core
     * by default holds only the first page of a file mapping) */
    if (exe_held)
        CHECK(coremem_ptr(m, in->at_entry, 16) != NULL);
    else
        CHECK(segment_of(m, in->at_entry) != NULL);
}

/* 1 when this process may attach at all (ptrace allowed here). */
static int can_ptrace(int pid, dump_err *err)
{
    return !(err->kind == DUMP_ERR_PERM && pid > 0);
}

static void test_snapshot(void)
{
    int pid = spawn(0, NTHREADS, 0);
    CHECK(pid > 0);
    if (pid <= 0)
        return;
    coremem *m = NULL;
    dump_snap_stats st;
    dump_err err = {0};
    int rc = dump_snap_take(pid, &m, &st, &err);
    if (rc < 0 && !can_ptrace(pid, &err)) {
        check_skip(err.msg);
        reap(pid);
        return;
    }
    if (rc < 0)
        fprintf(stderr, "snapshot: %s\n", err.msg);
    CHECK(rc == 0 && m != NULL);
    if (m) {
        fprintf(stderr, "snapshot: %zu threads, %zu segments, %zu files, %llu bytes copied "
                "(%llu untouched, %llu missing), %u rounds, stop %.3f ms, copy %.3f ms, pause "
                "%.3f ms\n", st.threads, st.segments, st.files,
                (unsigned long long)st.bytes_copied, (unsigned long long)st.bytes_untouched,
                (unsigned long long)st.bytes_missing, st.rounds, st.stop_ns / 1e6,
                st.copy_ns / 1e6, st.pause_ns / 1e6);
        CHECK(st.bytes_untouched < st.bytes_copied && st.bytes_missing == 0);
        check_threads(m, NTHREADS + 1, "snapshot");
        check_patterns(m, "snapshot");
        check_facts(m, pid, 1);
        CHECK(coremem_get_info(m)->from_core == 0 && coremem_get_info(m)->signal == 0);
        CHECK(st.threads == NTHREADS + 1 && st.segments == coremem_segment_count(m));
        CHECK(st.pause_ns > 0 && st.copy_ns > 0 && st.pause_ns >= st.copy_ns);
        CHECK(st.bytes_copied > (4u << 20) && st.rounds >= 1);
    }
    /* running again: no thread in a tracing stop, every one counting, no EINTR seen */
    for (int i = 0; i <= NTHREADS; i++)
        CHECK(state_of(pid, sh->tids[i]) != 't');
    CHECK(all_progress(NTHREADS + 1));
    CHECK_EQ_U64(__atomic_load_n(&sh->eintr, __ATOMIC_RELAXED), 0);
    coremem_free(m);

    /* again, while the process is stopped by SIGSTOP: it stays stopped */
    kill(pid, SIGSTOP);
    for (int ms = 0; ms < 2000 && state_of(pid, pid) != 'T'; ms++)
        usleep(1000);
    CHECK(state_of(pid, pid) == 'T');
    rc = dump_snap_take(pid, &m, &st, &err);
    if (rc < 0)
        fprintf(stderr, "snapshot of a stopped process: %s\n", err.msg);
    CHECK(rc == 0);
    if (m)
        check_patterns(m, "stopped");
    coremem_free(m);
    usleep(20000);
    for (int i = 0; i <= NTHREADS; i++)
        CHECK(state_of(pid, sh->tids[i]) == 'T');
    kill(pid, SIGCONT);
    CHECK(all_progress(NTHREADS + 1));
    CHECK_EQ_U64(__atomic_load_n(&sh->eintr, __ATOMIC_RELAXED), 0);
    reap(pid);
}

/* A dumper killed while its target is stopped: the kernel detaches, the target runs on. */
static void test_dumper_killed(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        check_skip("PR_SET_CHILD_SUBREAPER");
        return;
    }
    memset(sh, 0, sizeof *sh);
    fflush(NULL);
    int dumper = fork();
    if (dumper == 0) {
        /* the dumper is the target's parent, as Yama's ptrace_scope 1 wants; the target
         * outlives it (it is killed below) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int target = spawn(500, 1, 1);
        coremem *m = NULL;
        dump_err err = {0};
        int rc = target > 0 ? dump_snap_take(target, &m, NULL, &err) : -1;
        _exit(rc == 0 ? 0 : 3);
    }
    while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) && waitpid(dumper, NULL, WNOHANG) == 0)
        usleep(1000);
    int target = sh->pid, stopped = 0, status = 0;
    CHECK(target > 0);
    /* SIGKILL the dumper as soon as the target shows "t (tracing stop)" */
    for (int i = 0; target > 0 && i < 1200000 && !stopped; i++) { /* up to 2 minutes */
        stopped = state_of(target, target) == 't';
        if (!stopped && waitpid(dumper, &status, WNOHANG) == dumper)
            break;
        if (!stopped)
            usleep(100);
    }
    if (stopped)
        kill(dumper, SIGKILL);
    waitpid(dumper, &status, 0);
    if (!stopped && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        check_skip("the target was never seen stopped: the copy was too fast");
    else if (!stopped)
        CHECK(!"the dumper failed before the target stopped (no ptrace here?)");
    if (stopped) {
        fprintf(stderr, "dumper killed while the target was in a tracing stop\n");
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        CHECK(all_progress(2));
        CHECK(state_of(target, target) != 't' && state_of(target, sh->tids[1]) != 't');
        CHECK_EQ_U64(__atomic_load_n(&sh->eintr, __ATOMIC_RELAXED), 0);
    }
    if (target > 0)
        reap(target); /* ours now: we are the subreaper */
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void test_no_process(void)
{
    int pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0); /* gone: its pid is free */
    int pids[] = {pid, 0, -5};
    for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++) {
        coremem *m = (coremem *)&m;
        dump_err err = {0};
        dump_snap_stats st;
        CHECK(dump_snap_take(pids[i], &m, &st, &err) == -1);
        CHECK(m == NULL && err.kind == DUMP_ERR_NOPROC);
        CHECK(strstr(err.msg, "no such process") != NULL);
        CHECK(st.pause_ns == 0);
    }
    coremem *m;
    dump_err err = {0};
    CHECK(dump_snap_take(getpid(), &m, NULL, &err) == -1 && err.kind == DUMP_ERR_IO);
}

/* dump_snap_take(pid) in a helper process, as uid when uid >= 0; its error in sh. */
static void snap_from_helper(int pid, int uid)
{
    fflush(NULL);
    int h = fork();
    if (h == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (uid >= 0 && (setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
            _exit(5);
        coremem *m = NULL;
        dump_err err = {0};
        int rc = dump_snap_take(pid, &m, NULL, &err);
        sh->kind = rc < 0 ? err.kind : 0;
        snprintf(sh->msg, sizeof sh->msg, "%s", err.msg);
        coremem_free(m);
        _exit(0);
    }
    int status;
    waitpid(h, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Refused attaches say why: another user's process, a process already traced. */
static void test_permissions(void)
{
    int pid = spawn(0, 1, 0);
    CHECK(pid > 0);
    if (pid <= 0)
        return;
    char want[64];
    if (getuid() == 0) {
        snap_from_helper(pid, 65534); /* nobody */
        fprintf(stderr, "as nobody: %s\n", sh->msg);
        CHECK(sh->kind == DUMP_ERR_PERM);
        CHECK(strstr(sh->msg, "permission denied") && strstr(sh->msg, "uid (0;") &&
              strstr(sh->msg, "runs as uid 65534") && strstr(sh->msg, "CAP_SYS_PTRACE"));
    } else {
        check_skip("not root: no process of another user to refuse");
    }
    /* traced by this process (seized, not stopped): a second tracer is refused */
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
        snap_from_helper(pid, -1);
        fprintf(stderr, "already traced: %s\n", sh->msg);
        CHECK(sh->kind == DUMP_ERR_PERM);
        snprintf(want, sizeof want, "already traced by process %d", (int)getpid());
        CHECK(strstr(sh->msg, want) != NULL);
        ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
        waitpid(pid, NULL, __WALL);
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
    } else {
        check_skip("PTRACE_SEIZE refused here");
    }
    CHECK(all_progress(2));
    reap(pid);
}

/* The same kind of child aborted with a core: the kernel's core read by coremem_from_core. */
static void test_kernel_core(void)
{
    char pattern[256] = "";
    FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
    if (f) {
        if (!fgets(pattern, sizeof pattern, f))
            pattern[0] = '\0';
        fclose(f);
    }
    if (pattern[0] == '|' || pattern[0] == '\0' || strchr(pattern, '/')) {
        check_skip("core_pattern pipes or writes elsewhere: no kernel core to read");
        return;
    }
    char dir[] = "/tmp/heapsift-core-XXXXXX";
    if (!mkdtemp(dir)) {
        check_skip("mkdtemp");
        return;
    }
    memset(sh, 0, sizeof *sh);
    fflush(NULL);
    int pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        if (setrlimit(RLIMIT_CORE, &rl) < 0 || chdir(dir) < 0)
            _exit(5);
        child_main(0, NTHREADS);
    }
    while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) && waitpid(pid, NULL, WNOHANG) == 0)
        usleep(1000);
    syscall(SYS_tgkill, pid, pid, SIGABRT); /* to the main thread: the first NT_PRSTATUS */
    int status;
    waitpid(pid, &status, 0);
    char core[512] = "";
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            snprintf(core, sizeof core, "%s/%s", dir, de->d_name);
    if (d)
        closedir(d);
    if (!WIFSIGNALED(status) || !WCOREDUMP(status) || !core[0]) {
        check_skip("the kernel wrote no core here");
    } else {
        const uint8_t *data;
        size_t size;
        hs_error e;
        coremem *m = NULL;
        CHECK(hs_map_file(core, &data, &size, &e) == HS_OK);
        int rc = coremem_from_core(data, size, &m, &e);
        if (rc < 0)
            fprintf(stderr, "kernel core: %s\n", e.msg);
        CHECK(rc == HS_OK);
        if (m) {
            check_threads(m, NTHREADS + 1, "kernel core");
            check_patterns(m, "kernel core");
            check_facts(m, pid, 0);
            CHECK(coremem_get_info(m)->from_core == 1);
            CHECK_EQ_U64(coremem_get_info(m)->signal, SIGABRT);
            CHECK_EQ_U64(coremem_thread_get(m, 0)->tid, pid); /* it got the signal */
        }
        coremem_free(m);
        hs_unmap(data, size);
        unlink(core);
    }
    rmdir(dir);
}

int main(void)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    test_no_process();
    test_snapshot();
    test_permissions();
    test_kernel_core();
    test_dumper_killed();
    return check_report();
}
