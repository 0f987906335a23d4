"""The decision path alone: pure, every outcome from values (no broker, no store, no clock)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import uuid
from pathlib import Path

import pytest
from lxml import etree

from gateway.decision.besluit import (
    Aanvaarding,
    Bevestiging,
    Eerder,
    Feiten,
    Geleverd,
    Gelezen,
    Herhaling,
    Onbekend,
    Weigering,
    ingress,
)
from gateway.domain.model import Foutcode
from tests.support.decisions import offline_pipeline, pipeline_with_policy
from tests.support.paths import EXAMPLES_DIR, POLICY_DIR
from tests.support.routing import afleverbevestiging

POLITIE = "00000099000000000101"
VT_TWENTE = "00000099000000000102"
OM = "00000099000000000103"
RECLASSERING = "00000099000000000105"
VT_RIJNMOND = "00000099000000000106"
NU = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
KP = "{urn:ketenpoort:envelop:1}"


def example(rel: str) -> bytes:
    return (EXAMPLES_DIR / rel).read_bytes()


def read(raw: bytes, oin: str) -> Gelezen:
    gelezen = offline_pipeline().read(ingress(raw, oin), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen), gelezen
    return gelezen


def kop_text(answer: bytes, name: str) -> str | None:
    return etree.fromstring(answer).findtext(f"{KP}Kop/{KP}{name}")


# --------------------------------------------------------------------------- read


def test_a_sender_outside_the_register_is_nobody_to_answer() -> None:
    besluit = offline_pipeline().read(
        ingress(example("politie/VtMelding.xml"), "00000099000000009999"), Feiten(nu=NU)
    )
    assert isinstance(besluit, Onbekend)


def test_an_unreadable_message_is_refused_with_its_audit_entries() -> None:
    besluit = offline_pipeline().read(ingress(b"<kp:Bericht", POLITIE), Feiten(nu=NU))
    assert isinstance(besluit, Weigering)
    assert besluit.refused.code is Foutcode.XML_ONGELDIG
    assert [e.gebeurtenis for e in besluit.entries] == ["geweigerd"]
    assert besluit.entries[0].status == "XML_ONGELDIG"
    assert b"<kp:Code>XML_ONGELDIG</kp:Code>" in besluit.antwoord


def test_vraag_asks_for_the_conversation_only_where_routing_needs_it() -> None:
    pipeline = offline_pipeline()
    melding = pipeline.vraag(read(example("politie/VtMelding.xml"), POLITIE))
    beslissing = pipeline.vraag(read(example("openbaar-ministerie/OmBeslissing.xml"), OM))
    assert not melding.deelnemers
    assert beslissing.deelnemers
    assert melding.bevestigt is None


# --------------------------------------------------------------------------- decide


def test_accepted_deliveries_entries_and_answer_from_the_facts() -> None:
    gelezen = read(example("politie/VtMelding.xml"), POLITIE)
    besluit = offline_pipeline().decide(gelezen, Feiten(nu=NU))
    assert isinstance(besluit, Aanvaarding)
    assert not besluit.hervat
    assert [lev.ontvanger.partner.oin for lev in besluit.leveringen] == [VT_TWENTE]
    assert besluit.te_publiceren == besluit.leveringen
    steps = [e.gebeurtenis for e in besluit.entries]
    assert steps[0] == "ontvangen"
    assert {"gerouteerd", "gefilterd", "afgeleverd"} <= set(steps)
    assert kop_text(besluit.antwoord, "BerichtType") == "Ontvangstbevestiging"
    assert kop_text(besluit.antwoord, "InAntwoordOp") == gelezen.bericht.kop.bericht_id
    assert kop_text(besluit.antwoord, "Tijdstip") == NU.isoformat()


def test_the_decision_is_a_function_of_its_inputs() -> None:
    gelezen = read(example("politie/ZsmAanmelding.xml"), POLITIE)
    first = offline_pipeline().decide(gelezen, Feiten(nu=NU))
    again = offline_pipeline().decide(gelezen, Feiten(nu=NU))
    assert isinstance(first, Aanvaarding)
    assert isinstance(again, Aanvaarding)
    assert [lev.payload for lev in first.leveringen] == [lev.payload for lev in again.leveringen]
    strip = [dataclasses.replace(e, span_id="") for e in first.entries]
    assert strip == [dataclasses.replace(e, span_id="") for e in again.entries]


def test_conversation_participants_are_a_fact() -> None:
    """OmBeslissing in a HG conversation goes to the VT regio that took part (regio:
    conversatie); the routing memory is a fact."""
    gelezen = read(example("openbaar-ministerie/OmBeslissing.xml"), OM)
    pipeline = offline_pipeline()
    without = pipeline.decide(gelezen, Feiten(nu=NU))
    rijnmond = pipeline.decide(gelezen, Feiten(nu=NU, deelnemers=frozenset({VT_RIJNMOND}), hg=True))
    assert isinstance(without, Aanvaarding)
    assert isinstance(rijnmond, Aanvaarding)
    oins = {lev.ontvanger.partner.oin for lev in rijnmond.leveringen}
    assert VT_RIJNMOND in oins
    assert VT_RIJNMOND not in {lev.ontvanger.partner.oin for lev in without.leveringen}


@pytest.mark.parametrize("stil", [False, True])
def test_a_duplicate_gets_the_earlier_answer(stil: bool) -> None:
    raw = example("politie/VtMelding.xml")
    gelezen = offline_pipeline().read(ingress(raw, POLITIE, herbezorgd=stil), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen)
    eerder = Eerder(
        sha256=gelezen.ontvangen.sha256,
        conversatie_id=gelezen.bericht.kop.conversatie_id,
        antwoord=b"<the-first-answer/>",
        gepland=frozenset({VT_TWENTE}),
        open=frozenset(),
    )
    besluit = offline_pipeline().decide(gelezen, Feiten(nu=NU, eerder=eerder))
    assert besluit == Herhaling(bericht=gelezen.bericht, antwoord=b"<the-first-answer/>", stil=stil)


def test_the_same_berichtid_with_other_content_is_dubbel_bericht() -> None:
    gelezen = read(example("politie/VtMelding.xml"), POLITIE)
    eerder = Eerder(
        sha256="0" * 64,
        conversatie_id=gelezen.bericht.kop.conversatie_id,
        antwoord=b"<a/>",
        gepland=frozenset(),
        open=frozenset(),
    )
    besluit = offline_pipeline().decide(gelezen, Feiten(nu=NU, eerder=eerder))
    assert isinstance(besluit, Weigering)
    assert besluit.refused.code is Foutcode.DUBBEL_BERICHT
    assert besluit.refused.element == "kp:BerichtId"


def test_a_message_planned_and_never_answered_is_resumed() -> None:
    gelezen = read(example("politie/ZsmAanmelding.xml"), POLITIE)
    fresh = offline_pipeline().decide(gelezen, Feiten(nu=NU))
    assert isinstance(fresh, Aanvaarding)
    planned = [lev.ontvanger.partner.oin for lev in fresh.leveringen]
    assert len(planned) >= 2
    eerder = Eerder(
        sha256=gelezen.ontvangen.sha256,
        conversatie_id=gelezen.bericht.kop.conversatie_id,
        antwoord=None,
        gepland=frozenset(planned),
        open=frozenset(planned[:1]),
    )
    besluit = offline_pipeline().decide(gelezen, Feiten(nu=NU, eerder=eerder))
    assert isinstance(besluit, Aanvaarding)
    assert besluit.hervat
    assert [lev.ontvanger.partner.oin for lev in besluit.te_publiceren] == planned[:1]
    assert {lev.ontvanger.partner.oin for lev in besluit.leveringen} == set(planned)


def test_an_afleverbevestiging_is_recorded_per_original_sender() -> None:
    confirmed = str(uuid.uuid4())
    gelezen = read(afleverbevestiging("vt-twente", confirmed)[0], VT_TWENTE)
    vraag = offline_pipeline().vraag(gelezen)
    assert vraag.bevestigt == confirmed
    feiten = Feiten(nu=NU, geleverd=(Geleverd(POLITIE, ("pseudoniem-a", "pseudoniem-b")),))
    besluit = offline_pipeline().decide(gelezen, feiten)
    assert isinstance(besluit, Bevestiging)
    assert besluit.afzenders == (POLITIE,)
    assert [(e.gebeurtenis, e.betrokkene) for e in besluit.entries] == [
        ("bevestigd", "pseudoniem-a"),
        ("bevestigd", "pseudoniem-b"),
    ]
    assert all(e.ontvanger == (VT_TWENTE, "veilig-thuis") for e in besluit.entries)


def test_an_afleverbevestiging_of_nothing_delivered_is_refused() -> None:
    gelezen = read(afleverbevestiging("om", str(uuid.uuid4()))[0], OM)
    besluit = offline_pipeline().decide(gelezen, Feiten(nu=NU))
    assert isinstance(besluit, Weigering)
    assert besluit.refused.code is Foutcode.SCHEMA_ONGELDIG
    assert besluit.refused.element == "kp:InAntwoordOp"


# --------------------------------------------------------------------------- later steps


def eerder_in(conversatie_id: str) -> Eerder:
    return Eerder(
        sha256="0" * 64,
        conversatie_id=conversatie_id,
        antwoord=b"<answered/>",
        gepland=frozenset({VT_TWENTE}),
        open=frozenset(),
    )


def test_a_delivery_never_taken_is_audited_per_subject_and_its_sender_told() -> None:
    bericht_id, conversatie_id = str(uuid.uuid4()), str(uuid.uuid4())
    feiten = Feiten(
        nu=NU,
        geleverd=(Geleverd(POLITIE, ("pseudoniem-a", "pseudoniem-b")),),
        eerder=eerder_in(conversatie_id),
    )
    vervolg = offline_pipeline().niet_afleverbaar(bericht_id, VT_TWENTE, "expired", 4, feiten)
    assert [(e.gebeurtenis, e.betrokkene, e.status) for e in vervolg.entries] == [
        ("niet-afleverbaar", "pseudoniem-a", "expired"),
        ("niet-afleverbaar", "pseudoniem-b", "expired"),
    ]
    assert all(e.ontvanger == (VT_TWENTE, "veilig-thuis") for e in vervolg.entries)
    assert all(e.afzender == (POLITIE, "") for e in vervolg.entries)
    assert all(e.bericht_id == bericht_id for e in vervolg.entries)
    answer = etree.fromstring(vervolg.antwoord)
    assert answer.findtext(f"{KP}Inhoud/{KP}Foutbericht/{KP}Code") == "NIET_AFLEVERBAAR"
    reden = answer.findtext(f"{KP}Inhoud/{KP}Foutbericht/{KP}Reden") or ""
    assert f"did not take message {bericht_id} after 4 attempts (expired)" in reden
    assert kop_text(vervolg.antwoord, "InAntwoordOp") == bericht_id
    assert kop_text(vervolg.antwoord, "ConversatieId") == conversatie_id


def test_a_delivery_the_state_forgot_is_still_audited_and_answered() -> None:
    """The state keeps a message only so long: no subjects, no ConversatieId left. One record
    without a subject, and a Foutbericht in a conversation of its own."""
    bericht_id = str(uuid.uuid4())
    feiten = Feiten(nu=NU, geleverd=(Geleverd(POLITIE, ()),))
    vervolg = offline_pipeline().niet_afleverbaar(bericht_id, VT_TWENTE, "rejected", 1, feiten)
    assert [(e.gebeurtenis, e.betrokkene) for e in vervolg.entries] == [("niet-afleverbaar", None)]
    assert kop_text(vervolg.antwoord, "InAntwoordOp") == bericht_id
    assert kop_text(vervolg.antwoord, "ConversatieId") not in (None, "", bericht_id)


def test_each_replay_of_a_dead_letter_is_audited_apart_and_answers_nobody() -> None:
    bericht_id = str(uuid.uuid4())
    feiten = Feiten(nu=NU, geleverd=(Geleverd(POLITIE, ("pseudoniem-a",)),))
    pipeline = offline_pipeline()
    first = pipeline.opnieuw_aangeboden(bericht_id, VT_TWENTE, "poging-1", feiten)
    again = pipeline.opnieuw_aangeboden(bericht_id, VT_TWENTE, "poging-2", feiten)
    assert [(e.gebeurtenis, e.betrokkene, e.status) for e in first] == [
        ("replayed", "pseudoniem-a", "opnieuw-aangeboden")
    ]
    assert first[0].dedup != again[0].dedup  # two replays, two records
    assert first[0].ontvanger == (VT_TWENTE, "veilig-thuis")


def test_refusals_after_reading_name_the_message() -> None:
    """A doel the type does not allow: refused, answered to the message's own BerichtId."""
    raw = example("politie/VtMelding.xml")
    raw = re.sub(rb"<kp:Doel>[A-Z_]+</kp:Doel>", b"<kp:Doel>ACUTE_VEILIGHEID</kp:Doel>", raw)
    gelezen = read(raw, POLITIE)
    besluit = offline_pipeline().decide(gelezen, Feiten(nu=NU))
    assert isinstance(besluit, Weigering)
    assert besluit.refused.code is Foutcode.DOEL_NIET_TOEGESTAAN
    assert besluit.bericht_id == gelezen.bericht.kop.bericht_id
    assert kop_text(besluit.antwoord, "InAntwoordOp") == gelezen.bericht.kop.bericht_id
    assert besluit.entries[0].doel == "ACUTE_VEILIGHEID"


