"""The one Database of both stores: what it says about its tables, on either engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.store.database import Database
from tests.support.databases import ENGINES, fresh_database


@pytest.mark.parametrize("engine", ENGINES)
def test_holds_says_whether_a_table_is_there(engine: str, tmp_path: Path) -> None:
    with fresh_database(engine, tmp_path) as db:
        assert not db.holds("kp_proef")
        db.run_sync(lambda ex: ex("CREATE TABLE kp_proef (x INTEGER)"))
        assert db.holds("kp_proef")
        assert not db.holds("kp_ander")


def test_asking_makes_no_sqlite_file(tmp_path: Path) -> None:
    """A read-only command pointed at the wrong place leaves no empty store behind, nor the
    folder it named."""
    path = tmp_path / "nergens" / "audit.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert not db.holds("audit_record")
    finally:
        db.close()
    assert not path.parent.exists()


def test_the_first_use_makes_the_sqlite_folder(tmp_path: Path) -> None:
    path = tmp_path / "nieuw" / "state.db"
    db = Database(f"sqlite:///{path}")
    try:
        db.run_sync(lambda ex: ex("CREATE TABLE kp_proef (x INTEGER)"))
        assert db.holds("kp_proef")
    finally:
        db.close()
    assert path.exists()
