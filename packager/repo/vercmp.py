"""rpm's version ordering and dependency-range matching, as rpm 4.11.3 (CentOS 7) does them.

Choosing "the newest" package or deciding whether ``python3-libs(x86-64) = 3.6.8-18.el7``
is satisfied must give the answer rpm/yum on the target would give, or the bundle carries
the wrong build. So this is a transcription of rpm's rules, not an approximation:

* ``rpmvercmp`` (lib/rpmvercmp.c): split into alphabetic / numeric segments, numbers beat
  letters, leading zeros ignored, ``~`` sorts before everything (even the end of the
  string). ``^`` (rpm >= 4.15) is a plain separator in 4.11 and stays one here.
* EVR: epoch (missing = 0), then version, then release.
* Range overlap (lib/rpmds.c ``rpmdsCompare``): unversioned on either side always
  matches; a release missing on either side is not compared ("foo = 1.0" accepts
  foo-1.0-5); a missing epoch counts as 0.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from packager.rpm import tags as t


def _isalpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


def rpmvercmp(a: str, b: str) -> int:
    """-1, 0 or 1 as rpm compares two version (or release) strings. ASCII rules only."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not (_isalpha(a[i]) or _isdigit(a[i]) or a[i] == "~"):
            i += 1
        while j < lb and not (_isalpha(b[j]) or _isdigit(b[j]) or b[j] == "~"):
            j += 1
        # the tilde sorts before anything, including the end of the string
        a_tilde = i < la and a[i] == "~"
        b_tilde = j < lb and b[j] == "~"
        if a_tilde or b_tilde:
            if not a_tilde:
                return 1
            if not b_tilde:
                return -1
            i += 1
            j += 1
            continue
        if i >= la or j >= lb:
            break
        si, sj = i, j
        if _isdigit(a[i]):
            while i < la and _isdigit(a[i]):
                i += 1
            while j < lb and _isdigit(b[j]):
                j += 1
            isnum = True
        else:
            while i < la and _isalpha(a[i]):
                i += 1
            while j < lb and _isalpha(b[j]):
                j += 1
            isnum = False
        seg_a, seg_b = a[si:i], b[sj:j]
        if not seg_b:
            # different segment types: a number is newer than letters
            return 1 if isnum else -1
        if isnum:
            seg_a = seg_a.lstrip("0")
            seg_b = seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


class EVR(NamedTuple):
    """epoch:version-release; ``epoch`` None means "not given", ``release`` "" likewise."""

    epoch: int | None
    version: str
    release: str

    @classmethod
    def parse(cls, text: str) -> EVR:
        """``[epoch:]version[-release]`` as rpm's parseEVR splits it (last '-' wins)."""
        epoch: int | None = None
        rest = text
        head, sep, tail = text.partition(":")
        if sep and head.isdigit():
            epoch, rest = int(head), tail
        version, sep, release = rest.rpartition("-")
        if not sep:
            version, release = rest, ""
        return cls(epoch, version, release)

    def __str__(self) -> str:
        base = f"{self.version}-{self.release}" if self.release else self.version
        return f"{self.epoch}:{base}" if self.epoch else base  # yum omits epoch 0 too


def evr_compare(a: EVR, b: EVR) -> int:
    """Order two package EVRs: epoch (missing = 0), version, release."""
    rc = (a.epoch or 0) - (b.epoch or 0)
    if rc:
        return 1 if rc > 0 else -1
    rc = rpmvercmp(a.version, b.version)
    if rc:
        return rc
    return rpmvercmp(a.release, b.release)


#: ``sorted(evrs, key=evr_key)`` orders oldest first.
evr_key = functools.cmp_to_key(evr_compare)


def ranges_overlap(a_flags: int, a: EVR | None, b_flags: int, b: EVR | None) -> bool:
    """Do two dependency ranges (e.g. a Provides and a Requires of one name) overlap?

    rpm 4.11's rpmdsCompare: an unversioned side (no comparison bits or no EVR) matches
    anything; the release is compared only when both sides have one.
    """
    a_sense, b_sense = a_flags & t.SENSE_MASK, b_flags & t.SENSE_MASK
    if not a_sense or not b_sense or a is None or b is None:
        return True
    if not a.version or not b.version:
        return True
    sense = 0
    if a.epoch is not None and b.epoch is not None:
        sense = (a.epoch > b.epoch) - (a.epoch < b.epoch)
    elif a.epoch:
        sense = 1
    elif b.epoch:
        sense = -1
    if sense == 0:
        sense = rpmvercmp(a.version, b.version)
        if sense == 0 and a.release and b.release:
            sense = rpmvercmp(a.release, b.release)
    if sense < 0:
        return bool(a_sense & t.SENSE_GREATER or b_sense & t.SENSE_LESS)
    if sense > 0:
        return bool(a_sense & t.SENSE_LESS or b_sense & t.SENSE_GREATER)
    return bool(
        (a_sense & t.SENSE_EQUAL and b_sense & t.SENSE_EQUAL)
        or (a_sense & t.SENSE_LESS and b_sense & t.SENSE_LESS)
        or (a_sense & t.SENSE_GREATER and b_sense & t.SENSE_GREATER)
    )


def satisfies(provide_flags: int, provide: EVR | None, require_flags: int,
              require: EVR | None) -> bool:
    """Does a Provides (usually ``= EVR``) satisfy a Requires range of the same name?"""
    return ranges_overlap(provide_flags, provide, require_flags, require)
