"""Read what an ELF file needs from the dynamic linker, in pure Python.

The ABI check must run on any build host (no binutils, no pyelftools) and on files for
any ELF class and byte order, because upstream tarballs contain whatever they contain.
Only the dynamic segment is read, the way ``ld.so`` does it: program headers, not section
headers (which stripped files may lack). From it come ``DT_NEEDED``, ``DT_SONAME``,
``DT_RPATH``/``DT_RUNPATH``, the version requirements (``DT_VERNEED`` = ``.gnu.version_r``),
the version definitions (``DT_VERDEF``) and, via ``DT_VERSYM``, which undefined symbol
needs which version, so a violation can say ``__libc_start_main@GLIBC_2.34``.

Files are memory-mapped, so a 500 MB shared library costs a few page reads. Every offset
is bounds-checked; anything inconsistent raises ``ElfError`` instead of crashing.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ELF_MAGIC = b"\x7fELF"

PT_LOAD, PT_DYNAMIC = 1, 2
SHT_DYNSYM = 11
DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB = 0, 1, 4, 5, 6
DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 10, 14, 15, 29
DT_GNU_HASH = 0x6FFFFEF5
DT_VERSYM = 0x6FFFFFF0
DT_VERDEF, DT_VERDEFNUM = 0x6FFFFFFC, 0x6FFFFFFD
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
ET_EXEC, ET_DYN = 2, 3
_MAX_ENTRIES = 1 << 20  # no real file has more version entries or symbols than this


class ElfError(Exception):
    """The file starts like ELF but its dynamic information cannot be read."""


@dataclass
class ElfInfo:
    bits: int
    little_endian: bool
    elf_type: int
    machine: int
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    #: library file name -> version names required from it (``.gnu.version_r``)
    version_needs: dict[str, list[str]] = field(default_factory=dict)
    #: version name -> undefined symbols bound to it (only when DT_VERSYM is present)
    symbols: dict[str, list[str]] = field(default_factory=dict)
    #: version names this file defines (``.gnu.version_d``), e.g. GLIBCXX_3.4.21
    version_defs: list[str] = field(default_factory=list)

    @property
    def dynamic(self) -> bool:
        return self.elf_type in (ET_EXEC, ET_DYN)


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def read_elf(path: Path) -> ElfInfo:
    """Parse ``path``; raises ``ElfError`` for a damaged file, ``OSError`` if unreadable."""
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size < 52:
            raise ElfError("too short for an ELF header")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                return _Reader(data).parse()
            except (struct.error, IndexError, ValueError, OverflowError) as exc:
                raise ElfError(f"damaged ELF file ({exc})") from None


class _Reader:
    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        if data[:4] != ELF_MAGIC:
            raise ElfError("not an ELF file")
        cls, enc = data[4], data[5]
        if cls not in (1, 2) or enc not in (1, 2):
            raise ElfError(f"unknown ELF class {cls} / data encoding {enc}")
        self.bits = 32 if cls == 1 else 64
        self.end = "<" if enc == 1 else ">"
        self.word = "I" if self.bits == 32 else "Q"  # addresses and offsets

    # -- primitive reads -----------------------------------------------------------------
    def unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        if offset < 0:
            raise ElfError(f"negative offset {offset}")
        return struct.unpack_from(self.end + fmt, self.data, offset)

    def cstring(self, offset: int, limit: int) -> str:
        if not 0 <= offset < limit:
            raise ElfError(f"string offset {offset} outside the string table")
        end = self.data.find(b"\0", offset, limit)
        if end < 0:
            raise ElfError("unterminated string")
        return self.data[offset:end].decode("utf-8", "surrogateescape")

    # -- structure -----------------------------------------------------------------------
    def parse(self) -> ElfInfo:
        w = self.word
        e_type, e_machine = self.unpack("HH", 16)
        _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, _ = self.unpack(
            f"I{w}{w}{w}IHHHHHH", 20)
        info = ElfInfo(self.bits, self.end == "<", e_type, e_machine)
        if phnum == 0xFFFF and shoff:  # PN_XNUM: the real count is in section 0's sh_info
            phnum = self.unpack("I", shoff + (28 if self.bits == 32 else 44))[0]
        self.loads: list[tuple[int, int, int]] = []  # (vaddr, filesz, offset)
        dynamic: tuple[int, int] | None = None
        ph_fmt = "IIIIIIII" if self.bits == 32 else "IIQQQQQQ"
        for i in range(min(phnum, 4096)):
            fields = self.unpack(ph_fmt, phoff + i * phentsize)
            if self.bits == 32:
                p_type, p_offset, p_vaddr, _, p_filesz = fields[:5]
            else:
                p_type, _, p_offset, p_vaddr, _, p_filesz = fields[:6]
            if p_type == PT_LOAD:
                self.loads.append((p_vaddr, p_filesz, p_offset))
            elif p_type == PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
        self.sections = (shoff, shentsize, shnum)
        if dynamic is not None:
            self._dynamic(info, *dynamic)
        return info

    def offset_of(self, vaddr: int) -> int:
        """File offset of a virtual address, through the PT_LOAD segments."""
        for start, filesz, offset in self.loads:
            if start <= vaddr < start + filesz:
                return vaddr - start + offset
        raise ElfError(f"address {vaddr:#x} is in no loaded segment")

    def _dynamic(self, info: ElfInfo, offset: int, size: int) -> None:
        entry = 8 if self.bits == 32 else 16
        fmt = "iI" if self.bits == 32 else "qQ"
        tags: dict[int, int] = {}
        lists: dict[int, list[int]] = {DT_NEEDED: [], DT_RPATH: [], DT_RUNPATH: []}
        for i in range(size // entry):
            tag, value = self.unpack(fmt, offset + i * entry)
            if tag == DT_NULL:
                break
            if tag in lists:
                lists[tag].append(value)
            else:
                tags.setdefault(tag, value)
        if DT_STRTAB not in tags:
            if any(lists.values()):
                raise ElfError("dynamic section without a string table")
            return
        strtab = self.offset_of(tags[DT_STRTAB])
        limit = min(strtab + tags.get(DT_STRSZ, len(self.data)), len(self.data))

        def s(value: int) -> str:
            return self.cstring(strtab + value, limit)

        info.needed = [s(v) for v in lists[DT_NEEDED]]
        info.rpath = [p for v in lists[DT_RPATH] for p in s(v).split(":") if p]
        info.runpath = [p for v in lists[DT_RUNPATH] for p in s(v).split(":") if p]
        if DT_SONAME in tags:
            info.soname = s(tags[DT_SONAME])
        index_names: dict[int, str] = {}
        if DT_VERNEED in tags:
            self._verneed(info, self.offset_of(tags[DT_VERNEED]),
                          tags.get(DT_VERNEEDNUM, _MAX_ENTRIES), s, index_names)
        if DT_VERDEF in tags:
            self._verdef(info, self.offset_of(tags[DT_VERDEF]),
                         tags.get(DT_VERDEFNUM, _MAX_ENTRIES), s)
        if index_names and DT_VERSYM in tags and DT_SYMTAB in tags:
            self._symbols(info, tags, index_names, s)

    def _verneed(self, info: ElfInfo, offset: int, count: int, s: Callable[[int], str],
                 index_names: dict[int, str]) -> None:
        for _ in range(min(count, _MAX_ENTRIES)):
            version, cnt, file_, aux, next_ = self.unpack("HHIII", offset)
            if version != 1:
                raise ElfError(f"unknown Elf_Verneed version {version}")
            names = info.version_needs.setdefault(s(file_), [])
            at = offset + aux
            for _ in range(min(cnt, _MAX_ENTRIES)):
                _, _, other, name, vna_next = self.unpack("IHHII", at)
                vname = s(name)
                names.append(vname)
                index_names[other & 0x7FFF] = vname
                if not vna_next:
                    break
                at += vna_next
            if not next_:
                break
            offset += next_

    def _verdef(self, info: ElfInfo, offset: int, count: int, s: Callable[[int], str]) -> None:
        for _ in range(min(count, _MAX_ENTRIES)):
            version, flags, _, cnt, _, aux, next_ = self.unpack("HHHHIII", offset)
            if version != 1:
                raise ElfError(f"unknown Elf_Verdef version {version}")
            if cnt and not flags & 1:  # VER_FLG_BASE names the file itself, not a version
                info.version_defs.append(s(self.unpack("I", offset + aux)[0]))
            if not next_:
                break
            offset += next_

    def _symbols(self, info: ElfInfo, tags: dict[int, int], index_names: dict[int, str],
                 s: Callable[[int], str]) -> None:
        count = self._dynsym_count(tags)
        symtab = self.offset_of(tags[DT_SYMTAB])
        versym = self.offset_of(tags[DT_VERSYM])
        entry, name_at, shndx_at = (16, 0, 14) if self.bits == 32 else (24, 0, 6)
        for i in range(1, min(count, _MAX_ENTRIES)):
            index = self.unpack("H", versym + 2 * i)[0] & 0x7FFF
            vname = index_names.get(index)
            if vname is None:
                continue
            base = symtab + i * entry
            shndx = self.unpack("H", base + shndx_at)[0]
            if shndx != 0:  # defined here, not needed from elsewhere
                continue
            name = s(self.unpack("I", base + name_at)[0])
            info.symbols.setdefault(vname, []).append(name)

    def _dynsym_count(self, tags: dict[int, int]) -> int:
        shoff, shentsize, shnum = self.sections
        if shoff and shentsize and 0 < shnum < 65280:
            fmt = "IIIIIIIIII" if self.bits == 32 else "IIQQQQIIQQ"
            for i in range(shnum):
                try:
                    fields = self.unpack(fmt, shoff + i * shentsize)
                except struct.error:
                    break
                if fields[1] == SHT_DYNSYM and fields[9]:
                    return fields[5] // fields[9]
        if DT_HASH in tags:
            return self.unpack("II", self.offset_of(tags[DT_HASH]))[1]
        if DT_GNU_HASH in tags:
            return self._gnu_hash_count(self.offset_of(tags[DT_GNU_HASH]))
        return 0

    def _gnu_hash_count(self, offset: int) -> int:
        """Symbols = highest index reachable from the GNU hash buckets, plus one."""
        nbuckets, symoffset, bloom_size, _ = self.unpack("IIII", offset)
        buckets = offset + 16 + bloom_size * (4 if self.bits == 32 else 8)
        if nbuckets > _MAX_ENTRIES:
            raise ElfError("implausible GNU hash table")
        top = max(self.unpack(f"{nbuckets}I", buckets), default=0) if nbuckets else 0
        if top < symoffset:
            return symoffset
        chains = buckets + 4 * nbuckets
        for _ in range(_MAX_ENTRIES):
            if self.unpack("I", chains + 4 * (top - symoffset))[0] & 1:
                return top + 1
            top += 1
        raise ElfError("unterminated GNU hash chain")
