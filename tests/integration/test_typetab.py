"""DWARF types on this test's Go toolchain: tests/go/dwarfprog prints what reflect and unsafe
say of its own types, globals, functions, closures and a frame; typetab-dump (tests/tools)
prints the typetab godwarf reads from the binary. They must agree both ways: every type the
program describes is in the table with the same kind, size, fields (name, offset, type,
embedded), element, key, length, pointer mask and runtime type address, whose descriptor has
PtrBytes and a GC mask that agree too; every type of the table that has a runtime type
descriptor in the binary has its size, PtrBytes and GC mask; every main.* named type in the
table is one the program describes; the globals are the same set with the same addresses and
types; the frame offsets of two locals differ as their addresses do; closures' captured
variables have their offsets in the closure.
The same table comes out of the binary's DWARF in each form: as the Go linker writes it
(SHF_COMPRESSED), uncompressed (objcopy, and -ldflags=-compressdwarf=false), GNU .zdebug and
objcopy's own SHF_COMPRESSED; it survives typetab_encode/typetab_decode; and a binary without
DWARF (-ldflags=-w, -ldflags=-s, strip) is reported as such (exit status 3)."""
import bisect
import json
import os
import re
import shutil
import struct

import hstest

c = hstest.Checker("test_typetab")
tmp = hstest.tempdir()
TOOL = os.environ.get("HEAPSIFT_TYPETAB_DUMP",
                      os.path.join(hstest.BUILD, "tests", "tools", "typetab-dump"))
PKG = "tests/go/dwarfprog"
KINDS = ["", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
         "uint32", "uint64", "uintptr", "float32", "float64", "complex64", "complex128", "array",
         "chan", "func", "interface", "map", "ptr", "slice", "string", "struct",
         "unsafe.Pointer"]
EFACE, IFACE, MAP, CHAN, STRUCT = 27, 20, 21, 18, 25
V_SLOT = 8
SHF_COMPRESSED = 0x800


def sections(path):
    """{name: sh_flags} of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for name, _typ, flags, _addr, _off, _size in hdrs:
        end = data.index(b"\0", stroff + name)
        out[data[stroff + name:end].decode()] = flags
    return out


class Image:
    """The allocated sections of an ELF64 little-endian file, read by link address."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        shoff, = struct.unpack_from("<Q", self.data, 0x28)
        shentsize, shnum, _ = struct.unpack_from("<HHH", self.data, 0x3a)
        self.secs = []
        for i in range(shnum):
            _n, typ, flags, addr, off, size = struct.unpack_from("<IIQQQQ", self.data,
                                                                 shoff + i * shentsize)
            if flags & 2 and typ != 8:  # SHF_ALLOC, not SHT_NOBITS
                self.secs.append((addr, off, size))

    def read(self, addr, n):
        for a, off, size in self.secs:
            if a <= addr and addr + n <= a + size:
                return self.data[off + addr - a:off + addr - a + n]
        return None


def dump(path, *flags):
    p = hstest.run([TOOL] + list(flags) + [path])
    if p.returncode != 0:
        raise AssertionError("typetab-dump %s %s: exit %d: %s" % (" ".join(flags), path,
                                                                  p.returncode, p.stderr))
    return json.loads(p.stdout)


binary = hstest.go_build(PKG, "dwarfprog", cwd=PKG)
p = hstest.run([binary])
assert p.returncode == 0, p.stderr
truth = json.loads(p.stdout)
minor = int(re.match(r"go1\.(\d+)", truth["go_version"]).group(1))

# --- the forms of the same DWARF ---
table = dump(binary, "--check")
c.eq(table["info"]["go_version"], truth["go_version"].split()[0], "go version from the producer")
c.check(SHF_COMPRESSED & sections(binary).get(".debug_info", 0),
        "the Go linker writes .debug_info with SHF_COMPRESSED")
c.eq(dump(binary, "--roundtrip", "--check"), table, "typetab_encode + typetab_decode")
objcopy = shutil.which("objcopy")
if not objcopy:
    c.skip("no objcopy: the uncompressed and .zdebug forms are not checked")
