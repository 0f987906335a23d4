"""The state store on both engines: SQLite (default) and PostgreSQL (127.0.0.1:5432)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict, Unpack

import psycopg
import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.domain.errors import Misconfigured, Stale
from gateway.store.database import Database
from gateway.store.state import (
    Conversatie,
    Geheugenwijziging,
    Reeksrecord,
    StateStore,
    Status,
    Vraagrecord,
)
from tests.support.databases import ENGINES, fresh_database
from tests.support.routing import took_part
from tests.support.waiting import eventually

PG = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    with fresh_database(request.param, tmp_path) as db:
        yield StateStore(db, dedup_days=7)


POLITIE, OM, VT, RC = (f"0000009900000000010{i}" for i in (1, 3, 2, 5))


async def test_plan_publish_answer_and_look_up(store: StateStore) -> None:
    bid, conv = str(uuid.uuid4()), str(uuid.uuid4())
    assert await store.lookup(POLITIE, bid) is None
    await store.plan(
        POLITIE,
        bid,
        "a" * 64,
        "ZsmAanmelding",
        conv,
        [(OM, "openbaar-ministerie", "b" * 64), (VT, "veilig-thuis", "c" * 64)],
    )
    bekend = await store.lookup(POLITIE, bid)
    assert bekend is not None
    assert bekend.antwoord is None
    # ordered by recipient OIN
    assert [(lev.ontvanger_oin, lev.status) for lev in bekend.leveringen] == [
        (VT, Status.GEPLAND),
        (OM, Status.GEPLAND),
    ]
    await store.published(POLITIE, bid, [OM, VT])
    await store.answered(POLITIE, bid, b"<antwoord/>")
    bekend = await store.lookup(POLITIE, bid)
    assert bekend is not None
    assert bekend.antwoord == b"<antwoord/>"
    assert {lev.status for lev in bekend.leveringen} == {Status.GEPUBLICEERD}
    assert await store.deelnemers(conv) == {POLITIE, OM, VT}
    # an Afleverbevestiging finds whose message it confirms (read only, narrowed by sender)
    assert await store.senders_of(VT, bid) == [POLITIE]
    assert await store.senders_of(VT, bid, [OM]) == []
    assert await store.senders_of(OM, "other") == []
    # status is the sender's: another sender with the same BerichtId finds nothing
    assert await store.lookup(OM, bid) is None


async def test_plan_twice_keeps_the_first(store: StateStore) -> None:
    bid = str(uuid.uuid4())
    await store.plan(POLITIE, bid, "a" * 64, "VtMelding", "c1", [(VT, "veilig-thuis", "b" * 64)])
    await store.published(POLITIE, bid, [VT])
    await store.plan(POLITIE, bid, "a" * 64, "VtMelding", "c1", [(VT, "veilig-thuis", "b" * 64)])
    bekend = await store.lookup(POLITIE, bid)
    assert bekend is not None
    assert [lev.status for lev in bekend.leveringen] == [Status.GEPUBLICEERD]


async def test_delivered_retried_undeliverable_replayed(store: StateStore) -> None:
    bid = str(uuid.uuid4())
    await store.plan(
        POLITIE,
        bid,
        "a" * 64,
        "ZsmAanmelding",
        "c",
        [(OM, "openbaar-ministerie", "b" * 64), (RC, "reclassering", "d" * 64)],
    )
    await store.published(POLITIE, bid, [OM, RC])
    assert await store.delivered(OM, bid) == [POLITIE]
    assert await store.delivered(VT, bid) == []  # never delivered to VT
    await store.retried(POLITIE, bid, RC)
    await store.retried(POLITIE, bid, RC)
    await store.undeliverable(POLITIE, bid, RC)
    bekend = await store.lookup(POLITIE, bid)
    assert bekend is not None
    by_oin = {lev.ontvanger_oin: lev for lev in bekend.leveringen}
    assert by_oin[OM].status is Status.AFGELEVERD
    assert by_oin[RC].status is Status.NIET_AFLEVERBAAR
    assert by_oin[RC].pogingen == 2
    await store.replayed(POLITIE, bid, RC)
    bekend = await store.lookup(POLITIE, bid)
    assert bekend is not None
    assert {lev.ontvanger_oin: lev.status for lev in bekend.leveringen}[RC] is Status.GEPUBLICEERD


async def test_delivered_narrowed_to_the_named_sender(store: StateStore) -> None:
    bid = str(uuid.uuid4())
    await store.plan(
        POLITIE, bid, "a" * 64, "ZsmAanmelding", "c", [(OM, "openbaar-ministerie", "b" * 64)]
    )
    await store.plan(
        RC, bid, "e" * 64, "Reclasseringsadvies", "c2", [(OM, "openbaar-ministerie", "f" * 64)]
    )
    assert await store.delivered(OM, bid, [RC]) == [RC]
    politie = await store.lookup(POLITIE, bid)
    assert politie is not None
    assert politie.leveringen[0].status is Status.GEPLAND


async def test_purge_forgets_after_the_duplicate_window(store: StateStore) -> None:
    bid = str(uuid.uuid4())
    await store.plan(POLITIE, bid, "a" * 64, "VtMelding", "c", [(VT, "veilig-thuis", "b" * 64)])
    assert await store.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=6)) == 0
    assert await store.lookup(POLITIE, bid) is not None
    assert await store.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)) == 1
    assert await store.lookup(POLITIE, bid) is None


def test_an_unknown_dsn_refuses_to_start() -> None:
    with pytest.raises(Misconfigured, match="sqlite"):
        Database("mysql://localhost/x")


def test_status_command_shows_the_senders_message_only(tmp_path: Path) -> None:

    dsn = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(dsn)
    store = StateStore(db)
    bid = str(uuid.uuid4())

    async def prepare() -> None:
        await store.plan(POLITIE, bid, "a" * 64, "VtMelding", "c", [(VT, "veilig-thuis", "b" * 64)])
        await store.published(POLITIE, bid, [VT])

    asyncio.run(prepare())
    db.close()
    env = {"KETENPOORT_STATE_DSN": dsn}
    result = CliRunner().invoke(app, ["status", "--afzender", POLITIE, bid, "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"status": "gepubliceerd"' in result.stdout
    assert VT in result.stdout
    other = CliRunner().invoke(app, ["status", "--afzender", OM, bid], env=env)
    assert other.exit_code == 1


@pytest.mark.parametrize(
    "args", [["--afzender", POLITIE, "12345678-1234-1234-1234-123456789012"], ["--overschreden"]]
)
def test_status_without_a_state_store_says_so_and_makes_none(
    tmp_path: Path, args: list[str]
) -> None:
    path = tmp_path / "elders" / "state.db"
    env = {"KETENPOORT_STATE_DSN": f"sqlite:///{path}"}
    result = CliRunner().invoke(app, ["status", *args], env=env)
    assert result.exit_code == 2, result.output
    assert f"no state store at sqlite:///{path} (KETENPOORT_STATE_DSN)" in result.output
    assert not path.exists()


async def test_the_routing_memory_keeps_participants_and_hg(store: StateStore) -> None:
    """v2 §5: per ConversatieId who took part (OIN, rol) and whether it is HG; once HG, the
    conversation stays HG."""
    conv = str(uuid.uuid4())
    assert await store.conversatie(conv) == Conversatie()
    await took_part(store, conv, "politie", ["om", "vt-twente"], hg=True)
    await took_part(store, conv, "om", ["politie"])
    assert await store.conversatie(conv) == Conversatie(
        deelnemers=(
            (POLITIE, "politie"),
            (VT, "veilig-thuis"),
            (OM, "openbaar-ministerie"),
        ),
        hg=True,
    )


async def test_the_routing_memory_outlives_the_duplicate_window_until_its_bewaartermijn(
    store: StateStore,
) -> None:
    """Kept for the longest bewaartermijn among the conversation's messages, then purged with
    the message state by the same purge."""
    conv = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    for days in (30, 400, 90):
        await took_part(
            store, conv, "politie", ["om"], hg=days == 30, bewaartermijn=dt.timedelta(days=days)
        )
    assert await store.purge(now + dt.timedelta(days=8)) == 3  # the messages: dedup window
    assert (await store.conversatie(conv)).hg
    await store.purge(now + dt.timedelta(days=399))
    assert await store.deelnemers(conv) == {POLITIE, OM}
    await store.purge(now + dt.timedelta(days=401))
    assert await store.conversatie(conv) == Conversatie()


def test_participants_of_a_store_before_the_routing_memory_are_kept_and_purged(
    tmp_path: Path,
) -> None:
    """A store created before participants had a rol and a conversation row: the rol column
    is added; such participants are known without rol and forgotten a year after."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE kp_deelnemer (conversatie_id TEXT NOT NULL, oin TEXT NOT NULL, "
            "gezien TEXT NOT NULL, PRIMARY KEY (conversatie_id, oin))"
        )
        old.execute(
            "INSERT INTO kp_deelnemer VALUES (?, ?, ?)",
            ("c-old", VT, dt.datetime.now(dt.UTC).isoformat()),
        )
    db = Database(f"sqlite:///{path}")
    try:
        store = StateStore(db)
        now = dt.datetime.now(dt.UTC)

        async def check() -> None:
            assert await store.conversatie("c-old") == Conversatie(deelnemers=((VT, ""),))
            await store.purge(now + dt.timedelta(days=300))
            assert await store.deelnemers("c-old") == {VT}
            await store.purge(now + dt.timedelta(days=366))
            assert await store.deelnemers("c-old") == frozenset()

        asyncio.run(check())
    finally:
        db.close()