def test_prepare_compiles_every_types_generated_code_and_first_use_does_otherwise(
    tmp_path: Path,
) -> None:
    """A running gateway prepares at start (no message pays for compiling); a pipeline that
    did not still decides, compiling each piece when first used. The policy is a copy in a
    folder of its own: a catalogue is built once per content and folder, and the repository's
    may have been prepared by an earlier test."""
    policy_dir = tmp_path / "v1"
    shutil.copytree(POLICY_DIR, policy_dir)
    unprepared = pipeline_with_policy(policy_dir)
    codecs = [c for a in unprepared.codec.by_rol.values() for c in a.codecs.values()]
    assert not any("_parse" in vars(c) or "_compose" in vars(c) for c in codecs)
    assert all(not w._walks for w in unprepared._inventarisaties.values())
    raw = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
    oin = unprepared.codec.read_envelope(raw).kop.afzender.oin
    besluit = unprepared.route(ingress(raw, oin), Feiten(nu=dt.datetime.now(dt.UTC)))
    assert isinstance(besluit, Aanvaarding)
    used = [c for c in codecs if "_parse" in vars(c)]
    assert [c.definitie.berichttype for c in used] == ["VtMelding"]

    prepared = pipeline_with_policy(POLICY_DIR)
    prepared.prepare()
    codecs = [c for a in prepared.codec.by_rol.values() for c in a.codecs.values()]
    assert all("_parse" in vars(c) and "_compose" in vars(c) and 2 in c._indented for c in codecs)
    for berichttype, walker in prepared._inventarisaties.items():
        assert (prepared.policy.typen.model(berichttype), "") in walker._walks
