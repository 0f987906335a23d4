"""Geïnformeerd and geaccordeerd in the decision path (spec v2 §8).

Every betrokkene (a personen or betrokkenen item, a gezagsdrager) can say whether it was told
of the sharing (Wmo 2015 art. 5.3.1) or why not; a type whose policy requires it
(berichten.yaml ``verplicht: [geinformeerd]``; by default VerzoekTotOnderzoek) is refused
SCHEMA_ONGELDIG naming the element when a betrokkene does not, audited, with a Foutbericht.
Geaccordeerde informatie is marked by the block attribute ``geaccordeerd``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from gateway.decision.besluit import Feiten, Weigering, ingress
from gateway.decision.pipeline import Pipeline
from gateway.domain.model import Foutcode
from tests.support.broker import OINS
from tests.support.decisions import decide, offline_pipeline, pipeline_with_policy
from tests.support.messages import fresh, line_of, replace_once
from tests.support.paths import EXAMPLES_DIR
from tests.support.policies import policy_with

NU = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
VTO = (EXAMPLES_DIR / "veilig-thuis" / "VerzoekTotOnderzoek.xml").read_text("utf-8")
BEOORDELING = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsbeoordeling.xml").read_text("utf-8")
GEBOREN = {
    "b1": "<vt:geboren>1988-04-02</vt:geboren>",
    "b2": "<vt:geboren>1985-09-17</vt:geboren>",
    "b3": "<vt:geboren>2017-06-30</vt:geboren>",
}

# the Veiligheidsbeoordeling made to require it, as a privacy officer could (data only)
VERPLICHT = (
    "berichten.yaml",
    "      beschermende_factor: [veiligheid, gezondheid]\n",
    "      beschermende_factor: [veiligheid, gezondheid]\n    verplicht: [geinformeerd]\n",
)


@pytest.fixture(scope="module")
def verplicht(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    folder: Path = tmp_path_factory.mktemp("geinformeerd")
    return pipeline_with_policy(policy_with(folder, VERPLICHT))


def _informed(text: str, **per_ref: str) -> str:
    """The Veiligheidsbeoordeling with, per betrokkene ref, the given geinformeerd part."""
    for ref, part in per_ref.items():
        text = replace_once(text, GEBOREN[ref], GEBOREN[ref] + part)
    return text


def _refusal(pipeline: Pipeline, raw: bytes) -> Weigering:
    besluit = pipeline.route(ingress(raw, OINS["vt-twente"]), Feiten(nu=NU))
    assert isinstance(besluit, Weigering)
    return besluit


def test_by_default_the_verzoek_tot_onderzoek_requires_it_of_every_gezagsdrager() -> None:
    text = replace_once(VTO, "        <vt:geinformeerd>true</vt:geinformeerd>\n", "")
    besluit = _refusal(offline_pipeline(), fresh(text.encode()))
    assert besluit.refused.code is Foutcode.SCHEMA_ONGELDIG
    assert "geinformeerd" in besluit.refused.reden
    assert besluit.refused.element is not None
    assert [e.gebeurtenis for e in besluit.entries] == ["geweigerd"]


def test_a_type_the_policy_requires_it_of_is_refused_naming_the_element(
    verplicht: Pipeline,
) -> None:
    text = _informed(BEOORDELING, b1="<vt:geinformeerd>true</vt:geinformeerd>")
    raw = fresh(text.encode())
    besluit = _refusal(verplicht, raw)
    refused = besluit.refused
    assert refused.code is Foutcode.SCHEMA_ONGELDIG
    assert refused.element == "vt:geinformeerd"
    assert refused.regel == line_of(raw.decode(), '<vt:betrokkene ref="b2"')  # the first without
    assert "vt:betrokkene lacks vt:geinformeerd" in refused.reden
    assert "Veiligheidsbeoordeling" in refused.reden
    # audited for each person of the message, answered with a Foutbericht; nothing delivered
    assert {e.gebeurtenis for e in besluit.entries} == {"geweigerd"}
    assert len(besluit.entries) == 3
    assert all(e.extra == {"element": "vt:geinformeerd"} for e in besluit.entries)
    antwoord = besluit.antwoord.decode()
    assert "SCHEMA_ONGELDIG" in antwoord
    assert re.search(r"<kp:Element>vt:geinformeerd</kp:Element>", antwoord), antwoord


def test_not_informed_needs_the_reason(verplicht: Pipeline) -> None:
    text = _informed(
        BEOORDELING,
        b1="<vt:geinformeerd>true</vt:geinformeerd>",
        b2="<vt:geinformeerd>false</vt:geinformeerd>",
        b3="<vt:geinformeerd>true</vt:geinformeerd>",
    )
    besluit = _refusal(verplicht, fresh(text.encode()))
    assert besluit.refused.code is Foutcode.SCHEMA_ONGELDIG
    assert besluit.refused.element == "vt:betrokkene"
    assert "reden-niet-geinformeerd is required" in besluit.refused.reden


def test_every_betrokkene_stating_it_is_accepted_and_delivered(verplicht: Pipeline) -> None:
    text = _informed(
        BEOORDELING,
        b1="<vt:geinformeerd>true</vt:geinformeerd>",
        b2=(
            "<vt:geinformeerd>false</vt:geinformeerd>"
            "<vt:reden-niet-geinformeerd>Informeren brengt Anna in gevaar"
            "</vt:reden-niet-geinformeerd>"
        ),
        b3="<vt:geinformeerd>true</vt:geinformeerd>",
    )
    besluit = decide(fresh(text.encode()), OINS["vt-twente"], pipeline=verplicht, nu=NU)
    [levering] = besluit.leveringen
    body = levering.payload.decode()
    assert "<om:Geinformeerd>false</om:Geinformeerd>" in body
    assert "Informeren brengt Anna in gevaar" in body


def test_a_type_the_policy_does_not_require_it_of_may_leave_it_out() -> None:
    besluit = decide(fresh(BEOORDELING.encode()), OINS["vt-twente"], nu=NU)
    assert besluit.leveringen


def test_geaccordeerde_informatie_is_marked_on_any_block() -> None:
    """The v1 Informatiebron's geaccordeerd, and now any block's."""
    text = replace_once(
        BEOORDELING,
        "<vt:casusregisseur>",
        '<vt:casusregisseur geaccordeerd="true" bron="veilig-thuis/casusregisseur">',
    )
    [levering] = decide(fresh(text.encode()), OINS["vt-twente"], nu=NU).leveringen
    assert [(h.veld, h.geaccordeerd, h.bron) for h in levering.herkomst] == [
        ("casusregisseur", True, "veilig-thuis/casusregisseur")
    ]
    assert '<om:Casusregisseur bron="veilig-thuis/casusregisseur" geaccordeerd="true">' in (
        levering.payload.decode()
    )
