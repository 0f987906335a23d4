"""Turns in the running gateway: conversations are handled side by side, each in its order.

A delivery of one conversation is held at the outbox; a message of another conversation,
sent after it, passes it; a later message of the held conversation waits for its turn and is
delivered after the held one. The afspraken (v2 §7): a melding sent after a withdrawal waits
for it; one decided before another replica's withdrawal is decided again. Runs on both
transports (RabbitMQ, the proof, and the in-memory double).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.decision.besluit import Aanvaarding, Feiten, Gelezen, Vraag, ingress
from gateway.domain.model import Foutbericht, Foutcode, Kop, Ontvangstbevestiging
from gateway.observe import logs
from gateway.runtime.service import Gateway
from gateway.runtime.settings import Settings
from gateway.transport.rabbit import SOORT
from tests.support.gateways import ON_BOTH_TRANSPORTS, capture_parts, run_gateway
from tests.support.messages import fresh
from tests.support.partners import PartnerClient, drain, inbox_until_answered, split, take
from tests.support.paths import EXAMPLES_DIR
from tests.support.strategies import MESSAGE_CODEC
from tests.support.waiting import eventually

pytestmark = ON_BOTH_TRANSPORTS

VT_MELDING = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()


async def test_conversations_go_side_by_side_and_each_keeps_its_order(
    settings: Settings,
    transport: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = capture_parts(monkeypatch)
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    first, later, other = (str(uuid.uuid4()) for _ in range(3))
    held, holding = asyncio.Event(), asyncio.Event()
    published: list[str] = []

    async with run_gateway(settings, vhost, transport) as running:
        (parts,) = built
        outbox = parts.gateway.effects.outbox
        deliver = outbox.deliver

        async def holding_first(kop: Kop, levering: Any, *, herhaald: bool) -> None:
            if kop.bericht_id == first:
                holding.set()
                await held.wait()
            await deliver(kop, levering, herhaald=herhaald)
            published.append(kop.bericht_id)

        monkeypatch.setattr(outbox, "deliver", holding_first)
        politie, vt = running.partner("politie"), running.partner("vt-twente")
        gesprek, ander = str(uuid.uuid4()), str(uuid.uuid4())

        try:
            await politie.send(fresh(VT_MELDING, bericht_id=first, conversatie_id=gesprek))
            await eventually(holding.is_set, "the first message held at the outbox")
            await politie.send(fresh(VT_MELDING, bericht_id=later, conversatie_id=gesprek))
            await eventually(
                lambda: parts.gateway.turns.waiting == 2, "the later message waiting for its turn"
            )
            await politie.send(fresh(VT_MELDING, bericht_id=other, conversatie_id=ander))

            # another conversation passes the held one
            (passed,) = split(await take(vt, 1))[0]
            assert passed.message_id == other
            assert published == [other]
            await eventually(  # its turn ends once it is marked and answered
                lambda: parts.gateway.turns.waiting == 2, "the other conversation done"
            )
            # the held conversation keeps its order: nothing of it left yet
            assert await drain(vt) == []
        finally:  # a failure above must not leave the gateway's stop waiting on it
            held.set()
        deliveries, _ = split(await take(vt, 2))
        assert [m.message_id for m in deliveries] == [first, later]
        assert published == [other, first, later]
        await eventually(lambda: parts.gateway.turns.waiting == 0, "every turn over")


VERSIE_1 = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_bytes()
INGETROKKEN = (EXAMPLES_DIR / "veilig-thuis" / "reeks" / "ingetrokken.xml").read_bytes()


def _signalen(messages: list[Any]) -> list[Any]:
    return [m for m in messages if (m.headers or {}).get(SOORT) == "signaal"]


async def _versie_1_accepted(vt: PartnerClient, politie: PartnerClient, reeks: str) -> None:
    """VT sends versie 1 of ``reeks``: answered with an Ontvangstbevestiging and delivered to
    politie (a recipient of the reeks), which takes it from its inbox."""
    await vt.send(fresh(VERSIE_1, reeks_id=reeks))
    _, (antwoord,) = await inbox_until_answered(vt)
    assert isinstance(MESSAGE_CODEC.read(antwoord.body).inhoud, Ontvangstbevestiging)
    (versie_1,) = split(await take(politie, 1))[0]
    assert versie_1.type == "Veiligheidsafspraken"


async def test_a_melding_after_a_withdrawal_waits_for_it_and_is_not_signalled(
    settings: Settings,
    transport: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """v2 §7 across conversations: VT withdraws its afspraken; the withdrawal is held before
    its claim (its reeks still valid in the state); a melding about the same family, sent
    after it in another conversation, waits for it (the afspraken are taken alone by a
    versie, shared by those matched) and gets no AfsprakenSignaal of the withdrawn reeks.
    Without the turn on the afspraken it would pass the withdrawal and be signalled."""
    built = capture_parts(monkeypatch)
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    reeks, intrekking = str(uuid.uuid4()), str(uuid.uuid4())
    held, holding = asyncio.Event(), asyncio.Event()

    async with run_gateway(settings, vhost, transport) as running:
        (parts,) = built
        politie, vt = running.partner("politie"), running.partner("vt-twente")
        await _versie_1_accepted(vt, politie, reeks)

        state = parts.gateway.effects.state
        plan = state.plan

        async def holding_the_withdrawal(afzender: str, bericht_id: str, *a: Any, **k: Any) -> bool:
            if bericht_id == intrekking:
                holding.set()
                await held.wait()
            return await plan(afzender, bericht_id, *a, **k)

        monkeypatch.setattr(state, "plan", holding_the_withdrawal)
        try:
            await vt.send(
                fresh(
                    INGETROKKEN,
                    reeks_id=reeks,
                    bericht_id=intrekking,
                    conversatie_id=str(uuid.uuid4()),
                )
            )
            await eventually(holding.is_set, "the withdrawal held before its claim")
            await politie.send(fresh(VT_MELDING, conversatie_id=str(uuid.uuid4())))
            await eventually(
                lambda: parts.gateway.turns.waiting == 2, "the melding waiting for its turn"
            )
            assert await drain(politie) == []  # not answered while the withdrawal is held
        finally:  # a failure above must not leave the gateway's stop waiting on it
            held.set()
        deliveries, _ = await inbox_until_answered(politie)
        assert [m.type for m in deliveries] == ["Veiligheidsafspraken"]  # the withdrawal only
        assert _signalen(deliveries) == []
        vt_got, _ = await inbox_until_answered(vt)  # the answer to the withdrawal
        vt_got += split(await take(vt, 1))[0]  # the melding
        assert [m.type for m in vt_got] == ["VtMelding"]
        assert _signalen(vt_got) == []
        await eventually(lambda: parts.gateway.turns.waiting == 0, "every turn over")


def _another_replica_meanwhile(
    gateway: Gateway,
    bericht_id: str,
    raw: bytes,
    afzender_oin: str,
    monkeypatch: pytest.MonkeyPatch,
) -> list[Feiten]:
    """Right after the facts of message ``bericht_id`` are read the first time, another
    replica (the same pipeline and stores, without this process's turns) accepts ``raw``
    from ``afzender_oin``. Returns the facts read for that message, each time."""
    gather = gateway.facts.gather
    gathered: list[Feiten] = []

    async def meanwhile(vraag: Vraag) -> Feiten:
        feiten = await gather(vraag)
        if vraag.bericht_id != bericht_id:
            return feiten
        gathered.append(feiten)
        if len(gathered) == 1:
            gelezen = gateway.pipeline.read(ingress(raw, afzender_oin), gateway.facts.now())
            assert isinstance(gelezen, Gelezen)
            besluit = gateway.pipeline.decide(
                gelezen, await gather(gateway.pipeline.vraag(gelezen))
            )
            assert isinstance(besluit, Aanvaarding)
            await gateway.effects.carry_out(besluit, reply=True)
        return feiten

    monkeypatch.setattr(gateway.facts, "gather", meanwhile)
    return gathered


async def test_a_melding_decided_before_another_replicas_withdrawal_is_decided_again(
    settings: Settings,
    transport: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """v2 §7 across replicas, where turns cannot reach: the melding's facts are read (the
    reeks valid), then another replica (the same pipeline and stores, without this one's
    turns) accepts the withdrawal before the melding is planned. The plan finds a versie
    accepted since the facts were read: the melding is decided again, in its turn, on the
    facts as they are now, and gets no signal of the withdrawn reeks."""
    built = capture_parts(monkeypatch)
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    reeks, melding = str(uuid.uuid4()), str(uuid.uuid4())

    async with run_gateway(settings, vhost, transport) as running:
        (parts,) = built
        gateway = parts.gateway
        politie, vt = running.partner("politie"), running.partner("vt-twente")
        await _versie_1_accepted(vt, politie, reeks)

        withdrawal = fresh(INGETROKKEN, reeks_id=reeks, conversatie_id=str(uuid.uuid4()))
        gathered = _another_replica_meanwhile(gateway, melding, withdrawal, vt.oin, monkeypatch)
        logs.configure("info", json=True)  # a CLI test before may have left it at warning
        with capture_logs() as captured:
            await politie.send(
                fresh(VT_MELDING, bericht_id=melding, conversatie_id=str(uuid.uuid4()))
            )
            deliveries, _ = await inbox_until_answered(politie)
        assert [len(f.afspraken) for f in gathered] == [1, 0]  # the reeks; withdrawn: none
        assert gathered[1].afspraken_generatie == (gathered[0].afspraken_generatie or 0) + 1
        assert "bericht_opnieuw_besloten" in [e["event"] for e in captured]
        assert [m.type for m in deliveries] == ["Veiligheidsafspraken"]  # the withdrawal
        vt_got, _ = await inbox_until_answered(vt)  # the answer to the withdrawal
        vt_got += split(await take(vt, 1))[0]
        assert [m.type for m in vt_got] == ["VtMelding"]
        assert _signalen(vt_got) == []


VERSIE_2 = (EXAMPLES_DIR / "veilig-thuis" / "reeks" / "versie-2.xml").read_bytes()


async def test_a_versie_decided_before_another_replicas_versie_is_decided_again(
    settings: Settings,
    transport: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """v2 §6 across replicas: versie 2 of a reeks reaches two replicas at once (a sender
    retrying under another BerichtId). Ours reads the reeks (versie 1), then the other
    replica accepts its versie 2; ours is decided again on the reeks as it is now and
    refused VERSIE_ONGELDIG, so the recipients get versie 2 once."""
    built = capture_parts(monkeypatch)
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    reeks, ours = str(uuid.uuid4()), str(uuid.uuid4())

    async with run_gateway(settings, vhost, transport) as running:
        (parts,) = built
        gateway = parts.gateway
        politie, vt = running.partner("politie"), running.partner("vt-twente")
        await _versie_1_accepted(vt, politie, reeks)

        versie_2 = fresh(VERSIE_2, reeks_id=reeks)
        gathered = _another_replica_meanwhile(gateway, ours, versie_2, vt.oin, monkeypatch)
        await vt.send(fresh(VERSIE_2, reeks_id=reeks, bericht_id=ours))
        _, answers = await inbox_until_answered(vt, answers=2)
        antwoorden = {
            bericht.kop.in_antwoord_op: bericht.inhoud
            for bericht in (MESSAGE_CODEC.read(a.body) for a in answers)
        }
        refused = antwoorden[ours]
        assert isinstance(refused, Foutbericht), refused
        assert refused.code is Foutcode.VERSIE_ONGELDIG
        assert "not higher than the last accepted versie 2" in refused.reden
        assert [f.reeks.versie for f in gathered if f.reeks] == [1, 2]
        (delivered,) = split(await take(politie, 1))[0]  # the other replica's, once
        assert delivered.message_id != ours
        assert await drain(politie) == []
