"""What every check reports: one violation of one rule in one artifact.

The ``rule`` is the number of the rule in docs/el7-rules.md ("1" … "19") for the lint,
or the name of the integrity check for ``verify`` ("sums", "digest", "signature", ...), so
a reader can look the reason up, and a filter (``--json | jq``) can select by it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Short titles of the el7 rules, for the human table's legend.
RULE_TITLES = {
    "1": "payload compressor",
    "2": "rpmlib() requires",
    "3": "32-bit sizes, 4 GiB limits",
    "4": "header size",
    "5": "signature header digests",
    "6": "signature packets",
    "7": "file digest algorithm",
    "8": "boolean/weak deps, file triggers",
    "9": "OS, arch, release, SOURCERPM",
    "10": "system directories",
    "11": "hardlinks, directory symlinks",
    "13": "repository metadata",
    "14": "systemd 219 directives",
    "16": "unit placement, scriptlets",
    "17": "Python 3.6 (vermin)",
    "18": "ELF glibc 2.17 ABI",
    "19": "bash 4.2, shellcheck",
    "20": "links and interpreters resolve",
    "read": "artifact cannot be read",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One violation: which rule, in which artifact (``file.rpm:/path/inside``), and why."""

    rule: str
    artifact: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.artifact}: {self.message}"
