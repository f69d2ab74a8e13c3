"""Capture without the hook: core files and live snapshots of an unmodified process, on this
test's Go toolchain (issue 15).

Cross-check: one process state captured three ways. The map workload sets up a scenario, runs
a GC and parks at a barrier (it waits forever; nothing runs but the runtime's idle threads).
It is captured by `heapsift-dump snapshot`, then by gdb's `gcore` (imported with `import CORE`),
and last through the hook (`capture --nogc`). The three agree:

- snapshot and gcore saw the same stopped state: identical objects (address, size, pointer
  words), data and bss pointer slots, goroutines, finalizers;
- the hook captured last, without a GC, so nothing was freed: every object of the core is in
  the hook's dump with the same size and pointer words. The hook's dump has more: what the
  hook's own goroutine allocated to serve the capture (its connection, buffers: bounded
  below), and, from Go 1.22, the slots past the end of small-object spans that
  runtime/heapdump.go walks into (they hold the span's heap bits, not objects: no pointer to
  them exists). Tolerance: at most HOOK_EXTRA_OBJECTS objects the core does not have that any
  object of the core points to;
- the findings of `heapsift analyze` are the same three ways and equal the workload's
  manifest both ways (every planted leak found, no control reported).

A crash core: the workload with -crash panics once set up, under GOTRACEBACK=crash, with this
test's own `ulimit -c` raised; the kernel's core (where /proc/sys/kernel/core_pattern puts it,
never changed here) gives the scenario's exact findings.

The crash core with random bytes of its memory overwritten (24 times) imports with exit 0 or
2 and a reason, never a crash: the walker trusts nothing it reads.

Bad input exits 2 with the reason and leaves no file: a truncated core, a core of another
program, a core of a process that is not Go, a process that does not exist, and a process
the caller may not trace."""
import glob
import json
import os
import pwd
import resource
import shutil
import subprocess
import time

import hstest
from test_dumper_lib import HEAPDUMP, META, Target, dumper, files, read_hsd

c = hstest.Checker("test_core")
tmp = hstest.tempdir()
os.chmod(tmp, 0o755)
prog = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")
KINDS = ("ghost", "finalizer_pinned", "closure_cycle")
HOOK_EXTRA_OBJECTS = 200  # objects the hook's capture path allocates (measured: about 20-60)
HOOK_GOROUTINES = 2  # goroutines the hook starts to serve a capture (measured: 1)


def gohd(path, contents=False):
    return hstest.read_gohd(read_hsd(path)[HEAPDUMP][0], contents)


def findings(path, manifest, what):
    rep = hstest.heapsift_json(["analyze", path, "--json", "-"])
    hstest.validate_report(c, rep, what)
    out = {}
    for kind in KINDS:
        got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
        want = {o["addr"] for o in manifest["objects"] if o["expect"] == kind}
        c.eq(sorted(want - got), [], "%s: planted %s objects not reported" % (what, kind))
        c.eq(sorted(got - want), [], "%s: %s objects the workload did not plant" % (what, kind))
        out[kind] = got
    return out, rep


def gcore(pid, prefix):
    p = hstest.run(["gcore", "-o", prefix, str(pid)])
    path = "%s.%d" % (prefix, pid)
    c.check(p.returncode == 0 and os.path.exists(path), "gcore %d: %s" % (pid, p.stderr[-300:]))
    return path


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "tTZX"
    except OSError:
        return False


