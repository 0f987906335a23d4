"""The norms an accepted message opens (spec v2 §10), their deadlines from the default policy,
what closes them and where each stands at a controllable moment: met and missed, across a
weekend, a holiday, 5 May and a Koningsdag on a Sunday."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.decision.normen import (
    Normstand,
    Normtermijn,
    gesloten_door,
    stand,
    termijn_vanaf,
)
from gateway.decision.termijnen import TIJDZONE
from gateway.domain.errors import Refused
from gateway.policy.files import Termijn
from tests.support.catalogue import POLICY
from tests.support.decisions import decide, offline_pipeline
from tests.support.messages import replace_once
from tests.support.paths import EXAMPLES_DIR

POLITIE = "00000099000000000101"
VT_TWENTE = "00000099000000000102"
OM = "00000099000000000103"
RECLASSERING = "00000099000000000105"
SECONDE = dt.timedelta(seconds=1)


def lokaal(jaar: int, maand: int, dag: int, uur: int = 0, minuut: int = 0) -> dt.datetime:
    return dt.datetime(jaar, maand, dag, uur, minuut, tzinfo=TIJDZONE)


def einde(jaar: int, maand: int, dag: int) -> dt.datetime:
    return dt.datetime.combine(dt.date(jaar, maand, dag), dt.time.max, tzinfo=TIJDZONE)


def example(rel: str) -> bytes:
    return (EXAMPLES_DIR / rel).read_bytes()


def zsm_aangehouden(op: str) -> bytes:
    """The ZsmAanmelding example with its Aanhouding at ``op``."""
    return replace_once(
        example("politie/ZsmAanmelding.xml").decode(),
        "<pol:Aanhouding>2026-11-20T23:05:00+01:00</pol:Aanhouding>",
        f"<pol:Aanhouding>{op}</pol:Aanhouding>",
    ).encode()


def normen(rel: str, afzender: str, nu: dt.datetime, raw: bytes | None = None) -> list[Normtermijn]:
    return list(decide(raw or example(rel), afzender, nu=nu).normen)


def one(found: list[Normtermijn], naam: str, ontvanger: str | None = None) -> dt.datetime:
    (norm,) = [n for n in found if n.naam == naam and n.ontvanger == ontvanger]
    return norm.uiterlijk


def assert_met_and_missed(uiterlijk: dt.datetime) -> None:
    """Closed at the deadline: met; a second later: missed; open: open until it passes."""
    assert stand(uiterlijk, uiterlijk, uiterlijk + SECONDE) is Normstand.GEHAALD
    assert stand(uiterlijk, uiterlijk + SECONDE, uiterlijk + SECONDE) is Normstand.OVERSCHREDEN
    assert stand(uiterlijk, None, uiterlijk) is Normstand.OPEN
    assert stand(uiterlijk, None, uiterlijk + SECONDE) is Normstand.OVERSCHREDEN


# --------------------------------------------------------------------------- ZSM beslissing


def test_a_zsmaanmelding_opens_the_zsm_norm_on_the_sv_clock_and_reports_it() -> None:
    # the example's Aanhouding: Friday 20 November 2026, 23:05
    besluit = decide(example("politie/ZsmAanmelding.xml"), POLITIE, nu=lokaal(2026, 11, 20, 23, 50))
    (zsm,) = [n for n in besluit.normen if n.naam == "zsm-beslissing"]
    assert zsm == Normtermijn(
        naam="zsm-beslissing",
        uiterlijk=lokaal(2026, 11, 21, 17, 5),
        ontvanger=OM,  # its step: VT and reclassering cannot send an OmBeslissing
        ontvangstbevestiging=True,
    )
    assert b"<kp:UitersteBeslismoment>2026-11-21T17:05:00+01:00<" in besluit.antwoord
    assert_met_and_missed(zsm.uiterlijk)


def test_the_zsm_norm_counts_from_the_aanhouding_not_the_arrival() -> None:
    found = normen(
        "", POLITIE, lokaal(2026, 11, 21, 8), zsm_aangehouden("2026-11-21T01:40:00+01:00")
    )
    assert one(found, "zsm-beslissing", OM) == lokaal(2026, 11, 21, 18)


def zsm_met(voorgeleiding: str | None, ophoudtermijn: str | None) -> bytes:
    """The ZsmAanmelding example with pol:Voorgeleiding and/or pol:Ophoudtermijn (v2 §10,
    optional after pol:HgLabel)."""
    extra = ""
    if voorgeleiding is not None:
        extra += f"\n        <pol:Voorgeleiding>{voorgeleiding}</pol:Voorgeleiding>"
    if ophoudtermijn is not None:
        extra += f"\n        <pol:Ophoudtermijn>{ophoudtermijn}</pol:Ophoudtermijn>"
    return replace_once(
        example("politie/ZsmAanmelding.xml").decode(),
        "<pol:HgLabel>true</pol:HgLabel>",
        "<pol:HgLabel>true</pol:HgLabel>" + extra,
    ).encode()


@pytest.mark.parametrize(
    ("voorgeleiding", "ophoudtermijn", "deadline"),
    [
        # v2 §10's examples, from the Voorgeleiding instead of the Aanhouding (23:05)
        ("2026-11-21T01:40:00+01:00", None, lokaal(2026, 11, 21, 18)),
        ("2026-11-21T01:40:00+01:00", "6", lokaal(2026, 11, 21, 15)),
        ("2026-11-21T14:00:00+01:00", "9", lokaal(2026, 11, 21, 23)),
        ("2026-11-21T14:00:00+01:00", "6", lokaal(2026, 11, 21, 20)),
        # no Voorgeleiding: the Aanhouding, 23:05, with 6 hours: 14:05 the next day
        (None, "6", lokaal(2026, 11, 21, 14, 5)),
    ],
)
def test_the_zsm_norm_starts_at_the_voorgeleiding_and_takes_the_ophoudtermijn(
    voorgeleiding: str | None, ophoudtermijn: str | None, deadline: dt.datetime
) -> None:
    besluit = decide(zsm_met(voorgeleiding, ophoudtermijn), POLITIE, nu=lokaal(2026, 11, 21, 8))
    (zsm,) = [n for n in besluit.normen if n.naam == "zsm-beslissing"]
    assert zsm.uiterlijk == deadline
    assert f"<kp:UitersteBeslismoment>{deadline.isoformat()}<".encode() in besluit.antwoord


def test_an_ophoudtermijn_other_than_6_or_9_is_refused() -> None:

    with pytest.raises(Refused) as caught:
        decide(zsm_met(None, "12"), POLITIE, nu=lokaal(2026, 11, 21, 8))
    assert caught.value.code.value == "SCHEMA_ONGELDIG"
    assert caught.value.element == "pol:Ophoudtermijn"


def test_an_aanhouding_at_the_end_of_the_calendar_gives_no_deadline() -> None:
    besluit = decide(
        zsm_aangehouden("9999-12-31T23:05:00+00:00"), POLITIE, nu=lokaal(2026, 11, 21, 8)
    )
    assert "zsm-beslissing" not in {n.naam for n in besluit.normen}
    assert b"UitersteBeslismoment" not in besluit.antwoord


# --------------------------------------------------------------------------- veiligheidsbeoordeling


@pytest.mark.parametrize(
    ("nu", "uiterlijk"),
    [
        pytest.param(lokaal(2026, 11, 27, 15), einde(2026, 12, 4), id="over-a-weekend"),
        pytest.param(lokaal(2026, 12, 24, 15), einde(2027, 1, 4), id="over-christmas-new-year"),
        pytest.param(lokaal(2026, 4, 30, 15), einde(2026, 5, 8), id="over-5-mei-2026"),
        pytest.param(lokaal(2031, 4, 24, 15), einde(2031, 5, 1), id="koningsdag-on-sunday"),
    ],
)
def test_a_vtmelding_gives_vt_5_werkdagen(nu: dt.datetime, uiterlijk: dt.datetime) -> None:
    found = normen("politie/VtMelding.xml", POLITIE, nu)
    assert one(found, "veiligheidsbeoordeling", VT_TWENTE) == uiterlijk
    assert_met_and_missed(uiterlijk)


def test_naming_only_the_vt_regio_keeps_the_oms_norm() -> None:
    """v2 §5: an Ontvanger selects within its own rol; naming the VT regio does not drop the
    OM, so the ZSM norm is the OM's and the sender learns its deadline."""
    raw = replace_once(
        example("politie/ZsmAanmelding.xml").decode(),
        '<kp:Afzender oin="00000099000000000101" rol="politie"/>',
        '<kp:Afzender oin="00000099000000000101" rol="politie"/>\n'
        '    <kp:Ontvanger oin="00000099000000000102" rol="veilig-thuis"/>',
    ).encode()
    besluit = decide(raw, POLITIE, nu=lokaal(2026, 11, 21, 8))
    (zsm,) = [n for n in besluit.normen if n.naam == "zsm-beslissing"]
    assert zsm.ontvanger == "00000099000000000103"
    assert b"<kp:UitersteBeslismoment>2026-11-21T17:05:00+01:00<" in besluit.antwoord


