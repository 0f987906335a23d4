"""Need-to-know (spec §7) through a running gateway: what each recipient receives, down to the
delivered bytes.

Each §7 rule: a partner sends an example, the recipient's inbox is read, and the values of
removed categories occur nowhere in what it receives (body, headers, properties), while the
granted ones do. Runs on both transports (RabbitMQ, the proof, and the in-memory double). The
properties at pipeline level and the model are ``tests/unit/decision/test_needtoknow.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.domain.model import Ontvangstbevestiging, categorieen_in
from tests.support.broker import OINS
from tests.support.catalogue import model
from tests.support.gateways import ON_BOTH_TRANSPORTS, Running
from tests.support.messages import fresh
from tests.support.needtoknow import (
    KIND_BSN,
    NAAM,
    POLICY,
    ROL,
    ExampleBytes,
    leaf_multiset,
    parse_delivered,
)
from tests.support.partners import drain, inbox_until_answered, split
from tests.support.strategies import MESSAGE_CODEC

# --------------------------------------------------------------------------- broker helpers

ActieoverlegAanmelding = model("ActieoverlegAanmelding")
Terugkoppeling = model("Terugkoppeling")
Veiligheidsafspraken = model("Veiligheidsafspraken")
Veiligheidsbeoordeling = model("Veiligheidsbeoordeling")
ZsmAanmelding = model("ZsmAanmelding")


def received_text(message: Any) -> str:
    """Everything a recipient gets: the body and every header and property."""
    return "\n".join(
        [
            message.body.decode("utf-8"),
            repr(message.headers),
            repr(message.properties),
        ]
    )


async def send_and_collect(
    gateway: Running,
    sender: str,
    raw: bytes,
    recipients: set[str],
    elders: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Send as ``sender``; the gateway accepts it for exactly ``recipients``, each of which
    receives exactly one delivery (and nobody else receives anything)."""
    await gateway.partner(sender).send(fresh(raw))
    own, answers = await inbox_until_answered(gateway.partner(sender))
    assert own == []
    assert len(answers) == 1
    answer = MESSAGE_CODEC.read(answers[0].body)
    assert isinstance(answer.inhoud, Ontvangstbevestiging), answers[0].body.decode()
    # ``elders``: recipients outside the test partners (their own suites read their inboxes)
    assert {o.oin for o in answer.inhoud.ontvangers} == {OINS[r] for r in recipients} | elders
    delivered: dict[str, Any] = {}
    for name in OINS:
        if name == sender:
            continue
        # deliveries are confirmed before the answer: every inbox is final now
        deliveries, others = split(await drain(gateway.partner(name)))
        assert others == []
        if name in recipients:
            assert len(deliveries) == 1, f"{name} got {len(deliveries)} deliveries"
            delivered[name] = deliveries[0]
        else:
            assert deliveries == [], f"{name} got a delivery it should not"
    return delivered


def assert_has(text: str, *values: str) -> None:
    for value in values:
        assert value in text, f"{value!r} missing from what the recipient received"


def assert_lacks(text: str, *values: str) -> None:
    for value in values:
        assert value not in text, f"{value!r} was delivered but is not granted"


# --------------------------------------------------------------------------- §7 through the broker

TOELICHTING = "Vervolg is ingezet; gezin werkt mee."
KIND_GEBOREN = "2017-06-30"
KIND_NAAM = re.compile(r"\bJan\b")  # not "Jansen"
ADRES = ("Lindelaan", "7511AB", "Enschede")


@ON_BOTH_TRANSPORTS
async def test_terugkoppeling_to_politie_has_proces_and_casusregisseur_only(
    gateway: Running, example_bytes: ExampleBytes
) -> None:
    raw = example_bytes("veilig-thuis/Terugkoppeling.xml")
    assert TOELICHTING.encode() in raw  # the example carries the free text
    got = await send_and_collect(gateway, "vt-twente", raw, {"politie"})
    message = got["politie"]
    text = received_text(message)
    assert_has(
        text,
        "PL0900-2026112012345",  # melding-referentie
        "VT-TW-2026-004711",  # dossier
        "2026-11-21",  # ontvangen-op
        "M. Bakker",  # casusregisseur
        "053-4811111",
        "<pol:VeiligheidsafsprakenAanwezig>true</pol:VeiligheidsafsprakenAanwezig>",
    )
    assert_lacks(text, TOELICHTING, "Vervolg is ingezet", "gezin werkt mee", "Toelichting")
    parsed = parse_delivered(message.body, "politie", "Terugkoppeling")
    assert isinstance(parsed, Terugkoppeling)
    assert parsed.toelichting is None
    assert parsed.veiligheidsafspraken_aanwezig is True
    assert parsed.casusregisseur is not None
    assert (parsed.casusregisseur.naam, parsed.casusregisseur.telefoon) == (
        "M. Bakker",
        "053-4811111",
    )
    assert categorieen_in(parsed) == {"proces", "hulpverlening"}