# ---- cross-check: snapshot, gcore, hook on one parked process ----
for scenario in ("ghost", "closure", "finalizer-pin"):
    d = os.path.join(tmp, scenario)
    os.mkdir(d)
    t = Target(d, cmd=[prog, "-scenario", scenario, "-ready", os.path.join(d, "ready")])
    t.ready = os.path.join(d, "ready")
    t.wait_ready()
    try:
        snap, core_hsd, hook = (os.path.join(d, n) for n in ("snap.hsd", "core.hsd", "hook.hsd"))
        p = dumper(["snapshot", str(t.pid), "-o", snap], d)
        c.eq(p.returncode, 0, "%s: snapshot exit status (%s)" % (scenario, p.stderr.strip()))
        c.check(alive(t.pid), "%s: the target runs after the snapshot" % scenario)
        core = gcore(t.pid, os.path.join(d, "core"))
        p = dumper(["import", core, "--binary", prog, "-o", core_hsd], d)
        c.eq(p.returncode, 0, "%s: import of the gcore core (%s)" % (scenario, p.stderr.strip()))
        p = dumper(["capture", str(t.pid), "--nogc", "-o", hook], d)
        c.eq(p.returncode, 0, "%s: hook capture (%s)" % (scenario, p.stderr.strip()))
        if not all(os.path.exists(x) for x in (snap, core_hsd, hook)):
            continue
        with open(hook + ".manifest.json") as f:
            manifest = json.load(f)
        ms, mc = json.loads(read_hsd(snap)[META][0]), json.loads(read_hsd(core_hsd)[META][0])
        c.eq((ms.get("source"), mc.get("source")), ("snapshot", "core"), "%s: META source" % scenario)
        c.check(ms.get("pause_ns", 0) > 0, "%s: the snapshot records its pause" % scenario)
        c.check(isinstance(mc.get("unrecovered"), list), "%s: META lists what a core lacks" % scenario)
        S, G, H = gohd(snap), gohd(core_hsd), gohd(hook, contents=True)

        # snapshot == gcore: the same stopped state
        c.eq(len(S["objects"]), len(G["objects"]), "%s: snapshot and gcore object counts" % scenario)
        c.check(S["objects"] == G["objects"], "%s: snapshot and gcore: same objects, sizes and "
                "pointer words" % scenario)
        for k in ("data", "bss", "finalizers", "qfinalizers", "itabs", "buckets", "samples"):
            c.check(S[k] == G[k], "%s: snapshot and gcore: same %s" % (scenario, k))
        c.eq(sorted(S["goroutines"].items()), sorted(G["goroutines"].items()),
             "%s: snapshot and gcore: same goroutines, states and frame counts" % scenario)

        # core within hook
        missing = [a for a in G["objects"] if a not in H["objects"]]
        c.eq(missing[:5], [], "%s: objects of the core missing from the hook's dump (of %d)" %
             (scenario, len(G["objects"])))
        differ = [a for a in G["objects"] if a in H["objects"] and H["objects"][a] != G["objects"][a]]
        c.eq(differ[:5], [], "%s: objects whose size or pointer words differ core vs hook" % scenario)
        # what the hook's dump has beyond the core: objects allocated after it; the ones an
        # object of the core points to are the hook's doing (its goroutine, connection)
        extra = set(H["objects"]) - set(G["objects"])
        referenced = set()
        for a, (size, offs) in G["objects"].items():
            body = H["contents"].get(a, b"")
            for off in offs:
                w = int.from_bytes(body[off:off + 8], "little")
                if w in extra:
                    referenced.add(w)
        c.check(len(referenced) <= HOOK_EXTRA_OBJECTS,
                "%s: objects of the hook's dump alone that a core object points to: %d "
                "(at most %d; %d extra slots in all)" % (scenario, len(referenced),
                                                          HOOK_EXTRA_OBJECTS, len(extra)))
        c.check(H["data"][2] == G["data"][2] and H["bss"][2] == G["bss"][2],
                "%s: data and bss pointer slots agree core vs hook" % scenario)
        # (a binary that never calls runtime.MemProfile has profiling off: no buckets at all)
        c.eq(bool(G["buckets"]), bool(H["buckets"]), "%s: the core has a memory profile when the "
             "hook's dump has one (%d and %d buckets, %d and %d samples)" % (
                 scenario, len(G["buckets"]), len(H["buckets"]), len(G["samples"]),
                 len(H["samples"])))
        c.eq([b for b in G["buckets"] if H["buckets"].get(b, (0, ()))[:2] != G["buckets"][b][:2]],
             [], "%s: memory profile buckets (size, stack with files and lines) core vs hook"
             % scenario)
        c.eq({o: b for o, b in G["samples"].items() if H["samples"].get(o) != b}, {},
             "%s: allocation samples of the core are the hook's" % scenario)
        c.eq(sorted(set(G["finalizers"]) - set(H["finalizers"])), [],
             "%s: finalizers of the core missing from the hook's dump" % scenario)
        c.eq(sorted(set(H["finalizers"]) - set(G["finalizers"]) - extra), [],
             "%s: the hook's dump alone has finalizers only on the hook's objects (its files)"
             % scenario)
        c.eq(sorted(set(G["goroutines"]) - set(H["goroutines"])), [],
             "%s: goroutines of the core missing from the hook's dump" % scenario)
        # goroutine ids come from per-P batches, so the hook's new goroutine (its connection)
        # may have a lower id than older ones: count them instead
        new = sorted(set(H["goroutines"]) - set(G["goroutines"]))
        c.check(len(new) <= HOOK_GOROUTINES, "%s: goroutines in the hook's dump alone: %s "
                "(at most %d: the hook's own)" % (scenario, new, HOOK_GOROUTINES))

        # the same findings three ways, equal to the manifest
        fs, _ = findings(snap, manifest, scenario + " snapshot")
        fc, rep = findings(core_hsd, manifest, scenario + " core")
        fh, _ = findings(hook, manifest, scenario + " hook")
        c.check(fs == fc == fh, "%s: the same findings three ways" % scenario)
    finally:
        t.stop()


