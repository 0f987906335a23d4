"""Message state: duplicates, delivery status per recipient, and the routing memory.

One small relational schema on SQLite (default, WAL, embedded) or PostgreSQL (one setting,
``state_dsn``). No payloads are stored: digests, identifiers and statuses only (the payload
lives in RabbitMQ until it is delivered). The answer sent to the sender (Ontvangstbevestiging,
which holds no personal data) is kept so a duplicate can be answered identically.

Rows are forgotten ``dedup_days`` after the message arrived (at least the whole retry
window) by :meth:`StateStore.purge`.

The routing memory (spec v2 §5) is metadata only: per ConversatieId whether it is HG
(``kp_conversatie``) and its participants, OIN and rol (``kp_deelnemer``). It is kept for the
longest bewaartermijn among the doelen of the conversation's messages (each accepted message
moves ``verloopt`` to at least its arrival plus its doel's bewaartermijn), not the duplicate
window, and purged by the same :meth:`StateStore.purge`. What later issues remember of a
conversation goes here too: the casusregie holder and whether its Overdracht is lopend as
columns of ``kp_conversatie`` (added by ``_add_missing_columns``), open questions as a table
keyed by ``conversatie_id`` and purged with it.

Afspraken series (v2 §6) are kept per reeks-id, not per conversation (a later versie may come
in another ConversatieId): ``kp_reeks`` holds the holder, the last accepted versie, its status
and geldig-tot, the holder's grondslag and doel; ``kp_reeks_ontvanger`` every partner that
received a versie. No content and no personal data; kept for the doel's bewaartermijn from the
last versie (``verloopt``) and purged with the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from gateway.domain.errors import Stale
from gateway.store.database import Database, Exec

__all__ = [
    "CONVERSATIE_BEWAARD",
    "SCHEMA_LOCK",
    "Afsprakenstand",
    "Bekend",
    "Conversatie",
    "Geheugenwijziging",
    "Leveringsstatus",
    "Reeksrecord",
    "StateStore",
    "Status",
    "Vraagrecord",
]


class Status(StrEnum):
    """Delivery status of one message for one recipient."""

    GEPLAND = "gepland"  # decided, not yet confirmed by the broker
    GEPUBLICEERD = "gepubliceerd"  # in the recipient's inbox (publisher confirm)
    AFGELEVERD = "afgeleverd"  # the recipient sent an Afleverbevestiging
    NIET_AFLEVERBAAR = "niet-afleverbaar"  # dead-lettered after the retry policy


@dataclass(frozen=True)
class Leveringsstatus:
    """Where the delivery of one accepted message to one recipient stands."""

    ontvanger_oin: str
    ontvanger_rol: str
    sha256: str
    status: Status
    pogingen: int
    bijgewerkt: dt.datetime


@dataclass(frozen=True)
class Bekend:
    """What the gateway remembers of one accepted message."""

    afzender_oin: str
    bericht_id: str
    sha256: str
    berichttype: str
    conversatie_id: str
    antwoord: bytes | None  # None while not yet answered (in progress after a crash)
    ontvangen: dt.datetime
    leveringen: tuple[Leveringsstatus, ...]
    eigenaar: str | None = None  # the gateway process delivering it (its audit log id)
    geclaimd: dt.datetime | None = None  # since when


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kp_bericht (
        afzender_oin TEXT NOT NULL,
        bericht_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        berichttype TEXT NOT NULL,
        conversatie_id TEXT NOT NULL,
        antwoord {blob},
        ontvangen TEXT NOT NULL,
        verloopt TEXT NOT NULL,
        eigenaar TEXT,
        geclaimd TEXT,
        PRIMARY KEY (afzender_oin, bericht_id))""",
    """CREATE TABLE IF NOT EXISTS kp_levering (
        afzender_oin TEXT NOT NULL,
        bericht_id TEXT NOT NULL,
        ontvanger_oin TEXT NOT NULL,
        ontvanger_rol TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        pogingen INTEGER NOT NULL DEFAULT 0,
        bijgewerkt TEXT NOT NULL,
        PRIMARY KEY (afzender_oin, bericht_id, ontvanger_oin))""",
    "CREATE INDEX IF NOT EXISTS kp_levering_ontvanger ON kp_levering (ontvanger_oin, bericht_id)",
    """CREATE TABLE IF NOT EXISTS kp_conversatie (
        conversatie_id TEXT NOT NULL PRIMARY KEY,
        hg INTEGER NOT NULL DEFAULT 0,
        verloopt TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS kp_deelnemer (
        conversatie_id TEXT NOT NULL,
        oin TEXT NOT NULL,
        gezien TEXT NOT NULL,
        PRIMARY KEY (conversatie_id, oin))""",
    # the questions (types some type answers, v2 §6), per recipient, kept for the doel's
    # bewaartermijn: an answer is routed only to the asker of a question sent to it
    """CREATE TABLE IF NOT EXISTS kp_vraag (
        afzender_oin TEXT NOT NULL,
        bericht_id TEXT NOT NULL,
        ontvanger_oin TEXT NOT NULL,
        berichttype TEXT NOT NULL,
        doel TEXT NOT NULL,
        conversatie_id TEXT NOT NULL,
        verloopt TEXT NOT NULL,
        PRIMARY KEY (afzender_oin, bericht_id, ontvanger_oin))""",
    # afspraken series (v2 §6): the record of each reeks and its recipients
    """CREATE TABLE IF NOT EXISTS kp_reeks (
        reeks_id TEXT NOT NULL PRIMARY KEY,
        berichttype TEXT NOT NULL,
        houder_oin TEXT NOT NULL,
        versie INTEGER NOT NULL,
        status TEXT NOT NULL,
        geldig_tot TEXT,
        grondslag TEXT NOT NULL,
        doel TEXT NOT NULL,
        conversatie_id TEXT NOT NULL,
        bijgewerkt TEXT NOT NULL,
        verloopt TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS kp_reeks_ontvanger (
        reeks_id TEXT NOT NULL,
        oin TEXT NOT NULL,
        PRIMARY KEY (reeks_id, oin))""",
    "CREATE INDEX IF NOT EXISTS kp_reeks_verloopt ON kp_reeks (verloopt)",
    # v2 §7: the keyed pseudonyms (address, BSN) of a valid reeks, dropped on withdrawal and
    # expiry (never a clear value)
    """CREATE TABLE IF NOT EXISTS kp_reeks_sleutel (
        reeks_id TEXT NOT NULL,
        sleutel TEXT NOT NULL,
        PRIMARY KEY (reeks_id, sleutel))""",
    "CREATE INDEX IF NOT EXISTS kp_reeks_sleutel_sleutel ON kp_reeks_sleutel (sleutel)",
    # v2 §6, §7: how many afspraken versies were accepted (one row): a versie, or a message
    # matched against the afspraken, is planned only if none was accepted since it read them
    """CREATE TABLE IF NOT EXISTS kp_afspraken_stand (
        id INTEGER NOT NULL PRIMARY KEY,
        generatie INTEGER NOT NULL)""",
    "INSERT INTO kp_afspraken_stand (id, generatie) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE INDEX IF NOT EXISTS kp_vraag_ontvanger ON kp_vraag (ontvanger_oin, bericht_id)",
    "CREATE INDEX IF NOT EXISTS kp_vraag_verloopt ON kp_vraag (verloopt)",
    "CREATE INDEX IF NOT EXISTS kp_bericht_verloopt ON kp_bericht (verloopt)",
    "CREATE INDEX IF NOT EXISTS kp_conversatie_verloopt ON kp_conversatie (verloopt)",
)


