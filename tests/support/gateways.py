"""A gateway running in this process on either transport, with its partners connected.

``transport="rabbitmq"``: the real broker on 127.0.0.1:5672 (the session's vhost, the partners'
own RabbitMQ users); ``transport="memory"``: a fresh :class:`MemoryBroker` of this gateway,
partners with their production permissions on it. Behaviour suites run on both; RabbitMQ
stays the proof.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.audit.reading import AuditReader
from gateway.audit.signing import Keyring
from gateway.runtime import app as gateway_app
from gateway.runtime.settings import Settings
from gateway.store.database import Database
from gateway.store.state import StateStore
from gateway.transport.memory import MemoryBroker, MemoryTransport
from gateway.transport.rabbit import Topology
from tests.support.broker import OINS, add_partners, delete_topology
from tests.support.partners import MemoryPartner, PartnerClient, RabbitPartner
from tests.support.waiting import CEILING_S

TRANSPORTS = ("rabbitmq", "memory")


def capture_parts(monkeypatch: pytest.MonkeyPatch) -> list[gateway_app.Parts]:
    """The parts of every gateway built in this process from now on (wiring and all), to
    reach inside one a test starts: filled as :func:`gateway_app.build` runs."""
    built: list[gateway_app.Parts] = []
    build = gateway_app.build

    def capture(s: Settings, **kwargs: Any) -> gateway_app.Parts:
        parts = build(s, **kwargs)
        built.append(parts)
        return parts

    monkeypatch.setattr(gateway_app, "build", capture)
    return built


# A behaviour suite's ``pytestmark``: every test once per transport (the ``transport``
# fixture, indirectly); the RabbitMQ variant carries the ``broker`` marker, the memory one
# ``memory``.
ON_BOTH_TRANSPORTS = pytest.mark.parametrize(
    "transport",
    [
        pytest.param("rabbitmq", marks=pytest.mark.broker),
        pytest.param("memory", marks=pytest.mark.memory),
    ],
    indirect=True,
)


@dataclass
class Running:
    """A gateway running in this process, with its partners connected."""

    settings: Settings
    topology: Topology
    partners: dict[str, PartnerClient]
    state: StateStore
    transport: str = "rabbitmq"
    memory: MemoryBroker | None = None  # the in-memory broker, on that transport

    def partner(self, name: str) -> PartnerClient:
        return self.partners[name]

    def connect_another(self, name: str) -> PartnerClient:
        """A second client of partner ``name`` (not connected yet), on the same transport."""
        oin = OINS[name]
        if self.memory is not None:
            return MemoryPartner(oin, self.memory, self.topology)
        return RabbitPartner(oin, vhost_of(self.settings), self.topology)


async def audit_step(gateway: Running, bericht_id: str, gebeurtenis: str) -> list[dict[str, Any]]:
    """The audit records of one step of a message in the running gateway's store: each
    public part, with its personal part under ``personal``. Polled: the store may commit its
    group a moment after the sender's answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CEILING_S
    while True:
        db = Database(gateway.settings.audit_dsn)
        try:
            reader = AuditReader(db, Keyring(gateway.settings.audit_key_dir))
            found = [
                {**r.public, "personal": r.personal}
                for r in await reader.journey(bericht_id)
                if r.public.get("gebeurtenis") == gebeurtenis
            ]
        finally:
            db.close()
        if found or loop.time() > deadline:
            return found
        await asyncio.sleep(0.1)


def vhost_of(settings: Settings) -> str:
    """The RabbitMQ vhost of the settings' AMQP URL."""
    return settings.amqp_url.get_secret_value().rsplit("/", 1)[1]


def memory_transport(settings: Settings) -> MemoryTransport:
    """The in-memory transport for the topology these settings and their policy describe."""
    _, policy = gateway_app.catalogue(settings)  # the gateway's own (built once per content)
    oins = tuple(policy.partners)
    topology = Topology(settings.amqp_prefix, oins, settings.retry_delays_ms)
    return MemoryTransport(MemoryBroker(), topology, prefetch=settings.prefetch)


@contextlib.asynccontextmanager
async def run_gateway(
    settings: Settings, vhost: str, transport: str = "rabbitmq"
) -> AsyncIterator[Running]:
    assert transport in TRANSPORTS, transport
    memory = memory_transport(settings) if transport == "memory" else None
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(gateway_app.serve(settings, stop, ready, transport=memory))
    topology = Topology(settings.amqp_prefix, tuple(OINS.values()), settings.retry_delays_ms)
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], timeout=CEILING_S, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # it stopped: raise what stopped it
        raise AssertionError("the gateway stopped before it was ready")
    assert ready.is_set(), f"the gateway did not become ready within {CEILING_S} s"
    partners: dict[str, PartnerClient] = {
        name: (
            MemoryPartner(oin, memory.broker, topology)
            if memory is not None
            else RabbitPartner(oin, vhost, topology)
        )
        for name, oin in OINS.items()
    }
    for p in partners.values():
        await p.connect()
    db = Database(settings.state_dsn)
    state = StateStore(db)
    try:
        broker = memory.broker if memory is not None else None
        yield Running(settings, topology, partners, state, transport, broker)
    finally:
        for p in partners.values():
            await p.close()
        stop.set()
        await task
        db.close()
        if memory is None:
            await delete_topology(vhost, topology)


@contextlib.asynccontextmanager
async def partners_with(
    settings: Settings, vhost: str, extra: dict[str, str]
) -> AsyncIterator[dict[str, PartnerClient]]:
    """A gateway on RabbitMQ with the test partners' clients and, connected too, those of
    ``extra`` (name -> OIN: partners of the default policy beyond the test partners, such as
    v2 §2's, with their RabbitMQ users as ``ketenpoort partner add`` gives them)."""
    add_partners(vhost, extra.values())
    topology = Topology(
        settings.amqp_prefix, (*OINS.values(), *extra.values()), settings.retry_delays_ms
    )
    clients = {name: RabbitPartner(oin, vhost, topology) for name, oin in extra.items()}
    try:
        async with run_gateway(settings, vhost) as running:
            for client in clients.values():
                await client.connect()
            yield {**running.partners, **clients}
    finally:
        for client in clients.values():
            await client.close()
        await delete_topology(vhost, topology)


__all__ = [
    "ON_BOTH_TRANSPORTS",
    "TRANSPORTS",
    "Running",
    "audit_step",
    "capture_parts",
    "memory_transport",
    "partners_with",
    "run_gateway",
    "vhost_of",
]
