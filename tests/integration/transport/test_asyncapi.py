"""docs/asyncapi.yaml is a valid AsyncAPI document (the real npm parser says so) and names
exactly the exchanges, routing keys, queues, arguments, headers, permissions and retry
schedule the code declares (gateway.transport.rabbit.Topology, the settings' defaults)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.runtime.settings import Settings
from gateway.transport import rabbit
from gateway.transport.rabbit import Topology, partner_permissions
from tests.support.asyncapi import ASYNCAPI, contract, parse

OIN = "00000099000000000101"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return contract()


@pytest.fixture(scope="module")
def topology() -> Topology:
    settings = Settings()
    return Topology(settings.amqp_prefix, (OIN,), settings.retry_delays_ms)


def arguments(topology: Topology, queue: str) -> dict[str, Any]:
    return dict(topology.queues())[queue]


def test_the_parser_finds_no_error_and_a_broken_binding_is_caught(tmp_path: Path) -> None:
    report = parse(ASYNCAPI)
    assert report["valid"], report["diagnostics"]
    assert report["version"].startswith("3.")
    # the parser really checks the AMQP bindings: an impossible value is an error
    broken = tmp_path / "broken.yaml"
    broken.write_text(ASYNCAPI.read_text().replace("is: routingKey", "is: topic", 1))
    bad = parse(broken)
    assert not bad["valid"]
    assert any(d["path"][:3] == ["channels", "ingress", "bindings"] for d in bad["diagnostics"])


def test_ingress_is_the_declared_exchange_routing_key_and_alternate_exchange(
    doc: dict[str, Any], topology: Topology
) -> None:
    ingress = doc["channels"]["ingress"]
    binding = ingress["bindings"]["amqp"]
    assert binding["is"] == "routingKey"
    assert ingress["address"] == rabbit.INGRESS_ROUTING_KEY
    exchanges = dict(topology.exchanges())
    assert binding["exchange"]["name"] == topology.ingress_exchange
    assert binding["exchange"]["type"] == exchanges[topology.ingress_exchange]
    assert binding["exchange"]["durable"] is True
    assert ingress["x-ketenpoort-exchange-arguments"] == topology.exchange_arguments(
        topology.ingress_exchange
    )
    bound = {(e, q, k) for e, q, k, _ in topology.bindings()}
    assert (topology.ingress_exchange, topology.ingress, ingress["address"]) in bound
    # what the ingress exchange cannot route goes to the ops queue
    ops_exchange = topology.exchange_arguments(topology.ingress_exchange)["alternate-exchange"]
    assert exchanges[ops_exchange] == "fanout"
    assert (ops_exchange, doc["channels"]["ops"]["bindings"]["amqp"]["queue"]["name"], "") in bound


@pytest.mark.parametrize("channel", ["inbox", "ops"])
def test_queues_are_the_declared_queues_with_their_arguments(
    doc: dict[str, Any], topology: Topology, channel: str
) -> None:
    spec = doc["channels"][channel]
    queue = spec["bindings"]["amqp"]["queue"]
    name = queue["name"].replace("{oin}", OIN)
    assert spec["address"].replace("{oin}", OIN) == name
    expected = {"inbox": topology.inbox(OIN), "ops": topology.ops}[channel]
    assert name == expected
    assert queue["durable"] is True
    assert queue["exclusive"] is False
    assert queue["autoDelete"] is False
    assert spec["x-ketenpoort-arguments"] == arguments(topology, expected)


def test_partner_permissions_are_those_the_document_promises(
    doc: dict[str, Any], topology: Topology
) -> None:
    configure, write, read = partner_permissions(topology, OIN)
    inbox = doc["channels"]["inbox"]["bindings"]["amqp"]["queue"]["name"].replace("{oin}", OIN)
    ingress = doc["channels"]["ingress"]["bindings"]["amqp"]["exchange"]["name"]
    assert re.fullmatch(write, ingress)
    assert re.fullmatch(read, inbox)
    assert re.fullmatch(configure, inbox)
    for other in (topology.ops, topology.ingress, topology.inbox("00000099000000000102")):
        assert not re.fullmatch(read, other)
        assert not re.fullmatch(configure, other)
    for other in (topology.deliver_exchange, topology.dlq_exchange, topology.ops_exchange):
        assert not re.fullmatch(write, other)


def test_retry_schedule_is_the_default_one(doc: dict[str, Any]) -> None:
    retry = doc["channels"]["inbox"]["x-ketenpoort-retry"]
    assert tuple(retry["delays-ms"]) == Settings().retry_delays_ms
    assert retry["attempt-header"] == rabbit.POGING


def test_every_header_is_named_as_the_code_names_it(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    uit = schemas["uitGateway"]
    assert set(uit["properties"]) == {
        rabbit.SOORT,
        rabbit.AFZENDER,
        rabbit.POGING,
        rabbit.HERHAALD,
        rabbit.NIVEAU,
        "traceparent",
    }
    assert set(uit["required"]) == {rabbit.SOORT, rabbit.AFZENDER, rabbit.POGING, rabbit.HERHAALD}
    # a partner's delivery, the gateway's answer, the gateway's AfsprakenSignaal (v2 §7)
    assert set(uit["properties"][rabbit.SOORT]["enum"]) == {"levering", "antwoord", "signaal"}
    assert set(schemas["naarIngress"]["properties"]) == {"traceparent"}
    apart = doc["components"]["messages"]["apart"]["headers"]["properties"]
    assert set(apart) == {rabbit.REDEN, rabbit.AFZENDER}
    assert set(apart[rabbit.REDEN]["enum"]) == {rabbit.ZONDER_USER_ID, rabbit.AFZENDER_ONBEKEND}


def test_sending_operations_require_user_id_and_persistence(doc: dict[str, Any]) -> None:
    sends = {k: v for k, v in doc["operations"].items() if v["action"] == "send"}
    assert set(sends) == {"stuurBericht", "bevestigAflevering", "vraagStatus"}
    for operation in sends.values():
        amqp = operation["bindings"]["amqp"]
        assert amqp["userId"] == "{oin}"
        assert amqp["deliveryMode"] == 2
        assert amqp["mandatory"] is True
        assert operation["channel"]["address"] == rabbit.INGRESS_ROUTING_KEY
    receive = doc["operations"]["ontvangBericht"]
    assert receive["bindings"]["amqp"]["ack"] is True
    assert receive["channel"]["bindings"]["amqp"]["queue"]["name"] == "ketenpoort.inbox.{oin}"
