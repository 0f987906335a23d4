"""Need-to-know: strip from a canonical body every field whose categories are not granted.

Driven entirely by the category annotations of ``gateway.domain.model`` (spec §7) and the
policy's free-text table (spec v2 §8): a field is kept only when *all* of its effective
categories (its own, its ancestors', what a list item adds from its content, such as ``kind``
for a child, and for a free-text field every category its content may hold) are granted.
Parts left empty are dropped (a part's block attributes, ``bron`` and the like, do not fill
it). No code here is written for a BerichtType: the inventory walk of each is generated from
its definition and free-text table when its first body is walked (:class:`Inventarisatie`).

``kept`` and ``removed`` count a free-text field's categories too, so the audit's account of a
delivery is what its bytes can contain; ``achtergehouden`` names each free-text field that was
present and withheld, with the categories the recipient lacks for it.

What a body holds does not depend on the recipient: the pipeline's :class:`Inventarisatie` of
its type walks it once per message (:func:`inventaris` for a caller without one), and
:func:`filter_inhoud` of each recipient starts from that. A recipient granted
every category present gets the body itself (nothing to remove, no part left empty), without
a second walk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from gateway.domain.generated import Source
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
    """The categories and free-text fields of ``inhoud`` (one walk), for a caller without an
    :class:`Inventarisatie` of its own (the pipeline keeps one per BerichtType): the walker
    of a table with the same content is shared."""
    gezien = _gedeeld(frozenset((vrije_tekst or {}).items()))(inhoud)
    return dataclasses.replace(gezien, vrije_tekst=vrije_tekst)


@lru_cache(maxsize=64)
def _gedeeld(tabel: frozenset[tuple[str, frozenset[Categorie]]]) -> Inventarisatie:
    return Inventarisatie(dict(tabel))


_GEEN: frozenset[Categorie] = frozenset()


class Inventarisatie:
    """The inventory walk for one free-text table (one BerichtType's): per model class and
    path a function written from its fields (their paths, their categories with the table's,
    which are free texts, which hold parts) and compiled once, on the first body of that
    class (:class:`_WalkSource`). A filled value field adds its own categories; the inherited
    ones are added once per part that has one. A field counts as filled when it holds a value
    or an item that is not empty (:func:`~gateway.domain.model.is_empty`: a block's
    attributes alone do not fill it); a part none of whose fields is filled is empty, and
    filtering drops it."""

    def __init__(self, vrije_tekst: VrijeTekst | None) -> None:
        self.vrije_tekst = vrije_tekst
        self.vrij: VrijeTekst = vrije_tekst or {}
        self._walks: dict[tuple[type[Part], str], _Walk] = {}

    def __call__(self, inhoud: Inhoud) -> Inventaris:
        """What ``inhoud`` holds (:class:`Inventaris`)."""
        found: set[Categorie] = set()
        teksten: list[tuple[str, frozenset[Categorie]]] = []
        leeg: list[str] = []
        self.walk_of(type(inhoud), "")(inhoud, _GEEN, found, teksten, leeg)
        return Inventaris(
            inhoud, self.vrije_tekst, frozenset(found), tuple(teksten), volledig=not leeg
        )

    def walk_of(self, model: type[Part], prefix: str) -> _Walk:
        """The walk of a part of class ``model`` at path ``prefix``: it adds to ``found`` and
        ``teksten`` what the filled fields below the part carry, to ``leeg`` the path of every
        empty part met, and says whether any field of the part is filled."""
        found = self._walks.get((model, prefix))
        if found is None:
            source = _WalkSource(self, model)
            found = source.function(source.walk(model, prefix))
        return found


_Walk = Callable[
    [Part, frozenset[Categorie], set[Categorie], list[tuple[str, frozenset[Categorie]]], list[str]],
    bool,
]


class _WalkSource(Source):
    """The source of the walks below one model class, a function per (class, path), each
    registered with its :class:`Inventarisatie` once compiled. A walk calls the walk of its
    field's class by name; an item of another class (a subclass) goes through
    :meth:`Inventarisatie.walk_of`."""

    def __init__(self, inventarisatie: Inventarisatie, model: type[Part]) -> None:
        # named by the class and the table's content: walkers alike share a name (and source)
        tabel = hash(frozenset(inventarisatie.vrij.items())) & 0xFFFFFFFF
        super().__init__(f"<ketenpoort inventory {model.__name__} {tabel:08x}>")
        self.inventarisatie = inventarisatie
        self.namespace.update(
            Part=Part,
            LIJST=list | tuple | BaseModel,
            is_empty=is_empty,
            walk_of=inventarisatie.walk_of,
        )
        self.written: dict[tuple[type[Part], str], str] = {}

    def walk(self, model: type[Part], prefix: str) -> str:
        """The function of ``model`` at ``prefix`` (and those below it); returned: its name."""
        key = (model, prefix)
        if key in self.written:
            return self.written[key]
        name = self.written[key] = self.name("walk", model.__name__)
        vrij = self.inventarisatie.vrij
        body = [
            f"def {name}(part, inherited, found, teksten, leeg):",
            "    values = part.__dict__",
            "    filled = False",
            "    any_value = False",
        ]
        delen: list[str] = []
        for f in field_plan(model):
            path = f"{prefix}{f.name}"
            own = f.categorieen | vrij.get(path, _GEEN)
            if f.part is None:
                body += self._waarde(f.name, path, own, tekst=path in vrij, blok=f.blokattribuut)
            else:
                delen += self._deel(f.name, path, own, f.part, tekst=path in vrij)
        body += ["    if any_value:", "        found |= inherited", *delen, "    return filled"]
        self.lines += [*body, ""]
        return name

    def _waarde(
        self, field: str, path: str, own: frozenset[Categorie], *, tekst: bool, blok: bool
    ) -> list[str]:
        """A value field: filled when it holds a value (a list, tuple or part by an item that
        is not empty); a block attribute does not fill its part."""
        counted = ["any_value = True"]
        if own:
            counted.append(f"found |= {self.constant(own)}")
        if tekst:
            counted.append(
                f"teksten.append(({self.constant(path)}, inherited | {self.constant(own)}))"
            )
        lines = [
            f"    v = values[{field!r}]",
            "    if v is None:",
            "        pass",
            "    elif type(v) is str or not isinstance(v, LIJST):",
        ]
        if not blok:
            lines.append("        filled = True")
        lines += [f"        {line}" for line in counted]
        lines += [
            "    elif not all(is_empty(x) for x in (v if isinstance(v, list) else (v,))):",
            "        filled = True",
            *(f"        {line}" for line in counted),
        ]
        return lines

    def _deel(
        self,
        field: str,
        path: str,
        own: frozenset[Categorie],
        part: type[Part],
        *,
        tekst: bool,
    ) -> list[str]:
        """A field of parts: filled when an item is; an empty item part is met (``leeg``)."""
        sub = self.walk(part, path + ".")
        cls, where, below = self.constant(part), self.constant(path), self.constant(path + ".")
        own_ = self.constant(own)
        return [
            f"    v = values[{field!r}]",
            "    if v is not None and (not isinstance(v, list) or v):",
            f"        cats = inherited | {own_}",
            "        below = set()",
            f"        ft = [({where}, cats)]" if tekst else "        ft = []",
            "        ff = False",
            "        for item in v if isinstance(v, list) else (v,):",
            "            if isinstance(item, Part):",
            "                ic = cats | item.extra_categorieen()",
            "                below |= ic",
            f"                w = {sub} if type(item) is {cls} else walk_of(type(item), {below})",
            "                if w(item, ic, below, ft, leeg):",
            "                    ff = True",
            "                else:",
            f"                    leeg.append({where})",
            "            else:",
            "                below |= cats",
            "                if not is_empty(item):",
            "                    ff = True",
            "        if ff:",
            "            filled = True",
            "            found |= below",
            "            teksten.extend(ft)",
        ]

    def function(self, entry: str) -> Any:
        """Compile, then register every walk written with the inventarisatie."""
        compiled = super().function(entry)
        walks = self.inventarisatie._walks
        for key, name in self.written.items():
            walks.setdefault(key, self.namespace[name])
        return compiled


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
