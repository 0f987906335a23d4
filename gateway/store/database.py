"""One relational store on SQLite (default: embedded, WAL) or PostgreSQL, for the message state
and the audit trail alike: a DB-API connection on its own thread, ``?`` placeholders on both
engines, one transaction per unit of work, connection trouble raised as :class:`Transient`.
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
        """Run ``work(cursor_fn)`` in one transaction; roll back on error."""
        with self._lock:
            try:
                conn = self._connection()
            except Transient:
                raise
            except Exception as exc:
                if type(exc).__module__.startswith("psycopg"):
                    raise Transient(f"store: cannot connect ({type(exc).__name__})") from exc
                raise
            try:
                result = work(Exec(conn, self.kind))
                conn.commit()
                return result
            except Exception as exc:
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001 - the connection itself is gone
                    self._drop()
                if isinstance(exc, sqlite3.OperationalError | OSError):
                    raise Transient(f"store: {exc}") from exc
                if type(exc).__module__.startswith("psycopg"):
                    if getattr(exc, "sqlstate", None) is None or conn.closed:
                        self._drop()  # connection-level trouble: connect afresh next time
                    raise Transient(f"store: {type(exc).__name__}") from exc
                raise

    async def run(self, work: Callable[[Exec], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.run_sync, work)

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
