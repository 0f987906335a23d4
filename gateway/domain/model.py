"""The canonical model of Ketenpoort: one typed model for the envelope and every BerichtType.

Every partner format is translated to and from this model by an adapter. The model imports
nothing of the project (only pydantic and the standard library), so policy, pipeline, audit
and adapters can all depend on it.

Need-to-know: every body field carries its categories (spec §7) as ``Annotated`` metadata
(:class:`Cat`). A field's *effective* categories are its own plus those of every model field
that contains it; a recipient receives a field only when all of its effective categories are
granted. A list item may add categories from its content through ``extra_categorieen`` (a
person whose rol is ``kind`` is data about a minor, so it also needs ``kind``). The filter in
``gateway.decision.needtoknow`` walks these annotations; it has no code per BerichtType.

Body fields are optional in the canonical model: which ones a sender must fill is the
sender's XSD's business (``schemas/v1``); what a recipient receives depends on its grants.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class Categorie(StrEnum):
    """Need-to-know categories (spec §7)."""

    IDENTIFICATIE = "identificatie"
    CONTACT = "contact"
    INCIDENT = "incident"
    STRAFRECHTELIJK = "strafrechtelijk"
    VEILIGHEID = "veiligheid"
    GEZINSPROFIEL = "gezinsprofiel"
    GEZONDHEID = "gezondheid"
    HULPVERLENING = "hulpverlening"
    KIND = "kind"
    PROCES = "proces"


class Cat:
    """Annotated marker: the need-to-know categories of one field."""

    __slots__ = ("categorieen",)

    def __init__(self, *categorieen: Categorie) -> None:
        self.categorieen = frozenset(categorieen)

    def __repr__(self) -> str:
        return f"Cat({', '.join(sorted(self.categorieen))})"


ID = Cat(Categorie.IDENTIFICATIE)
CONTACT = Cat(Categorie.CONTACT)
INCIDENT = Cat(Categorie.INCIDENT)
STRAF = Cat(Categorie.STRAFRECHTELIJK)
VEILIGHEID = Cat(Categorie.VEILIGHEID)
GEZINSPROFIEL = Cat(Categorie.GEZINSPROFIEL)
GEZONDHEID = Cat(Categorie.GEZONDHEID)
HULP = Cat(Categorie.HULPVERLENING)
KIND = Cat(Categorie.KIND)
PROCES = Cat(Categorie.PROCES)


# --------------------------------------------------------------------------- code lists


class Rol(StrEnum):
    """The rol of a partner organisation (spec §1)."""

    POLITIE = "politie"
    VEILIG_THUIS = "veilig-thuis"
    OPENBAAR_MINISTERIE = "openbaar-ministerie"
    RAAD_KINDERBESCHERMING = "raad-kinderbescherming"
    RECLASSERING = "reclassering"


# The gateway itself, as the Afzender of its own answers (never a partner's rol).
KETENPOORT = "ketenpoort"


class BerichtType(StrEnum):
    """The message catalogue (spec §4) plus the three technical messages (spec §2)."""

    VT_MELDING = "VtMelding"
    VEILIGHEIDSBEOORDELING = "Veiligheidsbeoordeling"
    TERUGKOPPELING = "Terugkoppeling"
    VEILIGHEIDSAFSPRAKEN = "Veiligheidsafspraken"
    ZSM_AANMELDING = "ZsmAanmelding"
    ADVIESAANVRAAG = "Adviesaanvraag"
    RECLASSERINGSADVIES = "Reclasseringsadvies"
    OM_BESLISSING = "OmBeslissing"
    VERZOEK_TOT_ONDERZOEK = "VerzoekTotOnderzoek"
    ACTIEOVERLEG_AANMELDING = "ActieoverlegAanmelding"
    ACTIEOVERLEG_BESLUIT = "ActieoverlegBesluit"
    ONTVANGSTBEVESTIGING = "Ontvangstbevestiging"
    FOUTBERICHT = "Foutbericht"
    AFLEVERBEVESTIGING = "Afleverbevestiging"

    @property
    def technisch(self) -> bool:
        """True for the gateway's own answers and the recipients' receipts."""
        return self in _TECHNISCH


_TECHNISCH = frozenset(
    {BerichtType.ONTVANGSTBEVESTIGING, BerichtType.FOUTBERICHT, BerichtType.AFLEVERBEVESTIGING}
)


class Doel(StrEnum):
    """Doelen (spec §3)."""

    VEILIGHEIDSBEOORDELING = "VEILIGHEIDSBEOORDELING"
    ACUTE_VEILIGHEID = "ACUTE_VEILIGHEID"
    TERUGKOPPELING_MELDER = "TERUGKOPPELING_MELDER"
    STRAFRECHTELIJKE_BESLISSING = "STRAFRECHTELIJKE_BESLISSING"
    RECLASSERINGSADVIES = "RECLASSERINGSADVIES"
    ONDERZOEK_KINDERBESCHERMING = "ONDERZOEK_KINDERBESCHERMING"
    ACTIEOVERLEG = "ACTIEOVERLEG"


class Foutcode(StrEnum):
    """Foutbericht codes (spec §6)."""

    XML_ONGELDIG = "XML_ONGELDIG"
    SCHEMA_ONGELDIG = "SCHEMA_ONGELDIG"
    TE_GROOT = "TE_GROOT"
    ONBEKEND_BERICHTTYPE = "ONBEKEND_BERICHTTYPE"
    AFZENDER_ONJUIST = "AFZENDER_ONJUIST"
    AFZENDER_NIET_GEAUTORISEERD = "AFZENDER_NIET_GEAUTORISEERD"
    DOEL_NIET_TOEGESTAAN = "DOEL_NIET_TOEGESTAAN"
    GRONDSLAG_ONTBREEKT = "GRONDSLAG_ONTBREEKT"
    ONTVANGER_NIET_TOEGESTAAN = "ONTVANGER_NIET_TOEGESTAAN"
    GEEN_ONTVANGER = "GEEN_ONTVANGER"
    BSN_ONGELDIG = "BSN_ONGELDIG"
    DUBBEL_BERICHT = "DUBBEL_BERICHT"
    NIET_AFLEVERBAAR = "NIET_AFLEVERBAAR"
    # The HTTPS door's refusals of a request (not of a message): no code of spec §6 fits, so
    # these are the door's own (README, "One error format"). Never sent over AMQP.
    CERTIFICAAT_ONTBREEKT = "CERTIFICAAT_ONTBREEKT"  # 401: no client certificate
    TOEGANG_GEWEIGERD = "TOEGANG_GEWEIGERD"  # 403: not a registered partner, or not here
    NIET_GEVONDEN = "NIET_GEVONDEN"  # 404: no such message (for this caller) or path
    METHODE_NIET_TOEGESTAAN = "METHODE_NIET_TOEGESTAAN"  # 405
    VERZOEK_ONGELDIG = "VERZOEK_ONGELDIG"  # 400: a malformed path or query parameter
    TE_VEEL_VERZOEKEN = "TE_VEEL_VERZOEKEN"  # 429: the partner's rate limit
    TIJDELIJK_NIET_BESCHIKBAAR = "TIJDELIJK_NIET_BESCHIKBAAR"  # 503: broker or audit store


# Foutcodes of the HTTPS door about a request, never about a message (see Foutcode).
DOOR_CODES = frozenset(
    {
        Foutcode.CERTIFICAAT_ONTBREEKT,
        Foutcode.TOEGANG_GEWEIGERD,
        Foutcode.NIET_GEVONDEN,
        Foutcode.METHODE_NIET_TOEGESTAAN,
        Foutcode.VERZOEK_ONGELDIG,
        Foutcode.TE_VEEL_VERZOEKEN,
        Foutcode.TIJDELIJK_NIET_BESCHIKBAAR,
    }
)


class Prioriteit(StrEnum):
    NORMAAL = "normaal"
    SPOED = "spoed"


class Aard(StrEnum):
    """Nature of the incident (politie ``Aard``)."""

    HUISELIJK_GEWELD = "huiselijk-geweld"
    KINDERMISHANDELING = "kindermishandeling"
    EX_PARTNERSTALKING = "ex-partnerstalking"
    OUDERENMISHANDELING = "ouderenmishandeling"
    EERGERELATEERD_GEWELD = "eergerelateerd-geweld"


class Geweldsvorm(StrEnum):
    FYSIEK = "fysiek"
    PSYCHISCH = "psychisch"
    SEKSUEEL = "seksueel"
    VERWAARLOZING = "verwaarlozing"
    FINANCIEEL = "financieel"


class Middel(StrEnum):
    ALCOHOL = "alcohol"
    DRUGS = "drugs"


class PersoonRol(StrEnum):
    """The rol of a person in a message. Politie sends the first six, VT the ones it names."""

    SLACHTOFFER = "slachtoffer"
    VERDACHTE = "verdachte"
    PLEGER = "pleger"
    KIND = "kind"
    GETUIGE = "getuige"
    MELDER = "melder"
    OUDER = "ouder"
    OVERIG = "overig"


class Geslacht(StrEnum):
    MAN = "m"
    VROUW = "v"
    X = "x"
    ONBEKEND = "o"


class Relatie(StrEnum):
    PARTNER = "partner"
    EX_PARTNER = "ex-partner"
    OUDER = "ouder"
    KIND = "kind"
    FAMILIE = "familie"
    OVERIG = "overig"


class Instrument(StrEnum):
    RIHG = "rihg"
    SASH = "sash"
    B_SAFER = "b-safer"


class Risiconiveau(StrEnum):
    """Risk level: politie LAAG|MIDDEN|HOOG, reclassering LAAG|GEMIDDELD|HOOG (RISc)."""

    LAAG = "laag"
    MIDDEN = "midden"
    GEMIDDELD = "gemiddeld"
    HOOG = "hoog"


class Feit(StrEnum):
    MISHANDELING = "mishandeling"
    BEDREIGING = "bedreiging"
    STALKING = "stalking"
    VERNIELING = "vernieling"
    BRANDSTICHTING = "brandstichting"
    WEDERSPANNIGHEID = "wederspannigheid"
    OVERIG = "overig"


class Veiligheidsschaal(StrEnum):
    S0 = "0"
    S1 = "1"
    S2 = "2"
    S3 = "3"
    S4 = "4"
    S5 = "5"
    S6 = "6"
    S7 = "7"
    S7_PLUS = "7+"


class Gezinsprofiel(StrEnum):
    INTIEM_TERREUR = "intiem-terreur"
    GEZIN_IN_STRESS = "gezin-in-stress"
    KINDGEDRAG_OPVOEDSTRESS = "kindgedrag-opvoedstress"
    LANGDURIGE_ZORG = "langdurige-zorg"
    COMPLEXE_SCHEIDING = "complexe-scheiding"


class VtBesluit(StrEnum):
    OVERDRACHT_LOKAAL_VELD = "overdracht-lokaal-veld"
    VOORWAARDEN_EN_VERVOLG = "voorwaarden-en-vervolg"
    ONDERZOEK = "onderzoek"
    VERZOEK_RVDK = "verzoek-rvdk"
    AFSLUITEN = "afsluiten"


class OmUitkomst(StrEnum):
    HEENZENDEN = "heenzenden"
    HEENZENDEN_MET_VOORWAARDEN = "heenzenden-met-voorwaarden"
    VOORGELEIDEN = "voorgeleiden"
    DAGVAARDEN = "dagvaarden"
    STRAFBESCHIKKING = "strafbeschikking"
    SEPOT = "sepot"
    AANHOUDEN = "aanhouden"


class VoorwaardeSoort(StrEnum):
    CONTACTVERBOD = "contactverbod"
    LOCATIEVERBOD = "locatieverbod"
    MELDPLICHT = "meldplicht"
    BEHANDELING = "behandeling"
    OVERIG = "overig"


class AdviesSoort(StrEnum):
    SEPOT = "sepot"
    VOORWAARDELIJK = "voorwaardelijk"
    TAAKSTRAF = "taakstraf"
    BEHANDELING = "behandeling"
    GEEN_ADVIES = "geen-advies"


# --------------------------------------------------------------------------- shared parts


class Part(BaseModel):
    """Base of every canonical model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def extra_categorieen(self) -> frozenset[Categorie]:
        """Categories this item needs on top of its field's (content-dependent)."""
        return frozenset()


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


