"""Loading and validating release manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from packager.errors import UserError
from packager.release import load_release, manifest_path, parse_release

DATA = Path(__file__).parent / "data"

GOOD = """\
release: r-1
version: "1.0"
artifacts:
  - name: a.tar.gz
    url: https://example.invalid/a.tar.gz
    size: 10
    sha256: null
    component: java
"""


def test_fixture_loads_into_typed_artifacts() -> None:
    rel = load_release(DATA / "tiny-1.0.yaml")
    assert rel.release == "tiny-1.0"
    assert rel.version == "1.0"
    assert [a.name for a in rel.artifacts] == [
        "jdk-8u192-linux-x64.tar.gz", "mysql-8.0.13.tar.gz", "fateboard-1.4.2.jar",
        "eggroll-2.0.2.tar.gz",
    ]
    jdk, mysql, board, egg = rel.artifacts
    assert jdk.size == 1000 and jdk.pinned and jdk.component == "java"
    assert jdk.sha256 == "3b5d5c3712955042212316173ccf37be800000000000000000000000000000f0"
    assert mysql.size is None and mysql.sha256 is None and not mysql.pinned
    assert board.size is None and "sha256" not in board.spans
    assert egg.component == "eggroll" and egg.release == "tiny-1.0"
    assert jdk.url_for(None) == "https://example.invalid/jdk/jdk-8u192-linux-x64.tar.gz"
    assert jdk.url_for("http://m.lan/fate/") == "http://m.lan/fate/jdk-8u192-linux-x64.tar.gz"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    size: 10\n", "    size: -1\n",
         "t.yaml:6: artifacts[0].size: -1 must be a byte count"),
        ("    size: 10\n", "    size: ten\n", "t.yaml:6: artifacts[0].size: 'ten' must be"),
        ("    sha256: null\n", "    sha256: abc\n", "t.yaml:7: artifacts[0].sha256: must be 64"),
        ("    component: java\n", "    component: jre\n",
         "t.yaml:8: artifacts[0].component: 'jre' is not one of python, java"),
        ("    url: https://example.invalid/a.tar.gz\n", "    url: ftp://x/a.tar.gz\n",
         "t.yaml:5: artifacts[0].url: 'ftp://x/a.tar.gz' must start with http"),
        ("    url: https://example.invalid/a.tar.gz\n", "",
         "t.yaml:4: artifacts[0].url: is missing"),
        ("    component: java\n", "    component: java\n    colour: red\n",
         "t.yaml:9: artifacts[0].colour: unknown key"),
        ("  - name: a.tar.gz\n", "  - name: ../a.tar.gz\n",
         "t.yaml:4: artifacts[0].name: '../a.tar.gz' must be a plain file name"),
        ('version: "1.0"\n', "version: 1.0\n", "t.yaml:2: version: 1.0 must be a non-empty string"),
        ("release: r-1\n", "release: r 1\n", "t.yaml:1: release: letters, digits"),
        ("artifacts:\n", "artefacts:\n", "t.yaml:3: artefacts: unknown key"),
        ("    size: 10\n", "    size: [10]\n",
         "t.yaml:6: artifacts[0].size: must be a single value"),
        ("    size: 10\n", "    size: 10\n   bad: [\n", "t.yaml:7: not valid YAML"),
    ],
)
def test_bad_manifest_names_file_line_and_key(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(UserError) as err:
        parse_release(GOOD.replace(old, new), Path("t.yaml"))
    assert str(err.value).startswith(expected), str(err.value)


def test_duplicate_artifact_names_are_refused() -> None:
    text = GOOD + GOOD.split("artifacts:\n")[1]
    with pytest.raises(UserError, match=r"t.yaml:9: artifacts\[1\].name: 'a.tar.gz' is listed "
                       r"twice \(also on line 4\)"):
        parse_release(text, Path("t.yaml"))


@pytest.mark.parametrize("text", ["", "- a\n", "just text\n", "artifacts: []\nrelease: x\n"])
def test_manifest_without_the_required_shape(text: str) -> None:
    with pytest.raises(UserError, match=r"^t.yaml"):
        parse_release(text, Path("t.yaml"))


def test_release_id_resolves_under_specs_dir(tmp_path: Path) -> None:
    (tmp_path / "r-1.yaml").write_text(GOOD)
    assert manifest_path("r-1", tmp_path) == tmp_path / "r-1.yaml"
    assert load_release("r-1", tmp_path).artifacts[0].size == 10
    with pytest.raises(UserError, match=r"nope.yaml not found \(known: r-1\)"):
        manifest_path("nope", tmp_path)
    with pytest.raises(UserError, match="not a release id"):
        manifest_path("r 1", tmp_path)
