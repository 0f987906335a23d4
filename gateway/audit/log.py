"""The audit trail: an append-only, tamper-evident log of every step that touches personal data.

Each record is a leaf of an RFC 6962 Merkle tree. A record has two parts:

- ``public``: what happened (event, time, trace/span, doel, grondslag, policy version,
  retention, sender and recipient, BerichtType, BerichtId, categories, SHA-256 of the exact
  bytes, status) and the SHA-256 of the personal part. The leaf is the hash of this part, so
  it binds the personal part without containing it.
- ``personal``: the data subject as a keyed pseudonym (HMAC of the BSN with a deployment
  secret; never the BSN, a name or free text) and a random salt. Retention (``purge``) deletes
  this part; every leaf, checkpoint and proof still verifies, and the record can no longer be
  linked to the person.

Appends are group-committed (one transaction for everything pending) and durable when
:meth:`AuditLog.append` returns; the gateway delivers nothing before that. A failing store
raises :class:`Transient`.

Several gateway processes: each writes its own log (its own tree, ``log`` = the process's
log id) into the same store; a log is held by one process at a time (a lock file for SQLite,
an advisory lock for PostgreSQL). Verification checks every log's tree and checkpoints.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gateway.audit.merkle import (
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_inclusion,
)
from gateway.audit.signing import Checkpoint, Keyring
from gateway.domain.errors import Misconfigured, Transient
from gateway.observe.logs import get_logger
from gateway.store.database import Database, Exec

log = get_logger("ketenpoort.audit")

FORMAT = "ketenpoort-audit/v1"


def canonical(data: Any) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Pseudonymiser:
    """BSN → keyed pseudonym (HMAC-SHA256 with the deployment secret)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise Misconfigured("the audit pseudonym secret must be at least 16 bytes")
        self._secret = secret

    def __call__(self, bsn: str) -> str:
        return hmac.new(self._secret, bsn.strip().encode(), hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def from_file(path: Path) -> Pseudonymiser:
        """Read the secret, creating one (mode 0600) on first start."""
        if not path.exists():
            # written whole, then linked into place: a replica starting at the same moment
            # either creates it or reads the complete file of the other
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            tmp.unlink()
        return Pseudonymiser(path.read_text().strip().encode())


@dataclass(frozen=True)
class Entry:
    """One audit record as the gateway hands it in (before it has a place in the log)."""

    gebeurtenis: str
    dedup: str  # the same step of the same message is recorded once
    trace_id: str
    span_id: str
    berichttype: str | None = None
    bericht_id: str | None = None
    afzender: tuple[str, str] | None = None  # (OIN, rol)
    ontvanger: tuple[str, str] | None = None
    doel: str | None = None
    grondslag: str | None = None
    policy: str | None = None
    bewaartermijn_dagen: int | None = None
    categorieen: tuple[str, ...] = ()
    verwijderd: tuple[str, ...] = ()
    sha256: str | None = None
    status: str | None = None
    betrokkene: str | None = None  # the pseudonym (personal part)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    log: str
    seq: int
    public: dict[str, Any]
    personal: dict[str, Any] | None
    # read from a live store: why its lookup columns disagree with it (None: they agree)
    index_problem: str | None = None

    def leaf(self) -> bytes:
        return leaf_hash(canonical(self.public))


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit_record (
        log TEXT NOT NULL,
        seq BIGINT NOT NULL,
        leaf {blob} NOT NULL,
        public TEXT NOT NULL,
        personal TEXT,
        betrokkene TEXT,
        bericht_id TEXT,
        tijd TEXT NOT NULL,
        verloopt TEXT,
        dedup TEXT NOT NULL,
        PRIMARY KEY (log, seq))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_record_dedup ON audit_record (log, dedup)",
    "CREATE INDEX IF NOT EXISTS audit_record_betrokkene ON audit_record (betrokkene)",
    "CREATE INDEX IF NOT EXISTS audit_record_bericht ON audit_record (bericht_id)",
    "CREATE INDEX IF NOT EXISTS audit_record_verloopt ON audit_record (verloopt)",
    "CREATE INDEX IF NOT EXISTS audit_record_tijd ON audit_record (tijd)",
    """CREATE TABLE IF NOT EXISTS audit_node (
        log TEXT NOT NULL,
        level INTEGER NOT NULL,
        idx BIGINT NOT NULL,
        hash {blob} NOT NULL,
        PRIMARY KEY (log, level, idx))""",
    """CREATE TABLE IF NOT EXISTS audit_checkpoint (
        log TEXT NOT NULL,
        size BIGINT NOT NULL,
        root {blob} NOT NULL,
        tijd TEXT NOT NULL,
        key_id TEXT NOT NULL,
        signature {blob} NOT NULL,
        PRIMARY KEY (log, size))""",
)


