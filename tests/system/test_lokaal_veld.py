"""The partners and flows of issue #14 (spec v2 §2, §6, §8) through a running gateway and the
real RabbitMQ, down to the delivered bytes: the Overdracht to the wijkteam of the address's
gemeente (and to the gecertificeerde instelling under a maatregel), the MeldingStrafbaarFeit
whose police copy keeps the child victim, and an Informatieverzoek whose Informatieantwoord
reaches only the asker.

The new partners are registered in the default policy; here they get their RabbitMQ users
(as ``ketenpoort partner add`` gives them in production) and read their own inboxes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.model import Ontvangstbevestiging
from tests.support.broker import OINS
from tests.support.catalogue import POLICY
from tests.support.gateways import partners_with
from tests.support.messages import fresh, replace_once
from tests.support.needtoknow import KIND_BSN, parse_delivered
from tests.support.partners import PartnerClient, drain, inbox_until_answered
from tests.support.paths import EXAMPLES_DIR
from tests.support.settings import local_settings
from tests.support.strategies import MESSAGE_CODEC

pytestmark = pytest.mark.broker

# v2 §2's new partners (the register, policy/v1/partners.yaml)
NEW = {
    "wijkteam-enschede": "00000099000000000107",
    "wijkteam-hengelo": "00000099000000000108",
    "wijkteam-rotterdam": "00000099000000000109",
    "gi-overijssel": "00000099000000000110",
    "crisisdienst-twente": "00000099000000000111",
    "cit-rijnmond": "00000099000000000112",
    "gi-rijnmond": "00000099000000000113",
}
VT_TWENTE = "00000099000000000102"


@dataclass
class Chain:
    """A running gateway of the default policy with every partner's client connected."""

    clients: dict[str, PartnerClient]

    def __getitem__(self, name: str) -> PartnerClient:
        return self.clients[name]

    async def send(self, sender: str, raw: bytes) -> tuple[list[str], dict[str, list[Any]]]:
        """Send as ``sender``; (OINs the Ontvangstbevestiging names, deliveries per partner).
        The gateway publishes every delivery before it answers: once the answer is there,
        every inbox holds all it will get for this message."""
        assert await drain(self.clients[sender]) == [], "the sender's inbox was not empty"
        await self.clients[sender].send(raw)
        own, (answer,) = await inbox_until_answered(self.clients[sender])
        assert own == []
        bericht = MESSAGE_CODEC.read(answer.body)
        assert isinstance(bericht.inhoud, Ontvangstbevestiging), answer.body.decode()
        deliveries = {
            name: await drain(client) for name, client in self.clients.items() if name != sender
        }
        return [o.oin for o in bericht.inhoud.ontvangers], deliveries


