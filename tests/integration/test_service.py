"""samples/service on this test's Go toolchain (issue 13 item 7): a realistic HTTP service built
on gorilla/mux, go-cache and golang-lru that leaks from request handling, captured four ways
(-selfdump and a live hook capture with load running, each leaky and -fixed), analyzed with
`heapsift analyze --json`, and compared with its manifest (samples/service/README.md):

- every planted leak is found: the manifest's primary objects of each kind are among the
  objects of findings of that kind; no false finding: every object of a finding belongs to a
  planted leak of that kind (its primary or kept objects), no control object is in any
  finding, no finding of another kind (tombstones); the -fixed runs have no finding at all;
- the finalizer-pinned findings' retained_bytes are within 10% of the true pinned bytes: the
  dump's slot sizes of the planted pins' primary and kept objects, read from the dump's own
  object records;
- summary.classes (in_use, finalizer_held, pending_finalization, garbage) sum exactly to
  summary.objects and summary.object_bytes;
- `heapsift check --fail-on ghost,finalizer_pinned,closure_cycle --min-bytes 1M` exits 1 on
  the leaky dumps and 0 on the fixed ones;
- typing (issue 12): at least 98% of the in-use bytes typed, every hop of every finding's path
  named by a Go expression;
- closure cycles: the listener method-value cycles are one finding whose `instances` is at
  least the planted number; the router singleton and the in-flight requests' cycles are not
  findings;
- on the leaky -selfdump capture, what a user does next: `--container-type
  map[string]cache.Item` alone finds exactly the session ghosts; `--value-type` without a
  container exits 2 and says why; `check --baseline` of the capture's own report exits 0, with
  the kinds spelled as the text prints them; `--min-count` gates on counts; `--min-instances`
  above the listener count turns that finding into information.

The service's modules come from the Go module proxy: the test runs `go mod download` in
samples/service with the go command's default proxy (the build environment says
GOPROXY=off), so a clean machine with an empty module cache works, then builds offline. With
neither the proxy nor the modules in the cache the test is skipped.

Set HEAPSIFT_KEEP_TMP=1 to keep the dumps, manifests and reports."""
import json
import os
import signal
import subprocess
import sys
import time

import hstest

c = hstest.Checker("test_service")
KINDS = ("ghost", "finalizer_pinned", "closure_cycle")
CLASSES = ("in_use", "finalizer_held", "pending_finalization", "garbage")
COVERAGE = 0.98
PIN_TOLERANCE = 0.10
MIN_BYTES = "1M"
SVC = os.path.join(hstest.SRC, "samples", "service")

if not hstest.GO:
    print("no Go toolchain (GO is empty): skipping", file=sys.stderr)
    sys.exit(77)
tmp = hstest.tempdir()

# The modules, through the proxy (the go command's default), into the module cache (in the
# build tree when the environment names none).
if not any(os.environ.get(k) for k in ("GOMODCACHE", "GOPATH", "HOME")):
    os.environ["GOMODCACHE"] = os.path.join(hstest.BUILD, "go-mod")
env = hstest.go_env()
env.pop("GOPROXY", None)
p = hstest.run([hstest.GO, "mod", "download"], cwd=SVC, env=env)
if p.returncode != 0:
    c.skip("go mod download in samples/service failed (no module proxy and no module cache?): "
           + p.stderr.strip()[-300:])
    c.done()
prog = hstest.go_build("samples/service", "service", cwd="samples/service")


# ---- the dump's own object records ----

def _skip_str(b, i):
    n, i = hstest.varint(b, i)
    return i + n


def _skip_fields(b, i):
    while True:
        kind, i = hstest.varint(b, i)
        if kind == 0:
            return i
        _, i = hstest.varint(b, i)


# Records of runtime/heapdump.go as (kind of each value): u uvarint, s string, f field list,
# m memprof stack. Objects, data and bss (u s f) are read apart.
_LAYOUT = {2: "su", 3: "uusu", 4: "uuuuuuuusuuuu", 5: "uuusuuusf", 6: "uuuussu", 7: "uuuuu",
           8: "uu", 9: "uuu", 10: "u" * 281, 11: "uuuuu", 14: "uuuuuuu", 15: "uuuuuu",
           16: "uum", 17: "uu"}


