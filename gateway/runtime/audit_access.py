"""Reading the audit trail from outside the running gateway: export, verify, inzage, purge,
proofs. Each opens the audit store on its own (no log lock: the gateway may be running); the
reads that disclose (export, inzage) are themselves recorded in the ``<log id>-inzage`` log."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from gateway.audit.reading import AuditReader
from gateway.audit.record import Record
from gateway.audit.signing import Checkpoint, Keyring, read_public_keys
from gateway.audit.verify import EXPORT_FILES, Outcome, verify, write_export
from gateway.policy.catalogue import load_policy
from gateway.runtime.app import open_audit
from gateway.runtime.settings import Settings
from gateway.store.database import Database, Exec

__all__ = [
    "INZAGE_COLUMNS",
    "audit_export",
    "audit_inzage",
    "audit_prove",
    "audit_purge",
    "audit_verify_store",
    "inzage_csv",
    "inzage_row",
]


def _audit_reader(settings: Settings) -> tuple[Database, AuditReader]:
    """Read access to the audit store (no log of its own, no lock: the gateway may run)."""
    db = Database(settings.audit_dsn)
    reader = AuditReader(db, Keyring(settings.audit_key_dir))
    reader.ensure_schema()
    return db, reader


def _signed_records(ex: Exec, reader: AuditReader, last: dict[str, int]) -> Iterator[Record]:
    for record in reader.records(ex):
        if record.seq < last.get(record.log, 0):
            yield record


async def audit_export(settings: Settings, directory: Path, lezer: str) -> dict[str, Any]:
    """Export every record covered by a signed checkpoint, the checkpoints and public keys.

    An export is a read of the whole trail (pseudonyms included): it is recorded right after
    it is written (so it is not part of itself); if that fails, the export is removed again.
    """
    existed = directory.exists()
    db, reader = _audit_reader(settings)
    try:
        checkpoints = await reader.checkpoints()
        last = _last_sizes(checkpoints)
        keys = reader.keyring.public_keys()
        counts = db.run_sync(
            lambda ex: write_export(
                directory,
                _signed_records(ex, reader, last),
                checkpoints,
                keys,
                dt.datetime.now(dt.UTC).isoformat(),
            )
        )
        total = _record_counts(db)
    finally:
        db.close()
    audit_db, audit, trail = open_audit(settings, f"{settings.audit_log_id}-inzage")
    try:
        await audit.append([trail.export(lezer, str(directory), str(uuid.uuid4()))])
    except Exception:
        for name in EXPORT_FILES:
            (directory / name).unlink(missing_ok=True)
        shutil.rmtree(directory / "keys", ignore_errors=True)
        if not existed:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        await audit.close()
        audit_db.close()
    return {
        "logs": counts,
        "nog_niet_getekend": {log: n - last.get(log, 0) for log, n in total.items()},
    }


def _record_counts(db: Database) -> dict[str, int]:
    """Records per log in the store (signed or not yet)."""
    return db.run_sync(
        lambda ex: {
            r[0]: int(r[1]) for r in ex("SELECT log, COUNT(*) FROM audit_record GROUP BY log")
        }
    )


def _last_sizes(checkpoints: list[Checkpoint]) -> dict[str, int]:
    last: dict[str, int] = {}
    for cp in checkpoints:
        last[cp.log] = max(last.get(cp.log, 0), cp.size)
    return last


async def audit_verify_store(settings: Settings) -> tuple[Outcome, dict[str, int]]:
    """Verify the live store like an export; records after the last checkpoint are counted."""
    db, reader = _audit_reader(settings)
    try:
        checkpoints = await reader.checkpoints()
        last = _last_sizes(checkpoints)
        keys = read_public_keys(settings.audit_key_dir)
        outcome = db.run_sync(
            lambda ex: verify(_signed_records(ex, reader, last), checkpoints, keys)
        )
        total = _record_counts(db)
    finally:
        db.close()
    for log_id in last:
        if log_id not in total and outcome.sound:
            outcome.problem = f"checkpoint {log_id}@{last[log_id]}: no records of log {log_id}"
    return outcome, {log_id: n - last.get(log_id, 0) for log_id, n in total.items()}


async def audit_inzage(settings: Settings, bsn: str, lezer: str) -> list[dict[str, Any]]:
    """A person's history, newest last; the read itself is recorded (who asked)."""
    audit_db, audit, trail = open_audit(settings, f"{settings.audit_log_id}-inzage")
    policy = load_policy(settings.policy_dir)
    try:
        await audit.append(
            [trail.inzage(lezer, bsn, str(uuid.uuid4()), policy.bewaartermijn_dagen())]
        )
        records = await audit.history(trail.pseudonymise(bsn))
    finally:
        await audit.close()
        audit_db.close()
    return [inzage_row(r) for r in records]


INZAGE_COLUMNS = (
    "tijd",
    "gebeurtenis",
    "afzender",
    "afzender_rol",
    "ontvanger",
    "ontvanger_rol",
    "berichttype",
    "bericht_id",
    "doel",
    "grondslag",
    "categorieen",
    "verwijderd",
    "status",
    "lezer",
    "log",
    "seq",
)


def inzage_csv(rows: list[dict[str, Any]], out: TextIO) -> None:
    """The inzage report as CSV (the CLI and the audit pages write the same one); log and seq
    name the record for ``ketenpoort audit prove``."""
    writer = csv.DictWriter(out, fieldnames=INZAGE_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **row,
                "categorieen": " ".join(row["categorieen"]),
                "verwijderd": " ".join(row["verwijderd"]),
            }
        )


def inzage_row(record: Record) -> dict[str, Any]:
    p = record.public
    verwerking = p.get("verwerking") or {}
    return {
        "tijd": p.get("tijd"),
        "gebeurtenis": p.get("gebeurtenis"),
        "afzender": (p.get("afzender") or {}).get("oin"),
        "afzender_rol": (p.get("afzender") or {}).get("rol"),
        "ontvanger": (p.get("ontvanger") or {}).get("oin"),
        "ontvanger_rol": (p.get("ontvanger") or {}).get("rol"),
        "berichttype": p.get("berichttype"),
        "bericht_id": p.get("bericht_id"),
        "doel": verwerking.get("doel"),
        "grondslag": verwerking.get("grondslag"),
        "categorieen": p.get("categorieen") or [],
        "verwijderd": p.get("verwijderd") or [],
        "status": p.get("status"),
        "lezer": (p.get("extra") or {}).get("lezer"),
        "log": record.log,
        "seq": record.seq,
    }


async def audit_purge(settings: Settings) -> int:
    db, reader = _audit_reader(settings)
    try:
        return await reader.purge()
    finally:
        db.close()


async def audit_prove(settings: Settings, log_id: str, seq: int) -> bool:
    db, reader = _audit_reader(settings)
    try:
        return await reader.prove(log_id, seq)
    except KeyError:
        return False
    finally:
        db.close()
