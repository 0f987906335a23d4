"""The default catalogue as the tests use it: the BerichtTypes, codec and policy of
``policy/v1`` and ``adapters/vocabularies``, read once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from adapters import VOCABULARIES
from adapters.codec import Adapter, _part_type
from adapters.shape import Partner
from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Berichttypen, Inhoud, Part
from gateway.policy.catalogue import Policy, load_policy
from gateway.policy.typen import load_typen
from tests.support.paths import POLICY_DIR

TYPEN: Berichttypen = load_typen(POLICY_DIR)
CODEC = MessageCodec(TYPEN)
POLICY: Policy = load_policy(POLICY_DIR, leesbaar=CODEC.readable(), typen=TYPEN)
ADAPTERS: dict[str, Adapter] = dict(CODEC.by_rol)
PARTNERS: dict[str, Partner] = {rol: a.partner for rol, a in ADAPTERS.items()}


def codec(**options: Any) -> MessageCodec:
    """A codec of the default catalogue with other options (max_bytes, max_depth, ...)."""
    return MessageCodec(TYPEN, vocabularies=VOCABULARIES, **options)


if TYPE_CHECKING:
    # The catalogue builds its model classes at run time, from policy data: mypy cannot know
    # their fields. These two describe such a class as the tests use it: built from its
    # fields by name, each field read by name (of a type the catalogue decides, so Any).
    # They exist for mypy only; model() and part_of() hand out the real classes.

    class Catalogusdeel(Part):
        """A part of a catalogue model (a group of fields, a list item)."""

        def __init__(self, **velden: Any) -> None: ...
        def __getattr__(self, veld: str) -> Any: ...

    class Catalogusmodel(Inhoud):
        """The body model of a BerichtType of the catalogue."""

        def __init__(self, **velden: Any) -> None: ...
        def __getattr__(self, veld: str) -> Any: ...


def model(berichttype: str) -> type[Catalogusmodel]:
    """The canonical model class of a BerichtType of the default catalogue."""
    return cast("type[Catalogusmodel]", TYPEN.model(berichttype))


def part_of(model_: type[Part], veld: str) -> type[Catalogusdeel]:
    """The Part class behind the field ``veld`` of a catalogue model (``X | None`` or
    ``list[X]``); raises TypeError when the field holds no part."""
    return cast("type[Catalogusdeel]", _part_type(model_, veld))


__all__ = ["ADAPTERS", "CODEC", "PARTNERS", "POLICY", "TYPEN", "codec", "model", "part_of"]
