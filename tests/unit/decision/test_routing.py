"""Routing rules with conditions, required or optional; the Ontvanger selects per rol; no
silent gaps (spec v2 §5, §9). Through the decision path, with the routing memory as facts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.decision.besluit import Aanvaarding, Besluit, Feiten, Weigering, ingress
from gateway.decision.pipeline import Pipeline
from gateway.decision.routing import Gevraagd
from gateway.domain.model import Foutcode, Ontvangstbevestiging, Routeringsregel
from tests.support.broker import OINS
from tests.support.decisions import offline_pipeline, pipeline_with_policy
from tests.support.policies import OPTIONAL_ZSM_VT, OPTIONAL_ZSM_VT_AND_RECLASSERING, policy_with
from tests.support.routing import (
    AO_BESLUIT,
    HG_FALSE,
    MINDERJARIG,
    OM_BESLISSING,
    OM_HG,
    POSTCODE,
    ZSM,
    Edit,
    build,
)

NU = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
NOWHERE: Edit = (POSTCODE, "9999ZZ")  # a postcode in no VT regio
# a ZSM conversation with HG: the politie sent it to the OM, VT Twente and reclassering
ZSM_HG = frozenset(OINS[n] for n in ("politie", "om", "vt-twente", "reclassering"))


def decide(
    rel: str,
    sender: str,
    *edits: Edit,
    named: tuple[str, ...] = (),
    deelnemers: frozenset[str] = frozenset(),
    hg: bool = False,
    pipeline: Pipeline | None = None,
) -> Besluit:
    raw, _ = build(rel, *edits, ontvangers=named)
    return (pipeline or offline_pipeline()).route(
        ingress(raw, OINS[sender]), Feiten(nu=NU, deelnemers=deelnemers, hg=hg)
    )


def recipients(besluit: Besluit) -> set[str]:
    assert isinstance(besluit, Aanvaarding), besluit
    names = {oin: name for name, oin in OINS.items()}
    return {names[lev.ontvanger.partner.oin] for lev in besluit.leveringen}


def refused(besluit: Besluit, code: Foutcode) -> str:
    assert isinstance(besluit, Weigering), besluit
    assert besluit.refused.code is code, besluit.refused
    return besluit.refused.reden


def bevestiging(besluit: Besluit, pipeline: Pipeline | None = None) -> Ontvangstbevestiging:
    assert isinstance(besluit, Aanvaarding), besluit
    inhoud = (pipeline or offline_pipeline()).codec.read(besluit.antwoord).inhoud
    assert isinstance(inhoud, Ontvangstbevestiging)
    return inhoud


def per_regel(inhoud: Ontvangstbevestiging) -> list[tuple[int, str, bool, list[str], bool]]:
    return [
        (r.nummer, r.naar, r.verplicht, sorted(o.oin for o in r.ontvangers), bool(r.ontbreekt))
        for r in inhoud.regels
    ]


# --------------------------------------------------------------------------- Ontvanger per rol


def test_om_naming_only_the_vt_regio_still_reaches_politie_and_reclassering() -> None:
    """The issue's case: v1 narrowed to exactly the named partner."""
    besluit = decide(OM_BESLISSING, "om", named=("vt-twente",), deelnemers=ZSM_HG, hg=True)
    assert recipients(besluit) == {"politie", "reclassering", "vt-twente"}
    assert per_regel(bevestiging(besluit)) == [
        (1, "politie", True, [OINS["politie"]], False),
        (2, "reclassering", True, [OINS["reclassering"]], False),
        (3, "veilig-thuis", True, [OINS["vt-twente"]], False),
    ]


def test_a_named_partner_selects_among_the_partners_of_its_rol() -> None:
    """ZSM naming only the OM: the VT regio and reclassering are routed by the rules."""
    besluit = decide(ZSM, "politie", named=("om",))
    assert recipients(besluit) == {"om", "vt-twente", "reclassering"}


