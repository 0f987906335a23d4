"""Building test messages from the examples: the one place for text edits."""

from __future__ import annotations

import re
import uuid


def replace_once(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced; ``old`` must occur exactly once (a changed example fails
    loudly instead of silently testing nothing)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the one occurrence of ``needle`` in ``text``."""
    assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times"
    return text[: text.index(needle)].count("\n") + 1


# the reeks-id attribute of an afspraken versie (v2 §6), in any vocabulary's spelling
_REEKS_ID = re.compile(r'(\b[Rr]eeks[-_]?[Ii]d=")[^"]+(")')


def fresh(
    raw: bytes,
    *,
    bericht_id: str | None = None,
    conversatie_id: str | None = None,
    reeks_id: str | None = None,
) -> bytes:
    """The message with a new BerichtId (and optionally another ConversatieId). An afspraken
    versie gets a new reeks-id too (a versie 1 of a known reeks is VERSIE_ONGELDIG), or
    ``reeks_id`` to continue a reeks."""
    text = _REEKS_ID.sub(rf"\g<1>{reeks_id or uuid.uuid4()}\g<2>", raw.decode())
    text = re.sub(
        r"(<kp:BerichtId>)[^<]+(</kp:BerichtId>)", rf"\g<1>{bericht_id or uuid.uuid4()}\g<2>", text
    )
    if conversatie_id is not None:
        text = re.sub(
            r"(<kp:ConversatieId>)[^<]+(</kp:ConversatieId>)", rf"\g<1>{conversatie_id}\g<2>", text
        )
    return text.encode()


def reeks_id_of(raw: bytes) -> str:
    """The reeks-id of an afspraken versie."""
    found = _REEKS_ID.search(raw.decode())
    assert found is not None, "no reeks-id"
    return found.group(0).split('"')[1]


def bericht_id_of(raw: bytes) -> str:
    """The BerichtId in a message's Kop."""
    found = re.search(rb"<kp:BerichtId>([^<]+)</kp:BerichtId>", raw)
    assert found is not None, "no BerichtId"
    return found.group(1).decode()


__all__ = ["bericht_id_of", "fresh", "line_of", "reeks_id_of", "replace_once"]
