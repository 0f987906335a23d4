"""The in-memory broker: exchanges, bindings, queues and deliveries as RabbitMQ has them.

The broker side of :mod:`gateway.transport.memory` (which holds the clients and the
transport); see there for what is modelled.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.observe.logs import get_logger

if TYPE_CHECKING:
    from gateway.transport.memory import Client

log = get_logger("ketenpoort.transport.memory")

Handler = Callable[[Any], Awaitable[None]]


class MemoryTransportError(Exception):
    """The in-memory broker refused an operation (as RabbitMQ closes the channel)."""


class AccessRefused(MemoryTransportError):  # noqa: N818 - RabbitMQ: ACCESS_REFUSED / PRECONDITION_FAILED
    """No permission, or a ``user_id`` that is not the client's own user."""


class Returned(MemoryTransportError):  # noqa: N818 - RabbitMQ: basic.return
    """A mandatory message reached no queue (RabbitMQ's basic.return)."""


class NotFound(MemoryTransportError):  # noqa: N818 - RabbitMQ: NOT_FOUND
    """No such exchange or queue."""


@dataclass(eq=False)
class Envelope:
    """A message as the broker stores it."""

    body: bytes
    headers: dict[str, Any]
    user_id: str | None
    message_id: str | None
    type: str | None
    correlation_id: str | None
    exchange: str
    routing_key: str
    delivery_count: int = 0
    expires_at: float | None = None


@dataclass(eq=False)
class MemoryMessage:
    """One delivery of an :class:`Envelope` to a client (the ``IncomingMessage`` Protocol)."""

    envelope: Envelope
    queue: Queue
    client: Client
    consumer: Consumer | None
    redelivered: bool
    headers: dict[str, Any]  # this delivery's copy (changing it changes nothing stored)
    settled: bool = False

    @property
    def body(self) -> bytes:
        return self.envelope.body

    @property
    def user_id(self) -> str | None:
        return self.envelope.user_id

    @property
    def message_id(self) -> str | None:
        return self.envelope.message_id

    @property
    def type(self) -> str | None:
        return self.envelope.type

    @property
    def correlation_id(self) -> str | None:
        return self.envelope.correlation_id

    @property
    def routing_key(self) -> str | None:
        return self.envelope.routing_key

    @property
    def properties(self) -> dict[str, Any]:
        """The message's properties as a recipient sees them."""
        e = self.envelope
        return {
            "message_id": e.message_id,
            "type": e.type,
            "correlation_id": e.correlation_id,
            "user_id": e.user_id,
            "headers": self.headers,
        }

    async def ack(self) -> None:
        self._settle()
        self.queue.broker.dispatch()

    async def nack(self, requeue: bool = True) -> None:
        self._settle()
        if requeue:
            self.queue.give_back(self.envelope)
        else:
            self.queue.broker.dead_letter(self.queue, self.envelope, "rejected")
        self.queue.broker.dispatch()

    def _settle(self) -> None:
        if self.settled or self.client.closed:
            raise MemoryTransportError("delivery already settled or its client closed")
        self.settled = True
        self.client.unsettled.discard(self)
        if self.consumer is not None:
            self.consumer.in_flight -= 1


@dataclass(eq=False)
class Consumer:
    client: Client
    handler: Handler
    prefetch: int
    in_flight: int = 0


