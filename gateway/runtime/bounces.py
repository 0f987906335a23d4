"""Deliveries a recipient did not take: retries with back-off, the dead-letter queue, the
sender told (NIET_AFLEVERBAAR), and putting dead letters back (``ketenpoort dlq replay``).

A recipient's inbox dead-letters a rejected or expired message to the bounced queue; for each
one: attempt < the number of retry delays → to the retry exchange (TTL queue of that level,
then back to the inbox), else → the recipient's DLQ, audited as ``niet-afleverbaar``, and the
sender gets a Foutbericht. Every forward keeps the message's id, type and correlation.
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway.decision.pipeline import Pipeline
from gateway.runtime.effects import Effects
from gateway.runtime.facts import FactFinder
from gateway.runtime.observer import Observer
from gateway.runtime.outbox import Outbox
from gateway.store.state import StateStore
from gateway.transport.port import IncomingMessage, Transport
from gateway.transport.rabbit import AFZENDER, NIVEAU, POGING, SOORT

REDEN = "ketenpoort-reden"  # header on a dead letter: why (rejected, expired, …)


class Bounces:
    """What happens to a delivery its recipient did not take."""

    def __init__(
        self,
        *,
        transport: Transport,
        pipeline: Pipeline,
        effects: Effects,
        outbox: Outbox,
        state: StateStore,
        observer: Observer,
        retry_delays_ms: tuple[int, ...],
        facts: FactFinder,
    ) -> None:
        self.transport = transport
        self.topology = transport.topology
        self.pipeline = pipeline
        self.effects = effects
        self.outbox = outbox
        self.state = state
        self.observer = observer
        self.retry_delays_ms = retry_delays_ms
        self.facts = facts

    async def bounce(self, message: IncomingMessage) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        deaths = headers.pop("x-death", None) or []
        death: dict[str, Any] = deaths[0] if isinstance(deaths, list) and deaths else {}
        reason = str(death.get("reason", "rejected"))
        keys = death.get("routing-keys") or []
        ontvanger = str(keys[0]) if keys else str(message.routing_key or "")
        poging = int(headers.get(POGING) or 0)
        afzender = str(headers.get(AFZENDER, ""))
        soort = str(headers.get(SOORT, "levering"))
        bericht_id = message.message_id or ""
        if reason != "expired" and poging < len(self.retry_delays_ms):
            headers.update({POGING: poging + 1, NIVEAU: poging})
            await self.transport.forward(self.topology.retry_exchange, ontvanger, message, headers)
            if soort == "levering":
                await self.state.retried(afzender, bericht_id, ontvanger)
            self.observer.retried(bericht_id, ontvanger, poging, self.retry_delays_ms[poging])
            return
        await self.transport.forward(
            self.topology.dlq_exchange, ontvanger, message, {**headers, REDEN: reason}
        )
        self.observer.dead_lettered(bericht_id, message.type or "", ontvanger, poging, reason)
        if soort != "levering" or afzender not in self.pipeline.policy.partners:
            return  # an answer of ours that its sender would not take: kept, nobody to tell
        await self.state.undeliverable(afzender, bericht_id, ontvanger)
        feiten = await self.facts.vervolg(afzender, bericht_id, ontvanger)
        vervolg = self.pipeline.niet_afleverbaar(bericht_id, ontvanger, reason, poging + 1, feiten)
        await self.effects.record(vervolg.entries)
        await self.outbox.answer(afzender, vervolg.antwoord, bericht_id)

    async def replay(self, ontvanger: str, message: IncomingMessage) -> None:
        """Put one dead letter back in its recipient's inbox, for a fresh round of attempts:
        recorded before it is delivered again (fail closed, like every delivery)."""
        headers = dict(message.headers or {})
        headers.pop(REDEN, None)
        headers[POGING] = 0
        afzender = str(headers.get(AFZENDER, ""))
        bericht_id = message.message_id or ""
        feiten = await self.facts.vervolg(afzender, bericht_id, ontvanger, met_eerder=False)
        entries = self.pipeline.opnieuw_aangeboden(bericht_id, ontvanger, str(uuid.uuid4()), feiten)
        await self.effects.record(entries)
        await self.transport.forward(self.topology.deliver_exchange, ontvanger, message, headers)
        await message.ack()
        await self.state.replayed(afzender, bericht_id, ontvanger)
        self.observer.replayed(bericht_id, ontvanger)


__all__ = ["REDEN", "Bounces"]
