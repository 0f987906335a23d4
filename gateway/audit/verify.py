"""Verify an audit trail without trusting the gateway: records, checkpoints, public keys.

Export format (``ketenpoort audit export DIR``), documented in the README and written into
``DIR/LEESMIJ.md``:

- ``manifest.json``: ``{"formaat": "ketenpoort-audit-export/v1", "geexporteerd": time,
  "logs": {log id: {"records": n, "checkpoints": m}}}``
- ``records.jsonl``: one record a line, by log then seq:
  ``{"log", "seq", "public": {...}, "personal": {...} | null}``; the leaf is
  SHA-256(0x00 || canonical JSON of ``public``) (sorted keys, no spaces, UTF-8).
- ``checkpoints.jsonl``: ``{"log", "size", "root", "tijd", "key_id", "signature"}`` (base64);
  the signature is Ed25519 over the statement in ``gateway/audit/signing.py``.
- ``keys/<key id>.pub``: the raw Ed25519 public keys, base64.

Checks, per log, in order, stopping at the first failure (which is what is reported):
records are numbered 0, 1, 2, … without gaps; every record names its own log and seq; the
personal part, where present, matches its digest; every checkpoint's root equals the root of
the first ``size`` leaves; every checkpoint is signed by a known key; no record lies beyond the
last checkpoint; no checkpoint lies beyond the last record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.merkle import Frontier, leaf_hash
from gateway.audit.record import Record, canonical
from gateway.audit.signing import Checkpoint, read_public_keys, verify_checkpoint

EXPORT_FORMAT = "ketenpoort-audit-export/v1"
EXPORT_FILES = ("manifest.json", "records.jsonl", "checkpoints.jsonl", "LEESMIJ.md")


@dataclass
class Outcome:
    """The result: sound, or the first problem (where and why)."""

    problem: str | None = None
    logs: dict[str, int] = field(default_factory=dict)  # log -> records verified
    checkpoints: int = 0

    @property
    def sound(self) -> bool:
        return self.problem is None


def verify(  # noqa: PLR0911, PLR0912 - one pass, each failure reported where it is found
    records: Iterable[Record],
    checkpoints: Iterable[Checkpoint],
    keys: dict[str, Ed25519PublicKey],
) -> Outcome:
    """Check the records (by log, then seq) against the signed checkpoints."""
    outcome = Outcome()
    by_log: dict[str, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_log.setdefault(cp.log, []).append(cp)
    for cps in by_log.values():
        cps.sort(key=lambda c: c.size)
    for cps in by_log.values():
        for cp in cps:
            why = verify_checkpoint(cp, keys)
            if why is not None:
                outcome.problem = f"checkpoint {cp.log}@{cp.size}: {why}"
                return outcome
            outcome.checkpoints += 1

    current: str | None = None
    frontier = Frontier()
    pending: list[Checkpoint] = []
    for record in records:
        if record.log != current:
            if current is not None and (problem := _close(current, frontier, pending)):
                outcome.problem = problem
                return outcome
            if record.log in outcome.logs:
                outcome.problem = f"record {record.log}/{record.seq}: records of this log are split"
                return outcome
            current, frontier = record.log, Frontier()
            pending = list(by_log.pop(record.log, []))
            outcome.logs[current] = 0
        if problem := _check(record, frontier.size):
            outcome.problem = problem
            return outcome
        frontier.append(leaf_hash(canonical(record.public)))
        outcome.logs[record.log] += 1
        while pending and pending[0].size == frontier.size:
            cp = pending.pop(0)
            if cp.root != frontier.root():
                outcome.problem = (
                    f"checkpoint {cp.log}@{cp.size}: root does not match the records "
                    f"(a record before seq {cp.size} was changed, removed, added or moved)"
                )
                return outcome
        if pending and pending[0].size < frontier.size:
            cp = pending[0]
            outcome.problem = f"checkpoint {cp.log}@{cp.size}: duplicate or out-of-order checkpoint"
            return outcome
    if current is not None and (problem := _close(current, frontier, pending)):
        outcome.problem = problem
        return outcome
    for log_id, cps in by_log.items():
        if cps:
            outcome.problem = (
                f"checkpoint {log_id}@{cps[0].size}: no records of log {log_id} "
                "(records were removed)"
            )
            return outcome
    return outcome


def _check(record: Record, expected_seq: int) -> str | None:
    where = f"record {record.log}/{record.seq}"
    if record.seq != expected_seq:
        return f"{where}: expected seq {expected_seq} (a record was removed, inserted or moved)"
    if record.index_problem is not None:
        return f"{where}: {record.index_problem}"
    named = (record.public.get("log"), record.public.get("seq"))
    if named != (record.log, record.seq):
        return f"{where}: the record names another place ({named[0]}/{named[1]})"
    digest = record.public.get("persoonlijk_sha256")
    if (
        record.personal is not None
        and digest != hashlib.sha256(canonical(record.personal)).hexdigest()
    ):
        return f"{where}: the personal part does not match its digest"
    return None


def _close(log_id: str, frontier: Frontier, pending: list[Checkpoint]) -> str | None:
    if pending:
        cp = pending[0]
        return (
            f"checkpoint {log_id}@{cp.size}: only {frontier.size} records "
            "(records at the end were removed)"
        )
    return None


def verify_signed_to_the_end(outcome: Outcome, checkpoints: Iterable[Checkpoint]) -> Outcome:
    """Fail when a log has records beyond its last checkpoint (an unsigned tail)."""
    if not outcome.sound:
        return outcome
    last: dict[str, int] = {}
    for cp in checkpoints:
        last[cp.log] = max(last.get(cp.log, 0), cp.size)
    for log_id, count in outcome.logs.items():
        if count > last.get(log_id, 0):
            outcome.problem = (
                f"record {log_id}/{last.get(log_id, 0)}: not covered by a signed checkpoint "
                f"({count - last.get(log_id, 0)} record(s) after the last one)"
            )
            return outcome
    return outcome


# --------------------------------------------------------------------------- export files


def read_records(directory: Path) -> Iterator[Record]:
    with (directory / "records.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                yield Record(
                    log=str(data["log"]),
                    seq=int(data["seq"]),
                    public=data["public"],
                    personal=data.get("personal"),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"records.jsonl line {number}: {exc}") from None


def read_checkpoints(directory: Path) -> list[Checkpoint]:
    checkpoints = []
    with (directory / "checkpoints.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                checkpoints.append(Checkpoint.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"checkpoints.jsonl line {number}: {exc}") from None
    return checkpoints


def verify_export(directory: Path) -> Outcome:
    """Verify an export folder offline (only its files and public keys)."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("formaat") != EXPORT_FORMAT:
            return Outcome(problem=f"manifest.json: not a {EXPORT_FORMAT} export")
        checkpoints = read_checkpoints(directory)
        keys = read_public_keys(directory / "keys")
        outcome = verify(read_records(directory), checkpoints, keys)
    except (OSError, ValueError) as exc:
        return Outcome(problem=str(exc))
    return verify_signed_to_the_end(outcome, checkpoints)


