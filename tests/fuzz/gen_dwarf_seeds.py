#!/usr/bin/env python3
"""Writes little ELF files with Go-like DWARF (the DIE shapes of Go's linker,
cmd/link/internal/ld/dwarf.go) as seeds for fuzz_godwarf, which tests/unit/test_godwarf.c also
reads, checking what godwarf makes of them. Two styles, as the Go versions write them: Go
1.19's (DWARF 4, .debug_loc lists, hash<K,V>/bucket<K,V> map internals) and Go 1.26's (DWARF 5,
.debug_loclists lists with DW_LLE_base_addressx and DW_LLE_offset_pair, .debug_addr,
map<K,V>/table<K,V>/groupReference<K,V>/group); each in three forms: uncompressed, GNU
.zdebug_* and SHF_COMPRESSED; plus one without DWARF.
Reuses the ELF writer of tests/broken/elfimg/make_broken.py.

Run: python3 tests/fuzz/gen_dwarf_seeds.py   (deterministic; writes tests/fuzz/corpus/fuzz_godwarf/)
"""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "broken", "elfimg"))
import make_broken as mb  # noqa: E402

OUT = os.path.join(HERE, "corpus", "fuzz_godwarf")
SHF_COMPRESSED = 0x800
STT_OBJECT, STB_GLOBAL = 1, 1
TYPES_BASE = 0x480000

# tags, attributes, forms (DWARF 4), Go's attributes
TAG = dict(compile_unit=0x11, base_type=0x24, pointer_type=0x0f, structure_type=0x13,
           member=0x0d, array_type=0x01, subrange_type=0x21, typedef=0x16,
           subroutine_type=0x15, variable=0x34, subprogram=0x2e, formal_parameter=0x05,
           inlined_subroutine=0x1d, lexical_block=0x0b, unspecified_type=0x3b)
NAME, LANG, PRODUCER, SIZE, ENC, TYPE, MLOC, COUNT, LOC, EXT = (0x03, 0x13, 0x25, 0x0b, 0x3e,
                                                               0x49, 0x38, 0x37, 0x02, 0x3f)
LOW, HIGH, FBASE, VPARAM, ORIGIN, INLINE = 0x11, 0x12, 0x40, 0x4b, 0x31, 0x20
KIND, KEY, ELEM, EMB, RT, CLOSURE = 0x2900, 0x2901, 0x2902, 0x2903, 0x2904, 0x2907
ADDR, BLOCK1, DATA1, STRING, FLAG, UDATA, REF_ADDR, SEC_OFFSET = (0x01, 0x0a, 0x0b, 0x08, 0x0c,
                                                                  0x0f, 0x10, 0x17)
OP_ADDR, OP_CFA, OP_FBREG, OP_PIECE, OP_REG0 = 0x03, 0x9c, 0x91, 0x93, 0x50

