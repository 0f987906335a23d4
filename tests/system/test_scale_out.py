"""Two gateway processes at once: the scale-out of issue 6 (replicas of one deployment).

Two real ``ketenpoort serve`` processes ("replica-a" and "replica-b", each its own
``KETENPOORT_AUDIT_LOG_ID``) consume the same ingress queue (same vhost and prefix) and share
one PostgreSQL database for both the state store and the audit store (a fresh database per
test) and one audit key folder. The partners are the six test partners on the real RabbitMQ.

- A few hundred messages of every example (five senders, a fresh BerichtId and ConversatieId
  each) are spread over both replicas (each logs ``bericht_ontvangen`` for some): every
  recipient gets each of its messages exactly once, every sender one Ontvangstbevestiging per
  message, no dead letter anywhere, and after a graceful stop ``ketenpoort audit verify``
  verifies both logs, each against its own signed checkpoints.
- The same message (identical bytes) sent twice at once, so each replica takes one copy: it
  is delivered once per recipient and the second answer is the first one again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import psycopg
import pytest

from gateway.codec.envelope import MessageCodec
from gateway.decision.besluit import Aanvaarding
from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode
from gateway.policy.files import GEHEUGEN_REGIOS, DeelnameConditie, OverdrachtConditie
from gateway.runtime.settings import Settings
from gateway.transport.rabbit import Topology
from tests.support import catalogue
from tests.support.audit_keys import pin_keys
from tests.support.broker import OINS, delete_topology
from tests.support.decisions import decide
from tests.support.messages import fresh
from tests.support.partners import NAME_OF, RabbitPartner
from tests.support.paths import EXAMPLES_DIR
from tests.support.processes import Received, collect, start_gateway, started

pytestmark = [pytest.mark.broker, pytest.mark.slow]

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REPLICAS = ("replica-a", "replica-b")
ROUNDS = 24  # x 13 examples = 312 messages
SEND_CONCURRENCY = 40
EXE = Path(sys.executable).parent / "ketenpoort"


# --------------------------------------------------------------------------- the database


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh PostgreSQL database for this test (state and audit), dropped afterwards."""
    name = f"kp_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            # FORCE: a gateway that did not stop must not keep the database alive
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --------------------------------------------------------------------------- the examples


@dataclass(frozen=True)
class Example:
    rel: str
    afzender: str  # OIN
    recipients: frozenset[str]  # OINs


def _routed_by_memory(berichttype: str) -> bool:
    """Routed by what the conversation holds (v2 §5, §6): an answer to its asker, a route to
    those who took part, to the conversation's VT regio or the holder of casusregie."""
    regel = catalogue.POLICY.berichten[berichttype]
    return bool(regel.antwoord_op) or any(
        set(r.regios) & set(GEHEUGEN_REGIOS)
        or any(isinstance(c, DeelnameConditie | OverdrachtConditie) for c in r.als)
        for r in regel.routes
    )


def _decided(raw: bytes, afzender: str) -> Aanvaarding | Refused:
    try:
        return decide(raw, afzender)
    except Refused as refused:
        return refused


