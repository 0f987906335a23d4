"""A person's inzage: their audit records folded into the answer an officer is asked for.

The trail records every step of every message (``ontvangen``, ``gerouteerd``, ``gefilterd``,
``afgeleverd``, ``bevestigd``...). A privacy officer, and the person asking for inzage (AVG
art. 15), want one line per disclosure instead (spec v2 §8): who received what about this
person, when (Dutch local time), for which doel under the sender's grondslag, what was given
and what withheld and why, and whether the recipient confirmed it. :func:`fold` is that view,
pure (records in, an :class:`Inzageoverzicht` out), used by the audit pages, the inzage
report (CSV and printable) and ``ketenpoort audit inzage``.

- A :class:`Verstrekking` is one delivered copy: the ``afgeleverd`` record, with the
  ``gefilterd`` record of the same copy (what was withheld: categories, each free-text field
  with the categories the recipient lacks; blocks under beroepsgeheim and shielded addresses
  under ``extra.beroepsgeheim_achtergehouden`` / ``extra.afscherming_achtergehouden`` as
  ``[{"veld", "reden"}]`` once those are recorded) and the ``bevestigd`` record of the
  recipient's Afleverbevestiging, or ``niet-afleverbaar`` when it never took it. A copy whose
  ``afgeleverd`` record for this person names blocks marked niet-delen-met them
  (``extra.niet_delen_met``) is listed without its categories and with that restriction
  (spec v2 §8, AVG art. 23), for the officer to decide.
- A :class:`NietVerstrekt` is a message refused (``geweigerd``: a Foutbericht, nothing
  delivered) or a copy from which everything about this person was left out (a ``gefilterd``
  record with status ``weggelaten``): shown as such, never as a disclosure.
- A :class:`Raadpleging` is a read of this person's history (an officer's page view or
  ``ketenpoort audit inzage``), so the person also sees who looked.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from gateway.audit.record import Record

__all__ = [
    "AMSTERDAM",
    "BEPERKT",
    "INZAGE_COLUMNS",
    "Inzageoverzicht",
    "Ketenpartner",
    "NietVerstrekt",
    "Raadpleging",
    "Verstrekking",
    "Weglating",
    "fold",
    "lokale_tijd",
    "write_csv",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# extra keys under which the gefilterd record names what it withheld besides categories
VRIJE_TEKST = "vrije_tekst_achtergehouden"
BEROEPSGEHEIM = "beroepsgeheim_achtergehouden"
AFSCHERMING = "afscherming_achtergehouden"
# extra key under which the afgeleverd record of one person names the blocks marked
# niet-delen-met that person
NIET_DELEN_MET = "niet_delen_met"
# what the report says of such a disclosure (AVG art. 23)
BEPERKT = (
    "niet-delen-met (AVG art. 23): categorieën niet getoond, ter beoordeling door de functionaris"
)


def lokale_tijd(moment: dt.datetime | None, *, iso: bool = False) -> str:
    """``moment`` in Dutch local time: ``2026-03-29 03:30:00 CEST`` (the zone names the hour
    that repeats when summer time ends), or ISO 8601 with its offset when ``iso``."""
    if moment is None:
        return ""
    local = moment.astimezone(AMSTERDAM)
    return local.isoformat(timespec="seconds") if iso else local.strftime("%Y-%m-%d %H:%M:%S %Z")


@dataclass(frozen=True)
class Ketenpartner:
    """A sender or recipient as the officer reads it: OIN, rol and the register's name."""

    oin: str
    rol: str
    naam: str

    def __str__(self) -> str:
        return f"{self.naam} ({self.rol})" if self.naam != self.oin else f"{self.oin} ({self.rol})"


@dataclass(frozen=True)
class Weglating:
    """One thing withheld from one recipient, and why."""

    wat: str  # a free-text field's path, a block, an address
    waarom: str

    def __str__(self) -> str:
        return f"{self.wat} ({self.waarom})"


