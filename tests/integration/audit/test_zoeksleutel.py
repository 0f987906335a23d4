"""People without a BSN in the audit store (spec v2 §8): found by a keyed search key of name and
birth date, nothing in clear, the key gone with the person's last personal part. On SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.audit.log import Entry
from gateway.decision.trail import Trail
from tests.support.audit_store import Store, store_on

GEBOREN = dt.date(1988, 4, 2)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from store_on(request.param, tmp_path)


def _ontvangen(subject: str, sleutel: str | None, dagen: int) -> Entry:
    return Entry(
        gebeurtenis="ontvangen",
        dedup=f"{uuid.uuid4()}|ontvangen||{subject}",
        trace_id=uuid.uuid4().hex,
        span_id=uuid.uuid4().hex[:16],
        bericht_id=str(uuid.uuid4()),
        status="geaccepteerd",
        betrokkene=subject,
        zoeksleutel=sleutel,
        bewaartermijn_dagen=dagen,
    )


async def _append(store: Store, entries: list[Entry]) -> None:
    db, audit = store.log()
    try:
        audit.open()
        await audit.append(entries)
        await audit.close()
    finally:
        db.close()


async def _find(store: Store, sleutel: str) -> list[str]:
    db, audit = store.log(f"lezer-{uuid.uuid4().hex[:6]}")
    try:
        return await audit.find(sleutel)
    finally:
        db.close()


def _keys(store: Store) -> list[tuple[str, str]]:
    rows = store.sql(lambda ex: ex("SELECT sleutel, betrokkene FROM audit_zoeksleutel").fetchall())
    return sorted((str(r[0]), str(r[1])) for r in rows)


def test_a_person_without_a_bsn_is_found_by_name_and_birth_date(store: Store) -> None:
    trail = Trail(store.pseudonymiser())
    # the same woman reported by VT and by the politie, each under its own persoonsnummer
    bij_vt = trail.pseudonymise("persoonsnummer|00000099000000000102|VTT-P-2026-0417")
    bij_politie = trail.pseudonymise("persoonsnummer|00000099000000000101|POL-7")
    anders = trail.pseudonymise("persoonsnummer|00000099000000000102|VTT-P-2026-0418")
    sleutel = trail.zoeksleutel("Anna Jansen", GEBOREN)
    asyncio.run(
        _append(
            store,
            [
                _ontvangen(bij_vt, sleutel, 30),
                _ontvangen(bij_vt, sleutel, 30),  # a second message about her: one key
                _ontvangen(bij_politie, sleutel, 30),
                _ontvangen(anders, trail.zoeksleutel("Anna Jansen", GEBOREN.replace(day=3)), 30),
                _ontvangen(trail.pseudonymise("999990019"), None, 30),  # with a BSN: no key
            ],
        )
    )
    assert asyncio.run(_find(store, sleutel)) == sorted([bij_vt, bij_politie])
    # as typed: case, accents and spaces do not matter
    assert asyncio.run(_find(store, trail.zoeksleutel(" ANNA  jansen", GEBOREN))) == sorted(
        [bij_vt, bij_politie]
    )
    assert asyncio.run(_find(store, trail.zoeksleutel("Anna Janssen", GEBOREN))) == []
    assert len(_keys(store)) == 3
    dump = str(store.sql(lambda ex: ex("SELECT * FROM audit_zoeksleutel").fetchall()))
    for clear in ("Anna", "anna", "Jansen", "1988", "VTT-P", "POL-7"):
        assert clear not in dump


def test_a_search_key_goes_with_the_persons_last_personal_part(store: Store) -> None:
    trail = Trail(store.pseudonymiser())
    kort = trail.pseudonymise("persoonsnummer|00000099000000000102|1")
    lang = trail.pseudonymise("persoonsnummer|00000099000000000101|2")
    sleutel = trail.zoeksleutel("Sam de Vries", dt.date(2019, 3, 14))
    asyncio.run(_append(store, [_ontvangen(kort, sleutel, 1), _ontvangen(lang, sleutel, 30)]))
    assert asyncio.run(_find(store, sleutel)) == sorted([kort, lang])

    async def purge() -> None:
        db, audit = store.log()
        try:
            await audit.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
        finally:
            db.close()

    asyncio.run(purge())  # the first one's retention is over
    assert asyncio.run(_find(store, sleutel)) == [lang]
    assert _keys(store) == [(sleutel, lang)]

    async def erase() -> None:
        db, audit = store.log()
        try:
            places = [(r.log, r.seq) for r in await audit.history(lang)]
            assert await audit.erase(places) == 1
        finally:
            db.close()

    asyncio.run(erase())  # a lawful early erasure of the other
    assert asyncio.run(_find(store, sleutel)) == []
    assert _keys(store) == []