SCHEMA_LOCK = 0x4B50_4155  # pg advisory lock key while creating the tables ("KPAU")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditLog:
    """One process's log in the audit store (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        log_id: str,
        keyring: Keyring,
        *,
        checkpoint_every: int = 10_000,
        checkpoint_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.log_id = log_id
        self.keyring = keyring
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.frontier = Frontier()
        self.last_checkpoint = 0
        self.last_checkpoint_at = _now()
        self._pending: list[tuple[Sequence[Entry], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._lock_file: IO[str] | None = None
        self.writable = True

    # ----------------------------------------------------------------- life cycle

    def open(self) -> None:
        """Create the tables, take this log's lock, load its tree (sync; at start)."""
        self.ensure_schema()
        self._take_lock()
        size, hashes, last = self.db.run_sync(self._load)
        self.frontier = Frontier(size, hashes)
        self.last_checkpoint = last
        if self.db.kind == "postgresql":
            self.db.run_sync(lambda ex: ex("ANALYZE audit_record"))
        self.keyring.ensure()

    def ensure_schema(self) -> None:
        """Create the tables when they are not there (idempotent; replicas starting at once
        on PostgreSQL take turns, as CREATE TABLE IF NOT EXISTS is not atomic there)."""

        def create(ex: Exec) -> None:
            if self.db.kind == "postgresql":
                ex("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            for statement in _SCHEMA:
                ex(statement.format(blob=self.db.blob))

        self.db.run_sync(create)

    def _take_lock(self) -> None:
        if self.db.kind == "sqlite":
            path = Path(self.db.dsn.removeprefix("sqlite:///") + f".{self.log_id}.lock")
            handle = path.open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise Misconfigured(
                    f"audit log {self.log_id} is written by another process: give each "
                    "gateway process its own KETENPOORT_AUDIT_LOG_ID"
                ) from None
            self._lock_file = handle
            return
        # A session lock: taken again on every new connection (after a reconnect too).
        self.db.on_connect(self._pg_lock)

    def _pg_key(self, ex: Exec) -> int:
        schema = ex("SELECT current_schema()").fetchone()[0]
        digest = hashlib.sha256(f"{schema}/{self.log_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def _pg_lock(self, ex: Exec) -> None:
        if not ex("SELECT pg_try_advisory_lock(?)", (self._pg_key(ex),)).fetchone()[0]:
            raise Misconfigured(f"audit log {self.log_id} is written by another process")

    def _load(self, ex: Exec) -> tuple[int, dict[int, bytes], int]:
        row = ex("SELECT MAX(seq) FROM audit_record WHERE log = ?", (self.log_id,)).fetchone()
        size = 0 if row[0] is None else int(row[0]) + 1
        hashes = {}
        for level, index in Frontier.levels_of(size):
            found = ex(
                "SELECT hash FROM audit_node WHERE log = ? AND level = ? AND idx = ?",
                (self.log_id, level, index),
            ).fetchone()
            if found is None:
                raise Misconfigured(f"audit log {self.log_id}: tree node {level}/{index} missing")
            hashes[level] = bytes(found[0])
        cp = ex("SELECT MAX(size) FROM audit_checkpoint WHERE log = ?", (self.log_id,)).fetchone()
        return size, hashes, int(cp[0] or 0)

    async def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())
        self._ticker = asyncio.create_task(self._tick())

    async def close(self) -> None:
        """Write what is pending, sign a last checkpoint, release the log."""
        for task in (self._ticker, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._pending:
            await self._flush()
        with contextlib.suppress(Transient):
            await self.checkpoint()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        if self.db.kind == "postgresql":
            with contextlib.suppress(Exception):
                self.db.run_sync(lambda ex: ex("SELECT pg_advisory_unlock(?)", (self._pg_key(ex),)))

    @property
    def backlog(self) -> int:
        """Records waiting for the next group commit."""
        return sum(len(group) for group, _ in self._pending)

    # ----------------------------------------------------------------- appending

    async def append(self, entries: Sequence[Entry]) -> None:
        """Durably record ``entries`` (group commit); Transient when the store fails."""
        if not entries:
            return
        if self._writer is None:  # not started: write directly (CLI, tests)
            direct: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._pending.append((entries, direct))
            await self._flush()
            await direct  # raises Transient when the write failed
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entries, future))
        self._wake.set()
        await future

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        entries = [e for group, _ in batch for e in group]
        # Append to a copy; it becomes the tree only once the commit succeeded, so a
        # checkpoint signed meanwhile sees the committed tree, never a half-written one.
        frontier = self.frontier.copy()
        try:
            await self.db.run(lambda ex: self._write(ex, entries, _now(), frontier))
        except Exception as exc:  # noqa: BLE001 - every failure fails the waiting messages
            self.writable = False
            failure = exc if isinstance(exc, Transient) else Transient(f"audit store: {exc}")
            log.error("audit_niet_schrijfbaar", reden=str(failure))
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        self.frontier = frontier
        self.writable = True
        for _, future in batch:
            if not future.done():
                future.set_result(None)
        if self.frontier.size - self.last_checkpoint >= self.checkpoint_every:
            with contextlib.suppress(Transient):
                await self.checkpoint()

    def _write(self, ex: Exec, entries: list[Entry], now: dt.datetime, frontier: Frontier) -> None:
        keys = [e.dedup for e in entries]
        seen: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = ex(
                f"SELECT dedup FROM audit_record WHERE log = ? AND dedup IN ({marks})",  # noqa: S608 - placeholders only
                (self.log_id, *chunk),
            ).fetchall()
            seen.update(r[0] for r in rows)
        records = []
        nodes = []
        for entry in entries:
            if entry.dedup in seen:
                continue
            seen.add(entry.dedup)
            seq = frontier.size
            record = self._record(entry, seq, now)
            public_bytes = canonical(record.public)
            leaf = leaf_hash(public_bytes)
            nodes.extend(frontier.append(leaf))
            verloopt = (
                (now + dt.timedelta(days=entry.bewaartermijn_dagen)).isoformat()
                if entry.bewaartermijn_dagen
                else None
            )
            records.append(
                (
                    self.log_id,
                    seq,
                    leaf,
                    public_bytes.decode(),
                    canonical(record.personal).decode() if record.personal else None,
                    entry.betrokkene,
                    entry.bericht_id,
                    now.isoformat(),
                    verloopt,
                    entry.dedup,
                )
            )
        if not records:
            return
        ex.many(
            "INSERT INTO audit_record (log, seq, leaf, public, personal, betrokkene, bericht_id, "
            "tijd, verloopt, dedup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            records,
        )
        ex.many(
            "INSERT INTO audit_node (log, level, idx, hash) VALUES (?, ?, ?, ?)",
            [(self.log_id, level, index, digest) for level, index, digest in nodes],
        )

    def _record(self, entry: Entry, seq: int, now: dt.datetime) -> Record:
        personal = None
        if entry.betrokkene is not None:
            personal = {"betrokkene": entry.betrokkene, "zout": secrets.token_hex(16)}
        public: dict[str, Any] = {
            "formaat": FORMAT,
            "log": self.log_id,
            "seq": seq,
            "tijd": now.isoformat(),
            "gebeurtenis": entry.gebeurtenis,
            "trace_id": entry.trace_id,
            "span_id": entry.span_id,
            "verwerking": {
                "doel": entry.doel,
                "grondslag": entry.grondslag,
                "policy": entry.policy,
                "bewaartermijn_dagen": entry.bewaartermijn_dagen,
            },
            "afzender": _partij(entry.afzender),
            "ontvanger": _partij(entry.ontvanger),
            "berichttype": entry.berichttype,
            "bericht_id": entry.bericht_id,
            "categorieen": sorted(entry.categorieen),
            "verwijderd": sorted(entry.verwijderd),
            "sha256": entry.sha256,
            "status": entry.status,
            "persoonlijk_sha256": (
                hashlib.sha256(canonical(personal)).hexdigest() if personal else None
            ),
            **({"extra": entry.extra} if entry.extra else {}),
        }
        return Record(self.log_id, seq, public, personal)

    # ----------------------------------------------------------------- checkpoints

    async def checkpoint(self) -> Checkpoint | None:
        """Sign the current tree when it grew since the last checkpoint."""
        tree = self.frontier  # the committed tree (replaced whole, never changed in place)
        size = tree.size
        if size in (0, self.last_checkpoint):
            return None
        signed = self.keyring.sign(self.log_id, size, tree.root(), _now())
        await self.db.run(
            lambda ex: ex(
                "INSERT INTO audit_checkpoint (log, size, root, tijd, key_id, signature) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (log, size) DO NOTHING",
                (
                    signed.log,
                    signed.size,
                    signed.root,
                    signed.tijd.isoformat(),
                    signed.key_id,
                    signed.signature,
                ),
            )
        )
        self.last_checkpoint = size
        self.last_checkpoint_at = signed.tijd
        if self.db.kind == "postgresql":
            # keep planner statistics current even where autovacuum is off: the duplicate
            # check must use its index (measured: 18 ms → 0.13 ms per check at 40k records)
            await self.db.run(lambda ex: ex("ANALYZE audit_record"))
        log.info("audit_checkpoint", log=self.log_id, size=size, key_id=signed.key_id)
        return signed

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(min(self.checkpoint_seconds, 5.0))
            due = _now() - self.last_checkpoint_at >= dt.timedelta(seconds=self.checkpoint_seconds)
            if due and self.frontier.size > self.last_checkpoint:
                with contextlib.suppress(Transient):
                    await self.checkpoint()

    async def probe(self) -> bool:
        """Can the store be written? (A write that is rolled back.)"""

        def work(ex: Exec) -> None:
            ex(
                "INSERT INTO audit_checkpoint (log, size, root, tijd, key_id, signature) "
                "VALUES (?, -1, ?, ?, 'probe', ?)",
                (self.log_id, b"", _now().isoformat(), b""),
            )
            raise _RollBack

        try:
            await self.db.run(work)
        except _RollBack:
            self.writable = True
            return True
        except Exception:  # noqa: BLE001 - any failure means: not writable
            self.writable = False
            return False
        return True

    # ----------------------------------------------------------------- reading

    def perfect(self, ex: Exec, log_id: str) -> Any:
        def lookup(start: int, end: int) -> bytes:
            size = end - start
            level = size.bit_length() - 1
            row = ex(
                "SELECT hash FROM audit_node WHERE log = ? AND level = ? AND idx = ?",
                (log_id, level, start >> level),
            ).fetchone()
            if row is None:
                raise KeyError(f"{log_id}: no node {level}/{start >> level}")
            return bytes(row[0])

        return lookup

    async def inclusion(self, log_id: str, seq: int, size: int) -> tuple[bytes, list[bytes]]:
        """(leaf hash, audit path) of record ``seq`` in the tree of ``size``."""

        def work(ex: Exec) -> tuple[bytes, list[bytes]]:
            row = ex(
                "SELECT public FROM audit_record WHERE log = ? AND seq = ?", (log_id, seq)
            ).fetchone()
            if row is None:
                raise KeyError(f"no record {log_id}/{seq}")
            # the leaf of the record as it is now, not a stored hash that could disagree
            leaf = leaf_hash(canonical(json.loads(row[0])))
            return leaf, inclusion_proof(self.perfect(ex, log_id), seq, size)

        return await self.db.run(work)

    async def consistency(self, log_id: str, old: int, new: int) -> list[bytes]:
        return await self.db.run(lambda ex: consistency_proof(self.perfect(ex, log_id), old, new))

    async def checkpoints(self, log_id: str | None = None) -> list[Checkpoint]:
        def work(ex: Exec) -> list[Checkpoint]:
            sql = (
                "SELECT log, size, root, tijd, key_id, signature FROM audit_checkpoint "
                "WHERE size >= 0"
            )
            params: tuple[Any, ...] = ()
            if log_id is not None:
                sql += " AND log = ?"
                params = (log_id,)
            rows = ex(sql + " ORDER BY log, size", params).fetchall()
            return [
                Checkpoint(
                    r[0], int(r[1]), bytes(r[2]), dt.datetime.fromisoformat(r[3]), r[4], bytes(r[5])
                )
                for r in rows
            ]

        return await self.db.run(work)

    async def prove(self, log_id: str, seq: int) -> bool:
        """Check record ``seq`` against the latest checkpoint of its log (inclusion)."""
        cps = [c for c in await self.checkpoints(log_id) if c.size > seq]
        if not cps:
            return False
        latest = cps[-1]
        leaf, path = await self.inclusion(log_id, seq, latest.size)
        return verify_inclusion(leaf, seq, latest.size, path, latest.root)

    async def history(self, betrokkene: str) -> list[Record]:
        """Every record about one data subject (by pseudonym), oldest first."""

        def work(ex: Exec) -> list[Record]:
            rows = ex(
                "SELECT log, seq, public, personal FROM audit_record WHERE betrokkene = ? "
                "ORDER BY tijd, log, seq",
                (betrokkene,),
            ).fetchall()
            return [_row(r) for r in rows]

        return await self.db.run(work)

    async def subjects_delivered(self, bericht_id: str, ontvanger_oin: str) -> list[str | None]:
        """The data subjects whose data went to ``ontvanger_oin`` in message ``bericht_id``."""
        found: list[str | None] = []
        for record in await self.journey(bericht_id):
            ontvanger = record.public.get("ontvanger") or {}
            if (
                record.public.get("gebeurtenis") == "afgeleverd"
                and ontvanger.get("oin") == ontvanger_oin
            ):
                subject = (record.personal or {}).get("betrokkene")
                if subject not in found:
                    found.append(subject)
        return found

    async def search(
        self,
        *,
        partner: str | None = None,
        van: dt.datetime | None = None,
        tot: dt.datetime | None = None,
        limit: int = 500,
    ) -> list[Record]:
        """Records in a period (``tijd`` in [van, tot)) in which an OIN took part (as sender
        or recipient), newest first, at most ``limit``."""
        where, args = ["1 = 1"], []
        if van is not None:
            where.append("tijd >= ?")
            args.append(van.astimezone(dt.UTC).isoformat())
        if tot is not None:
            where.append("tijd < ?")
            args.append(tot.astimezone(dt.UTC).isoformat())
        if partner is not None:
            where.append("public LIKE ?")
            args.append(f'%"oin":"{partner}"%')

        def work(ex: Exec) -> list[Record]:
            rows = ex(
                "SELECT log, seq, public, personal FROM audit_record WHERE "  # noqa: S608 - fixed clauses; values are parameters
                + " AND ".join(where)
                + " ORDER BY tijd DESC, log, seq DESC LIMIT ?",
                (*args, int(limit)),
            ).fetchall()
            return [_row(r) for r in rows]

        return await self.db.run(work)

    async def journey(self, bericht_id: str) -> list[Record]:
        def work(ex: Exec) -> list[Record]:
            rows = ex(
                "SELECT log, seq, public, personal FROM audit_record WHERE bericht_id = ? "
                "ORDER BY tijd, log, seq",
                (bericht_id,),
            ).fetchall()
            return [_row(r) for r in rows]

        return await self.db.run(work)

    def records(self, ex: Exec, batch: int = 5000) -> Iterator[Record]:
        """Every record of every log, by log and seq (streamed), with its lookup columns
        checked against it (``Record.index_problem``)."""
        logs = [r[0] for r in ex("SELECT DISTINCT log FROM audit_record ORDER BY log").fetchall()]
        for log_id in logs:
            seq = -1
            while True:
                rows = ex(
                    "SELECT seq, leaf, public, personal, betrokkene, bericht_id, tijd, verloopt "
                    "FROM audit_record WHERE log = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (log_id, seq, batch),
                ).fetchall()
                if not rows:
                    break
                for r in rows:
                    public = json.loads(r[2])
                    personal = json.loads(r[3]) if r[3] else None
                    yield Record(
                        log=log_id,
                        seq=int(r[0]),
                        public=public,
                        personal=personal,
                        index_problem=_index_mismatch(r, public, personal),
                    )
                seq = int(rows[-1][0])

    # ----------------------------------------------------------------- retention

    async def purge(self, now: dt.datetime | None = None) -> int:
        """Remove the personal part of every record past its retention period."""
        moment = (now or _now()).isoformat()

        def work(ex: Exec) -> int:
            # The dedup key names the subject too; it is replaced by the record's place.
            cursor = ex(
                "UPDATE audit_record SET personal = NULL, betrokkene = NULL, "
                "dedup = 'gewist:' || log || ':' || CAST(seq AS TEXT) "
                "WHERE verloopt < ? AND (personal IS NOT NULL OR betrokkene IS NOT NULL)",
                (moment,),
            )
            return int(cursor.rowcount or 0)

        return await self.db.run(work)


