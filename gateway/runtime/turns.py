"""Turns per key: messages that share a key are handled one at a time, in arrival order;
messages that share none are handled side by side.

A message's keys (its ConversatieId, its sender's BerichtId, the afspraken) are taken
in one step, without awaiting, when it arrives: it queues behind every earlier message that
holds or awaits one of them, and its turn comes when it heads each of its queues. Since every
queue is in the order of arrival, the earliest waiting message heads all of its queues, so
there is always one that may go (no deadlock), and two messages of one conversation never
overtake each other.

A key may also be taken *shared*: those who take it shared go side by side, but not past an
earlier one who takes it alone, and one who takes it alone waits for every earlier one who
took it shared (readers and writers, first come, first served). Every message before the
earliest waiting one in its queues holds its turn already, so there is still always one that
may go.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Collection

__all__ = ["Turns"]


class _Waiter:
    __slots__ = ("keys", "ready", "shared")

    def __init__(self, keys: tuple[str, ...], shared: frozenset[str]) -> None:
        self.keys = keys
        self.shared = shared  # of ``keys``, those taken shared
        self.ready = asyncio.Event()


class Turns:
    """First come, first served, per key."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_Waiter]] = {}
        self._alone: dict[str, int] = {}  # per key: how many in its queue take it alone
        self._closers = 0  # inside :meth:`closed`: nobody starts a turn
        self._open = asyncio.Event()
        self._open.set()

    @property
    def waiting(self) -> int:
        """Messages holding or awaiting a turn (each counted once; for tests)."""
        return len({id(w) for queue in self._queues.values() for w in queue})

    @contextlib.asynccontextmanager
    async def turn(
        self, keys: Collection[str], shared: Collection[str] = ()
    ) -> AsyncIterator[None]:
        """Hold the turn for ``keys`` (alone) and ``shared`` (side by side with others who
        take it shared) while inside. Queued at once (call it before any other await of the
        message, so arrival order is kept); no keys: no wait but the gate. A key in both is
        taken alone."""
        alone = tuple(dict.fromkeys(keys))
        waiter = _Waiter(
            alone + tuple(k for k in dict.fromkeys(shared) if k not in alone),
            frozenset(shared) - frozenset(alone),
        )
        for key in waiter.keys:
            self._queues.setdefault(key, deque()).append(waiter)
            if key not in waiter.shared:
                self._alone[key] = self._alone.get(key, 0) + 1
        try:
            if self._may_go(waiter):
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

    def _may_go(self, waiter: _Waiter) -> bool:
        """Whether ``waiter`` heads each of its queues, or is preceded in a queue of a key
        it takes shared only by others who take it shared."""
        for key in waiter.keys:
            queue = self._queues[key]
            if queue[0] is waiter:
                continue
            if key not in waiter.shared:
                return False
            if not self._alone.get(key):
                continue  # nobody takes this key alone: the shared go side by side
            for earlier in queue:
                if earlier is waiter:
                    break
                if key not in earlier.shared:
                    return False
        return True

    def _leave(self, waiter: _Waiter) -> None:
        for key in waiter.keys:
            queue = self._queues[key]
            queue.remove(waiter)  # the head, unless it left while waiting (cancelled)
            if key not in waiter.shared:
                self._alone[key] -= 1
                if not self._alone[key]:
                    del self._alone[key]
            if not queue:
                del self._queues[key]
                continue
            if key in waiter.shared and not self._alone.get(key):
                continue  # all take it shared: nobody waited for this one on it
            for first in queue:  # who may go now: up to the first who takes the key alone
                if not first.ready.is_set() and self._may_go(first):
                    first.ready.set()
                if key not in first.shared:
                    break