ADDR_BASE = 0x73
DW_LLE_end_of_list, DW_LLE_base_addressx, DW_LLE_offset_pair = 0, 1, 4
ABBREVS = {  # name: (tag, children, [(attr, form)])
    "cu": ("compile_unit", 1, [(NAME, STRING), (LANG, DATA1), (PRODUCER, STRING)]),
    "cu5": ("compile_unit", 1, [(NAME, STRING), (LANG, DATA1), (PRODUCER, STRING),
                                (ADDR_BASE, SEC_OFFSET)]),
    "base": ("base_type", 0, [(NAME, STRING), (ENC, DATA1), (SIZE, DATA1), (KIND, DATA1),
                              (RT, ADDR)]),
    "ptr": ("pointer_type", 0, [(NAME, STRING), (TYPE, REF_ADDR), (KIND, DATA1), (RT, ADDR)]),
    "bareptr": ("pointer_type", 0, [(NAME, STRING), (RT, ADDR)]),
    "struct": ("structure_type", 1, [(NAME, STRING), (SIZE, UDATA), (KIND, DATA1), (RT, ADDR)]),
    "member": ("member", 0, [(NAME, STRING), (MLOC, UDATA), (TYPE, REF_ADDR), (EMB, FLAG)]),
    "array": ("array_type", 1, [(NAME, STRING), (TYPE, REF_ADDR), (SIZE, UDATA), (KIND, DATA1),
                                (RT, ADDR)]),
    "subrange": ("subrange_type", 0, [(TYPE, REF_ADDR), (COUNT, UDATA)]),
    "typedecl": ("typedef", 0, [(NAME, STRING), (TYPE, REF_ADDR)]),
    "chantype": ("typedef", 0, [(NAME, STRING), (TYPE, REF_ADDR), (KIND, DATA1), (RT, ADDR),
                                (ELEM, REF_ADDR)]),
    "maptype": ("typedef", 0, [(NAME, STRING), (TYPE, REF_ADDR), (KIND, DATA1), (RT, ADDR),
                               (KEY, REF_ADDR), (ELEM, REF_ADDR)]),
    "iface": ("typedef", 1, [(NAME, STRING), (TYPE, REF_ADDR), (KIND, DATA1), (RT, ADDR)]),
    "slice": ("structure_type", 1, [(NAME, STRING), (SIZE, UDATA), (KIND, DATA1), (RT, ADDR),
                                    (ELEM, REF_ADDR)]),
    "functype": ("subroutine_type", 1, [(NAME, STRING), (SIZE, UDATA), (KIND, DATA1),
                                        (RT, ADDR)]),
    "unspec": ("unspecified_type", 0, [(NAME, STRING)]),
    "global": ("variable", 0, [(NAME, STRING), (LOC, BLOCK1), (TYPE, REF_ADDR), (EXT, FLAG)]),
    "func": ("subprogram", 1, [(NAME, STRING), (LOW, ADDR), (HIGH, ADDR), (FBASE, BLOCK1),
                               (EXT, FLAG)]),
    "absfunc": ("subprogram", 1, [(NAME, STRING), (INLINE, DATA1), (EXT, FLAG)]),
    "absparam": ("formal_parameter", 0, [(NAME, STRING), (VPARAM, FLAG), (TYPE, REF_ADDR)]),
    "param_list": ("formal_parameter", 0, [(NAME, STRING), (VPARAM, FLAG), (TYPE, REF_ADDR),
                                           (LOC, SEC_OFFSET)]),
    "param_expr": ("formal_parameter", 0, [(NAME, STRING), (VPARAM, FLAG), (TYPE, REF_ADDR),
                                           (LOC, BLOCK1)]),
    "var_expr": ("variable", 0, [(NAME, STRING), (TYPE, REF_ADDR), (LOC, BLOCK1)]),
    "var_closure": ("variable", 0, [(NAME, STRING), (TYPE, REF_ADDR), (CLOSURE, UDATA),
                                    (LOC, SEC_OFFSET)]),
    "inlined": ("inlined_subroutine", 1, [(ORIGIN, REF_ADDR), (LOW, ADDR), (HIGH, ADDR)]),
    "inlparam": ("formal_parameter", 0, [(ORIGIN, REF_ADDR), (LOC, SEC_OFFSET)]),
    "block": ("lexical_block", 1, [(LOW, ADDR), (HIGH, ADDR)]),
}
CODES = {name: i + 1 for i, name in enumerate(ABBREVS)}


