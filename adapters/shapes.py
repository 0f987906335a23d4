"""The shape of every BerichtType's body, taken from the sender's native format (spec §8).

Order, cardinality and value kinds here are the contract: the XSDs in ``schemas/v1`` are
generated from them (``ketenpoort schemas write``), and a test checks that the committed
XSDs are what these shapes produce.
"""

from __future__ import annotations

from adapters.shape import Kind, Shape, code, group, leaf
from gateway.domain.model import Aard as AardCodes
from gateway.domain.model import (
    AdviesSoort,
    Instrument,
    OmUitkomst,
    Risiconiveau,
    Rol,
    VoorwaardeSoort,
    VtBesluit,
)
from gateway.domain.model import BerichtType as T
from gateway.domain.model import Feit as FeitCodes
from gateway.domain.model import Geslacht as GeslachtCodes
from gateway.domain.model import Geweldsvorm as GeweldsvormCodes
from gateway.domain.model import Gezinsprofiel as GezinsprofielCodes
from gateway.domain.model import Middel as MiddelCodes
from gateway.domain.model import PersoonRol as P
from gateway.domain.model import Relatie as RelatieCodes
from gateway.domain.model import Veiligheidsschaal as SchaalCodes

# --------------------------------------------------------------------------- shared blocks

ADRES = group(
    "adres",
    leaf("straat", Kind.KORT),
    leaf("huisnummer", Kind.KORT),
    leaf("postcode", Kind.POSTCODE),
    leaf("plaats", Kind.KORT),
)

REGISTRATIE = group(
    "registratie",
    leaf("registratienummer", Kind.KORT),
    leaf("eenheid", Kind.KORT),
    leaf("opgemaakt", Kind.TIJDSTIP),
    group("verbalisant", leaf("naam", Kind.KORT), leaf("telefoon", Kind.TELEFOON)),
)

INCIDENT = group(
    "incident",
    leaf("tijdstip", Kind.TIJDSTIP),
    ADRES,
    code("aard", AardCodes),
    code("geweldsvorm", GeweldsvormCodes, max=None),
    leaf("omschrijving", Kind.TEKST),
    leaf("wapens", Kind.JANEE),
    code("middelen", MiddelCodes, min=0, max=None),
    leaf("letsel", Kind.TEKST, min=0),
)

POLITIE_ROLLEN = {P.SLACHTOFFER, P.VERDACHTE, P.PLEGER, P.KIND, P.GETUIGE, P.MELDER}
VT_ROLLEN = {P.SLACHTOFFER, P.PLEGER, P.KIND, P.OUDER, P.OVERIG}

PERSONEN = group(
    "personen",
    code("rol", P, attr=True, allowed=POLITIE_ROLLEN),
    leaf("ref", Kind.REF, attr=True),
    leaf("bsn", Kind.BSN, min=0, ident=True),
    leaf("voornamen", Kind.KORT),
    leaf("achternaam", Kind.KORT),
    leaf("geboortedatum", Kind.DATUM),
    code("geslacht", GeslachtCodes),
    code("relatie_tot_slachtoffer", RelatieCodes, min=0),
    max=None,
    item="persoon",
    wrapper=True,
)

BETROKKENEN = group(
    "betrokkenen",
    leaf("ref", Kind.REF, attr=True),
    code("rol", P, attr=True, allowed=VT_ROLLEN),
    leaf("bsn", Kind.BSN, min=0, ident=True),
    leaf("naam", Kind.KORT),
    leaf("geboortedatum", Kind.DATUM),
    max=None,
    item="betrokkene",
    wrapper=True,
)

CASUSREGISSEUR_VELDEN = (
    leaf("naam", Kind.KORT),
    leaf("organisatie", Kind.KORT),
    leaf("telefoon", Kind.TELEFOON),
)


def verdachte() -> tuple[object, ...]:
    """The parketnummer and the verdachte, as OM and reclassering messages start."""
    return (
        leaf("parketnummer", Kind.PARKETNUMMER, ident=True),
        group(
            "verdachte",
            leaf("bsn", Kind.BSN, ident=True),
            leaf("naam", Kind.KORT),
            leaf("geboortedatum", Kind.DATUM),
        ),
    )


