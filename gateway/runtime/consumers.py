"""The AMQP consumers: acknowledgements follow from what happened to the message.

- handled (accepted, refused with a Foutbericht, a duplicate answered): ``ack``;
- :class:`Transient` (broker or store trouble): ``nack(requeue=True)`` after a pause and, when
  the audit store is the trouble, after it can be written again (fail closed);
- anything else is a bug of ours, not the sender's fault: ``nack(requeue=False)``, so the
  message waits in the ingress dead-letter queue for ops instead of being lost or looping.
"""

from __future__ import annotations

import asyncio

from gateway.domain.errors import Transient
from gateway.observe.logs import get_logger
from gateway.runtime.bounces import Bounces
from gateway.runtime.service import Gateway
from gateway.transport.port import IncomingMessage

log = get_logger("ketenpoort.service")

TRANSIENT_PAUSE_S = 0.5


class IngressConsumer:
    """Callback for the ingress queue."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, message: IncomingMessage) -> None:
        with self.gateway.tracked():
            try:
                headers = message.headers or {}
                traceparent = headers.get("traceparent")
                await self.gateway.handle(
                    message.body,
                    message.user_id or "",
                    traceparent=traceparent if isinstance(traceparent, str) else None,
                    redelivered=bool(message.redelivered),
                    reply=True,
                    kanaal="amqp",
                )
                await message.ack()
            except Transient as exc:
                await postpone(self.gateway, message, exc, "bericht_uitgesteld")
            except Exception as exc:  # noqa: BLE001 - a bug of ours must not lose the message
                log.error("bericht_interne_fout", fout=type(exc).__name__)
                await message.nack(requeue=False)


class BouncedConsumer:
    """Callback for the bounced queue: a recipient rejected a message (or it expired)."""

    def __init__(self, gateway: Gateway, bounces: Bounces) -> None:
        self.gateway = gateway
        self.bounces = bounces

    async def __call__(self, message: IncomingMessage) -> None:
        try:
            await self.bounces.bounce(message)
            await message.ack()
        except Transient as exc:
            await postpone(self.gateway, message, exc, "terugval_uitgesteld")


async def postpone(gateway: Gateway, message: IncomingMessage, exc: Transient, event: str) -> None:
    """Broker or store trouble: leave the message on its queue (it comes back), after a
    pause and, when the audit store is the trouble, once it can be written again."""
    log.warning(event, reden=str(exc))
    await gateway.wait_for_audit()
    await asyncio.sleep(TRANSIENT_PAUSE_S)
    await message.nack(requeue=True)


__all__ = ["BouncedConsumer", "IngressConsumer"]
