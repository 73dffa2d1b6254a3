"""el7 rules 1-11 on real packages: the writer's output passes, crafted bad ones are caught."""

from __future__ import annotations

import gzip
import lzma
import subprocess
from pathlib import Path

import pytest

from packager.lint import check_paths
from packager.rpm import Compression, FileEntry, Script, read_rpm
from packager.rpm import header as header_mod
from packager.rpm import tags as t
from packager.rpm import writer as writer_mod
from packager.rpm.tags import T
from tests.lint.craft import build, cpio_of, gpg_key, gpg_sign, package, rewrite


def rules_of(paths, **kw) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in check_paths([str(p) for p in paths], **kw):
        out.setdefault(f.rule, []).append(f.message)
    return out


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("good")
    return build(tmp / "out", package(tmp, scripts={"post": Script("echo installed\n")}),
                 compression=Compression("gzip"))


@pytest.mark.parametrize("kind", ["gzip", "xz"])
@pytest.mark.parametrize("signed", [False, True])
def test_writer_output_is_clean(tmp_path, kind, signed, signer):
    """The good side of every header rule: what build_rpm writes has no finding at all."""
    pkg = package(tmp_path, requires=[], scripts={"pre": Script("getent group apps >/dev/null "
                                                              "|| groupadd -r apps\n")})
    path = build(tmp_path / "out", pkg, compression=Compression(kind),
                 signer=signer if signed else None)
    assert check_paths([path]) == []


def test_rule1_zstd_payload(tmp_path, good):
    zstd = subprocess.run(["zstd", "-q", "-c"], input=cpio_of(good), capture_output=True,
                          check=True).stdout
    bad = rewrite(good, tmp_path / "zstd.rpm", payload=zstd,
                  header=lambda h: h.update({t.PAYLOADCOMPRESSOR: (T.STRING, "zstd")}))
    msgs = rules_of([bad])["1"]
    assert any("'zstd'" in m for m in msgs), msgs
    assert any("Bad magic" in m for m in msgs), msgs


def test_rule1_header_and_payload_disagree(tmp_path, good):
    bad = rewrite(good, tmp_path / "mismatch.rpm", payload=lzma.compress(cpio_of(good)))
    assert rules_of([bad]) == {"1": ["header says gzip but the payload is xz"]}


def test_rule1_concatenated_xz_streams(tmp_path, good):
    cpio = cpio_of(good)
    two = lzma.compress(cpio[:200]) + lzma.compress(cpio[200:])
    bad = rewrite(good, tmp_path / "concat.rpm", payload=two,
                  header=lambda h: h.update({t.PAYLOADCOMPRESSOR: (T.STRING, "xz")}))
    assert rules_of([bad]) == {"1": ["payload is 2 concatenated xz streams; rpm 4.11 reads "
                                     "only the first"]}


def _add_require(h, name: str, flags: int, version: str) -> None:
    for tag, value in ((t.REQUIRENAME, name), (t.REQUIREFLAGS, flags),
                       (t.REQUIREVERSION, version)):
        h[tag] = (h[tag][0], [*h[tag][1], value])


def test_rule2_rpmlib_newer_than_4_11(tmp_path, good):
    lib = t.SENSE_RPMLIB | t.SENSE_LESS | t.SENSE_EQUAL
    bad = rewrite(good, tmp_path / "b.rpm", header=lambda h: (
        _add_require(h, "rpmlib(PayloadIsZstd)", lib, "5.4.18-1"),
        _add_require(h, "rpmlib(PayloadIsXz)", lib, "5.2-1")))
    msgs = rules_of([bad])["2"]
    assert len(msgs) == 2
    assert any("requires rpmlib(PayloadIsZstd): rpm 4.11" in m for m in msgs)
    assert any("requires rpmlib(PayloadIsXz) but the payload is gzip" in m for m in msgs)


def test_rule3_64bit_size_tags(tmp_path, good):
    def edit(h):
        sizes = h.pop(t.FILESIZES)[1]
        h[t.LONGFILESIZES] = (T.INT64, sizes)
        h[t.LONGSIZE] = (T.INT64, [5 << 30])
    bad = rewrite(good, tmp_path / "b.rpm", header=edit)
    msgs = rules_of([bad])["3"]
    assert any("LONGFILESIZES" in m for m in msgs)
    assert any("LONGSIZE" in m for m in msgs)
    assert any("FILESIZES (1028) missing" in m for m in msgs)


def test_rule3_file_and_package_of_4gib(tmp_path, good):
    def edit(h):
        sizes = h[t.FILESIZES][1]
        h[t.FILESIZES] = (T.INT32, [0xFFFFFFFF] + sizes[1:])
        h[t.SIZE] = (T.INT32, [0xFFFFFFFF])
    msgs = rules_of([rewrite(good, tmp_path / "b.rpm", header=edit)])["3"]
    assert any("each file must stay below 4 GiB" in m for m in msgs)
    assert any("package reaches 4 GiB" in m for m in msgs)


