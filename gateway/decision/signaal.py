"""The AfsprakenSignaal (spec v2 §7): afspraken reach the acute responder.

When a message of a type whose policy entry has ``afspraken_signaal`` (VtMelding and
ZsmAanmelding by default) concerns an address or a person for which a valid afspraken reeks
exists, the gateway tells the recipients of that message with one of the signal's rollen (the
VT regio, only when it receives the message itself) and its sender (the politie): reeks-id,
last versie, the date it was accepted and the holder — never the content.

Matching is by **keyed pseudonyms**, never by clear values: the normalised address (postcode
without space in capitals, huisnummer trimmed in lower case) and each person's BSN, each put
through the deployment's keyed pseudonymiser (the audit trail's HMAC key) with its own prefix,
so that a matching key is neither the audit trail's subject pseudonym nor derivable without
the key. A persoonsnummer is per sender and is not matched. The runtime looks the matching
reeksen up as a fact (:attr:`Vraag.sleutels` → :attr:`Feiten.afspraken`); what is valid is
decided here against the clock (not withdrawn, ``geldig-tot`` not passed).

Choices where the spec is silent (README, "The AfsprakenSignaal"): one signal per reeks and
recipient; its BerichtId is derived from the melding's sender and BerichtId, the reeks and the
recipient (a resumed delivery publishes the same signal again, recognisable by its id); its
kp:InAntwoordOp names the melding, its ConversatieId is the melding's; its doel and grondslag
are those the holder cited for the reeks; it is audited as a disclosure (``afgeleverd``) to
its recipient under that grondslag, per data subject of the melding; a signal is not
confirmed with an Afleverbevestiging (like the gateway's answers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.decision.reeks import Reeksstand
from gateway.domain.model import (
    KETENPOORT,
    AfsprakenSignaal,
    Bericht,
    Doelbinding,
    Kop,
    Part,
    Partij,
    TechnischType,
)
from gateway.policy.catalogue import Policy
from gateway.policy.fieldpath import resolve
from gateway.policy.files import AFGESCHERMD, PartnerEntry

__all__ = ["Signaal", "adres_sleutel", "bsn_sleutel", "signalen", "sleutels"]

Pseudonymise = Callable[[str], str]

# the namespace of the signals' BerichtIds (uuid5): stable per melding, reeks and recipient
_SIGNAAL_NS = uuid.UUID("5b0e7a52-8f0d-4c1e-9a55-6b7f1d2c3e4f")


@dataclass(frozen=True)
class Signaal:
    """One AfsprakenSignaal to one recipient: the message, its bytes and the reeks it names."""

    ontvanger: PartnerEntry
    bericht: Bericht
    payload: bytes
    sha256: str
    reeks: Reeksstand


def adres_sleutel(postcode: str, huisnummer: str, pseudonymise: Pseudonymise) -> str:
    """The keyed pseudonym of an address: postcode without spaces in capitals, huisnummer
    trimmed in lower case (``12 A`` and ``12a`` are one address)."""
    code = "".join(postcode.split()).upper()
    nummer = "".join(huisnummer.split()).lower()
    return pseudonymise(f"afspraken-adres|{code}|{nummer}")


def bsn_sleutel(bsn: str, pseudonymise: Pseudonymise) -> str:
    """The keyed pseudonym of a person's BSN for matching afspraken."""
    return pseudonymise(f"afspraken-bsn|{bsn.strip()}")


def sleutels(
    bericht: Bericht, adres: str | None, personen: str | None, pseudonymise: Pseudonymise
) -> frozenset[str]:
    """The matching keys of a message: its address at ``adres`` (a group with postcode and
    huisnummer; not when it is marked afgeschermd) and the BSN of each person in the list at
    ``personen``."""
    found: set[str] = set()
    if adres is not None:
        groep = resolve(bericht, adres)
        postcode = getattr(groep, "postcode", None)
        huisnummer = getattr(groep, "huisnummer", None)
        # an address marked afgeschermd (v2 §8) is used for nothing but its delivery
        shielded = getattr(groep, AFGESCHERMD, None) is True
        if isinstance(postcode, str) and isinstance(huisnummer, str) and not shielded:
            found.add(adres_sleutel(postcode, huisnummer, pseudonymise))
    if personen is not None:
        for persoon in _lijst(bericht, personen):
            bsn = getattr(persoon, "bsn", None)
            if isinstance(bsn, str) and bsn.strip():
                found.add(bsn_sleutel(bsn, pseudonymise))
    return frozenset(found)


def _lijst(bericht: Bericht, pad: str) -> list[Any]:
    """Every item of the list at ``pad`` (``resolve`` gives the first item of a list)."""
    *ouders, naam = pad.split(".")
    houder: Any = resolve(bericht, ".".join(ouders)) if ouders else bericht.inhoud
    waarde = getattr(houder, naam, None)
    if isinstance(waarde, list):
        return [w for w in waarde if isinstance(w, Part)]
    return [waarde] if isinstance(waarde, Part) else []


def signalen(
    bericht: Bericht,
    ontvangers: list[PartnerEntry],
    afspraken: tuple[Reeksstand, ...],
    policy: Policy,
    gateway_oin: str,
    nu: dt.datetime,
    write: Callable[[Bericht], bytes],
) -> tuple[Signaal, ...]:
    """One signal per valid reeks and recipient (``ontvangers``: who is told, as the policy's
    ``afspraken_signaal`` selects them)."""
    kop = bericht.kop
    geldig = sorted((r for r in afspraken if r.geldig_op(nu.date())), key=lambda r: r.reeks_id)
    gezien: set[str] = set()
    uit: list[Signaal] = []
    for reeks in geldig:
        if reeks.reeks_id in gezien:
            continue
        gezien.add(reeks.reeks_id)
        houder = policy.partners.get(reeks.houder_oin)
        houder_rol = str(houder.rol) if houder is not None else ""
        if not houder_rol:
            continue  # the holder left the register: nobody to point at
        for ontvanger in ontvangers:
            bericht_id = str(
                uuid.uuid5(
                    _SIGNAAL_NS,
                    f"{kop.afzender.oin}|{kop.bericht_id}|{reeks.reeks_id}|{ontvanger.oin}",
                )
            )
            signaal = Bericht(
                kop=Kop(
                    bericht_id=bericht_id,
                    conversatie_id=kop.conversatie_id,
                    in_antwoord_op=kop.bericht_id,
                    berichttype=TechnischType.AFSPRAKENSIGNAAL.value,
                    afzender=Partij(oin=gateway_oin, rol=KETENPOORT),
                    ontvangers=(Partij(oin=ontvanger.oin, rol=ontvanger.rol),),
                    doelbinding=Doelbinding(doel=reeks.doel, grondslagen=(reeks.grondslag,)),
                    tijdstip=nu,
                    traceparent=kop.traceparent,
                ),
                inhoud=AfsprakenSignaal(
                    reeks_id=reeks.reeks_id,
                    versie=reeks.versie,
                    datum=(reeks.bijgewerkt or nu).date(),
                    houder=Partij(oin=reeks.houder_oin, rol=houder_rol),
                ),
            )
            payload = write(signaal)
            uit.append(
                Signaal(
                    ontvanger=ontvanger,
                    bericht=signaal,
                    payload=payload,
                    sha256=hashlib.sha256(payload).hexdigest(),
                    reeks=reeks,
                )
            )
    return tuple(uit)
