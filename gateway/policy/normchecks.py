"""The checks of the norm times and service hours (spec v2 §2, §10) across the policy files:
every partner's service hours exist; every active norm opens on a type with rules (or on every
``levering``), closes on known types from rollen that may send them, starts at a time field of
its opening type, counts service hours only where there is a recipient, and at most one norm
per type is reported in the Ontvangstbevestiging. A norm per item names a repeated part of its
opening type and a field of the item (and its closers of theirs), a termijn datum a date field
of the item, and conditions name real fields. Inactive rows are read for shape only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from gateway.domain.model import Berichttypen, is_technisch
from gateway.policy.fieldpath import check_path
from gateway.policy.files import (
    LEVERING,
    BerichtenFile,
    NormenFile,
    NormEntry,
    PartnersFile,
    VeldConditie,
)
from gateway.policy.reading import Lines, PolicyError, line_of

__all__ = ["check_diensturen", "check_normen"]

_Fail = Callable[[tuple[Any, ...], str], PolicyError]


def check_diensturen(partners: PartnersFile, lines: Lines) -> None:
    """The default and every partner's own service hours name an entry of ``diensturen``."""
    known = partners.diensturen
    if partners.standaard_diensturen not in known:
        raise PolicyError(
            "partners.yaml",
            line_of(lines, ("standaard_diensturen",)),
            f"standaard_diensturen {partners.standaard_diensturen!r} is not in diensturen",
        )
    for i, partner in enumerate(partners.partners):
        if partner.diensturen is not None and partner.diensturen not in known:
            raise PolicyError(
                "partners.yaml",
                line_of(lines, ("partners", i, "diensturen")),
                f"partner {partner.oin}: diensturen {partner.diensturen!r} is not in diensturen "
                f"(known: {', '.join(sorted(known))})",
            )


def check_normen(
    normen: NormenFile, lines: Lines, berichten: BerichtenFile, typen: Berichttypen
) -> None:
    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("normen.yaml", line_of(lines, ("normen", *where)), problem)

    namen: set[str] = set()
    bevestigd: set[str] = set()
    for i, norm in enumerate(normen.normen):
        if norm.naam in namen:
            raise fail((i, "naam"), f"norm {norm.naam} twice")
        namen.add(norm.naam)
        if not norm.actief:
            continue
        _check_opener(norm, i, berichten, typen, fail)
        _check_sluiters(norm, i, berichten, typen, fail)
        if norm.ontvangstbevestiging:
            if norm.geopend_door in bevestigd:
                raise fail(
                    (i, "ontvangstbevestiging"),
                    f"a second norm reported in the Ontvangstbevestiging of {norm.geopend_door}",
                )
            bevestigd.add(norm.geopend_door)


def _check_opener(
    norm: NormEntry, i: int, berichten: BerichtenFile, typen: Berichttypen, fail: _Fail
) -> None:
    per_levering = norm.geopend_door == LEVERING
    if not per_levering and norm.geopend_door not in berichten.berichten:
        raise fail(
            (i, "geopend_door"),
            f"norm {norm.naam} opens on {norm.geopend_door!r}: no BerichtType with rules "
            f"(nor {LEVERING!r}); mark a future type's norm actief: false",
        )
    if norm.start and per_levering:
        raise fail((i, "start"), f"norm {norm.naam} opens on a delivery: it has no start field")
    for j, path in enumerate(norm.start):
        try:
            found = check_path(typen.model(norm.geopend_door), path)
        except ValueError as exc:
            raise fail((i, "start", j), str(exc)) from None
        if found is not dt.datetime:
            raise fail((i, "start", j), f"{path!r} of {norm.geopend_door} is no date and time")
    if norm.termijn.uren_veld is not None:
        if per_levering:
            raise fail((i, "termijn"), f"norm {norm.naam} opens on a delivery: no uren_veld")
        try:
            check_path(typen.model(norm.geopend_door), norm.termijn.uren_veld)
        except ValueError as exc:
            raise fail((i, "termijn", "uren_veld"), str(exc)) from None
    for key, termijn in (("termijn", norm.termijn), ("spoed", norm.spoed)):
        if termijn is not None and termijn.diensturen is not None and not per_levering:
            raise fail(
                (i, key),
                f"norm {norm.naam} counts service hours but has no one recipient: only a "
                f"{LEVERING!r} norm can",
            )
    if per_levering:
        _check_per_levering(norm, i, fail)
    else:
        _check_op_type(norm, i, typen, fail)


