"""heapsift-dump under faults: the target killed while its dump streams, the dumper killed or
interrupted mid-capture, a full disk. Never a partial .hsd, never a stopped target."""
import os
import shutil
import signal
import subprocess
import time

import hstest
from test_dumper_lib import Target, dumper, files, meta, start_dumper, wait_streaming

c = hstest.Checker("test_dumper_faults")
tmp = hstest.tempdir()
BALLAST = 400  # MiB of heap: a dump that streams for a while


def outdir(name):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    return d


# ---- the target dies (SIGKILL) while the dump streams: no file, non-zero exit
d = outdir("target-killed")
t = Target(tmp, ["-ballast", str(BALLAST)]).wait_ready()
try:
    q = start_dumper(["capture", str(t.pid), "--nogc", "-o", os.path.join(d, "x.hsd")], tmp)
    streaming = wait_streaming(q, d, 1 << 20)
    c.check(streaming, "the dump was streaming when the target was killed")
    t.proc.kill()
    t.proc.wait()
    so, se = q.communicate(timeout=60)
    c.eq(q.returncode, 1, "dumper exit status when the target died mid-dump")
    c.check("exited during the capture" in se or "mid-dump" in se,
            "says the target exited mid-dump: %s" % se.strip())
    c.eq(files(d), [], "no .hsd, no temp file, no manifest after the target died")
    sock = os.path.join(tmp, "heapsift-%d" % os.getuid(), "%d.sock" % t.pid)
    c.check(os.path.exists(sock), "the killed target left its socket behind")
    p = dumper(["list"], tmp)
    c.check(str(t.pid) not in p.stdout.split(), "list ignores the stale socket: %r" % p.stdout)
    p = dumper(["capture", str(t.pid)], tmp)
    c.check(p.returncode == 1 and "no such process" in p.stderr, "capture of the dead target: %s" % p.stderr.strip())
finally:
    t.stop()

# ---- the target stalls (SIGSTOP) while its dump streams: the dumper times out with a
# clear message, leaves no file, and the target resumes and runs on (its dump writes then
# fail with EPIPE, which the runtime ignores); a later capture works.
d = outdir("target-stalled")
t = Target(tmp, ["-ballast", str(BALLAST)]).wait_ready()
try:
    q = start_dumper(["capture", str(t.pid), "--nogc", "--timeout", "2",
                      "-o", os.path.join(d, "x.hsd")], tmp)
    c.check(wait_streaming(q, d, 1 << 20), "the dump was streaming when the target stopped")
    os.kill(t.pid, signal.SIGSTOP)
    t0 = time.time()
    so, se = q.communicate(timeout=60)
    c.eq(q.returncode, 1, "dumper exit status for a stalled target")
    c.check("stalled" in se, "says the target stalled: %s" % se.strip())
    c.check(time.time() - t0 < 20, "gave up within the timeout")
    c.eq(files(d), [], "no file after the stall")
    os.kill(t.pid, signal.SIGCONT)
    time.sleep(1.0)
    c.check(t.alive(), "the target runs on after SIGCONT")
    p = dumper(["capture", str(t.pid), "--nogc", "-o", os.path.join(d, "later.hsd")], tmp)
    c.eq(p.returncode, 0, "a later capture works (stderr: %s)" % p.stderr.strip())
finally:
    os.kill(t.pid, signal.SIGCONT) if t.proc.poll() is None else None
    t.stop()

# ---- the dumper dies (SIGKILL) mid-capture: the target runs on; a later capture works
d = outdir("dumper-killed")
t = Target(tmp, ["-ballast", str(BALLAST), "-distinct", "9"]).wait_ready()
try:
    q = start_dumper(["capture", str(t.pid), "--nogc", "-o", os.path.join(d, "x.hsd")], tmp)
    c.check(wait_streaming(q, d, 1 << 20), "the dump was streaming when the dumper was killed")
    q.kill()
    q.communicate()
    time.sleep(0.3)
    c.check(t.alive(), "target alive and not stopped after the dumper was killed")
    c.eq(files(d), [], "killed dumper left no file")

    # ---- the dumper gets SIGTERM mid-capture: it dies by it and removes what it wrote
    q = start_dumper(["capture", str(t.pid), "--nogc", "-o", os.path.join(d, "y.hsd")], tmp)
    c.check(wait_streaming(q, d, 1 << 20), "streaming when SIGTERM was sent")
    q.send_signal(signal.SIGTERM)
    q.communicate()
    c.eq(q.returncode, -signal.SIGTERM, "dumper died by SIGTERM")
    c.eq(files(d), [], "SIGTERM left no file")
    c.check(t.alive(), "target alive after the interrupted capture")

    # ---- later capture works (the hook is not stuck busy)
    later = os.path.join(d, "later.hsd")
    deadline = time.time() + 30
    while True:
        p = dumper(["capture", str(t.pid), "--nogc", "-o", later], tmp)
        if p.returncode == 0 or "busy" not in p.stderr or time.time() > deadline:
            break
        time.sleep(0.2)  # the runtime may still be finishing the abandoned dump
    c.eq(p.returncode, 0, "capture after the killed ones works (stderr: %s)" % p.stderr.strip())
    if p.returncode == 0:
        info = hstest.heapsift_json(["info", "--json", later])
        c.check(info["large_object_bytes"] >= BALLAST << 20, "later capture holds the whole heap")
        c.check(meta(later).get("dump_seq", 0) >= 2, "the hook ran the earlier dumps to completion")

    # ---- disk full (a small private tmpfs, root only): the message names the path, the
    # target is unharmed, nothing is left behind
    unshare = shutil.which("unshare")
    if os.geteuid() == 0 and unshare:
        small = outdir("small")
        p = hstest.run([unshare, "-m", "sh", "-c",
                        'mount -t tmpfs -o size=8m tmpfs "$1" && shift && "$@"; rc=$?; ls -A "$0"; exit $rc',
                        small, small, hstest.HEAPSIFT_DUMP, "capture", str(t.pid), "--nogc", "-o",
                        os.path.join(small, "full.hsd")], env=dict(os.environ, TMPDIR=tmp))
        if "mount" in p.stderr and p.returncode != 1:
            c.skip("cannot mount a tmpfs here: %s" % p.stderr.strip())
        else:
            c.eq(p.returncode, 1, "capture to a full disk fails")
            c.check("disk full" in p.stderr and small in p.stderr,
                    "says disk full with the path: %s" % p.stderr.strip())
            c.eq(p.stdout.strip(), "", "nothing left in the full file system")
            c.check(t.alive(), "target alive after the disk-full capture")
    else:
        c.skip("the disk-full test needs root and unshare")
finally:
    t.stop()

shutil.rmtree(tmp, ignore_errors=True)
c.done()
