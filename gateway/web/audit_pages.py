"""The privacy officer's pages at ``/audit`` (server-rendered with Jinja2).

Officers log in with name and password (``ketenpoort officer add``); a partner certificate
never opens these pages (403, audited). Every page view is itself an audit record; a view
about one person is recorded under that person's pseudonym, so it shows up in their own
inzage. A BSN is typed into a POST form, pseudonymised at once and never put in a URL or a
log: the person's pages are addressed by pseudonym.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.audit.inzage import Inzageoverzicht, fold, lokale_tijd, write_csv
from gateway.domain.bsn import elfproef
from gateway.domain.model import KETENPOORT
from gateway.runtime import app as core
from gateway.runtime import audit_access
from gateway.runtime.officers import PRIVACY
from gateway.web.callers import parts_of
from gateway.web.pages import LoginArea

__all__ = [
    "AREA",
    "BERICHT_ID",
    "COOKIE",
    "PSEUDONYM",
    "index",
    "login",
    "login_form",
    "logout",
    "message_journey",
    "officer",
    "person",
    "person_csv",
    "person_print",
    "router",
    "search",
    "search_bsn",
    "search_naam",
    "verify_now",
]

COOKIE = "kp_sessie"
PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")  # gateway.audit.log.Pseudonymiser: 128 bits, hex
BERICHT_ID = re.compile(r"^[0-9a-fA-F\-]{36}$")

router = APIRouter(prefix="/audit", include_in_schema=False)
AREA = LoginArea(
    pad="/audit",
    rol=PRIVACY,
    cookie=COOKIE,
    login_template="login.html",
    gebruiker="officer",
    partner_weigering="partnercertificaat-bij-audit",
    partner_melding="the audit pages are for privacy officers, not partner systems",
    ingelogd="officer_ingelogd",
    bekeken="audit_pagina_bekeken",
)


async def officer(request: Request) -> str | None:
    """The logged-in officer, or None."""
    return await AREA.wie(request)


def _partner_names(parts: core.Parts) -> dict[str, str]:
    """OIN -> "naam (rol)" of every name the inzage knows (:func:`audit_access.partner_namen`:
    the partners and the gateway, the sender of its signals)."""
    partners = parts.policy.partners
    return {
        oin: f"{naam} ({partners[oin].rol if oin in partners else KETENPOORT})"
        for oin, naam in audit_access.partner_namen(
            parts.policy, parts.settings.gateway_oin
        ).items()
    }


# --------------------------------------------------------------------------- login


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    await AREA.refuse_partner(request)
    return AREA.page(request, "login.html", None, fout=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    naam: Annotated[str, Form(max_length=64)],
    wachtwoord: Annotated[str, Form(max_length=256)],
) -> Response:
    return await AREA.login(request, naam, wachtwoord)


@router.post("/logout")
async def logout(request: Request) -> Response:
    return AREA.logout()


# --------------------------------------------------------------------------- pages


@router.get("", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    parts = parts_of(request)
    await AREA.viewed(request, naam, "overzicht")
    checkpoints = await parts.audit.checkpoints()
    latest: dict[str, Any] = {}
    for cp in checkpoints:
        if cp.log not in latest or cp.size > latest[cp.log].size:
            latest[cp.log] = cp
    return AREA.page(
        request,
        "index.html",
        naam,
        partners=_partner_names(parts),
        checkpoints=sorted(latest.values(), key=lambda c: c.log),
        fout=None,
    )


@router.post("/zoek", response_class=HTMLResponse)
async def search_bsn(request: Request, bsn: Annotated[str, Form(max_length=32)]) -> Response:
    """A BSN arrives in the body only; it leaves as a pseudonym."""
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    parts = parts_of(request)
    bsn = bsn.strip()
    if not (len(bsn) == 9 and bsn.isdigit() and elfproef(bsn)):
        await AREA.viewed(request, naam, "zoeken (ongeldig BSN)")
        return _search_page(request, naam, "Dat is geen geldig BSN (9 cijfers, elfproef).", 422)
    return RedirectResponse(f"/audit/persoon/{parts.trail.pseudonymise(bsn)}", status_code=303)


@router.post("/zoek-naam", response_class=HTMLResponse)
async def search_naam(
    request: Request,
    naam_betrokkene: Annotated[str, Form(alias="naam", max_length=200)],
    geboortedatum: Annotated[str, Form(max_length=10)],
) -> Response:
    """A person without a BSN (spec v2 §8), by name and birth date: a keyed lookup, the name
    arrives in the body only and leaves as a search key. One person found: their page;
    several (one per sender that reported them): a list; nobody: said so."""
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    parts = parts_of(request)
    try:
        geboren = dt.date.fromisoformat(geboortedatum.strip())
    except ValueError:
        geboren = None
    if geboren is None or not naam_betrokkene.strip():
        fout = "Geef een naam en een geboortedatum (JJJJ-MM-DD)."
        gevonden: list[str] = []
    else:
        gevonden = await parts.audit.find(parts.trail.zoeksleutel(naam_betrokkene, geboren))
        fout = "" if gevonden else "Niemand zonder BSN gevonden met die naam en geboortedatum."
    if len(gevonden) == 1:
        return RedirectResponse(f"/audit/persoon/{gevonden[0]}", status_code=303)
    await AREA.viewed(request, naam, f"zoeken op naam en geboortedatum ({len(gevonden)} gevonden)")
    status = 200 if gevonden else 404 if geboren is not None else 422
    return _search_page(request, naam, fout or None, status, gevonden=gevonden)


def _search_page(
    request: Request, naam: str, fout: str | None, status: int, **context: Any
) -> Response:
    """The search page again, with what went wrong (``fout``) or what was found."""
    response = AREA.page(
        request,
        "index.html",
        naam,
        partners=_partner_names(parts_of(request)),
        checkpoints=[],
        fout=fout,
        **context,
    )
    response.status_code = status
    return response


@router.get("/zoek", response_class=HTMLResponse)
async def search(
    request: Request,
    bericht_id: str | None = None,
    partner: str | None = None,
    van: str | None = None,
    tot: str | None = None,
) -> Response:
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    parts = parts_of(request)
    if bericht_id:
        if not BERICHT_ID.match(bericht_id.strip()):
            raise HTTPException(422, "a BerichtId is a UUID")
        return RedirectResponse(f"/audit/bericht/{bericht_id.strip().lower()}", status_code=303)
    try:
        start = dt.datetime.fromisoformat(van).replace(tzinfo=dt.UTC) if van else None
        end = (
            dt.datetime.fromisoformat(tot).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
            if tot
            else None
        )
    except ValueError as exc:
        raise HTTPException(422, "van and tot are dates (YYYY-MM-DD)") from exc
    partners = _partner_names(parts)  # the partners and the gateway, as the form lists them
    if partner and partner not in partners:
        raise HTTPException(422, "unknown partner")
    await AREA.viewed(
        request, naam, f"zoeken partner={partner or '-'} van={van or '-'} tot={tot or '-'}"
    )
    records = await parts.audit.search(partner=partner or None, van=start, tot=end, limit=500)
    return AREA.page(
        request,
        "zoek.html",
        naam,
        rows=[audit_access.inzage_row(r) for r in records],
        partner=partner,
        van=van,
        tot=tot,
        partners=partners,
    )


async def _history(request: Request, pseudonym: str, naam: str, pagina: str) -> Inzageoverzicht:
    """One person's inzage (:func:`fold`), the view recorded first under their pseudonym."""
    if not PSEUDONYM.match(pseudonym):
        raise HTTPException(404, "no such person page")
    await AREA.viewed(request, naam, pagina, betrokkene=pseudonym)
    parts = parts_of(request)
    records = await parts.audit.history(pseudonym)
    return fold(records, audit_access.partner_namen(parts.policy, parts.settings.gateway_oin))


