"""Go version handling on real dumps of this toolchain's map workload: the version comes from
the params record; a dump claiming a Go version newer (or older) than any heapsift is tested
on is still analyzed, best effort, with a note saying so; a dump whose heap contradicts its
version's layout (here: a Go 1.19 heap relabelled as Go 1.26, whose large objects would carry
malloc headers) gets a note naming the structure and the version, never a crash."""
import json
import os

import hstest

c = hstest.Checker("test_versions")
tmp = hstest.tempdir()
prog = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")
dump = os.path.join(tmp, "ghost.dump")
p = hstest.run([prog, "-scenario", "ghost", "-selfdump", dump])
assert p.returncode == 0, p.stderr
with open(dump, "rb") as f:
    data = f.read()
with open(dump + ".manifest.json") as f:
    manifest = json.load(f)
version = manifest.get("go_version") or hstest.run([hstest.GO, "env", "GOVERSION"]).stdout.strip()
planted = {o["addr"] for o in manifest["objects"] if o["expect"] == "ghost"}


def analyze(path):
    p = hstest.run([hstest.HEAPSIFT, "analyze", path, "--binary", prog, "--json", "-"])
    c.eq(p.returncode, 0, "%s: analyze exit status (stderr: %s)" % (os.path.basename(path), p.stderr[-300:]))
    return json.loads(p.stdout) if p.returncode == 0 else {"dump": {}, "summary": {"notes": []}, "findings": []}


def relabel(new):
    """The dump with its params record's version string replaced by one of the same length."""
    old = version.encode()
    assert len(new) == len(old), (new, old)
    i = data.find(old)
    c.check(0 <= i < 200, "the version string %s sits in the params record" % version)
    path = os.path.join(tmp, new + ".dump")
    with open(path, "wb") as f:
        f.write(data[:i] + new.encode() + data[i + len(old):])
    return path


def notes(rep):
    return " | ".join(rep["summary"].get("notes", []))


rep = analyze(dump)
c.eq(rep["dump"].get("go_version"), version, "the version comes from the params record")
c.check("tested on" not in notes(rep), "a tested version gets no version note: %s" % notes(rep))
got = {a for f in rep["findings"] if f["kind"] == "ghost" for a in f["objects"]}

# A newer version: same layouts as the newest tested one, a note, the same findings.
minor = int(version.split(".")[1])
newer = relabel("go1.99" + version[len("go1.%d" % minor):])
rep = analyze(newer)
c.check("newer than any Go version heapsift is tested on" in notes(rep),
        "newer version noted: %s" % notes(rep))
if minor >= 24:  # the newest tested layouts are this dump's: nothing changes
    c.eq({a for f in rep["findings"] if f["kind"] == "ghost" for a in f["objects"]}, got,
         "a newer version's analysis finds the same ghosts")

# An older version than any tested: a note, no crash.
rep = analyze(relabel("go1.09" + version[len("go1.%d" % minor):]))
c.check("older than any Go version heapsift is tested on" in notes(rep),
        "older version noted: %s" % notes(rep))

# A heap without malloc headers that claims a version with them: the note names the structure.
if minor < 22:
    rep = analyze(relabel("go1.26" + version[len("go1.%d" % minor):]))
    c.check("malloc header" in notes(rep) and "go1.26" in notes(rep),
            "a layout that contradicts the version is named: %s" % notes(rep))
c.done()
