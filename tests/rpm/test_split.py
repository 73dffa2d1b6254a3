"""A package over the header budget is split by subtree; the parts act as one with real rpm."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from packager.rpm import Compression, build_rpm
from packager.rpm.filetable import FileTable
from packager.rpm.header import HEADER_DATA_MAX
from packager.rpm.model import FileEntry, Package
from packager.rpm.split import BUDGET, split_package
from packager.rpm.tree import entries_from_tree
from packager.rpm.writer import BuildError, header_size
from support.rpmtool import make_scratch_root, rpm_in_root, run_rpm

pytestmark = pytest.mark.skipif(shutil.which("rpm") is None, reason="needs Debian's rpm")
SDE = 1600000000
VENV = "/opt/fate-split/venv"
#: A small budget stands in for 12 MiB: the same code path, with 600 files instead of 90k.
SMALL = 48 << 10


def venv_tree(root: Path, version: str) -> Path:
    """site-packages with 6 packages of 100 modules each, plus a bin/ outside it."""
    site = root / "lib/python3.6/site-packages"
    for p in range(6):
        for m in range(100):
            f = site / f"package_{p}" / f"sub{m % 4}" / f"module_{m:03d}.py"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"# {version} {p} {m}\n")
    (root / "bin").mkdir()
    (root / "bin/python3").write_text(f"#!/bin/sh\necho {version}\n")
    (root / "bin/python3").chmod(0o755)
    return root


def package(tmp: Path, version: str) -> Package:
    src = venv_tree(tmp / f"src-{version}", version)
    return Package("fate-split", version, "1", "split test", files=entries_from_tree(src, VENV))


def build_all(tmp: Path, version: str) -> list[Path]:
    pkgs = split_package(package(tmp, version), budget=SMALL)
    out = tmp / f"rpms-{version}"
    return [build_rpm(p, out, compression=Compression("gzip", 1), sde=SDE).path for p in pkgs]


def test_split_by_subtree_is_deterministic_and_under_budget(tmp_path):
    pkg = package(tmp_path, "1.0")
    assert header_size(pkg) > SMALL
    first = split_package(pkg, budget=SMALL)
    again = split_package(pkg, budget=SMALL)
    assert [(p.name, [e.path for e in p.files]) for p in first] == \
        [(p.name, [e.path for e in p.files]) for p in again]
    parent, *parts = first
    assert parent.name == "fate-split" and len(parts) >= 2
    assert [p.name for p in parts][:2] == ["fate-split-site-packages-a",
                                           "fate-split-site-packages-b"]
    assert all(header_size(p) <= SMALL for p in first)
    # every file in exactly one package, the bin/ outside site-packages stays in the parent
    paths = [e.path for p in first for e in p.files]
    assert sorted(paths) == sorted(e.path for e in pkg.files)
    assert f"{VENV}/bin/python3" in {e.path for e in parent.files}
    assert {str(d) for d in parent.requires} == {f"{p.name} = 1.0-1" for p in parts}
    assert all([str(d) for d in p.requires] == ["fate-split = 1.0-1"] for p in parts)


def test_fits_the_budget_is_not_split(tmp_path):
    pkg = package(tmp_path, "1.0")
    assert split_package(pkg) == [pkg]  # 600 files are far under 12 MiB
    assert BUDGET < HEADER_DATA_MAX * 0.8


def test_parts_install_upgrade_and_erase_together(tmp_path):
    root = make_scratch_root(tmp_path / "root")
    v1, v2 = build_all(tmp_path, "1.0"), build_all(tmp_path, "2.0")
    for rpm in v1 + v2:
        assert "digests OK" in run_rpm("-K", str(rpm)).stdout
    # the parent alone cannot be installed: it requires every part at its exact EVR
    alone = rpm_in_root(root, "-i", str(v1[0]), check=False)
    assert alone.returncode != 0 and "fate-split-site-packages-a = 1.0-1" in alone.stderr
    rpm_in_root(root, "-i", *map(str, v1))
    installed = root / VENV.lstrip("/")
    assert len(list(installed.rglob("module_*.py"))) == 600
    # an upgrade of the parent alone is refused: the old parts need the old parent
    lone = rpm_in_root(root, "-U", str(v2[0]), check=False)
    assert lone.returncode != 0
    rpm_in_root(root, "-U", *map(str, v2))
    names = rpm_in_root(root, "-qa", "--qf", "%{NAME}-%{VERSION}\n").stdout.split()
    assert len(names) == len(v2) and all(n.endswith("-2.0") for n in names)
    assert "# 2.0 0 0" in (installed / "lib/python3.6/site-packages/package_0/sub0/"
                           "module_000.py").read_text()
    # erasing the parent alone is refused; all together removes every file
    assert rpm_in_root(root, "-e", "fate-split", check=False).returncode != 0
    rpm_in_root(root, "-e", *[n.rsplit("-", 1)[0] for n in names])
    assert not installed.exists() or not any(installed.rglob("*.py"))


def test_a_single_package_over_16_mib_is_refused_before_writing(tmp_path):
    """One line that names the limit and the file count, and no byte compressed."""
    src = tmp_path / "tree"
    src.mkdir()
    (src / "f").write_text("x")
    # 120k entries of one source file: the header alone passes 16 MiB
    files = [FileEntry(f"/opt/fate-big/d{i // 1000:03d}/file-with-a-long-name-{i:06d}.py",
                       source=src / "f") for i in range(120_000)]
    pkg = Package("fate-big", "1", "1", "too big", files=files)
    with pytest.raises(BuildError) as exc:
        build_rpm(pkg, tmp_path / "out", compression=Compression("gzip", 1), sde=SDE)
    msg = str(exc.value)
    assert "\n" not in msg and "120000 files" in msg and "16 MiB" in msg
    assert not list((tmp_path / "out").glob("*.rpm"))


def _uneven_venv() -> list[FileEntry]:
    """40 packages of 3 to 200 modules, sub-packages, symlinks, empty directories, two
    owners, names of 3 to 33 characters: a tree whose split divides directories unevenly."""
    rng = random.Random(5)
    files: list[FileEntry] = []

    def d(p: str) -> None:
        files.append(FileEntry(p, "dir"))

    d("/opt/v")
    d("/opt/v/lib")
    d("/opt/v/lib/site-packages")
    for p in range(40):
        top = f"/opt/v/lib/site-packages/pkg{p:02d}"
        d(top)
        n = rng.choice([3, 10, 40, 200])
        subs = [f"{top}/s{k}" for k in range(rng.randint(0, 4))]
        for s in subs:
            d(s)
        for m in range(n):
            where = rng.choice([top] + subs)
            name = f"m{m}{'_' * rng.randint(0, 30)}.py"
            files.append(FileEntry(f"{where}/{name}", "file", source="/dev/null",
                                   owner=rng.choice(["root", "app"])))
        if p % 7 == 0:
            files.append(FileEntry(f"{top}/link", "symlink", link_target="m0.py"))
            d(f"{top}/emptydir")
    files.append(FileEntry("/opt/v/bin", "dir"))
    files.append(FileEntry("/opt/v/bin/python", "file", source="/dev/null"))
    files.append(FileEntry("/opt/v/lib/site-packages/top.pth", "file", source="/dev/null"))
    return files


#: sha256 of the parts (names, summaries, sorted paths) at three budgets, as the split of
#: one FileEntry object per file made them (commit 28594ec), before it read the columns
#: of packager.rpm.filetable; computed by that commit's code.
SPLIT_GOLDEN = "bd66cb10227b1be247c9a7ab67f1d08f0ff2fd30437641e9eae4552e91c58bf8"


@pytest.mark.parametrize("columns", [False, True], ids=["entry-list", "table"])
def test_the_split_over_columns_makes_the_parts_of_before(columns):
    files = _uneven_venv()
    pkg = Package("demo", "1", "1", "s", files=FileTable(files) if columns else files)
    out = []
    for budget in (48 << 10, 96 << 10, 200 << 10):
        parts = split_package(pkg, budget=budget)
        out.append([(p.name, p.summary, sorted(e.path for e in p.files)) for p in parts])
    assert [len(parts) for parts in out] == [12, 5, 3]
    assert hashlib.sha256(json.dumps(out).encode()).hexdigest() == SPLIT_GOLDEN
