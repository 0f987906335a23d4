"""The chain coordinator's page (``/keten``, spec v2 §10) over real TLS: its own login role,
the norms open, overdue, met and missed per partner, no personal data, nothing blocked."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.runtime.officers import COORDINATOR, Officers, Sessions
from gateway.store.database import Database
from gateway.store.normen import NormRij
from gateway.web import keten_pages
from gateway.web.audit_pages import COOKIE as AUDIT_COOKIE
from tests.support.broker import OINS
from tests.support.door import COORDINATOR_LOGIN, OFFICER, Door
from tests.support.messages import fresh
from tests.support.waiting import eventually

broker = pytest.mark.broker

XML = {"content-type": "application/xml"}
BSN = "999990019"  # the victim in politie/VtMelding.xml


@contextlib.asynccontextmanager
async def coordinator(door: Door) -> AsyncIterator[httpx.AsyncClient]:
    async with door.client(None) as client:
        response = await client.post(
            "/keten/login",
            data={"naam": COORDINATOR_LOGIN[0], "wachtwoord": COORDINATOR_LOGIN[1]},
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/keten"
        assert client.cookies.get(keten_pages.COOKIE)
        yield client


def records(door: Door) -> list[dict[str, Any]]:
    db = Database(door.running.settings.audit_dsn)
    try:
        rows = db.run_sync(
            lambda ex: ex("SELECT public FROM audit_record ORDER BY log, seq").fetchall()
        )
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def rij(naam: str, partner: str, uiterlijk: dt.datetime, **kw: Any) -> NormRij:
    geopend = kw.pop("geopend", uiterlijk - dt.timedelta(days=5))
    return NormRij(
        afzender_oin=OINS["politie"],
        bericht_id=str(uuid.uuid4()),
        naam=naam,
        partner_oin=partner,
        conversatie_id=str(uuid.uuid4()),
        berichttype="VtMelding",
        uiterlijk=uiterlijk,
        geopend=geopend,
        **kw,
    )


@broker
async def test_the_coordinator_sees_each_partner_step_open_overdue_met_and_missed(
    door: Door, example_bytes: Any
) -> None:
    """A VtMelding sent over the door opens the veiligheidsbeoordeling norm for VT Twente: the
    page shows it open with its BerichtId; rows met, missed and overdue show as such and are
    counted per partner; nothing on the page is personal data."""
    bericht_id = str(uuid.uuid4())
    async with door.client("politie") as client:
        response = await client.post(
            "/v1/berichten",
            content=fresh(example_bytes("politie/VtMelding.xml"), bericht_id=bericht_id),
            headers=XML,
        )
    assert response.status_code == 202, response.text
    store = door.parts.normen.store
    await eventually(lambda: _has_row(store, bericht_id), "the norm of the VtMelding is open")
    now = dt.datetime.now(dt.UTC)
    vt, om = OINS["vt-twente"], OINS["om"]
    overdue = rij("veiligheidsbeoordeling", vt, now - dt.timedelta(hours=2))
    missed = rij("zsm-beslissing", om, now - dt.timedelta(days=1))
    met = rij("zsm-beslissing", om, now - dt.timedelta(hours=1))
    await store.open([overdue, missed, met])
    await store.close_in_conversation(
        missed.conversatie_id, om, ["zsm-beslissing"], now - dt.timedelta(hours=3)
    )
    await store.close_in_conversation(
        met.conversatie_id, om, ["zsm-beslissing"], now - dt.timedelta(hours=5)
    )
    async with coordinator(door) as client:
        page = await client.get("/keten")
        assert page.status_code == 200, page.text
        text = page.text
        assert bericht_id in text
        for row, status in ((overdue, "overschreden"), (missed, "te laat"), (met, "op tijd")):
            assert f'data-status="{status}"' in text
            assert row.bericht_id in text
        assert 'data-norm="veiligheidsbeoordeling" data-status="open"' in text
        assert "Veilig Thuis Twente" in text
        assert BSN not in text
        assert "Jansen" not in text
        late = await client.get("/keten", params={"alleen_te_laat": "true"})
        assert bericht_id not in late.text  # open, not late
        assert missed.bericht_id in late.text
        assert overdue.bericht_id in late.text
        om_only = await client.get("/keten", params={"partner": om})
        assert overdue.bericht_id not in om_only.text
        assert met.bericht_id in om_only.text
        bad = await client.get("/keten", params={"partner": "nope"})
        assert bad.status_code == 400
    viewed = [p for p in records(door) if p.get("extra", {}).get("pagina") == "keten"]
    assert viewed, "each view of the chain page is an audit record"


async def _has_row(store: Any, bericht_id: str) -> bool:
    rows = await store.recent(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    return any(r.bericht_id == bericht_id for r in rows)


@broker
async def test_each_login_role_opens_only_its_own_pages(door: Door) -> None:
    """A privacy officer cannot log in at /keten nor use its session there; a coordinator
    cannot log in at /audit nor use its session there."""
    sessions: Sessions = door.asgi.state.sessions
    async with door.client(None) as client:
        wrong_role = await client.post(
            "/keten/login", data={"naam": OFFICER[0], "wachtwoord": OFFICER[1]}
        )
        assert wrong_role.status_code == 401
        assert "set-cookie" not in wrong_role.headers
        other = await client.post(
            "/audit/login",
            data={"naam": COORDINATOR_LOGIN[0], "wachtwoord": COORDINATOR_LOGIN[1]},
        )
        assert other.status_code == 401
    officer_token = sessions.issue(OFFICER[0])
    async with door.client(None, cookies={keten_pages.COOKIE: officer_token}) as client:
        response = await client.get("/keten")
        assert response.status_code == 303
        assert response.headers["location"] == "/keten/login"
    coordinator_token = sessions.issue(COORDINATOR_LOGIN[0], rol=COORDINATOR)
    async with door.client(None, cookies={AUDIT_COOKIE: coordinator_token}) as client:
        response = await client.get("/audit")
        assert response.status_code == 303
        assert response.headers["location"] == "/audit/login"


@broker
async def test_a_partner_certificate_never_opens_the_chain_page(door: Door) -> None:
    async with door.client("politie") as client:
        assert (await client.get("/keten")).status_code == 403
        assert (await client.get("/keten/login")).status_code == 403
    denied = [
        p
        for p in records(door)
        if p.get("gebeurtenis") == "toegang-geweigerd"
        and p.get("status") == "partnercertificaat-bij-keten"
    ]
    assert len(denied) == 2


def test_a_login_role_is_stored_and_checked(tmp_path: Any) -> None:
    officers = Officers(tmp_path / "officers.json")
    officers.add("coord", "twelve chars at least", COORDINATOR)
    officers.add("fg", "twelve chars at least")
    assert officers.roles() == {"coord": COORDINATOR, "fg": "privacy-officer"}
    assert officers.check("coord", "twelve chars at least") is None  # not a privacy officer
    assert officers.check("coord", "twelve chars at least", COORDINATOR) == "coord"
    with pytest.raises(ValueError, match="login role"):
        officers.add("x", "twelve chars at least", "veilig-thuis")
