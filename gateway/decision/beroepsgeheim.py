"""Beroepsgeheim and provenance (spec v2 §8): which blocks no recipient may receive, and where
what was delivered came from.

Every block of a BerichtType (each group of its canonical definition: a list item, a nested
part) may carry the block attributes ``bron`` (the kind of professional it came from,
optionally after the partner: ``huisarts``, ``ggz-twente/psychiater``), ``beroepsgeheim`` and
the sender's ``doorbrekingsgrond`` (see ``policy/v1/typen.yaml``). Breaking professional
secrecy is the professional's own weighing, so the codec refuses a block under beroepsgeheim
without a ground (SCHEMA_ONGELDIG naming the element); here, the doel of the message decides
which grounds it accepts (``doelen.yaml``, ``doorbrekingsgronden``):

- :func:`houd_geheim` removes, before any recipient's need-to-know filter, every block under
  beroepsgeheim whose ground the doel does not accept, with everything inside it. The
  removal is the same for every recipient (the doel is the message's), and each removed block
  is named (:class:`BeroepsgeheimWeglating`) for the decision, ``ketenpoort route --json``,
  the audit's ``gefilterd`` record (``extra.beroepsgeheim_achtergehouden``) and the officer's
  view (reason ``beroepsgeheim``).
- :func:`herkomst_van` names, in what one recipient receives, every block that says where it
  came from or that it was shared under beroepsgeheim (:class:`Herkomst`), for the audit's
  ``afgeleverd`` record (``extra.herkomst``).

A block's place is its dotted path in the canonical model, a list item numbered from 1
(``gezagsdrager[2]``, ``personen[1]``, ``incident.adres``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gateway.domain.model import (
    Blokken,
    Doel,
    Inhoud,
    Part,
    blokken_naar,
    field_plan,
    velden_naar,
    velden_van,
)

__all__ = [
    "BeroepsgeheimWeglating",
    "Geheimhouding",
    "Herkomst",
    "herkomst_van",
    "houd_geheim",
]


@dataclass(frozen=True)
class BeroepsgeheimWeglating:
    """A block under beroepsgeheim that no recipient received, and why."""

    veld: str  # its place in the canonical model
    doorbrekingsgrond: str  # the sender's ground, which the doel does not accept
    bron: str | None
    reden: str  # for the officer: the ground and the doel that does not accept it

    def as_record(self) -> dict[str, Any]:
        """Its account in the audit's gefilterd record (nothing of the block's content)."""
        return {
            "veld": self.veld,
            "reden": self.reden,
            "doorbrekingsgrond": self.doorbrekingsgrond,
            "bron": self.bron,
        }


@dataclass(frozen=True)
class Herkomst:
    """A delivered block that says where it came from or was shared under beroepsgeheim."""

    veld: str
    bron: str | None
    beroepsgeheim: bool
    doorbrekingsgrond: str | None
    geaccordeerd: bool | None

    def as_record(self) -> dict[str, Any]:
        """Its account in the audit's afgeleverd record."""
        return {
            "veld": self.veld,
            "bron": self.bron,
            "beroepsgeheim": self.beroepsgeheim,
            "doorbrekingsgrond": self.doorbrekingsgrond,
            "geaccordeerd": self.geaccordeerd,
        }


@dataclass(frozen=True)
class Geheimhouding:
    """A body without the blocks its doel may not receive under beroepsgeheim."""

    inhoud: Inhoud
    achtergehouden: tuple[BeroepsgeheimWeglating, ...] = ()


def houd_geheim(
    inhoud: Inhoud, gronden: frozenset[str], doel: Doel, blokken: Blokken | None = None
) -> Geheimhouding:
    """``inhoud`` without every block under beroepsgeheim whose doorbrekingsgrond is not one
    of ``gronden`` (those ``doel`` accepts), and each block removed. The body itself is
    returned when nothing is removed. ``blokken``: its ``blokken_van``, if the caller has it."""
    if blokken is not None:
        iets = any(_geheim(block, gronden) is not None for _, block in blokken)
    else:
        iets = _iets_geheim(inhoud, gronden)
    if not iets:
        return Geheimhouding(inhoud)  # the common case, found without building anything
    weg: list[BeroepsgeheimWeglating] = []
    values = _zonder(inhoud, "", gronden, doel, weg)
    if not weg:
        return Geheimhouding(inhoud)
    kept = type(inhoud)(**values)
    assert isinstance(kept, Inhoud)
    return Geheimhouding(kept, tuple(weg))


