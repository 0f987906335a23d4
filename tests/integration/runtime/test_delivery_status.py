"""Delivery status per recipient: Afleverbevestiging and who may set it (spec §2).

Runs on both transports (RabbitMQ, the proof, and the in-memory double).
"""

from __future__ import annotations

import uuid

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Foutcode, Partij, TechnischType
from gateway.store.state import Status
from tests.support.broker import OINS
from tests.support.gateways import ON_BOTH_TRANSPORTS, Running
from tests.support.messages import fresh
from tests.support.routing import (
    HG_FALSE,
    RC_ADVIES,
    VT_MELDING,
    ZSM,
    afleverbevestiging,
    assert_refused,
    assert_routed,
    build,
    send,
    statuses,
    wait_for_status,
)

pytestmark = ON_BOTH_TRANSPORTS


# --------------------------------------------------------------------------- delivery status


async def test_afleverbevestiging_sets_the_status_for_that_recipient_only(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(ZSM)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["om", "vt-twente", "reclassering"])
    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {
        "om": Status.GEPUBLICEERD,
        "vt-twente": Status.GEPUBLICEERD,
        "reclassering": Status.GEPUBLICEERD,
    }

    conf, conf_id = afleverbevestiging("om", bid, conversatie_id=outcome.answer.kop.conversatie_id)
    answer = await send(gateway, codec, "om", conf, conf_id)
    assert {n: m for n, m in answer.deliveries.items() if m} == {}  # not forwarded to anyone
    assert answer.answer.kop.berichttype == TechnischType.ONTVANGSTBEVESTIGING
    assert answer.answer.kop.ontvangers == (Partij(oin=OINS["om"], rol="openbaar-ministerie"),)

    bevestigd = await gateway.state.lookup(OINS["politie"], bid)
    assert bevestigd is not None
    assert statuses(bevestigd) == {
        "om": Status.AFGELEVERD,
        "vt-twente": Status.GEPUBLICEERD,
        "reclassering": Status.GEPUBLICEERD,
    }
    # The status is the sender's: nobody else's OIN finds it.
    for other in ("om", "vt-twente", "reclassering", "rvdk", "vt-rijnmond"):
        assert await gateway.state.lookup(OINS[other], bid) is None, other


async def test_afleverbevestiging_naming_the_sender_settles_a_shared_bericht_id(
    gateway: Running, codec: MessageCodec
) -> None:
    """Two senders used the same BerichtId towards the OM; the OM names whose it confirms."""
    raw, bid = build(ZSM, HG_FALSE)
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["om"])
    raw, _ = build(RC_ADVIES)
    raw = fresh(raw, bericht_id=bid)
    assert_routed(await send(gateway, codec, "reclassering", raw, bid), "reclassering", ["om"])
    conf, conf_id = afleverbevestiging(
        "om", bid, conversatie_id=str(uuid.uuid4()), original_sender="reclassering"
    )
    answer = await send(gateway, codec, "om", conf, conf_id)
    assert answer.answer.kop.berichttype == TechnischType.ONTVANGSTBEVESTIGING
    for sender, status in (("reclassering", Status.AFGELEVERD), ("politie", Status.GEPUBLICEERD)):
        bekend = await gateway.state.lookup(OINS[sender], bid)
        assert bekend is not None
        assert [lev.status for lev in bekend.leveringen] == [status], sender


@pytest.mark.parametrize(
    ("confirmer", "which"),
    [
        pytest.param("om", "unknown", id="never-sent"),
        pytest.param("om", "delivered-to-vt", id="delivered-to-another-partner"),
        pytest.param("politie", "delivered-to-vt", id="the-sender-itself"),
    ],
)
async def test_afleverbevestiging_for_a_message_not_delivered_to_the_partner_is_refused(
    gateway: Running, codec: MessageCodec, confirmer: str, which: str
) -> None:
    raw, bid = build(VT_MELDING)
    outcome = await send(gateway, codec, "politie", raw, bid)
    assert_routed(outcome, "politie", ["vt-twente"])
    target = str(uuid.uuid4()) if which == "unknown" else bid

    conf, conf_id = afleverbevestiging(confirmer, target, conversatie_id=str(uuid.uuid4()))
    answer = await send(gateway, codec, confirmer, conf, conf_id)
    fout = assert_refused(answer, Foutcode.SCHEMA_ONGELDIG)
    assert fout.element == "kp:InAntwoordOp"

    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}


async def test_afleverbevestiging_in_another_partners_name_is_refused(
    gateway: Running, codec: MessageCodec
) -> None:
    raw, bid = build(VT_MELDING)
    assert_routed(await send(gateway, codec, "politie", raw, bid), "politie", ["vt-twente"])
    conf, conf_id = afleverbevestiging(
        "om", bid, conversatie_id=str(uuid.uuid4()), afzender="vt-twente"
    )
    assert_refused(await send(gateway, codec, "om", conf, conf_id), Foutcode.AFZENDER_ONJUIST)
    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}