def test_what_vt_sends_back_closes_the_veiligheidsbeoordeling() -> None:
    policy = offline_pipeline().policy
    for berichttype in ("Veiligheidsbeoordeling", "Terugkoppeling", "VerzoekTotOnderzoek"):
        assert "veiligheidsbeoordeling" in gesloten_door(policy, berichttype, "veilig-thuis")
    assert "veiligheidsbeoordeling" not in gesloten_door(policy, "Terugkoppeling", "politie")
    assert "veiligheidsbeoordeling" not in gesloten_door(
        policy, "Veiligheidsafspraken", "veilig-thuis"
    )
    assert gesloten_door(policy, "OmBeslissing", "openbaar-ministerie") == {"zsm-beslissing"}
    assert gesloten_door(policy, "Afleverbevestiging", "politie") == {"afleverbevestiging"}


# --------------------------------------------------------------------------- afleverbevestiging


def test_a_normal_delivery_is_confirmed_by_the_end_of_the_next_werkdag() -> None:
    # Friday afternoon before a weekend; Thursday before Koningsdag 2026 (Monday 27 April)
    found = normen("politie/VtMelding.xml", POLITIE, lokaal(2026, 11, 27, 15))
    assert one(found, "afleverbevestiging", VT_TWENTE) == einde(2026, 11, 30)
    found = normen("politie/VtMelding.xml", POLITIE, lokaal(2026, 4, 24, 15))
    assert one(found, "afleverbevestiging", VT_TWENTE) == einde(2026, 4, 28)
    assert_met_and_missed(einde(2026, 4, 28))


