"""Every map-workload scenario on this test's Go toolchain, dumped by the workload itself
(debug.WriteHeapDump) and analyzed with `heapsift analyze --json`, compared with the
workload's manifest both ways:

- the objects reported per kind equal the manifest's planted objects of that kind (every
  planted leak found, no control reported), and `fixed` has no finding at all;
- every container the manifest lists is found at its address (sync.Maps as globals,
  anonymous statics and struct fields, by themselves; Go maps named with --container, mid-
  growth ones included), with as many decoded values as it has entries;
- tombstones per container, where the runtime has them (Go 1.19-1.23); elsewhere the report
  says why there are none;
- each object's liveness where the manifest states it (weak-only and cleanup-only objects are
  garbage in a dump; strongly held ones in use), weak referrers shown, and the AddCleanup note;
- every JSON report validates against formats/report.schema.json."""
import json
import os
import re

import hstest

c = hstest.Checker("test_scenarios")
tmp = hstest.tempdir()
prog = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")

KINDS = ("ghost", "finalizer_pinned", "closure_cycle")
LIVENESS = {"in_use": "in use", "garbage": "garbage", "cleanup_only": "garbage"}


def summary_containers(rep):
    """{address: (kind, values)} from the summary's "NAME (KIND at 0xADDR, N values)"."""
    out = {}
    for s in rep["summary"]["containers"]:
        m = re.search(r"\((sync\.Map|Go map|named) at (0x[0-9a-f]+), (\d+) values?\)$", s)
        if c.check(m, "container line has kind, address and values: %r" % s):
            out[int(m.group(2), 16)] = (m.group(1), int(m.group(3)), s[:m.start()].strip())
    return out


def show(dump, addr):
    p = hstest.run([hstest.HEAPSIFT, "show", dump, "--binary", prog, addr])
    c.eq(p.returncode, 0, "show %s: exit status (%s)" % (addr, p.stderr.strip()[:200]))
    return p.stdout


for scenario in ("seed", "ghost", "closure", "finalizer-pin", "tombstone", "fixed", "maps",
                 "weak", "cleanup"):
    dump = os.path.join(tmp, scenario + ".dump")
    p = hstest.run([prog, "-scenario", scenario, "-selfdump", dump])
    if p.returncode == 3 and "not available" in p.stderr:
        version = hstest.run([hstest.GO, "env", "GOVERSION"]).stdout.strip()
        c.check(hstest.go_minor(version) < 24, "%s: available on %s (%s)" % (scenario, version, p.stderr.strip()))
        continue
    if not c.check(p.returncode == 0, "%s: workload ran (%s)" % (scenario, p.stderr[-300:])):
        continue
    with open(dump + ".manifest.json") as f:
        manifest = json.load(f)
    minor = hstest.go_minor(manifest["go_version"])
    args = ["analyze", dump, "--binary", prog, "--json", "-"]
    # sync.Maps are recognised; plain maps are named the way a user would name them.
    for ct in manifest["containers"]:
        if ct["kind"] != "sync.Map":
            args += ["--container", ct["name"]]
    rep = hstest.heapsift_json(args)
    hstest.validate_report(c, rep, scenario)
    for kind in KINDS:
        got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
        want = {o["addr"] for o in manifest["objects"] if o["expect"] == kind}
        controls = {o["addr"] for o in manifest["objects"] if o["expect"] != kind}
        c.eq(sorted(want - got), [], "%s: planted %s objects not reported" % (scenario, kind))
        c.eq(sorted(got & controls), [], "%s: control objects reported as %s" % (scenario, kind))
        c.eq(sorted(got - want), [], "%s: %s objects the workload did not plant" % (scenario, kind))

    # Containers: each at its address, with its entries decoded.
    found = summary_containers(rep)
    name_at = {}
    for ct in manifest["containers"]:
        addr = int(ct["map_addr"] if ct["kind"] == "map" else ct["addr"], 16)
        kind = "Go map" if ct["kind"] == "map" else "sync.Map"
        if not c.check(addr in found, "%s: container %s (%s at %#x) found: %r" %
                       (scenario, ct["name"], kind, addr, rep["summary"]["containers"])):
            continue
        name_at[ct["name"]] = found[addr][2]
        c.eq(found[addr][0], kind, "%s: %s is a %s" % (scenario, ct["name"], kind))
        if "entries" in ct:
            c.eq(found[addr][1], ct["entries"], "%s: values decoded from %s%s" % (
                scenario, ct["name"], " (mid-growth)" if ct.get("mid_growth") else ""))

    # Tombstones where the layout has them; a note where it has none.
    want_tomb = {name_at.get(k, k): v for k, v in (manifest["counts"].get("tombstones") or {}).items() if v}
    got_tomb = {f["container"]: f["keys"] for f in rep["findings"] if f["kind"] == "tombstone"}
    c.eq(got_tomb, want_tomb, "%s: tombstoned keys per container" % scenario)
    notes = " | ".join(rep["summary"].get("notes", []))
    if manifest["containers"] and any(ct["kind"] == "sync.Map" for ct in manifest["containers"]):
        c.eq(manifest.get("tombstones_applicable", True), minor < 24,
             "%s: manifest says whether tombstones exist in go1.%d" % (scenario, minor))
        c.eq("no tombstones in" in notes, minor >= 24,
             "%s: the report says why there are no tombstones (go1.%d): %s" % (scenario, minor, notes))

    for f in rep["findings"]:
        c.eq(f["count"], len(f["objects"]), "%s: count equals the objects listed" % scenario)
        c.check(f["path"]["steps"], "%s: %s finding has a path from its holder" % (scenario, f["kind"]))
    # Hops out of typed objects are named by their Go field (from the type descriptors).
    names = {st.get("field_name") for f in rep["findings"]
             for st in f["path"]["steps"] + f.get("cycle", []) if st.get("field_name")}
    if scenario == "closure":
        c.check(names & {".cb", ".onEvict", ".handlers"},
                "closure: cycles name the Payload field holding the closure: %r" % names)
    if scenario == "finalizer-pin":
        c.check(".Peer" in names, "finalizer-pin: the mutual pin goes through .Peer: %r" % names)
    if scenario == "fixed":
        c.eq([f["title"] for f in rep["findings"]], [], "fixed: no findings at all")

    # Liveness as the runtime sees it, where the manifest states it (weak, cleanup).
    if scenario in ("weak", "cleanup"):
        stated = [o for o in manifest["objects"] if o.get("liveness") in ("garbage", "cleanup_only")]
        stated += [o for o in manifest["objects"] if o.get("liveness") == "in_use"][:3]
        c.check(len(stated) > 3, "%s: the manifest states liveness" % scenario)
        for o in stated:
            out = show(dump, o["addr"])
            m = re.search(r"^liveness\s+(.*)$", out, re.M)
            c.check(m and m.group(1).startswith(LIVENESS[o["liveness"]]),
                    "%s: %s (%s) is %s: %r" % (scenario, o["addr"], o["label"], o["liveness"],
                                               m.group(1) if m else out[:200]))
            if o.get("weak_ref"):
                c.check("weakly referred to by (" in out,
                        "%s: %s shows its weak handle" % (scenario, o["addr"]))
    if scenario == "cleanup":
        c.check("runtime.AddCleanup" in notes, "cleanup: the report notes AddCleanup: %s" % notes)

c.done()
