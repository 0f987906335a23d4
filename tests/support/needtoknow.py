"""Need-to-know in tests: the canonical model's leaves and their categories, and the delivered
bytes parsed back with the recipient's own codec."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lxml import etree
from pydantic import BaseModel

from gateway.codec.envelope import KP
from gateway.domain.model import (
    BLOKATTRIBUTEN,
    BerichtType,
    Categorie,
    Inhoud,
    Part,
    Rol,
    field_categorieen,
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
        values.update(v.strip() for v in element.attrib.values())
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
    "leaf_multiset",
    "leaves",
    "parse_delivered",
]
