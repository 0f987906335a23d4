"""Following the chain's norm times at run time (spec v2 §10).

The decision names the norms an accepted message opens (``Aanvaarding.normen``, with their
deadlines) and closes (``sluit``); :class:`NormWatch` records both in the :class:`NormStore`
and, every ``interval`` seconds (:meth:`NormWatch.run`), checks which deadlines passed: each
is logged once as ``norm_overschreden`` (BerichtId, type, norm, partner, deadline: no personal
data) and handed to ``gemist`` (the ``ketenpoort_normen_gemist`` counter), and the open and
overdue steps per partner are kept for the Prometheus gauges. The clock
is passed in, so a test moves time. Nothing is ever blocked or refused for a deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable

from gateway.decision.besluit import Aanvaarding, Bevestiging
from gateway.domain.errors import Transient
from gateway.observe.logs import get_logger
from gateway.store.normen import NormRij, NormStore

__all__ = ["NormWatch"]

log = get_logger("ketenpoort.normen")

# (partner OIN, norm name) -> number of steps
Stappen = Counter[tuple[str, str]]


class NormWatch:
    """Opens, closes and checks the norms; holds the latest counts for the gauges."""

    def __init__(
        self,
        store: NormStore,
        clock: Callable[[], dt.datetime],
        gemist: Callable[[NormRij], None] = lambda rij: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.gemist = gemist  # told of every missed deadline as it is reported (a metric)
        self.open: Stappen = Counter()
        self.overschreden: Stappen = Counter()

    async def accepted(self, besluit: Aanvaarding) -> None:
        """Record the norms an accepted message opens and close those it ends; a step
        checked on arrival that came late is reported at once (``norm_overschreden``)."""
        kop = besluit.bericht.kop
        now = self.clock()
        await self.store.close_in_conversation(
            kop.conversatie_id, kop.afzender.oin, besluit.sluit, now, besluit.sluit_per_item
        )
        nieuw = await self.store.open(
            NormRij(
                afzender_oin=kop.afzender.oin,
                bericht_id=kop.bericht_id,
                naam=n.naam,
                partner_oin=n.ontvanger or "",
                conversatie_id=kop.conversatie_id,
                berichttype=str(kop.berichttype),
                uiterlijk=n.uiterlijk,
                geopend=now,
                gesloten=n.gesloten,
                sleutel=n.sleutel,
            )
            for n in besluit.normen
        )
        for rij in nieuw:
            if rij.te_laat:
                _report(rij)
                self.gemist(rij)

    async def confirmed(self, besluit: Bevestiging) -> None:
        """A recipient's Afleverbevestiging closes its delivery's norm."""
        await self.store.close_delivery(
            besluit.gelezen.ontvangen.afzender_oin,
            besluit.bevestigd,
            besluit.afzenders,
            besluit.sluit,
            self.clock(),
        )

    async def check(self) -> list[NormRij]:
        """Report every deadline passed since the last check (once); refresh the counts."""
        now = self.clock()
        passed = await self.store.newly_overdue(now)
        for rij in passed:
            _report(rij)
            self.gemist(rij)
        rows = await self.store.open_rows()
        self.open = _count(rows)
        self.overschreden = _count(r for r in rows if r.uiterlijk < now)
        return passed

    async def run(self, interval: float) -> None:
        """Check now and then, for ever (a chore of the running gateway)."""
        while True:
            try:
                await self.check()
            except Transient as exc:
                log.warning("normen_controle_mislukt", reden=str(exc))
            await asyncio.sleep(interval)

    def gauge(self, which: Stappen) -> list[tuple[tuple[str, str], float]]:
        return [((partner, naam), float(n)) for (partner, naam), n in sorted(which.items())]


def _report(rij: NormRij) -> None:
    """One ``norm_overschreden`` event: still open past its deadline, or closed after it on
    arrival (then with ``gesloten``). BerichtId, type, norm, partner, times: no personal
    data."""
    gesloten = rij.gesloten
    log.warning(
        "norm_overschreden",
        norm=rij.naam,
        bericht_id=rij.bericht_id,
        berichttype=rij.berichttype,
        afzender=rij.afzender_oin,
        partner=rij.partner_oin or None,
        uiterlijk=rij.uiterlijk.astimezone(dt.UTC).isoformat(),
        **({"sleutel": rij.sleutel} if rij.sleutel else {}),
        **({"gesloten": gesloten.astimezone(dt.UTC).isoformat()} if gesloten is not None else {}),
    )


def _count(rows: Iterable[NormRij]) -> Stappen:
    return Counter((r.partner_oin, r.naam) for r in rows)
