"""Wiring: every collaborator is built here, once, from the settings (and nowhere else)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.audit.log import AuditLog, Pseudonymiser
from gateway.audit.signing import Keyring
from gateway.codec.envelope import MessageCodec
from gateway.decision.pipeline import Pipeline
from gateway.decision.trail import Trail
from gateway.domain.errors import Misconfigured, Transient
from gateway.observe.logs import get_logger
from gateway.observe.metrics import Metrics, seconds_left
from gateway.policy.catalogue import Policy, load_policy
from gateway.policy.typen import load_typen
from gateway.runtime import certs
from gateway.runtime.bounces import Bounces
from gateway.runtime.consumers import BouncedConsumer, IngressConsumer
from gateway.runtime.effects import Effects
from gateway.runtime.facts import FactFinder
from gateway.runtime.inbox import HttpInbox
from gateway.runtime.normwatch import NormWatch
from gateway.runtime.observer import Observer
from gateway.runtime.outbox import Outbox
from gateway.runtime.service import Gateway
from gateway.runtime.settings import Settings
from gateway.store.database import Database
from gateway.store.normen import NormStore
from gateway.store.state import StateStore
from gateway.transport.port import Transport
from gateway.transport.rabbit import Broker, Topology

__all__ = [
    "DEPTH_INTERVAL_S",
    "PURGE_INTERVAL_S",
    "Parts",
    "build",
    "catalogue",
    "certificates",
    "connect",
    "crls",
    "open_audit",
    "readiness",
    "running",
    "serve",
]

log = get_logger("ketenpoort.app")

PURGE_INTERVAL_S = 3600
DEPTH_INTERVAL_S = 10


@dataclass
class Parts:
    settings: Settings
    policy: Policy
    codec: MessageCodec
    db: Database
    state: StateStore
    audit_db: Database
    audit: AuditLog
    trail: Trail
    topology: Topology
    broker: Transport  # RabbitMQ's Broker, or another transport given to build()
    pipeline: Pipeline
    gateway: Gateway
    bounces: Bounces
    metrics: Metrics
    inbox: HttpInbox
    normen: NormWatch
    depths: dict[str, int] = field(default_factory=dict)  # queue -> messages (refreshed)
    client_expiry: dict[str, dt.datetime] = field(default_factory=dict)  # OIN -> notAfter

    def close_stores(self) -> None:
        self.db.close()
        self.audit_db.close()


def open_audit(settings: Settings, log_id: str | None = None) -> tuple[Database, AuditLog, Trail]:
    """The audit store, this process's log in it, and the trail builder (with the secret)."""
    audit_db = Database(settings.audit_dsn)
    keyring = Keyring(settings.audit_key_dir)
    audit = AuditLog(
        audit_db,
        log_id or settings.audit_log_id,
        keyring,
        checkpoint_every=settings.audit_checkpoint_every,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )
    audit.open()
    secret = settings.audit_secret_file or settings.audit_key_dir / "pseudoniem.secret"
    return audit_db, audit, Trail(Pseudonymiser.from_file(secret))


def catalogue(settings: Settings) -> tuple[MessageCodec, Policy]:
    """The codec and the checked policy of ``settings``: the catalogue (rollen, categories,
    BerichtTypes) is read once and shared by both; Misconfigured (file, line) when broken.

    Built once per content: a second call in the same process whose policy, vocabulary and
    schema files hold the same bytes (and whose limits are the same) returns the catalogue
    built before, with its compiled code; a changed byte builds it again. Both are never
    changed once built. (A gateway starts once per process; tests start hundreds.)"""
    key = _catalogue_key(settings)
    with _CATALOGUES_LOCK:  # gateways may start in threads of one process (tests do)
        found = _CATALOGUES.pop(key, None)
        if found is None:
            found = _build_catalogue(settings)
        _CATALOGUES[key] = found  # the most recently used last
        while len(_CATALOGUES) > _CATALOGUES_KEPT:
            del _CATALOGUES[next(iter(_CATALOGUES))]
    return found


_CATALOGUES: dict[bytes, tuple[MessageCodec, Policy]] = {}
_CATALOGUES_KEPT = 4
_CATALOGUES_LOCK = threading.Lock()


