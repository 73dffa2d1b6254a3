"""``fate-ctl certs``: a party's own rollsite TLS, made with the host's ``openssl``.

The seed (ansible-nfate 1.4.5 §4.4.2) tells operators to ask WeBank for certificate files;
here each party is its own CA. Files, with FATE 1.4.5's names, in rollsite's keys
directory (``rollsite.keys_dir``, default ``/data/projects/data/fate/keys``), for a guest
whose peer is the host party:

- ``guest-ca.pem``: the CAs whose clients the TLS port accepts, own and imported peers
  (``eggroll.core.security.ca.crt.path``);
- ``guest-server.pem`` / ``guest-server.key``: the TLS port's certificate, signed by the
  party CA (``...server.crt.path`` / ``...server.key.path``);
- ``host-client-ca.pem``: the CAs whose servers rollsite trusts as a client, own and peers
  (``...client.ca.crt.path``);
- ``host-client.pem`` / ``host-client.key``: the certificate rollsite shows its peer,
  signed by the party CA (``...client.crt.path`` / ``...client.key.path``).

Only CA *certificates* travel between parties (``export-ca`` / ``import-ca``: plain files,
by whatever channel the parties trust); private keys never leave their host. The party
CA's key stays in ``/etc/fate/ca/`` (0700 root); key files rollsite reads are 0600 and
belong to the service account. Keys are EC P-256 in PKCS#8 (what eggroll's Netty reads;
the seed's 241-byte key files are the same kind). Commands work with CentOS 7's OpenSSL
1.0.2 (extensions come from a config file, no ``-addext``).
"""

import datetime
import os
import re
import secrets as _random
import shutil
import subprocess
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import yaml

from packager.onhost.configure import paths
from packager.onhost.configure.files import resolve_owners
from packager.onhost.configure.model import Party
from packager.onhost.configure.pipeline import load_party
from packager.onhost.configure.semantic import tls_files
from packager.onhost.ctl.backup import CA_DIR
from packager.onhost.ctl.host import Host

DEFAULT_DAYS = 3650
WARN_DAYS = 30
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)


class CertError(Exception):
    """openssl failed, or the party / files are not what the command needs."""

    exit_code = 1


def openssl(*args: str, stdin: Optional[str] = None) -> str:
    try:
        proc = subprocess.run(  # noqa: UP022 (capture_output is 3.7)
            ("openssl",) + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            encoding="utf-8", errors="replace", timeout=120)
    except OSError as exc:
        raise CertError(f"cannot run openssl: {exc.strerror} (CentOS 7: yum install openssl)"
                        ) from None
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise CertError("openssl {} failed: {}".format(args[0], lines[-1] if lines else
                                                      f"exit {proc.returncode}"))
    return proc.stdout


def layout(party: Party) -> Dict[str, str]:
    """Target paths of the six rollsite files (semantic.tls_files is the one naming rule)."""
    ca, server_crt, server_key = tls_files(party, "server")
    client_ca, client_crt, client_key = tls_files(party, "client")
    return {"ca": ca, "server_crt": server_crt, "server_key": server_key,
            "client_ca": client_ca, "client_crt": client_crt, "client_key": client_key}


def _ca_paths(party: Party) -> Tuple[str, str, str]:
    stem = f"{CA_DIR}/{party.role}-{party.partyid if party.partyid is not None else 'exchange'}"
    return stem + "-ca.pem", stem + "-ca.key", CA_DIR + "/peers"


_EXT = """[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _new_key(path: str) -> None:
    """EC P-256, PKCS#8 PEM (``ecparam`` + ``pkcs8``: the same on OpenSSL 1.0.2 and 3)."""
    raw = openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout")
    pkcs8 = openssl("pkcs8", "-topk8", "-nocrypt", stdin=raw)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(pkcs8)


def _serial() -> str:
    return "0x" + _random.token_hex(16)


