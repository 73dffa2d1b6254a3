"""Rule 19: shell scripts that run on CentOS 7 (bash 4.2).

Three checks, from cheapest to strictest:

* ``bash -n``: the script parses (the host's bash is newer, so this alone lets 4.3+
  syntax through; hence the next check);
* a search for bash features newer than 4.2 (``specs/el7/lint.yaml``: ``${x@Q}``,
  ``declare -n``, ``wait -n``, negative subscripts, ``mapfile -d`` ...), because those
  parse on the build host and fail only on the target;
* for scripts we write (``shell_own`` and every scriptlet): ``shellcheck`` clean, and for
  executable scripts ``set -euo pipefail`` (scriptlets excepted: rpm aborts a transaction
  on a failing ``%pre``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packager.errors import UserError
from packager.lint.config import LintConfig
from packager.lint.finding import Finding

_SHEBANG = re.compile(rb"^#!\s*(\S+)(?:\s+(\S+))?")
_SHELLS = {"sh": "sh", "bash": "bash"}
_GCC_LINE = re.compile(r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+): (?P<level>\w+): (?P<msg>.*)$")


@dataclass
class Script:
    """A script to check: where it is reported, its text, its dialect, how strictly."""

    artifact: str  # "pkg.rpm:/usr/bin/x" or "pkg.rpm %post" or "bundle/install.sh"
    text: str
    dialect: str  # "sh" | "bash"
    own: bool  # shellcheck applies
    needs_strict_mode: bool  # set -euo pipefail applies


def shell_dialect(path: str, head: bytes) -> str | None:
    """"bash"/"sh" for a shell script (by ``#!`` line, or ``.sh`` name), else None."""
    m = _SHEBANG.match(head)
    if m:
        prog = m.group(1).rsplit(b"/", 1)[-1].decode(errors="replace")
        if prog == "env" and m.group(2):
            prog = m.group(2).rsplit(b"/", 1)[-1].decode(errors="replace")
        return _SHELLS.get(prog)
    if path.endswith(".sh") and b"\0" not in head:
        return "bash"  # sourced scripts (init_env.sh): CentOS 7's sh is bash
    return None


def interpreter_dialect(interpreter: str) -> str | None:
    return _SHELLS.get(interpreter.rsplit("/", 1)[-1])


def _strip_comments(text: str) -> str:
    out = []
    for line in text.splitlines():
        stripped = line.lstrip()
        out.append("" if stripped.startswith("#") else line)
    return "\n".join(out)


def has_strict_mode(text: str) -> bool:
    """True when ``set`` turns on errexit, nounset and pipefail somewhere near the top."""
    opts: set[str] = set()
    for line in _strip_comments(text).splitlines():
        words = line.split()
        if not words or words[0] != "set":
            continue
        it = iter(words[1:])
        for w in it:
            if w == "-o":
                opts.add(next(it, ""))
            elif w.startswith("-") and not w.startswith("--"):
                letters = w[1:]
                if "o" in letters:
                    letters = letters.replace("o", "")
                    opts.add(next(it, ""))
                opts.update({"e": "errexit", "u": "nounset"}.get(c, c) for c in letters)
    return {"errexit", "nounset", "pipefail"} <= opts


def feature_findings(script: Script, config: LintConfig) -> list[Finding]:
    text = _strip_comments(script.text)
    found = []
    for feature in config.bash_features:
        m = feature.regex.search(text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            found.append(Finding("19", script.artifact, f"line {line}: {feature.what} needs "
                                 f"bash {feature.since}; CentOS 7 has 4.2"))
    return found


def check_scripts(scripts: list[Script], config: LintConfig) -> list[Finding]:
    """All rule-19 findings for ``scripts`` (bash and shellcheck run in one temp dir)."""
    if not scripts:
        return []
    if not shutil.which("bash"):
        raise UserError("bash is needed to check shell scripts (rule 19)")
    own = [s for s in scripts if s.own]
    if own and not shutil.which("shellcheck"):
        raise UserError("shellcheck is needed to check our shell scripts (rule 19): "
                        "apt-get install shellcheck")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="fate-pkg-lint-sh-") as tmp:
        paths: dict[str, Script] = {}
        for i, script in enumerate(scripts):
            path = Path(tmp, f"{i}.sh")
            path.write_text(script.text, encoding="utf-8", errors="surrogateescape")
            paths[str(path)] = script
            r = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
            if r.returncode != 0:
                msg = r.stderr.strip().splitlines()
                detail = msg[0].replace(str(path) + ": ", "") if msg else f"exit {r.returncode}"
                findings.append(Finding("19", script.artifact, f"bash -n: {detail}"))
            findings += feature_findings(script, config)
            if script.needs_strict_mode and not has_strict_mode(script.text):
                findings.append(Finding("19", script.artifact, "no 'set -euo pipefail'"))
        for dialect in ("sh", "bash"):
            group = [p for p, s in paths.items() if s.own and s.dialect == dialect]
            if group:
                findings += _shellcheck(group, dialect, paths)
    return findings


def _shellcheck(files: list[str], dialect: str, paths: dict[str, Script]) -> list[Finding]:
    r = subprocess.run(["shellcheck", "--format=gcc", f"--shell={dialect}", *files],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise UserError(f"shellcheck failed (exit {r.returncode}): {r.stderr.strip()[:200]}")
    out = []
    for line in r.stdout.splitlines():
        m = _GCC_LINE.match(line)
        if m and m.group("file") in paths:
            out.append(Finding("19", paths[m.group("file")].artifact,
                               f"shellcheck line {m.group('line')}: {m.group('msg')}"))
    return out
