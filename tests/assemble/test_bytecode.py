"""Byte code of the staged Python env: final paths, fresh on the host, the same bytes twice.

Compiled by a real CPython 3.6.15 (the sample Miniconda's interpreter); read back by it.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from packager.assemble import bytecode
from packager.assemble.bytecode import compile_trees
from support import py36

SDE = 1601164800
FINAL = "data/projects/fate/common/python/venv/lib/python3.6/site-packages"

# Both of 3.6's sources of non-determinism: set constants (hash seed) and strings and
# tuples used more than once, marshalled as references or not by their reference count
# (bpo-34093), which depends on what the same process compiled before.
MODULE = '''\
"""{name}: a module with set constants and repeated names."""
NAMES = ("alpha", "beta", "gamma", "{name}")
def kind(x):
    if x in {{"alpha", "beta", "gamma", "delta", "epsilon", "{name}"}}:
        return "alpha" + "{name}"
    return frozenset(NAMES) | {{1.5, "beta", ("x", "{name}")}}
class {cls}:
    alpha = beta = "gamma"
    def method(self, alpha="beta"):
        return [alpha, "gamma", {{"delta": "{name}"}}]
'''


def _tree(stage: Path, count: int) -> Path:
    site = stage / FINAL
    for i in range(count):
        pkg = site / f"pkg{i % 3}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / f"mod_{i}.py").write_text(MODULE.format(name=f"name_{i}", cls=f"C{i}"))
    future = (SDE + 10**6) * 10**9  # relocation rewrote it "now", after the release's date
    os.utime(site / "pkg0/mod_0.py", ns=(future, future))
    return stage / "data"


def _pycs(stage: Path) -> dict[str, bytes]:
    return {str(p.relative_to(stage)): p.read_bytes() for p in sorted(stage.rglob("*.pyc"))}


def test_pyc_name_the_final_path_and_record_the_clamped_mtime(tmp_path):
    python = py36.python36()
    stage = tmp_path / "stage-root"
    tree = _tree(stage, 2)
    done = compile_trees(python, [tree], stage, SDE, io.StringIO())
    assert (done.modules, done.failed, done.leftovers) == (4, [], [])
    src = stage / FINAL / "pkg0/mod_0.py"
    assert src.stat().st_mtime_ns == SDE * 10**9, "clamped as the RPM writer will"
    # read back by 3.6 as its importer does: magic, mtime, size, then the code object
    check = ("import importlib.util, marshal, sys; src = sys.argv[1]; "
             "data = open(importlib.util.cache_from_source(src), 'rb').read(); "
             "assert data[:4] == importlib.util.MAGIC_NUMBER; "
             "print(int.from_bytes(data[4:8], 'little'), int.from_bytes(data[8:12], "
             "'little'), marshal.loads(data[12:]).co_filename)")
    out = subprocess.run([str(python), "-c", check, str(src)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [str(SDE), str(src.stat().st_size), f"/{FINAL}/pkg0/mod_0.py"]
    assert all(str(stage).encode() not in b for b in _pycs(stage).values())
    pyc = src.parent / "__pycache__/mod_0.cpython-36.pyc"
    assert pyc.stat().st_mode & 0o777 == 0o644 and pyc.parent.stat().st_mode & 0o777 == 0o755


def test_same_sources_give_the_same_pyc_bytes(tmp_path, monkeypatch):
    """Different staging paths, one or two processes at a time, an inherited hash seed:
    the same bytes. (Without PYTHONHASHSEED=0 for the compilers, this fails.)"""
    python = py36.python36()
    monkeypatch.setattr(bytecode, "CHUNK", 4)  # several chunks, in both runs the same
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    first, second = tmp_path / "a", tmp_path / "staging-of-another-length"
    compile_trees(python, [_tree(first, 12)], first, SDE, io.StringIO(), jobs=1)
    compile_trees(python, [_tree(second, 12)], second, SDE, io.StringIO(), jobs=2)
    one, two = _pycs(first), _pycs(second)
    assert len(one) == 15 and one == two


def test_python_2_sources_are_logged_and_skipped(tmp_path):
    """As pip does: a module that is not Python 3.6 (test data) gets no .pyc, the rest do."""
    stage = tmp_path / "stage"
    tree = _tree(stage, 1)
    bad = stage / FINAL / "pkg0/py2_only.py"
    bad.write_text("print 'hello'\n")
    log = io.StringIO()
    done = compile_trees(py36.python36(), [tree], stage, SDE, log)
    assert done.failed == [str(bad)]
    assert "py2_only.py" in log.getvalue() and "1 not valid Python 3.6" in log.getvalue()
    assert not (bad.parent / "__pycache__/py2_only.cpython-36.pyc").exists()
    assert (bad.parent / "__pycache__/mod_0.cpython-36.pyc").exists()


def test_condas_package_cache_is_not_compiled(tmp_path):
    """Miniconda's pkgs/ holds copies of what it installed, never on sys.path."""
    top = "pkgs"
    stage = tmp_path / "stage"
    conda = stage / "data/conda"
    (conda / top / "python-3.6.5/lib").mkdir(parents=True)
    (conda / top / "python-3.6.5/lib/os.py").write_text("x = 1\n")
    (conda / "lib").mkdir()
    (conda / "lib/os.py").write_text("x = 1\n")
    assert bytecode.sources([conda]) == [str(conda / "lib/os.py")]


def test_sources_are_in_the_order_sorted_paths_were(tmp_path):
    """The chunks of CHUNK sources (and so the byte code) follow this order: strings sorted
    as ``Path`` objects sort, by components ("b/y.py" before "b-c/x.py", which a plain
    string sort puts first)."""
    tree = tmp_path / "venv"
    names = ["b/y.py", "b-c/x.py", "b.py", "b0/z.py", "b/c/w.py", "a.py", "b/__init__.py",
             "caf\u00e9/m.py", "B/q.py"]
    for name in names:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("x = 1\n")
    (tree / "b/link.py").symlink_to("y.py")
    expected = [str(p) for p in sorted(tree / n for n in names)]
    assert expected != sorted(expected)  # the case where the two orders differ is here
    assert bytecode.sources([tree]) == expected
