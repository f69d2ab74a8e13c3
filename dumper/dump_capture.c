/* dump_capture.c - capture and import pipelines. */
#include "dump_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dump_drain.h"
#include "dump_hsdout.h"
#include "dump_outfile.h"
#include "dump_proc.h"
#include "elfimg.h"
#include "gohd.h"

#define CAP_PIPE_SIZE (1 << 20)           /* F_SETPIPE_SZ: the default pipe-max-size */
#define CAP_INFO_TIMEOUT_MS 5000
#define CAP_REPLY_AFTER_EOF_NS (30ll * 1000000000) /* reply due once the stream ended */
#define CAP_STALL_S 60 /* default: give up after this many seconds without dump data */
#define CAP_PROGRESS_NS (200ll * 1000000)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void dump_capture_default_name(int pid, const char *dir, int seq, char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    char suffix[16] = "";
    if (seq > 0)
        snprintf(suffix, sizeof suffix, "-%d", seq);
    snprintf(out, size, "%s/heapsift-%d-%s%s.hsd", dir ? dir : ".", pid, stamp, suffix);
}

int dump_capture_locate(int pid, char *path, size_t size, dump_hook_info *info, dump_err *err)
{
    dump_proc_info p;
    if (dump_proc_read(pid, &p, err) < 0)
        return -1;
    int rc = dump_hook_find(&p, path, size, err);
    dump_proc_release(&p);
    if (rc < 0)
        return -1;
    return dump_hook_info_get(path, CAP_INFO_TIMEOUT_MS, info, err);
}

/* ---- symbols ---- */

/* Builds the symtab of the ELF file open on fd; NULL with why in msg on failure. */
static symtab *load_symtab(int fd, const char *name, char *msg, size_t msize)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        snprintf(msg, msize, "%s: cannot read the binary", name);
        return NULL;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        snprintf(msg, msize, "%s: mmap: %s", name, strerror(errno));
        return NULL;
    }
    hs_error he;
    hs_error_clear(&he);
    elfimg *img = NULL;
    symtab *t = NULL;
    char buf[300];
    if (elfimg_open(&img, map, (size_t)st.st_size, &he) < 0 || elfimg_symtab(img, &t, &he) < 0) {
        snprintf(msg, msize, "%s: %s", name, hs_error_format(&he, buf, sizeof buf));
        t = NULL;
    }
    elfimg_free(img);
    munmap(map, (size_t)st.st_size);
    return t;
}

/* ---- progress on stderr ---- */

typedef struct progress {
    int on;
    int printed;
    int64_t t0, last;
    const char *what;
} progress;

static void fmt_size(double b, char *out, size_t size)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, size, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void progress_stream(progress *p, uint64_t bytes, int force)
{
    int64_t now = mono_ns();
    if (!p->on || (!force && now - p->last < CAP_PROGRESS_NS))
        return;
    p->last = now;
    char a[32], b[32];
    fmt_size((double)bytes, a, sizeof a);
    double secs = (double)(now - p->t0) / 1e9;
    fmt_size(secs > 0 ? (double)bytes / secs : 0, b, sizeof b);
    fprintf(stderr, "\r\033[Kheapsift-dump: %s: streamed %s (%s/s)", p->what, a, b);
    p->printed = 1;
}

static void progress_compress(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;
    int64_t now = mono_ns();
    if (!p->on || (now - p->last < CAP_PROGRESS_NS && done != total))
        return;
    p->last = now;
    fprintf(stderr, "\r\033[Kheapsift-dump: %s: compressing %3.0f%%", p->what,
            total ? 100.0 * (double)done / (double)total : 100.0);
    p->printed = 1;
}

static void progress_end(progress *p)
{
    if (p->on && p->printed)
        fprintf(stderr, "\r\033[K");
    p->printed = 0;
}

/* ---- capture ---- */

typedef struct waitctx {
    dump_drain *drain;
    progress *prog;
    int64_t eof_at;     /* when the drain saw end of stream, 0 before */
    int64_t stall_ns;   /* give up after this long without a byte (0: never) */
    uint64_t last_bytes;
    int64_t last_change;
    int stalled;
} waitctx;

/* Tick while waiting for the reply: progress, and give up when the stream has ended long
 * ago without a reply. */
