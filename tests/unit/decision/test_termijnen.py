"""The chain's calendar (spec v2 §10): werkdagen per the Algemene termijnenwet, service hours
and the Sv ophoudtermijn, on Dutch local time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.decision.termijnen import (
    TIJDZONE,
    diensttijd_na,
    feestdagen,
    is_werkdag,
    ophoudtermijn_einde,
    pasen,
    termijn_einde,
    volgende_werkdag,
    werkdagen_na,
)

CET = dt.timezone(dt.timedelta(hours=1))
CEST = dt.timezone(dt.timedelta(hours=2))


def lokaal(jaar: int, maand: int, dag: int, uur: int = 0, minuut: int = 0) -> dt.datetime:
    return dt.datetime(jaar, maand, dag, uur, minuut, tzinfo=TIJDZONE)


def einde(jaar: int, maand: int, dag: int) -> dt.datetime:
    return dt.datetime.combine(dt.date(jaar, maand, dag), dt.time.max, tzinfo=TIJDZONE)


@dataclass(frozen=True)
class Window:
    van_minuut: int
    tot_minuut: int
    alleen_werkdagen: bool


KANTOOR = Window(8 * 60 + 30, 17 * 60, alleen_werkdagen=True)
ZSM = Window(7 * 60, 24 * 60, alleen_werkdagen=False)
ALTIJD = Window(0, 24 * 60, alleen_werkdagen=False)


# --------------------------------------------------------------------------- the holidays


@pytest.mark.parametrize(
    ("jaar", "paasdag"),
    [
        (1818, dt.date(1818, 3, 22)),  # the earliest possible
        (1943, dt.date(1943, 4, 25)),  # the latest possible
        (2000, dt.date(2000, 4, 23)),
        (2019, dt.date(2019, 4, 21)),
        (2024, dt.date(2024, 3, 31)),
        (2025, dt.date(2025, 4, 20)),
        (2026, dt.date(2026, 4, 5)),
        (2038, dt.date(2038, 4, 25)),
    ],
)
def test_easter(jaar: int, paasdag: dt.date) -> None:
    assert pasen(jaar) == paasdag


def test_the_holidays_of_2026() -> None:
    assert feestdagen(2026) == {
        dt.date(2026, 1, 1),  # Nieuwjaarsdag
        dt.date(2026, 4, 6),  # Tweede Paasdag
        dt.date(2026, 4, 27),  # Koningsdag
        dt.date(2026, 5, 5),  # 5 mei, though 2026 is no lustrum year
        dt.date(2026, 5, 14),  # Hemelvaartsdag
        dt.date(2026, 5, 25),  # Tweede Pinksterdag
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 26),
    }


def test_koningsdag_on_a_sunday_is_the_saturday_before() -> None:
    assert dt.date(2031, 4, 27).weekday() == 6
    assert dt.date(2031, 4, 26) in feestdagen(2031)
    assert dt.date(2031, 4, 27) not in feestdagen(2031)
    assert is_werkdag(dt.date(2031, 4, 28))  # the Monday after is an ordinary werkdag
    assert volgende_werkdag(dt.date(2031, 4, 25)) == dt.date(2031, 4, 28)


@pytest.mark.parametrize("jaar", [2025, 2026, 2027, 2028])
def test_5_mei_is_no_werkdag_in_any_year(jaar: int) -> None:
    assert not is_werkdag(dt.date(jaar, 5, 5))


def test_an_ordinary_weekday_is_a_werkdag_and_a_weekend_is_not() -> None:
    assert is_werkdag(dt.date(2026, 11, 27))  # Friday
    assert not is_werkdag(dt.date(2026, 11, 28))
    assert not is_werkdag(dt.date(2026, 11, 29))


# --------------------------------------------------------------------------- werkdagen


@pytest.mark.parametrize(
    ("start", "n", "uiterlijk"),
    [
        pytest.param(lokaal(2026, 11, 30, 10), 1, einde(2026, 12, 1), id="monday-1"),
        pytest.param(lokaal(2026, 11, 30, 10), 5, einde(2026, 12, 7), id="monday-5"),
        pytest.param(lokaal(2026, 11, 27, 16), 1, einde(2026, 11, 30), id="over-a-weekend"),
        pytest.param(lokaal(2026, 11, 28, 3), 1, einde(2026, 11, 30), id="from-a-saturday"),
        pytest.param(lokaal(2026, 12, 24, 9), 1, einde(2026, 12, 28), id="over-christmas"),
        pytest.param(lokaal(2026, 12, 24, 9), 5, einde(2027, 1, 4), id="over-new-year"),
        pytest.param(lokaal(2026, 5, 4, 10), 1, einde(2026, 5, 6), id="over-5-mei-2026"),
        pytest.param(lokaal(2025, 5, 2, 10), 1, einde(2025, 5, 6), id="over-5-mei-2025"),
        pytest.param(lokaal(2026, 4, 24, 12), 1, einde(2026, 4, 28), id="over-koningsdag"),
        pytest.param(lokaal(2026, 5, 13, 12), 1, einde(2026, 5, 15), id="over-hemelvaart"),
        pytest.param(lokaal(2026, 4, 2, 12), 2, einde(2026, 4, 7), id="over-easter"),
        # 23:30 UTC on Monday is already Tuesday in Amsterdam: the count starts Wednesday
        pytest.param(
            dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC), 1, einde(2026, 12, 2), id="utc"
        ),
    ],
)
def test_werkdagen_na(start: dt.datetime, n: int, uiterlijk: dt.datetime) -> None:
    assert werkdagen_na(start, n) == uiterlijk


def test_a_term_ending_on_a_weekend_or_holiday_runs_to_the_next_werkdag() -> None:
    assert termijn_einde(dt.date(2026, 11, 27)) == einde(2026, 11, 27)
    assert termijn_einde(dt.date(2026, 11, 28)) == einde(2026, 11, 30)
    assert termijn_einde(dt.date(2026, 4, 6)) == einde(2026, 4, 7)  # Tweede Paasdag
    assert termijn_einde(dt.date(2026, 5, 5)) == einde(2026, 5, 6)


def test_werkdagen_na_refuses_no_days_and_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="0 werkdagen"):
        werkdagen_na(lokaal(2026, 11, 30), 0)
    with pytest.raises(ValueError, match="aware"):
        werkdagen_na(dt.datetime(2026, 11, 30, 10), 1)


INSTANTS = st.datetimes(
    min_value=dt.datetime(1990, 1, 1),
    max_value=dt.datetime(2100, 12, 31),
    timezones=st.just(dt.UTC),
)


@given(start=INSTANTS, n=st.integers(min_value=1, max_value=40))
def test_werkdagen_na_ends_on_a_werkdag_after_the_start(start: dt.datetime, n: int) -> None:
    uiterlijk = werkdagen_na(start, n)
    assert is_werkdag(uiterlijk.date())
    assert uiterlijk.weekday() < 5
    assert uiterlijk.date() not in feestdagen(uiterlijk.year)
    assert uiterlijk > start
    # n werkdagen: exactly n werkdagen lie after the start's day up to and including the end
    day, count = start.astimezone(TIJDZONE).date(), 0
    while day < uiterlijk.date():
        day += dt.timedelta(days=1)
        count += is_werkdag(day)
    assert count == n


@given(
    a=INSTANTS,
    b=INSTANTS,
    n=st.integers(min_value=1, max_value=20),
    m=st.integers(min_value=1, max_value=20),
)
def test_werkdagen_na_is_monotone(a: dt.datetime, b: dt.datetime, n: int, m: int) -> None:
    a, b = min(a, b), max(a, b)
    n, m = min(n, m), max(n, m)
    assert werkdagen_na(a, n) <= werkdagen_na(b, n)
    assert werkdagen_na(a, n) <= werkdagen_na(a, m)


# --------------------------------------------------------------------------- service hours

UUR = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "venster", "uiterlijk"),
    [
        pytest.param(lokaal(2026, 11, 30, 10), KANTOOR, lokaal(2026, 11, 30, 11), id="inside"),
        pytest.param(lokaal(2026, 11, 30, 7), KANTOOR, lokaal(2026, 11, 30, 9, 30), id="early"),
        pytest.param(lokaal(2026, 11, 27, 16, 30), KANTOOR, lokaal(2026, 11, 30, 9), id="weekend"),
        pytest.param(lokaal(2026, 12, 24, 16, 45), KANTOOR, lokaal(2026, 12, 28, 9, 15), id="xmas"),
        pytest.param(lokaal(2026, 5, 4, 16, 30), KANTOOR, lokaal(2026, 5, 6, 9), id="5-mei"),
        pytest.param(lokaal(2026, 11, 30, 23, 30), ZSM, lokaal(2026, 12, 1, 7, 30), id="zsm-night"),
        pytest.param(lokaal(2026, 12, 25, 12), ZSM, lokaal(2026, 12, 25, 13), id="zsm-holiday"),
        pytest.param(lokaal(2026, 11, 28, 3), ALTIJD, lokaal(2026, 11, 28, 4), id="24-7"),
        # the night clocks go forward (02:00 → 03:00): one real hour later
        pytest.param(
            dt.datetime(2026, 3, 29, 1, 30, tzinfo=CET),
            ALTIJD,
            dt.datetime(2026, 3, 29, 3, 30, tzinfo=CEST),
            id="dst",
        ),
    ],
)
def test_an_hour_of_service_time(
    start: dt.datetime, venster: Window, uiterlijk: dt.datetime
) -> None:
    assert diensttijd_na(start, UUR, venster) == uiterlijk


def test_service_time_refuses_an_empty_window_and_a_negative_duration() -> None:
    with pytest.raises(ValueError, match="empty service window"):
        diensttijd_na(lokaal(2026, 11, 30), UUR, Window(600, 600, alleen_werkdagen=False))
    with pytest.raises(ValueError, match="negative"):
        diensttijd_na(lokaal(2026, 11, 30), -UUR, KANTOOR)


# --------------------------------------------------------------------------- Sv ophoudtermijn


@pytest.mark.parametrize(
    ("start", "uren", "uiterlijk"),
    [
        # spec v2 §10's six examples, exactly
        (lokaal(2026, 11, 20, 1, 40), 9, lokaal(2026, 11, 20, 18)),
        (lokaal(2026, 11, 20, 1, 40), 6, lokaal(2026, 11, 20, 15)),
        (lokaal(2026, 11, 20, 23, 5), 9, lokaal(2026, 11, 21, 17, 5)),
        (lokaal(2026, 11, 20, 23, 5), 6, lokaal(2026, 11, 21, 14, 5)),
        (lokaal(2026, 11, 20, 14), 9, lokaal(2026, 11, 20, 23)),
        (lokaal(2026, 11, 20, 14), 6, lokaal(2026, 11, 20, 20)),
    ],
)
def test_the_ophoudtermijn_of_the_spec(
    start: dt.datetime, uren: int, uiterlijk: dt.datetime
) -> None:
    assert ophoudtermijn_einde(start, uren) == uiterlijk


def test_the_ophoudtermijn_runs_on_the_legal_clock() -> None:
    # weekends and holidays count; only 00:00-09:00 does not
    assert ophoudtermijn_einde(lokaal(2026, 12, 25, 10), 9) == lokaal(2026, 12, 25, 19)
    # ending at midnight exactly: 15:00 + 9 hours
    assert ophoudtermijn_einde(lokaal(2026, 11, 20, 15), 9) == lokaal(2026, 11, 21)
    # a UTC start counts in Amsterdam time: 22:05Z is 23:05 local
    start = dt.datetime(2026, 11, 20, 22, 5, tzinfo=dt.UTC)
    assert ophoudtermijn_einde(start, 9) == lokaal(2026, 11, 21, 17, 5)
    # the night the clocks go forward lies in the uncounted hours
    assert ophoudtermijn_einde(dt.datetime(2026, 3, 28, 23, 5, tzinfo=CET), 9) == dt.datetime(
        2026, 3, 29, 17, 5, tzinfo=CEST
    )
