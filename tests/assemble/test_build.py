"""`fate-pkg build --offline --sample` end to end: RPMs, installs, incremental, reproducible."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from packager import resources
from packager.assemble.pipeline import BuildOptions, run_build
from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.rpm import read_rpm
from packager.rpm import tags as t
from support import py36
from support.rpmtool import make_scratch_root, rpm_in_root, run_rpm, uid_of

from .conftest import SDE, sample_options, seeded_cache

EXPECTED = {"fate-common", "fate-jdk", "fate-python", "fate-mysql", "fate-eggroll",
            "fate-flow", "fate-board", "fate-tools", "fate-deploy"}
REPO = Path(__file__).resolve().parents[2]


def rpms(dist: Path) -> dict[str, Path]:
    return {read_rpm(p).name: p for p in sorted(dist.glob("*.rpm"))}


def test_every_package_is_built_and_verifies(sample_build):
    _, dist, report = sample_build
    found = rpms(dist)
    assert set(found) == EXPECTED == {o.name for o in report.outcomes}
    for path in found.values():
        out = run_rpm("-K", str(path)).stdout
        assert "digests OK" in out
        rpm = read_rpm(path)
        assert rpm.tag(t.PAYLOADCOMPRESSOR) == "gzip"
        assert rpm.tag(t.BUILDTIME) == SDE, "the release's date, not the wall clock"
        assert rpm.tag(t.VERSION) == "1.4.5" and rpm.tag(t.RELEASE) == "1"


def test_packages_require_each_other_as_the_specs_say(sample_build):
    _, dist, _ = sample_build
    found = rpms(dist)
    flow = {n for n, _, _ in read_rpm(found["fate-flow"]).deps("requires")}
    assert {"fate-python", "fate-eggroll", "fate-common"} <= flow
    tools = {n for n, _, _ in read_rpm(found["fate-tools"]).deps("requires")}
    assert "python3" in tools
    scripts = "\n".join(run_rpm("-qp", "--scripts", str(found["fate-eggroll"])).stdout
                        .splitlines())
    assert "systemctl preset fate-clustermanager.service" in scripts
    assert not [ln for ln in scripts.splitlines() if ln.strip().startswith("systemctl try-restart")
                ], "an upgrade restarts in start order, in %posttrans"
    pre = scripts.split("preinstall scriptlet", 1)[1].split("scriptlet", 1)[0]
    assert "rpm -q --qf '%{POSTUN}\\n' fate-eggroll" in pre, "asks for the installed %postun"
    posttrans = scripts.split("posttrans scriptlet", 1)[1]
    # issue 15's order: MySQL -> clustermanager, rollsite -> nodemanagers -> fate_flow -> board
    order = ["fate-mysql.service", "fate-clustermanager.service", "fate-rollsite.service",
             "fate-nodemanager.service", "fate-flow.service", "fate-board.service"]
    restarts = [ln.split()[2] for ln in posttrans.splitlines() if "systemctl restart" in ln]
    assert restarts == order
    common = run_rpm("-qp", "--scripts", str(found["fate-common"])).stdout
    assert "useradd -r -g apps" in common and "try-restart" not in common


def test_layout_matches_the_fate_1_4_5_paths(sample_build):
    _, dist, _ = sample_build
    files: dict[str, set[str]] = {n: set(read_rpm(p).filenames()) for n, p in rpms(dist).items()}
    expect = {
        "fate-jdk": "/data/projects/fate/common/jdk/jdk-8u192/bin/java",
        "fate-python": "/data/projects/fate/common/python/venv/bin/python",
        "fate-mysql": "/data/projects/fate/common/mysql/mysql-8.0.13/bin/mysqld_safe",
        "fate-eggroll": "/data/projects/fate/eggroll/conf/eggroll.properties",
        "fate-flow": "/data/projects/fate/python/fate_flow/fate_flow_server.py",
        "fate-board": "/data/projects/fate/fateboard/fateboard.jar",
        "fate-tools": "/usr/bin/fate-configure",
        "fate-common": "/usr/lib/systemd/system/fate.target",
    }
    for name, path in expect.items():
        assert path in files[name], f"{path} not in {name}"
    for unit in ("fate-mysql", "fate-clustermanager", "fate-nodemanager", "fate-rollsite",
                 "fate-flow", "fate-board"):
        owners = [n for n, fs in files.items() if f"/usr/lib/systemd/system/{unit}.service" in fs]
        assert len(owners) == 1, unit
    every = [f for fs in files.values() for f in fs]
    assert len(every) == len(set(every)), "no file is owned by two packages"


def test_config_files_are_noreplace_and_owned_by_the_account(sample_build):
    _, dist, _ = sample_build
    rpm = read_rpm(rpms(dist)["fate-eggroll"])
    names = rpm.filenames()
    i = names.index("/data/projects/fate/eggroll/conf/route_table.json")
    assert rpm.header.array(t.FILEFLAGS)[i] & (t.FILE_CONFIG | t.FILE_NOREPLACE) == (
        t.FILE_CONFIG | t.FILE_NOREPLACE)
    assert rpm.header.array(t.FILEUSERNAME)[i] == "app"


def test_python_env_is_relocated_to_its_final_prefix(sample_build, tmp_path):
    _, dist, _ = sample_build
    path = rpms(dist)["fate-python"]
    subprocess.run(f"rpm2cpio {path} | cpio -idm --quiet", shell=True, cwd=tmp_path, check=True)
    venv = tmp_path / "data/projects/fate/common/python/venv"
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "fate-pkg-work" not in cfg
    # pip writes a direct shebang, or an sh trampoline when the build path was long
    head = "\n".join((venv / "bin/pip").read_text().splitlines()[:3])
    assert "/data/projects/fate/common/python/venv/bin/python" in head
    for p in tmp_path.rglob("*"):
        if p.is_symlink():
            assert "fate-pkg-work" not in os.readlink(p), p
        elif p.is_file():
            assert b"fate-pkg-work" not in p.read_bytes(), p
    assert list(venv.glob("lib/python3*/site-packages/fate_sample_mysql*")), "wheels installed"


# imported by the host's 3.6 from the installed env: the FATE venv's wheels, pip and
# pkg_resources (~100 modules), and Miniconda's own site-packages (virtualenv)
_IMPORTS = ("fate_sample_kit.service", "fate_sample_mysql", "pip._internal", "pkg_resources",
            "virtualenv.__main__")
# co_filename as the .pyc holds it (a loaded module's is fixed up to where it was found)
_CO_FILENAMES = """
import marshal, sys
for name in sys.argv[1:]:
    with open(sys.modules[name].__cached__, "rb") as f:
        print(name, marshal.loads(f.read()[12:]).co_filename)
