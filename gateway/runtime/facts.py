"""The facts a decision needs, looked up before the decision (the decision path does no I/O).

Which facts: the message state of this sender's BerichtId (a duplicate, or a delivery to
resume), who took part in the conversation (``regio: conversatie``), and for a recipient's
Afleverbevestiging whose message it confirms and whose data went along (audit trail).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from gateway.audit.log import AuditLog
from gateway.decision.besluit import Eerder, Feiten, Geleverd, Vraag
from gateway.store.state import Bekend, StateStore, Status


def eerder(bekend: Bekend) -> Eerder:
    """The decision's view of a stored message."""
    return Eerder(
        sha256=bekend.sha256,
        conversatie_id=bekend.conversatie_id,
        antwoord=bekend.antwoord,
        gepland=frozenset(lev.ontvanger_oin for lev in bekend.leveringen),
        open=frozenset(
            lev.ontvanger_oin for lev in bekend.leveringen if lev.status is Status.GEPLAND
        ),
        eigenaar=bekend.eigenaar,
    )


class FactFinder:
    """Reads the message state and the audit trail for one :class:`Vraag`."""

    def __init__(
        self, state: StateStore, audit: AuditLog, clock: Callable[[], dt.datetime]
    ) -> None:
        self.state = state
        self.audit = audit
        self.clock = clock

    def now(self) -> Feiten:
        """Only the clock (for reading and refusing)."""
        return Feiten(nu=self.clock())

    async def gather(self, vraag: Vraag) -> Feiten:
        if vraag.bevestigt is not None:
            afzenders = await self.state.senders_of(
                vraag.afzender_oin, vraag.bevestigt, vraag.bevestigt_van
            )
            betrokkenen = (
                tuple(await self.audit.subjects_delivered(vraag.bevestigt, vraag.afzender_oin))
                if afzenders
                else ()
            )
            return Feiten(
                nu=self.clock(),
                geleverd=tuple(Geleverd(afzender, betrokkenen) for afzender in afzenders),
            )
        bekend = await self.state.lookup(vraag.afzender_oin, vraag.bericht_id)
        deelnemers = (
            await self.state.deelnemers(vraag.conversatie_id) if vraag.deelnemers else frozenset()
        )
        return Feiten(
            nu=self.clock(),
            eerder=eerder(bekend) if bekend is not None else None,
            deelnemers=deelnemers,
        )


__all__ = ["FactFinder", "eerder"]
