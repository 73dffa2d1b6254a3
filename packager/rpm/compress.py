"""Payload compressors rpm 4.11 can read: gzip and xz, streamed and parallel.

Parallelism comes from the standard tools: ``pigz`` (one gzip member, output independent of
the thread count) and ``xz -T+N`` (one .xz stream with several blocks; the ``+`` keeps the
multi-threaded block layout even with one thread, so the bytes do not depend on the core
count). Concatenated streams are never produced: EL7's rpmio reads only the first one.
Without the tools, zlib/lzma from the standard library are used (single-threaded).
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import subprocess
import threading
import zlib
from dataclasses import dataclass
from typing import BinaryIO

KINDS = ("gzip", "xz")
DEFAULT_LEVEL = {"gzip": 9, "xz": 6}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Compression:
    kind: str = "xz"
    level: int | None = None
    threads: int = 0  # 0: all cores

    def resolved_level(self) -> int:
        return DEFAULT_LEVEL[self.kind] if self.level is None else self.level

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"compression {self.kind!r}: rpm 4.11 reads only {' or '.join(KINDS)} "
                "(zstd fails with 'cpio: Bad magic' on CentOS 7)"
            )
        lo = 1 if self.kind == "gzip" else 0
        if not lo <= self.resolved_level() <= 9:
            raise ValueError(f"{self.kind} level {self.level} is not in {lo}-9")

    @property
    def thread_count(self) -> int:
        return self.threads or os.cpu_count() or 1


class CompressedSink:
    """Compress written bytes into ``out``; tracks size and sha256 of the compressed output."""

    def __init__(self, comp: Compression, out: BinaryIO) -> None:
        comp.validate()
        self.comp = comp
        self._out = out
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._proc: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None
        self._pump_error: BaseException | None = None
        self.tool = self._start()

    def _start(self) -> str:
        level = self.comp.resolved_level()
        n = self.comp.thread_count
        if self.comp.kind == "gzip" and shutil.which("pigz"):
            cmd = ["pigz", "-c", "-n", f"-{level}", "-p", str(n)]
        elif self.comp.kind == "xz" and shutil.which("xz") and _xz_plus_threads():
            cmd = ["xz", "-z", "-c", f"-{level}", f"-T+{n}", "--check=crc64"]
        else:
            if self.comp.kind == "gzip":
                self._py = zlib.compressobj(level, zlib.DEFLATED, 31)
            else:
                self._py = lzma.LZMACompressor(lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                                               preset=level)
            return f"python-{'zlib' if self.comp.kind == 'gzip' else 'lzma'}"
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._pump = threading.Thread(target=self._drain, daemon=True)
        self._pump.start()
        return cmd[0]

    def _drain(self) -> None:
        assert self._proc and self._proc.stdout
        try:
            while True:
                chunk = self._proc.stdout.read(_CHUNK)
                if not chunk:
                    break
                self._take(chunk)
        except BaseException as exc:  # surfaced in close()
            self._pump_error = exc

    def _take(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)

    def write(self, data: bytes) -> None:
        if self._proc:
            assert self._proc.stdin
            try:
                self._proc.stdin.write(data)
            except BrokenPipeError:
                self._raise_failure()
        else:
            out = self._py.compress(data)
            if out:
                self._take(out)

    def close(self) -> None:
        if self._proc:
            assert self._proc.stdin and self._pump
            self._proc.stdin.close()
            self._pump.join()
            if self._proc.wait() != 0 or self._pump_error:
                self._raise_failure()
        else:
            self._take(self._py.flush())

    def _raise_failure(self) -> None:
        rc = self._proc.wait() if self._proc else None
        raise OSError(f"{self.tool} failed (exit {rc}): {self._pump_error or 'no output'}")

    def abort(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


_XZ_PLUS: bool | None = None


def _xz_plus_threads() -> bool:
    """``-T+N`` needs xz 5.4; older xz would fall back to the stdlib for reproducibility."""
    global _XZ_PLUS
    if _XZ_PLUS is None:
        try:
            r = subprocess.run(["xz", "-T+1", "-c"], input=b"", capture_output=True)
            _XZ_PLUS = r.returncode == 0
        except OSError:
            _XZ_PLUS = False
    return _XZ_PLUS
