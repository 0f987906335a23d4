"""RabbitMQ transport: the topology, publishing with confirms, consuming.

Knows queues, exchanges and bytes; nothing of adapters, policy or HTTP.

Topology (prefix ``ketenpoort``; all queues quorum queues, all messages persistent):

    partner ──▶ [ketenpoort.ingress] ──▶ ketenpoort.ingress ──▶ gateway
    gateway ──▶ [ketenpoort.deliver] ──(key: OIN)──▶ ketenpoort.inbox.<OIN> ──▶ partner
    inbox.<OIN> rejected/expired ──(dead-letter)──▶ [ketenpoort.bounced] ──▶ ketenpoort.bounced
        ──▶ gateway: attempt < n ──▶ [ketenpoort.retry] ──(header level)──▶ ketenpoort.retry.<i>
              (TTL = delay i, then dead-lettered back to [ketenpoort.deliver] with key OIN)
        ──▶ gateway: attempt = n ──▶ [ketenpoort.dlq] ──(key: OIN)──▶ ketenpoort.dlq.<OIN>
    ingress poison (redelivered past the limit) ──▶ ketenpoort.ingress.dlq
    partner ──▶ [ketenpoort.ingress] with an unknown routing key ──(alternate exchange)──▶
        [ketenpoort.ops] ──▶ ketenpoort.ops   (never dropped: counted, alerted, kept for ops)
    gateway ──▶ [ketenpoort.deliver] for an inbox that does not exist ──(alternate exchange)──▶
        [ketenpoort.ops] ──▶ ketenpoort.ops
    gateway: an ingress message without user_id (or of a user outside the register) ──▶
        [ketenpoort.ops] ──▶ ketenpoort.ops   (header ketenpoort-reden)

Retries use TTL + dead-lettering (no delayed-message plugin). Dead-lettering from quorum
queues is at-least-once (``x-dead-letter-strategy``), so a bounce is never lost.
A partner's RabbitMQ user may write only to the ingress exchange and read (and declare) only its
own inbox (:func:`partner_permissions`); the broker checks the ``user_id`` property against the
connection's user, which is how the gateway knows who sent a message.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from gateway.domain.errors import Transient

__all__ = [
    "AFZENDER",
    "AFZENDER_ONBEKEND",
    "HERHAALD",
    "INGRESS_DELIVERY_LIMIT",
    "INGRESS_ROUTING_KEY",
    "NIVEAU",
    "POGING",
    "REDEN",
    "SOORT",
    "ZONDER_USER_ID",
    "Broker",
    "ChannelHolder",
    "Handler",
    "Topology",
    "partner_permissions",
]

Handler = Callable[[AbstractIncomingMessage], Awaitable[None]]

INGRESS_DELIVERY_LIMIT = 20  # a message that crashes the gateway this often is set aside


SOORT = "ketenpoort-soort"  # header: "levering" (a partner message) or "antwoord" (ours)
AFZENDER = "ketenpoort-afzender"  # header: OIN of the original sender
POGING = "ketenpoort-poging"  # header: delivery attempt, 0 = first
NIVEAU = "ketenpoort-niveau"  # header: retry level (binds to <prefix>.retry.<level>)
HERHAALD = "ketenpoort-herhaald"  # header: re-published after a crash (may be a duplicate)
REDEN = "ketenpoort-reden"  # header: why a message was set aside (dead-letter and ops queues)
INGRESS_ROUTING_KEY = "ingress"  # the one routing key of the ingress exchange
# ketenpoort-reden of a message the gateway moved to the ops queue
ZONDER_USER_ID = "user_id-ontbreekt"  # no user_id property: the sender cannot be known
AFZENDER_ONBEKEND = "afzender-onbekend"  # a RabbitMQ user that is not in the register


@dataclass(frozen=True)
class Topology:
    """Names and arguments of every exchange and queue, derived from the partner OINs."""

    prefix: str
    oins: tuple[str, ...]
    retry_delays_ms: tuple[int, ...]

    @property
    def ingress_exchange(self) -> str:
        return f"{self.prefix}.ingress"

    @property
    def ingress(self) -> str:
        return f"{self.prefix}.ingress"

    @property
    def ingress_dlq(self) -> str:
        return f"{self.prefix}.ingress.dlq"

    @property
    def deliver_exchange(self) -> str:
        return f"{self.prefix}.deliver"

    def inbox(self, oin: str) -> str:
        return f"{self.prefix}.inbox.{oin}"

    @property
    def bounced(self) -> str:
        return f"{self.prefix}.bounced"

    @property
    def retry_exchange(self) -> str:
        return f"{self.prefix}.retry"

    def retry(self, level: int) -> str:
        return f"{self.prefix}.retry.{level}"

    @property
    def dlq_exchange(self) -> str:
        return f"{self.prefix}.dlq"

    def dlq(self, oin: str) -> str:
        return f"{self.prefix}.dlq.{oin}"

    @property
    def ops_exchange(self) -> str:
        """The ingress exchange's alternate exchange: what no binding takes lands here."""
        return f"{self.prefix}.ops"

    @property
    def ops(self) -> str:
        """Messages for an operator: unroutable, without user_id, of an unknown user."""
        return f"{self.prefix}.ops"

    # ----------------------------------------------------------------- declarations

    def exchanges(self) -> list[tuple[str, str]]:
        return [
            (self.ingress_exchange, "direct"),
            (self.deliver_exchange, "direct"),
            (self.bounced, "fanout"),
            (self.retry_exchange, "headers"),
            (self.dlq_exchange, "direct"),
            (self.ops_exchange, "fanout"),
        ]

    def exchange_arguments(self, name: str) -> dict[str, Any]:
        """Arguments of one exchange of :meth:`exchanges` (the same at every declare).

        Ingress and deliver have the ops exchange as alternate exchange: a partner's publish
        with an unknown routing key, and a delivery to an inbox that does not exist (a partner
        may delete its own), are kept in the ops queue instead of being confirmed and dropped.
        """
        if name in (self.ingress_exchange, self.deliver_exchange):
            return {"alternate-exchange": self.ops_exchange}
        return {}

    def queues(self) -> list[tuple[str, dict[str, Any]]]:
        quorum: dict[str, Any] = {"x-queue-type": "quorum"}
        at_least_once = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        queues: list[tuple[str, dict[str, Any]]] = [
            (
                self.ingress,
                {
                    **quorum,
                    **at_least_once,
                    "x-delivery-limit": INGRESS_DELIVERY_LIMIT,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.ingress_dlq,
                },
            ),
            (self.ingress_dlq, dict(quorum)),
            (self.bounced, dict(quorum)),
            (self.ops, dict(quorum)),
        ]
        for oin in self.oins:
            queues.append(
                (
                    self.inbox(oin),
                    {**quorum, **at_least_once, "x-dead-letter-exchange": self.bounced},
                )
            )
            queues.append((self.dlq(oin), dict(quorum)))
        for level, delay in enumerate(self.retry_delays_ms):
            queues.append(
                (
                    self.retry(level),
                    {
                        **quorum,
                        **at_least_once,
                        "x-message-ttl": delay,
                        "x-dead-letter-exchange": self.deliver_exchange,
                    },
                )
            )
        return queues

    def bindings(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(exchange, queue, routing key, arguments)."""
        bindings: list[tuple[str, str, str, dict[str, Any]]] = [
            (self.ingress_exchange, self.ingress, INGRESS_ROUTING_KEY, {}),
            (self.bounced, self.bounced, "", {}),
            (self.ops_exchange, self.ops, "", {}),
        ]
        for oin in self.oins:
            bindings.append((self.deliver_exchange, self.inbox(oin), oin, {}))
            bindings.append((self.dlq_exchange, self.dlq(oin), oin, {}))
        for level in range(len(self.retry_delays_ms)):
            bindings.append(
                (
                    self.retry_exchange,
                    self.retry(level),
                    "",
                    {"x-match": "all", "ketenpoort-niveau": level},
                )
            )
        return bindings

    def definitions(self, vhost: str = "/") -> dict[str, Any]:
        """RabbitMQ definitions (``rabbitmqctl import_definitions``) for this topology.

        Exchanges, queues and bindings only: partner users and their permissions are
        provisioned one by one with a generated secret (``ketenpoort partner add``,
        :mod:`gateway.transport.provisioning`), never committed with a password hash.
        """
        return {
            "vhosts": [{"name": vhost}],
            "exchanges": [
                {
                    "name": name,
                    "vhost": vhost,
                    "type": kind,
                    "durable": True,
                    "auto_delete": False,
                    "internal": False,
                    "arguments": self.exchange_arguments(name),
                }
                for name, kind in self.exchanges()
            ],
            "queues": [
                {
                    "name": name,
                    "vhost": vhost,
                    "durable": True,
                    "auto_delete": False,
                    "arguments": args,
                }
                for name, args in self.queues()
            ],
            "bindings": [
                {
                    "source": exchange,
                    "vhost": vhost,
                    "destination": queue,
                    "destination_type": "queue",
                    "routing_key": key,
                    "arguments": args,
                }
                for exchange, queue, key, args in self.bindings()
            ],
        }


def partner_permissions(topology: Topology, oin: str) -> tuple[str, str, str]:
    """RabbitMQ (configure, write, read) for a partner: send to ingress, read its own inbox.

    Configure on its own inbox lets a partner ``queue.declare`` it (with the arguments of
    :meth:`Topology.queues`, else PRECONDITION_FAILED), as AMQP clients do by habit; it also
    lets the partner delete its own inbox (RabbitMQ has no declare-only permission).
    """
    return (
        f"^{re.escape(topology.inbox(oin))}$",
        f"^{re.escape(topology.ingress_exchange)}$",
        f"^{re.escape(topology.inbox(oin))}$",
    )


class ChannelHolder:
    """The :class:`~gateway.transport.port.Holder` on RabbitMQ: one channel of its own."""

    def __init__(self, channel: AbstractChannel) -> None:
        self.channel = channel

    @property
    def is_closed(self) -> bool:
        return bool(self.channel.is_closed)

    async def get(self, queue_name: str) -> AbstractIncomingMessage | None:
        try:
            queue = await self.channel.get_queue(queue_name, ensure=False)
            return await queue.get(no_ack=False, fail=False)
        except (aio_pika.exceptions.AMQPError, ConnectionError, OSError) as exc:
            raise Transient(f"get from {queue_name}: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if not self.channel.is_closed:
            await self.channel.close()


class Broker:
    """One robust connection, a confirming channel for publishing, one per consumer."""

    def __init__(self, url: str, topology: Topology, *, prefetch: int = 32) -> None:
        self._url = url
        self.topology = topology
        self.prefetch = prefetch
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._consumers: list[tuple[AbstractChannel, AbstractQueue, str]] = []

    @property
    def connected(self) -> bool:
        # a robust connection is not "closed" while it reconnects: ask whether it is up now
        connection = self._connection
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    async def connect(self) -> None:
        try:
            self._connection = await aio_pika.connect_robust(self._url, timeout=10)
        except (OSError, aio_pika.exceptions.AMQPError) as exc:
            raise Transient(f"cannot connect to RabbitMQ: {type(exc).__name__}") from exc
        self._channel = await self._connection.channel(publisher_confirms=True)

    async def open_channel(self) -> AbstractChannel:
        """A channel of its own (e.g. for messages held across requests)."""
        if self._connection is None or not self.connected:  # else aio_pika: RuntimeError
            raise Transient("not connected to RabbitMQ")
        return await self._connection.channel()

    async def open_holder(self) -> ChannelHolder:
        """A channel of its own that holds messages until acknowledged (for the HTTPS inbox:
        if the process dies, RabbitMQ returns them to their queue)."""
        return ChannelHolder(await self.open_channel())

    async def declare(self) -> None:
        """Declare every exchange, queue and binding (idempotent)."""
        channel = self._require_channel()
        for name, kind in self.topology.exchanges():
            self._exchanges[name] = await channel.declare_exchange(
                name,
                aio_pika.ExchangeType(kind),
                durable=True,
                arguments=self.topology.exchange_arguments(name),
            )
        queues = {}
        for name, args in self.topology.queues():
            queues[name] = await channel.declare_queue(name, durable=True, arguments=args)
        for exchange, queue, key, args in self.topology.bindings():
            await queues[queue].bind(self._exchanges[exchange], routing_key=key, arguments=args)

    def _require_channel(self) -> AbstractChannel:
        if self._channel is None:
            raise Transient("not connected to RabbitMQ")
        return self._channel

    async def _exchange(self, name: str) -> AbstractExchange:
        if name not in self._exchanges:
            self._exchanges[name] = await self._require_channel().get_exchange(name)
        return self._exchanges[name]

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
        """Publish persistently and wait for the broker's confirm (Transient otherwise)."""
        message = aio_pika.Message(
            body,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/xml",
            message_id=message_id,
            type=type_,
            correlation_id=correlation_id,
            headers=dict(headers or {}),
            app_id="ketenpoort",
        )
        try:
            target = await self._exchange(exchange)
            await target.publish(message, routing_key=routing_key, mandatory=True, timeout=30)
        except (
            TimeoutError,
            aio_pika.exceptions.AMQPError,
            aio_pika.exceptions.ChannelInvalidStateError,  # a RuntimeError: the broker is away
            ConnectionError,
        ) as exc:
            raise Transient(f"publish to {exchange}/{routing_key}: {type(exc).__name__}") from exc

    async def forward(
        self,
        exchange: str,
        routing_key: str,
        message: AbstractIncomingMessage,
        headers: Mapping[str, Any],
    ) -> None:
        """Publish an incoming message again elsewhere, keeping its id, type and correlation."""
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
        """Consume a queue on a channel of its own with the configured prefetch."""
        if self._connection is None:
            raise Transient("not connected to RabbitMQ")
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        queue = await channel.get_queue(queue_name)
        tag = await queue.consume(handler, no_ack=False)
        self._consumers.append((channel, queue, tag))

    async def stop_consuming(self) -> None:
        for _channel, queue, tag in self._consumers:
            if not self.connected:  # the consumers went with the connection; a cancel would
                return  # wait for the robust connection to come back (forever, at a stop)
            with contextlib.suppress(aio_pika.exceptions.AMQPError):  # channel already gone
                await queue.cancel(tag)

    async def take(self, queue_name: str, *, limit: int = 10_000) -> list[AbstractIncomingMessage]:
        """Fetch up to ``limit`` messages without acknowledging them (for inspection)."""
        channel = self._require_channel()
        queue = await channel.get_queue(queue_name)
        taken: list[AbstractIncomingMessage] = []
        while len(taken) < limit:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            taken.append(message)
        return taken

    async def depths(self, names: list[str]) -> dict[str, int]:
        """Messages waiting in each queue (passive declares on a channel of their own)."""
        found: dict[str, int] = {}
        try:
            channel = await self.open_channel()
            try:
                for name in names:
                    queue = await channel.declare_queue(name, passive=True)
                    count = queue.declaration_result.message_count
                    found[name] = int(count or 0)
            finally:
                if not channel.is_closed:
                    await channel.close()
        except (aio_pika.exceptions.AMQPError, ConnectionError, OSError, TimeoutError) as exc:
            raise Transient(f"queue depths: {type(exc).__name__}") from exc
        return found

    async def close(self) -> None:
        for channel, _queue, _tag in self._consumers:
            if not channel.is_closed:
                await channel.close()
        self._consumers.clear()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
            self._channel = None