async def test_the_routing_memory_keeps_casusregie_and_the_overdracht(store: StateStore) -> None:
    """v2 §5: the casusregie holder (the last sender that took it) and the status of the
    conversation's Overdracht (the last one sent); a message that changes neither keeps them."""
    conv, wijkteam, gi = str(uuid.uuid4()), "00000099000000000107", "00000099000000000110"

    async def plan(afzender: str, wijziging: Geheugenwijziging) -> None:
        await store.plan(
            afzender,
            str(uuid.uuid4()),
            "a" * 64,
            "T",
            conv,
            [(VT, "veilig-thuis", "b" * 64)],
            geheugen=wijziging,
        )

    await plan(VT, Geheugenwijziging(overdracht="lopend"))
    assert (await store.conversatie(conv)).overdracht == "lopend"
    assert (await store.conversatie(conv)).casusregie is None
    await plan(wijkteam, Geheugenwijziging(casusregie=True))
    await plan(gi, Geheugenwijziging())
    found = await store.conversatie(conv)
    assert (found.casusregie, found.overdracht) == (wijkteam, "lopend")
    await plan(gi, Geheugenwijziging(casusregie=True))
    await plan(VT, Geheugenwijziging(overdracht="afgesloten"))
    found = await store.conversatie(conv)
    assert (found.casusregie, found.overdracht) == (gi, "afgesloten")


