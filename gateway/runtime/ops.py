"""The ops queue seen by an operator: what no binding took (an unknown routing key on the
ingress exchange, a delivery to a missing inbox) and what the gateway set aside (no
``user_id``, a user outside the register). Metadata only: the payloads hold personal data."""

from __future__ import annotations

from typing import Any

from gateway.runtime.app import maintenance, peek
from gateway.runtime.settings import Settings
from gateway.transport.rabbit import AFZENDER, REDEN


async def ops_list(settings: Settings) -> list[dict[str, Any]]:
    """Every message in the ops queue (looked at, put back: nothing is taken away)."""
    found: list[dict[str, Any]] = []
    async with maintenance(settings) as parts:
        for message in await peek(parts, parts.topology.ops):
            headers = message.headers or {}
            found.append(
                {
                    # unknown routing key / missing inbox: the broker's; else the gateway's
                    "reden": headers.get(REDEN) or "niet-routeerbaar",
                    "exchange": message.exchange,
                    "routing_key": message.routing_key,
                    "user": message.user_id or headers.get(AFZENDER),
                    "bericht_id": message.message_id,
                    "type": message.type,
                    "bytes": len(message.body),
                }
            )
    return found


__all__ = ["ops_list"]
