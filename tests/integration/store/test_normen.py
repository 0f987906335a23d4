"""The open norms (spec v2 §10) on both engines: opened, closed in the conversation or by a
delivery's confirmation, overdue by a controllable clock and reported once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.normen import NORMEN_BEWAARD, NormRij, NormStore
from tests.support.databases import ENGINES, fresh_database

POLITIE, VT, OM = "00000099000000000101", "00000099000000000102", "00000099000000000103"
CET = dt.timezone(dt.timedelta(hours=1))
GEOPEND = dt.datetime(2026, 11, 27, 15, 0, tzinfo=CET)  # a Friday
EINDE_MAANDAG = dt.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=CET)
EINDE_VRIJDAG = dt.datetime(2026, 12, 4, 23, 59, 59, 999999, tzinfo=CET)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NormStore]:
    with fresh_database(request.param, tmp_path) as db:
        yield NormStore(db)


def vtmelding(conversatie_id: str, bericht_id: str | None = None) -> list[NormRij]:
    """What a VtMelding to VT opens: VT's beoordeling and its afleverbevestiging."""
    bid = bericht_id or str(uuid.uuid4())

    def rij(naam: str, uiterlijk: dt.datetime) -> NormRij:
        return NormRij(POLITIE, bid, naam, VT, conversatie_id, "VtMelding", uiterlijk, GEOPEND)

    return [rij("veiligheidsbeoordeling", EINDE_VRIJDAG), rij("afleverbevestiging", EINDE_MAANDAG)]


async def test_open_close_and_overdue(store: NormStore) -> None:
    conv = str(uuid.uuid4())
    rijen = vtmelding(conv)
    bid = rijen[0].bericht_id
    await store.open(rijen)
    await store.open(rijen)  # a resumed message opens nothing twice
    assert await store.open_rows() == sorted(rijen, key=lambda r: r.uiterlijk)
    # Monday 09:00 VT confirms the delivery: met
    maandag = dt.datetime(2026, 11, 30, 9, tzinfo=CET)
    assert await store.close_delivery(VT, bid, [POLITIE], {"afleverbevestiging"}, maandag) == 1
    assert await store.close_delivery(VT, bid, [POLITIE], {"afleverbevestiging"}, maandag) == 0
    assert [r.naam for r in await store.open_rows()] == ["veiligheidsbeoordeling"]
    # Friday 23:59:59 nothing has passed; a moment after midnight the beoordeling has
    assert await store.newly_overdue(EINDE_VRIJDAG) == []
    zaterdag = EINDE_VRIJDAG + dt.timedelta(seconds=1)
    (passed,) = await store.newly_overdue(zaterdag)
    assert (passed.naam, passed.partner_oin, passed.uiterlijk) == (
        "veiligheidsbeoordeling",
        VT,
        EINDE_VRIJDAG,
    )
    assert await store.newly_overdue(zaterdag) == []  # reported once
    assert [r.naam for r in await store.overdue(zaterdag)] == ["veiligheidsbeoordeling"]
    # VT's Terugkoppeling in the conversation closes it (late, but closed)
    assert await store.close_in_conversation(conv, VT, {"veiligheidsbeoordeling"}, zaterdag) == 1
    assert await store.open_rows() == []
    assert await store.overdue(zaterdag) == []


async def test_only_the_partner_whose_step_it_is_closes_it_in_its_conversation(
    store: NormStore,
) -> None:
    conv, other = str(uuid.uuid4()), str(uuid.uuid4())
    await store.open(vtmelding(conv))
    assert await store.close_in_conversation(conv, OM, {"veiligheidsbeoordeling"}, GEOPEND) == 0
    assert await store.close_in_conversation(other, VT, {"veiligheidsbeoordeling"}, GEOPEND) == 0
    assert await store.close_in_conversation(conv, VT, set(), GEOPEND) == 0
    assert await store.close_in_conversation(conv, VT, {"zsm-beslissing"}, GEOPEND) == 0
    assert len(await store.open_rows()) == 2


async def test_a_confirmation_closes_only_its_own_delivery(store: NormStore) -> None:
    conv = str(uuid.uuid4())
    rijen = vtmelding(conv)
    await store.open(rijen)
    await store.open(vtmelding(conv))  # another VtMelding in the same conversation
    bid = rijen[0].bericht_id
    assert await store.close_delivery(OM, bid, [POLITIE], {"afleverbevestiging"}, GEOPEND) == 0
    assert await store.close_delivery(VT, bid, [OM], {"afleverbevestiging"}, GEOPEND) == 0
    assert await store.close_delivery(VT, bid, [POLITIE], {"afleverbevestiging"}, GEOPEND) == 1
    assert len(await store.open_rows()) == 3


async def test_old_rows_are_forgotten(store: NormStore) -> None:
    await store.open(vtmelding(str(uuid.uuid4())))
    assert await store.purge(GEOPEND + NORMEN_BEWAARD) == 0
    assert await store.purge(GEOPEND + NORMEN_BEWAARD + dt.timedelta(seconds=1)) == 2
    assert await store.open_rows() == []


async def test_two_stores_on_one_database_report_a_deadline_once(store: NormStore) -> None:
    second = NormStore(store.db)  # another replica, same tables
    await store.open(vtmelding(str(uuid.uuid4())))
    later = EINDE_VRIJDAG + dt.timedelta(days=1)
    first_report = await store.newly_overdue(later)
    assert {r.naam for r in first_report} == {"veiligheidsbeoordeling", "afleverbevestiging"}
    assert await second.newly_overdue(later) == []


def test_status_command_lists_the_overdue_steps(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from gateway.cli.main import app  # noqa: PLC0415
    from gateway.store.database import Database  # noqa: PLC0415

    dsn = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(dsn)
    store = NormStore(db)
    lang_geleden = dt.datetime(2020, 1, 6, 23, 59, 59, tzinfo=dt.UTC)
    laat, op_tijd = vtmelding("c")
    asyncio.run(
        store.open(
            [
                dataclasses.replace(laat, uiterlijk=lang_geleden),
                dataclasses.replace(op_tijd, uiterlijk=dt.datetime(2999, 1, 1, tzinfo=dt.UTC)),
            ]
        )
    )
    db.close()
    env = {"KETENPOORT_STATE_DSN": dsn}
    result = CliRunner().invoke(app, ["status", "--overschreden", "--json"], env=env)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["overschreden"]
    assert row.pop("te_laat_seconden") > 0
    assert row == {
        "norm": "veiligheidsbeoordeling",
        "partner": VT,
        "berichttype": "VtMelding",
        "bericht_id": laat.bericht_id,
        "afzender": POLITIE,
        "uiterlijk": "2020-01-06T23:59:59+00:00",
    }
    plain = CliRunner().invoke(app, ["status", "--overschreden"], env={**env, "COLUMNS": "300"})
    assert plain.exit_code == 0, plain.output
    assert "Overschreden normen (1)" in plain.stdout
    assert laat.bericht_id in plain.stdout
    neither = CliRunner().invoke(app, ["status"], env=env)
    assert neither.exit_code == 2
    assert "--overschreden" in neither.output
