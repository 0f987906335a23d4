"""Checking parts built without pydantic's validation (``gevalideerd``) against the same parts
built with it: the one place for that comparison."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def validated(value: Any) -> Any:
    """``value`` built again the straightforward way: every part by ``Model(**fields)`` (with
    pydantic's validation), from the inside out, with the fields it had set."""
    if isinstance(value, list):
        return [validated(v) for v in value]
    if isinstance(value, tuple):
        return tuple(validated(v) for v in value)
    if isinstance(value, BaseModel):
        return type(value)(
            **{name: validated(getattr(value, name)) for name in value.model_fields_set}
        )
    return value


def assert_same_build(built: Any, straight: Any) -> None:
    """Equal, with the same fields in the same order, the same types and the same fields set,
    part by part (what ``repr``, ``model_dump`` and ``model_copy`` see)."""
    assert type(built) is type(straight)
    if isinstance(built, list | tuple):
        assert len(built) == len(straight)
        for left, right in zip(built, straight, strict=True):
            assert_same_build(left, right)
        return
    if isinstance(built, BaseModel):
        assert list(built.__dict__) == list(type(built).model_fields)
        assert list(built.__dict__) == list(straight.__dict__)
        assert built.model_fields_set == straight.model_fields_set
        assert built.__pydantic_extra__ == straight.__pydantic_extra__
        assert built.__pydantic_private__ == straight.__pydantic_private__
        for name in built.__dict__:
            assert_same_build(getattr(built, name), getattr(straight, name))
        assert built == straight
        assert repr(built) == repr(straight)
        assert built.model_dump(mode="json") == straight.model_dump(mode="json")
        return
    assert built == straight


__all__ = ["assert_same_build", "validated"]
