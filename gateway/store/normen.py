"""Open norms (spec v2 §10): each step's deadline as a row, opened by an accepted message,
closed by the message that ends it, on the state store's database (SQLite or PostgreSQL).

Identifiers, norm names, OINs and times only: no personal data. A row is the step of one
partner (``partner_oin``: the recipient whose turn it is; empty when nobody routed can close
it; the sender for a norm checked on arrival); a norm per item (a voorwaarde) has a row per
item, named by its key (``sleutel``). It is closed by a message of a closing type from that
partner in the same conversation (:meth:`NormStore.close_in_conversation`: for a norm per
item, only the keys that message closes) or, for a norm per delivery, by that partner's
Afleverbevestiging of the message (:meth:`NormStore.close_delivery`); a norm checked on
arrival is recorded closed. A deadline passing is reported once
(:meth:`NormStore.newly_overdue`); nothing is ever blocked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.store.database import Database, Exec
from gateway.store.state import SCHEMA_LOCK

__all__ = ["NORMEN_BEWAARD", "NormRij", "NormStore"]

# Closed rows (and reported overdue ones) are forgotten this long after they opened.
NORMEN_BEWAARD = dt.timedelta(days=365)

_TABLE = """CREATE TABLE IF NOT EXISTS {name} (
        afzender_oin TEXT NOT NULL,
        bericht_id TEXT NOT NULL,
        naam TEXT NOT NULL,
        partner_oin TEXT NOT NULL,
        sleutel TEXT NOT NULL DEFAULT '',
        conversatie_id TEXT NOT NULL,
        berichttype TEXT NOT NULL,
        uiterlijk TEXT NOT NULL,
        geopend TEXT NOT NULL,
        gesloten TEXT,
        gemeld INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (afzender_oin, bericht_id, naam, partner_oin, sleutel))"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS kp_norm_open ON kp_norm (gesloten, uiterlijk)",
    "CREATE INDEX IF NOT EXISTS kp_norm_conversatie ON kp_norm (conversatie_id, partner_oin)",
)
_COLUMNS = (
    "afzender_oin, bericht_id, naam, partner_oin, sleutel, conversatie_id, berichttype, "
    "uiterlijk, geopend, gesloten"
)
# the columns of a kp_norm made before steps per item (a voorwaarde) had a key
_COLUMNS_V1 = (
    "afzender_oin, bericht_id, naam, partner_oin, conversatie_id, berichttype, uiterlijk, "
    "geopend, gesloten, gemeld"
)


def _create(ex: Exec, kind: str) -> None:
    """kp_norm, created when missing; one made before the ``sleutel`` column is rebuilt
    with it (its key widens: a primary key cannot be altered in place on SQLite)."""
    if kind == "postgresql":
        have = {
            r[0]
            for r in ex(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'kp_norm' AND table_schema = current_schema()"
            ).fetchall()
        }
    else:
        have = {r[1] for r in ex("PRAGMA table_info(kp_norm)").fetchall()}
    if have and "sleutel" not in have:
        ex("DROP TABLE IF EXISTS kp_norm_v2")
        ex(_TABLE.format(name="kp_norm_v2"))
        ex(
            f"INSERT INTO kp_norm_v2 ({_COLUMNS_V1}, sleutel) "  # noqa: S608 - constants
            f"SELECT {_COLUMNS_V1}, '' FROM kp_norm"
        )
        ex("DROP TABLE kp_norm")
        ex("ALTER TABLE kp_norm_v2 RENAME TO kp_norm")
    ex(_TABLE.format(name="kp_norm"))
    for statement in _INDEXES:
        ex(statement)


def _t(moment: dt.datetime) -> str:
    """A sortable text for an instant (UTC, fixed width), so SQL compares it as a time."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _from_t(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class NormRij:
    """One partner's step under one norm, opened by one message."""

    afzender_oin: str
    bericht_id: str
    naam: str
    partner_oin: str
    conversatie_id: str
    berichttype: str
    uiterlijk: dt.datetime
    geopend: dt.datetime
    gesloten: dt.datetime | None = None
    sleutel: str = ""  # a step per item: the item's key (a voorwaarde-id); else empty

    @property
    def te_laat(self) -> bool:
        """Closed after its deadline (a late report, a late acceptance)."""
        return self.gesloten is not None and self.gesloten > self.uiterlijk

    def status(self, now: dt.datetime) -> str:
        """Where the step stands at ``now``, as a chain coordinator reads it: open,
        overschreden (open past its deadline), op tijd or te laat."""
        if self.gesloten is None:
            return "overschreden" if self.uiterlijk < now else "open"
        return "te laat" if self.te_laat else "op tijd"

    @classmethod
    def _from_row(cls, row: Sequence[Any]) -> NormRij:
        return cls(
            afzender_oin=row[0],
            bericht_id=row[1],
            naam=row[2],
            partner_oin=row[3],
            sleutel=row[4],
            conversatie_id=row[5],
            berichttype=row[6],
            uiterlijk=_from_t(row[7]),
            geopend=_from_t(row[8]),
            gesloten=_from_t(row[9]) if row[9] else None,
        )


