/* dump_hook.c - hook protocol client (dumper/go/PROTOCOL.md). */
#include "dump_hook.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cjson/cJSON.h"
#include "dump_clock.h"

#define HOOK_MAX_LINE 65536           /* reply line */
#define HOOK_MAX_MANIFEST (1u << 30)  /* manifest bytes we accept */
#define HOOK_TICK_MS 200

static void join_sock(const char *tmp, unsigned uid, int pid, char *out, size_t size)
{
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/') /* filepath.Join in the hook cleans trailing slashes */
        n--;
    snprintf(out, size, "%.*s/heapsift-%u/%d.sock", (int)n, tmp, uid, pid);
}

int dump_hook_find(const dump_proc_info *p, char *path, size_t size, dump_err *err)
{
    const char *dirs[3];
    int nd = 0;
    if (p->tmpdir[0])
        dirs[nd++] = p->tmpdir;
    dirs[nd++] = "/tmp";
    const char *own = getenv("TMPDIR");
    if (own && *own)
        dirs[nd++] = own;
    char tried[2][PATH_MAX];
    char denied[PATH_MAX] = "", stale[PATH_MAX] = "";
    int ntried = 0;
    for (int i = 0; i < nd; i++) {
        char cand[PATH_MAX];
        join_sock(dirs[i], (unsigned)p->uid, p->pid, cand, sizeof cand);
        int dup = 0;
        for (int j = 0; j < ntried; j++)
            dup |= strcmp(tried[j], cand) == 0;
        if (dup)
            continue;
        if (ntried < 2)
            snprintf(tried[ntried++], PATH_MAX, "%s", cand);
        struct stat st;
        if (lstat(cand, &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                continue;
            /* made before the process started: an earlier process's, whose pid this one
             * reuses (the start time is never later than the true one: btime is whole
             * seconds, rounded down) */
            uint64_t made = (uint64_t)st.st_ctim.tv_sec * 1000000000ull +
                            (uint64_t)st.st_ctim.tv_nsec;
            if (p->start_unix_ns && made < p->start_unix_ns) {
                if (!stale[0])
                    snprintf(stale, sizeof stale, "%s", cand);
                continue;
            }
            snprintf(path, size, "%s", cand);
            return 0;
        }
        if (errno == EACCES && !denied[0])
            snprintf(denied, sizeof denied, "%s", cand);
    }
    if (denied[0]) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", denied);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        return dump_err_set(err, DUMP_ERR_PERM, EACCES,
                            "permission denied: the hook socket directory %s belongs to uid %u "
                            "(process %d); run heapsift-dump as that user or as root",
                            dir, (unsigned)p->uid, p->pid);
    }
    return dump_err_set(err, DUMP_ERR_NOHOOK, ENOENT,
                        "process %d (%s) has no heapsift hook: no socket at %s%s%s%s%s%s",
                        p->pid, p->exe[0] ? p->exe : "?", tried[0], ntried > 1 ? " or " : "",
                        ntried > 1 ? tried[1] : "",
                        stale[0] ? " (" : "", stale,
                        stale[0] ? " is older than the process: a stale socket of an earlier "
                                   "process with its pid)" : "");
}

static int hook_connect(const char *sock, int *out, dump_err *err)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(sock) >= sizeof a.sun_path)
        return dump_err_set(err, DUMP_ERR_IO, ENAMETOOLONG, "socket path too long: %s", sock);
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return dump_err_sys(err, errno, "socket for", sock);
    for (;;) {
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            break;
        int e = errno;
        if (e == EINTR)
            continue;
        close(fd);
        if (e == EACCES || e == EPERM)
            return dump_err_set(err, DUMP_ERR_PERM, e,
                                "permission denied: cannot connect to %s (the socket belongs "
                                "to another user); run heapsift-dump as the target's user or "
                                "as root", sock);
        if (e == ECONNREFUSED || e == ENOENT)
            return dump_err_set(err, DUMP_ERR_NOHOOK, e,
                                "no hook is listening on %s (stale socket: the process that "
                                "created it is gone or stopped its hook)", sock);
        return dump_err_sys(err, e, "connecting to", sock);
    }
    *out = fd;
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct rbuf {
    char *data;
    size_t len, cap;
} rbuf;

