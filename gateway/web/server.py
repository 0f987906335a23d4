"""Serving the doors with uvicorn: the partner port (TLS per ``gateway.web.tls``, optional
client certificates, the verified one handed to the app as the ASGI TLS extension
``scope["extensions"]["tls"]["client_cert_chain"]`` (PEM), which uvicorn does not do itself),
and the ops port (``gateway.web.ops``: health and metrics, plain HTTP).

``serve`` runs the whole gateway: AMQP consumers and both doors in one process. On stop, the
partner door closes first (no new requests), then the ops door, then the AMQP side drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.domain.errors import Misconfigured
from gateway.observe.logs import get_logger
from gateway.runtime import app as core
from gateway.runtime.settings import Settings
from gateway.web.api import create_app
from gateway.web.ops import create_ops_app
from gateway.web.tls import ServerTls

__all__ = ["Door", "Doors", "TlsHttpProtocol", "config", "ops_config", "running", "serve", "tls_of"]

log = get_logger("ketenpoort.web")

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Fast
except ImportError:  # httptools not installed: h11 only
    _Fast = H11Protocol  # type: ignore[assignment,misc] # the same interface, another class


def _with_tls(base: type[Any]) -> type[Any]:
    class TlsProtocol(base):  # type: ignore[misc] # a base chosen at run time
        """Adds the ASGI TLS extension to every request of the connection."""

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is None:
                return
            der = ssl_object.getpeercert(binary_form=True)
            tls = {
                "tls_version": ssl_object.version(),
                "cipher_suite": (ssl_object.cipher() or (None,))[0],
                "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
            }
            inner: Any = self.app  # type: ignore[has-type] # set by uvicorn's base class

            async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})["tls"] = tls
                await inner(scope, receive, send)

            self.app = app

    TlsProtocol.__name__ = f"Tls{base.__name__}"
    return TlsProtocol


TlsHttpProtocol = _with_tls(_Fast)


def tls_of(settings: Settings, parts: core.Parts) -> ServerTls:
    s = settings
    if s.tls_cert_file is None or s.tls_key_file is None or s.tls_ca_file is None:
        raise Misconfigured(
            "the HTTPS door needs tls_cert_file, tls_key_file and tls_ca_file "
            "(`ketenpoort certs dev DIR` makes development ones), or http_enabled=false"
        )
    for path in (s.tls_cert_file, s.tls_key_file, s.tls_ca_file):
        if not path.is_file():
            raise Misconfigured(f"TLS file {path} does not exist")

    def refused(alert: str) -> None:
        parts.metrics.tls_refused.labels(alert).inc()
        log.warning("tls_handshake_geweigerd", reden=alert)

    return ServerTls(s.tls_cert_file, s.tls_key_file, s.tls_ca_file, s.tls_crl_file, refused)


class _TlsConfig(uvicorn.Config):
    """uvicorn's config with our own SSL context (``gateway.web.tls``) instead of its own."""

    def __init__(self, asgi: Any, tls: ServerTls, **kwargs: Any) -> None:
        super().__init__(asgi, **kwargs)
        self.tls = tls

    def load(self) -> None:
        super().load()
        self.ssl = self.tls.context


def config(settings: Settings, asgi: Any, tls: ServerTls) -> uvicorn.Config:
    s = settings
    return _TlsConfig(
        asgi,
        tls,
        host=s.http_host,
        port=s.http_port,
        http=TlsHttpProtocol,
        ssl_certfile=str(tls.cert),  # uvicorn's own context is replaced (_TlsConfig.load)
        ssl_keyfile=str(tls.key),
        access_log=False,  # our own events (no query strings: they could hold a BSN)
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
        lifespan="off",
    )


def ops_config(settings: Settings, asgi: Any) -> uvicorn.Config:
    return uvicorn.Config(
        asgi,
        host=settings.ops_host,
        port=settings.ops_port,
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=5,
        lifespan="off",
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process's stop event rules."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Door:
    """One uvicorn server of a running gateway (the partner port or the ops port)."""

    def __init__(self, name: str, server_config: uvicorn.Config) -> None:
        self.name = name
        self.server = _Server(server_config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        for server in self.server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError(f"the {self.name} door is not listening")

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raise why it stopped
                raise Misconfigured(f"the {self.name} door did not start")
            await asyncio.sleep(0.02)
        log.info("door_gestart", door=self.name, port=self.port)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        log.info("door_gestopt", door=self.name)


@dataclass(frozen=True)
class Doors:
    """The open doors of a running gateway (None: switched off)."""

    https: Door | None
    ops: Door | None

    @property
    def partner_port(self) -> int:
        """The partner port actually bound (the HTTPS door must be on)."""
        if self.https is None:
            raise RuntimeError("the HTTPS door is switched off (http_enabled=false)")
        return self.https.port

    @property
    def ops_port(self) -> int:
        """The ops port actually bound (the ops door must be on)."""
        if self.ops is None:
            raise RuntimeError("the ops door is switched off (ops_enabled=false)")
        return self.ops.port

    @property
    def partner_app(self) -> Any:
        """The partner port's ASGI app (FastAPI)."""
        if self.https is None:
            raise RuntimeError("the HTTPS door is switched off (http_enabled=false)")
        return self.https.server.config.app


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[core.Parts, Doors]]:
    """The whole gateway: AMQP, the partner port and the ops port (unless switched off)."""
    async with core.running(settings) as parts:
        https = (
            Door("https", config(settings, create_app(parts), tls_of(settings, parts)))
            if settings.http_enabled
            else None
        )
        ops = (
            Door("ops", ops_config(settings, create_ops_app(parts)))
            if settings.ops_enabled
            else None
        )
        started: list[Door] = []
        try:
            for door in (ops, https):
                if door is not None:
                    await door.start()
                    started.append(door)
            yield parts, Doors(https, ops)
        finally:
            for door in reversed(started):
                await door.stop()


async def serve(
    settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Run until ``stop`` is set; ``ready`` is set when every door is open."""
    async with running(settings):
        if ready is not None:
            ready.set()
        await stop.wait()
