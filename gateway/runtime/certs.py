"""Certificates: who a client certificate belongs to, when certificates expire, and a
development CA.

A partner is identified over HTTPS by its client certificate: mutual TLS, verified against
``tls_ca_file``; the partner's OIN is the subject's ``serialNumber`` (as PKIoverheid
certificates carry it), and the OIN must be in the partner register. ``dev_ca`` makes a
throw-away CA with a server certificate and one client certificate per registered partner,
so the demo and the tests use real mutual TLS, plus a revoked client certificate of the first
partner (``revoked.pem``) and the CA's CRL listing it (``crl.pem``, for ``tls_crl_file``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "DEV_DAYS",
    "DevFiles",
    "Identity",
    "crl_expiries",
    "dev_ca",
    "dev_crl",
    "expiries",
    "identity",
    "write_crl",
]

DEV_DAYS = 365


@dataclass(frozen=True)
class Identity:
    """What a verified client certificate says."""

    oin: str | None  # the subject's serialNumber (None: the certificate carries none)
    subject: str
    not_after: dt.datetime
    fingerprint: str  # SHA-256 of the DER


def identity(der: bytes) -> Identity:
    cert = x509.load_der_x509_certificate(der)
    serials = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    oin = str(serials[0].value) if serials else None
    return Identity(
        oin=oin,
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
    )


def expiries(paths: Iterable[Path]) -> dict[str, dt.datetime]:
    """The latest notAfter of each certificate file (every certificate in a PEM bundle)."""
    found: dict[str, dt.datetime] = {}
    for path in paths:
        for cert in x509.load_pem_x509_certificates(path.read_bytes()):
            label = f"{path.name}:{cert.subject.rfc4514_string()}"
            found[label] = cert.not_valid_after_utc
    return found


def crl_expiries(path: Path) -> dict[str, dt.datetime]:
    """The nextUpdate of each CRL in a PEM file, by issuer (none: no nextUpdate given)."""
    found: dict[str, dt.datetime] = {}
    text = path.read_bytes()
    marker = b"-----BEGIN X509 CRL-----"
    for chunk in text.split(marker)[1:]:
        crl = x509.load_pem_x509_crl(marker + chunk)
        if crl.next_update_utc is not None:
            found[f"{path.name}:{crl.issuer.rfc4514_string()}"] = crl.next_update_utc
    return found


# --------------------------------------------------------------------------- development CA


@dataclass(frozen=True)
class DevFiles:
    directory: Path
    ca: Path
    server_cert: Path
    server_key: Path
    partners: dict[str, tuple[Path, Path]]  # OIN -> (certificate, key)
    revoked: tuple[Path, Path] | None = None  # a client certificate the CRL revokes, and key
    crl: Path | None = None  # the CA's CRL (revoking ``revoked``)
    officer_hint: str = "privacy officers log in with a password, not a certificate"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, days: int
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
    )


def dev_ca(
    directory: Path,
    partners: Iterable[tuple[str, str]],
    *,
    hosts: Iterable[str] = ("localhost", "127.0.0.1"),
    days: int = DEV_DAYS,
    extra_clients: Iterable[tuple[str, str]] = (),
) -> DevFiles:
    """Write ``ca.pem``, ``server.pem``/``server-key.pem`` and ``<OIN>.pem``/``<OIN>-key.pem``.

    ``partners``: (OIN, display name) of every partner in the register; the first one also
    gets ``revoked.pem``/``revoked-key.pem``, revoked in ``crl.pem`` (valid as long as the CA).
    ``extra_clients``: more client certificates (file stem, OIN) — e.g. one for an OIN the
    register does not know, for tests. Everything is signed by a new CA whose key is written
    as ``ca-key.pem`` (a development CA: keep it out of production).
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ketenpoort ontwikkeling"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Ketenpoort development CA"),
        ]
    )
    ca_cert = (
        _builder(ca_name, ca_name, ca_key, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    _write_cert(ca_path, ca_cert)
    _write_key(directory / "ca-key.pem", ca_key)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())

    def leaf(
        name: x509.Name, usage: x509.ObjectIdentifier, san: list[x509.GeneralName] | None
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = _key()
        builder = (
            _builder(name, ca_name, key, days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(aki, critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server, server_key = leaf(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, next(iter(hosts), "localhost"))]),
        ExtendedKeyUsageOID.SERVER_AUTH,
        names,
    )
    server_path, server_key_path = directory / "server.pem", directory / "server-key.pem"
    _write_cert(server_path, server)
    _write_key(server_key_path, server_key)

    written: dict[str, tuple[Path, Path]] = {}
    registered = list(partners)
    clients = [(oin, naam, oin) for oin, naam in registered]
    clients += [(oin, stem, stem) for stem, oin in extra_clients]
    if registered:
        clients.append((registered[0][0], registered[0][1], "revoked"))
    for oin, naam, stem in clients:
        cert, key = leaf(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, naam),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{naam} (Ketenpoort-koppeling)"),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, oin),
                ]
            ),
            ExtendedKeyUsageOID.CLIENT_AUTH,
            None,
        )
        paths = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
        _write_cert(paths[0], cert)
        _write_key(paths[1], key)
        written[stem] = paths
    revoked = written.pop("revoked", None)
    crl_path = directory / "crl.pem"
    write_crl(crl_path, ca_cert, ca_key, [revoked[0]] if revoked else [], days=days)
    return DevFiles(
        directory, ca_path, server_path, server_key_path, written, revoked=revoked, crl=crl_path
    )


def write_crl(
    path: Path,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    revoked: Iterable[Path],
    *,
    days: int = DEV_DAYS,
) -> None:
    """A CRL of ``ca_cert`` revoking the certificates in the PEM files ``revoked`` (written
    through a temporary file and a rename, so a gateway reading it never sees half)."""
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), False)
    )
    for cert_path in revoked:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - dt.timedelta(minutes=1))
            .build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())
    partial = path.with_name(path.name + ".tmp")
    partial.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    partial.replace(path)


def dev_crl(directory: Path, path: Path, revoked: Iterable[Path]) -> None:
    """A new CRL of the development CA in ``directory`` (its ca.pem and ca-key.pem)."""
    ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(), None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the development CA key is an EC key")
    write_crl(path, ca_cert, ca_key, revoked)
