"""Exceptions, by what happens to the message.

- :class:`Refused`: the message is refused; the sender gets a Foutbericht with this code.
- :class:`Transient`: something outside the message failed (broker, store); retry later.
- :class:`Misconfigured`: the gateway cannot run like this; refuse to start.
"""

from __future__ import annotations

from gateway.domain.model import Foutcode

__all__ = ["Busy", "Misconfigured", "Refused", "Stale", "Transient"]


class Refused(Exception):  # noqa: N818 - named for what happens to the message
    """The message is refused with a Foutbericht code (spec §6)."""

    def __init__(
        self,
        code: Foutcode,
        reden: str,
        *,
        element: str | None = None,
        regel: int | None = None,
    ) -> None:
        super().__init__(reden)
        self.code = code
        self.reden = reden
        self.element = element
        self.regel = regel

    def __str__(self) -> str:
        waar = f"{self.element}: " if self.element else ""
        return f"{self.code.value}: {waar}{self.reden}"


class Transient(Exception):  # noqa: N818 - named for what happens to the message
    """A failure outside the message; the message is kept and retried."""


class Misconfigured(Exception):  # noqa: N818 - named for what happens to the gateway
    """Configuration or policy is broken; the gateway refuses to start."""


class Busy(Transient):
    """Another gateway process is delivering this very message right now (two replicas got
    the same BerichtId at once): wait a moment and handle it again, then it is a duplicate."""


class Stale(Busy):
    """The facts a decision was made on changed before it was carried out (another process
    accepted an afspraken versie: v2 §6, §7): nothing was done; gather the facts and decide
    again."""
