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
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.store.database import Database
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
        "sleutel": None,  # not a step per item
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


# --------------------------------------------------------------------------- per item, on arrival

WIJKTEAM, CRISISDIENST = "00000099000000000107", "00000099000000000111"


def voorwaarden(conversatie_id: str) -> list[NormRij]:
    """What an Overdracht with voorwaarden v1 and v2 opens for the wijkteam: a step each."""
    bid = str(uuid.uuid4())
    return [
        NormRij(
            VT,
            bid,
            "voorwaarde",
            WIJKTEAM,
            conversatie_id,
            "Overdracht",
            uiterlijk,
            GEOPEND,
            sleutel=sleutel,
        )
        for sleutel, uiterlijk in (("v1", EINDE_MAANDAG), ("v2", EINDE_VRIJDAG))
    ]


async def test_a_step_per_item_is_closed_by_its_key_only(store: NormStore) -> None:
    conv = str(uuid.uuid4())
    rijen = voorwaarden(conv)
    assert await store.open(rijen) == rijen  # two rows: the key is part of the step
    assert await store.open(rijen) == []  # resumed: nothing new
    maandag = dt.datetime(2026, 11, 30, 9, tzinfo=CET)
    # a message closing the norm by name alone closes no step per item
    assert await store.close_in_conversation(conv, WIJKTEAM, {"voorwaarde"}, maandag) == 0
    # another partner's Terugmelding closes nothing of the wijkteam's
    assert await store.close_in_conversation(conv, VT, (), maandag, [("voorwaarde", "v1")]) == 0
    closed = await store.close_in_conversation(conv, WIJKTEAM, (), maandag, [("voorwaarde", "v1")])
    assert closed == 1
    assert [(r.sleutel, r.uiterlijk) for r in await store.open_rows()] == [("v2", EINDE_VRIJDAG)]
    zaterdag = EINDE_VRIJDAG + dt.timedelta(seconds=1)
    (passed,) = await store.newly_overdue(zaterdag)
    assert (passed.naam, passed.sleutel) == ("voorwaarde", "v2")
    assert await store.newly_overdue(zaterdag) == []


async def test_a_step_checked_on_arrival_is_recorded_closed_and_a_late_one_reported(
    store: NormStore,
) -> None:
    conv = str(uuid.uuid4())
    op_tijd = NormRij(
        CRISISDIENST,
        str(uuid.uuid4()),
        "acute-inzet-teruggemeld",
        CRISISDIENST,
        conv,
        "Terugmelding",
        EINDE_MAANDAG,
        GEOPEND,
        gesloten=EINDE_MAANDAG,
    )
    te_laat = dataclasses.replace(
        op_tijd, bericht_id=str(uuid.uuid4()), gesloten=EINDE_MAANDAG + dt.timedelta(seconds=1)
    )
    assert (op_tijd.te_laat, te_laat.te_laat) == (False, True)
    assert await store.open([op_tijd, te_laat]) == [op_tijd, te_laat]
    assert await store.open([op_tijd, te_laat]) == []  # a resumed message reports nothing again
    assert await store.open_rows() == []
    # the late one is reported by the watcher at once (normwatch), never again by the clock
    assert await store.newly_overdue(EINDE_VRIJDAG) == []
    recent = await store.recent(GEOPEND - dt.timedelta(days=1))
    assert {(r.bericht_id, r.te_laat) for r in recent} == {
        (op_tijd.bericht_id, False),
        (te_laat.bericht_id, True),
    }


def test_a_store_of_before_the_keys_is_brought_up_to_date(tmp_path: Path) -> None:
    """kp_norm as issue #15 found it (no sleutel column, a key of four): rebuilt with the key
    column, its rows kept."""
    for engine in ENGINES:
        with fresh_database(engine, tmp_path / engine) as db:
            db.run_sync(
                lambda ex: (
                    ex(
                        "CREATE TABLE kp_norm (afzender_oin TEXT NOT NULL, bericht_id TEXT NOT "
                        "NULL, naam TEXT NOT NULL, partner_oin TEXT NOT NULL, conversatie_id "
                        "TEXT NOT NULL, berichttype TEXT NOT NULL, uiterlijk TEXT NOT NULL, "
                        "geopend TEXT NOT NULL, gesloten TEXT, gemeld INTEGER NOT NULL DEFAULT "
                        "0, PRIMARY KEY (afzender_oin, bericht_id, naam, partner_oin))"
                    ),
                    ex(
                        "INSERT INTO kp_norm VALUES ('a', 'b', 'veiligheidsbeoordeling', 'p', "
                        "'c', 'VtMelding', '2026-12-04T22:59:59.999999Z', "
                        "'2026-11-27T14:00:00.000000Z', NULL, 1)"
                    ),
                )
            )
            store = NormStore(db)
            (old,) = asyncio.run(store.open_rows())
            assert (old.bericht_id, old.naam, old.sleutel) == ("b", "veiligheidsbeoordeling", "")
            # reported before the upgrade: not again
            assert asyncio.run(store.newly_overdue(EINDE_VRIJDAG + dt.timedelta(days=1))) == []
            rijen = voorwaarden("c")
            assert asyncio.run(store.open(rijen)) == rijen
            NormStore(db)  # a second start changes nothing
            assert len(asyncio.run(store.open_rows())) == 3