def test_a_spoed_delivery_is_confirmed_within_an_hour_of_the_recipients_service_hours() -> None:
    # the ZsmAanmelding is spoed; Friday 16:30, and Tuesday 5 May 2026 16:30
    found = normen("politie/ZsmAanmelding.xml", POLITIE, lokaal(2026, 11, 27, 16, 30))
    assert one(found, "afleverbevestiging", OM) == lokaal(2026, 11, 27, 17, 30)  # every day 7-24
    assert one(found, "afleverbevestiging", VT_TWENTE) == lokaal(2026, 11, 30, 9)  # werkdagen
    assert one(found, "afleverbevestiging", RECLASSERING) == lokaal(2026, 11, 30, 9)
    found = normen("politie/ZsmAanmelding.xml", POLITIE, lokaal(2026, 5, 4, 16, 30))
    assert one(found, "afleverbevestiging", VT_TWENTE) == lokaal(2026, 5, 6, 9)
    found = normen("politie/ZsmAanmelding.xml", POLITIE, lokaal(2026, 5, 5, 23, 30))
    assert one(found, "afleverbevestiging", OM) == lokaal(2026, 5, 6, 7, 30)
    assert_met_and_missed(lokaal(2026, 5, 6, 9))


def test_the_politie_confirms_spoed_around_the_clock() -> None:
    raw = replace_once(
        example("veilig-thuis/Veiligheidsafspraken.xml").decode(),
        "</kp:Tijdstip>",
        "</kp:Tijdstip>\n    <kp:Prioriteit>spoed</kp:Prioriteit>",
    ).encode()
    found = normen("", VT_TWENTE, lokaal(2026, 12, 26, 3, 15), raw)  # Tweede Kerstdag, night
    assert one(found, "afleverbevestiging", POLITIE) == lokaal(2026, 12, 26, 4, 15)


