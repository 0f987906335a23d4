"""Reading the audit trail from outside the running gateway: export, verify, inzage, purge,
proofs. Each opens the audit store on its own (no log lock: the gateway may be running); the
reads that disclose (export, inzage) are themselves recorded in the ``<log id>-inzage`` log."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.export import EXPORT_FILES, write_export
from gateway.audit.inzage import Inzageoverzicht, fold
from gateway.audit.log import Entry
from gateway.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    prove_consistency,
    prove_inclusion,
)
from gateway.audit.reading import AuditReader
from gateway.audit.record import Record
from gateway.audit.signing import Checkpoint, Keyring, read_public_keys, read_trusted_keys
from gateway.audit.verify import ERASURE, ERASURE_GRONDSLAG, PURGE, Outcome, verify
from gateway.domain.model import KETENPOORT_NAAM
from gateway.policy.catalogue import Policy, load_policy
from gateway.runtime.app import open_audit
from gateway.runtime.settings import Settings, masked
from gateway.store.database import Database, Exec

__all__ = [
    "NAAM_VRAAG",
    "audit_consistency",
    "audit_erase",
    "audit_export",
    "audit_inzage",
    "audit_inzage_naam",
    "audit_prove",
    "audit_purge",
    "audit_verify_store",
    "inzage_row",
    "partner_namen",
    "verification_keys",
]


def _reader_on(db: Database, settings: Settings) -> AuditReader:
    """A reader of the audit store ``db`` (no log of its own, no lock: the gateway may run),
    its tables made or completed (a trail of an earlier version gets its later tables)."""
    reader = AuditReader(db, Keyring(settings.audit_key_dir))
    reader.ensure_schema()
    return reader


def _audit_reader(settings: Settings) -> tuple[Database, AuditReader]:
    """Read access to the audit store (made if it is not there yet)."""
    db = Database(settings.audit_dsn)
    return db, _reader_on(db, settings)


def _trail_reader(settings: Settings) -> tuple[Database, AuditReader] | str:
    """Read access to an audit trail that is there, or why there is none at the configured
    DSN (a wrong DSN or folder); asking creates nothing."""
    db = Database(settings.audit_dsn)
    try:
        if db.holds("audit_record"):
            return db, _reader_on(db, settings)
    except BaseException:
        db.close()
        raise
    db.close()
    return f"no audit trail at {masked('audit_dsn', settings.audit_dsn)} (KETENPOORT_AUDIT_DSN)"


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
    reader.keyring.ensure()  # the list of logs is signed (a first key, as at first start)
    try:
        checkpoints = await reader.checkpoints()
        last = _last_sizes(checkpoints)
        counts = db.run_sync(
            lambda ex: write_export(
                directory,
                _signed_records(ex, reader, last),
                checkpoints,
                reader.keyring,
                dt.datetime.now(dt.UTC),
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


def verification_keys(
    settings: Settings, trusted_keys: Path | None = None
) -> tuple[dict[str, Ed25519PublicKey], bool]:
    """(keys to check signatures with, whether they were pinned): the verifier keys in
    ``trusted_keys`` or the audit_trusted_keys setting, else the key folder's own (which
    only shows internal consistency)."""
    path = trusted_keys or settings.audit_trusted_keys
    if path is not None:
        return read_trusted_keys(path), True
    return read_public_keys(settings.audit_key_dir), False


async def audit_verify_store(
    settings: Settings, trusted_keys: Path | None = None
) -> tuple[Outcome, dict[str, int]]:
    """Verify the live store like an export; records after the last checkpoint are counted."""
    keys, pinned = verification_keys(settings, trusted_keys)
    opened = _trail_reader(settings)
    if isinstance(opened, str):  # a wrong DSN or folder: no trail is not a sound trail
        return Outcome(problem=f"{opened}: nothing to verify", trusted=pinned), {}
    db, reader = opened
    try:
        checkpoints = await reader.checkpoints()
        last = _last_sizes(checkpoints)
        outcome = db.run_sync(
            lambda ex: verify(_signed_records(ex, reader, last), checkpoints, keys)
        )
        total = _record_counts(db)
    finally:
        db.close()
    for log_id in last:
        if log_id not in total and outcome.sound:
            outcome.problem = f"checkpoint {log_id}@{last[log_id]}: no records of log {log_id}"
    outcome.trusted = pinned
    return outcome, {log_id: n - last.get(log_id, 0) for log_id, n in total.items()}


async def audit_inzage(settings: Settings, bsn: str, lezer: str) -> Inzageoverzicht:
    """A person's disclosures, messages not delivered and reads (:func:`fold`); the read
    itself is recorded first (who asked), so it is the last read listed."""
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
    return fold(records, partner_namen(policy, settings.gateway_oin))


NAAM_VRAAG = "historie van een betrokkene zonder BSN (naam en geboortedatum, gesleuteld)"


async def audit_inzage_naam(
    settings: Settings, naam: str, geboortedatum: dt.date, lezer: str
) -> tuple[Inzageoverzicht, int]:
    """The inzage of the people without a BSN recorded under this name and birth date (spec
    v2 §8: a keyed lookup, nothing in clear), and how many were found: the same person
    reported by several senders has a pseudonym per sender's persoonsnummer, so their
    histories are read together. Each read is recorded first, per person found (or once,
    without a subject, when nobody was)."""
    audit_db, audit, trail = open_audit(settings, f"{settings.audit_log_id}-inzage")
    policy = load_policy(settings.policy_dir)
    try:
        subjects = await audit.find(trail.zoeksleutel(naam, geboortedatum))
        vraag_id = str(uuid.uuid4())
        termijn = policy.bewaartermijn_dagen()
        await audit.append(
            [trail.inzage_van(lezer, s, vraag_id, termijn, NAAM_VRAAG) for s in subjects]
            or [trail.inzage_van(lezer, None, vraag_id, termijn, NAAM_VRAAG)]
        )
        records = [r for s in subjects for r in await audit.history(s)]
    finally:
        await audit.close()
        audit_db.close()
    return fold(records, partner_namen(policy, settings.gateway_oin)), len(subjects)


def partner_namen(policy: Policy, gateway_oin: str) -> dict[str, str]:
    """OIN -> the register's name of each partner, and the gateway's own name for its OIN
    (the inzage names who sent what to whom; the AfsprakenSignaal comes from the gateway)."""
    return {**{oin: p.naam for oin, p in policy.partners.items()}, gateway_oin: KETENPOORT_NAAM}


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


def _entry(gebeurtenis: str, status: str, extra: dict[str, Any], grondslag: str | None) -> Entry:
    vraag = str(uuid.uuid4())
    return Entry(
        gebeurtenis=gebeurtenis,
        dedup=f"{gebeurtenis}|{vraag}",
        trace_id=hashlib.sha256(vraag.encode()).hexdigest()[:32],
        span_id=secrets.token_hex(8),
        grondslag=grondslag,
        status=status,
        extra=extra,
    )


async def _record_in_inzage_log(settings: Settings, entry: Entry) -> None:
    """Append to this process's ``-inzage`` log and sign it (durable when this returns)."""
    audit_db, audit, _trail = open_audit(settings, f"{settings.audit_log_id}-inzage")
    try:
        await audit.append([entry])
    finally:
        await audit.close()
        audit_db.close()


