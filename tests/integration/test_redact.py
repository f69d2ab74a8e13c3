"""`heapsift redact`: no copy of a planted secret survives, and the analysis is unchanged.

1. tests/go/secret plants five random tokens (heap object, global []byte, .bss, a string in a
   struct, a stack local of a blocked goroutine) and writes a heap dump; the raw dump must
   contain every token (so this test can fail), the redacted one none: no 8-byte window of a
   raw token and no 12-character window of its hex text, in the file and, for a .hsd, in every
   section after inflating (parsed here from formats/HSD.md, independently of the C reader).
2. The redacted files: mode 0600, same size as the raw dump (redaction keeps every length),
   no temporary file left behind, META marked "redacted": true, the manifest and a SEGMENT
   section dropped (manifest kept with --keep-manifest), errors exit 2 without an output.
3. samples/mapworkload -scenario ghost: `heapsift analyze --json` of the redacted dump equals
   that of the original (everything but the file path).

The .hsd is packed by tests/integration/mkhsd (argv[1]), which can add a raw-memory SEGMENT section.
"""
import json
import os
import re
import stat
import sys

import hstest

c = hstest.Checker("test_redact")
tmp = hstest.tempdir()
MKHSD = sys.argv[1] if len(sys.argv) > 1 else None


def read_hsd(path):
    """Returns [(type, name, raw bytes)] of a .hsd (hstest.read_hsd)."""
    return [(typ, name, raw) for typ, name, raw, _ in hstest.read_hsd(path)]


def windows(tok_hex):
    raw = bytes.fromhex(tok_hex)
    text = tok_hex.encode()
    return ([raw[i:i + 8] for i in range(len(raw) - 7)] +
            [text[i:i + 12] for i in range(len(text) - 11)])


def leaks(blob, toks):
    """Names of the tokens with any window present in blob."""
    return sorted(k for k, v in toks.items() if any(w in blob for w in windows(v)))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers():
    return sorted(f for f in os.listdir(tmp) if ".tmp-" in f)


# ---- 1, 2: the secret program ----
prog = hstest.go_build("tests/go/secret/main.go", "secret")
raw = os.path.join(tmp, "secret.dump")
p = hstest.run([prog, raw])
c.check(p.returncode == 0, "secret ran (%s)" % p.stderr[-300:])
toks = json.loads(p.stdout)
c.eq(sorted(toks), ["bss", "heap", "slice", "stack", "string"], "tokens printed")
with open(raw, "rb") as f:
    raw_bytes = f.read()
c.check(all(bytes.fromhex(toks[k]) in raw_bytes for k in ("heap", "slice", "bss", "stack")),
        "the raw dump holds the raw tokens")
c.check(toks["string"].encode() in raw_bytes, "the raw dump holds the string token's text")

for args, label in (([], "no symbols"), (["--binary", prog], "--binary")):
    red = os.path.join(tmp, "secret.red")
    p = hstest.run([hstest.HEAPSIFT, "redact", raw, red] + args)
    if not c.check(p.returncode == 0, "redact raw (%s): %s" % (label, p.stderr)):
        continue
    c.check("redacted" in p.stdout and "pointer slots" in p.stdout, "redact prints a summary")
    with open(red, "rb") as f:
        red_bytes = f.read()
    c.eq(leaks(red_bytes, toks), [], "raw (%s): tokens left in the redacted dump" % label)
    c.eq(len(red_bytes), len(raw_bytes), "raw (%s): same size as the original" % label)
    c.check(red_bytes.startswith(b"go1.7 heap dump\n"), "raw (%s): still a heap dump" % label)
    c.eq(oct(mode(red)), oct(0o600), "raw (%s): output mode" % label)
    if label == "--binary":
        m = re.search(r"and (\d+) type/code words", p.stdout)
        c.check(m and int(m.group(1)) > 0, "with symbols, type/code words are kept: %r" % p.stdout)
    p = hstest.run([hstest.HEAPSIFT, "info", red, "--json"])
    c.eq(p.returncode, 0, "raw (%s): heapsift info reads the redacted dump" % label)
    os.unlink(red)
c.eq(leftovers(), [], "no temporary files left")

