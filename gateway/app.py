"""Wiring: every collaborator is built here, once, from the settings (and nowhere else)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from gateway.envelope import MessageCodec
from gateway.errors import Transient
from gateway.logs import get_logger
from gateway.policy import Policy, load_policy
from gateway.routing import Router
from gateway.service import AFZENDER, POGING, Gateway
from gateway.settings import Settings
from gateway.state import Database, StateStore
from gateway.transport import Broker, Topology

log = get_logger("ketenpoort.app")

PURGE_INTERVAL_S = 3600


@dataclass
class Parts:
    settings: Settings
    policy: Policy
    codec: MessageCodec
    db: Database
    state: StateStore
    topology: Topology
    broker: Broker
    gateway: Gateway


def build(settings: Settings) -> Parts:
    """Build every part; a broken policy or schema raises Misconfigured (refuse to start)."""
    policy = load_policy(settings.policy_dir)
    codec = MessageCodec(
        settings.schema_dir, max_bytes=settings.max_bytes, max_depth=settings.max_depth
    )
    db = Database(settings.state_dsn)
    state = StateStore(db, dedup_days=settings.dedup_days)
    topology = Topology(settings.amqp_prefix, tuple(policy.partners), settings.retry_delays_ms)
    broker = Broker(settings.amqp_url.get_secret_value(), topology, prefetch=settings.prefetch)
    gateway = Gateway(
        codec=codec,
        router=Router(policy, state),
        broker=broker,
        state=state,
        gateway_oin=settings.gateway_oin,
        retry_delays_ms=settings.retry_delays_ms,
    )
    return Parts(settings, policy, codec, db, state, topology, broker, gateway)


async def connect(broker: Broker, *, attempts: int | None = None) -> None:
    """Connect and declare the topology, retrying while the broker is away."""
    delay = 0.5
    tried = 0
    while True:
        try:
            await broker.connect()
            await broker.declare()
            return
        except Transient as exc:
            tried += 1
            if attempts is not None and tried >= attempts:
                raise
            log.warning("broker_onbereikbaar", reden=str(exc), opnieuw_over_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


async def serve(
    settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Run the gateway until ``stop`` is set; then finish what is in flight and close.

    ``ready`` is set once the topology is declared and the consumers run.
    """
    parts = build(settings)
    await connect(parts.broker)
    await parts.broker.consume(parts.topology.ingress, parts.gateway.on_ingress)
    await parts.broker.consume(parts.topology.bounced, parts.gateway.on_bounced)
    log.info(
        "gateway_gestart",
        policy=parts.policy.versie,
        partners=len(parts.policy.partners),
        prefix=settings.amqp_prefix,
    )
    if ready is not None:
        ready.set()
    housekeeping = asyncio.create_task(_purge_now_and_then(parts.state))
    try:
        await stop.wait()
    finally:
        log.info("gateway_stopt")
        housekeeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await housekeeping
        await parts.broker.stop_consuming()
        await parts.gateway.drain()
        await parts.broker.close()
        parts.db.close()
        log.info("gateway_gestopt")


async def _purge_now_and_then(state: StateStore) -> None:
    while True:
        try:
            forgotten = await state.purge()
            if forgotten:
                log.info("toestand_opgeruimd", berichten=forgotten)
        except Transient as exc:
            log.warning("opruimen_mislukt", reden=str(exc))
        await asyncio.sleep(PURGE_INTERVAL_S)


# --------------------------------------------------------------------------- dead letters


async def dlq_list(settings: Settings) -> list[dict[str, Any]]:
    """Every dead-lettered message: metadata only (the payload holds personal data)."""
    parts = build(settings)
    await connect(parts.broker, attempts=3)
    found: list[dict[str, Any]] = []
    try:
        for oin in parts.topology.oins:
            messages = await parts.broker.take(parts.topology.dlq(oin))
            for message in messages:
                headers = message.headers or {}
                found.append(
                    {
                        "ontvanger": oin,
                        "bericht_id": message.message_id,
                        "berichttype": message.type,
                        "afzender": headers.get(AFZENDER),
                        "pogingen": int(headers.get(POGING) or 0) + 1,  # type: ignore[arg-type]
                        "reden": headers.get("ketenpoort-reden"),
                        "bytes": len(message.body),
                    }
                )
            for message in messages:
                await message.nack(requeue=True)
    finally:
        await parts.broker.close()
        parts.db.close()
    return found


async def dlq_replay(
    settings: Settings, *, ontvanger: str | None = None, bericht_id: str | None = None
) -> list[dict[str, Any]]:
    """Put dead-lettered messages back in their inbox (a fresh round of attempts)."""
    parts = build(settings)
    await connect(parts.broker, attempts=3)
    replayed: list[dict[str, Any]] = []
    try:
        for oin in parts.topology.oins:
            if ontvanger is not None and oin != ontvanger:
                continue
            for message in await parts.broker.take(parts.topology.dlq(oin)):
                if bericht_id is not None and message.message_id != bericht_id:
                    await message.nack(requeue=True)
                    continue
                headers = dict(message.headers or {})
                headers.pop("ketenpoort-reden", None)
                headers[POGING] = 0
                await parts.broker.publish(
                    parts.topology.deliver_exchange,
                    oin,
                    message.body,
                    message_id=message.message_id,
                    type_=message.type,
                    correlation_id=message.correlation_id,
                    headers=headers,
                )
                await message.ack()
                afzender = str(headers.get(AFZENDER, ""))
                await parts.state.replayed(afzender, message.message_id or "", oin)
                log.info("bericht_opnieuw_aangeboden", bericht_id=message.message_id, ontvanger=oin)
                replayed.append({"ontvanger": oin, "bericht_id": message.message_id})
    finally:
        await parts.broker.close()
        parts.db.close()
    return replayed
