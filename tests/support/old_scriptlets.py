"""The scriptlets of builds before the ordered restarts (e041a3f^, kept as a test fixture).

Their ``%postun`` try-restarts the package's own units on upgrade, in rpm's transaction
order; hosts in the field run such builds. ``build_with_old_scriptlets`` is the real
``fate-pkg build`` with these bodies instead of today's, so an upgrade from them can be
tried for real (tests/e2e). The text below is that commit's ``scriptlets()``, unchanged
but for the signature that accepts (and ignores) today's extra arguments.
"""

from __future__ import annotations

import sys

_QUIET = ">/dev/null 2>&1 || :"


def scriptlets(units: list[str], restart: bool = True, *_unused) -> dict[str, str]:
    names = " ".join(units)
    guard = "if [ -d /run/systemd/system ]; then\n"
    return {
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
            + ('    if [ "$1" -ge 1 ]; then\n'
               f"        systemctl try-restart {names} {_QUIET}\n"
               "    fi\n" if restart else "")
            + "fi\n"
        ),
    }


def build_with_old_scriptlets(argv: list[str]) -> int:
    """``fate-pkg`` ``argv`` with the old bodies in every package that ships units."""
    from packager.assemble import specs
    from packager.cli import main

    specs.scriptlets = scriptlets
    return main(argv)


if __name__ == "__main__":
    sys.exit(build_with_old_scriptlets(sys.argv[1:]))
