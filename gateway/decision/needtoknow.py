"""Need-to-know: strip from a canonical body every field whose categories are not granted.

Driven entirely by the category annotations of ``gateway.domain.model`` (spec §7) and the
policy's free-text table (spec v2 §8): a field is kept only when *all* of its effective
categories (its own, its ancestors', what a list item adds from its content, such as ``kind``
for a child, and for a free-text field every category its content may hold) are granted.
Parts left empty are dropped (a part's block attributes, ``bron`` and the like, do not fill
it). There is no code per BerichtType here.

``kept`` and ``removed`` count a free-text field's categories too, so the audit's account of a
delivery is what its bytes can contain; ``achtergehouden`` names each free-text field that was
present and withheld, with the categories the recipient lacks for it.

What a body holds does not depend on the recipient: :func:`inventaris` walks it once per
message, and :func:`filter_inhoud` of each recipient starts from that. A recipient granted
every category present gets the body itself (nothing to remove, no part left empty), without
a second walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gateway.domain.model import (
    Categorie,
    Inhoud,
    Part,
    field_plan,
    gevalideerd,
    is_empty,
)

__all__ = [
    "Achtergehouden",
    "Gefilterd",
    "Inventaris",
    "Inventarisatie",
    "VrijeTekst",
    "filter_inhoud",
    "inventaris",
]

VrijeTekst = Mapping[str, frozenset[Categorie]]  # free-text field path -> its categories


@dataclass(frozen=True)
class Achtergehouden:
    """A free-text field present in the message and withheld from one recipient: why."""

    veld: str  # its dotted path in the canonical model
    categorieen: frozenset[Categorie]  # every category the field carries
    ontbrekend: frozenset[Categorie]  # those the recipient is not granted


@dataclass(frozen=True)
class Gefilterd:
    """A body as one recipient may receive it, with what was kept and what removed."""

    inhoud: Inhoud
    kept: frozenset[Categorie]
    removed: frozenset[Categorie]
    achtergehouden: tuple[Achtergehouden, ...] = ()


@dataclass(frozen=True)
class Inventaris:
    """What a body holds, whoever receives it: one walk per message (:func:`inventaris`)."""

    inhoud: Inhoud
    vrije_tekst: VrijeTekst | None  # the free-text table it was walked with
    present: frozenset[Categorie]  # the effective categories of its filled fields
    teksten: tuple[tuple[str, frozenset[Categorie]], ...]  # free-text fields present, cats
    volledig: bool  # no part in it is empty (so keeping all of it drops nothing)


def inventaris(inhoud: Inhoud, vrije_tekst: VrijeTekst | None = None) -> Inventaris:
    """The categories and free-text fields of ``inhoud`` (one walk), with a walker made for
    this call: the pipeline keeps an :class:`Inventarisatie` per BerichtType instead."""
    return Inventarisatie(vrije_tekst)(inhoud)


_GEEN: frozenset[Categorie] = frozenset()


@dataclass(frozen=True, slots=True)
class _Veld:
    """One field of a model class at one path, as the inventory walks it."""

    name: str
    path: str
    own: frozenset[Categorie]  # its declared categories and the free-text table's
    blokattribuut: bool
    tekst: bool  # a free-text field of the table


@dataclass(frozen=True, slots=True)
class _Klasse:
    """A model class at one path: its value fields and its part fields, in that split."""

    waarden: tuple[_Veld, ...]
    delen: tuple[_Veld, ...]


class Inventarisatie:
    """The inventory walk for one free-text table (one BerichtType's), each (class, path) read
    once: the field paths, their categories with the table's, which are free texts, which
    hold parts. A filled value field adds its own categories; the inherited ones are added
    once per part that has one. A field counts as filled when it holds a value or an item
    that is not empty (:func:`~gateway.domain.model.is_empty`: a block's attributes alone do
    not fill it); a part none of whose fields is filled is empty, and filtering drops it."""

    def __init__(self, vrije_tekst: VrijeTekst | None) -> None:
        self.vrije_tekst = vrije_tekst
        self.vrij: VrijeTekst = vrije_tekst or {}
        self._klassen: dict[tuple[type[Part], str], _Klasse] = {}

    def __call__(self, inhoud: Inhoud) -> Inventaris:
        """What ``inhoud`` holds (:class:`Inventaris`)."""
        found: set[Categorie] = set()
        teksten: list[tuple[str, frozenset[Categorie]]] = []
        leeg: list[str] = []
        self.walk(inhoud, _GEEN, "", found, teksten, leeg)
        return Inventaris(
            inhoud, self.vrije_tekst, frozenset(found), tuple(teksten), volledig=not leeg
        )

    def klasse(self, model: type[Part], prefix: str) -> _Klasse:
        found = self._klassen.get((model, prefix))
        if found is None:
            waarden: list[_Veld] = []
            delen: list[_Veld] = []
            for f in field_plan(model):
                path = f"{prefix}{f.name}"
                veld = _Veld(
                    f.name,
                    path,
                    f.categorieen | self.vrij.get(path, _GEEN),
                    f.blokattribuut,
                    path in self.vrij,
                )
                (waarden if f.part is None else delen).append(veld)
            found = self._klassen[(model, prefix)] = _Klasse(tuple(waarden), tuple(delen))
        return found

    def walk(
        self,
        part: Part,
        inherited: frozenset[Categorie],
        prefix: str,
        found: set[Categorie],
        teksten: list[tuple[str, frozenset[Categorie]]],
        leeg: list[str],
    ) -> bool:
        """Add to ``found`` and ``teksten`` what the filled fields below ``part`` carry, to
        ``leeg`` the path of every empty part met; whether any field of ``part`` is filled."""
        klasse = self.klasse(type(part), prefix)
        values = part.__dict__
        filled = self._waarden(klasse, values, inherited, found, teksten)
        for veld in klasse.delen:
            value = values[veld.name]
            if value is None or (isinstance(value, list) and not value):
                continue
            cats = inherited | veld.own
            below: set[Categorie] = set()
            field_teksten: list[tuple[str, frozenset[Categorie]]] = []
            if veld.tekst:
                field_teksten.append((veld.path, cats))
            field_filled = False
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, Part):
                    item_cats = cats | item.extra_categorieen()
                    below |= item_cats
                    item_filled = self.walk(
                        item, item_cats, veld.path + ".", below, field_teksten, leeg
                    )
                    if not item_filled:
                        leeg.append(veld.path)
                    field_filled |= item_filled
                else:
                    below |= cats
                    field_filled |= not is_empty(item)
            if not field_filled:
                continue  # only empty parts or values: the field counts as empty
            filled = True
            found |= below
            teksten.extend(field_teksten)
        return filled

    @staticmethod
    def _waarden(
        klasse: _Klasse,
        values: dict[str, Any],
        inherited: frozenset[Categorie],
        found: set[Categorie],
        teksten: list[tuple[str, frozenset[Categorie]]],
    ) -> bool:
        """The value fields of a part: each filled one adds its own categories (and the
        inherited ones, once); whether one that is not a block attribute is filled."""
        filled = False
        any_value = False
        for veld in klasse.waarden:
            value = values[veld.name]
            if value is None:
                continue
            if isinstance(value, list | tuple | BaseModel):  # filled by its items
                items = value if isinstance(value, list) else (value,)
                if all(is_empty(item) for item in items):
                    continue  # only empty values (or none): the field counts as empty
                filled = True
            else:
                filled = filled or not veld.blokattribuut  # a block's attributes do not fill it
            any_value = True
            found |= veld.own
            if veld.tekst:
                teksten.append((veld.path, inherited | veld.own))
        if any_value:
            found |= inherited
        return filled


def filter_inhoud(
    inhoud: Inhoud,
    granted: frozenset[Categorie],
    vrije_tekst: VrijeTekst | None = None,
    gezien: Inventaris | None = None,
) -> Gefilterd:
    """The body with only granted categories; ``removed`` = present but not granted.
    ``gezien``: the :func:`inventaris` of this body and free-text table, when the caller
    filters it for more than one recipient."""
    if gezien is None or gezien.inhoud is not inhoud or gezien.vrije_tekst is not vrije_tekst:
        gezien = inventaris(inhoud, vrije_tekst)
    if gezien.volledig and gezien.present <= granted:
        return Gefilterd(inhoud=inhoud, kept=gezien.present, removed=frozenset())
    return _gefilterd(inhoud, granted, vrije_tekst, gezien)


def _gefilterd(
    inhoud: Inhoud,
    granted: frozenset[Categorie],
    vrije_tekst: VrijeTekst | None,
    gezien: Inventaris,
) -> Gefilterd:
    """:func:`filter_inhoud` by walking the body field by field (what it returns without the
    walk when nothing is to be removed)."""
    present = gezien.present
    kept: set[Categorie] = set()
    values, _ = _Filter(granted, vrije_tekst or {}).fields(inhoud, frozenset(), "", kept)
    filtered = gevalideerd(type(inhoud), values)  # kept values of a valid body
    withheld: dict[str, Achtergehouden] = {}
    for path, cats in gezien.teksten:
        if path in withheld or not cats - granted:
            continue
        withheld[path] = Achtergehouden(path, cats, cats - granted)
    return Gefilterd(
        inhoud=filtered,
        kept=frozenset(kept),
        removed=present - granted,
        achtergehouden=tuple(withheld[p] for p in sorted(withheld)),
    )


@dataclass(frozen=True)
class _Filter:
    """Keeps the granted fields of a body and gathers, on the way, the categories of what it
    kept: what :func:`inventaris` of the filtered body would find present, without
    walking it again. A part's kept categories are its inherited ones plus, per kept field,
    that field's own (its declared ones, the free-text table's, a kept item's
    ``extra_categorieen``) and those below; the inherited ones are in the enclosing field's
    already, so ``kept`` collects only the field-level sets."""

    granted: frozenset[Categorie]
    vrij: VrijeTekst

    def fields(
        self, part: Part, inherited: frozenset[Categorie], prefix: str, kept: set[Categorie]
    ) -> tuple[dict[str, Any], bool]:
        """The kept values of ``part``'s fields, and whether any of them is filled (so that
        :meth:`value` need not walk a filtered part again to ask :func:`is_empty`)."""
        values: dict[str, Any] = {}
        filled = False
        for f in field_plan(type(part)):  # read once per class
            name = f.name
            value = getattr(part, name)
            path = f"{prefix}{name}"
            own = f.categorieen
            extra = self.vrij.get(path)
            if extra:
                own = own | extra
            cats = inherited | own
            if isinstance(value, list):
                kept_items = [
                    item_kept
                    for item in value
                    if (item_kept := self.value(item, cats, own, path, kept)) is not None
                ]
                values[name] = kept_items
                filled = filled or any(_filled(item) for item in kept_items)
            else:
                item_kept = values[name] = self.value(value, cats, own, path, kept)
                filled = filled or (not f.blokattribuut and _filled(item_kept))
        return values, filled

    def value(
        self,
        value: Any,
        cats: frozenset[Categorie],
        own: frozenset[Categorie],
        path: str,
        kept: set[Categorie],
    ) -> Any:
        """``value`` as far as granted (None: nothing of it); adds to ``kept`` the
        categories of what it keeps (``own``: its field's, without the inherited ones)."""
        if value is None:
            return None
        if isinstance(value, Part):
            cats = cats | value.extra_categorieen()
            if not cats <= self.granted:
                return None
            below: set[Categorie] = set()
            values, filled = self.fields(value, cats, f"{path}.", below)
            if not filled:
                return None
            filtered = gevalideerd(type(value), values)
            kept |= own | filtered.extra_categorieen()
            kept |= below
            return filtered
        if not cats <= self.granted:
            return None
        if not is_empty(value):
            kept |= own
        return value


def _filled(kept: Any) -> bool:
    """Whether a value :meth:`_Filter.value` kept is filled: a kept part always is (an empty
    one is dropped), any other value as :func:`is_empty` says."""
    return isinstance(kept, Part) or not is_empty(kept)
