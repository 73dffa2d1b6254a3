"""Every example in every command's --help works as written.

The examples are read from the parsers' epilogs (what `--help` prints) and run with bash,
in order, in one scratch directory that starts with what an operator has in a checkout
(`specs/`, the seed's var files) and a HOME whose cache holds the vendored wheels; the
first `fate-pkg build --offline --sample` example makes `dist/` for the ones after it.
No network: as root the examples run in a new network namespace.

An example is not run only when it cannot be, and then this file says why and still
parses it with its own command's parser: it needs the network or the real 1.4.5 release
(gigabytes), or it changes the host it runs on. Examples for a FATE host (`fate-ctl`, the
on-host `fate-configure`) run against a host tree with `--root` added; there exit 1 (a
check that found something) is an answer, a usage error or a traceback is not.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from packager import cli
from packager.onhost import waitport
from packager.onhost.configure import cli as configure_cli
from packager.onhost.ctl import cli as ctl_cli
from tests.assemble.conftest import seeded_cache
from tests.support import py36
from tests.support.configure import DATA, make_root
from tests.support.gpgkeys import make_key

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
PARSERS = {"fate-pkg": cli.build_parser, "fate-configure": configure_cli.build_parser,
           "fate-ctl": ctl_cli.build_parser, "fate-waitport": waitport.build_parser}
EXAMPLE_KEY = "4D9D22058BA6137D"  # "your key" in the examples; the test's own key stands in
BUNDLE = "fate-bundle-1.4.5-el7.x86_64"

NETWORK = "downloads from the internet"
REAL_RELEASE = "needs FATE 1.4.5 itself in the cache (4 GiB from fate-pkg fetch)"
NOT_RUN = {
    "fate-pkg fetch": NETWORK,
    "fate-pkg fetch --os": NETWORK,
    "fate-pkg fetch --mirror http://mirror.lan/fate": NETWORK,
    "fate-pkg fetch --release sample-1.4.5 --cache /srv/fate-cache --jobs 8": NETWORK,
    "fate-pkg fetch --release my-fate-1.4.6.yaml --record": NETWORK,
    "fate-pkg fetch --json | jq '.artifacts[] | select(.status == \"failed\")'": NETWORK,
    "fate-pkg fetch --os-only --os-repo http://mirror.lan/centos/7/os/x86_64/ "
    "--os-repo http://mirror.lan/centos/7/updates/x86_64/": NETWORK,
    "fate-pkg fetch && fate-pkg build --offline": NETWORK,
    "fate-pkg build --offline": REAL_RELEASE,
    "fate-configure party.yaml": "applies to the host it runs on (tests/onhost/configure/"
                                 "test_apply.py applies to scratch roots, tests/e2e to "
                                 "containers)",
    "fate-waitport --timeout 60 mysql://10.0.0.2:3306 grpc://127.0.0.1:4670":
        "waits a minute for the example's network",
    "fate-waitport --main-pid 4242 http://127.0.0.1:9380": "needs the example's process 4242 "
        "(tests/onhost/units/test_waitport.py gives it a real one)",
    "fate-waitport 10.0.0.2:3306 -- /usr/bin/java -jar app.jar": "waits two minutes for the "
                                                                 "example's network",
}
DAY2 = ("needs a configured party host with its MySQL running; tests/onhost/configure/"
        "test_backup_restore.py, test_certs.py and tests/e2e run it on real ones")
NOT_RUN.update({example: DAY2 for example in (
    "fate-ctl backup", "fate-ctl backup --data -o /root/party.tar.gz",
    "fate-ctl restore --check /root/party.tar.gz", "fate-ctl restore /root/party.tar.gz",
    "fate-ctl certs init", "fate-ctl certs export-ca -o guest-9999-ca.pem",
    "fate-ctl certs import-ca host-10000-ca.pem", "fate-ctl certs enable /root/party.yaml",
    "fate-ctl certs show")})
HOST = "192.168.0.2"  # the seed's guest host, in the party the import example writes
ON_HOST = {
    "fate-configure --check --diff party.yaml": ["--root", "{tree}", "--host", HOST],
    "fate-ctl status": ["--root", "{tree}", "--manager", "none"],
    "fate-ctl status --json": ["--root", "{tree}", "--manager", "none"],
    "fate-ctl logs fate-flow -n 50": ["--root", "{tree}", "--manager", "none"],
    "fate-ctl logs rollsite --journal": ["--root", "{tree}", "--manager", "none"],
    "fate-ctl toy 9999 10000": ["--root", "{tree}", "--manager", "none"],
    "fate-ctl doctor": ["--root", "{tree}", "--manager", "none"],
    "fate-ctl doctor --json": ["--root", "{tree}", "--manager", "none"],
    "fate-waitport --timeout 5 --json http://127.0.0.1:9380": [],
}
_SPLIT = re.compile(r"\s{2,}|\s#\s")


def epilogs() -> list[tuple[str, str]]:
    """(program, epilog) of every parser of the four tools, in --help order."""
    out = []

    def walk(program: str, parser: argparse.ArgumentParser) -> None:
        if parser.epilog:
            out.append((program, parser.epilog))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(program, child)

    for program, build in PARSERS.items():
        walk(program, build())
    return out


def examples_in(program: str, epilog: str) -> list[str]:
    """The command lines under ``examples:``; descriptions (after two spaces) dropped."""
    lines = epilog.splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip() in ("examples:", "example:")]
    if not starts:
        return []
    commands: list[str] = []
    pending = ""
    for line in lines[starts[0] + 1:]:
        if not line.strip() or not line.startswith(" "):
            break
        text = pending + line.strip()
        pending = ""
        if text.endswith("\\"):
            pending = text[:-1].rstrip() + " "
            continue
        words = text.split()
        if not any(w == program or w in PARSERS for w in words[:2]):
            continue  # a description on a line of its own
        commands.append(_command_part(text))
    return commands


def _command_part(text: str) -> str:
    """The text before the first run of two spaces (or ``#``) outside quotes."""
    quote = None
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif _SPLIT.match(text, i):
            return text[:i]
    return text


EXAMPLES = [example for program, epilog in epilogs() for example in examples_in(program, epilog)]


def test_examples_were_found_and_the_lists_are_current():
    assert len(EXAMPLES) >= 40
    for name in list(NOT_RUN) + list(ON_HOST):
        assert name in EXAMPLES, f"not an example any more: {name}"


def _parse(example: str) -> None:
    """Each program call in the example goes through its own parser."""
    lexer = shlex.shlex(example, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "|", ">"):
            segments.append([])
        else:
            segments[-1].append(token)
    for argv in segments:
        while argv and re.match(r"^[A-Z_]+=", argv[0]):
            argv = argv[1:]
        if not argv or argv[0] not in PARSERS:
            continue
        args = argv[1:]
        if argv[0] == "fate-configure":
            args = configure_cli.normalize(args)
        if argv[0] == "fate-waitport" and "--" in args:
            args = args[:args.index("--")]
        PARSERS[argv[0]]().parse_args(args)


@pytest.mark.parametrize("example", sorted(NOT_RUN), ids=lambda e: e[:60])
def test_examples_that_cannot_run_here_still_parse(example):
    _parse(example)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    work = tmp_path_factory.mktemp("examples")
    home = work / "home"
    seeded_cache(home / ".cache" / "fate-pkg")
    (work / "specs").symlink_to(REPO / "specs")
    for name in ("fate_guest", "base_init", "fate_init"):
        shutil.copy(DATA / name, work / name)
    gnupg = home / ".gnupg"
    key = make_key(gnupg)
    tree = make_root(work / "host-tree")
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
               GNUPGHOME=str(gnupg), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
               # the sample Miniconda is a Python 3.6; the scratch HOME hides pyenv's
               FATE_SAMPLE_HOST_PYTHON=str(py36.python36()))
    env.pop("SOURCE_DATE_EPOCH", None)
    return {"work": work, "env": env, "key": key, "tree": tree}


