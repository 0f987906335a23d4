"""The runtime on a transport it is given: ``app.build``/``serve`` use it instead of RabbitMQ,
refuse one whose topology is not the settings', and the HTTPS inbox leases messages through
the transport's holder.

No RabbitMQ here: the settings point at a port nobody listens on, so a gateway that tried
RabbitMQ would never become ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.domain.errors import Misconfigured
from gateway.runtime import app as gateway_app
from gateway.runtime.inbox import HttpInbox
from gateway.runtime.settings import Settings
from gateway.store.database import Database
from gateway.store.state import StateStore
from gateway.transport.memory import MemoryBroker, MemoryTransport
from gateway.transport.rabbit import SOORT, Topology
from tests.support.broker import OINS
from tests.support.gateways import memory_transport, run_gateway
from tests.support.messages import fresh
from tests.support.partners import drain, inbox_until_answered
from tests.support.settings import local_settings

pytestmark = pytest.mark.memory

NOBODY = "amqp://guest:guest@127.0.0.1:1/none"  # nothing listens on port 1


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return local_settings(
        tmp_path,
        NOBODY,
        amqp_prefix="kp-wiring",
        audit_log_id="wiring",
    )


async def test_the_gateway_runs_on_the_transport_it_is_given(
    offline: Settings, example_bytes: Callable[[str], bytes]
) -> None:
    async with run_gateway(offline, "unused", "memory") as running:
        assert running.memory is not None
        politie = running.partner("politie")
        await politie.send(fresh(example_bytes("politie/VtMelding.xml")))
        own, answers = await inbox_until_answered(politie)
        assert (own, len(answers)) == ([], 1)
        [delivery] = await drain(running.partner("vt-twente"))
        assert delivery.headers[SOORT] == "levering"
        assert delivery.user_id is None  # the gateway publishes as itself, not as the sender
        ingress = running.memory.queue(running.topology.ingress)
        assert not ingress.ready  # acknowledged


def test_a_transport_for_another_topology_is_refused(offline: Settings) -> None:
    other = Topology("kp-other", tuple(OINS.values()), offline.retry_delays_ms)
    with pytest.raises(Misconfigured, match="topology"):
        gateway_app.build(offline, transport=MemoryTransport(MemoryBroker(), other))


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    db = Database(f"sqlite:///{tmp_path / 'inbox-state.db'}")
    yield StateStore(db)
    db.close()


async def test_the_https_inbox_leases_through_the_transports_holder(
    offline: Settings, state: StateStore
) -> None:
    transport = memory_transport(offline)
    await transport.connect()
    await transport.declare()
    vt = OINS["vt-twente"]
    inbox_queue = transport.topology.inbox(vt)
    for n in range(3):
        await transport.publish(
            transport.topology.deliver_exchange,
            vt,
            f"<m{n}/>".encode(),
            message_id=f"id-{n}",
            headers={SOORT: "antwoord"},
        )
    now = [0.0]
    inbox = HttpInbox(transport, state, lease_seconds=30, clock=lambda: now[0])
    held = await inbox.fetch(vt, inbox_queue, limit=2)
    assert [h.bericht_id for h in held] == ["id-0", "id-1"]
    assert await transport.depths([inbox_queue]) == {inbox_queue: 1}
    # fetching again gives the same held messages (a lease, not a take)
    assert [h.bericht_id for h in await inbox.fetch(vt, inbox_queue, limit=2)] == ["id-0", "id-1"]

    released = await inbox.release(vt, "id-0")
    assert released is not None
    assert released.body == b"<m0/>"
    # the lease of id-1 runs out: it goes back to the queue
    now[0] = 31.0
    assert await inbox.reap() == 1
    assert await transport.depths([inbox_queue]) == {inbox_queue: 2}
    again = await inbox.fetch(vt, inbox_queue, limit=10)
    assert sorted(h.bericht_id for h in again) == ["id-1", "id-2"]
    assert all(h.message.redelivered == (h.bericht_id == "id-1") for h in again)
    # closing gives everything held back; nothing of id-0 (confirmed) remains
    await inbox.close()
    assert await transport.depths([inbox_queue]) == {inbox_queue: 2}
    await transport.close()
