/* Unit tests for hs_outfile: a file appears only complete, 0600 whatever the umask, under its
 * name or a numbered one, and nothing is left after an abort, a failed commit or a cleanup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hs_outfile.h"

/* Paths here stay short: PATHLEN is room for any of them. */
#define PATHLEN 1024
static char top[256];

/* A fresh empty directory under top. */
static const char *fresh_dir(const char *name)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", top, name);
    CHECK(mkdir(dir, 0700) == 0);
    return dir;
}

/* The names in dir (not . and ..), sorted, joined by spaces. */
static const char *listing(const char *dir)
{
    static char out[4096];
    char names[32][256];
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 32)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, names[i]);
    }
    return out;
}

static const char *contents(const char *path)
{
    static char buf[256];
    buf[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return "(none)";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void put(int fd, const char *s)
{
    CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
}

/* Creates, writes and commits path with flags; returns the name it got. */
static const char *make(const char *path, int flags, const char *text)
{
    static char got[PATH_MAX];
    hs_error e;
    hs_error_clear(&e);
    hs_outfile f;
    CHECK(hs_outfile_open(path, flags, &f, &e) == HS_OK);
    put(f.fd, text);
    CHECK(hs_outfile_commit(&f, &e) == HS_OK);
    CHECK(f.fd == -1 && f.tmp[0] == '\0' && f.slot == -1);
    snprintf(got, sizeof got, "%s", f.path);
    return got;
}

/* A file is invisible until commit (nameless, or a hidden temporary name), then complete. */
static void test_commit(int named)
{
    const char *dir = fresh_dir(named ? "commit-named" : "commit");
    char path[PATHLEN];
    snprintf(path, sizeof path, "%s/a.hsd", dir);
    hs_error e;
    hs_error_clear(&e);
    hs_outfile f;
    CHECK(hs_outfile_open(path, named ? HS_OUTFILE_NAMED : 0, &f, &e) == HS_OK);
    put(f.fd, "part");
    CHECK(access(path, F_OK) < 0);
    const char *ls = listing(dir);
    if (named) {
        CHECK(strncmp(ls, ".a.hsd.tmp-", 11) == 0 && !strchr(ls, ' '));
        CHECK(strcmp(f.tmp + strlen(dir) + 1, ls) == 0);
    } else {
        /* O_TMPFILE: no name at all (a filesystem without it: one hidden temporary name) */
        CHECK(ls[0] == '\0' || (strncmp(ls, ".a.hsd.tmp-", 11) == 0 && !strchr(ls, ' ')));
    }
    put(f.fd, "-whole");
    CHECK(hs_outfile_commit(&f, &e) == HS_OK);
    CHECK_STR(f.path, path);
    CHECK_STR(contents(path), "part-whole");
    CHECK(mode_of(path) == 0600);
    CHECK_STR(listing(dir), "a.hsd");
    hs_outfile_abort(&f); /* after commit: nothing happens */
    CHECK_STR(contents(path), "part-whole");
    CHECK(hs_outfile_commit(&f, &e) == HS_ERR_ARG);
    CHECK(strstr(e.msg, "already closed") != NULL);

    /* an existing file is kept: NAME-2.EXT, NAME-3.EXT; REPLACE replaces it */
    int fl = named ? HS_OUTFILE_NAMED : 0;
    char want[PATHLEN];
    snprintf(want, sizeof want, "%s/a-2.hsd", dir);
    CHECK_STR(make(path, fl, "second"), want);
    snprintf(want, sizeof want, "%s/a-3.hsd", dir);
    CHECK_STR(make(path, fl, "third"), want);
    CHECK_STR(contents(path), "part-whole");
    CHECK_STR(make(path, fl | HS_OUTFILE_REPLACE | HS_OUTFILE_SYNC, "new"), path);
    CHECK_STR(contents(path), "new");
    CHECK(mode_of(path) == 0600);
    char noext[PATHLEN];
    snprintf(noext, sizeof noext, "%s/plain", dir);
    make(noext, fl, "x");
    snprintf(want, sizeof want, "%s/plain-2", dir);
    CHECK_STR(make(noext, fl, "y"), want);
    CHECK_STR(listing(dir), "a-2.hsd a-3.hsd a.hsd plain plain-2");
}

/* 0600 exactly, whatever the umask. */
static void test_mode(void)
{
    const char *dir = fresh_dir("mode");
    const mode_t masks[] = {0, 022, 0177, 0777};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++)
        for (int named = 0; named < 2; named++) {
            mode_t old = umask(masks[i]);
            char path[PATHLEN];
            snprintf(path, sizeof path, "%s/m%zu-%d", dir, i, named);
            make(path, named ? HS_OUTFILE_NAMED : 0, "m");
            umask(old);
            CHECK(mode_of(path) == 0600);
        }
}

/* Abort, a failed commit and the signal-handler cleanup leave nothing behind. */
static void test_nothing_left(void)
{
    for (int named = 0; named < 2; named++) {
        const char *dir = fresh_dir(named ? "left-named" : "left");
        int fl = named ? HS_OUTFILE_NAMED : 0;
        char path[PATHLEN];
        snprintf(path, sizeof path, "%s/out.hsd", dir);
        hs_error e;
        hs_error_clear(&e);
        hs_outfile f;
        CHECK(hs_outfile_open(path, fl, &f, &e) == HS_OK);
        put(f.fd, "abandoned");
        hs_outfile_abort(&f);
        hs_outfile_abort(&f); /* twice is harmless */
        CHECK_STR(listing(dir), "");

        /* the final name is a directory: the rename fails, the temporary file goes */
        char sub[PATHLEN + 16];
        snprintf(sub, sizeof sub, "%s/x", path);
        CHECK(mkdir(path, 0700) == 0 && mkdir(sub, 0700) == 0);
        CHECK(hs_outfile_open(path, fl | HS_OUTFILE_REPLACE, &f, &e) == HS_OK);
        put(f.fd, "data");
        CHECK(hs_outfile_commit(&f, &e) == HS_ERR_IO);
        CHECK(e.sys_errno == EISDIR || e.sys_errno == ENOTEMPTY || e.sys_errno == EEXIST);
        CHECK(strstr(e.msg, "renaming the finished file to") && strstr(e.msg, path));
        CHECK(f.fd == -1 && f.tmp[0] == '\0' && f.slot == -1);
        CHECK_STR(listing(dir), "out.hsd");
        CHECK(rmdir(sub) == 0 && rmdir(path) == 0);

        /* killed by a signal: the handler's cleanup removes the temporary name */
        CHECK(hs_outfile_open(path, fl, &f, &e) == HS_OK);
        put(f.fd, "interrupted");
        hs_outfile_cleanup();
        CHECK_STR(listing(dir), "");
        hs_outfile_abort(&f);
        CHECK_STR(listing(dir), "");
    }

    /* nameless: the directory vanishes before the commit */
    const char *dir = fresh_dir("vanish");
    char path[PATHLEN];
    snprintf(path, sizeof path, "%s/out.hsd", dir);
    hs_error e;
    hs_error_clear(&e);
    hs_outfile f;
    CHECK(hs_outfile_open(path, 0, &f, &e) == HS_OK);
    if (f.tmp[0] == '\0') {
        CHECK(rmdir(dir) == 0);
        CHECK(hs_outfile_commit(&f, &e) == HS_ERR_IO);
        CHECK(e.sys_errno == ENOENT);
        CHECK(strstr(e.msg, "naming the finished file") != NULL);
        CHECK(access(path, F_OK) < 0);
    } else {
        hs_outfile_abort(&f);
    }

    hs_outfile init = HS_OUTFILE_INIT;
    hs_outfile_abort(&init); /* a never opened file */
    CHECK(init.fd == -1);
}

static void test_errors(void)
{
    hs_error e;
    hs_error_clear(&e);
    hs_outfile f;
    char path[PATHLEN];
    snprintf(path, sizeof path, "%s/no/such/dir/out.hsd", top);
    for (int named = 0; named < 2; named++) {
        CHECK(hs_outfile_open(path, named ? HS_OUTFILE_NAMED : 0, &f, &e) == HS_ERR_IO);
        CHECK(e.sys_errno == ENOENT);
        CHECK(strstr(e.msg, "/no/such/dir") && strstr(e.msg, strerror(ENOENT)));
        CHECK(f.fd == -1 && f.tmp[0] == '\0');
        hs_outfile_abort(&f);
    }
    char longp[PATH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    CHECK(hs_outfile_open(longp, 0, &f, &e) == HS_ERR_ARG);
    CHECK(strstr(e.msg, "too long") != NULL);
    CHECK(hs_outfile_open(path, 0, &f, NULL) == HS_ERR_IO); /* err is optional */
    CHECK(hs_outfile_write_all(path, "x", 1, 0, &e) == HS_ERR_IO);
    int fd = 12345;
    char nodir[PATHLEN];
    snprintf(nodir, sizeof nodir, "%s/no/such", top);
    CHECK(hs_outfile_spool(nodir, &fd, &e) == HS_ERR_IO);
    CHECK(fd == 12345 && e.sys_errno == ENOENT);
    CHECK(strstr(e.msg, "creating the raw spool") != NULL);
}

static void test_write_all_and_spool(void)
{
    const char *dir = fresh_dir("small");
    char path[PATHLEN];
    snprintf(path, sizeof path, "%s/m.json", dir);
    hs_error e;
    hs_error_clear(&e);
    CHECK(hs_outfile_write_all(path, "{}", 2, HS_OUTFILE_REPLACE, &e) == HS_OK);
    CHECK(hs_outfile_write_all(path, "{\"a\":1}", 7, HS_OUTFILE_REPLACE, &e) == HS_OK);
    CHECK_STR(contents(path), "{\"a\":1}");
    CHECK(mode_of(path) == 0600);
    CHECK(hs_outfile_write_all(path, "[]", 2, 0, &e) == HS_OK); /* kept: m-2.json */
    CHECK_STR(listing(dir), "m-2.json m.json");

    const char *sdir = fresh_dir("spool");
    int fd = -1;
    CHECK(hs_outfile_spool(sdir, &fd, &e) == HS_OK);
    CHECK(fd >= 0);
    CHECK_STR(listing(sdir), "");
    put(fd, "spooled");
    char back[8] = {0};
    CHECK(pread(fd, back, 7, 0) == 7);
    CHECK_STR(back, "spooled");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_nlink == 0);
    close(fd);
}

static void test_dir(void)
{
    char d[PATH_MAX];
    hs_outfile_dir("a.hsd", d, sizeof d);
    CHECK_STR(d, ".");
    hs_outfile_dir("/a.hsd", d, sizeof d);
    CHECK_STR(d, "/");
    hs_outfile_dir("x/y/a.hsd", d, sizeof d);
    CHECK_STR(d, "x/y");
    hs_outfile_dir("x/", d, sizeof d);
    CHECK_STR(d, "x");
}

/* Removes dir and everything in it. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATHLEN];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) < 0)
            remove_tree(p); /* a directory */
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(top, sizeof top, "%s/hs_outfile-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(top)) {
        perror(top);
        return 1;
    }
    test_commit(0);
    test_commit(1);
    test_mode();
    test_nothing_left();
    test_errors();
    test_write_all_and_spool();
    test_dir();
    remove_tree(top);
    return check_report();
}