# the afspraken' generation (v2 §6, §7), read as is or, by a plan on PostgreSQL, locked
_STAND = "SELECT generatie FROM kp_afspraken_stand WHERE id = 1"


# Participants recorded before the routing memory had its own retention (no kp_conversatie
# row) are kept this long after they were seen.
CONVERSATIE_BEWAARD = dt.timedelta(days=365)


@dataclass(frozen=True)
class Conversatie:
    """The routing memory of one ConversatieId (v2 §5): who took part (OIN, rol; rol is empty
    for a participant recorded before rollen were kept) and whether it is HG."""

    deelnemers: tuple[tuple[str, str], ...] = ()
    hg: bool = False
    casusregie: str | None = None  # the OIN that holds casusregie (v2 §6, OverdrachtReactie)
    overdracht: str | None = None  # the status of the conversation's Overdracht


@dataclass(frozen=True)
class Vraagrecord:
    """A question delivered to a recipient (routing memory, v2 §5): who asked, its type and
    doel."""

    afzender_oin: str
    berichttype: str
    doel: str


@dataclass(frozen=True)
class Reeksrecord:
    """The routing memory of one afspraken reeks (v2 §6): who holds it, its last accepted
    versie with status and geldig-tot, who received a versie, the holder's grondslag and doel.
    Written with an accepted versie (``ontvangers`` are added to the earlier ones)."""

    reeks_id: str
    houder_oin: str
    versie: int
    status: str
    geldig_tot: dt.date | None
    ontvangers: frozenset[str]
    grondslag: str
    doel: str
    bijgewerkt: dt.datetime | None = None
    # the keyed pseudonyms of its adres and persons (v2 §7): they replace the stored ones
    # (none: a withdrawal drops them)
    sleutels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Afsprakenstand:
    """The afspraken a message is matched against (v2 §7), as read in one transaction: the
    reeksen holding any of its keys, and how many versies had been accepted then."""

    generatie: int
    reeksen: tuple[Reeksrecord, ...] = ()