class Maker:
    """Makes the files in a scratch directory; ``place`` installs them in one go."""

    def __init__(self, party: Party, days: int, san: Sequence[str]) -> None:
        self.party = party
        self.days = str(days)
        self.work = tempfile.mkdtemp(prefix="fate-certs-")
        self.ext = os.path.join(self.work, "ext.cnf")
        with open(self.ext, "w", encoding="utf-8") as handle:
            handle.write(_EXT.format(san=", ".join(san)))
        self.subject = f"/O=FATE/OU={party.label}"

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    def ca(self, cert: str, key: str) -> None:
        _new_key(key)
        openssl("req", "-new", "-x509", "-sha256", "-key", key, "-days", self.days,
                "-subj", f"{self.subject}/CN=FATE {self.party.label} CA", "-config", self.ext,
                "-extensions", "ca", "-set_serial", _serial(), "-out", cert)

    def leaf(self, kind: str, ca_cert: str, ca_key: str, cert: str, key: str) -> None:
        _new_key(key)
        csr = os.path.join(self.work, kind + ".csr")
        openssl("req", "-new", "-sha256", "-key", key, "-subj",
                f"{self.subject}/CN=rollsite {kind} {self.party.label}", "-config", self.ext,
                "-out", csr)
        openssl("x509", "-req", "-sha256", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                "-set_serial", _serial(), "-days", self.days, "-extfile", self.ext,
                "-extensions", kind, "-out", cert)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _write(path: str, text: str, mode: int, ids: Tuple[int, int]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".fate-ctl.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        os.fchown(handle.fileno(), ids[0], ids[1])
        os.fchmod(handle.fileno(), mode)
    os.replace(tmp, path)


def _party(host: Host) -> Party:
    applied = host.path(paths.APPLIED_PARTY)
    if not os.path.isfile(applied):
        raise CertError(f"no {paths.APPLIED_PARTY}: run fate-configure first (the certificates "
                        "are made for the party applied on this host)")
    return load_party(applied)[1]


def trust_bundle(host: Host, party: Party) -> str:
    """Own CA first, then every imported peer CA (sorted by file name)."""
    ca_cert, _, peers = _ca_paths(party)
    parts = [_read(host.path(ca_cert))]
    if os.path.isdir(host.path(peers)):
        for name in sorted(os.listdir(host.path(peers))):
            if name.endswith(".pem"):
                parts.append(_read(os.path.join(host.path(peers), name)))
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def place_trust(host: Host, party: Party, ids: Tuple[int, int]) -> List[str]:
    files = layout(party)
    bundle = trust_bundle(host, party)
    for key in ("ca", "client_ca"):
        _write(host.path(files[key]), bundle, 0o644, ids)
    return [files["ca"], files["client_ca"]]


def init(host: Host, account: Tuple[str, str], days: int, import_ca: Optional[Tuple[str, str]],
         say: Callable[[str], None] = print) -> List[str]:
    """The party CA (made, or imported from ``import_ca`` = (cert, key)), then rollsite's
    server and client certificates and the two trust files. Returns the files written."""
    party = _party(host)
    if party.section("rollsite") is None:
        raise CertError(f"{party.label} deploys no rollsite: nothing uses TLS here")
    ids = resolve_owners(paths.Root(host.root), [_Owner(*account)])[account]
    ca_cert, ca_key, _ = _ca_paths(party)
    os.makedirs(host.path(CA_DIR), mode=0o700, exist_ok=True)
    os.chmod(host.path(CA_DIR), 0o700)
    ips = party.ips("rollsite")
    san = [f"IP:{ip}" for ip in ips] + ["DNS:localhost"]
    maker = Maker(party, days, san)
    written: List[str] = []
    try:
        if import_ca is not None:
            cert_text, key_text = _read(import_ca[0]), _read(import_ca[1])
            check = openssl("x509", "-noout", "-text", stdin=cert_text)
            if "CA:TRUE" not in check:
                raise CertError(f"{import_ca[0]} is not a CA certificate (no CA:TRUE)")
            _write(host.path(ca_cert), cert_text, 0o644, (0, 0))
            _write(host.path(ca_key), key_text, 0o600, (0, 0))
            say(f"certs: imported the party CA from {import_ca[0]}")
        elif not os.path.isfile(host.path(ca_cert)):
            maker.ca(host.path(ca_cert), host.path(ca_key))
            say(f"certs: made the party CA {ca_cert} (key {ca_key}, 0600 root)")
        else:
            say(f"certs: using the party CA {ca_cert}")
        files = layout(party)
        for kind in ("server", "client"):
            crt = os.path.join(maker.work, kind + ".pem")
            key = os.path.join(maker.work, kind + ".key")
            maker.leaf(kind, host.path(ca_cert), host.path(ca_key), crt, key)
            _write(host.path(files[kind + "_crt"]), _read(crt), 0o644, ids)
            _write(host.path(files[kind + "_key"]), _read(key), 0o600, ids)
            written += [files[kind + "_crt"], files[kind + "_key"]]
        written += place_trust(host, party, ids)
    finally:
        maker.close()
    for path in written:
        say(f"certs: wrote {path}")
    return written


class _Owner:
    """The shape resolve_owners reads (owner, group) from."""

    def __init__(self, owner: str, group: str) -> None:
        self.owner, self.group = owner, group


def export_ca(host: Host, output: str) -> str:
    party = _party(host)
    ca_cert = host.path(_ca_paths(party)[0])
    if not os.path.isfile(ca_cert):
        raise CertError("no party CA yet: run 'fate-ctl certs init' first")
    with open(output, "x", encoding="utf-8") as handle:
        handle.write(_read(ca_cert))
    return output


def import_ca(host: Host, account: Tuple[str, str], sources: Sequence[str],
              say: Callable[[str], None] = print) -> List[str]:
    """Peer CA certificates (only certificates: a private key in the file is refused)."""
    party = _party(host)
    _, _, peers = _ca_paths(party)
    os.makedirs(host.path(peers), mode=0o700, exist_ok=True)
    for source in sources:
        text = _read(source)
        if "PRIVATE KEY" in text:
            raise CertError(f"{source} holds a private key: give the peer only its CA "
                            "certificate (fate-ctl certs export-ca)")
        blocks = _PEM.findall(text)
        if not blocks:
            raise CertError(f"{source}: no PEM certificate in it")
        subject = openssl("x509", "-noout", "-subject", stdin=blocks[0]).strip()
        if "CA:TRUE" not in openssl("x509", "-noout", "-text", stdin=blocks[0]):
            raise CertError(f"{source} is not a CA certificate (no CA:TRUE)")
        name = os.path.basename(source)
        if not name.endswith(".pem"):
            name += ".pem"
        _write(os.path.join(host.path(peers), name), "".join(blocks), 0o644, (0, 0))
        say(f"certs: imported peer CA {subject} from {source}")
    ids = resolve_owners(paths.Root(host.root), [_Owner(*account)])[account]
    return place_trust(host, party, ids)


def enable(party_file: str, peer_port: int) -> List[str]:
    """Turn on rollsite's TLS in a party YAML: server_secure, client_secure, and every
    route to another party (default_rules, an exchange's partys) is_secure on the peer's
    secure port. The file is rewritten (comments are lost; the old one is kept as .bak)."""
    with open(party_file, encoding="utf-8") as handle:
        text = handle.read()
    doc = yaml.safe_load(text)
    role = next(iter(doc))
    body = doc[role]
    rs = body.get("rollsite") if role != "exchange" else body.setdefault("rollsite", {})
    if not isinstance(rs, dict):
        raise CertError(f"{party_file}: {role}.rollsite is missing")
    changes: List[str] = []
    for flag in ("server_secure", "client_secure"):
        if rs.get(flag) is not True:
            rs[flag] = True
            changes.append(f"{role}.rollsite.{flag}: true")
    routes: List[Tuple[str, dict]] = []
    for index, rule in enumerate(rs.get("default_rules") or []):
        routes.append((f"{role}.rollsite.default_rules[{index}]", rule))
    for pi, entry in enumerate(body.get("partys") or [] if role == "exchange" else []):
        for index, rule in enumerate(entry.get("rules") or []):
            routes.append((f"exchange.partys[{pi}].rules[{index}]", rule))
    for where, rule in routes:
        if rule.get("is_secure") is not True or rule.get("port") != peer_port:
            rule["is_secure"], rule["port"] = True, peer_port
            changes.append(f"{where}: is_secure true, port {peer_port}")
    if changes:
        shutil.copy2(party_file, party_file + ".bak")
        with open(party_file, "w", encoding="utf-8") as handle:
            handle.write(yaml.safe_dump(doc, default_flow_style=False, sort_keys=False))
    return changes


def not_after(pem: str) -> datetime.datetime:
    out = openssl("x509", "-noout", "-enddate", stdin=pem).strip()
    stamp = out.split("=", 1)[1]
    return datetime.datetime.strptime(stamp.replace(" GMT", ""), "%b %d %H:%M:%S %Y")


def expiry(host: Host, now: Optional[datetime.datetime] = None) -> List[Tuple[str, str, str]]:
    """(level, path, message) for every certificate of this host's rollsite and party CA:
    FAIL expired, WARN within 30 days, ok otherwise. Empty when TLS is not set up."""
    applied = host.path(paths.APPLIED_PARTY)
    if not os.path.isfile(applied):
        return []
    try:
        party = load_party(applied)[1]
    except Exception:  # doctor's drift check reports a bad party file on its own
        return []
    now = now or datetime.datetime.utcnow()
    wanted = [v for k, v in sorted(layout(party).items()) if not k.endswith("_key")]
    wanted.append(_ca_paths(party)[0])
    out: List[Tuple[str, str, str]] = []
    for path in wanted:
        if not os.path.isfile(host.path(path)):
            continue
        for pem in _PEM.findall(_read(host.path(path))):
            subject = openssl("x509", "-noout", "-subject", stdin=pem).strip()
            end = not_after(pem)
            days = (end - now).days
            if end <= now:
                out.append(("FAIL", path, f"{subject} expired on {end:%Y-%m-%d}"))
            elif days < WARN_DAYS:
                out.append(("WARN", path, f"{subject} expires in {days} days "
                            f"({end:%Y-%m-%d}); renew: fate-ctl certs init"))
            else:
                out.append(("ok", path, f"{subject} valid until {end:%Y-%m-%d} ({days} days)"))
    return out
