"""Each docs/el7-rules.md rule (1-12) checked on the writer's own output, by parsing it back."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from packager.rpm import (
    BuildError,
    Compression,
    Dependency,
    FileEntry,
    Package,
    Script,
    build_rpm,
    read_rpm,
)
from packager.rpm import tags as t
from packager.rpm.cpio import MAGIC
from packager.rpm.sign import SigningError
from packager.rpm.tree import entries_from_tree

SDE = 1600000000


def pkg_from(tree: Path, **kw) -> Package:
    files = entries_from_tree(tree, "/opt/fate-test")
    return Package(name="fate-test", version="1.4.5", release="1", summary="test package",
                   files=files, **kw)


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_rule1_payload_compressor_is_gzip_or_xz(tree, tmp_path, kind):
    r = build_rpm(pkg_from(tree), tmp_path / "out", compression=Compression(kind), sde=SDE)
    rpm = read_rpm(r.path)
    assert rpm.tag(t.PAYLOADCOMPRESSOR) == kind
    with open(r.path, "rb") as f:
        f.seek(rpm.payload_offset)
        head = f.read(6)
    assert head.startswith(b"\x1f\x8b" if kind == "gzip" else b"\xfd7zXZ\x00")


def test_rule1_zstd_is_refused(tree, tmp_path):
    with pytest.raises(BuildError, match="zstd"):
        build_rpm(pkg_from(tree), tmp_path, compression=Compression("zstd"))


def test_rule1_xz_payload_is_one_stream(tmp_path):
    """Several blocks for parallelism, but never concatenated streams (EL7 reads only one)."""
    big = tmp_path / "big"
    big.mkdir()
    (big / "a").write_bytes(os.urandom(6 << 20))  # several 1 MiB xz blocks at -0
    comp = Compression("xz", 0, threads=2)
    r = build_rpm(pkg_from(big), tmp_path / "out", compression=comp, sde=SDE)
    rpm = read_rpm(r.path)
    payload = b"".join(rpm.payload())
    assert payload.count(b"\xfd7zXZ\x00") == 1
    assert payload.endswith(b"YZ")  # stream footer magic: exactly one stream ends the payload


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_rule2_only_allowed_rpmlib_requires(tree, tmp_path, kind):
    pkg = pkg_from(tree, requires=[Dependency.parse("bash >= 4.2")],
                   scripts={"post": Script("true")})
    r = build_rpm(pkg, tmp_path, compression=Compression(kind), sde=SDE)
    libs = {(n, v) for n, f, v in read_rpm(r.path).deps("requires") if n.startswith("rpmlib(")}
    assert libs, "rpmlib() requires are how a too-old rpm fails cleanly"
    for name, version in libs:
        assert t.RPMLIB_ALLOWED[name] == version
    assert ("rpmlib(PayloadIsXz)", "5.2-1") in libs if kind == "xz" else True
    names = {n for n, _ in libs}
    assert not names & {"rpmlib(LargeFiles)", "rpmlib(RichDependencies)",
                        "rpmlib(PayloadIsZstd)"}


def test_rule3_32bit_size_tags(tree, tmp_path):
    r = build_rpm(pkg_from(tree), tmp_path, sde=SDE)
    rpm = read_rpm(r.path)
    assert rpm.header.types[t.FILESIZES] == t.T.INT32
    assert rpm.header.types[t.SIZE] == t.T.INT32
    assert rpm.signature.types[t.SIG_SIZE] == t.T.INT32
    assert t.LONGFILESIZES not in rpm.header.values and t.LONGSIZE not in rpm.header.values
    sizes = dict(zip(rpm.filenames(), rpm.header.array(t.FILESIZES)))
    assert sizes["/opt/fate-test/share/data.bin"] == 256 * 64
    assert rpm.signature.get(t.SIG_SIZE)[0] == r.path.stat().st_size - rpm.header_offset


def test_rule3_file_of_4gib_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "huge", "wb") as f:
        f.truncate(4 << 30)  # sparse: no disk used
    with pytest.raises(BuildError, match="below 4 GiB"):
        build_rpm(pkg_from(src), tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.rpm"))


def test_rule3_package_of_4gib_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a", "b"):
        with open(src / name, "wb") as f:
            f.truncate(2200 << 20)
    with pytest.raises(BuildError, match="split it"):
        build_rpm(pkg_from(src), tmp_path / "out")


def test_rule4_header_of_16mib_is_refused(tmp_path):
    name = "a-file-name-as-long-as-those-in-a-python-site-packages-tree"
    files = [FileEntry(f"/opt/fate-test/d{i // 1000}/{name}-{i:07d}", "file",
                       flags=t.FILE_GHOST) for i in range(180_000)]
    pkg = Package(name="fate-huge", version="1", release="1", summary="s", files=files)
    with pytest.raises(BuildError, match="16 MiB"):
        build_rpm(pkg, tmp_path)
    assert not list(tmp_path.glob("*.rpm"))


def test_rule5_signature_header_digests(tree, tmp_path):
    r = build_rpm(pkg_from(tree), tmp_path, sde=SDE)
    rpm = read_rpm(r.path)
    sig = rpm.signature
    assert sig.get(t.SIG_SHA1) == hashlib.sha1(rpm.header_bytes).hexdigest()
    assert sig.get(t.SIG_SHA256) == hashlib.sha256(rpm.header_bytes).hexdigest()
    with open(r.path, "rb") as f:
        f.seek(rpm.header_offset)
        assert sig.get(t.SIG_MD5) == hashlib.md5(f.read()).digest()
    assert sig.region_tag == t.HEADERSIGNATURES
    assert rpm.header_offset % 8 == 0


def test_rule6_signature_packets(tree, tmp_path, rsa_signer):
    r = build_rpm(pkg_from(tree), tmp_path, sde=SDE, signer=rsa_signer)
    sig = read_rpm(r.path).signature
    for tag in (t.SIG_RSA, t.SIG_PGP):
        packet = sig.get(tag)
        assert packet[0] & 0x80 and packet[3] == 4, "a V4 OpenPGP signature packet"
        assert packet[5] == 1, "RSA"
    assert t.SIG_OPENPGP not in sig.values


def test_rule6_eddsa_key_is_refused(tree, tmp_path, eddsa_signer):
    with pytest.raises(SigningError, match="RSA or DSA"):
        build_rpm(pkg_from(tree), tmp_path / "out", sde=SDE, signer=eddsa_signer)
    assert not list((tmp_path / "out").glob("*.rpm"))


def test_rule7_sha256_file_digests(tree, tmp_path):
    r = build_rpm(pkg_from(tree), tmp_path, sde=SDE)
    rpm = read_rpm(r.path)
    assert rpm.tag(t.FILEDIGESTALGO) == t.DIGEST_SHA256
    digests = dict(zip(rpm.filenames(), rpm.header.array(t.FILEDIGESTS)))
    assert digests["/opt/fate-test/bin/tool"] == hashlib.sha256(
        (tree / "bin" / "tool").read_bytes()).hexdigest()
    assert digests["/opt/fate-test/share/link"] == ""


@pytest.mark.parametrize("text", ["(a or b)", "(fate-python if fate-flow)", "a >= "])
def test_rule8_no_boolean_dependencies(text):
    with pytest.raises(ValueError):
        Dependency.parse(text)


def test_rule9_os_arch_release_sourcerpm(tree, tmp_path):
    rpm = read_rpm(build_rpm(pkg_from(tree), tmp_path, sde=SDE).path)
    assert rpm.tag(t.OS) == "linux"
    assert rpm.tag(t.ARCH) == "x86_64"
    assert rpm.tag(t.RELEASE) == "1"
    assert rpm.tag(t.SOURCERPM) == "fate-test-1.4.5-1.src.rpm"


@pytest.mark.parametrize("field,value", [("release", ""), ("version", "1.4-5"),
                                         ("version", "1.0^git1"), ("arch", "aarch64")])
def test_rule9_bad_metadata_is_refused(tree, tmp_path, field, value):
    pkg = pkg_from(tree)
    setattr(pkg, field, value)
    with pytest.raises(BuildError, match=field):
        build_rpm(pkg, tmp_path)


@pytest.mark.parametrize("path", ["/usr/bin", "/opt", "/etc", "/usr/lib/systemd/system", "/"])
def test_rule10_system_directories_are_refused(tmp_path, path):
    pkg = Package(name="x", version="1", release="1", summary="s",
                  files=[FileEntry(path, "dir")])
    with pytest.raises(BuildError, match="system directory|normalised"):
        build_rpm(pkg, tmp_path)


def test_rule11_hardlinks_become_separate_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"same bytes\n")
    os.link(src / "a", src / "b")
    rpm = read_rpm(build_rpm(pkg_from(src), tmp_path / "out", sde=SDE).path)
    payload = _decompress(rpm)
    nlinks = [int(payload[i + 38:i + 46], 16) for i in _entries(payload)]
    assert set(nlinks) == {1}
    assert payload.count(b"same bytes\n") == 2


def test_rule11_directory_symlink_collision_is_refused(tmp_path):
    files = [FileEntry("/opt/fate-x/lib", "symlink", link_target="lib64"),
             FileEntry("/opt/fate-x/lib/a.so", "file", flags=t.FILE_GHOST)]
    pkg = Package(name="x", version="1", release="1", summary="s", files=files)
    with pytest.raises(BuildError, match="symlink"):
        build_rpm(pkg, tmp_path)


@pytest.mark.parametrize("signed", [False, True])
def test_rule12_reproducible(tree, tmp_path, rsa_signer, signed):
    signer = rsa_signer if signed else None
    first = build_rpm(pkg_from(tree), tmp_path / "one", sde=SDE, signer=signer).path.read_bytes()
    for p in tree.rglob("*"):  # a fresh checkout has other mtimes: clamped to SDE
        os.utime(p, (SDE + 5000, SDE + 5000), follow_symlinks=False)
    second = build_rpm(pkg_from(tree), tmp_path / "two", sde=SDE, signer=signer).path.read_bytes()
    assert first == second


def test_modes_owners_and_flags_in_header(tree, tmp_path):
    files = entries_from_tree(tree, "/opt/fate-test", owner="app", group="apps")
    files.append(FileEntry("/opt/fate-test/run.pid", "file", flags=t.FILE_GHOST, owner="app"))
    pkg = Package(name="fate-test", version="1", release="1", summary="s", files=files)
    rpm = read_rpm(build_rpm(pkg, tmp_path, sde=SDE).path)
    by_name = {n: i for i, n in enumerate(rpm.filenames())}
    modes = rpm.header.array(t.FILEMODES)
    tool = by_name["/opt/fate-test/bin/tool"]
    assert modes[tool] == stat.S_IFREG | 0o755
    assert stat.S_ISLNK(modes[by_name["/opt/fate-test/share/link"]])
    assert rpm.header.array(t.FILEUSERNAME)[tool] == "app"
    assert rpm.header.array(t.FILEGROUPNAME)[tool] == "apps"
    ghost = by_name["/opt/fate-test/run.pid"]
    assert rpm.header.array(t.FILEFLAGS)[ghost] & t.FILE_GHOST
    assert b"run.pid" not in _decompress(rpm), "ghost files are not in the payload"


def _decompress(rpm) -> bytes:
    import gzip
    import lzma
    data = b"".join(rpm.payload())
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else lzma.decompress(data)


def _entries(payload: bytes):
    pos = 0
    while True:
        assert payload[pos:pos + 6] == MAGIC
        yield pos
        size = int(payload[pos + 54:pos + 62], 16)
        namesize = int(payload[pos + 94:pos + 102], 16)
        name = payload[pos + 110:pos + 110 + namesize - 1]
        pos += 110 + namesize
        pos += -pos % 4
        pos += size + (-size % 4)
        if name == b"TRAILER!!!":
            return
