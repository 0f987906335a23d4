"""What the runtime needs of a transport: the interface both the RabbitMQ transport
(:mod:`gateway.transport.rabbit`) and the in-memory double implement.

The runtime types against these Protocols only, so a behaviour suite runs unchanged on either;
RabbitMQ stays the proof.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from gateway.transport.rabbit import Topology


class IncomingMessage(Protocol):
    """One message taken from a queue, not yet acknowledged."""

    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Any: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def correlation_id(self) -> str | None: ...
    @property
    def routing_key(self) -> str | None: ...
    @property
    def redelivered(self) -> bool | None: ...

    async def ack(self, multiple: bool = False) -> None: ...
    async def nack(self, multiple: bool = False, requeue: bool = True) -> None: ...


class Holder(Protocol):
    """Messages taken from queues and held unsettled until acknowledged; closing the holder
    (or losing it with the process) returns whatever it still holds to its queue."""

    @property
    def is_closed(self) -> bool: ...

    async def get(self, queue_name: str) -> Any: ...  # an IncomingMessage, or None: empty
    async def close(self) -> None: ...


Handler = Callable[[Any], Awaitable[None]]  # called with an IncomingMessage


class Transport(Protocol):
    """Publish with confirms, consume with acknowledgements, inspect queues."""

    topology: Topology

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...
    async def declare(self) -> None: ...

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str | None = None,
        type_: str | None = None,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None: ...

    async def forward(
        self,
        exchange: str,
        routing_key: str,
        message: Any,
        headers: Mapping[str, Any],
    ) -> None: ...

    async def consume(self, queue_name: str, handler: Handler) -> None: ...
    async def stop_consuming(self) -> None: ...
    async def take(self, queue_name: str, *, limit: int = 10_000) -> list[Any]: ...
    async def open_holder(self) -> Holder: ...
    async def depths(self, names: list[str]) -> dict[str, int]: ...
    async def close(self) -> None: ...


__all__ = ["Handler", "Holder", "IncomingMessage", "Transport"]
