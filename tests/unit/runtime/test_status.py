"""The Statusvraag on the decision path (pure: the store's view comes in as a fact) and the
store's view as a Statusantwoord (end to end over AMQP: tests/system/test_pika_partner.py)."""

from __future__ import annotations

import datetime as dt
import uuid

from lxml import etree

from gateway.decision.besluit import Feiten, Gelezen, Inlichting, Weigering, ingress
from gateway.domain.model import Foutcode, Statusantwoord
from gateway.runtime.facts import statusantwoord
from gateway.store.state import Bekend, Leveringsstatus, Status
from tests.support.decisions import offline_pipeline

POLITIE = "00000099000000000101"
VT = "00000099000000000102"
NU = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
ASKED = "6f1c2a4e-8d0b-4a51-9b1e-0c7d3f2a9e11"
KP = "{urn:ketenpoort:envelop:1}"


def statusvraag(in_antwoord_op: str | None, *, als: str = POLITIE, rol: str = "politie") -> bytes:
    vraag = f"<kp:InAntwoordOp>{in_antwoord_op}</kp:InAntwoordOp>" if in_antwoord_op else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1">
  <kp:Kop>
    <kp:BerichtId>{uuid.uuid4()}</kp:BerichtId>
    <kp:ConversatieId>{uuid.uuid4()}</kp:ConversatieId>{vraag}
    <kp:BerichtType>Statusvraag</kp:BerichtType>
    <kp:Versie>1</kp:Versie>
    <kp:Afzender oin="{als}" rol="{rol}"/>
    <kp:Tijdstip>2026-11-30T08:00:00+01:00</kp:Tijdstip>
  </kp:Kop>
  <kp:Inhoud><kp:Statusvraag/></kp:Inhoud>
</kp:Bericht>
""".encode()


def bekend() -> Bekend:
    return Bekend(
        afzender_oin=POLITIE,
        bericht_id=ASKED,
        sha256="00" * 32,
        berichttype="VtMelding",
        conversatie_id=str(uuid.uuid4()),
        antwoord=b"<x/>",
        ontvangen=NU,
        leveringen=(Leveringsstatus(VT, "veilig-thuis", "11" * 32, Status.AFGELEVERD, 2, NU),),
    )


def test_the_store_view_as_a_statusantwoord() -> None:
    unknown = statusantwoord(ASKED, None)
    assert (unknown.bericht_id, unknown.bekend, unknown.leveringen) == (ASKED, False, [])
    known = statusantwoord(ASKED, bekend())
    assert known.bekend
    assert known.berichttype == "VtMelding"
    (levering,) = known.leveringen
    assert (levering.ontvanger.oin, levering.ontvanger.rol) == (VT, "veilig-thuis")
    assert (levering.status, levering.pogingen, levering.bijgewerkt) == ("afgeleverd", 2, NU)


def test_a_statusvraag_asks_for_the_senders_own_id_and_is_answered_from_the_fact() -> None:
    pipeline = offline_pipeline()
    gelezen = pipeline.read(ingress(statusvraag(ASKED), POLITIE), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen), gelezen
    vraag = pipeline.vraag(gelezen)
    assert (vraag.afzender_oin, vraag.status_van) == (POLITIE, ASKED)
    besluit = pipeline.decide(gelezen, Feiten(nu=NU, status=statusantwoord(ASKED, bekend())))
    assert isinstance(besluit, Inlichting), besluit
    assert besluit.gevraagd == ASKED
    root = etree.fromstring(besluit.antwoord)
    assert root.findtext(f"{KP}Kop/{KP}BerichtType") == "Statusantwoord"
    assert root.findtext(f"{KP}Kop/{KP}InAntwoordOp") == gelezen.bericht.kop.bericht_id
    (levering,) = root.findall(f"{KP}Inhoud/{KP}Statusantwoord/{KP}Levering")
    assert (levering.get("oin"), levering.get("status")) == (VT, "afgeleverd")
    # no fact (the sender has no such message): Bekend false, nothing else
    leeg = pipeline.decide(gelezen, Feiten(nu=NU))
    assert isinstance(leeg, Inlichting)
    body = pipeline.codec.read_inhoud(pipeline.codec.read_envelope(leeg.antwoord)).inhoud
    assert body == Statusantwoord(bericht_id=ASKED, bekend=False)


def test_a_statusvraag_without_an_id_is_refused() -> None:
    besluit = offline_pipeline().route(ingress(statusvraag(None), POLITIE), Feiten(nu=NU))
    assert isinstance(besluit, Weigering), besluit
    assert (besluit.refused.code, besluit.refused.element) == (
        Foutcode.SCHEMA_ONGELDIG,
        "kp:InAntwoordOp",
    )


def test_only_a_partner_asks_and_only_the_gateway_answers() -> None:
    pipeline = offline_pipeline()
    other = pipeline.route(
        ingress(statusvraag(ASKED, als=VT, rol="veilig-thuis"), POLITIE), Feiten(nu=NU)
    )
    assert isinstance(other, Weigering)
    assert other.refused.code is Foutcode.AFZENDER_ONJUIST
    raw = (
        statusvraag(ASKED)
        .replace(
            b"<kp:Statusvraag/>",
            f"<kp:Statusantwoord><kp:BerichtId>{ASKED}</kp:BerichtId><kp:Bekend>true</kp:Bekend></kp:Statusantwoord>".encode(),
        )
        .replace(b">Statusvraag<", b">Statusantwoord<")
    )
    antwoord = pipeline.route(ingress(raw, POLITIE), Feiten(nu=NU))
    assert isinstance(antwoord, Weigering)
    assert antwoord.refused.code is Foutcode.AFZENDER_NIET_GEAUTORISEERD