async def test_a_question_is_kept_per_recipient_for_its_bewaartermijn(store: StateStore) -> None:
    """v2 §6: a question (a type some type answers) is remembered per recipient with its type
    and doel, so that an answer goes only to its asker; kept for the doel's bewaartermijn,
    beyond the duplicate window, then purged."""
    conv, bid = str(uuid.uuid4()), str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    await store.plan(
        VT,
        bid,
        "a" * 64,
        "Informatieverzoek",
        conv,
        [(POLITIE, "politie", "b" * 64)],
        afzender_rol="veilig-thuis",
        bewaartermijn=dt.timedelta(days=100),
        geheugen=Geheugenwijziging(vraag_doel="VEILIGHEIDSBEOORDELING"),
    )
    assert await store.vragen(POLITIE, bid) == [
        Vraagrecord(VT, "Informatieverzoek", "VEILIGHEIDSBEOORDELING")
    ]
    assert await store.vragen(OM, bid) == []  # not sent to the OM: it cannot answer it
    assert await store.vragen(POLITIE, str(uuid.uuid4())) == []
    # a message that is no question is not kept as one
    other = str(uuid.uuid4())
    await store.plan(VT, other, "a" * 64, "Terugkoppeling", conv, [(POLITIE, "politie", "c" * 64)])
    assert await store.vragen(POLITIE, other) == []
    await store.purge(now + dt.timedelta(days=99))
    assert len(await store.vragen(POLITIE, bid)) == 1
    await store.purge(now + dt.timedelta(days=101))
    assert await store.vragen(POLITIE, bid) == []


