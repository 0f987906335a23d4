"""Sending example messages through a running gateway and reading what came of it.

Shared by the routing, refusal, delivery-status and audit suites (spec §2, §4-§6). Messages
are the files in ``examples/`` with minimal text edits (each edit must match exactly once, so a
changed example fails loudly instead of silently testing nothing).

Waiting: the gateway publishes every delivery of a message (with publisher confirms) before it
answers the sender, so once the sender's answer has arrived every inbox holds all it will ever
get for that message: :func:`send` waits for the answer and then reads every inbox without
further waiting.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Bericht, Foutbericht, Foutcode, Ontvangstbevestiging, TechnischType
from gateway.safexml import xmlsafe
from gateway.store.state import Bekend, Geheugenwijziging, StateStore, Status
from gateway.transport.rabbit import AFZENDER, SOORT
from tests.support.broker import OINS, ROL
from tests.support.gateways import Running
from tests.support.messages import fresh, replace_once
from tests.support.partners import NAME_OF, drain, inbox_until_answered, split
from tests.support.paths import EXAMPLES_DIR
from tests.support.waiting import eventually

KP = "{urn:ketenpoort:envelop:1}"


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
# An OmBeslissing that labels its casus HG itself (om:HgLabel, spec v2 §5).
_GENOMEN = "<om:Genomen>2026-11-21T07:40:00+01:00</om:Genomen>"
OM_HG: Edit = (_GENOMEN, _GENOMEN + "\n      <om:HgLabel>true</om:HgLabel>")
VT_RIJNMOND_AFZENDER: Edit = (
    '<kp:Afzender oin="00000099000000000102" rol="veilig-thuis"/>',
    '<kp:Afzender oin="00000099000000000106" rol="veilig-thuis"/>',
)
# ZSM example: Aanhouding 2026-11-20T23:05+01:00, so the OM decides by 17:05 the next day
# (v2 §10: 9 hours of ophouden voor onderzoek, 00:00-09:00 not counted).
ZSM_DEADLINE = dt.datetime(2026, 11, 21, 17, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
# Never in a log line, a dead-letter listing or another partner's hands (spec §9).
PERSONAL = ("999990019", "999990020", "999990032", "Anna", "Peter", "Jansen", "Lindelaan")


# --------------------------------------------------------------------------- building messages


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
    conversatie_id: str | None = None,
    afzender: str | None = None,
    original_sender: str | None = None,
) -> tuple[bytes, str]:
    """Recipient ``name`` confirms receipt of ``in_antwoord_op`` (spec §2), naming the original
    sender as kp:Ontvanger when given (the most precise claim a confirmation can make); as
    ``afzender`` when another partner claims to be the recipient."""
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
    <kp:ConversatieId>{conversatie_id or uuid.uuid4()}</kp:ConversatieId>
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


@dataclass
class Outcome:
    """One message sent: the gateway's answer and what every partner received because of it."""

    bericht_id: str
    answer: Bericht
    answer_body: bytes
    deliveries: dict[str, list[Any]]

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
    own, answers = await inbox_until_answered(partner)
    # Deliveries are confirmed before the answer is published: every inbox is final now.
    deliveries: dict[str, list[Any]] = {}
    for name, other in running.partners.items():
        d, a = split(await drain(other))
        assert a == [], f"{name} got an unexpected answer: {[m.body[:400] for m in a]}"
        deliveries[name] = (own + d) if name == sender else d
    answer = codec.read(answers[0].body)
    assert answer.kop.in_antwoord_op == bericht_id, answer.kop
    assert answer.kop.afzender.rol == "ketenpoort", answer.kop.afzender
    return Outcome(bericht_id, answer, answers[0].body, deliveries)


