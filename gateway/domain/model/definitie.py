"""A BerichtType as data: its canonical definition (fields, order, cardinality, value kinds,
need-to-know categories) and the pydantic model built from it.

The definitions are policy data (``policy/v1/typen.yaml``, read by
``gateway.policy.typen``); this module only holds their structure and turns one into a model
class, so that a new BerichtType is a data entry and no Python file changes.

A definition describes the structure of a body once, in canonical field names, taken from the
sender's native format in the spec (§8): which elements, in which order, how often, of which
value kind, and which fields are attributes, an element's own text, or identifiers (an
attribute in the vocabularies that say so). Per partner, a vocabulary (``adapters``) says how
the names and codes are spelled; parser, renderer and XSD follow from the two together.

Body fields are optional in the canonical model: which ones a sender must fill is the sender's
XSD's business; what a recipient receives depends on its grants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, create_model

from gateway.domain.model.part import Cat, Extra, Part

__all__ = [
    "Berichttypen",
    "Codelijst",
    "Definitie",
    "Group",
    "Inhoud",
    "Kind",
    "Leaf",
    "Node",
    "build_model",
]


class Kind(Enum):
    """Value kinds of leaves; each has one XSD simple type (see ``adapters.xsd``)."""

    TEKST = "Tekst"  # free text, up to 4000 characters
    KORT = "KorteTekst"  # names, numbers, short labels: up to 200 characters
    REF = "Referentie"  # a local reference (id / ref attributes)
    UUID = "Uuid"  # a universally unique identifier (an afspraken reeks-id: v2 §6)
    BSN = "Bsn"
    POSTCODE = "Postcode"
    TELEFOON = "Telefoon"
    PARKETNUMMER = "Parketnummer"
    DATUM = "Datum"
    TIJDSTIP = "Tijdstip"
    JANEE = "JaNee"
    AANTAL = "Aantal"
    DUUR = "Duur"
    ROL = "Rol"  # a partner rol of the register (checked against it, not an XSD list)
    BRON = "Bron"  # where a block came from: ``beroep`` or ``partner/beroep`` (v2 §8)
    CODE = "Code"


@dataclass(frozen=True, slots=True)
class Codelijst:
    """A code list of the catalogue: its name (the XSD simple type's) and canonical values."""

    naam: str
    waarden: tuple[str, ...]


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
    codes: Codelijst | None = None
    allowed: frozenset[str] | None = None  # the codes a sender may use (None: all)
    styled: bool = True  # codes spelled in the partner's style (False: same everywhere)
    categorieen: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Group:
    """An element whose children map onto a sub-model (or a list of them)."""

    field: str
    children: tuple[Leaf | Group, ...]
    min: int = 1
    max: int | None = 1
    item: str | None = None  # element name of each item of a list, when not the field name
    wrapper: bool = False  # a list wrapped in one element named after the field
    categorieen: frozenset[str] = frozenset()
    extra: tuple[Extra, ...] = ()  # categories an item adds by its content


Node = Leaf | Group


class Inhoud(Part):
    """Base of every message body. ``berichttype`` names the catalogue entry it belongs to."""

    berichttype: ClassVar[str]


@dataclass(frozen=True)
class Definitie:
    """One BerichtType: its canonical fields and the model class built from them."""

    berichttype: str
    omschrijving: str
    children: tuple[Node, ...]
    model: type[Inhoud]


_PYTHON: dict[Kind, type] = {
    Kind.DATUM: dt.date,
    Kind.TIJDSTIP: dt.datetime,
    Kind.JANEE: bool,
    Kind.AANTAL: int,
}


def _value_type(leaf: Leaf) -> Any:
    if leaf.codes is not None:
        return Literal[leaf.codes.waarden]
    return _PYTHON.get(leaf.kind, str)


def _class_name(path: tuple[str, ...]) -> str:
    """``ZsmAanmelding_Zaak`` for the field ``zaak`` of a ZsmAanmelding."""
    head, *rest = path
    return "_".join([head, *("".join(p.capitalize() for p in part.split("_")) for part in rest)])


def _fields(path: tuple[str, ...], nodes: tuple[Node, ...]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for node in nodes:
        if isinstance(node, Group):
            value: Any = _part_model((*path, node.field), node)
        else:
            value = _value_type(node)
        annotation: Any = value | None if node.max == 1 else list[value]
        if node.categorieen:
            annotation = Annotated[annotation, Cat(*node.categorieen)]
        if node.max == 1:
            fields[node.field] = (annotation, None)
        else:
            fields[node.field] = (annotation, Field(default_factory=list))
    return fields


def _part_model(path: tuple[str, ...], group: Group) -> type[Part]:
    model = create_model(_class_name(path), __base__=Part, **_fields(path, group.children))
    model.extra_regels = group.extra
    return model


def build_model(berichttype: str, nodes: tuple[Node, ...], omschrijving: str = "") -> type[Inhoud]:
    """The pydantic model of one BerichtType's body, built from its definition."""
    model = create_model(
        berichttype, __base__=Inhoud, __doc__=omschrijving or None, **_fields((berichttype,), nodes)
    )
    model.berichttype = berichttype
    return model


@dataclass(frozen=True)
class Berichttypen(Mapping[str, Definitie]):
    """The catalogue's BerichtTypes by name, with the register they refer to: the rollen
    (the values of a ``Rol`` leaf) and the need-to-know categories."""

    definities: Mapping[str, Definitie]
    rollen: frozenset[str]
    categorieen: tuple[str, ...]
    rol_namen: Mapping[str, str] = field(default_factory=dict)  # rol -> its name, for people
    # spec v2 §8: the grounds on which a sender may break beroepsgeheim (a code list)
    doorbrekingsgronden: tuple[str, ...] = ()

    def __getitem__(self, berichttype: str) -> Definitie:
        return self.definities[berichttype]

    def __iter__(self) -> Iterator[str]:
        return iter(self.definities)

    def __len__(self) -> int:
        return len(self.definities)

    def model(self, berichttype: str) -> type[Inhoud]:
        return self.definities[berichttype].model
