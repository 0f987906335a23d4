"""``ketenpoort bench``: the gateway against the raw broker, on the same RabbitMQ.

(a) raw: aio-pika publishes the example bytes (publisher confirms, persistent, quorum queue)
    and a consumer takes them; no gateway. The limit of this broker on this machine.
(b) the full pipeline via AMQP: politie publishes VtMeldingen to the ingress; the gateway
    (a real ``ketenpoort serve`` process) validates, translates, checks doelbinding, routes,
    filters, renders, audits with durable commits, publishes to Veilig Thuis's inbox.
(c) the same via the HTTPS API (mutual TLS).

Latency is from send to arrival in the recipient's inbox (a consumer on it). Closed-loop runs
keep ``window`` messages in flight; the open-loop run offers a fixed rate. CPU per message is
the gateway process's CPU time (user + system) over the run divided by the messages (for (a):
the bench process's own). Everything runs in a vhost of its own that is deleted afterwards.
The measuring (loops, arrivals, summary) is :mod:`gateway.tools.bench_measure`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx

from gateway.policy.catalogue import load_policy
from gateway.runtime import certs
from gateway.runtime.settings import Settings, load_settings
from gateway.tools.bench_measure import (
    Arrivals,
    closed_loop,
    cpu_of,
    latencies,
    open_loop,
    summary,
)
from gateway.transport.rabbit import Topology

__all__ = ["TARGETS", "bench", "py_spy_tool"]

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
EXAMPLE = next(EXAMPLES.glob("*/VtMelding.xml"))  # the police's, the one example of the type
POLITIE = "00000099000000000101"
VT = "00000099000000000102"
TARGETS = {"ratio_b_a": 0.5, "open_p99_ms": 25.0}


def _ctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl")
    if tool is None:
        raise RuntimeError("rabbitmqctl is not installed (the bench sets up its own vhost)")
    subprocess.run([tool, "-q", *args], check=True, capture_output=True, timeout=120)  # noqa: S603 - rabbitmqctl with our own arguments


def _fresh(raw: str, conversatie_id: str) -> tuple[str, bytes]:
    bericht_id = str(uuid.uuid4())
    text = re.sub(r"(<kp:BerichtId>)[^<]+(</kp:BerichtId>)", rf"\g<1>{bericht_id}\g<2>", raw)
    text = re.sub(
        r"(<kp:ConversatieId>)[^<]+(</kp:ConversatieId>)", rf"\g<1>{conversatie_id}\g<2>", text
    )
    return bericht_id, text.encode()


def _messages(raw: str, count: int, conversations: int) -> list[tuple[str, bytes]]:
    """``count`` copies of the example, each with a BerichtId of its own, spread round robin
    over ``conversations`` ConversatieIds (0: each in a conversation of its own, as meldingen
    about different families are; 1: all in one, which the gateway handles one at a time)."""
    ids = [str(uuid.uuid4()) for _ in range(conversations)]
    return [
        _fresh(raw, ids[i % conversations] if conversations else str(uuid.uuid4()))
        for i in range(count)
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def bench(  # noqa: PLR0915 - one measurement after the other, top to bottom
    *,
    messages: int = 3000,
    window: int = 64,
    rate: float = 200.0,
    open_seconds: float = 10.0,
    conversations: int = 0,
    profile: Path | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """``conversations``: over how many ConversatieIds the messages of a run are spread
    (:func:`_messages`; 0: each its own); ``profile``: record the gateway process with py-spy
    (collapsed stacks) to this file; the partners come from the policy of ``settings``
    (default: :func:`load_settings`)."""
    if profile is not None and not Path(py_spy_tool()).exists():  # before a minute of runs
        raise RuntimeError("--profile needs py-spy: pip install py-spy")
    raw_text = EXAMPLE.read_text()
    vhost = f"kp-bench-{secrets.token_hex(4)}"
    # RabbitMQ users are global: the bench leaves the partners' users alone and uses a user
    # of its own with the impersonator tag, which may publish with user_id = politie's OIN
    user = vhost
    password = secrets.token_hex(12)
    prefix = "ketenpoort"
    # the gateway process reads the same settings (it inherits the environment)
    partners = tuple(load_policy((settings or load_settings()).policy_dir).partners)
    topology = Topology(prefix, partners, (1000, 5000))
    results: list[dict[str, Any]] = []
    _ctl("add_vhost", vhost)
    try:
        _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        _ctl("add_user", user, password)
        _ctl("set_user_tags", user, "impersonator")
        _ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        with tempfile.TemporaryDirectory(prefix="kp-bench-") as tmp:
            work = Path(tmp)
            pki = certs.dev_ca(work / "certs", [(oin, oin) for oin in partners])
            amqp = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"

            # (a) the raw broker ----------------------------------------------------------
            results.append(await _raw(amqp, raw_text.encode(), messages, window))

            # the gateway, a process of its own -------------------------------------------
            port, ops_port = _free_port(), _free_port()
            env = {
                **os.environ,
                "KETENPOORT_AMQP_URL": amqp,
                "KETENPOORT_AMQP_PREFIX": prefix,
                "KETENPOORT_STATE_DSN": f"sqlite:///{work / 'state.db'}",
                "KETENPOORT_AUDIT_DSN": f"sqlite:///{work / 'audit.db'}",
                "KETENPOORT_AUDIT_KEY_DIR": str(work / "keys"),
                "KETENPOORT_AUDIT_LOG_ID": "bench",
                "KETENPOORT_HTTP_PORT": str(port),
                "KETENPOORT_OPS_PORT": str(ops_port),
                "KETENPOORT_TLS_CERT_FILE": str(pki.server_cert),
                "KETENPOORT_TLS_KEY_FILE": str(pki.server_key),
                "KETENPOORT_TLS_CA_FILE": str(pki.ca),
                "KETENPOORT_OFFICERS_FILE": str(work / "officers.json"),
                "KETENPOORT_RATE_PER_SECOND": "100000",
                "KETENPOORT_RATE_BURST": "100000",
                "KETENPOORT_LOG_LEVEL": "warning",
            }
            exe = Path(sys.executable).parent / "ketenpoort"
            log = (work / "gateway.log").open("wb")
            process = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=log)  # noqa: S603 - our own CLI
            spy: subprocess.Popen[bytes] | None = None
            spy_log = work / "py-spy.log"
            try:
                context = ssl.create_default_context(cafile=str(pki.ca))
                context.load_cert_chain(*(str(p) for p in pki.partners[POLITIE]))
                base = f"https://127.0.0.1:{port}"
                await _ready(f"http://127.0.0.1:{ops_port}", process)
                if profile is not None:  # attached once the interpreter runs (it reads it)
                    spy = _py_spy(profile, process.pid, spy_log)
                sender_url = f"amqp://{user}:{password}@127.0.0.1:5672/{vhost}"
                vt_url = sender_url
                results.append(
                    await _pipeline(
                        "b_amqp_pijplijn", sender_url, vt_url, topology, process.pid, raw_text,
                        messages, conversations, window=window,
                    )
                )  # fmt: skip
                results.append(
                    await _https(
                        "c_https_pijplijn", base, context, vt_url, topology, process.pid,
                        raw_text, messages, conversations, window=min(window, 32),
                    )
                )  # fmt: skip
                results.append(
                    await _pipeline(
                        f"b_amqp_open_{int(rate)}_per_s", sender_url, vt_url, topology, process.pid,
                        raw_text, int(rate * open_seconds), conversations, rate=rate,
                    )
                )  # fmt: skip
            except RuntimeError as exc:
                log.flush()
                tail = (work / "gateway.log").read_text(errors="replace")[-4000:]
                raise RuntimeError(f"{exc}\n--- gateway log ---\n{tail}") from None
            finally:
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        spy.wait(timeout=60)
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                log.close()
            if profile is not None and not profile.exists():
                said = spy_log.read_text(errors="replace").strip().splitlines()
                raise RuntimeError(
                    f"py-spy wrote no profile to {profile}: "
                    + (said[0] if said else "it said nothing")
                )
    finally:
        with contextlib.suppress(Exception):
            _ctl("delete_vhost", vhost)
        with contextlib.suppress(Exception):
            _ctl("delete_user", user)
    by = {r["meting"]: r for r in results}
    raw_rate = by["a_raw_broker"]["berichten_per_s"]
    open_run = next(r for r in results if r["meting"].startswith("b_amqp_open"))
    ratios = {
        "b_a": round(by["b_amqp_pijplijn"]["berichten_per_s"] / raw_rate, 3),
        "c_a": round(by["c_https_pijplijn"]["berichten_per_s"] / raw_rate, 3),
    }
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "datum": time.strftime("%Y-%m-%d"),
        "bericht": str(EXAMPLE.relative_to(EXAMPLES.parent)),
        "bytes": len(raw_text.encode()),
        "window": window,
        "conversaties": conversations or "elk bericht een eigen",
        "metingen": results,
        "ratio": ratios,
        "doelen": {
            "ratio_b_a_min": TARGETS["ratio_b_a"],
            "open_p99_ms_max": TARGETS["open_p99_ms"],
            "ratio_b_a_gehaald": ratios["b_a"] >= TARGETS["ratio_b_a"],
            "open_p99_gehaald": open_run["p99_ms"] < TARGETS["open_p99_ms"],
        },
    }


def py_spy_tool() -> str:
    """Where py-spy is: on the PATH, else beside this interpreter (a virtualenv's bin)."""
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def _py_spy(profile: Path, pid: int, said: Path) -> subprocess.Popen[bytes]:
    """py-spy recording ``pid`` (raw collapsed stacks) to ``profile``; what it says to ``said``."""
    tool = py_spy_tool()
    if not Path(tool).exists():
        raise RuntimeError("--profile needs py-spy: pip install py-spy")
    with said.open("wb") as err:
        return subprocess.Popen(  # noqa: S603 - py-spy on our own process
            [tool, "record", "--format", "raw", "-o", str(profile), "--pid", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


async def _ready(ops: str, process: subprocess.Popen[bytes]) -> None:
    """Poll the gateway's ops port until it is ready."""
    async with httpx.AsyncClient(base_url=ops) as client:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("the gateway stopped while starting (see its log)")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("the gateway did not become ready in 30 s")


async def _raw(url: str, body: bytes, count: int, window: int) -> dict[str, Any]:
    queue_name = "kp-bench-raw"
    publisher = await aio_pika.connect(url)
    consumer = await aio_pika.connect(url)
    try:
        channel = await publisher.channel(publisher_confirms=True)
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        arrivals = Arrivals()
        cchannel = await consumer.channel()
        await cchannel.set_qos(prefetch_count=256)
        cqueue = await cchannel.get_queue(queue_name)
        await cqueue.consume(arrivals.on_message)
        messages = [(str(uuid.uuid4()), body) for _ in range(count)]
        sent_at: dict[str, float] = {}

        async def send(message_id: str, payload: bytes) -> None:
            await channel.default_exchange.publish(
                aio_pika.Message(
                    payload,
                    message_id=message_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=queue_name,
            )

        cpu0, start = time.process_time(), time.perf_counter()
        await closed_loop(send, messages, window, sent_at)
        await arrivals.wait(count, 60)
        seconds = max(arrivals.at.values()) - start if arrivals.at else 0.0
        cpu = time.process_time() - cpu0
        await queue.delete(if_unused=False, if_empty=False)
        return summary("a_raw_broker", latencies(sent_at, arrivals), seconds, cpu, count)
    finally:
        await publisher.close()
        await consumer.close()


async def _receivers(
    vt_url: str, topology: Topology
) -> tuple[aio_pika.abc.AbstractRobustConnection, Arrivals]:
    connection = await aio_pika.connect_robust(vt_url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=256)
    arrivals = Arrivals()
    queue = await channel.get_queue(topology.inbox(VT), ensure=False)
    await queue.consume(arrivals.on_message)
    return connection, arrivals


async def _pipeline(
    name: str,
    url: str,
    vt_url: str,
    topology: Topology,
    pid: int,
    raw_text: str,
    count: int,
    conversations: int,
    *,
    window: int = 64,
    rate: float | None = None,
) -> dict[str, Any]:
    sender = await aio_pika.connect(url)
    receiver, arrivals = await _receivers(vt_url, topology)
    answers = Arrivals()
    try:
        channel = await sender.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.ingress_exchange, ensure=False)
        achannel = await sender.channel()
        await achannel.set_qos(prefetch_count=256)
        await (await achannel.get_queue(topology.inbox(POLITIE), ensure=False)).consume(
            answers.on_message
        )
        messages = _messages(raw_text, count, conversations)
        sent_at: dict[str, float] = {}

        async def send(bericht_id: str, body: bytes) -> None:
            await exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=bericht_id,
                    user_id=POLITIE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    content_type="application/xml",
                ),
                routing_key="ingress",
            )

        cpu0, start = cpu_of(pid), time.perf_counter()
        if rate is None:
            await closed_loop(send, messages, window, sent_at)
        else:
            await open_loop(send, messages, rate, sent_at)
        await arrivals.wait(count, 120)
        seconds = max(arrivals.at.values()) - start if arrivals.at else 0.0
        cpu = cpu_of(pid) - cpu0
        await answers.wait(count, 30)
        return summary(name, latencies(sent_at, arrivals), seconds, cpu, count)
    finally:
        await sender.close()
        await receiver.close()


async def _https(
    name: str,
    base: str,
    context: ssl.SSLContext,
    vt_url: str,
    topology: Topology,
    pid: int,
    raw_text: str,
    count: int,
    conversations: int,
    *,
    window: int,
) -> dict[str, Any]:
    receiver, arrivals = await _receivers(vt_url, topology)
    limits = httpx.Limits(max_connections=window, max_keepalive_connections=window)
    try:
        async with httpx.AsyncClient(base_url=base, verify=context, limits=limits) as client:
            messages = _messages(raw_text, count, conversations)
            sent_at: dict[str, float] = {}
            failures = 0

            async def send(_bericht_id: str, body: bytes) -> None:
                nonlocal failures
                response = await client.post(
                    "/v1/berichten", content=body, headers={"content-type": "application/xml"}
                )
                if response.status_code != 202:
                    failures += 1

            cpu0, start = cpu_of(pid), time.perf_counter()
            await closed_loop(send, messages, window, sent_at)
            await arrivals.wait(count, 120)
            seconds = max(arrivals.at.values()) - start if arrivals.at else 0.0
            cpu = cpu_of(pid) - cpu0
            result = summary(name, latencies(sent_at, arrivals), seconds, cpu, count)
            result["fouten"] = failures
            return result
    finally:
        await receiver.close()
