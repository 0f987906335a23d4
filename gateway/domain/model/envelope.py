"""The envelope (spec §2): the parties, the header (Kop) with its doelbinding, the technical
bodies (the gateway's answers, the recipients' receipts, the status pair) and the whole
Bericht."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from gateway.domain.model.codes import BerichtType, Doel, Foutcode, Prioriteit, Rol
from gateway.domain.model.definitie import Inhoud
from gateway.domain.model.part import Categorie, Part, bouwer, categorieen_in

__all__ = [
    "Afleverbevestiging",
    "AfsprakenSignaal",
    "Bericht",
    "Doelbinding",
    "Foutbericht",
    "Kop",
    "Leveringsfase",
    "Ontvangstbevestiging",
    "Partij",
    "Routeringsregel",
    "Statusantwoord",
    "Statusregel",
    "Statusvraag",
    "TechnischeInhoud",
    "bouw_doelbinding",
    "bouw_partij",
]


class Partij(Part):
    """A party in the envelope: OIN and rol (``ketenpoort`` for the gateway's answers)."""

    oin: str
    rol: Rol  # a rol of the register, or ``ketenpoort`` for the gateway


bouw_partij = bouwer(Partij)
"""A :class:`Partij` from values already of its fields' types (``{"oin": ..., "rol": ...}``),
without pydantic's validation (:func:`~gateway.domain.model.part.bouwer`)."""


class Routeringsregel(Part):
    """One routing rule of the message's type that applied (spec v2 §5, §9): its number in
    the policy's routes, its rol, whether it is required, who received the message under it
    and, for an optional rule that reached nobody, what was missing."""

    nummer: int
    naar: str
    verplicht: bool
    ontvangers: list[Partij] = Field(default_factory=list)
    ontbreekt: str | None = None


class Ontvangstbevestiging(Part):
    """Gateway → sender: accepted, and routed to these recipients, per rule that applied."""

    ontvangers: list[Partij] = Field(default_factory=list)
    uiterste_beslismoment: dt.datetime | None = None
    regels: list[Routeringsregel] = Field(default_factory=list)


class Foutbericht(Part):
    """Gateway → sender: refused, with a code from spec §6 and where and why."""

    code: Foutcode
    reden: str
    element: str | None = None
    regel: int | None = None


class Afleverbevestiging(Part):
    """Recipient → gateway: the message named in InAntwoordOp was received."""

    ontvangen: dt.datetime | None = None


class Statusvraag(Part):
    """Sender → gateway: how far did my message (named in InAntwoordOp) get?"""


Leveringsfase = Literal["gepland", "gepubliceerd", "afgeleverd", "niet-afleverbaar"]


class Statusregel(Part):
    """One recipient's delivery of the asked message, as the state store knows it."""

    ontvanger: Partij
    status: Leveringsfase
    pogingen: int
    bijgewerkt: dt.datetime


class Statusantwoord(Part):
    """Gateway → sender: the delivery status per recipient of the sender's own message.
    ``bekend`` is false for an id the sender did not send (or no longer remembered)."""

    bericht_id: str
    bekend: bool
    berichttype: str | None = None
    leveringen: list[Statusregel] = Field(default_factory=list)


class AfsprakenSignaal(Part):
    """Gateway → the VT regio and the politie of a later melding (v2 §7): valid afspraken
    exist at its address or about one of its persons: the reeks, its last versie, the date it
    was accepted and the partner that holds it. Never the content."""

    reeks_id: str
    versie: int
    datum: dt.date
    houder: Partij


TechnischeInhoud = (
    Ontvangstbevestiging
    | Foutbericht
    | Afleverbevestiging
    | Statusvraag
    | Statusantwoord
    | AfsprakenSignaal
)


class Doelbinding(Part):
    doel: Doel
    grondslagen: tuple[str, ...]


bouw_doelbinding = bouwer(Doelbinding)
"""A :class:`Doelbinding` from values already of its fields' types (``{"doel": ...,
"grondslagen": (...)}``), without pydantic's validation."""


class Kop(Part):
    """The envelope header (spec §2)."""

    bericht_id: str
    conversatie_id: str
    in_antwoord_op: str | None = None
    berichttype: BerichtType
    versie: Literal["1"] = "1"
    afzender: Partij
    ontvangers: tuple[Partij, ...] = ()
    doelbinding: Doelbinding | None = None
    tijdstip: dt.datetime
    prioriteit: Prioriteit | None = None
    traceparent: str | None = None


class Bericht(Part):
    """One message: the header and a canonical body."""

    kop: Kop
    inhoud: Inhoud | TechnischeInhoud

    def categorieen_van(self) -> frozenset[Categorie]:
        """Every category that occurs in the body (the filled fields'), for the audit trail."""
        return frozenset(categorieen_in(self.inhoud))
