"""The Statusvraag over AMQP: a sender asks how far its own message got, the gateway answers
with a Statusantwoord from the state store, the view ``ketenpoort status`` and
``GET /v1/berichten/{id}/status`` give (docs/asyncapi.yaml, operation ``vraagStatus``).

Status is the sender's only: the store is keyed by (sender OIN, BerichtId), so asking about
another partner's message finds nothing and answers ``Bekend`` false, exactly as an unknown
id does (no oracle for which BerichtIds exist). A Statusvraag is not stored and not audited
as a delivery: it reveals nothing the sender did not send.
"""

from __future__ import annotations

import datetime as dt

from gateway.codec.envelope import MessageCodec
from gateway.decision import pipeline
from gateway.domain.errors import Refused
from gateway.domain.model import (
    Bericht,
    BerichtType,
    Foutcode,
    Kop,
    Partij,
    Rol,
    Statusantwoord,
    StatusLevering,
)
from gateway.store.state import Bekend, StateStore


def asked(kop: Kop, afzender_oin: str) -> str:
    """The BerichtId a Statusvraag asks about (refused: not the sender's own Kop, or no id)."""
    if kop.afzender.oin != afzender_oin:
        raise Refused(
            Foutcode.AFZENDER_ONJUIST,
            f"Afzender says {kop.afzender.oin} but the message comes from {afzender_oin}",
            element="kp:Afzender",
        )
    if kop.in_antwoord_op is None:
        raise Refused(
            Foutcode.SCHEMA_ONGELDIG,
            "a Statusvraag names the asked BerichtId in kp:InAntwoordOp",
            element="kp:InAntwoordOp",
        )
    return kop.in_antwoord_op


def statusantwoord(bericht_id: str, bekend: Bekend | None) -> Statusantwoord:
    """The store's view of one message as a Statusantwoord body."""
    if bekend is None:
        return Statusantwoord(bericht_id=bericht_id, bekend=False)
    return Statusantwoord(
        bericht_id=bekend.bericht_id,
        bekend=True,
        berichttype=bekend.berichttype,
        leveringen=[
            StatusLevering(
                ontvanger=Partij(oin=lev.ontvanger_oin, rol=Rol(lev.ontvanger_rol)),
                status=lev.status.value,
                pogingen=lev.pogingen,
                bijgewerkt=lev.bijgewerkt,
            )
            for lev in bekend.leveringen
        ],
    )


async def answer(
    state: StateStore,
    codec: MessageCodec,
    kop: Kop,
    afzender_oin: str,
    gateway_oin: str,
    now: dt.datetime,
) -> bytes:
    """The Statusantwoord (bytes) to a Statusvraag with header ``kop`` from ``afzender_oin``."""
    bericht_id = asked(kop, afzender_oin)
    inhoud = statusantwoord(bericht_id, await state.lookup(afzender_oin, bericht_id))
    header = pipeline.answer_kop(
        BerichtType.STATUSANTWOORD,
        gateway_oin,
        ontvanger=kop.afzender,
        in_antwoord_op=kop.bericht_id,
        conversatie_id=kop.conversatie_id,
        doelbinding=None,
        now=now,
    )
    return codec.write(Bericht(kop=header, inhoud=inhoud))


__all__ = ["answer", "asked", "statusantwoord"]
