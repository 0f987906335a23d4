"""The gateway at run time: consume, run the pipeline, deliver, answer, acknowledge.

For every message on the ingress queue, in order (see ``gateway.decision.pipeline`` for the decision
steps)::

    ingress → validate → translate → [duplicate?] → authorise → doelbinding → route
            → filter → render → plan (state) → deliver (confirms) → answer → mark → ack

Delivery is at-least-once from the broker's point of view and made effectively once by the
state store: a message is planned before it is published and marked after the confirms, and
the ingress message is acknowledged last. A redelivered ingress message (after a crash) finds
its plan and publishes only what was not confirmed; those re-publications carry the header
``ketenpoort-herhaald: true`` (and the same ``message_id`` = BerichtId), so a recipient can
recognise the one case where it may see a message twice: a crash between the broker's
confirm and the state commit. A graceful stop finishes every message in flight first.

Collaborators (broker, state store, codec, router) are passed in; ``gateway.runtime.app``
wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aio_pika.abc import AbstractIncomingMessage

from gateway.audit.log import AuditLog, Entry
from gateway.codec.envelope import MessageCodec
from gateway.decision import pipeline
from gateway.decision.routing import Router
from gateway.decision.trail import Trail
from gateway.domain.errors import Busy, Refused, Transient
from gateway.domain.model import Afleverbevestiging, Bericht, Foutcode, Statusvraag
from gateway.observe.logs import get_logger
from gateway.observe.metrics import Metrics
from gateway.policy.catalogue import Policy
from gateway.runtime import status
from gateway.store.state import Bekend, StateStore, Status
from gateway.transport.rabbit import (
    AFZENDER,
    AFZENDER_ONBEKEND,
    HERHAALD,
    NIVEAU,
    POGING,
    REDEN,
    SOORT,
    ZONDER_USER_ID,
    Topology,
)

log = get_logger("ketenpoort.service")

# How long a replica's claim on a message it is delivering stands before another process may
# finish the delivery (the claimant died half-way). A live replica needs milliseconds.
CLAIM_SECONDS = 15.0
BUSY_PAUSE_S = 0.05


@dataclass(frozen=True)
class Antwoord:
    """The gateway's answer to one message: the bytes, and the Foutbericht code if refused."""

    body: bytes
    foutcode: Foutcode | None = None


class Publisher(Protocol):
    """What the service needs of the transport."""

    topology: Topology

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str | None = None,
        type_: str | None = None,
        correlation_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None: ...

    async def forward(
        self,
        exchange: str,
        routing_key: str,
        message: AbstractIncomingMessage,
        headers: dict[str, Any],
    ) -> None: ...


async def record_follow_up(
    audit: AuditLog,
    trail: Trail,
    policy: Policy,
    gebeurtenis: str,
    *,
    afzender: str,
    bericht_id: str,
    ontvanger_oin: str,
    status: str,
    unique: str = "",
) -> None:
    """Audit a later step of a delivery (bevestigd, niet-afleverbaar, replayed) for every data
    subject whose data went to that recipient."""
    partner = policy.partners.get(ontvanger_oin)
    await audit.append(
        trail.follow_up(
            gebeurtenis,
            afzender=afzender,
            bericht_id=bericht_id,
            ontvanger=(ontvanger_oin, partner.rol.value if partner else ""),
            subjects=await audit.subjects_delivered(bericht_id, ontvanger_oin),
            status=status,
            bewaartermijn_dagen=policy.bewaartermijn_dagen(),
            unique=unique,
        )
    )


