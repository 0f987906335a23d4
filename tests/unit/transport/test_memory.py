"""The in-memory transport has the RabbitMQ semantics the gateway relies on.

Each test builds the gateway's real :class:`Topology` on a fresh :class:`MemoryBroker` and
checks one behaviour the way the gateway and the partners meet it. Waiting is on progress
(:func:`eventually`), never a fixed sleep.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import Transient
from gateway.transport.memory import (
    AccessRefused,
    Client,
    MemoryBroker,
    MemoryMessage,
    MemoryTransport,
    NotFound,
    Returned,
)
from gateway.transport.rabbit import INGRESS_DELIVERY_LIMIT, NIVEAU, Topology, partner_permissions
from tests.support.waiting import eventually

A = "00000099000000000101"
B = "00000099000000000102"


def topology(delays: tuple[int, ...] = (20, 40)) -> Topology:
    return Topology("kp-unit", (A, B), delays)


async def started(delays: tuple[int, ...] = (20, 40)) -> tuple[MemoryBroker, MemoryTransport]:
    broker = MemoryBroker()
    transport = MemoryTransport(broker, topology(delays))
    await transport.connect()
    await transport.declare()
    return broker, transport


def ready(broker: MemoryBroker, queue: str) -> int:
    return len(broker.queue(queue).ready)


async def test_declare_follows_whatever_the_topology_returns() -> None:
    class Wider(Topology):
        """A topology with an extra exchange (with an alternate exchange) and queue."""

        def exchanges(self) -> list[tuple[str, str]]:
            return [*super().exchanges(), (f"{self.prefix}.unrouted", "fanout")]

        def queues(self) -> list[tuple[str, dict[str, Any]]]:
            return [*super().queues(), (f"{self.prefix}.ops", {"x-queue-type": "quorum"})]

        def bindings(self) -> list[tuple[str, str, str, dict[str, Any]]]:
            return [*super().bindings(), (f"{self.prefix}.unrouted", f"{self.prefix}.ops", "", {})]

    wider = Wider("kp-unit", (A, B), (20,))
    broker = MemoryBroker()
    transport = MemoryTransport(broker, wider)
    await transport.connect()
    await transport.declare()
    await transport.declare()  # idempotent
    assert set(broker.queues) == {name for name, _ in wider.queues()}
    assert {name for name in broker.exchanges if name} == {name for name, _ in wider.exchanges()}
    assert len(broker.bindings) == len(wider.bindings())
    await transport.publish("kp-unit.unrouted", "", b"x")
    assert ready(broker, "kp-unit.ops") == 1


async def test_alternate_exchange_takes_what_routes_nowhere() -> None:
    broker = MemoryBroker()
    broker.declare_exchange("main", "direct", {"alternate-exchange": "spare"})
    broker.declare_exchange("spare", "fanout")
    broker.declare_queue("q")
    broker.declare_queue("lost")
    broker.bind("main", "q", "k", {})
    broker.bind("spare", "lost", "", {})
    client = Client(broker)
    client.publish("main", "k", b"routed")
    client.publish("main", "other", b"unrouted")
    assert [e.body for e in broker.queue("q").ready] == [b"routed"]
    assert [e.body for e in broker.queue("lost").ready] == [b"unrouted"]


async def test_direct_headers_and_fanout_routing() -> None:
    broker, transport = await started()
    t = transport.topology
    await transport.publish(t.deliver_exchange, B, b"to b", message_id="m1", type_="T")
    await transport.publish(t.retry_exchange, B, b"level 1", headers={NIVEAU: 1})
    await transport.publish(t.bounced, "anything", b"bounced")
    assert ready(broker, t.inbox(B)) == 1
    assert ready(broker, t.inbox(A)) == 0
    assert ready(broker, t.retry(1)) == 1
    assert ready(broker, t.retry(0)) == 0
    assert ready(broker, t.bounced) == 1
    [message] = await transport.take(t.inbox(B))
    assert (message.body, message.message_id, message.type, message.routing_key) == (
        b"to b",
        "m1",
        "T",
        B,
    )
    assert message.redelivered is False


async def test_unroutable_mandatory_publish_is_an_error() -> None:
    broker, transport = await started()
    unknown = "00000099000000000999"
    with pytest.raises(Returned):
        Client(broker).publish(transport.topology.deliver_exchange, unknown, b"x")
    with pytest.raises(Transient):
        await transport.publish(transport.topology.deliver_exchange, unknown, b"x")
    with pytest.raises(NotFound):
        Client(broker).publish("no-such-exchange", "", b"x")


async def test_user_id_and_permissions_are_checked_as_rabbitmq_does() -> None:
    broker, transport = await started()
    t = transport.topology
    partner = Client(broker, A, partner_permissions(t, A))
    partner.publish(t.ingress_exchange, "ingress", b"mine", user_id=A)
    [message] = await transport.take(t.ingress)
    assert message.user_id == A
    with pytest.raises(AccessRefused):
        partner.publish(t.ingress_exchange, "ingress", b"as b", user_id=B)
    with pytest.raises(AccessRefused):
        partner.publish(t.deliver_exchange, B, b"around the gateway", user_id=A)
    with pytest.raises(AccessRefused):
        partner.get(t.inbox(B))
    assert partner.get(t.inbox(A)) is None
    with pytest.raises(AccessRefused):
        partner.declare(t)  # configure "^$"


async def test_consume_ack_and_requeue_with_redelivered_flag() -> None:
    broker, transport = await started()
    t = transport.topology
    seen: list[tuple[bytes, bool, Any]] = []

    async def handler(message: MemoryMessage) -> None:
        seen.append((message.body, message.redelivered, message.headers.get("x-delivery-count")))
        await message.nack(requeue=True) if len(seen) == 1 else await message.ack()

    await transport.consume(t.ingress, handler)
    await transport.publish(t.ingress_exchange, "ingress", b"m")
    await eventually(lambda: len(seen) == 2, "delivered twice")
    assert seen == [(b"m", False, None), (b"m", True, 1)]
    assert ready(broker, t.ingress) == 0
    assert ready(broker, t.ingress_dlq) == 0


async def test_delivery_limit_dead_letters_the_poison_message() -> None:
    broker, transport = await started()
    t = transport.topology
    deliveries: list[bool] = []

    async def crash(message: MemoryMessage) -> None:
        deliveries.append(message.redelivered)
        await message.nack(requeue=True)

    await transport.consume(t.ingress, crash)
    await transport.publish(t.ingress_exchange, "ingress", b"poison", message_id="p")
    await eventually(lambda: ready(broker, t.ingress_dlq) == 1, "in the ingress dlq")
    assert len(deliveries) == INGRESS_DELIVERY_LIMIT + 1
    assert deliveries[0] is False
    assert all(deliveries[1:])
    [dead] = await transport.take(t.ingress_dlq)
    [death] = dead.headers["x-death"]
    assert (death["queue"], death["reason"], dead.message_id) == (t.ingress, "delivery_limit", "p")


async def test_rejected_delivery_is_dead_lettered_with_x_death() -> None:
    broker, transport = await started()
    t = transport.topology
    await transport.publish(t.deliver_exchange, A, b"m", headers={"h": "v"})
    [message] = await transport.take(t.inbox(A))
    await message.nack(requeue=False)
    [bounced] = await transport.take(t.bounced)
    [death] = bounced.headers["x-death"]
    assert death["queue"] == t.inbox(A)
    assert death["reason"] == "rejected"
    assert death["routing-keys"] == [A]
    assert death["exchange"] == t.deliver_exchange
    assert bounced.headers["h"] == "v"
    assert ready(broker, t.inbox(A)) == 0


async def test_retry_queue_ttl_sends_the_message_back_to_the_inbox() -> None:
    broker, transport = await started(delays=(30, 60))
    t = transport.topology
    await transport.publish(t.retry_exchange, B, b"again", headers={NIVEAU: 0, "x-death": []})
    assert ready(broker, t.retry(0)) == 1
    await eventually(lambda: ready(broker, t.inbox(B)) == 1, "back in the inbox")
    assert ready(broker, t.retry(0)) == 0
    [message] = await transport.take(t.inbox(B))
    assert message.routing_key == B
    [death] = message.headers["x-death"]
    assert (death["queue"], death["reason"], death["routing-keys"]) == (t.retry(0), "expired", [B])
    # rejected again: the newest death comes first, as on RabbitMQ
    await message.nack(requeue=False)
    [bounced] = await transport.take(t.bounced)
    assert [d["reason"] for d in bounced.headers["x-death"]] == ["rejected", "expired"]


async def test_closing_a_client_returns_what_it_held() -> None:
    _broker, transport = await started()
    t = transport.topology
    await transport.publish(t.deliver_exchange, A, b"1")
    await transport.publish(t.deliver_exchange, A, b"2")
    holder = await transport.open_holder()
    first = await holder.get(t.inbox(A))
    assert first is not None
    assert first.body == b"1"
    assert await transport.depths([t.inbox(A)]) == {t.inbox(A): 1}
    await holder.close()
    assert holder.is_closed
    assert await transport.depths([t.inbox(A)]) == {t.inbox(A): 2}
    again = await transport.take(t.inbox(A))
    assert [(m.body, m.redelivered) for m in again] == [(b"1", True), (b"2", False)]


async def test_prefetch_bounds_unacknowledged_deliveries() -> None:
    broker = MemoryBroker()
    transport = MemoryTransport(broker, topology(), prefetch=2)
    await transport.connect()
    await transport.declare()
    t = transport.topology
    held: list[MemoryMessage] = []

    async def hold(message: MemoryMessage) -> None:
        held.append(message)

    await transport.consume(t.ingress, hold)
    for n in range(5):
        await transport.publish(t.ingress_exchange, "ingress", str(n).encode())
    await eventually(lambda: len(held) == 2, "two in flight")
    assert ready(broker, t.ingress) == 3
    await held[0].ack()
    await eventually(lambda: len(held) == 3, "a third after one ack")
    assert [m.body for m in held] == [b"0", b"1", b"2"]
    with pytest.raises(Exception, match="already settled"):
        await held[0].ack()
    await transport.stop_consuming()
    await transport.close()
    assert not transport.connected
    assert ready(broker, t.ingress) == 4  # the two unsettled came back
    with pytest.raises(Transient):
        await transport.publish(t.ingress_exchange, "ingress", b"after close")


async def test_depths_of_an_unknown_queue_is_transient() -> None:
    _broker, transport = await started()
    with pytest.raises(Transient):
        await transport.depths(["kp-unit.nope"])


async def test_topic_and_headers_any_routing() -> None:
    broker = MemoryBroker()
    broker.declare_exchange("t", "topic")
    broker.declare_exchange("h", "headers")
    for name in ("one-word", "any-depth", "either"):
        broker.declare_queue(name)
    broker.bind("t", "one-word", "melding.*", {})
    broker.bind("t", "any-depth", "melding.#", {})
    broker.bind("h", "either", "", {"x-match": "any", "a": 1, "b": 2})
    client = Client(broker)
    client.publish("t", "melding.vt", b"1")
    client.publish("t", "melding.vt.twente", b"2")
    client.publish("h", "", b"a", headers={"a": 1, "b": 9})
    with pytest.raises(Returned):
        client.publish("h", "", b"neither", headers={"a": 2})
    with pytest.raises(Returned):
        client.publish("t", "zaak.vt", b"3")
    assert [e.body for e in broker.queue("one-word").ready] == [b"1"]
    assert [e.body for e in broker.queue("any-depth").ready] == [b"1", b"2"]
    assert [e.body for e in broker.queue("either").ready] == [b"a"]


async def test_a_delivery_s_headers_are_its_own_copy() -> None:
    _broker, transport = await started()
    t = transport.topology
    await transport.publish(t.deliver_exchange, A, b"m", headers={"h": "v"})
    [first] = await transport.take(t.inbox(A))
    first.headers["h"] = "changed by the consumer"
    await first.nack(requeue=True)
    [again] = await transport.take(t.inbox(A))
    assert again.headers == {"h": "v", "x-delivery-count": 1}
    assert first.headers == {"h": "changed by the consumer"}
