"""NormWatch's periodic check: it keeps checking after the store failed once, and reports a
passed deadline from the clock it was given (the broker path: tests/integration/runtime)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from gateway.domain.errors import Transient
from gateway.runtime.normwatch import NormWatch
from gateway.store.database import Database
from gateway.store.normen import NormRij, NormStore
from tests.support.waiting import eventually

UITERLIJK = dt.datetime(2026, 12, 4, 22, 59, 59, tzinfo=dt.UTC)


class FailingOnce(NormStore):
    """A store whose first check fails (the database was away)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.checks = 0

    async def newly_overdue(self, now: dt.datetime) -> list[NormRij]:
        self.checks += 1
        if self.checks == 1:
            raise Transient("database away")
        return await super().newly_overdue(now)


async def test_the_periodic_check_survives_a_failing_store(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    store = FailingOnce(db)
    rij = NormRij(
        "1" * 20,
        "b",
        "veiligheidsbeoordeling",
        "2" * 20,
        "c",
        "VtMelding",
        UITERLIJK,
        UITERLIJK - dt.timedelta(days=7),
    )
    await store.open([rij])
    watch = NormWatch(store, clock=lambda: UITERLIJK + dt.timedelta(seconds=1))
    task = asyncio.create_task(watch.run(interval=0.01))
    try:
        # failed once, then reported, then quiet
        await eventually(lambda: store.checks >= 3, "checked three times")
    finally:
        task.cancel()
    assert watch.overschreden == {("2" * 20, "veiligheidsbeoordeling"): 1}
    assert watch.gauge(watch.open) == [(("2" * 20, "veiligheidsbeoordeling"), 1.0)]
    assert await store.newly_overdue(UITERLIJK + dt.timedelta(days=1)) == []  # reported already
    db.close()
