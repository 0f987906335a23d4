"""The shared parts of the message bodies: addresses, persons, incidents, agreements and the
other building blocks the BerichtTypes' bodies are made of."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from gateway.domain.model.codes import (
    Aard,
    Categorie,
    Feit,
    Geslacht,
    Geweldsvorm,
    Instrument,
    Middel,
    PersoonRol,
    Relatie,
    Risiconiveau,
    Rol,
    VoorwaardeSoort,
)
from gateway.domain.model.part import CONTACT, ID, INCIDENT, VEILIGHEID, Part

__all__ = [
    "Actie",
    "Adres",
    "Afspraak",
    "Contactpersoon",
    "FeitOmschrijving",
    "GeaccordeerdeInformatie",
    "Gezagsdrager",
    "Incident",
    "Kernvragen",
    "Kindcheck",
    "OnveiligeSituatie",
    "Persoon",
    "Registratie",
    "Risicotaxatie",
    "StrafrechtelijkeStatus",
    "Voorwaarde",
    "Zaak",
]


class Adres(Part):
    straat: str | None = None
    huisnummer: str | None = None
    postcode: str | None = None
    plaats: str | None = None


class Contactpersoon(Part):
    """A professional to contact (verbalisant, casusregisseur, bij-blijver, contact)."""

    naam: str | None = None
    organisatie: str | None = None
    telefoon: str | None = None


class Persoon(Part):
    """A person named in a message. Politie splits the name, the other partners do not."""

    ref: str | None = None
    rol: PersoonRol | None = None
    bsn: str | None = None
    voornamen: str | None = None
    achternaam: str | None = None
    naam: str | None = None
    geboortedatum: dt.date | None = None
    geslacht: Geslacht | None = None
    relatie_tot_slachtoffer: Relatie | None = None

    def extra_categorieen(self) -> frozenset[Categorie]:
        if self.rol is PersoonRol.KIND:
            return frozenset({Categorie.KIND})
        return frozenset()

    def leeftijd_op(self, peildatum: dt.date) -> int | None:
        """Age in whole years on ``peildatum``; None without a birth date."""
        if self.geboortedatum is None:
            return None
        geboren = self.geboortedatum
        jaren = peildatum.year - geboren.year
        if (peildatum.month, peildatum.day) < (geboren.month, geboren.day):
            jaren -= 1
        return jaren


class Registratie(Part):
    registratienummer: str | None = None
    eenheid: str | None = None
    opgemaakt: dt.datetime | None = None
    verbalisant: Contactpersoon | None = None


class Incident(Part):
    tijdstip: dt.datetime | None = None
    adres: Annotated[Adres | None, CONTACT] = None
    aard: Aard | None = None
    geweldsvorm: list[Geweldsvorm] = Field(default_factory=list)
    omschrijving: str | None = None
    wapens: bool | None = None
    middelen: list[Middel] = Field(default_factory=list)
    letsel: str | None = None


class Kindcheck(Part):
    kinderen_in_huishouden: bool | None = None
    kinderen_aanwezig_bij_incident: bool | None = None


class StrafrechtelijkeStatus(Part):
    strafbaar_feit_vermoed: bool | None = None
    aangifte_gedaan: bool | None = None
    aangehouden: bool | None = None
    tijdelijk_huisverbod: bool | None = None


class Risicotaxatie(Part):
    instrument: Instrument | None = None
    uitkomst: Risiconiveau | None = None


class Zaak(Part):
    proces_verbaalnummer: str | None = None
    feit: list[Feit] = Field(default_factory=list)
    aanhouding: dt.datetime | None = None
    hg_label: bool | None = None


class Kernvragen(Part):
    """The five kernvragen, each free text."""

    wat_is_er_gebeurd: Annotated[str | None, INCIDENT] = None
    wat_is_er_bekend: Annotated[str | None, INCIDENT] = None
    is_het_nu_veilig: Annotated[str | None, VEILIGHEID] = None
    wat_moet_er_nu_gebeuren: Annotated[str | None, VEILIGHEID] = None
    wie_zijn_betrokken: Annotated[str | None, ID] = None


class OnveiligeSituatie(Part):
    betrokkene: str | None = None
    omschrijving: str | None = None


class Afspraak(Part):
    situatie: str | None = None
    handeling: str | None = None
    telefoon: str | None = None


class Gezagsdrager(Part):
    naam: str | None = None
    geinformeerd: bool | None = None
    reden_niet_geinformeerd: str | None = None


class GeaccordeerdeInformatie(Part):
    bron: str | None = None
    datum: dt.date | None = None
    geaccordeerd: bool | None = None
    inhoud: str | None = None


class FeitOmschrijving(Part):
    """A charge with its code and the prosecutor's description."""

    code: Feit | None = None
    omschrijving: str | None = None


class Voorwaarde(Part):
    soort: VoorwaardeSoort | None = None
    persoon: Annotated[str | None, ID] = None
    omschrijving: str | None = None


class Actie(Part):
    wie: Rol | None = None
    omschrijving: str | None = None
