"""The scriptlets of builds before the ordered restarts (e041a3f^), as a test fixture.

Their ``%postun`` try-restarts the package's own units on upgrade, in rpm's transaction
order, and they have no ``%pre`` for units and no ``%posttrans``; hosts in the field run
such builds. ``build_with_old_scriptlets`` is the real ``fate-pkg build`` with these bodies
instead of today's, so an upgrade from them can be tried for real (tests/e2e). ``%post``
and ``%preun`` have not changed since and are today's; the ``%postun`` is that commit's.
"""

from __future__ import annotations

import sys

from packager.systemd_scriptlets import scriptlets as todays

_QUIET = ">/dev/null 2>&1 || :"


def scriptlets(units: list[str], restart: bool = True, *_unused) -> dict[str, str]:
    """The bodies e041a3f^ wrote (today's extra arguments are accepted and ignored)."""
    bodies = {slot: body for slot, body in todays(units, restart).items()
              if slot in ("post", "preun")}
    bodies["postun"] = (
        "if [ -d /run/systemd/system ]; then\n"
        f"    systemctl daemon-reload {_QUIET}\n"
        + ('    if [ "$1" -ge 1 ]; then\n'
           f"        systemctl try-restart {' '.join(units)} {_QUIET}\n"
           "    fi\n" if restart else "")
        + "fi\n")
    return bodies


def build_with_old_scriptlets(argv: list[str]) -> int:
    """``fate-pkg`` ``argv`` with the old bodies in every package that ships units."""
    from packager.assemble import specs
    from packager.cli import main

    specs.scriptlets = scriptlets
    return main(argv)


if __name__ == "__main__":
    sys.exit(build_with_old_scriptlets(sys.argv[1:]))