"""


def _install(paths: list[Path], root: Path) -> None:
    """The RPMs' files under ``root``: as on the host (rpm sets each file's mtime from the
    header) when root, else their payloads (cpio -m: the same recorded mtimes)."""
    if os.geteuid() == 0:
        (root / "var/lib/rpm").mkdir(parents=True)
        rpm_in_root(root, "-i", "--nodeps", "--noscripts", *map(str, paths))
    else:
        root.mkdir()
        for path in paths:
            subprocess.run(f"rpm2cpio {path} | cpio -idm --quiet", shell=True, cwd=root,
                           check=True)


def _import_read_only(root: Path, path: list[str], imports: tuple[str, ...],
                      finals: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """``import imports`` by CPython 3.6 (-v) with ``path`` (final paths) under ``root``
    mounted read-only, as for the unprivileged service user; returns the modules loaded
    from a .pyc under ``root`` (after asserting none was compiled from source, stale or
    not writable) and the co_filename each ``.pyc`` of ``finals`` holds."""
    sites = [str(root / p.lstrip("/")) for p in path]
    code = (f"import sys; sys.path[:0] = {sites!r}; import {', '.join(imports)}; "
            f"exec({_CO_FILENAMES!r})")
    cmd = [str(py36.python36()), "-S", "-v", "-c", code, *finals]
    # read-only as for the unprivileged service user: a bind mount (root writes anywhere)
    ro = ["unshare", "-m", "sh", "-c", 'mount --bind -r "$0" "$0" && exec "$@"', str(root)] \
        if os.geteuid() == 0 else []
    if not ro:
        subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
    r = subprocess.run(ro + cmd, capture_output=True, text=True)
    if not ro:
        subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)
    assert r.returncode == 0, [ln for ln in r.stderr.splitlines()
                               if not ln.startswith(("#", "import "))]
    lines = [ln for ln in r.stderr.splitlines() if str(root) in ln]
    from_pyc = [ln for ln in lines if ln.startswith("# code object from '") and
                ln.endswith(".cpython-36.pyc'")]
    from_source = [ln for ln in lines if ln.startswith("# code object from ") and
                   ln not in from_pyc]
    assert not from_source, from_source[:5]
    assert not [ln for ln in lines if "bytecode is stale" in ln or "could not create" in ln]
    return from_pyc, dict(ln.split() for ln in r.stdout.splitlines())


def test_installed_python_env_runs_from_its_byte_code(sample_build, tmp_path):
    """Installed root-owned, read-only: CPython 3.6 loads every module of the env from
    the shipped .pyc (fresh: mtime and size as installed) and compiles none; the code
    names its final path. Before, nothing was shipped: each start compiled in memory."""
    _, dist, _ = sample_build
    root = tmp_path / "root"
    _install([rpms(dist)["fate-python"]], root)
    from_pyc, finals = _import_read_only(
        root, [_VENV_SITE, "/data/projects/fate/common/miniconda3/lib/python3.6/site-packages"],
        _IMPORTS, ("fate_sample_mysql", "virtualenv.__main__"))
    assert len(from_pyc) > 100, "\n".join(from_pyc[:20])
    assert any("/miniconda3/" in ln for ln in from_pyc) and any(
        "/venv/lib/python3.6/site-packages/fate_sample_kit/" in ln for ln in from_pyc)
    assert finals["fate_sample_mysql"] == f"{_VENV_SITE}/fate_sample_mysql/__init__.py"
    assert finals["virtualenv.__main__"] == (
        "/data/projects/fate/common/miniconda3/lib/python3.6/site-packages/virtualenv/"
        "__main__.py")


_VENV_SITE = "/data/projects/fate/common/python/venv/lib/python3.6/site-packages"
#: FATE's own trees and where each is on sys.path (fate_flow's PYTHONPATH, eggroll's).
_FATE_TREES = {"fate-flow": "/data/projects/fate/python",
               "fate-eggroll": "/data/projects/fate/eggroll/python"}
_FATE_IMPORTS = ("fate_flow.settings", "federatedml.toy_example.secure_add_guest",
                 "federatedml.toy_example.secure_add_host", "eggroll.core.session",
                 "eggroll.roll_pair.egg_pair")
# Each .pyc's header (magic, source mtime, source size) and code's co_filename, by 3.6.
_PYC_HEADERS = """
import importlib.util, marshal, sys
for pyc in sys.argv[1:]:
    data = open(pyc, "rb").read()
    print(pyc, data[:4] == importlib.util.MAGIC_NUMBER, int.from_bytes(data[4:8], "little"),
          int.from_bytes(data[8:12], "little"), marshal.loads(data[12:]).co_filename)