# --------------------------------------------------------------------------- the catalogue

SHAPES: dict[T, Shape] = {
    s.berichttype: s
    for s in (
        Shape(
            T.VT_MELDING,
            (
                REGISTRATIE,
                INCIDENT,
                PERSONEN,
                group(
                    "kindcheck",
                    leaf("kinderen_in_huishouden", Kind.JANEE),
                    leaf("kinderen_aanwezig_bij_incident", Kind.JANEE),
                ),
                group(
                    "strafrechtelijk",
                    leaf("strafbaar_feit_vermoed", Kind.JANEE),
                    leaf("aangifte_gedaan", Kind.JANEE),
                    leaf("aangehouden", Kind.JANEE),
                    leaf("tijdelijk_huisverbod", Kind.JANEE),
                ),
                group(
                    "risicotaxatie",
                    code("instrument", Instrument, attr=True),
                    code(
                        "uitkomst",
                        Risiconiveau,
                        allowed={Risiconiveau.LAAG, Risiconiveau.MIDDEN, Risiconiveau.HOOG},
                    ),
                    min=0,
                ),
                leaf("eerdere_incidenten", Kind.AANTAL),
            ),
        ),
        Shape(
            T.ZSM_AANMELDING,
            (
                REGISTRATIE,
                INCIDENT,
                PERSONEN,
                group(
                    "zaak",
                    leaf("proces_verbaalnummer", Kind.KORT),
                    code("feit", FeitCodes, max=None),
                    leaf("aanhouding", Kind.TIJDSTIP),
                    leaf("hg_label", Kind.JANEE),
                ),
            ),
        ),
        Shape(
            T.ACTIEOVERLEG_AANMELDING,
            (
                leaf("aanleiding", Kind.TEKST),
                leaf("vraag", Kind.TEKST),
                PERSONEN,
                ADRES,
                leaf("eerdere_meldingen", Kind.AANTAL),
                leaf("gewenst", Kind.DATUM),
            ),
        ),
        Shape(
            T.VEILIGHEIDSBEOORDELING,
            (
                leaf("deel_gezondheid_met_om", Kind.JANEE, attr=True, min=0),
                leaf("dossier", Kind.KORT),
                leaf("melding_referentie", Kind.KORT, min=0),
                leaf("beoordeeld_op", Kind.DATUM),
                BETROKKENEN,
                code("veiligheidsschaal", SchaalCodes, styled=False),
                leaf("acuut_onveilig", Kind.JANEE),
                group(
                    "kernvragen",
                    leaf("wat_is_er_gebeurd", Kind.TEKST),
                    leaf("wat_is_er_bekend", Kind.TEKST),
                    leaf("is_het_nu_veilig", Kind.TEKST),
                    leaf("wat_moet_er_nu_gebeuren", Kind.TEKST),
                    leaf("wie_zijn_betrokken", Kind.TEKST),
                ),
                group(
                    "onveilige_situatie",
                    leaf("betrokkene", Kind.REF, attr=True),
                    leaf("omschrijving", Kind.TEKST, text=True),
                    max=None,
                ),
                code("gezinsprofiel", GezinsprofielCodes, min=0),
                leaf("risicofactor", Kind.TEKST, min=0, max=None),
                leaf("beschermende_factor", Kind.TEKST, min=0, max=None),
                leaf("veiligheidsvoorwaarde", Kind.TEKST, min=0, max=5),
                leaf("gezondheid", Kind.TEKST, min=0),
                code("besluit", VtBesluit),
                group("casusregisseur", *CASUSREGISSEUR_VELDEN, min=0),
            ),
        ),
        Shape(
            T.TERUGKOPPELING,
            (
                leaf("melding_referentie", Kind.KORT),
                leaf("dossier", Kind.KORT),
                leaf("ontvangen_op", Kind.DATUM),
                code("besluit", VtBesluit),
                group("casusregisseur", *CASUSREGISSEUR_VELDEN, min=0),
                leaf("veiligheidsafspraken_aanwezig", Kind.JANEE),
                leaf("toelichting", Kind.TEKST, min=0),
            ),
        ),
        Shape(
            T.VEILIGHEIDSAFSPRAKEN,
            (
                leaf("geldig_tot", Kind.DATUM, attr=True),
                leaf("dossier", Kind.KORT),
                ADRES,
                BETROKKENEN,
                group(
                    "afspraak",
                    leaf("situatie", Kind.TEKST),
                    leaf("handeling", Kind.TEKST),
                    leaf("telefoon", Kind.TELEFOON, min=0),
                    max=None,
                ),
                group("bij_blijver", *CASUSREGISSEUR_VELDEN),
            ),
        ),
        Shape(
            T.VERZOEK_TOT_ONDERZOEK,
            (
                leaf("spoed", Kind.JANEE, attr=True),
                leaf("dossier", Kind.KORT),
                group(
                    "kind",
                    leaf("bsn", Kind.BSN, min=0, ident=True),
                    leaf("naam", Kind.KORT),
                    leaf("geboortedatum", Kind.DATUM),
                    max=None,
                ),
                group(
                    "gezagsdrager",
                    leaf("naam", Kind.KORT),
                    leaf("geinformeerd", Kind.JANEE),
                    leaf("reden_niet_geinformeerd", Kind.TEKST, min=0),
                    max=None,
                ),
                leaf("zorgen", Kind.TEKST),
                leaf("ingezette_hulp", Kind.TEKST),
                group(
                    "geaccordeerde_informatie",
                    leaf("bron", Kind.KORT, attr=True),
                    leaf("datum", Kind.DATUM, attr=True),
                    leaf("geaccordeerd", Kind.JANEE, attr=True),
                    leaf("inhoud", Kind.TEKST, text=True),
                    min=0,
                    max=None,
                ),
                group("contact", leaf("naam", Kind.KORT), leaf("telefoon", Kind.TELEFOON)),
            ),
        ),
        Shape(
            T.ADVIESAANVRAAG,
            (
                *verdachte(),  # type: ignore[arg-type]
                group(
                    "feit",
                    code("code", FeitCodes, attr=True),
                    leaf("omschrijving", Kind.TEKST, text=True),
                    max=None,
                ),
                leaf("hg_label", Kind.JANEE),
                leaf("vraag", Kind.TEKST),
                leaf("uiterste_datum", Kind.TIJDSTIP),
            ),
        ),
        Shape(
            T.RECLASSERINGSADVIES,
            (
                *verdachte(),  # type: ignore[arg-type]
                code("advies", AdviesSoort),
                code(
                    "risico",
                    Risiconiveau,
                    allowed={Risiconiveau.LAAG, Risiconiveau.GEMIDDELD, Risiconiveau.HOOG},
                ),
                leaf("bijzondere_voorwaarde", Kind.TEKST, min=0, max=None),
                leaf("lopende_hulp", Kind.TEKST, min=0),
            ),
        ),
        Shape(
            T.OM_BESLISSING,
            (
                *verdachte(),  # type: ignore[arg-type]
                code("uitkomst", OmUitkomst),
                group(
                    "voorwaarde",
                    code("soort", VoorwaardeSoort, attr=True),
                    leaf("persoon", Kind.KORT, attr=True, min=0),
                    leaf("omschrijving", Kind.TEKST, text=True),
                    min=0,
                    max=None,
                ),
                leaf("termijn", Kind.DUUR, min=0),
                leaf("genomen", Kind.TIJDSTIP),
                leaf("hg_label", Kind.JANEE, min=0),  # v2 §5: the casus is HG (routing)
            ),
        ),
        Shape(
            T.ACTIEOVERLEG_BESLUIT,
            (
                leaf("parketnummer", Kind.PARKETNUMMER, ident=True, min=0),
                leaf("casus", Kind.TEKST),
                group(
                    "actie",
                    code("wie", Rol, attr=True, styled=False),
                    leaf("omschrijving", Kind.TEKST, text=True),
                    max=None,
                ),
                code("casusregie", Rol, styled=False),
                leaf("monitoring", Kind.TEKST),
            ),
        ),
    )
}