static int wait_tick(void *arg)
{
    waitctx *w = arg;
    uint64_t bytes = dump_drain_bytes(w->drain);
    progress_stream(w->prog, bytes, 0);
    int64_t now = mono_ns();
    if (bytes != w->last_bytes || !w->last_change) {
        w->last_bytes = bytes;
        w->last_change = now;
    } else if (w->stall_ns && !dump_drain_finished(w->drain) && now - w->last_change > w->stall_ns) {
        /* A stopped or wedged target: stop waiting. Its pending writes then fail with EPIPE,
         * which the runtime's dump writer ignores, so the target finishes and runs on. */
        w->stalled = 1;
        dump_drain_cancel(w->drain);
        return 1;
    }
    if (dump_drain_finished(w->drain)) {
        if (!w->eof_at)
            w->eof_at = mono_ns();
        else if (mono_ns() - w->eof_at > CAP_REPLY_AFTER_EOF_NS)
            return 1;
    }
    return 0;
}

static void set_pipe_size(int fd)
{
    for (int sz = CAP_PIPE_SIZE; sz >= 65536; sz /= 2)
        if (fcntl(fd, F_SETPIPE_SZ, sz) >= 0)
            return;
}

/* Writes the manifest beside the .hsd as FILE.manifest.json. */
static int write_manifest(dump_capture_result *r, const uint8_t *m, size_t len, dump_err *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s.manifest.json", r->path);
    if (dump_outfile_write_all(path, m, len, err) < 0)
        return -1;
    if (snprintf(r->manifest_path, sizeof r->manifest_path, "%s", path) >=
        (int)sizeof r->manifest_path)
        r->manifest_path[0] = '\0';
    return 0;
}

