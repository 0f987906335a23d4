"""The chain's calendar (spec v2 §10): werkdagen per the Algemene termijnenwet, service hours,
and the *ophouden voor onderzoek* clock of the Wetboek van Strafvordering, all on Dutch local
time (Europe/Amsterdam). Pure: every instant is passed in, nothing reads the clock.

- A **werkdag** is no Saturday or Sunday and none of the Atw's general holidays: Nieuwjaarsdag,
  Tweede Paasdag, Koningsdag (27 April; 26 April when the 27th is a Sunday), 5 mei (every
  year: the Atw makes no exception for non-lustrum years), Hemelvaartsdag, Tweede Pinksterdag,
  Eerste and Tweede Kerstdag. Easter comes from the anonymous Gregorian algorithm.
- A term of days ends at the end of its last day; when that day is no werkdag the Atw extends
  it to the end of the next werkdag (:func:`termijn_einde`). *N werkdagen* after an instant
  counts the werkdagen after the day of that instant and ends at the end of the N-th
  (:func:`werkdagen_na`); *the end of the next werkdag* is the case N = 1.
- **Service hours** are a daily window (``van_minuut``–``tot_minuut``, minutes after local
  midnight, 1440 for 24:00) on every day or on werkdagen only; a duration in service hours
  counts only time inside the windows (:func:`diensttijd_na`).
- The **ophoudtermijn** (9 hours, or 6) does not count 00:00–09:00: it is service time in a
  window of 09:00–24:00 every day (:func:`ophoudtermijn_einde`).

Durations are counted in real time (UTC), so a DST change inside a window counts as it passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "SV_KLOK",
    "TIJDZONE",
    "Venster",
    "diensttijd_na",
    "einde_van_dag",
    "feestdagen",
    "is_werkdag",
    "ophoudtermijn_einde",
    "pasen",
    "termijn_einde",
    "volgende_werkdag",
    "werkdagen_na",
]

TIJDZONE = ZoneInfo("Europe/Amsterdam")
_DAG = dt.timedelta(days=1)
_MIDDERNACHT = 24 * 60


class Venster(Protocol):
    """Daily service hours: the window and whether it opens on werkdagen only."""

    @property
    def van_minuut(self) -> int: ...

    @property
    def tot_minuut(self) -> int: ...

    @property
    def alleen_werkdagen(self) -> bool: ...


@dataclass(frozen=True)
class _Dagvenster:
    van_minuut: int
    tot_minuut: int
    alleen_werkdagen: bool


# Sv: the hours between midnight and nine in the morning do not count.
SV_KLOK: Venster = _Dagvenster(van_minuut=9 * 60, tot_minuut=_MIDDERNACHT, alleen_werkdagen=False)


def pasen(jaar: int) -> dt.date:
    """Easter Sunday of ``jaar`` (Gregorian; the anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = jaar % 19, jaar // 100, jaar % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * el) // 433
    maand = (h + el - 7 * m + 90) // 25
    dag = (h + el - 7 * m + 33 * maand + 19) % 32
    return dt.date(jaar, maand, dag)


@lru_cache(maxsize=64)
def feestdagen(jaar: int) -> frozenset[dt.date]:
    """The general holidays of the Algemene termijnenwet in ``jaar``."""
    paasdag = pasen(jaar)
    koningsdag = dt.date(jaar, 4, 27)
    if koningsdag.weekday() == 6:  # on a Sunday: the Saturday before
        koningsdag = dt.date(jaar, 4, 26)
    return frozenset(
        {
            dt.date(jaar, 1, 1),
            paasdag + dt.timedelta(days=1),
            koningsdag,
            dt.date(jaar, 5, 5),
            paasdag + dt.timedelta(days=39),
            paasdag + dt.timedelta(days=50),
            dt.date(jaar, 12, 25),
            dt.date(jaar, 12, 26),
        }
    )


def is_werkdag(dag: dt.date) -> bool:
    return dag.weekday() < 5 and dag not in feestdagen(dag.year)


def volgende_werkdag(dag: dt.date) -> dt.date:
    """The first werkdag after ``dag``."""
    dag += _DAG
    while not is_werkdag(dag):
        dag += _DAG
    return dag


def einde_van_dag(dag: dt.date) -> dt.datetime:
    """The end of the local day ``dag`` (an agreed date: not moved by the Atw)."""
    return dt.datetime.combine(dag, dt.time.max, tzinfo=TIJDZONE)


def termijn_einde(dag: dt.date) -> dt.datetime:
    """The end of a term whose last day is ``dag``: that day's end, or the end of the next
    werkdag when ``dag`` is a Saturday, Sunday or holiday (Atw art. 1)."""
    return einde_van_dag(dag if is_werkdag(dag) else volgende_werkdag(dag))


def _lokale_dag(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        raise ValueError("a norm time counts from an aware instant")
    return moment.astimezone(TIJDZONE).date()


def werkdagen_na(start: dt.datetime, n: int) -> dt.datetime:
    """The end of the ``n``-th werkdag after the (local) day of ``start`` (n ≥ 1)."""
    if n < 1:
        raise ValueError(f"a term of {n} werkdagen")
    return _werkdagen_na_dag(_lokale_dag(start), n)


@lru_cache(maxsize=1024)
def _werkdagen_na_dag(dag: dt.date, n: int) -> dt.datetime:
    """:func:`werkdagen_na` from a local day: the calendar's, the same for every message of
    that day (kept for the last days and terms asked)."""
    for _ in range(n):
        dag = volgende_werkdag(dag)
    return termijn_einde(dag)


def _lokaal(dag: dt.date, minuut: int) -> dt.datetime:
    """Local ``dag`` at ``minuut`` after midnight (1440: the next midnight), in UTC."""
    extra, minuut = divmod(minuut, _MIDDERNACHT)
    tijd = dt.time(minuut // 60, minuut % 60)
    lokaal = dt.datetime.combine(dag + dt.timedelta(days=extra), tijd, tzinfo=TIJDZONE)
    return lokaal.astimezone(dt.UTC)


def diensttijd_na(start: dt.datetime, duur: dt.timedelta, venster: Venster) -> dt.datetime:
    """The instant at which ``duur`` of service time in ``venster`` has passed since ``start``
    (in local time). A window must be non-empty (the policy checks that)."""
    if not 0 <= venster.van_minuut < venster.tot_minuut <= _MIDDERNACHT:
        raise ValueError(f"an empty service window {venster!r}")
    if duur < dt.timedelta(0):
        raise ValueError(f"a negative term {duur}")
    rest = duur
    moment = start.astimezone(dt.UTC)
    dag = _lokale_dag(start)
    while True:
        if not venster.alleen_werkdagen or is_werkdag(dag):
            open_ = max(_lokaal(dag, venster.van_minuut), moment)
            dicht = _lokaal(dag, venster.tot_minuut)
            if open_ < dicht:
                if rest <= dicht - open_:
                    return (open_ + rest).astimezone(TIJDZONE)
                rest -= dicht - open_
        dag += _DAG


def ophoudtermijn_einde(start: dt.datetime, uren: int) -> dt.datetime:
    """Where *ophouden voor onderzoek* from ``start`` ends (Sv): ``uren`` hours (9, or 6),
    not counting 00:00–09:00, on the legal clock (not service hours)."""
    return diensttijd_na(start, dt.timedelta(hours=uren), SV_KLOK)
