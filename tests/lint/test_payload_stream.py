"""The payload walker: bounded memory on payloads that decompress enormously."""

from __future__ import annotations

import gzip
import lzma
import threading
import time
import tracemalloc

import pytest

from packager.lint.payload import walk
from packager.rpm import read_rpm
from tests.lint.craft import build, cpio_of, package, rewrite

BIG = 96 << 20


def cpio_entry(name: bytes, size: int, ino: int) -> bytes:
    fields = (ino, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0)
    head = b"070701" + b"".join(b"%08x" % f for f in fields) + name + b"\0"
    return head + b"\0" * (-len(head) % 4)


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_a_huge_zero_file_is_streamed_in_bounded_memory(tmp_path, kind):
    good = build(tmp_path / "out", package(tmp_path))
    cpio = cpio_of(good)
    trailer_at = cpio.rindex(b"070701")
    zeros = b"\0" * BIG
    archive = (cpio[:trailer_at] + cpio_entry(b"./opt/fate-lint/zeros", BIG, 99)
               + zeros + cpio[trailer_at:])
    del zeros
    payload = gzip.compress(archive, 1) if kind == "gzip" else lzma.compress(archive, preset=0)
    del archive
    bad = rewrite(good, tmp_path / f"zeros-{kind}.rpm", payload=payload)
    rpm = read_rpm(bad)
    del payload
    tracemalloc.start()
    try:
        sizes = {}
        for member in walk(rpm, kind):
            sizes[member.name] = sum(len(c) for c in member.chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sizes["/opt/fate-lint/zeros"] == BIG
    assert sizes["/opt/fate-lint/data.txt"] == len("data\n")
    assert peak < 12 << 20, f"peak {peak >> 20} MiB while streaming {BIG >> 20} MiB"


def test_the_inflating_thread_ends_with_the_walk_even_when_left_early(tmp_path):
    """The payload is inflated by a thread of its own (packager.lint.payload._Prefetch):
    a walk left early must not leave that thread blocked behind its full queue (the
    payload here inflates to 24x the queue), and a walk to the end gives every member."""
    good = build(tmp_path / "out", package(tmp_path))
    cpio = cpio_of(good)
    trailer_at = cpio.rindex(b"070701")
    archive = (cpio[:trailer_at] + cpio_entry(b"./opt/fate-lint/zeros", BIG, 99)
               + b"\0" * BIG + cpio[trailer_at:])
    rpm = read_rpm(rewrite(good, tmp_path / "zeros.rpm", payload=gzip.compress(archive, 1)))
    names = [m.name for m in walk(rpm, "gzip")]
    assert {"/opt/fate-lint/data.txt", "/opt/fate-lint/zeros"} <= set(names)
    members = walk(rpm, "gzip")
    next(members)
    started = [t for t in threading.enumerate() if t.name == "fate-pkg-lint-inflate"]
    assert len(started) == 1, "the payload is inflated in a thread of its own"
    time.sleep(0.3)  # the thread fills its queue and waits
    members.close()
    started[0].join(timeout=5)
    assert not started[0].is_alive(), "the inflating thread outlived the walk"
