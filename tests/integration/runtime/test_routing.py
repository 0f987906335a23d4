"""Who receives what: routing of every message type through a running gateway (spec §4, §5).

Runs on both transports (RabbitMQ, the proof, and the in-memory double). Each test sends as a
partner (its own user on the ingress) and reads every partner's own inbox; assertions cover all
six partners: the expected recipients got exactly one delivery each, addressed to them, and
every other partner (the sender included) got nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Foutcode
from gateway.policy.catalogue import load_policy
from gateway.runtime.settings import Settings
from gateway.store.state import Conversatie
from tests.support.broker import OINS
from tests.support.gateways import ON_BOTH_TRANSPORTS, Running, run_gateway
from tests.support.messages import replace_once
from tests.support.policies import OPTIONAL_ZSM_VT, policy_with
from tests.support.routing import (
    ADVIESAANVRAAG,
    AO_BESLUIT,
    AO_POLITIE,
    AO_VT,
    HG_FALSE,
    MINDERJARIG,
    OM_BESLISSING,
    OM_HG,
    POSTCODE,
    RC_ADVIES,
    RVDK_ADVIES,
    TERUGKOPPELING,
    VEILIGHEIDSBEOORDELING,
    VERDACHTE_GEBOREN,
    VT_MELDING,
    VT_RIJNMOND_AFZENDER,
    ZSM,
    ZSM_DEADLINE,
    Edit,
    assert_refused,
    assert_routed,
    build,
    kop_of,
    send,
    took_part,
    zsm_casus,
)

pytestmark = ON_BOTH_TRANSPORTS


# --------------------------------------------------------------------------- §4 VtMelding


@pytest.mark.parametrize(
    ("postcode", "vt"),
    [
        ("7511AB", "vt-twente"),
        ("7400AA", "vt-twente"),  # lower bound of 7400-7699
        ("7699ZZ", "vt-twente"),  # upper bound
        ("3011AA", "vt-rijnmond"),
        ("3299ZZ", "vt-rijnmond"),
    ],
)
async def test_vtmelding_goes_to_the_vt_regio_of_the_incident_postcode(
    gateway: Running, codec: MessageCodec, postcode: str, vt: str
) -> None:
    raw, bid = build(VT_MELDING, (POSTCODE, postcode))
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", [vt])
    assert b"<vt:melding" in outcome.deliveries[vt][0].body


@pytest.mark.parametrize("postcode", ["9999ZZ", "7700AA", "2999ZZ"])
async def test_vtmelding_outside_every_regio_is_refused_geen_ontvanger(
    gateway: Running, codec: MessageCodec, postcode: str
) -> None:
    raw, bid = build(VT_MELDING, (POSTCODE, postcode))
    fout = assert_refused(await send(gateway, codec, "politie", raw, bid), Foutcode.GEEN_ONTVANGER)
    assert fout.element == "Postcode"
    assert postcode not in fout.reden  # the first four digits only, not the address


# --------------------------------------------------------------------------- §4 VT's messages


@pytest.mark.parametrize(
    ("doel", "grondslag", "recipient", "recipient_grondslag"),
    [
        ("STRAFRECHTELIJKE_BESLISSING", "WMO2015-ART-4.1.1", "om", "WMO2015-ART-4.1.1"),
        ("ONDERZOEK_KINDERBESCHERMING", "JW-ART-7.3.11", "rvdk", "JW-ART-7.3.11"),
        ("RECLASSERINGSADVIES", "WMO2015-ART-4.1.1", "reclassering", "WMO2015-ART-4.1.1"),
    ],
)
async def test_veiligheidsbeoordeling_is_routed_by_its_doel(
    gateway: Running,
    codec: MessageCodec,
    doel: str,
    grondslag: str,
    recipient: str,
    recipient_grondslag: str,
) -> None:
    raw, bid = build(
        VEILIGHEIDSBEOORDELING,
        ("<kp:Doel>STRAFRECHTELIJKE_BESLISSING</kp:Doel>", f"<kp:Doel>{doel}</kp:Doel>"),
        (
            "<kp:Grondslag>WMO2015-ART-4.1.1</kp:Grondslag>",
            f"<kp:Grondslag>{grondslag}</kp:Grondslag>",
        ),
    )
    outcome = await send(gateway, codec, "vt-twente", raw, bid)
    assert_routed(outcome, "vt-twente", [recipient])
    kop = kop_of(outcome.deliveries[recipient][0])
    assert kop["doel"] == doel
    assert kop["grondslagen"] == [recipient_grondslag]  # the grondslag it was delivered under


@pytest.mark.parametrize(
    ("rel", "sender", "recipient", "edits"),
    [
        pytest.param(TERUGKOPPELING, "vt-twente", "politie", (), id="terugkoppeling"),
        pytest.param(
            TERUGKOPPELING,
            "vt-rijnmond",
            "politie",
            (VT_RIJNMOND_AFZENDER,),
            id="terugkoppeling-from-rijnmond",
        ),
        # Veiligheidsafspraken are no single-recipient type since v2 §6 (the politie and the
        # crisisdienst of the gemeente): tests/system/test_afspraken.py, test_reeks.py
        pytest.param(
            "veilig-thuis/VerzoekTotOnderzoek.xml",
            "vt-twente",
            "rvdk",
            (),
            id="verzoek-tot-onderzoek",
        ),
        pytest.param(RC_ADVIES, "reclassering", "om", (), id="reclasseringsadvies"),
        pytest.param(RVDK_ADVIES, "rvdk", "om", (), id="reclasseringsadvies-from-rvdk"),
    ],
)
async def test_single_recipient_types(
    gateway: Running,
    codec: MessageCodec,
    rel: str,
    sender: str,
    recipient: str,
    edits: tuple[Edit, ...],
) -> None:
    raw, bid = build(rel, *edits)
    assert_routed(await send(gateway, codec, sender, raw, bid), sender, [recipient])


# --------------------------------------------------------------------------- §4 ZsmAanmelding


@pytest.mark.parametrize(
    ("edits", "recipients"),
    [
        pytest.param((), {"om", "vt-twente", "reclassering"}, id="hg-adult"),
        pytest.param(
            ((POSTCODE, "3011AA"),), {"om", "vt-rijnmond", "reclassering"}, id="hg-adult-rijnmond"
        ),
        pytest.param((HG_FALSE,), {"om"}, id="no-hg-adult"),
        pytest.param(
            (HG_FALSE, (POSTCODE, "9999ZZ")), {"om"}, id="no-hg-address-outside-every-regio"
        ),
        pytest.param((MINDERJARIG,), {"om", "vt-twente", "rvdk"}, id="hg-minor"),
        pytest.param((MINDERJARIG, HG_FALSE), {"om", "rvdk"}, id="no-hg-minor"),
        pytest.param(
            ((VERDACHTE_GEBOREN, "2008-11-20"),),
            {"om", "vt-twente", "reclassering"},
            id="hg-18-on-the-day-of-the-aanhouding",
        ),
        pytest.param(
            ((VERDACHTE_GEBOREN, "2008-11-21"),),
            {"om", "vt-twente", "rvdk"},
            id="hg-18-the-day-after-the-aanhouding",
        ),
        pytest.param(
            (("<kp:Prioriteit>spoed</kp:Prioriteit>", "<kp:Prioriteit>normaal</kp:Prioriteit>"),),
            {"om", "vt-twente", "reclassering"},
            id="sender-says-normaal",
        ),
    ],
)
async def test_zsmaanmelding_routing_priority_and_deadline(
    gateway: Running, codec: MessageCodec, edits: tuple[Edit, ...], recipients: set[str]
) -> None:
    raw, bid = build(ZSM, *edits)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", recipients)
    assert outcome.ontvangstbevestiging().uiterste_beslismoment == ZSM_DEADLINE
    for name in recipients:
        assert kop_of(outcome.deliveries[name][0])["prioriteit"] == "spoed", name


@pytest.mark.parametrize(
    ("aanhouding", "uiterlijk"),
    [
        # v2 §10's examples (9 hours; 00:00-09:00 does not count), in local time
        pytest.param("2026-11-20T01:40:00+01:00", "2026-11-20T18:00:00+01:00", id="from-01.40"),
        pytest.param("2026-11-20T14:00:00+01:00", "2026-11-20T23:00:00+01:00", id="from-14.00"),
        # 18:30 local, given in UTC: 5h30 to midnight, 3h30 from 09:00
        pytest.param("2026-11-20T17:30:00Z", "2026-11-21T12:30:00+01:00", id="utc-evening"),
        # a summer night (CEST): 23:05 runs to 17:05 the next day all the same
        pytest.param("2026-06-12T23:05:00+02:00", "2026-06-13T17:05:00+02:00", id="summer"),
    ],
)
async def test_zsmaanmelding_deadline_follows_the_aanhouding_on_the_sv_clock(
    gateway: Running, codec: MessageCodec, aanhouding: str, uiterlijk: str
) -> None:
    raw, bid = build(
        ZSM,
        (
            "<pol:Aanhouding>2026-11-20T23:05:00+01:00</pol:Aanhouding>",
            f"<pol:Aanhouding>{aanhouding}</pol:Aanhouding>",
        ),
    )
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["om", "vt-twente", "reclassering"])
    assert outcome.ontvangstbevestiging().uiterste_beslismoment == dt.datetime.fromisoformat(
        uiterlijk
    )


async def test_zsmaanmelding_hg_address_outside_every_regio_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    """Spec §5: no VT regio for the postcode → GEEN_ONTVANGER (the OM gets nothing either)."""
    raw, bid = build(ZSM, (POSTCODE, "9999ZZ"))
    assert_refused(await send(gateway, codec, "politie", raw, bid), Foutcode.GEEN_ONTVANGER)


# --------------------------------------------------------------------------- §4 OM's messages


@pytest.mark.parametrize(
    ("edits", "recipient"),
    [
        pytest.param((), "reclassering", id="adult"),
        pytest.param(((VERDACHTE_GEBOREN, "2010-03-14"),), "rvdk", id="minor"),
        # Kop Tijdstip is 2026-11-21: 18 that day is adult, the day after still a minor.
        pytest.param(((VERDACHTE_GEBOREN, "2008-11-21"),), "reclassering", id="18-that-day"),
        pytest.param(((VERDACHTE_GEBOREN, "2008-11-22"),), "rvdk", id="17-that-day"),
    ],
)
async def test_adviesaanvraag_goes_to_reclassering_or_rvdk_by_age(
    gateway: Running, codec: MessageCodec, edits: tuple[Edit, ...], recipient: str
) -> None:
    raw, bid = build(ADVIESAANVRAAG, *edits)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", [recipient])


@pytest.mark.parametrize(("postcode", "vt"), [("7511AB", "vt-twente"), ("3011AA", "vt-rijnmond")])
async def test_ombeslissing_goes_to_politie_reclassering_and_the_vt_of_the_conversation(
    gateway: Running, codec: MessageCodec, postcode: str, vt: str
) -> None:
    conversatie = await zsm_casus(gateway, codec, (POSTCODE, postcode), vt=vt)
    raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", vt, "reclassering"])


async def test_ombeslissing_without_history_goes_to_the_politie(
    gateway: Running, codec: MessageCodec
) -> None:
    """No casus before it: VT applies only when HG, reclassering only when it took part."""
    raw, bid = build(OM_BESLISSING)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie"])
    assert [(r.nummer, r.naar) for r in outcome.ontvangstbevestiging().regels] == [(1, "politie")]


async def test_ombeslissing_after_a_zsm_without_hg_has_no_vt(
    gateway: Running, codec: MessageCodec
) -> None:
    """Not HG: the VT rule does not apply and is no gap (v2 §9)."""
    conversatie = str(uuid.uuid4())
    raw, bid = build(ZSM, HG_FALSE, conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])
    raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie"])


@pytest.mark.parametrize(
    ("named", "reden"),
    [
        pytest.param(["vt-twente"], "(required, to veilig-thuis) does not apply", id="vt-not-hg"),
        pytest.param(
            ["reclassering"], "(required, to reclassering) does not apply", id="rc-not-in-casus"
        ),
        pytest.param(["rvdk"], "no rule of OmBeslissing routes to", id="rvdk-no-rule"),
    ],
)
async def test_ombeslissing_without_history_naming_a_partner_no_rule_admits_is_refused(
    gateway: Running, codec: MessageCodec, named: list[str], reden: str
) -> None:
    raw, bid = build(OM_BESLISSING, ontvangers=named)
    fout = assert_refused(
        await send(gateway, codec, "om", raw, bid), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert reden in fout.reden
    assert fout.element == "kp:Ontvanger"


async def test_om_naming_only_the_vt_regio_of_an_ombeslissing_still_reaches_politie_and_rc(
    gateway: Running, codec: MessageCodec
) -> None:
    """The issue's case (v2 §5): the Ontvanger selects among the VT regio's, it no longer
    drops the politie and reclassering; the Ontvangstbevestiging lists who got it per rule."""
    conversatie = await zsm_casus(gateway, codec)
    raw, bid = build(OM_BESLISSING, ontvangers=["vt-twente"], conversatie_id=conversatie)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", "vt-twente", "reclassering"])
    assert [
        (r.nummer, r.naar, r.verplicht, [o.oin for o in r.ontvangers], r.ontbreekt)
        for r in outcome.ontvangstbevestiging().regels
    ] == [
        (1, "politie", True, [OINS["politie"]], None),
        (2, "reclassering", True, [OINS["reclassering"]], None),
        (3, "veilig-thuis", True, [OINS["vt-twente"]], None),
    ]


async def test_ombeslissing_in_a_hg_conversation_without_a_vt_regio_is_geen_ontvanger(
    gateway: Running, codec: MessageCodec
) -> None:
    """The routing memory holds a HG-labelled ZsmAanmelding (as a store from before v2 may:
    it went to the OM alone) and no VT regio: a silent skip in v1, GEEN_ONTVANGER now,
    naming the rule; unless the OM names a VT regio, which then fills the rule."""
    conversatie = str(uuid.uuid4())
    await took_part(gateway.state, conversatie, "politie", ["om"], hg=True)
    raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
    fout = assert_refused(await send(gateway, codec, "om", raw, bid), Foutcode.GEEN_ONTVANGER)
    assert fout.reden == (
        "rule 3 of OmBeslissing (required, to veilig-thuis) cannot be resolved: no "
        "veilig-thuis took part in the conversation (routing memory)"
    )
    raw, bid = build(OM_BESLISSING, ontvangers=["vt-rijnmond"], conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie", "vt-rijnmond"])


async def test_ombeslissing_with_its_own_hg_label_needs_a_vt_regio(
    gateway: Running, codec: MessageCodec
) -> None:
    """om:HgLabel true: VT applies; no VT regio in the conversation and none named is
    GEEN_ONTVANGER; named, it fills the rule; the conversation is HG from then on."""
    conversatie = str(uuid.uuid4())
    raw, bid = build(OM_BESLISSING, OM_HG, conversatie_id=conversatie)
    fout = assert_refused(await send(gateway, codec, "om", raw, bid), Foutcode.GEEN_ONTVANGER)
    assert fout.reden.startswith("rule 3 of OmBeslissing (required, to veilig-thuis)")
    raw, bid = build(OM_BESLISSING, OM_HG, ontvangers=["vt-twente"], conversatie_id=conversatie)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", "vt-twente"])
    [vt] = outcome.deliveries["vt-twente"]
    assert b"HgLabel" in vt.body or b"hg-label" in vt.body
    # the memory: HG now, VT Twente took part; a later decision without a label reaches it
    raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie", "vt-twente"])


@pytest.mark.parametrize("zsm_first", [False, True], ids=["no-history", "zsm-without-hg"])
async def test_ombeslissing_naming_the_politie_needs_no_vt_regio(
    gateway: Running, codec: MessageCodec, zsm_first: bool
) -> None:
    conversatie = str(uuid.uuid4())
    if zsm_first:
        raw, bid = build(ZSM, HG_FALSE, conversatie_id=conversatie)
        assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])
    raw, bid = build(OM_BESLISSING, ontvangers=["politie"], conversatie_id=conversatie)
    assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie"])


async def test_ombeslissing_naming_another_vt_than_the_conversation_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    conversatie = await zsm_casus(gateway, codec)
    raw, bid = build(OM_BESLISSING, ontvangers=["vt-rijnmond"], conversatie_id=conversatie)
    fout = assert_refused(
        await send(gateway, codec, "om", raw, bid), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert fout.element == "kp:Ontvanger"


# --------------------------------------------------------------------------- §4 Actieoverleg


@pytest.mark.parametrize(
    ("rel", "sender", "edits", "recipients"),
    [
        pytest.param(
            AO_POLITIE, "politie", (), ["vt-twente", "om", "rvdk", "reclassering"], id="politie"
        ),
        pytest.param(
            AO_POLITIE,
            "politie",
            ((POSTCODE, "3011AA"),),
            ["vt-rijnmond", "om", "rvdk", "reclassering"],
            id="politie-rijnmond-address",
        ),
        pytest.param(AO_VT, "vt-twente", (), ["politie", "om", "rvdk", "reclassering"], id="vt"),
        pytest.param(
            AO_VT,
            "vt-rijnmond",
            (
                VT_RIJNMOND_AFZENDER,
                ("<vt:postcode>7511AB</vt:postcode>", "<vt:postcode>3011AA</vt:postcode>"),
            ),
            ["politie", "om", "rvdk", "reclassering"],
            id="vt-rijnmond-own-address",
        ),
    ],
)
async def test_actieoverlegaanmelding_goes_to_the_four_others(
    gateway: Running,
    codec: MessageCodec,
    rel: str,
    sender: str,
    edits: tuple[Edit, ...],
    recipients: list[str],
) -> None:
    raw, bid = build(rel, *edits)
    assert_routed(await send(gateway, codec, sender, raw, bid), sender, recipients)


async def test_actieoverlegbesluit_after_an_aanmelding_goes_to_the_four_others(
    gateway: Running, codec: MessageCodec
) -> None:
    conversatie = str(uuid.uuid4())
    raw, bid = build(AO_POLITIE, conversatie_id=conversatie)
    assert_routed(
        await send(gateway, codec, "politie", raw, bid),
        "politie",
        ["vt-twente", "om", "rvdk", "reclassering"],
    )
    raw, bid = build(AO_BESLUIT, conversatie_id=conversatie)
    outcome = await send(gateway, codec, "om", raw, bid)
    assert_routed(outcome, "om", ["politie", "vt-twente", "rvdk", "reclassering"])


async def test_actieoverlegbesluit_without_history_is_geen_ontvanger(
    gateway: Running, codec: MessageCodec
) -> None:
    """Each rol that took part (v2 §5): with nobody before it, nobody."""
    raw, bid = build(AO_BESLUIT)
    assert_refused(await send(gateway, codec, "om", raw, bid), Foutcode.GEEN_ONTVANGER)


# --------------------------------------------------------------------------- v2 §5 Ontvanger


@pytest.mark.parametrize(
    ("named", "edits", "recipients"),
    [
        pytest.param(["om"], (), ["om", "vt-twente", "reclassering"], id="only-om"),
        pytest.param(["om", "vt-twente"], (), ["om", "vt-twente", "reclassering"], id="om-vt"),
        pytest.param(["rvdk"], (MINDERJARIG,), ["om", "vt-twente", "rvdk"], id="minor-rvdk"),
    ],
)
async def test_zsmaanmelding_naming_ontvangers_selects_per_rol(
    gateway: Running,
    codec: MessageCodec,
    named: list[str],
    edits: tuple[Edit, ...],
    recipients: list[str],
) -> None:
    """The rollen the sender does not name are routed by the rules as usual."""
    raw, bid = build(ZSM, *edits, ontvangers=named)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", recipients)
    assert outcome.ontvangstbevestiging().uiterste_beslismoment == ZSM_DEADLINE


@pytest.mark.parametrize(
    ("named", "edits"),
    [
        pytest.param(["rvdk"], (), id="rvdk-for-an-adult"),
        pytest.param(["reclassering"], (HG_FALSE,), id="reclassering-without-hg"),
        pytest.param(["vt-rijnmond"], (), id="the-vt-of-another-regio"),
        pytest.param(["om", "rvdk"], (), id="one-of-two-not-allowed"),
        pytest.param(["politie"], (), id="the-sender-itself"),
    ],
)
async def test_zsmaanmelding_naming_a_partner_the_policy_does_not_route_to_is_refused(
    gateway: Running, codec: MessageCodec, named: list[str], edits: tuple[Edit, ...]
) -> None:
    raw, bid = build(ZSM, *edits, ontvangers=named)
    fout = assert_refused(
        await send(gateway, codec, "politie", raw, bid), Foutcode.ONTVANGER_NIET_TOEGESTAAN
    )
    assert fout.element == "kp:Ontvanger"


async def test_ontvanger_with_the_wrong_rol_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(ZSM)
    text = raw.decode()
    text = replace_once(
        text,
        '<kp:Afzender oin="00000099000000000101" rol="politie"/>',
        '<kp:Afzender oin="00000099000000000101" rol="politie"/>\n'
        f'    <kp:Ontvanger oin="{OINS["om"]}" rol="reclassering"/>',
    )
    outcome = await send(gateway, codec, "politie", text.encode(), bid)
    assert_refused(outcome, Foutcode.ONTVANGER_NIET_TOEGESTAAN)


async def test_zsmaanmelding_hg_naming_only_om_with_an_address_in_no_regio_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    """The VT rule is required and not named: the gap is named, nothing is delivered."""
    raw, bid = build(ZSM, (POSTCODE, "9999ZZ"), ontvangers=["om"])
    fout = assert_refused(await send(gateway, codec, "politie", raw, bid), Foutcode.GEEN_ONTVANGER)
    assert fout.reden == (
        "rule 2 of ZsmAanmelding (required, to veilig-thuis) cannot be resolved: postcode 9999 "
        "is in no veilig-thuis regio"
    )


async def test_zsmaanmelding_with_an_address_in_no_regio_reaches_a_named_vt_regio(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(ZSM, (POSTCODE, "9999ZZ"), ontvangers=["vt-rijnmond"])
    assert_routed(
        await send(gateway, codec, "politie", raw, bid),
        "politie",
        ["om", "vt-rijnmond", "reclassering"],
    )


# --------------------------------------------------------------------------- v2 §5, §9 optional


async def test_an_optional_rule_that_does_not_resolve_is_reported_in_the_bevestiging(
    codec: MessageCodec,
    settings: Settings,
    transport: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """A deployment made ZSM's VT rule optional: an address in no regio is no refusal, the
    Ontvangstbevestiging reports the rule and what was missing, and lists per rule who got it."""
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    policy_dir = policy_with(tmp_path, OPTIONAL_ZSM_VT)
    configured = settings.model_copy(update={"policy_dir": policy_dir})
    async with run_gateway(configured, vhost, transport) as gateway:
        raw, bid = build(ZSM, (POSTCODE, "9999ZZ"))
        outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["om", "reclassering"])
    assert [
        (r.nummer, r.naar, r.verplicht, [o.oin for o in r.ontvangers], r.ontbreekt)
        for r in outcome.ontvangstbevestiging().regels
    ] == [
        (1, "openbaar-ministerie", True, [OINS["om"]], None),
        (2, "veilig-thuis", False, [], "postcode 9999 is in no veilig-thuis regio"),
        (3, "reclassering", True, [OINS["reclassering"]], None),
    ]


# --------------------------------------------------------------------------- v2 §5 memory


async def test_the_routing_memory_survives_a_restart_and_is_purged_after_its_bewaartermijn(
    codec: MessageCodec, settings: Settings, transport: str, request: pytest.FixtureRequest
) -> None:
    """A HG ZsmAanmelding; the gateway restarts; past the duplicate window the OmBeslissing
    still reaches the VT regio and reclassering of the casus. After the doel's bewaartermijn
    the purge forgets the conversation: the same OmBeslissing goes to the politie alone."""
    vhost = str(request.getfixturevalue("vhost")) if transport == "rabbitmq" else "unused"
    conversatie = str(uuid.uuid4())
    async with run_gateway(settings, vhost, transport) as gateway:
        raw, bid = build(ZSM, (POSTCODE, "3011AA"), conversatie_id=conversatie)
        assert_routed(
            await send(gateway, codec, "politie", raw, bid),
            "politie",
            ["om", "vt-rijnmond", "reclassering"],
        )
    now = dt.datetime.now(dt.UTC)
    [bewaartermijn] = [
        entry.bewaartermijn_dagen
        for doel, entry in load_policy(settings.policy_dir).doelen.items()
        if str(doel) == "STRAFRECHTELIJKE_BESLISSING"
    ]
    async with run_gateway(settings, vhost, transport) as gateway:
        assert await gateway.state.purge(now + dt.timedelta(days=8)) >= 1  # dedup window
        assert (await gateway.state.conversatie(conversatie)).hg
        raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
        assert_routed(
            await send(gateway, codec, "om", raw, bid),
            "om",
            ["politie", "reclassering", "vt-rijnmond"],
        )
        await gateway.state.purge(now + dt.timedelta(days=bewaartermijn - 1))
        assert (await gateway.state.conversatie(conversatie)).hg
        await gateway.state.purge(now + dt.timedelta(days=bewaartermijn + 1))
        assert await gateway.state.conversatie(conversatie) == Conversatie()
        raw, bid = build(OM_BESLISSING, conversatie_id=conversatie)
        assert_routed(await send(gateway, codec, "om", raw, bid), "om", ["politie"])
