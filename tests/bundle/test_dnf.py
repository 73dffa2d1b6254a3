"""dnf (Debian's, our stand-in for yum) installs from the unpacked bundle's own repository
into an empty install root with gpgcheck on, the @core stand-in coming from a base repo."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import ALL

QF = "%{NAME}\\n"


def _repos(bundle_dir: Path, standin_repo: Path, reposdir: Path) -> None:
    reposdir.mkdir()
    text = (bundle_dir / "fate-local.repo").read_text().replace("@BUNDLE_DIR@",
                                                                str(bundle_dir))
    (reposdir / "fate-local.repo").write_text(text)
    (reposdir / "base.repo").write_text(
        f"[standin-base]\nname=el7 @core stand-in\nbaseurl=file://{standin_repo}\n"
        "gpgcheck=0\nenabled=0\n")


def _dnf(root: Path, reposdir: Path, *pkgs: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["dnf", "-y", f"--installroot={root}", "--releasever=7",
         f"--setopt=reposdir={reposdir}", f"--setopt=cachedir={root}-dnfcache",
         "--disablerepo=*", "--enablerepo=fate-local", "--enablerepo=standin-base",
         "install", *pkgs], capture_output=True, text=True, timeout=300)


def _installed(root: Path) -> set[str]:
    out = subprocess.run(["rpm", "--root", str(root), "-qa", "--qf", QF],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_gpgcheck_install_into_an_empty_root(bundle_dir, standin_repo, tmp_path):
    reposdir = tmp_path / "repos.d"
    _repos(bundle_dir, standin_repo, reposdir)
    assert "gpgcheck=1" in (reposdir / "fate-local.repo").read_text()
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["rpm", "--root", str(root), "--initdb"], check=True)
    subprocess.run(["rpm", "--root", str(root), "--import",
                    str(bundle_dir / "RPM-GPG-KEY-fate")], check=True)
    done = _dnf(root, reposdir, *ALL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    installed = _installed(root)
    assert set(ALL) | {"el7-core-standin"} <= installed
    assert (root / "usr/lib/fate-tools").is_dir()
    assert "app:" in (root / "etc/passwd").read_text(), "fate-common's %pre ran in the root"


def test_without_the_key_gpgcheck_refuses(bundle_dir, standin_repo, tmp_path):
    """The control: the install above passed the signature check, it did not skip it."""
    reposdir = tmp_path / "repos.d"
    _repos(bundle_dir, standin_repo, reposdir)
    text = (reposdir / "fate-local.repo").read_text()
    (reposdir / "fate-local.repo").write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("gpgkey=")))
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["rpm", "--root", str(root), "--initdb"], check=True)
    done = _dnf(root, reposdir, "fate-common")
    assert done.returncode != 0
    assert "GPG" in done.stdout + done.stderr or "key" in (done.stdout + done.stderr).lower()
    assert not {"fate-common"} & _installed(root)
