"""Routing, refusals and delivery status through the real RabbitMQ (spec §2, §4-§6).

Every test runs a gateway in this process against the broker on 127.0.0.1:5672 and talks to
it as the partners do: publish to the ingress as the partner's own user, read the partner's
own inbox. Messages are the files in ``examples/`` with minimal text edits (each edit must
match exactly once, so a changed example fails loudly instead of silently testing nothing).

Waiting: the gateway publishes every delivery of a message (with publisher confirms) before it
answers the sender, so once the sender's answer has arrived every inbox holds all it will ever
get for that message. The tests therefore wait for the answer (with a timeout) and then read
every inbox without further waiting; no test sleeps a fixed time to "let things settle".

Assertions always cover all six partners: the expected recipients got exactly one delivery
each, addressed to them, and every other partner (the sender included) got nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import (
    Bericht,
    BerichtType,
    Foutbericht,
    Foutcode,
    Ontvangstbevestiging,
    Partij,
    Rol,
)
from gateway.runtime import app as gateway_app
from gateway.runtime.settings import Settings
from gateway.safexml import xmlsafe
from gateway.store.state import Bekend, StateStore, Status
from gateway.transport.rabbit import AFZENDER, POGING, SOORT
from tests.conftest import EXAMPLES_DIR, Running, fresh, run_gateway
from tests.support.broker import NAME_OF, OINS, Partner, drain, split
from tests.support.broker import take as broker_take

pytestmark = pytest.mark.broker

KP = "{urn:ketenpoort:envelop:1}"
TIMEOUT = 15.0  # seconds to wait for an answer before the test fails

ROL = {
    "politie": "politie",
    "vt-twente": "veilig-thuis",
    "om": "openbaar-ministerie",
    "rvdk": "raad-kinderbescherming",
    "reclassering": "reclassering",
    "vt-rijnmond": "veilig-thuis",
}

VT_MELDING = "politie/VtMelding.xml"
ZSM = "politie/ZsmAanmelding.xml"
AO_POLITIE = "politie/ActieoverlegAanmelding.xml"
AO_VT = "veilig-thuis/ActieoverlegAanmelding.xml"
VEILIGHEIDSBEOORDELING = "veilig-thuis/Veiligheidsbeoordeling.xml"
TERUGKOPPELING = "veilig-thuis/Terugkoppeling.xml"
ADVIESAANVRAAG = "openbaar-ministerie/Adviesaanvraag.xml"
OM_BESLISSING = "openbaar-ministerie/OmBeslissing.xml"
AO_BESLUIT = "openbaar-ministerie/ActieoverlegBesluit.xml"
RC_ADVIES = "reclassering/Reclasseringsadvies.xml"
RVDK_ADVIES = "raad-kinderbescherming/Reclasseringsadvies.xml"

Edit = tuple[str, str]

# Edits of the examples (each old text occurs exactly once in the file it is applied to).
POSTCODE = "7511AB"  # the incident / overleg address: Veilig Thuis Twente
VERDACHTE_GEBOREN = "1985-09-17"  # the verdachte's birth date in ZSM, Adviesaanvraag
HG_FALSE: Edit = ("<pol:HgLabel>true</pol:HgLabel>", "<pol:HgLabel>false</pol:HgLabel>")
MINDERJARIG: Edit = (VERDACHTE_GEBOREN, "2009-01-01")  # 17 on the Aanhouding (2026-11-20)
VT_RIJNMOND_AFZENDER: Edit = (
    '<kp:Afzender oin="00000099000000000102" rol="veilig-thuis"/>',
    '<kp:Afzender oin="00000099000000000106" rol="veilig-thuis"/>',
)
# ZSM example: Aanhouding 2026-11-20T23:05+01:00, so the OM decides by 08:05 the next morning.
ZSM_DEADLINE = dt.datetime(2026, 11, 21, 8, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
# Never in a log line, a dead-letter listing or another partner's hands (spec §9).
PERSONAL = ("999990019", "999990020", "999990032", "Anna", "Peter", "Jansen", "Lindelaan")


# --------------------------------------------------------------------------- building messages


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def build(
    rel: str,
    *edits: Edit,
    ontvangers: Iterable[str] = (),
    conversatie_id: str | None = None,
) -> tuple[bytes, str]:
    """An example with text edits and named Ontvangers, a new BerichtId and (unless given) a
    new ConversatieId. Returns (bytes, BerichtId)."""
    text = (EXAMPLES_DIR / rel).read_text("utf-8")
    for old, new in edits:
        text = replace_once(text, old, new)
    named = list(ontvangers)
    if named:
        afzender = re.findall(r"<kp:Afzender [^>]*/>", text)
        assert len(afzender) == 1, afzender
        elements = "".join(f'\n    <kp:Ontvanger oin="{OINS[n]}" rol="{ROL[n]}"/>' for n in named)
        text = replace_once(text, afzender[0], afzender[0] + elements)
    bericht_id = str(uuid.uuid4())
    raw = fresh(
        text.encode("utf-8"),
        bericht_id=bericht_id,
        conversatie_id=conversatie_id or str(uuid.uuid4()),
    )
    return raw, bericht_id


def afleverbevestiging(
    name: str,
    in_antwoord_op: str,
    *,
    conversatie_id: str,
    afzender: str | None = None,
    original_sender: str | None = None,
) -> tuple[bytes, str]:
    """Recipient ``name`` confirms receipt of ``in_antwoord_op`` (spec §2)."""
    bericht_id = str(uuid.uuid4())
    als = afzender or name
    ontvanger = (
        f'\n    <kp:Ontvanger oin="{OINS[original_sender]}" rol="{ROL[original_sender]}"/>'
        if original_sender
        else ""
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1">
  <kp:Kop>
    <kp:BerichtId>{bericht_id}</kp:BerichtId>
    <kp:ConversatieId>{conversatie_id}</kp:ConversatieId>
    <kp:InAntwoordOp>{in_antwoord_op}</kp:InAntwoordOp>
    <kp:BerichtType>Afleverbevestiging</kp:BerichtType>
    <kp:Versie>1</kp:Versie>
    <kp:Afzender oin="{OINS[als]}" rol="{ROL[als]}"/>{ontvanger}
    <kp:Tijdstip>2026-11-21T08:00:00+01:00</kp:Tijdstip>
  </kp:Kop>
  <kp:Inhoud>
    <kp:Afleverbevestiging/>
  </kp:Inhoud>
</kp:Bericht>
"""
    return text.encode("utf-8"), bericht_id


