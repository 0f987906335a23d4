"""The partner API over real TLS with client certificates (mutual TLS), against the real broker.

Each partner sends, receives, confirms and checks status; one partner cannot read another's
inbox or status, cannot send as another OIN, and calls without (a known) certificate are
refused and audited.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway.runtime import certs
from gateway.store.database import Database
from gateway.web.api import RateLimiter
from tests.support.broker import OINS
from tests.support.door import Door, partner_endpoints
from tests.support.messages import fresh
from tests.support.partners import drain

pytestmark = pytest.mark.broker

KP = "{urn:ketenpoort:envelop:1}"
XML = {"content-type": "application/xml"}

# (example, sender, its recipients) — one per sending partner
FLOWS = [
    ("politie/VtMelding.xml", "politie", {"vt-twente"}),
    ("veilig-thuis/Terugkoppeling.xml", "vt-twente", {"politie"}),
    # no casus yet: VT only when HG, reclassering only when it took part (v2 §5)
    ("openbaar-ministerie/OmBeslissing.xml", "om", {"politie"}),
    ("reclassering/Reclasseringsadvies.xml", "reclassering", {"om"}),
]


def kop(xml: bytes, name: str) -> str | None:
    found = etree.fromstring(xml).find(f"{KP}Kop/{KP}{name}")
    return None if found is None else found.text


def body_type(xml: bytes) -> str | None:
    return kop(xml, "BerichtType")


async def inbox_until(
    door: Door, name: str, want: Callable[[list[dict[str, object]]], bool], timeout: float = 15
) -> list[dict[str, object]]:
    """GET the inbox until ``want`` holds (messages are routed asynchronously for AMQP)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with door.client(name) as client:
        while True:
            response = await client.get("/v1/berichten", params={"limit": 100})
            assert response.status_code == 200, response.text
            berichten = response.json()["berichten"]
            if want(berichten) or asyncio.get_running_loop().time() > deadline:
                return list(berichten)
            await asyncio.sleep(0.1)


async def audited(door: Door, gebeurtenis: str, status: str) -> int:
    db = Database(door.running.settings.audit_dsn)
    try:
        rows = db.run_sync(
            lambda ex: ex(
                "SELECT public FROM audit_record WHERE public LIKE ?", (f'%"{gebeurtenis}"%',)
            ).fetchall()
        )
    finally:
        db.close()
    return sum(1 for (public,) in rows if f'"status":"{status}"' in public)


@pytest.mark.parametrize(("example", "sender", "recipients"), FLOWS)
async def test_each_partner_sends_receives_confirms_and_checks_status(
    door: Door,
    example_bytes: Callable[[str], bytes],
    example: str,
    sender: str,
    recipients: set[str],
) -> None:
    bericht_id = str(uuid.uuid4())
    raw = fresh(example_bytes(example), bericht_id=bericht_id)
    async with door.client(sender) as client:
        response = await client.post("/v1/berichten", content=raw, headers=XML)
    assert response.status_code == 202, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert body_type(response.content) == "Ontvangstbevestiging"
    assert kop(response.content, "InAntwoordOp") == bericht_id
    # the answer came in the response, not (also) in the sender's inbox
    assert await drain(door.running.partner(sender)) == []

    for name in recipients:
        berichten = await inbox_until(door, name, lambda b: any(m["id"] == bericht_id for m in b))
        mine = [m for m in berichten if m["id"] == bericht_id]
        assert len(mine) == 1, f"{name} should see {bericht_id} once"
        item = mine[0]
        assert item["soort"] == "levering"
        assert item["afzender"] == OINS[sender]
        delivered = str(item["xml"]).encode()
        assert kop(delivered, "BerichtId") == bericht_id
        async with door.client(name) as client:
            confirmed = await client.post(f"/v1/berichten/{bericht_id}/afleverbevestiging")
            assert confirmed.status_code == 200, confirmed.text
            assert body_type(confirmed.content) == "Ontvangstbevestiging"
            # confirmed: gone from the inbox (acknowledged on the broker)
            after = (await client.get("/v1/berichten")).json()["berichten"]
            assert all(m["id"] != bericht_id for m in after)
            again = await client.post(f"/v1/berichten/{bericht_id}/afleverbevestiging")
            assert again.status_code == 200  # idempotent: already recorded

    async with door.client(sender) as client:
        status = await client.get(f"/v1/berichten/{bericht_id}/status")
    assert status.status_code == 200, status.text
    data = status.json()
    assert data["beantwoord"] is True
    assert {r["oin"]: r["status"] for r in data["ontvangers"]} == {
        OINS[name]: "afgeleverd" for name in recipients
    }