@dataclass(frozen=True)
class Verstrekking:
    """One delivered copy of a message, as far as it was about this person."""

    tijd: dt.datetime
    bericht_id: str
    berichttype: str
    afzender: Ketenpartner
    ontvanger: Ketenpartner
    doel: str
    grondslag: str
    gegeven: tuple[str, ...]  # categories kept
    achtergehouden: tuple[str, ...]  # categories present in the message and removed
    vrije_tekst: tuple[Weglating, ...] = ()
    beroepsgeheim: tuple[Weglating, ...] = ()
    afscherming: tuple[Weglating, ...] = ()
    # the delivered blocks marked niet-delen-met this person (spec v2 §8, AVG art. 23): the
    # disclosure is listed without its categories, for the officer to decide what to show
    beperking: tuple[str, ...] = ()
    bevestigd: dt.datetime | None = None  # the recipient's Afleverbevestiging
    niet_afleverbaar: str | None = None  # why the recipient never took it
    log: str = ""
    seq: int = -1  # the afgeleverd record (``ketenpoort audit prove``)


@dataclass(frozen=True)
class NietVerstrekt:
    """A message refused (nothing delivered) or a copy without anything about this person."""

    tijd: dt.datetime
    bericht_id: str | None
    berichttype: str | None
    afzender: Ketenpartner | None
    ontvanger: Ketenpartner | None  # None: the whole message was refused
    doel: str | None
    grondslag: str | None
    reden: str  # the Foutcode, or ``weggelaten``
    toelichting: str
    log: str = ""
    seq: int = -1


@dataclass(frozen=True)
class Raadpleging:
    """Someone read this person's history."""

    tijd: dt.datetime
    lezer: str
    wat: str
    log: str = ""
    seq: int = -1


@dataclass(frozen=True)
class Inzageoverzicht:
    verstrekkingen: tuple[Verstrekking, ...] = ()
    niet_verstrekt: tuple[NietVerstrekt, ...] = ()
    raadplegingen: tuple[Raadpleging, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "verstrekkingen": [_json(v) for v in self.verstrekkingen],
            "niet_verstrekt": [_json(n) for n in self.niet_verstrekt],
            "raadplegingen": [_json(r) for r in self.raadplegingen],
        }


def _json(row: Verstrekking | NietVerstrekt | Raadpleging) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in vars(row).items():
        if isinstance(value, dt.datetime):
            found[name] = lokale_tijd(value, iso=True)
        elif isinstance(value, Ketenpartner):
            found[name] = vars(value)
        elif isinstance(value, tuple):
            found[name] = [vars(v) if isinstance(v, Weglating) else v for v in value]
        else:
            found[name] = value
    return found


@dataclass
class _Copy:
    """What the records of one delivered copy said, collected before it is folded."""

    afgeleverd: Record | None = None
    gefilterd: Record | None = None
    bevestigd: dt.datetime | None = None
    niet_afleverbaar: str | None = None


def _tijd(record: Record) -> dt.datetime:
    return dt.datetime.fromisoformat(record.public["tijd"])


def _partij(data: Mapping[str, str] | None, namen: Mapping[str, str]) -> Ketenpartner | None:
    if not data or not data.get("oin"):
        return None
    oin = data["oin"]
    return Ketenpartner(oin, data.get("rol") or "", namen.get(oin, oin))


def _weglatingen(extra: Mapping[str, Any], key: str) -> tuple[Weglating, ...]:
    found = []
    for item in extra.get(key) or []:
        if key == VRIJE_TEKST:
            waarom = "niet toegekend: " + ", ".join(item.get("ontbrekend") or [])
        else:
            waarom = str(item.get("reden") or "")
        found.append(Weglating(str(item.get("veld") or ""), waarom))
    return tuple(found)


