"""heapsift-dump capture, import and list against real processes: a hooked Go program that
knows its own counts, a process without the hook, concurrent captures, another user."""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time

import hstest
from test_dumper_lib import (HEAPDUMP, MANIFEST, MAPS, META, SYMTAB, DISTINCT_SIZE, Target,
                             dumper, files, meta, read_hsd, size_count, start_dumper)

c = hstest.Checker("test_dumper")
tmp = hstest.tempdir()
os.chmod(tmp, 0o700)
prog = os.path.realpath(__import__("test_dumper_lib").hooked())
out = os.path.join(tmp, "out")
os.mkdir(out)

t = Target(tmp, ["-distinct", "40"]).wait_ready()
try:
    # ---- capture: a valid .hsd that heapsift reads, with META, symbols, maps, manifest
    hsd = os.path.join(out, "a.hsd")
    p = dumper(["capture", str(t.pid), "-o", hsd], tmp)
    c.eq(p.returncode, 0, "capture exit status (stderr: %s)" % p.stderr.strip())
    c.eq(p.stdout.strip(), hsd, "capture prints the path it wrote")
    c.eq(stat.S_IMODE(os.stat(hsd).st_mode), 0o600, ".hsd mode")
    man_path = hsd + ".manifest.json"
    c.check(os.path.exists(man_path), "manifest written beside the dump")
    man = json.load(open(man_path)) if os.path.exists(man_path) else {}
    if os.path.exists(man_path):
        c.eq(stat.S_IMODE(os.stat(man_path).st_mode), 0o600, "manifest mode")
    c.eq(files(out), ["a.hsd", "a.hsd.manifest.json"], "no temporary files left")

    info = hstest.heapsift_json(["info", "--json", "--top", "100000", hsd])
    c.check(info["objects"] > 0, "heapsift info reads objects from the .hsd")
    c.eq(info["go_version"], man.get("go_version"), "Go version in the dump = runtime.Version()")
    c.eq(size_count(info, DISTINCT_SIZE), man.get("distinct_count"),
         "distinctive objects in the dump = what the program holds")
    c.check(info["symbols"], "the .hsd carries symbols")
    c.check(any(g["name"] == "main.table" for g in info["top_globals"]),
            "global main.table named from the embedded symbols")

    secs = read_hsd(hsd)
    c.check(all(s in secs for s in (META, SYMTAB, MAPS, HEAPDUMP, MANIFEST)),
            "sections meta, symtab, maps, heapdump, manifest (got %s)" % sorted(secs))
    c.eq(secs.get(MANIFEST, (b"",))[0], open(man_path, "rb").read(), "MANIFEST section = manifest file")
    c.check(secs[HEAPDUMP][0].startswith(b"go1.7 heap dump\n"), "HEAPDUMP holds the raw stream")
    c.check(prog.encode() in secs.get(MAPS, (b"",))[0], "MAPS is the target's memory map")
    m = meta(hsd)
    c.eq(m.get("pid"), t.pid, "META pid")
    c.eq(m.get("exe"), prog, "META exe")
    c.eq(m.get("cmdline", [None])[1:3], ["-ready", t.ready], "META cmdline")
    c.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m.get("captured_at", "")),
            "META captured_at is ISO-8601 UTC: %r" % m.get("captured_at"))
    c.check(m.get("rss_bytes", 0) > 1 << 20, "META rss_bytes")
    c.eq(m.get("go_version"), man.get("go_version"), "META go_version")
    c.check(len(m.get("build_id", "")) > 10, "META build_id from the binary")
    c.check(m.get("pause_ns", 0) > 0 and m.get("gc_ns", 0) > 0, "META pause_ns and gc_ns from the hook")
    c.check(m.get("drain_ns", 0) > 0 and m.get("compress_ns", 0) > 0, "META drain_ns and compress_ns")
    c.eq(m.get("raw_bytes"), info["dump_bytes"], "META raw_bytes = heap-dump size")
    c.eq(m.get("stored_bytes"), secs[HEAPDUMP][1], "META stored_bytes = compressed heap-dump size")
    c.check(m.get("heapsift_version"), "META heapsift_version")
    c.eq(m.get("nogc"), False, "META nogc")

    # ---- default name in the current directory, --nogc, --binary
    cwd = os.path.join(tmp, "cwd")
    os.mkdir(cwd)
    p = dumper(["capture", str(t.pid), "--nogc", "--binary", prog], tmp, cwd=cwd)
    c.eq(p.returncode, 0, "capture with the default name (stderr: %s)" % p.stderr.strip())
    names = [f for f in files(cwd) if f.endswith(".hsd")]
    c.check(len(names) == 1 and re.fullmatch(r"heapsift-%d-\d{8}-\d{6}\.hsd" % t.pid, names[0]),
            "default name heapsift-PID-YYYYmmdd-HHMMSS.hsd: %s" % names)
    if names:
        m = meta(os.path.join(cwd, names[0]))
        c.check(m.get("nogc") is True and m.get("gc_ns") == 0, "--nogc: no GC before the dump")
        c.eq(m.get("symbols_from"), prog, "--binary: symbols from BIN")

    # ---- list
    p = dumper(["list"], tmp)
    c.eq(p.returncode, 0, "list exit status")
    rows = [l.split() for l in p.stdout.splitlines()[1:]]
    c.check([str(t.pid), man.get("go_version"), prog] in rows, "list shows pid, Go version, exe: %r" % p.stdout)

    # ---- import of a raw dump (written by the runtime straight into a file)
    raw = os.path.join(tmp, "raw.dump")
    p = dumper(["capture", str(t.pid), "--raw-to-file", raw], tmp)
    c.eq(p.returncode, 0, "raw dump via the hook (stderr: %s)" % p.stderr.strip())
    imp = os.path.join(out, "imported.hsd")
    p = dumper(["import", raw, "--binary", prog, "-o", imp], tmp)
    c.eq(p.returncode, 0, "import exit status (stderr: %s)" % p.stderr.strip())
    if p.returncode == 0:
        c.eq(stat.S_IMODE(os.stat(imp).st_mode), 0o600, "imported .hsd mode")
        ii = hstest.heapsift_json(["info", "--json", imp])
        c.eq(ii["dump_bytes"], os.path.getsize(raw), "import keeps the dump byte for byte")
        c.eq(size_count(ii, DISTINCT_SIZE), man.get("distinct_count"), "imported dump's objects")
        c.check(ii["symbols"], "imported .hsd has the binary's symbols")
        m = meta(imp)
        c.check("pid" not in m, "imported META has no pid")
        c.eq(m.get("imported_from"), os.path.realpath(raw), "META imported_from")
        c.eq(m.get("go_version"), man.get("go_version"), "imported META go_version from the dump")
    trunc = os.path.join(tmp, "trunc.dump")
    with open(raw, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(os.path.getsize(raw) // 2))
    bad = os.path.join(out, "bad.hsd")
    p = dumper(["import", trunc, "--binary", prog, "-o", bad], tmp)
    c.eq(p.returncode, 2, "import of a truncated dump fails (bad input: 2)")
    c.check("truncated" in p.stderr and "EOF record" in p.stderr, "says truncated: %s" % p.stderr.strip())
    p = dumper(["import", prog, "--binary", prog, "-o", bad], tmp)
    c.eq(p.returncode, 2, "import of an executable (an ELF file, not a core) fails")
    c.check("not a core" in p.stderr and "ET_EXEC" in p.stderr,
            "says it is an executable, not a core: %s" % p.stderr.strip())
    notdump = os.path.join(tmp, "notes.txt")
    with open(notdump, "w") as f:
        f.write("this is neither a heap dump nor a core file\n")
    p = dumper(["import", notdump, "--binary", prog, "-o", bad], tmp)
    c.eq(p.returncode, 2, "import of a text file fails")
    c.check("magic" in p.stderr, "says what is wrong: %s" % p.stderr.strip())
    c.check(not os.path.exists(bad), "failed imports leave no file")

    # ---- two concurrent captures: both valid, or one refused as busy
    conc = os.path.join(tmp, "conc")
    os.mkdir(conc)
    ps = [start_dumper(["capture", str(t.pid), "-o", os.path.join(conc, "c%d.hsd" % i)], tmp)
          for i in range(2)]
    res = [(q.wait(), q.communicate()) for q in ps]
    ok = 0
    for i, (rc, (so, se)) in enumerate(res):
        if rc == 0:
            ok += 1
            ci = hstest.heapsift_json(["info", "--json", os.path.join(conc, "c%d.hsd" % i)])
            c.eq(size_count(ci, DISTINCT_SIZE), man.get("distinct_count"), "concurrent capture %d valid" % i)
        else:
            c.eq(rc, 1, "refused concurrent capture exit status")
            c.check("busy" in se, "refused with the busy message: %s" % se.strip())
            c.check(not os.path.exists(os.path.join(conc, "c%d.hsd" % i)), "refused capture left no file")
    c.check(ok >= 1, "at least one concurrent capture succeeded")
    c.check(all(f.endswith((".hsd", ".manifest.json")) for f in files(conc)), "no temp files: %s" % files(conc))

    # ---- another user: permission denied (needs root to switch users)
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:
        p = hstest.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        hstest.HEAPSIFT_DUMP, "capture", str(t.pid), "-o", "/dev/null/x.hsd"],
                       env=dict(os.environ, TMPDIR=tmp))
        c.eq(p.returncode, 1, "capture as another user fails")
        c.check("permission denied" in p.stderr, "says permission denied: %s" % p.stderr.strip())
    else:
        c.skip("the permission test needs root and setpriv")
