"""Afscherming, niet-delen-met and people without a BSN through the real RabbitMQ (spec v2 §8).

A gateway runs on the real broker and audit store; partners send in their own formats and
read their inboxes. What each recipient receives (its bytes), what the sender is answered, and
what the audit trail and a person's inzage say are checked.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gateway.audit.log import Pseudonymiser
from gateway.runtime.audit_access import audit_inzage, audit_inzage_naam
from gateway.store.database import Database
from tests.support.broker import OINS
from tests.support.gateways import Running, audit_step
from tests.support.messages import bericht_id_of, fresh, replace_once
from tests.support.partners import drain, inbox_until_answered, split
from tests.support.paths import EXAMPLES_DIR

pytestmark = pytest.mark.broker

MELDING = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_text("utf-8")
AFSPRAKEN = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_text("utf-8")
ANNA = "999990019"
PETER = "999990020"
AFGESCHERMD = '<pol:Adres afgeschermd="true">'
ONTVANGER_VT = f'<kp:Ontvanger oin="{OINS["vt-twente"]}" rol="veilig-thuis"/>'
AFZENDER_POLITIE = '<kp:Afzender oin="00000099000000000101" rol="politie"/>'


def _pseudoniem(gateway: Running, key: str) -> str:
    """The audit's keyed pseudonym of ``key`` (a BSN, or persoonsnummer|OIN|nummer)."""
    return Pseudonymiser.from_file(gateway.settings.audit_key_dir / "pseudoniem.secret")(key)


def _afgeschermde_melding(*, ontvanger: bool) -> bytes:
    text = replace_once(MELDING, "<pol:Adres>", AFGESCHERMD)
    if ontvanger:
        text = replace_once(text, AFZENDER_POLITIE, AFZENDER_POLITIE + ONTVANGER_VT)
    return fresh(text.encode())


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
async def test_a_shielded_address_is_not_routed_on_the_sender_names_the_recipient(
    gateway: Running,
) -> None:
    # the politie serves no single regio: without an Ontvanger nobody can be chosen, and the
    # postcode of the opvang is not read to choose one
    raw = _afgeschermde_melding(ontvanger=False)
    await gateway.partner("politie").send(raw)
    own, answers = await inbox_until_answered(gateway.partner("politie"))
    assert own == []
    answer = answers[0].body.decode()
    assert "<kp:Code>GEEN_ONTVANGER</kp:Code>" in answer
    assert "afgeschermd and not used for routing" in answer
    assert "name it as Ontvanger" in answer
    assert "7511" not in answer  # the reason does not reveal the address
    geweigerd = await audit_step(gateway, bericht_id_of(raw), "geweigerd")
    assert geweigerd  # one per person of the melding
    assert all(g["status"] == "GEEN_ONTVANGER" for g in geweigerd)
    for name in ("vt-twente", "vt-rijnmond", "om", "rvdk", "reclassering"):
        assert await drain(gateway.partner(name)) == []


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
async def test_a_shielded_address_reaches_no_recipient_and_the_removal_is_recorded(
    gateway: Running,
) -> None:
    raw = _afgeschermde_melding(ontvanger=True)
    bericht_id = bericht_id_of(raw)
    await gateway.partner("politie").send(raw)
    own, answers = await inbox_until_answered(gateway.partner("politie"))
    assert own == []
    assert b"Ontvangstbevestiging" in answers[0].body
    deliveries, others = split(await drain(gateway.partner("vt-twente")))
    assert others == []
    [delivery] = deliveries
    body = delivery.body.decode()
    # the melding itself went (VT must assess it), without the address of the opvang
    assert "Lindelaan" not in body
    assert "7511" not in body
    assert "afgeschermd" not in body
    assert "Anna" in body

    gefilterd = (await audit_step(gateway, bericht_id, "gefilterd"))[0]
    assert gefilterd["extra"]["afscherming_achtergehouden"] == [
        {"veld": "incident.adres", "reden": "afgeschermd adres: afgeschermd-adres niet toegekend"}
    ]
    assert "afgeschermd-adres" in gefilterd["verwijderd"]
    assert "Lindelaan" not in json.dumps(gefilterd)

    overzicht = await audit_inzage(gateway.settings, ANNA, "functionaris-gegevensbescherming")
    [verstrekking] = [v for v in overzicht.verstrekkingen if v.bericht_id == bericht_id]
    [weglating] = verstrekking.afscherming
    assert (weglating.wat, weglating.waarom) == (
        "incident.adres",
        "afgeschermd adres: afgeschermd-adres niet toegekend",
    )


