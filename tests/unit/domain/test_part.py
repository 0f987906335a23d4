"""``bouwer``: a class's builder without validation, prepared once, builds what
``gevalideerd`` builds (and what validation builds) from the same values."""

from __future__ import annotations

import pytest
from pydantic import Field, PrivateAttr

from gateway.domain.model import (
    Doelbinding,
    Part,
    Partij,
    bouw_doelbinding,
    bouw_partij,
    bouwer,
    gevalideerd,
)
from tests.support.models import assert_same_build


class _Adres(Part):
    straat: str | None = None
    plaats: str | None = None


class _Persoon(Part):
    naam: str | None = None
    adressen: list[_Adres] = Field(default_factory=list)


class _Geheim(Part):
    naam: str | None = None
    _cache: dict[str, str] = PrivateAttr(default_factory=dict)


def test_it_builds_what_gevalideerd_and_validation_build() -> None:
    adres = gevalideerd(_Adres, {"straat": "Laan 1", "plaats": None}, {"straat"})
    data = {"naam": "A", "adressen": [adres]}
    built = bouwer(_Persoon)(dict(data))
    assert_same_build(built, gevalideerd(_Persoon, dict(data)))
    assert_same_build(built, _Persoon(naam="A", adressen=[_Adres(straat="Laan 1")]).model_copy())
    assert built.model_fields_set == {"naam", "adressen"}


def test_fields_set_are_what_it_was_prepared_with_and_each_part_has_its_own() -> None:
    build = bouwer(_Adres, frozenset({"plaats"}))
    first, second = build({"straat": None, "plaats": "X"}), build({"straat": None, "plaats": "Y"})
    assert first.model_fields_set == second.model_fields_set == {"plaats"}
    first.model_fields_set.add("straat")
    assert second.model_fields_set == {"plaats"}


def test_fields_set_naming_no_field_is_refused_when_prepared() -> None:
    with pytest.raises(TypeError, match="wijk"):
        bouwer(_Adres, frozenset({"wijk"}))


def test_a_class_with_private_attributes_is_built_with_validation() -> None:
    built = bouwer(_Geheim)({"naam": "B"})
    assert built.naam == "B"
    assert built._cache == {}


def test_the_envelopes_shared_builders_build_what_validation_builds() -> None:
    """``bouw_partij`` and ``bouw_doelbinding``, made once in the model for the codec, the
    answers and the pipeline, build the validated Partij and Doelbinding."""
    partij = bouw_partij({"oin": "00000099000000000101", "rol": "x-rol"})
    assert_same_build(partij, Partij(oin="00000099000000000101", rol="x-rol"))
    doelbinding = bouw_doelbinding({"doel": "X-DOEL", "grondslagen": ("G-1", "G-2")})
    assert_same_build(doelbinding, Doelbinding(doel="X-DOEL", grondslagen=("G-1", "G-2")))
