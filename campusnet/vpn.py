"""The staff VPN's shared pieces: transport defaults and the lab PKI (OpenVPN, TLS mode, tun).

* :func:`transport` — port and protocol of a VPN gateway, from its config context ``vpn.port`` /
  ``vpn.proto`` (defaults 1194/udp). The intent builder (server) and the lab plan (client) both use it,
  so server and client cannot disagree.
* :func:`ensure_ca`, :func:`material` — a small PKI made with ``openssl`` on first use in
  ``state_dir()/secrets/vpn/`` (directory 0700, files 0600; never in the repository, never printed): a CA,
  one certificate per common name (the gateway's and each client's NetBox device name) and a
  ``tls-crypt`` key. :func:`material` returns ``{remote file name: local path}`` for one end;
  :func:`material_digest` fingerprints it (so drift covers rotated keys without showing them).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from campusnet import settings
from campusnet.errors import CampusnetError

VPN_PORT = 1194
VPN_PROTO: Literal["udp", "tcp"] = "udp"
VPN_DEVICE = "tun0"
#: where a node keeps its VPN config and key material (the node's own /etc/frr in the lab)
REMOTE_VPN_DIR = "/etc/frr/campusnet/vpn"
#: the files one end needs, in the order the material digest is computed
MATERIAL_FILES = ("ca.crt", "cert.crt", "cert.key", "tls-crypt.key")
CA_CN = "campusnet staff VPN CA"
_lock = threading.Lock()


def transport(config_context: Mapping[str, object]) -> tuple[int, Literal["udp", "tcp"]]:
    """``(port, proto)`` of a VPN gateway from its config context (``vpn.port``, ``vpn.proto``)."""
    vpn = config_context.get("vpn")
    port, proto = VPN_PORT, VPN_PROTO
    if isinstance(vpn, Mapping):
        raw_port = vpn.get("port", VPN_PORT)
        raw_proto = vpn.get("proto", VPN_PROTO)
        if not isinstance(raw_port, int) or not 0 < raw_port < 65536:
            raise CampusnetError("E210", f"not a port: {raw_port!r}", field="config_context.vpn.port")
        if raw_proto not in ("udp", "tcp"):
            raise CampusnetError("E210", f"not udp/tcp: {raw_proto!r}", field="config_context.vpn.proto")
        port, proto = raw_port, raw_proto
    return port, proto


def pki_dir() -> Path:
    return settings.state_dir() / "secrets" / "vpn"


@contextlib.contextmanager
def _locked() -> Iterator[Path]:
    """One PKI writer at a time (threads of one deploy, and other processes)."""
    d = pki_dir()
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    lock = d / ".lock"
    lock.touch(mode=0o600, exist_ok=True)
    with _lock, open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield d
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(argv: list[str], what: str) -> None:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    except FileNotFoundError:
        raise CampusnetError("E406", f"command not found: {argv[0]} (needed for the VPN PKI)") from None
    if r.returncode != 0:  # stderr of openssl names files and options, never key bytes
        tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-2:])
        raise CampusnetError("E440", f"VPN PKI: {what} failed: {tail}", obj=str(pki_dir()))


def _private(*paths: Path) -> None:
    for p in paths:
        if p.exists():
            p.chmod(0o600)


def _safe_cn(cn: str) -> str:
    if not cn or not all(c.isalnum() or c in "-_." for c in cn):
        raise CampusnetError("E440", f"not usable as a certificate name: {cn!r}", obj=cn)
    return cn


def _ensure_ca_locked(d: Path) -> None:
    ca_key, ca_crt, tc = d / "ca.key", d / "ca.crt", d / "tls-crypt.key"
    if not (ca_key.exists() and ca_crt.exists()):
        for stale in d.glob("*.crt"):  # certificates of another CA are worthless now
            stale.unlink()
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "3650", "-subj", f"/CN={CA_CN}",
              "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
             "creating the CA")
    if not tc.exists():
        _run(["openvpn", "--genkey", "secret", str(tc)], "creating the tls-crypt key")
    _private(ca_key, ca_crt, tc)


def _ensure_cert_locked(d: Path, cn: str, kind: Literal["server", "client"]) -> tuple[Path, Path]:
    cn = _safe_cn(cn)
    key, crt = d / f"{kind}-{cn}.key", d / f"{kind}-{cn}.crt"
    if key.exists() and crt.exists():
        return crt, key
    eku = "serverAuth" if kind == "server" else "clientAuth"
    with tempfile.TemporaryDirectory(prefix="cn-pki-", dir=d) as tmp:
        csr, ext = Path(tmp) / "req.csr", Path(tmp) / "ext.cnf"
        ext.write_text("[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
                       f"extendedKeyUsage={eku}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={cn}"], f"creating the {kind} key for {cn}")
        _private(key)
        _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"),
              "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "825", "-sha256",
              "-extfile", str(ext), "-extensions", "v3", "-out", str(crt)], f"signing the {kind} certificate of {cn}")
    _private(key, crt)
    return crt, key


def ensure_ca() -> Path:
    """The CA and the tls-crypt key (made on first use). Returns the PKI directory."""
    with _locked() as d:
        _ensure_ca_locked(d)
        return d


def material(cn: str, kind: Literal["server", "client"]) -> dict[str, Path]:
    """``{file name on the node: local path}`` for one end (made on first use): CA, certificate, key, tls-crypt."""
    with _locked() as d:
        _ensure_ca_locked(d)
        crt, key = _ensure_cert_locked(d, cn, kind)
        return {"ca.crt": d / "ca.crt", "cert.crt": crt, "cert.key": key, "tls-crypt.key": d / "tls-crypt.key"}


def material_digest(files: Mapping[str, Path | bytes]) -> str:
    """sha256 over the material in :data:`MATERIAL_FILES` order (as ``cat … | sha256sum`` on the node)."""
    h = hashlib.sha256()
    for name in MATERIAL_FILES:
        v = files[name]
        h.update(v if isinstance(v, bytes) else Path(v).read_bytes())
    return h.hexdigest()
