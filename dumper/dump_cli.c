/* dump_cli.c - heapsift-dump's command dispatch and the subcommands capture, import and list
 * (run and watch are in dump_trigger.c). */
#include "dump_cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_capture.h"
#include "dump_exit.h"
#include "dump_hook.h"
#include "dump_proc.h"
#include "dump_trigger.h"
#include "hs_units.h"
#include "hs_version.h"


static const char usage[] =
    "usage: heapsift-dump COMMAND ...\n"
    "\n"
    "Captures heap dumps of live Go processes into .hsd files for `heapsift analyze`.\n"
    "The target must import the hook:  " DUMP_HOOK_IMPORT "\n"
    "\n"
    "  capture PID [-o FILE] [--nogc] [--redact] [--timeout SEC] [--binary BIN]\n"
    "      one dump now (default FILE: heapsift-PID-YYYYmmdd-HHMMSS.hsd in the current\n"
    "      directory; the target's manifest, if any, goes to FILE.manifest.json)\n"
    "  run [--at 2s,5s] [--every 1s [--count N]] [--on-rss 512M] [-o DIR] [--wait-hook 10s]\n"
    "      [--stop-after] [--nogc] -- PROG ARGS...\n"
    "      launch PROG and capture it at those times after its start, periodically, or when\n"
    "      its RSS crosses a size; exits with PROG's status\n"
    "  watch PID --on-rss SIZE [--count N] [--interval 200ms] [-o DIR] [--nogc]\n"
    "      capture PID each time its RSS crosses SIZE (at most N times)\n"
    "  import RAW|CORE --binary BIN -o FILE\n"
    "      wrap a dump written by runtime/debug.WriteHeapDump, or the heap of a core file\n"
    "      (gcore, or the kernel's after GOTRACEBACK=crash), and BIN's symbols into FILE\n"
    "  snapshot PID [-o FILE] [--binary BIN]\n"
    "      stop an unmodified Go process just long enough to copy its memory, and write its\n"
    "      heap into FILE (no hook needed; same user or root, ptrace allowed)\n"
    "  list\n"
    "      processes of this user (all users as root) that serve the hook\n"
    "\n"
    "Exit status: 0 ok, 1 capture failed, 2 usage or input that cannot be read (a broken\n"
    "file, a core of another program, a process that cannot be traced; run: the program's\n"
    "status).\n";

static const char capture_usage[] =
    "usage: heapsift-dump capture PID [-o FILE] [--nogc] [--redact] [--timeout SEC]\n"
    "                             [--binary BIN]\n"
    "\n"
    "  -o, --output FILE  the .hsd to write (replaced if it exists; written under a temporary\n"
    "                     name and renamed when complete)\n"
    "  --nogc             do not run a GC before the dump (garbage stays in it)\n"
    "  --redact           zero every non-pointer byte (secrets) but keep what analysis needs\n"
    "  --timeout SEC      give up when no dump data arrives for SEC seconds (default 60)\n"
    "  --binary BIN       read symbols from BIN instead of /proc/PID/exe\n";

static const char import_usage[] =
    "usage: heapsift-dump import RAW|CORE --binary BIN -o FILE\n"
    "\n"
    "Wraps a raw heap dump (runtime/debug.WriteHeapDump) and the symbols of the program that\n"
    "wrote it into a .hsd file. Given an ELF core file of a Go process instead (gcore PID, or\n"
    "the kernel's core of a crash with GOTRACEBACK=crash), rebuilds its heap and roots from\n"
    "the runtime's structures, laid out by BIN's DWARF (BIN must not be stripped).\n";

static const char snapshot_usage[] =
    "usage: heapsift-dump snapshot PID [-o FILE] [--binary BIN]\n"
    "\n"
    "Captures an unmodified Go process: stops every thread with ptrace just long enough to\n"
    "copy its memory, lets it run again, then rebuilds its heap and roots from the copy.\n"
    "Needs the target's user or root, and ptrace allowed (/proc/sys/kernel/yama/ptrace_scope\n"
    "0, or 1 with root). The binary must carry DWARF (not built with -ldflags=-w or -s).\n"
    "\n"
    "  -o, --output FILE  the .hsd to write (default heapsift-PID-YYYYmmdd-HHMMSS.hsd)\n"
    "  --binary BIN       the program's binary (default /proc/PID/exe)\n";