def test_rule4_header_of_16mib(tmp_path, good, monkeypatch):
    monkeypatch.setattr(header_mod, "HEADER_DATA_MAX", 1 << 30)  # let the crafter write it
    bad = rewrite(good, tmp_path / "b.rpm",
                  header=lambda h: h.update({t.DESCRIPTION: (T.I18NSTRING, "x" * (17 << 20))}))
    msgs = rules_of([bad])["4"]
    assert len(msgs) == 1 and "16 MiB" in msgs[0]


def test_rule4_more_than_65535_header_entries(tmp_path, good, monkeypatch):
    """hdrchkTags: rpm 4.11 refuses a header of 65536 index entries or more."""
    monkeypatch.setattr(header_mod, "HEADER_TAGS_MAX", 1 << 30)  # let the crafter write it
    extra = {20000 + i: (T.INT32, [i]) for i in range(0x10000)}
    bad = rewrite(good, tmp_path / "b.rpm", header=lambda h: h.update(extra))
    msgs = rules_of([bad])["4"]
    assert len(msgs) == 1 and "index entries" in msgs[0] and "65535" in msgs[0]


def test_rule5_missing_legacy_digests(tmp_path, good):
    def edit(s):
        del s[t.SIG_SHA1]
        del s[t.SIG_MD5]
    msgs = rules_of([rewrite(good, tmp_path / "b.rpm", signature=edit)])["5"]
    assert len(msgs) == 2
    assert any("SHA1" in m for m in msgs) and any("MD5" in m for m in msgs)


def test_rule6_only_one_signature_or_only_openpgp(tmp_path, signer):
    signed = build(tmp_path / "s", package(tmp_path), signer=signer)
    half = rewrite(signed, tmp_path / "half.rpm", signature=lambda s: s.pop(t.SIG_PGP))
    assert rules_of([half])["6"] == ["signed, but no header+payload signature (PGP 1002)"]

    def openpgp_only(s):
        s[t.SIG_OPENPGP] = (T.STRING_ARRAY, ["base64-v6-signature"])
        del s[t.SIG_RSA]
        del s[t.SIG_PGP]
    only = rewrite(signed, tmp_path / "v6.rpm", signature=openpgp_only)
    assert "yum 3.4.3 treats the package as unsigned" in rules_of([only])["6"][0]


def test_rule6_eddsa_signature_packet(tmp_path, good):
    home = tmp_path / "gpg-ed"
    key = gpg_key(home, "eddsa", None)
    packet = gpg_sign(home, key, b"header")
    bad = rewrite(good, tmp_path / "ed.rpm", signature=lambda s: s.update(
        {t.SIG_RSA: (T.BIN, packet), t.SIG_PGP: (T.BIN, packet)}))
    msgs = rules_of([bad])["6"]
    assert len(msgs) == 2 and all("RSA or DSA only" in m for m in msgs)


@pytest.mark.parametrize("algo", [None, 1])
def test_rule7_md5_file_digests(tmp_path, good, algo):
    def edit(h):
        if algo is None:
            del h[t.FILEDIGESTALGO]
        else:
            h[t.FILEDIGESTALGO] = (T.INT32, [algo])
    msgs = rules_of([rewrite(good, tmp_path / "b.rpm", header=edit)])["7"]
    assert len(msgs) == 1 and "SHA256 (8) is required" in msgs[0]


def test_rule8_boolean_weak_deps_and_file_triggers(tmp_path, good):
    def edit(h):
        _add_require(h, "(fate-python or python3)", 0, "")
        h[5046] = (T.STRING_ARRAY, ["fate-board"])  # RECOMMENDNAME
        h[5069] = (T.STRING_ARRAY, ["/usr/lib64/"])  # FILETRIGGERNAME
    msgs = rules_of([rewrite(good, tmp_path / "b.rpm", header=edit)])["8"]
    assert len(msgs) == 3
    assert any("boolean dependency in requires: (fate-python or python3)" in m for m in msgs)
    assert any(m.startswith("Recommends") for m in msgs)
    assert any("file trigger" in m for m in msgs)


@pytest.mark.parametrize("tag,value,expected", [
    (t.OS, "darwin", "OS is 'darwin'"),
    (t.ARCH, "i686", "arch is 'i686'"),
    (t.RELEASE, "", "release is empty"),
    (t.SOURCERPM, None, "SOURCERPM is not set"),
])
def test_rule9_identity(tmp_path, good, tag, value, expected):
    def edit(h):
        if value is None:
            del h[tag]
        else:
            h[tag] = (T.STRING, value)
    msgs = rules_of([rewrite(good, tmp_path / "b.rpm", header=edit)])["9"]
    assert len(msgs) == 1 and expected in msgs[0]