def _afspraken_niet_voor_peter() -> bytes:
    """VT's Veiligheidsafspraken: the first afspraak (the victim's escape plan) is not to be
    shown to the pleger, Peter (b2); the victim, Anna, has no BSN in VT's system (b1)."""
    text = AFSPRAKEN.replace("<vt:afspraak>", '<vt:afspraak niet-delen-met="b2">', 1)
    return fresh(text.encode())


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
async def test_a_block_not_to_be_shown_to_the_pleger_is_delivered_and_restricted_in_his_inzage(
    gateway: Running,
) -> None:
    raw = _afspraken_niet_voor_peter()
    bericht_id = bericht_id_of(raw)
    await gateway.partner("vt-twente").send(raw)
    own, answers = await inbox_until_answered(gateway.partner("vt-twente"))
    assert own == []
    assert b"Ontvangstbevestiging" in answers[0].body
    deliveries, _ = split(await drain(gateway.partner("politie")))
    [delivery] = deliveries
    body = delivery.body.decode()
    # delivered as usual: the responders need the afspraak; the mark goes along
    assert 'niet-delen-met="b2"' in body
    assert "Melding van geluidsoverlast of ruzie op dit adres" in body

    afgeleverd = await audit_step(gateway, bericht_id, "afgeleverd")
    peter = _pseudoniem(gateway, PETER)
    restricted = [a for a in afgeleverd if "niet_delen_met" in (a.get("extra") or {})]
    assert restricted
    # recorded only in the records of the person it is not to be shown to
    assert all(a["personal"]["betrokkene"] == peter for a in restricted)
    assert all(a["extra"]["niet_delen_met"] == ["afspraak[1]"] for a in restricted)

    overzicht = await audit_inzage(gateway.settings, PETER, "functionaris-gegevensbescherming")
    mine = [v for v in overzicht.verstrekkingen if v.bericht_id == bericht_id]
    assert mine
    for verstrekking in mine:
        assert verstrekking.beperking == ("afspraak[1]",)
        assert verstrekking.gegeven == ()  # listed without its categories (v2 §8)
        assert verstrekking.achtergehouden == ()


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
async def test_a_person_without_a_bsn_is_found_by_name_and_birth_date(gateway: Running) -> None:
    raw = _afspraken_niet_voor_peter()
    bericht_id = bericht_id_of(raw)
    await gateway.partner("vt-twente").send(raw)
    _, answers = await inbox_until_answered(gateway.partner("vt-twente"))
    assert b"Ontvangstbevestiging" in answers[0].body
    await drain(gateway.partner("politie"))
    [ontvangen, *_] = [
        r
        for r in await audit_step(gateway, bericht_id, "ontvangen")
        if r["personal"]["betrokkene"]
        == _pseudoniem(gateway, f"persoonsnummer|{OINS['vt-twente']}|VTT-P-2026-0417")
    ]
    assert "VTT-P-2026-0417" not in json.dumps(ontvangen)

    # as an officer types it: other case, extra spaces
    overzicht, gevonden = await audit_inzage_naam(
        gateway.settings, "  anna   JANSEN ", dt.date(1988, 4, 2), "functionaris"
    )
    assert gevonden == 1
    delivered = {(v.bericht_id, v.ontvanger.rol) for v in overzicht.verstrekkingen}
    assert (bericht_id, "politie") in delivered
    # Anna is not the one the afspraak is restricted for
    assert all(v.beperking == () for v in overzicht.verstrekkingen)
    # her read is in her own history
    assert [r.wat for r in overzicht.raadplegingen][-1].startswith("historie van een betrokkene")

    # another birth date, another person: nobody found, the question still recorded
    niemand, gevonden = await audit_inzage_naam(
        gateway.settings, "Anna Jansen", dt.date(1988, 4, 3), "functionaris"
    )
    assert gevonden == 0
    assert niemand.verstrekkingen == ()

    # nothing of her name, birth date or persoonsnummer is in clear in the store
    db = Database(gateway.settings.audit_dsn)
    try:
        dump = db.run_sync(
            lambda ex: json.dumps(
                [
                    list(map(str, row))
                    for table in ("audit_record", "audit_zoeksleutel")
                    for row in ex(f"SELECT * FROM {table}").fetchall()
                ]
            )
        )
    finally:
        db.close()
    for clear in ("Anna", "Jansen", "1988-04-02", "VTT-P-2026-0417"):
        assert clear not in dump


@pytest.mark.parametrize("transport", ["rabbitmq"], indirect=True)
@pytest.mark.parametrize(
    ("change", "element", "why"),
    [
        (
            ("<vt:persoonsnummer>VTT-P-2026-0417</vt:persoonsnummer>", "", 1),
            "persoonsnummer",
            "betrokkenen[1] has no BSN and no persoonsnummer",
        ),
        (
            ("<vt:afspraak>", '<vt:afspraak niet-delen-met="b9">', 1),
            "niet-delen-met",
            "afspraak[1] is marked niet-delen-met 'b9', which is the ref of no betrokkene",
        ),
    ],
    ids=["no-bsn-no-persoonsnummer", "niet-delen-met-nobody"],
)
async def test_a_person_nobody_can_follow_is_refused_and_nothing_delivered(
    gateway: Running, change: tuple[str, str, int], element: str, why: str
) -> None:
    raw = fresh(AFSPRAKEN.replace(*change).encode())
    await gateway.partner("vt-twente").send(raw)
    own, answers = await inbox_until_answered(gateway.partner("vt-twente"))
    assert own == []
    answer = answers[0].body.decode()
    assert "<kp:Code>SCHEMA_ONGELDIG</kp:Code>" in answer
    assert f"<kp:Element>{element}</kp:Element>" in answer
    assert why in answer
    assert await drain(gateway.partner("politie")) == []
    geweigerd = await audit_step(gateway, bericht_id_of(raw), "geweigerd")
    assert geweigerd
    assert all(g["status"] == "SCHEMA_ONGELDIG" for g in geweigerd)
    assert all(g["extra"] == {"element": element} for g in geweigerd)