# --------------------------------------------------------------------------- message bodies


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


# --------------------------------------------------------------------------- technical bodies


class Partij(Part):
    """A party in the envelope: OIN and rol (``ketenpoort`` for the gateway's answers)."""

    oin: str
    rol: Rol | Literal["ketenpoort"]


class Ontvangstbevestiging(Part):
    """Gateway → sender: accepted, and routed to these recipients."""

    ontvangers: list[Partij] = Field(default_factory=list)
    uiterste_beslismoment: dt.datetime | None = None


class Foutbericht(Part):
    """Gateway → sender: refused, with a code from spec §6 and where and why."""

    code: Foutcode
    reden: str
    element: str | None = None
    regel: int | None = None


class Afleverbevestiging(Part):
    """Recipient → gateway: the message named in InAntwoordOp was received."""

    ontvangen: dt.datetime | None = None


TechnischeInhoud = Ontvangstbevestiging | Foutbericht | Afleverbevestiging


# --------------------------------------------------------------------------- envelope


class Doelbinding(Part):
    doel: Doel
    grondslagen: tuple[str, ...]


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
    inhoud: Inhoud | Ontvangstbevestiging | Foutbericht | Afleverbevestiging

    def categorieen_van(self) -> frozenset[Categorie]:
        """Every category that occurs in the body (the filled fields'), for the audit trail."""
        return frozenset(categorieen_in(self.inhoud))