def _kan_geheim(model: type[BaseModel]) -> bool:
    """Whether a block of this class can be under beroepsgeheim."""
    return "beroepsgeheim" in velden_van(model)


def _iets_geheim(part: Part, gronden: frozenset[str]) -> bool:
    """Whether :func:`houd_geheim` removes anything below ``part``: a block under beroepsgeheim
    on a ground not accepted (only the fields that can lead to such a block are walked:
    :func:`velden_naar`, read once per class)."""
    for f in velden_naar(type(part), _kan_geheim):
        value = getattr(part, f.name)
        if value is None:
            continue
        for item in value if isinstance(value, list) else (value,):
            if _geheim(item, gronden) is not None or _iets_geheim(item, gronden):
                return True
    return False


def _geheim(part: Part, gronden: frozenset[str]) -> str | None:
    """The ground of ``part`` when it is under beroepsgeheim on a ground not accepted."""
    if getattr(part, "beroepsgeheim", None) is not True:
        return None
    grond = getattr(part, "doorbrekingsgrond", None)
    # the codec refuses beroepsgeheim without a ground; a body built otherwise is kept back too
    grond = "" if grond is None else str(grond)
    return None if grond in gronden else grond


def _zonder(
    part: Part,
    prefix: str,
    gronden: frozenset[str],
    doel: Doel,
    weg: list[BeroepsgeheimWeglating],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in field_plan(type(part)):
        value = getattr(part, f.name)
        if f.part is None or value is None:
            values[f.name] = value
            continue
        path = f"{prefix}{f.name}"
        if isinstance(value, list):
            kept = []
            for i, item in enumerate(value, start=1):
                item_kept = _blok(item, f"{path}[{i}]", gronden, doel, weg)
                if item_kept is not None:
                    kept.append(item_kept)
            values[f.name] = kept
        else:
            values[f.name] = _blok(value, path, gronden, doel, weg)
    return values


def _blok(
    part: Part,
    path: str,
    gronden: frozenset[str],
    doel: Doel,
    weg: list[BeroepsgeheimWeglating],
) -> Part | None:
    grond = _geheim(part, gronden)
    if grond is not None:
        bron = getattr(part, "bron", None)
        weg.append(
            BeroepsgeheimWeglating(
                veld=path,
                doorbrekingsgrond=grond,
                bron=None if bron is None else str(bron),
                reden=(
                    f"beroepsgeheim: doorbrekingsgrond {grond or '(geen)'} niet aanvaard voor "
                    f"doel {doel}"
                    + (f" (aanvaard: {', '.join(sorted(gronden))})" if gronden else "")
                ),
            )
        )
        return None
    before = len(weg)
    values = _zonder(part, f"{path}.", gronden, doel, weg)
    if len(weg) == before:
        return part  # nothing below was removed: the block as it was
    return type(part)(**values)


def herkomst_van(inhoud: Inhoud, blokken: Blokken | None = None) -> tuple[Herkomst, ...]:
    """Every block of ``inhoud`` (what one recipient receives) that names its bron or was
    shared under beroepsgeheim, in document order. ``blokken``: its ``blokken_van``, if the
    caller has it."""
    found: list[Herkomst] = []
    if blokken is None:
        # only the blocks on the way to a class that can name its herkomst
        _herkomst(blokken_naar(inhoud, _kan_herkomst), found)
    else:
        _herkomst(blokken, found)
    return tuple(found)


def _kan_herkomst(model: type[BaseModel]) -> bool:
    """Whether a block of this class can name its bron or be under beroepsgeheim."""
    velden = velden_van(model)
    return "bron" in velden or "beroepsgeheim" in velden


def _herkomst(blokken: Iterable[tuple[str, Part]], found: list[Herkomst]) -> None:
    for where, item in blokken:
        bron = getattr(item, "bron", None)
        geheim = getattr(item, "beroepsgeheim", None) is True
        if bron is not None or geheim:
            grond = getattr(item, "doorbrekingsgrond", None)
            geaccordeerd = getattr(item, "geaccordeerd", None)
            found.append(
                Herkomst(
                    veld=where,
                    bron=None if bron is None else str(bron),
                    beroepsgeheim=geheim,
                    doorbrekingsgrond=None if grond is None else str(grond),
                    geaccordeerd=geaccordeerd if isinstance(geaccordeerd, bool) else None,
                )
            )
