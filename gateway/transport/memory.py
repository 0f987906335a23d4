"""An in-memory transport: the RabbitMQ semantics the gateway relies on, in this process.

Behind the same Protocols as :class:`gateway.transport.rabbit.Broker`
(:mod:`gateway.transport.port`), so a behaviour suite runs unchanged on either; RabbitMQ stays
the proof. What it models, as RabbitMQ does it:

- exchanges of kind ``direct``, ``fanout``, ``headers`` (``x-match`` all/any) and ``topic``,
  the default exchange ``""`` (routing key = queue name) and an exchange's
  ``alternate-exchange``; queues and bindings as :class:`Topology` declares them (generically:
  whatever ``exchanges()``, ``queues()`` and ``bindings()`` return);
- publishing: confirmed once enqueued; a mandatory publish that reaches no queue is returned
  (:class:`Returned`); the ``user_id`` property must equal the publishing client's user and the
  client's write permission must match the exchange (:class:`AccessRefused`);
- consuming with a prefetch, ``basic.get``, ack, nack with or without requeue; a requeued
  message comes back ``redelivered`` with ``x-delivery-count``; past ``x-delivery-limit`` it is
  dead-lettered (reason ``delivery_limit``); a client that closes returns what it held;
- dead-lettering to ``x-dead-letter-exchange`` (with ``x-dead-letter-routing-key`` or the
  message's own routing keys) with an ``x-death`` header, newest death first; per-queue
  ``x-message-ttl`` expiry (reason ``expired``) on asyncio timers, checked at the queue head.

Where it is stricter or simpler than RabbitMQ, on purpose:

- :meth:`MemoryTransport.publish` raises :class:`~gateway.domain.errors.Transient` for a
  returned (unroutable) message; :class:`~gateway.transport.rabbit.Broker` publishes mandatory
  on a channel that only logs returns. A test that routes nowhere fails here instead of
  losing the message.
- a requeued message goes back to the head of its queue (its original place), not the tail;
  no ``x-max-length``/``x-overflow``, per-message ``expiration``, priorities or vhosts;
- nothing survives the process: durability and broker restarts are RabbitMQ-only tests.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Any

from gateway.domain.errors import Transient
from gateway.transport.memory_broker import (
    AccessRefused,
    Consumer,
    Envelope,
    Handler,
    MemoryBroker,
    MemoryMessage,
    MemoryTransportError,
    NotFound,
    Queue,
    Returned,
)
from gateway.transport.rabbit import Topology

ALL = (".*", ".*", ".*")  # configure, write, read: what the gateway's own user may do


class Client:
    """One connection to the :class:`MemoryBroker` as one user, with RabbitMQ (configure,
    write, read) permissions."""

    def __init__(
        self, broker: MemoryBroker, user: str = "guest", permissions: tuple[str, str, str] = ALL
    ) -> None:
        self.broker = broker
        self.user = user
        self.permissions = permissions
        self.closed = False
        self.unsettled: set[MemoryMessage] = set()
        self.consumers: list[tuple[Queue, Consumer]] = []

    def _check(self, kind: int, name: str) -> None:
        if self.closed:
            raise MemoryTransportError("client closed")
        if not re.fullmatch(self.permissions[kind], name):
            verb = ("configure", "write", "read")[kind]
            raise AccessRefused(f"{self.user} may not {verb} {name!r}")

    def declare(self, topology: Topology) -> None:
        """Every exchange, queue and binding of the topology (idempotent)."""
        for declaration in topology.exchanges():
            declared: tuple[Any, ...] = tuple(declaration)  # (name, kind[, arguments])
            self._check(0, declared[0])
            arguments = declared[2] if len(declared) > 2 else None
            self.broker.declare_exchange(declared[0], declared[1], arguments)
        for name, args in topology.queues():
            self._check(0, name)
            self.broker.declare_queue(name, args)
        for exchange, queue, key, args in topology.bindings():
            self.broker.bind(exchange, queue, key, args)

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        user_id: str | None = None,
        message_id: str | None = None,
        type_: str | None = None,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
        mandatory: bool = True,
    ) -> None:
        """Publish; returns once the message is in every queue it routes to (confirmed)."""
        self._check(1, exchange)
        if user_id is not None and user_id != self.user:
            raise AccessRefused(f"PRECONDITION_FAILED - user_id property set to {user_id!r}")
        envelope = Envelope(
            body,
            dict(headers or {}),
            user_id,
            message_id,
            type_,
            correlation_id,
            exchange,
            routing_key,
        )
        self.broker.enqueue(exchange, envelope, [routing_key], mandatory=mandatory)

    def get(self, queue_name: str) -> MemoryMessage | None:
        """``basic.get`` without auto-ack: the next ready message, held by this client."""
        self._check(2, queue_name)
        queue = self.broker.queue(queue_name)
        return queue.deliver(self) if queue.ready else None

    def consume(self, queue_name: str, handler: Handler, *, prefetch: int) -> None:
        self._check(2, queue_name)
        queue = self.broker.queue(queue_name)
        consumer = Consumer(self, handler, prefetch)
        queue.consumers.append(consumer)
        self.consumers.append((queue, consumer))
        self.broker.dispatch()

    def cancel(self) -> None:
        for queue, consumer in self.consumers:
            with contextlib.suppress(ValueError):
                queue.consumers.remove(consumer)
        self.consumers.clear()

    def close(self) -> None:
        """Cancel the consumers and return every unsettled message (as a closed channel)."""
        if self.closed:
            return
        self.cancel()
        self.closed = True
        for message in list(self.unsettled):
            message.settled = True
            message.queue.give_back(message.envelope)
        self.unsettled.clear()
        self.broker.dispatch()


class MemoryHolder:
    """The :class:`~gateway.transport.port.Holder` of the in-memory transport."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def is_closed(self) -> bool:
        return self.client.closed

    async def get(self, queue_name: str) -> MemoryMessage | None:
        try:
            return self.client.get(queue_name)
        except MemoryTransportError as exc:
            raise Transient(f"get from {queue_name}: {type(exc).__name__}") from exc

    async def close(self) -> None:
        self.client.close()


