"""Stopping and restarting the gateway mid-stream loses nothing and delivers nothing twice.

The gateway runs as a real ``ketenpoort serve`` process; the test is politie sending a
stream of VtMeldingen and Veilig Thuis Twente reading its inbox, while the gateway is stopped
(SIGTERM: graceful) in the middle and started again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.runtime.settings import Settings
from gateway.transport.rabbit import Topology
from tests.conftest import fresh
from tests.support.broker import OINS, Partner, delete_topology

MESSAGES = 300


def start_gateway(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KETENPOORT_AMQP_URL": settings.amqp_url.get_secret_value(),
        "KETENPOORT_AMQP_PREFIX": settings.amqp_prefix,
        "KETENPOORT_STATE_DSN": settings.state_dsn,
        "KETENPOORT_AUDIT_DSN": settings.audit_dsn,
        "KETENPOORT_AUDIT_KEY_DIR": str(settings.audit_key_dir),
        "KETENPOORT_AUDIT_LOG_ID": settings.audit_log_id,
        "KETENPOORT_RETRY_DELAYS_MS": "[200, 400]",
        "KETENPOORT_HTTP_ENABLED": "false",
    }
    exe = Path(sys.executable).parent / "ketenpoort"
    return subprocess.Popen(
        [str(exe), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab")
    )


def started(log: Path) -> int:
    """How often the gateway logged that it is ready (topology declared, consuming)."""
    return log.read_text().count('"event": "gateway_gestart"') if log.exists() else 0


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def collect(partner: Partner, into: list[tuple[str | None, str, bool]]) -> None:
    """Consume a partner's inbox for ever: (message_id, soort, herhaald) per message."""
    queue = await partner.channel.get_queue(partner.topology.inbox(partner.oin), ensure=False)
    async with queue.iterator() as messages:
        async for message in messages:
            headers = message.headers or {}
            soort = str(headers.get("ketenpoort-soort"))
            # a delivery carries the BerichtId; an answer names it as its correlation id
            bericht_id = message.correlation_id if soort == "antwoord" else message.message_id
            into.append((bericht_id, soort, bool(headers.get("ketenpoort-herhaald"))))
            await message.ack()


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
    politie = Partner(OINS["politie"], vhost, topology)
    vt = Partner(OINS["vt-twente"], vhost, topology)
    answers: list[tuple[str | None, str, bool]] = []
    delivered: list[tuple[str | None, str, bool]] = []
    collectors: list[asyncio.Task[None]] = []
    second: subprocess.Popen[bytes] | None = None
    try:
        await wait_for(lambda: started(log) == 1, 60, "the gateway to start")
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

        await wait_for(lambda: len(answers) >= MESSAGES // 3, 60, "a third of the answers")
        first.send_signal(stop_signal)
        code = first.wait(timeout=30)
        assert code == (0 if stop_signal is signal.SIGTERM else -signal.SIGKILL), log.read_text()[
            -2000:
        ]
        stopped_at = len(answers)
        assert stopped_at < MESSAGES, "the stream ended before the stop: nothing was in flight"

        second = start_gateway(settings, log)
        await wait_for(lambda: started(log) == 2, 60, "the gateway to start again")
        await wait_for(lambda: len(answers) >= MESSAGES, 120, "every answer")
        await asyncio.sleep(0.5)  # anything extra (a duplicate) would arrive now
    finally:
        for task in collectors:
            task.cancel()
        await asyncio.gather(*collectors, return_exceptions=True)
        await politie.close()
        await vt.close()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        await delete_topology(vhost, topology)

    for inbox, soort in ((delivered, "levering"), (answers, "antwoord")):
        first_copies = Counter(m for m, s, herhaald in inbox if s == soort and not herhaald)
        every_copy = Counter(m for m, s, _ in inbox if s == soort)
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
            assert not doubled, (soort, [e for e in inbox if e[0] in doubled])
            extra = sum(every_copy.values()) - len(every_copy)
            assert extra <= sum(1 for _, s, herhaald in inbox if s == soort and herhaald)
    text = log.read_text()
    if stop_signal is signal.SIGTERM:
        assert '"event": "gateway_gestopt"' in text
    assert "999990019" not in text  # no BSN in any log line
