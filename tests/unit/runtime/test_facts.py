"""What :class:`FactFinder` reads for a later step of one delivery: the subjects it carried
always (audit trail), the sender's message only when an answer needs its ConversatieId."""

from __future__ import annotations

import datetime as dt
from typing import cast

from gateway.audit.log import AuditLog
from gateway.runtime.facts import FactFinder
from gateway.store.state import Bekend, StateStore

NU = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


class _Audit:
    async def subjects_delivered(self, bericht_id: str, ontvanger_oin: str) -> list[str | None]:
        return ["pseudoniem-a", None]


class _State:
    def __init__(self) -> None:
        self.lookups: list[tuple[str, str]] = []

    async def lookup(self, afzender_oin: str, bericht_id: str) -> Bekend | None:
        self.lookups.append((afzender_oin, bericht_id))
        return None


def _finder(state: _State) -> FactFinder:
    return FactFinder(cast(StateStore, state), cast(AuditLog, _Audit()), lambda: NU)


async def test_a_dead_letter_reads_the_senders_message_for_its_answer() -> None:
    state = _State()
    feiten = await _finder(state).vervolg("afzender", "bericht-1", "ontvanger")
    assert state.lookups == [("afzender", "bericht-1")]
    assert [(g.afzender_oin, g.betrokkenen) for g in feiten.geleverd] == [
        ("afzender", ("pseudoniem-a", None))
    ]
    assert feiten.nu == NU


async def test_a_replay_answers_nobody_and_reads_only_the_subjects() -> None:
    state = _State()
    feiten = await _finder(state).vervolg("afzender", "bericht-1", "ontvanger", met_eerder=False)
    assert state.lookups == []
    assert feiten.eerder is None
    assert [g.betrokkenen for g in feiten.geleverd] == [("pseudoniem-a", None)]
