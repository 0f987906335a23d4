"""The gateway's own answers: Ontvangstbevestiging and Foutbericht (spec §6), and the
Statusantwoord to a Statusvraag, rendered by the codec with the gateway as Afzender. Pure: the
clock is passed in."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from gateway.codec.envelope import MessageCodec
from gateway.decision.besluit import Ontvangen
from gateway.decision.routing import Routering
from gateway.domain.errors import Refused
from gateway.domain.model import (
    KETENPOORT,
    Bericht,
    BerichtType,
    Doelbinding,
    Foutbericht,
    Kop,
    Ontvangstbevestiging,
    Partij,
    Routeringsregel,
    Statusantwoord,
    TechnischType,
    bouw_partij,
)
from gateway.domain.model.part import bouwer

_BERICHT_ID = re.compile(rb"BerichtId>\s*([0-9a-fA-F\-]{36})\s*<")
_CONVERSATIE_ID = re.compile(rb"ConversatieId>\s*([0-9a-fA-F\-]{36})\s*<")


def answer_kop(
    berichttype: BerichtType,
    gateway_oin: str,
    *,
    ontvanger: Partij | None,
    in_antwoord_op: str | None,
    conversatie_id: str | None,
    doelbinding: Doelbinding | None,
    now: dt.datetime,
) -> Kop:
    """The header of every answer of the gateway (Afzender: the gateway itself), built as
    ``Kop(...)`` with these fields would be: every value has its field's type already."""
    return _bouw_kop(
        {
            "bericht_id": str(uuid.uuid4()),
            "conversatie_id": conversatie_id or str(uuid.uuid4()),
            "in_antwoord_op": in_antwoord_op,
            "berichttype": str(berichttype),  # a TechnischType: pydantic keeps its str
            "versie": "1",
            "afzender": bouw_partij({"oin": gateway_oin, "rol": KETENPOORT}),
            "ontvangers": (ontvanger,) if ontvanger else (),
            "doelbinding": doelbinding,
            "tijdstip": now,
            "prioriteit": None,
            "traceparent": None,
        }
    )


# The answers' parts, built from values of their fields' types without pydantic's validation
# (tests compare each with the validated build): the Kop sets the fields answer_kop gives.
_bouw_kop = bouwer(
    Kop,
    frozenset(
        {
            "bericht_id",
            "conversatie_id",
            "in_antwoord_op",
            "berichttype",
            "afzender",
            "ontvangers",
            "doelbinding",
            "tijdstip",
        }
    ),
)
_bouw_bevestiging = bouwer(Ontvangstbevestiging)
_bouw_regel = bouwer(Routeringsregel)


def ontvangstbevestiging(
    codec: MessageCodec,
    kop: Kop,
    routering: Routering,
    gateway_oin: str,
    now: dt.datetime,
    uiterste_beslismoment: dt.datetime | None = None,
) -> bytes:
    """Accepted: the recipients, per routing rule that applied who received it (and what an
    optional rule that reached nobody missed), and the deadline of the norm the policy reports
    to the sender (for a ZsmAanmelding: the OM's, spec v2 §10)."""
    inhoud = ontvangen_door(routering, uiterste_beslismoment)
    return bevestiging(codec, kop, gateway_oin, now, inhoud)


def ontvangen_door(
    routering: Routering, uiterste_beslismoment: dt.datetime | None = None
) -> Ontvangstbevestiging:
    """The body of an :func:`ontvangstbevestiging`, built as ``Ontvangstbevestiging(...)``
    would be from these values (their types are the fields' already)."""
    partij = {
        o.partner.oin: bouw_partij({"oin": o.partner.oin, "rol": o.partner.rol})
        for o in routering.ontvangers
    }
    return _bouw_bevestiging(
        {
            "ontvangers": list(partij.values()),
            "uiterste_beslismoment": uiterste_beslismoment,
            "regels": [
                _bouw_regel(
                    {
                        "nummer": r.nummer,
                        "naar": r.naar,
                        "verplicht": r.verplicht,
                        "ontvangers": [partij[oin] for oin in r.ontvangers],
                        "ontbreekt": r.ontbreekt,
                    }
                )
                for r in routering.regels
            ],
        }
    )


def bevestiging(
    codec: MessageCodec,
    kop: Kop,
    gateway_oin: str,
    now: dt.datetime,
    inhoud: Ontvangstbevestiging | None = None,
) -> bytes:
    """An Ontvangstbevestiging answering the message with header ``kop``."""
    return _reply(
        codec,
        kop,
        TechnischType.ONTVANGSTBEVESTIGING,
        inhoud or Ontvangstbevestiging(),
        gateway_oin,
        now,
        doelbinding=kop.doelbinding,
    )


def statusantwoord(
    codec: MessageCodec, kop: Kop, inhoud: Statusantwoord, gateway_oin: str, now: dt.datetime
) -> bytes:
    """The Statusantwoord to the Statusvraag with header ``kop`` (InAntwoordOp: the vraag)."""
    return _reply(codec, kop, TechnischType.STATUSANTWOORD, inhoud, gateway_oin, now)


def _reply(
    codec: MessageCodec,
    kop: Kop,
    berichttype: BerichtType,
    inhoud: Ontvangstbevestiging | Statusantwoord,
    gateway_oin: str,
    now: dt.datetime,
    *,
    doelbinding: Doelbinding | None = None,
) -> bytes:
    """The gateway's answer to its sender, in the conversation of the message with ``kop``."""
    answer = answer_kop(
        berichttype,
        gateway_oin,
        ontvanger=kop.afzender,
        in_antwoord_op=kop.bericht_id,
        conversatie_id=kop.conversatie_id,
        doelbinding=doelbinding,
        now=now,
    )
    return codec.write(Bericht(kop=answer, inhoud=inhoud))


def answer_ids(ontvangen: Ontvangen, bericht: Bericht | None) -> tuple[str | None, str | None]:
    """BerichtId and ConversatieId to answer: from the message, or found in unreadable bytes."""
    if bericht is not None:
        return bericht.kop.bericht_id, bericht.kop.conversatie_id
    found = _BERICHT_ID.search(ontvangen.raw[:65536])
    conv = _CONVERSATIE_ID.search(ontvangen.raw[:65536])
    return (
        found.group(1).decode().lower() if found else None,
        conv.group(1).decode().lower() if conv else None,
    )


def own_bericht_id(answer: bytes) -> str | None:
    """The BerichtId of an answer the gateway wrote (the first one in its Kop)."""
    found = _BERICHT_ID.search(answer[:4096])
    return found.group(1).decode() if found else None


def foutbericht(
    codec: MessageCodec,
    refused: Refused,
    gateway_oin: str,
    now: dt.datetime,
    *,
    in_antwoord_op: str | None,
    conversatie_id: str | None,
) -> bytes:
    """Refused: the code, why, and where."""
    kop = answer_kop(
        TechnischType.FOUTBERICHT,
        gateway_oin,
        ontvanger=None,
        in_antwoord_op=in_antwoord_op,
        conversatie_id=conversatie_id,
        doelbinding=None,
        now=now,
    )
    inhoud = Foutbericht(
        code=refused.code, reden=refused.reden, element=refused.element, regel=refused.regel
    )
    return codec.write(Bericht(kop=kop, inhoud=inhoud))


__all__ = [
    "answer_ids",
    "answer_kop",
    "bevestiging",
    "foutbericht",
    "ontvangen_door",
    "ontvangstbevestiging",
    "own_bericht_id",
    "statusantwoord",
]
