"""Beroepsgeheim and provenance in the decision path (spec v2 §8).

A block under beroepsgeheim reaches recipients only on a doorbrekingsgrond its doel accepts
(doelen.yaml); otherwise it is removed for every recipient and the removal named in the
decision and the audit's gefilterd record. A block under beroepsgeheim without a ground is
malformed (SCHEMA_ONGELDIG naming the element, audited, a Foutbericht). The afgeleverd record
names the bron and the ground of what was delivered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from gateway.decision import beroepsgeheim
from gateway.decision.beroepsgeheim import (
    BeroepsgeheimWeglating,
    Herkomst,
    herkomst_van,
    houd_geheim,
)
from gateway.decision.besluit import Aanvaarding, Feiten, Weigering, ingress
from gateway.domain.model import (
    BerichtType,
    FieldPlan,
    Foutcode,
    Inhoud,
    Part,
    blokken_van,
    field_plan,
)
from tests.support import catalogue
from tests.support.broker import OINS
from tests.support.catalogue import TYPEN, model
from tests.support.decisions import decide, offline_pipeline
from tests.support.messages import fresh, line_of, replace_once
from tests.support.needtoknow import parse_delivered
from tests.support.paths import EXAMPLES_DIR
from tests.support.strategies import inhoud

POLICY = catalogue.POLICY
NU = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)

VTO = (EXAMPLES_DIR / "veilig-thuis" / "VerzoekTotOnderzoek.xml").read_text("utf-8")
ZSM = (EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml").read_text("utf-8")
KIND = "<vt:kind>"
INCIDENT = "<pol:Incident>"


def _vto(attributes: str) -> bytes:
    return fresh(replace_once(VTO, KIND, f"<vt:kind {attributes}>").encode())


def _zsm(attributes: str) -> bytes:
    return fresh(replace_once(ZSM, INCIDENT, f"<pol:Incident {attributes}>").encode())


def _entries(besluit: Aanvaarding | Weigering, gebeurtenis: str) -> list[Any]:
    return [e for e in besluit.entries if e.gebeurtenis == gebeurtenis]


# --------------------------------------------------------------------------- not accepted


def test_a_block_on_a_ground_the_doel_does_not_accept_reaches_nobody() -> None:
    """meldrecht opens Veilig Thuis, not the Raad: the child's block is removed."""
    besluit = decide(
        _vto('bron="huisarts" beroepsgeheim="true" doorbrekingsgrond="meldrecht"'),
        OINS["vt-twente"],
        nu=NU,
    )
    assert "meldrecht" not in POLICY.doorbrekingsgronden("ONDERZOEK_KINDERBESCHERMING")
    [levering] = besluit.leveringen
    [weg] = levering.beroepsgeheim
    assert weg == BeroepsgeheimWeglating(
        veld="kind[1]",
        doorbrekingsgrond="meldrecht",
        bron="huisarts",
        reden=(
            "beroepsgeheim: doorbrekingsgrond meldrecht niet aanvaard voor doel "
            "ONDERZOEK_KINDERBESCHERMING (aanvaard: conflict-van-plichten, toestemming, "
            "wettelijke-plicht)"
        ),
    )
    # the delivered bytes hold nothing of the block
    body = levering.payload.decode()
    assert "Jan Jansen" not in body
    assert "999990032" not in body
    assert "2017-06-30" not in body
    assert "<rvdk:Kind" not in body
    assert "Anna Jansen" in body  # the rest as usual
    received = parse_delivered(levering.payload, "raad-kinderbescherming", "VerzoekTotOnderzoek")
    assert isinstance(received, model("VerzoekTotOnderzoek"))
    assert received.kind == []
    # the audit's gefilterd records name it, with nothing of its content
    gefilterd = _entries(besluit, "gefilterd")
    assert gefilterd
    for entry in gefilterd:
        assert entry.extra["beroepsgeheim_achtergehouden"] == [weg.as_record()]
    # the child's data went nowhere: its records say so
    child = [e for e in gefilterd if e.status == "weggelaten"]
    assert len(child) == 1
    assert child[0].categorieen == ()
    # what was delivered names its bron (the Informatiebron's huisarts), not the removed block;
    # the child was its only person with a BSN, so no afgeleverd record is about anyone here
    assert levering.herkomst == (
        Herkomst(
            veld="geaccordeerde_informatie[1]",
            bron="huisarts",
            beroepsgeheim=False,
            doorbrekingsgrond=None,
            geaccordeerd=True,
        ),
    )
    assert _entries(besluit, "afgeleverd") == []


