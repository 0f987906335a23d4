"""What the audit trail records for each step of the pipeline (Logboek Dataverwerkingen).

One record per step, recipient and data subject. The data subject is the keyed pseudonym of a
BSN found in the message or, for a person without a BSN, of (sender OIN, persoonsnummer)
(spec v2 §8; ``gateway.decision.afscherming``); a message about nobody has records without a
subject. Never the BSN itself, a name or free text: a person without a BSN is findable
through the keyed search key of name and birth date beside their ``ontvangen`` record.

Steps: ``ontvangen`` (per subject of the received message), ``geweigerd`` (with the code),
``gerouteerd``, ``gefilterd`` (categories kept and removed; free-text fields and blocks under
beroepsgeheim withheld, spec v2 §8) and ``afgeleverd`` (the SHA-256 of the exact bytes
delivered; the bron and doorbrekingsgrond of its blocks) per recipient and subject,
``bevestigd`` (the recipient's Afleverbevestiging), ``niet-afleverbaar``, ``replayed``, and
``inzage`` (an officer's read).
The trace id comes from the partner's traceparent or from the message digest; span ids are
random (nothing in the signed public part may be derived from the data subject, or purge
could not unlink it). A retried step is recognised by ``Entry.dedup`` and recorded once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gateway.audit.record import Entry
from gateway.decision.afscherming import (
    Persoon,
    onderwerp,
    onderwerpen_in,
    personen_in,
    zoeksleutel,
)
from gateway.decision.besluit import Gerouteerd, Levering, Ontvangen
from gateway.decision.signaal import Signaal
from gateway.domain.errors import Refused
from gateway.domain.model import Bericht, Inhoud

__all__ = ["Pseudonymise", "Trail", "trace_id"]

Pseudonymise = Callable[[str], str]

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_id(ontvangen: Ontvangen, bericht: Bericht | None) -> str:
    """The partner's W3C trace id when it gave one; else one derived from the message."""
    for candidate in (bericht.kop.traceparent if bericht else None, ontvangen.traceparent):
        found = _TRACEPARENT.match(candidate or "")
        if found:
            return found.group(1)
    return hashlib.sha256(ontvangen.sha256.encode() + ontvangen.afzender_oin.encode()).hexdigest()[
        :32
    ]


def _verzoek(
    dedup: str,
    vraag_id: str,
    *,
    gebeurtenis: str,
    status: str,
    extra: dict[str, Any],
    afzender: tuple[str, str] | None = None,
    bericht_id: str | None = None,
    betrokkene: str | None = None,
    bewaartermijn_dagen: int | None = None,
) -> Entry:
    """An entry about a request to the gateway (an officer's read, a refused request), traced
    by the request's own id."""
    return Entry(
        gebeurtenis=gebeurtenis,
        dedup=dedup,
        trace_id=hashlib.sha256(vraag_id.encode()).hexdigest()[:32],
        span_id=_span(),
        bericht_id=bericht_id,
        afzender=afzender,
        status=status,
        betrokkene=betrokkene,
        bewaartermijn_dagen=bewaartermijn_dagen,
        extra=extra,
    )


def _achtergehouden(levering: Levering) -> dict[str, Any]:
    """The gefilterd entry's account of the free-text fields withheld (spec v2 §8)."""
    if not levering.achtergehouden:
        return {}
    return {
        "vrije_tekst_achtergehouden": [
            {
                "veld": a.veld,
                "categorieen": sorted(a.categorieen),
                "ontbrekend": sorted(a.ontbrekend),
            }
            for a in levering.achtergehouden
        ]
    }


def _beroepsgeheim(levering: Levering) -> dict[str, Any]:
    """The gefilterd entry's account of the blocks withheld under beroepsgeheim (v2 §8)."""
    if not levering.beroepsgeheim:
        return {}
    return {"beroepsgeheim_achtergehouden": [b.as_record() for b in levering.beroepsgeheim]}


def _afscherming(levering: Levering) -> dict[str, Any]:
    """The gefilterd entry's account of the shielded addresses withheld (spec v2 §8)."""
    if not levering.afscherming:
        return {}
    return {"afscherming_achtergehouden": [a.as_record() for a in levering.afscherming]}


