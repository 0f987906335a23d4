"""Afscherming, niet-delen-met and people without a BSN (spec v2 §8). Pure: no I/O.

- **Who a message is about.** Every block of a canonical body with a ``bsn`` or a
  ``persoonsnummer`` field is a person (:class:`Persoon`). A person without a BSN (a child not
  yet registered, someone without papers) must carry a stable ``persoonsnummer`` of the
  sender's own system: :func:`check_personen` refuses one with neither (SCHEMA_ONGELDIG
  naming ``persoonsnummer``). The audit's data subject is the keyed pseudonym of the BSN, or
  of (sender OIN, persoonsnummer) (:func:`onderwerp`): a persoonsnummer means something only
  in its sender's system, so the same number from another sender is another person. For a
  person without a BSN the audit also keeps a keyed search key of name and birth date
  (:func:`zoeksleutel`), so an officer can find them; nothing of either is stored in clear.
- **Afscherming.** An address marked ``afgeschermd`` (a victim in the opvang) needs, on top of
  its field's categories, those its block adds when it is shielded (``typen.yaml``: the
  ``adres`` block's ``extra``, ``afgeschermd-adres``, granted to nobody by default); the
  need-to-know filter removes it for every recipient not granted them, and
  :func:`afscherming_voor` names each removal for the audit's ``gefilterd`` record
  (``extra.afscherming_achtergehouden``) and the officer's view. Routing never reads a
  shielded address (``gateway.decision.routing``).
- **Niet-delen-met.** A block may be marked ``niet_delen_met`` the ``ref`` of a betrokkene of
  the same message (afspraken not to be shown to the pleger): it is delivered as usual, and
  :func:`beperkingen` names it, per person, for the audit's ``afgeleverd`` record of that
  person (``extra.niet_delen_met``), so their inzage lists the disclosure without its
  categories and with the restriction, for the officer to decide (AVG art. 23). A ref that
  names nobody in the message is refused (SCHEMA_ONGELDIG naming ``niet-delen-met``).

A block's place is its dotted path in the canonical model, a list item numbered from 1.
Each function takes the body and, optionally, its ``blokken_van`` when the caller has it
already (the decision path walks a body's blocks once and looks at them several times);
without it, a walk that enters only the fields toward the blocks it looks for.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gateway.domain.errors import Refused
from gateway.domain.model import Blokken, Categorie, Foutcode, Part, blokken_naar, velden_van

__all__ = [
    "AfschermingWeglating",
    "Beperking",
    "Persoon",
    "afgeschermd",
    "afscherming_voor",
    "beperkingen",
    "check_personen",
    "naam_sleutel",
    "onderwerp",
    "onderwerpen_in",
    "personen_in",
    "zoeksleutel",
]

# the canonical field names this module reads (the model's nouns, spec v2 §8)
_BSN = "bsn"
_PERSOONSNUMMER = "persoonsnummer"
_AFGESCHERMD = "afgeschermd"
_NIET_DELEN_MET = "niet_delen_met"
_REF = "ref"


@dataclass(frozen=True)
class Persoon:
    """A person a body is about: a block with a ``bsn`` or ``persoonsnummer`` field."""

    pad: str
    ref: str | None
    bsn: str | None
    persoonsnummer: str | None
    naam: str | None  # ``naam``, or ``voornamen`` and ``achternaam``
    geboortedatum: dt.date | None


@dataclass(frozen=True)
class AfschermingWeglating:
    """A shielded address one recipient did not receive, and why."""

    veld: str
    reden: str

    def as_record(self) -> dict[str, Any]:
        """Its account in the audit's gefilterd record (nothing of the address)."""
        return {"veld": self.veld, "reden": self.reden}


@dataclass(frozen=True)
class Beperking:
    """A block marked not to be shown to the betrokkene ``ref`` (AVG art. 23)."""

    veld: str
    ref: str


def _elk_blok(model: type[BaseModel]) -> bool:
    """Any block may be marked niet-delen-met (a block attribute)."""
    return True


def _is_persoon_class(model: type[BaseModel]) -> bool:
    velden = velden_van(model)
    return _BSN in velden or _PERSOONSNUMMER in velden


def _is_adres_class(model: type[BaseModel]) -> bool:
    return _AFGESCHERMD in velden_van(model)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def personen_in(inhoud: Part, blokken: Blokken | None = None) -> list[Persoon]:
    """Every person of ``inhoud``, in document order."""
    found = []
    for pad, block in blokken_naar(inhoud, _is_persoon_class) if blokken is None else blokken:
        if not _is_persoon_class(type(block)):
            continue
        # a model's field values (those of its class's fields only: asking a pydantic model
        # for a field it lacks raises and catches an AttributeError, which cost the most here)
        velden = vars(block)
        naam = velden.get("naam")
        if naam is None:
            delen = (velden.get("voornamen"), velden.get("achternaam"))
            naam = " ".join(str(d) for d in delen if d) or None
        geboren = velden.get("geboortedatum")
        found.append(
            Persoon(
                pad=pad,
                ref=_text(velden.get(_REF)),
                bsn=_text(velden.get(_BSN)),
                persoonsnummer=_text(velden.get(_PERSOONSNUMMER)),
                naam=_text(naam),
                geboortedatum=geboren if isinstance(geboren, dt.date) else None,
            )
        )
    return found