@ON_BOTH_TRANSPORTS
async def test_veiligheidsafspraken_to_politie_has_afspraken_address_and_names(
    gateway: Running, example_bytes: ExampleBytes
) -> None:
    raw = example_bytes("veilig-thuis/Veiligheidsafspraken.xml")
    # v2 §6: also the crisisdienst of the gemeente (Crisisdienst Twente)
    got = await send_and_collect(
        gateway, "vt-twente", raw, {"politie"}, frozenset({"00000099000000000111"})
    )
    message = got["politie"]
    text = received_text(message)
    assert_has(
        text,
        "Melding van geluidsoverlast of ruzie op dit adres",
        "Vermoeden HG: Peter aanhouden en protocol tijdelijk huisverbod starten",
        "Kinderen moeten de woning uit",
        "Opvang bij tante, Dennenweg 3",
        "06-12345678",
        "M. Bakker",  # bij-blijver: who to call
        "053-4811111",
        *ADRES,
        "Anna Jansen",
        "Peter Jansen",
        "999990020",
        "2027-05-21",  # geldig-tot
        "VT-TW-2026-004711",
    )
    parsed = parse_delivered(message.body, "politie", "Veiligheidsafspraken")
    assert isinstance(parsed, Veiligheidsafspraken)
    assert categorieen_in(parsed) == {
        "identificatie",
        "contact",
        "veiligheid",
        "proces",
    }
    # Everything VT sent is in it: nothing of this type needs removing for the politie (the
    # reeks-id is the fresh one the sender gave this versie: tests.support.messages.fresh)
    sent = MESSAGE_CODEC.read(raw).inhoud
    assert parsed == sent.model_copy(update={"reeks_id": parsed.reeks_id})


@ON_BOTH_TRANSPORTS
async def test_zsm_aanmelding_to_reclassering_has_the_verdachte_not_the_child(
    gateway: Running, example_bytes: ExampleBytes
) -> None:
    raw = example_bytes("politie/ZsmAanmelding.xml")
    assert KIND_BSN.encode() in raw
    assert b"<pol:HgLabel>true</pol:HgLabel>" in raw
    got = await send_and_collect(gateway, "politie", raw, {"om", "vt-twente", "reclassering"})

    reclassering = received_text(got["reclassering"])
    assert_has(
        reclassering,
        "999990020",  # the verdachte
        "<rc:Voornamen>Peter</rc:Voornamen>",
        "1985-09-17",
        "Mevrouw verklaart dat zij door haar man bij de keel is gegrepen.",  # incident
        "PL0900-2026112012399",  # Zaak
        "<rc:Feit>MISHANDELING</rc:Feit>",
        "<rc:Feit>BEDREIGING</rc:Feit>",
        "2026-11-20T23:05:00+01:00",
        "<rc:HgLabel>true</rc:HgLabel>",
    )
    assert_lacks(reclassering, KIND_BSN, KIND_GEBOREN, *ADRES, "Adres>")
    # the Letsel is incident and gezondheid (v2 §8): not for reclassering
    assert_lacks(reclassering, "Rode striemen in de hals", "Letsel>")
    assert KIND_NAAM.search(reclassering) is None
    parsed = parse_delivered(got["reclassering"].body, "reclassering", "ZsmAanmelding")
    assert isinstance(parsed, ZsmAanmelding)
    assert "kind" not in categorieen_in(parsed)
    assert "contact" not in categorieen_in(parsed)
    assert "kind" not in {p.rol for p in parsed.personen}
    verdachte = next(p for p in parsed.personen if p.rol in ("verdachte", "pleger"))
    assert verdachte.bsn == "999990020"

    # The OM (everything under this doel) does get the child and the address: the example
    # really carries them, and the filter is per recipient.
    om = received_text(got["om"])
    assert_has(om, KIND_BSN, KIND_GEBOREN, *ADRES)
    assert KIND_NAAM.search(om) is not None


