"""Run ``ansible-playbook`` on the written files and read what happened from its output:
the recap per host, the first failure per host (play, task, message), what changed, and
what the roles print as ``fate_report`` for the summary (pre-flight findings, the check's
diff, status, the toy), so that no task has to write a file on the controller.

The output is Ansible's default callback, the same text an operator sees running
``ansible-playbook site.yml`` by hand; the whole of it is kept in the run's log.
"""

import json
import os
import re
import subprocess
from typing import Callable, Dict, List, NamedTuple, Optional

from packager.onhost.configure.errors import ConfigError

_PLAY = re.compile(r"^PLAY \[(.*)\] \**$")
_TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$")
# "fatal: [h]: FAILED! => {...}", "fatal: [h]: UNREACHABLE! => ...", and a loop's
# "failed: [h] (item=x) => {...}"
_FAIL = re.compile(r"^(?:fatal|failed): \[([^\]]+)\](?: \(item=[^)]*\))?"
                   r"(?:: (FAILED|UNREACHABLE)!)? => (.*)$")
_CHANGED = re.compile(r"^changed: \[([^\]]+)\]")
# "ok: [h] => {" opens a result printed as JSON (a debug task), "}" alone closes it
_RESULT = re.compile(r"^ok: \[([^\]]+)\] => \{$")
_RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+"
                    r"failed=(\d+)")


class Failure(NamedTuple):
    host: str
    play: str
    task: str
    message: str
    unreachable: bool


class Recap(NamedTuple):
    ok: int
    changed: int
    unreachable: int
    failed: int


class RunResult(NamedTuple):
    returncode: int
    recap: Dict[str, Recap]
    failures: Dict[str, Failure]        # the first failure of each host
    changed: Dict[str, List[str]]       # host -> tasks that changed something
    log: str
    reports: Dict[str, Dict[str, object]]   # host -> its fate_report values


def _message(payload: str) -> str:
    """The reason in a failed result: msg, then the tail of stderr/stdout of a command."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload.strip()[:500]
    if not isinstance(data, dict):
        return str(data)[:500]
    parts = [str(data.get("msg") or "").strip()]
    for key in ("stderr", "stdout"):
        text = str(data.get(key) or "").strip()
        if text:
            parts.append(" / ".join(text.splitlines()[-4:]))
    if data.get("results"):
        parts.extend(_message(json.dumps(r)) for r in data["results"]
                     if isinstance(r, dict) and r.get("failed"))
    return ": ".join(p for p in parts if p and p != "non-zero return code") or "failed"


class OutputReader:
    """Follows the default callback's text line by line."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        self.play = ""
        self.task = ""
        self.recap: Dict[str, Recap] = {}
        self.failures: Dict[str, Failure] = {}
        self.changed: Dict[str, List[str]] = {}
        self.progress = progress
        self.reports: Dict[str, Dict[str, object]] = {}
        self._in_recap = False
        self._result: Optional[List[str]] = None   # lines of a JSON result being read
        self._result_host = ""

    def _result_line(self, line: str) -> None:
        assert self._result is not None
        self._result.append(line)
        if line != "}":
            return
        try:
            data = json.loads("\n".join(self._result))
        except ValueError:
            data = {}
        self._result = None
        found = data.get("fate_report") if isinstance(data, dict) else None
        if isinstance(found, dict):
            self.reports.setdefault(self._result_host, {}).update(found)

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        if self._result is not None:
            self._result_line(line)
            return
        match = _RESULT.match(line)
        if match:
            self._result, self._result_host = ["{"], match.group(1)
            return
        match = _PLAY.match(line)
        if match:
            self.play = match.group(1)
            self.progress(f"== {self.play}")
            return
        match = _TASK.match(line)
        if match:
            self.task = match.group(1)
            self.progress(f"   {self.task}")
            return
        if line.startswith("PLAY RECAP"):
            self._in_recap = True
            return
        match = _FAIL.match(line)
        if match:
            host, kind, payload = match.groups()
            failure = Failure(host, self.play, self.task, _message(payload),
                              kind == "UNREACHABLE")
            self.failures.setdefault(host, failure)
            self.progress(f"   {host}: {'UNREACHABLE' if failure.unreachable else 'FAILED'}: "
                          f"{failure.message[:300]}")
            return
        match = _CHANGED.match(line)
        if match:
            tasks = self.changed.setdefault(match.group(1), [])
            if self.task not in tasks:
                tasks.append(self.task)
            return
        if self._in_recap:
            match = _RECAP.match(line)
            if match:
                self.recap[match.group(1)] = Recap(*(int(x) for x in match.groups()[1:]))


def own_paths_removed(pythonpath: str) -> str:
    """PYTHONPATH without the entries that hold this package and its vendored libraries
    (the fate-deploy wrapper's): EPEL's ansible runs on Python 2.7 and must import its own
    jinja2 and yaml, not our Python 3 copies."""
    home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    home = os.path.dirname(home)  # the directory holding the ``packager`` package
    keep = [p for p in pythonpath.split(os.pathsep)
            if p and not os.path.abspath(p).startswith(home + os.sep)
            and os.path.abspath(p) != home]
    return os.pathsep.join(keep)


def run_playbook(workdir: str, ansible_playbook: str, check: bool, limit: Optional[str],
                 log_path: str, progress: Callable[[str], None]) -> RunResult:
    argv = [ansible_playbook, "site.yml"]
    if check:
        argv += ["--check", "--diff"]
    if limit:
        argv += ["--limit", limit]
    env = dict(os.environ)
    env["PYTHONPATH"] = own_paths_removed(env.get("PYTHONPATH", ""))
    env.update(ANSIBLE_CONFIG=os.path.join(workdir, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default",
               ANSIBLE_DISPLAY_SKIPPED_HOSTS="1", PYTHONUNBUFFERED="1")
    if not env["PYTHONPATH"]:
        del env["PYTHONPATH"]
    reader = OutputReader(progress)
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(argv) + "\n")
        try:
            # umask 077: what Ansible writes here (the fetched secrets.yaml) is 0600
            # bytes, not universal_newlines: that decodes with the locale's encoding, which
            # is ASCII for Python 3.6 in the C locale (3.7 would pick UTF-8); Ansible writes
            # UTF-8 whatever the locale, and one byte above 127 would end the run there
            proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT,
                                    preexec_fn=lambda: os.umask(0o077))
        except OSError as exc:
            raise ConfigError(f"cannot run {ansible_playbook}: {exc.strerror} "
                                    "(install ansible: yum install ansible, from EPEL or "
                                    "the bundle; or give --ansible-playbook PATH)") from None
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            log.write(line)
            reader.feed(line)
        proc.wait()
    return RunResult(proc.returncode, reader.recap, reader.failures, reader.changed, log_path,
                     reader.reports)
