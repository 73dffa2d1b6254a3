"""``fate-ctl certs`` with the real openssl: FATE 1.4.5 file names, modes and owners, CA
exchange by plain files, a real mutual-TLS handshake with the files, the party YAML's
secure flags, and expiry."""

import os
import socket
import ssl
import stat
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from packager.onhost.ctl import cli as ctl
from tests.support.configure import APP_UID, DATA, make_root, party_file

KEYS = "data/projects/data/fate/keys"


def party_text(role: str) -> str:
    text = (DATA / "guest-3hosts.yaml").read_text()
    if role == "host":
        text = text.replace("guest:", "host:").replace("partyid: 9999", "partyid: 10000")
        text = text.replace("10.0.1.", "10.0.9.").replace("10.0.2.1", "10.0.1.1")
        text = text.replace("10.0.9.", "10.0.2.")
    return text


@pytest.fixture
def parties(tmp_path, fc):
    """A guest (9999) and a host (10000) party, each configured on its rollsite host."""
    out = {}
    for role, ip in (("guest", "10.0.1.1"), ("host", "10.0.2.1")):
        root = make_root(tmp_path / role)
        party = party_file(tmp_path, party_text(role), f"{role}.yaml")
        result = fc(party, "--root", root, "--host", ip)
        assert result.rc == 0, result.err
        out[role] = (root, party)
    return out


def fate_ctl(capsys, root, *args):
    rc = ctl.main(["--root", str(root), *map(str, args)])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_init_makes_the_1_4_5_files_with_modes_and_owners(parties, capsys):
    root, _ = parties["guest"]
    rc, out, err = fate_ctl(capsys, root, "certs", "init")
    assert rc == 0, err
    keys = root / KEYS
    assert sorted(os.listdir(keys)) == ["guest-ca.pem", "guest-server.key", "guest-server.pem",
                                        "host-client-ca.pem", "host-client.key",
                                        "host-client.pem"]
    for name in os.listdir(keys):
        info = (keys / name).stat()
        assert info.st_uid == APP_UID, name
        assert stat.S_IMODE(info.st_mode) == (0o600 if name.endswith(".key") else 0o644), name
        if name.endswith(".key"):
            assert (keys / name).read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    ca_key = root / "etc/fate/ca/guest-9999-ca.key"
    assert stat.S_IMODE(ca_key.stat().st_mode) == 0o600 and ca_key.stat().st_uid == 0
    assert stat.S_IMODE((root / "etc/fate/ca").stat().st_mode) == 0o700
    for leaf in ("guest-server.pem", "host-client.pem"):
        proc = subprocess.run(["openssl", "verify", "-CAfile", str(keys / "guest-ca.pem"),
                               str(keys / leaf)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
        assert proc.returncode == 0 and ": OK" in proc.stdout, proc.stdout + proc.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                           str(keys / "guest-server.pem")], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout
    assert "IP Address:10.0.1.1" in text and "TLS Web Server Authentication" in text


def _handshake(server_files, client_files) -> str:
    """One mutual-TLS handshake on loopback: '' when it worked, else the error."""
    srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.load_cert_chain(server_files[0], server_files[1])
    srv.load_verify_locations(server_files[2])
    srv.verify_mode = ssl.CERT_REQUIRED
    cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cli.check_hostname = False
    cli.load_cert_chain(client_files[0], client_files[1])
    cli.load_verify_locations(client_files[2])
    listener = socket.socket()   # not socket.create_server: 3.8
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    errors = []

    def serve():
        conn, _ = listener.accept()
        try:
            with srv.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(listener.getsockname()) as raw:
            with cli.wrap_socket(raw) as tls:
                data = tls.recv(2)
        thread.join(10)
        return "" if data == b"ok" and not errors else "; ".join(errors) or "no data"
    except (ssl.SSLError, OSError) as exc:
        thread.join(10)
        return str(exc)
    finally:
        listener.close()


def test_two_parties_exchange_ca_files_and_then_talk_mutual_tls(parties, capsys, tmp_path):
    (g, _), (h, _) = parties["guest"], parties["host"]
    for root in (g, h):
        assert fate_ctl(capsys, root, "certs", "init")[0] == 0
    host_server = [str(h / KEYS / n) for n in ("host-server.pem", "host-server.key",
                                               "host-ca.pem")]
    guest_client = [str(g / KEYS / n) for n in ("host-client.pem", "host-client.key",
                                                "host-client-ca.pem")]
    assert _handshake(host_server, guest_client) != ""  # strangers: refused
    for src, dst, name in ((g, h, "guest-9999-ca.pem"), (h, g, "host-10000-ca.pem")):
        assert fate_ctl(capsys, src, "certs", "export-ca", "-o", tmp_path / name)[0] == 0
        assert "PRIVATE" not in (tmp_path / name).read_text()
        rc, _, err = fate_ctl(capsys, dst, "certs", "import-ca", tmp_path / name)
        assert rc == 0, err
    assert _handshake(host_server, guest_client) == ""
    # a private key offered as a "CA" is refused, nothing imported
    rc, _, err = fate_ctl(capsys, g, "certs", "import-ca", g / KEYS / "guest-server.key")
    assert rc == 1 and "private key" in err


def test_enable_turns_on_the_flags_and_fate_configure_renders_the_paths(parties, capsys, fc):
    root, party = parties["guest"]
    assert fate_ctl(capsys, root, "certs", "init")[0] == 0
    rc, out, _ = fate_ctl(capsys, root, "certs", "enable", party)
    assert rc == 0 and "guest.rollsite.server_secure: true" in out
    doc = yaml.safe_load(party.read_text())["guest"]["rollsite"]
    assert doc["server_secure"] is True and doc["client_secure"] is True
    assert doc["default_rules"] == [{"name": "default", "ip": "10.0.2.1", "port": 9371,
                                     "is_secure": True}]
    assert Path(str(party) + ".bak").exists()
    result = fc(party, "--root", root, "--host", "10.0.1.1")
    assert result.rc == 0, result.err
    props = (root / "data/projects/fate/eggroll/conf/eggroll.properties").read_text()
    assert f"eggroll.core.security.client.crt.path=/{KEYS}/host-client.pem" in props
    assert f"eggroll.core.security.server.key.path=/{KEYS}/guest-server.key" in props
    assert fate_ctl(capsys, root, "certs", "enable", party)[1].endswith("already enabled; "
                                                                       f"now run: fate-configure "
                                                                       f"{party}\n")


def test_expiry_within_30_days_is_a_warning(parties, capsys):
    root, _ = parties["guest"]
    assert fate_ctl(capsys, root, "certs", "init", "--days", "10")[0] == 0
    rc, out, _ = fate_ctl(capsys, root, "certs", "show")
    assert rc == 0
    warned = [line for line in out.splitlines() if line.startswith("WARN")]
    assert len(warned) >= 3 and all("expires in 9 days" in w for w in warned), out
    rc, out, _ = fate_ctl(capsys, root, "doctor")
    assert any(line.startswith("WARN certificate /data/projects/data/fate/keys/guest-server.pem")
               for line in out.splitlines()), out
