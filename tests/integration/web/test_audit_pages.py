"""The privacy officer's audit pages (``/audit``) over real TLS, and ``gateway.runtime.officers``.

Officers log in with name and password; a partner certificate never opens these pages (403,
audited); a BSN is typed into a POST form and leaves as a pseudonym (never in a URL, a
redirect, a page or a log); every page view is itself an audit record, under the person's
pseudonym when it is about one person, so it shows up in that person's own inzage.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.audit.inzage import INZAGE_COLUMNS
from gateway.domain.errors import Misconfigured
from gateway.runtime import audit_access
from gateway.runtime import officers as officers_module
from gateway.runtime.officers import Officers, Sessions
from gateway.store.database import Database
from gateway.web.audit_pages import COOKIE
from tests.support.broker import OINS
from tests.support.door import OFFICER, Door
from tests.support.messages import fresh
from tests.support.waiting import eventually

broker = pytest.mark.broker

BSN = "999990019"  # the victim in politie/VtMelding.xml (and in the other examples below)
XML = {"content-type": "application/xml"}
PSEUDONYM_URL = re.compile(r"^/audit/persoon/([0-9a-f]{32})$")
# (sender, example): each names BSN 999990019
EXAMPLES = (
    ("politie", "politie/VtMelding.xml"),  # -> Veilig Thuis Twente
    ("politie", "politie/ZsmAanmelding.xml"),  # -> OM, Veilig Thuis Twente, Reclassering
    ("vt-twente", "veilig-thuis/Veiligheidsbeoordeling.xml"),  # -> OM
)


# --------------------------------------------------------------------------- helpers


async def send_examples(door: Door, example_bytes: Callable[[str], bytes]) -> list[str]:
    """The example messages sent over the HTTPS API; their BerichtIds."""
    sent = []
    for sender, example in EXAMPLES:
        bericht_id = str(uuid.uuid4())
        async with door.client(sender) as client:
            response = await client.post(
                "/v1/berichten",
                content=fresh(example_bytes(example), bericht_id=bericht_id),
                headers=XML,
            )
        assert response.status_code == 202, response.text
        sent.append(bericht_id)
    return sent


@contextlib.asynccontextmanager
async def officer(door: Door) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTPS client without a certificate, logged in through the form."""
    async with door.client(None) as client:
        response = await client.post(
            "/audit/login", data={"naam": OFFICER[0], "wachtwoord": OFFICER[1]}
        )
        assert response.status_code == 303, response.text
        assert client.cookies.get(COOKIE)
        yield client


def officer_token(door: Door) -> str:
    """A valid session token of the officer (as the login would set it)."""
    sessions: Sessions = door.asgi.state.sessions
    return sessions.issue(OFFICER[0])


def records(door: Door) -> list[tuple[dict[str, Any], str | None]]:
    """Every audit record: (public part, betrokkene column)."""
    db = Database(door.running.settings.audit_dsn)
    try:
        rows = db.run_sync(
            lambda ex: ex(
                "SELECT public, betrokkene FROM audit_record ORDER BY log, seq"
            ).fetchall()
        )
    finally:
        db.close()
    return [(json.loads(public), betrokkene) for public, betrokkene in rows]


def views(door: Door) -> list[tuple[dict[str, Any], str | None]]:
    """The page views recorded (gebeurtenis inzage, status bekeken)."""
    return [
        (p, b)
        for p, b in records(door)
        if p.get("gebeurtenis") == "inzage" and p.get("status") == "bekeken"
    ]


def denied(door: Door, status: str) -> list[dict[str, Any]]:
    return [
        p
        for p, _ in records(door)
        if p.get("gebeurtenis") == "toegang-geweigerd" and p.get("status") == status
    ]


def rows_of(html: str) -> int:
    return len(re.findall(r'<tr class="rij"[ >]', html))


def disclosures(html: str) -> list[dict[str, str]]:
    """The lines of the disclosures table, each cell's text by its class."""
    found = []
    for row in re.findall(r'<tr class="verstrekking">(.*?)</tr>', html, re.S):
        cells = re.findall(r'<td class="([a-z-]+)(?: noprint)?">(.*?)</td>', row, re.S)
        found.append(
            {name: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for name, text in cells}
        )
    return found


def assert_no_bsn(response: httpx.Response, bsn: str = BSN) -> None:
    """The BSN is nowhere in what came back: URL, headers (Location), body."""
    assert bsn not in str(response.url)
    for name, value in response.headers.items():
        assert bsn not in value, name
    assert bsn not in response.text


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