# --------------------------------------------------------------------------- the pieces


def test_stand_of_a_norm_closed_later_than_now_is_judged_at_now() -> None:
    uiterlijk = lokaal(2026, 11, 30, 12)
    assert stand(uiterlijk, uiterlijk + SECONDE, uiterlijk) is Normstand.OPEN


def test_a_termijn_in_service_hours_needs_them() -> None:
    with pytest.raises(ValueError, match="service hours"):
        termijn_vanaf(Termijn(diensturen=1), lokaal(2026, 11, 30))


# ------------------------------------------------------------------- acute inzet teruggemeld

CRISISDIENST = "00000099000000000111"
WIJKTEAM = "00000099000000000107"


def inzet(op: str, soort: str = "ACUUT_INGEZET") -> bytes:
    """The crisisdienst's Terugmelding with its intervention at ``op``."""
    raw = example("crisisdienst/Terugmelding.xml").decode()
    raw = replace_once(
        raw, "<cd:Inzet>2026-12-13T02:40:00+01:00</cd:Inzet>", f"<cd:Inzet>{op}</cd:Inzet>"
    )
    return replace_once(
        raw, "<cd:Soort>ACUUT_INGEZET</cd:Soort>", f"<cd:Soort>{soort}</cd:Soort>"
    ).encode()


def teruggemeld(raw: bytes, nu: dt.datetime) -> Normtermijn:
    """The acute-inzet step of the crisisdienst's Terugmelding arriving at ``nu`` (the
    conversation's Overdracht lopend, VT took part)."""
    besluit = decide(
        raw, CRISISDIENST, nu=nu, deelnemers=frozenset({VT_TWENTE}), overdracht="lopend"
    )
    (step,) = [n for n in besluit.normen if n.naam == "acute-inzet-teruggemeld"]
    return step


@pytest.mark.parametrize(
    ("interventie", "uiterlijk"),
    [
        # Sunday 13 December 2026, 02:40: the next werkdag is Monday
        ("2026-12-13T02:40:00+01:00", einde(2026, 12, 14)),
        # Friday night: over the weekend to Monday
        ("2026-12-11T23:30:00+01:00", einde(2026, 12, 14)),
        # Thursday 24 December: Kerst and the weekend, to Monday 28 December
        ("2026-12-24T22:00:00+01:00", einde(2026, 12, 28)),
        # Monday 4 May 2026: 5 mei is no werkdag (every year), to Wednesday 6 May
        ("2026-05-04T21:00:00+02:00", einde(2026, 5, 6)),
        # Tuesday 4 May 2027: 5 mei, then Hemelvaartsdag on 6 May, to Friday 7 May
        ("2027-05-04T21:00:00+02:00", einde(2027, 5, 7)),
        # an intervention in UTC just after local midnight counts from the local day
        ("2026-12-14T23:30:00Z", einde(2026, 12, 16)),
    ],
)
def test_an_acute_inzet_is_due_by_the_end_of_the_next_werkdag(
    interventie: str, uiterlijk: dt.datetime
) -> None:
    step = teruggemeld(inzet(interventie), nu=uiterlijk)
    assert step == Normtermijn(
        naam="acute-inzet-teruggemeld",
        uiterlijk=uiterlijk,
        ontvanger=CRISISDIENST,  # the step is the sender's own report
        gesloten=uiterlijk,  # checked on arrival: the message itself closes it
    )
    assert stand(step.uiterlijk, step.gesloten, step.uiterlijk) is Normstand.GEHAALD
    late = teruggemeld(inzet(interventie), nu=uiterlijk + SECONDE)
    assert late.gesloten == uiterlijk + SECONDE
    assert stand(late.uiterlijk, late.gesloten, late.uiterlijk + SECONDE) is Normstand.OVERSCHREDEN


