"""The RabbitMQ definitions in deploy/ are the topology the gateway declares, and load."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.policy.catalogue import load_policy
from gateway.runtime.settings import Settings
from gateway.transport.rabbit import Topology, partner_permissions
from tests.support.broker import rabbitmqctl
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"


def default_topology() -> Topology:
    settings = Settings()
    policy = load_policy(settings.policy_dir)
    return Topology(settings.amqp_prefix, tuple(policy.partners), settings.retry_delays_ms)


def test_committed_definitions_are_the_declared_topology() -> None:
    assert json.loads(DEFINITIONS.read_text()) == default_topology().definitions(), (
        "deploy/rabbitmq/definitions.json is out of date: run "
        "`ketenpoort topology --write deploy/rabbitmq/definitions.json`"
    )


def test_cli_prints_the_definitions() -> None:
    result = CliRunner().invoke(app, ["topology"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == default_topology().definitions()


def test_every_queue_is_a_durable_quorum_queue_with_dead_lettering_where_it_delivers() -> None:
    definitions = default_topology().definitions()
    queues = {q["name"]: q for q in definitions["queues"]}
    assert all(q["durable"] and q["arguments"]["x-queue-type"] == "quorum" for q in queues.values())
    for oin in ("00000099000000000101", "00000099000000000106"):
        inbox = queues[f"ketenpoort.inbox.{oin}"]["arguments"]
        assert inbox["x-dead-letter-exchange"] == "ketenpoort.bounced"
        assert inbox["x-dead-letter-strategy"] == "at-least-once"
        assert f"ketenpoort.dlq.{oin}" in queues
    delays = [queues[f"ketenpoort.retry.{i}"]["arguments"]["x-message-ttl"] for i in range(5)]
    assert delays == sorted(delays)  # back-off grows
    assert queues["ketenpoort.ops"]["arguments"] == {"x-queue-type": "quorum"}


def test_unroutable_ingress_goes_to_the_ops_queue() -> None:
    definitions = default_topology().definitions()
    exchanges = {e["name"]: e for e in definitions["exchanges"]}
    assert exchanges["ketenpoort.ingress"]["arguments"] == {"alternate-exchange": "ketenpoort.ops"}
    assert exchanges["ketenpoort.deliver"]["arguments"] == {"alternate-exchange": "ketenpoort.ops"}
    assert exchanges["ketenpoort.ops"]["type"] == "fanout"
    assert {
        "source": "ketenpoort.ops",
        "vhost": "/",
        "destination": "ketenpoort.ops",
        "destination_type": "queue",
        "routing_key": "",
        "arguments": {},
    } in definitions["bindings"]


def test_definitions_hold_no_users_and_no_password_hashes() -> None:
    """Partner users are provisioned with a generated secret (ketenpoort partner add), never
    committed: the definitions have no users, hence no (empty) password hash."""
    definitions = json.loads(DEFINITIONS.read_text())
    assert "users" not in definitions
    assert "permissions" not in definitions
    assert "password" not in DEFINITIONS.read_text()


def test_partner_permissions() -> None:
    politie = partner_permissions(default_topology(), "00000099000000000101")
    assert politie == (
        r"^ketenpoort\.inbox\.00000099000000000101$",  # configure: declare its own inbox
        r"^ketenpoort\.ingress$",  # write
        r"^ketenpoort\.inbox\.00000099000000000101$",  # read
    )


def test_definitions_load_into_the_local_rabbitmq() -> None:
    vhost = f"kp-defs-{uuid.uuid4().hex[:8]}"
    definitions = default_topology().definitions(vhost=vhost)
    # rabbitmqctl reads the file as the rabbitmq user: a readable file outside pytest's tmp
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(definitions, handle)
    path = Path(handle.name)
    path.chmod(0o644)
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("import_definitions", str(path))
        listed = rabbitmqctl("list_queues", "-p", vhost, "name", "type")
        for name, _args in default_topology().queues():
            assert f"{name}\tquorum" in listed
    finally:
        rabbitmqctl("delete_vhost", vhost)
        path.unlink()
