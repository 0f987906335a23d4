"""The gateway at run time: for every message, the facts, the decision, the effects.

    read (pure) → facts (I/O) → decide (pure) → claim → audit → publish → mark → answer → ack

One path for every door: the AMQP consumer (``gateway.runtime.consumers``), the HTTPS door
(:meth:`Gateway.submit`, :meth:`Gateway.reject`) and, offline, ``ketenpoort route``, which runs
the same :class:`~gateway.decision.pipeline.Pipeline`. Messages that share a conversation or a
BerichtId take turns in arrival order (:class:`Turns`), and so do the afspraken versies and
the messages matched against the afspraken (v2 §6, §7: a melding that arrives after a
withdrawal is not signalled on the withdrawn reeks; those matched go side by side); others are
handled side by side, as two replicas would handle them (the claim, the state's conditional
updates and the audit's group commit are made for that), so their commits and the broker's
confirms overlap. While another process delivers the same message (:class:`Busy`), the turn
is let go and the message tried again a moment later. A graceful stop finishes every message
in flight first. Collaborators are passed in; ``app`` wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import NamedTuple

from gateway.audit.log import AuditLog
from gateway.decision.besluit import Gelezen, Onbekend, Vraag, Weigering, ingress
from gateway.decision.pipeline import Pipeline
from gateway.domain.errors import Busy, Refused, Stale
from gateway.domain.model import Foutcode
from gateway.observe.logs import get_logger
from gateway.runtime.effects import Antwoord, Effects
from gateway.runtime.facts import FactFinder
from gateway.runtime.observer import Observer
from gateway.runtime.turns import Turns

log = get_logger("ketenpoort.service")

BUSY_PAUSE_S = 0.05
# The key every afspraken versie takes alone and every message matched against the
# afspraken takes shared (v2 §7): a withdrawal carries no address or person to key it by.
AFSPRAKEN = "afspraken"


class Gateway:
    """Runs the decision path for every message and carries out what it decides."""

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        facts: FactFinder,
        effects: Effects,
        observer: Observer,
        audit: AuditLog,
    ) -> None:
        self.pipeline = pipeline
        self.facts = facts
        self.effects = effects
        self.observer = observer
        self.audit = audit
        self._in_flight: set[asyncio.Task[None]] = set()
        self.turns = Turns()  # order within a conversation, a BerichtId, the afspraken
        self._herstel = asyncio.Lock()  # one waits for the audit store, the others for it

    async def handle(
        self,
        raw: bytes,
        afzender_oin: str,
        *,
        traceparent: str | None = None,
        redelivered: bool = False,
        reply: bool = True,
        kanaal: str = "amqp",
    ) -> Antwoord | None:
        """The whole path for one message; the answer (None: nobody to tell).

        Read once (pure: the bytes do not change), then in its turn (queued before anything
        is awaited, so in arrival order), timed; while another process is delivering the
        same message (Busy), let go of the turn, wait a moment and gather the facts and
        decide again.
        """
        ontvangen = ingress(raw, afzender_oin, traceparent, herbezorgd=redelivered)
        started = time.perf_counter()
        with self.observer.message(ontvangen, kanaal):
            gelezen = self.pipeline.read(ontvangen, self.facts.now())
            once: Callable[[], Awaitable[Antwoord | None]]
            if isinstance(gelezen, Gelezen):
                vraag = self.pipeline.vraag(gelezen)  # pure: once, for the turn and the facts
                keys = beurt(vraag)
                once = functools.partial(self._decide, gelezen, vraag, reply=reply)
            else:
                keys = beurt(gelezen)
                once = functools.partial(self._carry_out_read, gelezen, reply=reply)
            while True:
                try:
                    async with self.turns.turn(keys.alone, keys.shared):
                        antwoord = await once()
                    self.observer.timed(kanaal, time.perf_counter() - started)
                    return antwoord
                except Busy as busy:
                    log.info("bericht_elders_in_behandeling", reden=str(busy))
                    await asyncio.sleep(BUSY_PAUSE_S)

    async def _carry_out_read(
        self, besluit: Weigering | Onbekend, *, reply: bool
    ) -> Antwoord | None:
        """What reading decided alone: a refusal, or a sender outside the register."""
        self.observer.decided(besluit)
        return await self.effects.carry_out(besluit, reply=reply)

    async def _decide(self, gelezen: Gelezen, vraag: Vraag, *, reply: bool) -> Antwoord | None:
        """A read message: its facts, its decision, its effects. When the facts changed
        before the decision was carried out (:class:`Stale`: another process accepted an
        afspraken versie meanwhile; nothing was done), they are gathered and the message
        decided again, in the same turn."""
        with self.observer.bericht(gelezen):
            while True:
                feiten = await self.facts.gather(vraag)
                besluit = self.pipeline.decide(gelezen, feiten)
                self.observer.decided(besluit)
                try:
                    return await self.effects.carry_out(besluit, reply=reply)
                except Stale as stale:
                    log.info("bericht_opnieuw_besloten", reden=str(stale))

    # ----------------------------------------------------------------- HTTPS door

    async def submit(
        self, raw: bytes, afzender_oin: str, *, traceparent: str | None = None
    ) -> Antwoord:
        """One message from the HTTPS door: the whole path, the answer returned (not also
        queued: the sender has it in the response). Transient when the broker or the audit
        store fails: nothing was accepted, the sender retries (the same BerichtId resumes
        where it stopped)."""
        with self.tracked():
            antwoord = await self.handle(
                raw, afzender_oin, traceparent=traceparent, reply=False, kanaal="https"
            )
        if antwoord is None:  # only for a sender outside the register; the door checks first
            raise Refused(Foutcode.AFZENDER_ONJUIST, f"{afzender_oin} is not a known partner")
        return antwoord

    async def reject(self, raw: bytes, afzender_oin: str, refused: Refused) -> Antwoord:
        """Refuse a message at the door (content type, size) like any other: audited, with a
        Foutbericht, not queued."""
        ontvangen = ingress(raw, afzender_oin)
        with self.observer.message(ontvangen, "https"):
            weigering = self.pipeline.weiger(ontvangen, refused, self.facts.now())
            self.observer.decided(weigering)
            antwoord = await self.effects.carry_out(weigering, reply=False)
        assert antwoord is not None
        return antwoord

    # ----------------------------------------------------------------- life cycle

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        """The current task is in flight (a graceful stop waits for it) while inside."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def wait_for_audit(self) -> None:
        """Fail closed: while the audit store cannot be written, no message starts its turn
        (those in theirs meet the same store and are put back too)."""
        async with self._herstel:
            if self.audit.writable:
                return
            log.error("gateway_niet_gereed", reden="audit store not writable")
            async with self.turns.closed():
                while not await self.audit.probe():
                    await asyncio.sleep(1)
            log.info("gateway_weer_gereed")

    @property
    def ready(self) -> bool:
        return self.audit.writable

    async def drain(self) -> None:
        """Wait for every message in flight (graceful stop)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)


class TurnKeys(NamedTuple):
    """The keys of a message's turn: those it takes alone and those it takes shared."""

    alone: tuple[str, ...]
    shared: tuple[str, ...] = ()