static int parse_pid(const char *s, int *pid)
{
    uint64_t v;
    if (hs_units_parse_count(s, 1, INT_MAX, &v, NULL) < 0)
        return -1;
    *pid = (int)v;
    return 0;
}

static int cmd_capture(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"nogc", no_argument, 0, 'n'},
        {"redact", no_argument, 0, 'z'},
        {"timeout", required_argument, 0, 't'},
        {"binary", required_argument, 0, 'b'},
        {"raw-to-file", required_argument, 0, 'R'}, /* hidden: benchmark baseline */
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    dump_capture_opts o = {0};
    const char *raw_to = NULL;
    int c, code = DUMP_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_path = optarg; break;
        case 'n': o.nogc = 1; break;
        case 'z': o.redact = 1; break;
        case 't':
            o.stall_seconds = atoi(optarg);
            if (o.stall_seconds <= 0) {
                fputs(capture_usage, stderr);
                goto out;
            }
            break;
        case 'b': o.binary = optarg; break;
        case 'R': raw_to = optarg; break;
        case 'h': fputs(capture_usage, stdout); code = DUMP_EXIT_OK; goto out;
        default: fputs(capture_usage, stderr); goto out;
        }
    }
    if (optind + 1 != argc || parse_pid(argv[optind], &o.pid) < 0) {
        fputs(capture_usage, stderr);
        goto out;
    }
    code = DUMP_EXIT_FAIL;
    dump_err err = {0};
    if (raw_to) {
        dump_hook_reply rep;
        if (dump_capture_raw_to_file(o.pid, raw_to, o.nogc, &rep, &err) < 0) {
            dump_exit_error("capture", &err);
            goto out;
        }
        printf("{\"pause_ns\":%lld,\"gc_ns\":%lld,\"dump_seq\":%llu,\"manifest_len\":%zu}\n",
               (long long)rep.pause_ns, (long long)rep.gc_ns, (unsigned long long)rep.dump_seq,
               rep.manifest_len);
        dump_hook_reply_release(&rep);
        code = DUMP_EXIT_OK;
        goto out;
    }
    dump_exit_install_cleanup();
    o.progress = isatty(STDERR_FILENO);
    dump_capture_result r;
    if (dump_capture_run(&o, &r, &err) < 0) {
        dump_exit_error("capture", &err);
        goto out;
    }
    dump_exit_wrote(&r, NULL, 1);
    code = DUMP_EXIT_OK;
out:
    return code;
}

/* The options import and snapshot share: -o FILE and --binary BIN, then one operand. Returns
 * -1 when the command goes on (*operand set), else the exit status (usage, or --help). */
static int out_binary_opts(int argc, char **argv, const char *use, const char **out,
                           const char **binary, const char **operand)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"binary", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': *out = optarg; break;
        case 'b': *binary = optarg; break;
        case 'h': fputs(use, stdout); return DUMP_EXIT_OK;
        default: fputs(use, stderr); return DUMP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fputs(use, stderr);
        return DUMP_EXIT_USAGE;
    }
    *operand = argv[optind];
    return -1;
}

/* The exit status of an import or snapshot that ran (rc < 0: it failed, err says why), having
 * said on stderr what it wrote or why it failed. */
static int wrote_or_failed(const char *cmd, int rc, const dump_capture_result *r,
                           const dump_err *err)
{
    if (rc < 0) {
        dump_exit_error(cmd, err);
        return dump_exit_code(err);
    }
    dump_exit_wrote(r, NULL, 1);
    return DUMP_EXIT_OK;
}

static int cmd_import(int argc, char **argv)
{
    const char *out_path = NULL, *binary = NULL, *raw = NULL;
    int code = out_binary_opts(argc, argv, import_usage, &out_path, &binary, &raw);
    if (code >= 0)
        return code;
    if (!out_path || !binary) {
        fputs(import_usage, stderr);
        return DUMP_EXIT_USAGE;
    }
    dump_exit_install_cleanup();
    dump_err err = {0};
    dump_capture_result r;
    int rc = dump_capture_import(raw, binary, out_path, isatty(STDERR_FILENO), &r, &err);
    return wrote_or_failed("import", rc, &r, &err);
}

