"""The systemd-219 directive check refuses what CentOS 7 would silently ignore (rule 14)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from packager.units_lint import DIRECTIVES_FILE, lint_unit, load_directives

CLEAN = """[Unit]
Description=demo
After=network-online.target

[Service]
Type=simple
User=app
ExecStart=/usr/bin/true
Restart=on-failure
StartLimitInterval=600
StartLimitBurst=5
ProtectSystem=full
ProtectHome=read-only
ReadWriteDirectories=-/data/logs
LimitNOFILE=65535

[Install]
WantedBy=multi-user.target
"""


def with_line(section: str, line: str) -> str:
    return CLEAN.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)


def test_clean_unit_passes():
    assert lint_unit(CLEAN, "demo.service") == []


@pytest.mark.parametrize("section,line,why", [
    ("Service", "ProtectSystem=strict", "ProtectSystem=strict is not accepted"),
    ("Service", "ProtectKernelTunables=yes", "not a systemd 219 [Service] directive"),
    ("Service", "ProtectControlGroups=yes", "not a systemd 219 [Service] directive"),
    ("Service", "ReadWritePaths=/data", "not a systemd 219 [Service] directive"),
    ("Service", "ReadOnlyPaths=/etc", "not a systemd 219 [Service] directive"),
    ("Service", "RestrictRealtime=yes", "not a systemd 219"),
    ("Service", "MemoryDenyWriteExecute=yes", "not a systemd 219"),
    ("Service", "ExecStartPre=+/usr/bin/true", "prefix '+' is newer than systemd 219"),
    ("Service", "ExecStartPost=-!/usr/bin/true", "prefix '!' is newer"),
    ("Service", "DynamicUser=yes", "not a systemd 219"),
    ("Service", "PrivateUsers=yes", "not a systemd 219"),
    ("Service", "RemoveIPC=yes", "not a systemd 219"),
    ("Service", "RestrictNamespaces=yes", "not a systemd 219"),
    ("Service", "StateDirectory=fate", "not a systemd 219"),
    ("Service", "LogsDirectory=fate", "not a systemd 219"),
    ("Service", "CacheDirectory=fate", "not a systemd 219"),
    ("Service", "ConfigurationDirectory=fate", "not a systemd 219"),
    ("Service", "LockPersonality=yes", "not a systemd 219"),
    ("Service", "StandardOutput=file:/data/logs/x.log", "StandardOutput=file:/data/logs/x.log"),
    ("Service", "StandardError=append:/data/logs/x.log", "is not accepted by systemd 219"),
    ("Service", "Type=exec", "Type=exec is not accepted"),
    ("Service", "ProtectHostname=yes", "not a systemd 219"),
    ("Service", "ProtectKernelLogs=yes", "not a systemd 219"),
    ("Service", "ProtectClock=yes", "not a systemd 219"),
    ("Service", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "not a systemd 219"),
    ("Service", "TasksMax=4096", "not a systemd 219"),
    ("Service", "MemoryMax=2G", "not a systemd 219"),
    ("Unit", "StartLimitIntervalSec=600", "not a systemd 219 [Unit] directive"),
    ("Unit", "StartLimitInterval=600", "systemd 219 reads it in [Service]"),
    ("Service", "SystemCallFilter=@system-service", "gives no protection"),
    # v225 (NEWS: "A new unit file setting for services has been introduced: UtmpMode=").
    ("Service", "UtmpMode=user", "not a systemd 219 [Service] directive"),
])
def test_rule_14_is_refused(section, line, why):
    problems = lint_unit(with_line(section, line), "x.service")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"x.service:{2 if section == 'Unit' else 6}:")
    assert why in problems[0]


def test_unknown_section_and_garbage_lines():
    problems = lint_unit("[Unit]\nDescription=x\nnot a directive\n[Foo]\nBar=1\n", "y.service")
    assert problems == ["y.service:3: not KEY=VALUE: 'not a directive'",
                        "y.service:4: section [Foo] is not known to systemd 219"]


def test_continuation_lines_are_one_directive():
    text = CLEAN.replace("ExecStart=/usr/bin/true", "ExecStart=/usr/bin/true \\\n  --flag")
    assert lint_unit(text, "demo.service") == []


def test_directive_list_matches_systemd_219():
    """Facts from v219's load-fragment-gperf: present then, absent until later releases."""
    known = load_directives(DIRECTIVES_FILE).known
    for name in ("FileDescriptorStoreMax", "ReadWriteDirectories", "RuntimeDirectory",
                 "StartLimitInterval", "StartLimitBurst", "MemoryLimit", "CPUQuota",
                 "NoNewPrivileges", "ProtectSystem", "ProtectHome", "SuccessExitStatus"):
        assert name in known["Service"], name
    for name in ("ReadWritePaths", "TasksMax", "ProtectKernelTunables", "DynamicUser",
                 "AmbientCapabilities", "StateDirectory", "MemoryMax", "RuntimeMaxSec",
                 "UtmpMode"):
        assert name not in known["Service"], name
    assert "StartLimitIntervalSec" not in known["Unit"]
    assert known["Service"]["ProtectSystem"] == frozenset(
        {"yes", "no", "true", "false", "on", "off", "1", "0", "full"})
    assert set(known) == {"Unit", "Service", "Install"}


#: Unit properties the code and tests read, each of which systemd 219's D-Bus API has
#: (src/core/dbus-unit.c, dbus-service.c, dbus-execute.c as of v219). NRestarts (235),
#: InvocationID (232) or TasksCurrent (227) would prove nothing about CentOS 7.
PROPERTIES_219 = {"LoadState", "ActiveState", "SubState", "ConditionResult", "MainPID",
                  "LimitNOFILE", "LimitNPROC", "ExecMainStartTimestampMonotonic",
                  "ActiveEnterTimestampMonotonic", "UnitFileState"}  # all in 219 dbus-unit.c


def _properties_read(tree: ast.AST) -> set:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr",
                                                   getattr(node.func, "id", "")) in (
                "show", "systemctl_show"):
            for arg in node.args[1:]:
                items = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
                found |= {i.value for i in items
                          if isinstance(i, ast.Constant) and isinstance(i.value, str)}
    return found


def test_no_code_reads_a_unit_property_systemd_219_lacks():
    root = Path(__file__).resolve().parents[2]
    used = set()
    for source in [*root.glob("packager/**/*.py"), *root.glob("tests/**/*.py")]:
        used |= _properties_read(ast.parse(source.read_text()))
    assert "MainPID" in used and "ActiveState" in used  # the scan sees the calls
    assert used <= PROPERTIES_219, sorted(used - PROPERTIES_219)
