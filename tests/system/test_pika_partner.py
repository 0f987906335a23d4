"""Done-when of issue 18: a partner written with pika alone (tests/support/pika_partner.py,
no project code) takes every exchange, routing key, queue name and header from
docs/asyncapi.yaml and sends, receives, confirms and asks status against a real gateway on
the real RabbitMQ; its user and secret come from ``ketenpoort partner add``.

The gateway runs with the production prefix (``ketenpoort``), as the document names it, in a
vhost of its own; the partners get OINs of their own (a rewritten copy of the policy), so the
users this test provisions and deletes are never the shared test users of other tests.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pika.exceptions
import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.runtime import app as gateway_app
from gateway.runtime import ops as gateway_ops
from gateway.runtime.app import Parts
from tests.support.asyncapi import ASYNCAPI
from tests.support.broker import rabbitmqctl
from tests.support.paths import EXAMPLES_DIR, POLICY_DIR
from tests.support.pika_partner import Contract, PikaPartner, Received
from tests.support.settings import local_settings

pytestmark = pytest.mark.broker

KP = "{urn:ketenpoort:envelop:1}"
TEST_OIN_STEM = "0000009900000000010"  # the register's OINs: this stem and one digit
NAMES = {"politie": "1", "vt-twente": "2"}  # the two partners this test provisions


@dataclass
class World:
    parts: Parts
    contract: Contract
    oins: dict[str, str]
    partners: dict[str, PikaPartner]
    vhost: str

    def example(self, rel: str) -> tuple[bytes, str]:
        """An example message as this world's partner sends it: its OINs, a new BerichtId."""
        text = (EXAMPLES_DIR / rel).read_text("utf-8").replace(TEST_OIN_STEM, self.stem)
        bericht_id = str(uuid.uuid4())
        text = re.sub(r"(<kp:BerichtId>)[^<]+(</kp:BerichtId>)", rf"\g<1>{bericht_id}\2", text)
        return text.encode(), bericht_id

    @property
    def stem(self) -> str:
        return self.oins["politie"][:-1]


def technical(
    berichttype: str,
    afzender: tuple[str, str],
    in_antwoord_op: str,
    inhoud: str,
    *,
    ontvanger: tuple[str, str] | None = None,
) -> tuple[bytes, str]:
    """A technical message the partner writes itself (spec §2; docs/asyncapi.yaml)."""
    bericht_id = str(uuid.uuid4())
    naar = f'<kp:Ontvanger oin="{ontvanger[0]}" rol="{ontvanger[1]}"/>' if ontvanger else ""
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1">
  <kp:Kop>
    <kp:BerichtId>{bericht_id}</kp:BerichtId>
    <kp:ConversatieId>{uuid.uuid4()}</kp:ConversatieId>
    <kp:InAntwoordOp>{in_antwoord_op}</kp:InAntwoordOp>
    <kp:BerichtType>{berichttype}</kp:BerichtType>
    <kp:Versie>1</kp:Versie>
    <kp:Afzender oin="{afzender[0]}" rol="{afzender[1]}"/>{naar}
    <kp:Tijdstip>2026-11-30T08:00:00+01:00</kp:Tijdstip>
  </kp:Kop>
  <kp:Inhoud>{inhoud}</kp:Inhoud>