async def test_a_partner_cannot_read_another_partners_inbox_or_status(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    bericht_id = str(uuid.uuid4())
    raw = fresh(example_bytes("politie/VtMelding.xml"), bericht_id=bericht_id)
    async with door.client("politie") as politie:
        assert (await politie.post("/v1/berichten", content=raw, headers=XML)).status_code == 202
    await inbox_until(door, "vt-twente", lambda b: any(m["id"] == bericht_id for m in b))
    for other in ("om", "rvdk", "reclassering", "vt-rijnmond"):
        async with door.client(other) as client:
            inbox = (await client.get("/v1/berichten")).json()["berichten"]
            assert all(m["id"] != bericht_id for m in inbox)
            status = await client.get(f"/v1/berichten/{bericht_id}/status")
            assert status.status_code == 404
            confirm = await client.post(f"/v1/berichten/{bericht_id}/afleverbevestiging")
            assert confirm.status_code == 404
    # the recipient may not see the sender's status either: status is the sender's
    async with door.client("vt-twente") as vt:
        assert (await vt.get(f"/v1/berichten/{bericht_id}/status")).status_code == 404
    async with door.client("politie") as politie:
        status = (await politie.get(f"/v1/berichten/{bericht_id}/status")).json()
    assert [r["status"] for r in status["ontvangers"]] == ["gepubliceerd"]


async def test_a_partner_cannot_send_as_another_oin(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    """The envelope says politie; the certificate is OM's: AFZENDER_ONJUIST, nothing routed."""
    bericht_id = str(uuid.uuid4())
    raw = fresh(example_bytes("politie/VtMelding.xml"), bericht_id=bericht_id)
    async with door.client("om") as om:
        response = await om.post("/v1/berichten", content=raw, headers=XML)
    assert response.status_code == 403
    assert body_type(response.content) == "Foutbericht"
    assert b"AFZENDER_ONJUIST" in response.content
    assert kop(response.content, "InAntwoordOp") == bericht_id
    assert await drain(door.running.partner("vt-twente")) == []
    assert await audited(door, "geweigerd", "AFZENDER_ONJUIST") >= 1  # one per data subject


async def test_without_a_certificate_the_api_refuses_and_audits(door: Door) -> None:
    async with door.client(None) as anonymous:
        for method, path in partner_endpoints():
            response = await anonymous.request(method, path, content=b"<x/>", headers=XML)
            assert response.status_code == 401, (method, path)
    assert await audited(door, "toegang-geweigerd", "geen-certificaat") == 4


async def test_a_certificate_of_an_unknown_oin_gets_403_and_is_audited(door: Door) -> None:
    async with door.client("onbekend") as stranger:
        response = await stranger.get("/v1/berichten")
    assert response.status_code == 403
    assert await audited(door, "toegang-geweigerd", "onbekend-certificaat") == 1


async def test_a_certificate_of_another_ca_does_not_even_connect(
    door: Door, tmp_path: Path
) -> None:
    other = certs.dev_ca(tmp_path / "other", [(OINS["politie"], "Nep-politie")])
    context = ssl.create_default_context(cafile=str(door.pki.files.ca))
    cert, key = other.partners[OINS["politie"]]
    context.load_cert_chain(str(cert), str(key))
    async with httpx.AsyncClient(base_url=door.base_url, verify=context) as client:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await client.get("/v1/berichten")


async def test_limits_body_size_content_type_and_rate(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    raw = fresh(example_bytes("politie/VtMelding.xml"))
    async with door.client("politie") as politie:
        wrong_type = await politie.post(
            "/v1/berichten", content=raw, headers={"content-type": "application/json"}
        )
        assert wrong_type.status_code == 415
        assert body_type(wrong_type.content) == "Foutbericht"
        big = b"<a>" + b"x" * (door.running.settings.max_bytes + 10) + b"</a>"
        too_big = await politie.post("/v1/berichten", content=big, headers=XML)
        assert too_big.status_code == 413
        assert b"TE_GROOT" in too_big.content
    assert await audited(door, "geweigerd", "TE_GROOT") == 1
    # rate: a burst beyond the bucket is refused with 429 and Retry-After, per partner
    door.asgi.state.limiter = RateLimiter(per_second=0.5, burst=5)
    async with door.client("reclassering") as client:
        statuses = [(await client.get("/v1/berichten")).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = await client.get("/v1/berichten")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
    async with door.client("om") as other:  # another partner has its own bucket
        assert (await other.get("/v1/berichten")).status_code == 200
