"""An audit store in tests (SQLite or a PostgreSQL schema of its own), realistic entries, export
files and store rows to tamper with: shared by the audit suites."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from typer.testing import CliRunner, Result

from gateway.audit.log import AuditLog, Entry, Pseudonymiser
from gateway.audit.note import NOTE_KEY_NAME, note_key_id
from gateway.audit.signing import Checkpoint, Keyring, read_public_keys
from gateway.audit.verify import Outcome, verify
from gateway.cli.main import app as cli_app
from gateway.decision.besluit import ingress
from gateway.decision.trail import Trail
from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode
from gateway.runtime.settings import ROOT
from gateway.store.database import Database, Exec
from tests.support import catalogue
from tests.support.decisions import decide

PG = "postgresql://postgres@127.0.0.1:5432/test"
EXAMPLES_DIR = ROOT / "examples"
LONG = 1825  # days: the usual retention in policy/v1/doelen.yaml
OM = "00000099000000000103"
_T = TypeVar("_T")

runner = CliRunner()


# =========================================================================== stores


def flip(data: bytes, at: int = 0) -> bytes:
    at %= len(data)
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@dataclass
class Store:
    """One audit store (engine, DSN) with its key folder and log id."""

    engine: str
    dsn: str
    tmp: Path
    log_id: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:8]}")

    @property
    def key_dir(self) -> Path:
        return self.tmp / "keys"

    def env(self) -> dict[str, str]:
        return {
            "KETENPOORT_AUDIT_DSN": self.dsn,
            "KETENPOORT_AUDIT_KEY_DIR": str(self.key_dir),
            "KETENPOORT_AUDIT_LOG_ID": self.log_id,
            "KETENPOORT_STATE_DSN": f"sqlite:///{self.tmp / 'state.db'}",
        }

    def sql(self, work: Callable[[Exec], _T]) -> _T:
        """Run ``work`` in one transaction on a connection of its own (the tamperer's)."""
        db = Database(self.dsn)
        try:
            return db.run_sync(work)
        finally:
            db.close()

    def pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser.from_file(self.key_dir / "pseudoniem.secret")

    def log(self, log_id: str | None = None, *, every: int = 10) -> tuple[Database, AuditLog]:
        db = Database(self.dsn)
        audit = AuditLog(db, log_id or self.log_id, Keyring(self.key_dir), checkpoint_every=every)
        return db, audit

    def cli(self, *args: str | Path) -> Result:
        return runner.invoke(cli_app, [str(a) for a in args], env=self.env())

    def trusted(self, *, refresh: bool = False) -> Path:
        """The verifier keys as an auditor pins them (written once, from `audit keys`)."""
        path = self.tmp / "trusted-keys.txt"
        if refresh or not path.exists():
            result = self.cli("audit", "keys")
            assert result.exit_code == 0, result.output
            path.write_text(result.output)
        return path

    def verify(self, *args: str | Path) -> Result:
        """`audit verify` with the pinned keys."""
        return self.cli("audit", "verify", *args, "--trusted-keys", self.trusted())

    def note_id(self, kid: str) -> str:
        return note_key_id(NOTE_KEY_NAME, read_public_keys(self.key_dir)[kid])


def store_on(engine: str, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on ``engine`` (a PostgreSQL schema is dropped afterwards)."""
    if engine == "sqlite":
        yield Store("sqlite", f"sqlite:///{tmp_path / 'audit.db'}", tmp_path)
        return
    schema = f"kp_audit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Store("postgresql", f"{PG}?options=-csearch_path%3D{schema}", tmp_path)
    finally:
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


# --------------------------------------------------------------------------- realistic entries


@functools.cache
def decisions() -> tuple[tuple[str, Any], ...]:
    """Every example through the real pipeline (in a conversation every partner took part in):
    the Besluit, and
    one refusal (a VtMelding sent by the wrong party)."""
    codec = catalogue.CODEC
    found: list[tuple[str, Any]] = []
    for path in sorted(EXAMPLES_DIR.glob("*/*.xml")):
        raw = path.read_bytes()
        oin = re.search(rb'<kp:Afzender oin="(\d{20})"', raw)
        assert oin is not None
        # in a conversation every partner took part in (the ActieoverlegBesluit goes to those)
        try:
            besluit = decide(
                raw, oin.group(1).decode(), deelnemers=frozenset(catalogue.POLICY.partners)
            )
        except Refused as refused:
            # v2 §6's answers and Terugmeldingen route by routing memory this offline walk
            # does not have (the asker, the casusregie holder): not audit data here
            if refused.code not in (Foutcode.GEEN_ONTVANGER, Foutcode.ONTVANGER_NIET_TOEGESTAAN):
                raise
            continue
        found.append((str(path.relative_to(EXAMPLES_DIR)), besluit))
    raw = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
    ontvangen = ingress(raw, OM)
    bericht = codec.read(raw)
    with pytest.raises(Refused) as refusal:
        decide(raw, OM)
    found.append(("refused", (refusal.value, ontvangen, bericht)))
    return tuple(found)


def message_entries(
    trail: Trail, dagen: Callable[[str], int] = lambda _: LONG
) -> list[list[Entry]]:
    """One group of entries per message (as the gateway appends them), plus follow-ups and
    an inzage."""
    groups: list[list[Entry]] = []
    for rel, decision in decisions():
        if rel == "refused":
            refused, ontvangen, bericht = decision
            groups.append(
                trail.refused(refused, ontvangen, bericht, bericht.kop.bericht_id, dagen(rel))
            )
            continue
        groups.append(trail.accepted(decision.gerouteerd, decision.leveringen, dagen(rel)))
        if rel == "politie/ZsmAanmelding.xml":
            kop = decision.bericht.kop
            groups.append(
                Trail.follow_up(
                    "bevestigd",
                    afzender=kop.afzender.oin,
                    bericht_id=kop.bericht_id,
                    ontvanger=(OM, "openbaar-ministerie"),
                    subjects=[e.betrokkene for e in groups[-1] if e.gebeurtenis == "ontvangen"],
                    status="afgeleverd",
                    bewaartermijn_dagen=dagen(rel),
                )
            )
    groups.append([trail.inzage("auditor", "999990032", str(uuid.uuid4()), LONG)])
    return groups


@dataclass
class Built:
    store: Store
    size: int
    checkpoints: list[Checkpoint]
    kid: str

    @property
    def log_id(self) -> str:
        return self.store.log_id

    def first_checkpoint_above(self, seq: int) -> int:
        return min(cp.size for cp in self.checkpoints if cp.size > seq)

    def middle_checkpoint(self) -> Checkpoint:
        return self.checkpoints[len(self.checkpoints) // 2]


async def append_all(
    store: Store, groups: list[list[Entry]], *, every: int = 10, log_id: str | None = None
) -> None:
    db, audit = store.log(log_id, every=every)
    try:
        audit.open()
        for group in groups:
            await audit.append(group)
        await audit.checkpoint()
        await audit.close()
    finally:
        db.close()


def checkpoints_of(store: Store, log_id: str | None = None) -> list[Checkpoint]:
    db, reader = store.log("lezer")
    try:
        return asyncio.run(reader.checkpoints(log_id or store.log_id))
    finally:
        db.close()


def build(store: Store, **kwargs: Any) -> Built:
    trail = Trail(store.pseudonymiser())
    asyncio.run(append_all(store, message_entries(trail, **kwargs)))
    checkpoints = checkpoints_of(store)
    (kid,) = read_public_keys(store.key_dir)
    built = Built(store, checkpoints[-1].size, checkpoints, kid)
    assert len(checkpoints) >= 8, [c.size for c in checkpoints]
    assert (
        built.size
        == store.sql(
            lambda ex: ex(
                "SELECT COUNT(*) FROM audit_record WHERE log = ?", (store.log_id,)
            ).fetchone()
        )[0]
    )
    return built


def live_outcome(store: Store, now: dt.datetime | None = None) -> Outcome:
    """verify() over every record and checkpoint of the live store."""
    db, reader = store.log("lezer")
    try:
        checkpoints = asyncio.run(reader.checkpoints())
        keys = read_public_keys(store.key_dir)
        return db.run_sync(lambda ex: verify(reader.records(ex), checkpoints, keys, now=now))
    finally:
        db.close()


def export(store: Store, name: str = "export") -> Path:
    directory = store.tmp / name
    result = store.cli("audit", "export", directory)
    assert result.exit_code == 0, result.output
    return directory


# --------------------------------------------------------------------------- export files


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows), "utf-8"
    )


def edit_records(directory: Path, change: Callable[[list[dict[str, Any]]], object]) -> None:
    rows = read_lines(directory / "records.jsonl")
    change(rows)
    write_lines(directory / "records.jsonl", rows)


def edit_checkpoint(directory: Path, size: int, change: Callable[[dict[str, Any]], None]) -> None:
    rows = read_lines(directory / "checkpoints.jsonl")
    (row,) = [r for r in rows if r["size"] == size]
    change(row)
    write_lines(directory / "checkpoints.jsonl", rows)


def edit_note(directory: Path, at: int, **changes: Any) -> None:
    """Change what the checkpoint of size ``at`` says, keeping its signature (which then
    fails)."""

    def change(row: dict[str, Any]) -> None:
        forged = dataclasses.replace(Checkpoint.from_note(row["note"]), **changes)
        row.update(size=forged.size, note=forged.note())

    edit_checkpoint(directory, at, change)


SHORT = {"raad-kinderbescherming/Reclasseringsadvies.xml", "openbaar-ministerie/Adviesaanvraag.xml"}


__all__ = [
    "EXAMPLES_DIR",
    "LONG",
    "OM",
    "PG",
    "SHORT",
    "Built",
    "Store",
    "append_all",
    "build",
    "checkpoints_of",
    "decisions",
    "edit_checkpoint",
    "edit_note",
    "edit_records",
    "export",
    "flip",
    "live_outcome",
    "message_entries",
    "read_lines",
    "runner",
    "store_on",
    "write_lines",
]
