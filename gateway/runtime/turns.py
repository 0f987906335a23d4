"""Turns per key: messages that share a key are handled one at a time, in arrival order;
messages that share none are handled side by side.

A message's keys (its ConversatieId, its afspraken reeks, its sender's BerichtId) are taken
in one step, without awaiting, when it arrives: it queues behind every earlier message that
holds or awaits one of them, and its turn comes when it heads each of its queues. Since every
queue is in the order of arrival, the earliest waiting message heads all of its queues, so
there is always one that may go (no deadlock), and two messages of one conversation never
overtake each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Collection

__all__ = ["Turns"]


class _Waiter:
    __slots__ = ("keys", "ready")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.ready = asyncio.Event()


class Turns:
    """First come, first served, per key."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_Waiter]] = {}
        self._closers = 0  # inside :meth:`closed`: nobody starts a turn
        self._open = asyncio.Event()
        self._open.set()

    @property
    def waiting(self) -> int:
        """Messages holding or awaiting a turn (each counted once; for tests)."""
        return len({id(w) for queue in self._queues.values() for w in queue})

    @contextlib.asynccontextmanager
    async def turn(self, keys: Collection[str]) -> AsyncIterator[None]:
        """Hold the turn for ``keys`` while inside. Queued at once (call it before any other
        await of the message, so arrival order is kept); no keys: no wait but the gate."""
        waiter = _Waiter(tuple(dict.fromkeys(keys)))
        for key in waiter.keys:
            self._queues.setdefault(key, deque()).append(waiter)
        try:
            if self._heads(waiter):
                waiter.ready.set()
            await waiter.ready.wait()
            await self._open.wait()
            yield
        finally:
            self._leave(waiter)

    @contextlib.asynccontextmanager
    async def closed(self) -> AsyncIterator[None]:
        """Nobody starts a turn while inside (those holding one finish it): the gateway
        waits for its audit store this way (fail closed). Nests: open again when the last
        one leaves."""
        self._closers += 1
        self._open.clear()
        try:
            yield
        finally:
            self._closers -= 1
            if not self._closers:
                self._open.set()

    def _heads(self, waiter: _Waiter) -> bool:
        return all(self._queues[key][0] is waiter for key in waiter.keys)

    def _leave(self, waiter: _Waiter) -> None:
        for key in waiter.keys:
            queue = self._queues[key]
            queue.remove(waiter)  # the head, unless it left while waiting (cancelled)
            if not queue:
                del self._queues[key]
            elif self._heads(queue[0]):
                queue[0].ready.set()
