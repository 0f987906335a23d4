"""TLS of the partner port per the NCSC guidelines ("good"), probed with ``openssl s_client``
(a tool the project did not write) against ``ketenpoort serve`` run as in production:

- TLS 1.2 accepts ECDHE with AEAD suites only: no CBC suite of all OpenSSL knows is accepted;
  TLS 1.0 and 1.1 are refused; TLS 1.3 works.
- Only the groups X25519, P-256 and P-384: no finite-field group (ffdhe*) is accepted, on
  TLS 1.3 nor on TLS 1.2 (the server runs under gateway/web/openssl.cnf by itself).
- A revoked partner certificate gets nothing, an unrevoked one of the same partner works, a
  certificate of a foreign CA gets nothing; each refused handshake is counted by its alert.
- The CRL is read again when it changes: a certificate revoked while the gateway runs is
  refused from then on, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.runtime import certs
from gateway.runtime.settings import Settings
from gateway.web.tls import TLS12_CIPHERS
from tests.support.broker import OINS, new_prefix
from tests.support.door import DevPki, https_settings, run_door
from tests.support.ops import named, scrape

pytestmark = pytest.mark.broker

OPENSSL = shutil.which("openssl")
FFDHE = ("ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")
EC_GROUPS = ("X25519", "P-256", "P-384")
START_TIMEOUT = 60
REFUSED = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    port: int
    ops_port: int
    pki: DevPki
    process: subprocess.Popen[bytes]

    def handshake(self, *args: str) -> bool:
        """Whether ``openssl s_client`` with ``args`` completes a handshake."""
        assert OPENSSL is not None
        done = subprocess.run(
            [
                OPENSSL,
                "s_client",
                "-connect",
                f"127.0.0.1:{self.port}",
                "-CAfile",
                str(self.pki.files.ca),
                "-verify_return_error",
                *args,
            ],
            input=b"",
            capture_output=True,
            timeout=30,
            check=False,
        )
        out = done.stdout.decode(errors="replace")
        return done.returncode == 0 and "Cipher is (NONE)" not in out

    def accepts(self, *args: str, attempts: int = 3) -> bool:
        """Whether a handshake with ``args`` completes in one of ``attempts`` tries.

        For handshakes that must succeed: on a loaded machine one try can fail for reasons of
        its own (the server process starved, a reset), which says nothing about the policy. A
        handshake the policy refuses fails on every try, so retrying never lets a suite or
        group through that the server refuses; refusals are asserted with one ``handshake``.
        """
        return any(self.handshake(*args) for _ in range(attempts))

    def metrics(self) -> dict[str, float]:
        """``ketenpoort_tls_handshakes_geweigerd`` by alert, from the ops port."""
        response = httpx.get(f"http://127.0.0.1:{self.ops_port}/metrics", timeout=30)
        samples = named(scrape(response.text), "ketenpoort_tls_handshakes_geweigerd_total")
        return {dict(labels)["reden"]: value for labels, value in samples.items()}


@pytest.fixture(scope="module")
def served(vhost: str, pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ketenpoort serve`` in a process of its own, without OPENSSL_CONF in its environment
    (it must load its own OpenSSL configuration)."""
    if OPENSSL is None:
        pytest.fail("openssl is not installed (the Debian package openssl)")
    tmp = tmp_path_factory.mktemp("tls")
    port, ops_port = free_port(), free_port()
    officers = tmp / "officers.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETENPOORT_", "OPENSSL_"))}
    env.update(
        {
            "KETENPOORT_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            "KETENPOORT_AMQP_PREFIX": new_prefix(),
            "KETENPOORT_STATE_DSN": f"sqlite:///{tmp / 'state.db'}",
            "KETENPOORT_AUDIT_DSN": f"sqlite:///{tmp / 'audit.db'}",
            "KETENPOORT_AUDIT_KEY_DIR": str(tmp / "keys"),
            "KETENPOORT_AUDIT_LOG_ID": "tls",
            "KETENPOORT_HTTP_PORT": str(port),
            "KETENPOORT_OPS_PORT": str(ops_port),
            "KETENPOORT_TLS_CERT_FILE": str(pki.files.server_cert),
            "KETENPOORT_TLS_KEY_FILE": str(pki.files.server_key),
            "KETENPOORT_TLS_CA_FILE": str(pki.files.ca),
            "KETENPOORT_TLS_CRL_FILE": str(pki.files.crl),
            "KETENPOORT_OFFICERS_FILE": str(officers),
            "KETENPOORT_RETRY_DELAYS_MS": "[200, 400]",
        }
    )
    log = (tmp / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "serve"],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(timeout=5) as client:
            for _ in range(START_TIMEOUT * 10):
                assert process.poll() is None, (tmp / "serve.log").read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"http://127.0.0.1:{ops_port}/health/ready").status_code == 200:
                        break
                time.sleep(0.1)
            else:
                pytest.fail(f"ketenpoort serve not ready: {(tmp / 'serve.log').read_text()}")
        yield Served(port, ops_port, pki, process)
    finally:
        process.terminate()
        process.wait(60)
        log.close()