static int cmd_snapshot(int argc, char **argv)
{
    const char *out_path = NULL, *binary = NULL, *operand = NULL;
    int pid, code = out_binary_opts(argc, argv, snapshot_usage, &out_path, &binary, &operand);
    if (code >= 0)
        return code;
    if (parse_pid(operand, &pid) < 0) {
        fputs(snapshot_usage, stderr);
        return DUMP_EXIT_USAGE;
    }
    char name[PATH_MAX];
    if (!out_path) {
        dump_capture_default_name(pid, NULL, 0, name, sizeof name);
        out_path = name;
    }
    dump_exit_install_cleanup();
    dump_err err = {0};
    dump_capture_result r;
    int rc = dump_capture_snapshot(pid, binary, out_path, isatty(STDERR_FILENO), &r, &err);
    return wrote_or_failed("snapshot", rc, &r, &err);
}

/* One directory that may hold heapsift-<uid>/ socket directories. */
static int list_base(const char *base, int *found)
{
    DIR *d = opendir(base);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned uid;
        char tail;
        if (sscanf(e->d_name, "heapsift-%u%c", &uid, &tail) != 1)
            continue;
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s/%s", base, e->d_name) >= (int)sizeof sub)
            continue;
        DIR *sd = opendir(sub); /* 0700 directories of other users are skipped */
        if (!sd)
            continue;
        struct dirent *s;
        while ((s = readdir(sd))) {
            int pid;
            if (sscanf(s->d_name, "%d.sock%c", &pid, &tail) != 1 || pid <= 0)
                continue;
            char sock[PATH_MAX + 300];
            snprintf(sock, sizeof sock, "%s/%s", sub, s->d_name);
            if (!dump_proc_alive(pid))
                continue; /* stale socket of a dead process */
            dump_hook_info info;
            if (dump_hook_info_get(sock, 1000, &info, NULL) < 0 || info.pid != pid)
                continue;
            if (!*found)
                printf("%-8s %-14s %s\n", "PID", "GO", "EXE");
            printf("%-8d %-14s %s\n", pid, info.go_version, info.exe);
            (*found)++;
        }
        closedir(sd);
    }
    closedir(d);
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fputs("usage: heapsift-dump list\n", stderr);
        return DUMP_EXIT_USAGE;
    }
    char bases[2][PATH_MAX];
    int nb = 0;
    const char *tmp = getenv("TMPDIR");
    if (tmp && *tmp) {
        snprintf(bases[nb], PATH_MAX, "%s", tmp);
        size_t n = strlen(bases[nb]);
        while (n > 1 && bases[nb][n - 1] == '/')
            bases[nb][--n] = '\0';
        nb++;
    }
    if (!nb || strcmp(bases[0], "/tmp") != 0)
        snprintf(bases[nb++], PATH_MAX, "/tmp");
    int found = 0;
    for (int i = 0; i < nb; i++)
        list_base(bases[i], &found);
    if (!found)
        fprintf(stderr, "heapsift-dump list: no process with a live heapsift hook found in "
                        "%s%s%s\n", bases[0], nb > 1 ? " or " : "", nb > 1 ? bases[1] : "");
    return DUMP_EXIT_OK;
}

int dump_cli_main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(usage, stderr);
        return DUMP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    if (strcmp(cmd, "capture") == 0)
        return cmd_capture(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return dump_trigger_run(argc, argv);
    if (strcmp(cmd, "watch") == 0)
        return dump_trigger_watch(argc, argv);
    if (strcmp(cmd, "import") == 0)
        return cmd_import(argc, argv);
    if (strcmp(cmd, "snapshot") == 0)
        return cmd_snapshot(argc, argv);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc, argv);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return DUMP_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("heapsift-dump %s\n", HEAPSIFT_VERSION);
        return DUMP_EXIT_OK;
    }
    fprintf(stderr, "heapsift-dump: unknown command '%s'\n\n%s", cmd, usage);
    return DUMP_EXIT_USAGE;
}