</kp:Bericht>
"""
    return text.encode(), bericht_id


def inhoud_of(received: Received) -> ET.Element:
    root = ET.fromstring(received.body)  # noqa: S314 - the gateway's own answer
    inhoud = root.find(f"{KP}Inhoud")
    assert inhoud is not None
    return inhoud[0]


def kop_of(received: Received, name: str) -> str:
    root = ET.fromstring(received.body)  # noqa: S314 - the gateway's own answer
    found = root.findtext(f"{KP}Kop/{KP}{name}")
    assert found is not None, name
    return found


@pytest.fixture
def vhost() -> Iterator[str]:
    name = f"kp-pika-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    rabbitmqctl("delete_vhost", name)


@pytest.fixture
def oins() -> Iterator[dict[str, str]]:
    stem = "7" + "".join(secrets.choice("0123456789") for _ in range(18))
    found = {name: stem + digit for name, digit in NAMES.items()}
    yield found
    users = set(rabbitmqctl("list_users").split())
    for oin in found.values():
        if oin in users:
            rabbitmqctl("delete_user", oin)


@pytest.fixture
def policy_dir(tmp_path: Path, oins: dict[str, str]) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, target)
    partners = target / "partners.yaml"
    partners.write_text(partners.read_text("utf-8").replace(TEST_OIN_STEM, oins["politie"][:-1]))
    return target


@pytest.fixture
async def world(
    vhost: str, oins: dict[str, str], policy_dir: Path, tmp_path: Path
) -> AsyncIterator[World]:
    url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    env = {
        "KETENPOORT_AMQP_URL": url,
        "KETENPOORT_AMQP_PREFIX": "ketenpoort",
        "KETENPOORT_POLICY_DIR": str(policy_dir),
    }
    contract = Contract.read(ASYNCAPI)
    partners = {}
    for name, oin in oins.items():
        secret_file = tmp_path / f"{name}.secret"
        result = CliRunner().invoke(
            app, ["partner", "add", oin, "--secret-file", str(secret_file)], env=env
        )
        assert result.exit_code == 0, result.output
        assert secret_file.stat().st_mode & 0o077 == 0  # only the owner may read it
        secret = secret_file.read_text().strip()
        assert len(secret) >= 40
        partners[name] = PikaPartner(contract, oin, secret, vhost)
    settings = local_settings(
        tmp_path,
        url,
        amqp_prefix="ketenpoort",
        policy_dir=policy_dir,
        audit_log_id="pika",
    )
    async with gateway_app.running(settings) as parts:
        for partner in partners.values():
            await asyncio.to_thread(partner.connect)
        try:
            yield World(parts, contract, oins, partners, vhost)
        finally:
            for partner in partners.values():
                await asyncio.to_thread(partner.close)


async def test_provisioned_partner_declares_its_own_inbox_and_nothing_else(world: World) -> None:
    politie = world.partners["politie"]
    # as AMQP clients do by habit: declare the own inbox, with the documented arguments
    assert await asyncio.to_thread(politie.declare_inbox) == 0
    assert await asyncio.to_thread(politie.declare_inbox, passive=True) == 0
    # other arguments: refused (the queue stays as it is)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as wrong:
        await asyncio.to_thread(politie.declare_inbox, arguments={"x-queue-type": "classic"})
    assert wrong.value.reply_code == 406  # PRECONDITION_FAILED
    await asyncio.to_thread(politie.reopen)
    # another partner's inbox: refused
    vt_inbox = world.partners["vt-twente"].inbox
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as other:
        await asyncio.to_thread(
            politie._channel().queue_declare,
            vt_inbox,
            durable=True,
            arguments=world.contract.inbox_arguments,
        )
    assert other.value.reply_code == 403  # ACCESS_REFUSED
    await asyncio.to_thread(politie.reopen)
    # the secret is the login: a wrong one is refused
    stranger = PikaPartner(world.contract, politie.oin, "not-the-secret", world.vhost)
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        await asyncio.to_thread(stranger.connect)


async def test_send_receive_reject_retry_and_confirm(world: World) -> None:
    politie, vt = world.partners["politie"], world.partners["vt-twente"]
    c = world.contract
    raw, bericht_id = world.example("politie/VtMelding.xml")
    traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    await asyncio.to_thread(politie.send, raw, traceparent=traceparent)

    # the sender's answer: an Ontvangstbevestiging, correlated with the BerichtId
    answer = await asyncio.to_thread(
        politie.receive, lambda m: m.headers.get(c.soort_header) == c.antwoord
    )
    assert answer.correlation_id == bericht_id
    assert inhoud_of(answer).tag == f"{KP}Ontvangstbevestiging"
    assert c.required_headers <= set(answer.headers)
    assert c.undocumented(answer.headers) == set()

    # the recipient: the delivery; rejected once, it comes back one attempt later
    first = await asyncio.to_thread(vt.reject_next)
    assert first.message_id == bericht_id
    assert first.headers[c.poging_header] == 0
    delivered = await asyncio.to_thread(
        vt.receive, lambda m: m.headers.get(c.soort_header) == c.levering
    )
    assert delivered.message_id == bericht_id
    assert delivered.type == "VtMelding"
    assert delivered.headers[c.poging_header] == 1
    assert delivered.headers[c.herhaald_header] is False
    assert "traceparent" not in delivered.headers  # only kp:Traceparent travels on
    assert c.required_headers <= set(delivered.headers)
    assert c.undocumented(delivered.headers) == set()
    assert kop_of(delivered, "BerichtId") == bericht_id

    # the recipient confirms; the gateway answers the confirmation
    raw, bevestiging_id = technical(
        "Afleverbevestiging",
        (vt.oin, "veilig-thuis"),
        bericht_id,
        "<kp:Afleverbevestiging/>",
        ontvanger=(politie.oin, "politie"),
    )
    await asyncio.to_thread(vt.send, raw)
    ontvangen = await asyncio.to_thread(vt.receive, lambda m: m.correlation_id == bevestiging_id)
    assert inhoud_of(ontvangen).tag == f"{KP}Ontvangstbevestiging"
    status = await gateway_ops.delivery_status(world.parts.settings, politie.oin, bericht_id)
    assert status is not None
    assert [(lev.ontvanger_oin, lev.status.value) for lev in status.leveringen] == [
        (vt.oin, "afgeleverd")
    ]

    # the sender asks over AMQP and gets the same view in its inbox
    antwoord = await asyncio.to_thread(ask_status, politie, bericht_id)
    assert kop_of(antwoord, "BerichtType") == "Statusantwoord"
    body = inhoud_of(antwoord)
    assert body.findtext(f"{KP}BerichtId") == bericht_id
    assert body.findtext(f"{KP}Bekend") == "true"
    assert body.findtext(f"{KP}BerichtType") == "VtMelding"
    (levering,) = body.findall(f"{KP}Levering")
    assert levering.get("oin") == vt.oin
    assert levering.get("rol") == "veilig-thuis"
    assert levering.get("status") == "afgeleverd"
    assert levering.get("pogingen") == "1"
    # status is the sender's only: the recipient asking, or an unknown id, learns nothing
    for asker, about in ((vt, bericht_id), (politie, str(uuid.uuid4()))):
        antwoord = await asyncio.to_thread(ask_status, asker, about)
        body = inhoud_of(antwoord)
        assert body.findtext(f"{KP}BerichtId") == about
        assert body.findtext(f"{KP}Bekend") == "false"
        assert body.findall(f"{KP}Levering") == []


def ask_status(partner: PikaPartner, bericht_id: str) -> Received:
    """Statusvraag about ``bericht_id``; the Statusantwoord (correlated) from the inbox."""
    rol = {"1": "politie", "2": "veilig-thuis"}[partner.oin[-1]]
    raw, vraag_id = technical("Statusvraag", (partner.oin, rol), bericht_id, "<kp:Statusvraag/>")
    partner.send(raw)
    antwoord = partner.receive(lambda m: m.correlation_id == vraag_id)
    assert kop_of(antwoord, "InAntwoordOp") == vraag_id
    assert antwoord.headers[partner.contract.soort_header] == partner.contract.antwoord
    return antwoord


async def test_a_wrong_routing_key_is_kept_in_the_ops_queue(world: World) -> None:
    """Confirmed by the broker and not lost: the alternate exchange puts it in the ops queue."""
    politie = world.partners["politie"]
    topology = world.parts.topology
    raw, _ = world.example("politie/VtMelding.xml")
    await asyncio.to_thread(politie.send, raw, routing_key="Ingress")  # a typo
    parts = world.parts
    for _ in range(200):
        if (await parts.broker.depths([topology.ops]))[topology.ops] == 1:
            break
        await asyncio.sleep(0.05)
    (kept,) = await parts.broker.take(topology.ops)
    assert kept.body == raw
    assert kept.user_id == politie.oin
    assert kept.routing_key == "Ingress"
    await kept.nack(requeue=True)
    assert (await parts.broker.depths([topology.ingress]))[topology.ingress] == 0


async def test_no_user_id_and_unknown_users_are_kept_in_the_ops_queue(world: World) -> None:
    """A publish without user_id (the default of many clients) and one by a RabbitMQ user
    outside the register: nobody to answer, so not answered, but kept (ops queue), counted
    and never acknowledged away."""
    politie = world.partners["politie"]
    parts, topology = world.parts, world.parts.topology
    without, without_id = world.example("politie/VtMelding.xml")
    await asyncio.to_thread(politie.send, without, user_id=None)
    stranger = PikaPartner(world.contract, "guest", "guest", world.vhost)
    await asyncio.to_thread(stranger.connect)
    try:
        foreign, _ = world.example("politie/VtMelding.xml")
        await asyncio.to_thread(stranger.send, foreign)
    finally:
        await asyncio.to_thread(stranger.close)
    for _ in range(400):
        if (await parts.broker.depths([topology.ops]))[topology.ops] == 2:
            break
        await asyncio.sleep(0.05)
    kept = await parts.broker.take(topology.ops)
    reasons = {
        (m.headers or {}).get("ketenpoort-reden"): (m.headers or {}).get("ketenpoort-afzender")
        for m in kept
    }
    assert reasons == {"user_id-ontbreekt": None, "afzender-onbekend": "guest"}
    assert {m.body for m in kept} == {without, foreign}
    for m in kept:
        await m.nack(requeue=True)
    registry = parts.metrics.registry
    for reden in ("user_id-ontbreekt", "afzender-onbekend"):
        assert (
            registry.get_sample_value("ketenpoort_ingress_apart_gezet_total", {"reden": reden}) == 1
        )
    depths = await parts.broker.depths([topology.ingress, politie.inbox])
    assert depths == {topology.ingress: 0, politie.inbox: 0}  # acknowledged; nobody answered
    assert await parts.state.lookup(politie.oin, without_id) is None

    # the operator's view: metadata only, and nothing taken away
    settings = parts.settings
    env = {
        "KETENPOORT_AMQP_URL": settings.amqp_url.get_secret_value(),
        "KETENPOORT_AMQP_PREFIX": settings.amqp_prefix,
        "KETENPOORT_POLICY_DIR": str(settings.policy_dir),
        "KETENPOORT_STATE_DSN": settings.state_dsn,
        "KETENPOORT_AUDIT_DSN": settings.audit_dsn,
        "KETENPOORT_AUDIT_KEY_DIR": str(settings.audit_key_dir),
        "KETENPOORT_RETRY_DELAYS_MS": json.dumps(list(settings.retry_delays_ms)),
    }
    result = await asyncio.to_thread(CliRunner().invoke, app, ["ops", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert {(e["reden"], e["user"]) for e in listed} == {
        ("user_id-ontbreekt", None),
        ("afzender-onbekend", "guest"),
    }
    assert all(e["bytes"] == len(without) for e in listed)
    assert (await parts.broker.depths([topology.ops]))[topology.ops] == 2
