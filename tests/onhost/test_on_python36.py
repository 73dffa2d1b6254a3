"""The on-host tests again, on CPython 3.6 with only what the fate-tools RPM ships.

CentOS 7's python3 is 3.6; vermin sees syntax and library names, not behaviour (argparse,
subprocess, ssl, json, the vendored Jinja2/MarkupSafe/PyYAML on 3.6). So the tests of
configure, ctl, waitport/probe, the supervisor rendering, the ansible var-file import and
fate-deploy (the control host's python3 runs it) run a second time in ``.venv36`` (pytest
7.0.1, nothing else), in a copy where ``packager`` is the fate-tools tree made by the
build's own tools step: ``usr/lib/fate-tools/packager/onhost`` and
``usr/lib/fate-tools/vendor``, on PYTHONPATH exactly as the wrappers in /usr/bin set it.
The checkout is not importable there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from packager.assemble.stage import Stager
from packager.assemble.steps import TOOLS_PREFIX, StepContext, ToolsStep
from packager.fetch.cache import Cache
from packager.release import releases_for
from support import py36

REPO = Path(__file__).resolve().parents[2]
#: Every test file under these runs on 3.6 too, but those of BUILD_SIDE.
ONHOST_DIRS = ("tests/onhost/configure", "tests/onhost/units", "tests/onhost/deploy")
#: On-host tests that need the build side; they run on the build venv only.
BUILD_SIDE = {
    "tests/onhost/configure/test_mysql.py": "the sample's mysqld (packager.sample)",
    "tests/onhost/configure/test_backup_restore.py": "the sample's mysqld, via test_mysql",
}
ONHOST_TESTS = tuple(
    rel for d in ONHOST_DIRS for rel in sorted(
        str(p.relative_to(REPO)) for p in (REPO / d).glob("test_*.py"))
    if rel not in BUILD_SIDE)
#: What they import or read: the packages' __init__ and conftest files, the test data, the
#: on-host test helpers (not the rest of tests/support: those are build side), the schema.
SUPPORT = ("tests/__init__.py", "tests/onhost/__init__.py",
           *(f"{d}/{f}" for d in ONHOST_DIRS for f in ("__init__.py", "conftest.py")
             if (REPO / d / f).exists()),
           "tests/onhost/configure/data", "tests/support/__init__.py",
           "tests/support/configure.py", "tests/support/units.py", "tests/support/deploy.py",
           "bundles")
#: Run first inside the 3.6 session: what is imported is the staged tree, not the checkout.
LAYOUT_CHECK = '''
import importlib.util, sys, jinja2, markupsafe, yaml, packager.onhost
def test_runs_on_python36_with_the_rpm_layout():
    assert sys.version_info[:2] == (3, 6), sys.version
    lib = "{lib}"
    assert packager.onhost.__file__.startswith(lib + "/packager/onhost/")
    for module in (jinja2, markupsafe, yaml):
        assert module.__file__.startswith(lib + "/vendor/"), module.__file__
    assert getattr(packager, "__file__", None) is None  # a namespace, as on the host
    assert importlib.util.find_spec("packager.assemble") is None, "build side importable"
'''


def stage_fate_tools(out: Path) -> Path:
    """``usr/lib/fate-tools`` as the fate-tools RPM has it, made by the tools step."""
    releases = releases_for("vendor-py36")
    ctx = StepContext(releases, version="1.4.5")
    stager = Stager(Cache(), releases, out / "work", {"tools": ToolsStep()}, {"tools": ctx})
    ToolsStep().make(stager, ctx, out / "root")
    return out / "root" / TOOLS_PREFIX


@pytest.mark.slow
def test_onhost_tests_pass_on_python36_with_only_the_vendored_libraries(tmp_path):
    venv = py36.venv36()
    lib = stage_fate_tools(tmp_path)
    tree = tmp_path / "tests36"
    for rel in ONHOST_TESTS + SUPPORT:
        src, dst = REPO / rel, tree / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    (tree / "tests/test_layout36.py").write_text(LAYOUT_CHECK.format(lib=lib))
    (tree / "pytest.ini").write_text(
        "[pytest]\naddopts = -ra --strict-markers -p no:cacheprovider\n"
        "markers =\n    slow: takes more than a few seconds\n    root: needs root\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONPATH=f"{lib}:{lib}/vendor", PYTHONNOUSERSITE="1",
               PYTHONDONTWRITEBYTECODE="1",
               PATH=f"{venv}/bin:" + env.get("PATH", "/usr/bin:/bin"))
    run = subprocess.run([str(venv / "bin/python"), "-s", "-m", "pytest", "-q",
                          "tests/test_layout36.py", *ONHOST_TESTS],
                         cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    tail = "\n".join((run.stdout + run.stderr).splitlines()[-60:])
    assert run.returncode == 0, tail
    summary = run.stdout.strip().splitlines()[-1]
    print(summary)
    assert " passed" in summary and " skipped" not in summary, tail


def test_each_build_side_exception_is_an_on_host_test_file():
    """A renamed or moved file left in BUILD_SIDE would exempt nothing, silently."""
    for rel in BUILD_SIDE:
        assert (REPO / rel).is_file() and rel.startswith(ONHOST_DIRS), rel
    assert len(ONHOST_TESTS) >= 17, ONHOST_TESTS   # the directories were found
