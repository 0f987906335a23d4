"""One writer per log: a lock file beside an SQLite store, a session advisory lock on
PostgreSQL (taken again on every new connection, so a reconnect keeps it)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from pathlib import Path
from typing import IO

from gateway.domain.errors import Misconfigured
from gateway.store.database import Database, Exec

__all__ = ["LogLock"]


class LogLock:
    """The lock that makes one process the only writer of log ``log_id``."""

    def __init__(self, db: Database, log_id: str) -> None:
        self.db = db
        self.log_id = log_id
        self._file: IO[str] | None = None

    def take(self) -> None:
        """Take the lock; Misconfigured when another process holds it."""
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
            self._file = handle
            return
        # A session lock: taken again on every new connection (after a reconnect too).
        self.db.on_connect(self._pg_lock)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.db.kind == "postgresql":
            with contextlib.suppress(Exception):
                self.db.run_sync(lambda ex: ex("SELECT pg_advisory_unlock(?)", (self._pg_key(ex),)))

    def _pg_key(self, ex: Exec) -> int:
        schema = ex("SELECT current_schema()").fetchone()[0]
        digest = hashlib.sha256(f"{schema}/{self.log_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def _pg_lock(self, ex: Exec) -> None:
        if not ex("SELECT pg_try_advisory_lock(?)", (self._pg_key(ex),)).fetchone()[0]:
            raise Misconfigured(f"audit log {self.log_id} is written by another process")
