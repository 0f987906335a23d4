"""The one Database of both stores, on either engine: what it says about its tables, and its
group commit (units handed in meanwhile share one transaction, each in its savepoint)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.errors import Stale, Transient
from gateway.store.database import Database, Exec
from tests.support.databases import ENGINES, fresh_database
from tests.support.waiting import CEILING_S, eventually


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


class _Held:
    """A unit of work that keeps the store's thread busy until released, so that the units
    handed in meanwhile queue up and are done as one group."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, ex: Exec) -> str:
        self.started.set()
        assert self.release.wait(CEILING_S)
        return "held"


async def _grouped(db: Database, units: list[Callable[[Exec], Any]]) -> list[Any]:
    """Run ``units`` as one group (behind a held unit); what each caller hears (its result
    or its exception)."""
    held = _Held()
    first = asyncio.ensure_future(db.run(held))
    await eventually(held.started.is_set, "the store's thread busy")
    tasks = [asyncio.ensure_future(db.run(unit)) for unit in units]
    await eventually(lambda: db.queued == len(units), "every unit queued")
    held.release.set()
    assert await first == "held"
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def _insert(value: int) -> Callable[[Exec], int]:
    def unit(ex: Exec) -> int:
        ex("INSERT INTO kp_proef (x) VALUES (?)", (value,))
        return value

    return unit


def _rows(db: Database) -> list[int]:
    return [
        r[0] for r in db.run_sync(lambda ex: ex("SELECT x FROM kp_proef ORDER BY x").fetchall())
    ]


@pytest.mark.parametrize("engine", ENGINES)
async def test_units_handed_in_meanwhile_share_one_commit(engine: str, tmp_path: Path) -> None:
    with fresh_database(engine, tmp_path) as db:
        db.run_sync(lambda ex: ex("CREATE TABLE kp_proef (x INTEGER)"))
        before = db.commits
        assert await _grouped(db, [_insert(i) for i in range(10)]) == list(range(10))
        assert db.commits == before + 2  # the held unit's, then one for the ten
        assert _rows(db) == list(range(10))


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_unit_that_fails_is_rolled_back_alone(engine: str, tmp_path: Path) -> None:
    """In a group: a unit raising its own exception (as a claim raises Stale) and one whose
    SQL the store refuses each lose their own writes and hear of it (the store's trouble as
    Transient); the others are kept."""

    def refused(ex: Exec) -> None:
        ex("INSERT INTO kp_proef (x) VALUES (?)", (100,))
        raise Stale("decided on what changed since")

    def broken(ex: Exec) -> None:
        ex("INSERT INTO kp_proef (x) VALUES (?)", (200,))
        ex("INSERT INTO kp_nergens (x) VALUES (1)")

    with fresh_database(engine, tmp_path) as db:
        db.run_sync(lambda ex: ex("CREATE TABLE kp_proef (x INTEGER)"))
        heard = await _grouped(db, [_insert(1), refused, _insert(2), broken, _insert(3)])
        assert heard[0::2] == [1, 2, 3]
        assert isinstance(heard[1], Stale)
        assert isinstance(heard[3], Transient)
        assert _rows(db) == [1, 2, 3]


async def test_when_the_group_commit_fails_no_unit_is_kept(tmp_path: Path) -> None:
    """PostgreSQL checks a deferred constraint at the commit: two units, each fine on its
    own, break it together; both hear Transient and neither is kept, nor the third."""
    with fresh_database("postgresql", tmp_path) as db:
        db.run_sync(
            lambda ex: ex(
                "CREATE TABLE kp_proef (x INTEGER, CONSTRAINT uniek UNIQUE (x) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )
        )
        heard = await _grouped(db, [_insert(7), _insert(7), _insert(8)])
        assert all(isinstance(h, Transient) for h in heard), heard
        assert _rows(db) == []
        assert await db.run(_insert(9)) == 9  # the store carries on
        assert _rows(db) == [9]