class _RollBack(Exception):  # noqa: N818 - control flow for the write probe
    pass


def _index_mismatch(
    row: Sequence[Any], public: dict[str, Any], personal: dict[str, Any] | None
) -> str | None:
    _seq, leaf, _public, _personal, betrokkene, bericht_id, tijd, verloopt = row
    if bytes(leaf) != leaf_hash(canonical(public)):
        return "the stored leaf hash is not the record's"
    if betrokkene != (personal or {}).get("betrokkene"):
        return "the betrokkene column is not the record's data subject"
    if bericht_id != public.get("bericht_id"):
        return "the bericht_id column is not the record's"
    if tijd != public.get("tijd"):
        return "the tijd column is not the record's"
    days = (public.get("verwerking") or {}).get("bewaartermijn_dagen")
    expected = (
        (dt.datetime.fromisoformat(public["tijd"]) + dt.timedelta(days=days)).isoformat()
        if days
        else None
    )
    if verloopt != expected:
        return "the verloopt column is not the record's retention"
    return None


def _partij(party: tuple[str, str] | None) -> dict[str, str] | None:
    return None if party is None else {"oin": party[0], "rol": party[1]}


def _row(r: Sequence[Any]) -> Record:
    return Record(
        log=str(r[0]),
        seq=int(r[1]),
        public=json.loads(r[2]),
        personal=json.loads(r[3]) if r[3] else None,
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
