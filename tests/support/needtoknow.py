"""Need-to-know in tests: the canonical model's leaves and their categories, and the delivered
bytes parsed back with the recipient's own codec."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lxml import etree
from pydantic import BaseModel

from gateway.codec.envelope import KP
from gateway.decision.needtoknow import VrijeTekst
from gateway.domain.model import (
    BLOKATTRIBUTEN,
    BerichtType,
    Categorie,
    Inhoud,
    Part,
    Rol,
    field_categorieen,
    field_plan,
    is_empty,
    part_type,
)
from gateway.safexml import xmlsafe
from tests.support.catalogue import ADAPTERS, POLICY
from tests.support.paths import REPO_ROOT
from tests.support.strategies import MESSAGE_CODEC

ROOT = REPO_ROOT
ALL = frozenset(POLICY.typen.categorieen)
NONE: frozenset[Categorie] = frozenset()

ExampleBytes = Callable[[str], bytes]
KIND_BSN = "999990032"  # the child in the examples

# Partner names of tests/broker.py by rol (Veilig Thuis: the Twente regio of the examples).
NAAM = {
    "politie": "politie",
    "veilig-thuis": "vt-twente",
    "openbaar-ministerie": "om",
    "raad-kinderbescherming": "rvdk",
    "reclassering": "reclassering",
}
ROL = {naam: rol for rol, naam in NAAM.items()}


# --------------------------------------------------------------------------- model helpers


def leaves(
    part: BaseModel,
    inherited: frozenset[Categorie] = NONE,
    path: tuple[str, ...] = (),
    vrij: Mapping[str, frozenset[Categorie]] | None = None,
) -> Iterator[tuple[str, Any, frozenset[Categorie]]]:
    """Every filled leaf value of a canonical part: (dotted field path, value, effective
    categories: its own, its ancestors', what a list item adds from its content and, for a
    free-text field in ``vrij`` (the policy's v2 §8 table), what its content may hold)."""
    for name in type(part).model_fields:
        value = getattr(part, name)
        dotted = ".".join((*path, name))
        cats = inherited | field_categorieen(type(part), name) | (vrij or {}).get(dotted, NONE)
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, Part):
                if is_empty(item):
                    continue  # nothing but block attributes: an empty part (v2 §8)
                yield from leaves(item, cats | item.extra_categorieen(), (*path, name), vrij)
            else:
                yield dotted, item, cats


def leaf_multiset(
    part: BaseModel,
    granted: frozenset[Categorie] = ALL,
    vrij: Mapping[str, frozenset[Categorie]] | None = None,
) -> Counter[str]:
    """The leaves of ``part`` whose categories are all granted, as (path, value) reprs; a
    block attribute (bron, beroepsgeheim, ...) only with granted content of its block."""
    return Counter(f"{p}={v!r}" for p, v in _granted(part, granted, NONE, (), vrij or {}))


def _granted(
    part: BaseModel,
    granted: frozenset[Categorie],
    inherited: frozenset[Categorie],
    path: tuple[str, ...],
    vrij: Mapping[str, frozenset[Categorie]],
) -> list[tuple[str, Any]]:
    content: list[tuple[str, Any]] = []
    attributes: list[tuple[str, Any]] = []
    for name in type(part).model_fields:
        value = getattr(part, name)
        dotted = ".".join((*path, name))
        cats = inherited | field_categorieen(type(part), name) | vrij.get(dotted, NONE)
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, Part):
                content += _granted(
                    item, granted, cats | item.extra_categorieen(), (*path, name), vrij
                )
            elif cats <= granted:
                (attributes if name in BLOKATTRIBUTEN else content).append((dotted, item))
    return content + attributes if content else []


def declared_leaves(
    model: type[BaseModel], inherited: frozenset[Categorie] = NONE, path: str = ""
) -> Iterator[tuple[str, frozenset[Categorie]]]:
    """Every leaf field a model declares, with the categories it always has."""
    for name in model.model_fields:
        cats = inherited | field_categorieen(model, name)
        sub = part_type(model, name)
        where = f"{path}{name}"
        if sub is None:
            yield where, cats
        else:
            yield from declared_leaves(sub, cats, f"{where}.")


