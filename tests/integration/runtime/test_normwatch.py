"""The chain's norm times followed by a running gateway on the real broker (spec v2 §10), with
a clock the test moves: a VtMelding opens VT's beoordeling and its afleverbevestiging; VT's
Afleverbevestiging closes the one in time; the other passes over a weekend, is logged once as
``norm_overschreden`` and shows in the gauges; VT's Terugkoppeling closes it late. Nothing is
blocked by a deadline."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from structlog.testing import capture_logs

from gateway.runtime import app as gateway_app
from gateway.runtime.settings import Settings
from gateway.store.normen import NormRij
from tests.support.broker import OINS, add_partners, delete_topology
from tests.support.partners import RabbitPartner, drain, inbox_until_answered, take
from tests.support.routing import PERSONAL, TERUGKOPPELING, VT_MELDING, afleverbevestiging, build

CET = dt.timezone(dt.timedelta(hours=1))
VRIJDAG = dt.datetime(2026, 11, 27, 15, 0, tzinfo=CET)
MAANDAG = dt.datetime(2026, 11, 30, 9, 0, tzinfo=CET)
EINDE_MAANDAG = dt.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=CET)
EINDE_VRIJDAG = dt.datetime(2026, 12, 4, 23, 59, 59, 999999, tzinfo=CET)
ZATERDAG = EINDE_VRIJDAG + dt.timedelta(microseconds=1)
POLITIE, VT = OINS["politie"], OINS["vt-twente"]


def gauge(metrics: str, name: str, partner: str, norm: str) -> float | None:
    found = re.search(
        rf'^{name}\{{norm="{norm}",partner="{partner}"\}} ([0-9.e+]+)$', metrics, re.M
    )
    return float(found.group(1)) if found else None


def steps(rows: list[NormRij]) -> set[tuple[str, str, dt.datetime]]:
    return {(r.naam, r.partner_oin, r.uiterlijk) for r in rows}


async def test_a_vtmelding_s_norms_met_and_missed_over_a_weekend(
    settings: Settings, vhost: str
) -> None:
    klok = [VRIJDAG]
    # the test checks itself (the chore checks once at start, then waits an hour)
    settings = settings.model_copy(update={"normen_check_seconds": 3600.0})
    async with gateway_app.running(settings, clock=lambda: klok[0]) as parts:
        politie = RabbitPartner(POLITIE, vhost, parts.topology)
        vt = RabbitPartner(VT, vhost, parts.topology)
        await politie.connect()
        await vt.connect()
        try:
            conv = str(uuid.uuid4())
            raw, bid = build(VT_MELDING, conversatie_id=conv)
            await politie.send(raw)
            await inbox_until_answered(politie)
            await take(vt, 1)
            store = parts.normen.store
            assert steps(await store.open_rows()) == {
                ("veiligheidsbeoordeling", VT, EINDE_VRIJDAG),
                ("afleverbevestiging", VT, EINDE_MAANDAG),
            }

            # Monday 09:00: VT confirms the delivery, in time
            klok[0] = MAANDAG
            confirmation, _ = afleverbevestiging("vt-twente", bid, original_sender="politie")
            await vt.send(confirmation)
            await inbox_until_answered(vt)
            assert steps(await store.open_rows()) == {("veiligheidsbeoordeling", VT, EINDE_VRIJDAG)}

            with capture_logs() as logs:
                klok[0] = EINDE_VRIJDAG  # the last moment of the fifth werkdag
                assert await parts.normen.check() == []
                metrics = parts.metrics.expose().decode()
                assert gauge(metrics, "ketenpoort_normen_open", VT, "veiligheidsbeoordeling") == 1
                assert (
                    gauge(metrics, "ketenpoort_normen_overschreden", VT, "veiligheidsbeoordeling")
                    is None
                )
                klok[0] = ZATERDAG
                (passed,) = await parts.normen.check()
                assert await parts.normen.check() == []  # logged once
            events = [e for e in logs if e["event"] == "norm_overschreden"]
            assert events == [
                {
                    "event": "norm_overschreden",
                    "log_level": "warning",
                    "norm": "veiligheidsbeoordeling",
                    "bericht_id": bid,
                    "berichttype": "VtMelding",
                    "afzender": POLITIE,
                    "partner": VT,
                    "uiterlijk": EINDE_VRIJDAG.astimezone(dt.UTC).isoformat(),
                }
            ]
            assert passed.bericht_id == bid
            assert not any(p in repr(logs) for p in PERSONAL)
            metrics = parts.metrics.expose().decode()
            assert (
                gauge(metrics, "ketenpoort_normen_overschreden", VT, "veiligheidsbeoordeling") == 1
            )
            missed = "ketenpoort_normen_gemist_total"
            assert gauge(metrics, missed, VT, "veiligheidsbeoordeling") == 1  # counted once

            # VT's Terugkoppeling in the conversation closes it, late; it is delivered all the
            # same and opens the politie's afleverbevestiging
            klok[0] = ZATERDAG + dt.timedelta(hours=10)
            raw, _ = build(TERUGKOPPELING, conversatie_id=conv)
            await vt.send(raw)
            await inbox_until_answered(vt)
            (delivered,) = await take(politie, 1)
            assert delivered.body
            assert {r.naam for r in await store.open_rows()} == {"afleverbevestiging"}
            assert {r.partner_oin for r in await store.open_rows()} == {POLITIE}
            assert await parts.normen.check() == []
            metrics = parts.metrics.expose().decode()
            assert gauge(metrics, "ketenpoort_normen_open", VT, "veiligheidsbeoordeling") is None
            assert gauge(metrics, "ketenpoort_normen_open", POLITIE, "afleverbevestiging") == 1
        finally:
            await drain(politie)
            await politie.close()
            await vt.close()
    await delete_topology(vhost, parts.topology)


WIJKTEAM, CRISISDIENST = "00000099000000000107", "00000099000000000111"
WOENSDAG = dt.datetime(2026, 11, 25, 10, 0, tzinfo=CET)
EINDE_MAANDAG_14_DEC = dt.datetime(2026, 12, 14, 23, 59, 59, 999999, tzinfo=CET)
EINDE_15_JAN = dt.datetime(2027, 1, 15, 23, 59, 59, 999999, tzinfo=CET)


async def test_voorwaarden_per_item_and_a_late_acute_inzet(settings: Settings, vhost: str) -> None:
    """VT's Overdracht to Wijkteam Enschede opens a step per voorwaarde (v1, v2) at its own
    termijn; the wijkteam's zorgsignaal giving v1 a final status closes v1 only; v2 passes
    its termijn and is reported once. The crisisdienst reports the acute inzet of Sunday
    night on Tuesday: delivered all the same, recorded as missed and logged at arrival."""
    klok = [WOENSDAG]
    settings = settings.model_copy(update={"normen_check_seconds": 3600.0})
    add_partners(vhost, [WIJKTEAM, CRISISDIENST])
    async with gateway_app.running(settings, clock=lambda: klok[0]) as parts:
        vt = RabbitPartner(VT, vhost, parts.topology)
        wijkteam = RabbitPartner(WIJKTEAM, vhost, parts.topology)
        crisisdienst = RabbitPartner(CRISISDIENST, vhost, parts.topology)
        for partner in (vt, wijkteam, crisisdienst):
            await partner.connect()
        try:
            conv = str(uuid.uuid4())
            raw, overdracht = build("veilig-thuis/Overdracht.xml", conversatie_id=conv)
            await vt.send(raw)
            await inbox_until_answered(vt)
            await take(wijkteam, 1)
            store = parts.normen.store
            voorwaarden = {
                (r.sleutel, r.partner_oin, r.uiterlijk)
                for r in await store.open_rows()
                if r.naam == "voorwaarde"
            }
            assert voorwaarden == {
                ("v1", WIJKTEAM, dt.datetime(2027, 2, 24, 23, 59, 59, 999999, tzinfo=CET)),
                ("v2", WIJKTEAM, EINDE_15_JAN),
            }

            # 1 December: the wijkteam's zorgsignaal, v1 niet-nagekomen (final), v2 open
            klok[0] = dt.datetime(2026, 12, 1, 11, 0, tzinfo=CET)
            raw, _ = build("lokaal-team/Terugmelding.xml", conversatie_id=conv)
            await wijkteam.send(raw)
            await inbox_until_answered(wijkteam)
            await take(vt, 1)
            open_keys = {r.sleutel for r in await store.open_rows() if r.naam == "voorwaarde"}
            assert open_keys == {"v2"}

            # Tuesday 15 December 09:00: the crisisdienst reports Sunday night's inzet, late
            klok[0] = dt.datetime(2026, 12, 15, 9, 0, tzinfo=CET)
            raw, inzet = build("crisisdienst/Terugmelding.xml", conversatie_id=conv)
            with capture_logs() as logs:
                await crisisdienst.send(raw)
                await inbox_until_answered(crisisdienst)
            (delivered,) = await take(vt, 1)  # nothing is blocked by a deadline
            assert delivered.body
            events = [e for e in logs if e["event"] == "norm_overschreden"]
            assert events == [
                {
                    "event": "norm_overschreden",
                    "log_level": "warning",
                    "norm": "acute-inzet-teruggemeld",
                    "bericht_id": inzet,
                    "berichttype": "Terugmelding",
                    "afzender": CRISISDIENST,
                    "partner": CRISISDIENST,
                    "uiterlijk": EINDE_MAANDAG_14_DEC.astimezone(dt.UTC).isoformat(),
                    "gesloten": klok[0].astimezone(dt.UTC).isoformat(),
                }
            ]
            assert not any(p in repr(logs) for p in PERSONAL)
            metrics = parts.metrics.expose().decode()
            missed = "ketenpoort_normen_gemist_total"
            assert gauge(metrics, missed, CRISISDIENST, "acute-inzet-teruggemeld") == 1
            # closed on arrival: never open, so never in the open-step gauges
            assert (
                gauge(metrics, "ketenpoort_normen_open", CRISISDIENST, "acute-inzet-teruggemeld")
                is None
            )
            (gemist,) = [
                r for r in await store.recent(WOENSDAG) if r.naam == "acute-inzet-teruggemeld"
            ]
            assert (gemist.bericht_id, gemist.te_laat) == (inzet, True)

            # the end of 15 January passes: v2 is reported once, v1 never
            klok[0] = EINDE_15_JAN + dt.timedelta(seconds=1)
            passed = await parts.normen.check()
            assert {(r.naam, r.sleutel) for r in passed} >= {("voorwaarde", "v2")}
            assert ("voorwaarde", "v1") not in {(r.naam, r.sleutel) for r in passed}
            assert all(r.bericht_id == overdracht for r in passed if r.naam == "voorwaarde")
            assert not [r for r in await parts.normen.check() if r.naam == "voorwaarde"]
            metrics = parts.metrics.expose().decode()
            assert gauge(metrics, missed, WIJKTEAM, "voorwaarde") == 1  # v2 only, once
        finally:
            for partner in (vt, wijkteam):
                await drain(partner)
            for partner in (vt, wijkteam, crisisdienst):
                await partner.close()
    await delete_topology(vhost, parts.topology)
