"""The protocol's own code lists (foutcode, prioriteit, the technical messages) and the names
of the catalogue's kinds of value (rol, doel, BerichtType), which are data."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DOOR_CODES",
    "KETENPOORT",
    "KETENPOORT_NAAM",
    "TECHNISCH",
    "BerichtType",
    "Doel",
    "Foutcode",
    "Prioriteit",
    "Rol",
    "TechnischType",
    "is_technisch",
]


# The catalogue's names are data (policy ``catalogus.yaml``, ``doelen.yaml``, ``typen.yaml``):
# no code names a rol, a doel or a BerichtType of the catalogue. These aliases only say what a
# string holds; the policy check at start says which values exist.
Rol = str  # a partner rol of the register (spec §1, v2 §2)
Doel = str  # a doel (spec §3, v2 §3)
BerichtType = str  # a BerichtType of the catalogue, or one of the technical messages below

# The gateway itself, as the Afzender of its own answers (never a partner's rol), and its name
# where a privacy officer reads who sent what (the AfsprakenSignaal is the gateway's own).
KETENPOORT = "ketenpoort"
KETENPOORT_NAAM = "Ketenpoort"


class TechnischType(StrEnum):
    """The technical messages of the protocol (spec §2): the gateway's answers, the
    recipients' receipts and the status pair. These are the envelope's machinery, not the
    catalogue's: the same in every deployment."""

    ONTVANGSTBEVESTIGING = "Ontvangstbevestiging"
    FOUTBERICHT = "Foutbericht"
    AFLEVERBEVESTIGING = "Afleverbevestiging"
    STATUSVRAAG = "Statusvraag"
    STATUSANTWOORD = "Statusantwoord"
    # the gateway tells a responder that valid afspraken exist (v2 §7), never their content
    AFSPRAKENSIGNAAL = "AfsprakenSignaal"


TECHNISCH = frozenset(t.value for t in TechnischType)


def is_technisch(berichttype: str) -> bool:
    """True for the gateway's own answers, the recipients' receipts and the status pair."""
    return berichttype in TECHNISCH


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
    # v2 §11: an afspraken versie not higher than the last accepted one for its reeks, a
    # withdrawal of an unknown reeks, or a versie from another partner than the holder
    VERSIE_ONGELDIG = "VERSIE_ONGELDIG"
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
