"""Rules 14 and 16: systemd unit files inside packages, for CentOS 7's systemd 219.

Rule 14 (directives systemd 219 does not know, or must not be used) is decided by the
directive table ``specs/el7/systemd-219-directives.txt`` (format: ``SECTION DIRECTIVE
[VALUES...]``, ``!SECTION DIRECTIVE  # reason`` for forbidden ones). When the units
engineer's checker ``packager.units_lint`` is present it is used as is; until that branch
is merged this module reads the same file itself, so both agree on one table.

Rule 16 is about placement and the scriptlets of packages that ship units: units in
``/usr/lib/systemd/system``, presets in ``/usr/lib/systemd/system-preset``; ``%post``
presets on first install, ``%preun`` stops only on erase (``$1 -eq 0``), every systemctl
call silenced with ``|| :`` and skipped when systemd is not running.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Callable

from packager.errors import UserError
from packager.lint.finding import Finding
from packager.paths import EL7

DIRECTIVES_FILE = EL7 / "systemd-219-directives.txt"
UNIT_DIR = "/usr/lib/systemd/system/"
PRESET_DIR = "/usr/lib/systemd/system-preset/"
UNIT_SUFFIXES = (".service", ".target", ".socket", ".timer", ".path", ".mount", ".slice")
_EXEC_KEYS = {"ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop",
              "ExecStopPost"}
_SYSTEMD_DIR = re.compile(r"/(systemd/(system|user)|system-preset)(/|$)")


def is_unit_path(path: str) -> bool:
    return path.endswith(UNIT_SUFFIXES) and bool(_SYSTEMD_DIR.search(path))


def is_preset_path(path: str) -> bool:
    return path.endswith(".preset")


def placement_findings(artifact: str, path: str) -> list[Finding]:
    """Rule 16: a unit or preset file outside the directory CentOS 7 packages use."""
    if is_unit_path(path) and not path.startswith(UNIT_DIR):
        return [Finding("16", f"{artifact}:{path}", f"unit file outside {UNIT_DIR} "
                        "(/etc/systemd/system is the administrator's; /lib is not merged "
                        "into /usr on CentOS 7)")]
    if is_preset_path(path) and not path.startswith(PRESET_DIR):
        return [Finding("16", f"{artifact}:{path}", f"preset file outside {PRESET_DIR}")]
    return []


# ------------------------------------------------------------------------ rule 14


def unit_linter(directives_file: Path = DIRECTIVES_FILE) -> Callable[[str, str], list[str]]:
    """A function (text, name) -> ["name:line: message", ...] for the directive table."""
    if not directives_file.is_file():
        raise UserError(f"{directives_file} is missing: the systemd 219 directive table "
                        "is needed to check unit files (rule 14)")
    try:
        shared = importlib.import_module("packager.units_lint")
    except ImportError:
        shared = None
    if shared is not None:
        table = shared.load_directives(directives_file)
        return lambda text, name: shared.lint_unit(text, name, table)
    known, forbidden = _load_table(directives_file)
    return lambda text, name: _lint(text, name, known, forbidden)


def _load_table(path: Path) -> tuple[dict[str, dict[str, frozenset[str] | None]],
                                     dict[tuple[str, str], str]]:
    known: dict[str, dict[str, frozenset[str] | None]] = {}
    forbidden: dict[tuple[str, str], str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line, _, comment = raw.partition("#")
        words = line.split()
        if not words:
            continue
        if len(words) < 2:
            raise UserError(f"{path}:{lineno}: expected 'SECTION DIRECTIVE [VALUES...]'")
        if words[0].startswith("!"):
            forbidden[(words[0][1:], words[1])] = comment.strip() or "not allowed"
            continue
        known.setdefault(words[0], {})[words[1]] = frozenset(words[2:]) or None
    return known, forbidden


def _lint(text: str, name: str, known: dict[str, dict[str, frozenset[str] | None]],
          forbidden: dict[tuple[str, str], str]) -> list[str]:
    problems = []
    section: str | None = None
    for lineno, line in _logical_lines(text):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        where = f"{name}:{lineno}"
        if s.startswith("[") and s.endswith("]"):
            section = s[1:-1]
            if section not in known:
                problems.append(f"{where}: section [{section}] is not known to systemd 219")
            continue
        key, eq, value = s.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or section is None:
            problems.append(f"{where}: not KEY=VALUE inside a section: {s!r}")
            continue
        if section not in known:
            continue
        if (section, key) in forbidden:
            problems.append(f"{where}: {key}= is not allowed here: "
                            f"{forbidden[(section, key)]}")
        elif key not in known[section]:
            problems.append(f"{where}: {key}= is not a systemd 219 [{section}] directive")
        else:
            allowed = known[section][key]
            if allowed is not None and value and value not in allowed:
                problems.append(f"{where}: {key}={value} is not accepted by systemd 219 "
                                f"(one of: {' '.join(sorted(allowed))})")
            prefix = re.match(r"^[-@]*([+!:])", value) if key in _EXEC_KEYS else None
            if prefix:
                problems.append(f"{where}: {key}= prefix {prefix.group(1)!r} is newer than "
                                "systemd 219 (only '-' and '@')")
    return problems


def _logical_lines(text: str):
    buf, start = "", 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = lineno
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        yield start, buf + raw
        buf = ""
    if buf:
        yield start, buf


def directive_findings(artifact: str, path: str, text: str,
                       lint: Callable[[str, str], list[str]]) -> list[Finding]:
    out = []
    for problem in lint(text, path):
        # "path:line: message" -> the package's artifact, then "line N: message"
        rest = problem[len(path) + 1:] if problem.startswith(path + ":") else problem
        m = re.match(r"^\s*(\d+):\s*(.*)$", rest, re.DOTALL)
        out.append(Finding("14", f"{artifact}:{path}",
                           f"line {m.group(1)}: {m.group(2)}" if m else rest))
    return out


# ------------------------------------------------------------------------ rule 16 scriptlets

_GUARD = "/run/systemd/system"
_ZERO_TEST = re.compile(r"""\$\{?1\}?"?\s*(-eq|=|==)\s*"?0\b""")
_FIRST_TEST = re.compile(r"""\$\{?1\}?"?\s*(-eq|=|==)\s*"?1\b""")


def scriptlet_findings(artifact: str, units: list[str], scripts: dict[str, str]) -> list[Finding]:
    """Rule 16: what the el7 %systemd_* macros do, spelled out in our scriptlets."""
    if not units:
        return []
    names = ", ".join(sorted(p.rsplit("/", 1)[-1] for p in units))
    found = []

    def bad(msg: str) -> None:
        found.append(Finding("16", artifact, msg))

    post, preun, postun = (scripts.get(k, "") for k in ("post", "preun", "postun"))
    if "systemctl preset" not in post:
        bad(f"ships {names} but %post does not run 'systemctl preset' on first install")
    elif not _FIRST_TEST.search(post):
        bad("%post presets units without testing $1 -eq 1 (would reset them on upgrade)")
    if not re.search(r"systemctl\b.*\b(stop|disable)\b", preun):
        bad(f"ships {names} but %preun does not disable and stop them on erase")
    elif not _ZERO_TEST.search(preun):
        bad("%preun stops units without testing $1 -eq 0: an upgrade would stop the service")
    if "daemon-reload" not in postun:
        bad("%postun does not run 'systemctl daemon-reload'")
    for slot, body in (("post", post), ("preun", preun), ("postun", postun)):
        calls = [ln.strip() for ln in body.splitlines() if ln.strip().startswith("systemctl")]
        if calls and _GUARD not in body:
            bad(f"%{slot} calls systemctl without checking that systemd runs ({_GUARD})")
        for call in calls:
            if not re.search(r"\|\|\s*(:|true)\s*$", call):
                bad(f"%{slot}: '{call}' can fail the transaction (end it with '|| :')")
    return found