"""


def test_fate_trees_ship_fresh_byte_code_for_every_module(sample_build, tmp_path):
    """fate-flow and fate-eggroll: a .pyc beside every .py 3.6 can compile, naming the
    final path, its header the mtime and size the RPM records for its source (what 3.6
    compares with the installed file)."""
    _, dist, _ = sample_build
    for name, top in _FATE_TREES.items():
        rpm = read_rpm(rpms(dist)[name])
        names = rpm.filenames()
        sizes = rpm.header.array(t.FILESIZES) or rpm.header.array(t.LONGFILESIZES)
        recorded = dict(zip(names, zip(rpm.header.array(t.FILEMTIMES), sizes)))
        sources = [n for n in names if n.startswith(top + "/") and n.endswith(".py")]
        pycs = {n: f"{os.path.dirname(n)}/__pycache__/{os.path.basename(n)[:-3]}"
                   ".cpython-36.pyc" for n in sources}
        assert len(sources) >= 5, sources
        root = tmp_path / name
        _install([rpms(dist)[name]], root)
        missing = [src for src, pyc in pycs.items() if pyc not in recorded]
        if missing:  # only what 3.6 cannot compile (Python 2 test data) may lack one
            check = "import sys; [compile(open(f).read(), f, 'exec') for f in sys.argv[1:]]"
            for src in missing:
                r = subprocess.run([str(py36.python36()), "-c", check,
                                    str(root / src.lstrip("/"))], capture_output=True)
                assert r.returncode != 0, f"{src}: valid Python 3.6 but no .pyc shipped"
        shipped = [pyc for pyc in pycs.values() if pyc in recorded]
        assert len(shipped) == len(sources) - len(missing) > 0
        out = subprocess.run([str(py36.python36()), "-c", _PYC_HEADERS,
                              *(str(root / p.lstrip("/")) for p in shipped)],
                             capture_output=True, text=True, check=True).stdout
        by_pyc = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
        for src, pyc in pycs.items():
            if pyc in recorded:
                mtime, size = recorded[src]
                assert by_pyc[str(root / pyc.lstrip("/"))] == [
                    "True", str(mtime), str(size), src], pyc


def test_installed_fate_trees_import_from_their_byte_code(sample_build, tmp_path):
    """fate_flow, federatedml and eggroll's client, installed with the env, read-only:
    every module of theirs that is imported is loaded from its .pyc, none compiled."""
    _, dist, _ = sample_build
    root = tmp_path / "root"
    _install([rpms(dist)[n] for n in ("fate-python", *_FATE_TREES)], root)
    from_pyc, finals = _import_read_only(
        root, [*_FATE_TREES.values(), _VENV_SITE], _FATE_IMPORTS, _FATE_IMPORTS)
    for top in _FATE_TREES.values():
        assert len([ln for ln in from_pyc if f"{root}{top}/" in ln]) >= 4, from_pyc
    for module in _FATE_IMPORTS:
        top = _FATE_TREES["fate-eggroll" if module.startswith("eggroll") else "fate-flow"]
        assert finals[module] == f"{top}/{module.replace('.', '/')}.py"


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot scriptlets need root")
def test_all_rpms_install_into_a_scratch_root(sample_build, tmp_path):
    _, dist, _ = sample_build
    root = make_scratch_root(tmp_path / "root")
    rpm_in_root(root, "-ivh", "--nodeps", *map(str, sorted(dist.glob("*.rpm"))))
    app = uid_of(root, "app")
    assert (root / "data/projects/fate").stat().st_uid == app
    assert (root / "data/projects/fate/eggroll/conf/eggroll.properties").stat().st_uid == app
    assert (root / "data/projects/fate/common/jdk/jdk-8u192/bin/java").stat().st_uid == 0
    assert os.readlink(root / "data/projects/fate/eggroll/logs") == "/data/logs/fate/eggroll"
    assert rpm_in_root(root, "-Va", "--nodeps", check=False).stdout.strip() == ""


def test_installed_fate_tools_run_with_their_vendored_libraries(sample_build, tmp_path):
    """fate-configure from the RPM runs with only what fate-tools carries (no .venv)."""
    _, dist, _ = sample_build
    subprocess.run(f"rpm2cpio {rpms(dist)['fate-tools']} | cpio -idm --quiet", shell=True,
                   cwd=tmp_path, check=True)
    lib = tmp_path / "usr/lib/fate-tools"
    import_check = ("import jinja2, markupsafe, yaml, packager.onhost.configure.cli,"
                    " packager.onhost.ctl.cli, packager.onhost.waitport;"
                    "print(jinja2.__version__, yaml.__version__, jinja2.__file__,"
                    " packager.onhost.__file__, packager.onhost.units.DIR)")
    # from an empty directory: the checkout's own packager/ must not be what is imported
    empty = tmp_path / "cwd"
    empty.mkdir()
    r = subprocess.run(["/usr/bin/python3", "-s", "-c", import_check], capture_output=True,
                       text=True, env={"PYTHONPATH": f"{lib}:{lib}/vendor", "PATH": "/usr/bin"},
                       cwd=empty)
    assert r.returncode == 0, r.stderr
    version_j, version_y, jinja_file, onhost_file, units_dir = r.stdout.split()
    assert (version_j, version_y) == ("3.0.3", "5.4.1")
    assert jinja_file.startswith(str(lib / "vendor"))
    assert onhost_file == str(lib / "packager/onhost/__init__.py")
    assert units_dir == str(lib / "packager/onhost/units")
    # only the on-host tree of packager is shipped (a namespace package on the host)
    assert sorted(p.name for p in (lib / "packager").iterdir()) == ["onhost"]
    wrapper = (tmp_path / "usr/bin/fate-configure").read_text()
    assert "packager.onhost.configure.cli" in wrapper and "/usr/lib/fate-tools/vendor" in wrapper


def test_second_build_rebuilds_nothing(dist_copy, monkeypatch):
    cache, dist = dist_copy
    before = {p.name: p.stat().st_mtime_ns for p in dist.glob("*.rpm")}
    monkeypatch.chdir(dist.parent)  # as users call it: -o dist
    report = run_build(sample_options(cache, Path(dist.name)))
    assert {o.status for o in report.outcomes} == {"up to date"}
    assert {p.name: p.stat().st_mtime_ns for p in dist.glob("*.rpm")} == before


def test_changing_one_spec_rebuilds_only_that_rpm(dist_copy, tmp_path, monkeypatch):
    cache, dist = dist_copy
    monkeypatch.chdir(dist.parent)
    dist = Path(dist.name)  # a relative output directory, as `-o dist`
    specs = tmp_path / "specs"
    shutil.copytree(resources.specs() / "packages", specs)
    board = specs / "fate-board.yaml"
    board.write_text(board.read_text().replace("summary: FATE-Board 1.4.2",
                                               "summary: FATE-Board 1.4.2 (rebuilt)"))
    report = run_build(sample_options(cache, dist, specs_dir=specs))
    built = {o.name for o in report.outcomes if o.status == "built"}
    assert built == {"fate-board"}


def test_two_builds_are_byte_identical(sample_build, tmp_path):
    """Staged at another path (another length), the same bytes: byte code included (3.6's
    marshal is not deterministic by itself, see packager/assemble/bytecode.py)."""
    cache, dist, _ = sample_build
    run_build(sample_options(cache, tmp_path / "again"))
    for path in dist.glob("*.rpm"):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name
    found = rpms(dist)
    for name in ("fate-python", *_FATE_TREES):  # what was compared holds byte code
        assert [n for n in read_rpm(found[name]).filenames() if n.endswith(".cpython-36.pyc")
                ], name


def test_missing_artifacts_are_listed(tmp_path):
    opts = BuildOptions(release="fate-1.4.5", cache=Cache(tmp_path / "empty"),
                        out_dir=tmp_path / "dist")
    with pytest.raises(UserError) as err:
        run_build(opts)
    msg = str(err.value)
    for name in ("jdk-8u192-linux-x64.tar.gz", "FATE_install_1.4.5-release.tar.gz",
                 "Jinja2-3.0.3-py3-none-any.whl"):
        assert name in msg
    assert "fate-pkg fetch --release fate-1.4.5" in msg
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "packager.cli", *args],
                            env={**os.environ, "PYTHONPATH": str(REPO)}, **kw)


def test_ctrl_c_leaves_dist_as_it_was(dist_copy):
    cache, dist = dist_copy
    before = {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()}
    # Another account changes every fingerprint: everything is rebuilt, slowly (xz:9).
    proc = _cli("build", "--offline", "--sample", "--cache", str(cache.root), "-o", str(dist),
                "--account", "fate:fate", "--compression", "xz:9", stderr=subprocess.PIPE,
                text=True)
    deadline = time.monotonic() + 60
    while not list(dist.glob(".fate-pkg-work-*/steps")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(dist.glob(".fate-pkg-work-*")), "the build should be under way"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    after = {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()}
    assert after == before
    assert [p.name for p in dist.glob(".fate-pkg-*")] == [".fate-pkg-build.json"]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root for a network namespace")
def test_build_needs_no_network_at_all(tmp_path):
    """The whole build, children included, inside a network namespace with no interface up."""
    fresh = seeded_cache(tmp_path / "cache")
    r = subprocess.run(["unshare", "--net", "--", sys.executable, "-m", "packager.cli", "build",
                        "--offline", "--sample", "--cache", str(fresh.root), "-o",
                        str(tmp_path / "dist"), "--compression", "gzip:1", "--only",
                        "fate-python", "--json"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    assert '"status": "built"' in r.stdout


def one_artifact_release(tmp_path: Path, tree: Path, spec_yaml: str) -> BuildOptions:
    """A release of one tarball made from ``tree``, with one package spec, cached."""
    import hashlib

    from packager.release import load_release

    archive = tmp_path / "tool-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(tree, arcname="tool-1.0")
    manifest = tmp_path / "tool-1.0.yaml"
    manifest.write_text(
        "release: tool-1.0\nversion: '1.0'\nsource_date_epoch: 1600000000\nartifacts:\n"
        "  - name: tool-1.0.tar.gz\n    url: https://example.invalid/tool-1.0.tar.gz\n"
        f"    size: {archive.stat().st_size}\n"
        f"    sha256: {hashlib.sha256(archive.read_bytes()).hexdigest()}\n"
        "    component: fate\n")
    cache = Cache(tmp_path / "cache")
    cache.add(archive, load_release(manifest).artifacts[0])
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "tool.yaml").write_text(spec_yaml)
    return BuildOptions(release=str(manifest), cache=cache, out_dir=tmp_path / "dist",
                        specs_dir=specs)


def test_abi_violation_fails_the_build_and_allow_abi_accepts(tmp_path):
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void){puts("hi");return 0;}\n')
    tree = tmp_path / "tool-1.0"
    (tree / "bin").mkdir(parents=True)
    subprocess.run(["gcc", "-O1", "-o", str(tree / "bin/hello"), str(src)], check=True)
    opts = one_artifact_release(
        tmp_path, tree,
        "name: fate-tool\nversion: '{version}'\nrelease: '{release}'\nsummary: A tool\n"
        "files:\n  - {from: [tool-1.0.tar.gz], path: tool-1.0, dst: /data/projects/fate/tool,"
        " tree: true}\n")
    with pytest.raises(UserError) as err:
        run_build(opts)
    assert "bin/hello" in str(err.value) and "GLIBC_2.34" in str(err.value)
    assert not list((tmp_path / "dist").glob("*.rpm"))
    opts.allow_abi = ("bin/hello",)
    report = run_build(opts)
    assert [o.status for o in report.outcomes] == ["built"]


def test_build_fails_on_an_el7_lint_violation_and_writes_nothing(tmp_path):
    """A bash-4.4 feature in a shipped script of ours: rule 19 stops the build."""
    tree = tmp_path / "tool-1.0" / "bin"
    tree.mkdir(parents=True)
    (tree / "fate-hello").write_text('#!/bin/bash\nset -euo pipefail\nx=1\necho "${x@Q}"\n')
    (tree / "fate-hello").chmod(0o755)
    opts = one_artifact_release(
        tmp_path, tree.parent,
        "name: fate-hello\nversion: '{version}'\nrelease: '{release}'\nsummary: Hello\n"
        "files:\n  - {from: [tool-1.0.tar.gz], path: tool-1.0/bin/fate-hello,"
        " dst: /usr/bin/fate-hello, mode: '0755'}\n")
    with pytest.raises(UserError) as err:
        run_build(opts)
    assert "rule 19" in str(err.value) and "/usr/bin/fate-hello" in str(err.value)
    assert not list((tmp_path / "dist").glob("*.rpm"))


def test_signed_build_verifies_with_the_exported_key(dist_copy, tmp_path):
    from support.gpgkeys import rsa_signer

    cache, dist = dist_copy
    signer = rsa_signer(tmp_path / "gnupg", SDE)
    report = run_build(sample_options(cache, dist, signer=signer, only=("fate-common",)))
    assert [o.status for o in report.outcomes] == ["built"]
    db = tmp_path / "rpmdb"
    db.mkdir()
    key = tmp_path / "RPM-GPG-KEY-fate"
    key.write_bytes(signer.export_public_key())
    run_rpm("--dbpath", str(db), "--import", str(key))
    out = run_rpm("--dbpath", str(db), "-Kv", str(report.outcomes[0].path)).stdout
    assert "Header V4 RSA/SHA256 Signature" in out and "NOKEY" not in out and "BAD" not in out


def test_only_one_rpm_with_units_is_linted_with_the_rest_of_dist(dist_copy):
    """`--only fate-flow`: its units' preset is in fate-common, already in dist/ (the
    lint's one-preset rule looked at the one RPM alone and refused every such build)."""
    cache, dist = dist_copy
    report = run_build(sample_options(cache, dist, only=("fate-flow",), sde=SDE + 1))
    assert [(o.name, o.status) for o in report.outcomes] == [("fate-flow", "built")]
