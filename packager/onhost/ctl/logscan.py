"""Find a service's log files and the last line in them that reports an error.

The files are the seed's (eggroll's bootstrap.*.out/err and log4j logs, fate_flow's logs,
mysqld.log): units/services.yaml lists their globs per service, so supervisor hosts and
systemd hosts are read the same way; the journal holds stdout/stderr on systemd hosts.
"""

import glob
import os
import re
from typing import List, Optional, Tuple

from packager.onhost.catalogue import Service

#: What an error line looks like in log4j, Python logging, Python tracebacks and mysqld.
ERROR_LINE = re.compile(
    r"(\bERROR\b|\bFATAL\b|\bCRITICAL\b|\bSEVERE\b|\[ERROR\]|^\w*(Error|Exception)\b"
    r"|\b[\w.]+(Exception|Error): |Traceback \(most recent call last\))"
)
_TAIL_BYTES = 256 * 1024


def log_files(svc: Service, root_path: object) -> List[str]:
    """Existing log files of ``svc``, newest first. ``root_path`` maps an absolute path
    into the inspected root (Host.path)."""
    seen = {}
    for pattern in svc.logs + [svc.stdout_log, svc.stderr_log]:
        for path in glob.glob(root_path(pattern)):  # type: ignore
            if os.path.isfile(path):
                seen[os.path.realpath(path)] = path
    return sorted(seen.values(), key=lambda p: os.path.getmtime(p), reverse=True)


def tail_lines(path: str, count: int) -> List[str]:
    """The last ``count`` lines, reading only the end of a big file."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        block = 64 * 1024
        data = b""
        while size > 0 and data.count(b"\n") <= count:
            step = min(block, size)
            size -= step
            fh.seek(size)
            data = fh.read(step) + data
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[-count:] if count else []


def last_error(paths: List[str]) -> Optional[Tuple[str, str]]:
    """(file, line) of the last error line in the newest file that has one."""
    for path in paths:
        try:
            lines = tail_lines(path, 2000)
        except OSError:
            continue
        for line in reversed(lines):
            if ERROR_LINE.search(line):
                return path, line.strip()
    return None