/* Reads from fd until EOF into b (at most limit bytes). timeout_ms < 0: wait forever, calling
 * tick every HOOK_TICK_MS. Returns 0 at EOF, 1 when tick gave up or the timeout passed, -1 on
 * a read error (errno set) or when the limit was exceeded (errno EFBIG). */
static int read_to_eof(int fd, rbuf *b, size_t limit, int timeout_ms, dump_hook_tick_fn tick,
                       void *ctx)
{
    int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int wait = HOOK_TICK_MS;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return 1;
            if (left < wait)
                wait = (int)left;
        }
        int pr = poll(&pfd, 1, wait);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr <= 0) {
            if (tick && tick(ctx))
                return 1;
            continue;
        }
        if (b->len == b->cap) {
            if (b->cap >= limit) {
                errno = EFBIG;
                return -1;
            }
            size_t ncap = b->cap ? b->cap * 2 : 4096;
            if (ncap > limit)
                ncap = limit;
            char *nd = realloc(b->data, ncap + 1);
            if (!nd) {
                errno = ENOMEM;
                return -1;
            }
            b->data = nd;
            b->cap = ncap;
        }
        ssize_t r = read(fd, b->data + b->len, b->cap - b->len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == ECONNRESET)
                return 0; /* treated as end of stream: the caller checks what arrived */
            return -1;
        }
        if (r == 0)
            return 0;
        b->len += (size_t)r;
    }
}

static int send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static void copy_str(const cJSON *v, char *dst, size_t size)
{
    if (cJSON_IsString(v) && v->valuestring)
        snprintf(dst, size, "%s", v->valuestring);
    else
        dst[0] = '\0';
}

static int64_t json_i64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int dump_hook_info_get(const char *sock, int timeout_ms, dump_hook_info *out, dump_err *err)
{
    memset(out, 0, sizeof *out);
    int fd;
    if (hook_connect(sock, &fd, err) < 0)
        return -1;
    rbuf b = {0};
    cJSON *j = NULL;
    int rc = -1;
    if (send_all(fd, "INFO\n", 5) < 0) {
        dump_err_set(err, DUMP_ERR_NOHOOK, errno, "sending INFO to %s: %s", sock, strerror(errno));
        goto out;
    }
    int r = read_to_eof(fd, &b, HOOK_MAX_LINE, timeout_ms, NULL, NULL);
    if (r != 0) {
        dump_err_set(err, DUMP_ERR_NOHOOK, r < 0 ? errno : ETIMEDOUT,
                     "no INFO reply from %s within %d ms", sock, timeout_ms);
        goto out;
    }
    if (b.len == 0) {
        dump_err_set(err, DUMP_ERR_PERM, EACCES,
                     "the hook at %s closed the connection without a reply: it answers only "
                     "its own user and root", sock);
        goto out;
    }
    b.data[b.len] = '\0';
    j = cJSON_Parse(b.data);
    if (!j || !cJSON_IsObject(j)) {
        dump_err_set(err, DUMP_ERR_HOOK, 0, "bad INFO reply from %s: %.200s", sock, b.data);
        goto out;
    }
    out->proto = (int)json_i64(j, "proto");
    out->pid = (int)json_i64(j, "pid");
    out->start_unix_ns = json_i64(j, "start_unix_ns");
    out->uid = (int)json_i64(j, "uid");
    copy_str(cJSON_GetObjectItemCaseSensitive(j, "go_version"), out->go_version, sizeof out->go_version);
    copy_str(cJSON_GetObjectItemCaseSensitive(j, "exe"), out->exe, sizeof out->exe);
    copy_str(cJSON_GetObjectItemCaseSensitive(j, "goarch"), out->goarch, sizeof out->goarch);
    out->manifest = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "manifest"));
    if (out->proto != 1) {
        dump_err_set(err, DUMP_ERR_HOOK, 0,
                     "the hook at %s speaks protocol %d; this heapsift-dump speaks 1", sock,
                     out->proto);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(j);
    free(b.data);
    close(fd);
    return rc;
}