def test_a_named_vt_regio_that_does_not_cover_the_address_is_refused_naming_the_rule() -> None:
    reden = refused(
        decide(ZSM, "politie", named=("vt-rijnmond",)), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert reden == (
        f"{OINS['vt-rijnmond']} (veilig-thuis) may not receive this ZsmAanmelding: rule 2 of "
        f"ZsmAanmelding (required, to veilig-thuis) routes to {OINS['vt-twente']}"
    )


def test_a_named_partner_whose_rule_does_not_apply_is_refused_naming_the_rule() -> None:
    reden = refused(
        decide(ZSM, "politie", MINDERJARIG, named=("reclassering",)),
        Foutcode.ONTVANGER_NIET_TOEGESTAAN,
    )
    assert reden.endswith("rule 3 of ZsmAanmelding (required, to reclassering) does not apply")


def test_a_named_vt_for_an_ombeslissing_without_hg_is_refused() -> None:
    """VT when HG: the condition does not hold, so naming a VT regio is not allowed."""
    reden = refused(
        decide(OM_BESLISSING, "om", named=("vt-twente",)), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert "rule 3 of OmBeslissing (required, to veilig-thuis) does not apply" in reden


def test_a_named_rol_no_rule_routes_to_is_refused() -> None:
    reden = refused(
        decide(OM_BESLISSING, "om", named=("rvdk",)), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert reden.endswith("no rule of OmBeslissing routes to raad-kinderbescherming")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            f'oin="{OINS["om"]}" rol="openbaar-ministerie"',
            f'oin="{OINS["om"]}" rol="reclassering"',
            id="wrong-rol",
        ),
        pytest.param(f'oin="{OINS["om"]}"', 'oin="00000099000000000199"', id="unknown-oin"),
        pytest.param(
            f'oin="{OINS["om"]}" rol="openbaar-ministerie"',
            f'oin="{OINS["politie"]}" rol="politie"',
            id="the-sender",
        ),
    ],
)
def test_a_named_ontvanger_that_is_no_partner_of_its_rol_is_refused(old: str, new: str) -> None:
    raw, _ = build(ZSM, ontvangers=["om"])
    text = raw.decode()
    ontvanger = f"<kp:Ontvanger {old}"
    assert text.count(ontvanger) == 1
    raw = text.replace(ontvanger, f"<kp:Ontvanger {new}").encode()
    besluit = offline_pipeline().route(ingress(raw, OINS["politie"]), Feiten(nu=NU))
    reden = refused(besluit, Foutcode.ONTVANGER_NIET_TOEGESTAAN)
    assert "is no partner this ZsmAanmelding can be routed to" in reden


# --------------------------------------------------------------------------- no silent gaps


def test_ombeslissing_in_a_hg_conversation_without_a_vt_regio_is_geen_ontvanger() -> None:
    deelnemers = frozenset({OINS["politie"], OINS["om"]})
    reden = refused(
        decide(OM_BESLISSING, "om", deelnemers=deelnemers, hg=True), Foutcode.GEEN_ONTVANGER
    )
    assert reden == (
        "rule 3 of OmBeslissing (required, to veilig-thuis) cannot be resolved: no "
        "veilig-thuis took part in the conversation (routing memory)"
    )


def test_ombeslissing_carrying_its_own_hg_label_needs_a_vt_regio() -> None:
    reden = refused(decide(OM_BESLISSING, "om", OM_HG), Foutcode.GEEN_ONTVANGER)
    assert reden.startswith("rule 3 of OmBeslissing (required, to veilig-thuis)")


@pytest.mark.parametrize("edits", [(), (OM_HG,)], ids=["hg-conversation", "own-hg-label"])
def test_a_named_vt_regio_fills_the_unresolved_required_rule(edits: tuple[Edit, ...]) -> None:
    deelnemers = frozenset({OINS["politie"], OINS["om"]})
    besluit = decide(
        OM_BESLISSING, "om", *edits, named=("vt-rijnmond",), deelnemers=deelnemers, hg=True
    )
    assert recipients(besluit) == {"politie", "vt-rijnmond"}
    assert isinstance(besluit, Aanvaarding)
    assert besluit.gerouteerd.routering.hg is bool(edits)


def test_a_rule_whose_condition_does_not_hold_is_no_gap() -> None:
    """OmBeslissing in a conversation without HG: VT does not apply; reclassering did not
    take part: the politie alone, and the Ontvangstbevestiging lists only that rule."""
    besluit = decide(OM_BESLISSING, "om", deelnemers=frozenset({OINS["politie"]}))
    assert recipients(besluit) == {"politie"}
    assert per_regel(bevestiging(besluit)) == [(1, "politie", True, [OINS["politie"]], False)]


