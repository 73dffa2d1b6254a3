"""Safe extraction: real archives built here, good ones and hand-made malicious ones."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from packager.errors import UserError
from packager.stage.extract import extract

MTIME = 1_600_000_000  # 2020-09-13, FATE 1.4.x era


def _info(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644,
          link: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, MTIME, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]],
             mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def jdk_like() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """The shape of jdk-8u192-linux-x64.tar.gz: a top directory, bin/, lib/, links."""
    return [
        _info("jdk1.8.0_192/", tarfile.DIRTYPE, mode=0o755),
        _info("jdk1.8.0_192/bin/", tarfile.DIRTYPE, mode=0o755),
        _info("jdk1.8.0_192/bin/java", data=b"\x7fELF fake java", mode=0o4755),
        _info("jdk1.8.0_192/jre/", tarfile.DIRTYPE, mode=0o755),
        _info("jdk1.8.0_192/jre/bin", tarfile.SYMTYPE, link="../bin"),
        _info("jdk1.8.0_192/release", data=b'JAVA_VERSION="1.8.0_192"\n'),
        _info("jdk1.8.0_192/lib/security/cacerts", data=b"certs", mode=0o600),
        _info("jdk1.8.0_192/lib/security/cacerts.bak", tarfile.LNKTYPE,
              link="jdk1.8.0_192/lib/security/cacerts", mode=0o600),
        _info("jdk1.8.0_192/readonly/", tarfile.DIRTYPE, mode=0o555),
        _info("jdk1.8.0_192/readonly/x", data=b"x", mode=0o444),
    ]


def snapshot(root: Path) -> list[tuple]:
    out = []
    for top, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(top) / name
            st = path.lstat()
            body = (os.readlink(path) if path.is_symlink()
                    else path.read_bytes() if stat.S_ISREG(st.st_mode) else None)
            out.append((str(path.relative_to(root)), stat.S_IFMT(st.st_mode),
                        stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_nlink, body))
    return sorted(out)


@pytest.mark.parametrize("mode", ["w:gz", "w:xz", "w:bz2", "w"])
def test_good_tar_keeps_modes_symlinks_and_mtimes(tmp_path: Path, mode: str) -> None:
    archive = make_tar(tmp_path / "jdk.tar", jdk_like(), mode)
    result = extract(archive, tmp_path / "out")
    root = tmp_path / "out" / "jdk1.8.0_192"
    assert (result.files, result.symlinks) == (5, 1)
    assert (root / "bin" / "java").read_bytes() == b"\x7fELF fake java"
    assert stat.S_IMODE((root / "bin" / "java").stat().st_mode) == 0o755  # setuid dropped
    assert stat.S_IMODE((root / "lib/security/cacerts").stat().st_mode) == 0o600
    assert os.readlink(root / "jre" / "bin") == "../bin"
    copy = root / "lib/security/cacerts.bak"
    assert copy.read_bytes() == b"certs" and not copy.is_symlink()
    assert copy.stat().st_nlink == 1, "hardlinks must become copies (el7 rule 11)"
    assert stat.S_IMODE((root / "readonly").stat().st_mode) == 0o555
    assert (root / "release").stat().st_mtime == MTIME
    assert (root / "lib").stat().st_mtime == MTIME  # implicit dir: newest member time
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_extraction_is_deterministic_whatever_the_umask(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "jdk.tar.gz", jdk_like())
    old = os.umask(0o077)
    try:
        extract(archive, tmp_path / "a")
    finally:
        os.umask(0o022)
    try:
        extract(archive, tmp_path / "b")
    finally:
        os.umask(old)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert len(snapshot(tmp_path / "a")) == 12


def test_strip_components(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "jdk.tar.gz", jdk_like())
    extract(archive, tmp_path / "jdk-8u192", strip_components=1)
    assert (tmp_path / "jdk-8u192" / "bin" / "java").is_file()
    assert os.readlink(tmp_path / "jdk-8u192" / "jre" / "bin") == "../bin"
    assert (tmp_path / "jdk-8u192" / "lib/security/cacerts.bak").read_bytes() == b"certs"


def test_good_zip_with_modes_and_symlink(tmp_path: Path) -> None:
    archive = tmp_path / "fateboard.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        d = zipfile.ZipInfo("fateboard/", (2020, 9, 27, 12, 0, 0))
        d.external_attr = (stat.S_IFDIR | 0o755) << 16
        zf.writestr(d, b"")
        f = zipfile.ZipInfo("fateboard/service.sh", (2020, 9, 27, 12, 0, 0))
        f.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(f, b"#!/bin/bash\n")
        jar = zipfile.ZipInfo("fateboard/fateboard-1.4.2.jar", (2020, 9, 27, 12, 0, 0))
        jar.create_system, jar.external_attr = 0, 0x20  # made on DOS: no unix mode -> 0644
        zf.writestr(jar, b"PK jar")
        link = zipfile.ZipInfo("fateboard/fateboard.jar", (2020, 9, 27, 12, 0, 0))
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, b"fateboard-1.4.2.jar")
    extract(archive, tmp_path / "out")
    root = tmp_path / "out" / "fateboard"
    assert stat.S_IMODE((root / "service.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "fateboard-1.4.2.jar").stat().st_mode) == 0o644
    assert os.readlink(root / "fateboard.jar") == "fateboard-1.4.2.jar"
    assert (root / "fateboard.jar").read_bytes() == b"PK jar"
    assert (root / "service.sh").stat().st_mtime == 1601208000  # 2020-09-27 12:00 as UTC


def _fifo() -> tarfile.TarInfo:
    return _info("x/pipe", tarfile.FIFOTYPE)[0]


MALICIOUS = {
    "absolute path": ([_info("/etc/cron.d/evil", data=b"* * * * * root sh")],
                      "'/etc/cron.d/evil': has an absolute path"),
    "dot-dot": ([_info("x/../../evil", data=b"x")], "'x/../../evil': contains '..'"),
    "symlink to absolute path": ([_info("x/etc", tarfile.SYMTYPE, link="/etc")],
                                 "'x/etc': is a symlink to '/etc' (absolute)"),
    "symlink out of the tree": ([_info("x/y/up", tarfile.SYMTYPE, link="../../../root")],
                                "'x/y/up': is a symlink to '../../../root', outside the tree"),
    "file written through a symlink": (
        [_info("x/conf", tarfile.SYMTYPE, link="."), _info("x/conf/a", data=b"x")],
        "'x/conf/a': is inside x/conf, which is a symlink"),
    "symlink chain escaping": (
        [_info("d/", tarfile.DIRTYPE, mode=0o755), _info("d/up", tarfile.SYMTYPE, link=".."),
         _info("esc", tarfile.SYMTYPE, link="d/up/..")],
        "'esc': is a symlink to 'd/up/..', which leads outside the tree through another"),
    "symlink loop": ([_info("x/a", tarfile.SYMTYPE, link="b"),
                      _info("x/b", tarfile.SYMTYPE, link="a")],
                     "'x/a': is a symlink to 'b', which leads outside the tree through another "
                     "symlink (or loops)"),
    "hardlink to a host file": ([_info("x/passwd", tarfile.LNKTYPE, link="/etc/passwd")],
                                "'x/passwd': is a hardlink to '/etc/passwd', outside the tree"),
    "hardlink out of the tree": ([_info("x/p", tarfile.LNKTYPE, link="../p")],
                                 "'x/p': is a hardlink to '../p', outside the tree"),
    "hardlink to nothing": ([_info("x/p", tarfile.LNKTYPE, link="x/q")],
                            "'x/p': is a hardlink to 'x/q', not a file in the archive"),
    "character device": ([_info("x/mem", tarfile.CHRTYPE)], "'x/mem': is a character device"),
    "block device": ([_info("x/sda", tarfile.BLKTYPE)], "'x/sda': is a block device"),
    "fifo": ([(_fifo(), None)], "'x/pipe': is a fifo"),
    "file then symlink with one name": (
        [_info("x/a", data=b"1"), _info("x/a", tarfile.SYMTYPE, link="b")],
        "'x/a': appears twice (as file and symlink)"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_tar_is_refused_and_nothing_is_left(tmp_path: Path, case: str) -> None:
    members, reason = MALICIOUS[case]
    work = tmp_path / "work"
    work.mkdir()
    archive = make_tar(tmp_path / "evil.tar.gz", [_info("x/ok", data=b"fine")] + members)
    with pytest.raises(UserError) as err:
        extract(archive, work / "out")
    assert str(err.value).startswith(f"{archive}: refusing member {reason}"), str(err.value)
    assert list(work.iterdir()) == [], "something was left behind"
    assert not Path("/root/p").exists() and not (tmp_path / "evil").exists()


@pytest.mark.parametrize(
    ("name", "external_mode", "data", "reason"),
    [
        ("../../evil", stat.S_IFREG | 0o644, b"x", "contains '..'"),
        ("/tmp/evil", stat.S_IFREG | 0o644, b"x", "has an absolute path"),
        ("x\\..\\..\\evil", stat.S_IFREG | 0o644, b"x", "contains a backslash"),
        ("x/link", stat.S_IFLNK | 0o777, b"/etc/shadow",
         "is a symlink to '/etc/shadow' \\(absolute\\)"),
        ("x/link", stat.S_IFLNK | 0o777, b"../../up", "is a symlink to '../../up', outside"),
        ("x/dev", stat.S_IFCHR | 0o600, b"", "is a device, fifo or socket"),
    ],
)
def test_malicious_zip_is_refused(tmp_path: Path, name: str, external_mode: int, data: bytes,
                                  reason: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x/ok", b"fine")
        info = zipfile.ZipInfo(name)
        info.external_attr = external_mode << 16
        zf.writestr(info, data)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(UserError, match=rf"evil.zip: refusing member '.*': {reason}"):
        extract(archive, work / "out")
    assert list(work.iterdir()) == []


def test_truncated_archive_leaves_nothing(tmp_path: Path) -> None:
    big = [_info(f"x/f{i}", data=os.urandom(50_000)) for i in range(5)]
    archive = make_tar(tmp_path / "t.tar.gz", big)
    archive.write_bytes(archive.read_bytes()[:120_000])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(UserError, match="t.tar.gz: not a readable tar or zip archive"):
        extract(archive, work / "out")
    assert list(work.iterdir()) == []


def test_destination_must_be_fresh(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "a.tar.gz", jdk_like())
    (tmp_path / "out").mkdir()
    with pytest.raises(UserError, match="out: already exists"):
        extract(archive, tmp_path / "out")
    not_archive = tmp_path / "notes.txt"
    not_archive.write_text("hello")
    with pytest.raises(UserError, match="notes.txt: not a readable tar or zip archive"):
        extract(not_archive, tmp_path / "out2")


def test_absolute_symlinks_inside_the_install_prefix(tmp_path: Path) -> None:
    prefix = "/data/projects/fate/common/jdk/jdk-8u192"
    archive = make_tar(tmp_path / "a.tar.gz", [
        _info("lib/", tarfile.DIRTYPE, mode=0o755),
        _info("lib/libjli.so", data=b"\x7fELF"),
        _info("bin/libjli.so", tarfile.SYMTYPE, link=f"{prefix}/lib/libjli.so"),
    ])
    extract(archive, tmp_path / "ok", prefix=prefix + "/")
    assert os.readlink(tmp_path / "ok" / "bin" / "libjli.so") == f"{prefix}/lib/libjli.so"
    with pytest.raises(UserError, match=r"'bin/libjli.so': is a symlink to '/data/projects/fate/"
                       r"common/jdk/jdk-8u192/lib/libjli.so' \(absolute\)"):
        extract(archive, tmp_path / "no-prefix")
    outside = make_tar(tmp_path / "b.tar.gz", [
        _info("x", tarfile.SYMTYPE, link=f"{prefix}/../../mysql/conf/my.cnf")])
    with pytest.raises(UserError, match=r"'x': is a symlink to .* \(outside the install prefix "
                       r"/data/projects/fate/common/jdk/jdk-8u192\)"):
        extract(outside, tmp_path / "out", prefix=prefix)
    # inside the prefix lexically, outside through a second link
    chain = make_tar(tmp_path / "c.tar.gz", [
        _info("sub/deeper/", tarfile.DIRTYPE, mode=0o755),
        _info("sub/deeper/up", tarfile.SYMTYPE, link="../.."),  # the tree's root: fine
        _info("x", tarfile.SYMTYPE, link=f"{prefix}/sub/deeper/up/../etc"),
    ])
    with pytest.raises(UserError, match="'x': is a symlink to .*, which leads outside the tree"):
        extract(chain, tmp_path / "out2", prefix=prefix)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "b.tar.gz", "c.tar.gz", "ok"]
