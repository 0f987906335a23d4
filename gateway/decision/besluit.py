"""The values the decision path takes and gives: what was received, the facts, the decision.

Everything here is a frozen value. The runtime fills :class:`Ontvangen` and :class:`Feiten`
(the only I/O: reading the message state and the audit trail), calls the decision path
(:class:`gateway.decision.pipeline.Pipeline`) and carries out the :data:`Besluit` it returns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from gateway.audit.record import Entry
from gateway.decision.afscherming import AfschermingWeglating, Beperking
from gateway.decision.beroepsgeheim import BeroepsgeheimWeglating, Herkomst
from gateway.decision.needtoknow import Achtergehouden, Inventaris
from gateway.decision.normen import Normtermijn
from gateway.decision.reeks import Reeksstand
from gateway.decision.routing import Geheugen, Gevraagd, Ontvanger, Routering
from gateway.decision.signaal import Signaal
from gateway.domain.errors import Refused
from gateway.domain.model import Bericht, Blokken, Categorie, Inhoud, Statusantwoord


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Ontvangen:
    """ingress: the raw bytes and who sent them (authenticated by certificate or AMQP user)."""

    raw: bytes
    afzender_oin: str
    sha256: str
    traceparent: str | None = None
    herbezorgd: bool = False  # the broker hands this same ingress message out again


def ingress(
    raw: bytes, afzender_oin: str, traceparent: str | None = None, *, herbezorgd: bool = False
) -> Ontvangen:
    return Ontvangen(
        raw=raw,
        afzender_oin=afzender_oin,
        sha256=sha256(raw),
        traceparent=traceparent,
        herbezorgd=herbezorgd,
    )


@dataclass(frozen=True)
class Gelezen:
    """validate + translate + authorise: the message in the canonical model, from a partner
    that may send it."""

    ontvangen: Ontvangen
    bericht: Bericht
    blokken: Blokken  # the body's blocks with their paths (``blokken_van``; () for none)
    # the body's categories and free texts (``needtoknow.inventaris``; None: not a BerichtType)
    inventaris: Inventaris | None


@dataclass(frozen=True)
class Gerouteerd:
    """doelbinding + route: who receives it, under which grondslag."""

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
    # each free-text field present in the message and withheld from this recipient, and why
    # (the categories of its content the recipient is not granted: spec v2 §8)
    achtergehouden: tuple[Achtergehouden, ...] = ()
    # each block under beroepsgeheim the doel does not accept the ground of (removed for
    # every recipient), and where each delivered block came from (spec v2 §8)
    beroepsgeheim: tuple[BeroepsgeheimWeglating, ...] = ()
    herkomst: tuple[Herkomst, ...] = ()
    # each address marked afgeschermd this recipient did not receive, and each delivered
    # block marked niet-delen-met a betrokkene (spec v2 §8)
    afscherming: tuple[AfschermingWeglating, ...] = ()
    beperkingen: tuple[Beperking, ...] = ()


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Vraag:
    """The facts a decision about one read message needs (the runtime looks them up)."""

    afzender_oin: str
    bericht_id: str
    conversatie_id: str
    deelnemers: bool = False  # the routing needs the routing memory of the conversation
    # an Afleverbevestiging: the BerichtId it confirms and the senders it names (may be none)
    bevestigt: str | None = None
    bevestigt_van: tuple[str, ...] = ()
    # a Statusvraag: the sender's own BerichtId it asks about
    status_van: str | None = None
    # an answer (v2 §6): the BerichtId of the question it names in kp:InAntwoordOp
    antwoord_op: str | None = None
    # an afspraken versie (v2 §6): the reeks-id whose record the routing memory holds
    reeks_id: str | None = None
    # a message matched against the valid afspraken (v2 §7): its keyed pseudonyms
    sleutels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Eerder:
    """What the message state knows of this sender's BerichtId (a duplicate or a resumption)."""

    sha256: str
    conversatie_id: str
    antwoord: bytes | None  # None: planned but never answered (in progress, or a crash)
    gepland: frozenset[str]  # every recipient planned
    open: frozenset[str]  # recipients whose delivery was not confirmed by the broker
    eigenaar: str | None = None


@dataclass(frozen=True)
class Geleverd:
    """For an Afleverbevestiging: one sender's message delivered to the confirming recipient,
    and the data subjects whose data went along (from the audit trail)."""

    afzender_oin: str
    betrokkenen: tuple[str | None, ...]