@dataclass(frozen=True)
class Geheugenwijziging:
    """What an accepted message changes in the routing memory besides its participants (v2
    §5): it labels the conversation HG, its sender takes casusregie, the Overdracht's status,
    and for a question its doel (kept per recipient so that only the asker gets the answer)."""

    hg: bool = False
    casusregie: bool = False
    overdracht: str | None = None
    vraag_doel: str | None = None
    reeks: Reeksrecord | None = None  # an accepted afspraken versie (v2 §6)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


SCHEMA_LOCK = 0x4B50_5354  # pg advisory lock key while creating the tables ("KPST")


def _add_missing_columns(ex: Exec, kind: str) -> None:
    """Columns added after the first release (a store created by an older version)."""
    added = (
        ("kp_bericht", "eigenaar", "TEXT"),
        ("kp_bericht", "geclaimd", "TEXT"),
        ("kp_deelnemer", "rol", "TEXT"),
        ("kp_conversatie", "casusregie", "TEXT"),
        ("kp_conversatie", "overdracht", "TEXT"),
    )
    for table, column, kind_sql in added:
        if kind == "postgresql":
            ex(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind_sql}")
            continue
        have = {r[1] for r in ex(f"PRAGMA table_info({table})").fetchall()}
        if column not in have:
            ex(f"ALTER TABLE {table} ADD COLUMN {column} {kind_sql}")


