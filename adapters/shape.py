"""The anatomy every adapter shares: a message *shape* and a partner *vocabulary*.

A shape describes the structure of one BerichtType's body once, in canonical field names:
which elements, in which order, how often, of which value kind. It is taken from the sender's
native format in the spec (§8). A vocabulary says how one partner spells things: element
names (PascalCase or lower-case-hyphenated, with its own words such as ``Client`` for the
verdachte), code lists in capitals or lower case, and whether identifiers are attributes.

From shape + vocabulary follow the partner's parser, its renderer and its XSD, so the three
cannot drift apart, and every partner format of a type carries every field of that type:
translation between partners loses nothing by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from gateway.domain.model import BerichtType


class Kind(Enum):
    """Value kinds of leaves; each has one XSD simple type (see ``adapters.xsd``)."""

    TEKST = "Tekst"  # free text, up to 4000 characters
    KORT = "KorteTekst"  # names, numbers, short labels: up to 200 characters
    REF = "Referentie"  # a local reference (id / ref attributes)
    BSN = "Bsn"
    POSTCODE = "Postcode"
    TELEFOON = "Telefoon"
    PARKETNUMMER = "Parketnummer"
    DATUM = "Datum"
    TIJDSTIP = "Tijdstip"
    JANEE = "JaNee"
    AANTAL = "Aantal"
    DUUR = "Duur"
    CODE = "Code"


@dataclass(frozen=True)
class Leaf:
    """A value: an element's text, an attribute, or the text content of its parent group."""

    field: str
    kind: Kind
    min: int = 1
    max: int | None = 1
    attr: bool = False
    ident: bool = False  # an identifier: an attribute in vocabularies that say so (OM)
    text: bool = False  # the parent element's own text content
    codes: type[StrEnum] | None = None
    allowed: frozenset[str] | None = None  # the codes a sender may use (None: all)
    styled: bool = True  # codes spelled in the partner's style (False: same everywhere)


@dataclass(frozen=True)
class Group:
    """An element whose children map onto a sub-model (or a list of them)."""

    field: str
    children: tuple[Leaf | Group, ...]
    min: int = 1
    max: int | None = 1
    item: str | None = None  # element name of each item of a list, when not the field name
    wrapper: bool = False  # a list wrapped in one element named after the field


Node = Leaf | Group


@dataclass(frozen=True)
class Shape:
    """The body of one BerichtType."""

    berichttype: BerichtType
    children: tuple[Node, ...]


def leaf(
    name: str,
    kind: Kind,
    *,
    min: int = 1,  # reads as the XSD's minOccurs
    max: int | None = 1,  # reads as the XSD's maxOccurs
    attr: bool = False,
    ident: bool = False,
    text: bool = False,
    codes: type[StrEnum] | None = None,
    allowed: set[StrEnum] | None = None,
    styled: bool = True,
) -> Leaf:
    if (kind is Kind.CODE) != (codes is not None):
        raise ValueError(f"leaf {name}: a CODE leaf needs codes, and only a CODE leaf has them")
    return Leaf(
        name,
        kind,
        min,
        max,
        attr,
        ident,
        text,
        codes,
        frozenset(c.value for c in allowed) if allowed else None,
        styled,
    )


def group(
    name: str,
    *children: Node,
    min: int = 1,  # reads as the XSD's minOccurs
    max: int | None = 1,  # reads as the XSD's maxOccurs
    item: str | None = None,
    wrapper: bool = False,
) -> Group:
    return Group(name, children, min, max, item, wrapper)


def code(name: str, codes: type[StrEnum], **kw: object) -> Leaf:
    return leaf(name, Kind.CODE, codes=codes, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- vocabulary


class Stijl(Enum):
    """How a partner spells element names and codes."""

    PASCAL = "PascalCase, codes in capitals"
    KEBAB = "lower-case-hyphenated, codes in lower case"


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _kebab(name: str) -> str:
    if "_" in name or name.islower():
        return name.replace("_", "-")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


# Codes whose capital spelling is not the canonical value upper-cased (the politie lists).
HOOFDLETTERS: dict[str, str] = {
    "huiselijk-geweld": "HG",
    "kindermishandeling": "KM",
    "ex-partnerstalking": "EPS",
    "ouderenmishandeling": "OM",
    "eergerelateerd-geweld": "EGG",
    "b-safer": "B-SAFER",
}


@dataclass(frozen=True)
class Vocabulary:
    """How one partner names elements, spells codes and places identifiers."""

    rol: str
    namespace: str
    prefix: str
    stijl: Stijl
    names: dict[str, str] = field(default_factory=dict)  # canonical name -> native name
    roots: dict[BerichtType, str] = field(default_factory=dict)
    wrap: dict[str, str] = field(default_factory=dict)  # list field -> added wrapper name
    spellings: dict[str, str] = field(default_factory=dict)  # canonical code -> own word
    ident_as_attribute: bool = False

    def name(self, canonical: str) -> str:
        if canonical in self.names:
            return self.names[canonical]
        if self.stijl is Stijl.PASCAL:
            return _pascal(canonical)
        return _kebab(canonical)

    def attribute(self, canonical: str) -> str:
        """Attributes are lower-case-hyphenated in every partner format."""
        return self.names.get("@" + canonical, _kebab(canonical))

    def root(self, berichttype: BerichtType) -> str:
        if berichttype in self.roots:
            return self.roots[berichttype]
        if self.stijl is Stijl.PASCAL:
            return berichttype.value
        return _kebab(berichttype.value)

    def spell(self, leaf: Leaf, value: str) -> str:
        """The native spelling of a canonical code."""
        if value in self.spellings:
            return self.spellings[value]
        if not leaf.styled or self.stijl is Stijl.KEBAB:
            return value
        return HOOFDLETTERS.get(value, value.upper().replace("-", "_"))

    def codes(self, leaf: Leaf, *, sendable_only: bool) -> dict[str, str]:
        """Native spelling -> canonical value, for one CODE leaf."""
        assert leaf.codes is not None
        return {
            self.spell(leaf, member.value): member.value
            for member in leaf.codes
            if not sendable_only or leaf.allowed is None or member.value in leaf.allowed
        }

    def is_attribute(self, leaf: Leaf) -> bool:
        return leaf.attr or (leaf.ident and self.ident_as_attribute)


@dataclass(frozen=True)
class Partner:
    """A partner format: its vocabulary and which types it sends and receives."""

    vocabulary: Vocabulary
    sends: tuple[BerichtType, ...]
    receives: tuple[BerichtType, ...]
