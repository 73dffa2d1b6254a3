"""fate-configure, the programs it runs and every command's entry, in the C locale: CentOS
7's python3 (3.6) with LANG unset, or over ssh from a Mac (LC_CTYPE=UTF-8, unknown to Linux),
reads pipes and writes stdout as ASCII, so an operator's non-ASCII text ended a run in a
traceback. Each test runs the real code in a new interpreter in the C locale. The build venv
(3.7+ switch to UTF-8 there by themselves) cannot see the bug: the 3.6 pass
(tests/onhost/test_on_python36.py) is the one that tells, and each test failed there before
the fix it names (the closed-pipe one apart: it guards the fix).
"""

import os
import pty
import subprocess
from pathlib import Path

import pytest

from packager.onhost.configure import paths
from tests.support.configure import DATA, party_file
from tests.support.units import (
    PYTHON,
    REPO,
    c_locale_env,
    into_closed_pipe,
    main_in_c_locale,
    python_in_c_locale,
    write_exe,
)

BASE = (DATA / "guest-3hosts.yaml").read_text()
CLI = "packager.onhost.configure.cli"
EGGROLL = paths.EGGROLL_CONF.lstrip("/")


def hand_edited(tmp_path: Path, scratch_root: Path, fc) -> Path:
    """A host configured from a party with a non-ASCII password, then one of its files
    commented by an operator in Chinese; the party file."""
    party = party_file(tmp_path, BASE.replace("Sample-Fate-Pw-1", "P\u00e4sswort-1"))
    assert fc(party, "--root", scratch_root, "--host", "10.0.1.2").rc == 0
    egg = scratch_root / EGGROLL
    egg.write_text("# \u6570\u636e\u5e93 \u2014 edited by ops\n" + egg.read_text(encoding="utf-8"),
                   encoding="utf-8")
    return party


def test_diff_of_a_hand_edited_file_with_a_non_ascii_password_in_the_party(tmp_path,
                                                                            scratch_root, fc):
    """stdout (command.main): the ``-`` line of an operator's Chinese comment raised
    UnicodeEncodeError; the party's non-ASCII password stays masked."""
    party = hand_edited(tmp_path, scratch_root, fc)
    proc = main_in_c_locale(CLI, [party, "--root", scratch_root, "--host", "10.0.1.2",
                                  "--check", "--diff"])
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "-# \u6570\u636e\u5e93 \u2014 edited by ops" in out.splitlines()
    assert "--- /" + EGGROLL in out.splitlines()
    assert "P\u00e4sswort" not in out


def test_a_diff_in_utf8_into_a_closed_pipe_still_ends_quietly(tmp_path, scratch_root, fc):
    """``| head`` in the C locale: the text layer command.main puts on stdout there keeps its
    BrokenPipe handling (141, nothing on stderr: no traceback, no "Exception ignored" from
    the interpreter's last flush) and the dry run changes nothing. (Its first line is
    flushed at once, so this one passed before the fix too: it guards the fix.)"""
    party = hand_edited(tmp_path, scratch_root, fc)
    before = (scratch_root / EGGROLL).read_bytes()
    proc = into_closed_pipe([PYTHON, "-s", "-m", CLI, str(party), "--root", str(scratch_root),
                             "--host", "10.0.1.2", "--check", "--diff"], env=c_locale_env())
    assert (proc.returncode, proc.stderr) == (141, ""), proc.stderr
    assert (scratch_root / EGGROLL).read_bytes() == before


def test_an_error_shows_the_character_the_operator_typed(tmp_path):
    """stderr (command.main): a full-width comma from a Chinese input method, the one
    character that makes the address wrong, was shown as \\uff0c."""
    party = party_file(tmp_path, BASE.replace("ips: [10.0.1.2, 10.0.1.3]",
                                              "ips: [10.0.1.2\uff0c10.0.1.3]"))
    proc = main_in_c_locale(CLI, ["check", party])
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert "'10.0.1.2\uff0c10.0.1.3' is not an IPv4 address" in err


def test_mysql_client_writes_a_non_ascii_password_and_reads_utf8_rows(tmp_path):
    """configure/mysql.py: the option file and the SQL were encoded as ASCII, mysql's
    output decoded as ASCII."""
    root = tmp_path / "root"
    seen = tmp_path / "seen"
    seen.mkdir()
    write_exe(root / paths.MYSQL_HOME.lstrip("/") / "bin/mysql", f"""#!/bin/sh
for a; do case "$a" in --defaults-extra-file=*) creds="${{a#*=}}";; esac; done
grep '^password=' "$creds" > {seen}/password
cat > {seen}/sql
printf '1\\tcaf\\303\\251\\n'
""")
    password, sql = "P\u00e4sswort-1", "SELECT '\u670d\u52a1';"
    proc = python_in_c_locale(
        "import sys; from packager.onhost.configure.mysql import Client; "
        "from packager.onhost.configure.paths import Root; "
        f"print(ascii(Client(Root(sys.argv[1]), {password!a}).run({sql!a})))", [root])
    assert proc.returncode == 0, proc.stderr.decode("utf-8")
    assert proc.stdout.decode("ascii").strip() == ascii([["1", "caf\u00e9"]])
    assert (seen / "password").read_bytes() == f"password={password}\n".encode()
    assert (seen / "sql").read_bytes() == sql.encode()


def test_swap_on_a_file_with_a_non_ascii_name_is_counted(tmp_path: Path):
    """configure/facts.py: /proc/swaps (the path of a swap file) was read as ASCII."""
    proc_dir = tmp_path / "proc"
    proc_dir.mkdir()
    (proc_dir / "swaps").write_bytes(
        b"Filename\t\t\t\tType\t\tSize\tUsed\tPriority\n"
        b"/dev/dm-1                               partition\t8388604\t0\t-2\n"
        + "/data/\u4ea4\u6362.swap                         file\t1048572\t0\t-3\n"
        .encode("utf-8"))
    proc = python_in_c_locale("import sys; from packager.onhost.configure.facts import "
                              "swap_kib; print(swap_kib(sys.argv[1]))", [proc_dir])
    assert proc.returncode == 0, proc.stderr.decode("utf-8")
    assert proc.stdout.decode("ascii").strip() == str(8388604 + 1048572)


@pytest.mark.parametrize("terminal", [True, False], ids=["tty", "pipe"])
def test_the_new_stdout_is_utf8_and_buffered_as_the_old_one(terminal):
    """command.escaping_stdio: line by line on a terminal (an operator watching), in blocks
    on a pipe, as Python 3.6 had it; stderr line by line (3.6 had it in blocks on a pipe)."""
    env = {k: v for k, v in c_locale_env().items() if k != "PYTHONUNBUFFERED"}
    code = ("import sys; from packager.onhost import command; command.escaping_stdio(); "
            "sys.stderr.write(repr([(s.encoding, s.line_buffering, s.isatty()) "
            "for s in (sys.stdout, sys.stderr)]))")
    parent, child = pty.openpty() if terminal else os.pipe()
    try:
        proc = subprocess.run([PYTHON, "-s", "-c", code], stdout=child, stderr=subprocess.PIPE,
                              cwd=str(REPO), env=env, timeout=60)
    finally:
        os.close(parent)
        os.close(child)
    assert proc.returncode == 0, proc.stderr.decode("utf-8")
    assert proc.stderr.decode("ascii") == repr([("utf-8", terminal, terminal),
                                                 ("utf-8", True, False)])