class MemoryTransport:
    """The :class:`~gateway.transport.port.Transport` on a :class:`MemoryBroker`."""

    def __init__(
        self, broker: MemoryBroker, topology: Topology, *, user: str = "guest", prefetch: int = 32
    ) -> None:
        self.broker = broker
        self.topology = topology
        self.user = user
        self.prefetch = prefetch
        self._client: Client | None = None
        self._holders: list[MemoryHolder] = []

    @property
    def connected(self) -> bool:
        return self._client is not None and not self._client.closed

    async def connect(self) -> None:
        self._client = Client(self.broker, self.user)

    def _require(self) -> Client:
        if self._client is None or self._client.closed:
            raise Transient("not connected to the in-memory broker")
        return self._client

    async def declare(self) -> None:
        self._require().declare(self.topology)

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str | None = None,
        type_: str | None = None,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            self._require().publish(
                exchange,
                routing_key,
                body,
                message_id=message_id,
                type_=type_,
                correlation_id=correlation_id,
                headers=headers,
            )
        except MemoryTransportError as exc:
            raise Transient(f"publish to {exchange}/{routing_key}: {type(exc).__name__}") from exc

    async def forward(
        self, exchange: str, routing_key: str, message: Any, headers: Mapping[str, Any]
    ) -> None:
        await self.publish(
            exchange,
            routing_key,
            message.body,
            message_id=message.message_id,
            type_=message.type,
            correlation_id=message.correlation_id,
            headers=headers,
        )

    async def consume(self, queue_name: str, handler: Handler) -> None:
        self._require().consume(queue_name, handler, prefetch=self.prefetch)

    async def stop_consuming(self) -> None:
        if self._client is not None:
            self._client.cancel()

    async def take(self, queue_name: str, *, limit: int = 10_000) -> list[Any]:
        client = self._require()
        taken: list[Any] = []
        while len(taken) < limit and (message := client.get(queue_name)) is not None:
            taken.append(message)
        return taken

    async def depths(self, names: list[str]) -> dict[str, int]:
        self._require()
        try:
            return {name: len(self.broker.queue(name).ready) for name in names}
        except NotFound as exc:
            raise Transient(f"queue depths: {exc}") from exc

    async def open_holder(self) -> MemoryHolder:
        """A client of its own that holds messages until settled (closing returns them)."""
        self._require()
        holder = MemoryHolder(Client(self.broker, self.user))
        self._holders.append(holder)
        return holder

    async def close(self) -> None:
        for holder in self._holders:
            await holder.close()
        self._holders.clear()
        if self._client is not None:
            self._client.close()
            self._client = None


__all__ = [
    "ALL",
    "AccessRefused",
    "Client",
    "Envelope",
    "MemoryBroker",
    "MemoryHolder",
    "MemoryMessage",
    "MemoryTransport",
    "MemoryTransportError",
    "NotFound",
    "Queue",
    "Returned",
]
