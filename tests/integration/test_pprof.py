"""The pprof profile in `go tool pprof` itself, for each committed sample dump:

  - `-top -unit=B` and `-raw` total the report's in-use bytes, and -sample_index=inuse_objects
    its in-use objects;
  - each type, closure or shape has as flat bytes its in-use row of the report's histogram
    (the profile's leaves are the objects' types);
  - the retained variant totals at least the in-use bytes and at most all objects' bytes;

and for `heapsift diff --pprof AFTER --pprof-base BEFORE` of two of them: `-diff_base` totals
the diff's growth, and each type's flat bytes are its growth row.

pprof is the machine's Go (/usr/local/go), else $HEAPSIFT_PPROF_GO, else the test's Go; the
test skips (77) when none runs."""
import os
import re
import subprocess

import hstest

c = hstest.Checker("test_pprof")
tmp = hstest.tempdir()
DUMPS = os.path.join(hstest.SRC, "samples", "dumps")


def find_go():
    for go in (os.environ.get("HEAPSIFT_PPROF_GO"), "/usr/local/go/bin/go", hstest.GO):
        if go and os.access(go, os.X_OK):
            return go
    return None


GO = find_go()
if not GO:
    c.skip("no Go toolchain for go tool pprof")
    c.done()


def pprof(*args):
    p = subprocess.run([GO, "tool", "pprof"] + list(args), capture_output=True, text=True,
                       env=dict(os.environ, GOTOOLCHAIN="local", GOFLAGS=""), timeout=300)
    if not c.eq(p.returncode, 0, "go tool pprof %s: %s" % (" ".join(args), p.stderr[-300:])):
        return ""
    return p.stdout


ROW = re.compile(r"^\s*(-?\d+)B?\s+\S+%\s+\S+%\s+(-?\d+)B?\s+\S+%\s+(.*)$")


def top(*args):
    """-top over every node: (the total, the nodes shown total, {function: flat})."""
    out = pprof("-top", "-nodefraction=0", "-nodecount=1000000", *args)
    m = re.search(r"Showing nodes accounting for (-?\d+)B?, \S+ of (-?\d+)B? total", out)
    flat = {}
    for line in out.splitlines():
        r = ROW.match(line)
        if r and not line.lstrip().startswith("flat"):
            flat[r.group(3)] = flat.get(r.group(3), 0) + int(r.group(1))
    if not c.check(m, "pprof -top says what it shows: %s" % out[:300]):
        return 0, 0, flat
    return int(m.group(2)), int(m.group(1)), flat


def raw_totals(path):
    """The sums of each sample type in -raw."""
    out = pprof("-raw", path)
    rows = re.findall(r"^\s+((?:-?\d+\s+)+)-?\d*:\s", out, re.M)
    sums = None
    for r in re.findall(r"^\s*(-?\d+)\s+(-?\d+)\s+(-?\d+):", out, re.M):
        vals = [int(x) for x in r]
        sums = vals if sums is None else [a + b for a, b in zip(sums, vals)]
    c.check(rows, "pprof -raw lists samples")
    return sums or [0, 0, 0]


for version in ("go1.19", "go1.26", "go1.27"):
    dump = os.path.join(DUMPS, "soak-small-%s.hsd" % version)
    prof = os.path.join(tmp, version + ".pb.gz")
    rep = hstest.heapsift_json(["analyze", dump, "--top", "100000", "--pprof", prof, "--json", "-"])
    s = rep["summary"]
    total, shown, flat = top("-unit=B", prof)
    c.eq(total, s["in_use_bytes"], "%s: pprof -top total == the report's in-use bytes" % version)
    c.eq(shown, total, "%s: every node shown" % version)
    objects, _, _ = top("-sample_index=inuse_objects", prof)
    c.eq(objects, s["in_use_objects"], "%s: -top inuse_objects == the in-use objects" % version)
    sums = raw_totals(prof)
    c.eq(sums[:2], [s["in_use_objects"], s["in_use_bytes"]], "%s: pprof -raw totals" % version)
    c.check(s["in_use_bytes"] <= sums[2] <= s["object_bytes"],
            "%s: retained_space %d between the in-use bytes and all objects' bytes" % (version, sums[2]))
    # the profile is of the in-use heap; the histogram has a row per memory class
    wrong = [(h["label"], h["bytes"], flat.get(h["label"])) for h in rep["histogram"]
             if h["class"] == "in_use" and flat.get(h["label"]) != h["bytes"]]
    c.eq(wrong, [], "%s: each histogram row is its type's flat bytes (label, report, pprof)" % version)

# diff: AFTER's profile against BEFORE's
before, after = (os.path.join(DUMPS, "soak-small-%s.hsd" % v) for v in ("go1.26", "go1.27"))
pa, pb = os.path.join(tmp, "after.pb.gz"), os.path.join(tmp, "before.pb.gz")
rep = hstest.heapsift_json(["diff", before, after, "--top", "100000", "--pprof", pa, "--pprof-base",
                            pb, "--json", "-"])
growth = [g for g in rep["diff"]["growth"] if g["class"] == "in_use"]  # the profiles' class
_, shown, flat = top("-unit=B", "-diff_base", pb, pa)
c.eq(shown, sum(g["bytes_after"] - g["bytes_before"] for g in growth),
     "diff: pprof -diff_base totals the diff's growth")
wrong = [(g["label"], g["bytes_after"] - g["bytes_before"], flat.get(g["label"], 0)) for g in growth
         if flat.get(g["label"], 0) != g["bytes_after"] - g["bytes_before"]]
c.eq(wrong, [], "diff: each growth row is its type's flat bytes in pprof -diff_base (label, diff, pprof)")
c.done()
