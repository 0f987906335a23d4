"""Carrying out a decision, in order: claim → audit (+ norms) → publish → mark → answer.

Delivery is at-least-once from the broker's point of view and made effectively once by the
message state: a message is claimed (planned) before it is published and marked after the
broker's confirms; the caller acknowledges the ingress message last. Nothing leaves before its
audit records are durably committed (fail closed). A redelivered ingress message (after a
crash) is decided as a resumption: only the unconfirmed deliveries are published again,
flagged ``ketenpoort-herhaald: true`` with the same ``message_id`` (the BerichtId), the one
case in which a recipient may see a message twice: a crash between the broker's confirm and
the state commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.audit.log import AuditLog, Entry
from gateway.decision.besluit import (
    Aanvaarding,
    Besluit,
    Bevestiging,
    Herhaling,
    Inlichting,
    Onbekend,
    Weigering,
)
from gateway.domain.errors import Busy
from gateway.domain.model import Foutcode
from gateway.runtime.facts import reeksrecord
from gateway.runtime.normwatch import NormWatch
from gateway.runtime.observer import Observer
from gateway.runtime.outbox import Outbox
from gateway.store.state import Geheugenwijziging, StateStore

# How long a replica's claim on a message it is delivering stands before another process may
# finish the delivery (the claimant died half-way). A live replica needs milliseconds.
CLAIM_SECONDS = 15.0


@dataclass(frozen=True)
class Antwoord:
    """The gateway's answer to one message: the bytes, and the Foutbericht code if refused."""

    body: bytes
    foutcode: Foutcode | None = None


class Effects:
    """Does what a :data:`Besluit` says, through the collaborators passed in."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        state: StateStore,
        audit: AuditLog,
        observer: Observer,
        owner: str,
        normen: NormWatch,
    ) -> None:
        self.outbox = outbox
        self.state = state
        self.audit = audit
        self.observer = observer
        self.owner = owner  # this process's name in claims (its audit log id)
        self.normen = normen

    async def carry_out(self, besluit: Besluit, *, reply: bool) -> Antwoord | None:
        """``reply``: also put the answer in the sender's inbox (AMQP senders); the HTTPS door
        returns it in the response instead. None: nobody to answer."""
        if isinstance(besluit, Onbekend):
            return None
        if isinstance(besluit, Weigering):
            await self.record(besluit.entries)
            if reply:
                await self.outbox.answer(
                    besluit.ontvangen.afzender_oin, besluit.antwoord, besluit.bericht_id
                )
            return Antwoord(besluit.antwoord, besluit.refused.code)
        if isinstance(besluit, Herhaling):
            kop = besluit.bericht.kop
            if reply and not besluit.stil:
                await self.outbox.answer(kop.afzender.oin, besluit.antwoord, kop.bericht_id)
            return Antwoord(besluit.antwoord)
        if isinstance(besluit, Bevestiging):
            await self._confirm(besluit, reply=reply)
            return Antwoord(besluit.antwoord)
        if isinstance(besluit, Inlichting):
            if reply:
                kop = besluit.gelezen.bericht.kop
                await self.outbox.answer(kop.afzender.oin, besluit.antwoord, kop.bericht_id)
            return Antwoord(besluit.antwoord)
        await self._deliver(besluit, reply=reply)
        return Antwoord(besluit.antwoord)

    async def _deliver(self, besluit: Aanvaarding, *, reply: bool) -> None:
        kop = besluit.bericht.kop
        afzender = kop.afzender.oin
        if not await self._claim(besluit):
            raise Busy(f"BerichtId {kop.bericht_id} is being delivered by another process")
        await self.record(besluit.entries)
        # the norms before the publish: a recipient's Afleverbevestiging, handled side by
        # side or by another replica, may come back before this message is marked, and must
        # find its delivery's norm open to close it (a failure here is retried as a
        # resumption, which opens them again: no change)
        await self.normen.accepted(besluit)
        publish = besluit.te_publiceren
        await asyncio.gather(
            *(self.outbox.deliver(kop, lev, herhaald=besluit.hervat) for lev in publish)
        )
        # Mark right after the confirms: this commit is the only window in which a crash can
        # make a delivery be published again (flagged ketenpoort-herhaald).
        # the AfsprakenSignalen (v2 §7), audited with the message's entries above; a
        # resumption publishes them again (same BerichtId, flagged ketenpoort-herhaald)
        await asyncio.gather(
            *(self.outbox.signal(s, herhaald=besluit.hervat) for s in besluit.signalen)
        )
        await self.state.published(
            afzender, kop.bericht_id, [lev.ontvanger.partner.oin for lev in publish]
        )
        for lev in publish:
            self.observer.published(besluit, lev)
        if reply:
            await self.outbox.answer(
                afzender, besluit.antwoord, kop.bericht_id, herhaald=besluit.hervat
            )
        await self.state.answered(afzender, kop.bericht_id, besluit.antwoord)
        self.observer.answered(besluit)

    async def _claim(self, besluit: Aanvaarding) -> bool:
        """Plan the deliveries under this process's claim; a resumption takes over a claim
        that went stale. False: another process has it (it delivers; ask again later)."""
        kop = besluit.bericht.kop
        routering = besluit.gerouteerd.routering
        if besluit.hervat:
            return await self.state.take_over(
                kop.afzender.oin,
                kop.bericht_id,
                self.owner,
                dt.timedelta(seconds=CLAIM_SECONDS),
            )
        return await self.state.plan(
            kop.afzender.oin,
            kop.bericht_id,
            besluit.gerouteerd.gelezen.ontvangen.sha256,
            kop.berichttype,
            kop.conversatie_id,
            [
                (lev.ontvanger.partner.oin, lev.ontvanger.partner.rol, lev.sha256)
                for lev in besluit.leveringen
            ],
            eigenaar=self.owner,
            afzender_rol=str(kop.afzender.rol),
            bewaartermijn=dt.timedelta(days=routering.bewaartermijn_dagen),
            geheugen=Geheugenwijziging(
                hg=routering.hg,
                casusregie=routering.casusregie,
                overdracht=routering.overdracht,
                vraag_doel=str(routering.doel) if routering.vraag else None,
                reeks=reeksrecord(routering.reeks) if routering.reeks is not None else None,
            ),
            afspraken_gelezen=besluit.afspraken_generatie,
        )

    async def _confirm(self, besluit: Bevestiging, *, reply: bool) -> None:
        ontvanger = besluit.gelezen.ontvangen.afzender_oin
        await self.record(besluit.entries)
        await self.state.delivered(ontvanger, besluit.bevestigd, besluit.afzenders)
        await self.normen.confirmed(besluit)
        if reply:
            await self.outbox.answer(
                ontvanger, besluit.antwoord, besluit.gelezen.bericht.kop.bericht_id
            )
        self.observer.answered(besluit)

    async def record(self, entries: Sequence[Entry]) -> None:
        """Append to the audit trail (durably, group-committed), timed."""
        started = time.perf_counter()
        try:
            await self.audit.append(entries)
        finally:
            self.observer.audit_appended(time.perf_counter() - started)


__all__ = ["CLAIM_SECONDS", "Antwoord", "Effects"]
