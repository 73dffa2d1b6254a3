"""Rules 14, 16, 17, 18, 19: what is inside the payload and the scriptlets, read as a stream."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from packager.errors import UserError
from packager.lint import CheckOptions, Summary, check_paths
from packager.rpm import Compression, Dependency, FileEntry, Script
from tests.lint.craft import build, package

UNIT_DIR = "/usr/lib/systemd/system"
PRESET = "/usr/lib/systemd/system-preset/90-fate.preset"

GOOD_UNIT = """\
[Unit]
Description=FATE board
After=network.target fate-flow.service

[Service]
Type=simple
User=app
Group=apps
EnvironmentFile=-/etc/fate/env/fate-board.env
ExecStart=/data/projects/fate/common/jdk/jdk-8u192/bin/java -jar fateboard.jar
Restart=on-failure
RestartSec=5
StartLimitInterval=300
StartLimitBurst=5
LimitNOFILE=65535
PrivateTmp=yes
ProtectSystem=full
SuccessExitStatus=143

[Install]
WantedBy=multi-user.target
"""

# What the el7 %systemd_post/%systemd_preun/%systemd_postun_with_restart macros do.
GUARD = "if [ -d /run/systemd/system ]; then\n"
GOOD_SCRIPTS = {
    "post": Script(GUARD + '  if [ "$1" -eq 1 ]; then\n'
                   "    systemctl preset fate-board.service >/dev/null 2>&1 || :\n  fi\nfi\n"),
    "preun": Script(GUARD + '  if [ "$1" -eq 0 ]; then\n'
                    "    systemctl --no-reload disable fate-board.service >/dev/null 2>&1 || :\n"
                    "    systemctl stop fate-board.service >/dev/null 2>&1 || :\n  fi\nfi\n"),
    "postun": Script(GUARD + "  systemctl daemon-reload >/dev/null 2>&1 || :\n"
                     '  if [ "$1" -ge 1 ]; then\n'
                     "    systemctl try-restart fate-board.service >/dev/null 2>&1 || :\n"
                     "  fi\nfi\n"),
}


def write(tmp: Path, name: str, text: str | bytes, mode: int = 0o644) -> Path:
    p = tmp / "src" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        p.write_text(text)
    else:
        p.write_bytes(text)
    p.chmod(mode)
    return p


def unit_package(tmp: Path, unit_text: str, unit_path: str = f"{UNIT_DIR}/fate-board.service",
                 scripts=None, preset: bool = True) -> Path:
    files = [FileEntry(unit_path, "file", source=write(tmp, "unit", unit_text))]
    if preset:
        files.append(FileEntry(PRESET, "file", source=write(
            tmp, "preset", "enable fate-board.service\n")))
    pkg = package(tmp, files=files, scripts=GOOD_SCRIPTS if scripts is None else scripts)
    return build(tmp / "out", pkg, compression=Compression("xz"))


def by_rule(findings, rule: str) -> list[str]:
    return [f"{f.artifact.split(':', 1)[-1]}: {f.message}" for f in findings if f.rule == rule]


# ------------------------------------------------------------------ rules 14 and 16


def test_rule14_good_unit_passes(tmp_path, directives):
    rpm = unit_package(tmp_path, GOOD_UNIT)
    summary = Summary()
    assert check_paths([rpm], CheckOptions(directives_file=directives), summary) == []
    assert summary.unit_files == 1


def test_rule14_directives_newer_than_219(tmp_path, directives):
    bad = GOOD_UNIT.replace("ProtectSystem=full", "ProtectSystem=strict\nDynamicUser=yes\n"
                            "StateDirectory=fate\nSystemCallFilter=@system-service") \
        .replace("Type=simple", "Type=exec") \
        .replace("ExecStart=/data", "ExecStart=+/data")
    findings = check_paths([unit_package(tmp_path, bad)], CheckOptions(directives_file=directives))
    msgs = by_rule(findings, "14")
    assert {m.split(":")[0] for m in msgs} == {f"{UNIT_DIR}/fate-board.service"}
    text = "\n".join(msgs)
    for expected in ("Type=exec is not accepted", "ProtectSystem=strict is not accepted",
                     "DynamicUser= is not a systemd 219 [Service] directive",
                     "StateDirectory= is not a systemd 219",
                     "SystemCallFilter= is not allowed here: no seccomp",
                     "line 10: ExecStart= prefix '+' is newer than systemd 219"):
        assert expected in text, text
    assert len(msgs) == 6, text
    assert [f.rule for f in findings] == ["14"] * 6


def test_rule14_limits_newer_than_219_with_default_options(tmp_path):
    """No options: the lint finds specs/el7/systemd-219-directives.txt by itself."""
    bad = check_paths([unit_package(tmp_path / "b", GOOD_UNIT.replace(
        "LimitNOFILE=65535", "LimitNOFILE=65535\nTasksMax=4096\nMemoryMax=1G"))])
    assert sorted(m.split(": ", 1)[1] for m in by_rule(bad, "14")) == [
        "line 16: TasksMax= is not a systemd 219 [Service] directive",
        "line 17: MemoryMax= is not a systemd 219 [Service] directive"]


def test_rule14_missing_directive_table_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="directive table"):
        check_paths([unit_package(tmp_path, GOOD_UNIT)],
                    CheckOptions(directives_file=tmp_path / "absent.txt"))


def test_rule16_unit_and_preset_placement(tmp_path, directives):
    rpm = unit_package(tmp_path, GOOD_UNIT, unit_path="/etc/systemd/system/fate-board.service")
    msgs = by_rule(check_paths([rpm], CheckOptions(directives_file=directives)), "16")
    assert any(m.startswith("/etc/systemd/system/fate-board.service: unit file outside")
               for m in msgs), msgs


@pytest.mark.parametrize("slot,body,expected", [
    ("post", "systemctl enable fate-board.service >/dev/null 2>&1 || :\n",
     "%post does not run 'systemctl preset'"),
    ("preun", GUARD + "  systemctl stop fate-board.service >/dev/null 2>&1 || :\nfi\n",
     "without testing $1 -eq 0"),
    ("postun", GUARD + "  systemctl daemon-reload\nfi\n",
     "'systemctl daemon-reload' can fail the transaction"),
    ("postun", "systemctl daemon-reload >/dev/null 2>&1 || :\n",
     "%postun calls systemctl without checking that systemd runs"),
    # the %pre that stops units before an old %postun's try-restart, the ordered restarts
    ("pre", "systemctl stop fate-board.service >/dev/null 2>&1 || :\n",
     "%pre calls systemctl without checking that systemd runs"),
    ("posttrans", GUARD + "  systemctl restart fate-board.service\nfi\n",
     "%posttrans: 'systemctl restart fate-board.service' can fail the transaction"),
])
def test_rule16_scriptlets(tmp_path, directives, slot, body, expected):
    scripts = dict(GOOD_SCRIPTS)
    scripts[slot] = Script(body)
    rpm = unit_package(tmp_path, GOOD_UNIT, scripts=scripts)
    msgs = by_rule(check_paths([rpm], CheckOptions(directives_file=directives)), "16")
    assert any(expected in m for m in msgs), msgs


def test_rule16_units_without_any_preset(tmp_path, directives):
    rpm = unit_package(tmp_path, GOOD_UNIT, preset=False)
    msgs = by_rule(check_paths([rpm], CheckOptions(directives_file=directives)), "16")
    assert len(msgs) == 1 and "no package checked ships a preset" in msgs[0]


# ------------------------------------------------------------------ rule 17


def test_rule17_python_newer_than_3_6(tmp_path):
    new = write(tmp_path, "new.py", 'import dataclasses\nx = 1\nprint(f"{x=}")\n')
    old = write(tmp_path, "old.py", "import os\nprint('{}'.format(os.sep))\n")
    script = write(tmp_path, "tool", "#!/usr/bin/python3\ndef f(a, /):\n    return a\n", 0o755)
    vendored = write(tmp_path, "vendored.py", "def f(a, /):\n    return a\n")
    py2 = write(tmp_path, "py2.py", "print 'hello'\n")
    files = [FileEntry("/usr/lib/fate-tools/packager/new.py", "file", source=new),
             FileEntry("/usr/lib/fate-tools/packager/old.py", "file", source=old),
             FileEntry("/usr/bin/fate-tool", "file", source=script, mode=0o755),
             FileEntry("/usr/lib/fate-tools/packager/py2.py", "file", source=py2),
             FileEntry("/data/projects/fate/common/python/venv/lib/python3.6/site-packages/"
                       "x.py", "file", source=vendored)]
    summary = Summary()
    findings = check_paths([build(tmp_path / "out", package(tmp_path, files=files))],
                           summary=summary)
    msgs = by_rule(findings, "17")
    assert summary.python_files == 4  # site-packages is out of scope (specs/el7/lint.yaml)
    assert len(msgs) == 3, msgs
    assert any(m.startswith("/usr/lib/fate-tools/packager/py2.py: not Python 3 code")
               for m in msgs), msgs
    new_msg = next(m for m in msgs if m.startswith("/usr/lib/fate-tools/packager/new.py"))
    assert "needs Python 3.8" in new_msg and "'dataclasses' module" in new_msg
    assert any(m.startswith("/usr/bin/fate-tool: needs Python 3.8") for m in msgs)


# ------------------------------------------------------------------ rule 18

OLD_ABI_C = r"""
#include <stdio.h>
#include <unistd.h>
__attribute__((force_align_arg_pointer)) void _start(void) {
    puts("fate");
    fflush(stdout);
    _exit(0);
}
"""
NEW_ABI_C = '#include <stdio.h>\nint main(void) { puts("fate"); return 0; }\n'
LIB_C = "int fate_demo(void) { return 42; }\n"
USES_LIB_C = r"""
#include <unistd.h>
int fate_demo(void);
__attribute__((force_align_arg_pointer)) void _start(void) { _exit(fate_demo() == 42 ? 0 : 1); }
"""


def gcc(tmp: Path, source: str, name: str, *flags: str) -> Path:
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / name
    subprocess.run(["gcc", "-O1", "-fno-stack-protector", "-o", str(out), str(src), *flags],
                   check=True, capture_output=True)
    return out


def test_rule18_elf_needing_glibc_newer_than_2_17(tmp_path):
    new = gcc(tmp_path, NEW_ABI_C, "hello")
    old = gcc(tmp_path, OLD_ABI_C, "old", "-nostartfiles")
    files = [FileEntry("/opt/fate-lint/bin/hello", "file", source=new, mode=0o755),
             FileEntry("/opt/fate-lint/bin/old", "file", source=old, mode=0o755)]
    rpm = build(tmp_path / "out", package(tmp_path, files=files), compression=Compression("xz"))
    summary = Summary()
    findings = check_paths([rpm], summary=summary)
    assert summary.elf_files == 2
    msgs = by_rule(findings, "18")
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith("/opt/fate-lint/bin/hello: needs GLIBC_2.34")
    assert "CentOS 7 has only up to GLIBC_2.17" in msgs[0]
    assert check_paths([rpm], CheckOptions(allow_abi=("/opt/fate-lint/bin/hello",))) == []


def test_rule18_library_from_a_required_package(tmp_path):
    lib = gcc(tmp_path, LIB_C, "libfatedemo.so.1", "-shared", "-fPIC",
              "-Wl,-soname,libfatedemo.so.1")
    exe = gcc(tmp_path, USES_LIB_C, "demo", "-nostartfiles", str(lib))
    app = build(tmp_path / "out", package(
        tmp_path, name="fate-app", requires=[Dependency.parse("fate-lib")],
        files=[FileEntry("/opt/fate-lint/bin/demo", "file", source=exe, mode=0o755)]))
    libpkg = build(tmp_path / "out", package(
        tmp_path, name="fate-lib", files=[FileEntry("/opt/fate-lint/lib", "dir"),
                                          FileEntry("/opt/fate-lint/lib/libfatedemo.so.1",
                                                    "file", source=lib, mode=0o755)]))
    alone = by_rule(check_paths([app]), "18")
    assert alone == ["/opt/fate-lint/bin/demo: needs libfatedemo.so.1, which is neither in the "
                     "package, in its dependencies nor in the CentOS 7 base set"]
    assert by_rule(check_paths([app, libpkg]), "18") == []


# ------------------------------------------------------------------ rule 19

GOOD_SH = """\
#!/bin/bash
# fate-ctl helper: prints the state of one service
set -euo pipefail
unit=${1:?unit name}
systemctl is-active "$unit"
"""
NEW_BASH = """\
#!/bin/bash
set -euo pipefail
declare -n ref=HOME
arr=(a b c)
echo "${arr[-1]}" "${ref@Q}"
sleep 1 & wait -n
mapfile -d '' files < <(printf 'a\\0b\\0')
echo "${files[@]}"
"""


def test_rule19_bash_features_shellcheck_and_strict_mode(tmp_path):
    good = write(tmp_path, "good", GOOD_SH, 0o755)
    new = write(tmp_path, "new", NEW_BASH, 0o755)
    lax = write(tmp_path, "lax", "#!/bin/bash\nrm -rf $1/cache\n", 0o755)
    broken = write(tmp_path, "broken", "#!/bin/sh\nif then fi\n", 0o755)
    upstream = write(tmp_path, "upstream", "#!/bin/bash\ncd $EGGROLL_HOME\n", 0o755)
    files = [FileEntry("/usr/bin/fate-good", "file", source=good, mode=0o755),
             FileEntry("/usr/bin/fate-new", "file", source=new, mode=0o755),
             FileEntry("/usr/bin/fate-lax", "file", source=lax, mode=0o755),
             FileEntry("/usr/lib/fate-tools/broken.sh", "file", source=broken, mode=0o755),
             FileEntry("/opt/fate-lint/bin/upstream.sh", "file", source=upstream, mode=0o755)]
    scripts = {"post": Script("for f in $(ls /tmp); do echo $f; done\n")}
    rpm = build(tmp_path / "out", package(tmp_path, files=files, scripts=scripts))
    msgs = by_rule(check_paths([rpm]), "19")
    text = "\n".join(msgs)
    assert not any(m.startswith("/usr/bin/fate-good") for m in msgs), text
    assert not any(m.startswith("/opt/fate-lint/bin/upstream.sh") for m in msgs), \
        "upstream scripts: bash -n and bash 4.2 only, not shellcheck"
    for feature in ("nameref variables (declare -n) needs bash 4.3",
                    "negative array subscripts needs bash 4.3",
                    "${var@op} parameter transformation needs bash 4.4",
                    "wait -n / -f / -p needs bash 4.3", "mapfile -d needs bash 4.4"):
        assert any(m.startswith("/usr/bin/fate-new: line ") and feature in m
                   for m in msgs), (feature, text)
    assert "/usr/bin/fate-lax: no 'set -euo pipefail'" in msgs
    assert any(m.startswith("/usr/bin/fate-lax: shellcheck line 2:") and "SC2086" in m
               for m in msgs), text
    assert any(m.startswith("/usr/lib/fate-tools/broken.sh: bash -n:") for m in msgs), text
    post = [f for f in check_paths([rpm]) if f.artifact.endswith(" %post")]
    assert post and all(f.rule == "19" and "shellcheck" in f.message for f in post)


def test_rule19_upstream_script_with_newer_bash_is_still_caught(tmp_path):
    src = write(tmp_path, "s.sh", "#!/bin/bash\necho \"${0@Q}\"\n", 0o755)
    rpm = build(tmp_path / "out", package(tmp_path, files=[
        FileEntry("/opt/fate-lint/bin/s.sh", "file", source=src, mode=0o755)]))
    assert by_rule(check_paths([rpm]), "19") == [
        "/opt/fate-lint/bin/s.sh: line 2: ${var@op} parameter transformation needs bash 4.4; "
        "CentOS 7 has 4.2"]


def test_rules_14_16_pass_the_project_units_and_scriptlets(tmp_path):
    """FATE's real units, target and preset (units/ templates) with the scriptlets the RPM
    build uses: what the project ships must pass its own lint."""
    from packager.onhost.services import unit_files
    from packager.systemd_scriptlets import scriptlets
    rendered = unit_files(("app", "apps"))
    files = [FileEntry(f"/{rel}", "file", source=write(tmp_path, rel, text))
             for rel, text in sorted(rendered.items())]
    names = sorted(rel.rsplit("/", 1)[1] for rel in rendered if not rel.endswith(".preset"))
    scripts = {slot: Script(body) for slot, body in scriptlets(names).items()}
    rpm = build(tmp_path / "out", package(tmp_path, name="fate-units", files=files,
                                          scripts=scripts))
    summary = Summary()
    assert check_paths([rpm], summary=summary) == []
    assert summary.unit_files == len(names) >= 7  # six services and fate.target