def _catalogue_key(settings: Settings) -> bytes:
    """A digest of what a catalogue is built from: every file of the policy, vocabulary and
    schema folders (name and bytes) and the codec's limits."""
    digest = hashlib.sha256(f"{settings.max_bytes}|{settings.max_depth}".encode())
    for folder in (settings.policy_dir, settings.vocabulary_dir, settings.schema_dir):
        digest.update(b"\0folder\0" + str(folder.resolve()).encode())
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            content = path.read_bytes()
            name = str(path.relative_to(folder)).encode()
            digest.update(b"\0%d\0%s\0%d\0" % (len(name), name, len(content)) + content)
    return digest.digest()


def _build_catalogue(settings: Settings) -> tuple[MessageCodec, Policy]:
    typen = load_typen(settings.policy_dir)
    codec = MessageCodec(
        typen,
        vocabularies=settings.vocabulary_dir,
        schema_dir=settings.schema_dir,
        max_bytes=settings.max_bytes,
        max_depth=settings.max_depth,
    )
    return codec, load_policy(settings.policy_dir, leesbaar=codec.readable(), typen=typen)


def build(
    settings: Settings,
    *,
    log_id: str | None = None,
    transport: Transport | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Parts:
    """Build every part; a broken policy or schema raises Misconfigured (refuse to start).

    ``transport``: used instead of a RabbitMQ :class:`Broker` on ``settings.amqp_url`` (e.g.
    the in-memory transport of :mod:`gateway.transport.memory`); its topology must be the one
    the settings and policy describe. ``clock``: the time of the decisions and of the norm
    deadlines (default: now).
    """
    codec, policy = catalogue(settings)
    db = Database(settings.state_dsn)
    state = StateStore(db, dedup_days=settings.dedup_days)
    audit_db, audit, trail = open_audit(settings, log_id)
    topology = Topology(settings.amqp_prefix, tuple(policy.partners), settings.retry_delays_ms)
    broker: Transport
    if transport is None:
        broker = Broker(settings.amqp_url.get_secret_value(), topology, prefetch=settings.prefetch)
    elif _shape(transport.topology) != _shape(topology):
        raise Misconfigured("the transport's topology is not the one of the settings and policy")
    else:
        broker = transport
    metrics = Metrics()
    observer = Observer(metrics)
    pipeline = Pipeline(codec, policy, trail, settings.gateway_oin)
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    facts = FactFinder(state, audit, clock=clock)
    normen = NormWatch(
        NormStore(db),
        clock,
        gemist=lambda rij: metrics.norms_missed.labels(rij.partner_oin, rij.naam).inc(),
    )
    outbox = Outbox(broker, settings.gateway_oin)
    effects = Effects(
        outbox=outbox,
        state=state,
        audit=audit,
        observer=observer,
        owner=audit.log_id,
        normen=normen,
    )
    gateway = Gateway(
        pipeline=pipeline, facts=facts, effects=effects, observer=observer, audit=audit
    )
    bounces = Bounces(
        transport=broker,
        pipeline=pipeline,
        effects=effects,
        outbox=outbox,
        state=state,
        observer=observer,
        retry_delays_ms=settings.retry_delays_ms,
        facts=facts,
    )
    inbox = HttpInbox(broker, state, lease_seconds=settings.inbox_lease_seconds)
    parts = Parts(
        settings=settings,
        policy=policy,
        codec=codec,
        db=db,
        state=state,
        audit_db=audit_db,
        audit=audit,
        trail=trail,
        topology=topology,
        broker=broker,
        pipeline=pipeline,
        gateway=gateway,
        bounces=bounces,
        metrics=metrics,
        inbox=inbox,
        normen=normen,
    )
    _register_gauges(parts)
    return parts


def _shape(topology: Topology) -> tuple[str, frozenset[str], tuple[int, ...]]:
    return topology.prefix, frozenset(topology.oins), topology.retry_delays_ms


def _register_gauges(parts: Parts) -> None:
    m = parts.metrics
    m.snapshot(
        "ketenpoort_queue_berichten",
        "Messages in each queue (refreshed every few seconds).",
        ["queue"],
        lambda: [((q,), float(n)) for q, n in parts.depths.items()],
    )
    m.snapshot(
        "ketenpoort_dead_letters",
        "Messages in each partner's dead-letter queue (alert when above 0).",
        ["ontvanger"],
        lambda: [
            ((oin,), float(parts.depths[parts.topology.dlq(oin)]))
            for oin in parts.topology.oins
            if parts.topology.dlq(oin) in parts.depths
        ],
    )
    m.snapshot(
        "ketenpoort_ops_wachtrij_berichten",
        "Messages in the ops queue: published to the ingress exchange with an unknown routing "
        "key (its alternate exchange), or set aside by the gateway (no user_id, unknown "
        "user). Nothing there is answered: alert when above 0.",
        [],
        lambda: (
            [((), float(parts.depths[parts.topology.ops]))]
            if parts.topology.ops in parts.depths
            else []
        ),
    )
    m.snapshot(
        "ketenpoort_certificaat_geldig_seconden",
        "Seconds until a certificate expires (server, CA, and partners' client certificates "
        "last seen); alert below cert_warning_days.",
        ["certificaat"],
        lambda: [((label,), seconds_left(when)) for label, when in certificates(parts).items()],
    )
    m.snapshot(
        "ketenpoort_crl_geldig_seconden",
        "Seconds until each CRL in tls_crl_file must be replaced (its nextUpdate): an expired "
        "CRL refuses every partner certificate.",
        ["crl"],
        lambda: [((label,), seconds_left(when)) for label, when in crls(parts).items()],
    )
    m.snapshot(
        "ketenpoort_normen_open",
        "Steps open under a norm of the chain (spec v2 §10), per partner whose step it is "
        "(empty: nobody routed can close it) and norm (refreshed at every norm check).",
        ["partner", "norm"],
        lambda: parts.normen.gauge(parts.normen.open),
    )
    m.snapshot(
        "ketenpoort_normen_overschreden",
        "Open steps past their deadline, per partner and norm (alert when above 0; nothing "
        "is blocked).",
        ["partner", "norm"],
        lambda: parts.normen.gauge(parts.normen.overschreden),
    )
    m.snapshot(
        "ketenpoort_audit_backlog",
        "Audit records waiting for the next group commit.",
        [],
        lambda: [((), float(parts.audit.backlog))],
    )
    m.snapshot(
        "ketenpoort_audit_schrijfbaar",
        "1 when the audit store can be written (else the gateway delivers nothing).",
        [],
        lambda: [((), 1.0 if parts.audit.writable else 0.0)],
    )
    m.snapshot(
        "ketenpoort_rabbitmq_verbonden",
        "1 when connected to RabbitMQ.",
        [],
        lambda: [((), 1.0 if parts.broker.connected else 0.0)],
    )


def certificates(parts: Parts) -> dict[str, dt.datetime]:
    """notAfter of the server certificate, the CA bundle and the partners' certificates."""
    s = parts.settings
    files = [f for f in (s.tls_cert_file, s.tls_ca_file) if f is not None and f.exists()]
    found = certs.expiries(files)
    for oin, when in parts.client_expiry.items():
        found[f"partner:{oin}"] = when
    return found


def crls(parts: Parts) -> dict[str, dt.datetime]:
    """nextUpdate of the CRLs the HTTPS door checks client certificates against."""
    path = parts.settings.tls_crl_file
    if path is None or not path.is_file():
        return {}
    try:
        return certs.crl_expiries(path)
    except ValueError:  # unreadable now: the door keeps its last good CRL and logs it
        return {}


async def connect(broker: Transport, *, attempts: int | None = None) -> None:
    """Connect and declare the topology, retrying while the broker is away."""
    delay = 0.5
    tried = 0
    while True:
        try:
            await broker.connect()
            await broker.declare()
            return
        except Transient as exc:
            tried += 1
            if attempts is not None and tried >= attempts:
                raise
            log.warning("broker_onbereikbaar", reden=str(exc), opnieuw_over_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    *,
    transport: Transport | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> AsyncIterator[Parts]:
    """The gateway running: topology declared, consumers on; on exit a graceful stop
    (finish what is in flight, sign a last checkpoint, close). ``transport``, ``clock``: see
    build()."""
    parts = build(settings, transport=transport, clock=clock)
    parts.pipeline.prepare()  # the generated code of every type, before the first message
    await parts.audit.start()
    await connect(parts.broker)
    await parts.broker.consume(
        parts.topology.ingress,
        IngressConsumer(
            parts.gateway,
            transport=parts.broker,
            observer=parts.gateway.observer,
            partners=frozenset(parts.policy.partners),
        ),
    )
    await parts.broker.consume(
        parts.topology.bounced, BouncedConsumer(parts.gateway, parts.bounces)
    )
    await parts.inbox.start()
    log.info(
        "gateway_gestart",
        policy=parts.policy.versie,
        partners=len(parts.policy.partners),
        prefix=settings.amqp_prefix,
    )
    chores = [
        asyncio.create_task(_purge_now_and_then(parts)),
        asyncio.create_task(_measure_queues(parts)),
        asyncio.create_task(parts.normen.run(settings.normen_check_seconds)),
    ]
    try:
        yield parts
    finally:
        log.info("gateway_stopt")
        for chore in chores:
            chore.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chore
        await parts.broker.stop_consuming()
        await parts.gateway.drain()
        await parts.inbox.close()
        await parts.broker.close()
        await parts.audit.close()
        parts.close_stores()
        log.info("gateway_gestopt")


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
    *,
    transport: Transport | None = None,
) -> None:
    """Run the AMQP side until ``stop`` is set (the HTTPS door: ``gateway.web.server``).

    ``ready`` is set once the topology is declared and the consumers run. ``transport``: used
    instead of RabbitMQ (see build()).
    """
    async with running(settings, transport=transport):
        if ready is not None:
            ready.set()
        await stop.wait()


async def readiness(parts: Parts) -> tuple[bool, dict[str, Any]]:
    """Whether this gateway can take messages, what is wrong if not, and alert-worthy states.

    Checked: RabbitMQ connected, audit store writable (a write that is rolled back), signing
    key loaded, policy loaded. Alerts (reported, not failing): dead letters waiting,
    certificates expiring within ``cert_warning_days``.
    """
    checks: dict[str, dict[str, Any]] = {}
    checks["rabbitmq"] = {"ok": parts.broker.connected}
    writable = await parts.audit.probe()
    checks["audit"] = {"ok": writable, "log": parts.audit.log_id, "backlog": parts.audit.backlog}
    try:
        key_id, _ = parts.audit.keyring.active()
        checks["signing_key"] = {"ok": True, "key_id": key_id}
    except (OSError, ValueError, Misconfigured) as exc:
        checks["signing_key"] = {"ok": False, "reden": type(exc).__name__}
    checks["policy"] = {"ok": bool(parts.policy.partners), "versie": parts.policy.versie}
    for name, check in checks.items():
        if not check["ok"]:
            check.setdefault("reden", _WHY[name])
    alerts: list[dict[str, Any]] = []
    for oin in parts.topology.oins:
        waiting = parts.depths.get(parts.topology.dlq(oin), 0)
        if waiting:
            alerts.append({"soort": "dead_letters", "ontvanger": oin, "berichten": waiting})
    set_aside = parts.depths.get(parts.topology.ops, 0)
    if set_aside:
        alerts.append({"soort": "ops_wachtrij", "berichten": set_aside})
    horizon = dt.timedelta(days=parts.settings.cert_warning_days)
    now = dt.datetime.now(dt.UTC)
    for label, when in certificates(parts).items():
        if when - now < horizon:
            alerts.append(
                {"soort": "certificaat_verloopt", "certificaat": label, "tot": when.isoformat()}
            )
    if not writable:
        alerts.append({"soort": "audit_niet_schrijfbaar", "log": parts.audit.log_id})
    ok = all(check["ok"] for check in checks.values())
    return ok, {"status": "ready" if ok else "not ready", "checks": checks, "alerts": alerts}


_WHY = {
    "rabbitmq": "not connected to RabbitMQ",
    "audit": "the audit store cannot be written: nothing is delivered (fail closed)",
    "signing_key": "no checkpoint signing key loaded",
    "policy": "no policy loaded",
}


async def _measure_queues(parts: Parts) -> None:
    names = [parts.topology.ingress, parts.topology.bounced]
    names += [parts.topology.inbox(oin) for oin in parts.topology.oins]
    names += [parts.topology.dlq(oin) for oin in parts.topology.oins]
    names.append(parts.topology.ops)
    while True:
        before = parts.depths.get(parts.topology.ops, 0)
        with contextlib.suppress(Transient):
            parts.depths.update(await parts.broker.depths(names))
        now = parts.depths.get(parts.topology.ops, 0)
        if now > before:  # unroutable or unattributable messages came in: an operator's turn
            log.warning("ops_wachtrij_gegroeid", queue=parts.topology.ops, berichten=now)
        await asyncio.sleep(DEPTH_INTERVAL_S)


async def _purge_now_and_then(parts: Parts) -> None:
    while True:
        try:
            forgotten = await parts.state.purge()
            if forgotten:
                log.info("toestand_opgeruimd", berichten=forgotten)
            normen = await parts.normen.store.purge(parts.normen.clock())
            if normen:
                log.info("normen_opgeruimd", normen=normen)
        except Transient as exc:
            log.warning("opruimen_mislukt", reden=str(exc))
        await asyncio.sleep(PURGE_INTERVAL_S)