def fold(records: Iterable[Record], namen: Mapping[str, str]) -> Inzageoverzicht:
    """One person's records (their history, any order) as disclosures, messages not
    delivered and reads; ``namen`` maps an OIN to the register's name of the partner."""
    copies: dict[tuple[str, str, str], _Copy] = {}
    niet: list[NietVerstrekt] = []
    raadplegingen: list[Raadpleging] = []
    for record in sorted(records, key=lambda r: (r.public["tijd"], r.log, r.seq)):
        p = record.public
        gebeurtenis = p.get("gebeurtenis")
        if gebeurtenis == "inzage":
            extra = p.get("extra") or {}
            wat = extra.get("pagina") or extra.get("vraag") or str(p.get("status") or "")
            raadplegingen.append(
                Raadpleging(
                    _tijd(record), str(extra.get("lezer") or ""), wat, record.log, record.seq
                )
            )
            continue
        if gebeurtenis == "geweigerd":
            niet.append(_not_delivered(record, namen, str(p.get("status") or "")))
            continue
        ontvanger = (p.get("ontvanger") or {}).get("oin")
        afzender = (p.get("afzender") or {}).get("oin")
        if not ontvanger or not afzender or not p.get("bericht_id"):
            continue  # ontvangen, or a record about no single copy
        copy = copies.setdefault((afzender, p["bericht_id"], ontvanger), _Copy())
        if gebeurtenis == "afgeleverd" and copy.afgeleverd is None:
            copy.afgeleverd = record
        elif gebeurtenis == "gefilterd" and copy.gefilterd is None:
            copy.gefilterd = record
        elif gebeurtenis == "bevestigd" and copy.bevestigd is None:
            copy.bevestigd = _tijd(record)
        elif gebeurtenis == "niet-afleverbaar":
            copy.niet_afleverbaar = str(p.get("status") or "niet-afleverbaar")
    verstrekkingen = []
    for copy in copies.values():
        if copy.afgeleverd is not None:
            verstrekkingen.append(_disclosure(copy, copy.afgeleverd, namen))
        elif copy.gefilterd is not None and copy.gefilterd.public.get("status") == "weggelaten":
            niet.append(
                _not_delivered(
                    copy.gefilterd, namen, "weggelaten", "geen gegevens over deze persoon"
                )
            )
    return Inzageoverzicht(
        verstrekkingen=tuple(sorted(verstrekkingen, key=lambda v: (v.tijd, v.log, v.seq))),
        niet_verstrekt=tuple(sorted(niet, key=lambda n: (n.tijd, n.log, n.seq))),
        raadplegingen=tuple(raadplegingen),
    )


def _disclosure(copy: _Copy, record: Record, namen: Mapping[str, str]) -> Verstrekking:
    p = record.public
    filtered = copy.gefilterd.public if copy.gefilterd is not None else p
    extra = filtered.get("extra") or {}
    verwerking = p.get("verwerking") or {}
    afzender = _partij(p.get("afzender"), namen)
    ontvanger = _partij(p.get("ontvanger"), namen)
    assert afzender is not None  # the copy's key has both
    assert ontvanger is not None
    beperking = tuple(str(b) for b in (p.get("extra") or {}).get(NIET_DELEN_MET) or ())
    return Verstrekking(
        tijd=_tijd(record),
        bericht_id=str(p.get("bericht_id")),
        berichttype=str(p.get("berichttype") or ""),
        afzender=afzender,
        ontvanger=ontvanger,
        doel=str(verwerking.get("doel") or ""),
        grondslag=str(verwerking.get("grondslag") or ""),
        # a restricted disclosure is listed without its categories (spec v2 §8)
        gegeven=() if beperking else tuple(p.get("categorieen") or ()),
        achtergehouden=() if beperking else tuple(filtered.get("verwijderd") or ()),
        vrije_tekst=_weglatingen(extra, VRIJE_TEKST),
        beroepsgeheim=_weglatingen(extra, BEROEPSGEHEIM),
        afscherming=_weglatingen(extra, AFSCHERMING),
        beperking=beperking,
        bevestigd=copy.bevestigd,
        niet_afleverbaar=copy.niet_afleverbaar,
        log=record.log,
        seq=record.seq,
    )


