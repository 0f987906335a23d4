"""``ketenpoort bench audit``: how the audit trail holds up at volume.

Fills a fresh audit store (a temporary SQLite file, or a fresh schema in the PostgreSQL
database of ``dsn``) with ``records`` realistic records, written the way the gateway writes
them under load: group commits of a few thousand records (the entries of whole messages),
each durable when :meth:`AuditLog.append` returns, with checkpoints signed as the gateway
signs them. Then it measures what an auditor and an officer do:

- append rate: records per second over the group commits (durable);
- full verification: every record against every signed checkpoint, as
  ``ketenpoort audit verify`` does on the live store;
- one inzage: :meth:`AuditLog.history` for one data subject (and whether the query uses the
  index on the pseudonym);
- one inclusion proof: :meth:`AuditLog.inclusion` + :func:`verify_inclusion` of a random
  record against the latest checkpoint (mean over ``proofs``);
- one consistency proof between two random checkpoints (mean over ``proofs``);
- the size of the store.

The records come from :class:`gateway.tools.audit_workload.Workload` (like the trail's, over a
pool of ``subjects`` pseudonymous data subjects, 50,000 by default); this module measures.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gateway.audit.log import AuditLog
from gateway.audit.merkle import verify_consistency, verify_inclusion
from gateway.audit.signing import Keyring
from gateway.audit.verify import verify, verify_signed_to_the_end
from gateway.policy.catalogue import load_policy
from gateway.runtime.settings import Settings, load_settings
from gateway.store.database import Database, Exec
from gateway.tools.audit_workload import Workload

__all__ = ["LOG_ID", "TARGETS", "Progress", "bench_audit", "run"]

LOG_ID = "bench"
TARGETS = {
    "append_records_per_s": 5_000.0,  # at least
    "verify_s": 60.0,  # at most
    "inzage_ms": 1_000.0,  # at most
    "inclusion_ms": 10.0,  # at most
}

Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _isolated(dsn: str | None, stack: ExitStack) -> tuple[str, Path, str | None]:
    """(DSN of a fresh, empty store, a temporary folder, the PostgreSQL schema if any)."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kp-bench-")))
    if dsn is None:
        return f"sqlite:///{folder / 'audit.db'}", folder, None
    if not dsn.startswith(("postgresql://", "postgres://")):
        return dsn, folder, None  # a SQLite file named by the caller
    schema = f"kp_bench_{secrets.token_hex(4)}"
    admin = Database(dsn)
    try:
        admin.run_sync(lambda ex: ex(f"CREATE SCHEMA {schema}"))
    finally:
        admin.close()

    def drop() -> None:
        db = Database(dsn)
        try:
            db.run_sync(lambda ex: ex(f"DROP SCHEMA {schema} CASCADE"))
        finally:
            db.close()

    stack.callback(drop)
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options={quote(f'-c search_path={schema}')}", folder, schema


