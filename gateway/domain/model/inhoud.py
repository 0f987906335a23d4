"""The bodies of the message catalogue (spec §4): one :class:`Inhoud` per BerichtType, and
``INHOUD_TYPES`` to find the class of a BerichtType."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import Field

from gateway.domain.model.codes import (
    AdviesSoort,
    BerichtType,
    Gezinsprofiel,
    OmUitkomst,
    PersoonRol,
    Risiconiveau,
    Rol,
    Veiligheidsschaal,
    VtBesluit,
)
from gateway.domain.model.part import (
    CONTACT,
    GEZINSPROFIEL,
    GEZONDHEID,
    HULP,
    ID,
    INCIDENT,
    KIND,
    PROCES,
    STRAF,
    VEILIGHEID,
    Part,
)
from gateway.domain.model.parts import (
    Actie,
    Adres,
    Afspraak,
    Contactpersoon,
    FeitOmschrijving,
    GeaccordeerdeInformatie,
    Gezagsdrager,
    Incident,
    Kernvragen,
    Kindcheck,
    OnveiligeSituatie,
    Persoon,
    Registratie,
    Risicotaxatie,
    StrafrechtelijkeStatus,
    Voorwaarde,
    Zaak,
)

__all__ = [
    "INHOUD_TYPES",
    "ActieoverlegAanmelding",
    "ActieoverlegBesluit",
    "Adviesaanvraag",
    "Inhoud",
    "OmBeslissing",
    "Reclasseringsadvies",
    "Terugkoppeling",
    "Veiligheidsafspraken",
    "Veiligheidsbeoordeling",
    "VerzoekTotOnderzoek",
    "VtMelding",
    "ZsmAanmelding",
]


class Inhoud(Part):
    """Base of every message body. ``berichttype`` names the catalogue entry it belongs to."""

    berichttype: ClassVar[BerichtType]


class VtMelding(Inhoud):
    """Politie → Veilig Thuis after an incident (pol:VTMelding, vt:melding)."""

    berichttype: ClassVar[BerichtType] = BerichtType.VT_MELDING
    registratie: Annotated[Registratie | None, PROCES] = None
    incident: Annotated[Incident | None, INCIDENT] = None
    personen: Annotated[list[Persoon], ID] = Field(default_factory=list)
    kindcheck: Annotated[Kindcheck | None, KIND] = None
    strafrechtelijk: Annotated[StrafrechtelijkeStatus | None, STRAF] = None
    risicotaxatie: Annotated[Risicotaxatie | None, VEILIGHEID] = None
    eerdere_incidenten: Annotated[int | None, INCIDENT] = None


class ZsmAanmelding(Inhoud):
    """Politie → OM (and VT, reclassering or RvdK) after an arrest."""

    berichttype: ClassVar[BerichtType] = BerichtType.ZSM_AANMELDING
    registratie: Annotated[Registratie | None, PROCES] = None
    incident: Annotated[Incident | None, INCIDENT] = None
    personen: Annotated[list[Persoon], ID] = Field(default_factory=list)
    zaak: Annotated[Zaak | None, STRAF] = None

    def verdachte(self) -> Persoon | None:
        """The (first) person with rol verdachte, or pleger when no verdachte is named."""
        for rol in (PersoonRol.VERDACHTE, PersoonRol.PLEGER):
            for persoon in self.personen:
                if persoon.rol is rol:
                    return persoon
        return None


class ActieoverlegAanmelding(Inhoud):
    """Politie or VT → all five: request for an Actieoverleg."""

    berichttype: ClassVar[BerichtType] = BerichtType.ACTIEOVERLEG_AANMELDING
    aanleiding: Annotated[str | None, INCIDENT] = None
    vraag: Annotated[str | None, PROCES] = None
    personen: Annotated[list[Persoon], ID] = Field(default_factory=list)
    adres: Annotated[Adres | None, CONTACT] = None
    eerdere_meldingen: Annotated[int | None, INCIDENT] = None
    gewenst: Annotated[dt.date | None, PROCES] = None


class Veiligheidsbeoordeling(Inhoud):
    """VT's safety assessment, to OM, RvdK or reclassering by its doel."""

    berichttype: ClassVar[BerichtType] = BerichtType.VEILIGHEIDSBEOORDELING
    deel_gezondheid_met_om: Annotated[bool | None, PROCES] = None
    dossier: Annotated[str | None, PROCES] = None
    melding_referentie: Annotated[str | None, PROCES] = None
    beoordeeld_op: Annotated[dt.date | None, PROCES] = None
    betrokkenen: Annotated[list[Persoon], ID] = Field(default_factory=list)
    veiligheidsschaal: Annotated[Veiligheidsschaal | None, VEILIGHEID] = None
    acuut_onveilig: Annotated[bool | None, VEILIGHEID] = None
    kernvragen: Kernvragen | None = None
    onveilige_situatie: Annotated[list[OnveiligeSituatie], VEILIGHEID] = Field(default_factory=list)
    gezinsprofiel: Annotated[Gezinsprofiel | None, GEZINSPROFIEL] = None
    risicofactor: Annotated[list[str], VEILIGHEID] = Field(default_factory=list)
    beschermende_factor: Annotated[list[str], VEILIGHEID] = Field(default_factory=list)
    veiligheidsvoorwaarde: Annotated[list[str], VEILIGHEID] = Field(default_factory=list)
    gezondheid: Annotated[str | None, GEZONDHEID] = None
    besluit: Annotated[VtBesluit | None, PROCES] = None
    casusregisseur: Annotated[Contactpersoon | None, HULP] = None


