"""Verify an audit trail without trusting the gateway: records against signed checkpoints.

Checks, per log, in order, stopping at the first failure (which is what is reported):
records are numbered 0, 1, 2, … without gaps; every record names its own log and seq; the
personal part, where present, matches its digest; every checkpoint's root equals the root of
the first ``size`` leaves; every checkpoint is signed by a known key; no record lies beyond the
last checkpoint; no checkpoint lies beyond the last record. Then, over every log: no personal
part is missing before its retention ended unless an erasure record (AVG art. 17, with who
decided) names that record.

Which keys are "known" is the caller's choice: keys the auditor pinned (``trusted``) or the
keys that came with the trail (only internal consistency). The export files are read in
:mod:`gateway.audit.export`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.merkle import Frontier, leaf_hash
from gateway.audit.record import Record, canonical
from gateway.audit.signing import Checkpoint, verify_checkpoint

__all__ = [
    "ERASURE",
    "ERASURE_GRONDSLAG",
    "PURGE",
    "Outcome",
    "retention_end",
    "verify",
    "verify_signed_to_the_end",
]


ERASURE = "gewist"  # gebeurtenis of a lawful early erasure (AVG art. 17)
ERASURE_GRONDSLAG = "AVG art. 17"
PURGE = "opgeschoond"  # gebeurtenis of a retention purge (counts per log)


@dataclass
class Outcome:
    """The result: sound, or the first problem (where and why)."""

    problem: str | None = None
    logs: dict[str, int] = field(default_factory=dict)  # log -> records verified
    checkpoints: int = 0
    trusted: bool = False  # every signature checked against keys pinned from outside
    erased: int = 0  # personal parts removed early, each covered by an erasure record

    @property
    def sound(self) -> bool:
        return self.problem is None


def verify(  # noqa: PLR0911, PLR0912 - one pass, each failure reported where it is found
    records: Iterable[Record],
    checkpoints: Iterable[Checkpoint],
    keys: Mapping[str, Ed25519PublicKey],
    *,
    now: dt.datetime | None = None,
) -> Outcome:
    """Check the records (by log, then seq) against the signed checkpoints; a personal part
    is due no earlier than its retention end as of ``now`` (default: the present)."""
    outcome = Outcome()
    retention = _Retention(now or dt.datetime.now(dt.UTC))
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
        retention.see(record)
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
    outcome.problem = retention.problem()
    outcome.erased = retention.erased
    return outcome


def retention_end(public: Mapping[str, object]) -> dt.datetime | None:
    """When a record's personal part may go (None: never, no retention was given)."""
    verwerking = public.get("verwerking")
    days = verwerking.get("bewaartermijn_dagen") if isinstance(verwerking, dict) else None
    tijd = public.get("tijd")
    if not isinstance(days, int) or not isinstance(tijd, str) or days <= 0:
        return None
    return dt.datetime.fromisoformat(tijd) + dt.timedelta(days=days)


class _Retention:
    """Personal parts missing before their time, and the erasure records that allow it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.early: list[tuple[str, int, dt.datetime | None]] = []
        self.allowed: set[str] = set()
        self.erased = 0

    def see(self, record: Record) -> None:
        public = record.public
        if public.get("gebeurtenis") == ERASURE:
            extra = public.get("extra") or {}
            named = extra.get("records") if isinstance(extra, dict) else None
            if (
                isinstance(named, list)
                and extra.get("besluit_door")
                and (public.get("verwerking") or {}).get("grondslag") == ERASURE_GRONDSLAG
            ):
                self.allowed.update(str(n) for n in named)
        if record.personal is None and public.get("persoonlijk_sha256") is not None:
            end = retention_end(public)
            if end is None or end > self.now:
                self.early.append((record.log, record.seq, end))

    def problem(self) -> str | None:
        for log_id, seq, end in self.early:
            if f"{log_id}/{seq}" in self.allowed:
                self.erased += 1
                continue
            until = "never" if end is None else f"on {end.isoformat()}"
            return (
                f"record {log_id}/{seq}: the personal part was removed before its retention "
                f"ended ({until}) and no erasure record (AVG art. 17) covers it"
            )
        return None


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
