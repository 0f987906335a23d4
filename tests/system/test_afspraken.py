"""Afspraken as a series (spec v2 §6, issue #15) through a running gateway, the real RabbitMQ
and the routing memory: versie 1 to politie, the crisisdienst of the gemeente and the lokaal
team that took part; versie 2 replaces it at every earlier recipient (also from another
conversation); a stale versie, a versie or withdrawal from another partner and a withdrawal of
an unknown reeks are VERSIE_ONGELDIG and reach nobody; the holder's withdrawal reaches every
earlier recipient. Every partner reads its own inbox.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.model import (
    KETENPOORT,
    KETENPOORT_NAAM,
    AfsprakenSignaal,
    Bericht,
    Foutbericht,
    Foutcode,
    Ontvangstbevestiging,
    Partij,
)
from gateway.runtime import audit_access
from gateway.runtime.settings import Settings
from gateway.transport.rabbit import SOORT
from tests.support.broker import OINS
from tests.support.catalogue import POLICY
from tests.support.gateways import partners_with
from tests.support.messages import fresh, reeks_id_of
from tests.support.needtoknow import parse_delivered
from tests.support.partners import PartnerClient, drain, inbox_until_answered
from tests.support.paths import EXAMPLES_DIR
from tests.support.settings import local_settings
from tests.support.strategies import MESSAGE_CODEC

pytestmark = pytest.mark.broker

NEW = {
    "wijkteam-enschede": "00000099000000000107",
    "gi-overijssel": "00000099000000000110",
    "crisisdienst-twente": "00000099000000000111",
}
WIJKTEAM = NEW["wijkteam-enschede"]

VERSIE_1 = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_bytes()
VERSIE_2 = (EXAMPLES_DIR / "veilig-thuis" / "reeks" / "versie-2.xml").read_bytes()
INGETROKKEN = (EXAMPLES_DIR / "veilig-thuis" / "reeks" / "ingetrokken.xml").read_bytes()
OVERDRACHT = (EXAMPLES_DIR / "veilig-thuis" / "Overdracht.xml").read_bytes()


@dataclass
class Answered:
    """What one message led to: the sender's answer and every other partner's deliveries."""

    antwoord: Ontvangstbevestiging | Foutbericht
    deliveries: dict[str, list[Any]]
    eigen: list[Any]  # what the sender got besides its answer (an AfsprakenSignaal)

    def ontvangers(self) -> set[str]:
        return {name for name, got in self.deliveries.items() if got}

    def signalen(self, name: str | None = None) -> list[Bericht]:
        """The AfsprakenSignalen partner ``name`` (default: the sender) received."""
        got = self.eigen if name is None else self.deliveries[name]
        signalen = [m for m in got if (m.headers or {}).get(SOORT) == "signaal"]
        assert all(m.type == "AfsprakenSignaal" for m in signalen)
        return [MESSAGE_CODEC.read(m.body) for m in signalen]

    def gelezen(self, name: str) -> Any:
        """The body ``name`` received, parsed with its own codec (its format, its XSD)."""
        (message,) = self.deliveries[name]
        oin = OINS_ALL[name]
        return parse_delivered(message.body, POLICY.partners[oin].rol, "Veiligheidsafspraken")


OINS_ALL = {**OINS, **NEW}


@dataclass
class Chain:
    clients: dict[str, PartnerClient]
    settings: Settings

    async def send(self, sender: str, raw: bytes) -> Answered:
        """Send as ``sender``; its answer, and what every other partner received (the gateway
        publishes every delivery before it answers)."""
        assert await drain(self.clients[sender]) == []
        await self.clients[sender].send(raw)
        own, (answer,) = await inbox_until_answered(self.clients[sender])
        inhoud = MESSAGE_CODEC.read(answer.body).inhoud
        assert isinstance(inhoud, Ontvangstbevestiging | Foutbericht), answer.body.decode()
        deliveries = {
            name: await drain(client) for name, client in self.clients.items() if name != sender
        }
        return Answered(inhoud, deliveries, own)


@pytest.fixture
async def chain(tmp_path: Path, vhost: str) -> AsyncIterator[Chain]:
    settings = local_settings(tmp_path, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", ops_port=0)
    async with partners_with(settings, vhost, NEW) as clients:
        yield Chain(clients, settings)


def als_wijkteam(raw: bytes) -> bytes:
    """The message as the wijkteam would send it: its own format and grondslag."""
    bericht = MESSAGE_CODEC.read(raw)
    assert bericht.kop.doelbinding is not None
    kop = bericht.kop.model_copy(
        update={
            "afzender": Partij(oin=WIJKTEAM, rol="lokaal-team"),
            "doelbinding": bericht.kop.doelbinding.model_copy(
                update={"grondslagen": ("AVG-ART-6.1.D",)}
            ),
        }
    )
    return MESSAGE_CODEC.write(Bericht(kop=kop, inhoud=bericht.inhoud), voor="lokaal-team")


def refused(answered: Answered, waarom: str) -> None:
    assert isinstance(answered.antwoord, Foutbericht), answered.antwoord
    assert answered.eigen == []
    assert answered.antwoord.code is Foutcode.VERSIE_ONGELDIG
    assert waarom in answered.antwoord.reden
    assert answered.ontvangers() == set()


async def test_versies_replace_and_the_withdrawal_reaches_every_earlier_recipient(
    chain: Chain,
) -> None:
    conversatie = str(uuid.uuid4())
    reeks = str(uuid.uuid4())
    # the wijkteam takes part in the conversation (VT's Overdracht)
    overdracht = await chain.send("vt-twente", fresh(OVERDRACHT, conversatie_id=conversatie))
    assert overdracht.ontvangers() == {"wijkteam-enschede"}

    eerste = await chain.send(
        "vt-twente", fresh(VERSIE_1, conversatie_id=conversatie, reeks_id=reeks)
    )
    assert isinstance(eerste.antwoord, Ontvangstbevestiging)
    ontvangers = {"politie", "crisisdienst-twente", "wijkteam-enschede"}
    assert eerste.ontvangers() == ontvangers
    for name in ontvangers:
        inhoud = eerste.gelezen(name)
        assert (inhoud.reeks_id, inhoud.versie) == (reeks, 1)

    # versie 2 in another conversation: every earlier recipient (the wijkteam from the reeks)
    tweede = await chain.send(
        "vt-twente", fresh(VERSIE_2, conversatie_id=str(uuid.uuid4()), reeks_id=reeks)
    )
    assert isinstance(tweede.antwoord, Ontvangstbevestiging)
    assert tweede.ontvangers() == ontvangers
    for name in ontvangers:
        inhoud = tweede.gelezen(name)
        assert (inhoud.reeks_id, inhoud.versie) == (reeks, 2)
        assert inhoud.status == "geldig"

    # stale, another partner's versie, another partner's withdrawal: refused, nobody gets it
    refused(
        await chain.send("vt-twente", fresh(VERSIE_2, reeks_id=reeks)),
        f"reeks {reeks} versie 2: not higher than the last accepted versie 2",
    )
    refused(
        await chain.send("wijkteam-enschede", als_wijkteam(fresh(INGETROKKEN, reeks_id=reeks))),
        f"only the holder {OINS['vt-twente']}",
    )

    # the holder withdraws: every earlier recipient, no content
    intrekking = await chain.send("vt-twente", fresh(INGETROKKEN, reeks_id=reeks))
    assert isinstance(intrekking.antwoord, Ontvangstbevestiging)
    assert intrekking.ontvangers() == ontvangers
    for name in ontvangers:
        inhoud = intrekking.gelezen(name)
        assert (inhoud.versie, inhoud.status) == (3, "ingetrokken")
        assert inhoud.adres is None
        assert inhoud.afspraak in (None, [])
        assert b"Lindelaan" not in intrekking.deliveries[name][0].body

    # nothing after a withdrawal
    refused(
        await chain.send(
            "vt-twente", fresh(VERSIE_2.replace(b'versie="2"', b'versie="4"'), reeks_id=reeks)
        ),
        "was withdrawn at versie 3",
    )


async def test_a_withdrawal_of_an_unknown_reeks_is_refused(chain: Chain) -> None:
    raw = fresh(INGETROKKEN)
    refused(
        await chain.send("vt-twente", raw),
        f"reeks {reeks_id_of(raw)} versie 3: withdrawal of an unknown reeks",
    )


MELDING = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
SLACHTOFFER_BSN = "999990019"  # the VtMelding's slachtoffer: a signal about it is about her too
ZSM = (EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml").read_bytes()


def assert_signal(bericht: Bericht, reeks: str, versie: int, melding: bytes) -> None:
    inhoud = bericht.inhoud
    assert isinstance(inhoud, AfsprakenSignaal)
    assert (inhoud.reeks_id, inhoud.versie) == (reeks, versie)
    assert (inhoud.houder.oin, inhoud.houder.rol) == (OINS["vt-twente"], "veilig-thuis")
    assert bericht.kop.afzender.rol == "ketenpoort"
    assert bericht.kop.in_antwoord_op == MESSAGE_CODEC.read(melding).kop.bericht_id
    assert bericht.kop.doelbinding is not None
    assert bericht.kop.doelbinding.grondslagen == ("WMO2015-ART-4.1.1",)


async def test_the_signal_by_address_and_by_bsn_not_without_hg_and_not_after_withdrawal(
    chain: Chain,
) -> None:
    reeks = str(uuid.uuid4())
    eerste = await chain.send("vt-twente", fresh(VERSIE_1, reeks_id=reeks))
    assert isinstance(eerste.antwoord, Ontvangstbevestiging)
    tweede = await chain.send("vt-twente", fresh(VERSIE_2, reeks_id=reeks))
    assert isinstance(tweede.antwoord, Ontvangstbevestiging)

    # by address (and BSN): VT regio and the sending politie, each one signal of versie 2
    melding = fresh(MELDING)
    gemeld = await chain.send("politie", melding)
    assert gemeld.ontvangers() == {"vt-twente"}
    (naar_politie,) = gemeld.signalen()
    (naar_vt,) = gemeld.signalen("vt-twente")
    for signaal in (naar_politie, naar_vt):
        assert_signal(signaal, reeks, 2, melding)
    assert b"Lindelaan" not in gemeld.eigen[0].body

    # by BSN alone: another house number, the same pleger
    elders = fresh(MELDING.replace(b"<pol:Huisnummer>12<", b"<pol:Huisnummer>99<"))
    (signaal,) = (await chain.send("politie", elders)).signalen()
    assert_signal(signaal, reeks, 2, elders)

    # a ZsmAanmelding without HG does not reach VT: neither does a signal about it
    zonder_hg = fresh(
        ZSM.replace(b"<pol:HgLabel>true</pol:HgLabel>", b"<pol:HgLabel>false</pol:HgLabel>")
    )
    zsm = await chain.send("politie", zonder_hg)
    assert "vt-twente" not in zsm.ontvangers()
    (signaal,) = zsm.signalen()
    assert_signal(signaal, reeks, 2, zonder_hg)

    # withdrawn: no signal any more
    intrekking = await chain.send("vt-twente", fresh(INGETROKKEN, reeks_id=reeks))
    assert isinstance(intrekking.antwoord, Ontvangstbevestiging)
    na = await chain.send("politie", fresh(MELDING))
    assert na.signalen() == []
    assert na.signalen("vt-twente") == []
    assert len(na.deliveries["vt-twente"]) == 1  # the melding itself


async def test_the_officer_reads_the_signal_as_sent_by_ketenpoort(chain: Chain) -> None:
    """The inzage of a person a signal was about names the gateway as its sender, by name and
    rol, not by a bare OIN; the recipients are named from the register as ever."""
    reeks = str(uuid.uuid4())
    assert isinstance(
        (await chain.send("vt-twente", fresh(VERSIE_1, reeks_id=reeks))).antwoord,
        Ontvangstbevestiging,
    )
    melding = fresh(MELDING)
    gemeld = await chain.send("politie", melding)
    (signaal,) = gemeld.signalen()
    overzicht = await audit_access.audit_inzage(chain.settings, SLACHTOFFER_BSN, "test-officer")
    signalen = [v for v in overzicht.verstrekkingen if v.berichttype == "AfsprakenSignaal"]
    assert {v.bericht_id for v in signalen} == {
        signaal.kop.bericht_id,
        *(s.kop.bericht_id for s in gemeld.signalen("vt-twente")),
    }
    for verstrekking in signalen:
        afzender = verstrekking.afzender
        assert (afzender.oin, afzender.rol) == (chain.settings.gateway_oin, KETENPOORT)
        assert str(afzender) == f"{KETENPOORT_NAAM} ({KETENPOORT})"
    assert {str(v.ontvanger) for v in signalen} == {
        f"{POLICY.partners[OINS[name]].naam} ({POLICY.partners[OINS[name]].rol})"
        for name in ("politie", "vt-twente")
    }


async def test_no_signal_for_expired_afspraken(chain: Chain) -> None:
    verlopen = fresh(VERSIE_1.replace(b'geldig-tot="2027-05-21"', b'geldig-tot="2026-01-01"'))
    assert isinstance((await chain.send("vt-twente", verlopen)).antwoord, Ontvangstbevestiging)
    na = await chain.send("politie", fresh(MELDING))
    assert isinstance(na.antwoord, Ontvangstbevestiging)
    assert na.signalen() == []
    assert na.signalen("vt-twente") == []