def test_an_accepted_ground_passes_and_the_audit_names_bron_and_ground() -> None:
    besluit = decide(
        _vto(
            'bron="school/intern-begeleider" beroepsgeheim="true" doorbrekingsgrond="toestemming"'
        ),
        OINS["vt-twente"],
        nu=NU,
    )
    [levering] = besluit.leveringen
    assert levering.beroepsgeheim == ()
    body = levering.payload.decode()
    assert "Jan Jansen" in body
    assert (
        '<rvdk:Kind bron="school/intern-begeleider" beroepsgeheim="true" '
        'doorbrekingsgrond="TOESTEMMING">' in body
    )  # in the recipient's own convention
    assert levering.herkomst[0] == Herkomst(
        veld="kind[1]",
        bron="school/intern-begeleider",
        beroepsgeheim=True,
        doorbrekingsgrond="toestemming",
        geaccordeerd=None,
    )
    [afgeleverd] = _entries(besluit, "afgeleverd")
    assert [h["veld"] for h in afgeleverd.extra["herkomst"]] == [
        "kind[1]",
        "geaccordeerde_informatie[1]",
    ]
    assert all("beroepsgeheim_achtergehouden" not in e.extra for e in besluit.entries)


def test_the_politie_spells_the_ground_in_capitals_and_every_recipient_loses_the_block() -> None:
    """ZSM goes to the OM, VT and reclassering: meldrecht is no ground for a strafrechtelijke
    beslissing, so none of them receives the incident; conflict van plichten is."""
    raw = _zsm('bron="politie/forensisch-arts" beroepsgeheim="true" doorbrekingsgrond="MELDRECHT"')
    besluit = decide(raw, OINS["politie"], nu=NU)
    assert len(besluit.leveringen) >= 2
    for levering in besluit.leveringen:
        assert [w.veld for w in levering.beroepsgeheim] == ["incident"]
        assert "bij de keel" not in levering.payload.decode()
        assert "Lindelaan" not in levering.payload.decode()
    ok = _zsm('beroepsgeheim="true" doorbrekingsgrond="CONFLICT_VAN_PLICHTEN"')
    for levering in decide(ok, OINS["politie"], nu=NU).leveringen:
        assert levering.beroepsgeheim == ()
        assert [(h.veld, h.doorbrekingsgrond) for h in levering.herkomst] == [
            ("incident", "conflict-van-plichten")
        ]


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("attributes", "reden"),
    [
        ('beroepsgeheim="true"', 'has beroepsgeheim="true" but no doorbrekingsgrond'),
        ('beroepsgeheim="false" doorbrekingsgrond="toestemming"', "a ground for breaking"),
        ('doorbrekingsgrond="toestemming"', "a ground for breaking"),
    ],
)
def test_a_ground_and_beroepsgeheim_go_together_or_the_message_is_refused(
    attributes: str, reden: str
) -> None:
    raw = _vto(attributes)
    besluit = offline_pipeline().route(ingress(raw, OINS["vt-twente"]), Feiten(nu=NU))
    assert isinstance(besluit, Weigering)
    assert besluit.refused.code is Foutcode.SCHEMA_ONGELDIG
    assert besluit.refused.element == "vt:kind/@doorbrekingsgrond"
    assert besluit.refused.regel == line_of(raw.decode(), "<vt:kind ")
    assert reden in besluit.refused.reden
    # audited, answered with a Foutbericht naming the element; nothing delivered
    [geweigerd, *_] = _entries(besluit, "geweigerd")
    assert geweigerd.status == "SCHEMA_ONGELDIG"
    assert geweigerd.extra == {"element": "vt:kind/@doorbrekingsgrond"}
    antwoord = besluit.antwoord.decode()
    assert "SCHEMA_ONGELDIG" in antwoord
    assert "vt:kind/@doorbrekingsgrond" in antwoord


def test_a_ground_outside_the_code_list_or_in_another_convention_is_refused() -> None:
    for raw, sender in [
        (_vto('beroepsgeheim="true" doorbrekingsgrond="noodtoestand"'), "vt-twente"),
        (_zsm('beroepsgeheim="true" doorbrekingsgrond="meldrecht"'), "politie"),  # not MELDRECHT
    ]:
        besluit = offline_pipeline().route(ingress(raw, OINS[sender]), Feiten(nu=NU))
        assert isinstance(besluit, Weigering)
        assert besluit.refused.code is Foutcode.SCHEMA_ONGELDIG


# --------------------------------------------------------------------------- the property