def _not_delivered(
    record: Record, namen: Mapping[str, str], reden: str, toelichting: str | None = None
) -> NietVerstrekt:
    p = record.public
    verwerking = p.get("verwerking") or {}
    element = (p.get("extra") or {}).get("element")
    return NietVerstrekt(
        tijd=_tijd(record),
        bericht_id=p.get("bericht_id"),
        berichttype=p.get("berichttype"),
        afzender=_partij(p.get("afzender"), namen),
        ontvanger=_partij(p.get("ontvanger"), namen),
        doel=verwerking.get("doel"),
        grondslag=verwerking.get("grondslag"),
        reden=reden,
        toelichting=toelichting
        or (
            "geweigerd met een Foutbericht, niets afgeleverd" + (f" ({element})" if element else "")
        ),
        log=record.log,
        seq=record.seq,
    )


# --------------------------------------------------------------------------- the CSV report

INZAGE_COLUMNS = (
    "soort",
    "tijd",
    "ontvanger",
    "ontvanger_naam",
    "ontvanger_rol",
    "afzender",
    "afzender_naam",
    "afzender_rol",
    "berichttype",
    "bericht_id",
    "doel",
    "grondslag",
    "gegeven",
    "achtergehouden",
    "vrije_tekst_achtergehouden",
    "beroepsgeheim_achtergehouden",
    "afscherming",
    "beperking",
    "bevestigd",
    "reden",
    "lezer",
    "log",
    "seq",
)


def _line(
    soort: str, row: Verstrekking | NietVerstrekt | Raadpleging, **cells: Any
) -> dict[str, Any]:
    """One CSV line: what every line has, then ``cells`` (the other columns empty)."""
    base = {"soort": soort, "tijd": lokale_tijd(row.tijd, iso=True), "log": row.log, "seq": row.seq}
    return {**dict.fromkeys(INZAGE_COLUMNS, ""), **base, **cells}


def _message(row: Verstrekking | NietVerstrekt) -> dict[str, str]:
    """The columns about the message and its parties."""
    found = {
        "berichttype": row.berichttype or "",
        "bericht_id": row.bericht_id or "",
        "doel": row.doel or "",
        "grondslag": row.grondslag or "",
    }
    for role, party in (("ontvanger", row.ontvanger), ("afzender", row.afzender)):
        found[role] = party.oin if party else ""
        found[f"{role}_naam"] = party.naam if party else ""
        found[f"{role}_rol"] = party.rol if party else ""
    return found


def write_csv(overzicht: Inzageoverzicht, out: TextIO) -> None:
    """The inzage report as CSV, one line per disclosure, message not delivered and read
    (``soort``); times in Dutch local time with their offset; log and seq name the record
    for ``ketenpoort audit prove``."""
    writer = csv.DictWriter(out, fieldnames=INZAGE_COLUMNS)
    writer.writeheader()
    for v in overzicht.verstrekkingen:
        writer.writerow(
            _line(
                "verstrekking",
                v,
                **_message(v),
                gegeven=" ".join(v.gegeven),
                achtergehouden=" ".join(v.achtergehouden),
                vrije_tekst_achtergehouden="; ".join(map(str, v.vrije_tekst)),
                beroepsgeheim_achtergehouden="; ".join(map(str, v.beroepsgeheim)),
                afscherming="; ".join(map(str, v.afscherming)),
                beperking=f"{BEPERKT}: {', '.join(v.beperking)}" if v.beperking else "",
                bevestigd=lokale_tijd(v.bevestigd, iso=True),
                reden=v.niet_afleverbaar or "",
            )
        )
    for n in overzicht.niet_verstrekt:
        soort = "geweigerd" if n.ontvanger is None else "weggelaten"
        writer.writerow(_line(soort, n, **_message(n), reden=f"{n.reden}: {n.toelichting}"))
    for r in overzicht.raadplegingen:
        writer.writerow(_line("raadpleging", r, reden=r.wat, lezer=r.lezer))
