"""formats/report.schema.json against the JSON emitter: the documents that tests/unit/test_emit
writes (one finding of each kind, info, tables; and an empty report) and a real
`heapsift analyze --json` report must validate, and documents broken in the ways a consumer
would notice must not, so the validator provably bites.
Needs python3-jsonschema (tests/deps.sh installs it)."""
import copy
import json
import os
import sys

import hstest

try:
    import jsonschema
except ImportError:
    print("test_schema: python3-jsonschema is missing (run tests/deps.sh)", file=sys.stderr)
    sys.exit(1)

c = hstest.Checker("test_schema")
with open(os.path.join(hstest.SRC, "formats", "report.schema.json")) as f:
    schema = json.load(f)
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)


def errors(doc):
    return [e.message for e in validator.iter_errors(doc)]


# The sample documents, written by the unit test's driver mode.
tmp = hstest.tempdir()
driver = os.environ.get("HEAPSIFT_TEST_EMIT",
                        os.path.join(hstest.BUILD, "tests", "unit", "test_emit"))
p = hstest.run([driver, tmp])
assert p.returncode == 0, "%s %s failed: %s" % (driver, tmp, p.stderr)
docs = {}
for name in ("full.json", "full-compact.json", "empty.json"):
    with open(os.path.join(tmp, name), "rb") as f:
        raw = f.read()
    c.check(raw.endswith(b"\n"), "%s ends with a newline" % name)
    docs[name] = json.loads(raw.decode("utf-8"))
    errs = errors(docs[name])
    c.check(not errs, "%s validates: %s" % (name, errs[:3]))
full = docs["full.json"]
c.eq(docs["full-compact.json"], full, "compact and pretty JSON hold the same document")
c.eq(docs["empty.json"]["findings"], [], "empty report has no findings")


# What the schema cannot say: counts agree with the lists.
def consistent(doc):
    s = doc["summary"]
    c.eq(s["findings"], len(doc["findings"]), "summary.findings")
    c.eq(s["info"], len(doc["info"]), "summary.info")
    for f in doc["findings"] + doc["info"]:
        c.eq(f["count"], len(f["objects"]), "%s: count == len(objects)" % f["signature"])
        c.eq(len(set(f["objects"])), len(f["objects"]), "%s: objects are distinct" % f["signature"])
        if f["kind"] == "closure_cycle":
            c.check(f["cycle"][0]["addr"] == f["cycle"][-1]["addr"], "cycle closes on itself")
            c.check(all(cl["addr"] in f["objects"] for cl in f["closures"]),
                    "closures are members of the cycle")
        if f["path"] is not None and f["path"]["steps"]:
            c.check(f["path"]["steps"][0]["field"] is None, "first step has no field")
            c.check(all(st["field"] is not None for st in f["path"]["steps"][1:]),
                    "later steps have a field")


for d in docs.values():
    consistent(d)
c.eq(sorted(f["kind"] for f in full["findings"]),
     ["closure_cycle", "finalizer_pinned", "ghost", "tombstone"], "one finding of each kind")


def finding(doc, kind):
    return next(f for f in doc["findings"] if f["kind"] == kind)


def broken(what, mutate):
    doc = copy.deepcopy(full)
    mutate(doc)
    c.check(errors(doc), "schema rejects: " + what)


broken("another schema version", lambda d: d.update(schema="heapsift-report/2"))
def set_first_object(value):
    return lambda d: finding(d, "ghost")["objects"].__setitem__(0, value)


broken("an uppercase address", set_first_object("0xC000123000"))
broken("an address without 0x", set_first_object("c000123000"))
broken("an address as a number", set_first_object(1234))
broken("a ghost without container", lambda d: finding(d, "ghost").pop("container"))
broken("a ghost with keys", lambda d: finding(d, "ghost").update(keys=3))
broken("a ghost with an unknown evidence", lambda d: finding(d, "ghost").update(evidence="guess"))
broken("a closure cycle without closures", lambda d: finding(d, "closure_cycle").pop("closures"))
broken("a closure cycle without cycle", lambda d: finding(d, "closure_cycle").pop("cycle"))
broken("a closure with a bad address",
       lambda d: finding(d, "closure_cycle")["closures"][0].update(addr="0xzz"))
broken("a tombstone without keys", lambda d: finding(d, "tombstone").pop("keys"))
broken("a pinned object with an unknown reason",
       lambda d: finding(d, "finalizer_pinned").update(reason="because"))
broken("an unknown kind", lambda d: finding(d, "ghost").update(kind="phantom"))
broken("an unknown finding key", lambda d: finding(d, "ghost").update(confidence=0.9))
broken("an unknown top-level key", lambda d: d.update(extra=[]))
broken("a missing histogram", lambda d: d.pop("histogram"))
broken("a negative count", lambda d: finding(d, "ghost").update(count=-1))
broken("a count as a string", lambda d: finding(d, "ghost").update(count="12"))
broken("a step without field", lambda d: finding(d, "ghost")["path"]["steps"][1].pop("field"))
broken("a step of unknown kind",
       lambda d: finding(d, "ghost")["path"]["steps"][1].update(kind="thing"))
broken("a summary without notes", lambda d: d["summary"].pop("notes"))
broken("a retainer without addr", lambda d: d["top_retainers"][0].pop("addr"))
broken("an info item without closures", lambda d: d["info"][0].pop("closures"))


# A real report: `heapsift analyze --json` on a dump of tests/go/knownheap, when this build's
# CLI has the analyze command and Go is available.
has_analyze = (os.path.exists(hstest.HEAPSIFT) and
               hstest.run([hstest.HEAPSIFT, "analyze", "--help"]).returncode == 0)
if has_analyze and hstest.GO:
    prog = hstest.go_build("tests/go/knownheap/main.go", "knownheap")
    before, after = os.path.join(tmp, "before.dump"), os.path.join(tmp, "after.dump")
    p = hstest.run([prog, before, after])
    assert p.returncode == 0, p.stderr
    out = os.path.join(tmp, "real.json")
    p = hstest.run([hstest.HEAPSIFT, "analyze", "--binary", prog, "--json", out, after])
    if c.check(p.returncode == 0, "heapsift analyze: %s" % p.stderr.strip()):
        with open(out) as f:
            real = json.load(f)
        errs = errors(real)
        c.check(not errs, "heapsift analyze --json validates: %s" % errs[:3])
        consistent(real)
        c.check(len(real["histogram"]) > 0 and len(real["top_retainers"]) > 0,
                "the real report has both tables")
else:
    c.skip("no `heapsift analyze` or no Go here: the real-dump check")

c.done()