# --------------------------------------------------------------------------- reading inboxes


async def take(partner: Partner, count: int, *, timeout: float = TIMEOUT) -> list[Any]:
    return await broker_take(partner, count, timeout=timeout)


async def wait_for_answers(
    partner: Partner, count: int = 1
) -> tuple[list[AbstractIncomingMessage], list[AbstractIncomingMessage]]:
    """(deliveries, answers) of the partner's inbox, until ``count`` answers have arrived."""
    deliveries: list[AbstractIncomingMessage] = []
    answers: list[AbstractIncomingMessage] = []
    while len(answers) < count:
        d, a = split(await take(partner, 1))
        deliveries += d
        answers += a
    return deliveries, answers


@dataclass
class Outcome:
    """One message sent: the gateway's answer and what every partner received because of it."""

    bericht_id: str
    answer: Bericht
    answer_body: bytes
    deliveries: dict[str, list[AbstractIncomingMessage]]

    def ontvangstbevestiging(self) -> Ontvangstbevestiging:
        assert isinstance(self.answer.inhoud, Ontvangstbevestiging), self.answer.inhoud
        return self.answer.inhoud

    def foutbericht(self) -> Foutbericht:
        assert isinstance(self.answer.inhoud, Foutbericht), self.answer.inhoud
        return self.answer.inhoud


async def send(
    running: Running, codec: MessageCodec, sender: str, raw: bytes, bericht_id: str
) -> Outcome:
    """Send as ``sender``, wait for its one answer, then collect every partner's inbox."""
    partner = running.partner(sender)
    await partner.send(raw)
    own, answers = await wait_for_answers(partner)
    # Deliveries are confirmed before the answer is published: every inbox is final now.
    deliveries: dict[str, list[AbstractIncomingMessage]] = {}
    for name, other in running.partners.items():
        d, a = split(await drain(other))
        assert a == [], f"{name} got an unexpected answer: {[m.body[:400] for m in a]}"
        deliveries[name] = (own + d) if name == sender else d
    answer = codec.read(answers[0].body)
    assert answer.kop.in_antwoord_op == bericht_id, answer.kop
    assert answer.kop.afzender.rol == "ketenpoort", answer.kop.afzender
    return Outcome(bericht_id, answer, answers[0].body, deliveries)