int dump_hook_dump_send(const char *sock, int datafd, int nogc, int *ctl, dump_err *err)
{
    int fd;
    if (hook_connect(sock, &fd, err) < 0)
        return -1;
    const char *line = nogc ? "DUMP nogc\n" : "DUMP\n";
    struct iovec iov = {.iov_base = (void *)line, .iov_len = strlen(line)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cm;
    memset(&cm, 0, sizeof cm);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                         .msg_controllen = sizeof cm.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &datafd, sizeof datafd);
    int rc = 0;
    for (;;) {
        ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (w == (ssize_t)iov.iov_len)
            break;
        if (w < 0 && errno == EINTR)
            continue;
        int e = w < 0 ? errno : EIO;
        rc = dump_err_set(err, DUMP_ERR_DROPPED, e, "sending DUMP to %s: %s", sock,
                          strerror(e));
        goto out;
    }
    *ctl = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int dump_hook_dump_reply(int ctl, dump_hook_tick_fn tick, void *ctx, dump_hook_reply *rep,
                         dump_err *err)
{
    memset(rep, 0, sizeof *rep);
    rbuf b = {0};
    cJSON *j = NULL;
    int rc = -1;
    int r = read_to_eof(ctl, &b, (size_t)HOOK_MAX_LINE + HOOK_MAX_MANIFEST, -1, tick, ctx);
    if (r < 0) {
        dump_err_set(err, DUMP_ERR_DROPPED, errno, "reading the hook's reply: %s",
                     strerror(errno));
        goto out;
    }
    if (r > 0) {
        dump_err_set(err, DUMP_ERR_DROPPED, ETIMEDOUT,
                     "the dump stream ended but the hook never replied: the target exited or "
                     "the connection dropped mid-dump");
        goto out;
    }
    char *nl = b.len ? memchr(b.data, '\n', b.len) : NULL;
    if (!nl || nl - b.data > HOOK_MAX_LINE) {
        dump_err_set(err, DUMP_ERR_DROPPED, 0,
                     "the connection to the hook closed without a complete reply (%zu bytes): "
                     "the target exited or the connection dropped mid-dump", b.len);
        goto out;
    }
    *nl = '\0';
    j = cJSON_Parse(b.data);
    if (!j || !cJSON_IsObject(j)) {
        dump_err_set(err, DUMP_ERR_HOOK, 0, "bad DUMP reply from the hook: %.200s", b.data);
        goto out;
    }
    rep->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
    if (!rep->ok) {
        copy_str(cJSON_GetObjectItemCaseSensitive(j, "error"), rep->error, sizeof rep->error);
        int busy = strncmp(rep->error, "busy", 4) == 0;
        dump_err_set(err, busy ? DUMP_ERR_BUSY : DUMP_ERR_HOOK, 0, "the hook refused the dump: %s",
                     rep->error[0] ? rep->error : "(no message)");
        goto out;
    }
    rep->pause_ns = json_i64(j, "pause_ns");
    rep->gc_ns = json_i64(j, "gc_ns");
    rep->dump_seq = (uint64_t)json_i64(j, "dump_seq");
    int64_t mlen = json_i64(j, "manifest_len");
    size_t have = b.len - (size_t)(nl + 1 - b.data);
    if (mlen < 0 || (uint64_t)mlen > HOOK_MAX_MANIFEST) {
        dump_err_set(err, DUMP_ERR_HOOK, 0, "bad manifest_len %lld in the hook's reply",
                     (long long)mlen);
        goto out;
    }
    if (have < (size_t)mlen) {
        dump_err_set(err, DUMP_ERR_DROPPED, 0,
                     "the connection dropped inside the manifest (%zu of %lld bytes)", have,
                     (long long)mlen);
        goto out;
    }
    if (mlen > 0) {
        rep->manifest = malloc((size_t)mlen);
        if (!rep->manifest) {
            dump_err_set(err, DUMP_ERR_IO, ENOMEM, "out of memory for the manifest");
            goto out;
        }
        memcpy(rep->manifest, nl + 1, (size_t)mlen);
        rep->manifest_len = (size_t)mlen;
    }
    rc = 0;
out:
    cJSON_Delete(j);
    free(b.data);
    return rc;
}

void dump_hook_reply_release(dump_hook_reply *rep)
{
    if (!rep)
        return;
    free(rep->manifest);
    rep->manifest = NULL;
    rep->manifest_len = 0;
}