int dump_capture_run(const dump_capture_opts *o, dump_capture_result *r, dump_err *err)
{
    memset(r, 0, sizeof *r);
    dump_proc_info p;
    if (dump_proc_read(o->pid, &p, err) < 0)
        return -1;
    int rc = -1;
    int exe_fd = -1, spool = -1, pfd[2] = {-1, -1}, ctl = -1;
    symtab *syms = NULL;
    dump_drain *drain = NULL;
    char *maps = NULL;
    size_t maps_len = 0;
    dump_hook_reply rep;
    memset(&rep, 0, sizeof rep);
    dump_outfile out;
    memset(&out, 0, sizeof out);
    out.fd = -1;
    out.slot = -1;
    progress prog = {.on = o->progress, .what = "capture"};

    char sock[PATH_MAX];
    if (o->sock)
        snprintf(sock, sizeof sock, "%s", o->sock);
    else if (dump_hook_find(&p, sock, sizeof sock, err) < 0)
        goto out;
    dump_hook_info info;
    if (dump_hook_info_get(sock, CAP_INFO_TIMEOUT_MS, &info, err) < 0)
        goto out;

    /* The binary, opened now: it stays readable even if the process exits meanwhile. */
    char exe_name[PATH_MAX + 32];
    if (o->binary) {
        snprintf(exe_name, sizeof exe_name, "%s", o->binary);
        exe_fd = open(o->binary, O_RDONLY | O_CLOEXEC);
        if (exe_fd < 0) {
            dump_err_sys(err, errno, "opening the binary", o->binary);
            goto out;
        }
    } else {
        snprintf(exe_name, sizeof exe_name, "/proc/%d/exe", o->pid);
        exe_fd = open(exe_name, O_RDONLY | O_CLOEXEC);
        if (exe_fd < 0 &&
            snprintf(r->warning, sizeof r->warning,
                     "no symbols in the .hsd: cannot open %s (%s); analyze with --binary",
                     exe_name, strerror(errno)) >= (int)sizeof r->warning)
            r->warning[sizeof r->warning - 1] = '\0';
    }

    char path[PATH_MAX], dir[PATH_MAX];
    if (o->out_path)
        snprintf(path, sizeof path, "%s", o->out_path);
    else
        dump_capture_default_name(o->pid, o->out_dir, o->seq, path, sizeof path);
    dump_outfile_dir(path, dir, sizeof dir);
    if (dump_outfile_open(&out, path, o->out_path != NULL, err) < 0)
        goto out;
    if ((spool = dump_outfile_spool(dir, err)) < 0)
        goto out;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        dump_err_set(err, DUMP_ERR_IO, errno, "pipe: %s", strerror(errno));
        goto out;
    }
    set_pipe_size(pfd[1]);
    if (dump_drain_start(&drain, pfd[0], spool, dir, err) < 0)
        goto out;

    struct timespec captured_at;
    clock_gettime(CLOCK_REALTIME, &captured_at);
    prog.t0 = mono_ns();
    int sent = dump_hook_dump_send(sock, pfd[1], o->nogc, &ctl, err);
    close(pfd[1]); /* the stream ends when the hook closes its copy */
    pfd[1] = -1;
    waitctx wc = {.drain = drain, .prog = &prog,
                  .stall_ns = (int64_t)(o->stall_seconds > 0 ? o->stall_seconds : CAP_STALL_S) * 1000000000};
    int replied = sent < 0 ? -1 : dump_hook_dump_reply(ctl, wait_tick, &wc, &rep, err);
    if (ctl >= 0)
        close(ctl);
    ctl = -1;
    uint64_t raw_bytes = 0;
    int64_t drain_ns = 0;
    dump_err derr = {0};
    int drained = dump_drain_join(drain, &raw_bytes, &drain_ns, &derr);
    drain = NULL;
    progress_stream(&prog, raw_bytes, 1);
    if (wc.stalled) {
        dump_err_set(err, DUMP_ERR_DROPPED, 0,
                     "process %d stalled: no dump data for %d s after %llu bytes (is it stopped "
                     "or wedged?); gave up, the target is unharmed",
                     o->pid, o->stall_seconds > 0 ? o->stall_seconds : CAP_STALL_S,
                     (unsigned long long)raw_bytes);
        goto out;
    }
    if (replied < 0) {
        if (err && err->kind == DUMP_ERR_DROPPED && !dump_proc_alive(o->pid))
            dump_err_prefix(err, "process %d exited during the capture (%llu bytes streamed)",
                            o->pid, (unsigned long long)raw_bytes);
        goto out;
    }
    if (drained < 0) {
        if (err)
            *err = derr;
        goto out;
    }
    r->pause_ns = rep.pause_ns;
    r->gc_ns = rep.gc_ns;
    r->drain_ns = drain_ns;

    /* The world runs again: now the slow part. */
    if (dump_proc_maps(o->pid, &maps, &maps_len, NULL) < 0)
        maps = NULL;
    if (exe_fd >= 0) {
        char why[400];
        syms = load_symtab(exe_fd, exe_name, why, sizeof why);
        if (!syms) {
            if (o->binary) {
                dump_err_set(err, DUMP_ERR_FORMAT, 0, "reading symbols: %s", why);
                goto out;
            }
            snprintf(r->warning, sizeof r->warning,
                     "no symbols in the .hsd (%s); analyze with --binary", why);
        }
    }
    const char *slash = strrchr(info.exe[0] ? info.exe : p.exe, '/');
    dump_hsdout_in in = {
        .meta = {.pid = o->pid, .uid = (int)p.uid, .exe = info.exe[0] ? info.exe : p.exe,
                 .cmdline = p.cmdline, .cmdline_len = p.cmdline_len, .captured_at = captured_at,
                 .start_unix_ns = p.start_unix_ns, .rss_bytes = p.rss_bytes,
                 .go_version = info.go_version, .trigger = o->trigger ? o->trigger : "manual",
                 .symbols_from = syms ? (o->binary ? o->binary : (info.exe[0] ? info.exe : p.exe)) : NULL,
                 .nogc = o->nogc, .redacted = o->redact, .has_timings = 1,
                 .pause_ns = rep.pause_ns, .gc_ns = rep.gc_ns,
                 .drain_ns = drain_ns, .dump_seq = rep.dump_seq},
        .syms = syms,
        .syms_name = slash ? slash + 1 : "symtab",
        .maps = maps,
        .maps_len = maps_len,
        .raw_fd = spool,
        .raw_len = raw_bytes,
        .manifest = rep.manifest,
        .manifest_len = rep.manifest_len,
        .threads = 2,
        .redact = o->redact,
        .progress = progress_compress,
        .progress_ctx = &prog,
    };
    dump_hsdout_out res;
    prog.last = 0;
    if (dump_hsdout_write(out.fd, out.path, &in, &res, err) < 0) {
        if (err && err->kind == DUMP_ERR_DROPPED)
            dump_err_prefix(err, "incomplete dump (the target exited or the connection "
                            "dropped mid-dump)");
        goto out;
    }
    close(spool);
    spool = -1;
    if (dump_outfile_commit(&out, err) < 0)
        goto out;
    snprintf(r->path, sizeof r->path, "%s", out.path);
    r->compress_ns = res.compress_ns;
    r->raw_bytes = res.raw_bytes;
    r->stored_bytes = res.stored_bytes;
    r->file_bytes = res.file_bytes;
    if (rep.manifest && !o->redact && write_manifest(r, rep.manifest, rep.manifest_len, err) < 0) {
        dump_err_prefix(err, "%s was written but its manifest was not", r->path);
        goto out;
    }
    rc = 0;
