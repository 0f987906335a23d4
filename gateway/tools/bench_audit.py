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

The records are like the trail's (``gateway.decision.trail``): per message ``ontvangen`` per data
subject, then ``gerouteerd``, ``gefilterd`` and ``afgeleverd`` for two recipients per subject
(a withheld subject: ``gefilterd`` only), often a ``bevestigd``, now and then a
``geweigerd`` message. Every data subject is a keyed pseudonym from a pool of ``subjects``
(50,000 by default), so one inzage finds a realistic few dozen records.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gateway.audit.log import AuditLog, Entry, Pseudonymiser
from gateway.audit.merkle import verify_consistency, verify_inclusion
from gateway.audit.signing import Keyring
from gateway.audit.verify import verify, verify_signed_to_the_end
from gateway.store.database import Database, Exec

LOG_ID = "bench"
TARGETS = {
    "append_records_per_s": 5_000.0,  # at least
    "verify_s": 60.0,  # at most
    "inzage_ms": 1_000.0,  # at most
    "inclusion_ms": 10.0,  # at most
}

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class _Route:
    berichttype: str
    afzender: tuple[str, str]
    doel: str
    grondslag: str
    bewaartermijn_dagen: int
    ontvangers: tuple[tuple[str, str, str], tuple[str, str, str]]  # (oin, rol, grondslag)
    categorieen: tuple[str, ...]


_POLITIE = ("00000099000000000101", "politie")
_VT = ("00000099000000000102", "veilig-thuis")
_OM = ("00000099000000000103", "openbaar-ministerie")
_RVDK = ("00000099000000000104", "raad-kinderbescherming")
_RECLASSERING = ("00000099000000000105", "reclassering")
_ALL = (
    "identificatie",
    "contact",
    "incident",
    "strafrechtelijk",
    "veiligheid",
    "gezinsprofiel",
    "gezondheid",
    "hulpverlening",
    "kind",
    "proces",
)
_ROUTES = (
    _Route(
        "VtMelding",
        _POLITIE,
        "VEILIGHEIDSBEOORDELING",
        "WMO2015-ART-5.2.6",
        1825,
        ((*_VT, "WMO2015-ART-5.2.6"), (*_RVDK, "JW-ART-7.3.11")),
        ("identificatie", "contact", "incident", "strafrechtelijk", "kind", "veiligheid"),
    ),
    _Route(
        "ZsmAanmelding",
        _POLITIE,
        "STRAFRECHTELIJKE_BESLISSING",
        "WJSG-ART-39F",
        2555,
        ((*_OM, "SV-ART-148"), (*_RECLASSERING, "WJSG-ART-39F")),
        ("identificatie", "incident", "strafrechtelijk", "proces", "veiligheid"),
    ),
    _Route(
        "Veiligheidsbeoordeling",
        _VT,
        "ACUTE_VEILIGHEID",
        "WPG-ART-19",
        1825,
        ((*_POLITIE, "WPG-ART-19"), (*_OM, "SV-ART-148")),
        ("identificatie", "contact", "veiligheid", "gezondheid", "proces"),
    ),
    _Route(
        "Adviesaanvraag",
        _OM,
        "RECLASSERINGSADVIES",
        "SV-ART-148",
        2555,
        ((*_RECLASSERING, "WJSG-ART-39F"), (*_RVDK, "WJSG-ART-39F")),
        ("identificatie", "strafrechtelijk", "hulpverlening", "proces"),
    ),
    _Route(
        "ActieoverlegAanmelding",
        _VT,
        "ACTIEOVERLEG",
        "WJSG-ART-39F",
        1825,
        ((*_OM, "WJSG-ART-39F"), (*_POLITIE, "WPG-ART-19")),
        ("identificatie", "incident", "veiligheid", "gezinsprofiel", "kind", "proces"),
    ),
)
_SUBJECT_COUNTS = (1, 2, 3, 4)  # data subjects in one message ...
_SUBJECT_WEIGHTS = (0.2, 0.35, 0.3, 0.15)  # ... and how often
_REFUSAL_CODES = ("SCHEMA_ONGELDIG", "DOEL_NIET_TOEGESTAAN", "BSN_ONGELDIG")


