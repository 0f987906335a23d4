"""An audit entry and its pseudonyms: the fast ways of making them make exactly what the plain
ones make (an entry's fields, their order and its record's bytes; the same HMAC)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.record import Entry, EntryFields, Pseudonymiser, build_record, canonical

NOW = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)

_text = st.text(max_size=12)
_maybe = st.none() | _text
_party = st.none() | st.tuples(_text, _text)
_tuple = st.lists(_text, max_size=3).map(tuple)
# by field name, values of that field's type (so Any here: the type depends on the name)
_values: dict[str, st.SearchStrategy[typing.Any]] = {
    "gebeurtenis": _text,
    "dedup": _text,
    "trace_id": _text,
    "span_id": _text,
    "berichttype": _maybe,
    "bericht_id": _maybe,
    "afzender": _party,
    "ontvanger": _party,
    "doel": _maybe,
    "grondslag": _maybe,
    "policy": _maybe,
    "bewaartermijn_dagen": st.none() | st.integers(0, 4000),
    "categorieen": _tuple,
    "verwijderd": _tuple,
    "sha256": _maybe,
    "status": _maybe,
    "betrokkene": _maybe,
    "zoeksleutel": _maybe,
    "extra": st.dictionaries(_text, _maybe, max_size=2),
}
_REQUIRED = ("gebeurtenis", "dedup", "trace_id", "span_id")


def _some(draw: st.DrawFn, names: typing.Iterable[str]) -> dict[str, typing.Any]:
    return {n: draw(_values[n]) for n in names if n in _REQUIRED or draw(st.booleans())}


@st.composite
def _shared_and_own(draw: st.DrawFn) -> tuple[Entry, dict[str, typing.Any]]:
    shared = Entry(**_some(draw, _values))
    own = _some(draw, [n for n in _values if n != "trace_id"])
    return shared, own


def test_entry_fields_are_the_fields_of_an_entry() -> None:
    assert typing.get_type_hints(EntryFields) == typing.get_type_hints(Entry)
    assert list(EntryFields.__annotations__) == [f.name for f in dataclasses.fields(Entry)]
    hints = typing.get_type_hints(EntryFields, include_extras=True)
    required = {n for n, hint in hints.items() if typing.get_origin(hint) is typing.Required}
    assert required == {"gebeurtenis", "dedup", "span_id"}  # never shared between entries


@given(_shared_and_own())
def test_sharing_is_replace(case: tuple[Entry, dict[str, typing.Any]]) -> None:
    shared, own = case
    before = repr(shared)
    made = Entry.sharing(shared, **own)
    plain = dataclasses.replace(shared, **own)
    assert type(made) is Entry
    assert made == plain
    assert repr(made) == repr(plain)
    assert list(vars(made).items()) == list(vars(plain).items())  # the same order too
    for name in vars(plain):
        assert getattr(made, name) is getattr(plain, name)  # values shared as replace does
    record, expected = build_record("log", made, 3, NOW), build_record("log", plain, 3, NOW)
    if expected.personal is not None:
        assert record.personal is not None
        record.personal["zout"] = expected.personal["zout"]  # the salt is fresh each time
        record.public["persoonlijk_sha256"] = expected.public["persoonlijk_sha256"]
    assert canonical(record.public) == canonical(expected.public)
    assert repr(shared) == before  # the shared entry is left as it was
    assert vars(made) is not vars(shared)


def test_an_entry_made_sharing_is_frozen() -> None:
    shared = Entry(gebeurtenis="", dedup="", trace_id="t", span_id="")
    made = Entry.sharing(shared, gebeurtenis="ontvangen", dedup="d", span_id="s")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = "x"  # type: ignore[misc] # writing the frozen field is what is tested
    assert (made.gebeurtenis, made.dedup, made.trace_id, made.span_id) == (
        "ontvangen",
        "d",
        "t",
        "s",
    )
    assert shared.gebeurtenis == ""


@given(st.binary(min_size=16, max_size=80), st.lists(st.text(max_size=20), max_size=4))
def test_pseudonym_is_the_keyed_hash(secret: bytes, values: list[str]) -> None:
    pseudonymise = Pseudonymiser(secret)
    for value in [*values, *values]:  # the kept keyed hash is never changed by a call
        expected = hmac.new(secret, value.strip().encode(), hashlib.sha256).hexdigest()[:32]
        assert pseudonymise(value) == expected


def test_pseudonym_secret_too_short() -> None:
    with pytest.raises(Exception, match="at least 16 bytes"):
        Pseudonymiser(b"short")