def _unchecked_build(tmp_path, monkeypatch, files):
    """The writer refuses rules 10/11 up front; bypass that to get a real bad package."""
    monkeypatch.setattr(writer_mod, "check_entries", lambda entries: [])
    return build(tmp_path / "out", package(tmp_path, files=files))


def test_rule10_system_directory(tmp_path, monkeypatch):
    bad = _unchecked_build(tmp_path, monkeypatch, [FileEntry("/usr/bin", "dir"),
                                                    FileEntry("/opt", "dir")])
    msgs = rules_of([bad])["10"]
    assert sorted(msgs) == sorted(f"owns {p}, a system directory of CentOS 7's own packages"
                                  for p in ("/opt", "/usr/bin"))


def test_rule11_directory_symlinks(tmp_path, monkeypatch):
    src = tmp_path / "so"
    src.write_bytes(b"x")
    bad = _unchecked_build(tmp_path, monkeypatch, [
        FileEntry("/opt/fate-lint/lib", "symlink", link_target="lib64"),
        FileEntry("/opt/fate-lint/lib/a.so", "file", source=src),
        FileEntry("/usr/lib64", "symlink", link_target="lib")])
    msgs = rules_of([bad])["11"]
    assert any("/opt/fate-lint/lib/a.so lies under /opt/fate-lint/lib" in m for m in msgs)
    assert any("/usr/lib64 is a symlink where CentOS 7 has a real directory" in m for m in msgs)
    assert len(msgs) == 2


def test_rule11_hardlinks_in_header_and_payload(tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"same bytes\n")
    pkg = package(tmp_path, files=[FileEntry("/opt/fate-lint/copy.txt", "file", source=data)])
    good = build(tmp_path / "out", pkg, compression=Compression("gzip"))
    cpio = bytearray(cpio_of(good))
    # nlink of every regular file entry -> 2 (newc header: magic, ino, mode, uid, gid, nlink)
    pos = 0
    while True:
        namesize = int(cpio[pos + 94:pos + 102], 16)
        name = bytes(cpio[pos + 110:pos + 110 + namesize - 1])
        mode = int(cpio[pos + 14:pos + 22], 16)
        size = int(cpio[pos + 54:pos + 62], 16)
        if name == b"./opt/fate-lint/copy.txt" and mode & 0o100000:
            cpio[pos + 38:pos + 46] = b"%08x" % 2
        if name == b"TRAILER!!!":
            break
        pos += 110 + namesize
        pos += -pos % 4
        pos += size + (-size % 4)
    payload = gzip.compress(bytes(cpio), mtime=0)

    names = read_rpm(good).filenames()
    copy, data = names.index("/opt/fate-lint/copy.txt"), names.index("/opt/fate-lint/data.txt")

    def same_inode(h):
        inodes = list(h[t.FILEINODES][1])
        inodes[copy] = inodes[data]
        h[t.FILEINODES] = (T.INT32, inodes)
    bad = rewrite(good, tmp_path / "hl.rpm", payload=payload, header=same_inode)
    findings = [f for f in check_paths([bad]) if f.rule == "11"]
    assert any(f.artifact.endswith(":/opt/fate-lint/copy.txt") and "nlink 2" in f.message
               for f in findings), findings
    assert any("hardlink of" in f.message for f in findings), findings
    assert check_paths([good]) == []


def test_damaged_rpm_is_a_finding_and_a_missing_path_a_user_error(tmp_path, good):
    from packager.errors import UserError
    broken = tmp_path / "broken.rpm"
    broken.write_bytes(good.read_bytes()[:200])
    assert [f.rule for f in check_paths([broken])] == ["read"]
    with pytest.raises(UserError, match="no such file"):
        check_paths([tmp_path / "absent.rpm"])
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(UserError, match="not an RPM"):
        check_paths([other])


def test_foreign_packages_are_skipped_but_provide_libraries(tmp_path, monkeypatch):
    """CentOS's own RPMs in the bundle own /usr/bin by right; they are counted, not linted."""
    from packager.lint import Summary
    centos = _unchecked_build(tmp_path, monkeypatch, [FileEntry("/usr/bin", "dir")])
    centos = rewrite(centos, tmp_path / "centos.rpm", header=lambda h: h.update(
        {t.VENDOR: (T.STRING, "CentOS")}))
    summary = Summary()
    assert check_paths([centos], summary=summary) == []
    assert (summary.rpms, summary.foreign) == (0, 1)
    ours = rewrite(centos, tmp_path / "ours.rpm", header=lambda h: h.update(
        {t.VENDOR: (T.STRING, "FATE packagers")}))
    assert [f.rule for f in check_paths([ours])] == ["10"]