class Terugkoppeling(Inhoud):
    """VT → the melder (politie): what happened next, need-to-know only."""

    berichttype: ClassVar[BerichtType] = BerichtType.TERUGKOPPELING
    melding_referentie: Annotated[str | None, PROCES] = None
    dossier: Annotated[str | None, PROCES] = None
    ontvangen_op: Annotated[dt.date | None, PROCES] = None
    besluit: Annotated[VtBesluit | None, PROCES] = None
    casusregisseur: Annotated[Contactpersoon | None, HULP] = None
    veiligheidsafspraken_aanwezig: Annotated[bool | None, PROCES] = None
    # Free text about the family's cooperation is safety detail, not the melder's business.
    toelichting: Annotated[str | None, VEILIGHEID] = None


class Veiligheidsafspraken(Inhoud):
    """VT → politie: what the responding officer must know and do at this address."""

    berichttype: ClassVar[BerichtType] = BerichtType.VEILIGHEIDSAFSPRAKEN
    geldig_tot: Annotated[dt.date | None, VEILIGHEID] = None
    dossier: Annotated[str | None, PROCES] = None
    adres: Annotated[Adres | None, CONTACT] = None
    betrokkenen: Annotated[list[Persoon], ID] = Field(default_factory=list)
    afspraak: Annotated[list[Afspraak], VEILIGHEID] = Field(default_factory=list)
    bij_blijver: Annotated[Contactpersoon | None, VEILIGHEID] = None


class VerzoekTotOnderzoek(Inhoud):
    """VT → RvdK: request to investigate a child protection measure."""

    berichttype: ClassVar[BerichtType] = BerichtType.VERZOEK_TOT_ONDERZOEK
    spoed: Annotated[bool | None, PROCES] = None
    dossier: Annotated[str | None, PROCES] = None
    kind: Annotated[list[Persoon], ID, KIND] = Field(default_factory=list)
    gezagsdrager: Annotated[list[Gezagsdrager], ID] = Field(default_factory=list)
    zorgen: Annotated[str | None, KIND] = None
    ingezette_hulp: Annotated[str | None, HULP] = None
    geaccordeerde_informatie: Annotated[list[GeaccordeerdeInformatie], HULP] = Field(
        default_factory=list
    )
    contact: Annotated[Contactpersoon | None, PROCES] = None


class Adviesaanvraag(Inhoud):
    """OM → reclassering (adult) or RvdK (minor): request for advice."""

    berichttype: ClassVar[BerichtType] = BerichtType.ADVIESAANVRAAG
    parketnummer: Annotated[str | None, PROCES] = None
    verdachte: Annotated[Persoon | None, ID] = None
    feit: Annotated[list[FeitOmschrijving], STRAF] = Field(default_factory=list)
    hg_label: Annotated[bool | None, STRAF] = None
    vraag: Annotated[str | None, STRAF] = None
    uiterste_datum: Annotated[dt.datetime | None, PROCES] = None


class Reclasseringsadvies(Inhoud):
    """Reclassering (rc:Reclasseringsadvies) or RvdK (rvdk:Advies) → OM."""

    berichttype: ClassVar[BerichtType] = BerichtType.RECLASSERINGSADVIES
    parketnummer: Annotated[str | None, PROCES] = None
    verdachte: Annotated[Persoon | None, ID] = None
    advies: Annotated[AdviesSoort | None, STRAF] = None
    risico: Annotated[Risiconiveau | None, VEILIGHEID] = None
    bijzondere_voorwaarde: Annotated[list[str], STRAF] = Field(default_factory=list)
    lopende_hulp: Annotated[str | None, HULP] = None


class OmBeslissing(Inhoud):
    """OM's decision on a suspect → politie, VT, reclassering."""

    berichttype: ClassVar[BerichtType] = BerichtType.OM_BESLISSING
    parketnummer: Annotated[str | None, PROCES] = None
    verdachte: Annotated[Persoon | None, ID] = None
    uitkomst: Annotated[OmUitkomst | None, STRAF] = None
    voorwaarde: Annotated[list[Voorwaarde], STRAF] = Field(default_factory=list)
    termijn: Annotated[str | None, STRAF] = None
    genomen: Annotated[dt.datetime | None, PROCES] = None
    hg_label: Annotated[bool | None, STRAF] = None


class ActieoverlegBesluit(Inhoud):
    """OM (the officier chairs) → all five: what the Actieoverleg decided."""

    berichttype: ClassVar[BerichtType] = BerichtType.ACTIEOVERLEG_BESLUIT
    parketnummer: Annotated[str | None, PROCES] = None
    casus: Annotated[str | None, INCIDENT] = None
    actie: Annotated[list[Actie], VEILIGHEID] = Field(default_factory=list)
    casusregie: Annotated[Rol | None, HULP] = None
    monitoring: Annotated[str | None, PROCES] = None


INHOUD_TYPES: dict[BerichtType, type[Inhoud]] = {
    cls.berichttype: cls
    for cls in (
        VtMelding,
        ZsmAanmelding,
        ActieoverlegAanmelding,
        Veiligheidsbeoordeling,
        Terugkoppeling,
        Veiligheidsafspraken,
        VerzoekTotOnderzoek,
        Adviesaanvraag,
        Reclasseringsadvies,
        OmBeslissing,
        ActieoverlegBesluit,
    )
}