def _blocks_marked(draw: st.DrawFn, part: Part) -> Part:
    """``part`` with each block below it, at random, under beroepsgeheim on any ground."""
    values: dict[str, Any] = {}
    for f in field_plan(type(part)):
        value = getattr(part, f.name)
        if f.part is None or value is None:
            values[f.name] = value
            continue
        items = value if isinstance(value, list) else [value]
        marked = []
        for item in items:
            block = _blocks_marked(draw, item)
            if draw(st.booleans()):
                grond = draw(st.sampled_from(TYPEN.doorbrekingsgronden))
                block = block.model_copy(update={"beroepsgeheim": True, "doorbrekingsgrond": grond})
            marked.append(block)
        values[f.name] = marked if isinstance(value, list) else marked[0]
    return type(part)(**values)


def _expected(part: Part, gronden: frozenset[str], prefix: str = "") -> list[str]:
    """The outermost blocks under beroepsgeheim on a ground not in ``gronden``."""
    found = []
    for f in field_plan(type(part)):
        value = getattr(part, f.name)
        if f.part is None or value is None:
            continue
        items = (
            [(f"{prefix}{f.name}[{i}]", v) for i, v in enumerate(value, 1)]
            if isinstance(value, list)
            else [(f"{prefix}{f.name}", value)]
        )
        for where, item in items:
            if item.beroepsgeheim and item.doorbrekingsgrond not in gronden:
                found.append(where)
            else:
                found += _expected(item, gronden, f"{where}.")
    return found


TYPES: list[BerichtType] = sorted(TYPEN)


@pytest.mark.parametrize("berichttype", TYPES, ids=TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_block_without_an_accepted_ground_never_remains(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    body = data.draw(inhoud(berichttype), label="inhoud")
    marked = data.draw(st.composite(lambda draw: _blocks_marked(draw, body))(), label="marked")
    assert isinstance(marked, Inhoud)
    gronden = frozenset(
        data.draw(st.sets(st.sampled_from(TYPEN.doorbrekingsgronden)), label="gronden")
    )
    geheim = houd_geheim(marked, gronden, "EEN_DOEL")
    assert [w.veld for w in geheim.achtergehouden] == _expected(marked, gronden)
    assert not [
        h
        for h in herkomst_van(geheim.inhoud)
        if h.beroepsgeheim and h.doorbrekingsgrond not in gronden
    ]
    if not geheim.achtergehouden:
        assert geheim.inhoud is marked
    # removing nothing more: with every ground accepted, the body stays as it is
    alles = houd_geheim(marked, frozenset(TYPEN.doorbrekingsgronden), "EEN_DOEL")
    assert alles.inhoud == marked
    assert alles.achtergehouden == ()


def _every_part_field(model: type[BaseModel], doel: object) -> tuple[FieldPlan, ...]:
    """The straightforward walk's fields: every part field of the model."""
    return tuple(f for f in field_plan(model) if f.part is not None)


@pytest.mark.parametrize("berichttype", TYPES, ids=TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_walks_enter_only_fields_that_can_hold_a_block_and_find_what_a_full_walk_finds(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    """herkomst_van and houd_geheim skip the fields below which no class can carry the block
    attributes (``velden_naar``, read once per class): the same result as walking every part."""
    body = data.draw(inhoud(berichttype), label="inhoud")
    marked = data.draw(st.composite(lambda draw: _blocks_marked(draw, body))(), label="marked")
    assert isinstance(marked, Inhoud)
    gronden = frozenset(
        data.draw(st.sets(st.sampled_from(TYPEN.doorbrekingsgronden)), label="gronden")
    )
    pruned = (herkomst_van(marked), houd_geheim(marked, gronden, "EEN_DOEL"))
    # the pipeline's way: the blocks walked once per message, then looked at
    blokken = blokken_van(marked)
    assert pruned == (
        herkomst_van(marked, blokken),
        houd_geheim(marked, gronden, "EEN_DOEL", blokken),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(beroepsgeheim, "velden_naar", _every_part_field)
        patch.setattr(beroepsgeheim, "_kan_herkomst", lambda model: True)
        full = (herkomst_van(marked), houd_geheim(marked, gronden, "EEN_DOEL"))
        patch.setattr(beroepsgeheim, "_iets_geheim", lambda part, gronden: True)
        rebuilt = houd_geheim(marked, gronden, "EEN_DOEL")
    assert pruned == full
    assert pruned[1].achtergehouden == rebuilt.achtergehouden
    assert pruned[1].inhoud == rebuilt.inhoud
