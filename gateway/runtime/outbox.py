"""Everything the gateway puts in a partner's inbox: deliveries and answers, one place for
the AMQP properties and headers the contract names (``ketenpoort-soort``, ``-afzender``,
``-poging``, ``-herhaald``, ``traceparent``; ``message_id`` = the BerichtId)."""

from __future__ import annotations

from gateway.decision import answers
from gateway.decision.besluit import Levering
from gateway.decision.signaal import Signaal
from gateway.domain.model import Kop
from gateway.transport.port import Transport
from gateway.transport.rabbit import AFZENDER, HERHAALD, POGING, SOORT


class Outbox:
    """Publishes to the deliver exchange (routing key: the recipient's OIN), with confirms."""

    def __init__(self, transport: Transport, gateway_oin: str) -> None:
        self.transport = transport
        self.gateway_oin = gateway_oin
        self.exchange = transport.topology.deliver_exchange

    async def deliver(self, kop: Kop, levering: Levering, *, herhaald: bool) -> None:
        """One recipient's copy of a partner's message."""
        await self.transport.publish(
            self.exchange,
            levering.ontvanger.partner.oin,
            levering.payload,
            message_id=kop.bericht_id,
            type_=kop.berichttype,
            correlation_id=kop.conversatie_id,
            headers={
                SOORT: "levering",
                AFZENDER: kop.afzender.oin,
                POGING: 0,
                HERHAALD: herhaald,
                **({"traceparent": kop.traceparent} if kop.traceparent else {}),
            },
        )

    async def signal(self, signaal: Signaal, *, herhaald: bool) -> None:
        """An AfsprakenSignaal (v2 §7): a gateway message in the recipient's inbox."""
        kop = signaal.bericht.kop
        await self.transport.publish(
            self.exchange,
            signaal.ontvanger.oin,
            signaal.payload,
            message_id=kop.bericht_id,
            type_=kop.berichttype,
            correlation_id=kop.conversatie_id,
            headers={
                SOORT: "signaal",
                AFZENDER: self.gateway_oin,
                POGING: 0,
                HERHAALD: herhaald,
                **({"traceparent": kop.traceparent} if kop.traceparent else {}),
            },
        )

    async def answer(
        self, oin: str, answer: bytes, in_antwoord_op: str | None, *, herhaald: bool = False
    ) -> None:
        """The gateway's answer (Ontvangstbevestiging, Foutbericht) in the sender's inbox."""
        await self.transport.publish(
            self.exchange,
            oin,
            answer,
            message_id=answers.own_bericht_id(answer),
            correlation_id=in_antwoord_op,
            type_="antwoord",
            headers={SOORT: "antwoord", AFZENDER: self.gateway_oin, POGING: 0, HERHAALD: herhaald},
        )


__all__ = ["Outbox"]
