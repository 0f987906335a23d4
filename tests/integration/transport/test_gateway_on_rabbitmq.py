"""What the gateway relies on RabbitMQ itself for: the broker's user check for a user outside
the register, dead-lettering, retries by TTL and the dead-letter tools (``dlq_list``,
``dlq_replay``) on the real broker. RabbitMQ only.
"""

from __future__ import annotations

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import TechnischType
from gateway.runtime import ops as gateway_ops
from gateway.runtime.settings import Settings
from gateway.store.state import Status
from gateway.transport.rabbit import AFZENDER, POGING, SOORT
from tests.support.broker import OINS
from tests.support.gateways import Running
from tests.support.partners import RabbitPartner, drain, inbox_until_answered, take
from tests.support.routing import (
    PERSONAL,
    VT_MELDING,
    afleverbevestiging,
    assert_niet_afleverbaar,
    assert_routed,
    build,
    send,
    statuses,
)

pytestmark = pytest.mark.broker


async def test_unknown_amqp_user_is_kept_for_ops_and_answered_to_nobody(
    gateway: Running, codec: MessageCodec, settings: Settings
) -> None:
    """The guest user (not in the partner register) publishes a valid VtMelding: nobody gets
    anything (there is no inbox to answer to), and it is not dropped: the ops queue keeps it
    with the reason and the user."""
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
        ops = await channel.declare_queue(gateway.topology.ops, passive=True)
        kept = await ops.get(no_ack=True)
        assert kept.body == raw
        assert kept.headers["ketenpoort-reden"] == "afzender-onbekend"
        assert kept.headers["ketenpoort-afzender"] == "guest"
    finally:
        await connection.close()
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name


# --------------------------------------------------------------------------- NIET_AFLEVERBAAR


async def test_niet_afleverbaar_dead_letter_list_and_replay(
    gateway: Running, codec: MessageCodec, settings: Settings
) -> None:
    politie = gateway.partner("politie")
    vt = gateway.partner("vt-twente")
    assert isinstance(vt, RabbitPartner)
    inbox = await vt.channel.get_queue(vt.topology.inbox(vt.oin), ensure=False)
    attempts: list[tuple[int, bytes]] = []

    async def reject(message: AbstractIncomingMessage) -> None:
        poging = (message.headers or {}).get(POGING) or 0
        assert isinstance(poging, int), poging  # the gateway counts attempts in an int
        attempts.append((poging, message.body))
        await message.reject(requeue=False)

    tag = await inbox.consume(reject)
    raw, bid = build(VT_MELDING)
    await politie.send(raw)
    own, answers = await inbox_until_answered(politie, 2)
    await inbox.cancel(tag)
    assert own == []
    fout = await assert_niet_afleverbaar(gateway, codec, answers, attempts, bid, vt.oin)

    # The dead-letter queue lists it, metadata only; listing twice does not consume it.
    for _ in range(2):
        listed = await gateway_ops.dlq_list(settings)
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

    replayed = await gateway_ops.dlq_replay(settings, ontvanger=vt.oin)
    assert replayed == [{"ontvanger": vt.oin, "bericht_id": bid}]
    [again] = await take(vt, 1)
    assert again.body == attempts[0][1]
    assert again.message_id == bid
    assert (again.headers or {}).get(SOORT) == "levering"
    assert (again.headers or {}).get(AFZENDER) == OINS["politie"]
    assert await gateway_ops.dlq_list(settings) == []
    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}

    # Now VT takes it and confirms: afgeleverd.
    conf, conf_id = afleverbevestiging("vt-twente", bid, conversatie_id=fout.kop.conversatie_id)
    answer = await send(gateway, codec, "vt-twente", conf, conf_id)
    assert answer.answer.kop.berichttype == TechnischType.ONTVANGSTBEVESTIGING
    bekend = await gateway.state.lookup(OINS["politie"], bid)
    assert bekend is not None
    assert statuses(bekend) == {"vt-twente": Status.AFGELEVERD}
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name