# ---- a crash core: the kernel's core of GOTRACEBACK=crash ----
def core_file(pattern, pid, exe, cwd):
    """Where the kernel wrote the core of pid by core_pattern (no pipe), or None."""
    name = pattern.replace("%%", "\0")
    for k, val in (("%p", str(pid)), ("%P", str(pid)), ("%e", os.path.basename(exe)[:15]),
                   ("%u", str(os.getuid())), ("%g", str(os.getgid()))):
        name = name.replace(k, val)
    name = name.replace("\0", "%")
    if "%" in name:  # a time, host or signal field: any file that matches
        hits = glob.glob(os.path.join(cwd, name.split("%")[0] + "*"))
        return hits[0] if hits else None
    path = name if os.path.isabs(name) else os.path.join(cwd, name)
    for cand in (path, "%s.%d" % (path, pid)):
        if os.path.exists(cand):
            return cand
    return None


def segments(core):
    """(file offset, size) of the PT_LOAD segments of an ELF core that hold bytes."""
    import struct
    with open(core, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 32)
        phnum, = struct.unpack_from("<H", head, 56)
        f.seek(phoff)
        ph = f.read(56 * phnum)
    out = []
    for k in range(phnum):
        typ, _flags, off, _va, _pa, filesz = struct.unpack_from("<IIQQQQ", ph, 56 * k)
        if typ == 1 and filesz:
            out.append((off, filesz))
    return out


def hostile(core):
    """The crash core with random bytes of its memory overwritten, 24 times: the import ends
    with 0 or 2 and a reason, never a crash."""
    import random
    rng = random.Random(15)
    segs = segments(core)
    mut = os.path.join(os.path.dirname(core), "mutated.core")
    out = os.path.join(os.path.dirname(core), "mutated.hsd")
    codes = {}
    for round_ in range(24):
        subprocess.run(["cp", "--sparse=always", core, mut], check=True)
        with open(mut, "r+b") as f:
            for _ in range(64 if round_ % 2 else 4096):
                off, size = rng.choice(segs)
                f.seek(off + rng.randrange(size))
                f.write(bytes([rng.randrange(256)]))
        p = dumper(["import", mut, "--binary", prog, "-o", out], os.path.dirname(core))
        codes[p.returncode] = codes.get(p.returncode, 0) + 1
        if not c.check(p.returncode in (0, 2) and "Sanitizer" not in p.stderr,
                       "mutated core %d: exit %d, no crash (%s)" % (round_, p.returncode,
                                                                   p.stderr.strip()[-300:])):
            break
        if p.returncode == 2:
            c.check(p.stderr.strip() and not os.path.exists(out),
                    "mutated core %d: a reason and no file" % round_)
        if os.path.exists(out):
            os.unlink(out)
    print("mutated cores: exit statuses %s" % codes)


with open("/proc/sys/kernel/core_pattern") as f:
    pattern = f.read().strip()
d = os.path.join(tmp, "crash")
os.mkdir(d)
if pattern.startswith("|"):
    print("SKIP crash core: core_pattern pipes cores to %s, not to a file this test can find"
          % pattern.split()[0][1:])