def beurt(wat: Vraag | Weigering | Onbekend) -> TurnKeys:
    """The keys of a message's turn. For a read message (its :class:`Vraag`): its
    conversation and its sender's BerichtId, alone; an afspraken versie (v2 §6) also takes
    :data:`AFSPRAKEN` alone (a withdrawal names no address or person), a message matched
    against the afspraken (v2 §7) takes it shared: it waits for an earlier versie or
    withdrawal, a versie for every earlier one of them, and those matched go side by side.
    For a refusal what it names of its conversation and BerichtId; none for a sender
    outside the register (nothing is recorded or answered)."""
    if isinstance(wat, Vraag):
        keys = [
            f"conversatie:{wat.conversatie_id}",
            f"bericht:{wat.afzender_oin}|{wat.bericht_id}",
        ]
        if wat.reeks_id is not None:  # every reeks: a melding may match any of them
            keys.append(AFSPRAKEN)
        return TurnKeys(tuple(keys), (AFSPRAKEN,) if wat.sleutels else ())
    if isinstance(wat, Weigering):
        afzender = wat.ontvangen.afzender_oin
        keys = [f"bericht:{afzender}|{wat.bericht_id}"] if wat.bericht_id else []
        if wat.bericht is not None:
            keys.append(f"conversatie:{wat.bericht.kop.conversatie_id}")
        return TurnKeys(tuple(keys))
    return TurnKeys(())


__all__ = ["AFSPRAKEN", "Gateway", "TurnKeys", "beurt"]