# --------------------------------------------------------------------------- login


@broker
async def test_the_login_page_renders_without_a_session(door: Door) -> None:
    async with door.client(None) as client:
        response = await client.get("/audit/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'action="/audit/login"' in response.text
    assert 'name="naam"' in response.text
    assert 'name="wachtwoord"' in response.text
    assert 'type="password"' in response.text
    assert "ingelogd als" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert views(door) == []  # no officer yet: nothing viewed


@broker
async def test_a_wrong_password_or_unknown_name_is_401_and_audited(door: Door) -> None:
    async with door.client(None) as client:
        wrong = await client.post(
            "/audit/login", data={"naam": OFFICER[0], "wachtwoord": "not the password at all"}
        )
        unknown = await client.post(
            "/audit/login", data={"naam": "niemand", "wachtwoord": OFFICER[1]}
        )
        for response in (wrong, unknown):
            assert response.status_code == 401
            assert "Onbekende naam of onjuist wachtwoord." in response.text
            assert "set-cookie" not in response.headers
        assert not client.cookies
        assert (await client.get("/audit")).status_code == 303  # still not logged in
    refused = denied(door, "login-mislukt")
    assert len(refused) == 2
    assert all(p["extra"]["route"] == "/audit/login" for p in refused)
    # neither password is in the trail
    everything = json.dumps([p for p, _ in records(door)])
    assert "not the password at all" not in everything
    assert OFFICER[1] not in everything


@broker
async def test_login_sets_an_httponly_secure_samesite_strict_cookie(door: Door) -> None:
    async with door.client(None) as client:
        response = await client.post(
            "/audit/login", data={"naam": OFFICER[0].upper(), "wachtwoord": OFFICER[1]}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/audit"
        cookie = response.headers["set-cookie"]
        attributes = {
            part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")
        }
        assert cookie.startswith(f"{COOKIE}=")
        assert "httponly" in attributes
        assert "secure" in attributes
        assert attributes["samesite"].lower() == "samesite=strict"
        assert attributes["path"] == "Path=/audit"
        assert attributes["max-age"] == f"Max-Age={door.running.settings.session_minutes * 60}"
        token = cookie.split(";")[0].split("=", 1)[1]
        assert door.asgi.state.sessions.read(token) == OFFICER[0]

        page = await client.get("/audit")
        assert page.status_code == 200
        assert f'<strong id="officer">{OFFICER[0]}</strong>' in page.text

        out = await client.post("/audit/logout")
        assert out.status_code == 303
        assert out.headers["location"] == "/audit/login"
        assert (
            "Max-Age=0" in out.headers["set-cookie"]
            or "expires=" in out.headers["set-cookie"].lower()
        )
        assert (await client.get("/audit")).status_code == 303


# --------------------------------------------------------------------------- no (valid) session


@broker
async def test_without_a_session_every_page_redirects_to_the_login(door: Door) -> None:
    pseudonym = door.parts.trail.pseudonymise(BSN)
    async with door.client(None) as client:
        for method, path, data in (
            ("GET", "/audit", None),
            ("GET", "/audit/verifieer", None),
            ("GET", f"/audit/zoek?partner={OINS['politie']}", None),
            ("GET", f"/audit/zoek?bericht_id={uuid.uuid4()}", None),
            ("POST", "/audit/zoek", {"bsn": BSN}),
            ("GET", f"/audit/persoon/{pseudonym}", None),
            ("GET", f"/audit/persoon/{pseudonym}/afdruk", None),
            ("GET", f"/audit/persoon/{pseudonym}/inzage.csv", None),
            ("GET", f"/audit/bericht/{uuid.uuid4()}", None),
        ):
            response = await client.request(method, path, data=data)
            assert response.status_code == 303, (method, path)
            assert response.headers["location"] == "/audit/login", (method, path)
            assert_no_bsn(response)
    assert views(door) == []


def forged_tokens(door: Door) -> dict[str, str]:
    """Session tokens that must not open a page."""
    sessions: Sessions = door.asgi.state.sessions
    valid = sessions.issue(OFFICER[0])
    payload, mac = valid.split(".")
    other_secret = Sessions(b"not the deployment secret", 30)
    admin = (
        base64.urlsafe_b64encode(
            json.dumps({"naam": "admin", "tot": int(time.time()) + 3600}).encode()
        )
        .decode()
        .rstrip("=")
    )
    return {
        "signed with another secret": other_secret.issue(OFFICER[0]),
        "expired": sessions.issue(OFFICER[0], now=time.time() - sessions.seconds - 5),
        "payload swapped, mac kept": f"{admin}.{mac}",
        "mac altered": f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",
        "no mac": payload,
        "empty": "",
        "garbage": "a.b.c",
    }


@broker
async def test_a_forged_tampered_or_expired_cookie_is_refused(door: Door) -> None:
    for why, token in forged_tokens(door).items():
        async with door.client(None) as client:
            response = await client.get("/audit", headers={"cookie": f"{COOKIE}={token}"})
        assert response.status_code == 303, why
        assert response.headers["location"] == "/audit/login", why
    async with door.client(None) as client:  # the same request with a valid token: the page
        response = await client.get("/audit", headers={"cookie": f"{COOKIE}={officer_token(door)}"})
    assert response.status_code == 200
    assert len(views(door)) == 1


# --------------------------------------------------------------------------- partners


@broker
async def test_a_partner_certificate_never_opens_the_audit_pages(door: Door) -> None:
    """Not even with a valid officer session cookie, nor with the officer's password."""
    cookie = {"cookie": f"{COOKIE}={officer_token(door)}"}
    pseudonym = door.parts.trail.pseudonymise(BSN)
    async with door.client("politie") as politie:
        for method, path, data in (
            ("GET", "/audit", None),
            ("GET", "/audit/login", None),
            ("POST", "/audit/login", {"naam": OFFICER[0], "wachtwoord": OFFICER[1]}),
            ("GET", f"/audit/persoon/{pseudonym}", None),
            ("GET", f"/audit/persoon/{pseudonym}/inzage.csv", None),
            ("POST", "/audit/zoek", {"bsn": BSN}),
            ("GET", "/audit/verifieer", None),
        ):
            response = await politie.request(method, path, data=data, headers=cookie)
            assert response.status_code == 403, (method, path)
            assert "set-cookie" not in response.headers
            assert response.headers["content-type"].startswith("application/xml")
            assert b"<kp:Code>TOEGANG_GEWEIGERD</kp:Code>" in response.content
            assert b"privacy officers" in response.content
    assert views(door) == []
    refused = denied(door, "partnercertificaat-bij-audit")
    assert len(refused) == 7
    assert {p["afzender"]["oin"] for p in refused} == {OINS["politie"]}
    assert {p["extra"]["route"] for p in refused} >= {
        "/audit",
        "/audit/login",
        f"/audit/persoon/{pseudonym}",
    }
    # a certificate of an OIN outside the register is no better
    async with door.client("onbekend") as stranger:
        response = await stranger.get("/audit", headers=cookie)
    assert response.status_code == 403
    assert len(denied(door, "partnercertificaat-bij-audit")) == 8


# --------------------------------------------------------------------------- a person


@broker
async def test_a_bsn_leads_to_the_persons_timeline_by_pseudonym_only(
    door: Door, example_bytes: Callable[[str], bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    vt_melding, _, _ = await send_examples(door, example_bytes)
    pseudonym = door.parts.trail.pseudonymise(BSN)
    async with officer(door) as client:
        found = await client.post("/audit/zoek", data={"bsn": f" {BSN} "})
        assert found.status_code == 303
        location = found.headers["location"]
        match = PSEUDONYM_URL.match(location)
        assert match is not None, location
        assert match.group(1) == pseudonym
        assert_no_bsn(found)

        # VT confirms the VtMelding it received; nobody else confirms
        async def in_vt_inbox() -> bool:
            async with door.client("vt-twente") as inbox:
                listed = (await inbox.get("/v1/berichten", params={"limit": 100})).json()
            return any(m["id"] == vt_melding for m in listed["berichten"])

        await eventually(in_vt_inbox, "the VtMelding in VT's inbox")
        async with door.client("vt-twente") as recipient:
            confirmed = await recipient.post(f"/v1/berichten/{vt_melding}/afleverbevestiging")
        assert confirmed.status_code == 200, confirmed.text

        page = await client.get(location)
        assert page.status_code == 200
        assert_no_bsn(page)
        html = page.text
        assert pseudonym in html
        # one line per delivered copy: who received what, when, why, on which legal ground
        history = await door.parts.audit.history(pseudonym)
        afgeleverd = [r for r in history if r.public["gebeurtenis"] == "afgeleverd"]
        assert len(afgeleverd) == 5
        lines = disclosures(html)
        assert len(lines) == 5  # not ontvangen, gerouteerd, gefilterd and afgeleverd each
        vt_line = next(line for line in lines if line["berichttype"] == "VtMelding")
        assert vt_line["ontvanger"].startswith("Veilig Thuis Twente (veilig-thuis)")
        assert OINS["vt-twente"] in vt_line["ontvanger"]
        assert vt_line["afzender"] == "Nationale Politie (politie)"
        assert vt_line["doel"] == "VEILIGHEIDSBEOORDELING"
        assert vt_line["grondslag"] == "WPG-ART-18-BPG-4.3"  # the politie's own (v2 §4)
        assert vt_line["bevestigd"].startswith("ja , 20")
        assert vt_line["bevestigd"].endswith(("CET", "CEST"))  # Dutch time
        assert vt_line["tijd"].endswith(("CET", "CEST"))
        zsm_vt = next(
            line
            for line in lines
            if line["berichttype"] == "ZsmAanmelding" and "Veilig Thuis" in line["ontvanger"]
        )
        assert zsm_vt["achtergehouden"] == "gezondheid"
        assert zsm_vt["vrije-tekst"] == "incident.letsel — niet toegekend: gezondheid"
        assert zsm_vt["bevestigd"] == "nee"
        assert "gezondheid" not in zsm_vt["gegeven"].split()
        beoordeling = next(
            line for line in lines if line["berichttype"] == "Veiligheidsbeoordeling"
        )
        assert "kernvragen.wat_is_er_bekend" in beoordeling["vrije-tekst"]
        assert beoordeling["beroepsgeheim"] == beoordeling["afscherming"] == ""
        # the event detail one click away: the message's journey, at the afgeleverd record
        vt_record = next(r for r in afgeleverd if r.public["bericht_id"] == vt_melding)
        anchor = f"r-{vt_record.log}-{vt_record.seq}"
        assert f'href="/audit/bericht/{vt_melding}#{anchor}"' in html
        journey = await client.get(f"/audit/bericht/{vt_melding}")
        assert f'id="{anchor}"' in journey.text
        # who looked: this view, recorded before reading
        assert 'id="raadplegingen"' in html
        assert html.count('<tr class="raadpleging">') == 1
        assert f'href="/audit/persoon/{pseudonym}/inzage.csv"' in html
        assert f'href="/audit/persoon/{pseudonym}/afdruk"' in html

        printable = await client.get(f"/audit/persoon/{pseudonym}/afdruk")
        assert printable.status_code == 200
        assert_no_bsn(printable)
        assert "Inzagerapport (art. 15 AVG)" in printable.text
        assert f"door {OFFICER[0]}" in printable.text
        assert disclosures(printable.text) == lines
        assert "window.print()" in printable.text
        assert printable.text.count('<tr class="raadpleging">') == 2  # plus its own view

        exported = await client.get(f"/audit/persoon/{pseudonym}/inzage.csv")
        assert exported.status_code == 200
        assert_no_bsn(exported)
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.headers["cache-control"] == "no-store"
        assert (
            exported.headers["content-disposition"]
            == f'attachment; filename="inzage-{pseudonym[:12]}.csv"'
        )
        assert exported.text.splitlines()[0] == ",".join(INZAGE_COLUMNS)
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        delivered = [r for r in rows if r["soort"] == "verstrekking"]
        assert [(r["log"], int(r["seq"])) for r in delivered] == [
            (r.log, r.seq) for r in afgeleverd
        ]
        assert {r["ontvanger"] for r in delivered} == {
            OINS["vt-twente"],
            OINS["om"],
            OINS["reclassering"],
        }
        vt = next(r for r in delivered if r["berichttype"] == "VtMelding")
        assert vt["ontvanger"] == OINS["vt-twente"]
        assert vt["ontvanger_naam"] == "Veilig Thuis Twente"
        assert vt["ontvanger_rol"] == "veilig-thuis"
        assert vt["afzender"] == OINS["politie"]
        assert vt["doel"] == "VEILIGHEIDSBEOORDELING"
        assert vt["grondslag"] == "WPG-ART-18-BPG-4.3"
        assert "identificatie" in vt["gegeven"].split()
        assert vt["bevestigd"][-6:] in ("+01:00", "+02:00")
        assert [r["lezer"] for r in rows if r["soort"] == "raadpleging"] == [OFFICER[0]] * 3

    # the BSN is nowhere in the trail or the logs: only its pseudonym
    assert BSN not in json.dumps(records(door))
    captured = capsys.readouterr()
    assert BSN not in captured.out
    assert BSN not in captured.err


@broker
async def test_an_invalid_bsn_is_422_with_a_message(door: Door) -> None:
    async with officer(door) as client:
        for bsn in ("123456789", "999990018", "12345", "abcdefghi", "000000000"):
            response = await client.post("/audit/zoek", data={"bsn": bsn})
            assert response.status_code == 422, bsn
            assert "Dat is geen geldig BSN (9 cijfers, elfproef)." in response.text
            assert 'id="fout"' in response.text
            if bsn != "000000000":  # (a substring of every OIN on the page)
                assert_no_bsn(response, bsn)  # what was typed is not echoed
    assert [p["extra"]["pagina"] for p, _ in views(door)] == ["zoeken (ongeldig BSN)"] * 5
    assert all(b is None for _, b in views(door))  # no person: no pseudonym either


async def _send(door: Door, sender: str, raw: bytes) -> None:
    async with door.client(sender) as client:
        response = await client.post("/v1/berichten", content=fresh(raw), headers=XML)
    assert response.status_code == 202, response.text


@broker
async def test_a_person_without_a_bsn_is_found_by_name_and_birth_date(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    """Spec v2 §8: Anna has no BSN in VT's system nor in the politie's; each reports her under
    its own persoonsnummer, so she is two pseudonyms, both found by her name and birth date."""
    await _send(door, "vt-twente", example_bytes("veilig-thuis/Veiligheidsafspraken.xml"))
    zsm = example_bytes("politie/ZsmAanmelding.xml").replace(
        b"<pol:BSN>999990019</pol:BSN>", b"<pol:Persoonsnummer>POL-7</pol:Persoonsnummer>", 1
    )
    async with officer(door) as client:
        one = await client.post(
            "/audit/zoek-naam", data={"naam": "ANNA jansen", "geboortedatum": "1988-04-02"}
        )
        assert one.status_code == 303
        vt_nummer = f"persoonsnummer|{OINS['vt-twente']}|VTT-P-2026-0417"
        bij_vt = door.parts.trail.pseudonymise(vt_nummer)
        assert one.headers["location"] == f"/audit/persoon/{bij_vt}"

        await _send(door, "politie", zsm)
        both = await client.post(
            "/audit/zoek-naam", data={"naam": "Anna Jansen", "geboortedatum": "1988-04-02"}
        )
        assert both.status_code == 200
        bij_politie = door.parts.trail.pseudonymise(f"persoonsnummer|{OINS['politie']}|POL-7")
        found = re.findall(r'href="/audit/persoon/([0-9a-f]{32})"', both.text)
        assert sorted(found) == sorted([bij_vt, bij_politie])
        assert "Anna" not in both.text  # what was typed is not echoed

        nobody = await client.post(
            "/audit/zoek-naam", data={"naam": "Anna Jansen", "geboortedatum": "1988-04-03"}
        )
        assert nobody.status_code == 404
        assert "Niemand zonder BSN gevonden met die naam en geboortedatum." in nobody.text
        bad = await client.post(
            "/audit/zoek-naam", data={"naam": "Anna Jansen", "geboortedatum": "2 april"}
        )
        assert bad.status_code == 422
        assert "Geef een naam en een geboortedatum (JJJJ-MM-DD)." in bad.text
    assert [p["extra"]["pagina"] for p, _ in views(door)] == [
        "zoeken op naam en geboortedatum (2 gevonden)",
        "zoeken op naam en geboortedatum (0 gevonden)",
        "zoeken op naam en geboortedatum (0 gevonden)",
    ]
    assert "Anna" not in json.dumps(records(door))


@broker
async def test_a_message_journey_and_the_partner_and_period_search(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    vt_melding, zsm, _ = await send_examples(door, example_bytes)
    async with officer(door) as client:
        found = await client.get("/audit/zoek", params={"bericht_id": zsm.upper()})
        assert found.status_code == 303
        assert found.headers["location"] == f"/audit/bericht/{zsm}"
        journey = await client.get(found.headers["location"])
        assert journey.status_code == 200
        assert f"Reis van bericht <code>{zsm}</code>" in journey.text
        steps = re.findall(
            r'<tr class="rij"[^>]*>\s*<td>[^<]*</td>\s*<td>([a-z-]+)</td>', journey.text
        )
        recorded = await door.parts.audit.journey(zsm)
        assert steps == [r.public["gebeurtenis"] for r in recorded]
        assert steps[0] == "ontvangen"
        times = re.findall(r'<tr class="rij"[^>]*>\s*<td>([^<]*)</td>', journey.text)
        assert times
        assert all(t.endswith((" CET", " CEST")) for t in times), times  # Dutch local time
        assert steps[-1] == "inzage"  # this very view, recorded under the BerichtId
        assert {
            r.public["ontvanger"]["oin"]
            for r in recorded
            if r.public["gebeurtenis"] == "afgeleverd"
        } == {OINS["om"], OINS["vt-twente"], OINS["reclassering"]}
        for name in ("Openbaar Ministerie (ZSM)", "Veilig Thuis Twente", "Reclassering"):
            assert name in journey.text
        assert "ZsmAanmelding" in journey.text
        assert vt_melding not in journey.text

        bad = await client.get("/audit/zoek", params={"bericht_id": "geen-uuid"})
        assert bad.status_code == 422

        # partner and period: today, Veilig Thuis Twente took part in all three messages
        mine = await client.get(
            "/audit/zoek", params={"partner": OINS["vt-twente"], "van": today(), "tot": today()}
        )
        assert mine.status_code == 200
        assert "Vermeldingen met Veilig Thuis Twente (veilig-thuis)" in mine.text
        assert rows_of(mine.text) > 0
        for bericht_id in (vt_melding, zsm):
            assert f"/audit/bericht/{bericht_id}" in mine.text
        # Veilig Thuis Rotterdam-Rijnmond took part in none of them
        rijnmond = await client.get("/audit/zoek", params={"partner": OINS["vt-rijnmond"]})
        assert rijnmond.status_code == 200
        assert rows_of(rijnmond.text) == 0
        assert "Geen vermeldingen." in rijnmond.text
        # the gateway is named too (it sends the AfsprakenSignalen), not shown as a bare OIN,
        # and the partner the search form offers for it can be searched
        gateway_oin = door.parts.settings.gateway_oin
        form = await client.get("/audit")
        assert f'<option value="{gateway_oin}">Ketenpoort (ketenpoort)</option>' in form.text
        eigen = await client.get("/audit/zoek", params={"partner": gateway_oin})
        assert eigen.status_code == 200
        assert "Vermeldingen met Ketenpoort (ketenpoort)" in eigen.text
        # a period before any of it: nothing
        past = await client.get("/audit/zoek", params={"van": "2000-01-01", "tot": "2000-01-31"})
        assert past.status_code == 200
        assert rows_of(past.text) == 0
        # no filter: everything today (the views of this test included)
        everything = await client.get("/audit/zoek", params={"van": today()})
        assert rows_of(everything.text) > rows_of(mine.text)

        assert (await client.get("/audit/zoek", params={"partner": "123"})).status_code == 422
        assert (await client.get("/audit/zoek", params={"van": "gisteren"})).status_code == 422


@broker
async def test_verify_now_says_in_orde(door: Door, example_bytes: Callable[[str], bytes]) -> None:
    await send_examples(door, example_bytes)
    await door.parts.audit.checkpoint()  # signed, so there is something to verify
    async with officer(door) as client:
        response = await client.get("/audit/verifieer")
        overview = await client.get("/audit")
    assert response.status_code == 200
    assert '<p class="ok" id="uitkomst">In orde:' in response.text
    assert "alleen interne samenhang" in response.text  # no pinned keys in this test
    assert "NIET in orde" not in response.text
    assert f"<td>{door.parts.audit.log_id}</td>" in response.text
    # the overview lists the latest signed checkpoint of the log
    assert overview.status_code == 200
    assert 'id="checkpoints"' in overview.text
    assert "Nog geen checkpoint." not in overview.text


# --------------------------------------------------------------------------- views audited


@broker
async def test_every_page_view_is_an_audit_record_person_views_under_the_pseudonym(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    vt_melding, _, _ = await send_examples(door, example_bytes)
    pseudonym = door.parts.trail.pseudonymise(BSN)
    other = door.parts.trail.pseudonymise("999990020")  # the suspect: nobody looked at him
    async with officer(door) as client:
        for path, pagina, betrokkene, bericht_id in (
            ("/audit", "overzicht", None, None),
            ("/audit/verifieer", "verificatie", None, None),
            (
                f"/audit/zoek?partner={OINS['om']}",
                f"zoeken partner={OINS['om']} van=- tot=-",
                None,
                None,
            ),
            (f"/audit/persoon/{pseudonym}", "tijdlijn van een betrokkene", pseudonym, None),
            (f"/audit/persoon/{pseudonym}/afdruk", "inzagerapport (afdruk)", pseudonym, None),
            (f"/audit/persoon/{pseudonym}/inzage.csv", "inzagerapport (CSV)", pseudonym, None),
            (f"/audit/bericht/{vt_melding}", "reis van een bericht", None, vt_melding),
        ):
            before = len(views(door))
            response = await client.get(path)
            assert response.status_code == 200, path
            after = views(door)
            assert len(after) == before + 1, path
            public, column = after[-1]
            assert public["extra"] == {"lezer": OFFICER[0], "pagina": pagina}
            assert column == betrokkene, path
            assert public.get("bericht_id") == bericht_id
        # redirects are not views: the page they lead to is
        before = len(views(door))
        assert (await client.post("/audit/zoek", data={"bsn": BSN})).status_code == 303
        assert (
            await client.get("/audit/zoek", params={"bericht_id": vt_melding})
        ).status_code == 303
        assert len(views(door)) == before

    # `ketenpoort audit inzage` for this person shows the officer's three views of them
    overzicht = await audit_access.audit_inzage(door.running.settings, BSN, "functionaris-2")
    assert [(r.lezer, r.wat) for r in overzicht.raadplegingen] == [
        (OFFICER[0], "tijdlijn van een betrokkene"),
        (OFFICER[0], "inzagerapport (afdruk)"),
        (OFFICER[0], "inzagerapport (CSV)"),
        ("functionaris-2", "historie van een betrokkene (BSN, gepseudonimiseerd)"),
    ]
    # ... and not in anyone else's history
    assert not [
        r for r in await door.parts.audit.history(other) if r.public["gebeurtenis"] == "inzage"
    ]


@broker
async def test_no_page_when_the_view_cannot_be_recorded(door: Door) -> None:
    """Fail closed: the audit store refuses writes, so the officer gets 503, not the page."""
    db = Database(door.running.settings.audit_dsn)
    try:
        db.run_sync(
            lambda ex: ex(
                "CREATE TRIGGER kp_test_weg BEFORE INSERT ON audit_record "
                "BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END"
            )
        )
        async with officer(door) as client:
            response = await client.get("/audit")
            assert response.status_code == 503
            db.run_sync(lambda ex: ex("DROP TRIGGER kp_test_weg"))
            assert (await client.get("/audit")).status_code == 200
    finally:
        db.run_sync(lambda ex: ex("DROP TRIGGER IF EXISTS kp_test_weg"))
        db.close()


# ------------------------------------------------------------------ gateway.runtime.officers


def test_officers_are_stored_as_salted_scrypt_hashes(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "officers.json"
    officers = Officers(path)
    assert officers.names() == []
    officers.add("  FG-Officer ", "correct horse battery staple")
    officers.add("tweede@gemeente.nl", "correct horse battery staple")
    assert officers.names() == ["fg-officer", "tweede@gemeente.nl"]
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "correct horse" not in text
    stored = {o["naam"]: o for o in json.loads(text)["officers"]}
    first, second = stored["fg-officer"], stored["tweede@gemeente.nl"]
    salt = base64.b64decode(first["salt"])
    assert len(salt) == 16
    assert first["salt"] != second["salt"]  # the same password, another salt ...
    assert first["scrypt"] != second["scrypt"]  # ... another hash
    assert base64.b64decode(first["scrypt"]) == hashlib.scrypt(
        b"correct horse battery staple", salt=salt, n=2**14, r=8, p=1, dklen=32
    )
    assert officers.check("fg-officer", "correct horse battery staple") == "fg-officer"
    assert officers.check(" FG-OFFICER", "correct horse battery staple") == "fg-officer"


def test_a_wrong_password_or_unknown_name_is_refused_with_the_same_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    officers = Officers(tmp_path / "officers.json")
    officers.add("fg", "correct horse battery staple")
    hashed: list[bytes] = []
    real = officers_module._hash

    def counting(password: str, salt: bytes) -> bytes:
        hashed.append(salt)
        return real(password, salt)

    monkeypatch.setattr(officers_module, "_hash", counting)
    assert officers.check("fg", "correct horse battery stapl") is None
    assert officers.check("fg", "") is None
    assert officers.check("fg", "Correct horse battery staple") is None
    assert officers.check("onbekend", "correct horse battery staple") is None
    assert len(hashed) == 4  # an unknown name costs a hash as well (no timing oracle)
    assert officers.check("fg", "correct horse battery staple") == "fg"


def test_name_and_password_rules(tmp_path: Path) -> None:
    officers = Officers(tmp_path / "officers.json")
    good = "correct horse battery staple"
    for naam in ("", "   ", "met spatie", "fg/officer", "fg;officer", "é", "x" * 65):
        with pytest.raises(ValueError, match="officer name"):
            officers.add(naam, good)
    with pytest.raises(ValueError, match="12 characters"):
        officers.add("fg", "elf tekens!")
    officers.add("x" * 64, good)
    officers.add("a.b-c_d@e", "twaalf teken")
    assert officers.names() == ["a.b-c_d@e", "x" * 64]
    # a new password for an existing officer replaces the old one
    officers.add("a.b-c_d@e", "een ander wachtwoord")
    assert officers.check("a.b-c_d@e", "twaalf teken") is None
    assert officers.check("a.b-c_d@e", "een ander wachtwoord") == "a.b-c_d@e"
    assert officers.remove("A.B-C_D@E") is True
    assert officers.remove("a.b-c_d@e") is False
    assert officers.check("a.b-c_d@e", "een ander wachtwoord") is None
    assert officers.names() == ["x" * 64]


def test_a_broken_officers_file_is_misconfigured(tmp_path: Path) -> None:
    path = tmp_path / "officers.json"
    for content in ("{not json", '{"officers": [{"naam": "fg"}]}', '{"officers": [1]}'):
        path.write_text(content)
        with pytest.raises(Misconfigured, match="officers file"):
            Officers(path).check("fg", "correct horse battery staple")


def test_sessions_round_trip_and_expire(tmp_path: Path) -> None:
    secret_file = tmp_path / "keys" / "sessie.secret"
    secret = Sessions.secret_from_file(secret_file)
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert len(secret) >= 32
    assert Sessions.secret_from_file(secret_file) == secret  # read again, not replaced
    sessions = Sessions(secret, minutes=30)
    now = 1_800_000_000.0
    token = sessions.issue("fg", now=now)
    assert sessions.read(token, now=now) == "fg"
    assert sessions.read(token, now=now + 30 * 60 - 1) == "fg"
    assert sessions.read(token, now=now + 30 * 60) is None  # expired
    assert sessions.read(token, now=now + 86_400) is None
    # another replica with the same secret accepts it; one with another secret does not
    assert Sessions(secret, minutes=5).read(token, now=now) == "fg"
    assert Sessions(b"a different secret", minutes=30).read(token, now=now) is None


def test_forged_and_tampered_session_tokens_are_refused() -> None:
    secret = b"the deployment secret of this test"
    sessions = Sessions(secret, minutes=30)
    now = 1_800_000_000.0
    token = sessions.issue("fg", now=now)
    payload, mac = token.split(".")

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def sign(body: bytes) -> str:
        return encode(hmac.new(secret, body, hashlib.sha256).digest())

    longer = encode(json.dumps({"naam": "fg", "tot": int(now) + 10**9}).encode())
    other = encode(json.dumps({"naam": "admin", "tot": int(now) + 60}).encode())
    garbage = encode(b"not json")
    no_expiry = encode(json.dumps({"naam": "fg"}).encode())
    for forged in (
        None,
        "",
        payload,  # no mac
        f"{payload}.",  # empty mac
        f"{payload}.{mac}.x",
        f"{longer}.{mac}",  # a longer life under the old mac
        f"{other}.{mac}",  # another name under the old mac
        f"{payload}.{sign(b'something else')}",
        f"{payload}.{encode(hashlib.sha256(payload.encode()).digest())}",  # unkeyed hash
        f"{garbage}.{sign(garbage.encode())}",  # correctly signed, but not a session
        f"{no_expiry}.{sign(no_expiry.encode())}",
    ):
        assert sessions.read(forged, now=now) is None, forged
    # the same construction with the right key is accepted: the checks above are the key's
    assert sessions.read(f"{other}.{sign(other.encode())}", now=now) == "admin"