def dump_objects(data):
    """{slot address: slot size} of the object records of a raw heap dump."""
    assert data[:16] == b"go1.7 heap dump\n", "not a heap dump"
    i, objs = 16, {}
    while True:
        tag, i = hstest.varint(data, i)
        if tag == 0:
            return objs
        if tag in (1, 12, 13):
            addr, i = hstest.varint(data, i)
            n, i = hstest.varint(data, i)
            i = _skip_fields(data, i + n)
            if tag == 1:
                objs[addr] = n
            continue
        for k in _LAYOUT[tag]:
            if k == "u":
                _, i = hstest.varint(data, i)
            elif k == "s":
                i = _skip_str(data, i)
            elif k == "f":
                i = _skip_fields(data, i)
            else:  # memprof: nstk x (func, file, line), allocs, frees
                nstk, i = hstest.varint(data, i)
                for _ in range(nstk):
                    i = hstest.varint(data, _skip_str(data, _skip_str(data, i)))[1]
                _, i = hstest.varint(data, i)
                _, i = hstest.varint(data, i)


class Slots:
    """The dump's objects, to find the one containing an address (the program's address is
    the slot + 8 behind a malloc header)."""

    def __init__(self, objs):
        import bisect
        self._bisect = bisect
        self.starts = sorted(objs)
        self.size = objs

    def find(self, addr):
        k = self._bisect.bisect_right(self.starts, addr) - 1
        if k >= 0 and addr < self.starts[k] + self.size[self.starts[k]]:
            return self.starts[k]
        return None


# ---- the manifest ----

def addrs(groups, kind, part):
    return {o["addr"] for g in groups if g["expect"] == kind for inst in g["instances"] for o in inst.get(part, [])}


def label_of(manifest):
    out = {}
    for g in manifest["groups"]:
        for inst in g["instances"]:
            for o in inst["objects"] + inst.get("kept", []):
                out[o["addr"]] = g["label"]
    return out


def by_label(addresses, labels):
    """{label: count} of addresses, for messages."""
    out = {}
    for a in addresses:
        out[labels.get(a, "?")] = out.get(labels.get(a, "?"), 0) + 1
    return out


def analyze(name, hsd, manifest):
    """`heapsift analyze` with the manifest's arguments: (the JSON report, the arguments used).
    The text report is printed (the test's log) and kept beside the dump."""
    extra = list(manifest.get("analyze_args", []))
    out = os.path.join(tmp, name + ".json")
    t0 = time.time()
    p = hstest.run([hstest.HEAPSIFT, "analyze", hsd, "--json", out, "--objects", "4"] + extra)
    if p.returncode != 0 and extra:
        c.check(False, "%s: analyze accepts %s (exit %d: %s)" % (name, " ".join(extra), p.returncode, p.stderr.strip()))
        print("%s: analyzing again without %s" % (name, " ".join(extra)))
        extra = []
        p = hstest.run([hstest.HEAPSIFT, "analyze", hsd, "--json", out, "--objects", "4"])
    if not c.eq(p.returncode, 0, "%s: analyze exit status (%s)" % (name, p.stderr.strip())):
        return None, extra
    print("---- %s: heapsift analyze %s (%.1fs) ----" % (name, " ".join(extra), time.time() - t0))
    with open(os.path.join(tmp, name + ".txt"), "w") as f:
        f.write(p.stdout)
    print(p.stdout.split("\nTop retainers")[0])
    with open(out) as f:
        return json.load(f), extra



