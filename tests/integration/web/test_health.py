"""Ops endpoints on the ops port: ``/health/live``, ``/health/ready`` and ``/metrics`` (and
not on the partner port).

Readiness names what is wrong: the audit store made read-only (a SQLite trigger) and a
stopped RabbitMQ (a private node of this test: the shared broker is never stopped) each
give 503 until they are back; the gateway recovers by itself. Alerts (not failing) name a
certificate that expires soon. Metrics carry the counters, the pipeline histogram, queue
depths and certificate expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.runtime import app as gateway_app
from gateway.runtime import audit_access
from gateway.runtime import certs as gateway_certs
from gateway.runtime.settings import Settings
from tests.support import catalogue
from tests.support.broker import OINS
from tests.support.door import DevPki, Door, https_settings, run_door
from tests.support.messages import fresh
from tests.support.ops import Samples, block_audit_writes, named, scrape
from tests.support.settings import local_settings
from tests.support.waiting import CEILING_S, eventually

broker = pytest.mark.broker

XML = {"content-type": "application/xml"}


# --------------------------------------------------------------------------- helpers


async def metrics(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return scrape(response.text)


async def ready(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health/ready")
    return response.status_code, response.json()


async def ready_until(
    client: httpx.AsyncClient, want: int, timeout: float
) -> tuple[int, dict[str, Any], float]:
    """Poll /health/ready until it answers ``want``; (status, detail, seconds it took)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while True:
        status, detail = await ready(client)
        if status == want or loop.time() - began > timeout:
            return status, detail, loop.time() - began
        await asyncio.sleep(0.2)


# --------------------------------------------------------------------------- live, ready


@broker
async def test_live_and_ready_with_every_check_ok(door: Door) -> None:
    async with door.ops() as client:  # the ops port: plain HTTP, no certificate
        live = await client.get("/health/live")
        assert live.status_code == 200
        assert live.json() == {"status": "live"}
        status, detail = await ready(client)
    assert status == 200, detail
    assert detail["status"] == "ready"
    checks = detail["checks"]
    assert set(checks) == {"rabbitmq", "audit", "signing_key", "policy"}
    assert all(check["ok"] is True for check in checks.values()), checks
    assert checks["audit"]["log"] == door.parts.audit.log_id
    assert checks["signing_key"]["key_id"]
    assert checks["policy"]["versie"] == door.parts.policy.versie
    assert detail["alerts"] == []  # dev certificates last a year: no expiry alert at 30 days