@ON_BOTH_TRANSPORTS
@pytest.mark.parametrize("deel", [False, True], ids=["gezondheid-niet-delen", "delen"])
async def test_veiligheidsbeoordeling_to_om_shares_gezondheid_only_when_marked(
    gateway: Running, example_bytes: ExampleBytes, deel: bool
) -> None:
    original = example_bytes("veilig-thuis/Veiligheidsbeoordeling.xml").decode()
    assert original.count('deel-gezondheid-met-om="false"') == 1
    raw = original.replace(
        'deel-gezondheid-met-om="false"', f'deel-gezondheid-met-om="{str(deel).lower()}"'
    ).encode()
    bericht = MESSAGE_CODEC.read(raw)
    assert bericht.kop.doelbinding is not None
    assert bericht.kop.doelbinding.doel == "STRAFRECHTELIJKE_BESLISSING"
    got = await send_and_collect(gateway, "vt-twente", raw, {"om"})
    text = received_text(got["om"])

    gezondheid = ("alcoholverslaving", "Tactus")
    # free text that may hold gezondheid (v2 §8): wat-is-er-bekend, the factors
    vrije_tekst = ("Schulden sinds faillissement", "Tante woont om de hoek", "WatIsErBekend>")
    if deel:
        assert_has(text, *gezondheid, *vrije_tekst)
    else:
        assert_lacks(text, *gezondheid, "Gezondheid>", *vrije_tekst)
    assert_has(
        text,
        "<om:Gezinsprofiel>GEZIN_IN_STRESS</om:Gezinsprofiel>",
        "<om:Veiligheidsschaal>2</om:Veiligheidsschaal>",
        "<om:AcuutOnveilig>false</om:AcuutOnveilig>",
        "Peter heeft Anna bij de keel gegrepen terwijl Jan in de kamer was.",
        "Anna wordt sinds 2024 bij ruzie door Peter bij de keel gegrepen",
        "Peter slaapt bij zijn broer als hij gedronken heeft",
        "<om:Besluit>VOORWAARDEN_EN_VERVOLG</om:Besluit>",
        "M. Bakker",
        "999990019",
        "999990020",
        KIND_BSN,  # the OM may receive kind under this doel
        "VT-TW-2026-004711",
    )
    parsed = parse_delivered(got["om"].body, "openbaar-ministerie", bericht.kop.berichttype)
    assert isinstance(parsed, Veiligheidsbeoordeling)
    assert isinstance(bericht.inhoud, Veiligheidsbeoordeling)
    # Everything else is there, unchanged.
    withheld: dict[str, Any] = {
        "gezondheid": None,
        "risicofactor": [],
        "beschermende_factor": [],
        "kernvragen": bericht.inhoud.kernvragen.model_copy(update={"wat_is_er_bekend": None})
        if bericht.inhoud.kernvragen is not None
        else None,
    }
    expected = bericht.inhoud if deel else bericht.inhoud.model_copy(update=withheld)
    assert parsed == expected
    assert ("gezondheid" in categorieen_in(parsed)) is deel


ACTIEOVERLEG_GRANTS = {
    rol: frozenset(grant.categorieen)
    for rol, grant in POLICY.doelen["ACTIEOVERLEG"].ontvangers.items()
}


@ON_BOTH_TRANSPORTS
@pytest.mark.parametrize(
    ("example", "sender"),
    [
        ("politie/ActieoverlegAanmelding.xml", "politie"),
        ("veilig-thuis/ActieoverlegAanmelding.xml", "vt-twente"),
    ],
    ids=["van-politie", "van-veilig-thuis"],
)
async def test_actieoverleg_aanmelding_each_rol_gets_its_doel_grants(
    gateway: Running, example_bytes: ExampleBytes, example: str, sender: str
) -> None:
    raw = example_bytes(example)
    recipients = set(NAAM.values()) - {sender}
    got = await send_and_collect(gateway, sender, raw, recipients)
    original = MESSAGE_CODEC.read(raw).inhoud
    assert isinstance(original, ActieoverlegAanmelding)

    for name, message in got.items():
        rol = ROL[name]
        granted = ACTIEOVERLEG_GRANTS[rol]
        text = received_text(message)
        parsed = parse_delivered(message.body, rol, "ActieoverlegAanmelding")
        assert categorieen_in(parsed) <= granted, name
        # exactly the granted part of what was sent, nothing less
        assert leaf_multiset(parsed) == leaf_multiset(original, granted), name
        child = "kind" in granted
        assert (KIND_BSN in text) is child, name
        assert (KIND_GEBOREN in text) is child, name
        assert (KIND_NAAM.search(text) is not None) is child, name
        for value in ADRES:
            assert (value in text) is ("contact" in granted), (name, value)

    assert "kind" in ACTIEOVERLEG_GRANTS["raad-kinderbescherming"]
    assert "kind" not in ACTIEOVERLEG_GRANTS["reclassering"]
    assert_has(received_text(got["rvdk"]), KIND_BSN, KIND_GEBOREN)
    assert KIND_NAAM.search(received_text(got["rvdk"])) is not None
    assert_lacks(received_text(got["reclassering"]), KIND_BSN, KIND_GEBOREN, *ADRES)
    assert KIND_NAAM.search(received_text(got["reclassering"])) is None
