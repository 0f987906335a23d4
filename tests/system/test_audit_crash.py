"""A gateway killed (SIGKILL) mid-stream keeps a complete, gap-free, verifiable audit trail.

The gateway runs as a real ``ketenpoort serve`` process; politie sends a fast run of
VtMeldingen (three data subjects each, one recipient: Veilig Thuis Twente), the gateway is
killed after about a third of the answers and started again, and once every message is
answered the audit store is read directly:

- every message politie got an Ontvangstbevestiging for has its records: ``ontvangen`` per
  data subject and ``gerouteerd``, ``gefilterd`` and ``afgeleverd`` for the recipient per data
  subject, each exactly once (a redelivered message is not recorded twice);
- the sequence numbers of each log run 0..n-1 without gaps;
- ``ketenpoort audit verify`` passes on the live store, and on an export;
- the exact bytes Veilig Thuis received (also a copy re-published after the crash) are the
  bytes whose SHA-256 the ``afgeleverd`` record holds.

And a group commit that fails while the checkpoint ticker runs leaves no signed checkpoint
over records that were never written.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.log import AuditLog, Pseudonymiser
from gateway.audit.signing import Keyring
from gateway.audit.verify import verify
from gateway.domain.errors import Transient
from gateway.runtime.settings import Settings
from gateway.store.database import Database
from gateway.tools.audit_workload import Workload
from gateway.transport.rabbit import Topology
from tests.support import catalogue
from tests.support.audit_keys import pin_keys
from tests.support.broker import OINS
from tests.support.messages import fresh
from tests.support.partners import RabbitPartner
from tests.support.processes import Received, collect, start_gateway, started, wind_down
from tests.support.waiting import eventually

pytestmark = [pytest.mark.broker, pytest.mark.slow]

MESSAGES = 2_000
SUBJECTS = ("999990019", "999990020", "999990032")  # the BSNs in politie/VtMelding.xml
PER_RECIPIENT = ("gerouteerd", "gefilterd", "afgeleverd")
SEND_CONCURRENCY = 100
EXE = Path(sys.executable).parent / "ketenpoort"


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KETENPOORT_AUDIT_DSN": settings.audit_dsn,
        "KETENPOORT_AUDIT_KEY_DIR": str(settings.audit_key_dir),
        "KETENPOORT_AUDIT_LOG_ID": f"{settings.audit_log_id}-cli",
        "COLUMNS": "240",
    }
    if "verify" in args:  # as an auditor: against the published verifier keys
        env["KETENPOORT_AUDIT_TRUSTED_KEYS"] = str(pin_keys(settings.audit_key_dir))
    return subprocess.run(
        [str(EXE), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def answered(answers: list[Received]) -> int:
    return len({a.bericht_id for a in answers if a.soort == "antwoord"})


async def test_sigkill_mid_stream_keeps_a_complete_verifiable_audit_trail(
    settings: Settings,
    vhost: str,
    tmp_path: Path,
    example_bytes: Callable[[str], bytes],
) -> None:
    log = tmp_path / "gateway.log"
    topology = Topology(settings.amqp_prefix, tuple(OINS.values()), settings.retry_delays_ms)
    vt_oin = OINS["vt-twente"]
    politie = RabbitPartner(OINS["politie"], vhost, topology)
    vt = RabbitPartner(vt_oin, vhost, topology)
    answers: list[Received] = []
    delivered: list[Received] = []
    collectors: list[asyncio.Task[None]] = []
    first = start_gateway(settings, log)
    second: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = {}
    begin = time.monotonic()
    try:
        await eventually(lambda: started(log) == 1, "the gateway to start")
        await politie.connect()
        await vt.connect()
        collectors = [
            asyncio.create_task(collect(politie, answers)),
            asyncio.create_task(collect(vt, delivered)),
        ]
        template = example_bytes("politie/VtMelding.xml")
        sent = [str(uuid.uuid4()) for _ in range(MESSAGES)]
        bodies = [fresh(template, bericht_id=b) for b in sent]
        t0 = time.monotonic()
        for start in range(0, MESSAGES, SEND_CONCURRENCY):
            await asyncio.gather(
                *(politie.send(b) for b in bodies[start : start + SEND_CONCURRENCY])
            )
        timings["send_s"] = time.monotonic() - t0

        await eventually(lambda: answered(answers) >= MESSAGES // 3, "a third of the answers")
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        killed_at = answered(answers)
        timings["first_run_s"] = time.monotonic() - t0
        assert killed_at < MESSAGES, "the run ended before the kill: nothing was in flight"

        second = start_gateway(settings, log)
        await eventually(lambda: started(log) == 2, "the gateway to start again")
        t1 = time.monotonic()
        await eventually(lambda: answered(answers) >= MESSAGES, "every answer")
        timings["second_run_s"] = time.monotonic() - t1
        rate = (MESSAGES - killed_at) / timings["second_run_s"]
        timings["messages_per_s_after_restart"] = rate
        await asyncio.sleep(0.5)  # a re-published copy would arrive now

        # The live store verifies while the gateway runs (an unsigned tail is allowed there).
        live = cli(settings, "audit", "verify")
        assert live.returncode == 0, live.stdout + live.stderr
        assert "audit verify: sound" in live.stdout
    finally:
        await wind_down(collectors, [politie, vt], [first, second], vhost, topology)
    assert second is not None
    assert second.returncode == 0, log.read_text()[-2000:]
    timings["total_s"] = time.monotonic() - begin
    herhaald = sum(1 for d in delivered if d.herhaald)
    print(f"audit crash run: killed after {killed_at} answers, {herhaald} re-published; {timings}")

    # --- what politie and Veilig Thuis saw
    answer_types = {a.bericht_id: a.berichttype for a in answers if a.soort == "antwoord"}
    assert set(answer_types) == set(sent), "an answer was lost"
    # (no key is None: the keys are the sent ids, as just asserted)
    confirmed = {
        b for b, t in answer_types.items() if t == "Ontvangstbevestiging" and b is not None
    }
    assert confirmed == set(sent), Counter(answer_types.values())
    vt_copies = [d for d in delivered if d.soort == "levering"]
    assert {d.bericht_id for d in vt_copies} == set(sent), "a delivery was lost"

    # --- the audit store, read directly
    secret = settings.audit_key_dir / "pseudoniem.secret"
    pseudonym = Pseudonymiser.from_file(secret)
    subjects = {pseudonym(bsn) for bsn in SUBJECTS}
    database = settings.audit_dsn.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        per_log = conn.execute(
            "SELECT log, COUNT(*), MIN(seq), MAX(seq), COUNT(DISTINCT seq) FROM audit_record "
            "GROUP BY log"
        ).fetchall()
        rows = conn.execute(
            "SELECT bericht_id, public, betrokkene FROM audit_record WHERE bericht_id IS NOT NULL"
        ).fetchall()
        total = conn.execute("SELECT COUNT(*) FROM audit_record").fetchone()[0]
    assert per_log, "no audit records at all"
    for log_id, count, low, high, distinct in per_log:
        assert (low, high, distinct) == (0, count - 1, count), f"log {log_id} has a gap"

    steps: dict[str, Counter[tuple[str, str | None, str | None]]] = defaultdict(Counter)
    afgeleverd: dict[str, set[str]] = defaultdict(set)
    for bericht_id, public_text, betrokkene in rows:
        public = json.loads(public_text)
        ontvanger = (public.get("ontvanger") or {}).get("oin")
        steps[bericht_id][(public["gebeurtenis"], ontvanger, betrokkene)] += 1
        if public["gebeurtenis"] == "afgeleverd":
            afgeleverd[bericht_id].add(public["sha256"])
    expected = Counter(
        [("ontvangen", None, s) for s in subjects]
        + [(g, vt_oin, s) for g in PER_RECIPIENT for s in subjects]
    )
    incomplete = {b: steps.get(b) for b in confirmed if steps.get(b) != expected}
    assert not incomplete, (len(incomplete), next(iter(incomplete.items())))
    assert total == MESSAGES * sum(expected.values())

    # --- the bytes delivered are the bytes audited (also for a copy re-published after the kill)
    mismatched = [d for d in vt_copies if d.sha256 not in afgeleverd[d.bericht_id or ""]]
    assert not mismatched, (len(mismatched), mismatched[:3])

    # --- after the graceful stop everything is signed: the export holds every record
    export = tmp_path / "export"
    exported = cli(settings, "audit", "export", str(export))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "not yet in a checkpoint" not in exported.stdout
    with (export / "records.jsonl").open() as handle:
        assert sum(1 for _ in handle) == total
    offline = cli(settings, "audit", "verify", str(export))
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "audit verify: sound" in offline.stdout
    live = cli(settings, "audit", "verify")
    assert live.returncode == 0, live.stdout + live.stderr
    assert "await their checkpoint" not in live.stdout


# --------------------------------------------------------------------------- a failing store


def _open_log(tmp_path: Path, **options: Any) -> tuple[Database, Keyring, AuditLog]:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    keyring = Keyring(tmp_path / "keys")
    audit = AuditLog(db, "test", keyring, **options)
    audit.open()
    return db, keyring, audit


def _break_store(db: Database) -> None:
    """The next group commit fails after its records were built (the node table is away)."""
    db.run_sync(lambda ex: ex("ALTER TABLE audit_node RENAME TO audit_node_weg"))


def _mend_store(db: Database) -> None:
    db.run_sync(lambda ex: ex("ALTER TABLE audit_node_weg RENAME TO audit_node"))


async def test_a_failed_group_commit_leaves_no_signed_checkpoint(tmp_path: Path) -> None:
    """A checkpoint signed while a group commit is written covers only committed records.

    (It once signed the tree the commit was still appending to: when that commit failed, the
    signed checkpoint covered records that never existed and the log never verified again.)
    """
    # checkpoint_seconds small: the ticker looks every 10 ms, also while a commit is written
    db, keyring, audit = _open_log(tmp_path, checkpoint_every=10**9, checkpoint_seconds=0.01)
    await audit.start()
    workload = Workload(catalogue.POLICY, subjects=1_000)
    try:
        _break_store(db)
        with pytest.raises(Transient):
            await audit.append(next(workload.batches(20_000, 20_000)))  # about a second
        _mend_store(db)
        await audit.append(next(workload.batches(100, 100)))
        await audit.close()
        checkpoints = await audit.checkpoints()
        outcome = db.run_sync(
            lambda ex: verify(audit.records(ex), checkpoints, keyring.public_keys())
        )
        assert [c.size for c in checkpoints] == [100]
        assert outcome.sound, outcome.problem
    finally:
        db.close()