else:
    forms = [("plain", ["--decompress-debug-sections"], binary, ".debug_info", False),
             ("zlib-gnu", ["--compress-debug-sections=zlib-gnu"], "plain", ".zdebug_info", False),
             ("zlib-gabi", ["--compress-debug-sections=zlib-gabi"], "plain", ".debug_info", True)]
    made = {}
    for name, args, src, sec, compressed in forms:
        out = os.path.join(tmp, "dwarfprog." + name)
        p = hstest.run([objcopy] + args + [made.get(src, src), out])
        if not c.eq(p.returncode, 0, "objcopy %s: %s" % (" ".join(args), p.stderr.strip())):
            continue
        made[name] = out
        secs = sections(out)
        c.check(sec in secs and bool(secs[sec] & SHF_COMPRESSED) == compressed,
                "%s: %s %s SHF_COMPRESSED" % (name, sec, "with" if compressed else "without"))
        c.eq(dump(out, "--check"), table, "the typetab of the %s form" % name)


def shape(t):
    """A table without its addresses (the -ldflags text in .go.buildinfo moves them)."""
    return ([(x["name"], x["kind"], x["size"], x["len"], x.get("mask"), x["elem"], x["key"],
              x["hdr"], x["bucket"], x["fields"]) for x in t["types"]],
            [(g["name"], g["type"]) for g in t["globals"]],
            [(f["name"], f["high"] - f["low"],
              [(v["name"], v["type"], v["flags"], v["cfa_off"], v["closure_off"])
               for v in f["vars"]]) for f in t["funcs"]])


plain = hstest.go_build(PKG, "dwarfprog-nocompress", ldflags="-compressdwarf=false", cwd=PKG)
c.check(not SHF_COMPRESSED & sections(plain).get(".debug_info", SHF_COMPRESSED),
        "-compressdwarf=false leaves .debug_info uncompressed")
c.check(shape(dump(plain, "--check")) == shape(table),
        "the typetab of the -compressdwarf=false build is the same but for addresses")

# --- no DWARF ---
nodwarf = [hstest.go_build(PKG, "dwarfprog-w", ldflags="-w", cwd=PKG),
           hstest.go_build(PKG, "dwarfprog-s", ldflags="-s", cwd=PKG)]
strip = shutil.which("strip")
if strip:
    stripped = os.path.join(tmp, "dwarfprog.stripped")
    c.eq(hstest.run([strip, "-o", stripped, binary]).returncode, 0, "strip")
    nodwarf.append(stripped)
for path in nodwarf:
    p = hstest.run([TOOL, "--summary", path])
    c.eq(p.returncode, 3, "%s: no DWARF is exit status 3 (%s)" % (os.path.basename(path),
                                                                  p.stderr.strip()))

# --- the program's truth, both ways ---
T = table["types"]
by_name = {}
for t in T:
    by_name.setdefault(t["name"], t)


def tname(i):
    return None if i is None else T[i]["name"]


def kind_of(t):
    return EFACE if t["name"] == "interface {}" else KINDS.index(t["kind"])


described = set()
for want in truth["types"]:
    name = want["name"]
    described.add(name)
    got = by_name.get(name)
    if not c.check(got is not None, "type %s is in the table" % name):
        continue
    c.eq(got["kind"], kind_of(want), "%s: kind" % name)
    c.eq(got["size"], want["size"], "%s: size" % name)
    c.eq(got["len"], want["len"], "%s: length" % name)
    c.eq(tname(got["elem"]), want.get("elem"), "%s: element type" % name)
    c.eq(tname(got["key"]), want.get("key"), "%s: key type" % name)
    c.eq(got.get("mask"), want["mask"], "%s: pointer mask" % name)
    c.eq(got["ptr_words"] * 8, want["ptr_bytes"], "%s: pointer words against PtrBytes" % name)
    if want.get("gc_mask"):
        c.eq(got.get("mask"), want["gc_mask"], "%s: pointer mask against the GC mask" % name)
    if not (minor < 20 and name == "unsafe.Pointer"):  # Go 1.19 gives it no runtime type
        c.eq(got["rtype"], want["rtype"], "%s: runtime type address" % name)
    fields = [(f[0], f[1], tname(f[2]), bool(f[3] & 1)) for f in got["fields"]]
    wfields = [(f["name"], f["offset"], f["type"], f["embedded"]) for f in want.get("fields") or []]
    c.eq(fields, wfields, "%s: fields" % name)
    if got["kind"] in (MAP, CHAN):
        hdr = tname(got["hdr"])
        c.check(hdr is not None and "<" in hdr, "%s: runtime header %r" % (name, hdr))
    if got["kind"] == MAP:
        bucket = got["bucket"]
        bname = tname(bucket)
        fnames = [f[0] for f in T[bucket]["fields"]] if bucket is not None else []
        if minor < 24:
            c.check(bname == "bucket<%s,%s>" % (want["key"], T[got["elem"]]["name"]) and
                    fnames[:3] == ["tophash", "keys", "values"] and fnames[-1] == "overflow",
                    "%s: bucket %r with fields %r" % (name, bname, fnames))
        else:
            c.check(bname is not None and bname.startswith("noalg.map.group[") and
                    fnames == ["ctrl", "slots"], "%s: group %r with fields %r" % (name, bname,
                                                                               fnames))
