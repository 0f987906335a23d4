"""Serving the HTTPS door with uvicorn: TLS with optional client certificates, and the
verified client certificate handed to the app as the ASGI TLS extension
(``scope["extensions"]["tls"]["client_cert_chain"]``, PEM), which uvicorn does not do itself.

``serve`` runs the whole gateway: AMQP consumers and the HTTPS door in one process. On stop,
the door closes first (no new requests), then the AMQP side drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.domain.errors import Misconfigured
from gateway.observe.logs import get_logger
from gateway.runtime import app as core
from gateway.runtime.settings import Settings
from gateway.web.api import create_app

log = get_logger("ketenpoort.web")

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Fast
except ImportError:  # httptools not installed: h11 only
    _Fast = H11Protocol  # type: ignore[assignment,misc]


def _with_tls(base: type[Any]) -> type[Any]:
    class TlsProtocol(base):  # type: ignore[misc]
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
            inner: Any = self.app  # type: ignore[has-type]

            async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})["tls"] = tls
                await inner(scope, receive, send)

            self.app = app

    TlsProtocol.__name__ = f"Tls{base.__name__}"
    return TlsProtocol


TlsHttpProtocol = _with_tls(_Fast)


def config(settings: Settings, asgi: Any) -> uvicorn.Config:
    s = settings
    if s.tls_cert_file is None or s.tls_key_file is None or s.tls_ca_file is None:
        raise Misconfigured(
            "the HTTPS door needs tls_cert_file, tls_key_file and tls_ca_file "
            "(`ketenpoort certs dev DIR` makes development ones), or http_enabled=false"
        )
    for path in (s.tls_cert_file, s.tls_key_file, s.tls_ca_file):
        if not path.is_file():
            raise Misconfigured(f"TLS file {path} does not exist")
    return uvicorn.Config(
        asgi,
        host=s.http_host,
        port=s.http_port,
        http=TlsHttpProtocol,
        ssl_certfile=str(s.tls_cert_file),
        ssl_keyfile=str(s.tls_key_file),
        ssl_ca_certs=str(s.tls_ca_file),
        # optional, so that a request without a certificate gets a 401 and an audit record
        # (not a bare handshake failure); ops endpoints and the audit pages need none
        ssl_cert_reqs=ssl.CERT_OPTIONAL,
        access_log=False,  # our own events (no query strings: they could hold a BSN)
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
        lifespan="off",
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process's stop event rules."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Door:
    """The uvicorn server of a running gateway."""

    def __init__(self, settings: Settings, parts: core.Parts) -> None:
        self.server = _Server(config(settings, create_app(parts)))
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with http_port=0)."""
        for server in self.server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("the HTTPS door is not listening")

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raise why it stopped
                raise Misconfigured("the HTTPS door did not start")
            await asyncio.sleep(0.02)
        log.info("https_gestart", port=self.port)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        log.info("https_gestopt")


@contextlib.asynccontextmanager
async def running(settings: Settings) -> Any:
    """The whole gateway: AMQP and (unless switched off) the HTTPS door."""
    async with core.running(settings) as parts:
        door = Door(settings, parts) if settings.http_enabled else None
        if door is not None:
            await door.start()
        try:
            yield parts, door
        finally:
            if door is not None:
                await door.stop()


async def serve(
    settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Run until ``stop`` is set; ``ready`` is set when both doors are open."""
    async with running(settings):
        if ready is not None:
            ready.set()
        await stop.wait()