def kop_of(message: Any) -> dict[str, Any]:
    """The envelope header of a delivered message (rendered in the recipient's format)."""
    root = xmlsafe.parse(message.body)
    kop = root.find(f"{KP}Kop")
    assert kop is not None
    afzender = kop.find(f"{KP}Afzender")
    assert afzender is not None
    return {
        "bericht_id": kop.findtext(f"{KP}BerichtId"),
        "afzender": afzender.get("oin"),
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
    assert outcome.answer.kop.berichttype == TechnischType.FOUTBERICHT
    fout = outcome.foutbericht()
    assert fout.code is code, fout
    return fout


async def took_part(
    state: StateStore,
    conversatie_id: str,
    sender: str,
    recipients: Iterable[str],
    *,
    hg: bool = False,
    bewaartermijn: dt.timedelta = dt.timedelta(days=365),
) -> None:
    """The routing memory of a conversation as an earlier message left it: ``sender`` sent
    it to ``recipients`` (HG-labelled when ``hg``, for a doel with that ``bewaartermijn``),
    without sending anything."""
    await state.plan(
        OINS[sender],
        str(uuid.uuid4()),
        "0" * 64,
        "earlier",
        conversatie_id,
        [(OINS[name], ROL[name], "0" * 64) for name in recipients],
        afzender_rol=ROL[sender],
        bewaartermijn=bewaartermijn,
        geheugen=Geheugenwijziging(hg=hg),
    )


async def zsm_casus(
    gateway: Running, codec: MessageCodec, *edits: Edit, vt: str = "vt-twente"
) -> str:
    """A ZSM casus: the politie's HG ZsmAanmelding (with ``edits``) reached the OM, the VT
    regio ``vt`` of its address and reclassering. Returns its ConversatieId."""
    conversatie = str(uuid.uuid4())
    raw, bid = build(ZSM, *edits, conversatie_id=conversatie)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["om", vt, "reclassering"])
    return conversatie


async def wait_for_status(state: StateStore, sender: str, bericht_id: str) -> Bekend:
    """The state of a message once no delivery is ``gepland`` any more.

    Tolerates a state commit that lands a moment after the sender's answer (the gateway's
    ordering of "answer" and "mark published" is not part of the contract).
    """
    found: list[Bekend] = []

    async def settled() -> bool:
        bekend = await state.lookup(OINS[sender], bericht_id)
        assert bekend is not None
        found[:] = [bekend]
        return all(lev.status is not Status.GEPLAND for lev in bekend.leveringen)

    await eventually(settled, "every delivery past gepland")
    return found[0]


def statuses(bekend: Bekend) -> dict[str, Status]:
    return {NAME_OF[lev.ontvanger_oin]: lev.status for lev in bekend.leveringen}


__all__ = [
    "ADVIESAANVRAAG",
    "AO_BESLUIT",
    "AO_POLITIE",
    "AO_VT",
    "HG_FALSE",
    "KP",
    "MINDERJARIG",
    "OM_BESLISSING",
    "OM_HG",
    "PERSONAL",
    "POSTCODE",
    "RC_ADVIES",
    "ROL",
    "RVDK_ADVIES",
    "TERUGKOPPELING",
    "VEILIGHEIDSBEOORDELING",
    "VERDACHTE_GEBOREN",
    "VT_MELDING",
    "VT_RIJNMOND_AFZENDER",
    "ZSM",
    "ZSM_DEADLINE",
    "Edit",
    "Outcome",
    "afleverbevestiging",
    "assert_niet_afleverbaar",
    "assert_refused",
    "assert_routed",
    "build",
    "kop_of",
    "send",
    "statuses",
    "took_part",
    "wait_for_status",
    "zsm_casus",
]


async def assert_niet_afleverbaar(
    gateway: Running,
    codec: MessageCodec,
    answers: list[Any],
    attempts: list[tuple[int, bytes]],
    bid: str,
    ontvanger_oin: str,
) -> Bericht:
    """A recipient took none of the attempts: the sender has its Ontvangstbevestiging and then
    the NIET_AFLEVERBAAR Foutbericht; one first attempt and one per retry delay (200, 400 ms),
    the same payload each time; nobody else got anything; the state says so. Returns the
    Foutbericht."""
    read = {codec.read(a.body).kop.berichttype: codec.read(a.body) for a in answers}
    assert set(read) == {TechnischType.ONTVANGSTBEVESTIGING, TechnischType.FOUTBERICHT}
    fout = read[TechnischType.FOUTBERICHT]
    assert isinstance(fout.inhoud, Foutbericht)
    assert fout.inhoud.code is Foutcode.NIET_AFLEVERBAAR
    assert fout.kop.in_antwoord_op == bid
    assert [p for p, _ in attempts] == [0, 1, 2]
    assert len({body for _, body in attempts}) == 1
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name
    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    [levering] = bekend.leveringen
    assert (levering.ontvanger_oin, levering.status) == (ontvanger_oin, Status.NIET_AFLEVERBAAR)
    assert levering.pogingen == 2
    return fout
