"""Shared fixtures (fixtures only: helpers live in ``tests/support/``).

``transport``: "rabbitmq" unless a module parametrises it with
:data:`tests.support.gateways.ON_BOTH_TRANSPORTS`; the ``gateway`` fixture runs on that
transport. The memory variant needs no RabbitMQ (no vhost is made for it).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.runtime.settings import Settings
from tests.support import catalogue
from tests.support.broker import (
    OINS,
    create_vhost,
    delete_stale_vhosts,
    delete_vhost_if_possible,
    session_vhost,
)
from tests.support.door import DevPki, Door, dev_pki, https_settings, run_door
from tests.support.gateways import Running, run_gateway
from tests.support.partners import PartnerClient, RabbitPartner
from tests.support.paths import EXAMPLES_DIR
from tests.support.settings import local_settings


@pytest.fixture(scope="session")
def codec() -> MessageCodec:
    """One codec for the whole run (loading the schemas is the expensive part)."""
    return catalogue.CODEC


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def example_bytes(examples_dir: Path) -> Callable[[str], bytes]:
    """``example_bytes("politie/VtMelding.xml")``: the bytes of one example message."""

    def read(rel_path: str) -> bytes:
        return (examples_dir / rel_path).read_bytes()

    return read


# --------------------------------------------------------------------------- the broker


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    """A RabbitMQ vhost of this test session, with the partner users (name = OIN)."""
    try:
        delete_stale_vhosts()
    except RuntimeError as exc:  # the broker's to clean up later; not this session's failure
        warnings.warn(f"stale test vhosts not deleted: {exc}", stacklevel=1)
    name = session_vhost()
    create_vhost(name)
    yield name
    delete_vhost_if_possible(name)


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> str:
    """The transport the ``gateway`` fixture runs on (parametrise indirectly for both)."""
    return str(getattr(request, "param", "rabbitmq"))


@pytest.fixture
def settings(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one test: its own prefix, state store and short retry delays."""
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    return local_settings(
        tmp_path,
        f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        ops_port=0,  # any free port: tests run side by side
    )


@pytest.fixture
async def gateway(
    settings: Settings, transport: str, request: pytest.FixtureRequest
) -> AsyncIterator[Running]:
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    async with run_gateway(settings, vhost, transport) as running:
        yield running


# --------------------------------------------------------------------------- the HTTPS door


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A development CA with a client certificate per partner (and one unknown OIN)."""
    return dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def door(settings: Settings, vhost: str, pki: DevPki, tmp_path: Path) -> AsyncIterator[Door]:
    configured = https_settings(settings, pki, tmp_path)
    async with run_door(configured, vhost) as (parts, server):
        topology = parts.topology
        partners: dict[str, PartnerClient] = {
            name: RabbitPartner(oin, vhost, topology) for name, oin in OINS.items()
        }
        for p in partners.values():
            await p.connect()
        try:
            yield Door(
                Running(configured, topology, partners, parts.state),
                server.partner_port,
                pki,
                parts,
                server.partner_app,
                server.ops_port,
            )
        finally:
            for p in partners.values():
                await p.close()