def compare(name, hsd, raw, manifest):
    """Every assertion of the module docstring on one capture."""
    leaky = manifest["mode"] == "leaky"
    groups = manifest["groups"]
    labels = label_of(manifest)
    slots = Slots(dump_objects(raw))
    rep, extra = analyze(name, hsd, manifest)
    if rep is None:
        return
    s = rep["summary"]
    print("%s: %s, %d objects, %d object bytes, %d in use bytes" % (
        name, manifest["go_version"], s["objects"], s["object_bytes"], s["in_use_bytes"]))
    hstest.validate_report(c, rep, name)

    # The manifest names objects of this dump.
    planted = [g for g in groups if g["expect"] in KINDS and g["instances"]]  # none when fixed
    unresolved = [o["addr"] for g in planted for inst in g["instances"]
                  for o in inst["objects"] + inst.get("kept", []) if slots.find(int(o["addr"], 16)) is None]
    c.eq(unresolved[:5], [], "%s: planted objects of the manifest are objects of the dump" % name)

    # Findings against the manifest, both ways.
    controls = addrs(groups, "control", "objects") | addrs(groups, "control", "kept")
    for kind in KINDS:
        got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
        want = addrs(groups, kind, "objects")
        allowed = want | addrs(groups, kind, "kept")
        missing = want - got
        c.check(not missing, "%s: %d of %d planted %s objects not reported: %r, e.g. %s" % (
            name, len(missing), len(want), kind, by_label(missing, labels), sorted(missing)[:3]))
        extra_objs = got - allowed
        c.check(not extra_objs, "%s: %d objects reported as %s that the service did not plant as %s: %r, e.g. %s" % (
            name, len(extra_objs), kind, kind, by_label(extra_objs, labels), sorted(extra_objs)[:3]))
        ctl = got & controls
        c.check(not ctl, "%s: %d control objects reported as %s: %r" % (name, len(ctl), kind, by_label(ctl, labels)))
    other = [f["title"] for f in rep["findings"] if f["kind"] not in KINDS]
    c.eq(other, [], "%s: findings of other kinds (tombstones: the manifest says 0)" % name)
    if not leaky:
        c.eq(["%s: %s" % (f["kind"], f["title"]) for f in rep["findings"]], [], "%s: no findings at all" % name)

    # Ghost findings name the manifest's container.
    names = {}
    for ct in manifest["containers"]:
        names[ct["name"]] = {ct["name"], ct["expr"], ct["path"]}
    for g in planted:
        if g["expect"] != "ghost":
            continue
        mine = {o["addr"] for inst in g["instances"] for o in inst["objects"]}
        conts = sorted({f.get("container") for f in rep["findings"] if f["kind"] == "ghost" and mine & set(f["objects"])})
        c.check(conts and all(x in names[g["container"]] for x in conts),
                "%s: %s ghosts are reported in container %s: %r" % (name, g["label"], g["container"], conts))

    # Finalizer-pinned bytes against the dump's own slot sizes.
    pin_slots = {slots.find(int(a, 16)) for a in addrs(groups, "finalizer_pinned", "objects")
                 | addrs(groups, "finalizer_pinned", "kept")} - {None}
    true_pinned = sum(slots.size[x] for x in pin_slots)
    got_pinned = sum(f["retained_bytes"] for f in rep["findings"] if f["kind"] == "finalizer_pinned")
    if leaky:
        c.check(abs(got_pinned - true_pinned) <= PIN_TOLERANCE * true_pinned,
                "%s: finalizer_pinned retained_bytes %d within %d%% of the true pinned bytes %d (%.1f%%)" % (
                    name, got_pinned, 100 * PIN_TOLERANCE, true_pinned, 100.0 * got_pinned / max(1, true_pinned)))
    print("%s: true pinned bytes %d, reported %d" % (name, true_pinned, got_pinned))

    # Memory classes sum exactly to the dump's objects.
    cl = s.get("classes")
    if c.check(isinstance(cl, dict), "%s: summary.classes present (keys of summary: %s)" % (name, sorted(s))):
        c.eq(sorted(cl), sorted(CLASSES), "%s: summary.classes names" % name)
        c.eq(sum(cl.get(k, {}).get("bytes", 0) for k in CLASSES), s["object_bytes"],
             "%s: classes' bytes sum to summary.object_bytes (%r)" % (name, cl))
        c.eq(sum(cl.get(k, {}).get("objects", 0) for k in CLASSES), s["objects"],
             "%s: classes' objects sum to summary.objects" % name)

    # The CI gate.
    p = hstest.run([hstest.HEAPSIFT, "check", hsd, "--fail-on", ",".join(KINDS), "--min-bytes", MIN_BYTES] + extra)
    c.eq(p.returncode, 1 if leaky else 0, "%s: heapsift check --fail-on %s --min-bytes %s exit status (%s)" % (
        name, ",".join(KINDS), MIN_BYTES, (p.stdout.strip().splitlines() or [""])[0][:200] + p.stderr.strip()))

    # Typing: coverage and named hops.
    t = s.get("typing") or {}
    cov = t.get("bytes", 0) / max(1, s["in_use_bytes"])
    c.check(cov >= COVERAGE, "%s: %.1f%% of in-use bytes typed (want >= %.0f%%): %s" % (
        name, 100 * cov, 100 * COVERAGE, t.get("by_evidence")))
    unnamed = hstest.unnamed_hops(rep)
    c.check(not unnamed, "%s: every hop of every finding's path has a Go name; %d do not: %s" % (
        name, len(unnamed), "; ".join(unnamed[:4])))

    # Closure cycles: the listeners are one finding with every instance.
    cyc = [g for g in planted if g["expect"] == "closure_cycle"]
    for g in cyc:
        mine = {o["addr"] for inst in g["instances"] for o in inst["objects"]}
        fs = [f for f in rep["findings"] if f["kind"] == "closure_cycle" and mine & set(f["objects"])]
        if c.eq(len(fs), 1, "%s: %s is one finding" % (name, g["label"])):
            c.check((fs[0].get("instances") or 0) >= g["count"], "%s: %s finding has instances >= %d: %r" % (
                name, g["label"], g["count"], fs[0].get("instances")))
    titles = [f["title"][:120] for f in rep["findings"] if f["kind"] == "closure_cycle"]
    c.eq(len(titles), len(cyc), "%s: closure cycle findings (the listener cycle only): %r" % (name, titles))


