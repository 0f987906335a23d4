"""Strict readers for what an auditor is handed: one byte form for every value, or a refusal.

An export or checkpoint that can be written in two ways can be edited without changing what a
lax reader sees (``Z`` or ``+00:00``, ``" 194 "`` or ``194``, padding bits in base64, a JSON
key given twice of which a reader keeps the last). These readers accept exactly the form the
gateway writes and raise :class:`Malformed` for anything else.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from typing import Any

__all__ = [
    "Malformed",
    "b64_decode",
    "b64_encode",
    "json_object",
    "size_text",
    "strict_int",
    "timestamp",
    "timestamp_text",
]

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


class Malformed(ValueError):  # noqa: N818 - named for what the input is (an export refused)
    """A value not in the one form the gateway writes."""


def b64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str, *, length: int | None = None, what: str = "base64") -> bytes:
    """Standard base64 with padding, and only the encoding the gateway writes (no line
    breaks, no spaces, no non-zero padding bits)."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Malformed(f"{what}: not base64") from None
    if b64_encode(data) != text:
        raise Malformed(f"{what}: not in canonical base64")
    if length is not None and len(data) != length:
        raise Malformed(f"{what}: {len(data)} bytes, expected {length}")
    return data


def size_text(text: str, what: str = "size") -> int:
    """A tree size as text: decimal digits, no sign, no spaces, no leading zeros."""
    if not _DECIMAL.fullmatch(text):
        raise Malformed(f"{what}: {text!r} is not a decimal integer in canonical form")
    return int(text)


def strict_int(value: Any, what: str) -> int:
    """A JSON integer (not a string, a float or a boolean)."""
    if type(value) is not int or value < 0:
        raise Malformed(f"{what}: {value!r} is not a non-negative integer")
    return value


def timestamp_text(moment: dt.datetime) -> str:
    """The one timestamp form: ISO 8601 in UTC with ``+00:00`` (Python's isoformat)."""
    return moment.astimezone(dt.UTC).isoformat()


def timestamp(text: Any, what: str = "tijd") -> dt.datetime:
    """Read a timestamp in the one form :func:`timestamp_text` writes."""
    if not isinstance(text, str):
        raise Malformed(f"{what}: {text!r} is not a timestamp")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"{what}: {text!r} is not a timestamp") from None
    if moment.tzinfo is None or timestamp_text(moment) != text:
        raise Malformed(f"{what}: {text!r} is not in the form {timestamp_text(moment)!r}")
    return moment


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise Malformed(f"key {key!r} appears twice")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise Malformed(f"{name} is not JSON")


def json_object(text: str, keys: set[str] | None = None, what: str = "line") -> dict[str, Any]:
    """A JSON object with no key given twice (at any depth), no NaN or Infinity, and, when
    ``keys`` is given, exactly those keys."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except Malformed as exc:
        raise Malformed(f"{what}: {exc}") from None
    except ValueError as exc:
        raise Malformed(f"{what}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise Malformed(f"{what}: not a JSON object")
    if keys is not None and set(data) != keys:
        raise Malformed(f"{what}: keys {sorted(data)}, expected {sorted(keys)}")
    return data
