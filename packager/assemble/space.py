"""Disk space: checked before a build starts, and a full disk reported as one.

A build writes its staging trees, RPMs and bundle into a work directory inside the output
directory, so that filesystem must hold all of it at once. The need is estimated from the
inputs of the RPMs it is about to build (``--only``, or those whose inputs changed), whose
sizes the build knows before it starts: archives expand, the RPMs and the bundle hold the
same bytes again, and the Python environment, when it is built, brings its own tools
(venv + pip: about 30 MiB even for the sample, whose inputs are 1 MiB). Measured peaks:
48 MiB for the sample release (1 MiB of inputs); the estimate is deliberately above.

Should the disk still fill up (another process writing, an estimate too low), the error
says so in words: which filesystem, how much is free, how much the build needs, instead
of a failed child process whose log went away with the work directory.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from packager import ui
from packager.errors import UserError

#: staged trees + RPMs + bundle, relative to the compressed inputs
EXPANSION = 4
#: what a Python environment's own tools take whatever the inputs (venv, pip, caches)
HEADROOM = 64 << 20
#: free bytes below which a failed step is put down to the full disk
NEARLY_FULL = 2 << 20
_NO_SPACE = ("No space left on device", "Disk quota exceeded")


def estimate(inputs: Iterable[Path], python_env: bool = True) -> tuple[int, int]:
    """(bytes the build needs in its output filesystem, bytes of the inputs) for a build
    that reads ``inputs`` and, with ``python_env``, makes the Python environment."""
    total = sum(p.stat().st_size for p in inputs)
    return EXPANSION * total + (HEADROOM if python_env else 0), total


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def filesystem(path: Path) -> str:
    """``tmpfs mounted at /mnt/small``: the mount holding ``path`` and its type."""
    path = Path(os.path.abspath(path))
    while not path.exists():
        path = path.parent
    mount = path
    device = path.stat().st_dev
    while mount != mount.parent and mount.parent.stat().st_dev == device:
        mount = mount.parent
    kind = "filesystem"
    with contextlib.suppress(OSError), open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) > 2 and fields[1].replace("\\040", " ") == str(mount):
                kind = fields[2]  # the last entry for a mount point is the one in effect
    return f"{kind} mounted at {mount}"


def _words(path: Path, need: int | None, inputs: int | None) -> str:
    free = free_bytes(path) if path.exists() else 0
    text = f"{path} is on {filesystem(path)} with {ui.human_size(free)} free"
    if need is not None:
        text += f"; the build needs about {ui.human_size(need)} there"
        if inputs is not None:
            headroom = need - EXPANSION * inputs
            text += (f" ({EXPANSION} x its {ui.human_size(inputs)} of inputs"
                     + (f" + {ui.human_size(headroom)} for the Python environment's tools)"
                        if headroom > 0 else ")"))
    return text


def require(path: Path, need: int, inputs: int) -> None:
    """Refuse to start a build that cannot fit (exit 2, nothing written)."""
    if free_bytes(path) < need:
        raise UserError(f"not enough disk space: {_words(path, need, inputs)}; free some "
                        "space or build with -o on a larger filesystem. Nothing was written.")


def is_full_disk(exc: BaseException, path: Path) -> bool:
    """ENOSPC, a child that said so, or a child that failed while ``path``'s filesystem
    was all but full (Python's venv, for one, hides ensurepip's "No space left")."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if any(words in str(exc) for words in _NO_SPACE):
        return True
    try:
        return free_bytes(path) < NEARLY_FULL
    except OSError:
        return False


@contextlib.contextmanager
def full_disk_reported(path: Path, need: int | None = None,
                       inputs: int | None = None) -> Iterator[None]:
    """A full disk below this point becomes one clear UserError (the step's own message,
    which for a child process ends with its log's last lines, is kept after it)."""
    try:
        yield
    except (OSError, UserError) as exc:
        if not is_full_disk(exc, path):
            raise
        where = Path(exc.filename) if isinstance(exc, OSError) and exc.filename else path
        where = where if where.exists() else path
        raise UserError(f"no space left on device: {_words(where, need, inputs)}; free some "
                        f"space or build with -o on a larger filesystem.\n  ({exc})") from None