def _herkomst(levering: Levering) -> dict[str, Any]:
    """The afgeleverd entry's account of where the delivered blocks came from (v2 §8)."""
    if not levering.herkomst:
        return {}
    return {"herkomst": [h.as_record() for h in levering.herkomst]}


def _span() -> str:
    """A random span id: derived from anything about the person, it would outlive purge."""
    return secrets.token_hex(8)


def _spans() -> Iterator[str]:
    """Random span ids (:func:`_span`) for the entries of one message, drawn from the
    system's random source 16 at a time rather than one by one."""
    while True:
        batch = secrets.token_hex(8 * 16)
        for start in range(0, len(batch), 16):
            yield batch[start : start + 16]


class Trail:
    """Builds the entries; the pseudonymiser holds the deployment secret."""

    def __init__(self, pseudonymise: Pseudonymise) -> None:
        self.pseudonymise = pseudonymise

    def _pseudonym(self, key: str, known: dict[str, str]) -> str:
        """The pseudonym of ``key`` (:func:`onderwerp` of a person), keyed-hashed once per
        message: ``known`` holds those computed already."""
        found = known.get(key)
        if found is None:
            found = known[key] = self.pseudonymise(key)
        return found

    def _subjects(
        self, personen: list[Persoon], afzender_oin: str, known: dict[str, str] | None = None
    ) -> list[str | None]:
        """The pseudonyms of ``personen`` (:func:`personen_in` of a body): of each BSN, else
        of (sender OIN, persoonsnummer) (spec v2 §8); [None] when there is none. ``known``
        holds pseudonyms computed already for this message (a keyed hash each)."""
        known = {} if known is None else known
        found: dict[str | None, None] = {}  # insertion-ordered, without repeats
        for persoon in personen:
            key = onderwerp(persoon, afzender_oin)
            if key is not None:
                found[self._pseudonym(key, known)] = None
        return list(found) or [None]

    def zoeksleutel(self, naam: str, geboortedatum: dt.date) -> str:
        """The keyed search key of a name and birth date (:func:`zoeksleutel`)."""
        return self.pseudonymise(zoeksleutel(naam, geboortedatum))

    def _zoeksleutels(
        self, personen: list[Persoon], afzender_oin: str, known: dict[str, str]
    ) -> dict[str, str]:
        """subject pseudonym -> the keyed search key of each person without a BSN whose name
        and birth date the message gives (spec v2 §8: an officer finds them by those)."""
        found: dict[str, str] = {}
        for persoon in personen:
            if persoon.bsn is not None or not persoon.naam or not persoon.geboortedatum:
                continue
            key = onderwerp(persoon, afzender_oin)
            if key is not None:
                subject = self._pseudonym(key, known)
                if subject not in found:
                    found[subject] = self.zoeksleutel(persoon.naam, persoon.geboortedatum)
        return found

    def _per_ref(
        self, personen: list[Persoon], afzender_oin: str, known: dict[str, str]
    ) -> dict[str, str]:
        """betrokkene ref -> subject pseudonym, of the people of the received message (the
        first person of a ref)."""
        found: dict[str, str] = {}
        for persoon in personen:
            key = onderwerp(persoon, afzender_oin)
            if persoon.ref is not None and key is not None and persoon.ref not in found:
                found[persoon.ref] = self._pseudonym(key, known)
        return found

    @staticmethod
    def _beperkt(levering: Levering, per_ref: dict[str, str]) -> dict[str, list[str]]:
        """subject pseudonym -> the delivered blocks marked niet-delen-met that person
        (``per_ref``: :meth:`_per_ref` of the received message)."""
        found: dict[str, list[str]] = {}
        for beperking in levering.beperkingen:
            subject = per_ref.get(beperking.ref)
            if subject is not None:
                found.setdefault(subject, []).append(beperking.veld)
        return found

    def accepted(
        self,
        gerouteerd: Gerouteerd,
        leveringen: Iterable[Levering],
        bewaartermijn_dagen: int,
    ) -> list[Entry]:
        """ontvangen, gerouteerd, gefilterd and afgeleverd for one accepted message."""
        ontvangen = gerouteerd.gelezen.ontvangen
        bericht = gerouteerd.gelezen.bericht
        routering = gerouteerd.routering
        kop = bericht.kop
        assert isinstance(bericht.inhoud, Inhoud)
        shared = Entry(  # what every entry of this message records alike
            gebeurtenis="",
            dedup="",
            trace_id=trace_id(ontvangen, bericht),
            span_id="",
            berichttype=kop.berichttype,
            bericht_id=kop.bericht_id,
            afzender=(routering.afzender.oin, routering.afzender.rol),
            doel=routering.doel,
            policy=routering.policy_versie,
            bewaartermijn_dagen=bewaartermijn_dagen,
        )
        key = f"{routering.afzender.oin}|{kop.bericht_id}"
        entries = []
        spans = _spans()
        # what the received bytes can contain: the model's categories and those of its free
        # texts, as a delivery's kept and removed count them
        gezien = gerouteerd.gelezen.inventaris
        present = tuple(sorted(gezien.present if gezien is not None else bericht.categorieen_van()))
        grondslag = ", ".join(routering.grondslagen)
        known: dict[str, str] = {}
        afzender_oin = routering.afzender.oin
        blokken = gerouteerd.gelezen.blokken or None  # walked once when the message was read
        personen = personen_in(bericht.inhoud, blokken)
        subjects = self._subjects(personen, afzender_oin, known)
        zoeksleutels = self._zoeksleutels(personen, afzender_oin, known)
        for subject in subjects:
            entries.append(
                Entry.sharing(
                    shared,
                    gebeurtenis="ontvangen",
                    dedup=f"{key}|ontvangen||{subject or ''}",
                    span_id=next(spans),
                    grondslag=grondslag,
                    categorieen=present,
                    sha256=ontvangen.sha256,
                    status="geaccepteerd",
                    betrokkene=subject,
                    zoeksleutel=zoeksleutels.get(subject or ""),
                )
            )
        original = sorted(set(subjects), key=lambda s: s or "")
        per_ref: dict[str, str] | None = None  # read when a recipient has beperkingen
        for levering in leveringen:
            partner = levering.ontvanger.partner
            # a recipient that received the body as it came has every subject of it
            delivered: set[str | None] = (
                set(subjects)
                if levering.inhoud is bericht.inhoud
                else {
                    self._pseudonym(k, known) for k in onderwerpen_in(levering.inhoud, afzender_oin)
                }
                or {None}
            )
            gefilterd_extra = {
                **_achtergehouden(levering),
                **_beroepsgeheim(levering),
                **_afscherming(levering),
            }
            herkomst = _herkomst(levering)
            beperkt: dict[str, list[str]] = {}
            if levering.beperkingen:
                if per_ref is None:
                    per_ref = self._per_ref(personen, afzender_oin, known)
                beperkt = self._beperkt(levering, per_ref)
            kept = tuple(sorted(levering.kept))
            to = Entry.sharing(  # what this recipient's entries record alike
                shared,
                gebeurtenis="",
                dedup="",
                span_id="",
                ontvanger=(partner.oin, partner.rol),
                grondslag=levering.ontvanger.grondslag,
                verwijderd=tuple(sorted(levering.removed)),
            )
            gerouteerd_key = f"{key}|gerouteerd|{partner.oin}|"
            gefilterd_key = f"{key}|gefilterd|{partner.oin}|"
            afgeleverd_key = f"{key}|afgeleverd|{partner.oin}|"
            for subject in original:
                if subject not in delivered:  # their data did not go to this recipient at all
                    entries.append(
                        Entry.sharing(
                            to,
                            gebeurtenis="gefilterd",
                            dedup=gefilterd_key + (subject or ""),
                            span_id=next(spans),
                            status="weggelaten",
                            betrokkene=subject,
                            extra=gefilterd_extra,
                        )
                    )
                    continue
                afgeleverd_extra = herkomst
                if subject in beperkt:  # v2 §8: not to be shown to this person (AVG art. 23)
                    afgeleverd_extra = {**afgeleverd_extra, "niet_delen_met": beperkt[subject]}
                entries.append(
                    Entry.sharing(
                        to,
                        gebeurtenis="gerouteerd",
                        dedup=gerouteerd_key + (subject or ""),
                        span_id=next(spans),
                        categorieen=kept,
                        status="gerouteerd",
                        betrokkene=subject,
                    )
                )
                entries.append(
                    Entry.sharing(
                        to,
                        gebeurtenis="gefilterd",
                        dedup=gefilterd_key + (subject or ""),
                        span_id=next(spans),
                        categorieen=kept,
                        status="gefilterd",
                        betrokkene=subject,
                        extra=gefilterd_extra,
                    )
                )
                entries.append(
                    Entry.sharing(
                        to,
                        gebeurtenis="afgeleverd",
                        dedup=afgeleverd_key + (subject or ""),
                        span_id=next(spans),
                        categorieen=kept,
                        sha256=levering.sha256,
                        status="afgeleverd",
                        betrokkene=subject,
                        extra=afgeleverd_extra,
                    )
                )
        return entries

    def signaal(
        self, gerouteerd: Gerouteerd, signaal: Signaal, bewaartermijn_dagen: int
    ) -> list[Entry]:
        """An AfsprakenSignaal (v2 §7) is a disclosure: ``afgeleverd`` to its recipient under
        the grondslag the afspraken holder cited, per data subject of the message that
        triggered it (that afspraken exist about them), with the digest of the exact bytes."""
        ontvangen = gerouteerd.gelezen.ontvangen
        bericht = gerouteerd.gelezen.bericht
        kop = signaal.bericht.kop
        partner = signaal.ontvanger
        assert isinstance(bericht.inhoud, Inhoud)
        trace = trace_id(ontvangen, bericht)
        blokken = gerouteerd.gelezen.blokken or None  # walked once when the message was read
        personen = personen_in(bericht.inhoud, blokken)
        entries = []
        for subject in self._subjects(personen, str(bericht.kop.afzender.oin)):
            entries.append(
                Entry(
                    gebeurtenis="afgeleverd",
                    dedup=f"{kop.afzender.oin}|{kop.bericht_id}|afgeleverd|{partner.oin}|"
                    f"{subject or ''}",
                    trace_id=trace,
                    span_id=_span(),
                    berichttype=kop.berichttype,
                    bericht_id=kop.bericht_id,
                    afzender=(kop.afzender.oin, str(kop.afzender.rol)),
                    ontvanger=(partner.oin, partner.rol),
                    doel=signaal.reeks.doel,
                    grondslag=signaal.reeks.grondslag,
                    categorieen=("proces",),
                    sha256=signaal.sha256,
                    status="afgeleverd",
                    betrokkene=subject,
                    policy=gerouteerd.routering.policy_versie,
                    bewaartermijn_dagen=bewaartermijn_dagen,
                    extra={
                        "reeks_id": signaal.reeks.reeks_id,
                        "versie": signaal.reeks.versie,
                        "houder": signaal.reeks.houder_oin,
                        "in_antwoord_op": bericht.kop.bericht_id,
                    },
                )
            )
        return entries

    def refused(
        self,
        refused: Refused,
        ontvangen: Ontvangen,
        bericht: Bericht | None,
        bericht_id: str | None,
        bewaartermijn_dagen: int,
    ) -> list[Entry]:
        inhoud = bericht.inhoud if bericht and isinstance(bericht.inhoud, Inhoud) else None
        doelbinding = bericht.kop.doelbinding if bericht else None
        entries = []
        personen = personen_in(inhoud) if inhoud is not None else []
        known: dict[str, str] = {}
        zoeksleutels = self._zoeksleutels(personen, ontvangen.afzender_oin, known)
        for subject in self._subjects(personen, ontvangen.afzender_oin, known):
            key = f"{ontvangen.afzender_oin}|{bericht_id or ontvangen.sha256}"
            dedup = f"{key}|geweigerd||{subject or ''}"
            entries.append(
                Entry(
                    gebeurtenis="geweigerd",
                    dedup=dedup,
                    trace_id=trace_id(ontvangen, bericht),
                    span_id=_span(),
                    berichttype=bericht.kop.berichttype if bericht else None,
                    bericht_id=bericht_id,
                    afzender=(ontvangen.afzender_oin, str(bericht.kop.afzender.rol))
                    if bericht
                    else (ontvangen.afzender_oin, "onbekend"),
                    doel=doelbinding.doel if doelbinding else None,
                    grondslag=", ".join(doelbinding.grondslagen) if doelbinding else None,
                    sha256=ontvangen.sha256,
                    bewaartermijn_dagen=bewaartermijn_dagen,
                    status=refused.code.value,
                    betrokkene=subject,
                    zoeksleutel=zoeksleutels.get(subject or ""),
                    extra={"element": refused.element} if refused.element else {},
                )
            )
        return entries

    @staticmethod
    def follow_up(
        gebeurtenis: str,
        *,
        afzender: str,
        bericht_id: str,
        ontvanger: tuple[str, str],
        subjects: Iterable[str | None],
        status: str,
        bewaartermijn_dagen: int,
        unique: str = "",
    ) -> list[Entry]:
        """bevestigd / niet-afleverbaar / replayed for the subjects delivered earlier."""
        trace = hashlib.sha256(f"{afzender}|{bericht_id}".encode()).hexdigest()[:32]
        entries = []
        for subject in list(subjects) or [None]:
            dedup = f"{afzender}|{bericht_id}|{gebeurtenis}|{ontvanger[0]}|{subject or ''}|{unique}"
            entries.append(
                Entry(
                    gebeurtenis=gebeurtenis,
                    dedup=dedup,
                    trace_id=trace,
                    span_id=_span(),
                    bericht_id=bericht_id,
                    afzender=(afzender, ""),
                    ontvanger=ontvanger,
                    status=status,
                    betrokkene=subject,
                    bewaartermijn_dagen=bewaartermijn_dagen,
                )
            )
        return entries

    @staticmethod
    def export(lezer: str, waarheen: str, vraag_id: str) -> Entry:
        """An officer exported the trail (a read of every record; no single data subject)."""
        return _verzoek(
            f"export|{vraag_id}",
            vraag_id,
            gebeurtenis="inzage",
            status="geexporteerd",
            extra={"lezer": lezer, "vraag": f"export van het hele logboek naar {waarheen}"},
        )

    def inzage(self, lezer: str, bsn: str, vraag_id: str, bewaartermijn_dagen: int) -> Entry:
        """An officer read the history of the person with this BSN."""
        return self.inzage_van(
            lezer,
            self.pseudonymise(bsn),
            vraag_id,
            bewaartermijn_dagen,
            "historie van een betrokkene (BSN, gepseudonimiseerd)",
        )

    @staticmethod
    def inzage_van(
        lezer: str, subject: str | None, vraag_id: str, bewaartermijn_dagen: int, vraag: str
    ) -> Entry:
        """An officer read the history of ``subject`` (a pseudonym; None: the question found
        nobody), asking ``vraag``."""
        return _verzoek(
            f"inzage|{vraag_id}|{subject or ''}",
            vraag_id,
            gebeurtenis="inzage",
            status="gelezen" if subject else "niemand-gevonden",
            betrokkene=subject,
            bewaartermijn_dagen=bewaartermijn_dagen,
            extra={"lezer": lezer, "vraag": vraag},
        )

    @staticmethod
    def toegang_geweigerd(
        reden: str, *, route: str, oin: str | None, vraag_id: str, bewaartermijn_dagen: int
    ) -> Entry:
        """A request the HTTPS door refused before any message was read (no certificate, an
        unknown one, a partner certificate at the audit pages)."""
        return _verzoek(
            f"toegang|{vraag_id}",
            vraag_id,
            gebeurtenis="toegang-geweigerd",
            afzender=(oin, "") if oin else None,
            status=reden,
            bewaartermijn_dagen=bewaartermijn_dagen,
            extra={"route": route},
        )

    @staticmethod
    def pagina(
        lezer: str,
        pagina: str,
        vraag_id: str,
        bewaartermijn_dagen: int,
        *,
        betrokkene: str | None = None,
        bericht_id: str | None = None,
    ) -> Entry:
        """A privacy officer viewed an audit page (about one data subject, if ``betrokkene``:
        then the view shows up in that person's own history)."""
        return _verzoek(
            f"pagina|{vraag_id}",
            vraag_id,
            gebeurtenis="inzage",
            bericht_id=bericht_id,
            status="bekeken",
            betrokkene=betrokkene,
            bewaartermijn_dagen=bewaartermijn_dagen,
            extra={"lezer": lezer, "pagina": pagina},
        )