# --------------------------------------------------------------------------- afspraken (v2 §6)


def _versie(
    reeks_id: str, versie: int, ontvangers: set[str], status: str = "geldig"
) -> Geheugenwijziging:
    return Geheugenwijziging(
        reeks=Reeksrecord(
            reeks_id=reeks_id,
            houder_oin=VT,
            versie=versie,
            status=status,
            geldig_tot=dt.date(2027, 5, 21) if status == "geldig" else None,
            ontvangers=frozenset(ontvangers),
            grondslag="WMO2015-ART-4.1.1",
            doel="ACUTE_VEILIGHEID",
        )
    )


async def _plan_versie(
    store: StateStore,
    reeks_id: str,
    versie: int,
    status: str = "geldig",
    *,
    bericht_id: str | None = None,
    gelezen: int | None = None,
) -> bool:
    """VT's versie ``versie`` of ``reeks_id`` planned (to politie), decided on the
    afspraken as read at generation ``gelezen`` (None: not said)."""
    return await store.plan(
        VT,
        bericht_id or str(uuid.uuid4()),
        "a" * 64,
        "Veiligheidsafspraken",
        str(uuid.uuid4()),
        [(POLITIE, "politie", "b" * 64)],
        geheugen=_versie(reeks_id, versie, {POLITIE}, status),
        afspraken_gelezen=gelezen,
    )


async def _plan_melding(store: StateStore, bericht_id: str, gelezen: int) -> bool:
    """Politie's VtMelding planned (to VT), matched against the afspraken as read at
    generation ``gelezen``."""
    return await store.plan(
        POLITIE,
        bericht_id,
        "c" * 64,
        "VtMelding",
        str(uuid.uuid4()),
        [(VT, "veilig-thuis", "d" * 64)],
        afspraken_gelezen=gelezen,
    )


async def test_an_afspraken_reeks_moves_forward_only_and_keeps_its_recipients(
    store: StateStore,
) -> None:
    reeks_id, conv = str(uuid.uuid4()), str(uuid.uuid4())
    assert await store.reeks(reeks_id) is None

    async def plan(versie: int, ontvangers: set[str], status: str = "geldig") -> None:
        await store.plan(
            VT,
            str(uuid.uuid4()),
            "a" * 64,
            "Veiligheidsafspraken",
            conv,
            [(o, "politie", "b" * 64) for o in sorted(ontvangers)],
            bewaartermijn=dt.timedelta(days=1825),
            geheugen=_versie(reeks_id, versie, ontvangers, status),
        )

    await plan(1, {POLITIE})
    await plan(2, {POLITIE, RC})
    await plan(2, {OM})  # not higher: the record stays (its recipients are added)
    reeks = await store.reeks(reeks_id)
    assert reeks is not None
    assert (reeks.houder_oin, reeks.versie, reeks.status) == (VT, 2, "geldig")
    assert reeks.geldig_tot == dt.date(2027, 5, 21)
    assert reeks.ontvangers >= {POLITIE, RC}
    assert (reeks.grondslag, reeks.doel) == ("WMO2015-ART-4.1.1", "ACUTE_VEILIGHEID")
    await plan(3, {POLITIE, RC}, "ingetrokken")
    reeks = await store.reeks(reeks_id)
    assert reeks is not None
    assert (reeks.versie, reeks.status, reeks.geldig_tot) == (3, "ingetrokken", None)
    # kept for the doel's bewaartermijn, then purged with the rest
    assert await store.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=1000)) >= 0
    assert await store.reeks(reeks_id) is not None
    await store.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=1826))
    assert await store.reeks(reeks_id) is None