def check_personen(inhoud: Part, blokken: Blokken | None = None) -> None:
    """Refuse a person who has neither a BSN nor a persoonsnummer, and a ``niet_delen_met``
    that names no betrokkene of the message (SCHEMA_ONGELDIG naming the element)."""
    refs = set()
    for block_pad, block in blokken_naar(inhoud, _is_persoon_class) if blokken is None else blokken:
        if not _is_persoon_class(type(block)):
            continue
        ref = getattr(block, _REF, None)
        if ref is not None:
            refs.add(str(ref))
        if (
            _PERSOONSNUMMER in velden_van(type(block))
            and getattr(block, _BSN, None) is None
            and getattr(block, _PERSOONSNUMMER, None) is None
        ):
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"{block_pad} has no BSN and no persoonsnummer: a person without a BSN "
                "carries a stable persoonsnummer of the sender's own system (spec v2 §8)",
                element=_PERSOONSNUMMER,
            )
    for beperking in beperkingen(inhoud, blokken):
        if beperking.ref not in refs:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"{beperking.veld} is marked niet-delen-met {beperking.ref!r}, which is the ref "
                "of no betrokkene in this message",
                element="niet-delen-met",
            )


def onderwerp(persoon: Persoon, afzender_oin: str) -> str | None:
    """What the audit pseudonymises for ``persoon``: the BSN, else (sender OIN,
    persoonsnummer) (None: neither, which :func:`check_personen` refuses)."""
    return _onderwerp(persoon.bsn, persoon.persoonsnummer, afzender_oin)


def _onderwerp(bsn: str | None, persoonsnummer: str | None, afzender_oin: str) -> str | None:
    if bsn is not None:
        return bsn.strip()
    if persoonsnummer is not None:
        return f"persoonsnummer|{afzender_oin}|{persoonsnummer.strip()}"
    return None


def onderwerpen_in(inhoud: Part, afzender_oin: str, blokken: Blokken | None = None) -> list[str]:
    """:func:`onderwerp` of every person of ``inhoud`` that has one, in document order: what
    :func:`personen_in` would give, without reading the rest of each person (for the audit's
    account of what a recipient received)."""
    found = []
    for _, block in blokken_naar(inhoud, _is_persoon_class) if blokken is None else blokken:
        if not _is_persoon_class(type(block)):
            continue
        velden = vars(block)  # as in personen_in
        key = _onderwerp(_text(velden.get(_BSN)), _text(velden.get(_PERSOONSNUMMER)), afzender_oin)
        if key is not None:
            found.append(key)
    return found


def naam_sleutel(naam: str) -> str:
    """A name as the search key reads it: letters and digits only, without accents, case or
    extra spaces (``Ayşe  van der Berg-Öztürk`` and ``ayse van der berg ozturk`` match)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", naam) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain.casefold()).split())


def zoeksleutel(naam: str, geboortedatum: dt.date) -> str:
    """What the audit hashes (keyed) to find a person by name and birth date."""
    return f"naam-geboortedatum|{naam_sleutel(naam)}|{geboortedatum.isoformat()}"


def afgeschermd(inhoud: Part, blokken: Blokken | None = None) -> list[tuple[str, Part]]:
    """Every block of ``inhoud`` marked ``afgeschermd``, with its path."""
    return [
        (pad, b)
        for pad, b in (blokken_naar(inhoud, _is_adres_class) if blokken is None else blokken)
        if _is_adres_class(type(b)) and getattr(b, _AFGESCHERMD, None) is True
    ]


def afscherming_voor(
    shielded: list[tuple[str, Part]], granted: frozenset[Categorie]
) -> tuple[AfschermingWeglating, ...]:
    """The shielded blocks a recipient granted ``granted`` does not receive: those whose
    shielding categories it lacks."""
    found = []
    for pad, block in shielded:
        ontbrekend = block.extra_categorieen() - granted
        if ontbrekend:
            found.append(
                AfschermingWeglating(
                    pad,
                    f"afgeschermd adres: {', '.join(sorted(ontbrekend))} niet toegekend",
                )
            )
    return tuple(found)


def beperkingen(inhoud: Part, blokken: Blokken | None = None) -> tuple[Beperking, ...]:
    """Every block of ``inhoud`` marked ``niet_delen_met`` a betrokkene, in document order
    (any block may be: it is a block attribute)."""
    return tuple(
        Beperking(pad, str(ref))
        for pad, block in (blokken_naar(inhoud, _elk_blok) if blokken is None else blokken)
        if (ref := getattr(block, _NIET_DELEN_MET, None)) is not None
    )