def examples(codec: MessageCodec, settings: Settings) -> list[Example]:
    """Every example of the test partners with the recipients the policy gives it in a
    conversation of its own (each message below gets a fresh ConversatieId, so no history
    changes the routing). A type routed by the conversation's memory (the ActieoverlegBesluit
    to those who took part, an answer to its asker, v2 §5-6) reaches nobody in a conversation
    of its own: left out; so is an example reaching a v2 partner, which has no client here
    (their flows: tests/system/test_lokaal_veld.py)."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*/*.xml")):
        raw = path.read_bytes()
        afzender = codec.read(raw).kop.afzender.oin
        if afzender not in OINS.values():
            continue
        besluit = _decided(raw, afzender)
        if isinstance(besluit, Refused):
            assert _routed_by_memory(path.stem), (path, besluit)
            assert besluit.code in (
                Foutcode.GEEN_ONTVANGER,
                Foutcode.ONTVANGER_NIET_TOEGESTAAN,
            ), (path, besluit)
            continue
        recipients = frozenset(lev.ontvanger.partner.oin for lev in besluit.leveringen)
        assert recipients, path
        if not recipients <= set(OINS.values()):
            continue
        found.append(Example(str(path.relative_to(EXAMPLES_DIR)), afzender, recipients))
    assert len({e.afzender for e in found}) >= 4, "too few senders among the examples"
    return found


# --------------------------------------------------------------------------- the partners


# --------------------------------------------------------------------------- two replicas


@dataclass
class Cluster:
    settings: Settings
    vhost: str
    topology: Topology
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[bytes]]
    partners: dict[str, RabbitPartner] = field(default_factory=dict)  # by OIN
    inbox: dict[str, list[Received]] = field(default_factory=dict)  # by OIN

    def answers(self, oin: str) -> list[Received]:
        return [r for r in self.inbox[oin] if r.soort == "antwoord"]

    def deliveries(self, oin: str) -> list[Received]:
        return [r for r in self.inbox[oin] if r.soort == "levering"]

    def log_text(self, replica: str) -> str:
        return self.logs[replica].read_text(errors="replace")

    def events(self, replica: str, event: str) -> list[str]:
        return [
            line for line in self.log_text(replica).splitlines() if f'"event": "{event}"' in line
        ]

    def stop(self) -> dict[str, int]:
        """SIGTERM both (a graceful stop signs each log's last checkpoint); their exit codes."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return {name: process.wait(timeout=30) for name, process in self.processes.items()}

    async def dead_letters(self) -> dict[str, int]:
        """Messages in any dead-letter queue (every partner's and the ingress one), as guest."""
        connection = await aio_pika.connect_robust(
            f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"
        )
        try:
            channel = await connection.channel()
            names = [self.topology.dlq(oin) for oin in self.topology.oins]
            names.append(self.topology.ingress_dlq)
            counts = {}
            for name in names:
                queue = await channel.declare_queue(name, passive=True)
                counts[name] = queue.declaration_result.message_count or 0
            return counts
        finally:
            await connection.close()


async def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, cluster: Cluster
) -> None:
    """Wait for ``predicate``; fail at once (with its log) when a replica has stopped."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        for name, process in cluster.processes.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"{name} stopped ({process.returncode}) while waiting for {what}:\n"
                    + cluster.log_text(name)[-3000:]
                )
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def two_replicas(
    settings: Settings, vhost: str, tmp_path: Path, dsn: str
) -> AsyncIterator[Cluster]:
    """Both replicas running and every partner connected and reading its inbox."""
    shared = settings.model_copy(update={"state_dsn": dsn, "audit_dsn": dsn})
    # no provisioning: both start at once on an empty database and an empty key folder
    topology = Topology(shared.amqp_prefix, tuple(OINS.values()), shared.retry_delays_ms)
    logs = {name: tmp_path / f"{name}.log" for name in REPLICAS}
    processes = {
        name: start_gateway(shared.model_copy(update={"audit_log_id": name}), logs[name])
        for name in REPLICAS
    }
    cluster = Cluster(shared, vhost, topology, logs, processes)
    collectors: list[asyncio.Task[None]] = []
    try:
        await wait_until(
            lambda: all(started(log) == 1 for log in logs.values()),
            60,
            "both replicas to start",
            cluster,
        )
        for oin in OINS.values():
            partner = RabbitPartner(oin, vhost, topology)
            await partner.connect()
            cluster.partners[oin] = partner
            cluster.inbox[oin] = []
            collectors.append(asyncio.create_task(collect(partner, cluster.inbox[oin])))
        yield cluster
    finally:
        for task in collectors:
            task.cancel()
        await asyncio.gather(*collectors, return_exceptions=True)
        for partner in cluster.partners.values():
            await partner.close()
        cluster.stop()
        await delete_topology(vhost, topology)


def audit_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KETENPOORT_AUDIT_DSN": settings.audit_dsn,
        "KETENPOORT_AUDIT_KEY_DIR": str(settings.audit_key_dir),
        "KETENPOORT_AUDIT_LOG_ID": "cli",
        "KETENPOORT_HTTP_ENABLED": "false",
        "COLUMNS": "240",
    }
    if "verify" in args:  # as an auditor: against the published verifier keys
        env["KETENPOORT_AUDIT_TRUSTED_KEYS"] = str(pin_keys(settings.audit_key_dir))
    return subprocess.run(
        [str(EXE), "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --------------------------------------------------------------------------- the tests


async def test_two_replicas_deliver_every_message_once_and_both_audit_logs_verify(
    settings: Settings, vhost: str, tmp_path: Path, pg_dsn: str, codec: MessageCodec
) -> None:
    catalogue = examples(codec, settings)
    # (sender OIN, BerichtId, bytes, expected recipients), examples interleaved
    sent: list[tuple[str, str, bytes, frozenset[str]]] = []
    for _ in range(ROUNDS):
        for example in catalogue:
            bericht_id = str(uuid.uuid4())
            raw = fresh(
                (EXAMPLES_DIR / example.rel).read_bytes(),
                bericht_id=bericht_id,
                conversatie_id=str(uuid.uuid4()),
            )
            sent.append((example.afzender, bericht_id, raw, example.recipients))
    expected_deliveries: dict[str, Counter[str]] = {oin: Counter() for oin in OINS.values()}
    expected_answers: dict[str, Counter[str]] = {oin: Counter() for oin in OINS.values()}
    for afzender, bericht_id, _, recipients in sent:
        expected_answers[afzender][bericht_id] += 1
        for oin in recipients:
            expected_deliveries[oin][bericht_id] += 1
    total_deliveries = sum(sum(c.values()) for c in expected_deliveries.values())

    async with two_replicas(settings, vhost, tmp_path, pg_dsn) as cluster:
        for start in range(0, len(sent), SEND_CONCURRENCY):
            await asyncio.gather(
                *(
                    cluster.partners[afzender].send(raw)
                    for afzender, _, raw, _ in sent[start : start + SEND_CONCURRENCY]
                )
            )

        def answered() -> int:
            return sum(len(cluster.answers(oin)) for oin in OINS.values())

        def delivered() -> int:
            return sum(len(cluster.deliveries(oin)) for oin in OINS.values())

        await wait_until(
            lambda: answered() >= len(sent) and delivered() >= total_deliveries,
            45,
            f"{len(sent)} answers and {total_deliveries} deliveries",
            cluster,
        )
        await asyncio.sleep(0.5)  # a second copy of anything would arrive now
        dead = await cluster.dead_letters()
        codes = cluster.stop()
        assert codes == dict.fromkeys(REPLICAS, 0), codes
        inbox = {oin: list(received) for oin, received in cluster.inbox.items()}

    # --- both replicas took part
    handled = {name: len(cluster.events(name, "bericht_ontvangen")) for name in REPLICAS}
    assert all(handled.values()), f"one replica handled nothing: {handled}"
    # every message handled (more only when a store hiccup made one come back)
    assert sum(handled.values()) >= len(sent), handled
    for name in REPLICAS:
        assert cluster.events(name, "gateway_gestopt"), f"{name} did not stop gracefully"

    # --- every recipient got each of its messages exactly once, every sender one answer each
    for oin in OINS.values():
        got = Counter(str(r.bericht_id) for r in inbox[oin] if r.soort == "levering")
        assert got == expected_deliveries[oin], (
            f"{NAME_OF[oin]}: missing {expected_deliveries[oin] - got}, "
            f"extra {got - expected_deliveries[oin]}"
        )
        answers = [r for r in inbox[oin] if r.soort == "antwoord"]
        assert Counter(str(r.bericht_id) for r in answers) == expected_answers[oin], NAME_OF[oin]
        assert {r.berichttype for r in answers} <= {"Ontvangstbevestiging"}, Counter(
            r.berichttype for r in answers
        )
        assert not [r for r in inbox[oin] if r.herhaald], f"{NAME_OF[oin]}: a re-published copy"
    assert not any(dead.values()), dead

    # --- the audit trail: two logs, each verified against its own signed checkpoints
    verified = audit_cli(cluster.settings, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for name in REPLICAS:
        assert f"log {name}: " in verified.stdout, verified.stdout
    assert "audit verify: sound" in verified.stdout, verified.stdout
    assert "await their checkpoint" not in verified.stdout, verified.stdout  # all signed
    print(f"scale-out: {len(sent)} messages, bericht_ontvangen per replica {handled}")
    print(verified.stdout)
    with psycopg.connect(pg_dsn) as conn:
        per_log: dict[str, int] = dict(
            conn.execute(
                "SELECT log, COUNT(DISTINCT bericht_id) FROM audit_record "
                "WHERE public::json->>'gebeurtenis' = 'afgeleverd' GROUP BY log"
            ).fetchall()
        )
        signed: dict[str, int] = dict(
            conn.execute("SELECT log, MAX(size) FROM audit_checkpoint GROUP BY log").fetchall()
        )
        records: dict[str, int] = dict(
            conn.execute("SELECT log, COUNT(*) FROM audit_record GROUP BY log")
        )
    assert set(per_log) == set(REPLICAS), per_log
    assert sum(per_log.values()) == len(sent), per_log  # each message audited by one replica
    assert signed == records, (signed, records)  # the last checkpoint covers every record


PAIRS = 12  # a pair lands on one replica now and then; a dozen make a split all but certain


async def test_the_same_message_twice_at_once_on_two_replicas_is_delivered_once(
    settings: Settings, vhost: str, tmp_path: Path, pg_dsn: str, codec: MessageCodec
) -> None:
    example = next(e for e in examples(codec, settings) if e.rel == "politie/ZsmAanmelding.xml")
    template = (EXAMPLES_DIR / example.rel).read_bytes()
    pairs = [str(uuid.uuid4()) for _ in range(PAIRS)]
    async with two_replicas(settings, vhost, tmp_path, pg_dsn) as cluster:
        politie = cluster.partners[example.afzender]
        for bericht_id in pairs:
            raw = fresh(template, bericht_id=bericht_id, conversatie_id=str(uuid.uuid4()))
            # identical bytes, published back to back: round-robin gives each replica one
            await asyncio.gather(politie.send(raw), politie.send(raw))

            def both_answered(b: str = bericht_id) -> bool:
                return sum(1 for a in cluster.answers(politie.oin) if a.bericht_id == b) >= 2

            await wait_until(
                both_answered,
                15,
                f"both answers to {bericht_id}",
                cluster,
            )
        await asyncio.sleep(0.5)  # a late extra copy would arrive now
        codes = cluster.stop()
        assert codes == dict.fromkeys(REPLICAS, 0), codes
        inbox = {oin: list(received) for oin, received in cluster.inbox.items()}

    # the scenario: a pair of which each replica took one copy (both log its BerichtId)
    texts = [cluster.log_text(name) for name in REPLICAS]
    split = [b for b in pairs if all(b in text for text in texts)]
    if not split:
        pytest.skip(f"no pair of {PAIRS} reached both replicas: nothing was tested")

    problems = []
    for bericht_id in pairs:
        for oin in example.recipients:
            copies = [r for r in inbox[oin] if r.soort == "levering" and r.bericht_id == bericht_id]
            if len(copies) != 1:
                flagged = sum(r.herhaald for r in copies)
                problems.append(
                    f"{bericht_id} to {NAME_OF[oin]}: {len(copies)} copies ({flagged} herhaald)"
                )
        answers = [a for a in inbox[example.afzender] if a.bericht_id == bericht_id]
        kinds = [a.berichttype for a in answers]
        if kinds != ["Ontvangstbevestiging", "Ontvangstbevestiging"]:
            problems.append(f"{bericht_id}: answers {kinds}")
        elif answers[0].body != answers[1].body:
            problems.append(f"{bericht_id}: the second answer is not the first one again")
    others = set(OINS.values()) - example.recipients - {example.afzender}
    assert not [r for oin in others for r in inbox[oin]], "a partner outside the route got mail"
    assert not problems, f"{len(split)} of {PAIRS} pairs split over both replicas:\n" + "\n".join(
        problems
    )
