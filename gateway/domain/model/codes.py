"""The canonical model's code lists: the spec's enumerations (rol, berichttype, doel,
foutcode, need-to-know categorie, and the values of the body fields)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DOOR_CODES",
    "KETENPOORT",
    "Aard",
    "AdviesSoort",
    "BerichtType",
    "Categorie",
    "Doel",
    "Feit",
    "Foutcode",
    "Geslacht",
    "Geweldsvorm",
    "Gezinsprofiel",
    "Instrument",
    "Middel",
    "OmUitkomst",
    "PersoonRol",
    "Prioriteit",
    "Relatie",
    "Risiconiveau",
    "Rol",
    "Veiligheidsschaal",
    "VoorwaardeSoort",
    "VtBesluit",
]


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
    STATUSVRAAG = "Statusvraag"
    STATUSANTWOORD = "Statusantwoord"

    @property
    def technisch(self) -> bool:
        """True for the gateway's own answers, the recipients' receipts and the status pair."""
        return self in _TECHNISCH


_TECHNISCH = frozenset(
    {
        BerichtType.ONTVANGSTBEVESTIGING,
        BerichtType.FOUTBERICHT,
        BerichtType.AFLEVERBEVESTIGING,
        BerichtType.STATUSVRAAG,
        BerichtType.STATUSANTWOORD,
    }
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
