"""Probes of the hostile suites: canaries that notice a fetch, and the process's memory."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.hostile_corpus import Canaries

# --------------------------------------------------------------------------- canaries


class Canary:
    """An HTTP canary (a TCP listener) and a file canary (a FIFO), each counting touches.

    Both run in threads of their own, so a gateway that fetched synchronously on the event
    loop would still be noticed (and released) rather than deadlock the test.
    """

    def __init__(self, directory: Path) -> None:
        self.fifo = directory / "canary.fifo"
        os.mkfifo(self.fifo)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        port = self.listener.getsockname()[1]
        self.canaries = Canaries(url=f"http://127.0.0.1:{port}/kp-canary", path=str(self.fifo))
        self.hits: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._accept, daemon=True),
            threading.Thread(target=self._watch_fifo, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits.append(f"connection to {self.canaries.url} from {peer}")
            connection.close()

    def _watch_fifo(self) -> None:
        # Opening a FIFO for writing without blocking succeeds only while a reader has it open:
        # then someone opened the canary file. Opening and closing releases that reader (EOF).
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.01)
                continue
            os.close(fd)
            self.hits.append(f"{self.fifo} was opened")
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.listener.close()


# --------------------------------------------------------------------------- memory


def status_kib(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for row in status:
            if row.startswith(f"{key}:"):
                return int(row.split()[1])
    raise AssertionError(f"{key} not in /proc/self/status")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect once, then keep every object alive now out of the collections inside (Python's
    permanent generation) until the block ends. A full collection walks every tracked object:
    late in a test run, with the heap of thousands of tests before, each took about 1.5 s,
    and the HTTPS corpus collects twice per case (5 minutes in all, 20 s alone). What the
    block allocates, the gateway's objects among them, is collected as before."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def release_free_memory() -> None:
    """Collect garbage and give freed heap back to the system (glibc keeps it otherwise), so
    the RSS measures what is alive, not what the allocator caches."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class Memory:
    rss_before: int  # bytes, after gc, before the first case
    peak_before: int  # VmHWM before the first case (= rss_before when the reset worked)
    peak_after: int  # VmHWM after the last case
    rss_after: int  # after gc, after the last case
    reset: bool  # VmHWM could be reset, so the peak is the corpus's own


# --------------------------------------------------------------------------- answer times

FLOOR_S = 5.0  # a case may always take this long ...
SLOW_FACTOR = 20  # ... or this many times the run's median answer (a busy machine slows all)


def answer_budget(seconds: Iterable[float]) -> float:
    """How long one ordinary case may take in a run whose ordinary cases took ``seconds``.

    Not a fixed wall-clock budget: a loaded machine slows every case alike and raises the
    median with it; a case that makes the gateway work (an expansion, a fetch, a hang) stands
    out against the rest of the same run.
    """
    return max(FLOOR_S, SLOW_FACTOR * statistics.median(seconds))


__all__ = [
    "FLOOR_S",
    "SLOW_FACTOR",
    "Canary",
    "Memory",
    "answer_budget",
    "frozen_heap",
    "release_free_memory",
    "reset_peak",
    "status_kib",
]
