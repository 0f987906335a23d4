"""The hostile corpus over HTTPS, against one real gateway (HTTPS door and AMQP) for the module.

The same cases as ``test_hostile_amqp.py`` (``tests/hostile/corpus.py``), each posted to
``POST /v1/berichten`` with the client certificate of the case's sender, one at a time. Over
HTTPS the authenticated partner is the certificate's OIN, as over AMQP it is the RabbitMQ
user: the cases whose Afzender differs from the sender mean the same here, so every case maps
one to one. HTTPS adds a way to send a body that AMQP has not: without Content-Length
(chunked), so the door cannot refuse it on its declared length. Every case that is too big is
therefore sent a second time chunked (``<name>-chunked``).

Per case: one answer in the response body, from the gateway, with the expected code and
element (or, for the accepted cases, an Ontvangstbevestiging with HTTP 202 and a delivery to
exactly the expected recipients), correlated to the case (kp:InAntwoordOp), an HTTP 4xx status
for a refusal (413 exactly when the code is TE_GROOT), XML, nothing in any inbox (deliveries
nor answers: the HTTPS sender has its answer in the response), nothing of ``case.forbidden``
in any byte that came back, within seconds. Afterwards: no canary touched, nothing arrives
late, /health/ready (ops port) is 200, a valid message is still accepted and delivered, and
the memory of this process (the gateway's) stayed bounded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Bericht, Foutbericht, Foutcode, Ontvangstbevestiging, TechnischType
from gateway.runtime.settings import Settings
from gateway.safexml import xmlsafe
from tests.support import catalogue
from tests.support.broker import OINS
from tests.support.door import DevPki, https_settings, run_door
from tests.support.hostile_corpus import GATEWAY_OIN, KNOWN_BUGS, Case, corpus
from tests.support.hostile_probes import (
    Canary,
    Memory,
    answer_budget,
    frozen_heap,
    release_free_memory,
    reset_peak,
    status_kib,
)
from tests.support.messages import fresh
from tests.support.partners import RabbitPartner, drain, read_until_quiet, split
from tests.support.paths import EXAMPLES_DIR
from tests.support.settings import local_settings
from tests.support.waiting import CEILING_S

pytestmark = pytest.mark.broker

ANSWER_TIMEOUT = CEILING_S  # a hang, not slowness (how fast: answer_budget, per run)
LARGE_TIMEOUT = 120.0  # seconds for a case of tens of megabytes
MIB = 1024 * 1024
KP = "{urn:ketenpoort:envelop:1}"
XML = {"content-type": "application/xml"}
SPAWN = multiprocessing.get_context("spawn")  # a clean child: no copy of this process

CHUNKED = "-chunked"  # suffix: the case sent without Content-Length


def _sends(cases: list[Case]) -> Iterator[tuple[str, Case, bool]]:
    """(name, case, chunked): every case, and every too-big case once more, chunked."""
    for case in cases:
        yield case.name, case, False
        if case.code is Foutcode.TE_GROOT:
            yield case.name + CHUNKED, case, True


NAMES = [name for name, _, _ in _sends(corpus())]


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Client:
    """What a child process needs to post as a partner (an SSL context does not pickle)."""

    base_url: str
    ca: str
    cert: str
    key: str

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca)
        context.load_cert_chain(self.cert, self.key)
        return context


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _achunks(data: bytes) -> AsyncIterator[bytes]:
    for chunk in _chunks(data):
        yield chunk


def _post_elsewhere(
    make: Callable[[], bytes], client: Client, chunked: bool
) -> tuple[int, str, bytes]:
    """In a child process: make the bytes and post them (status, content type, body)."""
    data = make()
    content: bytes | Iterator[bytes] = _chunks(data) if chunked else data
    with httpx.Client(base_url=client.base_url, verify=client.context(), timeout=60) as http:
        response = http.post("/v1/berichten", content=content, headers=XML)
    return response.status_code, response.headers.get("content-type", ""), response.content


@dataclass
class Outcome:
    """What came back for one message: the response and every delivery it caused."""

    status: int = 0
    content_type: str = ""
    body: bytes = b""
    deliveries: dict[str, list[AbstractIncomingMessage]] = field(default_factory=dict)
    queued_answers: list[AbstractIncomingMessage] = field(default_factory=list)
    seconds: float = 0.0
    growth: int = 0  # bytes: this process's peak RSS while the case was sent, above its RSS
    # just before (garbage collected, freed heap returned)
    error: str | None = None

    @property
    def delivered(self) -> dict[str, int]:
        return {name: len(msgs) for name, msgs in self.deliveries.items() if msgs}


@dataclass
class Run:
    cases: dict[str, tuple[Case, bool]]
    outcomes: dict[str, Outcome]
    late: dict[str, int]
    ready: tuple[int, str]  # /health/ready after the corpus
    valid: Outcome
    valid_id: str
    memory: Memory
    canary_hits: list[str]


async def _send(
    case: Case,
    chunked: bool,
    clients: dict[str, httpx.AsyncClient],
    raw_clients: dict[str, Client],
    partners: dict[str, RabbitPartner],
    pool: concurrent.futures.Executor,
) -> Outcome:
    """Post one case as its sender, then collect every inbox.

    A large case is made and posted by a child process, so the test's own copies of it (the
    bytes, TLS records, write buffers) do not count as this process's memory, the gateway's.
    """
    outcome = Outcome()
    start = time.perf_counter()
    try:
        if case.large:
            loop = asyncio.get_running_loop()
            outcome.status, outcome.content_type, outcome.body = await asyncio.wait_for(
                loop.run_in_executor(
                    pool, _post_elsewhere, case.make, raw_clients[case.sender], chunked
                ),
                LARGE_TIMEOUT,
            )
        else:
            data = case.data()
            content: Any = _achunks(data) if chunked else data
            response = await asyncio.wait_for(
                clients[case.sender].post("/v1/berichten", content=content, headers=XML),
                ANSWER_TIMEOUT,
            )
            outcome.status = response.status_code
            outcome.content_type = response.headers.get("content-type", "")
            outcome.body = response.content
    except Exception as exc:  # noqa: BLE001 - recorded and failed per case
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - start
    # An accepted message is published (confirmed) before it is answered: the inboxes are final.
    for other, partner in partners.items():
        deliveries, answers = split(await drain(partner))
        outcome.deliveries[other] = deliveries
        outcome.queued_answers += answers
    return outcome


async def _run(settings: Settings, vhost: str, pki: DevPki, canary: Canary) -> Run:
    cases = corpus(canary.canaries)
    sends = list(_sends(cases))
    outcomes: dict[str, Outcome] = {}
    async with run_door(settings, vhost) as (parts, server):
        base_url = f"https://127.0.0.1:{server.partner_port}"
        raw_clients = {
            name: Client(base_url, str(pki.files.ca), *pki.client_cert(name)) for name in OINS
        }
        clients = {
            name: httpx.AsyncClient(base_url=base_url, verify=c.context(), timeout=LARGE_TIMEOUT)
            for name, c in raw_clients.items()
        }
        partners = {name: RabbitPartner(oin, vhost, parts.topology) for name, oin in OINS.items()}
        for partner in partners.values():
            await partner.connect()
        try:
            with (
                concurrent.futures.ProcessPoolExecutor(1, mp_context=SPAWN) as pool,
                frozen_heap(),  # the per-case collections walk only what the run allocates
            ):
                # the child starts (imports httpx) before the baseline is taken
                await asyncio.get_running_loop().run_in_executor(pool, time.sleep, 0)
                release_free_memory()
                reset = reset_peak()
                rss_before = status_kib("VmRSS") * 1024
                peak_before = status_kib("VmHWM") * 1024
                peak_after = peak_before
                for name, case, chunked in sends:
                    if reset:  # each case's own peak; the run's is the largest of them
                        release_free_memory()
                        reset_peak()
                    start = status_kib("VmRSS") * 1024
                    args = (clients, raw_clients, partners, pool)
                    outcomes[name] = await _send(case, chunked, *args)
                    peak = status_kib("VmHWM") * 1024
                    outcomes[name].growth = peak - start
                    peak_after = max(peak_after, peak)
                release_free_memory()
                rss_after = status_kib("VmRSS") * 1024

            inboxes = await asyncio.gather(*(read_until_quiet(p, 0.5) for p in partners.values()))
            late = {name: len(got) for name, got in zip(partners, inboxes, strict=True)}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.ops_port}") as ops:
                ready = await ops.get("/health/ready")  # the ops port

            valid_id = str(uuid.uuid4())
            raw = fresh((EXAMPLES_DIR / "politie/VtMelding.xml").read_bytes(), bericht_id=valid_id)
            valid_case = Case("valid", "politie", None, lambda: raw)
            valid = await _send(valid_case, False, clients, raw_clients, partners, pool)
        finally:
            for client in clients.values():
                await client.aclose()
            for partner in partners.values():
                await partner.close()
    return Run(
        cases={name: (case, chunked) for name, case, chunked in sends},
        outcomes=outcomes,
        late=late,
        ready=(ready.status_code, ready.text),
        valid=valid,
        valid_id=valid_id,
        memory=Memory(rss_before, peak_before, peak_after, rss_after, reset),
        canary_hits=list(canary.hits),
    )


@pytest.fixture(scope="module")
def hostile_https_settings(
    vhost: str, pki: DevPki, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    tmp = tmp_path_factory.mktemp("hostile-https")
    base = local_settings(
        tmp,
        f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        audit_log_id="hostile-https",
    )
    return https_settings(base, pki, tmp)


@pytest.fixture(scope="module")
def run(
    hostile_https_settings: Settings,
    vhost: str,
    pki: DevPki,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    """The whole corpus through one gateway, on an event loop of its own in a thread of its
    own (as in test_hostile_amqp.py: module scope without tying the tests to one loop)."""
    canary = Canary(tmp_path_factory.mktemp("canary-https"))
    try:
        with concurrent.futures.ThreadPoolExecutor(1, "hostile-https") as thread:
            return thread.submit(
                asyncio.run, _run(hostile_https_settings, vhost, pki, canary)
            ).result()
    finally:
        canary.close()


@pytest.fixture(scope="module")
def codec() -> MessageCodec:
    return catalogue.CODEC


# --------------------------------------------------------------------------- per case


def _params() -> list[object]:
    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]),
        )
        if name in KNOWN_BUGS
        else name
        for name in NAMES
    ]


@pytest.mark.parametrize("name", _params())
def test_case_gets_the_right_answer(name: str, run: Run, codec: MessageCodec) -> None:
    case, _chunked = run.cases[name]
    outcome = run.outcomes[name]
    assert outcome.error is None, outcome.error
    assert outcome.queued_answers == [], [a.body[:300] for a in outcome.queued_answers]
    assert outcome.content_type.startswith("application/xml"), (outcome.status, outcome.body)
    answer: Bericht = codec.read(outcome.body)
    assert answer.kop.afzender.oin == GATEWAY_OIN
    assert answer.kop.afzender.rol == "ketenpoort"
    assert answer.kop.in_antwoord_op == case.in_antwoord_op

    if case.accepted:
        assert outcome.status == 202, outcome.body[:600]
        assert isinstance(answer.inhoud, Ontvangstbevestiging), answer.inhoud
        assert outcome.delivered == dict.fromkeys(case.recipients, 1), case.why
        assert {o.oin for o in answer.inhoud.ontvangers} == {OINS[r] for r in case.recipients}
        for recipient in case.recipients:
            [delivery] = outcome.deliveries[recipient]
            assert delivery.message_id == case.in_antwoord_op
            kop = xmlsafe.parse(delivery.body).find(f"{KP}Kop")
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
        assert 400 <= outcome.status < 500, outcome.status
        assert (outcome.status == 413) == (case.code is Foutcode.TE_GROOT), outcome.status
        assert outcome.delivered == {}, f"a refused message was delivered: {outcome.delivered}"

    came_back = [outcome.body] + [m.body for msgs in outcome.deliveries.values() for m in msgs]
    for secret in case.forbidden:
        for body in came_back:
            assert secret not in body, f"{secret!r} came back: {body[:600]!r}"
    if not case.large:
        budget = answer_budget(
            o.seconds for n, o in run.outcomes.items() if not run.cases[n][0].large
        )
        took = f"answered after {outcome.seconds:.1f} s (> {budget:.1f})"
        assert outcome.seconds < budget, took


def test_every_case_was_sent_and_too_big_ones_also_chunked(run: Run) -> None:
    assert len(run.outcomes) == len(NAMES) >= 40
    chunked = [name for name, (_, is_chunked) in run.cases.items() if is_chunked]
    assert len(chunked) == sum(1 for c in corpus() if c.code is Foutcode.TE_GROOT) >= 2


# --------------------------------------------------------------------------- the whole run


def test_no_canary_was_touched(run: Run) -> None:
    assert run.canary_hits == []


def test_nothing_arrives_late(run: Run) -> None:
    assert run.late == dict.fromkeys(OINS, 0)


def test_gateway_is_still_ready(run: Run) -> None:
    status, detail = run.ready
    assert status == 200, detail


def test_gateway_still_accepts_and_delivers_a_valid_message(run: Run, codec: MessageCodec) -> None:
    assert run.valid.error is None, run.valid.error
    assert run.valid.status == 202, run.valid.body[:600]
    answer = codec.read(run.valid.body)
    assert isinstance(answer.inhoud, Ontvangstbevestiging), answer.inhoud
    assert answer.kop.in_antwoord_op == run.valid_id
    assert run.valid.delivered == {"vt-twente": 1}
    assert run.valid.queued_answers == []


def test_memory_stays_bounded(run: Run) -> None:
    """The gateway runs in this process: its memory is this process's RSS (the 50 MiB cases are
    made and posted by a child process, so the test's own copies do not count).

    Over the whole corpus the peak may grow by at most 200 MiB over the RSS before it, as over
    AMQP. The largest share is not the big bodies but fifty-thousand-attributes (a 1 MiB
    message; measured: about 80 MiB while it is parsed and validated, in either transport); a
    gateway that expanded the billion laughs or the quadratic blow-up would exceed it by far.

    Over HTTPS, unlike AMQP, the door never needs a whole oversized body: with a Content-Length
    above the limit it reads 64 KiB (for the BerichtId to answer), without one (chunked) at
    most the limit + 1 byte, and uvicorn stops reading the socket while a request's unread body
    is above 64 KiB. So each too-big case may grow the peak by at most 16 MiB (measured with
    garbage collected and the peak reset before each case; a door that read the 50 MiB body
    would need 50 MiB or more).

    After the run (garbage collected, freed heap returned) the RSS must be back within 40 MiB
    of where it started, as over AMQP.
    """
    memory = run.memory
    peak_growth = memory.peak_after - (memory.rss_before if memory.reset else memory.peak_before)
    kept = memory.rss_after - memory.rss_before
    highest = sorted(run.outcomes.items(), key=lambda item: -item[1].growth)[:3]
    print(
        f"rss before {memory.rss_before / MIB:.0f} MiB, peak during the corpus "
        f"{memory.peak_after / MIB:.0f} MiB (+{peak_growth / MIB:.0f}), after "
        f"{memory.rss_after / MIB:.0f} MiB (+{kept / MIB:.0f}); peak reset: {memory.reset}; "
        "most per case: " + ", ".join(f"{name} +{o.growth / MIB:.0f} MiB" for name, o in highest)
    )
    assert peak_growth < 200 * MIB
    assert kept < 40 * MIB
    if memory.reset:
        too_big = {
            name: round(run.outcomes[name].growth / MIB, 1)
            for name, (case, _) in run.cases.items()
            if case.code is Foutcode.TE_GROOT
        }
        assert max(too_big.values()) < 16, too_big
