"""Requirements read from package specs: what our RPMs will Require from the OS."""

from __future__ import annotations

from pathlib import Path

import pytest

from packager.errors import UserError
from packager.repo import requirements_from_specs
from packager.rpm import tags as t

SPECS = {
    "fate-mysql.yaml": """
name: fate-mysql
version: 8.0.13
release: "1.el7"
summary: MySQL for FATE
requires: ["libaio", "numactl-libs >= 2.0", "fate-common = 1.4.5-1.el7"]
requires(pre): [shadow-utils]
files:
  - {src: x, dst: /data/projects/fate/common/mysql/mysql-8.0.13/bin/mysqld}
scripts:
  pre: "getent group apps || groupadd -r apps"
  post: {interpreter: /usr/bin/python3, body: "print(1)"}
""",
    "fate-common.yaml": """
name: fate-common
version: 1.4.5
release: "1.el7"
arch: noarch
summary: common
provides: ["fate-base = 1.4.5"]
requires: ["fate-base >= 1.4", "/data/projects/fate/common/mysql/mysql-8.0.13/bin/mysqld",
           "fate-common(x86-64)"]
""",
}


@pytest.fixture
def specs(tmp_path: Path) -> list[Path]:
    paths = []
    for name, text in SPECS.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    return paths


def test_requirements_from_specs(specs: list[Path]) -> None:
    reqs = requirements_from_specs(specs)
    got = [(r.origin, str(r.dep), r.dep.flags) for r in reqs]
    assert got == [
        # noarch fate-common has no "(x86-64)" provide: that one goes to the OS repos
        ("fate-common", "fate-common(x86-64)", 0),
        ("fate-mysql", "/bin/sh", t.SENSE_INTERP | t.SENSE_SCRIPT_PRE),
        ("fate-mysql", "/usr/bin/python3", t.SENSE_INTERP | t.SENSE_SCRIPT_POST),
        ("fate-mysql", "libaio", 0),
        ("fate-mysql", "numactl-libs >= 2.0", t.SENSE_GREATER | t.SENSE_EQUAL),
        ("fate-mysql", "shadow-utils", t.SENSE_SCRIPT_PRE),
    ]
    # fate-common = 1.4.5-1.el7, fate-base >= 1.4 and the mysqld path are ours


def test_version_mismatch_with_our_package_is_kept(specs: list[Path]) -> None:
    specs[0].write_text(SPECS["fate-mysql.yaml"].replace("fate-common = 1.4.5-1.el7",
                                                         "fate-common >= 1.5"))
    got = [str(r.dep) for r in requirements_from_specs(specs)]
    assert "fate-common >= 1.5" in got


def test_demo_spec() -> None:
    demo = Path(__file__).resolve().parents[2] / "specs" / "demo" / "hello.yaml"
    got = [str(r.dep) for r in requirements_from_specs([demo])]
    assert got == ["/bin/sh", "bash", "shadow-utils"]


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nrequires: ['(a or b)']\n", r"x.yaml: requires\[0\]: .*boolean dependencies"),
    ("name: x\nrequires: {a: 1}\n", "x.yaml: requires: must be a list"),
    ("- just a list\n", "x.yaml: not a package spec"),
    ("name: [unclosed\n", r"x.yaml:\d+: not valid YAML"),
])
def test_bad_specs(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        requirements_from_specs([path])
