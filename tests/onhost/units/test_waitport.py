"""fate-waitport against real sockets: the readiness gate of every unit."""

import resource
import socket
import subprocess
import threading
import time

import pytest

from packager.onhost import waitport
from tests.support.units import PYTHON, REPO, closed_port


def run_waitport(*args: str, preexec=None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "packager.onhost.waitport", *args], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, preexec_fn=preexec)


def test_answering_port_returns_at_once(listening):
    port = listening.getsockname()[1]
    started = time.monotonic()
    assert waitport.main(["--timeout", "5", f"127.0.0.1:{port}"]) == 0
    assert time.monotonic() - started < 2


def test_waits_until_the_port_opens():
    port = closed_port()
    srv = socket.socket()

    def open_later():
        time.sleep(0.8)
        srv.bind(("127.0.0.1", port))
        srv.listen(1)

    opener = threading.Thread(target=open_later)
    opener.start()
    try:
        started = time.monotonic()
        assert waitport.main(["--timeout", "10", "--interval", "0.1", f"127.0.0.1:{port}"]) == 0
        assert time.monotonic() - started >= 0.7
    finally:
        opener.join()
        srv.close()


def test_timeout_names_only_what_did_not_answer(listening, capsys):
    up = listening.getsockname()[1]
    down = closed_port()
    started = time.monotonic()
    rc = waitport.main(["--timeout", "1", "--interval", "0.2", "--name", "fate-flow",
                        f"127.0.0.1:{up}", f"127.0.0.1:{down}"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert rc == 1
    assert 0.9 <= elapsed < 4
    assert f"fate-flow: not answering after 1s: 127.0.0.1:{down}" in err
    assert f"127.0.0.1:{up}" not in err.split("not answering")[1]


def test_unresolvable_host_counts_as_not_answering(capsys):
    assert waitport.main(["--timeout", "1", "no-such-host.invalid:3306"]) == 1
    assert "no-such-host.invalid:3306" in capsys.readouterr().err


def test_ipv6_literal(capsys):
    if not socket.has_ipv6:
        pytest.fail("IPv6 sockets unavailable on this host")
    srv = socket.socket(socket.AF_INET6)
    try:
        srv.bind(("::1", 0))
    except OSError:
        srv.close()
        pytest.skip("no ::1 on this host")  # environment, not our code
    srv.listen(1)
    try:
        assert waitport.main(["--timeout", "3", f"[::1]:{srv.getsockname()[1]}"]) == 0
    finally:
        srv.close()


@pytest.mark.parametrize("bad", ["localhost", "h:0", "h:70000", ":80", "h:x"])
def test_bad_endpoint_is_usage_error(bad, capsys):
    assert waitport.main(["--timeout", "1", bad]) == 2
    assert "not a host:port" in capsys.readouterr().err


def test_nothing_to_wait_for_is_success():
    """systemd drops an unset $FATE_WAIT_FOR: no arguments must mean ready."""
    assert waitport.main(["--timeout", "1"]) == 0


def test_exec_mode_runs_the_command_after_the_wait_with_raised_limits(listening):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 2048)
    low = min(256, want // 2)

    def lower_soft_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))

    port = listening.getsockname()[1]
    proc = run_waitport("--timeout", "5", "--nofile", str(want), f"127.0.0.1:{port}", "--",
                        "/bin/sh", "-c", "echo ran; ulimit -n", preexec=lower_soft_limit)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ran", str(want)]


def test_exec_mode_does_not_run_the_command_when_a_dependency_is_down(tmp_path):
    marker = tmp_path / "ran"
    proc = run_waitport("--timeout", "1", f"127.0.0.1:{closed_port()}", "--",
                        "/bin/touch", str(marker))
    assert proc.returncode == 1
    assert not marker.exists()


def test_exec_mode_missing_program(listening):
    proc = run_waitport("--timeout", "2", "--", "/nonexistent/java")
    assert proc.returncode == 127
    assert "cannot run /nonexistent/java" in proc.stderr


def test_gives_up_as_soon_as_the_main_process_is_gone():
    """ExecStartPost passes --main-pid=${MAINPID}: a service that dies while its ports are
    awaited fails the start now, not after the whole timeout (165-285 s in the units)."""
    main = subprocess.Popen(["sleep", "0.5"])
    started = time.monotonic()
    try:
        run = run_waitport("--timeout", "30", "--interval", "0.1", "--name", "fate-flow",
                           f"--main-pid={main.pid}", f"http://127.0.0.1:{closed_port()}")
    finally:
        main.wait()
    assert run.returncode == 1
    assert time.monotonic() - started < 10
    assert f"fate-flow: main process {main.pid} exited" in run.stderr


def test_an_empty_main_pid_is_no_check(listening):
    """systemd expands an unset ${MAINPID} to nothing: --main-pid= must still work."""
    assert waitport.main(["--timeout", "5", "--main-pid=",
                          f"127.0.0.1:{listening.getsockname()[1]}"]) == 0
    assert waitport.main(["--main-pid=x", "127.0.0.1:1"]) == 2


def test_a_port_that_accepts_but_does_not_answer_is_not_ready(listening, capsys):
    port = listening.getsockname()[1]
    assert waitport.main(["--timeout", "1", "--interval", "0.2", "--name", "fate-board",
                          f"http://127.0.0.1:{port}"]) == 1
    assert f"fate-board: not answering after 1s: http://127.0.0.1:{port}" in \
        capsys.readouterr().err


def test_json_and_version(listening):
    import json

    port, down = listening.getsockname()[1], closed_port()
    result = run_waitport("--timeout", "0.5", "--interval", "0.1", "--json",
                          f"127.0.0.1:{port}", f"127.0.0.1:{down}")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["exit_code"] == 1
    assert report["endpoints"] == [{"endpoint": f"127.0.0.1:{port}", "answering": True},
                                   {"endpoint": f"127.0.0.1:{down}", "answering": False}]
    version = run_waitport("--version")
    assert version.returncode == 0 and version.stdout.startswith("fate-waitport ")
