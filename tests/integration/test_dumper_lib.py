"""Shared helpers for the heapsift-dump integration tests (test_dumper*.py); not a test itself.

Targets are tests/go/hooked (imports the hook, knows its own counts) and plain processes
without the hook. Every target runs with its own TMPDIR so its hook socket is private to the
test, and heapsift-dump runs with the same TMPDIR."""
import json
import os
import re
import signal
import subprocess
import time

import hstest

META, SYMTAB, MAPS, HEAPDUMP, MANIFEST = 1, 2, 3, 4, 5
DISTINCT_SIZE = 27264  # tests/go/hooked: the size class of its distinctive objects


def hooked():
    return hstest.go_build("tests/go/hooked", "hooked", cwd="tests/go/hooked")


def read_hsd(path):
    """{type: (raw bytes, stored_size)} for the first section of each type (hstest.read_hsd)."""
    out = {}
    for typ, _name, raw, stored in hstest.read_hsd(path):
        out.setdefault(typ, (raw, stored))
    return out


def meta(path):
    return json.loads(read_hsd(path)[META][0])


class Target:
    """A hooked test program (or any command) started with a private TMPDIR."""

    def __init__(self, tmp, args=(), cmd=None, env=None):
        self.tmp = tmp
        self.ready = os.path.join(tmp, "ready-%d" % time.monotonic_ns())
        e = dict(os.environ, TMPDIR=tmp)
        e.update(env or {})
        if cmd is None:
            cmd = [hooked(), "-ready", self.ready] + list(args)
        self.proc = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None:
                raise AssertionError("target exited with %s before it was ready" % self.proc.returncode)
            if time.time() > deadline:
                raise AssertionError("target not ready after %ss" % timeout)
            time.sleep(0.02)
        return self

    def alive(self):
        if self.proc.poll() is not None:
            return False
        try:
            with open("/proc/%d/status" % self.pid) as f:
                state = re.search(r"^State:\s+(\S)", f.read(), re.M).group(1)
        except OSError:
            return False
        return state not in "ZXT"  # T: stopped would mean we left it stopped

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def dumper(args, tmp, **kw):
    """Runs heapsift-dump with TMPDIR=tmp; returns the CompletedProcess."""
    env = dict(os.environ, TMPDIR=tmp)
    env.update(kw.pop("env", {}))
    return hstest.run([hstest.HEAPSIFT_DUMP] + list(args), env=env, **kw)


def start_dumper(args, tmp):
    return subprocess.Popen([hstest.HEAPSIFT_DUMP] + list(args), env=dict(os.environ, TMPDIR=tmp),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def spool_size(dumper_pid, outdir):
    """Size of the dumper's raw spool (an unnamed file in outdir, seen through /proc/PID/fd),
    or -1 while it has none."""
    real = os.path.realpath(outdir)
    try:
        fds = os.listdir("/proc/%d/fd" % dumper_pid)
    except OSError:
        return -1
    best = -1
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (dumper_pid, fd))
            if link.startswith(real + "/") and "(deleted)" in link or link.startswith(real + "/#"):
                best = max(best, os.stat("/proc/%d/fd/%s" % (dumper_pid, fd)).st_size)
        except OSError:
            pass
    return best


def wait_streaming(dumper_proc, outdir, min_bytes, timeout=60):
    """Waits until the dumper has spooled at least min_bytes; returns True, or False when the
    dumper exited first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if dumper_proc.poll() is not None:
            return False
        if spool_size(dumper_proc.pid, outdir) >= min_bytes:
            return True
        time.sleep(0.002)
    return False


def size_count(info, size):
    return sum(s["count"] for s in info["object_sizes"] if s["size"] == size)


def files(d):
    return sorted(os.listdir(d))
