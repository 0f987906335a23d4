"""The facts a decision needs, looked up before the decision (the decision path does no I/O).

Which facts: the message state of this sender's BerichtId (a duplicate, or a delivery to
resume), the routing memory of the conversation (who took part, whether it is HG, who holds
casusregie, the Overdracht's status, and for an answer the question it names: v2 §5; for an
afspraken versie the record of its reeks: v2 §6), and
for a recipient's
Afleverbevestiging whose message it confirms and whose data went along (audit trail); for a
Statusvraag, the state of the sender's own message it asks about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from gateway.audit.log import AuditLog
from gateway.decision.besluit import Eerder, Feiten, Geleverd, Vraag
from gateway.decision.reeks import Reeksstand
from gateway.decision.routing import Gevraagd
from gateway.domain.model import Partij, Rol, Statusantwoord, Statusregel
from gateway.store.state import Bekend, Conversatie, Reeksrecord, StateStore, Status


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


def reeksstand(record: Reeksrecord) -> Reeksstand:
    """The decision's view of a stored afspraken reeks (v2 §6)."""
    return Reeksstand(
        reeks_id=record.reeks_id,
        houder_oin=record.houder_oin,
        versie=record.versie,
        status=record.status,
        geldig_tot=record.geldig_tot,
        ontvangers=record.ontvangers,
        grondslag=record.grondslag,
        doel=record.doel,
        bijgewerkt=record.bijgewerkt,
    )  # its keys stay in the store: the decision never sees them


def reeksrecord(stand: Reeksstand) -> Reeksrecord:
    """What the routing memory keeps of an accepted afspraken versie (v2 §6)."""
    return Reeksrecord(
        reeks_id=stand.reeks_id,
        houder_oin=stand.houder_oin,
        versie=stand.versie,
        status=stand.status,
        geldig_tot=stand.geldig_tot,
        ontvangers=stand.ontvangers,
        grondslag=stand.grondslag,
        doel=stand.doel,
        sleutels=stand.sleutels,
    )


def statusantwoord(bericht_id: str, bekend: Bekend | None) -> Statusantwoord:
    """The store's view of one message as a Statusantwoord (the view ``ketenpoort status`` and
    ``GET /v1/berichten/{id}/status`` give); ``bekend`` false when the sender has no such id."""
    if bekend is None:
        return Statusantwoord(bericht_id=bericht_id, bekend=False)
    return Statusantwoord(
        bericht_id=bekend.bericht_id,
        bekend=True,
        berichttype=bekend.berichttype,
        leveringen=[
            Statusregel(
                ontvanger=Partij(oin=lev.ontvanger_oin, rol=Rol(lev.ontvanger_rol)),
                status=lev.status.value,
                pogingen=lev.pogingen,
                bijgewerkt=lev.bijgewerkt,
            )
            for lev in bekend.leveringen
        ],
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

    async def vervolg(
        self, afzender_oin: str, bericht_id: str, ontvanger_oin: str, *, met_eerder: bool = True
    ) -> Feiten:
        """For a later step of one delivery (:meth:`Pipeline.niet_afleverbaar`,
        :meth:`Pipeline.opnieuw_aangeboden`): the data subjects it carried to that recipient
        (from the audit trail) and, with ``met_eerder`` (the Foutbericht to its sender needs its
        ConversatieId; a replay answers nobody), what the state still knows of the sender's
        message."""
        betrokkenen = await self.audit.subjects_delivered(bericht_id, ontvanger_oin)
        bekend = await self.state.lookup(afzender_oin, bericht_id) if met_eerder else None
        return Feiten(
            nu=self.clock(),
            geleverd=(Geleverd(afzender_oin, tuple(betrokkenen)),),
            eerder=eerder(bekend) if bekend is not None else None,
        )

    async def gather(self, vraag: Vraag) -> Feiten:
        if vraag.status_van is not None:  # keyed by the asking sender: its own messages only
            bekend = await self.state.lookup(vraag.afzender_oin, vraag.status_van)
            return Feiten(nu=self.clock(), status=statusantwoord(vraag.status_van, bekend))
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
        conversatie = (
            await self.state.conversatie(vraag.conversatie_id)
            if vraag.deelnemers
            else Conversatie()
        )
        gevraagd = (
            await self.state.vragen(vraag.afzender_oin, vraag.antwoord_op)
            if vraag.antwoord_op is not None
            else []
        )
        # the afspraken' generation before the reeks: a versie accepted after it was read
        # makes the plan of this one Stale (v2 §6, §7), whatever the reeks read showed
        afspraken = (
            await self.state.afspraken(vraag.sleutels)
            if vraag.sleutels or vraag.reeks_id is not None
            else None
        )
        reeks = await self.state.reeks(vraag.reeks_id) if vraag.reeks_id is not None else None
        return Feiten(
            nu=self.clock(),
            afspraken=tuple(reeksstand(r) for r in afspraken.reeksen) if afspraken else (),
            afspraken_generatie=afspraken.generatie if afspraken else None,
            reeks=reeksstand(reeks) if reeks is not None else None,
            eerder=eerder(bekend) if bekend is not None else None,
            deelnemers=frozenset(oin for oin, _ in conversatie.deelnemers),
            hg=conversatie.hg,
            casusregie=conversatie.casusregie,
            overdracht=conversatie.overdracht,
            gevraagd=tuple(Gevraagd(v.afzender_oin, v.berichttype, v.doel) for v in gevraagd),
        )


__all__ = ["FactFinder", "eerder", "reeksrecord", "reeksstand", "statusantwoord"]
