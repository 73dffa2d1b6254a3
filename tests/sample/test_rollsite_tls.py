"""rollsite TLS (eggroll 2.0.2 keys, port 9371 in production) with real certificates."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from . import eggroll_setup as eg
from .helpers import free_port, set_properties

S = "eggroll.core.security."


def _openssl(*args: str, cwd: Path) -> None:
    run = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", "-days", "2",
             "-subj", f"/CN={name} test CA", cwd=folder)


def _leaf(folder: Path, ca: str, name: str) -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}-ca.pem", "-CAkey",
             f"{ca}-ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", cwd=folder)


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    _ca(folder, "fate")
    _ca(folder, "rogue")
    _leaf(folder, "fate", "guest-server")
    _leaf(folder, "fate", "host-client")
    _leaf(folder, "rogue", "rogue-client")
    return folder


def _site(fate_home: Path, root: Path, party: str, **props: str | None) -> tuple[Path, int]:
    home = eg.make_home(fate_home, root / party)
    port = free_port()
    eg.configure(home, db_port=1, password="x", cm_port=free_port(), nm_port=free_port(),
                 rs_port=port, party=party)
    set_properties(home / "conf" / "eggroll.properties", props)
    return home, port


def _route_default(home: Path, port: int, secure: bool) -> None:
    path = home / "conf" / "route_table.json"
    table = json.loads(path.read_text())
    table["route_table"]["default"]["default"] = [{"ip": "127.0.0.1", "port": port,
                                                   "is_secure": secure}]
    path.write_text(json.dumps(table))


def _post(port: int, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture()
def guest(fate_home, tmp_path, keys, procs):
    """Party 9999's rollsite with a TLS listener that requires client certificates."""
    secure = free_port()
    home, port = _site(fate_home, tmp_path, "9999", **{
        "eggroll.rollsite.secure.port": str(secure),
        S + "server.crt.path": str(keys / "guest-server.pem"),
        S + "server.key.path": str(keys / "guest-server.key"),
        S + "ca.crt.path": str(keys / "fate-ca.pem")})
    log = home / "rs.out"
    proc = procs.start(eg.rollsite_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home),
                       log=log)
    procs.until_healthy(proc, port, log)
    return {"port": port, "secure": secure, "home": home}


def _host(fate_home, tmp_path, keys, procs, guest, client: str | None, secure: bool = True):
    props = {}
    if client:
        props = {S + "client.crt.path": str(keys / f"{client}.pem"),
                 S + "client.key.path": str(keys / f"{client}.key"),
                 S + "client.ca.crt.path": str(keys / "fate-ca.pem")}
    home, port = _site(fate_home, tmp_path, "10000", **props)
    _route_default(home, guest["secure"], secure)
    log = home / "rs.out"
    proc = procs.start(eg.rollsite_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home),
                       log=log)
    procs.until_healthy(proc, port, log)
    return port


def _push(port: int, key: str) -> tuple[int, dict]:
    return _post(port, "/v1/route/push", {"src_party": "10000", "dst_party": "9999",
                                          "kind": "data", "key": key, "payload": "secret"})


def test_packet_crosses_mutual_tls(fate_home, tmp_path, keys, procs, guest):
    host = _host(fate_home, tmp_path, keys, procs, guest, "host-client")
    status, answer = _push(host, "tls-ok")
    assert status == 200, answer
    assert _post(guest["port"], "/v1/route/pull", {"key": "tls-ok", "timeout": 2})[1][
        "payload"] == "secret"


def test_secure_route_without_client_keys(fate_home, tmp_path, keys, procs, guest):
    host = _host(fate_home, tmp_path, keys, procs, guest, None)
    status, answer = _push(host, "no-keys")
    assert status == 502 and "client.crt.path / client.key.path are not set" in answer["retmsg"]


def test_client_from_another_ca_is_rejected(fate_home, tmp_path, keys, procs, guest):
    host = _host(fate_home, tmp_path, keys, procs, guest, "rogue-client")
    status, answer = _push(host, "rogue")
    assert status == 502 and "unreachable" in answer["retmsg"], answer
    assert _post(guest["port"], "/v1/route/pull", {"key": "rogue", "timeout": 0.5})[0] == 408


def test_plain_route_to_tls_port_fails(fate_home, tmp_path, keys, procs, guest):
    host = _host(fate_home, tmp_path, keys, procs, guest, "host-client", secure=False)
    status, _ = _push(host, "plain")
    assert status == 502


def test_missing_server_key_file_fails_at_start(fate_home, tmp_path, keys, procs):
    home, _ = _site(fate_home, tmp_path, "9999", **{
        "eggroll.rollsite.secure.port": str(free_port()),
        S + "server.crt.path": str(keys / "guest-server.pem"),
        S + "server.key.path": str(keys / "absent.key")})
    run = procs.run_to_exit(eg.rollsite_cmd(fate_home, home), cwd=home,
                            env=eg.env(fate_home, home))
    assert run.returncode == 1 and "cannot load the rollsite server certificate" in run.stdout
