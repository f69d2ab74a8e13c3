"""Old and new .hsd files side by side: samples/dumps/v1/ keeps a version-1 file (written
before the types section existed); it must still read and analyze, with the same findings as
its manifest says, typed from runtime evidence only and saying so. The current samples are
version 2 with a types section, and are typed from DWARF."""
import json
import os
import struct

import hstest

c = hstest.Checker("test_compat")
KINDS = ("ghost", "finalizer_pinned", "closure_cycle")
TYPES_SECTION = 8  # HSD_SEC_TYPES


def version(path):
    with open(path, "rb") as f:
        head = f.read(12)
    return struct.unpack_from("<I", head, 8)[0]


def check_truth(label, dump, manifest_path, extra=()):
    with open(manifest_path) as f:
        manifest = json.load(f)
    rep = hstest.heapsift_json(["analyze", dump, "--json", "-"] + list(extra))
    for kind in KINDS:
        got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
        want = {o["addr"] for o in manifest["objects"] if o["expect"] == kind}
        c.eq(sorted(want - got), [], "%s: planted %s objects not reported" % (label, kind))
        c.eq(sorted(got - want), [], "%s: %s objects the workload did not plant" % (label, kind))
    return rep


v1 = os.path.join(hstest.SRC, "samples", "dumps", "v1", "soak-small-go1.26.hsd")
c.eq(version(v1), 1, "the committed old file is a version-1 .hsd")
p = hstest.run([hstest.HEAPSIFT, "info", v1])
c.eq(p.returncode, 0, "info reads a version-1 file (%s)" % p.stderr.strip())
# The old workload planted one cycle of each kind, which is a singleton by today's default
# (--min-instances 2): the file's truth holds with a threshold of 1.
rep = check_truth("v1", v1, v1[: -len(".hsd")] + ".manifest.json", ["--min-instances", "1"])
typing = rep["summary"].get("typing") or {}
c.eq(typing.get("from"), "runtime evidence only", "v1: typed from runtime evidence only")
c.check(any("no DWARF types" in n for n in rep["summary"]["notes"]),
        "v1: a note says why less is typed: %r" % rep["summary"]["notes"])

for v in ("go1.19", "go1.26", "go1.27"):
    path = os.path.join(hstest.SRC, "samples", "dumps", "soak-small-%s.hsd" % v)
    c.eq(version(path), 2, "%s: the sample is a version-2 .hsd" % v)
    c.check(any(s[0] == TYPES_SECTION for s in hstest.read_hsd(path)), "%s: it has a types section" % v)
    rep = check_truth(v, path, path[: -len(".hsd")] + ".manifest.json")
    c.eq((rep["summary"].get("typing") or {}).get("from"), "DWARF", "%s: typed from DWARF" % v)
c.done()
