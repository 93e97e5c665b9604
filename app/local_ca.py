"""A local certificate authority for mTLS between the services of one install (Temporal first).

`aios certs DIR --server-name temporal.internal` writes ca.pem, ca.key, a server certificate for
the Temporal frontend (or the TLS proxy in front of it) and a client certificate for the AIOS
services. Keys are written mode 0600. A company with its own PKI uses its own certificates instead.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass(frozen=True)
class LocalCA:
    ca: Issued
    server: Issued
    client: Issued


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AIOS Assistant"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return Issued(cert_path, key_path)


def _issue(subject: str, issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey | None, *,
           ca: bool = False, usage=None, names: list[x509.GeneralName] | None = None
           ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_local_ca(directory: Path, *, server_names: list[str], client_name: str = "aios-services") -> LocalCA:
    """A CA, a server certificate for `server_names` and one client certificate, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _issue("AIOS local CA", _name("AIOS local CA"), None, ca=True)
    server_cert, server_key = _issue(server_names[0], ca_cert.subject, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH,
                                     names=[_general_name(n) for n in server_names])
    client_cert, client_key = _issue(client_name, ca_cert.subject, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    return LocalCA(ca=_write(directory, "ca", ca_cert, ca_key),
                   server=_write(directory, "server", server_cert, server_key),
                   client=_write(directory, "client", client_cert, client_key))
