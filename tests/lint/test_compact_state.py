"""What the lint keeps across packages in compact form (issue #12) answers as the plain
form did: a package's files as a sorted buffer (``PathSet``) instead of a ``set``, the
shipped Python on disk (``PythonSpool``) instead of in memory."""

from __future__ import annotations

from pathlib import Path

from packager.lint.links import PathSet
from packager.lint.python import PythonSpool

PATHS = [
    "/", "/a", "/a/b", "/a/b/c", "/a/b0", "/a/b.txt", "/a/b-c", "/a/b/", "/ab",
    "/opt/caf\u00e9/donn\u00e9es.json", "/opt/raw-\udcff-name", "/opt/raw-\udcff-name/x",
    "/usr/bin/python3", "/usr/bin/python3.6", "/a/b",  # a duplicate
]
ASKED = [*PATHS, "", "/a/", "/a/b/c/d", "/a/b1", "/opt/raw-\udcfe-name", "/usr/bin/python",
         "/usr/bin/python3.", "/zzz", "/\u00e9", "a", "/opt/caf\u00e9"]


def test_pathset_answers_membership_as_a_set_does():
    compact, plain = PathSet(PATHS), set(PATHS)
    assert len(compact) == len(plain)
    for path in ASKED:
        assert (path in compact) == (path in plain), path
    assert 3 not in compact and None not in compact
    assert "/a" not in PathSet([]) and "" in PathSet([""])


def test_pathset_order_is_bytes_order_not_code_points():
    """A surrogate-escaped byte 0x80 (U+DC80) sorts after U+00E9 as a code point, before
    it as UTF-8 (0x80 vs 0xC3 0xA9): the lookup must search the order it sorted in."""
    assert sorted(["\udc80", "\u00e9"]) == ["\u00e9", "\udc80"]
    names = [f"/d/\udc80{i}" for i in range(50)] + [f"/d/\u00e9{i}" for i in range(50)]
    compact = PathSet(names)
    assert all(n in compact for n in names)
    assert "/d/\udc8050" not in compact and "/d/\u00e950" not in compact


def test_python_spool_keeps_files_on_disk_until_checked(tmp_path):
    spool = PythonSpool()
    assert spool.check() == []  # nothing added: vermin is not even looked for
    spool.add("pkg.rpm:/usr/lib/x/new.py", b'x = 1\nprint(f"{x=}")\n')
    spool.add("pkg.rpm:/usr/lib/x/old.py", b"import os\n")
    where = Path(spool._tmp.name)  # type: ignore[union-attr]
    assert sorted(p.read_bytes() for p in where.iterdir()) == [
        b"import os\n", b'x = 1\nprint(f"{x=}")\n']
    assert len(spool) == 2
    findings = spool.check()
    assert [f.artifact for f in findings] == ["pkg.rpm:/usr/lib/x/new.py"]
    assert "needs Python 3.8" in findings[0].message
    assert not where.exists() and len(spool) == 2
