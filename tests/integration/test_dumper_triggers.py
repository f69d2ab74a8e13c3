"""heapsift-dump run and watch: captures on time, period and RSS triggers, the program's exit
status, signal forwarding."""
import os
import re
import shutil
import signal
import stat
import subprocess
import time

import hstest
from test_dumper_lib import DISTINCT_SIZE, Target, dumper, files, hooked, meta, size_count

c = hstest.Checker("test_dumper_triggers")
tmp = hstest.tempdir()
prog = hooked()


def hsds(d):
    return [os.path.join(d, f) for f in files(d) if f.endswith(".hsd")]


def outdir(name):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    return d


# ---- run --every 200ms --count 3: three valid files, then waits for the program to exit,
# which it does once its third capture is over (not after a fixed time: captures take longer
# on a loaded machine)
d = outdir("every")
p = dumper(["run", "--every", "200ms", "--count", "3", "-o", d, "--",
            prog, "-distinct", "7", "-exit-after-dumps", "3"], tmp)
c.eq(p.returncode, 0, "run exits with the program's status 0 (stderr: %s)" % p.stderr.strip())
got = hsds(d)
c.eq(len(got), 3, "--every 200ms --count 3 wrote 3 files: %s" % files(d))
pids = set()
for f in got:
    c.eq(stat.S_IMODE(os.stat(f).st_mode), 0o600, "%s mode" % os.path.basename(f))
    info = hstest.heapsift_json(["info", "--json", f])
    c.eq(size_count(info, DISTINCT_SIZE), 7, "%s holds the program's objects" % os.path.basename(f))
    m = meta(f)
    c.check(m.get("trigger", "").startswith("every 200ms"), "META trigger %r" % m.get("trigger"))
    pids.add(m.get("pid"))
c.eq(len(pids), 1, "all captures of the one child")
c.eq(len([f for f in files(d) if f.endswith(".manifest.json")]), 3, "a manifest beside each dump")

# ---- run --at with --stop-after: SIGTERM once the triggers are done; status 128+15
d = outdir("at")
p = dumper(["run", "--at", "300ms,100ms", "--stop-after", "-o", d, "--", prog], tmp)
c.eq(p.returncode, 128 + signal.SIGTERM, "--stop-after: program killed by SIGTERM -> 143")
got = hsds(d)
c.eq(len(got), 2, "--at 300ms,100ms wrote 2 files: %s" % files(d))
c.eq(sorted(meta(f).get("trigger") for f in got), ["at 100ms", "at 300ms"], "META triggers")

# ---- the program's status passes through; a program without the hook is still run
p = dumper(["run", "--", "sh", "-c", "exit 3"], tmp)
c.eq(p.returncode, 3, "run exits with the program's status 3")
p = dumper(["run", "--", "/nonexistent/prog"], tmp)
c.eq(p.returncode, 127, "run of a missing program: 127")
c.check("cannot run" in p.stderr, "says it cannot run it: %s" % p.stderr.strip())
d = outdir("nohook")
p = dumper(["run", "--every", "100ms", "--wait-hook", "500ms", "-o", d, "--", "sleep", "1"], tmp)
c.eq(p.returncode, 1, "run of a program without the hook: captures failed -> 1")
c.check('import _ "heapsift.dev/go/heapsift"' in p.stderr, "hint to add the hook: %s" % p.stderr.strip())
c.eq(files(d), [], "no files without a hook")

# ---- signals sent to heapsift-dump reach the program
d = outdir("sig")
q = subprocess.Popen([hstest.HEAPSIFT_DUMP, "run", "-o", d, "--", prog, "-ready",
                      os.path.join(tmp, "sig-ready")], env=dict(os.environ, TMPDIR=tmp),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30
while not os.path.exists(os.path.join(tmp, "sig-ready")) and time.time() < deadline:
    time.sleep(0.02)
q.send_signal(signal.SIGINT)
try:
    q.wait(timeout=20)
except subprocess.TimeoutExpired:
    q.kill()
c.eq(q.returncode, 128 + signal.SIGINT, "SIGINT forwarded: program died by it -> 130")

# ---- run --on-rss
d = outdir("runrss")
p = dumper(["run", "--on-rss", "60M", "--count", "1", "--interval", "50ms", "--stop-after", "-o", d,
            "--", prog, "-grow", "100", "-grow-after", "300ms"], tmp)
c.eq(p.returncode, 128 + signal.SIGTERM, "run --on-rss --count 1 --stop-after (stderr: %s)" % p.stderr.strip())
got = hsds(d)
c.eq(len(got), 1, "run --on-rss captured once: %s" % files(d))
if got:
    c.check(meta(got[0]).get("trigger", "").startswith("rss "), "META trigger rss")

# ---- watch --on-rss fires when the program grows past the threshold
d = outdir("watch")
t = Target(tmp, ["-grow", "120", "-grow-after", "500ms", "-exit-after", "20s"]).wait_ready()
try:
    p = dumper(["watch", str(t.pid), "--on-rss", "80M", "--count", "1", "--interval", "50ms", "-o", d], tmp)
    c.eq(p.returncode, 0, "watch exit status (stderr: %s)" % p.stderr.strip())
    got = hsds(d)
    c.eq(len(got), 1, "watch captured once: %s" % files(d))
    if got:
        m = meta(got[0])
        c.eq(m.get("pid"), t.pid, "watch captured the watched pid")
        c.check(re.match(r"rss .* >= 80\.0 MiB", m.get("trigger", "")), "META trigger %r" % m.get("trigger"))
        c.check(m.get("rss_bytes", 0) >= 80 << 20, "RSS at capture >= threshold")
        info = hstest.heapsift_json(["info", "--json", got[0]])
        c.check(info["large_object_bytes"] >= 60 << 20, "the grown heap is in the dump")
    c.check(t.alive(), "target still running after watch")
finally:
    t.stop()
plain = subprocess.Popen(["sleep", "30"])
p = dumper(["watch", str(plain.pid), "--on-rss", "1M"], tmp)
plain.kill()
plain.wait()
c.eq(p.returncode, 1, "watch of a process without the hook: 1")
c.check("has no heapsift hook" in p.stderr, "watch says there is no hook")

shutil.rmtree(tmp, ignore_errors=True)
c.done()
