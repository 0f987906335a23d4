"""Beroepsgeheim, provenance and geïnformeerd through the real RabbitMQ (spec v2 §8).

A gateway runs on the real broker and audit store; partners send in their own formats and
read their inboxes. What the recipient receives (its bytes), what the sender is answered
and what the audit trail and the officer's view of a person say are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.runtime.audit_access import audit_inzage
from gateway.runtime.settings import Settings
from tests.support.gateways import Running, audit_step, run_gateway
from tests.support.messages import bericht_id_of, fresh, replace_once
from tests.support.partners import drain, inbox_until_answered, split
from tests.support.paths import EXAMPLES_DIR
from tests.support.policies import policy_with

pytestmark = pytest.mark.broker

BEOORDELING = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsbeoordeling.xml").read_text("utf-8")
VTO = (EXAMPLES_DIR / "veilig-thuis" / "VerzoekTotOnderzoek.xml").read_text("utf-8")
ANNA = "999990019"


def _to_the_raad(text: str) -> str:
    """The Veiligheidsbeoordeling for the Raad's onderzoek (VT's own grondslag for it)."""
    text = re.sub(
        r"<kp:Doel>[^<]+</kp:Doel>", "<kp:Doel>ONDERZOEK_KINDERBESCHERMING</kp:Doel>", text
    )
    return re.sub(
        r"<kp:Grondslag>[^<]+</kp:Grondslag>", "<kp:Grondslag>JW-ART-7.3.11</kp:Grondslag>", text
    )


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
async def test_a_block_under_beroepsgeheim_without_an_accepted_ground_reaches_nobody(
    gateway: Running,
) -> None:
    text = _to_the_raad(BEOORDELING)
    # the kernvragen (with a psychiatrist's knowledge) on meldrecht, which opens VT only; the
    # casusregisseur's block shared with consent
    text = replace_once(
        text,
        "<vt:kernvragen>",
        '<vt:kernvragen bron="ggz-twente/psychiater" beroepsgeheim="true" '
        'doorbrekingsgrond="meldrecht">',
    )
    text = replace_once(
        text,
        "<vt:casusregisseur>",
        '<vt:casusregisseur bron="wijkteam/maatschappelijk-werker" beroepsgeheim="true" '
        'doorbrekingsgrond="toestemming" geaccordeerd="true">',
    )
    raw = fresh(text.encode())
    bericht_id = bericht_id_of(raw)
    await gateway.partner("vt-twente").send(raw)
    own, answers = await inbox_until_answered(gateway.partner("vt-twente"))
    assert own == []
    assert b"Ontvangstbevestiging" in answers[0].body
    deliveries, others = split(await drain(gateway.partner("rvdk")))
    assert others == []
    assert len(deliveries) == 1
    body = deliveries[0].body.decode()
    # nothing of the kernvragen: not their text, not their element, not their bron
    assert "terwijl Jan in de kamer was" not in body
    assert "Kernvragen" not in body
    assert "psychiater" not in body
    # the casusregisseur's block went along, in the Raad's convention
    assert (
        '<rvdk:Casusregisseur bron="wijkteam/maatschappelijk-werker" beroepsgeheim="true" '
        'doorbrekingsgrond="TOESTEMMING" geaccordeerd="true">' in body
    )
    for name in ("politie", "om", "reclassering", "vt-rijnmond"):
        assert await drain(gateway.partner(name)) == []

    # the audit: the removal in every gefilterd record, bron and ground of what was delivered
    gefilterd = await audit_step(gateway, bericht_id, "gefilterd")
    assert gefilterd
    for public in gefilterd:
        [weg] = public["extra"]["beroepsgeheim_achtergehouden"]
        assert weg["veld"] == "kernvragen"
        assert (weg["doorbrekingsgrond"], weg["bron"]) == ("meldrecht", "ggz-twente/psychiater")
        assert "Anna" not in str(public)
        assert "keel" not in str(public)
    afgeleverd = await audit_step(gateway, bericht_id, "afgeleverd")
    assert afgeleverd
    for public in afgeleverd:
        assert public["extra"]["herkomst"] == [
            {
                "veld": "casusregisseur",
                "bron": "wijkteam/maatschappelijk-werker",
                "beroepsgeheim": True,
                "doorbrekingsgrond": "toestemming",
                "geaccordeerd": True,
            }
        ]

    # the officer's view of Anna: the disclosure, with the block withheld under beroepsgeheim
    overzicht = await audit_inzage(gateway.settings, ANNA, "functionaris-gegevensbescherming")
    [verstrekking] = [v for v in overzicht.verstrekkingen if v.bericht_id == bericht_id]
    assert verstrekking.ontvanger.rol == "raad-kinderbescherming"
    [weglating] = verstrekking.beroepsgeheim
    assert weglating.wat == "kernvragen"
    assert weglating.waarom.startswith("beroepsgeheim: doorbrekingsgrond meldrecht niet aanvaard")


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
async def test_beroepsgeheim_without_a_ground_is_refused_and_nothing_delivered(
    gateway: Running,
) -> None:
    raw = fresh(replace_once(VTO, "<vt:kind>", '<vt:kind beroepsgeheim="true">').encode())
    await gateway.partner("vt-twente").send(raw)
    own, answers = await inbox_until_answered(gateway.partner("vt-twente"))
    assert own == []
    answer = answers[0].body.decode()
    assert "Foutbericht" in answer
    assert "SCHEMA_ONGELDIG" in answer
    assert "vt:kind/@doorbrekingsgrond" in answer
    assert await drain(gateway.partner("rvdk")) == []
    [geweigerd] = await audit_step(gateway, bericht_id_of(raw), "geweigerd")
    assert geweigerd["status"] == "SCHEMA_ONGELDIG"
    assert geweigerd["extra"] == {"element": "vt:kind/@doorbrekingsgrond"}


async def test_a_type_the_policy_requires_geinformeerd_of_is_refused_without_it(
    settings: Settings, vhost: str, tmp_path: Path
) -> None:
    policy = policy_with(
        tmp_path,
        (
            "berichten.yaml",
            "      beschermende_factor: [veiligheid, gezondheid]\n",
            "      beschermende_factor: [veiligheid, gezondheid]\n    verplicht: [geinformeerd]\n",
        ),
    )
    configured = settings.model_copy(update={"policy_dir": policy})
    async with run_gateway(configured, vhost) as gateway:
        raw = fresh(BEOORDELING.encode())
        await gateway.partner("vt-twente").send(raw)
        own, answers = await inbox_until_answered(gateway.partner("vt-twente"))
        assert own == []
        answer = answers[0].body.decode()
        assert "SCHEMA_ONGELDIG" in answer
        assert "<kp:Element>vt:geinformeerd</kp:Element>" in answer
        assert await drain(gateway.partner("om")) == []
        geweigerd = await audit_step(gateway, bericht_id_of(raw), "geweigerd")
        assert len(geweigerd) == 3  # one per person of the message
        assert all(g["extra"] == {"element": "vt:geinformeerd"} for g in geweigerd)

        # every betrokkene stating it: accepted and delivered with it
        text = BEOORDELING
        for geboren in ("1988-04-02", "1985-09-17", "2017-06-30"):
            old = f"<vt:geboren>{geboren}</vt:geboren>"
            text = replace_once(text, old, old + "<vt:geinformeerd>true</vt:geinformeerd>")
        await gateway.partner("vt-twente").send(fresh(text.encode()))
        _, answers = await inbox_until_answered(gateway.partner("vt-twente"))
        assert b"Ontvangstbevestiging" in answers[0].body
        deliveries, _ = split(await drain(gateway.partner("om")))
        assert len(deliveries) == 1
        assert deliveries[0].body.count(b"<om:Geinformeerd>true</om:Geinformeerd>") == 3
