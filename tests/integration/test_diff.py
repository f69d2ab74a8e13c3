"""`heapsift diff` on two live captures of the soak workload (store/delete churn, values
leaking into main.soakLeaks between the captures): the exact ghosts it reports must all be
objects the workload planted as ghosts (not their children), there must be some, no control
object may appear, every ghost `analyze` finds on the later dump is in the diff too (at its own
evidence level unless diff proves it exact), no object is in two findings, and the JSON must
validate against the schema."""
import glob
import json
import os

import hstest

c = hstest.Checker("test_diff")
tmp = hstest.tempdir()
prog = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")
out = os.path.join(tmp, "caps")
p = hstest.run([hstest.HEAPSIFT_DUMP, "run", "--at", "1500ms,3500ms", "--stop-after", "-o", out,
                "--", prog, "-scenario", "soak", "-objects", "50000", "-churn", "3000",
                "-leak", "50"], env=dict(os.environ, TMPDIR=tmp), timeout=120)
c.check(p.returncode in (0, 143), "heapsift-dump run (status %d): %s" % (p.returncode, p.stderr[-400:]))
caps = sorted(glob.glob(os.path.join(out, "*.hsd")))
if c.eq(len(caps), 2, "two captures"):
    before, after = caps
    rep = hstest.heapsift_json(["diff", before, after, "--json", "-"])
    hstest.validate_report(c, rep, "diff")
    with open(after + ".manifest.json") as f:
        manifest = json.load(f)
    planted = {o["addr"] for o in manifest["objects"] if o["expect"] == "ghost"}
    controls = {o["addr"] for o in manifest["objects"] if o["expect"] != "ghost"}
    ghosts = [f for f in rep["findings"] if f["kind"] == "ghost"]
    exact = {a for f in ghosts if f["evidence"] == "diff" for a in f["objects"]}
    every = [a for f in ghosts for a in f["objects"]]
    c.check(len(exact) > 0, "the churn between the captures leaked ghosts that diff finds")
    c.eq(sorted(exact - planted), [], "every exact ghost is one the workload leaked (none is a "
         "ghost's child)")
    c.eq(sorted(set(every) & controls), [], "no control object is a ghost")
    c.eq(len(every), len(set(every)), "no object is in two ghost findings")
    # diff keeps every evidence level: what analyze finds on AFTER is in the diff too
    single = hstest.heapsift_json(["analyze", after, "--json", "-"])
    found = {a for f in single["findings"] if f["kind"] == "ghost" for a in f["objects"]}
    c.eq(sorted(found - set(every)), [], "every ghost analyze finds on the later dump is in the diff")
    c.eq(sorted(set(every) - found - exact), [], "the diff adds only exact ghosts")
    d = rep.get("diff", {})
    c.eq(d.get("before"), before, "the diff names the earlier dump")
    c.check(d.get("kept_objects", 0) > 0 and d.get("growth"), "kept objects and a growth table")
    # The text form says what changed.
    t = hstest.run([hstest.HEAPSIFT, "diff", before, after])
    c.eq(t.returncode, 0, "text diff exit status")
    c.check("Changes since" in t.stdout and "evidence:  diff" in t.stdout, "text diff sections")
c.done()