@broker
async def test_a_read_only_audit_store_makes_the_gateway_not_ready_until_it_is_writable(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    dsn = door.running.settings.audit_dsn
    async with door.ops() as client, door.client("politie") as politie:
        assert (await ready(client))[0] == 200
        assert named(await metrics(client), "ketenpoort_audit_schrijfbaar") == {(): 1.0}

        block_audit_writes(dsn, True)
        try:
            status, detail = await ready(client)
            assert status == 503, detail
            assert detail["status"] == "not ready"
            assert detail["checks"]["audit"]["ok"] is False
            assert "audit store cannot be written" in detail["checks"]["audit"]["reden"]
            assert [c for c, v in detail["checks"].items() if not v["ok"]] == ["audit"]
            assert {"soort": "audit_niet_schrijfbaar", "log": door.parts.audit.log_id} in detail[
                "alerts"
            ]
            assert named(await metrics(client), "ketenpoort_audit_schrijfbaar") == {(): 0.0}
            # fail closed: a message is not accepted while nothing can be recorded
            refused = await politie.post(
                "/v1/berichten",
                content=fresh(example_bytes("politie/VtMelding.xml")),
                headers=XML,
            )
            assert refused.status_code == 503
            assert refused.headers["retry-after"]
        finally:
            block_audit_writes(dsn, False)

        status, detail = await ready(client)
        assert status == 200, detail
        assert not [a for a in detail["alerts"] if a["soort"] == "audit_niet_schrijfbaar"]
        assert named(await metrics(client), "ketenpoort_audit_schrijfbaar") == {(): 1.0}
        accepted = await politie.post(
            "/v1/berichten", content=fresh(example_bytes("politie/VtMelding.xml")), headers=XML
        )
        assert accepted.status_code == 202, accepted.text


# --------------------------------------------------------------------------- metrics


@broker
async def test_metrics_count_messages_time_the_pipeline_and_show_queues_and_certificates(
    door: Door, example_bytes: Callable[[str], bytes]
) -> None:
    politie = OINS["politie"]
    async with door.client("politie") as client:
        response = await client.post(
            "/v1/berichten", content=fresh(example_bytes("politie/VtMelding.xml")), headers=XML
        )
        assert response.status_code == 202, response.text
        refused = await client.post("/v1/berichten", content=b"<geen-bericht/>", headers=XML)
        assert refused.status_code == 400
    topology = door.parts.topology
    async with door.ops() as client:
        samples = await metrics(client)

        async def measured() -> bool:  # queue depths are measured every few seconds
            nonlocal samples
            samples = await metrics(client)
            return bool(named(samples, "ketenpoort_queue_berichten"))

        await eventually(measured, "queue depths measured", poll=0.5)

    accepted = named(samples, "ketenpoort_berichten_geaccepteerd_total")
    assert accepted == {(("afzender", politie), ("berichttype", "VtMelding")): 1.0}
    received = named(samples, "ketenpoort_berichten_ontvangen_total")
    assert received[(("afzender", politie), ("kanaal", "https"))] == 2.0
    assert sum(named(samples, "ketenpoort_berichten_geweigerd_total").values()) == 1.0

    count = named(samples, "ketenpoort_pipeline_seconds_count")
    assert count[(("kanaal", "https"),)] >= 1.0
    buckets = named(samples, "ketenpoort_pipeline_seconds_bucket")
    assert buckets[(("kanaal", "https"), ("le", "+Inf"))] == count[(("kanaal", "https"),)]
    assert len([labels for labels in buckets if ("kanaal", "https") in labels]) == 13
    assert named(samples, "ketenpoort_audit_append_seconds_count")[()] >= 1.0

    depths = named(samples, "ketenpoort_queue_berichten")
    queues = {dict(labels)["queue"] for labels in depths}
    assert topology.ingress in queues
    for oin in OINS.values():
        assert topology.inbox(oin) in queues
        assert topology.dlq(oin) in queues
    assert all(value >= 0 for value in depths.values())
    dead = named(samples, "ketenpoort_dead_letters")
    # a gauge per partner of the policy (the v2 partners too, not only the test partners)
    assert set(dead) == {(("ontvanger", oin),) for oin in catalogue.POLICY.partners}
    assert set(dead.values()) == {0.0}

    expiry = {
        dict(labels)["certificaat"]: value
        for labels, value in named(samples, "ketenpoort_certificaat_geldig_seconden").items()
    }
    year = dt.timedelta(days=365).total_seconds()
    server = [label for label in expiry if label.startswith("server.pem:")]
    ca = [label for label in expiry if label.startswith("ca.pem:")]
    assert len(server) == 1
    assert len(ca) == 1
    assert f"partner:{politie}" in expiry  # the client certificate last seen
    for value in expiry.values():
        assert year - 3600 < value <= year

    assert named(samples, "ketenpoort_rabbitmq_verbonden") == {(): 1.0}
    assert named(samples, "ketenpoort_audit_schrijfbaar") == {(): 1.0}
    http = named(samples, "ketenpoort_http_requests_total")
    assert http[(("route", "/v1/berichten"), ("status", "202"))] == 1.0
    assert http[(("route", "/v1/berichten"), ("status", "400"))] == 1.0
    # labels carry OINs, types and codes: never a BSN
    assert "999990019" not in repr(samples)


# --------------------------------------------------------------------------- certificates


@broker
async def test_a_certificate_expiring_within_the_warning_days_is_an_alert(
    settings: Settings, vhost: str, tmp_path: Path
) -> None:
    """A CA and server certificate of 10 days: ready (200), with an alert per certificate."""
    short = DevPki(
        gateway_certs.dev_ca(
            tmp_path / "kort", [(oin, name) for name, oin in OINS.items()], days=10
        )
    )
    configured = https_settings(settings, short, tmp_path)
    assert configured.cert_warning_days == 30
    async with run_door(configured, vhost) as (_parts, server):
        context = ssl.create_default_context(cafile=str(short.files.ca))
        context.load_cert_chain(*short.client_cert("om"))
        base = f"https://127.0.0.1:{server.partner_port}"
        async with httpx.AsyncClient(base_url=base, verify=context, timeout=30) as client:
            assert (await client.get("/v1/berichten")).status_code == 200  # OM's cert is seen
        ops = f"http://127.0.0.1:{server.ops_port}"
        async with httpx.AsyncClient(base_url=ops, timeout=30) as client:
            status, detail = await ready(client)
            samples = await metrics(client)
    assert status == 200, detail  # an alert, not a failure
    alerts = [a for a in detail["alerts"] if a["soort"] == "certificaat_verloopt"]
    labels = {a["certificaat"] for a in alerts}
    assert any(label.startswith("server.pem:") for label in labels)
    assert any(label.startswith("ca.pem:") for label in labels)
    assert f"partner:{OINS['om']}" in labels
    now = dt.datetime.now(dt.UTC)
    for alert in alerts:
        left = dt.datetime.fromisoformat(alert["tot"]) - now
        assert dt.timedelta(days=9) < left <= dt.timedelta(days=10)
    expiry = named(samples, "ketenpoort_certificaat_geldig_seconden")
    assert expiry
    assert all(value <= dt.timedelta(days=10).total_seconds() for value in expiry.values())


# --------------------------------------------------------------------------- RabbitMQ stopped


@pytest.fixture
def private_node() -> Iterator[Any]:
    """A private RabbitMQ node of this test (``tests.support.private_broker``), never the
    shared one."""
    try:
        from tests.support.private_broker import (  # noqa: PLC0415 - its absence skips this test only
            PrivateBroker,
            PrivateBrokerUnavailableError,
        )
    except ImportError as exc:  # pragma: no cover - the module is part of the test suite
        pytest.skip(f"tests/private_broker.py is missing or broken ({exc}): no private node")
    try:
        node = PrivateBroker.create()
    except PrivateBrokerUnavailableError as exc:
        pytest.skip(f"no private RabbitMQ node (tests/private_broker.py): {exc}")
    try:
        node.start()
    except PrivateBrokerUnavailableError as exc:
        node.cleanup()
        pytest.skip(f"the private RabbitMQ node did not start: {exc}")
    try:
        yield node
    finally:
        node.cleanup()


@contextlib.asynccontextmanager
async def gateway_on(url: str, pki: DevPki, tmp_path: Path) -> AsyncIterator[tuple[Any, int, int]]:
    """A whole gateway (AMQP, HTTPS door and ops port) on the broker at ``url``."""
    from gateway.web import server  # noqa: PLC0415 - the HTTP face loads for the tests that start it

    base = local_settings(
        tmp_path,
        url,
    )
    async with server.running(https_settings(base, pki, tmp_path)) as (parts, doors):
        yield parts, doors.partner_port, doors.ops_port


@broker
@pytest.mark.slow  # a private RabbitMQ node of its own
async def test_ready_names_rabbitmq_while_it_is_stopped_and_recovers_by_itself(
    private_node: Any,
    pki: DevPki,
    tmp_path: Path,
    example_bytes: Callable[[str], bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gateway_app, "DEPTH_INTERVAL_S", 1)  # queue depths every second
    loop = asyncio.get_running_loop()
    stack = contextlib.AsyncExitStack()
    parts, port, ops_port = await stack.enter_async_context(
        gateway_on(private_node.url, pki, tmp_path)
    )
    try:
        context = ssl.create_default_context(cafile=str(pki.files.ca))
        context.load_cert_chain(*pki.client_cert("politie"))
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=context, timeout=30)
        )
        ops = await stack.enter_async_context(
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}", timeout=30)
        )
        status, detail = await ready(ops)
        assert status == 200, detail

        # RabbitMQ stops: not ready, naming rabbitmq (and only rabbitmq)
        await asyncio.to_thread(private_node.stop)
        status, detail, took = await ready_until(ops, 503, timeout=CEILING_S)
        assert status == 503, f"still ready {took:.1f} s after RabbitMQ stopped: {detail}"
        assert detail["checks"]["rabbitmq"] == {
            "ok": False,
            "reden": "not connected to RabbitMQ",
        }
        assert [c for c, v in detail["checks"].items() if not v["ok"]] == ["rabbitmq"]
        assert named(await metrics(ops), "ketenpoort_rabbitmq_verbonden") == {(): 0.0}
        # nothing is taken meanwhile: 503 with Retry-After (not a 500, not a lost message)
        melding = fresh(example_bytes("politie/VtMelding.xml"))
        refused = await client.post("/v1/berichten", content=melding, headers=XML)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"]
        inbox = await client.get("/v1/berichten")
        assert inbox.status_code == 503, inbox.text
        # a few rounds of queue-depth measurement during the outage: that chore survives
        await asyncio.sleep(3 * gateway_app.DEPTH_INTERVAL_S)

        # RabbitMQ is back: ready again within a bounded time, without help
        await asyncio.to_thread(private_node.start)
        status, detail, took = await ready_until(ops, 200, timeout=CEILING_S)
        assert status == 200, f"not ready {took:.1f} s after RabbitMQ came back: {detail}"
        assert named(await metrics(ops), "ketenpoort_rabbitmq_verbonden") == {(): 1.0}
        # the sender retries the refused message (same bytes), as a 503 with Retry-After asks:
        # now it is accepted. Under load the door's publishing channel can come back a moment
        # after the connection that readiness reports, so a partner may get one more 503.
        deadline = loop.time() + CEILING_S
        accepted = await client.post("/v1/berichten", content=melding, headers=XML)
        while accepted.status_code == 503 and loop.time() < deadline:
            assert accepted.headers["retry-after"], accepted.text
            await asyncio.sleep(0.5)
            accepted = await client.post("/v1/berichten", content=melding, headers=XML)
        assert accepted.status_code == 202, accepted.text
        # queue depths are measured again: the message waits in Veilig Thuis's inbox
        key = ("ketenpoort_queue_berichten", (("queue", parts.topology.inbox(OINS["vt-twente"])),))
        deadline = loop.time() + 10
        while (await metrics(ops)).get(key) != 1.0:
            assert loop.time() < deadline, "queue depths are no longer measured"
            await asyncio.sleep(0.3)

        # and a gateway asked to stop while RabbitMQ is away stops (it does not wait for it)
        await asyncio.to_thread(private_node.stop)
        assert (await ready_until(ops, 503, timeout=CEILING_S))[0] == 503
    finally:
        began = loop.time()
        await asyncio.wait_for(stack.aclose(), timeout=30)
    assert loop.time() - began < 30
    # a graceful stop: the last checkpoint was signed, the trail verifies
    outcome, unsigned = await audit_access.audit_verify_store(parts.settings)
    assert outcome.sound, outcome.problem
    assert unsigned == {"test": 0}
