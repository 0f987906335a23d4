"""The seed scenarios of ``ketenpoort demo``, as data: the partners that take part and, per
scenario, the messages they send (an example from ``examples/``, edited where the scenario
needs it). The player is :mod:`gateway.tools.demo`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NAME_OF", "PARTNERS", "SCENARIOS", "Scenario", "Step"]

PARTNERS = {
    "politie": "00000099000000000101",
    "vt-twente": "00000099000000000102",
    "om": "00000099000000000103",
    "rvdk": "00000099000000000104",
    "reclassering": "00000099000000000105",
    "vt-rijnmond": "00000099000000000106",
}
NAME_OF = {oin: name for name, oin in PARTNERS.items()}


@dataclass(frozen=True)
class Step:
    """One message a partner sends: an example, changed by ``edits`` (regex, replacement)."""

    titel: str
    afzender: str  # a key of PARTNERS
    example: str
    edits: tuple[tuple[str, str], ...] = ()
    ontvangers: tuple[str, ...] = ()  # names the Kop narrows the routing to
    herhaal: str | None = None  # send the exact bytes of this earlier step again


@dataclass(frozen=True)
class Scenario:
    key: str
    titel: str
    stappen: tuple[Step, ...]


def _doel(doel: str, grondslag: str) -> tuple[tuple[str, str], ...]:
    return (
        (r"<kp:Doel>[^<]+</kp:Doel>", f"<kp:Doel>{doel}</kp:Doel>"),
        (r"<kp:Grondslag>[^<]+</kp:Grondslag>", f"<kp:Grondslag>{grondslag}</kp:Grondslag>"),
    )


SCENARIOS = (
    Scenario(
        "hg-melding",
        "Nachtelijk HG-incident: VT-melding, veiligheidsbeoordeling, terugkoppeling",
        (
            Step("politie meldt het incident bij Veilig Thuis", "politie", "politie/VtMelding.xml"),
            Step(
                "VT beoordeelt de veiligheid (veiligheidsschaal, vijf kernvragen) voor het OM",
                "vt-twente",
                "veilig-thuis/Veiligheidsbeoordeling.xml",
            ),
            Step(
                "VT koppelt terug aan de melder (need-to-know)",
                "vt-twente",
                "veilig-thuis/Terugkoppeling.xml",
            ),
        ),
    ),
    Scenario(
        "zsm",
        "HG door VT & ZSM: aangehouden verdachte, advies, beslissing",
        (
            Step(
                "politie meldt de verdachte aan bij ZSM (HG-label)",
                "politie",
                "politie/ZsmAanmelding.xml",
            ),
            Step(
                "reclassering adviseert het OM",
                "reclassering",
                "reclassering/Reclasseringsadvies.xml",
            ),
            Step(
                "OM beslist: heenzenden met voorwaarden (contactverbod)",
                "om",
                "openbaar-ministerie/OmBeslissing.xml",
            ),
        ),
    ),
    Scenario(
        "actieoverleg",
        "Actieoverleg ex-partnerstalking: aanmelding en besluit naar alle vijf",
        (
            Step(
                "politie meldt de casus aan voor het Actieoverleg",
                "politie",
                "politie/ActieoverlegAanmelding.xml",
            ),
            Step(
                "de officier legt het besluit van het Actieoverleg vast",
                "om",
                "openbaar-ministerie/ActieoverlegBesluit.xml",
            ),
        ),
    ),
    Scenario(
        "kindermishandeling",
        "Strafbare kindermishandeling, gemeld door school via VT: naar politie en RvdK",
        (
            Step(
                "VT brengt de melding van school bij politie en RvdK",
                "vt-twente",
                "veilig-thuis/ActieoverlegAanmelding.xml",
                edits=(
                    (
                        r"<vt:aanleiding>[^<]+</vt:aanleiding>",
                        "<vt:aanleiding>School meldt blauwe plekken bij Jan; Jan vertelt dat "
                        "vader hem slaat. Vermoeden van strafbare kindermishandeling."
                        "</vt:aanleiding>",
                    ),
                ),
                ontvangers=("politie", "rvdk"),
            ),
        ),
    ),
    Scenario(
        "acuut",
        "Structureel → acuut: veiligheidsafspraken, later een nachtelijke melding",
        (
            Step(
                "VT deelt de veiligheidsafspraken met de politie",
                "vt-twente",
                "veilig-thuis/Veiligheidsafspraken.xml",
            ),
            Step(
                "weken later: nieuwe nachtelijke melding op hetzelfde adres",
                "politie",
                "politie/VtMelding.xml",
                edits=(
                    (r"PL0900-2026112012345", "PL0900-2027011500017"),
                    (r"2026-11-20T22:40:00\+01:00", "2027-01-15T02:10:00+01:00"),
                ),
            ),
        ),
    ),
    Scenario(
        "verzoek-rvdk",
        "VT → RvdK: verzoek tot onderzoek met geaccordeerde informatie",
        (
            Step(
                "VT vraagt de Raad om onderzoek",
                "vt-twente",
                "veilig-thuis/VerzoekTotOnderzoek.xml",
            ),
        ),
    ),
    Scenario(
        "geweigerd-en-dubbel",
        "Een geweigerd bericht en een dubbel",
        (
            Step(
                "politie stuurt een VT-melding met een doel dat de policy niet toestaat",
                "politie",
                "politie/VtMelding.xml",
                edits=_doel("STRAFRECHTELIJKE_BESLISSING", "WPG-ART-19"),
            ),
            Step(
                "politie beroept zich op het meldrecht naar VT (WMO2015-ART-5.2.6): dat is niet "
                "haar grondslag",
                "politie",
                "politie/VtMelding.xml",
                edits=_doel("VEILIGHEIDSBEOORDELING", "WMO2015-ART-5.2.6"),
            ),
            Step(
                "politie stuurt dezelfde melding nog eens (zelfde BerichtId, zelfde inhoud)",
                "politie",
                "politie/VtMelding.xml",
                herhaal="hg-melding/0",
            ),
        ),
    ),
)