def test_zsm_with_an_address_in_no_regio_names_the_rule_and_the_postcode() -> None:
    reden = refused(decide(ZSM, "politie", NOWHERE, named=("om",)), Foutcode.GEEN_ONTVANGER)
    assert reden == (
        "rule 2 of ZsmAanmelding (required, to veilig-thuis) cannot be resolved: postcode 9999 "
        "is in no veilig-thuis regio"
    )
    besluit = decide(ZSM, "politie", NOWHERE)
    assert isinstance(besluit, Weigering)
    assert besluit.refused.element == "Postcode"


def test_zsm_with_an_address_in_no_regio_naming_a_vt_regio_reaches_it() -> None:
    besluit = decide(ZSM, "politie", NOWHERE, named=("vt-rijnmond",))
    assert recipients(besluit) == {"om", "vt-rijnmond", "reclassering"}


def test_zsm_without_hg_needs_no_vt_regio() -> None:
    assert recipients(decide(ZSM, "politie", NOWHERE, HG_FALSE)) == {"om"}


def test_actieoverlegbesluit_goes_to_the_rollen_that_took_part() -> None:
    deelnemers = frozenset({OINS["politie"], OINS["vt-rijnmond"], OINS["om"]})
    besluit = decide(AO_BESLUIT, "om", deelnemers=deelnemers)
    assert recipients(besluit) == {"politie", "vt-rijnmond"}


def test_the_routing_memory_hg_and_bewaartermijn_go_with_the_routing() -> None:
    besluit = decide(ZSM, "politie")
    assert isinstance(besluit, Aanvaarding)
    routering = besluit.gerouteerd.routering
    assert routering.hg is True
    assert routering.bewaartermijn_dagen == offline_pipeline().policy.bewaartermijn_dagen(
        routering.doel
    )
    niet_hg = decide(ZSM, "politie", HG_FALSE)
    assert isinstance(niet_hg, Aanvaarding)
    assert niet_hg.gerouteerd.routering.hg is False


# --------------------------------------------------------------------------- optional rules


