"""``fate-pkg fetch`` against a real HTTP mirror on loopback that misbehaves on purpose."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from packager.cli import main
from packager.fetch.cache import Cache
from packager.fetch.download import Policy
from packager.fetch.fetcher import fetch_release
from packager.release import load_release
from tests.fetch.conftest import SIZES, make_bytes, write_manifest
from tests.fetch.mirror import ForwardProxy, Mirror

FAST = Policy(retries=3, backoff=0.01, connect_timeout=5, read_timeout=10, chunk=16 * 1024)
JDK = "jdk-8u192-linux-x64.tar.gz"


def _fetch(tmp_path: Path, mirror: Mirror, **kw: object) -> tuple[dict, Cache]:
    manifest = tmp_path / "gen-1.0.yaml"
    if not manifest.exists():
        write_manifest(manifest, mirror)
    cache = Cache(tmp_path / "cache")
    outcomes = fetch_release(load_release(manifest), cache, policy=FAST, progress=False, **kw)
    return {o.name: o for o in outcomes}, cache


def test_fetch_downloads_everything_then_uses_the_cache(tmp_path: Path, mirror: Mirror) -> None:
    got, cache = _fetch(tmp_path, mirror, jobs=3)
    assert {o.status for o in got.values()} == {"downloaded"}
    for name, size in SIZES.items():
        blob = Path(got[name].path)
        assert blob.read_bytes() == make_bytes(name, size)
        assert blob.name == hashlib.sha256(blob.read_bytes()).hexdigest()
        assert blob.stat().st_mode & 0o777 == 0o444
        link = cache.root / "releases" / "gen-1.0" / name
        assert os.readlink(link) == f"../../sha256/{blob.name}"
    assert not list((cache.root / "partial").rglob("*.part")), "partial files left behind"
    requests_before = len(mirror.log)
    again, _ = _fetch(tmp_path, mirror, jobs=3)
    assert {o.status for o in again.values()} == {"cached"}
    assert len(mirror.log) == requests_before, "a cached artifact was downloaded again"


def test_downloads_run_in_parallel(tmp_path: Path, mirror: Mirror) -> None:
    for served in mirror.files.values():
        served.delay = 0.3
    _fetch(tmp_path, mirror, jobs=4)
    assert mirror.max_active >= 2


def test_dropped_connection_resumes_with_range(tmp_path: Path, mirror: Mirror) -> None:
    served = mirror.files[JDK]
    # a multiple of the read size, so every byte that arrived reaches the .part file
    served.drop_after, served.drops = 6 * FAST.chunk, 2
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "resumed"
    assert Path(got[JDK].path).read_bytes() == served.data
    seen = [(r.status, r.range, r.if_range) for r in mirror.requests_for(JDK)]
    assert seen == [
        (200, None, None),
        (206, "bytes=98304-", served.etag),
        (206, "bytes=196608-", served.etag),
    ]


def test_503_is_retried_with_backoff(tmp_path: Path, mirror: Mirror) -> None:
    mirror.files[JDK].fail_503 = 2
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "downloaded"
    assert [r.status for r in mirror.requests_for(JDK)] == [503, 503, 200]


def test_persistent_503_gives_up_and_names_the_artifact(tmp_path: Path, mirror: Mirror) -> None:
    mirror.files[JDK].fail_503 = 100
    got, cache = _fetch(tmp_path, mirror)
    assert got[JDK].status == "failed"
    assert "HTTP 503" in got[JDK].error and "gave up after 4 attempts" in got[JDK].error
    assert got["mysql-8.0.13.tar.gz"].status == "downloaded", "one failure stopped the others"
    assert cache.lookup(load_release(tmp_path / "gen-1.0.yaml").artifact(JDK)) is None


def test_404_is_not_retried(tmp_path: Path, mirror: Mirror) -> None:
    del mirror.files[JDK]
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "failed" and "HTTP 404" in got[JDK].error
    assert len(mirror.requests_for(JDK)) == 1


def test_corrupt_download_is_deleted_and_refetched_next_time(
    tmp_path: Path, mirror: Mirror
) -> None:
    mirror.files[JDK].corrupt = True
    got, cache = _fetch(tmp_path, mirror)
    assert got[JDK].status == "failed"
    assert got[JDK].error.startswith("sha256 mismatch: http://")
    assert "the download was deleted" in got[JDK].error
    assert not cache.partial_path(load_release(tmp_path / "gen-1.0.yaml").artifact(JDK)).exists()
    assert not (cache.root / "releases" / "gen-1.0" / JDK).exists()
    mirror.files[JDK].corrupt = False
    again, _ = _fetch(tmp_path, mirror)
    assert again[JDK].status == "downloaded"
    assert mirror.requests_for(JDK)[-1].range is None, "a deleted download must start over"


def test_interrupted_part_file_is_resumed(tmp_path: Path, mirror: Mirror) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    cache = Cache(tmp_path / "cache")
    part = cache.partial_path(load_release(manifest).artifact(JDK))
    part.parent.mkdir(parents=True)
    part.write_bytes(mirror.files[JDK].data[:300_000])
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "resumed"
    assert mirror.requests_for(JDK)[0].range == "bytes=300000-"
    assert Path(got[JDK].path).read_bytes() == mirror.files[JDK].data


def test_changed_file_on_server_restarts_instead_of_splicing(
    tmp_path: Path, mirror: Mirror
) -> None:
    """If-Range: a .part started from an older file must not be completed with new bytes."""
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    cache = Cache(tmp_path / "cache")
    part = cache.partial_path(load_release(manifest).artifact(JDK))
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 300_000)  # bytes of an older version of the file
    part.with_name(part.name + ".json").write_text(json.dumps({"validator": '"old-etag"'}))
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "downloaded"
    assert [(r.range, r.if_range, r.status) for r in mirror.requests_for(JDK)] == [
        ("bytes=300000-", '"old-etag"', 200)
    ]


def test_complete_part_file_is_not_downloaded_again(tmp_path: Path, mirror: Mirror) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    cache = Cache(tmp_path / "cache")
    part = cache.partial_path(load_release(manifest).artifact(JDK))
    part.parent.mkdir(parents=True)
    part.write_bytes(mirror.files[JDK].data)
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "resumed"
    assert [r.status for r in mirror.requests_for(JDK)] == [416]


def test_proxy_from_environment_is_used(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        got, _ = _fetch(tmp_path, mirror)
    assert {o.status for o in got.values()} == {"downloaded"}
    assert sorted(proxy.seen) == sorted(f"{mirror.url}/{name}" for name in SIZES)


# -- the command line ---------------------------------------------------------------------


def test_cli_json_and_exit_codes(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    args = ["fetch", "--release", str(manifest), "--cache", str(tmp_path / "c"), "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["release"] == "gen-1.0"
    assert [(a["name"], a["status"], a["size"]) for a in report["artifacts"]] == [
        (name, "downloaded", size) for name, size in SIZES.items()
    ]
    mirror.files[JDK].corrupt = True
    (tmp_path / "c" / "sha256" / report["artifacts"][0]["sha256"]).unlink()
    assert main(args) == 1
    captured = capsys.readouterr()
    statuses = {a["name"]: a["status"] for a in json.loads(captured.out)["artifacts"]}
    assert statuses[JDK] == "failed" and statuses["mysql-8.0.13.tar.gz"] == "cached"
    assert f"fate-pkg: {JDK}: sha256 mismatch" in captured.err
    assert "1 of 4 artifacts failed to fetch" in captured.err


def test_cli_table(tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    assert main(["fetch", "--release", str(manifest), "--cache", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["artifact", "size", "status", "time"]
    row = next(line for line in out if line.startswith(JDK))
    assert row.split()[1:4] == ["878.9", "KiB", "downloaded"]
    assert out[-1].startswith("4/4 artifacts of gen-1.0 in ")


def test_cli_record_pins_a_new_release(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror, pinned=False)
    cache = str(tmp_path / "c")
    assert main(["fetch", "--release", str(manifest), "--cache", cache]) == 0
    assert "4 artifact(s) have no sha256" in capsys.readouterr().err
    assert main(["fetch", "--release", str(manifest), "--cache", cache, "--record"]) == 0
    text = manifest.read_text()
    assert text.startswith("# generated for a test\n")
    for name, size in SIZES.items():
        art = load_release(manifest).artifact(name)
        assert art.size == size
        assert art.sha256 == hashlib.sha256(make_bytes(name, size)).hexdigest()
    pinned = write_manifest(tmp_path / "expected.yaml", mirror, pinned=True)
    assert text == pinned.read_text(), "record changed more than the size/sha256 values"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mirror", "ftp://x"], "--mirror 'ftp://x': must be an http:// or https:// URL"),
        (["--jobs", "0"], "--jobs 0: must be between 1 and 64"),
        (["--release", "no-such-release"], "release manifest "),
    ],
)
def test_cli_bad_arguments_exit_2(
    tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fetch", "--cache", str(tmp_path / "c"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fate-pkg: error: " + message) and err.count("\n") == 1
    assert not (tmp_path / "c").exists()


def test_cli_mirror_replaces_the_url(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    text = manifest.read_text().replace(mirror.url, "http://unreachable.invalid/upstream")
    manifest.write_text(text)
    args = ["fetch", "--release", str(manifest), "--cache", str(tmp_path / "c"),
            "--mirror", mirror.url + "/", "--json"]
    assert main(args) == 0
    urls = [a["url"] for a in json.loads(capsys.readouterr().out)["artifacts"]]
    assert urls == [f"{mirror.url}/{name}" for name in SIZES]


def test_server_without_range_support_restarts_cleanly(tmp_path: Path, mirror: Mirror) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    cache = Cache(tmp_path / "cache")
    part = cache.partial_path(load_release(manifest).artifact(JDK))
    part.parent.mkdir(parents=True)
    part.write_bytes(mirror.files[JDK].data[:300_000])
    mirror.files[JDK].ranges = False
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "downloaded"
    assert [(r.range, r.status) for r in mirror.requests_for(JDK)] == [("bytes=300000-", 200)]
    assert Path(got[JDK].path).read_bytes() == mirror.files[JDK].data


def test_ctrl_c_keeps_the_part_file_and_the_next_run_resumes(
    tmp_path: Path, mirror: Mirror
) -> None:
    """A real interrupted ``fate-pkg fetch`` process, then a real second run."""
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror, names=[JDK])
    cache = Cache(tmp_path / "cache")
    part = cache.partial_path(load_release(manifest).artifact(JDK))
    mirror.files[JDK].throttle = 16 * 1024  # about 1.1 s for the whole file
    cmd = [sys.executable, "-m", "packager.cli", "fetch", "--release", str(manifest),
           "--cache", str(cache.root), "--json"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if part.exists() and part.stat().st_size >= 100_000:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "interrupted" in err and "Traceback" not in err
    kept = part.stat().st_size
    assert 100_000 <= kept < SIZES[JDK]
    mirror.files[JDK].throttle = 0
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["artifacts"][0]["status"] == "resumed"
    assert mirror.requests_for(JDK)[-1].range == f"bytes={kept}-"
    assert cache.blob_path(hashlib.sha256(mirror.files[JDK].data).hexdigest()).exists()


def test_size_from_the_server_contradicting_the_manifest(tmp_path: Path, mirror: Mirror) -> None:
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    manifest.write_text(manifest.read_text().replace(f"size: {SIZES[JDK]}", "size: 12345"))
    got, cache = _fetch(tmp_path, mirror)
    assert got[JDK].status == "failed"
    assert got[JDK].error == f"{mirror.url}/{JDK} is {SIZES[JDK]} bytes, the manifest says 12345"
    assert len(mirror.requests_for(JDK)) == 1, "a wrong manifest is not worth retrying"


def test_download_hashes_what_it_writes_including_bytes_already_on_disk(
        tmp_path: Path, mirror: Mirror) -> None:
    """The cache takes the download's own sha256 instead of reading the file again; it must
    cover the bytes of an earlier run (read once) and of every resumed attempt."""
    import requests

    from packager.fetch.download import download

    served = mirror.files[JDK]
    served.drop_after, served.drops = 3 * FAST.chunk, 2
    part = tmp_path / "jdk.part"
    part.write_bytes(served.data[:100_000])  # left by a killed run
    result = download(requests.Session(), f"{mirror.url}/{JDK}", part, policy=FAST)
    assert result.resumed and result.attempts == 3
    assert result.sha256 == hashlib.sha256(served.data).hexdigest()
    assert part.read_bytes() == served.data


def test_commit_trusts_the_downloads_digest_and_checks_it_against_the_pin(
        tmp_path: Path, mirror: Mirror) -> None:
    from packager.fetch.cache import ChecksumMismatch

    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror)
    art = load_release(manifest).artifact(JDK)
    cache = Cache(tmp_path / "cache")
    part = cache.partial_path(art)
    part.parent.mkdir(parents=True)
    part.write_bytes(mirror.files[JDK].data)
    with pytest.raises(ChecksumMismatch):
        cache.commit(part, art, "0" * 64)  # the bytes are right, the digest given is not
    assert not part.exists()
    part.write_bytes(mirror.files[JDK].data)
    blob, sha, _ = cache.commit(part, art, hashlib.sha256(mirror.files[JDK].data).hexdigest())
    assert blob.read_bytes() == mirror.files[JDK].data and sha == art.sha256


def test_a_tar_gz_labelled_gzip_encoded_is_saved_as_sent(tmp_path: Path, mirror: Mirror) -> None:
    """A classic mirror misconfiguration (``AddEncoding x-gzip .gz``): the .tar.gz comes
    with ``Content-Encoding: gzip``. Its bytes are the artifact; unpacking them on the way
    (what requests' iter_content did) fails the pinned size and sha256."""
    import gzip

    served = mirror.files[JDK]
    served.data = gzip.compress(make_bytes(JDK, 50_000), mtime=0)
    served.headers = {"Content-Encoding": "gzip"}
    manifest = write_manifest(tmp_path / "gen-1.0.yaml", mirror, names=[JDK])
    original = make_bytes(JDK, SIZES[JDK])
    manifest.write_text(manifest.read_text()
                        .replace(f"size: {SIZES[JDK]}", f"size: {len(served.data)}")
                        .replace(hashlib.sha256(original).hexdigest(),
                                 hashlib.sha256(served.data).hexdigest()))
    got, _ = _fetch(tmp_path, mirror)
    assert got[JDK].status == "downloaded", got[JDK].error
    assert Path(got[JDK].path).read_bytes() == served.data


def test_a_slow_link_still_makes_progress_in_small_reads(tmp_path: Path, mirror: Mirror) -> None:
    """One socket read per step (``read1``), not one full 1 MiB buffer: on a link that
    trickles, the progress callback (which is also where Ctrl-C stops a worker) runs as
    bytes arrive."""
    import requests

    from packager.fetch.download import download

    served = mirror.files[JDK]
    served.throttle = 64 * 1024  # 64 KiB every 20 ms
    seen: list[int] = []
    part = tmp_path / "jdk.part"
    result = download(requests.Session(), f"{mirror.url}/{JDK}", part,
                      policy=Policy(chunk=1 << 20), on_bytes=seen.append)
    assert part.read_bytes() == served.data
    assert result.sha256 == hashlib.sha256(served.data).hexdigest()
    assert len(seen) >= len(served.data) // (128 * 1024), seen
