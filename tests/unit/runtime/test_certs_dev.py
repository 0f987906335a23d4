"""``ketenpoort certs dev DIR`` writes, besides the CA, the server and the partner
certificates, a revoked certificate of a registered partner (``revoked.pem``,
``revoked-key.pem``) and the CA's CRL that revokes exactly it (``crl.pem``); ``dev_crl`` writes
a new CRL of that CA."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.runtime import certs

FILES = {"ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "revoked.pem", "revoked-key.pem"}


def crl_of(path: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(path.read_bytes())


def test_certs_dev_writes_a_revoked_partner_certificate_and_the_crl(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["certs", "dev", str(tmp_path / "pki")])
    assert result.exit_code == 0, result.output
    written = {p.name for p in (tmp_path / "pki").iterdir()}
    assert written >= FILES | {"crl.pem"}
    ca = x509.load_pem_x509_certificate((tmp_path / "pki" / "ca.pem").read_bytes())
    revoked = x509.load_pem_x509_certificate((tmp_path / "pki" / "revoked.pem").read_bytes())
    crl = crl_of(tmp_path / "pki" / "crl.pem")
    public = ca.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(public)
    assert crl.issuer == ca.subject
    assert [r.serial_number for r in crl] == [revoked.serial_number]
    # the revoked certificate is a registered partner's: only the CRL keeps it out
    identity = certs.identity(revoked.public_bytes(serialization.Encoding.DER))
    partners = {p.name.removesuffix(".pem") for p in (tmp_path / "pki").glob("0*.pem")}
    assert identity.oin in partners
    assert "crl.pem" in result.output
    assert "revoked.pem" in result.output


def test_dev_crl_writes_a_new_crl_of_the_dev_ca(tmp_path: Path) -> None:
    files = certs.dev_ca(tmp_path, [("00000099000000000101", "Politie")])
    assert files.revoked is not None
    assert files.crl is not None
    other = tmp_path / "nieuw.pem"
    certs.dev_crl(tmp_path, other, [])
    assert list(crl_of(other)) == []
    certs.dev_crl(tmp_path, other, [files.revoked[0], files.partners["00000099000000000101"][0]])
    assert len(list(crl_of(other))) == 2
    next_update = crl_of(other).next_update_utc
    assert next_update is not None
    assert next_update > crl_of(files.crl).last_update_utc
