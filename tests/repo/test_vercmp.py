"""rpm version ordering and range matching, checked against Debian's rpm 4.18 bindings.

The oracle is the real librpm (``python3-rpm`` under /usr/bin/python3), asked in one
subprocess about a few hundred generated cases. The generator avoids the two places where
rpm 4.18 differs from CentOS 7's 4.11 (``^`` in versions, and a release-less Provides
against a strict ``<``/``>`` Requires with a release); those are pinned by hand below.
"""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from packager.repo.vercmp import EVR, evr_compare, ranges_overlap, rpmvercmp
from packager.rpm import tags as t

ORACLE = "/usr/bin/python3"

_ORACLE_SCRIPT = r"""
import json, sys, rpm
cases = json.load(sys.stdin)
out = {"label": [], "ranges": []}
for a, b in cases["label"]:
    out["label"].append(rpm.labelCompare(tuple(a), tuple(b)))
for (pn, pf, pe), (rn, rf, re_) in cases["ranges"]:
    p = rpm.ds((pn, pf, pe), rpm.RPMTAG_PROVIDENAME)
    r = rpm.ds((rn, rf, re_), rpm.RPMTAG_REQUIRENAME)
    out["ranges"].append(bool(r.Compare(p)))
json.dump(out, sys.stdout)
"""

OPS = {"<": t.SENSE_LESS, "<=": t.SENSE_LESS | t.SENSE_EQUAL, "=": t.SENSE_EQUAL,
       ">=": t.SENSE_GREATER | t.SENSE_EQUAL, ">": t.SENSE_GREATER}


def _oracle(cases: dict) -> dict:
    try:
        done = subprocess.run([ORACLE, "-c", _ORACLE_SCRIPT], input=json.dumps(cases),
                              capture_output=True, text=True, timeout=60, check=True)
    except FileNotFoundError:
        pytest.fail(f"{ORACLE} missing: install python3-rpm (scripts/apt-packages.txt)")
    return json.loads(done.stdout)


def _segment(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        return str(rng.choice([0, 1, 2, 9, 10, 11, 99, 100, 2017, 20200512]))
    if kind < 0.55:
        return "0" * rng.randint(1, 2) + str(rng.randint(0, 12))  # leading zeros
    if kind < 0.85:
        return rng.choice(["a", "b", "rc", "beta", "el", "el7", "centos", "z", "A", "git"])
    return rng.choice(["~rc1", "~", "~beta2"])


def _version(rng: random.Random) -> str:
    parts = [_segment(rng) for _ in range(rng.randint(1, 4))]
    text = ""
    for part in parts:
        sep = rng.choice([".", ".", ".", "_", "+", ""]) if text and not part.startswith("~") else ""
        text += sep + part
    return text.lstrip(".")or "0"


def _near(rng: random.Random, base: str) -> str:
    """Often an equal or almost-equal version: where ordering bugs hide."""
    roll = rng.random()
    if roll < 0.25:
        return base
    if roll < 0.45:
        return base + rng.choice([".0", "~rc1", "a", ".1", "0", "_1", "~"])
    if roll < 0.55:
        return base.replace(".", "_", 1)
    return _version(rng)


@pytest.fixture(scope="module")
def generated() -> tuple[dict, dict]:
    rng = random.Random(20260601)
    label = []
    for _ in range(400):
        v1 = _version(rng)
        e1 = rng.choice([None, "0", "1", "2"])
        e2 = e1 if rng.random() < 0.7 else rng.choice([None, "0", "1", "10"])
        r1 = rng.choice(["1", "1.el7", "18.el7", "3.el7_9.2", "0.1.rc1"])
        label.append(((e1, v1, r1), (e2, _near(rng, v1), _near(rng, r1))))
    ranges = []
    while len(ranges) < 400:
        pv = _version(rng)
        pr = rng.choice(["", "1", "18.el7", "3.el7_9"])
        pe = rng.choice(["", "", "", "1:", "0:"])
        rv = _near(rng, pv)
        rr = rng.choice(["", "", pr, "2"])
        re_ = pe if rng.random() < 0.8 else rng.choice(["", "2:", "0:"])
        op = rng.choice(list(OPS))
        if not pr and rr and op in ("<", ">"):
            continue  # rpm 4.11 vs 4.16+ differ here: see test_release_less_provide_411
        provide = ("foo", t.SENSE_EQUAL, pe + pv + (f"-{pr}" if pr else ""))
        require = ("foo", OPS[op], re_ + rv + (f"-{rr}" if rr else ""))
        ranges.append((provide, require))
    cases = {"label": label, "ranges": ranges}
    return cases, _oracle(cases)


def test_label_compare_matches_librpm(generated: tuple[dict, dict]) -> None:
    cases, oracle = generated
    wrong = []
    for (a, b), expected in zip(cases["label"], oracle["label"]):
        ea = EVR(int(a[0]) if a[0] is not None else None, a[1], a[2])
        eb = EVR(int(b[0]) if b[0] is not None else None, b[1], b[2])
        if evr_compare(ea, eb) != expected:
            wrong.append((a, b, expected))
    assert not wrong, wrong[:10]
    assert len(set(oracle["label"])) == 3  # the generator reaches <, = and >


def test_ranges_match_librpm(generated: tuple[dict, dict]) -> None:
    cases, oracle = generated
    wrong = []
    for ((_, pf, pe), (_, rf, re_)), expected in zip(cases["ranges"], oracle["ranges"]):
        if ranges_overlap(pf, EVR.parse(pe), rf, EVR.parse(re_)) != expected:
            wrong.append((pe, rf, re_, expected))
    assert not wrong, wrong[:10]
    assert 0.2 < sum(oracle["ranges"]) / len(oracle["ranges"]) < 0.9


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1.0", "1.0", 0), ("1.0", "1.0.1", -1), ("1.0~rc1", "1.0", -1), ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~", "1.0", -1), ("1.0a", "1.0", 1), ("1.0", "1.0a", -1), ("1.01", "1.1", 0),
    ("2.0", "10", -1), ("1.0.a", "1.0.1", -1), ("abc", "abd", -1), ("1_0", "1.0", 0),
    ("3.6.8", "3.6.10", -1), ("18.el7", "18.el7_9", -1), ("1.el7", "1.el7.centos", -1),
    ("0.9", "0.10", -1), ("1..0", "1.0", 0), ("", "", 0),
])
def test_rpmvercmp_known_values(a: str, b: str, expected: int) -> None:
    assert rpmvercmp(a, b) == expected
    assert rpmvercmp(b, a) == -expected