@router.get("/persoon/{pseudonym}", response_class=HTMLResponse)
async def person(request: Request, pseudonym: str) -> Response:
    return await _person_page(request, pseudonym, "persoon.html", "tijdlijn van een betrokkene")


@router.get("/persoon/{pseudonym}/afdruk", response_class=HTMLResponse)
async def person_print(request: Request, pseudonym: str) -> Response:
    return await _person_page(
        request,
        pseudonym,
        "afdruk.html",
        "inzagerapport (afdruk)",
        gemaakt=lokale_tijd(dt.datetime.now(dt.UTC)),
    )


async def _person_page(
    request: Request, pseudonym: str, template: str, pagina: str, **extra: Any
) -> Response:
    """One person's disclosures on a page (every view audited, under the person's pseudonym)."""
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    overzicht = await _history(request, pseudonym, naam, pagina)
    return AREA.page(request, template, naam, inzage=overzicht, pseudonym=pseudonym, **extra)


@router.get("/persoon/{pseudonym}/inzage.csv")
async def person_csv(request: Request, pseudonym: str) -> Response:
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    overzicht = await _history(request, pseudonym, naam, "inzagerapport (CSV)")
    out = io.StringIO()
    write_csv(overzicht, out)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="inzage-{pseudonym[:12]}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/bericht/{bericht_id}", response_class=HTMLResponse)
async def message_journey(request: Request, bericht_id: str) -> Response:
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    if not BERICHT_ID.match(bericht_id):
        raise HTTPException(404, "no such message")
    await AREA.viewed(request, naam, "reis van een bericht", bericht_id=bericht_id)
    records = await parts_of(request).audit.journey(bericht_id.lower())
    return AREA.page(
        request,
        "bericht.html",
        naam,
        rows=[audit_access.inzage_row(r) for r in records],
        bericht_id=bericht_id,
        partners=_partner_names(parts_of(request)),
    )


@router.get("/verifieer", response_class=HTMLResponse)
async def verify_now(request: Request) -> Response:
    naam = await officer(request)
    if naam is None:
        return AREA.login_redirect()
    parts = parts_of(request)
    await AREA.viewed(request, naam, "verificatie")
    settings = parts.settings
    outcome, unsigned = await asyncio.to_thread(
        lambda: asyncio.run(audit_access.audit_verify_store(settings))
    )
    return AREA.page(
        request,
        "verifieer.html",
        naam,
        sound=outcome.sound,
        problem=outcome.problem,
        logs=outcome.logs,
        checkpoints=outcome.checkpoints,
        unsigned=unsigned,
        trusted=outcome.trusted,
    )
