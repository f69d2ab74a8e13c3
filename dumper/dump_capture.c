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

#include "coremem.h"
#include "dump_binary.h"
#include "dump_clock.h"
#include "dump_drain.h"
#include "dump_proc.h"
#include "dump_snap.h"
#include "gohd.h"
#include "hs_outfile.h"
#include "hs_units.h"

#define CAP_PIPE_SIZE (1 << 20)           /* F_SETPIPE_SZ: the default pipe-max-size */
#define CAP_INFO_TIMEOUT_MS 5000
#define CAP_REPLY_AFTER_EOF_NS (30ll * 1000000000) /* reply due once the stream ended */
#define CAP_STALL_S 60 /* default: give up after this many seconds without dump data */
#define CAP_PROGRESS_NS (200ll * 1000000)

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

/* ---- progress on stderr ---- */

typedef struct progress {
    int on;
    int printed;
    int64_t t0, last;
    const char *what;
} progress;

static void progress_stream(progress *p, uint64_t bytes, int force)
{
    int64_t now = dump_clock_ns();
    if (!p->on || (!force && now - p->last < CAP_PROGRESS_NS))
        return;
    p->last = now;
    char a[HS_UNITS_BYTES_MAX], b[HS_UNITS_BYTES_MAX];
    double secs = (double)(now - p->t0) / 1e9;
    uint64_t rate = secs > 0 ? (uint64_t)((double)bytes / secs + 0.5) : 0;
    fprintf(stderr, "\r\033[Kheapsift-dump: %s: streamed %s (%s/s)", p->what,
            hs_units_format_bytes(bytes, HS_UNITS_FIXED1, a, sizeof a),
            hs_units_format_bytes(rate, HS_UNITS_FIXED1, b, sizeof b));
    p->printed = 1;
}