def body_element(payload: bytes) -> etree._Element:
    root = xmlsafe.parse(payload)
    inhoud_el = root.find(f"{KP}Inhoud")
    assert inhoud_el is not None
    children = [c for c in inhoud_el if isinstance(c.tag, str)]
    assert len(children) == 1
    return children[0]


def parse_delivered(payload: bytes, rol: Rol, berichttype: BerichtType) -> Inhoud:
    """The delivered body, parsed back with the recipient's own codec."""
    body = body_element(payload)
    codec = ADAPTERS[rol].codecs[berichttype]
    assert body.tag == codec.tag, f"{rol} got {body.tag}, expects {codec.tag}"
    MESSAGE_CODEC.schemas.check_body(body, sent=False)
    return codec.parse(body)


def body_values(payload: bytes) -> set[str]:
    """Every text and attribute value in the delivered body, stripped."""
    values: set[str] = set()
    for element in body_element(payload).iter():
        if element.text and element.text.strip():
            values.add(element.text.strip())
        for value in element.attrib.values():
            assert isinstance(value, str)  # lxml gives str in Python 3 (its stubs allow bytes)
            values.add(value.strip())
    return values


__all__ = [
    "ALL",
    "KIND_BSN",
    "NAAM",
    "NONE",
    "POLICY",
    "ROL",
    "ROOT",
    "ExampleBytes",
    "body_element",
    "body_values",
    "declared_leaves",
    "field_walk",
    "leaf_multiset",
    "leaves",
    "parse_delivered",
]


def field_walk(
    part: Part, vrije_tekst: VrijeTekst | None
) -> tuple[set[Categorie], list[tuple[str, frozenset[Categorie]]], list[str]]:
    """The plain walk of ``part``'s fields, the reference the compiled inventory
    (``needtoknow.Inventarisatie``) is checked against: the effective categories of the filled
    fields (free texts included), the free-text fields present with their categories, and the
    paths of the empty parts met."""
    found: set[Categorie] = set()
    teksten: list[tuple[str, frozenset[Categorie]]] = []
    leeg: list[str] = []
    _walk(part, frozenset(), "", vrije_tekst or {}, found, teksten, leeg)
    return found, teksten, leeg


def _walk(
    part: Part,
    inherited: frozenset[Categorie],
    prefix: str,
    vrij: VrijeTekst,
    found: set[Categorie],
    teksten: list[tuple[str, frozenset[Categorie]]] | None,
    leeg: list[str] | None,
) -> bool:
    """Add to ``found`` (and ``teksten``) what the filled fields below ``part`` carry; whether
    any field of ``part`` is filled. One pass: a field whose value :func:`is_empty` is skipped,
    decided from its items' walks instead of by asking :func:`is_empty` first and walking
    again (which walked every part once per ancestor). ``leeg`` gets the path of every empty
    part met (one that filtering would drop even when every category is granted)."""
    filled = False
    for f in field_plan(type(part)):  # the model's fields and categories, read once per class
        value = getattr(part, f.name)
        if value is None or (isinstance(value, list) and not value):
            continue
        path = f"{prefix}{f.name}"
        cats = inherited | f.categorieen
        extra = vrij.get(path)
        if extra:
            cats |= extra
        if f.part is None and not isinstance(value, list | tuple | BaseModel):  # filled
            filled = filled or not f.blokattribuut  # a block's attributes do not fill it
            found |= cats
            if teksten is not None and extra is not None:
                teksten.append((path, cats))
            continue
        below: set[Categorie] = set()
        field_teksten: list[tuple[str, frozenset[Categorie]]] | None = (
            None if teksten is None else []
        )
        if field_teksten is not None and path in vrij:
            field_teksten.append((path, cats))
        field_filled = False
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Part):
                item_cats = cats | item.extra_categorieen()
                below |= item_cats
                item_filled = _walk(item, item_cats, f"{path}.", vrij, below, field_teksten, leeg)
                if not item_filled and leeg is not None:
                    leeg.append(path)
                field_filled |= item_filled
            else:
                below |= cats
                field_filled |= not is_empty(item)
        if not field_filled:
            continue  # only empty parts or values: the field counts as empty (see is_empty)
        filled = True
        found |= below
        if teksten is not None and field_teksten:
            teksten.extend(field_teksten)
    return filled
