"""Waiting on progress, never on a fixed wall-clock budget.

A test polls for the condition it needs; the generous ceiling only turns a hang into a
failure (it is not a performance budget: a busy machine is slow, not wrong).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

CEILING_S = 60.0  # a hang, not slowness: nothing in the suite legitimately takes this long


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    what: str,
    *,
    ceiling: float = CEILING_S,
    poll: float = 0.01,
) -> None:
    """Return once ``check()`` holds (sync or async); fail after ``ceiling`` seconds."""
    deadline = time.monotonic() + ceiling
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {ceiling} s")
        await asyncio.sleep(poll)


def wait_until(check: Callable[[], bool], what: str, *, ceiling: float = CEILING_S) -> None:
    """The synchronous twin of :func:`eventually` (for threads and subprocesses)."""
    deadline = time.monotonic() + ceiling
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {ceiling} s")
        time.sleep(0.01)


__all__ = ["CEILING_S", "eventually", "wait_until"]