class Afwijking(TypedDict, total=False):
    """What a planned versie may have other than the usual (status geldig, the versie's
    geldig_tot)."""

    status: str
    geldig_tot: dt.date | None


async def test_afspraken_keys_are_found_replaced_and_dropped_on_withdrawal_and_expiry(
    store: StateStore,
) -> None:
    """v2 §7: a geldig versie keeps its keyed pseudonyms (replacing the earlier versie's), a
    withdrawal drops them, and purge drops those of an expired reeks; the record stays."""
    conv = str(uuid.uuid4())
    geldig, verlopen = str(uuid.uuid4()), str(uuid.uuid4())

    async def plan(
        reeks_id: str, versie: int, sleutels: set[str], **kwargs: Unpack[Afwijking]
    ) -> None:
        wijziging = _versie(reeks_id, versie, {POLITIE}, kwargs.get("status", "geldig"))
        assert wijziging.reeks is not None
        reeks = dataclasses.replace(
            wijziging.reeks,
            sleutels=frozenset(sleutels),
            geldig_tot=kwargs.get("geldig_tot", wijziging.reeks.geldig_tot),
        )
        await store.plan(
            VT,
            str(uuid.uuid4()),
            "a" * 64,
            "Veiligheidsafspraken",
            conv,
            [(POLITIE, "politie", "b" * 64)],
            bewaartermijn=dt.timedelta(days=1825),
            geheugen=Geheugenwijziging(reeks=reeks),
        )

    await plan(geldig, 1, {"adres-1", "bsn-1"})
    await plan(verlopen, 1, {"bsn-1"}, geldig_tot=dt.date.today() - dt.timedelta(days=1))
    found = {r.reeks_id for r in (await store.afspraken(["bsn-1", "onbekend"])).reeksen}
    assert found == {geldig, verlopen}  # the decision judges validity against its clock
    assert (await store.afspraken([])).reeksen == ()
    # versie 2 moved to another address: the old key is gone, the new one found
    await plan(geldig, 2, {"adres-2", "bsn-1"})
    assert (await store.afspraken(["adres-1"])).reeksen == ()
    (reeks,) = (await store.afspraken(["adres-2"])).reeksen
    assert (reeks.reeks_id, reeks.versie) == (geldig, 2)
    # purge drops the keys of the expired reeks, keeps its record
    await store.purge()
    assert {r.reeks_id for r in (await store.afspraken(["bsn-1"])).reeksen} == {geldig}
    assert await store.reeks(verlopen) is not None
    # the withdrawal drops the keys; the record stays (stale versions stay refusable)
    await plan(geldig, 3, set(), status="ingetrokken")
    assert (await store.afspraken(["adres-2", "bsn-1"])).reeksen == ()
    stored = await store.reeks(geldig)
    assert stored is not None
    assert (stored.versie, stored.status) == (3, "ingetrokken")


