"""Rule 17: Python shipped to CentOS 7 must run on Python 3.6 (vermin --target=3.6-).

Files are written into one temporary directory (Python sources are small; binaries never
go there) and vermin runs once over all of them, with the options the project's own
target-side code is held to (``--target=3.6- --no-tips --violations --eval-annotations``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packager.errors import UserError
from packager.lint.finding import Finding

VERMIN_ARGS = ["--target=3.6-", "--no-tips", "--violations", "--eval-annotations"]
_FILE_LINE = re.compile(r"^(?P<versions>\S.*?)\s{2,}(?P<path>/.*\.py)$")
_PY_SHEBANG = re.compile(rb"^#!\s*\S*?(python[0-9.]*)\b|^#!\s*\S*env\s+python")


@dataclass
class PythonFile:
    artifact: str
    source: bytes


def is_python(path: str, head: bytes) -> bool:
    return path.endswith(".py") or bool(_PY_SHEBANG.match(head))


def vermin_command() -> list[str]:
    """vermin's script: next to this Python (a venv not on PATH), else on PATH."""
    beside = Path(sys.executable).parent / "vermin"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("vermin")
    if found:
        return [found]
    raise UserError("vermin is needed to check shipped Python files (rule 17): "
                    "pip install vermin")


class PythonSpool:
    """Python files to check, written to disk as they are found and checked together.

    The lint finds them in the payloads of every package and checks them at the end, in
    one vermin run; held in memory they were the text of every shipped ``.py`` (11 MiB at
    a third of the real release). Only each file's label stays here.
    """

    def __init__(self) -> None:
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._labels: dict[str, str] = {}  # path written -> the artifact it came from

    def __len__(self) -> int:
        return len(self._labels)

    def add(self, artifact: str, source: bytes) -> None:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fate-pkg-lint-py-")
        path = Path(self._tmp.name, f"f{len(self._labels)}.py")
        path.write_bytes(source)
        self._labels[str(path)] = artifact

    def check(self) -> list[Finding]:
        """Rule 17 over every file added (vermin once), then the files are removed."""
        if not self._labels:
            return []
        if self._tmp is None:
            raise ValueError("PythonSpool.check: already checked")
        try:
            cmd = vermin_command()
            r = subprocess.run([*cmd, *VERMIN_ARGS, self._tmp.name], capture_output=True,
                               text=True)
            if r.returncode not in (0, 1):
                raise UserError(f"vermin failed (exit {r.returncode}): "
                                f"{r.stderr.strip()[:200]}")
            findings = _parse(r.stdout, self._labels)
            if r.returncode == 1 and not findings:
                detail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or \
                    ["no output"]
                raise UserError(f"vermin failed without naming a file: {detail[0][:200]}")
            return findings
        finally:
            self.close()

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def check_python(files: list[PythonFile]) -> list[Finding]:
    spool = PythonSpool()
    for f in files:
        spool.add(f.artifact, f.source)
    return spool.check()


def _parse(output: str, by_path: dict[str, str]) -> list[Finding]:
    reasons: dict[str, list[str]] = {}
    verdict: dict[str, str] = {}
    current: str | None = None
    for line in output.splitlines():
        m = _FILE_LINE.match(line)
        if m and m.group("path") in by_path:
            current = m.group("path")
            verdict[current] = m.group("versions").strip()
            reasons.setdefault(current, [])
        elif line.startswith("  ") and current:
            reason = line.strip()
            if reason not in reasons[current]:
                reasons[current].append(reason)
        elif not line.strip() or not line.startswith(" "):
            current = None
    findings = []
    for path, versions in verdict.items():
        why = "; ".join(reasons[path][:4]) or "see vermin"
        if "!3" in versions:
            msg = f"not Python 3 code ({why})"
        else:
            msg = f"needs Python {versions.replace('!2, ', '')}, CentOS 7 has 3.6 ({why})"
        findings.append(Finding("17", by_path[path], msg))
    return findings