def uleb(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def sleb(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        done = (v == 0 and not b & 0x40) or (v == -1 and b & 0x40)
        out.append(b | (0 if done else 0x80))
        if done:
            return bytes(out)


def abbrev_section():
    out = b""
    for name, (tag, children, attrs) in ABBREVS.items():
        out += uleb(CODES[name]) + uleb(TAG[tag]) + bytes([children])
        for a, f in attrs:
            out += uleb(a) + uleb(f)
        out += b"\0\0"
    return out + b"\0"


class Die:
    def __init__(self, abbrev, values, key=None, children=None):
        self.abbrev, self.values, self.key = abbrev, values, key
        self.children = children if children is not None else ([] if ABBREVS[abbrev][1] else None)


def encode_value(form, v, refs):
    if form == STRING:
        return v.encode() + b"\0"
    if form == DATA1:
        return bytes([v])
    if form == FLAG:
        return bytes([1 if v else 0])
    if form == UDATA:
        return uleb(v)
    if form == ADDR:
        return struct.pack("<Q", v)
    if form in (REF_ADDR, SEC_OFFSET):
        return struct.pack("<I", refs.get(v, 0) if isinstance(v, str) else v)
    if form == BLOCK1:
        return bytes([len(v)]) + v
    raise ValueError(form)


def emit(die, refs, offsets, base, out):
    offsets[die.key or id(die)] = base + len(out)
    out += uleb(CODES[die.abbrev])
    for (_a, form), v in zip(ABBREVS[die.abbrev][2], die.values):
        out += encode_value(form, v, refs)
    if die.children is not None:
        for c in die.children:
            emit(c, refs, offsets, base, out)
        out += b"\0"


def info_section(units, version):
    """units: list of CU Dies. Two passes: references are 4 bytes, so offsets do not depend
    on their values. The unit header: length, version, then abbrev offset and address size
    (DWARF 4) or unit type, address size and abbrev offset (DWARF 5)."""
    refs = {}
    hdr = 11 if version == 4 else 12
    for _ in range(2):
        out, offsets = bytearray(), {}
        for cu in units:
            body = bytearray()
            emit(cu, refs, offsets, len(out) + hdr, body)
            if version == 4:
                out += struct.pack("<IHIB", 7 + len(body), 4, 0, 8) + body
            else:
                out += struct.pack("<IHBBI", 8 + len(body), 5, 1, 8, 0) + body
        refs = {k: v for k, v in offsets.items() if isinstance(k, str)}
    return bytes(out)


# .debug_addr (DWARF 5): a header (length, version 5, address size 8, no segments), then the
# addresses the units' lists name by index (DW_AT_addr_base points past the header)
ADDRS = [0x401000, 0x401080]
ADDR_SECTION = struct.pack("<IHBB", 4 + 8 * len(ADDRS), 5, 8, 0) + \
    b"".join(struct.pack("<Q", a) for a in ADDRS)
LOCLISTS_HEADER = 12  # length, version 5, address size 8, no segments, no offset entries


def loclist(entries, version):
    """(start, end, expr) with absolute addresses. DWARF 4: pairs of addresses (the units have
    no base address); DWARF 5: a base by index into .debug_addr, then offset pairs, as Go
    writes them (cmd/compile/internal/ssa/debug.go)."""
    out = b""
    if version == 4:
        for start, end, expr in entries:
            out += struct.pack("<QQH", start, end, len(expr)) + expr
        return out + struct.pack("<QQ", 0, 0)
    base = max(a for a in ADDRS if a <= entries[0][0])
    out = bytes([DW_LLE_base_addressx]) + uleb(ADDRS.index(base))
    for start, end, expr in entries:
        out += bytes([DW_LLE_offset_pair]) + uleb(start - base) + uleb(end - base) + \
            uleb(len(expr)) + expr
    return out + bytes([DW_LLE_end_of_list])


def types_unit(style, descs, rts):
    """The types unit (Go puts its types into the runtime unit), in the linker's shapes.
    descs receives the pointer types' descriptors for .rodata: {offset: (size, ptrbytes)};
    rts the runtime type offsets of the basic and pointer types, by name."""
    T = []
    rt = [0x100]

    def nextrt():
        rt[0] += 0x40
        return rt[0]

    def base(name, enc, size, kind):
        rts[name] = nextrt()
        T.append(Die("base", [name, enc, size, kind, rts[name]], key=name))

    def ptr(name, to, kind=22, runtime=True, internal=False, ptrbytes=8):
        off = nextrt() if runtime and not internal else 0
        if off:
            descs[off] = (8, ptrbytes)
            rts[name] = off
        T.append(Die("ptr", [name, to, 0 if internal else kind, off], key=name))

    def struct_(name, size, fields, kind=25, runtime=True, typedef=True):
        members = [Die("member", [f, off, ty, emb]) for f, off, ty, emb in fields]
        key = name + "#def" if typedef else name
        T.append(Die("struct", [name, size, kind, nextrt() if runtime else 0], key=key,
                     children=members))
        if typedef:
            T.append(Die("typedecl", [name, key], key=name))

    def array(name, elem, size, count, runtime=True):
        T.append(Die("array", [name, elem, size, 17, nextrt() if runtime else 0], key=name,
                     children=[Die("subrange", ["uintptr", count])]))

    T.append(Die("unspec", ["<unspecified>"], key="<unspecified>"))
    T.append(Die("bareptr", ["unsafe.Pointer", nextrt()], key="unsafe.Pointer"))
    base("uintptr", 0x08, 8, 12)
    base("int", 0x05, 8, 2)
    base("int32", 0x05, 4, 5)
    base("uint", 0x08, 8, 7)
    base("uint8", 0x08, 1, 8)
    base("uint64", 0x08, 8, 11)
    base("bool", 0x02, 1, 1)
    ptr("*uint8", "uint8")
    T.append(Die("struct", ["string", 16, 24, nextrt()], key="string", children=[
        Die("member", ["str", 0, "*uint8", 0]), Die("member", ["len", 8, "int", 0])]))
    T.append(Die("slice", ["[]string", 24, 23, nextrt(), "string"], key="[]string", children=[
        Die("member", ["array", 0, "*string", 0]), Die("member", ["len", 8, "int", 0]),
        Die("member", ["cap", 16, "int", 0])]))
    ptr("*string", "string", internal=True)
    struct_("main.Inner", 24, [("A", 0, "int32", 0), ("B", 8, "string", 0)])
    ptr("*main.Inner", "main.Inner")
    array("[3]*main.Inner", "*main.Inner", 24, 3)
    struct_("main.Session", 112, [
        ("Inner", 0, "main.Inner", 1), ("ID", 24, "int", 0), ("Tags", 32, "[]string", 0),
        ("Attrs", 56, "map[string]*main.Session", 0), ("Ch", 64, "chan int", 0),
        ("Any", 72, "interface {}", 0), ("P", 88, "unsafe.Pointer", 0),
        ("Err", 96, "error", 0)])
    ptr("*main.Session", "main.Session")
    struct_("runtime.eface", 16, [("_type", 0, "*uint8", 0), ("data", 8, "unsafe.Pointer", 0)],
            runtime=False)
    struct_("runtime.iface", 16, [("tab", 0, "*uint8", 0), ("data", 8, "unsafe.Pointer", 0)],
            runtime=False)
    T.append(Die("iface", ["interface {}", "runtime.eface", 20, nextrt()], key="interface {}",
                 children=[]))
    T.append(Die("iface", ["error", "runtime.iface", 20, nextrt()], key="error", children=[]))
    T.append(Die("functype", ["func(int) int", 8, 19, nextrt()], key="func(int) int#def",
                 children=[]))
    T.append(Die("typedecl", ["func(int) int", "func(int) int#def"], key="func(int) int"))
    # chan int -> *hchan<int> -> hchan<int> (made up by the linker: kind 0, no runtime type)
    T.append(Die("chantype", ["chan int", "*hchan<int>", 18, nextrt(), "int"], key="chan int"))
    ptr("*hchan<int>", "hchan<int>", internal=True)
    struct_("hchan<int>", 24, [("qcount", 0, "uint", 0), ("buf", 8, "unsafe.Pointer", 0),
                               ("elemsize", 16, "uint", 0)], kind=0, runtime=False,
            typedef=False)
    T.append(Die("maptype", ["map[string]*main.Session", "*" + hdr_name(style), 21, nextrt(),
                             "string", "*main.Session"], key="map[string]*main.Session"))
    if style == "go119":
        ptr("*hash<string,*main.Session>", "hash<string,*main.Session>", internal=True)
        struct_("hash<string,*main.Session>", 48, [
            ("count", 0, "int", 0), ("B", 9, "uint8", 0),
            ("buckets", 16, "*bucket<string,*main.Session>", 0),
            ("oldbuckets", 24, "*bucket<string,*main.Session>", 0)], kind=0, runtime=False,
            typedef=False)
        ptr("*bucket<string,*main.Session>", "bucket<string,*main.Session>", internal=True)
        array("[8]uint8", "uint8", 8, 8)
        array("[]key<string>", "string", 128, 8, runtime=False)
        array("[]val<*main.Session>", "*main.Session", 64, 8, runtime=False)
        struct_("bucket<string,*main.Session>", 208, [
            ("tophash", 0, "[8]uint8", 0), ("keys", 8, "[]key<string>", 0),
            ("values", 136, "[]val<*main.Session>", 0),
            ("overflow", 200, "*bucket<string,*main.Session>", 0)], kind=0, runtime=False,
            typedef=False)
        # a map whose bucket holds no pointers: the overflow word is a uintptr
        T.append(Die("maptype", ["map[int]int", "*hash<int,int>", 21, nextrt(), "int", "int"],
                     key="map[int]int"))
        ptr("*hash<int,int>", "hash<int,int>", internal=True)
        struct_("hash<int,int>", 48, [("count", 0, "int", 0),
                                      ("buckets", 16, "*bucket<int,int>", 0)],
                kind=0, runtime=False, typedef=False)
        ptr("*bucket<int,int>", "bucket<int,int>", internal=True)
        array("[]key<int>", "int", 64, 8, runtime=False)
        array("[]val<int>", "int", 64, 8, runtime=False)
        struct_("bucket<int,int>", 144, [
            ("tophash", 0, "[8]uint8", 0), ("keys", 8, "[]key<int>", 0),
            ("values", 72, "[]val<int>", 0), ("overflow", 136, "*bucket<int,int>", 0)],
            kind=0, runtime=False, typedef=False)
    else:
        K = "<string,*main.Session>"
        ptr("*map" + K, "map" + K, internal=True)
        struct_("map" + K, 48, [("used", 0, "uint64", 0), ("seed", 8, "uintptr", 0),
                                ("dirPtr", 16, "**table" + K, 0), ("dirLen", 24, "int", 0)],
                runtime=False, typedef=False)
        ptr("**table" + K, "*table" + K, internal=True)
        ptr("*table" + K, "table" + K, internal=True)
        struct_("table" + K, 32, [("used", 0, "uint64", 0), ("index", 8, "int", 0),
                                  ("groups", 16, "groupReference" + K, 0)],
                runtime=False, typedef=False)
        struct_("groupReference" + K, 16, [
            ("data", 0, "*noalg.map.group[string]*main.Session", 0),
            ("lengthMask", 8, "uint64", 0)], runtime=False, typedef=False)
        ptr("*noalg.map.group[string]*main.Session", "noalg.map.group[string]*main.Session",
            runtime=False)
        struct_("noalg.struct { key string; elem *main.Session }", 24, [
            ("key", 0, "string", 0), ("elem", 16, "*main.Session", 0)], typedef=False)
        array("noalg.[8]struct { key string; elem *main.Session }",
              "noalg.struct { key string; elem *main.Session }", 192, 8)
        struct_("noalg.map.group[string]*main.Session", 200, [
            ("ctrl", 0, "uint64", 0),
            ("slots", 8, "noalg.[8]struct { key string; elem *main.Session }", 0)])
    # a type never in the heap, and a pointer to it that is no GC pointer: Go 1.20+ marks it
    # with sys.NotInHeap, Go 1.19's pragma shows only in the pointer's descriptor
    if style == "go119":
        struct_("runtime.mspan", 16, [("next", 0, "*runtime.mspan", 0),
                                      ("npages", 8, "uintptr", 0)])
        ptr("*runtime.mspan", "runtime.mspan", ptrbytes=0)
    else:
        struct_("internal/runtime/sys.NotInHeap", 0, [])
        struct_("runtime.mspan", 16, [("_", 0, "internal/runtime/sys.NotInHeap", 0),
                                      ("next", 0, "*runtime.mspan", 0),
                                      ("npages", 8, "uintptr", 0)])
        ptr("*runtime.mspan", "runtime.mspan")
    ptr("*int", "int")
    return Die(*cu_die("runtime", style), children=T)


def dwarf_version(style):
    return 4 if style == "go119" else 5


def cu_die(name, style):
    vals = [name, 22, "Go cmd/compile %s; regabi" % producer(style)]
    if dwarf_version(style) == 4:
        return "cu", vals
    return "cu5", vals + [8]


def hdr_name(style):
    return "hash<string,*main.Session>" if style == "go119" else "map<string,*main.Session>"


def producer(style):
    return "go1.19.8" if style == "go119" else "go1.26.8"


def main_unit(style):
    """Globals, an abstract function, and two functions whose variables live in stack slots,
    registers, both, pieces, lexical blocks, inlined calls and a closure."""
    cfa = bytes([OP_CFA])

    def fbreg(n):
        return bytes([OP_FBREG]) + sleb(n)

    piece8 = bytes([OP_PIECE, 8])
    version = dwarf_version(style)
    loc = []  # .debug_loc or .debug_loclists lists, by offset

    def lst(entries):
        off = sum(len(x) for x in loc) + (0 if version == 4 else LOCLISTS_HEADER)
        loc.append(loclist(entries, version))
        return off

    n_loc = lst([(0x401000, 0x401010, bytes([OP_REG0])), (0x401010, 0x401080, cfa)])
    s_loc = lst([(0x401000, 0x401014, bytes([OP_REG0 + 3])), (0x401014, 0x401040, fbreg(8)),
                 (0x401040, 0x401080, fbreg(8))])
    h_loc = lst([(0x401030, 0x401038, fbreg(-64))])
    x_loc = lst([(0x401080, 0x401090, bytes([OP_REG0 + 1]))])
    D = [
        Die("global", ["main.gSession", bytes([OP_ADDR]) + struct.pack("<Q", 0x5000),
                       "*main.Session", 1]),
        Die("global", ["main.gMap", bytes([OP_ADDR]) + struct.pack("<Q", 0x5008),
                       "map[string]*main.Session", 1]),
        Die("global", ["main.gArr", bytes([OP_ADDR]) + struct.pack("<Q", 0x5010),
                       "[3]*main.Inner", 1]),
        Die("global", ["main.gSpan", bytes([OP_ADDR]) + struct.pack("<Q", 0x5028),
                       "*runtime.mspan", 1]),
        Die("absfunc", ["main.helper", 1, 1], key="main.helper",
            children=[Die("absparam", ["h", 0, "int"], key="main.helper.h")]),
        Die("func", ["main.work", 0x401000, 0x401080, cfa, 1], children=[
            Die("param_list", ["n", 0, "int", n_loc]),
            Die("param_list", ["s", 0, "*main.Session", s_loc]),
            Die("param_expr", ["~r0", 1, "int", b""]),
            Die("var_expr", ["local", "*main.Session", fbreg(-24)]),
            Die("var_expr", ["str", "string", fbreg(-40) + piece8 + fbreg(-32) + piece8]),
            Die("var_expr", ["mixed", "string", bytes([OP_REG0]) + piece8 + fbreg(-48) + piece8]),
            Die("block", [0x401020, 0x401040], children=[
                Die("var_expr", ["i", "int", fbreg(-56)])]),
            Die("inlined", ["main.helper", 0x401030, 0x401038], children=[
                Die("inlparam", ["main.helper.h", h_loc])]),
        ]),
        Die("func", ["main.work.func1", 0x401080, 0x4010a0, cfa, 1], children=[
            Die("var_closure", ["&x", "*int", 8, x_loc])]),
        # Go 1.19 names captured variables without their places: those of func2 are the
        # fields of the closure struct in .rodata (CLOSURE_STRUCT), in registers only;
        # func3's y has another type than the field, so it gets no context
        Die("func", ["main.work.func2", 0x4010a0, 0x4010c0, cfa, 1], children=[
            Die("var_expr", ["s", "*main.Session", bytes([OP_REG0 + 1])]),
            Die("var_expr", ["&y", "*int", bytes([OP_REG0])])]),
        Die("func", ["main.work.func3", 0x4010c0, 0x4010e0, cfa, 1], children=[
            Die("var_expr", ["y", "int", bytes([OP_REG0])]),
            Die("var_expr", ["s", "*main.Session", bytes([OP_REG0 + 1])])]),
    ]
    lists = b"".join(loc)
    if version == 5:
        lists = struct.pack("<IHBBI", 8 + len(lists), 5, 8, 0, 0) + lists
    return Die(*cu_die("main", style), children=D), lists


# The type area's size, and a closure's struct descriptor in it, found by its name only:
# "struct { F uintptr; y *int; s *main.Session }" (its fields at +0x80, names from +0x100).
TYPES_LEN = 0xc00
CLOSURE_STRUCT = 0xa00


def closure_struct(rodata, rts):
    def name(off, text):
        rodata[off:off + 2 + len(text)] = bytes([1, len(text)]) + text.encode()
    d, fields = CLOSURE_STRUCT, CLOSURE_STRUCT + 0x80
    name(d + 0x100, "*struct { F uintptr; y *int; s *main.Session }")
    # Size_, PtrBytes, Hash, TFlag (extra star), Align_, FieldAlign_, Kind_ (struct)
    rodata[d:d + 24] = struct.pack("<QQIBBBB", 24, 24, 0, 2, 8, 8, 25)
    rodata[d + 40:d + 44] = struct.pack("<i", 0x100 + d)
    rodata[d + 56:d + 80] = struct.pack("<QQQ", TYPES_BASE + fields, 3, 3)
    for i, (fname, ftype) in enumerate(((".F", "uintptr"), ("y", "*int"),
                                        ("s", "*main.Session"))):
        at = d + 0x140 + 0x10 * i
        name(at, fname)
        rodata[fields + 24 * i:fields + 24 * i + 24] = struct.pack(
            "<QQQ", TYPES_BASE + at, TYPES_BASE + rts[ftype], 8 * i)


def image(style, form):
    main_cu, loc = main_unit(style)
    descs, rts = {}, {}
    types = types_unit(style, descs, rts)
    version = dwarf_version(style)
    debug = [(".debug_abbrev", abbrev_section()),
             (".debug_info", info_section([main_cu, types], version))]
    debug += [(".debug_loc", loc)] if version == 4 else [(".debug_loclists", loc),
                                                         (".debug_addr", ADDR_SECTION)]
    rodata = bytearray(TYPES_LEN)
    for off, (size, ptrbytes) in descs.items():  # Size_, PtrBytes, Hash, TFlag..Kind_
        rodata[off:off + 24] = struct.pack("<QQIBBBB", size, ptrbytes, 0, 0, 8, 8, 22)
    closure_struct(rodata, rts)
    secs = [{"name": ".text", "type": mb.SHT_PROGBITS, "flags": mb.SHF_ALLOC | mb.SHF_EXEC,
             "addr": 0x401000, "data": b"\xc3" * 0x100},
            {"name": ".rodata", "type": mb.SHT_PROGBITS, "flags": mb.SHF_ALLOC,
             "addr": TYPES_BASE, "data": bytes(rodata)}]
    for name, data in debug if form != "nodwarf" else []:
        flags = 0
        if form == "zdebug":
            name = ".zdebug_" + name[7:]
            data = b"ZLIB" + struct.pack(">Q", len(data)) + zlib.compress(data, 9)
        elif form == "gabi":
            flags = SHF_COMPRESSED
            data = struct.pack("<IIQQ", 1, 0, len(data), 1) + zlib.compress(data, 9)
        secs.append({"name": name, "type": mb.SHT_PROGBITS, "flags": flags, "data": data})
    strtab = b"\0runtime.types\0runtime.etypes\0"
    symtab = struct.pack("<IBBHQQ", 0, 0, 0, 0, 0, 0)
    symtab += struct.pack("<IBBHQQ", 1, (STB_GLOBAL << 4) | STT_OBJECT, 0, 2, TYPES_BASE, 0)
    symtab += struct.pack("<IBBHQQ", 15, (STB_GLOBAL << 4) | STT_OBJECT, 0, 2,
                          TYPES_BASE + TYPES_LEN, 0)
    n = len(secs)
    secs.append({"name": ".strtab", "type": mb.SHT_STRTAB, "data": strtab})
    secs.append({"name": ".symtab", "type": mb.SHT_SYMTAB, "link": n + 1, "entsize": 24,
                 "data": symtab})
    return mb.elf64(secs)


def main():
    os.makedirs(OUT, exist_ok=True)
    for style in ("go119", "go126"):
        for form in ("plain", "zdebug", "gabi"):
            with open(os.path.join(OUT, "seed-%s-%s.elf" % (style, form)), "wb") as f:
                f.write(image(style, form))
    with open(os.path.join(OUT, "seed-nodwarf.elf"), "wb") as f:
        f.write(image("go126", "nodwarf"))


if __name__ == "__main__":
    main()
