"""Field paths of the policy (``kop.afzender.rol``, ``personen[rol=kind].geboortedatum``):
resolving one in a message, and checking at load time that it names a field of the model."""

from __future__ import annotations

import re
import typing
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from gateway.domain.model import Bericht, Kop, part_type

__all__ = [
    "check_path",
    "resolve",
    "resolve_all",
    "resolve_in",
]

_SEGMENT = re.compile(r"^([a-z_]+)(?:\[([a-z_]+)=([a-z\-]+)\])?$")


def resolve(bericht: Bericht, path: str) -> Any:
    """The value at ``path`` in a message (None where a part is missing)."""
    head, _, rest = path.partition(".")
    if head == "kop":
        return resolve_in(bericht.kop, rest) if rest else bericht.kop
    return resolve_in(bericht.inhoud, path)


_Segment = tuple[str, str | None, str | None]  # field name; item attribute and value


@lru_cache(maxsize=1024)
def _segments(path: str) -> tuple[_Segment | None, ...]:
    """The segments of a path, read once per path (the policy's paths are few); None for one
    that is no segment."""
    found = (_SEGMENT.match(segment) for segment in path.split("."))
    return tuple(None if f is None else (f[1], f[2], f[3]) for f in found)


def resolve_in(part: Any, path: str) -> Any:
    """The value at ``path`` below ``part`` (an item of a repeated part, say), as
    :func:`resolve` reads it in a message."""
    current: Any = part
    for segment in _segments(path):
        if segment is None or current is None:
            return None
        name, attr, value = segment
        current = getattr(current, name, None)
        if attr is not None:
            current = next((i for i in current or [] if str(getattr(i, attr, None)) == value), None)
        elif isinstance(current, list):
            current = current[0] if current else None
    return current


def resolve_all(bericht: Bericht, path: str) -> list[Any]:
    """Every value at ``path``, through every item of a repeated part (``voorwaarde.termijn``
    of each voorwaarde); missing ones left out."""
    segments = path.split(".")
    current: list[Any] = [bericht.kop if segments[0] == "kop" else bericht.inhoud]
    if segments[0] == "kop":
        segments = segments[1:]
    for segment in segments:
        found = _SEGMENT.match(segment)
        if found is None:
            return []
        name, attr, value = found.groups()
        volgende: list[Any] = []
        for item in current:
            waarde = getattr(item, name, None)
            for w in waarde if isinstance(waarde, list | tuple) else [waarde]:
                if w is not None and (attr is None or str(getattr(w, attr, None)) == value):
                    volgende.append(w)
        current = volgende
    return current


def check_path(inhoud: type[BaseModel], path: str) -> type[Any]:
    """The model type a path ends in, in a message whose body is an ``inhoud``; ValueError
    when it names no field."""
    segments = path.split(".")
    model: type[BaseModel] = inhoud
    if segments[0] == "kop":
        model, segments = Kop, segments[1:]
    for index, segment in enumerate(segments):
        found = _SEGMENT.match(segment)
        if found is None or found.group(1) not in model.model_fields:
            raise ValueError(f"{path!r}: {model.__name__} has no field {segment!r}")
        name = found.group(1)
        sub = part_type(model, name)
        if found.group(2) is not None and (sub is None or found.group(2) not in sub.model_fields):
            raise ValueError(f"{path!r}: cannot select on {found.group(2)!r} in {name}")
        if index == len(segments) - 1:
            if sub is not None:
                return sub
            return _value_type(model.model_fields[name].annotation)
        if sub is None:
            raise ValueError(f"{path!r}: {name} has no fields")
        model = sub
    return model


def _value_type(annotation: Any) -> type[Any]:
    """``X`` for an annotation ``X`` or ``X | None``; ``object`` for anything else."""
    if isinstance(annotation, type):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 and isinstance(args[0], type) else object
