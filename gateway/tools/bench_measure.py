"""Measuring for ``ketenpoort bench``: sending in a closed loop (a window of messages in
flight) or an open loop (a fixed rate), noting arrivals on a queue, a process's CPU time,
and the summary of one run (rate, percentiles, CPU per message)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import aio_pika

__all__ = ["Arrivals", "closed_loop", "cpu_of", "latencies", "open_loop", "summary"]


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def summary(
    name: str, measured: list[float], seconds: float, cpu_s: float, count: int
) -> dict[str, Any]:
    ordered = sorted(measured)
    if not ordered:
        raise RuntimeError(f"{name}: none of {count} messages arrived")

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "meting": name,
        "berichten": count,
        "aangekomen": len(measured),
        "berichten_per_s": round(len(measured) / seconds, 1) if seconds else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0,
        "gemiddeld_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else 0.0,
        "cpu_ms_per_bericht": round(cpu_s / max(1, len(measured)) * 1000, 3),
    }


class Arrivals:
    """A consumer on a queue noting when each message (by message_id) arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.event = asyncio.Event()
        self.expect = 0

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        self.at[message.message_id or ""] = time.perf_counter()
        await message.ack()
        if len(self.at) >= self.expect:
            self.event.set()

    async def wait(self, expect: int, timeout: float) -> None:
        self.expect = expect
        if len(self.at) >= expect:
            return
        self.event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)


async def closed_loop(
    send: Callable[[str, bytes], Awaitable[None]],
    messages: list[tuple[str, bytes]],
    window: int,
    sent_at: dict[str, float],
) -> None:
    gate = asyncio.Semaphore(window)

    async def one(bericht_id: str, body: bytes) -> None:
        async with gate:
            sent_at[bericht_id] = time.perf_counter()
            await send(bericht_id, body)

    await asyncio.gather(*(one(b, m) for b, m in messages))


async def open_loop(
    send: Callable[[str, bytes], Coroutine[Any, Any, None]],
    messages: list[tuple[str, bytes]],
    rate: float,
    sent_at: dict[str, float],
) -> None:
    start = time.perf_counter()
    tasks = []
    for i, (bericht_id, body) in enumerate(messages):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[bericht_id] = time.perf_counter()
        tasks.append(asyncio.create_task(send(bericht_id, body)))
    await asyncio.gather(*tasks)


def latencies(sent_at: dict[str, float], arrivals: Arrivals) -> list[float]:
    return [arrivals.at[b] - t for b, t in sent_at.items() if b in arrivals.at]
