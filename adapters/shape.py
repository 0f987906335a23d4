"""The anatomy every adapter shares: a BerichtType's *definition* (the catalogue's, see
``gateway.domain.model.definitie``) and a partner *vocabulary*.

A vocabulary says how one partner spells things: element
names (PascalCase or lower-case-hyphenated, with its own words such as ``Client`` for the
verdachte), code lists in capitals or lower case, and whether identifiers are attributes.

From shape + vocabulary follow the partner's parser, its renderer and its XSD, so the three
cannot drift apart, and every partner format of a type carries every field of that type:
translation between partners loses nothing by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from gateway.domain.model import BerichtType, Leaf

__all__ = ["Partner", "Stijl", "Vocabulary"]


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
    schema: str | None = None  # the published XSDs' file name stem (default: the prefix)

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
            return berichttype
        return _kebab(berichttype)

    def spell(self, leaf: Leaf, value: str) -> str:
        """The native spelling of a canonical code."""
        if value in self.spellings:
            return self.spellings[value]
        if not leaf.styled or self.stijl is Stijl.KEBAB:
            return value
        return value.upper().replace("-", "_")

    def codes(self, leaf: Leaf, *, sendable_only: bool) -> dict[str, str]:
        """Native spelling -> canonical value, for one CODE leaf."""
        assert leaf.codes is not None
        return {
            self.spell(leaf, value): value
            for value in leaf.codes.waarden
            if not sendable_only or leaf.allowed is None or value in leaf.allowed
        }

    def is_attribute(self, leaf: Leaf) -> bool:
        return leaf.attr or (leaf.ident and self.ident_as_attribute)


@dataclass(frozen=True)
class Partner:
    """A partner format: its vocabulary and which types it sends and receives."""

    vocabulary: Vocabulary
    sends: tuple[BerichtType, ...]
    receives: tuple[BerichtType, ...]