# every main.* named type in the table is one the program describes (the helper types too)
for t in T:
    if re.fullmatch(r"main\.[A-Za-z_]\w*", t["name"]) and t["rtype"]:
        c.check(t["name"] in described, "type %s of the table is described by the program" %
                t["name"])
# runtime type addresses lead back to the type
by_rtype = {}
for t in T:
    if t["rtype"]:
        by_rtype.setdefault(t["rtype"], t["name"])
for want in truth["types"]:
    if not (minor < 20 and want["name"] == "unsafe.Pointer"):
        c.eq(by_rtype.get(want["rtype"]), want["name"],
             "type at runtime address 0x%x" % want["rtype"])

# every type with a runtime type descriptor agrees with it: size, PtrBytes and, when the
# descriptor holds a plain mask (not a Go 1.19 GC program, not built on demand in 1.24+), the
# GC mask (internal/abi.Type: Size_, PtrBytes, Hash, TFlag, Align_, FieldAlign_, Kind_,
# Equal, GCData)
img = Image(binary)
checked = masks = 0
for t in T:
    b = img.read(t["rtype"], 40) if t["rtype"] else None
    if b is None:
        continue
    size, ptrbytes, _hash, tflag, _al, _fal, kind, _eq, gcdata = struct.unpack_from("<QQIBBBBQQ", b)
    checked += 1
    c.check(size == t["size"] and ptrbytes == 8 * t["ptr_words"],
            "%s: size %d and PtrBytes %d of its descriptor, typetab %d and %d words" %
            (t["name"], size, ptrbytes, t["size"], t["ptr_words"]))
    if ptrbytes and not kind & 0x40 and not tflag & 0x10 and "mask" in t:
        m = img.read(gcdata, (ptrbytes // 8 + 7) // 8)
        if m is not None:
            masks += 1
            gc = "".join("1" if m[i // 8] >> (i % 8) & 1 else "0" for i in range(ptrbytes // 8))
            c.eq(t["mask"], gc, "%s: pointer mask against its descriptor's GC mask" % t["name"])
c.check(checked > 500 and masks > 300, "%d descriptors checked, %d GC masks" % (checked, masks))
# a map's bucket (Go 1.19) or group (1.24+) agrees with the one its descriptor names (the word
# after Key and Elem: maptype.bucket, abi.MapType.Group), which for bucket<K,V> has no
# descriptor of its own
for t in T:
    b = img.read(t["rtype"] + 64, 8) if t["kind"] == MAP and t["rtype"] else None
    if b is None or t["bucket"] is None:
        continue
    bt = T[t["bucket"]]
    d = img.read(struct.unpack("<Q", b)[0], 40)
    size, ptrbytes, _hash, tflag, _al, _fal, kind, _eq, gcdata = struct.unpack_from("<QQIBBBBQQ", d)
    c.check(size == bt["size"] and ptrbytes == 8 * bt["ptr_words"],
            "%s: bucket %s: size %d and PtrBytes %d of its descriptor, typetab %d and %d words" %
            (t["name"], bt["name"], size, ptrbytes, bt["size"], bt["ptr_words"]))
    if ptrbytes and not kind & 0x40 and not tflag & 0x10 and "mask" in bt:
        m = img.read(gcdata, (ptrbytes // 8 + 7) // 8)
        gc = "".join("1" if m[i // 8] >> (i % 8) & 1 else "0" for i in range(ptrbytes // 8))
        c.eq(bt["mask"], gc, "%s: bucket %s: pointer mask against the GC mask" %
             (t["name"], bt["name"]))

# globals, both ways
G = {g["name"]: g for g in table["globals"] if g["name"].startswith("main.")}
W = {g["name"]: g for g in truth["globals"]}
c.eq(sorted(set(G) - {"main.gStr"} - set(W)), [], "main globals of the table the program names")
for name, want in W.items():
    got = G.get(name)
    if c.check(got is not None, "global %s is in the table" % name):
        c.eq((got["addr"], tname(got["type"])), (want["addr"], want["type"]), "global %s" % name)

# functions by pc
F = table["funcs"]
lows = [f["low"] for f in F]
for name, pc in truth["funcs"].items():
    i = bisect.bisect_right(lows, pc) - 1
    got = F[i]["name"] if i >= 0 and pc < F[i]["high"] else None
    c.eq(got, name, "function at 0x%x" % pc)
fn = {f["name"]: f for f in F}


def slot(func, var):
    for v in fn.get(func, {"vars": []})["vars"]:
        if v["name"] == var and v["flags"] & V_SLOT:
            return v
    return None


# a frame: two address-taken locals lie as far apart as DWARF says
local, other = slot("main.frameAddrs", "local"), slot("main.frameAddrs", "other")
if c.check(local and other, "main.frameAddrs: stack slots of local and other"):
    c.eq(other["cfa_off"] - local["cfa_off"], truth["frame"]["other"] - truth["frame"]["local"],
         "main.frameAddrs: frame offsets against addresses")
    c.eq(tname(local["type"]), "[4]*main.Inner", "main.frameAddrs: type of local")
# register parameters: spilled ones have a stack slot at CFA + 0 and + 8 for part of the code
base, s = slot("main.makeClosures", "base"), slot("main.makeClosures", "s")
c.check(base and s and base["cfa_off"] == 0 and s["cfa_off"] == 8 and
        base["lo"] > fn["main.makeClosures"]["low"],
        "main.makeClosures: spill slots of base and s: %r %r" % (base, s))

# closures: captured variables by their offset in the closure (DWARF's from Go 1.23; before,
# from the closure struct's descriptor in the binary, for a function whose DWARF names every
# field of one), and the closure struct type (absent from Go 1.27's DWARF)
captured = {(f, v["name"]): (v["closure_off"], tname(v["type"])) for f in
            ("main.makeClosures.func1", "main.makeClosures.func2")
            for v in fn.get(f, {"vars": []})["vars"] if v["closure_off"]}
if minor >= 26:
    c.eq(captured, {("main.makeClosures.func1", "&counter"): (8, "*int"),
                    ("main.makeClosures.func1", "s"): (16, "*main.Session"),
                    ("main.makeClosures.func2", "&counter"): (16, "*int")},
         "closure offsets of captured variables")
else:
    truth = {("main.makeClosures.func1", "&counter"): (8, "*int"),
             ("main.makeClosures.func1", "s"): (16, "*main.Session"),
             ("main.makeClosures.func2", "base"): (8, "int"),
             ("main.makeClosures.func2", "&counter"): (16, "*int")}
    c.eq({k: v for k, v in captured.items() if k[0].endswith("func1")},
         {k: v for k, v in truth.items() if k[0].endswith("func1")},
         "closure offsets of func1's captured variables, from its closure struct's descriptor")
    c.eq({k: v for k, v in captured.items() if v != truth.get(k)}, {},
         "closure offsets from the descriptors that are not the closures' own")
closure = ("noalg.struct { F uintptr; main.counter *int; main.s *main.Session }" if minor < 20
           else "noalg.struct { F uintptr; X0 *int; X1 *main.Session }")
got = by_name.get(closure)
if minor < 27:
    if c.check(got is not None, "closure struct %s" % closure):
        c.eq([(f[1], tname(f[2])) for f in got["fields"]],
             [(0, "uintptr"), (8, "*int"), (16, "*main.Session")], "closure struct fields")
else:
    c.eq(got, None, "Go 1.27 writes no closure struct types")
c.done()