@dataclass(eq=False)
class Queue:
    broker: MemoryBroker
    name: str
    arguments: dict[str, Any]
    ready: deque[Envelope] = field(default_factory=deque)
    consumers: list[Consumer] = field(default_factory=list)

    def put(self, envelope: Envelope) -> None:
        ttl = self.arguments.get("x-message-ttl")
        if ttl is not None:
            loop = asyncio.get_running_loop()
            envelope.expires_at = loop.time() + int(ttl) / 1000
            loop.call_later(int(ttl) / 1000, self.broker.expire, self)
        self.ready.append(envelope)

    def give_back(self, envelope: Envelope) -> None:
        """A delivery returned unsettled: redelivered, or dead-lettered past the limit."""
        envelope.delivery_count += 1
        envelope.headers["x-delivery-count"] = envelope.delivery_count
        limit = self.arguments.get("x-delivery-limit")
        if limit is not None and envelope.delivery_count > int(limit):
            self.broker.dead_letter(self, envelope, "delivery_limit")
            return
        self.ready.appendleft(envelope)
        loop = asyncio.get_running_loop()
        if envelope.expires_at is not None and envelope.expires_at <= loop.time():
            loop.call_soon(self.broker.expire, self)

    def deliver(self, client: Client, consumer: Consumer | None = None) -> MemoryMessage:
        envelope = self.ready.popleft()
        redelivered = envelope.delivery_count > 0
        headers = dict(envelope.headers)
        message = MemoryMessage(envelope, self, client, consumer, redelivered, headers)
        client.unsettled.add(message)
        return message


