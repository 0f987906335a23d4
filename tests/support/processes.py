"""The gateway as a real ``ketenpoort serve`` process, and partners reading their inbox for ever.

Shared by the restart, crash, scale-out and audit-crash tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gateway.runtime.settings import Settings
from gateway.transport.rabbit import HERHAALD, SOORT, Topology
from tests.support.broker import delete_topology
from tests.support.partners import RabbitPartner

KETENPOORT = Path(sys.executable).parent / "ketenpoort"


def start_gateway(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """``ketenpoort serve`` with these settings (AMQP only), its log appended to ``log``."""
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
        "KETENPOORT_OPS_PORT": "0",  # any free port: several gateways run side by side
    }
    return subprocess.Popen(
        [str(KETENPOORT), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab")
    )


def started(log: Path) -> int:
    """How often the gateway logged that it is ready (topology declared, consuming)."""
    return log.read_text().count('"event": "gateway_gestart"') if log.exists() else 0


def berichttype_of(body: bytes) -> str | None:
    """The body's kp:BerichtType (text search: the body may be anything)."""
    text = body.decode(errors="replace")
    start = text.find("<kp:BerichtType>")
    if start < 0:
        return None
    start += len("<kp:BerichtType>")
    return text[start : text.find("<", start)]


@dataclass(frozen=True)
class Received:
    """One message a partner took from its inbox."""

    bericht_id: str | None  # a delivery's message_id, an answer's correlation_id
    soort: str  # "levering" or "antwoord"
    herhaald: bool  # re-published after a crash (a possible duplicate)
    berichttype: str | None  # from the body's kp:BerichtType
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


async def collect(partner: RabbitPartner, into: list[Received]) -> None:
    """Consume a partner's inbox for ever, appending each message to ``into`` (acknowledged)."""
    queue = await partner.channel.get_queue(partner.topology.inbox(partner.oin), ensure=False)
    async with queue.iterator() as messages:
        async for message in messages:
            headers = message.headers or {}
            soort = str(headers.get(SOORT))
            into.append(
                Received(
                    bericht_id=message.correlation_id
                    if soort == "antwoord"
                    else message.message_id,
                    soort=soort,
                    herhaald=bool(headers.get(HERHAALD)),
                    berichttype=berichttype_of(message.body),
                    body=message.body,
                )
            )
            await message.ack()


__all__ = [
    "KETENPOORT",
    "Received",
    "berichttype_of",
    "collect",
    "start_gateway",
    "started",
    "wind_down",
]


async def wind_down(
    collectors: list[asyncio.Task[None]],
    partners: list[RabbitPartner],
    processes: list[subprocess.Popen[bytes] | None],
    vhost: str,
    topology: Topology,
) -> None:
    """The end of a run with gateway processes: stop collecting, close the partners, stop
    every gateway still running (SIGTERM, a graceful stop) and remove the test's topology."""
    for task in collectors:
        task.cancel()
    await asyncio.gather(*collectors, return_exceptions=True)
    for partner in partners:
        await partner.close()
    for process in processes:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    await delete_topology(vhost, topology)
