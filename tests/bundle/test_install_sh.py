"""install.sh on a host stand-in: an install root holding only the @core stand-in, dnf as
the package manager (no yum on Debian). Every refusal must come before any change."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from packager import resources

from .conftest import ALL, tree_state

SCRIPT = resources.bundles() / "files" / "install.sh"


def run(bundle_dir: Path, *args: str) -> subprocess.CompletedProcess:
    # BASH_COMPAT=42: bash 5 behaves as 4.2 where their behaviour differs.
    env = {**os.environ, "BASH_COMPAT": "42", "LC_ALL": "C"}
    return subprocess.run(["bash", str(bundle_dir / "install.sh"), *args], cwd="/",
                          capture_output=True, text=True, env=env, timeout=300)


def installed(root: Path) -> set[str]:
    out = subprocess.run(["rpm", "--root", str(root), "-qa", "--qf", "%{NAME}\\n"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_shellcheck_clean_and_strict():
    done = subprocess.run(["shellcheck", "-s", "bash", str(SCRIPT)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout
    assert "\nset -euo pipefail\n" in SCRIPT.read_text()
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_no_bash_newer_than_4_2():
    """The lint's feature table covers syntax; this covers what bash 4.2 does differently
    at run time: "${a[@]}" of an empty array is an unbound variable under set -u before
    bash 4.4, so every array that starts empty is expanded only in the guarded form."""
    text = SCRIPT.read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for pattern in (r"\$\{\w+@[QEPAa]\}", r"(declare|local) -n", r"wait -n", r"\[-\d+\]",
                    r"mapfile -d", r"readarray -d", r"EPOCH(SECONDS|REALTIME)", r"BASH_ARGV0"):
        assert not re.search(pattern, code), pattern
    empty = set(re.findall(r"\b(\w+)=\(\)", code))
    assert empty, "the script has arrays that start empty"
    for name in empty:
        for m in re.finditer(r"(.)\$\{" + name + r"\[[@*]\]\}", code):
            guarded = code[max(0, m.start() - len(name) - 6):m.start() + 1]
            assert f"{{{name}[" in guarded and "+" in guarded, \
                f"unguarded expansion of the possibly empty array {name}"


def test_dry_run_changes_nothing(bundle_dir, core_root):
    before = tree_state(core_root)
    done = run(bundle_dir, "--root", str(core_root), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would write" in done.stdout and "would run: dnf" in done.stdout
    assert "nothing changed" in done.stdout
    assert tree_state(core_root) == before


def test_install_twice_then_uninstall(bundle_dir, core_root):
    done = run(bundle_dir, "--root", str(core_root))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert set(ALL) <= installed(core_root)
    assert "gpg-pubkey" in installed(core_root), "the bundle key was imported"
    repo = (core_root / "etc/yum.repos.d/fate-local.repo").read_text()
    assert f"baseurl=file://{bundle_dir}\n" in repo and "gpgcheck=1" in repo
    assert "fate-configure party.yaml" in done.stdout

    state = tree_state(core_root)
    again = run(bundle_dir, "--root", str(core_root))
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert tree_state(core_root) == state

    (core_root / "etc/fate/party.yaml").write_text("guest: {partyid: 9999}\n")
    data = core_root / "data/projects/data/fate/mysql.marker"
    data.write_text("data\n")
    gone = run(bundle_dir, "--root", str(core_root), "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not set(ALL) & installed(core_root)
    assert not (core_root / "etc/yum.repos.d/fate-local.repo").exists()
    assert (core_root / "etc/fate/party.yaml").is_file() and data.is_file()
    twice = run(bundle_dir, "--root", str(core_root), "--uninstall")
    assert twice.returncode == 0 and "nothing to uninstall" in twice.stdout


def _refused(bundle_dir: Path, core_root: Path, expect: str) -> None:
    before = tree_state(core_root)
    done = run(bundle_dir, "--root", str(core_root))
    assert done.returncode == 1
    assert expect in done.stderr, done.stderr
    assert done.stderr.startswith("install.sh: error: ")
    assert tree_state(core_root) == before, "refused, and nothing changed"


def test_corrupted_rpm_is_refused_before_any_change(bundle_dir, core_root):
    rpm = bundle_dir / "rpms" / "fate-flow-1.4.5-1.noarch.rpm"
    data = bytearray(rpm.read_bytes())
    data[-100] ^= 0xFF
    rpm.write_bytes(bytes(data))
    _refused(bundle_dir, core_root, "rpms/fate-flow-1.4.5-1.noarch.rpm")


def test_bad_signature_is_refused_before_any_change(bundle_dir, core_root):
    """A tampered RPM with SHA256SUMS updated to match: only the signature catches it."""
    rpm = bundle_dir / "rpms" / "fate-board-1.4.5-1.noarch.rpm"
    old = hashlib.sha256(rpm.read_bytes()).hexdigest()
    rpm.write_bytes(rpm.read_bytes() + b"\0")
    new = hashlib.sha256(rpm.read_bytes()).hexdigest()
    sums = bundle_dir / "SHA256SUMS"
    sums.write_text(sums.read_text().replace(old, new))
    _refused(bundle_dir, core_root, "BAD signature")


def test_missing_signature_is_refused(bundle_dir, core_root):
    (bundle_dir / "SHA256SUMS.asc").unlink()
    _refused(bundle_dir, core_root, "SHA256SUMS.asc is missing")


def test_unlisted_file_is_refused(bundle_dir, core_root):
    shutil.copy(bundle_dir / "rpms" / "fate-jdk-1.4.5-1.x86_64.rpm",
                bundle_dir / "rpms" / "extra-1-1.x86_64.rpm")
    _refused(bundle_dir, core_root, "not listed in SHA256SUMS: rpms/extra-1-1.x86_64.rpm")


@pytest.mark.parametrize("args, expect", [
    (["--pm", "apt"], "--pm 'apt'"), (["--frobnicate"], "unknown argument"),
    (["--root", "/nonexistent/root"], "not a directory")])
def test_bad_usage_exits_2(bundle_dir, args, expect):
    done = run(bundle_dir, *args)
    assert done.returncode == 2 and expect in done.stderr


NODEMANAGER = ("fate-eggroll", "fate-python", "fate-tools")


def _subset(bundle_dir: Path, dest: Path) -> tuple[Path, Path]:
    """What fate-deploy sends the nodemanager host: its tar, unpacked with the tar CLI."""
    from packager.onhost.deploy import bundle as deploy_bundle

    found = deploy_bundle.load(str(bundle_dir))
    tar = deploy_bundle.tar_for_host(found, found.host_files(NODEMANAGER), str(dest / "out"))
    subprocess.run(["tar", "-xf", tar, "-C", str(dest)], check=True)
    return dest / bundle_dir.name, dest / f"{bundle_dir.name}.files"


def test_a_hosts_subset_is_checked_and_installs_offline(bundle_dir, core_root, tmp_path):
    part, listing = _subset(bundle_dir, tmp_path / "host")
    rpms = sorted(p.name for p in (part / "rpms").iterdir())
    assert not [r for r in rpms if r.startswith(("fate-mysql", "fate-flow", "fate-board"))]
    assert (part / "SHA256SUMS.asc").is_file() and (part / "RPM-GPG-KEY-fate").is_file()
    done = run(part, "--root", str(core_root), "--subset", str(listing), *NODEMANAGER)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "SHA256SUMS signed by key" in done.stdout
    assert f"files here match SHA256SUMS (a subset: {listing})" in done.stdout
    got = installed(core_root)
    assert {"fate-common", "fate-jdk", *NODEMANAGER} <= got
    assert not {"fate-mysql", "fate-flow", "fate-board"} & got


def test_a_subset_missing_a_file_of_its_list_is_refused(bundle_dir, core_root, tmp_path):
    part, listing = _subset(bundle_dir, tmp_path / "host")
    (part / "rpms" / "fate-jdk-1.4.5-1.x86_64.rpm").unlink()
    before = tree_state(core_root)
    done = run(part, "--root", str(core_root), "--subset", str(listing), *NODEMANAGER)
    assert done.returncode == 1
    assert "lacks (an incomplete copy): rpms/fate-jdk-1.4.5-1.x86_64.rpm" in done.stderr
    assert tree_state(core_root) == before


def test_a_subset_with_a_corrupted_file_is_refused(bundle_dir, core_root, tmp_path):
    part, listing = _subset(bundle_dir, tmp_path / "host")
    rpm = part / "rpms" / "fate-eggroll-1.4.5-1.noarch.rpm"
    rpm.write_bytes(rpm.read_bytes()[:-10] + b"0123456789")
    before = tree_state(core_root)
    done = run(part, "--root", str(core_root), "--subset", str(listing), *NODEMANAGER)
    assert done.returncode == 1 and "do not match SHA256SUMS" in done.stderr, done.stderr
    assert tree_state(core_root) == before
