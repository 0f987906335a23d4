"""What an operator does by command, each with its own connection and audit log
(``<id>-beheer``): a message's delivery status, the dead-letter queues (list, replay) and the
ops queue, which holds what no binding took (an unknown routing key on the ingress exchange,
a delivery to a missing inbox) and what the gateway set aside (no ``user_id``, a user outside
the register). Metadata only: the payloads hold personal data."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

from gateway.domain.errors import Misconfigured
from gateway.runtime.app import Parts, build, connect
from gateway.runtime.settings import Settings, masked
from gateway.store.database import Database
from gateway.store.normen import NormRij, NormStore
from gateway.store.state import Bekend, StateStore
from gateway.transport.rabbit import AFZENDER, POGING, REDEN


@contextlib.contextmanager
def _state_db(settings: Settings, table: str) -> Iterator[Database]:
    """The state store, read by a command: :class:`Misconfigured` when the configured DSN
    holds no ``table`` (a wrong DSN or folder; nothing is created there)."""
    db = Database(settings.state_dsn)
    try:
        if not db.holds(table):
            where = masked("state_dsn", settings.state_dsn)
            raise Misconfigured(f"no state store at {where} (KETENPOORT_STATE_DSN)")
        yield db
    finally:
        db.close()


async def delivery_status(settings: Settings, afzender_oin: str, bericht_id: str) -> Bekend | None:
    """The delivery status of one message, for its sender only (keyed by the sender's OIN)."""
    with _state_db(settings, StateStore.TABLE) as db:
        return await StateStore(db, dedup_days=settings.dedup_days).lookup(afzender_oin, bericht_id)


async def overdue_norms(settings: Settings, now: dt.datetime) -> list[NormRij]:
    """The chain's steps still open after their norm deadline at ``now`` (spec v2 §10)."""
    with _state_db(settings, NormStore.TABLE) as db:
        return await NormStore(db).overdue(now)


# --------------------------------------------------------------------------- dead letters


@contextlib.asynccontextmanager
async def maintenance(settings: Settings) -> AsyncIterator[Parts]:
    """The parts for an operator's command, with an audit log of its own (``<id>-beheer``),
    connected to RabbitMQ; closed afterwards."""
    parts = build(settings, log_id=f"{settings.audit_log_id}-beheer")
    try:
        await connect(parts.broker, attempts=3)
        yield parts
    finally:
        await parts.broker.close()
        await parts.audit.close()
        parts.close_stores()


async def peek(parts: Parts, queue: str) -> list[Any]:
    """The messages waiting in ``queue``, put back unchanged (an operator looks, takes nothing)."""
    messages = await parts.broker.take(queue)
    for message in messages:
        await message.nack(requeue=True)
    return messages


async def dlq_list(settings: Settings) -> list[dict[str, Any]]:
    """Every dead-lettered message: metadata only (the payload holds personal data)."""
    found: list[dict[str, Any]] = []
    async with maintenance(settings) as parts:
        for oin in parts.topology.oins:
            for message in await peek(parts, parts.topology.dlq(oin)):
                headers = message.headers or {}
                found.append(
                    {
                        "ontvanger": oin,
                        "bericht_id": message.message_id,
                        "berichttype": message.type,
                        "afzender": headers.get(AFZENDER),
                        "pogingen": int(headers.get(POGING) or 0) + 1,
                        "reden": headers.get(REDEN),
                        "bytes": len(message.body),
                    }
                )
    return found


async def dlq_replay(
    settings: Settings, *, ontvanger: str | None = None, bericht_id: str | None = None
) -> list[dict[str, Any]]:
    """Put dead-lettered messages back in their inbox (a fresh round of attempts)."""
    replayed: list[dict[str, Any]] = []
    async with maintenance(settings) as parts:
        for oin in parts.topology.oins:
            if ontvanger is not None and oin != ontvanger:
                continue
            for message in await parts.broker.take(parts.topology.dlq(oin)):
                if bericht_id is not None and message.message_id != bericht_id:
                    await message.nack(requeue=True)
                    continue
                await parts.bounces.replay(oin, message)
                replayed.append({"ontvanger": oin, "bericht_id": message.message_id})
    return replayed


async def ops_list(settings: Settings) -> list[dict[str, Any]]:
    """Every message in the ops queue (looked at, put back: nothing is taken away)."""
    found: list[dict[str, Any]] = []
    async with maintenance(settings) as parts:
        for message in await peek(parts, parts.topology.ops):
            headers = message.headers or {}
            found.append(
                {
                    # unknown routing key / missing inbox: the broker's; else the gateway's
                    "reden": headers.get(REDEN) or "niet-routeerbaar",
                    "exchange": message.exchange,
                    "routing_key": message.routing_key,
                    "user": message.user_id or headers.get(AFZENDER),
                    "bericht_id": message.message_id,
                    "type": message.type,
                    "bytes": len(message.body),
                }
            )
    return found


__all__ = [
    "delivery_status",
    "dlq_list",
    "dlq_replay",
    "maintenance",
    "ops_list",
    "peek",
]
