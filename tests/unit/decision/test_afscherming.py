"""Afscherming, niet-delen-met and people without a BSN in the decision path (spec v2 §8).

An address marked afgeschermd reaches no recipient not granted ``afgeschermd-adres`` (nobody,
by default) and is never routed on; a block marked niet-delen-met a betrokkene is delivered
and named for that person's records only; a person without a BSN carries a persoonsnummer,
is pseudonymised as (sender OIN, persoonsnummer) and gets a keyed search key of name and birth
date. Refusals name the element.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.decision import afscherming, beroepsgeheim
from gateway.decision.afscherming import (
    Persoon,
    afgeschermd,
    afscherming_voor,
    beperkingen,
    naam_sleutel,
    onderwerp,
    onderwerpen_in,
    personen_in,
    zoeksleutel,
)
from gateway.decision.signaal import sleutels
from gateway.domain.errors import Refused
from gateway.domain.model import BerichtType, Foutcode, Inhoud, blokken_naar, blokken_van
from tests.support import catalogue
from tests.support.broker import OINS
from tests.support.decisions import decide, offline_pipeline
from tests.support.messages import fresh, replace_once
from tests.support.needtoknow import parse_delivered
from tests.support.paths import EXAMPLES_DIR
from tests.support.strategies import MESSAGE_CODEC, example_id, examples, inhoud

MELDING = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_text("utf-8")
AFSPRAKEN = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_text("utf-8")
OVERDRACHT = (EXAMPLES_DIR / "veilig-thuis" / "Overdracht.xml").read_text("utf-8")
POLITIE = OINS["politie"]
VT = OINS["vt-twente"]
CRISISDIENST_TWENTE = "00000099000000000111"
TYPES: list[BerichtType] = sorted(catalogue.TYPEN)


def _afspraken(*changes: tuple[str, str]) -> bytes:
    text = AFSPRAKEN
    for old, new in changes:
        text = text.replace(old, new, 1)
    return fresh(text.encode())


SHIELDED = ("<vt:adres>", '<vt:adres afgeschermd="true">')
NIET_VOOR_PETER = ("<vt:afspraak>", '<vt:afspraak niet-delen-met="b2">')


def _refused(raw: bytes, oin: str) -> Refused:
    with pytest.raises(Refused) as refused:
        decide(raw, oin)
    return refused.value


# --------------------------------------------------------------------------- afscherming


def test_a_shielded_address_reaches_nobody_and_each_removal_is_named() -> None:
    besluit = decide(_afspraken(SHIELDED), VT)
    assert {lev.ontvanger.partner.oin for lev in besluit.leveringen} == {
        POLITIE,
        CRISISDIENST_TWENTE,
    }
    for lev in besluit.leveringen:
        assert isinstance(lev.inhoud, catalogue.model("Veiligheidsafspraken"))
        assert lev.inhoud.adres is None
        assert b"Lindelaan" not in lev.payload
        assert b"7511" not in lev.payload
        assert "afgeschermd-adres" in lev.removed
        assert "contact" not in lev.kept  # the address was the message's only contact data
        assert [(a.veld, a.reden) for a in lev.afscherming] == [
            ("adres", "afgeschermd adres: afgeschermd-adres niet toegekend")
        ]
    gefilterd = [e for e in besluit.entries if e.gebeurtenis == "gefilterd"]
    assert gefilterd
    for entry in gefilterd:
        assert entry.extra["afscherming_achtergehouden"] == [
            {"veld": "adres", "reden": "afgeschermd adres: afgeschermd-adres niet toegekend"}
        ]


def test_an_unshielded_address_is_delivered_as_before() -> None:
    besluit = decide(_afspraken(), VT)
    for lev in besluit.leveringen:
        assert lev.afscherming == ()
        assert b"Lindelaan" in lev.payload
        assert "afgeschermd-adres" not in lev.removed


def test_a_recipient_granted_the_shielded_address_receives_it() -> None:
    granted = frozenset({"contact", "afgeschermd-adres"})
    body = catalogue.CODEC.read(_afspraken(SHIELDED)).inhoud
    assert isinstance(body, Inhoud)
    shielded = afgeschermd(body)
    assert [pad for pad, _ in shielded] == ["adres"]
    assert afscherming_voor(shielded, granted) == ()
    assert [a.veld for a in afscherming_voor(shielded, frozenset({"contact"}))] == ["adres"]


def test_routing_never_reads_a_shielded_postcode_it_uses_the_senders_own_regio() -> None:
    # VT Twente serves Enschede and Hengelo, which share one crisisdienst: found without the
    # address. Its postcode (Enschede) would find the same; in Rotterdam's it would not.
    in_rotterdam = ("<vt:postcode>7511AB</vt:postcode>", "<vt:postcode>3011AA</vt:postcode>")
    besluit = decide(_afspraken(SHIELDED, in_rotterdam), VT)
    assert CRISISDIENST_TWENTE in {lev.ontvanger.partner.oin for lev in besluit.leveringen}
    # unshielded, the Rotterdam postcode routes to Rotterdam's crisisdienst
    open_adres = decide(_afspraken(in_rotterdam), VT)
    assert CRISISDIENST_TWENTE not in {lev.ontvanger.partner.oin for lev in open_adres.leveringen}


def test_a_shielded_address_without_one_partner_in_the_senders_regio_needs_an_ontvanger() -> None:
    # a VtMelding from the politie, which serves every regio: no VT can be chosen without
    # reading the postcode, so the politie names it
    raw = fresh(replace_once(MELDING, "<pol:Adres>", '<pol:Adres afgeschermd="true">').encode())
    refused = _refused(raw, POLITIE)
    assert refused.code is Foutcode.GEEN_ONTVANGER
    assert "the address of incident.adres is afgeschermd and not used for routing" in str(refused)
    assert "7511" not in str(refused)
    named = raw.replace(
        b'rol="politie"/>',
        b'rol="politie"/>\n    <kp:Ontvanger oin="' + VT.encode() + b'" rol="veilig-thuis"/>',
        1,
    )
    besluit = decide(named, POLITIE)
    [lev] = besluit.leveringen
    assert lev.ontvanger.partner.oin == VT
    parsed = parse_delivered(lev.payload, "veilig-thuis", "VtMelding")
    assert isinstance(parsed, catalogue.model("VtMelding"))
    assert parsed.incident.adres is None


def test_a_shielded_address_is_no_key_for_matching_afspraken() -> None:
    def keys(*changes: tuple[str, str]) -> frozenset[str]:
        bericht = catalogue.CODEC.read(_afspraken(*changes))
        return sleutels(bericht, "adres", "betrokkenen", lambda s: s)

    assert any(k.startswith("afspraken-adres|") for k in keys())
    assert not any(k.startswith("afspraken-adres|") for k in keys(SHIELDED))


# --------------------------------------------------------------------------- niet-delen-met


def test_a_block_not_to_be_shown_to_a_betrokkene_is_delivered_and_named_for_them_only() -> None:
    pipeline = offline_pipeline()
    besluit = decide(_afspraken(NIET_VOOR_PETER), VT, pipeline=pipeline)
    for lev in besluit.leveringen:
        assert [(b.veld, b.ref) for b in lev.beperkingen] == [("afspraak[1]", "b2")]
    politie = next(lev for lev in besluit.leveringen if lev.ontvanger.partner.oin == POLITIE)
    assert b'<pol:Afspraak niet-delen-met="b2">' in politie.payload
    afgeleverd = [e for e in besluit.entries if e.gebeurtenis == "afgeleverd"]
    peter = pipeline.trail.pseudonymise("999990020")
    restricted = [e for e in afgeleverd if "niet_delen_met" in e.extra]
    # on each recipient's record of Peter, on none of Anna's
    assert [e.betrokkene for e in restricted] == [peter] * len(besluit.leveringen)
    assert all(e.extra["niet_delen_met"] == ["afspraak[1]"] for e in restricted)
    assert any(e.betrokkene != peter for e in afgeleverd)


def test_niet_delen_met_naming_nobody_is_refused_naming_the_element() -> None:
    refused = _refused(_afspraken(("<vt:afspraak>", '<vt:afspraak niet-delen-met="b9">')), VT)
    assert refused.code is Foutcode.SCHEMA_ONGELDIG
    assert refused.element == "niet-delen-met"
    assert "afspraak[1] is marked niet-delen-met 'b9'" in str(refused)


# --------------------------------------------------------------------------- without a BSN


def test_a_person_without_bsn_or_persoonsnummer_is_refused_naming_the_element() -> None:
    raw = _afspraken(("<vt:persoonsnummer>VTT-P-2026-0417</vt:persoonsnummer>", ""))
    refused = _refused(raw, VT)
    assert refused.code is Foutcode.SCHEMA_ONGELDIG
    assert refused.element == "persoonsnummer"
    assert refused.reden.startswith("betrokkenen[1] has no BSN and no persoonsnummer")


def test_a_person_without_a_bsn_is_a_subject_per_sender_with_a_search_key() -> None:
    pipeline = offline_pipeline()
    besluit = decide(_afspraken(), VT, pipeline=pipeline)
    ontvangen = [e for e in besluit.entries if e.gebeurtenis == "ontvangen"]
    pseudonymise = pipeline.trail.pseudonymise
    anna = pseudonymise(f"persoonsnummer|{VT}|VTT-P-2026-0417")
    peter = pseudonymise("999990020")
    assert [e.betrokkene for e in ontvangen] == [anna, peter]
    by_subject = {e.betrokkene: e.zoeksleutel for e in ontvangen}
    assert by_subject[anna] == pseudonymise(zoeksleutel("Anna Jansen", dt.date(1988, 4, 2)))
    assert by_subject[anna] == pipeline.trail.zoeksleutel(" anna  JANSEN", dt.date(1988, 4, 2))
    assert by_subject[peter] is None  # people with a BSN are found by it


def test_the_same_persoonsnummer_from_another_sender_is_another_person() -> None:
    persoon = Persoon("betrokkenen[1]", "b1", None, "P-1", "Anna", dt.date(1988, 4, 2))
    assert onderwerp(persoon, VT) != onderwerp(persoon, POLITIE)
    met_bsn = Persoon("personen[1]", "p1", "999990019", "P-1", "Anna", None)
    assert onderwerp(met_bsn, VT) == onderwerp(met_bsn, POLITIE) == "999990019"


def test_every_person_of_the_examples_is_found() -> None:
    body = catalogue.CODEC.read(_afspraken()).inhoud
    assert isinstance(body, Inhoud)
    assert [(p.pad, p.ref, p.bsn, p.persoonsnummer, p.naam) for p in personen_in(body)] == [
        ("betrokkenen[1]", "b1", None, "VTT-P-2026-0417", "Anna Jansen"),
        ("betrokkenen[2]", "b2", "999990020", None, "Peter Jansen"),
    ]
    assert beperkingen(body) == ()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ayşe  van der Berg-Öztürk", "ayse van der berg ozturk"),
        (" ZOË O'Neill ", "zoe o neill"),
        ("Anna Jansen", "anna jansen"),
    ],
)
def test_a_name_is_keyed_without_case_accents_or_punctuation(typed: str, stored: str) -> None:
    assert naam_sleutel(typed) == stored


@given(st.text(max_size=40))
def test_the_name_key_is_stable(naam: str) -> None:
    assert naam_sleutel(naam_sleutel(naam)) == naam_sleutel(naam)
    assert set(naam_sleutel(naam)) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ")


# --------------------------------------------------------------------------- the pruned walks


def _pruned_and_one(body: Inhoud) -> tuple[object, object]:
    """Per kind of block the pipeline looks for (a person, an address, one that can name its
    herkomst): what a walk entering only the fields toward that class finds, and what the one
    walk of every block (``blokken_van``, done once per message) finds of it."""
    blokken = blokken_van(body)
    soorten = (
        afscherming._is_persoon_class,
        afscherming._is_adres_class,
        beroepsgeheim._kan_herkomst,
    )
    pruned = [[(p, b) for p, b in blokken_naar(body, s) if s(type(b))] for s in soorten]
    one = [[(p, b) for p, b in blokken if s(type(b))] for s in soorten]
    assert personen_in(body, blokken) == personen_in(body)
    assert afgeschermd(body, blokken) == afgeschermd(body)
    return pruned, one


@pytest.mark.parametrize("path", examples(), ids=example_id)
def test_the_people_and_addresses_of_an_example_are_those_a_full_walk_finds(path: Path) -> None:
    body = MESSAGE_CODEC.read(path.read_bytes()).inhoud
    if not isinstance(body, Inhoud):
        pytest.skip("a technical body is about nobody")
    pruned, one = _pruned_and_one(body)
    assert pruned == one
    _assert_onderwerpen(body)


@pytest.mark.parametrize("berichttype", TYPES, ids=TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_people_and_addresses_of_a_generated_body_are_those_a_full_walk_finds(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    body = data.draw(inhoud(berichttype), label="inhoud")
    pruned, one = _pruned_and_one(body)
    assert pruned == one
    _assert_onderwerpen(body)


def _assert_onderwerpen(body: Inhoud) -> None:
    """The subjects' keys alone (the audit's walk of a delivered body) are those of the
    people :func:`personen_in` finds."""
    for oin in (VT, POLITIE):
        keys = [onderwerp(p, oin) for p in personen_in(body)]
        assert onderwerpen_in(body, oin) == [k for k in keys if k is not None]