out:
    progress_end(&prog);
    if (drain) {
        uint64_t b;
        int64_t ns;
        if (pfd[1] >= 0)
            close(pfd[1]);
        pfd[1] = -1;
        dump_drain_join(drain, &b, &ns, NULL);
    }
    if (ctl >= 0)
        close(ctl);
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (spool >= 0)
        close(spool);
    if (exe_fd >= 0)
        close(exe_fd);
    if (rc < 0)
        dump_outfile_abort(&out);
    symtab_free(syms);
    free(maps);
    dump_hook_reply_release(&rep);
    dump_proc_release(&p);
    return rc;
}

int dump_capture_raw_to_file(int pid, const char *path, int nogc, dump_hook_reply *rep,
                             dump_err *err)
{
    memset(rep, 0, sizeof *rep);
    char sock[PATH_MAX];
    dump_hook_info info;
    if (dump_capture_locate(pid, sock, sizeof sock, &info, err) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return dump_err_sys(err, errno, "creating", path);
    int ctl = -1;
    int rc = dump_hook_dump_send(sock, fd, nogc, &ctl, err);
    close(fd);
    if (rc == 0) {
        rc = dump_hook_dump_reply(ctl, NULL, NULL, rep, err);
        close(ctl);
    }
    return rc;
}

int dump_capture_import(const char *raw, const char *binary, const char *outp, int progress_on,
                        dump_capture_result *r, dump_err *err)
{
    memset(r, 0, sizeof *r);
    int rc = -1, fd = -1, bfd = -1;
    symtab *syms = NULL;
    dump_outfile out;
    memset(&out, 0, sizeof out);
    out.fd = -1;
    out.slot = -1;
    progress prog = {.on = progress_on, .what = "import"};

    fd = open(raw, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dump_err_sys(err, errno, "opening", raw);
        goto out;
    }
    char magic[GOHD_MAGIC_LEN];
    struct stat st;
    if (fstat(fd, &st) < 0 || pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
        memcmp(magic, GOHD_MAGIC, GOHD_MAGIC_LEN) != 0) {
        dump_err_set(err, DUMP_ERR_FORMAT, 0,
                     "%s is not a Go heap dump (no \"go1.7 heap dump\" magic at byte 0)", raw);
        goto out;
    }
    bfd = open(binary, O_RDONLY | O_CLOEXEC);
    if (bfd < 0) {
        dump_err_sys(err, errno, "opening the binary", binary);
        goto out;
    }
    char why[400];
    if (!(syms = load_symtab(bfd, binary, why, sizeof why))) {
        dump_err_set(err, DUMP_ERR_FORMAT, 0, "reading symbols: %s", why);
        goto out;
    }
    if (dump_outfile_open(&out, outp, 1, err) < 0)
        goto out;
    char absraw[PATH_MAX], absbin[PATH_MAX];
    if (!realpath(raw, absraw))
        snprintf(absraw, sizeof absraw, "%s", raw);
    if (!realpath(binary, absbin))
        snprintf(absbin, sizeof absbin, "%s", binary);
    const char *slash = strrchr(absbin, '/');
    dump_hsdout_in in = {
        .meta = {.pid = 0, .uid = -1, .exe = absbin, .captured_at = st.st_mtim,
                 .trigger = "import", .imported_from = absraw, .symbols_from = absbin},
        .syms = syms,
        .syms_name = slash ? slash + 1 : "symtab",
        .raw_fd = fd,
        .raw_len = (uint64_t)st.st_size,
        .threads = 2,
        .progress = progress_compress,
        .progress_ctx = &prog,
    };
    dump_hsdout_out res;
    if (dump_hsdout_write(out.fd, out.path, &in, &res, err) < 0) {
        if (err && err->kind == DUMP_ERR_DROPPED) {
            err->kind = DUMP_ERR_FORMAT;
            dump_err_prefix(err, "%s is truncated", raw);
        } else if (err && err->kind == DUMP_ERR_FORMAT) {
            dump_err_prefix(err, "%s", raw);
        }
        goto out;
    }
    if (dump_outfile_commit(&out, err) < 0)
        goto out;
    snprintf(r->path, sizeof r->path, "%s", out.path);
    r->raw_bytes = res.raw_bytes;
    r->stored_bytes = res.stored_bytes;
    r->file_bytes = res.file_bytes;
    r->compress_ns = res.compress_ns;
    rc = 0;
out:
    progress_end(&prog);
    if (rc < 0)
        dump_outfile_abort(&out);
    if (fd >= 0)
        close(fd);
    if (bfd >= 0)
        close(bfd);
    symtab_free(syms);
    return rc;
}
