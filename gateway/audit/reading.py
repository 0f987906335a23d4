"""Reading the audit store: proofs, checkpoints, a person's history, searches, every record
for verification, and retention (removing personal parts). The writer, :class:`AuditLog`,
is a reader too; the CLI and the audit pages read without a log of their own."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from gateway.audit.merkle import consistency_proof, inclusion_proof, leaf_hash, verify_inclusion
from gateway.audit.record import Record, canonical, index_mismatch, row_record
from gateway.audit.signing import Checkpoint, Keyring, verify_checkpoint
from gateway.store.database import Database, Exec

__all__ = ["SCHEMA_LOCK", "AuditReader", "now_utc"]

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
    # spec v2 §8: the keyed search key (name and birth date) of a person without a BSN ->
    # their pseudonym; nothing in clear. A key goes when its person has no personal part left.
    """CREATE TABLE IF NOT EXISTS audit_zoeksleutel (
        sleutel TEXT NOT NULL,
        betrokkene TEXT NOT NULL,
        PRIMARY KEY (sleutel, betrokkene))""",
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


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditReader:
    """Read access to every log in the audit store (no lock: writers may be running)."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring

    def ensure_schema(self) -> None:
        """Create the tables when they are not there (idempotent; replicas starting at once
        on PostgreSQL take turns, as CREATE TABLE IF NOT EXISTS is not atomic there)."""

        def create(ex: Exec) -> None:
            if self.db.kind == "postgresql":
                ex("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            for statement in _SCHEMA:
                ex(statement.format(blob=self.db.blob))

        self.db.run_sync(create)

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
        """Check record ``seq`` against the latest checkpoint of its log (its signature by a key
        in the key folder, then inclusion)."""
        cps = [c for c in await self.checkpoints(log_id) if c.size > seq]
        if not cps:
            return False
        latest = cps[-1]
        if verify_checkpoint(latest, self.keyring.public_keys()) is not None:
            return False
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
            return [row_record(r) for r in rows]

        return await self.db.run(work)

    async def find(self, zoeksleutel: str) -> list[str]:
        """The pseudonyms of the people without a BSN recorded under a keyed search key of
        name and birth date (spec v2 §8), of whom records with a personal part remain."""

        def work(ex: Exec) -> list[str]:
            rows = ex(
                "SELECT z.betrokkene FROM audit_zoeksleutel z WHERE z.sleutel = ? AND EXISTS "
                "(SELECT 1 FROM audit_record r WHERE r.betrokkene = z.betrokkene) "
                "ORDER BY z.betrokkene",
                (zoeksleutel,),
            ).fetchall()
            return [str(r[0]) for r in rows]

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
            return [row_record(r) for r in rows]

        return await self.db.run(work)

    async def journey(self, bericht_id: str) -> list[Record]:
        def work(ex: Exec) -> list[Record]:
            rows = ex(
                "SELECT log, seq, public, personal FROM audit_record WHERE bericht_id = ? "
                "ORDER BY tijd, log, seq",
                (bericht_id,),
            ).fetchall()
            return [row_record(r) for r in rows]

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
                        index_problem=index_mismatch(r, public, personal),
                    )
                seq = int(rows[-1][0])

    # ----------------------------------------------------------------- retention

    async def purge(self, now: dt.datetime | None = None) -> int:
        """Remove the personal part of every record past its retention period."""
        return sum((await self.purge_counts(now)).values())

    async def purge_counts(self, now: dt.datetime | None = None) -> dict[str, int]:
        """:meth:`purge`, returning how many personal parts each log lost."""
        moment = (now or now_utc()).isoformat()
        due = "verloopt < ? AND (personal IS NOT NULL OR betrokkene IS NOT NULL)"

        def work(ex: Exec) -> dict[str, int]:
            counts = {
                str(r[0]): int(r[1])
                for r in ex(
                    f"SELECT log, COUNT(*) FROM audit_record WHERE {due} GROUP BY log",  # noqa: S608 - a fixed clause
                    (moment,),
                ).fetchall()
            }
            # The dedup key names the subject too; it is replaced by the record's place.
            ex(
                "UPDATE audit_record SET personal = NULL, betrokkene = NULL, "  # noqa: S608 - a fixed clause
                f"dedup = 'gewist:' || log || ':' || CAST(seq AS TEXT) WHERE {due}",
                (moment,),
            )
            _drop_orphan_keys(ex)
            return counts

        return await self.db.run(work)

    async def erase(self, places: list[tuple[str, int]]) -> int:
        """Remove the personal part of the records at ``places`` (log, seq) now, before their
        retention ends: only after an erasure record naming them was appended."""

        def work(ex: Exec) -> int:
            done = 0
            for log_id, seq in places:
                cursor = ex(
                    "UPDATE audit_record SET personal = NULL, betrokkene = NULL, "
                    "dedup = 'gewist:' || log || ':' || CAST(seq AS TEXT) "
                    "WHERE log = ? AND seq = ? AND personal IS NOT NULL",
                    (log_id, seq),
                )
                done += int(cursor.rowcount or 0)
            _drop_orphan_keys(ex)
            return done

        return await self.db.run(work)


def _drop_orphan_keys(ex: Exec) -> None:
    """Remove the search keys of people none of whose records keeps a personal part."""
    ex(
        "DELETE FROM audit_zoeksleutel WHERE NOT EXISTS "
        "(SELECT 1 FROM audit_record r WHERE r.betrokkene = audit_zoeksleutel.betrokkene)"
    )