@pytest.fixture(scope="module")
def optional_vt(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return pipeline_with_policy(policy_with(tmp_path_factory.mktemp("p"), OPTIONAL_ZSM_VT))


def test_an_optional_rule_that_does_not_resolve_is_reported(optional_vt: Pipeline) -> None:
    besluit = decide(ZSM, "politie", NOWHERE, pipeline=optional_vt)
    assert recipients(besluit) == {"om", "reclassering"}
    inhoud = bevestiging(besluit, optional_vt)
    assert per_regel(inhoud) == [
        (1, "openbaar-ministerie", True, [OINS["om"]], False),
        (2, "veilig-thuis", False, [], True),
        (3, "reclassering", True, [OINS["reclassering"]], False),
    ]
    assert inhoud.regels[1].ontbreekt == "postcode 9999 is in no veilig-thuis regio"


def test_a_named_partner_does_not_fill_an_optional_rule(optional_vt: Pipeline) -> None:
    reden = refused(
        decide(ZSM, "politie", NOWHERE, named=("vt-twente",), pipeline=optional_vt),
        Foutcode.ONTVANGER_NIET_TOEGESTAAN,
    )
    assert reden.endswith(
        "rule 2 of ZsmAanmelding (optional, to veilig-thuis) cannot be resolved: postcode 9999 "
        "is in no veilig-thuis regio"
    )


def test_an_optional_recipient_no_cited_grondslag_covers_is_left_out_and_reported(
    tmp_path: Path,
) -> None:
    """v2 §4: WPG-ART-15 covers the OM only; VT and reclassering are optional here."""
    pipeline = pipeline_with_policy(policy_with(tmp_path, *OPTIONAL_ZSM_VT_AND_RECLASSERING))
    only_om: Edit = ("      <kp:Grondslag>WPG-ART-20</kp:Grondslag>\n", "")
    besluit = decide(ZSM, "politie", only_om, pipeline=pipeline)
    assert recipients(besluit) == {"om"}
    regels = bevestiging(besluit, pipeline).regels
    assert [r.naar for r in regels if r.ontvangers] == ["openbaar-ministerie"]
    for regel in regels[1:]:
        assert regel.ontbreekt is not None
        assert "no cited grondslag covers recipient" in regel.ontbreekt


def test_a_required_recipient_no_cited_grondslag_covers_refuses_the_message() -> None:
    only_om: Edit = ("      <kp:Grondslag>WPG-ART-20</kp:Grondslag>\n", "")
    reden = refused(decide(ZSM, "politie", only_om), Foutcode.GRONDSLAG_ONTBREEKT)
    assert "(veilig-thuis)" in reden


def test_the_ontvangstbevestiging_rules_round_trip_through_the_envelope_xsd() -> None:
    besluit = decide(OM_BESLISSING, "om", named=("vt-twente",), deelnemers=ZSM_HG, hg=True)
    assert isinstance(besluit, Aanvaarding)
    assert b'<kp:Regel nummer="3" naar="veilig-thuis" verplicht="true">' in besluit.antwoord
    regels = bevestiging(besluit).regels
    assert regels[2] == Routeringsregel(
        nummer=3,
        naar="veilig-thuis",
        verplicht=True,
        ontvangers=[o for o in bevestiging(besluit).ontvangers if o.oin == OINS["vt-twente"]],
    )


# --------------------------------------------------------------------------- v2 §6 in the policy

WIJKTEAM_ENSCHEDE, WIJKTEAM_HENGELO = "00000099000000000107", "00000099000000000108"
GI_OVERIJSSEL, CRISISDIENST_TWENTE = "00000099000000000110", "00000099000000000111"
VT_TWENTE = "00000099000000000102"


def _v2_example(rel: str, *edits: tuple[str, str]) -> bytes:
    text = (Path(__file__).resolve().parents[3] / "examples" / rel).read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode()


def _v2_route(raw: bytes, oin: str, **geheugen: Any) -> Besluit:
    return offline_pipeline().route(
        ingress(raw, oin),
        Feiten(nu=dt.datetime.now(dt.UTC), **geheugen),
    )


def _v2_to(besluit: Besluit) -> set[str]:
    assert isinstance(besluit, Aanvaarding), besluit
    return {lev.ontvanger.partner.oin for lev in besluit.leveringen}


def _v2_refused(besluit: Besluit) -> Foutcode:
    assert isinstance(besluit, Weigering), besluit
    return besluit.refused.code


def test_v2_an_overdracht_under_a_maatregel_reaches_the_wijkteam_and_gi_of_the_gemeente() -> None:
    raw = _v2_example(
        "veilig-thuis/Overdracht.xml",
        ("<vt:jeugdbeschermingsmaatregel>false<", "<vt:jeugdbeschermingsmaatregel>true<"),
        ("<vt:postcode>7511AB<", "<vt:postcode>7551AB<"),
    )
    assert _v2_to(_v2_route(raw, VT_TWENTE)) == {WIJKTEAM_HENGELO, GI_OVERIJSSEL}


def test_v2_an_overdracht_to_a_postcode_in_no_gemeente_is_refused_naming_it() -> None:
    raw = _v2_example(
        "veilig-thuis/Overdracht.xml", ("<vt:postcode>7511AB<", "<vt:postcode>7400AB<")
    )
    besluit = _v2_route(raw, VT_TWENTE)
    assert _v2_refused(besluit) is Foutcode.GEEN_ONTVANGER
    assert isinstance(besluit, Weigering)
    assert "7400" in str(besluit.refused)


def test_v2_a_gi_terugmelding_reaches_vt_and_the_accepting_wijkteam() -> None:
    raw = _v2_example("gecertificeerde-instelling/Terugmelding.xml")
    besluit = _v2_route(
        raw,
        GI_OVERIJSSEL,
        deelnemers=frozenset({VT_TWENTE}),
        casusregie=WIJKTEAM_ENSCHEDE,
        overdracht="lopend",
    )
    assert _v2_to(besluit) == {VT_TWENTE, WIJKTEAM_ENSCHEDE}


def test_v2_the_wijkteams_own_voortgang_reaches_vt_while_lopend_never_itself() -> None:
    raw = _v2_example(
        "lokaal-team/Terugmelding.xml",
        ("<wt:soort>zorgsignaal<", "<wt:soort>voortgang<"),
        ("<kp:Doel>VEILIGHEIDSBEOORDELING<", "<kp:Doel>MONITORING_VEILIGHEID<"),
    )
    memory = {"deelnemers": frozenset({VT_TWENTE}), "casusregie": WIJKTEAM_ENSCHEDE}
    besluit = _v2_route(raw, WIJKTEAM_ENSCHEDE, overdracht="lopend", **memory)
    assert _v2_to(besluit) == {VT_TWENTE}
    # afgesloten: VT no longer monitors, and the wijkteam is the holder itself: nobody
    besluit = _v2_route(raw, WIJKTEAM_ENSCHEDE, overdracht="afgesloten", **memory)
    assert _v2_refused(besluit) is Foutcode.GEEN_ONTVANGER


def test_v2_a_soort_under_another_doel_reaches_nobody() -> None:
    raw = _v2_example(
        "lokaal-team/Terugmelding.xml", ("<wt:soort>zorgsignaal<", "<wt:soort>voortgang<")
    )
    besluit = _v2_route(
        raw, WIJKTEAM_ENSCHEDE, deelnemers=frozenset({VT_TWENTE}), overdracht="lopend"
    )
    assert _v2_refused(besluit) is Foutcode.GEEN_ONTVANGER


def test_v2_a_crisisdienst_sends_acuut_ingezet_and_zorgsignaal_only() -> None:
    raw = _v2_example("crisisdienst/Terugmelding.xml")
    memory = {"deelnemers": frozenset({VT_TWENTE}), "overdracht": "lopend"}
    assert _v2_to(_v2_route(raw, CRISISDIENST_TWENTE, **memory)) == {VT_TWENTE}
    voortgang = _v2_example(
        "crisisdienst/Terugmelding.xml",
        ("<cd:Soort>ACUUT_INGEZET<", "<cd:Soort>VOORTGANG<"),
        ("<kp:Doel>ACUTE_VEILIGHEID<", "<kp:Doel>VEILIGHEIDSBEOORDELING<"),
        ("<kp:Grondslag>WMO2015-ART-4.1.1<", "<kp:Grondslag>WMO2015-ART-5.2.6<"),
    )
    besluit = _v2_route(voortgang, CRISISDIENST_TWENTE, **memory)
    assert _v2_refused(besluit) is Foutcode.AFZENDER_NIET_GEAUTORISEERD


def test_v2_a_stray_informatieantwoord_is_refused() -> None:
    raw = _v2_example("politie/Informatieantwoord.xml")
    besluit = _v2_route(raw, OINS["politie"], deelnemers=frozenset({VT_TWENTE}))
    assert _v2_refused(besluit) is Foutcode.ONTVANGER_NIET_TOEGESTAAN


# --------------------------------------------------------------------------- answers (v2 §6)

VRAAG_VT = Gevraagd(VT_TWENTE, "Informatieverzoek", "VEILIGHEIDSBEOORDELING")


def test_v2_an_answer_goes_only_to_the_asker_of_a_question_it_was_sent() -> None:
    raw = _v2_example("politie/Informatieantwoord.xml")
    besluit = _v2_route(raw, OINS["politie"], gevraagd=(VRAAG_VT,))
    assert _v2_to(besluit) == {VT_TWENTE}
    assert isinstance(besluit, Aanvaarding)
    assert not besluit.gerouteerd.routering.vraag  # an answer is no question itself


def test_v2_an_answer_under_another_doel_than_its_question_is_refused() -> None:
    raw = _v2_example("politie/Informatieantwoord.xml")
    vraag = Gevraagd(VT_TWENTE, "Informatieverzoek", "ONDERZOEK_KINDERBESCHERMING")
    besluit = _v2_route(raw, OINS["politie"], gevraagd=(vraag,))
    assert _v2_refused(besluit) is Foutcode.DOEL_NIET_TOEGESTAAN
    assert isinstance(besluit, Weigering)
    assert "ONDERZOEK_KINDERBESCHERMING, not VEILIGHEIDSBEOORDELING" in besluit.refused.reden


def test_v2_an_answer_naming_a_message_of_another_type_is_refused() -> None:
    raw = _v2_example("politie/Informatieantwoord.xml")
    vraag = Gevraagd(VT_TWENTE, "VtMelding", "VEILIGHEIDSBEOORDELING")
    besluit = _v2_route(raw, OINS["politie"], gevraagd=(vraag,))
    assert _v2_refused(besluit) is Foutcode.ONTVANGER_NIET_TOEGESTAAN
    assert isinstance(besluit, Weigering)
    assert besluit.refused.element == "kp:InAntwoordOp"


def test_v2_an_answer_to_several_askers_names_its_asker() -> None:
    """Two askers used the same BerichtId (unique per sender only): the answer must name the
    asker as Ontvanger, and then goes to that one alone."""
    vt_rijnmond = OINS["vt-rijnmond"]
    beide = (VRAAG_VT, Gevraagd(vt_rijnmond, "Informatieverzoek", "VEILIGHEIDSBEOORDELING"))
    raw = _v2_example("politie/Informatieantwoord.xml")
    besluit = _v2_route(raw, OINS["politie"], gevraagd=beide)
    assert _v2_refused(besluit) is Foutcode.ONTVANGER_NIET_TOEGESTAAN
    assert isinstance(besluit, Weigering)
    assert "name the asker as Ontvanger" in besluit.refused.reden
    named = _v2_example(
        "politie/Informatieantwoord.xml",
        (
            '<kp:Afzender oin="00000099000000000101" rol="politie"/>',
            '<kp:Afzender oin="00000099000000000101" rol="politie"/>'
            f'<kp:Ontvanger oin="{vt_rijnmond}" rol="veilig-thuis"/>',
        ),
    )
    assert _v2_to(_v2_route(named, OINS["politie"], gevraagd=beide)) == {vt_rijnmond}


def test_v2_an_answer_without_in_antwoord_op_is_refused_naming_it() -> None:
    text = _v2_example("politie/Informatieantwoord.xml").decode()
    raw = re.sub(r"\s*<kp:InAntwoordOp>[^<]+</kp:InAntwoordOp>", "", text).encode()
    besluit = _v2_route(raw, OINS["politie"], gevraagd=(VRAAG_VT,))
    assert _v2_refused(besluit) is Foutcode.SCHEMA_ONGELDIG
    assert isinstance(besluit, Weigering)
    assert besluit.refused.element == "kp:InAntwoordOp"


def test_v2_the_onderzoeksuitkomst_goes_to_the_wijkteam_that_asked() -> None:
    raw = _v2_example("raad-kinderbescherming/Onderzoeksuitkomst.xml")
    vraag = Gevraagd(WIJKTEAM_ENSCHEDE, "VerzoekTotOnderzoek", "ONDERZOEK_KINDERBESCHERMING")
    assert _v2_to(_v2_route(raw, OINS["rvdk"], gevraagd=(vraag,))) == {WIJKTEAM_ENSCHEDE}


# --------------------------------------------------------------------------- content rules


def test_v2_an_overdracht_afgesloten_needs_its_reden() -> None:
    raw = _v2_example(
        "veilig-thuis/Overdracht.xml", ("<vt:status>lopend<", "<vt:status>afgesloten<")
    )
    besluit = _v2_route(raw, VT_TWENTE)
    assert _v2_refused(besluit) is Foutcode.SCHEMA_ONGELDIG
    assert isinstance(besluit, Weigering)
    assert besluit.refused.element == "reden_afsluiting"
    assert "needs reden_afsluiting when status is afgesloten" in besluit.refused.reden


def test_v2_a_voorwaarde_termijn_more_than_three_months_ahead_is_refused() -> None:
    # the example's Tijdstip is 2026-11-25: 2027-02-25 is the last day allowed
    assert isinstance(
        _v2_route(
            _v2_example(
                "veilig-thuis/Overdracht.xml",
                ("<vt:termijn>2027-02-24<", "<vt:termijn>2027-02-25<"),
            ),
            VT_TWENTE,
        ),
        Aanvaarding,
    )
    raw = _v2_example(
        "veilig-thuis/Overdracht.xml", ("<vt:termijn>2027-02-24<", "<vt:termijn>2027-02-26<")
    )
    besluit = _v2_route(raw, VT_TWENTE)
    assert _v2_refused(besluit) is Foutcode.SCHEMA_ONGELDIG
    assert isinstance(besluit, Weigering)
    assert besluit.refused.element == "termijn"
    assert "2027-02-26" in besluit.refused.reden
    assert "at most 2027-02-25" in besluit.refused.reden


def test_v2_an_acute_inzet_states_when_it_was() -> None:
    text = _v2_example("crisisdienst/Terugmelding.xml").decode()
    raw = re.sub(r"\s*<cd:Inzet>[^<]+</cd:Inzet>", "", text).encode()
    memory = {"deelnemers": frozenset({VT_TWENTE}), "overdracht": "lopend"}
    besluit = _v2_route(raw, CRISISDIENST_TWENTE, **memory)
    assert _v2_refused(besluit) is Foutcode.SCHEMA_ONGELDIG
    assert isinstance(besluit, Weigering)
    assert besluit.refused.element == "interventie"
