"""The default catalogue as the tests use it: the BerichtTypes, codec and policy of
``policy/v1`` and ``adapters/vocabularies``, read once."""

from __future__ import annotations

from typing import Any

from adapters import VOCABULARIES
from adapters.codec import Adapter
from adapters.shape import Partner
from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Berichttypen, Inhoud
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


def model(berichttype: str) -> type[Inhoud]:
    """The canonical model class of a BerichtType of the default catalogue."""
    return TYPEN.model(berichttype)


__all__ = ["ADAPTERS", "CODEC", "PARTNERS", "POLICY", "TYPEN", "codec", "model"]