finally:
    t.stop()

# ---- a process without the hook, a pid that does not exist, usage errors
plain = subprocess.Popen(["sleep", "30"])
try:
    nh = os.path.join(tmp, "nohook")
    os.mkdir(nh)
    p = dumper(["capture", str(plain.pid), "-o", os.path.join(nh, "x.hsd")], tmp)
    c.eq(p.returncode, 1, "capture of a process without the hook: exit 1")
    c.check("has no heapsift hook" in p.stderr, "says there is no hook: %s" % p.stderr.strip())
    c.check('import _ "heapsift.dev/go/heapsift"' in p.stderr, "prints how to add the hook")
    c.eq(files(nh), [], "no file for a failed capture")
finally:
    plain.kill()
    plain.wait()
# ---- a stale socket: a hooked process that was killed leaves its socket, and a later process
# may get its pid. Made deterministic in a new pid namespace (pids 2, 3, ... in order): sockets
# for its first 64 pids, then, a second later, a process without the hook gets one of them.
unshare = shutil.which("unshare")
if os.geteuid() == 0 and unshare:
    sd = os.path.join(tmp, "stale")
    hookdir = os.path.join(sd, "heapsift-0")
    os.makedirs(hookdir, mode=0o700)
    for pid in range(1, 65):
        s_ = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s_.bind(os.path.join(hookdir, "%d.sock" % pid))
        s_.close()
    time.sleep(1.2)  # the start time the dumper reads is whole seconds of boot time plus ticks
    out = os.path.join(sd, "x.hsd")
    p = hstest.run([unshare, "--pid", "--fork", "--mount-proc", "sh", "-c",
                    'TMPDIR="$1" sleep 30 & "$2" capture $! -o "$3"; rc=$?; kill $!; exit $rc',
                    "sh", sd, hstest.HEAPSIFT_DUMP, out], env=dict(os.environ, TMPDIR=sd))
    c.eq(p.returncode, 1, "capture of a process whose pid has a stale socket: exit 1")
    c.check("has no heapsift hook" in p.stderr and "older than the process" in p.stderr,
            "says the process has no hook and the socket is a stale one: %s" % p.stderr.strip())
    c.check(not os.path.exists(out), "no file for a failed capture")
else:
    c.skip("the stale socket test needs root and unshare")
p = dumper(["capture", str(plain.pid)], tmp)
c.eq(p.returncode, 1, "capture of a dead pid: exit 1")
c.check("no such process: %d" % plain.pid in p.stderr, "says no such process: %s" % p.stderr.strip())
for args in (["capture"], ["capture", "abc"], ["capture", "1", "2"], ["bogus"], [],
             ["import", "x"], ["watch", "1"], ["run", "--every", "soon", "--", "true"]):
    c.eq(dumper(args, tmp).returncode, 2, "usage error: heapsift-dump %s" % " ".join(args))

shutil.rmtree(tmp, ignore_errors=True)
c.done()
