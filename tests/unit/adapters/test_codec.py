"""The compiled parsers of ``adapters.codec`` build the canonical body without validating it
again (``gevalideerd``): the same body, part by part, as building it with pydantic's
validation from the values read, for every example and for generated bodies of every type a
partner sends."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.domain.model import BerichtType, Inhoud, Kind, Leaf, Node, Rol
from gateway.safexml import xmlsafe
from tests.support.catalogue import ADAPTERS, TYPEN
from tests.support.models import assert_same_build, validated
from tests.support.strategies import (
    MESSAGE_CODEC,
    SENT,
    codec_for,
    example_id,
    examples,
    inhoud,
    pair_id,
)

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("path", examples(), ids=example_id)
def test_an_example_is_parsed_as_validation_builds_it(path: Path) -> None:
    bericht = MESSAGE_CODEC.read(path.read_bytes())
    if not isinstance(bericht.inhoud, Inhoud):
        pytest.skip("a technical body is built by the envelope codec, with validation")
    assert_same_build(bericht.inhoud, validated(bericht.inhoud))


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
@PROPERTY
@given(data=st.data())
def test_a_generated_body_is_parsed_as_validation_builds_it(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    canonical = data.draw(inhoud(berichttype), label="inhoud")
    element = xmlsafe.parse(etree.tostring(ADAPTERS[rol].render(canonical), encoding="UTF-8"))
    parsed = ADAPTERS[rol].parse(element)
    assert_same_build(parsed, validated(parsed))
    assert parsed == canonical


def _leaves(nodes: tuple[Node, ...]) -> list[Leaf]:
    found: list[Leaf] = []
    for node in nodes:
        if isinstance(node, Leaf):
            found.append(node)
        else:
            found.extend(_leaves(node.children))
    return found


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
def test_every_code_a_parser_reads_is_a_value_of_its_list(
    rol: Rol, berichttype: BerichtType
) -> None:
    """What makes building without validation safe for codes: a native spelling maps only to
    a canonical value of the leaf's list (the model's ``Literal``)."""
    vocabulary = codec_for(rol, berichttype).vocabulary
    for leaf in _leaves(TYPEN[berichttype].children):
        if leaf.kind is Kind.CODE:
            assert leaf.codes is not None
            assert set(vocabulary.codes(leaf, sendable_only=False).values()) <= set(
                leaf.codes.waarden
            )
