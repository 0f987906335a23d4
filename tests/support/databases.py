"""A fresh store database on either engine: SQLite in a temporary folder, or a schema of its
own on the PostgreSQL at 127.0.0.1:5432 (dropped afterwards)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from gateway.store.database import Database

__all__ = ["ENGINES", "PG", "fresh_database"]

PG = "postgresql://postgres@127.0.0.1:5432/test"
ENGINES = ("sqlite", "postgresql")


@contextlib.contextmanager
def fresh_database(engine: str, tmp_path: Path) -> Iterator[Database]:
    if engine == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'state.db'}")
        try:
            yield db
        finally:
            db.close()
        return
    schema = f"kp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    db = Database(f"{PG}?options=-csearch_path%3D{schema}")
    try:
        yield db
    finally:
        db.close()
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
