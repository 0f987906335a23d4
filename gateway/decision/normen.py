"""The norms an accepted message opens (spec v2 §10) and their deadlines, from the policy's
``normen.yaml`` and the calendar of :mod:`gateway.decision.termijnen`. Pure: the arrival time
is passed in. A deadline is only reported and followed, never enforced."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from gateway.decision.routing import Routering
from gateway.decision.termijnen import (
    TIJDZONE,
    Venster,
    diensttijd_na,
    einde_van_dag,
    ophoudtermijn_einde,
    werkdagen_na,
)
from gateway.domain.model import Bericht, Prioriteit
from gateway.policy.catalogue import Policy
from gateway.policy.fieldpath import resolve, resolve_all, resolve_in
from gateway.policy.files import LEVERING, NormEntry, Termijn, VeldConditie

__all__ = [
    "Normstand",
    "Normtermijn",
    "gesloten_door",
    "gesloten_per_item",
    "normen_bij",
    "stand",
    "termijn_vanaf",
]


@dataclass(frozen=True)
class Normtermijn:
    """One step under a norm opened by a message: its name, its deadline, the partner (OIN)
    whose step it is (a recipient; the sender for a norm checked on arrival; None when
    nobody routed can close it), for a norm per item the item's key (a voorwaarde-id), and
    for a norm checked on arrival the moment it was met or missed (the arrival)."""

    naam: str
    uiterlijk: dt.datetime
    ontvanger: str | None = None
    ontvangstbevestiging: bool = False
    sleutel: str = ""
    gesloten: dt.datetime | None = None


class Normstand(Enum):
    """Where a norm stands at a moment."""

    OPEN = "open"  # not closed, deadline not passed
    GEHAALD = "gehaald"  # closed by its deadline
    OVERSCHREDEN = "overschreden"  # deadline passed: still open, or closed late


def stand(uiterlijk: dt.datetime, gesloten: dt.datetime | None, nu: dt.datetime) -> Normstand:
    """The stand at ``nu`` of a norm due ``uiterlijk`` and closed at ``gesloten`` (or not)."""
    if gesloten is not None and gesloten <= nu:
        return Normstand.GEHAALD if gesloten <= uiterlijk else Normstand.OVERSCHREDEN
    return Normstand.OPEN if nu <= uiterlijk else Normstand.OVERSCHREDEN


def gesloten_door(policy: Policy, berichttype: str, afzender_rol: str) -> frozenset[str]:
    """The names of the norms a message of ``berichttype`` from ``afzender_rol`` closes in its
    conversation (for a ``levering`` norm: the delivery it confirms); not the norms per item
    (:func:`gesloten_per_item`)."""
    return frozenset(
        norm.naam
        for norm, sluiter in policy.sluiters.get(berichttype, ())
        if norm.per is None and sluiter.van in (None, afzender_rol)
    )


def gesloten_per_item(
    policy: Policy, bericht: Bericht, afzender_rol: str
) -> frozenset[tuple[str, str]]:
    """The (norm, key) steps per item a message closes in its conversation: each item of the
    closer's part that meets the closer's conditions (a voorwaarde with a final status)."""
    berichttype = str(bericht.kop.berichttype)
    gesloten: set[tuple[str, str]] = set()
    for norm, sluiter in policy.sluiters.get(berichttype, ()):
        if sluiter.per is None or sluiter.sleutel is None:
            continue
        if sluiter.van not in (None, afzender_rol):
            continue
        for item in resolve_all(bericht, sluiter.per):
            sleutel = getattr(item, sluiter.sleutel, None)
            if sleutel is not None and _voldoet(sluiter.als, item):
                gesloten.add((norm.naam, str(sleutel)))
    return frozenset(gesloten)


def _voldoet(als: list[VeldConditie], part: object) -> bool:
    """Every condition holds for its field path below ``part`` (read as the router reads a
    message's: the policy check accepts the same paths)."""
    return all(c.holds(resolve_in(part, c.veld)) for c in als)


def termijn_vanaf(
    termijn: Termijn, start: dt.datetime, diensturen: Venster | None = None
) -> dt.datetime:
    """The deadline of ``termijn`` counted from ``start`` (local time, Europe/Amsterdam);
    ``diensturen``: the recipient's service hours, for a termijn in service hours."""
    if termijn.werkdagen is not None:
        return werkdagen_na(start, termijn.werkdagen)
    if termijn.wettelijke_klok is not None:
        return ophoudtermijn_einde(start, termijn.wettelijke_klok)
    if termijn.datum is not None:
        raise ValueError("a termijn datum is read from the item (normen_bij)")
    assert termijn.diensturen is not None  # exactly one kind: the schema
    if diensturen is None:
        raise ValueError("a termijn in service hours needs the recipient's service hours")
    return diensttijd_na(start, dt.timedelta(hours=termijn.diensturen), diensturen)


def normen_bij(
    policy: Policy, bericht: Bericht, routering: Routering, nu: dt.datetime
) -> tuple[Normtermijn, ...]:
    """The norms ``bericht`` opens, arriving at ``nu`` and routed as ``routering``: per
    recipient whose step it is (a delivery's recipient; for a norm on the type, each recipient
    whose rol may send a message that closes it, or nobody when none may). A norm whose start
    field is empty or out of the calendar's range is left out."""
    berichttype = str(bericht.kop.berichttype)
    spoed = routering.prioriteit is Prioriteit.SPOED
    found: list[Normtermijn] = []
    for norm in policy.geopend_bij(berichttype):  # those of every levering and of its type
        termijn = norm.spoed if spoed and norm.spoed is not None else norm.termijn
        try:
            if norm.geopend_door == LEVERING:
                found.extend(
                    Normtermijn(
                        naam=norm.naam,
                        uiterlijk=termijn_vanaf(termijn, nu, policy.diensturen[o.partner.oin]),
                        ontvanger=o.partner.oin,
                    )
                    for o in routering.ontvangers
                )
            elif norm.geopend_door == berichttype and all(
                c.holds(resolve(bericht, c.veld)) for c in norm.als
            ):
                found.extend(_stappen(policy, norm, termijn, bericht, routering, nu))
        except OverflowError:  # a start at the end of year 9999: no deadline to give
            continue
    return tuple(found)


def _stappen(
    policy: Policy,
    norm: NormEntry,
    termijn: Termijn,
    bericht: Bericht,
    routering: Routering,
    nu: dt.datetime,
) -> list[Normtermijn]:
    """The steps of a norm opened by its type: per item (a voorwaarde) or one; the sender's
    for a norm checked on arrival, else each recipient's who may close it."""
    start = _start(norm, bericht, nu)
    if start is None:
        return []
    if norm.bij_aankomst:
        aan_zet: list[str | None] = [bericht.kop.afzender.oin]
    else:
        aan_zet = [
            o.partner.oin
            for o in routering.ontvangers
            if _kan_sluiten(policy, norm, str(o.partner.rol))
        ] or [None]
    # the message's own deadline, unless each item has its own date (a voorwaarde's termijn)
    gemeen = (
        None if termijn.datum is not None else termijn_vanaf(_met_uren(termijn, bericht), start)
    )
    termijnen: list[tuple[str, dt.datetime]] = []
    if norm.per is None:
        assert gemeen is not None  # a termijn datum only with per: the schema
        termijnen.append(("", gemeen))
    else:
        assert norm.sleutel is not None  # per and sleutel go together: the schema
        for item in resolve_all(bericht, norm.per):
            sleutel = getattr(item, norm.sleutel, None)
            if sleutel is None:
                continue
            if gemeen is not None:
                termijnen.append((str(sleutel), gemeen))
                continue
            assert termijn.datum is not None
            dag = resolve_in(item, termijn.datum)
            if isinstance(dag, dt.date):  # else no termijn of its own: no deadline to follow
                termijnen.append((str(sleutel), einde_van_dag(dag)))
    return [
        Normtermijn(
            naam=norm.naam,
            uiterlijk=uiterlijk,
            ontvanger=oin,
            ontvangstbevestiging=norm.ontvangstbevestiging,
            sleutel=sleutel,
            gesloten=nu if norm.bij_aankomst else None,
        )
        for sleutel, uiterlijk in termijnen
        for oin in aan_zet
    ]


def _kan_sluiten(policy: Policy, norm: NormEntry, rol: str) -> bool:
    """May a partner of ``rol`` send a message that closes ``norm``? (From the policy's table,
    computed once at start.)"""
    return rol in policy.sluitende_rollen[norm.naam]


def _start(norm: NormEntry, bericht: Bericht, nu: dt.datetime) -> dt.datetime | None:
    """The first filled start field's time (pol:Voorgeleiding, else the Aanhouding); the
    arrival for a norm without start fields; None when none of them is filled."""
    if not norm.start:
        return nu.astimezone(TIJDZONE)
    for path in norm.start:
        start = resolve(bericht, path)
        if isinstance(start, dt.datetime) and start.tzinfo is not None:
            return start
    return None


def _met_uren(termijn: Termijn, bericht: Bericht) -> Termijn:
    """The termijn with the hours of its ``uren_veld`` when the message fills it (6 or 9)."""
    if termijn.uren_veld is None:
        return termijn
    uren = resolve(bericht, termijn.uren_veld)
    if uren is None or not str(uren).isdigit() or int(str(uren)) <= 0:
        return termijn
    return termijn.model_copy(update={"wettelijke_klok": int(str(uren))})
