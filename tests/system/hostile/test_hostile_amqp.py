"""The hostile corpus over AMQP, against one real gateway for the whole module.

One module-scoped fixture starts a gateway in this process (``run_gateway``, as every broker
test does, on its own prefix, state and audit store), sends every case of the corpus as its
partner's RabbitMQ user, one at a time, and records what came back: the sender's answer, and
what every one of the six inboxes received because of it. Sending one case at a time, and
waiting for its answer first, means an answer that names no BerichtId (a message too broken
to find one in) still belongs to exactly one case. The tests then check the record:

- per case: exactly one answer, from the gateway, with the expected code and element (or,
  for the few accepted cases, an Ontvangstbevestiging and a delivery to exactly the expected
  recipients), correlated to the case (kp:InAntwoordOp and the AMQP ``correlation_id`` are its
  BerichtId, or absent when none can be found), nothing delivered to anyone, nothing of
  ``case.forbidden`` in any byte that came back, within seconds;
- canaries: no case made the gateway connect to the canary URL or open the canary FIFO;
- afterwards: every inbox and the ingress queue are empty, and a valid message is still
  accepted and delivered (the gateway is ready);
- memory: see :func:`test_memory_stays_bounded`.

Cases in ``KNOWN_BUGS`` (corpus.py) are marked ``xfail(strict=True)`` with the reason: they
document where the gateway does not answer as it must yet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import (
    DOOR_CODES,
    Bericht,
    Foutbericht,
    Foutcode,
    Ontvangstbevestiging,
    TechnischType,
)
from gateway.runtime.settings import Settings
from gateway.safexml import xmlsafe
from tests.support import catalogue
from tests.support.broker import OINS, PASSWORD, rabbitmqctl
from tests.support.gateways import Running, run_gateway
from tests.support.hostile_corpus import GATEWAY_OIN, KNOWN_BUGS, Case, corpus
from tests.support.hostile_probes import (
    Canary,
    Memory,
    answer_budget,
    release_free_memory,
    reset_peak,
    status_kib,
)
from tests.support.messages import fresh
from tests.support.partners import RabbitPartner, drain, read_until_quiet, split
from tests.support.paths import EXAMPLES_DIR
from tests.support.settings import local_settings
from tests.support.waiting import CEILING_S, wait_until

pytestmark = pytest.mark.broker

ANSWER_TIMEOUT = CEILING_S  # a hang, not slowness (how fast: answer_budget, per run)
LARGE_TIMEOUT = 120.0  # ... for a case of tens of megabytes through the broker
GIVE_UP_AFTER = 3  # consecutive cases without an answer: the gateway is gone, stop sending
MIB = 1024 * 1024
KP = "{urn:ketenpoort:envelop:1}"
SPAWN = multiprocessing.get_context("spawn")  # a clean child: no copy of this process

NAMES = [case.name for case in corpus()]  # stable names (the ids below); BerichtIds differ


# --------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    """What came back for one message: its answer and every delivery it caused."""

    answers: list[AbstractIncomingMessage] = field(default_factory=list)
    deliveries: dict[str, list[AbstractIncomingMessage]] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def delivered(self) -> dict[str, int]:
        return {name: len(msgs) for name, msgs in self.deliveries.items() if msgs}


@dataclass
class Run:
    cases: dict[str, Case]
    outcomes: dict[str, Outcome]
    late: dict[str, int]  # anything in any inbox after the corpus, once all was answered
    ingress_left: tuple[int, int] | str  # (ready, unacknowledged) on ingress; str: no count
    valid: Outcome  # a valid message sent after the corpus
    valid_id: str
    memory: Memory
    canary_hits: list[str]


async def _answer(partner: RabbitPartner, timeout: float) -> Outcome:
    """Wait for the partner's next answer; what else arrives meanwhile are deliveries."""
    queue = await partner.channel.get_queue(partner.topology.inbox(partner.oin), ensure=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    outcome = Outcome()
    own: list[AbstractIncomingMessage] = []
    while not outcome.answers:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            if loop.time() > deadline:
                outcome.error = f"no answer within {timeout} s"
                break
            await asyncio.sleep(0.01)
            continue
        await message.ack()
        deliveries, answers = split([message])
        own += deliveries
        outcome.answers += answers
    outcome.deliveries = {"__own__": own}
    return outcome


def _publish_elsewhere(make: Callable[[], bytes], url: str, exchange: str, oin: str) -> None:
    """In a child process: make the bytes and publish them as partner ``oin`` (confirmed)."""

    async def publish() -> None:
        connection = await aio_pika.connect(url)
        try:
            channel = await connection.channel(publisher_confirms=True)
            ingress = await channel.get_exchange(exchange, ensure=False)
            message = aio_pika.Message(
                make(), user_id=oin, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            await ingress.publish(message, routing_key="ingress", mandatory=True)
        finally:
            await connection.close()

    asyncio.run(publish())


async def _send(running: Running, case: Case, timeout: float) -> Outcome:
    """Publish one case as its partner, wait for the answer, collect every inbox.

    A large case is made and published by a child process: the copies the publishing client
    makes (the bytes, AMQP frames, write buffers: about three times the message) are then not
    counted as this process's memory, which is the gateway's.
    """
    partner = running.partner(case.sender)
    assert isinstance(partner, RabbitPartner)  # the hostile suite runs on RabbitMQ
    start = time.perf_counter()
    child = None
    if case.large:
        url = f"amqp://{partner.oin}:{PASSWORD}@127.0.0.1:5672/{partner.vhost}"
        child = SPAWN.Process(
            target=_publish_elsewhere,
            args=(case.make, url, running.topology.ingress_exchange, partner.oin),
        )
        child.start()
    else:
        await partner.send(case.data())
    outcome = await _answer(partner, timeout)
    outcome.seconds = time.perf_counter() - start
    if child is not None:
        await asyncio.get_running_loop().run_in_executor(None, child.join, 30)
        if child.exitcode != 0 and outcome.error is None:
            outcome.error = f"the publishing child process ended with {child.exitcode}"
    # Deliveries are confirmed before the answer is published: every inbox is final now.
    own = outcome.deliveries.pop("__own__")
    for name, other in running.partners.items():
        deliveries, answers = split(await drain(other))
        outcome.answers += answers  # a second answer (to anyone) is itself a failure
        outcome.deliveries[name] = (own + deliveries) if name == case.sender else deliveries
    return outcome


def _messages_on(vhost: str, queue: str) -> tuple[int, int]:
    """(ready, unacknowledged) messages on a queue, as the broker counts them."""
    for row in rabbitmqctl(
        "list_queues", "-p", vhost, "name", "messages_ready", "messages_unacknowledged"
    ).splitlines():
        name, *counts = row.split()
        if name == queue:
            ready, unacknowledged = (int(c) for c in counts)
            return ready, unacknowledged
    raise AssertionError(f"no queue {queue} in vhost {vhost}")


async def _ingress_settled(vhost: str, queue: str) -> tuple[int, int]:
    """The ingress counts once nothing is left, or as they stand after CEILING_S (the broker
    counts an acknowledgement a moment after the gateway sent it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CEILING_S
    while True:
        counts = await loop.run_in_executor(None, _messages_on, vhost, queue)
        if counts == (0, 0) or loop.time() > deadline:
            return counts
        await asyncio.sleep(1)


async def _run(settings: Settings, vhost: str, canary: Canary) -> Run:
    cases = corpus(canary.canaries)
    outcomes: dict[str, Outcome] = {}
    async with run_gateway(settings, vhost) as running:
        release_free_memory()
        reset = reset_peak()
        rss_before = status_kib("VmRSS") * 1024
        peak_before = status_kib("VmHWM") * 1024
        silent = 0
        for case in cases:
            if silent >= GIVE_UP_AFTER:
                outcomes[case.name] = Outcome(error="not sent: the gateway stopped answering")
                continue
            timeout = LARGE_TIMEOUT if case.large else ANSWER_TIMEOUT
            outcome = await _send(running, case, timeout)
            silent = silent + 1 if outcome.error else 0
            outcomes[case.name] = outcome
        peak_after = status_kib("VmHWM") * 1024
        release_free_memory()
        rss_after = status_kib("VmRSS") * 1024

        inboxes = await asyncio.gather(
            *(read_until_quiet(p, 0.5) for p in running.partners.values())
        )
        late = {name: len(got) for name, got in zip(running.partners, inboxes, strict=True)}
        try:
            ingress_left: tuple[int, int] | str = await _ingress_settled(
                vhost, running.topology.ingress
            )
        except RuntimeError as exc:  # rabbitmqctl failed: that test fails, not the whole run
            ingress_left = str(exc)

        valid_raw = (EXAMPLES_DIR / "politie/VtMelding.xml").read_bytes()
        valid_id = str(uuid.uuid4())
        valid_case = Case("valid", "politie", None, lambda: fresh(valid_raw, bericht_id=valid_id))
        valid = await _send(running, valid_case, ANSWER_TIMEOUT)
    return Run(
        cases={case.name: case for case in cases},
        outcomes=outcomes,
        late=late,
        ingress_left=ingress_left,
        valid=valid,
        valid_id=valid_id,
        memory=Memory(rss_before, peak_before, peak_after, rss_after, reset),
        canary_hits=list(canary.hits),
    )


@pytest.fixture(scope="module")
def hostile_settings(vhost: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("hostile-amqp")
    return local_settings(
        tmp,
        f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        audit_log_id="hostile",
    )


@pytest.fixture(scope="module")
def run(hostile_settings: Settings, vhost: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The whole corpus through one gateway, on an event loop of its own in a thread of its
    own: the fixture can be module-scoped without tying the module's tests to one loop, and
    without touching the event loop pytest-asyncio keeps for the other test modules."""
    canary = Canary(tmp_path_factory.mktemp("canary"))
    try:
        with concurrent.futures.ThreadPoolExecutor(1, "hostile-amqp") as thread:
            return thread.submit(asyncio.run, _run(hostile_settings, vhost, canary)).result()
    finally:
        canary.close()


@pytest.fixture(scope="module")
def codec() -> MessageCodec:
    return catalogue.CODEC


# --------------------------------------------------------------------------- per case


def _read(codec: MessageCodec, message: AbstractIncomingMessage) -> Bericht:
    return codec.read(message.body)


def _params() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
        if name in KNOWN_BUGS
        else name
        for name in NAMES
    ]


@pytest.mark.parametrize("name", _params())
def test_case_gets_the_right_answer(name: str, run: Run, codec: MessageCodec) -> None:
    case = run.cases[name]
    outcome = run.outcomes[name]
    assert outcome.error is None, outcome.error
    assert len(outcome.answers) == 1, [a.body[:300] for a in outcome.answers]
    [message] = outcome.answers
    answer = _read(codec, message)
    assert answer.kop.afzender.oin == GATEWAY_OIN
    assert answer.kop.afzender.rol == "ketenpoort"

    # Correlated to the case: the BerichtId when the gateway can find one, else nothing.
    assert answer.kop.in_antwoord_op == case.in_antwoord_op
    assert message.correlation_id == case.in_antwoord_op

    if case.accepted:
        assert isinstance(answer.inhoud, Ontvangstbevestiging), answer.inhoud
        assert outcome.delivered == dict.fromkeys(case.recipients, 1), case.why
        assert {o.oin for o in answer.inhoud.ontvangers} == {OINS[r] for r in case.recipients}
        for recipient in case.recipients:
            [delivery] = outcome.deliveries[recipient]
            assert delivery.message_id == case.in_antwoord_op
            kop = xmlsafe.parse(delivery.body).find(f"{KP}Kop")  # in the recipient's format
            assert kop is not None
            assert kop.findtext(f"{KP}BerichtId") == case.in_antwoord_op
    else:
        assert answer.kop.berichttype == TechnischType.FOUTBERICHT, answer.kop
        fout = answer.inhoud
        assert isinstance(fout, Foutbericht)
        assert (fout.code, fout.element if case.element else None) == (
            case.code,
            case.element,
        ), fout
        assert outcome.delivered == {}, f"a refused message was delivered: {outcome.delivered}"

    came_back = [message.body] + [m.body for msgs in outcome.deliveries.values() for m in msgs]
    for secret in case.forbidden:
        for body in came_back:
            assert secret not in body, f"{secret!r} came back: {body[:600]!r}"
    if not case.large:
        budget = answer_budget(o.seconds for n, o in run.outcomes.items() if not run.cases[n].large)
        took = f"answered after {outcome.seconds:.1f} s (> {budget:.1f})"
        assert outcome.seconds < budget, took


def test_the_corpus_is_large_and_varied() -> None:
    cases = corpus()
    assert len(cases) >= 40
    assert len({c.name for c in cases}) == len(cases)
    # every code a single message can earn (DUBBEL_BERICHT needs two, NIET_AFLEVERBAAR a
    # recipient that refuses; the HTTPS door's codes are about requests), and some accepted
    single = set(Foutcode) - {Foutcode.DUBBEL_BERICHT, Foutcode.NIET_AFLEVERBAAR} - DOOR_CODES
    assert {c.code for c in cases} == {*single, None}
    assert {c.sender for c in cases} == set(OINS)  # every partner sends some


def test_the_canaries_notice_a_touch(tmp_path: Path) -> None:
    """Control: a connection to the URL and an open of the file are both noticed."""
    canary = Canary(tmp_path)
    try:
        host, port = canary.listener.getsockname()
        socket.create_connection((host, port), timeout=1).close()
        reader = os.open(canary.fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            wait_until(lambda: len({hit.split()[0] for hit in canary.hits}) == 2, "both noticed")
        finally:
            os.close(reader)
    finally:
        canary.close()
    assert {hit.split()[0] for hit in canary.hits} == {"connection", str(canary.fifo)}


# --------------------------------------------------------------------------- the whole run


def test_no_canary_was_touched(run: Run) -> None:
    """No case made the gateway connect to the canary URL or open the canary file."""
    assert run.canary_hits == []


def test_nothing_arrives_late(run: Run) -> None:
    """Once every case was answered, no inbox receives anything more."""
    assert run.late == dict.fromkeys(OINS, 0)


def test_nothing_is_left_on_the_ingress_queue(run: Run) -> None:
    """Every message was acknowledged: none waits, none is held unanswered by the gateway."""
    assert run.ingress_left == (0, 0)


def test_gateway_still_accepts_and_delivers_a_valid_message(run: Run, codec: MessageCodec) -> None:
    assert run.valid.error is None, run.valid.error
    [message] = run.valid.answers
    answer = _read(codec, message)
    assert isinstance(answer.inhoud, Ontvangstbevestiging), answer.inhoud
    assert answer.kop.in_antwoord_op == run.valid_id
    assert run.valid.delivered == {"vt-twente": 1}


def test_memory_stays_bounded(run: Run) -> None:
    """The gateway runs in this process: its memory is this process's RSS (the test's own
    share is small: the 50 MiB case is made and published by a child process).

    The peak may grow by at most 200 MiB over the RSS before the corpus. That is for the
    50 MiB case, which the gateway's AMQP client must hold completely before the gateway can
    even look at its length: aiormq gathers the 128 KiB body frames in a buffer and returns
    the whole body, so one to two copies (50-100 MiB; measured here: about 75 MiB for the whole
    corpus). 200 MiB allows three copies and 50 MiB for everything else (the 1 MiB cases, lxml
    trees, broker buffers). A gateway that parsed the 50 MiB, decoded or copied it a few more
    times would exceed it; one that expanded the billion laughs (3·10⁹ characters) or the
    quadratic blow-up (750 MB) would exceed it by far.

    After the run (garbage collected, freed heap returned) the RSS must be back within 40 MiB
    of where it started: anything holding on to the 50 MiB message (an exception, a log
    record, a cache) would show as 50 MiB or more.
    """
    memory = run.memory
    peak_growth = memory.peak_after - (memory.rss_before if memory.reset else memory.peak_before)
    kept = memory.rss_after - memory.rss_before
    print(
        f"rss before {memory.rss_before / MIB:.0f} MiB, peak during the corpus "
        f"{memory.peak_after / MIB:.0f} MiB (+{peak_growth / MIB:.0f}), after "
        f"{memory.rss_after / MIB:.0f} MiB (+{kept / MIB:.0f}); peak reset: {memory.reset}"
    )
    assert peak_growth < 200 * MIB
    assert kept < 40 * MIB
