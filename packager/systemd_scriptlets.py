"""RPM scriptlet bodies for packages that ship systemd units (docs/el7-rules.md rule 16).

We write RPMs without rpmbuild, so the el7 ``%systemd_post`` / ``%systemd_preun`` /
``%systemd_postun_with_restart`` macros have to be spelled out. Differences from the macros,
on purpose: every call is skipped when systemd is not PID 1 (``/run/systemd/system`` absent:
image builds, chroots, containers), where systemctl would fail or act on the wrong system.
"""

from __future__ import annotations

import re

_UNIT = re.compile(r"^[A-Za-z0-9:_.@-]+\.(service|target|socket|timer|path)$")
_QUIET = ">/dev/null 2>&1 || :"


def scriptlets(units: list[str], restart: bool = True) -> dict[str, str]:
    """Bodies for ``post``, ``preun`` and ``postun`` (``$1`` is rpm's instance count).

    - post: first install (``$1 -eq 1``) → ``systemctl preset`` (the preset file decides).
    - preun: erase (``$1 -eq 0``) → disable and stop; never on upgrade, where the old
      package's preun also runs and stopping would take the service down for nothing.
    - postun: always daemon-reload (unit files changed or went away); on upgrade
      (``$1 -ge 1``) try-restart, so running services pick up the new version — unless
      ``restart`` is False (el7's plain ``%systemd_postun``: e.g. ``fate.target``, whose
      restart would restart every FATE service because they are ``PartOf=`` it).
    """
    if not units:
        raise ValueError("scriptlets need at least one unit")
    bad = [u for u in units if not _UNIT.match(u)]
    if bad:
        raise ValueError(f"not a unit name: {bad[0]!r}")
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