def kop_of(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The envelope header of a delivered message (rendered in the recipient's format)."""
    root = xmlsafe.parse(message.body)
    kop = root.find(f"{KP}Kop")
    assert kop is not None
    return {
        "bericht_id": kop.findtext(f"{KP}BerichtId"),
        "afzender": kop.find(f"{KP}Afzender").get("oin"),  # type: ignore[union-attr]
        "ontvangers": [o.get("oin") for o in kop.findall(f"{KP}Ontvanger")],
        "doel": kop.findtext(f"{KP}Doelbinding/{KP}Doel"),
        "grondslagen": [g.text for g in kop.findall(f"{KP}Doelbinding/{KP}Grondslag")],
        "prioriteit": kop.findtext(f"{KP}Prioriteit"),
    }


def assert_routed(outcome: Outcome, sender: str, recipients: Iterable[str]) -> None:
    """Exactly one delivery, addressed to it, for each recipient; nothing for anyone else; the
    Ontvangstbevestiging lists exactly the recipients."""
    expected = set(recipients)
    got = {name: len(msgs) for name, msgs in outcome.deliveries.items() if msgs}
    assert got == dict.fromkeys(expected, 1), f"deliveries {got}, expected {sorted(expected)}"
    for name in expected:
        [message] = outcome.deliveries[name]
        headers = message.headers or {}
        assert headers.get(SOORT) == "levering"
        assert headers.get(AFZENDER) == OINS[sender]
        assert message.message_id == outcome.bericht_id
        kop = kop_of(message)
        assert kop["bericht_id"] == outcome.bericht_id
        assert kop["afzender"] == OINS[sender]
        assert kop["ontvangers"] == [OINS[name]], f"{name} got a message addressed to {kop}"
    bevestiging = outcome.ontvangstbevestiging()
    listed = [(o.oin, str(o.rol)) for o in bevestiging.ontvangers]
    assert sorted(listed) == sorted((OINS[n], ROL[n]) for n in expected)


def assert_refused(outcome: Outcome, code: Foutcode) -> Foutbericht:
    """A Foutbericht with ``code`` to the sender, and nothing delivered to anyone."""
    got = {name: len(msgs) for name, msgs in outcome.deliveries.items() if msgs}
    assert got == {}, f"a refused message was delivered: {got}"
    assert outcome.answer.kop.berichttype is BerichtType.FOUTBERICHT
    fout = outcome.foutbericht()
    assert fout.code is code, fout
    return fout


async def wait_for_status(state: StateStore, sender: str, bericht_id: str) -> Bekend:
    """The state of a message once no delivery is ``gepland`` any more.

    Tolerates a state commit that lands a moment after the sender's answer (the gateway's
    ordering of "answer" and "mark published" is not part of the contract).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        bekend = await state.lookup(OINS[sender], bericht_id)
        assert bekend is not None
        if all(lev.status is not Status.GEPLAND for lev in bekend.leveringen):
            return bekend
        assert loop.time() < deadline, bekend
        await asyncio.sleep(0.02)


def statuses(bekend: Bekend) -> dict[str, Status]:
    return {NAME_OF[lev.ontvanger_oin]: lev.status for lev in bekend.leveringen}


# --------------------------------------------------------------------------- §4 VtMelding


@pytest.mark.parametrize(
    ("postcode", "vt"),
    [
        ("7511AB", "vt-twente"),
        ("7400AA", "vt-twente"),  # lower bound of 7400-7699
        ("7699ZZ", "vt-twente"),  # upper bound
        ("3011AA", "vt-rijnmond"),
        ("3299ZZ", "vt-rijnmond"),
    ],
)
async def test_vtmelding_goes_to_the_vt_regio_of_the_incident_postcode(
    gateway: Running, codec: MessageCodec, postcode: str, vt: str
) -> None:
    raw, bid = build(VT_MELDING, (POSTCODE, postcode))
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", [vt])
    assert b"<vt:melding" in outcome.deliveries[vt][0].body


@pytest.mark.parametrize("postcode", ["9999ZZ", "7700AA", "2999ZZ"])
async def test_vtmelding_outside_every_regio_is_refused_geen_ontvanger(
    gateway: Running, codec: MessageCodec, postcode: str
) -> None:
    raw, bid = build(VT_MELDING, (POSTCODE, postcode))
    fout = assert_refused(await send(gateway, codec, "politie", raw, bid), Foutcode.GEEN_ONTVANGER)
    assert fout.element == "Postcode"
    assert postcode not in fout.reden  # the first four digits only, not the address


# --------------------------------------------------------------------------- §4 VT's messages


@pytest.mark.parametrize(
    ("doel", "grondslag", "recipient", "recipient_grondslag"),
    [
        ("STRAFRECHTELIJKE_BESLISSING", "WMO2015-ART-4.1.1", "om", "WMO2015-ART-4.1.1"),
        ("ONDERZOEK_KINDERBESCHERMING", "JW-ART-7.3.11", "rvdk", "JW-ART-7.3.11"),
        ("RECLASSERINGSADVIES", "WMO2015-ART-4.1.1", "reclassering", "WMO2015-ART-4.1.1"),
    ],
)
async def test_veiligheidsbeoordeling_is_routed_by_its_doel(
    gateway: Running,
    codec: MessageCodec,
    doel: str,
    grondslag: str,
    recipient: str,
    recipient_grondslag: str,
) -> None:
    raw, bid = build(
        VEILIGHEIDSBEOORDELING,
        ("<kp:Doel>STRAFRECHTELIJKE_BESLISSING</kp:Doel>", f"<kp:Doel>{doel}</kp:Doel>"),
        (
            "<kp:Grondslag>WMO2015-ART-4.1.1</kp:Grondslag>",
            f"<kp:Grondslag>{grondslag}</kp:Grondslag>",
        ),
    )
    outcome = await send(gateway, codec, "vt-twente", raw, bid)
    assert_routed(outcome, "vt-twente", [recipient])
    kop = kop_of(outcome.deliveries[recipient][0])
    assert kop["doel"] == doel
    assert kop["grondslagen"] == [recipient_grondslag]  # the grondslag it was delivered under


@pytest.mark.parametrize(
    ("rel", "sender", "recipient", "edits"),
    [
        pytest.param(TERUGKOPPELING, "vt-twente", "politie", (), id="terugkoppeling"),
        pytest.param(
            TERUGKOPPELING,
            "vt-rijnmond",
            "politie",
            (VT_RIJNMOND_AFZENDER,),
            id="terugkoppeling-from-rijnmond",
        ),
        pytest.param(
            "veilig-thuis/Veiligheidsafspraken.xml",
            "vt-twente",
            "politie",
            (),
            id="veiligheidsafspraken",
        ),
        pytest.param(
            "veilig-thuis/VerzoekTotOnderzoek.xml",
            "vt-twente",
            "rvdk",
            (),
            id="verzoek-tot-onderzoek",
        ),
        pytest.param(RC_ADVIES, "reclassering", "om", (), id="reclasseringsadvies"),
        pytest.param(RVDK_ADVIES, "rvdk", "om", (), id="reclasseringsadvies-from-rvdk"),
    ],
)
async def test_single_recipient_types(
    gateway: Running,
    codec: MessageCodec,
    rel: str,
    sender: str,
    recipient: str,
    edits: tuple[Edit, ...],
) -> None:
    raw, bid = build(rel, *edits)
    assert_routed(await send(gateway, codec, sender, raw, bid), sender, [recipient])


# --------------------------------------------------------------------------- §4 ZsmAanmelding


@pytest.mark.parametrize(
    ("edits", "recipients"),
    [
        pytest.param((), {"om", "vt-twente", "reclassering"}, id="hg-adult"),
        pytest.param(
            ((POSTCODE, "3011AA"),), {"om", "vt-rijnmond", "reclassering"}, id="hg-adult-rijnmond"
        ),
        pytest.param((HG_FALSE,), {"om"}, id="no-hg-adult"),
        pytest.param(
            (HG_FALSE, (POSTCODE, "9999ZZ")), {"om"}, id="no-hg-address-outside-every-regio"
        ),
        pytest.param((MINDERJARIG,), {"om", "vt-twente", "rvdk"}, id="hg-minor"),
        pytest.param((MINDERJARIG, HG_FALSE), {"om", "rvdk"}, id="no-hg-minor"),
        pytest.param(
            ((VERDACHTE_GEBOREN, "2008-11-20"),),
            {"om", "vt-twente", "reclassering"},
            id="hg-18-on-the-day-of-the-aanhouding",
        ),
        pytest.param(
            ((VERDACHTE_GEBOREN, "2008-11-21"),),
            {"om", "vt-twente", "rvdk"},
            id="hg-18-the-day-after-the-aanhouding",
        ),
        pytest.param(
            (("<kp:Prioriteit>spoed</kp:Prioriteit>", "<kp:Prioriteit>normaal</kp:Prioriteit>"),),
            {"om", "vt-twente", "reclassering"},
            id="sender-says-normaal",
        ),
    ],
)
async def test_zsmaanmelding_routing_priority_and_deadline(
    gateway: Running, codec: MessageCodec, edits: tuple[Edit, ...], recipients: set[str]
) -> None:
    raw, bid = build(ZSM, *edits)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", recipients)
    assert outcome.ontvangstbevestiging().uiterste_beslismoment == ZSM_DEADLINE
    for name in recipients:
        assert kop_of(outcome.deliveries[name][0])["prioriteit"] == "spoed", name


async def test_zsmaanmelding_deadline_follows_the_aanhouding(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(
        ZSM,
        (
            "<pol:Aanhouding>2026-11-20T23:05:00+01:00</pol:Aanhouding>",
            "<pol:Aanhouding>2026-11-20T17:30:00Z</pol:Aanhouding>",
        ),
    )
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["om", "vt-twente", "reclassering"])
    assert outcome.ontvangstbevestiging().uiterste_beslismoment == dt.datetime(
        2026, 11, 21, 2, 30, tzinfo=dt.UTC
    )


async def test_zsmaanmelding_hg_address_outside_every_regio_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    """Spec §5: no VT regio for the postcode → GEEN_ONTVANGER (the OM gets nothing either)."""
    raw, bid = build(ZSM, (POSTCODE, "9999ZZ"))
    assert_refused(await send(gateway, codec, "politie", raw, bid), Foutcode.GEEN_ONTVANGER)


# --------------------------------------------------------------------------- §4 OM's messages


@pytest.mark.parametrize(
    ("edits", "recipient"),
    [
        pytest.param((), "reclassering", id="adult"),
        pytest.param(((VERDACHTE_GEBOREN, "2010-03-14"),), "rvdk", id="minor"),
        # Kop Tijdstip is 2026-11-21: 18 that day is adult, the day after still a minor.
        pytest.param(((VERDACHTE_GEBOREN, "2008-11-21"),), "reclassering", id="18-that-day"),
        pytest.param(((VERDACHTE_GEBOREN, "2008-11-22"),), "rvdk", id="17-that-day"),
    ],
)
async def test_adviesaanvraag_goes_to_reclassering_or_rvdk_by_age(
    gateway: Running, codec: MessageCodec, edits: tuple[Edit, ...], recipient: str
) -> None:
    raw, bid = build(ADVIESAANVRAAG, *edits)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", [recipient])


@pytest.mark.parametrize(("postcode", "vt"), [("7511AB", "vt-twente"), ("3011AA", "vt-rijnmond")])
async def test_ombeslissing_goes_to_politie_reclassering_and_the_vt_of_the_conversation(
    gateway: Running, codec: MessageCodec, postcode: str, vt: str
) -> None:
    conversatie = str(uuid.uuid4())
    raw, bid = build(ZSM, (POSTCODE, postcode), conversatie_id=conversatie)
    assert_routed(
        await send(gateway, codec, "politie", raw, bid), "politie", ["om", vt, "reclassering"]
    )
    raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", vt, "reclassering"])


async def test_ombeslissing_without_a_vt_in_the_conversation_skips_the_vt(
    gateway: Running, codec: MessageCodec
) -> None:
    """No Veilig Thuis took part in the casus: politie and reclassering still get it."""
    raw, bid = build(OM_BESLISSING)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie", "reclassering"])


async def test_ombeslissing_after_a_zsm_without_hg_has_no_vt(
    gateway: Running, codec: MessageCodec
) -> None:
    """The documented choice: the VT regio comes only from the conversation or the Kop."""
    conversatie = str(uuid.uuid4())
    raw, bid = build(ZSM, HG_FALSE, conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])
    raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie", "reclassering"])


@pytest.mark.parametrize(
    "named",
    [
        pytest.param(["vt-twente"], id="only-the-vt"),
        pytest.param(["vt-rijnmond"], id="only-the-other-vt"),
        pytest.param(["politie", "vt-twente", "reclassering"], id="all-three"),
    ],
)
async def test_ombeslissing_without_history_goes_to_the_named_ontvangers_only(
    gateway: Running, codec: MessageCodec, named: list[str]
) -> None:
    raw, bid = build(OM_BESLISSING, ontvangers=named)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", named)


@pytest.mark.parametrize(
    ("zsm_first", "named"),
    [
        pytest.param(False, ["politie"], id="no-history-names-politie"),
        pytest.param(True, ["politie", "reclassering"], id="zsm-without-hg-names-politie-rc"),
    ],
)
async def test_ombeslissing_naming_only_non_vt_partners_needs_no_vt_regio(
    gateway: Running, codec: MessageCodec, zsm_first: bool, named: list[str]
) -> None:
    conversatie = str(uuid.uuid4())
    if zsm_first:
        raw, bid = build(ZSM, HG_FALSE, conversatie_id=conversatie)
        assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])
    raw, bid = build(OM_BESLISSING, ontvangers=named, conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", named)


async def test_ombeslissing_naming_another_vt_than_the_conversation_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    conversatie = str(uuid.uuid4())
    raw, bid = build(ZSM, conversatie_id=conversatie)
    assert_routed(
        await send(gateway, codec, "politie", raw, bid),
        "politie",
        ["om", "vt-twente", "reclassering"],
    )
    raw, bid = build(OM_BESLISSING, ontvangers=["vt-rijnmond"], conversatie_id=conversatie)
    fout = assert_refused(
        await send(gateway, codec, "om", raw, bid), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert fout.element == "kp:Ontvanger"


# --------------------------------------------------------------------------- §4 Actieoverleg


@pytest.mark.parametrize(
    ("rel", "sender", "edits", "recipients"),
    [
        pytest.param(
            AO_POLITIE, "politie", (), ["vt-twente", "om", "rvdk", "reclassering"], id="politie"
        ),
        pytest.param(
            AO_POLITIE,
            "politie",
            ((POSTCODE, "3011AA"),),
            ["vt-rijnmond", "om", "rvdk", "reclassering"],
            id="politie-rijnmond-address",
        ),
        pytest.param(AO_VT, "vt-twente", (), ["politie", "om", "rvdk", "reclassering"], id="vt"),
        pytest.param(
            AO_VT,
            "vt-rijnmond",
            (
                VT_RIJNMOND_AFZENDER,
                ("<vt:postcode>7511AB</vt:postcode>", "<vt:postcode>3011AA</vt:postcode>"),
            ),
            ["politie", "om", "rvdk", "reclassering"],
            id="vt-rijnmond-own-address",
        ),
    ],
)
async def test_actieoverlegaanmelding_goes_to_the_four_others(
    gateway: Running,
    codec: MessageCodec,
    rel: str,
    sender: str,
    edits: tuple[Edit, ...],
    recipients: list[str],
) -> None:
    raw, bid = build(rel, *edits)
    assert_routed(await send(gateway, codec, sender, raw, bid), sender, recipients)


async def test_actieoverlegbesluit_after_an_aanmelding_goes_to_the_four_others(
    gateway: Running, codec: MessageCodec
) -> None:
    conversatie = str(uuid.uuid4())
    raw, bid = build(AO_POLITIE, conversatie_id=conversatie)
    assert_routed(
        await send(gateway, codec, "politie", raw, bid),
        "politie",
        ["vt-twente", "om", "rvdk", "reclassering"],
    )
    raw, bid = build(AO_BESLUIT, conversatie_id=conversatie)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", "vt-twente", "rvdk", "reclassering"])


async def test_actieoverlegbesluit_without_history_goes_to_all_but_an_unknown_vt(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(AO_BESLUIT)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", "rvdk", "reclassering"])


# --------------------------------------------------------------------------- §5 Ontvanger narrows


@pytest.mark.parametrize(
    ("named", "edits"),
    [
        pytest.param(["om"], (), id="only-om"),
        pytest.param(["om", "vt-twente"], (), id="om-and-vt"),
        pytest.param(["rvdk"], (MINDERJARIG,), id="minor-only-rvdk"),
    ],
)
async def test_zsmaanmelding_naming_ontvangers_goes_only_to_them(
    gateway: Running, codec: MessageCodec, named: list[str], edits: tuple[Edit, ...]
) -> None:
    raw, bid = build(ZSM, *edits, ontvangers=named)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", named)
    assert outcome.ontvangstbevestiging().uiterste_beslismoment == ZSM_DEADLINE


@pytest.mark.parametrize(
    ("named", "edits"),
    [
        pytest.param(["rvdk"], (), id="rvdk-for-an-adult"),
        pytest.param(["reclassering"], (HG_FALSE,), id="reclassering-without-hg"),
        pytest.param(["vt-rijnmond"], (), id="the-vt-of-another-regio"),
        pytest.param(["om", "rvdk"], (), id="one-of-two-not-allowed"),
        pytest.param(["politie"], (), id="the-sender-itself"),
    ],
)
async def test_zsmaanmelding_naming_a_partner_the_policy_does_not_route_to_is_refused(
    gateway: Running, codec: MessageCodec, named: list[str], edits: tuple[Edit, ...]
) -> None:
    raw, bid = build(ZSM, *edits, ontvangers=named)
    fout = assert_refused(
        await send(gateway, codec, "politie", raw, bid), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert fout.element == "kp:Ontvanger"


async def test_ontvanger_with_the_wrong_rol_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(ZSM)
    text = raw.decode()
    text = replace_once(
        text,
        '<kp:Afzender oin="00000099000000000101" rol="politie"/>',
        '<kp:Afzender oin="00000099000000000101" rol="politie"/>\n'
        f'    <kp:Ontvanger oin="{OINS["om"]}" rol="reclassering"/>',
    )
    outcome = await send(gateway, codec, "politie", text.encode(), bid)
    assert_refused(outcome, Foutcode.ONTVANGER_NIET_TOEGESTAAN)


async def test_zsmaanmelding_naming_only_om_needs_no_vt_regio(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(ZSM, (POSTCODE, "9999ZZ"), ontvangers=["om"])
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])


# --------------------------------------------------------------------------- §2/§6 refusals


@pytest.mark.parametrize(
    ("rel", "user", "edits"),
    [
        pytest.param(OM_BESLISSING, "politie", (), id="politie-sends-as-om"),
        pytest.param(TERUGKOPPELING, "vt-rijnmond", (), id="one-vt-regio-sends-as-another"),
        pytest.param(AO_VT, "vt-twente", (VT_RIJNMOND_AFZENDER,), id="vt-twente-sends-as-rijnmond"),
    ],
)
async def test_afzender_onjuist(
    gateway: Running, codec: MessageCodec, rel: str, user: str, edits: tuple[Edit, ...]
) -> None:
    """The authenticated user, not kp:Afzender, is the sender; the answer goes to the user."""
    raw, bid = build(rel, *edits)
    fout = assert_refused(await send(gateway, codec, user, raw, bid), Foutcode.AFZENDER_ONJUIST)
    assert fout.element == "kp:Afzender"


async def test_afzender_niet_geautoriseerd_for_a_body_the_rol_only_receives(
    gateway: Running, codec: MessageCodec
) -> None:
    """Politie forwards a Terugkoppeling in its own (receive) format: it may not send one."""
    raw, bid = build(TERUGKOPPELING)
    bericht = codec.read(raw)
    politie = Partij(oin=OINS["politie"], rol=Rol.POLITIE)
    as_politie = bericht.model_copy(
        update={"kop": bericht.kop.model_copy(update={"afzender": politie})}
    )
    forwarded = codec.write(as_politie, voor=Rol.POLITIE)
    assert b"<pol:Terugkoppeling" in forwarded
    outcome = await send(gateway, codec, "politie", forwarded, bid)
    assert_refused(outcome, Foutcode.AFZENDER_NIET_GEAUTORISEERD)


async def test_afzender_niet_geautoriseerd_by_the_policy(
    settings: Settings, vhost: str, tmp_path: Path, codec: MessageCodec
) -> None:
    """A policy without raad-kinderbescherming among the Reclasseringsadvies afzenders refuses
    the Raad's rvdk:Advies, which its format still allows (policy is data, not code)."""
    policy_dir = tmp_path / "policy"
    shutil.copytree(settings.policy_dir, policy_dir)
    berichten = policy_dir / "berichten.yaml"
    berichten.write_text(
        replace_once(
            berichten.read_text("utf-8"),
            "afzenders: [reclassering, raad-kinderbescherming]",
            "afzenders: [reclassering]",
        ),
        "utf-8",
    )
    narrowed = settings.model_copy(update={"policy_dir": policy_dir})
    async with run_gateway(narrowed, vhost) as running:
        raw, bid = build(RVDK_ADVIES)
        fout = assert_refused(
            await send(running, codec, "rvdk", raw, bid), Foutcode.AFZENDER_NIET_GEAUTORISEERD
        )
        assert fout.element == "kp:BerichtType"
        raw, bid = build(RC_ADVIES)  # the reclassering still may
        assert_routed(await send(running, codec, "reclassering", raw, bid), "reclassering", ["om"])


async def test_doel_niet_toegestaan(gateway: Running, codec: MessageCodec) -> None:
    raw, bid = build(
        VT_MELDING, ("<kp:Doel>VEILIGHEIDSBEOORDELING</kp:Doel>", "<kp:Doel>ACTIEOVERLEG</kp:Doel>")
    )
    fout = assert_refused(
        await send(gateway, codec, "politie", raw, bid), Foutcode.DOEL_NIET_TOEGESTAAN
    )
    assert fout.element == "kp:Doel"


async def test_grondslag_ontbreekt(gateway: Running, codec: MessageCodec) -> None:
    """v2 §4: the politie citing VT's meldrecht (a grondslag of another party) is refused,
    naming the recipient and the codes the politie could have cited."""
    raw, bid = build(
        VT_MELDING,
        (
            "<kp:Grondslag>WPG-ART-18-BPG-4.3</kp:Grondslag>",
            "<kp:Grondslag>WMO2015-ART-5.2.6</kp:Grondslag>",
        ),
    )
    fout = assert_refused(
        await send(gateway, codec, "politie", raw, bid), Foutcode.GRONDSLAG_ONTBREEKT
    )
    assert fout.element == "kp:Grondslag"
    assert "00000099000000000102 (veilig-thuis)" in fout.reden, fout
    assert "acceptable: WPG-ART-18-BPG-4.3, WPG-ART-19" in fout.reden, fout


@pytest.mark.parametrize(
    ("code", "edit"),
    [
        pytest.param(
            Foutcode.XML_ONGELDIG, ("</kp:Bericht>", "</kp:Berich>"), id="not-well-formed"
        ),
        pytest.param(
            Foutcode.XML_ONGELDIG,
            (
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE kp:Bericht [<!ENTITY x "x">]>',
            ),
            id="dtd",
        ),
        pytest.param(
            Foutcode.SCHEMA_ONGELDIG,
            ("<pol:Eenheid>OOST-NEDERLAND</pol:Eenheid>", ""),
            id="required-element-missing",
        ),
        pytest.param(
            Foutcode.ONBEKEND_BERICHTTYPE,
            (
                "<kp:BerichtType>VtMelding</kp:BerichtType>",
                "<kp:BerichtType>Melding</kp:BerichtType>",
            ),
            id="unknown-berichttype",
        ),
        pytest.param(
            Foutcode.BSN_ONGELDIG,
            ("<pol:BSN>999990019</pol:BSN>", "<pol:BSN>999990018</pol:BSN>"),
            id="bsn-elfproef",
        ),
        pytest.param(
            Foutcode.TE_GROOT,
            ("</kp:Bericht>", "</kp:Bericht>\n<!--" + "x" * (1024 * 1024) + "-->"),
            id="too-big",
        ),
    ],
)
async def test_codec_refusals_over_amqp(
    gateway: Running, codec: MessageCodec, code: Foutcode, edit: Edit
) -> None:
    raw, bid = build(VT_MELDING, edit)
    assert_refused(await send(gateway, codec, "politie", raw, bid), code)


async def test_dubbel_bericht(gateway: Running, codec: MessageCodec) -> None:
    raw, bid = build(VT_MELDING)
    first = await send(gateway, codec, "politie", raw, bid)
    assert_routed(first, "politie", ["vt-twente"])

    # The identical message again: the original answer, byte for byte, and no new delivery.
    again = await send(gateway, codec, "politie", raw, bid)
    assert again.answer_body == first.answer_body
    assert {n: m for n, m in again.deliveries.items() if m} == {}

    # Same BerichtId, other content: DUBBEL_BERICHT, nothing delivered.
    changed = replace_once(raw.decode(), "Rode striemen in de hals", "Blauwe plek").encode()
    fout = assert_refused(
        await send(gateway, codec, "politie", changed, bid), Foutcode.DUBBEL_BERICHT
    )
    assert fout.element == "kp:BerichtId"

    # Another partner may use the same BerichtId (unique per sender): it is not a duplicate.
    raw_rc, _ = build(RC_ADVIES)
    raw_rc = fresh(raw_rc, bericht_id=bid)
    assert_routed(await send(gateway, codec, "reclassering", raw_rc, bid), "reclassering", ["om"])

    # The original is still remembered as delivered once, to VT Twente only.
    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}


async def test_unknown_amqp_user_is_dropped(
    gateway: Running, codec: MessageCodec, settings: Settings
) -> None:
    """The guest user (not in the partner register) publishes a valid VtMelding: nobody gets
    anything (there is no inbox to answer to)."""
    raw, _ = build(VT_MELDING)
    connection = await aio_pika.connect(settings.amqp_url.get_secret_value())
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(gateway.topology.ingress_exchange, ensure=False)
        await exchange.publish(
            aio_pika.Message(raw, user_id="guest", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="ingress",
            mandatory=True,
        )
        # A partner's message after it: once that is answered, the guest's was handled first.
        marker, bid = build(VT_MELDING)
        assert_routed(await send(gateway, codec, "politie", marker, bid), "politie", ["vt-twente"])
        ingress = await channel.declare_queue(gateway.topology.ingress, passive=True)
        assert ingress.declaration_result.message_count == 0
    finally:
        await connection.close()
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name


async def test_a_partner_cannot_publish_as_another_user(gateway: Running, vhost: str) -> None:
    """The broker checks the user_id property against the connection's user."""
    politie = Partner(OINS["politie"], vhost, gateway.topology)
    await politie.connect()
    try:
        raw, _ = build(OM_BESLISSING)
        with pytest.raises(aio_pika.exceptions.AMQPError):
            await politie.send(raw, user_id=OINS["om"])
    finally:
        await politie.close()
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name


# --------------------------------------------------------------------------- NIET_AFLEVERBAAR


async def test_niet_afleverbaar_dead_letter_list_and_replay(
    gateway: Running, codec: MessageCodec, settings: Settings
) -> None:
    politie = gateway.partner("politie")
    vt = gateway.partner("vt-twente")
    inbox = await vt.channel.get_queue(vt.topology.inbox(vt.oin), ensure=False)
    attempts: list[tuple[int, bytes]] = []

    async def reject(message: AbstractIncomingMessage) -> None:
        attempts.append((int((message.headers or {}).get(POGING) or 0), message.body))
        await message.reject(requeue=False)

    tag = await inbox.consume(reject)
    raw, bid = build(VT_MELDING)
    await politie.send(raw)
    own, answers = await wait_for_answers(politie, 2)
    await inbox.cancel(tag)
    assert own == []
    read = {codec.read(a.body).kop.berichttype: codec.read(a.body) for a in answers}
    assert set(read) == {BerichtType.ONTVANGSTBEVESTIGING, BerichtType.FOUTBERICHT}
    fout = read[BerichtType.FOUTBERICHT]
    assert isinstance(fout.inhoud, Foutbericht)
    assert fout.inhoud.code is Foutcode.NIET_AFLEVERBAAR
    assert fout.kop.in_antwoord_op == bid
    # One first attempt and one per retry delay (200, 400 ms), the same payload each time.
    assert [p for p, _ in attempts] == [0, 1, 2]
    assert len({body for _, body in attempts}) == 1
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name

    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    [levering] = bekend.leveringen
    assert (levering.ontvanger_oin, levering.status) == (vt.oin, Status.NIET_AFLEVERBAAR)
    assert levering.pogingen == 2

    # The dead-letter queue lists it, metadata only; listing twice does not consume it.
    for _ in range(2):
        listed = await gateway_app.dlq_list(settings)
        assert len(listed) == 1
        [entry] = listed
        assert entry["ontvanger"] == vt.oin
        assert entry["bericht_id"] == bid
        assert entry["berichttype"] == "VtMelding"
        assert entry["afzender"] == OINS["politie"]
        assert entry["pogingen"] == 3
        assert entry["reden"] == "rejected"
        for value in PERSONAL:
            assert value not in repr(entry), value

    replayed = await gateway_app.dlq_replay(settings, ontvanger=vt.oin)
    assert replayed == [{"ontvanger": vt.oin, "bericht_id": bid}]
    [again] = await take(vt, 1)
    assert again.body == attempts[0][1]
    assert again.message_id == bid
    assert (again.headers or {}).get(SOORT) == "levering"
    assert (again.headers or {}).get(AFZENDER) == OINS["politie"]
    assert await gateway_app.dlq_list(settings) == []
    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}

    # Now VT takes it and confirms: afgeleverd.
    conf, conf_id = afleverbevestiging("vt-twente", bid, conversatie_id=fout.kop.conversatie_id)
    answer = await send(gateway, codec, "vt-twente", conf, conf_id)
    assert answer.answer.kop.berichttype is BerichtType.ONTVANGSTBEVESTIGING
    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    assert statuses(bekend) == {"vt-twente": Status.AFGELEVERD}
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name


# --------------------------------------------------------------------------- delivery status


async def test_afleverbevestiging_sets_the_status_for_that_recipient_only(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(ZSM)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["om", "vt-twente", "reclassering"])
    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {
        "om": Status.GEPUBLICEERD,
        "vt-twente": Status.GEPUBLICEERD,
        "reclassering": Status.GEPUBLICEERD,
    }

    conf, conf_id = afleverbevestiging("om", bid, conversatie_id=outcome.answer.kop.conversatie_id)
    answer = await send(gateway, codec, "om", conf, conf_id)
    assert {n: m for n, m in answer.deliveries.items() if m} == {}  # not forwarded to anyone
    assert answer.answer.kop.berichttype is BerichtType.ONTVANGSTBEVESTIGING
    assert answer.answer.kop.ontvangers == (Partij(oin=OINS["om"], rol=Rol.OPENBAAR_MINISTERIE),)

    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    assert statuses(bekend) == {
        "om": Status.AFGELEVERD,
        "vt-twente": Status.GEPUBLICEERD,
        "reclassering": Status.GEPUBLICEERD,
    }
    # The status is the sender's: nobody else's OIN finds it.
    for other in ("om", "vt-twente", "reclassering", "rvdk", "vt-rijnmond"):
        assert await gateway.state.lookup(OINS[other], bid) is None, other


async def test_afleverbevestiging_naming_the_sender_settles_a_shared_bericht_id(
    gateway: Running, codec: MessageCodec
) -> None:
    """Two senders used the same BerichtId towards the OM; the OM names whose it confirms."""
    raw, bid = build(ZSM, HG_FALSE)
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])
    raw, _ = build(RC_ADVIES)
    raw = fresh(raw, bericht_id=bid)
    assert_routed(await send(gateway, codec, "reclassering", raw, bid), "reclassering", ["om"])
    conf, conf_id = afleverbevestiging(
        "om", bid, conversatie_id=str(uuid.uuid4()), original_sender="reclassering"
    )
    answer = await send(gateway, codec, "om", conf, conf_id)
    assert answer.answer.kop.berichttype is BerichtType.ONTVANGSTBEVESTIGING
    for sender, status in (("reclassering", Status.AFGELEVERD), ("politie", Status.GEPUBLICEERD)):
        bekend = await gateway.state.lookup(OINS[sender], bid)
        assert bekend is not None
        assert [lev.status for lev in bekend.leveringen] == [status], sender