@dataclass(frozen=True)
class Feiten:
    """The facts, as values: the clock, what the store knows, who took part."""

    nu: dt.datetime
    eerder: Eerder | None = None
    deelnemers: frozenset[str] = frozenset()  # OINs that took part in the conversation
    hg: bool = False  # an earlier message of the conversation labelled it HG (v2 §5)
    geleverd: tuple[Geleverd, ...] = ()
    status: Statusantwoord | None = None  # for a Statusvraag: the store's view of that id
    casusregie: str | None = None  # the OIN holding casusregie in the conversation (v2 §5)
    overdracht: str | None = None  # the status of the conversation's Overdracht
    gevraagd: tuple[Gevraagd, ...] = ()  # the questions InAntwoordOp names, sent to this sender
    reeks: Reeksstand | None = None  # the afspraken reeks of this versie (v2 §6), if known
    # the afspraken reeksen whose pseudonyms match the message's (v2 §7), valid or not, and
    # the generation they were read at (None: neither matched nor an afspraken versie)
    afspraken: tuple[Reeksstand, ...] = ()
    afspraken_generatie: int | None = None

    def geheugen(self) -> Geheugen:
        """The routing memory, as the router takes it."""
        return Geheugen(
            deelnemers=self.deelnemers,
            hg=self.hg,
            casusregie=self.casusregie,
            overdracht=self.overdracht,
            gevraagd=self.gevraagd,
            reeks=self.reeks,
        )


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Weigering:
    """Refused: audited, answered with a Foutbericht, nothing delivered."""

    refused: Refused
    ontvangen: Ontvangen
    bericht: Bericht | None
    bericht_id: str | None  # the BerichtId answered (found in unreadable bytes if need be)
    antwoord: bytes
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Herhaling:
    """A BerichtId answered before, with the same content: the original answer again.

    ``stil``: the broker redelivered the very ingress message whose answer is stored (the
    answer was confirmed before it was stored, so the sender has it): acknowledge only.
    """

    bericht: Bericht
    antwoord: bytes
    stil: bool


@dataclass(frozen=True)
class Aanvaarding:
    """Accepted: deliver each :class:`Levering` (after its audit entries), answer the sender.

    ``hervat``: a message planned earlier and never answered (a crash, or another replica
    still at it): only ``alleen`` is published again, flagged ``ketenpoort-herhaald``.
    """

    gerouteerd: Gerouteerd
    leveringen: tuple[Levering, ...]
    antwoord: bytes
    entries: tuple[Entry, ...]
    hervat: bool = False
    alleen: frozenset[str] | None = None
    normen: tuple[Normtermijn, ...] = ()  # the norms it opens (spec v2 §10)
    sluit: frozenset[str] = frozenset()  # the norms it closes in its conversation
    # the steps per item it closes there: (norm, key), e.g. a voorwaarde given a final status
    sluit_per_item: frozenset[tuple[str, str]] = frozenset()
    # the AfsprakenSignalen it gives rise to (v2 §7): published with the deliveries
    signalen: tuple[Signaal, ...] = ()
    # the generation of the afspraken it was decided on (a versie, v2 §6, or a message
    # matched against them, §7; None: neither): planned only if no versie was accepted since
    afspraken_generatie: int | None = None

    @property
    def bericht(self) -> Bericht:
        return self.gerouteerd.gelezen.bericht

    @property
    def te_publiceren(self) -> tuple[Levering, ...]:
        return tuple(
            lev
            for lev in self.leveringen
            if self.alleen is None or lev.ontvanger.partner.oin in self.alleen
        )


@dataclass(frozen=True)
class Bevestiging:
    """A recipient's Afleverbevestiging: recorded per original sender, answered."""

    gelezen: Gelezen
    bevestigd: str  # the confirmed BerichtId
    afzenders: tuple[str, ...]  # whose message it was
    antwoord: bytes
    entries: tuple[Entry, ...]
    sluit: frozenset[str] = frozenset()  # the norms it closes for the confirmed delivery


@dataclass(frozen=True)
class Inlichting:
    """A sender's Statusvraag: the delivery status of its own message, answered (nothing is
    stored or audited: it reveals only what the sender sent)."""

    gelezen: Gelezen
    gevraagd: str  # the BerichtId asked about
    antwoord: bytes  # the Statusantwoord


@dataclass(frozen=True)
class Onbekend:
    """The authenticated sender is no registered partner: nobody to answer, nothing to do."""

    ontvangen: Ontvangen


Besluit = Weigering | Herhaling | Aanvaarding | Bevestiging | Inlichting | Onbekend


@dataclass(frozen=True)
class Vervolg:
    """A delivery its recipient never took: its audit entries, per data subject the
    delivery carried, and the Foutbericht that tells its sender."""

    entries: tuple[Entry, ...]
    antwoord: bytes


__all__ = [
    "Aanvaarding",
    "Besluit",
    "Bevestiging",
    "Eerder",
    "Feiten",
    "Geleverd",
    "Gelezen",
    "Gerouteerd",
    "Herhaling",
    "Inlichting",
    "Levering",
    "Onbekend",
    "Ontvangen",
    "Vervolg",
    "Vraag",
    "Weigering",
    "ingress",
    "sha256",
]
