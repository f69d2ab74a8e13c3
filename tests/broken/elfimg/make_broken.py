#!/usr/bin/env python3
"""Writes the broken ELF inputs for tests/unit/test_elfimg.c into this directory.

Run: python3 tests/broken/elfimg/make_broken.py   (stdlib only; output is deterministic)

Each file must make elfimg_open or elfimg_symtab fail with a clear error, never crash. The
expected status of each file is listed in test_elfimg.c (broken_expect).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXEC = 1, 2, 4


def elf64(sections, ei_data=1, shoff_override=None, truncate=None):
    """A little ELF64 x86-64 executable. sections: list of dicts with name, type, flags,
    addr, data, link, entsize, and optional size/offset overrides."""
    names = b"\0"
    name_off = []
    for s in sections + [{"name": ".shstrtab"}]:
        name_off.append(len(names))
        names += s["name"].encode() + b"\0"
    body = b""
    off = 64
    placed = []
    for s in sections:
        data = s.get("data", b"")
        pad = (-off) % 8
        body += b"\0" * pad
        off += pad
        placed.append(off)
        if s["type"] != SHT_NOBITS:
            body += data
            off += len(data)
    shstr_off = off
    body += names
    off += len(names)
    pad = (-off) % 8
    body += b"\0" * pad
    off += pad
    shoff = off
    shdrs = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    for i, s in enumerate(sections):
        size = s.get("size", len(s.get("data", b"")))
        shdrs += struct.pack("<IIQQQQIIQQ", name_off[i], s["type"], s.get("flags", 0),
                             s.get("addr", 0), s.get("offset", placed[i]), size,
                             s.get("link", 0), 0, 8, s.get("entsize", 0))
    shdrs += struct.pack("<IIQQQQIIQQ", name_off[-1], SHT_STRTAB, 0, 0, shstr_off, len(names),
                         0, 0, 1, 0)
    nsec = len(sections) + 2
    ident = b"\x7fELF" + bytes([2, ei_data, 1, 0]) + b"\0" * 8
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, 0,
                               shoff if shoff_override is None else shoff_override,
                               0, 64, 56, 0, 64, nsec, nsec - 1)
    out = ehdr + body + shdrs
    return out if truncate is None else out[:truncate]


TEXT = {"name": ".text", "type": SHT_PROGBITS, "flags": SHF_ALLOC | SHF_EXEC,
        "addr": 0x401000, "data": b"\xc3" * 32}


def pclntab118(nfunc, nameoff=0, magic=0xFFFFFFF0, funcoff=None, pcln_at=None):
    """A Go 1.18 pcHeader with nfunc functions; all offsets relative to the table."""
    hdr_len = 8 + 8 * 8
    names = b"main.f\0"
    funcname_off = hdr_len
    pcln_off = funcname_off + len(names)
    real = min(nfunc, 2)
    functab = b""
    for i in range(real):
        functab += struct.pack("<II", 16 * i, (2 * real + 1) * 4 if funcoff is None else funcoff)
    functab += struct.pack("<I", 16 * real)
    funcs = struct.pack("<Ii", 0, nameoff)
    hdr = struct.pack("<IBBBB", magic, 0, 0, 1, 8)
    total = hdr_len + len(names) + len(functab) + len(funcs)
    if pcln_at is not None:
        pcln_off = total + pcln_at
    hdr += struct.pack("<8Q", nfunc, 0, 0x401000, funcname_off, 0, 0, 0, pcln_off)
    return hdr + names + functab + funcs


def pcln_section(data):
    return {"name": ".gopclntab", "type": SHT_PROGBITS, "flags": SHF_ALLOC, "addr": 0x402000,
            "data": data}


def main():
    files = {}
    # not an ELF at all
    files["not-elf.bin"] = b"#!/bin/sh\necho this is a shell script, not an ELF\n"
    # an empty file
    files["empty.bin"] = b""
    # a valid ELF header cut at 40 of its 64 bytes
    files["truncated-header.bin"] = elf64([TEXT], truncate=40)
    # only the identification bytes
    files["ident-only.bin"] = elf64([TEXT], truncate=16)
    # a big-endian ELF: libelf would convert it in place, so it is refused up front
    files["big-endian.bin"] = elf64([TEXT], ei_data=2)
    # a section header table that lies past the end of the file
    files["shoff-past-end.bin"] = elf64([TEXT], shoff_override=0x7fff0000)
    # a well-formed ELF with code but neither .symtab nor .gopclntab
    files["no-symbols.bin"] = elf64([TEXT, {"name": ".data", "type": SHT_PROGBITS,
                                            "flags": SHF_ALLOC | SHF_WRITE, "addr": 0x403000,
                                            "data": b"\0" * 16}])
    # .symtab whose bytes lie past the end of the file
    files["symtab-past-end.bin"] = elf64([TEXT, {"name": ".strtab", "type": SHT_STRTAB,
                                                 "data": b"\0main.f\0"},
                                          {"name": ".symtab", "type": SHT_SYMTAB, "link": 2,
                                           "entsize": 24, "offset": 0x100000, "size": 48}])
    # .gopclntab variants: unknown magic, absurd function count, name past the end,
    # _func offset past the end, header cut short
    files["pclntab-bad-magic.bin"] = elf64([TEXT, pcln_section(pclntab118(1, magic=0xFFFFFFE0))])
    files["pclntab-huge-nfunc.bin"] = elf64([TEXT, pcln_section(pclntab118(1 << 40))])
    files["pclntab-name-oob.bin"] = elf64([TEXT, pcln_section(pclntab118(1, nameoff=0x10000))])
    files["pclntab-funcoff-oob.bin"] = elf64([TEXT, pcln_section(pclntab118(1,
                                                                            funcoff=0xfffffff0))])
    # the function table starts in the last byte of the section
    files["pclntab-functab-at-end.bin"] = elf64([TEXT, pcln_section(pclntab118(1, pcln_at=-1))])
    files["pclntab-short.bin"] = elf64([TEXT, pcln_section(pclntab118(1)[:12])])
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
