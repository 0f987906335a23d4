"""Shared fixtures: the codec, the example messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.codec.envelope import MessageCodec
from tests.support.paths import REPO_ROOT

EXAMPLES_DIR = REPO_ROOT / "examples"


@pytest.fixture(scope="session")
def codec() -> MessageCodec:
    """One codec for the whole run (loading the schemas is the expensive part)."""
    return MessageCodec()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def example_bytes(examples_dir: Path) -> Callable[[str], bytes]:
    """``example_bytes("politie/VtMelding.xml")``: the bytes of one example message."""

    def read(rel_path: str) -> bytes:
        return (examples_dir / rel_path).read_bytes()

    return read


# --------------------------------------------------------------------------- the real broker

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import re  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from gateway.runtime import app as gateway_app  # noqa: E402
from gateway.runtime.settings import Settings  # noqa: E402
from gateway.store.database import Database  # noqa: E402
from gateway.store.state import StateStore  # noqa: E402
from gateway.transport.rabbit import Topology  # noqa: E402
from tests.support.broker import (  # noqa: E402
    OINS,
    Partner,
    create_vhost,
    delete_topology,
    delete_vhost,
    new_prefix,
)


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    """A RabbitMQ vhost of this test session, with the partner users (name = OIN)."""
    name = f"kp-test-{uuid.uuid4().hex[:8]}"
    create_vhost(name)
    yield name
    delete_vhost(name)


@pytest.fixture
def settings(vhost: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own prefix, state store and short retry delays."""
    return Settings(
        amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",  # type: ignore[arg-type]
        amqp_prefix=new_prefix(),
        state_dsn=f"sqlite:///{tmp_path / 'state.db'}",
        audit_dsn=f"sqlite:///{tmp_path / 'audit.db'}",
        audit_key_dir=tmp_path / "keys",
        audit_log_id="test",
        retry_delays_ms=(200, 400),
        log_json=True,
        http_enabled=False,  # AMQP-only tests; the HTTPS door has its own fixtures
        ops_port=0,  # any free port: tests run side by side
    )


@dataclass
class Running:
    """A gateway running in this process, with its partners connected."""

    settings: Settings
    topology: Topology
    partners: dict[str, Partner]
    state: StateStore

    def partner(self, name: str) -> Partner:
        return self.partners[name]


@contextlib.asynccontextmanager
async def run_gateway(settings: Settings, vhost: str) -> AsyncIterator[Running]:
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(gateway_app.serve(settings, stop, ready))
    topology = Topology(settings.amqp_prefix, tuple(OINS.values()), settings.retry_delays_ms)
    done, _ = await asyncio.wait(
        [task, asyncio.create_task(ready.wait())], timeout=30, return_when=asyncio.FIRST_COMPLETED
    )
    if task in done:
        task.result()  # it stopped: raise what stopped it
    assert ready.is_set(), "the gateway did not become ready within 30 s"
    partners = {name: Partner(oin, vhost, topology) for name, oin in OINS.items()}
    for p in partners.values():
        await p.connect()
    db = Database(settings.state_dsn)
    state = StateStore(db)
    try:
        yield Running(settings, topology, partners, state)
    finally:
        for p in partners.values():
            await p.close()
        stop.set()
        await task
        db.close()
        await delete_topology(vhost, topology)


@pytest.fixture
async def gateway(settings: Settings, vhost: str) -> AsyncIterator[Running]:
    async with run_gateway(settings, vhost) as running:
        yield running


def fresh(raw: bytes, *, bericht_id: str | None = None, conversatie_id: str | None = None) -> bytes:
    """The message with a new BerichtId (and optionally another ConversatieId)."""
    text = raw.decode()
    text = re.sub(
        r"(<kp:BerichtId>)[^<]+(</kp:BerichtId>)", rf"\g<1>{bericht_id or uuid.uuid4()}\g<2>", text
    )
    if conversatie_id is not None:
        text = re.sub(
            r"(<kp:ConversatieId>)[^<]+(</kp:ConversatieId>)", rf"\g<1>{conversatie_id}\g<2>", text
        )
    return text.encode()


# --------------------------------------------------------------------------- the HTTPS door

import ssl  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from gateway.runtime import certs as gateway_certs  # noqa: E402
from gateway.runtime.officers import Officers  # noqa: E402

UNKNOWN_OIN = "00000099000000000999"  # a valid certificate of the dev CA, not in the register
OFFICER = ("fg-officer", "correct horse battery staple")


@dataclass
class DevPki:
    files: gateway_certs.DevFiles

    def client_cert(self, name: str) -> tuple[str, str]:
        """``name``: a partner name of OINS, an OIN, or "onbekend"."""
        stem = OINS.get(name, name)
        cert, key = self.files.partners[stem]
        return str(cert), str(key)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A development CA with a client certificate per partner (and one unknown OIN)."""
    directory = tmp_path_factory.mktemp("pki")
    return DevPki(
        gateway_certs.dev_ca(
            directory,
            [(oin, name) for name, oin in OINS.items()],
            extra_clients=[("onbekend", UNKNOWN_OIN)],
        )
    )


def https_settings(settings: Settings, pki: DevPki, tmp_path: Path) -> Settings:
    officers = tmp_path / "officers.json"
    Officers(officers).add(*OFFICER)
    return settings.model_copy(
        update={
            "http_enabled": True,
            "http_port": 0,
            "tls_cert_file": pki.files.server_cert,
            "tls_key_file": pki.files.server_key,
            "tls_ca_file": pki.files.ca,
            "tls_crl_file": pki.files.crl,
            "ops_port": 0,
            "officers_file": officers,
        }
    )


@dataclass
class Door:
    """A gateway with its HTTPS door open, partners on AMQP too."""

    running: Running
    port: int
    pki: DevPki
    parts: Any
    asgi: Any  # the FastAPI app
    ops_port: int = 0  # the ops door (health, metrics): plain HTTP

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ops(self) -> httpx.AsyncClient:
        """A client of the ops port (health and metrics; plain HTTP, no certificate)."""
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.ops_port}", timeout=30)

    def client(self, name: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTPS client: with partner ``name``'s certificate, or none (officers)."""
        context = ssl.create_default_context(cafile=str(self.pki.files.ca))
        if name is not None:
            context.load_cert_chain(*self.pki.client_cert(name))
        return httpx.AsyncClient(base_url=self.base_url, verify=context, timeout=30, **kwargs)


@contextlib.asynccontextmanager
async def run_door(settings: Settings, vhost: str) -> AsyncIterator[tuple[Any, Any]]:
    from gateway.web import server  # noqa: PLC0415

    async with server.running(settings) as (parts, door):
        yield parts, door
    await delete_topology(vhost, parts.topology)


@pytest.fixture
async def door(settings: Settings, vhost: str, pki: DevPki, tmp_path: Path) -> AsyncIterator[Door]:
    configured = https_settings(settings, pki, tmp_path)
    async with run_door(configured, vhost) as (parts, server):
        topology = parts.topology
        partners = {name: Partner(oin, vhost, topology) for name, oin in OINS.items()}
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