class NormStore:
    """The open norms, on the state store's database."""

    TABLE: ClassVar[str] = "kp_norm"  # what a store that holds norms has

    def __init__(self, db: Database) -> None:
        self.db = db

        def create(ex: Exec) -> None:
            if db.kind == "postgresql":  # replicas starting at once (see state.py)
                ex("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            _create(ex, db.kind)

        db.run_sync(create)

    async def open(self, rijen: Iterable[NormRij]) -> list[NormRij]:
        """Record the steps a message opened (again: no change, a resumed message); a step
        checked on arrival comes closed, and when it was late it counts as reported (the
        caller reports it). Returns the rows newly recorded."""
        rijen = list(rijen)
        if not rijen:
            return []

        def work(ex: Exec) -> list[NormRij]:
            nieuw = []
            for r in rijen:
                cursor = ex(
                    "INSERT INTO kp_norm (afzender_oin, bericht_id, naam, partner_oin, sleutel, "
                    "conversatie_id, berichttype, uiterlijk, geopend, gesloten, gemeld) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                    "(afzender_oin, bericht_id, naam, partner_oin, sleutel) DO NOTHING",
                    (
                        r.afzender_oin,
                        r.bericht_id,
                        r.naam,
                        r.partner_oin,
                        r.sleutel,
                        r.conversatie_id,
                        r.berichttype,
                        _t(r.uiterlijk),
                        _t(r.geopend),
                        _t(r.gesloten) if r.gesloten is not None else None,
                        1 if r.te_laat else 0,
                    ),
                )
                if cursor.rowcount == 1:
                    nieuw.append(r)
            return nieuw

        nieuw: list[NormRij] = await self.db.run(work)
        return nieuw

    async def close_in_conversation(
        self,
        conversatie_id: str,
        partner_oin: str,
        namen: Iterable[str],
        at: dt.datetime,
        per_item: Iterable[tuple[str, str]] = (),
    ) -> int:
        """``partner_oin`` sent a message that closes ``namen`` in this conversation, and of
        the norms per item the (norm, key) steps ``per_item``."""
        closed = await self._close(
            "conversatie_id = ? AND partner_oin = ? AND sleutel = ''",
            (conversatie_id, partner_oin),
            namen,
            at,
        )
        for naam, sleutel in sorted(set(per_item)):
            closed += await self._close(
                "conversatie_id = ? AND partner_oin = ? AND sleutel = ?",
                (conversatie_id, partner_oin, sleutel),
                (naam,),
                at,
            )
        return closed

    async def close_delivery(
        self,
        partner_oin: str,
        bericht_id: str,
        afzenders: Iterable[str],
        namen: Iterable[str],
        at: dt.datetime,
    ) -> int:
        """``partner_oin`` confirmed message ``bericht_id`` of each of ``afzenders``."""
        closed = 0
        for afzender in afzenders:
            closed += await self._close(
                "afzender_oin = ? AND bericht_id = ? AND partner_oin = ?",
                (afzender, bericht_id, partner_oin),
                namen,
                at,
            )
        return closed

    async def _close(
        self, where: str, params: tuple[str, ...], namen: Iterable[str], at: dt.datetime
    ) -> int:
        names = sorted(set(namen))
        if not names:
            return 0
        marks = ", ".join("?" for _ in names)

        def work(ex: Exec) -> int:
            cursor = ex(
                f"UPDATE kp_norm SET gesloten = ? WHERE {where} AND naam IN ({marks}) "  # noqa: S608 - placeholders only
                "AND gesloten IS NULL",
                (_t(at), *params, *names),
            )
            return int(cursor.rowcount)

        closed: int = await self.db.run(work)
        return closed

    async def open_rows(self) -> list[NormRij]:
        """Every norm not closed yet, earliest deadline first."""
        rows = await self.db.run(
            lambda ex: ex(
                f"SELECT {_COLUMNS} FROM kp_norm WHERE gesloten IS NULL "  # noqa: S608 - constant
                "ORDER BY uiterlijk, bericht_id, naam, partner_oin, sleutel"
            ).fetchall()
        )
        return [NormRij._from_row(r) for r in rows]

    async def recent(self, since: dt.datetime, limit: int = 500) -> list[NormRij]:
        """The norms opened since ``since``, open or closed, newest first (at most
        ``limit``): the chain coordinator's timeline."""
        rows = await self.db.run(
            lambda ex: ex(
                f"SELECT {_COLUMNS} FROM kp_norm WHERE geopend >= ? "  # noqa: S608 - constant
                "ORDER BY geopend DESC, bericht_id, naam, partner_oin, sleutel LIMIT ?",
                (_t(since), limit),
            ).fetchall()
        )
        return [NormRij._from_row(r) for r in rows]

    async def overdue(self, now: dt.datetime) -> list[NormRij]:
        """Every norm still open after its deadline at ``now``, earliest deadline first."""
        return [r for r in await self.open_rows() if r.uiterlijk < now]

    async def newly_overdue(self, now: dt.datetime) -> list[NormRij]:
        """The open norms whose deadline passed before ``now`` and that were not reported yet;
        marked reported in the same transaction (each is reported once, by one process)."""

        def work(ex: Exec) -> list[NormRij]:
            rows = ex(
                f"SELECT {_COLUMNS} FROM kp_norm WHERE gesloten IS NULL AND gemeld = 0 "  # noqa: S608 - constant
                "AND uiterlijk < ? ORDER BY uiterlijk",
                (_t(now),),
            ).fetchall()
            found = []
            for r in (NormRij._from_row(row) for row in rows):
                marked = ex(
                    "UPDATE kp_norm SET gemeld = 1 WHERE afzender_oin = ? AND bericht_id = ? "
                    "AND naam = ? AND partner_oin = ? AND sleutel = ? AND gemeld = 0",
                    (r.afzender_oin, r.bericht_id, r.naam, r.partner_oin, r.sleutel),
                ).rowcount
                if marked == 1:  # not reported by another process in the meantime
                    found.append(r)
            return found

        found: list[NormRij] = await self.db.run(work)
        return found

    async def purge(self, now: dt.datetime) -> int:
        """Forget rows opened longer than :data:`NORMEN_BEWAARD` ago."""
        cursor = await self.db.run(
            lambda ex: ex("DELETE FROM kp_norm WHERE geopend < ?", (_t(now - NORMEN_BEWAARD),))
        )
        return int(cursor.rowcount)
