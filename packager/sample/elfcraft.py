"""Write minimal dynamic ELF files of any class and byte order (ABI tests, full sample).

gcc here only makes x86_64 little-endian files; the checker must also read 32-bit and
big-endian ones. These files are written from the ELF specification (System V gABI and
the LSB symbol versioning chapter) independently of the reader under test, and the tests
first confirm with binutils' ``readelf --use-dynamic`` that they say what they should.
"""

from __future__ import annotations

import struct

BASE = 0x400000
ET_DYN, PT_LOAD, PT_DYNAMIC = 3, 1, 2
DT = {"NULL": 0, "NEEDED": 1, "HASH": 4, "STRTAB": 5, "SYMTAB": 6, "STRSZ": 10, "SYMENT": 11,
      "SONAME": 14, "VERSYM": 0x6FFFFFF0, "VERNEED": 0x6FFFFFFE, "VERNEEDNUM": 0x6FFFFFFF}


def elf_hash(name: bytes) -> int:
    h = 0
    for c in name:
        h = (h << 4) + c
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g
    return h & 0xFFFFFFFF


def craft(bits: int, little: bool, machine: int, needed: list[str],
          verneed: dict[str, list[str]], symbols: list[tuple[str, str]],
          soname: str | None = None, sections: bool = True) -> bytes:
    """``symbols``: (name, version) pairs of undefined functions bound to a needed version.

    ``sections=False`` leaves out the section headers, as ``strip`` can: then only the
    dynamic segment describes the file (readelf then shows no version information).
    """
    e = "<" if little else ">"
    w = "I" if bits == 32 else "Q"
    ehsize, phentsize = (52, 32) if bits == 32 else (64, 56)

    strtab = bytearray(b"\0")

    def add(s: str) -> int:
        off = len(strtab)
        strtab.extend(s.encode() + b"\0")
        return off

    needed_off = [add(n) for n in needed]
    soname_off = add(soname) if soname else None
    version_index: dict[str, int] = {}
    vn_records = []
    for lib, versions in verneed.items():
        aux = []
        for v in versions:
            version_index[v] = len(version_index) + 2
            aux.append((elf_hash(v.encode()), version_index[v], add(v)))
        vn_records.append((add(lib), aux))
    sym_names = [(add(name), version_index[ver]) for name, ver in symbols]

    def align(n: int) -> int:
        return (n + 7) & ~7

    off_str = ehsize + 2 * phentsize
    off_sym = align(off_str + len(strtab))
    symsize = 16 if bits == 32 else 24
    nsyms = len(sym_names) + 1
    off_hash = align(off_sym + symsize * nsyms)
    off_versym = align(off_hash + 4 * (2 + 1 + nsyms))
    off_verneed = align(off_versym + 2 * nsyms)
    verneed_size = sum(16 + 16 * len(aux) for _, aux in vn_records)
    off_dyn = align(off_verneed + verneed_size)

    dyn: list[tuple[int, int]] = [(DT["NEEDED"], o) for o in needed_off]
    if soname_off is not None:
        dyn.append((DT["SONAME"], soname_off))
    dyn += [(DT["STRTAB"], BASE + off_str), (DT["STRSZ"], len(strtab)),
            (DT["SYMTAB"], BASE + off_sym), (DT["SYMENT"], symsize),
            (DT["HASH"], BASE + off_hash), (DT["VERSYM"], BASE + off_versym)]
    if vn_records:
        dyn += [(DT["VERNEED"], BASE + off_verneed), (DT["VERNEEDNUM"], len(vn_records))]
    dyn.append((DT["NULL"], 0))
    dynent = 8 if bits == 32 else 16
    end_dyn = off_dyn + dynent * len(dyn)
    shstr = b"\0.dynstr\0.dynsym\0.hash\0.gnu.version\0.gnu.version_r\0.dynamic\0.shstrtab\0"
    off_shstr = end_dyn
    shentsize = 40 if bits == 32 else 64
    off_sh = align(off_shstr + len(shstr))
    # (name, type, addr/offset, size, link, info, entsize); link indexes: 1 = .dynstr
    table = [
        (".dynstr", 3, off_str, len(strtab), 0, 0, 0),
        (".dynsym", 11, off_sym, symsize * nsyms, 1, 1, symsize),
        (".hash", 5, off_hash, 4 * (3 + nsyms), 2, 0, 4),
        (".gnu.version", 0x6FFFFFFF, off_versym, 2 * nsyms, 2, 0, 2),
        (".gnu.version_r", 0x6FFFFFFE, off_verneed, verneed_size, 1, len(vn_records), 0),
        (".dynamic", 6, off_dyn, end_dyn - off_dyn, 1, 0, dynent),
        (".shstrtab", 3, off_shstr, len(shstr), 0, 0, 0),
    ]
    total = off_sh + shentsize * (len(table) + 1) if sections else end_dyn

    out = bytearray(total)
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 1 if little else 2, 1, 0]) + bytes(8)
    out[0:16] = ident
    struct.pack_into(e + f"HHI{w}{w}{w}IHHHHHH", out, 16, ET_DYN, machine, 1, 0, ehsize,
                     off_sh if sections else 0, 0, ehsize, phentsize, 2, shentsize,
                     len(table) + 1 if sections else 0, len(table) if sections else 0)
    for i, (ptype, poff, psize) in enumerate([(PT_LOAD, 0, end_dyn),
                                              (PT_DYNAMIC, off_dyn, end_dyn - off_dyn)]):
        at = ehsize + i * phentsize
        if bits == 32:
            struct.pack_into(e + "IIIIIIII", out, at, ptype, poff, BASE + poff, BASE + poff,
                             psize, psize, 4, 0x1000 if ptype == PT_LOAD else 4)
        else:
            struct.pack_into(e + "IIQQQQQQ", out, at, ptype, 4, poff, BASE + poff, BASE + poff,
                             psize, psize, 0x1000 if ptype == PT_LOAD else 8)
    out[off_str:off_str + len(strtab)] = strtab
    for i, (name_off, _) in enumerate(sym_names, start=1):
        at = off_sym + i * symsize
        if bits == 32:
            struct.pack_into(e + "IIIBBH", out, at, name_off, 0, 0, 0x12, 0, 0)
        else:
            struct.pack_into(e + "IBBHQQ", out, at, name_off, 0x12, 0, 0, 0, 0)
    # SysV hash: one bucket, every chain ends at once: only nchain (= symbol count) matters
    struct.pack_into(e + "III", out, off_hash, 1, nsyms, 0)
    struct.pack_into(e + "H", out, off_versym, 0)
    for i, (_, index) in enumerate(sym_names, start=1):
        struct.pack_into(e + "H", out, off_versym + 2 * i, index)
    at = off_verneed
    for n, (file_off, aux) in enumerate(vn_records):
        size = 16 + 16 * len(aux)
        last = n == len(vn_records) - 1
        struct.pack_into(e + "HHIII", out, at, 1, len(aux), file_off, 16, 0 if last else size)
        for k, (h, index, name_off) in enumerate(aux):
            struct.pack_into(e + "IHHII", out, at + 16 + 16 * k, h, 0, index, name_off,
                             0 if k == len(aux) - 1 else 16)
        at += size
    for i, (tag, value) in enumerate(dyn):
        struct.pack_into(e + ("iI" if bits == 32 else "qQ"), out, off_dyn + i * dynent, tag, value)
    if sections:
        out[off_shstr:off_shstr + len(shstr)] = shstr
        for i, (name, stype, off, size, link, info, entsize) in enumerate(table, start=1):
            name_off = shstr.index(name.encode() + b"\0")
            flags = 0 if name == ".shstrtab" else 2  # SHF_ALLOC
            addr = 0 if name == ".shstrtab" else BASE + off
            fmt = "IIIIIIIIII" if bits == 32 else "IIQQQQIIQQ"
            struct.pack_into(e + fmt, out, off_sh + i * shentsize, name_off, stype, flags, addr,
                             off, size, link, info, 8, entsize)
    return bytes(out)
