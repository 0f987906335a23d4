"""Need-to-know: strip from a canonical body every field whose categories are not granted.

Driven entirely by the category annotations of ``gateway.domain.model`` (spec §7): a field is kept
only when *all* of its effective categories (its own, its ancestors', and what a list item
adds from its content, such as ``kind`` for a child) are granted. Parts left empty are
dropped. There is no code per BerichtType here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.domain.model import (
    Categorie,
    Inhoud,
    Part,
    categorieen_in,
    field_plan,
    is_empty,
)


@dataclass(frozen=True)
class Gefilterd:
    """A body as one recipient may receive it, with what was kept and what removed."""

    inhoud: Inhoud
    kept: frozenset[Categorie]
    removed: frozenset[Categorie]


def filter_inhoud(inhoud: Inhoud, granted: frozenset[Categorie]) -> Gefilterd:
    """The body with only granted categories; ``removed`` = present but not granted."""
    present = frozenset(categorieen_in(inhoud))
    values = _filter_fields(inhoud, frozenset(), granted)
    filtered = type(inhoud)(**values)
    return Gefilterd(
        inhoud=filtered,
        kept=frozenset(categorieen_in(filtered)),
        removed=present - granted,
    )


def _filter_fields(
    part: Part, inherited: frozenset[Categorie], granted: frozenset[Categorie]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in field_plan(type(part)):  # the model's fields and categories, read once per class
        name = f.name
        value = getattr(part, name)
        cats = inherited | f.categorieen
        if isinstance(value, list):
            values[name] = [
                kept for item in value if (kept := _filter_value(item, cats, granted)) is not None
            ]
        else:
            values[name] = _filter_value(value, cats, granted)
    return values


def _filter_value(value: Any, cats: frozenset[Categorie], granted: frozenset[Categorie]) -> Any:
    if value is None:
        return None
    if isinstance(value, Part):
        cats = cats | value.extra_categorieen()
        if not cats <= granted:
            return None
        filtered = type(value)(**_filter_fields(value, cats, granted))
        return None if is_empty(filtered) else filtered
    return value if cats <= granted else None
