"""The audit trail's walk for BSNs enters only the fields below which a model has a ``bsn``
field (read once per class) and finds what a walk of every part finds, in the same order."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from gateway.decision import trail
from gateway.domain.model import BerichtType, FieldPlan, Inhoud, field_plan
from tests.support.catalogue import TYPEN
from tests.support.strategies import MESSAGE_CODEC, example_id, examples, inhoud

TYPES: list[BerichtType] = sorted(TYPEN)


def _every_field(model: type[BaseModel]) -> tuple[FieldPlan, ...]:
    return field_plan(model)


def _both(body: Inhoud) -> tuple[list[str], list[str]]:
    pruned = trail.bsns(body)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trail, "_bsn_velden", _every_field)
        full = trail.bsns(body)
    return pruned, full


@pytest.mark.parametrize("path", examples(), ids=example_id)
def test_the_bsns_of_an_example_are_those_a_full_walk_finds(path: Path) -> None:
    body = MESSAGE_CODEC.read(path.read_bytes()).inhoud
    if not isinstance(body, Inhoud):
        pytest.skip("a technical body has no BSN")
    pruned, full = _both(body)
    assert pruned == full


@pytest.mark.parametrize("berichttype", TYPES, ids=TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_bsns_of_a_generated_body_are_those_a_full_walk_finds(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    pruned, full = _both(data.draw(inhoud(berichttype), label="inhoud"))
    assert pruned == full
