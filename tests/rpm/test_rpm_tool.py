"""The writer's packages checked by the real rpm tool: digests, queries, installs, upgrades."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from packager import resources
from packager.rpm import Compression, build_rpm, read_rpm
from packager.rpm.spec import load_spec, package_from_dict
from support.rpmtool import make_scratch_root, query, rpm_in_root, run_rpm, uid_of

pytestmark = pytest.mark.skipif(shutil.which("rpm") is None, reason="needs Debian's rpm")
DEMO = resources.specs() / "demo" / "hello.yaml"
SDE = 1600000000


def build_demo(out: Path, kind: str = "xz", release: str = "1", signer=None,
               shipped_conf: str | None = None) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    data["release"] = release
    base = DEMO.parent
    if shipped_conf is not None:  # a new release that ships a changed default config
        base = out / "src"
        shutil.copytree(DEMO.parent / "hello", base / "hello", symlinks=True)
        (base / "hello/conf/fate-demo.conf").write_text(shipped_conf)
    pkg, _ = package_from_dict(data, base, str(DEMO))
    return build_rpm(pkg, out, compression=Compression(kind), sde=SDE, signer=signer).path


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_rpm_K_digests_ok(tmp_path, kind):
    rpm = build_demo(tmp_path, kind)
    r = run_rpm("-Kv", str(rpm))
    assert "Header SHA1 digest: OK" in r.stdout
    assert "MD5 digest: OK" in r.stdout
    assert "Payload SHA256 digest: OK" in r.stdout


def test_rpm_K_signature_ok_after_import(tmp_path, rsa_signer):
    rpm = build_demo(tmp_path / "out", signer=rsa_signer)
    db = tmp_path / "db"
    db.mkdir()
    r = run_rpm("--dbpath", str(db), "-K", str(rpm), check=False)
    assert r.returncode != 0, "unknown key must not pass"
    key = tmp_path / "RPM-GPG-KEY-test"
    key.write_bytes(rsa_signer.export_public_key())
    run_rpm("--dbpath", str(db), "--import", str(key))
    out = run_rpm("--dbpath", str(db), "-Kv", str(rpm)).stdout
    assert "Header V4 RSA/SHA256 Signature" in out and ": OK" in out
    assert "V4 RSA/SHA256 Signature, key ID" in out  # the header+payload (1002) one
    assert "BAD" not in out and "NOKEY" not in out


@pytest.mark.parametrize("where", ["header", "payload"])
def test_corrupted_byte_is_caught(tmp_path, where):
    rpm = build_demo(tmp_path)
    parsed = read_rpm(rpm)
    data = bytearray(rpm.read_bytes())
    if where == "header":
        pos = parsed.header_offset + len(parsed.header_bytes) - 40  # inside the data store
    else:
        pos = parsed.payload_offset + (parsed.file_size - parsed.payload_offset) // 2
    data[pos] ^= 0xFF
    rpm.write_bytes(bytes(data))
    r = run_rpm("-K", str(rpm), check=False)
    assert r.returncode != 0
    assert "digests SIGNATURES NOT OK" in r.stdout or "NOT OK" in r.stdout + r.stderr


def test_queries_match_the_yaml(tmp_path):
    rpm = build_demo(tmp_path)
    spec = yaml.safe_load(DEMO.read_text())
    requires = set(query(rpm, "--requires"))
    for dep in spec["requires"] + spec["requires(pre)"]:
        assert dep in requires
    assert "/bin/sh" in requires
    provides = set(query(rpm, "--provides"))
    assert {"fate-demo-api = 1", "fate-demo = 1.0.0-1", "fate-hello = 1.0.0-1"} <= provides
    assert query(rpm, "--obsoletes") == ["fate-hello < 1.0"]
    fmt = "[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\\n]"
    assert "shadow-utils pre" in query(rpm, "--qf", fmt)
    scripts = "\n".join(query(rpm, "--scripts"))
    for slot, word in (("pre", "preinstall"), ("post", "postinstall"), ("preun", "preuninstall"),
                       ("postun", "postuninstall")):
        assert f"{word} scriptlet (using /bin/sh)" in scripts
        for line in spec["scripts"][slot].strip().splitlines():
            assert line in scripts
    dump = {line.split()[0]: line.split() for line in query(rpm, "--dump")}
    conf = dump["/etc/fate-demo/fate-demo.conf"]
    assert conf[4] == "0100644" and conf[7] == "1", "a config file"
    assert dump["/var/log/fate-demo"][4] == "040750"
    assert dump["/var/log/fate-demo"][5:7] == ["fatedemo", "fatedemo"]
    assert dump["/data/projects/fate-demo/bin/fate-demo"][4] == "0100755"
    assert dump["/data/projects/fate-demo/current"][-1] == "bin"
    listed = set(dump)
    system = {"/opt", "/etc", "/var/log", "/usr", "/data", "/data/projects", "/usr/share/doc"}
    assert not listed & system


def test_rpm2cpio_gives_back_the_tree(tmp_path):
    rpm = build_demo(tmp_path)
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(f"rpm2cpio {rpm} | cpio -idm --quiet", shell=True, cwd=out, check=True)
    src = DEMO.parent / "hello"
    assert (out / "data/projects/fate-demo/bin/fate-demo").read_bytes() == (
        src / "bin/fate-demo").read_bytes()
    assert (out / "data/projects/fate-demo/lib/data.txt").read_bytes() == (
        src / "lib/fate-demo/data.txt").read_bytes()
    assert os.readlink(out / "data/projects/fate-demo/current") == "bin"
    assert not (out / "var/log/fate-demo/fate-demo.log").exists(), "ghost not in payload"


def note(root: Path, slot: str) -> str:
    """What the demo's scriptlet ``slot`` wrote (its $1), inside the scratch root."""
    return (root / "var/lib/rpm-state/fate-demo" / slot).read_text().strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot scriptlets need root")
