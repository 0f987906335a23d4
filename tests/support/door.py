"""The HTTPS door in tests: a development PKI, settings with TLS on, a running door."""

from __future__ import annotations

import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.runtime import certs as gateway_certs
from gateway.runtime.officers import COORDINATOR, Officers
from gateway.runtime.settings import Settings
from tests.support.broker import OINS, delete_topology
from tests.support.gateways import Running

UNKNOWN_OIN = "00000099000000000999"  # a valid certificate of the dev CA, not in the register
OFFICER = ("fg-officer", "correct horse battery staple")
COORDINATOR_LOGIN = ("keten-coordinator", "a chain of horses on time")


@dataclass
class DevPki:
    files: gateway_certs.DevFiles

    def client_cert(self, name: str) -> tuple[str, str]:
        """``name``: a partner name of OINS, an OIN, or "onbekend"."""
        stem = OINS.get(name, name)
        cert, key = self.files.partners[stem]
        return str(cert), str(key)


def dev_pki(directory: Path) -> DevPki:
    """A development CA with a client certificate per partner (and one unknown OIN)."""
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
    Officers(officers).add(*COORDINATOR_LOGIN, COORDINATOR)
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
    from gateway.web import server  # noqa: PLC0415 - the HTTP face loads for the tests that start it

    async with server.running(settings) as (parts, door):
        yield parts, door
    await delete_topology(vhost, parts.topology)


__all__ = [
    "COORDINATOR_LOGIN",
    "OFFICER",
    "UNKNOWN_OIN",
    "DevPki",
    "Door",
    "dev_pki",
    "https_settings",
    "partner_endpoints",
    "run_door",
]


def partner_endpoints() -> list[tuple[str, str]]:
    """(method, path) of every operation of the partner API, with fresh ids."""
    return [
        ("POST", "/v1/berichten"),
        ("GET", "/v1/berichten"),
        ("GET", f"/v1/berichten/{uuid.uuid4()}/status"),
        ("POST", f"/v1/berichten/{uuid.uuid4()}/afleverbevestiging"),
    ]