def _create_tables(db: Database) -> None:
    """The store's tables, created when missing and brought up to date."""
    statements = [s.format(blob=db.blob) for s in _SCHEMA]

    def create(ex: Exec) -> None:
        if db.kind == "postgresql":
            # replicas starting at once: CREATE TABLE IF NOT EXISTS is not atomic there
            ex("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        for statement in statements:
            ex(statement)
        _add_missing_columns(ex, db.kind)

    db.run_sync(create)


def _read_bekend(ex: Exec, afzender_oin: str, bericht_id: str) -> Bekend | None:
    """The stored state of one message, with its deliveries (None: never accepted)."""
    row = ex(
        "SELECT sha256, berichttype, conversatie_id, antwoord, ontvangen, eigenaar, "
        "geclaimd FROM kp_bericht WHERE afzender_oin = ? AND bericht_id = ?",
        (afzender_oin, bericht_id),
    ).fetchone()
    if row is None:
        return None
    leveringen = ex(
        "SELECT ontvanger_oin, ontvanger_rol, sha256, status, pogingen, bijgewerkt "
        "FROM kp_levering WHERE afzender_oin = ? AND bericht_id = ? ORDER BY ontvanger_oin",
        (afzender_oin, bericht_id),
    ).fetchall()
    return Bekend(
        afzender_oin=afzender_oin,
        bericht_id=bericht_id,
        sha256=row[0],
        berichttype=row[1],
        conversatie_id=row[2],
        antwoord=bytes(row[3]) if row[3] is not None else None,
        ontvangen=dt.datetime.fromisoformat(row[4]),
        leveringen=tuple(
            Leveringsstatus(r[0], r[1], r[2], Status(r[3]), r[4], dt.datetime.fromisoformat(r[5]))
            for r in leveringen
        ),
        eigenaar=row[5],
        geclaimd=dt.datetime.fromisoformat(row[6]) if row[6] else None,
    )


def _remember(
    ex: Exec,
    conversatie_id: str,
    deelnemers: Sequence[tuple[str, str]],
    *,
    wijziging: Geheugenwijziging,
    verloopt: dt.datetime,
    now: dt.datetime,
) -> None:
    """The routing memory of one accepted message: its participants, the HG label (once HG,
    the conversation stays HG), casusregie (the last sender that took it), the Overdracht's
    status (the last one sent) and the retention (the longest asked for)."""
    afzender = deelnemers[0][0]
    ex(
        "INSERT INTO kp_conversatie (conversatie_id, hg, verloopt, casusregie, overdracht) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (conversatie_id) DO UPDATE SET "
        "hg = CASE WHEN excluded.hg = 1 THEN 1 ELSE kp_conversatie.hg END, "
        "verloopt = CASE WHEN excluded.verloopt > kp_conversatie.verloopt "
        "THEN excluded.verloopt ELSE kp_conversatie.verloopt END, "
        "casusregie = COALESCE(excluded.casusregie, kp_conversatie.casusregie), "
        "overdracht = COALESCE(excluded.overdracht, kp_conversatie.overdracht)",
        (
            conversatie_id,
            1 if wijziging.hg else 0,
            verloopt.isoformat(),
            afzender if wijziging.casusregie else None,
            wijziging.overdracht,
        ),
    )
    for oin, rol in deelnemers:
        ex(
            "INSERT INTO kp_deelnemer (conversatie_id, oin, rol, gezien) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (conversatie_id, oin) DO UPDATE SET "
            "rol = COALESCE(excluded.rol, kp_deelnemer.rol), gezien = excluded.gezien",
            (conversatie_id, oin, rol or None, now.isoformat()),
        )


def _read_reeks(ex: Exec, reeks_id: str) -> Reeksrecord | None:
    """The stored record of one afspraken reeks, with its recipients (not its keys)."""
    row = ex(
        "SELECT houder_oin, versie, status, geldig_tot, grondslag, doel, bijgewerkt "
        "FROM kp_reeks WHERE reeks_id = ?",
        (reeks_id,),
    ).fetchone()
    if row is None:
        return None
    ontvangers = ex(
        "SELECT oin FROM kp_reeks_ontvanger WHERE reeks_id = ? ORDER BY oin", (reeks_id,)
    ).fetchall()
    return Reeksrecord(
        reeks_id=reeks_id,
        houder_oin=row[0],
        versie=int(row[1]),
        status=row[2],
        geldig_tot=dt.date.fromisoformat(row[3]) if row[3] else None,
        ontvangers=frozenset(r[0] for r in ontvangers),
        grondslag=row[4],
        doel=row[5],
        bijgewerkt=dt.datetime.fromisoformat(row[6]),
    )


def _remember_reeks(
    ex: Exec,
    reeks: Reeksrecord,
    berichttype: str,
    conversatie_id: str,
    verloopt: dt.datetime,
    now: dt.datetime,
) -> None:
    """An accepted afspraken versie: the reeks record moves to it (only forward: a versie
    not higher than the stored one changes nothing), its recipients are added."""
    ex(
        "INSERT INTO kp_reeks (reeks_id, berichttype, houder_oin, versie, status, geldig_tot, "
        "grondslag, doel, conversatie_id, bijgewerkt, verloopt) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (reeks_id) DO UPDATE SET versie = excluded.versie, "
        "status = excluded.status, geldig_tot = excluded.geldig_tot, "
        "grondslag = excluded.grondslag, bijgewerkt = excluded.bijgewerkt, "
        "verloopt = CASE WHEN excluded.verloopt > kp_reeks.verloopt "
        "THEN excluded.verloopt ELSE kp_reeks.verloopt END "
        "WHERE excluded.versie > kp_reeks.versie",
        (
            reeks.reeks_id,
            berichttype,
            reeks.houder_oin,
            reeks.versie,
            reeks.status,
            reeks.geldig_tot.isoformat() if reeks.geldig_tot else None,
            reeks.grondslag,
            reeks.doel,
            conversatie_id,
            now.isoformat(),
            verloopt.isoformat(),
        ),
    )
    for oin in sorted(reeks.ontvangers):
        ex(
            "INSERT INTO kp_reeks_ontvanger (reeks_id, oin) VALUES (?, ?) "
            "ON CONFLICT (reeks_id, oin) DO NOTHING",
            (reeks.reeks_id, oin),
        )
    stored = ex("SELECT versie FROM kp_reeks WHERE reeks_id = ?", (reeks.reeks_id,)).fetchone()
    if stored is None or int(stored[0]) != reeks.versie:
        return  # an older versie arriving late: the keys of the newer one stay
    ex("DELETE FROM kp_reeks_sleutel WHERE reeks_id = ?", (reeks.reeks_id,))
    for sleutel in sorted(reeks.sleutels):
        ex(
            "INSERT INTO kp_reeks_sleutel (reeks_id, sleutel) VALUES (?, ?) "
            "ON CONFLICT (reeks_id, sleutel) DO NOTHING",
            (reeks.reeks_id, sleutel),
        )


class StateStore:
    """Duplicates, delivery status and conversations (the gateway's memory of messages)."""

    TABLE: ClassVar[str] = "kp_bericht"  # what a store that holds messages has

    def __init__(self, db: Database, *, dedup_days: int = 7) -> None:
        self.db = db
        self.dedup = dt.timedelta(days=dedup_days)
        # PostgreSQL: the afspraken' row read shared by a matched message's plan, alone by a
        # versie's (SQLite plans one at a time: a writer holds the whole database)
        pg = db.kind == "postgresql"
        self._stand_gedeeld = _STAND + " FOR SHARE" if pg else _STAND
        self._stand_alleen = _STAND + " FOR UPDATE" if pg else _STAND
        _create_tables(db)

    # ----------------------------------------------------------------- accepted messages

    async def lookup(self, afzender_oin: str, bericht_id: str) -> Bekend | None:
        return await self.db.run(lambda ex: _read_bekend(ex, afzender_oin, bericht_id))

    async def plan(
        self,
        afzender_oin: str,
        bericht_id: str,
        sha256: str,
        berichttype: str,
        conversatie_id: str,
        leveringen: Sequence[tuple[str, str, str]],
        eigenaar: str = "",
        *,
        afzender_rol: str = "",
        bewaartermijn: dt.timedelta = CONVERSATIE_BEWAARD,
        geheugen: Geheugenwijziging | None = None,
        afspraken_gelezen: int | None = None,
    ) -> bool:
        """Record an accepted message and its planned deliveries (oin, rol, sha256), claimed
        by ``eigenaar``, and in the routing memory its participants, what it changes there
        (``geheugen``; None: nothing but who took part) and its doel's ``bewaartermijn``.
        False: the message was planned before (by another replica that got the same message
        at the same time, or before a crash): this call changed nothing.

        ``afspraken_gelezen``: for a message matched against the afspraken (v2 §7) or an
        afspraken versie (v2 §6), the :attr:`Afsprakenstand.generatie` it was decided on; when
        another afspraken versie was accepted since, :class:`Stale` is raised and nothing is
        recorded. An accepted versie counts one more. On PostgreSQL the matched take the row
        shared and a versie takes it alone until they commit, so that each is planned either
        wholly before or wholly after the other (SQLite has one writer at a time)."""
        wijziging = geheugen or Geheugenwijziging()
        now = _now()

        def work(ex: Any) -> bool:
            inserted = ex(
                "INSERT INTO kp_bericht (afzender_oin, bericht_id, sha256, berichttype, "
                "conversatie_id, antwoord, ontvangen, verloopt, eigenaar, geclaimd) "
                "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?) "
                "ON CONFLICT (afzender_oin, bericht_id) DO NOTHING",
                (
                    afzender_oin,
                    bericht_id,
                    sha256,
                    berichttype,
                    conversatie_id,
                    now.isoformat(),
                    (now + self.dedup).isoformat(),
                    eigenaar,
                    now.isoformat(),
                ),
            ).rowcount
            if inserted != 1:
                return False
            versie = wijziging.reeks is not None
            if afspraken_gelezen is not None or versie:
                stand = self._stand_alleen if versie else self._stand_gedeeld
                generatie = ex(stand).fetchone()[0]
                if afspraken_gelezen is not None and generatie != afspraken_gelezen:
                    raise Stale(
                        f"BerichtId {bericht_id}: an afspraken versie was accepted while it was "
                        "decided"
                    )
            if versie:
                ex("UPDATE kp_afspraken_stand SET generatie = generatie + 1 WHERE id = 1")
            for oin, rol, digest in leveringen:
                ex(
                    "INSERT INTO kp_levering (afzender_oin, bericht_id, ontvanger_oin, "
                    "ontvanger_rol, sha256, status, pogingen, bijgewerkt) "
                    "VALUES (?, ?, ?, ?, ?, ?, 0, ?) "
                    "ON CONFLICT (afzender_oin, bericht_id, ontvanger_oin) DO NOTHING",
                    (afzender_oin, bericht_id, oin, rol, digest, Status.GEPLAND, now.isoformat()),
                )
            _remember(
                ex,
                conversatie_id,
                [(afzender_oin, afzender_rol), *((o, r) for o, r, _ in leveringen)],
                wijziging=wijziging,
                verloopt=now + bewaartermijn,
                now=now,
            )
            if wijziging.reeks is not None:
                _remember_reeks(
                    ex, wijziging.reeks, berichttype, conversatie_id, now + bewaartermijn, now
                )
            if wijziging.vraag_doel is not None:
                for oin, _, _ in leveringen:
                    ex(
                        "INSERT INTO kp_vraag (afzender_oin, bericht_id, ontvanger_oin, "
                        "berichttype, doel, conversatie_id, verloopt) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (afzender_oin, bericht_id, ontvanger_oin) DO NOTHING",
                        (
                            afzender_oin,
                            bericht_id,
                            oin,
                            berichttype,
                            wijziging.vraag_doel,
                            conversatie_id,
                            (now + bewaartermijn).isoformat(),
                        ),
                    )
            return True

        claimed: bool = await self.db.run(work)
        return claimed

    async def take_over(
        self, afzender_oin: str, bericht_id: str, eigenaar: str, stale: dt.timedelta
    ) -> bool:
        """Claim an unanswered message to finish its delivery: when it is ours already (we
        stopped half-way), unclaimed, or its claim is older than ``stale`` (its owner died)."""
        now = _now()

        def work(ex: Any) -> bool:
            changed = ex(
                "UPDATE kp_bericht SET eigenaar = ?, geclaimd = ? "
                "WHERE afzender_oin = ? AND bericht_id = ? AND antwoord IS NULL "
                "AND (eigenaar = ? OR eigenaar IS NULL OR eigenaar = '' OR geclaimd < ?)",
                (
                    eigenaar,
                    now.isoformat(),
                    afzender_oin,
                    bericht_id,
                    eigenaar,
                    (now - stale).isoformat(),
                ),
            ).rowcount
            return bool(changed == 1)

        taken: bool = await self.db.run(work)
        return taken

    async def published(
        self, afzender_oin: str, bericht_id: str, ontvangers: Iterable[str]
    ) -> None:
        await self._set_status(
            afzender_oin, bericht_id, ontvangers, Status.GEPUBLICEERD, only_from=Status.GEPLAND
        )

    async def answered(self, afzender_oin: str, bericht_id: str, antwoord: bytes) -> None:
        await self.db.run(
            lambda ex: ex(
                "UPDATE kp_bericht SET antwoord = ? WHERE afzender_oin = ? AND bericht_id = ?",
                (antwoord, afzender_oin, bericht_id),
            )
        )

    async def undeliverable(self, afzender_oin: str, bericht_id: str, ontvanger_oin: str) -> None:
        await self._set_status(afzender_oin, bericht_id, [ontvanger_oin], Status.NIET_AFLEVERBAAR)

    async def replayed(self, afzender_oin: str, bericht_id: str, ontvanger_oin: str) -> None:
        await self._set_status(afzender_oin, bericht_id, [ontvanger_oin], Status.GEPUBLICEERD)

    async def retried(self, afzender_oin: str, bericht_id: str, ontvanger_oin: str) -> None:
        await self.db.run(
            lambda ex: ex(
                "UPDATE kp_levering SET pogingen = pogingen + 1, bijgewerkt = ? "
                "WHERE afzender_oin = ? AND bericht_id = ? AND ontvanger_oin = ?",
                (_now().isoformat(), afzender_oin, bericht_id, ontvanger_oin),
            )
        )

    async def _set_status(
        self,
        afzender_oin: str,
        bericht_id: str,
        ontvangers: Iterable[str],
        status: Status,
        only_from: Status | None = None,
    ) -> None:
        oins = list(ontvangers)
        now = _now().isoformat()

        def work(ex: Any) -> None:
            for oin in oins:
                sql = (
                    "UPDATE kp_levering SET status = ?, bijgewerkt = ? WHERE afzender_oin = ? "
                    "AND bericht_id = ? AND ontvanger_oin = ?"
                )
                params: tuple[Any, ...] = (status, now, afzender_oin, bericht_id, oin)
                if only_from is not None:
                    sql += " AND status = ?"
                    params = (*params, only_from)
                ex(sql, params)

        await self.db.run(work)

    async def delivered(
        self, ontvanger_oin: str, bericht_id: str, afzenders: Iterable[str] = ()
    ) -> list[str]:
        """An Afleverbevestiging: mark it; the senders whose message it was (none: unknown).

        A BerichtId is unique per sender only: ``afzenders`` (the Ontvangers the recipient
        names in its Afleverbevestiging) narrows it to those senders' messages.
        """
        now = _now().isoformat()
        only = list(afzenders)

        def work(ex: Any) -> list[str]:
            rows = ex(
                "SELECT afzender_oin FROM kp_levering WHERE ontvanger_oin = ? AND bericht_id = ?",
                (ontvanger_oin, bericht_id),
            ).fetchall()
            senders = [r[0] for r in rows if not only or r[0] in only]
            for afzender in senders:
                ex(
                    "UPDATE kp_levering SET status = ?, bijgewerkt = ? WHERE ontvanger_oin = ? "
                    "AND bericht_id = ? AND afzender_oin = ?",
                    (Status.AFGELEVERD, now, ontvanger_oin, bericht_id, afzender),
                )
            return senders

        result: list[str] = await self.db.run(work)
        return result

    async def addressed_to(self, ontvanger_oin: str, bericht_id: str) -> dict[str, Status]:
        """Per sender, the status of message ``bericht_id`` for this recipient (empty: no such
        message was ever addressed to it)."""

        def work(ex: Any) -> dict[str, Status]:
            rows = ex(
                "SELECT afzender_oin, status FROM kp_levering "
                "WHERE ontvanger_oin = ? AND bericht_id = ?",
                (ontvanger_oin, bericht_id),
            ).fetchall()
            return {r[0]: Status(r[1]) for r in rows}

        result: dict[str, Status] = await self.db.run(work)
        return result

    # ----------------------------------------------------------------- conversations

    async def conversatie(self, conversatie_id: str) -> Conversatie:
        """The routing memory of this conversation (a fact the decision path needs for
        ``regio: conversatie`` and the ``hg`` and ``deelgenomen`` conditions)."""

        def work(ex: Exec) -> Conversatie:
            rows = ex(
                "SELECT oin, rol FROM kp_deelnemer WHERE conversatie_id = ? ORDER BY oin",
                (conversatie_id,),
            ).fetchall()
            row = ex(
                "SELECT hg, casusregie, overdracht FROM kp_conversatie WHERE conversatie_id = ?",
                (conversatie_id,),
            ).fetchone()
            return Conversatie(
                deelnemers=tuple((r[0], r[1] or "") for r in rows),
                hg=bool(row and row[0]),
                casusregie=row[1] if row else None,
                overdracht=row[2] if row else None,
            )

        found: Conversatie = await self.db.run(work)
        return found

    async def vragen(self, ontvanger_oin: str, bericht_id: str) -> list[Vraagrecord]:
        """The questions with BerichtId ``bericht_id`` delivered to ``ontvanger_oin`` (a
        BerichtId is unique per sender: one per asker), for routing its answer."""
        rows = await self.db.run(
            lambda ex: ex(
                "SELECT afzender_oin, berichttype, doel FROM kp_vraag "
                "WHERE ontvanger_oin = ? AND bericht_id = ? ORDER BY afzender_oin",
                (ontvanger_oin, bericht_id),
            ).fetchall()
        )
        return [Vraagrecord(r[0], r[1], r[2]) for r in rows]

    async def afspraken(self, sleutels: Iterable[str]) -> Afsprakenstand:
        """The reeksen that hold any of these keyed pseudonyms (v2 §7), whatever their
        validity (the decision judges that against its clock), and the generation of the
        afspraken they were read at (for :meth:`plan`)."""
        keys = sorted(set(sleutels))

        def work(ex: Exec) -> Afsprakenstand:
            generatie = ex(_STAND).fetchone()[0]
            ids: set[str] = set()
            for key in keys:
                rows = ex(
                    "SELECT reeks_id FROM kp_reeks_sleutel WHERE sleutel = ?", (key,)
                ).fetchall()
                ids.update(r[0] for r in rows)
            found = [_read_reeks(ex, reeks_id) for reeks_id in sorted(ids)]
            return Afsprakenstand(int(generatie), tuple(r for r in found if r is not None))

        result: Afsprakenstand = await self.db.run(work)
        return result

    async def reeks(self, reeks_id: str) -> Reeksrecord | None:
        """The record of one afspraken reeks (v2 §6), None when unknown (or purged)."""
        found: Reeksrecord | None = await self.db.run(lambda ex: _read_reeks(ex, reeks_id))
        return found

    async def deelnemers(self, conversatie_id: str) -> frozenset[str]:
        """The OINs that sent or received a message in this conversation."""
        return frozenset(oin for oin, _ in (await self.conversatie(conversatie_id)).deelnemers)

    async def senders_of(
        self, ontvanger_oin: str, bericht_id: str, afzenders: Iterable[str] = ()
    ) -> list[str]:
        """The senders whose message ``bericht_id`` went to ``ontvanger_oin`` (read only; a
        BerichtId is unique per sender, ``afzenders`` narrows it when given)."""
        only = set(afzenders)
        rows = await self.db.run(
            lambda ex: ex(
                "SELECT afzender_oin FROM kp_levering WHERE ontvanger_oin = ? AND bericht_id = ?",
                (ontvanger_oin, bericht_id),
            ).fetchall()
        )
        return sorted(r[0] for r in rows if not only or r[0] in only)

    # ----------------------------------------------------------------- housekeeping

    async def purge(self, now: dt.datetime | None = None) -> int:
        """Forget messages older than the duplicate window; returns how many."""
        moment = (now or _now()).isoformat()

        def work(ex: Any) -> int:
            old = ex(
                "SELECT afzender_oin, bericht_id FROM kp_bericht WHERE verloopt < ?", (moment,)
            ).fetchall()
            for afzender, bericht_id in old:
                ex(
                    "DELETE FROM kp_levering WHERE afzender_oin = ? AND bericht_id = ?",
                    (afzender, bericht_id),
                )
                ex(
                    "DELETE FROM kp_bericht WHERE afzender_oin = ? AND bericht_id = ?",
                    (afzender, bericht_id),
                )
            # the routing memory, after its own retention (v2 §5)
            ex(
                "DELETE FROM kp_deelnemer WHERE conversatie_id IN "
                "(SELECT conversatie_id FROM kp_conversatie WHERE verloopt < ?)",
                (moment,),
            )
            ex("DELETE FROM kp_conversatie WHERE verloopt < ?", (moment,))
            ex("DELETE FROM kp_vraag WHERE verloopt < ?", (moment,))
            ex(
                "DELETE FROM kp_reeks_ontvanger WHERE reeks_id IN "
                "(SELECT reeks_id FROM kp_reeks WHERE verloopt < ?)",
                (moment,),
            )
            ex("DELETE FROM kp_reeks WHERE verloopt < ?", (moment,))
            # v2 §7: the pseudonyms go when the reeks expires (geldig-tot passed) or is gone
            ex(
                "DELETE FROM kp_reeks_sleutel WHERE reeks_id NOT IN (SELECT reeks_id FROM "
                "kp_reeks WHERE status = ? AND (geldig_tot IS NULL OR geldig_tot >= ?))",
                ("geldig", (now or _now()).date().isoformat()),
            )
            ex(
                "DELETE FROM kp_deelnemer WHERE gezien < ? AND conversatie_id NOT IN "
                "(SELECT conversatie_id FROM kp_conversatie)",
                (((now or _now()) - CONVERSATIE_BEWAARD).isoformat(),),
            )
            return len(old)

        count: int = await self.db.run(work)
        return count
