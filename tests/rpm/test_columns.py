"""Headers decoded into compact columns (packager.rpm.columns) read exactly as the lists the
decoder made before (issue #12: the lint's memory per path).

``eager_decode`` is that decoder, as it was (commit c94a0d7's packager/rpm/header.py):
every array a ``list`` of ``int`` or ``str``. It is compared tag by tag with
``decode`` on our own RPMs (with non-UTF-8 and non-ASCII names, symlinks, a hardlink,
a ghost), on a header with every integer width, and on an RPM rpmbuild wrote.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from test_header_layout import MTIME, package  # tests/rpm is on sys.path (rootdir mode)

from packager.rpm import Compression, build_rpm, read_rpm
from packager.rpm import tags as t
from packager.rpm.columns import ARRAYS, IntColumn, StrColumn
from packager.rpm.header import MAGIC, Header, decode
from packager.rpm.reader import _ARRAY_TAGS
from packager.rpm.tags import HEADERIMMUTABLE, HEADERSIGNATURES, T

_INT_FMT = {T.CHAR: "B", T.INT8: "B", T.INT16: "H", T.INT32: "I", T.INT64: "Q"}


def eager_decode(buf: bytes, offset: int = 0) -> tuple[dict, dict]:
    """(values, types) the way the list decoder made them."""
    assert buf[offset:offset + 8] == MAGIC
    nindex, dlen = struct.unpack_from(">II", buf, offset + 8)
    index_start = offset + 16
    store_start = index_start + 16 * nindex
    values, types = {}, {}
    for i in range(nindex):
        tag, typ, off, count = struct.unpack_from(">IIiI", buf, index_start + 16 * i)
        typ = T(typ)
        if i == 0 and tag in (HEADERIMMUTABLE, HEADERSIGNATURES, 61):
            continue
        types[tag] = typ
        pos = store_start + off
        if typ in _INT_FMT:
            values[tag] = list(struct.unpack_from(">" + _INT_FMT[typ] * count, buf, pos))
        elif typ in (T.STRING, T.I18NSTRING, T.STRING_ARRAY):
            out = []
            for _ in range(count):
                end = buf.index(b"\0", pos)
                out.append(buf[pos:end].decode("utf-8", "surrogateescape"))
                pos = end + 1
            values[tag] = out[0] if typ == T.STRING else out
        else:
            values[tag] = bytes(buf[pos:pos + count])
    return values, types


def assert_same(buf: bytes, offset: int = 0) -> int:
    """Every tag of the header at ``offset`` decodes to the eager value; returns how many
    array values there were."""
    new = decode(buf, offset)
    values, types = eager_decode(buf, offset)
    assert new.types == types
    assert set(new.values) == set(values)
    arrays = 0
    for tag, old in values.items():
        got = new.values[tag]
        if isinstance(old, list):
            arrays += 1
            assert isinstance(got, ARRAYS), (tag, type(got))
            assert got == old and old == got, tag  # both ways round
            assert list(got) == old and len(got) == len(old), tag
            assert [got[i] for i in range(-len(old), len(old))] == old + old, tag
            assert got[1:3] == old[1:3], tag
            assert not (got != old), tag
            if old:
                assert got != [*old[:-1], "x" if isinstance(old[-1], str) else old[-1] + 1]
        else:
            assert type(got) is type(old) and got == old, tag
    return arrays


def rpm_file(tmp_path: Path) -> Path:
    pkg = package(tmp_path, columns=True)
    return build_rpm(pkg, tmp_path / "out", compression=Compression("gzip", 6),
                     sde=MTIME + 100).path


def test_our_rpm_decodes_as_the_lists_did(tmp_path):
    path = rpm_file(tmp_path)
    rpm = read_rpm(path)
    data = path.read_bytes()
    assert assert_same(data, rpm.header_offset) > 15  # the file tags, requires, provides
    assert assert_same(data, 96) >= 0  # the signature header

    values, _ = eager_decode(data, rpm.header_offset)
    dirs = values[t.DIRNAMES]
    names = [dirs[i] + b for i, b in zip(values[t.DIRINDEXES], values[t.BASENAMES])]
    assert any("\udcff" in n for n in names) and any("\u00e9" in n for n in names)
    assert rpm.filenames() == names
    assert list(rpm.iter_filenames()) == names
    assert rpm.file_count() == len(names)
    assert [rpm.filename(i) for i in range(len(names))] == names
    for tag in values:  # the unwrapping of one-element values is unchanged
        old = values[tag]
        unwrapped = old[0] if (isinstance(old, list) and len(old) == 1
                               and tag not in _ARRAY_TAGS
                               and rpm.header.types[tag] != T.STRING_ARRAY) else old
        assert rpm.tag(tag) == unwrapped, tag


def test_every_integer_width_and_string_kind(tmp_path):
    h = Header()
    h.add(1000, T.STRING, "name")
    h.add(1001, T.CHAR, [0, 255, 7])
    h.add(1002, T.INT8, [1, 128, 255])
    h.add(1003, T.INT16, [0, 0x1234, 0xFFFF])
    h.add(1004, T.INT32, [0, 0x12345678, 0xFFFFFFFF, 5])
    h.add(1005, T.INT64, [0, 1 << 40, (1 << 64) - 1])
    h.add(1006, T.STRING_ARRAY, ["", "a", "caf\u00e9", "raw-name", ""])
    h.add(1007, T.I18NSTRING, "summary")
    h.add(1008, T.BIN, b"\0\1\2")
    h.add(1009, T.INT32, [])
    h.add(1010, T.STRING_ARRAY, [])
    buf = bytes(h.encode(HEADERIMMUTABLE))
    assert assert_same(buf) == 9
    parsed = decode(buf)
    assert isinstance(parsed.values[1004], IntColumn)
    assert isinstance(parsed.values[1006], StrColumn)
    assert parsed.values[1005][2] == (1 << 64) - 1
    assert parsed.array(1000) == ["name"] and parsed.array(1006)[3] == "raw-name"


def test_a_damaged_header_still_fails_when_it_is_read(tmp_path):
    """The columns are laid out when the header is read: a string without its NUL or an
    array past the end fails then, as the list decoder did, not later in a rule."""
    h = Header()
    h.add(1000, T.STRING_ARRAY, ["abc", "def"])
    buf = bytearray(h.encode(HEADERIMMUTABLE))
    end = buf.rindex(b"def\0")
    buf[end + 3] = ord("x")  # the last string's NUL gone; the trailer follows it
    buf = buf[:end + 4]  # ... and cut before any later NUL
    struct.pack_into(">I", buf, 12, len(buf) - 16 - 16 * 2)
    with pytest.raises(ValueError):
        decode(bytes(buf))
    with pytest.raises(ValueError):
        eager_decode(bytes(buf))
    h = Header()
    h.add(1000, T.INT32, [1, 2, 3])
    buf = bytearray(h.encode(HEADERIMMUTABLE))
    struct.pack_into(">I", buf, 16 + 16 + 12, 1 << 20)  # the count of entry 1000
    with pytest.raises(struct.error):
        decode(bytes(buf))
    with pytest.raises(struct.error):
        eager_decode(bytes(buf))


@pytest.mark.skipif(shutil.which("rpmbuild") is None, reason="rpmbuild is not installed")
def test_an_rpm_rpmbuild_wrote_decodes_as_the_lists_did(tmp_path):
    """rpmbuild's headers carry what ours do not (file classes, colors, i18n tables,
    16-bit modes, changelog), so every type and layout of a real RPM is met."""
    top = tmp_path / "rb"
    spec = tmp_path / "demo.spec"
    spec.write_text(
        "Name: demo\nVersion: 1.0\nRelease: 1\nSummary: demo\nLicense: MIT\n"
        "BuildArch: noarch\n%description\ndemo\n"
        "%install\nmkdir -p %{buildroot}/opt/demo/sub\n"
        "for i in 1 2 3; do echo $i > %{buildroot}/opt/demo/sub/f$i.txt; done\n"
        "ln -s sub/f1.txt %{buildroot}/opt/demo/link\n"
        "printf '#!/bin/sh\\necho hi\\n' > %{buildroot}/opt/demo/run.sh\n"
        "chmod 755 %{buildroot}/opt/demo/run.sh\n"
        "%files\n/opt/demo\n"
        "%changelog\n* Thu Sep 24 2020 A <a@b.c> - 1.0-1\n- first\n")
    subprocess.run(["rpmbuild", "-bb", "--define", f"_topdir {top}",
                    "--define", "__os_install_post %{nil}", str(spec)],
                   check=True, capture_output=True)
    (path,) = top.glob("RPMS/*/*.rpm")
    rpm = read_rpm(path)
    data = path.read_bytes()
    assert assert_same(data, rpm.header_offset) > 15
    assert assert_same(data, 96) >= 0
    assert "/opt/demo/sub/f2.txt" in rpm.filenames()
