"""RPM scriptlet bodies for packages that ship systemd units (docs/el7-rules.md rule 16).

We write RPMs without rpmbuild, so the el7 ``%systemd_post`` / ``%systemd_preun`` /
``%systemd_postun_with_restart`` macros have to be spelled out. Differences from the macros,
on purpose:

- every call is skipped when systemd is not PID 1 (``/run/systemd/system`` absent: image
  builds, chroots, containers), where systemctl would fail or act on the wrong system;
- an upgrade does not ``try-restart`` in ``%postun``. rpm runs each package's ``%postun``
  in transaction order, not in the services' start order, so ``yum update`` restarted
  fate-mysql after fate_flow and the managers, and the first job afterwards failed with
  ``(2013) Lost connection to MySQL server``. Instead ``%postun`` marks the running units
  that need a restart (its own and, transitively, the running services that start after
  them) in ``/run/fate-pkg/restart/``, and ``%posttrans`` — which rpm 4.11 runs once per
  package after every ``%postun`` of the transaction — restarts the marked units one at a
  time in the catalogue's start order. ``systemctl restart`` returns when the unit's
  ``ExecStartPost`` readiness check passed, so each service finds its dependencies up.
  The first ``%posttrans`` does the work and removes the marks; the others find none.
- an upgrade FROM a build older than that scheme still runs the installed package's old
  ``%postun`` (``systemctl try-restart`` of its own units, in transaction order). rpm 4.11
  orders a transaction's installs before its erases (lib/order.c: "installs first - then
  erases"), so every new ``%pre`` runs before any old ``%postun``: the new ``%pre`` asks the
  rpm database for the installed package's ``%postun`` and, when it is that old kind,
  marks the running units (its own and what starts after them) and stops them, the last
  to start first. The old ``try-restart`` then finds them stopped and does nothing, and
  ``%posttrans`` starts them in order. Between two builds with marks the ``%pre`` does
  nothing (no stop), on a first install it is not reached (``$1`` is 1), on erase rpm
  does not run it.
- a downgrade TO such a build (``yum history undo`` after that upgrade) runs our
  ``%postun``, which marks, but the incoming package has no ``%posttrans`` to restart:
  our ``%postun`` sees that in the rpm database and restarts the marked units itself, in
  start order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from packager.onhost.catalogue import Service

_UNIT = re.compile(r"^[A-Za-z0-9:_.@-]+\.(service|target|socket|timer|path)$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_QUIET = ">/dev/null 2>&1 || :"
#: Marks of units to restart at the end of the transaction (tmpfs: a reboot starts all anyway).
PENDING_DIR = "/run/fate-pkg/restart"
#: In the ``%postun`` of every build before the marks (the el7 macro's command), never in ours.
OLD_RESTART = "systemctl try-restart"


def _check(units: Sequence[str]) -> None:
    bad = [u for u in units if not _UNIT.match(u)]
    if bad:
        raise ValueError(f"not a unit name: {bad[0]!r}")


def _mark(units: Sequence[str], indent: int = 8, guarded: bool = True) -> str:
    """A mark per active unit (one ``if`` each: no loop of one, SC2043); ``guarded``: only
    on upgrade (``$1 -ge 1``, as ``%postun`` sees it)."""
    pad = " " * indent
    body = (f"{pad}mkdir -p {PENDING_DIR} {_QUIET}\n"
            + "".join(f"{pad}if systemctl -q is-active {u} >/dev/null 2>&1; then\n"
                      f"{pad}    : > {PENDING_DIR}/{u} 2>/dev/null || :\n"
                      f"{pad}fi\n" for u in units))
    return '    if [ "$1" -ge 1 ]; then\n' + body + "    fi\n" if guarded else body


def _stop_for_old_postun(package: str, marked: Sequence[str], sequence: Sequence[str]) -> str:
    """``%pre`` on upgrade: when the installed ``package``'s ``%postun`` is the old
    unordered ``try-restart``, mark the active ``marked`` units, then stop the marked ones
    in reverse start order (marks first: a stop may take a ``Requires=`` dependent along)."""
    stops = [u for u in reversed(sequence) if u in marked]
    return ('    if [ "$1" -ge 2 ]; then\n'
            f"        old=$(rpm -q --qf '%{{POSTUN}}\\n' {package} 2>/dev/null) || old=\n"
            '        case "$old" in\n'
            f"            *{PENDING_DIR}*) ;;\n"
            f'            *"{OLD_RESTART}"*)\n'
            + _mark(marked, indent=16, guarded=False)
            + "".join(f"                if [ -e {PENDING_DIR}/{u} ]; then\n"
                      f"                    systemctl stop {u} {_QUIET}\n"
                      "                fi\n" for u in stops)
            + "                ;;\n"
            "        esac\n"
            "    fi\n")


def scriptlets(units: list[str], restart: bool = True, order: Sequence[str] = (),
               dependents: Mapping[str, Sequence[str]] | None = None,
               package: str = "") -> dict[str, str]:
    """Bodies for ``post``, ``preun``, ``postun`` (and ``posttrans`` when restarting, and
    ``pre`` when restarting units of a named ``package``).

    ``$1`` is rpm's instance count.
    - pre: upgrade (``$1 -ge 2``) from a build whose ``%postun`` still try-restarts →
      mark and stop the running units (module docstring); otherwise nothing.
    - post: first install (``$1 -eq 1``) → ``systemctl preset`` (the preset file decides).
    - preun: erase (``$1 -eq 0``) → disable and stop; never on upgrade, where the old
      package's preun also runs and stopping would take the service down for nothing.
    - postun: always daemon-reload (unit files changed or went away); on upgrade
      (``$1 -ge 1``) mark the active ones of ``units`` and of their ``dependents`` for a
      restart, and restart them at once when the incoming build has no ``%posttrans``
      — unless ``restart`` is False (el7's plain ``%systemd_postun``: e.g.
      ``fate.target``, whose restart would restart every FATE service, ``PartOf=`` it).
    - posttrans: restart the marked units in ``order`` (every FATE unit, start order).
    """
    if not units:
        raise ValueError("scriptlets need at least one unit")
    _check(units)
    dependents = dependents or {}
    marked: list[str] = []
    for unit in units:
        for name in [unit, *dependents.get(unit, ())]:
            if name not in marked:
                marked.append(name)
    _check(marked)
    sequence = list(order) or list(units)
    _check(sequence)
    missing = [u for u in marked if u not in sequence]
    if restart and missing:
        raise ValueError(f"{missing[0]} is not in the restart order")
    names = " ".join(units)
    guard = "if [ -d /run/systemd/system ]; then\n"
    bodies = {
        "post": (
            f"{guard}"
            '    if [ "$1" -eq 1 ]; then\n'
            f"        systemctl preset {names} {_QUIET}\n"
            "    fi\n"
            "fi\n"
        ),
        "preun": (
            f"{guard}"
            '    if [ "$1" -eq 0 ]; then\n'
            f"        systemctl --no-reload disable {names} {_QUIET}\n"
            f"        systemctl stop {names} {_QUIET}\n"
            "    fi\n"
            "fi\n"
        ),
        "postun": (
            f"{guard}"
            f"    systemctl daemon-reload {_QUIET}\n"
            + (_mark(marked) if restart else "")
            + (_restart_for_old_posttrans(package, sequence) if restart and package else "")
            + "fi\n"
        ),
    }
    if restart and package:
        if not _PACKAGE.match(package):
            raise ValueError(f"not a package name: {package!r}")
        bodies["pre"] = guard + _stop_for_old_postun(package, marked, sequence) + "fi\n"
    if restart:
        bodies["posttrans"] = (
            f"if [ -d /run/systemd/system ] && [ -d {PENDING_DIR} ]; then\n"
            + _restart_marked(sequence, 4)
            + "fi\n"
        )
    return bodies


def _restart_marked(sequence: Sequence[str], indent: int) -> str:
    """Restart each marked unit once, in ``sequence`` (start order), taking its mark."""
    pad = " " * indent
    return "".join(f"{pad}if [ -e {PENDING_DIR}/{u} ]; then\n"
                   f"{pad}    rm -f {PENDING_DIR}/{u}\n"
                   f"{pad}    systemctl restart {u} {_QUIET}\n"
                   f"{pad}fi\n" for u in sequence)


def _restart_for_old_posttrans(package: str, sequence: Sequence[str]) -> str:
    """``%postun`` on upgrade: when the package that replaces this one has no
    ``%posttrans`` (a downgrade to a build before the marks, e.g. ``yum history undo``),
    nothing would restart the marked units: restart them here, in start order. rpm 4.11
    removes this package from its database after ``%postun``, so both instances answer."""
    return ('    if [ "$1" -ge 1 ]; then\n'
            "        case \"$(rpm -q --qf '%|POSTTRANS?{1}:{0}|\\n' "
            f"{package} 2>/dev/null)\" in\n"
            "            *0*)\n"
            + _restart_marked(sequence, 16)
            + "                ;;\n"
            "        esac\n"
            "    fi\n")


def restart_graph(services: Sequence[Service]) -> tuple[list[str], dict[str, list[str]]]:
    """(every unit in start order, {unit: units that start after it and need it}) from the
    service catalogue's ``stage`` and ``after`` (transitive: mysql → managers → fate_flow).
    ``services`` come in start order (``catalogue.load()``)."""
    ordered = list(services)
    by_name = {s.name: s for s in ordered}
    direct: dict[str, set[str]] = {s.name: set() for s in ordered}
    for svc in ordered:
        for dep in svc.after:
            direct[dep].add(svc.name)

    def closure(name: str) -> set[str]:
        out: set[str] = set()
        todo = list(direct[name])
        while todo:
            item = todo.pop()
            if item not in out:
                out.add(item)
                todo.extend(direct[item])
        return out

    order = [s.unit_file for s in ordered]
    graph = {by_name[n].unit_file: [s.unit_file for s in ordered if s.name in closure(n)]
             for n in by_name}
    return order, graph
