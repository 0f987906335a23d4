"""One relational store on SQLite (default: embedded, WAL) or PostgreSQL, for the message state
and the audit trail alike: a DB-API connection on its own thread, ``?`` placeholders on both
engines, each unit of work atomic, connection trouble raised as :class:`Transient`.

Group commit: the units of work that callers hand in (:meth:`Database.run`) while the thread
is busy are done together, each in a savepoint of one transaction, and made durable by one
commit (one fsync instead of one each). Each caller hears of its own unit only after that
commit: what it returns, or what it raised (its savepoint rolled back, the others kept). When
the commit itself fails, every unit of the group fails (:class:`Transient`): none was kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from gateway.domain.errors import Misconfigured, Transient

T = TypeVar("T")

MAX_GROUP = 64  # units of work in one transaction at most


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Tell a caller of :meth:`Database.run` what became of its unit (unless it gave up)."""
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class Exec:
    """``ex(sql, params)`` runs one statement; ``ex.many(sql, rows)`` one per row."""

    def __init__(self, conn: Any, kind: str) -> None:
        self._conn = conn
        self._pg = kind == "postgresql"

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    def __call__(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(sql), params)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.cursor().executemany(self._sql(sql), rows)


class Database:
    """A DB-API connection on its own thread, with ``?`` placeholders on both engines."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kp-db")
        self._lock = threading.Lock()
        self._connect: Callable[[], Any]
        if dsn.startswith("sqlite:///"):
            self.kind = "sqlite"
            path = self._path = dsn.removeprefix("sqlite:///")
            self._connect = lambda: _sqlite(path)
        elif dsn.startswith(("postgresql://", "postgres://")):
            self.kind = "postgresql"
            self._connect = lambda: _postgres(dsn)
        else:
            scheme = dsn.split(":", 1)[0]
            raise Misconfigured(f"DSN must be sqlite:///PATH or postgresql://…, got {scheme}:")
        self._conn: Any = None
        self._hooks: list[Callable[[Exec], None]] = []
        # units handed in by run() and not yet taken by the thread, with their caller's loop
        self._queued: list[
            tuple[Callable[[Exec], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
        ] = []
        self._queue_lock = threading.Lock()
        self._draining = False  # a drain of the queue is on (or handed to) the thread
        self.commits = 0  # transactions committed (tests and the bench count them)

    def holds(self, table: str) -> bool:
        """Whether the database has ``table``, without creating anything: a SQLite file that
        is not there is not made by asking (a read-only command pointed at the wrong place
        must not leave an empty store behind)."""
        if self.kind == "sqlite" and self._path != ":memory:" and not Path(self._path).exists():
            return False
        query = (
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            if self.kind == "sqlite"
            else "SELECT 1 WHERE to_regclass(?) IS NOT NULL"
        )
        return bool(self.run_sync(lambda ex: ex(query, (table,)).fetchone()))

    @property
    def blob(self) -> str:
        return "BYTEA" if self.kind == "postgresql" else "BLOB"

    def on_connect(self, hook: Callable[[Exec], None]) -> None:
        """Run ``hook`` on every new connection (e.g. to take a session lock again)."""
        self._hooks.append(hook)
        if self._conn is not None:
            hook(Exec(self._conn, self.kind))
            self._conn.commit()

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self._connect()
            try:
                for hook in self._hooks:
                    hook(Exec(conn, self.kind))
                conn.commit()
            except Exception:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        """Forget a broken connection; the next call connects (and runs the hooks) again."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def run_sync(self, work: Callable[[Exec], T]) -> T:
        """Run ``work(cursor_fn)`` in one transaction of its own; roll back on error."""
        with self._lock:
            conn = self._connected()
            try:
                result = work(Exec(conn, self.kind))
                conn.commit()
                self.commits += 1
                return result
            except Exception as exc:
                self._roll_back(conn)
                failure = self._failure(exc, conn)
                if failure is exc:
                    raise
                raise failure from exc

    async def run(self, work: Callable[[Exec], T]) -> T:
        """Run ``work(cursor_fn)`` atomically and durably, in the group commit of the units
        handed in meanwhile (see the module's doc); roll back its part on error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._queue_lock:
            self._queued.append((work, future, loop))
            start = not self._draining
            self._draining = True
        if start:
            try:
                self._pool.submit(self._drain)
            except RuntimeError:  # closed: nothing will take the queue
                with self._queue_lock:
                    self._queued.clear()
                    self._draining = False
                raise
        return await future

    @property
    def queued(self) -> int:
        """Units handed in to :meth:`run` that the thread has not taken yet (for tests)."""
        with self._queue_lock:
            return len(self._queued)

    def _drain(self) -> None:
        """On the thread: do the queued units, a group at a time, until none is left."""
        while True:
            with self._queue_lock:
                group = self._queued[:MAX_GROUP]
                del self._queued[:MAX_GROUP]
                if not group:
                    self._draining = False
                    return
            try:
                outcomes = self._run_group([work for work, _, _ in group])
            except BaseException as exc:  # noqa: BLE001 - every caller must hear of it
                outcomes = [(False, exc)] * len(group)
            for (_, future, loop), (ok, value) in zip(group, outcomes, strict=True):
                with contextlib.suppress(RuntimeError):  # the caller's loop is gone
                    loop.call_soon_threadsafe(_settle, future, ok, value)

    def _run_group(self, works: Sequence[Callable[[Exec], Any]]) -> list[tuple[bool, Any]]:
        """The units in one transaction, each in a savepoint: (True, result) or (False,
        exception) per unit, once committed; one unit alone is :meth:`run_sync`'s case."""
        if len(works) == 1:
            try:
                return [(True, self.run_sync(works[0]))]
            except Exception as exc:  # noqa: BLE001 - handed to its caller
                return [(False, exc)]
        with self._lock:
            try:
                conn = self._connected()
            except Exception as exc:  # noqa: BLE001 - handed to every caller
                return [(False, exc)] * len(works)
            ex = Exec(conn, self.kind)
            outcomes: list[tuple[bool, Any]] = []
            try:
                if self.kind == "sqlite":  # the write lock now: no upgrade from a read later
                    conn.execute("BEGIN IMMEDIATE")
                for work in works:
                    ex("SAVEPOINT kp_unit")
                    try:
                        outcomes.append((True, work(ex)))
                    except Exception as exc:  # noqa: BLE001 - handed to its caller
                        ex("ROLLBACK TO SAVEPOINT kp_unit")
                        outcomes.append((False, self._failure(exc, conn)))
                    ex("RELEASE SAVEPOINT kp_unit")
                conn.commit()
                self.commits += 1
            except Exception as exc:  # noqa: BLE001 - nothing of the group was kept
                self._roll_back(conn)
                failure = self._failure(exc, conn)
                if not isinstance(failure, Transient):
                    failure = Transient(f"store: the group commit failed ({type(exc).__name__})")
                    failure.__cause__ = exc
                return [(False, failure)] * len(works)
            return outcomes

    def _connected(self) -> Any:
        """The connection, connecting when there is none; trouble connecting is Transient."""
        try:
            return self._connection()
        except Transient:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("psycopg"):
                raise Transient(f"store: cannot connect ({type(exc).__name__})") from exc
            raise

    def _roll_back(self, conn: Any) -> None:
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001 - the connection itself is gone
            self._drop()

    def _failure(self, exc: Exception, conn: Any) -> Exception:
        """What a caller hears of ``exc``: the store's own trouble as :class:`Transient`
        (dropping a connection that broke), anything else as it was raised."""
        if isinstance(exc, sqlite3.OperationalError | OSError):
            failure: Exception = Transient(f"store: {exc}")
        elif type(exc).__module__.startswith("psycopg"):
            if getattr(exc, "sqlstate", None) is None or conn.closed:
                self._drop()  # connection-level trouble: connect afresh next time
            failure = Transient(f"store: {type(exc).__name__}")
        else:
            return exc
        failure.__cause__ = exc
        return failure

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        self._pool.shutdown(wait=True)


def _sqlite(path: str) -> sqlite3.Connection:
    if path != ":memory:":  # made on first use, not by asking whether a table is there
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level="DEFERRED")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _postgres(dsn: str) -> Any:
    import psycopg  # noqa: PLC0415 - only needed when PostgreSQL is configured

    try:
        return psycopg.connect(dsn)
    except psycopg.OperationalError as exc:
        raise Transient(f"state store: cannot connect to PostgreSQL ({exc.sqlstate})") from exc


__all__ = ["Database", "Exec"]