def tls12_suites() -> list[tuple[str, str]]:
    """(name, encryption) of every TLS 1.2 suite this openssl knows."""
    assert OPENSSL is not None
    listing = subprocess.run(
        [OPENSSL, "ciphers", "-v", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    suites = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[1] in ("TLSv1.2", "SSLv3", "TLSv1"):
            enc = next(f for f in fields if f.startswith("Enc="))
            suites.append((fields[0], enc))
    return suites


def test_tls12_accepts_ecdhe_aead_suites_only_and_no_cbc(served: Served) -> None:
    suites = tls12_suites()
    assert any("CBC" in enc or enc.startswith(("Enc=AES(", "Enc=3DES")) for _, enc in suites)
    allowed = set(TLS12_CIPHERS.split(":"))
    accepted = set()
    for name, _ in suites:
        offered = ("-tls1_2", "-cipher", f"{name}:@SECLEVEL=0")
        # a suite the policy allows gets more tries (see accepts), any other suite one
        if served.accepts(*offered) if name in allowed else served.handshake(*offered):
            accepted.add(name)
    assert accepted, "no TLS 1.2 suite accepted at all"
    assert accepted <= allowed, accepted
    for name in accepted:
        assert "ECDHE" in name
        assert "GCM" in name or "CHACHA20" in name
    # the server certificate is ECDSA: these are all of them
    assert accepted == {n for n in TLS12_CIPHERS.split(":") if n.startswith("ECDHE-ECDSA")}


def test_only_tls12_and_tls13(served: Served) -> None:
    assert served.accepts("-tls1_3")
    assert not served.handshake("-tls1_1", "-cipher", "ALL:@SECLEVEL=0")
    assert not served.handshake("-tls1", "-cipher", "ALL:@SECLEVEL=0")


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_no_finite_field_group_is_accepted_only_x25519_p256_p384(
    served: Served, version: str
) -> None:
    before = served.metrics().get("handshake_failure", 0.0)
    for group in FFDHE:
        assert not served.handshake(version, "-groups", group), group
    # each EC group on its own; on TLS 1.2 the client's groups also cover the curve of the
    # ECDSA server certificate (P-256), so it is offered last, after the group under test
    for group in EC_GROUPS:
        offered = group if version == "-tls1_3" or group == "P-256" else f"{group}:P-256"
        assert served.accepts(version, "-groups", offered), group
    if version == "-tls1_3":
        assert not served.handshake(version, "-groups", "P-521")  # not on NCSC's list either
    # each refused handshake is counted by the alert the server sent
    refused = len(FFDHE) + (1 if version == "-tls1_3" else 0)
    assert served.metrics().get("handshake_failure", 0.0) >= before + refused


def _context(pki: DevPki, cert: tuple[str, str]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.files.ca))
    context.load_cert_chain(*cert)
    return context


def test_a_revoked_certificate_gets_nothing_and_an_unrevoked_one_works(
    served: Served, tmp_path: Path
) -> None:
    pki = served.pki
    assert pki.files.revoked is not None
    base = f"https://127.0.0.1:{served.port}"
    # the revoked certificate is the first partner's own OIN (politie): only the CRL refuses it
    revoked = certs.identity(ssl.PEM_cert_to_DER_cert(pki.files.revoked[0].read_text()))
    assert revoked.oin == OINS["politie"]
    before = served.metrics()
    with httpx.Client(base_url=base, verify=_context(pki, pki.client_cert("politie"))) as ok:
        assert ok.get("/v1/berichten").status_code == 200
    assert served.metrics() == before  # a connection that works is no refusal
    assert served.accepts("-tls1_3")
    assert served.accepts("-tls1_2")
    assert served.metrics() == before
    revoked_cert = (str(pki.files.revoked[0]), str(pki.files.revoked[1]))
    with (
        httpx.Client(base_url=base, verify=_context(pki, revoked_cert)) as refused,
        pytest.raises(REFUSED),
    ):
        refused.get("/v1/berichten")
    # and with openssl: the handshake of the revoked certificate fails, the other one holds
    # (TLS 1.2: there the server checks the client certificate before its Finished)
    assert not served.handshake("-tls1_2", "-cert", revoked_cert[0], "-key", revoked_cert[1])
    ok_cert = pki.client_cert("politie")
    assert served.accepts("-tls1_2", "-cert", ok_cert[0], "-key", ok_cert[1])
    foreign = certs.dev_ca(tmp_path / "anders", [(OINS["politie"], "Nep-politie")])
    foreign_cert, foreign_key = foreign.partners[OINS["politie"]]
    with (
        httpx.Client(
            base_url=base, verify=_context(pki, (str(foreign_cert), str(foreign_key)))
        ) as stranger,
        pytest.raises(REFUSED),
    ):
        stranger.get("/v1/berichten")
    after = served.metrics()
    assert after.get("certificate_revoked", 0.0) >= before.get("certificate_revoked", 0.0) + 2
    assert after.get("unknown_ca", 0.0) >= before.get("unknown_ca", 0.0) + 1


# --------------------------------------------------------------------------- CRL reload


@contextlib.asynccontextmanager
async def door_with_crl(
    settings: Settings, vhost: str, pki: DevPki, tmp_path: Path, crl: Path
) -> AsyncIterator[tuple[int, int]]:
    configured = https_settings(settings, pki, tmp_path).model_copy(update={"tls_crl_file": crl})
    async with run_door(configured, vhost) as (_parts, doors):
        yield doors.partner_port, doors.ops_port


async def test_the_crl_is_read_again_when_it_changes(
    settings: Settings, vhost: str, pki: DevPki, tmp_path: Path
) -> None:
    assert pki.files.revoked is not None
    crl = tmp_path / "crl.pem"
    certs.dev_crl(pki.files.directory, crl, [])  # nothing revoked yet
    revoked_cert = (str(pki.files.revoked[0]), str(pki.files.revoked[1]))
    async with door_with_crl(settings, vhost, pki, tmp_path, crl) as (port, ops_port):
        base = f"https://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, verify=_context(pki, revoked_cert)) as c:
            assert (await c.get("/v1/berichten")).status_code == 200

        certs.dev_crl(pki.files.directory, crl, [pki.files.revoked[0]])  # revoked now
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            try:
                async with httpx.AsyncClient(
                    base_url=base, verify=_context(pki, revoked_cert)
                ) as c:
                    await c.get("/v1/berichten")
            except REFUSED:
                break
            assert loop.time() < deadline, "the new CRL was not picked up"
            await asyncio.sleep(0.2)
        async with httpx.AsyncClient(
            base_url=base, verify=_context(pki, pki.client_cert("politie"))
        ) as c:
            assert (await c.get("/v1/berichten")).status_code == 200
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}") as ops:
            text = (await ops.get("/metrics")).text
        refused = named(scrape(text), "ketenpoort_tls_handshakes_geweigerd_total")
        assert refused[(("reden", "certificate_revoked"),)] >= 1
