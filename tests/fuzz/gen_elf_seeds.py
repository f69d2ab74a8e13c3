#!/usr/bin/env python3
"""Writes well-formed little Go-like ELF files as seeds for fuzz_elfimg (the broken ones in
tests/broken/elfimg are seeds too). Reuses the ELF writer of tests/broken/elfimg/make_broken.py.

Run: python3 tests/fuzz/gen_elf_seeds.py   (deterministic; writes tests/fuzz/corpus/fuzz_elfimg/)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "broken", "elfimg"))
import make_broken as mb  # noqa: E402

STT_OBJECT, STT_FUNC, STB_GLOBAL = 1, 2, 1
OUT = os.path.join(HERE, "corpus", "fuzz_elfimg")


def sym(name_off, typ, shndx, value, size):
    return struct.pack("<IBBHQQ", name_off, (STB_GLOBAL << 4) | typ, 0, shndx, value, size)


def buildinfo_inline(version):
    hdr = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16
    return hdr + bytes([len(version)]) + version.encode() + b"\0" * 8


def buildid_note(bid):
    desc = bid.encode()
    pad = b"\0" * ((-len(desc)) % 4)
    return struct.pack("<III", 3, len(desc), 4) + b"Go\0\0" + desc + pad


def sections_common():
    text = {"name": ".text", "type": mb.SHT_PROGBITS, "flags": mb.SHF_ALLOC | mb.SHF_EXEC,
            "addr": 0x401000, "data": b"\xc3" * 256}
    rodata = {"name": ".rodata", "type": mb.SHT_PROGBITS, "flags": mb.SHF_ALLOC,
              "addr": 0x480000, "data": bytes(range(256)) * 2}
    noptrdata = {"name": ".noptrdata", "type": mb.SHT_PROGBITS,
                 "flags": mb.SHF_ALLOC | mb.SHF_WRITE, "addr": 0x560000, "data": b"\1" * 64}
    data = {"name": ".data", "type": mb.SHT_PROGBITS, "flags": mb.SHF_ALLOC | mb.SHF_WRITE,
            "addr": 0x561000, "data": struct.pack("<4Q", 0x480010, 0x561008, 0, 0x401040)}
    bss = {"name": ".bss", "type": mb.SHT_NOBITS, "flags": mb.SHF_ALLOC | mb.SHF_WRITE,
           "addr": 0x562000, "size": 0x1000}
    noptrbss = {"name": ".noptrbss", "type": mb.SHT_NOBITS, "flags": mb.SHF_ALLOC | mb.SHF_WRITE,
                "addr": 0x563000, "size": 0x100}
    binfo = {"name": ".go.buildinfo", "type": mb.SHT_PROGBITS,
             "flags": mb.SHF_ALLOC | mb.SHF_WRITE, "addr": 0x55f000,
             "data": buildinfo_inline("go1.19.8")}
    note = {"name": ".note.go.buildid", "type": 7, "flags": mb.SHF_ALLOC, "addr": 0x400f9c,
            "data": buildid_note("abc/def/ghi/jkl")}
    return [text, rodata, noptrdata, data, bss, noptrbss, binfo, note]


def with_symtab():
    secs = sections_common()
    idx = {s["name"]: i + 1 for i, s in enumerate(secs)}
    syms_def = [
        ("main.main", STT_FUNC, ".text", 0x401000, 0x40),
        ("main.main.func1", STT_FUNC, ".text", 0x401040, 0x20),
        ("main.(*T).M-fm", STT_FUNC, ".text", 0x401060, 0),
        ("runtime.types", STT_OBJECT, ".rodata", 0x480000, 0),
        ("type.*main.T", STT_OBJECT, ".rodata", 0x480010, 0x30),
        ("runtime.etypes", STT_OBJECT, ".rodata", 0x480200, 0),
        ("main.config", STT_OBJECT, ".data", 0x561000, 16),
        ("main.store", STT_OBJECT, ".bss", 0x562000, 40),
        ("main.registry", STT_OBJECT, ".bss", 0x562100, 8),
        ("runtime.noptrbss", STT_OBJECT, ".noptrbss", 0x563000, 0),
    ]
    strtab = b"\0"
    symtab = sym(0, 0, 0, 0, 0)
    for name, typ, sec, value, size in syms_def:
        symtab += sym(len(strtab), typ, idx[sec], value, size)
        strtab += name.encode() + b"\0"
    n = len(secs)
    secs.append({"name": ".strtab", "type": mb.SHT_STRTAB, "data": strtab})
    secs.append({"name": ".symtab", "type": mb.SHT_SYMTAB, "link": n + 1, "entsize": 24,
                 "data": symtab})
    return mb.elf64(secs)


def with_pclntab(magic):
    secs = sections_common()
    secs.append(mb.pcln_section(mb.pclntab118(2, magic=magic)))
    return mb.elf64(secs)


def pclntab_stkobj(magic, recs):
    """A Go 1.18+ .gopclntab at 0x402000 with main.main [0x401000, 0x401040) whose
    FUNCDATA_StackObjects (funcdata[2]) is go:func.*+0 and main.f [0x401040, 0x401080) without
    any; go:func.* (at gofunc_off inside the table, as Go 1.26 places it) holds the records:
    a count, then {off, size, ptrdata, gcdataoff} each (runtime/stack.go stackObjectRecord)."""
    fsz = 40 if magic == 0xFFFFFFF0 else 44
    names = b"main.main\0main.f\0"
    funcname_off, pcln_off = 72, 96
    functab = struct.pack("<IIIII", 0, 24, 0x40, 24 + 64, 0x80)
    funcs = b""
    for i in range(2):
        f = bytearray(64)
        struct.pack_into("<Ii", f, 0, 0x40 * i, 0 if i == 0 else 10)
        f[fsz - 1] = 3  # nfuncdata; npcdata (offset 28) is 0
        struct.pack_into("<III", f, fsz, 0xFFFFFFFF, 0xFFFFFFFF, 0 if i == 0 else 0xFFFFFFFF)
        funcs += bytes(f)
    body = names + b"\0" * (pcln_off - funcname_off - len(names)) + functab + b"\0" * 4 + funcs
    gofunc_off = 72 + len(body)
    gofunc = struct.pack("<Q", len(recs)) + b"".join(struct.pack("<iiiI", *r) for r in recs)
    hdr = struct.pack("<IBBBB", magic, 0, 0, 1, 8)
    hdr += struct.pack("<8Q", 2, 0, 0x401000, funcname_off, 0, 0, 0, pcln_off)
    return hdr + body + gofunc, gofunc_off


def with_stack_objects(version, magic):
    """A stripped Go 1.19 or 1.26 binary with stack objects: .gopclntab as above, masks (and,
    for 1.19, a GC program) in .rodata, runtime.firstmoduledata in .go.module."""
    go119 = magic == 0xFFFFFFF0
    recs = [(-24, 24, 24, 0x1c0), (-64, 32, 32, 0x1c1), (8, 16, 8, 0x1c2)]
    if go119:
        recs.append((-928, 800, -800, 0x1d0))  # 100 pointer words by GC program
    pcln, gofunc_off = pclntab_stkobj(magic, recs)
    secs = sections_common()
    rodata = bytearray(secs[1]["data"])
    rodata[0x1c0:0x1c3] = bytes([0x07, 0x0a, 0x01])
    # GC program: a 4-byte length; literal 1 bit (1), repeat the last bit 99 times, end
    rodata[0x1d0:0x1d9] = bytes([5, 0, 0, 0, 0x01, 0x01, 0x81, 0x63, 0x00])
    secs[1]["data"] = bytes(rodata)
    secs[6]["data"] = buildinfo_inline(version)
    pcln_sec = mb.pcln_section(pcln)
    w = [0] * 45
    w[0] = pcln_sec["addr"]
    w[22:32] = [0x401000, 0x401100, 0x560000, 0x560040, 0x561000, 0x561020, 0x562000, 0x563000,
                0x563000, 0x563100]
    if go119:  # end, gcdata, gcbss, types, etypes, rodata, gofunc
        w[32:39] = [0x563100, 0x480100, 0x480180, 0x480000, 0x480200, 0x480000,
                    pcln_sec["addr"] + gofunc_off]
    else:  # covctrs, ecovctrs, end, gcdata, gcbss, types, etypes, rodata, gofunc, epclntab
        w[32:42] = [0x563100, 0x563100, 0x563100, 0x480100, 0x480180, 0x480000, 0x480200,
                    0x480000, pcln_sec["addr"] + gofunc_off, pcln_sec["addr"] + len(pcln)]
    module = {"name": ".go.module", "type": mb.SHT_PROGBITS,
              "flags": mb.SHF_ALLOC | mb.SHF_WRITE, "addr": 0x564000,
              "data": struct.pack("<45Q", *w)}
    return mb.elf64(secs + [pcln_sec, module])


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "seed-symtab.elf": with_symtab(),
        "seed-pclntab-go118.elf": with_pclntab(0xFFFFFFF0),
        "seed-pclntab-go120.elf": with_pclntab(0xFFFFFFF1),
        "seed-pclntab-go116.elf": with_pclntab(0xFFFFFFFA),
        "seed-pclntab-go12.elf": with_pclntab(0xFFFFFFFB),
        "seed-stkobj-go119.elf": with_stack_objects("go1.19.8", 0xFFFFFFF0),
        "seed-stkobj-go126.elf": with_stack_objects("go1.26.8", 0xFFFFFFF1),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