def test_only_an_acute_inzet_opens_the_norm() -> None:
    zorgsignaal = replace_once(
        replace_once(
            inzet("2026-12-13T02:40:00+01:00", soort="ZORGSIGNAAL").decode(),
            "<kp:Doel>ACUTE_VEILIGHEID</kp:Doel>",
            "<kp:Doel>VEILIGHEIDSBEOORDELING</kp:Doel>",
        ),
        "<kp:Grondslag>WMO2015-ART-4.1.1</kp:Grondslag>",
        "<kp:Grondslag>WMO2015-ART-5.2.6</kp:Grondslag>",
    ).encode()
    besluit = decide(
        zorgsignaal,
        CRISISDIENST,
        nu=lokaal(2026, 12, 13, 8, 15),
        deelnemers=frozenset({VT_TWENTE}),
    )
    assert [n.naam for n in besluit.normen if n.naam == "acute-inzet-teruggemeld"] == []
    assert "acute-inzet-teruggemeld" not in gesloten_door(POLICY, "Terugmelding", "crisisdienst")


# --------------------------------------------------------------------------- voorwaarde

OVERDRACHT = "veilig-thuis/Overdracht.xml"


def test_each_voorwaarde_of_an_overdracht_is_a_step_of_the_wijkteam_due_at_its_termijn() -> None:
    besluit = decide(example(OVERDRACHT), VT_TWENTE, nu=lokaal(2026, 11, 25, 10))
    steps = {
        (n.sleutel, n.ontvanger, n.uiterlijk) for n in besluit.normen if n.naam == "voorwaarde"
    }
    # the agreed date's own end, not moved by the Atw (24 February 2027 is a Wednesday,
    # 15 January a Friday)
    assert steps == {("v1", WIJKTEAM, einde(2027, 2, 24)), ("v2", WIJKTEAM, einde(2027, 1, 15))}
    assert all(n.gesloten is None for n in besluit.normen)


def test_an_overdracht_afgesloten_opens_no_voorwaarde() -> None:
    raw = replace_once(
        example(OVERDRACHT).decode(),
        "<vt:status>lopend</vt:status>",
        "<vt:status>afgesloten</vt:status><vt:reden-afsluiting>stabiele-veiligheid</vt:reden-afsluiting>",
    ).encode()
    besluit = decide(raw, VT_TWENTE, nu=lokaal(2026, 11, 25, 10), casusregie=WIJKTEAM)
    assert [n for n in besluit.normen if n.naam == "voorwaarde"] == []


def test_a_terugmelding_closes_the_voorwaarden_it_gives_a_final_status() -> None:
    # the wijkteam's zorgsignaal: v1 niet-nagekomen (final), v2 still open
    besluit = decide(
        example("lokaal-team/Terugmelding.xml"),
        WIJKTEAM,
        nu=lokaal(2026, 12, 1, 10),
        deelnemers=frozenset({VT_TWENTE}),
        overdracht="lopend",
    )
    assert besluit.sluit_per_item == frozenset({("voorwaarde", "v1")})
    assert "voorwaarde" not in besluit.sluit  # never the whole norm at once
    nagekomen = replace_once(
        example("lokaal-team/Terugmelding.xml").decode(),
        '<wt:voorwaarde voorwaarde-id="v2"><wt:status>open</wt:status>',
        '<wt:voorwaarde voorwaarde-id="v2"><wt:status>nagekomen</wt:status>',
    ).encode()
    besluit = decide(
        nagekomen,
        WIJKTEAM,
        nu=lokaal(2026, 12, 1, 10),
        deelnemers=frozenset({VT_TWENTE}),
        overdracht="lopend",
    )
    assert besluit.sluit_per_item == frozenset({("voorwaarde", "v1"), ("voorwaarde", "v2")})


def test_what_a_message_closes_is_the_plain_reading_of_normen_yaml() -> None:
    """For every type and sending rol: the norms that a walk over every norm and closer of
    normen.yaml finds (what ``gesloten_door`` read before the per-type table)."""
    rollen = {str(p.rol) for p in POLICY.partners.values()}
    typen = {str(t) for t in POLICY.berichten} | {"Afleverbevestiging"}
    found_any = False
    for berichttype in sorted(typen):
        for rol in sorted(rollen):
            plain = frozenset(
                norm.naam
                for norm in POLICY.normen
                if norm.per is None
                and any(s.type == berichttype and s.van in (None, rol) for s in norm.gesloten_door)
            )
            assert gesloten_door(POLICY, berichttype, rol) == plain, (berichttype, rol)
            found_any = found_any or bool(plain)
    assert found_any  # not vacuous