class Workload:
    """Realistic audit entries, one message at a time (seeded: the same run every time)."""

    def __init__(self, subjects: int = 50_000, seed: int = 20_261_120) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
        pseudonymise = Pseudonymiser(secrets.token_bytes(32))
        self.pool = [pseudonymise(f"{100_000_000 + i:09d}") for i in range(subjects)]
        self.policy = "1.0.0+sha256:bench"
        self.messages = 0
        self.used: set[str] = set()  # the subjects the records name (for inzage)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _hex(self, nbytes: int) -> str:
        return self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def message(self) -> list[Entry]:
        """The entries of one message (accepted, or now and then refused)."""
        rng = self.rng
        self.messages += 1
        route = rng.choice(_ROUTES)
        subjects = rng.sample(self.pool, rng.choices(_SUBJECT_COUNTS, _SUBJECT_WEIGHTS)[0])
        self.used.update(subjects)
        bericht_id = self._uuid()
        key = f"{route.afzender[0]}|{bericht_id}"
        base: dict[str, Any] = {
            "trace_id": self._hex(16),
            "berichttype": route.berichttype,
            "bericht_id": bericht_id,
            "afzender": route.afzender,
            "doel": route.doel,
            "policy": self.policy,
            "bewaartermijn_dagen": route.bewaartermijn_dagen,
        }
        received = self._hex(32)
        if rng.random() < 0.02:
            code = rng.choice(_REFUSAL_CODES)
            return [
                Entry(
                    gebeurtenis="geweigerd",
                    dedup=f"{key}|geweigerd||{subject}",
                    span_id=self._hex(8),
                    grondslag=route.grondslag,
                    sha256=received,
                    status=code,
                    betrokkene=subject,
                    **base,
                )
                for subject in subjects
            ]
        entries = [
            Entry(
                gebeurtenis="ontvangen",
                dedup=f"{key}|ontvangen||{subject}",
                span_id=self._hex(8),
                grondslag=route.grondslag,
                categorieen=route.categorieen,
                sha256=received,
                status="geaccepteerd",
                betrokkene=subject,
                **base,
            )
            for subject in subjects
        ]
        for oin, rol, grondslag in route.ontvangers:
            removed = tuple(sorted(rng.sample(route.categorieen, rng.randint(0, 2))))
            kept = tuple(sorted(set(route.categorieen) - set(removed)))
            delivered = self._hex(32)
            confirmed = rng.random() < 0.5
            for subject in sorted(subjects):
                withheld = rng.random() < 0.1
                for gebeurtenis in ("gerouteerd", "gefilterd", "afgeleverd"):
                    if withheld and gebeurtenis != "gefilterd":
                        continue
                    dedup = f"{key}|{gebeurtenis}|{oin}|{subject}"
                    entries.append(
                        Entry(
                            gebeurtenis=gebeurtenis,
                            dedup=dedup,
                            span_id=self._hex(8),
                            ontvanger=(oin, rol),
                            grondslag=grondslag,
                            categorieen=() if withheld else kept,
                            verwijderd=_ALL if withheld else removed,
                            sha256=delivered if gebeurtenis == "afgeleverd" else None,
                            status="weggelaten" if withheld else gebeurtenis,
                            betrokkene=subject,
                            **base,
                        )
                    )
                if confirmed and not withheld:
                    dedup = f"{key}|bevestigd|{oin}|{subject}|"
                    entries.append(
                        Entry(
                            gebeurtenis="bevestigd",
                            dedup=dedup,
                            trace_id=base["trace_id"],
                            span_id=self._hex(8),
                            bericht_id=bericht_id,
                            afzender=(route.afzender[0], ""),
                            ontvanger=(oin, rol),
                            status="afgeleverd",
                            betrokkene=subject,
                            bewaartermijn_dagen=route.bewaartermijn_dagen,
                        )
                    )
        return entries

    def batches(self, records: int, batch: int) -> Iterator[list[Entry]]:
        """Group commits of whole messages, about ``batch`` entries each, ``records`` in all."""
        left = records
        while left > 0:
            group: list[Entry] = []
            while len(group) < min(batch, left):
                group.extend(self.message())
            group = group[:left]
            left -= len(group)
            yield group


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
) -> dict[str, Any]:
    """Run the benchmark on a fresh store; returns the report (see the module docstring)."""
    if records < 1 or batch < 1:
        raise ValueError("records and batch must be at least 1")
    with ExitStack() as stack:
        store, folder, schema = _isolated(dsn, stack)
        return await _run(
            store, folder, schema, records, batch, subjects, proofs, checkpoint_every, progress
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
) -> dict[str, Any]:
    keyring = Keyring(folder / "keys")
    db = Database(store)
    audit = AuditLog(db, LOG_ID, keyring, checkpoint_every=checkpoint_every)
    audit.open()
    if audit.frontier.size:
        await audit.close()
        db.close()
        raise ValueError(f"{store} already holds a log {LOG_ID}: give an empty store")
    workload = Workload(subjects)
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
