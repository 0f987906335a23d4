"""Prometheus metrics: one registry per gateway process (never the global one, so several
gateways can run in one process, as in the tests).

Labels carry OINs, BerichtTypes and Foutbericht codes only: never personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS", "Metrics", "Reader", "seconds_left"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


Reader = Callable[[], Iterable[tuple[tuple[str, ...], float]]]


class _Snapshot(Collector):
    """Gauges read at scrape time from a function (queue depths, certificate expiry)."""

    def __init__(self, name: str, doc: str, labels: list[str], read: Reader) -> None:
        self.name, self.doc, self.labels, self.read = name, doc, labels, read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.doc, labels=self.labels)
        for values, value in self.read():
            family.add_metric(list(values), value)
        yield family


class Metrics:
    """Every metric the gateway exposes at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "ketenpoort_berichten_ontvangen",
            "Messages received, per door (amqp/https) and sender.",
            ["kanaal", "afzender"],
            registry=r,
        )
        self.accepted = Counter(
            "ketenpoort_berichten_geaccepteerd",
            "Messages accepted and routed, per BerichtType and sender.",
            ["berichttype", "afzender"],
            registry=r,
        )
        self.refused = Counter(
            "ketenpoort_berichten_geweigerd",
            "Messages refused with a Foutbericht, per code, BerichtType (if known) and sender.",
            ["code", "berichttype", "afzender"],
            registry=r,
        )
        self.delivered = Counter(
            "ketenpoort_berichten_afgeleverd",
            "Deliveries confirmed by the broker into a recipient's inbox, per type and recipient.",
            ["berichttype", "ontvanger"],
            registry=r,
        )
        self.confirmed = Counter(
            "ketenpoort_afleverbevestigingen",
            "Afleverbevestigingen received from recipients.",
            ["ontvanger"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "ketenpoort_berichten_dead_lettered",
            "Deliveries given up after the retry policy (NIET_AFLEVERBAAR), per recipient.",
            ["berichttype", "ontvanger"],
            registry=r,
        )
        self.retried = Counter(
            "ketenpoort_berichten_opnieuw_gepland",
            "Deliveries a recipient refused that are retried after a back-off.",
            ["ontvanger"],
            registry=r,
        )
        self.set_aside = Counter(
            "ketenpoort_ingress_apart_gezet",
            "Ingress messages the gateway moved to the ops queue unanswered, per reason "
            "(user_id-ontbreekt: no user_id property; afzender-onbekend: a RabbitMQ user "
            "outside the register). Alert when it grows.",
            ["reden"],
            registry=r,
        )
        self.pipeline_seconds = Histogram(
            "ketenpoort_pipeline_seconds",
            "Time from receipt to answer for one message (validate ... audit, deliver).",
            ["kanaal"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.audit_append_seconds = Histogram(
            "ketenpoort_audit_append_seconds",
            "Time to append records durably to the audit log (group commit included).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "ketenpoort_http_requests",
            "HTTPS requests, per route template and status code.",
            ["route", "status"],
            registry=r,
        )
        self.access_denied = Counter(
            "ketenpoort_toegang_geweigerd",
            "Requests refused for lack of a (known) certificate, a session, or the rate limit.",
            ["reden"],
            registry=r,
        )

        self.norms_missed = Counter(
            "ketenpoort_normen_gemist",
            "Deadlines of the chain's norms reported missed (spec v2 §10, the norm_overschreden "
            "event): a step still open past its deadline, or a report checked on arrival that "
            "came late (an acute inzet); per partner whose step it was and norm. Nothing is "
            "blocked; alert when it grows.",
            ["partner", "norm"],
            registry=r,
        )

        self.tls_refused = Counter(
            "ketenpoort_tls_handshakes_geweigerd",
            "TLS handshakes the partner port refused, per alert sent (unknown_ca, "
            "certificate_revoked, handshake_failure, protocol_version, ...).",
            ["reden"],
            registry=r,
        )

    def snapshot(
        self,
        name: str,
        doc: str,
        labels: list[str],
        read: Reader,
    ) -> None:
        """Register a gauge family computed at scrape time."""
        self.registry.register(_Snapshot(name, doc, labels, read))

    def expose(self) -> bytes:
        return generate_latest(self.registry)


def seconds_left(not_after: dt.datetime, now: dt.datetime | None = None) -> float:
    return (not_after - (now or dt.datetime.now(dt.UTC))).total_seconds()