def selfdump(name, args):
    raw = os.path.join(tmp, name + ".dump")
    t0 = time.time()
    p = hstest.run([prog, "-selfdump", raw] + args)
    if not c.eq(p.returncode, 0, "%s: service ran (%s)" % (name, p.stderr.strip()[-300:])):
        return
    ran = time.time() - t0
    hsd = os.path.join(tmp, name + ".hsd")
    p = hstest.run([hstest.HEAPSIFT_DUMP, "import", raw, "--binary", prog, "-o", hsd])
    if not c.eq(p.returncode, 0, "%s: import (%s)" % (name, p.stderr.strip())):
        return
    with open(raw + ".manifest.json") as f:
        manifest = json.load(f)
    with open(raw, "rb") as f:
        data = f.read()
    print("%s: service ran %.1fs, dump %.1f MiB" % (name, ran, len(data) / 1048576.0))
    compare(name, hsd, data, manifest)


def live(name, args):
    """The service serving the hook with background load running; heapsift-dump captures it,
    by a snapshot of the unmodified process first (issue 15) and then through the hook."""
    ready = os.path.join(tmp, name + ".ready")
    snap = os.path.join(tmp, name + "-snapshot.hsd")
    log = open(os.path.join(tmp, name + ".log"), "w")
    proc = subprocess.Popen([prog, "-ready", ready, "-load", "2m"] + args, stdout=log, stderr=log)
    try:
        deadline = time.time() + 60
        while not os.path.exists(ready) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if not c.check(os.path.exists(ready), "%s: service ready (exit %s)" % (name, proc.poll())):
            return
        time.sleep(0.3)  # let the load run
        # an unmodified-process capture of the same service under load, just before the hook's
        # (the planted leaks do not move; the manifest of the hook's capture names them)
        p = hstest.run([hstest.HEAPSIFT_DUMP, "snapshot", str(proc.pid), "-o", snap], timeout=120)
        c.eq(p.returncode, 0, "%s: snapshot (%s)" % (name, p.stderr.strip()))
        hsd = os.path.join(tmp, name + ".hsd")
        t0 = time.time()
        p = hstest.run([hstest.HEAPSIFT_DUMP, "capture", str(proc.pid), "-o", hsd], timeout=120)
        if not c.eq(p.returncode, 0, "%s: capture (%s)" % (name, p.stderr.strip())):
            return
        print("%s: capture %.1fs" % (name, time.time() - t0))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    secs = {typ: raw for typ, _, raw, _ in hstest.read_hsd(hsd)}
    if not c.check(5 in secs and 4 in secs, "%s: the capture has a heap dump and a manifest" % name):
        return
    manifest = json.loads(secs[5])
    c.eq(manifest["capture"], "hook", "%s: manifest from the hook" % name)
    c.check(manifest["counts"]["in_flight"] > 0, "%s: requests in flight at capture time" % name)
    compare(name, hsd, secs[4], manifest)
    if os.path.exists(snap):
        compare(name + "-snapshot", snap, hstest.read_hsd_section(snap, 4), manifest)