async def audit_purge(settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Remove every personal part past its retention; record how many per log (counts, not
    content) in the ``-inzage`` log. Returns the counts."""
    moment = now or dt.datetime.now(dt.UTC)
    db, reader = _audit_reader(settings)
    try:
        counts = await reader.purge_counts(moment)
    finally:
        db.close()
    extra = {"peilmoment": moment.isoformat(), "verwijderd_per_log": counts}
    await _record_in_inzage_log(settings, _entry(PURGE, "bewaartermijn-verstreken", extra, None))
    return counts


async def audit_erase(settings: Settings, bsn: str, besluit_door: str, reden: str) -> list[str]:
    """A lawful early erasure (AVG art. 17): the person's records lose their personal part
    now. First an erasure record naming those records and who decided is appended and signed
    (``verify`` accepts a missing personal part only with it); then the parts go. Returns the
    records (``log/seq``)."""
    audit_db, audit, trail = open_audit(settings, f"{settings.audit_log_id}-inzage")
    try:
        records = await audit.history(trail.pseudonymise(bsn))
        places = [(r.log, r.seq) for r in records if r.personal is not None]
        named = [f"{log_id}/{seq}" for log_id, seq in places]
        extra = {"besluit_door": besluit_door, "reden": reden, "records": named}
        await audit.append([_entry(ERASURE, "gewist", extra, ERASURE_GRONDSLAG)])
        await audit.checkpoint()
        await audit.erase(places)
    finally:
        await audit.close()
        audit_db.close()
    return named


async def audit_prove(
    settings: Settings, log_id: str, seq: int, trusted_keys: Path | None = None
) -> tuple[InclusionProof | None, bool]:
    """(the inclusion proof of record ``seq`` against the newest checkpoint of its log, with
    its signature checked, or None; whether the keys were pinned)."""
    keys, pinned = verification_keys(settings, trusted_keys)
    opened = _trail_reader(settings)
    if isinstance(opened, str):
        return None, pinned
    db, reader = opened
    try:
        return await prove_inclusion(reader, log_id, seq, keys), pinned
    finally:
        db.close()


async def audit_consistency(
    settings: Settings, log_id: str, old: int, new: int, trusted_keys: Path | None = None
) -> tuple[ConsistencyProof | str, bool]:
    """(the consistency proof between two signed checkpoints of a log, or why none; whether
    the keys were pinned)."""
    keys, pinned = verification_keys(settings, trusted_keys)
    opened = _trail_reader(settings)
    if isinstance(opened, str):
        return opened, pinned
    db, reader = opened
    try:
        return await prove_consistency(reader, log_id, old, new, keys), pinned
    finally:
        db.close()