class MemoryBroker:
    """The broker: exchanges, queues and bindings shared by every :class:`Client`."""

    def __init__(self) -> None:
        self.exchanges: dict[str, tuple[str, dict[str, Any]]] = {"": ("direct", {})}
        self.queues: dict[str, Queue] = {}
        self.bindings: list[tuple[str, str, str, dict[str, Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------- declarations

    def declare_exchange(
        self, name: str, kind: str, arguments: Mapping[str, Any] | None = None
    ) -> None:
        if kind not in ("direct", "fanout", "headers", "topic"):
            raise MemoryTransportError(f"exchange type {kind!r}")
        self.exchanges.setdefault(name, (kind, dict(arguments or {})))

    def declare_queue(self, name: str, arguments: Mapping[str, Any] | None = None) -> None:
        self.queues.setdefault(name, Queue(self, name, dict(arguments or {})))

    def bind(self, exchange: str, queue: str, key: str, arguments: Mapping[str, Any]) -> None:
        self._exchange(exchange)
        self.queue(queue)
        binding = (exchange, queue, key, dict(arguments))
        if binding not in self.bindings:
            self.bindings.append(binding)

    def delete_queue(self, name: str) -> None:
        self.queues.pop(name, None)
        self.bindings = [b for b in self.bindings if b[1] != name]

    def queue(self, name: str) -> Queue:
        if name not in self.queues:
            raise NotFound(f"no queue {name!r}")
        return self.queues[name]

    def _exchange(self, name: str) -> tuple[str, dict[str, Any]]:
        if name not in self.exchanges:
            raise NotFound(f"no exchange {name!r}")
        return self.exchanges[name]

    # ----------------------------------------------------------------- routing

    def route(self, exchange: str, envelope: Envelope, keys: list[str]) -> list[Queue]:
        """The queues an exchange sends a message to (following its alternate exchange)."""
        kind, arguments = self._exchange(exchange)
        if exchange == "":
            return [self.queues[k] for k in keys if k in self.queues]
        names: list[str] = []
        for source, queue, key, args in self.bindings:
            if (
                source == exchange
                and queue not in names
                and _matches(kind, key, args, keys, envelope)
            ):
                names.append(queue)
        if not names and "alternate-exchange" in arguments:
            return self.route(str(arguments["alternate-exchange"]), envelope, keys)
        return [self.queues[n] for n in names if n in self.queues]

    def enqueue(
        self, exchange: str, envelope: Envelope, keys: list[str], *, mandatory: bool
    ) -> None:
        targets = self.route(exchange, envelope, keys)
        if not targets and mandatory:
            raise Returned(f"unroutable: {exchange or '(default)'}/{envelope.routing_key}")
        for index, queue in enumerate(targets):
            copy = envelope if index == 0 else _copy(envelope)
            queue.put(copy)
        self.dispatch()

    def dead_letter(self, queue: Queue, envelope: Envelope, reason: str) -> None:
        exchange = queue.arguments.get("x-dead-letter-exchange")
        if exchange is None or exchange not in self.exchanges:
            log.info("memory_bericht_vervallen", queue=queue.name, reden=reason)
            return
        original = [envelope.routing_key]
        death = {
            "queue": queue.name,
            "reason": reason,
            "exchange": envelope.exchange,
            "routing-keys": original,
            "count": 1,
        }
        deaths = [dict(d) for d in envelope.headers.get("x-death") or []]
        for old in deaths:
            if old.get("queue") == queue.name and old.get("reason") == reason:
                death["count"] = int(old.get("count", 0)) + 1
                deaths.remove(old)
                break
        headers = {k: v for k, v in envelope.headers.items() if k != "x-delivery-count"}
        headers["x-death"] = [death, *deaths]
        headers.setdefault("x-first-death-queue", queue.name)
        headers.setdefault("x-first-death-reason", reason)
        headers.setdefault("x-first-death-exchange", envelope.exchange)
        dl_key = queue.arguments.get("x-dead-letter-routing-key")
        keys = [str(dl_key)] if dl_key is not None else original
        dead = Envelope(
            envelope.body,
            headers,
            envelope.user_id,
            envelope.message_id,
            envelope.type,
            envelope.correlation_id,
            exchange=str(exchange),
            routing_key=keys[0],
        )
        self.enqueue(str(exchange), dead, keys, mandatory=False)

    def expire(self, queue: Queue) -> None:
        """Dead-letter the messages at the queue's head whose time-to-live ran out."""
        now = asyncio.get_running_loop().time()
        while queue.ready and (queue.ready[0].expires_at or now + 1) <= now:
            self.dead_letter(queue, queue.ready.popleft(), "expired")
        self.dispatch()

    # ----------------------------------------------------------------- consuming

    def dispatch(self) -> None:
        """Hand ready messages to consumers with room under their prefetch (round robin)."""
        for queue in self.queues.values():
            while queue.ready:
                open_ = [c for c in queue.consumers if c.in_flight < c.prefetch]
                if not open_:
                    break
                consumer = open_[0]
                queue.consumers.remove(consumer)
                queue.consumers.append(consumer)
                message = queue.deliver(consumer.client, consumer)
                consumer.in_flight += 1
                task = asyncio.get_running_loop().create_task(self._run(consumer, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run(self, consumer: Consumer, message: MemoryMessage) -> None:
        try:
            await consumer.handler(message)
        except Exception as exc:  # noqa: BLE001 - as aio-pika: logged, the message stays unacked
            log.error("memory_consumer_fout", queue=message.queue.name, fout=type(exc).__name__)


def _matches(
    kind: str, key: str, args: dict[str, Any], keys: list[str], envelope: Envelope
) -> bool:
    if kind == "fanout":
        return True
    if kind == "direct":
        return key in keys
    if kind == "topic":
        pattern = re.escape(key).replace(r"\#", ".*").replace(r"\*", "[^.]+")
        return any(re.fullmatch(pattern, k) for k in keys)
    wanted = {k: v for k, v in args.items() if not k.startswith("x-")}
    found = [k in envelope.headers and envelope.headers[k] == v for k, v in wanted.items()]
    return any(found) if args.get("x-match") == "any" else all(found)


def _copy(envelope: Envelope) -> Envelope:
    return Envelope(
        envelope.body,
        dict(envelope.headers),
        envelope.user_id,
        envelope.message_id,
        envelope.type,
        envelope.correlation_id,
        envelope.exchange,
        envelope.routing_key,
        envelope.delivery_count,
    )


__all__ = [
    "AccessRefused",
    "Consumer",
    "Envelope",
    "Handler",
    "MemoryBroker",
    "MemoryMessage",
    "MemoryTransportError",
    "NotFound",
    "Queue",
    "Returned",
]
