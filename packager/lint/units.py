"""Rules 14 and 16: systemd unit files inside packages, for CentOS 7's systemd 219.

Rule 14 (directives systemd 219 does not know, or must not be used) is the project's unit
checker ``packager.units_lint`` with its table ``specs/el7/systemd-219-directives.txt``,
applied to unit files read from the payload; ``fate-pkg units lint`` and this lint
therefore never disagree.

Rule 16 is about placement and the scriptlets of packages that ship units: units in
``/usr/lib/systemd/system``, presets in ``/usr/lib/systemd/system-preset``; ``%post``
presets on first install, ``%preun`` stops only on erase (``$1 -eq 0``), every systemctl
call silenced with ``|| :`` and skipped when systemd is not running.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from packager import units_lint
from packager.errors import UserError
from packager.lint.finding import Finding
from packager.units_lint import DIRECTIVES_FILE

UNIT_DIR = "/usr/lib/systemd/system/"
PRESET_DIR = "/usr/lib/systemd/system-preset/"
UNIT_SUFFIXES = (".service", ".target", ".socket", ".timer", ".path", ".mount", ".slice")
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
    """``packager.units_lint`` bound to one directive table: (text, name) -> problems."""
    if not directives_file.is_file():
        raise UserError(f"{directives_file} is missing: the systemd 219 directive table "
                        "is needed to check unit files (rule 14)")
    try:
        table = units_lint.load_directives(directives_file)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the directive table: {exc}") from None
    return lambda text, name: units_lint.lint_unit(text, name, table)


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
    for slot in ("pre", "post", "preun", "postun", "posttrans"):
        body = scripts.get(slot, "")
        calls = [ln.strip() for ln in body.splitlines() if ln.strip().startswith("systemctl")]
        if calls and _GUARD not in body:
            bad(f"%{slot} calls systemctl without checking that systemd runs ({_GUARD})")
        for call in calls:
            if not re.search(r"\|\|\s*(:|true)\s*$", call):
                bad(f"%{slot}: '{call}' can fail the transaction (end it with '|| :')")
    return found