# Errors: exit 2, message, no output, no temporary file.
trunc = os.path.join(tmp, "trunc.dump")
with open(trunc, "wb") as f:
    f.write(raw_bytes[:len(raw_bytes) // 2])
bad_out = os.path.join(tmp, "bad.out")
p = hstest.run([hstest.HEAPSIFT, "redact", trunc, bad_out])
c.eq(p.returncode, 2, "truncated input exits 2")
c.check("truncated" in p.stderr and "byte" in p.stderr, "truncated input is named: %r" % p.stderr)
c.check(not os.path.exists(bad_out), "no output for a truncated input")
c.eq(leftovers(), [], "no temporary file after a failure")
p = hstest.run([hstest.HEAPSIFT, "redact", raw])
c.eq(p.returncode, 2, "missing OUT exits 2")
p = hstest.run([hstest.HEAPSIFT, "redact", raw, os.path.join(tmp, "no", "such", "dir")])
c.eq(p.returncode, 2, "unwritable OUT exits 2")

if MKHSD:
    manifest = os.path.join(tmp, "manifest.json")
    with open(manifest, "w") as f:
        json.dump({"note": "test manifest"}, f)
    segment = os.path.join(tmp, "segment.bin")
    with open(segment, "wb") as f:
        f.write(bytes.fromhex(toks["heap"]) * 4)
    hsd = os.path.join(tmp, "secret.hsd")
    p = hstest.run([MKHSD, hsd, raw, prog, "--manifest", manifest, "--segment", segment])
    c.check(p.returncode == 0, "mkhsd packed the dump (%s)" % p.stderr)
    secs = read_hsd(hsd)
    c.check(any(typ == 4 and raw_bytes == data for typ, _, data in secs),
            "the .hsd holds the raw dump")

    for keep in (False, True):
        out = os.path.join(tmp, "secret-red%s.hsd" % ("-keep" if keep else ""))
        keep_arg = ["--keep-manifest"] if keep else []
        p = hstest.run([hstest.HEAPSIFT, "redact", hsd, out] + keep_arg)
        if not c.check(p.returncode == 0, "redact .hsd: %s" % p.stderr):
            continue
        c.check("dropped section" in p.stderr and "segment" in p.stderr,
                "the segment section is dropped")
        c.eq(oct(mode(out)), oct(0o600), ".hsd output mode")
        with open(out, "rb") as f:
            whole = f.read()
        c.eq(leaks(whole, toks), [], ".hsd: tokens in the file bytes")
        rsecs = read_hsd(out)
        c.eq([t for t, _, _ in rsecs], [1, 2, 3, 4] + ([5] if keep else []),
             ".hsd sections (keep manifest: %s)" % keep)
        for typ, name, data in rsecs:
            c.eq(leaks(data, toks), [], ".hsd: tokens in section %d after inflating" % typ)
        by_type = {t: d for t, _, d in rsecs}
        meta = json.loads(by_type[1])
        c.eq(meta.get("redacted"), True, "META says redacted")
        c.eq(meta.get("trigger"), "mkhsd", "META keeps its other keys")
        c.eq(len(by_type[4]), len(raw_bytes), ".hsd heap dump keeps its size")
        c.eq(by_type[2], {t: d for t, _, d in secs}[2], "SYMTAB copied as is")
        p = hstest.run([hstest.HEAPSIFT, "info", out, "--json"])
        c.eq(p.returncode, 0, "heapsift info reads the redacted .hsd")
    c.eq(leftovers(), [], "no temporary files left (.hsd)")
else:
    print("test_redact: no mkhsd helper given: the .hsd half is skipped", file=sys.stderr)
    c.check(False, "mkhsd helper passed by meson")

# ---- 3: analysis is unchanged ----
mw = hstest.go_build("samples/mapworkload", "mapworkload", cwd="samples")
dump = os.path.join(tmp, "ghost.dump")
p = hstest.run([mw, "-scenario", "ghost", "-selfdump", dump])
if c.check(p.returncode == 0, "mapworkload ran (%s)" % p.stderr[-300:]):
    with open(dump + ".manifest.json") as f:
        manifest = json.load(f)
    red = os.path.join(tmp, "ghost.red")
    p = hstest.run([hstest.HEAPSIFT, "redact", dump, red, "--binary", mw])
    c.eq(p.returncode, 0, "redact the ghost dump: %s" % p.stderr)
    extra = []
    for ct in manifest["containers"]:
        if ct["kind"] != "sync.Map":
            extra += ["--container", ct["name"]]
    reps = []
    for d in (dump, red):
        rep = hstest.heapsift_json(["analyze", d, "--binary", mw, "--json", "-"] + extra)
        rep["dump"].pop("path", None)
        rep.pop("timings", None)
        reps.append(rep)
    c.check(len(reps[0]["findings"]) > 0, "the original has findings")
    c.eq(reps[1]["findings"], reps[0]["findings"], "findings of the redacted dump")
    c.eq(reps[1]["summary"], reps[0]["summary"], "summary of the redacted dump")
    c.check(reps[1] == reps[0], "the whole report is unchanged")

# ---- 5: heapsift-dump capture --redact on a live hooked program holding a secret ----
import secrets  # noqa: E402

from test_dumper_lib import Target, dumper  # noqa: E402

live_tok = secrets.token_bytes(32)
target = Target(tmp, ["-secret", live_tok.hex()]).wait_ready()
try:
    plain, redacted = os.path.join(tmp, "live.hsd"), os.path.join(tmp, "live-red.hsd")
    p = dumper(["capture", str(target.pid), "-o", plain], tmp)
    c.eq(p.returncode, 0, "capture: %s" % p.stderr.strip())
    p = dumper(["capture", str(target.pid), "--redact", "-o", redacted], tmp)
    c.eq(p.returncode, 0, "capture --redact: %s" % p.stderr.strip())
    if p.returncode == 0:
        secs = {typ: raw for typ, _name, raw, _ in hstest.read_hsd(plain)}
        rsecs = {typ: raw for typ, _name, raw, _ in hstest.read_hsd(redacted)}
        HEAPDUMP, META, MANIFEST = 4, 1, 5
        c.check(live_tok in secs[HEAPDUMP], "the plain capture holds the secret (the test bites)")
        c.check(live_tok[:8] not in rsecs[HEAPDUMP] and live_tok[8:16] not in rsecs[HEAPDUMP],
                "no 8-byte window of the secret survives capture --redact")
        c.check(not any(live_tok[i:i + 8] in open(redacted, "rb").read() for i in range(25)),
                "nor in the file's stored bytes")
        c.eq(json.loads(rsecs[META]).get("redacted"), True, "META says redacted")
        c.check(MANIFEST not in rsecs, "a redacted capture carries no manifest")
        c.eq(mode(redacted), 0o600, "redacted capture mode")
        # Two captures of a live process differ a little; the program's own objects do not.
        def distinct(f):
            info = hstest.heapsift_json(["info", "--json", f])
            return sum(x["count"] for x in info["object_sizes"] if x["size"] == 27264)
        c.eq(distinct(redacted), distinct(plain), "the redacted capture keeps the objects")
        c.check(hstest.heapsift_json(["analyze", redacted, "--json", "-"])["summary"]["objects"] > 0,
                "the redacted capture analyzes")
finally:
    target.stop()

c.done()