def test_evr_parse() -> None:
    assert EVR.parse("1:3.6.8-18.el7") == EVR(1, "3.6.8", "18.el7")
    assert EVR.parse("3.6.8") == EVR(None, "3.6.8", "")
    assert EVR.parse("2.0-1-2") == EVR(None, "2.0-1", "2")
    assert str(EVR.parse("1:3.6.8-18.el7")) == "1:3.6.8-18.el7"
    assert str(EVR.parse("0:3.6.8-18.el7")) == "3.6.8-18.el7"


def test_release_omitted_matches_any_release() -> None:
    provide = EVR.parse("3.6.8-18.el7")
    assert ranges_overlap(t.SENSE_EQUAL, provide, t.SENSE_EQUAL, EVR.parse("3.6.8"))
    assert not ranges_overlap(t.SENSE_EQUAL, provide, t.SENSE_EQUAL, EVR.parse("3.6.8-17.el7"))
    assert ranges_overlap(t.SENSE_EQUAL, provide, OPS[">="], EVR.parse("3.6.8"))
    assert not ranges_overlap(t.SENSE_EQUAL, provide, OPS[">"], EVR.parse("3.6.8"))
    assert ranges_overlap(t.SENSE_EQUAL, provide, OPS["<"], EVR.parse("3.6.9"))
    # a missing epoch is 0 on the requiring side: 1:0.5 is newer than 1.0
    assert ranges_overlap(t.SENSE_EQUAL, EVR.parse("1:0.5-1"), OPS[">="], EVR.parse("1.0"))
    assert not ranges_overlap(t.SENSE_EQUAL, EVR.parse("0.5-1"), OPS[">="], EVR.parse("1:0.1"))
    # unversioned on either side always matches
    assert ranges_overlap(0, None, OPS[">"], EVR.parse("99"))
    assert ranges_overlap(t.SENSE_EQUAL, provide, 0, None)


def test_release_less_provide_411() -> None:
    """rpm 4.11 (EL7) compares "= 1.0" with "> 1.0-5" as equal versions: no overlap.

    rpm >= 4.16 says they overlap ("the side with no release has EQUAL"); the target's
    rpm is 4.11, so that is what we follow.
    """
    assert not ranges_overlap(t.SENSE_EQUAL, EVR.parse("1.0"), OPS[">"], EVR.parse("1.0-5"))
    assert ranges_overlap(t.SENSE_EQUAL, EVR.parse("1.0"), OPS[">="], EVR.parse("1.0-5"))