def _size(db: Database, schema: str | None) -> int:
    if db.kind == "sqlite":
        db.run_sync(lambda ex: ex("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
        path = Path(db.dsn.removeprefix("sqlite:///"))
        return sum(
            p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )

    def work(ex: Exec) -> int:
        row = ex(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ? "
            "AND c.relname IN ('audit_record', 'audit_node', 'audit_checkpoint')",
            (schema,),
        ).fetchone()
        return int(row[0])

    return db.run_sync(work)


def _inzage_plan(db: Database, betrokkene: str) -> str:
    """How the store answers the inzage query (it must use the index on the pseudonym)."""
    query = (
        "SELECT log, seq, public, personal FROM audit_record WHERE betrokkene = ? "
        "ORDER BY tijd, log, seq"
    )
    if db.kind == "sqlite":
        rows = db.run_sync(lambda ex: ex(f"EXPLAIN QUERY PLAN {query}", (betrokkene,)).fetchall())
        return "; ".join(str(r[-1]) for r in rows)
    rows = db.run_sync(lambda ex: ex(f"EXPLAIN {query}", (betrokkene,)).fetchall())
    return "; ".join(str(r[0]).strip() for r in rows)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


async def bench_audit(
    records: int = 1_000_000,
    *,
    dsn: str | None = None,
    batch: int = 2_000,
    subjects: int = 50_000,
    proofs: int = 100,
    checkpoint_every: int = 10_000,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run the benchmark on a fresh store; returns the report (see the module docstring).
    The workload's partners come from the policy of ``settings`` (default:
    :func:`load_settings`)."""
    if records < 1 or batch < 1:
        raise ValueError("records and batch must be at least 1")
    with ExitStack() as stack:
        store, folder, schema = _isolated(dsn, stack)
        return await _run(
            store,
            folder,
            schema,
            records,
            batch,
            subjects,
            proofs,
            checkpoint_every,
            progress,
            (settings or load_settings()).policy_dir,
        )


async def _run(  # noqa: PLR0915 - one measurement after the other, top to bottom
    store: str,
    folder: Path,
    schema: str | None,
    records: int,
    batch: int,
    subjects: int,
    proofs: int,
    checkpoint_every: int,
    progress: Progress | None,
    policy_dir: Path,
) -> dict[str, Any]:
    keyring = Keyring(folder / "keys")
    db = Database(store)
    audit = AuditLog(db, LOG_ID, keyring, checkpoint_every=checkpoint_every)
    audit.open()
    if audit.frontier.size:
        await audit.close()
        db.close()
        raise ValueError(f"{store} already holds a log {LOG_ID}: give an empty store")
    workload = Workload(load_policy(policy_dir), subjects)
    report: dict[str, Any] = {
        "engine": db.kind,
        "records": records,
        "batch": batch,
        "subjects": subjects,
    }
    try:
        # ---------------------------------------------------------------- append
        appending = 0.0
        commits = 0
        started = time.perf_counter()
        for group in workload.batches(records, batch):
            t0 = time.perf_counter()
            await audit.append(group)
            appending += time.perf_counter() - t0
            commits += 1
            if progress is not None:
                progress("append", audit.frontier.size, records)
        await audit.checkpoint()  # as the gateway does when it stops: everything signed
        wall = time.perf_counter() - started
        if audit.frontier.size != records:
            raise RuntimeError(f"wrote {audit.frontier.size} records, expected {records}")
        report.update(
            messages=workload.messages,
            commits=commits,
            append_s=round(appending, 3),
            append_wall_s=round(wall, 3),
            append_records_per_s=round(records / appending, 1),
        )
    finally:
        await audit.close()
        db.close()

    # -------------------------------------------------------------------- read side
    reader_db = Database(store)
    reader = AuditLog(reader_db, "lezer", keyring)
    try:
        report["db_bytes"] = _size(reader_db, schema)
        report["bytes_per_record"] = round(report["db_bytes"] / records, 1)
        if progress is not None:
            progress("verify", 0, records)
        t0 = time.perf_counter()
        checkpoints = await reader.checkpoints()
        keys = keyring.public_keys()
        outcome = reader_db.run_sync(lambda ex: verify(reader.records(ex), checkpoints, keys))
        outcome = verify_signed_to_the_end(outcome, checkpoints)
        report.update(
            verify_s=round(time.perf_counter() - t0, 3),
            verify_sound=outcome.sound,
            verify_problem=outcome.problem,
            verified_records=sum(outcome.logs.values()),
            checkpoints=outcome.checkpoints,
        )
        if progress is not None:
            progress("verify", records, records)

        rng = random.Random(7)  # noqa: S311 - which records to look up, not a secret
        # ------------------------------------------------------------------ inzage
        named = sorted(workload.used)
        report["inzage_plan"] = _inzage_plan(reader_db, named[0])
        lookups = rng.sample(named, min(20, len(named)))
        times, found = [], []
        for betrokkene in lookups:
            t0 = time.perf_counter()
            history = await reader.history(betrokkene)
            times.append(time.perf_counter() - t0)
            found.append(len(history))
        report.update(
            inzage_ms=_ms(statistics.median(times)),
            inzage_max_ms=_ms(max(times)),
            inzage_records=statistics.median(found),
            inzage_records_max=max(found),
        )

        # ------------------------------------------------------------------ proofs
        latest = checkpoints[-1]
        times, sound = [], True
        for _ in range(proofs):
            seq = rng.randrange(latest.size)
            t0 = time.perf_counter()
            leaf, path = await reader.inclusion(LOG_ID, seq, latest.size)
            sound = verify_inclusion(leaf, seq, latest.size, path, latest.root) and sound
            times.append(time.perf_counter() - t0)
        report.update(inclusion_ms=_ms(statistics.mean(times)), inclusion_sound=sound)

        times, sound = [], True
        for _ in range(proofs if len(checkpoints) > 1 else 0):
            old, new = sorted(rng.sample(checkpoints, 2), key=lambda c: c.size)
            t0 = time.perf_counter()
            proof = await reader.consistency(LOG_ID, old.size, new.size)
            sound = verify_consistency(old.size, new.size, proof, old.root, new.root) and sound
            times.append(time.perf_counter() - t0)
        report.update(
            consistency_ms=_ms(statistics.mean(times)) if times else None,
            consistency_sound=sound,
        )
    finally:
        reader_db.close()

    report["targets"] = {
        "append_records_per_s": report["append_records_per_s"] >= TARGETS["append_records_per_s"],
        "verify_s": report["verify_s"] <= TARGETS["verify_s"],
        "inzage_ms": report["inzage_ms"] <= TARGETS["inzage_ms"],
        "inclusion_ms": report["inclusion_ms"] <= TARGETS["inclusion_ms"],
    }
    report["sound"] = bool(
        report["verify_sound"]
        and report["verified_records"] == records
        and report["inclusion_sound"]
        and report["consistency_sound"]
    )
    report["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return report


def run(records: int = 1_000_000, **options: Any) -> dict[str, Any]:
    """:func:`bench_audit` from synchronous code (the command line, tests)."""
    return asyncio.run(bench_audit(records, **options))