def write_export(
    directory: Path,
    records: Iterable[Record],
    checkpoints: list[Checkpoint],
    keys: dict[str, Ed25519PublicKey],
    exported: str,
) -> dict[str, dict[str, int]]:
    """Write the export files; returns the per-log counts."""
    from gateway.audit.signing import public_text  # noqa: PLC0415 - keeps the module light

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "keys").mkdir(exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    with (directory / "records.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(
                json.dumps(
                    {
                        "log": record.log,
                        "seq": record.seq,
                        "public": record.public,
                        "personal": record.personal,
                    },
                    sort_keys=True,
                    ensure_ascii=False,
                )
                + "\n"
            )
            counts.setdefault(record.log, {"records": 0, "checkpoints": 0})["records"] += 1
    with (directory / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
        for cp in checkpoints:
            handle.write(json.dumps(cp.to_json(), sort_keys=True) + "\n")
            counts.setdefault(cp.log, {"records": 0, "checkpoints": 0})["checkpoints"] += 1
    for kid, public in keys.items():
        (directory / "keys" / f"{kid}.pub").write_text(public_text(public))
    (directory / "manifest.json").write_text(
        json.dumps({"formaat": EXPORT_FORMAT, "geexporteerd": exported, "logs": counts}, indent=2)
        + "\n"
    )
    (directory / "LEESMIJ.md").write_text(_LEESMIJ)
    return counts


_LEESMIJ = """# Ketenpoort audit export

Verify with `ketenpoort audit verify <this folder>` (needs nothing but these files), or by
hand: for each log, records are numbered from 0 without gaps; the leaf of a record is
SHA-256(0x00 || canonical JSON of its "public" part) (sorted keys, no spaces, UTF-8); nodes are
SHA-256(0x01 || left || right) as RFC 6962 defines the Merkle tree; every line of
checkpoints.jsonl gives a tree size and root, signed with Ed25519 (keys/<key_id>.pub, raw
public key in base64) over:

    ketenpoort-audit-checkpoint/v1
    <log>
    <size>
    <root, base64>
    <tijd>

The "personal" part holds only a keyed pseudonym of the data subject and a salt; its SHA-256
is in the public part ("persoonlijk_sha256"). After the retention period it is removed; the
leaf, and so every checkpoint, stays valid.
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
