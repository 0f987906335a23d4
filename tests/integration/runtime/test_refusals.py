"""Refusals through a running gateway: every Foutcode the sender can get before delivery
(spec §2, §6), the answer to the sender and nothing delivered to anyone.

Runs on both transports (RabbitMQ, the proof, and the in-memory double).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Foutcode, Partij
from gateway.runtime.settings import Settings
from gateway.store.state import Status
from gateway.transport.rabbit import POGING
from tests.support.broker import OINS
from tests.support.gateways import ON_BOTH_TRANSPORTS, Running, run_gateway, vhost_of
from tests.support.messages import fresh, replace_once
from tests.support.partners import SendRefused, drain, inbox_until_answered
from tests.support.routing import (
    AO_VT,
    OM_BESLISSING,
    RC_ADVIES,
    RVDK_ADVIES,
    TERUGKOPPELING,
    VT_MELDING,
    VT_RIJNMOND_AFZENDER,
    Edit,
    assert_niet_afleverbaar,
    assert_refused,
    assert_routed,
    build,
    send,
    statuses,
    wait_for_status,
)

pytestmark = ON_BOTH_TRANSPORTS


# --------------------------------------------------------------------------- §2/§6 refusals


@pytest.mark.parametrize(
    ("rel", "user", "edits"),
    [
        pytest.param(OM_BESLISSING, "politie", (), id="politie-sends-as-om"),
        pytest.param(TERUGKOPPELING, "vt-rijnmond", (), id="one-vt-regio-sends-as-another"),
        pytest.param(AO_VT, "vt-twente", (VT_RIJNMOND_AFZENDER,), id="vt-twente-sends-as-rijnmond"),
    ],
)
async def test_afzender_onjuist(
    gateway: Running, codec: MessageCodec, rel: str, user: str, edits: tuple[Edit, ...]
) -> None:
    """The authenticated user, not kp:Afzender, is the sender; the answer goes to the user."""
    raw, bid = build(rel, *edits)
    fout = assert_refused(await send(gateway, codec, user, raw, bid), Foutcode.AFZENDER_ONJUIST)
    assert fout.element == "kp:Afzender"


async def test_afzender_niet_geautoriseerd_for_a_body_the_rol_only_receives(
    gateway: Running, codec: MessageCodec
) -> None:
    """Politie forwards a Terugkoppeling in its own (receive) format: it may not send one."""
    raw, bid = build(TERUGKOPPELING)
    bericht = codec.read(raw)
    politie = Partij(oin=OINS["politie"], rol="politie")
    as_politie = bericht.model_copy(
        update={"kop": bericht.kop.model_copy(update={"afzender": politie})}
    )
    forwarded = codec.write(as_politie, voor="politie")
    assert b"<pol:Terugkoppeling" in forwarded
    outcome = await send(gateway, codec, "politie", forwarded, bid)
    assert_refused(outcome, Foutcode.AFZENDER_NIET_GEAUTORISEERD)


async def test_afzender_niet_geautoriseerd_by_the_policy(
    settings: Settings, transport: str, tmp_path: Path, codec: MessageCodec
) -> None:
    """A policy without raad-kinderbescherming among the Reclasseringsadvies afzenders refuses
    the Raad's rvdk:Advies, which its format still allows (policy is data, not code)."""
    policy_dir = tmp_path / "policy"
    shutil.copytree(settings.policy_dir, policy_dir)
    berichten = policy_dir / "berichten.yaml"
    berichten.write_text(
        replace_once(
            berichten.read_text("utf-8"),
            "afzenders: [reclassering, raad-kinderbescherming]",
            "afzenders: [reclassering]",
        ),
        "utf-8",
    )
    narrowed = settings.model_copy(update={"policy_dir": policy_dir})
    async with run_gateway(narrowed, vhost_of(settings), transport) as running:
        raw, bid = build(RVDK_ADVIES)
        fout = assert_refused(
            await send(running, codec, "rvdk", raw, bid), Foutcode.AFZENDER_NIET_GEAUTORISEERD
        )
        assert fout.element == "kp:BerichtType"
        raw, bid = build(RC_ADVIES)  # the reclassering still may
        assert_routed(await send(running, codec, "reclassering", raw, bid), "reclassering", ["om"])


async def test_doel_niet_toegestaan(gateway: Running, codec: MessageCodec) -> None:
    raw, bid = build(
        VT_MELDING, ("<kp:Doel>VEILIGHEIDSBEOORDELING</kp:Doel>", "<kp:Doel>ACTIEOVERLEG</kp:Doel>")
    )
    fout = assert_refused(
        await send(gateway, codec, "politie", raw, bid), Foutcode.DOEL_NIET_TOEGESTAAN
    )
    assert fout.element == "kp:Doel"


async def test_grondslag_ontbreekt(gateway: Running, codec: MessageCodec) -> None:
    """v2 §4: the politie citing VT's meldrecht (a grondslag of another party) is refused,
    naming the recipient and the codes the politie could have cited."""
    raw, bid = build(
        VT_MELDING,
        (
            "<kp:Grondslag>WPG-ART-18-BPG-4.3</kp:Grondslag>",
            "<kp:Grondslag>WMO2015-ART-5.2.6</kp:Grondslag>",
        ),
    )
    fout = assert_refused(
        await send(gateway, codec, "politie", raw, bid), Foutcode.GRONDSLAG_ONTBREEKT
    )
    assert fout.element == "kp:Grondslag"
    assert "00000099000000000102 (veilig-thuis)" in fout.reden, fout
    assert "acceptable: WPG-ART-18-BPG-4.3, WPG-ART-19" in fout.reden, fout


