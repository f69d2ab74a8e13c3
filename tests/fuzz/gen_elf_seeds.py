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


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "seed-symtab.elf": with_symtab(),
        "seed-pclntab-go118.elf": with_pclntab(0xFFFFFFF0),
        "seed-pclntab-go120.elf": with_pclntab(0xFFFFFFF1),
        "seed-pclntab-go116.elf": with_pclntab(0xFFFFFFFA),
        "seed-pclntab-go12.elf": with_pclntab(0xFFFFFFFB),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
