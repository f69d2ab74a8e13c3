"""Every map-workload scenario, dumped by the workload itself (debug.WriteHeapDump) and
analyzed with `heapsift analyze --json`: the objects reported per kind must equal the
manifest's planted objects of that kind (every planted leak found, no control reported),
tombstone counts must match, `fixed` must have no finding at all, and every JSON report must
validate against formats/report.schema.json."""
import json
import os

import hstest

c = hstest.Checker("test_scenarios")
tmp = hstest.tempdir()
prog = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")
schema = None
try:
    import jsonschema
    with open(os.path.join(hstest.SRC, "formats", "report.schema.json")) as f:
        schema = json.load(f)
except ImportError:
    c.check(False, "python3-jsonschema is installed (tests/deps.sh installs it)")

KINDS = ("ghost", "finalizer_pinned", "closure_cycle")

for scenario in ("seed", "ghost", "closure", "finalizer-pin", "tombstone", "fixed"):
    dump = os.path.join(tmp, scenario + ".dump")
    p = hstest.run([prog, "-scenario", scenario, "-selfdump", dump])
    if not c.check(p.returncode == 0, "%s: workload ran (%s)" % (scenario, p.stderr[-300:])):
        continue
    with open(dump + ".manifest.json") as f:
        manifest = json.load(f)
    args = ["analyze", dump, "--binary", prog, "--json", "-"]
    # sync.Maps are recognised; plain maps are named the way a user would name them.
    for ct in manifest["containers"]:
        if ct["kind"] != "sync.Map":
            args += ["--container", ct["name"]]
    rep = hstest.heapsift_json(args)
    if schema is not None:
        try:
            jsonschema.validate(rep, schema)
        except jsonschema.ValidationError as e:
            c.check(False, "%s: report validates against the schema: %s" % (scenario, e.message))
    for kind in KINDS:
        got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
        want = {o["addr"] for o in manifest["objects"] if o["expect"] == kind}
        controls = {o["addr"] for o in manifest["objects"] if o["expect"] != kind}
        c.eq(sorted(want - got), [], "%s: planted %s objects not reported" % (scenario, kind))
        c.eq(sorted(got & controls), [], "%s: control objects reported as %s" % (scenario, kind))
        c.eq(sorted(got - want), [], "%s: %s objects the workload did not plant" % (scenario, kind))
    want_tomb = {k: v for k, v in (manifest["counts"].get("tombstones") or {}).items() if v}
    got_tomb = {f["container"]: f["keys"] for f in rep["findings"] if f["kind"] == "tombstone"}
    c.eq(got_tomb, want_tomb, "%s: tombstoned keys per container" % scenario)
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

c.done()
