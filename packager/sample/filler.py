"""Deterministic filler that makes the sample release as large as a benchmark needs.

Real FATE artifacts are GBs of mixed content; compression and packaging speed depend on
the mix. The filler gives ~15 files per MiB, cycling through three kinds whose
compressibility resembles the real trees: source-like text, ELF-like shared objects
(headers, zero runs, repeated code-like motifs) and incompressible data.
"""

from __future__ import annotations

import random

MIB = 1 << 20
FILES_PER_MIB = 15
KINDS = ("text", "elf", "random")

_WORDS = ("def class return import self value data party job eggroll rollsite fate flow "
          "session node manager config table route host guest port status partition "
          "federation secure sum model param 0 1 2 3 = ( ) : , . if else for in None "
          "True False logger info error # + - * / [ ] { }").split() + ["\n", "\n    "]


def _text(rng: random.Random, size: int) -> bytes:
    out = bytearray()
    words = [w.encode() for w in _WORDS]
    table = [words[i % len(words)] for i in range(256)]  # one random byte picks a word
    while len(out) < size:  # words are ~5 bytes: draw about what is left, not 64 KiB each
        want = min(65536, (size - len(out)) // 4 + 16)
        out += b" ".join(map(table.__getitem__, rng.randbytes(want))) + b" "
    return bytes(out[:size])


def _elf(rng: random.Random, size: int) -> bytes:
    out = bytearray(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x03\x00\x3e\x00\x01\x00\x00\x00")
    motifs = [rng.randbytes(rng.randint(8, 48)) for _ in range(64)]
    while len(out) < size:
        choice = rng.random()
        if choice < 0.25:
            out += b"\x00" * rng.randint(16, 1024)
        elif choice < 0.7:
            motif = motifs[rng.randrange(len(motifs))]
            out += motif * rng.randint(1, 24)
        else:
            out += rng.randbytes(rng.randint(64, 2048))
    return bytes(out[:size])


def plan(extra_bytes: int) -> list[tuple[str, int]]:
    """(kind, size) of each filler file for ``extra_bytes`` in total."""
    if extra_bytes <= 0:
        return []
    count = max(1, round(extra_bytes * FILES_PER_MIB / MIB))
    base, rest = divmod(extra_bytes, count)
    return [(KINDS[i % len(KINDS)], base + (1 if i < rest else 0)) for i in range(count)]


def content(kind: str, size: int, seed: int) -> bytes:
    rng = random.Random(f"fate-sample-filler-{seed}")
    if kind == "text":
        return _text(rng, size)
    if kind == "elf":
        return _elf(rng, size)
    return rng.randbytes(size)


def file_name(kind: str, index: int) -> str:
    if kind == "text":
        return f"doc/sample-filler-{index:05d}.txt"
    if kind == "elf":
        return f"lib/libsamplefiller{index:05d}.so"
    return f"data/sample-filler-{index:05d}.bin"
