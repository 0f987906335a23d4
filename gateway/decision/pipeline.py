"""The pipeline, in order, in one place.

    ingress → validate → translate → authorise → doelbinding → route
            → need-to-know filter → render → deliver → acknowledge → audit

This module holds the decision steps (pure: bytes in, decision out, no I/O), each a small
function with a typed input and output. ``gateway.runtime.service`` runs them for every message and
does the I/O steps (deliver, acknowledge, audit) through collaborators passed in.
Every failure is a :class:`Refused` that becomes a Foutbericht; never a stack trace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass

from gateway.codec.envelope import MessageCodec
from gateway.decision.needtoknow import filter_inhoud
from gateway.decision.routing import Ontvanger, Router, Routering
from gateway.domain.errors import Refused
from gateway.domain.model import (
    KETENPOORT,
    Bericht,
    BerichtType,
    Categorie,
    Doelbinding,
    Foutbericht,
    Inhoud,
    Kop,
    Ontvangstbevestiging,
    Partij,
)
from gateway.observe.logs import get_logger

log = get_logger("ketenpoort.pipeline")


@dataclass(frozen=True)
class Ontvangen:
    """ingress: the raw bytes and who sent them (authenticated by certificate or AMQP user)."""

    raw: bytes
    afzender_oin: str
    sha256: str
    traceparent: str | None = None


@dataclass(frozen=True)
class Gelezen:
    """validate + translate: the message in the canonical model."""

    ontvangen: Ontvangen
    bericht: Bericht


@dataclass(frozen=True)
class Gerouteerd:
    """authorise + doelbinding + route: who receives it, under which grondslag."""

    gelezen: Gelezen
    routering: Routering


@dataclass(frozen=True)
class Levering:
    """need-to-know filter + render: exactly what one recipient receives."""

    ontvanger: Ontvanger
    inhoud: Inhoud  # the filtered body
    kept: frozenset[Categorie]
    removed: frozenset[Categorie]
    payload: bytes
    sha256: str


@dataclass(frozen=True)
class Besluit:
    """The whole decision for one accepted message."""

    gerouteerd: Gerouteerd
    leveringen: tuple[Levering, ...]

    @property
    def bericht(self) -> Bericht:
        return self.gerouteerd.gelezen.bericht


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- the steps


def ingress(raw: bytes, afzender_oin: str, traceparent: str | None = None) -> Ontvangen:
    return Ontvangen(
        raw=raw, afzender_oin=afzender_oin, sha256=sha256(raw), traceparent=traceparent
    )


def validate_and_translate(codec: MessageCodec, ontvangen: Ontvangen) -> Gelezen:
    """Safe parse, envelope and partner XSD, adapter parse to the canonical model."""
    return Gelezen(
        ontvangen=ontvangen,
        bericht=codec.read(ontvangen.raw, afzender_oin=ontvangen.afzender_oin),
    )


def authorise_and_route(router: Router, gelezen: Gelezen) -> Gerouteerd:
    """The sender is who it says and may send this; doel and grondslag fit; the recipients."""
    routering = router.route(gelezen.bericht, gelezen.ontvangen.afzender_oin)
    return Gerouteerd(gelezen=gelezen, routering=routering)


def filter_and_render(codec: MessageCodec, gerouteerd: Gerouteerd) -> Besluit:
    """Per recipient: keep only granted categories, render in its format, check its XSD."""
    bericht = gerouteerd.gelezen.bericht
    routering = gerouteerd.routering
    assert isinstance(bericht.inhoud, Inhoud)
    leveringen = []
    for ontvanger in routering.ontvangers:
        gefilterd = filter_inhoud(bericht.inhoud, ontvanger.granted)
        partner = ontvanger.partner
        kop = bericht.kop.model_copy(
            update={
                "ontvangers": (Partij(oin=partner.oin, rol=partner.rol),),
                "doelbinding": Doelbinding(doel=routering.doel, grondslagen=(ontvanger.grondslag,)),
                "prioriteit": routering.prioriteit,
                "traceparent": bericht.kop.traceparent or gerouteerd.gelezen.ontvangen.traceparent,
            }
        )
        payload = codec.write(Bericht(kop=kop, inhoud=gefilterd.inhoud), voor=partner.rol)
        leveringen.append(
            Levering(
                ontvanger=ontvanger,
                inhoud=gefilterd.inhoud,
                kept=gefilterd.kept,
                removed=gefilterd.removed,
                payload=payload,
                sha256=sha256(payload),
            )
        )
    return Besluit(gerouteerd=gerouteerd, leveringen=tuple(leveringen))


def decide(codec: MessageCodec, router: Router, ontvangen: Ontvangen) -> Besluit:
    """validate → translate → authorise → doelbinding → route → filter → render."""
    bound = log.bind(afzender=ontvangen.afzender_oin, sha256=ontvangen.sha256[:16])
    gelezen = validate_and_translate(codec, ontvangen)
    kop = gelezen.bericht.kop
    bound = bound.bind(bericht_id=kop.bericht_id, berichttype=kop.berichttype.value)
    bound.info("bericht_gevalideerd")
    gerouteerd = authorise_and_route(router, gelezen)
    bound.info(
        "bericht_gerouteerd",
        doel=gerouteerd.routering.doel.value,
        ontvangers=[o.partner.oin for o in gerouteerd.routering.ontvangers],
        policy=gerouteerd.routering.policy_versie,
    )
    besluit = filter_and_render(codec, gerouteerd)
    for levering in besluit.leveringen:
        bound.info(
            "bericht_gefilterd",
            ontvanger=levering.ontvanger.partner.oin,
            kept=sorted(levering.kept),
            removed=sorted(levering.removed),
        )
    return besluit


# --------------------------------------------------------------------------- answers


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
    """The header of every answer of the gateway (Afzender: the gateway itself)."""
    return Kop(
        bericht_id=str(uuid.uuid4()),
        conversatie_id=conversatie_id or str(uuid.uuid4()),
        in_antwoord_op=in_antwoord_op,
        berichttype=berichttype,
        afzender=Partij(oin=gateway_oin, rol=KETENPOORT),
        ontvangers=(ontvanger,) if ontvanger else (),
        doelbinding=doelbinding,
        tijdstip=now,
    )


def ontvangstbevestiging(
    codec: MessageCodec, besluit: Besluit, gateway_oin: str, now: dt.datetime
) -> bytes:
    """Accepted: the recipients, and for a ZsmAanmelding the OM's deadline."""
    kop = besluit.bericht.kop
    routering = besluit.gerouteerd.routering
    inhoud = Ontvangstbevestiging(
        ontvangers=[Partij(oin=o.partner.oin, rol=o.partner.rol) for o in routering.ontvangers],
        uiterste_beslismoment=routering.uiterste_beslismoment,
    )
    return bevestiging(codec, kop, gateway_oin, now, inhoud)


def bevestiging(
    codec: MessageCodec,
    kop: Kop,
    gateway_oin: str,
    now: dt.datetime,
    inhoud: Ontvangstbevestiging | None = None,
) -> bytes:
    """An Ontvangstbevestiging answering the message with header ``kop``."""
    answer = answer_kop(
        BerichtType.ONTVANGSTBEVESTIGING,
        gateway_oin,
        ontvanger=kop.afzender,
        in_antwoord_op=kop.bericht_id,
        conversatie_id=kop.conversatie_id,
        doelbinding=kop.doelbinding,
        now=now,
    )
    return codec.write(Bericht(kop=answer, inhoud=inhoud or Ontvangstbevestiging()))


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
        BerichtType.FOUTBERICHT,
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
