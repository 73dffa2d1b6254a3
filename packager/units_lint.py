"""Refuse unit files that systemd 219 (CentOS 7) would not understand.

systemd ignores an unknown directive with only a warning, so a unit written for a modern
systemd "works" on CentOS 7 with its hardening or its limits silently missing. This check
knows the directives 219 parses, per section (``specs/el7/systemd-219-directives.txt``, taken
from v219's load-fragment-gperf), the values it accepts for the enumerated ones we use, and
the Exec prefixes it knows (``-`` and ``@``; ``+``/``!``/``:`` came later), and reports every
violation with file, line and reason (docs/el7-rules.md rules 14-15).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packager import resources

DIRECTIVES_FILE = resources.el7() / "systemd-219-directives.txt"

#: Sections that take the Service directive set (exec/kill/cgroup contexts included).
_EXEC_KEYS = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop",
              "ExecStopPost")
_BAD_EXEC_PREFIX = re.compile(r"^[-@]*([+!:])")


@dataclass
class Directives:
    """What systemd 219 accepts: {section: {directive: allowed values or None for any}}."""

    known: dict[str, dict[str, frozenset[str] | None]] = field(default_factory=dict)
    forbidden: dict[tuple[str, str], str] = field(default_factory=dict)


def load_directives(path: Path = DIRECTIVES_FILE) -> Directives:
    result = Directives()
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line, _, comment = raw.partition("#")
        words = line.split()
        if not words:
            continue
        if len(words) < 2:
            raise ValueError(f"{path}:{lineno}: expected 'SECTION DIRECTIVE [VALUES...]'")
        section, name = words[0], words[1]
        if section.startswith("!"):
            result.forbidden[(section[1:], name)] = comment.strip() or "forbidden"
            continue
        values = frozenset(words[2:]) if len(words) > 2 else None
        result.known.setdefault(section, {})[name] = values
    return result


def _unit_lines(text: str):
    """(line number, logical line) with backslash continuations joined, as systemd reads them."""
    buf, start = "", 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = lineno
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        yield start, buf + raw
        buf = ""
    if buf:
        yield start, buf


def lint_unit(text: str, name: str, directives: Directives | None = None) -> list[str]:
    """Every reason systemd 219 would ignore or reject part of this unit, as
    ``name:line: message`` strings (empty list = clean)."""
    directives = directives or load_directives()
    problems: list[str] = []
    section = None
    for lineno, line in _unit_lines(text):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        where = f"{name}:{lineno}"
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            if section not in directives.known:
                problems.append(f"{where}: section [{section}] is not known to systemd 219")
            continue
        if "=" not in stripped:
            problems.append(f"{where}: not KEY=VALUE: {stripped!r}")
            continue
        if section is None:
            problems.append(f"{where}: directive outside a section")
            continue
        key, _, value = stripped.partition("=")
        key, value = key.strip(), value.strip()
        known = directives.known.get(section)
        if known is None:
            continue  # already reported the section
        if (section, key) in directives.forbidden:
            problems.append(f"{where}: {key}= is not allowed here: "
                            f"{directives.forbidden[(section, key)]}")
            continue
        if key not in known:
            hint = ""
            for other, keys in directives.known.items():
                if other != section and key in keys:
                    hint = f" (systemd 219 reads it in [{other}])"
            problems.append(f"{where}: {key}= is not a systemd 219 [{section}] directive{hint}")
            continue
        allowed = known[key]
        if allowed is not None and value and value not in allowed:
            problems.append(f"{where}: {key}={value} is not accepted by systemd 219 "
                            f"(one of: {' '.join(sorted(allowed))})")
        bad_prefix = _BAD_EXEC_PREFIX.match(value) if key in _EXEC_KEYS else None
        if bad_prefix:
            problems.append(f"{where}: {key}= prefix {bad_prefix.group(1)!r} is newer than "
                            "systemd 219 (only '-' and '@')")
    return problems


def lint_files(paths: list[Path], directives: Directives | None = None) -> list[str]:
    directives = directives or load_directives()
    problems: list[str] = []
    for path in paths:
        problems += lint_unit(path.read_text(encoding="utf-8"), str(path), directives)
    return problems
