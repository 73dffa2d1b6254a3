"""The column layout of payload entries (packager.rpm.filetable) writes the same header bytes
as the writer of one ``FileEntry`` per file did before it.

The tree has what makes header data differ: directories (own and foreign modes),
symlinks (relative, absolute, dangling), a hardlinked pair (two names, two entries), a
non-ASCII name, a name that is not UTF-8 (surrogateescape), an explicit file from another
source with another owner, a ghost, a config file, and a tree listed with ``file_mode``.
``GOLDEN`` is the sha256 of that header (its payload digest blanked: it depends on the
compressor's bytes) as written by commit 28594ec, before the column layout; the value was
computed by that commit's code, not by the code under test.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from packager.rpm import Compression, Package, build_rpm, read_rpm
from packager.rpm import tags as t
from packager.rpm.filetable import FileTable
from packager.rpm.header import decode
from packager.rpm.model import FileEntry
from packager.rpm.tree import entries_from_tree

GOLDEN = "10e771dda36cf17aafdac0adceb8e299b7c2b86db29bd77d7064ef4c4a0b4e12"
MTIME = 1_600_000_000


def make_tree(root: Path) -> Path:
    tree = root / "tree"
    (tree / "lib/pkg/sub").mkdir(parents=True)
    (tree / "bin").mkdir()
    (tree / "lib/pkg/__init__.py").write_text("VALUE = 1\n")
    (tree / "lib/pkg/sub/donn\u00e9es.json").write_text('{"caf\u00e9": 1}\n')
    (tree / "lib/pkg/b-c").mkdir()
    (tree / "lib/pkg/b-c/x.txt").write_text("dash dir sorts before /\n")
    (tree / "lib/pkg/b.txt").write_text("dot sorts before /\n")
    (tree / "lib/pkg/b0").write_text("zero sorts after /\n")
    (tree / "lib/pkg/b").mkdir()
    (tree / "lib/pkg/b/y").write_text("inside b\n")
    os.mkdir(os.fsencode(tree / "lib") + b"/raw-\xff-name")
    (tree / "bin/tool").write_text("#!/bin/sh\necho tool\n")
    (tree / "bin/tool").chmod(0o755)
    os.link(tree / "bin/tool", tree / "bin/tool-again")
    (tree / "bin/rel-link").symlink_to("tool")
    (tree / "bin/abs-link").symlink_to("/usr/bin/env")
    (tree / "bin/dangling").symlink_to("../nowhere")
    (tree / "lib/pkg/sub").chmod(0o750)
    for dirpath, dirs, files in os.walk(tree, topdown=False):
        for name in files + dirs:
            os.utime(os.path.join(dirpath, name), (MTIME, MTIME), follow_symlinks=False)
    extra = root / "extra.conf"
    extra.write_text("key = value\n")
    os.utime(extra, (MTIME, MTIME))
    return tree


def package(root: Path, columns: bool = False) -> Package:
    """``columns``: the entries as the build gives them (tables joined column by column),
    else as a plain list of ``FileEntry``."""
    tree = make_tree(root)
    files = entries_from_tree(tree, "/opt/fate-demo", owner="app", group="apps")
    if not columns:
        files = list(files)
    files += entries_from_tree(tree / "bin", "/opt/fate-demo-bin", file_mode=0o600)
    files += [
        FileEntry("/etc/fate-demo/extra.conf", "file", source=root / "extra.conf",
                  mode=0o640, owner="root", group="apps", flags=t.FILE_CONFIG | t.FILE_NOREPLACE),
        FileEntry("/etc/fate-demo", "dir", mode=0o755),
        FileEntry("/var/log/fate-demo.log", "file", flags=t.FILE_GHOST, mode=0o600),
    ]
    return Package(name="fate-demo", version="1.0", release="1", summary="demo",
                   description="layout", files=files)


def header_digest(rpm: Path) -> str:
    """sha256 of the main header with its PAYLOADDIGEST value blanked."""
    data = bytearray(rpm.read_bytes())
    parsed = read_rpm(rpm)
    start = parsed.header_offset
    h = decode(bytes(data), start)
    payload_digest = h.get(t.PAYLOADDIGEST)[0].encode()
    at = data.index(payload_digest, start)
    data[at:at + len(payload_digest)] = b"0" * len(payload_digest)
    return hashlib.sha256(bytes(data[start:start + h.length])).hexdigest()


@pytest.mark.parametrize("columns", [False, True], ids=["entry-list", "joined-tables"])
def test_the_column_layout_writes_the_header_of_before(tmp_path, columns):
    pkg = package(tmp_path, columns)
    assert isinstance(pkg.files, FileTable) == columns
    result = build_rpm(pkg, tmp_path / "out", compression=Compression("gzip", 6),
                       sde=MTIME + 100)
    assert header_digest(result.path) == GOLDEN
