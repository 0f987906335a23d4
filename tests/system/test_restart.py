"""Stopping and restarting the gateway mid-stream loses nothing and delivers nothing twice.

The gateway runs as a real ``ketenpoort serve`` process; the test is politie sending a
stream of VtMeldingen and Veilig Thuis Twente reading its inbox, while the gateway is stopped
(SIGTERM: graceful) in the middle and started again.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.runtime.settings import Settings
from gateway.transport.rabbit import Topology
from tests.support.broker import OINS
from tests.support.messages import fresh
from tests.support.partners import RabbitPartner
from tests.support.processes import Received, collect, start_gateway, started, wind_down
from tests.support.waiting import eventually

pytestmark = [pytest.mark.broker, pytest.mark.slow]

MESSAGES = 300


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "kill"])
async def test_restart_mid_stream_loses_none_and_delivers_none_twice(
    stop_signal: signal.Signals,
    settings: Settings,
    vhost: str,
    tmp_path: Path,
    example_bytes: Callable[[str], bytes],
) -> None:
    log = tmp_path / "gateway.log"
    topology = Topology(settings.amqp_prefix, tuple(OINS.values()), settings.retry_delays_ms)
    first = start_gateway(settings, log)
    politie = RabbitPartner(OINS["politie"], vhost, topology)
    vt = RabbitPartner(OINS["vt-twente"], vhost, topology)
    answers: list[Received] = []
    delivered: list[Received] = []
    collectors: list[asyncio.Task[None]] = []
    second: subprocess.Popen[bytes] | None = None
    try:
        await eventually(lambda: started(log) == 1, "the gateway started")
        await politie.connect()
        await vt.connect()
        collectors = [
            asyncio.create_task(collect(politie, answers)),
            asyncio.create_task(collect(vt, delivered)),
        ]
        template = example_bytes("politie/VtMelding.xml")
        sent = [str(uuid.uuid4()) for _ in range(MESSAGES)]
        for bericht_id in sent:
            await politie.send(fresh(template, bericht_id=bericht_id))

        await eventually(lambda: len(answers) >= MESSAGES // 3, "a third of the answers in")
        first.send_signal(stop_signal)
        code = first.wait(timeout=30)
        assert code == (0 if stop_signal is signal.SIGTERM else -signal.SIGKILL), log.read_text()[
            -2000:
        ]
        stopped_at = len(answers)
        assert stopped_at < MESSAGES, "the stream ended before the stop: nothing was in flight"

        second = start_gateway(settings, log)
        await eventually(lambda: started(log) == 2, "the gateway started again")
        await eventually(lambda: len(answers) >= MESSAGES, "every answer in")
        await asyncio.sleep(0.5)  # anything extra (a duplicate) would arrive now
    finally:
        await wind_down(collectors, [politie, vt], [first, second], vhost, topology)

    for inbox, soort in ((delivered, "levering"), (answers, "antwoord")):
        first_copies = Counter(r.bericht_id for r in inbox if r.soort == soort and not r.herhaald)
        every_copy = Counter(r.bericht_id for r in inbox if r.soort == soort)
        assert set(every_copy) == set(sent), f"a {soort} was lost"
        if stop_signal is signal.SIGTERM:
            # A graceful stop finishes what is in flight: exactly once, nothing re-published.
            assert max(every_copy.values()) == 1
            assert sum(first_copies.values()) == MESSAGES
        else:
            # SIGKILL between the broker's confirm and the state commit: the message is
            # published again, flagged ketenpoort-herhaald with the same BerichtId, so
            # counting the unflagged copies (what a recipient that drops flagged copies it
            # already has keeps) gives every message exactly once.
            doubled = [m for m, n in first_copies.items() if n > 1]
            assert not doubled, (soort, [r for r in inbox if r.bericht_id in doubled])
            extra = sum(every_copy.values()) - len(every_copy)
            assert extra <= sum(1 for r in inbox if r.soort == soort and r.herhaald)
    text = log.read_text()
    if stop_signal is signal.SIGTERM:
        assert '"event": "gateway_gestopt"' in text
    assert "999990019" not in text  # no BSN in any log line