def _run(command: str, scratch: dict) -> subprocess.CompletedProcess:
    argv = ["bash", "-o", "pipefail", "-c", command]
    if os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "--net", "--"] + argv  # no network at all, as in CI
    return subprocess.run(argv, cwd=scratch["work"], env=scratch["env"], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_every_runnable_example_works_as_written(scratch):
    failures = []
    for example in EXAMPLES:
        if example in NOT_RUN:
            continue
        if BUNDLE + "/" in example and not (scratch["work"] / BUNDLE).exists():
            subprocess.run(["tar", "xf", f"dist/{BUNDLE}.tar"], cwd=scratch["work"],
                           check=True)  # what the example says it verifies
        command = example.replace(EXAMPLE_KEY, scratch["key"])
        extra = ON_HOST.get(example)
        if extra is not None:
            command += " " + " ".join(shlex.quote(a.format(tree=scratch["tree"])) for a in extra)
        result = _run(command, scratch)
        allowed = (0, 1) if extra is not None else (0,)
        broken = "Traceback" in result.stderr or "usage:" in result.stderr
        if result.returncode not in allowed or broken:
            failures.append(f"{command}\n  exit {result.returncode}\n  "
                            + "\n  ".join((result.stderr or result.stdout).splitlines()[-6:]))
    assert not failures, "\n".join(failures)