static void progress_compress(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;
    int64_t now = dump_clock_ns();
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

/* ---- output files (hs_outfile, with the dumper's errors) ---- */

/* Opens the file that becomes path once complete (replacing one there when replace). */
static int output_open(const char *path, int replace, hs_outfile *out, dump_err *err)
{
    hs_error he;
    hs_error_clear(&he);
    if (hs_outfile_open(path, replace ? HS_OUTFILE_REPLACE : 0, out, &he) < 0)
        return dump_err_from_hs(&he, err);
    return 0;
}

/* Names the complete .hsd: r->path becomes the name it got. */
static int output_commit(hs_outfile *out, dump_capture_result *r, dump_err *err)
{
    hs_error he;
    hs_error_clear(&he);
    if (hs_outfile_commit(out, &he) < 0)
        return dump_err_from_hs(&he, err);
    snprintf(r->path, sizeof r->path, "%s", out->path);
    return 0;
}

/* Writes the manifest m beside the .hsd r->path as FILE.manifest.json (r->manifest_path). */
static int output_manifest(const uint8_t *m, size_t len, dump_capture_result *r, dump_err *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s.manifest.json", r->path);
    hs_error he;
    hs_error_clear(&he);
    if (hs_outfile_write_all(path, m, len, HS_OUTFILE_REPLACE, &he) < 0)
        return dump_err_from_hs(&he, err);
    if (snprintf(r->manifest_path, sizeof r->manifest_path, "%s", path) >=
        (int)sizeof r->manifest_path)
        r->manifest_path[0] = '\0';
    return 0;
}

/* ---- capture ---- */

/* What the steps of one capture share; capture_release frees it. */
typedef struct capture {
    const dump_capture_opts *o;
    dump_capture_result *r;
    dump_proc_info proc;
    char sock[PATH_MAX];
    dump_hook_info info;
    int exe_fd;                   /* the binary, opened early; -1 when not readable */
    char exe_name[PATH_MAX + 32];
    hs_outfile out;               /* the .hsd */
    char dir[PATH_MAX];           /* its directory, where the spool goes too */
    int spool;                    /* the raw dump as streamed, -1 before */
    uint64_t raw_bytes;
    struct timespec captured_at;
    dump_hook_reply rep;
    dump_binary bin; /* symbols and DWARF types of the binary */
    char *maps;
    size_t maps_len;
    progress prog;
} capture;

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
    int64_t now = dump_clock_ns();
    if (bytes != w->last_bytes || !w->last_change) {
        w->last_bytes = bytes;
        w->last_change = now;
    } else if (w->stall_ns && !dump_drain_finished(w->drain) &&
               now - w->last_change > w->stall_ns) {
        /* A stopped or wedged target: stop waiting. Its pending writes then fail with EPIPE,
         * which the runtime's dump writer ignores, so the target finishes and runs on. */
        w->stalled = 1;
        dump_drain_cancel(w->drain);
        return 1;
    }
    if (dump_drain_finished(w->drain)) {
        if (!w->eof_at)
            w->eof_at = dump_clock_ns();
        else if (dump_clock_ns() - w->eof_at > CAP_REPLY_AFTER_EOF_NS)
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

/* Step 1: the target's /proc facts, its hook socket, and the hook's INFO. */
static int capture_connect(capture *c, dump_err *err)
{
    if (dump_proc_read(c->o->pid, &c->proc, err) < 0)
        return -1;
    if (c->o->sock)
        snprintf(c->sock, sizeof c->sock, "%s", c->o->sock);
    else if (dump_hook_find(&c->proc, c->sock, sizeof c->sock, err) < 0)
        return -1;
    return dump_hook_info_get(c->sock, CAP_INFO_TIMEOUT_MS, &c->info, err);
}

/* Step 2: the binary, opened now: it stays readable even if the process exits meanwhile. A
 * --binary that cannot be opened fails; an unreadable /proc/PID/exe is only a warning. */
static int capture_open_binary(capture *c, dump_err *err)
{
    const dump_capture_opts *o = c->o;
    if (o->binary) {
        snprintf(c->exe_name, sizeof c->exe_name, "%s", o->binary);
        c->exe_fd = open(o->binary, O_RDONLY | O_CLOEXEC);
        if (c->exe_fd < 0)
            return dump_err_sys(err, errno, "opening the binary", o->binary);
        return 0;
    }
    snprintf(c->exe_name, sizeof c->exe_name, "/proc/%d/exe", o->pid);
    c->exe_fd = open(c->exe_name, O_RDONLY | O_CLOEXEC);
    if (c->exe_fd < 0 &&
        snprintf(c->r->warning, sizeof c->r->warning,
                 "no symbols in the .hsd: cannot open %s (%s); analyze with --binary",
                 c->exe_name, strerror(errno)) >= (int)sizeof c->r->warning)
        c->r->warning[sizeof c->r->warning - 1] = '\0';
    return 0;
}

/* Step 3: the .hsd (not yet named) and the spool beside it, before the world stops. */
static int capture_open_outputs(capture *c, dump_err *err)
{
    const dump_capture_opts *o = c->o;
    char path[PATH_MAX];
    if (o->out_path)
        snprintf(path, sizeof path, "%s", o->out_path);
    else
        dump_capture_default_name(o->pid, o->out_dir, o->seq, path, sizeof path);
    hs_outfile_dir(path, c->dir, sizeof c->dir);
    if (output_open(path, o->out_path != NULL, &c->out, err) < 0)
        return -1;
    hs_error he;
    hs_error_clear(&he);
    if (hs_outfile_spool(c->dir, &c->spool, &he) < 0)
        return dump_err_from_hs(&he, err);
    return 0;
}

/* Step 4: the stop-the-world part. Hands the hook the write end of a pipe that a drain thread
 * empties into the spool, waits for the hook's reply, and checks that the whole stream
 * arrived. Sets c->raw_bytes, c->rep and c->r->timings. */
static int capture_stream(capture *c, dump_err *err)
{
    const dump_capture_opts *o = c->o;
    int rc = -1, pfd[2] = {-1, -1}, ctl = -1;
    int stall_s = o->stall_seconds > 0 ? o->stall_seconds : CAP_STALL_S;
    dump_drain *drain = NULL;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        dump_err_set(err, DUMP_ERR_IO, errno, "pipe: %s", strerror(errno));
        goto out;
    }
    set_pipe_size(pfd[1]);
    if (dump_drain_start(pfd[0], c->spool, c->dir, &drain, err) < 0)
        goto out;

    clock_gettime(CLOCK_REALTIME, &c->captured_at);
    c->prog.t0 = dump_clock_ns();
    int sent = dump_hook_dump_send(c->sock, pfd[1], o->nogc, &ctl, err);
    close(pfd[1]); /* the stream ends when the hook closes its copy */
    pfd[1] = -1;
    waitctx wc = {.drain = drain, .prog = &c->prog, .stall_ns = (int64_t)stall_s * 1000000000};
    int replied = sent < 0 ? -1 : dump_hook_dump_reply(ctl, wait_tick, &wc, &c->rep, err);
    if (ctl >= 0)
        close(ctl);
    ctl = -1;
    dump_err derr = {0};
    int drained = dump_drain_join(drain, &c->raw_bytes, &c->r->timings.drain_ns, &derr);
    drain = NULL;
    progress_stream(&c->prog, c->raw_bytes, 1);
    if (wc.stalled) {
        dump_err_set(err, DUMP_ERR_DROPPED, 0,
                     "process %d stalled: no dump data for %d s after %llu bytes (is it stopped "
                     "or wedged?); gave up, the target is unharmed",
                     o->pid, stall_s, (unsigned long long)c->raw_bytes);
        goto out;
    }
    if (replied < 0) {
        if (err && err->kind == DUMP_ERR_DROPPED && !dump_proc_alive(o->pid))
            dump_err_prefix(err, "process %d exited during the capture (%llu bytes streamed)",
                            o->pid, (unsigned long long)c->raw_bytes);
        goto out;
    }
    if (drained < 0) {
        if (err)
            *err = derr;
        goto out;
    }
    c->r->timings.pause_ns = c->rep.pause_ns;
    c->r->timings.gc_ns = c->rep.gc_ns;
    c->r->timings.dump_seq = c->rep.dump_seq;
    rc = 0;
out:
    if (drain) { /* failed after the start: end the stream so that the drain stops */
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
    return rc;
}

/* Step 5, the world runs again: the memory map and the symbols. Symbols that cannot be read
 * fail a --binary capture and are only a warning otherwise. */
static int capture_load_context(capture *c, dump_err *err)
{
    if (dump_proc_maps(c->o->pid, &c->maps, &c->maps_len, NULL) < 0)
        c->maps = NULL;
    if (c->exe_fd < 0)
        return 0;
    if (dump_binary_load(c->exe_fd, c->exe_name, 0, &c->bin) == 0)
        return 0;
    if (c->o->binary)
        return dump_err_set(err, DUMP_ERR_FORMAT, 0, "reading symbols: %s", c->bin.why);
    snprintf(c->r->warning, sizeof c->r->warning,
             "no symbols in the .hsd (%s); analyze with --binary", c->bin.why);
    return 0;
}

/* Step 6: compresses the spool into the .hsd, names it, and writes the manifest beside it. */
static int capture_write(capture *c, dump_err *err)
{
    const dump_capture_opts *o = c->o;
    const char *exe = c->info.exe[0] ? c->info.exe : c->proc.exe;
    const char *slash = strrchr(exe, '/');
    dump_hsdout_in in = {
        .meta = {.pid = o->pid, .uid = (int)c->proc.uid, .exe = exe,
                 .cmdline = c->proc.cmdline, .cmdline_len = c->proc.cmdline_len,
                 .captured_at = c->captured_at, .start_unix_ns = c->proc.start_unix_ns,
                 .rss_bytes = c->proc.rss_bytes, .go_version = c->info.go_version,
                 .trigger = o->trigger ? o->trigger : "manual",
                 .symbols_from = c->bin.syms ? (o->binary ? o->binary : exe) : NULL,
                 .nogc = o->nogc, .redacted = o->redact, .has_timings = 1,
                 .timings = c->r->timings, .source = "hook"},
        .syms = c->bin.syms,
        .syms_name = slash ? slash + 1 : "symtab",
        .types = c->bin.types,
        .maps = c->maps,
        .maps_len = c->maps_len,
        .raw_fd = c->spool,
        .raw_len = c->raw_bytes,
        .manifest = c->rep.manifest,
        .manifest_len = c->rep.manifest_len,
        .threads = 2,
        .redact = o->redact,
        .progress = progress_compress,
        .progress_ctx = &c->prog,
    };
    c->prog.last = 0;
    if (dump_hsdout_write(c->out.fd, c->out.path, &in, &c->r->out, err) < 0) {
        if (err && err->kind == DUMP_ERR_DROPPED)
            dump_err_prefix(err, "incomplete dump (the target exited or the connection "
                            "dropped mid-dump)");
        return -1;
    }
    close(c->spool);
    c->spool = -1;
    if (output_commit(&c->out, c->r, err) < 0)
        return -1;
    if (c->rep.manifest && !o->redact &&
        output_manifest(c->rep.manifest, c->rep.manifest_len, c->r, err) < 0) {
        dump_err_prefix(err, "%s was written but its manifest was not", c->r->path);
        return -1;
    }
    return 0;
}

/* Frees what the steps took; an unnamed .hsd goes. */
static void capture_release(capture *c)
{
    progress_end(&c->prog);
    if (c->spool >= 0)
        close(c->spool);
    if (c->exe_fd >= 0)
        close(c->exe_fd);
    hs_outfile_abort(&c->out);
    dump_binary_release(&c->bin);
    free(c->maps);
    dump_hook_reply_release(&c->rep);
    dump_proc_release(&c->proc);
}

int dump_capture_run(const dump_capture_opts *o, dump_capture_result *r, dump_err *err)
{
    memset(r, 0, sizeof *r);
    capture c = {.o = o, .r = r, .exe_fd = -1, .out = HS_OUTFILE_INIT, .spool = -1,
                 .prog = {.on = o->progress, .what = "capture"}};
    int rc = -1;
    if (capture_connect(&c, err) < 0 || capture_open_binary(&c, err) < 0 ||
        capture_open_outputs(&c, err) < 0 || capture_stream(&c, err) < 0 ||
        capture_load_context(&c, err) < 0 || capture_write(&c, err) < 0)
        goto out;
    rc = 0;
out:
    capture_release(&c);
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
    if (rc < 0)
        return rc;
    rc = dump_hook_dump_reply(ctl, NULL, NULL, rep, err);
    close(ctl);
    return rc;
}

/* ---- import: a runtime heap dump, a core file, a live snapshot ---- */

/* What an import writes besides the heap dump: where it came from. */
typedef struct import_src {
    const char *source;        /* META source */
    const char *from;          /* META imported_from, NULL: none */
    int pid;
    struct timespec at;        /* captured_at */
    const gocore_report *rep;  /* a core or snapshot's report, NULL otherwise */
    int64_t pause_ns;          /* a snapshot's pause */
} import_src;

/* Writes the .hsd out from the raw heap dump open on fd (len bytes) and the binary's
 * symbols. */
static int import_write(int fd, uint64_t len, const dump_binary *bin, const char *binary,
                        const import_src *src, const char *outp, int progress_on,
                        dump_capture_result *r, dump_err *err)
{
    int rc = -1;
    hs_outfile out = HS_OUTFILE_INIT;
    progress prog = {.on = progress_on, .what = src->source};
    const char *lines[GOCORE_LOST_MAX];
    size_t nlines = 0;
    for (size_t i = 0; src->rep && i < src->rep->nlost; i++)
        lines[nlines++] = src->rep->lost[i];
    if (output_open(outp, 1, &out, err) < 0)
        goto out;
    char absbin[PATH_MAX];
    if (!realpath(binary, absbin))
        snprintf(absbin, sizeof absbin, "%s", binary);
    const char *slash = strrchr(absbin, '/');
    dump_hsdout_in in = {
        .meta = {.pid = src->pid, .uid = -1, .exe = absbin, .captured_at = src->at,
                 .trigger = src->source, .imported_from = src->from, .symbols_from = absbin,
                 .source = src->source, .unrecovered = lines, .nunrecovered = nlines,
                 .snapshot_pause_ns = src->pause_ns},
        .syms = bin->syms,
        .syms_name = slash ? slash + 1 : "symtab",
        .types = bin->types,
        .raw_fd = fd,
        .raw_len = len,
        .threads = 2,
        .progress = progress_compress,
        .progress_ctx = &prog,
    };
    if (dump_hsdout_write(out.fd, out.path, &in, &r->out, err) < 0) {
        if (err && err->kind == DUMP_ERR_DROPPED) {
            err->kind = DUMP_ERR_FORMAT;
            dump_err_prefix(err, "%s is truncated", src->from ? src->from : "the heap dump");
        } else if (err && err->kind == DUMP_ERR_FORMAT) {
            dump_err_prefix(err, "%s", src->from ? src->from : "the heap dump");
        }
        goto out;
    }
    if (output_commit(&out, r, err) < 0)
        goto out;
    rc = 0;
out:
    progress_end(&prog);
    hs_outfile_abort(&out);
    return rc;
}

/* Opens the binary for an import; with keep, for the core reader (bytes, DWARF, constants). */
static int import_binary(const char *binary, int keep, dump_binary *bin, dump_err *err)
{
    int bfd = open(binary, O_RDONLY | O_CLOEXEC);
    if (bfd < 0)
        return dump_err_sys(err, errno, "opening the binary", binary);
    int rc = dump_binary_load(bfd, binary, keep ? DUMP_BINARY_KEEP : 0, bin);
    close(bfd);
    if (rc < 0)
        return dump_err_set(err, DUMP_ERR_FORMAT, 0, "reading symbols: %s", bin->why);
    if (keep && (!bin->types || !bin->consts))
        return dump_err_set(err, DUMP_ERR_FORMAT, 0,
                            "%s has no DWARF: reading a core needs the runtime's layout from "
                            "the binary's debug information (build without -ldflags=-w/-s)",
                            binary);
    return 0;
}

/* Rebuilds the heap dump of the memory m into an unlinked spool file beside outp. */
static int import_memory(const coremem *m, const dump_binary *bin, const char *outp, int *fd,
                         uint64_t *len, gocore_report *rep, dump_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", outp);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    *fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (*fd < 0)
        return dump_err_sys(err, errno, "creating a spool file in", dir);
    gocore_input in = {.mem = m, .binary = bin->map, .binary_size = bin->size,
                       .syms = bin->syms, .types = bin->types, .consts = bin->consts};
    hs_error he;
    hs_error_clear(&he);
    int sfd = *fd;
    hs_writer sink = {hs_fd_write, &sfd};
    if (gocore_write(&in, sink, rep, &he) < 0) {
        char buf[600];
        if (he.status == HS_ERR_IO)
            return dump_err_from_hs(&he, err);
        return dump_err_set(err, DUMP_ERR_FORMAT, 0, "%s", hs_error_format(&he, buf, sizeof buf));
    }
    off_t end = lseek(*fd, 0, SEEK_END);
    if (end < 0)
        return dump_err_sys(err, errno, "sizing the spool in", dir);
    *len = (uint64_t)end;
    return 0;
}

/* import of a core file (an ELF core, not a runtime heap dump) */
static int import_core(const char *core, int cfd, const struct stat *st, const char *binary,
                       const char *outp, int progress_on, dump_capture_result *r, dump_err *err)
{
    int rc = -1, spool = -1;
    dump_binary bin = {0};
    coremem *m = NULL;
    gocore_report rep;
    void *map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, cfd, 0);
    if (map == MAP_FAILED)
        return dump_err_sys(err, errno, "mapping", core);
    hs_error he;
    hs_error_clear(&he);
    char buf[600];
    if (coremem_from_core(map, (size_t)st->st_size, &m, &he) < 0) {
        dump_err_set(err, DUMP_ERR_FORMAT, 0, "%s: %s", core, hs_error_format(&he, buf, sizeof buf));
        goto out;
    }
    if (import_binary(binary, 1, &bin, err) < 0 ||
        import_memory(m, &bin, outp, &spool, &r->out.raw_bytes, &rep, err) < 0) {
        dump_err_prefix(err, "%s", core);
        goto out;
    }
    char abscore[PATH_MAX];
    if (!realpath(core, abscore))
        snprintf(abscore, sizeof abscore, "%s", core);
    import_src src = {.source = "core", .from = abscore, .pid = (int)coremem_get_info(m)->pid,
                      .at = st->st_mtim, .rep = &rep};
    rc = import_write(spool, r->out.raw_bytes, &bin, binary, &src, outp, progress_on, r, err);
    if (rc == 0)
        r->core = rep;
out:
    if (spool >= 0)
        close(spool);
    coremem_free(m);
    dump_binary_release(&bin);
    munmap(map, (size_t)st->st_size);
    return rc;
}

int dump_capture_import(const char *raw, const char *binary, const char *outp, int progress_on,
                        dump_capture_result *r, dump_err *err)
{
    memset(r, 0, sizeof *r);
    int rc = -1;
    dump_binary bin = {0};
    int fd = open(raw, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dump_err_sys(err, errno, "opening", raw);
    char magic[GOHD_MAGIC_LEN];
    struct stat st;
    if (fstat(fd, &st) < 0 || pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic) {
        dump_err_set(err, DUMP_ERR_FORMAT, 0, "%s is too short for a heap dump or a core: it "
                     "ends at byte %lld", raw, (long long)st.st_size);
        goto out;
    }
    if (memcmp(magic, "\177ELF", 4) == 0) {
        rc = import_core(raw, fd, &st, binary, outp, progress_on, r, err);
        goto out;
    }
    if (memcmp(magic, GOHD_MAGIC, GOHD_MAGIC_LEN) != 0) {
        dump_err_set(err, DUMP_ERR_FORMAT, 0,
                     "%s is neither a Go heap dump (no \"go1.7 heap dump\" magic at byte 0) "
                     "nor an ELF core file", raw);
        goto out;
    }
    if (import_binary(binary, 0, &bin, err) < 0)
        goto out;
    char absraw[PATH_MAX];
    if (!realpath(raw, absraw))
        snprintf(absraw, sizeof absraw, "%s", raw);
    import_src src = {.source = "import", .from = absraw, .at = st.st_mtim};
    rc = import_write(fd, (uint64_t)st.st_size, &bin, binary, &src, outp, progress_on, r, err);
out:
    close(fd);
    dump_binary_release(&bin);
    return rc;
}

int dump_capture_snapshot(int pid, const char *binary, const char *outp, int progress_on,
                          dump_capture_result *r, dump_err *err)
{
    memset(r, 0, sizeof *r);
    int rc = -1, spool = -1;
    dump_binary bin = {0};
    coremem *m = NULL;
    gocore_report rep;
    char exe[64];
    snprintf(exe, sizeof exe, "/proc/%d", pid);
    if (access(exe, F_OK) < 0) {
        dump_err_set(err, DUMP_ERR_NOPROC, errno, "no process %d", pid);
        goto out;
    }
    snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
    if (!binary)
        binary = exe;
    if (import_binary(binary, 1, &bin, err) < 0)
        goto out;
    struct timespec at;
    clock_gettime(CLOCK_REALTIME, &at);
    dump_snap_stats st;
    if (dump_snap_take(pid, &m, &st, err) < 0)
        goto out;
    if (import_memory(m, &bin, outp, &spool, &r->out.raw_bytes, &rep, err) < 0) {
        dump_err_prefix(err, "process %d", pid);
        goto out;
    }
    coremem_free(m);
    m = NULL;
    char absbin[PATH_MAX];
    if (binary == exe && realpath(exe, absbin))
        binary = absbin;
    import_src src = {.source = "snapshot", .pid = pid, .at = at, .rep = &rep,
                      .pause_ns = st.pause_ns};
    rc = import_write(spool, r->out.raw_bytes, &bin, binary, &src, outp, progress_on, r, err);
    if (rc == 0) {
        r->core = rep;
        r->timings.pause_ns = st.pause_ns;
    }
out:
    if (spool >= 0)
        close(spool);
    coremem_free(m);
    dump_binary_release(&bin);
    return rc;
}