def _check_per_levering(norm: NormEntry, i: int, fail: _Fail) -> None:
    if norm.ontvangstbevestiging:
        raise fail((i, "ontvangstbevestiging"), "a delivery's norm is not the sender's to know")
    if norm.als or norm.per or norm.bij_aankomst:
        raise fail((i,), f"norm {norm.naam} opens on every delivery: no als, per or bij_aankomst")


def _check_op_type(norm: NormEntry, i: int, typen: Berichttypen, fail: _Fail) -> None:
    """A norm opened by a type: its conditions, its start on arrival, its items."""
    model = typen.model(norm.geopend_door)
    _check_als(norm.als, model, norm.geopend_door, (i, "als"), fail)
    if norm.bij_aankomst and not norm.start:
        raise fail((i, "start"), f"norm {norm.naam} is checked on arrival: it needs a start field")
    if norm.per is not None:
        item = _check_item(model, norm.geopend_door, norm.per, norm.sleutel, (i,), fail)
        if norm.termijn.datum is not None:
            try:
                found = check_path(item, norm.termijn.datum)
            except ValueError as exc:
                raise fail((i, "termijn", "datum"), str(exc)) from None
            if found is not dt.date:
                raise fail(
                    (i, "termijn", "datum"),
                    f"{norm.termijn.datum!r} of {norm.geopend_door}'s {norm.per} is no date",
                )


def _check_sluiters(
    norm: NormEntry, i: int, berichten: BerichtenFile, typen: Berichttypen, fail: _Fail
) -> None:
    rollen = typen.rollen
    for j, sluiter in enumerate(norm.gesloten_door):
        where = (i, "gesloten_door", j)
        berichttype = sluiter.type
        if berichttype not in typen and not is_technisch(berichttype):
            raise fail(where, f"norm {norm.naam} closes on unknown BerichtType {sluiter.type!r}")
        if sluiter.per is not None and berichttype in typen:
            item = _check_item(
                typen.model(berichttype), berichttype, sluiter.per, sluiter.sleutel, where, fail
            )
            _check_als(sluiter.als, item, f"{berichttype}'s {sluiter.per}", (*where, "als"), fail)
        if sluiter.van is None:
            continue
        if sluiter.van not in rollen:
            raise fail(
                where, f"norm {norm.naam} closes on a message from unknown rol {sluiter.van!r}"
            )
        regel = berichten.berichten.get(berichttype)
        if regel is None or sluiter.van not in regel.afzenders:
            raise fail(where, f"rol {sluiter.van} may not send {sluiter.type}: it cannot close it")


def _check_item(
    model: type[Any],
    berichttype: str,
    per: str,
    sleutel: str | None,
    where: tuple[Any, ...],
    fail: _Fail,
) -> type[Any]:
    """``per`` is a part of ``berichttype`` with fields, and ``sleutel`` one of them."""
    try:
        item = check_path(model, per)
    except ValueError as exc:
        raise fail((*where, "per"), str(exc)) from None
    fields = getattr(item, "model_fields", None)
    if fields is None:
        raise fail((*where, "per"), f"{per!r} of {berichttype} is no part with fields")
    if sleutel not in fields:
        raise fail(
            (*where, "sleutel"), f"{per!r} of {berichttype} has no field {sleutel!r} (sleutel)"
        )
    return item


def _check_als(
    als: list[VeldConditie], model: type[Any], waar: str, where: tuple[Any, ...], fail: _Fail
) -> None:
    for j, conditie in enumerate(als):
        try:
            check_path(model, conditie.veld)
        except ValueError as exc:
            raise fail((*where, j), f"{waar}: {exc}") from None