def test_install_upgrade_erase_in_scratch_root(tmp_path):
    root = make_scratch_root(tmp_path / "root")
    v1 = build_demo(tmp_path / "v1", release="1")
    v2 = build_demo(tmp_path / "v2", release="2", shipped_conf='GREETING="hello, v2"\n')

    rpm_in_root(root, "-ivh", "--nodeps", str(v1))
    assert note(root, "post") == "fate-demo installed (1)"
    uid = uid_of(root, "fatedemo")
    logdir = (root / "var/log/fate-demo").stat()
    assert logdir.st_uid == uid and stat.S_IMODE(logdir.st_mode) == 0o750
    assert stat.S_IMODE((root / "data/projects/fate-demo/bin/fate-demo").stat().st_mode) == 0o755
    assert (root / "var/log/fate-demo/fate-demo.log").stat().st_uid == uid, "ghost created"
    assert rpm_in_root(root, "-V", "--nodeps", "fate-demo", check=False).stdout.strip() == ""

    conf = root / "etc/fate-demo/fate-demo.conf"
    conf.write_text('GREETING="edited by the operator"\n')
    r = rpm_in_root(root, "-Uvh", "--nodeps", str(v2))
    assert "created as /etc/fate-demo/fate-demo.conf.rpmnew" in r.stderr + r.stdout
    assert conf.read_text() == 'GREETING="edited by the operator"\n'
    assert note(root, "post") == "fate-demo installed (2)"
    assert note(root, "preun") == "fate-demo removing (1)"
    assert rpm_in_root(root, "-q", "fate-demo").stdout.strip() == "fate-demo-1.0.0-2.noarch"

    r = rpm_in_root(root, "-e", "fate-demo")
    assert "saved as /etc/fate-demo/fate-demo.conf.rpmsave" in r.stderr + r.stdout
    assert note(root, "postun") == "fate-demo removed (0)"
    assert not (root / "data/projects/fate-demo").exists()
    assert (root / "etc/fate-demo/fate-demo.conf.rpmsave").exists()


def test_yaml_spec_round_trip(tmp_path):
    pkg, comp = load_spec(DEMO)
    assert comp == Compression("xz", 6)
    assert pkg.name == "fate-demo" and len(pkg.files) == 12