@pytest.fixture
async def chain(tmp_path: Path, vhost: str) -> AsyncIterator[Chain]:
    for name, oin in NEW.items():
        assert POLICY.partners[oin].naam, name
    settings = local_settings(tmp_path, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", ops_port=0)
    async with partners_with(settings, vhost, NEW) as clients:
        yield Chain(clients)


def example(rel: str) -> str:
    return (EXAMPLES_DIR / rel).read_text(encoding="utf-8")


def only(deliveries: dict[str, list[Any]], names: set[str]) -> dict[str, Any]:
    """The one delivery of each of ``names``; nobody else received anything."""
    assert {n for n, got in deliveries.items() if got} == names, {
        n: len(got) for n, got in deliveries.items() if got
    }
    found = {}
    for name in names:
        (found[name],) = deliveries[name]
    return found


async def test_melding_strafbaar_feit_reaches_the_politie_with_the_child_victim(
    chain: Chain,
) -> None:
    raw = fresh(example("veilig-thuis/MeldingStrafbaarFeit.xml").encode())
    ontvangers, deliveries = await chain.send("vt-twente", raw)
    assert ontvangers == [OINS["politie"]]
    copy = only(deliveries, {"politie"})["politie"]
    text = copy.body.decode()
    assert "<pol:MeldingStrafbaarFeit" in text
    # v2 §6: the victim's data is the point of this message, a child included
    assert KIND_BSN in text
    assert "Jan Jansen" in text
    assert 'leeftijdsgroep="MINDERJARIG"' in text
    assert "Blauwe plekken op beide bovenarmen" in text  # letsel: incident, gezondheid
    assert "de huisarts bevestigt ze" in text  # what VT observed: incident, kind, gezondheid
    assert "<kp:Grondslag>WMO2015-ART-4.1.1</kp:Grondslag>" in text
    sent = MESSAGE_CODEC.read(raw).inhoud
    assert parse_delivered(copy.body, "politie", "MeldingStrafbaarFeit") == sent


async def test_an_informatieantwoord_reaches_only_the_asker(chain: Chain) -> None:
    conversatie = str(uuid.uuid4())
    vraag = fresh(
        example("veilig-thuis/Informatieverzoek.xml").encode(), conversatie_id=conversatie
    )
    vraag_id = MESSAGE_CODEC.read(vraag).kop.bericht_id
    ontvangers, deliveries = await chain.send("vt-twente", vraag)
    assert ontvangers == [OINS["politie"]]
    copy = only(deliveries, {"politie"})["politie"].body.decode()
    assert 'vraag-id="q1"' in copy  # identificatie, proces
    assert "Peter Jansen" in copy

    antwoord = example("politie/Informatieantwoord.xml")
    antwoord = replace_once(
        antwoord,
        "<kp:InAntwoordOp>8d2f6a13-4c5b-4e8a-b7d9-1f3e5a7c9b02</kp:InAntwoordOp>",
        f"<kp:InAntwoordOp>{vraag_id}</kp:InAntwoordOp>",
    )
    raw = fresh(antwoord.encode(), conversatie_id=conversatie)
    ontvangers, deliveries = await chain.send("politie", raw)
    assert ontvangers == [VT_TWENTE]
    text = only(deliveries, {"vt-twente"})["vt-twente"].body.decode()
    assert "<vt:informatieantwoord" in text
    assert "<vt:aard>huiselijk-geweld</vt:aard>" in text
    assert "contactverbod met Anna Jansen" in text  # the answer: identificatie, incident, ...
    assert "<kp:Grondslag>WPG-ART-19</kp:Grondslag>" in text


async def test_an_overdracht_reaches_the_wijkteam_of_the_gemeente_without_health(
    chain: Chain,
) -> None:
    raw = fresh(example("veilig-thuis/Overdracht.xml").encode())
    ontvangers, deliveries = await chain.send("vt-twente", raw)
    assert ontvangers == [NEW["wijkteam-enschede"]]
    text = only(deliveries, {"wijkteam-enschede"})["wijkteam-enschede"].body.decode()
    assert "<wt:overdracht" in text
    assert 'voorwaarde-id="v1"' in text
    assert "slaapt bij zijn broer" in text
    assert "Jan Jansen" in text  # kind: the lokaal team is granted it
    # the onderbouwing may hold health (v2 §8): the lokaal team is not granted gezondheid
    assert "in behandeling voor zijn alcoholgebruik" not in text
    assert "<wt:onderbouwing" not in text


async def test_an_overdracht_under_a_maatregel_also_reaches_the_gi_with_health(
    chain: Chain,
) -> None:
    overdracht = example("veilig-thuis/Overdracht.xml")
    overdracht = replace_once(
        overdracht,
        "<vt:jeugdbeschermingsmaatregel>false<",
        "<vt:jeugdbeschermingsmaatregel>true<",
    )
    overdracht = replace_once(overdracht, "<vt:postcode>7511AB<", "<vt:postcode>7551AB<")
    ontvangers, deliveries = await chain.send("vt-twente", fresh(overdracht.encode()))
    assert sorted(ontvangers) == sorted([NEW["wijkteam-hengelo"], NEW["gi-overijssel"]])
    got = only(deliveries, {"wijkteam-hengelo", "gi-overijssel"})
    gi = got["gi-overijssel"].body.decode()
    assert "<jb:Overdracht" in gi
    assert "in behandeling voor zijn alcoholgebruik" in gi  # the GI is granted gezondheid
    assert "in behandeling voor zijn alcoholgebruik" not in got["wijkteam-hengelo"].body.decode()


def _answer(rel: str, vraag_id: str, conversatie: str) -> bytes:
    """An example answer whose kp:InAntwoordOp names ``vraag_id``, in ``conversatie``."""
    text = example(rel)
    start = text.index("<kp:InAntwoordOp>")
    end = text.index("</kp:InAntwoordOp>")
    text = text[:start] + f"<kp:InAntwoordOp>{vraag_id}" + text[end:]
    return fresh(text.encode(), conversatie_id=conversatie)


async def test_casusregie_moves_on_acceptance_and_steers_the_terugmeldingen(
    chain: Chain,
) -> None:
    """v2 §5, §6 through the broker, in one conversation: VT's Overdracht under a maatregel
    reaches the wijkteam and the GI; the wijkteam accepts (to VT only, the asker), and holds
    casusregie from then on: the GI's voortgang reaches VT and the wijkteam; the wijkteam's
    own voortgang reaches VT only, never itself; the crisisdienst's acute inzet reaches VT and
    the wijkteam; the GI's verzoek tot onderzoek goes to the Raad, whose Onderzoeksuitkomst
    reaches the GI alone; once VT closes the Overdracht a voortgang no longer reaches VT."""
    conversatie = str(uuid.uuid4())
    wijkteam, gi = NEW["wijkteam-enschede"], NEW["gi-overijssel"]
    overdracht = replace_once(
        example("veilig-thuis/Overdracht.xml"),
        "<vt:jeugdbeschermingsmaatregel>false<",
        "<vt:jeugdbeschermingsmaatregel>true<",
    )
    raw = fresh(overdracht.encode(), conversatie_id=conversatie)
    overdracht_id = MESSAGE_CODEC.read(raw).kop.bericht_id
    ontvangers, _ = await chain.send("vt-twente", raw)
    assert sorted(ontvangers) == sorted([wijkteam, gi])

    # the GI answers too (to VT only); the wijkteam's acceptance after it holds casusregie
    gi_reactie = _answer(
        "gecertificeerde-instelling/OverdrachtReactie.xml", overdracht_id, conversatie
    )
    ontvangers, deliveries = await chain.send("gi-overijssel", gi_reactie)
    assert ontvangers == [VT_TWENTE]
    only(deliveries, {"vt-twente"})
    reactie = _answer("lokaal-team/OverdrachtReactie.xml", overdracht_id, conversatie)
    ontvangers, deliveries = await chain.send("wijkteam-enschede", reactie)
    assert ontvangers == [VT_TWENTE]
    only(deliveries, {"vt-twente"})

    gi_voortgang = fresh(
        example("gecertificeerde-instelling/Terugmelding.xml").encode(),
        conversatie_id=conversatie,
    )
    ontvangers, deliveries = await chain.send("gi-overijssel", gi_voortgang)
    assert sorted(ontvangers) == sorted([VT_TWENTE, wijkteam])
    got = only(deliveries, {"vt-twente", "wijkteam-enschede"})
    assert "<wt:terugmelding" in got["wijkteam-enschede"].body.decode()

    eigen = replace_once(
        replace_once(
            example("lokaal-team/Terugmelding.xml"),
            "<wt:soort>zorgsignaal<",
            "<wt:soort>voortgang<",
        ),
        "<kp:Doel>VEILIGHEIDSBEOORDELING<",
        "<kp:Doel>MONITORING_VEILIGHEID<",
    )
    ontvangers, deliveries = await chain.send(
        "wijkteam-enschede", fresh(eigen.encode(), conversatie_id=conversatie)
    )
    assert ontvangers == [VT_TWENTE]
    only(deliveries, {"vt-twente"})

    acuut = fresh(example("crisisdienst/Terugmelding.xml").encode(), conversatie_id=conversatie)
    ontvangers, deliveries = await chain.send("crisisdienst-twente", acuut)
    assert sorted(ontvangers) == sorted([VT_TWENTE, wijkteam])
    only(deliveries, {"vt-twente", "wijkteam-enschede"})

    verzoek = fresh(
        example("gecertificeerde-instelling/VerzoekTotOnderzoek.xml").encode(),
        conversatie_id=conversatie,
    )
    verzoek_id = MESSAGE_CODEC.read(verzoek).kop.bericht_id
    ontvangers, _ = await chain.send("gi-overijssel", verzoek)
    assert ontvangers == [OINS["rvdk"]]
    uitkomst = _answer("raad-kinderbescherming/Onderzoeksuitkomst.xml", verzoek_id, conversatie)
    ontvangers, deliveries = await chain.send("rvdk", uitkomst)
    assert ontvangers == [gi]
    only(deliveries, {"gi-overijssel"})

    afgesloten = replace_once(
        overdracht,
        "<vt:status>lopend</vt:status>",
        "<vt:status>afgesloten</vt:status><vt:reden-afsluiting>stabiele-veiligheid"
        "</vt:reden-afsluiting>",
    )
    ontvangers, _ = await chain.send(
        "vt-twente", fresh(afgesloten.encode(), conversatie_id=conversatie)
    )
    assert sorted(ontvangers) == sorted([wijkteam, gi])
    # VT no longer monitors: the GI's voortgang reaches the casusregie holder only
    ontvangers, deliveries = await chain.send(
        "gi-overijssel",
        fresh(
            example("gecertificeerde-instelling/Terugmelding.xml").encode(),
            conversatie_id=conversatie,
        ),
    )
    assert ontvangers == [wijkteam]
    only(deliveries, {"wijkteam-enschede"})
