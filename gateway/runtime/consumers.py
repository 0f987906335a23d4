"""The AMQP consumers: acknowledgements follow from what happened to the message.

- handled (accepted, refused with a Foutbericht, a duplicate answered): ``ack``;
- :class:`Transient` (broker or store trouble): ``nack(requeue=True)`` after a pause and, when
  the audit store is the trouble, after it can be written again (fail closed);
- anything else is a bug of ours, not the sender's fault: ``nack(requeue=False)``, so the
  message waits in the ingress dead-letter queue for ops instead of being lost or looping;
- no trustworthy sender (no ``user_id``, the default of many AMQP clients, or a RabbitMQ user
  outside the register): nobody to answer, so it is forwarded (with confirms) to the ops queue
  with the header ``ketenpoort-reden``, counted and logged, and only then acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from gateway.domain.errors import Transient
from gateway.observe.logs import get_logger
from gateway.runtime.bounces import Bounces
from gateway.runtime.observer import Observer
from gateway.runtime.service import Gateway
from gateway.transport.port import IncomingMessage, Transport
from gateway.transport.rabbit import AFZENDER, AFZENDER_ONBEKEND, REDEN, ZONDER_USER_ID

log = get_logger("ketenpoort.service")

TRANSIENT_PAUSE_S = 0.5


class IngressConsumer:
    """Callback for the ingress queue."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        transport: Transport,
        observer: Observer,
        partners: Collection[str],
    ) -> None:
        self.gateway = gateway
        self.transport = transport
        self.observer = observer
        self.partners = partners  # the OINs of the register

    async def __call__(self, message: IncomingMessage) -> None:
        with self.gateway.tracked():
            try:
                sender = message.user_id or ""
                if sender not in self.partners:
                    await self._set_aside(message, AFZENDER_ONBEKEND if sender else ZONDER_USER_ID)
                    await message.ack()
                    return
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

    async def _set_aside(self, message: IncomingMessage, reden: str) -> None:
        headers = {**(message.headers or {}), REDEN: reden}
        if message.user_id:
            headers[AFZENDER] = message.user_id
        await self.transport.forward(
            self.transport.topology.ops_exchange, message.routing_key or "", message, headers
        )
        self.observer.set_aside(reden, message.user_id, len(message.body))


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
