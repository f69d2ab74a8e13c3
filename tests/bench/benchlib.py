"""What the benchmark scripts share: running and timing a command, sizes in MiB, and the soak
workload's dumps (tests/bench/analyze, tests/bench/views)."""
import os
import subprocess
import sys
import time


def run_once(cmd, stdin=None):
    """Runs a command with stdout discarded: (wall seconds, peak RSS bytes, stderr text, CPU
    seconds: user + system, over all its threads)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()  # --timings writes here; small enough not to block the child
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    p.stderr.close()
    err = err.decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("benchmark command failed: %s\n%s" % (" ".join(cmd), err))
    return dt, ru.ru_maxrss * 1024, err, ru.ru_utime + ru.ru_stime


def measure(cmd, runs):
    """Best wall time and the peak RSS (bytes) of a command over `runs` runs."""
    best_t, peak = None, 0
    for _ in range(runs):
        dt, rss, _, _ = run_once(cmd)
        best_t = dt if best_t is None else min(best_t, dt)
        peak = max(peak, rss)
    return best_t, peak


def mib(n):
    return "%.1f MiB" % (n / 1048576.0)


def soak_dumps(hstest, n, work):
    """The soak workload with n objects dumped into work (kept there across runs): the raw dump
    (written by the program itself), the .hsd heapsift-dump imports from it (None when it
    cannot), and the workload's binary."""
    prog = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")
    dumper = os.path.join(hstest.BUILD, "dumper", "heapsift-dump")
    raw = os.path.join(work, "soak-%d.dump" % n)
    if not os.path.exists(raw):
        subprocess.run([prog, "-scenario", "soak", "-objects", str(n), "-selfdump", raw],
                       check=True, stdout=subprocess.DEVNULL)
    hsd = os.path.join(work, "soak-%d.hsd" % n)
    if not os.path.exists(hsd) and os.path.exists(dumper):
        subprocess.run([dumper, "import", raw, "--binary", prog, "-o", hsd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return raw, hsd if os.path.exists(hsd) else None, prog
