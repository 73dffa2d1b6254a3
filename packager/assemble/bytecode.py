"""Byte-compile the staged Python environment for its final prefix, reproducibly.

The RPM is installed root-owned and FATE's services run unprivileged: without ``.pyc`` in
the package, every process start (fate_flow, each egg_pair of each session) compiles what
it imports in memory and cannot cache it. FATE's own deploy (pip on the host) and every
distro RPM (brp-python-bytecompile) ship byte code; so do fate-python (the python-env
step) and FATE's own trees (fate-flow, fate-eggroll: the bytecode step), made here:

- by the release's own Python (the staged Miniconda's ``bin/python3``), so the magic
  number is the target's;
- after relocation, with ``compileall.compile_file(..., ddir=FINAL_DIR)``: ``co_filename``
  is the path on the host, never the staging path (checked on every ``.pyc`` written);
- against sources whose mtime is already what the RPM writer will record
  (:func:`packager.rpm.writer.clamp_mtime` with the build's SOURCE_DATE_EPOCH): Python 3.6
  validates a ``.pyc`` by its source's mtime and size, so the host finds them fresh;
- reproducibly: CPython 3.6's marshal output depends on the interpreter's state (FLAG_REF
  follows reference counts, bpo-34093) and set constants on the hash seed, so the sorted
  file list is cut into chunks of a fixed size, each compiled by a fresh process with
  ``PYTHONHASHSEED=0``; the cores only decide how many chunks run at once.
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from packager.assemble.isolate import offline_command, offline_env
from packager.errors import UserError
from packager.rpm.writer import clamp_mtime

#: Sources per compiler process. Fixed: the chunks (and so the bytes) must not depend on
#: the machine. A fresh 3.6 costs ~20 ms; 400 modules take ~0.4 s of compiling.
CHUNK = 400
#: Directories never on ``sys.path``: conda's package cache (copies of what is installed).
SKIP_TOP = ("pkgs",)

# Runs in the staged Python 3.6 (-S -B: no site, no byte code for its own imports). stdin:
# NUL-separated pairs "source, final directory". stdout: compileall's error messages (to the
# log); stderr: the sources that failed, one a line.
_DRIVER = """\
import compileall, sys
items = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\\0")
failed = [src for src, ddir in zip(items[0::2], items[1::2])
          if not compileall.compile_file(src, ddir=ddir, force=True, quiet=1)]
sys.stdout.flush()
sys.stderr.write("".join(f + "\\n" for f in failed))
"""


@dataclass
class Compiled:
    """What :func:`compile_trees` did: ``failed`` are sources Python 3.6 cannot compile
    (pip ignores them too: test data in Python 2 syntax), ``leftovers`` are ``.pyc`` that
    name the staging path (should be none)."""

    modules: int = 0
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)


def sources(trees: Iterable[Path]) -> list[str]:
    """Every regular ``*.py`` under ``trees``, in the order of their paths' components (as
    sorted ``Path`` objects were: the chunks, and so the bytes, follow it); symlinks are
    left: their target is compiled where it lives, if it lives in a tree.

    Strings, not ``Path`` objects: a venv has 10^5 sources, and a ``Path`` of one is ~680
    bytes against ~230 (issue #12: the staging phase's memory)."""
    found: list[str] = []
    for tree in trees:
        for root, dirs, files in os.walk(tree):
            if root == str(tree):
                dirs[:] = [d for d in dirs if d not in SKIP_TOP]
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    if not os.path.islink(path):
                        found.append(path)
    found.sort(key=_by_parts)
    return found


def _by_parts(path: str) -> str:
    """A sort key that orders paths as their lists of components compare (``Path``'s
    order): NUL, below every character, in place of each separator."""
    return path.replace("/", "\0")


def clamp_sources(paths: Iterable[str | Path], sde: int | None) -> None:
    """Set each source's mtime to the whole second the RPM writer will record for it, so
    the ``.pyc`` header (mtime, size) matches the installed file."""
    for path in paths:
        mtime = clamp_mtime(os.stat(path).st_mtime_ns // 10**9, sde) * 10**9
        os.utime(path, ns=(mtime, mtime))


def compile_trees(python: Path, trees: list[Path], stage_root: Path, sde: int | None,
                  log: TextIO, jobs: int | None = None) -> Compiled:
    """Byte-compile every source of ``trees`` (below ``stage_root``) as if it were at its
    final path (``stage_root`` removed), with ``python``; see the module docstring."""
    started = time.monotonic()
    todo = sources(trees)
    clamp_sources(todo, sde)
    root = str(stage_root)
    chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
    env = offline_env({"PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8:backslashreplace"})
    cmd = offline_command([str(python), "-S", "-B", "-c", _DRIVER])

    def one(chunk: list[str]) -> subprocess.CompletedProcess:
        pairs = [s for p in chunk for s in (p, "/" + os.path.relpath(os.path.dirname(p), root))]
        data = "\0".join(pairs).encode("utf-8", "surrogateescape")
        return subprocess.run(cmd, input=data, capture_output=True, env=env)

    done = Compiled(modules=len(todo))
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        for chunk, r in zip(chunks, pool.map(one, chunks)):
            log.write(r.stdout.decode("utf-8", "replace"))
            if r.returncode != 0:
                raise UserError(f"python env: byte-compiling {chunk[0]}...: {python} exited "
                                   f"{r.returncode}: {r.stderr.decode(errors='replace')}")
            done.failed += r.stderr.decode("utf-8", "surrogateescape").splitlines()
    done.leftovers = _normalise(todo, root.encode())
    done.seconds = time.monotonic() - started
    log.write(f"$ byte-compiled {len(todo) - len(done.failed)} of {len(todo)} modules in "
              f"{len(chunks)} chunks, {done.seconds:.1f} s; {len(done.failed)} not valid "
              "Python 3.6:\n" + "".join(f"  {f}\n" for f in done.failed))
    return done


def refuse_leftovers(what: str, leftovers: list[Path]) -> None:
    """Fail the build on files that still name the staging path (the host has no such
    path: a ``.pyc`` naming it, or a relocated file, would be wrong there)."""
    if leftovers:
        raise UserError(f"{what}: staging path left in {leftovers[0]} (and "
                        f"{len(leftovers) - 1} more)")


def _normalise(compiled: list[str], stage: bytes) -> list[Path]:
    """The modes of what was written (whatever the build's umask: 0755 dirs, 0644 files),
    and the ``.pyc`` that still name the staging path."""
    leftovers = []
    caches = {os.path.join(os.path.dirname(p), "__pycache__") for p in compiled}
    for cache in sorted(caches, key=_by_parts):
        if not os.path.isdir(cache):
            continue  # nothing in this directory compiled
        os.chmod(cache, 0o755)
        for name in sorted(os.listdir(cache)):
            pyc = os.path.join(cache, name)
            os.chmod(pyc, 0o644)
            with open(pyc, "rb") as f:
                if stage in f.read():
                    leftovers.append(Path(pyc))
    return leftovers
