"""A partner's inbox read over HTTPS: messages are leased, not taken.

``GET /v1/berichten`` fetches messages from the partner's inbox queue without acknowledging
them and holds them for ``lease_seconds``. The recipient confirms each one (``POST
/v1/berichten/{id}/afleverbevestiging``); only then is the message acknowledged and gone from
the broker (data minimisation: a payload lives until it is delivered and confirmed). A lease
that runs out puts the message back in the queue, so a recipient that crashed after a GET
loses nothing; a message the recipient confirmed through another gateway replica is dropped
instead (the delivery state says so).

The held messages live on this process's own holder (on RabbitMQ an AMQP channel of its own):
if the process dies, the broker returns them to the queue by itself.

A message re-published after a gateway crash (header ``ketenpoort-herhaald``) is a possible
duplicate: when this recipient already confirmed it, or this process already holds a message
with the same id, the copy is dropped, so an HTTPS recipient sees each message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika

from gateway.domain.errors import Transient
from gateway.observe.logs import get_logger
from gateway.store.state import StateStore, Status
from gateway.transport.memory import MemoryTransportError
from gateway.transport.port import Holder, Transport
from gateway.transport.rabbit import AFZENDER, HERHAALD, POGING, SOORT

__all__ = ["Held", "HttpInbox"]

log = get_logger("ketenpoort.inbox")


@dataclass
class Held:
    """One message handed to its recipient and not yet confirmed."""

    message: Any  # an IncomingMessage of the transport
    bericht_id: str
    soort: str  # "levering" (a partner's message) or "antwoord" (the gateway's)
    afzender: str
    berichttype: str
    poging: int
    herhaald: bool
    held_since: float  # on the inbox's clock
    first_seen: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def body(self) -> bytes:
        return bytes(self.message.body)


class HttpInbox:
    """Leases on the inbox queues, for the HTTPS door."""

    def __init__(
        self,
        broker: Transport,
        state: StateStore,
        *,
        lease_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.broker = broker
        self.state = state
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._channel: Holder | None = None
        self._held: dict[str, dict[str, Held]] = {}  # recipient OIN -> id -> held
        self._locks: dict[str, asyncio.Lock] = {}
        self._reaper: asyncio.Task[None] | None = None

    def _lock(self, oin: str) -> asyncio.Lock:
        return self._locks.setdefault(oin, asyncio.Lock())

    async def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_forever())

    async def close(self) -> None:
        """Give every held message back (the recipient fetches it again)."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for oin in list(self._held):
            for held in list(self._held[oin].values()):
                with contextlib.suppress(Exception):
                    await held.message.nack(requeue=True)
        self._held.clear()
        if self._channel is not None and not self._channel.is_closed:
            with contextlib.suppress(Exception):
                await self._channel.close()
        self._channel = None

    async def _channel_open(self) -> Holder:
        if self._channel is None or self._channel.is_closed:
            # a new holder: whatever the old one held went back to the queue with it
            for held in self._held.values():
                held.clear()
            self._channel = await self.broker.open_holder()
        return self._channel

    def held(self, oin: str) -> list[Held]:
        return sorted(self._held.get(oin, {}).values(), key=lambda h: h.held_since)

    async def fetch(self, oin: str, queue_name: str, limit: int) -> list[Held]:
        """Held messages plus new ones from the queue, oldest first, at most ``limit``."""
        async with self._lock(oin):
            try:
                channel = await self._channel_open()
                holding = self._held.setdefault(oin, {})
                while len(holding) < limit:
                    message = await channel.get(queue_name)
                    if message is None:
                        break
                    held = _held(message, self.clock())
                    if await self._duplicate(oin, held, holding):
                        await message.ack()
                        log.info(
                            "inbox_dubbel_overgeslagen", ontvanger=oin, bericht_id=held.bericht_id
                        )
                        continue
                    holding[held.bericht_id] = held
            except (
                aio_pika.exceptions.AMQPError,
                MemoryTransportError,
                ConnectionError,
                OSError,
            ) as exc:
                raise Transient(f"inbox of {oin}: {type(exc).__name__}") from exc
            return self.held(oin)[:limit]

    async def _duplicate(self, oin: str, held: Held, holding: dict[str, Held]) -> bool:
        if held.bericht_id in holding:
            return True
        return await self._confirmed(oin, held)

    async def _confirmed(self, oin: str, held: Held) -> bool:
        """The recipient confirmed this delivery (here or through another replica)."""
        if held.soort != "levering":
            return False
        status = (await self.state.addressed_to(oin, held.bericht_id)).get(held.afzender)
        return status is Status.AFGELEVERD

    def find(self, oin: str, bericht_id: str) -> Held | None:
        return self._held.get(oin, {}).get(bericht_id)

    async def release(self, oin: str, bericht_id: str) -> Held | None:
        """The recipient confirmed the message: acknowledge it (gone from the broker)."""
        async with self._lock(oin):
            held = self._held.get(oin, {}).pop(bericht_id, None)
            if held is not None:
                try:
                    await held.message.ack()
                except (
                    aio_pika.exceptions.AMQPError,
                    MemoryTransportError,
                    ConnectionError,
                ) as exc:
                    # the channel went away: the message is back in the queue and will be
                    # dropped at the next fetch because its state says it was confirmed
                    log.warning("inbox_ack_mislukt", ontvanger=oin, reden=type(exc).__name__)
            return held

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.lease_seconds / 2))
            with contextlib.suppress(Exception):
                await self.reap()

    async def reap(self) -> int:
        """Return every message whose lease ran out (or drop it if it was confirmed)."""
        returned = 0
        now = self.clock()
        for oin in list(self._held):
            async with self._lock(oin):
                for bericht_id, held in list(self._held[oin].items()):
                    if now - held.held_since < self.lease_seconds:
                        continue
                    del self._held[oin][bericht_id]
                    if await self._confirmed(oin, held):
                        await held.message.ack()
                    else:
                        await held.message.nack(requeue=True)
                        returned += 1
                        log.info("inbox_lease_verlopen", ontvanger=oin, bericht_id=bericht_id)
        return returned


def _held(message: Any, now: float) -> Held:
    headers = message.headers or {}
    return Held(
        message=message,
        bericht_id=message.message_id or "",
        soort=str(headers.get(SOORT, "levering")),
        afzender=str(headers.get(AFZENDER, "")),
        berichttype=message.type or "",
        poging=int(headers.get(POGING) or 0),
        herhaald=bool(headers.get(HERHAALD, False)),
        held_since=now,
    )
