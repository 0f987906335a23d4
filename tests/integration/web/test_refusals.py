"""One error format: every refusal of the HTTPS door is a Foutbericht in XML, with the status
that fits — no certificate (401), not a partner (403), not found (404), wrong method (405), a
malformed id or limit (400), the rate limit (429), the audit store away (503) — read back with
the project's own codec (so valid against envelop.xsd). Health and metrics are not on the
partner port; every answer there carries HSTS.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from gateway.domain.model import Foutbericht, Foutcode, TechnischType
from gateway.web.api import RateLimiter
from gateway.web.contract import HSTS
from tests.support.door import Door, partner_endpoints
from tests.support.messages import fresh
from tests.support.ops import block_audit_writes

pytestmark = pytest.mark.broker

XML = {"content-type": "application/xml"}


def refusal(door: Door, response: httpx.Response, status: int, code: Foutcode) -> Foutbericht:
    """The answer is a valid Foutbericht of ``code`` with ``status``, from the gateway."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml"), response.headers
    bericht = door.parts.codec.read(response.content)
    assert bericht.kop.berichttype == TechnischType.FOUTBERICHT
    assert bericht.kop.afzender.oin == door.running.settings.gateway_oin
    assert bericht.kop.in_antwoord_op is None  # it answers a request, not a message
    assert isinstance(bericht.inhoud, Foutbericht)
    assert bericht.inhoud.code is code, bericht.inhoud
    assert bericht.inhoud.reden
    assert response.headers["strict-transport-security"] == HSTS
    return bericht.inhoud


async def test_no_certificate_is_401_and_an_unknown_oin_403_as_foutbericht(door: Door) -> None:
    async with door.client(None) as anonymous:
        for method, path in partner_endpoints():
            response = await anonymous.request(method, path, content=b"<x/>", headers=XML)
            fout = refusal(door, response, 401, Foutcode.CERTIFICAAT_ONTBREEKT)
            assert "client certificate" in fout.reden
    async with door.client("onbekend") as stranger:
        response = await stranger.get("/v1/berichten")
        refusal(door, response, 403, Foutcode.TOEGANG_GEWEIGERD)


async def test_not_found_wrong_method_and_malformed_requests_are_foutberichten(
    door: Door,
) -> None:
    async with door.client("politie") as politie:
        unknown = await politie.get(f"/v1/berichten/{uuid.uuid4()}/status")
        refusal(door, unknown, 404, Foutcode.NIET_GEVONDEN)
        unheld = await politie.post(f"/v1/berichten/{uuid.uuid4()}/afleverbevestiging")
        refusal(door, unheld, 404, Foutcode.NIET_GEVONDEN)
        nowhere = await politie.get("/v2/niets")
        refusal(door, nowhere, 404, Foutcode.NIET_GEVONDEN)
        wrong = await politie.delete("/v1/berichten")
        refusal(door, wrong, 405, Foutcode.METHODE_NIET_TOEGESTAAN)
        # a malformed id or limit: 400, naming the parameter (never echoing the value)
        malformed = await politie.get("/v1/berichten/999990019/status")
        fout = refusal(door, malformed, 400, Foutcode.VERZOEK_ONGELDIG)
        assert "bericht_id" in fout.reden
        assert "999990019" not in fout.reden
        for limit in ("0", "101", "veel"):
            bad = await politie.get("/v1/berichten", params={"limit": limit})
            assert "limit" in refusal(door, bad, 400, Foutcode.VERZOEK_ONGELDIG).reden


async def test_health_and_metrics_are_not_on_the_partner_port(door: Door) -> None:
    async with door.client("politie") as politie, door.client(None) as anonymous:
        for client in (politie, anonymous):
            for path in ("/health/live", "/health/ready", "/metrics"):
                response = await client.get(path)
                refusal(door, response, 404, Foutcode.NIET_GEVONDEN)
    async with door.ops() as ops:  # ... but on the ops port
        assert (await ops.get("/health/live")).status_code == 200
        assert (await ops.get("/metrics")).status_code == 200
        assert (await ops.get("/v1/berichten")).status_code == 404  # and no partner API there


async def test_the_rate_limit_is_429_with_retry_after_as_foutbericht(door: Door) -> None:
    door.asgi.state.limiter = RateLimiter(per_second=0.5, burst=1)
    async with door.client("reclassering") as client:
        assert (await client.get("/v1/berichten")).status_code == 200
        limited = await client.get("/v1/berichten")
    refusal(door, limited, 429, Foutcode.TE_VEEL_VERZOEKEN)
    assert int(limited.headers["retry-after"]) >= 1


async def test_an_unwritable_audit_store_is_503_with_retry_after_as_foutbericht(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    dsn = door.running.settings.audit_dsn
    block_audit_writes(dsn, True)
    try:
        async with door.client("politie") as politie, door.client(None) as anonymous:
            refused = await politie.post(
                "/v1/berichten", content=fresh(example_bytes("politie/VtMelding.xml")), headers=XML
            )
            refusal(door, refused, 503, Foutcode.TIJDELIJK_NIET_BESCHIKBAAR)
            assert int(refused.headers["retry-after"]) >= 1
            # a refusal that cannot be audited is not answered 401 but 503 (fail closed)
            unaudited = await anonymous.get("/v1/berichten")
            refusal(door, unaudited, 503, Foutcode.TIJDELIJK_NIET_BESCHIKBAAR)
            assert unaudited.headers["retry-after"]
    finally:
        block_audit_writes(dsn, False)


async def test_the_audit_pages_send_hsts(door: Door) -> None:
    async with door.client(None) as officer:
        login = await officer.get("/audit/login")
    assert login.status_code == 200
    assert login.headers["strict-transport-security"] == HSTS
    assert login.headers["content-type"].startswith("text/html")