else:
    man = os.path.join(d, "manifest.json")

    def raise_core_limit():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    q = subprocess.Popen([prog, "-scenario", "finalizer-pin", "-crash", man], cwd=d,
                         env=dict(os.environ, GOTRACEBACK="crash", HEAPSIFT_HOOK="0", TMPDIR=d),
                         preexec_fn=raise_core_limit, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    _, err = q.communicate(timeout=300)
    c.check(q.returncode < 0 and "crashing on purpose" in err,
            "the workload crashed (status %s): %s" % (q.returncode, err[:200]))
    core = core_file(pattern, q.pid, prog, d)
    if core is None:
        print("SKIP crash core: core_pattern %r wrote no file in %s" % (pattern, d))
    else:
        out = os.path.join(d, "crash.hsd")
        q = dumper(["import", core, "--binary", prog, "-o", out], d)
        c.eq(q.returncode, 0, "import of the kernel's crash core (%s)" % q.stderr.strip())
        if os.path.exists(out):
            with open(man) as f:
                manifest = json.load(f)
            _, rep = findings(out, manifest, "crash core")
            c.check(any(f["kind"] == "finalizer_pinned" for f in rep["findings"]),
                    "crash core: the pinned objects are found")
        hostile(core)

# ---- bad input: exit 2, the reason, no file ----
d = os.path.join(tmp, "bad")
os.mkdir(d)
t = Target(d, cmd=[prog, "-scenario", "ghost", "-ready", os.path.join(d, "ready")])
t.ready = os.path.join(d, "ready")
t.wait_ready()
try:
    core = gcore(t.pid, os.path.join(d, "core"))
finally:
    t.stop()
os.mkdir(os.path.join(d, "out"))
out = os.path.join(d, "out", "x.hsd")


def bad(args, what, words):
    p = dumper(args, d)
    c.eq(p.returncode, 2, "%s: exit status (%s)" % (what, p.stderr.strip()))
    c.check(all(w in p.stderr for w in words), "%s: says %r: %s" % (what, words, p.stderr.strip()))
    c.eq(files(os.path.join(d, "out")), [], "%s: no file left" % what)


trunc = os.path.join(d, "trunc.core")
with open(core, "rb") as f, open(trunc, "wb") as g:
    g.write(f.read(os.path.getsize(core) * 2 // 3))
bad(["import", trunc, "--binary", prog, "-o", out], "truncated core", ["truncated"])
other = hstest.go_build("tests/go/hooked", "hooked", cwd="tests/go/hooked")
bad(["import", core, "--binary", other, "-o", out], "core of another program", ["another program"])
sleeper = subprocess.Popen(["sleep", "300"])
try:
    time.sleep(0.2)
    notgo = gcore(sleeper.pid, os.path.join(d, "sleep"))
finally:
    sleeper.kill()
    sleeper.wait()
bad(["import", notgo, "--binary", prog, "-o", out], "core of a process that is not Go",
    ["another program"])
gone = subprocess.Popen(["true"])
gone.wait()
bad(["snapshot", str(gone.pid), "-o", out], "snapshot of a process that does not exist",
    ["no process"])
# a process the caller may not trace: a root process, traced as nobody
t = Target(d, cmd=[prog, "-scenario", "ghost", "-ready", os.path.join(d, "ready2")])
t.ready = os.path.join(d, "ready2")
t.wait_ready()
try:
    nobody = pwd.getpwnam("nobody")
    if os.getuid() != 0 or not shutil.which("setpriv"):
        print("SKIP untraceable process: needs root and setpriv to run the dumper as nobody")
    else:
        os.chmod(os.path.join(d, "out"), 0o777)
        p = subprocess.run(["setpriv", "--reuid", str(nobody.pw_uid), "--regid",
                            str(nobody.pw_gid), "--clear-groups", hstest.HEAPSIFT_DUMP, "snapshot",
                            str(t.pid), "--binary", prog, "-o", out], capture_output=True,
                           text=True, timeout=120)
        c.eq(p.returncode, 2, "snapshot of another user's process: exit status (%s)" % p.stderr.strip())
        c.check("permission" in p.stderr.lower() or "not permitted" in p.stderr.lower(),
                "says it may not trace the process: %s" % p.stderr.strip())
        c.eq(files(os.path.join(d, "out")), [], "no file left after the refused snapshot")
        c.check(alive(t.pid), "the refused target runs on")
finally:
    t.stop()
c.done()