@pytest.mark.parametrize(
    ("confirmer", "which"),
    [
        pytest.param("om", "unknown", id="never-sent"),
        pytest.param("om", "delivered-to-vt", id="delivered-to-another-partner"),
        pytest.param("politie", "delivered-to-vt", id="the-sender-itself"),
    ],
)
async def test_afleverbevestiging_for_a_message_not_delivered_to_the_partner_is_refused(
    gateway: Running, codec: MessageCodec, confirmer: str, which: str
) -> None:
    raw, bid = build(VT_MELDING)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["vt-twente"])
    target = str(uuid.uuid4()) if which == "unknown" else bid

    conf, conf_id = afleverbevestiging(confirmer, target, conversatie_id=str(uuid.uuid4()))
    answer = await send(gateway, codec, confirmer, conf, conf_id)
    fout = assert_refused(answer, Foutcode.SCHEMA_ONGELDIG)
    assert fout.element == "kp:InAntwoordOp"

    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}


async def test_afleverbevestiging_in_another_partners_name_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(VT_MELDING)
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["vt-twente"])
    conf, conf_id = afleverbevestiging(
        "om", bid, conversatie_id=str(uuid.uuid4()), afzender="vt-twente"
    )
    assert_refused(await send(gateway, codec, "om", conf, conf_id), Foutcode.AFZENDER_ONJUIST)
    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}