def options(name):
    """What a user does with the leaky capture beyond analyze: name the cache by type, gate on
    a baseline, spell kinds as the text prints them, raise --min-instances, and a --value-type
    without a container."""
    hsd = os.path.join(tmp, name + ".hsd")
    if not os.path.exists(hsd):
        return
    with open(os.path.join(tmp, name + ".dump.manifest.json")) as f:
        manifest = json.load(f)
    sessions = {o["addr"] for g in manifest["groups"] if g["label"] == "ghost/go-cache-notifier"
                for inst in g["instances"] for o in inst["objects"]}
    # the go-cache map by its type alone, nothing automatic
    rep = hstest.heapsift_json(["analyze", hsd, "--no-auto", "--container-type",
                                "map[string]cache.Item", "--json", "-"])
    got = {a for f in rep["findings"] if f["kind"] == "ghost" for a in f["objects"]}
    c.eq(sorted(sessions - got), [], "%s: --container-type map[string]cache.Item finds every session ghost" % name)
    c.eq(sorted(got - sessions), [], "%s: and nothing else" % name)
    # --value-type alone is a clear error, not "every live session is a ghost"
    p = hstest.run([hstest.HEAPSIFT, "analyze", hsd, "--no-auto", "--value-type", "main.session"])
    c.check(p.returncode == 2 and not p.stdout.strip() and "no container" in p.stderr,
            "%s: --value-type without a container exits 2 and says why (%d: %s)" % (
                name, p.returncode, p.stderr.strip()))
    # a baseline of this capture's findings accepts them all; every printed spelling works
    base = os.path.join(tmp, name + ".baseline.json")
    p = hstest.run([hstest.HEAPSIFT, "analyze", hsd, "--json", base])
    c.eq(p.returncode, 0, "%s: analyze for the baseline" % name)
    p = hstest.run([hstest.HEAPSIFT, "check", hsd, "--fail-on", "ghosts,finalizer-pinned,closure cycle",
                    "--baseline", base])
    c.eq(p.returncode, 0, "%s: check --baseline of its own report exits 0 (%s)" % (name, p.stderr.strip()))
    p = hstest.run([hstest.HEAPSIFT, "check", hsd, "--fail-on", "finalizer-pinned", "--min-count", "100"])
    c.eq(p.returncode, 1, "%s: check --fail-on finalizer-pinned --min-count 100 matches the 400 writers" % name)
    p = hstest.run([hstest.HEAPSIFT, "check", hsd, "--fail-on", "finalizer-pinned", "--min-count", "1000"])
    c.eq(p.returncode, 0, "%s: and --min-count 1000 does not" % name)
    # the 300 listener cycles are one signature: a threshold above it makes them information
    rep = hstest.heapsift_json(["analyze", hsd, "--min-instances", "301", "--json", "-"])
    c.eq([f["title"] for f in rep["findings"] if f["kind"] == "closure_cycle"], [],
         "%s: --min-instances 301 leaves no closure-cycle finding" % name)
    c.check(any(f.get("reason") == "few_instances" and f.get("instances", 0) >= 300 for f in rep["info"]),
            "%s: the listener cycles are then information with their instances" % name)


selfdump("selfdump-leaky", [])
options("selfdump-leaky")
selfdump("selfdump-fixed", ["-fixed"])
live("live-leaky", [])
live("live-fixed", ["-fixed"])
c.done()
