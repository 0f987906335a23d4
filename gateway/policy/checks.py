"""The checks across the policy files, beyond their structure: every catalogue type has
rules; every route goes to a rol that the doel admits; a type's grants never exceed what the
doel allows that rol; every sender and recipient of a route has a grondslag for the doel
(v2 §4: no gaps); a rol shared by several partners is routed with a regio; every field
path names a field of the canonical model; regio ranges do not overlap and point at a
registered Veilig Thuis."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Mapping
from typing import Any

from gateway.domain.model import INHOUD_TYPES, BerichtType, Doel, Part, Persoon, Rol
from gateway.policy.fieldpath import check_path
from gateway.policy.files import (
    BerichtenFile,
    BerichtRegel,
    Conditie,
    DeelnameConditie,
    DoelConditie,
    DoelenFile,
    HgConditie,
    LeeftijdConditie,
    PartnerEntry,
    PartnersFile,
    RegioEntry,
    Route,
    Toegang,
    VeldConditie,
)
from gateway.policy.reading import Lines, PolicyError, line_of

__all__ = [
    "check_berichten",
    "check_doelen",
    "check_leesbaar",
    "check_regios",
]


def check_regios(partners: PartnersFile, lines: Lines, by_oin: dict[str, PartnerEntry]) -> None:
    seen: list[RegioEntry] = []
    for i, regio in enumerate(partners.regios):
        line = line_of(lines, ("regios", i))
        if regio.van > regio.tot:
            raise PolicyError("partners.yaml", line, f"regio {regio.van}-{regio.tot} is empty")
        partner = by_oin.get(regio.oin)
        if partner is None or partner.rol is not Rol.VEILIG_THUIS:
            raise PolicyError(
                "partners.yaml", line, f"regio OIN {regio.oin} is no registered veilig-thuis"
            )
        for other in seen:
            if regio.van <= other.tot and other.van <= regio.tot:
                raise PolicyError(
                    "partners.yaml",
                    line,
                    f"regio {regio.van}-{regio.tot} overlaps {other.van}-{other.tot}",
                )
        seen.append(regio)


def check_doelen(doelen: DoelenFile, lines: Lines) -> None:
    for doel in Doel:
        if doel not in doelen.doelen:
            raise PolicyError("doelen.yaml", line_of(lines, ("doelen",)), f"doel {doel} missing")
    for doel, entry in doelen.doelen.items():
        for i, rij in enumerate(entry.grondslagen):
            for j, rol in enumerate(rij.naar):
                if rol not in entry.ontvangers:
                    raise PolicyError(
                        "doelen.yaml",
                        line_of(lines, ("doelen", doel.value, "grondslagen", i, "naar", j)),
                        f"{doel}: a grondslag towards {rol}, which the doel admits as no recipient",
                    )


Fail = typing.Callable[[tuple[Any, ...], str], PolicyError]


def check_berichten(
    berichten: BerichtenFile,
    lines: Lines,
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
) -> None:
    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("berichten.yaml", line_of(lines, ("berichten", *where)), problem)

    for berichttype in INHOUD_TYPES:
        if berichttype not in berichten.berichten:
            raise fail((), f"no rules for BerichtType {berichttype}")
    for berichttype, regel in berichten.berichten.items():
        if berichttype.technisch:
            raise fail((berichttype.value,), f"{berichttype} is the gateway's own message")
        for i, route in enumerate(regel.routes):
            _check_route(
                berichttype, regel, route, (berichttype.value, "routes", i), doelen, by_oin, fail
            )
        for doel, per_rol in regel.toegang.items():
            _check_toegang(berichttype, regel, doel, per_rol, doelen, fail)
        _check_paths(berichttype, regel, fail)
        for path in regel.vrije_tekst:
            try:
                found = check_path(berichttype, path)
                if found is not str and not issubclass(found, Part):
                    raise ValueError(f"{path!r} of {berichttype.value} is no free text")
            except ValueError as exc:
                raise fail((berichttype.value, "vrije_tekst", path), str(exc)) from None


def check_leesbaar(
    berichten: BerichtenFile, lines: Lines, leesbaar: Mapping[Rol, frozenset[BerichtType]]
) -> None:
    """Every rol allowed to send a type has an adapter that reads it."""
    for berichttype, regel in berichten.berichten.items():
        for i, rol in enumerate(regel.afzenders):
            if berichttype not in leesbaar.get(rol, frozenset()):
                raise PolicyError(
                    "berichten.yaml",
                    line_of(lines, ("berichten", berichttype.value, "afzenders", i)),
                    f"rol {rol.value} may send {berichttype.value} but its adapter cannot read "
                    f"a {berichttype.value} (it reads: "
                    f"{', '.join(sorted(t.value for t in leesbaar.get(rol, ()))) or 'nothing'})",
                )


def _check_route(
    berichttype: BerichtType,
    regel: BerichtRegel,
    route: Route,
    where: tuple[Any, ...],
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
    fail: Fail,
) -> None:
    route_doelen = [c.doel for c in route.als if isinstance(c, DoelConditie)] or regel.doelen
    for doel in route_doelen:
        entry = doelen.doelen[doel]
        if route.naar not in entry.ontvangers:
            raise fail(where, f"doel {doel} admits no recipient {route.naar}")
        for afzender in regel.afzenders:
            if not entry.acceptabel(afzender, route.naar):
                raise fail(
                    where,
                    f"{berichttype.value} from {afzender} to {route.naar} for doel {doel} has no "
                    f"grondslag: add a row for afzender {afzender} to doel {doel}'s grondslagen "
                    "in doelen.yaml",
                )
    shared = sum(1 for p in by_oin.values() if p.rol is route.naar) > 1
    deelgenomen = any(isinstance(c, DeelnameConditie) for c in route.als)
    if shared and route.regio is None and not deelgenomen:
        raise fail(where, f"{route.naar} has several partners: say how the regio is found")
    if route.regio not in (None, "conversatie"):
        try:
            check_path(berichttype, route.regio)
        except ValueError as exc:
            raise fail((*where, "regio"), str(exc)) from None
    _check_conditions(berichttype, regel, route.als, (*where, "als"), fail)


def _check_toegang(
    berichttype: BerichtType,
    regel: BerichtRegel,
    doel: Doel,
    per_rol: dict[Rol, Toegang],
    doelen: DoelenFile,
    fail: Fail,
) -> None:
    t = berichttype.value
    if doel not in regel.doelen:
        raise fail((t, "toegang", doel.value), f"doel {doel} is not a doel of {t}")
    for rol, toegang in per_rol.items():
        where = (t, "toegang", doel.value, rol.value)
        allowed = doelen.doelen[doel].ontvangers.get(rol)
        if allowed is None:
            raise fail(where, f"doel {doel} admits no recipient {rol}")
        asked = set(toegang.categorieen).union(*(e.categorieen for e in toegang.extra))
        too_much = sorted(asked - set(allowed.categorieen))
        if too_much:
            raise fail(
                where, f"grants {', '.join(too_much)} to {rol}, more than doel {doel} allows"
            )
        for k, extra in enumerate(toegang.extra):
            _check_conditions(
                berichttype, regel, extra.als, (*where, "extra", k, "als"), fail, in_route=False
            )


def _check_paths(berichttype: BerichtType, regel: BerichtRegel, fail: Fail) -> None:
    """The HG label is a boolean field; the deadline starts at a field of the type."""
    if regel.hg_label is not None:
        try:
            if check_path(berichttype, regel.hg_label) is not bool:
                raise ValueError(f"{regel.hg_label!r} of {berichttype.value} is no boolean")
        except ValueError as exc:
            raise fail((berichttype.value, "hg_label"), str(exc)) from None
    if regel.uiterste_beslismoment is not None:
        try:
            check_path(berichttype, regel.uiterste_beslismoment.veld)
        except ValueError as exc:
            raise fail((berichttype.value, "uiterste_beslismoment"), str(exc)) from None


def _check_gesprek(
    berichttype: BerichtType,
    regel: BerichtRegel,
    c: HgConditie | DeelnameConditie,
    *,
    in_route: bool,
) -> None:
    """A condition on the conversation (routing memory): on a route, ``true``, and ``hg`` for
    a type that says where its HG label is."""
    if not in_route:
        raise ValueError("a condition on the conversation is for routes only")
    if not (c.hg if isinstance(c, HgConditie) else c.deelgenomen):
        raise ValueError("only `true` is a condition on the conversation")
    if isinstance(c, HgConditie) and regel.hg_label is None:
        raise ValueError(f"{berichttype.value} has no hg_label to say it is HG")


def _check_conditions(
    berichttype: BerichtType,
    regel: BerichtRegel,
    als: list[Conditie],
    where: tuple[Any, ...],
    fail: Fail,
    *,
    in_route: bool = True,
) -> None:
    """Every condition names real fields of the right type; the conversation's conditions
    (``hg``, ``deelgenomen``) are for routes only."""
    for j, c in enumerate(als):
        try:
            if isinstance(c, HgConditie | DeelnameConditie):
                _check_gesprek(berichttype, regel, c, in_route=in_route)
            elif isinstance(c, VeldConditie):
                check_path(berichttype, c.veld)
            elif isinstance(c, LeeftijdConditie):
                if check_path(berichttype, c.leeftijd) is not Persoon:
                    raise ValueError(f"{c.leeftijd!r} is not a person")
                if check_path(berichttype, c.op) not in (dt.date, dt.datetime):
                    raise ValueError(f"{c.op!r} is not a date")
            elif c.doel not in regel.doelen:
                raise ValueError(f"doel {c.doel} is not a doel of {berichttype.value}")
        except ValueError as exc:
            raise fail((*where, j), str(exc)) from None
