"""``fetch --record`` edits the manifest's lines and nothing else."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from packager.errors import UserError
from packager.fetch.record import Pin, apply_pins, record
from packager.release import load_release, parse_release

DATA = Path(__file__).parent / "data"
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4


def _changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_record_replaces_values_and_keeps_comments(tmp_path: Path) -> None:
    manifest = tmp_path / "tiny-1.0.yaml"
    shutil.copy(DATA / "tiny-1.0.yaml", manifest)
    manifest.chmod(0o640)
    old = manifest.read_text()
    rel = load_release(manifest)
    assert record(rel, [Pin("mysql-8.0.13.tar.gz", 4242, SHA_A)])
    new = manifest.read_text()
    removed, added = _changed_lines(old, new)
    assert removed == ["    size: null", "    sha256: null   # filled by --record"]
    assert added == ["    size: 4242", f"    sha256: {SHA_A}   # filled by --record"]
    assert manifest.stat().st_mode & 0o777 == 0o640
    again = load_release(manifest).artifact("mysql-8.0.13.tar.gz")
    assert (again.size, again.sha256) == (4242, SHA_A)
    assert not list(tmp_path.glob(".tiny*")), "temporary file left behind"


def test_missing_keys_are_added_under_the_artifact_with_its_indent() -> None:
    text = (DATA / "tiny-1.0.yaml").read_text()
    rel = parse_release(text, Path("tiny.yaml"))
    new = apply_pins(text, rel, [Pin("fateboard-1.4.2.jar", 7, SHA_B)])
    removed, added = _changed_lines(text, new)
    assert removed == []
    assert added == ["    size: 7", f"    sha256: {SHA_B}"]
    lines = new.splitlines()
    at = lines.index("    component: fateboard")
    assert lines[at + 1 : at + 3] == ["    size: 7", f"    sha256: {SHA_B}"]
    got = parse_release(new, Path("tiny.yaml")).artifact("fateboard-1.4.2.jar")
    assert (got.size, got.sha256) == (7, SHA_B)


def test_flow_mapping_values_are_replaced_in_place() -> None:
    text = (DATA / "tiny-1.0.yaml").read_text()
    rel = parse_release(text, Path("tiny.yaml"))
    new = apply_pins(text, rel, [Pin("eggroll-2.0.2.tar.gz", 99, SHA_B)])
    removed, added = _changed_lines(text, new)
    assert len(removed) == 1 and len(added) == 1
    assert added[0] == removed[0].replace("size: ~", "size: 99").replace(
        "sha256: ~", f"sha256: {SHA_B}")


def test_empty_values_get_a_space() -> None:
    text = "release: r\nversion: '1'\nartifacts:\n- name: a\n  url: http://x/a\n  size:\n  " \
           "sha256:\n  component: java\n"
    rel = parse_release(text, Path("t.yaml"))
    new = apply_pins(text, rel, [Pin("a", 5, SHA_A)])
    assert f"  size: 5\n  sha256: {SHA_A}\n  component: java\n" in new


def test_flow_mapping_without_the_keys_is_refused() -> None:
    text = "release: r\nversion: '1'\nartifacts:\n- {name: a, url: 'http://x/a', component: java}\n"
    rel = parse_release(text, Path("t.yaml"))
    with pytest.raises(UserError, match="t.yaml:4: artifact a is written as a flow mapping"):
        apply_pins(text, rel, [Pin("a", 5, SHA_A)])


def test_nothing_to_record_leaves_the_file_alone(tmp_path: Path) -> None:
    manifest = tmp_path / "tiny-1.0.yaml"
    shutil.copy(DATA / "tiny-1.0.yaml", manifest)
    before = manifest.stat().st_mtime_ns
    rel = load_release(manifest)
    jdk = rel.artifacts[0]
    assert not record(rel, [Pin(jdk.name, jdk.size, jdk.sha256)])
    assert manifest.stat().st_mtime_ns == before