@pytest.mark.parametrize(
    ("code", "edit"),
    [
        pytest.param(
            Foutcode.XML_ONGELDIG, ("</kp:Bericht>", "</kp:Berich>"), id="not-well-formed"
        ),
        pytest.param(
            Foutcode.XML_ONGELDIG,
            (
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE kp:Bericht [<!ENTITY x "x">]>',
            ),
            id="dtd",
        ),
        pytest.param(
            Foutcode.SCHEMA_ONGELDIG,
            ("<pol:Eenheid>OOST-NEDERLAND</pol:Eenheid>", ""),
            id="required-element-missing",
        ),
        pytest.param(
            Foutcode.ONBEKEND_BERICHTTYPE,
            (
                "<kp:BerichtType>VtMelding</kp:BerichtType>",
                "<kp:BerichtType>Melding</kp:BerichtType>",
            ),
            id="unknown-berichttype",
        ),
        pytest.param(
            Foutcode.BSN_ONGELDIG,
            ("<pol:BSN>999990019</pol:BSN>", "<pol:BSN>999990018</pol:BSN>"),
            id="bsn-elfproef",
        ),
        pytest.param(
            Foutcode.TE_GROOT,
            ("</kp:Bericht>", "</kp:Bericht>\n<!--" + "x" * (1024 * 1024) + "-->"),
            id="too-big",
        ),
    ],
)
async def test_codec_refusals_over_amqp(
    gateway: Running, codec: MessageCodec, code: Foutcode, edit: Edit
) -> None:
    raw, bid = build(VT_MELDING, edit)
    assert_refused(await send(gateway, codec, "politie", raw, bid), code)


async def test_dubbel_bericht(gateway: Running, codec: MessageCodec) -> None:
    raw, bid = build(VT_MELDING)
    first = await send(gateway, codec, "politie", raw, bid)
    assert_routed(first, "politie", ["vt-twente"])

    # The identical message again: the original answer, byte for byte, and no new delivery.
    again = await send(gateway, codec, "politie", raw, bid)
    assert again.answer_body == first.answer_body
    assert {n: m for n, m in again.deliveries.items() if m} == {}

    # Same BerichtId, other content: DUBBEL_BERICHT, nothing delivered.
    changed = replace_once(raw.decode(), "Rode striemen in de hals", "Blauwe plek").encode()
    fout = assert_refused(
        await send(gateway, codec, "politie", changed, bid), Foutcode.DUBBEL_BERICHT
    )
    assert fout.element == "kp:BerichtId"

    # Another partner may use the same BerichtId (unique per sender): it is not a duplicate.
    raw_rc, _ = build(RC_ADVIES)
    raw_rc = fresh(raw_rc, bericht_id=bid)
    assert_routed(await send(gateway, codec, "reclassering", raw_rc, bid), "reclassering", ["om"])

    # The original is still remembered as delivered once, to VT Twente only.
    bekend = await wait_for_status(gateway.state, "politie", bid)
    assert statuses(bekend) == {"vt-twente": Status.GEPUBLICEERD}


async def test_a_partner_cannot_publish_as_another_user(gateway: Running) -> None:
    """The broker checks the user_id property against the connection's user."""
    politie = gateway.connect_another("politie")  # a refused publish closes the channel
    await politie.connect()
    try:
        raw, _ = build(OM_BESLISSING)
        with pytest.raises(SendRefused):
            await politie.send(raw, user_id=OINS["om"])
    finally:
        await politie.close()
    for name, partner in gateway.partners.items():
        assert await drain(partner) == [], name


# --------------------------------------------------------------------------- NIET_AFLEVERBAAR


async def test_niet_afleverbaar_after_the_first_attempt_and_every_retry(
    gateway: Running, codec: MessageCodec
) -> None:
    """VT Twente rejects every delivery: one attempt and one per retry delay (dead-lettered,
    held back by the retry queue's TTL, delivered again), then the sender gets
    NIET_AFLEVERBAAR and the state says so."""
    politie = gateway.partner("politie")
    vt = gateway.partner("vt-twente")
    attempts: list[tuple[int, bytes]] = []
    done = asyncio.Event()

    async def reject_everything() -> None:
        # stops between two gets, never cancelled in the middle of one: a basic.get cut off
        # half-way leaves the partner's AMQP channel closed
        while not done.is_set():
            message = await vt.get()
            if message is None:
                await asyncio.sleep(0.01)
                continue
            attempts.append((int((message.headers or {}).get(POGING) or 0), message.body))
            await message.nack(requeue=False)

    rejecting = asyncio.create_task(reject_everything())
    try:
        raw, bid = build(VT_MELDING)
        await politie.send(raw)
        own, answers = await inbox_until_answered(politie, 2)
    finally:
        done.set()
        await rejecting
    assert own == []
    await assert_niet_afleverbaar(gateway, codec, answers, attempts, bid, vt.oin)
