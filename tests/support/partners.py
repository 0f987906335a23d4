"""A partner system as the tests play it, on either transport.

:class:`PartnerClient` is what a behaviour test needs of a partner: send to the ingress as the
partner's own user, take one message from its own inbox. :class:`RabbitPartner` does that over
AMQP with the partner's RabbitMQ user (:mod:`tests.support.broker`), :class:`MemoryPartner` on
the in-memory broker with the same permissions. Both raise :class:`SendRefused` when the broker
refuses a publish (another user's ``user_id``, no permission, unroutable).

Reading helpers (:func:`take`, :func:`drain`, :func:`inbox_until_answered`, :func:`split`)
work on any client and wait on progress only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from gateway.transport.memory import Client, MemoryBroker, MemoryTransportError
from gateway.transport.rabbit import SOORT, Topology, partner_permissions
from tests.support.broker import OINS, PASSWORD
from tests.support.waiting import CEILING_S

NAME_OF = {oin: name for name, oin in OINS.items()}


class SendRefused(Exception):  # noqa: N818 - named for what happens to the message
    """The broker refused the partner's publish."""


class PartnerClient(Protocol):
    oin: str
    topology: Topology

    async def connect(self) -> None: ...
    async def send(
        self, raw: bytes, *, user_id: str | None = None, headers: dict[str, Any] | None = None
    ) -> None: ...
    async def get(self) -> Any: ...  # one message of the own inbox (unacknowledged) or None
    async def close(self) -> None: ...


class RabbitPartner:
    """A partner on the real RabbitMQ, as its own user."""

    def __init__(self, oin: str, vhost: str, topology: Topology) -> None:
        self.oin = oin
        self.vhost = vhost
        self.topology = topology
        self.connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None

    @property
    def channel(self) -> AbstractChannel:
        assert self._channel is not None, "not connected"
        return self._channel

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(
            f"amqp://{self.oin}:{PASSWORD}@127.0.0.1:5672/{self.vhost}"
        )
        self._channel = await self.connection.channel(
            publisher_confirms=True, on_return_raises=True
        )

    async def send(
        self, raw: bytes, *, user_id: str | None = None, headers: dict[str, Any] | None = None
    ) -> None:
        try:
            exchange = await self.channel.get_exchange(self.topology.ingress_exchange, ensure=False)
            await exchange.publish(
                aio_pika.Message(
                    raw,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    user_id=user_id or self.oin,
                    headers=headers or {},
                ),
                routing_key="ingress",
                mandatory=True,
            )
        except aio_pika.exceptions.AMQPError as exc:
            raise SendRefused(str(exc)) from exc

    async def get(self) -> Any:
        queue = await self.channel.get_queue(self.topology.inbox(self.oin), ensure=False)
        return await queue.get(no_ack=False, fail=False)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()


@dataclass
class MemoryPartner:
    """A partner on the in-memory broker, with its production permissions."""

    oin: str
    broker: MemoryBroker
    topology: Topology
    client: Client | None = None

    async def connect(self) -> None:
        self.client = Client(self.broker, self.oin, partner_permissions(self.topology, self.oin))

    def _client(self) -> Client:
        assert self.client is not None, "not connected"
        return self.client

    async def send(
        self, raw: bytes, *, user_id: str | None = None, headers: dict[str, Any] | None = None
    ) -> None:
        try:
            self._client().publish(
                self.topology.ingress_exchange,
                "ingress",
                raw,
                user_id=user_id or self.oin,
                headers=headers,
            )
        except MemoryTransportError as exc:
            raise SendRefused(str(exc)) from exc

    async def get(self) -> Any:
        return self._client().get(self.topology.inbox(self.oin))

    async def close(self) -> None:
        if self.client is not None:
            self.client.close()


# --------------------------------------------------------------------------- reading inboxes


def split(messages: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """(deliveries of partner messages, answers of the gateway)."""
    deliveries: list[Any] = []
    answers: list[Any] = []
    for m in messages:
        soort = (m.headers or {}).get(SOORT)
        (answers if soort == "antwoord" else deliveries).append(m)
    return deliveries, answers


async def take(partner: PartnerClient, count: int, *, ceiling: float = CEILING_S) -> list[Any]:
    """Wait until ``count`` messages arrived in the partner's inbox (each acknowledged)."""
    deadline = time.monotonic() + ceiling
    taken: list[Any] = []
    while len(taken) < count:
        message = await partner.get()
        if message is None:
            if time.monotonic() > deadline:
                name = NAME_OF.get(partner.oin, partner.oin)
                raise AssertionError(f"{name}: {len(taken)} of {count} messages after {ceiling} s")
            await asyncio.sleep(0.01)
            continue
        await message.ack()
        taken.append(message)
    return taken


async def drain(partner: PartnerClient) -> list[Any]:
    """Everything in the partner's inbox right now (no waiting), acknowledged."""
    taken: list[Any] = []
    while (message := await partner.get()) is not None:
        await message.ack()
        taken.append(message)
    return taken


async def inbox_until_answered(
    partner: PartnerClient, answers: int = 1
) -> tuple[list[Any], list[Any]]:
    """(deliveries, answers) of the partner's inbox, read until ``answers`` answers arrived.

    The gateway publishes every delivery of a message (confirmed) before it answers the
    sender: once the answer is there, every inbox holds all it will get for that message.
    """
    deliveries: list[Any] = []
    got: list[Any] = []
    while len(got) < answers:
        d, a = split(await take(partner, 1))
        deliveries += d
        got += a
    return deliveries, got


async def read_until_quiet(partner: PartnerClient, quiet: float) -> list[Any]:
    """Everything in the inbox until nothing arrived for ``quiet`` seconds, acknowledged.

    Only for observing that nothing more comes (late deliveries after a hostile run), where
    there is no answer to wait for; a slow machine can make it miss a late message, never
    fail a correct gateway.
    """
    taken: list[Any] = []
    last = time.monotonic()
    while time.monotonic() - last < quiet:
        message = await partner.get()
        if message is None:
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        taken.append(message)
        last = time.monotonic()
    return taken


__all__ = [
    "NAME_OF",
    "MemoryPartner",
    "PartnerClient",
    "RabbitPartner",
    "SendRefused",
    "drain",
    "inbox_until_answered",
    "read_until_quiet",
    "split",
    "take",
]