def field_categorieen(model: type[BaseModel], name: str) -> frozenset[Categorie]:
    """The categories a model field declares itself (not its ancestors')."""
    cats: set[Categorie] = set()
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, Cat):
            cats |= meta.categorieen
    return frozenset(cats)


def is_empty(value: Any) -> bool:
    """None, an empty list, or a part none of whose fields is filled."""
    if value is None:
        return True
    if isinstance(value, list | tuple):
        return all(is_empty(v) for v in value)
    if isinstance(value, BaseModel):
        return all(is_empty(getattr(value, name)) for name in type(value).model_fields)
    return False


def categorieen_in(
    part: BaseModel, inherited: frozenset[Categorie] = frozenset()
) -> set[Categorie]:
    """All effective categories of the filled fields below ``part``."""
    found: set[Categorie] = set()
    for name in type(part).model_fields:
        value = getattr(part, name)
        if is_empty(value):
            continue
        cats = inherited | field_categorieen(type(part), name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Part):
                item_cats = cats | item.extra_categorieen()
                found |= item_cats
                found |= categorieen_in(item, item_cats)
            else:
                found |= cats
    return found


def part_type(model: type[BaseModel], name: str) -> type[Part] | None:
    """The Part class behind ``X | None`` or ``list[X]`` of one model field (None for values)."""
    stack: list[Any] = [model.model_fields[name].annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, Part):
            return current
        if isinstance(current, types.UnionType) or typing.get_origin(current) is not None:
            stack.extend(typing.get_args(current))
    return None
