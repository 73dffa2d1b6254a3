"""``fate-pkg fetch --os-only --os-repo URL``: the command end to end, over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packager.cli import main
from packager.repo import Closure
from tests.fetch.mirror import Mirror

SPEC = """
name: fate-mysql
version: 8.0.13
release: "1.el7"
summary: MySQL for FATE
requires: ["libaio.so.1()(64bit)", "numactl-libs", "fate-common"]
scripts:
  pre: "getent group apps >/dev/null || groupadd -r apps"
"""
COMMON = "name: fate-common\nversion: 1.4.5\nrelease: '1'\nsummary: c\narch: noarch\n"


@pytest.fixture
def specs(tmp_path: Path) -> list[str]:
    (tmp_path / "fate-mysql.yaml").write_text(SPEC)
    (tmp_path / "fate-common.yaml").write_text(COMMON)
    return ["--os-spec", str(tmp_path / "fate-mysql.yaml"),
            "--os-spec", str(tmp_path / "fate-common.yaml")]


def _repos(mirror: Mirror) -> list[str]:
    return ["--os-repo", f"{mirror.url}/os", "--os-repo", f"{mirror.url}/updates/"]


def test_fetch_os_json(mirror: Mirror, specs: list[str], tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    rc = main(["fetch", "--os-only", *_repos(mirror), *specs, "--cache", str(cache), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    names = [p["name"] for p in out["os"]["packages"]]
    assert names == ["libaio", "numactl-libs"]  # /bin/sh and glibc are base
    assert {f["status"] for f in out["os"]["fetched"]} == {"downloaded"}
    saved = Closure.load(cache / "os" / "closure.json")
    assert [p.nevra for p in saved.packages] == ["libaio-0.3.109-13.el7.x86_64",
                                                 "numactl-libs-2.0.12-5.el7.x86_64"]
    assert saved.packages[0].reason == "fate-mysql → libaio.so.1()(64bit)"
    for pkg in saved.packages:
        assert (cache / "releases" / "el7-os" / pkg.filename).resolve().is_file()


def test_fetch_os_table(mirror: Mirror, specs: list[str], tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["fetch", "--os-only", *_repos(mirror), *specs, "--cache", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "libaio-0.3.109-13.el7.x86_64" in out and "fate-mysql → libaio.so.1()(64bit)" in out
    assert "2/2 OS packages" in out


def test_unresolvable_is_one_line_exit_2(mirror: Mirror, specs: list[str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    spec = Path(specs[1])
    spec.write_text(SPEC.replace('"numactl-libs"', '"snappy-devel"'))
    cache = tmp_path / "cache"
    rc = main(["fetch", "--os-only", *_repos(mirror), *specs, "--cache", str(cache)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip().splitlines()[-1] == \
        "fate-pkg: error: fate-mysql → snappy-devel → nothing provides it"
    assert not (cache / "os").exists()
    assert not (cache / "releases" / "el7-os").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--os-repo", "ftp://mirror/os"], "--os-repo 'ftp://mirror/os': must be an http://"),
    (["--os-only", "--record"], "--record pins release artifacts"),
    (["--os-only", "--os-spec", "/nonexistent/x.yaml"], "--os-spec /nonexistent/x.yaml: no"),
])
def test_bad_arguments(args: list[str], message: str, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["fetch", *args, "--cache", str(tmp_path / "c")])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def _manifest(tmp_path: Path, mirror: Mirror) -> Path:
    import hashlib

    from tests.fetch.mirror import Served

    data = b"fateboard jar bytes\n" * 1000
    mirror.files["fateboard-1.4.2.jar"] = Served(data)
    path = tmp_path / "mini-1.0.yaml"
    path.write_text(
        "release: mini-1.0\nversion: '1.0'\nartifacts:\n"
        f"  - name: fateboard-1.4.2.jar\n    url: {mirror.url}/fateboard-1.4.2.jar\n"
        f"    size: {len(data)}\n    sha256: {hashlib.sha256(data).hexdigest()}\n"
        "    component: fateboard\n")
    return path


def test_release_and_os_together(mirror: Mirror, specs: list[str], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest(tmp_path, mirror)
    cache = tmp_path / "cache"
    rc = main(["fetch", "--release", str(manifest), *_repos(mirror), *specs,
               "--cache", str(cache), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert [a["status"] for a in out["artifacts"]] == ["downloaded"]
    assert [p["name"] for p in out["os"]["packages"]] == ["libaio", "numactl-libs"]


def test_unresolvable_stops_before_any_download(mirror: Mirror, specs: list[str],
                                                tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest(tmp_path, mirror)
    Path(specs[1]).write_text(SPEC.replace('"numactl-libs"', '"snappy-devel"'))
    rc = main(["fetch", "--release", str(manifest), *_repos(mirror), *specs,
               "--cache", str(tmp_path / "cache")])
    assert rc == 2
    assert "snappy-devel → nothing provides it" in capsys.readouterr().err
    assert mirror.requests_for("fateboard-1.4.2.jar") == []


DEPLOY = """
name: fate-deploy
version: 1.4.5
release: "1"
summary: rollout
arch: noarch
requires: [{requires}]
os_closure: optional
"""


@pytest.mark.parametrize("requires, carried", [("ansible, python3", False),
                                                ("python3", True)])
def test_fate_deploys_ansible_is_carried_only_when_a_repo_has_it(
        mirror: Mirror, specs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        requires: str, carried: bool) -> None:
    """fate-deploy's `ansible` is EPEL's: without an EPEL repository the fetch still
    succeeds (with a note) and the closure is the party hosts' one."""
    spec = tmp_path / "fate-deploy.yaml"
    spec.write_text(DEPLOY.format(requires=requires))
    rc = main(["fetch", "--os-only", *_repos(mirror), *specs, "--os-spec", str(spec),
               "--cache", str(tmp_path / "c"), "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    names = [p["name"] for p in json.loads(captured.out)["os"]["packages"]]
    if carried:
        assert "python3" in names and "note:" not in captured.err
    else:
        assert names == ["libaio", "numactl-libs"]
        assert "fate-deploy" in captured.err and "EPEL" in captured.err