async def test_a_matched_message_is_planned_only_if_no_versie_was_accepted_since(
    store: StateStore,
) -> None:
    """v2 §7 across replicas: every accepted versie counts one more; a message decided on
    the afspraken as read before that is refused its plan (Stale) and nothing of it is
    recorded; decided again on what is read now, it is planned."""
    conv = str(uuid.uuid4())
    reeks_id = str(uuid.uuid4())
    begin = (await store.afspraken(["bsn-1"])).generatie
    await _plan_versie(store, reeks_id, 1)
    assert (await store.afspraken(["bsn-1"])).generatie == begin + 1
    gelezen = (await store.afspraken(["bsn-1"])).generatie
    await _plan_versie(store, reeks_id, 2, "ingetrokken")  # by another replica meanwhile
    bericht_id = str(uuid.uuid4())
    with pytest.raises(Stale, match="an afspraken versie was accepted while it was decided"):
        await _plan_melding(store, bericht_id, gelezen)
    assert await store.lookup(POLITIE, bericht_id) is None  # nothing recorded
    nu = (await store.afspraken(["bsn-1"])).generatie
    assert nu == gelezen + 1
    assert await _plan_melding(store, bericht_id, nu)
    assert await store.lookup(POLITIE, bericht_id) is not None
    # so is a versie decided on the reeks as read before another versie was accepted
    versie_id = str(uuid.uuid4())
    with pytest.raises(Stale):
        await _plan_versie(store, reeks_id, 3, bericht_id=versie_id, gelezen=gelezen)
    assert await store.lookup(VT, versie_id) is None
    reeks = await store.reeks(reeks_id)
    assert reeks is not None
    assert (reeks.versie, reeks.status) == (2, "ingetrokken")
    # a message not matched against the afspraken is not held to them
    assert await store.plan(
        POLITIE, str(uuid.uuid4()), "e" * 64, "Adviesaanvraag", conv, [(OM, "om", "f" * 64)]
    )
    assert (await store.afspraken([])).generatie == nu  # and counts nothing


@pytest.mark.parametrize(
    ("other", "planned"), [("shared", "versie"), ("alone", "matched"), ("alone", "versie")]
)
async def test_on_postgresql_versies_and_matched_plans_wait_for_each_other(
    tmp_path: Path, other: str, planned: str
) -> None:
    """Replicas on one PostgreSQL: a matched message's plan reads the afspraken' row shared,
    a versie's takes it alone and counts one more. Here another connection is half-way
    through one of them (its transaction open: a matched message's, ``shared``, or a
    versie's, ``alone``); the store's plan of a versie or a matched message, decided on the
    afspraken as read before, waits for it to commit; then, after a matched message it is
    planned, after a versie it is Stale."""
    with fresh_database("postgresql", tmp_path) as db:
        store = StateStore(db)
        gelezen = (await store.afspraken(["bsn-1"])).generatie
        half_way = psycopg.connect(db.dsn)
        try:
            if other == "shared":
                half_way.execute("SELECT generatie FROM kp_afspraken_stand WHERE id = 1 FOR SHARE")
            else:
                half_way.execute("UPDATE kp_afspraken_stand SET generatie = generatie + 1")
            plan = (
                _plan_versie(store, str(uuid.uuid4()), 1, gelezen=gelezen)
                if planned == "versie"
                else _plan_melding(store, str(uuid.uuid4()), gelezen)
            )
            task = asyncio.ensure_future(plan)
            blocker = half_way.execute("SELECT pg_backend_pid()").fetchone()
            assert blocker is not None
            await eventually(lambda: _waits_for(blocker[0]), "the plan waiting for the other")
            assert not task.done()
            half_way.commit()
            if other == "shared":
                assert await task
            else:
                with pytest.raises(Stale):
                    await task
        finally:
            half_way.close()
        assert (await store.afspraken([])).generatie == gelezen + 1


def _waits_for(pid: int) -> bool:
    """Whether a backend waits for a lock the backend ``pid`` holds."""
    with psycopg.connect(PG, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (pid,),
        ).fetchone()
    return bool(row and row[0])
