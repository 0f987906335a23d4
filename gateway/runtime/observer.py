"""Logs and metrics around the steps of a message (middleware): the decision path and the
effects never log or count themselves; the runtime hands each step's outcome to an
:class:`Observer`, which writes one structlog event per step (stable snake_case names, with the
correlation ids bound for the whole message) and updates the Prometheus metrics.

Log events of one message, in order: ``bericht_ontvangen`` → ``bericht_gevalideerd`` →
``bericht_gerouteerd`` → ``bericht_gefilterd`` (per recipient) → ``bericht_afgeleverd`` (per
recipient) → ``bericht_bevestigd``; or ``bericht_geweigerd``; or ``bericht_dubbel`` /
``bericht_al_afgehandeld``; ``bericht_hervat`` when a crash is recovered;
``bericht_bevestigd_door_ontvanger`` for an Afleverbevestiging; ``status_gevraagd`` for a
Statusvraag; ``bericht_apart_gezet`` for an ingress message without a trustworthy sender (no
``user_id``, or a user outside the register), kept in the ops queue. No event carries content:
identifiers, codes, digests and OINs only (the reason of a refusal may quote content, so it is
not logged).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import structlog

from gateway.decision.besluit import (
    Aanvaarding,
    Besluit,
    Bevestiging,
    Gelezen,
    Herhaling,
    Inlichting,
    Levering,
    Onbekend,
    Ontvangen,
    Weigering,
)
from gateway.observe.logs import get_logger
from gateway.observe.metrics import Metrics

log = get_logger("ketenpoort.service")


class Observer:
    """One event per pipeline step, the metrics of each outcome."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    @contextlib.contextmanager
    def message(self, ontvangen: Ontvangen, kanaal: str) -> Iterator[None]:
        """The correlation ids of one message, bound for every event logged while inside."""
        with structlog.contextvars.bound_contextvars(
            afzender=ontvangen.afzender_oin, sha256=ontvangen.sha256[:16], kanaal=kanaal
        ):
            log.info("bericht_ontvangen", bytes=len(ontvangen.raw))
            self.metrics.received.labels(kanaal, ontvangen.afzender_oin).inc()
            yield

    @contextlib.contextmanager
    def bericht(self, gelezen: Gelezen) -> Iterator[None]:
        """Read: its BerichtId and type join the bound context."""
        kop = gelezen.bericht.kop
        with structlog.contextvars.bound_contextvars(
            bericht_id=kop.bericht_id, berichttype=kop.berichttype
        ):
            log.info("bericht_gevalideerd")
            yield

    def decided(self, besluit: Besluit) -> None:
        if isinstance(besluit, Onbekend):
            log.warning("afzender_onbekend")  # no inbox to answer to; nothing is delivered
        elif isinstance(besluit, Weigering):
            self._refused(besluit)
        elif isinstance(besluit, Herhaling):
            log.info("bericht_al_afgehandeld" if besluit.stil else "bericht_dubbel")
        elif isinstance(besluit, Aanvaarding):
            self._routed(besluit)
        elif isinstance(besluit, Inlichting):
            log.info("status_gevraagd", gevraagd=besluit.gevraagd)

    def _refused(self, besluit: Weigering) -> None:
        refused = besluit.refused
        bericht = besluit.bericht
        self.metrics.refused.labels(
            refused.code.value,
            bericht.kop.berichttype if bericht else "",
            besluit.ontvangen.afzender_oin,
        ).inc()
        # The reason may quote content (an invalid value); the log gets code and place only.
        log.info(
            "bericht_geweigerd",
            bericht_id=besluit.bericht_id,
            code=refused.code.value,
            element=refused.element,
            regel=refused.regel,
        )

    def _routed(self, besluit: Aanvaarding) -> None:
        routering = besluit.gerouteerd.routering
        if besluit.hervat:
            log.warning("bericht_hervat", open=sorted(besluit.alleen or ()))
        log.info(
            "bericht_gerouteerd",
            doel=routering.doel,
            ontvangers=[lev.ontvanger.partner.oin for lev in besluit.leveringen],
            policy=routering.policy_versie,
        )
        for levering in besluit.leveringen:
            log.info(
                "bericht_gefilterd",
                ontvanger=levering.ontvanger.partner.oin,
                kept=sorted(levering.kept),
                removed=sorted(levering.removed),
            )

    def published(self, besluit: Aanvaarding, levering: Levering) -> None:
        kop = besluit.bericht.kop
        oin = levering.ontvanger.partner.oin
        self.metrics.delivered.labels(kop.berichttype, oin).inc()
        log.info(
            "bericht_afgeleverd",
            ontvanger=oin,
            sha256=levering.sha256[:16],
            herhaald=besluit.hervat,
        )

    def answered(self, besluit: Aanvaarding | Bevestiging) -> None:
        if isinstance(besluit, Bevestiging):
            self.metrics.confirmed.labels(besluit.gelezen.ontvangen.afzender_oin).inc()
            log.info("bericht_bevestigd_door_ontvanger", bevestigd=besluit.bevestigd)
            return
        kop = besluit.bericht.kop
        if not besluit.hervat:
            self.metrics.accepted.labels(kop.berichttype, kop.afzender.oin).inc()
        log.info("bericht_bevestigd")

    def retried(self, bericht_id: str, ontvanger: str, poging: int, vertraging_ms: int) -> None:
        self.metrics.retried.labels(ontvanger).inc()
        log.info(
            "bericht_opnieuw_gepland",
            bericht_id=bericht_id,
            ontvanger=ontvanger,
            poging=poging,
            vertraging_ms=vertraging_ms,
        )

    def dead_lettered(
        self, bericht_id: str, berichttype: str, ontvanger: str, poging: int, reden: str
    ) -> None:
        self.metrics.dead_lettered.labels(berichttype, ontvanger).inc()
        log.warning(
            "bericht_niet_afleverbaar",
            bericht_id=bericht_id,
            ontvanger=ontvanger,
            poging=poging,
            reden=reden,
        )

    def replayed(self, bericht_id: str, ontvanger: str) -> None:
        log.info("bericht_opnieuw_aangeboden", bericht_id=bericht_id, ontvanger=ontvanger)

    def set_aside(self, reden: str, user: str | None, size: int) -> None:
        """An ingress message without a trustworthy sender, kept in the ops queue."""
        self.metrics.set_aside.labels(reden).inc()
        log.warning("bericht_apart_gezet", reden=reden, user=user, bytes=size)

    def timed(self, kanaal: str, seconds: float) -> None:
        self.metrics.pipeline_seconds.labels(kanaal).observe(seconds)

    def audit_appended(self, seconds: float) -> None:
        self.metrics.audit_append_seconds.observe(seconds)


__all__ = ["Observer"]
