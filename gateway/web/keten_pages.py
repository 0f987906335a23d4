"""The chain coordinator's page at ``/keten``: did each partner act in time (spec v2 §10).

A chain coordinator logs in under their own login role (``ketenpoort officer add NAAM --rol
ketencoordinator``); a privacy officer's session does not open these pages, nor does a
coordinator's open ``/audit``, and a partner certificate opens neither. The page shows the
norms the gateway follows — open, overdue, met and missed — with BerichtIds, types, partners
and times only: no personal data (the norm store holds none). Nothing here blocks anything.
Every view is an audit record, like the privacy officer's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.audit.inzage import lokale_tijd
from gateway.domain.errors import Transient
from gateway.runtime.officers import COORDINATOR
from gateway.store.normen import NormRij
from gateway.web.callers import parts_of
from gateway.web.pages import LoginArea

__all__ = ["Normstap", "router"]


COOKIE = "kp_keten"
router = APIRouter(prefix="/keten", include_in_schema=False)


@dataclass(frozen=True)
class Normstap:
    """One row of the coordinator's timeline: a partner's step under a norm."""

    rij: NormRij
    status: str  # open | overschreden | op tijd | te laat
    afzender: str  # the sender's name
    partner: str  # the partner whose turn it is (empty: nobody routed can close it)

    @property
    def te_laat(self) -> bool:
        return self.status in ("overschreden", "te laat")


AREA = LoginArea(
    pad="/keten",
    rol=COORDINATOR,
    cookie=COOKIE,
    login_template="keten_login.html",
    gebruiker="coordinator",
    partner_weigering="partnercertificaat-bij-keten",
    partner_melding="the chain pages are for coordinators, not partner systems",
    ingelogd="coordinator_ingelogd",
    bekeken="keten_pagina_bekeken",
)


async def coordinator(request: Request) -> str | None:
    """The logged-in coordinator, or None."""
    return await AREA.wie(request)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    await AREA.refuse_partner(request)
    return AREA.page(request, "keten_login.html", None, fout=None)


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


@router.get("", response_class=HTMLResponse)
async def timeline(
    request: Request,
    dagen: Annotated[int, Query(ge=1, le=366)] = 14,
    partner: Annotated[str | None, Query(pattern=r"^\d{20}$")] = None,
    alleen_te_laat: bool = False,
) -> Response:
    """Every norm opened in the last ``dagen`` days: open, overdue, met, missed; per partner
    the counts."""
    naam = await coordinator(request)
    if naam is None:
        return AREA.login_redirect()
    parts = parts_of(request)
    now = parts.normen.clock()
    await AREA.viewed(request, naam, "keten", dagen=dagen)
    try:
        rijen = await parts.normen.store.recent(now - dt.timedelta(days=dagen))
    except Transient as exc:
        raise HTTPException(503, "the norm store cannot be read now") from exc
    partners = parts.policy.partners

    def naam_van(oin: str) -> str:
        p = partners.get(oin)
        return f"{p.naam} ({p.rol})" if p is not None else oin

    stappen = [
        Normstap(
            rij=r,
            status=r.status(now),
            afzender=naam_van(r.afzender_oin),
            partner=naam_van(r.partner_oin) if r.partner_oin else "",
        )
        for r in rijen
        if partner is None or r.partner_oin == partner
    ]
    telling: Counter[tuple[str, str]] = Counter((s.partner, s.status) for s in stappen)
    per_partner = sorted(
        {
            s.partner: {
                st: telling[(s.partner, st)]
                for st in ("open", "overschreden", "op tijd", "te laat")
            }
            for s in stappen
        }.items()
    )
    if alleen_te_laat:
        stappen = [s for s in stappen if s.te_laat]
    return AREA.page(
        request,
        "keten.html",
        naam,
        stappen=stappen,
        per_partner=per_partner,
        dagen=dagen,
        nu=lokale_tijd(now),
        partners={oin: naam_van(oin) for oin in sorted(partners)},
        gekozen=partner,
        alleen_te_laat=alleen_te_laat,
    )