class Gateway:
    """Runs the pipeline for every ingress message and handles bounced deliveries."""

    def __init__(
        self,
        *,
        codec: MessageCodec,
        router: Router,
        broker: Publisher,
        state: StateStore,
        audit: AuditLog,
        trail: Trail,
        gateway_oin: str,
        retry_delays_ms: tuple[int, ...],
        metrics: Metrics,
        owner: str,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.codec = codec
        self.router = router
        self.broker = broker
        self.state = state
        self.audit = audit
        self.trail = trail
        self.gateway_oin = gateway_oin
        self.retry_delays_ms = retry_delays_ms
        self.metrics = metrics
        self.owner = owner  # this process's name in claims (its audit log id)
        self.clock = clock
        self.topology = broker.topology
        self._in_flight: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one ingress message at a time: order within a conversation

    # ----------------------------------------------------------------- AMQP handlers

    async def on_ingress(self, message: AbstractIncomingMessage) -> None:
        """Consumer callback for the ingress queue."""
        with self._tracked():
            try:
                sender = message.user_id or ""
                if sender not in self.router.policy.partners:
                    await self._set_aside(message, AFZENDER_ONBEKEND if sender else ZONDER_USER_ID)
                    await message.ack()
                    return
                headers = message.headers or {}
                traceparent = headers.get("traceparent")
                await self._handle_when_free(
                    message.body,
                    message.user_id or "",
                    traceparent=traceparent if isinstance(traceparent, str) else None,
                    redelivered=bool(message.redelivered),
                    reply=True,
                    kanaal="amqp",
                )
                await message.ack()
            except Transient as exc:
                # Broker or store trouble: leave the message on the queue; it comes back.
                log.warning("bericht_uitgesteld", reden=str(exc))
                await self._wait_for_audit()
                await asyncio.sleep(0.5)
                await message.nack(requeue=True)
            except Exception as exc:  # noqa: BLE001 - a bug of ours must not lose the message
                # Not the sender's fault and not transient: keep it in the ingress dead-letter
                # queue for ops (it was not delivered, nor audited as accepted).
                log.error("bericht_interne_fout", fout=type(exc).__name__)
                await message.nack(requeue=False)

    async def _set_aside(self, message: AbstractIncomingMessage, reden: str) -> None:
        """No trustworthy sender (no user_id, or a user outside the register): nobody to
        answer, so keep it in the ops queue (confirmed) for an operator, never drop it."""
        headers = {**(message.headers or {}), REDEN: reden}
        if message.user_id:
            headers[AFZENDER] = message.user_id
        await self.broker.forward(
            self.topology.ops_exchange, message.routing_key or "", message, headers
        )
        self.metrics.set_aside.labels(reden).inc()
        log.warning(
            "bericht_apart_gezet", reden=reden, user=message.user_id, bytes=len(message.body)
        )

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """The current task is in flight (a graceful stop waits for it) while inside."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _wait_for_audit(self) -> None:
        """Fail closed: while the audit store cannot be written, deliver nothing at all."""
        if self.audit.writable:
            return
        log.error("gateway_niet_gereed", reden="audit store not writable")
        async with self._lock:  # no other message passes while we wait
            while not await self.audit.probe():
                await asyncio.sleep(1)
        log.info("gateway_weer_gereed")

    @property
    def ready(self) -> bool:
        return self.audit.writable

    # ----------------------------------------------------------------- HTTPS door

    async def submit(
        self, raw: bytes, afzender_oin: str, *, traceparent: str | None = None
    ) -> Antwoord:
        """One message from the HTTPS door: the whole pipeline, the answer returned (not
        also queued: the sender has it in the response). Transient when the broker or the
        audit store fails: nothing was accepted, the sender retries (the same BerichtId
        resumes where it stopped)."""
        with self._tracked():
            antwoord = await self._handle_when_free(
                raw,
                afzender_oin,
                traceparent=traceparent,
                redelivered=False,
                reply=False,
                kanaal="https",
            )
        if antwoord is None:  # only for a sender outside the register; the door checks first
            raise Refused(Foutcode.AFZENDER_ONJUIST, f"{afzender_oin} is not a known partner")
        return antwoord

    async def _handle_when_free(
        self,
        raw: bytes,
        afzender_oin: str,
        *,
        traceparent: str | None,
        redelivered: bool,
        reply: bool,
        kanaal: str,
    ) -> Antwoord | None:
        """``handle`` under this process's lock, timed; while another process is delivering
        the same message (Busy), let go of the lock, wait a moment and try again."""
        started = time.perf_counter()
        while True:
            try:
                async with self._lock:
                    antwoord = await self.handle(
                        raw,
                        afzender_oin,
                        traceparent=traceparent,
                        redelivered=redelivered,
                        reply=reply,
                        kanaal=kanaal,
                    )
                self.metrics.pipeline_seconds.labels(kanaal).observe(time.perf_counter() - started)
                return antwoord
            except Busy as busy:
                log.info("bericht_elders_in_behandeling", afzender=afzender_oin, reden=str(busy))
                await asyncio.sleep(BUSY_PAUSE_S)

    async def reject(self, raw: bytes, afzender_oin: str, refused: Refused) -> Antwoord:
        """Refuse a message at the door (content type, size) like any other: audited, with a
        Foutbericht, not queued."""
        self.metrics.received.labels("https", afzender_oin).inc()
        answer = await self._refuse(refused, pipeline.ingress(raw, afzender_oin), None, reply=False)
        return Antwoord(answer, refused.code)

    async def _record(self, entries: Sequence[Entry]) -> None:
        """Append to the audit trail, timed."""
        started = time.perf_counter()
        try:
            await self.audit.append(entries)
        finally:
            self.metrics.audit_append_seconds.observe(time.perf_counter() - started)

    async def drain(self) -> None:
        """Wait for every message in flight (graceful stop)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    # ----------------------------------------------------------------- one message

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
        """The whole pipeline for one message; returns the answer (None: nobody to tell).

        ``reply``: also put the answer in the sender's inbox (AMQP senders); the HTTPS door
        returns it in the response instead.
        """
        ontvangen = pipeline.ingress(raw, afzender_oin, traceparent)
        bound = log.bind(afzender=afzender_oin, sha256=ontvangen.sha256[:16], kanaal=kanaal)
        bound.info("bericht_ontvangen", bytes=len(raw))
        self.metrics.received.labels(kanaal, afzender_oin).inc()
        if afzender_oin not in self.router.policy.partners:
            bound.warning("afzender_onbekend")  # no inbox to answer to; nothing is delivered
            return None
        bericht: Bericht | None = None
        try:
            gelezen = pipeline.validate_and_translate(self.codec, ontvangen)
            bericht = gelezen.bericht
            bound = bound.bind(
                bericht_id=bericht.kop.bericht_id, berichttype=bericht.kop.berichttype.value
            )
            bound.info("bericht_gevalideerd")
            if bericht.kop.berichttype.technisch:
                return Antwoord(await self._technical(gelezen, reply=reply))
            bekend = await self.state.lookup(afzender_oin, bericht.kop.bericht_id)
            if bekend is not None:
                answer = await self._known(gelezen, bekend, redelivered=redelivered, reply=reply)
                if answer is not None:
                    return Antwoord(answer)
            gerouteerd = pipeline.authorise_and_route(self.router, gelezen)
            besluit = pipeline.filter_and_render(self.codec, gerouteerd)
        except Refused as refused:
            return Antwoord(
                await self._refuse(refused, ontvangen, bericht, reply=reply), refused.code
            )
        if not await self._claim(besluit):
            raise Busy(f"BerichtId {bericht.kop.bericht_id} was planned by another process")
        bound.info(
            "bericht_gerouteerd",
            doel=besluit.gerouteerd.routering.doel.value,
            ontvangers=[lev.ontvanger.partner.oin for lev in besluit.leveringen],
            policy=besluit.gerouteerd.routering.policy_versie,
        )
        return Antwoord(await self._deliver(besluit, herhaald=False, reply=reply))

    async def _deliver(
        self,
        besluit: pipeline.Besluit,
        *,
        herhaald: bool,
        alleen: set[str] | None = None,
        reply: bool = True,
    ) -> bytes:
        """(claimed) → audit → publish each delivery (confirms) → mark → answer."""
        # Nothing leaves before its audit records are durably committed (fail closed).
        await self._record(
            self.trail.accepted(
                besluit,
                self.router.policy.bewaartermijn_dagen(besluit.gerouteerd.routering.doel),
            )
        )
        bericht = besluit.bericht
        kop = bericht.kop
        afzender = kop.afzender.oin
        leveringen = [
            lev
            for lev in besluit.leveringen
            if alleen is None or lev.ontvanger.partner.oin in alleen
        ]
        await asyncio.gather(
            *(
                self.broker.publish(
                    self.topology.deliver_exchange,
                    lev.ontvanger.partner.oin,
                    lev.payload,
                    message_id=kop.bericht_id,
                    type_=kop.berichttype.value,
                    correlation_id=kop.conversatie_id,
                    headers={
                        SOORT: "levering",
                        AFZENDER: afzender,
                        POGING: 0,
                        HERHAALD: herhaald,
                        **({"traceparent": kop.traceparent} if kop.traceparent else {}),
                    },
                )
                for lev in leveringen
            )
        )
        # Mark right after the confirms: this commit is the only window in which a crash can
        # make a delivery be published again (flagged ketenpoort-herhaald).
        await self.state.published(
            afzender, kop.bericht_id, [lev.ontvanger.partner.oin for lev in leveringen]
        )
        for lev in leveringen:
            self.metrics.delivered.labels(kop.berichttype.value, lev.ontvanger.partner.oin).inc()
            log.info(
                "bericht_afgeleverd",
                bericht_id=kop.bericht_id,
                ontvanger=lev.ontvanger.partner.oin,
                sha256=lev.sha256[:16],
                herhaald=herhaald,
            )
        if not herhaald:
            self.metrics.accepted.labels(kop.berichttype.value, afzender).inc()
        answer = pipeline.ontvangstbevestiging(self.codec, besluit, self.gateway_oin, self.clock())
        if reply:
            await self._answer(afzender, answer, kop.bericht_id, herhaald=herhaald)
        await self.state.answered(afzender, kop.bericht_id, answer)
        log.info("bericht_bevestigd", bericht_id=kop.bericht_id, afzender=afzender)
        return answer

    async def _claim(self, besluit: pipeline.Besluit) -> bool:
        """Plan the deliveries under this process's claim; False when another process
        planned the same message first (it delivers; this one answers it as a duplicate)."""
        kop = besluit.bericht.kop
        return await self.state.plan(
            kop.afzender.oin,
            kop.bericht_id,
            besluit.gerouteerd.gelezen.ontvangen.sha256,
            kop.berichttype.value,
            kop.conversatie_id,
            [
                (lev.ontvanger.partner.oin, lev.ontvanger.partner.rol.value, lev.sha256)
                for lev in besluit.leveringen
            ],
            eigenaar=self.owner,
        )

    async def _known(
        self, gelezen: pipeline.Gelezen, bekend: Bekend, *, redelivered: bool, reply: bool
    ) -> bytes | None:
        """A BerichtId seen before: answer again, resume after a crash, or DUBBEL_BERICHT.

        ``redelivered``: the broker hands us this same ingress message again (we stopped
        before acknowledging it). If its answer is stored, the answer was confirmed by the
        broker before it was stored, so the sender has it: only acknowledge. A duplicate the
        sender sent itself gets the original answer again (spec §6).
        """
        kop = gelezen.bericht.kop
        if bekend.sha256 != gelezen.ontvangen.sha256:
            raise Refused(
                Foutcode.DUBBEL_BERICHT,
                f"BerichtId {kop.bericht_id} was already received with other content",
                element="kp:BerichtId",
            )
        if bekend.antwoord is not None and redelivered:
            log.info(
                "bericht_al_afgehandeld", bericht_id=kop.bericht_id, afzender=bekend.afzender_oin
            )
            return bekend.antwoord
        if bekend.antwoord is not None:
            log.info("bericht_dubbel", bericht_id=kop.bericht_id, afzender=bekend.afzender_oin)
            if reply:
                await self._answer(bekend.afzender_oin, bekend.antwoord, kop.bericht_id)
            return bekend.antwoord
        # Planned but never answered: another process is delivering it right now, or a
        # gateway stopped half-way. Only the claimant (or whoever takes over a stale claim)
        # goes on, and publishes what is unconfirmed.
        if not await self.state.take_over(
            bekend.afzender_oin,
            kop.bericht_id,
            self.owner,
            dt.timedelta(seconds=CLAIM_SECONDS),
        ):
            raise Busy(f"BerichtId {kop.bericht_id} is being delivered by {bekend.eigenaar}")
        gepland = {lev.ontvanger_oin for lev in bekend.leveringen if lev.status is Status.GEPLAND}
        log.warning("bericht_hervat", bericht_id=kop.bericht_id, open=sorted(gepland))
        gerouteerd = pipeline.authorise_and_route(self.router, gelezen)
        besluit = pipeline.filter_and_render(self.codec, gerouteerd)
        planned = {lev.ontvanger_oin for lev in bekend.leveringen}
        besluit = pipeline.Besluit(
            gerouteerd=besluit.gerouteerd,
            leveringen=tuple(
                lev for lev in besluit.leveringen if lev.ontvanger.partner.oin in planned
            ),
        )
        return await self._deliver(besluit, herhaald=True, alleen=gepland, reply=reply)

    async def _technical(self, gelezen: pipeline.Gelezen, *, reply: bool) -> bytes:
        bericht = gelezen.bericht
        kop = bericht.kop
        afzender = gelezen.ontvangen.afzender_oin
        if isinstance(bericht.inhoud, Statusvraag):
            answer = await status.answer(
                self.state, self.codec, kop, afzender, self.gateway_oin, self.clock()
            )
            log.info("status_gevraagd", bericht_id=kop.in_antwoord_op, afzender=afzender)
            if reply:
                await self._answer(afzender, answer, kop.bericht_id)
            return answer
        if not isinstance(bericht.inhoud, Afleverbevestiging):
            raise Refused(
                Foutcode.AFZENDER_NIET_GEAUTORISEERD,
                f"only the gateway sends a {kop.berichttype.value}",
                element="kp:BerichtType",
            )
        if kop.afzender.oin != afzender:
            raise Refused(
                Foutcode.AFZENDER_ONJUIST,
                f"Afzender says {kop.afzender.oin} but the message comes from {afzender}",
                element="kp:Afzender",
            )
        if kop.in_antwoord_op is None:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                "an Afleverbevestiging names the delivered BerichtId in kp:InAntwoordOp",
                element="kp:InAntwoordOp",
            )
        senders = await self.state.delivered(
            afzender, kop.in_antwoord_op, [o.oin for o in kop.ontvangers]
        )
        if not senders:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"InAntwoordOp {kop.in_antwoord_op} names no message delivered to {afzender}",
                element="kp:InAntwoordOp",
            )
        self.metrics.confirmed.labels(afzender).inc()
        for sender in senders:
            await record_follow_up(
                self.audit,
                self.trail,
                self.router.policy,
                "bevestigd",
                afzender=sender,
                bericht_id=kop.in_antwoord_op,
                ontvanger_oin=afzender,
                status="afgeleverd",
            )
        log.info(
            "bericht_bevestigd_door_ontvanger", bericht_id=kop.in_antwoord_op, ontvanger=afzender
        )
        answer = pipeline.bevestiging(self.codec, kop, self.gateway_oin, self.clock())
        if reply:
            await self._answer(afzender, answer, kop.bericht_id)
        return answer

    async def _refuse(
        self,
        refused: Refused,
        ontvangen: pipeline.Ontvangen,
        bericht: Bericht | None,
        *,
        reply: bool = True,
    ) -> bytes:
        bericht_id, conversatie_id = pipeline.answer_ids(ontvangen, bericht)
        doel = bericht.kop.doelbinding.doel if bericht and bericht.kop.doelbinding else None
        self.metrics.refused.labels(
            refused.code.value,
            bericht.kop.berichttype.value if bericht else "",
            ontvangen.afzender_oin,
        ).inc()
        await self._record(
            self.trail.refused(
                refused,
                ontvangen,
                bericht,
                bericht_id,
                self.router.policy.bewaartermijn_dagen(doel),
            )
        )
        answer = pipeline.foutbericht(
            self.codec,
            refused,
            self.gateway_oin,
            self.clock(),
            in_antwoord_op=bericht_id,
            conversatie_id=conversatie_id,
        )
        # The reason may quote content (an invalid value); the log gets code and place only.
        log.info(
            "bericht_geweigerd",
            afzender=ontvangen.afzender_oin,
            bericht_id=bericht_id,
            code=refused.code.value,
            element=refused.element,
            regel=refused.regel,
        )
        if reply:
            await self._answer(ontvangen.afzender_oin, answer, bericht_id)
        return answer

    async def _answer(
        self, oin: str, answer: bytes, in_antwoord_op: str | None, *, herhaald: bool = False
    ) -> None:
        await self.broker.publish(
            self.topology.deliver_exchange,
            oin,
            answer,
            message_id=pipeline.own_bericht_id(answer),
            correlation_id=in_antwoord_op,
            type_="antwoord",
            headers={SOORT: "antwoord", AFZENDER: self.gateway_oin, POGING: 0, HERHAALD: herhaald},
        )

    # ----------------------------------------------------------------- bounced deliveries

    async def on_bounced(self, message: AbstractIncomingMessage) -> None:
        """A recipient rejected a message (or it expired): retry with back-off, or give up."""
        try:
            await self.bounce(message)
            await message.ack()
        except Transient as exc:
            log.warning("terugval_uitgesteld", reden=str(exc))
            await self._wait_for_audit()
            await asyncio.sleep(0.5)
            await message.nack(requeue=True)

    async def bounce(self, message: AbstractIncomingMessage) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        deaths = headers.get("x-death") or []
        death: dict[str, Any] = deaths[0] if isinstance(deaths, list) and deaths else {}
        reason = str(death.get("reason", "rejected"))
        keys = death.get("routing-keys") or []
        ontvanger = str(keys[0]) if keys else str(message.routing_key or "")
        poging = int(headers.get(POGING) or 0)
        afzender = str(headers.get(AFZENDER, ""))
        soort = str(headers.get(SOORT, "levering"))
        bericht_id = message.message_id or ""
        bound = log.bind(bericht_id=bericht_id, ontvanger=ontvanger, poging=poging, reden=reason)
        if reason != "expired" and poging < len(self.retry_delays_ms):
            headers.pop("x-death", None)
            headers.update({POGING: poging + 1, NIVEAU: poging})
            await self.broker.forward(self.topology.retry_exchange, ontvanger, message, headers)
            if soort == "levering":
                await self.state.retried(afzender, bericht_id, ontvanger)
            self.metrics.retried.labels(ontvanger).inc()
            bound.info("bericht_opnieuw_gepland", vertraging_ms=self.retry_delays_ms[poging])
            return
        headers.pop("x-death", None)
        await self.broker.forward(
            self.topology.dlq_exchange, ontvanger, message, {**headers, "ketenpoort-reden": reason}
        )
        bound.warning("bericht_niet_afleverbaar")
        self.metrics.dead_lettered.labels(message.type or "", ontvanger).inc()
        if soort != "levering" or afzender not in self.router.policy.partners:
            return  # an answer of ours that its sender would not take: kept, nobody to tell
        await self.state.undeliverable(afzender, bericht_id, ontvanger)
        await record_follow_up(
            self.audit,
            self.trail,
            self.router.policy,
            "niet-afleverbaar",
            afzender=afzender,
            bericht_id=bericht_id,
            ontvanger_oin=ontvanger,
            status=reason,
        )
        refused = Refused(
            Foutcode.NIET_AFLEVERBAAR,
            f"recipient {ontvanger} did not take message {bericht_id} after "
            f"{poging + 1} attempts ({reason}); it is kept in the dead-letter queue",
        )
        bekend = await self.state.lookup(afzender, bericht_id)
        answer = pipeline.foutbericht(
            self.codec,
            refused,
            self.gateway_oin,
            self.clock(),
            in_antwoord_op=bericht_id,
            conversatie_id=bekend.conversatie_id if bekend else None,
        )
        await self._answer(afzender, answer, bericht_id)
